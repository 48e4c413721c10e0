package cors

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

const app = "https://app.example.com"

// provision loads the handler from its JSON configuration the way Caddy
// does: strict decoding, then Provision.
func provision(t testing.TB, config string) *CORS {
	t.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: t.Context()})
	t.Cleanup(cancel)
	module, err := ctx.LoadModuleByID("http.handlers.cors", json.RawMessage(config))
	if err != nil {
		t.Fatalf("loading %s: %v", config, err)
	}
	return module.(*CORS)
}

// useLogger gives c logger instead of the one Provision took from Caddy,
// and starts the sampling of its refusal lines afresh, so that a test sees
// the first lines of each reason whatever the tests before it logged.
func useLogger(c *CORS, logger *zap.Logger) {
	c.logger = logger
	c.refusals = new(refusalGate)
}

// served is the handler behind a real loopback HTTP server, in front of next.
type served struct {
	url          string
	nextCalls    int
	placeholders map[string]string
}

func serve(t *testing.T, c *CORS, next caddyhttp.HandlerFunc) *served {
	t.Helper()
	s := &served{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		repl := caddy.NewReplacer()
		r = caddyhttp.PrepareRequest(r, repl, w, &caddyhttp.Server{})
		counted := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			s.nextCalls++
			return next(w, r)
		})
		err := c.ServeHTTP(w, r, counted)
		s.placeholders = map[string]string{}
		for _, key := range []string{placeholderAllowed, placeholderReason} {
			v, _ := repl.GetString(key)
			s.placeholders[key] = v
		}
		// Caddy's error path: the status is written with the server's own
		// writer, bypassing every middleware wrapper.
		var handlerErr caddyhttp.HandlerError
		if errors.As(err, &handlerErr) {
			w.WriteHeader(handlerErr.StatusCode)
		}
	}))
	t.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

func (s *served) do(t *testing.T, method string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.url+"/api", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func respondOK(w http.ResponseWriter, r *http.Request) error {
	_, err := io.WriteString(w, "ok")
	return err
}

// assertHeader checks that name has exactly one field line, want; an empty
// want means no field line at all.
func assertHeader(t *testing.T, h http.Header, name, want string) {
	t.Helper()
	got := h.Values(name)
	switch {
	case want == "" && len(got) != 0:
		t.Errorf("%s: %q, want none", name, got)
	case want != "" && (len(got) != 1 || got[0] != want):
		t.Errorf("%s: %q, want exactly %q", name, got, want)
	}
}

func preflightHeader(origin, method, requestHeaders string) http.Header {
	h := http.Header{"Origin": {origin}, "Access-Control-Request-Method": {method}}
	if requestHeaders != "" {
		h.Set("Access-Control-Request-Headers", requestHeaders)
	}
	return h
}

func TestPreflightIsAnsweredWithoutTheNextHandler(t *testing.T) {
	s := serve(t, provision(t, `{"allowed_origins":["`+app+`"],"allowed_methods":["PUT"],"allowed_headers":["Authorization"],"allow_credentials":true,"max_age":"10m"}`),
		func(w http.ResponseWriter, r *http.Request) error {
			return caddyhttp.Error(http.StatusUnauthorized, errors.New("auth would refuse a preflight"))
		})
	resp, body := s.do(t, "OPTIONS", preflightHeader(app, "PUT", "authorization"))
	if resp.StatusCode != http.StatusNoContent || s.nextCalls != 0 || body != "" {
		t.Fatalf("status %d, next called %d times, body %q; want 204 without next", resp.StatusCode, s.nextCalls, body)
	}
	assertHeader(t, resp.Header, "Access-Control-Allow-Origin", app)
	assertHeader(t, resp.Header, "Access-Control-Allow-Credentials", "true")
	assertHeader(t, resp.Header, "Access-Control-Allow-Methods", "PUT")
	assertHeader(t, resp.Header, "Access-Control-Allow-Headers", "authorization")
	assertHeader(t, resp.Header, "Access-Control-Max-Age", "600")
	assertHeader(t, resp.Header, "Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
	if s.placeholders[placeholderAllowed] != "true" || s.placeholders[placeholderReason] != "" {
		t.Errorf("placeholders %v", s.placeholders)
	}
}

func TestPreflightStatusAndPassthrough(t *testing.T) {
	s := serve(t, provision(t, `{"allowed_origins":["*"],"preflight_status":200}`), respondOK)
	if resp, _ := s.do(t, "OPTIONS", preflightHeader(app, "GET", "")); resp.StatusCode != 200 || s.nextCalls != 0 {
		t.Errorf("preflight_status 200: got %d, next called %d times", resp.StatusCode, s.nextCalls)
	}

	s = serve(t, provision(t, `{"allowed_origins":["`+app+`"],"allowed_methods":["PUT"],"preflight_passthrough":true}`),
		func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Allow", "GET, PUT")
			w.WriteHeader(http.StatusOK)
			return nil
		})
	resp, _ := s.do(t, "OPTIONS", preflightHeader(app, "PUT", ""))
	if resp.StatusCode != 200 || s.nextCalls != 1 || resp.Header.Get("Allow") != "GET, PUT" {
		t.Errorf("passthrough: status %d, next called %d times, Allow %q", resp.StatusCode, s.nextCalls, resp.Header.Get("Allow"))
	}
	assertHeader(t, resp.Header, "Access-Control-Allow-Origin", app)
	assertHeader(t, resp.Header, "Access-Control-Allow-Methods", "PUT")

	resp, body := s.do(t, "OPTIONS", preflightHeader(app, "DELETE", ""))
	const refusal = `CORS preflight rejected: method "DELETE" is not allowed` + "\n"
	if resp.StatusCode != http.StatusOK || s.nextCalls != 1 || body != refusal || resp.Header.Get("Allow") != "" {
		t.Errorf("passthrough of a refused preflight: status %d, body %q, next called %d times; want 200 %q without next", resp.StatusCode, body, s.nextCalls, refusal)
	}
	assertCORSHeaders(t, resp.Header, map[string]string{"Access-Control-Allow-Origin": app})

	resp, body = s.do(t, "OPTIONS", preflightHeader("https://evil.example", "PUT", ""))
	if resp.StatusCode != http.StatusForbidden || s.nextCalls != 1 || resp.Header.Get("Allow") != "" {
		t.Errorf("passthrough of a preflight from a refused origin: status %d, body %q, next called %d times; want 403 without next", resp.StatusCode, body, s.nextCalls)
	}
	assertCORSHeaders(t, resp.Header, nil)
}

// assertCORSHeaders checks that the Access-Control-* headers of h are
// exactly want, one field line each.
func assertCORSHeaders(t *testing.T, h http.Header, want map[string]string) {
	t.Helper()
	for name := range h {
		if _, ok := want[name]; strings.HasPrefix(name, "Access-Control-") && !ok {
			t.Errorf("%s: %q, want none", name, h[name])
		}
	}
	for name, value := range want {
		assertHeader(t, h, name, value)
	}
}

func TestRejectedPreflightExplainsItself(t *testing.T) {
	const config = `"allowed_origins":["` + app + `"],"allowed_methods":["PUT"],"allowed_headers":["X-Request-Id"],"max_age":"10m"`
	plain := provision(t, `{`+config+`}`)
	withCredentials := provision(t, `{`+config+`,"allow_credentials":true}`)

	tests := []struct {
		name    string
		handler *CORS
		header  http.Header
		status  int
		cors    map[string]string // every Access-Control-* header of the answer
		body    string
		reason  string
	}{
		{"refused origin: 403 and no CORS header", plain, preflightHeader("https://evil.example", "PUT", "x-request-id"),
			http.StatusForbidden, nil,
			`CORS preflight rejected: origin "https://evil.example" is not allowed`, "origin"},
		{"refused origin with credentials: 403 and no CORS header", withCredentials, preflightHeader("https://evil.example", "PUT", "x-request-id"),
			http.StatusForbidden, nil,
			`CORS preflight rejected: origin "https://evil.example" is not allowed`, "origin"},
		{"malformed origin: 403 and no CORS header", plain, preflightHeader(app+"/", "PUT", ""),
			http.StatusForbidden, nil,
			`CORS preflight rejected: origin "https://app.example.com/" is not a valid origin`, "malformed"},
		{"refused method: 200, Allow-Origin and the allowed header, no Allow-Methods", plain, preflightHeader(app, "PURGE", "x-request-id"),
			http.StatusOK, map[string]string{"Access-Control-Allow-Origin": app, "Access-Control-Allow-Headers": "x-request-id"},
			`CORS preflight rejected: method "PURGE" is not allowed`, "method"},
		{"refused method with credentials: Allow-Credentials as for a success", withCredentials, preflightHeader(app, "PURGE", ""),
			http.StatusOK, map[string]string{"Access-Control-Allow-Origin": app, "Access-Control-Allow-Credentials": "true"},
			`CORS preflight rejected: method "PURGE" is not allowed`, "method"},
		{"refused header among allowed ones: only the allowed one listed", plain, preflightHeader(app, "PUT", "x-request-id,x-debug"),
			http.StatusOK, map[string]string{"Access-Control-Allow-Origin": app, "Access-Control-Allow-Methods": "PUT", "Access-Control-Allow-Headers": "x-request-id"},
			`CORS preflight rejected: header "x-debug" is not allowed`, "header"},
		{"refused header with credentials", withCredentials, preflightHeader(app, "PUT", "x-request-id,x-debug"),
			http.StatusOK, map[string]string{"Access-Control-Allow-Origin": app, "Access-Control-Allow-Credentials": "true", "Access-Control-Allow-Methods": "PUT", "Access-Control-Allow-Headers": "x-request-id"},
			`CORS preflight rejected: header "x-debug" is not allowed`, "header"},
		{"hostile value is cut and made printable", plain, preflightHeader(app, "PUT", "x-"+strings.Repeat("\xff", 80)),
			http.StatusOK, map[string]string{"Access-Control-Allow-Origin": app, "Access-Control-Allow-Methods": "PUT"},
			`CORS preflight rejected: header "x-` + strings.Repeat("?", 62) + `..." is not a valid header name`, "header"},
		{"over-cap header list from an allowed origin: no header listed", plain, preflightHeader(app, "PUT", strings.Repeat("x-request-id,", 1000)),
			http.StatusOK, map[string]string{"Access-Control-Allow-Origin": app, "Access-Control-Allow-Methods": "PUT"},
			`CORS preflight rejected: Access-Control-Request-Headers is too long`, "header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			core, logs := observer.New(zapcore.DebugLevel)
			useLogger(tt.handler, zap.New(core))
			s := serve(t, tt.handler, respondOK)
			resp, body := s.do(t, "OPTIONS", tt.header)
			if resp.StatusCode != tt.status || body != tt.body+"\n" || s.nextCalls != 0 {
				t.Errorf("got %d %q (next called %d times), want %d %q", resp.StatusCode, body, s.nextCalls, tt.status, tt.body)
			}
			assertCORSHeaders(t, resp.Header, tt.cors)
			assertHeader(t, resp.Header, "Content-Type", "text/plain; charset=utf-8")
			assertHeader(t, resp.Header, "X-Content-Type-Options", "nosniff")
			assertHeader(t, resp.Header, "Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
			if s.placeholders[placeholderAllowed] != "false" || s.placeholders[placeholderReason] != tt.reason {
				t.Errorf("placeholders %v", s.placeholders)
			}
			entries := logs.FilterMessage("CORS preflight rejected").AllUntimed()
			if len(entries) != 1 || entries[0].Level != zapcore.InfoLevel {
				t.Fatalf("want one info line, got %v", entries)
			}
			fields := entries[0].ContextMap()
			if fields["reason"] != tt.reason || fields["path"] != "/api" || fields["host"] != strings.TrimPrefix(s.url, "http://") ||
				fields["method"] != "OPTIONS" || fields["origin"] == nil || fields["requested_method"] == nil {
				t.Errorf("log fields %v", fields)
			}
		})
	}
}

// Without private_network, Access-Control-Request-Private-Network is
// ignored: the preflight is answered as it would be without it, with no
// Allow-Private-Network, and Vary does not name it. With private_network,
// Vary names it and only "true" is answered.
func TestPrivateNetworkPreflight(t *testing.T) {
	const config = `"allowed_origins":["` + app + `"],"allowed_methods":["PUT"],"max_age":"10m"`
	withPNA := func(value string) http.Header {
		h := preflightHeader(app, "PUT", "")
		h.Set("Access-Control-Request-Private-Network", value)
		return h
	}
	s := serve(t, provision(t, `{`+config+`}`), respondOK)
	for _, value := range []string{"true", "false"} {
		resp, body := s.do(t, "OPTIONS", withPNA(value))
		if resp.StatusCode != http.StatusNoContent || body != "" || s.placeholders[placeholderAllowed] != "true" {
			t.Errorf("without private_network, asking %q: %d %q %v, want 204 as without the header", value, resp.StatusCode, body, s.placeholders)
		}
		assertCORSHeaders(t, resp.Header, map[string]string{"Access-Control-Allow-Origin": app, "Access-Control-Allow-Methods": "PUT", "Access-Control-Max-Age": "600"})
		assertHeader(t, resp.Header, "Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
	}

	s = serve(t, provision(t, `{`+config+`,"allow_private_network":true}`), respondOK)
	for value, want := range map[string]string{"true": "true", "false": "", "TRUE": ""} {
		resp, _ := s.do(t, "OPTIONS", withPNA(value))
		if resp.StatusCode != http.StatusNoContent {
			t.Errorf("with private_network, asking %q: status %d, want 204", value, resp.StatusCode)
		}
		assertHeader(t, resp.Header, "Access-Control-Allow-Private-Network", want)
		assertHeader(t, resp.Header, "Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network")
	}
}

// An upstream that sends its own CORS headers adds them (reverse_proxy
// copies with Add) after ours were set: the committed response must still
// carry exactly the policy's.
func TestCommittedResponseCarriesExactlyThePolicysHeaders(t *testing.T) {
	upstreamHeaders := func(w http.ResponseWriter) {
		h := w.Header()
		h.Add("Access-Control-Allow-Origin", "*")
		h.Add("Access-Control-Allow-Credentials", "true")
		h.Add("Access-Control-Expose-Headers", "X-Up")
		h.Add("Vary", "Accept")
		h.Add("Vary", "Origin")
	}
	commits := map[string]caddyhttp.HandlerFunc{
		"WriteHeader": func(w http.ResponseWriter, r *http.Request) error {
			upstreamHeaders(w)
			w.WriteHeader(http.StatusCreated)
			return nil
		},
		"Write": func(w http.ResponseWriter, r *http.Request) error {
			upstreamHeaders(w)
			_, err := w.Write([]byte("body"))
			return err
		},
		"ReadFrom": func(w http.ResponseWriter, r *http.Request) error {
			upstreamHeaders(w)
			// A reader that is not an io.WriterTo makes io.Copy use the
			// writer's ReadFrom, which commits without WriteHeader.
			_, err := io.Copy(w, struct{ io.Reader }{strings.NewReader("body")})
			return err
		},
		"Flush": func(w http.ResponseWriter, r *http.Request) error {
			upstreamHeaders(w)
			return http.NewResponseController(w).Flush()
		},
		"103 Early Hints, then 200": func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Link", "</app.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			upstreamHeaders(w)
			w.WriteHeader(http.StatusOK)
			return nil
		},
	}
	c := provision(t, `{"allowed_origins":["`+app+`"],"allow_credentials":true,"exposed_headers":["X-Mine"]}`)
	for name, next := range commits {
		t.Run(name, func(t *testing.T) {
			s := serve(t, c, next)
			resp, _ := s.do(t, "GET", http.Header{"Origin": {app}})
			assertHeader(t, resp.Header, "Access-Control-Allow-Origin", app)
			assertHeader(t, resp.Header, "Access-Control-Allow-Credentials", "true")
			assertHeader(t, resp.Header, "Access-Control-Expose-Headers", "X-Mine")
			assertVary(t, resp.Header)

			resp, _ = s.do(t, "GET", http.Header{"Origin": {"https://evil.example"}})
			for _, h := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Expose-Headers"} {
				assertHeader(t, resp.Header, h, "")
			}
			assertVary(t, resp.Header)

			resp, _ = s.do(t, "GET", http.Header{})
			assertHeader(t, resp.Header, "Access-Control-Allow-Origin", "")
			assertVary(t, resp.Header)
		})
	}
}

// A 101 Switching Protocols is the final response, as net/http treats it:
// reverse_proxy adds the upstream's header lines, then writes 101 and
// hijacks the connection, so the headers must be applied at that
// WriteHeader or the client gets the upstream's next to the policy's.
func TestSwitchingProtocolsCommitsThePolicysHeaders(t *testing.T) {
	c := provision(t, `{"allowed_origins":["`+app+`"],"allow_credentials":true}`)
	// Not serve: the client has its answer before the handler returns,
	// which serve's bookkeeping would race with.
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		h := w.Header()
		h.Add("Access-Control-Allow-Origin", "*")
		h.Add("Access-Control-Allow-Credentials", "true")
		h.Add("Access-Control-Expose-Headers", "X-Up")
		h.Set("Upgrade", "probe")
		h.Set("Connection", "Upgrade")
		w.WriteHeader(http.StatusSwitchingProtocols)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return err
		}
		return conn.Close()
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = caddyhttp.PrepareRequest(r, caddy.NewReplacer(), w, &caddyhttp.Server{})
		if err := c.ServeHTTP(w, r, next); err != nil {
			t.Error(err)
		}
	}))
	t.Cleanup(srv.Close)
	upgrade := func(origin string) *http.Response {
		t.Helper()
		conn, err := net.DialTimeout("tcp", srv.Listener.Addr().String(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if err := conn.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(conn, "GET /api HTTP/1.1\r\nHost: api.example.com\r\nOrigin: "+origin+"\r\nUpgrade: probe\r\nConnection: Upgrade\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("status %d, want 101", resp.StatusCode)
		}
		return resp
	}
	resp := upgrade(app)
	assertCORSHeaders(t, resp.Header, map[string]string{"Access-Control-Allow-Origin": app, "Access-Control-Allow-Credentials": "true"})
	resp = upgrade("https://evil.example")
	assertCORSHeaders(t, resp.Header, nil)
}

// Access-Control-Expose-Headers concerns the response a script reads, never
// a preflight's: a preflight answer has none, whether the module answers it
// (allowed or refused) or hands it on with preflight_passthrough to a next
// handler that sets one.
func TestPreflightAnswerCarriesNoExposeHeaders(t *testing.T) {
	const config = `"allowed_origins":["` + app + `"],"allowed_methods":["PUT"],"exposed_headers":["X-Total"]`
	upstream := func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Add("Access-Control-Expose-Headers", "X-Up")
		return respondOK(w, r)
	}
	for _, passthrough := range []bool{false, true} {
		s := serve(t, provision(t, `{`+config+`,"preflight_passthrough":`+strconv.FormatBool(passthrough)+`}`), upstream)
		for _, h := range []http.Header{
			preflightHeader(app, "PUT", ""),
			preflightHeader(app, "PURGE", ""),
			preflightHeader("https://evil.example", "PUT", ""),
		} {
			resp, _ := s.do(t, "OPTIONS", h)
			assertHeader(t, resp.Header, "Access-Control-Expose-Headers", "")
		}
		// The same handler exposes X-Total on what a script reads.
		resp, _ := s.do(t, "GET", http.Header{"Origin": {app}})
		assertHeader(t, resp.Header, "Access-Control-Expose-Headers", "X-Total")
	}
}

// A handler that assigns a managed header under a key net/http did not
// canonicalize gets it sent as it is; the browser reads it as the same
// header, so the response must still carry exactly one line of it.
func TestManagedHeaderSetInAnotherCaseIsReplaced(t *testing.T) {
	s := serve(t, provision(t, `{"allowed_origins":["`+app+`"]}`), func(w http.ResponseWriter, r *http.Request) error {
		w.Header()["access-control-allow-origin"] = []string{"*"}
		w.Header()["ACCESS-CONTROL-ALLOW-CREDENTIALS"] = []string{"true"}
		return respondOK(w, r)
	})
	resp, _ := s.do(t, "GET", http.Header{"Origin": {app}})
	assertCORSHeaders(t, resp.Header, map[string]string{"Access-Control-Allow-Origin": app})
	resp, _ = s.do(t, "GET", http.Header{"Origin": {"https://evil.example"}})
	assertCORSHeaders(t, resp.Header, nil)
}

// assertVary checks that the upstream's Vary lines, which already name
// Origin, are kept as they were: merged, with no token twice.
func assertVary(t *testing.T, h http.Header) {
	t.Helper()
	if vary := h.Values("Vary"); !slices.Equal(vary, []string{"Accept", "Origin"}) {
		t.Errorf("Vary: %q, want [\"Accept\" \"Origin\"]", vary)
	}
}

// Caddy writes error responses with its own writer, past every wrapper:
// the headers set before the next handler ran are all they get.
func TestErrorResponsesKeepTheCORSHeaders(t *testing.T) {
	s := serve(t, provision(t, `{"allowed_origins":["`+app+`"],"allow_credentials":true}`),
		func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Www-Authenticate", `Basic realm="restricted"`)
			return caddyhttp.Error(http.StatusUnauthorized, errors.New("no credentials"))
		})
	resp, _ := s.do(t, "GET", http.Header{"Origin": {app}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d", resp.StatusCode)
	}
	assertHeader(t, resp.Header, "Access-Control-Allow-Origin", app)
	assertHeader(t, resp.Header, "Access-Control-Allow-Credentials", "true")
	assertHeader(t, resp.Header, "Vary", "Origin")

	resp, _ = s.do(t, "GET", nil)
	assertHeader(t, resp.Header, "Access-Control-Allow-Origin", "")
	assertHeader(t, resp.Header, "Vary", "Origin")
}

// A later handler may change the header map and then fail, as a `header`
// directive followed by `error` does: the error response, written past the
// wrapper, must still carry exactly the policy's headers.
func TestErrorAfterALaterHandlerSetCORSHeaders(t *testing.T) {
	s := serve(t, provision(t, `{"allowed_origins":["`+app+`"]}`),
		func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Add("Access-Control-Allow-Origin", "*")
			w.Header().Set("Access-Control-Allow-Credentials", "true")
			return caddyhttp.Error(http.StatusForbidden, errors.New("refused"))
		})
	resp, _ := s.do(t, "GET", http.Header{"Origin": {app}})
	assertHeader(t, resp.Header, "Access-Control-Allow-Origin", app)
	assertHeader(t, resp.Header, "Access-Control-Allow-Credentials", "")
	resp, _ = s.do(t, "GET", http.Header{"Origin": {"https://evil.example"}})
	assertHeader(t, resp.Header, "Access-Control-Allow-Origin", "")
}

// A next handler that writes nothing and returns nil leaves the response
// to net/http, which sends the header map as it is when the handler chain
// returns: nothing passes through the wrapper, yet the response carries
// exactly the policy's headers.
func TestResponseNobodyWroteCarriesThePolicysHeaders(t *testing.T) {
	s := serve(t, provision(t, `{"allowed_origins":["`+app+`"]}`),
		func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Add("Access-Control-Allow-Origin", "*")
			return nil
		})
	resp, _ := s.do(t, "GET", http.Header{"Origin": {app}})
	assertHeader(t, resp.Header, "Access-Control-Allow-Origin", app)
	assertHeader(t, resp.Header, "Vary", "Origin")
	resp, _ = s.do(t, "GET", nil)
	assertHeader(t, resp.Header, "Access-Control-Allow-Origin", "")
	assertHeader(t, resp.Header, "Vary", "Origin")
}

func TestRefusedCORSRequestStillReachesTheNextHandler(t *testing.T) {
	c := provision(t, `{"allowed_origins":["`+app+`"]}`)
	core, logs := observer.New(zapcore.DebugLevel)
	useLogger(c, zap.New(core))
	s := serve(t, c, respondOK)
	resp, body := s.do(t, "POST", http.Header{"Origin": {"https://evil.example"}})
	if resp.StatusCode != 200 || body != "ok" || s.nextCalls != 1 {
		t.Errorf("got %d %q, next called %d times", resp.StatusCode, body, s.nextCalls)
	}
	if s.placeholders[placeholderAllowed] != "false" || s.placeholders[placeholderReason] != "origin" {
		t.Errorf("placeholders %v", s.placeholders)
	}
	entries := logs.FilterMessage("CORS request rejected").AllUntimed()
	if len(entries) != 1 || entries[0].Level != zapcore.DebugLevel {
		t.Errorf("want one debug line, got %v", entries)
	}

	s.do(t, "GET", http.Header{})
	if s.placeholders[placeholderAllowed] != "" || s.placeholders[placeholderReason] != "" {
		t.Errorf("non-CORS placeholders %v", s.placeholders)
	}
}

func TestAnyOriginAnswersStarToEveryone(t *testing.T) {
	s := serve(t, provision(t, `{"allowed_origins":["*"],"exposed_headers":["X-Total"]}`), func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Add("Access-Control-Allow-Origin", "https://upstream.example")
		return respondOK(w, r)
	})
	for _, h := range []http.Header{{"Origin": {"https://whoever.example"}}, {"Origin": {"null"}}, {}} {
		resp, _ := s.do(t, "GET", h)
		assertHeader(t, resp.Header, "Access-Control-Allow-Origin", "*")
		assertHeader(t, resp.Header, "Access-Control-Expose-Headers", "X-Total")
		assertHeader(t, resp.Header, "Vary", "")
	}
}

// The response writer must not hide what http.ResponseController reaches
// through it: streaming handlers and WebSocket proxies depend on it.
func TestResponseWriterKeepsResponseControllerWorking(t *testing.T) {
	s := serve(t, provision(t, `{"allowed_origins":["`+app+`"]}`), func(w http.ResponseWriter, r *http.Request) error {
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			return err
		}
		if err := rc.EnableFullDuplex(); err != nil {
			return err
		}
		conn, buf, err := rc.Hijack()
		if err != nil {
			return err
		}
		defer conn.Close()
		_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
		return buf.Flush()
	})
	resp, body := s.do(t, "GET", http.Header{"Origin": {app}})
	if resp.StatusCode != 200 || body != "hijacked" {
		t.Errorf("got %d %q", resp.StatusCode, body)
	}
}
