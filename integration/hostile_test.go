package integration

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// hostileAddr is where the site of TestHostileInput listens.
var hostileAddr = "127.0.0.1:" + portAtStart()

// hostileDeadline bounds each hostile exchange: write, server work, answer.
const hostileDeadline = 5 * time.Second

// hostileCase is one hand-written request: the field lines after Host,
// and what the module may answer when the request reaches it.
type hostileCase struct {
	name   string
	method string
	fields string // complete "Name: value\r\n" lines
	answer hostileAnswer
}

// hostileAnswer is what the module may answer a hostile request with. Go
// or Caddy may refuse it first (400, 431): that answer carries no
// Access-Control-* header whatever the case says.
type hostileAnswer uint8

const (
	// refusedOutright: no Access-Control-* header at all, and no success.
	refusedOutright hostileAnswer = iota
	// mayBeAllowed: Go's parser trims the optional white space a value was
	// padded with, so the module may answer with exactly the headers of an
	// allowed preflight.
	mayBeAllowed
	// refusedMethodFromAllowedOrigin: 200 with Access-Control-Allow-Origin
	// and -Allow-Credentials only, so the browser names the method (R8).
	refusedMethodFromAllowedOrigin
	// refusedHeadersFromAllowedOrigin: for the allowed method PUT, 200 with
	// Access-Control-Allow-Origin, -Allow-Credentials and -Allow-Methods
	// only: not one requested header listed, no Max-Age (R8, R53).
	refusedHeadersFromAllowedOrigin
)

func hostileCases() []hostileCase {
	preflight := func(origin, method, extra string) string {
		return "Origin: " + origin + "\r\nAccess-Control-Request-Method: " + method + "\r\n" + extra
	}
	var manyOrigins, manyACRH strings.Builder
	for range 100 {
		manyOrigins.WriteString("Origin: " + appOrigin + "\r\n")
	}
	for range 1000 {
		manyACRH.WriteString("Access-Control-Request-Headers: x-token\r\n")
	}
	return []hostileCase{
		{"1 MiB Access-Control-Request-Headers", "OPTIONS",
			preflight(appOrigin, "PUT", "Access-Control-Request-Headers: "+strings.Repeat("x-token,", 1<<17)+"\r\n"), refusedHeadersFromAllowedOrigin},
		{"10,000 Access-Control-Request-Headers elements", "OPTIONS",
			preflight(appOrigin, "PUT", "Access-Control-Request-Headers: "+strings.TrimSuffix(strings.Repeat("x-token,", 10000), ",")+"\r\n"), refusedHeadersFromAllowedOrigin},
		{"10,000 empty Access-Control-Request-Headers elements", "OPTIONS",
			preflight(appOrigin, "PUT", "Access-Control-Request-Headers: x-token"+strings.Repeat(",", 10000)+"\r\n"), refusedHeadersFromAllowedOrigin},
		{"Access-Control-Request-Headers just over the module's 4096-byte cap", "OPTIONS",
			preflight(appOrigin, "PUT", "Access-Control-Request-Headers: x-token"+strings.Repeat(",x-token", 4096/8)+"\r\n"), refusedHeadersFromAllowedOrigin},
		{"17 Access-Control-Request-Headers field lines", "OPTIONS",
			preflight(appOrigin, "PUT", strings.Repeat("Access-Control-Request-Headers: x-token\r\n", 17)), refusedHeadersFromAllowedOrigin},
		{"1,000 one-byte Access-Control-Request-Headers elements", "OPTIONS",
			preflight(appOrigin, "PUT", "Access-Control-Request-Headers: "+strings.TrimSuffix(strings.Repeat("a,", 1000), ",")+"\r\n"), refusedHeadersFromAllowedOrigin},
		{"1,000 Access-Control-Request-Headers field lines", "OPTIONS",
			preflight(appOrigin, "PUT", manyACRH.String()), refusedHeadersFromAllowedOrigin},
		{"100 Origin field lines in a preflight", "OPTIONS",
			manyOrigins.String() + "Access-Control-Request-Method: PUT\r\n", refusedOutright},
		{"100 Origin field lines in a GET", "GET", manyOrigins.String(), refusedOutright},
		{"Origin with control bytes", "GET", "Origin: " + appOrigin + "\x01\x1b[31m\r\n", refusedOutright},
		{"Origin with a NUL byte", "OPTIONS", preflight(appOrigin+"\x00.evil", "PUT", ""), refusedOutright},
		{"Origin with a bare CR", "GET", "Origin: " + appOrigin + "\revil: 1\r\n", refusedOutright},
		{"Origin with UTF-8 bytes", "GET", "Origin: https://app.exämple\r\n", refusedOutright},
		{"Origin with Latin-1 bytes", "OPTIONS", preflight("https://app.ex\xe4mple", "PUT", ""), refusedOutright},
		{"16 KiB Origin", "GET", "Origin: https://" + strings.Repeat("a", 16<<10) + ".example\r\n", refusedOutright},
		{"64 KiB Origin", "GET", "Origin: https://" + strings.Repeat("a", 64<<10) + ".example\r\n", refusedOutright},
		{"64 KiB Origin in a preflight", "OPTIONS", preflight("https://"+strings.Repeat("a.", 32<<10)+"example", "PUT", ""), refusedOutright},
		{"comma-separated Origin list", "GET", "Origin: " + appOrigin + ", " + evilOrigin + "\r\n", refusedOutright},
		{"comma-separated Origin list in a preflight", "OPTIONS", preflight(appOrigin+","+appOrigin, "PUT", ""), refusedOutright},
		{"Origin null", "OPTIONS", preflight("null", "PUT", ""), refusedOutright},
		{"Origin folded over two lines (obs-fold)", "GET", "Origin: " + appOrigin + "\r\n " + evilOrigin + "\r\n", refusedOutright},
		{"origin and Origin field lines", "GET", "origin: " + appOrigin + "\r\nOrigin: " + evilOrigin + "\r\n", refusedOutright},
		{"Access-Control-Request-Method comma list", "OPTIONS", preflight(appOrigin, "PUT, DELETE", ""), refusedMethodFromAllowedOrigin},
		{"Access-Control-Request-Method with inner space", "OPTIONS", preflight(appOrigin, "P UT", ""), refusedMethodFromAllowedOrigin},
		{"Access-Control-Request-Method padded with spaces", "OPTIONS", preflight(appOrigin, "   PUT   ", ""), mayBeAllowed},
		{"two Access-Control-Request-Method field lines", "OPTIONS", preflight(appOrigin, "PUT", "Access-Control-Request-Method: PUT\r\n"), refusedMethodFromAllowedOrigin},
		{"64 KiB Access-Control-Request-Method", "OPTIONS", preflight(appOrigin, strings.Repeat("X", 64<<10), ""), refusedMethodFromAllowedOrigin},
		{"Access-Control-Request-Private-Network with junk", "OPTIONS", preflight(appOrigin, "PUT", "Access-Control-Request-Private-Network: true\x7f\r\n"), refusedOutright},
	}
}

// TestHostileInput sends requests no browser sends, written byte by byte
// on a raw connection where Go's client would refuse them. Caddy or Go may
// refuse some (400, 431) before the module runs; that is fine. What must
// hold: every one is answered (or the connection closed) within a bounded
// time, nothing it carried is reflected in an Access-Control-* header, and
// the server still serves ordinary CORS requests afterwards (R15, R16, R26,
// R53).
func TestHostileInput(t *testing.T) {
	requireIntegration(t)
	loadCaddyfile(t, fmt.Sprintf(`
http://%s {
	cors %s {
		credentials
		methods PUT
		headers X-Token
		expose X-Total
		max_age 10m
	}
	respond "hostile ok" 200
}
`, hostileAddr, appOrigin))
	assertHostileSiteServes(t)

	for _, tc := range hostileCases() {
		t.Run(tc.name, func(t *testing.T) {
			request := tc.method + " /hostile HTTP/1.1\r\nHost: " + hostileAddr + "\r\nConnection: close\r\n" + tc.fields + "\r\n"
			start := time.Now()
			resp, err := rawExchange(hostileAddr, request)
			elapsed := time.Since(start)
			if elapsed >= hostileDeadline {
				t.Fatalf("no answer within %v", hostileDeadline)
			}
			if err != nil {
				// A closed connection is an answer too (Go's server drops a
				// request line or header it cannot parse at all), as long as
				// it came in time.
				t.Logf("connection closed without a response after %v: %v", elapsed, err)
				return
			}
			t.Logf("%d %s after %v", resp.StatusCode, http.StatusText(resp.StatusCode), elapsed.Round(time.Millisecond))
			switch {
			case tc.answer == mayBeAllowed && resp.StatusCode == http.StatusNoContent:
				assertExactCORS(t, resp.Header, map[string]string{
					"Access-Control-Allow-Origin":      appOrigin,
					"Access-Control-Allow-Credentials": "true",
					"Access-Control-Allow-Methods":     "PUT",
					"Access-Control-Max-Age":           "600",
				})
				return
			case tc.answer == refusedMethodFromAllowedOrigin && resp.StatusCode == http.StatusOK:
				assertExactCORS(t, resp.Header, map[string]string{
					"Access-Control-Allow-Origin":      appOrigin,
					"Access-Control-Allow-Credentials": "true",
				})
				return
			case tc.answer == refusedHeadersFromAllowedOrigin && resp.StatusCode == http.StatusOK:
				assertExactCORS(t, resp.Header, map[string]string{
					"Access-Control-Allow-Origin":      appOrigin,
					"Access-Control-Allow-Credentials": "true",
					"Access-Control-Allow-Methods":     "PUT",
				})
				return
			}
			assertNoCORSHeaders(t, resp.Header)
			if resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusOK && tc.method == http.MethodOptions {
				t.Errorf("status %d: a hostile preflight succeeded", resp.StatusCode)
			}
		})
	}

	// The battery must not have broken the server.
	assertHostileSiteServes(t)
}

// assertHostileSiteServes checks an ordinary preflight and GET are served
// with the policy's headers.
func assertHostileSiteServes(t *testing.T) {
	t.Helper()
	resp, body := sendPreflight(t, "http://"+hostileAddr+"/ok", appOrigin, "PUT", "x-token")
	assertStatus(t, resp, body, http.StatusNoContent)
	assertExactCORS(t, resp.Header, map[string]string{
		"Access-Control-Allow-Origin":      appOrigin,
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Allow-Methods":     "PUT",
		"Access-Control-Allow-Headers":     "x-token",
		"Access-Control-Max-Age":           "600",
	})
	resp, body = sendRequest(t, http.MethodGet, "http://"+hostileAddr+"/ok", appOrigin, nil, "")
	assertStatus(t, resp, body, http.StatusOK)
	assertExactCORS(t, resp.Header, map[string]string{
		"Access-Control-Allow-Origin":      appOrigin,
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Expose-Headers":    "X-Total",
	})
}

// assertExactCORS fails t unless h carries exactly want among the
// Access-Control-* headers: one field line each with that value, and no
// other Access-Control-* header.
func assertExactCORS(t *testing.T, h http.Header, want map[string]string) {
	t.Helper()
	if err := exactCORS(h, want); err != nil {
		t.Error(err)
	}
}

// exactCORS is assertExactCORS as an error, for goroutines.
func exactCORS(h http.Header, want map[string]string) error {
	var problems []string
	for name, values := range h {
		if !strings.HasPrefix(strings.ToLower(name), "access-control-") {
			continue
		}
		if w, ok := want[http.CanonicalHeaderKey(name)]; !ok {
			problems = append(problems, fmt.Sprintf("unexpected %s %q", name, values))
		} else if len(values) != 1 || values[0] != w {
			problems = append(problems, fmt.Sprintf("%s = %q, want exactly [%q]", name, values, w))
		}
	}
	for name := range want {
		if h.Values(name) == nil {
			problems = append(problems, fmt.Sprintf("missing %s", name))
		}
	}
	if problems != nil {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// rawExchange writes request on a new TCP connection to addr and reads one
// response, all within hostileDeadline. The write runs beside the read:
// a server that answers 431 and closes before reading a huge request must
// not leave the client stuck writing.
func rawExchange(addr, request string) (*http.Response, error) {
	conn, err := net.DialTimeout("tcp", addr, hostileDeadline)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(hostileDeadline)); err != nil {
		return nil, err
	}
	written := make(chan error, 1)
	go func() {
		_, err := io.WriteString(conn, request)
		written <- err
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil, errors.Join(err, <-written)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return resp, nil
}
