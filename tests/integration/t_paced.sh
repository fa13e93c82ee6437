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
    catch_up = \"drop\"; },
  { name = \"capped\"; target = \"$CU\"; connections = 1; rate = 100.0; max_rate = 100.0;
    expect = \"echo\"; size = 8; } );")
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
# What drop skipped is missing from what it sent, and nothing else is:
# once burst has sent all it owed (on a slow host, TSan, that is a while
# after late passed 150; seen 243 against 274), the two agree.
drop_matches() {
	J=$(ctlj stats)
	s_b=$(jl burst .messages_sent) s_d=$(jl drop .messages_sent) k=$(jl drop .skipped)
	[ $((s_d + k)) -ge $((s_b - 30)) ] && [ $((s_d + k)) -le $((s_b + 30)) ]
}
for _ in $(seq 1 100); do drop_matches && break; sleep 0.1; done
drop_matches || fail "drop sent $s_d + skipped $k, burst sent $s_b"
[ "$(jl drop '[.errors[]] | add')" = 0 ] || fail "drop: errors"
# Under max_rate, burst sends late only what fits 1.1 x max_rate in a
# second (0.1 s of moments here, 10, where burst above sent 150 and more)
# and skips the rest; a busy host makes a few late at any time.
wait_for "capped skipped" 10 stat_ge skipped 150 capped
J=$(ctlj stats)
[ "$(jl capped .late)" -le 50 ] || fail "capped sent $(jl capped .late) late"
[ "$(jl capped .late)" -ge 1 ] || fail "capped sent nothing late"
stop_loadd
out=$("$LOADD" -n -f "$(profile cu_flood 'loads = ( { name = "f"; target = "127.0.0.1:9"; catch_up = "drop"; } );')" 2>&1) &&
    fail "catch_up without a rate accepted"
case "$out" in *"cu_flood.conf:"[0-9]*": catch_up needs a rate"*) ;; *) fail "catch_up without a rate: $out" ;; esac
out=$("$LOADD" -n -f "$(profile cu_bad 'loads = ( { name = "f"; target = "127.0.0.1:9"; rate = 1.0; catch_up = "skip"; } );')" 2>&1) &&
    fail "catch_up = skip accepted"
case "$out" in *"cu_bad.conf:"[0-9]*': unknown catch_up "skip"'*) ;; *) fail "catch_up = skip: $out" ;; esac

say "max_rate holds through a server's stall: the catch-up stays under the ceiling"
# Issue 12: after a 20 s stall a load with max_rate = 100 once sent 62-81k
# messages/s.  2 connections x 200/s x 32 KiB each over TCP and over a
# unix socket, both sinks stopped for 3 s: a stall fills the socket
# buffers at once, so what it holds stays owed in loadd.  What the kernel
# took before the sinks resumed (loadd's bytes_sent then: the socket
# buffers, the sink's receive window, what a busy sink had not read yet)
# was sent on schedule; what the sinks count beyond it in the next second
# is what loadd sent after they resumed, at most 1.1 x max_rate (the
# documented catch-up) and a margin of 0.1 s for the edges of the window.
# Before the fix that was several times max_rate.
start_sink st
start_sink su -U "$TMP/su.stream"
P=$(profile capped "loads = (
  { name = \"tcp\"; target = \"127.0.0.1:$(sink_port st)\"; connections = 2;
    rate = 200.0; max_rate = 200.0; size = 32768; },
  { name = \"unix\"; target = \"unix:$TMP/su.stream\"; connections = 2;
    rate = 200.0; max_rate = 200.0; size = 32768; } );")
start_loadd "$P"
wait_for "2 tcp connections" 10 sink_is st active 2
wait_for "2 unix connections" 10 sink_is su active 2
wait_for "traffic" 10 sink_ge su bytes_received 3000000
bt0=$(sink_stat st bytes_received) bu0=$(sink_stat su bytes_received)
kill -STOP "$SINK_PID_st" "$SINK_PID_su"
sleep 3
J=$(ctlj stats)
lt=$(jl tcp .bytes_sent) lu=$(jl unix .bytes_sent)
kill -CONT "$SINK_PID_st" "$SINK_PID_su"
t0=$(date +%s%N)
sleep 1
bu1=$(sink_stat su bytes_received) bt1=$(sink_stat st bytes_received)
el=$(( ($(date +%s%N) - t0) / 1000000 ))
cap=$(( 2 * 200 * 32768 ))	# bytes a second at max_rate
max=$(( cap * 11 * el / 10000 + cap / 10 ))
after() {	# LOAD SINK_BEFORE SENT_AT_RESUME SINK_AFTER
	[ $(($4 - $3)) -le "$max" ] || fail "$1, after the stall: $(($4 - $3))" \
	    "bytes sent in ${el}ms (and $(($3 - $2)) held before), max_rate" \
	    "allows $max"
}
after tcp "$bt0" "$lt" "$bt1"
after unix "$bu0" "$lu" "$bu1"
# The rest was counted: about 1200 moments of each fell due in the stall.
J=$(ctlj stats)
for l in tcp unix; do
	[ "$(jl $l .skipped)" -ge 800 ] || fail "$l: only $(jl $l .skipped) skipped"
	[ "$(jl $l '[.errors[]] | add')" = 0 ] || fail "$l: errors after the stall"
done
stop_loadd

say "tiny rates and connect rates do not flood or spin"
# Issue 12: rate = 1e-11 once gave 92 M msg/s (the interval wrapped to
# 1 ns) and connect_rate = 1e-300 spun at 195% CPU (a timer's tv_sec
# overflowed).  The engine saturates both; the profile may refuse such
# values itself, so each is tried at the smallest the profile accepts.
start_sink tiny
TT=127.0.0.1:$(sink_port tiny)
pick() {	# pick KEY OTHER VALUE...: the first value loadd -n accepts
	local key=$1 other=$2 v
	shift 2
	for v in "$@"; do
		if "$LOADD" -n -f "$(profile pick "loads = ( { name = \"p\";
		    target = \"$TT\"; $key = $v; $other } );")" \
		    >/dev/null 2>&1; then
			echo "$v"
			return
		fi
	done
	fail "no $key of $* accepted"
}
R=$(pick rate 'max_rate = 1000.0;' 1e-11 1e-300 0.001)
C=$(pick connect_rate 'rate = 10.0;' 1e-300 1e-12 0.001)
say "rate = $R, connect_rate = $C"
P=$(profile tiny "loads = (
  { name = \"slow\"; target = \"$TT\"; connections = 5; rate = $R; max_rate = 1000.0; size = 16; },
  { name = \"opener\"; target = \"$TT\"; connections = 5; connect_rate = $C; rate = 10.0; } );")
start_loadd "$P"
wait_for "7 connections" 10 sink_is tiny active 7
cpu() { awk '{ print $14 + $15 }' "/proc/$LOADD_PID/stat"; }
c0=$(cpu); t0=$(date +%s%N)
sleep 2
c1=$(cpu); t1=$(date +%s%N)
hz=$(getconf CLK_TCK)
# Under 20% of a core: a spinning timer takes a whole one.
[ $(( (c1 - c0) * 1000000000 / hz * 5 )) -lt $((t1 - t0)) ] ||
    fail "loadd used $((c1 - c0)) ticks of CPU in $(( (t1 - t0) / 1000000 ))ms"
# Each of 2 workers opens one connection on its first token, then waits.
[ "$(stat_of connections_active opener)" -eq 2 ] ||
    fail "opener has $(stat_of connections_active opener) connections"
# At most a message each (a random phase within the interval), not a flood.
[ "$(stat_of messages_sent slow)" -le 5 ] ||
    fail "rate = $R sent $(stat_of messages_sent slow) messages"
stop_loadd
say ok
