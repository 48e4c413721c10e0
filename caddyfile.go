package cors

import (
	"strconv"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"

	"github.com/caddy-cors/cors/internal/policy"
)

func init() {
	httpcaddyfile.RegisterDirective("cors", parseCaddyfile)
	// Before header, so before redir, rewrite, basic_auth, forward_auth,
	// reverse_proxy and every responder: a preflight carries no credentials
	// and cannot follow a redirect, so it must be answered before those.
	httpcaddyfile.RegisterDirectiveOrder("cors", httpcaddyfile.Before, "header")
}

// parseCaddyfile does what httpcaddyfile.RegisterHandlerDirective does,
// and one thing more: Caddy reads a "*" right after the directive name as
// the match-all matcher and deletes it, so "cors *" would silently become
// a policy without origins. It notices that "*" to explain the mistake.
func parseCaddyfile(h httpcaddyfile.Helper) ([]httpcaddyfile.ConfigValue, error) {
	if !h.Next() {
		return nil, h.ArgErr()
	}
	matchAll := h.NextArg() && h.Val() == "*"
	h.Reset()
	h.Next()
	matcherSet, err := h.ExtractMatcherSet()
	if err != nil {
		return nil, err
	}

	c := new(CORS)
	if err := c.UnmarshalCaddyfile(h.Dispenser); err != nil {
		return nil, err
	}
	if err := c.config().CheckHasOrigin(); err != nil {
		h.Reset()
		h.Next()
		if matchAll {
			return nil, h.Err(`in "cors *" the * is Caddy's match-all request matcher, not an origin, so no origin is allowed: to allow any origin write "origins *" in the block, as in cors { origins * }`)
		}
		return nil, h.WrapErr(err)
	}
	return h.NewRoute(matcherSet, c), nil
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens. Syntax:
//
//	cors [<matcher>] [<origin>...] {
//		origins               <origin>...
//		origin_regexp         <regexp>...
//		methods               <method>...
//		headers               <header>...
//		expose                <header>...
//		credentials
//		max_age               <duration>
//		private_network
//		preflight_status      <code>
//		preflight_passthrough
//	}
//
// Origins may be given inline, in origins lines, or both; list
// subdirectives accumulate. max_age takes a duration (10m) or a number of
// seconds (600). Each value is checked as it is read, with the same checks
// as a JSON configuration, so that an error names its file and line.
func (c *CORS) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume directive name

	if err := appendArgs(d, &c.AllowedOrigins, policy.CheckOrigin); err != nil {
		return err
	}
	seen := make(map[string]bool)
	for d.NextBlock(0) {
		subdirective := d.Val()
		var err error
		switch subdirective {
		case "origins":
			err = appendRequiredArgs(d, &c.AllowedOrigins, policy.CheckOrigin)
		case "origin_regexp":
			err = appendRequiredArgs(d, &c.AllowedOriginRegexps, policy.CheckOriginRegexp)
		case "methods":
			err = appendRequiredArgs(d, &c.AllowedMethods, policy.CheckMethod)
		case "headers":
			err = appendRequiredArgs(d, &c.AllowedHeaders, policy.CheckHeader)
		case "expose":
			err = appendRequiredArgs(d, &c.ExposedHeaders, policy.CheckExpose)
		case "credentials":
			err = parseFlag(d, &c.AllowCredentials)
		case "private_network":
			err = parseFlag(d, &c.AllowPrivateNetwork)
		case "preflight_passthrough":
			err = parseFlag(d, &c.PreflightPassthrough)
		case "max_age":
			err = c.parseMaxAge(d)
		case "preflight_status":
			err = c.parsePreflightStatus(d)
		default:
			return d.Errf("unrecognized subdirective '%s'", subdirective)
		}
		if err != nil {
			return err
		}
		if seen[subdirective] && isSingleValued(subdirective) {
			return d.Errf("%s already specified", subdirective)
		}
		seen[subdirective] = true
		if err := c.config().CheckCombination(); err != nil {
			return d.WrapErr(err)
		}
	}
	return nil
}

func isSingleValued(subdirective string) bool {
	switch subdirective {
	case "origins", "origin_regexp", "methods", "headers", "expose":
		return false
	}
	return true
}

// appendArgs appends the remaining arguments on the line to list, each
// checked by check.
func appendArgs(d *caddyfile.Dispenser, list *[]string, check func(string) error) error {
	for d.NextArg() {
		if err := check(d.Val()); err != nil {
			return d.WrapErr(err)
		}
		*list = append(*list, d.Val())
	}
	return nil
}

// appendRequiredArgs is appendArgs for a line that needs at least one.
func appendRequiredArgs(d *caddyfile.Dispenser, list *[]string, check func(string) error) error {
	if d.CountRemainingArgs() == 0 {
		return d.ArgErr()
	}
	return appendArgs(d, list, check)
}

func parseFlag(d *caddyfile.Dispenser, flag *bool) error {
	if d.NextArg() {
		return d.ArgErr()
	}
	*flag = true
	return nil
}

func (c *CORS) parseMaxAge(d *caddyfile.Dispenser) error {
	if !d.NextArg() {
		return d.ArgErr()
	}
	// A bare number is seconds, as Access-Control-Max-Age and other CORS
	// libraries count it.
	var maxAge time.Duration
	if seconds, err := strconv.Atoi(d.Val()); err == nil {
		maxAge = time.Duration(seconds) * time.Second
	} else if maxAge, err = caddy.ParseDuration(d.Val()); err != nil {
		return d.Errf("invalid max_age '%s': write a duration such as 10m or a number of seconds", d.Val())
	}
	if err := policy.CheckMaxAge(maxAge); err != nil {
		return d.WrapErr(err)
	}
	if d.NextArg() {
		return d.ArgErr()
	}
	c.MaxAge = (*caddy.Duration)(&maxAge)
	return nil
}

func (c *CORS) parsePreflightStatus(d *caddyfile.Dispenser) error {
	if !d.NextArg() {
		return d.ArgErr()
	}
	status, err := strconv.Atoi(d.Val())
	if err != nil {
		return d.Errf("invalid preflight_status '%s': write a status code such as 204", d.Val())
	}
	if err := policy.CheckPreflightStatus(status); err != nil {
		return d.WrapErr(err)
	}
	if d.NextArg() {
		return d.ArgErr()
	}
	c.PreflightStatus = status
	return nil
}

// Interface guards
var _ caddyfile.Unmarshaler = (*CORS)(nil)
