#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Request/response against bad servers: a correct echo, then servers that
# answer wrong bytes (corrupt), too few bytes then close (short), too many
# bytes (double), never (discard); replies that do not fit the profile's
# expect (match, until, size); pipelining and the open loop.  Each case
# asserts the error kind loadd counts, that connections are reset and come
# back rather than stay stuck, and that loadd stays alive, answers and
# keeps its memory bounded.  Conditions are polled with deadlines; nothing
# asserts speed.
. "$(dirname "$0")/lib.sh"

RECONNECT='reconnect = { delay = "50ms"; max_delay = "200ms"; };'
# KiB: the ceiling (see t_network.sh for the reasoning) and the growth
# allowed once traffic runs.  AddressSanitizer's shadow memory and its
# quarantine of freed blocks make both meaningless; its leak check at exit
# (stop_loadd wants exit 0) stands in for them there.  ThreadSanitizer's
# allocator keeps freed memory too.
RSS_MAX=65536
RSS_GROW=2048
case "$(ldd "$LOADD" 2>/dev/null || true)" in
*libasan* | *libtsan*)
	RSS_MAX=4194304
	RSS_GROW=4194304
	;;
esac

# sink_mode NAME MODE: switch a running sink's mode.
sink_mode() {
	local r
	r=$(printf 'mode %s\n' "$2" | socat -t 5 - "UNIX-CONNECT:$TMP/$1.sock")
	[ "$r" = '{"ok":true}' ] || fail "sink $1: mode $2: $r"
}

# rr_start NAME MODE LOAD-KEYS: a sink NAME in MODE and a loadd with one
# load "rr" against it.
rr_start() {
	local name=$1 mode=$2 keys=$3 p
	start_sink "$name" -m "$mode"
	p=$(profile "$name" "loads = ( { name = \"rr\";
	    target = \"127.0.0.1:$(sink_port "$name")\"; $keys } );")
	LOG0=0
	[ ! -f "$TMP/loadd.log" ] || LOG0=$(wc -l <"$TMP/loadd.log")
	start_loadd "$p"
	RSS0=
}

# J holds the last `stats`; jv EXPR reads the load "rr" from it.
snap() { J=$(ctlj stats); }
jv() { echo "$J" | jq -r ".loads[0] | $1"; }
jtrue() { echo "$J" | jq -e ".loads[0] | $1" >/dev/null || fail "$2: $(echo "$J" |
	    jq -c '.loads[0] | {connects_ok, disconnects, connections_active,
	    messages_sent, replies, late, errors: (.errors |
	    with_entries(select(.value > 0))), latency: .latency_us.run,
	    service: .service_us.run}')"; }

# healthy: loadd runs, answers, and its memory is bounded and not growing
# (the first call notes a baseline after traffic began; later calls
# compare with it).
healthy() {
	local rss
	kill -0 "$LOADD_PID" 2>/dev/null || fail "loadd died"
	ctl version >/dev/null || fail "loadctl version failed"
	rss=$(rss_kib "$LOADD_PID")
	[ "$rss" -lt "$RSS_MAX" ] || fail "loadd RSS $rss KiB"
	if [ -z "$RSS0" ]; then
		RSS0=$rss
	else
		[ "$rss" -le $((RSS0 + RSS_GROW)) ] ||
		    fail "loadd RSS grew $RSS0 -> $rss KiB"
	fi
}

# Traffic errors are counted, never logged one by one: this loadd wrote
# a few lines at most (the log file is shared by the cases).
quiet_log() {
	local n
	n=$(( $(wc -l <"$TMP/loadd.log") - LOG0 ))
	[ "$n" -lt 10 ] || fail "loadd logged $n lines after traffic errors"
}

# extra_ge N: unsolicited + mismatch errors reach N.
extra_ge() {
	[ "$(ctlj stats | jq '.loads[0].errors | .unsolicited + .mismatch')" -ge "$1" ]
}

# no_errors: every error counter of the load is 0.
no_errors() { jtrue '([.errors[]] | add) == 0 and .disconnects == 0' "$1"; }

# percentiles_ordered KIND: p50 <= p90 <= p99 <= p99.9 <= max, count > 0.
# Histograms reach the stats once per interval: wait for one first.
percentiles_ordered() {
	wait_for "$1 recorded" 10 stat_ge "$1.run.count" 1
	snap
	jtrue ".$1.run | .count > 0 and .p50 > 0 and .p50 <= .p90 and
	    .p90 <= .p99 and .p99 <= .[\"p99.9\"] and .[\"p99.9\"] <= .max" \
	    "$1 percentiles out of order or empty"
}

ECHO_KEYS="connections = 4; size = 64; expect = \"echo\";
    reply_timeout = \"5s\"; $RECONNECT"

say "a correct echo server: replies, no errors, latency recorded"
rr_start echo echo "$ECHO_KEYS"
wait_for "replies" 10 stat_ge replies 1000
healthy
snap
r1=$(jv .replies)
wait_for "replies keep coming" 10 stat_ge replies $((r1 + 1000))
wait_for "replies_per_s reported" 10 stat_ge replies_per_s 1
snap
no_errors "errors against a correct echo server"
jtrue '.connections_active == 4 and .connects_ok == 4' "not 4 steady connections"
# Closed loop, inflight 1: at most one request per connection is out.
jtrue '.messages_sent - .replies <= 4' "more outstanding than inflight allows"
percentiles_ordered latency_us
percentiles_ordered service_us
jtrue '.latency_us.epoch.count > 0 and
    .latency_us.epoch.count <= .latency_us.run.count and
    .service_us.run.count == .latency_us.run.count and
    .latency_us.run.count <= .replies' "latency counts inconsistent"
# A closed loop writes a request when it books it: each reply's latency
# is its service time (recorded once, handed over into both).
jtrue '.service_us.run.max == .latency_us.run.max and
    .service_us.run.p50 == .latency_us.run.p50 and
    .service_us.run.p99 == .latency_us.run.p99 and
    .service_us.run.mean == .latency_us.run.mean' \
    "closed loop: service time differs from latency"
# One connect time and one time to first byte per connection made.
wait_for "4 connect times" 10 stat_is connect_us.run.count 4
wait_for "4 times to first byte" 10 stat_is ttfb_us.run.count 4
for k in interval epoch run; do
	jtrue ".latency_us.$k | has(\"p99.99\") and has(\"mean\") and has(\"p90\")" \
	    "latency_us.$k lacks keys"
done
jtrue '.epoch.number >= 1 and .epoch.replies > 0 and .epoch.errors == 0' "epoch"
healthy
stop_loadd

say "corrupt replies: mismatch, connections reset and come back"
rr_start bad corrupt "$ECHO_KEYS"
wait_for "mismatches" 10 stat_ge errors.mismatch 8
healthy
wait_for "more mismatches after backoff" 10 stat_ge errors.mismatch 20
wait_for "connections reopened" 10 stat_ge connects_ok 20
snap
jtrue '.replies == 0 and .errors.short_reply == 0 and
    .errors.reply_timeout == 0 and .disconnects >= .errors.mismatch - 4' \
    "corrupt: wrong kinds counted"
wait_for "the sink saw loadd close them" 10 sink_ge bad closed 16
healthy
quiet_log
say "... the server is fixed: the load recovers"
sink_mode bad echo
wait_for "replies after the fix" 10 stat_ge replies 500
wait_for "4 connections up" 10 stat_is connections_active 4
m1=$(stat_of errors.mismatch)
r1=$(stat_of replies)
wait_for "replies keep coming" 10 stat_ge replies $((r1 + 500))
[ "$(stat_of errors.mismatch)" -eq "$m1" ] || fail "mismatches after the fix"
healthy
stop_loadd

say "short replies (half, then FIN): short_reply"
rr_start short short "$ECHO_KEYS"
wait_for "short replies" 10 stat_ge errors.short_reply 8
wait_for "more after backoff" 10 stat_ge errors.short_reply 20
snap
jtrue '.replies == 0 and .errors.mismatch == 0 and
    .errors.closed_by_peer == 0 and .errors.reset == 0' "short: wrong kinds"
# Half of each 64-byte request came back: 32 bytes per short reply.
jtrue '.bytes_received > 0 and .bytes_received <= 32 * .connects_ok' \
    "short: bytes received"
healthy
quiet_log
stop_loadd

say "short replies to an until load: the bytes held back count too"
rr_start shortu short 'connections = 4; literal = "ABCDEFGH";
    expect = { until = "ABCDEFGH"; }; reply_timeout = "5s";
    reconnect = { delay = "50ms"; max_delay = "200ms"; };'
wait_for "short replies" 10 stat_ge errors.short_reply 8
snap
# The sink sends 4 of the 8 bytes: less than the delimiter, so loadd holds
# them back waiting for the rest; at the close they are a short reply.
jtrue '.replies == 0 and .errors.closed_by_peer == 0 and
    .bytes_received > 0' "until, short: wrong kinds or bytes lost"
healthy
quiet_log
stop_loadd

say "doubled replies: the extra copy is unsolicited (or a mismatch)"
rr_start dbl double "$ECHO_KEYS"
wait_for "reconnects" 10 stat_ge connects_ok 12
wait_for "unsolicited or mismatch" 10 extra_ge 8
snap
# The first copy is a correct reply; the second arrives with it (one
# sendmsg from the sink), when no request is out: unsolicited.
jtrue '.replies >= 1 and .errors.short_reply == 0 and
    .errors.reply_timeout == 0' "double: wrong kinds"
say "double: replies $(jv .replies), unsolicited $(jv .errors.unsolicited), mismatch $(jv .errors.mismatch)"
healthy
quiet_log
stop_loadd

say "a server that never replies: reply_timeout, no connection stuck"
# One connection, so that "not stuck" is about every connection there is.
rr_start mute discard "connections = 1; size = 64; expect = \"echo\";
    reply_timeout = \"300ms\"; $RECONNECT"
wait_for "a reply timeout" 10 stat_ge errors.reply_timeout 1
healthy
wait_for "timed out again and again" 15 stat_ge errors.reply_timeout 4
wait_for "reconnected after each" 10 stat_ge connects_ok 4
snap
jtrue '.disconnects >= 3 and .replies == 0 and .errors.mismatch == 0 and
    .errors.closed_by_peer == 0' "discard: wrong kinds"
# Ground truth: the sink saw each timed-out connection go away.
wait_for "the sink saw the stale connections closed" 10 sink_ge mute closed 3
healthy
quiet_log
say "... the server answers again: the load recovers"
sink_mode mute echo
# The request the sink dropped at the switch still times out; after that
# replies flow.  (No "no more timeouts" check: on a host busy enough to
# hold a reply back 300 ms, a timeout is the right verdict.)
wait_for "replies after the fix" 10 stat_ge replies 200
wait_for "the connection up" 10 stat_is connections_active 1
r1=$(stat_of replies)
wait_for "replies keep coming" 10 stat_ge replies $((r1 + 200))
healthy
stop_loadd

say "expect match against an echo: mismatch"
rr_start match echo "connections = 4; size = 64;
    expect = { match = \"+PONG\\r\\n\"; }; reply_timeout = \"5s\"; $RECONNECT"
wait_for "mismatches" 10 stat_ge errors.mismatch 12
snap
jtrue '.replies == 0 and .errors.unsolicited == 0' "match: wrong kinds"
healthy
quiet_log
stop_loadd

say "expect until CRLF with a PING CRLF literal against an echo: replies"
rr_start until echo "connections = 4; literal = \"PING\\r\\n\";
    expect = { until = \"\\r\\n\"; }; reply_timeout = \"5s\"; $RECONNECT"
wait_for "replies" 10 stat_ge replies 1000
snap
no_errors "until: errors"
jtrue '.message_size == 6 and .bytes_received <= 6 * .replies + 6 * 4' \
    "until: bytes"
percentiles_ordered latency_us
healthy
stop_loadd

say "expect size 32 for 64-byte requests: one reply, then unsolicited bytes"
# Each echo brings 64 bytes: the first 32 are the reply, the other 32
# arrive with no request out (closed loop, inflight 1), so loadd resets
# the connection: one reply and one unsolicited per connection made.
rr_start half echo "connections = 4; size = 64; expect = { size = 32; };
    reply_timeout = \"5s\"; $RECONNECT"
wait_for "unsolicited" 10 stat_ge errors.unsolicited 12
snap
jtrue '.replies >= 8 and .errors.mismatch == 0 and .errors.short_reply == 0 and
    .errors.reply_timeout == 0' "size 32: kinds"
# Every connection carries exactly one request before it is reset.
# (connects_ok is read first: up to 4 connections may open meanwhile.)
jtrue '.replies <= .connects_ok + 4 and .messages_sent <= .connects_ok + 4' \
    "more than one request per connection"
healthy
quiet_log
stop_loadd

say "pipelining: inflight 8, closed loop"
rr_start pipe echo "connections = 4; size = 64; inflight = 8;
    expect = \"echo\"; reply_timeout = \"5s\"; $RECONNECT"
wait_for "replies" 10 stat_ge replies 2000
healthy
r1=$(stat_of replies)
wait_for "replies keep coming" 10 stat_ge replies $((r1 + 2000))
snap
no_errors "pipelining: errors"
# messages_sent is read before replies: what is out is at most 4 x 8.
jtrue '.messages_sent - .replies <= 32' "more outstanding than inflight allows"
percentiles_ordered latency_us
healthy
stop_loadd

say "open loop, inflight 1, a server that keeps up: nothing late"
# A 50 ms gap: only a reply slower than that holds a request back.
t0=$(date +%s%N)
rr_start open echo "connections = 4; size = 64; rate = 20.0; inflight = 1;
    expect = \"echo\"; reply_timeout = \"5s\"; $RECONNECT"
wait_for "replies" 10 stat_ge replies 40
healthy
r1=$(stat_of replies)
wait_for "replies keep coming" 10 stat_ge replies $((r1 + 80))
snap
late=$(jv .late)
r1=$(jv .replies)
# Every reply so far (and the few read just after) in the histograms.
wait_for "latencies recorded" 10 stat_ge latency_us.run.count $((r1 + 8))
percentiles_ordered latency_us
percentiles_ordered service_us
no_errors "open loop: errors"
# A request is held back (late) only if the one before it was still out
# when it fell due, so that one waited at least a gap (50 ms) from its
# intended time.  The echo sink answers in microseconds; only a host too
# busy to run loadd or the sink on time makes that happen.  So: nothing
# late, or else some request that took a gap or more.
if [ "$late" -gt 0 ]; then
	jtrue '.latency_us.run.max >= 50000' \
	    "$late late requests, yet none waited a gap: held back for nothing"
	say "note: $late late (the host was slow: corrected max" \
	    "$(jv .latency_us.run.max) us, service max $(jv .service_us.run.max) us)"
fi
# Never faster than the schedule: 4 x 20/s, plus one per connection.
el=$(( ($(date +%s%N) - t0) / 1000000 ))
jtrue ".messages_sent <= 80 * $el / 1000 + 8" "faster than the rate ($el ms)"
# Latency runs from the intended time, service from the write: each
# latency is at least its service time, so every percentile is too.
jtrue '.latency_us.run.p50 >= .service_us.run.p50 and
    .latency_us.run.p99 >= .service_us.run.p99 and
    .latency_us.run.max >= .service_us.run.max' "latency below service time"
healthy
stop_loadd
say ok
