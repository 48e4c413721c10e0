package integration

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestErrorResponsesCarryCORSHeaders proves that responses Caddy produces
// on its error path (a handler returned an error: unreachable upstream, the
// error directive, request_body's size limit) carry the CORS headers. Caddy
// writes those responses on the server's own writer, past every middleware
// wrapper, so only headers set before the next handler runs survive; without
// them a page sees an opaque network error instead of a 502 it could handle.
func TestErrorResponsesCarryCORSHeaders(t *testing.T) {
	requireIntegration(t)
	addr := freeAddr(t)
	closed := closedLoopbackAddr(t)
	loadCaddyfile(t, fmt.Sprintf(`
http://`+addr+` {
	cors %s {
		credentials
	}
	handle /forbidden {
		error "nope" 403
	}
	handle /upload {
		request_body {
			max_size 10
		}
		respond "stored" 201
	}
	handle {
		reverse_proxy %s
	}
}
`, appOrigin, closed))

	cases := []struct {
		name       string
		method     string
		path       string
		body       string
		wantStatus int
	}{
		{"unreachable upstream gives 502 with CORS headers", http.MethodGet, "/api", "", http.StatusBadGateway},
		{"error directive gives 403 with CORS headers", http.MethodGet, "/forbidden", "", http.StatusForbidden},
		{"body over request_body max_size gives 413 with CORS headers", http.MethodPost, "/upload", strings.Repeat("x", 100), http.StatusRequestEntityTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := sendRequest(t, tc.method, "http://"+addr+tc.path, appOrigin, nil, tc.body)
			assertStatus(t, resp, body, tc.wantStatus)
			assertHeader(t, resp.Header, "Access-Control-Allow-Origin", appOrigin)
			assertHeader(t, resp.Header, "Access-Control-Allow-Credentials", "true")
			assertVaryOnce(t, resp.Header, "Origin")
		})
	}

	t.Run("unreachable upstream gives a disallowed origin 502 without CORS headers", func(t *testing.T) {
		resp, body := sendRequest(t, http.MethodGet, "http://"+addr+"/api", evilOrigin, nil, "")
		assertStatus(t, resp, body, http.StatusBadGateway)
		assertNoCORSHeaders(t, resp.Header)
		assertVaryOnce(t, resp.Header, "Origin")
	})
}

// TestHandleErrorsResponsesCarryCORSHeaders proves that a response written
// by a handle_errors route (which runs outside the route that holds cors)
// keeps the CORS headers cors set for the failed request.
func TestHandleErrorsResponsesCarryCORSHeaders(t *testing.T) {
	requireIntegration(t)
	addr := freeAddr(t)
	closed := closedLoopbackAddr(t)
	loadCaddyfile(t, fmt.Sprintf(`
http://`+addr+` {
	cors %s {
		credentials
	}
	handle /forbidden {
		error "nope" 403
	}
	handle {
		reverse_proxy %s
	}
	handle_errors {
		respond "oops {err.status_code}" {err.status_code}
	}
}
`, appOrigin, closed))

	cases := []struct {
		name       string
		path       string
		wantStatus int
	}{
		{"handle_errors response to an unreachable upstream carries CORS headers", "/api", http.StatusBadGateway},
		{"handle_errors response to the error directive carries CORS headers", "/forbidden", http.StatusForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := sendRequest(t, http.MethodGet, "http://"+addr+tc.path, appOrigin, nil, "")
			assertStatus(t, resp, body, tc.wantStatus)
			// The body proves the handle_errors route wrote this response.
			if want := fmt.Sprintf("oops %d", tc.wantStatus); body != want {
				t.Errorf("body = %q, want %q", body, want)
			}
			assertHeader(t, resp.Header, "Access-Control-Allow-Origin", appOrigin)
			assertHeader(t, resp.Header, "Access-Control-Allow-Credentials", "true")
			assertVaryOnce(t, resp.Header, "Origin")
		})
	}

	t.Run("handle_errors response to a disallowed origin carries no CORS headers", func(t *testing.T) {
		resp, body := sendRequest(t, http.MethodGet, "http://"+addr+"/api", evilOrigin, nil, "")
		assertStatus(t, resp, body, http.StatusBadGateway)
		assertNoCORSHeaders(t, resp.Header)
		assertVaryOnce(t, resp.Header, "Origin")
	})
}
