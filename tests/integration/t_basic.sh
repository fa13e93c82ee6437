#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The classic workload against the sink: connections come up, bytes flow,
# scale up and down is exact at the sink, stop closes everything, start
# brings the scaled count back, SIGTERM exits 0 and removes the socket.
. "$(dirname "$0")/lib.sh"

start_sink s
P=$(profile basic "loads = ( { name = \"classic\"; target = \"127.0.0.1:$(sink_port s)\";
    connections = 10; max_connections = 1000; connect_rate = 5000; } );")
start_loadd "$P"

wait_for "10 connections at the sink" 10 sink_is s active 10
wait_for "bytes at the sink" 10 sink_ge s bytes_received 1000000
wait_for "loadd counts 10 active" 10 stat_is connections_active 10
wait_for "messages counted" 10 stat_ge messages_sent 1000
[ "$(stat_of connects_ok)" -eq 10 ] || fail "connects_ok $(stat_of connects_ok)"
[ "$(stat_of connections_target)" -eq 10 ] || fail "connections_target"

# Every documented stats field is there, per load and in total.
J=$(ctlj stats)
for f in connections_target connections_active connects_ok connects_failed \
    disconnects bytes_sent bytes_received messages_sent bytes_sent_per_s \
    bytes_received_per_s messages_sent_per_s errors.refused errors.reset \
    errors.timeout errors.closed_by_peer errors.address_not_available \
    errors.local_ports_exhausted \
    errors.too_many_open_files errors.other; do
	echo "$J" | jq -e ".loads[0].$f != null and .total.$f != null" >/dev/null ||
	    fail "stats lacks $f"
done
# Bytes sent are bytes the kernel took: never more than the sink plus
# what is in flight in the socket buffers.
J=$(ctlj stats)
sent=$(echo "$J" | jq .loads[0].bytes_sent); size=1024
msgs=$(echo "$J" | jq .loads[0].messages_sent)
[ "$msgs" -le $((sent / size)) ] || fail "messages_sent $msgs > bytes_sent/size"

say "scale 200"
ctl scale 200 >/dev/null
wait_for "200 connections at the sink" 20 sink_is s active 200
wait_for "loadd counts 200 active" 10 stat_is connections_active 200
[ "$(sink_stat s peak)" -eq 200 ] || fail "sink peak $(sink_stat s peak) > 200"

say "scale 50"
ctl scale 50 >/dev/null
wait_for "50 connections at the sink" 10 sink_is s active 50
wait_for "loadd counts 50" 10 stat_is connections_active 50

say "stop"
out=$(ctl stop)
case "$out" in *stopped*) ;; *) fail "stop said: $out" ;; esac
wait_for "no connection at the sink" 10 sink_is s active 0
wait_for "loadd counts 0" 10 stat_is connections_active 0
[ "$(ctlj status | jq -r '.loads[0].state')" = stopped ] || fail "not stopped"
expect_refused "not running" stop

say "start again at the scaled count"
sink_reset s
ctl start >/dev/null
wait_for "50 connections again" 10 sink_is s active 50
expect_refused "already running" start
[ "$(sink_stat s peak)" -le 50 ] || fail "peak $(sink_stat s peak) above 50"

say "rate change live"
ctl rate 100 >/dev/null
[ "$(ctlj status | jq -r '.loads[0].mode')" = paced ] || fail "not paced"
ctl rate flood >/dev/null
[ "$(ctlj status | jq -r '.loads[0].mode')" = flood ] || fail "not flood"

say "SIGTERM; a watching loadctl sees the subscription closed in order (exit 0)"
"$LOADCTL" watch >"$TMP/watch.out" 2>&1 &
WATCH=$!
wait_for "watch running" 10 test -s "$TMP/watch.out"
stop_loadd
rc=0; wait "$WATCH" || rc=$?
[ "$rc" -eq 0 ] || fail "watch exit $rc after the daemon closed it at shutdown"
rc=0; "$LOADCTL" -t 0 status >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "loadctl -t 0: exit $rc"
wait_for "sink sees all closed" 10 sink_is s active 0

say "workers = 0 with every target on this host: a CPU is left to the server"
n=$(getconf _NPROCESSORS_ONLN)
want=$n
[ "$n" -lt 2 ] || want=$((n - 1))
printf 'daemon = { socket = "%s"; };\nloads = ( { name = "w"; target = "127.0.0.1:%s"; connections = 1; rate = 1.0; } );\n' \
    "$SOCK" "$(sink_port s)" >"$TMP/auto.conf"
start_loadd "$TMP/auto.conf"
[ "$(ctlj status | jq .workers)" = "$want" ] ||
    fail "workers $(ctlj status | jq .workers) with $n CPUs, wanted $want"
[ "$n" -lt 2 ] || grep -q "every target is on this host: $want worker" "$TMP/loadd.log" ||
    fail "the choice of workers is not logged"
stop_loadd
say ok
