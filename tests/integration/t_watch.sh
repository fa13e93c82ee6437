#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# loadctl watch: when stdout is not a terminal, one line per interval
# stamped with the daemon's time (not loadctl's), latency in human units,
# errors per second by kind; on a terminal (tmux, script) a view with the
# daemon's clock and uptime, redrawn in place without clearing the
# screen; Ctrl-C ends it cleanly with status 0; a daemon that restarts
# under it is named as such.
. "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || fail "tmux is needed (sh .ci/deps)"

say "plain lines from a fake daemon: its time, human units, errors/s"
# Two lines 10s apart of the daemon's clock (1000000000 is 01:46:40 UTC):
# latency 288096.3us, 950us and 1.2s; 30 refused connects in between.
line() { # TIME UPTIME REFUSED
	printf '{"ok":true,"time":%s,"uptime":%s,"pid":4242,"interval":10.0,' "$1" "$2"
	printf '"loads":[{"name":"rr","id":3,"state":"running","connections_active":3,'
	printf '"connections_target":3,"messages_sent_per_s":50,"replies_per_s":50,'
	printf '"errors":{"refused":%s,"reset":0},' "$3"
	printf '"latency_us":{"interval":{"count":500,"p50":288096.3,"p99":950.0,"max":1200000.0}}},'
	printf '{"name":"quiet","id":4,"state":"finished","connections_active":0,'
	printf '"connections_target":0,"duration_s":60.0,"errors":{"refused":0}}],'
	printf '"total":{"connections_active":3,"connections_target":3,"messages_sent_per_s":50}}\n'
}
{ line 1000000000.5 1000.0 0; line 1000000010.5 1010.0 30; } >"$TMP/fake.reply"
fake=$TMP/fake.sock
socat "UNIX-LISTEN:$fake" "SYSTEM:cat $TMP/fake.reply" 2>/dev/null &
PIDS+=($!)
wait_for "fake socket" 10 test -S "$fake"
rc=0
TZ=UTC timeout 20 "$LOADCTL" -s "$fake" watch >"$TMP/fake.out" 2>"$TMP/fake.err" || rc=$?
[ "$rc" -eq 0 ] || fail "watch of the fake daemon: exit $rc ($(cat "$TMP/fake.err"))"
first=$(sed -n 1p "$TMP/fake.out")
second=$(sed -n 2p "$TMP/fake.out")
case "$first" in "01:46:40.5 up 16m40s conns 3/3 "*) ;;
	*) fail "not the daemon's time and uptime: $first" ;; esac
case "$second" in "01:46:50.5 up 16m50s "*) ;; *) fail "second line: $second" ;; esac
case "$first" in *"| rr running 3/3 msg/s 50 replies/s 50 p50 288.1ms p99 950us"*) ;;
	*) fail "latency not in human units: $first" ;; esac
case "$first" in *"| quiet finished 0/0 msg/s 0"*) ;; *) fail "finished load: $first" ;; esac
case "$first" in *errors*) fail "errors per second on the first line: $first" ;; esac
case "$second" in *"p99 950us errors refused 3.0/s | quiet"*) ;;
	*) fail "no refused 3.0/s (30 in 10s of the daemon's time): $second" ;; esac
case "$second" in *reset*) fail "a kind that did not grow: $second" ;; esac
grep -q 'loadd (pid 4242) shut down; the subscription ended' "$TMP/fake.err" ||
    fail "the end of the fake: $(cat "$TMP/fake.err")"

start_sink s -m echo
port=$(low_port)	# nothing listens there: refused connects
P=$(profile watch "loads = ( { name = \"rr\"; target = \"127.0.0.1:$(sink_port s)\";
    connections = 3; size = 64; rate = 50.0; expect = \"echo\"; },
  { name = \"nobody\"; target = \"127.0.0.1:$port\"; connections = 2;
    reconnect = { delay = \"20ms\"; max_delay = \"50ms\"; }; } );")
start_loadd "$P"
wait_for "replies" 10 stat_ge replies 20 rr

say "not a terminal: one line per interval, the daemon's time"
timeout 3 "$LOADCTL" watch >"$TMP/lines" 2>&1 || true
n=$(grep -c ' conns 3/5 ' "$TMP/lines" || true)
[ "$n" -ge 5 ] || fail "expected a line per 200ms interval, got: $(cat "$TMP/lines")"
grep -Eq '^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9] up [0-9]+s conns 3/5 ' "$TMP/lines" ||
    fail "no time and uptime: $(head -n 2 "$TMP/lines")"
grep -Eq '\| rr running 3/3 msg/s [0-9.]+K? replies/s [0-9.]+K? p50 [0-9.]+(us|ms|s) p99 [0-9.]+(us|ms|s)( |$)' \
    "$TMP/lines" || fail "no latency in human units: $(head -n 2 "$TMP/lines")"
grep -Eq '\| nobody running 0/2 msg/s 0 errors refused [0-9.]+K?/s' "$TMP/lines" ||
    fail "no refused connects per second: $(head -n 3 "$TMP/lines")"
# Each stamp is one of the daemon's lines, in the order it sent them.
timeout 3 "$LOADCTL" -j watch >"$TMP/json" 2>/dev/null || true
[ "$(jq -r '.time' "$TMP/json" | sort -c -n && echo sorted)" = sorted ] ||
    fail "watch -j: time goes back"
jq -e '.pid > 0 and .uptime > 0' "$TMP/json" >/dev/null ||
    fail "watch -j: no pid, uptime: $(head -c 300 "$TMP/json")"

if command -v script >/dev/null; then
	say "a terminal (script): redrawn in place, the screen cleared once"
	timeout 3 script -qc "$LOADCTL watch" "$TMP/tty" >/dev/null 2>&1 || true
	esc=$'\033'
	homes=$(grep -ao "${esc}\[H" "$TMP/tty" | wc -l)
	clears=$(grep -ao "${esc}\[2J" "$TMP/tty" | wc -l)
	[ "$homes" -ge 5 ] || fail "$homes frames in 3s: $(cat -v "$TMP/tty" | head -c 600)"
	[ "$clears" -eq 1 ] || fail "the screen cleared $clears times, wanted once"
	grep -aq "P99${esc}\[K" "$TMP/tty" || fail "a line not cleared to its end"
fi

say "a terminal (tmux): the view, Ctrl-C ends it"
TS="loadd-watch-$$"
export TMUX_TMPDIR=$TMP
tmux new-session -d -s "$TS" -x 160 -y 50 \
    "LOADD_SOCKET=$SOCK $LOADCTL watch; echo exit=\$? >$TMP/exit; sleep 30"
wait_for "the view" 10 sh -c "tmux capture-pane -p -t '$TS' | grep -q 'errors per second:$'"
screen=$(tmux capture-pane -p -t "$TS")
for want in "loadd pid $LOADD_PID " "CONNS/WANTED" "REPLIES/S" "Ctrl-C" \
    "nobody: refused"; do
	case "$screen" in *"$want"*) ;; *) fail "view lacks '$want': $screen" ;; esac
done
echo "$screen" | grep -Eq '^loadd pid [0-9]+  [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]  up [0-9]+s  every 0\.2s' ||
    fail "no clock and uptime: $screen"
echo "$screen" | grep -Eq '^rr +running +3/3 +[0-9.]+K? +[0-9.]+K? +[0-9.]+(us|ms|s) +[0-9.]+(us|ms|s)$' ||
    fail "no row for rr: $screen"
[ "$(echo "$screen" | grep -c '^LOAD ')" -eq 1 ] || fail "the view scrolled: $screen"
tmux send-keys -t "$TS" C-c
wait_for "watch ended" 10 test -s "$TMP/exit"
tmux kill-session -t "$TS" 2>/dev/null || true
[ "$(cat "$TMP/exit")" = "exit=0" ] || fail "watch ended with $(cat "$TMP/exit")"

say "the daemon restarts under watch: it says so, exit 0"
"$LOADCTL" watch >"$TMP/w.out" 2>"$TMP/w.err" &
W=$!
PIDS+=($W)
wait_for "a watch line" 10 grep -q 'conns ' "$TMP/w.out"
old=$LOADD_PID
stop_loadd
start_loadd "$P"
rc=0
wait "$W" || rc=$?
[ "$rc" -eq 0 ] || fail "watch across a restart: exit $rc ($(cat "$TMP/w.err"))"
grep -q "loadd restarted: pid $old has gone, pid $LOADD_PID answers at $SOCK now" "$TMP/w.err" ||
    fail "restart not told: $(cat "$TMP/w.err")"
stop_loadd
say ok
