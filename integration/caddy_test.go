// Package integration runs the cors module inside a real Caddy (started
// in-process by caddytest) and checks what a browser would see on the wire,
// behind the handlers people put next to it: basic_auth, forward_auth, redir,
// reverse_proxy, encode, handle_errors.
//
// There is one Caddy per test binary, so the tests of this package never run
// in parallel with each other. Every port, the admin endpoint's included, is
// picked at run time (ports_test.go): two runs on one machine do not meet.
//
// caddytest skips (silently) under -short or when it cannot start Caddy.
// With CI=true in the environment such a skip is a failure instead: see
// requireIntegration and strictTB.
package integration

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"

	// The module under test: registers http.handlers.cors and the cors
	// Caddyfile directive, ordered before header.
	_ "github.com/caddy-cors/cors"
)

// requestTimeout bounds every HTTP request the tests make.
const requestTimeout = 10 * time.Second

// managedCORSHeaders are the response headers the module owns (SPEC: "The
// module owns the response headers ..."): whatever a later handler or an
// upstream puts there is replaced or removed.
var managedCORSHeaders = []string{
	"Access-Control-Allow-Origin",
	"Access-Control-Allow-Credentials",
	"Access-Control-Allow-Methods",
	"Access-Control-Allow-Headers",
	"Access-Control-Expose-Headers",
	"Access-Control-Max-Age",
	"Access-Control-Allow-Private-Network",
}

// ciStrict reports whether skips must become failures: in CI the
// integration tests are the point of the job, and a silent skip would let a
// broken module pass.
func ciStrict() bool {
	return os.Getenv("CI") == "true"
}

// requireIntegration skips t under -short, or fails it when CI=true, since
// caddytest itself would skip silently under -short.
func requireIntegration(t *testing.T) {
	t.Helper()
	if testing.Short() {
		if ciStrict() {
			t.Fatal("integration test run with -short while CI=true: run without -short")
		}
		t.Skip("integration test: skipped under -short")
	}
}

// strictTB is the testing.TB handed to caddytest. caddytest calls SkipNow
// or Skipf when its prerequisites fail (cannot start Caddy, certificates
// missing); with CI=true those become fatal errors.
type strictTB struct {
	testing.TB
}

func (s strictTB) SkipNow() {
	s.Helper()
	if ciStrict() {
		s.TB.Fatal("caddytest wanted to skip this test, which CI=true forbids")
	}
	s.TB.SkipNow()
}

func (s strictTB) Skip(args ...any) {
	s.Helper()
	if ciStrict() {
		s.TB.Fatal(append([]any{"caddytest wanted to skip (forbidden with CI=true):"}, args...)...)
	}
	s.TB.Skip(args...)
}

func (s strictTB) Skipf(format string, args ...any) {
	s.Helper()
	if ciStrict() {
		s.TB.Fatalf("caddytest wanted to skip (forbidden with CI=true): "+format, args...)
	}
	s.TB.Skipf(format, args...)
}

// newTester returns a caddytest.Tester whose skips obey ciStrict.
func newTester(t *testing.T) *caddytest.Tester {
	t.Helper()
	requireIntegration(t)
	return caddytest.NewTester(strictTB{t})
}

// loadCaddyfile loads globalOptions followed by sites (one or more site
// blocks) into the shared in-process Caddy, starting it if needed, and
// fails the test at once if the config does not load.
func loadCaddyfile(t *testing.T, sites string) *caddytest.Tester {
	t.Helper()
	tester := newTester(t)
	tester.InitServer(globalOptions+sites, "caddyfile")
	if t.Failed() {
		t.FailNow()
	}
	return tester
}

// loadJSON loads a complete JSON config into the shared in-process Caddy,
// and fails the test at once if it does not load. The config must keep the
// admin endpoint where caddytest looks for it, adminAddr.
func loadJSON(t *testing.T, config string) *caddytest.Tester {
	t.Helper()
	if !strings.Contains(config, `"`+adminAddr+`"`) {
		t.Fatalf(`JSON config must keep "admin": {"listen": %q}`, adminAddr)
	}
	tester := newTester(t)
	tester.InitServer(config, "json")
	if t.Failed() {
		t.FailNow()
	}
	return tester
}

// newClient returns an HTTP client for requests to Caddy: bounded by
// requestTimeout, never following redirects (a test must see the 3xx
// itself), never compressing transparently (the Go transport would add
// Accept-Encoding and strip Content-Encoding), never using a proxy, no
// cookie jar.
func newClient() *http.Client {
	return &http.Client{
		Timeout: requestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
		Transport: &http.Transport{
			Proxy:              nil,
			DisableCompression: true,
			DisableKeepAlives:  true,
			DialContext:        (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		},
	}
}

// do sends req with newClient and returns the response with its body
// already read (up to 1 MiB) and closed.
func do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	return doWith(t, newClient(), req)
}

// doWith sends req with client and returns the response with its body
// read (up to 1 MiB) and closed.
func doWith(t *testing.T, client *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", req.Method, req.URL, err)
	}
	return resp, string(body)
}

// writeInTwoParts is a streaming upstream's response: first, flushed at
// once, then second when release is closed. It gives up when the request
// ends or after requestTimeout.
func writeInTwoParts(w http.ResponseWriter, r *http.Request, release <-chan struct{}, first, second string) {
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, first)
	if err := http.NewResponseController(w).Flush(); err != nil {
		return
	}
	select {
	case <-release:
	case <-r.Context().Done():
		return
	case <-time.After(requestTimeout):
		return
	}
	_, _ = io.WriteString(w, second)
}

// readBeforeRelease runs read and fails t unless it returns want within 5 s,
// while the upstream still holds the response open: a streamed chunk that
// only arrives when the upstream ends was buffered on the way.
func readBeforeRelease(t *testing.T, read func() (string, error), want string) {
	t.Helper()
	got := make(chan string, 1)
	go func() {
		s, err := read()
		if err != nil {
			s = "error: " + err.Error()
		}
		got <- s
	}()
	select {
	case s := <-got:
		if s != want {
			t.Fatalf("first chunk %q, want %q", s, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the first chunk did not arrive while the upstream held the response open: it is buffered")
	}
}

// sendPreflight sends a CORS preflight: OPTIONS with Origin and
// Access-Control-Request-Method, plus Access-Control-Request-Headers when
// requestHeaders is not empty (for example "authorization,content-type").
func sendPreflight(t *testing.T, url, origin, method, requestHeaders string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodOptions, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", method)
	if requestHeaders != "" {
		req.Header.Set("Access-Control-Request-Headers", requestHeaders)
	}
	return do(t, req)
}

// sendRequest sends an actual (non-preflight) request. origin "" makes it a
// non-CORS request; header holds any further request fields (may be nil);
// body may be "".
func sendRequest(t *testing.T, method, url, origin string, header http.Header, body string) (*http.Response, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	for name, values := range header {
		req.Header[name] = values
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return do(t, req)
}

// varyTokens returns every token of every Vary field line of h, split on
// commas and trimmed, in order, empty elements dropped. A cache treats
// "Vary: A, B" and two lines "Vary: A" / "Vary: B" the same, so tests must
// look at all lines.
func varyTokens(h http.Header) []string {
	var tokens []string
	for _, line := range h.Values("Vary") {
		for tok := range strings.SplitSeq(line, ",") {
			if tok = strings.TrimSpace(tok); tok != "" {
				tokens = append(tokens, tok)
			}
		}
	}
	return tokens
}

// countVary returns how many times token appears in h's Vary tokens,
// compared case-insensitively (field names are case-insensitive).
func countVary(h http.Header, token string) int {
	n := 0
	for _, tok := range varyTokens(h) {
		if strings.EqualFold(tok, token) {
			n++
		}
	}
	return n
}

// assertVaryOnce fails t unless each of tokens appears exactly once among
// h's Vary tokens.
func assertVaryOnce(t *testing.T, h http.Header, tokens ...string) {
	t.Helper()
	for _, tok := range tokens {
		if n := countVary(h, tok); n != 1 {
			t.Errorf("Vary token %q appears %d times, want exactly once; Vary field lines: %q", tok, n, h.Values("Vary"))
		}
	}
}

// assertVaryHas fails t unless each of tokens appears at least once among
// h's Vary tokens.
func assertVaryHas(t *testing.T, h http.Header, tokens ...string) {
	t.Helper()
	for _, tok := range tokens {
		if countVary(h, tok) == 0 {
			t.Errorf("Vary lacks %q; Vary field lines: %q", tok, h.Values("Vary"))
		}
	}
}

// assertHeader fails t unless h has exactly one field line named name whose
// value is want byte for byte. A second line (for example an upstream's
// value added next to the module's) is exactly what browsers reject.
func assertHeader(t *testing.T, h http.Header, name, want string) {
	t.Helper()
	got := h.Values(name)
	if len(got) != 1 || got[0] != want {
		t.Errorf("%s field lines = %q, want exactly [%q]", name, got, want)
	}
}

// assertNoHeader fails t if h has any field line named name.
func assertNoHeader(t *testing.T, h http.Header, name string) {
	t.Helper()
	if got := h.Values(name); len(got) != 0 {
		t.Errorf("%s field lines = %q, want none", name, got)
	}
}

// assertNoCORSHeaders fails t if h has any Access-Control-* field line.
func assertNoCORSHeaders(t *testing.T, h http.Header) {
	t.Helper()
	for name, values := range h {
		if strings.HasPrefix(strings.ToLower(name), "access-control-") {
			t.Errorf("unexpected %s field lines %q", name, values)
		}
	}
}

// assertListHas fails t unless the comma-separated list in the single
// field line name contains each of want exactly (for example the
// lower-cased names in Access-Control-Allow-Headers).
func assertListHas(t *testing.T, h http.Header, name string, want ...string) {
	t.Helper()
	lines := h.Values(name)
	if len(lines) != 1 {
		t.Errorf("%s field lines = %q, want exactly one", name, lines)
		return
	}
	var items []string
	for item := range strings.SplitSeq(lines[0], ",") {
		items = append(items, strings.TrimSpace(item))
	}
	for _, w := range want {
		if !slices.Contains(items, w) {
			t.Errorf("%s = %q, want it to list %q", name, lines[0], w)
		}
	}
}

// assertStatus fails t unless resp has status want; body is shown to help.
func assertStatus(t *testing.T, resp *http.Response, body string, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Errorf("status = %d, want %d; body %q", resp.StatusCode, want, truncate(body, 200))
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// startUpstream starts a loopback HTTP server (127.0.0.1, random port) for
// the duration of t and returns its host:port, ready to be templated into a
// reverse_proxy or forward_auth directive.
func startUpstream(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// closedLoopbackAddr returns a 127.0.0.1 host:port on which nothing
// listens: it listens on a random port and closes it, so a dial there is
// refused (reverse_proxy then answers 502).
func closedLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// readUntilBlankLine reads lines from r up to and including the first empty
// line (the end of one server-sent event) and returns them joined by "\n".
func readUntilBlankLine(r *bufio.Reader) (string, error) {
	var lines []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return strings.Join(lines, "\n"), fmt.Errorf("after %q: %w", lines, err)
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return strings.Join(lines, "\n"), nil
		}
		lines = append(lines, line)
	}
}

// dialRaw opens a TCP connection to addr for a request written by hand,
// closed when t ends, with requestTimeout to answer.
func dialRaw(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(requestTimeout)); err != nil {
		t.Fatal(err)
	}
	return conn
}
