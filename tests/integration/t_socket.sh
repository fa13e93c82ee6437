#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The control socket: mode, stale socket replaced, a live daemon on the
# path refuses a second one, the client cap, the idle timeout.
. "$(dirname "$0")/lib.sh"

start_sink s
P=$TMP/p.conf
cat >"$P" <<CONF
daemon = { socket = "$SOCK"; socket_mode = "0600"; max_clients = 3;
  client_timeout = "2s"; stats_interval = "200ms"; };
loads = ( { name = "one"; target = "127.0.0.1:$(sink_port s)"; connections = 2; } );
CONF

say "stale socket from a crashed daemon is replaced"
socat UNIX-LISTEN:"$SOCK" /dev/null &
STALE=$!
wait_for "stale socket" 5 test -S "$SOCK"
kill -9 "$STALE"; wait "$STALE" 2>/dev/null || true
[ -S "$SOCK" ] || fail "no stale socket to test with"
start_loadd "$P"
[ "$(stat -c %a "$SOCK")" = 600 ] || fail "socket mode $(stat -c %a "$SOCK")"

say "a live daemon on the same path makes a second one refuse"
rc=0
out=$(timeout 10 "$LOADD" -f "$P" -s "$SOCK" 2>&1) || rc=$?
[ "$rc" -eq 1 ] || fail "second daemon exit $rc"
case "$out" in *"another loadd is listening"*) ;; *) fail "second daemon said: $out" ;; esac
ctl version >/dev/null || fail "first daemon lost its socket"

say "a path that is not a socket is left alone"
touch "$TMP/plain"
rc=0; out=$(timeout 10 "$LOADD" -f "$P" -s "$TMP/plain" 2>&1) || rc=$?
[ "$rc" -eq 1 ] && [ -f "$TMP/plain" ] || fail "plain file: rc $rc, $out"

say "client cap"
for i in 1 2 3; do
	socat -t 30 UNIX-CONNECT:"$SOCK" SYSTEM:"sleep 4" &
	PIDS+=($!)
done
sleep 0.3
out=$(printf 'version\n' | socat -s -t 5 - UNIX-CONNECT:"$SOCK" 2>/dev/null || true)
case "$out" in *"too many control clients"*) ;; *) fail "cap: $out" ;; esac
# loadctl itself reports the refusal (exit 1), for a request and a watch.
expect_refused "too many control clients" status
expect_refused "too many control clients" watch

say "idle clients are dropped after client_timeout"
wait_for "idle clients dropped, cap free again" 10 ctl version
out=$( (sleep 4) | socat -t 5 - UNIX-CONNECT:"$SOCK" 2>&1 || true)
case "$out" in *"idle"*) ;; *) fail "idle client: '$out'" ;; esac

[ "$(sink_stat s active)" -eq 2 ] || fail "load disturbed"
stop_loadd
say ok
