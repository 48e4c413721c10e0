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
			exchange(204, allowMethods, "PATCH"), "send PATCH from the script"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := suggestFix(tt.failure, tt.origin, "GET", tt.exchange, PreflightDecision{}); !strings.Contains(got, tt.want) {
				t.Errorf("fix %q does not contain %q", got, tt.want)
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
