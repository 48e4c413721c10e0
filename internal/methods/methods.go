// Package methods holds the rules for the request methods a CORS policy
// lists: which names browsers normalize, which are safelisted, which are
// forbidden.
package methods

import (
	"fmt"
	"strings"

	"github.com/caddy-cors/cors/internal/headers"
)

// Normalize upper-cases the six names that browsers upper-case before
// sending (Fetch: normalize a method) and keeps every other name as
// written: a browser sends fetch(url, {method: "patch"}) as "patch", which
// "PATCH" does not match (R22).
func Normalize(method string) string {
	switch upper := strings.ToUpper(method); upper {
	case "DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT":
		return upper
	}
	return method
}

// IsSafelisted reports whether method is a CORS-safelisted method, one that
// passes a preflight's method check whatever the server lists (R21).
// Browsers compare byte for byte.
func IsSafelisted(method string) bool {
	return method == "GET" || method == "HEAD" || method == "POST"
}

// IsForbidden reports whether no browser lets a script use method (Fetch:
// forbidden method), whatever its case.
func IsForbidden(method string) bool {
	switch strings.ToUpper(method) {
	case "CONNECT", "TRACE", "TRACK":
		return true
	}
	return false
}

// Check refuses a configured method that is not a token or that no browser
// lets a script use (Fetch: forbidden method, R25).
func Check(method string) error {
	if !headers.IsToken(method) {
		return fmt.Errorf("method %q is not a valid method name%s", method, headers.ListHint(method))
	}
	if IsForbidden(method) {
		return fmt.Errorf("method %q is forbidden in browsers, which never send it: remove it", method)
	}
	return nil
}
