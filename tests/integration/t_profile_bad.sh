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

# Issue 12, findings 1, 5 and 14: what an @include may name.  libconfig's
# scanner exited (status 2, no FILE:LINE) on a directory, "" included,
# and a FIFO blocked loadd for good: each is now an error at its line.
L='loads = ( { name = "a"; target = "127.0.0.1:9"; } );'
mkfifo "$TMP/fifo.inc"
mkdir "$TMP/dir"
for inc in "" dir fifo.inc inc.conf /dev/null; do
	say "@include \"$inc\": FILE:LINE, exit 1, at once"
	printf '# one\n@include "%s"\n%s\n' "$inc" "$L" >"$TMP/inc.conf"
	rc=0; out=$(timeout 10 "$LOADD" -n -f "$TMP/inc.conf" 2>&1) || rc=$?
	[ "$rc" -eq 1 ] || fail "@include \"$inc\": exit $rc: $out"
	grep -q "^$TMP/inc.conf:2: @include \"$inc\": " <<<"$out" ||
	    fail "@include \"$inc\": no FILE:LINE in: $out"
done
say "a FIFO as the profile: refused at once"
rc=0; out=$(timeout 10 "$LOADD" -n -f "$TMP/fifo.inc" 2>&1) || rc=$?
[ "$rc" -eq 1 ] || fail "FIFO profile: exit $rc: $out"
grep -q "^$TMP/fifo.inc: a FIFO, not a regular file" <<<"$out" ||
    fail "FIFO profile: $out"
say "an absolute @include, and a relative one from its own directory"
mkdir "$TMP/sub"
printf '%s\n' "$L" >"$TMP/sub/loads.inc"
printf '@include "loads.inc"\n' >"$TMP/sub/rel.inc"
printf '@include "%s/sub/rel.inc"\n' "$TMP" >"$TMP/abs.conf"
"$LOADD" -n -f "$TMP/abs.conf" >/dev/null 2>&1 || fail "absolute @include refused"

# Finding 12: values in errors are escaped and cut, one error a line.
say "a newline in a value stays in its one error line"
printf 'loads = ( { name = "a\\nloadd[1]: reload: ok"; target = "127.0.0.1:9"; } );\n' \
    >"$TMP/nl.conf"
rc=0; out=$("$LOADD" -n -f "$TMP/nl.conf" 2>&1) || rc=$?
[ "$rc" -eq 1 ] || fail "newline: exit $rc"
[ "$(grep -c "^$TMP/nl.conf:" <<<"$out")" -eq 1 ] &&
    [ "$(wc -l <<<"$out")" -eq 2 ] || fail "newline split an error: $out"
grep -qF 'invalid load name "a\nloadd[1]: reload: ok"' <<<"$out" || fail "not escaped: $out"
say "a 100,000-byte name makes a short error"
{
	printf 'loads = ( { target = "127.0.0.1:9"; name = "'
	head -c 100000 /dev/zero | tr '\0' x
	printf '"; } );\n'
} >"$TMP/long.conf"
rc=0; out=$("$LOADD" -n -f "$TMP/long.conf" 2>&1) || rc=$?
[ "$rc" -eq 1 ] && [ "${#out}" -lt 1000 ] || fail "long name: exit $rc, ${#out} bytes"
grep -q "name \"x\{64\}\.\.\.\"" <<<"$out" || fail "long name not cut: $out"
say ok
