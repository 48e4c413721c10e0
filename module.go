// Package cors is a Caddy HTTP handler that implements CORS, the protocol by
// which a browser asks a server whether a page from another origin may read
// its responses.
package cors

import (
	"errors"
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
// headers of what was requested and is allowed, and none for the method,
// header or private network access that is not, when the origin is allowed,
// so that the browser's console names what failed.
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
// This handler provides the placeholders `{http.cors.allowed}` (`true` or
// `false`, empty for a request without `Origin`) and `{http.cors.reason}`
// (`origin`, `malformed`, `method`, `header` or `private_network`, and
// `websocket_origin` or `unsafe_cross_origin` for a refusal by a gate of
// `enforce`; empty when allowed). A value another handler sets under the same name takes
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
	// `Access-Control-Allow-Private-Network: true`. Without it, such a
	// preflight is refused.
	//
	// Chrome has put Private Network Access on hold in favour of Local
	// Network Access, which needs no special header.
	AllowPrivateNetwork bool `json:"allow_private_network,omitempty"`

	// The status of a successful preflight, from 200 to 299. Default: `204`.
	PreflightStatus int `json:"preflight_status,omitempty"`

	// Add the CORS headers to an allowed preflight, then hand it on to the
	// next handler instead of answering it. Refused preflights are still
	// answered by this handler.
	PreflightPassthrough bool `json:"preflight_passthrough,omitempty"`

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

	policy      *policy.Policy
	gates       gates.Set
	logger      *zap.Logger
	refusalKeys refusalKeys
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
	c.refusalKeys = newRefusalKeys()
	if err := registerMetrics(ctx.GetMetricsRegistry()); err != nil {
		return err
	}
	cfg := c.config()
	p, err := policy.New(cfg)
	set, gatesErr := gates.Parse(c.Enforce)
	if err := errors.Join(err, gatesErr, gates.CheckCombination(c.Enforce, c.AllowedOrigins)); err != nil {
		return err
	}
	c.gates = set
	if warnings, fromCaddyfile := adaptedWarningsOf(c); fromCaddyfile {
		for _, w := range warnings {
			if w.File == "" {
				c.logger.Warn(w.Message)
				continue
			}
			c.logger.Warn(w.Message, zap.String("file", w.File), zap.Int("line", w.Line))
		}
	} else {
		for _, w := range cfg.Warnings() {
			c.logger.Warn(w.Message)
		}
	}
	c.policy = p
	return nil
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
	}
}

// Interface guards
var _ caddy.Provisioner = (*CORS)(nil)
