package corscheck

import (
	"fmt"
	"strings"
)

// Browser is the engine whose console message and preflight cache the
// report follows. The checks themselves are the Fetch standard's, in
// Chromium's order, whichever engine is named.
type Browser string

// The engines cors-check knows.
const (
	Chromium Browser = "chromium"
	Firefox  Browser = "firefox"
	WebKit   Browser = "webkit"
)

// Browsers lists the engines in the order help texts name them.
var Browsers = []Browser{Chromium, Firefox, WebKit}

// ParseBrowser reads a --browser value; "" is Chromium.
func ParseBrowser(name string) (Browser, error) {
	if name == "" {
		return Chromium, nil
	}
	for _, b := range Browsers {
		if strings.EqualFold(name, string(b)) {
			return b, nil
		}
	}
	names := make([]string, len(Browsers))
	for i, b := range Browsers {
		names[i] = string(b)
	}
	return "", fmt.Errorf("unknown browser %q: use %s", name, strings.Join(names, ", "))
}

// Name is how the engine is written in prose.
func (b Browser) Name() string {
	switch b {
	case Firefox:
		return "Firefox"
	case WebKit:
		return "WebKit"
	}
	return "Chromium"
}
