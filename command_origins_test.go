package cors

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// corsOrigins runs `caddy cors-origins <args>` in dir and gives its exit
// status, its standard output, and the rest (its errors, Caddy's log).
func corsOrigins(t *testing.T, dir string, args ...string) (status int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], append([]string{"cors-origins"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CORS_TEST_RUN_CADDY=1", "HOME="+dir, "XDG_DATA_HOME="+filepath.Join(dir, "data"), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"))
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), out.String(), errOut.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, out.String(), errOut.String()
}

func TestCORSOriginsEditsTheStoredListAndValidatesFirst(t *testing.T) {
	dir := t.TempDir()
	storageDir := filepath.Join(dir, "storage")
	caddyfile := ":8080 {\n\tcors {\n\t\torigins_from storage tenants/origins.txt\n\t}\n}\n"
	global := "{\n\tstorage file_system " + storageDir + "\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "Caddyfile"), []byte(global+caddyfile), 0o600); err != nil {
		t.Fatal(err)
	}
	stored := func() string {
		data, _ := os.ReadFile(filepath.Join(storageDir, "tenants", "origins.txt"))
		return string(data)
	}
	if err := os.WriteFile(filepath.Join(dir, "new.txt"), []byte("# tenants\nhttps://a.example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		args       []string
		wantStatus int
		wantStored string
	}{
		{[]string{"set", "--from", "new.txt"}, 0, "# tenants\nhttps://a.example.com\n"},
		{[]string{"add", "https://b.example.com", "https://*.c.example.net", "https://a.example.com"}, 0, "# tenants\nhttps://a.example.com\nhttps://b.example.com\nhttps://*.c.example.net\n"},
		{[]string{"add", "https://d.example.com/"}, 1, "# tenants\nhttps://a.example.com\nhttps://b.example.com\nhttps://*.c.example.net\n"},
		{[]string{"remove", "https://b.example.com"}, 0, "# tenants\nhttps://a.example.com\nhttps://*.c.example.net\n"},
		{[]string{"remove", "https://never.example.com"}, 1, "# tenants\nhttps://a.example.com\nhttps://*.c.example.net\n"},
	}
	for _, s := range steps {
		status, _, out := corsOrigins(t, dir, append(s.args, "--config", "Caddyfile")...)
		if status != s.wantStatus {
			t.Errorf("cors-origins %q: exit status %d, want %d\n%s", s.args, status, s.wantStatus, out)
		}
		if got := stored(); got != s.wantStored {
			t.Errorf("after cors-origins %q the stored list is %q, want %q", s.args, got, s.wantStored)
		}
	}
	if status, out, _ := corsOrigins(t, dir, "list", "--key", "tenants/origins.txt", "--config", "Caddyfile"); status != 0 || out != stored() {
		t.Errorf("cors-origins list: %d %q, want the stored list", status, out)
	}
	if status, _, out := corsOrigins(t, dir, "list"); status != 1 || !bytes.Contains([]byte(out), []byte("--key")) {
		t.Errorf("cors-origins list without --config or --key: %d %q, want status 1 naming --key", status, out)
	}
}
