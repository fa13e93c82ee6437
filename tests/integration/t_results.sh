#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The results log and the HdrHistogram log: a directory that is missing at
# start (logged, traffic carries on, writing starts when it appears), epochs
# in the lines, every line a whole JSON object, the HdrHistogram log
# decodes, reopen and SIGUSR2 for rotation, and a full disk (a tiny tmpfs)
# never leaves half a line.
. "$(dirname "$0")/lib.sh"
: "${HDRDECODE:?set HDRDECODE to the loadd-hdrdecode binary}"

start_sink s -m echo
PORT=$(sink_port s)
RES=$TMP/out/results.jsonl
HLOG=$TMP/lat.hlog
cat >"$TMP/p.conf" <<CONF
daemon = { socket = "$SOCK"; stats_interval = "200ms";
  results = "$RES"; hdr_log = "$HLOG"; };
loads = (
  { name = "rr"; target = "127.0.0.1:$PORT"; connections = 4; size = 64;
    rate = 100.0; expect = "echo"; },
  { name = "bulk"; target = "127.0.0.1:$PORT"; connections = 1; size = 512;
    rate = 50.0; }
);
CONF
start_loadd "$TMP/p.conf"

say "missing directory: reported, traffic carries on"
wait_for "the failure logged" 10 grep -q "results $RES: open" "$TMP/loadd.log"
wait_for "replies flowing" 10 stat_ge replies 50 rr
mkdir "$TMP/out"
wait_for "lines written once the directory exists" 10 test -s "$RES"
grep -q "writing again" "$TMP/loadd.log" || fail "no recovery message"

say "epochs in the lines"
ctl scale rr 6 >/dev/null
wait_for "a line of the new epoch" 10 grep -q '"cause":"scale 6"' "$RES"
n=0
while IFS= read -r line; do
	n=$((n + 1))
	echo "$line" | jq -e '.time and .load and .interval_s and (.epoch.number >= 1)
	    and (.errors | type == "object") and (.messages_sent_per_s != null)' \
	    >/dev/null || fail "results line $n: $line"
done <"$RES"
[ "$n" -ge 4 ] || fail "only $n lines"
jq -s -e '[.[] | select(.load == "rr")] | length > 0 and
    all(.latency_us.interval.count >= 0 and .service_us.run.count >= 0)' \
    "$RES" >/dev/null || fail "rr lines lack latency"
jq -s -e '[.[] | select(.load == "bulk")] | length > 0 and
    all(.latency_us == null)' "$RES" >/dev/null ||
    fail "bulk lines (no replies expected) carry latency"
first=$(jq -s '[.[] | select(.load == "rr")] | .[0].epoch.number' "$RES")
last=$(jq -s '[.[] | select(.load == "rr")] | .[-1].epoch.number' "$RES")
[ "$last" -gt "$first" ] || fail "epoch did not advance ($first -> $last)"

say "the HdrHistogram log decodes"
wait_for "hdr log lines" 10 sh -c "[ \$(grep -c '^Tag=rr,' '$HLOG') -ge 3 ]"
out=$("$HDRDECODE" "$HLOG") || fail "hdr log does not decode: $out"
echo "$out" | jq -e '.intervals >= 3 and .tags == "rr" and .count > 0' >/dev/null ||
    fail "decoded: $out"
replies=$(stat_of replies rr)
[ "$(echo "$out" | jq .count)" -le "$replies" ] || fail "more latencies than replies: $out"
say "decoded: $out"

say "reopen and SIGUSR2 rotate"
mv "$RES" "$RES.1"
ctl reopen >/dev/null
wait_for "a new results file" 10 test -s "$RES"
mv "$RES" "$RES.2"
kill -USR2 "$LOADD_PID"
wait_for "another new results file" 10 test -s "$RES"
stop_loadd

say "a full disk never leaves half a line"
mkdir "$TMP/full"
if mount -t tmpfs -o size=64k tmpfs "$TMP/full" 2>/dev/null; then
	trap 'umount "$TMP/full" 2>/dev/null || true; cleanup' EXIT
	# Leave room for a few lines only.
	head -c 50000 /dev/zero >"$TMP/full/filler" 2>/dev/null || true
	sed -i "s|results = \"$RES\"|results = \"$TMP/full/r.jsonl\"|" "$TMP/p.conf"
	start_loadd "$TMP/p.conf"
	wait_for "ENOSPC logged" 15 grep -q "No space left on device" "$TMP/loadd.log"
	b=$(stat_of replies rr)
	wait_for "traffic carries on" 10 stat_ge replies $((b + 20)) rr
	while IFS= read -r line; do
		echo "$line" | jq -e . >/dev/null || fail "broken line on a full disk"
	done <"$TMP/full/r.jsonl"
	[ -z "$(tail -c 1 "$TMP/full/r.jsonl")" ] || fail "last line not terminated"
	l1=$(wc -l <"$TMP/full/r.jsonl")
	rm -f "$TMP/full/filler"
	wait_for "writing resumes when space returns" 15 \
	    sh -c "[ \$(wc -l <'$TMP/full/r.jsonl') -gt $l1 ]"
	stop_loadd
	umount "$TMP/full"
else
	say "SKIPPED the tmpfs part: cannot mount here (not root?)"
fi
say ok
