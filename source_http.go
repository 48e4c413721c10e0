package cors

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/caddy-cors/cors/internal/originlookup"
)

func init() {
	caddy.RegisterModule(HTTPSource{})
}

// HTTPSource asks an HTTP endpoint whether an origin is allowed, as
// Caddy's `tls.permission.http` asks before it issues a certificate: it
// sends `GET <endpoint>?origin=<query-escaped origin>`; a 2xx answer
// allows the origin, any other status refuses it. No redirect is followed
// and at most 4 KiB of the body is read.
//
// Answers are cached per origin: a yes for `cache`, a no for
// `negative_cache`, at most `cache_size` of them, so that memory stays
// bounded whatever origins are sent. Concurrent requests for one origin
// share one lookup, and at most `max_in_flight` lookups run at once;
// beyond that, a request is refused at once with the reason
// `origin_source_busy`, so that a flood of made-up origins costs the
// endpoint at most `max_in_flight` concurrent requests.
//
// It fails closed: a timeout, a transport error or a 5xx answer refuses
// the origin with the reason `origin_source_error`, and is cached for 5
// seconds at most. The response to the browser says only that the origin
// could not be checked; the log line names the endpoint and the error.
type HTTPSource struct {
	// The endpoint's URL, http or https. It may have a query of its own;
	// `origin` is added to it.
	Endpoint string `json:"endpoint,omitempty"`

	// How long a lookup may take. Default: `2s`.
	Timeout caddy.Duration `json:"timeout,omitempty"`

	// How long an allowed origin is remembered. Default: `5m`.
	Cache caddy.Duration `json:"cache,omitempty"`

	// How long a refused origin is remembered. Default: `1m`.
	NegativeCache caddy.Duration `json:"negative_cache,omitempty"`

	// How many answers are remembered at most. Default: `10000`.
	CacheSize int `json:"cache_size,omitempty"`

	// How many lookups may run at once. Default: `32`.
	MaxInFlight int `json:"max_in_flight,omitempty"`

	endpoint  *url.URL
	client    *http.Client
	transport *http.Transport
	lookup    *originlookup.Lookup
	counters  lookupCounters
}

// The defaults of HTTPSource, and what bounds it whatever is configured.
const (
	defaultHTTPTimeout     = 2 * time.Second
	defaultHTTPCache       = 5 * time.Minute
	defaultHTTPNegative    = time.Minute
	defaultHTTPCacheSize   = 10_000
	defaultHTTPMaxInFlight = 32

	// maxFailureCache bounds how long a failure is remembered: long
	// enough that a failing endpoint is not hammered, short enough that
	// it is asked again soon after it recovers.
	maxFailureCache = 5 * time.Second

	// maxAnswerBody is how much of an answer's body is read, so that a
	// huge answer costs nothing; the status is the answer.
	maxAnswerBody = 4 << 10
)

// CaddyModule returns the Caddy module information.
func (HTTPSource) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.cors.origin_sources.http",
		New: func() caddy.Module { return new(HTTPSource) },
	}
}

// UnmarshalCaddyfile reads:
//
//	origins_from http <endpoint> {
//		timeout        <duration>
//		cache          <duration>
//		negative_cache <duration>
//		cache_size     <count>
//		max_in_flight  <count>
//	}
func (s *HTTPSource) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the source's name
	if !d.NextArg() {
		return d.Errf("origins_from http needs the endpoint's URL, such as http://127.0.0.1:8081/cors/allowed")
	}
	s.Endpoint = d.Val()
	if d.NextArg() {
		return d.Errf("origins_from http takes one endpoint")
	}
	if _, err := parseEndpoint(s.Endpoint); err != nil {
		return d.WrapErr(err)
	}
	for d.NextBlock(0) {
		option := d.Val()
		if !d.NextArg() {
			return d.ArgErr()
		}
		var err error
		switch option {
		case "timeout":
			err = parsePositiveDuration(d, option, &s.Timeout)
		case "cache":
			err = parsePositiveDuration(d, option, &s.Cache)
		case "negative_cache":
			err = parsePositiveDuration(d, option, &s.NegativeCache)
		case "cache_size":
			err = parsePositiveCount(d, option, &s.CacheSize)
		case "max_in_flight":
			err = parsePositiveCount(d, option, &s.MaxInFlight)
		default:
			err = d.Errf("unrecognized option '%s' of origins_from http: the options are timeout, cache, negative_cache, cache_size and max_in_flight", option)
		}
		if err != nil {
			return err
		}
		if d.NextArg() {
			return d.ArgErr()
		}
	}
	return nil
}

func parsePositiveDuration(d *caddyfile.Dispenser, option string, to *caddy.Duration) error {
	dur, err := caddy.ParseDuration(d.Val())
	if err != nil || dur <= 0 {
		return d.Errf("invalid %s '%s': write a duration such as 30s", option, d.Val())
	}
	*to = caddy.Duration(dur)
	return nil
}

func parsePositiveCount(d *caddyfile.Dispenser, option string, to *int) error {
	n, err := strconv.Atoi(d.Val())
	if err != nil || n <= 0 {
		return d.Errf("invalid %s '%s': write a positive whole number", option, d.Val())
	}
	*to = n
	return nil
}

// parseEndpoint checks an endpoint's URL.
func parseEndpoint(endpoint string) (*url.URL, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("origins_from http: endpoint %q is not an http:// or https:// URL; write one such as http://127.0.0.1:8081/cors/allowed", endpoint)
	}
	if u.Query().Has("origin") {
		return nil, fmt.Errorf("origins_from http: endpoint %q already has an origin parameter; the request's origin is added as ?origin=, remove it", endpoint)
	}
	return u, nil
}

// Provision checks the configuration and sets up the client and caches.
func (s *HTTPSource) Provision(ctx caddy.Context) error {
	u, err := parseEndpoint(s.Endpoint)
	if err != nil {
		return err
	}
	s.endpoint = u
	for name, d := range map[string]*caddy.Duration{"timeout": &s.Timeout, "cache": &s.Cache, "negative_cache": &s.NegativeCache} {
		if *d < 0 {
			return fmt.Errorf("origins_from http: %s %s is negative: write a duration such as 30s", name, time.Duration(*d))
		}
	}
	for name, n := range map[string]*int{"cache_size": &s.CacheSize, "max_in_flight": &s.MaxInFlight} {
		if *n < 0 {
			return fmt.Errorf("origins_from http: %s %d is negative: write a positive whole number", name, *n)
		}
	}
	setDefault(&s.Timeout, defaultHTTPTimeout)
	setDefault(&s.Cache, defaultHTTPCache)
	setDefault(&s.NegativeCache, defaultHTTPNegative)
	if s.CacheSize == 0 {
		s.CacheSize = defaultHTTPCacheSize
	}
	if s.MaxInFlight == 0 {
		s.MaxInFlight = defaultHTTPMaxInFlight
	}
	if err := registerSourceMetrics(ctx.GetMetricsRegistry()); err != nil {
		return err
	}
	s.counters = newLookupCounters("http")

	s.transport = &http.Transport{
		Proxy:               nil, // the endpoint is yours: no proxy from the environment
		DialContext:         (&net.Dialer{Timeout: time.Duration(s.Timeout)}).DialContext,
		MaxIdleConnsPerHost: s.MaxInFlight,
		IdleConnTimeout:     time.Minute,
	}
	s.client = &http.Client{
		Transport: s.transport,
		Timeout:   time.Duration(s.Timeout),
		// A redirect is an answer, and not a 2xx.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	s.lookup = originlookup.New(originlookup.Config{
		Ask:         s.ask,
		Allowed:     time.Duration(s.Cache),
		Refused:     time.Duration(s.NegativeCache),
		Failed:      min(time.Duration(s.NegativeCache), maxFailureCache-originlookup.Tick),
		Size:        s.CacheSize,
		MaxInFlight: s.MaxInFlight,
	})
	return nil
}

func setDefault(d *caddy.Duration, value time.Duration) {
	if *d == 0 {
		*d = caddy.Duration(value)
	}
}

// AllowOrigin answers from the cache, or asks the endpoint.
func (s *HTTPSource) AllowOrigin(origin string) (bool, error) {
	allowed, err, cached := s.lookup.Allow(origin)
	c := &s.counters
	switch {
	case errors.Is(err, originlookup.ErrBusy):
		c.busy.Inc()
		return false, ErrOriginSourceBusy
	case err != nil && cached:
		c.cachedErrored.Inc()
	case err != nil:
		c.errored.Inc()
	case allowed && cached:
		c.cachedAllowed.Inc()
	case allowed:
		c.allowed.Inc()
	case cached:
		c.cachedRefused.Inc()
	default:
		c.refused.Inc()
	}
	return allowed, err
}

// ask sends one lookup to the endpoint.
func (s *HTTPSource) ask(origin string) (bool, error) {
	u := *s.endpoint
	q := u.Query()
	q.Set("origin", origin)
	u.RawQuery = q.Encode()
	resp, err := s.client.Get(u.String())
	if err != nil {
		// url.Error names the method and the URL.
		return false, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswerBody))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 500:
		return false, fmt.Errorf("GET %s: status %d", strings.TrimSpace(u.Redacted()), resp.StatusCode)
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return true, nil
	}
	return false, nil
}

// Cleanup stops the cache's clock and closes the connections kept to the
// endpoint.
func (s *HTTPSource) Cleanup() error {
	if s.lookup != nil {
		s.lookup.Close()
	}
	if s.transport != nil {
		s.transport.CloseIdleConnections()
	}
	return nil
}

// Interface guards
var (
	_ OriginSource          = (*HTTPSource)(nil)
	_ caddy.Provisioner     = (*HTTPSource)(nil)
	_ caddy.CleanerUpper    = (*HTTPSource)(nil)
	_ caddyfile.Unmarshaler = (*HTTPSource)(nil)
)
