package policy

import (
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestApplyOwnsTheManagedHeaders(t *testing.T) {
	r := Response{AllowOrigin: "https://app.example.com", AllowCredentials: "true", ExposeHeaders: "X-Mine", Vary: "Origin"}
	// What a reverse_proxy upstream adds after the eager Apply.
	h := http.Header{
		"Access-Control-Allow-Origin":      {"https://app.example.com", "*"},
		"Access-Control-Allow-Credentials": {"true", "true"},
		"Access-Control-Expose-Headers":    {"X-Up"},
		"Access-Control-Allow-Methods":     {"GET, PUT"},
		"Access-Control-Max-Age":           {"86400"},
		"Vary":                             {"Origin", "Accept", "origin"},
		"Content-Type":                     {"text/plain"},
	}
	r.Apply(h)
	want := http.Header{
		"Access-Control-Allow-Origin":      {"https://app.example.com"},
		"Access-Control-Allow-Credentials": {"true"},
		"Access-Control-Expose-Headers":    {"X-Mine"},
		"Vary":                             {"Origin, Accept"},
		"Content-Type":                     {"text/plain"},
	}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("got  %v\nwant %v", h, want)
	}
}

// A handler may assign a managed header under a key net/http did not
// canonicalize; net/http sends it as it is, and a browser reads it as the
// same header: it is replaced as the canonical one is.
func TestApplyOwnsManagedHeadersUnderAnyCase(t *testing.T) {
	r := Response{AllowOrigin: "https://app.example.com", ExposeHeaders: "X-Mine", Vary: "Origin"}
	h := http.Header{
		"access-control-allow-origin":      {"*"},
		"ACCESS-CONTROL-ALLOW-CREDENTIALS": {"true"},
		"Access-control-expose-headers":    {"X-Mine"},
		"Access-Control-Expose-Headers":    {"X-Mine"},
		"access-control-max-age":           {"600"},
		"access-control-":                  {"not a managed header"},
		"Access-Control-Request-Method":    {"kept: not a response header of a policy"},
	}
	r.Apply(h)
	want := http.Header{
		"Access-Control-Allow-Origin":   {"https://app.example.com"},
		"Access-Control-Expose-Headers": {"X-Mine"},
		"access-control-":               {"not a managed header"},
		"Access-Control-Request-Method": {"kept: not a response header of a policy"},
		"Vary":                          {"Origin"},
	}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("got  %v\nwant %v", h, want)
	}
}

// manyTokens is a Vary list of 31 distinct tokens.
var manyTokens = func() string {
	tokens := make([]string, 31)
	for i := range tokens {
		tokens[i] = "T" + strconv.Itoa(i)
	}
	return strings.Join(tokens, ", ")
}()

func TestApplyMergesVary(t *testing.T) {
	tests := []struct {
		name string
		vary string
		have []string
		want []string
	}{
		{"no Vary yet", "Origin", nil, []string{"Origin"}},
		{"others' tokens are kept", "Origin", []string{"Accept-Encoding"}, []string{"Accept-Encoding", "Origin"}},
		{"a token already there is not added", "Origin", []string{"Accept-Encoding, origin"}, []string{"Accept-Encoding, origin"}},
		{"a duplicate from elsewhere is folded", "Origin", []string{"Origin", "Accept-Encoding", "Origin"}, []string{"Origin, Accept-Encoding"}},
		{"preflight tokens", preflightVary, []string{"Accept-Encoding"},
			[]string{"Accept-Encoding", "Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"}},
		{"no tokens of ours leaves Vary alone", "", []string{"Accept", "Accept"}, []string{"Accept", "Accept"}},
		{"a Vary too long to fold gets ours added as it is", "Origin", []string{"A, A, " + manyTokens},
			[]string{"A, A, " + manyTokens, "Origin"}},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.have != nil {
			h["Vary"] = tt.have
		}
		r := Response{Vary: tt.vary}
		r.Apply(h)
		if !reflect.DeepEqual(h["Vary"], tt.want) {
			t.Errorf("%s: Vary = %q, want %q", tt.name, h["Vary"], tt.want)
		}
	}
}

// Applying again at commit time, when nothing changed in between, must be
// free: it runs on every response.
func TestApplyAgainCostsNothing(t *testing.T) {
	r := Response{AllowOrigin: "https://app.example.com", AllowCredentials: "true", ExposeHeaders: "X-Mine", Vary: "Origin"}
	h := http.Header{"Vary": {"Accept-Encoding"}}
	r.Apply(h)
	if allocs := testing.AllocsPerRun(100, func() { r.Apply(h) }); allocs != 0 {
		t.Errorf("re-applying allocates %v times, want 0", allocs)
	}
}

// rs/cors#198: a header value slice shared between responses lets one
// handler's edit leak into every later response.
func TestApplySharesNoValueSliceBetweenResponses(t *testing.T) {
	p := mustNew(t, Config{Origins: []string{"https://app.example.com"}, Credentials: true, Expose: []string{"X-Mine"}})
	first := http.Header{}
	r, _ := p.Actual([]string{"https://app.example.com"})
	r.Apply(first)
	first["Access-Control-Allow-Credentials"][0] = "mutated"
	first["Vary"][0] = "mutated"

	second := http.Header{}
	r, _ = p.Actual([]string{"https://app.example.com"})
	r.Apply(second)
	want := http.Header{
		"Access-Control-Allow-Origin":      {"https://app.example.com"},
		"Access-Control-Allow-Credentials": {"true"},
		"Access-Control-Expose-Headers":    {"X-Mine"},
		"Vary":                             {"Origin"},
	}
	if !reflect.DeepEqual(second, want) {
		t.Errorf("second response %v, want %v", second, want)
	}
}

// The field lines one Apply sets share one backing array, each with no
// spare capacity: a later handler that adds a line to one of them (as
// Header.Add does) must get an array of its own, not write over the line
// set after it.
func TestApplyLeavesNoSpareCapacityBetweenLines(t *testing.T) {
	r := Response{
		AllowOrigin: "https://app.example.com", AllowCredentials: "true", AllowMethods: "PUT",
		AllowHeaders: "x-request-id", ExposeHeaders: "X-Mine", MaxAge: "600", AllowPrivateNetwork: "true",
		Vary: "Origin",
	}
	names, values := []string{"Content-Type"}, []string{"text/plain"}
	applied := http.Header{}
	r.ApplyWith(applied, names, values)
	for name := range applied {
		h := http.Header{}
		r.ApplyWith(h, names, values)
		h.Add(name, "added")
		for other, lines := range applied {
			want := lines
			if other == name {
				want = append(slices.Clip(lines), "added")
			}
			if !slices.Equal(h[other], want) {
				t.Errorf("after adding a %s line: %s is %q, want %q", name, other, h[other], want)
			}
		}
	}
}

// A response that already varies on something else, as every one through
// Caddy's encode does, gets Origin added in the same one allocation as the
// CORS headers.
func TestApplyMergesVaryInTheOneAllocation(t *testing.T) {
	p := mustNew(t, Config{Origins: []string{"https://app.example.com"}, Credentials: true})
	answer, _ := p.Actual([]string{"https://app.example.com"})
	encoded := []string{"Accept-Encoding"}
	h := http.Header{}
	allocs := testing.AllocsPerRun(100, func() {
		clear(h)
		h["Vary"] = encoded
		answer.Apply(h)
	})
	if allocs != 1 {
		t.Errorf("applying to a response with a Vary allocates %v times, want 1", allocs)
	}
	if want := []string{"Accept-Encoding", "Origin"}; !slices.Equal(h["Vary"], want) {
		t.Errorf("Vary %q, want %q", h["Vary"], want)
	}
}

// A small map is looked up rather than walked when its keys are common
// ones; a managed name under another case is not one of them.
func TestApplyFindsAManagedNameUnderAnyCaseInASmallMap(t *testing.T) {
	r := Response{AllowOrigin: "https://app.example.com", Vary: "Origin"}
	for _, key := range []string{"access-control-allow-origin", "Access-Control-Allow-Origin", "access-control-max-age"} {
		h := http.Header{"Server": {"Caddy"}, "Content-Type": {"text/plain"}, key: {"*"}}
		r.Apply(h)
		want := http.Header{
			"Server":                      {"Caddy"},
			"Content-Type":                {"text/plain"},
			"Access-Control-Allow-Origin": {"https://app.example.com"},
			"Vary":                        {"Origin"},
		}
		if !reflect.DeepEqual(h, want) {
			t.Errorf("with %s:\n got %v\nwant %v", key, h, want)
		}
	}
}
