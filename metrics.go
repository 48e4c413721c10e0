package cors

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/caddy-cors/cors/internal/policy"
)

// requestsTotal counts CORS requests by kind, result and reason. It is
// package-level, so that the counts survive configuration reloads and every
// cors handler of a configuration counts into the same series; it is
// registered again in each new configuration's registry by Provision.
// No label comes from the request: the reasons are a fixed set.
var requestsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
	Namespace: "caddy",
	Subsystem: "http",
	Name:      "cors_requests_total",
	Help:      "CORS requests handled by the cors module, by kind (preflight, actual), result (allowed, rejected) and reason of a rejection.",
}, []string{"kind", "result", "reason"})

// outcomes are the reasons a request can end with, allowed first.
var outcomes = [...]policy.Reason{"", policy.ReasonOrigin, policy.ReasonMalformed,
	policy.ReasonMethod, policy.ReasonHeader, policy.ReasonPrivateNetwork,
	policy.ReasonSourceBusy, policy.ReasonSourceError}

// requestCounters holds every series, resolved once, so that counting a
// request is an atomic add with no label lookup or allocation.
var requestCounters = func() (counters [len(kindNames)][len(outcomes)]prometheus.Counter) {
	for k, kind := range kindNames {
		for o, reason := range outcomes {
			result := "rejected"
			if reason == "" {
				result = "allowed"
			}
			counters[k][o] = requestsTotal.WithLabelValues(kind, result, string(reason))
		}
	}
	return counters
}()

// registerMetrics adds the collector to a configuration's registry; the
// same collector is already there when several cors handlers exist.
func registerMetrics(registry *prometheus.Registry) error {
	return registerCollector(registry, requestsTotal)
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

// kindNames name the kinds of CORS request in labels and logs, by
// kindIndex.
var kindNames = [...]string{"preflight", "actual"}

func kindIndex(kind policy.Kind) int {
	if kind == policy.Preflight {
		return 0
	}
	return 1
}

// countRequest counts one preflight or actual request.
func countRequest(kind policy.Kind, outcome int) {
	requestCounters[kindIndex(kind)][outcome].Inc()
}
