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

# One play, on this machine only, runs the role's checks and renders its
# files for each case of cases.json, and writes what it made to one JSON
# file: {CASE: {FILE: TEXT}}, or {CASE: {"REFUSED": MESSAGE}} when the
# checks refuse the case.  One ansible-playbook for all the cases, and
# lookups rather than modules, as each costs a process.
cat >"$TMP/case.yml" <<EOF
- name: "Case {{ case.name }}"
  block:
    - name: The case's variables
      ansible.builtin.set_fact:
        loadd_nofile: "{{ case.nofile | default(1048576) }}"
        loadd_ip_local_port_range: "{{ case.ports | default('15000 64999') }}"
        loadd_install_from: "{{ case.install | default('tree') }}"
        loadd_controller_keys: "{{ case['keys'] | default([]) }}"
        loadd_controller_restrict: "{{ case.restrict | default(true) }}"
        loadd_metrics_listen: "{{ case.metrics | default('127.0.0.1:9464') }}"
        loadd_fs_now:
          stdout_lines: "{{ case.fs | default(['1', '1']) }}"
    # A fact cannot be unset: the first case, without a label, has the
    # role's default (the inventory name); the others set their own.
    - name: The case's host label
      ansible.builtin.set_fact:
        loadd_host_label: "{{ case.label }}"
      when: case.label is defined
    - name: The role's checks
      ansible.builtin.include_role:
        name: loadd_host
        tasks_from: check.yml
    - name: The role's files
      ansible.builtin.set_fact:
        made: >-
          {{ made | combine({case.name: {
               '60-loadd.conf': lookup('ansible.builtin.template',
                                       '$ROLE/templates/60-loadd.conf.j2'),
               '50-fleet.conf': lookup('ansible.builtin.template',
                                       '$ROLE/templates/fleet.conf.j2'),
               'loadd.conf': lookup('ansible.builtin.template',
                                    '$ROLE/templates/loadd.conf.j2'),
               'authorized_keys': lookup('ansible.builtin.template',
                                         '$ROLE/templates/authorized_keys.j2'),
               'loadd.service': loadd_unit}}) }}
  rescue:
    - name: Why it was refused
      ansible.builtin.set_fact:
        made: >-
          {{ made | combine({case.name: {'REFUSED':
               ansible_failed_result.msg | default('no message')}}) }}
EOF
cat >"$TMP/render.yml" <<EOF
- name: The role's checks and files, rendered here (never on a host)
  hosts: localhost
  connection: local
  gather_facts: false
  vars_files:
    - $ROLE/defaults/main.yml
    - $TMP/cases.json
  tasks:
    - name: Nothing made yet
      ansible.builtin.set_fact:
        made: {}
    - name: Each case
      ansible.builtin.include_tasks: $TMP/case.yml
      loop: "{{ cases }}"
      loop_control:
        loop_var: case
    - name: What was made
      ansible.builtin.copy:
        content: "{{ made | to_json }}"
        dest: "{{ outjson }}"
        mode: "0644"
EOF
L64=$(printf 'h%.0s' $(seq 64))
L65=${L64}h
cat >"$TMP/cases.json" <<EOF
{ "cases": [
  { "name": "default-label", "fs": ["9223372036854775807", "4194304"],
    "keys": ["ssh-ed25519 AAAAkey3 x@y"], "restrict": false, "metrics": "" },
  { "name": "low", "label": "lg-7.example", "nofile": 2097152,
    "fs": ["100000", "1048576"],
    "keys": "ssh-ed25519 AAAAkey1 fleet@ctl\n\nssh-ed25519 AAAAkey2 other@ctl" },
  { "name": "ok64", "label": "$L64" },
  { "name": "punct", "label": "lg-1.example (rack #7, row 3)" },
  { "name": "bad-quote", "label": "lg\"1" },
  { "name": "bad-backslash", "label": "lg\\\\1" },
  { "name": "bad-tab", "label": "lg\t1" },
  { "name": "bad-65", "label": "$L65" },
  { "name": "bad-empty", "label": "" },
  { "name": "bad-nofile", "label": "x", "nofile": 19000 },
  { "name": "bad-ports", "label": "x", "ports": "15000-64999" },
  { "name": "bad-install", "label": "x", "install": "rpm" },
  { "name": "bad-deb", "label": "x", "install": "deb" },
  { "name": "last-good", "label": "x" }
] }
EOF
OUT=$TMP/out
say "the role's checks and templates, rendered here for 14 cases"
ANSIBLE_PIPELINING=1 ansible-playbook -i localhost, "$TMP/render.yml" \
    -e "outjson=$TMP/made.json" -e "loadd_source_dir=$TOP" \
    -e inventory_hostname=lg-test >"$TMP/render.log" 2>&1 ||
    fail "render: $(tail -20 "$TMP/render.log")"
# Each case's files into OUT/CASE/FILE.
jq -r 'keys[]' "$TMP/made.json" >"$TMP/cases.txt"
[ "$(wc -l <"$TMP/cases.txt")" -eq 14 ] ||
    fail "not 14 cases made: $(cat "$TMP/cases.txt")"
while read -r c; do
	mkdir -p "$OUT/$c"
	jq -r --arg c "$c" '.[$c] | keys[]' "$TMP/made.json" |
	    while read -r f; do
		jq -j --arg c "$c" --arg f "$f" '.[$c][$f]' "$TMP/made.json" \
		    >"$OUT/$c/$f"
	    done
done <"$TMP/cases.txt"

for c in bad-quote bad-backslash bad-tab bad-65 bad-empty bad-nofile \
    bad-ports bad-install bad-deb; do
	[ -f "$OUT/$c/REFUSED" ] || fail "the role's checks took $c"
	grep -q "loadd_host_label 1 to 64" "$OUT/$c/REFUSED" ||
	    fail "$c: no reason given: $(cat "$OUT/$c/REFUSED")"
	[ ! -e "$OUT/$c/loadd.conf" ] || fail "$c: files made all the same"
done
for c in default-label low ok64 punct last-good; do
	[ ! -e "$OUT/$c/REFUSED" ] || fail "$c refused: $(cat "$OUT/$c/REFUSED")"
	# The profile: loadd -n takes it.
	"$LOADD" -n -f "$OUT/$c/loadd.conf" >"$TMP/n.out" 2>&1 ||
	    fail "$c: loadd -n rejects the starter profile: $(cat "$TMP/n.out")"
done

say "low kernel limits: raised; the profile says what the variables said"
C=$OUT/low
grep -qx '	host = "lg-7.example";' "$C/loadd.conf" || fail "no daemon.host"
grep -qx '	metrics_listen = "127.0.0.1:9464";' "$C/loadd.conf" ||
    fail "no metrics_listen"
grep -qx '		max_connections = 19000;' "$C/loadd.conf" ||
    fail "no max_connections"
want="net.ipv4.ip_local_port_range = 15000 64999
net.ipv4.tcp_tw_reuse = 1
fs.nr_open = 2097152
fs.file-max = 2097152"
[ "$(grep -v '^#' "$C/60-loadd.conf" | grep .)" = "$want" ] ||
    fail "sysctls: $(cat "$C/60-loadd.conf")"
want="[Service]
LimitNOFILE=2097152
DynamicUser=no
User=loadd
Group=loadd"
[ "$(grep -v '^#' "$C/50-fleet.conf")" = "$want" ] ||
    fail "drop-in: $(cat "$C/50-fleet.conf")"
# The keys, given as one string: two, each forced to the proxy; the
# empty line dropped.
want='restrict,command="/usr/local/bin/loadctl -s /run/loadd/loadd.sock proxy" ssh-ed25519 AAAAkey1 fleet@ctl
restrict,command="/usr/local/bin/loadctl -s /run/loadd/loadd.sock proxy" ssh-ed25519 AAAAkey2 other@ctl'
[ "$(grep -v '^#' "$C/authorized_keys")" = "$want" ] ||
    fail "authorized_keys: $(cat "$C/authorized_keys")"
# The unit: as cmake --install makes it for /usr/local/sbin and /etc.
sed -e 's|@CMAKE_INSTALL_FULL_SBINDIR@|/usr/local/sbin|g' \
    -e 's|@CMAKE_INSTALL_FULL_SYSCONFDIR@|/etc|g' \
    "$TOP/systemd/loadd.service.in" >"$TMP/loadd.service"
cmp -s "$TMP/loadd.service" "$C/loadd.service" ||
    fail "the unit differs: $(diff "$TMP/loadd.service" "$C/loadd.service")"

say "high kernel limits: kept; keys as a list, unrestricted; no metrics"
C=$OUT/default-label
grep -qx 'fs.nr_open = 4194304' "$C/60-loadd.conf" || fail "nr_open lowered"
grep -qx 'fs.file-max = 9223372036854775807' "$C/60-loadd.conf" ||
    fail "file-max lowered"
[ "$(grep -v '^#' "$C/authorized_keys")" = "ssh-ed25519 AAAAkey3 x@y" ] ||
    fail "authorized_keys: $(cat "$C/authorized_keys")"
if grep -q metrics_listen "$C/loadd.conf"; then
	fail "metrics_listen without a listener"
fi
# Without loadd_host_label the inventory name is the host label.
grep -qx '	host = "lg-test";' "$C/loadd.conf" || fail "host is not lg-test"

say "a 64-byte host label, and one with spaces and punctuation"
grep -qx "	host = \"$L64\";" "$OUT/ok64/loadd.conf" || fail "no 64-byte host"
grep -qx '	host = "lg-1.example (rack #7, row 3)";' "$OUT/punct/loadd.conf" ||
    fail "no punctuated host"
say ok
