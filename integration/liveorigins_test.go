package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The admin API path of the handler's origins, as docs/live-origins.md shows
// it: an "@id" on the handler names it.
const (
	liveID           = "cors-api"
	liveOriginsPath  = "/id/" + liveID + "/allowed_origins"
	liveKeptOrigin   = "https://app.example"          // in the list before and after
	liveNewOrigin    = "https://tenant-99999.example" // only in the new list
	liveAppended     = "https://appended.example"     // appended with POST afterwards
	liveOriginsCount = 100000
	liveWorkers      = 4
	liveMaxRequests  = 40000
	// liveRequestGap paces each worker, so that the PATCH gets its share of
	// two busy cores even under the race detector.
	liveRequestGap = 2 * time.Millisecond
)

// liveOrigins is the new list: liveKeptOrigin and 99,999 tenants.
func liveOrigins() []string {
	origins := make([]string, 0, liveOriginsCount)
	origins = append(origins, liveKeptOrigin)
	for i := 1; i < liveOriginsCount; i++ {
		origins = append(origins, fmt.Sprintf("https://tenant-%d.example", i))
	}
	return origins
}

// adminDo sends method to the admin API at path with body (JSON, or "") and
// returns the status and the response body.
func adminDo(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, adminURL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	client := newClient()
	client.Timeout = 3 * time.Minute // 100,000 origins, under -race on busy cores
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return resp.StatusCode, string(raw)
}

// TestPatchOriginsUnderLoad replaces the origins of a running handler with
// 100,000 through the admin API (PATCH /id/cors-api/allowed_origins) while
// workers keep sending CORS requests and preflights. No request fails: an
// origin in both lists is allowed throughout, and one only in the new list
// is allowed once the PATCH has returned. GET reads the new list back, and
// POST appends to it. The PATCH's time, end to end, is logged
// (docs/live-origins.md quotes it); it is not asserted.
func TestPatchOriginsUnderLoad(t *testing.T) {
	requireIntegration(t)
	handler := map[string]any{
		"@id":             liveID,
		"handler":         "cors",
		"allowed_origins": []string{liveKeptOrigin},
		"allowed_methods": []string{"PUT"},
	}
	loadJSON(t, reloadConfig(t, "live", handler))

	var sent, retried, failed atomic.Int64
	var mu sync.Mutex
	var messages []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var stopOnce sync.Once
	halt := func() {
		stopOnce.Do(func() { close(stop) })
		wg.Wait()
	}
	defer halt()
	for w := range liveWorkers {
		wg.Go(func() {
			for i := w; sent.Add(1) <= liveMaxRequests; i += liveWorkers {
				select {
				case <-stop:
					return
				case <-time.After(liveRequestGap):
				}
				rr := []reloadRequest{
					{http.MethodGet, liveKeptOrigin, "", ""},
					{http.MethodOptions, liveKeptOrigin, "PUT", ""},
					{http.MethodGet, liveNewOrigin, "", ""}, // either answer, during the change
				}[i%3]
				status, allowOrigin, err := sendLiveRequest(rr, &retried)
				var problem string
				switch {
				case err != nil:
					problem = fmt.Sprintf("%s from %s: %v", rr.method, rr.origin, err)
				case rr.origin == liveKeptOrigin && (allowOrigin != liveKeptOrigin || status >= 300):
					problem = fmt.Sprintf("%s from %s (in both lists): status %d, Access-Control-Allow-Origin %q", rr.method, rr.origin, status, allowOrigin)
				default:
					continue
				}
				if failed.Add(1) <= 20 {
					mu.Lock()
					messages = append(messages, problem)
					mu.Unlock()
				}
			}
		})
	}

	// Let the workers run against the old list first.
	time.Sleep(500 * time.Millisecond)
	body, err := json.Marshal(liveOrigins())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	status, msg := adminDo(t, http.MethodPatch, liveOriginsPath, string(body))
	took := time.Since(start)
	if status != http.StatusOK {
		t.Fatalf("PATCH %s = %d: %s", liveOriginsPath, status, msg)
	}
	// Keep the load running on the new list for a moment.
	time.Sleep(500 * time.Millisecond)
	halt()

	t.Logf("PATCH of %d origins (%d KiB of JSON): %s end to end; %d requests, %d connections reset before the request was read (Caddy swaps its listener) and sent again",
		liveOriginsCount, len(body)>>10, took.Round(time.Millisecond), min(sent.Load(), liveMaxRequests), retried.Load())
	if n := failed.Load(); n > 0 {
		t.Errorf("%d requests failed or were answered wrongly; the first ones:\n%s", n, strings.Join(messages, "\n"))
	}
	for range 20 {
		status, allowOrigin, err := sendLiveRequest(reloadRequest{http.MethodGet, liveNewOrigin, "", ""}, &retried)
		if err != nil || status != http.StatusOK || allowOrigin != liveNewOrigin {
			t.Fatalf("GET from %s after the PATCH returned: status %d, Access-Control-Allow-Origin %q, error %v", liveNewOrigin, status, allowOrigin, err)
		}
	}

	status, got := adminDo(t, http.MethodGet, liveOriginsPath, "")
	var read []string
	if status != http.StatusOK || json.Unmarshal([]byte(got), &read) != nil || len(read) != liveOriginsCount || read[0] != liveKeptOrigin {
		t.Errorf("GET %s = %d with %d origins (want %d, the first %s): %s", liveOriginsPath, status, len(read), liveOriginsCount, liveKeptOrigin, truncate(got, 200))
	}

	// A list with an invalid origin is refused as a whole, with the same
	// message as at load, and the running list stays. (Caddy answers 500
	// for a change under /id/ or /config/ that does not load, where POST
	// /load gets 400.)
	if status, msg := adminDo(t, http.MethodPatch, liveOriginsPath, `["https://ok.example", "https://bad.example/"]`); status != http.StatusInternalServerError || !strings.Contains(msg, `origin \"https://bad.example/\" ends with a slash`) {
		t.Errorf("PATCH with an invalid origin = %d, want 500 naming the origin: %s", status, msg)
	}

	// POST to the list appends one origin.
	if status, msg := adminDo(t, http.MethodPost, liveOriginsPath, `"`+liveAppended+`"`); status != http.StatusOK {
		t.Fatalf("POST %s = %d: %s", liveOriginsPath, status, msg)
	}
	for origin, allowed := range map[string]bool{liveAppended: true, "https://tenant-12345.example": true, "https://tenant-100000.example": false} {
		resp, body := sendRequest(t, http.MethodGet, reloadSite+"/r", origin, nil, "")
		assertStatus(t, resp, body, http.StatusOK)
		if allowed {
			assertHeader(t, resp.Header, "Access-Control-Allow-Origin", origin)
		} else {
			assertNoCORSHeaders(t, resp.Header)
		}
	}
}

// sendLiveRequest sends rr to reloadSite and returns the status and the
// Access-Control-Allow-Origin of the answer. A request that got no answer
// at all (a connection reset before Caddy read it) is sent again, as in
// sendReloadRequest.
func sendLiveRequest(rr reloadRequest, retried *atomic.Int64) (int, string, error) {
	client := newClient()
	for attempt := 1; ; attempt++ {
		req, err := http.NewRequest(rr.method, reloadSite+"/r", nil)
		if err != nil {
			return 0, "", err
		}
		req.Header.Set("Origin", rr.origin)
		if rr.acrm != "" {
			req.Header.Set("Access-Control-Request-Method", rr.acrm)
		}
		resp, err := client.Do(req)
		if err != nil {
			if attempt == reloadAttempts {
				return 0, "", err
			}
			retried.Add(1)
			continue
		}
		_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"), err
	}
}
