package integration

import (
	"fmt"
	"net/http"
	"testing"
)

// TestPreflightIsNotRedirected proves that cors answers preflights before
// redir runs: the Fetch standard fails a preflight that gets a redirect, so
// a redirected preflight is a broken API however correct the target is.
// The actual request is redirected, and the redirect itself carries the CORS
// headers (a browser needs them to follow a cross-origin redirect).
func TestPreflightIsNotRedirected(t *testing.T) {
	requireIntegration(t)
	pathAddr, siteAddr := freeAddr(t), freeAddr(t)
	loadCaddyfile(t, fmt.Sprintf(`
http://`+pathAddr+` {
	cors %[1]s {
		methods PUT
		headers Content-Type
	}
	redir /old /new 301
	respond "new place" 200
}

http://`+siteAddr+` {
	cors %[1]s {
		methods PUT
		headers Content-Type
	}
	redir * https://moved.example{uri} 308
}
`, appOrigin))

	cases := []struct {
		name         string
		url          string
		wantStatus   int
		wantLocation string
	}{
		{"path redirect: redir /old /new", "http://" + pathAddr + "/old", http.StatusMovedPermanently, "/new"},
		{"site-wide redirect: redir * https://...", "http://" + siteAddr + "/api?q=1", http.StatusPermanentRedirect, "https://moved.example/api?q=1"},
	}
	for _, tc := range cases {
		t.Run(tc.name+": preflight is answered 204 by cors", func(t *testing.T) {
			resp, body := sendPreflight(t, tc.url, appOrigin, "PUT", "content-type")
			assertStatus(t, resp, body, http.StatusNoContent)
			assertNoHeader(t, resp.Header, "Location")
			assertHeader(t, resp.Header, "Access-Control-Allow-Origin", appOrigin)
			assertVaryOnce(t, resp.Header, "Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers")
		})
		t.Run(tc.name+": actual request is redirected with CORS headers", func(t *testing.T) {
			resp, body := sendRequest(t, http.MethodGet, tc.url, appOrigin, nil, "")
			assertStatus(t, resp, body, tc.wantStatus)
			assertHeader(t, resp.Header, "Location", tc.wantLocation)
			assertHeader(t, resp.Header, "Access-Control-Allow-Origin", appOrigin)
			assertVaryOnce(t, resp.Header, "Origin")
		})
	}
}
