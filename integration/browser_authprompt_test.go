package integration

// basic_auth and a page that sends credentials: a 401 with
// `WWW-Authenticate: Basic` makes Chromium ask the user for a password when
// the request's credentials mode is "include", and the script waits until
// the dialog is dismissed; Firefox and WebKit hand the 401 to the script.
// Stripping WWW-Authenticate from the 401s that scripts get lets every
// engine hand over the 401 at once.

import (
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"
)

// authPromptCase is one fetch of TestBrowserBasicAuthPrompt, with a wrong
// password in its Authorization header.
type authPromptCase struct {
	name        string
	site        string // "plain" (basic_auth) or "stripped" (basic_auth, WWW-Authenticate removed for scripts)
	credentials string // the fetch's credentials mode
	// prompts lists the engines that ask the user for a password before the
	// script sees anything.
	prompts []string
}

var authPromptCases = []authPromptCase{
	{"IncludeAsksInChromium", "plain", "include", []string{"chromium"}},
	{"SameOriginModeNeverAsks", "plain", "same-origin", nil},
	{"StrippedChallengeNeverAsks", "stripped", "include", nil},
}

// authPromptCaddyfile has the page, an API behind basic_auth, and the same
// API whose 401s to scripts carry no WWW-Authenticate, as
// docs/troubleshooting.md recommends.
const authPromptCaddyfile = `
(access_log) {
	log {
		output file LOGDIR/access.log
		format json
	}
}
PAGE_ORIGIN {
	import access_log
	root * WWWDIR
	file_server
}
PLAIN_ORIGIN {
	import access_log
	cors PAGE_ORIGIN {
		credentials
		headers Authorization Content-Type
	}
	basic_auth {
		alice HASH
	}
	respond "secret for {http.auth.user.id}"
}
STRIPPED_ORIGIN {
	import access_log
	cors PAGE_ORIGIN {
		credentials
		headers Authorization Content-Type
	}
	basic_auth {
		alice HASH
	}
	respond "secret for {http.auth.user.id}"
	handle_errors 401 {
		@from_script header Sec-Fetch-Mode cors
		header @from_script -WWW-Authenticate
		respond "wrong user name or password" 401
	}
}
`

// TestBrowserBasicAuthPrompt runs authPromptCases in every engine. In
// Chromium the page runs in a tab of its own, where the DevTools protocol's
// Fetch domain reports each authentication challenge that the browser would
// show as a login dialog (Fetch.authRequired) and dismisses it
// (CancelAuth), as a user pressing Cancel would; the script then gets the
// 401. A headless Firefox or WebKit that asked would never answer, and the
// script's fetch would time out.
func TestBrowserBasicAuthPrompt(t *testing.T) {
	requireIntegration(t)
	origins := map[string]string{}
	for _, name := range []string{"page", "plain", "stripped"} {
		port, err := freeLoopbackPort()
		if err != nil {
			t.Fatal(err)
		}
		origins[name] = "http://localhost:" + port
	}
	env := &browserEnv{logDir: t.TempDir(), wwwDir: t.TempDir()}
	if err := os.WriteFile(filepath.Join(env.wwwDir, "probe.html"), []byte(probePage), 0o644); err != nil {
		t.Fatal(err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte("alice-password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	loadCaddyfile(t, strings.NewReplacer(
		"PAGE_ORIGIN", origins["page"], "PLAIN_ORIGIN", origins["plain"], "STRIPPED_ORIGIN", origins["stripped"],
		"LOGDIR", env.logDir, "WWWDIR", env.wwwDir, "HASH", string(hash),
	).Replace(authPromptCaddyfile))

	// The stripped site still challenges everyone else: a browser opening
	// the URL, curl.
	for _, fromScript := range []bool{false, true} {
		req, err := http.NewRequest(http.MethodGet, origins["stripped"]+"/direct", nil)
		if err != nil {
			t.Fatal(err)
		}
		if fromScript {
			req.Header.Set("Origin", origins["page"])
			req.Header.Set("Sec-Fetch-Mode", "cors")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		challenge := resp.Header.Get("WWW-Authenticate")
		if resp.StatusCode != http.StatusUnauthorized || (challenge == "") != fromScript {
			t.Errorf("GET with Sec-Fetch-Mode cors: %v: status %d, WWW-Authenticate %q; want 401, with a challenge only when not from a script",
				fromScript, resp.StatusCode, challenge)
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); fromScript && got != origins["page"] {
			t.Errorf("the stripped 401 to a script has Access-Control-Allow-Origin %q, want %q", got, origins["page"])
		}
	}

	wrong := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:wrong"))
	for _, kind := range engineKinds {
		t.Run(kind.name, func(t *testing.T) {
			engine := useEngine(t, kind)
			var prompts *authPrompts
			if c, ok := engine.(*chromium); ok {
				engine, prompts = c.dismissingAuthPrompts(t)
			}
			r := &browserRun{t: t, env: env, kind: kind, engine: engine}
			r.open(origins["page"] + "/probe.html")
			for _, c := range authPromptCases {
				t.Run(c.name, func(t *testing.T) {
					r := &browserRun{t: t, env: env, kind: kind, engine: engine}
					url := origins[c.site] + "/" + kind.name + "/" + c.name
					res := r.probe(url, map[string]any{
						"method":      "POST",
						"credentials": c.credentials,
						"headers":     map[string]string{"Authorization": wrong, "Content-Type": "application/json"},
						"body":        `{"n":1}`,
					})
					// Every engine ends with the 401, readable: in Chromium
					// after the login dialog was dismissed.
					r.wantReadable(res, 401)
					wantAccess(t, env.settle(t, hostOf(origins[c.site]), "/"+kind.name+"/"+c.name, has("POST", 1)), "POST", 401, 1)
					if prompts == nil {
						return
					}
					asked := prompts.seen(url)
					want := false
					for _, name := range c.prompts {
						want = want || name == kind.name
					}
					if asked != want {
						t.Errorf("%s asked for a password for %s: %v, want %v", kind.name, url, asked, want)
					}
					t.Logf("%s asked for a password: %v", kind.name, asked)
				})
			}
		})
	}
}

// authPrompts records the URLs for which Chromium would have shown a login
// dialog.
type authPrompts struct {
	mu   sync.Mutex
	urls []string
}

func (p *authPrompts) seen(url string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, u := range p.urls {
		if u == url {
			return true
		}
	}
	return false
}

// dismissingAuthPrompts opens a tab of its own in which every request goes
// through the DevTools protocol's Fetch domain: requests go on unchanged,
// and every authentication challenge (what Chromium would show as a login
// dialog) is recorded and dismissed. The tab closes when t ends.
func (c *chromium) dismissingAuthPrompts(t *testing.T) (*chromium, *authPrompts) {
	t.Helper()
	tab, err := c.newTab()
	if err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	t.Cleanup(tab.stop)
	prompts := &authPrompts{}
	answer := func(what string, call func() error) {
		// A command may not run inside the listener: answer from a goroutine.
		go func() {
			if err := call(); err != nil && tab.tab.Err() == nil {
				t.Errorf("answering %s: %v", what, err)
			}
		}()
	}
	if err := chromedp.Listen(tab.tab, func(ev any) {
		switch ev := ev.(type) {
		case *fetch.EventRequestPaused:
			answer("Fetch.requestPaused", func() error {
				_, err := chromedp.Call(tab.tab, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
				return err
			})
		case *fetch.EventAuthRequired:
			prompts.mu.Lock()
			prompts.urls = append(prompts.urls, ev.Request.URL)
			prompts.mu.Unlock()
			answer("Fetch.authRequired", func() error {
				_, err := chromedp.Call(tab.tab, fetch.ContinueWithAuth, fetch.ContinueWithAuthParams{
					RequestID:             ev.RequestID,
					AuthChallengeResponse: &fetch.AuthChallengeResponse{Response: fetch.AuthChallengeResponseResponseCancelAuth},
				})
				return err
			})
		}
	}); err != nil {
		t.Fatal(err)
	}
	handle := true
	if _, err := chromedp.Call(tab.tab, fetch.Enable, fetch.EnableParams{HandleAuthRequests: &handle}); err != nil {
		t.Fatalf("Fetch.enable: %v", err)
	}
	return tab, prompts
}
