package policy

import (
	"net/http"
	"testing"
)

func TestJudgeHeader(t *testing.T) {
	const app = "https://app.example.com"
	actual := func(credentialed bool) BrowserRequest {
		return BrowserRequest{Kind: Actual, Origin: app, Credentialed: credentialed}
	}
	preflight := func(method string, requestHeaders ...string) BrowserRequest {
		return BrowserRequest{Kind: Preflight, Origin: app, Method: method, RequestHeaders: requestHeaders}
	}
	tests := []struct {
		name   string
		req    BrowserRequest
		status int
		header http.Header
		want   Reason
	}{
		{"the exact origin lets the page read", actual(false), 200,
			http.Header{"Access-Control-Allow-Origin": {app}}, ""},
		{"a star lets the page read without credentials", actual(false), 500,
			http.Header{"Access-Control-Allow-Origin": {"*"}}, ""},
		{"no Access-Control-Allow-Origin refuses", actual(false), 200,
			http.Header{}, ReasonOrigin},
		{"an origin with a trailing slash refuses", actual(false), 200,
			http.Header{"Access-Control-Allow-Origin": {app + "/"}}, ReasonOrigin},
		{"two equal field lines refuse", actual(false), 200,
			http.Header{"Access-Control-Allow-Origin": {app, app}}, ReasonOrigin},
		{"a star refuses a request with credentials", actual(true), 200,
			http.Header{"Access-Control-Allow-Origin": {"*"}, "Access-Control-Allow-Credentials": {"true"}}, ReasonCredentials},
		{"credentials need Access-Control-Allow-Credentials", actual(true), 200,
			http.Header{"Access-Control-Allow-Origin": {app}}, ReasonCredentials},
		{"credentials need exactly true", actual(true), 200,
			http.Header{"Access-Control-Allow-Origin": {app}, "Access-Control-Allow-Credentials": {"True"}}, ReasonCredentials},
		{"credentials with the origin and true", actual(true), 200,
			http.Header{"Access-Control-Allow-Origin": {app}, "Access-Control-Allow-Credentials": {"true"}}, ""},

		{"a preflight for a listed method passes", preflight("PUT"), 204,
			http.Header{"Access-Control-Allow-Origin": {app}, "Access-Control-Allow-Methods": {"GET, PUT"}}, ""},
		{"a preflight needs an ok status", preflight("PUT"), 403,
			http.Header{"Access-Control-Allow-Origin": {app}, "Access-Control-Allow-Methods": {"PUT"}}, ReasonStatus},
		{"a preflight from another origin fails on the origin first", preflight("PUT"), 405,
			http.Header{}, ReasonOrigin},
		{"methods are compared byte for byte", preflight("patch"), 204,
			http.Header{"Access-Control-Allow-Origin": {app}, "Access-Control-Allow-Methods": {"PATCH"}}, ReasonMethod},
		{"a safelisted method needs no Access-Control-Allow-Methods", preflight("POST"), 200,
			http.Header{"Access-Control-Allow-Origin": {app}}, ""},
		{"a star covers any method", preflight("DELETE"), 200,
			http.Header{"Access-Control-Allow-Origin": {app}, "Access-Control-Allow-Methods": {"*"}}, ""},
		{"a list that does not parse fails", preflight("POST"), 200,
			http.Header{"Access-Control-Allow-Origin": {app}, "Access-Control-Allow-Methods": {"GET PUT"}}, ReasonMethod},
		{"headers are compared case-insensitively", preflight("GET", "content-type,x-token"), 204,
			http.Header{"Access-Control-Allow-Origin": {app}, "Access-Control-Allow-Headers": {"Content-Type, X-Token"}}, ""},
		{"an unlisted header fails", preflight("GET", "content-type,x-debug"), 204,
			http.Header{"Access-Control-Allow-Origin": {app}, "Access-Control-Allow-Headers": {"content-type"}}, ReasonHeader},
		{"a star covers headers but Authorization", preflight("GET", "authorization,x-debug"), 204,
			http.Header{"Access-Control-Allow-Origin": {app}, "Access-Control-Allow-Headers": {"*"}}, ReasonHeader},
		{"Authorization listed next to a star", preflight("GET", "authorization,x-debug"), 204,
			http.Header{"Access-Control-Allow-Origin": {app}, "Access-Control-Allow-Headers": {"*, Authorization"}}, ""},
		{"private network access needs its header",
			BrowserRequest{Kind: Preflight, Origin: app, Method: "GET", PrivateNetwork: true}, 204,
			http.Header{"Access-Control-Allow-Origin": {app}}, ReasonPrivateNetwork},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := JudgeHeader(&tt.req, tt.status, tt.header); got != tt.want {
				t.Errorf("JudgeHeader = %q, want %q", got, tt.want)
			}
		})
	}
}

// The policy's own answers pass the browser's checks when the policy
// allows the request, and fail them when it refuses, for the same reason.
func TestPolicyAnswersAreJudgedAsTheyWereDecided(t *testing.T) {
	p, err := New(Config{Origins: []string{"https://app.example.com"}, Methods: []string{"PUT"},
		Headers: []string{"x-token"}, Credentials: true})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		method string
		header http.Header
		want   Reason
	}{
		{"allowed preflight", http.MethodOptions, http.Header{"Origin": {"https://app.example.com"},
			"Access-Control-Request-Method": {"PUT"}, "Access-Control-Request-Headers": {"x-token"}}, ""},
		{"refused origin", http.MethodOptions, http.Header{"Origin": {"https://evil.example"},
			"Access-Control-Request-Method": {"PUT"}}, ReasonOrigin},
		{"refused method", http.MethodOptions, http.Header{"Origin": {"https://app.example.com"},
			"Access-Control-Request-Method": {"DELETE"}}, ReasonMethod},
		{"refused header", http.MethodOptions, http.Header{"Origin": {"https://app.example.com"},
			"Access-Control-Request-Method": {"PUT"}, "Access-Control-Request-Headers": {"x-debug"}}, ReasonHeader},
		{"allowed request with a cookie", http.MethodGet, http.Header{"Origin": {"https://app.example.com"},
			"Cookie": {"a=b"}}, ""},
		{"refused request", http.MethodGet, http.Header{"Origin": {"https://evil.example"}}, ReasonOrigin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, origin := Classify(tt.method, tt.header)
			var response Response
			var rejection Rejection
			if kind == Preflight {
				response, rejection = p.Preflight(origin, tt.header)
			} else {
				var answer Answer
				answer, rejection = p.Actual(origin)
				response = answer.Response()
			}
			status := DefaultPreflightStatus
			if rejection.Refused() {
				status = rejection.PreflightStatus()
			}
			req := NewBrowserRequest(kind, origin, tt.header)
			if got := response.Judge(&req, status); got != tt.want || rejection.Reason != tt.want {
				t.Errorf("Judge = %q, policy refused for %q, want %q", got, rejection.Reason, tt.want)
			}
		})
	}
}

func TestNewBrowserRequestCredentials(t *testing.T) {
	for _, tt := range []struct {
		header http.Header
		want   bool
	}{
		{http.Header{"Origin": {"https://a.example"}}, false},
		{http.Header{"Origin": {"https://a.example"}, "Cookie": {"s=1"}}, true},
		{http.Header{"Origin": {"https://a.example"}, "Authorization": {"Bearer x"}}, true},
	} {
		kind, origin := Classify(http.MethodGet, tt.header)
		if got := NewBrowserRequest(kind, origin, tt.header).Credentialed; got != tt.want {
			t.Errorf("%v: credentialed = %v, want %v", tt.header, got, tt.want)
		}
	}
	// A preflight carries no credentials, whatever it asks for.
	h := http.Header{"Origin": {"https://a.example"}, "Access-Control-Request-Method": {"PUT"}, "Cookie": {"s=1"}}
	kind, origin := Classify(http.MethodOptions, h)
	if NewBrowserRequest(kind, origin, h).Credentialed {
		t.Error("a preflight is judged with credentials")
	}
}

func TestJudgeHeaderDoesNotAllocate(t *testing.T) {
	req := BrowserRequest{Kind: Preflight, Origin: "https://app.example.com", Method: "PUT",
		RequestHeaders: []string{"content-type,x-token"}}
	h := http.Header{"Access-Control-Allow-Origin": {"https://app.example.com"},
		"Access-Control-Allow-Methods": {"GET, PUT"}, "Access-Control-Allow-Headers": {"Content-Type, X-Token"}}
	if n := testing.AllocsPerRun(100, func() { JudgeHeader(&req, 204, h) }); n != 0 {
		t.Errorf("JudgeHeader allocates %v times", n)
	}
}
