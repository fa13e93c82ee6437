#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The sink's open connections by peer address ("sources" in its stats):
# IPv4 from two source addresses and IPv6 counted apart, unix socket
# connections left out; counts fall as connections close, an address at 0
# stays until `reset` forgets it; past 256 active addresses the rest go to
# sources_other, and the table takes new addresses again once they close.
# With -R two sinks share one port, each counts its own, and their tables
# add up to the whole; without -R the second sink cannot bind.  All on
# 127.0.0.0/8 and ::1.
. "$(dirname "$0")/lib.sh"

for tool in socat jq perl; do
	command -v "$tool" >/dev/null || { say "no $tool: skipped"; exit 77; }
done

start_sink s -l 127.0.0.1:0 -l '[::1]:0' -U "$TMP/s.unix"
P4=$(sed -n 1p "$TMP/s.port")
P6=$(sed -n 2p "$TMP/s.port")

stats() { printf 'stats\n' | socat -t 5 - "UNIX-CONNECT:$TMP/$1.sock"; }
# sources_are NAME JSON: the sink's sources object equals JSON.
sources_are() {
	[ "$(stats "$1" | jq -cS .sources)" = "$(jq -cS . <<<"$2")" ]
}

P=$(profile sources "loads = (
  { name = \"v4\"; target = \"127.0.0.1:$P4\"; connections = 6; rate = 0;
    sources = [ \"127.0.0.2\", \"127.0.0.3\" ]; },
  { name = \"v6\"; target = \"[::1]:$P6\"; connections = 3; rate = 0; },
  { name = \"local\"; target = \"unix:$TMP/s.unix\"; connections = 2;
    rate = 0; } );")
start_loadd "$P"

say "by address: IPv4 from two sources, IPv6; unix sockets not counted"
wait_for "11 connections at the sink" 10 sink_is s active 11
wait_for "sources" 10 sources_are s '{"127.0.0.2":3,"127.0.0.3":3,"::1":3}'
J=$(stats s)
echo "$J" | jq -e '.sources_other == 0 and
    ([.sources[]] | add) == .active - 2' >/dev/null || fail "stats: $J"

say "closed connections leave their address at 0 until reset"
ctl scale v4 2 >/dev/null
wait_for "v4 at 1 + 1" 10 sources_are s '{"127.0.0.2":1,"127.0.0.3":1,"::1":3}'
ctl scale v4 0 >/dev/null
wait_for "v4 at 0" 10 sources_are s '{"127.0.0.2":0,"127.0.0.3":0,"::1":3}'
sink_reset s
sources_are s '{"::1":3}' || fail "after reset: $(stats s | jq -c .sources)"
ctl scale v4 4 >/dev/null
wait_for "v4 back" 10 sources_are s '{"127.0.0.2":2,"127.0.0.3":2,"::1":3}'
ctl scale v4 0 >/dev/null
wait_for "v4 down" 10 sources_are s '{"127.0.0.2":0,"127.0.0.3":0,"::1":3}'
sink_reset s

say "260 addresses at once: 256 places, the rest in sources_other"
# 260 connections, each from its own address 127.0.1.1 .. 127.0.2.4,
# held until $TMP/hold.stop appears (60 s at most).
timeout 90 perl -e '
use strict; use warnings; use IO::Socket::INET;
my ($port, $dir) = @ARGV;
my @s;
for my $i (0 .. 259) {
	my $a = sprintf("127.0.%d.%d", 1 + int(($i + 1) / 256), ($i + 1) % 256);
	push @s, IO::Socket::INET->new(PeerAddr => "127.0.0.1",
	    PeerPort => $port, LocalAddr => $a, Proto => "tcp")
	    or die "connect from $a: $!";
}
open(my $f, ">", "$dir/hold.up") or die; close $f;
for (1 .. 600) { last if -e "$dir/hold.stop"; select(undef, undef, undef, 0.1) }
' "$P4" "$TMP" >>"$TMP/hold.out" 2>&1 &
HOLD=$!
PIDS+=("$HOLD")
wait_for "260 held" 20 test -e "$TMP/hold.up"
wait_for "265 at the sink" 10 sink_is s active 265
J=$(stats s)
# ::1 holds one place: 255 new addresses fit, 5 do not.
echo "$J" | jq -e '(.sources | length) == 256 and .sources_other == 5 and
    .sources["::1"] == 3 and .sources["127.0.1.1"] == 1 and
    ([.sources[]] | add) + .sources_other == .active - 2' >/dev/null ||
    fail "full table: $(echo "$J" | jq -c '{active, sources_other,
        n: (.sources | length), sum: ([.sources[]] | add)}')"
touch "$TMP/hold.stop"
wait "$HOLD" || fail "the 260 connections: $(cat "$TMP/hold.out")"
wait_for "the 260 closed" 10 sink_is s active 5
J=$(stats s)
echo "$J" | jq -e '.sources_other == 0 and ([.sources[]] | add) == 3' \
    >/dev/null || fail "after the close: $(echo "$J" | jq -c '{active,
    sources_other, sum: ([.sources[]] | add)}')"
# A new address takes an idle place (the table is full of zeros).
ctl scale v4 2 >/dev/null
wait_for "a new address in a full table" 10 sh -c \
    "printf 'stats\n' | socat -t 5 - UNIX-CONNECT:$TMP/s.sock |
    jq -e '.sources[\"127.0.0.2\"] == 1 and .sources[\"127.0.0.3\"] == 1 and
        (.sources | length) == 256 and .sources_other == 0'"
sink_reset s
J=$(stats s)
echo "$J" | jq -e '(.sources | length) == 3' >/dev/null ||
    fail "reset kept idle addresses: $(echo "$J" | jq -c .sources)"
stop_loadd

say "-R: two sinks on one port add up"
PORT=$(low_port)
start_sink r1 -R -l "127.0.0.1:$PORT"
start_sink r2 -R -l "127.0.0.1:$PORT"
# Without -R the port is taken: exit 1, bind refused.
rc=0
out=$("$SINK" -l "127.0.0.1:$PORT" -t 1 -q 2>&1) || rc=$?
[ "$rc" -eq 1 ] && [[ "$out" == *"bind 127.0.0.1:$PORT"* ]] ||
    fail "a third sink without -R: exit $rc: $out"
P=$(profile shared "loads = (
  { name = \"many\"; target = \"127.0.0.1:$PORT\"; connections = 200;
    rate = 0; connect_rate = 10000; sources = [ \"127.0.0.4\" ]; } );")
start_loadd "$P"
both() {
	local a b
	a=$(stats r1 | jq '.active')
	b=$(stats r2 | jq '.active')
	[ $((a + b)) -eq 200 ]
}
wait_for "200 over both sinks" 10 both
A=$(stats r1)
B=$(stats r2)
# The kernel spreads by a hash of the ports: both get some (the chance
# that one of them gets none of 200 is 2^-199).
jq -e -n --argjson a "$A" --argjson b "$B" '
    $a.active > 0 and $b.active > 0 and
    $a.sources["127.0.0.4"] == $a.active and
    $b.sources["127.0.0.4"] == $b.active and
    $a.sources["127.0.0.4"] + $b.sources["127.0.0.4"] == 200' >/dev/null ||
    fail "shared port: $(jq -c '{active, sources}' <<<"$A")" \
        "$(jq -c '{active, sources}' <<<"$B")"
say "shared: $(jq .active <<<"$A") + $(jq .active <<<"$B")"
stop_loadd
say ok
