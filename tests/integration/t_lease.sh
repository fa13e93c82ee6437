#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# A dead-man lease: scale, rate and start with --lease DURATION hold only
# as long as someone renews them (loadctl renew, or any later command on
# the load); when the lease runs out the load goes back to its profile's
# values, logged at warning; status shows the time left; stop ends it;
# bad leases are refused.
. "$(dirname "$0")/lib.sh"

start_sink s -m discard
S=127.0.0.1:$(sink_port s)
P=$(profile lease "loads = (
  { name = \"web\"; target = \"$S\"; connections = 2; rate = 10.0;
    max_connections = 50; max_rate = 1000.0; },
  { name = \"extra\"; target = \"$S\"; connections = 1; rate = 10.0;
    autostart = false; } );")
start_loadd "$P"
wait_for "2 connections" 10 stat_is connections_active 2 web

say "scale --lease: back to the profile when not renewed"
ctl scale web 6 --lease 2s >/dev/null
ctl rate web 50 >/dev/null
wait_for "6 connections" 10 stat_is connections_active 6 web
ctl status | grep -q "^web: lease: [0-9]*s left of 2s" || fail "status: $(ctl status | grep lease)"
[ "$(ctlj status | jq '.loads[] | select(.name=="web") | .lease.length_s')" = 2 ] || fail "status -j lease"
wait_for "back to 2 connections" 10 stat_is connections_active 2 web
[ "$(ctlj status | jq '.loads[] | select(.name=="web") | .rate')" = 10 ] || fail "rate not back"
[ "$(ctlj status | jq '.loads[] | select(.name=="web") | .lease')" = null ] || fail "lease still there"
grep -q "load web: its lease of 2s ran out, not renewed: back to the profile (2 connections, rate 10)" \
    "$TMP/loadd.log" || fail "the end of the lease not logged"

say "renew, and any later command, keep it"
ctl scale web 5 --lease 2s >/dev/null
for _ in 1 2 3; do
	sleep 1
	ctl renew web >/dev/null
done
[ "$(ctlj status | jq '.loads[] | select(.name=="web") | .connections_scale')" = 5 ] ||
    fail "renewed lease ran out"
sleep 1
ctl rate web 20 >/dev/null	# a later command renews too
sleep 1.2
[ "$(ctlj status | jq '.loads[] | select(.name=="web") | .connections_scale')" = 5 ] ||
    fail "a later command did not renew"
wait_for "back to 2 after the last renewal" 10 stat_is connections_active 2 web

say "stop ends a lease; start --lease of a load that waits for a start"
ctl scale web 4 --lease 1s >/dev/null
ctl stop web >/dev/null
sleep 1.5
[ "$(ctlj status | jq -r '.loads[] | select(.name=="web") | .state')" = stopped ] || fail "web"
expect_refused "load web has no lease to renew" renew web
ctl start extra --lease 1s >/dev/null
wait_for "extra runs" 10 stat_is connections_active 1 extra
wait_for "extra stopped by its lease" 10 sh -c "$LOADCTL -j status | jq -e '.loads[] | select(.name==\"extra\") | .state == \"stopped\"'"
grep -q "load extra: its lease of 1s ran out, not renewed: back to the profile (stopped" "$TMP/loadd.log" ||
    fail "extra's lease not logged"

say "bad leases are refused before they reach the daemon"
bad_lease() {	# WANT ARGS...
	local want=$1 out rc=0
	shift
	out=$("$LOADCTL" "$@" 2>&1) || rc=$?
	[ "$rc" -eq 2 ] || fail "loadctl $*: exit $rc ($out)"
	case "$out" in *"$want"*) ;; *) fail "loadctl $*: '$out' lacks '$want'" ;; esac
}
bad_lease "bad lease \"0\": shorter than 1s" scale web 3 --lease 0
bad_lease "bad lease \"500ms\": shorter than 1s" rate web 5 --lease 500ms
bad_lease "bad lease \"8d\": longer than a week" start web --lease 8d
bad_lease "bad lease \"soon\"" scale web 3 --lease soon
bad_lease "usage: stop" stop web --lease 5s
stop_loadd
say ok
