#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# protocol = "udp": paced datagrams arrive exactly as counted, a flood
# flows and stops, request/response over echo is timed, replies that never
# come are counted as lost (the load goes on), a closed port is counted as
# refused without a busy loop, IPv6, scale and rate, and the profile's UDP
# limits.  Conditions are polled with deadlines; nothing asserts speed (the
# CPU bound of the closed-port case is a ceiling a busy loop would break,
# far above what a 100 msg/s load needs).  Traffic goes to 127.0.0.1 and
# ::1 only.
. "$(dirname "$0")/lib.sh"

# The sink's UDP port: its port file lists the -l port first, then -u.
udp_port() { sed -n 2p "$TMP/$1.port"; }

sink_mode() {
	local r
	r=$(printf 'mode %s\n' "$2" | socat -t 5 - "UNIX-CONNECT:$TMP/$1.sock")
	[ "$r" = '{"ok":true}' ] || fail "sink $1: mode $2: $r"
}

# J holds the last `stats`; jv LOAD EXPR reads a load from it.
snap() { J=$(ctlj stats); }
jv() { echo "$J" | jq -r ".loads[] | select(.name==\"$1\") | $2"; }

# cpu_ticks PID: user + system clock ticks so far.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# stable LOAD FIELD: the field has stopped moving (two reads 300 ms apart).
stable() {
	local a b
	a=$(stat_of "$2" "$1")
	sleep 0.3
	b=$(stat_of "$2" "$1")
	[ "$a" = "$b" ]
}

start_sink u -u 127.0.0.1:0
UP=$(udp_port u)
CLOSED=$(low_port)
P=$(profile udp "loads = (
  { name = \"paced\"; protocol = \"udp\"; target = \"127.0.0.1:$UP\";
    connections = 10; max_connections = 50; rate = 100.0; size = 64; },
  { name = \"flood\"; protocol = \"udp\"; target = \"127.0.0.1:$UP\";
    connections = 2; rate = \"flood\"; size = 512; autostart = false; },
  { name = \"echo\"; protocol = \"udp\"; target = \"127.0.0.1:$UP\";
    connections = 4; rate = 50.0; size = 48; expect = \"echo\";
    inflight = 4; reply_timeout = \"200ms\"; autostart = false; },
  { name = \"closed\"; protocol = \"udp\"; target = \"127.0.0.1:$CLOSED\";
    connections = 10; rate = 10.0; size = 32; autostart = false; },
  { name = \"queries\"; protocol = \"udp\"; target = \"127.0.0.1:$UP\";
    connections = 2; rate = 40.0; expect = \"echo\"; inflight = 4;
    messages = ( \"q1\", \"query-two\", \"hex:00 01 02 03 04 05 06\" );
    reply_timeout = \"500ms\"; autostart = false; }
);")
start_loadd "$P"

say "paced: 10 x 100/s, every datagram counted on both sides"
wait_for "10 UDP sockets up" 10 stat_is connections_active 10 paced
wait_for "datagrams arrive" 10 sink_ge u datagrams_received 500
ctl stop paced >/dev/null
wait_for "paced load stopped" 10 stat_is connections_active 0 paced
wait_for "messages_sent settles" 10 stable paced messages_sent
sent=$(stat_of messages_sent paced)
wait_for "the sink has all $sent" 10 sink_is u datagrams_received "$sent"
[ "$(stat_of bytes_sent paced)" -eq $((sent * 64)) ] ||
    fail "bytes_sent $(stat_of bytes_sent paced) for $sent datagrams of 64"
[ "$(sink_stat u udp_bytes_received)" -eq $((sent * 64)) ] ||
    fail "sink: $(sink_stat u udp_bytes_received) bytes for $sent datagrams"
say "paced: $sent datagrams sent, $sent received"

say "flood into discard: datagrams flow, stop works"
sink_reset u
ctl start flood >/dev/null
wait_for "flood datagrams" 20 sink_ge u datagrams_received 20000
ctl stop flood >/dev/null
wait_for "flood stopped" 10 stat_is connections_active 0 flood
sleep 0.3
d0=$(sink_stat u datagrams_received)
sleep 0.5
[ "$(sink_stat u datagrams_received)" = "$d0" ] || fail "datagrams after stop"
[ "$(stat_of messages_sent flood)" -ge "$d0" ] ||
    fail "flood: sink got $d0, loadd sent $(stat_of messages_sent flood)"

say "request/response: echo replies are timed"
sink_mode u echo
ctl start echo >/dev/null
wait_for "echo replies" 20 stat_ge replies 200 echo
snap
[ "$(jv echo '.latency_us.run.p50 // "none"')" != none ] ||
    fail "no latency histogram: $(jv echo '.latency_us')"
[ "$(jv echo '.errors.mismatch')" = 0 ] || fail "mismatches: $(jv echo .errors)"
[ "$(jv echo '.lost')" = 0 ] || fail "lost on a healthy echo: $(jv echo .lost)"
[ "$(jv echo '.datagrams_received')" -ge "$(jv echo .replies)" ] ||
    fail "datagrams_received below replies"

say "a list of queries of three lengths, one datagram each, echoed"
ctl start queries >/dev/null
wait_for "queries: replies" 20 stat_ge replies 60 queries
ctl stop queries >/dev/null
snap
[ "$(jv queries '.errors.mismatch')" = 0 ] || fail "queries: $(jv queries .errors)"
# bytes are whole rounds of 2 + 9 + 7 bytes, and what a round began
m=$(jv queries .messages_sent)
b=$(jv queries .bytes_sent)
[ "$(jv queries .replies)" -ge $((m - 8)) ] || fail "queries: $(jv queries .replies) replies to $m"
per=$(( m / 2 ))	# two connections, each from the list's start
[ "$b" -ge $((per * 2 * 2)) ] && [ "$b" -le $((m * 9)) ] ||
    fail "queries: $b bytes for $m messages"

say "replies that never come: lost grows, the load keeps its pace"
sink_mode u discard
l0=$(stat_of lost echo)
wait_for "lost requests" 10 stat_ge lost $((l0 + 50)) echo
snap
m0=$(jv echo .messages_sent); r0=$(jv echo .replies); l1=$(jv echo .lost)
sleep 1
snap
[ "$(jv echo .messages_sent)" -gt "$m0" ] || fail "the load stopped sending"
[ "$(jv echo .lost)" -gt "$l1" ] || fail "lost did not grow"
# 4 x 50/s for 1 s is 200 requests: lost may not run away from them.
[ $(( $(jv echo .lost) - l1 )) -le 400 ] || fail "lost storm: $l1 -> $(jv echo .lost)"
errs=$(echo "$J" | jq '[.loads[] | select(.name=="echo") | .errors[]] | add')
[ "$errs" -le 10 ] || fail "errors on lost replies: $(jv echo .errors)"
sink_mode u echo
wait_for "replies again" 10 stat_ge replies $((r0 + 50)) echo
ctl stop echo >/dev/null

say "closed port: refused is counted, sending goes on, no busy loop"
ctl start closed >/dev/null
wait_for "refusals" 10 stat_ge errors.refused 20 closed
m0=$(stat_of messages_sent closed)
c0=$(cpu_ticks "$LOADD_PID")
sleep 2
c1=$(cpu_ticks "$LOADD_PID")
[ "$(stat_of messages_sent closed)" -gt "$m0" ] || fail "sending stopped"
[ "$(stat_of connections_active closed)" = 10 ] || fail "sockets closed"
hz=$(getconf CLK_TCK)
[ $((c1 - c0)) -lt "$hz" ] ||
    fail "loadd used $((c1 - c0)) ticks (of $hz/s) in 2 s on a 100 msg/s load"
snap
[ "$(jv closed .connects_failed)" = 0 ] || fail "connects failed"
ctl stop closed >/dev/null

say "scale and rate on a UDP load"
ctl start paced >/dev/null
wait_for "10 up" 10 stat_is connections_active 10 paced
ctl scale paced 25 >/dev/null
wait_for "25 up" 10 stat_is connections_active 25 paced
ctl scale paced 3 >/dev/null
wait_for "3 up" 10 stat_is connections_active 3 paced
ctl rate paced 1000 >/dev/null
[ "$(stat_of rate paced)" = 1000 ] || fail "rate $(stat_of rate paced)"
sink_reset u
wait_for "faster pace" 10 sink_ge u datagrams_received 1500
ctl rate paced flood >/dev/null
wait_for "flood after rate" 20 sink_ge u datagrams_received 50000
ctl rate paced 10 >/dev/null
ctl stop paced >/dev/null
wait_for "stopped" 10 stat_is connections_active 0 paced
stop_loadd

if ip -6 addr show lo 2>/dev/null | grep -q '::1/'; then
	say "IPv6: paced datagrams to [::1]"
	start_sink v6 -l '[::1]:0' -u '[::1]:0'
	P6=$(profile v6 "loads = ( { name = \"v6\"; protocol = \"udp\";
	    target = \"[::1]:$(udp_port v6)\"; connections = 4; rate = 50.0;
	    size = 100; } );")
	start_loadd "$P6"
	wait_for "4 up" 10 stat_is connections_active 4
	wait_for "datagrams over IPv6" 10 sink_ge v6 datagrams_received 100
	ctl stop >/dev/null
	wait_for "stopped" 10 stat_is connections_active 0
	wait_for "settles" 10 stable v6 messages_sent
	wait_for "every one arrived" 10 sink_is v6 datagrams_received \
	    "$(stat_of messages_sent)"
	stop_loadd
else
	say "IPv6: no ::1 on lo, skipped"
fi

say "templates: each datagram expanded, every one counted on both sides"
start_sink ut -u 127.0.0.1:0
UT=$(udp_port ut)
P=$(profile udptmpl "loads = (
  { name = \"ids\"; protocol = \"udp\"; target = \"127.0.0.1:$UT\";
    connections = 3; rate = 200.0; template = true;
    messages = ( \"id={seq} conn={conn} r={rand:6}\", \"hex:00 01\",
      \"{load}@{time_us}\" ); } );")
start_loadd "$P"
wait_for "templated datagrams" 10 stat_ge messages_sent 300 ids
ctl stop ids >/dev/null
wait_for "ids: stopped sending" 10 stable ids messages_sent
wait_for "the sink has every datagram" 10 sink_is ut datagrams_received \
    "$(stat_of messages_sent ids)"
[ "$(sink_stat ut udp_bytes_received)" = "$(stat_of bytes_sent ids)" ] ||
    fail "templates: sink got $(sink_stat ut udp_bytes_received) bytes, loadd sent $(stat_of bytes_sent ids)"
stop_loadd

say "paced datagrams through io_uring, and on when a submission fails"
# Paced UDP sends join the pace tick's io_uring submission; when one is
# refused (the LOADD_TEST_URING_FAIL hook) the datagrams the kernel never
# took are counted as errors, not as sent, and sendmmsg() carries on.
sink_reset ut
P=$(profile udpring "loads = (
  { name = \"ring\"; protocol = \"udp\"; target = \"127.0.0.1:$UT\";
    connections = 10; rate = 200.0; size = 40; } );")
: >"$TMP/loadd.log"
LOADD_TEST_URING_FAIL=20 start_loadd "$P"
wait_for "on sendmmsg after the failed submission" 20 sh -c \
    "[ \$('$LOADCTL' -j status | jq -r .paced_sends) = send ]"
grep -q 'io_uring submission failed' "$TMP/loadd.log" ||
    fail "no warning for the failed submission"
wait_for "datagrams after the fallback" 10 stat_ge messages_sent 2000 ring
ctl stop ring >/dev/null
wait_for "ring: stopped sending" 10 stable ring messages_sent
wait_for "the sink has every datagram counted as sent" 10 sink_is ut \
    datagrams_received "$(stat_of messages_sent ring)"
stop_loadd

say "profile limits"
bad() {
	local name=$1 keys=$2 want=$3 f out rc=0
	f=$TMP/$name.conf
	printf 'loads = (\n  { name = "b"; protocol = "udp";\n    target = "127.0.0.1:9"; %s }\n);\n' \
	    "$keys" >"$f"
	out=$("$LOADD" -n -f "$f" 2>&1) || rc=$?
	[ "$rc" -eq 1 ] || fail "$name: exit $rc, wanted 1 ($out)"
	grep -q "^$f:[0-9]\+: " <<<"$out" || fail "$name: no FILE:LINE in: $out"
	case "$out" in *"$want"*) ;; *) fail "$name: '$out' lacks '$want'" ;; esac
}
bad size 'size = 65508;' 'a UDP message is at most 65507 bytes (size is 65508)'
bad until 'expect = { until = "\\n"; };' 'expect until has no meaning for protocol = "udp"'
bad tmplecho 'literal = "q{seq}"; template = true; expect = "echo";' 'with template = true cannot check echo replies'
"$LOADD" -n -f "$TOP/conf/udp.conf" >/dev/null || fail "conf/udp.conf refused"
say ok
