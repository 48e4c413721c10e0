package origins

import (
	"regexp/syntax"
	"runtime"
	"strings"
	"testing"
)

func TestRegexpCheckHosts(t *testing.T) {
	tests := []struct {
		expr string
		want []string // fragments of the finding; none: no finding
	}{
		// Hosts in a domain of one's own.
		{expr: `https://[a-z0-9-]+\.example\.com`},
		{expr: `https://pr-[0-9]+\.preview\.example\.net`},
		{expr: `https://(foo|bar)\.test(:8443)?|http://x\.test`},
		{expr: `https://(www\.)?example\.com`},
		{expr: `https://app\.example\.com`},
		{expr: `^https://a\.example$`},
		{expr: `http://localhost:[0-9]+`},
		{expr: `http://localhost:(3000|4000)`},
		{expr: `http://[a-z]+\.localhost:[0-9]+`},
		{expr: `http://\[::1\]:[0-9]+`},
		{expr: `https?://[a-z]+\.example\.com`},
		{expr: `[a-z]+://app\.example\.com`},
		{expr: `(?i)https://[a-z]+\.EXAMPLE\.com`},
		{expr: `https://[a-z]+\.example\.com(:[0-9]+)?`},
		{expr: `.*\.example\.com`},
		{expr: `https://(?:[a-z]+\.)*example\.com`}, // ends in example.com once the first label is taken as variable
		{expr: `https://[a-z]+\.example\.com\.`},

		// No fixed registrable domain.
		{expr: `https://.*`, want: []string{`origin_regexp "https://.*" matches hosts in any domain`, "https://*.example.com"}},
		{expr: `[a-z]+://.+`, want: []string{"matches hosts in any domain"}},
		{expr: `https?://[^/]+`, want: []string{"matches hosts in any domain"}},
		{expr: `https://.*:8443`, want: []string{"matches hosts in any domain"}},
		{expr: `https://app\.example\.com.*`, want: []string{"matches hosts in any domain"}},
		{expr: `https://app\.example\.com|https://.+`, want: []string{"matches hosts in any domain"}},
		{expr: `https?://([a-z]+\.example\.com|.*)`, want: []string{"matches hosts in any domain"}},
		{expr: `https://[a-z]+example`, want: []string{"matches hosts in any domain"}},
		{expr: `https://192\.168\.1\.[0-9]+`, want: []string{"matches hosts in any domain"}},
		{expr: `https:.*`, want: []string{"matches hosts in any domain"}}, // the ':' is the scheme's, not a port's
		{expr: `https?:.+`, want: []string{"matches hosts in any domain"}},
		{expr: `https:/+[a-z.-]+`, want: []string{"matches hosts in any domain"}},
		{expr: `.*\.example\.com:[0-9]+`, want: []string{"matches hosts in any domain"}}, // without "://" only a fixed port is taken as one
		{expr: `.*x\.example\.com:8080`},

		// IP addresses have no registrable domain.
		{expr: `https://[0-9]+\.1\.1\.1`, want: []string{"matches IP addresses it does not write out"}},
		{expr: `https://.*\.1\.1`, want: []string{"matches IP addresses it does not write out"}},
		{expr: `https://\[2001:.*`, want: []string{"matches IPv6 hosts it does not write out"}},

		// A fixed suffix that is a public suffix.
		{expr: `https://[a-z0-9-]+\.github\.io`, want: []string{`public suffix "github.io"`, `your-domain\.github\.io`}},
		{expr: `https://[a-z]+\.com`, want: []string{`public suffix "com"`}},
		{expr: `https://[a-z]+example\.com`, want: []string{`public suffix "com"`}}, // evilexample.com
		{expr: `https://[a-z]+\.co\.uk`, want: []string{`public suffix "co.uk"`}},
		{expr: `https://[a-z]+\.s3\.amazonaws\.com`, want: []string{`public suffix "s3.amazonaws.com"`}},
		{expr: `(?i)https://[a-z]+\.GITHUB\.IO`, want: []string{`public suffix "github.io"`}},
		{expr: `https://([a-z0-9-]+\.)+github\.io`, want: []string{`public suffix "github.io"`}},
	}
	for _, tt := range tests {
		re, err := CompileRegexp(tt.expr)
		if err != nil {
			t.Errorf("CompileRegexp(%q): %v", tt.expr, err)
			continue
		}
		err = re.CheckHosts()
		if len(tt.want) == 0 {
			if err != nil {
				t.Errorf("CheckHosts of %q = %v, want no finding", tt.expr, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("CheckHosts of %q found nothing, want %q", tt.expr, tt.want)
			continue
		}
		for _, want := range tt.want {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("CheckHosts of %q = %q, want it to contain %q", tt.expr, err, want)
			}
		}
	}
}

// TestRegexpCheckHostsBoundsItsWork proves an expression with many
// alternations is judged without writing out every way through it.
func TestRegexpCheckHostsBoundsItsWork(t *testing.T) {
	expr := strings.Repeat(`(a|b|c|d)`, 40) + `\.example\.com`
	if err := checkHosts(t, `https://`+expr); err != nil {
		t.Errorf("CheckHosts: %v", err)
	}
	if err := checkHosts(t, `https://`+strings.Repeat(`(a|b|c|d)`, 40)); err == nil {
		t.Error("an expression of alternations only names no domain, want a finding")
	}
}

// checkHosts compiles expr, which must compile, and gives its CheckHosts.
func checkHosts(t *testing.T, expr string) error {
	t.Helper()
	re, err := CompileRegexp(expr)
	if err != nil {
		t.Fatalf("CompileRegexp(%q): %v", expr, err)
	}
	return re.CheckHosts()
}

// TestCompileRegexpRefusesWhatCanNeverMatch proves that an expression, or
// one way through it, that only an origin browsers never send could take
// is refused when it loads, with the fix where there is one, as the same
// value is in origins.
func TestCompileRegexpRefusesWhatCanNeverMatch(t *testing.T) {
	tests := []struct {
		expr string
		want []string // fragments of the message
	}{
		{``, []string{"can never match", "only the empty string"}},
		{`https://app\.example\.com/`, []string{"can never match", "ends with a slash", `write https://app\.example\.com`}},
		{`https://App\.example\.com`, []string{"can never match", "not lower case", `write https://app\.example\.com`}},
		{`HTTPS://app\.example\.com`, []string{"can never match", "not lower case", `write https://app\.example\.com`}},
		{`https://app\.example\.com:443`, []string{"can never match", "default port 443", `write https://app\.example\.com`}},
		{`https://xn--zz\.example\.com`, []string{"can never match", `label "xn--zz"`, "not valid Punycode"}},
		{`https://app\.example\.com/api`, []string{"has a path", `write https://app\.example\.com`}},
		{`https://a\.example\.com|https://B\.example\.com`, []string{"has a branch that can never match", "not lower case", `write that branch as https://b\.example\.com`}},
		{`https?://app\.example\.com:443`, []string{"has a branch that can never match", "default port 443"}},
		{`(https://a\.example\.com)?`, []string{"has a branch that can never match", "only the empty string"}},
		{`https://[a-z]+\.Example\.com`, []string{"can never match", `upper-case letter 'E'`}},
		{`https://[a-z]+\.example\.com/`, []string{"can never match", "'/' after the host"}},
		{`https://[a-z]+\.example\.com:443`, []string{"can never match", "default port 443"}},
		{`https://[a-z]+\.example\.com:0443`, []string{"can never match", "without leading zeros"}},
		{`https://[a-z]+\.example\.com:99999`, []string{"can never match", "1-65535"}},
		{`https://[a-z]+\.xn--zz\.example`, []string{"can never match", `label "xn--zz"`}},
		{`https://[a-z]+\.example\.com\?`, []string{"can never match", `character '?'`}},
	}
	for _, tt := range tests {
		_, err := CompileRegexp(tt.expr)
		if err == nil {
			t.Errorf("CompileRegexp(%q) accepted it", tt.expr)
			continue
		}
		for _, want := range tt.want {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("CompileRegexp(%q) = %q, want it to contain %q", tt.expr, err, want)
			}
		}
	}
	// What browsers do send, however it is written.
	for _, expr := range []string{
		`(?i)HTTPS://APP\.EXAMPLE\.COM`, `https://app\.example\.com:8443`, `http://app\.example\.com:443`,
		`https://xn--bcher-kva\.example`, `https://[a-z]+\.xn--bcher-kva\.example`, `[a-z]+://app\.example\.com:443`,
		`https://[a-z]+\.example\.com(:[0-9]+)?`, `http://localhost:(3000|4000)`, `https://app\.example\.com\.`,
	} {
		if _, err := CompileRegexp(expr); err != nil {
			t.Errorf("CompileRegexp(%q): %v", expr, err)
		}
	}
}

// TestRegexpCheckHostsSaysWhereItsBoundIsHit proves that a product of
// alternatives too large to write out is refused for that reason, with
// the advice to split it, not as matching any domain.
func TestRegexpCheckHostsSaysWhereItsBoundIsHit(t *testing.T) {
	expr := `https://` + strings.Repeat(`(ab|cd)`, 10) + `(\.x\.example\.com|\.y\.example\.com)`
	err := checkHosts(t, expr)
	if err == nil || !strings.Contains(err.Error(), "more alternatives and optional parts than can be judged one by one") || !strings.Contains(err.Error(), "split it") {
		t.Errorf("CheckHosts = %v, want the bound named, with how to split", err)
	}
	// One factor fewer is written out in full.
	if err := checkHosts(t, `https://`+strings.Repeat(`(ab|cd)`, 9)+`(\.x\.example\.com|\.y\.example\.com)`); err != nil {
		t.Errorf("CheckHosts: %v", err)
	}
}

// TestRegexpCheckHostsRefusesWildcardPublicSuffixes proves that a regexp
// confined to a domain whose every child is a public suffix of its own
// is judged as one under a public suffix: every host it matches is
// another site.
func TestRegexpCheckHostsRefusesWildcardPublicSuffixes(t *testing.T) {
	for _, expr := range []string{`https://[a-z0-9-]+\.elb\.amazonaws\.com`, `https://[a-z]+\.sch\.uk`} {
		if err := checkHosts(t, expr); err == nil || !strings.Contains(err.Error(), "public suffix of its own") {
			t.Errorf("CheckHosts(%q) = %v, want refused", expr, err)
		}
	}
	if err := checkHosts(t, `https://[a-z]+\.city\.kawasaki\.jp`); err != nil {
		t.Errorf("city.kawasaki.jp is registrable: %v", err)
	}
}

// TestRegexpCheckHostsBoundsTheWaysConfinedToEachDomain proves that an
// expression whose ways end in several domains, too many to compile each
// domain's ways on their own, is judged as one whose hosts cannot be
// confined, and says how to split it.
func TestRegexpCheckHostsBoundsTheWaysConfinedToEachDomain(t *testing.T) {
	suffix := `[a-z]+(\.x\.example\.com|\.y\.example\.com)`
	if err := checkHosts(t, `https://`+strings.Repeat(`(ab|cd)`, 7)+suffix); err != nil {
		t.Errorf("256 ways: %v", err)
	}
	err := checkHosts(t, `https://`+strings.Repeat(`(ab|cd)`, 9)+suffix)
	if err == nil || !strings.Contains(err.Error(), "too many to keep each way within its own domain") || !strings.Contains(err.Error(), "split it") {
		t.Errorf("1024 ways: %v, want the bound named, with how to split", err)
	}
}

// TestJudgingARegexpGrowsLinearly proves that writing out the ways
// through an expression costs in proportion to what is written out:
// sixty-four ways (six optional characters) followed by six times as many
// parts must cost about six times the memory, where copying every way
// written out so far at each part costs thirty-six times. It counts bytes
// allocated, which, unlike time, does not depend on the machine.
func TestJudgingARegexpGrowsLinearly(t *testing.T) {
	allocated := func(parts int) uint64 {
		expr := `https://` + strings.Repeat(`[ab]?`, 6) + strings.Repeat(`(x\.)`, parts) + `example\.com`
		parsed, err := syntax.Parse(expr, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		ways := newExpander().expand(parsed)
		runtime.ReadMemStats(&after)
		if len(ways) != 64 {
			t.Fatalf("%d ways, want 64", len(ways))
		}
		return after.TotalAlloc - before.TotalAlloc
	}
	small, large := allocated(20), allocated(120)
	if ratio := float64(large) / float64(small); ratio > 9 {
		t.Errorf("six times the parts cost %.1f times the memory (%d bytes against %d), want about 6", ratio, large, small)
	}
}

// TestConfiningWaysToDomainsIsBounded proves that the expressions written
// out to keep each way within its domain count against the bound by what
// they hold: twenty Unicode classes of over a thousand ranges each, in
// sixty-four ways over two domains, is 480 bytes configured but tens of
// megabytes written out and compiled again (94 MB allocated, 8 s).
// Refused as too many to confine, it allocates a few megabytes. It counts
// bytes allocated, which, unlike time, does not depend on the machine.
func TestConfiningWaysToDomainsIsBounded(t *testing.T) {
	expr := `https://` + strings.Repeat(`(ab|cd)`, 5) + strings.Repeat(`[\pL\pN\pM\pS\pP]+\.`, 20) + `(\.x\.example\.com|\.y\.example\.com)`
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := checkHosts(t, expr)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "too many to keep each way within its own domain") {
		t.Errorf("CheckHosts: %v, want the bound named", err)
	}
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 16<<20 {
		t.Errorf("judging it allocated %d MB, want at most 16", allocated>>20)
	}
}

// TestWriteSyntaxMatchesWhatItWrites proves that an expression written
// out by writeSyntax matches what the parsed expression matches, for each
// operator and flag an origin_regexp can use.
func TestWriteSyntaxMatchesWhatItWrites(t *testing.T) {
	exprs := []string{
		`https://[a-z0-9-]+\.example\.com`, `(?i)HTTPS://[A-Z]+\.Example\.COM`, `https://[^.]+\.example\.com`,
		`https://\pL+\.example\.com`, `(?i)https://[\pL\pN]+\.example\.com`, `https://(?:a|bc|)\.x`,
		`https://a{2,3}\.x`, `https://a{2,}\.x`, `https://a{0}\.x`, `https://a*?\.x`, `https://(?s:.)+\.x`,
		`https://.+\.x`, `(?m)^https://a\.x$`, `\Ahttps://a\.x\z`, `https://a\b\.x\B`, `https://a$`,
		`https://[^\x00-\x{10FFFF}]`, `https://(?:)x`, `https://[.\-\]\\^]+\.x`, `https://a\.x(:[0-9]+)?`,
		`https://[\x{100}-\x{10FFFF}]\.x`, `https://ǅ\.x`, `(?i)https://ǅk\.x`,
	}
	inputs := []string{
		"https://a.example.com", "https://A.EXAMPLE.COM", "https://é.example.com", "https://a.b.example.com",
		"https://.x", "https://a.x", "https://bc.x", "https://aa.x", "https://aaa.x", "https://aaaa.x",
		"https://\n.x", "https://a\n.x", "https://a", "https://x", "https://-].x", "https://\\^.x",
		"https://a.x:8080", "https://ā.x", "https://ǅ.x", "https://ǆK.x", "https://Ǆk.x", "https://ǅK.x",
		"https://a.x\n", "https://9.example.com",
	}
	for _, expr := range exprs {
		parsed, err := syntax.Parse(expr, syntax.Perl)
		if err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		var b strings.Builder
		writeSyntax(&b, parsed)
		written, err := compileAnchored(b.String())
		if err != nil {
			t.Fatalf("%q written as %q does not compile: %v", expr, b.String(), err)
		}
		want, _ := compileAnchored(expr)
		for _, s := range inputs {
			if got, want := written.MatchString(s), want.MatchString(s); got != want {
				t.Errorf("%q written as %q matches %q: %v, want %v", expr, b.String(), s, got, want)
			}
		}
	}
}

// TestCompileRegexpBoundsRepetitions proves that an expression whose
// counted repetitions make more copies than an origin needs is refused
// when it loads: each copy can be busy at once for each character of an
// origin it is tried on, fifteen optional classes repeated {1,999} cost
// 66 ms a request. Repetitions are counted as they compile. Labels
// bounded as an origin holds them still load.
func TestCompileRegexpBoundsRepetitions(t *testing.T) {
	for _, expr := range []string{
		`https://(?:` + strings.Repeat(`[a-z.]?`, 15) + `){0,999}\.example\.com`,
		`https://(?:[a-z.]{0,1}){0,999}\.example\.com`,
		`https://` + strings.Repeat(`(?:[a-z]?){0,300}`, 10) + `\.example\.com`,
		// Counted as progSize counts it, 882 steps, but 1,201 compiled.
		`https://(?:(?:[a-z.]?){0,20}){0,20}\.example\.com`,
	} {
		_, err := CompileRegexp(expr)
		if err == nil || !strings.Contains(err.Error(), "repeats too much") || !strings.Contains(err.Error(), "[a-z0-9-]{1,63}") {
			t.Errorf("CompileRegexp(%q): %v, want it refused, with the fix", expr, err)
		}
	}
	for _, expr := range []string{
		`https://(?:[a-z0-9-]{1,63}\.){0,4}example\.com`,
		`https://[a-z0-9-]{1,63}(\.[a-z0-9-]{1,63}){0,3}\.example\.com(:[0-9]{1,5})?`,
		`https://[a-z0-9.-]{1,250}\.example\.com`,
	} {
		if _, err := CompileRegexp(expr); err != nil {
			t.Errorf("CompileRegexp(%q): %v", expr, err)
		}
	}
}
