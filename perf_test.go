package cors

// Performance properties that can be checked exactly, unlike times:
// allocation counts, value slices that must not be shared between
// responses, and the cap on the work of a hostile preflight.

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/caddy-cors/cors/internal/headers"
)

const (
	benchOrigin    = "https://app.example.com"
	benchPreflight = "authorization,content-type,x-request-id"
	perfPolicy     = `{"allowed_origins":["` + benchOrigin + `","https://*.example.net"],"allowed_methods":["PUT"],"allowed_headers":["Authorization","Content-Type","X-Request-Id"]}`
)

// Hostile values of Access-Control-Request-Headers, as in the benchmarks
// of integration/benchmarks.
var (
	hostileMiB   = strings.Repeat(benchPreflight+",", (1<<20)/len(benchPreflight+","))
	hostileNames = strings.TrimSuffix(strings.Repeat("x-request-id,", 10_000), ",")
	hostileEmpty = strings.Repeat(",", 10_000)
)

// loadHandler provisions the handler as Caddy does, with a logger like
// Caddy's default (JSON, info level) that writes to io.Discard.
func loadHandler(t testing.TB, config string) *CORS {
	t.Helper()
	c := provision(t, config)
	useLogger(c, discardLogger())
	return c
}

// discardLogger is like Caddy's default logger (JSON, info level), and
// writes to io.Discard.
func discardLogger() *zap.Logger {
	return zap.New(zapcore.NewCore(
		zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()),
		zapcore.AddSync(io.Discard),
		zapcore.InfoLevel,
	))
}

// writeOK is the next handler of these tests: a 200 with a small body,
// allocating nothing.
var nextCaddy = caddyhttp.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) error {
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(okBody)
	return err
})

var okBody = []byte("ok\n")

// reusedWriter is a ResponseWriter that can serve many requests: reset
// empties its header map without freeing its storage, so that what is
// counted is the handler's, not a recorder's.
type reusedWriter struct {
	header http.Header
	status int
}

func newReusedWriter() *reusedWriter { return &reusedWriter{header: make(http.Header)} }

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

func (w *reusedWriter) reset() {
	clear(w.header)
	w.status = 0
}

// preparedRequest is a request as Caddy hands it to handlers: with a
// replacer and the server's values in its context.
func preparedRequest(method string, header http.Header, w http.ResponseWriter) *http.Request {
	r := httptest.NewRequest(method, "http://api.example.com/v1/items", nil)
	r.Header = header
	return caddyhttp.PrepareRequest(r, caddy.NewReplacer(), w, &caddyhttp.Server{})
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

// TestAllocationsPerRequest pins the handler's own allocations on each
// path: those of a request served through it, less those of the same
// request served by the next handler alone, each request with a fresh
// replacer, as Caddy makes one per request.
//
// One allocation is the floor of every response: even Vary: Origin needs a
// value slice of its own (a slice shared between responses is
// rs/cors#198: a later handler that edits it in place edits every response
// after it), and Apply puts all the values of one response in one backing
// array. The placeholders cost none: a replacer's first Set would allocate
// its map's storage. A refused preflight adds its body (its headers, CORS
// or not, are one allocation), and its log line only while the gate lets
// lines through.
func TestAllocationsPerRequest(t *testing.T) {
	tests := []struct {
		name   string
		method string
		header http.Header
		max    float64
	}{
		{"no Origin", http.MethodGet, http.Header{"Accept": {"application/json"}}, 1},
		{"allowed actual GET", http.MethodGet, actualHeader(benchOrigin), 1},
		// The public suffix lookup a pattern match needs is cached.
		{"allowed actual GET by a subdomain pattern", http.MethodGet, actualHeader("https://api.eu.example.net"), 1},
		{"refused actual GET", http.MethodGet, actualHeader("https://evil.example"), 1},
		{"allowed preflight", http.MethodOptions, preflightRequestHeader(benchOrigin, benchPreflight), 1},
		{"preflight from a refused origin", http.MethodOptions, preflightRequestHeader("https://evil.example", benchPreflight), 2},
		// And the list of the requested names that are allowed, which is
		// not the request's own value.
		{"preflight refused a header", http.MethodOptions, preflightRequestHeader(benchOrigin, benchPreflight+",x-debug"), 3},
	}
	handler := loadHandler(t, perfPolicy)
	allocs := func(method string, header http.Header, serve func(http.ResponseWriter, *http.Request) error) float64 {
		w := newReusedWriter()
		base := preparedRequest(method, header, w)
		r := base.WithContext(base.Context())
		// Past the sampler's first lines, as in a flood of refusals.
		for range 2 * logSampleFirst {
			_ = serve(w, r)
		}
		return testing.AllocsPerRun(200, func() {
			w.reset()
			// A fresh replacer, as the only new value in the request's
			// context; making it is part of both counts. Caddy adds its
			// {http.*} provider to each one, which leaves the list of
			// providers room for the handler's.
			repl := caddy.NewReplacer()
			repl.Map(func(string) (any, bool) { return nil, false })
			*r = *base.WithContext(context.WithValue(base.Context(), caddy.ReplacerCtxKey, repl))
			if err := serve(w, r); err != nil {
				t.Fatal(err)
			}
		})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			baseline := allocs(tt.method, tt.header, nextCaddy.ServeHTTP)
			own := allocs(tt.method, tt.header, func(w http.ResponseWriter, r *http.Request) error {
				return handler.ServeHTTP(w, r, nextCaddy)
			}) - baseline
			if own > tt.max {
				t.Errorf("%v allocations per request beyond the next handler's, want at most %v", own, tt.max)
			}
		})
	}
}

// TestNoValueSliceIsShared is rs/cors#198: a later handler that edits or
// appends to a CORS header value it was given must change only its own
// response, never the request's headers or the next response.
func TestNoValueSliceIsShared(t *testing.T) {
	handler := loadHandler(t, `{"allowed_origins":["`+benchOrigin+`"],"allowed_methods":["PUT"],"exposed_headers":["X-Total-Count"],"allow_credentials":true,"max_age":"10m","preflight_passthrough":true}`)
	vandal := func(h http.Header) {
		for key, values := range h {
			if len(values) > 0 {
				values[0] = "vandalized"
				h[key] = append(values, "appended")
			}
		}
	}
	// The next handler vandalizes the headers it was given both before and
	// after committing the response, so that its edits reach the header map
	// the response is written from.
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		vandal(w.Header())
		w.WriteHeader(http.StatusOK)
		vandal(w.Header())
		return nil
	})
	requests := []struct {
		name   string
		method string
		header func() http.Header
		want   http.Header
	}{
		{"no Origin", http.MethodGet, func() http.Header { return http.Header{} },
			http.Header{"Vary": {"Origin"}}},
		{"allowed actual GET", http.MethodGet, func() http.Header { return actualHeader(benchOrigin) },
			http.Header{
				"Access-Control-Allow-Origin":      {benchOrigin},
				"Access-Control-Allow-Credentials": {"true"},
				"Access-Control-Expose-Headers":    {"X-Total-Count"},
				"Vary":                             {"Origin"},
			}},
		{"allowed preflight handed on", http.MethodOptions, func() http.Header { return preflightRequestHeader(benchOrigin, "x-request-id") },
			http.Header{
				"Access-Control-Allow-Origin":      {benchOrigin},
				"Access-Control-Allow-Credentials": {"true"},
				"Access-Control-Allow-Methods":     {"PUT"},
				"Access-Control-Max-Age":           {"600"},
				"Vary":                             {"Origin, Access-Control-Request-Method, Access-Control-Request-Headers"},
			}},
	}
	for _, tt := range requests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range 2 {
				requestHeader := tt.header()
				w := newReusedWriter()
				r := preparedRequest(tt.method, requestHeader, w)
				// The second request's response is checked as it is
				// committed, before its own next handler touches it: it must
				// be what the policy says, whatever the first request's next
				// handler did.
				checkNext := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
					if i == 1 {
						w.WriteHeader(http.StatusOK)
						for key, want := range tt.want {
							if got := w.Header()[key]; len(got) != 1 || got[0] != want[0] {
								t.Errorf("second request: %s is %q when committed, want %q", key, got, want)
							}
						}
					}
					return next(w, r)
				})
				if err := handler.ServeHTTP(w, r, checkNext); err != nil {
					t.Fatal(err)
				}
				if origin := requestHeader.Get("Origin"); tt.header().Get("Origin") != origin {
					t.Errorf("the request's Origin became %q", origin)
				}
			}
		})
	}
}

// TestHostilePreflightsStopAtTheCap checks that an oversized
// Access-Control-Request-Headers is refused by its length alone. Each
// hostile value starts with a name the policy does not allow: had a single
// name been examined, the refusal would name it instead of the cap.
func TestHostilePreflightsStopAtTheCap(t *testing.T) {
	handler := loadHandler(t, perfPolicy)
	tests := []struct {
		name  string
		value string
		err   error
	}{
		{"1 MiB list", "x-not-allowed," + hostileMiB, headers.ErrRequestListTooLong},
		{"10,000 names", "x-not-allowed," + hostileNames, headers.ErrRequestListTooLong},
		{"10,000 empty elements", "x-not-allowed" + hostileEmpty, headers.ErrRequestListTooLong},
		{"just over the cap", "x-not-allowed," + strings.Repeat("a", headers.MaxRequestListLen), headers.ErrRequestListTooLong},
		{"too many empty elements under the cap", strings.Repeat(",", 100) + "x-not-allowed", headers.ErrTooManyEmpty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			_, _, err := headers.ParseRequestList([]string{tt.value}, func(string) bool { calls++; return false })
			if err != tt.err || calls != 0 {
				t.Errorf("ParseRequestList: error %v after %d names examined, want %v after none", err, calls, tt.err)
			}

			w := newReusedWriter()
			r := preparedRequest(http.MethodOptions, preflightRequestHeader(benchOrigin, tt.value), w)
			repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
			nextCalled := false
			next := caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { nextCalled = true; return nil })
			body := &strings.Builder{}
			bw := &bodyWriter{reusedWriter: w, body: body}
			if err := handler.ServeHTTP(bw, r, next); err != nil {
				t.Fatal(err)
			}
			want := "CORS preflight rejected: " + tt.err.Error() + "\n"
			// From an allowed origin: 200 and Allow-Origin, so that the
			// browser blames the headers, but not one name listed.
			if w.status != http.StatusOK || nextCalled || body.String() != want {
				t.Errorf("status %d, next called %v, body %q; want 200 without next, body %q", w.status, nextCalled, body, want)
			}
			if reason, _ := repl.GetString(placeholderReason); reason != "header" {
				t.Errorf("{%s} = %q, want header", placeholderReason, reason)
			}
			if acao := w.header.Get("Access-Control-Allow-Origin"); acao != benchOrigin {
				t.Errorf("Access-Control-Allow-Origin %q on a refused preflight from an allowed origin, want %q", acao, benchOrigin)
			}
			if acah, ok := w.header["Access-Control-Allow-Headers"]; ok {
				t.Errorf("Access-Control-Allow-Headers %q on a preflight refused at the cap", acah)
			}
		})
	}

	// The work does not grow with the value: refusing 1 MiB allocates no
	// more than refusing a value just over the cap, give or take less than
	// the cap itself. Bytes, not allocation counts: under -race sync.Pool
	// drops a random share of what is put back, so the count of a pooled
	// path varies from run to run by one.
	bytesFor := func(value string) uint64 {
		const runs = 50
		w := newReusedWriter()
		r := preparedRequest(http.MethodOptions, preflightRequestHeader(benchOrigin, value), w)
		_ = handler.ServeHTTP(w, r, nextCaddy)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range runs {
			w.reset()
			_ = handler.ServeHTTP(w, r, nextCaddy)
		}
		runtime.ReadMemStats(&after)
		return (after.TotalAlloc - before.TotalAlloc) / runs
	}
	small, huge := bytesFor(strings.Repeat("a", headers.MaxRequestListLen+1)), bytesFor(hostileMiB)
	if huge > small+headers.MaxRequestListLen {
		t.Errorf("refusing 1 MiB allocates %d bytes, refusing %d bytes %d: work grows with the value", huge, headers.MaxRequestListLen+1, small)
	}
}

// bodyWriter keeps what is written, for the tests that read a body.
type bodyWriter struct {
	*reusedWriter
	body *strings.Builder
}

func (w *bodyWriter) Write(b []byte) (int, error) {
	w.body.Write(b)
	return w.reusedWriter.Write(b)
}
