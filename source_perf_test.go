package cors

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

// loadSourced provisions a handler as Caddy does, for tests and
// benchmarks alike.
func loadSourced(tb testing.TB, config string) *CORS {
	tb.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: tb.Context()})
	tb.Cleanup(cancel)
	module, err := ctx.LoadModuleByID("http.handlers.cors", json.RawMessage(config))
	if err != nil {
		tb.Fatalf("loading %s: %v", config, err)
	}
	return module.(*CORS)
}

// sourcedPolicies are a policy that allows benchOrigin statically, and
// policies whose sources allow it: an endpoint whose answer is cached, a
// file that lists it alone and one that lists it among 100,000.
func sourcedPolicies(tb testing.TB) (names []string, configs map[string]string) {
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("origin") != benchOrigin {
			w.WriteHeader(http.StatusForbidden)
		}
	}))
	tb.Cleanup(endpoint.Close)
	dir := tb.TempDir()
	list := func(n int) string {
		var b strings.Builder
		for i := range n - 1 {
			fmt.Fprintf(&b, "https://tenant-%d.example.com\n", i)
		}
		b.WriteString(benchOrigin + "\n")
		path := filepath.Join(dir, fmt.Sprintf("origins-%d.txt", n))
		if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
			tb.Fatal(err)
		}
		p, _ := json.Marshal(path)
		return `{"allowed_origins":["https://other.example"],"origin_sources":[{"source":"file","path":` + string(p) + `,"interval":"1h"}]}`
	}
	return []string{"static exact", "http cache hit", "file of 1", "file of 100000"}, map[string]string{
		"static exact":   `{"allowed_origins":["` + benchOrigin + `"]}`,
		"http cache hit": `{"allowed_origins":["https://other.example"],"origin_sources":[{"source":"http","endpoint":"` + endpoint.URL + `/allow"}]}`,
		"file of 1":      list(1),
		"file of 100000": list(100_000),
	}
}

// BenchmarkOriginSources is an allowed CORS request through the handler,
// its origin allowed by each kind of source, next to a static exact match.
//
//	go test -run '^$' -bench OriginSources -count 5 .
func BenchmarkOriginSources(b *testing.B) {
	names, configs := sourcedPolicies(b)
	for _, name := range names {
		handler := loadSourced(b, configs[name])
		w := newReusedWriter()
		r := preparedRequest(http.MethodGet, actualHeader(benchOrigin), w)
		_ = handler.ServeHTTP(w, r, nextCaddy) // the endpoint's answer, now cached
		if w.header.Get("Access-Control-Allow-Origin") != benchOrigin {
			b.Fatalf("%s: %s not allowed", name, benchOrigin)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				w.reset()
				_ = handler.ServeHTTP(w, r, nextCaddy)
			}
		})
	}
}

// An origin allowed by a source costs the allocations a static one does:
// a cached answer of the endpoint, a file's list, none of their own.
func TestAnOriginAllowedBySourcesAllocatesAsAStaticOne(t *testing.T) {
	names, configs := sourcedPolicies(t)
	allocs := map[string]float64{}
	for _, name := range names {
		handler := loadSourced(t, configs[name])
		w := newReusedWriter()
		r := preparedRequest(http.MethodGet, actualHeader(benchOrigin), w)
		_ = handler.ServeHTTP(w, r, nextCaddy)
		if w.header.Get("Access-Control-Allow-Origin") != benchOrigin {
			t.Fatalf("%s: %s not allowed", name, benchOrigin)
		}
		allocs[name] = testing.AllocsPerRun(200, func() {
			w.reset()
			_ = handler.ServeHTTP(w, r, nextCaddy)
		})
		if name != "static exact" && allocs[name] > allocs["static exact"] {
			t.Errorf("%s: %v allocations per request, a static exact match %v", name, allocs[name], allocs["static exact"])
		}
		if len(handler.sources) == 1 {
			if n := testing.AllocsPerRun(200, func() { _, _ = handler.sources[0].AllowOrigin(benchOrigin) }); n != 0 {
				t.Errorf("%s: AllowOrigin allocates %v times on a known origin", name, n)
			}
		}
	}
}
