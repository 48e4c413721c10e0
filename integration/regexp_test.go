package integration

import (
	"fmt"
	"net/http"
	"testing"
)

// TestOriginRegexpWayStaysInItsOwnDomain proves, through a real Caddy,
// that one way through an origin_regexp that writes out a host under a
// public suffix does not license a wider way to match below it: with
// credentials, attacker.blob.core.windows.net (a site of its own, under
// the public suffix blob.core.windows.net) gets no CORS header, while the
// host written out and the wide way's own hosts do.
func TestOriginRegexpWayStaysInItsOwnDomain(t *testing.T) {
	requireIntegration(t)
	site := "http://127.0.0.1:" + freePort(t)
	loadCaddyfile(t, fmt.Sprintf(`
%s {
	cors {
		origin_regexp https://([a-z0-9-]+\.)*windows\.net|https://blob\.core\.windows\.net
		credentials
	}
	respond "ok" 200
}
`, site))
	for _, origin := range []string{"https://blob.core.windows.net", "https://api.windows.net"} {
		resp, body := sendRequest(t, http.MethodGet, site+"/", origin, nil, "")
		assertStatus(t, resp, body, http.StatusOK)
		assertHeader(t, resp.Header, "Access-Control-Allow-Origin", origin)
		assertHeader(t, resp.Header, "Access-Control-Allow-Credentials", "true")
	}
	resp, body := sendRequest(t, http.MethodGet, site+"/", "https://attacker.blob.core.windows.net", nil, "")
	assertStatus(t, resp, body, http.StatusOK)
	assertNoCORSHeaders(t, resp.Header)
}
