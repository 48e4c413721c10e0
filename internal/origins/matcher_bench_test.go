package origins

import (
	"fmt"
	"testing"
)

// benchMatcher is a site's configuration as one might write it: an exact
// origin, a subdomain pattern, a pattern over a parent that has public
// suffixes below it, and a regexp for preview deployments.
func benchMatcher(b *testing.B) *Matcher {
	var patterns []Pattern
	for _, v := range []string{"https://app.example.com", "https://*.example.com", "https://*.amazonaws.com"} {
		p, err := ParsePattern(v)
		if err != nil {
			b.Fatal(err)
		}
		patterns = append(patterns, p)
	}
	re, err := CompileRegexp(`https://pr-[0-9]+\.preview\.example\.net`)
	if err != nil {
		b.Fatal(err)
	}
	return NewMatcher(patterns, []*Regexp{re})
}

// floodOrigins are made-up subdomains, far more of them than any cache
// of the matcher holds, so that each one is new to it.
var floodOrigins = func() []string {
	origins := make([]string, 1<<16)
	for i := range origins {
		origins[i] = fmt.Sprintf("https://h%d.example.com", i)
	}
	return origins
}()

// BenchmarkMatcherAllows measures what judging one request's Origin costs
// by the way it is allowed or refused, on one core and on every core at
// once (_parallel), where whatever the matcher writes or counts on the
// allowed path is shared between cores.
//
//	go test -run '^$' -bench BenchmarkMatcherAllows -benchmem -count 8 ./internal/origins/
func BenchmarkMatcherAllows(b *testing.B) {
	for _, bm := range []struct {
		name, origin string
		want         bool
	}{
		{"exact", "https://app.example.com", true},
		{"subdomain_pattern", "https://api.eu.example.com", true},
		{"regexp", "https://pr-42.preview.example.net", true},
		{"refused", "https://app.example.org", false},
		{"refused_below_public_suffix", "https://bucket.s3.amazonaws.com", false},
	} {
		m := benchMatcher(b)
		if m.Allows(bm.origin) != bm.want {
			b.Fatalf("Allows(%q) != %v", bm.origin, bm.want)
		}
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if m.Allows(bm.origin) != bm.want {
					b.Fatal("verdict changed")
				}
			}
		})
		b.Run(bm.name+"_parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if m.Allows(bm.origin) != bm.want {
						b.Error("verdict changed")
						return
					}
				}
			})
		})
	}
	// Ten thousand exact origins, with and without a pattern beside them.
	many := make([]Pattern, 0, 10001)
	for i := range 10000 {
		p, err := ParsePattern(fmt.Sprintf("https://app%d.example.com", i))
		if err != nil {
			b.Fatal(err)
		}
		many = append(many, p)
	}
	onlyExact := NewMatcher(many, nil)
	p, err := ParsePattern("https://*.example.org")
	if err != nil {
		b.Fatal(err)
	}
	withPattern := NewMatcher(append(many, p), nil)
	for _, bm := range []struct {
		name, origin string
		m            *Matcher
		want         bool
	}{
		{"exact_of_10000", "https://app4321.example.com", onlyExact, true},
		{"refused_by_10000_exact", "https://app10000.example.com", onlyExact, false},
		{"subdomain_pattern_beside_10000_exact", "https://api.example.org", withPattern, true},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if bm.m.Allows(bm.origin) != bm.want {
					b.Fatalf("Allows(%q) != %v", bm.origin, bm.want)
				}
			}
		})
	}
	// Each origin new to the matcher: what a flood of made-up hosts costs,
	// a public suffix lookup each.
	b.Run("flood_of_made_up_subdomains", func(b *testing.B) {
		m := benchMatcher(b)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if !m.Allows(floodOrigins[i%len(floodOrigins)]) {
				b.Fatal("refused")
			}
			i++
		}
	})
}
