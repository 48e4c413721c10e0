package policy

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/caddy-cors/cors/internal/headers"
	"github.com/caddy-cors/cors/internal/methods"
	"github.com/caddy-cors/cors/internal/origins"
)

// Kind is what a request is to CORS (R1-R3).
type Kind uint8

const (
	// NotCORS is a request without Origin.
	NotCORS Kind = iota
	// Actual is any request with Origin that is not a preflight, an OPTIONS
	// without Access-Control-Request-Method included.
	Actual
	// Preflight is an OPTIONS with Origin and Access-Control-Request-Method.
	Preflight
)

// Classify tells what kind of request has method and header h, and gives
// its Origin field lines, looked up once for the whole request. h must have
// canonical keys, as net/http gives them.
func Classify(method string, h http.Header) (Kind, []string) {
	origin, ok := h["Origin"]
	if !ok {
		return NotCORS, nil
	}
	if method != http.MethodOptions {
		return Actual, origin
	}
	if _, ok := h["Access-Control-Request-Method"]; ok {
		return Preflight, origin
	}
	return Actual, origin
}

// Reason is why a request was refused, as a short stable word for logs,
// placeholders and metrics.
type Reason string

const (
	ReasonOrigin    Reason = "origin"    // a well-formed origin the policy does not allow
	ReasonMalformed Reason = "malformed" // an Origin no browser would send
	ReasonMethod    Reason = "method"    // a preflight asking for a method not allowed
	ReasonHeader    Reason = "header"    // a preflight asking for a header not allowed
)

// Rejection says why a request gets no CORS headers. The zero value is no
// rejection: it is returned by value, so that deciding costs no allocation.
type Rejection struct {
	Reason Reason // empty: the request is allowed
	format string // what failed, with one %q for value, or none
	value  string // the request value at fault, as sent
	cause  error  // why an origin source could not answer, for the log only
}

// Cause is why an origin source could not answer, for the log line: it
// may name the source's endpoint or file, which the response never shows.
// It is nil for every other rejection.
func (r Rejection) Cause() error { return r.cause }

// Refused reports whether r is a rejection.
func (r Rejection) Refused() bool { return r.Reason != "" }

// MaxValueLen is how much of a request value a body or a log line shows.
const MaxValueLen = 64

// AppendMessage appends one line for people to b: which part failed and the
// request value at fault, cut to MaxValueLen visible ASCII bytes and quoted.
// It never shows the configured lists (R8). Given a b with room for
// MessageLen more bytes, it does not allocate.
func (r Rejection) AppendMessage(b []byte) []byte {
	before, after, found := strings.Cut(r.format, "%q")
	b = append(b, before...)
	if found {
		b = append(b, '"')
		b = AppendPrintable(b, r.value, MaxValueLen, true)
		b = append(b, '"')
	}
	return append(b, after...)
}

// MessageLen bounds the length of what AppendMessage appends.
func (r Rejection) MessageLen() int {
	// Each shown byte may be escaped (\" or \\), then the quotes and "...".
	return len(r.format) + 2*min(len(r.value), MaxValueLen) + len(`""...`)
}

// PreflightStatus is the status of the answer to a preflight refused for
// r. A refused origin gets 403 and learns nothing of the policy. An allowed
// origin gets 200: browsers check the status before the method and the
// headers, so only an ok status lets the console name the method or header
// that failed instead of blaming the status or the origin (R8).
func (r Rejection) PreflightStatus() int {
	switch r.Reason {
	case ReasonOrigin, ReasonMalformed, ReasonSourceBusy, ReasonSourceError:
		return http.StatusForbidden
	}
	return http.StatusOK
}

// Message is AppendMessage as a string.
func (r Rejection) Message() string {
	return string(r.AppendMessage(make([]byte, 0, r.MessageLen())))
}

func reject(reason Reason, format string, value string) Rejection {
	return Rejection{Reason: reason, format: format, value: value}
}

// Printable cuts a request value to limit bytes and replaces what is not
// visible ASCII, so a response body or a log line never carries the raw
// bytes a client sent.
func Printable(s string, limit int) string {
	clean := len(s) <= limit
	for i := 0; clean && i < len(s); i++ {
		clean = 0x20 <= s[i] && s[i] <= 0x7e
	}
	if clean {
		return s
	}
	return string(AppendPrintable(make([]byte, 0, min(len(s), limit)+len("...")), s, limit, false))
}

// AppendPrintable appends s to b as Printable shows it, with '"' and '\\'
// escaped as in a Go string literal when quoted.
func AppendPrintable(b []byte, s string, limit int, quoted bool) []byte {
	cut := len(s) > limit
	if cut {
		s = s[:limit]
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c > 0x7e:
			b = append(b, '?')
		case quoted && (c == '"' || c == '\\'):
			b = append(b, '\\', c)
		default:
			b = append(b, c)
		}
	}
	if cut {
		b = append(b, "..."...)
	}
	return b
}

// checkOrigin gives the Access-Control-Allow-Origin of a CORS request:
// "*" for a policy open to any origin, else the request's origin byte for
// byte (R9, R10). A request with several Origin lines is malformed (R15).
func (p *Policy) checkOrigin(values []string) (string, Rejection) {
	if p.anyOrigin {
		return "*", Rejection{}
	}
	if len(values) == 1 && p.origins.Allows(values[0]) {
		return values[0], Rejection{}
	}
	return p.checkUnlistedOrigin(values)
}

// checkUnlistedOrigin is checkOrigin for Origin lines that are not one
// origin the configuration allows: several lines, a malformed origin, or
// one the origin sources may still allow.
func (p *Policy) checkUnlistedOrigin(values []string) (string, Rejection) {
	if len(values) != 1 {
		return "", reject(ReasonMalformed, "the request has "+strconv.Itoa(len(values))+" Origin headers", "")
	}
	origin := values[0]
	o, ok := origins.Parse(origin)
	if !ok {
		return "", reject(ReasonMalformed, "origin %q is not a valid origin", origin)
	}
	if len(p.sources) != 0 {
		return p.askSources(origin, o)
	}
	return "", reject(ReasonOrigin, "origin %q is not allowed", origin)
}

// Actual answers a CORS request that is not a preflight, given its Origin
// field lines. A refused one still goes on to the next handler, without
// CORS headers (R46).
func (p *Policy) Actual(origin []string) (Answer, Rejection) {
	if p.anyOrigin {
		return p.NotCORS(), Rejection{}
	}
	// checkOrigin's steps, without passing its two results on in the
	// common case, one allowed origin (FuzzActual checks they agree).
	if len(origin) == 1 && p.origins.Allows(origin[0]) {
		return Answer{shape: &p.actualAllowed, origin: origin[0]}, Rejection{}
	}
	allowOrigin, rej := p.checkUnlistedOrigin(origin)
	if rej.Refused() {
		return Answer{shape: &p.actualRefused}, rej
	}
	return Answer{shape: &p.actualAllowed, origin: allowOrigin}, Rejection{}
}

// NotCORS answers a request without Origin.
func (p *Policy) NotCORS() Answer {
	return Answer{shape: &p.notCORS}
}

// buildAnswers builds the responses of the answers that do not depend on
// the request, but for the echoed origin. A policy open to any origin
// sends the same "*" to everyone, so caches need no Vary (R40, R43);
// otherwise Vary: Origin keeps a cached answer from reaching another origin
// (R41), refused or not.
func (p *Policy) buildAnswers() {
	if p.anyOrigin {
		p.notCORS = NewShape(Response{AllowOrigin: "*", ExposeHeaders: p.exposeHeaders})
		return
	}
	p.notCORS = NewShape(Response{Vary: varyOrigin})
	p.actualRefused = NewShape(Response{Vary: varyOrigin})
	p.actualAllowed = NewShape(Response{
		AllowCredentials: p.credentialsValue(),
		ExposeHeaders:    p.exposeHeaders,
		Vary:             varyOrigin,
	})
}

// Preflight answers a preflight request with Origin field lines origin and
// header h (R7-R36, R48). A refused one gets the headers of what it asked
// for that is allowed and nothing else, with the status
// Rejection.PreflightStatus gives (R8).
func (p *Policy) Preflight(origin []string, h http.Header) (Response, Rejection) {
	allowOrigin, rej := p.checkOrigin(origin)
	if rej.Refused() {
		// Not even the origin: nothing of the policy is shown (R8).
		return Response{Vary: p.preflightVary}, rej
	}
	response := Response{
		AllowOrigin:      allowOrigin,
		AllowCredentials: p.credentialsValue(),
		Vary:             p.preflightVary,
	}
	// Every part is checked whatever failed before it, so that the answer
	// lists all that is allowed; the rejection names the first part that
	// is not.
	response.AllowMethods, rej = p.checkMethod(h["Access-Control-Request-Method"])
	allowHeaders, rejected, err := headers.ParseRequestList(h["Access-Control-Request-Headers"], p.allowsHeader)
	response.AllowHeaders = allowHeaders
	switch {
	case rej.Refused():
	case err != nil:
		rej = reject(ReasonHeader, err.Error(), "")
	case rejected != "" && !headers.IsToken(rejected):
		rej = reject(ReasonHeader, "header %q is not a valid header name", rejected)
	case rejected != "":
		rej = reject(ReasonHeader, "header %q is not allowed", rejected)
	}
	// Without private_network, Access-Control-Request-Private-Network is
	// not read at all: an answer that depended on it would need Vary to
	// name it, or a shared cache could serve one browser's answer to
	// another (R48, R49). Only "true" asks for private network access.
	if pna := h["Access-Control-Request-Private-Network"]; p.privateNetwork && len(pna) == 1 && pna[0] == "true" {
		response.AllowPrivateNetwork = "true"
	}
	if !rej.Refused() {
		// Nothing about a refused preflight may be cached.
		response.MaxAge = p.maxAge
	}
	return response, rej
}

// checkMethod gives the Access-Control-Allow-Methods of an allowed
// preflight. Safelisted methods always pass and need no header (R5, R21);
// "*" is a wildcard to browsers only without credentials (R23), so with
// credentials the method is echoed. Browsers send exactly one token (R26).
func (p *Policy) checkMethod(values []string) (string, Rejection) {
	if len(values) != 1 {
		return "", reject(ReasonMethod, "the request has "+strconv.Itoa(len(values))+" Access-Control-Request-Method headers", "")
	}
	method := values[0]
	switch {
	case method == "":
		return "", reject(ReasonMethod, "Access-Control-Request-Method is empty", "")
	case !headers.IsToken(method):
		return "", reject(ReasonMethod, "method %q is not a valid method", method)
	case methods.IsSafelisted(method):
		return "", Rejection{}
	case !p.allowsMethod(method):
		return "", reject(ReasonMethod, "method %q is not allowed", method)
	case p.anyMethod && !p.credentials:
		return "*", Rejection{}
	}
	return method, Rejection{}
}

func (p *Policy) credentialsValue() string {
	if p.credentials {
		return "true"
	}
	return ""
}
