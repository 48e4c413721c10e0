package cors

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

const gatesPolicy = `{"allowed_origins":["` + app + `"],"enforce":["websocket","unsafe_methods"]}`

func wsHandshakeHeader(origin string) http.Header {
	h := http.Header{"Upgrade": {"websocket"}, "Connection": {"Upgrade"}, "Sec-Websocket-Version": {"13"}}
	if origin != "" {
		h.Set("Origin", origin)
	}
	return h
}

// TestGatesRefuseBeforeTheNextHandler: a refused handshake or cross-origin
// write gets the 403 with its one-line body and no CORS header, and the
// next handler never runs; what passes reaches it with the usual headers.
func TestGatesRefuseBeforeTheNextHandler(t *testing.T) {
	s := serve(t, provision(t, gatesPolicy), respondOK)
	for _, tc := range []struct {
		name   string
		method string
		header http.Header
		status int
		body   string
		vary   string
		reason string
	}{
		{"refused WebSocket origin", "GET", wsHandshakeHeader("https://evil.example"), 403,
			"WebSocket handshake rejected: origin \"https://evil.example\" is not allowed\n", "Origin", "websocket_origin"},
		{"null WebSocket origin", "GET", wsHandshakeHeader("null"), 403,
			"WebSocket handshake rejected: origin \"null\" is not allowed\n", "Origin", "websocket_origin"},
		{"cross-site POST", "POST", http.Header{"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}}, 403,
			"Cross-origin request rejected: origin \"https://evil.example\" may not send POST\n", "Origin, Sec-Fetch-Site", "unsafe_cross_origin"},
		{"old browser's cross-origin DELETE", "DELETE", http.Header{"Origin": {"https://evil.example"}}, 403,
			"Cross-origin request rejected: origin \"https://evil.example\" may not send DELETE\n", "Origin, Sec-Fetch-Site", "unsafe_cross_origin"},
		{"allowed WebSocket origin", "GET", wsHandshakeHeader(app), 200, "ok", "Origin", ""},
		{"WebSocket without Origin", "GET", wsHandshakeHeader(""), 200, "ok", "Origin", ""},
		{"allowed cross-site POST", "POST", http.Header{"Origin": {app}, "Sec-Fetch-Site": {"cross-site"}}, 200, "ok", "Origin", ""},
		{"same-origin POST", "POST", http.Header{"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"same-origin"}}, 200, "ok", "Origin", "origin"},
		{"refused GET is CORS's, not a gate's", "GET", http.Header{"Origin": {"https://evil.example"}}, 200, "ok", "Origin", "origin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := s.nextCalls
			resp, body := s.do(t, tc.method, tc.header)
			if resp.StatusCode != tc.status || body != tc.body {
				t.Errorf("status %d, body %q; want %d, %q", resp.StatusCode, body, tc.status, tc.body)
			}
			if reached := s.nextCalls > calls; reached != (tc.status == 200) {
				t.Errorf("next handler reached: %v", reached)
			}
			if s.placeholders[placeholderReason] != tc.reason {
				t.Errorf("{http.cors.reason} = %q, want %q", s.placeholders[placeholderReason], tc.reason)
			}
			assertHeader(t, resp.Header, "Vary", tc.vary)
			if tc.status != 403 {
				return
			}
			for name := range resp.Header {
				if strings.HasPrefix(name, "Access-Control-") {
					t.Errorf("refusal carries %s", name)
				}
			}
			assertHeader(t, resp.Header, "Content-Type", "text/plain; charset=utf-8")
			assertHeader(t, resp.Header, "X-Content-Type-Options", "nosniff")
			if s.placeholders[placeholderAllowed] != "false" {
				t.Errorf("{http.cors.allowed} = %q, want false", s.placeholders[placeholderAllowed])
			}
		})
	}
}

// TestGatesAreOffUnlessEnforced: without enforce, the same requests go on
// to the next handler, as plain CORS sends every request that is not a
// preflight.
func TestGatesAreOffUnlessEnforced(t *testing.T) {
	s := serve(t, provision(t, `{"allowed_origins":["`+app+`"]}`), respondOK)
	for _, h := range []http.Header{wsHandshakeHeader("https://evil.example"), {"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}}} {
		if resp, _ := s.do(t, "POST", h); resp.StatusCode != 200 {
			t.Errorf("%v: status %d, want 200", h, resp.StatusCode)
		}
	}
	s = serve(t, provision(t, `{"allowed_origins":["`+app+`"],"enforce":["websocket"]}`), respondOK)
	if resp, _ := s.do(t, "POST", http.Header{"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}}); resp.StatusCode != 200 {
		t.Errorf("unsafe_methods not enforced, yet a cross-site POST got %d", resp.StatusCode)
	}
}

func TestGateRefusalsAreCountedAndLogged(t *testing.T) {
	c := provision(t, gatesPolicy)
	core, logs := observer.New(zapcore.DebugLevel)
	useLogger(c, zap.New(core))
	before := counterValue(t, "actual", "rejected", "websocket_origin")
	beforeUnsafe := counterValue(t, "actual", "rejected", "unsafe_cross_origin")
	s := serve(t, c, respondOK)
	s.do(t, "GET", wsHandshakeHeader("https://evil.example"))
	s.do(t, "PUT", http.Header{"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"same-site"}})
	if got := counterValue(t, "actual", "rejected", "websocket_origin") - before; got != 1 {
		t.Errorf("websocket_origin counted %v, want 1", got)
	}
	if got := counterValue(t, "actual", "rejected", "unsafe_cross_origin") - beforeUnsafe; got != 1 {
		t.Errorf("unsafe_cross_origin counted %v, want 1", got)
	}
	entries := logs.FilterMessage("CORS request rejected").AllUntimed()
	if len(entries) != 2 {
		t.Fatalf("%d log lines, want 2", len(entries))
	}
	for i, want := range []map[string]any{
		{"reason": "websocket_origin", "detail": `origin "https://evil.example" is not allowed`, "method": "GET", "origin": "https://evil.example"},
		{"reason": "unsafe_cross_origin", "detail": `origin "https://evil.example" may not send PUT`, "method": "PUT"},
	} {
		fields := entries[i].ContextMap()
		for key, value := range want {
			if fields[key] != value {
				t.Errorf("line %d: %s = %v, want %v", i, key, fields[key], value)
			}
		}
	}
}

// TestGatePassCostsNoAllocation: with enforce, a request a gate passes
// allocates what it allocates without (the one allocation of its header
// values), and a refusal no more than a refused preflight (its headers
// and its body).
func TestGatePassCostsNoAllocation(t *testing.T) {
	with := loadHandler(t, `{"allowed_origins":["`+benchOrigin+`"],"enforce":["websocket","unsafe_methods"]}`)
	without := loadHandler(t, `{"allowed_origins":["`+benchOrigin+`"]}`)
	allocs := func(c *CORS, method string, header http.Header) float64 {
		w := newReusedWriter()
		base := preparedRequest(method, header, w)
		base.TLS = nil
		r := base.WithContext(base.Context())
		for range 2 * logSampleFirst {
			_ = c.ServeHTTP(w, r, nextCaddy)
		}
		return testing.AllocsPerRun(200, func() {
			w.reset()
			repl := caddy.NewReplacer()
			*r = *base.WithContext(context.WithValue(base.Context(), caddy.ReplacerCtxKey, repl))
			_ = c.ServeHTTP(w, r, nextCaddy)
		})
	}
	for _, tc := range []struct {
		name   string
		method string
		header http.Header
	}{
		{"GET without Origin", "GET", http.Header{"Accept": {"*/*"}}},
		{"allowed WebSocket handshake", "GET", wsHandshakeHeader(benchOrigin)},
		{"own-origin WebSocket handshake", "GET", wsHandshakeHeader("http://api.example.com")},
		{"allowed cross-site POST", "POST", http.Header{"Origin": {benchOrigin}, "Sec-Fetch-Site": {"cross-site"}}},
		{"same-origin POST", "POST", http.Header{"Origin": {"http://api.example.com"}, "Sec-Fetch-Site": {"same-origin"}}},
	} {
		if w, wo := allocs(with, tc.method, tc.header), allocs(without, tc.method, tc.header); w != wo {
			t.Errorf("%s: %v allocations with enforce, %v without", tc.name, w, wo)
		}
	}
	refusal := allocs(with, "POST", http.Header{"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}})
	preflight := allocs(without, "OPTIONS", preflightRequestHeader("https://evil.example", benchPreflight))
	if refusal > preflight {
		t.Errorf("a refusal at a gate allocates %v, a refused preflight %v", refusal, preflight)
	}
}

func TestProvisionChecksEnforce(t *testing.T) {
	for _, tc := range []struct{ config, want string }{
		{`{"allowed_origins":["` + app + `"],"enforce":["websockets"]}`, `enforce "websockets" is not a gate: write websocket`},
		{`{"allowed_origins":["*"],"enforce":["unsafe_methods"]}`, `enforce cannot be combined with origins *`},
	} {
		_, err := loadCORS(t, tc.config)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.config, err, tc.want)
		}
	}
	c, err := loadCORS(t, gatesPolicy)
	if err != nil || c.gates == 0 {
		t.Fatalf("valid enforce: %v, gates %v", err, c)
	}
}

func TestCaddyfileEnforce(t *testing.T) {
	var got CORS
	input := "cors https://app.example.com {\n enforce websocket\n enforce unsafe_methods\n}"
	if err := got.UnmarshalCaddyfile(caddyfile.NewTestDispenser(input)); err != nil {
		t.Fatal(err)
	}
	want := CORS{AllowedOrigins: []string{"https://app.example.com"}, Enforce: []string{"websocket", "unsafe_methods"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}

	for _, tc := range []struct {
		name, input string
		line        int
		want        string
	}{
		{"unknown gate", "cors https://app.example.com {\n enforce websocket csrf\n}", 2, `enforce "csrf" is not a gate`},
		{"no gate", "cors https://app.example.com {\n enforce\n}", 2, "wrong argument count"},
		{"gates after any origin", "cors {\n origins *\n enforce websocket\n}", 3, "enforce cannot be combined with origins *"},
		{"any origin after gates", "cors https://app.example.com {\n enforce websocket\n origins *\n}", 3, "enforce cannot be combined with origins *"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c CORS
			assertErrorAt(t, c.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.input)), "Testfile", tc.line, tc.want)
		})
	}

	// Adapted, enforce is the JSON field of the same name.
	out, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte("http://localhost:9400 {\n\tcors https://app.example.com {\n\t\tenforce websocket unsafe_methods\n\t}\n}\n"), nil)
	if err != nil || !strings.Contains(string(out), `"enforce":["websocket","unsafe_methods"]`) {
		t.Errorf("adapted %s, %v; want the enforce field", out, err)
	}
}
