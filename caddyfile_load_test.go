package cors

import (
	"fmt"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
)

// regexpBlock is a Caddyfile whose cors block allows credentials and n
// origin_regexp lines, each in a domain of its own.
func regexpBlock(n int) []byte {
	var b strings.Builder
	b.WriteString("example.com {\n\tcors {\n\t\tcredentials\n")
	for i := range n {
		fmt.Fprintf(&b, "\t\torigin_regexp https://[a-z]+\\.t%d\\.example\\.com\n", i)
	}
	b.WriteString("\t}\n}\n")
	return []byte(b.String())
}

func adaptCaddyfile(tb testing.TB, body []byte) {
	tb.Helper()
	if _, _, err := caddyconfig.GetAdapter("caddyfile").Adapt(body, nil); err != nil {
		tb.Fatal(err)
	}
}

// TestAdaptingGrowsLinearlyWithTheBlock proves that adapting a block costs
// in proportion to its lines: each origin_regexp is judged a fixed number of
// times, not again after every later line. It counts allocations, which
// grow with the work and, unlike times, do not depend on the machine: four
// times the lines must cost about four times the allocations, where
// judging every regexp again after each line costs sixteen times.
func TestAdaptingGrowsLinearlyWithTheBlock(t *testing.T) {
	small, large := regexpBlock(100), regexpBlock(400)
	smallAllocs := testing.AllocsPerRun(1, func() { adaptCaddyfile(t, small) })
	largeAllocs := testing.AllocsPerRun(1, func() { adaptCaddyfile(t, large) })
	if ratio := largeAllocs / smallAllocs; ratio > 6 {
		t.Errorf("4 times the origin_regexp lines cost %.1f times the allocations (%.0f against %.0f), want about 4", ratio, largeAllocs, smallAllocs)
	}
}

// BenchmarkAdaptOriginRegexpLines measures adapting a Caddyfile whose cors
// block has credentials and many origin_regexp lines.
//
//	go test -run '^$' -bench BenchmarkAdaptOriginRegexpLines -benchmem .
func BenchmarkAdaptOriginRegexpLines(b *testing.B) {
	for _, n := range []int{250, 1000} {
		body := regexpBlock(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				adaptCaddyfile(b, body)
			}
		})
	}
}
