#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Every bad control request gets an error reply; the daemon, its loads and
# other control clients carry on untouched.
. "$(dirname "$0")/lib.sh"

start_sink s
PORT=$(sink_port s)
P=$(profile bad "loads = (
  { name = \"web\"; target = \"127.0.0.1:$PORT\"; connections = 5;
    max_connections = 100; rate = 50.0; max_rate = 1000.0; },
  { name = \"bulk\"; target = \"127.0.0.1:$PORT\"; connections = 3;
    max_connections = 10; } );")
start_loadd "$P"
wait_for "8 connections at the sink" 10 sink_is s active 8

# Another client, subscribed for the whole test.
"$LOADCTL" -j watch >"$TMP/watch.out" 2>&1 &
WATCH=$!
PIDS+=($WATCH)
wait_for "watch output" 10 test -s "$TMP/watch.out"

# reply_error BYTES SUBSTRING: raw request, JSON error reply with reason.
reply_error() {
	local out
	out=$(raw "$1")
	echo "$out" | jq -e '.ok == false' >/dev/null 2>&1 ||
	    fail "request '$1': no error reply (got '$out')"
	case "$out" in *"$2"*) ;; *) fail "request '$1': '$out' lacks '$2'" ;; esac
}

say "malformed lines"
reply_error '\n' "empty request"
reply_error '   \n' "empty request"
reply_error 'frobnicate\n' 'unknown command'
reply_error '\x01\x02\xff\xfe garbage\n' 'non-printable'
reply_error 'stat\x00us\n' 'non-printable'
reply_error 'scale\n' 'usage: scale'
reply_error 'scale web 1 2\n' 'usage: scale'
reply_error 'scale web ten\n' 'bad connection count'
reply_error 'scale web -1\n' 'must not be negative'
reply_error 'scale web 99999999999999999999\n' 'too large'
reply_error 'status extra\n' 'usage: status'
reply_error 'rate web fast\n' 'bad rate'

say "a 1 MiB line with no newline"
out=$(head -c 1048576 /dev/zero | tr '\0' 'a' | socat -s -t 5 - "UNIX-CONNECT:$SOCK" 2>/dev/null || true)
case "$out" in *"too long"*) ;; *) fail "1 MiB line: '$out'" ;; esac

say "binary garbage"
out=$(head -c 65536 /dev/urandom | socat -s -t 5 - "UNIX-CONNECT:$SOCK" 2>/dev/null || true)
[ -n "$out" ] || fail "binary garbage got no reply"
sed -n 1p <<<"$out" | jq -e '.ok == false' >/dev/null || fail "garbage: $out"

say "refusals by meaning"
expect_refused 'name one' scale 5
expect_refused 'name one' stop
expect_refused 'no load named "nosuch"' scale nosuch 5
expect_refused 'max_connections = 100' scale web 101
expect_refused 'max_connections = 10' scale bulk 11
expect_refused 'max_rate = 1000' rate web 5000
expect_refused 'max_rate' rate web flood

say "rates and ramps at their edges: refused with a reason, by both parsers"
# Issue 12: "rate web 1e-11" under max_rate = 1000 once flooded (1e9 / rate
# overflowed the interval to 1 ns).  Each edge gets the daemon's error reply
# and loadctl's usage error (exit 2), both with the reason.
m0=$(stat_of messages_sent web)
t0=$(date +%s%N)
edge() {
	local out rc=0
	reply_error "$1\n" "$2"
	# shellcheck disable=SC2086
	out=$("$LOADCTL" $1 2>&1) || rc=$?
	[ "$rc" -eq 2 ] || fail "loadctl $1: exit $rc, wanted 2 ($out)"
	case "$out" in *"$2"*) ;; *) fail "loadctl $1: '$out' lacks '$2'" ;; esac
}
edge 'rate web 1e-11' 'below the minimum'
edge 'rate web 1e-300' 'below the minimum'
edge 'rate web 1e-320' 'below the minimum'
edge 'rate web 0.0009' '0.001 to 1000000000 messages per second'
edge 'rate web 1e300' 'too large'
edge 'rate web inf' 'not a decimal number'
edge 'rate web nan' 'not a decimal number'
edge 'rate web 0x10' 'not a decimal number'
edge 'rate web -0' 'must be above 0'
edge 'scale web 6 --over 1e-300' 'shorter than 1ms'
edge 'scale web 6 --over 1e-320s' 'shorter than 1ms'
edge 'scale web 6 --over 1e300' 'longer than a week'
edge 'scale web 6 --over inf' 'not a duration'
edge 'scale web 6 --over nan' 'not a duration'
edge 'scale web 6 --over 0x10s' 'not a duration'
# The smallest rate passes, and the load keeps its 5 connections.
ctl rate web 0.001 >/dev/null
[ "$(stat_of rate web)" = 0.001 ] || fail "rate web 0.001: $(stat_of rate web)"
m1=$(stat_of messages_sent web)
el=$(( ($(date +%s%N) - t0) / 1000000 ))
# 5 connections x 50/s at most, and a second's worth for the edges of the
# window (counters read through the control socket): a flood is millions.
[ $((m1 - m0)) -le $(( 250 * el / 1000 + 250 )) ] ||
    fail "web sent $((m1 - m0)) messages in ${el}ms"
ctl rate web 50 >/dev/null

say "usage errors never reach the daemon (exit 2)"
for args in "scale -1" "scale 99999999999999999999" "frobnicate" "scale" \
    "rate web 0"; do
	rc=0
	# shellcheck disable=SC2086
	"$LOADCTL" $args >/dev/null 2>&1 || rc=$?
	[ "$rc" -eq 2 ] || fail "loadctl $args: exit $rc, wanted 2"
done
rc=0; "$LOADCTL" -s "$TMP/nothing.sock" status >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 3 ] || fail "unreachable daemon: exit $rc, wanted 3"

say "the daemon and its loads carried on"
[ "$(sink_stat s active)" -eq 8 ] || fail "sink active $(sink_stat s active)"
[ "$(sink_stat s accepted)" -eq 8 ] || fail "connections were reopened"
[ "$(stat_of connections_active web)" -eq 5 ] || fail "web changed"
[ "$(stat_of connections_active bulk)" -eq 3 ] || fail "bulk changed"
kill -0 "$LOADD_PID" || fail "loadd died"
n1=$(wc -l <"$TMP/watch.out")
sleep 0.5
wait_for "watch still fed" 10 test "$(wc -l <"$TMP/watch.out")" -gt "$n1"
kill -0 "$WATCH" || fail "the watching client was dropped"
ctl scale web 10 >/dev/null
wait_for "good requests still work" 10 sink_is s active 13

stop_loadd
say ok
