#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Self-test of tests/layering.sh: builds small source trees in a temporary
# directory, one clean and one per planted violation, and checks the exit
# status and the FILE:LINE: lines layering.sh prints for each.
# Usage: tests/layering_selftest.sh
set -euo pipefail
LAYERING=$(cd "$(dirname "$0")" && pwd -P)/layering.sh
TMP=$(mktemp -d /tmp/layering-selftest.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
PASS=0 FAIL=0 OUT='' RC=0

# put FILE LINE...: write a fixture file (relative to the current case dir).
put() {
	local f=$1
	shift
	mkdir -p "$(dirname "$f")"
	if [ $# -eq 0 ]; then : >"$f"; else printf '%s\n' "$@" >"$f"; fi
}

# A tree that follows every rule, including the near misses that must not
# be flagged.
clean_tree() {
	put src/common/util.h '#pragma once' 'int util_x(void);'
	put src/common/log.h '#pragma once' '#include "common/util.h"'
	put src/common/util.c '#include <stdio.h>' '#include "util.h"' \
		'#include "common/log.h"'
	put src/common/keys.h
	put src/model/profile.h '#pragma once' '#include "common/util.h"'
	put src/model/profile.c '#include "model/profile.h"' \
		'#include "profile.h"' '#  include "common/keys.h"'
	put src/measure/hist.h '#pragma once' '#include <stdint.h>' \
		'#include "common/util.h"'
	put src/measure/hist.c '#include "measure/hist.h"' \
		'#include "../common/util.h"' 'struct load_counters c;'
	put src/engine/engine.h '#pragma once' '#include "measure/hist.h"' \
		'#include "model/profile.h"'
	put src/engine/conn.c '#include <event2/event.h>' \
		'#include "engine/engine.h"' '#include "common/log.h"' \
		'struct load_conf *conf;' 'struct load_shared *sh;' \
		'struct load_counters cnt;' 'struct loader *ld;' \
		'int daemon_get(void); int my_daemon_g, daemon_g2;' \
		'const char *s = "structload";'
	put src/engine/empty.c
	put src/daemon/daemon.h '#pragma once' '#include "engine/engine.h"' \
		'struct load { int x; };' 'extern struct load *daemon_g;'
	put src/daemon/main.c '#include <event2/event.h>' \
		'#include "daemon/daemon.h"' '#include "measure/hist.h"' \
		'#include "model/profile.h"' '#include "common/log.h"' \
		'struct load *daemon_g;'
	put src/ctl/report.h '#pragma once' '#include "common/util.h"'
	put src/ctl/report.c '#include "report.h"' '#include "common/log.h"'
	put src/ctl/loadctl.c '#include <stdio.h>' '#include "ctl/report.h"' \
		'#include "report.h"'
	# ctl merges histograms: measure/ is below it.
	put src/ctl/fleet.c '#include "ctl/report.h"' '#include "measure/hist.h"'
}

# newcase NAME: a fresh clean tree in $TMP/NAME, made the current directory.
newcase() {
	mkdir "$TMP/$1"
	cd "$TMP/$1"
	clean_tree
}

# run [ARG...]: run layering.sh (or the copy in $SCRIPT) into OUT and RC.
SCRIPT=$LAYERING
run() {
	RC=0
	OUT=$("$SCRIPT" "$@" 2>&1) || RC=$?
}

ok() { PASS=$((PASS + 1)); }
bad() {
	FAIL=$((FAIL + 1))
	printf 'FAIL %s: %s\n' "$CASE" "$1"
	printf '%s\n' "$OUT" | sed 's/^/    | /'
}

# expect RC [LINE...]: exit status RC, each LINE printed exactly, and, for a
# failure, no other violation than those listed.
expect() {
	local want=$1 line n
	shift
	if [ "$RC" != "$want" ]; then
		bad "exit status $RC, want $want"
		return
	fi
	for line in "$@"; do
		# A here-string, not a pipe: grep -q leaving early would give
		# printf a SIGPIPE, which pipefail reads as a failure.
		if ! grep -qxF -- "$line" <<<"$OUT"; then
			bad "missing: $line"
			return
		fi
	done
	if [ "$want" = 1 ]; then
		n=$(printf '%s\n' "$OUT" | grep -c '^layering: ' || true)
		if [ "$#" = 1 ]; then line="layering: 1 violation"; else line="layering: $# violations"; fi
		if [ "$n" != 1 ] || ! grep -qxF -- "$line" <<<"$OUT"; then
			bad "want summary: $line"
			return
		fi
	fi
	ok
}

CASE=clean
newcase clean
run src
expect 0 "layering: 17 files, no violation"
if [ -z "$(printf '%s\n' "$OUT" | grep -v '^layering: ' || true)" ]; then
	ok
else
	bad "clean tree printed more than the summary"
fi

CASE=clean-default-srcdir
newcase clean-default-srcdir
mkdir tests
cp "$LAYERING" tests/
SCRIPT=$PWD/tests/layering.sh
cd /
run
expect 0 "layering: 17 files, no violation"
SCRIPT=$LAYERING

CASE=clean-absolute-paths
cd "$TMP/clean"
put src/common/bad.c '#include "engine/engine.h"'
cd /
run "$TMP/clean/src"
expect 1 "$(cd "$TMP/clean/src" && pwd -P)/common/bad.c:1: common may not include engine/engine.h"

CASE="a: common includes engine/engine.h"
newcase a
put src/common/bad.c '#include <stdio.h>' '' '#include "engine/engine.h"'
run src
expect 1 "src/common/bad.c:3: common may not include engine/engine.h"

CASE="b: measure includes <event2/event.h>"
newcase b
put src/measure/counters.c '#include "measure/hist.h"' '#include <event2/event.h>'
run src
expect 1 "src/measure/counters.c:2: measure may not include <event2/event.h>"

CASE="c: measure includes common/log.h"
newcase c
put src/measure/errs.h '#pragma once' '#include "common/util.h"' \
	'# include "common/log.h"'
run src
expect 1 "src/measure/errs.h:3: measure may not include common/log.h"

CASE="d: ctl includes model/profile.h and engine/engine.h"
newcase d
put src/ctl/out.c '#include "report.h"' '#include "model/profile.h"' \
	'#include "measure/hist.h"' '#include "engine/engine.h"'
run src
expect 1 "src/ctl/out.c:2: ctl may not include model/profile.h" \
	"src/ctl/out.c:4: ctl may not include engine/engine.h"

CASE="e: engine mentions daemon_g"
newcase e
put src/engine/worker.c '#include "engine/engine.h"' 'void f(void)' '{' \
	'	g(daemon_g->conf);' '}'
run src
expect 1 "src/engine/worker.c:4: engine may not mention daemon_g"

CASE="f: engine uses struct load *l"
newcase f
put src/engine/worker.c '#include "engine/engine.h"' \
	'static void f(struct load_conf *c, struct load *l);'
run src
expect 1 "src/engine/worker.c:2: engine may not mention struct load"

CASE="g: model includes daemon/daemon.h"
newcase g
put src/model/bad.c '#include "model/profile.h"' '#include "daemon/daemon.h"'
run src
expect 1 "src/model/bad.c:2: model may not include daemon/daemon.h"

CASE="h: unknown header loadd.h"
newcase h
put src/daemon/old.c '#include "daemon/daemon.h"' '#include "loadd.h"'
run src
expect 1 "src/daemon/old.c:2: unknown header \"loadd.h\""

CASE="i: .c file directly in src/"
newcase i
put src/loadd.c '#include <stdio.h>'
run src
expect 1 "src/loadd.c:1: not in a part folder"

# Beyond the brief: the same rules in other shapes.
CASE="empty files directly in src/ (first and last)"
newcase i-empty
put src/a.h
put src/stray.c
run src
expect 1 "src/a.h:1: not in a part folder" "src/stray.c:1: not in a part folder"

CASE="file in an unknown folder"
newcase unknown-folder
put src/misc/x.h '#pragma once'
run src
expect 1 "src/misc/x.h:1: not in a part folder"

CASE="part includes a header directly in src/"
newcase top-header
put src/loadd.h '#pragma once'
put src/engine/worker.c '#include "loadd.h"'
run src
expect 1 "src/loadd.h:1: not in a part folder" \
	"src/engine/worker.c:1: engine may not include loadd.h"

CASE="header outside src/"
newcase outside
put include/ext.h '#pragma once'
put src/common/x.c '#include "../../include/ext.h"' '#include "../include/ext.h"'
run src
expect 1 'src/common/x.c:1: unknown header "../../include/ext.h"' \
	'src/common/x.c:2: unknown header "../include/ext.h"'

CASE="bare name of another part's header"
newcase bare-other
put src/engine/worker.c '#include "hist.h"' '#include "../measure/hist.h"' \
	'#include "../daemon/daemon.h"'
run src
expect 1 'src/engine/worker.c:1: unknown header "hist.h"' \
	"src/engine/worker.c:3: engine may not include daemon/daemon.h"

CASE="daemon includes ctl, common includes model"
newcase upward
put src/daemon/x.c '#include "ctl/report.h"'
put src/common/y.h '#include "model/profile.h"'
run src
expect 1 "src/daemon/x.c:1: daemon may not include ctl/report.h" \
	"src/common/y.h:1: common may not include model/profile.h"

CASE="measure mentions daemon_g and struct load on one line"
newcase measure-load
put src/measure/hist.c '#include "measure/hist.h"' \
	'void f(struct load* l) { (void)daemon_g; }' 'struct	load'
run src
expect 1 "src/measure/hist.c:2: measure may not mention daemon_g" \
	"src/measure/hist.c:2: measure may not mention struct load" \
	"src/measure/hist.c:3: measure may not mention struct load"

CASE="missing SRCDIR"
cd "$TMP"
run "$TMP/nonexistent"
expect 2

if [ "$FAIL" -ne 0 ]; then
	echo "$PASS passed, $FAIL failed"
	exit 1
fi
echo "$PASS passed, 0 failed"
