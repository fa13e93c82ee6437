#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Several targets kept even across scale (never more than one apart), unix
# stream targets, IPv6 targets and sources on ::1, connection churn
# (lifetime, messages_per_connection, close = "reset"), bursts and idle
# loads with keepalive.  Each counted by the sinks themselves.  Loopback
# only; bad targets are FILE:LINE errors.
. "$(dirname "$0")/lib.sh"

start_sink a
start_sink b
A=$(sink_port a)
B=$(sink_port b)
start_sink u -l 127.0.0.1:0 -U "$TMP/stream.sock"

P=$TMP/live.conf
write() {
	{
		printf 'daemon = { socket = "%s"; stats_interval = "200ms"; workers = 2; };\n' "$SOCK"
		printf '%s\n' "$@"
	} >"$P.tmp"
	mv "$P.tmp" "$P"
}

say "two targets: connections split evenly, and kept so across scale"
write "loads = (
  { name = \"lb\"; targets = [ \"127.0.0.1:$A\", \"127.0.0.1:$B\" ];
    connections = 5; rate = 2.0; size = 10; } );"
start_loadd "$P"
# even N: the per-target counts of stats -j and of the sinks both agree
even() {
	local n=$1 j x y
	j=$(ctlj stats | jq -c '[.loads[0].targets[].connections_active]')
	x=$(sink_stat a active)
	y=$(sink_stat b active)
	[ "$((x + y))" -eq "$n" ] || return 1
	[ "$j" = "[$x,$y]" ] || return 1
	[ "$((x - y))" -le 1 ] && [ "$((y - x))" -le 1 ]
}
for n in 5 7 2 1 11 4; do
	ctl scale lb "$n" >/dev/null
	wait_for "$n connections, one apart at most" 10 even "$n"
done
J=$(ctlj stats)
echo "$J" | jq -e '.loads[0].targets | length == 2 and
    (.[0].target | test(":'"$A"'$")) and .[0].connects_ok >= 1' >/dev/null ||
    fail "stats targets: $(echo "$J" | jq -c '.loads[0].targets')"
stop_loadd

say "a unix: target"
write "loads = (
  { name = \"local\"; target = \"unix:$TMP/stream.sock\"; connections = 3;
    rate = 20.0; size = 100; nodelay = true; } );"
start_loadd "$P"
wait_for "3 unix connections at the sink" 10 sink_is u active 3
wait_for "bytes over unix" 10 sink_ge u bytes_received 1000
ctl stop local >/dev/null
wait_for "all closed" 10 sink_is u active 0
[ "$(sink_stat u bytes_received)" -eq "$(stat_of bytes_sent local)" ] ||
    fail "unix: sink got $(sink_stat u bytes_received), loadd sent $(stat_of bytes_sent local)"
stop_loadd

if ip -6 addr show dev lo 2>/dev/null | grep -q '::1/128'; then
	say "IPv6: a [::1] target from a ::1 source"
	start_sink v6 -l '[::1]:0'
	V=$(sink_port v6)
	write "loads = (
  { name = \"six\"; target = \"[::1]:$V\"; sources = [ \"::1\" ];
    connections = 4; rate = 10.0; size = 10; } );"
	start_loadd "$P"
	wait_for "4 IPv6 connections" 10 sink_is v6 active 4
	n=$(ss -Htn state established "( dport = :$V )" | grep -c '\[::1\]' || true)
	[ "$n" -eq 4 ] || fail "ss shows $n connections from ::1"
	stop_loadd
else
	say "no ::1 on lo: IPv6 part skipped"
fi

say "churn: lifetime, messages_per_connection"
sink_reset a
sink_reset b
write "loads = (
  { name = \"life\"; target = \"127.0.0.1:$A\"; connections = 3; rate = 10.0;
    size = 10; lifetime = \"300ms\"; lifetime_jitter = 0.2; },
  { name = \"five\"; target = \"127.0.0.1:$B\"; connections = 2; rate = 50.0;
    size = 10; messages_per_connection = 5; connect_rate = 1000; } );"
start_loadd "$P"
wait_for "life: connections recycled" 10 stat_ge recycled 6 life
wait_for "five: connections recycled" 10 stat_ge recycled 10 five
[ "$(sink_stat a accepted)" -ge 9 ] || fail "sink a accepted $(sink_stat a accepted)"
# The sink may see a new connection before the end of the one it replaces.
[ "$(sink_stat a peak)" -le 6 ] || fail "life: sink a saw $(sink_stat a peak) at once"
ctl stop five >/dev/null
wait_for "five closed" 10 sink_is b active 0
# every connection of five carried 5 messages at most, and the sink got
# exactly what loadd counted
m=$(stat_of messages_sent five)
c=$(stat_of connects_ok five)
[ "$m" -le $((5 * c)) ] || fail "five: $m messages over $c connections"
[ "$m" -ge $((5 * (c - 2))) ] || fail "five: only $m messages over $c connections"
[ "$(sink_stat b bytes_received)" -eq $((m * 10)) ] ||
    fail "five: sink got $(sink_stat b bytes_received), loadd sent $((m * 10))"
stop_loadd

say "close = reset leaves no TIME_WAIT; a normal close does"
# tw PORT SRC: TIME_WAIT sockets from SRC to the sink's port.  Each load
# below connects from a source address of its own, so that a TIME_WAIT
# left by another test whose server had the same port number (a minute
# long; seen once in CI under ctest -j2) is not counted.
tw() { ss -Htan state time-wait "( dport = :$1 and src $2 )" | wc -l; }
# fresh sinks: TIME_WAIT of the connections above lasts a minute
start_sink r
start_sink f
R=$(sink_port r)
F=$(sink_port f)
write "loads = (
  { name = \"rst\"; target = \"127.0.0.1:$R\"; connections = 2; rate = 20.0;
    size = 10; messages_per_connection = 2; close = \"reset\";
    sources = [ \"127.0.0.71\" ]; } );"
start_loadd "$P"
wait_for "rst: recycled" 10 stat_ge recycled 20 rst
[ "$(tw "$R" 127.0.0.71)" -eq 0 ] || fail "close = reset: $(tw "$R" 127.0.0.71) sockets in TIME_WAIT"
stop_loadd
# without churn too: a scale down and a stop close with a reset
write "loads = (
  { name = \"rst2\"; target = \"127.0.0.1:$R\"; connections = 6; rate = 5.0;
    size = 10; close = \"reset\"; sources = [ \"127.0.0.72\" ]; } );"
start_loadd "$P"
wait_for "rst2: 6 connections" 10 sink_is r active 6
ctl scale rst2 2 >/dev/null
wait_for "rst2: 2 connections" 10 sink_is r active 2
ctl stop rst2 >/dev/null
wait_for "rst2: none" 10 sink_is r active 0
[ "$(tw "$R" 127.0.0.72)" -eq 0 ] || fail "close = reset at scale/stop: $(tw "$R" 127.0.0.72) in TIME_WAIT"
stop_loadd
write "loads = (
  { name = \"fin\"; target = \"127.0.0.1:$F\"; connections = 2; rate = 20.0;
    size = 10; messages_per_connection = 2; sources = [ \"127.0.0.73\" ]; } );"
start_loadd "$P"
wait_for "fin: recycled" 10 stat_ge recycled 20 fin
[ "$(tw "$F" 127.0.0.73)" -ge 10 ] || fail "a normal close: only $(tw "$F" 127.0.0.73) in TIME_WAIT"
stop_loadd

say "bursts: N back to back, then the pause the rate implies"
write "loads = (
  { name = \"burst\"; target = \"127.0.0.1:$A\"; connections = 1; rate = 20.0;
    burst = 5; size = 10; workers = 1; } );"
sed -i 's/ workers = 1;//' "$P"
start_loadd "$P"
wait_for "bursts sent" 10 stat_ge messages_sent 10 burst
for _ in 1 2 3 4 5 6; do
	m=$(stat_of messages_sent burst)
	[ $((m % 5)) -eq 0 ] || fail "burst: $m messages, not whole bursts"
	sleep 0.1
done
t0=$(date +%s%N)
m0=$(stat_of messages_sent burst)
sleep 2
m1=$(stat_of messages_sent burst)
el=$(( ($(date +%s%N) - t0) / 1000000 ))
# 20 msg/s in bursts of 5: about 40 in 2 s, never the 5x of a burst per tick
[ $((m1 - m0)) -le $((20 * el / 1000 + 10)) ] ||
    fail "burst: $((m1 - m0)) messages in ${el} ms at rate 20"
stop_loadd

say "idle: connect and hold, keepalive on, nothing sent"
write "loads = (
  { name = \"hold\"; target = \"127.0.0.1:$B\"; connections = 4; rate = 0;
    keepalive = \"30s\"; },
  { name = \"hold2\"; target = \"127.0.0.1:$B\"; connections = 2;
    pattern = \"idle\"; } );"
sink_reset b
start_loadd "$P"
wait_for "6 idle connections" 10 sink_is b active 6
sleep 1
[ "$(sink_stat b bytes_received)" -eq 0 ] || fail "idle loads sent bytes"
[ "$(stat_of messages_sent hold)" -eq 0 ] || fail "hold sent messages"
ctlj status | jq -e '[.loads[].mode] == ["idle", "idle"]' >/dev/null ||
    fail "status: $(ctlj status | jq -c '[.loads[].mode]')"
k=$(ss -Htno state established "( dport = :$B )" | grep -c keepalive || true)
[ "$k" -eq 4 ] || fail "$k connections with a keepalive timer, wanted 4"
expect_refused "load hold is idle" rate hold 10
stop_loadd

say "bad targets: FILE:LINE"
: >"$TMP/regular"
bad() {	# KEYS EXPECTED
	local out
	write "loads = ( { name = \"b\"; $1 } );"
	if out=$("$LOADD" -n -f "$P" 2>&1); then fail "accepted: $1"; fi
	case "$out" in *"live.conf:2: $2"*) ;; *) fail "for '$1': $out" ;; esac
}
bad "target = \"unix:$TMP/none.sock\";" "target \"unix:$TMP/none.sock\": No such file or directory"
bad "target = \"unix:$TMP/regular\";" "target \"unix:$TMP/regular\": not a socket"
bad "targets = [];" "targets is empty"
bad "targets = [ \"127.0.0.1:$A\", \"127.0.0.1:$A\" ];" "duplicate target \"127.0.0.1:$A\""
bad "target = \"127.0.0.1:$A\"; targets = [ \"127.0.0.1:$B\" ];" "target and targets cannot be combined"
bad "target = \"unix:$TMP/stream.sock\"; sources = [ \"127.0.0.2\" ];" "sources has no meaning for a unix: target"
bad "target = \"127.0.0.1:$A\"; burst = 4;" "burst needs a rate"
bad "target = \"127.0.0.1:$A\"; rate = 0; expect = \"echo\";" "expect has no meaning for an idle load"
bad "target = \"127.0.0.1:$A\"; close = \"abort\";" "unknown close \"abort\""
bad "target = \"127.0.0.1:$A\"; lifetime_jitter = 0.5;" "lifetime_jitter needs a lifetime"
bad "target = \"127.0.0.1:$A\"; rate = 10.0; expect = \"echo\"; burst = 4;" "burst (4) is above inflight (1)"
bad "target = \"127.0.0.1:$A\"; keepalive = \"10h\";" "keepalive must be at most 32767s"
say ok
