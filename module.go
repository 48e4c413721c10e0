// Package cors is a Caddy HTTP handler that implements CORS, the protocol by
// which a browser asks a server whether a page from another origin may read
// its responses.
package cors

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/caddy-cors/cors/internal/gates"
	"github.com/caddy-cors/cors/internal/policy"
)

func init() {
	caddy.RegisterModule(CORS{})
}

// CORS answers CORS preflight requests itself and puts exactly one correct
// set of CORS response headers on every response that passes through it:
// responses of later handlers, of `reverse_proxy` upstreams that send their
// own CORS headers, and error responses.
//
// A preflight (an `OPTIONS` request with `Origin` and
// `Access-Control-Request-Method`) from an allowed origin, for an allowed
// method and allowed headers, is answered with `preflight_status` and never
// reaches the next handler, so authentication, redirects and method-restricted
// routes cannot break it. A refused preflight is answered here too, with a
// one-line plain-text body that says which part failed: 403 without any
// `Access-Control-*` header when the origin is refused; 200 with the CORS
// headers of what was requested and is allowed, and none for the method or
// header that is not, when the origin is allowed, so that the browser's
// console names what failed.
//
// Other requests go on to the next handler: CORS is not access control, a
// browser enforces it on the response. The gates of `enforce` are the
// exception: they refuse WebSocket handshakes and cross-origin writes from
// origins that are not allowed. The handler owns the
// `Access-Control-Allow-*`, `Access-Control-Expose-Headers` and
// `Access-Control-Max-Age` response headers: whatever a later handler or an
// upstream put there is replaced, or removed for a refused origin. `Vary`
// is merged, never overwritten.
//
// The configuration is checked when it loads; a dangerous or meaningless
// one is refused with a message that says what to write instead.
//
// With `mode` `report`, the handler judges every request the same way and
// changes nothing: it adds and removes no header, hands preflights on to
// the next handler and refuses nothing. It records what it would have done
// in its logs, metrics and placeholders, and compares, as a browser would
// judge them, the CORS headers the application sends with those it would
// have sent.
//
// This handler provides the placeholders `{http.cors.allowed}` (`true` or
// `false`, empty for a request without `Origin`), `{http.cors.reason}`
// (`origin`, `malformed`, `method` or `header`, `origin_source_busy` or
// `origin_source_error` when an origin source could not check the origin,
// and `websocket_origin` or `unsafe_cross_origin` for a refusal by a gate
// of `enforce`; empty when allowed) and `{http.cors.mode}` (`enforce` or
// `report`, for every request the handler sees); in report mode the first
// two tell what would have happened. A value another handler sets under
// the same name takes
// precedence, and with two `cors` handlers on one request, the first
// one's outcome shows.
//
// Each refused preflight is logged at `info`, each refused CORS request at
// `debug`, with the request's values cut and limited to visible ASCII. The
// lines are sampled per handler and reason: in each second, the first 10
// of a reason are written, then one in 100. Metrics count every request.
type CORS struct {
	// The origins allowed to read responses, as browsers send them:
	// `scheme://host[:port]`, lower case, no path and no trailing slash, for
	// example `https://app.example.com` or `http://localhost:5173`.
	//
	// `*` allows any origin (it cannot be combined with `allow_credentials`).
	// `https://*.example.com` allows every subdomain of example.com, at any
	// depth, but not example.com itself, nor a host under a public suffix
	// below it; `http://localhost:*` allows any port. A host with a trailing
	// dot (`https://localhost.`) is an origin of its own. `null`, `file://`
	// origins and patterns over a public suffix are refused.
	//
	// Caddy's global placeholders, such as `{env.CORS_ORIGINS}`, are
	// replaced once, when the configuration loads, and the result is checked
	// like any origin. A value that becomes several origins separated by
	// spaces allows each of them; one that becomes empty allows none.
	// Request placeholders are refused: origins are fixed at load.
	AllowedOrigins []string `json:"allowed_origins,omitempty"`

	// Regular expressions (RE2 syntax) for further allowed origins. Each is
	// matched against the whole serialized origin, as if written between `^`
	// and `$`. An expression that matches `null` is refused, and so, with
	// `allow_credentials`, is one whose host part does not end in a domain
	// of your own (`https://.*`, `https://[a-z0-9-]+\.github\.io`).
	AllowedOriginRegexps []string `json:"allowed_origin_regexps,omitempty"`

	// The methods a preflight may ask for, or `*` for any. Method names are
	// case-sensitive, as in browsers: `PATCH` does not allow `patch`. The
	// six names browsers upper-case (`DELETE`, `GET`, `HEAD`, `OPTIONS`,
	// `POST`, `PUT`) are upper-cased here too. `GET`, `HEAD` and `POST` are
	// always allowed and need not be listed.
	AllowedMethods []string `json:"allowed_methods,omitempty"`

	// The request headers a preflight may ask for, case-insensitive, or `*`
	// for any header but `Authorization`, which must be listed by name.
	AllowedHeaders []string `json:"allowed_headers,omitempty"`

	// The response headers that scripts may read, beyond the safelisted
	// ones (`Cache-Control`, `Content-Language`, `Content-Length`,
	// `Content-Type`, `Expires`, `Last-Modified`, `Pragma`). `*` exposes all
	// of them, and cannot be combined with `allow_credentials`. `Set-Cookie`
	// and the `Access-Control-*` headers cannot be exposed.
	ExposedHeaders []string `json:"exposed_headers,omitempty"`

	// Allow requests with credentials (cookies, HTTP authentication): send
	// `Access-Control-Allow-Credentials: true` and the request's exact origin.
	AllowCredentials bool `json:"allow_credentials,omitempty"`

	// How long browsers may cache a successful preflight, in whole seconds,
	// at most 24h. Browsers cap it further: Chromium at 2h, Safari at 10m.
	// Absent: no `Access-Control-Max-Age` header (browsers then cache for
	// 5 seconds). `0`: send `0`, which disables caching. A JSON number is
	// read as nanoseconds, so write durations as strings, like `"10m"`.
	MaxAge *caddy.Duration `json:"max_age,omitempty"`

	// Answer Private Network Access preflights (those with
	// `Access-Control-Request-Private-Network: true`) with
	// `Access-Control-Allow-Private-Network: true`, and name that request
	// header in their `Vary`. Without it, the request header is ignored:
	// the preflight is judged on the rest and answered without
	// `Access-Control-Allow-Private-Network`.
	//
	// Only older Chromium sends such preflights: Chrome removed Private
	// Network Access in 2025 in favour of Local Network Access, a permission
	// the user grants in the browser and that no response header can give.
	AllowPrivateNetwork bool `json:"allow_private_network,omitempty"`

	// The status of a successful preflight, from 200 to 299. Default: `204`.
	PreflightStatus int `json:"preflight_status,omitempty"`

	// Add the CORS headers to an allowed preflight, then hand it on to the
	// next handler instead of answering it. Refused preflights are still
	// answered by this handler.
	PreflightPassthrough bool `json:"preflight_passthrough,omitempty"`

	// Sources of further allowed origins, asked in order about an origin
	// that the fields above do not allow; the first that allows it wins.
	// Each is an object whose `source` names the module: `file` (a list in
	// a file, re-read when it changes), `http` (an endpoint that answers
	// yes or no), or a source from another plugin. They are asked only
	// about valid origins, and with `allow_credentials` never about a plain
	// `http://` origin other than loopback. An origin a source could not
	// check is refused, with the reason `origin_source_busy` or
	// `origin_source_error`.
	OriginSourcesRaw []json.RawMessage `json:"origin_sources,omitempty" caddy:"namespace=http.handlers.cors.origin_sources inline_key=source"`

	// Gates that refuse what CORS alone does not stop, from origins that
	// are neither allowed nor the request's own, with a 403 before the next
	// handler runs:
	//
	// - `websocket`: WebSocket opening handshakes (an HTTP/1.1 `GET` with
	// `Upgrade: websocket`, or an HTTP/2 or HTTP/3 extended `CONNECT`). A handshake
	// without `Origin` (not from a browser) passes.
	// - `unsafe_methods`: requests with a method other than `GET`, `HEAD`
	// and `OPTIONS`, judged as Go's `http.CrossOriginProtection` judges
	// them: `Sec-Fetch-Site: same-origin` or `none` passes, another value
	// only with an allowed `Origin`; without `Sec-Fetch-Site`, the
	// request's own or an allowed `Origin` passes; with neither header,
	// the request passes.
	//
	// The request's own origin is its scheme (`https` over TLS) and `Host`
	// as Caddy received them, never `X-Forwarded-*`. Refusals carry the
	// reasons `websocket_origin` and `unsafe_cross_origin`. Cannot be
	// combined with `*` in `allowed_origins`. Scope a gate with a request
	// matcher on the handler.
	Enforce []string `json:"enforce,omitempty"`

	// `enforce` answers preflights and sets the CORS headers of responses.
	// `report` only judges each request as `enforce` would, changes
	// nothing, and records the would-be result, and where the
	// application's own CORS headers disagree with the policy's, in logs
	// (`CORS preflight would be rejected`, `CORS policy would be
	// stricter`, ...) and in the metrics
	// `caddy_http_cors_report_requests_total` and
	// `caddy_http_cors_report_disagreements_total`. Default: `enforce`.
	Mode string `json:"mode,omitempty"`

	sources  []OriginSource
	policy   *policy.Policy
	gates    gates.Set
	report   bool
	logger   *zap.Logger
	refusals *refusalGate     // which refusal lines are written
	counters *requestCounters // the metrics it counts into
	// disagreements, in report mode, gates the disagreement log lines.
	disagreements *disagreementGate
}

// CaddyModule returns the Caddy module information.
func (CORS) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.cors",
		New: func() caddy.Module { return new(CORS) },
	}
}

// Provision checks the configuration and compiles the policy. Every
// problem is reported at once, each with what to write instead.
func (c *CORS) Provision(ctx caddy.Context) error {
	c.logger = ctx.Logger()
	c.report = c.Mode == modeReport
	c.refusals = new(refusalGate)
	c.counters = &requestCounters{vec: requestsTotal}
	if c.report {
		c.counters = &requestCounters{vec: reportRequestsTotal}
		c.disagreements = new(disagreementGate)
	}
	if err := registerMetrics(ctx.GetMetricsRegistry(), c.collectors()...); err != nil {
		return err
	}
	if err := c.loadOriginSources(ctx); err != nil {
		return err
	}
	cfg := c.config()
	written := cfg.Origins
	cfg.Origins = replaceGlobalPlaceholders(written)
	p, err := policy.New(cfg)
	set, gatesErr := gates.Parse(c.Enforce)
	if err := errors.Join(checkMode(c.Mode), err, gatesErr, gates.CheckCombination(c.Enforce, cfg.Origins)); err != nil {
		return errors.Join(placeholdersBehind(written, cfg), err)
	}
	c.gates = set
	// What the JSON shows is warned about here, whatever wrote it; from a
	// Caddyfile, the adapter has also logged each with its line.
	for _, w := range cfg.Warnings() {
		c.logger.Warn(w.Message)
	}
	c.policy = p
	return nil
}

// replaceGlobalPlaceholders replaces Caddy's global placeholders, such as
// {env.CORS_ORIGINS}, in configured origins, once, as the handler loads:
// JSON has no {$CORS_ORIGINS} as the Caddyfile has. A value that held a
// placeholder may become several origins separated by spaces, as an
// environment variable gives them in a Caddyfile, or none. A placeholder
// that has no value at load time (a request's) is left as written, for
// policy.CheckOrigin to explain.
func replaceGlobalPlaceholders(written []string) []string {
	if !slices.ContainsFunc(written, hasPlaceholder) {
		return written
	}
	repl := caddy.NewReplacer()
	origins := make([]string, 0, len(written))
	for _, o := range written {
		if !hasPlaceholder(o) {
			origins = append(origins, o)
			continue
		}
		if replaced := repl.ReplaceKnown(o, ""); !hasPlaceholder(replaced) {
			origins = append(origins, strings.Fields(replaced)...)
		} else {
			origins = append(origins, replaced)
		}
	}
	return origins
}

// placeholdersBehind names, for a refused policy, what each origin
// written with a placeholder became where that is what was refused (an
// origin that is not one, or none at all), since the errors name the result.
func placeholdersBehind(written []string, cfg policy.Config) error {
	noOrigin := cfg.CheckHasOrigin() != nil
	repl := caddy.NewReplacer()
	var errs []error
	for _, o := range written {
		if !hasPlaceholder(o) {
			continue
		}
		replaced := repl.ReplaceKnown(o, "")
		origins := strings.Fields(replaced)
		refused := func(origin string) bool { return policy.CheckOrigin(origin) != nil }
		if replaced != o && (len(origins) == 0 && noOrigin || slices.ContainsFunc(origins, refused)) {
			errs = append(errs, fmt.Errorf("allowed_origins %q became %q when the configuration loaded", o, replaced))
		}
	}
	return errors.Join(errs...)
}

func hasPlaceholder(s string) bool {
	return strings.Contains(s, "{")
}

// config is the policy as configured, in the terms of package policy.
func (c *CORS) config() policy.Config {
	return policy.Config{
		Origins:              c.AllowedOrigins,
		OriginRegexps:        c.AllowedOriginRegexps,
		Methods:              c.AllowedMethods,
		Headers:              c.AllowedHeaders,
		Expose:               c.ExposedHeaders,
		Credentials:          c.AllowCredentials,
		MaxAge:               (*time.Duration)(c.MaxAge),
		PrivateNetwork:       c.AllowPrivateNetwork,
		PreflightStatus:      c.PreflightStatus,
		PreflightPassthrough: c.PreflightPassthrough,
		Sources:              c.policySources(),
	}
}

// Interface guards
var _ caddy.Provisioner = (*CORS)(nil)
