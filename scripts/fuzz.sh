#!/usr/bin/env bash
# Runs every fuzz target of the module on top of its committed seed corpus
# (testdata/fuzz/<FuzzName>/), each for a fixed number of executions rather
# than a time: a time budget ends with a spurious "context deadline exceeded"
# on a loaded machine (Go 1.26), and a count gives the same search on any
# machine. Each budget takes a few seconds on 2 cores. go test -fuzz takes one
# target per invocation, so each runs on its own; every target runs even
# after one fails, and all failures are reported at the end. A failing input
# is written to testdata/fuzz/<FuzzName>/ by go test: commit it as a
# regression seed.
#
#   scripts/fuzz.sh               the budgets below
#   FUZZ_SCALE=100 scripts/fuzz.sh  a hundred times longer
set -uo pipefail
cd "$(dirname "$0")/.."

# Executions per target: on 2 shared cores FuzzHandler ran 1,000 to 1,500
# per second, FuzzUnmarshalCaddyfile 1,200 to 2,400, the parsers of
# internal/ 6,000 to 17,000 (FuzzParseNginx 20,000, FuzzImport 5,000 to
# 13,000, FuzzCorsImportAdapts 7,000). A target not listed gets the default.
declare -A budget=(
	[FuzzMatcher]=50000
	[FuzzRegexpWays]=20000
	[FuzzParseRequestList]=50000
	[FuzzParseNginx]=50000
	[FuzzImport]=30000
	[FuzzCorsImportAdapts]=10000
	[FuzzParseList]=30000
	[FuzzUnmarshalCaddyfile]=10000
	[FuzzHandler]=6000
)
default_budget=10000
scale="${FUZZ_SCALE:-1}"

# Every func FuzzXxx in a _test.go file of this module (not the nested
# integration module), as "<package dir> <name>".
targets=$(grep -rE --include='*_test.go' -o '^func Fuzz[A-Za-z0-9_]+' . |
	grep -v '^\./integration/' |
	sed -E 's|^(.*)/[^/]+_test\.go:func (Fuzz[A-Za-z0-9_]+)$|\1 \2|' | sort)
if [ -z "$targets" ]; then
	echo "no fuzz target found"
	exit 1
fi

failed=()
while read -r pkg name; do
	execs=$(( ${budget[$name]:-$default_budget} * scale ))
	echo "--- fuzz $name ($pkg, ${execs} executions)"
	if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "${execs}x" "$pkg" </dev/null; then
		failed+=("$name ($pkg)")
	fi
done <<<"$targets"

if [ "${#failed[@]}" -gt 0 ]; then
	echo "fuzz targets that failed:"
	printf '  %s\n' "${failed[@]}"
	exit 1
fi
echo "every fuzz target passed"
