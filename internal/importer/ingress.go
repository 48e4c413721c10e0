package importer

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ingress-nginx's CORS annotations and its defaults for those absent
// (internal/ingress/annotations/cors in ingress-nginx, and its annotation
// docs). An absent cors-allow-origin is "*", and an absent
// cors-allow-credentials is true.
const (
	annotationPrefix      = "nginx.ingress.kubernetes.io/"
	ingressDefaultMethods = "GET, PUT, POST, DELETE, PATCH, OPTIONS"
	ingressDefaultHeaders = "DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization"
	ingressDefaultMaxAge  = 1728000
)

// What ingress-nginx accepts in each annotation; a value that does not
// match is replaced by the default (an origin: skipped) with only a line
// in the controller's log. These describe ingress-nginx's input, not the
// module's rules, which are applied afterwards.
var (
	ingressOriginSyntax  = regexp.MustCompile(`^(https?://(\*\.)?[A-Za-z0-9\-\.]*(:[0-9]+)?|\*)?$`)
	ingressMethodsSyntax = regexp.MustCompile(`^([A-Za-z]+,?\s?)+$`)
	ingressHeadersSyntax = regexp.MustCompile(`^([A-Za-z0-9\-\_]+,?\s?)+$`)
	ingressExposeSyntax  = regexp.MustCompile(`^(([A-Za-z0-9\-\_]+|\*),?\s?)+$`)
)

// ingressAnnotations gives the ingress-nginx annotations of an object,
// without their prefix, or of a document of annotations alone.
func (o *object) ingressAnnotations() map[string]string {
	source := o.Metadata.Annotations
	if o.Kind == "" {
		source = o.bare
	}
	annotations := map[string]string{}
	for k, v := range source {
		if name, ok := strings.CutPrefix(k, annotationPrefix); ok && (name == "enable-cors" || strings.HasPrefix(name, "cors-")) {
			annotations[name] = string(v)
		}
	}
	return annotations
}

func importIngress(src []byte) (*Result, error) {
	docs, err := yamlDocuments(src)
	if err != nil {
		return nil, err
	}
	var found []*object
	for _, doc := range docs {
		if a := doc.ingressAnnotations(); len(a) > 0 && (doc.Kind == "" || doc.Kind == "Ingress") {
			found = append(found, doc)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("no ingress-nginx CORS annotation (%senable-cors, cors-allow-origin, ...) found", annotationPrefix)
	case 1:
	default:
		var names []string
		for _, o := range found {
			names = append(names, o.describe())
		}
		return nil, fmt.Errorf("%d objects have CORS annotations (%s): import one at a time, as each becomes the cors block of its own site or route", len(found), strings.Join(names, ", "))
	}
	a := found[0].ingressAnnotations()
	if enabled, _ := strconv.ParseBool(a["enable-cors"]); !enabled {
		return nil, fmt.Errorf("%senable-cors is not \"true\", so ingress-nginx adds no CORS header and there is nothing to import", annotationPrefix)
	}
	b := &builder{}
	at := func(name string) string { return annotationPrefix + name }

	if raw, ok := a["cors-allow-origin"]; ok {
		for _, origin := range strings.Split(raw, ",") {
			origin = strings.TrimSpace(origin)
			switch {
			case origin == "*":
				b.addOrigin("*", at("cors-allow-origin"))
			case origin == "":
			case !ingressOriginSyntax.MatchString(origin):
				b.note("%s: %q left out: ingress-nginx skips it too (scheme://host[:port] only)", at("cors-allow-origin"), origin)
			default:
				ingressOrigin(b, strings.ToLower(origin), at("cors-allow-origin"))
			}
		}
	} else {
		b.addOrigin("*", at("cors-allow-origin")+" (absent: ingress-nginx's default *)")
	}

	methods := a["cors-allow-methods"]
	if !ingressMethodsSyntax.MatchString(methods) {
		methods = ingressDefaultMethods
	}
	b.addMethods(splitList(methods), at("cors-allow-methods"))

	headers := a["cors-allow-headers"]
	if !ingressHeadersSyntax.MatchString(headers) {
		headers = ingressDefaultHeaders
	}
	b.addHeaders(splitList(headers), at("cors-allow-headers"))

	if expose := a["cors-expose-headers"]; ingressExposeSyntax.MatchString(expose) {
		b.addExpose(splitList(expose), at("cors-expose-headers"))
	}

	credentials, err := strconv.ParseBool(a["cors-allow-credentials"])
	if err != nil {
		credentials = true // ingress-nginx's default, for an absent or unreadable value
	}
	b.cfg.Credentials = credentials

	maxAge, err := strconv.ParseInt(a["cors-max-age"], 10, 64)
	if err != nil {
		maxAge = ingressDefaultMaxAge
	}
	b.setMaxAge(maxAge, at("cors-max-age"))
	return b.result(), nil
}

// ingressOrigin carries over an origin ingress-nginx accepted. Its
// https://*.example.com matches one label only ([A-Za-z0-9-]+); the
// module's pattern matches any depth.
func ingressOrigin(b *builder, origin, where string) {
	if _, parent, ok := strings.Cut(origin, "://*."); ok {
		parent, _, _ = strings.Cut(parent, ":")
		b.note("%s: %s matched one level of subdomain in ingress-nginx (a.%s); in the module it matches every depth (a.b.%s too), within the same registrable domain", where, origin, parent, parent)
	}
	b.addOrigin(origin, where)
}
