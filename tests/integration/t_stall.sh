#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Coordinated omission.  An open-loop load (10 connections x 100 requests/s,
# one request in flight each) runs against an echo sink that stalls for
# 500 ms in the middle.  During the stall every connection holds its
# requests back (the in-flight limit), so a tool that timed them from the
# moment it actually sent them would report the stall as one slow request
# per connection and hide it.  loadd times them from their intended send
# time: the stall must show in the corrected latency's p99 and max, and
# not in the service time's p99 (from the actual write).  Then an epoch
# change (rate 50) starts a new epoch histogram.  Nothing asserts speed:
# the figures come from the schedule and the stall, not from the machine.
. "$(dirname "$0")/lib.sh"

STALL_MS=500

sink_cmd() { printf '%s\n' "$2" | socat -t 5 - "UNIX-CONNECT:$TMP/$1.sock"; }

start_sink s -m echo
P=$(profile stall "loads = ( { name = \"co\"; target = \"127.0.0.1:$(sink_port s)\";
    connections = 10; size = 64; rate = 100.0; inflight = 1;
    expect = \"echo\"; reply_timeout = \"5s\";
    reconnect = { delay = \"50ms\"; max_delay = \"200ms\"; }; } );")
start_loadd "$P"
wait_for "10 connections" 10 sink_is s active 10
wait_for "replies" 10 stat_ge replies 100

say "2 s of traffic at 1000 requests/s, then a ${STALL_MS} ms stall"
sleep 2
[ "$(stat_of late)" -eq 0 ] || say "note: $(stat_of late) late before the stall"
r=$(sink_cmd s "stall $STALL_MS")
[ "$r" = '{"ok":true}' ] || fail "stall: $r"
[ "$(sink_stat s stalled)" = true ] || fail "sink not stalled after stall"
wait_for "the stall to end" 10 sink_is s stalled false
[ "$(sink_stat s stalls)" -eq 1 ] || fail "sink stalls $(sink_stat s stalls)"
sleep 2
# The run histogram takes each interval's values at the interval's end.
sleep 0.5

J=$(ctlj stats)
L=$(echo "$J" | jq -c '.loads[0]')
q() { echo "$L" | jq -r "$@"; }
# Microseconds, rounded for the record.
us() { q "$1" | awk '{ printf "%.0f", $1 }'; }

say "STALL FIGURES (stall ${STALL_MS} ms, 10 conns x 100/s, inflight 1):" \
    "corrected latency_us.run p50=$(us '.latency_us.run.p50')" \
    "p99=$(us '.latency_us.run.p99') p99.9=$(us '.latency_us.run["p99.9"]')" \
    "max=$(us '.latency_us.run.max') count=$(q '.latency_us.run.count');" \
    "service_us.run p50=$(us '.service_us.run.p50')" \
    "p99=$(us '.service_us.run.p99') max=$(us '.service_us.run.max');" \
    "late=$(q .late) replies=$(q .replies)" \
    "messages_sent=$(q .messages_sent)"

errs=$(q '[.errors[]] | add')
[ "$errs" -eq 0 ] || fail "errors during the stall: $(q -c .errors)"
[ "$(q .disconnects)" -eq 0 ] || fail "disconnects during the stall"
# The requests held back during the stall went out late...
[ "$(q .late)" -gt 0 ] || fail "no late requests: the in-flight limit held nothing back"
# ...and their latency, from the intended time, shows the stall.
echo "$L" | jq -e '.latency_us.run.max >= 400000' >/dev/null ||
    fail "corrected max $(us .latency_us.run.max) us < 400 ms: the stall is hidden"
echo "$L" | jq -e '.latency_us.run.p99 >= 100000' >/dev/null ||
    fail "corrected p99 $(us .latency_us.run.p99) us < 100 ms: the stall is hidden"
# The service time (from the actual write) does not: only the few requests
# in flight when the stall began waited, too few to reach the p99.
echo "$L" | jq -e '.service_us.run.p99 < 100000' >/dev/null ||
    fail "service p99 $(us .service_us.run.p99) us >= 100 ms"
# Each latency is at least its service time.
echo "$L" | jq -e '.latency_us.run.p99 >= .service_us.run.p99 and
    .latency_us.run.max >= .service_us.run.max and
    .latency_us.run.count == .service_us.run.count' >/dev/null ||
    fail "latency below service time"
kill -0 "$LOADD_PID" || fail "loadd died"

say "an epoch change: rate 50"
n0=$(q .epoch.number)
ctl rate 50 >/dev/null
wait_for "the new epoch" 10 stat_is epoch.cause "rate 50"
sleep 1
wait_for "latency in the new epoch" 10 stat_ge latency_us.epoch.count 1
J=$(ctlj stats)
L=$(echo "$J" | jq -c '.loads[0]')
[ "$(q .epoch.number)" -gt "$n0" ] || fail "epoch number $(q .epoch.number) after $n0"
[ "$(q .rate)" = 50 ] || fail "rate $(q .rate)"
echo "$L" | jq -e '.latency_us.epoch.count < .latency_us.run.count and
    .service_us.epoch.count < .service_us.run.count' >/dev/null ||
    fail "epoch histogram not restarted: $(q -c '.latency_us | {epoch: .epoch.count, run: .run.count}')"
# The stall belongs to the old epoch.
echo "$L" | jq -e '.latency_us.epoch.max < .latency_us.run.max' >/dev/null ||
    fail "the new epoch holds the stall: $(q -c .latency_us.epoch)"
echo "$L" | jq -e '.epoch.replies > 0 and .epoch.errors == 0' >/dev/null ||
    fail "epoch counters: $(q -c .epoch)"
say "epoch $(q .epoch.number) ($(q .epoch.cause)): latency count" \
    "$(q .latency_us.epoch.count) of $(q .latency_us.run.count) in the run," \
    "epoch max $(us .latency_us.epoch.max) us"
ctl version >/dev/null || fail "loadctl version"
stop_loadd

say "an outage: the schedule survives the reconnect, the outage shows"
PORT2=$(low_port)
start_sink out -m echo -l "127.0.0.1:$PORT2"
P=$(profile outage "loads = ( { name = \"o\"; target = \"127.0.0.1:$PORT2\";
    connections = 2; rate = 100.0; size = 64; expect = \"echo\";
    reply_timeout = \"5s\";
    reconnect = { delay = \"50ms\"; max_delay = \"100ms\"; }; } );")
start_loadd "$P"
wait_for "replies" 10 stat_ge replies 50
kill "$SINK_PID_out"; wait "$SINK_PID_out" 2>/dev/null || true
sleep 1
start_sink out2 -m echo -l "127.0.0.1:$PORT2"
r0=$(stat_of replies)
wait_for "replies again" 10 stat_ge replies $((r0 + 100))
# The histograms take an interval's samples when the interval ends.
wait_for "the outage in the run histogram" 10 \
    sh -c "'$LOADCTL' -j stats | jq -e '.loads[0].latency_us.run.max >= 500000'"
J=$(ctlj stats)
L=$(echo "$J" | jq -c '.loads[0]')
# About 1 s of requests fell due while the server was gone: they were
# sent on reconnect, counted late, and timed from when they were due.
echo "$L" | jq -e '.late >= 50 and .latency_us.run.max >= 500000' >/dev/null ||
    fail "the outage is hidden: late $(q .late), max $(us .latency_us.run.max) us"
say "outage: late $(q .late), corrected max $(us .latency_us.run.max) us," \
    "service max $(us .service_us.run.max) us"
stop_loadd
say ok
