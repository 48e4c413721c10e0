package corscheck

import "testing"

func TestConsoleMessageUsesChromiumWordings(t *testing.T) {
	const url, origin = "https://api.example.com/items", "https://app.example.com"
	const prefix = "Access to fetch at 'https://api.example.com/items' from origin 'https://app.example.com' has been blocked by CORS policy: "
	const preflight = "Response to preflight request doesn't pass access control check: "
	const noCors = " Have the server send the header with a valid value."
	tests := []struct {
		failure Failure
		name    string
		want    string
	}{
		{Failure{Kind: PreflightInvalidStatus, Preflight: true}, "PreflightInvalidStatus", preflight + "It does not have HTTP ok status."},
		{Failure{Kind: PreflightDisallowedRedirect, Preflight: true}, "PreflightDisallowedRedirect",
			preflight + "Redirect is not allowed for a preflight request."},
		{Failure{Kind: MissingAllowOriginHeader, Preflight: true}, "PreflightMissingAllowOriginHeader",
			preflight + "No 'Access-Control-Allow-Origin' header is present on the requested resource."},
		{Failure{Kind: MissingAllowOriginHeader}, "MissingAllowOriginHeader",
			"No 'Access-Control-Allow-Origin' header is present on the requested resource."},
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
			if got := tt.failure.ConsoleMessage(Chromium, url, origin, nil); got != prefix+tt.want {
				t.Errorf("ConsoleMessage\n got: %s\nwant: %s", got, prefix+tt.want)
			}
		})
	}
}

// The texts measured in Firefox 153 and WebKitGTK 2.50
// (integration/testdata/console-messages.md), for the same failures.
func TestConsoleMessageOfFirefoxAndWebKit(t *testing.T) {
	const url = "https://api.example.com/items"
	const blocked = "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at https://api.example.com/items. "
	const didNotSucceed = "\n" + blocked + "(Reason: CORS request did not succeed). Status code: (null)."
	const cannotLoad = "\nFetch API cannot load https://api.example.com/items due to access control checks."
	tests := []struct {
		name     string
		failure  Failure
		exchange *Exchange
		firefox  string
		webkit   string
	}{
		{"missing Access-Control-Allow-Origin", Failure{Kind: MissingAllowOriginHeader}, exchange(200),
			blocked + "(Reason: CORS header ‘Access-Control-Allow-Origin’ missing). Status code: 200.",
			"Origin https://app.example.com is not allowed by Access-Control-Allow-Origin. Status code: 200" + cannotLoad},
		{"Access-Control-Allow-Origin twice", Failure{Kind: MultipleAllowOriginValues, Hint: appOrigin + ", *"}, exchange(200),
			blocked + "(Reason: Multiple CORS header ‘Access-Control-Allow-Origin’ not allowed).",
			"Access-Control-Allow-Origin cannot contain more than one origin." + cannotLoad},
		{"* with credentials", Failure{Kind: WildcardOriginNotAllowed}, exchange(200),
			"Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at ‘https://api.example.com/items’. " +
				"(Reason: Credential is not supported if the CORS header ‘Access-Control-Allow-Origin’ is ‘*’).",
			"Cannot use wildcard in Access-Control-Allow-Origin when credentials flag is true." + cannotLoad},
		{"header refused", Failure{Kind: HeaderDisallowedByPreflight, Preflight: true, Hint: "x-debug", HeaderAsSet: "X-Debug"}, exchange(200),
			blocked + "(Reason: header ‘x-debug’ is not allowed according to header ‘Access-Control-Allow-Headers’ from CORS preflight response)." + didNotSucceed,
			"Request header field X-Debug is not allowed by Access-Control-Allow-Headers." + cannotLoad},
		{"method refused", Failure{Kind: MethodDisallowedByPreflight, Preflight: true, Hint: "PURGE"}, exchange(200),
			blocked + "(Reason: Did not find method in CORS header ‘Access-Control-Allow-Methods’)." + didNotSucceed,
			"Method PURGE is not allowed by Access-Control-Allow-Methods." + cannotLoad},
		{"redirect on the preflight", Failure{Kind: PreflightDisallowedRedirect, Preflight: true}, exchange(307, "Location", "/items/"),
			blocked + "(Reason: CORS header ‘Access-Control-Allow-Origin’ missing). Status code: 307." + didNotSucceed + didNotSucceed,
			"Preflight response is not successful. Status code: 307" + cannotLoad},
		{"401 on the preflight", Failure{Kind: MissingAllowOriginHeader, Preflight: true}, exchange(401),
			blocked + "(Reason: CORS header ‘Access-Control-Allow-Origin’ missing). Status code: 401." + didNotSucceed,
			"Preflight response is not successful. Status code: 401" + cannotLoad},
		// Not measured: cors-check says it does not know the text.
		{"redirect with Access-Control-Allow-Origin", Failure{Kind: PreflightDisallowedRedirect, Preflight: true},
			exchange(307, "Location", "/items/", allowOrigin, appOrigin), "", "Preflight response is not successful. Status code: 307" + cannotLoad},
		{"another origin", Failure{Kind: AllowOriginMismatch, Hint: "https://other.example"}, exchange(200), "", ""},
		{"Access-Control-Allow-Credentials not true", Failure{Kind: InvalidAllowCredentials, Hint: "True"}, exchange(200), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.failure.ConsoleMessage(Firefox, url, appOrigin, tt.exchange); got != tt.firefox {
				t.Errorf("Firefox\n got: %q\nwant: %q", got, tt.firefox)
			}
			if got := tt.failure.ConsoleMessage(WebKit, url, appOrigin, tt.exchange); got != tt.webkit {
				t.Errorf("WebKit\n got: %q\nwant: %q", got, tt.webkit)
			}
		})
	}
}
