package corscheck

import (
	"net/http"
	"strings"
	"testing"
)

func TestReadableResponseHeaders(t *testing.T) {
	response := fields("Content-Type", "text/plain", "Cache-Control", "no-store", "X-Id", "1", "X-Other", "2",
		"Set-Cookie", "a=b", exposeHeaders, "X-Id, Set-Cookie")
	tests := []struct {
		name        string
		header      http.Header
		credentials bool
		want        string
	}{
		{"safelisted and exposed", response, false, "cache-control,content-type,x-id"},
		{"wildcard exposes all but Set-Cookie", withField(response, exposeHeaders, "*"), false,
			"access-control-expose-headers,cache-control,content-type,x-id,x-other"},
		{"wildcard is literal with credentials", withField(response, exposeHeaders, "*"), true, "cache-control,content-type"},
		{"nothing exposed", withField(response, exposeHeaders, ""), false, "cache-control,content-type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, checks := readableResponseHeaders(tt.header, tt.credentials)
			if strings.Join(got, ",") != tt.want {
				t.Errorf("readable %v, want %s", got, tt.want)
			}
			if len(checks) == 0 {
				t.Error("no note on Access-Control-Expose-Headers")
			}
		})
	}
}

func withField(h http.Header, name, value string) http.Header {
	c := h.Clone()
	if value == "" {
		c.Del(name)
	} else {
		c.Set(name, value)
	}
	return c
}
