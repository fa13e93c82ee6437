#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# What a load sends: a payload_file, a list of messages sent in turn (hex
# among them), templates expanded as they are sent, each checked against
# the sink's byte counts or its echo; and the profile errors of each, by
# loadd -n with FILE:LINE.  Nothing asserts speed.
. "$(dirname "$0")/lib.sh"

# J holds the last `stats`; jv EXPR reads the only load from it.
snap() { J=$(ctlj stats); }
jv() { echo "$J" | jq -r ".loads[0] | $1"; }

# stop_and_settle SINK: stop the load, wait until its connections are gone
# and the sink has read every byte loadd counts as sent.
stop_and_settle() {
	ctl stop >/dev/null
	wait_for "no connection at the sink" 10 sink_is "$1" active 0
	wait_for "loadd counts 0 active" 10 stat_is connections_active 0
	snap
	wait_for "the sink has read all $(jv .bytes_sent) bytes" 10 \
	    sink_is "$1" bytes_received "$(jv .bytes_sent)"
}

# answered CONNS INFLIGHT: every request sent was answered but for those
# in flight when the load stopped.
answered() {
	local m r
	m=$(jv .messages_sent) r=$(jv .replies)
	[ "$r" -le "$m" ] && [ "$r" -ge $((m - $1 * $2)) ] ||
	    fail "$r replies to $m requests ($1 x $2 may be in flight)"
}

no_errors() {
	[ "$(echo "$J" | jq '.loads[0] | ([.errors[]] | add) + .disconnects')" -eq 0 ] ||
	    fail "$1: $(echo "$J" | jq -c '.loads[0].errors | with_entries(select(.value > 0))')"
}

start_sink d -m discard
start_sink e -m echo
D=127.0.0.1:$(sink_port d)
E=127.0.0.1:$(sink_port e)

say "payload_file of 3000 bytes, paced, 2 connections"
head -c 3000 /dev/urandom >"$TMP/p3000.bin"
P=$(profile file "loads = ( { name = \"file\"; target = \"$D\";
    connections = 2; rate = 50.0; payload_file = \"p3000.bin\"; } );")
start_loadd "$P"
wait_for "messages" 10 stat_ge messages_sent 40
stop_and_settle d
m=$(jv .messages_sent)
[ "$(jv .bytes_sent)" -eq $((m * 3000)) ] ||
    fail "bytes_sent $(jv .bytes_sent) != $m x 3000"
[ "$(ctlj status | jq -r ".loads[0].message_size")" = 3000 ] ||
    fail "status message_size $(ctlj status | jq -r ".loads[0].message_size")"
stop_loadd
sink_reset d

say "a list of three lengths (one in hex), sent in turn on one connection"
P=$(profile list "loads = ( { name = \"list\"; target = \"$D\";
    connections = 1; rate = 500.0;
    messages = ( \"a\", \"bb\", \"hex:63 63 63\" ); } );")
start_loadd "$P"
wait_for "messages" 10 stat_ge messages_sent 200
stop_and_settle d
m=$(jv .messages_sent)
# Whole cycles of 1 + 2 + 3 bytes, then a prefix of the next.
pre=(0 1 3)
want=$(( m / 3 * 6 + ${pre[$((m % 3))]} ))
[ "$(jv .bytes_sent)" -eq "$want" ] ||
    fail "$m messages: bytes_sent $(jv .bytes_sent), want $want"
stop_loadd
sink_reset d

say "the same list against the echo sink: every reply is its request"
P=$(profile listecho "loads = ( { name = \"le\"; target = \"$E\";
    connections = 3; rate = 300.0; inflight = 4; expect = \"echo\";
    messages = ( \"a\", \"bb\", \"hex:636363\" ); } );")
start_loadd "$P"
wait_for "replies" 10 stat_ge replies 300
stop_and_settle e
no_errors "list with echo"
answered 3 4
stop_loadd
sink_reset e

say "a template request with expect until, against the echo sink"
P=$(profile tmpl "loads = ( { name = \"tpl\"; target = \"$E\";
    connections = 4; rate = 200.0; template = true;
    literal = \"GET /{seq} {conn} {load}\\n\"; expect = { until = \"\\n\"; }; } );")
start_loadd "$P"
wait_for "replies" 10 stat_ge replies 400
stop_and_settle e
no_errors "template with until"
answered 4 1
stop_loadd
sink_reset e

say "a template with expect echo: each reply is its expanded request"
P=$(profile tmplecho "loads = ( { name = \"te\"; target = \"$E\";
    connections = 2; inflight = 3; template = true; expect = \"echo\";
    messages = ( \"{seq}:{rand:8}|\", \"x{conn}{{}}{time_us}\", \"hex:7b7d\" ); } );")
start_loadd "$P"
wait_for "replies" 10 stat_ge replies 2000
stop_and_settle e
no_errors "template with echo"
answered 2 3
say "... and a reply that is not the request is a mismatch"
printf 'mode corrupt\n' | socat -t 5 - "UNIX-CONNECT:$TMP/e.sock" >/dev/null
ctl start >/dev/null
wait_for "mismatch counted" 10 stat_ge errors.mismatch 1
ctl stop >/dev/null
printf 'mode echo\n' | socat -t 5 - "UNIX-CONNECT:$TMP/e.sock" >/dev/null
stop_loadd
sink_reset e

say "a template flood of {time_us} and {rand:8}: bytes counted exactly"
P=$(profile tflood "loads = ( { name = \"tf\"; target = \"$D\";
    connections = 3; template = true;
    literal = \"t={time_us} r={rand:8} s={seq}\\n\"; } );")
start_loadd "$P"
wait_for "flood" 10 sink_ge d bytes_received 2000000
stop_and_settle d
m=$(jv .messages_sent) b=$(jv .bytes_sent)
# time_us has 16 digits until 2286; seq 1 or more digits.
[ "$m" -gt 0 ] && [ "$b" -ge $((m * 34)) ] && [ "$b" -le $((m * 53)) ] ||
    fail "$m messages in $b bytes"
stop_loadd

say "a template with messages_per_connection: connections churn, counts hold"
P=$(profile tchurn "loads = ( { name = \"tc\"; target = \"$D\";
    connections = 2; rate = 1000.0; template = true;
    messages_per_connection = 7; literal = \"{seq}\\n\"; } );")
sink_reset d
start_loadd "$P"
wait_for "recycled" 10 stat_ge recycled 6
stop_and_settle d
# Every connection sends 0..6: 14 bytes a connection of 7 messages.
m=$(jv .messages_sent) b=$(jv .bytes_sent)
[ "$b" -le $((m * 2)) ] && [ "$b" -ge $((m * 2 - 14)) ] || fail "$m messages in $b bytes"
stop_loadd

say "bad payloads: FILE:LINE errors from loadd -n, none blocks"
# bad NAME KEYS WANT: a profile with KEYS in its load is refused with WANT
# on the line of the keys (3).
bad() {
	local f=$TMP/$1.conf out rc=0
	printf 'loads = (\n  { name = "b"; target = "127.0.0.1:9";\n    %s }\n);\n' \
	    "$2" >"$f"
	out=$(timeout 10 "$LOADD" -n -f "$f" 2>&1) || rc=$?
	[ "$rc" -eq 1 ] || fail "$1: exit $rc ($out)"
	case "$out" in *"$f:3: "*"$3"*) ;; *) fail "$1: '$out' lacks '$f:3: ...$3'" ;; esac
}
: >"$TMP/empty.bin"
truncate -s $((64 * 1024 * 1024 + 1)) "$TMP/big.bin"
mkfifo "$TMP/fifo"
bad field 'template = true; literal = "a{nope}";' 'unknown field {nope} at column 2'
bad brace 'template = true; messages = ( "ok", "{seq" );' "messages[1]: '{' at column 1 is not closed"
bad missing 'payload_file = "nothere.bin";' "payload_file: $TMP/nothere.bin: No such file"
bad empty 'payload_file = "empty.bin";' 'file is empty'
bad big 'payload_file = "big.bin";' 'file is too large (67108865 bytes, at most 67108864)'
bad fifo "payload_file = \"$TMP/fifo\";" 'a FIFO, not a regular file'
bad dir 'payload_file = ".";' 'a directory, not a regular file'
bad hex 'literal = "hex:6g";' 'literal: '
bad listhex 'messages = ( "hex:123" );' 'messages[0]: '
bad nolist 'messages = ( );' 'messages must not be empty'
bad two 'literal = "a"; messages = ( "b" );' 'literal and messages cannot be combined'
bad withsize 'payload_file = "empty.bin"; size = 10;' 'payload_file and size cannot be combined'
bad nothing 'template = true;' 'template = true has nothing to expand'
say ok
