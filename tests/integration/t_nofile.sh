#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# loadd raises its soft RLIMIT_NOFILE to the hard limit, and refuses a
# scale the limit cannot honour instead of leaving it hanging.
. "$(dirname "$0")/lib.sh"

start_sink s
P=$(profile nofile "loads = ( { name = \"fd\"; target = \"127.0.0.1:$(sink_port s)\";
    connections = 10; max_connections = 5000; } );")
# A hard limit of 400 for this daemon only; soft starts lower.
(ulimit -Sn 100; ulimit -Hn 400; exec "$LOADD" -f "$P" -s "$SOCK") \
    >>"$TMP/loadd.log" 2>&1 &
LOADD_PID=$!
PIDS+=($!)
wait_for "loadd up" 10 "$LOADCTL" version
soft=$(awk '/Max open files/ { print $4 }' "/proc/$LOADD_PID/limits")
[ "$soft" -eq 400 ] || fail "soft limit $soft, wanted it raised to 400"

expect_refused "open-file limit is 400" scale 1000
wait_for "still 10 at the sink" 10 sink_is s active 10
ctl scale 200 >/dev/null
wait_for "200 fit" 10 sink_is s active 200
stop_loadd
say ok
