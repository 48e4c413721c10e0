package corscheck

import (
	"strings"
	"testing"
)

func TestPrintable(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"visible ASCII as it came", `https://app.example.com, "x" y`, `https://app.example.com, "x" y`},
		{"a backslash doubled, so that the text of an escape is not one", `a\x1b\u202e\`, `a\\x1b\\u202e\\`},
		{"a real control byte next to the text of its escape", "\x1b" + `\x1b`, `\x1b\\x1b`},
		{"printable non-ASCII as it came", "café, 日本", "café, 日本"},
		{"a C1 control as a raw byte (CSI)", "a\x9b31mb", `a\x9b31mb`},
		{"a C1 control in UTF-8", "a\u009bb", `a\u009bb`},
		{"a bidi override", "evil\u202eexe.txt", `evil\u202eexe.txt`},
		{"a bidi isolate", "a\u2066b", `a\u2066b`},
		{"C0 controls and DEL", "a\x00\x1b[2J\t\x7f", `a\x00\x1b[2J\x09\x7f`},
		{"a no-break space", "a\u00a0b", `a\u00a0b`},
		{"a zero-width space", "a\u200bb", `a\u200bb`},
		{"a line separator", "a\u2028b", `a\u2028b`},
		{"invalid UTF-8", "a\xff\xc3b", `a\xff\xc3b`},
		{"cut beyond 256 bytes", strings.Repeat("a", 300), strings.Repeat("a", 256) + " [... 44 more bytes not shown]"},
		{"cut between characters", strings.Repeat("a", 255) + "éé", strings.Repeat("a", 255) + " [... 4 more bytes not shown]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := printable(tt.in); got != tt.want {
				t.Errorf("printable(%q)\n got %s\nwant %s", tt.in, got, tt.want)
			}
		})
	}
}
