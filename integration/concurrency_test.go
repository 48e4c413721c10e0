package integration

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var (
	concurrencyDirect = "http://127.0.0.1:" + portAtStart()
	concurrencyProxy  = "http://127.0.0.1:" + portAtStart()
)

const (
	concurrencyWorkers  = 16
	concurrencyRequests = 2000
)

// concurrencyKind is one kind of request of TestConcurrencyMixedRequests, with
// the exact Access-Control-* headers and status its response must have.
type concurrencyKind struct {
	name string
	// request builds the n-th request of this kind for base; origin is
	// the Origin it sends ("" for none).
	request func(base string, n int) (req *http.Request, origin string)
	status  int
	// want gives the exact Access-Control-* headers for the origin sent.
	want func(origin string) map[string]string
	vary []string
}

// concurrencyKinds mixes preflights and actual requests from allowed,
// refused and no origins. Allowed origins differ per request (a fresh
// subdomain each time), so a value leaking from one request into another
// (a pooled writer, a shared header slice) shows up as a wrong origin.
func concurrencyKinds() []concurrencyKind {
	newReq := func(method, url string, fields ...string) *http.Request {
		req, err := http.NewRequest(method, url, nil)
		if err != nil {
			panic(err)
		}
		for i := 0; i+1 < len(fields); i += 2 {
			req.Header.Set(fields[i], fields[i+1])
		}
		return req
	}
	preflightVary := []string{"Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"}
	none := func(string) map[string]string { return map[string]string{} }
	return []concurrencyKind{
		{
			name: "allowed preflight",
			request: func(base string, n int) (*http.Request, string) {
				origin := fmt.Sprintf("https://w%d.example.org", n)
				return newReq(http.MethodOptions, base+"/p", "Origin", origin,
					"Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "X-Token"), origin
			},
			status: http.StatusNoContent,
			want: func(origin string) map[string]string {
				return map[string]string{
					"Access-Control-Allow-Origin":      origin,
					"Access-Control-Allow-Credentials": "true",
					"Access-Control-Allow-Methods":     "PUT",
					"Access-Control-Allow-Headers":     "x-token",
					"Access-Control-Max-Age":           "600",
				}
			},
			vary: preflightVary,
		},
		{
			name: "preflight from a refused origin",
			request: func(base string, n int) (*http.Request, string) {
				origin := fmt.Sprintf("https://w%d.evil.example", n)
				return newReq(http.MethodOptions, base+"/p", "Origin", origin, "Access-Control-Request-Method", "PUT"), origin
			},
			status: http.StatusForbidden, want: none, vary: preflightVary,
		},
		{
			name: "preflight for a refused header among allowed ones",
			request: func(base string, n int) (*http.Request, string) {
				origin := fmt.Sprintf("https://h%d.example.org", n)
				return newReq(http.MethodOptions, base+"/p", "Origin", origin,
					"Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "x-token,x-evil"), origin
			},
			status: http.StatusOK,
			want: func(origin string) map[string]string {
				return map[string]string{
					"Access-Control-Allow-Origin":      origin,
					"Access-Control-Allow-Credentials": "true",
					"Access-Control-Allow-Methods":     "PUT",
					"Access-Control-Allow-Headers":     "x-token",
				}
			},
			vary: preflightVary,
		},
		{
			name: "allowed GET",
			request: func(base string, n int) (*http.Request, string) {
				origin := fmt.Sprintf("https://g%d.example.org", n)
				return newReq(http.MethodGet, base+"/a", "Origin", origin), origin
			},
			status: http.StatusOK,
			want: func(origin string) map[string]string {
				return map[string]string{
					"Access-Control-Allow-Origin":      origin,
					"Access-Control-Allow-Credentials": "true",
					"Access-Control-Expose-Headers":    "X-Total",
				}
			},
			vary: []string{"Origin"},
		},
		{
			name: "GET from a refused origin",
			request: func(base string, n int) (*http.Request, string) {
				origin := fmt.Sprintf("https://g%d.example.org.evil.example", n)
				return newReq(http.MethodGet, base+"/a", "Origin", origin), origin
			},
			status: http.StatusOK, want: none, vary: []string{"Origin"},
		},
		{
			name: "GET without Origin",
			request: func(base string, _ int) (*http.Request, string) {
				return newReq(http.MethodGet, base+"/a"), ""
			},
			status: http.StatusOK, want: none, vary: []string{"Origin"},
		},
	}
}

// TestConcurrencyMixedRequests sends concurrencyRequests mixed requests from
// concurrencyWorkers goroutines through one Caddy, to a site answering
// itself and to one whose reverse_proxy upstream sends its own CORS
// headers (ACAO *, ACAC, ACEH, Vary: Origin), and checks every response
// for the exact headers of its kind. Run it under -race too:
//
//	cd integration && flock /tmp/caddytest.lock go test -race -run Concurrency -count=1 .
func TestConcurrencyMixedRequests(t *testing.T) {
	requireIntegration(t)
	upstream := startUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Access-Control-Allow-Credentials", "true")
		w.Header().Set("Access-Control-Expose-Headers", "X-Upstream")
		w.Header().Set("Access-Control-Allow-Methods", "GET, PUT, DELETE")
		w.Header().Set("Vary", "Origin")
		w.Header().Set("X-Total", "42")
		_, _ = io.WriteString(w, "from upstream")
	}))
	policy := fmt.Sprintf(`cors %s https://*.example.org {
		credentials
		methods PUT
		headers X-Token
		expose X-Total
		max_age 10m
	}`, appOrigin)
	loadCaddyfile(t, fmt.Sprintf(`
%s {
	%s
	respond "direct" 200
}
%s {
	%s
	reverse_proxy %s
}
`, concurrencyDirect, policy, concurrencyProxy, policy, upstream))

	client := &http.Client{
		Timeout: requestTimeout,
		Transport: &http.Transport{
			Proxy:               nil,
			DisableCompression:  true,
			MaxIdleConnsPerHost: concurrencyWorkers,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		},
	}
	defer client.CloseIdleConnections()

	kinds := concurrencyKinds()
	bases := []string{concurrencyDirect, concurrencyProxy}
	var next atomic.Int64
	var failures atomic.Int64
	var mu sync.Mutex
	var messages []string
	fail := func(msg string) {
		if failures.Add(1) <= 20 {
			mu.Lock()
			messages = append(messages, msg)
			mu.Unlock()
		}
	}

	start := time.Now()
	var wg sync.WaitGroup
	for range concurrencyWorkers {
		wg.Go(func() {
			for {
				n := int(next.Add(1)) - 1
				if n >= concurrencyRequests {
					return
				}
				kind := kinds[n%len(kinds)]
				base := bases[(n/len(kinds))%len(bases)]
				req, origin := kind.request(base, n)
				if err := checkConcurrentResponse(client, req, origin, kind); err != nil {
					fail(fmt.Sprintf("request %d, %s to %s: %v", n, kind.name, base, err))
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d requests from %d goroutines in %v", concurrencyRequests, concurrencyWorkers, time.Since(start).Round(time.Millisecond))
	if n := failures.Load(); n > 0 {
		t.Errorf("%d of %d responses were wrong; the first ones:\n%s", n, concurrencyRequests, strings.Join(messages, "\n"))
	}
}

// checkConcurrentResponse sends req and compares its response with kind's
// expectations for origin.
func checkConcurrentResponse(client *http.Client, req *http.Request, origin string, kind concurrencyKind) error {
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)); err != nil {
		return fmt.Errorf("reading the body: %w", err)
	}
	if resp.StatusCode != kind.status {
		return fmt.Errorf("status %d, want %d", resp.StatusCode, kind.status)
	}
	if err := exactCORS(resp.Header, kind.want(origin)); err != nil {
		return err
	}
	for _, token := range kind.vary {
		if n := countVary(resp.Header, token); n != 1 {
			return fmt.Errorf("Vary %q has %q %d times, want once", resp.Header.Values("Vary"), token, n)
		}
	}
	return nil
}
