package integration

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// appOrigin is the allowed origin used throughout; a browser sends it byte
// for byte and must get it back byte for byte.
const appOrigin = "https://app.example"

// evilOrigin is never allowed by any policy in this package.
const evilOrigin = "https://evil.example"

// TestCORSInFrontOfBasicAuth proves that cors, ordered before basic_auth
// without any `order` line, answers preflights itself (a browser never sends
// credentials on a preflight, so a 401 there would break every authenticated
// API), and that the 401 basic_auth returns still carries the CORS headers
// (otherwise a script cannot even read that it must log in).
func TestCORSInFrontOfBasicAuth(t *testing.T) {
	requireIntegration(t)
	basicAuthAddr := freeAddr(t)
	// The lowest cost keeps each password check well under a millisecond.
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	loadCaddyfile(t, fmt.Sprintf(`
http://`+basicAuthAddr+` {
	cors %s {
		methods PUT
		headers Authorization Content-Type
		credentials
	}
	basic_auth {
		alice %s
	}
	respond "secret" 200
}
`, appOrigin, hash))
	url := "http://" + basicAuthAddr + "/api"

	t.Run("preflight from an allowed origin is answered 204 by cors, not 401", func(t *testing.T) {
		resp, body := sendPreflight(t, url, appOrigin, "POST", "authorization,content-type")
		assertStatus(t, resp, body, http.StatusNoContent)
		assertHeader(t, resp.Header, "Access-Control-Allow-Origin", appOrigin)
		assertHeader(t, resp.Header, "Access-Control-Allow-Credentials", "true")
		assertListHas(t, resp.Header, "Access-Control-Allow-Headers", "authorization", "content-type")
		assertVaryOnce(t, resp.Header, "Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers")
		assertNoHeader(t, resp.Header, "WWW-Authenticate")
	})

	t.Run("preflight with mixed-case header names is answered with the lower-cased names", func(t *testing.T) {
		resp, body := sendPreflight(t, url, appOrigin, "PUT", "Content-Type, AUTHORIZATION")
		assertStatus(t, resp, body, http.StatusNoContent)
		assertHeader(t, resp.Header, "Access-Control-Allow-Origin", appOrigin)
		assertListHas(t, resp.Header, "Access-Control-Allow-Methods", "PUT")
		assertListHas(t, resp.Header, "Access-Control-Allow-Headers", "authorization", "content-type")
	})

	t.Run("preflight from a disallowed origin is refused by cors with 403, not 401", func(t *testing.T) {
		resp, body := sendPreflight(t, url, evilOrigin, "POST", "authorization")
		assertStatus(t, resp, body, http.StatusForbidden)
		assertNoCORSHeaders(t, resp.Header)
		assertVaryOnce(t, resp.Header, "Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers")
		assertNoHeader(t, resp.Header, "WWW-Authenticate")
		// The one-line explanation is for whoever reads DevTools or curl.
		assertHeader(t, resp.Header, "Content-Type", "text/plain; charset=utf-8")
		assertHeader(t, resp.Header, "X-Content-Type-Options", "nosniff")
		if !strings.HasPrefix(body, "CORS preflight rejected: ") || strings.Count(strings.TrimSpace(body), "\n") != 0 {
			t.Errorf("body = %q, want one line starting with %q", body, "CORS preflight rejected: ")
		}
	})

	goodAuth := http.Header{"Authorization": {basicAuth("alice", "s3cret")}}
	badAuth := http.Header{"Authorization": {basicAuth("alice", "wrong")}}
	actual := []struct {
		name       string
		origin     string
		header     http.Header
		wantStatus int
		wantCORS   bool
	}{
		{"request without credentials gets 401 that the page can read", appOrigin, nil, http.StatusUnauthorized, true},
		{"request with a wrong password gets 401 that the page can read", appOrigin, badAuth, http.StatusUnauthorized, true},
		{"request with good credentials gets 200 with CORS headers", appOrigin, goodAuth, http.StatusOK, true},
		{"request from a disallowed origin gets 401 without any CORS header", evilOrigin, nil, http.StatusUnauthorized, false},
		{"request from a disallowed origin with good credentials still passes auth (CORS is not access control)", evilOrigin, goodAuth, http.StatusOK, false},
	}
	for _, tc := range actual {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := sendRequest(t, http.MethodPost, url, tc.origin, tc.header, `{"a":1}`)
			assertStatus(t, resp, body, tc.wantStatus)
			if tc.wantCORS {
				assertHeader(t, resp.Header, "Access-Control-Allow-Origin", tc.origin)
				assertHeader(t, resp.Header, "Access-Control-Allow-Credentials", "true")
			} else {
				assertNoCORSHeaders(t, resp.Header)
			}
			assertVaryOnce(t, resp.Header, "Origin")
			if tc.wantStatus == http.StatusUnauthorized {
				// basic_auth's challenge must survive next to the CORS headers.
				if got := resp.Header.Get("WWW-Authenticate"); got == "" {
					t.Error("401 lacks WWW-Authenticate")
				}
			} else if body != "secret" {
				t.Errorf("body = %q, want %q", body, "secret")
			}
		})
	}
}

// TestCORSInFrontOfForwardAuth proves the same in front of forward_auth,
// whose refusal travels through reverse_proxy's copy-with-Add path: the
// auth server here refuses everything and even sends its own
// Access-Control-Allow-Origin: *, which must not reach the browser next to
// the module's value.
func TestCORSInFrontOfForwardAuth(t *testing.T) {
	requireIntegration(t)
	forwardAuthAddr := freeAddr(t)
	var authHits atomic.Int32
	authAddr := startUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		authHits.Add(1)
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("WWW-Authenticate", `Bearer realm="test"`)
		http.Error(w, "no entry", http.StatusUnauthorized)
	}))
	loadCaddyfile(t, fmt.Sprintf(`
http://`+forwardAuthAddr+` {
	cors %s {
		headers Authorization
		credentials
	}
	forward_auth %s {
		uri /check
	}
	respond "secret" 200
}
`, appOrigin, authAddr))
	url := "http://" + forwardAuthAddr + "/api"

	t.Run("preflight is answered 204 by cors and never reaches the auth server", func(t *testing.T) {
		before := authHits.Load()
		resp, body := sendPreflight(t, url, appOrigin, "POST", "authorization")
		assertStatus(t, resp, body, http.StatusNoContent)
		assertHeader(t, resp.Header, "Access-Control-Allow-Origin", appOrigin)
		assertHeader(t, resp.Header, "Access-Control-Allow-Credentials", "true")
		assertListHas(t, resp.Header, "Access-Control-Allow-Headers", "authorization")
		assertVaryOnce(t, resp.Header, "Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers")
		if n := authHits.Load() - before; n != 0 {
			t.Errorf("auth server saw %d requests for a preflight, want 0", n)
		}
	})

	t.Run("refused request gets the auth server's 401 with exactly the module's CORS headers", func(t *testing.T) {
		before := authHits.Load()
		resp, body := sendRequest(t, http.MethodGet, url, appOrigin, nil, "")
		assertStatus(t, resp, body, http.StatusUnauthorized)
		assertHeader(t, resp.Header, "Access-Control-Allow-Origin", appOrigin)
		assertHeader(t, resp.Header, "Access-Control-Allow-Credentials", "true")
		assertHeader(t, resp.Header, "WWW-Authenticate", `Bearer realm="test"`)
		assertVaryOnce(t, resp.Header, "Origin")
		if n := authHits.Load() - before; n != 1 {
			t.Errorf("auth server saw %d requests, want 1", n)
		}
	})

	t.Run("refused request from a disallowed origin carries none of the auth server's CORS headers", func(t *testing.T) {
		resp, body := sendRequest(t, http.MethodGet, url, evilOrigin, nil, "")
		assertStatus(t, resp, body, http.StatusUnauthorized)
		assertNoCORSHeaders(t, resp.Header)
		assertVaryOnce(t, resp.Header, "Origin")
	})
}

// basicAuth returns the Authorization value for HTTP Basic credentials.
func basicAuth(user, password string) string {
	req, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
	req.SetBasicAuth(user, password)
	return req.Header.Get("Authorization")
}
