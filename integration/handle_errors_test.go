package integration

import (
	"fmt"
	"net/http"
	"testing"
)

// TestProxyingErrorRouteNeedsItsOwnCORS proves the limit of a cors handler
// in a site's routes and the way past it. handle_errors routes run after
// that handler has returned, on the same header map, so an error route that
// proxies to an upstream with CORS headers of its own adds them (with Add)
// after cors applied its own: an allowed origin gets two
// Access-Control-Allow-Origin lines and a refused one gets the upstream's.
// A cors inside handle_errors wraps the error route's response as it wraps
// any other, and the response carries exactly one correct set.
func TestProxyingErrorRouteNeedsItsOwnCORS(t *testing.T) {
	requireIntegration(t)
	plainAddr, proxyAddr := freeAddr(t), freeAddr(t)
	errorPages := startUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Access-Control-Allow-Credentials", "true")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("error page"))
	}))
	loadCaddyfile(t, fmt.Sprintf(`
http://`+plainAddr+` {
	cors %[1]s {
		credentials
	}
	error "down" 503
	handle_errors {
		reverse_proxy %[2]s
	}
}

http://`+proxyAddr+` {
	cors %[1]s {
		credentials
	}
	error "down" 503
	handle_errors {
		cors %[1]s {
			credentials
		}
		reverse_proxy %[2]s
	}
}
`, appOrigin, errorPages))

	t.Run("without cors in handle_errors the upstream's headers are added", func(t *testing.T) {
		resp, body := sendRequest(t, http.MethodGet, "http://"+plainAddr+"/", appOrigin, nil, "")
		assertStatus(t, resp, body, http.StatusServiceUnavailable)
		if got := resp.Header.Values("Access-Control-Allow-Origin"); len(got) != 2 {
			t.Errorf("allowed origin: Access-Control-Allow-Origin field lines %q, want two (the problem this test shows)", got)
		}
		resp, body = sendRequest(t, http.MethodGet, "http://"+plainAddr+"/", evilOrigin, nil, "")
		assertStatus(t, resp, body, http.StatusServiceUnavailable)
		if got := resp.Header.Values("Access-Control-Allow-Origin"); len(got) != 1 || got[0] != "*" {
			t.Errorf("refused origin: Access-Control-Allow-Origin field lines %q, want the upstream's (the problem this test shows)", got)
		}
	})

	t.Run("with cors in handle_errors the response carries one set", func(t *testing.T) {
		resp, body := sendRequest(t, http.MethodGet, "http://"+proxyAddr+"/", appOrigin, nil, "")
		assertStatus(t, resp, body, http.StatusServiceUnavailable)
		if body != "error page" {
			t.Errorf("body %q, want the error route's", body)
		}
		assertHeader(t, resp.Header, "Access-Control-Allow-Origin", appOrigin)
		assertHeader(t, resp.Header, "Access-Control-Allow-Credentials", "true")
		assertVaryOnce(t, resp.Header, "Origin")

		resp, body = sendRequest(t, http.MethodGet, "http://"+proxyAddr+"/", evilOrigin, nil, "")
		assertStatus(t, resp, body, http.StatusServiceUnavailable)
		assertNoCORSHeaders(t, resp.Header)
		assertVaryOnce(t, resp.Header, "Origin")
	})
}
