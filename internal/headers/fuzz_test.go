package headers

import (
	"strings"
	"testing"
)

// FuzzParseRequestList checks that ParseRequestList never panics, that its
// work is bounded by the caps whatever arrives (R53), that what it echoes
// for Access-Control-Allow-Headers is exactly the requested names that
// allow accepts, lower-cased, joined by commas (R29, R33), and that it
// names the first one refused (R8).
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
		accepts := func(name string) bool {
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
		var calls []string
		allow := func(name string) bool {
			calls = append(calls, name)
			return accepts(name)
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

		// What the list asks for, read the simple way: the names as sent,
		// trimmed, in order; allow is asked about each token once.
		var wantCalls, wantAllowed []string
		wantRejected := ""
		empty := 0
		for _, line := range lines {
			for _, elem := range strings.Split(line, ",") {
				name := strings.Trim(elem, " \t")
				switch {
				case name == "":
					empty++
					continue
				case IsToken(name):
					wantCalls = append(wantCalls, strings.ToLower(name))
					if accepts(strings.ToLower(name)) {
						wantAllowed = append(wantAllowed, strings.ToLower(name))
						continue
					}
				}
				if wantRejected == "" {
					wantRejected = name
				}
			}
		}
		for i, name := range calls {
			if i >= len(wantCalls) || name != wantCalls[i] {
				t.Fatalf("call %d of allow with %q; the tokens sent were %q", i, name, wantCalls)
			}
		}

		if err != nil {
			if err != ErrTooManyEmpty || empty <= maxEmptyElements {
				t.Fatalf("error %v with %d empty elements, within the caps", err, empty)
			}
			if allowHeaders != "" || rejected != "" {
				t.Fatalf("error %v together with allowHeaders %q, rejected %q", err, allowHeaders, rejected)
			}
			return
		}
		if empty > maxEmptyElements {
			t.Fatalf("%d empty elements accepted, above %d", empty, maxEmptyElements)
		}
		if len(calls) != len(wantCalls) {
			t.Fatalf("%d calls of allow for %d tokens", len(calls), len(wantCalls))
		}
		if rejected != wantRejected {
			t.Fatalf("rejected %q, want the first name refused, %q", rejected, wantRejected)
		}
		if want := strings.Join(wantAllowed, ","); allowHeaders != want {
			t.Fatalf("Access-Control-Allow-Headers %q, want %q", allowHeaders, want)
		}
	})
}
