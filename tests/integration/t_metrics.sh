#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The Prometheus endpoint: GET /metrics answers 200 in the text format
# 0.0.4 with every metric, its HELP and TYPE once; counters grow between
# scrapes; latency histograms exist for the load that expects replies only,
# with the documented buckets, cumulative, never lower in a later scrape
# (across a stop and a start too), _count and the p99 they give agreeing
# with `loadctl -j stats` for the whole run and for a window; every
# series carries the host label (daemon.host) first;
# a load removed by a reload leaves its counters under load="_retired";
# other paths are 404, other methods 405; idle HTTP connections are capped
# and timed out; a metrics_listen port in use stops loadd from starting.
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null || fail "curl is needed (sh .ci/deps installs it)"

# A free loopback port: let a throwaway sink take one, then stop it.
start_sink probe
MPORT=$(sink_port probe)
# shellcheck disable=SC2154 # start_sink sets SINK_PID_probe
kill "$SINK_PID_probe"
wait "$SINK_PID_probe" 2>/dev/null || true
URL=http://127.0.0.1:$MPORT

start_sink s -m echo
start_sink f
P=$TMP/metrics.conf
# write_profile [MORE-LOADS]: the echo load, then whatever else is given.
write_profile() {
	cat >"$P" <<EOF
daemon = { socket = "$SOCK"; stats_interval = "200ms"; workers = 2;
  metrics_listen = "127.0.0.1:$MPORT"; host = "t-metrics"; };
loads = (
  { name = "echo"; target = "127.0.0.1:$(sink_port s)"; connections = 2;
    expect = "echo"; size = 64; rate = 50.0; } ${1:-} );
EOF
}
write_profile ", { name = \"flood\"; target = \"127.0.0.1:$(sink_port f)\";
    connections = 2; }"
start_loadd "$P"
wait_for "4 connections" 10 stat_is connections_active 4 total

# scrape FILE: GET /metrics into FILE, headers into FILE.h; prints the code.
scrape() {
	curl -s -m 5 -D "$1.h" -o "$1" -w '%{http_code}' "$URL/metrics"
}
# value FILE SERIES: the value of one series, e.g. 'x{host="t-metrics",load="echo"}'.
value() { awk -v k="$2" '$1 == k { print $2; exit }' "$1"; }
# count_ge SERIES MIN: a fresh scrape has SERIES >= MIN (for wait_for).
count_ge() {
	local v
	scrape "$TMP/w" >/dev/null
	v=$(value "$TMP/w" "$1")
	[ "${v:-0}" -ge "$2" ]
}

# The histograms' series: loadd_X_seconds_{bucket,sum,count}.
HIST_RE='^loadd_(latency|service_time|connect_time|tls_handshake_time|ttfb)'
HIST_RE+='_seconds_(bucket|sum|count)[{]'
# hist_ok FILE NAME LOAD: NAME's buckets for LOAD in the page FILE are the
# bounds of BOUNDS in order, cumulative, and +Inf equals _count.
hist_ok() {
	awk -v bounds="$BOUNDS" -v pre="$2_bucket{host=\"t-metrics\",load=\"$3\",le=\"" \
	    -v cnt="$2_count{host=\"t-metrics\",load=\"$3\"}" '
	BEGIN { n = split(bounds, want) }
	index($1, pre) == 1 {
		le = substr($1, length(pre) + 1)
		sub(/"}$/, "", le)
		if (le != want[++k]) {
			print "bucket " k " is le=" le ", not " want[k]
			bad = 1
		}
		if (k > 1 && $2 + 0 < prev) {
			print "le=" le ": " $2 " below the bucket before, " prev
			bad = 1
		}
		prev = $2 + 0
		inf = $2
	}
	$1 == cnt { count = $2 }
	END {
		if (k != n) { print k " buckets, not " n; bad = 1 }
		if (inf != count) {
			print "+Inf " inf ", _count " count
			bad = 1
		}
		exit bad
	}' "$1" || fail "$1: $2 for $3 is not a histogram"
}
# not_lower OLD NEW: every histogram series of the page OLD is in NEW, and
# not lower there.
not_lower() {
	awk -v re="$HIST_RE" '
	NR == FNR { if ($1 ~ re) old[$1] = $2; next }
	$1 in old {
		if ($2 + 0 < old[$1] + 0) {
			print $1 " went down: " old[$1] " -> " $2
			bad = 1
		}
		seen[$1] = 1
	}
	END {
		for (s in old)
			if (!(s in seen)) { print s " is gone"; bad = 1 }
		exit bad
	}' "$1" "$2" || fail "histograms of $1 lower or gone in $2"
}
# hq Q NAME LOAD NEW [OLD]: histogram_quantile(Q, ...) as Prometheus
# computes it from NAME's buckets for LOAD in the page NEW, less those in
# the page OLD (a window, as rate() or increase() gives it): "VALUE INDEX",
# INDEX the bucket it lies in, from 0 in BOUNDS.
hq() {
	awk -v q="$1" -v pre="$2_bucket{host=\"t-metrics\",load=\"$3\",le=\"" '
	index($1, pre) == 1 {
		le = substr($1, length(pre) + 1)
		sub(/"}$/, "", le)
		if (FILENAME == ARGV[1]) { was[le] = $2; next }
		ub[++n] = le + 0
		c[n] = $2 - was[le]
	}
	END {
		if (n == 0 || c[n] == 0) { print "NaN -1"; exit }
		rank = q * c[n]
		for (b = 1; b < n && c[b] < rank; b++)
			;
		if (b == n) {	# in +Inf: the highest finite bound
			printf "%.9g %d\n", ub[n - 1], n - 1
			exit
		}
		lo = b == 1 ? 0 : ub[b - 1]
		before = b == 1 ? 0 : c[b - 1]
		printf "%.9g %d\n", lo + (ub[b] - lo) * (rank - before) / \
		    (c[b] - before), b - 1
	}' "${5:-/dev/null}" "$4"
}
# bucket_of SECONDS: the bucket a value lies in, from 0 in BOUNDS.
bucket_of() {
	awk -v x="$1" -v bounds="$BOUNDS" 'BEGIN {
		n = split(bounds, b)
		for (i = 1; i < n && x > b[i] + 0; i++)
			;
		print i - 1
	}'
}
# near A B: A is within a millionth of B.
near() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		d = a - b; if (d < 0) d = -d
		m = b < 0 ? -b : b
		exit !(d <= 1e-6 * m)
	}'
}

wait_for "latency recorded" 10 \
    count_ge 'loadd_latency_seconds_count{host="t-metrics",load="echo"}' 5

M1=$TMP/m1
[ "$(scrape "$M1")" = 200 ] || fail "GET /metrics: not 200"
ct=$(tr -d '\r' <"$M1.h" |
    awk 'tolower($1) == "content-type:" { sub(/^[^:]*: */, ""); print }')
[ "$ct" = "text/plain; version=0.0.4; charset=utf-8" ] ||
    fail "Content-Type is '$ct'"

# Every metric: HELP and TYPE exactly once, with the right type.
COUNTERS="loadd_connects_ok_total loadd_connects_failed_total
  loadd_disconnects_total loadd_bytes_sent_total loadd_bytes_received_total
  loadd_messages_sent_total loadd_replies_total loadd_late_total"
GAUGES="loadd_connections_active loadd_connections_connecting
  loadd_connections_target loadd_rate_per_connection loadd_load_running
  loadd_epoch"
HISTOGRAMS="loadd_latency_seconds loadd_service_time_seconds
  loadd_connect_time_seconds loadd_ttfb_seconds"
# The bucket bounds docs/metrics.md promises, in order.
BOUNDS="1e-05 2e-05 5e-05 0.0001 0.0002 0.0005 0.001 0.002 0.005 0.01 0.02
  0.05 0.1 0.2 0.5 1 2 5 10 20 60 +Inf"
check_type() {
	local name=$1 type=$2
	[ "$(grep -c "^# TYPE $name " "$M1")" -eq 1 ] ||
	    fail "$name: not exactly one TYPE line"
	[ "$(grep -c "^# HELP $name " "$M1")" -eq 1 ] ||
	    fail "$name: not exactly one HELP line"
	grep -qx "# TYPE $name $type" "$M1" || fail "$name: TYPE is not $type"
}
for m in $COUNTERS loadd_errors_total; do check_type "$m" counter; done
for m in $GAUGES loadd_up loadd_uptime_seconds loadd_workers \
    loadd_build_info loadd_latency_max_seconds; do
	check_type "$m" gauge
done
for m in $HISTOGRAMS; do check_type "$m" histogram; done
[ "$(grep -c '^# HELP' "$M1")" -eq "$(grep -c '^# TYPE' "$M1")" ] ||
    fail "HELP and TYPE lines do not pair up"

# Process-level values.
[ "$(value "$M1" 'loadd_up{host="t-metrics"}')" = 1 ] || fail "loadd_up"
[ "$(value "$M1" 'loadd_workers{host="t-metrics"}')" = 2 ] ||
    fail "loadd_workers"
ver=$("$LOADD" -V | awk '{ print $2 }')
s="loadd_build_info{host=\"t-metrics\",version=\"$ver\"}"
[ "$(value "$M1" "$s")" = 1 ] || fail "no $s 1"
[ -n "$(value "$M1" 'loadd_uptime_seconds{host="t-metrics"}')" ] ||
    fail "loadd_uptime_seconds"
# Every series, the process' too, has daemon.host as its first label.
if grep -v '^#' "$M1" | grep -v '^[a-z0-9_]*{host="t-metrics"[,}]'; then
	fail "series without host=\"t-metrics\" first"
fi

# Counters per load and for loads removed by a reload; gauges per load.
for m in $COUNTERS; do
	for l in echo flood _retired; do
		[ -n "$(value "$M1" "$m{host=\"t-metrics\",load=\"$l\"}")" ] ||
		    fail "no $m{host=\"t-metrics\",load=\"$l\"}"
	done
done
for k in $(ctlj stats | jq -r '.loads[0].errors | keys[]'); do
	for l in echo flood _retired; do
		s="loadd_errors_total{host=\"t-metrics\",load=\"$l\",kind=\"$k\"}"
		[ -n "$(value "$M1" "$s")" ] ||
		    fail "no loadd_errors_total for $l, kind $k"
	done
done
for m in $GAUGES; do
	for l in echo flood; do
		[ -n "$(value "$M1" "$m{host=\"t-metrics\",load=\"$l\"}")" ] ||
		    fail "no $m{host=\"t-metrics\",load=\"$l\"}"
	done
done
[ "$(value "$M1" 'loadd_rate_per_connection{host="t-metrics",load="echo"}')" = 50 ] ||
    fail "echo's rate is not 50"
[ "$(value "$M1" 'loadd_rate_per_connection{host="t-metrics",load="flood"}')" = 0 ] ||
    fail "flood's rate is not 0"
[ "$(value "$M1" 'loadd_connections_target{host="t-metrics",load="echo"}')" = 2 ] ||
    fail "echo's target is not 2"
[ "$(value "$M1" 'loadd_load_running{host="t-metrics",load="flood"}')" = 1 ] ||
    fail "flood is not running"

# Latency: every bucket, _sum and _count for echo; nothing for flood.
for m in $HISTOGRAMS; do
	for le in $BOUNDS; do
		s="${m}_bucket{host=\"t-metrics\",load=\"echo\",le=\"$le\"}"
		[ -n "$(value "$M1" "$s")" ] || fail "no $s"
	done
	[ -n "$(value "$M1" "${m}_sum{host=\"t-metrics\",load=\"echo\"}")" ] || fail "no ${m}_sum"
	[ "$(value "$M1" "${m}_count{host=\"t-metrics\",load=\"echo\"}")" -gt 0 ] ||
	    fail "${m}_count is 0"
done
[ -n "$(value "$M1" 'loadd_latency_max_seconds{host="t-metrics",load="echo"}')" ] ||
    fail "no loadd_latency_max_seconds for echo"
if grep -E '^loadd_(latency|service_time|connect_time|ttfb)_.*load="flood"' \
    "$M1"; then
	fail "latency for a load that expects no reply"
fi

# Counters grow between scrapes.
grown() {
	scrape "$TMP/m2" >/dev/null
	for s in 'loadd_messages_sent_total{host="t-metrics",load="echo"}' \
	    'loadd_replies_total{host="t-metrics",load="echo"}' \
	    'loadd_messages_sent_total{host="t-metrics",load="flood"}' \
	    'loadd_bytes_sent_total{host="t-metrics",load="flood"}' \
	    'loadd_latency_seconds_count{host="t-metrics",load="echo"}'; do
		[ "$(value "$TMP/m2" "$s")" -gt "$(value "$M1" "$s")" ] ||
		    return 1
	done
}
wait_for "counters to grow between scrapes" 10 grown
for m in $HISTOGRAMS; do
	hist_ok "$M1" "$m" echo
	hist_ok "$TMP/m2" "$m" echo
done
not_lower "$M1" "$TMP/m2"

# A stopped load: target 0, running 0, a new epoch.
ep=$(value "$TMP/m2" 'loadd_epoch{host="t-metrics",load="flood"}')
ctl stop flood >/dev/null
scrape "$TMP/m3" >/dev/null
[ "$(value "$TMP/m3" 'loadd_load_running{host="t-metrics",load="flood"}')" = 0 ] ||
    fail "stopped flood still running"
[ "$(value "$TMP/m3" 'loadd_connections_target{host="t-metrics",load="flood"}')" = 0 ] ||
    fail "stopped flood has a target"
wait_for "a new epoch for flood" 5 \
    count_ge 'loadd_epoch{host="t-metrics",load="flood"}' $((ep + 1))

# A reload that removes the (stopped) flood load: its counters move to
# load="_retired" unchanged.
wait_for "flood's connections closed" 10 stat_is connections_active 0 flood
scrape "$TMP/m3" >/dev/null
msgs=$(value "$TMP/m3" 'loadd_messages_sent_total{host="t-metrics",load="flood"}')
bytes=$(value "$TMP/m3" 'loadd_bytes_sent_total{host="t-metrics",load="flood"}')
write_profile
ctl reload >/dev/null
scrape "$TMP/m4" >/dev/null
if grep -q 'load="flood"' "$TMP/m4"; then
	fail "flood still exposed after the reload removed it"
fi
s='loadd_messages_sent_total{host="t-metrics",load="_retired"}'
[ "$(value "$TMP/m4" "$s")" = "$msgs" ] ||
    fail "_retired messages_sent is not flood's $msgs"
s='loadd_bytes_sent_total{host="t-metrics",load="_retired"}'
[ "$(value "$TMP/m4" "$s")" = "$bytes" ] ||
    fail "_retired bytes_sent is not flood's $bytes"
# The reload left echo as it was: its histograms went on.
not_lower "$TMP/m2" "$TMP/m4"

# The histograms against loadd's own numbers.  sample LOAD FILE: a scrape
# into FILE, and the load's stats read just before it into FILE.json, when
# nothing moved: every reply was in the whole-run histogram before the
# scrape, and no reply came until after it.  The histograms only change
# when an interval brings replies that the counter has already counted, so
# the page and FILE.json then show the very same histogram.  For wait_for.
sample() {
	ctlj stats | jq --arg l "$1" '.loads[] | select(.name == $l)' \
	    >"$2.json"
	jq -e '.replies == .latency_us.run.count' "$2.json" >/dev/null ||
	    return 1
	scrape "$2" >/dev/null
	[ "$(stat_of replies "$1")" = "$(jq -r .replies "$2.json")" ]
}
# check_against PAGE JSON WHICH [OLD]: for latency and service time, the
# page's histogram (less OLD's) has the count, the mean and, within one
# bucket, the p99 of JSON's WHICH histogram (run or epoch).
check_against() {
	local page=$1 js=$2 which=$3 old=${4:-} m k s cnt sum want got b wb
	for m in latency service_time; do
		k=latency_us
		[ "$m" = latency ] || k=service_us
		s="loadd_${m}_seconds"
		cnt=$(value "$page" "${s}_count{host=\"t-metrics\",load=\"echo\"}")
		sum=$(value "$page" "${s}_sum{host=\"t-metrics\",load=\"echo\"}")
		if [ -n "$old" ]; then
			got=$(value "$old" "${s}_count{host=\"t-metrics\",load=\"echo\"}")
			cnt=$((cnt - got))
			sum=$(awk -v a="$sum" \
			    -v b="$(value "$old" "${s}_sum{host=\"t-metrics\",load=\"echo\"}")" \
			    'BEGIN { printf "%.15g", a - b }')
		fi
		want=$(jq -r ".$k.$which.count" "$js")
		[ "$cnt" = "$want" ] ||
		    fail "$m: $cnt in the buckets, $want in stats ($which)"
		want=$(jq -r ".$k.$which.mean" "$js")
		got=$(awk -v s="$sum" -v c="$cnt" \
		    'BEGIN { printf "%.9g", s / c * 1e6 }')
		near "$got" "$want" ||
		    fail "$m: _sum/_count ${got}us, $which mean ${want}us"
		want=$(jq -r ".$k.$which.p99" "$js")
		want=$(awk -v us="$want" 'BEGIN { printf "%.9g", us / 1e6 }')
		wb=$(bucket_of "$want")
		read -r got b <<<"$(hq 0.99 "$s" echo "$page" "$old")"
		say "$m $which: count $cnt, p99 from the buckets ${got}s" \
		    "(bucket $b), loadd's ${want}s (bucket $wb)"
		if [ $((b - wb)) -gt 1 ] || [ $((wb - b)) -gt 1 ]; then
			fail "$m: p99 ${got}s from the buckets, loadd: ${want}s"
		fi
	done
}

# The whole run, stopped: _count is the reply count of stats, exactly.
ctl stop echo >/dev/null
wait_for "echo's connections closed" 10 stat_is connections_active 0 echo
wait_for "a settled scrape of echo" 20 sample echo "$TMP/ha"
[ "$(value "$TMP/ha" 'loadd_latency_seconds_count{host="t-metrics",load="echo"}')" = \
    "$(jq -r .replies "$TMP/ha.json")" ] ||
    fail "loadd_latency_seconds_count is not echo's replies"
for m in $HISTOGRAMS; do hist_ok "$TMP/ha" "$m" echo; done
not_lower "$TMP/m4" "$TMP/ha"
check_against "$TMP/ha" "$TMP/ha.json" run

# A window: start echo again, let replies come, then have the sink stop
# answering (echo runs on, in the same epoch, with no replies).  What the
# buckets gained since the last scrape is then what the epoch measured:
# nothing was reset by stop or start.
n0=$(jq -r .replies "$TMP/ha.json")
ctl start echo >/dev/null
cause_is() { [ "$(stat_of epoch.cause "$2")" = "$1" ]; }
wait_for "echo's new epoch" 10 cause_is start echo
wait_for "replies in the new epoch" 20 stat_ge replies $((n0 + 50)) echo
printf 'mode discard\n' | socat -t 5 - "UNIX-CONNECT:$TMP/s.sock" >/dev/null
wait_for "a settled scrape of echo in its epoch" 20 sample echo "$TMP/hb"
[ "$(jq -r .epoch.cause "$TMP/hb.json")" = start ] ||
    fail "echo's epoch changed under the window"
for m in $HISTOGRAMS; do hist_ok "$TMP/hb" "$m" echo; done
not_lower "$TMP/ha" "$TMP/hb"
[ $(($(value "$TMP/hb" 'loadd_latency_seconds_count{host="t-metrics",load="echo"}') -
    $(value "$TMP/ha" 'loadd_latency_seconds_count{host="t-metrics",load="echo"}'))) -eq \
    $(($(jq -r .replies "$TMP/hb.json") - n0)) ] ||
    fail "the window's count is not the replies in it"
check_against "$TMP/hb" "$TMP/hb.json" epoch "$TMP/ha"
ctl stop echo >/dev/null

# The exposition format, checked by Prometheus' own parser when present.
PROMTOOL=${PROMTOOL:-$(command -v promtool || true)}
if [ -n "$PROMTOOL" ]; then
	for f in "$TMP/m2" "$TMP/hb"; do
		"$PROMTOOL" check metrics <"$f" ||
		    fail "promtool check metrics rejects the page $f"
	done
	say "promtool check metrics: ok"
else
	say "promtool not found: check metrics skipped"
fi

# Other paths, other methods, HEAD.
code() { curl -s -m 5 -o /dev/null -w '%{http_code}' "$@"; }
[ "$(code "$URL/nope")" = 404 ] || fail "/nope is not 404"
[ "$(code "$URL/")" = 404 ] || fail "/ is not 404"
[ "$(code -X POST -d x "$URL/nope")" = 404 ] || fail "POST /nope is not 404"
[ "$(code -X POST -d x "$URL/metrics")" = 405 ] || fail "POST is not 405"
[ "$(code -X PUT -d x "$URL/metrics")" = 405 ] || fail "PUT is not 405"
[ "$(code -X OPTIONS "$URL/metrics")" = 405 ] || fail "OPTIONS is not 405"
curl -s -m 5 -D - -o /dev/null -X POST "$URL/metrics" | tr -d '\r' |
    grep -qix 'allow: GET, HEAD' || fail "405 without Allow: GET, HEAD"
[ "$(code "$URL/metrics?x=1")" = 200 ] || fail "a query string is not 200"
[ "$(curl -s -m 5 -I -o /dev/null -w '%{http_code} %{size_download}' \
    "$URL/metrics")" = "200 0" ] || fail "HEAD is not 200 without a body"
[ "$(code -X POST --data-binary @"$LOADD" "$URL/metrics")" = 413 ] ||
    fail "a large body is not refused with 413"

# Scrapes do not leak connection slots.
for i in $(seq 40); do
	[ "$(code "$URL/metrics")" = 200 ] || fail "scrape $i: not 200"
done

# At most 16 HTTP connections: the 17th waits until one closes, and an
# idle one is closed by loadd after 10 s.
idle=()
for i in $(seq 16); do
	exec {fd}<>"/dev/tcp/127.0.0.1/$MPORT"
	idle+=("$fd")
done
t0=$(date +%s)
# (The kernel queues connections in order: these 16 are accepted first.)
sleep 0.5
rc=0
curl -s -m 1 -o /dev/null "$URL/metrics" || rc=$?
[ "$rc" -ne 0 ] || fail "a 17th connection was served"
for fd in "${idle[@]:1}"; do
	exec {fd}>&-
done
wait_for "a scrape after idle connections close" 5 \
    curl -s -m 1 -o /dev/null "$URL/metrics"
rc=0
read -r -t 20 -u "${idle[0]}" _ || rc=$?
[ "$rc" -eq 1 ] || fail "idle HTTP connection not closed by loadd (read: $rc)"
el=$(( $(date +%s) - t0 ))
if [ "$el" -lt 8 ] || [ "$el" -gt 15 ]; then
	fail "idle HTTP connection closed after ${el}s, not about 10s"
fi
fd=${idle[0]}
exec {fd}>&-

# A metrics_listen port in use: loadd refuses to start, exit 1.
BAD=$TMP/bad.conf
cat >"$BAD" <<EOF
daemon = { socket = "$TMP/bad.sock";
  metrics_listen = "127.0.0.1:$(sink_port s)"; };
loads = ( { name = "x"; target = "127.0.0.1:$(sink_port f)"; } );
EOF
rc=0
timeout 10 "$LOADD" -f "$BAD" >"$TMP/bad.out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "loadd with a busy metrics port exited $rc, not 1"
why="metrics_listen 127.0.0.1:$(sink_port s): cannot bind: "
why+="Address already in use"
grep -qF "$why" "$TMP/bad.out" || fail "no clear reason: $(cat "$TMP/bad.out")"
[ ! -e "$TMP/bad.sock" ] || fail "refused loadd left its control socket"

# The running daemon is untouched, and its port closes with it.
[ "$(code "$URL/metrics")" = 200 ] || fail "scrape after the refused start"
stop_loadd
rc=0
curl -s -m 2 -o /dev/null "$URL/metrics" || rc=$?
[ "$rc" -ne 0 ] || fail "metrics still served after loadd exited"
say ok
