package policy

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestNewReportsEveryErrorTogether(t *testing.T) {
	_, err := New(Config{
		Origins:     []string{"*", "https://example.com/"},
		Methods:     []string{"TRACE"},
		Headers:     []string{"Cookie"},
		Expose:      []string{"*"},
		Credentials: true,
		MaxAge:      seconds(-1),
	})
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		"origins * cannot be combined with credentials",
		"expose * cannot be combined with credentials",
		`"https://example.com/" ends with a slash`,
		`method "TRACE" is forbidden`,
		`header "Cookie" is a forbidden request header`,
		"max_age -1s is negative",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q\nlacks %q", err, want)
		}
	}
}

// TestNoOriginWithCredentialsDoesNotSuggestAnyOrigin proves that a policy
// with credentials and no origin is shown the fix that can load: listing
// origins, not origins *, which credentials refuse.
func TestNoOriginWithCredentialsDoesNotSuggestAnyOrigin(t *testing.T) {
	_, err := New(Config{Credentials: true})
	if err == nil || strings.Contains(err.Error(), "write origins *") || !strings.Contains(err.Error(), "origins * cannot serve credentials") ||
		!strings.Contains(err.Error(), "origins https://app.example.com") {
		t.Errorf("got %v, want the origins listed, and origins * named as refused with credentials", err)
	}
}

func TestNewRefusesAPolicyWithoutOrigin(t *testing.T) {
	_, err := New(Config{Methods: []string{"PUT"}})
	if !errors.Is(err, ErrNoOrigin) || !strings.Contains(err.Error(), "origins *") || !strings.Contains(err.Error(), "{$CORS_ORIGINS}") {
		t.Errorf("got %v, want ErrNoOrigin showing origins * and naming an empty environment variable", err)
	}
}

// TestOriginRegexpWithCredentials proves that with credentials a regexp
// that can match hosts outside the user's own domain is refused, and
// without them only warned about.
func TestOriginRegexpWithCredentials(t *testing.T) {
	for _, tt := range []struct {
		expr string
		want string // empty: accepted with credentials
	}{
		{`https://.*`, "matches hosts in any domain"},
		{`[a-z]+://.+`, "matches hosts in any domain"},
		{`https?://[^/]+`, "matches hosts in any domain"},
		{`https://[a-z0-9-]+\.github\.io`, `public suffix "github.io"`},
		{`https://[a-z0-9-]+\.example\.com`, ""},
	} {
		_, err := New(Config{OriginRegexps: []string{tt.expr}, Credentials: true})
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s with credentials: %v", tt.expr, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "credentials")):
			t.Errorf("%s with credentials: %v, want refused with %q", tt.expr, err, tt.want)
		}
		cfg := Config{OriginRegexps: []string{tt.expr}}
		if _, err := New(cfg); err != nil {
			t.Errorf("%s without credentials: %v", tt.expr, err)
		}
		warnings := warningMessages(cfg)
		if tt.want == "" && warnings != "" || tt.want != "" && !strings.Contains(warnings, tt.want) {
			t.Errorf("%s without credentials: warnings %q, want %q", tt.expr, warnings, tt.want)
		}
	}
	// An expression that does not compile gets that one error only.
	_, err := New(Config{OriginRegexps: []string{`https://(`}, Credentials: true})
	if err == nil || strings.Count(err.Error(), `"https://("`) != 1 {
		t.Errorf("a broken regexp with credentials: %v, want one error naming it", err)
	}
}

func TestParseMaxAgeSeconds(t *testing.T) {
	for _, tt := range []struct {
		value    string
		want     time.Duration
		isNumber bool
		err      string
	}{
		{"600", 10 * time.Minute, true, ""},
		{"0", 0, true, ""},
		{"86400", 24 * time.Hour, true, ""},
		{"86401", 0, true, "max_age 86401s is more than 24h"},
		// Each would overflow a duration: to 0, to 10 minutes, to -1s.
		{"36028797018963968", 0, true, "max_age 36028797018963968s is more than 24h"},
		{"36028797018964568", 0, true, "max_age 36028797018964568s is more than 24h"},
		{"9223372036854775807", 0, true, "max_age 9223372036854775807s is more than 24h"},
		{"99999999999999999999999", 0, true, "is more than 24h"},
		{"-1", 0, true, "max_age -1s is negative"},
		{"-9223372036854775808", 0, true, "is negative"},
		{"-99999999999999999999999", 0, true, "is negative"},
		{"10m", 0, false, ""},
	} {
		d, isNumber, err := ParseMaxAgeSeconds(tt.value)
		if isNumber != tt.isNumber || err == nil && (tt.err != "" || d != tt.want) || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("ParseMaxAgeSeconds(%q) = %s, %v, %v; want %s, %v, %q", tt.value, d, isNumber, err, tt.want, tt.isNumber, tt.err)
		}
	}
}

func TestCheckMaxAge(t *testing.T) {
	for _, d := range []time.Duration{0, time.Second, 10 * time.Minute, 24 * time.Hour} {
		if err := CheckMaxAge(d); err != nil {
			t.Errorf("%s: %v", d, err)
		}
	}
	tests := map[time.Duration]string{
		-time.Second:               "negative",
		24*time.Hour + time.Second: "more than 24h",
		1500 * time.Millisecond:    "write 2s",
		600:                        `write "600s"`,
		// Huge JSON values: above 24h, not "not a whole number of seconds".
		time.Duration(1<<63 - 1): "more than 24h",
		24*time.Hour + 1:         "more than 24h",
	}
	for d, want := range tests {
		if err := CheckMaxAge(d); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckMaxAge(%s) = %v, want %q", d, err, want)
		}
	}
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		name   string
		config Config
		want   string // empty: no warning
	}{
		{"https with credentials", Config{Origins: []string{"https://a.example"}, Credentials: true}, ""},
		{"loopback http with credentials", Config{Origins: []string{"http://localhost:*", "http://127.0.0.1:8080", "http://[::1]:3000", "http://*.app.localhost:*"}, Credentials: true}, ""},
		{"plain http with credentials", Config{Origins: []string{"http://a.example"}, Credentials: true}, `"http://a.example" is plain http`},
		{"plain http without credentials", Config{Origins: []string{"http://a.example"}}, ""},
		{"max_age above 2h", Config{Origins: []string{"*"}, MaxAge: seconds(3 * 3600)}, "more than 2h"},
		{"max_age of 2h", Config{Origins: []string{"*"}, MaxAge: seconds(2 * 3600)}, ""},
		{"private network", Config{Origins: []string{"*"}, PrivateNetwork: true}, "only older Chromium sends: Chrome removed them in 2025"},
		{"any origin next to others", Config{Origins: []string{"*", "https://a.example"}}, "make no difference"},
		{"loopback http with a trailing dot with credentials", Config{Origins: []string{"http://localhost.:3000"}, Credentials: true}, ""},
		{"lower-case method browsers do not normalize", Config{Origins: []string{"*"}, Methods: []string{"patch"}}, `method "patch" is not upper case`},
		{"mixed-case method", Config{Origins: []string{"*"}, Methods: []string{"Purge"}}, `fetch(url, {method: "PURGE"}) will be refused`},
		{"lower-case method browsers normalize", Config{Origins: []string{"*"}, Methods: []string{"delete", "put"}}, ""},
		{"upper-case method", Config{Origins: []string{"*"}, Methods: []string{"PATCH"}}, ""},
		{"regexp over any domain without credentials", Config{OriginRegexps: []string{`https://.*`}}, `origin_regexp "https://.*" matches hosts in any domain`},
		{"plain http regexp with credentials", Config{OriginRegexps: []string{`http://[a-z]+\.example\.com`}, Credentials: true}, `origin_regexp "http://[a-z]+\\.example\\.com" can match plain http origins`},
		{"either scheme regexp with credentials", Config{OriginRegexps: []string{`https?://app\.example\.com`}, Credentials: true}, "can match plain http origins"},
		{"any scheme regexp with credentials", Config{OriginRegexps: []string{`[a-z]+://app\.example\.com`}, Credentials: true}, "can match plain http origins"},
		{"https regexp with credentials", Config{OriginRegexps: []string{`https://[a-z]+\.example\.com(:[0-9]+)?`}, Credentials: true}, ""},
		{"loopback http regexps with credentials", Config{OriginRegexps: []string{`http://localhost:[0-9]+`, `http://127\.0\.0\.1:(3000|4000)`, `http://[a-z]+\.localhost:[0-9]+`, `http://\[::1\]:[0-9]+`}, Credentials: true}, ""},
	}
	for _, tt := range tests {
		warnings := warningMessages(tt.config)
		if tt.want == "" && warnings != "" || !strings.Contains(warnings, tt.want) {
			t.Errorf("%s: warnings %q, want %q", tt.name, warnings, tt.want)
		}
	}
}

// warningMessages gives the messages of c's warnings, one a line.
func warningMessages(c Config) string {
	var messages []string
	for _, w := range c.Warnings() {
		messages = append(messages, w.Message)
	}
	return strings.Join(messages, "\n")
}
