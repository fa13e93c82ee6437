#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# scale --over: the target moves linearly, the sink never sees more than
# the final count, a plain scale or stop cancels the ramp.
. "$(dirname "$0")/lib.sh"

start_sink s
P=$(profile ramp "loads = ( { name = \"r\"; target = \"127.0.0.1:$(sink_port s)\";
    connections = 0; max_connections = 1000; connect_rate = 10000; } );")
start_loadd "$P"
out=$(ctl scale 100 --over 2s)
case "$out" in *"ramping 0 -> 100"*) ;; *) fail "reply: $out" ;; esac
seen_mid=0
deadline=$(( $(date +%s) + 20 ))
while :; do
	a=$(sink_stat s active)
	[ "$a" -le 100 ] || fail "sink saw $a > 100"
	if [ "$a" -gt 0 ] && [ "$a" -lt 100 ]; then seen_mid=1; fi
	[ "$a" -eq 100 ] && break
	[ "$(date +%s)" -le "$deadline" ] || fail "ramp never reached 100"
	sleep 0.1
done
[ "$seen_mid" -eq 1 ] || fail "no intermediate count: not a ramp"
[ "$(sink_stat s peak)" -le 100 ] || fail "peak $(sink_stat s peak)"
wait_for "ramp finished" 10 sh -c "! $LOADCTL -j status | jq -e '.loads[0].ramp' >/dev/null"

say "a plain scale cancels a running ramp"
ctl scale 1000 --over 60s >/dev/null
ctl scale 10 >/dev/null
wait_for "10 connections" 10 sink_is s active 10
sleep 0.5
[ "$(sink_stat s active)" -eq 10 ] || fail "ramp went on"
expect_refused "max_connections" scale 2000 --over 5s
rc=0; "$LOADCTL" scale 10 --over 10parsecs >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "bad ramp duration: exit $rc"
stop_loadd
say ok
