package integration

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sourcesAddr is where the origin-source tests' site listens.
var sourcesAddr = "localhost:" + portAtStart()

// metricValue reads one sample from the admin API's /metrics, as
// Prometheus would, by its exact series text; 0 when absent.
func metricValue(t *testing.T, series string) float64 {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, adminURL+"/metrics", nil)
	_, body := do(t, req)
	scanner := bufio.NewScanner(strings.NewReader(body))
	for scanner.Scan() {
		if value, ok := strings.CutPrefix(scanner.Text(), series+" "); ok {
			v, err := strconv.ParseFloat(value, 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	return 0
}

// originChecker sends requests to Caddy and checks each answer against
// what the origins file allows: the lists it may be between.
type originChecker struct {
	t    *testing.T
	url  string
	sent int
}

// allowed sends a GET from origin and reports whether it was allowed,
// failing the test on any answer that is neither a clean allow nor a clean
// refusal.
func (c *originChecker) allowed(origin string) bool {
	c.t.Helper()
	c.sent++
	req, _ := http.NewRequest(http.MethodGet, c.url, nil)
	req.Header.Set("Origin", origin)
	resp, body := do(c.t, req)
	acao := resp.Header.Values("Access-Control-Allow-Origin")
	if resp.StatusCode != http.StatusOK || body != "ok" || len(acao) > 1 || len(acao) == 1 && acao[0] != origin {
		c.t.Fatalf("GET from %s: %d %q, Access-Control-Allow-Origin %q", origin, resp.StatusCode, body, acao)
	}
	return len(acao) == 1
}

// until sends requests, checking each with check, until done reports
// true; it gives up after a bounded number of requests.
func (c *originChecker) until(what string, check func(), done func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; ; i++ {
		check()
		if done() {
			return
		}
		if i > 5000 || time.Now().After(deadline) {
			c.t.Fatalf("%s did not happen within %d requests", what, i)
		}
	}
}

// replaceFile writes content to a new file and renames it over path, as
// editors and deploy tools do.
func replaceFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	writeFile(t, tmp, content)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func fileSourceSite(path string) string {
	return fmt.Sprintf(`
http://`+sourcesAddr+` {
	cors {
		origins https://static.example
		origins_from file %s {
			interval 10ms
		}
	}
	respond "ok"
}
`, path)
}

// A file renamed over the list replaces it; every answer on the way is
// that of the old list or of the new one; an invalid new content is
// refused whole, counted, and the last good list stays.
func TestFileSourceFollowsRenamesAndKeepsTheLastGoodList(t *testing.T) {
	path := filepath.Join(t.TempDir(), "origins.txt")
	writeFile(t, path, "# tenants\nhttps://kept.example\nhttps://old.example\n")
	loadCaddyfile(t, fileSourceSite(path))
	c := &originChecker{t: t, url: "http://" + sourcesAddr + "/"}

	if !c.allowed("https://static.example") || !c.allowed("https://kept.example") || !c.allowed("https://old.example") || c.allowed("https://new.example") {
		t.Fatal("the list read at load is not what is allowed")
	}

	replaceFile(t, path, "https://kept.example\nhttps://*.new.example\nhttps://new.example\n")
	oldGone, newIn := false, false
	c.until("the renamed file's list", func() {
		if !c.allowed("https://kept.example") || !c.allowed("https://static.example") {
			t.Fatal("an origin in both lists was refused during the swap")
		}
		old, nu := c.allowed("https://old.example"), c.allowed("https://a.new.example")
		if oldGone && old || newIn && !nu {
			t.Fatalf("the list went back: old allowed %v, new allowed %v", old, nu)
		}
		oldGone, newIn = oldGone || !old, newIn || nu
	}, func() bool { return oldGone && newIn })

	const invalid = `caddy_http_cors_origin_source_reloads_total{result="invalid",source="file"}`
	before := metricValue(t, invalid)
	replaceFile(t, path, "https://kept.example\nhttps://other.example/\nhttps://never.example\n")
	c.until("the invalid content's refusal", func() {
		if !c.allowed("https://kept.example") || !c.allowed("https://a.new.example") || c.allowed("https://never.example") {
			t.Fatal("an invalid content changed what is allowed")
		}
	}, func() bool { return metricValue(t, invalid) == before+1 })
	for range 50 {
		if !c.allowed("https://a.new.example") || c.allowed("https://never.example") {
			t.Fatal("an invalid content changed what is allowed")
		}
	}

	writeFile(t, path, "https://fixed.example\n")
	c.until("the fixed file's list", func() {}, func() bool { return c.allowed("https://fixed.example") })
	if c.allowed("https://kept.example") {
		t.Error("https://kept.example still allowed after the list dropped it")
	}
	t.Logf("%d requests checked", c.sent)
}

// A Kubernetes ConfigMap mounted as a volume is updated by a symbolic
// link swap: origins.txt -> ..data/origins.txt, ..data -> ..<timestamp>,
// and ..data is renamed over by a new link to a new directory.
func TestFileSourceFollowsAConfigMapSymlinkSwap(t *testing.T) {
	dir := t.TempDir()
	version := func(name, content string) {
		if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, name, "origins.txt"), content)
		if err := os.Symlink(name, filepath.Join(dir, "..data_tmp")); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
	}
	version("..2026_01_01_00_00_00.1", "https://first.example\n")
	if err := os.Symlink("..data/origins.txt", filepath.Join(dir, "origins.txt")); err != nil {
		t.Fatal(err)
	}
	loadCaddyfile(t, fileSourceSite(filepath.Join(dir, "origins.txt")))
	c := &originChecker{t: t, url: "http://" + sourcesAddr + "/"}
	if !c.allowed("https://first.example") || c.allowed("https://second.example") {
		t.Fatal("the ConfigMap's first list is not what is allowed")
	}

	version("..2026_01_01_00_01_00.2", "https://second.example\n")
	firstGone, secondIn := false, false
	c.until("the swapped ConfigMap's list", func() {
		first, second := c.allowed("https://first.example"), c.allowed("https://second.example")
		if firstGone && first || secondIn && !second {
			t.Fatalf("the list went back: first allowed %v, second allowed %v", first, second)
		}
		firstGone, secondIn = firstGone || !first, secondIn || second
	}, func() bool { return firstGone && secondIn })
}
