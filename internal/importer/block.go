package importer

import (
	"fmt"
	"io"
	"regexp/syntax"
	"strconv"
	"strings"
	"time"

	"github.com/caddy-cors/cors/internal/policy"
)

// Result is what an import found: the policy as the cors directive will
// read it, what changed on the way, and whether everything was carried
// over.
type Result struct {
	Config policy.Config

	// OriginsToList is set when the source allowed any origin together
	// with credentials: the block then has a commented placeholder where
	// the origins of the frontends must be listed, and does not load
	// until they are.
	OriginsToList bool

	// Notes says, one line each, what the block does differently from the
	// source and what it could not carry over.
	Notes []string

	// Complete is false when something could not be carried over: the
	// block then needs editing before it does what the source did.
	Complete bool
}

// maxAgeCap is the longest max_age the module takes; every browser keeps a
// preflight for less anyway (Chromium 2h, Firefox 24h, Safari 10m).
const maxAgeCap = 24 * 60 * 60

// builder collects a policy from a source, checking each value with the
// module's own checks as it comes, so that what the block says is what
// the module will load.
type builder struct {
	cfg        policy.Config
	anyOrigin  bool // "*" or the request's origin sent back, whatever it is
	reflectAny bool // the request's origin sent back, whatever it is
	notes      []string
	refused    map[string]bool // values left out, each noted once
	incomplete bool
}

// refuse notes a value the module refuses, once however often the source
// repeats it.
func (b *builder) refuse(kind, value, where string, err error) {
	if b.refused == nil {
		b.refused = map[string]bool{}
	}
	key := kind + " " + strings.ToLower(value)
	if b.refused[key] {
		return
	}
	b.refused[key] = true
	b.note("%s: %s %q left out, the module refuses it: %v", where, kind, value, err)
}

// note records a change of meaning that keeps the policy safe.
func (b *builder) note(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	for _, n := range b.notes {
		if n == msg {
			return
		}
	}
	b.notes = append(b.notes, msg)
}

// lose records something that could not be carried over.
func (b *builder) lose(format string, args ...any) {
	b.incomplete = true
	b.note(format, args...)
}

// addOrigin adds an exact origin or pattern, or "*".
func (b *builder) addOrigin(origin, where string) {
	if origin == "*" {
		b.anyOrigin = true
		return
	}
	if err := policy.CheckOrigin(origin); err != nil {
		b.lose("%s: not carried over: %v", where, err)
		return
	}
	b.cfg.Origins = appendNew(b.cfg.Origins, origin, false)
}

// addReflection records that the source sent back any request's origin.
func (b *builder) addReflection() {
	b.anyOrigin = true
	b.reflectAny = true
}

// addRegexp adds an origin regexp written for a matcher that finds it
// anywhere in the origin, as nginx's and PCRE's do, unless it is anchored.
func (b *builder) addRegexp(expr string, foldCase bool, where string) {
	if foldCase && strings.ToLower(expr) != expr {
		expr = "(?i)" + expr
	}
	if err := policy.CheckOriginRegexp(expr); err != nil {
		b.lose("%s: not carried over: %v (nginx reads PCRE; the module reads Go's RE2 syntax)", where, err)
		return
	}
	if !strings.Contains(expr, "://") && !strings.Contains(expr, `:\/\/`) {
		// Matched against the whole origin, a regexp that names no scheme
		// matches none; matched anywhere, as nginx does, it let in every
		// site whose origin contains a match.
		b.lose("%s: not carried over: regexp %q names no scheme, so it matches no whole origin (nginx matched it anywhere in the origin, so every site whose name contains a match passed); write one that matches whole origins, such as ^https://([a-z0-9-]+\\.)*example\\.com$", where, expr)
		return
	}
	switch start, end := anchored(expr); {
	case !end:
		b.note("%s: regexp %q is not anchored at its end, so nginx also allowed every origin that merely begins with a match (one for https://app.example.com let in https://app.example.com.evil.example); the module matches it against the whole origin, which is narrower", where, expr)
	case !start:
		b.note("%s: regexp %q is not anchored at its start, so nginx matched it anywhere in the origin; the module matches it against the whole origin, from the scheme on", where, expr)
	}
	b.cfg.OriginRegexps = appendNew(b.cfg.OriginRegexps, expr, false)
}

// anchored reports whether expr can only match at the start and at the
// end of the text (^ and $, or \A and \z), through groups and every
// branch of an alternation.
func anchored(expr string) (start, end bool) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return false, false
	}
	return anchoredAt(re, true), anchoredAt(re, false)
}

func anchoredAt(re *syntax.Regexp, start bool) bool {
	switch re.Op {
	case syntax.OpBeginText, syntax.OpBeginLine:
		return start
	case syntax.OpEndText, syntax.OpEndLine:
		return !start
	case syntax.OpCapture:
		return anchoredAt(re.Sub[0], start)
	case syntax.OpConcat:
		if len(re.Sub) == 0 {
			return false
		}
		if start {
			return anchoredAt(re.Sub[0], start)
		}
		return anchoredAt(re.Sub[len(re.Sub)-1], start)
	case syntax.OpAlternate:
		for _, sub := range re.Sub {
			if !anchoredAt(sub, start) {
				return false
			}
		}
		return true
	}
	return false
}

// addMethods adds methods, checked as the module checks them.
func (b *builder) addMethods(list []string, where string) {
	for _, m := range list {
		if err := policy.CheckMethod(m); err != nil {
			b.refuse("method", m, where, err)
			continue
		}
		b.cfg.Methods = appendNew(b.cfg.Methods, m, false)
	}
}

// addHeaders adds request header names, checked as the module checks them.
func (b *builder) addHeaders(list []string, where string) {
	for _, h := range list {
		if err := policy.CheckHeader(h); err != nil {
			b.refuse("header", h, where, err)
			continue
		}
		b.cfg.Headers = appendNew(b.cfg.Headers, h, true)
	}
}

// addAnyHeader allows any request header, Authorization included, as a
// source does that sends back the names a preflight asks for, or that
// reflects them for "*" with credentials (Fetch: "*" in
// Access-Control-Allow-Headers never covers Authorization).
func (b *builder) addAnyHeader() {
	b.cfg.Headers = appendNew(b.cfg.Headers, "*", false)
	b.cfg.Headers = appendNew(b.cfg.Headers, "Authorization", true)
}

// addExpose adds exposed response header names.
func (b *builder) addExpose(list []string, where string) {
	for _, h := range list {
		if err := policy.CheckExpose(h); err != nil {
			b.refuse("exposed header", h, where, err)
			continue
		}
		b.cfg.Expose = appendNew(b.cfg.Expose, h, true)
	}
}

// setMaxAge sets the preflight cache time in seconds, as every source
// counts it.
func (b *builder) setMaxAge(seconds int64, where string) {
	switch {
	case seconds < 0:
		b.note("%s: max-age %d left out: a negative value is no max-age, and browsers then keep a preflight 5 seconds", where, seconds)
		return
	case seconds > maxAgeCap:
		b.note("%s: max-age %d seconds capped at %d (24h), the most the module takes and the longest any browser keeps a preflight", where, seconds, maxAgeCap)
		seconds = maxAgeCap
	}
	d := time.Duration(seconds) * time.Second
	if b.cfg.MaxAge != nil && *b.cfg.MaxAge != d {
		b.note("%s: a second max-age, %d; the first one is kept", where, seconds)
		return
	}
	b.cfg.MaxAge = &d
}

// result checks the whole policy as the module will and says what
// could not be carried over.
func (b *builder) result() *Result {
	r := &Result{Config: b.cfg}
	switch {
	case b.anyOrigin && b.cfg.Credentials && b.reflectAny:
		r.OriginsToList = true
		b.lose("the source sent back any request's origin together with Access-Control-Allow-Credentials: true, which lets every website read your users' data with their cookies (the flaw behind CVE-2025-34291); the module never does that: list the origins of your frontends where the block says so")
	case b.anyOrigin && b.cfg.Credentials:
		r.OriginsToList = true
		b.lose("the source allowed origin * together with credentials: browsers refused such answers to credentialed requests, and the module refuses the combination; list the origins of your frontends where the block says so, or, if none of their requests carries cookies or Authorization, write origins * and remove credentials")
	case b.anyOrigin:
		r.Config.Origins = []string{"*"}
		if len(b.cfg.Origins)+len(b.cfg.OriginRegexps) > 0 {
			b.note("the source also allowed any origin, so the other origins it names make no difference; the block allows any origin")
		}
		r.Config.OriginRegexps = nil
	}
	if r.Config.Credentials {
		var kept []string
		for _, expr := range r.Config.OriginRegexps {
			c := policy.Config{OriginRegexps: []string{expr}, Credentials: true}
			if err := c.CheckCombination(); err != nil {
				b.lose("origin regexp %q not carried over: %v", expr, err)
				continue
			}
			kept = append(kept, expr)
		}
		r.Config.OriginRegexps = kept
		for i, name := range r.Config.Expose {
			if name == "*" {
				b.lose("exposed header * left out: with credentials browsers read it as a header named \"*\", and the module refuses it; list the response headers scripts need")
				r.Config.Expose = append(r.Config.Expose[:i:i], r.Config.Expose[i+1:]...)
				break
			}
		}
	}
	if !r.OriginsToList && r.Config.CheckHasOrigin() != nil {
		r.OriginsToList = true
		b.lose("no origin could be carried over: list the origins of your frontends where the block says so")
	}
	if !r.OriginsToList {
		for _, w := range r.Config.Warnings() {
			b.note("%s", w.Message)
		}
		if _, err := policy.New(r.Config); err != nil {
			// Every value was checked on the way in; this is a safety net.
			b.lose("the module refuses the block: %v", err)
		}
	}
	r.Notes = b.notes
	r.Complete = !b.incomplete
	return r
}

// WriteBlock writes the cors directive with its block, in Caddyfile
// syntax.
func (r *Result) WriteBlock(w io.Writer) error {
	var sb strings.Builder
	sb.WriteString("cors {\n")
	line := func(subdirective string, values ...string) {
		sb.WriteString("\t" + subdirective)
		for _, v := range values {
			sb.WriteString(" " + caddyfileToken(v))
		}
		sb.WriteString("\n")
	}
	if r.OriginsToList {
		sb.WriteString("\t# origins <list the origins of your frontends here, such as https://app.example.com>\n")
	}
	if len(r.Config.Origins) > 0 {
		line("origins", r.Config.Origins...)
	}
	for _, expr := range r.Config.OriginRegexps {
		line("origin_regexp", expr)
	}
	if len(r.Config.Methods) > 0 {
		line("methods", r.Config.Methods...)
	}
	if len(r.Config.Headers) > 0 {
		line("headers", r.Config.Headers...)
	}
	if len(r.Config.Expose) > 0 {
		line("expose", r.Config.Expose...)
	}
	if r.Config.Credentials {
		line("credentials")
	}
	if r.Config.MaxAge != nil {
		line("max_age", strconv.FormatInt(int64(*r.Config.MaxAge/time.Second), 10))
	}
	if r.Config.PrivateNetwork {
		line("private_network")
	}
	sb.WriteString("}\n")
	_, err := io.WriteString(w, sb.String())
	return err
}

// WriteNotes writes each note as a Caddyfile comment line.
func (r *Result) WriteNotes(w io.Writer) error {
	for _, n := range r.Notes {
		if _, err := fmt.Fprintf(w, "# note: %s\n", n); err != nil {
			return err
		}
	}
	return nil
}

// caddyfileToken writes s so that Caddy's Caddyfile lexer reads it back
// as one token, byte for byte: bare when it can, else in backquotes, in
// which nothing is an escape, else in double quotes.
func caddyfileToken(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\r\n\"`'\\{}#<") {
		return s
	}
	if !strings.Contains(s, "`") {
		return "`" + s + "`"
	}
	return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
}

// appendNew appends v to list unless it is there already.
func appendNew(list []string, v string, foldCase bool) []string {
	for _, have := range list {
		if have == v || foldCase && strings.EqualFold(have, v) {
			return list
		}
	}
	return append(list, v)
}

// splitList splits a comma-separated header value, as CORS response
// headers are written, dropping empty elements.
func splitList(value string) []string {
	var list []string
	for _, item := range strings.Split(value, ",") {
		if item = strings.TrimSpace(item); item != "" {
			list = append(list, item)
		}
	}
	return list
}
