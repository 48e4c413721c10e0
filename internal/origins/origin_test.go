package origins

import (
	"strings"
	"testing"
)

func TestParseAcceptsOnlyWhatBrowsersSend(t *testing.T) {
	valid := map[string]Origin{
		"https://example.com":           {"https", "example.com", ""},
		"http://localhost:5173":         {"http", "localhost", "5173"},
		"http://127.0.0.1:8080":         {"http", "127.0.0.1", "8080"},
		"http://[::1]:3000":             {"http", "[::1]", "3000"},
		"https://xn--bcher-kva.example": {"https", "xn--bcher-kva.example", ""},
		"chrome-extension://abcdef":     {"chrome-extension", "abcdef", ""},
		"https://a.b.example.com:65535": {"https", "a.b.example.com", "65535"},
		// A trailing dot is part of the host: a distinct origin (R11).
		"https://localhost.":       {"https", "localhost.", ""},
		"http://example.com.:3999": {"http", "example.com.", "3999"},
		"https://" + host253 + ".": {"https", host253 + ".", ""},
	}
	for s, want := range valid {
		got, ok := Parse(s)
		if !ok || got != want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", s, got, ok, want)
		}
		if got.String() != s {
			t.Errorf("Parse(%q).String() = %q", s, got.String())
		}
	}
	invalid := []string{
		"", "null", "invalid_origin", "https://", "https:/example.com", "https://example.com/",
		"https://example.com/path", "HTTPS://example.com", "https://Example.com",
		"https://example.com:", "https://example.com:0", "https://example.com:abc",
		"https://example.com:65536", "https://example.com:08080", "https://example.com:443",
		"http://example.com:80", "https://example..com", "https://.example.com",
		"https://example.com..", "https://.", "https://a.example, https://b.example", "https://bücher.example",
		"https://exa mple.com", "https://user@example.com", "https://example.com?q",
		"https://[::1", "https://[]", "1https://example.com", "https://" + strings.Repeat("a", MaxLength),
		"https://a" + host253, "https://a" + host253 + ".",
	}
	for _, s := range invalid {
		if o, ok := Parse(s); ok {
			t.Errorf("Parse(%q) = %+v, want not an origin", s, o)
		}
	}
}

// host253 is a host name of the longest length DNS allows.
var host253 = strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 61)
