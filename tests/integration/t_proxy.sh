#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# loadctl proxy: standard input and output joined to the control socket,
# as `ssh HOST loadctl proxy` uses it.  Requests go through unchanged and
# every reply comes back, in order, including after the input ends (the
# half-close lets the daemon answer what it read); refusals and garbage
# pass through as the daemon answers them; the socket's own permissions
# still decide (a user who may not connect gets exit 3); no daemon: exit 3.
. "$(dirname "$0")/lib.sh"

start_sink s -m discard
S=127.0.0.1:$(sink_port s)
P=$(profile proxy "loads = (
  { name = \"web\"; target = \"$S\"; connections = 1; rate = 10.0;
    max_connections = 20; } );")
start_loadd "$P"
wait_for "1 connection" 10 stat_is connections_active 1 web

say "requests and replies, in order, after the input ended"
out=$(printf 'version\nstatus\nscale web 3\nbogus\nstats web\n' |
    timeout 20 "$LOADCTL" -s "$SOCK" proxy)
[ "$(echo "$out" | wc -l)" -eq 5 ] || fail "5 replies wanted: $out"
echo "$out" | sed -n 1p | jq -e '.ok and .protocol >= 1' >/dev/null || fail "version: $out"
echo "$out" | sed -n 2p | jq -e '.ok and (.loads | length) == 1' >/dev/null || fail "status"
echo "$out" | sed -n 3p | jq -e '.ok' >/dev/null || fail "scale"
echo "$out" | sed -n 4p | jq -e '(.ok | not) and (.error | test("unknown command"))' >/dev/null ||
    fail "bogus: $(echo "$out" | sed -n 4p)"
echo "$out" | sed -n 5p | jq -e '.ok and .loads[0].name == "web"' >/dev/null || fail "stats"
wait_for "3 connections" 10 stat_is connections_active 3 web

say "garbage bytes pass through; the daemon answers and carries on"
out=$(printf '\x00\xff\x01 junk\nversion\n' | timeout 20 "$LOADCTL" -s "$SOCK" proxy) || true
echo "$out" | tail -n1 | jq -e '.ok' >/dev/null || fail "after garbage: $out"
ctl status >/dev/null || fail "the daemon stopped answering"

say "a slow writer: one request at a time over a pipe kept open"
out=$( { printf 'version\n'; sleep 0.5; printf 'status\n'; sleep 0.5; } |
    timeout 20 "$LOADCTL" -s "$SOCK" proxy | wc -l)
[ "$out" -eq 2 ] || fail "$out replies to 2 requests"

say "the socket's permissions still apply"
if command -v setpriv >/dev/null && [ "$(id -u)" -eq 0 ]; then
	chmod 0660 "$SOCK"
	rc=0
	printf 'version\n' | timeout 20 setpriv --reuid=65534 --regid=65534 \
	    --clear-groups "$LOADCTL" -s "$SOCK" proxy >"$TMP/nobody.out" \
	    2>"$TMP/nobody.err" || rc=$?
	[ "$rc" -eq 3 ] || fail "nobody's proxy exit $rc, not 3"
	grep -q "Permission denied" "$TMP/nobody.err" || fail "$(cat "$TMP/nobody.err")"
	[ ! -s "$TMP/nobody.out" ] || fail "nobody got a reply"
else
	say "(not root: permissions not tried)"
fi

say "usage and no daemon"
rc=0; "$LOADCTL" -s "$SOCK" proxy extra </dev/null 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || fail "proxy extra: exit $rc"
rc=0; printf 'version\n' | "$LOADCTL" -s "$TMP/none.sock" proxy >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 3 ] || fail "no daemon: exit $rc"
say "ok"
