package cors

import (
	"errors"
	"net/http"
	"sync/atomic"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/caddy-cors/cors/internal/policy"
)

// requestsTotal counts CORS requests by server, kind, result and reason.
// It is package-level, so that the counts survive configuration reloads
// and every cors handler of a configuration counts into the same series;
// it is registered again in each new configuration's registry by
// Provision. No label comes from the request: the server is named in the
// configuration, as in Caddy's own HTTP metrics, and the reasons are a
// fixed set.
var requestsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
	Namespace: "caddy",
	Subsystem: "http",
	Name:      "cors_requests_total",
	Help:      "CORS requests handled by the cors module, by server, kind (preflight, actual), result (allowed, rejected) and reason of a rejection.",
}, []string{"server", "kind", "result", "reason"})

// outcomes are the reasons a request can end with, allowed first.
var outcomes = [...]policy.Reason{"", policy.ReasonOrigin, policy.ReasonMalformed,
	policy.ReasonMethod, policy.ReasonHeader}

// kindNames name the kinds of CORS request in labels and logs, by
// kindIndex.
var kindNames = [...]string{"preflight", "actual"}

func kindIndex(kind policy.Kind) int {
	if kind == policy.Preflight {
		return 0
	}
	return 1
}

// occurs reports whether a request of the kind at kindIndex k can end with
// the outcome at position o: only a preflight asks for a method or headers.
// The others have no series, so that none sits at 0 forever.
func occurs(k, o int) bool {
	return k == kindIndex(policy.Preflight) || (outcomes[o] != policy.ReasonMethod && outcomes[o] != policy.ReasonHeader)
}

// serverCounters are the series of one server, resolved once, so that
// counting a request is an atomic add with no label lookup or allocation.
type serverCounters struct {
	server   *caddyhttp.Server
	counters [len(kindNames)][len(outcomes)]prometheus.Counter // nil where the outcome cannot occur
}

func newServerCounters(server *caddyhttp.Server) *serverCounters {
	// As Caddy's own HTTP metrics name a server they cannot find.
	name := "UNKNOWN"
	if server != nil && server.Name() != "" {
		name = server.Name()
	}
	sc := &serverCounters{server: server}
	for k, kind := range kindNames {
		for o, reason := range outcomes {
			if !occurs(k, o) {
				continue
			}
			result := "rejected"
			if reason == "" {
				result = "allowed"
			}
			sc.counters[k][o] = requestsTotal.WithLabelValues(name, kind, result, string(reason))
		}
	}
	return sc
}

// requestCounters are a handler's series: those of the server its route
// belongs to, which it learns from its first request, since Provision is
// not told.
type requestCounters struct {
	current atomic.Pointer[serverCounters]
}

// count counts one request of kind that ended with outcome.
func (rc *requestCounters) count(r *http.Request, kind policy.Kind, outcome int) {
	server, _ := r.Context().Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server)
	sc := rc.current.Load()
	if sc == nil || sc.server != server {
		sc = newServerCounters(server)
		rc.current.Store(sc)
	}
	sc.counters[kindIndex(kind)][outcome].Inc()
}

// registerMetrics adds the collector to a configuration's registry; the
// same collector is already there when several cors handlers exist.
func registerMetrics(registry *prometheus.Registry) error {
	err := registry.Register(requestsTotal)
	if already := (prometheus.AlreadyRegisteredError{}); errors.As(err, &already) {
		return nil
	}
	return err
}

// outcomeIndex is the position in outcomes of how a request ended; an
// empty reason is an allowed request.
func outcomeIndex(reason policy.Reason) int {
	for i, known := range outcomes {
		if known == reason {
			return i
		}
	}
	return 0
}
