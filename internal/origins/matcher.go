package origins

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"golang.org/x/net/publicsuffix"
)

// Matcher decides whether a request's Origin is allowed. It costs the same
// with one configured origin or ten thousand: exact origins are a map
// lookup, patterns are found by the request host's suffixes, one lookup per
// label, and only regular expressions are tried one by one.
type Matcher struct {
	exact      map[string]struct{}
	subdomains map[string][]Pattern // by parent domain
	anyPort    map[string][]Pattern // by host
	regexps    []*regexp.Regexp
	domains    [][]string // by regexp: the domains its ways through end in

	publicSuffixes publicSuffixCache
}

// NewMatcher compiles patterns and regular expressions into a Matcher.
func NewMatcher(patterns []Pattern, regexps []*regexp.Regexp) *Matcher {
	m := &Matcher{
		exact:      make(map[string]struct{}),
		subdomains: make(map[string][]Pattern),
		anyPort:    make(map[string][]Pattern),
		regexps:    regexps,
	}
	for _, re := range regexps {
		var domains []string
		if re != nil {
			// nil for a regexp whose hosts end in no domain, loaded without
			// credentials after a warning: nothing to stay within.
			domains, _ = regexpDomains(re.String())
		}
		m.domains = append(m.domains, domains)
	}
	for _, p := range patterns {
		switch {
		case p.Subdomains:
			m.subdomains[p.Host] = append(m.subdomains[p.Host], p)
		case p.AnyPort:
			m.anyPort[p.Host] = append(m.anyPort[p.Host], p)
		default:
			m.exact[p.Origin.String()] = struct{}{}
		}
	}
	return m
}

// Allows reports whether origin, the raw value of a request's Origin
// header, is allowed. The comparison is byte for byte (R12): a browser never
// sends upper case or a default port, so neither matches.
func (m *Matcher) Allows(origin string) bool {
	if _, ok := m.exact[origin]; ok {
		return true
	}
	if len(m.subdomains) == 0 && len(m.anyPort) == 0 && len(m.regexps) == 0 {
		return false
	}
	o, ok := Parse(origin)
	if !ok {
		return false
	}
	if m.matchesPattern(o) {
		return true
	}
	for i, re := range m.regexps {
		if re.MatchString(origin) && m.withinDomains(o.Host, m.domains[i]) {
			return true
		}
	}
	return false
}

func (m *Matcher) matchesPattern(o Origin) bool {
	for _, p := range m.anyPort[o.Host] {
		if p.Scheme == o.Scheme {
			return true
		}
	}
	if len(m.subdomains) == 0 {
		return false
	}
	// Every proper suffix of the host that starts after a dot is a parent
	// domain the host is a subdomain of; Parse guarantees non-empty labels.
	for i := 0; i < len(o.Host); i++ {
		if o.Host[i] != '.' {
			continue
		}
		parent := o.Host[i+1:]
		for _, p := range m.subdomains[parent] {
			if p.Scheme == o.Scheme && (p.AnyPort || p.Port == o.Port) {
				return len(m.publicSuffixes.of(o.Host)) <= len(strings.TrimSuffix(parent, "."))
			}
		}
	}
	return false
}

// withinDomains reports whether host lies within the registrable domain
// of one of domains, as a subdomain pattern's host must (R52).
func (m *Matcher) withinDomains(host string, domains []string) bool {
	if domains == nil {
		return true
	}
	name := strings.TrimSuffix(host, ".")
	for _, d := range domains {
		if name == d || strings.HasSuffix(name, "."+d) && len(m.publicSuffixes.of(host)) <= len(d) {
			return true
		}
	}
	return false
}

// A subdomain pattern matches a host only within the registrable domain
// its parent names: bucket.s3.amazonaws.com is a site of its own,
// registered under the public suffix s3.amazonaws.com, not a part of
// amazonaws.com (R52). A pattern over a public suffix is refused when it
// loads; the public suffixes below its parent, which no configuration
// check can list, are looked up for each host a pattern matches.

// publicSuffixCache remembers the public suffix of the hosts patterns
// matched. The lookup allocates (it first tries the host as an IP address,
// and that error escapes), and the allowed path must not; the cache is
// bounded, so that a stream of made-up hosts costs a lookup each, never
// memory.
type publicSuffixCache struct {
	mu     sync.RWMutex
	byHost map[string]string
}

// maxCachedHosts bounds publicSuffixCache: far more distinct subdomains
// than one site's frontends use.
const maxCachedHosts = 4096

// of gives the public suffix of host, a domain name, without a trailing dot.
func (c *publicSuffixCache) of(host string) string {
	c.mu.RLock()
	suffix, ok := c.byHost[host]
	c.mu.RUnlock()
	if ok {
		return suffix
	}
	suffix, _ = publicsuffix.PublicSuffix(strings.TrimSuffix(host, "."))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byHost == nil {
		c.byHost = make(map[string]string)
	}
	if len(c.byHost) >= maxCachedHosts {
		// Start afresh rather than stop caching: a flood of made-up hosts
		// must not keep the real ones out for good.
		clear(c.byHost)
	}
	// Both are parts of a request header: keep copies, not the header.
	c.byHost[strings.Clone(host)] = strings.Clone(suffix)
	return suffix
}

// CompileRegexp compiles a configured origin regular expression, anchored
// so that it must match the whole origin. It compiles the expression as
// written first: "a)|(b" would compile once wrapped in the anchors, as an
// alternation that escapes them. An expression that matches "null" is
// refused: any site can make a browser send that origin (R13).
func CompileRegexp(expr string) (*regexp.Regexp, error) {
	if _, err := regexp.Compile(expr); err != nil {
		return nil, fmt.Errorf("origin_regexp %q does not compile: %v", expr, err)
	}
	re, err := regexp.Compile(`^(?:` + expr + `)$`)
	if err != nil {
		return nil, fmt.Errorf("origin_regexp %q does not compile: %v", expr, err)
	}
	if re.MatchString("null") {
		return nil, fmt.Errorf(`origin_regexp %q matches the origin "null", which any site can produce: make it match only scheme://host origins, for example https://[a-z0-9-]+\.example\.com`, expr)
	}
	return re, nil
}
