package importer

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseNginxReadsQuotesEscapesAndComments(t *testing.T) {
	src := "# comment\n" +
		"add_header 'Access-Control-Allow-Origin' \"https://a.example\" always; # trailing\n" +
		"if ($http_origin ~* \"^https://(a|b)\\.example\\.com$\") { set $cors 'it\\'s'; }\n" +
		"add_header X-A a\\ b#c;\n" +
		"set $v \"${cors}options\";\n" +
		"map $http_origin $o { default \"\"; }\n"
	tree, err := parseNginx([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got := [][]string{}
	var walk func([]*directive)
	walk = func(list []*directive) {
		for _, d := range list {
			got = append(got, append([]string{d.name}, d.args...))
			walk(d.block)
		}
	}
	walk(tree)
	want := [][]string{
		{"add_header", "Access-Control-Allow-Origin", "https://a.example", "always"},
		{"if", "($http_origin", "~*", `^https://(a|b)\.example\.com$`, ")"},
		{"set", "$cors", "it's"},
		{"add_header", "X-A", `a\ b#c`}, // nginx keeps a backslash it does not resolve
		{"set", "$v", "${cors}options"},
		{"map", "$http_origin", "$o"},
		{"default", ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	if tree[1].line != 3 || tree[2].line != 4 {
		t.Errorf("lines %d, %d; want 3, 4", tree[1].line, tree[2].line)
	}
}

func TestParseNginxErrorsNameTheLine(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"add_header A b;\nadd_header C 'd;\n", "line 3: a quoted string is not closed"},
		{"location / {\n  add_header A b;\n", "line 3: unexpected end of input"},
		{"add_header A b\n}\n", "line 2: directive \"add_header\" lacks its \";\""},
		{"add_header A 'b'c;", "line 1: unexpected 'c' right after a quoted string"},
		{"}", `line 1: unexpected "}"`},
		{strings.Repeat("a {", 40), "nested more than 32 deep"},
	} {
		_, err := parseNginx([]byte(tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v; want %q", tc.src, err, tc.want)
		}
	}
}

func TestRecognise(t *testing.T) {
	for src, want := range map[string]Format{
		"add_header Access-Control-Allow-Origin *;":                                                       Nginx,
		"location / {\n  add_header Access-Control-Allow-Origin *;\n}\n":                                  Nginx,
		"kind: Ingress\nmetadata:\n  annotations:\n    nginx.ingress.kubernetes.io/enable-cors: 'true'\n": IngressNginx,
		"nginx.ingress.kubernetes.io/enable-cors: 'true'\n":                                               IngressNginx,
		"kind: Service\n---\nkind: HTTPRoute\nspec: {}\n":                                                 GatewayAPI,
	} {
		if got := recognise([]byte(src)); got != want {
			t.Errorf("%q: %s, want %s", src, got, want)
		}
	}
}

// importCase runs Import and checks the block's lines, the notes and
// whether it is complete.
type importCase struct {
	name     string
	format   Format
	src      string
	lines    []string // lines the block must hold
	notes    []string // parts of notes, in order
	complete bool
	err      string
}

func runImportCases(t *testing.T, cases []importCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Import([]byte(tc.src), tc.format)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v; want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var sb strings.Builder
			if err := r.WriteBlock(&sb); err != nil {
				t.Fatal(err)
			}
			for _, line := range tc.lines {
				if !strings.Contains(sb.String(), "\t"+line+"\n") {
					t.Errorf("block lacks %q:\n%s", line, sb.String())
				}
			}
			if len(r.Notes) != len(tc.notes) {
				t.Errorf("%d notes, want %d:\n%s", len(r.Notes), len(tc.notes), strings.Join(r.Notes, "\n"))
			}
			for i := range min(len(r.Notes), len(tc.notes)) {
				if !strings.Contains(r.Notes[i], tc.notes[i]) {
					t.Errorf("note %d: %s\nwant %q", i+1, r.Notes[i], tc.notes[i])
				}
			}
			if r.Complete != tc.complete {
				t.Errorf("complete %v, want %v", r.Complete, tc.complete)
			}
		})
	}
}

func TestImportNginx(t *testing.T) {
	runImportCases(t, []importCase{{
		name:     "more_set_headers as ingress-nginx writes it",
		src:      "if ($http_origin ~* ((https://app\\.example\\.com))$ ) { set $cors 'true'; }\nif ($request_method = 'OPTIONS') { set $cors ${cors}options; }\nif ($cors = \"true\") { more_set_headers 'Access-Control-Allow-Origin: $http_origin'; more_set_headers 'Access-Control-Allow-Credentials: true'; }\nif ($cors = \"trueoptions\") { more_set_headers 'Access-Control-Allow-Origin: $http_origin'; more_set_headers 'Access-Control-Max-Age: 600'; return 204; }\n",
		lines:    []string{"origin_regexp `((https://app\\.example\\.com))$`", "credentials", "max_age 600"},
		notes:    []string{`is not anchored at its start`},
		complete: true,
	}, {
		name:     "a map used as the condition",
		src:      "map $http_origin $allowed { default 0; ~^https://app\\.example\\.com$ 1; https://b.example 1; }\nif ($allowed) { add_header Access-Control-Allow-Origin $http_origin always; }",
		lines:    []string{"origins https://b.example", "origin_regexp `^https://app\\.example\\.com$`"},
		complete: true,
	}, {
		name:     "the origin copied into a variable under an if",
		src:      "set $cors_origin \"\";\nif ($http_origin ~ ^https://app\\.example\\.com$) { set $cors_origin $http_origin; }\nadd_header Access-Control-Allow-Origin $cors_origin always;",
		lines:    []string{"origin_regexp `^https://app\\.example\\.com$`"},
		complete: true,
	}, {
		name:     "an exact origin in an if",
		src:      "if ($http_origin = 'https://App.example.com') { add_header Access-Control-Allow-Origin $http_origin always; }",
		lines:    []string{"origins https://app.example.com"},
		complete: true,
	}, {
		name:     "a fixed origin",
		src:      "add_header Access-Control-Allow-Origin https://app.example.com always;\nadd_header Access-Control-Allow-Credentials true always;",
		lines:    []string{"origins https://app.example.com", "credentials"},
		complete: true,
	}, {
		name:     "a fixed origin with a trailing slash never matched",
		src:      "add_header Access-Control-Allow-Origin https://app.example.com/ always;",
		lines:    []string{"# origins <list the origins of your frontends here, such as https://app.example.com>"},
		notes:    []string{`line 1: not carried over`, "no origin could be carried over"},
		complete: false,
	}, {
		name:     "case-insensitive regexp with upper case",
		src:      "if ($http_origin ~* ^https://App\\.Example\\.com$) { add_header Access-Control-Allow-Origin $http_origin always; }",
		lines:    []string{"origin_regexp `(?i)^https://App\\.Example\\.com$`"},
		complete: true,
	}, {
		name:     "an unanchored regexp without a scheme matches no whole origin",
		src:      "if ($http_origin ~* (example\\.com)) { add_header Access-Control-Allow-Origin $http_origin always; }",
		notes:    []string{`names no scheme, so it matches no whole origin`, "no origin could be carried over"},
		complete: false,
	}, {
		name:     "an anchored regexp without a scheme matches no origin either",
		src:      "if ($http_origin ~* ^(app|admin)\\.example\\.com$) { add_header Access-Control-Allow-Origin $http_origin always; }",
		notes:    []string{`names no scheme, so it matches no whole origin`, "no origin could be carried over"},
		complete: false,
	}, {
		name:     "a regexp over any host with credentials",
		src:      "if ($http_origin ~* ^https://.*$) { add_header Access-Control-Allow-Origin $http_origin always; add_header Access-Control-Allow-Credentials true always; }",
		notes:    []string{`origin regexp "^https://.*$" not carried over`, "no origin could be carried over"},
		complete: false,
	}, {
		name:     "a condition it does not understand",
		src:      "if ($http_origin !~* ^https://evil) { add_header Access-Control-Allow-Origin $http_origin always; }",
		notes:    []string{"under a condition (line 1) the importer does not understand", "no origin could be carried over"},
		complete: false,
	}, {
		name:     "reflected methods and headers",
		src:      "add_header Access-Control-Allow-Origin * always;\nadd_header Access-Control-Allow-Methods $http_access_control_request_method always;\nadd_header Access-Control-Allow-Headers $http_access_control_request_headers always;",
		lines:    []string{"origins *", "methods *", "headers * Authorization"},
		complete: true,
	}, {
		name:     "add_header without always",
		src:      "add_header Access-Control-Allow-Origin *;",
		lines:    []string{"origins *"},
		notes:    []string{"add_header without always adds the header to successful responses only"},
		complete: true,
	}, {
		name:     "an include it cannot follow",
		src:      "location / {\n  include snippets/cors.conf;\n  add_header Access-Control-Allow-Origin * always;\n}",
		lines:    []string{"origins *"},
		notes:    []string{"line 2: include snippets/cors.conf not followed"},
		complete: true,
	}, {
		name: "nothing CORS",
		src:  "location / { proxy_pass http://backend; }",
		err:  "no Access-Control-* header found",
	}})
}

func TestImportIngressNginx(t *testing.T) {
	runImportCases(t, []importCase{{
		name:     "an origin ingress-nginx skips too",
		src:      "nginx.ingress.kubernetes.io/enable-cors: true\nnginx.ingress.kubernetes.io/cors-allow-credentials: false\nnginx.ingress.kubernetes.io/cors-allow-origin: https://a.example, myapp://a.example\nnginx.ingress.kubernetes.io/cors-max-age: 60\nnginx.ingress.kubernetes.io/cors-allow-headers: Content-Type\n",
		lines:    []string{"origins https://a.example", "max_age 60"},
		notes:    []string{`"myapp://a.example" left out: ingress-nginx skips it too`},
		complete: true,
	}, {
		name:     "a wildcard over a public suffix",
		src:      "nginx.ingress.kubernetes.io/enable-cors: 'true'\nnginx.ingress.kubernetes.io/cors-allow-credentials: 'false'\nnginx.ingress.kubernetes.io/cors-allow-origin: https://*.github.io\nnginx.ingress.kubernetes.io/cors-max-age: '60'\nnginx.ingress.kubernetes.io/cors-allow-headers: Content-Type\n",
		notes:    []string{"matched one level of subdomain", "not carried over", "no origin could be carried over"},
		complete: false,
	}, {
		name:     "a List, as kubectl get ingress -o yaml prints",
		src:      "apiVersion: v1\nkind: List\nitems:\n- kind: Ingress\n  metadata:\n    name: api\n    annotations:\n      nginx.ingress.kubernetes.io/enable-cors: 'true'\n      nginx.ingress.kubernetes.io/cors-allow-origin: https://a.example\n      nginx.ingress.kubernetes.io/cors-allow-headers: Content-Type\n      nginx.ingress.kubernetes.io/cors-allow-credentials: 'false'\n      nginx.ingress.kubernetes.io/cors-max-age: '60'\n",
		lines:    []string{"origins https://a.example", "headers Content-Type", "max_age 60"},
		complete: true,
	}, {
		name: "CORS not enabled",
		src:  "nginx.ingress.kubernetes.io/enable-cors: 'false'\nnginx.ingress.kubernetes.io/cors-allow-origin: https://a.example\n",
		err:  `enable-cors is not "true"`,
	}, {
		name:   "two Ingresses",
		format: IngressNginx,
		src:    "kind: Ingress\nmetadata: {name: a, annotations: {nginx.ingress.kubernetes.io/enable-cors: 'true'}}\n---\nkind: Ingress\nmetadata: {name: b, annotations: {nginx.ingress.kubernetes.io/enable-cors: 'true'}}\n",
		err:    "2 objects have CORS annotations (Ingress a, Ingress b)",
	}})
}

func TestImportGatewayAPI(t *testing.T) {
	runImportCases(t, []importCase{{
		name:     "a scheme with any host",
		src:      "kind: HTTPRoute\nspec:\n  rules:\n  - filters:\n    - type: CORS\n      cors: {allowOrigins: ['https://*'], maxAge: 60}\n",
		notes:    []string{"allowOrigins: not carried over", "no origin could be carried over"},
		complete: false,
	}, {
		name:     "any header with credentials includes Authorization",
		src:      "kind: HTTPRoute\nspec:\n  rules:\n  - filters:\n    - type: CORS\n      cors: {allowOrigins: ['https://a.example'], allowCredentials: true, allowHeaders: ['*'], maxAge: 60}\n",
		lines:    []string{"origins https://a.example", "headers * Authorization", "credentials", "max_age 60"},
		complete: true,
	}, {
		name:     "exposing any header with credentials",
		src:      "kind: HTTPRoute\nspec:\n  rules:\n  - filters:\n    - type: CORS\n      cors: {allowOrigins: ['https://a.example'], allowCredentials: true, exposeHeaders: ['*'], maxAge: 60}\n",
		notes:    []string{"exposed header * left out"},
		complete: false,
	}, {
		name:   "two different filters",
		format: GatewayAPI,
		src:    "kind: HTTPRoute\nmetadata: {name: r}\nspec:\n  rules:\n  - filters: [{type: CORS, cors: {allowOrigins: ['https://a.example']}}]\n  - filters: [{type: CORS, cors: {allowOrigins: ['https://b.example']}}]\n",
		err:    "2 different CORS filters found",
	}})
}

func TestAnchored(t *testing.T) {
	for expr, want := range map[string][2]bool{
		`^https://a\.example$`:     {true, true},
		`(^https://a\.example$)`:   {true, true},
		`^https://(a|b)\.example`:  {true, false},
		`https://a\.example$`:      {false, true},
		`^https://a$|^https://b$`:  {true, true},
		`^https://a$|https://b$`:   {false, true},
		`\Ahttps://a\.example\z`:   {true, true},
		`(?i)^https://a\.example$`: {true, true},
	} {
		start, end := anchored(expr)
		if [2]bool{start, end} != want {
			t.Errorf("%s: %v %v, want %v", expr, start, end, want)
		}
	}
}
