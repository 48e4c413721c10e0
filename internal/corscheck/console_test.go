package corscheck

import "testing"

func TestConsoleMessageUsesChromiumWordings(t *testing.T) {
	const url, origin = "https://api.example.com/items", "https://app.example.com"
	const prefix = "Access to fetch at 'https://api.example.com/items' from origin 'https://app.example.com' has been blocked by CORS policy: "
	const preflight = "Response to preflight request doesn't pass access control check: "
	const noCors = " Have the server send the header with a valid value, or, if an opaque response serves your needs, " +
		"set the request's mode to 'no-cors' to fetch the resource with CORS disabled."
	tests := []struct {
		failure Failure
		name    string
		want    string
	}{
		{Failure{Kind: PreflightInvalidStatus, Preflight: true}, "PreflightInvalidStatus", preflight + "It does not have HTTP ok status."},
		{Failure{Kind: PreflightDisallowedRedirect, Preflight: true}, "PreflightDisallowedRedirect",
			preflight + "Redirect is not allowed for a preflight request."},
		{Failure{Kind: MissingAllowOriginHeader, Preflight: true}, "PreflightMissingAllowOriginHeader",
			preflight + "No 'Access-Control-Allow-Origin' header is present on the requested resource." +
				" If an opaque response serves your needs, set the request's mode to 'no-cors' to fetch the resource with CORS disabled."},
		{Failure{Kind: MissingAllowOriginHeader}, "MissingAllowOriginHeader",
			"No 'Access-Control-Allow-Origin' header is present on the requested resource." +
				" If an opaque response serves your needs, set the request's mode to 'no-cors' to fetch the resource with CORS disabled."},
		{Failure{Kind: MultipleAllowOriginValues, Preflight: true, Hint: "a, b"}, "PreflightMultipleAllowOriginValues",
			preflight + "The 'Access-Control-Allow-Origin' header contains multiple values 'a, b', but only one is allowed." + noCors},
		{Failure{Kind: WildcardOriginNotAllowed}, "WildcardOriginNotAllowed",
			"The value of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' when the request's credentials mode is 'include'."},
		{Failure{Kind: InvalidAllowCredentials, Preflight: true}, "PreflightInvalidAllowCredentials",
			preflight + "The value of the 'Access-Control-Allow-Credentials' header in the response is '' which must be 'true' when the request's credentials mode is 'include'."},
		{Failure{Kind: AllowOriginMismatch, Hint: "https://app.example.com/"}, "AllowOriginMismatch",
			"The 'Access-Control-Allow-Origin' header has a value 'https://app.example.com/' that is not equal to the supplied origin." + noCors},
		{Failure{Kind: InvalidAllowOriginValue, Hint: "app"}, "InvalidAllowOriginValue",
			"The 'Access-Control-Allow-Origin' header contains the invalid value 'app'." + noCors},
		{Failure{Kind: MethodDisallowedByPreflight, Hint: "patch"}, "MethodDisallowedByPreflightResponse",
			"Method patch is not allowed by Access-Control-Allow-Methods in preflight response."},
		{Failure{Kind: HeaderDisallowedByPreflight, Hint: "x-foo"}, "HeaderDisallowedByPreflightResponse",
			"Request header field x-foo is not allowed by Access-Control-Allow-Headers in preflight response."},
		{Failure{Kind: InvalidAllowMethods}, "InvalidAllowMethodsPreflightResponse",
			"Cannot parse Access-Control-Allow-Methods response header field in preflight response."},
		{Failure{Kind: InvalidAllowHeaders}, "InvalidAllowHeadersPreflightResponse",
			"Cannot parse Access-Control-Allow-Headers response header field in preflight response."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.failure.Name(); got != tt.name {
				t.Errorf("Name() = %s, want %s", got, tt.name)
			}
			if got := tt.failure.ConsoleMessage(Chromium, url, origin, 0); got != prefix+tt.want {
				t.Errorf("ConsoleMessage\n got: %s\nwant: %s", got, prefix+tt.want)
			}
		})
	}
}
