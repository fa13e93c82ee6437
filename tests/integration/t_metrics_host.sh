#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The host label of /metrics (issue 13): every series carries
# host="daemon.host", or the machine's host name (uname -n, which is what
# gethostname() reads) when the profile has none; a reload that changes
# daemon.host relabels the next scrape, and one with a bad daemon.host is
# refused with FILE:LINE and changes nothing.  Two daemons (two "hosts" on
# this machine) show the very same histogram buckets (le), so that their
# buckets add up in Prometheus.
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null || fail "curl is needed (sh .ci/deps installs it)"

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
PA=$(free_port)
PB=$(free_port)
[ "$PA" != "$PB" ] || fail "the same port twice: $PA"

start_sink s -m echo
# write NAME PORT SOCKET HOST-LINE: a profile with one echo load.
write() {
	cat >"$TMP/$1.conf" <<EOF
daemon = { socket = "$3"; stats_interval = "200ms"; workers = 2;
  metrics_listen = "127.0.0.1:$2"; $4 };
loads = ( { name = "$1"; target = "127.0.0.1:$(sink_port s)";
  connections = 2; expect = "echo"; size = 32; rate = 50.0; } );
EOF
}
scrape() { curl -sf -m 5 -o "$2" "http://127.0.0.1:$1/metrics"; }
# hosts PAGE: the host label values of every series in PAGE, one a line,
# and "none" for a series without one.
hosts() {
	grep -v '^#' "$1" |
	    sed -n 's/^[a-z0-9_]*{host="\([^"]*\)"[,}].*/\1/p; t; s/.*/none/p' |
	    sort -u
}
# only_host PAGE HOST: every series of PAGE has host="HOST" first.
only_host() {
	local got
	got=$(hosts "$1")
	[ "$got" = "$2" ] || fail "$1: host labels '$got', wanted only '$2'"
}

say "daemon.host = \"lg-a.example\": on every series"
write a "$PA" "$SOCK" 'host = "lg-a.example";'
start_loadd "$TMP/a.conf"
# has_count PORT FILE: a scrape with latency recorded (for wait_for).
has_count() {
	scrape "$1" "$2" &&
	    grep -q '^loadd_latency_seconds_count{host="[^"]*",load="[a-z]*"} [1-9]' \
	    "$2"
}
wait_for "latency on a's page" 20 has_count "$PA" "$TMP/a1"
only_host "$TMP/a1" lg-a.example
grep -qx 'loadd_up{host="lg-a.example"} 1' "$TMP/a1" || fail "no loadd_up"
grep -q '^loadd_latency_seconds_bucket{host="lg-a.example",load="a",le="0.001"} ' \
    "$TMP/a1" || fail "no bucket with host, load and le"

say "no daemon.host: the machine's host name, $(uname -n)"
B_SOCK=$TMP/b.sock
write b "$PB" "$B_SOCK" ''
"$LOADD" -f "$TMP/b.conf" >>"$TMP/b.log" 2>&1 &
B_PID=$!
PIDS+=("$B_PID")
wait_for "b's control socket" 10 "$LOADCTL" -s "$B_SOCK" version
wait_for "latency on b's page" 20 has_count "$PB" "$TMP/b1"
only_host "$TMP/b1" "$(uname -n)"

say "both hosts: the same buckets for every histogram"
# les PAGE: each histogram's name and its le values in order, one a line.
les() {
	sed -n 's/^\(loadd_[a-z_]*_bucket\){host="[^"]*",load="[^"]*",\(le="[^"]*"\)}.*/\1 \2/p' \
	    "$1"
}
les "$TMP/a1" >"$TMP/a1.le"
les "$TMP/b1" >"$TMP/b1.le"
[ "$(wc -l <"$TMP/a1.le")" -ge 44 ] ||
    fail "too few buckets on a's page: $(wc -l <"$TMP/a1.le")"
diff "$TMP/a1.le" "$TMP/b1.le" || fail "the two hosts' buckets differ"
# Each histogram has the same 22 bounds, the same for every name.
awk '{ print $2 }' "$TMP/a1.le" | sort | uniq -c |
    awk '{ print $1 }' | sort -u >"$TMP/per-le"
[ "$(cat "$TMP/per-le")" = "$(awk '{ print $1 }' "$TMP/a1.le" | sort -u | wc -l)" ] ||
    fail "not every histogram has every bound: $(cat "$TMP/per-le")"
[ "$(awk '{ print $2 }' "$TMP/a1.le" | sort -u | wc -l)" -eq 22 ] ||
    fail "not 22 bounds"

say "a reload that changes daemon.host relabels the next scrape"
write a "$PA" "$SOCK" 'host = "lg-a2";'
ctl reload >/dev/null
scrape "$PA" "$TMP/a2" || fail "scrape after the reload"
only_host "$TMP/a2" lg-a2

say "a reload with a bad daemon.host is refused; the label stays"
for bad in '""' '"lg\"x"' '"lg\\x"' '"lg\nx"' '"lg-é"' '7' \
    "\"$(printf 'h%.0s' $(seq 65))\""; do
	write a "$PA" "$SOCK" "host = $bad;"
	rc=0
	out=$("$LOADCTL" reload 2>&1) || rc=$?
	[ "$rc" -eq 1 ] || fail "reload with host = $bad: exit $rc ($out)"
	grep -q "$TMP/a.conf:2: .*host" <<<"$out" ||
	    fail "reload with host = $bad: no FILE:LINE: $out"
	rc=0
	out=$("$LOADD" -n -f "$TMP/a.conf" 2>&1) || rc=$?
	[ "$rc" -eq 1 ] || fail "loadd -n with host = $bad: exit $rc"
	grep -q "^$TMP/a.conf:2: .*host" <<<"$out" ||
	    fail "loadd -n with host = $bad: $out"
	scrape "$PA" "$TMP/a3" || fail "scrape after a refused reload"
	only_host "$TMP/a3" lg-a2
done

stop_loadd
kill -TERM "$B_PID"
rc=0
wait "$B_PID" || rc=$?
[ "$rc" -eq 0 ] || fail "b exited $rc"
say ok
