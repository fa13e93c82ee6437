#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# `start [LOAD] --at TIME` (control protocol 2): the load is armed
# (status: state "armed", starts_at) and starts when the daemon's wall
# clock reaches TIME, never before; status then gives started_at and
# start_skew_s.  loadctl turns --at +2s into unix seconds by its own
# clock.  Refused: a TIME more than 1 s in the past or more than 24 h
# ahead, one that is not a number, a second start while armed.  stop
# disarms (it never starts); a reload keeps the arming of an unchanged
# load and drops that of a changed one; a lease holds the arming, and a
# lease that runs out first disarms; loadctl wait waits for the armed run.
. "$(dirname "$0")/lib.sh"

start_sink s
S=127.0.0.1:$(sink_port s)
P=$TMP/at.conf
write_profile() {	# RATE of web
	cat >"$P" <<CONF
daemon = { socket = "$SOCK"; stats_interval = "200ms"; workers = 2; };
loads = (
  { name = "web"; target = "$S"; connections = 3; rate = $1;
    autostart = false; max_connections = 50; },
  { name = "short"; target = "$S"; connections = 1; rate = 10.0;
    autostart = false; duration = "1s"; },
  { name = "other"; target = "$S"; connections = 1; rate = 10.0; }
);
CONF
}
write_profile 10.0
start_loadd "$P"
wait_for "other runs" 10 stat_is connections_active 1 other

now() { date +%s.%N; }
# at SECONDS: unix seconds that far from now, with a fraction.
at() { awk -v n="$(now)" -v d="$1" 'BEGIN { printf "%.3f", n + d }'; }
# field LOAD KEY: a field of LOAD in status (null if absent).
field() { ctlj status | jq -r --arg l "$1" ".loads[] | select(.name == \$l) | .$2"; }
state_is() { [ "$(field "$1" state)" = "$2" ]; }
# check EXPR [--argjson NAME VALUE]...: a jq condition on numbers.
check() {
	local expr=$1
	shift
	jq -n -e "$@" "$expr" >/dev/null
}

say "armed, then started at its time, never before"
T=$(at 4)
out=$(ctl start web --at "$T")
case "$out" in "web: armed to start at "*) ;; *) fail "start --at: $out" ;; esac
ctlj status | jq -e --argjson t "$T" '.loads[] | select(.name == "web") |
    .state == "armed" and (.starts_at - $t | fabs) < 0.001 and
    .starts_in_s > 0 and .starts_in_s <= 4 and .connections_target == 0 and
    .started_at == null' >/dev/null ||
    fail "armed status: $(ctlj status | jq -c '.loads[0]')"
ctl status | grep -q "^web  *armed (in [0-9]s)" || fail "status: $(ctl status)"
ctl status | grep -q "^web: armed to start at .* (stop disarms it)" ||
    fail "status, the armed line: $(ctl status)"
[ "$(field web connections_active)" = 0 ] || fail "armed web has connections"
wait_for "web running after its time" 20 state_is web running
wait_for "web's 3 connections" 10 stat_is connections_active 3 web
started=$(field web started_at)
skew=$(field web start_skew_s)
say "  armed for $T, started at $started (skew ${skew}s)"
# Never before TIME; within a generous tolerance after it (the timer is
# the daemon's; a loaded CI host may be late by a fraction of a second).
check '$s >= $t and $s <= $t + 1.5' --argjson s "$started" --argjson t "$T" ||
    fail "started at $started for $T"
check '($k - ($s - $t) | fabs) < 0.001' --argjson k "$skew" \
    --argjson s "$started" --argjson t "$T" || fail "start_skew_s $skew"
ctl status | grep -q "^web: started at .* after its --at time" ||
    fail "status after the start: $(ctl status)"
grep -q "load web: armed start at $T" "$TMP/loadd.log" || fail "the start not logged"
ctlj stats web | jq -e '.loads[0].started_at > 0' >/dev/null || fail "stats lacks started_at"
expect_refused "load web is already running" start web --at "$(at 5)"
ctl stop web >/dev/null

say "--at +2s: loadctl makes it unix seconds by its own clock"
t0=$(now)
ctl start web --at +2s >/dev/null
t1=$(now)
sa=$(field web starts_at)
check '$a >= $b + 2 - 0.001 and $a <= $c + 2 + 0.001' --argjson a "$sa" \
    --argjson b "$t0" --argjson c "$t1" || fail "+2s gave $sa ($t0 .. $t1)"

say "a second start while armed is refused; stop disarms: it never starts"
expect_refused "load web is armed to start at" start web
expect_refused "load web is armed to start at" start web --at "$(at 3)"
out=$(ctl stop web)
case "$out" in "web: stopped, "*) ;; *) fail "stop of an armed load: $out" ;; esac
[ "$(field web starts_at)" = null ] || fail "starts_at after stop"
grep -q "load web: disarmed (it was to start at" "$TMP/loadd.log" || fail "disarm not logged"
# Past the time it was armed for, and more: still stopped, no connection.
until check '$n > $a + 1.5' --argjson n "$(now)" --argjson a "$sa"; do sleep 0.2; done
state_is web stopped || fail "disarmed web is $(field web state)"
[ "$(field web connections_active)" = 0 ] || fail "disarmed web has connections"
[ "$(field web started_at)" = "$started" ] || fail "disarmed web started at $(field web started_at)"
expect_refused "load web is not running" stop web

say "refused: too far in the past or ahead, not a number"
expect_refused "s in the past (more than 1s: check the clocks)" start web --at "$(at -5)"
expect_refused "s ahead (more than 24h)" start web --at "$(at 90000)"
# loadctl refuses what is not a time before sending anything (exit 2) ...
bad_at() {	# WANT TIME
	local out rc=0
	out=$("$LOADCTL" start web --at "$2" 2>&1) || rc=$?
	[ "$rc" -eq 2 ] || fail "start --at $2: exit $rc ($out)"
	case "$out" in *"$1"*) ;; *) fail "start --at $2: '$out' lacks '$1'" ;; esac
}
bad_at 'bad start time "soon": not a time in unix seconds' soon
bad_at 'bad start time "0x10": not a time' 0x10
bad_at 'bad start time "nan": not a time' nan
bad_at 'bad start time "1e400": not a time' 1e400
bad_at 'bad start time "0": not a time' 0
bad_at 'bad start time "+soon": not a duration' +soon
bad_at 'bad start time "+25h": more than 24h ahead' +25h
bad_at 'bad start time "-5": not a time' -5
# ... and the daemon refuses it too (a client that is not loadctl).
raw_refused() {	# WANT REQUEST
	local out
	out=$(raw "$2\n")
	echo "$out" | jq -e --arg w "$1" '.ok == false and (.error | contains($w))' \
	    >/dev/null || fail "$2: $out"
}
raw_refused 'bad start time "soon": not a time in unix seconds' 'start web --at soon'
raw_refused 'a relative time is loadctl'"'"'s' 'start web --at +2s'
raw_refused 'usage: start' "start web --at $(at 5) --at $(at 6)"
raw_refused 'usage: stop' "stop web --at $(at 5)"
raw_refused 'usage: scale' "scale web 5 --at $(at 5)"
raw_refused 'in the past' "start web --at 1000"
state_is web stopped || fail "a refused --at changed web: $(field web state)"

say "a time less than 1s behind starts at once"
ctl start web --at "$(at -0.5)" >/dev/null
wait_for "web running" 10 state_is web running
check '$k >= 0.4' --argjson k "$(field web start_skew_s)" ||
    fail "skew $(field web start_skew_s) for a time 0.5s behind"
ctl stop web >/dev/null

say "reload: an unchanged load stays armed, a changed one is disarmed"
T=$(at 60)
ctl start web --at "$T" >/dev/null
out=$(ctlj reload | jq -r .changes)
[ "$out" = "no load changed" ] || fail "reload: $out"
check '($a - $t | fabs) < 0.001' --argjson a "$(field web starts_at)" \
    --argjson t "$T" || fail "unchanged web after reload: $(field web state)"
write_profile 20.0
out=$(ctlj reload | jq -r .changes)
case "$out" in *"disarmed web (its start at $T: start it again)"*) ;;
*) fail "reload of a changed armed load: $out" ;; esac
state_is web stopped || fail "changed web is $(field web state)"
[ "$(field web starts_at)" = null ] || fail "changed web still armed"

say "--lease: it holds the arming; run out first, it disarms"
ctl start web --at "$(at 30)" --lease 1s >/dev/null
state_is web armed || fail "web is $(field web state)"
wait_for "web disarmed by its lease" 10 state_is web stopped
grep -q "load web: its lease of 1s ran out before its armed start at .*: disarmed" \
    "$TMP/loadd.log" || fail "the lease's disarm not logged"
ctl start web --at "$(at 3)" --lease 2s >/dev/null
deadline=$(( $(date +%s) + 20 ))
until state_is web running; do
	ctl renew web >/dev/null || fail "renew of armed web refused"
	[ "$(date +%s)" -lt "$deadline" ] || fail "web never started"
	sleep 0.5
done
wait_for "web stopped by its lease once it ran" 10 state_is web stopped

say "wait: an armed load's run is the one waited for"
ctl start short >/dev/null
"$LOADCTL" -t 20 wait short >/dev/null || fail "first run of short"
T=$(at 2)
ctl start short --at "$T" >/dev/null
out=$("$LOADCTL" -j -t 20 wait short) || fail "wait for the armed run: $out"
echo "$out" | jq -e --argjson t "$T" '.summaries[0].start >= $t' >/dev/null ||
    fail "wait gave the run before: $(echo "$out" | head -c 300)"

stop_loadd
say ok
