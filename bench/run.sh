#!/usr/bin/env bash
# The benchmarks of integration/benchmarks, the cors handler side by side
# with rs/cors in one binary, then the performance tables, their targets
# and bench/origins.svg (bench/report).
#
# The whole set runs ROUNDS times, one round after the other, rather than
# each benchmark -count times in a row: on a shared machine whose speed
# drifts over minutes, a drift then falls on every scenario alike instead of
# on whichever ran during it, and the medians stay comparable.
#
# A round is 52 benchmarks, each run for about 1.6 times BENCHTIME
# (go test's runs that size the last one included): on 2 cores, about 85 s
# at 1s and 42 s at 500ms, so about 14 minutes with the defaults.
#
# Usage (from anywhere):   bash bench/run.sh [output file, default bench.txt]
# Settings (environment):  ROUNDS=10 BENCHTIME=1s
set -euo pipefail

ROUNDS=${ROUNDS:-10}
BENCHTIME=${BENCHTIME:-1s}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$(realpath -m "${1:-bench.txt}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# integration/ may be a module of its own (it needs rs/cors, the plugin does
# not): build from there either way.
(cd "$repo/integration" && go test -c -o "$work/benchmarks.test" ./benchmarks)
for ((round = 1; round <= ROUNDS; round++)); do
	echo "bench: round $round of $ROUNDS" >&2
	"$work/benchmarks.test" -test.run '^$' -test.bench . -test.benchmem -test.benchtime "$BENCHTIME"
done >"$out"
cd "$repo"
go run ./bench/report "$out"
