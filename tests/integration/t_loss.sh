#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Connections under loss (issue 12), in a private network namespace (only
# its own lo, so nothing can leave) where four sinks and loadd talk over
# 127.0.0.1, with lo's MTU set to Ethernet's 1500.
#
# 1. Why connections died within seconds in the adversarial run (5% loss
#    and a tbf of 4 Mbit/s on lo): a packet dropped on the sending host
#    itself (a shaper's full queue there; here a filter on lo's egress) is
#    "local congestion" to TCP, not loss.  A connection that has nothing in
#    flight and whose sends are all refused that way is probed every 500 ms
#    (TCP_RESOURCE_PROBE_INTERVAL) and aborted after tcp_retries2 (15)
#    probes: ETIMEDOUT about 7.5 s after the refusals begin, whatever the
#    rest of the path does.  The `probe` load (paced, so nothing in flight
#    between its messages) meets that: every connection ends, counted by
#    loadd as a `timeout` disconnect, one for one with the kernel's
#    TcpExtTCPAbortOnTimeout.  The kernel sends nothing when it gives up,
#    so the sink keeps every one of them as a half-open connection.  At the
#    same time a black hole in the network (everything to the paced sink
#    dropped on lo's ingress, after the sender's transmit) kills nothing:
#    retransmission backs off, and gives up only after about 15 minutes.
#    (The flood starts after this part, which runs on a quiet host.)
# 2. Soak: 5% random loss and a 4 Mbit/s bottleneck for 20 s, under a flood
#    (backpressure), a paced load and a request/response load.  The loss is
#    on lo's ingress, so TCP sees a network loss; the bottleneck is a tbf
#    whose queue holds every byte the senders may have in flight (tcp_wmem
#    is capped), so it delays but never drops on the host.  No connection
#    is lost, no error of any kind, the flood is held to the bottleneck's
#    rate, and once the loss is removed loadd's counts equal the sinks'.
#
# Needs root (a network namespace), tc with clsact, cls_bpf (classic
# bytecode, direct action) and tbf, and nsenter; skipped (77) without them.
. "$(dirname "$0")/lib.sh"

for c in unshare ip tc nsenter ss; do
	command -v "$c" >/dev/null || { say "skipped: no $c"; exit 77; }
done
if ! unshare -n true 2>/dev/null; then
	say "skipped: cannot create a network namespace here"
	exit 77
fi

# Classic BPF for cls_bpf in direct-action mode (no gact, netem or nft
# needed): return 2 (TC_ACT_SHOT) to drop, -1 (TC_ACT_UNSPEC) to let the
# packet go on.  RANDOM5: drop when the kernel's random u32 (ld rand, the
# ancillary offset SKF_AD_OFF + SKF_AD_RANDOM) is below 5% of 2^32.
RANDOM5='4,32 0 0 4294963256,53 1 0 214748365,6 0 0 2,6 0 0 4294967295'
# to_port PORT: drop every IPv4 TCP packet to PORT (lo frames carry an
# Ethernet header: ethertype at 12, protocol at 23, TCP after the IP
# header, whose length ldxb reads from byte 14).
to_port() {
	printf '9,40 0 0 12,21 0 6 2048,48 0 0 23,21 0 4 6,177 0 0 14,'
	printf '72 0 0 16,21 0 1 %d,6 0 0 2,6 0 0 4294967295' "$1"
}
# Everything that can fail is tried in a namespace of its own first.
if ! unshare -n sh -c '
	ip link set lo up && tc qdisc add dev lo clsact &&
	tc filter add dev lo ingress prio 1 bpf bytecode "$1" da &&
	tc filter add dev lo egress prio 1 bpf bytecode "$2" da &&
	tc filter del dev lo egress prio 1 &&
	tc qdisc add dev lo root handle 1: tbf rate 10gbit burst 4kb limit 32mb &&
	tc qdisc change dev lo root handle 1: tbf rate 4mbit burst 4kb limit 32mb
' _ "$RANDOM5" "$(to_port 9)" >/dev/null 2>&1; then
	say "skipped: no tc clsact, cls_bpf or tbf here"
	exit 77
fi

# Inside the namespace: lo at MTU 1500, send buffers of 64 KiB at most,
# the qdiscs (clsact for the filters, and the tbf, at 10 Gbit/s until the
# soak), the sinks on fixed ports (nothing else listens in there), then
# loadd.  The qdiscs come before any traffic and stay: adding or deleting
# a qdisc deactivates the device for a moment, and what TCP sends then is
# dropped while counted as sent (lo's TX dropped).  Filters come and go,
# and tbf's rate is changed in place, which drops nothing; its bucket stays
# 4 KB, so it splits every GSO packet to segments at enqueue (a packet
# queued larger than a later, smaller bucket would block it for good).
# unshare execs bash, which execs loadd: $! is loadd's PID, and nsenter -t
# that PID reaches the namespace.  The sinks' PIDs come back in files.
BULK=9001 PACED=9002 RR=9003 PROBE=9004
LOADS="bulk paced rr probe"
P=$TMP/loss.conf
cat >"$P" <<EOF
daemon = { socket = "$SOCK"; stats_interval = "200ms"; workers = 2; };
loads = (
  { name = "bulk"; target = "127.0.0.1:$BULK"; connections = 40;
    size = 1024; rate = "flood"; autostart = false; },
  { name = "paced"; target = "127.0.0.1:$PACED"; connections = 40;
    size = 1024; rate = 2; },
  { name = "rr"; target = "127.0.0.1:$RR"; connections = 20;
    size = 1024; rate = 2; expect = "echo"; reply_timeout = "60s"; },
  { name = "probe"; target = "127.0.0.1:$PROBE"; connections = 20;
    size = 1024; rate = 2; }
);
EOF

unshare -n bash -c '
	set -e
	ip link set lo up
	ip link set lo mtu 1500
	echo "4096 16384 65536" >/proc/sys/net/ipv4/tcp_wmem
	tc qdisc add dev lo clsact
	tc qdisc add dev lo root handle 1: tbf rate 10gbit burst 4kb limit 32mb
	for s in bulk:discard:$6 paced:discard:$7 rr:echo:$8 probe:discard:$9; do
		IFS=: read -r n m port <<<"$s"
		"$1" -l 127.0.0.1:$port -m $m -P "$2/$n.port" -S "$2/$n.sock" \
		    -t 240 -q >>"$2/$n.out" 2>&1 &
		echo $! >"$2/$n.pid"
	done
	for n in bulk paced rr probe; do
		for _ in $(seq 1 200); do
			[ -s "$2/$n.port" ] && break
			sleep 0.05
		done
	done
	exec "$3" -f "$4" -s "$5"
' _ "$SINK" "$TMP" "$LOADD" "$P" "$SOCK" $BULK $PACED $RR $PROBE \
    >>"$TMP/loadd.log" 2>&1 &
LOADD_PID=$!
PIDS+=($!)
for n in $LOADS; do
	wait_for "sink $n pid" 10 test -s "$TMP/$n.pid"
	PIDS+=("$(cat "$TMP/$n.pid")")
done
wait_for "loadd control socket" 10 "$LOADCTL" version
for n in $LOADS; do
	wait_for "sink $n report socket" 10 test -S "$TMP/$n.sock"
done

ns() { nsenter -t "$LOADD_PID" -n "$@"; }
# kstat FILE GROUP FIELD: a counter of the namespace (its own /proc/net).
kstat() {
	ns awk -v g="$2:" -v f="$3" '$1 == g {
	    if (!n) { for (i = 2; i <= NF; i++) k[i] = $i; n = 1 }
	    else for (i = 2; i <= NF; i++) if (k[i] == f) print $i }' \
	    "/proc/net/$1"
}
aborts() { kstat netstat TcpExt TCPAbortOnTimeout; }
# tx_dropped: what lo dropped after TCP counted it sent (none, or a
# connection may be on the retransmission path when it should not be).
tx_dropped() { ns ip -s -j link show lo | jq '.[0].stats64.tx.dropped'; }
# qdisc_drops KIND: packets a qdisc of lo dropped.
qdisc_drops() {
	ns tc -s qdisc show dev lo | awk -v k="$1" '
	    $1 == "qdisc" { q = ($2 == k) }
	    q && $1 == "Sent" { for (i = 1; i <= NF; i++)
	        if ($i == "(dropped") { sub(",", "", $(i + 1)); print $(i + 1) } }'
}
# snap: one line per load: loadd's figures, then the sink's.
snap() {
	local n
	for n in $LOADS; do
		printf '%s %s %s\n' "$n" \
		    "$(ctlj stats | jq -c ".loads[] | select(.name == \"$n\") |
		    {a: .connections_active, ok: .connects_ok,
		    f: .connects_failed, d: .disconnects,
		    e: (.errors | with_entries(select(.value > 0)))}")" \
		    "$(printf 'stats\n' | socat -t 5 - "UNIX-CONNECT:$TMP/$n.sock" |
		    jq -c '{accepted, active, closed, bytes_received}')"
	done
}
# all_up [HALFOPEN]: every load at its target, and each sink agrees (the
# probe sink keeps HALFOPEN connections more).
all_up() {
	local n want extra
	for n in $LOADS; do
		want=$(stat_of connections_target "$n")
		extra=0
		[ "$n" = probe ] && extra=${1:-0}
		[ "$(stat_of connections_active "$n")" = "$want" ] || return 1
		[ "$(sink_stat "$n" active)" = $((want + extra)) ] || return 1
	done
}
# failures: every load's failed connects, disconnects and errors by kind.
failures() {
	ctlj stats | jq -c '[.loads[] | {name, connects_failed, disconnects,
	    errors}]'
}

say "connections up"
wait_for "all connections at the sinks" 20 all_up
BASE=$(failures)
echo "$BASE" | jq -e '[.[] | .connects_failed, .disconnects,
    (.errors | to_entries[] | .value)] | all(. == 0)' >/dev/null ||
    fail "errors before anything was dropped: $(snap)"

say "refused on this host: aborted in seconds; lost in the network: kept"
aborts0=$(aborts)
# Two paced loads alike: everything to the probe sink refused on the way
# out (as a full shaper queue on this host does), everything to the paced
# sink lost on the way in (as a broken link does).  A paced connection has
# nothing in flight between its messages (lo acks at once), so the probe
# load's next message meets the refusal with everything acked: the
# kernel's probe timer takes it.
ns tc filter add dev lo egress prio 1 bpf bytecode "$(to_port $PROBE)" da
ns tc filter add dev lo ingress prio 1 bpf bytecode "$(to_port $PACED)" da
t0=$(date +%s%N)
sleep 1
S=$(ns ss -tino "( dport = :$PROBE )")
grep -q 'timer:(persist,' <<<"$S" ||
    fail "no probe timer on the refused connections: $S"
# About 7.5 s (15 probes 500 ms apart) after each connection's first
# refused message.
for i in $(seq 1 300); do
	[ "$(stat_of disconnects probe)" -ge 20 ] && break
	[ "$i" -lt 300 ] || fail "probe connections left after 30 s:" \
	    "$(snap | grep probe) $(ns ss -tinoe "( dport = :$PROBE )")"
	sleep 0.1
done
say "20 probe connections aborted within" \
    "$(( ($(date +%s%N) - t0) / 1000000 )) ms of the first refusal"
S=$(ns ss -tino "( dport = :$PACED )")
grep -q 'timer:(on,' <<<"$S" ||
    fail "no retransmission timer on the black-holed paced connections: $S"
ns tc filter del dev lo egress prio 1
ns tc filter del dev lo ingress prio 1
wait_for "probe reconnected" 30 stat_is connections_active 20 probe
aborted=$(( $(aborts) - aborts0 ))
J=$(ctlj stats)
say "after: $(snap | tr '\n' ' ') kernel aborts $aborted"
[ "$aborted" -eq 20 ] || fail "$aborted kernel aborts, not 20"
[ "$(tx_dropped)" -eq 0 ] || fail "lo dropped $(tx_dropped) packets as sent"
# Each abort is one disconnect, of kind timeout; the reconnects refused
# meanwhile are failed connects of kind timeout (connect_timeout); the
# black-holed paced connections and the other loads lost nothing.
#
# The kernel reports the abort's ETIMEDOUT once, to the first call that
# meets it.  When that is one of loadd's own paced sends (io_uring or
# send(), conn_sent and conn_write in src/engine/conn.c), loadd keeps it
# for the event callback (conn_send_failed); before it did, libevent's
# next write or read saw EPIPE or the end of the stream and the abort was
# counted as `reset` or `closed_by_peer` (2 of 20, in about one run in
# eight with another test beside).  So: timeout, and nothing else.
echo "$J" | jq -e --argjson a "$aborted" '
    (.loads[] | select(.name == "probe") | .disconnects == $a and
        .errors.timeout == $a + .connects_failed and
        ([.errors | to_entries[] | select(.key != "timeout") | .value] |
        all(. == 0))) and
    ([.loads[] | select(.name != "probe") | .connects_failed, .disconnects,
        (.errors | to_entries[] | .value)] | all(. == 0))' >/dev/null ||
    fail "counts: kernel aborts $aborted, $(snap)"
# The kernel sent nothing when it gave up: the sink still holds every
# aborted connection (it only reads, so it never finds out).
[ "$(sink_stat probe active)" -eq $((20 + aborted)) ] ||
    fail "the probe sink has $(sink_stat probe active), not 20 + $aborted"
[ "$(sink_stat probe closed)" -eq 0 ] || fail "the probe sink saw closes"
# The black-holed load comes back by itself (its retransmission timer).
b=$(sink_stat paced bytes_received)
wait_for "paced flowing again" 30 sink_ge paced bytes_received $((b + 100000))
ctl start bulk >/dev/null
wait_for "bulk connections up" 20 all_up "$aborted"
BASE=$(failures)

say "5% loss and a 4 Mbit/s bottleneck for 20 s"
lost0=$(qdisc_drops clsact)
ns tc filter add dev lo ingress prio 1 bpf bytecode "$RANDOM5" da
# 120 client sockets and 20 echoing ones, 64 KiB each: under 9 MiB in
# flight at most; the queue takes 32 MiB, so tbf never drops on the host.
ns tc qdisc change dev lo root handle 1: tbf rate 4mbit burst 4kb limit 32mb
retrans0=$(kstat snmp Tcp RetransSegs)
aborts0=$(aborts)
bytes0=$(sink_stat bulk bytes_received)
t0=$(date +%s%N)
for i in $(seq 1 10); do
	sleep 2
	[ "$(failures)" = "$BASE" ] ||
	    fail "under loss, after $((i * 2)) s: $(snap)"
done
bytes=$(( $(sink_stat bulk bytes_received) - bytes0 ))
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
lost=$(( $(qdisc_drops clsact) - lost0 ))
retrans=$(( $(kstat snmp Tcp RetransSegs) - retrans0 ))
say "under loss: $(snap | tr '\n' ' ')"
say "$lost packets lost, $retrans segments retransmitted, tbf dropped" \
    "$(qdisc_drops tbf), bulk got $bytes bytes in $ms ms"
[ "$lost" -gt 100 ] || fail "only $lost packets lost"
[ "$retrans" -gt 0 ] || fail "no retransmission under loss"
[ "$(qdisc_drops tbf)" -eq 0 ] || fail "the bottleneck dropped on the host"
[ "$(aborts)" -eq "$aborts0" ] || fail "the kernel aborted connections"
# The bottleneck holds: 4 Mbit/s is 500,000 bytes a second, headers
# included, plus the bucket and a second of slack; and it is used.
[ "$bytes" -le $(( 500000 * (ms / 1000 + 1) + 4096 )) ] ||
    fail "$bytes bytes through a 4 Mbit/s bottleneck in $ms ms"
[ "$bytes" -ge $(( 500000 * ms / 1000 / 4 )) ] ||
    fail "only $bytes bytes through the bottleneck in $ms ms"

say "loss removed: loadd's counts equal the sinks'"
ns tc filter del dev lo ingress prio 1
ns tc qdisc change dev lo root handle 1: tbf rate 10gbit burst 4kb limit 32mb
wait_for "bottleneck drained" 20 sh -c \
    "nsenter -t $LOADD_PID -n tc -s qdisc show dev lo | grep -q 'backlog 0b 0p'"
replies=$(stat_of replies rr)
wait_for "echo replies again" 30 stat_ge replies $((replies + 100)) rr
wait_for "loadd and the sinks agree" 10 all_up "$aborted"
[ "$(failures)" = "$BASE" ] || fail "errors after the loss: $(snap)"
[ "$(tx_dropped)" -eq 0 ] || fail "lo dropped $(tx_dropped) packets as sent"
[ "$(qdisc_drops tbf)" -eq 0 ] || fail "tbf dropped on the host"

stop_loadd
say ok
