// Package headers checks header names and parses the list of names that a
// preflight's Access-Control-Request-Headers carries.
package headers

import (
	"fmt"
	"strings"
)

// IsToken reports whether s is an RFC 9110 token, the syntax of header
// names and methods.
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

func isTokenChar(c byte) bool {
	return c < 0x80 && tokenChars[c]
}

var tokenChars = func() (t [0x80]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// forbiddenRequestHeaders are the names a script can never set (Fetch:
// forbidden request-header), so a browser never lists them in
// Access-Control-Request-Headers (R34).
var forbiddenRequestHeaders = map[string]bool{
	"accept-charset": true, "accept-encoding": true, "access-control-request-headers": true,
	"access-control-request-method": true, "connection": true, "content-length": true,
	"cookie": true, "cookie2": true, "date": true, "dnt": true, "expect": true, "host": true,
	"keep-alive": true, "origin": true, "referer": true, "set-cookie": true, "te": true,
	"trailer": true, "transfer-encoding": true, "upgrade": true, "via": true,
}

// IsForbiddenRequestHeader reports whether a script can never set name
// (Fetch: forbidden request-header), whatever its case.
func IsForbiddenRequestHeader(name string) bool {
	lower := strings.ToLower(name)
	return forbiddenRequestHeaders[lower] || strings.HasPrefix(lower, "proxy-") || strings.HasPrefix(lower, "sec-")
}

// CheckRequestHeaderName refuses a configured request header name that is
// not a token or that no browser will ever ask for.
func CheckRequestHeaderName(name string) error {
	lower := strings.ToLower(name)
	switch {
	case !IsToken(name):
		return fmt.Errorf("header %q is not a valid header name%s", name, ListHint(name))
	case IsForbiddenRequestHeader(name):
		return fmt.Errorf("header %q is a forbidden request header: browsers set it themselves and never ask to send it, so remove it", name)
	case strings.HasPrefix(lower, "access-control-"):
		return fmt.Errorf("header %q is a CORS response header, not a request header: the server sends it, the page must not; remove it here and from the page's request", name)
	}
	return nil
}

// CheckResponseHeaderName refuses a configured exposed header name that is
// not a token or that browsers never expose.
func CheckResponseHeaderName(name string) error {
	switch lower := strings.ToLower(name); {
	case !IsToken(name):
		return fmt.Errorf("expose header %q is not a valid header name%s", name, ListHint(name))
	case lower == "set-cookie", lower == "set-cookie2":
		return fmt.Errorf("expose header %q can never be read by scripts, whatever the server says (Fetch: forbidden response-header name): remove it", name)
	case strings.HasPrefix(lower, "access-control-"):
		return fmt.Errorf("expose header %q is a CORS header, which this handler sets for the browser to act on: it is not response data for scripts (most appear only on preflight responses, which scripts never see), so remove it", name)
	}
	return nil
}

// ListHint says how to fix the usual reasons a configured name is not a
// token: several names in one value, or a name copied with its colon.
func ListHint(value string) string {
	switch {
	case strings.ContainsAny(value, ", "):
		return ": give one name per value, separated by spaces in a Caddyfile or as separate JSON strings"
	case strings.HasSuffix(value, ":"):
		return ": write the name without the colon"
	}
	return ""
}
