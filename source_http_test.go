package cors

import (
	"strings"
	"testing"
)

func TestHTTPSourceJSONErrorsSayWhatToWrite(t *testing.T) {
	tests := []struct{ source, want string }{
		{`{"source":"http"}`, "is not an http:// or https:// URL"},
		{`{"source":"http","endpoint":"127.0.0.1:8081/allowed"}`, "is not an http:// or https:// URL"},
		{`{"source":"http","endpoint":"http://127.0.0.1:8081/allowed","timeout":"-1s"}`, "timeout -1s is negative"},
		{`{"source":"http","endpoint":"http://127.0.0.1:8081/allowed","cache_size":-5}`, "cache_size -5 is negative"},
		{`{"source":"nowhere"}`, "origin_sources"},
	}
	for _, tt := range tests {
		_, err := loadCORS(t, `{"origin_sources":[`+tt.source+`]}`)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error containing %q", tt.source, err, tt.want)
		}
	}
}
