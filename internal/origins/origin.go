// Package origins parses the origins browsers send, the origin patterns a CORS
// policy is written with, and matches the one against the other.
package origins

// MaxLength bounds the Origin values worth parsing: a 64-byte scheme, "://",
// a 253-byte host name and its trailing dot, and ":" with a 5-digit port, as
// in jub0bs/cors. No browser sends a longer origin, so a longer value is
// never allowed and costs no more than this to reject.
const MaxLength = 64 + len("://") + maxHostLength + len(".") + len(":") + 5

// maxHostLength is the longest host name DNS can carry, without the
// trailing dot.
const maxHostLength = 253

// Origin is a serialized origin split into its parts.
type Origin struct {
	Scheme string // lower-case, e.g. "https"
	Host   string // lower-case ASCII (Punycode), IPv6 in brackets
	Port   string // decimal without leading zeros; empty for the scheme's default port
}

// String serializes o the way browsers do (Fetch: serialized-origin).
func (o Origin) String() string {
	if o.Port == "" {
		return o.Scheme + "://" + o.Host
	}
	return o.Scheme + "://" + o.Host + ":" + o.Port
}

// Parse splits s into an Origin if s is spelled exactly as a browser
// serializes an origin: scheme "://" host [":" port], lower case, host in
// Punycode, no default port, no path, no trailing slash (R11). A host with a
// trailing dot (https://localhost.) is a distinct origin and is kept as
// written. Anything else, "null" included, is not a serialized origin of a
// tuple origin.
func Parse(s string) (Origin, bool) {
	if len(s) > MaxLength {
		return Origin{}, false
	}
	scheme, rest, ok := cutScheme(s)
	if !ok {
		return Origin{}, false
	}
	host, port, ok := cutHost(rest)
	if !ok || !validPort(scheme, port) {
		return Origin{}, false
	}
	return Origin{Scheme: scheme, Host: host, Port: port}, true
}

// cutScheme splits s after "://" and checks the scheme is lower-case
// ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
func cutScheme(s string) (scheme, rest string, ok bool) {
	for i := 0; i < len(s) && i <= 64; i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			if len(s) < i+3 || s[i+1] != '/' || s[i+2] != '/' {
				return "", "", false
			}
			return s[:i], s[i+3:], true
		default:
			return "", "", false
		}
	}
	return "", "", false
}

// cutHost splits "host[:port]" and checks the host's characters: a bracketed
// IPv6 address, or dot-separated non-empty labels of lower-case letters,
// digits, '-' and '_', with an optional trailing dot.
func cutHost(s string) (host, port string, ok bool) {
	if s == "" {
		return "", "", false
	}
	if s[0] == '[' {
		end := 1
		for end < len(s) && isIPv6Char(s[end]) {
			end++
		}
		if end == 1 || end >= len(s) || s[end] != ']' {
			return "", "", false
		}
		host, s = s[:end+1], s[end+1:]
	} else {
		end, labelLen := 0, 0
		for ; end < len(s) && s[end] != ':'; end++ {
			c := s[end]
			switch {
			case c == '.':
				if labelLen == 0 {
					return "", "", false
				}
				labelLen = 0
				continue
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
			default:
				return "", "", false
			}
			labelLen++
		}
		// Labels are never empty, so a host that ends with a dot ends
		// with one after a label: the fully qualified form (R11).
		hostLength := end
		if labelLen == 0 {
			hostLength--
		}
		if end == 0 || hostLength > maxHostLength {
			return "", "", false
		}
		host, s = s[:end], s[end:]
	}
	if s == "" {
		return host, "", true
	}
	if s[0] != ':' || len(s) == 1 {
		return "", "", false
	}
	return host, s[1:], true
}

func isIPv6Char(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || c == ':' || c == '.'
}

// validPort accepts an empty port or 1-65535 without leading zeros, and
// refuses the scheme's default port, which browsers leave out.
func validPort(scheme, port string) bool {
	if port == "" {
		return true
	}
	if len(port) > 5 || port[0] == '0' {
		return false
	}
	n := 0
	for i := 0; i < len(port); i++ {
		if port[i] < '0' || port[i] > '9' {
			return false
		}
		n = n*10 + int(port[i]-'0')
	}
	return n <= 65535 && port != defaultPort(scheme)
}

func defaultPort(scheme string) string {
	switch scheme {
	case "http", "ws":
		return "80"
	case "https", "wss":
		return "443"
	}
	return ""
}
