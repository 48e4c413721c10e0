package corscheck

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Verdicts.
const (
	Allowed = "allowed"
	Blocked = "blocked"
	// PreflightPassed: the preflight passed and the actual request, whose
	// method may change data, was not sent (no Request.Send).
	PreflightPassed = "preflight passed"
	// NoVerdict: the server could not be reached, or the request that
	// decides was not sent.
	NoVerdict = "none"
)

// Exit statuses of `caddy cors-check`.
const (
	// ExitAllowed: the browser would allow the request, or, for a method
	// sent only with --send, the preflight passed.
	ExitAllowed = 0
	ExitBlocked = 1
	// ExitError: a usage error, the server could not be reached, or the
	// request that decides was not sent (a POST without --send); no verdict.
	ExitError = 2
)

// Report is the whole check, step by step, as printed.
type Report struct {
	URL         string `json:"url"`
	Origin      string `json:"origin"`
	Method      string `json:"method"`
	Credentials bool   `json:"credentials"`
	// Browser is the engine whose console and preflight cache the report follows.
	Browser Browser  `json:"browser"`
	Notes   []string `json:"notes,omitempty"`
	Steps   []Step   `json:"steps"`
	Verdict string   `json:"verdict"`
	// ActualRequestSent: cors-check sent the actual request. It does not
	// when the preflight fails (nor does a browser), nor, without --send,
	// for a method that may change data.
	ActualRequestSent bool `json:"actual_request_sent"`
	// BlockedAt names the step that failed: "preflight" or "actual request".
	BlockedAt string `json:"blocked_at,omitempty"`
	// CorsError is Chromium's name for the failure, as DevTools shows it.
	CorsError string `json:"cors_error,omitempty"`
	// ConsoleMessage is what Browser prints in the console for the
	// failure; empty when cors-check does not know that engine's text.
	ConsoleMessage string `json:"console_message,omitempty"`
	Fix            string `json:"fix,omitempty"`
	// ReadableHeaders are the response headers a script can read, lower-cased.
	ReadableHeaders []string `json:"readable_headers"`
	// ReadableHeadersNotListed counts the readable names beyond the most
	// the report lists.
	ReadableHeadersNotListed int `json:"readable_headers_not_listed,omitempty"`
	// LocalNetworkAccess is set when a public page fetches a loopback or
	// local address: a permission CORS cannot give.
	LocalNetworkAccess *LocalNetworkAccess `json:"local_network_access,omitempty"`

	// withheld: the actual request was not sent for want of --send.
	withheld bool
}

// Step is one of: the preflight decision, the preflight, the actual request.
type Step struct {
	Name string `json:"name"`
	// Outcome: "preflight needed", "no preflight", "passed", "failed",
	// "not sent" or "skipped".
	Outcome  string             `json:"outcome"`
	Summary  string             `json:"summary"`
	Decision *PreflightDecision `json:"decision,omitempty"`
	Exchange *Exchange          `json:"exchange,omitempty"`
	Checks   []Check            `json:"checks,omitempty"`
	Notes    []string           `json:"notes,omitempty"`
}

// Exchange is one request sent and the response received.
type Exchange struct {
	Method          string   `json:"method"`
	URL             string   `json:"url"`
	RequestHeaders  []Header `json:"request_headers"`
	Status          int      `json:"status,omitempty"`
	ResponseHeaders []Header `json:"response_headers,omitempty"`
	// ResponseHeadersNotListed counts the field lines beyond the most
	// the report lists.
	ResponseHeadersNotListed int `json:"response_headers_not_listed,omitempty"`
	// BodyExcerpt is the first line of a failed preflight's body: the cors
	// module says there why it refused.
	BodyExcerpt string `json:"body_excerpt,omitempty"`

	// header and bodyLine are the response as received, for the fix.
	header   http.Header
	bodyLine string
	// bodyLineCut: the first line goes on past maxBodyBytes.
	bodyLineCut bool
}

func (e *Exchange) bodyExcerpt() string {
	excerpt := printable(e.bodyLine)
	if e.bodyLineCut {
		excerpt += fmt.Sprintf(" [cors-check reads no more than %d KiB of a body]", maxBodyBytes>>10)
	}
	return excerpt
}

// ExitCode is the exit status of `caddy cors-check` for the verdict.
func (r *Report) ExitCode() int {
	switch r.Verdict {
	case Allowed, PreflightPassed:
		return ExitAllowed
	case Blocked:
		return ExitBlocked
	}
	return ExitError
}

// WriteJSON prints the report as one indented JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // keep <, > and & readable in messages
	return enc.Encode(r)
}

// WriteText prints the report for a terminal.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	credentials := "omit"
	if r.Credentials {
		credentials = "include"
	}
	fmt.Fprintf(&b, "CORS check: %s %s\n  from origin %s, credentials mode '%s', browser %s\n", r.Method, r.URL, r.Origin, credentials, r.Browser.Name())
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "  note: %s\n", n)
	}
	for i, s := range r.Steps {
		fmt.Fprintf(&b, "\n%d. %s: %s\n", i+1, s.Name, s.Outcome)
		if s.Summary != "" {
			fmt.Fprintf(&b, "   %s\n", s.Summary)
		}
		if d := s.Decision; d != nil {
			writeDecision(&b, d)
		}
		if e := s.Exchange; e != nil {
			writeExchange(&b, e)
		}
		for _, c := range s.Checks {
			fmt.Fprintf(&b, "   %-4s %s: %s\n", mark(c.Result), c.Rule, c.Detail)
		}
		for _, n := range s.Notes {
			fmt.Fprintf(&b, "   note %s\n", n)
		}
	}
	fmt.Fprintf(&b, "\nVerdict: %s", strings.ToUpper(r.Verdict))
	if r.BlockedAt != "" {
		fmt.Fprintf(&b, " at the %s (%s)", r.BlockedAt, r.CorsError)
	}
	switch {
	case r.withheld:
		fmt.Fprintf(&b, "; the actual %s was not sent (add --send to send it and check its response)", r.Method)
	case r.Verdict == NoVerdict:
		b.WriteString(" (the check could not finish)")
	}
	b.WriteString("\n")
	switch {
	case r.ConsoleMessage != "":
		fmt.Fprintf(&b, "Console (%s): %s\n", r.Browser.Name(), strings.ReplaceAll(r.ConsoleMessage, "\n", "\n  "))
	case r.Verdict == Blocked:
		fmt.Fprintf(&b, "Console (%s): cors-check does not know the text %s prints for this failure\n", r.Browser.Name(), r.Browser.Name())
	}
	if r.Fix != "" {
		fmt.Fprintf(&b, "Fix: %s\n", r.Fix)
	}
	if r.Verdict == Allowed {
		if len(r.ReadableHeaders) == 0 {
			b.WriteString("Readable by script: no response header\n")
		} else {
			fmt.Fprintf(&b, "Readable by script: %s", strings.Join(r.ReadableHeaders, ", "))
			if r.ReadableHeadersNotListed > 0 {
				fmt.Fprintf(&b, " (and %d more, not listed: cors-check lists at most %d)", r.ReadableHeadersNotListed, maxListedFieldLines)
			}
			b.WriteString("\n")
		}
	}
	if lna := r.LocalNetworkAccess; lna != nil {
		fmt.Fprintf(&b, "Local Network Access: %s\n", lna.Summary)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeDecision(b *strings.Builder, d *PreflightDecision) {
	fmt.Fprintf(b, "   %-4s method %s\n", safeMark(d.MethodSafelisted), d.MethodReason)
	for _, h := range d.Headers {
		fmt.Fprintf(b, "   %-4s %s: %s (%s)\n", safeMark(h.Safelisted), h.Name, h.Value, h.Reason)
	}
}

func writeExchange(b *strings.Builder, e *Exchange) {
	fmt.Fprintf(b, "   > %s %s\n", e.Method, e.URL)
	for _, h := range e.RequestHeaders {
		fmt.Fprintf(b, "   > %s: %s\n", h.Name, h.Value)
	}
	if e.Status == 0 {
		return
	}
	fmt.Fprintf(b, "   < %d %s\n", e.Status, http.StatusText(e.Status))
	for _, h := range e.ResponseHeaders {
		fmt.Fprintf(b, "   < %s: %s\n", h.Name, h.Value)
	}
	if e.ResponseHeadersNotListed > 0 {
		fmt.Fprintf(b, "   < (%d more field lines not listed: cors-check lists at most %d)\n", e.ResponseHeadersNotListed, maxListedFieldLines)
	}
	if e.BodyExcerpt != "" {
		fmt.Fprintf(b, "   < (body) %s\n", e.BodyExcerpt)
	}
}

func mark(result string) string {
	switch result {
	case Pass:
		return "ok"
	case Fail:
		return "FAIL"
	}
	return "--"
}

func safeMark(safelisted bool) string {
	if safelisted {
		return "ok"
	}
	return "!!"
}
