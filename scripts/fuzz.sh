#!/usr/bin/env bash
# Runs every fuzz target for a short fixed time on top of its committed
# seed corpus (testdata/fuzz/<FuzzName>/). go test -fuzz takes one target
# per invocation, so each runs on its own. A failing input is written to
# testdata/fuzz/<FuzzName>/ by go test: commit it as a regression seed.
#
#   scripts/fuzz.sh                10s per target
#   FUZZTIME=1m scripts/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime="${FUZZTIME:-10s}"
targets=(
	"./internal/origins FuzzMatcher"
	"./internal/headers FuzzParseRequestList"
	". FuzzUnmarshalCaddyfile"
	". FuzzHandler"
)

for target in "${targets[@]}"; do
	read -r pkg name <<<"$target"
	echo "--- fuzz $name ($pkg, $fuzztime)"
	go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg"
done
