package cors

import (
	"fmt"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/caddy-cors/cors/internal/policy"
)

// OriginSource is a guest module that allows origins beyond those
// configured in `allowed_origins` and `allowed_origin_regexps`: a list
// kept in a file, an endpoint that says yes or no, a database. Sources are
// Caddy modules in the namespace `http.handlers.cors.origin_sources`,
// named in a handler's `origin_sources` (Caddyfile: `origins_from`).
//
// A source is asked only about an origin the static configuration does not
// allow, and only about a valid serialized origin as browsers send it
// (`scheme://host[:port]`, never `null` or a malformed value); with
// `allow_credentials`, never about a plain `http://` origin other than
// loopback. Sources are asked in order, and the first that allows the
// origin wins.
//
// AllowOrigin is called on the request path, by many requests at once.
// It reports whether origin is allowed. A nil error with false is a
// plain refusal (reason `origin`); an error is an origin that could not
// be checked, refused too: ErrOriginSourceBusy (or an error that wraps
// it) gives the reason `origin_source_busy`, any other error
// `origin_source_error`. The error's text goes to the log line only,
// never to the response, so it may name an endpoint or a file.
//
// The request waits for the answer, so a source that asks something
// slow bounds the time it takes (a timeout) and caches answers. origin is
// part of the request: a source that keeps it must keep a copy
// (strings.Clone). A source whose answer for a known origin costs no
// allocation keeps the request path free of them.
//
// Whatever a source starts (a poller, a connection pool) it stops in
// Cleanup (caddy.CleanerUpper), which Caddy calls when the configuration
// that loaded it is replaced.
type OriginSource interface {
	AllowOrigin(origin string) (bool, error)
}

// ErrOriginSourceBusy is what an OriginSource answers when it has too many
// lookups under way to start another: the request is refused at once,
// with the reason `origin_source_busy`.
var ErrOriginSourceBusy = policy.ErrSourceBusy

// originSourceNamespace is where sources are registered.
const originSourceNamespace = "http.handlers.cors.origin_sources"

// loadOriginSources loads the handler's origin_sources, in order.
func (c *CORS) loadOriginSources(ctx caddy.Context) error {
	if len(c.OriginSourcesRaw) == 0 {
		return nil
	}
	mods, err := ctx.LoadModule(c, "OriginSourcesRaw")
	if err != nil {
		return fmt.Errorf("loading origin_sources: %v", err)
	}
	for i, mod := range mods.([]any) {
		source, ok := mod.(OriginSource)
		if !ok {
			return fmt.Errorf("origin_sources[%d]: module %T is not an origin source (it has no AllowOrigin(origin string) (bool, error) method)", i, mod)
		}
		c.sources = append(c.sources, source)
	}
	return nil
}

// policySources gives the sources to the policy. Before Provision, when
// only their configuration is known (the Caddyfile adapter checks that a
// policy has some origin), each configured source stands as nil.
func (c *CORS) policySources() []policy.Source {
	if c.sources == nil {
		return make([]policy.Source, len(c.OriginSourcesRaw))
	}
	sources := make([]policy.Source, len(c.sources))
	for i, s := range c.sources {
		sources[i] = s
	}
	return sources
}

// parseOriginsFrom reads an origins_from line and its block:
//
//	origins_from <source> [<args...>] {
//		<option> <value>
//	}
//
// The source's own Caddyfile unmarshaler reads the rest, so that a
// source from another plugin is written like the built-in ones.
func (c *CORS) parseOriginsFrom(d *caddyfile.Dispenser) error {
	// An error names the line of origins_from; the segment, block
	// included, is then skipped, so that reading goes on after it.
	if !d.NextArg() {
		err := d.Errf("origins_from needs a source: origins_from file <path> or origins_from http <endpoint>")
		d.NextSegment()
		return err
	}
	name := d.Val()
	if _, err := caddy.GetModule(originSourceNamespace + "." + name); err != nil {
		err := d.Errf("origins_from: unknown source '%s': write origins_from file <path> or origins_from http <endpoint>, or build Caddy with the plugin that provides it", name)
		d.NextSegment()
		return err
	}
	unm, err := caddyfile.UnmarshalModule(d, originSourceNamespace+"."+name)
	if err != nil {
		return err
	}
	c.OriginSourcesRaw = append(c.OriginSourcesRaw, caddyconfig.JSONModuleObject(unm, "source", name, nil))
	return nil
}
