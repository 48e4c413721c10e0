package origins

import (
	"strings"
	"testing"
)

func TestParsePatternAcceptsOriginsAndPatterns(t *testing.T) {
	tests := map[string]Pattern{
		"https://app.example.com":       {Origin: Origin{"https", "app.example.com", ""}},
		"https://*.example.com":         {Origin: Origin{"https", "example.com", ""}, Subdomains: true},
		"https://*.example.com:8443":    {Origin: Origin{"https", "example.com", "8443"}, Subdomains: true},
		"http://localhost:*":            {Origin: Origin{"http", "localhost", ""}, AnyPort: true},
		"http://*.localhost:*":          {Origin: Origin{"http", "localhost", ""}, Subdomains: true, AnyPort: true},
		"http://*.app.localhost:9200":   {Origin: Origin{"http", "app.localhost", "9200"}, Subdomains: true},
		"http://[::1]:*":                {Origin: Origin{"http", "[::1]", ""}, AnyPort: true},
		"http://127.0.0.1:8080":         {Origin: Origin{"http", "127.0.0.1", "8080"}},
		"https://localhost.":            {Origin: Origin{"https", "localhost.", ""}},
		"http://example.com.:3999":      {Origin: Origin{"http", "example.com.", "3999"}},
		"https://*.example.com.":        {Origin: Origin{"https", "example.com.", ""}, Subdomains: true},
		"https://xn--bcher-kva.example": {Origin: Origin{"https", "xn--bcher-kva.example", ""}},
		"https://xn--ls8h.la":           {Origin: Origin{"https", "xn--ls8h.la", ""}},
		"https://*." + host251:          {Origin: Origin{"https", host251, ""}, Subdomains: true},
		// Under a wildcard rule, but city.kawasaki.jp is registrable
		// again (an exception rule).
		"https://*.kawasaki.jp": {Origin: Origin{"https", "kawasaki.jp", ""}, Subdomains: true},
	}
	for s, want := range tests {
		got, err := ParsePattern(s)
		if err != nil || got != want {
			t.Errorf("ParsePattern(%q) = %+v, %v; want %+v", s, got, err, want)
		}
		if got.String() != s {
			t.Errorf("ParsePattern(%q).String() = %q", s, got.String())
		}
	}
}

func TestParsePatternRefusesWithTheFix(t *testing.T) {
	tests := []struct {
		origin string
		want   []string // fragments of the message
	}{
		{"null", []string{`"null" cannot be allowed`, "sandboxed"}},
		{"file:///home/me/index.html", []string{"file:", `"null"`}},
		{"example.com", []string{"no scheme", `"https://example.com"`}},
		{"https://example.com/", []string{"ends with a slash", `write "https://example.com"`}},
		{"https://example.com/app", []string{"has a path", `write "https://example.com"`}},
		{"https://example.com?x=1", []string{"has a query", `write "https://example.com"`}},
		{"https://example.com#top", []string{"has a fragment", `write "https://example.com"`}},
		{"https://user@example.com", []string{"has user info", `write "https://example.com"`}},
		{"https://example.com:443", []string{"default port 443", `write "https://example.com"`}},
		{"http://example.com:80", []string{"default port 80", `write "http://example.com"`}},
		{"https://example.com:0443", []string{`write "https://example.com"`}},
		{"*.com", []string{"no scheme", "for example https://app.example.com"}},
		{"https://App.Example.com", []string{"not lower case", `write "https://app.example.com"`}},
		{"HTTPS://*.Example.com", []string{"not lower case", `write "https://*.example.com"`}},
		{"https://bücher.example", []string{"Punycode", `write "https://xn--bcher-kva.example"`}},
		{"http://[0:0:0:0:0:0:0:1]:8080", []string{`write "http://[::1]:8080"`}},
		{"http://127.000.0.1", []string{"scheme://host[:port]"}},
		{"https://example.com:99999", []string{"scheme://host[:port]"}},
		{"https://*example.com", []string{"wildcard may only stand for the first labels"}},
		{"https://a.*.example.com", []string{"wildcard may only stand for the first labels"}},
		{"https://example.com:8080:*", []string{"both a port and the port wildcard", `"https://example.com:*"`}},
		{"https://*.com", []string{`public suffix "com"`, "anyone can register"}},
		{"https://*.github.io", []string{`public suffix "github.io"`}},
		{"https://*.co.uk", []string{`public suffix "co.uk"`}},
		{"http://*.127.0.0.1", []string{"not the IP address"}},
		{"https://*.com.", []string{`public suffix "com."`}},
		// Every name under these parents is a public suffix of its own.
		{"https://*.elb.amazonaws.com", []string{"can never match", `each name directly under "elb.amazonaws.com" is a public suffix of its own`, `"https://*.your-domain.your-name.elb.amazonaws.com"`}},
		{"https://*.compute.amazonaws.com", []string{"can never match", "*.compute.amazonaws.com"}},
		{"https://*.sch.uk", []string{"can never match", "*.sch.uk", `"https://*.your-domain.your-name.sch.uk"`}},
		{"https://*.sch.uk.", []string{"can never match"}},
		{"http://127.0.0.1.", []string{`write "http://127.0.0.1"`}},
		{"http://xn--f", []string{`label "xn--f"`, "not valid Punycode"}},
		{"https://xn--zz.example", []string{`label "xn--zz"`, "not valid Punycode"}},
		{"https://a.xn--.example", []string{`label "xn--"`}},
		{"https://xn--a.example", []string{`label "xn--a"`}}, // decodes to U+0080, which no host may hold
		{"https://*.a" + host251, []string{"can never match", "253 bytes"}},
		{"https://*." + host251 + "x", []string{"can never match"}},
		{"https://a.example.com,https://b.example.com", []string{"separated by spaces", "write https://a.example.com https://b.example.com"}},
		{"https://a.example.com, https://b.example.com", []string{"separated by spaces"}},
		{"a.example.com,b.example.com", []string{"separated by spaces"}},
	}
	for _, tt := range tests {
		_, err := ParsePattern(tt.origin)
		if err == nil {
			t.Errorf("ParsePattern(%q) accepted it", tt.origin)
			continue
		}
		for _, want := range tt.want {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("ParsePattern(%q) = %q, want it to contain %q", tt.origin, err, want)
			}
		}
	}
}

// host251 is the longest parent domain that leaves room for a subdomain
// ("x." and it) within 253 bytes.
var host251 = strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 59)
