package policy

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func mustNew(t testing.TB, c Config) *Policy {
	t.Helper()
	p, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func seconds(n int) *time.Duration {
	d := time.Duration(n) * time.Second
	return &d
}

// preflight builds the headers of a preflight; an empty acrh is left out.
func preflight(origin, method, acrh string) http.Header {
	h := http.Header{"Origin": {origin}, "Access-Control-Request-Method": {method}}
	if acrh != "" {
		h["Access-Control-Request-Headers"] = []string{acrh}
	}
	return h
}

const preflightVary = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"

func TestClassify(t *testing.T) {
	tests := []struct {
		name   string
		method string
		h      http.Header
		want   Kind
	}{
		{"no Origin", "GET", http.Header{}, NotCORS},
		{"OPTIONS with Access-Control-Request-Method but no Origin", "OPTIONS", http.Header{"Access-Control-Request-Method": {"PUT"}}, NotCORS},
		{"GET with Origin", "GET", http.Header{"Origin": {"https://a.example"}}, Actual},
		{"OPTIONS without Access-Control-Request-Method", "OPTIONS", http.Header{"Origin": {"https://a.example"}}, Actual},
		{"Access-Control-Request-Method on a POST", "POST", preflight("https://a.example", "PUT", ""), Actual},
		{"preflight", "OPTIONS", preflight("https://a.example", "PUT", ""), Preflight},
	}
	for _, tt := range tests {
		got, origin := Classify(tt.method, tt.h)
		if got != tt.want || len(origin) != len(tt.h["Origin"]) {
			t.Errorf("%s: Classify = %v, %q, want %v, %q", tt.name, got, origin, tt.want, tt.h["Origin"])
		}
	}
}

func TestPreflight(t *testing.T) {
	const app = "https://app.example.com"
	tests := []struct {
		name   string
		config Config
		h      http.Header
		want   Response
		reason Reason // empty: allowed
		msg    string // fragment of the rejection message
	}{
		{
			name:   "allowed origin, method and headers",
			config: Config{Origins: []string{app}, Methods: []string{"PUT"}, Headers: []string{"X-Request-Id", "Content-Type"}},
			h:      preflight(app, "PUT", "content-type,x-request-id"),
			want:   Response{AllowOrigin: app, AllowMethods: "PUT", AllowHeaders: "content-type,x-request-id", Vary: preflightVary},
		},
		{
			name:   "origin not allowed",
			config: Config{Origins: []string{app}, Methods: []string{"PUT"}},
			h:      preflight("https://evil.example", "PUT", ""),
			want:   Response{Vary: preflightVary}, reason: ReasonOrigin, msg: `origin "https://evil.example" is not allowed`,
		},
		{
			name:   "origin with upper case is not the configured origin",
			config: Config{Origins: []string{app}},
			h:      preflight("https://APP.example.com", "GET", ""),
			want:   Response{Vary: preflightVary}, reason: ReasonMalformed,
		},
		{
			name:   "two Origin lines",
			config: Config{Origins: []string{app}},
			h:      http.Header{"Origin": {app, app}, "Access-Control-Request-Method": {"GET"}},
			want:   Response{Vary: preflightVary}, reason: ReasonMalformed, msg: "2 Origin headers",
		},
		{
			name:   "any origin without credentials answers *",
			config: Config{Origins: []string{"*"}},
			h:      preflight("null", "GET", ""),
			want:   Response{AllowOrigin: "*", Vary: preflightVary},
		},
		{
			name:   "subdomain pattern reflects the origin",
			config: Config{Origins: []string{"https://*.example.com"}},
			h:      preflight("https://a.b.example.com", "GET", ""),
			want:   Response{AllowOrigin: "https://a.b.example.com", Vary: preflightVary},
		},
		{
			name:   "port wildcard reflects the origin",
			config: Config{Origins: []string{"http://localhost:*"}},
			h:      preflight("http://localhost:5173", "GET", ""),
			want:   Response{AllowOrigin: "http://localhost:5173", Vary: preflightVary},
		},
		{
			name:   "regexp reflects the origin",
			config: Config{OriginRegexps: []string{`https://pr-[0-9]+\.preview\.example\.com`}},
			h:      preflight("https://pr-42.preview.example.com", "GET", ""),
			want:   Response{AllowOrigin: "https://pr-42.preview.example.com", Vary: preflightVary},
		},
		{
			name:   "regexp is anchored",
			config: Config{OriginRegexps: []string{`https://pr-[0-9]+\.preview\.example\.com`}},
			h:      preflight("https://pr-42.preview.example.com.evil.com", "GET", ""),
			want:   Response{Vary: preflightVary}, reason: ReasonOrigin,
		},
		{
			name:   "safelisted methods pass even with no method configured",
			config: Config{Origins: []string{app}},
			h:      preflight(app, "POST", ""),
			want:   Response{AllowOrigin: app, Vary: preflightVary},
		},
		{
			name:   "PATCH does not allow patch",
			config: Config{Origins: []string{app}, Methods: []string{"PATCH"}},
			h:      preflight(app, "patch", ""),
			want:   Response{AllowOrigin: app, Vary: preflightVary}, reason: ReasonMethod, msg: `method "patch" is not allowed`,
		},
		{
			name:   "patch allows patch",
			config: Config{Origins: []string{app}, Methods: []string{"patch"}},
			h:      preflight(app, "patch", ""),
			want:   Response{AllowOrigin: app, AllowMethods: "patch", Vary: preflightVary},
		},
		{
			name:   "the six normalized names are upper-cased in the configuration",
			config: Config{Origins: []string{app}, Methods: []string{"put", "delete"}},
			h:      preflight(app, "DELETE", ""),
			want:   Response{AllowOrigin: app, AllowMethods: "DELETE", Vary: preflightVary},
		},
		{
			name:   "lower-case get is not safelisted",
			config: Config{Origins: []string{app}},
			h:      preflight(app, "get", ""),
			want:   Response{AllowOrigin: app, Vary: preflightVary}, reason: ReasonMethod,
		},
		{
			name:   "any method answers * without credentials",
			config: Config{Origins: []string{app}, Methods: []string{"*"}},
			h:      preflight(app, "PURGE", ""),
			want:   Response{AllowOrigin: app, AllowMethods: "*", Vary: preflightVary},
		},
		{
			name:   "any method echoes the method with credentials",
			config: Config{Origins: []string{app}, Methods: []string{"*"}, Credentials: true},
			h:      preflight(app, "PURGE", ""),
			want:   Response{AllowOrigin: app, AllowCredentials: "true", AllowMethods: "PURGE", Vary: preflightVary},
		},
		{
			name:   "a method list is not a method",
			config: Config{Origins: []string{app}, Methods: []string{"*"}},
			h:      preflight(app, "PUT,DELETE", ""),
			want:   Response{AllowOrigin: app, Vary: preflightVary}, reason: ReasonMethod, msg: "not a valid method",
		},
		{
			name:   "empty Access-Control-Request-Method",
			config: Config{Origins: []string{app}},
			h:      preflight(app, "", ""),
			want:   Response{AllowOrigin: app, Vary: preflightVary}, reason: ReasonMethod, msg: "empty",
		},
		{
			name:   "header not allowed: the allowed ones are listed, the refused one is not",
			config: Config{Origins: []string{app}, Headers: []string{"X-Request-Id"}},
			h:      preflight(app, "GET", "x-request-id,x-debug"),
			want:   Response{AllowOrigin: app, AllowHeaders: "x-request-id", Vary: preflightVary}, reason: ReasonHeader, msg: `header "x-debug" is not allowed`,
		},
		{
			name:   "no header allowed: a preflight asking for content-type fails",
			config: Config{Origins: []string{app}},
			h:      preflight(app, "POST", "content-type"),
			want:   Response{AllowOrigin: app, Vary: preflightVary}, reason: ReasonHeader,
		},
		{
			name:   "any header does not cover Authorization",
			config: Config{Origins: []string{app}, Headers: []string{"*"}},
			h:      preflight(app, "GET", "authorization,x-anything"),
			want:   Response{AllowOrigin: app, AllowHeaders: "x-anything", Vary: preflightVary}, reason: ReasonHeader, msg: `"authorization"`,
		},
		{
			name:   "any header and Authorization by name",
			config: Config{Origins: []string{app}, Headers: []string{"*", "Authorization"}},
			h:      preflight(app, "GET", "authorization,x-anything"),
			want:   Response{AllowOrigin: app, AllowHeaders: "authorization,x-anything", Vary: preflightVary},
		},
		{
			name:   "request headers split over lines with spaces and empty elements",
			config: Config{Origins: []string{app}, Headers: []string{"X-A", "X-B", "X-C"}},
			h:      http.Header{"Origin": {app}, "Access-Control-Request-Method": {"GET"}, "Access-Control-Request-Headers": {" X-A ,, x-b", "", "x-c ,"}},
			want:   Response{AllowOrigin: app, AllowHeaders: "x-a,x-b,x-c", Vary: preflightVary},
		},
		{
			name:   "a 1 MiB Access-Control-Request-Headers fails at once: no header is listed",
			config: Config{Origins: []string{app}, Methods: []string{"PUT"}, Headers: []string{"*"}, MaxAge: seconds(600)},
			h:      preflight(app, "PUT", strings.Repeat("x-a,", 256<<10)),
			want:   Response{AllowOrigin: app, AllowMethods: "PUT", Vary: preflightVary}, reason: ReasonHeader, msg: "too long",
		},
		{
			name:   "credentials and max_age",
			config: Config{Origins: []string{app}, Credentials: true, MaxAge: seconds(600)},
			h:      preflight(app, "GET", ""),
			want:   Response{AllowOrigin: app, AllowCredentials: "true", MaxAge: "600", Vary: preflightVary},
		},
		{
			name:   "max_age 0 is sent as 0",
			config: Config{Origins: []string{app}, MaxAge: seconds(0)},
			h:      preflight(app, "GET", ""),
			want:   Response{AllowOrigin: app, MaxAge: "0", Vary: preflightVary},
		},
		{
			name:   "private network allowed",
			config: Config{Origins: []string{app}, PrivateNetwork: true},
			h:      http.Header{"Origin": {app}, "Access-Control-Request-Method": {"GET"}, "Access-Control-Request-Private-Network": {"true"}},
			want:   Response{AllowOrigin: app, AllowPrivateNetwork: "true", Vary: preflightVary + ", Access-Control-Request-Private-Network"},
		},
		{
			name:   "private network enabled but not requested",
			config: Config{Origins: []string{app}, PrivateNetwork: true},
			h:      preflight(app, "GET", ""),
			want:   Response{AllowOrigin: app, Vary: preflightVary + ", Access-Control-Request-Private-Network"},
		},
		{
			name:   "private network not allowed: the request header is ignored, the rest answered, without Allow-Private-Network",
			config: Config{Origins: []string{app}, Methods: []string{"PUT"}, Headers: []string{"X-Request-Id"}, MaxAge: seconds(600)},
			h:      http.Header{"Origin": {app}, "Access-Control-Request-Method": {"PUT"}, "Access-Control-Request-Headers": {"x-request-id"}, "Access-Control-Request-Private-Network": {"true"}},
			want:   Response{AllowOrigin: app, AllowMethods: "PUT", AllowHeaders: "x-request-id", MaxAge: "600", Vary: preflightVary},
		},
		{
			name:   "refused method: no Allow-Methods, the allowed headers listed, no Max-Age",
			config: Config{Origins: []string{app}, Methods: []string{"PUT"}, Headers: []string{"X-Request-Id"}, MaxAge: seconds(600)},
			h:      preflight(app, "PURGE", "x-request-id"),
			want:   Response{AllowOrigin: app, AllowHeaders: "x-request-id", Vary: preflightVary}, reason: ReasonMethod, msg: `method "PURGE" is not allowed`,
		},
		{
			name:   "refused method and header: the method is named, the allowed header still listed",
			config: Config{Origins: []string{app}, Methods: []string{"PUT"}, Headers: []string{"X-Request-Id"}},
			h:      preflight(app, "PURGE", "x-debug,x-request-id"),
			want:   Response{AllowOrigin: app, AllowHeaders: "x-request-id", Vary: preflightVary}, reason: ReasonMethod, msg: `"PURGE"`,
		},
		{
			name:   "refused header with credentials: Allow-Credentials and the method as for a success, no Max-Age",
			config: Config{Origins: []string{app}, Methods: []string{"PUT"}, Headers: []string{"X-Request-Id"}, Credentials: true, MaxAge: seconds(600)},
			h:      preflight(app, "PUT", "x-request-id,x-debug"),
			want:   Response{AllowOrigin: app, AllowCredentials: "true", AllowMethods: "PUT", AllowHeaders: "x-request-id", Vary: preflightVary}, reason: ReasonHeader, msg: `header "x-debug" is not allowed`,
		},
		{
			name:   "refused header from any origin: Allow-Origin *",
			config: Config{Origins: []string{"*"}, Methods: []string{"*"}},
			h:      preflight("https://whoever.example", "DELETE", "x-debug"),
			want:   Response{AllowOrigin: "*", AllowMethods: "*", Vary: preflightVary}, reason: ReasonHeader,
		},
		{
			name:   "a header name that is not a token is refused, the allowed ones still listed",
			config: Config{Origins: []string{app}, Headers: []string{"X-Request-Id"}},
			h:      preflight(app, "GET", "x-request-id,x debug"),
			want:   Response{AllowOrigin: app, AllowHeaders: "x-request-id", Vary: preflightVary}, reason: ReasonHeader, msg: "not a valid header name",
		},
		{
			name:   "refused header with private network allowed: Allow-Private-Network for what is allowed",
			config: Config{Origins: []string{app}, PrivateNetwork: true, MaxAge: seconds(60)},
			h:      http.Header{"Origin": {app}, "Access-Control-Request-Method": {"GET"}, "Access-Control-Request-Headers": {"x-debug"}, "Access-Control-Request-Private-Network": {"true"}},
			want:   Response{AllowOrigin: app, AllowPrivateNetwork: "true", Vary: preflightVary + ", Access-Control-Request-Private-Network"}, reason: ReasonHeader,
		},
		{
			name:   "refused origin with credentials: nothing of the policy, not even Allow-Credentials",
			config: Config{Origins: []string{app}, Methods: []string{"PUT"}, Headers: []string{"X-Request-Id"}, Credentials: true, MaxAge: seconds(600)},
			h:      preflight("https://evil.example", "PUT", "x-request-id"),
			want:   Response{Vary: preflightVary}, reason: ReasonOrigin,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rejection := mustNew(t, tt.config).Preflight(tt.h["Origin"], tt.h)
			if got != tt.want {
				t.Errorf("response\n got %+v\nwant %+v", got, tt.want)
			}
			switch {
			case tt.reason == "" && rejection.Refused():
				t.Errorf("rejected: %+v", rejection)
			case tt.reason != "" && !rejection.Refused():
				t.Errorf("allowed, want rejected for %s", tt.reason)
			case tt.reason != "" && (rejection.Reason != tt.reason || !strings.Contains(rejection.Message(), tt.msg)):
				t.Errorf("rejection %+v, want reason %s and a message with %q", rejection, tt.reason, tt.msg)
			}
		})
	}
}

func TestRejectedPreflightStatus(t *testing.T) {
	tests := []struct {
		name   string
		reason Reason
		want   int
	}{
		{"a refused origin gets 403", ReasonOrigin, http.StatusForbidden},
		{"a malformed origin gets 403", ReasonMalformed, http.StatusForbidden},
		{"a refused method from an allowed origin gets 200, so the browser names the method", ReasonMethod, http.StatusOK},
		{"a refused header from an allowed origin gets 200, so the browser names the header", ReasonHeader, http.StatusOK},
	}
	for _, tt := range tests {
		if got := (&Rejection{Reason: tt.reason}).PreflightStatus(); got != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestActualAndNotCORS(t *testing.T) {
	const app = "https://app.example.com"
	withCredentials := mustNew(t, Config{Origins: []string{app}, Credentials: true, Expose: []string{"X-Total", "X-Page"}})
	anyOrigin := mustNew(t, Config{Origins: []string{"*"}, Expose: []string{"X-Total"}})

	tests := []struct {
		name   string
		got    Response
		reason Reason
		want   Response
	}{
		{"allowed origin", get(withCredentials, app), "",
			Response{AllowOrigin: app, AllowCredentials: "true", ExposeHeaders: "X-Total, X-Page", Vary: "Origin"}},
		{"refused origin", get(withCredentials, "https://evil.example"), ReasonOrigin, Response{Vary: "Origin"}},
		{"malformed origin", get(withCredentials, "https://app.example.com/"), ReasonMalformed, Response{Vary: "Origin"}},
		{"no Origin", withCredentials.NotCORS().Response(), "", Response{Vary: "Origin"}},
		{"any origin", get(anyOrigin, "https://whoever.example"), "", Response{AllowOrigin: "*", ExposeHeaders: "X-Total"}},
		{"any origin, null", get(anyOrigin, "null"), "", Response{AllowOrigin: "*", ExposeHeaders: "X-Total"}},
		{"any origin, no Origin", anyOrigin.NotCORS().Response(), "", Response{AllowOrigin: "*", ExposeHeaders: "X-Total"}},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, tt.got, tt.want)
		}
	}
	if _, rejection := withCredentials.Actual([]string{"https://evil.example"}); rejection.Reason != ReasonOrigin {
		t.Errorf("refused origin: rejection %+v", rejection)
	}
}

func get(p *Policy, origin string) Response {
	a, _ := p.Actual([]string{origin})
	return a.Response()
}

func TestPreflightStatusAndPassthrough(t *testing.T) {
	p := mustNew(t, Config{Origins: []string{"*"}})
	if p.PreflightStatus() != 204 || p.PreflightPassthrough() {
		t.Errorf("defaults: status %d, passthrough %v", p.PreflightStatus(), p.PreflightPassthrough())
	}
	p = mustNew(t, Config{Origins: []string{"*"}, PreflightStatus: 200, PreflightPassthrough: true})
	if p.PreflightStatus() != 200 || !p.PreflightPassthrough() {
		t.Errorf("configured: status %d, passthrough %v", p.PreflightStatus(), p.PreflightPassthrough())
	}
}

func TestPrintable(t *testing.T) {
	tests := map[string]string{
		"https://a.example":      "https://a.example",
		"x\r\nSet-Cookie: a=b":   "x??Set-Cookie: a=b",
		"héllo":                  "h??llo",
		strings.Repeat("a", 100): strings.Repeat("a", 64) + "...",
	}
	for in, want := range tests {
		if got := Printable(in, MaxValueLen); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
	}
}

// The message quotes the value at fault as strconv.Quote would quote its
// printable form, and fits the room MessageLen says, so that a refused
// preflight's body is built in one allocation.
func TestRejectionMessage(t *testing.T) {
	tests := []struct {
		value, want string
	}{
		{"PURGE", `method "PURGE" is not allowed`},
		{`a"b\c`, `method "a\"b\\c" is not allowed`},
		{"x\r\n\u202e", `method "x?????" is not allowed`},
		{strings.Repeat(`"`, 100), `method "` + strings.Repeat(`\"`, 64) + `..." is not allowed`},
	}
	for _, tt := range tests {
		r := reject(ReasonMethod, "method %q is not allowed", tt.value)
		if got := r.Message(); got != tt.want {
			t.Errorf("Message for %q = %s, want %s", tt.value, got, tt.want)
		}
		buf := make([]byte, 0, r.MessageLen())
		if allocs := testing.AllocsPerRun(10, func() { _ = r.AppendMessage(buf[:0]) }); allocs != 0 {
			t.Errorf("AppendMessage for %q allocates %v times within MessageLen", tt.value, allocs)
		}
	}
	if r := reject(ReasonHeader, "Access-Control-Request-Headers is too long", ""); r.Message() != "Access-Control-Request-Headers is too long" {
		t.Errorf("a message without a value: %q", r.Message())
	}
}

// Without private_network, the answer to a preflight must not depend on
// Access-Control-Request-Private-Network, which Vary does not name: a
// shared cache would otherwise serve one browser's answer to another. With
// it, only the value "true" asks for private network access (R48).
func TestPrivateNetworkRequestHeader(t *testing.T) {
	const app = "https://app.example.com"
	asked := [][]string{nil, {"true"}, {"false"}, {"TRUE"}, {""}, {"1"}, {"true", "true"}}
	preflights := []http.Header{
		preflight(app, "PUT", "x-request-id"),
		preflight(app, "GET", ""),
		preflight(app, "PURGE", ""),
		preflight(app, "PUT", "x-debug"),
		preflight("https://evil.example", "PUT", ""),
	}
	config := Config{Origins: []string{app}, Methods: []string{"PUT"}, Headers: []string{"X-Request-Id"}, MaxAge: seconds(600)}
	without := mustNew(t, config)
	config.PrivateNetwork = true
	with := mustNew(t, config)
	for _, base := range preflights {
		plain, plainRejection := without.Preflight(base["Origin"], base)
		for _, value := range asked {
			h := base.Clone()
			if value != nil {
				h["Access-Control-Request-Private-Network"] = value
			}
			got, rejection := without.Preflight(h["Origin"], h)
			if got != plain || rejection != plainRejection {
				t.Errorf("without private_network, %v with Access-Control-Request-Private-Network %q:\n got %+v %+v\nwant %+v %+v",
					base, value, got, rejection, plain, plainRejection)
			}

			got, rejection = with.Preflight(h["Origin"], h)
			want := ""
			if len(value) == 1 && value[0] == "true" && base["Origin"][0] == app {
				want = "true"
			}
			if got.AllowPrivateNetwork != want {
				t.Errorf("with private_network, %v with Access-Control-Request-Private-Network %q: Allow-Private-Network %q, want %q",
					base, value, got.AllowPrivateNetwork, want)
			}
			if got.Vary != preflightVary+", Access-Control-Request-Private-Network" {
				t.Errorf("with private_network: Vary %q, want it to name Access-Control-Request-Private-Network", got.Vary)
			}
			if rejection.Refused() != plainRejection.Refused() || rejection.Reason != plainRejection.Reason {
				t.Errorf("with private_network, %v with Access-Control-Request-Private-Network %q: rejection %+v, want %+v",
					base, value, rejection, plainRejection)
			}
		}
	}
}
