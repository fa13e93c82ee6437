#!/bin/sh
# SPDX-License-Identifier: ISC
# Run the libFuzzer harnesses of a LOADD_FUZZ build (docs/hacking.md,
# "Fuzzing"), each for SECONDS from its seeds in tests/fuzz/NAME, JOBS at a
# time (FUZZ_JOBS, default 2).
#
#   tests/fuzz/run.sh BUILD [SECONDS [NAME...]]
#
# What a run finds goes to BUILD/fuzz-out/NAME/: corpus/ (the inputs it
# added; the seeds are only read), log, and crash-*, leak-*, timeout-* or
# oom-* for an input that failed.  A harness that crashes, leaks, breaks a
# check, takes more than 10 s on one input (-timeout=10) or exits fails the
# run: exit 1, after printing each failing input in hex.  The executions of
# each harness are printed as it ends.
set -eu

B=${1:?usage: tests/fuzz/run.sh BUILD [SECONDS [NAME...]]}
T=${2:-60}
if [ $# -gt 2 ]; then
	shift 2
else
	set -- request profile framing payload objective
fi
JOBS=${FUZZ_JOBS:-2}
SEEDS=$(cd "$(dirname "$0")" && pwd)
B=$(cd "$B" && pwd)
OUT=$B/fuzz-out

# Symbolized reports: Debian has llvm-symbolizer under the LLVM directory.
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ] && ! command -v llvm-symbolizer \
    >/dev/null 2>&1; then
	for s in /usr/lib/llvm-*/bin/llvm-symbolizer; do
		[ -x "$s" ] && export ASAN_SYMBOLIZER_PATH="$s"
	done
fi

one() {
	h=$1
	d=$OUT/$h
	rm -rf "$d"
	mkdir -p "$d/corpus"
	rc=0
	(cd "$d" && "$B/fuzz_$h" -max_total_time="$T" -timeout=10 \
	    -print_final_stats=1 -artifact_prefix="$d/" corpus \
	    "$SEEDS/$h" >log 2>&1) || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$d/log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$d/log")
	if [ "$rc" -eq 0 ]; then
		echo "fuzz_$h: ok, ${execs:-?} executions in ${T}s" \
		    "(${rate:-?}/s), corpus $(find "$d/corpus" -type f | wc -l) new"
		return 0
	fi
	echo "fuzz_$h: FAILED (exit $rc) after ${execs:-?} executions;" \
	    "see $d/log"
	grep -E '^(==[0-9]+== ?ERROR|SUMMARY|.*check failed)' "$d/log" | head -5
	for f in "$d"/crash-* "$d"/leak-* "$d"/timeout-* "$d"/oom-*; do
		[ -e "$f" ] || continue
		echo "input $f:"
		od -A d -c "$f" | head -20
	done
	return 1
}

[ -x "$B/fuzz_request" ] || {
	echo "no harnesses in $B: configure it with CC=clang" \
	    "-DLOADD_FUZZ=ON and build the fuzz target" >&2
	exit 2
}
mkdir -p "$OUT"
failed=0
n=0
pids=
for h in "$@"; do
	one "$h" &
	pids="$pids $!"
	n=$((n + 1))
	if [ "$n" -ge "$JOBS" ]; then
		for p in $pids; do wait "$p" || failed=1; done
		pids=
		n=0
	fi
done
for p in $pids; do wait "$p" || failed=1; done
exit "$failed"
