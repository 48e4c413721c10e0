package corscheck

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

func TestSpaceOf(t *testing.T) {
	tests := []struct {
		host string
		want addressSpace
	}{
		{"127.0.0.1", loopbackSpace},
		{"127.255.0.9", loopbackSpace},
		{"::1", loopbackSpace},
		{"::ffff:127.0.0.1", loopbackSpace},
		{"localhost", loopbackSpace},
		{"LocalHost.", loopbackSpace},
		{"app.localhost", loopbackSpace},
		{"10.0.0.1", localSpace},
		{"172.16.0.1", localSpace},
		{"172.31.255.255", localSpace},
		{"192.168.1.10", localSpace},
		{"::ffff:192.168.1.10", localSpace},
		{"169.254.169.254", localSpace},
		{"fc00::1", localSpace},
		{"fd12:3456::1", localSpace},
		{"fe80::1", localSpace},
		{"fe80::1%eth0", localSpace},
		{"printer.local", localSpace},
		{"NAS.Local.", localSpace},
		{"172.32.0.1", publicSpace},
		{"192.169.0.1", publicSpace},
		{"8.8.8.8", publicSpace},
		{"2001:db8::1", publicSpace},
		{"fec0::1", publicSpace},
		{"app.example.com", publicSpace},
		{"localhost.example.com", publicSpace},
		{"local", publicSpace},
		{"example.local.com", publicSpace},
	}
	for _, tt := range tests {
		if got := spaceOf(tt.host); got != tt.want {
			t.Errorf("spaceOf(%q) = %d, want %d", tt.host, got, tt.want)
		}
	}
}

func TestLocalNetworkAccessApplies(t *testing.T) {
	tests := []struct {
		name, origin, target string
		browser              Browser
		// permission is "" when no verdict applies.
		permission string
		console    string
		summary    []string
	}{
		{"a public page fetching 127.0.0.1", appOrigin, "http://127.0.0.1:8080/items", Chromium, "loopback-network",
			"Permission was denied for this request to access the `loopback` address space.",
			[]string{"is public and 127.0.0.1:8080 is a loopback address", "loopback-network permission", "secure context",
				"no response header can grant the permission"}},
		{"a public page fetching [::1]", appOrigin, "http://[::1]:8080/", Chromium, "loopback-network", "", nil},
		{"a public page fetching localhost", appOrigin, "http://localhost:3000/", Chromium, "loopback-network", "", nil},
		{"a public page fetching a private address", appOrigin, "http://192.168.1.10/api", Chromium, "local-network",
			"Permission was denied for this request to access the `local` address space.",
			[]string{"192.168.1.10 is a local-network address", "local-network permission"}},
		{"a public page fetching a ULA address", appOrigin, "https://[fd00::5]/", Chromium, "local-network", "", nil},
		{"a public page fetching a link-local address", appOrigin, "http://169.254.1.1/", Chromium, "local-network", "", nil},
		{"a public page fetching a .local name", appOrigin, "http://printer.local/", Chromium, "local-network", "", nil},
		{"a public IP literal as the origin", "https://203.0.113.7", "http://10.1.2.3/", Chromium, "local-network", "", nil},
		{"an http public page, not a secure context", "http://app.example.com", "http://127.0.0.1/", Chromium, "loopback-network", "",
			[]string{"secure context (https) can be given it, which http://app.example.com is not"}},
		{"in Firefox", appOrigin, "http://127.0.0.1/", Firefox, "loopback-network",
			"Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at http://127.0.0.1/. (Reason: CORS request did not succeed). Status code: (null).",
			[]string{"so Firefox asks the user for the loopback-network permission"}},
		{"in WebKit", appOrigin, "http://127.0.0.1/", WebKit, "loopback-network", "",
			[]string{"WebKit has no such prompt"}},
		{"a public target", appOrigin, "https://api.example.com/", Chromium, "", "", nil},
		{"a page on localhost", "http://localhost:5173", "http://127.0.0.1:8080/", Chromium, "", "", nil},
		{"a page on 127.0.0.1", "http://127.0.0.1:5173", "http://localhost:8080/", Chromium, "", "", nil},
		{"a page on a private address", "http://192.168.1.2", "http://127.0.0.1/", Chromium, "", "", nil},
		{"a page on a .local name", "https://dev.local", "http://192.168.1.10/", Chromium, "", "", nil},
		{"a page on [::1]", "http://[::1]:5173", "http://[::1]:8080/", Chromium, "", "", nil},
		{"an opaque origin", "null", "http://127.0.0.1/", Chromium, "", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.Parse(tt.target)
			if err != nil {
				t.Fatal(err)
			}
			v := localNetworkAccess(tt.origin, u, tt.browser)
			if tt.permission == "" {
				if v != nil {
					t.Fatalf("verdict %+v, want none", v)
				}
				return
			}
			if v == nil || v.Permission != tt.permission || v.BrowserAsks != (tt.browser != WebKit) {
				t.Fatalf("verdict %+v, want the %s permission", v, tt.permission)
			}
			if tt.console != "" && v.ConsoleMessage != tt.console {
				t.Errorf("console %q, want %q", v.ConsoleMessage, tt.console)
			}
			if !strings.Contains(v.Summary, v.ConsoleMessage) {
				t.Errorf("summary does not quote the console text: %s", v.Summary)
			}
			for _, want := range tt.summary {
				if !strings.Contains(v.Summary, want) {
					t.Errorf("summary lacks %q: %s", want, v.Summary)
				}
			}
		})
	}
}

// The verdict reaches both outputs of a check against a real server on
// loopback, from a public page; from a local page neither mentions it.
func TestRunAddsTheLocalNetworkAccessVerdict(t *testing.T) {
	srv := newRecordingServer(t, correctAPI)
	tests := []struct {
		origin  string
		browser Browser
		// text is in the text report; "" when Local Network Access must
		// not be mentioned at all.
		text string
	}{
		{appOrigin, Chromium, "Local Network Access: the page's origin https://app.example.com is public and " +
			strings.TrimPrefix(srv.URL, "http://") + " is a loopback address, so Chromium (Chrome 142 and later) asks the user for the " +
			"loopback-network permission before it sends anything; only a page in a secure context (https) can be given it. " +
			"If it is denied, the console shows \"Permission was denied for this request to access the `loopback` address space.\" as a CORS error, " +
			"but no response header can grant the permission: no CORS configuration fixes it\n"},
		{appOrigin, WebKit, "Local Network Access: WebKit has no such prompt; Chromium-based browsers and Firefox do: "},
		{"http://localhost:5173", Chromium, ""},
	}
	for _, tt := range tests {
		t.Run(tt.origin+" "+string(tt.browser), func(t *testing.T) {
			rep, err := Run(context.Background(), NewClient(DefaultTimeout), Request{URL: srv.URL + "/items", Origin: tt.origin, Browser: tt.browser})
			if err != nil {
				t.Fatal(err)
			}
			var text, js bytes.Buffer
			if err := rep.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			if err := rep.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			var decoded struct {
				LNA *LocalNetworkAccess `json:"local_network_access"`
			}
			if err := json.Unmarshal(js.Bytes(), &decoded); err != nil {
				t.Fatal(err)
			}
			if tt.text == "" {
				for out, s := range map[string]string{"text": text.String(), "JSON": js.String()} {
					if strings.Contains(strings.ToLower(s), "local network") || strings.Contains(s, "local_network") {
						t.Errorf("the %s output mentions Local Network Access for a local page:\n%s", out, s)
					}
				}
				return
			}
			if !strings.Contains(text.String(), tt.text) {
				t.Errorf("text output lacks %q:\n%s", tt.text, text.String())
			}
			if l := decoded.LNA; l == nil || l.Permission != "loopback-network" || l.AddressSpace != "loopback" ||
				l.ConsoleMessage != "Permission was denied for this request to access the `loopback` address space." || l.BrowserAsks != (tt.browser != WebKit) {
				t.Errorf("JSON local_network_access %+v:\n%s", l, js.String())
			}
		})
	}
}
