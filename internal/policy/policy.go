package policy

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/caddy-cors/cors/internal/methods"
	"github.com/caddy-cors/cors/internal/origins"
)

// DefaultPreflightStatus answers successful preflights: no body, and the
// status every browser accepts.
const DefaultPreflightStatus = 204

// Policy is a checked configuration, ready to answer requests. It is
// immutable and safe for concurrent use.
type Policy struct {
	anyOrigin bool
	origins   *origins.Matcher
	sources   []Source

	anyMethod bool
	methods   map[string]struct{} // byte for byte, as browsers compare (R22)

	anyHeader bool
	headers   map[string]struct{} // lower-case

	credentials     bool
	exposeHeaders   string
	maxAge          string
	privateNetwork  bool
	preflightStatus int
	passthrough     bool
	preflightVary   string

	// What every request of an outcome is answered, built once (see
	// Answer): the allowed one gets the request's origin besides.
	notCORS, actualAllowed, actualRefused Shape
}

// New checks c and compiles it. All errors are reported together, each
// saying what to write instead.
func New(c Config) (*Policy, error) {
	p := &Policy{
		methods:         make(map[string]struct{}),
		headers:         make(map[string]struct{}),
		credentials:     c.Credentials,
		privateNetwork:  c.PrivateNetwork,
		preflightStatus: DefaultPreflightStatus,
		passthrough:     c.PreflightPassthrough,
		preflightVary:   varyPreflight,
		sources:         c.Sources,
	}
	// Each regexp is compiled and judged once, below, not again by
	// CheckCombination.
	others := c
	others.OriginRegexps = nil
	errs := []error{c.CheckHasOrigin(), others.CheckCombination()}

	var patterns []origins.Pattern
	for _, o := range c.Origins {
		if o == "*" {
			p.anyOrigin = true
			continue
		}
		if err := checkPlaceholder(o); err != nil {
			errs = append(errs, err)
			continue
		}
		pattern, err := origins.ParsePattern(o)
		errs = append(errs, err)
		patterns = append(patterns, pattern)
	}
	var regexps []*origins.Regexp
	for _, expr := range c.OriginRegexps {
		re, err := origins.CompileRegexp(expr)
		errs = append(errs, err)
		if err == nil && c.Credentials {
			errs = append(errs, credentialedRegexpError(re))
		}
		regexps = append(regexps, re)
	}
	p.origins = origins.NewMatcher(patterns, regexps)

	for _, m := range c.Methods {
		if m == "*" {
			p.anyMethod = true
			continue
		}
		errs = append(errs, CheckMethod(m))
		p.methods[methods.Normalize(m)] = struct{}{}
	}
	for _, name := range c.Headers {
		if name == "*" {
			p.anyHeader = true
			continue
		}
		errs = append(errs, CheckHeader(name))
		p.headers[strings.ToLower(name)] = struct{}{}
	}
	for _, name := range c.Expose {
		errs = append(errs, CheckExpose(name))
	}
	p.exposeHeaders = strings.Join(c.Expose, ", ")

	if c.MaxAge != nil {
		errs = append(errs, CheckMaxAge(*c.MaxAge))
		p.maxAge = strconv.FormatInt(int64(*c.MaxAge/time.Second), 10)
	}
	if c.PreflightStatus != 0 {
		errs = append(errs, CheckPreflightStatus(c.PreflightStatus))
		p.preflightStatus = c.PreflightStatus
	}
	if c.PrivateNetwork {
		p.preflightVary = varyPreflightPrivateNetwork
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	p.buildAnswers()
	return p, nil
}

// PreflightStatus is the status of a successful preflight.
func (p *Policy) PreflightStatus() int { return p.preflightStatus }

// PreflightPassthrough reports whether allowed preflights go on to the
// next handler instead of being answered by the policy.
func (p *Policy) PreflightPassthrough() bool { return p.passthrough }

func (p *Policy) allowsMethod(method string) bool {
	_, ok := p.methods[method]
	return ok || p.anyMethod
}

// allowsHeader is given lower-case names. "*" covers every name but
// Authorization, which must be listed by name (Fetch: CORS non-wildcard
// request-header name, R31).
func (p *Policy) allowsHeader(name string) bool {
	if _, ok := p.headers[name]; ok {
		return true
	}
	return p.anyHeader && name != "authorization"
}
