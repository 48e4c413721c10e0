package corscheck

import (
	"net/http"
	"strconv"
	"strings"
)

// ErrorKind names a failed CORS check as Chromium's network::mojom::CorsError
// does (and DevTools' Issues panel, without the Preflight prefix that
// Failure.Name adds).
type ErrorKind string

// The kinds this tool can meet, in the order Chromium looks for them.
const (
	PreflightDisallowedRedirect ErrorKind = "DisallowedRedirect"
	WildcardOriginNotAllowed    ErrorKind = "WildcardOriginNotAllowed"
	MissingAllowOriginHeader    ErrorKind = "MissingAllowOriginHeader"
	MultipleAllowOriginValues   ErrorKind = "MultipleAllowOriginValues"
	InvalidAllowOriginValue     ErrorKind = "InvalidAllowOriginValue"
	AllowOriginMismatch         ErrorKind = "AllowOriginMismatch"
	InvalidAllowCredentials     ErrorKind = "InvalidAllowCredentials"
	PreflightInvalidStatus      ErrorKind = "InvalidStatus"
	InvalidAllowMethods         ErrorKind = "InvalidAllowMethodsPreflightResponse"
	InvalidAllowHeaders         ErrorKind = "InvalidAllowHeadersPreflightResponse"
	MethodDisallowedByPreflight ErrorKind = "MethodDisallowedByPreflightResponse"
	HeaderDisallowedByPreflight ErrorKind = "HeaderDisallowedByPreflightResponse"
)

// Failure is the first CORS check a response fails, with what Chromium
// calls the failed parameter.
type Failure struct {
	Kind ErrorKind
	// Preflight: found in the response to the preflight, not the actual one.
	Preflight bool
	// Hint is the value Chromium quotes in its message (the header value,
	// the method, the header name).
	Hint string
	// HeaderAsSet is the refused header's name as the script wrote it,
	// which WebKit quotes (Chromium and Firefox quote it lower-cased).
	HeaderAsSet string
}

// Name is the CorsError name as Chromium and DevTools spell it.
func (f Failure) Name() string {
	switch f.Kind {
	case PreflightDisallowedRedirect, PreflightInvalidStatus:
		return "Preflight" + string(f.Kind)
	case WildcardOriginNotAllowed, MissingAllowOriginHeader, MultipleAllowOriginValues,
		InvalidAllowOriginValue, AllowOriginMismatch, InvalidAllowCredentials:
		if f.Preflight {
			return "Preflight" + string(f.Kind)
		}
	}
	return string(f.Kind)
}

// prefixedAsPreflight mirrors IsPreflightError in Blink's
// cors_error_string.cc: only these kinds get "Response to preflight request
// doesn't pass access control check: "; method and header failures do not.
func (f Failure) prefixedAsPreflight() bool {
	return strings.HasPrefix(f.Name(), "Preflight")
}

// noCorsSuggestion is what Blink appends to a wrong
// Access-Control-Allow-Origin value (measured in Chromium 156, which no
// longer suggests mode 'no-cors').
const noCorsSuggestion = " Have the server send the header with a valid value."

// ConsoleMessage is what b prints in the console for a fetch() from origin
// to url that fails with f, e being the exchange that failed; a message
// of several lines has them separated by "\n". It is "" when cors-check
// does not know b's text for f. The texts are those measured in Chromium
// 156, Firefox 153 and WebKitGTK 2.50 (integration/testdata/console-messages.md);
// Chromium's other texts come from Blink's source.
func (f Failure) ConsoleMessage(b Browser, url, origin string, e *Exchange) string {
	f.Hint = printable(f.Hint)
	f.HeaderAsSet = printable(f.HeaderAsSet)
	var status int
	var h http.Header
	if e != nil {
		status, h = e.Status, e.header
	}
	switch b {
	case Firefox:
		return f.firefoxConsoleMessage(url, status, h)
	case WebKit:
		return f.webKitConsoleMessage(url, origin, status)
	}
	return f.chromiumConsoleMessage(url, origin)
}

// chromiumConsoleMessage: wordings from Blink's
// third_party/blink/renderer/platform/loader/cors/cors_error_string.cc.
func (f Failure) chromiumConsoleMessage(url, origin string) string {
	var b strings.Builder
	b.WriteString("Access to fetch at '" + url + "' from origin '" + origin + "' has been blocked by CORS policy: ")
	if f.prefixedAsPreflight() {
		b.WriteString("Response to preflight request doesn't pass access control check: ")
	}
	switch f.Kind {
	case WildcardOriginNotAllowed:
		b.WriteString("The value of the 'Access-Control-Allow-Origin' header in the response must not be " +
			"the wildcard '*' when the request's credentials mode is 'include'.")
	case MissingAllowOriginHeader:
		b.WriteString("No 'Access-Control-Allow-Origin' header is present on the requested resource.")
	case MultipleAllowOriginValues:
		b.WriteString("The 'Access-Control-Allow-Origin' header contains multiple values '" + f.Hint +
			"', but only one is allowed." + noCorsSuggestion)
	case InvalidAllowOriginValue:
		b.WriteString("The 'Access-Control-Allow-Origin' header contains the invalid value '" + f.Hint + "'." + noCorsSuggestion)
	case AllowOriginMismatch:
		b.WriteString("The 'Access-Control-Allow-Origin' header has a value '" + f.Hint +
			"' that is not equal to the supplied origin." + noCorsSuggestion)
	case InvalidAllowCredentials:
		b.WriteString("The value of the 'Access-Control-Allow-Credentials' header in the response is '" + f.Hint +
			"' which must be 'true' when the request's credentials mode is 'include'.")
	case PreflightInvalidStatus:
		b.WriteString("It does not have HTTP ok status.")
	case PreflightDisallowedRedirect:
		b.WriteString("Redirect is not allowed for a preflight request.")
	case InvalidAllowMethods:
		b.WriteString("Cannot parse Access-Control-Allow-Methods response header field in preflight response.")
	case InvalidAllowHeaders:
		b.WriteString("Cannot parse Access-Control-Allow-Headers response header field in preflight response.")
	case MethodDisallowedByPreflight:
		b.WriteString("Method " + f.Hint + " is not allowed by Access-Control-Allow-Methods in preflight response.")
	case HeaderDisallowedByPreflight:
		b.WriteString("Request header field " + f.Hint + " is not allowed by Access-Control-Allow-Headers in preflight response.")
	}
	return b.String()
}

// localNetworkAccessDenied is what Chromium prints when the user (or a
// policy) denies a public page the Local Network Access permission, for a
// target in space "loopback" or "local". The loopback text is the one
// measured in Chromium 156; a local-network target gets the same sentence
// with Chromium's name of its address space.
func localNetworkAccessDenied(space string) string {
	return "Permission was denied for this request to access the `" + space + "` address space."
}

// firefoxLocalNetworkAccessDenied is what Firefox (measured in ESR 153)
// prints when a public page is denied the Local Network Access permission
// for url: the same line as for a network error, naming no permission.
func firefoxLocalNetworkAccessDenied(url string) string {
	return firefoxBlocked + url + ". (Reason: CORS request did not succeed). Status code: (null)."
}

// firefoxBlocked starts each of Firefox's CORS console lines.
const firefoxBlocked = "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at "

// firefoxConsoleMessage: Firefox checks Access-Control-Allow-Origin first
// on any response, a redirected preflight included, and follows the line
// about a failed preflight with "CORS request did not succeed" (twice for
// a redirect).
func (f Failure) firefoxConsoleMessage(url string, status int, h http.Header) string {
	var line string
	switch kind := f.Kind; {
	case kind == MissingAllowOriginHeader, kind == PreflightDisallowedRedirect && len(h.Values(allowOrigin)) == 0:
		line = firefoxBlocked + url + ". (Reason: CORS header ‘Access-Control-Allow-Origin’ missing). Status code: " + strconv.Itoa(status) + "."
	case kind == MultipleAllowOriginValues:
		line = firefoxBlocked + url + ". (Reason: Multiple CORS header ‘Access-Control-Allow-Origin’ not allowed)."
	case kind == WildcardOriginNotAllowed:
		line = firefoxBlocked + "‘" + url + "’. (Reason: Credential is not supported if the CORS header ‘Access-Control-Allow-Origin’ is ‘*’)."
	case kind == HeaderDisallowedByPreflight:
		line = firefoxBlocked + url + ". (Reason: header ‘" + f.Hint + "’ is not allowed according to header ‘Access-Control-Allow-Headers’ from CORS preflight response)."
	case kind == MethodDisallowedByPreflight:
		line = firefoxBlocked + url + ". (Reason: Did not find method in CORS header ‘Access-Control-Allow-Methods’)."
	default:
		return ""
	}
	if f.Preflight {
		followUp := "\n" + firefoxBlocked + url + ". (Reason: CORS request did not succeed). Status code: (null)."
		line += followUp
		if f.Kind == PreflightDisallowedRedirect {
			line += followUp
		}
	}
	return line
}

// webKitConsoleMessage: WebKit checks a preflight's status before
// anything else, a redirect's included, and follows every CORS line with
// "Fetch API cannot load".
func (f Failure) webKitConsoleMessage(url, origin string, status int) string {
	var line string
	switch {
	case f.Preflight && (status < 200 || status > 299):
		line = "Preflight response is not successful. Status code: " + strconv.Itoa(status)
	case f.Kind == MissingAllowOriginHeader && !f.Preflight:
		line = "Origin " + origin + " is not allowed by Access-Control-Allow-Origin. Status code: " + strconv.Itoa(status)
	case f.Kind == MultipleAllowOriginValues:
		line = "Access-Control-Allow-Origin cannot contain more than one origin."
	case f.Kind == WildcardOriginNotAllowed:
		line = "Cannot use wildcard in Access-Control-Allow-Origin when credentials flag is true."
	case f.Kind == HeaderDisallowedByPreflight:
		line = "Request header field " + f.HeaderAsSet + " is not allowed by Access-Control-Allow-Headers."
	case f.Kind == MethodDisallowedByPreflight:
		line = "Method " + f.Hint + " is not allowed by Access-Control-Allow-Methods."
	default:
		return ""
	}
	return line + "\nFetch API cannot load " + url + " due to access control checks."
}
