#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# loadctl's command line: options before or after the command (not after
# --), scale's --over left to the request, a printer per command (reopen
# has no load to show), and watch ending with 0 when the daemon shuts down.
# The command line as people expect it: --help and --version on both
# programs, help in columns within 80, refusals that name the loads, "did
# you mean" in the profile, loadd's advice on its socket, and the bash
# completion.
. "$(dirname "$0")/lib.sh"

say "--help, --version (and -V, -h) on both programs: stdout, exit 0"
for prog in "$LOADD" "$LOADCTL"; do
	for opt in --help -h --version -V; do
		rc=0
		"$prog" "$opt" >"$TMP/out" 2>"$TMP/err" || rc=$?
		[ "$rc" -eq 0 ] || fail "$prog $opt: exit $rc"
		[ -s "$TMP/out" ] && [ ! -s "$TMP/err" ] ||
		    fail "$prog $opt: not on stdout alone: $(cat "$TMP/err")"
	done
	grep -q '^usage: load' "$TMP/out" && fail "$prog -V printed the usage"
	grep -q "^$(basename "$prog") [0-9]" <<<"$("$prog" --version)" ||
	    fail "$prog --version: $("$prog" --version)"
	"$prog" --help | grep -q -- '--version' || fail "$prog --help lacks --version"
	rc=0; "$prog" --bogus >/dev/null 2>&1 || rc=$?
	[ "$rc" -eq 2 ] || fail "$prog --bogus: exit $rc, wanted 2"
done
# After the command, as any other option.
"$LOADCTL" status --help | grep -q '^usage: loadctl' || fail "status --help"

# col: the 0-based column where a row's help text begins ("none" on a row
# of a command alone: its help is on the next line).
col() {
	awk '{ if (match($0, /^ +[^ ]/) && RLENGTH > 3) print RLENGTH - 1
	    else if (match($0, /[^ ]  +[^ ]/)) print RSTART + RLENGTH - 2
	    else print "none" }'
}
# columns FILE: the help texts of the commands (the table's, by
# --list-commands) all begin at one column, and no line is over 79.
columns() {
	local file=$1 cols= name rows c
	awk 'length > 79 { exit 1 }' "$file" ||
	    fail "a line over 79 columns: $(awk 'length > 79' "$file")"
	while read -r name _; do
		# loadctl's own (local) commands: not in the daemon's help.
		case $name in report | proxy) continue ;; esac
		rows=$(grep -E -A1 "^  $name( |\$)" "$file") ||
		    fail "no row for $name in $file"
		c=$(head -n1 <<<"$rows" | col)
		# Alone on its line: the help is under it, indented.
		if [ "$c" = none ] && grep -q '^    ' <<<"$(sed -n 2p <<<"$rows")"; then
			c=$(sed -n 2p <<<"$rows" | col)
		fi
		cols+=" $c"
	done < <("$LOADCTL" --list-commands)
	[ "$(tr ' ' '\n' <<<"$cols" | grep . | sort -u | wc -l)" -eq 1 ] ||
	    fail "help texts start at columns$cols in $file"
}
"$LOADCTL" --help >"$TMP/usage"
grep -q '^  scale \[LOAD\] COUNT \[--over DURATION\] \[--lease DURATION\]$' "$TMP/usage" ||
    fail "scale's long arguments should have their own line: $(cat "$TMP/usage")"
columns "$TMP/usage"

say "did you mean: only the keys of the place count"
rc=0; out=$("$LOADD" -n -f "$TOP/tests/conf/bad/did-you-mean-load.conf" 2>&1) ||
    rc=$?
[ "$rc" -eq 1 ] || fail "did-you-mean-load.conf: exit $rc"
grep -q ':6: unknown key "max_conection" in load "web"; did you mean "max_connections"?$' \
    <<<"$out" || fail "no suggestion: $out"
grep -q ':7: unknown key "socket" in load "web"$' <<<"$out" ||
    fail "a daemon key in a load: $out"

say "loadd without -s or daemon.socket says how to choose a socket"
if [ -d /run/loadd ]; then
	say "skipped: /run/loadd exists here (the default would be bound)"
else
	printf 'daemon = { workers = 1; };\nloads = ( { name = "web"; target = "127.0.0.1:1"; autostart = false; } );\n' \
	    >"$TMP/nosock.conf"
	rc=0; out=$(timeout 20 "$LOADD" -f "$TMP/nosock.conf" 2>&1) || rc=$?
	[ "$rc" -eq 1 ] || fail "loadd without a socket: exit $rc ($out)"
	for want in "-s PATH" "daemon.socket" "LOADD_SOCKET"; do
		case "$out" in *"$want"*) ;; *) fail "no '$want' in: $out" ;; esac
	done
	# With -s, the advice is not given.
	rc=0; out=$(timeout 20 "$LOADD" -f "$TMP/nosock.conf" -s "$TMP/no/dir.sock" 2>&1) ||
	    rc=$?
	[ "$rc" -eq 1 ] || fail "loadd -s in a missing directory: exit $rc"
	case "$out" in *"daemon.socket"*) fail "advice despite -s: $out" ;; esac
fi

start_sink s
P=$(profile cli "loads = ( { name = \"web\"; target = \"127.0.0.1:$(sink_port s)\";
    connections = 2; max_connections = 100; connect_rate = 10000;
    rate = 20.0; } );")
start_loadd "$P"
wait_for "2 connections at the sink" 10 sink_is s active 2

# keys FILE: every path of the JSON in FILE, sorted (the shape, not values).
keys() { jq -c '[paths | map(tostring) | join(".")] | unique' "$1"; }

say "-j before and after the command: the same JSON"
ctl -j stats >"$TMP/before.json" || fail "loadctl -j stats failed"
rc=0
ctl stats -j >"$TMP/after.json" 2>"$TMP/after.err" || rc=$?
[ "$rc" -eq 0 ] || fail "loadctl stats -j: exit $rc ($(cat "$TMP/after.err"))"
jq -e '.ok == true and (.loads | length) == 1' "$TMP/after.json" >/dev/null ||
    fail "stats -j is not the stats JSON: $(cat "$TMP/after.json")"
[ "$(keys "$TMP/before.json")" = "$(keys "$TMP/after.json")" ] ||
    fail "-j stats and stats -j differ in shape"
ctl stats web -j | jq -e '.loads[0].name == "web"' >/dev/null ||
    fail "stats web -j"

say "-s PATH after the command, and between command and arguments"
bogus=$TMP/nothing.sock
out=$(LOADD_SOCKET=$bogus "$LOADCTL" status -s "$SOCK") ||
    fail "status -s PATH did not use PATH"
case "$out" in *web*running*) ;; *) fail "status -s PATH: $out" ;; esac
out=$(LOADD_SOCKET=$bogus "$LOADCTL" stats -s "$SOCK" web -j) ||
    fail "stats -s PATH web -j"
jq -e '.loads[0].name == "web"' <<<"$out" >/dev/null || fail "stats: $out"
LOADD_SOCKET=$bogus "$LOADCTL" version -s"$SOCK" >/dev/null ||
    fail "version -sPATH"
LOADD_SOCKET=$bogus "$LOADCTL" -t 5 version -j -s "$SOCK" |
    jq -e '.version' >/dev/null || fail "-t 5 version -j -s PATH"
rc=0; LOADD_SOCKET=$bogus "$LOADCTL" status >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 3 ] || fail "without -s the bogus socket should fail (exit $rc)"

say "after --, a word is an argument; bad options are usage errors"
rc=0; out=$("$LOADCTL" stats -- -j 2>&1) || rc=$?
[ "$rc" -eq 2 ] || fail "stats -- -j: exit $rc, wanted 2 ($out)"
case "$out" in *'"-j"'*) ;; *) fail "stats -- -j: $out" ;; esac
rc=0; "$LOADCTL" stats -x >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "stats -x: exit $rc, wanted 2"
rc=0; "$LOADCTL" stats -s >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "stats -s (no value): exit $rc, wanted 2"
rc=0; out=$("$LOADCTL" scale -1 2>&1) || rc=$?
[ "$rc" -eq 2 ] || fail "scale -1: exit $rc, wanted 2"
case "$out" in *negative*) ;; *) fail "scale -1: $out" ;; esac
"$LOADCTL" stats -h | grep -q '^usage: loadctl' || fail "stats -h"

say "the daemon's help in the same columns; a refusal names the loads"
ctl help >"$TMP/help" || fail "help failed"
columns "$TMP/help"
# Every command of the table, and help on one aligned as in the list.
[ "$(grep -c '^  [a-z]' "$TMP/help")" -eq "$(ctl -j help | jq '.commands | length')" ] ||
    fail "help: $(cat "$TMP/help")"
# rate's arguments are long: usage on a line of its own, the help below.
[ "$(ctl help rate | col)" = "$(grep -A1 '^  rate ' "$TMP/help" | col)" ] ||
    fail "help rate: $(ctl help rate)"
[ "$(ctl help stop | col)" = "$(grep '^  stop ' "$TMP/help" | col)" ] ||
    fail "help stop: $(ctl help stop)"
expect_refused 'no load named "nosuch" (loads: web)' stop nosuch

say "scale --over stays with the request"
out=$(ctl scale 5 --over 1s) || fail "scale 5 --over 1s failed"
case "$out" in *"ramping 2 -> 5"*) ;; *) fail "scale 5 --over 1s: $out" ;; esac
wait_for "5 connections" 20 sink_is s active 5
ctl scale web 3 --over 1s -j | jq -e '.ok and .ramp.to == 3' >/dev/null ||
    fail "scale web 3 --over 1s -j"
wait_for "3 connections" 20 sink_is s active 3

say "reopen: its own printer"
rc=0
out=$(ctl reopen 2>&1) || rc=$?
[ "$rc" -eq 0 ] || fail "reopen: exit $rc ($out)"
case "$out" in *"connections wanted"* | *"-: -"*) fail "reopen: $out" ;; esac
case "$out" in *reopened*) ;; *) fail "reopen: $out" ;; esac
out=$(ctl reload) || fail "reload failed"
case "$out" in "reloaded: "*) ;; *) fail "reload: $out" ;; esac

say "watch: a close after whole lines is 0, inside a line 3"
# fake_watch REPLY-BYTES: exit status of watch against a one-shot server.
fake_watch() {
	local fake=$TMP/fake.sock rc=0
	rm -f "$fake"
	printf '%b' "$1" >"$TMP/fake.reply"
	socat "UNIX-LISTEN:$fake" "SYSTEM:cat $TMP/fake.reply" 2>/dev/null &
	PIDS+=($!)
	wait_for "fake socket" 10 test -S "$fake"
	timeout 20 "$LOADCTL" -s "$fake" watch >/dev/null 2>"$TMP/fake.err" || rc=$?
	echo "$rc"
}
line='{"ok":true,"loads":[],"total":{}}'
[ "$(fake_watch "$line\n$line\n")" -eq 0 ] ||
    fail "watch after whole lines: $(cat "$TMP/fake.err")"
[ "$(fake_watch "$line\n{\"ok\":tr")" -eq 3 ] ||
    fail "watch after a partial line: $(cat "$TMP/fake.err")"

say "watch ends with 0 when the daemon is stopped"
"$LOADCTL" watch >"$TMP/watch.out" 2>"$TMP/watch.err" &
WATCH=$!
PIDS+=($WATCH)
wait_for "a watch line" 10 grep -q 'conns ' "$TMP/watch.out"
kill -TERM "$LOADD_PID"
rc=0
wait "$LOADD_PID" || rc=$?
[ "$rc" -eq 0 ] || fail "loadd exited with $rc after SIGTERM"
watch_gone() { ! kill -0 "$WATCH" 2>/dev/null; }
wait_for "watch to end" 20 watch_gone
rc=0
wait "$WATCH" || rc=$?
[ "$rc" -eq 0 ] || fail "watch exited with $rc ($(cat "$TMP/watch.err"))"

say "several loads: a refusal lists them"
P2=$(profile two "loads = (
    { name = \"alpha\"; target = \"127.0.0.1:$(sink_port s)\"; autostart = false; },
    { name = \"beta.2\"; target = \"127.0.0.1:$(sink_port s)\"; autostart = false; } );")
start_loadd "$P2"
expect_refused 'no load named "gamma" (loads: alpha, beta.2)' start gamma
expect_refused '2 loads are declared: name one (alpha, beta.2)' stop

say "bash completion: commands, options and loads from loadctl"
# complete WORD...: what _loadctl offers for the last word, in a fresh
# bash that only sourced the completion file.
complete_words() {
	bash --norc --noprofile -c '
	    . "$1"/completion/loadctl.bash
	    shift
	    COMP_WORDS=("$@")
	    COMP_CWORD=$(($# - 1))
	    COMP_LINE="$*"
	    COMP_POINT=${#COMP_LINE}
	    _loadctl
	    echo "${COMPREPLY[*]}"' bash "$TOP" "$@"
}
bash --norc --noprofile -c '. "$1"/completion/loadctl.bash && complete -p loadctl' \
    bash "$TOP" | grep -q -- '-F _loadctl loadctl$' || fail "complete -p loadctl"
got=$(complete_words "$LOADCTL" sc)
[ "$got" = scale ] || fail "loadctl sc<TAB>: '$got'"
got=$(complete_words "$LOADCTL" "")
for c in $("$LOADCTL" --list-commands | cut -d' ' -f1); do
	case " $got " in *" $c "*) ;; *) fail "no $c in '$got'" ;; esac
done
got=$(complete_words "$LOADCTL" help s)
[ "$got" = "status stats start stop scale summary" ] || fail "help s<TAB>: '$got'"
got=$(complete_words "$LOADCTL" --v)
[ "$got" = --version ] || fail "--v<TAB>: '$got'"
# scale's own --over, and loadctl's --on-loss (options go anywhere).
got=$(complete_words "$LOADCTL" scale alpha 5 --o)
[ "$got" = "--on-loss --over" ] || fail "scale alpha 5 --o<TAB>: '$got'"
got=$(complete_words "$LOADCTL" --on-loss r)
[ "$got" = rebalance ] || fail "--on-loss r<TAB>: '$got'"
# Load names from the daemon of LOADD_SOCKET, or of -s on the line.
got=$(complete_words "$LOADCTL" start "")
[ "$got" = "alpha beta.2" ] || fail "start <TAB>: '$got'"
got=$(LOADD_SOCKET=$TMP/nothing.sock complete_words "$LOADCTL" -s "$SOCK" stop b)
[ "$got" = beta.2 ] || fail "-s SOCK stop b<TAB>: '$got'"
got=$(LOADD_SOCKET=$TMP/nothing.sock complete_words "$LOADCTL" stop "")
[ -z "$got" ] || fail "loads offered without a daemon: '$got'"
got=$(complete_words "$LOADCTL" start alpha --a)
[ "$got" = --at ] || fail "start alpha --a<TAB>: '$got'"
# The value of --at (or --lease) is no load's name, and no argument.
got=$(complete_words "$LOADCTL" start --at "")
[ -z "$got" ] || fail "start --at <TAB>: '$got'"
got=$(complete_words "$LOADCTL" start --at +2s --lease 30s "")
[ "$got" = "alpha beta.2" ] || fail "start --at +2s --lease 30s <TAB>: '$got'"
got=$(complete_words "$LOADCTL" histogram "")
[ "$got" = "alpha beta.2" ] || fail "histogram <TAB>: '$got'"
got=$(complete_words "$LOADCTL" rate "")
[ "$got" = "flood alpha beta.2" ] || fail "rate <TAB>: '$got'"
got=$(complete_words "$LOADCTL" rate alpha "")
[ "$got" = flood ] || fail "rate alpha <TAB>: '$got'"
got=$(complete_words "$LOADCTL" -s "$TMP/loadd.so")
[ "$got" = "$SOCK" ] || fail "-s <TAB> (a file): '$got'"
stop_loadd
say ok
