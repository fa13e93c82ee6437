#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Network failures: a closed port (counted, backoff, no busy loop), a server
# that never reads (memory stays bounded), a server that closes at once, a
# server restarted mid-run (the load returns to its target count).
. "$(dirname "$0")/lib.sh"

RECONNECT='reconnect = { delay = "50ms"; max_delay = "400ms"; backoff = 2.0; jitter = 0.2; };'

say "closed port"
# A port nobody listens on, outside the ephemeral range.
PORT=$(low_port)
P=$(profile closed "loads = ( { name = \"dead\"; target = \"127.0.0.1:$PORT\";
    connections = 5; $RECONNECT } );")
start_loadd "$P"
wait_for "refused connects counted" 10 stat_ge errors.refused 5
sleep 2
# 5 slots, backoff 50ms doubling to a 400ms cap: about 5 attempts each in
# the first second and under 3 per second after.  A busy loop would make
# tens of thousands.
J=$(ctlj stats)
failed=$(echo "$J" | jq .loads[0].connects_failed)
refused=$(echo "$J" | jq .loads[0].errors.refused)
[ "$failed" -eq "$refused" ] || fail "connects_failed $failed != refused $refused"
[ "$failed" -lt 150 ] || fail "$failed connect attempts in ~2s: busy loop"
[ "$(stat_of connections_active)" -eq 0 ] || fail "active with no server"
# The journal tells it at once, and then at most once a minute.
grep -qE "load dead: [0-9]+ connects failed and 0 connections lost in the last [0-9]+s \(refused=[0-9]+\)" \
    "$TMP/loadd.log" || fail "refused connects not logged: $(tail -3 "$TMP/loadd.log")"
[ "$(grep -c "load dead: .* connects failed" "$TMP/loadd.log")" -eq 1 ] ||
    fail "failures logged more than once a minute"

say "server restarted: the load comes back to its target"
start_sink back -l "127.0.0.1:$PORT"
wait_for "5 connections at the new sink" 10 sink_is back active 5
wait_for "loadd counts 5" 10 stat_is connections_active 5
kill "$SINK_PID_back"; wait "$SINK_PID_back" 2>/dev/null || true
wait_for "disconnects counted" 10 stat_ge disconnects 5
start_sink again -l "127.0.0.1:$PORT"
wait_for "5 connections after the restart" 10 sink_is again active 5
[ "$(sink_stat again peak)" -eq 5 ] || fail "peak $(sink_stat again peak)"
stop_loadd

say "a server that never reads: memory stays bounded"
start_sink noread -m noread
P=$(profile noread "loads = ( { name = \"stuck\"; target = \"127.0.0.1:$(sink_port noread)\";
    connections = 20; } );")
start_loadd "$P"
wait_for "20 connections" 10 sink_is noread active 20
wait_for "sending stalls" 10 stat_ge bytes_sent 1
sleep 1.5
s1=$(stat_of bytes_sent)
rss1=$(rss_kib "$LOADD_PID")
sleep 1.5
s2=$(stat_of bytes_sent)
rss2=$(rss_kib "$LOADD_PID")
[ "$s1" -eq "$s2" ] || fail "bytes_sent still growing ($s1 -> $s2) into a server that does not read"
# 20 connections x 256 KiB high watermark = 5 MiB of queued references at
# most; the payload ring is shared.  64 MiB leaves room for libevent and
# the C library, and is far below what unbounded buffering reaches in 3s.
[ "$rss2" -lt 65536 ] || fail "RSS $rss2 KiB"
[ "$rss2" -le $((rss1 + 1024)) ] || fail "RSS grew $rss1 -> $rss2 KiB"
say "RSS $rss2 KiB with 20 stalled connections"
stop_loadd

say "a server that closes at once"
start_sink closer -m close
P=$(profile closer "loads = ( { name = \"bounce\"; target = \"127.0.0.1:$(sink_port closer)\";
    connections = 5; $RECONNECT } );")
start_loadd "$P"
wait_for "closes counted" 10 stat_ge errors.closed_by_peer 5
sleep 2
ok=$(stat_of connects_ok)
[ "$ok" -lt 150 ] || fail "$ok connects in ~2s to a closing server: busy loop"
[ "$(sink_stat closer accepted)" -lt 150 ] || fail "sink accepted too many"
kill -0 "$LOADD_PID" || fail "loadd died"
stop_loadd
say "a server that resets at once"
start_sink rst -m reset
P=$(profile rst "loads = ( { name = \"rst\"; target = \"127.0.0.1:$(sink_port rst)\";
    connections = 3; $RECONNECT } );")
start_loadd "$P"
wait_for "resets counted" 10 stat_ge errors.reset 3
stop_loadd

say "a server that never answers: connects time out"
start_sink mute -A
P=$(profile mute "loads = ( { name = \"mute\"; target = \"127.0.0.1:$(sink_port mute)\";
    connections = 4; connect_timeout = \"300ms\"; $RECONNECT } );")
start_loadd "$P"
wait_for "timeouts counted" 10 stat_ge errors.timeout 2
J=$(ctlj stats)
echo "$J" | jq -e '.loads[0].connects_failed >= .loads[0].errors.timeout' >/dev/null ||
    fail "timeouts not counted as failed connects: $J"
stop_loadd
say ok
