#!/usr/bin/env bash
# End-to-end throughput of the cors directive, against the same route
# without CORS and with the hand-written snippet people use today, and the
# cost of a flood of refused preflights.
#
# It builds Caddy from this repository, serves one small `respond` on four
# loopback ports:
#   bare     no CORS at all
#   cors     the `cors` directive, one allowed origin
#   snippet  `header Access-Control-Allow-Origin ...` + `@options method OPTIONS`
#            + `respond @options 204`
#   headers  a control: the two header lines cors sends here, written with
#            `header`, and nothing else (so the cost of the bytes alone)
# and runs wrk against each with an allowed Origin, in many short rounds of
# alternating order, so that a drift of the machine's speed does not favour
# one of them. Each run also records the CPU time Caddy spent on it. Two
# more runs a round send preflights to the cors port:
#   preflight_ok       from the allowed origin, answered 204
#   preflight_refused  from another origin, answered 403, each one logged
#                      at info by Caddy's default logger (stderr, here a
#                      file), sampled per reason
#
# Usage (from anywhere):   bash bench/e2e.sh
# Settings (environment):  DURATION=3s ROUNDS=16 CONNECTIONS=8 THREADS=1
# (ROUNDS even, so that each route runs as often early as late in a round)
#
# Targets: cors/headers >= 0.99, cors/snippet >= 1.05, and Caddy's CPU per
# request on refused preflights at most 1.15 times that on allowed ones.
#
# Everything listens on 127.0.0.1 only; Caddy is stopped on every exit.
set -euo pipefail

DURATION=${DURATION:-3s}
CONNECTIONS=${CONNECTIONS:-8}
THREADS=${THREADS:-1}
ROUNDS=${ROUNDS:-16}
ORIGIN=https://app.example.com

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
caddy_pid=

cleanup() {
	if [[ -n $caddy_pid ]] && kill -0 "$caddy_pid" 2>/dev/null; then
		kill "$caddy_pid" 2>/dev/null || true
		wait "$caddy_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "e2e: $*" >&2
	exit 1
}

if ! command -v wrk >/dev/null; then
	# Debian packages wrk; install it only where that is possible without asking.
	if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
		echo "e2e: installing wrk with apt-get" >&2
		timeout 300 apt-get install -y wrk >/dev/null 2>&1 ||
			{ timeout 120 apt-get update >/dev/null 2>&1 && timeout 300 apt-get install -y wrk >/dev/null 2>&1; } ||
			die "could not install wrk"
	else
		die "wrk is not installed (Debian: apt-get install wrk)"
	fi
fi

# Built from the integration module, whose go.mod requires the newest
# supported Caddy; the plugin's own go.mod names the oldest.
echo "e2e: building Caddy from $repo/integration" >&2
(cd "$repo/integration" && timeout 600 go build -o "$work/caddy" github.com/caddy-cors/cors/cmd/caddy) ||
	die "go build of cmd/caddy in integration/ failed"

# Four free loopback ports: a connection that succeeds means taken.
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
ports=()
for ((p = 20000 + RANDOM % 20000; ${#ports[@]} < 4; p++)); do
	port_taken "$p" || ports+=("$p")
done
bare=${ports[0]} cors=${ports[1]} snippet=${ports[2]} headers=${ports[3]}

# One config for all, so they share the process, the Go runtime and its
# warm-up. No access logs, so that each request costs only the route;
# Caddy's default logger stays as it is by default, on stderr.
cat >"$work/Caddyfile" <<EOF
{
	admin off
	auto_https off
	persist_config off
	storage file_system $work/data
}

http://127.0.0.1:$bare {
	bind 127.0.0.1
	respond "ok" 200
}

http://127.0.0.1:$cors {
	bind 127.0.0.1
	cors $ORIGIN {
		methods PUT DELETE
	}
	respond "ok" 200
}

http://127.0.0.1:$snippet {
	bind 127.0.0.1
	header Access-Control-Allow-Origin "$ORIGIN"
	header Access-Control-Allow-Methods "GET, POST, PUT, DELETE, OPTIONS"
	header Access-Control-Allow-Headers "Authorization, Content-Type"
	header Vary Origin
	@options method OPTIONS
	respond @options 204
	respond "ok" 200
}

http://127.0.0.1:$headers {
	bind 127.0.0.1
	header Access-Control-Allow-Origin "$ORIGIN"
	header Vary Origin
	respond "ok" 200
}
EOF

# HOME and XDG paths point into $work so that Caddy writes nothing outside it.
HOME=$work XDG_CONFIG_HOME=$work XDG_DATA_HOME=$work \
	"$work/caddy" run --config "$work/Caddyfile" --adapter caddyfile >"$work/caddy.log" 2>&1 &
caddy_pid=$!

for port in "$bare" "$cors" "$snippet" "$headers"; do
	for ((i = 0; i < 100; i++)); do
		port_taken "$port" && break
		kill -0 "$caddy_pid" 2>/dev/null || { cat "$work/caddy.log" >&2; die "caddy exited"; }
		sleep 0.1
	done
	port_taken "$port" || { cat "$work/caddy.log" >&2; die "caddy does not listen on $port"; }
done

# Each configuration must answer what it is meant to before it is timed.
if command -v curl >/dev/null; then
	for port in "$cors" "$snippet"; do
		got=$(curl -s -D - -o /dev/null -H "Origin: $ORIGIN" "http://127.0.0.1:$port/" | tr -d '\r' |
			awk -F': ' 'tolower($1) == "access-control-allow-origin" {print $2}')
		[[ $got == "$ORIGIN" ]] || die "port $port answers Access-Control-Allow-Origin '$got', want $ORIGIN"
	done
fi

# Caddy's CPU time (/proc/PID/stat: user + system, in clock ticks) around
# each run gives its CPU cost per request.
clock_ticks=$(getconf CLK_TCK)
caddy_ticks() { awk '{print $14 + $15}' "/proc/$caddy_pid/stat"; }

# wrk sends GET unless a script says otherwise.
echo 'wrk.method = "OPTIONS"' >"$work/options.lua"

# One line per run: round, route, requests/s, requests, Caddy's CPU ticks.
results=$work/results
measure() { # round name port [wrk arguments...]
	local out rps count before after
	before=$(caddy_ticks)
	out=$(timeout 120 wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 2s \
		"${@:4}" "http://127.0.0.1:$3/")
	after=$(caddy_ticks)
	rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
	count=$(awk '/ requests in / {print $1}' <<<"$out")
	[[ -n $rps && -n $count ]] || die "wrk gave no result for $2"
	echo "$1 $2 $rps $count $((after - before))" >>"$results"
	awk -v name="$2" -v rps="$rps" -v n="$count" -v t=$((after - before)) -v hz="$clock_ticks" \
		'BEGIN {printf "  %-17s %12.0f requests/s  %6.2f µs of Caddy CPU per request\n", name, rps, t / hz / n * 1e6}'
}
allowed=(-H "Origin: $ORIGIN")
preflight=(-s "$work/options.lua" -H "Access-Control-Request-Method: PUT")

# A short warm-up, then the rounds, in alternating order.
timeout 30 wrk -t1 -c"$CONNECTIONS" -d2s "${allowed[@]}" "http://127.0.0.1:$cors/" >/dev/null
for ((round = 1; round <= ROUNDS; round++)); do
	echo "round $round ($DURATION each, $CONNECTIONS connections, $THREADS wrk thread)"
	order=(bare cors snippet headers preflight_ok preflight_refused)
	if ((round % 2 == 0)); then order=(preflight_refused preflight_ok headers snippet cors bare); fi
	for name in "${order[@]}"; do
		case $name in
		bare) measure "$round" bare "$bare" "${allowed[@]}" ;;
		cors) measure "$round" cors "$cors" "${allowed[@]}" ;;
		snippet) measure "$round" snippet "$snippet" "${allowed[@]}" ;;
		headers) measure "$round" headers "$headers" "${allowed[@]}" ;;
		preflight_ok) measure "$round" preflight_ok "$cors" "${preflight[@]}" -H "Origin: $ORIGIN" ;;
		preflight_refused) measure "$round" preflight_refused "$cors" "${preflight[@]}" -H "Origin: https://refused.example" ;;
		esac
	done
done

# Three views of the same runs:
# - mean requests/s of each route, and their ratios;
# - the median over rounds of each round's ratio: the routes of one round
#   ran within a minute of each other, so a slow drift of the machine
#   cancels out of it;
# - Caddy's CPU time per request, the ratio of which is what throughput
#   would show where Caddy had a core to itself.
awk -v hz="$clock_ticks" -v rounds="$ROUNDS" '
function median(list, n,    i, j, t, v) {
	for (i = 1; i <= n; i++) v[i] = list[i]
	for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
	return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
{ rps[$1, $2] = $3; sum[$2] += $3; requests[$2] += $4; ticks[$2] += $5 }
END {
	for (r = 1; r <= rounds; r++) {
		vs_bare[r] = rps[r, "cors"] / rps[r, "bare"]
		vs_snippet[r] = rps[r, "cors"] / rps[r, "snippet"]
		vs_headers[r] = rps[r, "cors"] / rps[r, "headers"]
	}
	for (name in sum) cpu[name] = ticks[name] / hz / requests[name] * 1e6
	printf "mean requests/s: bare %.0f, cors %.0f, snippet %.0f, headers %.0f\n",
		sum["bare"] / rounds, sum["cors"] / rounds, sum["snippet"] / rounds, sum["headers"] / rounds
	printf "Caddy CPU per request: bare %.2f µs, cors %.2f µs, snippet %.2f µs, headers %.2f µs\n",
		cpu["bare"], cpu["cors"], cpu["snippet"], cpu["headers"]
	printf "Caddy CPU per preflight: allowed %.2f µs, refused %.2f µs\n", cpu["preflight_ok"], cpu["preflight_refused"]
	printf "%-13s %8s %22s %8s  %s\n", "", "means", "median of the rounds", "by CPU", "target"
	printf "%-13s %8.3f %22.3f %8.3f\n", "cors/bare", sum["cors"] / sum["bare"], median(vs_bare, rounds), cpu["bare"] / cpu["cors"]
	printf "%-13s %8.3f %22.3f %8.3f  >= 1.05\n", "cors/snippet", sum["cors"] / sum["snippet"], median(vs_snippet, rounds), cpu["snippet"] / cpu["cors"]
	printf "%-13s %8.3f %22.3f %8.3f  >= 0.99 (the same header lines, written by Caddy'"'"'s header directive)\n", "cors/headers", sum["cors"] / sum["headers"], median(vs_headers, rounds), cpu["headers"] / cpu["cors"]
	printf "refused/allowed preflight, Caddy CPU per request: %.3f  <= 1.15\n", cpu["preflight_refused"] / cpu["preflight_ok"]
}' "$results"
echo "lines the module logged for refused preflights: $(grep -c 'CORS preflight rejected' "$work/caddy.log" || true)"
