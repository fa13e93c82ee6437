#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The control plane under hostile or broken clients (issue 12): a client
# that never reads its replies, a half-closed client with many requests, a
# last request without a newline, slow clients at max_clients (and at
# /metrics), a socket path held by a listener that never accepts, SIGUSR1,
# the read-only socket, the peer's credentials in the log, and the spare
# descriptors that let an operator in when the rest are taken.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || { say "skip: no python3"; exit 77; }
# The interpreter itself: a version manager's shim can take a second to start.
PY=$(python3 -c 'import sys; print(sys.executable)')

start_sink s
MPORT=$(low_port)
RO=$TMP/status.sock
P=$TMP/hard.conf
cat >"$P" <<CONF
daemon = { socket = "$SOCK"; status_socket = "$RO"; status_socket_mode = "0666";
  max_clients = 4; client_timeout = "2s"; stats_interval = "200ms"; workers = 2;
  metrics_listen = "127.0.0.1:$MPORT"; };
loads = ( { name = "web"; target = "127.0.0.1:$(sink_port s)"; connections = 3;
  max_connections = 400; rate = 10.0; } );
CONF
start_loadd "$P"
wait_for "3 connections at the sink" 10 sink_is s active 3

# now_ms: monotonic enough for a few seconds' deadline.
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# ------------------------------------------------------------------ 3
say "a client that never reads: bounded memory, dropped"
cat >"$TMP/noread.py" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.settimeout(0.2)
req = b"stats\n" * 2000
sent, end = 0, time.time() + float(sys.argv[2])
while time.time() < end:
    try:
        sent += s.send(req)
    except socket.timeout:
        continue
    except OSError as e:
        print("dropped after %d bytes: %s" % (sent, e.strerror))
        sys.exit(0)
print("still connected after %d bytes" % sent)
PY
rss0=$(rss_kib "$LOADD_PID")
out=$(timeout 20 "$PY" "$TMP/noread.py" "$SOCK" 12)
rss1=$(rss_kib "$LOADD_PID")
say "  $out; RSS ${rss0} -> ${rss1} KiB"
case "$out" in dropped*) ;; *) fail "a client that never reads: $out" ;; esac
[ $((rss1 - rss0)) -lt 65536 ] || fail "RSS grew by $((rss1 - rss0)) KiB"
grep -q "not reading its replies.*dropped" "$TMP/loadd.log" ||
    fail "the drop was not logged"
ctl version >/dev/null || fail "loadctl after the non-reader"

# ------------------------------------------------------------------ 4
say "half-closed after 301 requests: 301 replies, the last one applied"
n=$( { for _ in $(seq 300); do echo status; done; echo "scale web 4"; } |
    socat -t 10 - "UNIX-CONNECT:$SOCK" | tee "$TMP/half.out" |
    jq -e '.ok' | grep -c true || true)
[ "$n" -eq 301 ] || fail "half-close: $n good replies of 301"
tail -n1 "$TMP/half.out" | jq -e '.previous == 3 and .connections_scale == 4' \
    >/dev/null || fail "last reply: $(tail -n1 "$TMP/half.out" | head -c 300)"
ctl scale web 3 >/dev/null

# ----------------------------------------------------------------- 15
say "a request without its final newline, then end of file"
out=$(printf 'version' | socat -t 5 - "UNIX-CONNECT:$SOCK")
echo "$out" | jq -e '.ok and .protocol == 2' >/dev/null ||
    fail "no final newline: '$out'"
out=$(printf 'version\r\nstatus' | socat -t 5 - "UNIX-CONNECT:$SOCK" | wc -l)
[ "$out" -eq 2 ] || fail "two requests, the last without newline: $out replies"

# ------------------------------------------------------------------ 8
say "max_clients clients trickling a byte at a time: loadctl still gets in"
cat >"$TMP/trickle.py" <<'PY'
import socket, sys, time
family = socket.AF_UNIX if sys.argv[1] == "unix" else socket.AF_INET
addr = sys.argv[2] if family == socket.AF_UNIX else ("127.0.0.1", int(sys.argv[2]))
msg = sys.argv[3].encode().decode("unicode_escape").encode()
s = socket.socket(family, socket.SOCK_STREAM)
s.connect(addr)
s.settimeout(0.5)
print("connected", flush=True)
got = b""
for i in range(200):
    try:
        s.send(msg[i % len(msg):i % len(msg) + 1])
        d = s.recv(4096)
        if not d:
            break
        got += d
    except socket.timeout:
        continue
    except OSError:
        break
print(got.decode(errors="replace").strip() or "closed, nothing", flush=True)
PY
TR=()
for i in 1 2 3 4; do
	"$PY" "$TMP/trickle.py" unix "$SOCK" 'status extra words\n' \
	    >"$TMP/trickle.$i" 2>&1 &
	TR+=($!)
	PIDS+=($!)
done
for i in 1 2 3 4; do
	wait_for "trickler $i connected" 10 grep -q connected "$TMP/trickle.$i"
done
sleep 1.2
t0=$(now_ms)
timeout 10 "$LOADCTL" status >/dev/null || fail "loadctl status refused"
timeout 10 "$LOADCTL" scale web 3 >/dev/null || fail "loadctl scale refused"
t1=$(now_ms)
say "  two loadctl requests in $((t1 - t0)) ms beside 4 tricklers"
[ $((t1 - t0)) -lt 5000 ] || fail "loadctl took $((t1 - t0)) ms"
# A trickler has 2s (client_timeout) from its first byte, not from each.
for p in "${TR[@]}"; do wait "$p" || true; done
grep -q "request not complete within 2s\|dropped for a new one" \
    "$TMP"/trickle.* || fail "tricklers: $(cat "$TMP"/trickle.*)"
grep -q "request not complete within 2s" "$TMP"/trickle.* ||
    fail "no trickler hit the 2s deadline: $(cat "$TMP"/trickle.*)"

say "16 slow HTTP clients: /metrics still answers"
TR=()
for i in $(seq 16); do
	"$PY" "$TMP/trickle.py" tcp "$MPORT" 'GET /metrics HTTP/1.1\r\n' \
	    >"$TMP/http.$i" 2>&1 &
	TR+=($!)
	PIDS+=($!)
done
for i in $(seq 16); do
	wait_for "HTTP trickler $i connected" 10 grep -q connected "$TMP/http.$i"
done
sleep 1.2
t0=$(now_ms)
# A loaded machine may need a second try; a locked-out /metrics never answers.
ok=0
for _ in 1 2 3; do
	if curl -sf -m 8 "http://127.0.0.1:$MPORT/metrics" | grep -q '^loadd_up{host="[^"]*"} 1$'; then
		ok=1
		break
	fi
done
[ "$ok" -eq 1 ] || fail "/metrics beside 16 slow clients"
t1=$(now_ms)
say "  /metrics in $((t1 - t0)) ms beside 16 slow clients"
[ $((t1 - t0)) -lt 25000 ] || fail "/metrics took $((t1 - t0)) ms"
for p in "${TR[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done

# ----------------------------------------------------------------- 11
say "a socket path held by a listener that never accepts"
cat >"$TMP/busy.py" <<'PY'
import os, socket, sys, time
path = sys.argv[1]
l = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
l.bind(path)
l.listen(0)
held = []
for _ in range(8):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.setblocking(False)
    try:
        c.connect(path)
        held.append(c)
    except BlockingIOError:
        break
print("backlog full after %d" % len(held), flush=True)
time.sleep(60)
PY
"$PY" "$TMP/busy.py" "$TMP/busy.sock" >"$TMP/busy.out" 2>&1 &
BUSY=$!
PIDS+=("$BUSY")
wait_for "busy listener" 5 grep -q "backlog full" "$TMP/busy.out"
t0=$(now_ms)
rc=0
out=$(timeout 15 "$LOADD" -f "$P" -s "$TMP/busy.sock" 2>&1) || rc=$?
t1=$(now_ms)
[ "$rc" -eq 1 ] || fail "loadd on a busy path: exit $rc ($out)"
case "$out" in *"does not accept"*) ;; *) fail "busy path: $out" ;; esac
[ $((t1 - t0)) -lt 5000 ] || fail "the probe took $((t1 - t0)) ms"
[ -S "$TMP/busy.sock" ] || fail "the live listener's socket was removed"
kill "$BUSY"; wait "$BUSY" 2>/dev/null || true

# ----------------------------------------------------------------- 13
say "SIGUSR1: every load's stats in the log, the daemon carries on"
kill -USR1 "$LOADD_PID"
wait_for "SIGUSR1 stats line" 5 grep -q "SIGUSR1: load web: state=running" \
    "$TMP/loadd.log"
grep "SIGUSR1: load web:" "$TMP/loadd.log" | tail -n1 |
    grep -q "connections_active=3 .*messages_sent=[1-9]" ||
    fail "SIGUSR1 line: $(grep 'SIGUSR1: load' "$TMP/loadd.log" | tail -n1)"
kill -0 "$LOADD_PID" || fail "loadd died of SIGUSR1"
ctl version >/dev/null || fail "no reply after SIGUSR1"

# ------------------------------------------------------ who steers
say "the read-only socket answers status and refuses scale"
[ "$(stat -c %a "$RO")" = 666 ] || fail "status socket mode $(stat -c %a "$RO")"
"$LOADCTL" -s "$RO" status >/dev/null || fail "status on the read-only socket"
"$LOADCTL" -s "$RO" -j stats | jq -e '.loads[0].name == "web"' >/dev/null ||
    fail "stats on the read-only socket"
expect_refused "read-only socket" -s "$RO" scale web 7
expect_refused "read-only socket" -s "$RO" reload
[ "$(stat_of connections_scale web)" -eq 3 ] || fail "the refused scale applied"

say "who changed a load is logged with uid and pid"
cat >"$TMP/who.py" <<'PY'
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b"scale web 5\n")
s.recv(4096)
print(os.getpid())
PY
pypid=$("$PY" "$TMP/who.py" "$SOCK")
wait_for "scale logged with the peer" 5 grep -q \
    "(uid $(id -u), pid $pypid): scale web 5: done" "$TMP/loadd.log"
grep -q "read-only socket): scale web 7: refused: read-only socket" \
    "$TMP/loadd.log" || fail "the refused scale on the read-only socket is not logged"
ctl scale web 3 >/dev/null

# -------------------------------------------------- descriptor reserve
say "descriptors all taken: loadctl still answers, on a spare one"
ctl scale web 60 >/dev/null
wait_for "60 connections" 10 sink_is s active 60
# The daemon's lowest free descriptor becomes its limit: nothing more
# can be opened (the loads hold the rest).
soft=$(awk '/Max open files/ { print $4 }' "/proc/$LOADD_PID/limits")
lowest=$(find "/proc/$LOADD_PID/fd" -mindepth 1 -printf '%f\n' | sort -n |
    awk 'BEGIN { n = 0 } $1 == n { n++ } END { print n }')
say "  open-file limit $soft -> $lowest, the lowest free descriptor"
prlimit --pid "$LOADD_PID" --nofile="$lowest:" || fail "prlimit"
# /metrics cannot accept now (a proof that the table is full) ...
rc=0; curl -sf -m 2 "http://127.0.0.1:$MPORT/metrics" >/dev/null || rc=$?
[ "$rc" -ne 0 ] || fail "/metrics answered: the descriptor table is not full"
# ... while the control socket answers, one client after another.
for i in 1 2 3; do
	timeout 10 "$LOADCTL" status >/dev/null || fail "status $i with no descriptor free"
done
grep -q "the client has a spare descriptor" "$TMP/loadd.log" ||
    fail "no spare descriptor was used"
prlimit --pid "$LOADD_PID" --nofile="$soft:"
wait_for "/metrics again" 10 curl -sf -m 2 "http://127.0.0.1:$MPORT/metrics"
[ "$(sink_stat s active)" -eq 60 ] || fail "the load was disturbed"

stop_loadd
say ok
