#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# systemd integration without systemd: READY=1, STATUS= and STOPPING=1 on
# a NOTIFY_SOCKET we listen on; "<N>" priority prefixes when JOURNAL_STREAM
# names our stderr, and plain prefixes when it names something else.
. "$(dirname "$0")/lib.sh"

start_sink s
P=$(profile sd "loads = ( { name = \"sd\"; target = \"127.0.0.1:$(sink_port s)\";
    connections = 3; } );")

socat -u UNIX-RECV:"$TMP/notify.sock" STDOUT >"$TMP/notify.out" &
PIDS+=($!)
wait_for "notify socket" 5 test -S "$TMP/notify.sock"
touch "$TMP/j.log"
JS=$(stat -c '%d:%i' "$TMP/j.log")
NOTIFY_SOCKET=$TMP/notify.sock JOURNAL_STREAM=$JS \
    "$LOADD" -f "$P" -s "$SOCK" 2>>"$TMP/j.log" &
LOADD_PID=$!
PIDS+=($!)
wait_for "READY=1" 10 grep -aq 'READY=1' "$TMP/notify.out"
wait_for "3 connections" 10 sink_is s active 3
wait_for "STATUS with the connection count" 10 grep -q 'STATUS=3 connections up' "$TMP/notify.out"
stop_loadd
wait_for "STOPPING=1" 5 grep -q 'STOPPING=1' "$TMP/notify.out"
grep -q '^<6>load sd: started' "$TMP/j.log" || fail "no <6> prefix: $(head -3 "$TMP/j.log")"
if grep -q 'loadd: ' "$TMP/j.log"; then fail "plain prefix under journald"; fi
if grep -qE '^[0-9]{4}-' "$TMP/j.log"; then fail "a timestamp under journald (it keeps its own)"; fi
if grep -q 'WATCHDOG=1' "$TMP/notify.out"; then fail "WATCHDOG=1 without WatchdogSec"; fi

say "WatchdogSec: WATCHDOG=1 every half period while the workers answer"
: >"$TMP/notify.out"
P2=$(profile wd "loads = ( { name = \"wd\"; target = \"127.0.0.1:$(sink_port s)\";
    connections = 2; } );")
NOTIFY_SOCKET=$TMP/notify.sock WATCHDOG_USEC=1000000 \
    "$LOADD" -f "$P2" -s "$SOCK" 2>"$TMP/wd.log" &
LOADD_PID=$!
PIDS+=($!)
wait_for "READY=1" 10 grep -aq 'READY=1' "$TMP/notify.out"
wait_for "three keep-alives" 5 sh -c "[ \$(grep -ao 'WATCHDOG=1' '$TMP/notify.out' | wc -l) -ge 3 ]"
grep -q "watchdog: keep-alive every 0.5s" "$TMP/wd.log" || fail "the watchdog not logged"
stop_loadd
# A WATCHDOG_PID naming another process: not ours, no keep-alive.
: >"$TMP/notify.out"
NOTIFY_SOCKET=$TMP/notify.sock WATCHDOG_USEC=1000000 WATCHDOG_PID=1 \
    "$LOADD" -f "$P2" -s "$SOCK" 2>/dev/null &
LOADD_PID=$!
PIDS+=($!)
wait_for "READY=1" 10 grep -aq 'READY=1' "$TMP/notify.out"
sleep 1.5
if grep -aq 'WATCHDOG=1' "$TMP/notify.out"; then fail "keep-alives for another PID's watchdog"; fi
stop_loadd

say "a stuck worker: the keep-alives stop until it answers again"
# LOADD_TEST_WORKER_STALL=6: worker 0 hangs for 6 s at its 4th collect
# (about 4 s in, stats_interval 1 s).  With WatchdogSec 2 s the main loop
# must stop sending WATCHDOG=1 while the worker is stuck (systemd would
# then restart loadd), say why, and go on once it answers.
: >"$TMP/notify.out"
NOTIFY_SOCKET=$TMP/notify.sock WATCHDOG_USEC=2000000 LOADD_TEST_WORKER_STALL=6 \
    "$LOADD" -f "$P2" -s "$SOCK" 2>"$TMP/stall.log" &
LOADD_PID=$!
PIDS+=($!)
wait_for "READY=1" 10 grep -aq 'READY=1' "$TMP/notify.out"
wait_for "a keep-alive before the stall" 10 grep -aq 'WATCHDOG=1' "$TMP/notify.out"
wait_for "the stall noticed" 20 grep -q "watchdog: the workers have not answered" "$TMP/stall.log"
n0=$(grep -ao 'WATCHDOG=1' "$TMP/notify.out" | wc -l)
sleep 2
n1=$(grep -ao 'WATCHDOG=1' "$TMP/notify.out" | wc -l)
[ "$n1" -eq "$n0" ] || fail "$((n1 - n0)) keep-alives while a worker was stuck"
wait_for "keep-alives again after the stall" 20 sh -c \
    "[ \$(grep -ao 'WATCHDOG=1' '$TMP/notify.out' | wc -l) -gt $n1 ]"
"$LOADCTL" status >"$TMP/st.out" 2>&1 || fail "not answering after the stall: $(cat "$TMP/st.out"; tail -5 "$TMP/stall.log")"
stop_loadd

say "JOURNAL_STREAM naming another stream: plain prefixes, each line timestamped"
JOURNAL_STREAM=1:1 "$LOADD" -f "$P" -s "$SOCK" 2>"$TMP/plain.log" &
LOADD_PID=$!
PIDS+=($!)
wait_for "loadd up" 10 "$LOADCTL" version
stop_loadd
grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}[+-][0-9]{4} loadd: load sd: started' \
    "$TMP/plain.log" || fail "plain: $(head -3 "$TMP/plain.log")"
if grep -vqE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' "$TMP/plain.log"; then
	fail "a line without a timestamp: $(grep -vE '^[0-9]{4}-' "$TMP/plain.log" | head -1)"
fi
say ok
