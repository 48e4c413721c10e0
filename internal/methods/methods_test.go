package methods

import "testing"

func TestNormalizeUpperCasesOnlyTheSixNames(t *testing.T) {
	tests := map[string]string{
		"delete": "DELETE", "get": "GET", "head": "HEAD", "options": "OPTIONS", "post": "POST", "Put": "PUT",
		"patch": "patch", "PATCH": "PATCH", "Patch": "Patch", "purge": "purge",
	}
	for in, want := range tests {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsSafelistedIsByteExact(t *testing.T) {
	for m, want := range map[string]bool{"GET": true, "HEAD": true, "POST": true, "get": false, "PUT": false, "OPTIONS": false} {
		if IsSafelisted(m) != want {
			t.Errorf("IsSafelisted(%q) = %v", m, !want)
		}
	}
}

func TestCheck(t *testing.T) {
	for _, m := range []string{"PUT", "patch", "PURGE"} {
		if err := Check(m); err != nil {
			t.Errorf("Check(%q) = %v", m, err)
		}
	}
	for _, m := range []string{"CONNECT", "trace", "Track", "GET POST", ""} {
		if Check(m) == nil {
			t.Errorf("Check(%q) accepted it", m)
		}
	}
}
