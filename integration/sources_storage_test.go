package integration

import (
	"context"
	"fmt"
	"testing"

	"github.com/caddyserver/certmagic"
)

// A list kept in Caddy's configured storage, as a cluster shares it:
// changed in the storage, it is in force at once on the next read; an
// invalid one is refused and the last good list stays.
func TestStorageSourceFollowsTheKeyAndKeepsTheLastGoodList(t *testing.T) {
	dir := t.TempDir()
	storage := &certmagic.FileStorage{Path: dir}
	store := func(list string) {
		t.Helper()
		if err := storage.Store(context.Background(), "cors/origins.txt", []byte(list)); err != nil {
			t.Fatal(err)
		}
	}
	store("# tenants\nhttps://first.example\n")
	newTester(t).InitServer("{\n"+globalOptionLines+fmt.Sprintf(`	storage file_system %s
}
http://`+sourcesAddr+` {
	cors {
		origins https://static.example
		origins_from storage cors/origins.txt {
			interval 10ms
		}
	}
	respond "ok"
}
`, dir), "caddyfile")
	if t.Failed() {
		t.FailNow()
	}
	c := &originChecker{t: t, url: "http://" + sourcesAddr + "/"}
	if !c.allowed("https://first.example") || c.allowed("https://second.example") {
		t.Fatal("the stored list is not what is allowed")
	}

	store("https://second.example\n")
	firstGone, secondIn := false, false
	c.until("the stored list's change", func() {
		first, second := c.allowed("https://first.example"), c.allowed("https://second.example")
		if firstGone && first || secondIn && !second {
			t.Fatalf("the list went back: first allowed %v, second allowed %v", first, second)
		}
		firstGone, secondIn = firstGone || !first, secondIn || second
	}, func() bool { return firstGone && secondIn })

	const invalid = `caddy_http_cors_origin_source_reloads_total{result="invalid",source="storage"}`
	before := metricValue(t, invalid)
	store("https://third.example\nhttps://second.example/\n")
	c.until("the invalid list's refusal", func() {
		if !c.allowed("https://second.example") || c.allowed("https://third.example") {
			t.Fatal("an invalid stored list changed what is allowed")
		}
	}, func() bool { return metricValue(t, invalid) == before+1 })
}
