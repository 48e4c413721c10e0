package integration

import (
	"encoding/json"
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

var reloadSite = "http://127.0.0.1:" + portAtStart()

const (
	reloadOriginA = "https://a.example"
	reloadOriginB = "https://b.example"

	reloadLoads   = 50 // valid loads, alternating A and B
	reloadWorkers = 4
	// reloadMaxRequests bounds the load stream whatever the speed of the
	// reloads.
	reloadMaxRequests = 20000
)

// reloadPolicies are the two policies the test alternates between. They
// differ in every header, and each names itself in its response body, so
// a response mixing the two shows.
var reloadPolicies = map[string]map[string]any{
	"A": {
		"handler":           "cors",
		"allowed_origins":   []string{reloadOriginA},
		"allowed_methods":   []string{"PUT"},
		"allowed_headers":   []string{"X-A"},
		"allow_credentials": true,
	},
	"B": {
		"handler":         "cors",
		"allowed_origins": []string{reloadOriginB},
		"allowed_methods": []string{"DELETE"},
		"allowed_headers": []string{"X-B"},
		"exposed_headers": []string{"X-B-Exposed"},
		"max_age":         "1m",
	},
}

// reloadConfig is a complete JSON config serving reloadSite with cors
// (name is "A" or "B", or a handler object for an invalid policy) and a
// body that names the policy.
func reloadConfig(t *testing.T, name string, handler map[string]any) string {
	t.Helper()
	config := map[string]any{
		"admin": map[string]any{"listen": adminAddr},
		"apps": map[string]any{
			"http": map[string]any{
				"http_port":  portNumber(httpPort),
				"https_port": portNumber(httpsPort),
				// No grace_period: the old server finishes every request it
				// has accepted before it stops.
				"servers": map[string]any{
					"cors_reload": map[string]any{
						"listen": []string{strings.TrimPrefix(reloadSite, "http://")},
						"routes": []any{map[string]any{"handle": []any{
							handler,
							map[string]any{"handler": "static_response", "status_code": 200, "body": "policy " + name},
						}}},
					},
				},
			},
		},
	}
	raw, err := json.Marshal(config)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// reloadRequest is one kind of request of the load stream.
type reloadRequest struct {
	method, origin, acrm, acrh string
}

var reloadRequests = []reloadRequest{
	{http.MethodGet, reloadOriginA, "", ""},
	{http.MethodGet, reloadOriginB, "", ""},
	{http.MethodOptions, reloadOriginA, "PUT", "x-a"},
	{http.MethodOptions, reloadOriginB, "DELETE", "x-b"},
	{http.MethodGet, "", "", ""},
}

// reloadExpect is what policy ("A" or "B") answers to rr: the status, the
// body and the exact Access-Control-* headers.
func reloadExpect(policy string, rr reloadRequest) (int, string, map[string]string) {
	own := map[string]string{"A": reloadOriginA, "B": reloadOriginB}[policy]
	body := "policy " + policy
	switch {
	case rr.origin == "":
		return http.StatusOK, body, map[string]string{}
	case rr.origin != own && rr.method == http.MethodOptions:
		return http.StatusForbidden, "", nil // the 403 explanation is not compared
	case rr.origin != own:
		return http.StatusOK, body, map[string]string{}
	case policy == "A" && rr.method == http.MethodOptions:
		return http.StatusNoContent, "", map[string]string{
			"Access-Control-Allow-Origin":      reloadOriginA,
			"Access-Control-Allow-Credentials": "true",
			"Access-Control-Allow-Methods":     "PUT",
			"Access-Control-Allow-Headers":     "x-a",
		}
	case policy == "A":
		return http.StatusOK, body, map[string]string{
			"Access-Control-Allow-Origin":      reloadOriginA,
			"Access-Control-Allow-Credentials": "true",
		}
	case rr.method == http.MethodOptions:
		return http.StatusNoContent, "", map[string]string{
			"Access-Control-Allow-Origin":  reloadOriginB,
			"Access-Control-Allow-Methods": "DELETE",
			"Access-Control-Allow-Headers": "x-b",
			"Access-Control-Max-Age":       "60",
		}
	default:
		return http.StatusOK, body, map[string]string{
			"Access-Control-Allow-Origin":   reloadOriginB,
			"Access-Control-Expose-Headers": "X-B-Exposed",
		}
	}
}

// reloadMatches reports which policy a response is consistent with, or an
// error describing how it matches neither.
func reloadMatches(rr reloadRequest, status int, body string, h http.Header) (string, error) {
	var reasons []string
	for _, policy := range []string{"A", "B"} {
		wantStatus, wantBody, wantHeaders := reloadExpect(policy, rr)
		var err error
		switch {
		case status != wantStatus:
			err = fmt.Errorf("status %d, want %d", status, wantStatus)
		case wantBody != "" && body != wantBody:
			err = fmt.Errorf("body %q, want %q", body, wantBody)
		case wantHeaders == nil:
			err = exactCORS(h, map[string]string{})
		default:
			err = exactCORS(h, wantHeaders)
		}
		if err == nil {
			// A refused request without Origin-specific output (no Origin, or
			// a refused preflight) looks the same under both policies but for
			// the body; a 403 has no policy body, so it counts for neither.
			if wantBody == "" && wantHeaders == nil {
				return "", nil
			}
			return policy, nil
		}
		reasons = append(reasons, fmt.Sprintf("not policy %s: %v", policy, err))
	}
	return "", fmt.Errorf("%s", strings.Join(reasons, "; "))
}

// TestReloadUnderLoad replaces the policy through the admin API 50 times,
// alternating two policies, with invalid configs interleaved that must be
// refused, while a few goroutines keep sending preflights and CORS
// requests. No request may fail, and every response must be consistent with
// exactly one of the two policies, never a mixture (a handler provisioned
// from one config answering with another's headers, or a response written
// half by each).
func TestReloadUnderLoad(t *testing.T) {
	requireIntegration(t)
	loadJSON(t, reloadConfig(t, "A", reloadPolicies["A"]))

	client := &http.Client{
		Timeout: requestTimeout,
		Transport: &http.Transport{
			Proxy:              nil,
			DisableCompression: true,
			// A new connection per request: a kept-alive connection that the
			// old server closes between two requests is a client-side retry
			// question, not the module's.
			DisableKeepAlives: true,
			DialContext:       (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		},
	}

	stop := make(chan struct{})
	var sent, failed, retried atomic.Int64
	var seen [2]atomic.Int64 // responses consistent with A, with B
	var mu sync.Mutex
	var messages []string
	var wg sync.WaitGroup
	for w := range reloadWorkers {
		wg.Go(func() {
			for i := w; ; i += reloadWorkers {
				select {
				case <-stop:
					return
				default:
				}
				if sent.Add(1) > reloadMaxRequests {
					return
				}
				rr := reloadRequests[i%len(reloadRequests)]
				policy, err := sendReloadRequest(client, rr, &retried)
				switch {
				case err != nil:
					if failed.Add(1) <= 20 {
						mu.Lock()
						messages = append(messages, fmt.Sprintf("%s from %q: %v", rr.method, rr.origin, err))
						mu.Unlock()
					}
				case policy == "A":
					seen[0].Add(1)
				case policy == "B":
					seen[1].Add(1)
				}
			}
		})
	}

	invalid := []map[string]any{
		{"handler": "cors", "allowed_origins": []string{"*"}, "allow_credentials": true},
		{"handler": "cors", "allowed_origins": []string{"https://a.example/"}},
		{"handler": "cors", "allowed_origins": []string{reloadOriginA}, "max_age": 600},
		{"handler": "cors"},
		{"handler": "cors", "allowed_origins": []string{reloadOriginA}, "allowed_origin": []string{reloadOriginB}},
	}
	start := time.Now()
	deadline := start.Add(45 * time.Second)
	for i := 1; i <= reloadLoads && time.Now().Before(deadline); i++ {
		name := []string{"A", "B"}[i%2]
		if status, msg := postLoad(t, reloadConfig(t, name, reloadPolicies[name])); status != http.StatusOK {
			t.Errorf("load %d (policy %s): %d %s", i, name, status, msg)
		}
		if i%5 == 0 {
			bad := invalid[(i/5)%len(invalid)]
			if status, msg := postLoad(t, reloadConfig(t, "invalid", bad)); status == http.StatusOK {
				t.Errorf("invalid config %v was accepted", bad)
			} else if !strings.Contains(msg, "cors") {
				t.Errorf("invalid config %v refused with %d, but the message does not name the cors handler: %s", bad, status, msg)
			}
		}
		time.Sleep(20 * time.Millisecond) // let requests through between loads
	}
	close(stop)
	wg.Wait()

	t.Logf("%d requests during %d reloads in %v: %d answered by policy A, %d by policy B; %d connections reset by Caddy's listener handoff, retried",
		min(sent.Load(), reloadMaxRequests), reloadLoads, time.Since(start).Round(time.Millisecond), seen[0].Load(), seen[1].Load(), retried.Load())
	if n := failed.Load(); n > 0 {
		t.Errorf("%d requests failed or were answered inconsistently; the first ones:\n%s", n, strings.Join(messages, "\n"))
	}
	if seen[0].Load() == 0 || seen[1].Load() == 0 {
		t.Errorf("responses were not seen from both policies (A %d, B %d): the reloads did not take effect", seen[0].Load(), seen[1].Load())
	}
}

// reloadAttempts bounds the attempts per request. When a config replaces
// another, a connection the old server accepted but had not yet read from
// can be reset or closed before any response byte (Caddy's listener
// handoff, with or without this module); such a request, idempotent and
// unanswered, is sent again. A response is never retried.
const reloadAttempts = 3

// sendReloadRequest sends rr and tells which policy answered it ("" when
// the response fits both). Every attempt beyond the first is counted in
// retried.
func sendReloadRequest(client *http.Client, rr reloadRequest, retried *atomic.Int64) (string, error) {
	for attempt := 1; ; attempt++ {
		policy, answered, err := sendReloadRequestOnce(client, rr)
		if answered || attempt == reloadAttempts {
			return policy, err
		}
		retried.Add(1)
	}
}

// sendReloadRequestOnce is one attempt of sendReloadRequest; answered is
// false when no response arrived at all.
func sendReloadRequestOnce(client *http.Client, rr reloadRequest) (policy string, answered bool, err error) {
	req, err := http.NewRequest(rr.method, reloadSite+"/r", nil)
	if err != nil {
		return "", true, err
	}
	if rr.origin != "" {
		req.Header.Set("Origin", rr.origin)
	}
	if rr.acrm != "" {
		req.Header.Set("Access-Control-Request-Method", rr.acrm)
	}
	if rr.acrh != "" {
		req.Header.Set("Access-Control-Request-Headers", rr.acrh)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", false, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return "", true, fmt.Errorf("reading the body: %w", err)
	}
	policy, err = reloadMatches(rr, resp.StatusCode, string(body), resp.Header)
	return policy, true, err
}
