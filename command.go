package cors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/caddy-cors/cors/internal/corscheck"
)

func init() {
	caddycmd.RegisterCommand(corsCheckCommand)
}

// corsCheckDocs is the command's documentation page; Caddy's own help
// footer points to its site, which does not cover plugin commands.
const corsCheckDocs = "https://github.com/caddy-cors/cors/blob/main/docs/cors-check.md"

// corsCheckCommand is `caddy cors-check`.
var corsCheckCommand = caddycmd.Command{
	Name:  "cors-check",
	Usage: "--origin <origin> [--method <method>] [--header '<name>: <value>'...] [--credentials] [--body-type <mime-type>] [--send] [--browser chromium|firefox|webkit] [--json] [--timeout <duration>] <url>",
	Short: "Checks a cross-origin request the way a browser does",
	Long: `
Makes the CORS check a browser makes for a fetch() from a page at --origin
to <url> (the Fetch standard's checks, in Chromium's order), against any
server, and prints each step:

 1. whether the request needs a preflight, and why (the method, and each
    header against the CORS-safelisted request-header rules);
 2. the preflight exactly as a browser sends it (OPTIONS, Origin,
    Access-Control-Request-Method and -Headers, no credentials, redirects
    not followed), and the checks a browser applies to its response;
 3. the actual request, the CORS check of its response, and the response
    headers a script could read. A request whose method may change data
    (any but GET and HEAD) is sent only with --send: without it the check
    stops after the preflight, where CORS decides for such a request.

It ends with the verdict and, when the browser would block the request, the
message the browser prints in the console and the likely fix. When a public
page fetches a loopback, private, link-local or .local address, it adds
the Local Network Access verdict (Chromium and Firefox): a permission the user grants, which
no response header can.

What it reads from the server is bounded: 256 KiB of response headers (it
stops with no verdict beyond that), the first 64 KiB of a body, 100 header
lines listed, 256 bytes quoted of any value; the report says where it cut.
Control characters and bidirectional overrides the server sent are printed
as escapes (\x9b, \u202e), in the text and in --json.

Exit status: 0 when the browser would allow the request (or, without
--send, when the preflight passed), 1 when it would block it, 2 on a usage
error, when the server cannot be reached, or for a POST that needs no
preflight when --send is not given.

--origin
    The origin of the page making the request, as the browser sends it:
    scheme://host[:port], or null.

--method
    The request method. Default: GET. Like fetch(), only DELETE, GET, HEAD,
    OPTIONS, POST and PUT are upper-cased; patch stays patch.

--header, -H
    A header the script sets, as 'Name: value'. Repeatable.

--credentials
    The request is made with credentials: 'include' (withCredentials for
    XHR). The credentials rules apply; no cookie is sent, as there is no
    cookie jar.

--body-type
    The Content-Type of the body the script sends.

--send
    Send the actual request whatever its method. Without it, cors-check
    sends a method other than GET and HEAD only as a preflight (OPTIONS):
    the server may act on the request itself (create, change or delete
    data). The report says whether the actual request was sent.

--browser
    The engine whose console message the report quotes and whose
    preflight-cache cap (Chromium 2 h, Firefox 24 h, WebKit 10 min) it
    applies to Access-Control-Max-Age: chromium, firefox or webkit.
    Default: chromium. The checks are the Fetch standard's either way.

--json
    Print the report as a JSON object.

--timeout
    Time limit of each request. Default: 10s.
`,
	CobraFunc: func(cmd *cobra.Command) {
		cmd.Flags().String("origin", "", "Origin of the page making the request")
		cmd.Flags().String("method", "GET", "Request method")
		cmd.Flags().StringArrayP("header", "H", nil, "Request header 'Name: value' set by the script (repeatable)")
		cmd.Flags().Bool("credentials", false, "Make the request with credentials: 'include'")
		cmd.Flags().String("body-type", "", "Content-Type of the request body")
		cmd.Flags().Bool("send", false, "Send the actual request even when its method may change data (any but GET and HEAD)")
		cmd.Flags().String("browser", string(corscheck.Chromium), "Engine whose console message and preflight cache to follow: chromium, firefox or webkit")
		cmd.Flags().Bool("json", false, "Print the report as JSON")
		cmd.Flags().Duration("timeout", corscheck.DefaultTimeout, "Time limit of each request")
		// A template of its own replaces the footer Caddy sets on every
		// command, which points to Caddy's site.
		cmd.SetHelpTemplate((&cobra.Command{}).HelpTemplate() + "\nFull documentation of cors-check:\n" + corsCheckDocs + "\n")
		// A flag error is a usage error: exit 2, like the command's own.
		cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
			return exitWith(c, corscheck.ExitError, err)
		})
		cmd.RunE = func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				// Run without a URL, as a first try often is: show how to
				// call it, not only an error.
				c.PrintErr(c.UsageString() + "\nFull documentation of cors-check:\n" + corsCheckDocs + "\n\n")
				return exitWith(c, corscheck.ExitError, errors.New("give the URL to check, such as https://api.example.com/items"))
			}
			status, err := cmdCorsCheck(caddycmd.Flags{FlagSet: c.Flags()}, os.Stdout)
			return exitWith(c, status, err)
		}
	},
}

var errBlocked = errors.New("the browser would block this request")

// exitWith makes Caddy's Main exit with status, printing err first. The
// command prints its error itself: Caddy's WrapCommandFuncForCobra logs it
// only since v2.11, and before that exits 2 without a word.
func exitWith(c *cobra.Command, status int, err error) error {
	if err != nil {
		caddy.Log().Error(err.Error())
	}
	switch status {
	case 0:
		return nil
	case corscheck.ExitBlocked:
		// Caddy's Main exits 1 on any error that is not its own exit
		// error, and a blocked verdict is already printed.
		c.SilenceErrors = true
		return errBlocked
	default:
		// The error is printed: cobra must not add "exiting with status 2".
		c.SilenceErrors = true
		return caddycmd.WrapCommandFuncForCobra(func(caddycmd.Flags) (int, error) { return status, nil })(c, nil)
	}
}

// cmdCorsCheck runs the check and prints the report to out; it returns
// the exit status and, for status 2, the error.
func cmdCorsCheck(fl caddycmd.Flags, out io.Writer) (int, error) {
	if fl.NArg() != 1 {
		return corscheck.ExitError, fmt.Errorf("give exactly one URL to check, got %d arguments", fl.NArg())
	}
	var headers []corscheck.Header
	rawHeaders, err := fl.GetStringArray("header")
	if err != nil {
		return corscheck.ExitError, err
	}
	for _, raw := range rawHeaders {
		name, value, ok := strings.Cut(raw, ":")
		if !ok {
			return corscheck.ExitError, fmt.Errorf("header %q: write it as 'Name: value'", raw)
		}
		headers = append(headers, corscheck.Header{Name: strings.TrimSpace(name), Value: value})
	}
	timeout, err := fl.GetDuration("timeout")
	if err != nil {
		return corscheck.ExitError, err
	}
	if timeout <= 0 {
		return corscheck.ExitError, fmt.Errorf("--timeout must be positive, got %s", timeout)
	}

	report, err := corscheck.Run(context.Background(), corscheck.NewClient(timeout), corscheck.Request{
		URL:         fl.Arg(0),
		Origin:      fl.String("origin"),
		Method:      fl.String("method"),
		Headers:     headers,
		Credentials: fl.Bool("credentials"),
		BodyType:    fl.String("body-type"),
		Browser:     corscheck.Browser(fl.String("browser")),
		Send:        fl.Bool("send"),
	})
	if report != nil {
		write := report.WriteText
		if fl.Bool("json") {
			write = report.WriteJSON
		}
		if werr := write(out); werr != nil && err == nil {
			return corscheck.ExitError, werr
		}
	}
	if err != nil {
		return corscheck.ExitError, err
	}
	return report.ExitCode(), nil
}
