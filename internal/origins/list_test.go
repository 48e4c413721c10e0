package origins

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

func TestParseListReadsOriginsAndPatterns(t *testing.T) {
	list := "# tenants\n\nhttps://a.example.com\n  https://*.b.example.org  \r\nhttp://localhost:*\n   # indented comment\n"
	m, n, err := ParseList("origins.txt", []byte(list))
	if err != nil || n != 3 {
		t.Fatalf("ParseList = %d origins, %v; want 3, nil", n, err)
	}
	assertAllows(t, m, []allowsCase{
		{"https://a.example.com", true},
		{"https://x.b.example.org", true},
		{"http://localhost:5173", true},
		{"https://b.example.org", false},
		{"https://c.example.com", false},
	})
}

func TestParseListRefusesTheWholeListAtItsFirstInvalidLine(t *testing.T) {
	tests := []struct {
		name, list, want string
	}{
		{"trailing slash", "https://a.example.com\nhttps://b.example.com/\n", "origins.txt:2: "},
		{"any origin", "# all\n*\n", "origins.txt:2: * cannot be listed"},
		{"null", "\n\nnull", `origins.txt:3: origin "null" cannot be allowed`},
		{"two on a line", "https://a.example.com https://b.example.com", "origins.txt:1: "},
		{"public suffix", "https://*.com", "origins.txt:1: "},
		{"upper case", "HTTPS://A.example.com", "origins.txt:1: "},
	}
	for _, tt := range tests {
		m, _, err := ParseList("origins.txt", []byte(tt.list))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) || m != nil {
			t.Errorf("%s: ParseList = %v, %v; want no matcher and an error starting %q", tt.name, m, err, tt.want)
		}
	}
}

// Ten megabytes of junk is refused at its first line, the only one
// named, and costs no more than reading it.
func TestParseListRefusesTenMegabytesOfJunkWithItsFirstLine(t *testing.T) {
	junk := bytes.Repeat([]byte("\x00\xff<junk>\x7f"), 10<<20/11)
	_, _, err := ParseList("big.txt", junk)
	if err == nil || !strings.HasPrefix(err.Error(), "big.txt:1: ") {
		t.Fatalf("ParseList(10 MB of junk) = %v, want an error at big.txt:1", err)
	}
	if len(err.Error()) > 1024 {
		t.Errorf("error is %d bytes, want one line of reasonable length", len(err.Error()))
	}
	if _, _, err := ParseList("huge.txt", make([]byte, MaxListSize+1)); err == nil || !strings.Contains(err.Error(), "MiB") {
		t.Errorf("ParseList beyond MaxListSize = %v, want the size named", err)
	}
}

func BenchmarkListMatcher(b *testing.B) {
	for _, n := range []int{1, 100_000} {
		var list strings.Builder
		for i := range n {
			fmt.Fprintf(&list, "https://tenant-%d.example.com\n", i)
		}
		m, _, err := ParseList("origins.txt", []byte(list.String()))
		if err != nil {
			b.Fatal(err)
		}
		origin := "https://tenant-" + strconv.Itoa(n/2) + ".example.com"
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if !m.Allows(origin) {
					b.Fatal("refused")
				}
			}
		})
	}
}

// FuzzParseList checks that any input is either refused at a line whose
// text is invalid, after lines that are all valid, or accepted whole with
// every listed exact origin allowed.
func FuzzParseList(f *testing.F) {
	f.Add([]byte("https://a.example.com\n# c\n\nhttp://localhost:*\n"))
	f.Add([]byte("https://*.example.org\r\nhttps://b.example.com/\n"))
	f.Add([]byte("*\n"))
	f.Add([]byte("\xff\x00\n  null  \n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, n, err := ParseList("f", data)
		lines := strings.Split(string(data), "\n")
		var exact []string
		valid := 0
		for i, line := range lines {
			text := strings.TrimSpace(line)
			if text == "" || text[0] == '#' {
				continue
			}
			p, perr := ParsePattern(text)
			if text == "*" || perr != nil || len(text) > maxListLine {
				if err == nil {
					t.Fatalf("line %d %q is invalid, and the list was accepted", i+1, text)
				}
				if want := "f:" + strconv.Itoa(i+1) + ": "; !strings.HasPrefix(err.Error(), want) {
					t.Fatalf("error %q, want it to start %q", err, want)
				}
				return
			}
			valid++
			if !p.Subdomains && !p.AnyPort {
				exact = append(exact, p.Origin.String())
			}
		}
		if err != nil || n != valid {
			t.Fatalf("every line valid, ParseList = %d, %v; want %d, nil", n, err, valid)
		}
		for _, o := range exact {
			if !m.Allows(o) {
				t.Fatalf("%q listed, yet not allowed", o)
			}
		}
	})
}
