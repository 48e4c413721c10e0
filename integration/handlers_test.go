package integration

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The CORS headers reach responses made by file_server (which writes with
// ReadFrom) and by intercept (which replaces a response after buffering
// it), and the placeholders are there for handlers that run after cors.
func TestFileServerInterceptAndPlaceholders(t *testing.T) {
	addr := freeAddr(t)
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "data.json"), []byte(strings.Repeat(`{"ok":true}`, 200)), 0o644); err != nil {
		t.Fatal(err)
	}
	loadCaddyfile(t, `
http://`+addr+` {
	cors https://app.example.com {
		credentials
	}
	header X-CORS "allowed={http.cors.allowed} reason={http.cors.reason}"

	handle /files/* {
		uri strip_prefix /files
		root * `+root+`
		file_server
	}
	handle /intercepted {
		intercept {
			@missing status 404
			handle_response @missing {
				respond "replaced" 200
			}
		}
		respond "not here" 404
	}
	respond "ok"
}
`)
	const app = "https://app.example.com"

	t.Run("file_server", func(t *testing.T) {
		resp, body := sendRequest(t, http.MethodGet, "http://"+addr+"/files/data.json", app, nil, "")
		assertStatus(t, resp, body, http.StatusOK)
		if len(body) != 2200 {
			t.Errorf("body of %d bytes, want the file's 2200", len(body))
		}
		assertHeader(t, resp.Header, "Access-Control-Allow-Origin", app)
		assertHeader(t, resp.Header, "Access-Control-Allow-Credentials", "true")
		assertVaryOnce(t, resp.Header, "Origin")
	})

	t.Run("intercept", func(t *testing.T) {
		resp, body := sendRequest(t, http.MethodGet, "http://"+addr+"/intercepted", app, nil, "")
		if resp.StatusCode != http.StatusOK || body != "replaced" {
			t.Fatalf("got %d %q, want the intercepted 200 \"replaced\"", resp.StatusCode, body)
		}
		assertHeader(t, resp.Header, "Access-Control-Allow-Origin", app)
		assertVaryOnce(t, resp.Header, "Origin")
	})

	t.Run("placeholders", func(t *testing.T) {
		for _, tt := range []struct{ origin, want string }{
			{app, "allowed=true reason="},
			{"https://evil.example", "allowed=false reason=origin"},
			{"https://app.example.com/", "allowed=false reason=malformed"},
			{"", "allowed= reason="},
		} {
			resp, _ := sendRequest(t, http.MethodGet, "http://"+addr+"/", tt.origin, nil, "")
			assertHeader(t, resp.Header, "X-CORS", tt.want)
		}
	})
}
