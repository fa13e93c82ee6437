# SPDX-License-Identifier: ISC
# lib.sh -- helpers for integration tests.  Each test starts its own sink
# and loadd on ephemeral loopback ports and private sockets in a temporary
# directory, polls for conditions with deadlines, and stops what it started
# by PID.  Traffic goes to 127.0.0.1 only.
set -euo pipefail

: "${LOADD:?set LOADD to the loadd binary}"
: "${LOADCTL:?set LOADCTL to the loadctl binary}"
: "${SINK:?set SINK to the loadd-sink binary}"
: "${TOP:?set TOP to the source tree}"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/loadd-test.XXXXXX")
SOCK=$TMP/loadd.sock
export LOADD_SOCKET=$SOCK
PIDS=()
LOADD_PID=
TEST_NAME=$(basename "$0" .sh)

cleanup() {
	local rc=$?
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	if [ "$rc" -ne 0 ] && [ -f "$TMP/loadd.log" ]; then
		echo "--- loadd log (last 30 lines) ---"
		tail -n 30 "$TMP/loadd.log"
	fi
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT

say() { printf '[%s] %s\n' "$TEST_NAME" "$*"; }
fail() { printf '[%s] FAIL: %s\n' "$TEST_NAME" "$*" >&2; exit 1; }

# wait_for DESCRIPTION SECONDS COMMAND...: poll until COMMAND succeeds.
wait_for() {
	local what=$1 secs=$2 deadline
	shift 2
	deadline=$(( $(date +%s%N) + secs * 1000000000 ))
	until "$@" >/dev/null 2>&1; do
		if [ "$(date +%s%N)" -gt "$deadline" ]; then
			fail "timed out after ${secs}s waiting for: $what"
		fi
		sleep 0.05
	done
}

# start_sink NAME [sink options...]: start a sink on an ephemeral port
# (unless -l is given); its port goes to $TMP/NAME.port.
start_sink() {
	local name=$1
	shift
	local listen=(-l 127.0.0.1:0)
	case " $* " in *" -l "*) listen=() ;; esac
	rm -f "$TMP/$name.port"
	"$SINK" "${listen[@]}" -P "$TMP/$name.port" -S "$TMP/$name.sock" \
	    -t 280 -q "$@" >>"$TMP/$name.out" 2>&1 &
	PIDS+=($!)
	eval "SINK_PID_$name=$!"
	wait_for "sink $name listening" 10 test -s "$TMP/$name.port"
	wait_for "sink $name report socket" 10 test -S "$TMP/$name.sock"
}

sink_port() { head -n1 "$TMP/$1.port"; }

# low_port: a free loopback port below the ephemeral range (32768 and up),
# for tests that stop and restart a server on one port: while it is down,
# no outgoing connection can take that port as its local one.
low_port() {
	local port
	for _ in $(seq 1 50); do
		port=$((20000 + RANDOM % 12000))
		if "$SINK" -l "127.0.0.1:$port" -t 0.05 -q >/dev/null 2>&1; then
			echo "$port"
			return
		fi
	done
	fail "no free port below 32000"
}

# sink_stat NAME FIELD: one field of the sink's report.
sink_stat() {
	printf 'stats\n' | socat -t 5 - "UNIX-CONNECT:$TMP/$1.sock" |
	    jq -r ".$2"
}

sink_reset() {
	printf 'reset\n' | socat -t 5 - "UNIX-CONNECT:$TMP/$1.sock" >/dev/null
}

# sink_is NAME FIELD VALUE: for wait_for.
sink_is() { [ "$(sink_stat "$1" "$2")" = "$3" ]; }
sink_ge() { [ "$(sink_stat "$1" "$2")" -ge "$3" ]; }

# start_loadd PROFILE [options...]: start the daemon, wait for its socket.
start_loadd() {
	"$LOADD" -f "$1" -s "$SOCK" "${@:2}" >>"$TMP/loadd.log" 2>&1 &
	LOADD_PID=$!
	PIDS+=($!)
	wait_for "loadd control socket" 10 "$LOADCTL" version
}

# stop_loadd: SIGTERM, expect exit 0 within the drain time.
stop_loadd() {
	local rc=0
	kill -TERM "$LOADD_PID"
	wait "$LOADD_PID" || rc=$?
	[ "$rc" -eq 0 ] || fail "loadd exited with $rc after SIGTERM"
	[ ! -e "$SOCK" ] || fail "control socket $SOCK left behind"
	LOADD_PID=
}

ctl() { "$LOADCTL" "$@"; }
ctlj() { "$LOADCTL" -j "$@"; }

# stat_of LOADFIELD [LOAD]: a field of `stats` for the only/named load,
# or of the total when LOAD is "total".
stat_of() {
	local field=$1 load=${2:-}
	if [ "$load" = total ]; then
		ctlj stats | jq -r ".total.$field"
	elif [ -n "$load" ]; then
		ctlj stats | jq -r ".loads[] | select(.name==\"$load\") | .$field"
	else
		ctlj stats | jq -r ".loads[0].$field"
	fi
}
stat_is() { [ "$(stat_of "$1" "${3:-}")" = "$2" ]; }
stat_ge() { [ "$(stat_of "$1" "${3:-}")" -ge "$2" ]; }

# raw REQUEST-BYTES: send bytes to the control socket, print the reply.
raw() { printf '%b' "$1" | socat -t 5 - "UNIX-CONNECT:$SOCK"; }

# expect_refused SUBSTRING COMMAND...: loadctl exits 1 with the reason.
expect_refused() {
	local want=$1 out rc=0
	shift
	# Bounded: a request that is wrongly accepted (a watch) never ends.
	out=$(timeout 20 "$LOADCTL" "$@" 2>&1) || rc=$?
	[ "$rc" -eq 1 ] || fail "loadctl $*: exit $rc, wanted 1 ($out)"
	case "$out" in *"$want"*) ;; *) fail "loadctl $*: '$out' lacks '$want'" ;; esac
}

# profile NAME BODY: write a profile with the private socket and two
# workers (the default would leave a CPU to the server on this host: the
# tests keep two, so that a load is always split between workers).
profile() {
	local f=$TMP/$1.conf
	shift
	{
		printf 'daemon = { socket = "%s"; stats_interval = "200ms"; workers = 2; };\n' "$SOCK"
		printf '%s\n' "$@"
	} >"$f"
	echo "$f"
}

# rss_kib PID
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
