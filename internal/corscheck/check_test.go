package corscheck

import (
	"net/http"
	"testing"
)

// fields builds a response header from name, value pairs; a name may repeat.
func fields(pairs ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(pairs); i += 2 {
		h.Add(pairs[i], pairs[i+1])
	}
	return h
}

func TestCheckAccess(t *testing.T) {
	tests := []struct {
		name        string
		header      http.Header
		credentials bool
		want        ErrorKind // "" when the check passes
		hint        string
	}{
		{"exact origin", fields(allowOrigin, appOrigin), false, "", ""},
		{"wildcard without credentials", fields(allowOrigin, "*"), false, "", ""},
		{"wildcard with credentials, even with Allow-Credentials", fields(allowOrigin, "*", allowCredentials, "true"), true, WildcardOriginNotAllowed, ""},
		{"absent", fields(), false, MissingAllowOriginHeader, ""},
		{"two identical field lines", fields(allowOrigin, appOrigin, allowOrigin, appOrigin), false, MultipleAllowOriginValues, appOrigin + ", " + appOrigin},
		{"a list in one line", fields(allowOrigin, appOrigin+",https://b.example"), false, MultipleAllowOriginValues, appOrigin + ",https://b.example"},
		{"origin and wildcard", fields(allowOrigin, appOrigin, allowOrigin, "*"), false, MultipleAllowOriginValues, appOrigin + ", *"},
		{"trailing slash", fields(allowOrigin, appOrigin+"/"), false, AllowOriginMismatch, appOrigin + "/"},
		{"upper case", fields(allowOrigin, "https://App.example.com"), false, AllowOriginMismatch, "https://App.example.com"},
		{"explicit default port", fields(allowOrigin, appOrigin+":443"), false, AllowOriginMismatch, appOrigin + ":443"},
		{"another origin", fields(allowOrigin, "https://other.example"), false, AllowOriginMismatch, "https://other.example"},
		{"null", fields(allowOrigin, "null"), false, AllowOriginMismatch, "null"},
		{"a pattern is not a value", fields(allowOrigin, "https://*.example.com"), false, AllowOriginMismatch, "https://*.example.com"},
		{"not a URL", fields(allowOrigin, "app.example.com"), false, InvalidAllowOriginValue, "app.example.com"},
		{"empty value", fields(allowOrigin, ""), false, InvalidAllowOriginValue, ""},
		{"credentials with true", fields(allowOrigin, appOrigin, allowCredentials, "true"), true, "", ""},
		{"credentials without Allow-Credentials", fields(allowOrigin, appOrigin), true, InvalidAllowCredentials, ""},
		{"credentials with True", fields(allowOrigin, appOrigin, allowCredentials, "True"), true, InvalidAllowCredentials, "True"},
		{"Allow-Credentials ignored without credentials", fields(allowOrigin, appOrigin, allowCredentials, "false"), false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checks, f := checkAccess(tt.header, appOrigin, tt.credentials, false)
			if len(checks) == 0 {
				t.Fatal("no check reported")
			}
			switch {
			case tt.want == "" && f != nil:
				t.Errorf("failed with %s (%s)", f.Name(), checks[len(checks)-1].Detail)
			case tt.want != "" && f == nil:
				t.Errorf("passed, want %s", tt.want)
			case f != nil && (f.Kind != tt.want || f.Hint != tt.hint):
				t.Errorf("failed with %s %q, want %s %q", f.Kind, f.Hint, tt.want, tt.hint)
			}
		})
	}
}

func TestCheckPreflight(t *testing.T) {
	ok := []string{allowOrigin, appOrigin}
	tests := []struct {
		name        string
		status      int
		header      http.Header
		method      string
		names       []string
		credentials bool
		want        ErrorKind
		hint        string
	}{
		{"204 with the origin allows a safelisted method without Allow-Methods", 204, fields(ok...), "POST", nil, false, "", ""},
		{"200 is as good as 204", 200, fields(ok...), "GET", nil, false, "", ""},
		{"CORS check before status: 401 without headers", 401, fields(), "PUT", nil, false, MissingAllowOriginHeader, ""},
		{"401 with CORS headers fails on status", 401, fields(append(ok, allowMethods, "PUT")...), "PUT", nil, false, PreflightInvalidStatus, ""},
		{"304 is not ok", 304, fields(append(ok, allowMethods, "PUT")...), "PUT", nil, false, PreflightInvalidStatus, ""},
		{"a redirect fails before anything else", 308, fields("Location", "https://x.example/"), "PUT", nil, false, PreflightDisallowedRedirect, ""},
		{"method listed", 204, fields(append(ok, allowMethods, "GET, PUT")...), "PUT", nil, false, "", ""},
		{"method listed over two lines", 204, fields(append(ok, allowMethods, "GET", allowMethods, "PUT")...), "PUT", nil, false, "", ""},
		{"method missing", 204, fields(append(ok, allowMethods, "GET, POST")...), "DELETE", nil, false, MethodDisallowedByPreflight, "DELETE"},
		{"PATCH does not allow patch", 204, fields(append(ok, allowMethods, "PATCH")...), "patch", nil, false, MethodDisallowedByPreflight, "patch"},
		{"patch does not allow PATCH", 204, fields(append(ok, allowMethods, "patch")...), "PATCH", nil, false, MethodDisallowedByPreflight, "PATCH"},
		{"method wildcard without credentials", 204, fields(append(ok, allowMethods, "*")...), "PURGE", nil, false, "", ""},
		{"method wildcard is literal with credentials", 204,
			fields(append(ok, allowCredentials, "true", allowMethods, "*")...), "PURGE", nil, true, MethodDisallowedByPreflight, "PURGE"},
		{"unparsable Allow-Methods", 204, fields(append(ok, allowMethods, "GET PUT")...), "PUT", nil, false, InvalidAllowMethods, ""},
		{"headers listed in another case", 204, fields(append(ok, allowHeaders, "X-Token, Content-Type")...), "GET",
			[]string{"content-type", "x-token"}, false, "", ""},
		{"the first missing header in request order", 204, fields(append(ok, allowHeaders, "x-a")...), "GET",
			[]string{"x-c", "x-a", "x-b"}, false, HeaderDisallowedByPreflight, "x-c"},
		{"header wildcard without credentials", 204, fields(append(ok, allowHeaders, "*")...), "GET", []string{"x-token"}, false, "", ""},
		{"header wildcard does not cover authorization", 204, fields(append(ok, allowHeaders, "*")...), "GET",
			[]string{"authorization", "x-token"}, false, HeaderDisallowedByPreflight, "authorization"},
		{"wildcard plus authorization", 204, fields(append(ok, allowHeaders, "*, Authorization")...), "GET",
			[]string{"authorization", "x-token"}, false, "", ""},
		{"header wildcard is literal with credentials", 204, fields(append(ok, allowCredentials, "true", allowHeaders, "*")...), "GET",
			[]string{"x-token"}, true, HeaderDisallowedByPreflight, "x-token"},
		{"unparsable Allow-Headers", 204, fields(append(ok, allowHeaders, "x-a;x-b")...), "GET", []string{"x-a"}, false, InvalidAllowHeaders, ""},
		{"empty list elements are ignored", 204, fields(append(ok, allowHeaders, ", x-a,,")...), "GET", []string{"x-a"}, false, "", ""},
		{"methods are checked before headers", 204, fields(ok...), "PUT", []string{"x-a"}, false, MethodDisallowedByPreflight, "PUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := checkPreflight(tt.status, tt.header, appOrigin, tt.method, tt.names, tt.credentials)
			f := out.Failure
			switch {
			case tt.want == "" && f != nil:
				t.Errorf("failed with %s %q", f.Name(), f.Hint)
			case tt.want != "" && f == nil:
				t.Errorf("passed, want %s", tt.want)
			case f != nil && (f.Kind != tt.want || f.Hint != tt.hint):
				t.Errorf("failed with %s %q, want %s %q", f.Kind, f.Hint, tt.want, tt.hint)
			case f != nil && !f.Preflight:
				// The fix quotes the preflight's body (where the cors module
				// says what it refused) only for a failure of the preflight.
				t.Errorf("failure %s not marked as found in the preflight", f.Kind)
			}
		})
	}
}
