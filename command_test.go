package cors

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"unicode"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/caddy-cors/cors/internal/corscheck"
)

// runCorsCheck runs `caddy cors-check args...` with the flags the command
// registers, and returns its exit status, output and error.
func runCorsCheck(t *testing.T, args ...string) (int, string, error) {
	t.Helper()
	// corsCheckCommand rather than caddycmd.Commands(), which does not list
	// the commands of plugins in Caddy v2.9 and v2.10.0.
	cmd := &cobra.Command{}
	corsCheckCommand.CobraFunc(cmd)
	if err := cmd.Flags().Parse(args); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	status, err := cmdCorsCheck(caddycmd.Flags{FlagSet: cmd.Flags()}, &out)
	return status, out.String(), err
}

func TestCorsCheckRefusesAnUnknownBrowser(t *testing.T) {
	status, _, err := runCorsCheck(t, "--origin", "https://app.example.com", "--browser", "opera", "http://127.0.0.1:1/")
	if status != corscheck.ExitError || err == nil || !strings.Contains(err.Error(), "use chromium, firefox, webkit") {
		t.Errorf("exit %d, error %v; want 2 and the three engines", status, err)
	}
}

// The server's bytes reach the terminal through the text report and
// through --json; neither may carry a control or a bidi override.
func TestCorsCheckEscapesTheServersBytesInBothOutputs(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "https://app.example.com\x9b2J\u202e")
		w.Header().Set("Location", "/\u202etxt.exe")
		w.WriteHeader(http.StatusFound)
	}))
	defer srv.Close()
	for format, escaped := range map[string]string{"--json=false": `\x9b2J\u202e`, "--json": `\\x9b2J\\u202e`} {
		t.Run(format, func(t *testing.T) {
			status, out, err := runCorsCheck(t, "--origin", "https://app.example.com", format, srv.URL+"/items")
			if status != corscheck.ExitBlocked || err != nil {
				t.Fatalf("exit %d, error %v; want blocked\n%s", status, err, out)
			}
			for _, r := range out {
				if r != '\n' && !unicode.IsPrint(r) {
					t.Errorf("output holds %U:\n%s", r, out)
				}
			}
			if !strings.Contains(out, escaped) {
				t.Errorf("output does not show the escaped value:\n%s", out)
			}
		})
	}
}

// A server can send the text of an escape ("\x1b" as four characters) as
// well as the control byte itself: the report must tell them apart, in
// the text and in --json.
func TestCorsCheckTellsAServersBackslashFromAnEscape(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "CORS preflight rejected: byte \x1b[2J, text \\x1b[2J", http.StatusForbidden)
	}))
	defer srv.Close()
	for format, want := range map[string]string{
		"--json=false": `byte \x1b[2J, text \\x1b[2J`,
		"--json":       `byte \\x1b[2J, text \\\\x1b[2J`,
	} {
		t.Run(format, func(t *testing.T) {
			status, out, err := runCorsCheck(t, "--origin", "https://app.example.com", "--method", "PUT", format, srv.URL+"/items")
			if status != corscheck.ExitBlocked || err != nil {
				t.Fatalf("exit %d, error %v; want blocked\n%s", status, err, out)
			}
			if !strings.Contains(out, want) {
				t.Errorf("output does not show %s:\n%s", want, out)
			}
		})
	}
}

// cors-check must never change data by default: a PUT reaches the server
// only with --send, and the output says whether it was sent.
func TestCorsCheckSendsAPutOnlyWithSend(t *testing.T) {
	var puts, preflights atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "https://app.example.com")
		switch r.Method {
		case http.MethodOptions:
			preflights.Add(1)
			w.Header().Set("Access-Control-Allow-Methods", "PUT")
			w.WriteHeader(http.StatusNoContent)
		case http.MethodPut:
			puts.Add(1)
		}
	}))
	defer srv.Close()
	tests := []struct {
		args []string
		puts int32
		want string
	}{
		{[]string{}, 0, "Verdict: PREFLIGHT PASSED; the actual PUT was not sent (add --send to send it and check its response)"},
		{[]string{"--json"}, 0, `"actual_request_sent": false`},
		{[]string{"--send"}, 1, "Verdict: ALLOWED"},
		{[]string{"--send", "--json"}, 1, `"actual_request_sent": true`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(append([]string{"flags"}, tt.args...), " "), func(t *testing.T) {
			puts.Store(0)
			preflights.Store(0)
			args := append([]string{"--origin", "https://app.example.com", "--method", "PUT"}, tt.args...)
			status, out, err := runCorsCheck(t, append(args, srv.URL+"/items/1")...)
			if status != 0 || err != nil {
				t.Fatalf("exit %d, error %v; want 0\n%s", status, err, out)
			}
			if puts.Load() != tt.puts || preflights.Load() != 1 {
				t.Errorf("the server got %d PUT and %d preflights, want %d and 1", puts.Load(), preflights.Load(), tt.puts)
			}
			if !strings.Contains(out, tt.want) {
				t.Errorf("output lacks %q:\n%s", tt.want, out)
			}
		})
	}
}

// newCaddyRoot is the cobra command `caddy` as Caddy's cmd package builds
// it (SilenceUsage, and a help footer pointing to Caddy's site), with
// cors-check added as RegisterCommand adds it.
func newCaddyRoot(stdout, stderr *bytes.Buffer) *cobra.Command {
	root := &cobra.Command{Use: "caddy", SilenceUsage: true}
	root.SetHelpTemplate(root.HelpTemplate() + "\nFull documentation is available at:\nhttps://caddyserver.com/docs/command-line\n")
	cmd := &cobra.Command{Use: corsCheckCommand.Name + " " + corsCheckCommand.Usage, Short: corsCheckCommand.Short, Long: corsCheckCommand.Long}
	corsCheckCommand.CobraFunc(cmd)
	root.AddCommand(cmd)
	root.SetOut(stdout)
	root.SetErr(stderr)
	return root
}

func TestCorsCheckWithoutAURLPrintsItsUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	root := newCaddyRoot(&stdout, &stderr)
	root.SetArgs([]string{"cors-check", "--origin", "https://app.example.com"})
	err := root.Execute()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"Usage:\n  caddy cors-check --origin <origin>", "--send", corsCheckDocs} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}

func TestCorsCheckHelpPointsToItsOwnPage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	root := newCaddyRoot(&stdout, &stderr)
	root.SetArgs([]string{"cors-check", "--help"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	help := stdout.String()
	if !strings.Contains(help, "Full documentation of cors-check:\n"+corsCheckDocs) || strings.Contains(help, "caddyserver.com/docs/command-line") {
		t.Errorf("help does not point to %s alone:\n%s", corsCheckDocs, help)
	}
}
