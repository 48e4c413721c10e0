package integration

import (
	"bufio"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The origins of the report mode tests: the application trusts app and
// partner, the policy app and newcomer; neither trusts untrusted.
const (
	reportApp       = "https://app.example.com"
	reportPartner   = "https://partner.example"
	reportNewcomer  = "https://new.example"
	reportUntrusted = "https://evil.example"
)

// ownCORSApp is an application that does CORS itself, as many do before
// they move it into Caddy: it reflects the origins it trusts with
// credentials, answers their preflights for the methods and headers it
// knows, refuses other preflights with 403, and serves /public with `*` to
// anyone.
func ownCORSApp(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if r.URL.Path == "/public" {
		h.Set("Access-Control-Allow-Origin", "*")
		_, _ = w.Write([]byte("public"))
		return
	}
	trusted := origin == reportApp || origin == reportPartner
	if trusted {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Set("Access-Control-Expose-Headers", "X-Total-Count")
	}
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		if !trusted {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		h.Set("Access-Control-Allow-Methods", "GET, PUT, DELETE")
		h.Set("Access-Control-Allow-Headers", "content-type, x-token")
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h.Set("X-Total-Count", "3")
	_, _ = w.Write([]byte("data"))
}

// reportRequest is one request of the corpus, with the disagreement the
// report must count for it (none when the application and the policy
// agree).
type reportRequest struct {
	name         string
	method, path string
	header       http.Header
	disagreement string // "stricter", "looser" or ""
	reason       string
}

func (rr reportRequest) kind() string {
	if rr.method == http.MethodOptions {
		return "preflight"
	}
	return "actual"
}

func reportRequests() []reportRequest {
	preflight := func(origin, method, requestHeaders string) http.Header {
		h := http.Header{"Origin": {origin}, "Access-Control-Request-Method": {method}}
		if requestHeaders != "" {
			h.Set("Access-Control-Request-Headers", requestHeaders)
		}
		return h
	}
	withCookie := http.Header{"Origin": {reportApp}, "Cookie": {"session=1"}}
	return []reportRequest{
		{"preflight both allow", "OPTIONS", "/api", preflight(reportApp, "PUT", "content-type"), "", ""},
		{"preflight for a method only the application allows", "OPTIONS", "/api", preflight(reportApp, "DELETE", ""), "stricter", "method"},
		{"preflight for a header only the application allows", "OPTIONS", "/api", preflight(reportApp, "PUT", "x-token"), "stricter", "header"},
		{"preflight from an origin only the application trusts", "OPTIONS", "/api", preflight(reportPartner, "PUT", ""), "stricter", "origin"},
		{"preflight from an origin only the policy trusts", "OPTIONS", "/api", preflight(reportNewcomer, "PUT", ""), "looser", "origin"},
		{"preflight from an origin neither trusts", "OPTIONS", "/api", preflight(reportUntrusted, "PUT", ""), "", ""},
		{"request both allow, with a cookie", "GET", "/api", withCookie, "", ""},
		{"request from an origin only the application trusts", "GET", "/api", http.Header{"Origin": {reportPartner}}, "stricter", "origin"},
		{"request from an origin only the policy trusts", "PUT", "/api", http.Header{"Origin": {reportNewcomer}}, "looser", "origin"},
		{"request from an origin neither trusts", "POST", "/api", http.Header{"Origin": {reportUntrusted}}, "", ""},
		{"star meets a cookie", "GET", "/public", withCookie, "looser", "credentials"},
		{"star without credentials", "GET", "/public", http.Header{"Origin": {reportApp}}, "", ""},
		{"no Origin", "GET", "/api", http.Header{}, "", ""},
	}
}

// reportSite is a site whose cors handler, in mode, sits in front of a
// reverse_proxy to upstream, on a free loopback port.
func reportSite(addr, upstream, mode string) string {
	return fmt.Sprintf(`
http://%s {
	cors %s %s {
		methods PUT
		headers content-type
		credentials
		mode %s
	}
	reverse_proxy %s
}
`, addr, reportApp, reportNewcomer, mode, upstream)
}

func loadReportSite(t *testing.T, upstream, mode string) string {
	t.Helper()
	addr := closedLoopbackAddr(t)
	tester := newTester(t)
	tester.InitServer(globalOptions+reportSite(addr, upstream, mode), "caddyfile")
	if t.Failed() {
		t.FailNow()
	}
	return "http://" + addr
}

func sendReportRequest(t *testing.T, base string, rr reportRequest) *http.Response {
	t.Helper()
	req, err := http.NewRequest(rr.method, base+rr.path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = rr.header.Clone()
	resp, _ := do(t, req)
	return resp
}

// withoutDateAndVia is a response's header map less what may differ
// between two responses to the same request: Date, and the Via line that
// reverse_proxy adds in place of Caddy's Server header.
func withoutDateAndVia(h http.Header) http.Header {
	h = h.Clone()
	h.Del("Date")
	h.Del("Via")
	return h
}

// An application with its own CORS, behind a real Caddy whose cors
// handler is in report mode: every response, preflight or not, from any
// origin, is the application's own in status and headers; the
// disagreements designed into the requests are counted in /metrics in
// their direction and with their reason, the agreements are not.
func TestReportModeBehindAReverseProxy(t *testing.T) {
	upstream := startUpstream(t, http.HandlerFunc(ownCORSApp))
	base := loadReportSite(t, upstream, "report")
	before := scrapeCounter(t, "caddy_http_cors_report_disagreements_total")

	for _, rr := range reportRequests() {
		alone := sendReportRequest(t, "http://"+upstream, rr)
		behind := sendReportRequest(t, base, rr)
		got, want := withoutDateAndVia(behind.Header), withoutDateAndVia(alone.Header)
		if behind.StatusCode != alone.StatusCode || !maps.EqualFunc(got, want, slices.Equal) {
			t.Errorf("%s: through Caddy %d %v, alone %d %v", rr.name, behind.StatusCode, got, alone.StatusCode, want)
		}
	}

	after := scrapeCounter(t, "caddy_http_cors_report_disagreements_total")
	want := map[string]float64{}
	for _, rr := range reportRequests() {
		if rr.disagreement != "" {
			want[rr.kind()+" "+rr.disagreement+" "+rr.reason]++
		}
	}
	got := map[string]float64{}
	for labels, value := range after {
		if grown := value - before[labels]; grown != 0 {
			got[labels.get("kind")+" "+labels.get("disagreement")+" "+labels.get("reason")] += grown
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("disagreements counted %v, want %v", got, want)
	}
}

// The same requests give as many would-be refusals, for each kind and
// reason, in report mode as refusals in enforce mode.
func TestReportModeWouldRefuseWhatEnforceModeRefuses(t *testing.T) {
	upstream := startUpstream(t, http.HandlerFunc(ownCORSApp))
	sendAll := func(mode, metric string) map[string]float64 {
		base := loadReportSite(t, upstream, mode)
		before := scrapeCounter(t, metric)
		for _, rr := range reportRequests() {
			sendReportRequest(t, base, rr)
		}
		after := scrapeCounter(t, metric)
		counted := map[string]float64{}
		for labels, value := range after {
			if grown := value - before[labels]; grown != 0 {
				counted[labels.get("kind")+" "+labels.get("result")+" "+labels.get("reason")] += grown
			}
		}
		return counted
	}
	enforced := sendAll("enforce", "caddy_http_cors_requests_total")
	reported := sendAll("report", "caddy_http_cors_report_requests_total")
	if !maps.Equal(enforced, reported) {
		t.Errorf("report mode counted %v, enforce mode %v", reported, enforced)
	}
	if enforced["preflight rejected origin"] != 2 || enforced["actual rejected origin"] != 2 || enforced["preflight rejected method"] != 1 {
		t.Errorf("enforce mode counted %v, want the refusals of the corpus", enforced)
	}
}

// seriesLabels is the label set of one series as /metrics prints it,
// `kind="actual",reason="origin"`.
type seriesLabels string

var labelPair = regexp.MustCompile(`([a-z_]+)="([^"]*)"`)

func (l seriesLabels) get(name string) string {
	for _, m := range labelPair.FindAllStringSubmatch(string(l), -1) {
		if m[1] == name {
			return m[2]
		}
	}
	return ""
}

// scrapeCounter reads every series of the counter name from the admin
// API's /metrics endpoint, as Prometheus would.
func scrapeCounter(t *testing.T, name string) map[seriesLabels]float64 {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, adminURL+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, body := do(t, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d", resp.StatusCode)
	}
	samples := map[seriesLabels]float64{}
	scanner := bufio.NewScanner(strings.NewReader(body))
	for scanner.Scan() {
		labels, value, ok := strings.Cut(strings.TrimPrefix(scanner.Text(), name+"{"), "} ")
		if !ok || !strings.HasPrefix(scanner.Text(), name+"{") {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			t.Fatalf("sample %q: %v", scanner.Text(), err)
		}
		samples[seriesLabels(labels)] = v
	}
	return samples
}
