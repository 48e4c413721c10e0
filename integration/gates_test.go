package integration

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// wsUpstream is a WebSocket echo server that counts the handshakes it
// completes, and the other requests it gets: a refused handshake or write
// must reach neither.
type wsUpstream struct {
	handshakes atomic.Int64
	requests   atomic.Int64
}

func (u *wsUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		u.handshakes.Add(1)
		wsEchoOnce(w, r)
		return
	}
	u.requests.Add(1)
	_, _ = io.WriteString(w, "upstream "+r.Method)
}

// gatesSite loads a site on a free loopback port that guards a
// reverse_proxy to upstream with both gates, and returns its host:port.
func gatesSite(t *testing.T, upstream string) string {
	t.Helper()
	addr := closedLoopbackAddr(t)
	loadCaddyfile(t, fmt.Sprintf(`
http://%s {
	cors %s {
		credentials
		enforce websocket unsafe_methods
	}
	reverse_proxy %s
}
`, addr, appOrigin, upstream))
	return addr
}

// wsOpen sends a WebSocket opening handshake to addr with origin (none
// when empty) on a new connection, and returns the response and, after a
// 101, the connection to go on with.
func wsOpen(t *testing.T, addr, origin string) (*http.Response, string, net.Conn, *bufio.Reader) {
	t.Helper()
	conn := dialRaw(t, addr)
	originLine := ""
	if origin != "" {
		originLine = "Origin: " + origin + "\r\n"
	}
	_, err := fmt.Fprintf(conn, "GET /ws HTTP/1.1\r\nHost: %s\r\n%s"+
		"Upgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", addr, originLine, wsNewKey(t))
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading the handshake response: %v", err)
	}
	var body string
	if resp.StatusCode != http.StatusSwitchingProtocols {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		body = string(b)
	}
	return resp, body, conn, br
}

// wsEcho sends a text frame on an open WebSocket and fails t unless the
// same text comes back.
func wsEcho(t *testing.T, conn net.Conn, br *bufio.Reader, message string) {
	t.Helper()
	if err := wsWriteFrame(conn, wsOpText, []byte(message), true); err != nil {
		t.Fatalf("sending a frame: %v", err)
	}
	op, payload, err := wsReadFrame(br)
	if err != nil {
		t.Fatalf("reading the echo: %v", err)
	}
	if op != wsOpText || string(payload) != message {
		t.Errorf("echo = opcode %d %q, want text %q", op, payload, message)
	}
}

// TestWebSocketGate runs WebSocket handshakes through a real Caddy to a
// real WebSocket upstream: the allowed origin, the site's own origin and a
// handshake without Origin are switched and echo; a refused origin and
// null get the 403 and its body, and the upstream never sees them.
func TestWebSocketGate(t *testing.T) {
	requireIntegration(t)
	upstream := &wsUpstream{}
	addr := gatesSite(t, startUpstream(t, upstream))

	for _, origin := range []string{appOrigin, "http://" + addr, ""} {
		t.Run("passes origin "+fmt.Sprintf("%q", origin), func(t *testing.T) {
			before := upstream.handshakes.Load()
			resp, body, conn, br := wsOpen(t, addr, origin)
			if resp.StatusCode != http.StatusSwitchingProtocols {
				t.Fatalf("status %d, want 101; body %q", resp.StatusCode, body)
			}
			wsEcho(t, conn, br, "hello from "+origin)
			if got := upstream.handshakes.Load() - before; got != 1 {
				t.Errorf("upstream completed %d handshakes, want 1", got)
			}
		})
	}
	for _, origin := range []string{evilOrigin, "null", "https://" + addr, "http://" + strings.ToUpper(addr[:1]) + addr[1:] + ".evil"} {
		t.Run("refuses origin "+origin, func(t *testing.T) {
			before := upstream.handshakes.Load()
			resp, body, _, _ := wsOpen(t, addr, origin)
			assertStatus(t, resp, body, http.StatusForbidden)
			if want := fmt.Sprintf("WebSocket handshake rejected: origin %q is not allowed\n", origin); body != want {
				t.Errorf("body %q, want %q", body, want)
			}
			assertNoCORSHeaders(t, resp.Header)
			assertHeader(t, resp.Header, "Content-Type", "text/plain; charset=utf-8")
			assertVaryOnce(t, resp.Header, "Origin")
			if got := upstream.handshakes.Load() - before; got != 0 {
				t.Errorf("the upstream completed %d handshakes for a refused origin, want 0", got)
			}
		})
	}
}

// TestUnsafeMethodsGateTable sends every combination of method,
// Sec-Fetch-Site and Origin through a real Caddy to a reverse_proxy
// upstream, and checks each against the gate's rule: safe methods always
// pass; Sec-Fetch-Site same-origin or none passes, any other value only
// with an allowed Origin; without it, the site's own or an allowed Origin
// passes, and a request with neither passes. A refused request never
// reaches the upstream.
func TestUnsafeMethodsGateTable(t *testing.T) {
	requireIntegration(t)
	upstream := &wsUpstream{}
	addr := gatesSite(t, startUpstream(t, upstream))

	origins := []struct{ name, value string }{
		{"absent", ""}, {"own", "http://" + addr}, {"allowed", appOrigin}, {"refused", evilOrigin}, {"null", "null"},
	}
	for _, method := range []string{"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"} {
		for _, site := range []string{"", "same-origin", "same-site", "cross-site", "none"} {
			for _, origin := range origins {
				var refused bool
				switch {
				case method == "GET" || method == "HEAD":
				case site == "same-origin" || site == "none":
				case site != "":
					refused = origin.name != "allowed"
				default:
					refused = origin.name == "refused" || origin.name == "null"
				}
				name := fmt.Sprintf("%s Sec-Fetch-Site=%q Origin=%s", method, site, origin.name)
				t.Run(name, func(t *testing.T) {
					header := http.Header{}
					if site != "" {
						header.Set("Sec-Fetch-Site", site)
					}
					before := upstream.requests.Load()
					resp, body := sendRequest(t, method, "http://"+addr+"/api", origin.value, header, "")
					reached := upstream.requests.Load() - before
					if !refused {
						assertStatus(t, resp, body, http.StatusOK)
						if reached != 1 {
							t.Errorf("the upstream got %d requests, want 1", reached)
						}
						return
					}
					assertStatus(t, resp, body, http.StatusForbidden)
					if reached != 0 {
						t.Errorf("the upstream got %d requests, want none", reached)
					}
					want := fmt.Sprintf("Cross-origin request rejected: origin %q may not send %s\n", origin.value, method)
					if origin.name == "absent" {
						want = fmt.Sprintf("Cross-origin request rejected: a request with Sec-Fetch-Site %q and no Origin may not send %s\n", site, method)
					}
					if body != want {
						t.Errorf("body %q, want %q", body, want)
					}
					assertNoCORSHeaders(t, resp.Header)
					assertVaryOnce(t, resp.Header, "Origin", "Sec-Fetch-Site")
				})
			}
		}
	}
}

// TestGatesIgnoreForwardedHeaders: the request's own origin is the
// connection's scheme and Host as Caddy received them. X-Forwarded-Host
// and -Proto, which any client can send, make no origin the site's own.
// Behind a proxy that rewrites Host, the public origin is listed instead.
func TestGatesIgnoreForwardedHeaders(t *testing.T) {
	requireIntegration(t)
	upstream := &wsUpstream{}
	addr := closedLoopbackAddr(t)
	loadCaddyfile(t, fmt.Sprintf(`
http://%s {
	cors https://public.example {
		enforce unsafe_methods
	}
	reverse_proxy %s
}
`, addr, startUpstream(t, upstream)))

	forwarded := http.Header{"X-Forwarded-Host": {"forged.example"}, "X-Forwarded-Proto": {"https"}}
	resp, body := sendRequest(t, "POST", "http://"+addr+"/api", "https://forged.example", forwarded, "")
	assertStatus(t, resp, body, http.StatusForbidden)

	// The public origin a fronting proxy serves, listed in origins.
	resp, body = sendRequest(t, "POST", "http://"+addr+"/api", "https://public.example", forwarded, "")
	assertStatus(t, resp, body, http.StatusOK)
}
