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

// Apply makes h carry exactly r: one field line for each managed header r
// has a value for, none for the others, and every Vary token of r once,
// next to the tokens others put there (R42). Applying it again to the same
// header costs no allocation, so it can be re-asserted when a response is
// committed, after an upstream has added its own values.
func (r *Response) Apply(h http.Header) {
	want := r.values()
	// One backing array for every field line this call sets. Each line is
	// its own full slice (cap == len), so a later handler that appends to
	// one gets a fresh array and one that edits a value edits only this
	// response: no value slice is shared between requests (rs/cors#198).
	var lines []string
	for i, key := range ManagedHeaders {
		current, present := h[key]
		switch {
		case want[i] == "":
			if present {
				delete(h, key)
			}
		case len(current) != 1 || current[0] != want[i]:
			if lines == nil {
				lines = make([]string, len(ManagedHeaders)+1)
			}
			lines[i] = want[i]
			h[key] = lines[i : i+1 : i+1]
		}
	}
	if r.Vary == "" {
		return
	}
	if len(h["Vary"]) == 0 {
		if lines == nil {
			lines = make([]string, len(ManagedHeaders)+1)
		}
		lines[len(ManagedHeaders)] = r.Vary
		h["Vary"] = lines[len(ManagedHeaders):]
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
