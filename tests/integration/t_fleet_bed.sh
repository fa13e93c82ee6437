#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The fleet's test bed (fleet_lib.sh, issue 13), driven with plain loadctl
# run on each host over ssh: two hosts in network namespaces of their own,
# each with its own sshd and loadd, on a bridge with a sink that counts
# connections by source address.  ssh lands in the right namespace;
# `loadctl status` run there answers for that host's daemon; each host's
# web scaled to 500 shows at the sink as 500 from that host's address;
# a daemon killed loses its connections at the sink (and only its own);
# restarted, it comes back with its profile's floor (0) and scales again.
#
# FLEET_BIG=1: the 95,000-connection version instead (5 hosts x 19,000,
# 6 sinks sharing the port with SO_REUSEPORT); it reports the time to
# reach 95,000 at the sinks and the memory it took.  Not run by ctest
# (bench/fleet-bed runs it); needs a hard open-file limit of 19,100 or
# more and a few GB of memory.
#
# Traffic stays in the namespaces' 198.18.K.0/24 (198.18.0.0/15 is
# reserved for network benchmarks); skipped (77) only where network
# namespaces cannot be made.
. "$(dirname "$0")/lib.sh"

# The bed's settings (read when fleet_lib.sh is sourced and by fleet_bed).
if [ "${FLEET_BIG:-0}" = 1 ]; then
	HOSTS=5 PER=19000
	export FLEET_SINKS=6 FLEET_LIFE=${FLEET_LIFE:-900}
	export FLEET_WEB='rate = 0; connect_rate = 20000;'
	hard=$(ulimit -H -n)
	[ "$hard" = unlimited ] || [ "$hard" -ge 19100 ] ||
	    fail "FLEET_BIG needs a hard open-file limit of 19100+ (it is $hard)"
else
	HOSTS=2 PER=500
fi
. "$(dirname "$0")/fleet_lib.sh"

# src_is ADDR N: the sinks hold N connections from ADDR.
src_is() { [ "$(fleet_sink_source "$1")" = "$2" ]; }
# web_at I N: host I's loadd counts N connections of web.
web_at() {
	[ "$(fleet_ctl "$1" -j stats | jq '.loads[] | select(.name == "web") |
	    .connections_active')" = "$2" ]
}
kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
slab_kib() { awk '$1 == "Slab:" { print $2 }' /proc/meminfo; }

if [ "${FLEET_BIG:-0}" = 1 ]; then
	slab0=$(slab_kib)
	free0=$(awk '$1 == "MemAvailable:" { print $2 }' /proc/meminfo)
	fleet_bed "$HOSTS" "$PER"
	TOTAL=$((HOSTS * PER))
	say "scale web to $PER on each of $HOSTS hosts (plain loadctl over ssh)"
	t0=$(date +%s%N)
	for i in $(seq 1 "$HOSTS"); do
		fleet_ctl "$i" scale web "$PER" >"$TMP/scale$i.out" 2>&1 &
		SCALE[i]=$!
	done
	for i in $(seq 1 "$HOSTS"); do
		wait "${SCALE[$i]}" || fail "host $i: scale: $(cat "$TMP/scale$i.out")"
	done
	t_cmd=$(( ($(date +%s%N) - t0) / 1000000 ))
	deadline=$((SECONDS + 300))
	until [ "$(fleet_sink_sum active)" = "$TOTAL" ]; do
		[ "$SECONDS" -lt "$deadline" ] ||
		    fail "not $TOTAL after 300 s: $(fleet_sink_sources)"
		sleep 0.2
	done
	t_all=$(( ($(date +%s%N) - t0) / 1000000 ))
	say "$TOTAL at the sinks ${t_all} ms after the first scale" \
	    "(the $HOSTS ssh commands took ${t_cmd} ms)"
	S=$(fleet_sink_sources)
	say "by source: $S"
	for i in $(seq 1 "$HOSTS"); do
		[ "$(jq --arg a "$(fleet_addr "$i")" '.[$a]' <<<"$S")" = "$PER" ] ||
		    fail "host $i: not $PER at the sinks: $S"
		web_at "$i" "$PER" || fail "host $i's loadd: $(fleet_ctl "$i" -j stats |
		    jq -c '.loads[0] | {connections_active, connects_failed, errors}')"
	done
	say "per sink: $(fleet_sink_json | jq -s -c 'map(.active)')" \
	    "(peak $(fleet_sink_json | jq -s -c 'map(.peak)'))"
	rss=
	for i in $(seq 1 "$HOSTS"); do
		rss="$rss $(kib "$(fleet_loadd_pid "$i")" VmRSS)"
	done
	srss=
	for p in "${FLEET_SINK_PIDS[@]}"; do
		srss="$srss $(kib "$p" VmRSS)"
	done
	say "RSS KiB: loadd$rss; sinks$srss"
	say "kernel slab +$(( ($(slab_kib) - slab0) / 1024 )) MiB," \
	    "MemAvailable -$(( (free0 - $(awk '$1 == "MemAvailable:" { print $2 }' \
	    /proc/meminfo)) / 1024 )) MiB since before the bed"
	say "errors: $(for i in $(seq 1 "$HOSTS"); do fleet_ctl "$i" -j stats |
	    jq -c '.loads[0] | [.connects_failed, .disconnects]'; done | tr '\n' ' ')"
	say "kill host 1's loadd: its $PER leave the sinks"
	fleet_kill_host 1
	wait_for "host 1's connections gone" 60 src_is "$(fleet_addr 1)" 0
	[ "$(fleet_sink_sum active)" = $((TOTAL - PER)) ] ||
	    fail "after the kill: $(fleet_sink_sources)"
	t0=$(date +%s%N)
	for i in $(seq 2 "$HOSTS"); do
		fleet_ctl "$i" scale web 0 >/dev/null
	done
	wait_for "every connection closed" 120 sh -c \
	    "[ \"\$(for j in \$(seq 1 $FLEET_SINKS); do printf 'stats\n' |
	    socat -t 5 - UNIX-CONNECT:$TMP/sink\$j.sock; done |
	    jq -s 'map(.active) | add')\" = 0 ]"
	say "scaled down to 0 in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
	say ok
	exit 0
fi

fleet_bed "$HOSTS" 1000

say "ssh lands in each host's namespace"
for i in $(seq 1 "$HOSTS"); do
	a=$(fleet_ssh "$i" ip -4 -o addr show dev eth0)
	[[ "$a" == *" $(fleet_addr "$i")/24 "* ]] ||
	    fail "host $i: ssh ran where eth0 is: $a"
done
# The host keys are checked: a host key that is not the one known fails.
awk -v a="$(fleet_addr 2)" -v k="$(cut -d' ' -f2 "$TMP/fleet_key.pub")" \
    '$1 == a { $3 = k } { print }' "$TMP/known_hosts" >"$TMP/known_hosts.wrong"
cmp -s "$TMP/known_hosts" "$TMP/known_hosts.wrong" && fail "no key changed"
if timeout 20 ssh -F "$FLEET_SSH_CONFIG" \
    -o "UserKnownHostsFile=$TMP/known_hosts.wrong" "root@$(fleet_addr 2)" true \
    2>"$TMP/wrongkey.err"; then
	fail "ssh took a host key that is not the known one"
fi
grep -q "REMOTE HOST IDENTIFICATION HAS CHANGED\|Host key verification failed" \
    "$TMP/wrongkey.err" || fail "wrong host key: $(cat "$TMP/wrongkey.err")"

say "loadctl status, run on each host, answers for that host"
for i in $(seq 1 "$HOSTS"); do
	J=$(fleet_ctl "$i" -j status)
	jq -e --argjson pid "$(fleet_loadd_pid "$i")" '.ok and .pid == $pid and
	    (.loads | length) == 1 and .loads[0].name == "web" and
	    .loads[0].state == "running" and .loads[0].connections_target == 0 and
	    .loads[0].max_connections == 1000' <<<"$J" >/dev/null ||
	    fail "host $i: status: $(jq -c '{ok, pid, loads: [.loads[] |
	        {name, state, connections_target, max_connections}]}' <<<"$J")"
done
[ "$(fleet_sink_sum active)" = 0 ] || fail "connections before any scale"

say "fleet.conf names each host with its address and socket"
for i in $(seq 1 "$HOSTS"); do
	grep -q "name = \"h$i\"; ssh = \"root@$(fleet_addr "$i")\"; socket = \"$(fleet_sock "$i")\"; cap = 1000;" \
	    "$FLEET_CONF" || fail "host $i not in $FLEET_CONF: $(cat "$FLEET_CONF")"
done
grep -q "ssh_options = \[ \"-F\", \"$FLEET_SSH_CONFIG\" \];" "$FLEET_CONF" ||
    fail "no ssh_options in $FLEET_CONF"

say "scale web to $PER on each host, with loadctl run there"
for i in $(seq 1 "$HOSTS"); do
	fleet_ctl "$i" scale web "$PER" >/dev/null
done
for i in $(seq 1 "$HOSTS"); do
	wait_for "$PER from host $i at the sink" 30 src_is "$(fleet_addr "$i")" "$PER"
	wait_for "host $i's loadd at $PER" 10 web_at "$i" "$PER"
done
S=$(fleet_sink_sources)
[ "$(jq 'length' <<<"$S")" = "$HOSTS" ] || fail "sources: $S"
[ "$(fleet_sink_sum active)" = $((HOSTS * PER)) ] || fail "sink: $S"
say "sink by source: $S"

say "host 2's daemon killed: its connections leave, host 1's stay"
fleet_kill_host 2
wait_for "host 2's connections gone" 20 src_is "$(fleet_addr 2)" 0
src_is "$(fleet_addr 1)" "$PER" || fail "host 1 lost some: $(fleet_sink_sources)"
if out=$(fleet_ctl 2 status 2>&1); then
	fail "loadctl status on host 2 with its daemon dead: $out"
fi

say "host 2 restarted: its floor (0), then scaled again"
fleet_start_host 2
web_at 2 0 || fail "host 2 restarted with connections"
fleet_ctl 2 scale web 100 >/dev/null
wait_for "100 from host 2" 30 src_is "$(fleet_addr 2)" 100
src_is "$(fleet_addr 1)" "$PER" || fail "host 1 moved: $(fleet_sink_sources)"
say ok
