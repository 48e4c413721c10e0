package cors

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"go.uber.org/zap"

	"github.com/caddy-cors/cors/internal/gates"
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
// and more: Caddy reads a "*" right after the directive name as the
// match-all matcher and deletes it, so "cors *" would silently become a
// policy without origins. It notices that "*" to explain the mistake. It
// reports every error of the block together, and logs the warnings, each
// with its line (see warnWhileAdapting).
func parseCaddyfile(h httpcaddyfile.Helper) ([]httpcaddyfile.ConfigValue, error) {
	if !h.Next() {
		return nil, h.ArgErr()
	}
	directive := sourceLine{File: h.File(), Line: h.Line()}
	var matcher string
	if h.NextArg() {
		matcher = h.Val()
	}
	h.Reset()
	h.Next()
	matcherSet, err := h.ExtractMatcherSet()
	if err != nil {
		return nil, err
	}

	c := new(CORS)
	lines, err := c.unmarshalCaddyfile(h.Dispenser)
	if noOrigin := c.config().CheckHasOrigin(); noOrigin != nil {
		h.Reset()
		h.Next()
		switch {
		case matcher == "*" && c.AllowCredentials:
			// origins * would be refused in turn, next to credentials.
			noOrigin = h.Err(`in "cors *" the * is Caddy's match-all request matcher, not an origin, so no origin is allowed; with credentials, list the origins of your frontends in the block, as in origins https://app.example.com (origins * cannot serve credentials: it would let every site read your users' data)`)
		case matcher == "*":
			noOrigin = h.Err(`in "cors *" the * is Caddy's match-all request matcher, not an origin, so no origin is allowed: to allow any origin write "origins *" in the block, as in cors { origins * }`)
		default:
			noOrigin = h.WrapErr(noOrigin)
		}
		err = errors.Join(err, noOrigin)
	}
	if err != nil {
		return nil, err
	}

	var warnings []locatedWarning
	for _, w := range c.config().Warnings() {
		at, ok := lines[lineKey(w.Setting, w.Value)]
		if !ok {
			at = directive
		}
		warnings = append(warnings, locatedWarning{Message: w.Message, sourceLine: at})
	}
	if w := preflightMatcherWarning(matcher, matcherSet); w != "" {
		warnings = append(warnings, locatedWarning{Message: w, sourceLine: directive})
	}
	warnWhileAdapting(h, warnings)
	return h.NewRoute(matcherSet, c), nil
}

// preflightMatcherWarning warns about a matcher that can never match a
// preflight, which is always an OPTIONS request: a method matcher without
// OPTIONS sends every preflight on to the next handler, unanswered.
func preflightMatcherWarning(matcher string, matcherSet caddy.ModuleMap) string {
	raw, ok := matcherSet["method"]
	if !ok {
		return ""
	}
	var methods []string
	if err := json.Unmarshal(raw, &methods); err != nil {
		return ""
	}
	for _, m := range methods {
		if strings.EqualFold(m, http.MethodOptions) {
			return ""
		}
	}
	return fmt.Sprintf("matcher %s matches only the methods %s, never OPTIONS, so it never sees a preflight: preflights go on to the next handler unanswered; add OPTIONS to the method matcher, or match on the path instead", matcher, strings.Join(methods, " "))
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens. Syntax:
//
//	cors [<matcher>] [<origin>...] {
//		origins               <origin>...
//		origin_regexp         <regexp>...
//		origins_from          <source> [<args>...] [{ <options> }]
//		methods               <method>...
//		headers               <header>...
//		expose                <header>...
//		credentials
//		max_age               <duration>
//		private_network
//		preflight_status      <code>
//		preflight_passthrough
//		mode                  enforce|report
//		enforce               websocket | unsafe_methods ...
//	}
//
// Origins may be given inline, in origins lines, or both; list
// subdirectives accumulate. max_age takes a duration (10m) or a number of
// seconds (600). Each value is checked as it is read, with the same checks
// as a JSON configuration, so that an error names its file and line; every
// error of the block is reported, not only the first.
func (c *CORS) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	_, err := c.unmarshalCaddyfile(d)
	return err
}

// sourceLine is where a value was written in a Caddyfile.
type sourceLine struct {
	File string
	Line int
}

// lineKey identifies a value of a subdirective, or a single-valued
// subdirective with value "", as policy.Warning names it.
func lineKey(subdirective, value string) string {
	return subdirective + " " + value
}

// unmarshalCaddyfile is UnmarshalCaddyfile, and gives where each value
// was written, by lineKey.
func (c *CORS) unmarshalCaddyfile(d *caddyfile.Dispenser) (map[string]sourceLine, error) {
	d.Next() // consume directive name

	lines := make(map[string]sourceLine)
	errs := []error{appendArgs(d, "origins", &c.AllowedOrigins, policy.CheckOrigin, lines)}
	seen := make(map[string]bool)
	reported := make(map[string]bool) // combination errors, each named once
	judged := 0                       // regexps already judged together with credentials
	for d.NextBlock(0) {
		subdirective := d.Val()
		lines[lineKey(subdirective, "")] = sourceLine{File: d.File(), Line: d.Line()}
		var err error
		switch subdirective {
		case "origins":
			err = appendRequiredArgs(d, subdirective, &c.AllowedOrigins, policy.CheckOrigin, lines)
		case "origin_regexp":
			err = appendRequiredArgs(d, subdirective, &c.AllowedOriginRegexps, policy.CheckOriginRegexp, lines)
		case "methods":
			err = appendRequiredArgs(d, subdirective, &c.AllowedMethods, policy.CheckMethod, lines)
		case "headers":
			err = appendRequiredArgs(d, subdirective, &c.AllowedHeaders, policy.CheckHeader, lines)
		case "expose":
			err = appendRequiredArgs(d, subdirective, &c.ExposedHeaders, policy.CheckExpose, lines)
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
		case "mode":
			err = c.parseMode(d)
		case "enforce":
			err = appendRequiredArgs(d, subdirective, &c.Enforce, gates.Check, lines)
		case "origins_from":
			err = c.parseOriginsFrom(d)
		default:
			err = d.Errf("unrecognized subdirective '%s'", subdirective)
		}
		if err == nil && seen[subdirective] && isSingleValued(subdirective) {
			err = d.Errf("%s already specified", subdirective)
		}
		seen[subdirective] = true
		errs = append(errs, err, skipRestOfLine(d, subdirective, err == nil))
		// Each regexp is judged with credentials once, after the line that
		// adds it or the credentials line, not again after every later
		// line: that made a long block quadratic.
		combination := c.config()
		if combination.Credentials {
			combination.OriginRegexps, judged = combination.OriginRegexps[judged:], len(combination.OriginRegexps)
		}
		combinations := errors.Join(combination.CheckCombination(), gates.CheckCombination(c.Enforce, c.AllowedOrigins))
		for _, err := range unjoin(combinations) {
			if !reported[err.Error()] {
				reported[err.Error()] = true
				errs = append(errs, d.WrapErr(err))
			}
		}
	}
	return lines, errors.Join(errs...)
}

// skipRestOfLine moves past what is left of a subdirective's line after
// an error, and past a block it opens, which no subdirective takes, so
// that reading goes on with the next subdirective. It reports the block
// only for a line that has no error of its own.
func skipRestOfLine(d *caddyfile.Dispenser, subdirective string, lineWasValid bool) error {
	d.RemainingArgs()
	blockErr := d.Errf("%s takes no block", subdirective)
	nesting := d.Nesting()
	if !d.NextBlock(nesting) {
		return nil
	}
	for d.NextBlock(nesting) {
	}
	if !lineWasValid {
		return nil
	}
	return blockErr
}

// unjoin gives the errors errors.Join made err of, or err alone.
func unjoin(err error) []error {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		return joined.Unwrap()
	}
	if err != nil {
		return []error{err}
	}
	return nil
}

func isSingleValued(subdirective string) bool {
	switch subdirective {
	case "origins", "origin_regexp", "methods", "headers", "expose", "enforce", "origins_from":
		return false
	}
	return true
}

// appendArgs appends the remaining arguments on the line to list, each
// checked by check, and remembers the line of each.
func appendArgs(d *caddyfile.Dispenser, subdirective string, list *[]string, check func(string) error, lines map[string]sourceLine) error {
	var errs []error
	for d.NextArg() {
		if err := check(d.Val()); err != nil {
			errs = append(errs, d.WrapErr(err))
		}
		// Kept even when refused, so that a refused origin does not also
		// read as no origin at all.
		*list = append(*list, d.Val())
		if _, ok := lines[lineKey(subdirective, d.Val())]; !ok {
			lines[lineKey(subdirective, d.Val())] = sourceLine{File: d.File(), Line: d.Line()}
		}
	}
	return errors.Join(errs...)
}

// appendRequiredArgs is appendArgs for a line that needs at least one.
func appendRequiredArgs(d *caddyfile.Dispenser, subdirective string, list *[]string, check func(string) error, lines map[string]sourceLine) error {
	if d.CountRemainingArgs() == 0 {
		return d.ArgErr()
	}
	return appendArgs(d, subdirective, list, check, lines)
}

// parseFlag sets a subdirective that takes no value. "credentials true"
// is what most people try first, so the error says so instead of Caddy's
// argument count.
func parseFlag(d *caddyfile.Dispenser, flag *bool) error {
	subdirective := d.Val()
	*flag = true // as meant, so that later checks see it
	if d.NextArg() {
		return d.Errf("%s takes no value: write %s alone on its line, or leave it out to turn it off", subdirective, subdirective)
	}
	return nil
}

func (c *CORS) parseMaxAge(d *caddyfile.Dispenser) error {
	if !d.NextArg() {
		return d.ArgErr()
	}
	// A bare number is seconds, as Access-Control-Max-Age and other CORS
	// libraries count it.
	maxAge, isNumber, err := policy.ParseMaxAgeSeconds(d.Val())
	if !isNumber {
		if maxAge, err = caddy.ParseDuration(d.Val()); err != nil {
			return d.Errf("invalid max_age '%s': write a duration such as 10m or a number of seconds", d.Val())
		}
	}
	if err == nil {
		err = policy.CheckMaxAge(maxAge)
	}
	if err != nil {
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

// locatedWarning is a warning with the Caddyfile line of what it names.
type locatedWarning struct {
	Message string
	sourceLine
}

// warnWhileAdapting logs the warnings of one cors directive while the
// Caddyfile is adapted, each with the file and line of the value it names:
// only the adapter knows lines, and the JSON it writes has no room for
// them. httpcaddyfile gives a directive no way to add to its own list of
// adapter warnings, so they are logged, as Caddy's own directives log
// theirs (basic_auth, reverse_proxy), by whatever adapts the Caddyfile:
// `caddy adapt`, `caddy run` and `caddy reload` print them to the person
// who wrote it, and POST /load and /adapt write them to Caddy's log.
//
// A snippet imported by many sites gives the same warning at the same line
// for each: it is logged once per adaptation, which Helper.State lasts.
func warnWhileAdapting(h httpcaddyfile.Helper, warnings []locatedWarning) {
	const stateKey = "cors.warned"
	warned, _ := h.State[stateKey].(map[locatedWarning]bool)
	if warned == nil {
		warned = make(map[locatedWarning]bool)
		if h.State != nil {
			h.State[stateKey] = warned
		}
	}
	logger := caddy.Log().Named("config.adapter.caddyfile")
	for _, w := range warnings {
		if warned[w] {
			continue
		}
		warned[w] = true
		logger.Warn("cors: "+w.Message, zap.String("file", w.File), zap.Int("line", w.Line))
	}
}
