#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# protocol = "tls" against the sink's TLS mode, with a throw-away CA made
# here: verified handshakes, echo replies over TLS, the handshake timed
# apart from the connect, resumption counted, and every failure of the
# issue counted by kind and retried with backoff (an untrusted CA, an
# expired certificate, a wrong name, a server that does not speak TLS, a
# handshake that stalls, a client certificate the server rejects).  Bad
# TLS settings in a profile are FILE:LINE errors.  Loopback only.
. "$(dirname "$0")/lib.sh"

command -v openssl >/dev/null || { say "no openssl: skipped"; exit 77; }

# A CA, a server certificate for localhost/127.0.0.1/::1, an expired one,
# a client certificate, and one from another CA (which the sink refuses).
pki() {
	local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n' >"$TMP/san"
	for ca in ca other; do
		openssl req -x509 "${ec[@]}" -keyout "$TMP/$ca.key" \
		    -out "$TMP/$ca.pem" -days 2 -subj "/CN=loadd-test-$ca"
	done
	for who in server client stranger; do
		openssl req "${ec[@]}" -keyout "$TMP/$who.key" \
		    -out "$TMP/$who.csr" -subj "/CN=localhost"
	done
	sign() {	# CSR CA DAYS OUT
		openssl x509 -req -in "$TMP/$1.csr" -CA "$TMP/$2.pem" \
		    -CAkey "$TMP/$2.key" -CAcreateserial -days "$3" \
		    -extfile "$TMP/san" -out "$TMP/$4.pem"
	}
	sign server ca 2 server
	sign server ca -1 expired
	sign client ca 2 client
	sign stranger other 2 stranger
} >"$TMP/pki.log" 2>&1
pki || { cat "$TMP/pki.log"; fail "openssl could not make the certificates"; }

start_sink good -m echo -C "$TMP/server.pem" -K "$TMP/server.key"
start_sink expired -m echo -C "$TMP/expired.pem" -K "$TMP/server.key"
start_sink mutual -m echo -C "$TMP/server.pem" -K "$TMP/server.key" \
    -V "$TMP/ca.pem"
start_sink plainecho -m echo
start_sink plaindisc -m discard
G=$(sink_port good)
E=$(sink_port expired)
M=$(sink_port mutual)
PE=$(sink_port plainecho)
PD=$(sink_port plaindisc)

RC='reconnect = { delay = "100ms"; max_delay = "300ms"; };'
COMMON="protocol = \"tls\"; size = 64; expect = \"echo\"; rate = 20.0; $RC"
P=$(profile tls "loads = (
  { name = \"ok\"; target = \"127.0.0.1:$G\"; connections = 4; $COMMON
    tls_ca = \"$TMP/ca.pem\"; },
  { name = \"named\"; target = \"localhost:$G\"; connections = 2; $COMMON
    tls_ca = \"$TMP/ca.pem\"; tls_min_version = \"1.2\";
    tls_alpn = [ \"h2\", \"http/1.1\" ]; },
  { name = \"untrusted\"; target = \"127.0.0.1:$G\"; connections = 2; $COMMON },
  { name = \"expired\"; target = \"127.0.0.1:$E\"; connections = 2; $COMMON
    tls_ca = \"$TMP/ca.pem\"; },
  { name = \"wrongname\"; target = \"127.0.0.1:$G\"; connections = 2; $COMMON
    tls_ca = \"$TMP/ca.pem\"; tls_server_name = \"wrong.invalid\"; },
  { name = \"plain\"; target = \"127.0.0.1:$PE\"; connections = 2; $COMMON
    tls_ca = \"$TMP/ca.pem\"; },
  { name = \"stall\"; target = \"127.0.0.1:$PD\"; connections = 2; $COMMON
    tls_ca = \"$TMP/ca.pem\"; tls_handshake_timeout = \"300ms\"; },
  { name = \"nocert\"; target = \"127.0.0.1:$M\"; connections = 2; $COMMON
    tls_ca = \"$TMP/ca.pem\"; },
  { name = \"badcert\"; target = \"127.0.0.1:$M\"; connections = 2; $COMMON
    tls_ca = \"$TMP/ca.pem\"; tls_cert = \"$TMP/stranger.pem\";
    tls_key = \"$TMP/stranger.key\"; },
  { name = \"mutual\"; target = \"127.0.0.1:$M\"; connections = 2; $COMMON
    tls_ca = \"$TMP/ca.pem\"; tls_cert = \"$TMP/client.pem\";
    tls_key = \"$TMP/client.key\"; },
  { name = \"unverified\"; target = \"127.0.0.1:$G\"; connections = 1; $COMMON
    tls_verify = false; }
);")
start_loadd "$P"

say "verified handshakes, echo replies over TLS"
wait_for "4 connections up" 10 stat_is connections_active 4 ok
wait_for "replies over TLS" 10 stat_ge replies 20 ok
wait_for "named: replies" 10 stat_ge replies 10 named
wait_for "mutual TLS: replies" 10 stat_ge replies 10 mutual
J=$(ctlj stats)
echo "$J" | jq -e '.loads[] | select(.name == "ok") |
    .tls_handshakes >= 4 and .tls_handshakes == .connects_ok and
    .tls_handshake_us.run.count >= 4 and
    .connect_us.run.count >= 4 and
    .errors.mismatch == 0 and .tls_resumed == 0' >/dev/null ||
    fail "ok: $(echo "$J" | jq -c '.loads[] | select(.name == "ok")')"

say "every failure counted by its kind, and retried"
wait_for "untrusted CA: tls_verify_failed" 10 stat_ge errors.tls_verify_failed 4 untrusted
wait_for "expired: tls_verify_failed" 10 stat_ge errors.tls_verify_failed 4 expired
wait_for "wrong name: tls_verify_failed" 10 stat_ge errors.tls_verify_failed 4 wrongname
wait_for "not TLS: tls_handshake_failed" 10 stat_ge errors.tls_handshake_failed 4 plain
wait_for "stalled: tls_timeout" 10 stat_ge errors.tls_timeout 4 stall
# TLS 1.3 ends the client's handshake before the server checks the client's
# certificate: the refusal arrives as an alert right after it.
refused() {
	local n
	n=$(ctlj stats | jq ".loads[] | select(.name == \"$1\") |
	    .errors.tls_handshake_failed + .errors.tls_error")
	[ "$n" -ge 4 ]
}
wait_for "no client certificate: refused" 10 refused nocert
wait_for "client certificate of another CA: refused" 10 refused badcert
J=$(ctlj stats)
# A connect that never became a TLS connection is a failed connect: the
# kinds add up to connects_failed (plus disconnects for the refusals that
# TLS 1.3 sends after the client's handshake).
for l in untrusted expired wrongname plain stall; do
	echo "$J" | jq -e ".loads[] | select(.name == \"$l\") |
	    .connects_ok == 0 and .connects_failed >= 4 and
	    ([.errors[]] | add) == .connects_failed + .disconnects" >/dev/null ||
	    fail "$l counts: $(echo "$J" | jq -c ".loads[] | select(.name == \"$l\")")"
done
for l in untrusted expired wrongname plain stall nocert badcert; do
	echo "$J" | jq -e ".loads[] | select(.name == \"$l\") |
	    .replies == 0 and .connections_active <= 2" >/dev/null ||
	    fail "$l: $(echo "$J" | jq -c ".loads[] | select(.name == \"$l\")")"
done
grep -q 'untrusted: 127.0.0.1:[0-9]*: tls_verify_failed: unable to get local issuer certificate' "$TMP/loadd.log" ||
    fail "the log lacks the untrusted CA's reason"
grep -q 'expired: .*tls_verify_failed: certificate has expired' "$TMP/loadd.log" ||
    fail "the log lacks the expiry"
grep -q 'wrongname: .*tls_verify_failed: hostname mismatch' "$TMP/loadd.log" ||
    fail "the log lacks the name mismatch"
grep -q 'plain: .*tls_handshake_failed: .*unexpected message\|plain: .*tls_handshake_failed: .*wrong version number\|plain: .*tls_handshake_failed: .*packet length too long\|plain: .*tls_handshake_failed: .*record layer failure' "$TMP/loadd.log" ||
    fail "the log lacks OpenSSL's reason for a plain server"
# Rate-limited: a few lines a second per load, not one per failure.
n=$(grep -c 'stall: .*tls_timeout' "$TMP/loadd.log")
[ "$n" -le 40 ] || fail "$n log lines for tls_timeout"

say "status says which loads do not verify"
S=$(ctlj status)
echo "$S" | jq -e '.loads[] | select(.name == "unverified") |
    .protocol == "tls" and .tls.verify == false and
    (.tls.warning | test("not verified"))' >/dev/null || fail "status: unverified"
echo "$S" | jq -e '.loads[] | select(.name == "ok") |
    .tls.verify == true and (.tls | has("warning") | not)' >/dev/null ||
    fail "status: ok"
ctl status | grep -q 'not verified' || fail "loadctl status does not warn"
stop_loadd

say "resumption: counted when on, never when off"
P=$(profile resume "loads = (
  { name = \"resume\"; target = \"127.0.0.1:$G\"; connections = 2; $COMMON
    tls_ca = \"$TMP/ca.pem\"; tls_resume = true; lifetime = \"200ms\"; },
  { name = \"full\"; target = \"127.0.0.1:$G\"; connections = 2; $COMMON
    tls_ca = \"$TMP/ca.pem\"; lifetime = \"200ms\"; }
);")
start_loadd "$P"
wait_for "resumed handshakes" 15 stat_ge tls_resumed 3 resume
wait_for "full: churned handshakes" 15 stat_ge tls_handshakes 6 full
[ "$(stat_of tls_resumed full)" -eq 0 ] || fail "full: resumed without tls_resume"
[ "$(stat_of recycled full)" -ge 4 ] || fail "full: no recycled connections"
stop_loadd

say "bad TLS settings: FILE:LINE"
printf 'not a certificate\n' >"$TMP/junk.pem"
bad() {	# KEYS EXPECTED
	local f out
	f=$(profile bad "loads = ( { name = \"b\"; target = \"127.0.0.1:$G\";
  $1 } );")
	if out=$("$LOADD" -n -f "$f" 2>&1); then fail "accepted: $1"; fi
	case "$out" in *"bad.conf:3: $2"*) ;; *) fail "for '$1': $out" ;; esac
}
bad "protocol = \"tls\"; tls_ca = \"$TMP/junk.pem\";" "tls_ca \"$TMP/junk.pem\": no PEM certificate in it"
bad "protocol = \"tls\"; tls_ca = \"$TMP/nothere.pem\";" "tls_ca \"$TMP/nothere.pem\": No such file or directory"
bad "protocol = \"tls\"; tls_ca = \"$TMP\";" "tls_ca \"$TMP\": not a regular file"
bad "protocol = \"tls\"; tls_key = \"$TMP/ca.pem\";" "tls_key \"$TMP/ca.pem\": no unencrypted PEM private key in it"
bad "protocol = \"tls\"; tls_cert = \"$TMP/client.pem\";" "tls_cert and tls_key go together"
bad "tls_ca = \"$TMP/ca.pem\";" "tls_ca needs protocol = \"tls\""
bad "protocol = \"tls\"; tls_min_version = \"1.1\";" "tls_min_version: unknown TLS version \"1.1\""
bad "protocol = \"tls\"; tls_min_version = \"1.3\"; tls_max_version = \"1.2\";" "tls_min_version is above tls_max_version"
bad "protocol = \"ssl\";" "unknown protocol \"ssl\""
bad "protocol = \"tls\"; tls_ciphers = \"NOPE\";" "tls_ciphers: OpenSSL refuses it"
bad "protocol = \"tls\"; tls_groups = \"bogus\";" "tls_groups: OpenSSL refuses it"
bad "protocol = \"tls\"; tls_ciphersuites = \"TLS_NOPE\";" "tls_ciphersuites: OpenSSL refuses it"
bad "protocol = \"tls\"; tls_cert = \"$TMP/client.pem\"; tls_key = \"$TMP/server.key\";" "tls_key: OpenSSL refuses it"
bad "protocol = \"tls\"; tls_verify = false; tls_ca = \"$TMP/ca.pem\";" "tls_ca has no effect with tls_verify = false"
say ok
