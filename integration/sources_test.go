package integration

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/caddy-cors/cors"
)

// testSource is an origin source as another plugin would write one,
// registered from this test: it allows the origins it is given, fails for
// those under down.example and is busy for those under busy.example, and
// remembers what it was asked.
type testSource struct {
	Allow []string `json:"allow,omitempty"`
}

// asked remembers the origins any testSource was asked about: Caddy
// builds the module from its JSON, out of this test's reach.
var asked struct {
	sync.Mutex
	origins []string
}

func init() {
	caddy.RegisterModule(testSource{})
}

func (testSource) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.cors.origin_sources.test_allowlist",
		New: func() caddy.Module { return new(testSource) },
	}
}

func (s *testSource) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the source's name
	s.Allow = d.RemainingArgs()
	return nil
}

func (s *testSource) AllowOrigin(origin string) (bool, error) {
	asked.Lock()
	asked.origins = append(asked.origins, strings.Clone(origin))
	asked.Unlock()
	switch {
	case strings.HasSuffix(origin, ".down.example"):
		return false, errors.New("the test source is down")
	case strings.HasSuffix(origin, ".busy.example"):
		return false, cors.ErrOriginSourceBusy
	}
	for _, o := range s.Allow {
		if o == origin {
			return true, nil
		}
	}
	return false, nil
}

func takeAsked() []string {
	asked.Lock()
	defer asked.Unlock()
	origins := asked.origins
	asked.origins = nil
	return origins
}

var (
	_ cors.OriginSource     = (*testSource)(nil)
	_ caddyfile.Unmarshaler = (*testSource)(nil)
)

// A source from another plugin, named in origins_from, is asked in order
// about the origins the static configuration does not allow, never about
// null, a malformed origin, or (with credentials) plain http; what it
// could not check is refused with its reason, and the reason shows in
// {http.cors.reason}.
func TestAThirdPartySourceThroughCaddy(t *testing.T) {
	loadCaddyfile(t, `
http://`+sourcesAddr+` {
	cors {
		origins https://static.example
		origins_from test_allowlist https://first.example http://plain.example http://localhost:5173
		origins_from test_allowlist https://second.example
		credentials
	}
	respond "reason={http.cors.reason}"
}
`)
	url := "http://" + sourcesAddr + "/"
	tests := []struct {
		origin     string
		wantAllow  bool
		wantReason string
		wantAsked  int // how many sources were asked
	}{
		{"https://static.example", true, "", 0},
		{"https://first.example", true, "", 1},
		{"https://second.example", true, "", 2},
		{"http://localhost:5173", true, "", 1},
		{"https://nobody.example", false, "origin", 2},
		{"https://x.down.example", false, "origin_source_error", 2},
		{"https://x.busy.example", false, "origin_source_busy", 2},
		{"http://plain.example", false, "origin", 0},
		{"null", false, "malformed", 0},
		{"https://First.example", false, "malformed", 0},
	}
	takeAsked()
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Origin", tt.origin)
		resp, body := do(t, req)
		acao := resp.Header.Get("Access-Control-Allow-Origin")
		if tt.wantAllow != (acao == tt.origin) || !tt.wantAllow && acao != "" {
			t.Errorf("GET from %s: Access-Control-Allow-Origin %q, want allowed %v", tt.origin, acao, tt.wantAllow)
		}
		if body != "reason="+tt.wantReason {
			t.Errorf("GET from %s: body %q, want reason=%s", tt.origin, body, tt.wantReason)
		}
		if got := takeAsked(); len(got) != tt.wantAsked {
			t.Errorf("GET from %s: sources asked %q, want %d of them", tt.origin, got, tt.wantAsked)
		}
		if got := resp.Header.Values("Vary"); len(got) != 1 || got[0] != "Origin" {
			t.Errorf("GET from %s: Vary %q, want Origin alone", tt.origin, got)
		}

		resp, body = sendPreflight(t, url, tt.origin, "GET", "")
		wantStatus := http.StatusNoContent
		if !tt.wantAllow {
			wantStatus = http.StatusForbidden
		}
		if resp.StatusCode != wantStatus {
			t.Errorf("preflight from %s: %d %q, want %d", tt.origin, resp.StatusCode, body, wantStatus)
		}
		if strings.HasPrefix(tt.wantReason, "origin_source") && (!strings.Contains(body, "could not be checked") || strings.Contains(body, "test source")) {
			t.Errorf("preflight from %s: body %q, want only that the origin could not be checked", tt.origin, body)
		}
		takeAsked()
	}
}
