package integration

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// consoleFailures are the CORS mistakes whose console text each engine
// prints, as the troubleshooting docs quote them. Each is a fetch from
// pageOrigin that the engine blocks.
var consoleFailures = []struct {
	name string
	url  string // before r.path
	init map[string]any
}{
	{"missing Access-Control-Allow-Origin", siteNoCORS + "/missing", nil},
	{"Access-Control-Allow-Origin twice", siteTwoOrigins + "/twice", nil},
	{"* with credentials", upstreamCORS + "/star-credentials", map[string]any{"credentials": "include"}},
	{"header refused", apiMain + "/header-refused", map[string]any{"headers": map[string]string{"X-Debug": "1"}}},
	{"method refused", apiMain + "/method-refused", map[string]any{"method": "PURGE"}},
	{"redirect on the preflight", siteRedirect + "/redirect", map[string]any{"headers": map[string]string{"X-Allowed": "1"}}},
	{"401 on the preflight", siteAuthFirst + "/auth", map[string]any{"headers": map[string]string{"X-Allowed": "1"}}},
}

// consoleText is what one engine said about one failure.
type consoleText struct {
	engine, failure string
	console         []string // the console lines about the URL; nil when not captured
	rejection       string   // the error the fetch promise rejected with
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
	for _, f := range consoleFailures {
		url := f.url[:strings.LastIndex(f.url, "/")] + r.path(f.url[strings.LastIndex(f.url, "/"):])
		res := r.probe(url, f.init)
		if res.Outcome != "rejected" {
			r.t.Errorf("%s: script saw %s; want the fetch promise to reject", f.name, res)
			continue
		}
		text := consoleText{engine: r.kind.name, failure: f.name, rejection: res.Error}
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
		r.t.Logf("console text: %s | %s | %q | rejected with %q", text.engine, text.failure, text.console, text.rejection)
		consoleTexts.Lock()
		consoleTexts.all = append(consoleTexts.all, text)
		consoleTexts.Unlock()
	}
}

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
	b.WriteString("| Failure | Engine | Console text | Promise rejected with |\n|---|---|---|---|\n")
	for _, f := range consoleFailures {
		for _, kind := range engineKinds {
			i := slices.IndexFunc(consoleTexts.all, func(c consoleText) bool { return c.engine == kind.name && c.failure == f.name })
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
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Error(err)
	}
}

// genericURLs replaces the test's URLs and origins in a console text with
// the placeholders a reader can map to their own site.
func genericURLs(s string) string {
	for _, kind := range engineKinds {
		s = strings.ReplaceAll(s, "?engine="+kind.name, "")
	}
	s = strings.ReplaceAll(s, pageOrigin, "<page origin>")
	for _, f := range consoleFailures {
		s = strings.ReplaceAll(s, f.url, "<url>")
	}
	for _, f := range consoleFailures {
		s = strings.ReplaceAll(s, f.url[:strings.LastIndex(f.url, "/")], "<api origin>")
	}
	return strings.ReplaceAll(s, "|", `\|`)
}
