package origins

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// fuzzPatterns is the fixed set of configured origins a fuzzed request
// origin is matched against; each fuzz input picks a subset of it with a
// bit mask, and may add one fuzzed pattern of its own.
var fuzzPatterns = []string{
	"https://app.example.com",
	"http://127.0.0.1:8080",
	"https://*.example.org",
	"http://localhost:*",
	"https://*.example.net:*",
	"http://*.app.localhost:9200",
	"http://[::1]:*",
	"wss://*.xn--bcher-kva.example",
	"custom+scheme://host.test:7",
	"https://[2001:db8::1]",
}

// fuzzRegexps are the configured origin regular expressions, picked the
// same way (the bits after those of fuzzPatterns).
var fuzzRegexps = []string{
	`https://[a-z0-9-]+\.example\.io`,
	`http://localhost:(3000|4000)`,
	`https://(foo|bar)\.test(:8443)?|http://x\.test`,
}

// FuzzMatcher checks that parsing and matching never panic, and that the
// Matcher allows exactly what a slow reference matcher, written from the
// rules with net/url and plain string comparisons, allows: never an origin
// that no configured pattern allows (R12, R14, R16), and no refusal of an
// origin a pattern names.
func FuzzMatcher(f *testing.F) {
	for _, origin := range []string{
		"https://app.example.com", "https://App.example.com", "https://app.example.com/",
		"https://app.example.com:443", "https://a.example.org", "https://a.b.example.org",
		"https://example.org", "https://.example.org", "https://evilexample.org",
		"https://example.org.evil.com", "http://a.example.org", "https://a.example.org:8443",
		"http://localhost", "http://localhost:5173", "http://localhost:0", "http://localhost:65536",
		"http://localhost:05173", "http://localhost:", "https://localhost:3000", "http://[::1]:3000",
		"http://[::1]", "http://[0:0:0:0:0:0:0:1]", "https://x.example.net", "https://x.example.net:1",
		"http://a.app.localhost:9200", "http://app.localhost:9200", "wss://b.xn--bcher-kva.example",
		"custom+scheme://host.test:7", "https://[2001:db8::1]", "https://foo.test:8443", "http://x.test",
		"https://a-b.example.io", "http://localhost:3000", "null", "", "https://", "https://a.example.org.",
		"https://a..example.org", "https://a_b.example.org", "https://a\x00.example.org", "https://é.example.org",
		"https://app.example.com, https://a.example.org", strings.Repeat("a", 400),
	} {
		f.Add(origin, uint16(0xffff), "")
	}
	f.Add("https://a.b.c.d", uint16(0), "https://*.c.d")
	f.Add("http://host:1", uint16(0), "http://host:*")
	f.Add("https://x.co.uk", uint16(0), "https://*.x.co.uk")
	f.Add("http://10.0.0.1:80", uint16(0), "http://10.0.0.1")
	// Trailing dots, Punycode, patterns over public suffixes below their
	// parent, and regexps that can or cannot match hosts outside a domain.
	f.Add("https://localhost.", uint16(0), "https://localhost.")
	f.Add("http://example.com.:3999", uint16(0), "http://example.com.:3999")
	f.Add("https://a.example.org.", uint16(0), "https://*.example.org.")
	f.Add("http://127.0.0.1.", uint16(0), "http://127.0.0.1.")
	f.Add("http://xn--f", uint16(0), "http://xn--f")
	f.Add("https://xn--zz.example", uint16(0), "https://*.xn--zz.example")
	f.Add("https://xn--bcher-kva.example", uint16(0), "https://xn--bcher-kva.example")
	f.Add("https://bucket.s3.amazonaws.com", uint16(0), "https://*.amazonaws.com")
	f.Add("https://a.blob.core.windows.net", uint16(0), "https://*.core.windows.net")
	f.Add("https://attacker.example", uint16(0), `https://.*`)
	f.Add("https://x.github.io", uint16(0), `https://[a-z0-9-]+\.github\.io`)
	f.Add("https://a.example.com", uint16(0), `https?://([a-z]+\.)*example\.com(:[0-9]+)?`)
	f.Add("https://app.example.com.evil.com", uint16(0), `https://app\.example\.com)|(x`)

	f.Fuzz(func(t *testing.T, origin string, mask uint16, extra string) {
		var configured []string
		for i, p := range fuzzPatterns {
			if mask&(1<<i) != 0 {
				configured = append(configured, p)
			}
		}
		var exprs []string
		for i, e := range fuzzRegexps {
			if mask&(1<<(len(fuzzPatterns)+i)) != 0 {
				exprs = append(exprs, e)
			}
		}
		if p, err := ParsePattern(extra); err == nil {
			// An accepted pattern is written exactly as it is stored: the
			// configuration is canonical, never silently rewritten.
			if got := p.String(); got != extra {
				t.Fatalf("ParsePattern(%q) accepted it as %q", extra, got)
			}
			configured = append(configured, extra)
		} else if err.Error() == "" {
			t.Fatalf("ParsePattern(%q): empty error", extra)
		}
		checkRegexpAnalysis(t, extra)
		if p, err := ParsePattern(extra); err == nil {
			if label := refInvalidPunycode(p.Host); label != "" {
				t.Fatalf("ParsePattern(%q) accepted the label %q, which is not valid Punycode", extra, label)
			}
		}

		if o, ok := Parse(origin); ok && o.String() != origin {
			t.Fatalf("Parse(%q) = %q: a parsed origin must serialize back byte for byte", origin, o.String())
		}

		var patterns []Pattern
		for _, s := range configured {
			p, err := ParsePattern(s)
			if err != nil {
				t.Fatalf("fixed pattern %q: %v", s, err)
			}
			patterns = append(patterns, p)
		}
		var regexps []*Regexp
		for _, e := range exprs {
			re, err := CompileRegexp(e)
			if err != nil {
				t.Fatalf("fixed regexp %q: %v", e, err)
			}
			regexps = append(regexps, re)
		}
		got := NewMatcher(patterns, regexps).Allows(origin)
		want := refAllows(configured, exprs, origin)
		if got != want {
			t.Fatalf("Allows(%q) = %v, reference says %v; patterns %q, regexps %q", origin, got, want, configured, exprs)
		}
	})
}

// fuzzAttackerHosts are hosts no fuzzed expression names on purpose: one
// in a domain of its own, one under a public suffix.
var fuzzAttackerHosts = []string{"q-fuzz-attacker.invalid", "q-fuzz-attacker.github.io", "q-fuzz-attacker.invalid."}

// checkRegexpAnalysis checks CompileRegexp and CheckHosts on expr:
// an expression is compiled as written before it is anchored, and one
// that CheckHosts finds confined to a domain never matches a host
// of an attacker's.
func checkRegexpAnalysis(t *testing.T, expr string) {
	re, err := CompileRegexp(expr)
	if err != nil {
		return
	}
	if _, err := regexp.Compile(expr); err != nil {
		t.Fatalf("CompileRegexp(%q) accepted an expression that does not compile as written: %v", expr, err)
	}
	if re.CheckHosts() != nil {
		return
	}
	for _, host := range fuzzAttackerHosts {
		for _, origin := range []string{"https://" + host, "http://" + host, "https://" + host + ":8443"} {
			if re.MatchString(origin) {
				t.Fatalf("CheckHosts of %q found nothing, but it matches %q", expr, origin)
			}
		}
	}
}

// refInvalidPunycode is the reference check of "xn--" labels, through
// the IDNA lookup profile: each must decode and encode back to itself.
func refInvalidPunycode(host string) string {
	name := strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	for _, label := range strings.Split(name, ".") {
		// Only a label that starts with the ACE prefix is Punycode:
		// "0xn--" is a plain ASCII label.
		if !strings.HasPrefix(label, "xn--") {
			continue
		}
		unicode, err := idna.Lookup.ToUnicode(label)
		if err != nil {
			return label
		}
		if ascii, err := idna.Lookup.ToASCII(unicode); err != nil || ascii != label {
			return label
		}
	}
	return ""
}

// refOrigin is the reference parser of a request origin: whatever net/url
// makes of it, accepted only if it is written exactly as a browser writes
// an origin (R11): lower-case scheme "://" host [":" port], nothing else.
func refOrigin(s string) (scheme, host, port string, ok bool) {
	if len(s) > MaxLength {
		return "", "", "", false
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Opaque != "" || u.User != nil || u.Path != "" ||
		u.RawPath != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.RawFragment != "" {
		return "", "", "", false
	}
	if s != u.Scheme+"://"+u.Host || strings.HasSuffix(u.Host, ":") {
		return "", "", "", false
	}
	scheme, port = u.Scheme, u.Port()
	host = strings.TrimSuffix(u.Host, ":"+port)
	if port != "" && !refPort(scheme, port) {
		return "", "", "", false
	}
	if strings.HasPrefix(host, "[") {
		inner := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
		if inner == "" || strings.Trim(inner, "0123456789abcdef:.") != "" {
			return "", "", "", false
		}
		return scheme, host, port, true
	}
	// A trailing dot is part of the host, a distinct origin (R11).
	name := strings.TrimSuffix(host, ".")
	if len(name) > 253 || !refLabels(name) {
		return "", "", "", false
	}
	return scheme, host, port, true
}

// refLabels reports whether host is one or more dot-separated, non-empty
// labels of lower-case letters, digits, '-' and '_'.
func refLabels(host string) bool {
	for _, label := range strings.Split(host, ".") {
		if label == "" || strings.Trim(label, "abcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			return false
		}
	}
	return true
}

// refPort accepts 1-65535 in decimal without leading zeros, other than
// the scheme's default port, which browsers leave out.
func refPort(scheme, port string) bool {
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
		return false
	}
	switch scheme {
	case "http", "ws":
		return port != "80"
	case "https", "wss":
		return port != "443"
	}
	return true
}

// refAllows is the reference matcher: an origin is allowed if it is a
// well-formed origin and one configured value allows it, compared as
// strings: exact equality; a subdomain pattern when the host ends with
// "." and the parent domain after one or more labels, with the same scheme
// and the same port (or any port); a port wildcard when scheme and host
// are equal; a regular expression when it matches the whole origin.
func refAllows(patterns, exprs []string, origin string) bool {
	scheme, host, port, ok := refOrigin(origin)
	if !ok {
		return false
	}
	for _, p := range patterns {
		pScheme, rest, _ := strings.Cut(p, "://")
		rest, subdomains := strings.CutPrefix(rest, "*.")
		rest, anyPort := strings.CutSuffix(rest, ":*")
		pHost, pPort := rest, ""
		if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.HasSuffix(rest, "]") {
			pHost, pPort = rest[:i], rest[i+1:]
		}
		if pScheme != scheme || !anyPort && pPort != port {
			continue
		}
		if !subdomains && pHost == host {
			return true
		}
		if subdomains {
			// Within the registrable domain the pattern names: a host
			// whose public suffix is longer than the parent is under a
			// public suffix below it, another site (R52).
			prefix, found := strings.CutSuffix(host, "."+pHost)
			suffix, _ := publicsuffix.PublicSuffix(strings.TrimSuffix(host, "."))
			if found && prefix != "" && refLabels(prefix) && len(suffix) <= len(strings.TrimSuffix(pHost, ".")) {
				return true
			}
		}
	}
	for _, e := range exprs {
		// Leftmost-longest: if some match spans the whole origin, the
		// longest match at offset 0 does.
		re := regexp.MustCompile(e)
		re.Longest()
		if loc := re.FindStringIndex(origin); loc != nil && loc[0] == 0 && loc[1] == len(origin) {
			return true
		}
	}
	return false
}

// FuzzRegexpWays checks the fast paths of an origin_regexp against slow
// references: the ways CompileRegexp writes out match, together, exactly
// what the expression matches; and the Matcher, which finds the ways to
// try by the request host's parent domains, allows exactly what trying
// every way one by one allows, each only within the registrable domain
// its hosts end in (R52).
func FuzzRegexpWays(f *testing.F) {
	for _, seed := range []struct{ expr, origin string }{
		{`https://([a-z0-9-]+\.)*windows\.net|https://blob\.core\.windows\.net`, "https://attacker.blob.core.windows.net"},
		{`https://([a-z0-9-]+\.)*windows\.net|https://blob\.core\.windows\.net`, "https://blob.core.windows.net"},
		{`https://(blob\.core\.|([a-z0-9-]+\.)*)windows\.net(:8443)?`, "https://api.windows.net:8443"},
		{`https://[a-z0-9.-]+\.amazonaws\.com\.`, "https://bucket.s3.amazonaws.com."},
		{`https?://(app|api)\.example\.(com|org)(:[0-9]+)?`, "http://api.example.org:8080"},
		{`https://app1\.example\.com|https://app2\.example\.com|https://app10\.example\.com`, "https://app10.example.com"},
		{`(?i)HTTPS://[a-z]+\.Example\.com`, "https://x.example.com"},
		{`https://[a-z]+\.example\.com\b|https://x\.test$`, "https://a.example.com"},
		{`https://(?:a\.){2}[a-z]+\.example\.com`, "https://a.a.b.example.com"},
		{`https://[a-z]+\.(x|y)\.example\.com|https://.*\.evil\.test`, "https://q.evil.test"},
		{`http://localhost:(3000|4000)`, "http://localhost:3000"},
		// Ways over several domains, each domain's written out again:
		// case-folded, Unicode and negated classes, flags, assertions.
		{`https://(ab|cd)(?i)[^.]+(\.x\.Example\.com|\.y\.example\.com)`, "https://abq.y.example.com"},
		{`https://\pL+\.(xx|yy)\.test|https://(?s:.)\b[a-z]*?\.z\.test(:[0-9]{1,5})?`, "https://éa.xx.test"},
		{`(?m)^https://[^\pN.]{2,3}\.(a\.test|b\.test)$`, "https://zz.b.test"},
	} {
		f.Add(seed.expr, seed.origin)
	}
	f.Fuzz(func(t *testing.T, expr, origin string) {
		if len(expr) > 256 {
			return // the work is bounded; the search is better spent on short ones
		}
		r, err := CompileRegexp(expr)
		if err != nil {
			return
		}
		if len(r.ways) > 64 {
			return // compiling each way on its own would make the target slow
		}
		ways := compileWays(t, r)
		anyWay := false
		for _, re := range ways {
			anyWay = anyWay || re.MatchString(origin)
		}
		if matches := r.MatchString(origin); anyWay != matches {
			t.Fatalf("%q matches %q: %v, but its ways written out: %v", expr, origin, matches, anyWay)
		}

		want := refRegexpAllows(r, ways, origin)
		if got := NewMatcher(nil, []*Regexp{r}).Allows(origin); got != want {
			t.Fatalf("Allows(%q) = %v with origin_regexp %q, trying each way says %v", origin, got, expr, want)
		}
	})
}

// compileWays compiles each way through r on its own, anchored.
func compileWays(t testing.TB, r *Regexp) []*regexp.Regexp {
	ways := make([]*regexp.Regexp, len(r.ways))
	for i, w := range r.ways {
		var b strings.Builder
		for _, part := range w.parts {
			b.WriteString("(?:" + part.String() + ")")
		}
		re, err := compileAnchored(b.String())
		if err != nil {
			t.Fatalf("way %d of %q, %q, does not compile: %v", i, r, b.String(), err)
		}
		ways[i] = re
	}
	return ways
}

// refRegexpAllows is the reference verdict of an origin_regexp r, whose
// ways compileWays compiled: origin is allowed if a way matches it and
// its host lies within the registrable domain that way's hosts end in,
// or if r has nothing to confine to a domain.
func refRegexpAllows(r *Regexp, ways []*regexp.Regexp, origin string) bool {
	_, host, _, ok := refOrigin(origin)
	if !ok {
		return false
	}
	for i, w := range r.ways {
		if !ways[i].MatchString(origin) {
			continue
		}
		domain, _, err := checkBranchHost(r.expr, w.pieces)
		if r.CheckHosts() != nil || err == nil && refWithin(host, domain) {
			return true
		}
	}
	return false
}

// refWithin reports whether host lies within the registrable domain of
// domain: it is domain, or a name under it whose public suffix is no
// longer than domain.
func refWithin(host, domain string) bool {
	name := strings.TrimSuffix(host, ".")
	if name == domain {
		return true
	}
	suffix, _ := publicsuffix.PublicSuffix(name)
	return strings.HasSuffix(name, "."+domain) && len(suffix) <= len(domain)
}

// cacheFuzzPatterns and cacheFuzzRegexps are the configured values
// FuzzMatcherCache picks from: patterns whose parents have public
// suffixes below them, trailing dots, ports, addresses, and regexps
// confined to a domain or with nothing to confine.
var (
	cacheFuzzPatterns = []string{
		"https://app.example.com",
		"https://*.example.com",
		"https://*.amazonaws.com",
		"http://*.amazonaws.com:*",
		"https://*.core.windows.net.",
		"https://*.kawasaki.jp",
		"http://localhost:*",
		"https://*.example.org:8443",
		"http://127.0.0.1:*",
		"https://[::1]",
	}
	cacheFuzzRegexps = []string{
		`https://[a-z0-9.-]+\.amazonaws\.com`,
		`https://pr-[0-9]+\.preview\.example\.net(:[0-9]+)?`,
		`https://(foo|bar)\.test(:8443)?`,
		`https?://([a-z0-9-]+\.)*windows\.net|https://blob\.core\.windows\.net`,
	}
)

// FuzzMatcherCache checks the verdicts Allows serves from its cache
// against a slow reference that keeps nothing and looks up the public
// suffix of every host it judges (refAllows, refRegexpAllows): a subset of
// the configured values, picked by mask, and one fuzzed pattern; origins
// separated by spaces, each asked three times, in order, back to front and
// in order again, of a Matcher of the full size and of one whose origins
// all share one set of slots, so that verdicts are kept, served to the
// same origin, and replaced by those of others (R12, R52).
func FuzzMatcherCache(f *testing.F) {
	regexps := make([]*Regexp, len(cacheFuzzRegexps))
	ways := make([][]*regexp.Regexp, len(cacheFuzzRegexps))
	for i, expr := range cacheFuzzRegexps {
		re, err := CompileRegexp(expr)
		if err != nil {
			f.Fatal(err)
		}
		regexps[i], ways[i] = re, compileWays(f, re)
	}
	for _, seed := range []struct {
		origins string
		extra   string
	}{
		{"https://console.amazonaws.com https://bucket.s3.amazonaws.com https://console.amazonaws.com https://s3.amazonaws.com", ""},
		{"http://bucket.s3.amazonaws.com:8080 http://console.amazonaws.com:8080 https://console.amazonaws.com:8080", ""},
		{"https://api.eu.example.com https://api.eu.example.com. https://api.eu.example.com:8443 http://api.eu.example.com https://API.eu.example.com", ""},
		{"https://a.example.org:8443 https://a.example.org https://example.org:8443 https://a.example.org.:8443", ""},
		{"https://api.core.windows.net. https://x.blob.core.windows.net. https://api.core.windows.net https://blob.core.windows.net", ""},
		{"https://attacker.blob.core.windows.net https://a.b.windows.net http://a.windows.net https://windows.net", ""},
		{"http://127.0.0.1:3000 http://127.0.0.1 http://127.0.0.1.:3000 https://[::1] https://[::1]:8443 http://[::1]:3000", ""},
		{"http://localhost:5173 http://localhost http://localhost.:5173 http://sub.localhost:5173", ""},
		{"https://city.kawasaki.jp https://x.kawasaki.jp https://www.city.kawasaki.jp https://a.x.kawasaki.jp", ""},
		{"https://pr-1.preview.example.net https://pr-1.x.preview.example.net https://pr-1.preview.example.net:8443 https://foo.test:8443 https://foo.test https://baz.test", ""},
		{"https://b.a.github.io https://a.github.io https://c.b.a.github.io https://x.github.io", "https://*.a.github.io"},
		{"https://x.s3.amazonaws.com https://y.x.s3.amazonaws.com", "https://*.x.s3.amazonaws.com"},
		{"null  https:// https://a..example.com https://a.example.com/ " + strings.Repeat("a", 400), ""},
		{"https://h1.example.com https://h2.example.com https://h3.example.com https://h4.example.com https://h5.example.com " +
			"https://b1.s3.amazonaws.com https://h1.example.com https://b1.s3.amazonaws.com https://h6.example.com https://h1.example.com", ""},
	} {
		f.Add(seed.origins, uint16(0xffff), seed.extra)
		f.Add(seed.origins, uint16(0x5555), seed.extra)
	}
	f.Fuzz(func(t *testing.T, origins string, mask uint16, extra string) {
		var configured []string
		for i, p := range cacheFuzzPatterns {
			if mask&(1<<i) != 0 {
				configured = append(configured, p)
			}
		}
		if p, err := ParsePattern(extra); err == nil && p.String() == extra {
			configured = append(configured, extra)
		}
		var patterns []Pattern
		for _, s := range configured {
			p, err := ParsePattern(s)
			if err != nil {
				t.Fatalf("fixed pattern %q: %v", s, err)
			}
			patterns = append(patterns, p)
		}
		var picked []int
		var exprs []string
		var chosen []*Regexp
		for i, expr := range cacheFuzzRegexps {
			if mask&(1<<(len(cacheFuzzPatterns)+i)) != 0 {
				picked = append(picked, i)
				exprs = append(exprs, expr)
				chosen = append(chosen, regexps[i])
			}
		}
		list := strings.Split(origins, " ")
		if len(list) > 16 {
			list = list[:16]
		}
		want := make([]bool, len(list))
		for i, origin := range list {
			want[i] = refAllows(configured, nil, origin)
			for _, j := range picked {
				want[i] = want[i] || refRegexpAllows(regexps[j], ways[j], origin)
			}
		}
		full := NewMatcher(patterns, chosen)
		oneSet := NewMatcher(patterns, chosen)
		oneSet.verdicts.sets = 1
		for round := range 3 {
			for k := range list {
				i := k
				if round == 1 {
					i = len(list) - 1 - k
				}
				for _, m := range []*Matcher{full, oneSet} {
					if got := m.Allows(list[i]); got != want[i] {
						t.Fatalf("round %d: Allows(%q) = %v, reference says %v; patterns %q, regexps %q, origins %q",
							round, list[i], got, want[i], configured, exprs, list)
					}
				}
			}
		}
	})
}
