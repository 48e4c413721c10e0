package origins

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// Pattern is one allowed origin of a policy: an exact origin, every
// subdomain of a host (https://*.example.com), a host on any port
// (http://localhost:*), or both (https://*.example.com:*).
type Pattern struct {
	Origin // for Subdomains, Host is the parent domain, without "*."

	// Subdomains matches one or more labels followed by "." and Host, so
	// a.example.com and a.b.example.com, never example.com itself (R14).
	Subdomains bool

	// AnyPort matches every port, the scheme's default port included.
	AnyPort bool
}

// String gives the pattern as it is written in a configuration.
func (p Pattern) String() string {
	host := p.Host
	if p.Subdomains {
		host = "*." + host
	}
	s := p.Scheme + "://" + host
	switch {
	case p.AnyPort:
		s += ":*"
	case p.Port != "":
		s += ":" + p.Port
	}
	return s
}

// ParsePattern reads one configured origin. It refuses what browsers never
// send or what no one can allow safely, and says what to write instead: the
// error shows the canonical spelling wherever there is one (R11-R14, R52).
// The any-origin value "*" is the policy's business, not a pattern.
func ParsePattern(s string) (Pattern, error) {
	lower := strings.ToLower(s)
	switch {
	case s == "":
		return Pattern{}, errors.New("empty origin: write scheme://host[:port], for example https://app.example.com")
	case lower == "null":
		return Pattern{}, errors.New(`origin "null" cannot be allowed: browsers send it from sandboxed iframes, file: pages and redirected requests, which any site can produce; remove it`)
	case strings.HasPrefix(lower, "file:"):
		return Pattern{}, fmt.Errorf("origin %q cannot be allowed: browsers send file: pages as the origin \"null\", which any site can produce; serve the page over http://localhost instead", s)
	case strings.Contains(s, ","):
		return Pattern{}, commaSeparated(s)
	case !strings.Contains(s, "://"):
		if fix := "https://" + strings.TrimSuffix(lower, "/"); validPattern(fix) {
			return Pattern{}, fmt.Errorf("origin %q has no scheme: write it as a browser sends it, for example %q", s, fix)
		}
		return Pattern{}, fmt.Errorf("origin %q has no scheme: write scheme://host[:port], for example https://app.example.com", s)
	}

	p, wellFormed := split(s)
	switch {
	case p.strayWildcard:
		return Pattern{}, fmt.Errorf("origin %q: a wildcard may only stand for the first labels (https://*.example.com) or the port (http://localhost:*)", s)
	case !wellFormed:
		return Pattern{}, notAnOrigin(s, p.Pattern)
	case p.AnyPort && p.Port != "":
		return Pattern{}, fmt.Errorf("origin %q has both a port and the port wildcard: write %q", s, Pattern{Origin: Origin{Scheme: p.Scheme, Host: p.Host}, Subdomains: p.Subdomains, AnyPort: true})
	}
	if label := invalidPunycodeLabel(p.Host); label != "" {
		return Pattern{}, fmt.Errorf("origin %q has the label %q, which is not valid Punycode: browsers refuse such a host, so no request can come from it; write the host as the browser's address bar shows it, converted with an IDNA tool", s, label)
	}
	if p.Subdomains {
		if err := checkParentDomain(s, p.Host); err != nil {
			return Pattern{}, err
		}
	}
	return p.Pattern, nil
}

// commaSeparated explains a list written as one value: the form other
// frameworks (and CORS_ORIGINS variables written for them) use.
func commaSeparated(s string) error {
	var parts []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			parts = append(parts, part)
		}
	}
	return fmt.Errorf("origin %q is a comma-separated list: origins are separated by spaces, also in an environment variable such as {$CORS_ORIGINS} (in JSON, one string each); write %s", s, strings.Join(parts, " "))
}

// invalidPunycodeLabel gives the first "xn--" label of host that does not
// decode to a valid internationalized label (one that encodes back to
// itself), or "" if there is none. A browser's URL parser refuses such a
// host, so no origin can ever carry it.
func invalidPunycodeLabel(host string) string {
	for _, label := range strings.Split(strings.TrimSuffix(host, "."), ".") {
		if !strings.HasPrefix(label, "xn--") {
			continue
		}
		unicode, err := idna.Punycode.ToUnicode(label)
		if err != nil || unicode == "" {
			return label
		}
		if ascii, err := idna.Lookup.ToASCII(unicode); err != nil || ascii != label {
			return label
		}
	}
	return ""
}

// splitPattern is a pattern taken apart, before any judgement.
type splitPattern struct {
	Pattern
	strayWildcard bool // a "*" where no wildcard may stand
}

// split takes the wildcards off s and parses what is left as an origin
// spelt as browsers send it. It explains nothing, so that
// canonicalSpelling can call it on a candidate without recursing.
func split(s string) (p splitPattern, wellFormed bool) {
	scheme, rest, _ := strings.Cut(s, "://")
	if after, ok := strings.CutPrefix(rest, "*."); ok {
		p.Subdomains, rest = true, after
	}
	if before, ok := strings.CutSuffix(rest, ":*"); ok {
		p.AnyPort, rest = true, before
	}
	if strings.Contains(rest, "*") {
		p.strayWildcard = true
		return p, false
	}
	o, ok := Parse(scheme + "://" + rest)
	if !ok || !canonicalIP(o.Host) {
		return p, false
	}
	p.Origin = o
	return p, true
}

// canonicalIP refuses IP addresses spelt otherwise than browsers serialize
// them: IPv4 in dotted decimal, IPv6 compressed per RFC 5952 (R11). A host
// whose last label is numeric is an IPv4 address to a browser's URL parser.
func canonicalIP(host string) bool {
	if strings.HasPrefix(host, "[") {
		ip, err := netip.ParseAddr(host[1 : len(host)-1])
		return err == nil && ip.Is6() && ip.Zone() == "" && "["+ip.String()+"]" == host
	}
	// The URL parser ignores a trailing dot here: "127.0.0.1." is 127.0.0.1.
	name := strings.TrimSuffix(host, ".")
	last := name[strings.LastIndexByte(name, '.')+1:]
	if strings.Trim(last, "0123456789") != "" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Is4() && ip.String() == host
}

// checkParentDomain refuses subdomain patterns over a public suffix, such
// as https://*.com or https://*.github.io, where anyone can register a
// subdomain (R52), and those no host name is short enough to match.
// *.localhost is fine: it only ever resolves to loopback.
func checkParentDomain(s, parent string) error {
	if ip, err := netip.ParseAddr(strings.Trim(parent, "[]")); err == nil {
		return fmt.Errorf("origin %q: subdomain patterns need a domain name, not the IP address %s", s, ip)
	}
	name := strings.TrimSuffix(parent, ".")
	if len("x.")+len(name) > maxHostLength {
		return fmt.Errorf("origin %q can never match: a subdomain of its %d-byte parent domain would be longer than the %d bytes a host name may have; name a shorter parent domain", s, len(name), maxHostLength)
	}
	if isPublicSuffix(name) {
		return fmt.Errorf("origin %q would allow every site under the public suffix %q, which anyone can register: name your own domain, for example %q", s, parent, strings.Replace(s, "*."+parent, "*.your-domain."+parent, 1))
	}
	if childrenArePublicSuffixes(name) {
		return fmt.Errorf("origin %q can never match: each name directly under %q is a public suffix of its own (the public suffix list has *.%s), so every host below it is another site, which the pattern does not match; name your own domain under one of them, for example %q", s, name, name, strings.Replace(s, "*."+parent, "*.your-domain.your-name."+parent, 1))
	}
	return nil
}

// childrenArePublicSuffixes reports whether every name directly under
// domain is a public suffix, as the list's wildcard rules make them
// (*.compute.amazonaws.com, *.sch.uk): a subdomain pattern over domain, which
// matches hosts only within the registrable domain it names, then
// matches nothing. The list's exception rules, which make a name under
// a wildcard registrable again, all name "www" or "city" (!www.ck,
// !city.kawasaki.jp); a made-up label stands for every other name.
func childrenArePublicSuffixes(domain string) bool {
	for _, label := range []string{"cors-probe-x", "www", "city"} {
		if !isPublicSuffix(label + "." + domain) {
			return false
		}
	}
	return true
}

// isPublicSuffix reports whether anyone can register names directly under
// domain, given without a trailing dot, according to the public suffix
// list (R52). localhost is not one: it only ever resolves to loopback.
func isPublicSuffix(domain string) bool {
	if domain == "localhost" {
		return false
	}
	suffix, _ := publicsuffix.PublicSuffix(domain)
	return suffix == domain
}

// notAnOrigin explains why s is not spelt as browsers serialize origins.
func notAnOrigin(s string, p Pattern) error {
	why := originFault(s)
	if fix, ok := canonicalSpelling(s, p); ok {
		if why == "is not an origin as browsers send it" {
			why = "is not spelt as browsers send it"
		}
		return fmt.Errorf("origin %q %s: browsers compare the origin byte for byte, write %q", s, why, fix)
	}
	return fmt.Errorf("origin %q %s: write scheme://host[:port], for example https://app.example.com", s, why)
}

// originFault says what makes s, written as scheme://..., other than an
// origin as browsers send it.
func originFault(s string) string {
	scheme, rest, _ := strings.Cut(s, "://")
	hostport, tail, _ := strings.Cut(rest, "/")
	port := defaultPort(strings.ToLower(scheme))
	switch {
	case strings.Contains(rest, "@"):
		return "has user info"
	case strings.Contains(rest, "?"):
		return "has a query"
	case strings.Contains(rest, "#"):
		return "has a fragment"
	case strings.Contains(rest, "/") && tail == "":
		return "ends with a slash"
	case strings.Contains(rest, "/"):
		return "has a path"
	case strings.ToLower(s) != s:
		return "is not lower case"
	case port != "" && strings.HasSuffix(hostport, ":"+port):
		return "has the default port " + port + ", which browsers leave out"
	case strings.IndexFunc(hostport, func(r rune) bool { return r > 0x7f }) >= 0:
		return "has a host that is not in Punycode"
	}
	return "is not an origin as browsers send it"
}

// canonicalSpelling gives the spelling of s that browsers would send, if
// s names an origin at all.
func canonicalSpelling(s string, p Pattern) (string, bool) {
	raw := strings.Replace(s, "*.", "", 1)
	raw = strings.TrimSuffix(raw, ":*")
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	if ip, err := netip.ParseAddr(host); err == nil {
		if host = ip.String(); ip.Is6() {
			host = "[" + host + "]"
		}
	} else if ip, err := netip.ParseAddr(strings.TrimSuffix(host, ".")); err == nil && ip.Is4() {
		host = ip.String() // the URL parser drops an IPv4 address's trailing dot
	} else if host, err = idna.Lookup.ToASCII(host); err != nil {
		return "", false
	}
	o := Origin{Scheme: strings.ToLower(u.Scheme), Host: host, Port: u.Port()}
	if n, err := strconv.Atoi(o.Port); err == nil {
		o.Port = strconv.Itoa(n) // no leading zeros
	}
	if o.Port == defaultPort(o.Scheme) {
		o.Port = ""
	}
	fix := Pattern{Origin: o, Subdomains: p.Subdomains, AnyPort: p.AnyPort && o.Port == ""}.String()
	return fix, fix != s && validPattern(fix)
}

// validPattern reports whether ParsePattern would accept s.
func validPattern(s string) bool {
	p, ok := split(s)
	return ok && !(p.AnyPort && p.Port != "") && invalidPunycodeLabel(p.Host) == "" &&
		(!p.Subdomains || checkParentDomain(s, p.Host) == nil)
}
