package corscheck

import (
	"net/http"
	"strings"
	"testing"
)

func TestSuggestFixNamesTheLikelyCause(t *testing.T) {
	tests := []struct {
		name     string
		failure  Failure
		origin   string
		exchange *Exchange
		want     string
	}{
		{"401 on OPTIONS", Failure{Kind: MissingAllowOriginHeader, Preflight: true}, appOrigin, exchange(401), "put `cors` before auth"},
		{"401 with CORS headers", Failure{Kind: PreflightInvalidStatus, Preflight: true}, appOrigin, exchange(401), "put `cors` before auth"},
		{"404 on OPTIONS", Failure{Kind: MissingAllowOriginHeader, Preflight: true}, appOrigin, exchange(404), "nothing answered OPTIONS (404)"},
		{"405 on OPTIONS", Failure{Kind: MissingAllowOriginHeader, Preflight: true}, appOrigin, exchange(405), "nothing answered OPTIONS (405)"},
		{"the cors module's own refusal", Failure{Kind: MissingAllowOriginHeader, Preflight: true}, appOrigin,
			&Exchange{Status: 403, bodyLine: `CORS preflight rejected: header "x-foo" is not allowed`}, `header "x-foo" is not allowed`},
		{"a trailing slash in the configured origin", Failure{Kind: AllowOriginMismatch, Hint: appOrigin + "/"}, appOrigin, exchange(200),
			"refuses trailing slashes"},
		{"the null origin", Failure{Kind: MissingAllowOriginHeader}, "null", exchange(200), "opaque origin"},
		{"a list of origins", Failure{Kind: MultipleAllowOriginValues, Hint: "https://a.example, https://b.example"}, appOrigin,
			exchange(200, allowOrigin, "https://a.example, https://b.example"), "echo only the origin that asked"},
		{"two layers", Failure{Kind: MultipleAllowOriginValues, Hint: appOrigin + ", " + appOrigin}, appOrigin,
			exchange(200, allowOrigin, appOrigin, allowOrigin, appOrigin), "header_down -Access-Control-Allow-Origin"},
		{"wildcard does not cover authorization", Failure{Kind: HeaderDisallowedByPreflight, Hint: "authorization"}, appOrigin,
			exchange(204, allowHeaders, "*"), "`headers * Authorization`"},
		{"method case", Failure{Kind: MethodDisallowedByPreflight, Hint: "patch"}, appOrigin,
			exchange(204, allowMethods, "PATCH"), "the server allows PATCH, so write PATCH in the script"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := suggestFix(tt.failure, tt.origin, "GET", tt.exchange, PreflightDecision{}); !strings.Contains(got, tt.want) {
				t.Errorf("fix %q does not contain %q", got, tt.want)
			}
		})
	}
}

// The fix never advises what the cors directive then warns against (a
// method in lower case), nor to allow an origin that may be refused on
// purpose without saying "if".
func TestSuggestFixAdvisesWhatTheDirectiveAccepts(t *testing.T) {
	rejected := func(status int, reason string) *Exchange {
		e := exchange(status)
		e.bodyLine = corsModuleRejection + ": " + reason
		return e
	}
	tests := []struct {
		name     string
		failure  Failure
		method   string
		exchange *Exchange
		want     string
		never    string
	}{
		{"patch refused by the cors module (methods PUT DELETE)", Failure{Kind: MethodDisallowedByPreflight, Hint: "patch", Preflight: true}, "patch",
			rejected(200, `method "patch" is not allowed`),
			"browsers send the method as the script wrote it (they upper-case only DELETE GET HEAD OPTIONS POST PUT), and methods are case-sensitive: " +
				`write PATCH in the script (fetch(url, {method: "PATCH"})) and add PATCH to ` + "`methods`", "add patch"},
		{"Patch against a server that allows PATCH", Failure{Kind: MethodDisallowedByPreflight, Hint: "Patch", Preflight: true}, "Patch",
			exchange(204, allowMethods, "PUT, PATCH"), "the server allows PATCH, so write PATCH in the script", "add Patch"},
		{"patch against any other server", Failure{Kind: MethodDisallowedByPreflight, Hint: "patch", Preflight: true}, "patch",
			exchange(204, allowMethods, "PUT"), "write PATCH in the script", "add patch"},
		{"an upper-case method not listed", Failure{Kind: MethodDisallowedByPreflight, Hint: "PURGE", Preflight: true}, "PURGE",
			rejected(200, `method "PURGE" is not allowed`), "add PURGE to `methods` in the `cors` directive", "script"},
		{"patch refused with 403 by an older cors module", Failure{Kind: MissingAllowOriginHeader, Preflight: true}, "patch",
			rejected(403, `method "patch" is not allowed`), "write PATCH in the script", "add what it names"},
		{"an origin refused by the cors module", Failure{Kind: MissingAllowOriginHeader, Preflight: true}, "PUT",
			rejected(403, `origin "https://evil.example" is not allowed`),
			"the cors module refused the preflight (origin \"https://evil.example\" is not allowed): if this origin should be allowed, add it to `origins` in the `cors` directive",
			"add what it names"},
		{"an origin refused by another server", Failure{Kind: MissingAllowOriginHeader, Preflight: true}, "PUT", exchange(204),
			"the origin is not allowed; if it should be, add it", ""},
		{"an origin refused with 403 by another server", Failure{Kind: MissingAllowOriginHeader, Preflight: true}, "PUT", exchange(403),
			"if this origin should be allowed, add it", ""},
		{"an origin refused on a simple request", Failure{Kind: MissingAllowOriginHeader}, "GET", exchange(200),
			"if this origin should be allowed, add it", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := suggestFix(tt.failure, appOrigin, tt.method, tt.exchange, PreflightDecision{})
			if !strings.Contains(got, tt.want) {
				t.Errorf("fix %q does not contain %q", got, tt.want)
			}
			if tt.never != "" && strings.Contains(got, tt.never) {
				t.Errorf("fix %q contains %q", got, tt.never)
			}
		})
	}
}

// exchange is a response as received, with its field lines given as name,
// value pairs.
func exchange(status int, pairs ...string) *Exchange {
	e := &Exchange{Status: status, header: http.Header{}}
	for i := 0; i+1 < len(pairs); i += 2 {
		e.header.Add(pairs[i], pairs[i+1])
	}
	return e
}
