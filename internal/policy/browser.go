package policy

import (
	"net/http"
	"strings"

	"github.com/caddy-cors/cors/internal/headers"
	"github.com/caddy-cors/cors/internal/methods"
)

// Reasons a browser refuses a response that are not a policy's reasons
// for refusing a request: they come up when a response's CORS headers are
// judged (Judge), whoever wrote them.
const (
	// ReasonCredentials: a request with credentials met `*` in
	// Access-Control-Allow-Origin, or no Access-Control-Allow-Credentials:
	// true (R17, R18).
	ReasonCredentials Reason = "credentials"
	// ReasonStatus: a preflight's answer has no ok status (R7).
	ReasonStatus Reason = "status"
	// ReasonPrivateNetwork: a Private Network Access preflight's answer
	// has no Access-Control-Allow-Private-Network: true (R48); only older
	// Chromium sends such preflights.
	ReasonPrivateNetwork Reason = "private_network"
)

// BrowserRequest is what a server can see of a CORS request that matters
// to the browser's checks of its response.
type BrowserRequest struct {
	Kind   Kind
	Origin string // the first Origin field line
	// Credentialed: the request carries Cookie or Authorization, all a
	// server can see of the request's credentials mode. A preflight never
	// carries either, so it is judged without credentials.
	Credentialed bool

	// A preflight's Access-Control-Request-Method and -Headers field
	// lines, and whether it asks for private network access.
	Method         string
	RequestHeaders []string
	PrivateNetwork bool
}

// NewBrowserRequest gives what the browser's checks need of a request of
// kind with Origin field lines origin and header h (canonical keys).
func NewBrowserRequest(kind Kind, origin []string, h http.Header) BrowserRequest {
	req := BrowserRequest{Kind: kind}
	if len(origin) > 0 {
		req.Origin = origin[0]
	}
	if kind == Preflight {
		if m := h["Access-Control-Request-Method"]; len(m) > 0 {
			req.Method = m[0]
		}
		req.RequestHeaders = h["Access-Control-Request-Headers"]
		pna := h["Access-Control-Request-Private-Network"]
		req.PrivateNetwork = len(pna) == 1 && pna[0] == "true"
		return req
	}
	_, cookie := h["Cookie"]
	_, authorization := h["Authorization"]
	req.Credentialed = cookie || authorization
	return req
}

// JudgeHeader judges a response with status and header h as a browser
// would for req: Fetch's CORS check for every response and, for a
// preflight, its status, method, header and private network checks (R7,
// R9, R17-R23, R26, R31). It gives why the browser refuses the response,
// or "" when it lets the page read it, or passes the preflight.
func JudgeHeader(req *BrowserRequest, status int, h http.Header) Reason {
	return judge(req, status, func(name string) string {
		// Several field lines are read as one list (R9): two
		// Access-Control-Allow-Origin lines, even equal, fail.
		switch lines := h[name]; len(lines) {
		case 0:
			return ""
		case 1:
			return lines[0]
		default:
			return strings.Join(lines, ", ")
		}
	})
}

// Judge is JudgeHeader for the response r stands for, with status.
func (r *Response) Judge(req *BrowserRequest, status int) Reason {
	return judge(req, status, func(name string) string {
		switch name {
		case "Access-Control-Allow-Origin":
			return r.AllowOrigin
		case "Access-Control-Allow-Credentials":
			return r.AllowCredentials
		case "Access-Control-Allow-Methods":
			return r.AllowMethods
		case "Access-Control-Allow-Headers":
			return r.AllowHeaders
		case "Access-Control-Allow-Private-Network":
			return r.AllowPrivateNetwork
		}
		return ""
	})
}

// judge is the check of JudgeHeader, with value giving a response header
// by canonical name, "" when absent. An empty value and an absent header
// fail the same checks.
func judge(req *BrowserRequest, status int, value func(name string) string) Reason {
	// Fetch: CORS check.
	switch allowOrigin := headers.TrimOWS(value("Access-Control-Allow-Origin")); {
	case allowOrigin == "*" && req.Credentialed:
		return ReasonCredentials
	case allowOrigin == "*":
	case allowOrigin != req.Origin || allowOrigin == "":
		return ReasonOrigin
	case req.Credentialed && value("Access-Control-Allow-Credentials") != "true":
		return ReasonCredentials
	}
	if req.Kind != Preflight {
		return ""
	}
	if status < 200 || status > 299 {
		return ReasonStatus
	}
	if !allowsMethod(value("Access-Control-Allow-Methods"), req.Method, req.Credentialed) {
		return ReasonMethod
	}
	if !allowsHeaders(value("Access-Control-Allow-Headers"), req.RequestHeaders, req.Credentialed) {
		return ReasonHeader
	}
	if req.PrivateNetwork && value("Access-Control-Allow-Private-Network") != "true" {
		return ReasonPrivateNetwork
	}
	return ""
}

// allowsMethod is Fetch's method check of a preflight: a list that does
// not parse fails whatever was asked; a safelisted method passes; `*`
// covers any method without credentials; else the method must be listed,
// byte for byte (R21-R23, R26).
func allowsMethod(list, method string, credentialed bool) bool {
	wildcard, ok := parseList(list)
	switch {
	case !ok:
		return false
	case methods.IsSafelisted(method) || listHas(list, method, false):
		return true
	}
	return wildcard && !credentialed
}

// allowsHeaders is Fetch's header check of a preflight, given the
// Access-Control-Request-Headers lines: each name asked for must be listed,
// case-insensitively; `*` covers all but Authorization, and only without
// credentials (R31, R32).
func allowsHeaders(list string, requested []string, credentialed bool) bool {
	wildcard, ok := parseList(list)
	if !ok {
		return false
	}
	// An answer that echoes the request's list, as the policy's does,
	// lists every name.
	if len(requested) == 1 && strings.EqualFold(list, requested[0]) {
		return true
	}
	for _, line := range requested {
		for elem := range strings.SplitSeq(line, ",") {
			name := headers.TrimOWS(elem)
			if name == "" || listHas(list, name, true) {
				continue
			}
			if !wildcard || credentialed || strings.EqualFold(name, "Authorization") {
				return false
			}
		}
	}
	return true
}

// parseList reads a response's comma-separated list of tokens (R26): it
// reports whether the list holds `*`, and whether it parses: one element
// that is not a token fails the whole list. Empty elements are allowed, as
// in every HTTP list.
func parseList(list string) (wildcard, ok bool) {
	for elem := range strings.SplitSeq(list, ",") {
		switch elem = headers.TrimOWS(elem); {
		case elem == "":
		case !headers.IsToken(elem):
			return false, false
		case elem == "*":
			wildcard = true
		}
	}
	return wildcard, true
}

// listHas reports whether a list that parses holds name, byte for byte, or
// case-insensitively with fold.
func listHas(list, name string, fold bool) bool {
	for elem := range strings.SplitSeq(list, ",") {
		elem = headers.TrimOWS(elem)
		if elem == name || fold && strings.EqualFold(elem, name) {
			return true
		}
	}
	return false
}
