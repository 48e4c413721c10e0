package integration

// Browser tests: a real headless Chromium runs fetch() from pages on one
// loopback origin against APIs guarded by the cors module on another, and
// each test asserts what the page's script observed (a readable response, a
// readable status or header, or a rejected promise) together with what Caddy
// saw (its access log, and the module's own log lines).
//
// They share one Chromium and one Caddy config (ports 9200-9299) so that the
// whole set stays well under two minutes. Run only these with:
//
//	flock /tmp/caddytest.lock go test ./integration/ -run Browser -count=1 -v
//
// Chromium is found at $CHROMIUM, or as chromium, chromium-browser or
// google-chrome on $PATH (Debian: apt-get install -y chromium). Without it
// the tests skip with one line saying so, or fail when CI=true.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"
)

// Origins of the pages the scripts run in. Port 9203 serves any host name:
// Chromium resolves every *.localhost name to loopback, which gives as many
// origins as a test needs.
const (
	pageOrigin      = "http://localhost:9201" // the origin every API trusts
	otherPageOrigin = "http://localhost:9202" // an origin no API trusts
	patternPagePort = "9203"
)

// API origins, one policy each.
const (
	apiMain       = "http://localhost:9210" // methods PUT; headers Content-Type Authorization X-Allowed; expose X-Exposed; basic_auth on /private/*
	apiCreds      = "http://localhost:9211" // credentials; sets a cookie on /login
	apiNoCreds    = "http://localhost:9212" // origin only: no credentials, no expose
	apiPATCH      = "http://localhost:9213" // methods PATCH
	apiPatchLower = "http://localhost:9214" // methods patch
	apiMaxAge     = "http://localhost:9215" // max_age 10m
	apiMaxAgeZero = "http://localhost:9216" // max_age 0
	apiProxy      = "http://localhost:9217" // credentials; reverse_proxy to upstreamLegacy
	upstreamCORS  = "http://localhost:9218" // sets its own Access-Control-Allow-Origin: * (and credentials)
	apiPattern    = "http://localhost:9219" // origin http://*.app.localhost:9203
	apiDeadProxy  = "http://localhost:9220" // reverse_proxy to a closed port
)

// browserCaddyfile is the config behind every scenario except the demo.
// LOGDIR, WWWDIR, HASH and DEAD are substituted by the test.
const browserCaddyfile = "{\n" + globalOptionLines + `	log {
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
	browser context.Context // the Chromium every tab is opened in
	logDir  string          // caddy.log (module lines) and access.log
}

func TestBrowser(t *testing.T) {
	requireIntegration(t)
	start := time.Now()
	env := &browserEnv{browser: startChromium(t), logDir: t.TempDir()}

	www := t.TempDir()
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
	tester := newTester(t)
	tester.InitServer(config, "caddyfile")
	if t.Failed() {
		t.FailNow()
	}

	t.Run("SimpleGET", env.testSimpleGET)
	t.Run("BasicAuthJSONPost", env.testBasicAuthJSONPost)
	t.Run("Credentials", env.testCredentials)
	t.Run("RequestHeaders", env.testRequestHeaders)
	t.Run("ExposeHeaders", env.testExposeHeaders)
	t.Run("MethodCase", env.testMethodCase)
	t.Run("MaxAge", env.testMaxAge)
	t.Run("ProxyUpstreamWildcard", env.testProxyUpstreamWildcard)
	t.Run("SubdomainPattern", env.testSubdomainPattern)
	t.Run("ErrorStatusReadable", env.testErrorStatusReadable)
	t.Run("RefusedHeaderNamedByConsole", env.testRefusedPreflight(refusedHeaderNamedByConsole))
	t.Run("RefusedMethodNamedByConsole", env.testRefusedPreflight(refusedMethodNamedByConsole))
	// Last: it loads another config (Caddyfile.example).
	t.Run("Demo", func(t *testing.T) { testDemo(t, env.browser) })

	t.Logf("browser tests took %s", time.Since(start).Round(time.Millisecond))
}

// chromiumPath finds Chromium: $CHROMIUM, then the usual names on $PATH.
func chromiumPath() (string, error) {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return exec.LookPath(p)
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no chromium, chromium-browser or google-chrome on $PATH and $CHROMIUM unset")
}

// startChromium starts one headless Chromium for the whole test, with a
// fresh profile, and returns its context. Without Chromium the test skips,
// or fails when CI=true.
func startChromium(t *testing.T) context.Context {
	t.Helper()
	path, err := chromiumPath()
	if err != nil {
		msg := "browser tests need Chromium (Debian: apt-get install -y chromium, or set CHROMIUM=/path/to/chrome): " + err.Error()
		if ciStrict() {
			t.Fatal(msg + "; CI=true, so this is a failure")
		}
		t.Skip(msg)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1100, 900),
	)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	// Start it now, so that a browser that cannot start fails here, once.
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return browserCtx
}

// tab is one browser tab showing a page of some origin, with the messages
// the browser wrote to its console (where Chromium explains CORS failures).
type tab struct {
	t   *testing.T
	ctx context.Context

	mu      sync.Mutex
	console []string
}

// openTab opens pageURL in a new tab that closes at the end of t.
func openTab(t *testing.T, browser context.Context, pageURL string) *tab {
	t.Helper()
	timeoutCtx, cancelTimeout := context.WithTimeout(browser, 60*time.Second)
	ctx, cancel := chromedp.NewContext(timeoutCtx)
	t.Cleanup(func() {
		cancel()
		cancelTimeout()
	})
	tb := &tab{t: t, ctx: ctx}
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*log.EventEntryAdded); ok && e.Entry != nil {
			tb.mu.Lock()
			tb.console = append(tb.console, e.Entry.Text)
			tb.mu.Unlock()
		}
	}); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(pageURL)); err != nil {
		t.Fatalf("navigating to %s: %v", pageURL, err)
	}
	return tb
}

// probe runs the page's probe(url, init) and returns what the script saw.
func (tb *tab) probe(url string, init map[string]any) fetchResult {
	tb.t.Helper()
	if init == nil {
		init = map[string]any{}
	}
	expr := fmt.Sprintf("probe(%s, %s)", mustJSON(tb.t, url), mustJSON(tb.t, init))
	res, err := chromedp.Run(tb.ctx, chromedp.Evaluate[fetchResult](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("running %s: %v", expr, err)
	}
	tb.t.Logf("fetch(%s, %s) -> %s", url, mustJSON(tb.t, init), res)
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
func (tb *tab) wantReadable(r fetchResult, want int) {
	tb.t.Helper()
	if r.Outcome != "resolved" || r.Status != want {
		tb.t.Errorf("script saw %s; want a readable response with status %d", r, want)
	}
}

// wantBlocked fails unless the fetch promise rejected and Chromium's console
// blames CORS for url (so a refused connection cannot pass for a CORS block).
func (tb *tab) wantBlocked(r fetchResult, url string) {
	tb.t.Helper()
	if r.Outcome != "rejected" {
		tb.t.Errorf("script saw %s; want the fetch promise to reject (blocked by CORS)", r)
		return
	}
	tb.wantConsole(url, "CORS policy")
}

// wantConsole fails unless, within 3 s, a console message about url
// contains text, and returns that message ("" when none).
func (tb *tab) wantConsole(url, text string) string {
	tb.t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		tb.mu.Lock()
		for _, m := range tb.console {
			if strings.Contains(m, text) && strings.Contains(m, url) {
				tb.mu.Unlock()
				tb.t.Logf("console: %s", m)
				return m
			}
		}
		seen := append([]string(nil), tb.console...)
		tb.mu.Unlock()
		if time.Now().After(deadline) {
			tb.t.Errorf("the console has no message about %s with %q; console: %q", url, text, seen)
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
