// Command testreport reads the output of `go test -json` and reports what a
// reader of a failed run needs, in that order: the failing tests, each with
// its own messages (t.Error, t.Log); then, for those tests only, the last
// lines of what else was written while each ran (the in-process Caddy's
// log), cut short; then the output of a package that failed outside any
// test (a build error, a panic, a timeout). Passing tests print nothing.
// Skipped tests are listed with their reasons.
//
//	go test -json ./... > test.json; testreport [-strict] < test.json
//
// The exit status is 1 when a test or a package failed, or, with -strict
// (CI), when a test was skipped; 0 otherwise.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// Limits of what is shown of each failed test.
const (
	maxOwnLines   = 60  // the test's own messages
	maxOtherLines = 25  // the last lines of Caddy's log while it ran
	maxLineBytes  = 400 // any one line
	maxPkgLines   = 60  // a package's output outside its tests
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	ImportPath string // build-output and build-fail events
	Test       string
	Elapsed    float64
	Output     string
}

// test is what was seen of one test (or of a package, Test "").
type test struct {
	pkg, name string
	own       []string // lines written by the testing package for the test
	other     []string // lines written by anything else while it ran
	partial   string   // the start of a line test2json split (at 1 KiB)
	result    string   // pass, fail, skip, or "" when it never ended
	elapsed   float64
}

type report struct {
	tests   map[string]*test // by package + " " + test name
	order   []*test          // in the order they started
	build   []string         // build errors
	failed  bool             // a package failed
	skipped []*test
}

func main() {
	strict := flag.Bool("strict", false, "a skipped test is a failure (CI)")
	flag.Parse()
	r, err := read(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(2)
	}
	if !r.write(os.Stdout, *strict) {
		os.Exit(1)
	}
}

func read(in io.Reader) (*report, error) {
	r := &report{tests: map[string]*test{}}
	s := bufio.NewScanner(in)
	s.Buffer(make([]byte, 1<<20), 64<<20)
	for s.Scan() {
		line := s.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			// go test's own stderr, merged in: a module download error.
			r.build = append(r.build, string(line))
			continue
		}
		switch e.Action {
		case "build-output":
			r.build = append(r.build, strings.TrimRight(e.Output, "\n"))
			continue
		case "build-fail":
			r.failed = true
			continue
		}
		t := r.test(e.Package, e.Test)
		switch e.Action {
		case "output":
			t.add(e.Output)
		case "pass", "fail", "skip":
			t.result, t.elapsed = e.Action, e.Elapsed
			if e.Action == "fail" && e.Test == "" {
				r.failed = true
			}
			if e.Action == "skip" && e.Test != "" {
				r.skipped = append(r.skipped, t)
			}
		}
	}
	return r, s.Err()
}

func (r *report) test(pkg, name string) *test {
	key := pkg + " " + name
	t, ok := r.tests[key]
	if !ok {
		t = &test{pkg: pkg, name: name}
		r.tests[key] = t
		r.order = append(r.order, t)
	}
	return t
}

// add files one line of output. The testing package indents what a test
// logs (four spaces per level of subtest) and frames tests with "=== " and
// "--- " lines; anything else (Caddy's JSON log lines, a library's log) was
// written by the code under test while the test ran.
func (t *test) add(output string) {
	if !strings.HasSuffix(output, "\n") {
		t.partial += output
		return
	}
	line := strings.TrimRight(t.partial+output, "\n")
	t.partial = ""
	trimmed := strings.TrimLeft(line, " ")
	switch {
	case strings.HasPrefix(trimmed, "=== "), strings.HasPrefix(trimmed, "--- "),
		t.name == "" && (line == "PASS" || line == "FAIL" || strings.HasPrefix(line, "ok  ") || strings.HasPrefix(line, "FAIL\t")):
	case t.name != "" && (strings.HasPrefix(line, "    ") || strings.HasPrefix(line, "\t")):
		t.own = append(t.own, line)
	default:
		t.other = append(t.other, line)
	}
}

// write prints the report and returns whether the run passed.
func (r *report) write(w io.Writer, strict bool) bool {
	var failed []*test
	hasFailedChild := map[string]bool{}
	for _, t := range r.order {
		if t.name != "" && t.result == "fail" {
			for p := parent(t.name); p != ""; p = parent(p) {
				hasFailedChild[t.pkg+" "+p] = true
			}
		}
	}
	for _, t := range r.order {
		if t.name == "" {
			continue
		}
		// A test that never ended was running when its package stopped
		// (a panic elsewhere, a timeout).
		broken := t.result == "fail" || (t.result == "" && r.tests[t.pkg+" "].result == "fail")
		// A parent fails with its subtests: shown only when it has
		// messages of its own.
		if broken && (!hasFailedChild[t.pkg+" "+t.name] || len(t.own) > 0) {
			failed = append(failed, t)
		}
	}
	for _, t := range r.order {
		if t.name == "" && t.result != "" {
			fmt.Fprintf(w, "%-4s %s (%.1fs)\n", map[string]string{"pass": "ok", "fail": "FAIL", "skip": "?"}[t.result], t.pkg, t.elapsed)
		}
	}
	if len(r.skipped) > 0 {
		fmt.Fprintf(w, "\nskipped tests:\n")
		for _, t := range r.skipped {
			fmt.Fprintf(w, "--- SKIP: %s (%s)\n", t.name, t.pkg)
			writeLines(w, t.own, maxOwnLines, "")
		}
	}
	if len(r.build) > 0 && (r.failed || len(failed) > 0) {
		fmt.Fprintf(w, "\nbuild output:\n")
		writeLines(w, r.build, maxPkgLines, "")
	}
	if len(failed) > 0 {
		fmt.Fprintf(w, "\nfailed tests, with their own messages:\n")
		for _, t := range failed {
			state := fmt.Sprintf("%.2fs", t.elapsed)
			if t.result == "" {
				state = "running when the package stopped"
			}
			fmt.Fprintf(w, "\n--- FAIL: %s (%s, %s)\n", t.name, t.pkg, state)
			writeLines(w, t.own, maxOwnLines, "")
		}
		fmt.Fprintf(w, "\nwhat else was logged (Caddy) while each failed test ran, last %d lines:\n", maxOtherLines)
		for _, t := range failed {
			if len(t.other) == 0 {
				continue
			}
			fmt.Fprintf(w, "\n--- %s (%d lines)\n", t.name, len(t.other))
			writeLines(w, t.other, -maxOtherLines, "    ")
		}
	}
	for _, t := range r.order {
		if t.name == "" && t.result == "fail" && len(t.other) > 0 {
			fmt.Fprintf(w, "\noutput of %s outside its tests, last %d lines:\n", t.pkg, maxPkgLines)
			writeLines(w, t.other, -maxPkgLines, "    ")
		}
	}
	passed := !r.failed && len(failed) == 0
	if passed && strict && len(r.skipped) > 0 {
		fmt.Fprintf(w, "\n%d tests were skipped, which -strict (CI) does not allow\n", len(r.skipped))
		return false
	}
	return passed
}

// writeLines writes at most the first n lines (the last -n when n < 0),
// each cut at maxLineBytes, saying how many were left out.
func writeLines(w io.Writer, lines []string, n int, indent string) {
	skipped := 0
	if n >= 0 && len(lines) > n {
		skipped = len(lines) - n
		lines = lines[:n]
	}
	if n < 0 && len(lines) > -n {
		fmt.Fprintf(w, "%s[... %d earlier lines]\n", indent, len(lines)+n)
		lines = lines[len(lines)+n:]
	}
	for _, line := range lines {
		if len(line) > maxLineBytes {
			cut := maxLineBytes
			for cut > 0 && !utf8.RuneStart(line[cut]) {
				cut--
			}
			line = fmt.Sprintf("%s [... %d more bytes]", line[:cut], len(line)-cut)
		}
		fmt.Fprintf(w, "%s%s\n", indent, line)
	}
	if skipped > 0 {
		fmt.Fprintf(w, "%s[... %d more lines]\n", indent, skipped)
	}
}

// parent returns the name of the test a subtest belongs to, or "".
func parent(name string) string {
	i := strings.LastIndexByte(name, '/')
	if i < 0 {
		return ""
	}
	return name[:i]
}
