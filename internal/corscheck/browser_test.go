package corscheck

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

func TestRunRefusesAnUnknownBrowser(t *testing.T) {
	_, err := Run(context.Background(), NewClient(DefaultTimeout), Request{URL: "http://127.0.0.1/", Origin: appOrigin, Browser: "opera"})
	if err == nil || err.Error() != `unknown browser "opera": use chromium, firefox, webkit` {
		t.Errorf("error %v, want one naming the three engines", err)
	}
}

func TestRunFollowsTheNamedBrowsersPreflightCache(t *testing.T) {
	srv := newRecordingServer(t, correctAPI) // Access-Control-Max-Age: 86400
	tests := []struct {
		browser Browser
		note    string
	}{
		{"", "86400 s: Chromium keeps it 7200 s (cap 7200 s), so anything above 7200 s gains nothing in Chromium; Firefox 86400 s (cap 86400 s), WebKit 600 s (cap 600 s)"},
		{Chromium, "86400 s: Chromium keeps it 7200 s (cap 7200 s)"},
		{Firefox, "86400 s: Firefox keeps it 86400 s (cap 86400 s); Chromium 7200 s (cap 7200 s), WebKit 600 s (cap 600 s)"},
		{WebKit, "86400 s: WebKit keeps it 600 s (cap 600 s), so anything above 600 s gains nothing in WebKit"},
	}
	for _, tt := range tests {
		t.Run(string(tt.browser), func(t *testing.T) {
			rep, err := Run(context.Background(), NewClient(DefaultTimeout), Request{URL: srv.URL + "/items", Origin: appOrigin, Method: "PUT", Browser: tt.browser})
			if err != nil {
				t.Fatal(err)
			}
			want := tt.browser
			if want == "" {
				want = Chromium
			}
			if rep.Browser != want {
				t.Errorf("report browser %q, want %q", rep.Browser, want)
			}
			if got := checkDetail(rep.Steps[1], maxAgeHeader); !strings.Contains(got, tt.note) {
				t.Errorf("max-age note %q, want %q", got, tt.note)
			}
		})
	}
}

func TestMaxAgeForEachBrowser(t *testing.T) {
	tests := []struct {
		value   string
		present bool
		seconds map[Browser]int64
		note    string // for Firefox
	}{
		{"", false, map[Browser]int64{Chromium: 5, Firefox: 5, WebKit: 5}, "absent"},
		{"600", true, map[Browser]int64{Chromium: 600, Firefox: 600, WebKit: 600}, "600 s: Firefox keeps it 600 s (cap 86400 s)"},
		{"7200", true, map[Browser]int64{Chromium: 7200, Firefox: 7200, WebKit: 600}, "Firefox keeps it 7200 s"},
		{"100000", true, map[Browser]int64{Chromium: 7200, Firefox: 86400, WebKit: 600}, "anything above 86400 s gains nothing in Firefox"},
		{"-1", true, map[Browser]int64{Chromium: 0, Firefox: 0, WebKit: 0}, "negative: not cached"},
		{"10m", true, map[Browser]int64{Chromium: 5, Firefox: 0, WebKit: 5},
			`"10m" is not a number of seconds: Firefox does not cache it, Chromium falls back to 5 s, WebKit falls back to 5 s`},
	}
	for _, tt := range tests {
		for b, want := range tt.seconds {
			if m := maxAgeFor(b, tt.value, tt.present); m.Seconds != want {
				t.Errorf("%s keeps %q %d s, want %d s", b, tt.value, m.Seconds, want)
			}
		}
		if m := maxAgeFor(Firefox, tt.value, tt.present); !strings.Contains(m.Note, tt.note) {
			t.Errorf("Firefox note for %q: %q, want %q", tt.value, m.Note, tt.note)
		}
	}
}

func TestRunQuotesTheNamedBrowsersConsole(t *testing.T) {
	srv := newRecordingServer(t, refusingModule("PUT", "x-request-id", `header "x-debug" is not allowed`))
	rep, err := Run(context.Background(), NewClient(DefaultTimeout), Request{URL: srv.URL + "/items", Origin: appOrigin, Method: "PUT",
		Headers: []Header{{"X-Debug", "1"}}, Browser: WebKit})
	if err != nil {
		t.Fatal(err)
	}
	want := "Request header field X-Debug is not allowed by Access-Control-Allow-Headers.\n" +
		"Fetch API cannot load " + srv.URL + "/items due to access control checks."
	if rep.ConsoleMessage != want {
		t.Errorf("console message\n got: %q\nwant: %q", rep.ConsoleMessage, want)
	}
	var text strings.Builder
	rep.WriteText(&text)
	if !strings.Contains(text.String(), "Console (WebKit): Request header field X-Debug is not allowed by Access-Control-Allow-Headers.\n  Fetch API cannot load") {
		t.Errorf("text output does not print both lines of WebKit's message:\n%s", text.String())
	}
}

func TestRunSaysWhenItDoesNotKnowTheConsoleText(t *testing.T) {
	srv := newRecordingServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "https://other.example")
	})
	rep, err := Run(context.Background(), NewClient(DefaultTimeout), Request{URL: srv.URL, Origin: appOrigin, Browser: Firefox})
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	rep.WriteText(&text)
	if rep.Verdict != Blocked || rep.ConsoleMessage != "" ||
		!strings.Contains(text.String(), "Console (Firefox): cors-check does not know the text Firefox prints for this failure") {
		t.Errorf("verdict %s, console %q, text:\n%s", rep.Verdict, rep.ConsoleMessage, text.String())
	}
}
