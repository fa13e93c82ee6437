#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# End-of-run summaries: a load that runs out its duration shows as
# finished, and its run is summed up in one log line, a "summary" record
# in the results log and daemon.summary (replaced whole); each epoch of
# the run is in it; stop and the daemon's end sum up a run too; a summary
# file that cannot be written is said once and the run goes on.
. "$(dirname "$0")/lib.sh"

start_sink e -m echo
E=127.0.0.1:$(sink_port e)

cat >"$TMP/p.conf" <<EOF
daemon = { socket = "$SOCK"; stats_interval = "200ms"; workers = 2;
  results = "$TMP/res.jsonl"; summary = "$TMP/last.json"; };
loads = (
  { name = "short"; target = "$E"; connections = 4; rate = 100.0;
    expect = "echo"; size = 32; duration = "1500ms"; },
  { name = "long"; target = "$E"; connections = 2; rate = 50.0;
    expect = "echo"; size = 16; } );
EOF
start_loadd "$TMP/p.conf"

say "a duration that runs out: finished, and summed up"
wait_for "short finished" 10 stat_is state finished short
wait_for "its summary in the file" 10 test -s "$TMP/last.json"
S=$(jq '.loads[] | select(.load == "short")' "$TMP/last.json")
[ "$(echo "$S" | jq -r .state)" = finished ] || fail "summary state $(echo "$S" | jq -r .state)"
m=$(echo "$S" | jq .messages_sent) r=$(echo "$S" | jq .replies)
[ "$m" -ge 400 ] && [ "$m" -le 800 ] || fail "short sent $m in 1.5 s at 4 x 100/s"
[ "$r" -ge $((m - 4)) ] && [ "$r" -le "$m" ] || fail "$r replies to $m"
[ "$(echo "$S" | jq .connections_peak)" = 4 ] || fail "peak $(echo "$S" | jq .connections_peak)"
[ "$(echo "$S" | jq .errors_total)" = 0 ] || fail "errors"
[ "$(echo "$S" | jq '.epochs | length')" = 1 ] || fail "epochs: $(echo "$S" | jq -c .epochs)"
[ "$(echo "$S" | jq -r '.epochs[0].cause')" = start ] || fail "epoch cause"
# The histograms are collected a moment after the counters: a reply or
# so per connection may fall between (4 connections).
c=$(echo "$S" | jq '.latency_us.count')
[ "$c" -ge $((r - 4)) ] && [ "$c" -le $((r + 4)) ] || fail "latency count $c, replies $r"
echo "$S" | jq -e '.latency_us.p99 > 0 and .service_us.p99 > 0 and (.seconds | . > 1.4 and . < 3)' >/dev/null ||
    fail "latency or seconds: $(echo "$S" | jq -c '{seconds, latency_us, service_us}')"
grep -q "load short: finished after 1\.[0-9]s: $m messages" "$TMP/loadd.log" ||
    fail "no summary line: $(grep 'load short' "$TMP/loadd.log" | tail -2)"
wait_for "a summary record" 10 grep -q '"record":"summary"' "$TMP/res.jsonl"
[ "$(grep -c '"record":"summary"' "$TMP/res.jsonl")" = 1 ] || fail "summary records"
grep '"record":"summary"' "$TMP/res.jsonl" | jq -e '.time > 0 and .load == "short"' >/dev/null ||
    fail "summary record: $(grep '"record":"summary"' "$TMP/res.jsonl")"
# The long load is untouched.
[ "$(stat_of state long)" = running ] || fail "long is $(stat_of state long)"

say "loadctl summary: for people, and as JSON"
out=$(ctl summary short)
for w in "short: finished after 1." "connections 4 at most" "messages    $m (" "errors      0" \
    "latency (corrected)" "service time" "began with" "1   start"; do
	case "$out" in *"$w"*) ;; *) fail "summary lacks '$w': $out" ;; esac
done
[ "$(ctlj summary short | jq '.summaries[0].messages_sent')" = "$m" ] || fail "summary -j"
[ "$(ctlj summary | jq '.summaries | length')" = 1 ] || fail "summary of all: one load has one"
expect_refused "load long has not ended a run yet (it is running)" summary long
expect_refused 'no load named "nope"' summary nope
say "stop after a scale: stopped, with both epochs"
ctl scale long 3 >/dev/null
wait_for "long at 3" 10 stat_is connections_active 3 long
# Down again at once: the peak must not hide between two ticks.
ctl scale long 1 >/dev/null
wait_for "long at 1" 10 stat_is connections_active 1 long
ctl stop long >/dev/null
wait_for "long's summary" 10 sh -c "jq -e '.loads[] | select(.load == \"long\")' '$TMP/last.json'"
S=$(jq '.loads[] | select(.load == "long")' "$TMP/last.json")
[ "$(echo "$S" | jq -r .state)" = stopped ] || fail "long state"
[ "$(echo "$S" | jq -r '[.epochs[].cause] | join(",")')" = "start,scale 3,scale 1" ] ||
    fail "long epochs: $(echo "$S" | jq -c '[.epochs[].cause]')"
[ "$(echo "$S" | jq .connections_peak)" = 3 ] || fail "long peak"
# Both loads' last summaries are in the file.
[ "$(jq '.loads | length' "$TMP/last.json")" = 2 ] || fail "the file lost a load"

say "the daemon's end sums up what runs"
ctl start long >/dev/null
wait_for "long runs (at its live scale)" 10 stat_is connections_active 1 long
sleep 0.5
stop_loadd
grep -q "load long: stopped after 0\.[0-9]s\|load long: stopped after 1\.[0-9]s" "$TMP/loadd.log" ||
    fail "no summary at shutdown: $(tail -4 "$TMP/loadd.log")"
[ "$(grep -c '"record":"summary"' "$TMP/res.jsonl")" = 3 ] || fail "summary records: $(grep -c summary "$TMP/res.jsonl")"

say "a summary file that cannot be written: said once, the run goes on"
sed -i "s|summary = \"$TMP/last.json\"|summary = \"$TMP/missing/dir/last.json\"|" "$TMP/p.conf"
: >"$TMP/loadd.log"
start_loadd "$TMP/p.conf"
wait_for "short finished" 10 stat_is state finished short
ctl stop long >/dev/null
ctl start long >/dev/null
ctl stop long >/dev/null
wait_for "two summaries logged" 10 sh -c "[ \$(grep -c 'load long: stopped after' '$TMP/loadd.log') -ge 1 ]"
[ "$(grep -c "summary $TMP/missing/dir/last.json: cannot write it" "$TMP/loadd.log")" = 1 ] ||
    fail "the failure not said exactly once: $(grep -c 'cannot write' "$TMP/loadd.log")"
ctl start long >/dev/null
wait_for "long runs again" 10 stat_is connections_active 2 long
stop_loadd
say ok
