package integration

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A simple GET from an allowed origin is readable; from a disallowed origin
// the promise rejects, although the request reached the API and got a 200
// (CORS protects reads; it is not access control).
func (env *browserEnv) testSimpleGET(t *testing.T) {
	url := apiMain + "/simple"

	allowed := openTab(t, env.browser, pageOrigin+"/probe.html")
	r := allowed.probe(url, nil)
	allowed.wantReadable(r, 200)
	if r.Body != "hello /simple" {
		t.Errorf("body = %q, want %q", r.Body, "hello /simple")
	}

	other := openTab(t, env.browser, otherPageOrigin+"/probe.html")
	other.wantBlocked(other.probe(url, nil), url)

	entries := env.settle(t, hostOf(apiMain), "/simple", has("GET", 2))
	wantAccess(t, entries, "GET", 200, 2)
	wantAccess(t, entries, "OPTIONS", 0, 0) // a simple request needs no preflight
	for _, e := range entries {
		if o := e.Request.Headers.Get("Origin"); o != pageOrigin && o != otherPageOrigin {
			t.Errorf("request with Origin %q, want one of the two pages", o)
		}
	}
}

// A JSON POST with Authorization to a route behind basic_auth: the
// preflight passes (the module answers it before basic_auth, which would
// refuse it for lack of a password); with the right password the body is
// readable, with a wrong one the script reads 401, not a CORS error.
func (env *browserEnv) testBasicAuthJSONPost(t *testing.T) {
	tb := openTab(t, env.browser, pageOrigin+"/probe.html")
	post := func(password string) map[string]any {
		return map[string]any{
			"method": "POST",
			"headers": map[string]string{
				"Content-Type":  "application/json",
				"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:"+password)),
			},
			"body": `{"n":1}`,
		}
	}

	good := tb.probe(apiMain+"/private/good", post("alice-password"))
	tb.wantReadable(good, 200)
	if want := `secret for alice: {"n":1}`; good.Body != want {
		t.Errorf("body = %q, want %q", good.Body, want)
	}

	bad := tb.probe(apiMain+"/private/bad", post("wrong"))
	tb.wantReadable(bad, 401)

	for _, path := range []string{"/private/good", "/private/bad"} {
		entries := env.settle(t, hostOf(apiMain), path, has("POST", 1))
		wantAccess(t, entries, "OPTIONS", 204, 1)
		for _, e := range entries {
			if e.Request.Method == "OPTIONS" {
				if got := e.Request.Headers.Get("Access-Control-Request-Headers"); got != "authorization,content-type" {
					t.Errorf("preflight for %s asked for headers %q, want %q", path, got, "authorization,content-type")
				}
			}
		}
	}
	wantAccess(t, env.accessLog(t, hostOf(apiMain), "/private/good", has("POST", 1)), "POST", 200, 1)
	wantAccess(t, env.accessLog(t, hostOf(apiMain), "/private/bad", has("POST", 1)), "POST", 401, 1)
}

// credentials: 'include' with a cookie the API set: works with
// `credentials` in the policy (the cookie is stored and sent back), and is
// rejected by an API whose policy lacks it, although the browser sent the
// cookie and the API answered.
func (env *browserEnv) testCredentials(t *testing.T) {
	tb := openTab(t, env.browser, pageOrigin+"/probe.html")
	include := map[string]any{"credentials": "include"}

	login := tb.probe(apiCreds+"/login", map[string]any{"method": "POST", "credentials": "include"})
	tb.wantReadable(login, 200)
	who := tb.probe(apiCreds+"/whoami", include)
	tb.wantReadable(who, 200)
	if who.Body != "cookie=cookie-value" {
		t.Errorf("API with credentials answered %q, want %q: the cookie was not stored or not sent", who.Body, "cookie=cookie-value")
	}

	// Same cookie (cookies are per host, not per port), policy without credentials.
	url := apiNoCreds + "/whoami"
	tb.wantBlocked(tb.probe(url, include), url)
	// Control: the same API is readable without credentials.
	tb.wantReadable(tb.probe(apiNoCreds+"/anonymous", nil), 200)

	entries := env.settle(t, hostOf(apiNoCreds), "/whoami", has("GET", 1))
	wantAccess(t, entries, "GET", 200, 1)
	for _, e := range entries {
		if e.Request.Headers.Get("Cookie") == "" {
			t.Errorf("the credentialed request to %s carried no cookie: %v", url, e)
		}
	}
}

// A custom request header the policy allows works; one it does not allow
// makes the promise reject, the real request is never sent, and Caddy's log
// holds the rejection with the header's name.
func (env *browserEnv) testRequestHeaders(t *testing.T) {
	tb := openTab(t, env.browser, pageOrigin+"/probe.html")

	ok := tb.probe(apiMain+"/headers-ok", map[string]any{"headers": map[string]string{"X-Allowed": "1"}})
	tb.wantReadable(ok, 200)

	url := apiMain + "/headers-bad"
	tb.wantBlocked(tb.probe(url, map[string]any{"headers": map[string]string{"X-Forbidden": "1"}}), url)

	wantAccess(t, env.settle(t, hostOf(apiMain), "/headers-ok", has("GET", 1)), "OPTIONS", 204, 1)
	bad := env.settle(t, hostOf(apiMain), "/headers-bad", has("OPTIONS", 1))
	wantAccess(t, bad, "OPTIONS", 200, 1) // 200 without the header, so that the console names it
	wantAccess(t, bad, "GET", 0, 0)

	line := env.waitModuleLog(t, func(line string) bool {
		return strings.Contains(line, `"level":"info"`) &&
			strings.Contains(strings.ToLower(line), "x-forbidden") &&
			strings.Contains(line, "/headers-bad")
	})
	if line == "" {
		return
	}
	t.Logf("module log: %s", line)
	var fields map[string]any
	if err := json.Unmarshal([]byte(line), &fields); err != nil {
		t.Fatalf("module log line is not JSON: %v", err)
	}
	for name, want := range map[string]string{"origin": pageOrigin, "path": "/headers-bad", "method": ""} {
		got, ok := fields[name].(string)
		if !ok || (want != "" && got != want) {
			t.Errorf("the rejection log line has %s = %v, want %q: %s", name, fields[name], want, line)
		}
	}
}

// waitModuleLog returns the first line of Caddy's log (not the access log)
// that match accepts, waiting up to 5 s; it fails t and returns "" if none.
func (env *browserEnv) waitModuleLog(t *testing.T, match func(string) bool) string {
	t.Helper()
	path := filepath.Join(env.logDir, "caddy.log")
	deadline := time.Now().Add(5 * time.Second)
	for {
		data, _ := os.ReadFile(path)
		for _, line := range strings.Split(string(data), "\n") {
			if match(line) {
				return line
			}
		}
		if time.Now().After(deadline) {
			t.Errorf("no matching line in Caddy's log %s; it holds:\n%s", path, data)
			return ""
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Access-Control-Expose-Headers: a custom response header is readable by
// script only when the policy exposes it.
func (env *browserEnv) testExposeHeaders(t *testing.T) {
	tb := openTab(t, env.browser, pageOrigin+"/probe.html")

	r := tb.probe(apiMain+"/expose", nil)
	tb.wantReadable(r, 200)
	if got := r.Headers["x-exposed"]; got != "exposed-value" {
		t.Errorf("with `expose X-Exposed`, the script read X-Exposed = %q, want %q (readable: %v)", got, "exposed-value", r.Headers)
	}
	if got, ok := r.Headers["x-hidden"]; ok {
		t.Errorf("the script read X-Hidden = %q, which the policy does not expose", got)
	}

	r = tb.probe(apiNoCreds+"/expose", nil)
	tb.wantReadable(r, 200)
	if got, ok := r.Headers["x-exposed"]; ok {
		t.Errorf("without `expose`, the script read X-Exposed = %q", got)
	}
	wantAccess(t, env.settle(t, hostOf(apiNoCreds), "/expose", has("GET", 1)), "GET", 200, 1)
}

// Method case: fetch(url, {method: 'patch'}) is not normalized by the
// browser, so a policy listing PATCH refuses it and one listing patch
// allows it.
func (env *browserEnv) testMethodCase(t *testing.T) {
	tb := openTab(t, env.browser, pageOrigin+"/probe.html")

	url := apiPATCH + "/lower"
	tb.wantBlocked(tb.probe(url, map[string]any{"method": "patch"}), url)
	tb.wantReadable(tb.probe(apiPATCH+"/upper", map[string]any{"method": "PATCH"}), 200)
	tb.wantReadable(tb.probe(apiPatchLower+"/lower", map[string]any{"method": "patch"}), 200)

	refused := env.settle(t, hostOf(apiPATCH), "/lower", has("OPTIONS", 1))
	wantAccess(t, refused, "OPTIONS", 200, 1) // 200 without the method, so that the console names it
	wantAccess(t, refused, "patch", 0, 0)
	for _, e := range refused {
		if got := e.Request.Headers.Get("Access-Control-Request-Method"); got != "patch" {
			t.Errorf("preflight asked for method %q, want %q", got, "patch")
		}
	}
	wantAccess(t, env.settle(t, hostOf(apiPatchLower), "/lower", has("patch", 1)), "patch", 200, 1)
}

// refusedPreflightScenario is a fetch from the trusted page to apiMain
// whose preflight the module refuses for a method or a header, although it
// allows the origin. The script sees a rejected promise; Caddy answers the
// one preflight with 200, Access-Control-Allow-Origin and only the allowed
// part of what was asked, and never sees the request itself; and the
// console names the method or header that failed instead of blaming
// Access-Control-Allow-Origin, which a 403 without it would make it do.
type refusedPreflightScenario struct {
	path    string         // on apiMain: methods PUT; headers Content-Type Authorization X-Allowed
	init    map[string]any // fetch's second argument
	method  string         // the method of the request the browser must never send
	console string         // what Chromium's console says of the preflight
}

var (
	refusedHeaderNamedByConsole = refusedPreflightScenario{
		path:    "/refused-header",
		init:    map[string]any{"headers": map[string]string{"X-Allowed": "1", "X-Debug": "1"}},
		method:  "GET",
		console: "Request header field x-debug is not allowed by Access-Control-Allow-Headers in preflight response",
	}
	refusedMethodNamedByConsole = refusedPreflightScenario{
		path:    "/refused-method",
		init:    map[string]any{"method": "PURGE"},
		method:  "PURGE",
		console: "Method PURGE is not allowed by Access-Control-Allow-Methods in preflight response",
	}
)

func (env *browserEnv) testRefusedPreflight(s refusedPreflightScenario) func(*testing.T) {
	return func(t *testing.T) {
		tb := openTab(t, env.browser, pageOrigin+"/probe.html")
		url := apiMain + s.path
		tb.wantBlocked(tb.probe(url, s.init), url)
		if m := tb.wantConsole(url, s.console); strings.Contains(m, "Access-Control-Allow-Origin") {
			t.Errorf("the console blames Access-Control-Allow-Origin: %s", m)
		}
		entries := env.settle(t, hostOf(apiMain), s.path, has("OPTIONS", 1))
		wantAccess(t, entries, "OPTIONS", 200, 1)
		wantAccess(t, entries, s.method, 0, 0)
	}
}

// max_age: two identical non-simple requests within the max-age send one
// preflight; with max_age 0, two.
func (env *browserEnv) testMaxAge(t *testing.T) {
	tb := openTab(t, env.browser, pageOrigin+"/probe.html")
	put := map[string]any{"method": "PUT", "headers": map[string]string{"X-Allowed": "1"}, "body": "x"}

	for _, c := range []struct {
		api        string
		preflights int
	}{
		{apiMaxAge, 1},
		{apiMaxAgeZero, 2},
	} {
		for range 2 {
			tb.wantReadable(tb.probe(c.api+"/twice", put), 200)
		}
		entries := env.settle(t, hostOf(c.api), "/twice", has("PUT", 2))
		wantAccess(t, entries, "PUT", 200, 2)
		if got := count(entries, "OPTIONS", 204); got != c.preflights {
			t.Errorf("%s: two identical PUTs sent %d preflights, want %d; entries: %v", c.api, got, c.preflights, entries)
		}
	}
}

// A reverse_proxy upstream that sends its own Access-Control-Allow-Origin: *
// (and credentials): a credentialed request through the module succeeds,
// while the same request straight to the upstream is refused.
func (env *browserEnv) testProxyUpstreamWildcard(t *testing.T) {
	tb := openTab(t, env.browser, pageOrigin+"/probe.html")
	include := map[string]any{"credentials": "include"}

	r := tb.probe(apiProxy+"/through", include)
	tb.wantReadable(r, 200)
	if r.Body != "from the upstream" {
		t.Errorf("body = %q, want the upstream's", r.Body)
	}

	url := upstreamCORS + "/direct"
	tb.wantBlocked(tb.probe(url, include), url)

	// Two lines: the API's, and the upstream's (reverse_proxy keeps the Host).
	wantAccess(t, env.settle(t, hostOf(apiProxy), "/through", has("GET", 2)), "GET", 200, 2)
}

// A subdomain pattern http://*.app.localhost:9203 allows one or more labels
// before app.localhost, and neither the apex nor a look-alike.
func (env *browserEnv) testSubdomainPattern(t *testing.T) {
	for _, c := range []struct {
		host    string
		allowed bool
	}{
		{"a.app.localhost", true},
		{"b.c.app.localhost", true},
		{"app.localhost", false},
		{"evilapp.localhost", false},
	} {
		t.Run(c.host, func(t *testing.T) {
			origin := "http://" + c.host + ":" + patternPagePort
			tb := openTab(t, env.browser, origin+"/probe.html")
			path := "/from-" + c.host
			url := apiPattern + path
			r := tb.probe(url, nil)
			if c.allowed {
				tb.wantReadable(r, 200)
			} else {
				tb.wantBlocked(r, url)
			}
			entries := env.settle(t, hostOf(apiPattern), path, has("GET", 1))
			wantAccess(t, entries, "GET", 200, 1)
			for _, e := range entries {
				if got := e.Request.Headers.Get("Origin"); got != origin {
					t.Errorf("request carried Origin %q, want %q", got, origin)
				}
			}
		})
	}
}

// An error response (502 from a dead upstream) is readable by script as a
// 502, not as a CORS failure.
func (env *browserEnv) testErrorStatusReadable(t *testing.T) {
	tb := openTab(t, env.browser, pageOrigin+"/probe.html")
	r := tb.probe(apiDeadProxy+"/down", nil)
	tb.wantReadable(r, 502)
	wantAccess(t, env.settle(t, hostOf(apiDeadProxy), "/down", has("GET", 1)), "GET", 502, 1)
}
