package benchmarks

import (
	"net/http"
	"testing"
)

// wsHandshake is a browser's WebSocket opening handshake from origin.
func wsHandshake(origin string) http.Header {
	return http.Header{
		"Origin":                {origin},
		"Upgrade":               {"websocket"},
		"Connection":            {"Upgrade"},
		"Sec-Websocket-Key":     {"dGhlIHNhbXBsZSBub25jZQ=="},
		"Sec-Websocket-Version": {"13"},
	}
}

func fetchMetadata(origin, site string) http.Header {
	return http.Header{"Origin": {origin}, "Sec-Fetch-Site": {site}, "Content-Type": {"application/x-www-form-urlencoded"}}
}

// BenchmarkGates serves requests the gates pass through the handler with
// enforce websocket unsafe_methods ("enforce") and without ("off"), the
// same policy otherwise: the difference is what the gates cost. A refused
// cross-site POST is measured against a preflight from a refused origin,
// the refusal it must cost no more than.
//
//	cd integration && go test -run '^$' -bench Gates -benchmem -count 8 ./benchmarks
func BenchmarkGates(b *testing.B) {
	off := `{"allowed_origins":["` + benchOrigin + `"]}`
	enforce := `{"allowed_origins":["` + benchOrigin + `"],"enforce":["websocket","unsafe_methods"]}`
	for _, s := range []struct {
		name        string
		method      string
		header      http.Header
		allowOrigin string
	}{
		{"get_no_origin", http.MethodGet, http.Header{"Accept": {"application/json"}}, ""},
		{"get_allowed_origin", http.MethodGet, actualHeader(benchOrigin), benchOrigin},
		{"websocket_allowed_origin", http.MethodGet, wsHandshake(benchOrigin), benchOrigin},
		{"websocket_own_origin", http.MethodGet, wsHandshake("http://api.example.com"), ""},
		{"post_same_origin", http.MethodPost, fetchMetadata("http://api.example.com", "same-origin"), ""},
		{"post_cross_site_allowed_origin", http.MethodPost, fetchMetadata(benchOrigin, "cross-site"), benchOrigin},
		{"post_old_browser_own_origin", http.MethodPost, http.Header{"Origin": {"http://api.example.com"}}, ""},
	} {
		for _, mode := range []struct{ name, config string }{{"off", off}, {"enforce", enforce}} {
			b.Run(s.name+"/"+mode.name, func(b *testing.B) {
				handler := loadHandler(b, mode.config)
				q := newRequest(s.method, s.header)
				run(b, s.name, s.allowOrigin, q, func() { _ = handler.ServeHTTP(q.w, q.r, nextCaddy) })
				if q.w.status != http.StatusOK {
					b.Fatalf("%s: status %d, want the next handler's 200", s.name, q.w.status)
				}
			})
		}
	}
	b.Run("refused/post_cross_site", func(b *testing.B) {
		handler := loadHandler(b, enforce)
		q := newRequest(http.MethodPost, fetchMetadata("https://evil.example.net", "cross-site"))
		run(b, "refused/post_cross_site", "", q, func() { _ = handler.ServeHTTP(q.w, q.r, nextCaddy) })
		if q.w.status != http.StatusForbidden {
			b.Fatalf("status %d, want 403", q.w.status)
		}
	})
	b.Run("refused/websocket", func(b *testing.B) {
		handler := loadHandler(b, enforce)
		q := newRequest(http.MethodGet, wsHandshake("https://evil.example.net"))
		run(b, "refused/websocket", "", q, func() { _ = handler.ServeHTTP(q.w, q.r, nextCaddy) })
		if q.w.status != http.StatusForbidden {
			b.Fatalf("status %d, want 403", q.w.status)
		}
	})
	b.Run("refused/preflight_disallowed_origin", func(b *testing.B) {
		handler := loadHandler(b, off)
		q := newRequest(http.MethodOptions, preflightHeader("https://evil.example.net", benchPreflight))
		run(b, "refused/preflight", "", q, func() { _ = handler.ServeHTTP(q.w, q.r, nextCaddy) })
	})
}
