#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# install.prefix: `cmake --install BUILD --prefix P` writes only under P,
# and with DESTDIR=D only under D; the installed unit's ExecStart= runs P's
# sbin/loadd with P's profile; a second install keeps an operator's
# loadd.conf.
#
#   tests/install.sh [BUILD]
#
# BUILD is a configured and built tree (ctest passes its own); without one
# a private tree is configured and built in the temporary directory.  Every
# install goes under that directory, which is removed at the end; BUILD's
# install_manifest.txt and systemd/loadd.service are put back as they were.
# The installs into DESTDIR come first: the one without DESTDIR runs only
# once the same install into a DESTDIR stayed under its prefix.
set -euo pipefail

TMP=$(mktemp -d "${TMPDIR:-/tmp}/loadd-install.XXXXXX")
B=${1:-}
SAVED=(install_manifest.txt systemd/loadd.service)

fail() { echo "FAIL: $*" >&2; exit 1; }
say() { echo "== $*"; }
cleanup() {
	local f
	if [ -n "$B" ]; then
		for f in "${SAVED[@]}"; do
			if [ -e "$TMP/saved/$f" ]; then
				cp -p "$TMP/saved/$f" "$B/$f"
			elif [ -e "$TMP/saved/$f.none" ]; then
				rm -f "$B/$f"
			fi
		done
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
touch "$TMP/stamp"

if [ -z "$B" ]; then
	say "configure and build in $TMP/build"
	B=$TMP/build
	timeout 300 cmake -S "$(dirname "$0")/.." -B "$B" -DLOADD_TESTS=OFF \
	    >"$TMP/configure.log" 2>&1 || { cat "$TMP/configure.log"; fail "configure"; }
	timeout 900 cmake --build "$B" -j2 --target loadd loadctl \
	    >"$TMP/build.log" 2>&1 || { tail -30 "$TMP/build.log"; fail "build"; }
fi
B=$(cd "$B" && pwd)
[ -f "$B/CMakeCache.txt" ] || fail "$B is not a configured build tree"
mkdir -p "$TMP/saved/systemd"
for f in "${SAVED[@]}"; do
	if [ -e "$B/$f" ]; then cp -p "$B/$f" "$TMP/saved/$f"
	else touch "$TMP/saved/$f.none"; fi
done

cache() { sed -n "s/^$1:[A-Z]*=//p" "$B/CMakeCache.txt"; }
SRC=$(cache loadd_SOURCE_DIR)
UNIT_IN=$SRC/systemd/loadd.service.in
[ -f "$UNIT_IN" ] || fail "no $UNIT_IN"
# The checks below spell out the default layout (an empty cache entry is
# GNUInstallDirs' default too).
dflt() { local v; v=$(cache "$1"); [ -z "$v" ] || [ "$v" = "$2" ]; }
if ! dflt CMAKE_INSTALL_SBINDIR sbin || ! dflt CMAKE_INSTALL_BINDIR bin ||
    ! dflt CMAKE_INSTALL_SYSCONFDIR etc ||
    ! dflt CMAKE_INSTALL_DATAROOTDIR share ||
    ! dflt CMAKE_INSTALL_MANDIR share/man ||
    ! dflt CMAKE_INSTALL_DOCDIR share/doc/loadd; then
	echo "SKIP: $B has non-default install directories"
	exit 77
fi

# inst NAME DESTDIR PREFIX: install ("" = no DESTDIR); the manifest and the
# log are kept as $TMP/NAME.manifest and $TMP/NAME.log.
inst() {
	local name=$1 dd=$2 prefix=$3 rc=0
	if [ -n "$dd" ]; then
		DESTDIR=$dd timeout 120 cmake --install "$B" --prefix "$prefix" \
		    >"$TMP/$name.log" 2>&1 || rc=$?
	else
		env -u DESTDIR timeout 120 cmake --install "$B" --prefix "$prefix" \
		    >"$TMP/$name.log" 2>&1 || rc=$?
	fi
	[ "$rc" -eq 0 ] || { cat "$TMP/$name.log"; fail "$name: install exit $rc"; }
	cp "$B/install_manifest.txt" "$TMP/$name.manifest"
}

# check NAME ROOT PREFIX ETC: every file the manifest names is under
# PREFIX, or under ETC/loadd (ETC is /etc for prefix /usr), and is in ROOT
# (the DESTDIR, "" for none); ROOT (or PREFIX without DESTDIR) holds only
# those files; the expected files are there; the unit is the template with
# PREFIX/sbin and ETC filled in, and nothing else changed.
check() {
	local name=$1 root=$2 prefix=$3 etc=$4 f n=0 tree unit
	while IFS= read -r f; do
		case $f in
		"$prefix"/*|"$etc"/loadd/*) ;;
		*) fail "$name: $f is outside $prefix" ;;
		esac
		[ -f "$root$f" ] || fail "$name: $root$f not there"
		n=$((n + 1))
	done <"$TMP/$name.manifest"
	[ "$n" -gt 0 ] || fail "$name: empty install manifest"
	tree=${root:-$prefix}
	diff <(find "$tree" ! -type d | sort) \
	    <(sed "s|^|$root|" "$TMP/$name.manifest" | sort) >"$TMP/$name.diff" ||
	    { cat "$TMP/$name.diff"; fail "$name: $tree holds other files than the manifest names"; }
	for f in "$prefix/sbin/loadd" "$prefix/bin/loadctl" \
	    "$etc/loadd/loadd.conf" "$prefix/lib/systemd/system/loadd.service" \
	    "$prefix/share/man/man8/loadd.8" "$prefix/share/man/man5/loadd.conf.5" \
	    "$prefix/share/man/man1/loadctl.1" \
	    "$prefix/share/doc/loadd/examples/loadd.conf"; do
		[ -f "$root$f" ] || fail "$name: no $root$f"
	done
	[ -x "$root$prefix/sbin/loadd" ] || fail "$name: loadd not executable"
	unit=$root$prefix/lib/systemd/system/loadd.service
	grep -qxF "ExecStart=$prefix/sbin/loadd -f $etc/loadd/loadd.conf" "$unit" ||
	    fail "$name: unit's ExecStart: $(grep '^ExecStart=' "$unit")"
	grep -qxF "ExecStartPre=$prefix/sbin/loadd -n -f $etc/loadd/loadd.conf" "$unit" ||
	    fail "$name: unit's ExecStartPre: $(grep '^ExecStartPre=' "$unit")"
	if grep -n '@[A-Z_]*@' "$unit"; then fail "$name: unit not filled in"; fi
	diff <(sed -e "s|@CMAKE_INSTALL_FULL_SBINDIR@|$prefix/sbin|g" \
	    -e "s|@CMAKE_INSTALL_FULL_SYSCONFDIR@|$etc|g" "$UNIT_IN") "$unit" ||
	    fail "$name: the unit differs from $UNIT_IN beyond its paths"
	say "$name: $n files, all under ${root:+$root + }$prefix${etc:+ (profile in $etc/loadd)}; $(grep '^ExecStart=' "$unit")"
}

P=$TMP/p
say "DESTDIR=\$TMP/dry --prefix \$TMP/p (before the same without DESTDIR)"
inst dry "$TMP/dry" "$P"
check dry "$TMP/dry" "$P" "$P/etc"

say "DESTDIR=\$TMP/d --prefix /usr"
inst usr "$TMP/d" /usr
check usr "$TMP/d" /usr /etc

say "DESTDIR=\$TMP/l --prefix /usr/local"
inst local "$TMP/l" /usr/local
check local "$TMP/l" /usr/local /usr/local/etc

say "DESTDIR=\$TMP/o --prefix /opt/loadd (the profile stays under the prefix)"
inst opt "$TMP/o" /opt/loadd
check opt "$TMP/o" /opt/loadd /opt/loadd/etc

say "--prefix \$TMP/p, no DESTDIR"
inst p "" "$P"
check p "" "$P" "$P/etc"
"$P/sbin/loadd" -n -f "$P/etc/loadd/loadd.conf" ||
    fail "the installed loadd rejects the installed profile"
if command -v systemd-analyze >/dev/null 2>&1; then
	# Checks the unit's syntax and that ExecStart='s program is there.
	timeout 60 systemd-analyze --man=no verify \
	    "$P/lib/systemd/system/loadd.service" || fail "systemd-analyze verify"
	say "systemd-analyze verify: ok"
else
	say "no systemd-analyze: unit not verified by systemd"
fi

say "a second install keeps an operator's loadd.conf"
echo "# the operator's own" >>"$P/etc/loadd/loadd.conf"
inst again "" "$P"
grep -qx "# the operator's own" "$P/etc/loadd/loadd.conf" ||
    fail "the second install replaced loadd.conf"
grep -q "Keeping existing $P/etc/loadd/loadd.conf" "$TMP/again.log" ||
    fail "no \"Keeping existing\" in: $(cat "$TMP/again.log")"
if grep -qxF "$P/etc/loadd/loadd.conf" "$TMP/again.manifest"; then
	fail "the kept loadd.conf is in the second manifest"
fi
while IFS= read -r f; do
	case $f in "$P"/*) ;; *) fail "again: $f is outside $P" ;; esac
done <"$TMP/again.manifest"

say "nothing named loadd* or loadctl* changed in /etc, /usr, /opt"
out=$(find /etc /usr /opt -xdev \( -path "$TMP" -o -path "$B" \) -prune -o \
    -cnewer "$TMP/stamp" \( -name 'loadd*' -o -name 'loadctl*' \) -print \
    2>/dev/null || true)
[ -z "$out" ] || fail "changed outside the temporary directory: $out"
say ok
