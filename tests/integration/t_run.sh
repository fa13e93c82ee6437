#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# loadd run: one test in the foreground, from a profile or from --target
# and its options; it ends when every load that ran has ended (or on
# SIGINT), prints the summaries (JSON with -j) and exits; no control
# socket unless -s; bad usage is exit 2 with a reason.
. "$(dirname "$0")/lib.sh"

start_sink e -m echo
E=127.0.0.1:$(sink_port e)

say "--target with a duration: runs, prints its summary, exits 0"
rc=0
timeout 30 "$LOADD" run --target "$E" -c 3 -d 1500ms --rate 100 --size 16 \
    --expect echo >"$TMP/run.out" 2>"$TMP/run.err" || rc=$?
[ "$rc" -eq 0 ] || fail "exit $rc: $(cat "$TMP/run.err")"
grep -q "^run: finished after 1\.[0-9]s" "$TMP/run.out" || fail "no summary: $(head -3 "$TMP/run.out")"
grep -q "latency (corrected)" "$TMP/run.out" || fail "no latency in the summary"
[ ! -s "$TMP/run.err" ] || fail "warnings on a clean run: $(cat "$TMP/run.err")"
# The sink saw the 3 connections come and go.
[ "$(sink_stat e accepted)" -eq 3 ] || fail "accepted $(sink_stat e accepted)"
wait_for "connections closed" 10 sink_is e active 0

say "-j: the summaries as JSON; a profile's loads with -f"
cat >"$TMP/two.conf" <<EOF
loads = (
  { name = "a"; target = "$E"; connections = 2; rate = 50.0; expect = "echo";
    size = 8; duration = "1s"; },
  { name = "b"; target = "$E"; connections = 1; rate = 20.0; duration = "600ms"; },
  { name = "idle"; target = "$E"; autostart = false; } );
EOF
rc=0
timeout 30 "$LOADD" run -j -f "$TMP/two.conf" >"$TMP/two.json" 2>"$TMP/two.err" || rc=$?
[ "$rc" -eq 0 ] || fail "exit $rc: $(cat "$TMP/two.err")"
jq -e '.summaries | length == 2' "$TMP/two.json" >/dev/null || fail "summaries: $(cat "$TMP/two.json")"
jq -e '[.summaries[] | .state] == ["finished", "finished"]' "$TMP/two.json" >/dev/null ||
    fail "states: $(jq -c '[.summaries[] | {load, state}]' "$TMP/two.json")"
a=$(jq '.summaries[] | select(.load == "a") | .replies' "$TMP/two.json")
[ "$a" -ge 60 ] && [ "$a" -le 120 ] || fail "a: $a replies in 1 s at 2 x 50/s"

say "until SIGINT (-d 0), with a control socket for loadctl (-s)"
"$LOADD" run --target "$E" -c 2 -d 0 --rate 10 -s "$SOCK" >"$TMP/int.out" 2>&1 &
RUN_PID=$!
PIDS+=($!)
wait_for "its control socket" 10 "$LOADCTL" version
wait_for "2 connections" 10 sink_is e active 2
[ "$(ctlj status | jq -r '.loads[0].state')" = running ] || fail "not running"
kill -INT "$RUN_PID"
rc=0
wait "$RUN_PID" || rc=$?
[ "$rc" -eq 0 ] || fail "exit $rc after SIGINT"
grep -q "^run: stopped after" "$TMP/int.out" || fail "no summary after SIGINT: $(cat "$TMP/int.out")"
[ ! -e "$SOCK" ] || fail "control socket left behind"

say "without -s there is no control socket"
timeout 30 "$LOADD" run --target "$E" -c 1 -d 300ms >/dev/null 2>&1 &
RUN_PID=$!
sleep 0.2
[ ! -e "$SOCK" ] && [ ! -e /run/loadd/loadd.sock.run-test ] || fail "a socket without -s"
wait "$RUN_PID" || fail "the short run failed"

say "bad usage: exit 2 with a reason"
usage_fails() {	# WANT ARGS...
	local want=$1 out rc=0
	shift
	out=$(timeout 10 "$LOADD" run "$@" 2>&1) || rc=$?
	[ "$rc" -eq 2 ] || fail "loadd run $*: exit $rc ($out)"
	case "$out" in *"$want"*) ;; *) fail "loadd run $*: '$out' lacks '$want'" ;; esac
}
usage_fails "a profile (-f) or --target, not both" -f "$TMP/two.conf" --target "$E"
usage_fails "a profile (-f) or --target HOST:PORT"
usage_fails "describe the --target load" -f "$TMP/two.conf" -c 5
usage_fails "a bad value" --target "$E" -c ten
usage_fails "a bad value" --target "$E\"; x = 1; \""
usage_fails "a bad value" --target "$E" --expect size
rc=0
out=$(timeout 10 "$LOADD" run --target 127.0.0.1: 2>&1) || rc=$?
[ "$rc" -eq 1 ] || fail "a bad target: exit $rc"
case "$out" in *"loadd run: malformed target"*) ;; *) fail "a bad target: $out" ;; esac
"$LOADD" run --help | grep -q "^usage: loadd run" || fail "run --help"
say ok
