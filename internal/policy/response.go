package policy

import (
	"net/http"
	"strings"
)

// The Vary tokens each kind of response depends on (R41, R44, R49).
const (
	varyOrigin                  = "Origin"
	varyPreflight               = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
	varyPreflightPrivateNetwork = varyPreflight + ", Access-Control-Request-Private-Network"
)

// ManagedHeaders are the response headers a policy owns: whatever a later
// handler or an upstream put there is replaced or removed, so a browser
// never sees two values (R10, R54).
var ManagedHeaders = [...]string{
	"Access-Control-Allow-Origin",
	"Access-Control-Allow-Credentials",
	"Access-Control-Allow-Methods",
	"Access-Control-Allow-Headers",
	"Access-Control-Expose-Headers",
	"Access-Control-Max-Age",
	"Access-Control-Allow-Private-Network",
}

// Response is the CORS part of one response: the value of each managed
// header (empty: the header must be absent) and the Vary tokens that
// those values depend on.
type Response struct {
	AllowOrigin         string
	AllowCredentials    string
	AllowMethods        string
	AllowHeaders        string
	ExposeHeaders       string
	MaxAge              string
	AllowPrivateNetwork string
	Vary                string
}

func (r *Response) values() [len(ManagedHeaders)]string {
	return [...]string{r.AllowOrigin, r.AllowCredentials, r.AllowMethods, r.AllowHeaders,
		r.ExposeHeaders, r.MaxAge, r.AllowPrivateNetwork}
}

// managedIndex gives the position of key in ManagedHeaders, compared
// case-insensitively, or -1. A handler may assign a key net/http did not
// canonicalize (h["access-control-allow-origin"]), which is sent as it is
// and which a browser reads as the same header. Most keys fail at their
// first byte, so this costs less than a map lookup.
func managedIndex(key string) int {
	const prefix = "Access-Control-"
	if len(key) <= len(prefix) || key[0]|0x20 != 'a' || !strings.EqualFold(key[:len(prefix)], prefix) {
		return -1
	}
	for i, name := range ManagedHeaders {
		if strings.EqualFold(key[len(prefix):], name[len(prefix):]) {
			return i
		}
	}
	return -1
}

// Apply makes h carry exactly r: one field line for each managed header r
// has a value for, none for the others, and every Vary token of r once,
// next to the tokens others put there (R42).
//
// It runs on every response, so it walks the header map once instead of
// looking up each managed name, and changes nothing (allocating nothing)
// when h already carries r, as it does for a second cors handler on the
// same response (in handle_errors).
func (r *Response) Apply(h http.Header) {
	r.ApplyWith(h, nil, nil)
}

// ApplyWith is Apply, and sets each of names to the value at the same
// position in values, as a field line of its own, in the same allocation as
// the CORS headers: the answer to a refused preflight sets its headers in
// one.
func (r *Response) ApplyWith(h http.Header, names, values []string) {
	want := r.values()
	var present uint8 // bit i: ManagedHeaders[i] already holds want[i]
	var vary []string
	for key, current := range h {
		if key == "Vary" {
			vary = current
			continue
		}
		i := managedIndex(key)
		switch {
		case i < 0:
		case want[i] == "":
			delete(h, key)
		case key == ManagedHeaders[i] && len(current) == 1 && current[0] == want[i]:
			present |= 1 << i
		default:
			delete(h, key) // set again below, as a line of its own
		}
	}

	needVary := r.Vary != "" && len(vary) == 0
	missing := 0
	for i, v := range want {
		if v != "" && present&(1<<i) == 0 {
			missing++
		}
	}
	if needVary {
		missing++
	}
	missing += len(names)
	if missing > 0 {
		// One backing array for every field line set here. Each line is its
		// own full slice (cap == len), so a later handler that appends to one
		// gets a fresh array, and one that edits a value edits only this
		// response: no value slice is shared between responses (rs/cors#198).
		lines := make([]string, 0, missing)
		for i, v := range want {
			if v != "" && present&(1<<i) == 0 {
				lines = append(lines, v)
				h[ManagedHeaders[i]] = lines[len(lines)-1 : len(lines) : len(lines)]
			}
		}
		if needVary {
			lines = append(lines, r.Vary)
			h["Vary"] = lines[len(lines)-1 : len(lines) : len(lines)]
		}
		for i, name := range names {
			lines = append(lines, values[i])
			h[name] = lines[len(lines)-1 : len(lines) : len(lines)]
		}
	}
	if r.Vary == "" || needVary || len(vary) == 1 && vary[0] == r.Vary {
		return
	}
	for token := range strings.SplitSeq(r.Vary, ", ") {
		if !containsToken(h["Vary"], token) {
			h["Vary"] = append(h["Vary"], token)
		}
	}
	dedupeVary(h)
}

// containsToken reports whether one of the comma-separated lists in
// values holds token, compared case-insensitively.
func containsToken(values []string, token string) bool {
	for _, v := range values {
		for elem := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(elem), token) {
				return true
			}
		}
	}
	return false
}

// maxVaryTokens bounds the work of looking for duplicate Vary tokens.
const maxVaryTokens = 32

// dedupeVary rewrites Vary as one line when a token appears twice, as
// happens when an upstream also varies on Origin and its header is added
// after ours.
func dedupeVary(h http.Header) {
	var tokens [maxVaryTokens]string
	n, dup := 0, false
	for _, v := range h["Vary"] {
		for elem := range strings.SplitSeq(v, ",") {
			token := strings.TrimSpace(elem)
			if token == "" {
				continue
			}
			if n == len(tokens) {
				return
			}
			for _, seen := range tokens[:n] {
				if strings.EqualFold(seen, token) {
					dup = true
				}
			}
			tokens[n] = token
			n++
		}
	}
	if !dup {
		return
	}
	unique := tokens[:0]
	for _, token := range tokens[:n] {
		if !containsToken(unique, token) {
			unique = append(unique, token)
		}
	}
	h["Vary"] = []string{strings.Join(unique, ", ")}
}
