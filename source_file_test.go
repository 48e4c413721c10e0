package cors

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func fileSourceJSON(path string) string {
	p, _ := json.Marshal(path)
	return `{"origin_sources": [{"source": "file", "path": ` + string(p) + `, "interval": "1h"}]}`
}

func TestFileSourceLoadErrorsNameTheFileAndLine(t *testing.T) {
	dir := t.TempDir()
	invalid := filepath.Join(dir, "invalid.txt")
	if err := os.WriteFile(invalid, []byte("# tenants\nhttps://a.example.com\nhttps://b.example.com/\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		want       []string
	}{
		{"missing", filepath.Join(dir, "missing.txt"), []string{"missing.txt", "no such file"}},
		{"invalid line", invalid, []string{invalid + ":3: ", "https://b.example.com"}},
	}
	for _, tt := range tests {
		_, err := loadCORS(t, fileSourceJSON(tt.path))
		for _, w := range tt.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v, want an error containing %q", tt.name, err, w)
			}
		}
	}
}

func TestFileSourceAllowsItsListAndOnlyIt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "origins.txt")
	if err := os.WriteFile(path, []byte("https://a.example.com\nhttps://*.tenants.example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := loadCORS(t, fileSourceJSON(path))
	if err != nil {
		t.Fatal(err)
	}
	for origin, want := range map[string]bool{
		"https://a.example.com": true, "https://x.tenants.example": true, "https://b.example.com": false,
	} {
		if _, rej := c.policy.Actual([]string{origin}); rej.Refused() == want {
			t.Errorf("%s: refused %v (%s), want allowed %v", origin, rej.Refused(), rej.Reason, want)
		}
	}
}

// Ten megabytes of junk written over a good list is refused with its
// first line, and the good list stays in force.
func TestFileSourceRefusesTenMegabytesOfJunkAndKeepsItsList(t *testing.T) {
	path := filepath.Join(t.TempDir(), "origins.txt")
	if err := os.WriteFile(path, []byte("https://a.example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := loadCORS(t, fileSourceJSON(path))
	if err != nil {
		t.Fatal(err)
	}
	source := c.sources[0].(*FileSource)
	junk := bytes.Repeat([]byte("\x00\xffjunk, more junk\x7f\n"), 10<<20/20)
	if err := os.WriteFile(path+".tmp", junk, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}
	changed, err := source.reload()
	if changed || err == nil || !strings.HasPrefix(err.Error(), path+":1: ") || len(err.Error()) > 1024 {
		t.Fatalf("reload of 10 MB of junk: changed %v, %.200v; want an error naming %s:1, in a line", changed, err, path)
	}
	if _, rej := c.policy.Actual([]string{"https://a.example.com"}); rej.Refused() {
		t.Errorf("the good list was dropped: %s", rej.Reason)
	}
}
