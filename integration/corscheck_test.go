package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/caddy-cors/cors/internal/corscheck"
)

var (
	// corsCheckAPI is guarded by a cors policy that allows PUT and DELETE,
	// Content-Type and X-Request-Id, with credentials.
	corsCheckAPI = "http://127.0.0.1:" + portAtStart()
	// corsCheckBehindAuth puts cors after basic_auth in a route block: the
	// misconfiguration the directive's default order prevents.
	corsCheckBehindAuth = "http://127.0.0.1:" + portAtStart()
	// corsCheckNothing is a port nothing listens on.
	corsCheckNothing = "http://127.0.0.1:" + portAtStart()
)

func loadCorsCheckSites(t *testing.T) {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	loadCaddyfile(t, `
`+corsCheckAPI+` {
	cors `+appOrigin+` {
		methods PUT DELETE
		headers Content-Type X-Request-Id
		expose X-Request-Id
		credentials
		max_age 10m
	}
	header X-Request-Id 42
	respond "ok"
}

`+corsCheckBehindAuth+` {
	route {
		basic_auth {
			bob `+string(hash)+`
		}
		cors `+appOrigin+`
		respond "ok"
	}
}
`)
}

// TestCorsCheckAgainstCaddy runs the check a browser makes against a real
// Caddy with the cors directive: what the policy allows passes, and each
// refusal comes with Chromium's console message and the right fix.
func TestCorsCheckAgainstCaddy(t *testing.T) {
	loadCorsCheckSites(t)
	tests := []struct {
		name      string
		request   corscheck.Request
		verdict   string
		corsError string
		console   string // after "has been blocked by CORS policy: "
		fix       string
		readable  string
	}{
		{
			name: "an allowed PUT with credentials, JSON and an allowed header",
			request: corscheck.Request{URL: corsCheckAPI + "/items", Origin: appOrigin, Method: "PUT", Credentials: true,
				Headers: []corscheck.Header{{Name: "X-Request-Id", Value: "1"}}, BodyType: "application/json", Send: true},
			verdict:  corscheck.Allowed,
			readable: "content-length,content-type,x-request-id",
		},
		{
			name: "the same PUT without Send stops after the preflight",
			request: corscheck.Request{URL: corsCheckAPI + "/items", Origin: appOrigin, Method: "PUT", Credentials: true,
				Headers: []corscheck.Header{{Name: "X-Request-Id", Value: "1"}}, BodyType: "application/json"},
			verdict: corscheck.PreflightPassed,
		},
		{
			name:     "a simple GET needs no preflight",
			request:  corscheck.Request{URL: corsCheckAPI + "/items", Origin: appOrigin, Credentials: true},
			verdict:  corscheck.Allowed,
			readable: "content-length,content-type,x-request-id",
		},
		{
			name: "a header the policy does not allow",
			request: corscheck.Request{URL: corsCheckAPI + "/items", Origin: appOrigin, Method: "PUT",
				Headers: []corscheck.Header{{Name: "X-Foo", Value: "1"}}},
			verdict:   corscheck.Blocked,
			corsError: "HeaderDisallowedByPreflightResponse",
			console:   "Request header field x-foo is not allowed by Access-Control-Allow-Headers in preflight response.",
			fix:       "the cors module refused the preflight (header \"x-foo\" is not allowed): add x-foo to `headers` in the `cors` directive",
		},
		{
			name:      "patch is not PATCH, and neither is allowed",
			request:   corscheck.Request{URL: corsCheckAPI + "/items", Origin: appOrigin, Method: "patch"},
			verdict:   corscheck.Blocked,
			corsError: "MethodDisallowedByPreflightResponse",
			console:   "Method patch is not allowed by Access-Control-Allow-Methods in preflight response.",
			fix: "the cors module refused the preflight (method \"patch\" is not allowed): browsers send the method as the script wrote it " +
				"(they upper-case only DELETE GET HEAD OPTIONS POST PUT), and methods are case-sensitive: " +
				"write PATCH in the script (fetch(url, {method: \"PATCH\"})) and add PATCH to `methods` in the `cors` directive",
		},
		{
			name:      "an origin the policy does not allow, on a preflight",
			request:   corscheck.Request{URL: corsCheckAPI + "/items", Origin: "https://evil.example", Method: "PUT"},
			verdict:   corscheck.Blocked,
			corsError: "PreflightMissingAllowOriginHeader",
			fix:       "the cors module refused the preflight (origin \"https://evil.example\" is not allowed): if this origin should be allowed, add it to `origins`",
		},
		{
			name:      "an origin the policy does not allow",
			request:   corscheck.Request{URL: corsCheckAPI + "/items", Origin: "https://evil.example"},
			verdict:   corscheck.Blocked,
			corsError: "MissingAllowOriginHeader",
			fix:       "if this origin should be allowed, add it to `cors`",
		},
		{
			name:      "cors placed after basic_auth meets a 401",
			request:   corscheck.Request{URL: corsCheckBehindAuth + "/items", Origin: appOrigin, Method: "DELETE"},
			verdict:   corscheck.Blocked,
			corsError: "PreflightMissingAllowOriginHeader",
			fix:       "the preflight met authentication (401)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := corscheck.Run(context.Background(), corscheck.NewClient(requestTimeout), tt.request)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if rep.Verdict != tt.verdict || rep.CorsError != tt.corsError {
				var text bytes.Buffer
				rep.WriteText(&text)
				t.Fatalf("verdict %s (%s), want %s (%s)\n%s", rep.Verdict, rep.CorsError, tt.verdict, tt.corsError, text.String())
			}
			if tt.console != "" {
				want := "Access to fetch at '" + tt.request.URL + "' from origin '" + tt.request.Origin + "' has been blocked by CORS policy: " + tt.console
				if rep.ConsoleMessage != want {
					t.Errorf("console message\n got: %s\nwant: %s", rep.ConsoleMessage, want)
				}
			}
			if !strings.Contains(rep.Fix, tt.fix) {
				t.Errorf("fix %q does not contain %q", rep.Fix, tt.fix)
			}
			if got := strings.Join(rep.ReadableHeaders, ","); got != tt.readable {
				t.Errorf("readable headers %q, want %q", got, tt.readable)
			}
		})
	}
}

// TestCorsCheckCommand runs the real `caddy cors-check` from a binary built
// from cmd/caddy: its exit status is 0 for allowed, 1 for blocked, 2 when
// the server cannot be reached.
func TestCorsCheckCommand(t *testing.T) {
	loadCorsCheckSites(t)
	caddyBinary := buildCaddy(t)

	run := func(t *testing.T, args ...string) (int, string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, caddyBinary, append([]string{"cors-check"}, args...)...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		switch {
		case err == nil:
			return 0, stdout.String()
		case errors.As(err, &exit):
			return exit.ExitCode(), stdout.String() + stderr.String()
		}
		t.Fatalf("caddy cors-check: %v", err)
		return 0, ""
	}

	t.Run("allowed, as JSON", func(t *testing.T) {
		status, out := run(t, "--origin", appOrigin, "--method", "PUT", "--header", "X-Request-Id: 1",
			"--body-type", "application/json", "--credentials", "--send", "--json", corsCheckAPI+"/items")
		if status != 0 {
			t.Fatalf("exit %d, want 0\n%s", status, out)
		}
		var rep struct {
			Verdict         string   `json:"verdict"`
			ReadableHeaders []string `json:"readable_headers"`
			Steps           []struct {
				Name    string `json:"name"`
				Outcome string `json:"outcome"`
			} `json:"steps"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out)
		}
		if rep.Verdict != "allowed" || len(rep.Steps) != 3 || rep.Steps[1].Outcome != "passed" ||
			strings.Join(rep.ReadableHeaders, ",") != "content-length,content-type,x-request-id" {
			t.Errorf("unexpected report:\n%s", out)
		}
	})

	t.Run("blocked: a header the policy does not allow", func(t *testing.T) {
		status, out := run(t, "--origin", appOrigin, "--method", "PUT", "-H", "X-Foo: 1", corsCheckAPI+"/items")
		if status != 1 {
			t.Fatalf("exit %d, want 1\n%s", status, out)
		}
		for _, want := range []string{
			"Verdict: BLOCKED at the preflight (HeaderDisallowedByPreflightResponse)",
			"Console (Chromium): Access to fetch at '" + corsCheckAPI + "/items' from origin '" + appOrigin + "' has been blocked by CORS policy: " +
				"Request header field x-foo is not allowed by Access-Control-Allow-Headers in preflight response.",
			"Fix: the cors module refused the preflight (header \"x-foo\" is not allowed)",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("--browser webkit: its preflight-cache cap", func(t *testing.T) {
		status, out := run(t, "--origin", appOrigin, "--method", "DELETE", "--browser", "webkit", corsCheckAPI+"/items")
		if status != 0 || !strings.Contains(out, "600 s: WebKit keeps it 600 s (cap 600 s); Chromium 600 s (cap 7200 s), Firefox 600 s (cap 86400 s)") {
			t.Errorf("exit %d, want 0 and WebKit's cap first\n%s", status, out)
		}
	})

	t.Run("--browser with an unknown engine: exit 2", func(t *testing.T) {
		if status, out := run(t, "--origin", appOrigin, "--browser", "opera", corsCheckAPI+"/"); status != 2 || !strings.Contains(out, "use chromium, firefox, webkit") {
			t.Errorf("exit %d, want 2 and the three engines\n%s", status, out)
		}
	})

	t.Run("no server: exit 2", func(t *testing.T) {
		if status, out := run(t, "--origin", appOrigin, corsCheckNothing+"/"); status != 2 {
			t.Errorf("exit %d, want 2\n%s", status, out)
		}
	})

	t.Run("no URL: the usage, exit 2", func(t *testing.T) {
		status, out := run(t, "--origin", appOrigin)
		if status != 2 || !strings.Contains(out, "Usage:\n  caddy cors-check --origin <origin>") || !strings.Contains(out, "/docs/cors-check.md") {
			t.Errorf("exit %d, want 2 and the usage with the docs page\n%s", status, out)
		}
	})

	t.Run("--help points to the docs page, not Caddy's", func(t *testing.T) {
		status, out := run(t, "--help")
		if status != 0 || !strings.Contains(out, "/docs/cors-check.md") || strings.Contains(out, "caddyserver.com/docs/command-line") {
			t.Errorf("exit %d, want 0 and the docs page alone\n%s", status, out)
		}
	})

	t.Run("a URL without a scheme: did you mean", func(t *testing.T) {
		if status, out := run(t, "--origin", appOrigin, "localhost:1/x"); status != 2 || !strings.Contains(out, "did you mean http://localhost:1/x") {
			t.Errorf("exit %d, want 2 and the URL with http://\n%s", status, out)
		}
	})

	t.Run("usage error: exit 2", func(t *testing.T) {
		if status, out := run(t, "--origin", appOrigin+"/", corsCheckAPI+"/"); status != 2 || !strings.Contains(out, "not how a browser writes it") {
			t.Errorf("exit %d, want 2 and the canonical origin\n%s", status, out)
		}
		if status, out := run(t, "--no-such-flag", corsCheckAPI+"/"); status != 2 {
			t.Errorf("unknown flag: exit %d, want 2\n%s", status, out)
		}
	})
}

// buildCaddy builds cmd/caddy (Caddy with the cors module) into a
// temporary directory, as a user would with `go build ./cmd/caddy`.
func buildCaddy(t *testing.T) string {
	t.Helper()
	binary := filepath.Join(t.TempDir(), "caddy")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", binary, "./cmd/caddy")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/caddy: %v\n%s", err, out)
	}
	return binary
}
