#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The sink's own transports, checked with stock clients (openssl, socat):
# TLS (-C/-K) counts plaintext and echoes it, resumes sessions by ticket
# and by id, refuses a client without a certificate under -V and refuses
# a bad certificate at start; UDP (-u) counts and echoes datagrams, in
# the port file after the TCP ports, and stops reading during a stall;
# a unix stream socket (-U) replaces a stale socket, refuses any other
# file, counts bytes, echoes, and goes away on exit.  Only the sink runs
# here, so loadd and loadctl are not needed.
. "$(dirname "$0")/lib.sh"

for tool in openssl socat jq python3; do
	command -v "$tool" >/dev/null || { say "no $tool: skipped"; exit 77; }
done

# A throw-away CA, a server and a client certificate, ECDSA P-256.
pki() {
	local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
	openssl req -x509 "${ec[@]}" -keyout "$TMP/ca.key" -out "$TMP/ca.pem" \
	    -days 2 -subj /CN=loadd-test-ca
	for who in server client; do
		openssl req "${ec[@]}" -keyout "$TMP/$who.key" \
		    -out "$TMP/$who.csr" -subj "/CN=$who"
		openssl x509 -req -in "$TMP/$who.csr" -CA "$TMP/ca.pem" \
		    -CAkey "$TMP/ca.key" -CAcreateserial -days 2 \
		    -out "$TMP/$who.pem"
	done
} >"$TMP/pki.log" 2>&1
pki || { cat "$TMP/pki.log"; fail "openssl could not make the certificates"; }
TLS=(-C "$TMP/server.pem" -K "$TMP/server.key")

sink_cmd() { printf '%s\n' "$2" | socat -t 5 - "UNIX-CONNECT:$TMP/$1.sock"; }
file_has() { [ -s "$1" ] && grep -q "$2" "$1"; }
same() { cmp -s "$1" "$2"; }

# tls_open NAME PORT [s_client options...]: a TLS client in the
# background whose input is the fifo $TMP/NAME.in (held open on fd 3
# until tls_close) and whose output is $TMP/NAME.reply.
tls_open() {
	local name=$1 port=$2
	shift 2
	rm -f "$TMP/$name.in" "$TMP/$name.reply"
	mkfifo "$TMP/$name.in"
	timeout 30 openssl s_client -quiet -connect "127.0.0.1:$port" "$@" \
	    <"$TMP/$name.in" >"$TMP/$name.reply" 2>"$TMP/$name.err" &
	CLIENT=$!
	PIDS+=("$CLIENT")
	exec 3>"$TMP/$name.in"
}
tls_close() {
	exec 3>&-
	kill "$CLIENT" 2>/dev/null || true
	wait "$CLIENT" 2>/dev/null || true
}

say "bad certificate or key: exit 1 with a reason"
printf 'not a certificate\n' >"$TMP/junk.pem"
for args in "-C $TMP/none.pem -K $TMP/server.key" \
    "-C $TMP/junk.pem -K $TMP/server.key" \
    "-C $TMP/server.pem -K $TMP/ca.key"; do
	rc=0
	# shellcheck disable=SC2086
	timeout 10 "$SINK" -l 127.0.0.1:0 -t 5 -q $args \
	    >"$TMP/bad.out" 2>&1 || rc=$?
	[ "$rc" -eq 1 ] || fail "$args: exit $rc, wanted 1"
	grep -q 'loadd-sink: .*: ' "$TMP/bad.out" || fail "$args: no reason"
done
rc=0; timeout 10 "$SINK" -l 127.0.0.1:0 -t 5 -C "$TMP/server.pem" \
    >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "-C without -K: exit $rc, wanted 2"

say "TLS discard counts plaintext bytes"
start_sink t "${TLS[@]}"
PT=$(sink_port t)
head -c 100000 /dev/urandom >"$TMP/data"
tls_open c1 "$PT"
cat "$TMP/data" >&3
wait_for "100000 plaintext bytes" 15 sink_is t bytes_received 100000
tls_close
wait_for "connection closed" 10 sink_is t active 0
[ "$(sink_stat t tls_handshakes)" -ge 1 ] || fail "no tls_handshakes"
[ "$(sink_stat t tls_failed)" -eq 0 ] || fail "tls_failed $(sink_stat t tls_failed)"

say "TLS echo and corrupt send the bytes back"
sink_cmd t "mode echo" >/dev/null
tls_open c2 "$PT"
cat "$TMP/data" >&3
wait_for "echo of 100000 bytes" 15 same "$TMP/data" "$TMP/c2.reply"
tls_close
sink_cmd t "mode corrupt" >/dev/null
tls_open c3 "$PT"
printf 'hello' >&3
wait_for "corrupt echo" 15 file_has "$TMP/c3.reply" HELLO
tls_close

say "TLS close mode: the handshake, then the end"
# The clients above may still be closing: a late close would count after
# the reset (the sink is slow under a sanitizer).
wait_for "earlier TLS clients gone" 10 sink_is t active 0
sink_reset t
sink_cmd t "mode close" >/dev/null
timeout 20 openssl s_client -connect "127.0.0.1:$PT" </dev/null \
    >"$TMP/close.out" 2>&1 || true
wait_for "closed after a handshake" 10 sink_is t closed 1
[ "$(sink_stat t tls_handshakes)" -eq 1 ] || fail "close: no handshake"
sink_cmd t "mode discard" >/dev/null

say "openssl s_time: full handshakes and resumed ones"
sink_reset t
timeout 30 openssl s_time -connect "127.0.0.1:$PT" -new -time 1 \
    >"$TMP/stime.new" 2>&1 || fail "s_time -new: $(tail -n 3 "$TMP/stime.new")"
wait_for "handshakes counted" 10 sink_ge t tls_handshakes 1
# TLS 1.2: s_time never reads after the handshake, so with TLS 1.3 it
# would never receive a ticket to resume with (a client limitation).
timeout 30 openssl s_time -connect "127.0.0.1:$PT" -reuse -time 1 -tls1_2 \
    >"$TMP/stime.reuse" 2>&1 ||
    fail "s_time -reuse: $(tail -n 3 "$TMP/stime.reuse")"
wait_for "resumed handshakes counted" 10 sink_ge t tls_resumed 1
[ "$(sink_stat t tls_failed)" -eq 0 ] || fail "s_time: tls_failed"

# resume NAME VERSION-OPTIONS...: a session saved by one s_client (once
# its ticket or id arrived), then reused by another.
resume() {
	local name=$1 before
	shift
	before=$(sink_stat t tls_resumed)
	tls_open "$name" "$PT" -sess_out "$TMP/$name.sess" "$@"
	wait_for "$name: session saved" 15 test -s "$TMP/$name.sess"
	tls_close
	timeout 20 openssl s_client -connect "127.0.0.1:$PT" "$@" \
	    -sess_in "$TMP/$name.sess" </dev/null >"$TMP/$name.out" 2>&1 || true
	grep -q '^Reused,' "$TMP/$name.out" ||
	    fail "$name: not resumed: $(grep -E '^(New|Reused),' "$TMP/$name.out")"
	wait_for "$name: tls_resumed" 10 sink_ge t tls_resumed $((before + 1))
}
say "resumption: TLS 1.3 ticket, TLS 1.2 session id (no ticket)"
resume r13 -tls1_3
resume r12 -tls1_2 -no_ticket

say "-V: a client without a certificate fails, one with it passes"
start_sink v "${TLS[@]}" -V "$TMP/ca.pem"
PV=$(sink_port v)
timeout 20 openssl s_client -connect "127.0.0.1:$PV" </dev/null \
    >"$TMP/nocert.out" 2>&1 || true
wait_for "tls_failed" 10 sink_ge v tls_failed 1
[ "$(sink_stat v tls_handshakes)" -eq 0 ] || fail "-V: handshake without a cert"
printf 'abc' | timeout 20 openssl s_client -quiet -no_ign_eof \
    -connect "127.0.0.1:$PV" -cert "$TMP/client.pem" -key "$TMP/client.key" \
    >"$TMP/cert.out" 2>&1 || true
wait_for "handshake with a client cert" 10 sink_ge v tls_handshakes 1

say "UDP: the port file lists -l ports, then -u ports"
start_sink d -l 127.0.0.1:0 -l 127.0.0.1:0 -u 127.0.0.1:0
[ "$(wc -l <"$TMP/d.port")" -eq 3 ] || fail "port file: $(cat "$TMP/d.port")"
PU=$(sed -n 3p "$TMP/d.port")
[ "$PU" -gt 0 ] || fail "no UDP port"

say "UDP discard counts datagrams"
for i in $(seq 1 20); do
	printf 'datagram-%02d' "$i" | timeout 10 socat -u - "UDP:127.0.0.1:$PU"
done
wait_for "20 datagrams" 10 sink_is d datagrams_received 20
[ "$(sink_stat d udp_bytes_received)" -eq 220 ] || fail "udp_bytes_received"
[ "$(sink_stat d bytes_received)" -eq 0 ] || fail "UDP counted as TCP bytes"
[ "$(sink_stat d datagrams_sent)" -eq 0 ] || fail "discard sent datagrams"

say "UDP echo returns the datagram"
sink_cmd d "mode echo" >/dev/null
# socat waits up to -t seconds for the reply after its input ends.
out=$(printf 'ping-udp' | timeout 20 socat -t 5 - "UDP:127.0.0.1:$PU")
[ "$out" = ping-udp ] || fail "UDP echo returned '$out'"
wait_for "datagram sent" 10 sink_is d datagrams_sent 1
[ "$(sink_stat d udp_bytes_sent)" -eq 8 ] || fail "udp_bytes_sent"

say "UDP waits out a stall"
sink_cmd d "mode discard" >/dev/null
n=$(sink_stat d datagrams_received)
sink_cmd d "stall 5000" >/dev/null
printf 'stalled' | timeout 10 socat -u - "UDP:127.0.0.1:$PU"
got=$(sink_stat d datagrams_received)
if [ "$(sink_stat d stalled)" = true ]; then
	[ "$got" -eq "$n" ] || fail "a datagram was read during a stall"
fi
wait_for "the datagram after the stall" 15 sink_is d datagrams_received $((n + 1))

if [ -e /proc/net/if_inet6 ] &&
    "$SINK" -l '[::1]:0' -u '[::1]:0' -t 0.05 -q >/dev/null 2>&1; then
	say "IPv6: -l [::1]:0 over TLS and -u [::1]:0"
	start_sink six -l '[::1]:0' -u '[::1]:0' "${TLS[@]}"
	P6=$(sed -n 1p "$TMP/six.port"); U6=$(sed -n 2p "$TMP/six.port")
	printf 'v6' | timeout 20 openssl s_client -quiet -no_ign_eof \
	    -connect "[::1]:$P6" >/dev/null 2>&1 || true
	wait_for "IPv6 TLS handshake" 10 sink_ge six tls_handshakes 1
	printf 'v6' | timeout 10 socat -u - "UDP6:[::1]:$U6"
	wait_for "IPv6 datagram" 10 sink_is six datagrams_received 1
fi

say "unix: a stale socket is replaced, another file refused"
US=$TMP/data.sock
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$US"
[ -S "$US" ] || fail "no stale socket made"
: >"$TMP/plain"
rc=0; timeout 10 "$SINK" -U "$TMP/plain" -t 5 -q >"$TMP/plain.out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "-U on a regular file: exit $rc, wanted 1"
[ -f "$TMP/plain" ] || fail "-U removed a regular file"
start_sink u -l 127.0.0.1:0 -U "$US"
[ "$(wc -l <"$TMP/u.port")" -eq 1 ] || fail "-U wrote to the port file"

say "unix discard counts bytes"
head -c 50000 /dev/zero | timeout 20 socat -u - "UNIX-CONNECT:$US"
wait_for "50000 bytes over unix" 10 sink_is u bytes_received 50000
wait_for "unix connection closed" 10 sink_is u closed 1
[ "$(sink_stat u accepted)" -eq 1 ] || fail "unix accepted"

say "unix echo"
sink_cmd u "mode echo" >/dev/null
out=$(printf 'over-unix' | timeout 20 socat -t 5 - "UNIX-CONNECT:$US")
[ "$out" = over-unix ] || fail "unix echo returned '$out'"

say "unix socket removed on exit"
kill -TERM "$SINK_PID_u"
rc=0; wait "$SINK_PID_u" || rc=$?
[ "$rc" -eq 0 ] || fail "sink exit $rc after SIGTERM"
[ ! -e "$US" ] || fail "$US left behind"
say ok
