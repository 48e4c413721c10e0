package integration

import (
	"os"
	"path/filepath"
	"testing"
)

// Each browser test that measures console texts rewrites its own section of
// the measured-messages file and keeps every other one.
func TestWriteSectionKeepsOtherSections(t *testing.T) {
	path := filepath.Join(t.TempDir(), "messages.md")
	doc := "# Title\n\nmain table\n\n## Local Network Access\n\nold LNA\n\n## WebSocket\n\nws rows\n"
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	writeSection(t, path, "## Local Network Access", "## Local Network Access\n\nnew LNA\n")
	writeSection(t, path, "", "# Title\n\nnew main table\n")
	writeSection(t, path, "## Gates", "## Gates\n\ngate rows\n")
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "# Title\n\nnew main table\n\n## Local Network Access\n\nnew LNA\n\n## WebSocket\n\nws rows\n\n## Gates\n\ngate rows\n"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
