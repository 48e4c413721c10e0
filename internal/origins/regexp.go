package origins

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Regexp is a configured origin regular expression, compiled and judged
// once when it loads: each way through it (each choice of its
// alternations and optional parts) is written out as a sequence of fixed
// characters and variable parts, and judged on its own.
type Regexp struct {
	expr string
	re   *regexp.Regexp // anchored: matches the whole origin

	ways []way
	// hostsErr is CheckHosts' finding: a way whose hosts end in no
	// registrable domain, or in a public suffix.
	hostsErr error
	// byDomain holds the domains the ways' hosts end in, each with the
	// ways that end in it as one anchored expression: an origin is
	// allowed only by a way whose domain it lies within, so that a way
	// that writes out a host under a public suffix licenses no other way
	// to match below it. With a single domain, that expression is re
	// itself. It is nil when there is nothing to stay within (hostsErr)
	// or nothing to confine (every way writes out its host in full).
	byDomain map[string]*regexp.Regexp
}

// String gives the expression as configured.
func (r *Regexp) String() string { return r.expr }

// MatchString reports whether s, a whole origin, matches the expression,
// wherever its hosts lie.
func (r *Regexp) MatchString(s string) bool { return r.re.MatchString(s) }

// CompileRegexp compiles a configured origin regular expression, anchored
// so that it must match the whole origin, and judges each way through it.
// It parses the expression as written first: "a)|(b" would compile once
// wrapped in the anchors, as an alternation that escapes them. An
// expression that matches "null" is refused: any site can make a browser
// send that origin (R13). So is one with a way through it that no origin
// can take (a path, upper case, a default port), which would otherwise
// load and never match.
func CompileRegexp(expr string) (*Regexp, error) {
	parsed, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, fmt.Errorf("origin_regexp %q does not compile: %v", expr, err)
	}
	// Judged before it is compiled, which costs in proportion to its
	// program: x{1000} is a thousand copies of x.
	if minLength(parsed) > MaxLength {
		return nil, fmt.Errorf("origin_regexp %q can never match: whatever it matches is longer than %d bytes, longer than any origin a browser sends", expr, MaxLength)
	}
	if size := progSize(parsed); size > maxProgSize {
		return nil, fmt.Errorf("origin_regexp %q is too large: its repetitions make a program of about %d steps, more than the %d any origin needs (an origin is at most %d bytes); bound each repetition by what an origin can hold, such as [a-z0-9-]{1,63} for a label", expr, size, maxProgSize, MaxLength)
	}
	if size := repeatedSize(parsed); size > maxRepeatedSize {
		return nil, fmt.Errorf("origin_regexp %q repeats too much: its counted repetitions make about %d steps of program, more than %d, and each request's origin can keep every copy busy at once; bound each repetition by what an origin can hold, such as [a-z0-9-]{1,63} for a label, and repeat no part that can match nothing: x? repeated {0,n} is x{0,n}", expr, size, maxRepeatedSize)
	}
	re, err := compileAnchored(expr)
	if err != nil {
		return nil, fmt.Errorf("origin_regexp %q does not compile: %v", expr, err)
	}
	if re.MatchString("null") {
		return nil, fmt.Errorf(`origin_regexp %q matches the origin "null", which any site can produce: make it match only scheme://host origins, for example https://[a-z0-9-]+\.example\.com`, expr)
	}
	r := &Regexp{expr: expr, re: re}
	r.ways = newExpander().expand(parsed)
	for _, w := range r.ways {
		if err := w.neverMatches(expr, len(r.ways) == 1); err != nil {
			return nil, err
		}
	}
	if err := r.groupByDomain(); err != nil {
		return nil, err
	}
	return r, nil
}

// compileAnchored compiles expr, which compiled as written, so that it
// matches only a whole origin.
func compileAnchored(expr string) (*regexp.Regexp, error) {
	return regexp.Compile(`^(?:` + expr + `)$`)
}

// CheckHosts reports whether the expression can match hosts outside a
// domain its author controls: one whose host part ends in no fixed
// registrable domain (https://.*, https?://[^/]+) or in a public suffix
// (https://[a-z0-9-]+\.github\.io), where anyone can register a name
// (R52). With credentials such an expression is refused; without, it is
// worth a warning.
func (r *Regexp) CheckHosts() error { return r.hostsErr }

// maxGroupSize bounds the size, in compiled instructions, of the
// expressions that confine each domain's ways to it; the ways of an
// expression that ends in several domains are compiled again, one
// expression per domain, and a product of ways would copy its parts.
const maxGroupSize = 1 << 14

// groupByDomain judges the host of each way and, when every way ends in a
// registrable domain and some way's host is not written out in full,
// builds byDomain. A way whose host is written out in full matches only
// that host, which is its own domain.
func (r *Regexp) groupByDomain() error {
	domains := make([]string, len(r.ways))
	allWritten := true
	for i, w := range r.ways {
		d, written, err := checkBranchHost(r.expr, w.pieces)
		if err != nil {
			r.hostsErr = err
			return nil
		}
		domains[i], allWritten = d, allWritten && written
	}
	if allWritten {
		return nil
	}
	byDomain := make(map[string][]int)
	var order []string
	for i, d := range domains {
		if _, ok := byDomain[d]; !ok {
			order = append(order, d)
		}
		byDomain[d] = append(byDomain[d], i)
	}
	r.byDomain = make(map[string]*regexp.Regexp, len(order))
	if len(order) == 1 {
		r.byDomain[order[0]] = r.re
		return nil
	}
	size := 0
	for _, w := range r.ways {
		for _, part := range w.parts {
			size += progSize(part)
		}
	}
	// Written out, the expressions count too, checked way by way so that
	// no more is written than the bound allows.
	exprs := make([]string, len(order))
	written := 0
	for k, d := range order {
		var b strings.Builder
		for j, i := range byDomain[d] {
			if size+(written+b.Len())/bytesPerStep > maxGroupSize {
				break
			}
			if j > 0 {
				b.WriteByte('|')
			}
			for _, part := range r.ways[i].parts {
				writeSyntax(&b, part)
			}
		}
		exprs[k] = b.String()
		written += b.Len()
	}
	if size += written / bytesPerStep; size > maxGroupSize {
		// Judged as one whose hosts cannot be confined: refused with
		// credentials, a warning without.
		r.hostsErr = fmt.Errorf("origin_regexp %q has %d ways through it, ending in %d domains: too many to keep each way within its own domain; split it into several origin_regexp values, for example one per domain", r.expr, len(r.ways), len(order))
		r.byDomain = nil
		return nil
	}
	for k, d := range order {
		re, err := compileAnchored(exprs[k])
		if err != nil {
			return fmt.Errorf("origin_regexp %q: its ways ending in %q do not compile on their own: %v; split it into one origin_regexp per domain", r.expr, d, err)
		}
		r.byDomain[d] = re
	}
	return nil
}

// bytesPerStep is how many bytes of the expressions written out for
// byDomain count as one step against maxGroupSize: a class such as
// [^\pN] is one step of a program but hundreds of ranges written out,
// each parsed again when the expression is compiled.
const bytesPerStep = 8

// writeSyntax writes re to b as an expression that matches exactly what
// re matches, each part in a group of its own. It does the work of
// (*syntax.Regexp).String without its cost: that works out the fewest
// flags to print by folding the case of every character of each class,
// about a million for [^.], milliseconds for each class it prints.
func writeSyntax(b *strings.Builder, re *syntax.Regexp) {
	switch re.Op {
	case syntax.OpNoMatch:
		b.WriteString(`[^\x00-\x{10FFFF}]`)
	case syntax.OpEmptyMatch:
		b.WriteString(`(?:)`)
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			b.WriteString(`(?i:`)
		} else {
			b.WriteString(`(?:`)
		}
		for _, r := range re.Rune {
			writeRune(b, r)
		}
		b.WriteByte(')')
	case syntax.OpCharClass:
		if len(re.Rune) == 0 {
			b.WriteString(`[^\x00-\x{10FFFF}]`)
			break
		}
		// The class holds every character it matches, case folded
		// already when it was parsed: written without flags.
		b.WriteByte('[')
		for i := 0; i < len(re.Rune); i += 2 {
			writeRune(b, re.Rune[i])
			if re.Rune[i+1] != re.Rune[i] {
				b.WriteByte('-')
				writeRune(b, re.Rune[i+1])
			}
		}
		b.WriteByte(']')
	case syntax.OpAnyCharNotNL:
		b.WriteString(`(?-s:.)`)
	case syntax.OpAnyChar:
		b.WriteString(`(?s:.)`)
	case syntax.OpBeginLine:
		b.WriteString(`(?m:^)`)
	case syntax.OpEndLine:
		b.WriteString(`(?m:$)`)
	case syntax.OpBeginText:
		b.WriteString(`\A`)
	case syntax.OpEndText:
		b.WriteString(`\z`)
	case syntax.OpWordBoundary:
		b.WriteString(`\b`)
	case syntax.OpNoWordBoundary:
		b.WriteString(`\B`)
	case syntax.OpCapture:
		writeSyntax(b, re.Sub[0])
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		b.WriteString(`(?:`)
		writeSyntax(b, re.Sub[0])
		b.WriteByte(')')
		switch re.Op {
		case syntax.OpStar:
			b.WriteByte('*')
		case syntax.OpPlus:
			b.WriteByte('+')
		case syntax.OpQuest:
			b.WriteByte('?')
		default:
			b.WriteString("{" + strconv.Itoa(re.Min) + ",")
			if re.Max >= 0 {
				b.WriteString(strconv.Itoa(re.Max))
			}
			b.WriteByte('}')
		}
		if re.Flags&syntax.NonGreedy != 0 {
			b.WriteByte('?')
		}
	case syntax.OpConcat:
		b.WriteString(`(?:`)
		for _, sub := range re.Sub {
			writeSyntax(b, sub)
		}
		b.WriteByte(')')
	case syntax.OpAlternate:
		b.WriteString(`(?:`)
		for i, sub := range re.Sub {
			if i > 0 {
				b.WriteByte('|')
			}
			writeSyntax(b, sub)
		}
		b.WriteByte(')')
	default:
		// Not an operator syntax.Parse produces: written as the
		// package writes it.
		b.WriteString(`(?:` + re.String() + `)`)
	}
}

// writeRune writes r so that it stands for itself, in or out of a class.
func writeRune(b *strings.Builder, r rune) {
	if r < utf8.RuneSelf && ('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
		b.WriteRune(r)
		return
	}
	b.WriteString(`\x{`)
	b.WriteString(strconv.FormatInt(int64(r), 16))
	b.WriteByte('}')
}

// maxProgSize bounds the program of an origin regular expression, as
// progSize counts it: far more than an expression of origins needs, and
// small enough to compile in a few milliseconds.
const maxProgSize = 1 << 15

// maxRepeatedSize bounds the steps of program that counted repetitions
// copy, as repeatedSize counts them. Matching costs at most the length of
// the origin times the steps that can be busy at once, and the copies of
// a repetition can all be: (?:[a-z.]?){0,999} before a domain kept a
// thousand busy for each character, and fifteen such optional classes
// 66 ms for one origin. Labels bounded as an origin holds them,
// (?:[a-z0-9-]{1,63}\.){0,4}, compile to 510.
const maxRepeatedSize = 1 << 10

// repeatedSize counts the instructions that counted repetitions compile
// to, which can all be busy at once: progSize counts (?:[a-z.]?){0,20}
// nested in {0,20} as 882 steps, but it compiles to 1,201.
func repeatedSize(re *syntax.Regexp) int {
	if re.Op == syntax.OpRepeat {
		// It compiles to at least what progSize counts: one too large
		// is not compiled.
		if size := progSize(re); size > maxRepeatedSize {
			return size
		}
		prog, err := syntax.Compile(re.Simplify())
		if err != nil {
			return maxProgSize + 1
		}
		return len(prog.Inst)
	}
	size := 0
	for _, sub := range re.Sub {
		size = min(size+repeatedSize(sub), maxProgSize+1)
	}
	return size
}

// progSize estimates how many instructions re compiles to, counting each
// repetition's copies. It stops counting beyond maxProgSize.
func progSize(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpLiteral:
		return len(re.Rune)
	case syntax.OpRepeat:
		n := re.Max
		if n < re.Min {
			n = re.Min + 1
		}
		return min((n+1)*progSize(re.Sub[0]), maxProgSize+1)
	}
	size := 1
	for _, sub := range re.Sub {
		size = min(size+progSize(sub), maxProgSize+1)
	}
	return size
}

// minLength gives the length of the shortest string re matches, or
// more than MaxLength when that is longer than any origin.
func minLength(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpLiteral:
		return len(re.Rune)
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1
	case syntax.OpCapture, syntax.OpPlus:
		return minLength(re.Sub[0])
	case syntax.OpRepeat:
		return min(re.Min*minLength(re.Sub[0]), MaxLength+1)
	case syntax.OpConcat:
		n := 0
		for _, sub := range re.Sub {
			n = min(n+minLength(sub), MaxLength+1)
		}
		return n
	case syntax.OpAlternate:
		n := MaxLength + 1
		for _, sub := range re.Sub {
			n = min(n, minLength(sub))
		}
		return n
	}
	return 0
}

// CanMatchPlainHTTP reports whether some way through the expression can
// match an http:// origin whose host it does not write out as one that
// isLoopback accepts: over plain http, anyone on the network path can pose
// as such an origin.
func (r *Regexp) CanMatchPlainHTTP(isLoopback func(host string) bool) bool {
	for _, w := range r.ways {
		scheme, host, found := splitScheme(w.pieces)
		if !found {
			return true // no scheme written out: http among others
		}
		if written := fixedSuffix(scheme); len(written) == len(scheme) && written != "http" {
			continue // https, or another scheme written out in full
		}
		if written := fixedSuffix(host); strings.HasSuffix(written, ".localhost") ||
			len(written) == len(host) && isLoopback(written) {
			continue
		}
		return true
	}
	return false
}

// splitScheme gives the scheme and the host, without its port, of one way
// through an expression: the host starts after the last fixed "://", and
// only there is a ':' the port's (https:.* has its ':' in the scheme).
// Without a fixed "://" the whole way is taken as the host, and only a
// ':' followed by fixed digits as a port.
func splitScheme(branch []piece) (scheme, host []piece, found bool) {
	i := lastFixed(branch, "://")
	if i < 0 {
		return nil, withoutPort(branch, false), false
	}
	return branch[:i], withoutPort(branch[i+len("://"):], true), true
}

// checkBranchHost judges the host of one way through an expression, and
// gives the domain its hosts end in, and whether it writes out the host
// in full.
func checkBranchHost(expr string, branch []piece) (domain string, written bool, err error) {
	_, host, _ := splitScheme(branch)
	suffix := fixedSuffix(host)
	if len(host) > 0 && !host[0].variable && host[0].fixed == '[' && (len(suffix) != len(host) || !strings.HasSuffix(suffix, "]")) {
		return "", false, fmt.Errorf("origin_regexp %q matches IPv6 hosts it does not write out: write each address out in full, or list exact origins such as http://[::1]:8080", expr)
	}
	if last := suffix[strings.LastIndexByte(suffix, '.')+1:]; len(suffix) != len(host) && last != "" && strings.Trim(last, "0123456789") == "" {
		return "", false, fmt.Errorf("origin_regexp %q matches IP addresses it does not write out, which have no registrable domain to stay within: list exact origins such as https://192.0.2.1", expr)
	}
	if len(suffix) == len(host) {
		return strings.TrimSuffix(suffix, "."), true, nil
	}
	// The variable part may end inside the first label of the fixed
	// suffix ([a-z]+example\.com matches evilexample.com), so only what
	// follows its first dot is fixed as a domain, unless the host's one
	// variable part always ends with a dot: ([a-z]+\.)*example\.com.
	_, domain, found := strings.Cut(suffix, ".")
	if len(host) == len(suffix)+1 && host[0].endsWithDot {
		domain, found = suffix, true
	}
	domain = strings.TrimSuffix(domain, ".")
	if !found || domain == "" {
		if hasBounded(host) {
			return "", false, fmt.Errorf("origin_regexp %q combines more alternatives and optional parts than can be judged one by one (over %d ways through it), so part of its host counts as matching anything: split it into several origin_regexp values, one per alternative", expr, maxWays)
		}
		return "", false, fmt.Errorf("origin_regexp %q matches hosts in any domain, so sites you do not control too: list exact origins, use a subdomain pattern such as https://*.example.com, or end the host part with your own domain, as in https://[a-z0-9-]+\\.example\\.com", expr)
	}
	if isPublicSuffix(domain) {
		return "", false, fmt.Errorf("origin_regexp %q matches every site under the public suffix %q, which anyone can register: list exact origins, or end the host part with your own domain under it, as in https://[a-z0-9-]+\\.your-domain\\.%s", expr, domain, strings.ReplaceAll(domain, ".", `\.`))
	}
	if childrenArePublicSuffixes(domain) {
		return "", false, fmt.Errorf("origin_regexp %q matches only names under %q, and each name directly under it is a public suffix of its own (the public suffix list has *.%s), so every host it matches is another site: end the host part with a registrable domain, as in https://[a-z0-9-]+\\.your-domain\\.your-name\\.%s", expr, domain, domain, strings.ReplaceAll(domain, ".", `\.`))
	}
	return domain, false, nil
}

// hasBounded reports whether pieces hold a part left unwritten because
// it had too many ways through it.
func hasBounded(pieces []piece) bool {
	for _, p := range pieces {
		if p.bounded {
			return true
		}
	}
	return false
}

// piece is one step of a way through an expression: a fixed character, or
// a part that can match more than one string.
type piece struct {
	fixed       rune
	variable    bool
	endsWithDot bool // a variable piece whose every non-empty match ends with "."
	bounded     bool // a variable piece standing for a part with too many ways through it
}

// way is one way through an expression: its pieces, to judge, and the
// parts of the expression it goes through, in order, to match with.
// Concatenated, the parts of all the ways match exactly what the
// expression matches.
type way struct {
	pieces []piece
	parts  []*syntax.Regexp
}

// Products of alternatives are bounded, a flat alternation is not: its
// ways cost what its text costs, but (a|b)(c|d)... doubles at each step.
// Where a product would exceed maxWays, or the ways written out so far
// maxPieces, the factor counts as one variable part.
const (
	maxWays   = 1024
	maxPieces = 1 << 20
)

// expander writes out the ways through an expression, within maxPieces.
type expander struct {
	pieces int // pieces and parts written out so far
}

func newExpander() *expander { return new(expander) }

// variable is the single way through re when re is not written out.
func variable(re *syntax.Regexp, endsWithDot, bounded bool) []way {
	return []way{{pieces: []piece{{variable: true, endsWithDot: endsWithDot, bounded: bounded}}, parts: []*syntax.Regexp{re}}}
}

// expand writes out every way through re: literals and one-character
// classes become fixed characters, alternations and optional parts one
// way per choice, repetitions of a fixed count their copies, and
// everything else (other repetitions, wider classes, any character) a
// variable piece. Empty-width assertions match no character, but are kept
// among the parts.
func (e *expander) expand(re *syntax.Regexp) []way {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return []way{{parts: []*syntax.Regexp{re}}}
	case syntax.OpLiteral:
		pieces := make([]piece, len(re.Rune))
		for i, r := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 {
				r = unicode.ToLower(r) // origins are lower case
			}
			pieces[i] = piece{fixed: r}
		}
		e.pieces += len(pieces) + 1
		return []way{{pieces: pieces, parts: []*syntax.Regexp{re}}}
	case syntax.OpCharClass:
		if len(re.Rune) == 2 && re.Rune[0] == re.Rune[1] {
			return []way{{pieces: []piece{{fixed: re.Rune[0]}}, parts: []*syntax.Regexp{re}}}
		}
	case syntax.OpCapture:
		return e.expand(re.Sub[0])
	case syntax.OpStar, syntax.OpPlus:
		return variable(re, endsWithDot(re.Sub[0]), false)
	case syntax.OpQuest:
		return append(e.expand(re.Sub[0]), way{})
	case syntax.OpRepeat:
		switch {
		case re.Min == 0 && re.Max == 1:
			return append(e.expand(re.Sub[0]), way{})
		case re.Min == re.Max && re.Min == 0:
			return []way{{}}
		case re.Min == re.Max && re.Min*progSize(re.Sub[0]) <= MaxLength:
			// A fixed count short enough to fit in an origin: its copies.
			copies, subs := make([][]way, re.Min), make([]*syntax.Regexp, re.Min)
			ways := e.expand(re.Sub[0])
			for i := range copies {
				copies[i], subs[i] = ways, re.Sub[0]
			}
			return e.product(re, subs, copies)
		}
		return variable(re, endsWithDot(re.Sub[0]), false)
	case syntax.OpAlternate:
		var ways []way
		for _, sub := range re.Sub {
			ways = append(ways, e.expand(sub)...)
		}
		return ways
	case syntax.OpConcat:
		factors := make([][]way, len(re.Sub))
		for i, sub := range re.Sub {
			factors[i] = e.expand(sub)
		}
		return e.product(re, re.Sub, factors)
	}
	return variable(re, false, false)
}

// product gives every way through re, the concatenation of subs, whose
// ways are factors: one way of each, in order. Each way is built once,
// with its final length: building the product one factor at a time would
// copy every way written out so far at each step.
func (e *expander) product(re *syntax.Regexp, subs []*syntax.Regexp, factors [][]way) []way {
	n := 1
	for i, f := range factors {
		if n > 1 && len(f) > 1 && n*len(f) > maxWays {
			factors[i] = variable(subs[i], false, true)
		}
		n *= len(factors[i])
	}
	size := 0 // pieces and parts of the product
	for _, f := range factors {
		sum := 0
		for _, w := range f {
			sum += len(w.pieces) + len(w.parts)
		}
		size += sum * (n / len(f))
	}
	if e.pieces+size > maxPieces {
		return variable(re, false, true)
	}
	e.pieces += size

	ways := make([]way, n)
	choice := make([]int, len(factors))
	for k := range ways {
		var nPieces, nParts int
		for i, f := range factors {
			nPieces += len(f[choice[i]].pieces)
			nParts += len(f[choice[i]].parts)
		}
		w := way{pieces: make([]piece, 0, nPieces), parts: make([]*syntax.Regexp, 0, nParts)}
		for i, f := range factors {
			w.pieces = append(w.pieces, f[choice[i]].pieces...)
			w.parts = append(w.parts, f[choice[i]].parts...)
		}
		ways[k] = w
		// The next choice, as a number whose digits are the factors'.
		for i := len(factors) - 1; i >= 0; i-- {
			if choice[i]++; choice[i] < len(factors[i]) {
				break
			}
			choice[i] = 0
		}
	}
	return ways
}

// endsWithDot reports whether every non-empty match of re ends with ".".
func endsWithDot(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpLiteral:
		return re.Rune[len(re.Rune)-1] == '.'
	case syntax.OpCapture:
		return endsWithDot(re.Sub[0])
	case syntax.OpConcat:
		return endsWithDot(re.Sub[len(re.Sub)-1])
	}
	return false
}

// withoutPort cuts a port off the end of a way through an expression: a
// fixed ':' followed only by digits, fixed or variable. A variable piece
// may match any character, but one that only ends the origin after a
// fixed ':' is the port's.
func withoutPort(branch []piece, variablePort bool) []piece {
	for i := len(branch) - 1; i >= 0; i-- {
		p := branch[i]
		switch {
		case !p.variable && p.fixed == ':':
			return branch[:i]
		case p.variable && variablePort, !p.variable && '0' <= p.fixed && p.fixed <= '9':
			continue
		}
		break
	}
	return branch
}

// lastFixed gives the index of the last occurrence of s as fixed pieces
// in branch, or -1.
func lastFixed(branch []piece, s string) int {
	for i := len(branch) - len(s); i >= 0; i-- {
		if fixedAt(branch[i:], s) {
			return i
		}
	}
	return -1
}

// fixedAt reports whether branch starts with s, an ASCII string, as
// fixed pieces.
func fixedAt(branch []piece, s string) bool {
	for j := 0; j < len(s); j++ {
		if branch[j].variable || branch[j].fixed != rune(s[j]) {
			return false
		}
	}
	return true
}

// fixedSuffix gives the fixed characters at the end of branch.
func fixedSuffix(branch []piece) string {
	i := len(branch)
	for i > 0 && !branch[i-1].variable {
		i--
	}
	return string(fixedRunes(branch[i:]))
}

// fixedRunes gives the characters of pieces, with a variable piece as
// U+FFFD, which no origin contains.
func fixedRunes(pieces []piece) []rune {
	runes := make([]rune, len(pieces))
	for i, p := range pieces {
		runes[i] = p.fixed
		if p.variable {
			runes[i] = unicode.ReplacementChar
		}
	}
	return runes
}

// neverMatches explains why no origin a browser sends can take w, a way
// through expr, or gives nil: an allowed origin is always one that Parse
// accepts, so a way that only writes out what Parse refuses (a path, upper
// case, a default port, a label that is not Punycode) is dead. only is
// true when w is the one way through expr, so that the fix can be the
// whole expression.
func (w way) neverMatches(expr string, only bool) error {
	fault, fix := w.fault()
	if fault == "" {
		return nil
	}
	if only {
		if fix == "" {
			return fmt.Errorf("origin_regexp %q can never match: %s", expr, fault)
		}
		return fmt.Errorf("origin_regexp %q can never match: %s; write %s", expr, fault, fix)
	}
	if fix == "" {
		return fmt.Errorf("origin_regexp %q has a branch that can never match: %s", expr, fault)
	}
	return fmt.Errorf("origin_regexp %q has a branch that can never match: %s; write that branch as %s", expr, fault, fix)
}

// fault gives what keeps every origin off w, and the fix as an
// expression where there is one.
func (w way) fault() (fault, fix string) {
	if !hasVariable(w.pieces) {
		s := string(fixedRunes(w.pieces))
		switch o, ok := Parse(s); {
		case s == "":
			return "it matches only the empty string, which no browser sends as an origin", `the origins to allow, for example https://[a-z0-9-]+\.example\.com`
		case !ok || !canonicalIP(o.Host):
			fault = fmt.Sprintf("%q %s: browsers compare the origin byte for byte", s, originFault(s))
			if canonical, ok := canonicalSpelling(s, Pattern{}); ok {
				fix = regexp.QuoteMeta(canonical)
			}
			return fault, fix
		case invalidPunycodeLabel(o.Host) != "":
			return fmt.Sprintf("%q has the label %q, which is not valid Punycode: browsers refuse such a host, so no request can come from it; write the host as the browser's address bar shows it, converted with an IDNA tool", s, invalidPunycodeLabel(o.Host)), ""
		}
		return "", ""
	}

	sep := lastFixed(w.pieces, "://")
	for i, p := range w.pieces {
		switch c := p.fixed; {
		case p.variable:
		case 'A' <= c && c <= 'Z':
			return fmt.Sprintf("it has the upper-case letter %q, and browsers send origins in lower case; write it in lower case", c), ""
		case sep >= 0 && i >= sep+len("://") && c == '/':
			return "it has a '/' after the host, and browsers send origins without a path or a trailing slash; remove it", ""
		case !strings.ContainsRune("abcdefghijklmnopqrstuvwxyz0123456789+-.:/[]_", c):
			return fmt.Sprintf("it has the character %q, which no origin contains", c), ""
		}
	}
	if sep < 0 {
		return "", ""
	}
	scheme, host := w.pieces[:sep], w.pieces[sep+len("://"):]
	if i := lastFixed(host, ":"); i >= 0 && i < len(host)-1 {
		port := fixedSuffix(host[i+1:])
		written := fixedSuffix(scheme)
		switch {
		case len(port) != len(host)-i-1 || strings.Trim(port, "0123456789") != "":
			// not a port written out in full
		case len(written) == len(scheme) && port == defaultPort(written):
			return fmt.Sprintf("it has the default port %s of %s, which browsers leave out; remove :%s", port, written, port), ""
		case !validPort("", port):
			return fmt.Sprintf("it has the port %s, and browsers send a port as 1-65535 without leading zeros", port), ""
		}
	}
	// Labels written out in full: between the start of the host or a
	// fixed '.', and a fixed '.' or ':' or the end.
	start := 0
	for i := 0; i <= len(host); i++ {
		if i < len(host) && (host[i].variable || host[i].fixed != '.' && host[i].fixed != ':') {
			continue
		}
		if label := host[start:i]; !hasVariable(label) {
			if s := string(fixedRunes(label)); strings.HasPrefix(s, "xn--") && invalidPunycodeLabel(s) != "" {
				return fmt.Sprintf("it has the label %q, which is not valid Punycode: browsers refuse such a host, so no request can come from it; write the host as the browser's address bar shows it, converted with an IDNA tool", s), ""
			}
		}
		start = i + 1
	}
	return "", ""
}

// hasVariable reports whether pieces hold a variable piece.
func hasVariable(pieces []piece) bool {
	for _, p := range pieces {
		if p.variable {
			return true
		}
	}
	return false
}
