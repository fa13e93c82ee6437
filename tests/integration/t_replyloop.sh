#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The reply loop (worker_spin in src/engine/worker.c): a worker whose
# request/response connections are plain streams waits in its own epoll set
# with the next due moment as the timeout, instead of a pass of libevent's
# loop per request.  One worker carries everything here, so that what the
# loop could starve shares it:
#  - paced and closed-loop requests are all answered, counted as the sink
#    counts them, with no error;
#  - commands end a slice at once: rescales while requests run take effect
#    at the sink and `status` answers;
#  - the loop sleeps between due moments (a slow load costs next to no CPU);
#  - a flood load on the same worker keeps moving while requests run;
#  - without epoll_pwait2() (an older kernel, valgrind; LOADD_TEST_NO_PWAIT2)
#    the loop times its waits with a timerfd and does the same.
# Conditions are polled with deadlines; nothing asserts speed.
. "$(dirname "$0")/lib.sh"

start_sink e -m echo
start_sink d
E=$(sink_port e)
D=$(sink_port d)

# anon KIND: the daemon's descriptors of one anonymous kind (timerfd, ...).
anon() {
	find "/proc/$LOADD_PID/fd" -lname "anon_inode:\[$1\]" 2>/dev/null | wc -l
}

# cpu_ticks: the daemon's user + system time, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$LOADD_PID/stat"; }

# write_rr NAME [EXTRA-LOADS]: one worker; rr paced 20 x 100/s, cl closed
# loop 5 x inflight 4, both echo; slow 2 x 5/s.
write_rr() {
	cat >"$TMP/$1.conf" <<CONF
daemon = { socket = "$SOCK"; stats_interval = "200ms"; workers = 1; };
loads = (
  { name = "rr"; target = "127.0.0.1:$E"; connections = 20; rate = 100.0;
    size = 64; expect = "echo"; },
  { name = "cl"; target = "127.0.0.1:$E"; connections = 5; inflight = 4;
    size = 16; expect = "echo"; }
  ${2:-}
);
CONF
	echo "$TMP/$1.conf"
}

# answered LOAD MAX: every request sent has its reply but at most MAX (the
# requests in flight when the load stopped, closed with their connections).
answered() {
	local j
	j=$(ctlj stats | jq -c ".loads[] | select(.name == \"$1\")")
	echo "$j" | jq -e ".replies > 0 and .messages_sent >= .replies and
	    .messages_sent - .replies <= $2" >/dev/null ||
	    fail "$1: $(echo "$j" | jq -c '{messages_sent, replies}')"
}

# check_rr: the requests flow, a rescale reaches the sink, the counts agree.
check_rr() {
	local errs
	wait_for "rr replies" 30 stat_ge replies 500 rr
	wait_for "cl replies" 30 stat_ge replies 5000 cl
	wait_for "25 connections at the sink" 20 sink_is e active 25
	# Rescales while the loop is busy: each command ends a slice.
	ctl scale rr 5 >/dev/null || fail "scale rr 5"
	wait_for "10 at the sink" 20 sink_is e active 10
	ctl scale rr 20 >/dev/null || fail "scale rr 20"
	wait_for "25 again" 20 sink_is e active 25
	timeout 10 "$LOADCTL" status >/dev/null || fail "status while busy"
	# Stop both; what loadd sent is what the sink saw (below), and every
	# request has its reply but those in flight at the stop.
	for l in $(ctlj status | jq -r '.loads[].name'); do
		ctl stop "$l" >/dev/null || fail "stop $l"
	done
	wait_for "no connection at the sink" 20 sink_is e active 0
	# rr: 20 in flight at the stop, and the 15 the scale to 5 closed.
	answered rr 35
	answered cl 20
	errs=$(ctlj stats | jq '[.loads[] | select(.name == "rr" or .name == "cl")
	    | .errors | to_entries[] | .value] | add')
	[ "$errs" = 0 ] || fail "errors: $(ctlj stats | jq -c '[.loads[].errors]')"
	# What loadd counts is what the echo sink saw, both ways.
	wait_for "sink counts = loadd's" 20 sh -c "[ \$(printf 'stats\n' |
	    socat -t 5 - UNIX-CONNECT:$TMP/e.sock | jq .bytes_received) = \
	    \$('$LOADCTL' -s '$SOCK' -j stats | jq '[.loads[] |
	    select(.name == \"rr\" or .name == \"cl\") | .bytes_sent] | add') ]"
}

say "epoll_pwait2: paced and closed-loop requests, rescales, commands"
start_loadd "$(write_rr a)"
base_tfd=$(anon timerfd)
check_rr
stop_loadd

say "without epoll_pwait2: a timerfd times the waits"
sink_reset e
LOADD_TEST_NO_PWAIT2=1 start_loadd "$(write_rr b)"
wait_for "rr replies" 30 stat_ge replies 100 rr
[ "$(anon timerfd)" -eq $((base_tfd + 1)) ] ||
	fail "timerfds: $(anon timerfd), wanted $((base_tfd + 1))"
check_rr
stop_loadd

say "a slow load: the loop sleeps between due moments"
for hook in "" 1; do
	sink_reset e
	cat >"$TMP/slow.conf" <<CONF
daemon = { socket = "$SOCK"; stats_interval = "1s"; workers = 1; };
loads = ( { name = "slow"; target = "127.0.0.1:$E"; connections = 2;
  rate = 5.0; size = 64; expect = "echo"; } );
CONF
	LOADD_TEST_NO_PWAIT2=$hook start_loadd "$TMP/slow.conf"
	wait_for "slow replies" 20 stat_ge replies 5 slow
	t0=$(cpu_ticks)
	sleep 2
	t1=$(cpu_ticks)
	# 20 requests in 2 s; a loop that spun would burn 200 ticks.
	[ $((t1 - t0)) -lt 60 ] ||
	    fail "${hook:+timerfd: }$((t1 - t0)) CPU ticks in 2 s for 10 requests/s"
	stat_ge replies 15 slow || fail "slow load: $(stat_of replies slow) replies"
	stop_loadd
done

say "a flood load on the same worker keeps moving"
sink_reset e
start_loadd "$(write_rr c ", { name = \"fl\"; target = \"127.0.0.1:$D\";
    connections = 2; size = 1024; }")"
wait_for "rr replies" 30 stat_ge replies 500 rr
b0=$(sink_stat d bytes_received)
r0=$(stat_of replies rr)
wait_for "flood bytes grow" 10 sink_ge d bytes_received $((b0 + 10485760))
wait_for "rr replies grow" 10 stat_ge replies $((r0 + 200)) rr
check_rr
stop_loadd
say ok
