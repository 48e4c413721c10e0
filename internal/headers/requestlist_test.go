package headers

import (
	"strings"
	"testing"
)

func allowNames(names ...string) func(string) bool {
	return func(name string) bool {
		for _, n := range names {
			if n == name {
				return true
			}
		}
		return false
	}
}

func TestParseRequestList(t *testing.T) {
	allow := allowNames("authorization", "content-type", "x-request-id")
	tests := []struct {
		name         string
		lines        []string
		allowHeaders string
		rejected     string
		err          error
	}{
		{"absent", nil, "", "", nil},
		{"a browser's serialization is echoed", []string{"authorization,content-type,x-request-id"}, "authorization,content-type,x-request-id", "", nil},
		{"names are case-insensitive and echoed lower-cased", []string{"Authorization,X-Request-ID"}, "authorization,x-request-id", "", nil},
		{"optional white space is trimmed", []string{" authorization ,\tcontent-type "}, "authorization,content-type", "", nil},
		{"the list may be split over several lines", []string{"authorization", "content-type, x-request-id"}, "authorization,content-type,x-request-id", "", nil},
		{"empty elements are skipped", []string{",authorization,,content-type,", ""}, "authorization,content-type", "", nil},
		{"only empty elements request nothing", []string{" , ,"}, "", "", nil},
		{"order and duplicates do not matter", []string{"x-request-id,authorization,x-request-id"}, "x-request-id,authorization,x-request-id", "", nil},
		{"a name not allowed is named, the allowed ones still listed", []string{"authorization,x-forbidden"}, "authorization", "x-forbidden", nil},
		{"the names after a refused one are still read", []string{"x-forbidden,content-type,x-other,authorization"}, "content-type,authorization", "x-forbidden", nil},
		{"a refused name in a later line keeps the allowed ones of every line", []string{"authorization", "X-Forbidden, Content-Type"}, "authorization,content-type", "X-Forbidden", nil},
		{"a rejected name is given as sent", []string{"X-Forbidden"}, "", "X-Forbidden", nil},
		{"a name that is not a token is rejected", []string{"x request id"}, "", "x request id", nil},
		{"a name that is not a token is not passed to allow, the others are", []string{"x-request-id,x\xffid"}, "x-request-id", "x\xffid", nil},
		{"too many empty elements", []string{strings.Repeat(",", maxEmptyElements+1)}, "", "", ErrTooManyEmpty},
		{"too many field lines", make([]string, maxFieldLines+1), "", "", ErrRequestListTooLong},
		{"too long", []string{strings.Repeat("x-request-id,", MaxRequestListLen/13+1)}, "", "", ErrRequestListTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			allowHeaders, rejected, err := ParseRequestList(tt.lines, allow)
			if allowHeaders != tt.allowHeaders || rejected != tt.rejected || err != tt.err {
				t.Errorf("ParseRequestList(%q) = %q, %q, %v; want %q, %q, %v",
					tt.lines, allowHeaders, rejected, err, tt.allowHeaders, tt.rejected, tt.err)
			}
		})
	}
}

// A hostile value is refused before a single name is read, whatever its
// size: the check is a sum of lengths.
func TestParseRequestListRefusesHugeValuesWithoutReadingThem(t *testing.T) {
	huge := strings.Repeat("a,", 512<<10) // 1 MiB
	calls := 0
	_, _, err := ParseRequestList([]string{huge}, func(string) bool { calls++; return true })
	if err != ErrRequestListTooLong || calls != 0 {
		t.Fatalf("1 MiB list: err %v after %d names, want ErrRequestListTooLong after none", err, calls)
	}
}

func TestParseRequestListEchoesBrowserValueWithoutAllocating(t *testing.T) {
	lines := []string{"authorization,content-type,x-request-id"}
	allow := allowNames("authorization", "content-type", "x-request-id")
	allocs := testing.AllocsPerRun(100, func() { _, _, _ = ParseRequestList(lines, allow) })
	if allocs != 0 {
		t.Errorf("%v allocations per browser-formatted list, want 0", allocs)
	}
}
