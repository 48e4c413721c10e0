// Package policy is one CORS policy: its configuration, checked when it
// loads, and what it answers to each request.
package policy

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/caddy-cors/cors/internal/headers"
	"github.com/caddy-cors/cors/internal/methods"
	"github.com/caddy-cors/cors/internal/origins"
)

// Config is a CORS policy as written in a configuration. The zero value
// allows nothing and is refused: a policy names at least one origin.
type Config struct {
	Origins              []string       // exact origins, "*", subdomain and port patterns
	OriginRegexps        []string       // RE2, matched against the whole origin
	Methods              []string       // methods allowed in preflights, "*" for any
	Headers              []string       // request headers allowed in preflights, "*" for any but Authorization
	Expose               []string       // response headers readable by scripts
	Credentials          bool           // send Access-Control-Allow-Credentials: true
	MaxAge               *time.Duration // nil: no Access-Control-Max-Age
	PrivateNetwork       bool           // answer Private Network Access preflights
	PreflightStatus      int            // 0: 204
	PreflightPassthrough bool           // hand allowed preflights on to the next handler
	Sources              []Source       // asked in order about origins the above do not allow
}

// Each value of a configuration has one check, shared by the Caddyfile
// parser (so that its errors carry a file and line) and New (so that a
// JSON configuration gets the same errors).

// CheckOrigin checks one configured origin.
func CheckOrigin(origin string) error {
	if origin == "*" {
		return nil
	}
	if err := checkPlaceholder(origin); err != nil {
		return err
	}
	_, err := origins.ParsePattern(origin)
	return err
}

// checkPlaceholder explains an origin that is, or holds, a placeholder
// left as written. Origins are fixed when the configuration loads, so a
// request placeholder can never be one, and an environment variable is
// read where the configuration is: {$NAME} in a Caddyfile, which Caddy
// replaces as it reads the file, and {env.NAME} in JSON, which the module
// replaces as the handler loads.
func checkPlaceholder(origin string) error {
	open := strings.IndexByte(origin, '{')
	end := strings.IndexByte(origin[max(open, 0):], '}')
	if open < 0 || end < 0 {
		return nil
	}
	placeholder := origin[open : open+end+1]
	if name, ok := strings.CutPrefix(placeholder[1:len(placeholder)-1], "env."); ok {
		return fmt.Errorf("origin %q: the placeholder %s is not replaced in a Caddyfile; to take origins from the environment write {$%s}, which Caddy replaces as it reads the Caddyfile (several origins in the variable are separated by spaces)", origin, placeholder, name)
	}
	return fmt.Errorf("origin %q holds the placeholder %s, which has no value when the configuration loads: origins are fixed then; to take them from the environment write {$CORS_ORIGINS} in a Caddyfile, {env.CORS_ORIGINS} in JSON", origin, placeholder)
}

// CheckOriginRegexp checks one configured origin regular expression.
func CheckOriginRegexp(expr string) error {
	_, err := origins.CompileRegexp(expr)
	return err
}

// CheckMethod checks one configured method.
func CheckMethod(method string) error {
	if method == "*" {
		return nil
	}
	return methods.Check(method)
}

// CheckHeader checks one configured request header name.
func CheckHeader(name string) error {
	if name == "*" {
		return nil
	}
	return headers.CheckRequestHeaderName(name)
}

// CheckExpose checks one configured exposed response header name.
func CheckExpose(name string) error {
	if name == "*" {
		return nil
	}
	return headers.CheckResponseHeaderName(name)
}

// maxMaxAge is the longest any browser keeps a preflight (Firefox).
const maxMaxAge = 24 * time.Hour

// CheckMaxAge checks the preflight cache duration (R35): whole seconds
// from 0 to 24h, the longest any browser keeps a preflight.
func CheckMaxAge(d time.Duration) error {
	switch {
	case d < 0:
		return errMaxAgeNegative(formatDuration(d))
	case d > maxMaxAge:
		return errMaxAgeTooLong(formatDuration(d))
	case d > 0 && d <= 24*60*60:
		// Most likely a bare JSON number of seconds, which caddy.Duration
		// reads as nanoseconds.
		return fmt.Errorf("max_age %s is less than a second (Access-Control-Max-Age counts whole seconds); a bare number in JSON counts nanoseconds, so for %d seconds write \"%ds\"", d, d.Nanoseconds(), d.Nanoseconds())
	case d%time.Second != 0:
		return fmt.Errorf("max_age %s is not a whole number of seconds (Access-Control-Max-Age counts seconds): write %s", d, formatDuration(max(d.Round(time.Second), time.Second)))
	}
	return nil
}

// ParseMaxAgeSeconds reads max_age written as a whole number of seconds,
// as Access-Control-Max-Age and other CORS libraries count it, and checks
// it like CheckMaxAge. A number too large for a duration is refused as
// above 24h, never wrapped around into an accepted value. isNumber is
// false when s is not a decimal integer at all.
func ParseMaxAgeSeconds(s string) (d time.Duration, isNumber bool, err error) {
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case errors.Is(err, strconv.ErrRange) && strings.HasPrefix(s, "-"), err == nil && n < 0:
		return 0, true, errMaxAgeNegative(strings.TrimPrefix(s, "+") + "s")
	case errors.Is(err, strconv.ErrRange), err == nil && n > int64(maxMaxAge/time.Second):
		return 0, true, errMaxAgeTooLong(strings.TrimPrefix(s, "+") + "s")
	case err != nil:
		return 0, false, nil
	}
	return time.Duration(n) * time.Second, true, nil
}

func errMaxAgeNegative(value string) error {
	return fmt.Errorf("max_age %s is negative: use 0 to tell browsers not to cache preflights", value)
}

func errMaxAgeTooLong(value string) error {
	return fmt.Errorf("max_age %s is more than 24h, longer than any browser keeps a preflight (Chromium 2h, Firefox 24h, Safari 10m): use at most 2h", value)
}

// formatDuration writes d without Go's trailing zero units: 3h, not 3h0m0s.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// CheckPreflightStatus checks the status of successful preflights: browsers
// accept only an ok status, 200-299 (R7).
func CheckPreflightStatus(status int) error {
	if status < 200 || status > 299 {
		return fmt.Errorf("preflight_status %d is not a success status: browsers fail a preflight answered with anything outside 200-299, use 204 or 200", status)
	}
	return nil
}

// CheckCombination refuses settings that cannot work together. It looks at
// the configuration so far, so the Caddyfile parser can call it after each
// line and name the line that made the combination.
func (c Config) CheckCombination() error {
	if !c.Credentials {
		return nil
	}
	var errs []error
	for _, expr := range c.OriginRegexps {
		if re, err := origins.CompileRegexp(expr); err == nil {
			// One that does not compile is CheckOriginRegexp's error,
			// not a second one here.
			errs = append(errs, credentialedRegexpError(re))
		}
	}
	for _, o := range c.Origins {
		if o == "*" {
			errs = append(errs, errors.New("origins * cannot be combined with credentials (in JSON, allowed_origins [\"*\"] with allow_credentials): browsers refuse Access-Control-Allow-Origin: * on credentialed requests, and reflecting any origin with credentials would let every site read your users' data; list the exact origins of your frontends"))
			break
		}
	}
	for _, name := range c.Expose {
		if name == "*" {
			errs = append(errs, errors.New("expose * cannot be combined with credentials (in JSON, exposed_headers [\"*\"] with allow_credentials): on credentialed requests browsers read * as a header literally named \"*\"; list the response headers to expose"))
			break
		}
	}
	return errors.Join(errs...)
}

// ErrNoOrigin is the error of a policy that names no origin: CORS denies
// by default, and a policy that can allow nobody is a mistake. Origins
// kept in an environment variable vanish without a trace when it is
// empty or unset, so the message names that cause too.
var ErrNoOrigin = errors.New("no origin is allowed: list the origins of your frontends (origins https://app.example.com, in JSON \"allowed_origins\"), or write origins * for a public API; " + emptyVariable)

// errNoOriginWithCredentials is ErrNoOrigin for a policy with credentials,
// where origins * would be refused in turn.
var errNoOriginWithCredentials = errors.New("no origin is allowed: list the origins of your frontends (origins https://app.example.com, in JSON \"allowed_origins\"); origins * cannot serve credentials, since it would let every site read your users' data; " + emptyVariable)

const emptyVariable = "if the origins come from an environment variable such as {$CORS_ORIGINS} (in JSON {env.CORS_ORIGINS}), it was empty or unset"

// CheckHasOrigin refuses a configuration with no origin at all.
func (c Config) CheckHasOrigin() error {
	switch {
	case len(c.Origins) != 0 || len(c.OriginRegexps) != 0 || len(c.Sources) != 0:
		return nil
	case c.Credentials:
		return errNoOriginWithCredentials
	}
	return ErrNoOrigin
}

// Warning is a setting that loads but is probably not what the user
// wants. Setting and Value name what it is about, so that the Caddyfile
// parser can give the line where that value was written.
type Warning struct {
	Setting string // the Caddyfile subdirective: "origins", "methods", "max_age", ...
	Value   string // the value in question; empty for a flag or a duration
	Message string
}

// Warnings lists what is allowed but probably not what the user wants.
func (c Config) Warnings() []Warning {
	var warnings []Warning
	warn := func(setting, value, message string) {
		warnings = append(warnings, Warning{Setting: setting, Value: value, Message: message})
	}
	anyOrigin := false
	for _, o := range c.Origins {
		if o == "*" {
			anyOrigin = true
			continue
		}
		p, err := origins.ParsePattern(o)
		if err == nil && c.Credentials && p.Scheme == "http" && !isLoopback(p.Host) {
			warn("origins", o, fmt.Sprintf("origin %q is plain http and credentials are allowed: anyone on the network path can pose as it and read credentialed responses; use https", o))
		}
	}
	for _, expr := range c.OriginRegexps {
		re, err := origins.CompileRegexp(expr)
		switch {
		case err != nil:
		case !c.Credentials:
			if err := re.CheckHosts(); err != nil {
				warn("origin_regexp", expr, err.Error()+"; it would be refused together with credentials")
			}
		case re.CanMatchPlainHTTP(isLoopback):
			warn("origin_regexp", expr, fmt.Sprintf("origin_regexp %q can match plain http origins and credentials are allowed: anyone on the network path can pose as them and read credentialed responses; match https:// only", expr))
		}
	}
	for _, m := range c.Methods {
		if methods.Normalize(m) == m && strings.ToUpper(m) != m {
			warn("methods", m, fmt.Sprintf("method %q is not upper case and not one of the six names browsers upper-case (DELETE GET HEAD OPTIONS POST PUT): browsers send it exactly as the script wrote it, so fetch(url, {method: %q}) will be refused; write %q if that is what your scripts send", m, strings.ToUpper(m), strings.ToUpper(m)))
		}
	}
	if anyOrigin && len(c.Origins)+len(c.OriginRegexps) > 1 {
		warn("origins", "*", "origins * allows every origin: the other origins listed make no difference")
	}
	if c.MaxAge != nil && *c.MaxAge > 2*time.Hour {
		warn("max_age", "", fmt.Sprintf("max_age %s is more than 2h: Chromium keeps a preflight at most 2h and Safari 10m, so they ignore the rest", formatDuration(*c.MaxAge)))
	}
	if c.PrivateNetwork {
		warn("private_network", "", "private_network answers Private Network Access preflights, which only older Chromium sends: Chrome removed them in 2025 in favour of Local Network Access, a permission the user grants in the browser and that no response header can give; Firefox and Safari send no such preflight")
	}
	return warnings
}

// credentialedRegexpError refuses, together with credentials, a regexp
// that can match hosts outside a domain its author controls.
func credentialedRegexpError(re *origins.Regexp) error {
	if err := re.CheckHosts(); err != nil {
		return fmt.Errorf("credentials are allowed, and %w; with credentials such a regexp would let those sites read your users' data", err)
	}
	return nil
}

func isLoopback(host string) bool {
	host = strings.TrimSuffix(host, ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && ip.IsLoopback()
}
