#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Layering check: every .c/.h file under SRCDIR must sit in a part folder
# and include only headers of the parts it may depend on ("lower never
# includes higher"), see the PARTS table below.  Prints FILE:LINE: MESSAGE
# per violation and a one-line summary; exits 0 if clean, 1 on any
# violation, 2 on a usage error.
# Usage: tests/layering.sh [SRCDIR]   (default: the src/ next to tests/)
#
# Rules:
#   - each file lives in src/PART/ (subfolders belong to PART); a file
#     directly in SRCDIR or in another folder is "not in a part folder";
#   - a quoted include is resolved like the compiler does with -I src:
#     first relative to the including file's folder, then relative to
#     SRCDIR; it must name an existing file under SRCDIR ("unknown header"
#     otherwise), whose part must be allowed for the includer's part;
#   - measure/ may not include <event2/...> nor common/log.h;
#   - engine/ and measure/ may not mention daemon_g nor `struct load`
#     (struct load_conf and the like are fine).
# Angle-bracket includes are system headers and are otherwise ignored.
# Includes are found per line (`#include`, `# include`); conditional
# compilation and comments are not interpreted.
set -euo pipefail

usage() { printf 'usage: %s [SRCDIR]\n' "$0"; }
case ${1-} in
-h | --help) usage; exit 0 ;;
esac
if [ $# -gt 1 ]; then usage >&2; exit 2; fi
SRCDIR=${1:-$(dirname "$0")/../src}
if [ ! -d "$SRCDIR" ]; then
	printf 'layering: %s: not a directory\n' "$SRCDIR" >&2
	exit 2
fi

# Report paths relative to the current directory when SRCDIR is below it
# (src/engine/conn.c:12: ...), absolute otherwise.
SRCABS=$(cd "$SRCDIR" && pwd -P)
HERE=$(pwd -P)
if [ "$SRCABS" = "$HERE" ]; then
	PREFIX=
elif [ "${SRCABS#"$HERE"/}" != "$SRCABS" ]; then
	PREFIX=${SRCABS#"$HERE"/}/
else
	PREFIX=$SRCABS/
fi

# PART:parts it may include (its own included).
PARTS='common:common
model:common model
measure:common measure
engine:common model measure engine
daemon:common model measure engine daemon
ctl:common measure ctl'

cd "$SRCABS"
if [ -n "$(find . -name '*
*' -print -quit)" ]; then
	echo 'layering: file names with a newline are not supported' >&2
	exit 2
fi

rc=0
# stdin: every file under SRCDIR (the set include names resolve against);
# the .c/.h ones among them are appended to ARGV and checked.
find . -xtype f -printf '%P\n' | LC_ALL=C sort |
	LAYERING_PREFIX=$PREFIX LAYERING_PARTS=$PARTS awk '
function norm(p,    n, i, k, seg, out, o) {
	# Normalise a relative path; "" if it is absolute or leaves SRCDIR.
	if (substr(p, 1, 1) == "/")
		return ""
	n = split(p, seg, "/")
	k = 0
	for (i = 1; i <= n; i++) {
		if (seg[i] == "" || seg[i] == ".")
			continue
		if (seg[i] == "..") {
			if (k == 0)
				return ""
			k--
			continue
		}
		out[++k] = seg[i]
	}
	o = ""
	for (i = 1; i <= k; i++)
		o = o (i > 1 ? "/" : "") out[i]
	return o
}
function dirof(p,    i) {
	i = match(p, /\/[^\/]*$/)
	return i ? substr(p, 1, i - 1) : ""
}
function partof(p,    i) {
	i = index(p, "/")
	if (i == 0)
		return ""
	p = substr(p, 1, i - 1)
	return (p in is_part) ? p : ""
}
function report(line, msg) {
	printf "%s%s:%d: %s\n", prefix, rel, line, msg
	nviol++
}
# Start checking file f (relative name); complains if it has no part.
function start(f) {
	rel = f
	part = partof(f)
	if (part == "")
		report(1, "not in a part folder")
}
BEGIN {
	prefix = ENVIRON["LAYERING_PREFIX"]
	np = split(ENVIRON["LAYERING_PARTS"], pl, "\n")
	for (i = 1; i <= np; i++) {
		j = index(pl[i], ":")
		p = substr(pl[i], 1, j - 1)
		is_part[p] = 1
		n = split(substr(pl[i], j + 1), dl, " ")
		for (k = 1; k <= n; k++)
			ok[p, dl[k]] = 1
	}
	nfiles = 0
	while ((getline f < "/dev/stdin") > 0) {
		exists[f] = 1
		if (f ~ /\.[ch]$/) {
			# "./" keeps awk from taking a name with "=" as an assignment.
			ARGV[ARGC++] = "./" f
			nfiles++
		}
	}
	ai = 1	# ARGV index of the next file awk should open
	nviol = 0
}
FNR == 1 {
	# Files awk skipped since the last one were empty: only check their place.
	for (; ai < ARGC && ARGV[ai] != FILENAME; ai++)
		start(substr(ARGV[ai], 3))
	ai++
	start(substr(FILENAME, 3))
}
/^[ \t]*#[ \t]*include[ \t]*[<"]/ {
	s = $0
	sub(/^[ \t]*#[ \t]*include[ \t]*/, "", s)
	if (substr(s, 1, 1) == "<") {
		j = index(s, ">")
		name = j ? substr(s, 2, j - 2) : substr(s, 2)
		if (part == "measure" && name ~ /^event2\//)
			report(FNR, part " may not include <" name ">")
	} else {
		s = substr(s, 2)
		j = index(s, "\"")
		name = j ? substr(s, 1, j - 1) : s
		d = dirof(rel)
		h = norm((d == "" ? "" : d "/") name)
		if (!(h in exists))
			h = norm(name)
		if (h == "" || !(h in exists))
			report(FNR, "unknown header \"" name "\"")
		else if (part != "") {
			hp = partof(h)
			if (!((part, hp) in ok))
				report(FNR, part " may not include " h)
			else if (part == "measure" && h == "common/log.h")
				report(FNR, part " may not include " h)
		}
	}
}
part == "engine" || part == "measure" {
	if ($0 ~ /(^|[^A-Za-z0-9_])daemon_g([^A-Za-z0-9_]|$)/)
		report(FNR, part " may not mention daemon_g")
	if ($0 ~ /(^|[^A-Za-z0-9_])struct[ \t]+load([^A-Za-z0-9_]|$)/)
		report(FNR, part " may not mention struct load")
}
END {
	# Trailing empty files (or all of them, if nothing was read).
	for (; ai < ARGC; ai++)
		start(substr(ARGV[ai], 3))
	if (nviol == 0) {
		printf "layering: %d file%s, no violation\n", nfiles, nfiles == 1 ? "" : "s"
		exit 0
	}
	printf "layering: %d violation%s\n", nviol, nviol == 1 ? "" : "s"
	exit 1
}
' || rc=$?
exit "$rc"
