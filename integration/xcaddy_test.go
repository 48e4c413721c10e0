package integration

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// caddyVersion is the Caddy release the module is built and tested against
// (the one in go.mod).
const caddyVersion = "v2.11.9"

// TestXcaddyEquivalentBuild builds a Caddy binary the way
// `xcaddy build v2.11.9 --with github.com/caddy-cors/cors=<repo>` does
// (xcaddy's environment.go and builder.go, replayed with the go tool), so a
// user following the README gets a working binary: the module is listed,
// and `caddy validate` runs its configuration checks.
//
// It takes a minute or more (a full Caddy build with xcaddy's flags), so it
// is skipped under -short, except with CI=true where it always runs.
func TestXcaddyEquivalentBuild(t *testing.T) {
	if testing.Short() && !ciStrict() {
		t.Skip("xcaddy-equivalent build: skipped under -short")
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	// cmd/caddy/main.go is, by contract, the main.go xcaddy generates.
	mainGo, err := os.ReadFile(filepath.Join(repo, "cmd", "caddy", "main.go"))
	if err != nil {
		t.Fatal(err)
	}

	// A cold build takes minutes: run with go test -timeout 20m. Stop the go
	// tool a little before the test binary's own deadline so the failure
	// names the step that was slow instead of dumping goroutines.
	deadline, ok := t.Deadline()
	if !ok {
		deadline = time.Now().Add(15 * time.Minute)
	}
	ctx, cancel := context.WithDeadline(t.Context(), deadline.Add(-30*time.Second))
	defer cancel()
	dir := t.TempDir()
	// The build resolves every module from the local module cache, which
	// building this package has just filled with Caddy and its dependencies:
	// GOPROXY=off keeps the test hermetic and makes `go get` of the replaced
	// plugin use its replacement instead of asking a proxy for a module that
	// is not published (CADDY-NOTES section 5 verified this recipe).
	// GOWORK=off: a go.work above the temp dir must not leak in.
	goEnv := append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod", "GOWORK=off")
	// xcaddy's default flags, or, when this test binary runs under the race
	// detector, what XCADDY_RACE_DETECTOR=1 with empty XCADDY_GO_BUILD_FLAGS
	// gives: -race and cgo. That build reuses the race-built packages this
	// test binary was made of, instead of compiling all of Caddy once more
	// with other flags, which keeps the test command short on a fresh machine.
	buildFlags := []string{"-ldflags", "-w -s", "-trimpath", "-tags", "nobadger,nomysql,nopgx"}
	if raceEnabled {
		buildFlags = []string{"-race"}
		goEnv = append(goEnv, "CGO_ENABLED=1")
	} else {
		goEnv = append(goEnv, "CGO_ENABLED=0")
	}
	run := func(t *testing.T, dir string, env []string, name string, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = dir
		cmd.Env = env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out.String())
		}
		return out.String()
	}

	if err := os.WriteFile(filepath.Join(dir, "main.go"), mainGo, 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, dir, goEnv, "go", "mod", "init", "caddy")
	run(t, dir, goEnv, "go", "mod", "edit", "-replace", "github.com/caddy-cors/cors="+repo)
	run(t, dir, goEnv, "go", "get", "github.com/caddyserver/caddy/v2@"+caddyVersion)
	run(t, dir, goEnv, "go", "get", "github.com/caddy-cors/cors", "github.com/caddyserver/caddy/v2@"+caddyVersion)
	// Offline, chroma's import of github.com/dlclark/regexp2/v2 (not in the
	// build list yet) would be a network lookup: pin it to the version this
	// repository uses before the plain `go get`, and again after `go mod
	// tidy -e`, which may drop it (CADDY-NOTES section 5).
	regexp2 := "github.com/dlclark/regexp2/v2@" +
		strings.TrimSpace(run(t, repo, goEnv, "go", "list", "-m", "-f", "{{.Version}}", "github.com/dlclark/regexp2/v2"))
	run(t, dir, goEnv, "go", "get", regexp2)
	run(t, dir, goEnv, "go", "get")
	// xcaddy's `go mod tidy -e`: -e because offline it cannot resolve the
	// test dependencies of dependencies.
	run(t, dir, goEnv, "go", "mod", "tidy", "-e")
	run(t, dir, goEnv, "go", "get", regexp2)

	bin := filepath.Join(dir, "caddy")
	run(t, dir, goEnv, "go", append([]string{"build", "-o", bin}, buildFlags...)...)

	// The binary must not write into the developer's home.
	home := t.TempDir()
	caddyEnv := append(os.Environ(), "HOME="+home, "XDG_DATA_HOME="+home, "XDG_CONFIG_HOME="+home)

	if out := run(t, dir, caddyEnv, bin, "version"); !strings.HasPrefix(out, caddyVersion) {
		t.Errorf("caddy version = %q, want %s", out, caddyVersion)
	}
	if out := run(t, dir, caddyEnv, bin, "list-modules"); !containsLine(out, "http.handlers.cors") {
		t.Errorf("caddy list-modules does not list http.handlers.cors:\n%s", out)
	}

	t.Run("validate accepts a small Caddyfile using the cors directive", func(t *testing.T) {
		cfg := filepath.Join(dir, "Caddyfile")
		writeFile(t, cfg, `http://127.0.0.1:9199 {
	cors https://app.example {
		methods PUT DELETE
		headers Authorization Content-Type
		credentials
		max_age 10m
	}
	respond "ok"
}
`)
		run(t, dir, caddyEnv, bin, "validate", "--config", cfg, "--adapter", "caddyfile")
	})

	t.Run("validate refuses * together with credentials", func(t *testing.T) {
		cfg := filepath.Join(dir, "Caddyfile.bad")
		writeFile(t, cfg, `http://127.0.0.1:9199 {
	cors {
		origins *
		credentials
	}
	respond "ok"
}
`)
		cmd := exec.CommandContext(ctx, bin, "validate", "--config", cfg, "--adapter", "caddyfile")
		cmd.Env = caddyEnv
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Fatalf("caddy validate accepted origins * with credentials:\n%s", out)
		}
		// The Caddyfile parser runs the same validation, so the error names
		// the file and line.
		for _, want := range []string{"credentials", "Caddyfile.bad:"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("caddy validate's error does not mention %q:\n%s", want, out)
			}
		}
	})

	t.Run("validate accepts Caddyfile.example", func(t *testing.T) {
		example := filepath.Join(repo, "Caddyfile.example")
		if _, err := os.Stat(example); err != nil {
			t.Fatalf("the repository must ship Caddyfile.example: %v", err)
		}
		run(t, dir, caddyEnv, bin, "validate", "--config", example, "--adapter", "caddyfile")
	})
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
