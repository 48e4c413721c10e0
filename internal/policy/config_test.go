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

func TestNewRefusesAPolicyWithoutOrigin(t *testing.T) {
	_, err := New(Config{Methods: []string{"PUT"}})
	if !errors.Is(err, ErrNoOrigin) || !strings.Contains(err.Error(), "origins *") {
		t.Errorf("got %v, want ErrNoOrigin showing origins *", err)
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
		{"private network", Config{Origins: []string{"*"}, PrivateNetwork: true}, "on hold"},
		{"any origin next to others", Config{Origins: []string{"*", "https://a.example"}}, "make no difference"},
	}
	for _, tt := range tests {
		warnings := strings.Join(tt.config.Warnings(), "\n")
		if tt.want == "" && warnings != "" || !strings.Contains(warnings, tt.want) {
			t.Errorf("%s: warnings %q, want %q", tt.name, warnings, tt.want)
		}
	}
}
