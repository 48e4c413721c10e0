package integration

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestHostileInputAtTheGates sends, byte by byte, requests no browser
// sends to a site guarded by both gates. The gates protect browsers and
// their users' cookies: a client that is not a browser can write any
// Sec-Fetch-Site it likes, and passes, as documented. What must hold is
// that no spelling of a handshake or of an origin slips a refused origin
// through, and that headers any client can forge never make an origin the
// site's own.
func TestHostileInputAtTheGates(t *testing.T) {
	requireIntegration(t)
	upstream := &wsUpstream{}
	addr := gatesSite(t, startUpstream(t, upstream))
	handshake := "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
	for _, tc := range []struct {
		name, method, fields string
		status               int // 0: any refusal by Go or Caddy (4xx) is fine, but not success
	}{
		// Forged fetch metadata: not a browser, so not the gate's to stop.
		{"forged Sec-Fetch-Site same-origin from a non-browser passes", "POST", "Origin: " + evilOrigin + "\r\nSec-Fetch-Site: same-origin\r\n", http.StatusOK},
		{"forged Sec-Fetch-Site none from a non-browser passes", "DELETE", "Origin: " + evilOrigin + "\r\nSec-Fetch-Site: none\r\n", http.StatusOK},
		{"Sec-Fetch-Site list is not same-origin", "POST", "Origin: " + evilOrigin + "\r\nSec-Fetch-Site: cross-site, same-origin\r\n", http.StatusForbidden},
		{"Sec-Fetch-Site in upper case is not same-origin", "POST", "Origin: " + evilOrigin + "\r\nSec-Fetch-Site: SAME-ORIGIN\r\n", http.StatusForbidden},
		// Forged forwarding headers make no origin the site's own.
		{"X-Forwarded-Host naming the Origin's host", "POST", "Origin: " + evilOrigin + "\r\nX-Forwarded-Host: evil.example\r\nX-Forwarded-Proto: https\r\n", http.StatusForbidden},
		{"Forwarded naming the Origin's host", "PUT", "Origin: " + evilOrigin + "\r\nForwarded: host=evil.example;proto=https\r\n", http.StatusForbidden},
		// Origins spelled to pass for the site's own or an allowed one.
		{"own origin with a path", "POST", "Origin: http://" + addr + "/\r\n", http.StatusForbidden},
		{"own origin over https", "POST", "Origin: https://" + addr + "\r\n", http.StatusForbidden},
		{"allowed origin in upper case", "POST", "Origin: HTTPS://APP.EXAMPLE\r\n", http.StatusForbidden},
		{"allowed then refused Origin lines", "POST", "Origin: " + appOrigin + "\r\nOrigin: " + evilOrigin + "\r\n", http.StatusForbidden},
		{"own then refused Origin lines", "POST", "Origin: http://" + addr + "\r\nOrigin: " + evilOrigin + "\r\n", http.StatusForbidden},
		{"empty Origin", "POST", "Origin: \r\n", http.StatusForbidden},
		{"method in lower case is still unsafe", "post", "Origin: " + evilOrigin + "\r\n", http.StatusForbidden},
		// Spellings of a WebSocket handshake.
		{"Upgrade in mixed case", "GET", "Origin: " + evilOrigin + "\r\nUpgrade: WebSocket\r\n" + handshake, http.StatusForbidden},
		{"websocket inside an Upgrade list", "GET", "Origin: " + evilOrigin + "\r\nUpgrade: foo/1, websocket\r\n" + handshake, http.StatusForbidden},
		{"two Upgrade lines", "GET", "Origin: " + evilOrigin + "\r\nUpgrade: foo\r\nUpgrade: websocket\r\n" + handshake, http.StatusForbidden},
		{"handshake with POST is a refused write", "POST", "Origin: " + evilOrigin + "\r\nUpgrade: websocket\r\n" + handshake, http.StatusForbidden},
		{"handshake with allowed then refused Origin lines", "GET", "Origin: " + appOrigin + "\r\nOrigin: " + evilOrigin + "\r\nUpgrade: websocket\r\n" + handshake, http.StatusForbidden},
		{"handshake with Origin null", "GET", "Origin: null\r\nUpgrade: websocket\r\n" + handshake, http.StatusForbidden},
		{"handshake with a 64 KiB Origin", "GET", "Origin: https://" + strings.Repeat("a", 64<<10) + ".example\r\nUpgrade: websocket\r\n" + handshake, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			handshakes, requests := upstream.handshakes.Load(), upstream.requests.Load()
			request := fmt.Sprintf("%s /api HTTP/1.1\r\nHost: %s\r\n%sContent-Length: 0\r\n\r\n", tc.method, addr, tc.fields)
			resp, err := rawExchange(addr, request)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			reached := upstream.handshakes.Load()-handshakes+upstream.requests.Load()-requests > 0
			switch {
			case tc.status == 0:
				if resp.StatusCode < 400 || reached {
					t.Errorf("status %d, upstream reached %v; want a refusal", resp.StatusCode, reached)
				}
			case resp.StatusCode != tc.status:
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			case reached != (tc.status == http.StatusOK):
				t.Errorf("upstream reached: %v", reached)
			}
			if resp.StatusCode == http.StatusForbidden {
				assertNoCORSHeaders(t, resp.Header)
			}
		})
	}
}
