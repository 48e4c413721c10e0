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
// name and returns the names for Access-Control-Allow-Headers: lower-cased,
// comma-joined, empty when none were requested (R33). When a name is not a
// token or allow refuses it, rejected is that name as it was sent.
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

	// A browser's own serialization (one line, lower case, no white space,
	// no empty element) is echoed as it is, which costs no allocation.
	canonical := len(lines) == 1
	empty, count := 0, 0
	for _, line := range lines {
		for {
			elem, rest, more := strings.Cut(line, ",")
			name := trimOWS(elem)
			if len(name) != len(elem) {
				canonical = false
			}
			if name == "" {
				canonical = false
				if empty++; empty > maxEmptyElements {
					return "", "", ErrTooManyEmpty
				}
			} else {
				if !IsToken(name) {
					return "", name, nil
				}
				lower := name
				if hasUpper(name) {
					canonical, lower = false, strings.ToLower(name)
				}
				if !allow(lower) {
					return "", name, nil
				}
				count++
			}
			if !more {
				break
			}
			line = rest
		}
	}
	switch {
	case count == 0:
		return "", "", nil
	case canonical:
		return lines[0], "", nil
	}

	var b strings.Builder
	b.Grow(size)
	for _, line := range lines {
		for elem := range strings.SplitSeq(line, ",") {
			if name := trimOWS(elem); name != "" {
				if b.Len() > 0 {
					b.WriteByte(',')
				}
				b.WriteString(strings.ToLower(name))
			}
		}
	}
	return b.String(), "", nil
}

// trimOWS trims RFC 9110 optional white space: spaces and tabs.
func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}
