#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# loadctl watch: on a terminal (tmux) a view redrawn each interval with
# connections, rates, errors and latency; one line per interval when
# stdout is not a terminal; Ctrl-C ends it cleanly with status 0.
. "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || fail "tmux is needed (sh .ci/deps)"

start_sink s -m echo
P=$(profile watch "loads = ( { name = \"rr\"; target = \"127.0.0.1:$(sink_port s)\";
    connections = 3; size = 64; rate = 50.0; expect = \"echo\"; } );")
start_loadd "$P"
wait_for "replies" 10 stat_ge replies 20

say "not a terminal: one line per interval"
timeout 3 "$LOADCTL" watch >"$TMP/lines" 2>&1 || true
n=$(grep -c 'conns 3/3' "$TMP/lines" || true)
[ "$n" -ge 3 ] || fail "expected several lines, got: $(cat "$TMP/lines")"
grep -q 'rr p50 [0-9]*us p99' "$TMP/lines" || fail "no latency in lines"

say "a terminal: redrawn view, Ctrl-C ends it"
TS="loadd-watch-$$"
export TMUX_TMPDIR=$TMP
tmux new-session -d -s "$TS" -x 160 -y 50 \
    "LOADD_SOCKET=$SOCK $LOADCTL watch; echo exit=\$? >$TMP/exit; sleep 30"
wait_for "the view" 10 sh -c "tmux capture-pane -p -t '$TS' | grep -q 'latency in us'"
screen=$(tmux capture-pane -p -t "$TS")
for want in "CONNS/WANTED" "rr " "errors:" "latency, last interval" "Ctrl-C"; do
	case "$screen" in *"$want"*) ;; *) fail "view lacks '$want': $screen" ;; esac
done
tmux send-keys -t "$TS" C-c
wait_for "watch ended" 10 test -s "$TMP/exit"
tmux kill-session -t "$TS" 2>/dev/null || true
[ "$(cat "$TMP/exit")" = "exit=0" ] || fail "watch ended with $(cat "$TMP/exit")"
stop_loadd
say ok
