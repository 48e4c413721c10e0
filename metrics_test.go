package cors

import (
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// counterValue reads a series of the servers of these tests, which have no
// name.
func counterValue(t *testing.T, kind, result, reason string) float64 {
	t.Helper()
	var m dto.Metric
	if err := requestsTotal.WithLabelValues("UNKNOWN", kind, result, reason).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func TestRequestsAreCountedByKindResultAndReason(t *testing.T) {
	type series struct{ kind, result, reason string }
	all := []series{
		{"preflight", "allowed", ""}, {"preflight", "rejected", "method"}, {"preflight", "rejected", "header"},
		{"actual", "allowed", ""}, {"actual", "rejected", "origin"}, {"actual", "rejected", "malformed"},
	}
	before := map[series]float64{}
	for _, s := range all {
		before[s] = counterValue(t, s.kind, s.result, s.reason)
	}

	s := serve(t, provision(t, `{"allowed_origins":["`+app+`"],"allowed_methods":["PUT"]}`), respondOK)
	s.do(t, "OPTIONS", preflightHeader(app, "PUT", ""))
	s.do(t, "OPTIONS", preflightHeader(app, "PURGE", ""))
	s.do(t, "OPTIONS", preflightHeader(app, "PUT", "x-debug"))
	s.do(t, "GET", http.Header{"Origin": {app}})
	s.do(t, "GET", http.Header{"Origin": {app}})
	s.do(t, "GET", http.Header{"Origin": {"https://evil.example"}})
	s.do(t, "GET", http.Header{"Origin": {"https://evil.example/"}})
	s.do(t, "GET", http.Header{}) // not a CORS request: not counted

	want := map[series]float64{
		{"preflight", "allowed", ""}: 1, {"preflight", "rejected", "method"}: 1, {"preflight", "rejected", "header"}: 1,
		{"actual", "allowed", ""}: 2, {"actual", "rejected", "origin"}: 1, {"actual", "rejected", "malformed"}: 1,
	}
	for _, s := range all {
		if got := counterValue(t, s.kind, s.result, s.reason) - before[s]; got != want[s] {
			t.Errorf("%v counted %v, want %v", s, got, want[s])
		}
	}
}

// Each configuration load has a registry of its own, and one
// configuration may hold several cors handlers.
func TestMetricsRegisterOncePerRegistry(t *testing.T) {
	registry := prometheus.NewPedanticRegistry()
	for range 2 {
		if err := registerMetrics(registry, requestsTotal); err != nil {
			t.Fatal(err)
		}
	}
	families, err := registry.Gather()
	if err != nil || len(families) != 1 || families[0].GetName() != "caddy_http_cors_requests_total" {
		t.Fatalf("gathered %v, %v", families, err)
	}
	if err := registerMetrics(prometheus.NewPedanticRegistry(), requestsTotal); err != nil {
		t.Errorf("a new configuration's registry: %v", err)
	}
}

// Only a preflight asks for a method or headers: no other request has a
// series for those reasons, which would sit at 0 forever.
func TestNoSeriesForOutcomesThatCannotOccur(t *testing.T) {
	s := serve(t, provision(t, `{"allowed_origins":["`+app+`"],"allowed_methods":["PUT"]}`), respondOK)
	s.do(t, "GET", http.Header{"Origin": {app}})
	s.do(t, "OPTIONS", preflightHeader(app, "PUT", ""))

	registry := prometheus.NewPedanticRegistry()
	if err := registerMetrics(registry, requestsTotal); err != nil {
		t.Fatal(err)
	}
	families, err := registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	series := map[[3]string]bool{}
	for _, family := range families {
		for _, m := range family.GetMetric() {
			labels := map[string]string{}
			for _, pair := range m.GetLabel() {
				labels[pair.GetName()] = pair.GetValue()
			}
			if labels["server"] == "UNKNOWN" {
				series[[3]string{labels["kind"], labels["result"], labels["reason"]}] = true
			}
		}
	}
	for _, want := range [][3]string{
		{"preflight", "allowed", ""}, {"preflight", "rejected", "origin"}, {"preflight", "rejected", "malformed"},
		{"preflight", "rejected", "method"}, {"preflight", "rejected", "header"},
		{"actual", "allowed", ""}, {"actual", "rejected", "origin"}, {"actual", "rejected", "malformed"},
		{"actual", "rejected", "websocket_origin"}, {"actual", "rejected", "unsafe_cross_origin"},
		{"preflight", "rejected", "origin_source_busy"}, {"preflight", "rejected", "origin_source_error"},
		{"actual", "rejected", "origin_source_busy"}, {"actual", "rejected", "origin_source_error"},
	} {
		if !series[want] {
			t.Errorf("no series %v", want)
		}
		delete(series, want)
	}
	for extra := range series {
		t.Errorf("series %v, which no request can reach", extra)
	}
}
