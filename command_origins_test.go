package cors

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
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

// One change, every instance: two Caddy processes that share a storage
// directory both allow an origin added once with cors-origins.
func TestCORSOriginsReachesEveryInstanceSharingTheStorage(t *testing.T) {
	dir := t.TempDir()
	storageDir := filepath.Join(dir, "storage")
	var urls []string
	for i := range 2 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		instance := filepath.Join(dir, fmt.Sprintf("instance%d", i))
		if err := os.Mkdir(instance, 0o700); err != nil {
			t.Fatal(err)
		}
		caddyfile := fmt.Sprintf("{\n\tadmin off\n\tstorage file_system %s\n}\nhttp://%s {\n\tbind 127.0.0.1\n\tcors {\n\t\torigins_from storage tenants/origins.txt {\n\t\t\tinterval 50ms\n\t\t}\n\t}\n\trespond \"ok\"\n}\n", storageDir, addr)
		if err := os.WriteFile(filepath.Join(instance, "Caddyfile"), []byte(caddyfile), 0o600); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if err := os.WriteFile(filepath.Join(instance, "first.txt"), []byte("https://first.example\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if status, _, out := corsOrigins(t, instance, "set", "--from", "first.txt", "--config", "Caddyfile"); status != 0 {
				t.Fatalf("cors-origins set: %d\n%s", status, out)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := exec.CommandContext(ctx, os.Args[0], "run", "--config", "Caddyfile")
		cmd.Dir = instance
		cmd.Env = append(os.Environ(), "CORS_TEST_RUN_CADDY=1", "HOME="+instance, "XDG_DATA_HOME="+filepath.Join(instance, "data"), "XDG_CONFIG_HOME="+filepath.Join(instance, "config"))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cancel()
			_ = cmd.Wait()
		})
		urls = append(urls, "http://"+addr+"/")
	}

	client := &http.Client{Timeout: 5 * time.Second}
	allowed := func(url, origin string) bool {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Origin", origin)
		resp, err := client.Do(req)
		if err != nil {
			return false // not listening yet
		}
		resp.Body.Close()
		return resp.Header.Get("Access-Control-Allow-Origin") == origin
	}
	waitAllowed := func(origin string) {
		t.Helper()
		for _, url := range urls {
			deadline := time.Now().Add(30 * time.Second)
			for !allowed(url, origin) {
				if time.Now().After(deadline) {
					t.Fatalf("%s never allowed %s", url, origin)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
	waitAllowed("https://first.example")
	if status, _, out := corsOrigins(t, filepath.Join(dir, "instance1"), "add", "https://added.example", "--config", "Caddyfile"); status != 0 {
		t.Fatalf("cors-origins add: %d\n%s", status, out)
	}
	waitAllowed("https://added.example")
}
