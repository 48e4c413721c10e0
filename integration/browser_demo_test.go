package integration

import (
	"encoding/json"
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

// demoButtonTimeout bounds one button's requests. The basic_auth buttons
// check a bcrypt hash of cost 14, as `caddy hash-password` makes it: well
// over 15 s under -race on a busy machine.
const demoButtonTimeout = 60 * time.Second

// demoCard is what a result card of the demo page shows.
type demoCard struct {
	Outcome     string `json:"outcome"`     // data-outcome
	Expected    string `json:"expected"`    // data-expected
	Text        string `json:"text"`        // as rendered
	ClassName   string `json:"className"`   // "result as-expected" or "result unexpected"
	EmptyValues int    `json:"emptyValues"` // facts (dd) with no text at all
	Console     string `json:"console"`     // the console message the card quotes, if any
	Border      string `json:"border"`      // the computed colour of its left border
}

// demoConsoleQuoted lists the cards that must quote the console: those of a
// preflight the module refuses, where Chromium names what failed.
var demoConsoleQuoted = map[string]bool{"bad-header": true}

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
	measured := measuredTexts(t, filepath.Join("testdata", "console-messages.md"), "header refused")
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
			r.demo(shotDir, measured[kind.name])
			t.Logf("%s: the demo took %s", kind.name, time.Since(start).Round(time.Millisecond))
		})
	}
}

// measuredText is one row of the measured-messages table.
type measuredText struct {
	console   []string // the console lines, with the placeholders <url> and <page origin>
	rejection string   // what the fetch promise rejected with
}

// measuredTexts returns the rows of failure in the measured-messages table
// at path, by engine.
func measuredTexts(t *testing.T, path, failure string) map[string]measuredText {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	texts := map[string]measuredText{}
	for _, line := range strings.Split(string(data), "\n") {
		cells := strings.Split(line, " | ")
		if len(cells) == 4 && cells[0] == "| "+failure {
			texts[cells[1]] = measuredText{
				console:   strings.Split(cells[2], "<br>"),
				rejection: strings.TrimSuffix(cells[3], " |"),
			}
		}
	}
	if len(texts) == 0 {
		t.Fatalf("%s has no row for %q", path, failure)
	}
	return texts
}

// demoTools is what each engine's developer tools are called.
var demoTools = map[string]string{"chromium": "DevTools", "firefox": "DevTools", "webkit": "Web Inspector"}

// demo clicks through the demo page in one engine; measured is the
// engine's row for a refused header in the measured-messages table.
func (r *browserRun) demo(shotDir string, measured measuredText) {
	t := r.t
	page := "http://localhost:" + demoPorts["8080"] + "/"
	r.open(page)
	var api string
	r.eval(`document.getElementById("api-origin").textContent`, &api)
	if want := "http://localhost:" + demoPorts["8081"]; api != want {
		t.Fatalf("the page shows the API at %q, want %q: /demo-config.js not served?", api, want)
	}

	// The page knows which engine it runs in, and says what its scripts get.
	var engine, fetchError string
	r.eval(`document.body.dataset.engine || ""`, &engine)
	r.eval(`document.getElementById("fetch-error").textContent`, &fetchError)
	if engine != r.kind.name {
		t.Errorf("the page thinks it runs in %q, not %s", engine, r.kind.name)
	}
	if fetchError != measured.rejection {
		t.Errorf("the page says scripts get %q; %s rejects with %q", fetchError, r.kind.name, measured.rejection)
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

	expectedColour := "" // the border of every card whose outcome is as expected
	for _, id := range ids {
		expected, ok := demoOutcomes[id]
		if !ok {
			continue
		}
		r.eval(fmt.Sprintf(`document.getElementById(%q).click() || true`, "btn-"+id), new(bool))
		var shown demoCard
		if !r.pollPage(fmt.Sprintf(`(el => ({outcome: el.dataset.outcome || "", expected: el.dataset.expected, text: el.innerText,
			className: el.className,
			emptyValues: [...el.querySelectorAll("dd")].filter(dd => dd.textContent === "").length,
			console: (el.querySelector(".console-quote") || {}).textContent || "",
			border: getComputedStyle(el).borderLeftColor}))(document.getElementById(%q))`, "result-"+id),
			`v.outcome !== "" && v.outcome !== "pending" && v.outcome !== "running"`, demoButtonTimeout, &shown) {
			t.Errorf("%s: no outcome within %s", id, demoButtonTimeout)
			continue
		}
		outcome := shown.Outcome
		t.Logf("%s: outcome %s\n%s", id, outcome, shown.Text)
		if outcome != expected {
			t.Errorf("%s: the page shows outcome %q, want %q", id, outcome, expected)
		}
		if shown.Expected != expected {
			t.Errorf("%s: the page promises %q (data-expected), the test %q", id, shown.Expected, expected)
		}
		// Coloured as expected, whatever the outcome: a blocked request
		// the demo means to show is not a failure.
		if outcome == expected && !strings.Contains(" "+shown.ClassName+" ", " as-expected ") {
			t.Errorf("%s: outcome %q as expected, but the card's classes are %q", id, outcome, shown.ClassName)
		}
		if outcome == expected {
			if expectedColour == "" {
				expectedColour = shown.Border
			} else if shown.Border != expectedColour {
				t.Errorf("%s: outcome %q as expected, in the colour %s; other cards as expected are %s", id, outcome, shown.Border, expectedColour)
			}
		}
		if shown.EmptyValues != 0 {
			t.Errorf("%s: %d facts show nothing at all; an empty value must read \"(empty)\":\n%s", id, shown.EmptyValues, shown.Text)
		}
		if tools := demoTools[r.kind.name]; outcome == "blocked" && !strings.Contains(shown.Text, tools) {
			t.Errorf("%s: a blocked result must point to %s; it says:\n%s", id, tools, shown.Text)
		}
		if outcome == "blocked" && !strings.Contains(shown.Text, measured.rejection) {
			t.Errorf("%s: a blocked result must show what the script saw, %q; it says:\n%s", id, measured.rejection, shown.Text)
		}
		// The page cannot read the console: the card quotes what this
		// engine prints there, as measured (the cause's line), and the
		// engine must really print it where the test can read its console.
		if demoConsoleQuoted[id] {
			want := strings.NewReplacer("<url>", api+"/hello", "<page origin>", page[:len(page)-1],
				"x-debug", "x-debug-mode", "X-Debug", "X-Debug-Mode").Replace(measured.console[0])
			if shown.Console != want {
				t.Errorf("%s: the card quotes %q; %s prints %q", id, shown.Console, r.kind.name, want)
			}
			r.wantConsole(api+"/hello", shown.Console)
		} else if shown.Console != "" {
			t.Errorf("%s: the card quotes %q, for no measured text", id, shown.Console)
		}
	}

	// Run all ends with a summary that counts the cards as expected.
	r.eval(`document.getElementById("btn-run-all").click() || true`, new(bool))
	var summary string
	if !r.pollPage(`document.getElementById("run-all-summary").textContent`, `v !== "" && !v.startsWith("Running")`,
		time.Duration(len(demoOutcomes))*demoButtonTimeout, &summary) {
		t.Fatalf("Run all: no summary; it shows %q", summary)
	}
	if want := fmt.Sprintf("%d of %d as expected", len(demoOutcomes), len(demoOutcomes)); summary != want {
		t.Errorf("Run all summary %q, want %q", summary, want)
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

// pollPage evaluates value, a JavaScript expression, until done (an
// expression of its value v) holds or timeout passes, and decodes the last
// value into out; it reports whether done held. Each evaluation waits in
// the page for at most 5 s, to stay inside every engine's script timeout.
func (r *browserRun) pollPage(value, done string, timeout time.Duration, out any) bool {
	r.t.Helper()
	var last struct {
		Done  bool            `json:"done"`
		Value json.RawMessage `json:"value"`
	}
	for deadline := time.Now().Add(timeout); !last.Done && time.Now().Before(deadline); {
		r.eval(`new Promise(resolve => {
  const until = Date.now() + 5000;
  (function check() {
    const v = (`+value+`);
    const done = !!(`+done+`);
    if (done || Date.now() > until) {
      resolve({done: done, value: v});
    } else {
      setTimeout(check, 50);
    }
  })();
})`, &last)
	}
	if err := json.Unmarshal(last.Value, out); err != nil {
		r.t.Fatalf("%s: decoding %s: %v", r.kind.name, last.Value, err)
	}
	return last.Done
}
