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
say ok
