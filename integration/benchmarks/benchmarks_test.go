// Package benchmarks measures the cors handler as Caddy runs it, side by
// side with github.com/rs/cors configured with the same policy, in one
// binary. It uses only what the module exports to Caddy: the handler is
// loaded by its module ID and provisioned with Caddy's logging, as in a
// server. bench/run.sh runs it in interleaved rounds and bench/report turns
// the output into the tables of the performance documentation.
package benchmarks

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	_ "github.com/caddyserver/caddy/v2/modules/logging"
	rscors "github.com/rs/cors"

	_ "github.com/caddy-cors/cors"
)

// TestMain loads a Caddy configuration that has nothing but logging, as
// Caddy logs by default (JSON, level INFO), into /dev/null: a refused
// preflight pays for its log line as in production, encoding and write
// included, without filling the terminal. (Caddy's "discard" writer would
// skip the encoding.) Every handler is provisioned in that configuration's
// context, so its logger is the one a server would give it.
func TestMain(m *testing.M) {
	config := `{
		"admin": {"disabled": true, "config": {"persist": false}},
		"logging": {"logs": {"default": {
			"level": "INFO",
			"encoder": {"format": "json"},
			"writer": {"output": "file", "filename": "/dev/null", "roll": false}
		}}}
	}`
	if err := caddy.Load([]byte(config), true); err != nil {
		fmt.Fprintln(os.Stderr, "loading the logging configuration:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = caddy.Stop()
	os.Exit(code)
}

const (
	benchOrigin    = "https://app.example.com"
	benchPreflight = "authorization,content-type,x-request-id"
)

// loadHandler loads and provisions the cors handler from its JSON
// configuration, as Caddy does for a route.
func loadHandler(tb testing.TB, config string) caddyhttp.MiddlewareHandler {
	tb.Helper()
	ctx, cancel := caddy.NewContext(caddy.ActiveContext())
	tb.Cleanup(cancel)
	module, err := ctx.LoadModuleByID("http.handlers.cors", json.RawMessage(config))
	if err != nil {
		tb.Fatalf("loading %s: %v", config, err)
	}
	return module.(caddyhttp.MiddlewareHandler)
}

// benchBody is what the next handler writes, allocated once, so that the
// next handler allocates nothing.
var benchBody = []byte("ok\n")

func writeOK(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(benchBody)
}

var nextCaddy = caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
	writeOK(w, r)
	return nil
})

// reusedWriter serves every iteration of a benchmark: reset empties its
// header map without freeing its storage, and puts back Caddy's Server
// header, which a real response's map holds before any handler runs.
type reusedWriter struct {
	header http.Header
	status int
}

func (w *reusedWriter) Header() http.Header { return w.header }

func (w *reusedWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *reusedWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return len(b), nil
}

// server is the Server header Caddy sets on every response before the
// first handler runs, shared here since nothing edits it.
var server = []string{"Caddy"}

func (w *reusedWriter) reset() {
	clear(w.header)
	w.header["Server"] = server
	w.status = 0
}

// requestContext is a request's context as Caddy builds it, but for the
// replacer, which each iteration swaps for a fresh one: Caddy makes one per
// request, and what a handler does with it (its first Set allocates the
// replacer's map) is part of the handler's cost.
type requestContext struct {
	context.Context
	repl *caddy.Replacer
}

func (c *requestContext) Value(key any) any {
	if key == caddy.ReplacerCtxKey {
		return c.repl
	}
	return c.Context.Value(key)
}

// httpVars stands in for the provider of Caddy's {http.*} placeholders,
// which Caddy adds to each request's replacer: the replacer's list of
// providers then has the capacity it has in a server.
var httpVars = caddy.ReplacerFunc(func(string) (any, bool) { return nil, false })

// request is one request of a benchmark, served again on each iteration
// with a fresh replacer.
type request struct {
	r   *http.Request
	ctx *requestContext
	w   *reusedWriter
	// fresh are replacers made ahead, a batch at a time with the timer
	// stopped: what making one costs (and allocates) is Caddy's, and
	// counting it would bury the handlers' own figures in its noise.
	fresh []*caddy.Replacer
}

// freshBatch is how many replacers are made at a time.
const freshBatch = 4096

func newRequest(method string, header http.Header) *request {
	w := &reusedWriter{header: http.Header{}}
	r := httptest.NewRequest(method, "http://api.example.com/v1/items", nil)
	r.Header = header
	r = caddyhttp.PrepareRequest(r, caddy.NewReplacer(), w, &caddyhttp.Server{})
	ctx := &requestContext{Context: r.Context()}
	return &request{r: r.WithContext(ctx), ctx: ctx, w: w}
}

// next readies the request to be served once more, as a new one.
func (q *request) next(b *testing.B) {
	if len(q.fresh) == 0 {
		b.StopTimer()
		q.fresh = make([]*caddy.Replacer, freshBatch)
		for i := range q.fresh {
			q.fresh[i] = caddy.NewReplacer()
			q.fresh[i].Map(httpVars)
		}
		b.StartTimer()
	}
	q.w.reset()
	q.ctx.repl, q.fresh = q.fresh[0], q.fresh[1:]
}

// benchPolicy is one CORS policy, written for both implementations.
type benchPolicy struct {
	config string         // the cors handler's JSON
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

func preflightHeader(origin, requestHeaders string) http.Header {
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
	// allowOrigin is the Access-Control-Allow-Origin the cors handler must
	// answer ("" for none): a check that the benchmark measures the path
	// its name says. rs/cors answers the same, but for a preflight from an
	// allowed origin refused for a header, which it answers with none and
	// the cors handler with the origin (so that the browser names the
	// header).
	allowOrigin string
}

// rsAllowOrigin is the Access-Control-Allow-Origin rs/cors must answer.
func (s benchScenario) rsAllowOrigin() string {
	if s.method == http.MethodOptions && s.header.Get("Access-Control-Request-Headers") != benchPreflight {
		return ""
	}
	return s.allowOrigin
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
		{"preflight_allowed", one, http.MethodOptions, preflightHeader(benchOrigin, benchPreflight), benchOrigin},
		{"preflight_credentials_max_age", credentialsPolicy(), http.MethodOptions, preflightHeader(benchOrigin, benchPreflight), benchOrigin},
		{"preflight_disallowed_origin", one, http.MethodOptions, preflightHeader("https://evil.example.net", benchPreflight), ""},
		{"preflight_disallowed_header", one, http.MethodOptions, preflightHeader(benchOrigin, benchPreflight+",x-debug"), benchOrigin},
		{"preflight_hostile_1MiB_list", one, http.MethodOptions, preflightHeader(benchOrigin, hostileMiB), benchOrigin},
		{"preflight_hostile_10000_names", one, http.MethodOptions, preflightHeader(benchOrigin, hostileNames), benchOrigin},
		{"preflight_hostile_10000_empty", one, http.MethodOptions, preflightHeader(benchOrigin, hostileEmpty), benchOrigin},
	}
}

// BenchmarkServeHTTP serves each scenario with each implementation, and
// the next handler alone (next_only), whose time and allocations are the
// floor under both: every iteration of every contender gets a fresh
// replacer, as in Caddy, where a handler's first Set allocates the
// replacer's map.
func BenchmarkServeHTTP(b *testing.B) {
	b.Run("next_only", func(b *testing.B) {
		q := newRequest(http.MethodGet, actualHeader(benchOrigin))
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			q.next(b)
			_ = nextCaddy.ServeHTTP(q.w, q.r)
		}
	})
	for _, s := range benchScenarios() {
		b.Run(s.name, func(b *testing.B) {
			b.Run("cors", func(b *testing.B) {
				handler := loadHandler(b, s.policy.config)
				q := newRequest(s.method, s.header)
				serve := func() { _ = handler.ServeHTTP(q.w, q.r, nextCaddy) }
				run(b, s.name, s.allowOrigin, q, serve)
			})
			b.Run("rs_cors", func(b *testing.B) {
				handler := rscors.New(s.policy.rs)
				q := newRequest(s.method, s.header)
				serve := func() { handler.ServeHTTP(q.w, q.r, writeOK) }
				run(b, s.name, s.rsAllowOrigin(), q, serve)
			})
		})
	}
}

// run checks that serve answers allowOrigin, as the scenario's name
// promises, then times it. A refused preflight is first served often
// enough that the sampler of its log lines has kicked in, as in a flood.
func run(b *testing.B, name, allowOrigin string, q *request, serve func()) {
	b.Helper()
	for range 100 {
		q.next(b)
		serve()
	}
	if got := q.w.header.Get("Access-Control-Allow-Origin"); got != allowOrigin {
		b.Fatalf("%s: Access-Control-Allow-Origin %q, want %q", name, got, allowOrigin)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		q.next(b)
		serve()
	}
}
