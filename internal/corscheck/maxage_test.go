package corscheck

import (
	"strings"
	"testing"
)

func TestParseMaxAge(t *testing.T) {
	tests := []struct {
		value    string
		present  bool
		chromium int64
		note     string
	}{
		{"", false, 5, "absent"},
		{"600", true, 600, "WebKit 600 s"},
		{"86400", true, 7200, "Chromium keeps it 7200 s"},
		{"0", true, 0, "Chromium keeps it 0 s"},
		{"-1", true, 0, "negative"},
		{"10m", true, 5, "not a number"},
		{"600, 600", true, 5, "not a number"}, // two field lines
	}
	for _, tt := range tests {
		m := maxAgeFor(Chromium, tt.value, tt.present)
		if m.Seconds != tt.chromium || !strings.Contains(m.Note, tt.note) {
			t.Errorf("parseMaxAge(%q) = %d s %q, want %d s and %q", tt.value, m.Seconds, m.Note, tt.chromium, tt.note)
		}
	}
}
