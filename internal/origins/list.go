package origins

import (
	"bytes"
	"fmt"
)

// MaxListSize bounds a list of origins read from a file or storage: far
// more than a million origins, and a bound on what a mistaken path (a log
// file, a disk image) can cost to read.
const MaxListSize = 64 << 20

// maxListLine is the longest line that can hold an origin or a pattern:
// an origin of MaxLength with "*." before its host.
const maxListLine = MaxLength + len("*.")

// ParseList reads a list of origins: one origin or pattern per line,
// written as in a configuration's origins; blank lines and lines that
// start with # are skipped, and spaces around a value are ignored. name is
// where the list comes from, for errors. The first invalid line is the
// error, as name:line with the fix; none of the list is then used. The
// result is matched with the same structures as configured origins, so
// that its size does not change what a request costs.
func ParseList(name string, data []byte) (m *Matcher, n int, err error) {
	if len(data) > MaxListSize {
		return nil, 0, fmt.Errorf("%s: %d bytes, more than the %d MiB a list of origins may have: is it the right file?", name, len(data), MaxListSize>>20)
	}
	var patterns []Pattern
	for line := 1; len(data) > 0; line++ {
		var text []byte
		text, data, _ = bytes.Cut(data, []byte{'\n'})
		text = bytes.TrimSpace(text)
		if len(text) == 0 || text[0] == '#' {
			continue
		}
		if len(text) > maxListLine {
			// Said in few words: the line itself may be megabytes of junk.
			return nil, 0, fmt.Errorf("%s:%d: a line of %d bytes, longer than any origin: write one origin per line, such as https://app.example.com", name, line, len(text))
		}
		if string(text) == "*" {
			return nil, 0, fmt.Errorf("%s:%d: * cannot be listed: a list adds origins one by one; to allow any origin, write origins * in the configuration", name, line)
		}
		p, err := ParsePattern(string(text))
		if err != nil {
			return nil, 0, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		patterns = append(patterns, p)
	}
	return NewMatcher(patterns, nil), len(patterns), nil
}
