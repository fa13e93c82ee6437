#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# bench/udp.sh -- paced UDP: 10 sockets x 20,000 datagrams/s of 64 bytes
# (200,000/s) for -d seconds into the sink's discard mode, first the bare
# reference (loadd-udpblast: clock_nanosleep to each 1 ms tick, one
# sendmmsg() per socket), then loadd on one worker, against the same sink
# in the same run.  The sink's own counters are the ground truth for what
# arrived; loadd's CPU seconds come from /proc/PID/stat, the reference's
# from getrusage.  Bounded in time; traffic goes to 127.0.0.1 only.
#
#   bench/udp.sh [-b BUILD] [-d SECONDS] [-w WORKERS]
#
# Prints one JSON line per run.  UDPBLAST: the reference binary (default
# BUILD/loadd-udpblast; built by hand if missing, see bench/udpblast.c).
set -euo pipefail
cd "$(dirname "$0")/.."

B=build DUR=10 WORKERS=1
while getopts "b:d:w:h" o; do
	case $o in
	b) B=$OPTARG ;;
	d) DUR=$OPTARG ;;
	w) WORKERS=$OPTARG ;;
	*) sed -n '2,14p' "$0"; exit 2 ;;
	esac
done
CONNS=10 RATE=20000 SIZE=64
INTENDED=$((CONNS * RATE * DUR))

TMP=$(mktemp -d /tmp/loadd-udpbench.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
export LOADD_SOCKET=$TMP/loadd.sock
HZ=$(getconf CLK_TCK)

UDPBLAST=${UDPBLAST:-$B/loadd-udpblast}
if [ ! -x "$UDPBLAST" ]; then
	UDPBLAST=$TMP/udpblast
	cc -std=c11 -D_GNU_SOURCE -O2 -Wall -o "$UDPBLAST" bench/udpblast.c \
	    $(pkg-config --cflags --libs liburing)
fi

cpu_s() { awk -v hz="$HZ" '{ print ($14 + $15) / hz }' "/proc/$1/stat"; }
sink() { printf '%s\n' "$1" | socat -t 5 - "UNIX-CONNECT:$TMP/sink.sock"; }
until_ok() {
	local deadline=$(( $(date +%s) + $1 ))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$deadline" ] || { echo "bench: timed out: $*" >&2; exit 1; }
		sleep 0.05
	done
}

"$B/loadd-sink" -u 127.0.0.1:0 -l 127.0.0.1:0 -P "$TMP/port" \
    -S "$TMP/sink.sock" -t $((DUR * 3 + 60)) -q >/dev/null 2>&1 &
PIDS+=($!)
until_ok 10 test -s "$TMP/port"
until_ok 10 test -S "$TMP/sink.sock"
PORT=$(sed -n 2p "$TMP/port")

# The reference.
sink reset >/dev/null
ref=$(timeout $((DUR + 30)) "$UDPBLAST" -p "$PORT" -c "$CONNS" -r "$RATE" \
    -s "$SIZE" -d "$DUR")
sleep 0.3
ref_rcv=$(sink stats | jq .datagrams_received)

# loadd: started stopped, so the connects are outside the window.
cat >"$TMP/p.conf" <<EOF
daemon = { socket = "$TMP/loadd.sock"; workers = $WORKERS; };
loads = ( { name = "udp"; protocol = "udp"; target = "127.0.0.1:$PORT";
    connections = $CONNS; rate = $RATE.0; size = $SIZE;
    autostart = false; } );
EOF
timeout $((DUR + 60)) "$B/loadd" -f "$TMP/p.conf" >"$TMP/loadd.log" 2>&1 &
T_PID=$!
PIDS+=($!)
# The CPU is loadd's own, not timeout's: its child.
until_ok 10 pgrep -P "$T_PID"
LOADD_PID=$(pgrep -P "$T_PID")
until_ok 10 "$B/loadctl" version
sink reset >/dev/null
c0=$(cpu_s "$LOADD_PID")
t0=$(date +%s.%N)
"$B/loadctl" start udp >/dev/null
sleep "$DUR"
"$B/loadctl" stop udp >/dev/null
t1=$(date +%s.%N)
c1=$(cpu_s "$LOADD_PID")
sleep 0.3
sent=$("$B/loadctl" -j stats | jq '.loads[0].messages_sent')
rcv=$(sink stats | jq .datagrams_received)
kill -TERM "$LOADD_PID"
wait "$T_PID" || true

secs=$(echo "$t1 - $t0" | bc -l)
cpu=$(echo "$c1 - $c0" | bc -l)
per=$(echo "$cpu / ($sent / 1000000)" | bc -l)
ref_per=$(echo "$ref" | jq .cpu_s_per_million)
ref_sent=$(echo "$ref" | jq .datagrams)
printf '{"bench":"udp_paced","sockets":%d,"rate_per_socket":%d,"size":%d,"seconds":%.3f,"workers":%d,"intended":%d,"loadd":{"sent":%d,"received":%d,"sent_pct_of_intended":%.2f,"received_pct_of_sent":%.2f,"cpu_s":%.3f,"cpu_s_per_million":%.3f},"ref":{"sent":%d,"received":%d,"sent_pct_of_intended":%.2f,"received_pct_of_sent":%.2f,"cpu_s_per_million":%.3f},"ratio_cpu_per_million":%.3f}\n' \
    "$CONNS" "$RATE" "$SIZE" "$secs" "$WORKERS" "$INTENDED" \
    "$sent" "$rcv" "$(echo "100 * $sent / ($CONNS * $RATE * $secs)" | bc -l)" \
    "$(echo "100 * $rcv / $sent" | bc -l)" "$cpu" "$per" \
    "$ref_sent" "$ref_rcv" "$(echo "100 * $ref_sent / $INTENDED" | bc -l)" \
    "$(echo "100 * $ref_rcv / $ref_sent" | bc -l)" "$ref_per" \
    "$(echo "$per / $ref_per" | bc -l)"

# The same bare loop submitting each tick's datagrams through io_uring
# (one send a datagram, one submission a tick): is io_uring cheaper than
# sendmmsg for UDP?
sink reset >/dev/null
timeout $((DUR + 30)) "$UDPBLAST" -u -p "$PORT" -c "$CONNS" -r "$RATE" \
    -s "$SIZE" -d "$DUR" | jq -c '{bench: "udp_paced_ref_io_uring",
    sent: .datagrams, cpu_s_per_million, vs_sendmmsg:
    (.cpu_s_per_million / '"$ref_per"')}'

# iperf3 -u at the same packet rate and size, for its CPU (its own server
# receives: 10 streams of 64-byte datagrams at 20,000/s each).  The
# client's CPU from the kernel's rusage of the child.
if command -v iperf3 >/dev/null && command -v python3 >/dev/null; then
	IP=$((20000 + RANDOM % 10000))
	timeout $((DUR + 30)) iperf3 -s -1 -B 127.0.0.1 -p "$IP" >/dev/null 2>&1 &
	PIDS+=($!)
	sleep 0.5
	python3 - "$IP" "$DUR" "$CONNS" "$RATE" "$SIZE" <<'PY'
import json, resource, subprocess, sys
port, dur, conns, rate, size = sys.argv[1:6]
bw = int(rate) * int(size) * 8			# bits/s per stream
cmd = ["timeout", str(int(dur) + 30), "iperf3", "-c", "127.0.0.1", "-p", port,
       "-u", "-l", size, "-b", str(bw), "-P", conns, "-t", dur, "-J"]
out = subprocess.run(cmd, capture_output=True, text=True).stdout
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = ru.ru_utime + ru.ru_stime
try:
	j = json.loads(out)
	pk = j["end"]["sum"]["packets"]
	lost = j["end"]["sum"].get("lost_packets", 0)
except Exception:
	pk, lost = 0, 0
print(json.dumps({"bench": "udp_paced_iperf3", "packets": pk,
    "lost": lost, "cpu_s": round(cpu, 3),
    "cpu_s_per_million": round(cpu / (pk / 1e6), 3) if pk else None,
    "sent_pct_of_intended": round(100 * pk / (int(conns) * int(rate) * int(dur)), 2)}))
PY
fi
