package origins

import (
	"fmt"
	"regexp/syntax"
	"strings"
	"unicode"
)

// CheckRegexpHosts reports, for an expression CompileRegexp accepted,
// whether it can match hosts outside a domain its author controls: one
// whose host part ends in no fixed registrable domain (https://.*,
// https?://[^/]+) or in a public suffix (https://[a-z0-9-]+\.github\.io),
// where anyone can register a name (R52). With credentials such an
// expression is refused; without, it is worth a warning.
//
// It reads the parsed expression, not its text: each way through the
// expression's alternations and optional parts is written out as a
// sequence of fixed characters and variable parts, and the host of each
// must end in fixed characters that name a registrable domain.
func CheckRegexpHosts(expr string) error {
	_, err := regexpDomains(expr)
	return err
}

// regexpDomains gives the domain the hosts of each way through expr end
// in, or the first way whose hosts end in none (CheckRegexpHosts).
func regexpDomains(expr string) ([]string, error) {
	branches, err := writeOut(expr)
	if err != nil {
		return nil, err
	}
	var domains []string
	for _, branch := range branches {
		domain, err := checkBranchHost(expr, branch)
		if err != nil {
			return nil, err
		}
		domains = append(domains, domain)
	}
	return domains, nil
}

// RegexpCanMatchPlainHTTP reports whether some way through expr, an
// expression CompileRegexp accepted, can match an http:// origin whose host
// it does not write out as one that isLoopback accepts: over plain http,
// anyone on the network path can pose as such an origin.
func RegexpCanMatchPlainHTTP(expr string, isLoopback func(host string) bool) bool {
	branches, err := writeOut(expr)
	if err != nil {
		return false
	}
	for _, branch := range branches {
		scheme, host, found := splitScheme(branch)
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

// writeOut parses expr and writes out each way through it.
func writeOut(expr string) ([][]piece, error) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, fmt.Errorf("origin_regexp %q does not compile: %v", expr, err)
	}
	return expand(re.Simplify()), nil
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

// checkBranchHost judges the host of one way through an expression.
func checkBranchHost(expr string, branch []piece) (string, error) {
	_, host, _ := splitScheme(branch)
	suffix := fixedSuffix(host)
	if len(host) > 0 && !host[0].variable && host[0].fixed == '[' && (len(suffix) != len(host) || !strings.HasSuffix(suffix, "]")) {
		return "", fmt.Errorf("origin_regexp %q matches IPv6 hosts it does not write out: write each address out in full, or list exact origins such as http://[::1]:8080", expr)
	}
	if last := suffix[strings.LastIndexByte(suffix, '.')+1:]; len(suffix) != len(host) && last != "" && strings.Trim(last, "0123456789") == "" {
		return "", fmt.Errorf("origin_regexp %q matches IP addresses it does not write out, which have no registrable domain to stay within: list exact origins such as https://192.0.2.1", expr)
	}
	if len(suffix) == len(host) {
		return strings.TrimSuffix(suffix, "."), nil // a host written out in full
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
		return "", fmt.Errorf("origin_regexp %q matches hosts in any domain, so sites you do not control too: list exact origins, use a subdomain pattern such as https://*.example.com, or end the host part with your own domain, as in https://[a-z0-9-]+\\.example\\.com", expr)
	}
	if isPublicSuffix(domain) {
		return "", fmt.Errorf("origin_regexp %q matches every site under the public suffix %q, which anyone can register: list exact origins, or end the host part with your own domain under it, as in https://[a-z0-9-]+\\.your-domain\\.%s", expr, domain, strings.ReplaceAll(domain, ".", `\.`))
	}
	return domain, nil
}

// piece is one step of a way through an expression: a fixed character, or
// a part that can match more than one string.
type piece struct {
	fixed       rune
	variable    bool
	endsWithDot bool // a variable piece whose every non-empty match ends with "."
}

// maxBranches bounds how many ways through an expression are written out;
// an alternation that would exceed it counts as one variable part.
const maxBranches = 64

// expand writes out every way through re as a sequence of pieces:
// literals and one-character classes become fixed characters,
// alternations and optional parts become one sequence per choice, and
// everything else (repetitions, wider classes, any character) becomes a
// variable piece. Empty-width assertions match no character.
func expand(re *syntax.Regexp) [][]piece {
	variable := [][]piece{{{variable: true}}}
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return [][]piece{nil}
	case syntax.OpLiteral:
		branch := make([]piece, len(re.Rune))
		for i, r := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 {
				r = unicode.ToLower(r) // origins are lower case
			}
			branch[i] = piece{fixed: r}
		}
		return [][]piece{branch}
	case syntax.OpCharClass:
		if len(re.Rune) == 2 && re.Rune[0] == re.Rune[1] {
			return [][]piece{{{fixed: re.Rune[0]}}}
		}
		return variable
	case syntax.OpCapture:
		return expand(re.Sub[0])
	case syntax.OpStar, syntax.OpPlus, syntax.OpRepeat:
		return [][]piece{{{variable: true, endsWithDot: endsWithDot(re.Sub[0])}}}
	case syntax.OpQuest:
		return union(expand(re.Sub[0]), [][]piece{nil})
	case syntax.OpAlternate:
		var branches [][]piece
		for _, sub := range re.Sub {
			branches = union(branches, expand(sub))
		}
		return branches
	case syntax.OpConcat:
		branches := [][]piece{nil}
		for _, sub := range re.Sub {
			next := expand(sub)
			if len(branches)*len(next) > maxBranches {
				next = variable
			}
			var product [][]piece
			for _, head := range branches {
				for _, tail := range next {
					product = append(product, append(append([]piece(nil), head...), tail...))
				}
			}
			branches = product
		}
		return branches
	}
	return variable
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

// union joins two sets of ways, or gives a variable piece when there
// would be too many.
func union(a, b [][]piece) [][]piece {
	if len(a)+len(b) > maxBranches {
		return [][]piece{{{variable: true}}}
	}
	return append(a, b...)
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
		if string(fixedRunes(branch[i:i+len(s)])) == s {
			return i
		}
	}
	return -1
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
