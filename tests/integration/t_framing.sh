#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Reply framings (expect = "http", "resp", { length_prefix = N; }) against
# the sink in echo mode: each load's request *is* the reply it wants back,
# so good and bad replies of every kind come from a real socket.  Good
# replies are counted (status classes, RESP errors, server closes); each
# bad one is counted by kind, its connection reset and reopened with
# backoff, and no other load is disturbed.  Nothing asserts speed.
. "$(dirname "$0")/lib.sh"

start_sink e -m echo
start_sink s -m short
E=127.0.0.1:$(sink_port e)
S=127.0.0.1:$(sink_port s)

# load NAME TARGET BODY: a load of 1 connection, closed loop, quick retries.
load() {
	printf '{ name = "%s"; target = "%s"; connections = 1;
	  reconnect = { delay = "20ms"; max_delay = "100ms"; }; %s },\n' \
	    "$1" "$2" "$3"
}
LOADS=$(
	load http_ok "$E" 'inflight = 4; expect = "http";
	  literal = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";'
	load http_chunked "$E" 'expect = "http"; expect_status = 200;
	  literal = "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nTrailer: t\r\n\r\n";'
	load http_close "$E" 'expect = "http";
	  literal = "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";'
	load http_close_pipe "$E" 'expect = "http"; inflight = 4;
	  literal = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";'
	load http_both "$E" 'expect = "http";
	  literal = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";'
	load http_negative "$E" 'expect = "http";
	  literal = "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n";'
	load http_overflow "$E" 'expect = "http";
	  literal = "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n";'
	load http_nothex "$E" 'expect = "http";
	  literal = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";'
	load http_headers "$E" 'expect = "http"; max_reply = 64;
	  literal = "HTTP/1.1 200 OK\r\nX-A: aaaaaaaaaaaaaaaaaaaaaaaa\r\nX-B: bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\r\nX-C: c\r\n";'
	load http_short "$S" 'expect = "http";
	  literal = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";'
	load resp_ok "$E" 'inflight = 8; expect = "resp";
	  messages = [ "+PONG\r\n", "$5\r\nhello\r\n", "*3\r\n$1\r\na\r\n:5\r\n*1\r\n$-1\r\n", "*-1\r\n", "-ERR no\r\n" ];'
	load resp_type "$E" 'expect = "resp"; literal = "?what\r\n";'
	load resp_minus2 "$E" 'expect = "resp"; literal = "$-2\r\n";'
	load resp_big "$E" 'expect = "resp"; max_reply = 16;
	  literal = "$100\r\n";'
	load resp_deep "$E" "expect = \"resp\"; literal = \"$(printf '*1\\r\\n%.0s' $(seq 40)):1\\r\\n\";"
	load lp_ok "$E" 'inflight = 2; expect = { length_prefix = 4; };
	  literal = "hex:00 00 00 03 61 62 63";'
	load lp_offset "$E" 'expect = { length_prefix = 2; offset = 1; adjust = -2; };
	  literal = "hex:7f 00 05 61 62 63";'
	load lp_huge "$E" 'expect = { length_prefix = 4; };
	  literal = "hex:ff ff ff ff 61";'
)
P=$(profile framing "loads = ( ${LOADS%,} );")
"$LOADD" -n -f "$P" >/dev/null 2>&1 || { "$LOADD" -n -f "$P"; fail "the profile is refused"; }
start_loadd "$P"

errs() { ctlj stats | jq -r ".loads[] | select(.name==\"$1\") | [.errors | to_entries[] | select(.value > 0) | \"\(.key)=\(.value)\"] | join(\",\")"; }

say "good replies: counted, and no error"
wait_for "http_ok replies" 10 stat_ge replies 200 http_ok
wait_for "http_chunked replies" 10 stat_ge replies 50 http_chunked
wait_for "resp_ok replies" 10 stat_ge replies 200 resp_ok
wait_for "lp_ok replies" 10 stat_ge replies 100 lp_ok
wait_for "lp_offset replies" 10 stat_ge replies 100 lp_offset
wait_for "http_close: closes by the server" 10 stat_ge server_closes 5 http_close
wait_for "http_close_pipe: closes by the server" 10 stat_ge server_closes 5 http_close_pipe
for l in http_ok http_chunked resp_ok lp_ok lp_offset http_close http_close_pipe; do
	[ -z "$(errs $l)" ] || fail "$l: errors $(errs $l)"
	[ "$(stat_of disconnects $l)" = 0 ] || fail "$l: disconnects"
done
[ "$(stat_of http_2xx http_ok)" -ge 200 ] || fail "http_ok: http_2xx $(stat_of http_2xx http_ok)"
[ "$(stat_of http_4xx http_chunked)" -ge 50 ] || fail "http_chunked: no 4xx counted"
[ "$(stat_of bad_status http_chunked)" -ge 50 ] || fail "http_chunked: expect_status 200 but no bad_status"
[ "$(stat_of bad_status http_ok)" = 0 ] || fail "http_ok: bad_status without expect_status"
[ "$(stat_of http_5xx http_close)" -ge 5 ] || fail "http_close: 503s not counted"
[ "$(stat_of connects_ok http_close)" -ge 5 ] || fail "http_close: not reopened"
[ "$(stat_of unanswered http_close)" = 0 ] || fail "http_close: unanswered with inflight 1"
# Four pipelined, the first answer closes: three behind it unanswered.
J=$(ctlj stats | jq '.loads[] | select(.name=="http_close_pipe")')
[ "$(echo "$J" | jq .unanswered)" -ge $((3 * $(echo "$J" | jq .server_closes) - 3)) ] ||
    fail "http_close_pipe: $(echo "$J" | jq -c '{unanswered, server_closes}')"
[ "$(stat_of server_errors resp_ok)" -ge 1 ] || fail "resp_ok: -ERR not counted"
# Five messages in turn, one an error: a fifth of the replies (+- those in flight).
J=$(ctlj stats | jq '.loads[] | select(.name=="resp_ok")')
r=$(echo "$J" | jq .replies) e=$(echo "$J" | jq .server_errors)
[ $((e * 5)) -ge $((r - 40)) ] && [ $((e * 5)) -le $((r + 40)) ] ||
    fail "resp_ok: $e errors of $r replies, wanted a fifth"

say "bad replies: counted by kind, reset, reopened with backoff"
bad() {	# LOAD KIND
	wait_for "$1: $2 counted twice (a reconnect)" 10 stat_ge "errors.$2" 2 "$1"
	[ "$(stat_of replies "$1")" = 0 ] || fail "$1: a bad reply was counted as a reply"
	[ "$(stat_of connects_ok "$1")" -ge 2 ] || fail "$1: not reopened"
}
bad http_both bad_reply
bad http_negative bad_reply
bad http_overflow bad_reply
bad http_nothex bad_reply
bad http_headers reply_too_large
bad resp_type bad_reply
bad resp_minus2 bad_reply
bad resp_big reply_too_large
bad resp_deep bad_reply
bad lp_huge reply_too_large
wait_for "http_short: short_reply" 10 stat_ge errors.short_reply 2 http_short
grep -q "bad reply (bad_length)" "$TMP/loadd.log" || fail "no bad reply logged with its reason"

say "the good loads went on meanwhile"
r=$(stat_of replies http_ok)
wait_for "http_ok still answered" 10 stat_ge replies $((r + 100)) http_ok
[ -z "$(errs http_ok)" ] || fail "http_ok: errors $(errs http_ok)"
ctl stats | grep -q "http_chunked: http: .* 4xx" || fail "loadctl stats lacks the http line"
stop_loadd

say "profile errors, with FILE:LINE"
refused() {	# NAME WANT BODY
	local f out
	f=$(profile "$1" "loads = ( { name = \"x\"; target = \"$E\"; $3 } );")
	out=$("$LOADD" -n -f "$f" 2>&1) && fail "$1: accepted"
	case "$out" in *"$f:"[0-9]*": "*"$2"*) ;; *) fail "$1: '$out' lacks '$2'" ;; esac
}
refused lp_size "1, 2, 4 or 8" 'expect = { length_prefix = 3; };'
refused lp_key "unknown key \"skip\"" 'expect = { length_prefix = 4; skip = 1; };'
refused status_http "expect_status needs expect = \"http\"" 'expect = "resp"; expect_status = 200;'
refused status_range "expect_status" 'expect = "http"; expect_status = 1000;'
refused status_1xx "expect_status" 'expect = "http"; expect_status = 100;'
refused http_generated "needs requests the server understands" 'expect = "http"; size = 64;'
refused lp_adjust "adjust alone" 'expect = { length_prefix = 1; adjust = 2000000; };'
refused max_echo "max_reply has no meaning" 'expect = "echo"; max_reply = 100;'
refused max_none "max_reply needs expect" 'max_reply = 100;'
refused udp_http "not for protocol = \"udp\"" 'protocol = "udp"; expect = "http";'
refused head_mixed "HEAD and other requests" 'expect = "http"; messages = [ "HEAD / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\n\r\n" ];'
refused unknown "unknown expect \"smtp\"" 'expect = "smtp";'
refused until_long "expect until must be 1 to 64 bytes" "expect = { until = \"$(printf 'x%.0s' $(seq 65))\"; };"
say ok
