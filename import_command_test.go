package cors

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/caddy-cors/cors/internal/importer"
)

// runCorsImport runs `caddy cors-import args...` with the flags the
// command registers, and returns its exit status, output, notes and error.
func runCorsImport(t *testing.T, stdin string, args ...string) (status int, out, notes string, err error) {
	t.Helper()
	cmd := &cobra.Command{}
	corsImportCommand.CobraFunc(cmd)
	if err := cmd.Flags().Parse(args); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	status, err = cmdCorsImport(caddycmd.Flags{FlagSet: cmd.Flags()}, strings.NewReader(stdin), &stdout, &stderr)
	return status, stdout.String(), stderr.String(), err
}

// importCases are configurations as people write them, each with the
// block it must become, its notes (a part of each line, in order) and
// exit status, and, for a complete block, origins a real Caddy must allow
// and refuse once the block is loaded.
var importCases = []struct {
	file    string // in testdata/import
	status  int
	block   string
	notes   []string
	allowed []string
	refused []string
}{
	{
		// enable-cors.org's nginx snippet, the most copied of all.
		file:   "nginx_enable_cors_wide_open.conf",
		status: 0,
		block: `cors {
	origins *
	methods GET POST OPTIONS
	headers User-Agent X-Requested-With If-Modified-Since Cache-Control Content-Type Range
	expose Content-Length Content-Range
	max_age 86400
}
`,
		notes: []string{
			`line 8: header "DNT" left out, the module refuses it: header "DNT" is a forbidden request header`,
			`line 12: max-age 1728000 seconds capped at 86400 (24h)`,
			`only to responses of POST and GET requests`,
			`max_age 24h is more than 2h`,
		},
		allowed: []string{"https://app.example.com", "http://localhost:3000"},
	},
	{
		file:   "nginx_reflect_any_origin_with_credentials.conf",
		status: 1,
		block: `cors {
	# origins <list the origins of your frontends here, such as https://app.example.com>
	methods GET POST PUT DELETE OPTIONS
	headers Accept Authorization Cache-Control Content-Type If-Modified-Since User-Agent X-Requested-With
	credentials
	max_age 86400
}
`,
		notes: []string{
			`line 6: header "DNT" left out`,
			`line 6: header "Keep-Alive" left out`,
			`line 6: header "Origin" left out`,
			`line 13: max-age 1728000 seconds capped`,
			`sent back any request's origin together with Access-Control-Allow-Credentials: true, which lets every website read your users' data with their cookies (the flaw behind CVE-2025-34291)`,
		},
	},
	{
		file:   "nginx_if_origin_set_flag.conf",
		status: 0,
		block: "cors {\n" +
			"\torigin_regexp `^https?://(localhost|www\\.example\\.com|app\\.example\\.com)`\n" +
			"\tmethods GET POST PUT DELETE OPTIONS\n" +
			"\theaders Accept Authorization Cache-Control Content-Type If-Modified-Since User-Agent X-Requested-With\n" +
			"\tcredentials\n" +
			"\tmax_age 86400\n" +
			"}\n",
		notes: []string{
			`line 4: regexp "^https?://(localhost|www\\.example\\.com|app\\.example\\.com)" is not anchored at its end, so nginx also allowed every origin that merely begins with a match`,
			`line 12: header "DNT" left out`,
			`line 12: header "Keep-Alive" left out`,
			`line 12: header "Origin" left out`,
			`line 19: max-age 1728000 seconds capped`,
			`can match plain http origins and credentials are allowed`,
			`max_age 24h is more than 2h`,
		},
		allowed: []string{"https://www.example.com", "https://app.example.com", "http://localhost"},
		refused: []string{"https://www.example.com.evil.example", "https://localhost.evil.example", "https://example.com", "https://evil.example"},
	},
	{
		// $cors set under an origin condition, then "${cors}o" for
		// preflights, answered through headers-more.
		file:   "nginx_if_origin_any_subdomain.conf",
		status: 0,
		block: "cors {\n" +
			"\torigin_regexp `(https?://.*\\.example\\.com(:[0-9]+)?$)`\n" +
			"\tmethods GET POST OPTIONS PUT DELETE\n" +
			"\theaders Content-Type Accept\n" +
			"\tcredentials\n" +
			"}\n",
		notes: []string{
			`line 3: regexp "(https?://.*\\.example\\.com(:[0-9]+)?$)" is not anchored at its start`,
			`line 21: header "Origin" left out`,
			`can match plain http origins and credentials are allowed`,
		},
		allowed: []string{"https://app.example.com", "https://a.b.example.com:8443", "http://app.example.com"},
		refused: []string{"https://example.com", "https://app.example.com.evil.example", "https://evil.example"},
	},
	{
		file:   "nginx_if_origin_regexp.conf",
		status: 0,
		block: "cors {\n" +
			"\torigin_regexp `(^https://(app|admin)\\.example\\.com$)`\n" +
			"\tmethods GET POST PATCH OPTIONS\n" +
			"\theaders Content-Type X-Request-Id\n" +
			"\texpose X-Request-Id\n" +
			"}\n",
		allowed: []string{"https://app.example.com", "https://admin.example.com"},
		refused: []string{"https://example.com", "http://app.example.com", "https://app.example.com.evil.example", "https://evil.example"},
	},
	{
		file:   "nginx_map_allowlist.conf",
		status: 0,
		block: "cors {\n" +
			"\torigins https://partner.example.net\n" +
			"\torigin_regexp `^https://(www\\.)?example\\.com$`\n" +
			"\torigin_regexp `^https://[a-z0-9-]+\\.example\\.com$`\n" +
			"\tmethods GET POST PUT PATCH DELETE OPTIONS\n" +
			"\theaders Authorization Content-Type X-Requested-With\n" +
			"\tcredentials\n" +
			"\tmax_age 3600\n" +
			"}\n",
		allowed: []string{"https://example.com", "https://www.example.com", "https://shop.example.com", "https://partner.example.net"},
		refused: []string{"https://a.b.example.com", "http://example.com", "https://example.com.evil.example", "https://partner.example.net.evil.example", "https://evil.example"},
	},
	{
		file:   "nginx_pcre_lookahead.conf",
		status: 1,
		block: `cors {
	# origins <list the origins of your frontends here, such as https://app.example.com>
	credentials
}
`,
		notes: []string{
			`line 1: not carried over: origin_regexp "^https://(?!staging\\.)[a-z]+\\.example\\.com$" does not compile`,
			`no origin could be carried over`,
		},
	},
	{
		// ingress-nginx's own documentation, every CORS annotation.
		file:   "ingress_nginx_docs_example.yaml",
		status: 0,
		block: `cors {
	origins https://origin-site.com:4443 http://origin-site.com https://example.org:1199
	methods PUT GET POST OPTIONS
	headers X-Forwarded-For X-app123-XPTO
	expose * X-CustomResponseHeader
	max_age 600
}
`,
		allowed: []string{"https://origin-site.com:4443", "http://origin-site.com", "https://example.org:1199"},
		refused: []string{"https://origin-site.com", "https://example.org", "https://evil.example"},
	},
	{
		// enable-cors alone: ingress-nginx's defaults, * with credentials.
		file:   "ingress_nginx_enable_cors_only.yaml",
		status: 1,
		block: `cors {
	# origins <list the origins of your frontends here, such as https://app.example.com>
	methods GET PUT POST DELETE PATCH OPTIONS
	headers User-Agent X-Requested-With If-Modified-Since Cache-Control Content-Type Range Authorization
	credentials
	max_age 86400
}
`,
		notes: []string{
			`cors-allow-headers: header "DNT" left out`,
			`cors-allow-headers: header "Keep-Alive" left out`,
			`cors-max-age: max-age 1728000 seconds capped at 86400 (24h)`,
			`the source allowed origin * together with credentials`,
		},
	},
	{
		file:   "ingress_nginx_wildcard_with_credentials.yaml",
		status: 0,
		block: `cors {
	origins https://app.example.com https://*.example.com
	methods GET PUT POST DELETE PATCH OPTIONS
	headers Authorization Content-Type
	credentials
	max_age 7200
}
`,
		notes:   []string{`https://*.example.com matched one level of subdomain in ingress-nginx (a.example.com); in the module it matches every depth (a.b.example.com too)`},
		allowed: []string{"https://app.example.com", "https://shop.example.com", "https://a.b.example.com"},
		refused: []string{"https://example.com", "http://shop.example.com", "https://example.com.evil.example", "https://evil.example"},
	},
	{
		// GEP-1767's "complex cross-origin interaction" example.
		file:   "gateway_api_gep1767_complex.yaml",
		status: 0,
		block: `cors {
	origins https://foo.example http://foo.example
	methods GET PUT POST DELETE PATCH OPTIONS
	headers X-CustomHeader User-Agent X-Requested-With If-Modified-Since Cache-Control Content-Type Authorization
	expose Content-Security-Policy
	credentials
	max_age 86400
}
`,
		notes: []string{
			`allowHeaders: header "DNT" left out`,
			`allowHeaders: header "Keep-Alive" left out`,
			`maxAge: max-age 1728000 seconds capped`,
			`origin "http://foo.example" is plain http and credentials are allowed`,
			`max_age 24h is more than 2h`,
		},
		allowed: []string{"https://foo.example", "http://foo.example"},
		refused: []string{"https://bar.example", "https://foo.example:8443"},
	},
	{
		// GEP-1767's "simple cross-origin interaction" example.
		file:   "gateway_api_gep1767_simple.yaml",
		status: 0,
		block: `cors {
	origins *
	methods GET HEAD POST
	headers Accept Accept-Language Content-Language Content-Type Range
	max_age 5
}
`,
		allowed: []string{"https://foo.example", "http://localhost:8080"},
	},
	{
		// GEP-1767 requires reflecting any origin here.
		file:   "gateway_api_any_origin_with_credentials.yaml",
		status: 1,
		block: `cors {
	# origins <list the origins of your frontends here, such as https://app.example.com>
	methods *
	headers * Authorization
	credentials
	max_age 600
}
`,
		notes: []string{`CVE-2025-34291`},
	},
	{
		// The same filter on two rules is one policy.
		file:   "gateway_api_subdomains.yaml",
		status: 0,
		block: `cors {
	origins https://example.com https://*.example.com
	methods GET POST DELETE
	headers Authorization Content-Type
	expose X-Total-Count
	credentials
	max_age 5
}
`,
		allowed: []string{"https://example.com", "https://app.example.com", "https://a.b.example.com"},
		refused: []string{"http://app.example.com", "https://example.com.evil.example", "https://evil.example"},
	},
}

func TestCorsImport(t *testing.T) {
	for _, tc := range importCases {
		t.Run(tc.file, func(t *testing.T) {
			status, out, notes, err := runCorsImport(t, "", filepath.Join("testdata", "import", tc.file))
			if err != nil || status != tc.status {
				t.Errorf("exit %d, error %v; want %d", status, err, tc.status)
			}
			if out != tc.block {
				t.Errorf("block:\n%s\nwant:\n%s", out, tc.block)
			}
			lines := strings.Split(strings.TrimSuffix(notes, "\n"), "\n")
			if notes == "" {
				lines = nil
			}
			if len(lines) != len(tc.notes) {
				t.Errorf("%d notes, want %d:\n%s", len(lines), len(tc.notes), notes)
			}
			for i := range min(len(lines), len(tc.notes)) {
				if !strings.HasPrefix(lines[i], "# note: ") || !strings.Contains(lines[i], tc.notes[i]) {
					t.Errorf("note %d:\n%s\nwant a # note: line with\n%s", i+1, lines[i], tc.notes[i])
				}
			}
		})
	}
}

// TestCorsImportedBlocksAllowExactlyTheirOrigins loads every complete
// block, as printed, into a real Caddy and sends preflights from the
// origins it must allow and from those it must refuse.
func TestCorsImportedBlocksAllowExactlyTheirOrigins(t *testing.T) {
	for _, tc := range importCases {
		if tc.status != 0 {
			continue
		}
		t.Run(tc.file, func(t *testing.T) {
			_, block, _, _ := runCorsImport(t, "", filepath.Join("testdata", "import", tc.file))
			url := startCaddyWith(t, block)
			anyOrigin := strings.Contains(block, "origins *\n")
			for _, origin := range tc.allowed {
				resp := preflight(t, url, origin)
				want := origin
				if anyOrigin {
					want = "*"
				}
				if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != want {
					t.Errorf("preflight from %s: %d, Access-Control-Allow-Origin %q; want 204 and %q", origin, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"), want)
				}
			}
			for _, origin := range tc.refused {
				resp := preflight(t, url, origin)
				if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Access-Control-Allow-Origin") != "" {
					t.Errorf("preflight from %s: %d, Access-Control-Allow-Origin %q; want 403 and none", origin, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
				}
			}
		})
	}
}

// startCaddyWith runs a real Caddy with a site on a free loopback port
// whose routes are block and a responder, and returns the site's URL.
// The Caddyfile goes through Caddy's own adapter and loads as
// `caddy run` would load it.
func startCaddyWith(t *testing.T, block string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	caddyfile := fmt.Sprintf("{\n\tadmin off\n\tpersist_config off\n\tauto_https off\n\thttp_port %d\n}\nhttp://127.0.0.1:%d {\n%s\trespond \"ok\"\n}\n", port, port, block)
	cfg, warnings, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(caddyfile), nil)
	if err != nil {
		t.Fatalf("the block does not adapt: %v\n%s", err, caddyfile)
	}
	for _, w := range warnings {
		t.Logf("adapter warning: %s", w.Message)
	}
	if err := caddy.Load(cfg, true); err != nil {
		t.Fatalf("the block does not load: %v\n%s", err, caddyfile)
	}
	t.Cleanup(func() {
		if err := caddy.Stop(); err != nil {
			t.Error(err)
		}
	})
	return fmt.Sprintf("http://127.0.0.1:%d/", port)
}

func preflight(t *testing.T, url, origin string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodOptions, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestCorsImportSubcommand runs the real `caddy cors-import`, through
// Caddy's own main and command line, in a child process: its exit status,
// standard output and standard error.
func TestCorsImportSubcommand(t *testing.T) {
	if args := os.Getenv("CORS_IMPORT_ARGS"); args != "" {
		os.Args = append([]string{"caddy", "cors-import"}, strings.Split(args, "\x1f")...)
		caddycmd.Main()
		os.Exit(0)
	}
	run := func(stdin string, args ...string) (int, string, string) {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^TestCorsImportSubcommand$")
		cmd.Env = append(os.Environ(), "CORS_IMPORT_ARGS="+strings.Join(args, "\x1f"))
		cmd.Stdin = strings.NewReader(stdin)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		status := 0
		if exit, ok := err.(*exec.ExitError); ok {
			status = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return status, stdout.String(), stderr.String()
	}

	t.Run("complete, from a file", func(t *testing.T) {
		status, out, errOut := run("", filepath.Join("testdata", "import", "ingress_nginx_wildcard_with_credentials.yaml"))
		if status != 0 || !strings.HasPrefix(out, "cors {\n\torigins https://app.example.com https://*.example.com\n") || !strings.HasSuffix(out, "}\n") {
			t.Errorf("exit %d, stdout:\n%s", status, out)
		}
		if !strings.Contains(errOut, "# note: nginx.ingress.kubernetes.io/cors-allow-origin: https://*.example.com matched one level") {
			t.Errorf("stderr:\n%s", errOut)
		}
	})
	t.Run("incomplete, from standard input", func(t *testing.T) {
		status, out, errOut := run("add_header Access-Control-Allow-Origin $http_origin always;\nadd_header Access-Control-Allow-Credentials true always;\n", "--from", "nginx", "-")
		if status != 1 || out != "cors {\n\t# origins <list the origins of your frontends here, such as https://app.example.com>\n\tcredentials\n}\n" {
			t.Errorf("exit %d, stdout:\n%s", status, out)
		}
		if !strings.Contains(errOut, "# note: the source sent back any request's origin together with Access-Control-Allow-Credentials: true") {
			t.Errorf("stderr:\n%s", errOut)
		}
	})
	t.Run("nothing to import", func(t *testing.T) {
		status, out, errOut := run("proxy_pass http://backend;\n", "-")
		if status != 2 || out != "" || !strings.Contains(errOut, "no Access-Control-* header found") {
			t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s", status, out, errOut)
		}
	})
	t.Run("unknown format", func(t *testing.T) {
		status, out, errOut := run("", "--from", "apache", "-")
		if status != 2 || out != "" || !strings.Contains(errOut, "use nginx, ingress-nginx or gateway-api") {
			t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s", status, out, errOut)
		}
	})
}

// FuzzCorsImportAdapts feeds the importer arbitrary input in each format:
// every block it calls complete must go through Caddy's Caddyfile adapter
// unchanged, regexps and all, and say what the importer found.
func FuzzCorsImportAdapts(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "import", "*"))
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add([]byte("if ($http_origin ~* \"^https://(a|b)\\.example\\.com(:[0-9]{2,5})?$\") { add_header Access-Control-Allow-Origin $http_origin; }"))
	f.Add([]byte("if ($http_origin ~ '^https://x`y\\.example\\.com$') { add_header Access-Control-Allow-Origin $http_origin; }"))
	f.Add([]byte("if ($http_origin ~ \"^https://(app|x y)\\.example\\.com$\") { add_header Access-Control-Allow-Origin $http_origin; }"))
	f.Add([]byte("if ($http_origin ~ \"^https://(app|x` y)\\.example\\.com$\") { add_header Access-Control-Allow-Origin $http_origin; }"))
	f.Fuzz(func(t *testing.T, src []byte) {
		for _, format := range append([]importer.Format{""}, importer.Formats...) {
			r, err := importer.Import(src, format)
			if err != nil || !r.Complete {
				continue
			}
			var block bytes.Buffer
			if err := r.WriteBlock(&block); err != nil {
				t.Fatal(err)
			}
			site := "http://127.0.0.1:1 {\n" + block.String() + "}\n"
			adapted, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(site), nil)
			if err != nil {
				t.Fatalf("%s: complete block does not adapt: %v\n%s", format, err, block.String())
			}
			for _, expr := range r.Config.OriginRegexps {
				quoted, _ := json.Marshal(expr)
				if !bytes.Contains(adapted, quoted) {
					t.Fatalf("%s: regexp %s is not in the adapted config:\n%s", format, quoted, adapted)
				}
			}
		}
	})
}
