package importer

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/caddy-cors/cors/internal/policy"
)

// seeds are the real-world inputs of the root package's table, and a few
// of nginx's quoting corners.
func seeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "import", "*"))
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	for _, s := range []string{
		`add_header "Access-Control-Allow-Origin" '$http_origin' always;`,
		"if ($http_origin ~* \"^https://a\\.example\\.com$\") { add_header Access-Control-Allow-Origin $http_origin; }",
		`set $a "${b}x"; add_header Access-Control-Allow-Origin $a;`,
		"map $http_origin $o { default ''; ~^https://x\\.example\\.com$ $http_origin; }\nadd_header Access-Control-Allow-Origin $o;",
		"a 'b\\'c' \"d\\\"e\" f\\ g; # c\n",
		"nginx.ingress.kubernetes.io/enable-cors: true\nnginx.ingress.kubernetes.io/cors-allow-origin: https://*.example.com\n",
		"kind: HTTPRoute\nspec:\n  rules:\n  - filters:\n    - cors: {allowOrigins: [https://a.example]}\n",
	} {
		f.Add([]byte(s))
	}
}

// FuzzImport feeds each importer arbitrary input. None may panic, and a
// block said to be complete must be one the module accepts as it is.
func FuzzImport(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		for _, format := range append([]Format{""}, Formats...) {
			r, err := Import(src, format)
			if err != nil {
				continue
			}
			if !r.Complete {
				continue
			}
			if r.OriginsToList {
				t.Fatalf("%s: complete with origins still to list", format)
			}
			if _, err := policy.New(r.Config); err != nil {
				t.Fatalf("%s: complete, but the module refuses it: %v", format, err)
			}
		}
	})
}

// FuzzParseNginx checks the nginx reader against itself: whatever it
// reads, written out again with every word double-quoted and escaped,
// reads back as the same tree.
func FuzzParseNginx(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		tree, err := parseNginx(src)
		if err != nil {
			return
		}
		var sb strings.Builder
		writeNginx(&sb, tree)
		again, err := parseNginx([]byte(sb.String()))
		if err != nil {
			t.Fatalf("written out, it does not read back: %v\n%s", err, sb.String())
		}
		if !sameTree(tree, again) {
			t.Fatalf("written out, it reads back differently:\n%s", sb.String())
		}
	})
}

func writeNginx(sb *strings.Builder, list []*directive) {
	quote := func(s string) string {
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
	}
	for _, d := range list {
		sb.WriteString(quote(d.name))
		for _, a := range d.args {
			sb.WriteString(" " + quote(a))
		}
		if d.block == nil {
			sb.WriteString(";\n")
			continue
		}
		sb.WriteString(" {\n")
		writeNginx(sb, d.block)
		sb.WriteString("}\n")
	}
}

// sameTree compares names, arguments and blocks, not lines.
func sameTree(a, b []*directive) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].name != b[i].name || !reflect.DeepEqual(a[i].args, b[i].args) ||
			(a[i].block == nil) != (b[i].block == nil) || !sameTree(a[i].block, b[i].block) {
			return false
		}
	}
	return true
}
