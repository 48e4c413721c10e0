package cors

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddytest"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
)

// errorLine finds the file and line that the dispenser appends to an error
// (d.Errf, d.ArgErr, d.WrapErr): ", at Caddyfile:7".
var errorLine = regexp.MustCompile(`, at (\w+):(\d+)`)

// assertErrorAt fails unless err names file:line and contains every one of
// want.
func assertErrorAt(t *testing.T, err error, file string, line int, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one at %s:%d containing %q", file, line, want)
	}
	m := errorLine.FindStringSubmatch(err.Error())
	if m == nil {
		t.Errorf("error does not name a file and line:\n%v", err)
	} else if m[1] != file || m[2] != strconv.Itoa(line) {
		t.Errorf("error names %s:%s, want %s:%d:\n%v", m[1], m[2], file, line, err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not contain %q:\n%v", w, err)
		}
	}
}

// TestCaddyfileAdapt runs each testdata/*.caddyfiletest: a Caddyfile, a
// line "----------", then either the JSON it adapts to (tab-indented, as
// caddytest.CompareAdapt prints it) or, when that part does not start with
// "{", the errors it gives: for each, one line "Caddyfile:N" with the line
// the error must name, then lines that error must each contain. A block
// with several mistakes lists each, since every error is reported.
func TestCaddyfileAdapt(t *testing.T) {
	// Caddy substitutes {$CORS_ORIGINS} before tokenizing, so a
	// space-separated list becomes several origins (env_origins).
	t.Setenv("CORS_ORIGINS", "https://a.example.com https://b.example.com")

	files, err := filepath.Glob("testdata/*.caddyfiletest")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/*.caddyfiletest files")
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".caddyfiletest")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			input, expected, ok := strings.Cut(strings.ReplaceAll(string(data), "\r\n", "\n"), "----------")
			if !ok {
				t.Fatalf("%s has no ---------- line", file)
			}
			input, expected = strings.TrimSpace(input)+"\n", strings.TrimSpace(expected)

			if strings.HasPrefix(expected, "{") {
				if !caddytest.CompareAdapt(t, file, input, "caddyfile", expected) {
					t.Errorf("%s does not adapt to the expected JSON (diff above)", file)
				}
				assertCORSHandlersLoad(t, expected)
				return
			}

			type wantError struct {
				line int
				want []string
			}
			var wants []wantError
			for _, w := range strings.Split(expected, "\n") {
				if n, ok := strings.CutPrefix(w, "Caddyfile:"); ok {
					line, _ := strconv.Atoi(n)
					wants = append(wants, wantError{line: line})
					continue
				}
				if len(wants) == 0 {
					t.Fatalf("%s expects an error but names no line \"Caddyfile:N\" first", file)
				}
				wants[len(wants)-1].want = append(wants[len(wants)-1].want, w)
			}
			_, _, err = caddyconfig.GetAdapter("caddyfile").Adapt([]byte(input), nil)
			if len(wants) == 1 {
				assertErrorAt(t, err, "Caddyfile", wants[0].line, wants[0].want...)
				return
			}
			if err == nil {
				t.Fatalf("no error, want %d", len(wants))
			}
			// The adapter wraps the block's errors in one, a line each.
			errs := strings.Split(err.Error(), "\n")
			if len(errs) != len(wants) {
				t.Errorf("%d errors, want %d:\n%v", len(errs), len(wants), err)
			}
			for i := range min(len(errs), len(wants)) {
				assertErrorAt(t, errors.New(errs[i]), "Caddyfile", wants[i].line, wants[i].want...)
			}
		})
	}
}

// assertCORSHandlersLoad provisions every cors handler of an adapted
// config: what the Caddyfile adapter writes, Caddy must accept.
func assertCORSHandlersLoad(t *testing.T, adapted string) {
	t.Helper()
	var config any
	if err := json.Unmarshal([]byte(adapted), &config); err != nil {
		t.Fatalf("expected JSON does not parse: %v", err)
	}
	var handlers []map[string]any
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if v["handler"] == "cors" {
				handlers = append(handlers, v)
			}
			for _, child := range v {
				walk(child)
			}
		case []any:
			for _, child := range v {
				walk(child)
			}
		}
	}
	walk(config)
	if len(handlers) == 0 {
		t.Fatal("adapted config has no cors handler")
	}
	for _, h := range handlers {
		delete(h, "handler")
		raw, err := json.Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := loadCORS(t, string(raw)); err != nil {
			t.Errorf("adapted handler %s does not load: %v", raw, err)
		}
	}
}

// TestCaddyfileRejectsInvalidPolicy proves that every load-time error is
// found while the Caddyfile is read, so it names the line of the offending
// value. Each case is the body of a cors block; line 3 is its first line:
//
//	1 example.com {
//	2 	cors {
//	3 		<block[0]>
func TestCaddyfileRejectsInvalidPolicy(t *testing.T) {
	for _, tc := range []struct {
		name  string
		block []string
		line  int
		want  []string
	}{
		// Origins
		{
			name:  "any origin with credentials names the credentials line",
			block: []string{"origins *", "credentials"},
			line:  4,
			want:  []string{"origins * cannot be combined with credentials", "list the exact origins"},
		},
		{
			name:  "any origin after credentials names the origins line",
			block: []string{"credentials", "origins https://app.example.com", "origins *"},
			line:  5,
			want:  []string{"origins * cannot be combined with credentials"},
		},
		{
			name:  "expose * with credentials is refused",
			block: []string{"origins https://app.example.com", "expose *", "credentials"},
			line:  5,
			want:  []string{"expose * cannot be combined with credentials", "list the response headers"},
		},
		{
			name:  "null origin is refused",
			block: []string{"origins null"},
			line:  3,
			want:  []string{`origin "null" cannot be allowed`, "remove it"},
		},
		{
			name:  "file origin is refused",
			block: []string{"origins file:///home/me/index.html"},
			line:  3,
			want:  []string{`origin "file:///home/me/index.html" cannot be allowed`, "http://localhost"},
		},
		{
			name:  "origin with a path is refused with the canonical origin",
			block: []string{"origins https://app.example.com/api"},
			line:  3,
			want:  []string{"has a path", `write "https://app.example.com"`},
		},
		{
			name:  "origin with a trailing slash is refused with the canonical origin",
			block: []string{"origins https://app.example.com/"},
			line:  3,
			want:  []string{"ends with a slash", `write "https://app.example.com"`},
		},
		{
			name:  "origin with a query is refused with the canonical origin",
			block: []string{"origins https://app.example.com?x=1"},
			line:  3,
			want:  []string{"has a query", `write "https://app.example.com"`},
		},
		{
			name:  "origin with a fragment is refused with the canonical origin",
			block: []string{`origins "https://app.example.com#top"`},
			line:  3,
			want:  []string{"has a fragment", `write "https://app.example.com"`},
		},
		{
			name:  "origin with user info is refused with the canonical origin",
			block: []string{"origins https://user@app.example.com"},
			line:  3,
			want:  []string{"has user info", `write "https://app.example.com"`},
		},
		{
			name:  "origin with the default port is refused without the port",
			block: []string{"origins https://example.com:443"},
			line:  3,
			want:  []string{"has the default port 443", `write "https://example.com"`},
		},
		{
			name:  "upper-case origin is refused with its lower-case spelling",
			block: []string{"origins https://App.Example.com"},
			line:  3,
			want:  []string{"is not lower case", `write "https://app.example.com"`},
		},
		{
			name:  "non-punycode host is refused with its punycode spelling",
			block: []string{"origins https://bücher.example"},
			line:  3,
			want:  []string{"is not in Punycode", `write "https://xn--bcher-kva.example"`},
		},
		{
			name:  "the bad origin of several on a later line is the one named",
			block: []string{"origins https://app.example.com", "origins https://admin.example.com https://Admin.example.com"},
			line:  4,
			want:  []string{`origin "https://Admin.example.com" is not lower case`},
		},
		{
			name:  "subdomain pattern over the public suffix com is refused",
			block: []string{"origins https://*.com"},
			line:  3,
			want:  []string{`public suffix "com"`, `"https://*.your-domain.com"`},
		},
		{
			name:  "subdomain pattern over the public suffix github.io is refused",
			block: []string{"origins https://*.github.io"},
			line:  3,
			want:  []string{`public suffix "github.io"`, `"https://*.your-domain.github.io"`},
		},
		{
			name:  "origin regexp that does not compile is refused",
			block: []string{"origin_regexp https://(app"},
			line:  3,
			want:  []string{`origin_regexp "https://(app" does not compile`},
		},
		{
			name:  "origin regexp that matches null is refused",
			block: []string{"origin_regexp .*"},
			line:  3,
			want:  []string{`origin_regexp ".*" matches the origin "null"`},
		},

		{
			name:  "origin regexp that escapes the anchors is refused",
			block: []string{`origin_regexp https://app\.example\.com)|(x`},
			line:  3,
			want:  []string{"does not compile"},
		},
		{
			name:  "origin regexp over any host with credentials names the credentials line",
			block: []string{"origin_regexp https://.*", "credentials"},
			line:  4,
			want:  []string{`origin_regexp "https://.*" matches hosts in any domain`, "credentials are allowed", "https://*.example.com"},
		},
		{
			name:  "origin regexp over a public suffix after credentials names the regexp line",
			block: []string{"credentials", `origin_regexp https://[a-z0-9-]+\.github\.io`},
			line:  4,
			want:  []string{`public suffix "github.io"`},
		},
		{
			name:  "origin regexp without a fixed domain with credentials is refused",
			block: []string{"credentials", "origin_regexp https?://[^/]+ [a-z]+://.+"},
			line:  4,
			want:  []string{`"https?://[^/]+" matches hosts in any domain`, `"[a-z]+://.+" matches hosts in any domain`},
		},
		{
			name:  "xn-- label that is not Punycode is refused",
			block: []string{"origins http://xn--f"},
			line:  3,
			want:  []string{`label "xn--f"`, "not valid Punycode"},
		},
		{
			name:  "xn-- label in a longer host that is not Punycode is refused",
			block: []string{"origins https://xn--zz.example"},
			line:  3,
			want:  []string{`label "xn--zz"`},
		},
		{
			name:  "subdomain pattern with no room for a subdomain is refused",
			block: []string{"origins https://*." + strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 60)},
			line:  3,
			want:  []string{"can never match", "253 bytes"},
		},
		{
			name:  "comma-separated origins say origins are separated by spaces",
			block: []string{"origins https://a.example.com,https://b.example.com"},
			line:  3,
			want:  []string{"separated by spaces", "write https://a.example.com https://b.example.com"},
		},

		// Methods
		{
			name:  "method that is not a token is refused",
			block: []string{"origins https://app.example.com", "methods PUT,PATCH"},
			line:  4,
			want:  []string{`method "PUT,PATCH" is not a valid method name`},
		},
		{
			name:  "method CONNECT is refused as forbidden",
			block: []string{"origins https://app.example.com", "methods CONNECT"},
			line:  4,
			want:  []string{`method "CONNECT" is forbidden`, "remove it"},
		},
		{
			name:  "method TRACE is refused as forbidden",
			block: []string{"origins https://app.example.com", "methods PUT TRACE"},
			line:  4,
			want:  []string{`method "TRACE" is forbidden`},
		},
		{
			name:  "method TRACK is refused as forbidden",
			block: []string{"origins https://app.example.com", "methods TRACK"},
			line:  4,
			want:  []string{`method "TRACK" is forbidden`},
		},

		// Request headers
		{
			name:  "header name that is not a token is refused",
			block: []string{"origins https://app.example.com", "headers X-Token:"},
			line:  4,
			want:  []string{`header "X-Token:" is not a valid header name`},
		},
		{
			name:  "forbidden header Cookie is refused",
			block: []string{"origins https://app.example.com", "headers Cookie"},
			line:  4,
			want:  []string{`header "Cookie" is a forbidden request header`, "remove it"},
		},
		{
			name:  "forbidden header Host is refused",
			block: []string{"origins https://app.example.com", "headers Host"},
			line:  4,
			want:  []string{`header "Host" is a forbidden request header`},
		},
		{
			name:  "forbidden header Origin is refused",
			block: []string{"origins https://app.example.com", "headers Origin"},
			line:  4,
			want:  []string{`header "Origin" is a forbidden request header`},
		},
		{
			name:  "forbidden Sec- header is refused",
			block: []string{"origins https://app.example.com", "headers Sec-Fetch-Mode"},
			line:  4,
			want:  []string{`header "Sec-Fetch-Mode" is a forbidden request header`},
		},
		{
			name:  "forbidden Proxy- header is refused",
			block: []string{"origins https://app.example.com", "headers Proxy-Authorization"},
			line:  4,
			want:  []string{`header "Proxy-Authorization" is a forbidden request header`},
		},
		{
			name:  "forbidden Access-Control-Request- header is refused",
			block: []string{"origins https://app.example.com", "headers Access-Control-Request-Method"},
			line:  4,
			want:  []string{`header "Access-Control-Request-Method" is a forbidden request header`},
		},
		{
			name:  "exposing Access-Control-Allow-Methods is refused",
			block: []string{"origins https://app.example.com", "expose Access-Control-Allow-Methods"},
			line:  4,
			want:  []string{`expose header "Access-Control-Allow-Methods" is a CORS header`},
		},
		{
			name:  "exposing Set-Cookie is refused",
			block: []string{"origins https://app.example.com", "expose Set-Cookie"},
			line:  4,
			want:  []string{`expose header "Set-Cookie" can never be read`},
		},
		{
			name:  "exposed header name that is not a token is refused",
			block: []string{"origins https://app.example.com", "expose X-Total-Count,Link"},
			line:  4,
			want:  []string{`expose header "X-Total-Count,Link" is not a valid header name`},
		},

		// max_age
		{
			name:  "negative max_age is refused",
			block: []string{"origins https://app.example.com", "max_age -10s"},
			line:  4,
			want:  []string{"max_age -10s is negative", "use 0"},
		},
		{
			name:  "negative max_age in seconds is refused",
			block: []string{"origins https://app.example.com", "max_age -1"},
			line:  4,
			want:  []string{"max_age -1s is negative"},
		},
		{
			name:  "max_age above 24h is refused",
			block: []string{"origins https://app.example.com", "max_age 25h"},
			line:  4,
			want:  []string{"max_age 25h is more than 24h", "use at most 2h"},
		},
		{
			name:  "max_age above 24h in seconds is refused",
			block: []string{"origins https://app.example.com", "max_age 86401"},
			line:  4,
			want:  []string{"is more than 24h"},
		},
		{
			name:  "max_age of 2^55 seconds is refused as above 24h, not wrapped to 0",
			block: []string{"origins https://app.example.com", "max_age 36028797018963968"},
			line:  4,
			want:  []string{"max_age 36028797018963968s is more than 24h"},
		},
		{
			name:  "max_age of 2^55+600 seconds is refused as above 24h, not wrapped to 10 minutes",
			block: []string{"origins https://app.example.com", "max_age 36028797018964568"},
			line:  4,
			want:  []string{"max_age 36028797018964568s is more than 24h"},
		},
		{
			name:  "max_age of the largest int64 in seconds is refused as above 24h, not as negative",
			block: []string{"origins https://app.example.com", "max_age 9223372036854775807"},
			line:  4,
			want:  []string{"max_age 9223372036854775807s is more than 24h"},
		},
		{
			name:  "max_age of more seconds than an int64 holds is refused as above 24h",
			block: []string{"origins https://app.example.com", "max_age 99999999999999999999999"},
			line:  4,
			want:  []string{"is more than 24h"},
		},
		{
			name:  "max_age not in whole seconds is refused with the rounded duration",
			block: []string{"origins https://app.example.com", "max_age 1500ms"},
			line:  4,
			want:  []string{"max_age 1.5s is not a whole number of seconds", "write 2s"},
		},
		{
			name:  "max_age below one second is refused",
			block: []string{"origins https://app.example.com", "max_age 500ms"},
			line:  4,
			want:  []string{"max_age 500ms is not a whole number of seconds"},
		},
		{
			name:  "max_age that is neither a duration nor seconds is refused",
			block: []string{"origins https://app.example.com", "max_age ten"},
			line:  4,
			want:  []string{"invalid max_age 'ten'", "10m"},
		},

		// preflight_status
		{
			name:  "preflight_status 199 is refused",
			block: []string{"origins https://app.example.com", "preflight_status 199"},
			line:  4,
			want:  []string{"preflight_status 199 is not a success status", "use 204 or 200"},
		},
		{
			name:  "preflight_status 300 is refused",
			block: []string{"origins https://app.example.com", "preflight_status 300"},
			line:  4,
			want:  []string{"preflight_status 300 is not a success status"},
		},
		{
			name:  "preflight_status 404 is refused",
			block: []string{"origins https://app.example.com", "preflight_status 404"},
			line:  4,
			want:  []string{"preflight_status 404 is not a success status"},
		},
		{
			name:  "preflight_status that is not a number is refused",
			block: []string{"origins https://app.example.com", "preflight_status ok"},
			line:  4,
			want:  []string{"invalid preflight_status 'ok'", "204"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			input := "example.com {\n\tcors {\n\t\t" + strings.Join(tc.block, "\n\t\t") + "\n\t}\n}\n"
			_, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(input), nil)
			assertErrorAt(t, err, "Caddyfile", tc.line, tc.want...)
		})
	}
}

// TestCaddyfileReportsEveryErrorOfABlock proves that the Caddyfile, like
// JSON, reports every error of a cors block together, each with its line,
// and goes on reading after a line with a wrong argument count or an
// unknown subdirective.
func TestCaddyfileReportsEveryErrorOfABlock(t *testing.T) {
	input := `example.com {
	cors https://App.example.com {
		origins null https://a.example.com/
		credentials true
		methods TRACE
		bogus 1 2 {
			nested
		}
		origins *
		max_age 9223372036854775807
		max_age 10m
		expose Access-Control-Max-Age
		preflight_passthrough {
			yes
		}
	}
}
`
	_, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(input), nil)
	if err == nil {
		t.Fatal("no error")
	}
	want := map[string]int{
		`origin "https://App.example.com" is not lower case`:      2,
		`origin "null" cannot be allowed`:                         3,
		`origin "https://a.example.com/" ends with a slash`:       3,
		"credentials takes no value":                              4,
		`method "TRACE" is forbidden`:                             5,
		"unrecognized subdirective 'bogus'":                       6,
		"origins * cannot be combined with credentials":           9,
		"max_age 9223372036854775807s is more than 24h":           10,
		"max_age already specified":                               11,
		`expose header "Access-Control-Max-Age" is a CORS header`: 12,
		"preflight_passthrough takes no block":                    13,
	}
	lines := strings.Split(err.Error(), "\n")
	for msg, line := range want {
		found := false
		for _, l := range lines {
			if strings.Contains(l, msg) {
				found = true
				assertErrorAt(t, errors.New(l), "Caddyfile", line, msg)
			}
		}
		if !found {
			t.Errorf("error does not report %q:\n%v", msg, err)
		}
	}
	if len(lines) != len(want) {
		t.Errorf("error has %d lines, want %d, one per mistake:\n%v", len(lines), len(want), err)
	}
}

// TestCaddyfileCommaSeparatedEnvironmentVariable proves that origins kept
// in an environment variable the way other frameworks want them, with
// commas, are refused with the fix: separate them with spaces.
func TestCaddyfileCommaSeparatedEnvironmentVariable(t *testing.T) {
	t.Setenv("CORS_ORIGINS_WITH_COMMAS", "https://a.example.com,https://b.example.com")
	input := "example.com {\n\tcors {$CORS_ORIGINS_WITH_COMMAS}\n}\n"
	_, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(input), nil)
	assertErrorAt(t, err, "Caddyfile", 2, "separated by spaces", "{$CORS_ORIGINS}", "write https://a.example.com https://b.example.com")
}

// TestCaddyfileEmptyEnvironmentVariable proves that a policy left without
// origins by an empty environment variable says that may be why.
func TestCaddyfileEmptyEnvironmentVariable(t *testing.T) {
	t.Setenv("CORS_ORIGINS_EMPTY", "")
	input := "example.com {\n\treverse_proxy localhost:9000\n\tcors {$CORS_ORIGINS_EMPTY}\n}\n"
	_, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(input), nil)
	assertErrorAt(t, err, "Caddyfile", 3, "no origin is allowed", "origins *", "environment variable such as {$CORS_ORIGINS}")
}

// TestCaddyfileRejectsInvalidInlineOrigin proves an inline origin is
// checked like one in an origins line, and named by the cors line.
func TestCaddyfileRejectsInvalidInlineOrigin(t *testing.T) {
	input := "example.com {\n\treverse_proxy localhost:9000\n\tcors /api/* https://app.example.com https://App.example.com\n}\n"
	_, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(input), nil)
	assertErrorAt(t, err, "Caddyfile", 3, `origin "https://App.example.com" is not lower case`, `write "https://app.example.com"`)
}

func TestUnmarshalCaddyfile(t *testing.T) {
	maxAge := func(d time.Duration) *caddy.Duration { return (*caddy.Duration)(&d) }
	for _, tc := range []struct {
		name  string
		input string
		want  CORS
	}{
		{
			name:  "inline origins",
			input: "cors https://app.example.com http://localhost:5173",
			want:  CORS{AllowedOrigins: []string{"https://app.example.com", "http://localhost:5173"}},
		},
		{
			name: "inline origins and origins lines accumulate in order",
			input: `cors https://app.example.com {
				origins https://admin.example.com
				origins https://*.example.net
			}`,
			want: CORS{AllowedOrigins: []string{"https://app.example.com", "https://admin.example.com", "https://*.example.net"}},
		},
		{
			name: "list subdirectives accumulate over lines",
			input: `cors https://app.example.com {
				origin_regexp https://a[0-9]\.example\.com
				origin_regexp https://b[0-9]\.example\.com
				methods PUT
				methods delete PATCH
				headers Authorization
				headers X-Request-ID
				expose ETag
				expose Link
			}`,
			want: CORS{
				AllowedOrigins:       []string{"https://app.example.com"},
				AllowedOriginRegexps: []string{`https://a[0-9]\.example\.com`, `https://b[0-9]\.example\.com`},
				AllowedMethods:       []string{"PUT", "delete", "PATCH"},
				AllowedHeaders:       []string{"Authorization", "X-Request-ID"},
				ExposedHeaders:       []string{"ETag", "Link"},
			},
		},
		{
			name: "flags and single values",
			input: `cors https://app.example.com {
				credentials
				max_age 600
				private_network
				preflight_status 200
				preflight_passthrough
			}`,
			want: CORS{
				AllowedOrigins:       []string{"https://app.example.com"},
				AllowCredentials:     true,
				MaxAge:               maxAge(600 * time.Second),
				AllowPrivateNetwork:  true,
				PreflightStatus:      200,
				PreflightPassthrough: true,
			},
		},
		{
			name:  "max_age as a duration",
			input: "cors https://app.example.com {\n max_age 10m\n}",
			want:  CORS{AllowedOrigins: []string{"https://app.example.com"}, MaxAge: maxAge(10 * time.Minute)},
		},
		{
			name:  "max_age 0 is kept, not dropped",
			input: "cors https://app.example.com {\n max_age 0\n}",
			want:  CORS{AllowedOrigins: []string{"https://app.example.com"}, MaxAge: maxAge(0)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got CORS
			if err := got.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.input)); err != nil {
				t.Fatalf("unmarshaling:\n%s\n%v", tc.input, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("unmarshaling:\n%s\ngot  %+v\nwant %+v", tc.input, got.config(), tc.want.config())
			}
		})
	}
}

func TestUnmarshalCaddyfileErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		input string
		line  int
		want  string
	}{
		{
			name:  "unknown subdirective",
			input: "cors https://app.example.com {\n allow_origins https://admin.example.com\n}",
			line:  2,
			want:  "unrecognized subdirective 'allow_origins'",
		},
		{name: "origins without an argument", input: "cors {\n origins\n}", line: 2, want: "wrong argument count"},
		{name: "origin_regexp without an argument", input: "cors {\n origin_regexp\n}", line: 2, want: "wrong argument count"},
		{name: "methods without an argument", input: "cors {\n methods\n}", line: 2, want: "wrong argument count"},
		{name: "headers without an argument", input: "cors {\n headers\n}", line: 2, want: "wrong argument count"},
		{name: "expose without an argument", input: "cors {\n expose\n}", line: 2, want: "wrong argument count"},
		{name: "max_age without an argument", input: "cors {\n max_age\n}", line: 2, want: "wrong argument count"},
		{name: "preflight_status without an argument", input: "cors {\n preflight_status\n}", line: 2, want: "wrong argument count"},
		{name: "max_age with two arguments", input: "cors {\n max_age 10m 20m\n}", line: 2, want: "wrong argument count"},
		{name: "preflight_status with two arguments", input: "cors {\n preflight_status 200 204\n}", line: 2, want: "wrong argument count"},
		{name: "credentials with an argument", input: "cors {\n credentials true\n}", line: 2, want: "credentials takes no value"},
		{name: "private_network with an argument", input: "cors {\n private_network on\n}", line: 2, want: "private_network takes no value"},
		{name: "preflight_passthrough with an argument", input: "cors {\n preflight_passthrough yes\n}", line: 2, want: "preflight_passthrough takes no value"},
		{name: "credentials twice", input: "cors {\n credentials\n credentials\n}", line: 3, want: "credentials already specified"},
		{name: "max_age twice", input: "cors {\n max_age 10m\n max_age 1h\n}", line: 3, want: "max_age already specified"},
		{name: "private_network twice", input: "cors {\n private_network\n private_network\n}", line: 3, want: "private_network already specified"},
		{name: "preflight_status twice", input: "cors {\n preflight_status 200\n preflight_status 204\n}", line: 3, want: "preflight_status already specified"},
		{name: "preflight_passthrough twice", input: "cors {\n preflight_passthrough\n preflight_passthrough\n}", line: 3, want: "preflight_passthrough already specified"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c CORS
			err := c.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.input))
			assertErrorAt(t, err, "Testfile", tc.line, tc.want)
		})
	}
}

// TestMain lets a test run the caddy command itself: with
// CORS_TEST_RUN_CADDY=1 in its environment, this test binary is Caddy
// with the cors module, what cmd/caddy builds, so that a test can run
// `caddy adapt` as a user does and read what it prints.
func TestMain(m *testing.M) {
	if os.Getenv("CORS_TEST_RUN_CADDY") == "1" {
		caddycmd.Main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runCaddy runs `caddy <args>` in dir, as a user would, and gives the log
// entries it wrote to stderr. It fails the test if the command fails.
func runCaddy(t *testing.T, dir string, args ...string) []logEntry {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Dir = dir
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "CORS_TEST_RUN_CADDY=1", "HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, "config"), "XDG_DATA_HOME="+filepath.Join(home, "data"))
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("caddy %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	var entries []logEntry
	for _, line := range strings.Split(stderr.String(), "\n") {
		var e logEntry
		if json.Unmarshal([]byte(line), &e) == nil && e.Msg != "" {
			entries = append(entries, e)
		}
	}
	return entries
}

// adaptAndValidate writes caddyfile to a directory as "Caddyfile" and runs
// `caddy adapt --validate` there: the Caddyfile is adapted, then every
// module of the result is provisioned, as `caddy run` would. It gives the
// warnings logged about cors: by the Caddyfile adapter (logger
// config.adapter.caddyfile, message starting with "cors: ") and by the
// handlers as they load (logger http.handlers.cors).
func adaptAndValidate(t *testing.T, caddyfile string) (adapter, handlers []logEntry) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Caddyfile"), []byte(caddyfile), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, e := range runCaddy(t, dir, "adapt", "--config", "Caddyfile", "--validate") {
		switch {
		case e.Logger == "config.adapter.caddyfile" && strings.HasPrefix(e.Msg, "cors: "):
			adapter = append(adapter, e)
		case e.Logger == "http.handlers.cors":
			handlers = append(handlers, e)
		}
	}
	for _, e := range append(adapter, handlers...) {
		if e.Level != "warn" {
			t.Errorf("%q logged at %s, want warn", e.Msg, e.Level)
		}
	}
	return adapter, handlers
}

// located is a log entry reduced to what a test compares: what it says,
// and where.
type located struct {
	Msg  string
	File string
	Line int
}

// locate reduces entries to the first of markers each contains (an entry
// containing none keeps its whole message), with the file and line it
// names, sorted.
func locate(entries []logEntry, markers ...string) []located {
	var got []located
	for _, e := range entries {
		msg := e.Msg
		for _, m := range markers {
			if strings.Contains(e.Msg, m) {
				msg = m
				break
			}
		}
		got = append(got, located{Msg: msg, File: e.File, Line: e.Line})
	}
	slices.SortFunc(got, func(a, b located) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), strings.Compare(a.Msg, b.Msg))
	})
	return got
}

// TestCaddyfileWarningsNameTheirLines proves that each warning about a
// value is logged by the Caddyfile adapter with the file and line of that
// value, and again, without a line, by the handler as it loads, as for a
// JSON configuration; the matcher warning, which only the adapter can see,
// is logged by the adapter alone.
func TestCaddyfileWarningsNameTheirLines(t *testing.T) {
	adapter, handlers := adaptAndValidate(t, `http://localhost:9400 {
	@writes method PUT POST
	cors @writes https://app.example.com {
		methods patch PUT Purge delete
		origin_regexp https://.*
		max_age 3h
	}
	cors /other {
		origins http://plain.example.com
		credentials
	}
}
`)
	markers := []string{
		`method "patch" is not upper case`,
		`fetch(url, {method: "PURGE"}) will be refused`,
		`origin_regexp "https://.*" matches hosts in any domain`,
		"max_age 3h is more than 2h",
		"matcher @writes matches only the methods PUT POST, never OPTIONS",
		`origin "http://plain.example.com" is plain http`,
	}
	wantAdapter := []located{
		{markers[4], "Caddyfile", 3},
		{markers[1], "Caddyfile", 4},
		{markers[0], "Caddyfile", 4},
		{markers[2], "Caddyfile", 5},
		{markers[3], "Caddyfile", 6},
		{markers[5], "Caddyfile", 9},
	}
	if got := locate(adapter, markers...); !reflect.DeepEqual(got, wantAdapter) {
		t.Errorf("the adapter logged\n%v\nwant\n%v", got, wantAdapter)
	}
	wantHandlers := []located{{Msg: markers[1]}, {Msg: markers[3]}, {Msg: markers[0]}, {Msg: markers[5]}, {Msg: markers[2]}}
	if got := locate(handlers, markers...); !reflect.DeepEqual(got, wantHandlers) {
		t.Errorf("the handlers logged\n%v\nwant, without a line\n%v", got, wantHandlers)
	}
}

// TestCaddyfileIdenticalHandlersKeepTheirOwnWarnings proves that two sites
// with the same cors block, one behind a method matcher that never sees a
// preflight, each get their own warnings, once: the matcher warning names
// only the directive that has the matcher.
func TestCaddyfileIdenticalHandlersKeepTheirOwnWarnings(t *testing.T) {
	adapter, handlers := adaptAndValidate(t, `http://a.localhost:9400 {
	cors http://app.example.com {
		credentials
	}
}

http://b.localhost:9400 {
	@get method GET
	cors @get http://app.example.com {
		credentials
	}
}
`)
	plain, matcher := `origin "http://app.example.com" is plain http`, "cors: matcher @get matches only the methods GET"
	wantAdapter := []located{
		{plain, "Caddyfile", 2},
		{matcher, "Caddyfile", 9},
		{plain, "Caddyfile", 9},
	}
	if got := locate(adapter, plain, matcher); !reflect.DeepEqual(got, wantAdapter) {
		t.Errorf("the adapter logged\n%v\nwant\n%v", got, wantAdapter)
	}
	wantHandlers := []located{{Msg: plain}, {Msg: plain}}
	if got := locate(handlers, plain, matcher); !reflect.DeepEqual(got, wantHandlers) {
		t.Errorf("the handlers logged\n%v\nwant one line each, without a line number\n%v", got, wantHandlers)
	}
}

// TestCaddyfileSnippetImportedBySixtySitesWarnsOnce proves that a cors
// block in a snippet that 60 sites import warns once at its line when the
// Caddyfile is adapted, and once per handler as they load: 61 lines, where
// each handler used to log the warnings of all 60.
func TestCaddyfileSnippetImportedBySixtySitesWarnsOnce(t *testing.T) {
	var caddyfile strings.Builder
	caddyfile.WriteString("(api_cors) {\n\tcors http://app.example.com {\n\t\tcredentials\n\t}\n}\n")
	const sites = 60
	for i := range sites {
		fmt.Fprintf(&caddyfile, "\nhttp://site%d.localhost:9400 {\n\timport api_cors\n}\n", i)
	}
	adapter, handlers := adaptAndValidate(t, caddyfile.String())
	plain := `origin "http://app.example.com" is plain http`
	if got, want := locate(adapter, plain), []located{{plain, "Caddyfile", 2}}; !reflect.DeepEqual(got, want) {
		t.Errorf("the adapter logged %d lines, want once at the snippet's line:\n%v", len(got), got)
	}
	if got := locate(handlers, plain); len(got) != sites || slices.ContainsFunc(got, func(l located) bool { return l != located{Msg: plain} }) {
		t.Errorf("the handlers logged %d lines, want %d, one each, without a line number; the first: %v", len(got), sites, got[:min(len(got), 3)])
	}
}

// TestCaddyfileMatcherThatSeesPreflights proves that a cors directive
// whose matcher can match OPTIONS, or that has no method matcher, is not
// warned about.
func TestCaddyfileMatcherThatSeesPreflights(t *testing.T) {
	adapter, handlers := adaptAndValidate(t, `http://localhost:9401 {
	@api method GET OPTIONS
	cors @api https://app.example.com
	cors /path/* https://app.example.com
}
`)
	if len(adapter)+len(handlers) != 0 {
		t.Errorf("logged %v %v, want no warning", adapter, handlers)
	}
}

// TestJSONLoadedAfterAnAdaptationNamesNoLine proves that adapting a
// Caddyfile leaves nothing behind for a later load: a JSON configuration
// loaded after the same handler was adapted from a Caddyfile in the same
// process (POST /adapt, then POST /load of JSON) warns without naming that
// Caddyfile's line.
func TestJSONLoadedAfterAnAdaptationNamesNoLine(t *testing.T) {
	input := "http://localhost:9400 {\n\tcors https://app.example.com {\n\t\tmax_age 3h\n\t}\n}\n"
	if _, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(input), map[string]any{"filename": "Caddyfile"}); err != nil {
		t.Fatal(err)
	}
	entries := validateAndReadLog(t, map[string]any{
		"apps": map[string]any{
			"http": map[string]any{
				"servers": map[string]any{
					"from_json": map[string]any{
						"listen":          []string{"127.0.0.1:0"},
						"automatic_https": map[string]any{"disable": true},
						"routes": []any{map[string]any{"handle": []any{map[string]any{
							"handler":         "cors",
							"allowed_origins": []string{"https://app.example.com"},
							"max_age":         "3h",
						}}}},
					},
				},
			},
		},
	})
	want := []located{{Msg: "max_age 3h is more than 2h"}}
	if got := locate(entries, want[0].Msg); !reflect.DeepEqual(got, want) {
		t.Errorf("logged %v, want %v: a JSON configuration has no Caddyfile line", got, want)
	}
}
