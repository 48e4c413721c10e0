package origins

import (
	"regexp"
	"strings"
	"sync"

	"golang.org/x/net/publicsuffix"
)

// Matcher decides whether a request's Origin is allowed. It costs the same
// with one configured origin or ten thousand: exact origins are a map
// lookup, and patterns and regular expressions are found by the request
// host's suffixes, one lookup per label. Only regular expressions with
// nothing to confine to a domain are tried one by one.
type Matcher struct {
	exact      map[string]struct{}
	subdomains map[string][]Pattern        // by parent domain
	anyPort    map[string][]Pattern        // by host
	unconfined []*regexp.Regexp            // regexps with nothing to confine, or nothing to confine to
	byDomain   map[string][]*regexp.Regexp // regexps by the domain the hosts of their ways end in

	publicSuffixes publicSuffixCache
}

// NewMatcher compiles patterns and regular expressions into a Matcher.
func NewMatcher(patterns []Pattern, regexps []*Regexp) *Matcher {
	m := &Matcher{
		exact:      make(map[string]struct{}),
		subdomains: make(map[string][]Pattern),
		anyPort:    make(map[string][]Pattern),
		byDomain:   make(map[string][]*regexp.Regexp),
	}
	for _, r := range regexps {
		switch {
		case r == nil:
		case r.byDomain == nil:
			// Every way writes out its host, or, loaded without
			// credentials after a warning, has no domain to stay within.
			m.unconfined = append(m.unconfined, r.re)
		default:
			for domain, re := range r.byDomain {
				m.byDomain[domain] = append(m.byDomain[domain], re)
			}
		}
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
	if len(m.subdomains) == 0 && len(m.anyPort) == 0 && len(m.unconfined) == 0 && len(m.byDomain) == 0 {
		return false
	}
	o, ok := Parse(origin)
	if !ok {
		return false
	}
	if m.matchesPattern(o) {
		return true
	}
	for _, re := range m.unconfined {
		if re.MatchString(origin) {
			return true
		}
	}
	return m.matchesRegexpWithinDomain(o.Host, origin)
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

// matchesRegexpWithinDomain reports whether a way through a regexp
// matches origin, whose host is host, and host lies within the
// registrable domain that way's hosts end in, as a subdomain pattern's
// host must (R52): the host itself, or one of its parent domains no
// shorter than its public suffix. Each way is judged on its own: a way
// that writes out blob.core.windows.net licenses no other way to match
// attacker.blob.core.windows.net.
func (m *Matcher) matchesRegexpWithinDomain(host, origin string) bool {
	if len(m.byDomain) == 0 {
		return false
	}
	name := strings.TrimSuffix(host, ".")
	publicSuffix := -1 // its length, once looked up
	for i := -1; i < len(name); i++ {
		if i >= 0 && name[i] != '.' {
			continue
		}
		regexps, ok := m.byDomain[name[i+1:]]
		if !ok {
			continue
		}
		if i >= 0 {
			if publicSuffix < 0 {
				publicSuffix = len(m.publicSuffixes.of(host))
			}
			if len(name)-i-1 < publicSuffix {
				return false // shorter parents are public suffixes too
			}
		}
		for _, re := range regexps {
			if re.MatchString(origin) {
				return true
			}
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
