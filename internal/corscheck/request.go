package corscheck

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/caddy-cors/cors/internal/headers"
	"github.com/caddy-cors/cors/internal/methods"
)

// Request describes the fetch() a script would make.
type Request struct {
	// URL is the absolute http or https URL fetched.
	URL string
	// Origin is the serialized origin of the page making the request,
	// such as https://app.example.com, or null.
	Origin string
	// Method defaults to GET.
	Method string
	// Headers are set by the script, in order.
	Headers []Header
	// Credentials is fetch's credentials: 'include' (or XHR's withCredentials).
	Credentials bool
	// BodyType is the Content-Type of the body the script sends, if any.
	BodyType string
	// Browser is the engine whose console message and preflight cache the
	// report follows; "" is Chromium.
	Browser Browser
	// Send makes the actual request even when its method may change data
	// on the server (any method but GET and HEAD). Without it the check
	// stops after the preflight, where CORS decides for such a request.
	Send bool
}

// Header is one request or response field line.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// httpWhitespace is what Fetch strips from header values when it
// normalizes them.
const httpWhitespace = " \t\r\n"

// preparedRequest is a Request after the checks fetch() itself makes
// before anything is sent.
type preparedRequest struct {
	url    *url.URL
	origin string
	method string
	// headers are what the browser sends: forbidden names dropped,
	// repeated names combined with ", ".
	headers     []Header
	credentials bool
	browser     Browser
	send        bool
	// dropped explains each header a script cannot set.
	dropped []string
	// sameOrigin: no CORS at all.
	sameOrigin bool
}

// prepare validates r the way fetch() does, so that a request a browser
// would refuse to make is a usage error rather than a verdict.
func (r Request) prepare() (preparedRequest, error) {
	p := preparedRequest{credentials: r.Credentials, send: r.Send}
	browser, err := ParseBrowser(string(r.Browser))
	if err != nil {
		return p, err
	}
	p.browser = browser

	if guess := withScheme(r.URL); guess != "" {
		return p, fmt.Errorf("url %q has no scheme; did you mean %s", r.URL, guess)
	}
	u, err := url.Parse(r.URL)
	if err != nil {
		return p, fmt.Errorf("invalid url %q: %v", r.URL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return p, fmt.Errorf("url %q: only http and https URLs can be checked", r.URL)
	}
	if u.Host == "" {
		return p, fmt.Errorf("url %q has no host", r.URL)
	}
	// Fetch: a Request whose URL includes credentials is a TypeError.
	if u.User != nil {
		return p, fmt.Errorf("url %q includes credentials, which fetch() refuses", r.URL)
	}
	u.Fragment, u.RawFragment = "", "" // never sent
	if u.Path == "" {
		u.Path = "/" // how browsers serialize the URL (and print it)
	}
	p.url = u

	if r.Origin == "" {
		return p, errors.New("--origin is required: the origin of the page making the request, such as https://app.example.com")
	}
	canonical, err := serializeOrigin(r.Origin)
	if err != nil {
		return p, err
	}
	if canonical != r.Origin {
		return p, fmt.Errorf("origin %q is not how a browser writes it; it would send %q", r.Origin, canonical)
	}
	p.origin = canonical
	if target, _ := serializeOrigin(u.Scheme + "://" + u.Host); target == canonical {
		p.sameOrigin = true
	}

	method := r.Method
	if method == "" {
		method = "GET"
	}
	if !headers.IsToken(method) {
		return p, fmt.Errorf("method %q is not a valid HTTP token", method)
	}
	// Fetch: forbidden methods throw a TypeError in fetch().
	if methods.IsForbidden(method) {
		return p, fmt.Errorf("method %s is forbidden: fetch() refuses it", method)
	}
	p.method = methods.Normalize(method)

	if r.BodyType != "" && (p.method == "GET" || p.method == "HEAD") {
		return p, fmt.Errorf("--body-type with %s: fetch() refuses a body on a GET or HEAD request", p.method)
	}

	all := r.Headers
	if r.BodyType != "" {
		for _, h := range r.Headers {
			if strings.EqualFold(strings.TrimSpace(h.Name), "content-type") {
				return p, errors.New("give the body's type either with --body-type or with a Content-Type header, not both")
			}
		}
		// fetch() sets Content-Type from the body, and it counts like
		// any header the script sets.
		all = append(slices.Clone(all), Header{Name: "Content-Type", Value: r.BodyType})
	}
	index := map[string]int{}
	for _, h := range all {
		name := strings.TrimSpace(h.Name)
		if !headers.IsToken(name) {
			return p, fmt.Errorf("header name %q is not a valid HTTP token", h.Name)
		}
		value := strings.Trim(h.Value, httpWhitespace)
		if strings.ContainsAny(value, "\x00\r\n") {
			return p, fmt.Errorf("header %s: a value cannot contain NUL, CR or LF", name)
		}
		lower := strings.ToLower(name)
		if why := forbiddenRequestHeader(lower, value); why != "" {
			p.dropped = append(p.dropped, why)
			continue
		}
		// Blink keeps one value per name, combining repeats with ", ",
		// and checks the combined value against the safelist.
		if i, ok := index[lower]; ok {
			p.headers[i].Value += ", " + value
			continue
		}
		index[lower] = len(p.headers)
		p.headers = append(p.headers, Header{Name: name, Value: value})
	}
	return p, nil
}

// withScheme guesses the URL meant by one written without a scheme
// (localhost:8080/x, api.example.com/items), or returns "": http for
// loopback and IP literals, which are seldom served over HTTPS, https for
// any other name.
func withScheme(raw string) string {
	if strings.Contains(raw, "://") {
		return ""
	}
	u, err := url.Parse("http://" + raw)
	if err != nil || u.Host == "" || u.User != nil {
		return ""
	}
	host := u.Hostname()
	if host == "localhost" || strings.HasSuffix(host, ".localhost") || net.ParseIP(host) != nil {
		return u.String()
	}
	if !strings.Contains(host, ".") {
		return "" // not a name this could be a guess of
	}
	u.Scheme = "https"
	return u.String()
}

// forbiddenRequestHeader explains why a script cannot set name (Fetch's
// forbidden request-header), or returns "" when it can. Browsers drop such
// headers silently; they never reach the preflight decision.
func forbiddenRequestHeader(lower, value string) string {
	switch {
	case strings.HasPrefix(lower, "proxy-") || strings.HasPrefix(lower, "sec-"):
		return lower + " starts with " + lower[:strings.IndexByte(lower, '-')+1] +
			": a forbidden request-header a script cannot set; the browser drops it"
	case headers.IsForbiddenRequestHeader(lower):
		return lower + " is a forbidden request-header: a script cannot set it and the browser drops it"
	case lower == "x-http-method", lower == "x-http-method-override", lower == "x-method-override":
		for _, m := range strings.Split(value, ",") {
			if methods.IsForbidden(strings.Trim(m, httpWhitespace)) {
				return lower + " names a forbidden method: the browser drops it"
			}
		}
	}
	return ""
}

// serializeOrigin returns the origin as a browser serializes it in the
// Origin header: lower-case scheme and host, no default port, no path.
func serializeOrigin(origin string) (string, error) {
	if origin == "null" {
		return origin, nil // opaque origins: sandboxed iframes, file: pages
	}
	u, err := url.Parse(origin)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" {
		return "", fmt.Errorf("origin %q is not a serialized origin: write scheme://host[:port], e.g. https://app.example.com", origin)
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return "", fmt.Errorf("origin %q has more than scheme://host[:port]; a browser would send %q",
			origin, strings.ToLower(u.Scheme)+"://"+strings.ToLower(u.Host))
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	port := u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if port != "" {
		return scheme + "://" + host + ":" + port, nil
	}
	return scheme + "://" + host, nil
}
