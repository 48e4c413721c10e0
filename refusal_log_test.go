package cors

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/caddy-cors/cors/internal/policy"
)

// refusedPreflight serves one preflight to c directly, as Caddy would,
// with a fresh replacer, and returns what was written.
func refusedPreflight(t *testing.T, c *CORS, r *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	r = caddyhttp.PrepareRequest(r, caddy.NewReplacer(), w, &caddyhttp.Server{})
	if err := c.ServeHTTP(w, r, caddyhttp.HandlerFunc(respondOK)); err != nil {
		t.Fatal(err)
	}
	return w
}

// A log line shows what a client sent, so every request value in it is cut
// and limited to visible ASCII: the path and the host to about 256 bytes,
// the others to 64.
// C1 controls (U+009B is a terminal's CSI) and bidi overrides (U+202E) are
// what a raw value would smuggle into a terminal or a log viewer.
func TestRefusalLogLineCutsAndCleansEveryRequestValue(t *testing.T) {
	c := provision(t, `{"allowed_origins":["`+app+`"],"allowed_methods":["PUT"]}`)
	core, logs := observer.New(zapcore.DebugLevel)
	useLogger(c, zap.New(core))

	hostile := strings.Repeat("a\u009bb\u202ec", 15*1024/len("a\u009bb\u202ec")) // 15 KB
	r := httptest.NewRequest(http.MethodOptions, "http://api.example.com/", nil)
	r.URL.Path = "/" + hostile
	r.Host = hostile + ".example"
	r.Header = http.Header{
		"Origin":                        {"https://" + hostile + ".example"},
		"Access-Control-Request-Method": {"PU\u202eT" + hostile},
	}
	if w := refusedPreflight(t, c, r); w.Code != http.StatusForbidden {
		t.Fatalf("status %d, want 403", w.Code)
	}
	entries := logs.FilterMessage("CORS preflight rejected").AllUntimed()
	if len(entries) != 1 {
		t.Fatalf("%d log lines, want 1", len(entries))
	}
	limits := map[string]int{"path": maxLoggedPathLen, "host": maxLoggedHostLen, "origin": 64, "method": 64, "requested_method": 64, "reason": 64, "detail": 64 + 64}
	fields := entries[0].ContextMap()
	for key, limit := range limits {
		value, ok := fields[key].(string)
		if !ok {
			t.Errorf("%s: %v (%T), want a string", key, fields[key], fields[key])
			continue
		}
		if len(value) > limit+len("...") {
			t.Errorf("%s: %d bytes, want at most %d and an ellipsis", key, len(value), limit)
		}
		for _, b := range []byte(value) {
			if b < 0x20 || b > 0x7e {
				t.Errorf("%s: byte %#x in %q, want visible ASCII only", key, b, value)
				break
			}
		}
	}
	if path := fields["path"].(string); !strings.HasPrefix(path, "/a?") || !strings.HasSuffix(path, "...") || len(path) != maxLoggedPathLen+len("...") {
		t.Errorf("path %q, want the first 256 bytes, cleaned, then ...", path)
	}
}

// A flood of refused preflights writes a bounded number of lines, and a
// flood of one reason does not hide another's; metrics count every one.
func TestRefusalLogLinesAreSampledPerReason(t *testing.T) {
	c := provision(t, `{"allowed_origins":["`+app+`"],"allowed_methods":["PUT"]}`)
	core, logs := observer.New(zapcore.InfoLevel)
	useLogger(c, zap.New(core))
	before := counterValue(t, "preflight", "rejected", "origin")

	const flood = 1000
	for range flood {
		r := httptest.NewRequest(http.MethodOptions, "http://api.example.com/", nil)
		r.Header = preflightHeader("https://evil.example", "PUT", "")
		refusedPreflight(t, c, r)
	}
	const others = 5
	for range others {
		r := httptest.NewRequest(http.MethodOptions, "http://api.example.com/", nil)
		r.Header = preflightHeader(app, "PURGE", "")
		refusedPreflight(t, c, r)
	}

	byReason := map[string]int{}
	for _, entry := range logs.AllUntimed() {
		byReason[entry.ContextMap()["reason"].(string)]++
	}
	// The flood may straddle the start of a second, which starts the count
	// again: at most twice the first lines, and one in logSampleThereafter.
	if most := 2*logSampleFirst + flood/logSampleThereafter + 1; byReason["origin"] < logSampleFirst || byReason["origin"] > most {
		t.Errorf("%d lines for %d refused origins, want from %d to %d", byReason["origin"], flood, logSampleFirst, most)
	}
	if byReason["method"] != others {
		t.Errorf("%d lines for %d refused methods after a flood of refused origins, want every one", byReason["method"], others)
	}
	if counted := counterValue(t, "preflight", "rejected", "origin") - before; counted != flood {
		t.Errorf("metrics counted %v refused origins, want %d", counted, flood)
	}
}

// refusalsByKindAndReason are requests refused by the policy of
// TestRefusalLogLinesAreSampledPerHandler, one for each kind of request
// and reason a refusal can have.
var refusalsByKindAndReason = []struct {
	kind, reason string
	method       string
	header       http.Header
}{
	{"preflight", "origin", http.MethodOptions, preflightHeader("https://evil.example", "PUT", "")},
	{"preflight", "malformed", http.MethodOptions, preflightHeader(app+"/", "PUT", "")},
	{"preflight", "method", http.MethodOptions, preflightHeader(app, "PURGE", "")},
	{"preflight", "header", http.MethodOptions, preflightHeader(app, "PUT", "x-debug")},
	{"actual", "origin", http.MethodGet, http.Header{"Origin": {"https://evil.example"}}},
	{"actual", "malformed", http.MethodGet, http.Header{"Origin": {app + "/"}}},
}

// TestRefusalLogLinesAreSampledPerHandler proves that a flood refused by
// one cors handler, of any kind and for any reason, hides neither the first
// line of another reason or kind on that handler, nor the first line of any
// reason on another handler: one site under attack does not hide another's
// problem. Each pair starts from fresh counts, so that a count shared by
// two of them would show.
func TestRefusalLogLinesAreSampledPerHandler(t *testing.T) {
	const config = `{"allowed_origins":["` + app + `"],"allowed_methods":["PUT"]}`
	// Past the first lines, and short of the next one in
	// logSampleThereafter.
	const flood = 2 * logSampleFirst
	send := func(c *CORS, method string, header http.Header) {
		r := httptest.NewRequest(method, "http://api.example.com/", nil)
		r.Header = header
		refusedPreflight(t, c, r)
	}
	for i, flooded := range refusalsByKindAndReason {
		for j, other := range refusalsByKindAndReason {
			floodedHandler, otherHandler := provision(t, config), provision(t, config)
			core, logs := observer.New(zapcore.DebugLevel)
			useLogger(floodedHandler, zap.New(core).With(zap.String("handler", "flooded")))
			useLogger(otherHandler, zap.New(core).With(zap.String("handler", "other")))
			for range flood {
				send(floodedHandler, flooded.method, flooded.header)
			}
			if i != j {
				send(floodedHandler, other.method, other.header)
			}
			send(otherHandler, other.method, other.header)

			lines := map[[3]string]int{}
			for _, entry := range logs.AllUntimed() {
				fields := entry.ContextMap()
				kind := "actual"
				if entry.Message == "CORS preflight rejected" {
					kind = "preflight"
				}
				lines[[3]string{fields["handler"].(string), kind, fields["reason"].(string)}]++
			}
			if n := lines[[3]string{"flooded", flooded.kind, flooded.reason}]; n < logSampleFirst {
				t.Errorf("flood of %d %s/%s: %d lines, want at least the first %d", flood, flooded.kind, flooded.reason, n, logSampleFirst)
			}
			if lines[[3]string{"other", other.kind, other.reason}] != 1 {
				t.Errorf("after a flood of %s/%s on another handler: no line for the first %s/%s", flooded.kind, flooded.reason, other.kind, other.reason)
			}
			if i != j && lines[[3]string{"flooded", other.kind, other.reason}] != 1 {
				t.Errorf("after a flood of %s/%s on the same handler: no line for the first %s/%s", flooded.kind, flooded.reason, other.kind, other.reason)
			}
		}
	}
}

// Earlier handlers may have set Vary and even a stale CORS header: a
// refused preflight keeps the first, merged, and loses the second.
func TestRefusedPreflightMergesVaryAndDropsStaleCORSHeaders(t *testing.T) {
	c := provision(t, `{"allowed_origins":["`+app+`"]}`)
	r := httptest.NewRequest(http.MethodOptions, "http://api.example.com/", nil)
	r.Header = preflightHeader("https://evil.example", "PUT", "")
	w := httptest.NewRecorder()
	w.Header().Set("Vary", "Accept-Encoding")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	r = caddyhttp.PrepareRequest(r, caddy.NewReplacer(), w, &caddyhttp.Server{})
	if err := c.ServeHTTP(w, r, caddyhttp.HandlerFunc(respondOK)); err != nil {
		t.Fatal(err)
	}
	assertHeader(t, w.Header(), "Access-Control-Allow-Origin", "")
	if vary := strings.Join(w.Header().Values("Vary"), ", "); vary != "Accept-Encoding, Origin, Access-Control-Request-Method, Access-Control-Request-Headers" {
		t.Errorf("Vary %q, want Accept-Encoding and the preflight's tokens, each once", vary)
	}
	assertHeader(t, w.Header(), "Content-Type", "text/plain; charset=utf-8")
	assertHeader(t, w.Header(), "X-Content-Type-Options", "nosniff")
}

// In each second, the first logSampleFirst refusals of a kind and reason
// are written, then one in logSampleThereafter; a new second starts again.
func TestRefusalCountStartsAgainEachSecond(t *testing.T) {
	var rc refusalCount
	for second := int64(1); second <= 3; second++ {
		var written []int
		for n := 1; n <= 350; n++ {
			if rc.admit(second) {
				written = append(written, n)
			}
		}
		want := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 110, 210, 310}
		if !slices.Equal(written, want) {
			t.Errorf("second %d: lines for refusals %v, want %v", second, written, want)
		}
	}
}

// The gate's clock moves on by itself: a flood that lasts longer than a
// second gets its first lines again.
func TestRefusalClockTicks(t *testing.T) {
	start := refusalClock.second()
	deadline := time.Now().Add(30 * time.Second)
	for refusalClock.second() == start {
		if time.Now().After(deadline) {
			t.Fatal("the refusal clock did not move in 30 seconds")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// BenchmarkRefusalGate is what a refused request pays to learn that its
// line is not written, past the first lines of its second: the gate alone,
// on one core and contended by every core, and the whole of logRejection
// with a logger at info, as Caddy's default.
//
//	go test -run '^$' -bench RefusalGate -count 5 .
func BenchmarkRefusalGate(b *testing.B) {
	method := outcomeIndex(policy.ReasonMethod)
	var gate refusalGate
	for range 2 * logSampleFirst {
		gate.open(policy.Preflight, method)
	}
	b.Run("gate", func(b *testing.B) {
		for b.Loop() {
			gate.open(policy.Preflight, method)
		}
	})
	b.Run("gate_every_core", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				gate.open(policy.Preflight, method)
			}
		})
	})
	// What a gate built on zap's sampler costs, for comparison: a reading
	// of the time and a key hashed into a table shared by every handler.
	b.Run("zap_sampler_for_comparison", func(b *testing.B) {
		core := zapcore.NewCore(zapcore.NewJSONEncoder(zapcore.EncoderConfig{}), zapcore.AddSync(io.Discard), zapcore.InfoLevel)
		sampler := zapcore.NewSamplerWithOptions(core, time.Second, logSampleFirst, logSampleThereafter)
		const key = "1 preflight method"
		for b.Loop() {
			sampler.Check(zapcore.Entry{Level: zapcore.InfoLevel, Message: key, Time: time.Now()}, nil)
		}
	})
	b.Run("logRejection", func(b *testing.B) {
		c := loadHandler(b, perfPolicy)
		r := preparedRequest(http.MethodOptions, preflightHeader(benchOrigin, "PURGE", ""), httptest.NewRecorder())
		_, rejection := c.policy.Preflight(r.Header["Origin"], r.Header)
		for range 2 * logSampleFirst {
			c.logRejection(policy.Preflight, r, r.Header["Origin"], method, rejection, nil)
		}
		b.ReportAllocs()
		for b.Loop() {
			c.logRejection(policy.Preflight, r, r.Header["Origin"], method, rejection, nil)
		}
	})
}
