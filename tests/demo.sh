#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The main job: the classic workload against the project's sink on
# 127.0.0.1:8080, shown live, rescaled to 500 connections, then stopped and
# shut down cleanly.  Usage: tests/demo.sh [BUILD-DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
TMP=$(mktemp -d /tmp/loadd-demo.XXXXXX)
SOCK=$TMP/loadd.sock
export LOADD_SOCKET=$SOCK
SINK_PID= LOADD_PID=
cleanup() {
	[ -z "$LOADD_PID" ] || kill "$LOADD_PID" 2>/dev/null || true
	[ -z "$SINK_PID" ] || kill "$SINK_PID" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
sink() { printf 'stats\n' | socat -t 5 - "UNIX-CONNECT:$TMP/sink.sock"; }
until_ok() {	# until_ok SECONDS COMMAND...
	local end=$(( $(date +%s) + $1 )); shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -le "$end" ] || { echo "timed out: $*"; exit 1; }
		sleep 0.1
	done
}

step "the sink: discard server on 127.0.0.1:8080"
"$B/loadd-sink" -l 127.0.0.1:8080 -S "$TMP/sink.sock" -t 120 -q >/dev/null &
SINK_PID=$!
until_ok 5 test -S "$TMP/sink.sock"

step "loadd -f conf/loadd.conf (10 connections, random 1 KiB messages, flood)"
"$B/loadd" -n -f conf/loadd.conf
"$B/loadd" -f conf/loadd.conf -s "$SOCK" &
LOADD_PID=$!
until_ok 5 "$B/loadctl" version
until_ok 10 sh -c "[ \"\$('$B/loadctl' -j status | jq '.loads[0].connections_active')\" = 10 ]"
sleep 2
step "loadctl status"
"$B/loadctl" status
step "live figures (loadctl watch, 3 intervals)"
timeout 3.5 "$B/loadctl" watch | cat || true
step "loadctl stats"
"$B/loadctl" stats

step "loadctl scale 500"
"$B/loadctl" scale 500
until_ok 30 sh -c "[ \"\$('$B/loadctl' -j status | jq '.loads[0].connections_active')\" = 500 ]"
sleep 2
"$B/loadctl" status
echo "the sink's own count:"
sink

step "loadctl stop"
"$B/loadctl" stop
until_ok 10 sh -c "printf 'stats\n' | socat -t 5 - UNIX-CONNECT:$TMP/sink.sock | jq -e '.active == 0'"
sink

step "shut the daemon down (SIGTERM)"
kill -TERM "$LOADD_PID"
rc=0; wait "$LOADD_PID" || rc=$?
LOADD_PID=
echo "loadd exited with status $rc"
[ "$rc" -eq 0 ]
