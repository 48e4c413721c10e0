package cors

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

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
	switch kind, origin := policy.Classify(r.Method, r.Header); kind {
	case policy.Preflight:
		response, rejection := c.policy.Preflight(origin, r.Header)
		outcome := record(repl, kind, rejection)
		if rejection.Refused() {
			body := preflightRejectedBody(rejection)
			c.logRejection(kind, r, origin, outcome, rejection, body[len(preflightRejectedPrefix):len(body)-1])
			return rejectPreflight(w, response, rejection, body)
		}
		if c.policy.PreflightPassthrough() {
			return serveNext(w, r, next, &response)
		}
		// Fetch: a preflight never carries credentials, so it must not
		// reach authentication; it is answered here.
		response.Apply(w.Header())
		w.WriteHeader(c.policy.PreflightStatus())
		return nil

	case policy.Actual:
		response, rejection := c.policy.Actual(origin)
		outcome := record(repl, kind, rejection)
		if rejection.Refused() {
			c.logRejection(kind, r, origin, outcome, rejection, nil)
		}
		// A refused origin still reaches the next handler: Origin also comes
		// with same-origin form posts, and the browser, not the server,
		// withholds the response (R46).
		return serveNext(w, r, next, &response)

	default:
		if repl != nil {
			repl.Map(notCORSPlaceholders)
		}
		response := c.policy.NotCORS()
		return serveNext(w, r, next, &response)
	}
}

// record counts a CORS request's outcome and provides the placeholders
// that show it. It gives the outcome's position in outcomes.
func record(repl *caddy.Replacer, kind policy.Kind, rejection policy.Rejection) int {
	outcome := outcomeIndex(rejection.Reason)
	countRequest(kind, outcome)
	if repl != nil {
		repl.Map(outcomePlaceholders[outcome])
	}
	return outcome
}

const (
	placeholderAllowed = "http.cors.allowed"
	placeholderReason  = "http.cors.reason"
)

// The placeholders are provided by a function added to the request's
// replacer with Map, chosen from a set built once, one per outcome. Set
// would store them in the replacer's map, and Caddy makes a replacer per
// request, whose first Set allocates the map's storage. A provider is asked
// after the values given to Set, in the order providers were added: a
// handler that sets {http.cors.*} itself wins, and of two cors handlers on
// one request, the first one's outcome shows.
var (
	notCORSPlaceholders = placeholders("", "")
	outcomePlaceholders = func() (providers [len(outcomes)]caddy.ReplacerFunc) {
		for i, reason := range outcomes {
			allowed := "false"
			if reason == "" {
				allowed = "true"
			}
			providers[i] = placeholders(allowed, string(reason))
		}
		return providers
	}()
)

// placeholders provides {http.cors.allowed} and {http.cors.reason}. The
// values are boxed once, here: a string returned as any would allocate on
// every request.
func placeholders(allowed, reason string) caddy.ReplacerFunc {
	boxedAllowed, boxedReason := any(allowed), any(reason)
	return func(key string) (any, bool) {
		switch key {
		case placeholderAllowed:
			return boxedAllowed, true
		case placeholderReason:
			return boxedReason, true
		}
		return nil, false
	}
}

// How much of a request's path a log line shows; other request values are
// cut to policy.MaxValueLen.
const maxLoggedPathLen = 256

// Refusal log lines are sampled per handler, kind of request and reason,
// so that a flood of refused requests (anyone can send preflights) writes a
// bounded number of lines: in each second, the first logSampleFirst lines
// of a reason are written, then one in logSampleThereafter. Metrics still count
// every one.
const (
	logSampleFirst      = 10
	logSampleThereafter = 100
)

// refusalSampler is zap's sampler, used as a gate before a refusal line is
// built: it is given one entry per refusal, keyed by handler, kind and
// reason (refusalKeys), and lets through those whose line is to be
// written. One gate serves every cors handler: zap's sampler holds 458 KB
// of counters, which one per handler would multiply. A variable, so that
// tests can start from fresh counts.
var refusalSampler = newRefusalSampler()

func newRefusalSampler() zapcore.Core {
	return zapcore.NewSamplerWithOptions(gate{}, time.Second, logSampleFirst, logSampleThereafter)
}

// refusalKeys are one handler's keys for the sampler, by kindIndex and
// position in outcomes. Each handler has its own, so that a flood refused by
// one site's policy does not silence the refusals of another.
type refusalKeys [len(kindNames)][len(outcomes)]string

// handlersProvisioned numbers the handlers, to tell their keys apart.
var handlersProvisioned atomic.Uint64

func newRefusalKeys() (keys refusalKeys) {
	handler := strconv.FormatUint(handlersProvisioned.Add(1), 10)
	for k, kind := range kindNames {
		for o, reason := range outcomes {
			keys[k][o] = handler + " " + kind + " " + string(reason)
		}
	}
	return keys
}

// gate is the core under refusalSampler: every entry the sampler passes on
// is let through, marked by a non-nil result.
type gate struct{}

var letThrough = new(zapcore.CheckedEntry)

func (gate) Enabled(zapcore.Level) bool                                       { return true }
func (g gate) With([]zapcore.Field) zapcore.Core                              { return g }
func (gate) Check(zapcore.Entry, *zapcore.CheckedEntry) *zapcore.CheckedEntry { return letThrough }
func (gate) Write(zapcore.Entry, []zapcore.Field) error                       { return nil }
func (gate) Sync() error                                                      { return nil }

// logRejection logs a refused request of kind with the values it was
// refused for, each cut and limited to visible ASCII, unless the sampler
// drops the line: a preflight at info, another request at debug. message
// is the rejection's message when it was already built, else nil: it is
// then built only if the line is written.
func (c *CORS) logRejection(kind policy.Kind, r *http.Request, origin []string, outcome int, rejection policy.Rejection, message []byte) {
	level, msg := zapcore.DebugLevel, "CORS request rejected"
	if kind == policy.Preflight {
		level, msg = zapcore.InfoLevel, "CORS preflight rejected"
	}
	if !c.logger.Core().Enabled(level) {
		return
	}
	key := zapcore.Entry{Level: level, Message: c.refusalKeys[kindIndex(kind)][outcome], Time: time.Now()}
	if refusalSampler.Check(key, nil) == nil {
		return
	}
	ce := c.logger.Check(level, msg)
	if ce == nil {
		return
	}
	if message == nil {
		message = rejection.AppendMessage(make([]byte, 0, rejection.MessageLen()))
	}
	fields := make([]zap.Field, 0, 6)
	fields = append(fields,
		zap.String("origin", policy.Printable(firstValue(origin), policy.MaxValueLen)),
		zap.String("method", policy.Printable(r.Method, policy.MaxValueLen)),
		zap.String("path", policy.Printable(r.URL.Path, maxLoggedPathLen)),
		zap.String("reason", string(rejection.Reason)),
		zap.ByteString("detail", message),
	)
	// Every preflight is an OPTIONS; the method it asks for says more.
	if requested, ok := r.Header["Access-Control-Request-Method"]; ok && r.Method == http.MethodOptions {
		fields = append(fields, zap.String("requested_method", policy.Printable(strings.Join(requested, ", "), policy.MaxValueLen)))
	}
	if cause := rejection.Cause(); cause != nil {
		fields = append(fields, zap.Error(cause))
	}
	ce.Write(fields...)
}

// firstValue is the first field line of a header: with several Origin
// lines, the rejection's message says how many there were.
func firstValue(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return lines[0]
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
// response is a pointer only so that it is not copied on the way: it is
// not kept.
func serveNext(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, response *policy.Response) error {
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

func getResponseWriter(w http.ResponseWriter, response *policy.Response) *responseWriter {
	rw := responseWriters.Get().(*responseWriter)
	rw.wrapped.ResponseWriter = w
	rw.ResponseWriterWrapper = &rw.wrapped
	rw.response = *response
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

// WriteHeader commits on final statuses only. 101 Switching Protocols is
// one, as net/http treats it (reverse_proxy adds the upstream's header
// lines before relaying it); 100 and 103 Early Hints are not the response,
// and reverse_proxy restores the header map after relaying them.
func (rw *responseWriter) WriteHeader(status int) {
	if status >= 200 || status == http.StatusSwitchingProtocols {
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
