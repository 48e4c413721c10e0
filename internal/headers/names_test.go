package headers

import (
	"strings"
	"testing"
)

func TestIsToken(t *testing.T) {
	for _, s := range []string{"X-Request-Id", "content-type", "a!#$%&'*+-.^_`|~9"} {
		if !IsToken(s) {
			t.Errorf("IsToken(%q) = false", s)
		}
	}
	for _, s := range []string{"", "x y", "x,y", "x:y", "é", "x\x00", "(x)", `"x"`} {
		if IsToken(s) {
			t.Errorf("IsToken(%q) = true", s)
		}
	}
}

func TestCheckRequestHeaderName(t *testing.T) {
	for _, name := range []string{"Authorization", "Content-Type", "X-Request-Id"} {
		if err := CheckRequestHeaderName(name); err != nil {
			t.Errorf("%q: %v", name, err)
		}
	}
	tests := map[string]string{
		"X Request":                     "not a valid header name",
		"Cookie":                        "forbidden request header",
		"host":                          "forbidden request header",
		"Origin":                        "forbidden request header",
		"Sec-Fetch-Mode":                "forbidden request header",
		"Proxy-Authorization":           "forbidden request header",
		"Access-Control-Request-Method": "forbidden request header",
		"Access-Control-Allow-Origin":   "CORS response header",
	}
	for name, want := range tests {
		if err := CheckRequestHeaderName(name); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckRequestHeaderName(%q) = %v, want %q", name, err, want)
		}
	}
}

func TestCheckResponseHeaderName(t *testing.T) {
	if err := CheckResponseHeaderName("X-Total-Count"); err != nil {
		t.Error(err)
	}
	for _, name := range []string{"Set-Cookie", "set-cookie2", "X Total", "Access-Control-Allow-Methods", "access-control-allow-origin", "Access-Control-Max-Age", "Access-Control-Expose-Headers"} {
		if CheckResponseHeaderName(name) == nil {
			t.Errorf("CheckResponseHeaderName(%q) accepted it", name)
		}
	}
}
