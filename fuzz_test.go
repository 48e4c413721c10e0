package cors

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"golang.org/x/net/publicsuffix"

	"github.com/caddy-cors/cors/internal/policy"
)

// lineOf matches a file and line in an error: Dispenser.WrapErr appends
// ", at Testfile:3", the adapter's own errors start with "Caddyfile:3: ".
var lineOf = regexp.MustCompile(`\b(Testfile|Caddyfile):[1-9][0-9]*\b`)

// FuzzUnmarshalCaddyfile feeds the directive arbitrary text, alone through
// a dispenser and inside a site block through Caddy's Caddyfile adapter.
// Neither may panic; every error must name the file and a line (SPEC:
// "Every error goes through the dispenser"); and whatever the parser
// accepts, the policy accepts too, since an error found only at Provision
// could not carry a line.
func FuzzUnmarshalCaddyfile(f *testing.F) {
	for _, seed := range []string{
		"https://app.example.com",
		"https://a.example https://b.example {\n\tcredentials\n\tmax_age 600\n}",
		"{\n\torigins *\n\tmethods PUT patch\n\theaders X-Token *\n\texpose *\n}",
		"{\n\torigins https://*.example.org http://localhost:*\n\torigin_regexp https://[a-z]+\\.example\\.io\n\tprivate_network\n\tpreflight_status 200\n\tpreflight_passthrough\n}",
		"* {\n\tcredentials\n}",
		"*",
		"@api https://app.example.com",
		"/api/* https://app.example.com",
		"{\n\torigins\n}",
		"{\n\torigins * \n\tcredentials\n}",
		"https://app.example.com {\n\tmax_age -1\n}",
		"https://app.example.com {\n\tmax_age 10m 20m\n}",
		"https://app.example.com {\n\tmax_age 48h\n}",
		"https://app.example.com {\n\tpreflight_status 302\n}",
		"https://app.example.com {\n\tcredentials\n\tcredentials\n}",
		"https://app.example.com {\n\tunknown\n}",
		"https://app.example.com {\n\torigin_regexp (\n}",
		"https://app.example.com {\n\theaders Cookie\n}",
		"https://app.example.com {\n\tmethods TRACE\n}",
		"https://app.example.com {\n\t{\n}",
		"null",
		"https://app.example.com/",
		"https://00",
		"{$CORS_ORIGINS}",
		"\"https://app.example.com\" `x`",
		"https://app.example.com {\n\texpose Set-Cookie\n}",
		"https://app.example.com {\n\tcredentials {\n\t}\n}",
		"{\n\torigin_regexp https://.*\n\tcredentials\n}",
		"{\n\torigin_regexp https://[a-z0-9-]+\\.github\\.io [a-z]+://.+\n}",
		"{\n\torigin_regexp https://app\\.example\\.com)|(x\n}",
		"https://localhost. http://example.com.:3999 https://*.example.org.",
		"http://xn--f https://xn--zz.example",
		"https://a.example.com,https://b.example.com",
		"https://app.example.com {\n\tmax_age 36028797018963968\n\tmax_age 9223372036854775807\n}",
		"https://app.example.com {\n\tcredentials true\n\tprivate_network on\n\tbogus {\n\t\tx\n\t}\n}",
		"https://app.example.com {\n\texpose Access-Control-Allow-Methods Set-Cookie\n\tmethods patch\n}",
		"@writes https://app.example.com",
		"{\n\torigins_from file /etc/caddy/origins.txt {\n\t\tinterval 5s\n\t}\n}",
		"{\n\torigins_from http http://127.0.0.1:8081/allowed {\n\t\ttimeout 2s\n\t\tmax_in_flight 0\n\t}\n\torigins_from\n}",
		"{\n\torigins_from storage cors/origins.txt a\n\torigins_from nowhere {\n\t}\n}",
	} {
		f.Add(seed)
	}

	adapter := caddyfile.Adapter{ServerType: httpcaddyfile.ServerType{}}
	f.Fuzz(func(t *testing.T, input string) {
		// caddyfile.NewTestDispenser exits the process on a tokenizer
		// error: tokenize here, and leave input Caddy cannot lex to Caddy.
		tokens, err := caddyfile.Tokenize([]byte("cors "+input), "Testfile")
		if err != nil {
			return
		}
		c := new(CORS)
		err = c.UnmarshalCaddyfile(caddyfile.NewDispenser(tokens))
		// Every error of the block is reported, each with its own line.
		for _, e := range unjoin(err) {
			if !lineOf.MatchString(e.Error()) {
				t.Fatalf("UnmarshalCaddyfile(%q): error without a file and line: %q in\n%v", input, e, err)
			}
		}
		if err == nil && c.config().CheckHasOrigin() == nil {
			if _, err := policy.New(c.config()); err != nil {
				t.Fatalf("UnmarshalCaddyfile(%q) accepted a policy that fails to load: %v", input, err)
			}
		}

		// The same text as the directive of a site, through the adapter
		// (parseCaddyfile: matcher extraction, the "cors *" check). Text
		// that closes the site block or opens others is about Caddy's
		// parser, not this directive, so braces must pair up within it, and
		// so must text that starts a line of its own outside the block (a
		// named matcher, another directive).
		if !staysInOneDirective(tokens) {
			return
		}
		site := "http://localhost:9400 {\n\tcors " + input + "\n}\n"
		if _, err := caddyfile.Tokenize([]byte(site), "Caddyfile"); err != nil {
			return // in context, the text is one Caddy cannot lex (a heredoc "<<" before a newline)
		}
		_, _, err = adapter.Adapt([]byte(site), map[string]any{"filename": "Caddyfile"})
		// Caddy's matcher extraction reports an undefined named matcher
		// without a line; that message is Caddy's, not this directive's.
		if err != nil && !lineOf.MatchString(err.Error()) && !strings.Contains(err.Error(), "unrecognized matcher name") {
			t.Fatalf("adapting %q: error without a file and line: %v", site, err)
		}
	})
}

// staysInOneDirective reports whether the unquoted braces among tokens
// open and close in order and no token outside them starts a line after
// the directive's, so that the tokens stay inside one directive.
func staysInOneDirective(tokens []caddyfile.Token) bool {
	depth := 0
	for _, tok := range tokens {
		if depth == 0 && tok.Line != tokens[0].Line && tok.Text != "}" {
			return false
		}
		switch tok.Text {
		case "{":
			depth++
		case "}":
			if depth--; depth < 0 {
				return false
			}
		}
		if strings.HasPrefix(tok.Text, "import") || strings.HasPrefix(tok.Text, "(") {
			return false
		}
	}
	return depth == 0
}

// fuzzPolicies are the policies FuzzHandler serves requests with, each with
// a reference of the origins it allows, written with plain string tests.
var fuzzPolicies = []struct {
	config  string
	allows  func(origin string) bool
	anyOrig bool
}{
	{
		config: `{"allowed_origins":["https://app.example.com","https://*.example.org","http://localhost:*"],
			"allowed_methods":["PUT","patch"],"allowed_headers":["X-Token","Authorization"],
			"exposed_headers":["X-Total"],"allow_credentials":true,"max_age":"10m","allow_private_network":true}`,
		allows: func(o string) bool {
			if o == "https://app.example.com" || o == "http://localhost" {
				return true
			}
			if sub, ok := strings.CutPrefix(o, "https://"); ok {
				if labels, ok := strings.CutSuffix(sub, ".example.org"); ok {
					return fuzzLabels(labels)
				}
			}
			if port, ok := strings.CutPrefix(o, "http://localhost:"); ok {
				n, err := strconv.Atoi(port)
				return err == nil && n >= 1 && n <= 65535 && n != 80 && strconv.Itoa(n) == port
			}
			return false
		},
	},
	{
		config:  `{"allowed_origins":["*"],"allowed_methods":["*"],"allowed_headers":["*"],"exposed_headers":["*"]}`,
		anyOrig: true,
	},
	{
		config: `{"allowed_origins":["https://app.example.com"],"allowed_origin_regexps":["https://[a-z]+\\.example\\.io"],
			"preflight_passthrough":true,"preflight_status":200,"exposed_headers":["X-Total"]}`,
		allows: func(o string) bool {
			if o == "https://app.example.com" {
				return true
			}
			labels, ok := strings.CutSuffix(strings.TrimPrefix(o, "https://"), ".example.io")
			return ok && strings.HasPrefix(o, "https://") && labels != "" && strings.Trim(labels, "abcdefghijklmnopqrstuvwxyz") == ""
		},
	},
	{
		// Trailing-dot hosts match byte for byte; a pattern stays within the
		// registrable domain it names (bucket.s3.amazonaws.com is another site).
		config: `{"allowed_origins":["https://localhost.","http://example.com.:3999","https://*.amazonaws.com"],"allow_credentials":true}`,
		allows: func(o string) bool {
			if o == "https://localhost." || o == "http://example.com.:3999" {
				return true
			}
			sub, ok := strings.CutPrefix(o, "https://")
			labels, found := strings.CutSuffix(sub, ".amazonaws.com")
			suffix, _ := publicsuffix.PublicSuffix(sub)
			return ok && found && fuzzLabels(labels) && len(suffix) <= len("amazonaws.com")
		},
	},
}

// fuzzLabels reports whether s is one or more dot-separated, non-empty
// labels of lower-case letters, digits, '-' and '_'.
func fuzzLabels(s string) bool {
	for _, label := range strings.Split(s, ".") {
		if label == "" || strings.Trim(label, "abcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			return false
		}
	}
	return true
}

// fuzzManaged are the response headers the policy owns.
var fuzzManaged = []string{
	"Access-Control-Allow-Origin",
	"Access-Control-Allow-Credentials",
	"Access-Control-Allow-Methods",
	"Access-Control-Allow-Headers",
	"Access-Control-Expose-Headers",
	"Access-Control-Max-Age",
	"Access-Control-Allow-Private-Network",
}

// FuzzHandler serves random requests through the handler, in front of a
// next handler that adds random Access-Control-* headers of its own (as a
// reverse_proxy upstream does) and commits its response in one of the ways
// handlers do. Whatever arrives, the response carries at most one
// Access-Control-Allow-Origin, and only `*` (for a policy open to any
// origin) or a byte-exact copy of the request's single Origin that the
// policy allows (R9, R10, R15, R16); never credentials with `*` (R18);
// no other managed header without it; no managed header twice.
//
// origins, acrm and acrh hold field lines separated by "\n"; upstream holds
// lines "<digit><op><value>": the digit indexes fuzzManaged, op 'a' adds,
// 's' sets. mode's bits: 1 no Origin at all, 2 no Access-Control-Request-Method;
// mode>>2 picks how next commits.
func FuzzHandler(f *testing.F) {
	f.Add(byte(0), "OPTIONS", "https://app.example.com", "PUT", "x-token", "", "0a*", byte(0))
	f.Add(byte(0), "OPTIONS", "https://a.example.org", "patch", "Authorization, X-Token", "true", "", byte(0))
	f.Add(byte(0), "OPTIONS", "https://app.example.com\nhttps://app.example.com", "PUT", "", "", "", byte(0))
	f.Add(byte(0), "GET", "https://evil.example", "", "", "", "0a*\n1atrue\n4aX-Secret", byte(2))
	f.Add(byte(0), "GET", "https://app.example.com", "", "", "", "0shttps://evil.example\n0a*", byte(4))
	f.Add(byte(0), "POST", "https://app.example.com, https://a.example.org", "", "", "", "0a*", byte(8))
	f.Add(byte(0), "GET", "", "", "", "", "0a*\n6atrue", byte(1))
	f.Add(byte(1), "OPTIONS", "null", "DELETE", "authorization", "", "1atrue", byte(0))
	f.Add(byte(1), "GET", "https://evil.example", "", "", "", "0ahttps://evil.example\n1atrue", byte(12))
	f.Add(byte(2), "OPTIONS", "https://abc.example.io", "PUT", "", "", "0a*", byte(0))
	f.Add(byte(2), "OPTIONS", "https://ABC.example.io", "PUT", "", "", "0a*", byte(0))
	f.Add(byte(0), "GET", "https://app.example.com\x00", "", "", "", "", byte(16))
	f.Add(byte(0), "OPTIONS", "http://localhost:0080", "PUT, DELETE", strings.Repeat("x-token,", 600), "true", "", byte(0))
	f.Add(byte(3), "OPTIONS", "https://localhost.", "PUT", "", "", "0a*", byte(0))
	f.Add(byte(3), "GET", "http://example.com.:3999", "", "", "", "1atrue", byte(2))
	f.Add(byte(3), "GET", "https://localhost", "", "", "", "0a*", byte(2))
	f.Add(byte(3), "OPTIONS", "https://console.amazonaws.com", "PUT", "", "", "", byte(0))
	f.Add(byte(3), "OPTIONS", "https://attacker-bucket.s3.amazonaws.com", "PUT", "", "", "0ahttps://attacker-bucket.s3.amazonaws.com", byte(0))
	f.Add(byte(3), "GET", "https://a.b.amazonaws.com.", "", "", "", "", byte(2))
	f.Add(byte(1), "GET", "https://app.example.com", "", "", "", "0l*\n1ltrue", byte(0))
	f.Add(byte(1), "OPTIONS", "https://app.example.com", "PUT", "", "true", "", byte(0))

	handlers := make([]*CORS, len(fuzzPolicies))
	for i, p := range fuzzPolicies {
		ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
		f.Cleanup(cancel)
		module, err := ctx.LoadModuleByID("http.handlers.cors", json.RawMessage(p.config))
		if err != nil {
			f.Fatalf("policy %d: %v", i, err)
		}
		handlers[i] = module.(*CORS)
		useLogger(handlers[i], zap.NewNop())
	}

	f.Fuzz(func(t *testing.T, which byte, method, origins, acrm, acrh, acrpn, upstream string, mode byte) {
		pol := fuzzPolicies[int(which)%len(fuzzPolicies)]
		h := handlers[int(which)%len(fuzzPolicies)]

		header := make(http.Header)
		var originLines []string
		if mode&1 == 0 {
			originLines = strings.Split(origins, "\n")
			header["Origin"] = originLines
		}
		if mode&2 == 0 {
			header["Access-Control-Request-Method"] = strings.Split(acrm, "\n")
		}
		if acrh != "" {
			header["Access-Control-Request-Headers"] = strings.Split(acrh, "\n")
		}
		if acrpn != "" {
			header["Access-Control-Request-Private-Network"] = []string{acrpn}
		}
		next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			for line := range strings.SplitSeq(upstream, "\n") {
				if len(line) < 2 || line[0] < '0' || int(line[0]-'0') >= len(fuzzManaged) {
					continue
				}
				name := fuzzManaged[line[0]-'0']
				switch line[1] {
				case 's':
					w.Header().Set(name, line[2:])
				case 'l':
					// A key net/http did not canonicalize, sent as it is.
					w.Header()[strings.ToLower(name)] = []string{line[2:]}
				default:
					w.Header().Add(name, line[2:])
				}
			}
			switch (mode >> 2) % 5 {
			case 0:
				w.WriteHeader(http.StatusOK)
				_, err := io.WriteString(w, "ok")
				return err
			case 1:
				_, err := io.WriteString(w, "ok")
				return err
			case 2:
				_, err := w.(io.ReaderFrom).ReadFrom(strings.NewReader("ok"))
				return err
			case 3:
				return http.NewResponseController(w).Flush()
			default:
				// An error: Caddy writes the status with its own writer.
				return caddyhttp.Error(http.StatusBadGateway, errors.New("upstream down"))
			}
		})
		serve := func(header http.Header) *httptest.ResponseRecorder {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, "http://localhost/api", nil)
			req.Method = method
			req.Header = header
			req = caddyhttp.PrepareRequest(req, caddy.NewReplacer(), rec, &caddyhttp.Server{})
			if err := h.ServeHTTP(rec, req, next); err != nil {
				var handlerErr caddyhttp.HandlerError
				if !errors.As(err, &handlerErr) {
					t.Fatalf("ServeHTTP: %v", err)
				}
				rec.WriteHeader(handlerErr.StatusCode)
			}
			return rec
		}
		rec := serve(header)
		got := rec.Result().Header

		// A browser reads header names case-insensitively.
		for key, lines := range got {
			for _, name := range fuzzManaged {
				if strings.EqualFold(key, name) && (key != name || len(lines) > 1) {
					t.Fatalf("%s has field lines %q under %s", name, lines, key)
				}
			}
		}
		if acrpn != "" && !strings.Contains(pol.config, `"allow_private_network":true`) {
			// Without private_network, the answer does not depend on
			// Access-Control-Request-Private-Network, which Vary does
			// not name.
			without := header.Clone()
			delete(without, "Access-Control-Request-Private-Network")
			other := serve(without)
			if other.Code != rec.Code || !reflect.DeepEqual(other.Result().Header, got) || other.Body.String() != rec.Body.String() {
				t.Fatalf("Access-Control-Request-Private-Network %q changed the answer of a policy without private_network: %d %q %q, without it %d %q %q",
					acrpn, rec.Code, got, rec.Body, other.Code, other.Result().Header, other.Body)
			}
		}
		acao := got.Get("Access-Control-Allow-Origin")
		switch {
		case got.Values("Access-Control-Allow-Origin") == nil:
			for _, name := range fuzzManaged {
				if got.Values(name) != nil {
					t.Fatalf("%s %q without Access-Control-Allow-Origin", name, got.Values(name))
				}
			}
		case acao == "*":
			if !pol.anyOrig {
				t.Fatalf("Access-Control-Allow-Origin * from a policy that lists its origins")
			}
			if got.Values("Access-Control-Allow-Credentials") != nil {
				t.Fatalf("Access-Control-Allow-Credentials %q together with Access-Control-Allow-Origin *", got.Values("Access-Control-Allow-Credentials"))
			}
		default:
			if len(originLines) != 1 || acao != originLines[0] {
				t.Fatalf("Access-Control-Allow-Origin %q is not the request's single Origin (lines %q)", acao, originLines)
			}
			if pol.anyOrig || !pol.allows(acao) {
				t.Fatalf("Access-Control-Allow-Origin %q: the policy does not allow that origin", acao)
			}
		}
		if v := got.Values("Access-Control-Allow-Credentials"); v != nil && (len(v) != 1 || v[0] != "true" || acao == "*") {
			t.Fatalf("Access-Control-Allow-Credentials %q with Access-Control-Allow-Origin %q", v, acao)
		}
		if v := got.Values("Access-Control-Allow-Private-Network"); v != nil && acrpn != "true" {
			t.Fatalf("Access-Control-Allow-Private-Network %q answers Access-Control-Request-Private-Network %q", v, acrpn)
		}
		if method == http.MethodOptions && mode&3 == 0 {
			// A preflight: Access-Control-Allow-Headers lists only names it
			// requested, refused or not (R8, R33).
			requested := map[string]bool{}
			for _, line := range header["Access-Control-Request-Headers"] {
				for name := range strings.SplitSeq(line, ",") {
					requested[strings.ToLower(strings.Trim(name, " \t"))] = true
				}
			}
			for name := range strings.SplitSeq(got.Get("Access-Control-Allow-Headers"), ",") {
				if name != "" && !requested[name] {
					t.Fatalf("Access-Control-Allow-Headers %q lists %q, which the preflight did not request (%q)", got.Get("Access-Control-Allow-Headers"), name, acrh)
				}
			}
		}
		if strings.HasPrefix(rec.Body.String(), "CORS preflight rejected: ") {
			// A refused preflight: 403 exactly when the origin is refused,
			// and nothing about it may be cached (R8).
			if refusedOrigin := got.Values("Access-Control-Allow-Origin") == nil; refusedOrigin != (rec.Code == http.StatusForbidden) {
				t.Fatalf("refused preflight answered %d with Access-Control-Allow-Origin %q", rec.Code, got.Values("Access-Control-Allow-Origin"))
			}
			if v := got.Values("Access-Control-Max-Age"); v != nil {
				t.Fatalf("refused preflight with Access-Control-Max-Age %q", v)
			}
		}
	})
}
