#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# A load with a duration stops by itself; an IPv6 target works; a load
# with autostart = false waits for `start`; bytes the server sends back
# are read and counted.
. "$(dirname "$0")/lib.sh"

start_sink v6 -l "[::1]:0" -m echo
start_sink v4
P=$(profile dur "loads = (
  { name = \"short\"; target = \"[::1]:$(sink_port v6)\"; connections = 3;
    duration = \"1500ms\"; size = 64; content = \"bytes\"; },
  { name = \"later\"; target = \"127.0.0.1:$(sink_port v4)\"; connections = 2;
    autostart = false; } );")
start_loadd "$P"
wait_for "3 IPv6 connections" 10 sink_is v6 active 3
[ "$(stat_of state later)" = stopped ] || fail "autostart=false load runs"
[ "$(sink_stat v4 accepted)" -eq 0 ] || fail "stopped load connected"
wait_for "echoed bytes counted" 10 stat_ge bytes_received 1000 short
wait_for "duration ends the load (finished)" 10 stat_is state finished short
wait_for "IPv6 connections closed" 10 sink_is v6 active 0
ctl start later >/dev/null
wait_for "2 connections for later" 10 sink_is v4 active 2
stop_loadd
say ok
