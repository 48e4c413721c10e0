package corscheck

import (
	"net/netip"
	"net/url"
	"strings"
)

// addressSpace is where a host lies for Local Network Access, judged from
// how it is written: cors-check makes no DNS lookup, so a name is public
// unless browsers resolve it locally themselves (localhost, mDNS's .local).
type addressSpace int

const (
	publicSpace addressSpace = iota
	// localSpace: RFC 1918 and fc00::/7 (private), 169.254.0.0/16 and
	// fe80::/10 (link-local), and *.local names.
	localSpace
	// loopbackSpace: 127.0.0.0/8, ::1, localhost and *.localhost.
	loopbackSpace
)

// spaceOf classifies a host as url.URL.Hostname returns it.
func spaceOf(host string) addressSpace {
	if ip, err := netip.ParseAddr(host); err == nil {
		ip = ip.Unmap() // ::ffff:127.0.0.1 is 127.0.0.1
		switch {
		case ip.IsLoopback():
			return loopbackSpace
		case ip.IsPrivate(), ip.IsLinkLocalUnicast():
			return localSpace
		}
		return publicSpace
	}
	name := strings.TrimSuffix(strings.ToLower(host), ".")
	switch {
	case name == "localhost" || strings.HasSuffix(name, ".localhost"):
		// Browsers resolve these to loopback without asking DNS.
		return loopbackSpace
	case strings.HasSuffix(name, ".local"):
		return localSpace
	}
	return publicSpace
}

// LocalNetworkAccess is the verdict on the Local Network Access permission,
// which a public page needs in Chromium and Firefox to fetch a loopback or
// local address: the browser asks the user before anything is sent, and no
// response header can grant it.
type LocalNetworkAccess struct {
	// AddressSpace is where the URL's host lies: "loopback" or "local".
	AddressSpace string `json:"address_space"`
	// Permission is what Chromium asks the user for: "loopback-network" or
	// "local-network".
	Permission string `json:"permission"`
	// BrowserAsks: the engine named with --browser has this permission
	// (Chromium and Firefox do, WebKit does not).
	BrowserAsks bool `json:"browser_asks"`
	// ConsoleMessage is what the engine prints when the permission is
	// denied (Chromium's text when the engine has no such permission).
	ConsoleMessage string `json:"console_message"`
	Summary        string `json:"summary"`
}

// localNetworkAccess returns the verdict for a fetch() from origin (as a
// browser serializes it) to u, or nil when the permission does not apply:
// the target is public, or the page is not (a local page gets no prompt
// here; null is no origin to judge).
func localNetworkAccess(origin string, u *url.URL, b Browser) *LocalNetworkAccess {
	target := spaceOf(u.Hostname())
	if target == publicSpace || origin == "null" {
		return nil
	}
	o, err := url.Parse(origin)
	if err != nil || spaceOf(o.Hostname()) != publicSpace {
		return nil
	}
	v := &LocalNetworkAccess{AddressSpace: "local", Permission: "local-network", BrowserAsks: b != WebKit}
	what := "a local-network address"
	if target == loopbackSpace {
		v.AddressSpace, v.Permission, what = "loopback", "loopback-network", "a loopback address"
	}
	asker := "Chromium (Chrome 142 and later)"
	v.ConsoleMessage = localNetworkAccessDenied(v.AddressSpace)
	if b == Firefox {
		asker = "Firefox"
		v.ConsoleMessage = firefoxLocalNetworkAccessDenied(u.String())
	}

	var s strings.Builder
	if !v.BrowserAsks {
		s.WriteString(b.Name() + " has no such prompt; Chromium-based browsers and Firefox do: ")
	}
	s.WriteString("the page's origin " + origin + " is public and " + u.Host + " is " + what +
		", so " + asker + " asks the user for the " + v.Permission + " permission before it sends anything; " +
		"only a page in a secure context (https) can be given it")
	if o.Scheme != "https" {
		s.WriteString(", which " + origin + " is not")
	}
	s.WriteString(". If it is denied, the console shows \"" + v.ConsoleMessage + "\" as a CORS error, " +
		"but no response header can grant the permission: no CORS configuration fixes it")
	v.Summary = s.String()
	return v
}
