package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// demoOutcomes is what the demo page promises for each of its buttons
// (button id "btn-<key>", result id "result-<key>").
var demoOutcomes = map[string]string{
	"simple-get":      "allowed",
	"post-auth":       "allowed",
	"post-auth-wrong": "status-401",
	"credentialed":    "allowed",
	"bad-header":      "blocked",
	"uncovered":       "blocked",
	"proxy":           "allowed",
	"legacy-direct":   "blocked",
}

// demoPorts maps the ports of Caddyfile.example to ports of this test.
var demoPorts = map[string]string{"8080": "9230", "8081": "9231", "8082": "9232"}

var demoAddress = regexp.MustCompile(`\b(localhost|127\.0\.0\.1):(8080|8081|8082)\b`)

// demoCaddyfile returns Caddyfile.example with only its addresses changed
// (ports 8080-8082 to 9230-9232) and caddytest's global options added to
// its global block, plus Caddy's log in logFile.
func demoCaddyfile(t *testing.T, logFile string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "Caddyfile.example"))
	if err != nil {
		t.Fatal(err)
	}
	src := string(raw)
	for port := range demoPorts {
		if !strings.Contains(src, "localhost:"+port) {
			t.Fatalf("Caddyfile.example no longer uses localhost:%s; update demoPorts", port)
		}
	}
	src = demoAddress.ReplaceAllStringFunc(src, func(addr string) string {
		host, port, _ := strings.Cut(addr, ":")
		return host + ":" + demoPorts[port]
	})
	if strings.Contains(src, "\nadmin") || strings.Contains(src, "\tadmin ") {
		t.Fatal("Caddyfile.example sets admin; the test cannot move it to caddytest's localhost:2999")
	}
	global := fmt.Sprintf(`{
	admin localhost:2999
	http_port 9080
	https_port 9443
	skip_install_trust
	grace_period 1ns
	log {
		output file %s
		format json
		level INFO
	}
`, logFile)
	before, after, found := strings.Cut(src, "\n{\n")
	if !found {
		t.Fatal("Caddyfile.example has no global options block (a line with only '{')")
	}
	return before + "\n" + global + after
}

// TestBrowserDemo runs Caddyfile.example (addresses substituted) and, in
// every engine, opens the demo page, clicks every button and checks each
// shows the outcome the demo promises, then saves a screenshot
// ($CORS_SCREENSHOT_DIR/demo-<engine>.png, or in a temp dir).
func TestBrowserDemo(t *testing.T) {
	requireIntegration(t)
	logFile := filepath.Join(t.TempDir(), "caddy.log")
	config := demoCaddyfile(t, logFile)
	shotDir := os.Getenv("CORS_SCREENSHOT_DIR")
	if shotDir == "" {
		shotDir = t.TempDir()
	}
	shotDir, err := filepath.Abs(shotDir) // before the Chdir below
	if err != nil {
		t.Fatal(err)
	}
	// `root * demo` in the example is relative to the repository root,
	// where a newcomer runs it; the in-process Caddy shares our directory.
	t.Chdir("..")
	tester := newTester(t)
	tester.InitServer(config, "caddyfile")
	if t.Failed() {
		t.FailNow()
	}
	env := &browserEnv{logDir: filepath.Dir(logFile)}
	for _, kind := range engineKinds {
		t.Run(kind.name, func(t *testing.T) {
			r := &browserRun{t: t, env: env, kind: kind, engine: useEngine(t, kind)}
			start := time.Now()
			r.demo(shotDir)
			t.Logf("%s: the demo took %s", kind.name, time.Since(start).Round(time.Millisecond))
		})
	}
}

// demo clicks through the demo page in one engine.
func (r *browserRun) demo(shotDir string) {
	t := r.t
	page := "http://localhost:" + demoPorts["8080"] + "/"
	r.open(page)
	var api string
	r.eval(`document.getElementById("api-origin").textContent`, &api)
	if want := "http://localhost:" + demoPorts["8081"]; api != want {
		t.Fatalf("the page shows the API at %q, want %q: /demo-config.js not served?", api, want)
	}

	// Every button on the page is one of demoOutcomes, and vice versa.
	var ids []string
	r.eval(`[...document.querySelectorAll("main button[id^=btn-]")].map(b => b.id.slice(4))`, &ids)
	var want []string
	for id := range demoOutcomes {
		want = append(want, id)
	}
	slices.Sort(want)
	if got := slices.Sorted(slices.Values(ids)); !slices.Equal(got, want) {
		t.Errorf("demo buttons = %q, the test knows %q", got, want)
	}

	for _, id := range ids {
		expected, ok := demoOutcomes[id]
		if !ok {
			continue
		}
		// Click, then wait for the result to settle: up to a minute, since
		// the wrong password costs a bcrypt comparison at cost 14 (seconds
		// under -race on a busy machine). Each wait in the page is short,
		// to stay inside every engine's script timeout.
		var shown struct {
			Outcome  string `json:"outcome"`
			Expected string `json:"expected"`
			Text     string `json:"text"`
		}
		var clicked bool
		r.eval(fmt.Sprintf(`document.getElementById(%q).click() || true`, "btn-"+id), &clicked)
		settled := func() bool { return shown.Outcome != "" && shown.Outcome != "pending" && shown.Outcome != "running" }
		for deadline := time.Now().Add(time.Minute); !settled() && time.Now().Before(deadline); {
			r.eval(fmt.Sprintf(`new Promise(resolve => {
  const el = document.getElementById(%q), until = Date.now() + 5000;
  (function check() {
    const o = el.dataset.outcome;
    if ((o && o !== "pending" && o !== "running") || Date.now() > until) {
      resolve({outcome: o || "", expected: el.dataset.expected || "", text: el.innerText});
    } else {
      setTimeout(check, 50);
    }
  })();
})`, "result-"+id), &shown)
		}
		t.Logf("%s: outcome %s\n%s", id, shown.Outcome, shown.Text)
		if shown.Outcome != expected {
			t.Errorf("%s: the page shows outcome %q, want %q", id, shown.Outcome, expected)
		}
		if shown.Expected != expected {
			t.Errorf("%s: the page promises %q (data-expected), the test %q", id, shown.Expected, expected)
		}
		if shown.Outcome == "blocked" && !strings.Contains(shown.Text, "DevTools") {
			t.Errorf("%s: a blocked result must point to DevTools; it says:\n%s", id, shown.Text)
		}
	}

	// What the server saw: the module logged the rejected preflight.
	if line := r.env.waitModuleLog(t, func(line string) bool {
		return strings.Contains(line, `"level":"info"`) && strings.Contains(line, "x-debug-mode")
	}); line != "" {
		t.Logf("module log: %s", line)
	}

	shot, err := r.engine.screenshot()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(shotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(shotDir, "demo-"+r.kind.name+".png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the demo page: %s", path)
}
