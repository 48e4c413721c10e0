package cors

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Origin sources count what they do, by source module and result, in
// package-level collectors for the reasons requestsTotal is one: counts
// survive reloads, and each configuration's registry gets them again.
var (
	sourceLookupsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "caddy",
		Subsystem: "http",
		Name:      "cors_origin_source_lookups_total",
		Help:      "Origins the cors module's origin sources were asked about, by source (file, http) and result (allowed, refused, error, busy); for http, cached (true, false) says whether the endpoint was asked.",
	}, []string{"source", "result", "cached"})

	sourceReloadsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "caddy",
		Subsystem: "http",
		Name:      "cors_origin_source_reloads_total",
		Help:      "Reloads of the cors module's origin lists, by source (file) and result (loaded, invalid, unreadable).",
	}, []string{"source", "result"})
)

// registerSourceMetrics adds the sources' collectors to a registry.
func registerSourceMetrics(registry *prometheus.Registry) error {
	return registerMetrics(registry, sourceLookupsTotal, sourceReloadsTotal)
}

// lookupCounters are one source's lookup series, resolved once, so that
// counting a lookup is an atomic add.
type lookupCounters struct {
	allowed, refused, errored, busy             prometheus.Counter
	cachedAllowed, cachedRefused, cachedErrored prometheus.Counter
}

func newLookupCounters(source string) lookupCounters {
	c := func(result, cached string) prometheus.Counter {
		return sourceLookupsTotal.WithLabelValues(source, result, cached)
	}
	return lookupCounters{
		allowed: c("allowed", "false"), refused: c("refused", "false"), errored: c("error", "false"), busy: c("busy", "false"),
		cachedAllowed: c("allowed", "true"), cachedRefused: c("refused", "true"), cachedErrored: c("error", "true"),
	}
}
