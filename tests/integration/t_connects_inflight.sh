#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# connects_inflight: a load never has more connects in progress than its
# bound, and slots beyond it wait and open as connects end, whichever way
# they end: timed out (a server that never accepts), refused (no server),
# closed by a scale down, or established.  If any of those paths forgot
# to give its place back, the last step (40 connections through 4
# places) would stall.
. "$(dirname "$0")/lib.sh"

PORT=$(low_port)
# -A: listens with a backlog of 1 and never accepts, so beyond the first
# connect or two the SYNs are dropped and connects hang until their timeout.
start_sink mute -A -l "127.0.0.1:$PORT"
# Two workers whatever the CPUs: 2 places each.
P=$TMP/inflight.conf
cat >"$P" <<CONF
daemon = { socket = "$SOCK"; stats_interval = "200ms"; workers = 2; };
loads = ( { name = "slow"; target = "127.0.0.1:$PORT";
    connections = 40; connects_inflight = 4; connect_rate = 100000;
    connect_timeout = "400ms"; rate = 1.0;
    reconnect = { delay = "50ms"; max_delay = "200ms"; }; } );
CONF
start_loadd "$P"

# watch_connecting SECONDS: the highest connections_connecting seen.
watch_connecting() {
	local end=$(( $(date +%s%N) + $1 * 1000000000 )) max=0 n
	while [ "$(date +%s%N)" -lt "$end" ]; do
		n=$(stat_of connections_connecting)
		[ "$n" -gt "$max" ] && max=$n
		sleep 0.02
	done
	echo "$max"
}

say "against a server that never accepts: at most 4 connects at once"
wait_for "timeouts counted" 10 stat_ge errors.timeout 8
max=$(watch_connecting 2)
[ "$max" -le 4 ] || fail "$max connects in progress, bound 4"
[ "$max" -eq 4 ] || fail "only $max connects in progress: the bound is not what limits"
J=$(ctlj stats)
echo "$J" | jq -e '.loads[0] | .connections_active + .connections_connecting <= 40' \
    >/dev/null || fail "more slots than the target: $J"

say "scale down closes connects in progress and gives their places back"
ctl scale 0 >/dev/null
wait_for "no connect in progress" 10 stat_is connections_connecting 0
wait_for "none active" 10 stat_is connections_active 0
ctl scale 40 >/dev/null
max=$(watch_connecting 1)
[ "$max" -le 4 ] || fail "$max connects in progress after scale 0 -> 40, bound 4"

say "no server: refused connects give their places back too"
kill "$SINK_PID_mute"; wait "$SINK_PID_mute" 2>/dev/null || true
wait_for "refused counted" 10 stat_ge errors.refused 4

say "a server that accepts: all 40 come up through 4 places"
start_sink s -l "127.0.0.1:$PORT"
wait_for "40 connections at the sink" 20 sink_is s active 40
wait_for "loadd counts 40" 10 stat_is connections_active 40
[ "$(stat_of connections_connecting)" -eq 0 ] || fail "connects left in progress"
[ "$(sink_stat s peak)" -eq 40 ] || fail "sink peak $(sink_stat s peak)"
stop_loadd
say ok
