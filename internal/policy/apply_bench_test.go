package policy

import (
	"net/http"
	"testing"
)

// BenchmarkApply applies an allowed actual request's answer to a header
// map as a response has it when it is committed: Caddy's Server header,
// and, as every response encode may compress has, Vary: Accept-Encoding.
func BenchmarkApply(b *testing.B) {
	p, err := New(Config{Origins: []string{"https://app.example.com"}})
	if err != nil {
		b.Fatal(err)
	}
	answer, _ := p.Actual([]string{"https://app.example.com"})
	server, encoded := []string{"Caddy"}, []string{"Accept-Encoding"}
	for _, bc := range []struct {
		name string
		vary []string
	}{{"no_vary", nil}, {"vary_encode", encoded}} {
		b.Run(bc.name, func(b *testing.B) {
			h := http.Header{}
			b.ReportAllocs()
			for range b.N {
				clear(h)
				h["Server"] = server
				if bc.vary != nil {
					h["Vary"] = bc.vary
				}
				answer.Apply(h)
			}
		})
	}
}

// BenchmarkActual decides an allowed actual request, next to the lookup of
// its origin alone: what deciding adds to the lookup.
func BenchmarkActual(b *testing.B) {
	p, err := New(Config{Origins: []string{"https://app.example.com"}, Credentials: true})
	if err != nil {
		b.Fatal(err)
	}
	origin := []string{"https://app.example.com"}
	b.Run("decision", func(b *testing.B) {
		for range b.N {
			if _, rejection := p.Actual(origin); rejection.Refused() {
				b.Fatal(rejection.Message())
			}
		}
	})
	b.Run("origin_lookup_alone", func(b *testing.B) {
		for range b.N {
			if !p.origins.Allows(origin[0]) {
				b.Fatal("refused")
			}
		}
	})
}
