package corscheck

import (
	"net/http"
	"slices"
	"strings"
)

// safelistedResponseHeaders are readable by scripts without being exposed
// (Fetch: CORS-safelisted response-header names).
var safelistedResponseHeaders = []string{
	"cache-control", "content-language", "content-length", "content-type", "expires", "last-modified", "pragma",
}

// readableResponseHeaders lists the names of h a script can read from
// a CORS response: the safelisted ones and those in
// Access-Control-Expose-Headers (`*` only without credentials), never
// Set-Cookie (Fetch: forbidden response-header names).
func readableResponseHeaders(h http.Header, credentials bool) ([]string, []Check) {
	raw, _ := fieldValue(h, exposeHeaders)
	exposed, _ := parseAllowList(raw, true)
	wildcard := !credentials && slices.Contains(exposed, "*")
	// Sets, not slice searches: a hostile server may send tens of thousands
	// of names in each of the header map and the list.
	isExposed := make(map[string]bool, len(exposed))
	for _, name := range exposed {
		isExposed[name] = true
	}

	var readable []string
	for name := range h {
		lower := strings.ToLower(name)
		if lower == "set-cookie" || lower == "set-cookie2" {
			continue
		}
		if wildcard || slices.Contains(safelistedResponseHeaders, lower) || isExposed[lower] {
			readable = append(readable, lower)
		}
	}
	slices.Sort(readable)

	var checks []Check
	switch {
	case raw == "":
		checks = append(checks, Check{exposeHeaders, Info, "absent: a script reads only the CORS-safelisted response headers"})
	case wildcard:
		checks = append(checks, Check{exposeHeaders, Info, "`*` exposes every header but Set-Cookie to a request without credentials"})
	case credentials && slices.Contains(exposed, "*"):
		checks = append(checks, Check{exposeHeaders, Info, "with credentials `*` is a literal header name and exposes nothing"})
	default:
		checks = append(checks, Check{exposeHeaders, Info, "exposes " + printable(strings.Join(exposed, ", "))})
	}
	var absent []string
	for _, name := range exposed {
		if name != "*" && h.Get(name) == "" && isExposed[name] {
			absent = append(absent, name)
			isExposed[name] = false // listed once
		}
	}
	if len(absent) > 0 {
		checks = append(checks, Check{exposeHeaders, Info, "exposed but not in this response: " + printable(strings.Join(absent, ", "))})
	}
	return readable, checks
}
