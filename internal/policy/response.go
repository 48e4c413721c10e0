package policy

import (
	"math/bits"
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

// Shape is a Response made ready to apply, with its values by position in
// ManagedHeaders: one for each outcome, built once with the policy, or one
// for an allowed preflight that goes on to the next handler.
type Shape struct {
	response Response
	values   [len(ManagedHeaders)]string
}

// NewShape makes r ready to apply.
func NewShape(r Response) Shape {
	return Shape{response: r, values: r.values()}
}

// Answer is a policy's answer to one request that goes on to the next
// handler, carried until its response is committed: the Shape of what
// every request of the same outcome gets, and the request's origin, which
// an allowed answer echoes. Copying it costs three words, not a whole
// Response.
type Answer struct {
	shape  *Shape
	origin string // Access-Control-Allow-Origin, when the shape echoes the origin
}

// AnswerOf is the Answer that applies s, which must not change while the
// answer is in use.
func AnswerOf(s *Shape) Answer { return Answer{shape: s} }

// Response is the Response a stands for.
func (a Answer) Response() Response {
	r := a.shape.response
	if a.origin != "" {
		r.AllowOrigin = a.origin
	}
	return r
}

// Apply is Response.Apply for the Response a stands for.
func (a Answer) Apply(h http.Header) {
	want := &a.shape.values
	if a.origin != "" {
		echoed := *want
		echoed[0] = a.origin
		want = &echoed
	}
	apply(h, want, a.shape.response.Vary, nil, nil)
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
func (r *Response) Apply(h http.Header) {
	r.ApplyWith(h, nil, nil)
}

// ApplyWith is Apply, and sets each of names to the value at the same
// position in values, as a field line of its own, in the same allocation as
// the CORS headers: the answer to a refused preflight sets its headers in
// one.
func (r *Response) ApplyWith(h http.Header, names, values []string) {
	want := r.values()
	apply(h, &want, r.Vary, names, values)
}

// apply makes h carry the managed header values want and the Vary tokens
// vary, and sets names to values (see ApplyWith), in at most one
// allocation, whatever h already holds, unless its Vary repeats a token of
// its own.
//
// It runs on every response. It changes nothing (allocating nothing) when
// h already carries the answer, as it does for a second cors handler on the
// same response (in handle_errors).
func apply(h http.Header, want *[len(ManagedHeaders)]string, vary string, names, values []string) {
	var present uint8 // bit i: ManagedHeaders[i] already holds want[i]
	foreignVary, common := commonKeys(h)
	if !common {
		present, foreignVary = clearManaged(h, want)
	}

	// What Vary needs: nothing, our one line, or the tokens others' Vary
	// lacks, each added as a line of its own after theirs (R42).
	var missingTokens uint8 // bit j: the j-th token of vary
	varyLines := 0
	switch {
	case vary == "" || len(foreignVary) == 1 && foreignVary[0] == vary:
	case len(foreignVary) == 0:
		varyLines = 1
	default:
		var fold bool
		missingTokens, fold = varyLacks(foreignVary, vary)
		if fold {
			// Rare (an upstream that repeats a token): folded into one line,
			// which costs an allocation of its own.
			mergeVarySlowly(h, foreignVary, vary)
		} else if missingTokens != 0 {
			varyLines = len(foreignVary) + bits.OnesCount8(missingTokens)
		}
	}

	lineCount := varyLines + len(names)
	for i, v := range want {
		if v != "" && present&(1<<i) == 0 {
			lineCount++
		}
	}
	if lineCount == 0 {
		return
	}
	// One backing array for every field line set here. Each header gets its
	// own full slice of it (cap == len), so a later handler that appends to
	// one gets a fresh array, and one that edits a value edits only this
	// response: no value slice is shared between responses (rs/cors#198).
	lines := make([]string, 0, lineCount)
	set := func(name string, from int) {
		h[name] = lines[from:len(lines):len(lines)]
	}
	for i, v := range want {
		if v != "" && present&(1<<i) == 0 {
			lines = append(lines, v)
			set(ManagedHeaders[i], len(lines)-1)
		}
	}
	switch {
	case varyLines == 1 && len(foreignVary) == 0:
		lines = append(lines, vary)
		set("Vary", len(lines)-1)
	case varyLines > 0:
		from := len(lines)
		lines = append(lines, foreignVary...)
		var split [8]string
		for j, token := range varyTokens(vary, &split) {
			if missingTokens&(1<<j) != 0 {
				lines = append(lines, token)
			}
		}
		set("Vary", from)
	}
	for i, name := range names {
		lines = append(lines, values[i])
		set(name, len(lines)-1)
	}
}

// clearManaged walks h once and deletes every managed header that does not
// hold exactly its value in want, under any case of its name: a handler may
// assign a key net/http did not canonicalize (h["access-control-allow-origin"]),
// which is sent as it is and which a browser reads as the same header; a
// lookup of each managed name would not find it. Bit i of present is set
// when ManagedHeaders[i] holds want[i] already. It also gives Vary.
func clearManaged(h http.Header, want *[len(ManagedHeaders)]string) (present uint8, vary []string) {
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
			delete(h, key) // set again by apply, as a line of its own
		}
	}
	return present, vary
}

// commonNames are keys that most responses hold when they are committed,
// Caddy's Server first, none of them managed.
var commonNames = [...]string{"Server", "Content-Type", "Vary", "Content-Length", "Content-Encoding", "Alt-Svc"}

// commonKeys reports whether every key of h is one of commonNames, and
// gives its Vary: then h holds no managed header under any case and need
// not be walked. A few lookups in a small map cost less than a walk, which
// has a fixed cost of its own (it starts at a random place). It gives up as
// soon as the names left cannot account for the keys left, so a map with
// another key costs at most a few lookups more than the walk that follows.
func commonKeys(h http.Header) (vary []string, ok bool) {
	left := len(h)
	for i, name := range commonNames {
		if left == 0 || left > len(commonNames)-i {
			break
		}
		if lines, found := h[name]; found {
			left--
			if name == "Vary" {
				vary = lines
			}
		}
	}
	return vary, left == 0
}

// maxVaryTokens bounds the work of folding repeated Vary tokens: a Vary of
// more tokens is left as it is, ours added.
const maxVaryTokens = 32

// varyLacks reads the Vary lines others set: bit j of missing is set when
// the j-th token of ours, a ", "-separated list of at most 8 tokens, is
// not among them (compared case-insensitively), and fold reports that they
// repeat a token and that, ours added, they hold at most maxVaryTokens.
// It runs on every response that already varies (all that encode may
// compress), so it cuts the lists by hand rather than through iterators.
func varyLacks(lines []string, ours string) (missing uint8, fold bool) {
	var split [8]string
	mine := varyTokens(ours, &split)
	missing = 1<<len(mine) - 1
	n, repeated := 0, false
	for _, line := range lines {
		for rest, more := line, true; more; {
			var elem string
			elem, rest, more = strings.Cut(rest, ",")
			token := strings.TrimSpace(elem)
			if token == "" {
				continue
			}
			for j, name := range mine {
				if len(name) == len(token) && strings.EqualFold(name, token) {
					missing &^= 1 << j
				}
			}
			if n < maxVaryTokens && !repeated {
				repeated = hasToken(lines, n, token)
			}
			n++
		}
	}
	return missing, repeated && n+bits.OnesCount8(missing) <= maxVaryTokens
}

// The tokens of the Vary values a policy sends, split once: cutting a short
// string costs more than the rest of reading another handler's Vary.
var (
	varyOriginTokens                  = []string{"Origin"}
	varyPreflightTokens               = strings.Split(varyPreflight, ", ")
	varyPreflightPrivateNetworkTokens = strings.Split(varyPreflightPrivateNetwork, ", ")
)

// varyTokens gives the tokens of vary, a ", "-separated list of at most 8
// tokens, cut into split unless vary is one a policy sends.
func varyTokens(vary string, split *[8]string) []string {
	switch vary {
	case varyOrigin:
		return varyOriginTokens
	case varyPreflight:
		return varyPreflightTokens
	case varyPreflightPrivateNetwork:
		return varyPreflightPrivateNetworkTokens
	}
	n := 0
	for rest, more := vary, true; more; n++ {
		split[n], rest, more = strings.Cut(rest, ", ")
	}
	return split[:n]
}

// hasToken reports whether one of the first n tokens of lines is token,
// compared case-insensitively. Vary lists are short, and reading them again
// costs less than keeping a copy of every token on every response.
func hasToken(lines []string, n int, token string) bool {
	for _, line := range lines {
		for rest, more := line, true; more && n > 0; {
			var elem string
			elem, rest, more = strings.Cut(rest, ",")
			if elem = strings.TrimSpace(elem); elem == "" {
				continue
			}
			if len(elem) == len(token) && strings.EqualFold(elem, token) {
				return true
			}
			n--
		}
	}
	return false
}

// mergeVarySlowly adds the tokens of ours that lines, Vary as others set
// it, lacks, then rewrites Vary as one line without the tokens repeated, as
// happens when an upstream also varies on Origin and its header is added
// after ours.
func mergeVarySlowly(h http.Header, lines []string, ours string) {
	unique := make([]string, 0, maxVaryTokens)
	add := func(token string) {
		if token != "" && !containsToken(unique, token) {
			unique = append(unique, token)
		}
	}
	for _, line := range lines {
		for elem := range strings.SplitSeq(line, ",") {
			add(strings.TrimSpace(elem))
		}
	}
	for token := range strings.SplitSeq(ours, ", ") {
		add(token)
	}
	h["Vary"] = []string{strings.Join(unique, ", ")}
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
