// Package importer translates the CORS configuration of nginx, of
// ingress-nginx's Ingress annotations and of a Gateway API HTTPRoute's
// CORS filter into a cors block. Every value goes through the module's
// own checks (package policy), so that a block said to be complete loads
// as it is; whatever cannot be carried over safely is said, never dropped
// in silence.
package importer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"
)

// Format is a kind of input.
type Format string

const (
	Nginx        Format = "nginx"
	IngressNginx Format = "ingress-nginx"
	GatewayAPI   Format = "gateway-api"
)

// Formats lists the formats, as --from takes them.
var Formats = []Format{Nginx, IngressNginx, GatewayAPI}

// Import reads src in format, or in the format it recognises when format
// is empty. An error means there was nothing to translate: the input is
// not valid, or holds no CORS configuration.
func Import(src []byte, format Format) (*Result, error) {
	if len(src) > maxInput {
		return nil, fmt.Errorf("the input is %d bytes, more than the %d a configuration to import should take", len(src), maxInput)
	}
	if format == "" {
		format = recognise(src)
	}
	switch format {
	case Nginx:
		return importNginx(src)
	case IngressNginx:
		return importIngress(src)
	case GatewayAPI:
		return importHTTPRoute(src)
	}
	return nil, fmt.Errorf("unknown format %q: use nginx, ingress-nginx or gateway-api", format)
}

// recognise tells the format of src: Kubernetes YAML with ingress-nginx's
// annotations, or with an HTTPRoute, else nginx.
func recognise(src []byte) Format {
	docs, err := yamlDocuments(src)
	if err != nil {
		return Nginx
	}
	for _, doc := range docs {
		switch {
		case doc.Kind == "HTTPRoute":
			return GatewayAPI
		case doc.Kind == "Ingress" || len(doc.ingressAnnotations()) > 0:
			return IngressNginx
		}
	}
	return Nginx
}

// object is the part of a Kubernetes object the importer reads.
type object struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name        string            `yaml:"name"`
		Namespace   string            `yaml:"namespace"`
		Annotations map[string]scalar `yaml:"annotations"`
	} `yaml:"metadata"`
	Spec struct {
		Rules []struct {
			Filters     []httpRouteFilter `yaml:"filters"`
			BackendRefs []struct {
				Filters []httpRouteFilter `yaml:"filters"`
			} `yaml:"backendRefs"`
		} `yaml:"rules"`
	} `yaml:"spec"`

	// The objects of a kind: List, as kubectl get -o yaml prints several.
	Items []*object `yaml:"items"`

	// An input of annotations alone, as they are often shared.
	bare map[string]scalar
}

// scalar is a YAML scalar as text, whatever its type: an annotation is a
// string in Kubernetes, but people write enable-cors: true unquoted.
type scalar string

func (s *scalar) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a single value is expected here", n.Line)
	}
	*s = scalar(n.Value)
	return nil
}

// yamlDocuments reads every document of a YAML stream.
func yamlDocuments(src []byte) ([]*object, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var docs []*object
	for {
		var node yaml.Node
		err := dec.Decode(&node)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("YAML: %w", err)
		}
		if len(node.Content) == 0 || node.Content[0].Kind != yaml.MappingNode {
			return nil, errors.New("YAML: a document is not a mapping")
		}
		doc := new(object)
		if err := node.Decode(doc); err != nil {
			return nil, fmt.Errorf("YAML: %w", err)
		}
		if doc.Kind == "" {
			var bare map[string]yaml.Node
			if node.Decode(&bare) == nil {
				doc.bare = map[string]scalar{}
				for k, v := range bare {
					if v.Kind == yaml.ScalarNode {
						doc.bare[k] = scalar(v.Value)
					}
				}
			}
		}
		if doc.Kind == "List" {
			docs = append(docs, doc.Items...)
			continue
		}
		docs = append(docs, doc)
	}
	return docs, nil
}

// describe names an object as kubectl does: Ingress default/api.
func (o *object) describe() string {
	name := o.Metadata.Name
	if o.Metadata.Namespace != "" {
		name = o.Metadata.Namespace + "/" + name
	}
	return strings.TrimSpace(o.Kind + " " + name)
}
