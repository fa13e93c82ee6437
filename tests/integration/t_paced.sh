#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Paced traffic: messages arrive at the sink at the configured pace (never
# faster than the schedule allows), a rate change applies live, a stopped
# and restarted paced load resumes.  Nothing here asserts speed: only that
# loadd does not send more than the schedule permits.
. "$(dirname "$0")/lib.sh"

start_sink s
P=$(profile paced "loads = ( { name = \"tick\"; target = \"127.0.0.1:$(sink_port s)\";
    connections = 4; rate = 20.0; literal = \"PING\\r\\n\"; } );")
start_loadd "$P"
wait_for "4 connections" 10 sink_is s active 4
wait_for "messages arrive" 10 sink_ge s bytes_received 60
t0=$(date +%s%N); b0=$(sink_stat s bytes_received)
sleep 2
t1=$(date +%s%N); b1=$(sink_stat s bytes_received)
# 4 conns x 20/s x 6 bytes = 480 B/s.  Allow one extra interval's worth
# per connection for edges; flood would be orders of magnitude more.
el=$(( (t1 - t0) / 1000000 ))
max=$(( 480 * el / 1000 + 4 * 6 * 2 ))
[ $((b1 - b0)) -le "$max" ] || fail "$((b1 - b0)) bytes in ${el}ms, schedule allows $max"
[ $((b1 - b0)) -gt 0 ] || fail "no paced traffic"
# Whole messages only, as counted by loadd.
J=$(ctlj stats)
[ "$(echo "$J" | jq '.loads[0].bytes_sent')" -eq \
  "$(( $(echo "$J" | jq '.loads[0].messages_sent') * 6 ))" ] || fail "partial messages counted"

say "rate 2 live"
ctl rate 2 >/dev/null
sleep 0.3
b0=$(sink_stat s bytes_received); t0=$(date +%s%N)
sleep 2
b1=$(sink_stat s bytes_received); t1=$(date +%s%N)
el=$(( (t1 - t0) / 1000000 ))
max=$(( 48 * el / 1000 + 4 * 6 * 2 ))
[ $((b1 - b0)) -le "$max" ] || fail "after rate 2: $((b1 - b0)) bytes in ${el}ms (max $max)"

say "to flood and back"
ctl rate flood >/dev/null
wait_for "flood traffic" 10 sink_ge s bytes_received $((b1 + 1000000))
ctl rate 10 >/dev/null
[ "$(stat_of rate)" = 10 ] || fail "rate $(stat_of rate)"
stop_loadd

say "catch_up after a stalled server: burst sends what it owes, drop skips it"
start_sink cu -m echo
CU=127.0.0.1:$(sink_port cu)
P=$(profile catchup "loads = (
  { name = \"burst\"; target = \"$CU\"; connections = 1; rate = 100.0; expect = \"echo\"; size = 8; },
  { name = \"drop\"; target = \"$CU\"; connections = 1; rate = 100.0; expect = \"echo\"; size = 8;
    catch_up = \"drop\"; } );")
start_loadd "$P"
wait_for "both answered" 10 stat_ge replies 20 drop
kill -STOP "$SINK_PID_cu"
sleep 2
kill -CONT "$SINK_PID_cu"
# The stall held about 200 moments of each; wait for their schedules to resume.
wait_for "burst caught up" 10 stat_ge late 150 burst
wait_for "drop skipped" 10 stat_ge skipped 150 drop
J=$(ctlj stats)
jl() { echo "$J" | jq -r ".loads[] | select(.name==\"$1\") | $2"; }
[ "$(jl burst .skipped)" = 0 ] || fail "burst skipped $(jl burst .skipped)"
[ "$(jl drop .late)" -lt 20 ] || fail "drop sent $(jl drop .late) late"
# What drop skipped is missing from what it sent, and nothing else is.
s_b=$(jl burst .messages_sent) s_d=$(jl drop .messages_sent) k=$(jl drop .skipped)
[ $((s_d + k)) -ge $((s_b - 30)) ] && [ $((s_d + k)) -le $((s_b + 30)) ] ||
    fail "drop sent $s_d + skipped $k, burst sent $s_b"
[ "$(jl drop '[.errors[]] | add')" = 0 ] || fail "drop: errors"
stop_loadd
out=$("$LOADD" -n -f "$(profile cu_flood 'loads = ( { name = "f"; target = "127.0.0.1:9"; catch_up = "drop"; } );')" 2>&1) &&
    fail "catch_up without a rate accepted"
case "$out" in *"cu_flood.conf:"[0-9]*": catch_up needs a rate"*) ;; *) fail "catch_up without a rate: $out" ;; esac
out=$("$LOADD" -n -f "$(profile cu_bad 'loads = ( { name = "f"; target = "127.0.0.1:9"; rate = 1.0; catch_up = "skip"; } );')" 2>&1) &&
    fail "catch_up = skip accepted"
case "$out" in *"cu_bad.conf:"[0-9]*': unknown catch_up "skip"'*) ;; *) fail "catch_up = skip: $out" ;; esac
say ok
