#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# sources: connections leave from each listed address in turn (seen by the
# kernel, with ss); a source that is not this host's is counted as
# address_not_available and sends nothing; a reload that changes sources
# restarts the load, which then connects from the new list only; a source
# that is not this host's is refused with FILE:LINE when the profile is
# read.  All on 127.0.0.0/8: every 127.x address is local on lo.
# 192.0.2.1 (TEST-NET-1) is never reached: bind() refuses it before any
# packet.
. "$(dirname "$0")/lib.sh"

start_sink s
PORT=$(sink_port s)

# Established connections to the sink, counted by local address.
from() {
	ss -Htn state established "( dport = :$PORT )" |
	    awk -v a="$1" '{ n = split($3, f, ":"); if (f[1] == a) c++ } END { print c + 0 }'
}
from_is() { [ "$(from "$1")" = "$2" ]; }

P=$TMP/live.conf
write() {
	{
		printf 'daemon = { socket = "%s"; stats_interval = "200ms"; workers = 2; };\n' "$SOCK"
		printf '%s\n' "$@"
	} >"$P.tmp"
	mv "$P.tmp" "$P"
}
RECONNECT='reconnect = { delay = "50ms"; max_delay = "200ms"; };'
say "a source that is not this host's: FILE:LINE from loadd -n"
write "loads = (
  { name = \"away\"; target = \"127.0.0.1:$PORT\"; connections = 3; rate = 1.0;
    sources = [ \"192.0.2.1\" ]; $RECONNECT } );"
if out=$("$LOADD" -n -f "$P" 2>&1); then fail "loadd -n took a foreign source"; fi
case "$out" in *"live.conf:4: source \"192.0.2.1\" is not an address of this machine"*) ;;
*) fail "loadd -n said: $out" ;; esac

write "loads = (
  { name = \"two\"; target = \"127.0.0.1:$PORT\"; connections = 20; rate = 1.0;
    sources = [ \"127.0.0.2\", \"127.0.0.3\" ]; } );"
start_loadd "$P"

say "20 connections, 10 from each source"
wait_for "20 connections at the sink" 10 sink_is s active 20
wait_for "10 from 127.0.0.2" 10 from_is 127.0.0.2 10
wait_for "10 from 127.0.0.3" 10 from_is 127.0.0.3 10
[ "$(from 127.0.0.1)" -eq 0 ] || fail "$(from 127.0.0.1) connections from 127.0.0.1"
[ "$(stat_of connects_failed two)" -eq 0 ] || fail "two: failed connects"
# status names them; the connects bound is the default.
s=$(ctlj status | jq -c '.loads[] | select(.name == "two") | [.sources, .connects_inflight]')
[ "$s" = '[["127.0.0.2","127.0.0.3"],1024]' ] || fail "status: $s"

[ "$(sink_stat s accepted)" -eq 20 ] || fail "sink accepted $(sink_stat s accepted), wanted 20"
[ "$(sink_stat s peak)" -eq 20 ] || fail "sink peak $(sink_stat s peak)"

say "reload with other sources: the load restarts from the new ones"
write "loads = (
  { name = \"two\"; target = \"127.0.0.1:$PORT\"; connections = 6; rate = 1.0;
    sources = [ \"127.0.0.4\" ]; } );"
out=$(ctl reload)
case "$out" in *"changed two"*) ;; *) fail "reload said: $out" ;; esac
wait_for "6 from 127.0.0.4" 10 from_is 127.0.0.4 6
wait_for "6 at the sink" 10 sink_is s active 6
[ "$(from 127.0.0.2)" -eq 0 ] && [ "$(from 127.0.0.3)" -eq 0 ] ||
    fail "connections from the old sources remain"

say "a source of the wrong family is refused at reload"
write "loads = ( { name = \"two\"; target = \"127.0.0.1:$PORT\"; sources = [ \"::1\" ]; } );"
expect_refused 'source "::1" is IPv6' reload
[ "$(from 127.0.0.4)" -eq 6 ] || fail "a refused reload changed the load"
stop_loadd
say ok
