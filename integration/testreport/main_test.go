package main

import (
	"os"
	"strings"
	"testing"
)

// testdata/failing.json is real `go test -json` output of a package whose
// tests write Caddy-like JSON log lines to stderr: TestPasses (100 lines,
// passes), TestFails (100 lines and one of 1,000 bytes, then t.Errorf),
// TestParent with a passing and a failing subtest, and TestSkips.
func readFixture(t *testing.T) (string, bool) {
	t.Helper()
	f, err := os.Open("testdata/failing.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := read(f)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	passed := r.write(&out, false)
	return out.String(), passed
}

func TestFailuresComeFirstWithTheirOwnMessages(t *testing.T) {
	out, passed := readFixture(t)
	if passed {
		t.Error("a run with failed tests reported as passed")
	}
	firstLog := strings.Index(out, `{"level"`)
	for _, want := range []string{
		"--- FAIL: TestFails (",
		"fixture_test.go:27: status = 502, want 200",
		"--- FAIL: TestParent/broken (",
		"fixture_test.go:34: preflight refused:",
		"        second line of the message",
	} {
		i := strings.Index(out, want)
		if i < 0 {
			t.Errorf("report lacks %q:\n%s", want, out)
		} else if i > firstLog {
			t.Errorf("%q comes after Caddy's log lines:\n%s", want, out)
		}
	}
	if strings.Contains(out, "--- FAIL: TestParent (") {
		t.Errorf("the parent of a failed subtest, with no message of its own, is reported:\n%s", out)
	}
}

func TestOnlyTheFailedTestsLogsTrimmed(t *testing.T) {
	out, _ := readFixture(t)
	for _, unwanted := range []string{"passing test's line", "a passing test's message", "ok subtest", "failing test's line 75\""} {
		if strings.Contains(out, unwanted) {
			t.Errorf("report shows %q:\n%s", unwanted, out)
		}
	}
	for _, want := range []string{
		"[... 76 earlier lines]",
		`"msg":"failing test's line 76"`,
		`"msg":"failing test's line 99"`,
		"[... 646 more bytes]", // the line of 1,046 bytes, which test2json split, cut at 400
		`"msg":"broken subtest's line"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "\n"); n > 80 {
		t.Errorf("report has %d lines, want at most 80 for 2 failures", n)
	}
}

func TestSkipsAreListedAndFailUnderStrict(t *testing.T) {
	const run = `{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"    a_test.go:3: firefox is not installed\n"}
{"Action":"skip","Package":"p","Test":"TestA","Elapsed":0}
{"Action":"pass","Package":"p","Elapsed":0.1}
`
	for _, strict := range []bool{false, true} {
		r, err := read(strings.NewReader(run))
		if err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		passed := r.write(&out, strict)
		if passed == strict {
			t.Errorf("strict=%v: passed=%v", strict, passed)
		}
		if !strings.Contains(out.String(), "--- SKIP: TestA (p)\n    a_test.go:3: firefox is not installed") {
			t.Errorf("strict=%v: the skip and its reason are not listed:\n%s", strict, out.String())
		}
	}
}

func TestAPackageThatFailsOutsideItsTests(t *testing.T) {
	const run = `{"ImportPath":"p [p.test]","Action":"build-output","Output":"# p\n"}
{"ImportPath":"p [p.test]","Action":"build-output","Output":"./a_test.go:3:1: syntax error\n"}
{"ImportPath":"p [p.test]","Action":"build-fail"}
{"Action":"start","Package":"p"}
{"Action":"output","Package":"p","Output":"FAIL\tp [build failed]\n"}
{"Action":"fail","Package":"p","Elapsed":0}
`
	r, err := read(strings.NewReader(run))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if r.write(&out, false) {
		t.Error("a build failure reported as passed")
	}
	if !strings.Contains(out.String(), "./a_test.go:3:1: syntax error") {
		t.Errorf("the build error is not shown:\n%s", out.String())
	}
}
