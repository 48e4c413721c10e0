package cors

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// The placeholders are provided through Caddy's own replacer, fresh for
// each request as Caddy makes it; these are the properties a user sees.
func TestPlaceholdersAsCaddysReplacerShowsThem(t *testing.T) {
	allowsApp := provision(t, `{"allowed_origins":["`+app+`"]}`)
	allowsOther := provision(t, `{"allowed_origins":["https://other.example"]}`)
	const shown = "{http.cors.allowed}|{http.cors.reason}"

	// serve runs one request through handlers, each the next of the one
	// before, and then through last; it gives the request's replacer.
	serve := func(header http.Header, last caddyhttp.HandlerFunc, handlers ...*CORS) *caddy.Replacer {
		t.Helper()
		r := httptest.NewRequest(http.MethodGet, "http://api.example.com/", nil)
		r.Header = header
		repl := caddy.NewReplacer()
		w := httptest.NewRecorder()
		r = caddyhttp.PrepareRequest(r, repl, w, &caddyhttp.Server{})
		var next caddyhttp.Handler = last
		for i := len(handlers) - 1; i >= 0; i-- {
			h, inner := handlers[i], next
			next = caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error { return h.ServeHTTP(w, r, inner) })
		}
		if err := next.ServeHTTP(w, r); err != nil {
			t.Fatal(err)
		}
		return repl
	}

	tests := []struct {
		name     string
		header   http.Header
		last     caddyhttp.HandlerFunc
		handlers []*CORS
		want     string
	}{
		{"allowed", http.Header{"Origin": {app}}, respondOK, []*CORS{allowsApp}, "true|"},
		{"refused", http.Header{"Origin": {"https://evil.example"}}, respondOK, []*CORS{allowsApp}, "false|origin"},
		// Known and empty, so that a log format or a header shows nothing
		// rather than the placeholder's name.
		{"no Origin: empty, not left as written", http.Header{}, respondOK, []*CORS{allowsApp}, "|"},
		// Values given to the replacer's Set come before every provider.
		{"a later handler's Set wins", http.Header{"Origin": {app}}, func(w http.ResponseWriter, r *http.Request) error {
			r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer).Set(placeholderAllowed, "overridden")
			return respondOK(w, r)
		}, []*CORS{allowsApp}, "overridden|"},
		// Providers are asked in the order they were added.
		{"of two cors handlers the first outcome shows", http.Header{"Origin": {app}}, respondOK, []*CORS{allowsApp, allowsOther}, "true|"},
		{"of two cors handlers the first outcome shows, refused first", http.Header{"Origin": {app}}, respondOK, []*CORS{allowsOther, allowsApp}, "false|origin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repl := serve(tt.header, tt.last, tt.handlers...)
			if got := repl.ReplaceKnown(shown, ""); got != tt.want {
				t.Errorf("%s = %q, want %q", shown, got, tt.want)
			}
		})
	}
}
