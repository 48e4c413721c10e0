package integration

import (
	"fmt"
	"net/http"
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
// origin asking for a method, a header or private network access the policy
// refuses gets 200 with the headers of what it asked for that is allowed and
// none for the rest, so that the browser's console names what failed; never
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
		privateNetwork                 bool
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
			request: preflight{evilOrigin, "PUT", "x-token", false},
			status:  http.StatusForbidden,
			cors:    map[string]string{},
			body:    `CORS preflight rejected: origin "https://evil.example" is not allowed`,
		},
		{
			name:    "refused method: 200, the allowed header, no Allow-Methods",
			request: preflight{appOrigin, "PURGE", "x-token", false},
			status:  http.StatusOK,
			cors: map[string]string{
				"Access-Control-Allow-Origin":  appOrigin,
				"Access-Control-Allow-Headers": "x-token",
			},
			body: `CORS preflight rejected: method "PURGE" is not allowed`,
		},
		{
			name:    "refused header among allowed ones: 200, only the allowed header listed",
			request: preflight{appOrigin, "PUT", "x-token,x-debug", false},
			status:  http.StatusOK,
			cors: map[string]string{
				"Access-Control-Allow-Origin":  appOrigin,
				"Access-Control-Allow-Methods": "PUT",
				"Access-Control-Allow-Headers": "x-token",
			},
			body: `CORS preflight rejected: header "x-debug" is not allowed`,
		},
		{
			name:    "refused private network: 200, no Allow-Private-Network",
			request: preflight{appOrigin, "PUT", "x-token", true},
			status:  http.StatusOK,
			cors: map[string]string{
				"Access-Control-Allow-Origin":  appOrigin,
				"Access-Control-Allow-Methods": "PUT",
				"Access-Control-Allow-Headers": "x-token",
			},
			body: `CORS preflight rejected: private network access is not allowed`,
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
				if tt.request.privateNetwork {
					req.Header.Set("Access-Control-Request-Private-Network", "true")
				}
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
