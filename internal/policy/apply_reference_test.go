package policy

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// referenceApply is Response.ApplyWith as it was written first, plainly:
// walk the map, set what is missing, then append each missing Vary token as
// a line of its own and fold repeated tokens into one line. The fast apply
// must leave every header map exactly as it does.
func referenceApply(r *Response, h http.Header, names, values []string) {
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
	referenceDedupeVary(h)
}

// referenceDedupeVary rewrites Vary as one line when a token appears twice, as
// happens when an upstream also varies on Origin and its header is added
// after ours.
func referenceDedupeVary(h http.Header) {
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

// headerVocabulary is what FuzzApplyMatchesReference builds header maps
// from: every managed name, canonical and not, Vary, and others.
var headerVocabulary = []string{
	"Access-Control-Allow-Origin", "access-control-allow-origin", "Access-Control-Allow-Credentials",
	"ACCESS-CONTROL-ALLOW-METHODS", "Access-Control-Allow-Headers", "Access-Control-Expose-Headers",
	"Access-Control-Max-Age", "Access-Control-Allow-Private-Network", "Access-Control-Request-Method",
	"access-control-", "Vary", "Content-Type", "Server", "X-Content-Type-Options", "Cache-Control",
}

// valueVocabulary is the values the header maps and responses are made of:
// the policy's own, Vary tokens in every spelling, and lists.
var valueVocabulary = []string{
	"", "*", "true", "https://app.example.com", "Origin", "origin", " Origin ,Accept",
	"Accept-Encoding", "Accept-Encoding, Origin", varyPreflight, varyPreflightPrivateNetwork,
	"Access-Control-Request-Method", ",,", "X-Total, X-Page", "600", "text/plain",
}

// fuzzBytes hands out the bytes of a fuzz input, then zeros.
type fuzzBytes []byte

func (b *fuzzBytes) next() int {
	if len(*b) == 0 {
		return 0
	}
	c := (*b)[0]
	*b = (*b)[1:]
	return int(c)
}

func (b *fuzzBytes) pick(from []string) string { return from[b.next()%len(from)] }

// fuzzHeaderAndResponse builds a header map, a Response and the extra names
// of ApplyWith from data.
func fuzzHeaderAndResponse(data []byte) (http.Header, Response, []string, []string) {
	b := fuzzBytes(data)
	h := http.Header{}
	for range b.next() % 8 {
		key := b.pick(headerVocabulary)
		for range b.next() % 4 {
			h[key] = append(h[key], b.pick(valueVocabulary))
		}
		if _, ok := h[key]; !ok && b.next()%2 == 0 {
			h[key] = []string{} // present with no line
		}
	}
	var r Response
	for _, field := range []*string{&r.AllowOrigin, &r.AllowCredentials, &r.AllowMethods, &r.AllowHeaders,
		&r.ExposeHeaders, &r.MaxAge, &r.AllowPrivateNetwork} {
		*field = b.pick(valueVocabulary)
	}
	// The policy's own Vary values, and one of a gate's refusals.
	r.Vary = []string{"", varyOrigin, varyPreflight, varyPreflightPrivateNetwork, "Origin, Sec-Fetch-Site"}[b.next()%5]
	var names, values []string
	if b.next()%4 == 0 {
		names, values = refusalNames, refusalValues
	}
	return h, r, names, values
}

// The extra lines a refused preflight's answer sets.
var (
	refusalNames  = []string{"Content-Type", "X-Content-Type-Options"}
	refusalValues = []string{"text/plain; charset=utf-8", "nosniff"}
)

func cloneHeader(h http.Header) http.Header {
	c := make(http.Header, len(h))
	for k, v := range h {
		c[k] = append([]string{}, v...)
	}
	return c
}

// FuzzApplyMatchesReference checks the fast apply, and Answer's, against
// referenceApply on header maps made of the names and values that matter.
func FuzzApplyMatchesReference(f *testing.F) {
	f.Add([]byte{2, 10, 1, 7, 11, 1, 9, 3, 0, 0, 0, 0, 0, 0, 1})
	f.Add([]byte{3, 10, 3, 4, 5, 4, 0, 2, 2, 1, 1, 3, 0, 0, 0, 0, 0, 0, 0, 2})
	f.Add([]byte{1, 10, 1, 1, 1, 3, 3, 0, 0, 0, 0, 0, 0, 2, 0})
	f.Add([]byte{4, 0, 2, 2, 3, 1, 1, 0, 3, 1, 4, 10, 2, 3, 3, 3, 3, 3, 3, 3, 3, 1, 0})
	f.Fuzz(checkApplyMatchesReference)
}

// checkApplyMatchesReference applies the response and header map data
// makes with ApplyWith, and, as Answers, as a shape of its own and as one
// that echoes the origin, and compares each result with referenceApply's.
func checkApplyMatchesReference(t *testing.T, data []byte) {
	h, r, names, values := fuzzHeaderAndResponse(data)
	want := cloneHeader(h)
	referenceApply(&r, want, names, values)

	got := cloneHeader(h)
	r.ApplyWith(got, names, values)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ApplyWith(%q) of %q:\n got %q\nwant %q", r, h, got, want)
	}
	if names != nil {
		return
	}
	answers := []Answer{AnswerOf(&Shape{response: r, values: r.values()})}
	if r.AllowOrigin != "" {
		echoing := r
		echoing.AllowOrigin = ""
		answers = append(answers, Answer{shape: &Shape{response: echoing, values: echoing.values()}, origin: r.AllowOrigin})
	}
	for _, answer := range answers {
		got = cloneHeader(h)
		answer.Apply(got)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Answer.Apply(%q) of %q:\n got %q\nwant %q", r, h, got, want)
		}
	}
}

// TestApplyMatchesReferenceOnEveryHeaderMap runs the differential check
// over many header maps every time the tests run, not only when fuzzing.
func TestApplyMatchesReferenceOnEveryHeaderMap(t *testing.T) {
	data := make([]byte, 48)
	state := uint32(1)
	for range 20_000 {
		for i := range data {
			state = state*1664525 + 1013904223
			data[i] = byte(state >> 24)
		}
		checkApplyMatchesReference(t, data)
	}
}

// referenceActual is Policy.Actual without its fast path: every origin
// through checkOrigin.
func referenceActual(p *Policy, origin []string) (Response, Rejection) {
	if p.anyOrigin {
		return p.notCORS.response, Rejection{}
	}
	allowOrigin, rej := p.checkOrigin(origin)
	if rej.Refused() {
		return p.actualRefused.response, rej
	}
	r := p.actualAllowed.response
	r.AllowOrigin = allowOrigin
	return r, Rejection{}
}

// FuzzActual checks Policy.Actual, whose common case skips checkOrigin,
// against referenceActual, over exact origins, patterns and regexps, and
// one, two or no Origin lines.
func FuzzActual(f *testing.F) {
	policies := []*Policy{
		mustNew(f, Config{Origins: []string{"https://app.example.com", "http://localhost:8080"}, Credentials: true}),
		mustNew(f, Config{Origins: []string{"https://*.example.com", "https://app.example.org:*"}}),
		mustNew(f, Config{OriginRegexps: []string{`https://[a-z]+\.example\.net`}, Expose: []string{"X-Total"}}),
		mustNew(f, Config{Origins: []string{"*"}}),
	}
	f.Add("https://app.example.com", "", uint8(1))
	f.Add("https://api.eu.example.com", "", uint8(1))
	f.Add("https://app.example.org:8443", "https://app.example.com", uint8(2))
	f.Add("https://APP.example.com", "", uint8(1))
	f.Add("null", "", uint8(0))
	f.Add("https://a.example.net", "", uint8(1))
	f.Fuzz(func(t *testing.T, first, second string, lines uint8) {
		origin := []string{first, second}[:lines%3]
		for _, p := range policies {
			answer, rejection := p.Actual(origin)
			want, wantRejection := referenceActual(p, origin)
			if got := answer.Response(); got != want || rejection != wantRejection {
				t.Fatalf("Actual(%q) = %+v, %+v\nwant %+v, %+v", origin, got, rejection, want, wantRejection)
			}
		}
	})
}
