package gates

import (
	"crypto/tls"
	"net/http"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

const (
	own     = "https://api.example.com"
	allowed = "https://app.example.com"
	refused = "https://evil.example"
)

// allowList is a policy that allows exactly the origins listed.
type allowList []string

func (l allowList) AllowsOrigin(origin string) bool {
	for _, o := range l {
		if o == origin {
			return true
		}
	}
	return false
}

var testPolicy = allowList{allowed}

// verdict is the policy's verdict on a request's Origin lines, as the
// handler gets it: one line, allowed.
func verdict(origin []string) bool {
	return len(origin) == 1 && testPolicy.AllowsOrigin(origin[0])
}

// request is a request to https://api.example.com over TLS.
func request(method string, header http.Header) *http.Request {
	r := &http.Request{Method: method, Header: header, Host: "api.example.com", ProtoMajor: 1, ProtoMinor: 1, Proto: "HTTP/1.1", TLS: &tls.ConnectionState{}}
	if r.Header == nil {
		r.Header = http.Header{}
	}
	return r
}

func handshake(origin ...string) *http.Request {
	h := http.Header{"Upgrade": {"websocket"}, "Connection": {"Upgrade"}}
	if len(origin) > 0 {
		h["Origin"] = origin
	}
	return request(http.MethodGet, h)
}

func TestWebSocketGate(t *testing.T) {
	h2 := func(protocol string) *http.Request {
		r := request(http.MethodConnect, http.Header{":protocol": {protocol}, "Origin": {refused}})
		r.ProtoMajor, r.Proto = 2, "HTTP/2.0"
		return r
	}
	h3 := func(protocol string) *http.Request {
		r := request(http.MethodConnect, http.Header{"Origin": {refused}})
		r.ProtoMajor, r.Proto = 3, protocol
		return r
	}
	tests := []struct {
		name    string
		r       *http.Request
		refused bool
		message string
	}{
		{"allowed origin passes", handshake(allowed), false, ""},
		{"own origin passes", handshake(own), false, ""},
		{"no Origin passes (not a browser)", handshake(), false, ""},
		{"refused origin is refused", handshake(refused), true, `origin "https://evil.example" is not allowed`},
		{"null is refused", handshake("null"), true, `origin "null" is not allowed`},
		{"own host over the other scheme is refused", handshake("http://api.example.com"), true, `origin "http://api.example.com" is not allowed`},
		{"several Origin lines are refused", handshake(allowed, refused), true, `a request with 2 Origin headers may not open a WebSocket`},
		{"Upgrade token in a list, any case", request(http.MethodGet, http.Header{"Upgrade": {"h2c, WebSocket"}, "Origin": {refused}}), true, `origin "https://evil.example" is not allowed`},
		{"other upgrades are not the gate's", request(http.MethodGet, http.Header{"Upgrade": {"h2c"}, "Origin": {refused}}), false, ""},
		{"a request without Upgrade is not a handshake", request(http.MethodGet, http.Header{"Origin": {refused}}), false, ""},
		{"only a GET upgrades as browsers do", request(http.MethodPost, http.Header{"Upgrade": {"websocket"}, "Origin": {refused}}), false, ""},
		{"HTTP/2 extended CONNECT websocket", h2("websocket"), true, `origin "https://evil.example" is not allowed`},
		{"HTTP/2 extended CONNECT of another protocol", h2("webtransport"), false, ""},
		{"HTTP/3 extended CONNECT websocket", h3("websocket"), true, `origin "https://evil.example" is not allowed`},
		{"HTTP/3 plain CONNECT", h3("HTTP/3.0"), false, ""},
		{"quotes are escaped within the bound", handshake(strings.Repeat(`"`, 100)), true, `origin "` + strings.Repeat(`\"`, 64) + `..." is not allowed`},
		{"value is cut and escaped", handshake("https://\"evil\x01" + strings.Repeat("e", 100)), true, `origin "https://\"evil?` + strings.Repeat("e", 50) + `..." is not allowed`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.r
			refusal := WebSocket.Check(r, r.Header["Origin"], verdict(r.Header["Origin"]))
			if refusal.Refused() != tt.refused {
				t.Fatalf("refused = %v, want %v", refusal.Refused(), tt.refused)
			}
			if !tt.refused {
				return
			}
			if got := string(refusal.AppendMessage(nil)); got != tt.message {
				t.Errorf("message %q, want %q", got, tt.message)
			}
			if len(refusal.AppendMessage(nil)) > refusal.MessageLen() {
				t.Errorf("message longer than MessageLen %d", refusal.MessageLen())
			}
			if refusal.Reason() != "websocket_origin" || refusal.Vary() != "Origin" || refusal.Prefix() != "WebSocket handshake rejected: " {
				t.Errorf("reason %q, vary %q, prefix %q", refusal.Reason(), refusal.Vary(), refusal.Prefix())
			}
		})
	}
}

// TestUnsafeMethodsGateTable runs every combination of Sec-Fetch-Site and
// Origin for each kind of method through the gate, against what Go 1.25's
// http.CrossOriginProtection decides (with the policy's origins as its
// trusted origins), except where this gate is stricter on purpose: it
// compares the scheme too, and an empty or repeated Origin is nobody's.
func TestUnsafeMethodsGateTable(t *testing.T) {
	sites := []string{"", "same-origin", "same-site", "cross-site", "none"}
	origins := map[string]string{"absent": "", "own": own, "allowed": allowed, "refused": refused, "null": "null"}
	for _, method := range []string{"GET", "HEAD", "OPTIONS", "POST", "PUT", "DELETE", "PATCH", "PURGE"} {
		for _, site := range sites {
			for originName, origin := range origins {
				h := http.Header{}
				if site != "" {
					h.Set("Sec-Fetch-Site", site)
				}
				if origin != "" {
					h.Set("Origin", origin)
				}
				r := request(method, h)
				refusal := UnsafeMethods.Check(r, h["Origin"], verdict(h["Origin"]))

				var want bool // refused
				switch {
				case method == "GET" || method == "HEAD" || method == "OPTIONS":
				case site == "same-origin" || site == "none":
				case site != "":
					want = originName != "allowed"
				case originName == "absent":
				default:
					want = originName != "own" && originName != "allowed"
				}
				if refusal.Refused() != want {
					t.Errorf("%s, Sec-Fetch-Site %q, Origin %s: refused = %v, want %v", method, site, originName, refusal.Refused(), want)
					continue
				}
				if !want {
					continue
				}
				msg := string(refusal.AppendMessage(nil))
				wantMsg := `origin "` + origin + `" may not send ` + method
				if originName == "absent" {
					wantMsg = `a request with Sec-Fetch-Site "` + site + `" and no Origin may not send ` + method
				}
				if msg != wantMsg {
					t.Errorf("%s, Sec-Fetch-Site %q, Origin %s: message %q, want %q", method, site, originName, msg, wantMsg)
				}
				if refusal.Reason() != "unsafe_cross_origin" || refusal.Vary() != "Origin, Sec-Fetch-Site" || refusal.Prefix() != "Cross-origin request rejected: " {
					t.Errorf("reason %q, vary %q, prefix %q", refusal.Reason(), refusal.Vary(), refusal.Prefix())
				}
			}
		}
	}
}

func TestUnsafeMethodsGateWithoutSecFetchSite(t *testing.T) {
	tests := []struct {
		name    string
		r       *http.Request
		refused bool
	}{
		{"own origin with the default port written out", request("POST", http.Header{"Origin": {own + ":443"}}), false},
		{"own origin, Host with the default port", func() *http.Request {
			r := request("POST", http.Header{"Origin": {own}})
			r.Host = "API.example.com:443"
			return r
		}(), false},
		{"own host, other port", request("POST", http.Header{"Origin": {own + ":8443"}}), true},
		{"own host over http while the connection is TLS", request("POST", http.Header{"Origin": {"http://api.example.com"}}), true},
		{"own origin over a plain connection", func() *http.Request {
			r := request("POST", http.Header{"Origin": {"http://api.example.com"}})
			r.TLS = nil
			return r
		}(), false},
		{"X-Forwarded-Host is not the request's host", func() *http.Request {
			r := request("POST", http.Header{"Origin": {"https://public.example"}, "X-Forwarded-Host": {"public.example"}, "X-Forwarded-Proto": {"https"}})
			return r
		}(), true},
		{"empty Origin", request("POST", http.Header{"Origin": {""}}), true},
		{"several Origin lines", request("POST", http.Header{"Origin": {own, own}}), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			refusal := UnsafeMethods.Check(tt.r, tt.r.Header["Origin"], verdict(tt.r.Header["Origin"]))
			if refusal.Refused() != tt.refused {
				t.Errorf("refused = %v, want %v (%s)", refusal.Refused(), tt.refused, refusal.AppendMessage(nil))
			}
		})
	}
}

func TestIsOwnOrigin(t *testing.T) {
	tests := []struct {
		origin string
		tls    bool
		host   string
		want   bool
	}{
		{"https://example.com", true, "example.com", true},
		{"https://example.com", true, "EXAMPLE.com", true},
		{"https://example.com", true, "example.com:443", true},
		{"http://example.com", false, "example.com:80", true},
		{"http://example.com:8080", false, "example.com:8080", true},
		{"http://[::1]:8080", false, "[::1]:8080", true},
		{"https://example.com", false, "example.com", false},
		{"http://example.com", true, "example.com", false},
		{"https://example.com:8443", true, "example.com:443", false},
		{"https://example.com.", true, "example.com", false},
		{"https://", true, "", false},
		{"https://example.com/", true, "example.com", false},
		{"null", true, "example.com", false},
	}
	for _, tt := range tests {
		if got := IsOwnOrigin(tt.origin, tt.tls, tt.host); got != tt.want {
			t.Errorf("IsOwnOrigin(%q, tls %v, %q) = %v, want %v", tt.origin, tt.tls, tt.host, got, tt.want)
		}
	}
}

func TestParse(t *testing.T) {
	s, err := Parse([]string{"websocket", "unsafe_methods"})
	if err != nil || s != WebSocket|UnsafeMethods {
		t.Fatalf("Parse = %v, %v", s, err)
	}
	_, err = Parse([]string{"websockets", "csrf"})
	if err == nil || !strings.Contains(err.Error(), `enforce "websockets" is not a gate: write websocket`) || !strings.Contains(err.Error(), `"csrf"`) {
		t.Errorf("error %v, want both names refused with the fix", err)
	}
	if err := CheckCombination([]string{"websocket"}, []string{"*"}); err == nil || !strings.Contains(err.Error(), "origins *") {
		t.Errorf("CheckCombination with * = %v", err)
	}
	if err := CheckCombination(nil, []string{"*"}); err != nil {
		t.Errorf("CheckCombination without gates = %v", err)
	}
}

// TestPassingCostsNoAllocation: a request a gate passes allocates nothing.
func TestPassingCostsNoAllocation(t *testing.T) {
	requests := []*http.Request{
		handshake(allowed), handshake(own), handshake(),
		request("POST", http.Header{"Origin": {allowed}, "Sec-Fetch-Site": {"cross-site"}}),
		request("POST", http.Header{"Origin": {own}}),
		request("GET", http.Header{"Origin": {refused}}),
	}
	for _, r := range requests {
		if n := testing.AllocsPerRun(100, func() {
			_ = (WebSocket | UnsafeMethods).Check(r, r.Header["Origin"], verdict(r.Header["Origin"]))
		}); n != 0 {
			t.Errorf("%s %v: %v allocations, want 0", r.Method, r.Header, n)
		}
	}
}

// TestMessageLenBoundsEveryMessage: the body of a refusal is built in
// one allocation of MessageLen, whatever the values were.
func TestMessageLenBoundsEveryMessage(t *testing.T) {
	values := []string{"", "x", strings.Repeat(`"\`, 100), strings.Repeat("\xff", 70), refused}
	for _, gate := range []Set{WebSocket, UnsafeMethods} {
		for _, v := range values {
			for _, origins := range []int{0, 1, 3} {
				r := Refusal{Gate: gate, origin: v, origins: origins, method: v, fetchSite: v}
				if got := len(r.AppendMessage(nil)); got > r.MessageLen() {
					t.Errorf("%+v: message of %d bytes, MessageLen %d", r, got, r.MessageLen())
				}
			}
		}
	}
}

// BenchmarkCheck is what the gates add to a request they pass, on top of
// the handler's own work: one call of Check, given the policy's verdict.
//
//	go test -run '^$' -bench Check -count 10 ./internal/gates/
func BenchmarkCheck(b *testing.B) {
	for _, bc := range []struct {
		name string
		r    *http.Request
	}{
		{"get_no_origin", request("GET", http.Header{"Accept": {"*/*"}})},
		{"get_allowed_origin", request("GET", http.Header{"Origin": {allowed}})},
		{"websocket_allowed_origin", handshake(allowed)},
		{"websocket_own_origin", handshake(own)},
		{"post_same_origin", request("POST", http.Header{"Origin": {own}, "Sec-Fetch-Site": {"same-origin"}})},
		{"post_cross_site_allowed_origin", request("POST", http.Header{"Origin": {allowed}, "Sec-Fetch-Site": {"cross-site"}})},
		{"post_old_browser_own_origin", request("POST", http.Header{"Origin": {own}})},
	} {
		b.Run(bc.name, func(b *testing.B) {
			origin := bc.r.Header["Origin"]
			allowed := verdict(origin)
			b.ReportAllocs()
			defer threadCPU(b)()
			for range b.N {
				if (WebSocket | UnsafeMethods).Check(bc.r, origin, allowed).Refused() {
					b.Fatal("refused")
				}
			}
		})
	}
}

// BenchmarkHeaderLookup is the yardstick of BenchmarkCheck on a machine
// whose speed drifts: one lookup of a header a request does not have.
func BenchmarkHeaderLookup(b *testing.B) {
	h := http.Header{"Origin": {allowed}, "Accept": {"*/*"}}
	var found bool
	defer threadCPU(b)()
	for range b.N {
		_, ok := h["Upgrade"]
		found = found || ok
	}
	if found {
		b.Fatal("found")
	}
}

// threadCPU locks the benchmark to its thread and returns the function
// that reports the thread's CPU time per iteration (cpu-ns/op): on a
// machine shared with other work, wall time also counts the moments the
// benchmark waited for a core.
func threadCPU(b *testing.B) func() {
	runtime.LockOSThread()
	b.ResetTimer()
	start := threadTime()
	return func() {
		b.StopTimer()
		b.ReportMetric(float64(threadTime()-start)/float64(b.N), "cpu-ns/op")
		runtime.UnlockOSThread()
	}
}

func threadTime() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_THREAD, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}
