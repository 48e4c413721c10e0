package corscheck

import "strings"

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

// noCorsSuggestion is what Blink appends for requests made with fetch().
const noCorsSuggestion = " Have the server send the header with a valid value, or, if an opaque " +
	"response serves your needs, set the request's mode to 'no-cors' to fetch the resource with CORS disabled."

// ConsoleMessage is the error b prints in the console for a fetch() from
// origin to url that fails with f, status being the status of the
// response that failed; "" when cors-check does not know b's text for f.
func (f Failure) ConsoleMessage(b Browser, url, origin string, status int) string {
	f.Hint = printable(f.Hint)
	switch b {
	case Firefox:
		return f.firefoxConsoleMessage(url, status)
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
		b.WriteString("No 'Access-Control-Allow-Origin' header is present on the requested resource." +
			" If an opaque response serves your needs, set the request's mode to 'no-cors' to fetch the resource with CORS disabled.")
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

func (f Failure) firefoxConsoleMessage(url string, status int) string {
	return ""
}

func (f Failure) webKitConsoleMessage(url, origin string, status int) string {
	return ""
}
