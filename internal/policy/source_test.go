package policy

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// answeringSource allows the origins in allow, fails with the error in
// fail, and remembers every origin it was asked about.
type answeringSource struct {
	allow map[string]bool
	fail  map[string]error
	asked []string
}

func (s *answeringSource) AllowOrigin(origin string) (bool, error) {
	s.asked = append(s.asked, origin)
	return s.allow[origin], s.fail[origin]
}

func TestSourcesAreAskedInOrderAfterTheStaticOrigins(t *testing.T) {
	first := &answeringSource{
		allow: map[string]bool{"https://first.example": true},
		fail: map[string]error{
			"https://down.example": errors.New("GET http://127.0.0.1:9/check: connection refused"),
			"https://busy.example": fmt.Errorf("http source: %w", ErrSourceBusy),
		},
	}
	second := &answeringSource{allow: map[string]bool{
		"https://second.example": true,
		"https://busy.example":   true, // the first could not answer, the second allows
	}}
	p := mustNew(t, Config{Origins: []string{"https://static.example"}, Sources: []Source{first, second}})

	tests := []struct {
		origin     string
		wantReason Reason
		wantAsked  []string // of first, then second, joined by " | "
	}{
		{"https://static.example", "", nil},
		{"https://first.example", "", []string{"https://first.example"}},
		{"https://second.example", "", []string{"https://second.example", "https://second.example"}},
		{"https://nobody.example", ReasonOrigin, []string{"https://nobody.example", "https://nobody.example"}},
		{"https://down.example", ReasonSourceError, []string{"https://down.example", "https://down.example"}},
		{"https://busy.example", "", []string{"https://busy.example", "https://busy.example"}},
		{"null", ReasonMalformed, nil},
		{"https://Upper.example", ReasonMalformed, nil},
		{"https://a.example/", ReasonMalformed, nil},
	}
	for _, tt := range tests {
		first.asked, second.asked = nil, nil
		resp, rej := p.Actual([]string{tt.origin})
		if rej.Reason != tt.wantReason {
			t.Errorf("%s: reason %q, want %q", tt.origin, rej.Reason, tt.wantReason)
		}
		if got := resp.Response().AllowOrigin; tt.wantReason == "" && got != tt.origin {
			t.Errorf("%s: Access-Control-Allow-Origin %q, want the origin", tt.origin, got)
		}
		if asked := append(first.asked, second.asked...); !slices.Equal(asked, tt.wantAsked) {
			t.Errorf("%s: sources asked about %q, want %q", tt.origin, asked, tt.wantAsked)
		}
	}
}

func TestSourceFailureIsRefusedWithItsReasonAndNoDetailInTheMessage(t *testing.T) {
	source := &answeringSource{fail: map[string]error{
		"https://down.example": errors.New("GET http://127.0.0.1:9/check: connection refused"),
		"https://busy.example": fmt.Errorf("http source: %w", ErrSourceBusy),
	}}
	p := mustNew(t, Config{Sources: []Source{source}})
	for origin, want := range map[string]Reason{"https://down.example": ReasonSourceError, "https://busy.example": ReasonSourceBusy} {
		_, rej := p.Preflight([]string{origin}, preflight(origin, "GET", ""))
		if rej.Reason != want || rej.PreflightStatus() != http.StatusForbidden {
			t.Errorf("%s: reason %q status %d, want %q 403", origin, rej.Reason, rej.PreflightStatus(), want)
		}
		if msg := rej.Message(); msg != fmt.Sprintf("origin %q could not be checked", origin) {
			t.Errorf("%s: message %q shows more than that the origin could not be checked", origin, msg)
		}
		if rej.Cause() == nil || !strings.Contains(rej.Cause().Error(), "http") {
			t.Errorf("%s: Cause() = %v, want the source's error for the log", origin, rej.Cause())
		}
	}
}

func TestSourcesAreNotAskedAboutPlainHTTPWithCredentials(t *testing.T) {
	source := &answeringSource{allow: map[string]bool{
		"http://plain.example": true, "http://localhost:5173": true, "http://127.0.0.1:8080": true, "https://safe.example": true,
	}}
	p := mustNew(t, Config{Credentials: true, Sources: []Source{source}})
	for origin, allowed := range map[string]bool{
		"http://plain.example": false, "http://localhost:5173": true, "http://127.0.0.1:8080": true, "https://safe.example": true,
	} {
		source.asked = nil
		_, rej := p.Actual([]string{origin})
		if rej.Refused() == allowed {
			t.Errorf("%s: refused %v (%s), want allowed %v", origin, rej.Refused(), rej.Reason, allowed)
		}
		if wasAsked := len(source.asked) == 1; wasAsked != allowed {
			t.Errorf("%s: source asked %v, want %v", origin, wasAsked, allowed)
		}
	}
	// Without credentials, a plain http origin is the source's to judge.
	source.asked = nil
	if _, rej := mustNew(t, Config{Sources: []Source{source}}).Actual([]string{"http://plain.example"}); rej.Refused() {
		t.Errorf("without credentials: http://plain.example refused (%s), want the source's yes", rej.Reason)
	}
}

func TestAPolicyWithOnlySourcesHasAnOrigin(t *testing.T) {
	if err := (Config{Sources: []Source{&answeringSource{}}}).CheckHasOrigin(); err != nil {
		t.Errorf("CheckHasOrigin with a source: %v", err)
	}
}
