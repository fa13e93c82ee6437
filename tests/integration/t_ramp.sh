#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# scale --over: the target moves linearly, the sink never sees more than
# the final count, a plain scale or stop cancels the ramp.  status and
# stats show a ramp with where it goes and its time left, a load with a
# duration its time left, a finished load as finished.  scale --over
# --wait follows the ramp: 0 when it completes, 1 when a stop, another
# scale or a reload cuts it, each said.
. "$(dirname "$0")/lib.sh"

start_sink s
start_sink d
P=$(profile ramp "loads = ( { name = \"r\"; target = \"127.0.0.1:$(sink_port s)\";
    connections = 0; max_connections = 1000; connect_rate = 10000; },
  { name = \"dur\"; target = \"127.0.0.1:$(sink_port d)\"; connections = 1;
    duration = \"40s\"; },
  { name = \"short\"; target = \"127.0.0.1:$(sink_port d)\"; connections = 1;
    duration = \"300ms\"; } );")
start_loadd "$P"
out=$(ctl scale r 100 --over 2s)
case "$out" in *"ramping 0 -> 100"*) ;; *) fail "reply: $out" ;; esac

say "status and stats show the ramp: where it goes, the time left"
st=$(ctl status)
echo "$st" | grep -Eq '^r +running +127\.0\.0\.1:[0-9]+ +[0-9]+/[0-9]+ -> 100 \([12]s left\)' ||
    fail "status lacks the ramp: $st"
ctl stats | grep -Eq '^r +running +[0-9]+/[0-9]+ -> 100 \([12]s left\) ' ||
    fail "stats lacks the ramp: $(ctl stats)"
ctlj status | jq -e '.loads[] | select(.name == "r") | .ramp | .to == 100 and .over_s == 2.0' \
    >/dev/null || fail "status -j: no ramp.over_s"

seen_mid=0
deadline=$(( $(date +%s) + 20 ))
while :; do
	a=$(sink_stat s active)
	[ "$a" -le 100 ] || fail "sink saw $a > 100"
	if [ "$a" -gt 0 ] && [ "$a" -lt 100 ]; then seen_mid=1; fi
	[ "$a" -eq 100 ] && break
	[ "$(date +%s)" -le "$deadline" ] || fail "ramp never reached 100"
	sleep 0.1
done
[ "$seen_mid" -eq 1 ] || fail "no intermediate count: not a ramp"
[ "$(sink_stat s peak)" -le 100 ] || fail "peak $(sink_stat s peak)"
wait_for "ramp finished" 10 sh -c "! $LOADCTL -j status | jq -e '.loads[0].ramp' >/dev/null"
status_done() { ctl status | grep -Eq '^r +running +127\.0\.0\.1:[0-9]+ +100/100 '; }
wait_for "status: 100/100 and no ramp" 10 status_done

say "a load with a duration shows its time left; one that ran out, finished"
st=$(ctl status)
echo "$st" | grep -Eq '^dur +running \((3[0-9]|40)s left\) ' ||
    fail "status lacks dur's time left: $st"
echo "$st" | grep -Eq '^short +finished ' || fail "short is not finished: $st"
ctl stats | grep -Eq '^dur +running \((3[0-9]|40)s left\) ' ||
    fail "stats lacks dur's time left: $(ctl stats)"
ctlj status | jq -e '.loads[] | select(.name == "dur") |
    .duration_s == 40 and .time_left_s > 30 and .time_left_s <= 40' >/dev/null ||
    fail "status -j: duration_s, time_left_s"
ctlj status | jq -e '.loads[] | select(.name == "short") |
    .duration_s > 0 and (has("time_left_s") | not)' >/dev/null ||
    fail "status -j: a finished load has a time left"

say "a plain scale cancels a running ramp"
ctl scale r 1000 --over 60s >/dev/null
ctl scale r 10 >/dev/null
wait_for "10 connections" 10 sink_is s active 10
sleep 0.5
[ "$(sink_stat s active)" -eq 10 ] || fail "ramp went on"
expect_refused "max_connections" scale r 2000 --over 5s
rc=0; "$LOADCTL" scale r 10 --over 10parsecs >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "bad ramp duration: exit $rc"

say "scale --over --wait: 0 when the ramp completes"
rc=0
timeout 20 "$LOADCTL" scale r 40 --over 2s --wait >"$TMP/wait.out" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || fail "scale --wait: exit $rc: $(cat "$TMP/wait.out")"
grep -Eq '^r: [0-9]+/[0-9]+ -> 40 \([0-9]+s left\), [0-9]+%$' "$TMP/wait.out" ||
    fail "no progress line: $(cat "$TMP/wait.out")"
n=$(grep -Ec -- '-> 40 \([0-9]+s left\), ' "$TMP/wait.out" || true)
[ "$n" -ge 1 ] && [ "$n" -le 3 ] ||
    fail "$n progress lines over 2s, wanted one a second: $(cat "$TMP/wait.out")"
grep -q '^r: ramp 10 -> 40 over 2.0s done, [0-9]*/40 connections up$' "$TMP/wait.out" ||
    fail "no end line: $(cat "$TMP/wait.out")"
[ "$(stat_of connections_scale r)" = 40 ] || fail "not at 40 after --wait"

say "--wait needs a ramp to follow"
rc=0; "$LOADCTL" scale r 5 --wait >/dev/null 2>"$TMP/err" || rc=$?
[ "$rc" -eq 2 ] || fail "scale --wait without --over: exit $rc"
grep -q 'follows a ramp' "$TMP/err" || fail "scale --wait: $(cat "$TMP/err")"
rc=0; "$LOADCTL" status --wait >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "status --wait: exit $rc"

# wait_cut WHAT COMMAND...: start a 10s ramp with --wait, let it go a
# second, run COMMAND; --wait must end within a few seconds with 1.
wait_cut() {
	local what=$1 w rc=0
	shift
	timeout 30 "$LOADCTL" scale r 200 --over 10s --wait >"$TMP/cut.out" 2>"$TMP/cut.err" &
	w=$!
	wait_for "--wait following the ramp" 10 grep -q -- '-> 200 (' "$TMP/cut.out"
	"$@" >/dev/null
	SECONDS=0
	wait "$w" || rc=$?
	[ "$rc" -eq 1 ] || fail "--wait cut by $what: exit $rc ($(cat "$TMP/cut.err"))"
	[ "$SECONDS" -le 3 ] || fail "--wait took ${SECONDS}s to see $what"
}

say "scale --wait: 1 when a stop cuts the ramp"
wait_cut stop ctl stop r
grep -q 'the ramp of r was interrupted: load r was stopped' "$TMP/cut.err" ||
    fail "stop: $(cat "$TMP/cut.err")"
ctl start r >/dev/null

say "scale --wait: 1 when another scale cuts the ramp"
wait_cut "a plain scale" ctl scale r 20
grep -q 'interrupted: a new scale set load r to 20 connections' "$TMP/cut.err" ||
    fail "scale: $(cat "$TMP/cut.err")"
wait_cut "another ramp" ctl scale r 30 --over 5s
grep -q 'interrupted: a new scale --over replaced it: load r ramps [0-9]* -> 30' "$TMP/cut.err" ||
    fail "scale --over: $(cat "$TMP/cut.err")"

say "scale --wait: 1 when a reload restarts the load"
sed -i 's/connect_rate = 10000;/connect_rate = 9000;/' "$P"
wait_cut "a reload" ctl reload
grep -q 'interrupted: a reload restarted load r' "$TMP/cut.err" ||
    fail "reload: $(cat "$TMP/cut.err")"

if command -v script >/dev/null; then
	say "scale --wait on a terminal: a bar redrawn in place"
	rc=0
	timeout 20 script -qec "$LOADCTL scale r 60 --over 1500ms --wait" \
	    "$TMP/tty.out" >/dev/null 2>&1 || rc=$?
	[ "$rc" -eq 0 ] || fail "scale --wait on a pty: exit $rc: $(cat "$TMP/tty.out")"
	grep -aq $'\r''r: \[#*-*\] *[0-9]*%  [0-9]*/[0-9]* -> 60 (' "$TMP/tty.out" ||
	    fail "no bar: $(cat -v "$TMP/tty.out")"
	grep -aq $'\r''r: ramp [0-9]* -> 60 over 1.5s done' "$TMP/tty.out" ||
	    fail "no end on the bar's line: $(cat -v "$TMP/tty.out")"
	# One line for the bar: its redraws never start a new one.
	n=$(grep -ac -- '-> 60 (' "$TMP/tty.out" || true)
	[ "$n" -eq 1 ] || fail "the bar took $n lines: $(cat -v "$TMP/tty.out")"
fi
stop_loadd
say ok
