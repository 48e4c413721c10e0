package origins

import (
	"fmt"
	"hash/maphash"
	"strings"
	"sync"
	"testing"
)

func newTestMatcher(t *testing.T, values []string, exprs ...string) *Matcher {
	t.Helper()
	var patterns []Pattern
	for _, v := range values {
		p, err := ParsePattern(v)
		if err != nil {
			t.Fatal(err)
		}
		patterns = append(patterns, p)
	}
	var regexps []*Regexp
	for _, expr := range exprs {
		re, err := CompileRegexp(expr)
		if err != nil {
			t.Fatal(err)
		}
		regexps = append(regexps, re)
	}
	return NewMatcher(patterns, regexps)
}

func TestMatcher(t *testing.T) {
	m := newTestMatcher(t,
		[]string{"https://app.example.com", "https://*.example.org", "http://localhost:*", "https://*.example.net:*", "http://*.app.localhost:9200"},
		`https://[a-z]+\.example\.io`)
	tests := []struct {
		origin string
		want   bool
	}{
		{"https://app.example.com", true},
		{"https://App.example.com", false},      // byte for byte (R12)
		{"https://app.example.com:443", false},  // browsers leave the default port out
		{"https://app.example.com/", false},     // trailing slash
		{"http://app.example.com", false},       // another scheme is another origin
		{"https://app.example.com:8443", false}, // another port is another origin
		{"https://example.com", false},

		{"https://a.example.org", true},
		{"https://a.b.example.org", true}, // deep subdomains too
		{"https://example.org", false},    // not the apex
		{"https://evil-example.org", false},
		{"https://evilexample.org", false},
		{"https://example.org.evil.com", false},
		{"https://.example.org", false},
		{"http://a.example.org", false},
		{"https://a.example.org:8443", false},

		{"https://a.example.net", true},
		{"https://a.example.net:8443", true},
		{"https://example.net:8443", false},

		{"http://localhost", true},
		{"http://localhost:5173", true},
		{"https://localhost:5173", false},
		{"http://localhost.evil.com:5173", false},
		{"http://sub.localhost:5173", false},

		{"http://a.app.localhost:9200", true},
		{"http://b.c.app.localhost:9200", true},
		{"http://app.localhost:9200", false},
		{"http://evilapp.localhost:9200", false},
		{"http://a.app.localhost:9201", false},

		{"https://abc.example.io", true},
		{"https://abc.example.io.evil.com", false}, // anchored
		{"https://x.abc.example.io", false},
		{"null", false},
		{"", false},
		{"https://app.example.com, https://a.example.org", false},
	}
	for _, tt := range tests {
		if got := m.Allows(tt.origin); got != tt.want {
			t.Errorf("Allows(%q) = %v, want %v", tt.origin, got, tt.want)
		}
	}
}

func TestCompileRegexp(t *testing.T) {
	if _, err := CompileRegexp(`https://(`); err == nil || !strings.Contains(err.Error(), "does not compile") {
		t.Errorf("a broken expression: %v", err)
	}
	for _, expr := range []string{`.*`, `null`, `[a-z]+`, `https://.*|null`} {
		if _, err := CompileRegexp(expr); err == nil || !strings.Contains(err.Error(), `matches the origin "null"`) {
			t.Errorf("CompileRegexp(%q) = %v, want refused for matching null", expr, err)
		}
	}
	// Compiled as written first: wrapped in the anchors, this one would
	// compile as "^(?:https://app\.example\.com)|(x)$" and allow every
	// origin that starts with the allowed one.
	for _, expr := range []string{`https://app\.example\.com)|(x`, `a)|(b`, `x)(`} {
		if _, err := CompileRegexp(expr); err == nil || !strings.Contains(err.Error(), "does not compile") {
			t.Errorf("CompileRegexp(%q) = %v, want refused as not compiling", expr, err)
		}
	}
	re, err := CompileRegexp(`^https://a\.example$`)
	if err != nil || !re.MatchString("https://a.example") {
		t.Errorf("an expression already anchored still works: %v", err)
	}
}

// TestMatcherStaysWithinTheRegistrableDomain proves that a subdomain
// pattern never matches a host registered under a public suffix that lies
// below its parent: such a host is another site (R52).
func TestMatcherStaysWithinTheRegistrableDomain(t *testing.T) {
	m := newTestMatcher(t, []string{"https://*.amazonaws.com", "https://*.core.windows.net", "https://*.example.com", "http://*.localhost:*"})
	assertAllows(t, m, []allowsCase{
		{"https://console.amazonaws.com", true},
		{"https://bucket.s3.amazonaws.com", false}, // s3.amazonaws.com is a public suffix
		{"https://attacker-bucket.s3.amazonaws.com", false},
		{"https://s3.amazonaws.com", false}, // a public suffix is no site of amazonaws.com either
		{"https://api.core.windows.net", true},
		{"https://account.blob.core.windows.net", false}, // blob.core.windows.net is a public suffix
		{"https://a.b.example.com", true},
		{"http://a.b.localhost:3000", true},
	})
}

// TestMatcherRegexpStaysWithinTheRegistrableDomain proves the same of a
// regexp: one ending in amazonaws.com matches amazonaws.com's own hosts,
// not a bucket registered under the public suffix s3.amazonaws.com, which
// no analysis of the expression when it loads can rule out.
func TestMatcherRegexpStaysWithinTheRegistrableDomain(t *testing.T) {
	m := newTestMatcher(t, nil, `https://.*\.amazonaws\.com`, `https://[a-z0-9.-]+\.core\.windows\.net`, `https://app\.example\.org`)
	assertAllows(t, m, []allowsCase{
		{"https://console.amazonaws.com", true},
		{"https://attacker-bucket.s3.amazonaws.com", false},
		{"https://api.core.windows.net", true},
		{"https://account.blob.core.windows.net", false},
		{"https://app.example.org", true},
	})
}

// TestMatcherTrailingDot proves that a trailing-dot host is a distinct
// origin, allowed only where it is configured, byte for byte (R11, R12).
func TestMatcherTrailingDot(t *testing.T) {
	m := newTestMatcher(t, []string{"https://localhost.", "http://example.com.:3999", "https://*.example.org."}, `https://[a-z]+\.example\.net\.`)
	assertAllows(t, m, []allowsCase{
		{"https://localhost.", true},
		{"https://localhost", false},
		{"http://example.com.:3999", true},
		{"http://example.com:3999", false},
		{"https://a.example.org.", true},
		{"https://a.example.org", false},
		{"https://example.org.", false},
		{"https://app.example.net.", true},
		{"https://app.example.net", false},
	})
}

// With ten thousand exact origins, or as many subdomain patterns, the
// answer stays a handful of map lookups; this test only checks that the
// answers are right at that size (benchmarks measure the cost).
func TestMatcherManyOrigins(t *testing.T) {
	var values []string
	for i := range 10000 {
		values = append(values, fmt.Sprintf("https://app%d.example.com", i), fmt.Sprintf("https://*.tenant%d.example.com", i))
	}
	m := newTestMatcher(t, values)
	// Every exact origin, which share the table's slots and probe past
	// each other, and as many that only look like them.
	for i := range 10000 {
		if origin := fmt.Sprintf("https://app%d.example.com", i); !m.Allows(origin) {
			t.Fatalf("Allows(%q) = false", origin)
		}
		for _, origin := range []string{fmt.Sprintf("https://app%d.example.com", i+10000), fmt.Sprintf("http://app%d.example.com", i)} {
			if m.Allows(origin) {
				t.Fatalf("Allows(%q) = true", origin)
			}
		}
	}
	for _, tt := range []struct {
		origin string
		want   bool
	}{
		{"https://app9999.example.com", true},
		{"https://app10000.example.com", false},
		{"https://x.tenant42.example.com", true},
		{"https://tenant42.example.com", false},
	} {
		if got := m.Allows(tt.origin); got != tt.want {
			t.Errorf("Allows(%q) = %v, want %v", tt.origin, got, tt.want)
		}
	}
}

type allowsCase struct {
	origin string
	want   bool
}

func assertAllows(t *testing.T, m *Matcher, cases []allowsCase) {
	t.Helper()
	for _, tt := range cases {
		if got := m.Allows(tt.origin); got != tt.want {
			t.Errorf("Allows(%q) = %v, want %v", tt.origin, got, tt.want)
		}
	}
}

// TestMatcherRegexpJudgesEachWayOnItsOwn proves that a way through a
// regexp that writes out a host under a public suffix does not let a
// wider way match below it: each match must lie within the registrable
// domain of a way that matches it, as if the ways were written as
// separate expressions.
func TestMatcherRegexpJudgesEachWayOnItsOwn(t *testing.T) {
	joined := newTestMatcher(t, nil, `https://([a-z0-9-]+\.)*windows\.net|https://blob\.core\.windows\.net`)
	split := newTestMatcher(t, nil, `https://([a-z0-9-]+\.)*windows\.net`, `https://blob\.core\.windows\.net`)
	cases := []allowsCase{
		{"https://attacker.blob.core.windows.net", false}, // blob.core.windows.net is a public suffix
		{"https://blob.core.windows.net", true},           // written out in full
		{"https://api.windows.net", true},
		{"https://a.b.windows.net", true},
		{"https://windows.net", true},
		{"https://x.attacker.blob.core.windows.net", false},
	}
	assertAllows(t, joined, cases)
	assertAllows(t, split, cases)

	// The same with the ways in another order, under one optional part,
	// and across a port.
	for _, expr := range []string{
		`https://blob\.core\.windows\.net|https://([a-z0-9-]+\.)*windows\.net`,
		`https://(blob\.core\.|([a-z0-9-]+\.)*)windows\.net`,
		`https://(blob\.core\.windows\.net|([a-z0-9-]+\.)*windows\.net)(:8443)?`,
	} {
		assertAllows(t, newTestMatcher(t, nil, expr), cases)
	}
}

// TestCompileRegexpAnchorsTheWholeOrigin proves the expression must match
// the whole origin: not a prefix of it (another port, a longer host) nor
// a suffix (another scheme).
func TestCompileRegexpAnchorsTheWholeOrigin(t *testing.T) {
	re, err := CompileRegexp(`https://abc\.example\.io`)
	if err != nil {
		t.Fatal(err)
	}
	m := NewMatcher(nil, []*Regexp{re})
	for _, origin := range []string{"https://abc.example.io:8443", "https://abc.example.io.example.io", "xhttps://abc.example.io"} {
		if re.MatchString(origin) {
			t.Errorf("the expression matches %q", origin)
		}
		if m.Allows(origin) {
			t.Errorf("Allows(%q)", origin)
		}
	}
	if !m.Allows("https://abc.example.io") {
		t.Error("the origin written out is refused")
	}
}

// TestMatcherTrailingDotStaysWithinTheRegistrableDomain proves that a
// host's trailing dot does not hide its public suffix: bucket.s3.amazonaws.com.
// is registered under s3.amazonaws.com as much as bucket.s3.amazonaws.com is.
func TestMatcherTrailingDotStaysWithinTheRegistrableDomain(t *testing.T) {
	m := newTestMatcher(t, []string{"https://*.amazonaws.com."}, `https://[a-z0-9.-]+\.core\.windows\.net\.`)
	assertAllows(t, m, []allowsCase{
		{"https://bucket.s3.amazonaws.com.", false},
		{"https://console.amazonaws.com.", true},
		{"https://account.blob.core.windows.net.", false},
		{"https://api.core.windows.net.", true},
	})
}

// TestMatcherRegexpOfManyHosts proves that an alternation of hosts
// written out in full is judged one host at a time, whatever their
// number, and allows exactly those hosts.
func TestMatcherRegexpOfManyHosts(t *testing.T) {
	var hosts []string
	for i := 1; i <= 100; i++ {
		hosts = append(hosts, fmt.Sprintf(`https://app%d\.example\.com`, i))
	}
	re, err := CompileRegexp(strings.Join(hosts, "|"))
	if err != nil {
		t.Fatal(err)
	}
	if err := re.CheckHosts(); err != nil {
		t.Fatalf("CheckHosts: %v", err)
	}
	assertAllows(t, NewMatcher(nil, []*Regexp{re}), []allowsCase{
		{"https://app1.example.com", true},
		{"https://app57.example.com", true},
		{"https://app100.example.com", true},
		{"https://app101.example.com", false},
		{"https://x.app1.example.com", false},
	})
}

// TestMatcherPatternUnderAWildcardRule proves what a pattern over a
// parent with an exception rule matches: the registrable name and its
// subdomains, and nothing under the wildcard.
func TestMatcherPatternUnderAWildcardRule(t *testing.T) {
	assertAllows(t, newTestMatcher(t, []string{"https://*.kawasaki.jp"}), []allowsCase{
		{"https://city.kawasaki.jp", true},
		{"https://www.city.kawasaki.jp", true},
		{"https://x.kawasaki.jp", false}, // a public suffix
		{"https://a.x.kawasaki.jp", false},
	})
}

// TestVerdictCacheIsBounded proves that made-up origins cannot grow the
// cache of verdicts beyond its slots, in entries or in bytes, nor keep
// later origins out of it, and that answers stay right throughout.
func TestVerdictCacheIsBounded(t *testing.T) {
	m := newTestMatcher(t, []string{"https://*.amazonaws.com"})
	for i := range 4 * cachedVerdicts {
		// Allowed ones, and refused ones below a public suffix, which
		// are kept too; the longest host an origin can carry.
		if !m.Allows(fmt.Sprintf("https://h%d.amazonaws.com", i)) {
			t.Fatalf("host %d refused", i)
		}
		long := fmt.Sprintf("https://%0*d.%ss3.amazonaws.com", 60, i, strings.Repeat("x.", 88))
		if len(long) != len("https://")+maxHostLength || m.Allows(long) {
			t.Fatalf("%q (%d bytes) allowed", long, len(long))
		}
	}
	entries, bytes := cachedEntries(m)
	if entries > cachedVerdicts || bytes > cachedVerdicts*MaxLength {
		t.Errorf("cache holds %d verdicts in %d bytes, want at most %d in %d", entries, bytes, cachedVerdicts, cachedVerdicts*MaxLength)
	}
	m.Allows("https://real.amazonaws.com")
	if allowed, cached := m.verdicts.get(maphash.String(m.seed, "https://real.amazonaws.com"), "https://real.amazonaws.com"); !allowed || !cached {
		t.Error("after a flood of made-up hosts, a new origin is no longer cached")
	}
	assertAllows(t, m, []allowsCase{
		{"https://x.s3.amazonaws.com", false},
		{"https://h1.amazonaws.com", true},
		{"https://new.amazonaws.com", true},
	})
}

// TestVerdictCacheKeepsOnlyCostlyRefusals proves which refusals are kept:
// one that took a public suffix lookup, which would allocate again, and
// not one reached by parsing and map lookups alone, so that made-up
// origins outside every pattern write nothing.
func TestVerdictCacheKeepsOnlyCostlyRefusals(t *testing.T) {
	m := newTestMatcher(t, []string{"https://*.amazonaws.com"}, `https://[a-z]+\.example\.io`)
	for _, origin := range []string{"https://evil.example.org", "https://example.io.evil.org", "null", "https://App.amazonaws.com"} {
		if m.Allows(origin) {
			t.Fatalf("%q allowed", origin)
		}
	}
	if entries, _ := cachedEntries(m); entries != 0 {
		t.Errorf("refusals that took no public suffix lookup left %d verdicts", entries)
	}
	m.Allows("https://bucket.s3.amazonaws.com")
	if allowed, cached := m.verdicts.get(maphash.String(m.seed, "https://bucket.s3.amazonaws.com"), "https://bucket.s3.amazonaws.com"); allowed || !cached {
		t.Errorf("a refusal below a public suffix: cached %v, allowed %v; want cached and refused", cached, allowed)
	}
}

// TestVerdictCacheKeepsEachOriginsOwnVerdict proves that a cached verdict
// is served only to the origin it was reached for: with every origin in
// one set of slots, so that each shares its slot with the others and
// takes their place, a host below a public suffix is never allowed by the
// verdict of a host of its parent's registrable domain, nor an origin by
// the verdict of its own host on another scheme or port (R12, R52).
func TestVerdictCacheKeepsEachOriginsOwnVerdict(t *testing.T) {
	m := newTestMatcher(t, []string{"https://*.amazonaws.com", "https://*.example.com"}, `https://[a-z0-9.-]+\.core\.windows\.net`)
	m.verdicts.sets = 1
	cases := []allowsCase{
		{"https://console.amazonaws.com", true},
		{"https://bucket.s3.amazonaws.com", false},
		{"https://api.core.windows.net", true},
		{"https://account.blob.core.windows.net", false},
		{"https://a.example.com", true},
		{"http://a.example.com", false},
		{"https://a.example.com:8443", false},
		{"https://a.example.com.", false},
		{"https://x.s3.amazonaws.com", false},
		{"https://s3.amazonaws.com", false},
	}
	for range 3 {
		assertAllows(t, m, cases)
	}
	if entries, _ := cachedEntries(m); entries != cacheWays {
		t.Errorf("one set holds %d verdicts, want %d", entries, cacheWays)
	}
	// And in a full-sized table, the origins that share a slot with an
	// allowed one.
	m = newTestMatcher(t, []string{"https://*.amazonaws.com"})
	assertAllows(t, m, cases[:1])
	table := m.verdicts.table.Load()
	want := table.set(maphash.String(m.seed, "https://console.amazonaws.com"))
	shared := 0
	for i := 0; shared < 2*cacheWays; i++ {
		origin := fmt.Sprintf("https://b%d.s3.amazonaws.com", i)
		if table.set(maphash.String(m.seed, origin)) != want {
			continue
		}
		shared++
		assertAllows(t, m, []allowsCase{{origin, false}, {origin, false}, cases[0]})
	}
}

// TestMatcherAllowsWithoutAllocating proves that a warm allowed path
// allocates nothing, nor does a refusal, however it is reached.
func TestMatcherAllowsWithoutAllocating(t *testing.T) {
	m := newTestMatcher(t, []string{"https://app.example.com", "https://*.example.com", "https://*.amazonaws.com"},
		`https://pr-[0-9]+\.preview\.example\.net`, `https://(a|b)\.example\.io`)
	for _, tt := range []allowsCase{
		{"https://app.example.com", true},
		{"https://api.eu.example.com", true},
		{"https://pr-42.preview.example.net", true},
		{"https://a.example.io", true},
		{"https://bucket.s3.amazonaws.com", false},
		{"https://app.example.org", false},
		{"null", false},
	} {
		m.Allows(tt.origin) // warm
		if n := testing.AllocsPerRun(100, func() {
			if m.Allows(tt.origin) != tt.want {
				t.Fatalf("Allows(%q) != %v", tt.origin, tt.want)
			}
		}); n != 0 {
			t.Errorf("Allows(%q) allocates %v times", tt.origin, n)
		}
	}
}

// cachedEntries counts the verdicts m keeps and the bytes of their origins.
func cachedEntries(m *Matcher) (entries, bytes int) {
	table := m.verdicts.table.Load()
	if table == nil {
		return 0, 0
	}
	for i := range table.sets {
		for j := range table.sets[i] {
			if v := table.sets[i][j].Load(); v != nil {
				entries++
				bytes += len(v.origin)
			}
		}
	}
	return entries, bytes
}

// TestVerdictCacheConcurrently proves that requests judged at once keep,
// serve and replace verdicts without a race (run with -race), and each
// gets its own origin's verdict, with every origin in one set of slots.
func TestVerdictCacheConcurrently(t *testing.T) {
	m := newTestMatcher(t, []string{"https://*.amazonaws.com", "https://*.example.com"}, `https://pr-[0-9]+\.preview\.example\.net`)
	m.verdicts.sets = 1
	cases := []allowsCase{
		{"https://console.amazonaws.com", true},
		{"https://bucket.s3.amazonaws.com", false},
		{"https://a.example.com", true},
		{"https://a.example.com:8443", false},
		{"https://pr-1.preview.example.net", true},
		{"https://pr-1.x.preview.example.net", false},
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				tt := cases[(g+i)%len(cases)]
				if got := m.Allows(tt.origin); got != tt.want {
					t.Errorf("Allows(%q) = %v, want %v", tt.origin, got, tt.want)
					return
				}
			}
		}()
	}
	wg.Wait()
}
