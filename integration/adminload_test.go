package integration

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
)

// adminLoadAddr is where the JSON configs of this file listen.
var (
	adminLoadAddr = "127.0.0.1:" + portAtStart()
	adminLoadSite = "http://" + adminLoadAddr
)

// jsonConfigWithCORS returns a complete JSON config serving adminLoadSite
// with corsHandler (the "cors" handler object, "handler" key included)
// followed by a static response.
func jsonConfigWithCORS(t *testing.T, corsHandler map[string]any) string {
	t.Helper()
	config := map[string]any{
		"admin": map[string]any{"listen": adminAddr},
		"apps": map[string]any{
			"http": map[string]any{
				"http_port":    portNumber(httpPort),
				"https_port":   portNumber(httpsPort),
				"grace_period": 1,
				"servers": map[string]any{
					"cors_admin_load": map[string]any{
						"listen": []string{adminLoadAddr},
						"routes": []any{
							map[string]any{"handle": []any{
								corsHandler,
								map[string]any{"handler": "static_response", "status_code": 200, "body": "json ok"},
							}},
						},
					},
				},
			},
		},
	}
	raw, err := json.Marshal(config)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// postLoad POSTs a JSON config to the admin API's /load and returns the
// status and the error message (the "error" member of the JSON body, or the
// raw body when it is not JSON). adminRequest sends it again if it met a
// replaced admin listener.
func postLoad(t *testing.T, config string) (int, string) {
	t.Helper()
	resp := adminRequest(t, http.MethodPost, "/load", "application/json", config)
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("POST /load: reading body: %v", err)
	}
	var body struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(raw, &body) == nil && body.Error != "" {
		return resp.StatusCode, body.Error
	}
	return resp.StatusCode, string(raw)
}

// adminRequest sends a request to the admin API. Every POST /load, even a
// refused one, makes Caddy start a new admin listener on the same address
// and shut the previous one down in the background (replaceLocalAdminServer
// in Caddy's admin.go); the kernel may have queued the next connection on
// the old listener, which then resets it, or the old server may close it
// before reading the request. Such a connection got no answer and its
// request was not handled, so it is sent again, on a new connection, a few
// times at most: the requests sent here (a config load, a scrape) do the
// same thing twice.
func adminRequest(t *testing.T, method, path, contentType, body string) *http.Response {
	t.Helper()
	const attempts = 5
	for attempt := 1; ; attempt++ {
		req, err := http.NewRequest(method, adminURL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := newClient().Do(req)
		if err == nil {
			return resp
		}
		if attempt == attempts || !(errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF)) {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		t.Logf("%s %s: %v, the connection of a replaced admin listener: sending it again", method, path, err)
	}
}

// TestAdminLoadValidatesPolicy proves that the JSON field names of the SPEC
// work through the admin API, that POST /load refuses an invalid policy with
// a message naming the offending value (nothing invalid is silently ignored),
// and that Caddy keeps serving the previous policy after a refused load.
func TestAdminLoadValidatesPolicy(t *testing.T) {
	requireIntegration(t)
	loadJSON(t, jsonConfigWithCORS(t, map[string]any{
		"handler":           "cors",
		"allowed_origins":   []string{appOrigin},
		"allowed_methods":   []string{"PUT"},
		"allowed_headers":   []string{"Content-Type"},
		"exposed_headers":   []string{"X-Mine"},
		"allow_credentials": true,
		"max_age":           "10m",
	}))

	// assertOldPolicyServes checks the policy loaded above answers both kinds
	// of CORS request.
	assertOldPolicyServes := func(t *testing.T) {
		t.Helper()
		resp, body := sendPreflight(t, adminLoadSite+"/x", appOrigin, "PUT", "content-type")
		assertStatus(t, resp, body, http.StatusNoContent)
		assertHeader(t, resp.Header, "Access-Control-Allow-Origin", appOrigin)
		assertHeader(t, resp.Header, "Access-Control-Allow-Credentials", "true")
		assertHeader(t, resp.Header, "Access-Control-Max-Age", "600")
		assertListHas(t, resp.Header, "Access-Control-Allow-Methods", "PUT")
		assertListHas(t, resp.Header, "Access-Control-Allow-Headers", "content-type")

		resp, body = sendRequest(t, http.MethodGet, adminLoadSite+"/x", appOrigin, nil, "")
		assertStatus(t, resp, body, http.StatusOK)
		assertHeader(t, resp.Header, "Access-Control-Allow-Origin", appOrigin)
		if got := resp.Header.Values("Access-Control-Expose-Headers"); len(got) != 1 || !strings.EqualFold(got[0], "X-Mine") {
			t.Errorf("Access-Control-Expose-Headers field lines = %q, want exactly [X-Mine]", got)
		}
	}
	t.Run("policy loaded from JSON with the SPEC's field names is served", assertOldPolicyServes)

	origin := []string{appOrigin}
	refused := []struct {
		name string
		// fields are the cors handler's members besides "handler".
		fields map[string]any
		// mention are substrings (compared case-insensitively) the error
		// message must contain: the offending value, and the fix where the
		// SPEC promises one. "a|b" accepts either spelling.
		mention []string
	}{
		{
			name:    "any origin together with credentials is refused",
			fields:  map[string]any{"allowed_origins": []string{"*"}, "allow_credentials": true},
			mention: []string{"*", "credentials"},
		},
		{
			name:    "max_age 600 (nanoseconds in JSON) is refused, suggesting \"600s\"",
			fields:  map[string]any{"allowed_origins": origin, "max_age": 600},
			mention: []string{"600s"},
		},
		{
			name:    "max_age above 24h is refused",
			fields:  map[string]any{"allowed_origins": origin, "max_age": "48h"},
			mention: []string{"48h|172800"},
		},
		{
			name:    "origin with a trailing slash is refused",
			fields:  map[string]any{"allowed_origins": []string{"https://app.example/"}},
			mention: []string{"https://app.example/"},
		},
		{
			name:    "origin pattern over a public suffix is refused",
			fields:  map[string]any{"allowed_origins": []string{"https://*.com"}},
			mention: []string{"https://*.com"},
		},
		{
			name:    "null origin is refused",
			fields:  map[string]any{"allowed_origins": []string{"null"}},
			mention: []string{"null"},
		},
		{
			name:    "forbidden method TRACE is refused",
			fields:  map[string]any{"allowed_origins": origin, "allowed_methods": []string{"TRACE"}},
			mention: []string{"TRACE"},
		},
		{
			name:    "forbidden request header Cookie is refused",
			fields:  map[string]any{"allowed_origins": origin, "allowed_headers": []string{"Cookie"}},
			mention: []string{"cookie"},
		},
		{
			name:    "exposing * together with credentials is refused",
			fields:  map[string]any{"allowed_origins": origin, "exposed_headers": []string{"*"}, "allow_credentials": true},
			mention: []string{"*", "credentials"},
		},
		{
			name:    "preflight_status outside 200-299 is refused",
			fields:  map[string]any{"allowed_origins": origin, "preflight_status": 302},
			mention: []string{"302"},
		},
		{
			name:    "origin regexp that does not compile is refused",
			fields:  map[string]any{"allowed_origin_regexps": []string{`^https://(a`}},
			mention: []string{`^https://(a`},
		},
		{
			name:    "origin regexp over any host together with credentials is refused",
			fields:  map[string]any{"allowed_origin_regexps": []string{`https://.*`}, "allow_credentials": true},
			mention: []string{`https://.*`, "credentials", "https://*.example.com"},
		},
		{
			name:    "origin regexp that escapes the anchors is refused",
			fields:  map[string]any{"allowed_origin_regexps": []string{`https://app\.example\.com)|(x`}},
			mention: []string{"does not compile"},
		},
		{
			name:    "exposing a CORS header is refused",
			fields:  map[string]any{"allowed_origins": origin, "exposed_headers": []string{"Access-Control-Allow-Methods"}},
			mention: []string{"Access-Control-Allow-Methods"},
		},
		{
			// Nanoseconds; /load reads numbers as float64, so the value is one
			// a float64 holds exactly, near the largest duration.
			name:    "a max_age of 285 years is refused as above 24h",
			fields:  map[string]any{"allowed_origins": origin, "max_age": int64(9_000_000_000_000_000_000)},
			mention: []string{"more than 24h"},
		},
		{
			name:    "no origin at all is refused (deny by default), showing origins * for a public API",
			fields:  map[string]any{},
			mention: []string{"origins *"},
		},
		{
			name:    "unknown field is refused by strict decoding",
			fields:  map[string]any{"allowed_origins": origin, "allowed_origin": origin},
			mention: []string{"allowed_origin"},
		},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			handler := map[string]any{"handler": "cors"}
			for k, v := range tc.fields {
				handler[k] = v
			}
			status, msg := postLoad(t, jsonConfigWithCORS(t, handler))
			if status == http.StatusOK {
				t.Fatalf("POST /load accepted an invalid policy %v", tc.fields)
			}
			t.Logf("refused with %d: %s", status, msg)
			for _, m := range tc.mention {
				if !containsAnyFold(msg, strings.Split(m, "|")) {
					t.Errorf("load error does not mention %q: %s", m, msg)
				}
			}
			// The refused config must not have replaced the running one.
			assertOldPolicyServes(t)
		})
	}

	t.Run("trailing-dot origins match byte for byte and patterns stay within their registrable domain", func(t *testing.T) {
		status, msg := postLoad(t, jsonConfigWithCORS(t, map[string]any{
			"handler":           "cors",
			"allowed_origins":   []string{"https://localhost.", "https://*.amazonaws.com"},
			"allow_credentials": true,
		}))
		if status != http.StatusOK {
			t.Fatalf("POST /load = %d: %s", status, msg)
		}
		for _, allowed := range []string{"https://localhost.", "https://console.amazonaws.com"} {
			resp, body := sendRequest(t, http.MethodGet, adminLoadSite+"/x", allowed, nil, "")
			assertStatus(t, resp, body, http.StatusOK)
			assertHeader(t, resp.Header, "Access-Control-Allow-Origin", allowed)
		}
		for _, refused := range []string{"https://localhost", "https://attacker-bucket.s3.amazonaws.com"} {
			resp, body := sendRequest(t, http.MethodGet, adminLoadSite+"/x", refused, nil, "")
			assertStatus(t, resp, body, http.StatusOK)
			assertNoCORSHeaders(t, resp.Header)
		}
	})

	t.Run("a valid load replaces the policy", func(t *testing.T) {
		const newOrigin = "https://other.example"
		status, msg := postLoad(t, jsonConfigWithCORS(t, map[string]any{
			"handler":         "cors",
			"allowed_origins": []string{newOrigin},
		}))
		if status != http.StatusOK {
			t.Fatalf("POST /load = %d: %s", status, msg)
		}
		resp, body := sendRequest(t, http.MethodGet, adminLoadSite+"/x", newOrigin, nil, "")
		assertStatus(t, resp, body, http.StatusOK)
		assertHeader(t, resp.Header, "Access-Control-Allow-Origin", newOrigin)
		resp, body = sendRequest(t, http.MethodGet, adminLoadSite+"/x", appOrigin, nil, "")
		assertStatus(t, resp, body, http.StatusOK)
		assertNoCORSHeaders(t, resp.Header)
	})
}

// containsAnyFold reports whether s contains any of subs, ignoring case.
func containsAnyFold(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(strings.ToLower(s), strings.ToLower(sub)) {
			return true
		}
	}
	return false
}
