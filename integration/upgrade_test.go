package integration

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"testing"
)

// TestSwitchingProtocolsCarriesOnlyThePolicysHeaders proves that a
// 101 Switching Protocols relayed by reverse_proxy commits the response:
// Go treats 101 as the final response, and reverse_proxy adds the
// upstream's header lines to the map before writing it. Without the commit
// a refused origin would get the upstream's Access-Control-Allow-Origin and
// -Allow-Credentials, and an allowed one two of each.
func TestSwitchingProtocolsCarriesOnlyThePolicysHeaders(t *testing.T) {
	requireIntegration(t)
	addr := freeAddr(t)
	upstream := startUpstream(t, http.HandlerFunc(switchProtocolsWithCORSHeaders))
	loadCaddyfile(t, fmt.Sprintf(`
http://`+addr+` {
	cors %s {
		credentials
	}
	reverse_proxy %s
}
`, appOrigin, upstream))

	t.Run("allowed origin gets exactly one of each", func(t *testing.T) {
		resp := upgrade(t, addr, appOrigin)
		assertHeader(t, resp.Header, "Access-Control-Allow-Origin", appOrigin)
		assertHeader(t, resp.Header, "Access-Control-Allow-Credentials", "true")
		assertNoHeader(t, resp.Header, "Access-Control-Expose-Headers")
		assertVaryOnce(t, resp.Header, "Accept", "Origin")
	})
	t.Run("refused origin gets none of the upstream's", func(t *testing.T) {
		resp := upgrade(t, addr, evilOrigin)
		assertNoCORSHeaders(t, resp.Header)
		assertVaryOnce(t, resp.Header, "Accept", "Origin")
	})
}

// switchProtocolsWithCORSHeaders is an upstream with a CORS policy of its
// own that switches protocols and then closes the connection.
func switchProtocolsWithCORSHeaders(w http.ResponseWriter, r *http.Request) {
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	_, _ = rw.WriteString("HTTP/1.1 101 Switching Protocols\r\n" +
		"Upgrade: probe\r\n" +
		"Connection: Upgrade\r\n" +
		"Access-Control-Allow-Origin: *\r\n" +
		"Access-Control-Allow-Credentials: true\r\n" +
		"Access-Control-Expose-Headers: X-Up\r\n" +
		"Vary: Accept\r\n\r\n")
	_ = rw.Flush()
}

// upgrade asks addr to switch protocols and returns its 101 response.
func upgrade(t *testing.T, addr, origin string) *http.Response {
	t.Helper()
	conn := dialRaw(t, addr)
	_, err := fmt.Fprintf(conn, "GET /switch HTTP/1.1\r\nHost: %s\r\nOrigin: %s\r\n"+
		"Upgrade: probe\r\nConnection: Upgrade\r\n\r\n", addr, origin)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		t.Fatalf("status %d, want 101; body %q", resp.StatusCode, body)
	}
	return resp
}
