package cors

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// benchApp is an application with its own CORS, allocating nothing: it
// reflects benchOrigin, with credentials, and answers its preflights for
// PUT; other origins get no CORS header, and their preflights a 403.
var benchApp = caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	origin := r.Header["Origin"]
	trusted := len(origin) == 1 && (origin[0] == benchOrigin || origin[0] == benchPartner)
	if trusted {
		h["Access-Control-Allow-Origin"] = origin
		h["Access-Control-Allow-Credentials"] = benchTrue
	}
	if r.Method == http.MethodOptions {
		if !trusted {
			w.WriteHeader(http.StatusForbidden)
			return nil
		}
		h["Access-Control-Allow-Methods"] = benchMethods
		h["Access-Control-Allow-Headers"] = benchHeaders
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(okBody)
	return err
})

var (
	benchTrue    = []string{"true"}
	benchMethods = []string{"PUT"}
	benchHeaders = []string{benchPreflight}
)

// benchPartner is an origin the application trusts and the policy does
// not: each of its requests is a disagreement.
const benchPartner = "https://partner.example"

// BenchmarkReportMode serves each request through the handler in enforce
// mode and in report mode, in front of benchApp, and through benchApp
// alone (next_only). Every request gets a fresh replacer, as Caddy makes
// one per request. The handler's own cost is a mode's ns/op less
// next_only's; in enforce mode a preflight never reaches the application.
//
//	go test -run '^$' -bench BenchmarkReportMode -benchmem -count 6 .
func BenchmarkReportMode(b *testing.B) {
	scenarios := []struct {
		name   string
		method string
		header http.Header
	}{
		{"actual_allowed", http.MethodGet, actualHeader(benchOrigin)},
		{"actual_allowed_cookie", http.MethodGet, http.Header{"Origin": {benchOrigin}, "Cookie": {"session=1"}}},
		{"actual_refused", http.MethodGet, actualHeader("https://evil.example")},
		{"actual_disagreement", http.MethodGet, actualHeader(benchPartner)},
		{"preflight_allowed", http.MethodOptions, preflightRequestHeader(benchOrigin, benchPreflight)},
		{"preflight_refused_origin", http.MethodOptions, preflightRequestHeader("https://evil.example", benchPreflight)},
		{"no_origin", http.MethodGet, http.Header{"Accept": {"application/json"}}},
	}
	var config map[string]any
	if err := json.Unmarshal([]byte(perfPolicy), &config); err != nil {
		b.Fatal(err)
	}
	config["allow_credentials"] = true
	handlers := map[string]*CORS{}
	for _, mode := range []string{"enforce", "report"} {
		// enforce is the default: without "mode", the same configuration
		// loads in a tree that has no report mode, for a comparison.
		if mode == "report" {
			config["mode"] = mode
		}
		raw, _ := json.Marshal(config)
		ctx, cancel := caddy.NewContext(caddy.Context{Context: b.Context()})
		b.Cleanup(cancel)
		module, err := ctx.LoadModuleByID("http.handlers.cors", raw)
		if err != nil {
			continue // a tree without report mode: its contender is skipped
		}
		handlers[mode] = module.(*CORS)
		useLogger(handlers[mode], discardLogger())
	}
	for _, sc := range scenarios {
		for _, contender := range []string{"next_only", "enforce", "report"} {
			serve := benchApp.ServeHTTP
			if c := handlers[contender]; c != nil {
				serve = func(w http.ResponseWriter, r *http.Request) error { return c.ServeHTTP(w, r, benchApp) }
			}
			b.Run(sc.name+"/"+contender, func(b *testing.B) {
				if contender != "next_only" && handlers[contender] == nil {
					b.Skip("no such mode")
				}
				w := newReusedWriter()
				base := preparedRequest(sc.method, sc.header, w)
				r := base.WithContext(base.Context())
				b.ReportAllocs()
				for b.Loop() {
					w.reset()
					repl := caddy.NewReplacer()
					*r = *base.WithContext(context.WithValue(base.Context(), caddy.ReplacerCtxKey, repl))
					if err := serve(w, r); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
