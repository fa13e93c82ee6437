#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# loadd -n and start-up on bad profiles: FILE:LINE errors, all of them,
# exit 1; good profiles: exit 0.  (The unit test checks every file in
# tests/conf/bad for its exact errors; this checks the binary's contract.)
. "$(dirname "$0")/lib.sh"

# unix.conf names a socket that must exist: checked with a sink's.
start_sink app -U "$TMP/app.sock"
for f in "$TOP"/conf/*.conf; do
	g=$f
	if [ "$(basename "$f")" = unix.conf ]; then
		g=$TMP/unix.conf
		sed "s|/run/app/app.sock|$TMP/app.sock|" "$f" >"$g"
	fi
	"$LOADD" -n -f "$g" >/dev/null || fail "example profile $f rejected"
done

n=0
for f in "$TOP"/tests/conf/bad/*.conf; do
	rc=0
	out=$("$LOADD" -n -f "$f" 2>&1) || rc=$?
	[ "$rc" -eq 1 ] || fail "$f: exit $rc, wanted 1"
	# A here-string, not a pipe: under pipefail, grep -q leaving early
	# can fail the pipe with SIGPIPE.
	grep -q "^$f:[0-9]\+: \|^$f: " <<<"$out" || fail "$f: no FILE:LINE in: $out"
	n=$((n + 1))
done
[ "$n" -gt 10 ] || fail "only $n bad profiles found"
say "$n bad profiles refused by loadd -n"

say "every error is reported, not only the first"
cat >"$TMP/many.conf" <<'CONF'
loads = (
  { name = "a"; target = "127.0.0.1:1"; conections = 3; },
  { name = "a"; target = "127.0.0.1"; size = -4; }
);
CONF
rc=0; out=$("$LOADD" -n -f "$TMP/many.conf" 2>&1) || rc=$?
[ "$rc" -eq 1 ] || fail "exit $rc"
for want in "many.conf:2: " "conections" "many.conf:3: " "127.0.0.1" "size"; do
	case "$out" in *"$want"*) ;; *) fail "errors lack '$want': $out" ;; esac
done
[ "$(echo "$out" | grep -c 'many.conf:[0-9]')" -ge 4 ] || fail "too few errors: $out"

say "start-up with a bad profile fails the same way, leaving no socket"
rc=0; out=$("$LOADD" -f "$TMP/many.conf" -s "$SOCK" 2>&1) || rc=$?
[ "$rc" -eq 1 ] && [ ! -e "$SOCK" ] || fail "start-up: rc $rc, $out"
rc=0; "$LOADD" -n -f "$TMP/missing.conf" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "missing profile: exit $rc"
rc=0; "$LOADD" -x >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "bad option: exit $rc"
grep -q "^loadd [0-9]" <<<"$("$LOADD" -V)" || fail "-V"
say ok
