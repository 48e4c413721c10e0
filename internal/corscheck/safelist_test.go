package corscheck

import (
	"strings"
	"testing"
)

func TestSafelistedRequestHeader(t *testing.T) {
	tests := []struct {
		name, value string
		want        bool
	}{
		{"Accept", "application/json", true},
		{"accept", "*/*", true},
		{"Accept", `text/html; q="0.9"`, false}, // '"' is a CORS-unsafe byte
		{"Accept", "a(b)", false},
		{"Accept", "x\x7f", false},
		{"Accept", "a\tb", true}, // HT is the one control byte allowed
		{"Accept", strings.Repeat("a", 128), true},
		{"Accept", strings.Repeat("a", 129), false},
		{"Accept-Language", "en-GB,en;q=0.9", true},
		{"Accept-Language", "en_GB", false},
		{"Content-Language", "de-DE", true},
		{"Content-Language", "de/DE", false},
		{"Content-Type", "text/plain", true},
		{"Content-Type", "text/plain;charset=UTF-8", true},
		{"Content-Type", "TEXT/Plain", true},
		{"Content-Type", "multipart/form-data; boundary=x", true},
		{"Content-Type", "application/x-www-form-urlencoded", true},
		{"Content-Type", "application/json", false},
		{"Content-Type", "text/plain; charset=\"utf-8\"", false}, // '"' is unsafe even in a parameter
		{"Content-Type", "text/", false},
		{"Content-Type", "text", false},
		{"Range", "bytes=0-", true},
		{"Range", "bytes=0-499", true},
		{"Range", "bytes=500-499", false},
		{"Range", "bytes=-500", false}, // a suffix range is not safelisted
		{"Range", "bytes=0-1,4-5", false},
		{"Range", "bytes = 0-1", false},
		{"Range", "items=0-1", false},
		{"Authorization", "Bearer x", false},
		{"X-Requested-With", "XMLHttpRequest", false},
		{"Save-Data", "on", false}, // Chromium's client hints are not the script's to set here
	}
	for _, tt := range tests {
		t.Run(tt.name+": "+tt.value, func(t *testing.T) {
			got, reason := safelistedRequestHeader(tt.name, tt.value)
			if got != tt.want {
				t.Errorf("safelisted = %v (%s), want %v", got, reason, tt.want)
			}
			if reason == "" {
				t.Error("no reason given")
			}
		})
	}
}

func TestDecidePreflight(t *testing.T) {
	long := strings.Repeat("a", 128)
	tests := []struct {
		name           string
		method         string
		headers        []Header
		needed         bool
		requestHeaders string
	}{
		{"a simple GET", "GET", nil, false, ""},
		{"a simple POST of a form", "POST", []Header{{"Content-Type", "application/x-www-form-urlencoded"}}, false, ""},
		{"PUT needs one without headers", "PUT", nil, true, ""},
		{"patch is not safelisted", "patch", nil, true, ""},
		{"a JSON POST", "POST", []Header{{"Content-Type", "application/json"}}, true, "content-type"},
		{"names lower-cased, sorted by byte, joined without spaces",
			"GET", []Header{{"X-B", "1"}, {"Authorization", "x"}, {"X-A", "1"}, {"Accept", "*/*"}}, true, "authorization,x-a,x-b"},
		{"safelisted values above 1024 bytes in total are all unsafe", "GET",
			[]Header{{"Accept", long}, {"Accept-Language", long}, {"Content-Language", long}, {"Content-Type", "text/plain;" + long[:100]},
				{"Accept", long}, {"Accept", long}, {"Accept", long}, {"Accept", long}, {"Accept", long}},
			true, "accept,accept-language,content-language,content-type"},
		{"exactly 1024 bytes stays simple", "GET", []Header{{"Accept", long}, {"Accept", long}, {"Accept", long}, {"Accept", long},
			{"Accept", long}, {"Accept", long}, {"Accept", long}, {"Accept", long}}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := decidePreflight(tt.method, tt.headers)
			if d.Needed != tt.needed || d.RequestHeaders != tt.requestHeaders {
				t.Errorf("needed %v, Access-Control-Request-Headers %q; want %v, %q", d.Needed, d.RequestHeaders, tt.needed, tt.requestHeaders)
			}
		})
	}
}

// fetch() normalizes the method as Fetch says: only six names are
// upper-cased, so `patch` stays `patch`.
func TestRequestMethodIsNormalizedAsFetchDoes(t *testing.T) {
	for in, want := range map[string]string{"get": "GET", "Put": "PUT", "patch": "patch", "PATCH": "PATCH"} {
		p, err := Request{URL: "http://127.0.0.1/", Origin: appOrigin, Method: in}.prepare()
		if err != nil || p.method != want {
			t.Errorf("method %q: got %q, %v; want %q", in, p.method, err, want)
		}
	}
}

func TestForbiddenRequestHeadersAreDropped(t *testing.T) {
	p, err := Request{URL: "http://127.0.0.1/", Origin: appOrigin, Headers: []Header{
		{"Cookie", "a=b"}, {"Sec-Fetch-Site", "none"}, {"Proxy-Authorization", "x"}, {"Origin", "https://evil.example"},
		{"X-HTTP-Method-Override", "TRACE"}, {"X-Keep", "1"},
	}}.prepare()
	if err != nil {
		t.Fatal(err)
	}
	if len(p.headers) != 1 || p.headers[0].Name != "X-Keep" {
		t.Errorf("kept %v, want only X-Keep", p.headers)
	}
	if len(p.dropped) != 5 {
		t.Errorf("explained %d dropped headers, want 5: %v", len(p.dropped), p.dropped)
	}
}

func TestSerializeOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"https://app.example.com":     "https://app.example.com",
		"null":                        "null",
		"HTTPS://APP.example.com":     "https://app.example.com",
		"https://app.example.com:443": "https://app.example.com",
		"http://localhost:8080":       "http://localhost:8080",
		"http://[::1]:3000":           "http://[::1]:3000",
		"https://app.example.com/":    "https://app.example.com",
	} {
		if got, err := serializeOrigin(in); got != want || err != nil {
			t.Errorf("serializeOrigin(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"app.example.com", "https://app.example.com/api", "https://app.example.com?x", "*"} {
		if got, err := serializeOrigin(bad); err == nil {
			t.Errorf("serializeOrigin(%q) = %q, want an error", bad, got)
		}
	}
}
