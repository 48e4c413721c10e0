package importer

import (
	"errors"
	"fmt"
)

// directive is one nginx directive: its name, its arguments with their
// quotes removed and escapes resolved, and the directives of its block.
type directive struct {
	name  string
	args  []string
	line  int
	block []*directive // nil when the directive has no block
}

const (
	maxInput   = 1 << 20 // a CORS snippet is a few KiB; a whole nginx.conf a few hundred
	maxNesting = 32      // nginx itself nests http, server, location, if
)

// parseNginx reads nginx configuration syntax: directives end with ";" or
// open a block with "{"; "#" starts a comment at the start of a word;
// words may be quoted with "..." or '...', and a backslash escapes the
// next character, as in nginx's own reader (ngx_conf_read_token). It
// knows no directive: it only gives the tree.
func parseNginx(src []byte) ([]*directive, error) {
	if len(src) > maxInput {
		return nil, fmt.Errorf("the input is %d bytes, more than the %d an nginx snippet should take", len(src), maxInput)
	}
	p := &nginxParser{src: src, line: 1}
	list, err := p.block(0)
	if err != nil {
		return nil, fmt.Errorf("nginx syntax, line %d: %w", p.line, err)
	}
	return list, nil
}

type nginxParser struct {
	src  []byte
	pos  int
	line int
}

var errUnexpectedEnd = errors.New("unexpected end of input: a directive lacks its \";\" or a block its \"}\"")

// block reads directives up to the "}" that closes the block, or to the
// end of the input at the top level.
func (p *nginxParser) block(depth int) ([]*directive, error) {
	list := []*directive{}
	var current *directive
	for {
		word, quoted, end, err := p.word()
		if err != nil {
			return nil, err
		}
		switch {
		case end == 0 && word == "" && !quoted:
			if current != nil || depth > 0 {
				return nil, errUnexpectedEnd
			}
			return list, nil
		case word != "" || quoted:
			if current == nil {
				current = &directive{name: word, line: p.line}
			} else {
				current.args = append(current.args, word)
			}
		}
		switch end {
		case ';':
			if current == nil {
				return nil, errors.New(`unexpected ";"`)
			}
			list = append(list, current)
			current = nil
		case '{':
			if current == nil {
				return nil, errors.New(`unexpected "{"`)
			}
			if depth+1 > maxNesting {
				return nil, fmt.Errorf("blocks nested more than %d deep", maxNesting)
			}
			block, err := p.block(depth + 1)
			if err != nil {
				return nil, err
			}
			current.block = block
			list = append(list, current)
			current = nil
		case '}':
			if current != nil {
				return nil, fmt.Errorf("directive %q lacks its \";\"", current.name)
			}
			if depth == 0 {
				return nil, errors.New(`unexpected "}"`)
			}
			return list, nil
		}
	}
}

// word reads the next word. end is the ";", "{" or "}" that follows it
// (a word and its end may come together, as in "always;"), or 0. At the
// end of the input it returns an empty, unquoted word and end 0.
func (p *nginxParser) word() (word string, quoted bool, end byte, err error) {
	// Skip white space and comments.
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '\n':
			p.line++
			p.pos++
		case c == ' ' || c == '\t' || c == '\r':
			p.pos++
		case c == '#':
			for p.pos < len(p.src) && p.src[p.pos] != '\n' {
				p.pos++
			}
		case c == ';' || c == '{' || c == '}':
			p.pos++
			return "", false, c, nil
		default:
			goto read
		}
	}
	return "", false, 0, nil

read:
	var buf []byte
	if q := p.src[p.pos]; q == '"' || q == '\'' {
		p.pos++
		for {
			if p.pos >= len(p.src) {
				return "", false, 0, errors.New("a quoted string is not closed")
			}
			c := p.src[p.pos]
			p.pos++
			switch {
			case c == q:
				end, err := p.afterQuote()
				return string(buf), true, end, err
			case c == '\\' && p.pos < len(p.src):
				buf = appendEscape(buf, p.src[p.pos])
				if p.src[p.pos] == '\n' {
					p.line++
				}
				p.pos++
			default:
				if c == '\n' {
					p.line++
				}
				buf = append(buf, c)
			}
		}
	}
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			return string(buf), false, 0, nil
		case c == ';' || c == '{' && (len(buf) == 0 || buf[len(buf)-1] != '$'):
			// "{" after "$" opens a variable name, ${name}, not a block.
			p.pos++
			return string(buf), false, c, nil
		case c == '\\' && p.pos+1 < len(p.src):
			buf = appendEscape(buf, p.src[p.pos+1])
			if p.src[p.pos+1] == '\n' {
				p.line++
			}
			p.pos += 2
		default:
			buf = append(buf, c)
			p.pos++
		}
	}
	return string(buf), false, 0, nil
}

// afterQuote checks what follows a closing quote: nginx wants white space,
// ";", "{" or the ")" that closes an if condition. It consumes a ";" or
// "{" and returns it.
func (p *nginxParser) afterQuote() (byte, error) {
	if p.pos >= len(p.src) {
		return 0, nil
	}
	switch c := p.src[p.pos]; c {
	case ' ', '\t', '\r', '\n', ')', '}':
		return 0, nil
	case ';', '{':
		p.pos++
		return c, nil
	default:
		return 0, fmt.Errorf("unexpected %q right after a quoted string: nginx wants a space there", c)
	}
}

// appendEscape resolves the escapes nginx resolves (\" \' \\ \t \r \n)
// and keeps any other backslash as written, as regular expressions need.
func appendEscape(buf []byte, c byte) []byte {
	switch c {
	case '"', '\'', '\\':
		return append(buf, c)
	case 't':
		return append(buf, '\t')
	case 'r':
		return append(buf, '\r')
	case 'n':
		return append(buf, '\n')
	}
	return append(buf, '\\', c)
}
