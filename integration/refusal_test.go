package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The two sites of TestRefusedPreflightAnswer: the same policy, without and
// with credentials.
var (
	refusalSite            = "http://127.0.0.1:" + portAtStart()
	refusalSiteCredentials = "http://127.0.0.1:" + portAtStart()
)

// TestRefusedPreflightAnswer checks on the wire what a refused preflight
// gets from a real Caddy (SPEC "Preflight that fails", R8). A refused
// origin learns nothing: 403 and no Access-Control-* header. An allowed
// origin asking for a method or a header the policy refuses gets 200 with
// the headers of what it asked for that is allowed and none for the rest,
// so that the browser's console names what failed; never
// Access-Control-Max-Age. Both carry the preflight Vary, a plain-text
// one-line body (which the next handler's answer would not).
func TestRefusedPreflightAnswer(t *testing.T) {
	requireIntegration(t)
	policy := `
	cors %s {
		methods PUT
		headers X-Token
		max_age 10m%s
	}
	respond "the next handler"
`
	loadCaddyfile(t, fmt.Sprintf("%s {"+policy+"}\n%s {"+policy+"}\n",
		refusalSite, appOrigin, "",
		refusalSiteCredentials, appOrigin, "\n\t\tcredentials"))

	type preflight struct {
		origin, method, requestHeaders string
	}
	tests := []struct {
		name    string
		request preflight
		status  int
		cors    map[string]string // without credentials; with them, Allow-Credentials is added when Allow-Origin is there
		body    string
	}{
		{
			name:    "refused origin: 403 and no CORS header",
			request: preflight{evilOrigin, "PUT", "x-token"},
			status:  http.StatusForbidden,
			cors:    map[string]string{},
			body:    `CORS preflight rejected: origin "https://evil.example" is not allowed`,
		},
		{
			name:    "refused method: 200, the allowed header, no Allow-Methods",
			request: preflight{appOrigin, "PURGE", "x-token"},
			status:  http.StatusOK,
			cors: map[string]string{
				"Access-Control-Allow-Origin":  appOrigin,
				"Access-Control-Allow-Headers": "x-token",
			},
			body: `CORS preflight rejected: method "PURGE" is not allowed`,
		},
		{
			name:    "refused header among allowed ones: 200, only the allowed header listed",
			request: preflight{appOrigin, "PUT", "x-token,x-debug"},
			status:  http.StatusOK,
			cors: map[string]string{
				"Access-Control-Allow-Origin":  appOrigin,
				"Access-Control-Allow-Methods": "PUT",
				"Access-Control-Allow-Headers": "x-token",
			},
			body: `CORS preflight rejected: header "x-debug" is not allowed`,
		},
	}
	for _, site := range []struct {
		name, url   string
		credentials bool
	}{
		{"without credentials", refusalSite, false},
		{"with credentials", refusalSiteCredentials, true},
	} {
		for _, tt := range tests {
			t.Run(site.name+"/"+tt.name, func(t *testing.T) {
				req, err := http.NewRequest(http.MethodOptions, site.url+"/api", nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Origin", tt.request.origin)
				req.Header.Set("Access-Control-Request-Method", tt.request.method)
				req.Header.Set("Access-Control-Request-Headers", tt.request.requestHeaders)
				resp, body := do(t, req)

				assertStatus(t, resp, body, tt.status)
				want := map[string]string{}
				for name, value := range tt.cors {
					want[name] = value
				}
				if _, ok := want["Access-Control-Allow-Origin"]; ok && site.credentials {
					want["Access-Control-Allow-Credentials"] = "true"
				}
				assertExactCORS(t, resp.Header, want)
				assertHeader(t, resp.Header, "Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
				assertHeader(t, resp.Header, "Content-Type", "text/plain; charset=utf-8")
				assertHeader(t, resp.Header, "X-Content-Type-Options", "nosniff")
				if body != tt.body+"\n" {
					t.Errorf("body %q, want the one line %q", body, tt.body)
				}
			})
		}
	}
}

// TestRefusalLogLinesOfManyHandlers floods a real Caddy of twelve cors
// handlers (routes /h1/* to /h12/*) with refused-method preflights, then
// sends each handler one request refused for each other reason and kind:
// every one of those gets its log line. The lines are sampled per handler,
// kind and reason, with no count shared between two of them, however many
// handlers a configuration has.
func TestRefusalLogLinesOfManyHandlers(t *testing.T) {
	requireIntegration(t)
	const handlers = 12
	logFile := filepath.Join(t.TempDir(), "cors.log")
	site := "127.0.0.1:" + freePort(t)
	var routes []any
	for i := 1; i <= handlers; i++ {
		routes = append(routes, map[string]any{
			"match": []any{map[string]any{"path": []string{fmt.Sprintf("/h%d/*", i)}}},
			"handle": []any{
				map[string]any{"handler": "cors", "allowed_origins": []string{appOrigin}, "allowed_methods": []string{"PUT"}},
				map[string]any{"handler": "static_response", "body": "ok"},
			},
		})
	}
	config, err := json.Marshal(map[string]any{
		"admin": map[string]any{"listen": adminAddr},
		"logging": map[string]any{"logs": map[string]any{
			"cors": map[string]any{
				"writer":  map[string]any{"output": "file", "filename": logFile},
				"encoder": map[string]any{"format": "json"},
				"level":   "DEBUG",
				"include": []string{"http.handlers.cors"},
			},
		}},
		"apps": map[string]any{"http": map[string]any{
			"http_port":  0,
			"https_port": 0,
			"servers": map[string]any{"many_handlers": map[string]any{
				"listen":          []string{site},
				"routes":          routes,
				"automatic_https": map[string]any{"disable": true},
			}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	loadJSON(t, string(config))

	url := func(i int) string { return fmt.Sprintf("http://%s/h%d/x", site, i) }
	// Past the first lines of each second, and short of the next one in
	// a hundred, on every handler; one handler far beyond.
	for i := 1; i <= handlers; i++ {
		flood := 20
		if i == 4 {
			flood = 150
		}
		for range flood {
			resp, body := sendPreflight(t, url(i), appOrigin, "PURGE", "")
			assertStatus(t, resp, body, http.StatusOK)
		}
	}
	type line struct {
		handler      int
		kind, reason string
	}
	var want []line
	for i := 1; i <= handlers; i++ {
		sendPreflight(t, url(i), appOrigin, "PUT", "x-debug")
		sendPreflight(t, url(i), evilOrigin, "PUT", "")
		sendRequest(t, http.MethodGet, url(i), evilOrigin, nil, "")
		want = append(want, line{i, "preflight", "header"}, line{i, "preflight", "origin"}, line{i, "actual", "origin"})
	}

	raw, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	got := map[line]int{}
	for _, text := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var entry struct{ Msg, Path, Reason string }
		if err := json.Unmarshal([]byte(text), &entry); err != nil {
			t.Fatalf("log line %q: %v", text, err)
		}
		var l line
		if _, err := fmt.Sscanf(entry.Path, "/h%d/x", &l.handler); err != nil {
			t.Fatalf("log line %q: no handler in its path", text)
		}
		l.kind, l.reason = "actual", entry.Reason
		if entry.Msg == "CORS preflight rejected" {
			l.kind = "preflight"
		}
		got[l]++
	}
	for _, l := range want {
		if got[l] != 1 {
			t.Errorf("handler /h%d/: %d lines for its first %s refused for %s after the floods, want 1", l.handler, got[l], l.kind, l.reason)
		}
	}
	for i := 1; i <= handlers; i++ {
		if n := got[line{i, "preflight", "method"}]; n < 10 {
			t.Errorf("handler /h%d/: %d lines for its flood of refused methods, want at least the first 10", i, n)
		}
	}
}
