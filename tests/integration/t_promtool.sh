#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The shipped Prometheus files, checked by Prometheus' own promtool
# (issue 13): docs/prometheus/prometheus.yml (check config, which reads
# the rule file too), loadd.rules.yml (check rules) and its unit test
# loadd.rules.test.yml (test rules); then the real thing: two loadd
# daemons ("lg-a" and "lg-b", one load "web" each, as a fleet runs it)
# are scraped twice, their pages pass `promtool check metrics`, and fed
# to the recording rules through a `promtool test rules` written here,
# the recorded fleet p99 is the quantile of the two hosts' buckets summed
# (worked out here the way histogram_quantile() does it).
#
# Needs promtool (Debian: prometheus).  Without it the test fails in CI
# (CI=true) and is skipped (77) elsewhere.
. "$(dirname "$0")/lib.sh"

PROMTOOL=${PROMTOOL:-$(command -v promtool || true)}
if [ -z "$PROMTOOL" ]; then
	[ "${CI:-}" != true ] ||
	    fail "promtool not found (Debian: prometheus; sh .ci/deps installs it)"
	say "skipped: promtool not found (Debian package prometheus)"
	exit 77
fi
command -v curl >/dev/null || fail "curl is needed (sh .ci/deps installs it)"
PD=$TOP/docs/prometheus
say "$("$PROMTOOL" --version 2>&1 | head -n1)"

# run WHAT COMMAND...: COMMAND must succeed; its output goes to the log.
run() {
	local what=$1 rc=0
	shift
	"$@" >"$TMP/promtool.out" 2>&1 || rc=$?
	if [ "$rc" -ne 0 ]; then
		cat "$TMP/promtool.out" >&2
		fail "$what: exit $rc"
	fi
	say "$what: ok"
}
run "promtool check config prometheus.yml" \
    "$PROMTOOL" check config "$PD/prometheus.yml"
grep -q "1 rule files found" "$TMP/promtool.out" ||
    fail "check config did not read the rule file: $(cat "$TMP/promtool.out")"
run "promtool check rules loadd.rules.yml" \
    "$PROMTOOL" check rules "$PD/loadd.rules.yml"
run "promtool test rules loadd.rules.test.yml" \
    "$PROMTOOL" test rules "$PD/loadd.rules.test.yml"

# A broken rule file is refused (the checks above can fail).
sed 's/histogram_quantile(0.99, load_le/histogram_quantile(0.99, (load_le/' \
    "$PD/loadd.rules.yml" >"$TMP/broken.rules.yml"
rc=0
"$PROMTOOL" check rules "$TMP/broken.rules.yml" >"$TMP/broken.out" 2>&1 ||
    rc=$?
[ "$rc" -ne 0 ] || fail "promtool check rules took an unbalanced expression"

# ------------------------------------------------------ two real hosts

# free_port: a free loopback port: a throwaway sink takes one and stops.
free_port() {
	local p
	start_sink probe
	p=$(sink_port probe)
	# shellcheck disable=SC2154 # start_sink sets SINK_PID_probe
	kill "$SINK_PID_probe"
	wait "$SINK_PID_probe" 2>/dev/null || true
	echo "$p"
}
start_sink s -m echo
declare -A PORT SOCKS LPID
for h in a b; do
	PORT[$h]=$(free_port)
	SOCKS[$h]=$TMP/$h.sock
	# lg-a sends twice what lg-b does: the hosts' shares differ.
	rate=100.0
	[ "$h" = a ] || rate=50.0
	cat >"$TMP/$h.conf" <<EOF
daemon = { socket = "${SOCKS[$h]}"; stats_interval = "200ms"; workers = 2;
  metrics_listen = "127.0.0.1:${PORT[$h]}"; host = "lg-$h"; };
loads = ( { name = "web"; target = "127.0.0.1:$(sink_port s)";
  connections = 2; expect = "echo"; size = 64; rate = $rate; } );
EOF
	"$LOADD" -f "$TMP/$h.conf" >>"$TMP/loadd.log" 2>&1 &
	LPID[$h]=$!
	PIDS+=("${LPID[$h]}")
	wait_for "lg-$h's control socket" 10 "$LOADCTL" -s "${SOCKS[$h]}" version
done
[ "${PORT[a]}" != "${PORT[b]}" ] || fail "the same port twice"

scrape() { curl -sf -m 5 -o "$2" "http://127.0.0.1:$1/metrics"; }
# count PAGE: web's latency count on PAGE (0 without one).
count() {
	awk '$1 ~ /^loadd_latency_seconds_count[{].*load="web"/ { print $2; f = 1 }
	    END { if (!f) print 0 }' "$1"
}
# counted H PAGE MIN: a scrape of lg-H into PAGE has at least MIN requests.
counted() {
	scrape "${PORT[$1]}" "$2" && [ "$(count "$2")" -ge "$3" ]
}
for h in a b; do
	wait_for "lg-$h's first latency" 20 counted "$h" "$TMP/$h.1" 20
done
for h in a b; do
	n=$(count "$TMP/$h.1")
	wait_for "lg-$h's next 200 requests" 30 counted "$h" "$TMP/$h.2" \
	    $((n + 200))
done
for f in a.1 a.2 b.1 b.2; do
	run "promtool check metrics (lg-${f%.*}, scrape ${f#*.})" \
	    "$PROMTOOL" check metrics <"$TMP/$f"
done

# The pages as two samples a minute apart (rate() then sees exactly the
# growth between them: the window [0, 1m] starts and ends on a sample),
# in a rules test of our own, with what the p99 of the summed growth is.
T=$TMP/fleet.test.yml
{
	printf 'rule_files:\n  - %s\n' "$PD/loadd.rules.yml"
	printf 'evaluation_interval: 1m\ntests:\n  - interval: 1m\n'
	printf '    input_series:\n'
	for h in a b; do
		awk 'NR == FNR { if ($1 ~ /^loadd_latency_seconds_bucket[{]/ &&
			$1 ~ /load="web"/) first[$1] = $2
			next }
		$1 in first {
			printf "      - series: '\''%s'\''\n", $1
			printf "        values: '\''%s %s'\''\n", first[$1], $2
		}' "$TMP/$h.1" "$TMP/$h.2"
	done
} >"$T"
[ "$(grep -c '^      - series:' "$T")" -eq 44 ] ||
    fail "not 2 x 22 buckets in $T: $(grep -c '^      - series:' "$T")"
# The fleet's buckets: each le's growth on lg-a plus lg-b, in the order
# of the page; then histogram_quantile(0.99) of them, as Prometheus
# computes it (rank = 0.99 x total, linear inside the bucket).
P99=$(awk -v q=0.99 '
	match($1, /le="[^"]*"/) && $1 ~ /^loadd_latency_seconds_bucket[{].*load="web"/ {
		le = substr($1, RSTART + 4, RLENGTH - 5)
		k = FILENAME
		sub(/\.[12]$/, "", k)
		if (FILENAME ~ /\.1$/) { was[k, le] = $2; next }
		if (!(le in grow)) order[++n] = le
		grow[le] += $2 - was[k, le]
	}
	END {
		total = grow[order[n]]
		if (n != 22 || order[n] != "+Inf" || total <= 0) {
			print "bad"
			exit
		}
		rank = q * total
		for (b = 1; b < n && grow[order[b]] < rank; b++)
			;
		if (b == n) { printf "%.17g\n", order[n - 1]; exit }
		lo = b == 1 ? 0 : order[b - 1] + 0
		before = b == 1 ? 0 : grow[order[b - 1]]
		frac = (rank - before) / (grow[order[b]] - before)
		printf "%.17g\n", lo + (order[b] - lo) * frac
	}' "$TMP/a.1" "$TMP/b.1" "$TMP/a.2" "$TMP/b.2")
[ "$P99" != bad ] || fail "the pages' buckets are not 22 growing ones"
say "the fleet's p99 from the summed buckets: ${P99}s" \
    "(lg-a $(($(count "$TMP/a.2") - $(count "$TMP/a.1"))) requests," \
    "lg-b $(($(count "$TMP/b.2") - $(count "$TMP/b.1"))))"
cat >>"$T" <<EOF
    promql_expr_test:
      - expr: abs(load:loadd_latency_seconds:p99_rate1m - $P99) < bool 1e-9
        eval_time: 1m
        exp_samples:
          - labels: '{load="web"}'
            value: 1
EOF
run "promtool test rules (the two hosts' real buckets)" \
    "$PROMTOOL" test rules "$T"

# The same test must fail with another p99 (it is not vacuous).
sed "s/p99_rate1m - $P99)/p99_rate1m - $P99 - 0.0001)/" "$T" >"$TMP/off.test.yml"
grep -q -- "- 0.0001)" "$TMP/off.test.yml" || fail "could not make the off test"
rc=0
"$PROMTOOL" test rules "$TMP/off.test.yml" >"$TMP/off.out" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "promtool test rules took a p99 0.1 ms off"

for h in a b; do
	kill -TERM "${LPID[$h]}"
	rc=0
	wait "${LPID[$h]}" || rc=$?
	[ "$rc" -eq 0 ] || fail "lg-$h exited $rc"
done
say ok
