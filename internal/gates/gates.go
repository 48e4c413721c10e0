// Package gates guards two doors that CORS leaves open: CORS decides what a
// page may read, but a page from any site can open a WebSocket (browsers
// send Origin on the handshake and apply no CORS to it) and send a form
// POST (a simple request has no preflight). A gate refuses those requests
// from origins the policy does not allow, before they reach the next
// handler.
package gates

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/caddy-cors/cors/internal/policy"
)

// Set is the gates one handler enforces.
type Set uint8

const (
	// WebSocket refuses WebSocket opening handshakes from origins that are
	// neither allowed nor the request's own.
	WebSocket Set = 1 << iota
	// UnsafeMethods refuses cross-origin requests with a method other than
	// GET, HEAD and OPTIONS, in the order of Go's
	// http.CrossOriginProtection.
	UnsafeMethods
)

// Names of the gates, as written in a configuration.
const (
	NameWebSocket     = "websocket"
	NameUnsafeMethods = "unsafe_methods"
)

// The reasons a gate gives in logs, metrics and {http.cors.reason}.
const (
	ReasonWebSocketOrigin   policy.Reason = "websocket_origin"
	ReasonUnsafeCrossOrigin policy.Reason = "unsafe_cross_origin"
)

// Check checks one configured gate name.
func Check(name string) error {
	_, err := parse(name)
	return err
}

func parse(name string) (Set, error) {
	switch name {
	case NameWebSocket:
		return WebSocket, nil
	case NameUnsafeMethods:
		return UnsafeMethods, nil
	}
	return 0, fmt.Errorf("enforce %q is not a gate: write websocket (WebSocket handshakes) or unsafe_methods (cross-origin POST, PUT, DELETE, ...)", policy.Printable(name, policy.MaxValueLen))
}

// Parse gives the set of gates named in a configuration, and every error
// of its names.
func Parse(names []string) (Set, error) {
	var s Set
	var errs []error
	for _, name := range names {
		g, err := parse(name)
		errs = append(errs, err)
		s |= g
	}
	return s, errors.Join(errs...)
}

// CheckCombination refuses gates together with a policy that allows any
// origin: they could refuse nothing.
func CheckCombination(names, origins []string) error {
	if len(names) == 0 {
		return nil
	}
	for _, o := range origins {
		if o == "*" {
			return errors.New("enforce cannot be combined with origins * (in JSON, allowed_origins [\"*\"]): every origin is allowed, so the gates would refuse nothing; list the origins of your frontends")
		}
	}
	return nil
}

// Refusal says which gate refused a request and why. The zero value is no
// refusal: it is returned by value, so that passing a gate costs no
// allocation.
type Refusal struct {
	Gate      Set    // 0: the request passes
	origin    string // the first Origin line, as sent
	origins   int    // how many Origin lines
	method    string
	fetchSite string // Sec-Fetch-Site, when it refused without Origin
}

// Refused reports whether r is a refusal.
func (r Refusal) Refused() bool { return r.Gate != 0 }

// Check runs the gates of s on a request whose Origin field lines are
// origin (looked up once for the whole request by the caller). allowed is
// the policy's verdict on that origin, the one it gives the request's CORS
// answer: a gate asks nothing of its own, so an origin may pass a gate
// exactly when it may read, and the policy is asked once per request.
func (s Set) Check(r *http.Request, origin []string, allowed bool) Refusal {
	// A handshake without Origin is not a browser's: it passes.
	if s&WebSocket != 0 && len(origin) > 0 && IsWebSocketHandshake(r) && !ownOrAllowed(r, origin, allowed) {
		return Refusal{Gate: WebSocket, origin: origin[0], origins: len(origin), method: r.Method}
	}
	if s&UnsafeMethods != 0 && r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions {
		if site, refused := refusesWrite(r, origin, allowed); refused {
			return Refusal{Gate: UnsafeMethods, origin: firstLine(origin), origins: len(origin), method: r.Method, fetchSite: site}
		}
	}
	return Refusal{}
}

// IsWebSocketHandshake reports whether r opens a WebSocket as browsers do:
// over HTTP/1.1 a GET with Upgrade: websocket (RFC 6455); over HTTP/2 and
// HTTP/3 an extended CONNECT with :protocol websocket (RFC 8441, RFC 9220),
// which Go's HTTP/2 server exposes as a ":protocol" header and quic-go's
// HTTP/3 server as the request's Proto. Only a GET: a page cannot send
// Upgrade with any other method (it is a forbidden request header), and
// not looking for it saves every other request a header lookup.
func IsWebSocketHandshake(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet:
		upgrade, ok := r.Header["Upgrade"]
		// What browsers send, before the general case.
		return ok && (len(upgrade) == 1 && upgrade[0] == "websocket" || hasToken(upgrade, "websocket"))
	case http.MethodConnect:
		switch r.ProtoMajor {
		case 2:
			protocol := r.Header[":protocol"]
			return len(protocol) == 1 && strings.EqualFold(protocol[0], "websocket")
		case 3:
			return strings.EqualFold(r.Proto, "websocket")
		}
	}
	return false
}

// hasToken reports whether one of the comma-separated lists in values holds
// token, compared case-insensitively, as Upgrade is (RFC 9110 7.8).
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for v != "" {
			var elem string
			elem, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(strings.TrimSpace(elem), token) {
				return true
			}
		}
	}
	return false
}

// refusesWrite is Go 1.25's http.CrossOriginProtection.Check for a
// request with an unsafe method, without its bypass patterns
// (CVE-2025-47910): scope the gate with a request matcher instead. It gives
// the Sec-Fetch-Site that refused a request without Origin.
func refusesWrite(r *http.Request, origin []string, allowed bool) (string, bool) {
	// Fetch metadata: a browser that sends it tells cross-site from
	// same-origin itself.
	switch site := firstLine(r.Header["Sec-Fetch-Site"]); site {
	case "":
	case "same-origin", "none":
		return "", false
	default:
		return site, !allowed
	}
	// An older browser: Origin alone. Neither header: not a browser, or
	// one too old to be helped.
	return "", len(origin) > 0 && !ownOrAllowed(r, origin, allowed)
}

func firstLine(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return lines[0]
}

// ownOrAllowed reports whether a request's one Origin line is allowed or
// its own origin. Several Origin lines are never sent by a browser, and
// are neither.
func ownOrAllowed(r *http.Request, origin []string, allowed bool) bool {
	return allowed || len(origin) == 1 && IsOwnOrigin(origin[0], r.TLS != nil, r.Host)
}

// IsOwnOrigin reports whether origin is the origin of a request received
// over TLS or not, with Host host: the scheme from the connection, never
// from X-Forwarded-Proto (which any client can send; gorilla/csrf's
// CVE-2025-24358 read the scheme from the wrong place), the host compared
// case-insensitively, the scheme's default port elided on both sides.
// Scheme, host and port must all match (gorilla/csrf's CVE-2025-47909
// compared hosts only).
func IsOwnOrigin(origin string, tls bool, host string) bool {
	scheme, defaultPort := "http://", ":80"
	if tls {
		scheme, defaultPort = "https://", ":443"
	}
	rest, ok := strings.CutPrefix(origin, scheme)
	if !ok || host == "" {
		return false
	}
	if rest == host {
		// What a browser sends to a Host as it typed it: no more work.
		return true
	}
	host = strings.TrimSuffix(host, defaultPort)
	rest = strings.TrimSuffix(rest, defaultPort)
	// Browsers send the host in lower case, and so do most Host headers.
	return host != "" && (rest == host || strings.EqualFold(rest, host))
}

// Vary is the Vary of a refusal's answer: the request fields the gate
// judged.
func (r Refusal) Vary() string {
	if r.Gate == UnsafeMethods {
		return "Origin, Sec-Fetch-Site"
	}
	return "Origin"
}

// Reason is the refusal's reason, for logs, metrics and placeholders.
func (r Refusal) Reason() policy.Reason {
	switch r.Gate {
	case WebSocket:
		return ReasonWebSocketOrigin
	case UnsafeMethods:
		return ReasonUnsafeCrossOrigin
	}
	return ""
}

// Prefix starts the one-line body of a refusal's answer.
func (r Refusal) Prefix() string {
	if r.Gate == WebSocket {
		return "WebSocket handshake rejected: "
	}
	return "Cross-origin request rejected: "
}

// AppendMessage appends what was refused, for people, to b: the origin
// and, for a method, the method, each cut to policy.MaxValueLen visible
// ASCII bytes. Given a b with room for MessageLen more bytes, it does not
// allocate.
func (r Refusal) AppendMessage(b []byte) []byte {
	switch {
	case r.origins > 1:
		b = append(b, "a request with "...)
		b = strconv.AppendInt(b, int64(r.origins), 10)
		b = append(b, " Origin headers"...)
	case r.origins == 0:
		b = append(b, "a request with Sec-Fetch-Site "...)
		b = appendQuoted(b, r.fetchSite)
		b = append(b, " and no Origin"...)
	default:
		b = append(b, "origin "...)
		b = appendQuoted(b, r.origin)
	}
	if r.Gate == WebSocket {
		if r.origins > 1 {
			return append(b, " may not open a WebSocket"...)
		}
		return append(b, " is not allowed"...)
	}
	b = append(b, " may not send "...)
	return policy.AppendPrintable(b, r.method, policy.MaxValueLen, false)
}

func appendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	b = policy.AppendPrintable(b, s, policy.MaxValueLen, true)
	return append(b, '"')
}

// MessageLen bounds the length of what AppendMessage appends.
func (r Refusal) MessageLen() int {
	var n int
	switch {
	case r.origins > 1:
		n = len("a request with  Origin headers") + 20
	case r.origins == 0:
		n = len("a request with Sec-Fetch-Site  and no Origin") + quotedLen(r.fetchSite)
	default:
		n = len("origin ") + quotedLen(r.origin)
	}
	if r.Gate == WebSocket {
		return n + len(" may not open a WebSocket")
	}
	return n + len(" may not send ") + printableLen(r.method)
}

// printableLen bounds the length of s as policy.AppendPrintable writes it
// unquoted.
func printableLen(s string) int {
	if len(s) > policy.MaxValueLen {
		return policy.MaxValueLen + len("...")
	}
	return len(s)
}

// quotedLen bounds the length of s as appendQuoted writes it: each byte
// may be escaped (\" or \\).
func quotedLen(s string) int {
	return 2*printableLen(s) + len(`""`)
}
