//lint:file-ignore SA1019 x/net's HTTP/2 transport sends an extended CONNECT's :protocol, which net/http's refuses.

package integration

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
	"golang.org/x/net/http2"
)

// extendedConnectChild names the environment variable that makes
// TestExtendedConnectInChildProcess run: it holds the GODEBUG
// http2xconnect value the child was started with.
const extendedConnectChild = "CORS_TEST_EXTENDED_CONNECT_CHILD"

// TestWebSocketGateOverExtendedConnect opens WebSockets over HTTP/2 and
// HTTP/3 (extended CONNECT, RFC 8441 and RFC 9220) through a real Caddy to
// a real WebSocket upstream, in a child process of this test binary: Go's
// HTTP/2 server (golang.org/x/net/http2, which Caddy uses) accepts extended
// CONNECT only when the process starts with GODEBUG=http2xconnect=1, read
// once at start-up. The child runs once with it and once without, and
// shows what each does:
//
//   - with http2xconnect=1, an allowed, own or absent Origin opens over
//     HTTP/2 and echoes; a refused one or null gets the gate's 403 and the
//     upstream sees no handshake;
//   - without it, Caddy's HTTP/2 server does not offer extended CONNECT,
//     so Go's client (like every browser) does not try it: no request
//     reaches Caddy's handlers or the upstream (browsers fall back to
//     HTTP/1.1, where the gate applies);
//   - HTTP/3 (quic-go) always offers extended CONNECT: the gate applies
//     there in both runs.
func TestWebSocketGateOverExtendedConnect(t *testing.T) {
	requireIntegration(t)
	// Not os.Args[0]: the tests that run Caddy's commands rewrite it.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, xconnect := range []string{"1", "0"} {
		t.Run("GODEBUG=http2xconnect="+xconnect, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, self, "-test.run=^TestExtendedConnectInChildProcess$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), "GODEBUG=http2xconnect="+xconnect, extendedConnectChild+"="+xconnect)
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "--- PASS: TestExtendedConnectInChildProcess") {
				t.Fatalf("child process: %v\n%s", err, out)
			}
			for _, line := range strings.Split(string(out), "\n") {
				if strings.Contains(line, "gates_extended_connect_test.go") {
					t.Log(strings.TrimSpace(line))
				}
			}
		})
	}
}

// TestExtendedConnectInChildProcess is the child of
// TestWebSocketGateOverExtendedConnect; run on its own, it returns at once.
// It starts Caddy itself, without the admin endpoint, so that it never
// meets the parent's Caddy on caddytest's admin port.
func TestExtendedConnectInChildProcess(t *testing.T) {
	xconnect := os.Getenv(extendedConnectChild)
	if xconnect == "" {
		return
	}
	upstream := &wsUpstream{}
	upstreamAddr := startUpstream(t, upstream)
	addr := closedLoopbackAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	site := "https://localhost:" + port
	config, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(fmt.Sprintf(`{
	admin off
	storage file_system %s
	persist_config off
	default_bind 127.0.0.1
	skip_install_trust
	auto_https disable_redirects
	servers {
		protocols h1 h2 h3
	}
}
%s {
	tls internal
	cors %s {
		enforce websocket
	}
	reverse_proxy %s
}
`, t.TempDir(), site, appOrigin, upstreamAddr)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := caddy.Load(config, true); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = caddy.Stop() })
	waitForTLS(t, addr)

	tlsConfig := &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"}
	// x/net's transport: net/http's refuses a ":protocol" field before
	// it hands a request to its HTTP/2 code.
	h2 := &http2.Transport{
		TLSClientConfig: tlsConfig.Clone(),
		DialTLSContext: func(ctx context.Context, network, _ string, cfg *tls.Config) (net.Conn, error) {
			return (&tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: cfg}).DialContext(ctx, network, addr)
		},
	}
	t.Cleanup(h2.CloseIdleConnections)
	h3 := &http3.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ServerName: "localhost", NextProtos: []string{http3.NextProtoH3}},
		Dial: func(ctx context.Context, _ string, tlsCfg *tls.Config, cfg *quic.Config) (*quic.Conn, error) {
			return quic.DialAddrEarly(ctx, addr, tlsCfg, cfg)
		},
	}
	t.Cleanup(func() { _ = h3.Close() })

	for _, proto := range []struct {
		name    string
		rt      http.RoundTripper
		offered bool // whether the server offers extended CONNECT
	}{
		{"HTTP/2", h2, xconnect == "1"},
		{"HTTP/3", h3, true},
	} {
		for _, origin := range []string{appOrigin, site, "", evilOrigin, "null"} {
			refused := origin == evilOrigin || origin == "null"
			t.Run(fmt.Sprintf("%s origin %q", proto.name, origin), func(t *testing.T) {
				before := upstream.handshakes.Load()
				resp, body, send, err := extendedConnect(proto.rt, site+"/ws", origin, proto.name == "HTTP/3")
				switch {
				case !proto.offered:
					// Go's client waits for the server's SETTINGS and
					// does not send what the server does not offer.
					if err == nil || !strings.Contains(err.Error(), "extended connect not supported by peer") {
						t.Fatalf("err %v, want the client's refusal to send an extended CONNECT the server does not offer", err)
					}
					t.Logf("%s without http2xconnect: %v", proto.name, err)
				case err != nil:
					t.Fatal(err)
				case refused:
					assertStatus(t, resp, body, http.StatusForbidden)
					if want := fmt.Sprintf("WebSocket handshake rejected: origin %q is not allowed\n", origin); body != want {
						t.Errorf("body %q, want %q", body, want)
					}
					assertNoCORSHeaders(t, resp.Header)
				default:
					assertStatus(t, resp, body, http.StatusOK)
					if resp.ProtoMajor != map[string]int{"HTTP/2": 2, "HTTP/3": 3}[proto.name] {
						t.Errorf("answered over %s", resp.Proto)
					}
					send(t, "hello over "+proto.name)
				}
				wantHandshakes := int64(0)
				if proto.offered && !refused {
					wantHandshakes = 1
				}
				if got := upstream.handshakes.Load() - before; got != wantHandshakes {
					t.Errorf("the upstream completed %d handshakes, want %d", got, wantHandshakes)
				}
			})
		}
	}
}

// extendedConnect opens a WebSocket with an extended CONNECT (:protocol
// websocket) through rt. After a 2xx, send echoes one message over the
// stream; otherwise body holds the response body.
func extendedConnect(rt http.RoundTripper, url, origin string, h3 bool) (*http.Response, string, func(*testing.T, string), error) {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	pr, pw := io.Pipe()
	req, err := http.NewRequestWithContext(ctx, http.MethodConnect, url, pr)
	if err != nil {
		cancel()
		return nil, "", nil, err
	}
	if h3 {
		req.Proto = "websocket" // quic-go's client takes :protocol from Proto
	} else {
		req.Header[":protocol"] = []string{"websocket"}
	}
	req.Header.Set("Sec-WebSocket-Version", "13")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		cancel()
		pw.Close()
		return nil, "", nil, err
	}
	if resp.StatusCode/100 != 2 {
		defer cancel()
		defer pw.Close()
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return resp, string(b), nil, nil
	}
	send := func(t *testing.T, message string) {
		t.Helper()
		defer cancel()
		defer resp.Body.Close()
		defer pw.Close()
		if err := wsWriteFrame(pw, wsOpText, []byte(message), true); err != nil {
			t.Fatalf("sending a frame: %v", err)
		}
		op, payload, err := wsReadFrame(bufio.NewReader(resp.Body))
		if err != nil {
			t.Fatalf("reading the echo: %v", err)
		}
		if op != wsOpText || string(payload) != message {
			t.Errorf("echo = opcode %d %q, want text %q", op, payload, message)
		}
	}
	return resp, "", send, nil
}

// waitForTLS waits until addr completes a TLS handshake: Caddy obtains its
// internal certificate in the background after the configuration loads.
func waitForTLS(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", addr,
			&tls.Config{InsecureSkipVerify: true, ServerName: "localhost"})
		if err == nil {
			conn.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no TLS handshake with %s within 30s: %v", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
