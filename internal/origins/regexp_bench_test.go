package origins

import (
	"fmt"
	"strings"
	"testing"
)

// loadRegexps are origin_regexp values as CompileRegexp meets them when a
// configuration loads, each at most 1 KB (the bound of the load-time
// target: 50 ms and 64 MiB each, on 2 cores) but 100_hosts, 2.7 KB.
var loadRegexps = []struct{ name, expr string }{
	{"one_subdomain_level", `https://[a-z0-9-]+\.example\.com`},
	// 262 bytes: six optional characters (64 ways) before a part that
	// repeats a 100-byte literal a thousand times.
	{"optional_prefix_before_big_repeat", `https://[ab]?[ab]?[ab]?[ab]?[ab]?[ab]?(?:` + strings.Repeat("x", 100) + `){1000}` + strings.Repeat(`\.`, 50) + `\.example\.com`},
	{"100_hosts", hostsAlternation(100)},
	// A product of ways over two domains, each domain's ways compiled on
	// their own, and four times as many, too many for that.
	{"256_ways_2_domains", `https://` + strings.Repeat(`(ab|cd)`, 7) + `[a-z]+(\.x\.example\.com|\.y\.example\.com)`},
	{"1024_ways_2_domains", `https://` + strings.Repeat(`(ab|cd)`, 9) + `[a-z]+(\.x\.example\.com|\.y\.example\.com)`},
	// As many ways, every host written out: nothing to confine.
	// Ways over two domains through classes that are costly to write
	// out again: a case-folded [^.] (every character but one), and
	// Unicode classes of over a thousand ranges (refused: too many to
	// confine).
	{"256_ways_2_domains_folded_class", `https://` + strings.Repeat(`(ab|cd)`, 7) + `(?i)[^.]+(\.x\.example\.com|\.y\.example\.com)`},
	{"64_ways_2_domains_20_unicode_classes", `https://` + strings.Repeat(`(ab|cd)`, 5) + strings.Repeat(`[\pL\pN\pM\pS\pP]+\.`, 20) + `(\.x\.example\.com|\.y\.example\.com)`},
	{"1024_hosts_written_out", `https://` + strings.Repeat(`(ab|cd)`, 9) + `(\.x\.example\.com|\.y\.example\.com)`},
	// The most repetition accepted, one beyond it, refused, and a program
	// larger than any origin needs, refused before the repetitions are
	// counted.
	{"largest_repetition", `https://(?:` + strings.Repeat("x", 10) + `){0,90}\.example\.com`},
	{"repetition_too_large", `https://(?:` + strings.Repeat("x", 100) + `){0,300}\.example\.com`},
	{"program_too_large", `https://(?:` + strings.Repeat("x", 100) + `){0,400}\.example\.com`},
	{"products_beyond_the_bound", `https://` + strings.Repeat(`(ab|cd)`, 40) + `\.example\.com`},
	{"1KB_of_optional_parts", `https://` + strings.Repeat(`(a\.)?`, 167) + `example\.com`},
	{"1KB_of_nested_groups", `https://` + strings.Repeat(`(?:a|`, 165) + `b` + strings.Repeat(`)`, 165) + `\.example\.com`},
}

func hostsAlternation(n int) string {
	hosts := make([]string, n)
	for i := range hosts {
		hosts[i] = fmt.Sprintf(`https://app%d\.example\.com`, i+1)
	}
	return strings.Join(hosts, "|")
}

// BenchmarkCompileRegexp measures what judging one origin_regexp costs
// when a configuration loads.
//
//	go test -run '^$' -bench BenchmarkCompileRegexp -benchmem ./internal/origins/
func BenchmarkCompileRegexp(b *testing.B) {
	for _, bm := range loadRegexps {
		b.Run(fmt.Sprintf("%s_%dB", bm.name, len(bm.expr)), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := CompileRegexp(bm.expr); err != nil && !strings.Contains(err.Error(), "origin_regexp") {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAllowsRegexp measures what one origin costs against an
// origin_regexp whose counted repetitions are as busy as the bound
// allows, next to an ordinary one: each origin is made up, under the
// expression's domain, as long as an origin can be, and matches nothing.
//
//	go test -run '^$' -bench BenchmarkAllowsRegexp ./internal/origins/
func BenchmarkAllowsRegexp(b *testing.B) {
	origin := "https://" + strings.Repeat("a.", 120) + "-.example.com"
	for _, bm := range []struct{ name, expr string }{
		{"one_label", `https://[a-z0-9-]+\.example\.com`},
		{"labels_bounded", `https://(?:[a-z0-9-]{1,63}\.){0,4}example\.com`},
		{"optional_class_340", `https://(?:[a-z.]?){0,340}\.example\.com`},
		{"two_optional_classes_170", `https://(?:[a-z.]?[a-z.]?){0,170}\.example\.com`},
		{"nested_optional_17x17", `https://(?:(?:[a-z.]?){0,17}){0,17}\.example\.com`},
		{"class_or_two_200", `https://(?:[a-z.]|[a-z.]{2}){0,200}\.example\.com`},
	} {
		re, err := CompileRegexp(bm.expr)
		if err != nil {
			b.Fatal(err)
		}
		m := NewMatcher(nil, []*Regexp{re})
		b.Run(bm.name, func(b *testing.B) {
			for b.Loop() {
				if m.Allows(origin) {
					b.Fatalf("%s allows %s", bm.expr, origin)
				}
			}
		})
	}
}
