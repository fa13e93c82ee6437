#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Local port exhaustion, made small and certain in a private network
# namespace (only its own lo, so no traffic can leave) whose ephemeral
# range is 10 ports: 15 connections from one address get 10 ports and the
# rest fail as local_ports_exhausted; with two sources each brings its own
# 10 ports and all 15 come up.  Needs the right to create a network
# namespace (root); skipped (77) without it.
. "$(dirname "$0")/lib.sh"

if ! command -v unshare >/dev/null || ! command -v ip >/dev/null ||
    ! unshare -n true 2>/dev/null; then
	say "skipped: cannot create a network namespace here"
	exit 77
fi

P=$TMP/ports.conf
write() {
	{
		printf 'daemon = { socket = "%s"; stats_interval = "200ms"; workers = 2; };\n' "$SOCK"
		printf '%s\n' "$@"
	} >"$P.tmp"
	mv "$P.tmp" "$P"
}
LOAD='name = "many"; target = "127.0.0.1:9000"; connections = 15;
    connect_rate = 10000; rate = 1.0;
    reconnect = { delay = "50ms"; max_delay = "200ms"; };'
write "loads = ( { $LOAD } );"

# The sink and loadd share the namespace; their unix sockets are files,
# reachable from here.  unshare execs bash, which execs loadd: $! is
# loadd's PID.  The sink's PID comes back through a file.
unshare -n bash -c '
	set -e
	ip link set lo up
	echo "40000 40009" >/proc/sys/net/ipv4/ip_local_port_range
	"$1" -l 127.0.0.1:9000 -P "$2/ns.port" -S "$2/ns.sock" -t 120 -q \
	    >>"$2/ns.out" 2>&1 &
	echo $! >"$2/ns.pid"
	for _ in $(seq 1 200); do [ -s "$2/ns.port" ] && break; sleep 0.05; done
	exec "$3" -f "$4" -s "$5"
' _ "$SINK" "$TMP" "$LOADD" "$P" "$SOCK" >>"$TMP/loadd.log" 2>&1 &
LOADD_PID=$!
PIDS+=($!)
wait_for "sink pid" 10 test -s "$TMP/ns.pid"
PIDS+=("$(cat "$TMP/ns.pid")")
wait_for "loadd control socket" 10 "$LOADCTL" version
wait_for "sink report socket" 10 test -S "$TMP/ns.sock"

say "one source, 10 local ports, 15 connections"
wait_for "10 at the sink" 10 sink_is ns active 10
wait_for "local_ports_exhausted counted" 10 stat_ge errors.local_ports_exhausted 10
J=$(ctlj stats)
echo "$J" | jq -e '.loads[0] | .connections_active == 10 and
    .connects_failed == .errors.local_ports_exhausted and
    .errors.address_not_available == 0' >/dev/null || fail "stats: $J"
[ "$(sink_stat ns active)" -eq 10 ] || fail "sink has $(sink_stat ns active)"

say "two sources: 20 ports, all 15 come up"
write "loads = ( { $LOAD sources = [ \"127.0.0.2\", \"127.0.0.3\" ]; } );"
ctl reload >/dev/null
wait_for "15 at the sink" 10 sink_is ns active 15
wait_for "loadd counts 15" 10 stat_is connections_active 15
[ "$(stat_of errors.local_ports_exhausted)" -eq 0 ] ||
    fail "$(stat_of errors.local_ports_exhausted) exhausted with two sources"
stop_loadd
say ok
