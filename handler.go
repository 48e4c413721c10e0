package cors

import (
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/caddy-cors/cors/internal/policy"
)

// ServeHTTP answers preflights and sends every other request on to next,
// with the CORS headers its response must carry.
func (c *CORS) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	repl, _ := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	switch kind := policy.Classify(r.Method, r.Header); kind {
	case policy.Preflight:
		response, rejection := c.policy.Preflight(r.Header)
		record(repl, kind, rejection)
		if rejection != nil {
			c.logRejection(zapcore.InfoLevel, "CORS preflight rejected", r, rejection)
			return rejectPreflight(w, response, rejection)
		}
		if c.policy.PreflightPassthrough() {
			response.Apply(w.Header())
			return serveNext(w, r, next, response)
		}
		// Fetch: a preflight never carries credentials, so it must not
		// reach authentication; it is answered here.
		response.Apply(w.Header())
		w.WriteHeader(c.policy.PreflightStatus())
		return nil

	case policy.Actual:
		response, rejection := c.policy.Actual(r.Header)
		record(repl, kind, rejection)
		if rejection != nil {
			c.logRejection(zapcore.DebugLevel, "CORS request rejected", r, rejection)
		}
		// A refused origin still reaches the next handler: Origin also comes
		// with same-origin form posts, and the browser, not the server,
		// withholds the response (R46). The headers are set before it runs,
		// so that every handler after this one sees the response's CORS
		// headers as they will be sent.
		response.Apply(w.Header())
		return serveNext(w, r, next, response)

	default:
		// Without Origin nothing after this handler needs the headers
		// early: they are set when the response is committed.
		setPlaceholders(repl, kind, 0)
		return serveNext(w, r, next, c.policy.NotCORS())
	}
}

// record counts a CORS request's outcome and sets the placeholders that
// show it.
func record(repl *caddy.Replacer, kind policy.Kind, rejection *policy.Rejection) {
	outcome := outcomeIndex(rejection)
	countRequest(kind, outcome)
	setPlaceholders(repl, kind, outcome)
}

const (
	placeholderAllowed = "http.cors.allowed"
	placeholderReason  = "http.cors.reason"
)

// The placeholder values, boxed once: storing a string variable in the
// replacer's map of any would allocate on every request.
var (
	placeholderTrue  any = "true"
	placeholderFalse any = "false"
	placeholderEmpty any = ""
	// placeholderReasons holds each entry of outcomes, the allowed one
	// being empty.
	placeholderReasons = func() (boxed [len(outcomes)]any) {
		for i, reason := range outcomes {
			boxed[i] = string(reason)
		}
		return boxed
	}()
)

// setPlaceholders sets {http.cors.allowed} (true, false, or empty for a
// request without Origin) and {http.cors.reason}, from the position of the
// request's outcome in outcomes.
func setPlaceholders(repl *caddy.Replacer, kind policy.Kind, outcome int) {
	if repl == nil {
		return
	}
	allowed := placeholderEmpty
	switch {
	case kind == policy.NotCORS:
	case outcome == 0:
		allowed = placeholderTrue
	default:
		allowed = placeholderFalse
	}
	repl.Set(placeholderAllowed, allowed)
	repl.Set(placeholderReason, placeholderReasons[outcome])
}

func (c *CORS) logRejection(level zapcore.Level, msg string, r *http.Request, rejection *policy.Rejection) {
	if ce := c.logger.Check(level, msg); ce != nil {
		fields := make([]zap.Field, 0, 6)
		fields = append(fields,
			zap.String("origin", policy.Printable(firstValue(r.Header["Origin"]))),
			zap.String("method", r.Method),
			zap.String("path", r.URL.Path),
			zap.String("reason", string(rejection.Reason)),
			zap.String("detail", rejection.Message()),
		)
		// Every preflight is an OPTIONS; the method it asks for says more.
		if requested, ok := r.Header["Access-Control-Request-Method"]; ok && r.Method == http.MethodOptions {
			requestedMethod := firstValue(requested)
			if len(requested) > 1 {
				requestedMethod = strings.Join(requested, ", ")
			}
			fields = append(fields, zap.String("requested_method", policy.Printable(requestedMethod)))
		}
		ce.Write(fields...)
	}
}

// firstValue is the first field line of a header, which is the only one of
// a well-formed request for the headers logged here. Header.Get would do,
// but it canonicalizes a name that is already canonical.
func firstValue(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return lines[0]
}

// rejectPreflight answers a refused preflight, even with
// preflight_passthrough: the CORS headers of what it asked for that is
// allowed, the status the rejection calls for, and one line that says which
// part failed, so that whoever looks at the request in DevTools or with curl
// need not guess (R8).
func rejectPreflight(w http.ResponseWriter, response policy.Response, rejection *policy.Rejection) error {
	h := w.Header()
	response.Apply(h)
	// Both values in one backing array, each line a full slice of its own.
	values := []string{"text/plain; charset=utf-8", "nosniff"}
	h["Content-Type"] = values[0:1:1]
	h["X-Content-Type-Options"] = values[1:2:2]
	w.WriteHeader(rejection.PreflightStatus())
	const prefix = "CORS preflight rejected: "
	message := rejection.Message()
	body := make([]byte, 0, len(prefix)+len(message)+1)
	body = append(append(append(body, prefix...), message...), '\n')
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
func serveNext(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, response policy.Response) error {
	rw := getResponseWriter(w, response)
	err := next.ServeHTTP(rw, r)
	if !rw.committed {
		response.Apply(w.Header())
	}
	putResponseWriter(rw)
	return err
}

// responseWriter applies the policy's headers once, when the response is
// committed: at the first final WriteHeader, Write, ReadFrom or flush.
// Every one of those must be covered, since ReadFrom and flushing reach the
// underlying writer without calling WriteHeader.
type responseWriter struct {
	*caddyhttp.ResponseWriterWrapper
	wrapped   caddyhttp.ResponseWriterWrapper // storage for the embedded pointer
	response  policy.Response
	committed bool
}

// Writers are pooled because every request passes through one; none is used
// after next.ServeHTTP returns, which is when it goes back to the pool.
var responseWriters = sync.Pool{New: func() any { return new(responseWriter) }}

func getResponseWriter(w http.ResponseWriter, response policy.Response) *responseWriter {
	rw := responseWriters.Get().(*responseWriter)
	rw.wrapped.ResponseWriter = w
	rw.ResponseWriterWrapper = &rw.wrapped
	rw.response = response
	rw.committed = false
	return rw
}

func putResponseWriter(rw *responseWriter) {
	*rw = responseWriter{}
	responseWriters.Put(rw)
}

func (rw *responseWriter) commit() {
	if !rw.committed {
		rw.committed = true
		rw.response.Apply(rw.Header())
	}
}

// WriteHeader commits on final statuses only: a 1xx (103 Early Hints, or
// an upstream's 100/101 relayed by reverse_proxy) is not the response.
func (rw *responseWriter) WriteHeader(status int) {
	if status >= 200 {
		rw.commit()
	}
	rw.ResponseWriterWrapper.WriteHeader(status)
}

func (rw *responseWriter) Write(b []byte) (int, error) {
	rw.commit()
	return rw.ResponseWriterWrapper.Write(b)
}

func (rw *responseWriter) ReadFrom(r io.Reader) (int64, error) {
	rw.commit()
	return rw.ResponseWriterWrapper.ReadFrom(r)
}

// FlushError is what http.ResponseController calls to flush.
func (rw *responseWriter) FlushError() error {
	rw.commit()
	return http.NewResponseController(rw.ResponseWriterWrapper).Flush()
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
