package integration

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// corsSeries names one series of caddy_http_cors_requests_total.
type corsSeries struct{ kind, result, reason string }

var corsSample = regexp.MustCompile(`^caddy_http_cors_requests_total\{([^}]*)\} (\S+)$`)

// scrapeCORSMetrics reads caddy_http_cors_requests_total from the admin
// API's /metrics endpoint, as Prometheus would, added up over servers.
func scrapeCORSMetrics(t *testing.T) map[corsSeries]float64 {
	t.Helper()
	sums := map[corsSeries]float64{}
	for series, v := range scrapeCORSMetricsByServer(t) {
		sums[series.corsSeries] += v
	}
	return sums
}

// serverSeries names one series of caddy_http_cors_requests_total with its
// server.
type serverSeries struct {
	server string
	corsSeries
}

// scrapeCORSMetricsByServer is scrapeCORSMetrics, server by server.
func scrapeCORSMetricsByServer(t *testing.T) map[serverSeries]float64 {
	t.Helper()
	resp := adminRequest(t, http.MethodGet, "/metrics", "", "")
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	body := string(raw)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d", resp.StatusCode)
	}
	samples := map[serverSeries]float64{}
	scanner := bufio.NewScanner(strings.NewReader(body))
	for scanner.Scan() {
		m := corsSample.FindStringSubmatch(scanner.Text())
		if m == nil {
			continue
		}
		labels := map[string]string{}
		for pair := range strings.SplitSeq(m[1], ",") {
			name, value, _ := strings.Cut(pair, "=")
			labels[name] = strings.Trim(value, `"`)
		}
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			t.Fatalf("sample %q: %v", scanner.Text(), err)
		}
		samples[serverSeries{labels["server"], corsSeries{labels["kind"], labels["result"], labels["reason"]}}] = v
	}
	// Before the first CORS request of a server, it has no series.
	return samples
}

// assertCounted checks how much each series grew between two scrapes.
func assertCounted(t *testing.T, before, after map[corsSeries]float64, want map[corsSeries]float64) {
	t.Helper()
	for series := range after {
		if got := after[series] - before[series]; got != want[series] {
			t.Errorf("%+v grew by %v, want %v", series, got, want[series])
		}
	}
	for series := range want {
		if _, ok := after[series]; !ok {
			t.Errorf("no series %+v, want it grown by %v", series, want[series])
		}
	}
}

// metricsAddr is where metricsSite listens.
var metricsAddr = "127.0.0.1:" + portAtStart()

var metricsSite = `
http://` + metricsAddr + ` {
	cors https://app.example.com {
		methods PUT
	}
	respond "ok"
}
`

// The counters are scraped from Caddy's admin /metrics after real
// requests: each kind and result is counted once per request, non-CORS
// requests not at all, and no label comes from the request.
func TestMetricsCountRequestsOnTheAdminEndpoint(t *testing.T) {
	loadCaddyfile(t, metricsSite)
	url, app := "http://"+metricsAddr+"/", "https://app.example.com"
	before := scrapeCORSMetrics(t)

	sendPreflight(t, url, app, "PUT", "")
	sendPreflight(t, url, app, "PUT", "")
	sendPreflight(t, url, app, "PURGE", "")
	sendPreflight(t, url, app, "PUT", "x-debug")
	sendPreflight(t, url, "https://evil.example", "PUT", "")
	for range 3 {
		sendRequest(t, http.MethodGet, url, app, nil, "")
	}
	sendRequest(t, http.MethodGet, url, "https://evil.example", nil, "")
	sendRequest(t, http.MethodGet, url, "https://app.example.com/", nil, "")
	sendRequest(t, http.MethodGet, url, "", nil, "")

	after := scrapeCORSMetrics(t)
	assertCounted(t, before, after, map[corsSeries]float64{
		{"preflight", "allowed", ""}:        2,
		{"preflight", "rejected", "method"}: 1,
		{"preflight", "rejected", "header"}: 1,
		{"preflight", "rejected", "origin"}: 1,
		{"actual", "allowed", ""}:           3,
		{"actual", "rejected", "origin"}:    1,
		{"actual", "rejected", "malformed"}: 1,
	})
}

// Each configuration load gets a new metrics registry; the collector is
// registered in it again, and the counts go on from where they were.
func TestMetricsSurviveAConfigReload(t *testing.T) {
	loadCaddyfile(t, metricsSite)
	url, app := "http://"+metricsAddr+"/", "https://app.example.com"
	sendRequest(t, http.MethodGet, url, app, nil, "")
	before := scrapeCORSMetrics(t)

	// Another policy, and two cors handlers (on disjoint paths) in one
	// configuration, both counting into the same series.
	loadCaddyfile(t, `
http://`+metricsAddr+` {
	cors /other/* https://other.example.com
	cors /api/* https://app.example.com {
		methods DELETE
	}
	respond "reloaded"
}
`)
	reloaded := scrapeCORSMetrics(t)
	assertCounted(t, before, reloaded, map[corsSeries]float64{})

	sendRequest(t, http.MethodGet, url+"api/x", app, nil, "")
	sendRequest(t, http.MethodGet, url+"other/x", "https://other.example.com", nil, "")
	sendPreflight(t, url+"api/x", app, "PUT", "")
	assertCounted(t, reloaded, scrapeCORSMetrics(t), map[corsSeries]float64{
		{"actual", "allowed", ""}:           2,
		{"preflight", "rejected", "method"}: 1,
	})
}

// Each series names its server, as Caddy's own HTTP metrics do, so that
// with several sites one can tell whose policy refused; and no series
// exists for what no request can reach (a request other than a preflight
// refused for a method or a header).
func TestMetricsNameTheServer(t *testing.T) {
	requireIntegration(t)
	api, www := "127.0.0.1:"+freePort(t), "127.0.0.1:"+freePort(t)
	server := func(listen string) map[string]any {
		return map[string]any{
			"listen":          []string{listen},
			"automatic_https": map[string]any{"disable": true},
			"routes": []any{map[string]any{"handle": []any{
				map[string]any{"handler": "cors", "allowed_origins": []string{appOrigin}},
				map[string]any{"handler": "static_response", "body": "ok"},
			}}},
		}
	}
	config, err := json.Marshal(map[string]any{
		"admin": map[string]any{"listen": adminAddr},
		"apps": map[string]any{"http": map[string]any{
			"http_port":  0,
			"https_port": 0,
			"servers":    map[string]any{"api": server(api), "www": server(www)},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	loadJSON(t, string(config))
	before := scrapeCORSMetricsByServer(t)

	sendRequest(t, http.MethodGet, "http://"+api+"/", appOrigin, nil, "")
	sendRequest(t, http.MethodGet, "http://"+api+"/", appOrigin, nil, "")
	sendPreflight(t, "http://"+www+"/", evilOrigin, "PUT", "")

	after := scrapeCORSMetricsByServer(t)
	want := map[serverSeries]float64{
		{"api", corsSeries{"actual", "allowed", ""}}:           2,
		{"www", corsSeries{"preflight", "rejected", "origin"}}: 1,
	}
	for series := range after {
		if got := after[series] - before[series]; got != want[series] {
			t.Errorf("%+v grew by %v, want %v", series, got, want[series])
		}
		if series.kind == "actual" && (series.reason == "method" || series.reason == "header") {
			t.Errorf("series %+v, which no request can reach", series)
		}
	}
	for series := range want {
		if _, ok := after[series]; !ok {
			t.Errorf("no series %+v", series)
		}
	}
}
