package integration

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
)

var (
	// protocolsTLSSite is served with Caddy's internal issuer over h1, h2
	// and h3 (UDP on the same port), on Caddy's https_port.
	protocolsTLSSite = "https://localhost:" + httpsPort
	protocolsTLSAddr = "127.0.0.1:" + httpsPort
	// protocolsPlainSite serves the same routes over cleartext HTTP/1.1.
	protocolsPlainSite = "http://127.0.0.1:" + portAtStart()
)

// protocolsCaddyfile serves the same policy on both sites: preflights and
// CORS requests answered by respond, /stream by an upstream that streams.
func protocolsCaddyfile(upstream string) string {
	routes := fmt.Sprintf(`cors %s {
		credentials
		methods PUT
		headers X-Token
		expose X-Total
	}
	handle /stream {
		reverse_proxy %s {
			flush_interval -1
		}
	}
	respond "protocols ok" 200`, appOrigin, upstream)
	return "{\n" + globalOptionLines + fmt.Sprintf(`	auto_https disable_redirects
	servers {
		protocols h1 h2 h3
	}
}
%s {
	tls internal
	%s
}
%s {
	%s
}
`, protocolsTLSSite, routes, protocolsPlainSite, routes)
}

// protocolsClients are the clients of TestCORSOverEachProtocol: HTTP/1.1
// in clear and over TLS, HTTP/2 over TLS, HTTP/3 over QUIC. Each dials
// 127.0.0.1 whatever the URL's host, and trusts any certificate (the
// internal issuer's root is not installed).
func protocolsClients(t *testing.T) []struct {
	name, base string
	major      int
	client     *http.Client
} {
	tlsConfig := &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"}
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, protocolsTLSAddr)
	}
	transport := func(protocols ...func(*http.Protocols)) *http.Transport {
		var p http.Protocols
		for _, set := range protocols {
			set(&p)
		}
		return &http.Transport{
			Proxy:              nil,
			DisableCompression: true,
			TLSClientConfig:    tlsConfig.Clone(),
			DialContext:        dial,
			Protocols:          &p,
		}
	}
	h3 := &http3.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ServerName: "localhost", NextProtos: []string{http3.NextProtoH3}},
		Dial: func(ctx context.Context, _ string, tlsCfg *tls.Config, cfg *quic.Config) (*quic.Conn, error) {
			return quic.DialAddrEarly(ctx, protocolsTLSAddr, tlsCfg, cfg)
		},
	}
	t.Cleanup(func() { _ = h3.Close() })
	client := func(rt http.RoundTripper) *http.Client {
		return &http.Client{Timeout: requestTimeout, Transport: rt}
	}
	return []struct {
		name, base string
		major      int
		client     *http.Client
	}{
		{"HTTP/1.1", protocolsPlainSite, 1, newClient()},
		{"HTTP/1.1 over TLS", protocolsTLSSite, 1, client(transport(func(p *http.Protocols) { p.SetHTTP1(true) }))},
		{"HTTP/2", protocolsTLSSite, 2, client(transport(func(p *http.Protocols) { p.SetHTTP2(true) }))},
		{"HTTP/3", protocolsTLSSite, 3, client(h3)},
	}
}

// TestCORSOverEachProtocol proves a preflight and an allowed CORS request
// get the same, exact CORS headers over HTTP/1.1, HTTP/2 and HTTP/3 (which
// deliver header names lower-cased, R2), and that a streamed response keeps
// streaming over HTTP/2 as it does over HTTP/1.1 (see streaming_test.go
// for HTTP/1.1 and WebSocket).
func TestCORSOverEachProtocol(t *testing.T) {
	requireIntegration(t)
	stream := newStreamingUpstream(t)
	loadFullCaddyfile(t, protocolsCaddyfile(startUpstream(t, stream)))
	waitForInternalCertificate(t)

	for _, c := range protocolsClients(t) {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodOptions, c.base+"/api", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Origin", appOrigin)
			req.Header.Set("Access-Control-Request-Method", "PUT")
			req.Header.Set("Access-Control-Request-Headers", "X-Token")
			resp, body := doWith(t, c.client, req)
			assertProto(t, resp, c.major)
			assertStatus(t, resp, body, http.StatusNoContent)
			assertExactCORS(t, resp.Header, map[string]string{
				"Access-Control-Allow-Origin":      appOrigin,
				"Access-Control-Allow-Credentials": "true",
				"Access-Control-Allow-Methods":     "PUT",
				"Access-Control-Allow-Headers":     "x-token",
			})
			assertVaryOnce(t, resp.Header, "Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers")

			req, err = http.NewRequest(http.MethodGet, c.base+"/api", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Origin", appOrigin)
			resp, body = doWith(t, c.client, req)
			assertProto(t, resp, c.major)
			assertStatus(t, resp, body, http.StatusOK)
			if body != "protocols ok" {
				t.Errorf("body %q, want %q", body, "protocols ok")
			}
			assertExactCORS(t, resp.Header, map[string]string{
				"Access-Control-Allow-Origin":      appOrigin,
				"Access-Control-Allow-Credentials": "true",
				"Access-Control-Expose-Headers":    "X-Total",
			})
			assertVaryOnce(t, resp.Header, "Origin")

			req, err = http.NewRequest(http.MethodGet, c.base+"/api", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Origin", evilOrigin)
			resp, body = doWith(t, c.client, req)
			assertProto(t, resp, c.major)
			assertStatus(t, resp, body, http.StatusOK)
			assertNoCORSHeaders(t, resp.Header)
		})
	}

	for _, c := range protocolsClients(t) {
		if c.major == 1 && c.base == protocolsPlainSite {
			continue // TestServerSentEventsStreamThroughCORS covers it
		}
		t.Run("streaming over "+c.name, func(t *testing.T) {
			testStreamingThroughCORS(t, c.client, c.base, c.major, stream)
		})
	}
}

// streamingUpstream sends one chunk, flushes, and holds the response open
// until released, then sends a second chunk.
type streamingUpstream struct {
	mu      sync.Mutex
	release chan struct{}
}

func newStreamingUpstream(t *testing.T) *streamingUpstream {
	s := &streamingUpstream{release: make(chan struct{})}
	t.Cleanup(s.releaseAll)
	return s
}

// arm returns the function that lets the current stream finish.
func (s *streamingUpstream) arm() func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.release = make(chan struct{})
	return s.releaseAll
}

// releaseAll lets the current stream finish; calling it again is harmless.
func (s *streamingUpstream) releaseAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.release:
	default:
		close(s.release)
	}
}

func (s *streamingUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	release := s.release
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Access-Control-Allow-Origin", "*") // an upstream's own, to be replaced
	writeInTwoParts(w, r, release, "first\n", "second\n")
}

// testStreamingThroughCORS checks the first chunk arrives while the
// upstream still holds the response open, with the CORS headers.
func testStreamingThroughCORS(t *testing.T, client *http.Client, base string, major int, stream *streamingUpstream) {
	release := stream.arm()
	defer release()
	req, err := http.NewRequest(http.MethodGet, base+"/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", appOrigin)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("no response while the upstream holds the stream open (buffered?): %v", err)
	}
	defer resp.Body.Close()
	assertProto(t, resp, major)
	assertStatus(t, resp, "", http.StatusOK)
	assertExactCORS(t, resp.Header, map[string]string{
		"Access-Control-Allow-Origin":      appOrigin,
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Expose-Headers":    "X-Total",
	})

	lines := bufio.NewReader(resp.Body)
	readBeforeRelease(t, func() (string, error) { return lines.ReadString('\n') }, "first\n")
	release()
	if rest, err := io.ReadAll(lines); err != nil || string(rest) != "second\n" {
		t.Errorf("after releasing the upstream: %q, err %v; want %q", rest, err, "second\n")
	}
}

// waitForInternalCertificate waits until the TLS site completes a
// handshake: Caddy obtains the internal issuer's certificate in the
// background after the config loads, and answers handshakes with an
// internal error until then.
func waitForInternalCertificate(t *testing.T) {
	t.Helper()
	waitForTLS(t, protocolsTLSAddr)
}

// loadFullCaddyfile loads a complete Caddyfile (with its own global options,
// which must keep admin adminAddr: see globalOptionLines).
func loadFullCaddyfile(t *testing.T, caddyfile string) {
	t.Helper()
	tester := newTester(t)
	tester.InitServer(caddyfile, "caddyfile")
	if t.Failed() {
		t.FailNow()
	}
}

// assertProto fails t unless resp came over HTTP major.
func assertProto(t *testing.T, resp *http.Response, major int) {
	t.Helper()
	if resp.ProtoMajor != major {
		t.Errorf("response over %s (ProtoMajor %d), want HTTP/%d", resp.Proto, resp.ProtoMajor, major)
	}
}
