package corscheck

import (
	"github.com/caddy-cors/cors/internal/headers"

	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Check is one rule applied to a response, passed or failed, or a fact
// worth knowing (Result "info").
type Check struct {
	Rule   string `json:"rule"`
	Result string `json:"result"`
	Detail string `json:"detail"`
}

// Results of a Check.
const (
	Pass = "pass"
	Fail = "fail"
	Info = "info"
)

// Response header names of the CORS protocol.
const (
	allowOrigin      = "Access-Control-Allow-Origin"
	allowCredentials = "Access-Control-Allow-Credentials"
	allowMethods     = "Access-Control-Allow-Methods"
	allowHeaders     = "Access-Control-Allow-Headers"
	maxAgeHeader     = "Access-Control-Max-Age"
	exposeHeaders    = "Access-Control-Expose-Headers"
)

// fieldValue reads a response header the way Chromium does
// (HttpResponseHeaders::GetNormalizedHeader): several field lines are
// combined with ", ", so two Access-Control-Allow-Origin lines, even
// identical, read as "a, b".
func fieldValue(h http.Header, name string) (string, bool) {
	values := h.Values(name)
	if len(values) == 0 {
		return "", false
	}
	return strings.Join(values, ", "), true
}

// checkAccess is Fetch's "CORS check" in Chromium's order (CheckAccess in
// services/network/public/cpp/cors/cors.cc): Access-Control-Allow-Origin
// first, then, with credentials only, Access-Control-Allow-Credentials.
func checkAccess(h http.Header, origin string, credentials, preflight bool) ([]Check, *Failure) {
	fail := func(kind ErrorKind, hint string) *Failure {
		return &Failure{Kind: kind, Preflight: preflight, Hint: hint}
	}
	value, present := fieldValue(h, allowOrigin)
	var failure *Failure
	var checks []Check
	switch {
	case present && value == "*":
		if credentials {
			failure = fail(WildcardOriginNotAllowed, "")
			checks = append(checks, Check{allowOrigin, Fail,
				"`*` never allows a request with credentials, even with Access-Control-Allow-Credentials: true; the server must echo the origin"})
		} else {
			checks = append(checks, Check{allowOrigin, Pass, "`*` allows any origin for a request without credentials"})
		}
	case !present:
		failure = fail(MissingAllowOriginHeader, "")
		checks = append(checks, Check{allowOrigin, Fail, "absent"})
	case value != origin:
		switch {
		// Chromium tells a list apart by a space or a comma in the value.
		case strings.ContainsAny(value, " ,"):
			failure = fail(MultipleAllowOriginValues, value)
			checks = append(checks, Check{allowOrigin, Fail, multipleValuesReason(h.Values(allowOrigin), value)})
		case value == "null" || looksLikeURL(value):
			failure = fail(AllowOriginMismatch, value)
			checks = append(checks, Check{allowOrigin, Fail, "\"" + printable(value) + "\" " + mismatchReason(value, origin)})
		default:
			failure = fail(InvalidAllowOriginValue, value)
			checks = append(checks, Check{allowOrigin, Fail, "\"" + printable(value) + "\" is neither `*` nor an origin"})
		}
	default:
		checks = append(checks, Check{allowOrigin, Pass, "equals the origin byte for byte"})
	}

	if failure == nil && credentials {
		// Fetch: exactly `true`, case-sensitive; `True` or `1` count as absent.
		if v, _ := fieldValue(h, allowCredentials); v != "true" {
			failure = fail(InvalidAllowCredentials, v)
			checks = append(checks, Check{allowCredentials, Fail, "is \"" + printable(v) + "\"; a request with credentials needs exactly \"true\""})
		} else {
			checks = append(checks, Check{allowCredentials, Pass, "true, as a request with credentials needs"})
		}
	}
	return checks, failure
}

func multipleValuesReason(lines []string, combined string) string {
	if len(lines) > 1 {
		return strconv.Itoa(len(lines)) + " field lines, read together as \"" + printable(combined) +
			"\": only one value is allowed (two layers each add the header)"
	}
	return "\"" + printable(combined) + "\" is a list: only one origin is allowed, the one that made the request"
}

// looksLikeURL approximates Chromium's GURL validity, which decides
// between "invalid value" and "not equal to the supplied origin".
func looksLikeURL(value string) bool {
	u, err := url.Parse(value)
	return err == nil && u.Scheme != "" && (u.Host != "" || u.Opaque != "")
}

// mismatchReason names the near misses people make when configuring an origin.
func mismatchReason(got, origin string) string {
	switch {
	case got == "null":
		return "is the opaque origin, not " + origin
	case strings.HasPrefix(got, origin+"/"):
		return "is the origin with a trailing slash or path; an origin never has one"
	case strings.EqualFold(got, origin):
		return "differs from " + origin + " only in case; the comparison is byte for byte"
	}
	if canonical, err := serializeOrigin(strings.ToLower(got)); err == nil && canonical == origin {
		return "is " + origin + " spelt differently (case, default port, trailing slash); the comparison is byte for byte"
	}
	return "is another origin than " + origin
}

// PreflightOutcome is what the response to the preflight decides.
type PreflightOutcome struct {
	Checks []Check
	// Failure is the first failed check in Chromium's order, or nil.
	Failure *Failure
}

// isRedirect matches what the network stack follows as a redirect.
func isRedirect(status int, h http.Header) bool {
	switch status {
	case 301, 302, 303, 307, 308:
		return h.Get("Location") != ""
	}
	return false
}

// checkPreflight applies Fetch's CORS-preflight fetch (step 7) to the
// response, in Chromium's order: a redirect fails at once, then the CORS
// check, then the ok status, then the parse of Access-Control-Allow-Methods
// and -Headers, then the method, then each header. Checks after the first
// failure are still reported (the browser stops at the first).
// requestHeaderNames are the CORS-unsafe names in the order the script set them.
func checkPreflight(status int, h http.Header, origin, method string, requestHeaderNames []string, credentials bool) PreflightOutcome {
	var out PreflightOutcome
	record := func(c Check, f *Failure) {
		out.Checks = append(out.Checks, c)
		if f != nil && out.Failure == nil {
			f.Preflight = true // a refused method or header too: the cors module's body says why
			out.Failure = f
		}
	}

	if isRedirect(status, h) {
		record(Check{"status", Fail, strconv.Itoa(status) + " redirect to " + printable(h.Get("Location")) +
			": browsers never follow a redirect of a preflight"}, &Failure{Kind: PreflightDisallowedRedirect, Preflight: true})
		return out
	}

	checks, failure := checkAccess(h, origin, credentials, true)
	for i, c := range checks {
		if i == len(checks)-1 {
			record(c, failure)
		} else {
			record(c, nil)
		}
	}

	// Fetch: an ok status is 200-299; Chromium checks it after the CORS check.
	if status >= 200 && status <= 299 {
		record(Check{"status", Pass, strconv.Itoa(status) + " is an ok status (200-299)"}, nil)
	} else {
		record(Check{"status", Fail, strconv.Itoa(status) + " is not an ok status (200-299)"},
			&Failure{Kind: PreflightInvalidStatus, Preflight: true})
	}

	methodsValue, _ := fieldValue(h, allowMethods)
	methods, methodsOK := parseAllowList(methodsValue, false)
	if !methodsOK {
		record(Check{allowMethods, Fail, "\"" + printable(methodsValue) + "\" holds a value that is not a token"}, &Failure{Kind: InvalidAllowMethods})
	}
	headersValue, _ := fieldValue(h, allowHeaders)
	headers, headersOK := parseAllowList(headersValue, true)
	if !headersOK {
		record(Check{allowHeaders, Fail, "\"" + printable(headersValue) + "\" holds a value that is not a token"}, &Failure{Kind: InvalidAllowHeaders})
	}

	if methodsOK {
		record(checkMethod(method, methods, methodsValue, credentials))
	}
	if headersOK {
		for _, c := range checkHeaders(requestHeaderNames, headers, headersValue, credentials) {
			record(c.check, c.failure)
		}
	}
	return out
}

// parseAllowList parses Access-Control-Allow-Methods or -Headers as
// Chromium does: a comma-separated list, white space trimmed, empty
// elements ignored, every element a token, or the whole header fails.
func parseAllowList(value string, lowerCase bool) ([]string, bool) {
	var list []string
	for _, element := range strings.Split(value, ",") {
		element = strings.Trim(element, " \t")
		if element == "" {
			continue
		}
		if !headers.IsToken(element) {
			return nil, false
		}
		if lowerCase {
			element = strings.ToLower(element)
		}
		list = append(list, element)
	}
	return list, true
}

// checkMethod: safelisted methods always pass (Fetch step 7.5), `*` is a
// wildcard only without credentials (R23), and the comparison is byte for
// byte (R22; Chromium's spec-conformant default since version 109).
func checkMethod(method string, allowed []string, raw string, credentials bool) (Check, *Failure) {
	switch {
	case isSafelistedMethod(method):
		return Check{allowMethods, Pass, method + " is CORS-safelisted and needs no listing"}, nil
	case slices.Contains(allowed, method):
		return Check{allowMethods, Pass, "lists " + method}, nil
	case !credentials && slices.Contains(allowed, "*"):
		return Check{allowMethods, Pass, "`*` allows any method for a request without credentials"}, nil
	}
	failure := &Failure{Kind: MethodDisallowedByPreflight, Hint: method}
	detail := "\"" + printable(raw) + "\" does not list " + method
	switch {
	case raw == "":
		detail = "absent, so only GET, HEAD and POST are allowed"
	case slices.ContainsFunc(allowed, func(m string) bool { return strings.EqualFold(m, method) }):
		detail += ": methods are compared byte for byte, and a browser upper-cases only DELETE GET HEAD OPTIONS POST PUT"
	case credentials && slices.Contains(allowed, "*"):
		detail += ": with credentials `*` is a literal method name, not a wildcard"
	}
	return Check{allowMethods, Fail, detail}, failure
}

type headerCheck struct {
	check   Check
	failure *Failure
}

// checkHeaders: every CORS-unsafe request-header name must be listed
// (case-insensitively); `*` covers all but Authorization, and only without
// credentials (Fetch step 7.6-7.7, R31, R32).
func checkHeaders(names, allowed []string, raw string, credentials bool) []headerCheck {
	if len(names) == 0 {
		return nil
	}
	wildcard := !credentials && slices.Contains(allowed, "*")
	var out []headerCheck
	for _, name := range names {
		switch {
		case slices.Contains(allowed, name):
			out = append(out, headerCheck{Check{allowHeaders, Pass, "lists " + name}, nil})
		case wildcard && name != "authorization":
			out = append(out, headerCheck{Check{allowHeaders, Pass, "`*` covers " + name + " for a request without credentials"}, nil})
		default:
			detail := "\"" + printable(raw) + "\" does not list " + name
			switch {
			case raw == "":
				detail = "absent, so no CORS-unsafe header is allowed; " + name + " is needed"
			case wildcard:
				detail += ": `*` never covers Authorization in the Fetch standard and Firefox; " +
					"Chromium still lets it through with a deprecation warning, so do not rely on it"
			case credentials && slices.Contains(allowed, "*"):
				detail += ": with credentials `*` is a literal header name, not a wildcard"
			}
			out = append(out, headerCheck{Check{allowHeaders, Fail, detail}, &Failure{Kind: HeaderDisallowedByPreflight, Hint: name}})
		}
	}
	return out
}
