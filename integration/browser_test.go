package integration

// Browser tests: real browsers (Chromium, Firefox and WebKit) run fetch()
// from pages on one loopback origin against APIs guarded by the cors module
// on another. Each scenario is written once, in browserScenarios, and runs
// in every engine as the subtest TestBrowser/<engine>/<scenario>. It
// asserts what the page's script observed (a readable response, a readable
// status or header, or a rejected promise), what the engine's console said
// (Chromium and Firefox), and what Caddy saw (its access log, and the
// module's own log lines).
//
// The engines share one Caddy config (its ports are chosen when the test
// binary starts: see browserPort); each scenario's
// URLs carry ?engine=<name>&run=<n>, so that the access log tells the engines
// apart, and a second run in the same browsers (-count=2) is not answered
// from their preflight caches.
// Run only these with:
//
//	cd integration && flock /tmp/integration.lock go test -run Browser -count=1 -v .
//
// The engines come from Debian's packages (apt-get install -y
// --no-install-recommends chromium firefox-esr webkit2gtk-driver xvfb).
// A missing engine skips its subtests with one line saying so, or fails
// them when CI=true.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Origins of the pages the scripts run in. Port 9203 serves any host name:
// the three engines resolve every *.localhost name to loopback, which gives
// as many origins as a test needs.
var (
	pageOrigin      = browserOrigin("9201") // the origin every API trusts
	otherPageOrigin = browserOrigin("9202") // an origin no API trusts
	patternPagePort = browserPort("9203")
)

// API origins, one policy each.
var (
	apiMain       = browserOrigin("9210") // methods PUT; headers Content-Type Authorization X-Allowed; expose X-Exposed; basic_auth on /private/*
	apiCreds      = browserOrigin("9211") // credentials; sets a cookie on /login
	apiNoCreds    = browserOrigin("9212") // origin only: no credentials, no expose
	apiPATCH      = browserOrigin("9213") // methods PATCH
	apiPatchLower = browserOrigin("9214") // methods patch
	apiMaxAge     = browserOrigin("9215") // max_age 10m
	apiMaxAgeZero = browserOrigin("9216") // max_age 0
	apiProxy      = browserOrigin("9217") // credentials; reverse_proxy to upstreamLegacy
	upstreamCORS  = browserOrigin("9218") // sets its own Access-Control-Allow-Origin: * (and credentials)
	apiPattern    = browserOrigin("9219") // origin http://*.app.localhost:9203
	apiDeadProxy  = browserOrigin("9220") // reverse_proxy to a closed port
	apiMaxAgeNone = browserOrigin("9221") // methods PUT; headers X-Allowed; no max_age
	apiStar       = browserOrigin("9222") // headers *
)

// Sites without the module, each making one mistake that the engines'
// consoles explain in their own words.
var (
	siteNoCORS     = browserOrigin("9223") // no Access-Control-Allow-Origin at all
	siteTwoOrigins = browserOrigin("9224") // Access-Control-Allow-Origin twice
	siteRedirect   = browserOrigin("9225") // redirects everything, preflights included
	siteAuthFirst  = browserOrigin("9226") // basic_auth before cors: the preflight gets 401
	siteStarOnly   = browserOrigin("9227") // answers every preflight with Access-Control-Allow-Headers: *
	siteNoOptions  = browserOrigin("9228") // answers every preflight with 404
	siteSlashed    = browserOrigin("9229") // Access-Control-Allow-Origin with a trailing slash
)

// refusedPreflightStatus is the status of a preflight from an allowed
// origin whose method or header the policy refuses (SPEC, "Preflight that
// fails"): 200 with partial headers, so that the console names the cause.
const refusedPreflightStatus = http.StatusOK

// browserPorts maps the ports written in browserCaddyfile and in the
// origins above (9201, 9210, ...: names, not ports) to free ports chosen
// once per test binary. The Caddyfile reads as a user would write it, and
// two runs on one machine never share a port.
var browserPorts = struct {
	sync.Mutex
	ports map[string]string
}{ports: map[string]string{}}

// browserPortName is a port as written in browserCaddyfile.
var browserPortName = regexp.MustCompile(`:(92[0-9][0-9])\b`)

// browserPort returns the port of this test binary that stands for name.
func browserPort(name string) string {
	browserPorts.Lock()
	defer browserPorts.Unlock()
	port, ok := browserPorts.ports[name]
	if !ok {
		port = portAtStart()
		browserPorts.ports[name] = port
	}
	return port
}

// browserOrigin is http://localhost:<browserPort(name)>.
func browserOrigin(name string) string {
	return "http://localhost:" + browserPort(name)
}

// browserCaddyfile is the config behind every scenario except the demo.
// LOGDIR, WWWDIR, HASH and DEAD are substituted by the test, and every
// port by browserPort.
var browserCaddyfile = "{\n" + globalOptionLines + `	log {
		output file LOGDIR/caddy.log
		format json
		level INFO
	}
}

(access_log) {
	log {
		output file LOGDIR/access.log
		format json
	}
}

# The pages: probe.html defines probe(url, init), a fetch() that reports
# what the script could see.
http://:9201, http://:9202, http://:9203 {
	import access_log
	root * WWWDIR
	file_server
}

http://localhost:9210 {
	import access_log
	cors http://localhost:9201 {
		methods PUT
		headers Content-Type Authorization X-Allowed
		expose X-Exposed
	}
	basic_auth /private/* {
		alice HASH
	}
	header X-Exposed exposed-value
	header X-Hidden hidden-value
	respond /private/* "secret for {http.auth.user.id}: {http.request.body}"
	respond "hello {http.request.uri}"
}

http://localhost:9211 {
	import access_log
	cors http://localhost:9201 {
		credentials
	}
	header /login Set-Cookie "session=cookie-value; Path=/; SameSite=Lax; HttpOnly"
	respond /login "logged in"
	respond "cookie={http.request.cookie.session}"
}

http://localhost:9212 {
	import access_log
	cors http://localhost:9201
	header X-Exposed exposed-value
	respond "cookie={http.request.cookie.session}"
}

http://localhost:9213 {
	import access_log
	cors http://localhost:9201 {
		methods PATCH
	}
	respond "patched"
}

http://localhost:9214 {
	import access_log
	cors http://localhost:9201 {
		methods patch
	}
	respond "patched"
}

http://localhost:9215 {
	import access_log
	cors http://localhost:9201 {
		methods PUT
		headers X-Allowed
		max_age 10m
	}
	respond "put"
}

http://localhost:9216 {
	import access_log
	cors http://localhost:9201 {
		methods PUT
		headers X-Allowed
		max_age 0
	}
	respond "put"
}

http://localhost:9217 {
	import access_log
	cors http://localhost:9201 {
		credentials
	}
	reverse_proxy 127.0.0.1:9218
}

http://:9218 {
	import access_log
	header Access-Control-Allow-Origin *
	header Access-Control-Allow-Credentials true
	respond "from the upstream"
}

http://localhost:9219 {
	import access_log
	cors http://*.app.localhost:9203
	respond "pattern"
}

http://localhost:9220 {
	import access_log
	cors http://localhost:9201
	reverse_proxy DEAD
}

http://localhost:9221 {
	import access_log
	cors http://localhost:9201 {
		methods PUT
		headers X-Allowed
	}
	respond "put"
}

http://localhost:9222 {
	import access_log
	cors http://localhost:9201 {
		headers *
	}
	respond "star"
}

http://localhost:9223 {
	import access_log
	respond "no cors"
}

http://localhost:9224 {
	import access_log
	header Access-Control-Allow-Origin http://localhost:9201
	header +Access-Control-Allow-Origin *
	respond "two origins"
}

http://localhost:9225 {
	import access_log
	redir * http://localhost:9210{uri} 307
}

http://localhost:9226 {
	import access_log
	route {
		basic_auth {
			alice HASH
		}
		cors http://localhost:9201 {
			headers Authorization X-Allowed
		}
		respond "authenticated"
	}
}

http://localhost:9227 {
	import access_log
	@preflight method OPTIONS
	header Access-Control-Allow-Origin http://localhost:9201
	header @preflight Access-Control-Allow-Headers *
	respond @preflight 204
	respond "star"
}

http://localhost:9228 {
	import access_log
	respond 404
}

http://localhost:9229 {
	import access_log
	header Access-Control-Allow-Origin http://localhost:9201/
	respond "slashed"
}
`

// probePage defines probe(url, init): the page's own fetch(), reporting what
// the script could observe. A rejected promise is reported, not thrown.
const probePage = `<!doctype html>
<meta charset="utf-8">
<title>probe</title>
<script>
window.probe = async function (url, init) {
  try {
    const res = await fetch(url, init);
    const headers = {};
    res.headers.forEach((value, name) => { headers[name] = value; });
    return { outcome: "resolved", status: res.status, body: await res.text(), headers: headers };
  } catch (err) {
    return { outcome: "rejected", error: String(err) };
  }
};
</script>
<p>probe page</p>
`

// fetchResult is what probe() saw.
type fetchResult struct {
	Outcome string            `json:"outcome"` // "resolved" or "rejected"
	Status  int               `json:"status"`
	Body    string            `json:"body"`
	Headers map[string]string `json:"headers"` // the headers the script can read
	Error   string            `json:"error"`
}

func (r fetchResult) String() string {
	if r.Outcome == "rejected" {
		return "rejected: " + r.Error
	}
	return fmt.Sprintf("resolved: status %d, body %q, readable headers %v", r.Status, r.Body, r.Headers)
}

// browserEnv is what every scenario shares.
type browserEnv struct {
	logDir string // caddy.log (module lines) and access.log
	wwwDir string // the pages' files
	run    int    // which run of TestBrowser in this test binary: 1, 2, ...
}

// browserRuns counts the runs of TestBrowser, whose engines outlive it.
var browserRuns atomic.Int32

// browserScenarios is every browser scenario, each run in every engine.
var browserScenarios = []struct {
	name string
	run  func(*browserRun)
}{
	{"SimpleGET", (*browserRun).simpleGET},
	{"BasicAuthJSONPost", (*browserRun).basicAuthJSONPost},
	{"Credentials", (*browserRun).credentials},
	{"RequestHeaders", (*browserRun).requestHeaders},
	{"RefusedHeaderNamed", (*browserRun).refusedHeaderNamed},
	{"RefusedMethodNamed", (*browserRun).refusedMethodNamed},
	{"HeadersStarLeavesOutAuthorization", (*browserRun).headersStarLeavesOutAuthorization},
	{"EngineOnStarForAuthorization", (*browserRun).engineOnStarForAuthorization},
	{"ExposeHeaders", (*browserRun).exposeHeaders},
	{"MethodCase", (*browserRun).methodCase},
	{"MaxAge", (*browserRun).maxAge},
	{"ProxyUpstreamWildcard", (*browserRun).proxyUpstreamWildcard},
	{"SubdomainPattern", (*browserRun).subdomainPattern},
	{"ErrorStatusReadable", (*browserRun).errorStatusReadable},
	{"ConsoleTexts", (*browserRun).consoleTexts},
}

func TestBrowser(t *testing.T) {
	requireIntegration(t)
	env := &browserEnv{logDir: t.TempDir(), wwwDir: t.TempDir(), run: int(browserRuns.Add(1))}
	www := env.wwwDir
	if err := os.WriteFile(filepath.Join(www, "probe.html"), []byte(probePage), 0o644); err != nil {
		t.Fatal(err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte("alice-password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	config := strings.NewReplacer(
		"LOGDIR", env.logDir,
		"WWWDIR", www,
		"HASH", string(hash),
		"DEAD", closedLoopbackAddr(t),
	).Replace(browserCaddyfile)
	config = browserPortName.ReplaceAllStringFunc(config, func(port string) string {
		return ":" + browserPort(port[1:])
	})
	tester := newTester(t)
	tester.InitServer(config, "caddyfile")
	if t.Failed() {
		t.FailNow()
	}

	for _, kind := range engineKinds {
		t.Run(kind.name, func(t *testing.T) {
			engine := useEngine(t, kind)
			start := time.Now()
			for _, scenario := range browserScenarios {
				t.Run(scenario.name, func(t *testing.T) {
					scenario.run(&browserRun{t: t, env: env, kind: kind, engine: engine})
				})
			}
			t.Logf("%s: the %d scenarios took %s", kind.name, len(browserScenarios), time.Since(start).Round(time.Millisecond))
		})
	}
	writeConsoleTexts(t)
}

// browserRun is one scenario running in one engine.
type browserRun struct {
	t      *testing.T
	env    *browserEnv
	kind   engineKind
	engine browserEngine
}

// open loads pageURL in the engine's page.
func (r *browserRun) open(pageURL string) {
	r.t.Helper()
	if err := r.engine.navigate(pageURL); err != nil {
		r.t.Fatalf("%s: navigating to %s: %v", r.kind.name, pageURL, err)
	}
}

// path returns p (a path, or a whole URL) with the engine's name and the
// run as its query, so that each engine's requests have their own lines in
// the access log, and their own entries in the preflight caches.
func (r *browserRun) path(p string) string {
	return p + "?engine=" + r.kind.name + "&run=" + strconv.Itoa(r.env.run)
}

// eval runs expr in the page and decodes its value into out.
func (r *browserRun) eval(expr string, out any) {
	r.t.Helper()
	raw, err := r.engine.evaluate(expr)
	if err != nil {
		r.t.Fatalf("%s: running %s: %v", r.kind.name, expr, err)
	}
	if err := json.Unmarshal([]byte(raw), out); err != nil {
		r.t.Fatalf("%s: %s returned %q: %v", r.kind.name, expr, raw, err)
	}
}

// probe runs the page's probe(url, init) and returns what the script saw.
func (r *browserRun) probe(url string, init map[string]any) fetchResult {
	r.t.Helper()
	if init == nil {
		init = map[string]any{}
	}
	var res fetchResult
	r.eval(fmt.Sprintf("probe(%s, %s)", mustJSON(r.t, url), mustJSON(r.t, init)), &res)
	r.t.Logf("fetch(%s, %s) -> %s", url, mustJSON(r.t, init), res)
	return res
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// wantReadable fails unless the script got a response with status want.
func (r *browserRun) wantReadable(res fetchResult, want int) {
	r.t.Helper()
	if res.Outcome != "resolved" || res.Status != want {
		r.t.Errorf("script saw %s; want a readable response with status %d", res, want)
	}
}

// wantBlocked fails unless the fetch promise rejected and, in an engine
// whose console the test reads, the console blames CORS for url (so that a
// refused connection cannot pass for a CORS block). It returns that line.
func (r *browserRun) wantBlocked(res fetchResult, url string) string {
	r.t.Helper()
	if res.Outcome != "rejected" {
		r.t.Errorf("script saw %s; want the fetch promise to reject (blocked by CORS)", res)
		return ""
	}
	return r.wantConsole(url)
}

// wantConsole waits up to 3 s for a console line that blames CORS for url
// and contains every one of words (case does not matter), and returns it.
// In an engine whose console is not captured it returns "".
func (r *browserRun) wantConsole(url string, words ...string) string {
	r.t.Helper()
	if r.kind.blames == nil {
		return ""
	}
	matches := func(line string) bool {
		if !r.kind.blames(line, url) {
			return false
		}
		for _, w := range words {
			if !strings.Contains(strings.ToLower(line), strings.ToLower(w)) {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		lines := r.engine.console()
		for _, line := range lines {
			if matches(line) {
				r.t.Logf("%s console: %s", r.kind.name, line)
				return line
			}
		}
		if time.Now().After(deadline) {
			r.t.Errorf("%s: no console line blames CORS for %s and names %q; console: %q", r.kind.name, url, words, lines)
			return ""
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// accessEntry is one line of Caddy's JSON access log.
type accessEntry struct {
	Request struct {
		Method  string      `json:"method"`
		Host    string      `json:"host"`
		URI     string      `json:"uri"`
		Headers http.Header `json:"headers"`
	} `json:"request"`
	Status int `json:"status"`
}

func (e accessEntry) String() string {
	return fmt.Sprintf("%s %s%s Origin=%q -> %d", e.Request.Method, e.Request.Host, e.Request.URI, e.Request.Headers.Get("Origin"), e.Status)
}

// accessLog returns the access log lines for host (host:port) and uri,
// waiting until until() holds for them or 5 s pass: Caddy writes an access
// log line just after the response, so it may lag what the browser saw.
func (env *browserEnv) accessLog(t *testing.T, host, uri string, until func([]accessEntry) bool) []accessEntry {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var got []accessEntry
		data, err := os.ReadFile(filepath.Join(env.logDir, "access.log"))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			var e accessEntry
			if line == "" || json.Unmarshal([]byte(line), &e) != nil {
				continue
			}
			if e.Request.Host == host && e.Request.URI == uri {
				got = append(got, e)
			}
		}
		if until(got) || time.Now().After(deadline) {
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// settle waits a little more for late log lines, then returns them.
func (env *browserEnv) settle(t *testing.T, host, uri string, until func([]accessEntry) bool) []accessEntry {
	t.Helper()
	env.accessLog(t, host, uri, until)
	time.Sleep(300 * time.Millisecond)
	return env.accessLog(t, host, uri, func([]accessEntry) bool { return true })
}

// count returns how many entries have the method (and, if status is not 0,
// the status).
func count(entries []accessEntry, method string, status int) int {
	n := 0
	for _, e := range entries {
		if e.Request.Method == method && (status == 0 || e.Status == status) {
			n++
		}
	}
	return n
}

// has returns a condition: at least n entries with method.
func has(method string, n int) func([]accessEntry) bool {
	return func(es []accessEntry) bool { return count(es, method, 0) >= n }
}

// wantAccess fails unless entries hold exactly n lines with method and status.
func wantAccess(t *testing.T, entries []accessEntry, method string, status, n int) {
	t.Helper()
	if got := count(entries, method, status); got != n {
		t.Errorf("Caddy's access log has %d %s requests answered %d, want %d; entries: %v", got, method, status, n, entries)
	}
}

func hostOf(origin string) string {
	return strings.TrimPrefix(origin, "http://")
}
