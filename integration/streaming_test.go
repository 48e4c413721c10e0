package integration

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestServerSentEventsStreamThroughCORS proves that cors does not buffer a
// streamed response: the client reads the first event while the upstream is
// still holding the response open (it waits for the test's signal before
// sending the second event and ending), and the response carries the CORS
// headers (EventSource with a cross-origin URL needs them). This exercises
// the wrapper's flush path: http.ResponseController must reach Caddy's
// writer through it.
func TestServerSentEventsStreamThroughCORS(t *testing.T) {
	requireIntegration(t)
	addr := freeAddr(t)
	release := make(chan struct{})
	var releaseOnce sync.Once
	releaseUpstream := func() { releaseOnce.Do(func() { close(release) }) }
	upstream := startUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		writeInTwoParts(w, r, release, "data: first\n\n", "data: second\n\n")
	}))
	// Registered after startUpstream, so it runs before the server's Close,
	// which waits for this handler to return.
	t.Cleanup(releaseUpstream)
	loadCaddyfile(t, fmt.Sprintf(`
http://`+addr+` {
	cors %s {
		credentials
	}
	reverse_proxy %s {
		flush_interval -1
	}
}
`, appOrigin, upstream))

	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", appOrigin)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := newClient().Do(req)
	if err != nil {
		// The upstream flushed its headers with the first event: no headers
		// within the timeout means something between holds the response.
		t.Fatalf("no response while the upstream holds the stream open (buffered?): %v", err)
	}
	defer resp.Body.Close()
	assertStatus(t, resp, "", http.StatusOK)
	assertHeader(t, resp.Header, "Access-Control-Allow-Origin", appOrigin)
	assertHeader(t, resp.Header, "Access-Control-Allow-Credentials", "true")
	assertVaryOnce(t, resp.Header, "Origin")
	assertHeader(t, resp.Header, "Content-Type", "text/event-stream")

	events := bufio.NewReader(resp.Body)
	readBeforeRelease(t, func() (string, error) { return readUntilBlankLine(events) }, "data: first")

	releaseUpstream()
	second, err := readUntilBlankLine(events)
	if err != nil || second != "data: second" {
		t.Fatalf("second event = %q (err %v), want %q", second, err, "data: second")
	}
	if rest, err := io.ReadAll(events); err != nil || len(rest) != 0 {
		t.Errorf("after the last event: %q, err %v; want a clean end of stream", rest, err)
	}
}

// TestWebSocketUpgradeThroughCORS proves that a WebSocket handshake
// through cors and reverse_proxy still works: reverse_proxy hijacks the
// client connection through http.ResponseController, which must find
// Caddy's writer behind the cors wrapper (Unwrap), and a 101 must not be
// mistaken for the final response. The handshake and framing are written out
// here (RFC 6455) to avoid a WebSocket dependency.
func TestWebSocketUpgradeThroughCORS(t *testing.T) {
	requireIntegration(t)
	addr := freeAddr(t)
	upstream := startUpstream(t, http.HandlerFunc(wsEchoOnce))
	loadCaddyfile(t, fmt.Sprintf(`
http://`+addr+` {
	cors %s
	reverse_proxy %s
}
`, appOrigin, upstream))

	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(requestTimeout)); err != nil {
		t.Fatal(err)
	}

	key := wsNewKey(t)
	_, err = fmt.Fprintf(conn, "GET /ws HTTP/1.1\r\n"+
		"Host: "+addr+"\r\n"+
		"Origin: %s\r\n"+
		"Upgrade: websocket\r\n"+
		"Connection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\n"+
		"Sec-WebSocket-Version: 13\r\n\r\n", appOrigin, key)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading the handshake response: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		t.Fatalf("handshake status = %d, want 101; body %q", resp.StatusCode, body)
	}
	assertHeader(t, resp.Header, "Sec-WebSocket-Accept", wsAccept(key))
	t.Logf("101 response CORS headers (informational, browsers do not check CORS on WebSockets): ACAO %q",
		resp.Header.Values("Access-Control-Allow-Origin"))

	wsEcho(t, conn, br, "hello through cors")
}

const (
	wsOpText = 0x1
	// wsGUID is the fixed GUID of RFC 6455 section 1.3.
	wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
)

// wsEchoOnce is a minimal WebSocket server: it completes the handshake,
// echoes one frame back and closes.
func wsEchoOnce(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") || r.Header.Get("Sec-WebSocket-Key") == "" {
		http.Error(w, "not a websocket handshake", http.StatusBadRequest)
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(requestTimeout))
	_, _ = fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\n"+
		"Upgrade: websocket\r\n"+
		"Connection: Upgrade\r\n"+
		"Sec-WebSocket-Accept: %s\r\n\r\n", wsAccept(r.Header.Get("Sec-WebSocket-Key")))
	if err := brw.Flush(); err != nil {
		return
	}
	op, payload, err := wsReadFrame(brw.Reader)
	if err != nil {
		return
	}
	_ = wsWriteFrame(conn, op, payload, false)
}

// wsNewKey returns a random Sec-WebSocket-Key.
func wsNewKey(t *testing.T) string {
	t.Helper()
	var nonce [16]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(nonce[:])
}

// wsAccept computes Sec-WebSocket-Accept for key (RFC 6455 section 4.2.2).
func wsAccept(key string) string {
	sum := sha1.Sum([]byte(key + wsGUID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// wsWriteFrame writes one final frame with a payload under 126 bytes;
// clients must mask their frames, servers must not.
func wsWriteFrame(w io.Writer, op byte, payload []byte, mask bool) error {
	if len(payload) >= 126 {
		return errors.New("payload too long for this minimal framer")
	}
	frame := []byte{0x80 | op, byte(len(payload))}
	if !mask {
		_, err := w.Write(append(frame, payload...))
		return err
	}
	var key [4]byte
	if _, err := rand.Read(key[:]); err != nil {
		return err
	}
	frame[1] |= 0x80
	frame = append(frame, key[:]...)
	for i, b := range payload {
		frame = append(frame, b^key[i%4])
	}
	_, err := w.Write(frame)
	return err
}

// wsReadFrame reads one final frame and returns its opcode and unmasked
// payload.
func wsReadFrame(r *bufio.Reader) (byte, []byte, error) {
	var head [2]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return 0, nil, err
	}
	if head[0]&0x80 == 0 {
		return 0, nil, errors.New("fragmented frames are not supported")
	}
	op := head[0] & 0x0f
	masked := head[1]&0x80 != 0
	n := uint64(head[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		return 0, nil, errors.New("frame too long")
	}
	var key [4]byte
	if masked {
		if _, err := io.ReadFull(r, key[:]); err != nil {
			return 0, nil, err
		}
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, err
	}
	if masked {
		for i := range payload {
			payload[i] ^= key[i%4]
		}
	}
	return op, payload, nil
}
