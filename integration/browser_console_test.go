package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// consoleFailures are the CORS mistakes whose console text each engine
// prints, as the troubleshooting docs quote them. Each is a fetch from
// pageOrigin that the engine blocks.
var consoleFailures = []consoleFailure{
	{"missing Access-Control-Allow-Origin", siteNoCORS + "/missing", nil, "", ""},
	{"Access-Control-Allow-Origin twice", siteTwoOrigins + "/twice", nil, "", ""},
	{"Access-Control-Allow-Origin with a trailing slash", siteSlashed + "/slashed", nil, "", ""},
	{"* with credentials", upstreamCORS + "/star-credentials", map[string]any{"credentials": "include"}, "", ""},
	{"header refused", apiMain + "/header-refused", map[string]any{"headers": map[string]string{"X-Debug": "1"}}, "x-debug", ""},
	{"method refused", apiMain + "/method-refused", map[string]any{"method": "PURGE"}, "PURGE", "firefox"},
	{"redirect on the preflight", siteRedirect + "/redirect", map[string]any{"headers": map[string]string{"X-Allowed": "1"}}, "", ""},
	{"401 on the preflight", siteAuthFirst + "/auth", map[string]any{"headers": map[string]string{"X-Allowed": "1"}}, "", ""},
	{"404 on the preflight", siteNoOptions + "/nothing", map[string]any{"headers": map[string]string{"X-Allowed": "1"}}, "", ""},
	{"origin refused by the module (403)", apiPattern + "/origin-refused", map[string]any{"headers": map[string]string{"X-Allowed": "1"}}, "", ""},
}

type consoleFailure struct {
	name string
	url  string // before r.path
	init map[string]any
	// names is what the console must name when the module refused a
	// header or a method; silentIn is the engine whose console does not.
	names, silentIn string
}

// consoleText is what one engine said about one failure.
type consoleText struct {
	engine    string
	failure   consoleFailure
	console   []string // the console lines about the URL; nil when not captured
	rejection string   // the error the fetch promise rejected with
}

var consoleTexts = struct {
	sync.Mutex
	all []consoleText
}{}

// consoleTexts makes each mistake of consoleFailures, asserts that the
// engine blocks it, and records the console lines that mention its URL
// (shown under -v, and written by writeConsoleTexts).
func (r *browserRun) consoleTexts() {
	r.open(pageOrigin + "/probe.html")
	var texts []consoleText
	for _, f := range consoleFailures {
		url := r.path(f.url)
		res := r.probe(url, f.init)
		if res.Outcome != "rejected" {
			r.t.Errorf("%s: script saw %s; want the fetch promise to reject", f.name, res)
			continue
		}
		text := consoleText{engine: r.kind.name, failure: f, rejection: res.Error}
		if r.kind.blames != nil {
			r.wantConsole(url)
			// Firefox adds "CORS request did not succeed" a moment later.
			time.Sleep(500 * time.Millisecond)
			for _, line := range r.engine.console() {
				if strings.Contains(line, url) {
					text.console = append(text.console, line)
				}
			}
		}
		texts = append(texts, text)
	}
	if reader, ok := r.engine.(pageConsoleReader); ok {
		r.readPageConsole(reader, texts)
	}
	for _, text := range texts {
		r.t.Logf("console text: %s | %s | %q | rejected with %q", text.engine, text.failure.name, text.console, text.rejection)
		f := text.failure
		named := func(line string) bool { return strings.Contains(strings.ToLower(line), strings.ToLower(f.names)) }
		if f.names != "" && f.silentIn != r.kind.name && !slices.ContainsFunc(text.console, named) {
			r.t.Errorf("%s: %s's console does not name %s: %q", f.name, r.kind.name, f.names, text.console)
		}
	}
	consoleTexts.Lock()
	consoleTexts.all = append(consoleTexts.all, texts...)
	consoleTexts.Unlock()
}

// pageConsoleReader is an engine whose console the test cannot read while
// it drives the page (WebKit), but can read by opening a page in a browser
// of its own.
type pageConsoleReader interface {
	consoleOfPage(url, last string) ([]string, error)
}

// measuringMarker starts the console line a page writes before each
// failure it makes.
const measuringMarker = "measuring: "

// readPageConsole makes every mistake of consoleFailures again from a page
// that marks each one on the console, and fills texts' console lines with
// what the engine wrote between the marks.
func (r *browserRun) readPageConsole(reader pageConsoleReader, texts []consoleText) {
	var failures []map[string]any
	for _, f := range consoleFailures {
		failures = append(failures, map[string]any{"name": f.name, "url": r.path(f.url), "init": f.init})
	}
	page := `<!doctype html>
<meta charset="utf-8">
<title>console texts</title>
<script>
(async () => {
  for (const f of ` + mustJSON(r.t, failures) + `) {
    console.log(` + mustJSON(r.t, measuringMarker) + ` + f.name);
    try { await fetch(f.url, f.init || {}); } catch (err) {}
  }
  console.log(` + mustJSON(r.t, measuringMarker+"done") + `);
})();
</script>
`
	name := "console-" + r.kind.name + ".html"
	if err := os.WriteFile(filepath.Join(r.env.wwwDir, name), []byte(page), 0o644); err != nil {
		r.t.Fatal(err)
	}
	lines, err := reader.consoleOfPage(pageOrigin+"/"+name, measuringMarker+"done")
	if err != nil {
		r.t.Fatalf("%s: reading the console of %s: %v", r.kind.name, name, err)
	}
	var current *consoleText
	for _, line := range lines {
		if _, name, ok := strings.Cut(line, measuringMarker); ok {
			current = nil
			for i := range texts {
				if texts[i].failure.name == name {
					current = &texts[i]
				}
			}
			continue
		}
		// "CONSOLE <source> <level> <text>"
		if fields := strings.SplitN(line, " ", 4); current != nil && len(fields) == 4 {
			current.console = append(current.console, fields[3])
		}
	}
	for _, text := range texts {
		if len(text.console) == 0 {
			r.t.Errorf("%s wrote nothing on its console for %s; it wrote: %q", r.kind.name, text.failure.name, lines)
		}
	}
}

const consoleTextsPreamble = `# What each engine's console says about a CORS failure

Written by the browser tests (scenario ConsoleTexts in integration/browser_console_test.go), with
the engines installed:

    cd integration && CORS_CONSOLE_TEXTS=$PWD/testdata/console-messages.md \
      go test -count=1 -run 'TestBrowser$/.*/ConsoleTexts' .

Each failure is a fetch() from a page on <page origin> to <url> on <api origin>; the sites that make
the mistakes are in browserCaddyfile (integration/browser_test.go). How each console is read:
Chromium through the DevTools protocol (Log.entryAdded); Firefox through WebDriver BiDi
(log.entryAdded); WebKit from MiniBrowser run outside WebDriver with
--enable-write-console-messages-to-stdout=true (under WebDriver it keeps its console to itself), where
every line is "CONSOLE <source> <level> <text>" and only <text> is kept. The last column is what the
page's script gets: the same in every case, whatever the cause.

Engines:

`

// writeConsoleTexts writes the recorded console texts as a Markdown table
// to the file $CORS_CONSOLE_TEXTS names (integration/testdata/console-messages.md
// is made so), with URLs reduced to a placeholder.
func writeConsoleTexts(t *testing.T) {
	path := os.Getenv("CORS_CONSOLE_TEXTS")
	if path == "" {
		return
	}
	consoleTexts.Lock()
	defer consoleTexts.Unlock()
	var b strings.Builder
	b.WriteString(consoleTextsPreamble)
	for _, kind := range engineKinds {
		runningEngines.Lock()
		if r := runningEngines.byName[kind.name]; r != nil && r.engine != nil {
			fmt.Fprintf(&b, "- %s: %s\n", kind.name, r.engine.version())
		}
		runningEngines.Unlock()
	}
	b.WriteString("\n| Failure | Engine | Console text | Promise rejected with |\n|---|---|---|---|\n")
	for _, f := range consoleFailures {
		for _, kind := range engineKinds {
			i := slices.IndexFunc(consoleTexts.all, func(c consoleText) bool { return c.engine == kind.name && c.failure.name == f.name })
			if i < 0 {
				continue
			}
			c := consoleTexts.all[i]
			console := "(not captured)"
			if c.console != nil {
				console = strings.Join(c.console, "<br>")
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", f.name, kind.name, genericURLs(console), genericURLs(c.rejection))
		}
	}
	// Other tests write sections of their own, kept as they are.
	writeSection(t, path, "", b.String())
}

// writeSection replaces, in the measured-messages file at path, the
// section under heading (a "## " line, up to the next one) with text, or
// adds it at the end; heading "" stands for what comes before the first
// section. Every other section is kept as it is.
func writeSection(t *testing.T, path, heading, text string) {
	t.Helper()
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Error(err)
		return
	}
	parts := strings.Split("\n"+string(old), "\n## ")
	sections := []string{strings.TrimPrefix(parts[0], "\n")}
	for _, part := range parts[1:] {
		sections = append(sections, "## "+part)
	}
	text = strings.TrimRight(text, "\n") + "\n"
	replaced := false
	for i, section := range sections {
		if (i == 0 && heading == "") || (i > 0 && heading != "" && strings.HasPrefix(section, heading+"\n")) {
			sections[i], replaced = text, true
		}
	}
	if !replaced {
		sections = append(sections, text)
	}
	for i := range sections {
		sections[i] = strings.TrimRight(sections[i], "\n") + "\n"
	}
	if err := os.WriteFile(path, []byte(strings.Join(sections, "\n")), 0o644); err != nil {
		t.Error(err)
	}
}

// testQuery is the query browserRun.path adds.
var testQuery = regexp.MustCompile(`\?engine=[a-z]+&run=[0-9]+`)

// genericURLs replaces the test's URLs and origins in a console text with
// the placeholders a reader can map to their own site.
func genericURLs(s string) string {
	s = testQuery.ReplaceAllString(s, "")
	s = strings.ReplaceAll(s, pageOrigin, "<page origin>")
	for _, f := range consoleFailures {
		s = strings.ReplaceAll(s, f.url, "<url>")
	}
	for _, f := range consoleFailures {
		s = strings.ReplaceAll(s, f.url[:strings.LastIndex(f.url, "/")], "<api origin>")
	}
	return strings.ReplaceAll(s, "|", `\|`)
}
