package corscheck

import (
	"net/http"
	"strconv"
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

// TestReadableResponseHeadersNamesEachAbsentHeaderOnce proves an exposed
// name missing from the response is reported once, however often listed.
func TestReadableResponseHeadersNamesEachAbsentHeaderOnce(t *testing.T) {
	_, checks := readableResponseHeaders(fields(exposeHeaders, "X-Gone, x-gone, X-Id, X-Gone", "X-Id", "1"), false)
	last := checks[len(checks)-1].Detail
	if last != "exposed but not in this response: x-gone" {
		t.Errorf("last note %q, want x-gone named once as absent", last)
	}
}

// BenchmarkReadableResponseHeadersHostile measures a hostile response at
// the header limit: about 40,000 header names and as many exposed ones.
// Its cost grows linearly with their number (it took seconds when each
// name searched the whole list).
func BenchmarkReadableResponseHeadersHostile(b *testing.B) {
	h := http.Header{}
	var exposed []string
	for i := 0; len(exposed)*8 < maxResponseHeaderBytes/2; i++ {
		name := "X-H" + strconv.Itoa(i)
		h[name] = []string{"1"}
		exposed = append(exposed, "x-e"+strconv.Itoa(i))
	}
	h[exposeHeaders] = []string{strings.Join(exposed, ",")}
	for b.Loop() {
		readableResponseHeaders(h, false)
	}
}
