package cors

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

const (
	partner   = "https://partner.example" // the application trusts it, the policy does not
	newcomer  = "https://new.example"     // the policy trusts it, the application does not
	untrusted = "https://evil.example"    // neither
)

// reportPolicy is the policy a team means to move its application's CORS
// to, in report mode.
const reportPolicy = `{"mode":"report","allowed_origins":["` + app + `","` + newcomer + `"],"allowed_methods":["PUT"],"allowed_headers":["content-type"],"allow_credentials":true}`

// ownCORS is an application that does CORS itself: it reflects the origins
// it trusts, with credentials, answers their preflights for the methods and
// headers it knows, refuses other preflights with 403, and serves /public
// with `*` to anyone.
func ownCORS(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if r.URL.Path == "/public" {
		h.Set("Access-Control-Allow-Origin", "*")
		_, err := w.Write([]byte("public"))
		return err
	}
	trusted := origin == app || origin == partner
	if trusted {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		if !trusted {
			w.WriteHeader(http.StatusForbidden)
			return nil
		}
		h.Set("Access-Control-Allow-Methods", "GET, PUT, DELETE")
		h.Set("Access-Control-Allow-Headers", "content-type, x-token")
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	_, err := w.Write([]byte("data"))
	return err
}

// reportCase is one request of the corpus, with the disagreement the
// report must count for it ("" when the application and the policy agree)
// and its reason.
type reportCase struct {
	name         string
	method, path string
	header       http.Header
	disagreement string
	reason       string
}

func reportCorpus() []reportCase {
	cookie := func(h http.Header) http.Header { h.Set("Cookie", "session=1"); return h }
	return []reportCase{
		{"preflight both allow", "OPTIONS", "/api", preflightHeader(app, "PUT", "content-type"), "", ""},
		{"preflight for a method only the application allows", "OPTIONS", "/api", preflightHeader(app, "DELETE", ""), "stricter", "method"},
		{"preflight for a header only the application allows", "OPTIONS", "/api", preflightHeader(app, "PUT", "x-token"), "stricter", "header"},
		{"preflight from an origin only the application trusts", "OPTIONS", "/api", preflightHeader(partner, "PUT", ""), "stricter", "origin"},
		{"preflight from an origin only the policy trusts", "OPTIONS", "/api", preflightHeader(newcomer, "PUT", ""), "looser", "origin"},
		{"preflight from an origin neither trusts", "OPTIONS", "/api", preflightHeader(untrusted, "PUT", ""), "", ""},
		{"request both allow, with a cookie", "GET", "/api", cookie(http.Header{"Origin": {app}}), "", ""},
		{"request from an origin only the application trusts", "GET", "/api", http.Header{"Origin": {partner}}, "stricter", "origin"},
		{"request from an origin only the policy trusts", "GET", "/api", http.Header{"Origin": {newcomer}}, "looser", "origin"},
		{"request from an origin neither trusts", "POST", "/api", http.Header{"Origin": {untrusted}}, "", ""},
		// The application's `*` cannot let a browser read a response to a
		// request with credentials; the policy's exact origin can.
		{"star meets a cookie", "GET", "/public", cookie(http.Header{"Origin": {app}}), "looser", "credentials"},
		{"star without credentials", "GET", "/public", http.Header{"Origin": {app}}, "", ""},
		{"no Origin", "GET", "/api", http.Header{}, "", ""},
	}
}

func reportCount(t *testing.T, kind, result, reason string) float64 {
	t.Helper()
	var m dto.Metric
	if err := reportRequestsTotal.WithLabelValues("UNKNOWN", kind, result, reason).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func disagreementCount(t *testing.T, kind, disagreement, reason string) float64 {
	t.Helper()
	var m dto.Metric
	if err := reportDisagreementsTotal.WithLabelValues(kind, disagreement, reason).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// sendTo sends one request of the corpus to url.
func sendTo(t *testing.T, url string, tc reportCase) *http.Response {
	t.Helper()
	req, err := http.NewRequest(tc.method, url+tc.path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = tc.header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// headersButDate is what a comparison of two responses looks at.
func headersButDate(resp *http.Response) http.Header {
	h := resp.Header.Clone()
	h.Del("Date")
	return h
}

// In report mode every response is the application's own, byte for byte
// in its status and headers, and every preflight reaches it.
func TestReportModeChangesNoResponse(t *testing.T) {
	alone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _ = ownCORS(w, r) }))
	t.Cleanup(alone.Close)
	behind := serve(t, provision(t, reportPolicy), ownCORS)

	calls := 0
	for _, tc := range reportCorpus() {
		want := sendTo(t, alone.URL, tc)
		got := sendTo(t, behind.url, tc)
		calls++
		if got.StatusCode != want.StatusCode || !equalHeaders(headersButDate(got), headersButDate(want)) {
			t.Errorf("%s: %d %v, want the application's %d %v", tc.name, got.StatusCode, headersButDate(got), want.StatusCode, headersButDate(want))
		}
	}
	if behind.nextCalls != calls {
		t.Errorf("the application saw %d of %d requests", behind.nextCalls, calls)
	}
}

func equalHeaders(a, b http.Header) bool {
	return maps.EqualFunc(a, b, slices.Equal)
}

// Each disagreement designed into the corpus is counted once, in its
// direction and with its reason; agreements count nothing.
func TestReportModeCountsDisagreements(t *testing.T) {
	behind := serve(t, provision(t, reportPolicy), ownCORS)
	for _, tc := range reportCorpus() {
		kind := "actual"
		if tc.method == http.MethodOptions {
			kind = "preflight"
		}
		before := map[[2]string]float64{}
		for _, d := range disagreements {
			for _, reason := range judgedReasons[1:] {
				before[[2]string{d, string(reason)}] = disagreementCount(t, kind, d, string(reason))
			}
		}
		sendTo(t, behind.url, tc)
		for key, was := range before {
			want := 0.0
			if key == [2]string{tc.disagreement, tc.reason} {
				want = 1
			}
			if got := disagreementCount(t, kind, key[0], key[1]) - was; got != want {
				t.Errorf("%s: %s %s counted %v, want %v", tc.name, key[0], key[1], got, want)
			}
		}
	}
}

// Would-be results are counted apart from the results of enforce mode, and
// equal them for the same requests.
func TestReportModeCountsWhatEnforceModeWould(t *testing.T) {
	type series struct{ kind, result, reason string }
	all := []series{
		{"preflight", "allowed", ""}, {"preflight", "rejected", "method"}, {"preflight", "rejected", "header"},
		{"preflight", "rejected", "origin"}, {"actual", "allowed", ""}, {"actual", "rejected", "origin"},
	}
	count := func() (enforced, reported map[series]float64) {
		enforced, reported = map[series]float64{}, map[series]float64{}
		for _, s := range all {
			enforced[s] = counterValue(t, s.kind, s.result, s.reason)
			reported[s] = reportCount(t, s.kind, s.result, s.reason)
		}
		return enforced, reported
	}
	enforce := serve(t, provision(t, strings.Replace(reportPolicy, `"mode":"report"`, `"mode":"enforce"`, 1)), ownCORS)
	report := serve(t, provision(t, reportPolicy), ownCORS)

	e0, r0 := count()
	for _, tc := range reportCorpus() {
		sendTo(t, enforce.url, tc)
	}
	e1, r1 := count()
	for _, tc := range reportCorpus() {
		sendTo(t, report.url, tc)
	}
	e2, r2 := count()
	for _, s := range all {
		enforced, wouldBe := e1[s]-e0[s], r2[s]-r1[s]
		if enforced != wouldBe || enforced == 0 {
			t.Errorf("%v: enforce mode counted %v, report mode %v; want the same, not 0", s, enforced, wouldBe)
		}
		if r1[s] != r0[s] || e2[s] != e1[s] {
			t.Errorf("%v: one mode counted into the other's metric", s)
		}
	}
}

// The log lines of report mode say what would have happened, and each
// disagreement names the request and both verdicts.
func TestReportModeLogs(t *testing.T) {
	c := provision(t, reportPolicy)
	core, logs := observer.New(zapcore.DebugLevel)
	useLogger(c, zap.New(core))
	behind := serve(t, c, ownCORS)
	for _, tc := range reportCorpus() {
		sendTo(t, behind.url, tc)
	}
	if n := logs.FilterMessage("CORS preflight would be rejected").Len(); n != 4 {
		t.Errorf("%d lines of preflights that would be rejected, want 4", n)
	}
	if n := logs.FilterMessage("CORS request would be rejected").Len(); n != 2 {
		t.Errorf("%d lines of requests that would be rejected, want 2", n)
	}
	if n := logs.FilterMessageSnippet("rejected").Len() - logs.FilterMessageSnippet("would be rejected").Len(); n != 0 {
		t.Errorf("%d lines say a request was rejected in report mode", n)
	}
	stricter := logs.FilterMessage("CORS policy would be stricter than the application").AllUntimed()
	looser := logs.FilterMessage("CORS policy would be looser than the application").AllUntimed()
	if len(stricter) != 4 || len(looser) != 3 {
		t.Fatalf("%d stricter and %d looser lines, want 4 and 3", len(stricter), len(looser))
	}
	want := map[string]any{
		"disagreement": "stricter", "reason": "origin", "kind": "actual", "origin": partner,
		"method": "GET", "path": "/api", "policy": "refused: origin", "application": "allowed",
	}
	if got := stricter[3].ContextMap(); !maps.Equal(got, want) {
		t.Errorf("stricter line %v, want %v", got, want)
	}
	want = map[string]any{
		"disagreement": "looser", "reason": "origin", "kind": "preflight", "origin": newcomer,
		"method": "OPTIONS", "path": "/api", "policy": "allowed", "application": "refused: origin", "requested_method": "PUT",
	}
	if got := looser[0].ContextMap(); !maps.Equal(got, want) {
		t.Errorf("looser line %v, want %v", got, want)
	}
}

// {http.cors.mode} is the handler's mode on every request it sees; the
// other placeholders tell what enforce mode would do.
func TestReportModePlaceholders(t *testing.T) {
	const shown = "{http.cors.mode}|{http.cors.allowed}|{http.cors.reason}"
	tests := []struct {
		config string
		header http.Header
		want   string
	}{
		{reportPolicy, http.Header{"Origin": {untrusted}}, "report|false|origin"},
		{reportPolicy, http.Header{"Origin": {app}}, "report|true|"},
		{reportPolicy, http.Header{}, "report||"},
		{`{"allowed_origins":["` + app + `"]}`, http.Header{"Origin": {untrusted}}, "enforce|false|origin"},
		{`{"allowed_origins":["` + app + `"],"mode":"enforce"}`, http.Header{}, "enforce||"},
	}
	for _, tt := range tests {
		c := provision(t, tt.config)
		r := httptest.NewRequest(http.MethodGet, "http://api.example.com/", nil)
		r.Header = tt.header
		repl := caddy.NewReplacer()
		w := httptest.NewRecorder()
		r = caddyhttp.PrepareRequest(r, repl, w, &caddyhttp.Server{})
		if err := c.ServeHTTP(w, r, caddyhttp.HandlerFunc(respondOK)); err != nil {
			t.Fatal(err)
		}
		if got := repl.ReplaceKnown(shown, ""); got != tt.want {
			t.Errorf("%s with %v: %s = %q, want %q", tt.config, tt.header, shown, got, tt.want)
		}
	}
}

// An error response is judged as Caddy sends it: with the status of the
// error and the header map as next left it.
func TestReportModeJudgesErrorResponses(t *testing.T) {
	before := disagreementCount(t, "actual", "looser", "origin")
	behind := serve(t, provision(t, reportPolicy), func(http.ResponseWriter, *http.Request) error {
		return caddyhttp.Error(http.StatusBadGateway, nil)
	})
	resp, _ := behind.do(t, http.MethodGet, http.Header{"Origin": {app}})
	if resp.StatusCode != http.StatusBadGateway || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("%d with %q, want 502 without CORS headers", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	if got := disagreementCount(t, "actual", "looser", "origin") - before; got != 1 {
		t.Errorf("an error response without CORS headers counted %v looser, want 1", got)
	}
}

func TestModeIsChecked(t *testing.T) {
	ctx, cancel := caddy.NewContext(caddy.Context{Context: t.Context()})
	defer cancel()
	_, err := ctx.LoadModuleByID("http.handlers.cors", []byte(`{"allowed_origins":["`+app+`"],"mode":"shadow"}`))
	if err == nil || !strings.Contains(err.Error(), `unknown mode "shadow": write mode report`) {
		t.Errorf("mode shadow: %v", err)
	}

	var c CORS
	err = c.UnmarshalCaddyfile(caddyfile.NewTestDispenser("cors " + app + " {\n\tmode dry-run\n}"))
	if err == nil || !strings.Contains(err.Error(), `unknown mode "dry-run"`) || !strings.Contains(err.Error(), "Testfile:2") {
		t.Errorf("mode dry-run: %v", err)
	}
	for _, bad := range []string{"mode", "mode report enforce"} {
		var c CORS
		if err := c.UnmarshalCaddyfile(caddyfile.NewTestDispenser("cors " + app + " {\n\t" + bad + "\n}")); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
	c = CORS{}
	if err := c.UnmarshalCaddyfile(caddyfile.NewTestDispenser("cors " + app + " {\n\tmode report\n}")); err != nil || c.Mode != "report" {
		t.Errorf("mode report: %q, %v", c.Mode, err)
	}
}

// With preflight_passthrough, enforce mode would add its headers to the
// application's own answer, with the application's status: a preflight
// that the application answers 405 fails either way. Without it, the
// policy's 204 would pass.
func TestReportModeJudgesPassthroughWithTheApplicationsStatus(t *testing.T) {
	methodNotAllowed := func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		w.Header().Set("Access-Control-Allow-Methods", "PUT")
		w.WriteHeader(http.StatusMethodNotAllowed)
		return nil
	}
	for _, tt := range []struct {
		config string
		want   float64
	}{
		{`{"mode":"report","allowed_origins":["` + app + `"],"allowed_methods":["PUT"]}`, 1},
		{`{"mode":"report","allowed_origins":["` + app + `"],"allowed_methods":["PUT"],"preflight_passthrough":true}`, 0},
	} {
		before := disagreementCount(t, "preflight", "looser", "status")
		behind := serve(t, provision(t, tt.config), methodNotAllowed)
		behind.do(t, http.MethodOptions, preflightHeader(app, "PUT", ""))
		if got := disagreementCount(t, "preflight", "looser", "status") - before; got != tt.want {
			t.Errorf("%s: looser status counted %v, want %v", tt.config, got, tt.want)
		}
	}
}

// In report mode the gates of enforce judge as in enforce mode and refuse
// nothing: a cross-site write and a WebSocket handshake from a refused
// origin reach the next handler, and are counted and shown as the refusals
// they would be.
func TestReportModeJudgesTheGatesAndRefusesNothing(t *testing.T) {
	const config = `{"mode":"report","enforce":["unsafe_methods","websocket"],"allowed_origins":["https://app.example.com"]}`
	report := serve(t, provision(t, config), respondOK)
	tests := []struct {
		name   string
		method string
		header http.Header
		reason string
	}{
		{"cross-site POST", "POST", http.Header{"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}}, "unsafe_cross_origin"},
		{"cross-site POST without Origin", "POST", http.Header{"Sec-Fetch-Site": {"cross-site"}}, "unsafe_cross_origin"},
		{"WebSocket handshake", "GET", http.Header{"Origin": {"https://evil.example"}, "Connection": {"Upgrade"}, "Upgrade": {"websocket"}}, "websocket_origin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, calls := reportCount(t, "actual", "rejected", tt.reason), report.nextCalls
			resp, body := report.do(t, tt.method, tt.header)
			if resp.StatusCode != http.StatusOK || body != "ok" || report.nextCalls != calls+1 {
				t.Fatalf("got %d %q after %d calls of next, want the next handler's 200 \"ok\"", resp.StatusCode, body, report.nextCalls-calls)
			}
			if got := reportCount(t, "actual", "rejected", tt.reason) - before; got != 1 {
				t.Errorf("would-be refusals for %s counted %v times, want 1", tt.reason, got)
			}
			if got := report.placeholders[placeholderReason]; got != tt.reason {
				t.Errorf("{http.cors.reason} is %q, want %q", got, tt.reason)
			}
		})
	}
}
