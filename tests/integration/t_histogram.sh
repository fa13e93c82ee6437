#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# `histogram [LOAD]` (control protocol 2): each load's histograms of the
# run, the epoch and the last interval, HdrHistogram-encoded with their
# layout.  The encodings decode (tests/hdrdecode.c, the decoder of
# measure/hdrlog.c), their counts equal the replies counted in `stats` and
# their percentiles those of `stats`; a load without replies to time has
# none; a load that does not exist and bad requests are refused; the
# read-only socket answers it; loadctl prints it for people; and loadctl
# says so when a daemon speaks an older protocol.
. "$(dirname "$0")/lib.sh"
: "${HDRDECODE:?set HDRDECODE to the loadd-hdrdecode binary}"

start_sink s -m echo
S=127.0.0.1:$(sink_port s)
RO=$TMP/status.sock
P=$TMP/h.conf
cat >"$P" <<CONF
daemon = { socket = "$SOCK"; status_socket = "$RO"; stats_interval = "200ms";
  workers = 2; };
loads = (
  { name = "rr"; target = "$S"; connections = 4; size = 64; rate = 50.0;
    expect = "echo"; },
  { name = "bulk"; target = "$S"; connections = 1; size = 256; rate = 10.0; }
);
CONF
start_loadd "$P"
wait_for "replies flowing" 10 stat_ge replies 200 rr

# decode B64 [NAME]: one histogram through loadd-hdrdecode; its JSON line.
decode() {
	local f=$TMP/one.${2:-h}.hlog
	printf '0.000,1.000,0.0,%s\n' "$1" >"$f"
	"$HDRDECODE" "$f"
}

say "the reply: the layout, and a key per kind the load keeps"
H=$(ctlj histogram)
echo "$H" | jq -e '.ok and (.time | type == "number") and
    .layout == {"encoding": "hdr-v2-base64", "lowest_ns": 1000,
        "highest_ns": 7200000000000, "sigdigits": 3} and
    ([.loads[].name] == ["rr", "bulk"])' >/dev/null ||
    fail "histogram: $(echo "$H" | head -c 400)"
for p in run epoch interval; do
	keys=$(echo "$H" | jq -c ".loads[0].$p | keys")
	[ "$keys" = '["connect","latency","service","ttfb"]' ] ||
	    fail "rr's $p histograms: $keys"
	keys=$(echo "$H" | jq -c ".loads[0].counts.$p | keys")
	[ "$keys" = '["connect","latency","service","ttfb"]' ] ||
	    fail "rr's $p counts: $keys"
done
# The same kinds as stats (without its "_us"), and none for a load
# without replies to time, which has no latency in stats either.
skeys=$(ctlj stats rr | jq -c '[.loads[0] | keys[] | select(endswith("_us"))
    | rtrimstr("_us")] | sort')
[ "$skeys" = '["connect","latency","service","ttfb"]' ] || fail "stats kinds: $skeys"
echo "$H" | jq -e '.loads[1] | .run == {} and .epoch == {} and .interval == {}' \
    >/dev/null || fail "bulk has histograms: $(echo "$H" | jq -c '.loads[1]')"
[ "$(ctlj stats bulk | jq '.loads[0].latency_us')" = null ] || fail "bulk has latency in stats"
[ "$(ctlj histogram bulk | jq -c '[.loads[].name]')" = '["bulk"]' ] ||
    fail "histogram bulk: $(ctlj histogram bulk | head -c 300)"

say "every encoding decodes to the count the daemon gives beside it"
n=0
while IFS=' ' read -r name period kind count b64; do
	out=$(decode "$b64") || fail "$name $period $kind does not decode: $out"
	[ "$(echo "$out" | jq .count)" = "$count" ] ||
	    fail "$name $period $kind: decoded $out, the reply says $count"
	n=$((n + 1))
done < <(echo "$H" | jq -r '.loads[] | . as $l | ("run", "epoch", "interval")
    as $p | $l[$p] | to_entries[] |
    "\($l.name) \($p) \(.key) \($l.counts[$p][.key]) \(.value)"')
[ "$n" -eq 12 ] || fail "$n histograms decoded, wanted 12"

say "stopped: the decoded counts equal the replies in stats"
ctl stop rr >/dev/null
wait_for "rr's connections closed" 10 stat_is connections_active 0 rr
# Counters are read live, histograms at each tick: poll until they agree.
counts_agree() {
	local h s replies lat svc
	h=$(ctlj histogram rr) && s=$(ctlj stats rr) || return 1
	replies=$(echo "$s" | jq '.loads[0].replies')
	lat=$(decode "$(echo "$h" | jq -r '.loads[0].run.latency')" | jq .count)
	svc=$(decode "$(echo "$h" | jq -r '.loads[0].run.service')" | jq .count)
	[ "$replies" -gt 0 ] && [ "$lat" = "$replies" ] && [ "$svc" = "$replies" ]
}
wait_for "decoded latency and service counts equal stats' replies" 10 counts_agree
H=$(ctlj histogram rr)
ST=$(ctlj stats rr)
replies=$(echo "$ST" | jq '.loads[0].replies')
say "  $replies replies, $replies values in the decoded run latency"
dec=$(decode "$(echo "$H" | jq -r '.loads[0].run.latency')")
# The percentiles of stats come from the same histogram: the decoded one
# gives the same, but for the bucket of the largest value, where stats
# caps at the exact maximum (within 0.1% at 3 significant digits).
for q in p50 p99; do
	a=$(echo "$dec" | jq ".${q}_us")
	b=$(echo "$ST" | jq ".loads[0].latency_us.run.$q")
	jq -n -e --argjson a "$a" --argjson b "$b" \
	    '$a > 0 and $a >= $b - 0.001 and $a <= $b * 1.001 + 0.001' >/dev/null ||
	    fail "run latency $q: decoded $a us, stats $b us"
done
c=$(decode "$(echo "$H" | jq -r '.loads[0].run.connect')" | jq .count)
[ "$c" = "$(echo "$ST" | jq '.loads[0].connect_us.run.count')" ] && [ "$c" -ge 4 ] ||
    fail "connect: decoded $c, stats $(echo "$ST" | jq '.loads[0].connect_us.run.count')"

say "loadctl prints the counts for people"
out=$(ctl histogram rr)
echo "$out" | grep -Eq "^rr +run +latency +$replies " || fail "loadctl histogram: $out"
echo "$out" | grep -q "hdr-v2-base64, values 1000 to 7200000000000 ns at 3 significant" ||
    fail "loadctl histogram, the layout: $out"

say "bad requests are refused"
expect_refused 'no load named "nope" (loads: rr, bulk)' histogram nope
out=$(raw 'histogram nope\n')
echo "$out" | jq -e '.ok == false and (.error | contains("no load named"))' \
    >/dev/null || fail "raw histogram nope: $out"
out=$(raw 'histogram rr bulk\n')
echo "$out" | jq -e '.ok == false and .error == "usage: histogram [LOAD]"' \
    >/dev/null || fail "histogram with two loads: $out"
out=$(raw 'histogram 9x\n')
echo "$out" | jq -e '.ok == false and (.error | contains("invalid load name"))' \
    >/dev/null || fail "histogram 9x: $out"
rc=0
out=$("$LOADCTL" histogram rr --lease 5s 2>&1) || rc=$?
[ "$rc" -eq 2 ] || fail "histogram --lease: exit $rc ($out)"

say "the read-only socket answers it"
out=$("$LOADCTL" -s "$RO" -j histogram rr)
echo "$out" | jq -e '.ok and .loads[0].name == "rr" and
    (.loads[0].run.latency | startswith("HISTF"))' >/dev/null ||
    fail "histogram on the read-only socket: $(echo "$out" | head -c 300)"
expect_refused "read-only socket: start is refused here (it answers help, version, status, stats, watch, summary, wait and histogram)" \
    -s "$RO" start rr

say "an older daemon: loadctl says which protocol it speaks"
OLD=$TMP/old.sock
cat >"$TMP/old.sh" <<'SH'
while IFS= read -r line; do
	case $line in
	version*) echo '{"ok":true,"version":"0.0.9","protocol":1}' ;;
	histogram*) echo '{"ok":false,"error":"unknown command \"histogram\" (try \"help\")"}' ;;
	*) echo '{"ok":false,"error":"usage: start [LOAD] [--lease DURATION]"}' ;;
	esac
done
SH
socat "UNIX-LISTEN:$OLD,fork" "SYSTEM:bash $TMP/old.sh" 2>/dev/null &
PIDS+=($!)
wait_for "the old daemon's socket" 10 test -S "$OLD"
expect_refused "loadd 0.0.9 speaks control protocol 1; histogram needs protocol 2" \
    -s "$OLD" histogram
expect_refused "speaks control protocol 1; start --at needs protocol 2" \
    -s "$OLD" start web --at +5s
out=$("$LOADCTL" -s "$OLD" version 2>&1) || true
case "$out" in *"protocol versions differ"*) ;; *) fail "version: $out" ;; esac
# A refusal by a daemon of this protocol gets no such note.
out=$("$LOADCTL" histogram nope 2>&1) || true
case "$out" in *"speaks control protocol"*) fail "note from a new daemon: $out" ;; esac
[ "$(ctlj version | jq .protocol)" = 2 ] || fail "protocol: $(ctlj version)"

stop_loadd
say ok
