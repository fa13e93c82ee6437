# SPDX-License-Identifier: ISC
# fleet_lib.sh -- a test bed for a fleet of loadd daemons (issue 13),
# sourced after lib.sh.  Not a test itself (not named t_*.sh).
#
# fleet_bed N [MAX_CONNECTIONS [CAP]] builds, in network namespaces that
# it creates:
#
#   lf-sink-PID   a bridge br0 with the sink address NET.1/24, and the
#                 sinks (FLEET_SINKS of them, sharing FLEET_PORT with -R
#                 when more than one) listening on NET.1:FLEET_PORT
#   lf-hI-PID     host I (1..N): eth0 on the bridge with NET.(1+I)/24, an
#                 sshd of its own on NET.(1+I):22 and a loadd whose control
#                 socket is $TMP/hI/loadd.sock, with a load "web" aimed at
#                 the sinks (connections = 0, max_connections as given)
#
# NET is 198.18.0 unless another bed holds it (tests run in parallel): the
# first 198.18.K.0/24 that no address or route of the root namespace
# covers.  The root namespace gets a veth of its own into the bridge,
# lf-rPID, with NET.254/24, so that ssh and `loadctl -F` run from here
# reach the hosts' sshd; nothing listens in the root namespace, and
# nothing has a route beyond NET.0/24 (no default route in the
# namespaces; IPv6 is off on every interface of the bed).  The namespaces
# share the file system, so a host's loadctl is $LOADCTL and its socket
# path is the same from everywhere.
#
# It writes $TMP/ssh_config (the client key, known hosts filled with the
# hosts' keys, StrictHostKeyChecking yes, BatchMode yes), checks that
# `ssh -F $TMP/ssh_config root@ADDR true` works for every host, and
# writes $TMP/fleet.conf (the fleet file that `loadctl -F` reads:
# ssh_options = [ "-F", "$TMP/ssh_config" ], control_path under $TMP,
# hosts h1..hN with their ssh destination, socket and cap).
#
# Settings, read by fleet_bed (set them before it):
#   FLEET_PORT=9000        the sinks' TCP port
#   FLEET_SINKS=1          sink processes on that port (-R if more than 1);
#                          one holds at most its descriptor limit
#   FLEET_SINK_MODE=discard
#   FLEET_LIFE=280         seconds every process of the bed lives at most
#                          (sinks' -t; sshd and loadd run under timeout),
#                          so nothing outlives a test killed hard
#   FLEET_WORKERS=2        each loadd's workers
#   FLEET_DAEMON=          more settings for each daemon block
#   FLEET_WEB='rate = 0; connect_rate = 5000;'
#                          more settings for the load web
#   FLEET_LOADS=           more loads after web (text from the comma on:
#                          ', { name = "x"; target = "..."; }')
#
# Then: fleet_addr I, fleet_sock I, fleet_ssh I CMD..., fleet_ctl I ARGS...
# (plain loadctl on host I over ssh), fleet_kill_host I [SIGNAL],
# fleet_start_host I (again, after a kill or after editing
# $TMP/hI/loadd.conf), fleet_loadd_pid I, fleet_sink_sources (the sinks'
# per-address tables added up, one JSON object), fleet_sink_source ADDR,
# fleet_sink_sum FIELD (a stats counter added up over the sinks),
# fleet_sink_json (each sink's stats, a line each).  $FLEET_SINK_PIDS,
# $FLEET_NET, $FLEET_SINK_ADDR, $FLEET_CONF and $FLEET_SSH_CONFIG are set.
#
# Everything the bed starts is stopped by PID, and every namespace and
# link it made is deleted, on exit (before lib.sh's cleanup); a loadd that
# does not exit 0 on that SIGTERM fails the test, as in stop_loadd.  A
# test killed hard (SIGKILL) leaves its namespaces: the next bed deletes
# them once their test is gone and nothing runs in them.  Needs
# /usr/sbin/sshd (openssh-server; its service is never started) and makes
# /run/sshd, sshd's privilege separation directory, if it is missing.
# Skipped (77) only where a namespace, a bridge or a veth cannot be made.

FLEET_ID=$$
FLEET_SINK_NS=lf-sink-$FLEET_ID
FLEET_ROOT_LINK=lf-r$FLEET_ID
FLEET_LOCK=/tmp/loadd-fleet-bed.lock
FLEET_N=0
FLEET_NET=
FLEET_SINK_ADDR=
FLEET_NSS=()		# namespaces made, deleted at exit
FLEET_LINK_MADE=0
FLEET_SINK_PIDS=()
FLEET_SSHD_WRAP=()	# index I: the timeout wrapping host I's sshd
FLEET_LOADD_WRAP=()	# index I: the timeout wrapping host I's loadd
FLEET_LOADD_PID=()	# index I: host I's loadd itself
FLEET_CONF=$TMP/fleet.conf
FLEET_SSH_CONFIG=$TMP/ssh_config

: "${FLEET_PORT:=9000}"
: "${FLEET_SINKS:=1}"
: "${FLEET_SINK_MODE:=discard}"
: "${FLEET_LIFE:=280}"
: "${FLEET_WORKERS:=2}"
: "${FLEET_DAEMON:=}"
: "${FLEET_WEB:=rate = 0; connect_rate = 5000;}"
: "${FLEET_LOADS:=}"

fleet_addr() { echo "$FLEET_NET.$((1 + $1))"; }
fleet_ns() { echo "lf-h$1-$FLEET_ID"; }
fleet_dir() { echo "$TMP/h$1"; }
fleet_sock() { echo "$TMP/h$1/loadd.sock"; }
fleet_loadd_pid() { echo "${FLEET_LOADD_PID[$1]:-}"; }

# fleet_ssh I CMD...: run CMD on host I (its namespace) over ssh.  The
# words are quoted for the remote shell.
fleet_ssh() {
	local i=$1
	shift
	timeout 30 ssh -F "$FLEET_SSH_CONFIG" "root@$(fleet_addr "$i")" \
	    "$(printf '%q ' "$@")"
}

# fleet_ctl I ARGS...: plain loadctl on host I, against its daemon.
fleet_ctl() {
	local i=$1
	shift
	fleet_ssh "$i" "$LOADCTL" -s "$(fleet_sock "$i")" "$@"
}

# fleet_gone PID: the process has exited (gone, or a zombie not reaped).
fleet_gone() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 0
	[ "${st%% *}" = Z ]
}

# fleet_child PID PROGRAM: the child of PID (a timeout) that runs
# PROGRAM (once it has exec'd it), waited for up to 5 s.
fleet_child() {
	local c i want
	want=$(readlink -f "$2")
	for i in $(seq 1 100); do
		for c in $(cat "/proc/$1/task/$1/children" 2>/dev/null); do
			if [ "$(readlink "/proc/$c/exe" 2>/dev/null)" = "$want" ]; then
				echo "$c"
				return 0
			fi
		done
		fleet_gone "$1" && break
		sleep 0.05
	done
	return 1
}

# fleet_stop PID...: SIGTERM, then SIGKILL to those left after 10 s.
fleet_stop() {
	local p i left
	for p in "$@"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for i in $(seq 1 200); do
		left=0
		for p in "$@"; do
			fleet_gone "$p" || left=1
		done
		[ "$left" = 1 ] || return 0
		sleep 0.05
	done
	for p in "$@"; do
		fleet_gone "$p" || kill -KILL "$p" 2>/dev/null || true
	done
}

# fleet_sink_json: each sink's stats, one line each.
fleet_sink_json() {
	local j
	for j in $(seq 1 "$FLEET_SINKS"); do
		printf 'stats\n' | socat -t 5 - "UNIX-CONNECT:$TMP/sink$j.sock"
	done
}

# fleet_sink_sources: open connections by source address, over all sinks.
fleet_sink_sources() {
	fleet_sink_json | jq -cs 'map(.sources | to_entries[]) | group_by(.key) |
	    map({key: .[0].key, value: (map(.value) | add)}) | from_entries'
}

# fleet_sink_source ADDR: open connections from ADDR (0 if none).
fleet_sink_source() {
	fleet_sink_sources | jq --arg a "$1" '.[$a] // 0'
}

# fleet_sink_sum FIELD: a counter of the sinks' stats, added up.
fleet_sink_sum() {
	fleet_sink_json | jq -s --arg f "$1" 'map(.[$f]) | add'
}

# fleet_can: can this machine build the bed?  Tried in a namespace of
# its own, deleted at once.
fleet_can() {
	local ns=lf-probe-$FLEET_ID rc=0
	command -v ip >/dev/null || return 1
	ip netns add "$ns" 2>/dev/null || return 1
	{ ip -n "$ns" link add lf-pb type bridge &&
	    ip -n "$ns" link add lf-pv type veth peer name lf-pw &&
	    ip -n "$ns" link set lf-pv master lf-pb &&
	    ip netns exec "$ns" true; } >/dev/null 2>&1 || rc=1
	ip netns del "$ns" 2>/dev/null || true
	return "$rc"
}

# fleet_sysctl NS KEY=VALUE...: set sysctls inside namespace NS.
fleet_sysctl() {
	local ns=$1
	shift
	ip netns exec "$ns" sysctl -qw "$@" >/dev/null ||
	    fail "sysctl $* in $ns"
}

# fleet_netns NAME: create a namespace, lo up, IPv6 off for its new
# interfaces (lo keeps ::1).
fleet_netns() {
	ip netns add "$1" || fail "ip netns add $1"
	FLEET_NSS+=("$1")
	ip -n "$1" link set lo up
	fleet_sysctl "$1" net.ipv6.conf.default.disable_ipv6=1
}

# fleet_pick_net: the first 198.18.K.0/24 that nothing in the root
# namespace covers, taken by giving the root link NET.254 (under a lock,
# so that two beds never pick the same).
fleet_pick_net() {
	local k fd routes
	exec {fd}>"$FLEET_LOCK"
	flock -w 30 "$fd" || fail "no lock on $FLEET_LOCK in 30 s"
	for k in $(seq 0 255); do
		[ -z "$(ip -4 -o addr show to "198.18.$k.0/24")" ] || continue
		# Routes inside the /24, and routes holding it but the default.
		routes=$(ip -4 route show root "198.18.$k.0/24"
		    ip -4 route show match "198.18.$k.0/24") || routes=x
		[ -z "$(grep -v '^default' <<<"$routes")" ] || continue
		FLEET_NET=198.18.$k
		break
	done
	if [ -z "$FLEET_NET" ]; then
		exec {fd}>&-
		fail "every 198.18.K.0/24 is in use in the root namespace"
	fi
	ip addr add "$FLEET_NET.254/24" dev "$FLEET_ROOT_LINK" ||
	    fail "ip addr add $FLEET_NET.254/24"
	exec {fd}>&-
}

# fleet_sweep: delete what a bed killed hard (SIGKILL: no cleanup) left
# behind: namespaces and root links named by this file's scheme whose test
# (the PID in the name) is gone and in which nothing runs any more (every
# process the bed starts lives FLEET_LIFE seconds at most).
fleet_sweep() {
	local ns pid l
	for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }'); do
		[[ "$ns" =~ ^lf-(sink|h[0-9]+)-([0-9]+)$ ]] || continue
		pid=${BASH_REMATCH[2]}
		[ ! -e "/proc/$pid" ] || continue
		[ -z "$(ip netns pids "$ns" 2>/dev/null)" ] || continue
		say "deleting $ns, left by test $pid"
		ip netns del "$ns" 2>/dev/null || true
	done
	for l in $(ip -o link show 2>/dev/null |
	    sed -n 's/^[0-9]*: \(lf-r[0-9]*\)@.*/\1/p'); do
		pid=${l#lf-r}
		[ ! -e "/proc/$pid" ] || continue
		[ -z "$(ip netns pids "lf-sink-$pid" 2>/dev/null)" ] || continue
		say "deleting link $l, left by test $pid"
		ip link del "$l" 2>/dev/null || true
	done
}

# fleet_reaches NS ADDR: a TCP connect from NS to ADDR port 1 (where
# nothing listens) is refused: the SYN got there and the reset came back.
fleet_reaches() {
	local out
	out=$(ip netns exec "$1" timeout 2 bash -c \
	    "exec 3<>/dev/tcp/$2/1" 2>&1) && return 1
	[[ "$out" == *"refused"* ]]
}

# fleet_profile I: write host I's profile to $TMP/hI/loadd.conf.
fleet_profile() {
	local i=$1
	cat >"$(fleet_dir "$i")/loadd.conf" <<EOF
daemon = { socket = "$(fleet_sock "$i")"; stats_interval = "200ms";
  workers = $FLEET_WORKERS; $FLEET_DAEMON };
loads = (
  { name = "web"; target = "$FLEET_SINK_ADDR:$FLEET_PORT"; connections = 0;
    max_connections = $FLEET_MAX; $FLEET_WEB }$FLEET_LOADS
);
EOF
}

# fleet_start_host I: start host I's loadd (its profile as it is now) and
# wait for its control socket.
fleet_start_host() {
	local i=$1 w p sock hard
	sock=$(fleet_sock "$i")
	hard=$(ulimit -H -n)
	# The soft limit up to the hard one (loadd raises it too), and a
	# lifetime, so that a test killed hard leaves nothing running.
	(
		ulimit -S -n "$hard"
		exec ip netns exec "$(fleet_ns "$i")" timeout -k 5 "$FLEET_LIFE" \
		    "$LOADD" -f "$(fleet_dir "$i")/loadd.conf"
	) >>"$(fleet_dir "$i")/loadd.log" 2>&1 &
	w=$!
	FLEET_LOADD_WRAP[i]=$w
	p=$(fleet_child "$w" "$LOADD") || fail "host $i: loadd did not start: $(tail -n 5 "$(fleet_dir "$i")/loadd.log")"
	FLEET_LOADD_PID[i]=$p
	wait_for "host $i's loadd control socket" 10 "$LOADCTL" -s "$sock" version
}

# fleet_kill_host I [SIGNAL]: kill host I's loadd (SIGKILL by default: a
# daemon that dies) by its PID, and wait until it is gone.
fleet_kill_host() {
	local i=$1 sig=${2:-KILL} p n
	p=${FLEET_LOADD_PID[$i]:-}
	[ -n "$p" ] || fail "host $i has no loadd running"
	kill "-$sig" "$p" || fail "kill -$sig $p (host $i's loadd)"
	for n in $(seq 1 200); do
		fleet_gone "$p" && break
		[ "$n" -lt 200 ] || fail "host $i's loadd ($p) lives on after SIG$sig"
		sleep 0.05
	done
	wait "${FLEET_LOADD_WRAP[$i]}" 2>/dev/null || true
	FLEET_LOADD_PID[i]=
	FLEET_LOADD_WRAP[i]=
}

# fleet_sshd I: host I's host key, config and sshd; its known_hosts line.
fleet_sshd() {
	local i=$1 d addr
	d=$(fleet_dir "$i")
	addr=$(fleet_addr "$i")
	ssh-keygen -q -t ed25519 -N '' -C "loadd-fleet-h$i" \
	    -f "$d/ssh_host_ed25519_key" || fail "ssh-keygen (host $i)"
	printf '%s %s\n' "$addr" "$(cut -d' ' -f1,2 "$d/ssh_host_ed25519_key.pub")" \
	    >>"$TMP/known_hosts"
	cat >"$d/sshd_config" <<EOF
ListenAddress $addr:22
HostKey $d/ssh_host_ed25519_key
PidFile $d/sshd.pid
AuthorizedKeysFile $TMP/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
HostbasedAuthentication no
UsePAM no
StrictModes no
X11Forwarding no
AllowAgentForwarding no
AllowTcpForwarding no
AllowStreamLocalForwarding no
PermitTunnel no
GatewayPorts no
PermitUserEnvironment no
PrintMotd no
PrintLastLog no
UseDNS no
MaxStartups 64
MaxSessions 64
LogLevel INFO
EOF
	ip netns exec "$(fleet_ns "$i")" timeout -k 5 "$FLEET_LIFE" \
	    /usr/sbin/sshd -D -e -f "$d/sshd_config" >>"$d/sshd.log" 2>&1 &
	FLEET_SSHD_WRAP[i]=$!
}

# fleet_ssh_ok I: ssh into host I runs a command there.
fleet_ssh_ok() {
	timeout 10 ssh -F "$FLEET_SSH_CONFIG" "root@$(fleet_addr "$1")" true
}

# fleet_bed N [MAX_CONNECTIONS [CAP]]: the whole bed (see the top).
# MAX_CONNECTIONS (default 1000) is each host's max_connections for web;
# CAP (default MAX_CONNECTIONS; 0 for none) each host's cap in fleet.conf.
fleet_bed() {
	local n=$1 i j d ns cap c f
	FLEET_MAX=${2:-1000}
	cap=${3:-$FLEET_MAX}
	[ "$n" -ge 1 ] && [ "$n" -le 100 ] || fail "fleet_bed: 1 to 100 hosts"
	for c in ip ssh ssh-keygen socat jq flock timeout sysctl; do
		command -v "$c" >/dev/null || fail "fleet_bed needs $c"
	done
	if ! fleet_can; then
		say "skipped: cannot create network namespaces, a bridge and" \
		    "veth pairs here (needs root and ip netns)"
		exit 77
	fi
	[ -x /usr/sbin/sshd ] ||
	    fail "no /usr/sbin/sshd: install openssh-server (.ci/deps)"
	# sshd needs its privilege separation directory (the Debian unit
	# makes it at boot).  Left in place: another bed may be using it.
	[ -d /run/sshd ] || mkdir -m 0755 /run/sshd || fail "mkdir /run/sshd"
	FLEET_N=$n
	fleet_sweep

	say "bed: $n hosts, a bridge and $FLEET_SINKS sink(s) in namespaces"
	fleet_netns "$FLEET_SINK_NS"
	ns=$FLEET_SINK_NS
	fleet_sysctl "$ns" net.core.somaxconn=65535 \
	    net.ipv4.tcp_max_syn_backlog=65535
	# No iptables on bridged frames (br_netfilter, where it is loaded).
	for f in iptables ip6tables arptables; do
		if ip netns exec "$ns" test -e \
		    "/proc/sys/net/bridge/bridge-nf-call-$f"; then
			fleet_sysctl "$ns" "net.bridge.bridge-nf-call-$f=0"
		fi
	done
	ip -n "$ns" link add br0 type bridge || fail "bridge in $ns"
	# The root namespace's way in: made here, its other end on the bridge.
	ip link add "$FLEET_ROOT_LINK" type veth peer name vroot netns "$ns" ||
	    fail "ip link add $FLEET_ROOT_LINK"
	FLEET_LINK_MADE=1
	if [ -e "/proc/sys/net/ipv6/conf/$FLEET_ROOT_LINK/disable_ipv6" ]; then
		echo 1 >"/proc/sys/net/ipv6/conf/$FLEET_ROOT_LINK/disable_ipv6"
	fi
	ip -n "$ns" link set vroot master br0 up
	fleet_pick_net
	FLEET_SINK_ADDR=$FLEET_NET.1
	ip -n "$ns" addr add "$FLEET_SINK_ADDR/24" dev br0
	ip -n "$ns" link set br0 up
	ip link set "$FLEET_ROOT_LINK" up
	for i in $(seq 1 "$n"); do
		ns=$(fleet_ns "$i")
		d=$(fleet_dir "$i")
		mkdir -p "$d"
		fleet_netns "$ns"
		# Wide ephemeral range: one address, one target, 19,000+ ports.
		fleet_sysctl "$ns" net.ipv4.ip_local_port_range="1024 65535"
		ip -n "$FLEET_SINK_NS" link add "vh$i" type veth peer name eth0 \
		    netns "$ns" || fail "veth for host $i"
		ip -n "$FLEET_SINK_NS" link set "vh$i" master br0 up
		ip -n "$ns" addr add "$(fleet_addr "$i")/24" dev eth0
		ip -n "$ns" link set eth0 up
	done
	say "net $FLEET_NET.0/24: sink $FLEET_SINK_ADDR, hosts" \
	    "$(fleet_addr 1)..$(fleet_addr "$n"), this namespace $FLEET_NET.254"
	for i in $(seq 1 "$n"); do
		wait_for "host $i reaching $FLEET_SINK_ADDR" 10 \
		    fleet_reaches "$(fleet_ns "$i")" "$FLEET_SINK_ADDR"
	done

	# The sinks, on one port (-R when there are several).
	local reuse=()
	[ "$FLEET_SINKS" -eq 1 ] || reuse=(-R)
	for j in $(seq 1 "$FLEET_SINKS"); do
		ip netns exec "$FLEET_SINK_NS" "$SINK" "${reuse[@]}" \
		    -l "$FLEET_SINK_ADDR:$FLEET_PORT" -m "$FLEET_SINK_MODE" \
		    -P "$TMP/sink$j.port" -S "$TMP/sink$j.sock" \
		    -t "$FLEET_LIFE" -q >>"$TMP/sink$j.out" 2>&1 &
		FLEET_SINK_PIDS+=($!)
	done
	for j in $(seq 1 "$FLEET_SINKS"); do
		wait_for "sink $j listening" 10 test -s "$TMP/sink$j.port"
		wait_for "sink $j report socket" 10 test -S "$TMP/sink$j.sock"
	done

	# ssh: a client key, each host's key, config and sshd.
	ssh-keygen -q -t ed25519 -N '' -C loadd-fleet-client \
	    -f "$TMP/fleet_key" || fail "ssh-keygen"
	cp "$TMP/fleet_key.pub" "$TMP/authorized_keys"
	: >"$TMP/known_hosts"
	for i in $(seq 1 "$n"); do
		fleet_sshd "$i"
	done
	cat >"$FLEET_SSH_CONFIG" <<EOF
Host *
  User root
  IdentityFile $TMP/fleet_key
  IdentitiesOnly yes
  IdentityAgent none
  UserKnownHostsFile $TMP/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  UpdateHostKeys no
  CheckHostIP no
  BatchMode yes
  PasswordAuthentication no
  KbdInteractiveAuthentication no
  ForwardAgent no
  ForwardX11 no
  ClearAllForwardings yes
  ConnectTimeout 5
  LogLevel ERROR
EOF
	for i in $(seq 1 "$n"); do
		wait_for "ssh into host $i ($(fleet_addr "$i"))" 60 fleet_ssh_ok "$i"
	done

	# The daemons.
	for i in $(seq 1 "$n"); do
		fleet_profile "$i"
		fleet_start_host "$i"
	done

	# The fleet file.
	{
		printf 'fleet = {\n  ssh_options = [ "-F", "%s" ];\n' \
		    "$FLEET_SSH_CONFIG"
		# The hosts share our file system: this build's loadctl.
		printf '  loadctl = "%s";\n' "$LOADCTL"
		printf '  control_path = "%s/cm-%%C";\n};\nhosts = (\n' "$TMP"
		for i in $(seq 1 "$n"); do
			printf '  { name = "h%d"; ssh = "root@%s"; socket = "%s";' \
			    "$i" "$(fleet_addr "$i")" "$(fleet_sock "$i")"
			[ "$cap" = 0 ] || printf ' cap = %d;' "$cap"
			printf ' }%s\n' "$([ "$i" -lt "$n" ] && echo ,)"
		done
		printf ');\n'
	} >"$FLEET_CONF"
	say "bed up: ssh and loadd on $n hosts; $FLEET_CONF"
}

# fleet_teardown RC: stop what the bed started, delete what it made.
# Returns 1 if a loadd did not exit 0 on SIGTERM (as stop_loadd checks:
# under ThreadSanitizer a race makes it exit 66).
fleet_teardown() {
	local rc=$1 i p f k ns kids pids=() wraps=() st bad=0 left
	if [ "$rc" -ne 0 ] && [ -n "$FLEET_NET" ]; then
		for i in $(seq 1 "$FLEET_N"); do
			for f in loadd.log sshd.log; do
				[ -s "$TMP/h$i/$f" ] || continue
				echo "--- host $i $f (last 15 lines) ---"
				tail -n 15 "$TMP/h$i/$f"
			done
		done
	fi
	# The programs themselves (their timeouts then exit): each loadd,
	# each sshd and its sessions (which leave its process group), the
	# sinks.
	for i in $(seq 1 "$FLEET_N"); do
		[ -z "${FLEET_LOADD_PID[$i]:-}" ] || pids+=("${FLEET_LOADD_PID[$i]}")
		[ -z "${FLEET_LOADD_WRAP[$i]:-}" ] || wraps+=("${FLEET_LOADD_WRAP[$i]}")
		p=${FLEET_SSHD_WRAP[$i]:-}
		[ -n "$p" ] || continue
		wraps+=("$p")
		p=$(fleet_child "$p" /usr/sbin/sshd) || continue
		kids=$(cat "/proc/$p/task/$p/children" 2>/dev/null) || kids=
		for k in $kids; do
			pids+=("$k")
		done
		pids+=("$p")
	done
	pids+=("${FLEET_SINK_PIDS[@]}")
	[ "${#pids[@]}" -eq 0 ] || fleet_stop "${pids[@]}"
	# The timeouts end with their programs; any left (its program never
	# seen) is stopped.
	for i in $(seq 1 40); do
		k=0
		for p in "${wraps[@]}"; do
			fleet_gone "$p" || k=1
		done
		[ "$k" = 1 ] || break
		sleep 0.05
	done
	left=()
	for p in "${wraps[@]}"; do
		fleet_gone "$p" || left+=("$p")
	done
	[ "${#left[@]}" -eq 0 ] || fleet_stop "${left[@]}"
	for i in $(seq 1 "$FLEET_N"); do
		p=${FLEET_LOADD_WRAP[$i]:-}
		[ -n "$p" ] || continue
		st=0
		wait "$p" 2>/dev/null || st=$?
		if [ "$st" -ne 0 ]; then
			echo "[$TEST_NAME] FAIL: host $i's loadd exited with $st" \
			    "after SIGTERM" >&2
			tail -n 15 "$TMP/h$i/loadd.log"
			bad=1
		fi
	done
	for p in "${pids[@]}" "${wraps[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	if [ "$FLEET_LINK_MADE" = 1 ]; then
		ip link del "$FLEET_ROOT_LINK" 2>/dev/null || true
	fi
	for ns in "${FLEET_NSS[@]}"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	return "$bad"
}

fleet_cleanup() {
	local rc=$?
	set +e
	fleet_teardown "$rc" || [ "$rc" -ne 0 ] || rc=1
	(exit "$rc")
	cleanup
}
trap fleet_cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
