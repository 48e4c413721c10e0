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
	"slices"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	_ "github.com/caddyserver/caddy/v2/modules/logging"
	rscors "github.com/rs/cors"
	"golang.org/x/net/http/httpguts"

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

// writeEncodable is writeOK behind Caddy's encode, which names
// Accept-Encoding in Vary, as it does on every response it may compress,
// on the shared header map just before the response is written.
func writeEncodable(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if !httpguts.HeaderValuesContainsToken(h["Vary"], "Accept-Encoding") {
		h["Vary"] = append(h["Vary"], "Accept-Encoding")
	}
	writeOK(w, r)
}

// upstreamHeader is the header of an upstream's response that answers CORS
// itself, with a wildcard, in the order it is copied.
var upstreamHeader = [][2]string{
	{"Content-Type", "application/json"},
	{"Content-Length", "3"},
	{"Cache-Control", "private, max-age=0"},
	{"Date", "Sun, 06 Dec 2026 20:00:00 GMT"},
	{"Etag", `"33a64df5"`},
	{"X-Request-Id", "7f3c9d2e-5b1a-4c8e-9f0d-2a6b8e4c1d3f"},
	{"Access-Control-Allow-Origin", "*"},
	{"Vary", "Origin"},
}

// writeProxied is writeOK as reverse_proxy answers with an upstream's
// response: each of the upstream's header lines added to the shared header
// map with Add, as Caddy copies them, before the response is written.
func writeProxied(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	for _, kv := range upstreamHeader {
		h.Add(kv[0], kv[1])
	}
	writeOK(w, r)
}

// nextHandler is the handler after the CORS handler, in both
// implementations.
type nextHandler struct {
	serve http.HandlerFunc
	// alone says that a scenario calling it measures it alone too, as its
	// own next_only: writeOK is measured once, as the top next_only.
	alone bool
	// allowOrigin is the Access-Control-Allow-Origin it adds itself (""
	// for none): the cors handler replaces it, rs/cors, which does not own
	// the response's headers, leaves it beside its own.
	allowOrigin string
	// vary are the Vary tokens it adds, which the response must keep.
	vary []string
}

var (
	nextOK       = nextHandler{serve: writeOK}
	nextEncode   = nextHandler{serve: writeEncodable, alone: true, vary: []string{"Accept-Encoding"}}
	nextUpstream = nextHandler{serve: writeProxied, alone: true, allowOrigin: "*", vary: []string{"Origin"}}
)

// caddy is the next handler as a Caddy handler.
func (n nextHandler) caddy() caddyhttp.Handler {
	return caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		n.serve(w, r)
		return nil
	})
}

var nextCaddy = nextOK.caddy()

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
// which Caddy's server makes for every request and maps into its replacer:
// a closure over the request and its writer, so that it costs the
// allocation Caddy's does.
func httpVars(r *http.Request, w http.ResponseWriter) caddy.ReplacerFunc {
	return func(key string) (any, bool) {
		switch key {
		case "http.request.method":
			return r.Method, true
		case "http.response.header.Server":
			return w.Header().Get("Server"), true
		}
		return nil, false
	}
}

// request is one request of a benchmark, served again on each iteration
// as a new one.
type request struct {
	r   *http.Request
	ctx *requestContext
	w   *reusedWriter
}

func newRequest(method string, header http.Header) *request {
	w := &reusedWriter{header: http.Header{}}
	r := httptest.NewRequest(method, "http://api.example.com/v1/items", nil)
	r.Header = header
	r = caddyhttp.PrepareRequest(r, caddy.NewReplacer(), w, &caddyhttp.Server{})
	ctx := &requestContext{Context: r.Context()}
	return &request{r: r.WithContext(ctx), ctx: ctx, w: w}
}

// next readies the request to be served once more, as a new one: its
// response header map holds only Caddy's Server header again, and it gets
// a fresh replacer made as Caddy's server makes one for each request
// (caddy.NewReplacer, then the {http.*} provider mapped into it). Making
// the replacer is timed: the figures are those of the whole request as
// Caddy runs it, which next_only gives without any CORS handler.
func (q *request) next() {
	q.w.reset()
	repl := caddy.NewReplacer()
	repl.Map(httpVars(q.r, q.w))
	q.ctx.repl = repl
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
	// answer, in one header line ("" for none): a check that the benchmark
	// measures the path its name says. rs/cors answers the same, but for a
	// preflight from an allowed origin refused for a header, which it
	// answers with none and the cors handler with the origin (so that the
	// browser names the header).
	allowOrigin string
	next        nextHandler
}

// rsAllowOrigin are the Access-Control-Allow-Origin lines rs/cors must
// answer: its own, then the next handler's.
func (s benchScenario) rsAllowOrigin() []string {
	var lines []string
	if s.allowOrigin != "" && (s.method != http.MethodOptions || s.header.Get("Access-Control-Request-Headers") == benchPreflight) {
		lines = append(lines, s.allowOrigin)
	}
	if s.next.allowOrigin != "" && s.method != http.MethodOptions {
		lines = append(lines, s.next.allowOrigin)
	}
	return lines
}

func benchScenarios() []benchScenario {
	one := listPolicy([]string{benchOrigin}, "")
	return []benchScenario{
		{"no_origin", one, http.MethodGet, http.Header{"Accept": {"application/json"}}, "", nextOK},
		{"actual_1_origin", one, http.MethodGet, actualHeader(benchOrigin), benchOrigin, nextOK},
		{"actual_100_origins", listPolicy(manyOrigins(100), ""), http.MethodGet, actualHeader(benchOrigin), benchOrigin, nextOK},
		{"actual_10000_origins", listPolicy(manyOrigins(10_000), ""), http.MethodGet, actualHeader(benchOrigin), benchOrigin, nextOK},
		{"actual_disallowed_origin", one, http.MethodGet, actualHeader("https://evil.example.net"), "", nextOK},
		{"actual_subdomain_pattern", listPolicy([]string{"https://*.example.com"}, ""), http.MethodGet, actualHeader("https://api.eu.example.com"), "https://api.eu.example.com", nextOK},
		{"actual_origin_regexp", regexpPolicy(), http.MethodGet, actualHeader(benchOrigin), benchOrigin, nextOK},
		{"actual_vary_encode", one, http.MethodGet, actualHeader(benchOrigin), benchOrigin, nextEncode},
		{"actual_upstream_cors_headers", one, http.MethodGet, actualHeader(benchOrigin), benchOrigin, nextUpstream},
		{"preflight_allowed", one, http.MethodOptions, preflightHeader(benchOrigin, benchPreflight), benchOrigin, nextOK},
		{"preflight_credentials_max_age", credentialsPolicy(), http.MethodOptions, preflightHeader(benchOrigin, benchPreflight), benchOrigin, nextOK},
		{"preflight_disallowed_origin", one, http.MethodOptions, preflightHeader("https://evil.example.net", benchPreflight), "", nextOK},
		{"preflight_disallowed_header", one, http.MethodOptions, preflightHeader(benchOrigin, benchPreflight+",x-debug"), benchOrigin, nextOK},
		{"preflight_hostile_1MiB_list", one, http.MethodOptions, preflightHeader(benchOrigin, hostileMiB), benchOrigin, nextOK},
		{"preflight_hostile_10000_names", one, http.MethodOptions, preflightHeader(benchOrigin, hostileNames), benchOrigin, nextOK},
		{"preflight_hostile_10000_empty", one, http.MethodOptions, preflightHeader(benchOrigin, hostileEmpty), benchOrigin, nextOK},
	}
}

// BenchmarkServeHTTP serves each scenario with each implementation, and
// the next handler alone (next_only), the floor under both: once for the
// plain next handler, and under each scenario whose next handler does
// more. Every iteration is a whole request as Caddy's server runs it, the
// making of its replacer included.
func BenchmarkServeHTTP(b *testing.B) {
	b.Run("next_only", func(b *testing.B) {
		q := newRequest(http.MethodGet, actualHeader(benchOrigin))
		runChecked(b, "next_only", q, func() { _ = nextCaddy.ServeHTTP(q.w, q.r) }, nil)
	})
	for _, s := range benchScenarios() {
		b.Run(s.name, func(b *testing.B) {
			next := s.next.caddy()
			b.Run("cors", func(b *testing.B) {
				handler := loadHandler(b, s.policy.config)
				q := newRequest(s.method, s.header)
				serve := func() { _ = handler.ServeHTTP(q.w, q.r, next) }
				runChecked(b, s.name, q, serve, func(h http.Header) error {
					var want []string
					if s.allowOrigin != "" {
						want = []string{s.allowOrigin}
					}
					if err := checkAllowOrigin(h, want); err != nil {
						return err
					}
					if s.next.vary == nil {
						return nil
					}
					return checkVary(h, append([]string{"Origin"}, s.next.vary...))
				})
			})
			b.Run("rs_cors", func(b *testing.B) {
				handler := rscors.New(s.policy.rs)
				q := newRequest(s.method, s.header)
				serve := func() { handler.ServeHTTP(q.w, q.r, s.next.serve) }
				runChecked(b, s.name, q, serve, func(h http.Header) error {
					return checkAllowOrigin(h, s.rsAllowOrigin())
				})
			})
			if s.next.alone {
				b.Run("next_only", func(b *testing.B) {
					q := newRequest(s.method, s.header)
					runChecked(b, s.name, q, func() { _ = next.ServeHTTP(q.w, q.r) }, nil)
				})
			}
		})
	}
}

// checkAllowOrigin checks the Access-Control-Allow-Origin lines of a
// response (none when want is empty).
func checkAllowOrigin(h http.Header, want []string) error {
	if got := h["Access-Control-Allow-Origin"]; !slices.Equal(got, want) {
		return fmt.Errorf("Access-Control-Allow-Origin %q, want %q", got, want)
	}
	return nil
}

// checkVary checks that the Vary of a response names each of tokens.
func checkVary(h http.Header, tokens []string) error {
	for _, token := range tokens {
		if !httpguts.HeaderValuesContainsToken(h["Vary"], token) {
			return fmt.Errorf("Vary %q, want it to name %s", h["Vary"], token)
		}
	}
	return nil
}

// run times serve, after checking that it answers allowOrigin in one
// header line (none when "").
func run(b *testing.B, name, allowOrigin string, q *request, serve func()) {
	b.Helper()
	var want []string
	if allowOrigin != "" {
		want = []string{allowOrigin}
	}
	runChecked(b, name, q, serve, func(h http.Header) error { return checkAllowOrigin(h, want) })
}

// runChecked times serve, each iteration a new request (q.next), and
// checks with check (when not nil) that the response is what the
// scenario's name promises, before the timed iterations and after them (a
// header value shared between responses and edited in place would show
// only then). A refused preflight is first served often enough that the
// sampler of its log lines has kicked in, as in a flood.
func runChecked(b *testing.B, name string, q *request, serve func(), check func(http.Header) error) {
	b.Helper()
	verify := func() {
		if check == nil {
			return
		}
		if err := check(q.w.header); err != nil {
			b.Fatalf("%s: %v", name, err)
		}
	}
	for range 100 {
		q.next()
		serve()
	}
	verify()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		q.next()
		serve()
	}
	b.StopTimer()
	verify()
}
