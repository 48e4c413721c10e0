package cors

import (
	"fmt"
	"io"
	"os"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/caddy-cors/cors/internal/importer"
)

func init() {
	caddycmd.RegisterCommand(corsImportCommand)
}

// Exit statuses of cors-import.
const (
	importComplete   = 0 // the block does what the source did
	importIncomplete = 1 // something could not be carried over: see the notes
	importError      = 2 // usage error, unreadable input, nothing to import
)

// corsImportCommand is `caddy cors-import`.
var corsImportCommand = caddycmd.Command{
	Name:  "cors-import",
	Usage: "[--from nginx|ingress-nginx|gateway-api] <file|->",
	Short: "Translates the CORS configuration of nginx, ingress-nginx or Gateway API into a cors block",
	Long: `
Reads a CORS configuration and prints the equivalent cors block for a
Caddyfile on standard output. It reads:

  nginx          add_header (or more_set_headers) Access-Control-* lines,
                 with or without always; $http_origin sent back, alone or
                 under if ($http_origin ~* ...) or a map $http_origin
                 allowlist; the if ($request_method = OPTIONS) { return
                 204; } idiom.
  ingress-nginx  an Ingress with nginx.ingress.kubernetes.io/enable-cors and
                 the cors-* annotations, with ingress-nginx's defaults for
                 those absent.
  gateway-api    an HTTPRoute with a CORS filter.

Without --from the format is recognised from the input. <file> is - for
standard input.

What changes in meaning on the way is a "# note:" line on standard error:
a one-level wildcard that becomes the module's any-depth pattern, a header
the module refuses, a max-age capped at 24h. What cannot be carried over
safely is never dropped in silence: any origin sent back together with
credentials becomes a commented placeholder where the origins of your
frontends must be listed, and a regexp is kept only when the module
accepts it.

Exit status: 0 when the block does what the source did (Caddy loads it as
printed), 1 when something could not be carried over (the notes say what
to do), 2 on a usage error or an input with nothing to import.
`,
	CobraFunc: func(cmd *cobra.Command) {
		cmd.Flags().String("from", "", "Format of the input: nginx, ingress-nginx or gateway-api (default: recognised)")
		cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
			return exitWith(c, importError, err)
		})
		cmd.RunE = func(c *cobra.Command, args []string) error {
			// exitWith (command.go) exits 1 quietly: the notes said why.
			status, err := cmdCorsImport(caddycmd.Flags{FlagSet: c.Flags()}, os.Stdin, os.Stdout, os.Stderr)
			return exitWith(c, status, err)
		}
	},
}

// cmdCorsImport runs the import: the block to out, the notes to notes.
func cmdCorsImport(fl caddycmd.Flags, stdin io.Reader, out, notes io.Writer) (int, error) {
	if fl.NArg() != 1 {
		return importError, fmt.Errorf("give exactly one file to import, or - for standard input; got %d arguments", fl.NArg())
	}
	format := importer.Format(fl.String("from"))
	if format != "" && !validFormat(format) {
		return importError, fmt.Errorf("--from %q: use nginx, ingress-nginx or gateway-api", format)
	}
	var src []byte
	var err error
	if name := fl.Arg(0); name == "-" {
		src, err = io.ReadAll(stdin)
	} else {
		src, err = os.ReadFile(name)
	}
	if err != nil {
		return importError, err
	}
	result, err := importer.Import(src, format)
	if err != nil {
		return importError, err
	}
	if err := result.WriteBlock(out); err != nil {
		return importError, err
	}
	if err := result.WriteNotes(notes); err != nil {
		return importError, err
	}
	if !result.Complete {
		return importIncomplete, nil
	}
	return importComplete, nil
}

func validFormat(f importer.Format) bool {
	for _, known := range importer.Formats {
		if f == known {
			return true
		}
	}
	return false
}
