package integration

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// localPlugin is the version to give xcaddy for the plugin with a local
// replacement: the zero pseudo-version makes Go take the directory without
// asking a module proxy about a module that may not be published.
const localPlugin = "github.com/caddy-cors/cors@v0.0.0-00010101000000-000000000000"

// TestXcaddyBuild builds Caddy with the module using the real xcaddy, as the
// README tells users to, at the oldest Caddy version the module supports (the
// one the plugin's go.mod requires) and at the version these integration
// tests run against (the newest), and checks each binary: the module is
// listed, `caddy validate` accepts Caddyfile.example and refuses a dangerous
// policy with its file and line, and a running Caddy answers a preflight and
// an actual request through a real reverse_proxy upstream.
//
// Each build takes a minute or more, so the test is skipped under -short,
// except with CI=true where it always runs.
func TestXcaddyBuild(t *testing.T) {
	if testing.Short() && !ciStrict() {
		t.Skip("xcaddy build: skipped under -short")
	}
	xcaddy := findXcaddy(t)
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	oldest := caddyRequiredBy(t, repo)
	newest := caddyRequiredBy(t, ".")
	if oldest == newest {
		t.Fatalf("the plugin requires Caddy %s, the newest tested: the oldest supported version is no longer built", oldest)
	}
	for _, version := range []string{oldest, newest} {
		t.Run(version, func(t *testing.T) {
			bin := buildWithXcaddy(t, xcaddy, version, repo)
			checkCaddyBinary(t, bin, version, repo)
		})
	}
}

// findXcaddy returns the path of xcaddy, from PATH or `go env GOPATH`/bin
// where `go install` puts it. It is missing only on a machine that did not
// run scripts/test.sh, which installs it.
func findXcaddy(t *testing.T) string {
	t.Helper()
	if path, err := exec.LookPath("xcaddy"); err == nil {
		return path
	}
	if gopath, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		path := filepath.Join(strings.TrimSpace(string(gopath)), "bin", "xcaddy")
		if _, err := os.Stat(path); err == nil {
			return path
		}
	}
	msg := "xcaddy not found: go install github.com/caddyserver/xcaddy/cmd/xcaddy@v0.4.5"
	if ciStrict() {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// caddyRequiredBy returns the Caddy version in the build list of the Go
// module in dir.
func caddyRequiredBy(t *testing.T, dir string) string {
	t.Helper()
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Version}}", "github.com/caddyserver/caddy/v2")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list -m github.com/caddyserver/caddy/v2 in %s: %v\n%s", dir, err, out)
	}
	return strings.TrimSpace(string(out))
}

// buildWithXcaddy runs `xcaddy build <version> --with <plugin>=<repo>` and
// returns the binary's path.
func buildWithXcaddy(t *testing.T, xcaddy, version, repo string) string {
	t.Helper()
	// Stop xcaddy a little before the test binary's own deadline so the
	// failure shows xcaddy's output instead of a goroutine dump.
	deadline, ok := t.Deadline()
	if !ok {
		deadline = time.Now().Add(15 * time.Minute)
	}
	ctx, cancel := context.WithDeadline(t.Context(), deadline.Add(-30*time.Second))
	defer cancel()
	bin := filepath.Join(t.TempDir(), "caddy")
	cmd := exec.CommandContext(ctx, xcaddy, "build", version, "--output", bin, "--with", localPlugin+"="+repo)
	cmd.Dir = t.TempDir()
	// GOWORK=off: a go.work above xcaddy's temporary module must not leak in.
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if raceEnabled {
		// Build as this test binary was built (-race, no -trimpath, so the
		// same build cache entries): the packages that the test run has
		// already compiled are reused instead of compiled a second time with
		// xcaddy's release flags, which keeps the test command short.
		cmd.Env = append(cmd.Env, "XCADDY_RACE_DETECTOR=1", "XCADDY_GO_BUILD_FLAGS=-tags=nobadger,nomysql,nopgx")
	}
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("xcaddy build %s: %v\n%s", version, err, out)
	}
	t.Logf("xcaddy build %s took %v", version, time.Since(start).Round(time.Second))
	return bin
}

// checkCaddyBinary runs the checks of TestXcaddyBuild on one binary.
func checkCaddyBinary(t *testing.T, bin, version, repo string) {
	// The binary must not write into the developer's home.
	home := t.TempDir()
	env := append(os.Environ(), "HOME="+home, "XDG_DATA_HOME="+home, "XDG_CONFIG_HOME="+home)
	caddy := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	if out, err := caddy("version"); err != nil || !strings.HasPrefix(out, version) {
		t.Errorf("caddy version = %q (%v), want %s", out, err, version)
	}
	if out, err := caddy("list-modules"); err != nil || !containsLine(out, "http.handlers.cors") {
		t.Errorf("caddy list-modules does not list http.handlers.cors (%v):\n%s", err, out)
	}
	if out, err := caddy("validate", "--config", filepath.Join(repo, "Caddyfile.example")); err != nil {
		t.Errorf("caddy validate --config Caddyfile.example: %v\n%s", err, out)
	}

	bad := filepath.Join(t.TempDir(), "Caddyfile")
	writeFile(t, bad, "http://"+freeAddr(t)+" {\n\tcors {\n\t\torigins *\n\t\tcredentials\n\t}\n\trespond \"ok\"\n}\n")
	out, err := caddy("validate", "--config", bad)
	if err == nil {
		t.Errorf("caddy validate accepted origins * with credentials:\n%s", out)
	}
	// The Caddyfile parser runs the module's validation, so the error names
	// the file and line.
	if !strings.Contains(out, "credentials") || !strings.Contains(out, "Caddyfile:") {
		t.Errorf("caddy validate's error names neither credentials nor the file and line:\n%s", out)
	}

	smokeTest(t, bin, env)
}

// smokeTest runs the binary with a cors policy in front of a reverse_proxy
// to an upstream that sets its own Access-Control-Allow-Origin, all on
// loopback, and sends an allowed preflight, a refused one and an actual
// request.
func smokeTest(t *testing.T, bin string, env []string) {
	var upstreamHits atomic.Int32
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		upstreamHits.Add(1)
		w.Header().Set("Access-Control-Allow-Origin", "*")
		fmt.Fprint(w, "from upstream")
	}))
	t.Cleanup(upstream.Close)

	site := "127.0.0.1:" + freePort(t)
	config := filepath.Join(t.TempDir(), "Caddyfile")
	writeFile(t, config, fmt.Sprintf(`{
	admin off
	persist_config off
}
http://%s {
	cors https://app.example {
		methods PUT
		headers X-Token
	}
	reverse_proxy %s
}
`, site, strings.TrimPrefix(upstream.URL, "http://")))

	// Caddy's output goes to a file, read only to explain a failure.
	logPath := filepath.Join(t.TempDir(), "caddy.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	output := func() string {
		b, _ := os.ReadFile(logPath)
		return string(b)
	}
	cmd := exec.Command(bin, "run", "--config", config)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var exitErr error
	go func() {
		exitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-exited:
			t.Fatalf("caddy run exited: %v\n%s", exitErr, output())
		default:
		}
		if conn, err := net.DialTimeout("tcp", site, time.Second); err == nil {
			conn.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("caddy run did not listen on %s within 30s:\n%s", site, output())
		}
		time.Sleep(100 * time.Millisecond)
	}

	client := newClient()
	send := func(method string, headers map[string]string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest(method, "http://"+site+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		for name, value := range headers {
			req.Header.Set(name, value)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v\ncaddy's output:\n%s", method, err, output())
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}

	resp, _ := send(http.MethodOptions, map[string]string{
		"Origin":                         "https://app.example",
		"Access-Control-Request-Method":  "PUT",
		"Access-Control-Request-Headers": "x-token",
	})
	if resp.StatusCode != http.StatusNoContent ||
		resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" ||
		resp.Header.Get("Access-Control-Allow-Methods") != "PUT" ||
		resp.Header.Get("Access-Control-Allow-Headers") != "x-token" {
		t.Errorf("allowed preflight: %d %v", resp.StatusCode, resp.Header)
	}
	if n := upstreamHits.Load(); n != 0 {
		t.Errorf("the allowed preflight reached the upstream (%d requests)", n)
	}

	resp, body := send(http.MethodOptions, map[string]string{
		"Origin":                        "https://evil.example",
		"Access-Control-Request-Method": "PUT",
	})
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("refused preflight: %d %v %q", resp.StatusCode, resp.Header, body)
	}

	resp, body = send(http.MethodPut, map[string]string{"Origin": "https://app.example", "X-Token": "1"})
	if got := resp.Header.Values("Access-Control-Allow-Origin"); resp.StatusCode != http.StatusOK || body != "from upstream" ||
		len(got) != 1 || got[0] != "https://app.example" {
		t.Errorf("actual request through reverse_proxy: %d %q, Access-Control-Allow-Origin %q (want exactly https://app.example)",
			resp.StatusCode, body, got)
	}
	if n := upstreamHits.Load(); n != 1 {
		t.Errorf("the upstream got %d requests, want 1 (the actual request)", n)
	}
}

// containsLine reports whether text has a line equal to line (ignoring
// surrounding spaces).
func containsLine(text, line string) bool {
	for l := range strings.Lines(text) {
		if strings.TrimSpace(l) == line {
			return true
		}
	}
	return false
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
