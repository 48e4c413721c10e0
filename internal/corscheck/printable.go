package corscheck

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxQuotedBytes is the most of one server-sent value (a header, the
// body's first line, an error) the report quotes: a hostile server can
// send megabytes in one header, and the report is read in a terminal.
const maxQuotedBytes = 256

// printable is how every byte a server sent enters the report, text and
// JSON alike. A terminal acts on C0 and C1 controls (\x9b opens an escape
// sequence on many of them) and bidi overrides such as U+202E reorder what
// is shown, so anything that is not a printable character is written as an
// escape: \xNN for a byte that is not UTF-8 or is ASCII, \uNNNN otherwise.
// A backslash the server sent is written \\, so that its text "\x1b" never
// reads as an escape of a real control byte.
// Beyond maxQuotedBytes of s, the rest is left out and the cut says how
// much.
func printable(s string) string {
	rest := 0
	if len(s) > maxQuotedBytes {
		n := maxQuotedBytes
		for n > 0 && !utf8.RuneStart(s[n]) {
			n-- // cut between characters, not inside one
		}
		s, rest = s[:n], len(s)-n
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == utf8.RuneError && size <= 1, r < utf8.RuneSelf && !unicode.IsPrint(r):
			b.WriteString(`\x`)
			b.WriteString(hex2(s[i]))
		case !unicode.IsPrint(r):
			q := strconv.QuoteRuneToASCII(r) // '\u202e'
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	if rest > 0 {
		b.WriteString(" [... " + strconv.Itoa(rest) + " more bytes not shown]")
	}
	return b.String()
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&0xf]})
}
