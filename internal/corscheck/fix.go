package corscheck

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// corsModuleRejection starts the body of a preflight the cors module refuses.
const corsModuleRejection = "CORS preflight rejected"

// suggestFix is the likely fix for f, in one line, naming the cors
// directive where it is the remedy.
func suggestFix(f Failure, origin, method string, e *Exchange, d PreflightDecision) string {
	var status int
	var body string
	h := http.Header{}
	if e != nil {
		status, body = e.Status, e.bodyLine
		if e.header != nil {
			h = e.header
		}
	}
	fix := fixFor(f, origin, method, status, h, d)

	// The cors module says in the body of a refused preflight what it
	// refused: with 403 and no CORS header when the origin is refused (an
	// older version of the module answered every refusal so), with 200 and
	// only the allowed part of the request when a method or header is.
	if f.Preflight && strings.HasPrefix(body, corsModuleRejection) {
		why := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(body, corsModuleRejection), ":"))
		refused := "the cors module refused the preflight (" + printable(why) + "): "
		switch {
		case f.Kind == MethodDisallowedByPreflight || f.Kind == HeaderDisallowedByPreflight:
			return refused + fix
		case strings.HasPrefix(why, "origin "):
			// Refusing an origin is what the policy is for: only the
			// user knows whether this one should be let in.
			return refused + "if this origin should be allowed, add it to `origins` in the `cors` directive"
		case strings.HasPrefix(why, "method "):
			return refused + methodFix(method, http.Header{})
		}
		return refused + "if the request should be allowed, add what it names to the `cors` directive (origins, methods or headers)"
	}
	return fix
}

// methodFix is the fix for a preflight whose method is not in
// Access-Control-Allow-Methods (h).
func methodFix(method string, h http.Header) string {
	upper := strings.ToUpper(method)
	if upper == method {
		return "add " + printable(method) + " to `methods` in the `cors` directive"
	}
	// Fetch upper-cases only DELETE GET HEAD OPTIONS POST PUT: any other
	// method reaches the server as the script wrote it, and the cors
	// directive warns at load against a method written in lower case.
	why := "browsers send the method as the script wrote it (they upper-case only DELETE GET HEAD OPTIONS POST PUT), " +
		"and methods are case-sensitive: "
	allowed, _ := fieldValue(h, allowMethods)
	list, _ := parseAllowList(allowed, false)
	if slices.Contains(list, upper) {
		return why + "the server allows " + printable(upper) + ", so write " + printable(upper) + " in the script (fetch(url, {method: \"" + printable(upper) + "\"}))"
	}
	return why + "write " + printable(upper) + " in the script (fetch(url, {method: \"" + printable(upper) + "\"})) and add " +
		printable(upper) + " to `methods` in the `cors` directive"
}

// fixFor is the fix for the kind of failure, whatever server answered.
func fixFor(f Failure, origin, method string, status int, h http.Header, d PreflightDecision) string {
	hint := printable(f.Hint)
	switch f.Kind {
	case PreflightDisallowedRedirect:
		return fmt.Sprintf("the preflight was redirected (%d to %s): fetch the final URL directly (scheme, host, trailing slash), "+
			"or let `cors` answer OPTIONS before `redir` and HTTPS redirects (the cors directive is ordered before redir by default)",
			status, printable(h.Get("Location")))

	case MissingAllowOriginHeader, PreflightInvalidStatus:
		if origin == "null" {
			return "the page has an opaque origin (null: a sandboxed iframe, a file: page, or a request after a cross-origin redirect): " +
				"serve it from a real origin; allowing `null` would admit any sandboxed page, so the cors directive refuses it at load"
		}
		if f.Preflight || f.Kind == PreflightInvalidStatus {
			if fix := preflightStatusFix(status); fix != "" {
				return fix
			}
			return "the preflight got no Access-Control-Allow-Origin: the origin is not allowed; if it should be, add it to `cors` exactly as the browser sends it " +
				"(scheme://host[:port], no trailing slash), and check that the `cors` matcher covers OPTIONS on this path"
		}
		return "the response has no Access-Control-Allow-Origin: if this origin should be allowed, add it to `cors` (scheme://host[:port]); " +
			"the cors directive then adds it to every response of the route, errors and upstream responses included, so check that its matcher covers " +
			method + " on this path"

	case MultipleAllowOriginValues:
		if parts := strings.Split(f.Hint, ","); len(h.Values(allowOrigin)) > 1 || len(parts) > 1 && allSame(parts) {
			return "two layers each add Access-Control-Allow-Origin (an app behind reverse_proxy and the proxy, or two CORS configs): keep one; " +
				"the cors directive replaces an upstream's CORS headers, elsewhere drop them with `header_down -Access-Control-Allow-Origin`"
		}
		return "the server sends a list of origins: it must echo only the origin that asked; list the origins in `cors`, which echoes the matching one"

	case WildcardOriginNotAllowed:
		return "with credentials the server must echo the origin, not `*`: list the origins in `cors` together with `credentials` " +
			"(the module refuses `origins *` with `credentials` at load), or stop sending credentials from the script"

	case InvalidAllowOriginValue:
		return "Access-Control-Allow-Origin must be `*` or one serialized origin (scheme://host[:port]); let the cors directive write it"

	case AllowOriginMismatch:
		if f.Hint == "null" {
			return "the server answers `null`: it must echo " + origin + "; configure the origin in `cors` instead"
		}
		return "the server allows " + hint + ", not " + origin + ": configure the origin exactly as the browser sends it " +
			"(the cors directive refuses trailing slashes, paths and upper case at load, and echoes the request's own Origin)"

	case InvalidAllowCredentials:
		return "add `credentials` to the `cors` directive (it sends Access-Control-Allow-Credentials: true), or stop sending credentials from the script"

	case InvalidAllowMethods, InvalidAllowHeaders:
		return "the list must hold tokens separated by commas only; let the cors directive write it"

	case MethodDisallowedByPreflight:
		return methodFix(f.Hint, h)

	case HeaderDisallowedByPreflight:
		allowed, _ := fieldValue(h, allowHeaders)
		list, _ := parseAllowList(allowed, true)
		if f.Hint == "authorization" && slices.Contains(list, "*") {
			return "`*` does not cover Authorization: list it as well, e.g. `headers * Authorization` in the `cors` directive"
		}
		if f.Hint == "content-type" {
			for _, hv := range d.Headers {
				if hv.Name == "content-type" {
					return "Content-Type: " + hv.Value + " is not safelisted, so it must be allowed: add Content-Type to `headers` in the `cors` directive"
				}
			}
		}
		return "add " + hint + " to `headers` in the `cors` directive"
	}
	return ""
}

// preflightStatusFix explains the usual reason for a preflight's status.
func preflightStatusFix(status int) string {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusProxyAuthRequired:
		return fmt.Sprintf("the preflight met authentication (%d): a preflight never carries credentials; put `cors` before auth "+
			"(the cors directive is ordered before basic_auth and forward_auth by default)", status)
	case status == http.StatusForbidden:
		return "the preflight was refused (403) without CORS headers: if this origin should be allowed, add it to `cors` exactly as the browser sends it, " +
			"and check that no WAF, IP filter or auth layer answers OPTIONS before `cors`"
	case status == http.StatusNotFound || status == http.StatusMethodNotAllowed || status == http.StatusNotImplemented:
		return fmt.Sprintf("nothing answered OPTIONS (%d): let `cors` answer preflights; its matcher must match OPTIONS too, "+
			"and without `preflight_passthrough` the app never sees them", status)
	case status >= 500:
		return fmt.Sprintf("the preflight reached a failing backend (%d): answer preflights with `cors` in front of reverse_proxy "+
			"(the cors directive is ordered before it by default)", status)
	case status >= 300 && status < 400:
		return fmt.Sprintf("the preflight got %d, not an ok status: let `cors` answer OPTIONS before any cache or redirect", status)
	}
	return ""
}

func allSame(values []string) bool {
	for _, v := range values {
		if strings.TrimSpace(v) != strings.TrimSpace(values[0]) {
			return false
		}
	}
	return true
}
