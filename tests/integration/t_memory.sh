#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Memory is given back after a burst: 10 flooding connections, scaled to
# 2000 and back to 10.  The freed connections' memory must leave loadd's
# RSS (glibc keeps freed blocks in its arenas unless trimmed), so the RSS
# must come back down by at least half of what the burst added.
. "$(dirname "$0")/lib.sh"

# ASan's allocator keeps freed memory in quarantine: RSS says nothing there.
if [ "${LOADD_SANITIZED:-0}" = 1 ]; then
	say "skipped: RSS under AddressSanitizer is the sanitizer's"
	exit 77
fi

start_sink s
P=$(profile memory "loads = ( { name = \"m\"; target = \"127.0.0.1:$(sink_port s)\";
    connections = 10; max_connections = 2000; size = 1024;
    connect_rate = 1000000.0; } );")
start_loadd "$P"
wait_for "10 connections" 10 sink_is s active 10
sleep 0.5
r0=$(rss_kib "$LOADD_PID")

ctl scale 2000 >/dev/null
wait_for "2000 connections" 30 sink_is s active 2000
sleep 1
r1=$(rss_kib "$LOADD_PID")
say "RSS at 10: $r0 KiB; at 2000: $r1 KiB"
[ "$r1" -gt $((r0 + 2000)) ] || fail "2000 connections cost under 1 KiB each ($r0 -> $r1): the test measures nothing"

ctl scale 10 >/dev/null
wait_for "10 connections again" 30 sink_is s active 10
half=$(( r0 + (r1 - r0) / 2 ))
back() { [ "$(rss_kib "$LOADD_PID")" -le "$half" ]; }
wait_for "RSS to fall to $half KiB (is $(rss_kib "$LOADD_PID"))" 10 back
say "RSS back at 10: $(rss_kib "$LOADD_PID") KiB"
stop_loadd
say ok
