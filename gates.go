package cors

import (
	"net/http"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-cors/cors/internal/gates"
	"github.com/caddy-cors/cors/internal/policy"
)

// refuseAtGate answers a request a gate refused, in place of the next
// handler, which never sees it (so an upstream is never dialled): 403, no
// CORS header, the Vary of what the gate judged, and a one-line plain-text
// body that names the origin and what it may not do. The refusal is
// counted, shown in the placeholders and logged (sampled) like a refused
// CORS request, under its own reason.
func (c *CORS) refuseAtGate(w http.ResponseWriter, r *http.Request, repl *caddy.Replacer, origin []string, refusal gates.Refusal) error {
	body := c.recordGateRefusal(r, repl, origin, refusal)
	response := policy.Response{Vary: refusal.Vary()}
	response.ApplyWith(w.Header(), refusalHeaderNames, refusalHeaderValues)
	w.WriteHeader(http.StatusForbidden)
	_, err := w.Write(body)
	return err
}

// recordGateRefusal counts a refusal by a gate, shows it in the
// placeholders and logs it (sampled) like a refused CORS request, under its
// own reason; in report mode, as the refusal it would be. It returns the
// body of the answer.
func (c *CORS) recordGateRefusal(r *http.Request, repl *caddy.Replacer, origin []string, refusal gates.Refusal) []byte {
	rejection := policy.Rejection{Reason: refusal.Reason()}
	outcome := c.record(r, repl, policy.Actual, rejection)
	prefix := refusal.Prefix()
	body := make([]byte, 0, len(prefix)+refusal.MessageLen()+1)
	body = refusal.AppendMessage(append(body, prefix...))
	body = append(body, '\n')
	c.logRejection(policy.Actual, r, origin, outcome, rejection, body[len(prefix):len(body)-1])
	return body
}
