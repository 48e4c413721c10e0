package cors

import (
	"io"
	"net/http"
	"sync"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-cors/cors/internal/policy"
)

// ServeHTTP answers preflights and sends every other request on to next,
// with the CORS headers its response must carry.
func (c *CORS) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	if c.report {
		return c.serveReport(w, r, next)
	}
	repl, _ := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	switch kind, origin := policy.Classify(r.Method, r.Header); kind {
	case policy.Preflight:
		response, rejection := c.policy.Preflight(origin, r.Header)
		outcome := c.record(r, repl, kind, rejection)
		if rejection.Refused() {
			body := preflightRejectedBody(rejection)
			c.logRejection(kind, r, origin, outcome, rejection, body[len(preflightRejectedPrefix):len(body)-1])
			return rejectPreflight(w, response, rejection, body)
		}
		if c.policy.PreflightPassthrough() {
			return serveNext(w, r, next, policy.Answer{}, &response)
		}
		// Fetch: a preflight never carries credentials, so it must not
		// reach authentication; it is answered here.
		response.Apply(w.Header())
		w.WriteHeader(c.policy.PreflightStatus())
		return nil

	case policy.Actual:
		answer, rejection := c.policy.Actual(origin)
		// enforce: the gates judge with the policy's verdict (gates.go).
		if c.gates != 0 {
			if refusal := c.gates.Check(r, origin, !rejection.Refused()); refusal.Refused() {
				return c.refuseAtGate(w, r, repl, origin, refusal)
			}
		}
		outcome := c.record(r, repl, kind, rejection)
		if rejection.Refused() {
			c.logRejection(kind, r, origin, outcome, rejection, nil)
		}
		// A refused origin still reaches the next handler: Origin also comes
		// with same-origin form posts, and the browser, not the server,
		// withholds the response (R46).
		return serveNext(w, r, next, answer, nil)

	default:
		// enforce: a write with fetch metadata but no Origin (gates.go).
		if c.gates != 0 {
			if refusal := c.gates.Check(r, nil, false); refusal.Refused() {
				return c.refuseAtGate(w, r, repl, nil, refusal)
			}
		}
		if repl != nil {
			repl.Map(notCORSPlaceholders)
		}
		return serveNext(w, r, next, c.policy.NotCORS(), nil)
	}
}

// record counts a CORS request's outcome and provides the placeholders
// that show it. It gives the outcome's position in outcomes.
func (c *CORS) record(r *http.Request, repl *caddy.Replacer, kind policy.Kind, rejection policy.Rejection) int {
	outcome := outcomeIndex(rejection.Reason)
	c.counters.count(r, kind, outcome)
	if repl != nil {
		if c.report {
			repl.Map(reportOutcomePlaceholders[outcome])
		} else {
			repl.Map(outcomePlaceholders[outcome])
		}
	}
	return outcome
}

const (
	placeholderAllowed = "http.cors.allowed"
	placeholderReason  = "http.cors.reason"
	placeholderMode    = "http.cors.mode"
)

// The placeholders are provided by a function added to the request's
// replacer with Map, chosen from a set built once, one per outcome. Set
// would store them in the replacer's map, and Caddy makes a replacer per
// request, whose first Set allocates the map's storage. A provider is asked
// after the values given to Set, in the order providers were added: a
// handler that sets {http.cors.*} itself wins, and of two cors handlers on
// one request, the first one's outcome shows.
var (
	notCORSPlaceholders = placeholders(modeEnforce, "", "")
	outcomePlaceholders = outcomeProviders(modeEnforce)
)

// outcomeProviders gives the placeholders of each outcome, by position in
// outcomes, for a handler in mode.
func outcomeProviders(mode string) (providers [len(outcomes)]caddy.ReplacerFunc) {
	for i, reason := range outcomes {
		allowed := "false"
		if reason == "" {
			allowed = "true"
		}
		providers[i] = placeholders(mode, allowed, string(reason))
	}
	return providers
}

// placeholders provides {http.cors.allowed}, {http.cors.reason} and
// {http.cors.mode}. The values are boxed once, here: a string returned as
// any would allocate on every request.
func placeholders(mode, allowed, reason string) caddy.ReplacerFunc {
	boxedAllowed, boxedReason, boxedMode := any(allowed), any(reason), any(mode)
	return func(key string) (any, bool) {
		switch key {
		case placeholderAllowed:
			return boxedAllowed, true
		case placeholderReason:
			return boxedReason, true
		case placeholderMode:
			return boxedMode, true
		}
		return nil, false
	}
}

// The headers of a refused preflight's answer beyond the CORS ones: its
// body is plain text, which no browser may take for anything else.
var (
	refusalHeaderNames  = []string{"Content-Type", "X-Content-Type-Options"}
	refusalHeaderValues = []string{"text/plain; charset=utf-8", "nosniff"}
)

// preflightRejectedPrefix starts the body of a refused preflight.
const preflightRejectedPrefix = "CORS preflight rejected: "

// preflightRejectedBody is the one-line body of a refused preflight, built
// in one allocation.
func preflightRejectedBody(rejection policy.Rejection) []byte {
	body := make([]byte, 0, len(preflightRejectedPrefix)+rejection.MessageLen()+1)
	body = rejection.AppendMessage(append(body, preflightRejectedPrefix...))
	return append(body, '\n')
}

// rejectPreflight answers a refused preflight, even with
// preflight_passthrough: the CORS headers of what it asked for that is
// allowed, the status the rejection calls for, and body, one line that says
// which part failed, so that whoever looks at the request in DevTools or
// with curl need not guess (R8).
func rejectPreflight(w http.ResponseWriter, response policy.Response, rejection policy.Rejection, body []byte) error {
	response.ApplyWith(w.Header(), refusalHeaderNames, refusalHeaderValues)
	w.WriteHeader(rejection.PreflightStatus())
	_, err := w.Write(body)
	return err
}

// serveNext sends the request on to next with a writer that asserts the
// CORS headers of its response when the response is committed, after an
// upstream or a later handler has added its own. They are asserted once
// more when next returns without committing: when it returns an error,
// Caddy writes the error response with its own writer, past this wrapper,
// from the same header map; when it wrote nothing, net/http sends the map
// as it is.
//
// The headers are answer's, or, when preflight is not nil, those of an
// allowed preflight's answer, which is copied into the writer (it is built
// per request, and a pointer to it kept in a pooled writer would make it
// escape to the heap).
func serveNext(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, answer policy.Answer, preflight *policy.Response) error {
	rw := getResponseWriter(w)
	rw.answer = answer
	if preflight != nil {
		rw.preflight, rw.hasPreflight = policy.NewShape(*preflight), true
		rw.answer = policy.AnswerOf(&rw.preflight)
	}
	err := next.ServeHTTP(rw, r)
	if !rw.committed {
		rw.answer.Apply(w.Header())
	}
	putResponseWriter(rw)
	return err
}

// responseWriter applies the policy's headers once, when the response is
// committed: at the first final WriteHeader, Write, ReadFrom or flush.
// Every one of those must be covered, since ReadFrom and flushing reach the
// underlying writer without calling WriteHeader.
type responseWriter struct {
	caddyhttp.ResponseWriterWrapper
	answer policy.Answer
	// preflight is the storage of an allowed preflight's answer, which is
	// built per request, when hasPreflight.
	preflight    policy.Shape
	hasPreflight bool
	committed    bool
	// report, in report mode, compares the response with the policy's
	// answer instead of applying it.
	report *reportState
}

// Writers are pooled because every request passes through one; none is used
// after next.ServeHTTP returns, which is when it goes back to the pool.
var responseWriters = sync.Pool{New: func() any { return new(responseWriter) }}

func getResponseWriter(w http.ResponseWriter) *responseWriter {
	rw := responseWriters.Get().(*responseWriter)
	rw.ResponseWriter = w
	return rw
}

// putResponseWriter clears what rw refers to, so that a pooled writer
// keeps no request alive, and its flag.
func putResponseWriter(rw *responseWriter) {
	rw.ResponseWriter = nil
	rw.answer = policy.Answer{}
	if rw.hasPreflight {
		rw.preflight, rw.hasPreflight = policy.Shape{}, false
	}
	rw.committed = false
	responseWriters.Put(rw)
}

// commit is given the status of the response, for report mode.
func (rw *responseWriter) commit(status int) {
	if !rw.committed {
		rw.committed = true
		if rw.report != nil {
			rw.report.compare(rw.Header(), status)
			return
		}
		rw.answer.Apply(rw.Header())
	}
}

// WriteHeader commits on final statuses only. 101 Switching Protocols is
// one, as net/http treats it (reverse_proxy adds the upstream's header
// lines before relaying it); 100 and 103 Early Hints are not the response,
// and reverse_proxy restores the header map after relaying them.
func (rw *responseWriter) WriteHeader(status int) {
	if status >= 200 || status == http.StatusSwitchingProtocols {
		rw.commit(status)
	}
	rw.ResponseWriterWrapper.WriteHeader(status)
}

func (rw *responseWriter) Write(b []byte) (int, error) {
	rw.commit(http.StatusOK)
	return rw.ResponseWriterWrapper.Write(b)
}

func (rw *responseWriter) ReadFrom(r io.Reader) (int64, error) {
	rw.commit(http.StatusOK)
	return rw.ResponseWriterWrapper.ReadFrom(r)
}

// FlushError is what http.ResponseController calls to flush.
func (rw *responseWriter) FlushError() error {
	rw.commit(http.StatusOK)
	return http.NewResponseController(&rw.ResponseWriterWrapper).Flush()
}

// Flush serves handlers that still assert http.Flusher.
func (rw *responseWriter) Flush() {
	_ = rw.FlushError()
}

// Interface guards
var (
	_ caddyhttp.MiddlewareHandler = (*CORS)(nil)
	_ http.Flusher                = (*responseWriter)(nil)
	_ io.ReaderFrom               = (*responseWriter)(nil)
)
