#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The framings against real servers from Debian, each started here on a
# loopback port with its own configuration and stopped by PID: nginx
# (expect = "http": keep-alive, pipelining, HEAD, chunked, 404 against
# expect_status, Connection: close) and redis-server (expect = "resp":
# PING, bulk replies, arrays, -ERR).  Counts are checked against the
# server's own where it keeps one.  Skipped (77) without the servers.
# Nothing asserts speed.
. "$(dirname "$0")/lib.sh"

NGINX=$(command -v nginx || echo /usr/sbin/nginx)
REDIS=$(command -v redis-server || echo /usr/bin/redis-server)
[ -x "$NGINX" ] && [ -x "$REDIS" ] ||
    { say "nginx or redis-server not installed (sh .ci/deps): skipped"; exit 77; }

snap() { J=$(ctlj stats); }
jl() { echo "$J" | jq -r ".loads[] | select(.name==\"$1\") | $2"; }
no_errors() {
	local e
	e=$(jl "$1" '[.errors | to_entries[] | select(.value > 0) | "\(.key)=\(.value)"] | join(",")')
	[ -z "$e" ] || fail "$1: errors $e"
	[ "$(jl "$1" .disconnects)" = 0 ] || fail "$1: disconnects"
}

say "nginx: keep-alive, pipelined, HEAD, chunked, 404, Connection: close"
NPORT=$(low_port)
mkdir -p "$TMP/ngx/www"
head -c 1024 /dev/zero | tr '\0' a >"$TMP/ngx/www/1k"
cat >"$TMP/ngx/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $TMP/ngx/nginx.pid;
error_log $TMP/ngx/error.log;
events { worker_connections 512; }
http {
	access_log off;
	client_body_temp_path $TMP/ngx/cb;
	proxy_temp_path $TMP/ngx/px;
	fastcgi_temp_path $TMP/ngx/fc;
	uwsgi_temp_path $TMP/ngx/uw;
	scgi_temp_path $TMP/ngx/sc;
	keepalive_requests 100000000;
	keepalive_timeout 300s;
	gzip on;
	gzip_types text/plain;
	gzip_min_length 1;
	server {
		listen 127.0.0.1:$NPORT;
		root $TMP/ngx/www;
	}
}
EOF
timeout 120 "$NGINX" -p "$TMP/ngx" -c "$TMP/ngx/nginx.conf" >>"$TMP/ngx.out" 2>&1 &
PIDS+=($!)
wait_for "nginx listening" 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$NPORT"

N=127.0.0.1:$NPORT
rq() { printf '%s /%s HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n%s\\r\\n' "$1" "$2" "${3:-}"; }
P=$(profile nginx "loads = (
  { name = \"get\"; target = \"$N\"; connections = 4; expect = \"http\";
    expect_status = 200; literal = \"$(rq GET 1k)\"; },
  { name = \"pipe\"; target = \"$N\"; connections = 2; inflight = 8;
    expect = \"http\"; expect_status = 200; literal = \"$(rq GET 1k)\"; },
  { name = \"head\"; target = \"$N\"; connections = 1; expect = \"http\";
    literal = \"$(rq HEAD 1k)\"; },
  { name = \"gzip\"; target = \"$N\"; connections = 1; expect = \"http\";
    literal = \"$(rq GET 1k 'Accept-Encoding: gzip\r\n')\"; },
  { name = \"missing\"; target = \"$N\"; connections = 1; expect = \"http\";
    expect_status = 200; literal = \"$(rq GET nothing-here)\"; },
  { name = \"close\"; target = \"$N\"; connections = 1; expect = \"http\";
    rate = 100.0; literal = \"$(rq GET 1k 'Connection: close\r\n')\"; }
);")
start_loadd "$P"
for l in get pipe head gzip missing; do
	wait_for "$l: replies" 20 stat_ge replies 200 "$l"
done
wait_for "close: closes by the server" 20 stat_ge server_closes 20 close
snap
for l in get pipe head gzip missing close; do no_errors "$l"; done
[ "$(jl get .http_2xx)" -ge "$(jl get .replies)" ] || fail "get: 2xx $(jl get .http_2xx) < replies"
[ "$(jl get .bad_status)" = 0 ] || fail "get: bad_status $(jl get .bad_status)"
[ "$(jl pipe .http_2xx)" -ge 200 ] || fail "pipe: 2xx"
# gzip on the fly is sent chunked, and is much shorter than the file.
[ "$(jl gzip .bytes_received)" -lt $(( $(jl gzip .replies) * 600 )) ] ||
    fail "gzip: not compressed (so not chunked)"
[ "$(jl missing .http_4xx)" -ge 200 ] || fail "missing: 404s not counted"
[ "$(jl missing .bad_status)" -ge 200 ] || fail "missing: 404 is not expect_status 200"
# HEAD: the headers say 1024 bytes, none follow.
[ "$(jl head .bytes_received)" -lt $(( $(jl head .replies) * 1024 )) ] ||
    fail "head: read a body"
# A closed connection was reopened: as many connects as closes (+-1).
[ "$(jl close .connects_ok)" -ge "$(jl close .server_closes)" ] || fail "close: not reopened"
ctl stats | grep -q "missing: http: .* 4xx" || fail "loadctl stats: no http line"
stop_loadd

say "redis-server: PING, bulk replies, arrays, errors"
RPORT=$(low_port)
mkdir -p "$TMP/redis"
timeout 120 "$REDIS" --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize no --dir "$TMP/redis" --logfile "$TMP/redis/log" >/dev/null 2>&1 &
PIDS+=($!)
wait_for "redis listening" 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$RPORT"
R=127.0.0.1:$RPORT
P=$(profile redis "loads = (
  { name = \"ping\"; target = \"$R\"; connections = 4; inflight = 16;
    expect = \"resp\"; literal = \"PING\\r\\n\"; },
  { name = \"mixed\"; target = \"$R\"; connections = 1; expect = \"resp\";
    messages = [ \"SET k hello\\r\\n\", \"GET k\\r\\n\", \"GET nokey\\r\\n\",
      \"RPUSH l a b c\\r\\n\", \"LRANGE l 0 2\\r\\n\", \"DEL l\\r\\n\",
      \"NOSUCHCOMMAND\\r\\n\" ]; }
);")
start_loadd "$P"
wait_for "ping: replies" 20 stat_ge replies 2000 ping
wait_for "mixed: replies" 20 stat_ge replies 70 mixed
snap
no_errors ping
no_errors mixed
[ "$(jl ping .server_errors)" = 0 ] || fail "ping: server errors"
# One message in seven is an unknown command: its -ERR is counted.
r=$(jl mixed .replies) e=$(jl mixed .server_errors)
[ "$e" -ge $((r / 7 - 2)) ] && [ "$e" -le $((r / 7 + 2)) ] ||
    fail "mixed: $e -ERR of $r replies, wanted a seventh"
ctl stats | grep -q "mixed: resp: .* error replies" || fail "loadctl stats: no resp line"
stop_loadd
say ok
