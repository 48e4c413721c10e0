package headers

import (
	"errors"
	"strings"
)

// Bounds on the Access-Control-Request-Headers of one preflight (R53).
// Preflights need no credentials, so anyone can send one; these keep the
// work per preflight small whatever arrives. Browsers send one line of
// lower-case names without spaces, far below both bounds (R28).
const (
	// MaxRequestListLen caps the bytes of all field lines together.
	MaxRequestListLen = 4096
	// maxFieldLines caps the number of field lines.
	maxFieldLines = 16
	// maxEmptyElements is how many empty list elements (",,") are tolerated,
	// as RFC 9110 asks recipients to tolerate a reasonable number.
	maxEmptyElements = 16
)

var (
	ErrRequestListTooLong = errors.New("Access-Control-Request-Headers is too long")
	ErrTooManyEmpty       = errors.New("Access-Control-Request-Headers has too many empty elements")
)

// ParseRequestList reads the field lines of a preflight's
// Access-Control-Request-Headers as an RFC 9110 list (R29): split on
// commas over every line, optional white space trimmed, empty elements
// skipped, names compared lower-cased. It calls allow with each lower-cased
// name that is a token and returns the names for
// Access-Control-Allow-Headers: those allow accepted, lower-cased and
// comma-joined, empty when there are none (R33). When a name is not a token
// or allow refuses it, rejected is the first such name as it was sent; the
// scan goes on, so that a refused preflight can still list the requested
// names that are allowed and the browser names the one that is not (R8).
//
// The work is linear in the input and capped: a list over the length caps
// is refused with an error before any name is read, and the scan stops at
// the first empty element beyond the tolerated number.
func ParseRequestList(lines []string, allow func(name string) bool) (allowHeaders, rejected string, err error) {
	if len(lines) > maxFieldLines {
		return "", "", ErrRequestListTooLong
	}
	size := 0
	for _, line := range lines {
		size += len(line)
	}
	if size > MaxRequestListLen {
		return "", "", ErrRequestListTooLong
	}

	// A browser's own serialization of allowed names (one line, lower case,
	// no white space, no empty element) is echoed as it is, which costs no
	// allocation: echoed is how much of lines[0] that is so far. The first
	// name that breaks it starts the list anew in b from that prefix.
	canonical, echoed := len(lines) == 1, 0
	var b strings.Builder
	if !canonical {
		b.Grow(size)
	}
	empty := 0
	for _, line := range lines {
		for {
			elem, rest, more := strings.Cut(line, ",")
			name := TrimOWS(elem)
			token, upper := scanName(name)
			lower := name
			if upper {
				lower = strings.ToLower(name)
			}
			allowed := token && allow(lower)
			if canonical && (name == "" || len(name) != len(elem) || lower != name || !allowed) {
				canonical = false
				b.Grow(size)
				b.WriteString(lines[0][:echoed])
			}
			switch {
			case name == "":
				if empty++; empty > maxEmptyElements {
					return "", "", ErrTooManyEmpty
				}
			case !allowed:
				if rejected == "" {
					rejected = name
				}
			case canonical:
				if echoed > 0 {
					echoed++ // the comma before name
				}
				echoed += len(name)
			default:
				if b.Len() > 0 {
					b.WriteByte(',')
				}
				b.WriteString(lower)
			}
			if !more {
				break
			}
			line = rest
		}
	}
	if canonical {
		return lines[0][:echoed], rejected, nil
	}
	return b.String(), rejected, nil
}

// TrimOWS trims RFC 9110 optional white space: spaces and tabs.
func TrimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// scanName reports whether s is a token and, if so, whether it has upper
// case letters, in one pass: every name of every preflight is read so.
func scanName(s string) (token, upper bool) {
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false, false
		}
		upper = upper || 'A' <= s[i] && s[i] <= 'Z'
	}
	return s != "", upper
}
