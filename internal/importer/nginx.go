package importer

import (
	"fmt"
	"strconv"
	"strings"
)

// The nginx importer reads the CORS idioms people write by hand:
//
//	add_header Access-Control-Allow-Origin "*" always;
//	add_header Access-Control-Allow-Origin $http_origin;   # any origin
//	if ($http_origin ~* "^https://(app|admin)\.example\.com$") { add_header ... $http_origin; }
//	map $http_origin $cors_origin { default ""; "~^https://.*\.example\.com$" $http_origin; }
//	if ($request_method = OPTIONS) { add_header ...; return 204; }
//
// and the same through headers-more's more_set_headers, through a
// variable set under an origin condition (set $cors "true"), as
// ingress-nginx writes it. What it does not understand about the origin
// is reported, never guessed.

// nginxCondition is the condition of an if block, as nginx's rewrite
// module reads it.
type nginxCondition struct {
	variable string // without "$"
	op       string // "", "=", "!=", "~", "~*", "!~", "!~*"
	value    string
	line     int
}

// nginxSet is a "set $variable value;" and the if block it is in.
type nginxSet struct {
	value string
	cond  *nginxCondition
}

// nginxHeader is an add_header or more_set_headers of a CORS header.
type nginxHeader struct {
	name   string // canonical: Access-Control-Allow-Origin
	value  string
	always bool
	cond   *nginxCondition
	line   int
}

// nginxMap is a "map $http_origin $variable { ... }" block.
type nginxMap struct {
	entries []nginxMapEntry
	line    int
}

type nginxMapEntry struct {
	key, value string
	line       int
}

type nginxSnippet struct {
	sets    map[string][]nginxSet
	maps    map[string]*nginxMap
	headers []nginxHeader
	b       *builder
}

func importNginx(src []byte) (*Result, error) {
	tree, err := parseNginx(src)
	if err != nil {
		return nil, err
	}
	s := &nginxSnippet{sets: map[string][]nginxSet{}, maps: map[string]*nginxMap{}, b: &builder{}}
	s.walk(tree, nil)
	if len(s.headers) == 0 {
		return nil, fmt.Errorf("no Access-Control-* header found: the snippet should hold the add_header (or more_set_headers) lines that set them")
	}
	s.translate()
	return s.b.result(), nil
}

// walk collects the sets, maps and CORS headers of a tree. nginx allows no
// if inside an if, so each directive has at most one condition.
func (s *nginxSnippet) walk(list []*directive, cond *nginxCondition) {
	for _, d := range list {
		switch d.name {
		case "if":
			c := parseCondition(d)
			s.walk(d.block, &c)
		case "set":
			if len(d.args) == 2 && strings.HasPrefix(d.args[0], "$") {
				name := strings.TrimPrefix(d.args[0], "$")
				s.sets[name] = append(s.sets[name], nginxSet{value: d.args[1], cond: cond})
			}
		case "map":
			if len(d.args) == 2 && variableName(d.args[0]) == "http_origin" && d.block != nil {
				m := &nginxMap{line: d.line}
				for _, e := range d.block {
					if len(e.args) == 1 {
						m.entries = append(m.entries, nginxMapEntry{key: e.name, value: e.args[0], line: e.line})
					} else {
						// hostnames, volatile, include: nothing CORS.
						m.entries = append(m.entries, nginxMapEntry{key: e.name, line: e.line})
					}
				}
				s.maps[strings.TrimPrefix(d.args[1], "$")] = m
			}
		case "include":
			if len(d.args) == 1 {
				s.b.note("%s: include %s not followed: import that file too if it sets CORS headers", atLine(d.line), d.args[0])
			}
		case "add_header":
			if len(d.args) >= 2 {
				s.addHeader(d.args[0], d.args[1], len(d.args) == 3 && d.args[2] == "always", cond, d.line)
			}
		case "more_set_headers":
			for i := 0; i < len(d.args); i++ {
				if arg := d.args[i]; arg == "-s" || arg == "-t" {
					i++ // the statuses or content types the headers are limited to
					continue
				}
				if name, value, ok := strings.Cut(d.args[i], ":"); ok {
					s.addHeader(strings.TrimSpace(name), strings.TrimSpace(value), true, cond, d.line)
				}
			}
		default:
			s.walk(d.block, cond)
		}
	}
}

func (s *nginxSnippet) addHeader(name, value string, always bool, cond *nginxCondition, line int) {
	if !strings.HasPrefix(strings.ToLower(name), "access-control-") {
		return
	}
	s.headers = append(s.headers, nginxHeader{name: canonicalHeader(name), value: value, always: always, cond: cond, line: line})
}

// canonicalHeader writes a header name as Go's net/http does, so that
// case does not matter in comparisons.
func canonicalHeader(name string) string {
	parts := strings.Split(strings.ToLower(name), "-")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "-")
}

// parseCondition reads an if's arguments as nginx does: "(" before the
// first, ")" after the last, and the variable, operator and value in
// between.
func parseCondition(d *directive) nginxCondition {
	args := append([]string(nil), d.args...)
	if len(args) > 0 {
		args[0] = strings.TrimPrefix(args[0], "(")
		last := len(args) - 1
		args[last] = strings.TrimSuffix(args[last], ")")
	}
	var clean []string
	for _, a := range args {
		if a != "" {
			clean = append(clean, a)
		}
	}
	c := nginxCondition{line: d.line}
	switch len(clean) {
	case 1:
		c.variable = variableName(clean[0])
	case 3:
		c.variable, c.op, c.value = variableName(clean[0]), clean[1], clean[2]
	default:
		c.op = "?" // not understood
	}
	return c
}

// variableName gives "http_origin" for "$http_origin" or "${http_origin}",
// and "" for anything else.
func variableName(s string) string {
	if !strings.HasPrefix(s, "$") {
		return ""
	}
	name := s[1:]
	if strings.HasPrefix(name, "{") && strings.HasSuffix(name, "}") {
		name = name[1 : len(name)-1]
	}
	for _, c := range name {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return ""
		}
	}
	return name
}

func (c *nginxCondition) isPreflight() bool {
	return c != nil && c.variable == "request_method" && (c.op == "=" || c.op == "~" || c.op == "~*") && strings.EqualFold(c.value, "OPTIONS")
}

func (c *nginxCondition) isMethod() bool {
	return c != nil && c.variable == "request_method"
}

func atLine(line int) string {
	return fmt.Sprintf("line %d", line)
}

// translate turns the collected headers into the policy.
func (s *nginxSnippet) translate() {
	b := s.b
	var methodOnly []string // methods whose responses alone got the headers
	unconditional := false
	for _, h := range s.headers {
		at := atLine(h.line)
		switch h.name {
		case "Access-Control-Allow-Origin":
			s.origins(h)
			if !h.cond.isPreflight() {
				if h.cond.isMethod() && h.cond.op == "=" {
					methodOnly = appendNew(methodOnly, strings.ToUpper(h.cond.value), false)
				} else {
					unconditional = true
				}
				if !h.always {
					b.note("%s: add_header without always adds the header to successful responses only (2xx, 3xx); the module answers every response of an allowed origin, errors included, so scripts can read those too", at)
				}
			}
		case "Access-Control-Allow-Credentials":
			if strings.TrimSpace(h.value) == "true" {
				b.cfg.Credentials = true
			}
		case "Access-Control-Allow-Methods":
			switch variableName(h.value) {
			case "http_access_control_request_method":
				b.addMethods([]string{"*"}, at)
			case "":
				b.addMethods(splitList(h.value), at)
			default:
				b.lose("%s: Access-Control-Allow-Methods from variable %s not carried over: list the methods in the block", at, h.value)
			}
		case "Access-Control-Allow-Headers":
			switch variableName(h.value) {
			case "http_access_control_request_headers":
				b.addAnyHeader()
			case "":
				b.addHeaders(splitList(h.value), at)
			default:
				b.lose("%s: Access-Control-Allow-Headers from variable %s not carried over: list the headers in the block", at, h.value)
			}
		case "Access-Control-Expose-Headers":
			if strings.Contains(h.value, "$") {
				b.lose("%s: Access-Control-Expose-Headers from a variable not carried over: list the headers in the block", at)
				continue
			}
			b.addExpose(splitList(h.value), at)
		case "Access-Control-Max-Age":
			n, err := strconv.ParseInt(strings.TrimSpace(h.value), 10, 64)
			if err != nil {
				b.lose("%s: Access-Control-Max-Age %q is not a number of seconds: not carried over", at, h.value)
				continue
			}
			b.setMaxAge(n, at)
		case "Access-Control-Allow-Private-Network":
			if strings.TrimSpace(h.value) == "true" {
				b.cfg.PrivateNetwork = true
			}
		default:
			b.lose("%s: %s is not a header the module sets: not carried over", at, h.name)
		}
	}
	if !unconditional && len(methodOnly) > 0 {
		b.note("nginx added Access-Control-Allow-Origin only to responses of %s requests (if ($request_method = ...)); the module adds it to responses of every method from an allowed origin", strings.Join(methodOnly, " and "))
	}
}

// origins carries over the value of one Access-Control-Allow-Origin.
func (s *nginxSnippet) origins(h nginxHeader) {
	s.originValue(h.value, h.cond, atLine(h.line), 0)
}

// maxIndirection bounds set $a $b; set $b $a; loops.
const maxIndirection = 8

func (s *nginxSnippet) originValue(value string, cond *nginxCondition, at string, depth int) {
	b := s.b
	value = strings.TrimSpace(value)
	name := variableName(value)
	switch {
	case value == "":
		// An empty Access-Control-Allow-Origin: nginx sends no header.
	case value == "*":
		b.addOrigin("*", at)
	case !strings.Contains(value, "$"):
		b.addOrigin(strings.ToLower(value), at)
	case name == "http_origin":
		s.guardedReflection(cond, at, depth)
	case name != "" && s.maps[name] != nil:
		s.mapOrigins(s.maps[name])
	case name != "" && len(s.sets[name]) > 0 && depth < maxIndirection:
		for _, set := range s.sets[name] {
			if set.cond != nil && cond != nil && !cond.isMethod() && !set.cond.isMethod() {
				b.lose("%s: %s is set under one condition (line %d) and used under another: not carried over, list the origins in the block", at, value, set.cond.line)
				continue
			}
			c := cond
			if c == nil || c.isMethod() {
				c = set.cond
			}
			s.originValue(set.value, c, at, depth+1)
		}
	default:
		b.lose("%s: Access-Control-Allow-Origin %q is not an idiom the importer knows: not carried over, list the origins in the block", at, value)
	}
}

// guardedReflection carries over $http_origin sent back under cond.
func (s *nginxSnippet) guardedReflection(cond *nginxCondition, at string, depth int) {
	b := s.b
	switch {
	case cond == nil || cond.isMethod():
		b.addReflection()
	case cond.variable == "http_origin" && (cond.op == "~" || cond.op == "~*"):
		b.addRegexp(cond.value, cond.op == "~*", atLine(cond.line))
	case cond.variable == "http_origin" && cond.op == "=":
		b.addOrigin(strings.ToLower(cond.value), atLine(cond.line))
	case cond.variable != "" && s.maps[cond.variable] != nil:
		// if ($allowed) { ... $http_origin } with map $http_origin $allowed.
		m := s.maps[cond.variable]
		for _, e := range m.entries {
			if e.value != "" && e.value != "0" {
				s.mapKey(e, "$http_origin")
			}
		}
	case cond.variable != "" && len(s.sets[cond.variable]) > 0 && depth < maxIndirection:
		// if ($cors = "true") where set $cors "true" is under an origin
		// condition: the origin condition is what counts.
		guarded := false
		for _, set := range s.sets[cond.variable] {
			if set.value == "" || strings.Contains(set.value, "$"+cond.variable) || strings.Contains(set.value, "${"+cond.variable+"}") {
				continue // set $cors ""; set $cors "${cors}options";
			}
			guarded = true
			s.guardedReflection(set.cond, at, depth+1)
		}
		if !guarded {
			b.lose("%s: $http_origin is sent back under a condition on $%s (line %d) the importer cannot follow: not carried over, list the origins in the block", at, cond.variable, cond.line)
		}
	default:
		b.lose("%s: $http_origin is sent back under a condition (line %d) the importer does not understand: not carried over, list the origins in the block", at, cond.line)
	}
}

// mapOrigins carries over the entries of a map $http_origin $variable.
func (s *nginxSnippet) mapOrigins(m *nginxMap) {
	for _, e := range m.entries {
		s.mapKey(e, e.value)
	}
}

// mapKey carries over one map entry whose value is sent as
// Access-Control-Allow-Origin.
func (s *nginxSnippet) mapKey(e nginxMapEntry, value string) {
	b := s.b
	at := atLine(e.line)
	switch {
	case e.key == "hostnames" || e.key == "volatile":
	case e.key == "include":
		b.lose("%s: map include not followed: import the included file's entries too", at)
	case value == "" || value == `""` || value == "''":
		// No header for these origins.
	case variableName(value) == "http_origin":
		switch {
		case e.key == "default":
			b.addReflection()
		case strings.HasPrefix(e.key, "~*"):
			b.addRegexp(e.key[2:], true, at)
		case strings.HasPrefix(e.key, "~"):
			b.addRegexp(e.key[1:], false, at)
		default:
			b.addOrigin(strings.ToLower(strings.TrimPrefix(e.key, `\`)), at)
		}
	case strings.Contains(value, "$"):
		b.lose("%s: map value %q not carried over: list the origins in the block", at, value)
	default:
		// A fixed origin: browsers accept it only from that origin.
		b.addOrigin(strings.ToLower(value), at)
	}
}
