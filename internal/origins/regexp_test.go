package origins

import (
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
