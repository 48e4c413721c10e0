package integration

// Local Network Access: since Chrome 142 a page that Chromium counts as
// public may fetch a loopback or private address only with the user's
// permission, and a denial reads in the console as a CORS error that no
// response header can fix. The test serves a page on 127.0.0.1, makes the
// engines count it as public, and fetches a loopback API whose cors policy
// allows the page, with the permission granted and denied, and records what
// each engine does and says.

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// lnaCase is one fetch of TestBrowserLocalNetworkAccess.
type lnaCase struct {
	engine string
	page   string // "public" (the engine is told so) or "loopback"
	target string // the API's address space: "loopback", or "local" (the engine is told so)
	// permission is the state of the target's permission (loopback-network
	// or local-network) for the page's origin; "none": not set.
	permission string
	// What the engine does: whether the script reads the answer, whether
	// the request reaches the API, and the console line it writes about the
	// URL ("" for none).
	readable, reached bool
	console           string
}

// lnaDenied is Chromium's console text for a denied Local Network Access
// request to the target's address space.
func lnaDenied(space string) string {
	return "Access to fetch at '<url>' from origin '<page origin>' has been blocked by CORS policy: Permission was denied for this request to access the `" + space + "` address space."
}

// firefoxFailed is all Firefox says about a request it did not send.
const firefoxFailed = "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at <url>. (Reason: CORS request did not succeed). Status code: (null)."

var lnaCases = []lnaCase{
	{"chromium", "public", "loopback", "granted", true, true, ""},
	{"chromium", "public", "loopback", "denied", false, false, lnaDenied("loopback")},
	{"chromium", "public", "local", "denied", false, false, lnaDenied("local")},
	{"chromium", "loopback", "loopback", "denied", true, true, ""},
	// Firefox checks the same requests, and says only that one failed.
	{"firefox", "public", "loopback", "granted", true, true, ""},
	{"firefox", "public", "loopback", "denied", false, false, firefoxFailed},
	{"firefox", "public", "local", "denied", false, false, firefoxFailed},
	{"firefox", "loopback", "loopback", "denied", true, true, ""},
	// WebKit has neither the check nor a way to count an address as
	// public: the same page is a loopback page there.
	{"webkit", "loopback", "loopback", "none", true, true, ""},
}

// lnaMeasured is what the engines did, for the measured-messages table.
var lnaMeasured struct {
	sync.Mutex
	rows     []string
	versions map[string]string
}

// TestBrowserLocalNetworkAccess runs lnaCases. Chromium and Firefox run in
// browsers of their own, started with the page's address counted as public
// (Chromium: --ip-address-space-overrides; Firefox: the preference
// network.lna.address_space.public.override); the permission is set through
// each one's automation protocol, since a headless browser cannot show the
// prompt. With CORS_CONSOLE_TEXTS set, the outcomes are written into that
// file's "Local Network Access" section.
func TestBrowserLocalNetworkAccess(t *testing.T) {
	requireIntegration(t)
	ports := make([]string, 4)
	for i := range ports {
		port := freePort(t)
		ports[i] = port
	}
	publicPage := "http://127.0.0.1:" + ports[0]   // counted as public
	loopbackPage := "http://127.0.0.1:" + ports[1] // left as it is
	apis := map[string]string{
		"loopback": "http://127.0.0.1:" + ports[2],
		"local":    "http://127.0.0.1:" + ports[3], // counted as local
	}
	env := &browserEnv{logDir: t.TempDir(), wwwDir: t.TempDir()}
	if err := os.WriteFile(filepath.Join(env.wwwDir, "probe.html"), []byte(probePage), 0o644); err != nil {
		t.Fatal(err)
	}
	loadCaddyfile(t, strings.NewReplacer(
		"PUBLIC_PAGE", publicPage, "LOOPBACK_PAGE", loopbackPage, "LOOPBACK_API", apis["loopback"], "LOCAL_API", apis["local"],
		"LOGDIR", env.logDir, "WWWDIR", env.wwwDir,
	).Replace(`
(access_log) {
	log {
		output file LOGDIR/access.log
		format json
	}
}
PUBLIC_PAGE, LOOPBACK_PAGE {
	import access_log
	root * WWWDIR
	file_server
}
LOOPBACK_API, LOCAL_API {
	import access_log
	cors PUBLIC_PAGE LOOPBACK_PAGE
	respond "from the loopback API"
}
`))
	lnaMeasured.Lock()
	lnaMeasured.rows, lnaMeasured.versions = nil, map[string]string{}
	lnaMeasured.Unlock()

	pages := map[string]string{"public": publicPage, "loopback": loopbackPage}
	for _, kind := range engineKinds {
		t.Run(kind.name, func(t *testing.T) {
			var engine browserEngine
			var setPermission func(name, origin, state string) error
			switch kind.name {
			case chromiumKind.name:
				c := startOwnEngine(t, kind, func(dir string) (browserEngine, error) {
					return startChromiumWith(dir, chromedp.Flag("ip-address-space-overrides",
						"127.0.0.1:"+ports[0]+"=public,127.0.0.1:"+ports[3]+"=local"))
				}).(*chromium)
				engine = c
				setPermission = func(name, origin, state string) error {
					_, err := chromedp.CallBrowser(c.tab, browser.SetPermission, browser.SetPermissionParams{
						Permission: &browser.PermissionDescriptor{Name: name},
						Setting:    browser.PermissionSetting(state),
						Origin:     origin,
					})
					return err
				}
			case firefoxKind.name:
				f := startOwnEngine(t, kind, func(dir string) (browserEngine, error) {
					return startFirefoxWith(dir, map[string]any{
						"network.lna.address_space.public.override": "127.0.0.1:" + ports[0],
						// Firefox's "private" is the "local" of Chromium and the standard.
						"network.lna.address_space.private.override": "127.0.0.1:" + ports[3],
					})
				}).(*firefox)
				engine = f
				setPermission = func(name, origin, state string) error {
					_, err := f.call("permissions.setPermission", map[string]any{
						"descriptor": map[string]any{"name": name},
						"state":      state,
						"origin":     origin,
					})
					return err
				}
			default:
				engine = useEngine(t, kind)
			}
			lnaMeasured.Lock()
			lnaMeasured.versions[kind.name] = engine.version()
			lnaMeasured.Unlock()
			r := &browserRun{t: t, env: env, kind: kind, engine: engine}
			for _, c := range lnaCases {
				if c.engine != kind.name {
					continue
				}
				page, api := pages[c.page], apis[c.target]
				permission := c.target + "-network"
				if setPermission != nil {
					if err := setPermission(permission, page, c.permission); err != nil {
						t.Fatalf("setting %s to %s for %s: %v", permission, c.permission, page, err)
					}
				}
				name := fmt.Sprintf("%s page, %s target, %s %s", c.page, c.target, permission, c.permission)
				path := fmt.Sprintf("/%s/%s-page/%s-target/%s", kind.name, c.page, c.target, c.permission)
				r.open(page + "/probe.html")
				res := r.probe(api+path, nil)
				if got := res.Outcome == "resolved"; got != c.readable {
					t.Errorf("%s: script saw %s; want readable=%v", name, res, c.readable)
				}
				if c.readable && (res.Status != 200 || res.Body != "from the loopback API") {
					t.Errorf("%s: script saw %s; want the API's 200", name, res)
				}
				entries := env.settle(t, hostOf(api), path, has("GET", 1))
				if got := count(entries, "GET", 0) > 0; got != c.reached {
					t.Errorf("%s: the request reached the API: %v, want %v; access log: %v", name, got, c.reached, entries)
				}
				// No engine asks the server first: Chromium no longer sends
				// the Private Network Access preflight.
				wantAccess(t, entries, "OPTIONS", 0, 0)
				var want []string
				if c.console != "" {
					want = []string{c.console}
				}
				console := r.lnaConsole(api+path, page, want)
				if engine.console() != nil && !slices.Equal(console, want) {
					t.Errorf("%s: console lines about the URL %q, want %q", name, console, want)
				}
				t.Logf("%s: %s; console %q", name, res, console)
				lnaMeasured.Lock()
				lnaMeasured.rows = append(lnaMeasured.rows, lnaRow(c, res, console, engine.console() != nil))
				lnaMeasured.Unlock()
			}
		})
	}
	writeLNATexts(t)
}

// lnaConsole returns the console lines that mention url, with url and
// page replaced by placeholders, once they equal want or 3 s passed, and
// half a second later: Firefox writes its line a moment after the promise
// rejects.
func (r *browserRun) lnaConsole(url, page string, want []string) []string {
	generic := strings.NewReplacer(url, "<url>", page, "<page origin>")
	lines := func() []string {
		var got []string
		for _, line := range r.engine.console() {
			if strings.Contains(line, url) {
				got = append(got, generic.Replace(line))
			}
		}
		return got
	}
	for deadline := time.Now().Add(3 * time.Second); !slices.Equal(lines(), want) && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	return lines()
}

// startOwnEngine starts an engine for t alone, with start (which sets what
// t needs), and stops it when t ends. Like useEngine, it skips t when the
// engine is not installed, or fails it when CI=true.
func startOwnEngine(t *testing.T, kind engineKind, start func(dir string) (browserEngine, error)) browserEngine {
	t.Helper()
	requireInstalled(t, kind)
	dir, err := os.MkdirTemp("", "cors-"+kind.name+"-")
	if err != nil {
		t.Fatal(err)
	}
	engine, err := start(dir)
	t.Cleanup(func() {
		if engine != nil {
			engine.stop()
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("removing %s's directory: %v", kind.name, err)
		}
	})
	if err != nil {
		t.Fatalf("starting %s: %v", kind.name, err)
	}
	return engine
}

// lnaRow is one row of the measured table.
func lnaRow(c lnaCase, res fetchResult, console []string, captured bool) string {
	text := "(none)"
	switch {
	case !captured:
		text = "(not captured)"
	case len(console) > 0:
		text = strings.Join(console, "<br>")
	}
	script := fmt.Sprintf("status %d", res.Status)
	if res.Outcome == "rejected" {
		script = res.Error
	}
	reached := "no"
	if c.reached {
		reached = "yes"
	}
	permission := c.permission
	if permission != "none" {
		permission = c.target + "-network " + permission
	}
	return fmt.Sprintf("| %s | %s | %s | %s | %s | %s | %s |", c.page, c.target, permission, c.engine, strings.ReplaceAll(text, "|", `\|`), script, reached)
}

// lnaSection is the heading of the measured table's Local Network Access
// section, which writeConsoleTexts keeps when it rewrites the file.
const lnaSection = "## Local Network Access"

const lnaPreamble = lnaSection + `

Written by TestBrowserLocalNetworkAccess (integration/browser_lna_test.go):

    cd integration && CORS_CONSOLE_TEXTS=$PWD/testdata/console-messages.md \
      go test -count=1 -run 'TestBrowserLocalNetworkAccess' .

A page on <page origin> (http://127.0.0.1:<port>) fetches <url> on an API on 127.0.0.1 (another port)
whose cors policy allows the page's origin. The engines are told to count the page as public
(Chromium: --ip-address-space-overrides=127.0.0.1:<port>=public; Firefox: the preference
network.lna.address_space.public.override), or not ("loopback"), and one API's address as local, a
private network (Chromium: ...=local; Firefox: network.lna.address_space.private.override). The
permission the target needs (loopback-network or local-network) is set for the page's origin through
the automation protocol (Chromium: Browser.setPermission; Firefox: WebDriver BiDi
permissions.setPermission), as the user's answer to the prompt would be. WebKit has no such check and
no such setting. Consoles are read as in the table above. No engine sent a preflight in any case.

Engines:

`

// writeLNATexts writes the recorded outcomes into the Local Network
// Access section of the file $CORS_CONSOLE_TEXTS names, keeping the rest.
func writeLNATexts(t *testing.T) {
	path := os.Getenv("CORS_CONSOLE_TEXTS")
	if path == "" {
		return
	}
	lnaMeasured.Lock()
	defer lnaMeasured.Unlock()
	var b strings.Builder
	b.WriteString(lnaPreamble)
	for _, kind := range engineKinds {
		if v := lnaMeasured.versions[kind.name]; v != "" {
			fmt.Fprintf(&b, "- %s: %s\n", kind.name, v)
		}
	}
	b.WriteString("\n| Page | API | Permission | Engine | Console text | Script saw | Request reached the API |\n|---|---|---|---|---|---|---|\n")
	for _, row := range lnaMeasured.rows {
		b.WriteString(row + "\n")
	}
	writeSection(t, path, lnaSection, b.String())
}
