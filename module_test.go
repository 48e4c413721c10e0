package cors

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	"github.com/caddy-cors/cors/internal/policy"
)

// loadCORS decodes and provisions the handler from its JSON as Caddy does
// for every handler of a route: strict decoding, then Provision.
func loadCORS(t *testing.T, raw string) (*CORS, error) {
	t.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	mod, err := ctx.LoadModuleByID("http.handlers.cors", json.RawMessage(raw))
	if err != nil {
		return nil, err
	}
	return mod.(*CORS), nil
}

func TestProvisionRejectsInvalidJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		json string
		want []string // substrings of the error, in no particular order
	}{
		// Origins
		{
			name: "no origin at all is refused and the message shows origins * for a public API",
			json: `{}`,
			want: []string{"no origin is allowed", `"allowed_origins"`, "origins *"},
		},
		{
			name: "only methods and no origin is refused",
			json: `{"allowed_methods": ["PUT"]}`,
			want: []string{"no origin is allowed"},
		},
		{
			name: "any origin with credentials is refused",
			json: `{"allowed_origins": ["*"], "allow_credentials": true}`,
			want: []string{"origins * cannot be combined with credentials", "list the exact origins"},
		},
		{
			name: "expose * with credentials is refused",
			json: `{"allowed_origins": ["https://app.example.com"], "exposed_headers": ["*"], "allow_credentials": true}`,
			want: []string{"expose * cannot be combined with credentials", "list the response headers"},
		},
		{
			name: "null origin is refused",
			json: `{"allowed_origins": ["null"]}`,
			want: []string{`origin "null" cannot be allowed`, "remove it"},
		},
		{
			name: "file origin is refused and http://localhost suggested",
			json: `{"allowed_origins": ["file:///home/me/index.html"]}`,
			want: []string{`origin "file:///home/me/index.html" cannot be allowed`, "http://localhost"},
		},
		{
			name: "origin with a path is refused with the canonical origin",
			json: `{"allowed_origins": ["https://app.example.com/api"]}`,
			want: []string{`origin "https://app.example.com/api" has a path`, `write "https://app.example.com"`},
		},
		{
			name: "origin with a trailing slash is refused with the canonical origin",
			json: `{"allowed_origins": ["https://app.example.com/"]}`,
			want: []string{`origin "https://app.example.com/" ends with a slash`, `write "https://app.example.com"`},
		},
		{
			name: "origin with a query is refused with the canonical origin",
			json: `{"allowed_origins": ["https://app.example.com?x=1"]}`,
			want: []string{`origin "https://app.example.com?x=1" has a query`, `write "https://app.example.com"`},
		},
		{
			name: "origin with a fragment is refused with the canonical origin",
			json: `{"allowed_origins": ["https://app.example.com#top"]}`,
			want: []string{`origin "https://app.example.com#top" has a fragment`, `write "https://app.example.com"`},
		},
		{
			name: "origin with user info is refused with the canonical origin",
			json: `{"allowed_origins": ["https://user@app.example.com"]}`,
			want: []string{`origin "https://user@app.example.com" has user info`, `write "https://app.example.com"`},
		},
		{
			name: "origin with the default https port is refused without the port",
			json: `{"allowed_origins": ["https://example.com:443"]}`,
			want: []string{`origin "https://example.com:443" has the default port 443`, `write "https://example.com"`},
		},
		{
			name: "origin with the default http port is refused without the port",
			json: `{"allowed_origins": ["http://example.com:80"]}`,
			want: []string{`origin "http://example.com:80" has the default port 80`, `write "http://example.com"`},
		},
		{
			name: "upper-case origin is refused with its lower-case spelling",
			json: `{"allowed_origins": ["https://App.Example.com"]}`,
			want: []string{`origin "https://App.Example.com" is not lower case`, `write "https://app.example.com"`},
		},
		{
			name: "upper-case scheme is refused with its lower-case spelling",
			json: `{"allowed_origins": ["HTTPS://app.example.com"]}`,
			want: []string{`is not lower case`, `write "https://app.example.com"`},
		},
		{
			name: "non-punycode host is refused with its punycode spelling",
			json: `{"allowed_origins": ["https://bücher.example"]}`,
			want: []string{`origin "https://bücher.example" has a host that is not in Punycode`, `write "https://xn--bcher-kva.example"`},
		},
		{
			name: "origin without a scheme is refused with an https spelling",
			json: `{"allowed_origins": ["app.example.com"]}`,
			want: []string{`origin "app.example.com" has no scheme`, `"https://app.example.com"`},
		},
		{
			name: "subdomain pattern over the public suffix com is refused",
			json: `{"allowed_origins": ["https://*.com"]}`,
			want: []string{`origin "https://*.com" would allow every site under the public suffix "com"`, `"https://*.your-domain.com"`},
		},
		{
			name: "subdomain pattern over the public suffix github.io is refused",
			json: `{"allowed_origins": ["https://*.github.io"]}`,
			want: []string{`origin "https://*.github.io" would allow every site under the public suffix "github.io"`, `"https://*.your-domain.github.io"`},
		},
		{
			name: "origin regexp that does not compile is refused",
			json: `{"allowed_origin_regexps": ["https://(app.example.com"]}`,
			want: []string{`origin_regexp "https://(app.example.com" does not compile`, "missing closing )"},
		},
		{
			name: "origin regexp that matches null is refused",
			json: `{"allowed_origin_regexps": [".*"]}`,
			want: []string{`origin_regexp ".*" matches the origin "null"`, `https://[a-z0-9-]+\.example\.com`},
		},

		// Methods
		{
			name: "method that is not a token is refused",
			json: `{"allowed_origins": ["https://app.example.com"], "allowed_methods": ["PUT,PATCH"]}`,
			want: []string{`method "PUT,PATCH" is not a valid method name`},
		},
		{
			name: "method CONNECT is refused as forbidden",
			json: `{"allowed_origins": ["https://app.example.com"], "allowed_methods": ["CONNECT"]}`,
			want: []string{`method "CONNECT" is forbidden`, "remove it"},
		},
		{
			name: "method TRACE is refused as forbidden",
			json: `{"allowed_origins": ["https://app.example.com"], "allowed_methods": ["TRACE"]}`,
			want: []string{`method "TRACE" is forbidden`, "remove it"},
		},
		{
			name: "method TRACK is refused as forbidden",
			json: `{"allowed_origins": ["https://app.example.com"], "allowed_methods": ["TRACK"]}`,
			want: []string{`method "TRACK" is forbidden`, "remove it"},
		},
		{
			name: "lower-case forbidden method is refused too",
			json: `{"allowed_origins": ["https://app.example.com"], "allowed_methods": ["connect"]}`,
			want: []string{`method "connect" is forbidden`},
		},

		// Request headers
		{
			name: "header name that is not a token is refused",
			json: `{"allowed_origins": ["https://app.example.com"], "allowed_headers": ["Content-Type,Authorization"]}`,
			want: []string{`header "Content-Type,Authorization" is not a valid header name`},
		},
		{
			name: "forbidden header Cookie is refused",
			json: `{"allowed_origins": ["https://app.example.com"], "allowed_headers": ["Cookie"]}`,
			want: []string{`header "Cookie" is a forbidden request header`, "remove it"},
		},
		{
			name: "forbidden header Host is refused",
			json: `{"allowed_origins": ["https://app.example.com"], "allowed_headers": ["Host"]}`,
			want: []string{`header "Host" is a forbidden request header`, "remove it"},
		},
		{
			name: "forbidden header Origin is refused",
			json: `{"allowed_origins": ["https://app.example.com"], "allowed_headers": ["Origin"]}`,
			want: []string{`header "Origin" is a forbidden request header`, "remove it"},
		},
		{
			name: "forbidden Sec- header is refused",
			json: `{"allowed_origins": ["https://app.example.com"], "allowed_headers": ["Sec-Fetch-Mode"]}`,
			want: []string{`header "Sec-Fetch-Mode" is a forbidden request header`, "remove it"},
		},
		{
			name: "forbidden Proxy- header is refused",
			json: `{"allowed_origins": ["https://app.example.com"], "allowed_headers": ["Proxy-Authorization"]}`,
			want: []string{`header "Proxy-Authorization" is a forbidden request header`, "remove it"},
		},
		{
			name: "forbidden Access-Control-Request- header is refused",
			json: `{"allowed_origins": ["https://app.example.com"], "allowed_headers": ["Access-Control-Request-Method"]}`,
			want: []string{`header "Access-Control-Request-Method" is a forbidden request header`, "remove it"},
		},
		{
			name: "CORS response header listed as a request header is refused",
			json: `{"allowed_origins": ["https://app.example.com"], "allowed_headers": ["Access-Control-Allow-Origin"]}`,
			want: []string{`header "Access-Control-Allow-Origin" is a CORS response header`, "remove it"},
		},

		// Exposed headers
		{
			name: "exposed header name that is not a token is refused",
			json: `{"allowed_origins": ["https://app.example.com"], "exposed_headers": ["X-A X-B"]}`,
			want: []string{`expose header "X-A X-B" is not a valid header name`},
		},
		{
			name: "exposing Set-Cookie is refused",
			json: `{"allowed_origins": ["https://app.example.com"], "exposed_headers": ["Set-Cookie"]}`,
			want: []string{`expose header "Set-Cookie" can never be read by scripts`, "remove it"},
		},

		// max_age
		{
			name: "negative max_age is refused",
			json: `{"allowed_origins": ["https://app.example.com"], "max_age": "-1s"}`,
			want: []string{"max_age -1s is negative", "use 0"},
		},
		{
			name: "max_age above 24h is refused",
			json: `{"allowed_origins": ["https://app.example.com"], "max_age": "25h"}`,
			want: []string{"max_age 25h is more than 24h", "use at most 2h"},
		},
		{
			name: "max_age not in whole seconds is refused with the rounded duration",
			json: `{"allowed_origins": ["https://app.example.com"], "max_age": "1500ms"}`,
			want: []string{"max_age 1.5s is not a whole number of seconds", "write 2s"},
		},
		{
			name: "max_age as a bare JSON number is nanoseconds and is refused showing the seconds string",
			json: `{"allowed_origins": ["https://app.example.com"], "max_age": 600}`,
			want: []string{"max_age 600ns is less than a second", "nanoseconds", `"600s"`},
		},

		{
			name: "max_age of the largest duration is refused as above 24h",
			json: `{"allowed_origins": ["https://app.example.com"], "max_age": 9223372036854775807}`,
			want: []string{"is more than 24h"},
		},
		{
			name: "max_age of a huge duration string is refused as above 24h",
			json: `{"allowed_origins": ["https://app.example.com"], "max_age": "2562047h"}`,
			want: []string{"max_age 2562047h is more than 24h"},
		},

		// Origins, continued
		{
			name: "origin regexp over any host with credentials is refused",
			json: `{"allowed_origin_regexps": ["https://.*"], "allow_credentials": true}`,
			want: []string{`origin_regexp "https://.*" matches hosts in any domain`, "credentials", "https://*.example.com"},
		},
		{
			name: "origin regexp over a public suffix with credentials is refused",
			json: `{"allowed_origin_regexps": ["https://[a-z0-9-]+\\.github\\.io"], "allow_credentials": true}`,
			want: []string{`public suffix "github.io"`},
		},
		{
			name: "origin regexp that escapes the anchors is refused",
			json: `{"allowed_origin_regexps": ["https://app\\.example\\.com)|(x"]}`,
			want: []string{"does not compile"},
		},
		{
			name: "origin with an xn-- label that is not Punycode is refused",
			json: `{"allowed_origins": ["http://xn--f"]}`,
			want: []string{`label "xn--f"`, "not valid Punycode"},
		},
		{
			name: "comma-separated origins are refused saying origins are separated by spaces",
			json: `{"allowed_origins": ["https://a.example.com,https://b.example.com"]}`,
			want: []string{"separated by spaces", "one string each"},
		},
		{
			name: "exposing a CORS header is refused",
			json: `{"allowed_origins": ["https://app.example.com"], "exposed_headers": ["Access-Control-Allow-Methods"]}`,
			want: []string{`expose header "Access-Control-Allow-Methods" is a CORS header`, "remove it"},
		},

		// preflight_status
		{
			name: "preflight_status 199 is refused",
			json: `{"allowed_origins": ["https://app.example.com"], "preflight_status": 199}`,
			want: []string{"preflight_status 199 is not a success status", "200-299", "use 204 or 200"},
		},
		{
			name: "preflight_status 300 is refused",
			json: `{"allowed_origins": ["https://app.example.com"], "preflight_status": 300}`,
			want: []string{"preflight_status 300 is not a success status", "use 204 or 200"},
		},
		{
			name: "preflight_status 404 is refused",
			json: `{"allowed_origins": ["https://app.example.com"], "preflight_status": 404}`,
			want: []string{"preflight_status 404 is not a success status", "use 204 or 200"},
		},

		// Strict decoding
		{
			name: "unknown field is refused by strict decoding",
			json: `{"allowed_origins": ["https://app.example.com"], "allow_origins": ["https://admin.example.com"]}`,
			want: []string{"decoding module config", `unknown field "allow_origins"`},
		},
		{
			name: "Caddyfile subdirective name used as a JSON field is refused",
			json: `{"allowed_origins": ["https://app.example.com"], "credentials": true}`,
			want: []string{`unknown field "credentials"`},
		},
		{
			name: "wrong JSON type is refused",
			json: `{"allowed_origins": "https://app.example.com"}`,
			want: []string{"decoding module config", "cannot unmarshal string"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadCORS(t, tc.json)
			if err == nil {
				t.Fatalf("loading %s: no error, want one containing %q", tc.json, tc.want)
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("loading %s:\nerror: %v\nwant it to contain: %s", tc.json, err, want)
				}
			}
		})
	}
}

func TestProvisionReportsEveryErrorTogether(t *testing.T) {
	raw := `{
		"allowed_origins": ["*", "https://App.example.com", "null"],
		"allowed_origin_regexps": [".*"],
		"allowed_methods": ["TRACE"],
		"allowed_headers": ["Cookie"],
		"exposed_headers": ["*"],
		"allow_credentials": true,
		"max_age": 600,
		"preflight_status": 404
	}`
	_, err := loadCORS(t, raw)
	if err == nil {
		t.Fatal("no error for a configuration with nine mistakes")
	}
	for _, want := range []string{
		"origins * cannot be combined with credentials",
		"expose * cannot be combined with credentials",
		`origin "https://App.example.com" is not lower case`,
		`origin "null" cannot be allowed`,
		`origin_regexp ".*" matches the origin "null"`,
		`method "TRACE" is forbidden`,
		`header "Cookie" is a forbidden request header`,
		`"600s"`,
		"preflight_status 404",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not report %q:\n%v", want, err)
		}
	}
}

func TestProvisionAcceptsValidJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		json string
	}{
		{"exact origins", `{"allowed_origins": ["https://app.example.com", "http://localhost:5173", "http://127.0.0.1:8080", "http://[::1]:3000"]}`},
		{"any origin without credentials", `{"allowed_origins": ["*"]}`},
		{"subdomain pattern of an own domain", `{"allowed_origins": ["https://*.example.com"]}`},
		{"subdomain pattern of a localhost name with a port", `{"allowed_origins": ["http://*.app.localhost:8080"]}`},
		{"subdomain pattern of localhost on any port", `{"allowed_origins": ["http://*.localhost:*"]}`},
		{"port wildcard on localhost", `{"allowed_origins": ["http://localhost:*"]}`},
		{"punycode host", `{"allowed_origins": ["https://xn--bcher-kva.example"]}`},
		{"trailing-dot hosts", `{"allowed_origins": ["https://localhost.", "http://example.com.:3999", "https://*.example.org."]}`},
		{"origin regexp over any host without credentials", `{"allowed_origin_regexps": ["https://.*"]}`},
		{"only an origin regexp", `{"allowed_origin_regexps": ["https://[a-z0-9-]+\\.example\\.com"]}`},
		{"methods in any case and any method", `{"allowed_origins": ["https://app.example.com"], "allowed_methods": ["PUT", "delete", "PATCH", "*"]}`},
		{"headers and any header", `{"allowed_origins": ["https://app.example.com"], "allowed_headers": ["Authorization", "X-Request-ID", "*"]}`},
		{"expose * without credentials", `{"allowed_origins": ["https://app.example.com"], "exposed_headers": ["*"]}`},
		{"credentials with exact origins", `{"allowed_origins": ["https://app.example.com"], "allow_credentials": true}`},
		{"max_age as a duration string", `{"allowed_origins": ["https://app.example.com"], "max_age": "10m"}`},
		{"max_age as whole seconds in nanoseconds", `{"allowed_origins": ["https://app.example.com"], "max_age": 600000000000}`},
		{"max_age 0", `{"allowed_origins": ["https://app.example.com"], "max_age": 0}`},
		{"max_age 24h", `{"allowed_origins": ["https://app.example.com"], "max_age": "24h"}`},
		{"preflight_status 200", `{"allowed_origins": ["https://app.example.com"], "preflight_status": 200}`},
		{"preflight_status 299", `{"allowed_origins": ["https://app.example.com"], "preflight_status": 299}`},
		{"every field", `{
			"allowed_origins": ["https://app.example.com"],
			"allowed_origin_regexps": ["https://pr-[0-9]+\\.example\\.net"],
			"allowed_methods": ["PUT"],
			"allowed_headers": ["Authorization"],
			"exposed_headers": ["X-Total-Count"],
			"allow_credentials": true,
			"max_age": "1h",
			"allow_private_network": true,
			"preflight_status": 200,
			"preflight_passthrough": true
		}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := loadCORS(t, tc.json)
			if err != nil {
				t.Fatalf("loading %s: %v", tc.json, err)
			}
			if c.policy == nil {
				t.Fatalf("loading %s: Provision left no policy", tc.json)
			}
		})
	}
}

func TestProvisionDefaultsPreflightStatusTo204(t *testing.T) {
	c, err := loadCORS(t, `{"allowed_origins": ["https://app.example.com"]}`)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.policy.PreflightStatus(); got != 204 {
		t.Errorf("preflight status = %d, want 204", got)
	}
}

func TestWarnings(t *testing.T) {
	hours := func(h time.Duration) *time.Duration { d := h * time.Hour; return &d }
	for _, tc := range []struct {
		name   string
		config policy.Config
		want   []string // one substring per expected warning, in order
	}{
		{
			name:   "plain http origin with credentials warns",
			config: policy.Config{Origins: []string{"http://app.example.com"}, Credentials: true},
			want:   []string{`origin "http://app.example.com" is plain http and credentials are allowed`},
		},
		{
			name:   "plain http subdomain pattern with credentials warns",
			config: policy.Config{Origins: []string{"http://*.example.com"}, Credentials: true},
			want:   []string{`origin "http://*.example.com" is plain http`},
		},
		{
			name:   "plain http origin without credentials does not warn",
			config: policy.Config{Origins: []string{"http://app.example.com"}},
		},
		{
			name:   "https origin with credentials does not warn",
			config: policy.Config{Origins: []string{"https://app.example.com"}, Credentials: true},
		},
		{
			name: "loopback http origins with credentials do not warn",
			config: policy.Config{Origins: []string{
				"http://localhost:5173", "http://localhost:*", "http://*.app.localhost:8080",
				"http://127.0.0.1:8080", "http://[::1]:3000",
			}, Credentials: true},
		},
		{
			name:   "max_age above 2h warns",
			config: policy.Config{Origins: []string{"https://app.example.com"}, MaxAge: hours(3)},
			want:   []string{"max_age 3h is more than 2h"},
		},
		{
			name:   "max_age of exactly 2h does not warn",
			config: policy.Config{Origins: []string{"https://app.example.com"}, MaxAge: hours(2)},
		},
		{
			name:   "private_network warns that only older Chromium sends such preflights",
			config: policy.Config{Origins: []string{"https://app.example.com"}, PrivateNetwork: true},
			want:   []string{"which only older Chromium sends: Chrome removed them in 2025 in favour of Local Network Access, a permission the user grants in the browser and that no response header can give"},
		},
		{
			name:   "any origin next to other origins warns",
			config: policy.Config{Origins: []string{"*", "https://app.example.com"}},
			want:   []string{"origins * allows every origin"},
		},
		{
			name:   "a plain policy does not warn",
			config: policy.Config{Origins: []string{"https://app.example.com"}, MaxAge: hours(1)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.config.Warnings()
			if len(got) != len(tc.want) {
				t.Fatalf("warnings = %q, want %d containing %q", got, len(tc.want), tc.want)
			}
			for i, want := range tc.want {
				if !strings.Contains(got[i].Message, want) {
					t.Errorf("warning %d = %q, want it to contain %q", i, got[i], want)
				}
			}
		})
	}
}

// TestProvisionLogsWarningsOnce runs caddy.Validate, what `caddy validate`
// and `caddy adapt --validate` do: it provisions every module of a full
// config without starting a server. Caddy gives a module's logger only
// through the unexported config of its Context, so the warnings are
// captured the way a user would see them: a log that includes the module's
// logger, written to a file.
func TestProvisionLogsWarningsOnce(t *testing.T) {
	handler := map[string]any{
		"handler":               "cors",
		"allowed_origins":       []string{"http://app.example.com", "https://admin.example.com"},
		"allow_credentials":     true,
		"max_age":               "3h",
		"allow_private_network": true,
	}
	entries := validateAndReadLog(t, map[string]any{
		"apps": map[string]any{
			"http": map[string]any{
				"servers": map[string]any{
					"cors_warnings": map[string]any{
						"listen":          []string{"127.0.0.1:0"},
						"automatic_https": map[string]any{"disable": true},
						"routes": []any{
							map[string]any{"handle": []any{handler}},
						},
					},
				},
			},
		},
	})
	wantWarnings := []string{
		`origin "http://app.example.com" is plain http and credentials are allowed`,
		"max_age 3h is more than 2h",
		"private_network answers Private Network Access preflights",
	}
	for _, want := range wantWarnings {
		n := 0
		for _, e := range entries {
			if strings.Contains(e.Msg, want) {
				n++
				if e.Level != "warn" {
					t.Errorf("%q logged at %s, want warn", e.Msg, e.Level)
				}
				if e.Logger != "http.handlers.cors" {
					t.Errorf("%q logged by %q, want http.handlers.cors", e.Msg, e.Logger)
				}
			}
		}
		if n != 1 {
			t.Errorf("warning %q logged %d times, want once; log:\n%v", want, n, entries)
		}
	}
	if len(entries) != len(wantWarnings) {
		t.Errorf("logged %d entries, want exactly the %d warnings: %v", len(entries), len(wantWarnings), entries)
	}
}

// validateAndReadLog runs caddy.Validate on config, what `caddy validate`
// and `caddy adapt --validate` do, with the admin API off and the cors
// handler's log written to a file, and gives that log's entries.
func validateAndReadLog(t *testing.T, config map[string]any) []logEntry {
	t.Helper()
	logFile := filepath.Join(t.TempDir(), "cors.log")
	config["admin"] = map[string]any{"disabled": true}
	config["logging"] = map[string]any{
		"logs": map[string]any{
			"cors": map[string]any{
				"writer":  map[string]any{"output": "file", "filename": logFile},
				"encoder": map[string]any{"format": "json"},
				"level":   "DEBUG",
				"include": []string{"http.handlers.cors"},
			},
		},
	}
	raw, err := json.Marshal(config)
	if err != nil {
		t.Fatal(err)
	}
	var cfg caddy.Config
	if err := caddy.StrictUnmarshalJSON(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	if err := caddy.Validate(&cfg); err != nil {
		t.Fatalf("validating a config that is valid but for warnings: %v", err)
	}
	return readLogEntries(t, logFile)
}

type logEntry struct {
	Level  string `json:"level"`
	Logger string `json:"logger"`
	Msg    string `json:"msg"`
	File   string `json:"file"` // where the value warned about was written, from a Caddyfile
	Line   int    `json:"line"`
}

func readLogEntries(t *testing.T, path string) []logEntry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("opening the log: %v", err)
	}
	defer f.Close()
	var entries []logEntry
	s := bufio.NewScanner(f)
	for s.Scan() {
		var e logEntry
		if err := json.Unmarshal(s.Bytes(), &e); err != nil {
			t.Fatalf("log line %q: %v", s.Text(), err)
		}
		entries = append(entries, e)
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return entries
}

// TestProvisionReplacesGlobalPlaceholdersInOrigins loads JSON whose
// allowed_origins take origins from the environment: {env.*} is replaced
// once, at load; a variable may hold several origins separated by spaces;
// the result is checked like any origin, and a refusal shows what the
// placeholder became.
func TestProvisionReplacesGlobalPlaceholdersInOrigins(t *testing.T) {
	t.Setenv("CORS_TEST_ORIGINS", "https://a.example.com  https://b.example.com")
	t.Setenv("CORS_TEST_HOST", "app.example.com")
	t.Setenv("CORS_TEST_SLASH", "https://a.example.com/")
	t.Setenv("CORS_TEST_COMMAS", "https://a.example.com,https://b.example.com")
	t.Setenv("CORS_TEST_ANY", "*")
	t.Setenv("CORS_TEST_EMPTY", "")

	t.Run("allowed", func(t *testing.T) {
		c, err := loadCORS(t, `{"allowed_origins": ["{env.CORS_TEST_ORIGINS}", "https://{env.CORS_TEST_HOST}", "https://c.example.com", "{env.CORS_TEST_EMPTY}"]}`)
		if err != nil {
			t.Fatal(err)
		}
		for origin, want := range map[string]bool{
			"https://a.example.com":        true,
			"https://b.example.com":        true,
			"https://app.example.com":      true,
			"https://c.example.com":        true,
			"https://d.example.com":        false,
			"{env.CORS_TEST_ORIGINS}":      false,
			"https://{env.CORS_TEST_HOST}": false,
		} {
			if _, rejection := c.policy.Actual([]string{origin}); rejection.Refused() == want {
				t.Errorf("origin %q: allowed = %v, want %v", origin, !rejection.Refused(), want)
			}
		}
	})

	for _, tc := range []struct {
		name string
		json string
		want []string
	}{
		{
			name: "an origin that is not one",
			json: `{"allowed_origins": ["{env.CORS_TEST_SLASH}"]}`,
			want: []string{`allowed_origins "{env.CORS_TEST_SLASH}" became "https://a.example.com/"`, `origin "https://a.example.com/" ends with a slash`},
		},
		{
			name: "origins separated by commas",
			json: `{"allowed_origins": ["{env.CORS_TEST_COMMAS}"]}`,
			want: []string{`became "https://a.example.com,https://b.example.com"`, "separated by spaces"},
		},
		{
			name: "an empty variable, and no other origin",
			json: `{"allowed_origins": ["{env.CORS_TEST_EMPTY}"]}`,
			want: []string{`allowed_origins "{env.CORS_TEST_EMPTY}" became ""`, "no origin is allowed", "{env.CORS_ORIGINS}"},
		},
		{
			name: "any origin, with credentials",
			json: `{"allowed_origins": ["{env.CORS_TEST_ANY}"], "allow_credentials": true}`,
			want: []string{"origins * cannot be combined with credentials"},
		},
		{
			name: "a request placeholder after an environment variable",
			json: `{"allowed_origins": ["https://{env.CORS_TEST_HOST}{http.request.host}"]}`,
			want: []string{`origin "https://app.example.com{http.request.host}" holds the placeholder {http.request.host}`},
		},
		{
			name: "a request placeholder",
			json: `{"allowed_origins": ["{http.request.header.Origin}"]}`,
			want: []string{`holds the placeholder {http.request.header.Origin}, which has no value when the configuration loads`, "{env.CORS_ORIGINS} in JSON"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadCORS(t, tc.json)
			if err == nil {
				t.Fatalf("loading %s: no error", tc.json)
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not contain %q:\n%v", want, err)
				}
			}
		})
	}
}

// TestTheFirstOfTwoCORSHandlersDecides proves what the troubleshooting page
// says of two cors handlers on one request, which nothing can warn about:
// the first that runs answers the preflight, and its headers replace the
// second's on the response; the second decides nothing.
func TestTheFirstOfTwoCORSHandlersDecides(t *testing.T) {
	site := provision(t, `{"allowed_origins": ["https://www.example.com"]}`)
	api := provision(t, `{"allowed_origins": ["https://app.example.com"], "allowed_methods": ["PUT"]}`)
	s := serve(t, site, func(w http.ResponseWriter, r *http.Request) error {
		return api.ServeHTTP(w, r, caddyhttp.HandlerFunc(respondOK))
	})

	resp, _ := s.do(t, http.MethodOptions, preflightHeader("https://app.example.com", "PUT", ""))
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("preflight from the second handler's origin: %d, want 403 from the first", resp.StatusCode)
	}
	resp, _ = s.do(t, http.MethodGet, http.Header{"Origin": {"https://app.example.com"}})
	if got := resp.Header.Values("Access-Control-Allow-Origin"); len(got) != 0 {
		t.Errorf("request from the second handler's origin: Access-Control-Allow-Origin %q, want none: the first refuses it", got)
	}
	resp, _ = s.do(t, http.MethodGet, http.Header{"Origin": {"https://www.example.com"}})
	if got := resp.Header.Values("Access-Control-Allow-Origin"); len(got) != 1 || got[0] != "https://www.example.com" {
		t.Errorf("request from the first handler's origin: Access-Control-Allow-Origin %q, want it, though the second refuses it", got)
	}
}
