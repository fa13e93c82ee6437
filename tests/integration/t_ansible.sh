#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# contrib/ansible (issue 13): `ansible-playbook --syntax-check` takes
# site.yml with inventory.example, and refuses a broken copy; the example
# inventory has the hosts it says.  Then the role's own parts, on this
# machine only and into a temporary directory (the playbook is never run
# against a host): its checks refuse bad variables (a host label with a
# quote, a backslash or 65 bytes, a descriptor limit below the ceiling, a
# malformed port range); its templates render to a profile that
# `loadd -n` accepts with daemon.host set, sysctls that raise fs.nr_open
# and fs.file-max and never lower them, a drop-in with LimitNOFILE and the
# socket group, the controller's keys restricted to `loadctl proxy`, and
# the unit as `cmake --install` makes it.
#
# Needs ansible-playbook (Debian: ansible-core).  Without it the test
# fails in CI (CI=true) and is skipped (77) elsewhere.
. "$(dirname "$0")/lib.sh"

if ! command -v ansible-playbook >/dev/null; then
	[ "${CI:-}" != true ] ||
	    fail "ansible-playbook not found (Debian: ansible-core; sh .ci/deps installs it)"
	say "skipped: ansible-playbook not found (Debian package ansible-core)"
	exit 77
fi
A=$TOP/contrib/ansible
ROLE=$A/roles/loadd_host
# Ansible's own files go to the test's directory, not to ~/.ansible.
export ANSIBLE_HOME=$TMP/ansible ANSIBLE_LOCAL_TEMP=$TMP/ansible/tmp
export ANSIBLE_REMOTE_TEMP=$TMP/ansible/rtmp ANSIBLE_NOCOLOR=1
export ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_ROLES_PATH=$A/roles
ansible-playbook --version >"$TMP/version" 2>&1 || fail "ansible-playbook --version"
say "$(head -n1 "$TMP/version")"

say "ansible-playbook --syntax-check site.yml"
(cd "$TOP" && ansible-playbook --syntax-check \
    -i contrib/ansible/inventory.example contrib/ansible/site.yml) \
    >"$TMP/syntax.out" 2>&1 || {
	cat "$TMP/syntax.out" >&2
	fail "syntax check failed"
}
grep -q "playbook: contrib/ansible/site.yml" "$TMP/syntax.out" ||
    fail "syntax check said: $(cat "$TMP/syntax.out")"
if grep -qi "warning" "$TMP/syntax.out"; then
	fail "syntax check warned: $(cat "$TMP/syntax.out")"
fi

say "the example inventory: six load hosts, loopback and 198.18 only"
ansible-inventory -i "$A/inventory.example" --list >"$TMP/inv.json" 2>"$TMP/inv.err" ||
    fail "ansible-inventory: $(cat "$TMP/inv.err")"
hosts=$(jq -r '.load_hosts.hosts | sort | join(" ")' "$TMP/inv.json")
[ "$hosts" = "here lg-1 lg-2 lg-3 lg-4 lg-5" ] || fail "load_hosts: $hosts"
jq -r '._meta.hostvars[].ansible_host' "$TMP/inv.json" | while read -r a; do
	case $a in
	127.0.0.1 | 198.18.*) ;;
	*) fail "inventory.example names $a" ;;
	esac
done

say "--syntax-check refuses a broken playbook and an unknown module"
mkdir -p "$TMP/broken"
cp -r "$A/roles" "$TMP/broken/"
sed 's/^  roles:/  rolez:/' "$A/site.yml" >"$TMP/broken/site.yml"
rc=0
ansible-playbook --syntax-check -i "$A/inventory.example" \
    "$TMP/broken/site.yml" >"$TMP/broken.out" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "a play with 'rolez' passed the syntax check"
cp "$A/site.yml" "$TMP/broken/site.yml"
sed -i 's/ansible.builtin.template:/ansible.builtin.templat:/' \
    "$TMP/broken/roles/loadd_host/tasks/main.yml"
rc=0
ANSIBLE_ROLES_PATH=$TMP/broken/roles ansible-playbook --syntax-check \
    -i "$A/inventory.example" "$TMP/broken/site.yml" >"$TMP/broken.out" 2>&1 ||
    rc=$?
[ "$rc" -ne 0 ] || fail "an unknown module passed the syntax check"

# ------------------------------------------- the role's parts, locally

# A play that runs the role's checks and renders its files into OUT, on
# this machine, with the role's defaults and what -e gives.
cat >"$TMP/render.yml" <<EOF
- name: The role's checks and files, rendered here (never on a host)
  hosts: localhost
  connection: local
  gather_facts: false
  vars_files:
    - $ROLE/defaults/main.yml
  tasks:
    - name: The role's checks
      ansible.builtin.include_role:
        name: loadd_host
        tasks_from: check.yml
    - name: The sysctls
      ansible.builtin.template:
        src: $ROLE/templates/60-loadd.conf.j2
        dest: "{{ out }}/60-loadd.conf"
        mode: "0644"
    - name: The drop-in
      ansible.builtin.template:
        src: $ROLE/templates/fleet.conf.j2
        dest: "{{ out }}/50-fleet.conf"
        mode: "0644"
    - name: The starter profile
      ansible.builtin.template:
        src: $ROLE/templates/loadd.conf.j2
        dest: "{{ out }}/loadd.conf"
        mode: "0644"
    - name: The controller's keys
      ansible.builtin.template:
        src: $ROLE/templates/authorized_keys.j2
        dest: "{{ out }}/authorized_keys"
        mode: "0600"
    - name: The unit
      ansible.builtin.copy:
        content: "{{ loadd_unit }}"
        dest: "{{ out }}/loadd.service"
        mode: "0644"
EOF
# render OUT FILE-MAX NR-OPEN [ansible-playbook options...]: OUT gets the
# files, for a host whose kernel has FILE-MAX and NR-OPEN.
render() {
	local out=$1 fm=$2 no=$3
	shift 3
	mkdir -p "$out"
	ansible-playbook -i localhost, "$TMP/render.yml" -e "out=$out" \
	    -e "loadd_source_dir=$TOP" -e inventory_hostname=lg-test \
	    -e "{\"loadd_fs_now\": {\"stdout_lines\": [\"$fm\", \"$no\"]}}" \
	    "$@" >"$out.log" 2>&1
}
# expect_refused WHAT ansible-playbook options...: the checks refuse it.
expect_refused() {
	local what=$1 rc=0
	shift
	render "$TMP/bad" 1000 1000 "$@" || rc=$?
	[ "$rc" -ne 0 ] || fail "the role's checks took $what"
	grep -q "loadd_host_label 1 to 64" "$TMP/bad.log" ||
	    fail "$what: no reason given: $(tail -5 "$TMP/bad.log")"
	[ ! -e "$TMP/bad/loadd.conf" ] || fail "$what: files made all the same"
}

say "the role's files, for a kernel with low limits"
OUT=$TMP/low
render "$OUT" 100000 1048576 -e loadd_host_label=lg-7.example \
    -e loadd_nofile=2097152 -e loadd_target=127.0.0.1:9 \
    -e '{"loadd_controller_keys": "ssh-ed25519 AAAAkey1 fleet@ctl\n\nssh-ed25519 AAAAkey2 other@ctl"}' ||
    fail "render: $(tail -20 "$OUT.log")"
# The profile: loadd -n takes it, and it says what the variables said.
"$LOADD" -n -f "$OUT/loadd.conf" >"$TMP/n.out" 2>&1 ||
    fail "loadd -n rejects the starter profile: $(cat "$TMP/n.out")"
grep -qx '	host = "lg-7.example";' "$OUT/loadd.conf" || fail "no daemon.host"
grep -qx '	metrics_listen = "127.0.0.1:9464";' "$OUT/loadd.conf" ||
    fail "no metrics_listen"
grep -qx '		max_connections = 19000;' "$OUT/loadd.conf" ||
    fail "no max_connections"
# The sysctls: the kernel's low values raised.
want="net.ipv4.ip_local_port_range = 15000 64999
net.ipv4.tcp_tw_reuse = 1
fs.nr_open = 2097152
fs.file-max = 2097152"
[ "$(grep -v '^#' "$OUT/60-loadd.conf" | grep .)" = "$want" ] ||
    fail "sysctls: $(cat "$OUT/60-loadd.conf")"
# The drop-in.
want="[Service]
LimitNOFILE=2097152
DynamicUser=no
User=loadd
Group=loadd"
[ "$(grep -v '^#' "$OUT/50-fleet.conf")" = "$want" ] ||
    fail "drop-in: $(cat "$OUT/50-fleet.conf")"
# The keys: two, each forced to the proxy; the empty line dropped.
want='restrict,command="/usr/local/bin/loadctl -s /run/loadd/loadd.sock proxy" ssh-ed25519 AAAAkey1 fleet@ctl
restrict,command="/usr/local/bin/loadctl -s /run/loadd/loadd.sock proxy" ssh-ed25519 AAAAkey2 other@ctl'
[ "$(grep -v '^#' "$OUT/authorized_keys")" = "$want" ] ||
    fail "authorized_keys: $(cat "$OUT/authorized_keys")"
# The unit: as cmake --install makes it for /usr/local/sbin and /etc.
sed -e 's|@CMAKE_INSTALL_FULL_SBINDIR@|/usr/local/sbin|g' \
    -e 's|@CMAKE_INSTALL_FULL_SYSCONFDIR@|/etc|g' \
    "$TOP/systemd/loadd.service.in" >"$TMP/loadd.service"
cmp -s "$TMP/loadd.service" "$OUT/loadd.service" ||
    fail "the unit differs: $(diff "$TMP/loadd.service" "$OUT/loadd.service")"

say "for a kernel with high limits, and keys as a list, unrestricted"
OUT=$TMP/high
render "$OUT" 9223372036854775807 4194304 -e loadd_controller_restrict=false \
    -e '{"loadd_controller_keys": ["ssh-ed25519 AAAAkey3 x@y"]}' \
    -e loadd_metrics_listen= ||
    fail "render: $(tail -20 "$OUT.log")"
grep -qx 'fs.nr_open = 4194304' "$OUT/60-loadd.conf" || fail "nr_open lowered"
grep -qx 'fs.file-max = 9223372036854775807' "$OUT/60-loadd.conf" ||
    fail "file-max lowered"
[ "$(grep -v '^#' "$OUT/authorized_keys")" = "ssh-ed25519 AAAAkey3 x@y" ] ||
    fail "authorized_keys: $(cat "$OUT/authorized_keys")"
grep -q metrics_listen "$OUT/loadd.conf" && fail "metrics_listen without a listener"
"$LOADD" -n -f "$OUT/loadd.conf" >"$TMP/n.out" 2>&1 ||
    fail "loadd -n rejects the starter profile: $(cat "$TMP/n.out")"
# Without loadd_host_label the inventory name is the host label.
grep -qx '	host = "lg-test";' "$OUT/loadd.conf" || fail "host is not lg-test"

say "a 64-byte host label, and one with spaces and punctuation, pass"
L64=$(printf 'h%.0s' $(seq 64))
render "$TMP/ok64" 1 1 -e "loadd_host_label=$L64" ||
    fail "a 64-byte label refused: $(tail -5 "$TMP/ok64.log")"
grep -qx "	host = \"$L64\";" "$TMP/ok64/loadd.conf" || fail "no 64-byte host"
render "$TMP/okp" 1 1 -e '{"loadd_host_label": "lg-1.example (rack #7, row 3)"}' ||
    fail "a label with punctuation refused: $(tail -5 "$TMP/okp.log")"
"$LOADD" -n -f "$TMP/okp/loadd.conf" >"$TMP/n.out" 2>&1 ||
    fail "loadd -n rejects the label: $(cat "$TMP/n.out")"

say "the role's checks refuse bad variables"
expect_refused 'a host label with a quote' -e '{"loadd_host_label": "lg\"1"}'
expect_refused 'a host label with a backslash' \
    -e '{"loadd_host_label": "lg\\1"}'
expect_refused 'a host label with a tab' -e '{"loadd_host_label": "lg\t1"}'
expect_refused 'a 65-byte host label' \
    -e "loadd_host_label=$(printf 'h%.0s' $(seq 65))"
expect_refused 'an empty host label' -e 'loadd_host_label='
expect_refused 'LimitNOFILE below the ceiling' -e loadd_nofile=19000
expect_refused 'a malformed port range' \
    -e 'loadd_ip_local_port_range=15000-64999'
expect_refused 'an unknown way to install' -e loadd_install_from=rpm
expect_refused 'deb without a package' -e loadd_install_from=deb
say ok
