#!/usr/bin/env bash
# Runs every test of the module, as CI does (.ci/run calls this script).
#
# It installs what the tests need when it is missing and the machine allows
# it (Chromium from Debian's packages, as root), then runs the whole suite
# under the race detector and each fuzz target for a short fixed time.
# With CI=true, a skipped test is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "== installing chromium (browser tests)"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
	else
		echo "== chromium is missing and cannot be installed here: the browser tests will skip"
	fi
fi

echo "== gofmt"
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
	echo "gofmt would change: $unformatted"
	exit 1
fi

echo "== go test -race ./..."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# go test runs go vet's main checks itself. One package at a time: the
# integration tests share Caddy's admin port 2999.
go test -race -count=1 -p 1 -timeout 15m -v ./... >"$log" 2>&1 || {
	grep -E -- '^(--- FAIL|FAIL|panic|ok )|_test.go:[0-9]+:' "$log" | tail -n 200
	echo "tests failed"
	exit 1
}
grep -E -- '^(ok|FAIL|---) ' "$log" | grep -v -- '--- PASS' || true
skipped=$(grep -E -- '--- SKIP' "$log" || true)
if [ -n "$skipped" ]; then
	echo "$skipped"
	if [ "${CI:-}" = true ]; then
		echo "tests were skipped, which CI does not allow"
		exit 1
	fi
fi

echo "== fuzz targets"
./scripts/fuzz.sh
