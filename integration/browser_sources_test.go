package integration

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
)

// tenantApp is the application behind the API of TestBrowserOriginSource
// and, at /cors/allowed, its endpoint for `origins_from http`, which says
// 200 for the origins allowed and 403 for any other. It counts the
// endpoint's calls by the origin asked about, and the API's requests by
// their Origin.
type tenantApp struct {
	mu      sync.Mutex
	allowed map[string]bool
	asked   map[string]int
	served  map[string]int
}

func (a *tenantApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if r.URL.Path == "/cors/allowed" {
		origin := r.URL.Query().Get("origin")
		a.asked[origin]++
		if !a.allowed[origin] {
			w.WriteHeader(http.StatusForbidden)
		}
		return
	}
	a.served[r.Header.Get("Origin")]++
	_, _ = io.WriteString(w, "hello "+r.URL.RequestURI())
}

// allow adds origin to the endpoint's list.
func (a *tenantApp) allow(origin string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.allowed[origin] = true
}

// counts returns how often the endpoint was asked about origin, and how
// many requests from it reached the API.
func (a *tenantApp) counts(origin string) (asked, served int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.asked[origin], a.served[origin]
}

// TestBrowserOriginSource runs, in Chromium, Firefox and WebKit, the
// example of docs/origin-sources.md: a credentialed API whose static
// origins do not list the page, and an `origins_from http` endpoint that
// does. A page the endpoint allows reads the API's responses; a page it
// refuses gets a rejected promise. Each page fetches twice, and the
// endpoint is asked once about each origin: its answers, yes and no, are
// cached. Each engine has pages of its own, so that no engine's answers
// come from the cache another engine filled.
func TestBrowserOriginSource(t *testing.T) {
	requireIntegration(t)
	app := &tenantApp{allowed: map[string]bool{}, asked: map[string]int{}, served: map[string]int{}}
	appAddr := startUpstream(t, app)
	api := "http://localhost:" + freePort(t)
	loadCaddyfile(t, fmt.Sprintf(`
%s {
	cors {
		origins https://app.example.com
		origins_from http http://%s/cors/allowed {
			timeout 2s
		}
		credentials
	}
	reverse_proxy %s
}
`, api, appAddr, appAddr))
	pages := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, probePage)
	})
	include := map[string]any{"credentials": "include"}

	for _, kind := range engineKinds {
		t.Run(kind.name, func(t *testing.T) {
			r := &browserRun{t: t, kind: kind, engine: useEngine(t, kind)}
			allowed, refused := pageServer(t, pages), pageServer(t, pages)
			app.allow(allowed)

			r.open(allowed + "/probe.html")
			for n := range 2 {
				path := fmt.Sprintf("/%s/allowed/%d", kind.name, n)
				res := r.probe(api+path, include)
				r.wantReadable(res, http.StatusOK)
				if want := "hello " + path; res.Body != want {
					t.Errorf("body = %q, want %q", res.Body, want)
				}
			}

			r.open(refused + "/probe.html")
			for n := range 2 {
				url := fmt.Sprintf("%s/%s/refused/%d", api, kind.name, n)
				r.wantBlocked(r.probe(url, include), url)
			}

			// The API answered all four (CORS guards what the page reads,
			// not what reaches the API), and the endpoint was asked once
			// per origin.
			for _, origin := range []string{allowed, refused} {
				asked, served := app.counts(origin)
				if asked != 1 || served != 2 {
					t.Errorf("%s: the endpoint was asked %d times and the API served %d requests, want 1 and 2", origin, asked, served)
				}
			}
		})
	}
}
