package cors

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/caddy-cors/cors/internal/gates"
	"github.com/caddy-cors/cors/internal/policy"
)

// The modes of a handler: enforce answers and sets headers, report only
// judges and records.
const (
	modeEnforce = "enforce"
	modeReport  = "report"
)

// checkMode refuses a mode that is neither; empty is enforce.
func checkMode(mode string) error {
	switch mode {
	case "", modeEnforce, modeReport:
		return nil
	}
	return fmt.Errorf("unknown mode %q: write mode report to judge and record without changing any response, or mode enforce (the default) to apply the policy", mode)
}

func (c *CORS) parseMode(d *caddyfile.Dispenser) error {
	if !d.NextArg() {
		return d.ArgErr()
	}
	c.Mode = d.Val()
	if err := checkMode(c.Mode); err != nil {
		return d.WrapErr(err)
	}
	if d.NextArg() {
		return d.ArgErr()
	}
	return nil
}

// wouldBeRejected are the messages of refusal log lines in report mode,
// by kindIndex.
var wouldBeRejected = [len(kindNames)]string{"CORS preflight would be rejected", "CORS request would be rejected"}

var (
	reportNotCORSPlaceholders = placeholders(modeReport, "", "")
	reportOutcomePlaceholders = outcomeProviders(modeReport)
)

// disagreements name, in metrics and logs, the two ways the policy's
// answer and the application's can differ, by position: the policy
// refuses what the application allows, or allows what it refuses.
var disagreements = [...]string{"stricter", "looser"}

const (
	stricter = 0
	looser   = 1
)

// judgedReasons are the reasons a browser refuses a response, whoever
// wrote it: a policy's reasons and those only a response can have. The
// first, "", is never counted: it stands for a reason outside the set.
var judgedReasons = [...]policy.Reason{"", policy.ReasonOrigin, policy.ReasonMalformed,
	policy.ReasonMethod, policy.ReasonHeader, policy.ReasonPrivateNetwork,
	policy.ReasonCredentials, policy.ReasonStatus, policy.ReasonSourceBusy, policy.ReasonSourceError}

func judgedIndex(reason policy.Reason) int {
	for i, known := range judgedReasons {
		if known == reason {
			return i
		}
	}
	return 0
}

// disagreementGate lets through the disagreement lines of one handler
// that are to be written, sampled as refusal lines are: one count for each
// disagreement, kindIndex and position in judgedReasons, apart from the
// refusals.
type disagreementGate [len(disagreements)][len(kindNames)][len(judgedReasons)]refusalCount

// serveReport is ServeHTTP in report mode: the request is judged and
// recorded as in enforce mode, then goes on to next as it came, and the
// response as next makes it. Its CORS headers are compared with the
// policy's answer when it is committed.
func (c *CORS) serveReport(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	repl, _ := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	kind, origin := policy.Classify(r.Method, r.Header)
	if kind == policy.NotCORS {
		// The gates of enforce judge as in enforce mode, and refuse nothing.
		var refusal gates.Refusal
		if c.gates != 0 {
			refusal = c.gates.Check(r, nil, false)
		}
		if refusal.Refused() {
			c.recordGateRefusal(r, repl, nil, refusal)
		} else if repl != nil {
			repl.Map(reportNotCORSPlaceholders)
		}
		return next.ServeHTTP(w, r)
	}

	s := reportStates.Get().(*reportState)
	s.handler, s.request, s.kind = c, r, kind
	if kind == policy.Preflight {
		s.response, s.rejection = c.policy.Preflight(origin, r.Header)
	} else {
		var answer policy.Answer
		answer, s.rejection = c.policy.Actual(origin)
		s.response = answer.Response()
	}
	var refusal gates.Refusal
	if kind == policy.Actual && c.gates != 0 {
		refusal = c.gates.Check(r, origin, !s.rejection.Refused())
	}
	if refusal.Refused() {
		c.recordGateRefusal(r, repl, origin, refusal)
	} else if outcome := c.record(r, repl, kind, s.rejection); s.rejection.Refused() {
		c.logRejection(kind, r, origin, outcome, s.rejection, nil)
	}
	s.browser = policy.NewBrowserRequest(kind, origin, r.Header)

	rw := &s.writer
	rw.ResponseWriter = w
	rw.report = s
	err := next.ServeHTTP(rw, r)
	if !rw.committed {
		// The response is the header map as it is, sent by net/http, or an
		// error response that Caddy writes with it.
		s.compare(w.Header(), errorStatus(err))
	}
	*s = reportState{}
	reportStates.Put(s)
	return err
}

// errorStatus is the status of the response Caddy writes for a handler's
// error, or of the empty response net/http sends when there is none.
func errorStatus(err error) int {
	if err == nil {
		return http.StatusOK
	}
	var handlerErr caddyhttp.HandlerError
	if errors.As(err, &handlerErr) && handlerErr.StatusCode != 0 {
		return handlerErr.StatusCode
	}
	return http.StatusInternalServerError
}

// reportState is what report mode keeps of one request until its response
// is committed, with the writer that notices it.
type reportState struct {
	writer    responseWriter
	handler   *CORS
	request   *http.Request
	kind      policy.Kind
	response  policy.Response
	rejection policy.Rejection
	browser   policy.BrowserRequest
}

// Pooled as the writers of enforce mode are, and for the same reason.
var reportStates = sync.Pool{New: func() any { return new(reportState) }}

// compare judges the response about to be sent, with status and header h,
// as a browser would, and the policy's answer the same way, and records a
// disagreement.
func (s *reportState) compare(h http.Header, status int) {
	application := policy.JudgeHeader(&s.browser, status, h)
	verdict := s.policyVerdict(status)
	var disagreement int
	var reason policy.Reason
	switch {
	case application == "" && verdict != "":
		disagreement, reason = stricter, verdict
	case application != "" && verdict == "":
		disagreement, reason = looser, application
	default:
		return
	}
	k, r := kindIndex(s.kind), judgedIndex(reason)
	disagreementCounters[disagreement][k][r].Inc()
	s.handler.logDisagreement(s, disagreement, r, application, verdict)
}

// policyVerdict is how a browser would judge the policy's answer: refused
// for the reason the policy refuses, else as its headers are judged (a
// request with credentials meets `*`, or a policy without credentials).
// With preflight_passthrough, an allowed preflight has the status next
// gives it.
func (s *reportState) policyVerdict(status int) policy.Reason {
	if s.rejection.Refused() {
		return s.rejection.Reason
	}
	if s.kind == policy.Preflight && !s.handler.policy.PreflightPassthrough() {
		// The answer to a preflight the policy allows, with its own ok
		// status, lists all that was asked for: it passes by construction,
		// and judging it would only cost time.
		return ""
	}
	return s.response.Judge(&s.browser, status)
}

// logDisagreement logs a disagreement at info, sampled as refusals are,
// with the request's values cut and limited to visible ASCII, and both
// verdicts.
func (c *CORS) logDisagreement(s *reportState, disagreement, reason int, application, verdict policy.Reason) {
	if !c.logger.Core().Enabled(zapcore.InfoLevel) {
		return
	}
	k := kindIndex(s.kind)
	if !c.disagreements[disagreement][k][reason].admit(refusalClock.second()) {
		return
	}
	ce := c.logger.Check(zapcore.InfoLevel, disagreementMessages[disagreement])
	if ce == nil {
		return
	}
	r := s.request
	fields := make([]zap.Field, 0, 9)
	fields = append(fields,
		zap.String("disagreement", disagreements[disagreement]),
		zap.String("reason", string(judgedReasons[reason])),
		zap.String("kind", kindNames[k]),
		zap.String("origin", policy.Printable(s.browser.Origin, policy.MaxValueLen)),
		zap.String("method", policy.Printable(r.Method, policy.MaxValueLen)),
		zap.String("path", policy.Printable(r.URL.Path, maxLoggedPathLen)),
		zap.String("policy", verdictText(verdict)),
		zap.String("application", verdictText(application)),
	)
	if s.kind == policy.Preflight {
		fields = append(fields, zap.String("requested_method", policy.Printable(strings.Join(r.Header["Access-Control-Request-Method"], ", "), policy.MaxValueLen)))
	}
	ce.Write(fields...)
}

// disagreementMessages are the messages of disagreement log lines, by
// position in disagreements.
var disagreementMessages = [len(disagreements)]string{
	"CORS policy would be stricter than the application",
	"CORS policy would be looser than the application",
}

// verdictText is a verdict as a log line shows it.
func verdictText(reason policy.Reason) string {
	if reason == "" {
		return "allowed"
	}
	return "refused: " + string(reason)
}
