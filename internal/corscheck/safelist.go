package corscheck

import (
	"github.com/caddy-cors/cors/internal/headers"

	"slices"
	"strconv"
	"strings"
)

// Fetch: "A CORS-safelisted request-header" and "CORS-unsafe request-header
// names" (https://fetch.spec.whatwg.org/#cors-safelisted-request-header),
// as Chromium implements them in services/network/public/cpp/cors/cors.cc.
const (
	// maxSafelistedValueBytes: a safelisted header whose value is longer
	// is no longer safelisted.
	maxSafelistedValueBytes = 128
	// maxSafelistedTotalBytes: when the safelisted values together are
	// longer, every one of them is treated as unsafe.
	maxSafelistedTotalBytes = 1024
)

// HeaderVerdict says whether one request header lets the request stay
// "simple" and why.
type HeaderVerdict struct {
	Name       string `json:"name"`
	Value      string `json:"value"`
	Safelisted bool   `json:"safelisted"`
	Reason     string `json:"reason"`
}

// PreflightDecision is step 1: whether a browser sends a preflight before
// the request, and why.
type PreflightDecision struct {
	Needed bool `json:"needed"`
	// MethodSafelisted is false for any method but GET, HEAD and POST.
	MethodSafelisted bool            `json:"method_safelisted"`
	MethodReason     string          `json:"method_reason"`
	Headers          []HeaderVerdict `json:"headers,omitempty"`
	// SafelistedTotalBytes is the length of the safelisted values together,
	// held against the 1024-byte limit.
	SafelistedTotalBytes int `json:"safelisted_total_bytes"`
	// UnsafeHeaderNames are the names a preflight must get allowed,
	// lower-cased, de-duplicated and sorted by byte.
	UnsafeHeaderNames []string `json:"unsafe_header_names,omitempty"`
	// RequestHeaders is the Access-Control-Request-Headers value; empty
	// when the header is omitted.
	RequestHeaders string `json:"access_control_request_headers,omitempty"`
}

// isSafelistedMethod is byte-exact: Fetch compares the normalized method,
// and only delete/get/head/options/post/put are upper-cased by normalizing.
func isSafelistedMethod(method string) bool {
	return method == "GET" || method == "HEAD" || method == "POST"
}

// decidePreflight is step 1 of the check, for an already normalized request.
func decidePreflight(method string, headers []Header) PreflightDecision {
	d := PreflightDecision{MethodSafelisted: isSafelistedMethod(method)}
	if d.MethodSafelisted {
		d.MethodReason = method + " is a CORS-safelisted method"
	} else {
		d.MethodReason = method + " is not a CORS-safelisted method (only GET, HEAD and POST are, byte for byte)"
	}

	var unsafe, potentiallyUnsafe []string
	for _, h := range headers {
		ok, reason := safelistedRequestHeader(h.Name, h.Value)
		d.Headers = append(d.Headers, HeaderVerdict{Name: strings.ToLower(h.Name), Value: redact(h.Name, h.Value), Safelisted: ok, Reason: reason})
		if ok {
			potentiallyUnsafe = append(potentiallyUnsafe, strings.ToLower(h.Name))
			d.SafelistedTotalBytes += len(h.Value)
		} else {
			unsafe = append(unsafe, strings.ToLower(h.Name))
		}
	}
	// Fetch: safelisted values above 1024 bytes in total make every
	// safelisted header unsafe too.
	if d.SafelistedTotalBytes > maxSafelistedTotalBytes {
		for i := range d.Headers {
			if d.Headers[i].Safelisted {
				d.Headers[i].Safelisted = false
				d.Headers[i].Reason = "the safelisted values total " + strconv.Itoa(d.SafelistedTotalBytes) +
					" bytes, above the 1024-byte limit, so none of them is safelisted"
			}
		}
		unsafe = append(unsafe, potentiallyUnsafe...)
	}

	d.UnsafeHeaderNames = sortedLowercaseSet(unsafe)
	// Fetch, CORS-preflight fetch step 5: joined with "," and no space, on
	// purpose not "combined" with ", "; omitted when there are none.
	d.RequestHeaders = strings.Join(d.UnsafeHeaderNames, ",")
	d.Needed = !d.MethodSafelisted || len(d.UnsafeHeaderNames) > 0
	return d
}

// sortedLowercaseSet is Fetch's "convert header names to a sorted-lowercase set".
func sortedLowercaseSet(names []string) []string {
	set := make([]string, 0, len(names))
	for _, n := range names {
		set = append(set, strings.ToLower(n))
	}
	slices.Sort(set) // byte order, as Fetch requires
	return slices.Compact(set)
}

// safelistedRequestHeader reports whether name: value is a CORS-safelisted
// request-header, with the reason in words.
func safelistedRequestHeader(name, value string) (bool, string) {
	lower := strings.ToLower(name)
	switch lower {
	case "accept", "accept-language", "content-language", "content-type", "range":
	default:
		return false, lower + " is not a CORS-safelisted request-header name"
	}
	if len(value) > maxSafelistedValueBytes {
		return false, "the value is " + strconv.Itoa(len(value)) + " bytes long, above the 128-byte limit"
	}
	switch lower {
	case "accept":
		if b, ok := firstUnsafeByte(value); ok {
			return false, "the value contains the CORS-unsafe byte " + quoteByte(b)
		}
		return true, "a safelisted Accept value"
	case "accept-language", "content-language":
		for i := 0; i < len(value); i++ {
			if !isLanguageByte(value[i]) {
				return false, "the value contains " + quoteByte(value[i]) + ", outside 0-9 A-Z a-z space * , - . ; ="
			}
		}
		return true, "a safelisted " + lower + " value"
	case "content-type":
		if b, ok := firstUnsafeByte(value); ok {
			return false, "the value contains the CORS-unsafe byte " + quoteByte(b)
		}
		essence, ok := mimeEssence(value)
		if !ok {
			return false, "the value is not a valid MIME type"
		}
		switch essence {
		case "application/x-www-form-urlencoded", "multipart/form-data", "text/plain":
			return true, "the MIME type " + essence + " is safelisted"
		}
		return false, "the MIME type " + essence +
			" is not one of application/x-www-form-urlencoded, multipart/form-data, text/plain"
	default: // range
		if !isSimpleRange(value) {
			return false, "only a single bytes=N- or bytes=N-M range is safelisted"
		}
		return true, "a single bytes range is safelisted"
	}
}

// firstUnsafeByte finds a CORS-unsafe request-header byte: a control
// byte other than HT, DEL, or one of "():<>?@[\]{}.
func firstUnsafeByte(value string) (byte, bool) {
	for i := 0; i < len(value); i++ {
		c := value[i]
		if (c < 0x20 && c != '\t') || c == 0x7f || strings.IndexByte(`"():<>?@[\]{}`, c) >= 0 {
			return c, true
		}
	}
	return 0, false
}

func isLanguageByte(c byte) bool {
	return ('0' <= c && c <= '9') || ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') ||
		strings.IndexByte(" *,-.;=", c) >= 0
}

func quoteByte(c byte) string {
	if c < 0x20 || c >= 0x7f {
		return "0x" + strconv.FormatUint(uint64(c), 16)
	}
	return "'" + string(c) + "'"
}

// mimeEssence returns type/subtype, lower-cased, of a MIME type, following
// the MIME Sniffing standard's "parse a MIME type" as far as the essence goes.
func mimeEssence(value string) (string, bool) {
	value = strings.Trim(value, httpWhitespace)
	typ, rest, found := strings.Cut(value, "/")
	if !found || typ == "" || !headers.IsToken(typ) {
		return "", false
	}
	subtype, _, _ := strings.Cut(rest, ";")
	subtype = strings.TrimRight(subtype, httpWhitespace)
	if subtype == "" || !headers.IsToken(subtype) {
		return "", false
	}
	return strings.ToLower(typ + "/" + subtype), true
}

// isSimpleRange is Fetch's "parse a single range header value" with
// whitespace not allowed, and a start required: bytes=N- or bytes=N-M.
func isSimpleRange(value string) bool {
	spec, ok := strings.CutPrefix(value, "bytes=")
	if !ok {
		return false
	}
	start, end, ok := strings.Cut(spec, "-")
	if !ok || start == "" || !allDigits(start) || (end != "" && !allDigits(end)) {
		return false
	}
	if end == "" {
		return true
	}
	s, err1 := strconv.ParseUint(start, 10, 64)
	e, err2 := strconv.ParseUint(end, 10, 64)
	return err1 == nil && err2 == nil && s <= e
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
