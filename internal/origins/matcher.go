package origins

import (
	"hash/maphash"
	"math/rand/v2"
	"regexp"
	"strings"
	"sync/atomic"

	"golang.org/x/net/publicsuffix"
)

// Matcher decides whether a request's Origin is allowed. It costs the same
// with one configured origin or ten thousand: exact origins are a hash
// table lookup, and patterns and regular expressions are found by the request
// host's suffixes, one lookup per label. Only regular expressions with
// nothing to confine to a domain are tried one by one. The verdicts these
// reach are kept in a bounded cache, by origin.
type Matcher struct {
	seed       maphash.Seed // hashes a request's origin, once for exact and verdicts
	exact      originSet
	subdomains map[string][]Pattern        // by parent domain
	anyPort    map[string][]Pattern        // by host
	unconfined []*regexp.Regexp            // regexps with nothing to confine, or nothing to confine to
	byDomain   map[string][]*regexp.Regexp // regexps by the domain the hosts of their ways end in
	onlyExact  bool                        // none of the above but exact

	verdicts verdictCache
}

// NewMatcher compiles patterns and regular expressions into a Matcher.
func NewMatcher(patterns []Pattern, regexps []*Regexp) *Matcher {
	m := &Matcher{
		seed:       maphash.MakeSeed(),
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
	var exact []string
	for _, p := range patterns {
		switch {
		case p.Subdomains:
			m.subdomains[p.Host] = append(m.subdomains[p.Host], p)
		case p.AnyPort:
			m.anyPort[p.Host] = append(m.anyPort[p.Host], p)
		default:
			exact = append(exact, p.Origin.String())
		}
	}
	m.exact = newOriginSet(m.seed, exact)
	m.onlyExact = len(m.subdomains) == 0 && len(m.anyPort) == 0 && len(m.unconfined) == 0 && len(m.byDomain) == 0
	return m
}

// Allows reports whether origin, the raw value of a request's Origin
// header, is allowed. The comparison is byte for byte (R12): a browser never
// sends upper case or a default port, so neither matches.
//
// An origin that no exact origin names is looked up in the verdicts
// already reached before it is judged: a browser sends the same few
// origins again and again, and a pattern's verdict costs a public suffix
// lookup (R52) on top of parsing the origin and a map lookup per label of
// its host. From the cache, an origin a pattern or regexp allows costs one
// probe more than an exact one, with the same hash, and allocates nothing.
func (m *Matcher) Allows(origin string) bool {
	if len(origin) > MaxLength {
		return false // as Parse would: no allowed origin is longer, and it is not worth hashing
	}
	h := maphash.String(m.seed, origin)
	if m.exact.has(h, origin) {
		return true
	}
	if m.onlyExact {
		return false
	}
	if allowed, ok := m.verdicts.get(h, origin); ok {
		return allowed
	}
	allowed, lookedUp := m.judge(origin)
	// A refusal is kept only when it took a public suffix lookup, which
	// allocates: keeping every refusal would make each origin of a flood
	// of made-up ones allocate, where a refusal reached by parsing and map
	// lookups alone allocates nothing.
	if allowed || lookedUp {
		m.verdicts.put(h, origin, allowed)
	}
	return allowed
}

// judge is Allows without the exact origins and the cache. It reports
// also whether the verdict took a public suffix lookup.
func (m *Matcher) judge(origin string) (allowed, lookedUp bool) {
	o, ok := Parse(origin)
	if !ok {
		return false, false
	}
	suffix := publicSuffix{host: o.Host}
	if m.matchesPattern(o, &suffix) {
		return true, suffix.lookedUp
	}
	for _, re := range m.unconfined {
		if re.MatchString(origin) {
			return true, suffix.lookedUp
		}
	}
	return m.matchesRegexpWithinDomain(origin, &suffix), suffix.lookedUp
}

func (m *Matcher) matchesPattern(o Origin, suffix *publicSuffix) bool {
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
				return suffix.length() <= len(strings.TrimSuffix(parent, "."))
			}
		}
	}
	return false
}

// matchesRegexpWithinDomain reports whether a way through a regexp
// matches origin, whose host is suffix.host, and the host lies within the
// registrable domain that way's hosts end in, as a subdomain pattern's
// host must (R52): the host itself, or one of its parent domains no
// shorter than its public suffix. Each way is judged on its own: a way
// that writes out blob.core.windows.net licenses no other way to match
// attacker.blob.core.windows.net.
func (m *Matcher) matchesRegexpWithinDomain(origin string, suffix *publicSuffix) bool {
	if len(m.byDomain) == 0 {
		return false
	}
	name := strings.TrimSuffix(suffix.host, ".")
	for i := -1; i < len(name); i++ {
		if i >= 0 && name[i] != '.' {
			continue
		}
		regexps, ok := m.byDomain[name[i+1:]]
		if !ok {
			continue
		}
		if i >= 0 && len(name)-i-1 < suffix.length() {
			return false // shorter parents are public suffixes too
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

// publicSuffix looks up the public suffix of host, a domain name, at most
// once for one verdict, however many patterns and regexps ask for it.
type publicSuffix struct {
	host     string
	n        int
	lookedUp bool
}

// length is the length of the public suffix of s.host, without a
// trailing dot.
func (s *publicSuffix) length() int {
	if !s.lookedUp {
		suffix, _ := publicsuffix.PublicSuffix(strings.TrimSuffix(s.host, "."))
		s.n, s.lookedUp = len(suffix), true
	}
	return s.n
}

// verdictCache remembers the verdicts Allows reached beyond the exact
// origins, by origin. The Matcher never changes, so a verdict never goes
// stale, and a cached verdict is the very one judge would reach again.
//
// It is read on every request by every core, so reading it writes to no
// shared memory: no lock, no reader count. Each slot holds a pointer to an
// immutable verdict, loaded atomically and compared with the whole origin,
// so an origin that shares a slot with another never gets its verdict.
// The table has a fixed size: a flood of made-up origins replaces
// verdicts, at a lookup each, and never grows it. Slots come in sets of
// cacheWays, the set chosen by a hash of the origin, so that the few
// origins of a site rarely take each other's place.
type verdictCache struct {
	sets  int // sets in the table, a power of two; cachedVerdicts/cacheWays unless a test says
	table atomic.Pointer[verdictTable]
}

type verdictTable struct {
	sets [][cacheWays]atomic.Pointer[verdict]
}

type verdict struct {
	origin  string
	allowed bool
}

// cachedVerdicts bounds verdictCache: far more distinct origins than one
// site's frontends use. The table is 32 KB of slots, made when the first
// verdict is kept, and each verdict holds an origin of at most MaxLength
// bytes.
const cachedVerdicts = 4096

// cacheWays is the size of a set: four slots share a cache line, and a
// site's origins take each other's place only when five of them fall into
// one set of 1024.
const cacheWays = 4

func (c *verdictCache) get(h uint64, origin string) (allowed, ok bool) {
	t := c.table.Load()
	if t == nil {
		return false, false
	}
	set := t.set(h)
	for i := range set {
		if v := set[i].Load(); v != nil && v.origin == origin {
			return v.allowed, true
		}
	}
	return false, false
}

func (c *verdictCache) put(h uint64, origin string, allowed bool) {
	t := c.table.Load()
	if t == nil {
		sets := c.sets
		if sets == 0 {
			sets = cachedVerdicts / cacheWays
		}
		t = &verdictTable{sets: make([][cacheWays]atomic.Pointer[verdict], sets)}
		if !c.table.CompareAndSwap(nil, t) {
			t = c.table.Load()
		}
	}
	// The origin is part of a request header: keep a copy, not the header.
	v := &verdict{origin: strings.Clone(origin), allowed: allowed}
	set := t.set(h)
	for i := range set {
		if set[i].Load() == nil && set[i].CompareAndSwap(nil, v) {
			return
		}
	}
	// A full set gives up a verdict chosen at random: any rule that
	// depends on the origin alone would let two origins that collide take
	// each other's place on every request.
	set[rand.IntN(cacheWays)].Store(v)
}

// set is the set of slots for an origin whose hash is h, chosen by its
// high bits: the exact origins' table takes the low ones.
func (t *verdictTable) set(h uint64) *[cacheWays]atomic.Pointer[verdict] {
	return &t.sets[(h>>32)&uint64(len(t.sets)-1)]
}

// originSet holds the exact origins in a table of open addressing keyed
// by the hash Allows makes of a request's origin, which the verdict cache
// reuses: an origin a pattern allows then costs one probe more than an
// exact one, not a second hash. The table is at least twice as large as
// the set, and each slot keeps its origin's hash, so that a probe compares
// an origin only when the hashes agree.
type originSet struct {
	slots []originSlot
}

type originSlot struct {
	hash   uint64
	origin string // empty in an empty slot: no origin is empty
}

func newOriginSet(seed maphash.Seed, origins []string) originSet {
	if len(origins) == 0 {
		return originSet{}
	}
	size := 2
	for size < 2*len(origins) {
		size *= 2
	}
	s := originSet{slots: make([]originSlot, size)}
	for _, origin := range origins {
		h := maphash.String(seed, origin)
		if !s.has(h, origin) {
			s.slots[s.free(h)] = originSlot{hash: h, origin: origin}
		}
	}
	return s
}

// has reports whether origin, whose hash is h, is in s.
func (s originSet) has(h uint64, origin string) bool {
	if len(s.slots) == 0 {
		return false
	}
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		slot := &s.slots[i]
		if slot.hash == h && slot.origin == origin {
			return true
		}
		if slot.origin == "" {
			return false
		}
	}
}

// free is the first empty slot from the one h names on.
func (s originSet) free(h uint64) uint64 {
	mask := uint64(len(s.slots) - 1)
	i := h & mask
	for s.slots[i].origin != "" {
		i = (i + 1) & mask
	}
	return i
}
