#!/usr/bin/env bash
# Runs every check of the module, as CI does (.ci/run runs exactly this):
#
#   1. installs what is missing, when it can: gcc (the race detector needs
#      cgo), Chromium, Firefox, WebKit's WebDriver and Xvfb from Debian's
#      packages (as root), and the pinned staticcheck and xcaddy;
#   2. gofmt and staticcheck over both Go modules (the plugin at the root,
#      and integration/, which holds the tests that need extra modules);
#   3. every test of both modules under the race detector, the integration
#      tests including a real xcaddy build of Caddy with the module at the
#      oldest supported and the newest Caddy version;
#   4. every fuzz target for a fixed number of executions (scripts/fuzz.sh).
#
# A failure prints the failing tests and their own messages first, then only
# their part of Caddy's log, trimmed. With CI=true a skipped test is a
# failure. Every test listens on ports picked at run time: two runs on one
# machine do not meet.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD

staticcheck_version=v0.8.2
xcaddy_version=v0.4.5

fail() {
	echo "FAILED: $*" >&2
	exit 1
}
step() {
	echo "== $* ($SECONDS s)"
}

step "system packages"
missing=()
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v firefox-esr >/dev/null 2>&1 || command -v firefox >/dev/null 2>&1 || missing+=(firefox-esr)
command -v WebKitWebDriver >/dev/null 2>&1 || missing+=(webkit2gtk-driver)
command -v Xvfb >/dev/null 2>&1 || missing+=(xvfb)
if [ "${#missing[@]}" -gt 0 ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "installing ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq || fail "apt-get update (its error is above)"
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
			fail "apt-get install ${missing[*]} (its error is above)"
	else
		echo "missing and not installable here (not root, or no apt-get): ${missing[*]}"
		echo "the tests that need them skip, which fails under CI=true"
	fi
fi
command -v gcc >/dev/null 2>&1 ||
	fail "the race detector needs cgo and a C compiler: install gcc"
[ "$(go env CGO_ENABLED)" = 1 ] ||
	fail "the race detector needs cgo: CGO_ENABLED is $(go env CGO_ENABLED), set CGO_ENABLED=1"

step "Go tools"
tools="$(go env GOPATH)/bin"
export PATH="$tools:$PATH"
install_tool() { # <binary> <package> <module> <version>
	if ! go version -m "$tools/$1" 2>/dev/null | grep -qE "^[[:space:]]+mod[[:space:]]+$3[[:space:]]+$4([[:space:]]|$)"; then
		echo "installing $2@$4"
		GOBIN="$tools" go install "$2@$4" || fail "go install $2@$4 (its error is above)"
	fi
}
install_tool staticcheck honnef.co/go/tools/cmd/staticcheck honnef.co/go/tools "$staticcheck_version"
install_tool xcaddy github.com/caddyserver/xcaddy/cmd/xcaddy github.com/caddyserver/xcaddy "$xcaddy_version"

# The plugin's module and the nested integration module.
modules=(.)
[ -f integration/go.mod ] && modules+=(integration)

step "gofmt"
unformatted=$(gofmt -l .)
[ -z "$unformatted" ] || fail "gofmt would change: $unformatted"

for module in "${modules[@]}"; do
	step "staticcheck ./... in $module"
	# staticcheck reads the dependencies' export data from the go command: with
	# -race it is the race build the tests compile anyway, not another
	# compilation of all of Caddy.
	(cd "$module" && GOFLAGS="${GOFLAGS:-} -race" staticcheck ./...) ||
		fail "staticcheck in $module (its report is above)"
done

logs=$(mktemp -d)
# Caddy keeps its storage (the internal CA, certificates) and the last
# config it loaded (autosave.json) under the XDG directories: the tests'
# Caddy gets its own, so that it neither shares them with another run nor
# overwrites the developer's own Caddy's. Go's settings file stays where it is.
export GOENV="$(go env GOENV)"
export XDG_CONFIG_HOME="$logs/config" XDG_DATA_HOME="$logs/data"
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME"
# The reporter turns go test's JSON into the failing tests and their own
# messages first, then only their part of Caddy's log, trimmed.
(cd integration && go build -o "$logs/testreport" ./testreport) ||
	fail "building integration/testreport (its error is above)"
strict=
[ "${CI:-}" = true ] && strict=-strict
for module in "${modules[@]}"; do
	step "go test -race ./... in $module"
	log="$logs/$(basename "$(cd "$module" && pwd)").json"
	# go test runs go vet's main checks itself. Every test picks its own
	# ports at run time (integration/ports_test.go), so packages, and two
	# runs of this script, can run at the same time.
	(cd "$module" && go test -race -count=1 -timeout 20m -json ./...) >"$log" 2>&1
	status=$?
	if ! "$logs/testreport" $strict <"$log" || [ "$status" != 0 ]; then
		fail "go test in $module; go test's whole output (JSON) is $log"
	fi
done
rm -rf "$logs"

step "fuzz targets"
./scripts/fuzz.sh || fail "fuzz targets (each one's report is above)"

step "all checks passed"
