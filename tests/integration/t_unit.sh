#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The systemd unit, as cmake --install fills it in (here: for the built
# binary): `systemd-analyze verify` accepts it, and its exposure level
# from `systemd-analyze security --offline=true` is 1.5 or lower.
# Skipped (77) without systemd-analyze.
. "$(dirname "$0")/lib.sh"

command -v systemd-analyze >/dev/null ||
    { say "no systemd-analyze (the systemd package): skipped"; exit 77; }

mkdir -p "$TMP/etc/loadd"
cp "$TOP/conf/loadd.conf" "$TMP/etc/loadd/loadd.conf"
sed -e "s|@CMAKE_INSTALL_FULL_SBINDIR@|$(dirname "$LOADD")|g" \
    -e "s|@CMAKE_INSTALL_FULL_SYSCONFDIR@|$TMP/etc|g" \
    "$TOP/systemd/loadd.service.in" >"$TMP/loadd.service"
grep -q '@[A-Z_]*@' "$TMP/loadd.service" && fail "a placeholder left: $(grep '@[A-Z_]*@' "$TMP/loadd.service")"

say "systemd-analyze verify"
out=$(systemd-analyze verify --man=no "$TMP/loadd.service" 2>&1) ||
    fail "verify: $out"
# Only complaints about the host (no systemd running here) may remain.
if echo "$out" | grep -v -e 'Failed to' -e 'bus' -e '^$' | grep -q .; then
	fail "verify: $out"
fi

say "systemd-analyze security --offline=true: exposure 1.5 or lower"
out=$(systemd-analyze security --offline=true "$TMP/loadd.service" 2>&1) || true
level=$(echo "$out" | sed -n 's/.*Overall exposure level for loadd.service: \([0-9.]*\).*/\1/p')
[ -n "$level" ] || fail "no exposure level: $(echo "$out" | tail -3)"
say "exposure level $level"
[ "$(echo "$level <= 1.5" | bc)" -eq 1 ] || fail "exposure $level above 1.5"
grep -q '^WatchdogSec=' "$TMP/loadd.service" || fail "no WatchdogSec"
grep -q '^DynamicUser=yes' "$TMP/loadd.service" || fail "runs as root"
say ok
