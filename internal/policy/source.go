package policy

import (
	"errors"

	"github.com/caddy-cors/cors/internal/origins"
)

// Source is asked about origins the static configuration does not allow:
// a list kept in a file, an endpoint that says yes or no. It is the
// module's exported OriginSource, in terms this package can use.
type Source interface {
	AllowOrigin(origin string) (bool, error)
}

// The reasons of an origin no source allowed because one could not answer.
const (
	ReasonSourceBusy  Reason = "origin_source_busy"  // a source had too many lookups under way to ask
	ReasonSourceError Reason = "origin_source_error" // a source could not answer: timeout, transport error, 5xx
)

// ErrSourceBusy is what a source answers when it has too many lookups
// under way to start another: the request is refused at once.
var ErrSourceBusy = errors.New("too many lookups under way")

// askSources asks each source in turn about origin, a valid serialized
// origin the static configuration does not allow; the first that allows
// it wins. With credentials, a source is never asked about a plain http://
// origin other than loopback: anyone on the network path can pose as one
// and read credentialed responses, which a configured one is warned about
// at load, and an answer fetched at run time has no one to warn. When no
// source allows the origin, the first failure, if any, is the reason: the
// origin could not be checked, which is not the same as a no.
func (p *Policy) askSources(origin string, o origins.Origin) (string, Rejection) {
	if p.credentials && o.Scheme == "http" && !isLoopback(o.Host) {
		return "", reject(ReasonOrigin, "origin %q is not allowed", origin)
	}
	var failed Rejection
	for _, s := range p.sources {
		allowed, err := s.AllowOrigin(origin)
		switch {
		case allowed:
			return origin, Rejection{}
		case err == nil || failed.Refused():
		case errors.Is(err, ErrSourceBusy):
			failed = Rejection{Reason: ReasonSourceBusy, format: "origin %q could not be checked", value: origin, cause: err}
		default:
			failed = Rejection{Reason: ReasonSourceError, format: "origin %q could not be checked", value: origin, cause: err}
		}
	}
	if failed.Refused() {
		return "", failed
	}
	return "", reject(ReasonOrigin, "origin %q is not allowed", origin)
}
