package integration

import (
	"fmt"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// TestUpstreamCORSHeadersAreReplaced proves that the module owns the
// Access-Control-* response headers even when a reverse_proxy upstream sends
// its own. reverse_proxy copies upstream headers with Header.Add, so a module
// that only set its headers before calling the next handler would send two
// Access-Control-Allow-Origin lines, which browsers reject (R10, R54). Vary
// is merged: the upstream's token is kept, and no token appears twice (R42).
func TestUpstreamCORSHeadersAreReplaced(t *testing.T) {
	requireIntegration(t)
	directAddr, publicAddr := freeAddr(t), freeAddr(t)
	var upstreamHits atomic.Int32
	upstream := startUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		upstreamHits.Add(1)
		h := w.Header()
		// A misconfigured upstream with its own, conflicting CORS policy.
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Set("Access-Control-Expose-Headers", "X-Up")
		h.Set("Access-Control-Allow-Methods", "PUT, DELETE")
		h.Set("Access-Control-Allow-Headers", "x-up")
		h.Set("Access-Control-Max-Age", "86400")
		h.Set("Vary", "Accept")
		h.Set("X-Up", "1")
		h.Set("X-Mine", "2")
		h.Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("from upstream"))
	}))
	loadCaddyfile(t, fmt.Sprintf(`
http://`+directAddr+` {
	cors %[1]s {
		credentials
		expose X-Mine
	}
	reverse_proxy %[2]s
}

http://`+publicAddr+` {
	cors {
		origins *
	}
	reverse_proxy %[2]s
}
`, appOrigin, upstream))
	url := "http://" + directAddr + "/data"

	t.Run("allowed origin sees exactly the policy's CORS headers, one line each", func(t *testing.T) {
		resp, body := sendRequest(t, http.MethodGet, url, appOrigin, nil, "")
		assertStatus(t, resp, body, http.StatusOK)
		if body != "from upstream" {
			t.Errorf("body = %q, want the upstream's", body)
		}
		assertHeader(t, resp.Header, "Access-Control-Allow-Origin", appOrigin)
		assertHeader(t, resp.Header, "Access-Control-Allow-Credentials", "true")
		if got := resp.Header.Values("Access-Control-Expose-Headers"); len(got) != 1 || !strings.EqualFold(got[0], "X-Mine") {
			t.Errorf("Access-Control-Expose-Headers field lines = %q, want exactly [X-Mine]", got)
		}
		// Preflight-only headers from the upstream have no business on an
		// actual response and would be a second source of truth.
		for _, name := range []string{"Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Max-Age"} {
			assertNoHeader(t, resp.Header, name)
		}
		assertVaryOnce(t, resp.Header, "Accept", "Origin")
	})

	t.Run("disallowed origin sees none of the upstream's CORS headers but Vary: Origin", func(t *testing.T) {
		before := upstreamHits.Load()
		resp, body := sendRequest(t, http.MethodGet, url, evilOrigin, nil, "")
		// CORS is not access control (R46): the request still reaches the upstream.
		assertStatus(t, resp, body, http.StatusOK)
		if n := upstreamHits.Load() - before; n != 1 {
			t.Errorf("upstream saw %d requests, want 1", n)
		}
		assertNoCORSHeaders(t, resp.Header)
		assertVaryOnce(t, resp.Header, "Accept", "Origin")
	})

	t.Run("non-CORS request gets Vary: Origin and no CORS headers", func(t *testing.T) {
		resp, body := sendRequest(t, http.MethodGet, url, "", nil, "")
		assertStatus(t, resp, body, http.StatusOK)
		assertNoCORSHeaders(t, resp.Header)
		// A cache must not serve this response to a cross-origin request.
		assertVaryHas(t, resp.Header, "Accept", "Origin")
	})

	t.Run("preflight is answered by cors and never proxied", func(t *testing.T) {
		before := upstreamHits.Load()
		resp, body := sendPreflight(t, url, appOrigin, "POST", "")
		assertStatus(t, resp, body, http.StatusNoContent)
		assertHeader(t, resp.Header, "Access-Control-Allow-Origin", appOrigin)
		assertHeader(t, resp.Header, "Access-Control-Allow-Credentials", "true")
		assertNoHeader(t, resp.Header, "Access-Control-Max-Age")
		assertVaryOnce(t, resp.Header, "Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers")
		if n := upstreamHits.Load() - before; n != 0 {
			t.Errorf("upstream saw %d requests for a preflight, want 0", n)
		}
	})

	// With a public policy (any origin, no credentials) every response says
	// "*" (R40): the upstream's credentials flag must go, since the module,
	// not the upstream, decides whether credentials are allowed.
	publicURL := "http://" + publicAddr + "/data"
	public := []struct {
		name   string
		origin string
	}{
		{"public policy: cross-origin request sees exactly ACAO * and no credentials flag", appOrigin},
		{"public policy: non-CORS request sees exactly ACAO * too", ""},
	}
	for _, tc := range public {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := sendRequest(t, http.MethodGet, publicURL, tc.origin, nil, "")
			assertStatus(t, resp, body, http.StatusOK)
			assertHeader(t, resp.Header, "Access-Control-Allow-Origin", "*")
			for _, name := range managedCORSHeaders[1:] {
				assertNoHeader(t, resp.Header, name)
			}
			assertVaryOnce(t, resp.Header, "Accept")
		})
	}
}

// TestEarlyHintsDoNotCommitCORSHeaders proves that an interim 103 Early
// Hints response relayed by reverse_proxy is not taken for the response:
// reverse_proxy restores the header map after each 1xx, so a module that
// applied (and latched) its headers there would leave the upstream's
// Access-Control-Allow-Origin next to its own on the final response.
func TestEarlyHintsDoNotCommitCORSHeaders(t *testing.T) {
	requireIntegration(t)
	addr := freeAddr(t)
	upstream := startUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</app.css>; rel=preload; as=style")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Vary", "Accept")
		_, _ = w.Write([]byte("final"))
	}))
	loadCaddyfile(t, fmt.Sprintf(`
http://`+addr+` {
	cors %s
	reverse_proxy %s
}
`, appOrigin, upstream))

	var interim []int
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, _ textproto.MIMEHeader) error {
		interim = append(interim, code)
		return nil
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), trace), http.MethodGet, "http://"+addr+"/page", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", appOrigin)
	resp, body := do(t, req)
	if !slices.Contains(interim, http.StatusEarlyHints) {
		t.Fatalf("client saw interim responses %v, want a 103 relayed from the upstream", interim)
	}
	assertStatus(t, resp, body, http.StatusOK)
	assertHeader(t, resp.Header, "Access-Control-Allow-Origin", appOrigin)
	assertVaryOnce(t, resp.Header, "Accept", "Origin")
}
