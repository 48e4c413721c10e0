package corscheck

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

const appOrigin = "https://app.example.com"

// recordingServer is a deliberately broken (or correct) API on loopback
// that remembers every request it saw.
type recordingServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen []*http.Request
}

func newRecordingServer(t *testing.T, handler http.HandlerFunc) *recordingServer {
	t.Helper()
	s := &recordingServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.seen = append(s.seen, r.Clone(context.Background()))
		s.mu.Unlock()
		handler(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *recordingServer) methods() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var m []string
	for _, r := range s.seen {
		m = append(m, r.Method)
	}
	return m
}

func (s *recordingServer) request(method string) *http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.seen {
		if r.Method == method {
			return r
		}
	}
	return nil
}

func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
}

// correctAPI answers preflights the way the cors module does.
func correctAPI(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Vary", "Origin")
	if r.Header.Get("Origin") != appOrigin {
		return
	}
	h.Set("Access-Control-Allow-Origin", appOrigin)
	h.Set("Access-Control-Allow-Credentials", "true")
	if isPreflight(r) {
		h.Set("Access-Control-Allow-Methods", r.Header.Get("Access-Control-Request-Method"))
		h.Set("Access-Control-Allow-Headers", r.Header.Get("Access-Control-Request-Headers"))
		h.Set("Access-Control-Max-Age", "86400")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h.Set("Access-Control-Expose-Headers", "X-Request-Id, X-Not-Sent")
	h.Set("X-Request-Id", "42")
	h.Set("X-Internal", "secret")
	h.Set("Set-Cookie", "session=1")
	h.Set("Content-Type", "application/json")
	w.Write([]byte(`{"ok":true}`))
}

// refusingModule answers a preflight as the cors module does when the
// origin is allowed but the method or a header is not: 200 with
// Access-Control-Allow-Origin, only the allowed part of what was
// requested, no Access-Control-Max-Age, and the reason in a one-line body.
func refusingModule(allowedMethod, allowedHeader, reason string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
		h.Set("Access-Control-Allow-Origin", appOrigin)
		if r.Header.Get("Access-Control-Request-Method") == allowedMethod {
			h.Set("Access-Control-Allow-Methods", allowedMethod)
		}
		if strings.Contains(r.Header.Get("Access-Control-Request-Headers"), allowedHeader) {
			h.Set("Access-Control-Allow-Headers", allowedHeader)
		}
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("X-Content-Type-Options", "nosniff")
		w.Write([]byte("CORS preflight rejected: " + reason + "\n"))
	}
}

func TestRunAgainstBrokenServers(t *testing.T) {
	tests := []struct {
		name      string
		handler   http.HandlerFunc
		request   Request
		blockedAt string
		corsError string
		// console is the message after "...has been blocked by CORS policy: ".
		console string
		fix     string
		methods []string
	}{
		{
			name: "preflight meets basic auth: 401 without CORS headers",
			handler: func(w http.ResponseWriter, r *http.Request) {
				if _, _, ok := r.BasicAuth(); !ok {
					w.Header().Set("WWW-Authenticate", `Basic realm="api"`)
					http.Error(w, "unauthorized", http.StatusUnauthorized)
					return
				}
				correctAPI(w, r)
			},
			request:   Request{Method: "PUT", Headers: []Header{{"Authorization", "Basic dTpw"}}, BodyType: "application/json"},
			blockedAt: "preflight",
			corsError: "PreflightMissingAllowOriginHeader",
			console:   "Response to preflight request doesn't pass access control check: No 'Access-Control-Allow-Origin' header is present on the requested resource.",
			fix:       "the preflight met authentication (401): a preflight never carries credentials; put `cors` before auth",
			methods:   []string{"OPTIONS"},
		},
		{
			name: "wildcard origin on a preflight for a request with credentials",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Access-Control-Allow-Origin", "*")
				w.Header().Set("Access-Control-Allow-Credentials", "true")
				w.Header().Set("Access-Control-Allow-Methods", "*")
				w.Header().Set("Access-Control-Allow-Headers", "*")
			},
			request:   Request{Method: "DELETE", Credentials: true},
			blockedAt: "preflight",
			corsError: "PreflightWildcardOriginNotAllowed",
			console: "Response to preflight request doesn't pass access control check: The value of the 'Access-Control-Allow-Origin' header " +
				"in the response must not be the wildcard '*' when the request's credentials mode is 'include'.",
			fix:     "with credentials the server must echo the origin, not `*`",
			methods: []string{"OPTIONS"},
		},
		{
			name: "wildcard origin on a simple request with credentials",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Access-Control-Allow-Origin", "*")
				w.Header().Set("Access-Control-Allow-Credentials", "true")
			},
			request:   Request{Credentials: true},
			blockedAt: "actual request",
			corsError: "WildcardOriginNotAllowed",
			console: "The value of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' " +
				"when the request's credentials mode is 'include'.",
			fix:     "list the origins in `cors` together with `credentials`",
			methods: []string{"GET"},
		},
		{
			name: "two Access-Control-Allow-Origin field lines, from the app and the proxy",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Add("Access-Control-Allow-Origin", appOrigin)
				w.Header().Add("Access-Control-Allow-Origin", appOrigin)
			},
			request:   Request{},
			blockedAt: "actual request",
			corsError: "MultipleAllowOriginValues",
			console: "The 'Access-Control-Allow-Origin' header contains multiple values 'https://app.example.com, https://app.example.com', " +
				"but only one is allowed. Have the server send the header with a valid value.",
			fix:     "two layers each add Access-Control-Allow-Origin",
			methods: []string{"GET"},
		},
		{
			name: "preflight redirected with 307",
			handler: func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/items" {
					w.Header().Set("Access-Control-Allow-Origin", appOrigin)
					http.Redirect(w, r, "/items/", http.StatusTemporaryRedirect)
					return
				}
				correctAPI(w, r)
			},
			request:   Request{Method: "DELETE"},
			blockedAt: "preflight",
			corsError: "PreflightDisallowedRedirect",
			console:   "Response to preflight request doesn't pass access control check: Redirect is not allowed for a preflight request.",
			fix:       "the preflight was redirected (307 to /items/)",
			methods:   []string{"OPTIONS"},
		},
		{
			name: "a requested header missing from Access-Control-Allow-Headers",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Access-Control-Allow-Origin", appOrigin)
				w.Header().Set("Access-Control-Allow-Methods", "GET, POST, PUT")
				w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
			},
			request:   Request{Method: "PUT", Headers: []Header{{"X-Request-Id", "1"}}, BodyType: "application/json"},
			blockedAt: "preflight",
			corsError: "HeaderDisallowedByPreflightResponse",
			console:   "Request header field x-request-id is not allowed by Access-Control-Allow-Headers in preflight response.",
			fix:       "add x-request-id to `headers` in the `cors` directive",
			methods:   []string{"OPTIONS"},
		},
		{
			name: "PATCH in Access-Control-Allow-Methods does not allow patch",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Access-Control-Allow-Origin", appOrigin)
				w.Header().Set("Access-Control-Allow-Methods", strings.ToUpper(r.Header.Get("Access-Control-Request-Method")))
			},
			request:   Request{Method: "patch"},
			blockedAt: "preflight",
			corsError: "MethodDisallowedByPreflightResponse",
			console:   "Method patch is not allowed by Access-Control-Allow-Methods in preflight response.",
			fix:       "methods are case-sensitive",
			methods:   []string{"OPTIONS"},
		},
		{
			name:      "the cors module refuses the method of an allowed origin: 200 without Access-Control-Allow-Methods",
			handler:   refusingModule("PUT", "x-request-id", `method "PURGE" is not allowed`),
			request:   Request{Method: "PURGE"},
			blockedAt: "preflight",
			corsError: "MethodDisallowedByPreflightResponse",
			console:   "Method PURGE is not allowed by Access-Control-Allow-Methods in preflight response.",
			fix:       "the cors module refused the preflight (method \"PURGE\" is not allowed): add PURGE to `methods` in the `cors` directive",
			methods:   []string{"OPTIONS"},
		},
		{
			name:      "the cors module refuses a header of an allowed origin: 200 listing only the allowed header",
			handler:   refusingModule("PUT", "x-request-id", `header "x-debug" is not allowed`),
			request:   Request{Method: "PUT", Headers: []Header{{"X-Request-Id", "1"}, {"X-Debug", "1"}}},
			blockedAt: "preflight",
			corsError: "HeaderDisallowedByPreflightResponse",
			console:   "Request header field x-debug is not allowed by Access-Control-Allow-Headers in preflight response.",
			fix:       "the cors module refused the preflight (header \"x-debug\" is not allowed): add x-debug to `headers` in the `cors` directive",
			methods:   []string{"OPTIONS"},
		},
		{
			name: "the cors module refuses the origin: 403 without CORS headers",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, `CORS preflight rejected: origin "https://app.example.com" is not allowed`, http.StatusForbidden)
			},
			request:   Request{Method: "PUT"},
			blockedAt: "preflight",
			corsError: "PreflightMissingAllowOriginHeader",
			console:   "Response to preflight request doesn't pass access control check: No 'Access-Control-Allow-Origin' header is present on the requested resource.",
			fix:       "the cors module refused the preflight (origin \"https://app.example.com\" is not allowed): if this origin should be allowed, add it to `origins`",
			methods:   []string{"OPTIONS"},
		},
		{
			name: "preflight passes but the actual response has no CORS headers",
			handler: func(w http.ResponseWriter, r *http.Request) {
				if isPreflight(r) {
					correctAPI(w, r)
					return
				}
				http.Error(w, "bad gateway", http.StatusBadGateway)
			},
			request:   Request{Method: "PUT", Send: true},
			blockedAt: "actual request",
			corsError: "MissingAllowOriginHeader",
			console:   "No 'Access-Control-Allow-Origin' header is present on the requested resource.",
			fix:       "the preflight passed but the actual response does not",
			methods:   []string{"OPTIONS", "PUT"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newRecordingServer(t, tt.handler)
			req := tt.request
			req.URL = srv.URL + "/items"
			req.Origin = appOrigin

			rep, err := Run(context.Background(), NewClient(DefaultTimeout), req)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if rep.Verdict != Blocked || rep.ExitCode() != ExitBlocked {
				t.Fatalf("verdict %q exit %d, want blocked exit 1", rep.Verdict, rep.ExitCode())
			}
			if rep.BlockedAt != tt.blockedAt || rep.CorsError != tt.corsError {
				t.Errorf("blocked at %q with %s, want %q with %s", rep.BlockedAt, rep.CorsError, tt.blockedAt, tt.corsError)
			}
			wantConsole := "Access to fetch at '" + srv.URL + "/items' from origin 'https://app.example.com' has been blocked by CORS policy: " + tt.console
			if rep.ConsoleMessage != wantConsole {
				t.Errorf("console message\n got: %s\nwant: %s", rep.ConsoleMessage, wantConsole)
			}
			if !strings.Contains(rep.Fix, tt.fix) {
				t.Errorf("fix %q does not contain %q", rep.Fix, tt.fix)
			}
			if got := strings.Join(srv.methods(), ","); got != strings.Join(tt.methods, ",") {
				t.Errorf("server saw %s, want %s", got, strings.Join(tt.methods, ","))
			}
			for _, r := range srv.seen {
				if r.Header.Get("Cookie") != "" || (r.Method == http.MethodOptions && r.Header.Get("Authorization") != "") {
					t.Errorf("%s carried credentials", r.Method)
				}
			}
		})
	}
}

func TestRunAllowsACorrectServer(t *testing.T) {
	srv := newRecordingServer(t, correctAPI)
	rep, err := Run(context.Background(), NewClient(DefaultTimeout), Request{
		URL:    srv.URL + "/items",
		Origin: appOrigin,
		Method: "put",
		Headers: []Header{
			{"X-Request-Id", "1"},
			{"Authorization", "Bearer x"},
			{"Accept", "application/json"},
			{"x-request-id", "2"},
			{"Cookie", "a=b"},
		},
		BodyType:    "application/json",
		Credentials: true,
		Send:        true,
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rep.Verdict != Allowed || rep.ExitCode() != ExitAllowed || rep.ConsoleMessage != "" {
		t.Fatalf("verdict %q exit %d console %q, want allowed", rep.Verdict, rep.ExitCode(), rep.ConsoleMessage)
	}
	if got := strings.Join(srv.methods(), ","); got != "OPTIONS,PUT" {
		t.Fatalf("server saw %s, want OPTIONS,PUT", got)
	}
	preflight := srv.request(http.MethodOptions)
	for name, want := range map[string]string{
		"Origin":                         appOrigin,
		"Access-Control-Request-Method":  "PUT", // fetch upper-cases put
		"Access-Control-Request-Headers": "authorization,content-type,x-request-id",
		"Authorization":                  "",
		"Cookie":                         "",
	} {
		if got := preflight.Header.Get(name); got != want {
			t.Errorf("preflight %s = %q, want %q", name, got, want)
		}
	}
	actual := srv.request(http.MethodPut)
	if got := actual.Header.Get("X-Request-Id"); got != "1, 2" {
		t.Errorf("actual X-Request-Id = %q, want the repeated header combined", got)
	}
	if got := actual.Header.Get("Cookie"); got != "" {
		t.Errorf("a forbidden Cookie header was sent: %q", got)
	}
	if got := strings.Join(rep.ReadableHeaders, ","); got != "content-length,content-type,x-request-id" {
		t.Errorf("readable headers %s, want content-length,content-type,x-request-id (never Set-Cookie or unexposed ones)", got)
	}
	if ma := rep.Steps[1].Checks[len(rep.Steps[1].Checks)-1]; !strings.Contains(ma.Detail, "Chromium keeps it 7200 s") {
		t.Errorf("max-age note %q does not name Chromium's 7200 s cap", ma.Detail)
	}
}

func TestRunSendsNoPreflightForASimpleGet(t *testing.T) {
	srv := newRecordingServer(t, correctAPI)
	rep, err := Run(context.Background(), NewClient(DefaultTimeout), Request{
		URL:     srv.URL + "/items",
		Origin:  appOrigin,
		Headers: []Header{{"Accept", "application/json"}, {"Accept-Language", "en-GB,en;q=0.9"}},
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := strings.Join(srv.methods(), ","); got != "GET" {
		t.Fatalf("server saw %s, want only GET (no OPTIONS)", got)
	}
	if rep.Verdict != Allowed || rep.Steps[0].Outcome != "no preflight" || rep.Steps[1].Outcome != "not sent" {
		t.Errorf("verdict %q, steps %q / %q", rep.Verdict, rep.Steps[0].Outcome, rep.Steps[1].Outcome)
	}
	if got := srv.request(http.MethodGet).Header.Get("Origin"); got != appOrigin {
		t.Errorf("GET Origin = %q", got)
	}
}

func TestRunReportsAnUnreachableServerAsAnError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	rep, err := Run(context.Background(), NewClient(DefaultTimeout), Request{URL: url + "/", Origin: appOrigin, Method: "PUT"})
	if err == nil {
		t.Fatalf("no error; verdict %q", rep.Verdict)
	}
	if rep == nil || len(rep.Steps) != 2 || rep.Steps[1].Outcome != "failed" || rep.ExitCode() != ExitError {
		t.Errorf("want the steps made so far, got %+v", rep)
	}
}

func TestRunRefusesWhatFetchRefuses(t *testing.T) {
	tests := []struct {
		name string
		req  Request
		want string
	}{
		{"no origin", Request{URL: "http://127.0.0.1/"}, "--origin is required"},
		{"origin with a trailing slash", Request{URL: "http://127.0.0.1/", Origin: "https://app.example.com/"}, `"https://app.example.com"`},
		{"origin in upper case", Request{URL: "http://127.0.0.1/", Origin: "HTTPS://App.example.com"}, `"https://app.example.com"`},
		{"origin with the default port", Request{URL: "http://127.0.0.1/", Origin: "https://app.example.com:443"}, `"https://app.example.com"`},
		{"not http", Request{URL: "ftp://127.0.0.1/", Origin: appOrigin}, "only http and https"},
		{"localhost without a scheme", Request{URL: "localhost:1/x", Origin: appOrigin}, `url "localhost:1/x" has no scheme; did you mean http://localhost:1/x`},
		{"a loopback address without a scheme", Request{URL: "127.0.0.1:8080/items", Origin: appOrigin}, "did you mean http://127.0.0.1:8080/items"},
		{"an IPv6 loopback address without a scheme", Request{URL: "[::1]:8080/items", Origin: appOrigin}, "did you mean http://[::1]:8080/items"},
		{"a name without a scheme", Request{URL: "api.example.com/items?a=1", Origin: appOrigin}, "did you mean https://api.example.com/items?a=1"},
		{"credentials in the url", Request{URL: "http://u:p@127.0.0.1/", Origin: appOrigin}, "includes credentials"},
		{"a forbidden method", Request{URL: "http://127.0.0.1/", Origin: appOrigin, Method: "trace"}, "forbidden"},
		{"a method that is not a token", Request{URL: "http://127.0.0.1/", Origin: appOrigin, Method: "GET X"}, "not a valid HTTP token"},
		{"a body on GET", Request{URL: "http://127.0.0.1/", Origin: appOrigin, BodyType: "text/plain"}, "refuses a body"},
		{"a header name that is not a token", Request{URL: "http://127.0.0.1/", Origin: appOrigin, Headers: []Header{{"X Foo", "1"}}}, "not a valid HTTP token"},
		{"both --body-type and Content-Type", Request{URL: "http://127.0.0.1/", Origin: appOrigin, Method: "POST",
			BodyType: "text/plain", Headers: []Header{{"content-type", "text/plain"}}}, "not both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Run(context.Background(), NewClient(DefaultTimeout), tt.req)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %s", err, tt.want)
			}
		})
	}
}

func TestRunTreatsASameOriginRequestAsNoCORS(t *testing.T) {
	rep, err := Run(context.Background(), NewClient(DefaultTimeout), Request{URL: "https://app.example.com:443/x", Origin: appOrigin, Method: "DELETE"})
	if err != nil || rep.Verdict != Allowed {
		t.Fatalf("err %v verdict %v", err, rep)
	}
}

func TestReportJSONHasTheDocumentedFields(t *testing.T) {
	srv := newRecordingServer(t, func(w http.ResponseWriter, r *http.Request) {})
	rep, err := Run(context.Background(), NewClient(DefaultTimeout), Request{URL: srv.URL, Origin: appOrigin, Method: "PUT"})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var decoded map[string]any
	if err := json.Unmarshal(buf.Bytes(), &decoded); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, buf.String())
	}
	for _, key := range []string{"steps", "verdict", "console_message", "fix", "readable_headers", "cors_error", "blocked_at"} {
		if _, ok := decoded[key]; !ok {
			t.Errorf("JSON lacks %q:\n%s", key, buf.String())
		}
	}
	buf.Reset()
	if err := rep.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1. preflight decision: preflight needed", "2. preflight: failed", "3. actual request: skipped",
		"Verdict: BLOCKED at the preflight (PreflightMissingAllowOriginHeader)", "Console (Chromium): Access to fetch at", "Fix: "} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("text output lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestRunSaysAFailedPreflightIsNotCached(t *testing.T) {
	srv := newRecordingServer(t, refusingModule("PUT", "", `method "PURGE" is not allowed`))
	rep, err := Run(context.Background(), NewClient(DefaultTimeout), Request{URL: srv.URL, Origin: appOrigin, Method: "PURGE"})
	if err != nil {
		t.Fatal(err)
	}
	if got := checkDetail(rep.Steps[1], maxAgeHeader); got != "not applied: browsers keep only a preflight that passes" {
		t.Errorf("max-age note %q on a failed preflight", got)
	}
}

// A check run to see why a page fails must not change data: a method
// other than GET and HEAD reaches the server only as a preflight unless
// Send is set, and the report says which was done.
func TestRunSendsAMethodThatMayChangeDataOnlyWithSend(t *testing.T) {
	tests := []struct {
		name    string
		request Request
		// seen is what the server receives.
		seen    string
		verdict string
		sent    bool
		// text is in the text report.
		text   string
		errMsg string
	}{
		{"PUT stops after the preflight", Request{Method: "PUT"}, "OPTIONS", PreflightPassed, false,
			"Verdict: PREFLIGHT PASSED; the actual PUT was not sent (add --send to send it and check its response)", ""},
		{"delete stops after the preflight too", Request{Method: "delete"}, "OPTIONS", PreflightPassed, false,
			"3. actual request: not sent\n   cors-check sends a DELETE only with --send", ""},
		{"a custom method stops after the preflight", Request{Method: "PURGE"}, "OPTIONS", PreflightPassed, false, "the actual PURGE was not sent", ""},
		{"PUT with --send", Request{Method: "PUT", Send: true}, "OPTIONS,PUT", Allowed, true, "Verdict: ALLOWED\n", ""},
		{"a POST without preflight is not sent at all", Request{Method: "POST", BodyType: "text/plain"}, "", NoVerdict, false,
			"Verdict: NONE; the actual POST was not sent", "add --send to send it"},
		{"a POST with --send", Request{Method: "POST", BodyType: "text/plain", Send: true}, "POST", Allowed, true, "Verdict: ALLOWED\n", ""},
		{"GET is sent without --send", Request{}, "GET", Allowed, true, "Verdict: ALLOWED\n", ""},
		{"HEAD is sent without --send", Request{Method: "HEAD"}, "HEAD", Allowed, true, "Verdict: ALLOWED\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newRecordingServer(t, correctAPI)
			req := tt.request
			req.URL, req.Origin = srv.URL+"/items", appOrigin
			rep, err := Run(context.Background(), NewClient(DefaultTimeout), req)
			if tt.errMsg == "" && err != nil || tt.errMsg != "" && (err == nil || !strings.Contains(err.Error(), tt.errMsg)) {
				t.Fatalf("error %v, want one containing %q", err, tt.errMsg)
			}
			if got := strings.Join(srv.methods(), ","); got != tt.seen {
				t.Errorf("server saw %q, want %q", got, tt.seen)
			}
			if wantExit := map[string]int{Allowed: ExitAllowed, PreflightPassed: ExitAllowed, NoVerdict: ExitError}[tt.verdict]; rep.ExitCode() != wantExit {
				t.Errorf("exit %d, want %d", rep.ExitCode(), wantExit)
			}
			if rep.Verdict != tt.verdict || rep.ActualRequestSent != tt.sent {
				t.Errorf("verdict %q, actual_request_sent %v; want %q, %v", rep.Verdict, rep.ActualRequestSent, tt.verdict, tt.sent)
			}
			var text, js bytes.Buffer
			if err := rep.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(text.String(), tt.text) {
				t.Errorf("text report lacks %q:\n%s", tt.text, text.String())
			}
			if err := rep.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			var decoded struct {
				Verdict string `json:"verdict"`
				Sent    *bool  `json:"actual_request_sent"`
			}
			if err := json.Unmarshal(js.Bytes(), &decoded); err != nil || decoded.Sent == nil || *decoded.Sent != tt.sent || decoded.Verdict != tt.verdict {
				t.Errorf("JSON verdict %q actual_request_sent %v (%v), want %q %v:\n%s", decoded.Verdict, decoded.Sent, err, tt.verdict, tt.sent, js.String())
			}
		})
	}
}
