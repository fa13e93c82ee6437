#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Batched paced sends: each pace tick's sends go to the kernel through the
# worker's io_uring in one submission.  Checks that batching happens (more
# than one send per submission), that whole messages arrive in order
# (an echo load with many requests per connection per tick, large enough
# that the kernel takes some only in part while the server stalls, sees
# no mismatch), and that `io_uring = false` gives the same traffic by
# plain send()s.  A submission the kernel refuses (simulated through the
# LOADD_TEST_URING_FAIL hook) leaves the daemon running on send(), with
# the gathered sends delivered in order.  Nothing here asserts speed.
. "$(dirname "$0")/lib.sh"

start_sink d
start_sink e -m echo
sink_cmd() { printf '%s\n' "$2" | socat -t 5 - "UNIX-CONNECT:$TMP/$1.sock"; }

# write_profile IO_URING
write_profile() {
	cat >"$TMP/batch.conf" <<CONF
daemon = { socket = "$SOCK"; stats_interval = "200ms"; workers = 2;
    io_uring = $1; };
loads = (
	{ name = "paced"; target = "127.0.0.1:$(sink_port d)";
	  connections = 20; rate = 500.0; literal = "0123456789abcdef\n"; },
	{ name = "echo"; target = "127.0.0.1:$(sink_port e)";
	  connections = 2; rate = 400.0; size = 65536; expect = "echo";
	  inflight = 4096; tick = "5ms"; reply_timeout = "10s"; }
);
CONF
}

status() { ctlj status | jq -r ".$1"; }
ld() { ctlj stats | jq -r ".loads[] | select(.name == \"$1\") | .$2"; }

# check_traffic: whole messages, both loads moving, no bad replies.
check_traffic() {
	local r0 sent msgs j
	wait_for "paced messages" 10 sink_ge d bytes_received 17000
	r0=$(ld echo replies)
	wait_for "echo replies" 10 sh -c "[ \$('$LOADCTL' -j stats | jq '.loads[1].replies') -gt $((r0 + 200)) ]"
	j=$(ctlj stats | jq -c '.loads[] | select(.name == "paced")')
	sent=$(echo "$j" | jq .bytes_sent)
	msgs=$(echo "$j" | jq .messages_sent)
	[ "$sent" -eq $((msgs * 17)) ] || fail "paced: $sent bytes for $msgs messages"
	for k in mismatch unsolicited short_reply reply_timeout; do
		[ "$(ld echo "errors.$k")" -eq 0 ] || fail "echo: $k $(ld echo "errors.$k")"
	done
	[ "$(ld echo disconnects)" -eq 0 ] || fail "echo: disconnects"
}

say "io_uring on"
write_profile true
start_loadd "$TMP/batch.conf"
wait_for "all connections" 10 sh -c "[ \$('$LOADCTL' -j status | jq '[.loads[].connections_active] | add') = 22 ]"
mode=$(status paced_sends)
[ "$mode" = io_uring ] || fail "paced_sends is '$mode': io_uring refused here? (see the log)"
check_traffic
b=$(status send_batches)
n=$(status sends_batched)
[ "$b" -gt 0 ] || fail "no batches"
say "$n sends in $b submissions"
# 20 x 500/s on two workers with a 1 ms tick is ~5 a tick each.  One per submission would be no batching at all.
[ "$n" -ge $((2 * b)) ] || fail "$n sends in $b submissions: not batched"

# 2 x 400/s x 64 KiB is 25 MB/s a connection: a second's stall is more
# than the socket buffers hold, so sends are taken in part or refused.
say "server stalls 1 s: sends meet a full socket, the rest is queued"
[ "$(sink_cmd e "stall 1000")" = '{"ok":true}' ] || fail "stall"
wait_for "the stall to end" 10 sink_is e stalled false
check_traffic
stop_loadd

say "io_uring off"
sink_reset d
write_profile false
start_loadd "$TMP/batch.conf"
wait_for "all connections" 10 sh -c "[ \$('$LOADCTL' -j status | jq '[.loads[].connections_active] | add') = 22 ]"
[ "$(status paced_sends)" = send ] || fail "paced_sends $(status paced_sends)"
check_traffic
[ "$(status send_batches)" -eq 0 ] || fail "batches with io_uring off"
line=$(ctl status | sed -n 1p)
grep -q "paced sends by send" <<<"$line" || fail "status line: $line"
stop_loadd

# Each worker's 30th submission fails as the kernel's could (ENOMEM): the
# sends it carried go out by libevent's write, in order (the echo load
# checks every byte), and the worker goes on with send().
say "io_uring submission fails: fall back to send()"
sink_reset d
write_profile true
: >"$TMP/loadd.log"
LOADD_TEST_URING_FAIL=30 start_loadd "$TMP/batch.conf"
wait_for "both workers on send()" 20 sh -c "[ \$('$LOADCTL' -j status | jq -r .paced_sends) = send ]"
kill -0 "$LOADD_PID" || fail "loadd died"
[ "$(grep -c 'io_uring submission failed' "$TMP/loadd.log")" -eq 2 ] ||
	fail "expected one warning per worker: $(cat "$TMP/loadd.log")"
check_traffic
wait_for "all connections" 10 sh -c "[ \$('$LOADCTL' -j status | jq '[.loads[].connections_active] | add') = 22 ]"
stop_loadd
say ok
