package integration

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// originEndpoint is an endpoint that says whether an origin is allowed,
// by the origin's domain: yes.example 200, no.example 403,
// redirect.example a redirect to a yes, fail.example 500, slow.example an
// answer held until the request ends, late.example 403 after 50 ms,
// huge.example 200 with 1 MiB of body.
// It counts its calls by origin and the most it served at once.
type originEndpoint struct {
	*httptest.Server
	mu          sync.Mutex
	calls       map[string]int
	inFlight    atomic.Int64
	maxInFlight atomic.Int64
}

func startOriginEndpoint(t *testing.T) *originEndpoint {
	t.Helper()
	e := &originEndpoint{calls: map[string]int{}}
	e.Server = httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(e.Close)
	return e
}

func (e *originEndpoint) serve(w http.ResponseWriter, r *http.Request) {
	n := e.inFlight.Add(1)
	defer e.inFlight.Add(-1)
	for m := e.maxInFlight.Load(); n > m && !e.maxInFlight.CompareAndSwap(m, n); m = e.maxInFlight.Load() {
	}
	origin := r.URL.Query().Get("origin")
	e.mu.Lock()
	e.calls[origin]++
	e.mu.Unlock()
	switch {
	case r.URL.Path != "/allow":
		w.WriteHeader(http.StatusOK) // where the redirect leads: following it would allow
	case strings.HasSuffix(origin, ".yes.example"):
		w.WriteHeader(http.StatusOK)
	case strings.HasSuffix(origin, ".redirect.example"):
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	case strings.HasSuffix(origin, ".fail.example"):
		w.WriteHeader(http.StatusBadGateway)
	case strings.HasSuffix(origin, ".slow.example"):
		<-r.Context().Done()
	case strings.HasSuffix(origin, ".late.example"):
		// Answered, not abandoned: the lookup's slot is free only once
		// this handler has returned, so the count here is exact.
		select {
		case <-time.After(50 * time.Millisecond):
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusForbidden)
	case strings.HasSuffix(origin, ".huge.example"):
		_, _ = w.Write(make([]byte, 1<<20))
	default:
		w.WriteHeader(http.StatusForbidden)
	}
}

func (e *originEndpoint) callsFor(origin string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.calls[origin]
}

func (e *originEndpoint) totalCalls() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, c := range e.calls {
		n += c
	}
	return n
}

// loadHTTPSourceSite loads a site whose cors asks endpoint, logging to
// logDir/caddy.log.
func loadHTTPSourceSite(t *testing.T, logDir, endpoint string) {
	t.Helper()
	newTester(t).InitServer(httpSourceSite(logDir, endpoint), "caddyfile")
	if t.Failed() {
		t.FailNow()
	}
}

func httpSourceSite(logDir, endpoint string) string {
	return "{\n" + globalOptionLines + fmt.Sprintf(`	log {
		output file %s/caddy.log
		format json
		level INFO
	}
}
http://`+sourcesAddr+` {
	cors {
		origins https://static.example
		origins_from http %s/allow {
			timeout 300ms
			cache 5m
			negative_cache 1m
			cache_size 1000
			max_in_flight 4
		}
	}
	respond "reason={http.cors.reason}"
}
`, logDir, endpoint)
}

// get sends a GET from origin and gives whether it was allowed and the
// reason the site's body shows; Vary must be Origin alone.
func getFrom(t *testing.T, origin string) (bool, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+sourcesAddr+"/", nil)
	req.Header.Set("Origin", origin)
	resp, body := do(t, req)
	if got := resp.Header.Values("Vary"); len(got) != 1 || got[0] != "Origin" {
		t.Errorf("GET from %s: Vary %q, want Origin alone", origin, got)
	}
	acao := resp.Header.Get("Access-Control-Allow-Origin")
	if acao != "" && acao != origin {
		t.Errorf("GET from %s: Access-Control-Allow-Origin %q", origin, acao)
	}
	return acao == origin, strings.TrimPrefix(body, "reason=")
}

func TestHTTPSourceAnswersCachesAndFailsClosed(t *testing.T) {
	endpoint := startOriginEndpoint(t)
	logDir := t.TempDir()
	loadHTTPSourceSite(t, logDir, endpoint.URL)
	const (
		lookedUp       = `caddy_http_cors_origin_source_lookups_total{cached="false",result="allowed",source="http"}`
		cachedHit      = `caddy_http_cors_origin_source_lookups_total{cached="true",result="allowed",source="http"}`
		failed         = `caddy_http_cors_origin_source_lookups_total{cached="false",result="error",source="http"}`
		refusedAsError = `caddy_http_cors_requests_total{kind="actual",reason="origin_source_error",result="rejected",server="srv0"}`
	)
	before := map[string]float64{}
	for _, series := range []string{lookedUp, cachedHit, failed, refusedAsError} {
		before[series] = metricValue(t, series)
	}

	tests := []struct {
		origin     string
		wantAllow  bool
		wantReason string
	}{
		{"https://static.example", true, ""},
		{"https://a.yes.example", true, ""},
		{"https://a.no.example", false, "origin"},
		{"https://a.redirect.example", false, "origin"},
		{"https://a.huge.example", true, ""},
		{"https://a.fail.example", false, "origin_source_error"},
		{"https://a.slow.example", false, "origin_source_error"},
	}
	for _, tt := range tests {
		for i := range 3 {
			allowed, reason := getFrom(t, tt.origin)
			if allowed != tt.wantAllow || reason != tt.wantReason {
				t.Errorf("GET %d from %s: allowed %v reason %q, want %v %q", i, tt.origin, allowed, reason, tt.wantAllow, tt.wantReason)
			}
		}
		// Three requests, one lookup: every answer is cached (a failure for
		// up to 5 s, longer than this loop takes).
		want := 1
		if tt.origin == "https://static.example" {
			want = 0
		}
		if got := endpoint.callsFor(tt.origin); got != want {
			t.Errorf("%s: the endpoint was asked %d times, want %d", tt.origin, got, want)
		}
	}
	if got := endpoint.callsFor(""); got != 0 {
		t.Errorf("the redirect was followed %d times", got)
	}
	// a.yes and a.huge asked once each, then found twice each in the cache;
	// a.fail and a.slow failed once each, then twice each from the cache.
	for series, want := range map[string]float64{lookedUp: 2, cachedHit: 4, failed: 2, refusedAsError: 6} {
		if got := metricValue(t, series) - before[series]; got != want {
			t.Errorf("%s grew by %v, want %v", series, got, want)
		}
	}

	// Never asked about null or a malformed origin.
	calls := endpoint.totalCalls()
	for _, origin := range []string{"null", "https://A.yes.example", "https://a.yes.example/", "https://a.yes.example:443"} {
		if allowed, reason := getFrom(t, origin); allowed || reason != "malformed" {
			t.Errorf("GET from %q: allowed %v reason %q, want refused as malformed", origin, allowed, reason)
		}
	}
	if endpoint.totalCalls() != calls {
		t.Error("the endpoint was asked about a malformed origin")
	}

	// The public answer hides the endpoint; the log line names it.
	resp, body := sendPreflight(t, "http://"+sourcesAddr+"/", "https://b.fail.example", "GET", "")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "could not be checked") || strings.Contains(body, "127.0.0.1") {
		t.Errorf("preflight from a failing lookup: %d %q, want 403 saying only that the origin could not be checked", resp.StatusCode, body)
	}
	log, err := os.ReadFile(filepath.Join(logDir, "caddy.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), `"reason":"origin_source_error"`) || !strings.Contains(string(log), strings.TrimPrefix(endpoint.URL, "http://")) {
		t.Errorf("the refusal's log line does not name the reason and the endpoint:\n%s", log)
	}

	// An endpoint that went away: cached answers stand, new origins are refused.
	endpoint.Close()
	if allowed, _ := getFrom(t, "https://a.yes.example"); !allowed {
		t.Error("a cached yes was lost when the endpoint went away")
	}
	if allowed, reason := getFrom(t, "https://b.yes.example"); allowed || reason != "origin_source_error" {
		t.Errorf("with the endpoint gone: allowed %v reason %q, want refused with origin_source_error", allowed, reason)
	}
}

// A flood of made-up origins costs the endpoint at most max_in_flight
// concurrent requests; the rest are refused at once as busy, and allowed
// origins stay allowed throughout. The endpoint answers each lookup, late:
// one that timed out frees its slot when Caddy stops waiting, which the
// endpoint notices only when it next reads the closed connection, so its
// own count of such lookups can run ahead of Caddy's.
func TestHTTPSourceFloodKeepsTheEndpointWithinMaxInFlight(t *testing.T) {
	endpoint := startOriginEndpoint(t)
	loadHTTPSourceSite(t, t.TempDir(), endpoint.URL)
	if allowed, _ := getFrom(t, "https://kept.yes.example"); !allowed {
		t.Fatal("https://kept.yes.example refused before the flood")
	}

	const flood, workers = 2000, 32
	var busy, refused, wrong atomic.Int64
	origins := make(chan string)
	var wg sync.WaitGroup
	client := newClient()
	client.Transport.(*http.Transport).DisableKeepAlives = false
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = workers
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for origin := range origins {
				req, _ := http.NewRequest(http.MethodGet, "http://"+sourcesAddr+"/", nil)
				req.Header.Set("Origin", origin)
				resp, body := doWith(t, client, req)
				switch {
				case resp.Header.Get("Access-Control-Allow-Origin") != "":
					wrong.Add(1)
				case body == "reason=origin_source_busy":
					busy.Add(1)
				case body == "reason=origin":
					refused.Add(1)
				default:
					wrong.Add(1)
				}
			}
		}()
	}
	var allowedDuring, refusedDuring int
	done := make(chan struct{})
	go func() {
		for i := range flood {
			origins <- fmt.Sprintf("https://n%d.late.example", i)
		}
		close(origins)
		wg.Wait()
		close(done)
	}()
	for flooding := true; flooding; {
		select {
		case <-done:
			flooding = false
		default:
			for _, o := range []string{"https://static.example", "https://kept.yes.example"} {
				if allowed, _ := getFrom(t, o); allowed {
					allowedDuring++
				} else {
					refusedDuring++
				}
			}
		}
	}
	t.Logf("flood of %d: %d busy, %d refused by the endpoint; the endpoint got %d calls, at most %d at once; %d allowed requests during it",
		flood, busy.Load(), refused.Load(), endpoint.totalCalls(), endpoint.maxInFlight.Load(), allowedDuring)
	if wrong.Load() != 0 {
		t.Errorf("%d flood requests were answered otherwise than refused as busy or by the endpoint", wrong.Load())
	}
	if m := endpoint.maxInFlight.Load(); m > 4 {
		t.Errorf("the endpoint served %d lookups at once, want at most max_in_flight 4", m)
	}
	if busy.Load() == 0 {
		t.Error("no flood request was refused as busy")
	}
	if refusedDuring != 0 {
		t.Errorf("%d requests from allowed origins were refused during the flood", refusedDuring)
	}
}
