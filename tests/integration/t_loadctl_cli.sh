#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# loadctl's command line: options before or after the command (not after
# --), scale's --over left to the request, a printer per command (reopen
# has no load to show), and watch ending with 0 when the daemon shuts down.
. "$(dirname "$0")/lib.sh"

start_sink s
P=$(profile cli "loads = ( { name = \"web\"; target = \"127.0.0.1:$(sink_port s)\";
    connections = 2; max_connections = 100; connect_rate = 10000;
    rate = 20.0; } );")
start_loadd "$P"
wait_for "2 connections at the sink" 10 sink_is s active 2

# keys FILE: every path of the JSON in FILE, sorted (the shape, not values).
keys() { jq -c '[paths | map(tostring) | join(".")] | unique' "$1"; }

say "-j before and after the command: the same JSON"
ctl -j stats >"$TMP/before.json" || fail "loadctl -j stats failed"
rc=0
ctl stats -j >"$TMP/after.json" 2>"$TMP/after.err" || rc=$?
[ "$rc" -eq 0 ] || fail "loadctl stats -j: exit $rc ($(cat "$TMP/after.err"))"
jq -e '.ok == true and (.loads | length) == 1' "$TMP/after.json" >/dev/null ||
    fail "stats -j is not the stats JSON: $(cat "$TMP/after.json")"
[ "$(keys "$TMP/before.json")" = "$(keys "$TMP/after.json")" ] ||
    fail "-j stats and stats -j differ in shape"
ctl stats web -j | jq -e '.loads[0].name == "web"' >/dev/null ||
    fail "stats web -j"

say "-s PATH after the command, and between command and arguments"
bogus=$TMP/nothing.sock
out=$(LOADD_SOCKET=$bogus "$LOADCTL" status -s "$SOCK") ||
    fail "status -s PATH did not use PATH"
case "$out" in *web*running*) ;; *) fail "status -s PATH: $out" ;; esac
out=$(LOADD_SOCKET=$bogus "$LOADCTL" stats -s "$SOCK" web -j) ||
    fail "stats -s PATH web -j"
jq -e '.loads[0].name == "web"' <<<"$out" >/dev/null || fail "stats: $out"
LOADD_SOCKET=$bogus "$LOADCTL" version -s"$SOCK" >/dev/null ||
    fail "version -sPATH"
LOADD_SOCKET=$bogus "$LOADCTL" -t 5 version -j -s "$SOCK" |
    jq -e '.version' >/dev/null || fail "-t 5 version -j -s PATH"
rc=0; LOADD_SOCKET=$bogus "$LOADCTL" status >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 3 ] || fail "without -s the bogus socket should fail (exit $rc)"

say "after --, a word is an argument; bad options are usage errors"
rc=0; out=$("$LOADCTL" stats -- -j 2>&1) || rc=$?
[ "$rc" -eq 2 ] || fail "stats -- -j: exit $rc, wanted 2 ($out)"
case "$out" in *'"-j"'*) ;; *) fail "stats -- -j: $out" ;; esac
rc=0; "$LOADCTL" stats -x >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "stats -x: exit $rc, wanted 2"
rc=0; "$LOADCTL" stats -s >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "stats -s (no value): exit $rc, wanted 2"
rc=0; out=$("$LOADCTL" scale -1 2>&1) || rc=$?
[ "$rc" -eq 2 ] || fail "scale -1: exit $rc, wanted 2"
case "$out" in *negative*) ;; *) fail "scale -1: $out" ;; esac
"$LOADCTL" stats -h | grep -q '^usage: loadctl' || fail "stats -h"

say "scale --over stays with the request"
out=$(ctl scale 5 --over 1s) || fail "scale 5 --over 1s failed"
case "$out" in *"ramping 2 -> 5"*) ;; *) fail "scale 5 --over 1s: $out" ;; esac
wait_for "5 connections" 20 sink_is s active 5
ctl scale web 3 --over 1s -j | jq -e '.ok and .ramp.to == 3' >/dev/null ||
    fail "scale web 3 --over 1s -j"
wait_for "3 connections" 20 sink_is s active 3

say "reopen: its own printer"
rc=0
out=$(ctl reopen 2>&1) || rc=$?
[ "$rc" -eq 0 ] || fail "reopen: exit $rc ($out)"
case "$out" in *"connections wanted"* | *"-: -"*) fail "reopen: $out" ;; esac
case "$out" in *reopened*) ;; *) fail "reopen: $out" ;; esac
out=$(ctl reload) || fail "reload failed"
case "$out" in "reloaded: "*) ;; *) fail "reload: $out" ;; esac

say "watch: a close after whole lines is 0, inside a line 3"
# fake_watch REPLY-BYTES: exit status of watch against a one-shot server.
fake_watch() {
	local fake=$TMP/fake.sock rc=0
	rm -f "$fake"
	printf '%b' "$1" >"$TMP/fake.reply"
	socat "UNIX-LISTEN:$fake" "SYSTEM:cat $TMP/fake.reply" 2>/dev/null &
	PIDS+=($!)
	wait_for "fake socket" 10 test -S "$fake"
	timeout 20 "$LOADCTL" -s "$fake" watch >/dev/null 2>"$TMP/fake.err" || rc=$?
	echo "$rc"
}
line='{"ok":true,"loads":[],"total":{}}'
[ "$(fake_watch "$line\n$line\n")" -eq 0 ] ||
    fail "watch after whole lines: $(cat "$TMP/fake.err")"
[ "$(fake_watch "$line\n{\"ok\":tr")" -eq 3 ] ||
    fail "watch after a partial line: $(cat "$TMP/fake.err")"

say "watch ends with 0 when the daemon is stopped"
"$LOADCTL" watch >"$TMP/watch.out" 2>"$TMP/watch.err" &
WATCH=$!
PIDS+=($WATCH)
wait_for "a watch line" 10 grep -q 'conns ' "$TMP/watch.out"
kill -TERM "$LOADD_PID"
rc=0
wait "$LOADD_PID" || rc=$?
[ "$rc" -eq 0 ] || fail "loadd exited with $rc after SIGTERM"
watch_gone() { ! kill -0 "$WATCH" 2>/dev/null; }
wait_for "watch to end" 20 watch_gone
rc=0
wait "$WATCH" || rc=$?
[ "$rc" -eq 0 ] || fail "watch exited with $rc ($(cat "$TMP/watch.err"))"
say ok
