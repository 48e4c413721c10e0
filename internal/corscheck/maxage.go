package corscheck

import "strconv"

// MaxAge is how long a browser keeps the preflight's result.
type MaxAge struct {
	Value   string
	Present bool
	// Seconds is how long the engine checked keeps it.
	Seconds int64
	Note    string
}

// defaultMaxAge is the Fetch default when Access-Control-Max-Age is absent.
const defaultMaxAge = 5

// maxAgeCap is each engine's preflight-cache cap (R35): Chromium's
// kMaxTimeout in services/network/cors/preflight_result.cc, Firefox's in
// nsCORSListenerProxy.cpp, WebKit's maxPreflightCacheTimeout in
// CrossOriginPreflightResultCache.cpp.
func maxAgeCap(b Browser) int64 {
	switch b {
	case Firefox:
		return 86400
	case WebKit:
		return 600
	}
	return 7200
}

// keptSeconds is how long b keeps a preflight that passed, and how it
// reads the value when it is not a number of seconds (R35).
func keptSeconds(b Browser, value string, present bool) (int64, string) {
	if !present {
		return defaultMaxAge, ""
	}
	seconds, err := strconv.ParseInt(value, 10, 64)
	switch {
	case err == nil && seconds >= 0:
		return min(seconds, maxAgeCap(b)), ""
	case b == Firefox, err == nil: // Firefox: anything but digits; the others: negative
		return 0, "does not cache it"
	}
	return defaultMaxAge, "falls back to 5 s"
}

// maxAgeFor reads Access-Control-Max-Age for b, and says what the other
// engines do with it.
func maxAgeFor(b Browser, value string, present bool) *MaxAge {
	m := &MaxAge{Value: printable(value), Present: present}
	m.Seconds, _ = keptSeconds(b, value, present)
	if !present {
		m.Note = "absent: browsers keep this preflight result 5 s (the Fetch default)"
		return m
	}
	if seconds, err := strconv.ParseInt(value, 10, 64); err == nil && seconds < 0 {
		m.Note = "negative: not cached; send 0 to disable caching"
		return m
	}
	others := make([]Browser, 0, len(Browsers)-1)
	for _, o := range Browsers {
		if o != b {
			others = append(others, o)
		}
	}
	if _, fallback := keptSeconds(b, value, present); fallback != "" {
		m.Note = "\"" + m.Value + "\" is not a number of seconds: " + b.Name() + " " + fallback
		for _, o := range others {
			_, how := keptSeconds(o, value, present)
			m.Note += ", " + o.Name() + " " + how
		}
		return m
	}
	limit := maxAgeCap(b)
	m.Note = value + " s: " + b.Name() + " keeps it " + strconv.FormatInt(m.Seconds, 10) + " s (cap " + strconv.FormatInt(limit, 10) + " s)"
	if seconds, _ := strconv.ParseInt(value, 10, 64); seconds > limit {
		m.Note += ", so anything above " + strconv.FormatInt(limit, 10) + " s gains nothing in " + b.Name()
	}
	for i, o := range others {
		kept, _ := keptSeconds(o, value, present)
		if i == 0 {
			m.Note += "; "
		} else {
			m.Note += ", "
		}
		m.Note += o.Name() + " " + strconv.FormatInt(kept, 10) + " s (cap " + strconv.FormatInt(maxAgeCap(o), 10) + " s)"
	}
	return m
}
