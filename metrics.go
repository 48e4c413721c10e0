package cors

import (
	"errors"
	"net/http"
	"sync/atomic"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/caddy-cors/cors/internal/gates"
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
	policy.ReasonMethod, policy.ReasonHeader, policy.ReasonSourceBusy, policy.ReasonSourceError,
	gates.ReasonWebSocketOrigin, gates.ReasonUnsafeCrossOrigin}

// reportRequestsTotal is requestsTotal for handlers in report mode, with
// the result the request would have had. Its own name keeps would-be
// refusals out of the sums of real ones.
var reportRequestsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
	Namespace: "caddy",
	Subsystem: "http",
	Name:      "cors_report_requests_total",
	Help:      "CORS requests seen by cors handlers in report mode, by server, kind (preflight, actual), the result enforce mode would give (allowed, rejected) and reason of a rejection.",
}, []string{"server", "kind", "result", "reason"})

// reportDisagreementsTotal counts, in report mode, the responses whose
// own CORS headers a browser judges otherwise than the policy's answer:
// stricter when the policy would refuse what the application allows,
// looser when it would allow what the application refuses, with the reason
// of the side that refuses.
var reportDisagreementsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
	Namespace: "caddy",
	Subsystem: "http",
	Name:      "cors_report_disagreements_total",
	Help:      "Responses of cors handlers in report mode that a browser would judge otherwise with the policy's CORS headers than with the application's own, by kind (preflight, actual), disagreement (stricter: enforcing would refuse what the application allows; looser: the reverse) and reason of the refusing side.",
}, []string{"kind", "disagreement", "reason"})

// disagreementCounters are the series of reportDisagreementsTotal, by
// position in disagreements, kindIndex and position in judgedReasons.
var disagreementCounters = func() (counters [len(disagreements)][len(kindNames)][len(judgedReasons)]prometheus.Counter) {
	for d, disagreement := range disagreements {
		for k, kind := range kindNames {
			for r, reason := range judgedReasons {
				counters[d][k][r] = reportDisagreementsTotal.WithLabelValues(kind, disagreement, string(reason))
			}
		}
	}
	return counters
}()

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
// the outcome at position o: only a preflight asks for a method or headers,
// and only other requests meet the gates of enforce. The others have no
// series, so that none sits at 0 forever.
func occurs(k, o int) bool {
	switch outcomes[o] {
	case policy.ReasonMethod, policy.ReasonHeader:
		return k == kindIndex(policy.Preflight)
	case gates.ReasonWebSocketOrigin, gates.ReasonUnsafeCrossOrigin:
		return k == kindIndex(policy.Actual)
	}
	return true
}

// serverCounters are the series of one server, resolved once, so that
// counting a request is an atomic add with no label lookup or allocation.
type serverCounters struct {
	counters [len(kindNames)][len(outcomes)]prometheus.Counter // nil where the outcome cannot occur
}

func newServerCounters(vec *prometheus.CounterVec, server *caddyhttp.Server) *serverCounters {
	// As Caddy's own HTTP metrics name a server they cannot find.
	name := "UNKNOWN"
	if server != nil && server.Name() != "" {
		name = server.Name()
	}
	sc := &serverCounters{}
	for k, kind := range kindNames {
		for o, reason := range outcomes {
			if !occurs(k, o) {
				continue
			}
			result := "rejected"
			if reason == "" {
				result = "allowed"
			}
			sc.counters[k][o] = vec.WithLabelValues(name, kind, result, string(reason))
		}
	}
	return sc
}

// requestCounters are a handler's series: those of the server its route
// belongs to, which it learns from its first request, since Provision is
// not told. Caddy provisions the routes of each server on their own, so a
// handler serves one server: looking the server up in the request's context
// again on every request would cost more than the rest of counting.
type requestCounters struct {
	vec     *prometheus.CounterVec
	current atomic.Pointer[serverCounters]
}

// count counts one request of kind that ended with outcome.
func (rc *requestCounters) count(r *http.Request, kind policy.Kind, outcome int) {
	sc := rc.current.Load()
	if sc == nil {
		server, _ := r.Context().Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server)
		rc.current.CompareAndSwap(nil, newServerCounters(rc.vec, server))
		sc = rc.current.Load()
	}
	sc.counters[kindIndex(kind)][outcome].Inc()
}

// collectors are the metrics a handler counts into: the report mode ones
// only for a handler in report mode, so that other configurations do not
// show their empty series.
func (c *CORS) collectors() []prometheus.Collector {
	if c.report {
		return []prometheus.Collector{requestsTotal, reportRequestsTotal, reportDisagreementsTotal}
	}
	return []prometheus.Collector{requestsTotal}
}

// registerMetrics adds the collectors to a configuration's registry; the
// same collector is already there when several cors handlers exist.
func registerMetrics(registry *prometheus.Registry, collectors ...prometheus.Collector) error {
	for _, collector := range collectors {
		err := registry.Register(collector)
		if already := (prometheus.AlreadyRegisteredError{}); err != nil && !errors.As(err, &already) {
			return err
		}
	}
	return nil
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
