package integration

import (
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestEncodeKeepsBothVaryTokens proves that cors merges Vary with what
// encode adds instead of overwriting it: encode appends Accept-Encoding when
// it compresses, cors wraps encode (it is ordered before it) and commits
// after it, so a Set("Vary", "Origin") there would drop Accept-Encoding and
// let a cache serve gzip to a client that cannot read it (R42).
func TestEncodeKeepsBothVaryTokens(t *testing.T) {
	requireIntegration(t)
	addr := freeAddr(t)
	// Large and repetitive enough to be compressed whatever the thresholds.
	text := strings.Repeat("cross-origin resource sharing ", 70)
	loadCaddyfile(t, fmt.Sprintf(`
http://`+addr+` {
	cors %s
	encode {
		gzip
		minimum_length 1
	}
	respond "%s" 200
}
`, appOrigin, text))
	url := "http://" + addr + "/big.txt"
	gzipAccepted := http.Header{"Accept-Encoding": {"gzip"}}

	cases := []struct {
		name     string
		origin   string
		wantCORS bool
	}{
		{"allowed origin gets gzip with Vary Accept-Encoding and Origin once each", appOrigin, true},
		{"disallowed origin gets gzip with Vary Accept-Encoding and Origin once each", evilOrigin, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := sendRequest(t, http.MethodGet, url, tc.origin, gzipAccepted, "")
			assertStatus(t, resp, body, http.StatusOK)
			assertGzipBody(t, resp, body, text)
			assertVaryOnce(t, resp.Header, "Accept-Encoding", "Origin")
			if tc.wantCORS {
				assertHeader(t, resp.Header, "Access-Control-Allow-Origin", tc.origin)
			} else {
				assertNoCORSHeaders(t, resp.Header)
			}
		})
	}

	t.Run("non-CORS request gets gzip with Vary Accept-Encoding and Origin", func(t *testing.T) {
		resp, body := sendRequest(t, http.MethodGet, url, "", gzipAccepted, "")
		assertStatus(t, resp, body, http.StatusOK)
		assertGzipBody(t, resp, body, text)
		assertVaryHas(t, resp.Header, "Accept-Encoding", "Origin")
		assertNoCORSHeaders(t, resp.Header)
	})

	t.Run("preflight with Accept-Encoding is answered by cors with its own Vary", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodOptions, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", appOrigin)
		req.Header.Set("Access-Control-Request-Method", "GET")
		req.Header.Set("Accept-Encoding", "gzip")
		resp, body := do(t, req)
		assertStatus(t, resp, body, http.StatusNoContent)
		assertHeader(t, resp.Header, "Access-Control-Allow-Origin", appOrigin)
		assertVaryOnce(t, resp.Header, "Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers")
	})
}

// assertGzipBody fails t unless resp is gzip-encoded and body decompresses
// to want.
func assertGzipBody(t *testing.T, resp *http.Response, body, want string) {
	t.Helper()
	assertHeader(t, resp.Header, "Content-Encoding", "gzip")
	zr, err := gzip.NewReader(strings.NewReader(body))
	if err != nil {
		t.Errorf("body is not gzip: %v", err)
		return
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Errorf("gunzip: %v", err)
		return
	}
	if string(plain) != want {
		t.Errorf("decompressed body has %d bytes, want the %d bytes sent", len(plain), len(want))
	}
}
