package cors

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
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
// and limited to visible ASCII: the path to 256 bytes, the others to 64.
// C1 controls (U+009B is a terminal's CSI) and bidi overrides (U+202E) are
// what a raw value would smuggle into a terminal or a log viewer.
func TestRefusalLogLineCutsAndCleansEveryRequestValue(t *testing.T) {
	c := provision(t, `{"allowed_origins":["`+app+`"],"allowed_methods":["PUT"]}`)
	core, logs := observer.New(zapcore.DebugLevel)
	useLogger(c, zap.New(core))

	hostile := strings.Repeat("a\u009bb\u202ec", 15*1024/len("a\u009bb\u202ec")) // 15 KB
	r := httptest.NewRequest(http.MethodOptions, "http://api.example.com/", nil)
	r.URL.Path = "/" + hostile
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
	limits := map[string]int{"path": maxLoggedPathLen, "origin": 64, "method": 64, "requested_method": 64, "reason": 64, "detail": 64 + 64}
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

// TestRefusalLogLinesAreSampledPerHandler proves that a flood refused by
// one cors handler leaves another handler's refusals of the same reason
// logged in full: one site under attack does not hide another's problem.
func TestRefusalLogLinesAreSampledPerHandler(t *testing.T) {
	flooded := provision(t, `{"allowed_origins":["`+app+`"]}`)
	quiet := provision(t, `{"allowed_origins":["`+app+`"]}`)
	floodedCore, _ := observer.New(zapcore.InfoLevel)
	useLogger(flooded, zap.New(floodedCore))
	quietCore, quietLogs := observer.New(zapcore.InfoLevel)
	useLogger(quiet, zap.New(quietCore))

	refuseOrigin := func(c *CORS) {
		r := httptest.NewRequest(http.MethodOptions, "http://api.example.com/", nil)
		r.Header = preflightHeader("https://evil.example", "PUT", "")
		refusedPreflight(t, c, r)
	}
	for range 1000 {
		refuseOrigin(flooded)
	}
	const quietRefusals = 5
	for range quietRefusals {
		refuseOrigin(quiet)
	}
	if n := quietLogs.Len(); n != quietRefusals {
		t.Errorf("%d lines for %d refusals by a handler next to a flooded one, want every one", n, quietRefusals)
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
