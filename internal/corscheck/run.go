package corscheck

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// DefaultTimeout bounds each of the two requests.
const DefaultTimeout = 10 * time.Second

// userAgent identifies the check in the server's logs.
const userAgent = "caddy-cors-check"

// NewClient returns the client the command uses: a timeout, no cookie
// jar, and redirects never followed (a browser never follows one for a
// preflight, and the check must see the redirect itself).
func NewClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, CheckRedirect: doNotFollow}
}

func doNotFollow(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Run makes the check: the preflight decision, the preflight when one is
// needed, and the actual request, each checked as Chromium does. An error
// means no verdict (a usage error, or the server could not be reached); the
// report is then nil or holds the steps made so far.
func Run(ctx context.Context, client *http.Client, r Request) (*Report, error) {
	p, err := r.prepare()
	if err != nil {
		return nil, err
	}
	// Whatever client is given, the check must see redirects and send no
	// cookies: Fetch, a preflight never carries credentials.
	c := *client
	c.CheckRedirect = doNotFollow
	c.Jar = nil

	rep := &Report{URL: p.url.String(), Origin: p.origin, Method: p.method, Credentials: p.credentials, Notes: p.dropped}
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
	rep.ReadableHeaders = readable
	return rep, nil
}

func (r *Report) block(at string, f *Failure, e *Exchange, d PreflightDecision) {
	r.Verdict = Blocked
	r.BlockedAt = at
	r.CorsError = f.Name()
	r.ConsoleMessage = f.ConsoleMessage(r.URL, r.Origin)
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
	resp, body, err := send(ctx, c, http.MethodOptions, p, headers)
	if err != nil {
		step.Outcome = "failed"
		step.Summary = "no response: " + err.Error()
		return step, nil, fmt.Errorf("preflight: %w", err)
	}
	step.Exchange.Status = resp.StatusCode
	step.Exchange.ResponseHeaders = headerLines(resp.Header)

	out := checkPreflight(resp.StatusCode, resp.Header, p.origin, p.method, unsafeNamesInRequestOrder(d), p.credentials)
	step.Checks = out.Checks
	if out.Failure != nil {
		step.Outcome = "failed"
		step.Summary = "the browser fails the preflight and never sends the request"
		step.Exchange.BodyExcerpt = body
		return step, out.Failure, nil
	}
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
	resp, _, err := send(ctx, c, p.method, p, headers)
	if err != nil {
		step.Outcome = "failed"
		step.Summary = "no response: " + err.Error()
		return step, nil, nil, fmt.Errorf("actual request: %w", err)
	}
	step.Exchange.Status = resp.StatusCode
	step.Exchange.ResponseHeaders = headerLines(resp.Header)

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
		step.Notes = append(step.Notes, "the browser follows this redirect to "+resp.Header.Get("Location")+
			" and checks that response too (after a cross-origin redirect the Origin becomes null); run cors-check on that URL")
	}
	if !preflightSent && p.method != "GET" && p.method != "HEAD" {
		step.Notes = append(step.Notes, "no preflight protected this "+p.method+": the server acts on it whatever it answers (CORS guards reads, not writes)")
	}
	readable, exposeChecks := readableResponseHeaders(resp.Header, p.credentials)
	step.Checks = append(step.Checks, exposeChecks...)
	return step, nil, readable, nil
}

// send makes one request and returns the response, with its body read
// (and an excerpt of it) and closed.
func send(ctx context.Context, c *http.Client, method string, p preparedRequest, headers []Header) (*http.Response, string, error) {
	req, err := http.NewRequestWithContext(ctx, method, p.url.String(), nil)
	if err != nil {
		return nil, "", err
	}
	for _, h := range headers {
		req.Header.Add(h.Name, h.Value)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	start, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // lets the connection be reused
	return resp, bodyExcerpt(start), nil
}

// bodyExcerpt keeps the first line, visible ASCII only: it is printed to a
// terminal and comes from any server.
func bodyExcerpt(body []byte) string {
	line, _, _ := strings.Cut(string(body), "\n")
	var b strings.Builder
	for i := 0; i < len(line) && b.Len() < 200; i++ {
		if c := line[i]; c >= 0x20 && c < 0x7f {
			b.WriteByte(c)
		}
	}
	return strings.TrimSpace(b.String())
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

// headerLines lists every field line, sorted by name, each line of a
// repeated header on its own, so that duplicates show.
func headerLines(h http.Header) []Header {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	slices.Sort(names)
	var lines []Header
	for _, name := range names {
		for _, v := range h[name] {
			lines = append(lines, Header{name, v})
		}
	}
	return lines
}
