package importer

import (
	"fmt"
	"reflect"
	"strings"
)

// httpRouteFilter is an HTTPRoute filter; only the CORS filter of GEP-1767
// is read.
type httpRouteFilter struct {
	Type string      `yaml:"type"`
	CORS *corsFilter `yaml:"cors"`
}

// corsFilter is Gateway API's HTTPCORSFilter.
type corsFilter struct {
	AllowOrigins     []string `yaml:"allowOrigins"`
	AllowMethods     []string `yaml:"allowMethods"`
	AllowHeaders     []string `yaml:"allowHeaders"`
	ExposeHeaders    []string `yaml:"exposeHeaders"`
	AllowCredentials *bool    `yaml:"allowCredentials"`
	MaxAge           *int64   `yaml:"maxAge"`
}

// gatewayDefaultMaxAge is GEP-1767's default: a gateway sends
// Access-Control-Max-Age: 5 when maxAge is absent.
const gatewayDefaultMaxAge = 5

func importHTTPRoute(src []byte) (*Result, error) {
	docs, err := yamlDocuments(src)
	if err != nil {
		return nil, err
	}
	var filters []*corsFilter
	var names []string
	add := func(o *object, list []httpRouteFilter) {
		for _, f := range list {
			if f.CORS == nil {
				continue
			}
			for _, have := range filters {
				if reflect.DeepEqual(have, f.CORS) {
					return // the same filter on several rules is one policy
				}
			}
			filters = append(filters, f.CORS)
			names = append(names, o.describe())
		}
	}
	for _, doc := range docs {
		if doc.Kind != "HTTPRoute" {
			continue
		}
		for _, rule := range doc.Spec.Rules {
			add(doc, rule.Filters)
			for _, ref := range rule.BackendRefs {
				add(doc, ref.Filters)
			}
		}
	}
	switch len(filters) {
	case 0:
		return nil, fmt.Errorf("no HTTPRoute with a CORS filter (filters: - type: CORS, cors: ...) found")
	case 1:
	default:
		return nil, fmt.Errorf("%d different CORS filters found (in %s): import one at a time, as each becomes the cors block of its own route", len(filters), strings.Join(names, ", "))
	}
	f := filters[0]
	b := &builder{}
	b.cfg.Credentials = f.AllowCredentials != nil && *f.AllowCredentials
	for _, origin := range f.AllowOrigins {
		switch {
		case origin == "*" && b.cfg.Credentials:
			// GEP-1767 requires sending back the request's origin here.
			b.addReflection()
		default:
			// A GEP-1767 wildcard, *.example.com, takes any number of
			// labels, as the module's pattern does.
			b.addOrigin(strings.ToLower(origin), "allowOrigins")
		}
	}
	b.addMethods(f.AllowMethods, "allowMethods")
	if contains(f.AllowHeaders, "*") && b.cfg.Credentials {
		// GEP-1767 sends back the names asked for, Authorization included.
		b.addAnyHeader()
	}
	b.addHeaders(f.AllowHeaders, "allowHeaders")
	b.addExpose(f.ExposeHeaders, "exposeHeaders")
	maxAge := int64(gatewayDefaultMaxAge)
	if f.MaxAge != nil {
		maxAge = *f.MaxAge
	}
	b.setMaxAge(maxAge, "maxAge")
	return b.result(), nil
}

func contains(list []string, v string) bool {
	for _, have := range list {
		if have == v {
			return true
		}
	}
	return false
}
