package corscheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// DefaultTimeout bounds each of the two requests.
const DefaultTimeout = 10 * time.Second

// userAgent identifies the check in the server's logs.
const userAgent = "caddy-cors-check"

// What the check reads of a response, which may come from a hostile
// server: Go's own limit on response headers is 10 MiB, and a check that
// reads all of them takes hundreds of MiB to print them.
const (
	// maxResponseHeaderBytes bounds the status line and header fields
	// together; it is Chromium's own limit (kMaxHeaderBufSize in
	// net/http/http_stream_parser.cc), so no response a browser can read is
	// refused.
	maxResponseHeaderBytes = 256 << 10
	// maxBodyBytes bounds the body read: only its first line is shown.
	maxBodyBytes = 64 << 10
	// maxListedFieldLines bounds the response header lines listed, and the
	// readable header names.
	maxListedFieldLines = 100
)

// NewClient returns the client the command uses: a time limit for each
// request, and response headers read up to maxResponseHeaderBytes. Run
// uses only its Transport and Timeout.
func NewClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: boundedTransport()}
}

func boundedTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxResponseHeaderBytes = maxResponseHeaderBytes
	return t
}

// Run makes the check: the preflight decision, the preflight when one is
// needed, and the actual request, each checked as Chromium does. An error
// means no verdict (a usage error, the server could not be reached, or its
// response headers are larger than the check reads); the report is then
// nil or holds the steps made so far.
func Run(ctx context.Context, client *http.Client, r Request) (*Report, error) {
	p, err := r.prepare()
	if err != nil {
		return nil, err
	}
	// Whatever client is given, each request is one round trip: the check
	// must see a redirect itself (a browser never follows one for a
	// preflight), even one whose Location Go cannot parse, and no cookie
	// jar is used (Fetch: a preflight never carries credentials).
	c := *client
	if c.Transport == nil {
		c.Transport = boundedTransport()
	}

	rep := &Report{URL: p.url.String(), Origin: p.origin, Method: p.method, Credentials: p.credentials, Browser: p.browser, Notes: p.dropped,
		LocalNetworkAccess: localNetworkAccess(p.origin, p.url, p.browser)}
	if p.credentials {
		rep.Notes = append(rep.Notes, "credentials mode 'include': the rules for credentials apply; this tool has no cookie jar, "+
			"so no cookie is sent (a preflight never carries any anyway); pass an Authorization header with --header if the API needs one")
	}
	if p.sameOrigin {
		rep.Steps = append(rep.Steps, Step{Name: "preflight decision", Outcome: "no preflight",
			Summary: "the URL has the same origin as the page: CORS does not apply and nothing needs checking"})
		rep.Verdict = Allowed
		rep.ReadableHeaders = []string{}
		return rep, nil
	}

	decision := decidePreflight(p.method, p.headers)
	step := Step{Name: "preflight decision", Decision: &decision}
	if decision.Needed {
		step.Outcome = "preflight needed"
		step.Summary = preflightReason(decision)
	} else {
		step.Outcome = "no preflight"
		step.Summary = "a simple request: safelisted method, only safelisted headers"
	}
	rep.Steps = append(rep.Steps, step)

	preflightSent := false
	if decision.Needed {
		step, failure, err := sendPreflight(ctx, &c, p, decision)
		rep.Steps = append(rep.Steps, step)
		if err != nil {
			rep.Verdict = NoVerdict
			return rep, err
		}
		preflightSent = true
		if failure != nil {
			rep.block("preflight", failure, step.Exchange, decision)
			rep.Steps = append(rep.Steps, Step{Name: "actual request", Outcome: "skipped",
				Summary: "the browser never sends the actual request when the preflight fails"})
			return rep, nil
		}
	} else {
		rep.Steps = append(rep.Steps, Step{Name: "preflight", Outcome: "not sent",
			Summary: "no OPTIONS request: the browser sends the request directly"})
	}

	if !p.send && changesData(p.method) {
		// The server acts on the request whatever CORS answers: a check
		// run to see why a page fails must not create, change or delete
		// anything unless asked to.
		rep.Steps = append(rep.Steps, Step{Name: "actual request", Outcome: "not sent", Summary: withheldReason(p.method, preflightSent)})
		rep.withheld = true
		if !preflightSent {
			// No preflight: CORS decides on this request's own response.
			rep.Verdict = NoVerdict
			return rep, fmt.Errorf("a %s that needs no preflight is judged on its own response: add --send to send it", p.method)
		}
		rep.Verdict = PreflightPassed
		return rep, nil
	}

	rep.ActualRequestSent = true
	step, failure, readable, err := sendActual(ctx, &c, p, preflightSent)
	rep.Steps = append(rep.Steps, step)
	if err != nil {
		rep.Verdict = NoVerdict
		return rep, err
	}
	if failure != nil {
		rep.block("actual request", failure, step.Exchange, decision)
		if preflightSent {
			rep.Fix = "the preflight passed but the actual response does not: " + rep.Fix
		}
		return rep, nil
	}
	rep.Verdict = Allowed
	if len(readable) > maxListedFieldLines {
		readable, rep.ReadableHeadersNotListed = readable[:maxListedFieldLines], len(readable)-maxListedFieldLines
	}
	rep.ReadableHeaders = make([]string, len(readable))
	for i, name := range readable {
		rep.ReadableHeaders[i] = printable(name)
	}
	return rep, nil
}

// changesData: every method but GET and HEAD may change data on the
// server, so cors-check sends it only with --send.
func changesData(method string) bool {
	return method != http.MethodGet && method != http.MethodHead
}

func withheldReason(method string, preflightSent bool) string {
	s := "cors-check sends a " + method + " only with --send: the server may act on it (create, change or delete data). "
	if preflightSent {
		return s + "A browser sends it now; the script reads the response only if it too carries Access-Control-Allow-Origin " +
			"(the cors directive adds it to every response of its route)"
	}
	return s + "A browser sends it without a preflight and the server acts on it whatever CORS says; " +
		"CORS then decides only whether the script can read the response, which needs the request sent"
}

func (r *Report) block(at string, f *Failure, e *Exchange, d PreflightDecision) {
	r.Verdict = Blocked
	r.BlockedAt = at
	r.CorsError = f.Name()
	r.ConsoleMessage = f.ConsoleMessage(r.Browser, r.URL, r.Origin, e)
	r.Fix = suggestFix(*f, r.Origin, r.Method, e, d)
	r.ReadableHeaders = []string{}
}

func preflightReason(d PreflightDecision) string {
	var why []string
	if !d.MethodSafelisted {
		why = append(why, "the method is not safelisted")
	}
	if len(d.UnsafeHeaderNames) > 0 {
		why = append(why, "CORS-unsafe request headers: "+strings.Join(d.UnsafeHeaderNames, ", "))
	}
	return strings.Join(why, "; ")
}

// unsafeNamesInRequestOrder: Chromium checks the headers in the order the
// script set them and reports the first one not allowed.
func unsafeNamesInRequestOrder(d PreflightDecision) []string {
	var names []string
	for _, h := range d.Headers {
		if !h.Safelisted && !slices.Contains(names, h.Name) {
			names = append(names, h.Name)
		}
	}
	return names
}

func sendPreflight(ctx context.Context, c *http.Client, p preparedRequest, d PreflightDecision) (Step, *Failure, error) {
	// Fetch, CORS-preflight fetch steps 1-5, plus what Chromium adds
	// (Accept: */*, Sec-Fetch-Mode: cors); never credentials.
	headers := []Header{
		{"Origin", p.origin},
		{"Access-Control-Request-Method", p.method},
	}
	if d.RequestHeaders != "" {
		headers = append(headers, Header{"Access-Control-Request-Headers", d.RequestHeaders})
	}
	headers = append(headers, Header{"Accept", "*/*"}, Header{"Sec-Fetch-Mode", "cors"}, Header{"User-Agent", userAgent})

	step := Step{Name: "preflight", Exchange: &Exchange{Method: http.MethodOptions, URL: p.url.String(), RequestHeaders: headers}}
	resp, err := send(ctx, c, http.MethodOptions, p, headers, step.Exchange)
	if err != nil {
		step.Outcome = "failed"
		step.Summary = "no response: " + err.Error()
		return step, nil, errors.New("preflight: " + err.Error())
	}

	out := checkPreflight(resp.StatusCode, resp.Header, p.origin, p.method, unsafeNamesInRequestOrder(d), p.credentials)
	step.Checks = out.Checks
	if out.Failure != nil {
		if f := out.Failure; f.Kind == HeaderDisallowedByPreflight {
			if i := slices.IndexFunc(p.headers, func(h Header) bool { return strings.EqualFold(h.Name, f.Hint) }); i >= 0 {
				f.HeaderAsSet = p.headers[i].Name
			}
		}
		step.Checks = append(step.Checks, Check{maxAgeHeader, Info, "not applied: browsers keep only a preflight that passes"})
		step.Outcome = "failed"
		step.Summary = "the browser fails the preflight and never sends the request"
		step.Exchange.BodyExcerpt = step.Exchange.bodyExcerpt()
		return step, out.Failure, nil
	}
	value, present := fieldValue(resp.Header, maxAgeHeader)
	step.Checks = append(step.Checks, Check{maxAgeHeader, Info, maxAgeFor(p.browser, value, present).Note})
	step.Outcome = "passed"
	step.Summary = "the browser sends the actual request"
	return step, nil, nil
}

func sendActual(ctx context.Context, c *http.Client, p preparedRequest, preflightSent bool) (Step, *Failure, []string, error) {
	headers := slices.Clone(p.headers)
	if !slices.ContainsFunc(headers, func(h Header) bool { return strings.EqualFold(h.Name, "Accept") }) {
		headers = append(headers, Header{"Accept", "*/*"}) // fetch()'s default
	}
	headers = append(headers, Header{"Origin", p.origin}, Header{"Sec-Fetch-Mode", "cors"}, Header{"User-Agent", userAgent})

	step := Step{Name: "actual request", Exchange: &Exchange{Method: p.method, URL: p.url.String(), RequestHeaders: redactAll(headers)}}
	resp, err := send(ctx, c, p.method, p, headers, step.Exchange)
	if err != nil {
		step.Outcome = "failed"
		step.Summary = "no response: " + err.Error()
		return step, nil, nil, errors.New("actual request: " + err.Error())
	}

	// Fetch: the actual response gets its own CORS check, whatever the
	// preflight said; any status is fine if the check passes.
	checks, failure := checkAccess(resp.Header, p.origin, p.credentials, false)
	step.Checks = checks
	if failure != nil {
		step.Outcome = "failed"
		step.Summary = "the browser gets the response but hides it from the script: fetch() rejects with a TypeError"
		return step, failure, nil, nil
	}
	step.Outcome = "passed"
	step.Summary = fmt.Sprintf("the script can read the response (status %d)", resp.StatusCode)
	if isRedirect(resp.StatusCode, resp.Header) {
		step.Notes = append(step.Notes, "the browser follows this redirect to "+printable(resp.Header.Get("Location"))+
			" and checks that response too (after a cross-origin redirect the Origin becomes null); run cors-check on that URL")
	}
	if !preflightSent && p.method != "GET" && p.method != "HEAD" {
		step.Notes = append(step.Notes, "no preflight protected this "+p.method+": the server acts on it whatever it answers (CORS guards reads, not writes)")
	}
	readable, exposeChecks := readableResponseHeaders(resp.Header, p.credentials)
	step.Checks = append(step.Checks, exposeChecks...)
	return step, nil, readable, nil
}

// send makes one request and records the response in e: its status, its
// header fields and the first line of its body, read up to the limits
// above. Its error names the cause in printable text.
func send(ctx context.Context, c *http.Client, method string, p preparedRequest, headers []Header, e *Exchange) (*http.Response, error) {
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, method, p.url.String(), nil)
	if err != nil {
		return nil, err
	}
	for _, h := range headers {
		req.Header.Add(h.Name, h.Value)
	}
	resp, err := c.Transport.RoundTrip(req)
	if errors.Is(err, context.DeadlineExceeded) && c.Timeout > 0 {
		return nil, fmt.Errorf("no response within %s (--timeout)", c.Timeout)
	}
	if err != nil {
		return nil, describeError(err)
	}
	defer resp.Body.Close()
	e.Status = resp.StatusCode
	e.header = resp.Header
	e.ResponseHeaders, e.ResponseHeadersNotListed = headerLines(resp.Header)
	// Whatever is left unread is dropped with the connection.
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes+1))
	line, _, found := bytes.Cut(body, []byte("\n"))
	e.bodyLine = strings.TrimSpace(string(line))
	e.bodyLineCut = !found && len(body) > maxBodyBytes
	return resp, nil
}

// describeError explains why there is no response, in printable text: Go's
// errors can quote what the server sent (a malformed header line, the
// names in its certificate).
func describeError(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err // the report already shows the method and URL
	}
	msg := err.Error()
	// Go says so only in its messages: "server response headers exceeded"
	// (HTTP/1) and "response header list larger than advertised limit" (HTTP/2).
	if strings.Contains(msg, "response headers exceeded") || strings.Contains(msg, "header list larger than") {
		return fmt.Errorf("the response headers are larger than %d KiB, the most cors-check reads: it stopped reading there", maxResponseHeaderBytes>>10)
	}
	return errors.New(printable(msg))
}

// redact hides credentials from the printed report: it may end up in a
// ticket or a CI log.
func redact(name, value string) string {
	switch strings.ToLower(name) {
	case "authorization", "proxy-authorization":
		scheme, _, _ := strings.Cut(value, " ")
		return fmt.Sprintf("%s (%d bytes, hidden)", scheme, len(value))
	}
	return value
}

func redactAll(headers []Header) []Header {
	out := make([]Header, len(headers))
	for i, h := range headers {
		out[i] = Header{h.Name, redact(h.Name, h.Value)}
	}
	return out
}

// headerLines lists the field lines to print, sorted by name, each line
// of a repeated header on its own so that duplicates show; at most
// maxListedFieldLines of them, the CORS ones first, and how many more
// there are.
func headerLines(h http.Header) ([]Header, int) {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	slices.Sort(names)
	var lines []Header
	notListed := 0
	add := func(name string) {
		for _, v := range h[name] {
			if len(lines) == maxListedFieldLines {
				notListed++
				continue
			}
			lines = append(lines, Header{printable(name), printable(v)})
		}
	}
	for _, name := range names {
		if isCORSField(name) {
			add(name)
		}
	}
	for _, name := range names {
		if !isCORSField(name) {
			add(name)
		}
	}
	slices.SortStableFunc(lines, func(a, b Header) int { return strings.Compare(a.Name, b.Name) })
	return lines, notListed
}

// isCORSField: the fields the checks read, listed before any other.
func isCORSField(name string) bool {
	return strings.HasPrefix(name, "Access-Control-") || name == "Location" || name == "Vary"
}
