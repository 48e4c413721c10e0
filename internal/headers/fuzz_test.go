package headers

import (
	"strings"
	"testing"
)

// FuzzParseRequestList checks that ParseRequestList never panics, that its
// work is bounded by the caps whatever arrives (R53), and that what it
// echoes for Access-Control-Allow-Headers is exactly the requested names,
// lower-cased, each a token, joined by commas (R29, R33).
//
// raw holds the field lines separated by "\n"; policy picks what allow
// accepts: 0 every name, 1 none, 2 names starting with "x-", 3 names of
// at most 3 bytes.
func FuzzParseRequestList(f *testing.F) {
	f.Add("authorization,content-type,x-request-id", byte(0))
	f.Add("Authorization, X-Request-ID", byte(0))
	f.Add(" authorization ,\tcontent-type ", byte(2))
	f.Add("authorization\ncontent-type, x-request-id", byte(0))
	f.Add(",authorization,,content-type,\n", byte(0))
	f.Add(" , ,", byte(1))
	f.Add("x-a,x-b,content-type", byte(2))
	f.Add("x request id", byte(0))
	f.Add("x-é", byte(0))
	f.Add(strings.Repeat(",", maxEmptyElements+1), byte(0))
	f.Add(strings.Repeat("a,", MaxRequestListLen/2), byte(0))
	f.Add(strings.Repeat("\n", maxFieldLines), byte(0))
	f.Add(strings.Repeat("x", MaxRequestListLen+1), byte(0))

	f.Fuzz(func(t *testing.T, raw string, policy byte) {
		lines := strings.Split(raw, "\n")
		var calls []string
		allow := func(name string) bool {
			calls = append(calls, name)
			switch policy % 4 {
			case 1:
				return false
			case 2:
				return strings.HasPrefix(name, "x-")
			case 3:
				return len(name) <= 3
			}
			return true
		}
		allowHeaders, rejected, err := ParseRequestList(lines, allow)

		size := 0
		for _, line := range lines {
			size += len(line)
		}
		overCap := len(lines) > maxFieldLines || size > MaxRequestListLen
		if overCap {
			if err == nil || len(calls) != 0 {
				t.Fatalf("%d lines, %d bytes (over the caps): err %v after %d calls of allow; want an error and no call", len(lines), size, err, len(calls))
			}
			return
		}
		// Every call reads one non-empty name: at least one byte and a
		// comma between two names of a line.
		if bound := (MaxRequestListLen + maxFieldLines) / 2; len(calls) > bound {
			t.Fatalf("%d calls of allow, above the cap-derived bound %d", len(calls), bound)
		}

		var want []string // the names as sent, trimmed, in order
		empty := 0
		for _, line := range lines {
			for _, elem := range strings.Split(line, ",") {
				if name := strings.Trim(elem, " \t"); name != "" {
					want = append(want, name)
				} else {
					empty++
				}
			}
		}
		for i, name := range calls {
			if i >= len(want) || name != strings.ToLower(want[i]) {
				t.Fatalf("call %d of allow with %q; the names sent were %q", i, name, want)
			}
		}

		switch {
		case err != nil:
			if err != ErrTooManyEmpty || empty <= maxEmptyElements {
				t.Fatalf("error %v with %d empty elements, within the caps", err, empty)
			}
			if allowHeaders != "" || rejected != "" {
				t.Fatalf("error %v together with allowHeaders %q, rejected %q", err, allowHeaders, rejected)
			}
		case rejected != "":
			if allowHeaders != "" {
				t.Fatalf("rejected %q, yet Access-Control-Allow-Headers %q", rejected, allowHeaders)
			}
			i := len(calls)
			if IsToken(rejected) {
				i-- // allow refused the last name it was given
			}
			if i < 0 || i >= len(want) || want[i] != rejected {
				t.Fatalf("rejected %q is not the name sent at position %d of %q", rejected, i, want)
			}
			if IsToken(rejected) && allow(strings.ToLower(rejected)) {
				t.Fatalf("rejected %q, a token that allow accepts", rejected)
			}
		default:
			if len(calls) != len(want) {
				t.Fatalf("allowed after %d calls of allow for %d names", len(calls), len(want))
			}
			if empty > maxEmptyElements {
				t.Fatalf("%d empty elements accepted, above %d", empty, maxEmptyElements)
			}
			if allowHeaders != strings.ToLower(strings.Join(want, ",")) {
				t.Fatalf("Access-Control-Allow-Headers %q, want %q", allowHeaders, strings.ToLower(strings.Join(want, ",")))
			}
			if allowHeaders != "" {
				for name := range strings.SplitSeq(allowHeaders, ",") {
					if !IsToken(name) || name != strings.ToLower(name) {
						t.Fatalf("Access-Control-Allow-Headers %q has %q, not a lower-case token", allowHeaders, name)
					}
				}
			}
		}
	})
}
