package cors

// Benchmarks of the handler as Caddy runs it, side by side with
// github.com/rs/cors configured with the same policy. bench/report turns
// their output into the table and chart of the README; see README
// "Performance" for the commands.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	rscors "github.com/rs/cors"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

const (
	benchOrigin    = "https://app.example.com"
	benchPreflight = "authorization,content-type,x-request-id"
)

// benchBody is what the next handler writes. It is allocated once, so that
// every allocation a benchmark reports beyond next_only is the CORS
// handler's own.
var benchBody = []byte("ok\n")

// writeOK is the next handler of every benchmark: a 200 with a small body,
// allocating nothing.
func writeOK(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(benchBody)
}

var nextCaddy = caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
	writeOK(w, r)
	return nil
})

// reusedWriter is a ResponseWriter that can serve every iteration of a
// benchmark: reset empties its header map without freeing its buckets, so
// the loop measures the handler, not a recorder's allocations.
type reusedWriter struct {
	header http.Header
	status int
	body   int
}

func newReusedWriter() *reusedWriter { return &reusedWriter{header: make(http.Header)} }

func (w *reusedWriter) Header() http.Header { return w.header }

func (w *reusedWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *reusedWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body += len(b)
	return len(b), nil
}

func (w *reusedWriter) reset() {
	clear(w.header)
	w.status, w.body = 0, 0
}

// loadHandler provisions the handler from its JSON configuration the way
// Caddy does. Its logger is then swapped for one configured like Caddy's
// default (JSON, info level) that writes to io.Discard: rejected preflights
// pay for encoding their log line, as in production, but not for the
// terminal, and the benchmark output stays readable.
func loadHandler(tb testing.TB, config string) *CORS {
	tb.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: tb.Context()})
	tb.Cleanup(cancel)
	module, err := ctx.LoadModuleByID("http.handlers.cors", json.RawMessage(config))
	if err != nil {
		tb.Fatalf("loading %s: %v", config, err)
	}
	c := module.(*CORS)
	useLogger(c, zap.New(zapcore.NewCore(
		zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()),
		zapcore.AddSync(io.Discard),
		zapcore.InfoLevel,
	)))
	return c
}

// preparedRequest is a request as Caddy hands it to handlers: with the
// replacer and the server's values in its context.
func preparedRequest(method string, header http.Header, w http.ResponseWriter) *http.Request {
	r := httptest.NewRequest(method, "http://api.example.com/v1/items", nil)
	r.Header = header
	return caddyhttp.PrepareRequest(r, caddy.NewReplacer(), w, &caddyhttp.Server{})
}

// benchPolicy is one CORS policy, written for both implementations.
type benchPolicy struct {
	config string         // this module's JSON
	rs     rscors.Options // rs/cors
}

// listPolicy allows origins (exact or *. patterns, which both
// implementations understand), PUT and DELETE beyond the safelisted
// methods, and three request headers. extra is appended to the JSON.
func listPolicy(origins []string, extra string) benchPolicy {
	quoted, _ := json.Marshal(origins)
	return benchPolicy{
		config: `{"allowed_origins":` + string(quoted) +
			`,"allowed_methods":["PUT","DELETE"],"allowed_headers":["Authorization","Content-Type","X-Request-Id"]` + extra + `}`,
		rs: rscors.Options{
			AllowedOrigins: origins,
			// rs/cors also checks the method of actual requests, so the
			// safelisted ones must be listed for it to allow a GET.
			AllowedMethods: []string{"GET", "HEAD", "POST", "PUT", "DELETE"},
			AllowedHeaders: []string{"Authorization", "Content-Type", "X-Request-Id"},
		},
	}
}

// manyOrigins is n distinct allowed origins, the last one benchOrigin, so
// that a list scanned in order is scanned to its end.
func manyOrigins(n int) []string {
	origins := make([]string, n)
	for i := range n - 1 {
		origins[i] = fmt.Sprintf("https://app%05d.example.com", i)
	}
	origins[n-1] = benchOrigin
	return origins
}

const benchOriginRegexp = `https://[a-z0-9-]+\.example\.com`

func regexpPolicy() benchPolicy {
	quoted, _ := json.Marshal([]string{benchOriginRegexp})
	re := regexp.MustCompile(`^(?:` + benchOriginRegexp + `)$`)
	p := listPolicy(nil, "")
	p.config = `{"allowed_origin_regexps":` + string(quoted) +
		`,"allowed_methods":["PUT","DELETE"],"allowed_headers":["Authorization","Content-Type","X-Request-Id"]}`
	p.rs.AllowOriginFunc = re.MatchString
	return p
}

func credentialsPolicy() benchPolicy {
	p := listPolicy([]string{benchOrigin}, `,"allow_credentials":true,"max_age":"10m"`)
	p.rs.AllowCredentials = true
	p.rs.MaxAge = 600
	return p
}

func actualHeader(origin string) http.Header {
	return http.Header{"Origin": {origin}, "Accept": {"application/json"}}
}

func preflightRequestHeader(origin, requestHeaders string) http.Header {
	return http.Header{
		"Origin":                         {origin},
		"Access-Control-Request-Method":  {"PUT"},
		"Access-Control-Request-Headers": {requestHeaders},
	}
}

// Hostile values of Access-Control-Request-Headers. Anyone can send a
// preflight (it carries no credentials), so these bound the work an
// attacker can make each one cost.
var (
	// 1 MiB of allowed names: a parser without a cap would check them all
	// and echo them back.
	hostileMiB = strings.Repeat(benchPreflight+",", (1<<20)/len(benchPreflight+","))
	// 10,000 names, each allowed.
	hostileNames = strings.TrimSuffix(strings.Repeat("x-request-id,", 10_000), ",")
	// 10,000 empty list elements, which RFC 9110 asks to tolerate "a
	// reasonable number" of.
	hostileEmpty = strings.Repeat(",", 10_000)
)

// benchScenario is one request against one policy.
type benchScenario struct {
	name   string
	policy benchPolicy
	method string
	header http.Header
	// allowOrigin is the Access-Control-Allow-Origin both implementations
	// must answer ("" for none): a check that the benchmark measures the
	// path its name says.
	allowOrigin string
}

func benchScenarios() []benchScenario {
	one := listPolicy([]string{benchOrigin}, "")
	return []benchScenario{
		{"no_origin", one, http.MethodGet, http.Header{"Accept": {"application/json"}}, ""},
		{"actual_1_origin", one, http.MethodGet, actualHeader(benchOrigin), benchOrigin},
		{"actual_100_origins", listPolicy(manyOrigins(100), ""), http.MethodGet, actualHeader(benchOrigin), benchOrigin},
		{"actual_10000_origins", listPolicy(manyOrigins(10_000), ""), http.MethodGet, actualHeader(benchOrigin), benchOrigin},
		{"actual_disallowed_origin", one, http.MethodGet, actualHeader("https://evil.example.net"), ""},
		{"actual_subdomain_pattern", listPolicy([]string{"https://*.example.com"}, ""), http.MethodGet, actualHeader("https://api.eu.example.com"), "https://api.eu.example.com"},
		{"actual_origin_regexp", regexpPolicy(), http.MethodGet, actualHeader(benchOrigin), benchOrigin},
		{"preflight_allowed", one, http.MethodOptions, preflightRequestHeader(benchOrigin, benchPreflight), benchOrigin},
		{"preflight_credentials_max_age", credentialsPolicy(), http.MethodOptions, preflightRequestHeader(benchOrigin, benchPreflight), benchOrigin},
		{"preflight_disallowed_origin", one, http.MethodOptions, preflightRequestHeader("https://evil.example.net", benchPreflight), ""},
		{"preflight_hostile_1MiB_list", one, http.MethodOptions, preflightRequestHeader(benchOrigin, hostileMiB), ""},
		{"preflight_hostile_10000_names", one, http.MethodOptions, preflightRequestHeader(benchOrigin, hostileNames), ""},
		{"preflight_hostile_10000_empty", one, http.MethodOptions, preflightRequestHeader(benchOrigin, hostileEmpty), ""},
	}
}

func BenchmarkServeHTTP(b *testing.B) {
	b.Run("next_only", func(b *testing.B) {
		w := newReusedWriter()
		r := preparedRequest(http.MethodGet, actualHeader(benchOrigin), w)
		b.ReportAllocs()
		for b.Loop() {
			w.reset()
			_ = nextCaddy.ServeHTTP(w, r)
		}
	})
	for _, s := range benchScenarios() {
		b.Run(s.name, func(b *testing.B) {
			b.Run("cors", func(b *testing.B) {
				handler := loadHandler(b, s.policy.config)
				w := newReusedWriter()
				r := preparedRequest(s.method, s.header, w)
				serve := func() { _ = handler.ServeHTTP(w, r, nextCaddy) }
				checkScenario(b, s, w, serve)
				b.ReportAllocs()
				for b.Loop() {
					w.reset()
					serve()
				}
			})
			b.Run("rs_cors", func(b *testing.B) {
				handler := rscors.New(s.policy.rs)
				w := newReusedWriter()
				r := preparedRequest(s.method, s.header, w)
				serve := func() { handler.ServeHTTP(w, r, writeOK) }
				checkScenario(b, s, w, serve)
				b.ReportAllocs()
				for b.Loop() {
					w.reset()
					serve()
				}
			})
		})
	}
}

// checkScenario serves one request before timing starts and fails the
// benchmark if the answer is not the one its name promises.
func checkScenario(b *testing.B, s benchScenario, w *reusedWriter, serve func()) {
	b.Helper()
	w.reset()
	serve()
	if got := w.header.Get("Access-Control-Allow-Origin"); got != s.allowOrigin {
		b.Fatalf("%s: Access-Control-Allow-Origin %q, want %q", s.name, got, s.allowOrigin)
	}
}

// BenchmarkRefusalLogLine splits the cost of a hostile preflight: the
// refusal with the info log line the contract asks for (JSON into
// io.Discard, as everywhere here), the same refusal with a logger that
// drops the line, and an allowed preflight for scale. bench/report does not
// read it; README "Performance" quotes it.
func BenchmarkRefusalLogLine(b *testing.B) {
	scenarios := []struct {
		name   string
		value  string
		logged bool
	}{
		{"allowed_preflight", benchPreflight, true},
		{"hostile_10000_names", hostileNames, true},
		{"hostile_10000_names_unlogged", hostileNames, false},
	}
	for _, s := range scenarios {
		b.Run(s.name, func(b *testing.B) {
			handler := loadHandler(b, perfPolicy)
			if !s.logged {
				useLogger(handler, zap.NewNop())
			}
			w := newReusedWriter()
			r := preparedRequest(http.MethodOptions, preflightRequestHeader(benchOrigin, s.value), w)
			b.ReportAllocs()
			for b.Loop() {
				w.reset()
				_ = handler.ServeHTTP(w, r, nextCaddy)
			}
		})
	}
}
