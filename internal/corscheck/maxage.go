package corscheck

import "strconv"

// MaxAge is how long browsers keep the preflight's result.
type MaxAge struct {
	Value   string `json:"value,omitempty"`
	Present bool   `json:"present"`
	// ChromiumSeconds follows services/network/cors/preflight_result.cc:
	// absent or unparsable 5 s, negative 0, capped at 7200 s.
	ChromiumSeconds int64  `json:"chromium_seconds"`
	Note            string `json:"note"`
}

const (
	chromiumMaxAgeCap  = 7200
	firefoxMaxAgeCap   = 86400
	safariMaxAgeCap    = 600
	defaultMaxAgeInSec = 5
)

func parseMaxAge(value string, present bool) *MaxAge {
	m := &MaxAge{Value: printable(value), Present: present}
	if !present {
		m.ChromiumSeconds = defaultMaxAgeInSec
		m.Note = "absent: browsers keep this preflight result 5 s (the Fetch default)"
		return m
	}
	seconds, err := strconv.ParseInt(value, 10, 64)
	switch {
	case err != nil:
		m.ChromiumSeconds = defaultMaxAgeInSec
		m.Note = "\"" + m.Value + "\" is not a number of seconds: Chromium falls back to 5 s, Firefox does not cache"
	case seconds < 0:
		m.Note = "negative: not cached; send 0 to disable caching"
	default:
		m.ChromiumSeconds = min(seconds, chromiumMaxAgeCap)
		m.Note = strconv.FormatInt(seconds, 10) + " s: Chromium keeps it " + strconv.FormatInt(m.ChromiumSeconds, 10) +
			" s (cap 7200 s), Firefox " + strconv.FormatInt(min(seconds, firefoxMaxAgeCap), 10) +
			" s (cap 86400 s), Safari " + strconv.FormatInt(min(seconds, safariMaxAgeCap), 10) + " s (cap 600 s)"
	}
	return m
}
