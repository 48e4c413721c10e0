package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// gatesPage is the page of both page origins: wsProbe(url) opens a
// WebSocket, sends "hello" and reports what the script saw; the form
// posts to the API from another origin.
const gatesPage = `<!doctype html>
<meta charset="utf-8">
<title>gates</title>
<form id="cross" method="post" action="API/submit"><input name="n" value="1"></form>
<script>
function wsProbe(url) {
	return new Promise(resolve => {
		let ws;
		try { ws = new WebSocket(url); } catch (e) { resolve({opened: false, error: String(e)}); return; }
		let opened = false;
		const timer = setTimeout(() => resolve({opened, timeout: true}), 10000);
		ws.onopen = () => { opened = true; ws.send("hello"); };
		ws.onmessage = e => { clearTimeout(timer); resolve({opened, echo: e.data}); };
		ws.onclose = e => { clearTimeout(timer); resolve({opened, code: e.code}); };
	});
}
if (location.hash === "#ws") {
	wsProbe("WSURL").then(r => console.log("done " + JSON.stringify(r)));
}
</script>
`

// sameOriginForm is a page the API serves itself, through reverse_proxy:
// a form that posts to its own origin.
const sameOriginForm = `<!doctype html>
<meta charset="utf-8">
<title>form</title>
<form id="same" method="post" action="/submit"><input name="n" value="1"></form>
`

// TestBrowserGates runs the gates in Chromium, Firefox and WebKit: a page
// on the allowed origin opens a WebSocket through Caddy's reverse_proxy
// and gets its echo; a page on a refused origin fails to open it (its
// console text is logged, and recorded in testdata/console-messages.md),
// and its form post is refused and reaches no upstream; a form the API
// serves itself posts to its own origin and works.
func TestBrowserGates(t *testing.T) {
	requireIntegration(t)
	upstream := &wsUpstream{}
	// Posts are counted apart: the browsers also ask the API for a
	// favicon once a page of its own is open.
	var posts atomic.Int64
	upstreamAddr := startUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			posts.Add(1)
		}
		if r.URL.Path == "/form.html" {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = io.WriteString(w, sameOriginForm)
			return
		}
		upstream.ServeHTTP(w, r)
	}))
	apiAddr := closedLoopbackAddr(t)
	_, apiPort, _ := net.SplitHostPort(apiAddr)
	api := "http://localhost:" + apiPort
	page := strings.NewReplacer("API", api, "WSURL", "ws://localhost:"+apiPort+"/ws").Replace(gatesPage)
	pages := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, page)
	})
	allowed, refused := pageServer(t, pages), pageServer(t, pages)
	loadCaddyfile(t, fmt.Sprintf(`
%s {
	cors %s {
		credentials
		enforce websocket unsafe_methods
	}
	reverse_proxy %s
}
`, api, allowed, upstreamAddr))

	for _, kind := range engineKinds {
		t.Run(kind.name, func(t *testing.T) {
			engine := useEngine(t, kind)
			r := &browserRun{t: t, kind: kind, engine: engine}
			ws := "ws://localhost:" + apiPort + "/ws"

			t.Run("WebSocket from the allowed page opens and echoes", func(t *testing.T) {
				r.t = t
				before := upstream.handshakes.Load()
				r.open(allowed + "/page.html")
				var got struct {
					Opened bool
					Echo   string
				}
				r.eval(fmt.Sprintf("wsProbe(%q)", ws), &got)
				if !got.Opened || got.Echo != "hello" {
					t.Errorf("%+v, want opened and the echo", got)
				}
				if n := upstream.handshakes.Load() - before; n != 1 {
					t.Errorf("upstream handshakes %d, want 1", n)
				}
			})

			t.Run("WebSocket from a refused page fails", func(t *testing.T) {
				r.t = t
				before := upstream.handshakes.Load()
				r.open(refused + "/page.html")
				var got struct {
					Opened bool
					Code   int
				}
				r.eval(fmt.Sprintf("wsProbe(%q)", ws), &got)
				if got.Opened {
					t.Errorf("%+v, want the WebSocket not opened", got)
				}
				if n := upstream.handshakes.Load() - before; n != 0 {
					t.Errorf("upstream handshakes %d, want 0", n)
				}
				lines := engine.console()
				if wk, ok := engine.(*webkit); ok {
					var err error
					if lines, err = wk.consoleOfPage(refused+"/page.html#ws", "done "); err != nil {
						t.Fatal(err)
					}
				}
				named := false
				for _, line := range lines {
					named = named || strings.Contains(line, ws)
					t.Logf("console: %s", strings.NewReplacer(refused, "<page origin>", ws, "<url>").Replace(line))
				}
				if !named {
					t.Errorf("no console line names %s: %q", ws, lines)
				}
				t.Logf("close code seen by the script: %d", got.Code)
			})

			t.Run("cross-site form post from a refused page is refused", func(t *testing.T) {
				r.t = t
				before := posts.Load()
				r.open(refused + "/page.html")
				body := submitAndRead(r, "cross", api+"/submit")
				if want := fmt.Sprintf("Cross-origin request rejected: origin %q may not send POST", refused); body != want {
					t.Errorf("page after the post: %q, want %q", body, want)
				}
				if n := posts.Load() - before; n != 0 {
					t.Errorf("the upstream got %d posts, want none", n)
				}
			})

			t.Run("same-origin form post through reverse_proxy works", func(t *testing.T) {
				r.t = t
				before := posts.Load()
				r.open(api + "/form.html")
				if body := submitAndRead(r, "same", api+"/submit"); body != "upstream POST" {
					t.Errorf("page after the post: %q, want %q", body, "upstream POST")
				}
				if n := posts.Load() - before; n != 1 {
					t.Errorf("the upstream got %d posts, want 1", n)
				}
			})
		})
	}
}

// pageServer serves h on a loopback port and returns its origin, spelled
// with localhost as the browsers load it.
func pageServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	return "http://localhost:" + port
}

// submitAndRead submits the page's form id, waits until the page that
// answers it has loaded at target, and returns its text.
func submitAndRead(r *browserRun, id, target string) string {
	r.t.Helper()
	if _, err := r.engine.evaluate(fmt.Sprintf("document.getElementById(%q).submit(), null", id)); err != nil {
		r.t.Logf("submitting: %v (the page may have gone already)", err)
	}
	deadline := time.Now().Add(engineTimeout)
	for {
		raw, err := r.engine.evaluate(`document.readyState === "complete" ? location.href + "\n" + document.body.innerText : ""`)
		if err == nil {
			var s string
			if json.Unmarshal([]byte(raw), &s) == nil {
				if href, text, ok := strings.Cut(s, "\n"); ok && href == target {
					return strings.TrimSpace(text)
				}
			}
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("no page from %s within %s (last: %q, %v)", target, engineTimeout, raw, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
