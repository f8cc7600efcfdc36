#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The manuals say what the code has (issue 18):
#   - every page in man/ renders without a single groff warning;
#   - every key the policy parser accepts (the tables in policy/policy.c and
#     policy/parse.c) is an entry of ioasd.policy(5);
#   - every command of 'ioasctl --help' is an entry of ioasctl(1);
#   - every function client/ioas.h exports is in libioas(3).
# The lists are read from the code each time, never kept here.
#
# Needs IOASCTL_BIN and IOASD_SRCDIR (set by 'make check'); exit 77 (skip)
# only when groff is missing. Output is TAP-like.
set -u

srcdir=${IOASD_SRCDIR:-$(dirname "$0")/..}
ioasctl=${IOASCTL_BIN:-}
man=$srcdir/man
failures=0
n=0

if ! command -v groff >/dev/null 2>&1; then
	echo "# groff not installed: skipping"
	exit 77
fi

# One TAP line: "tap pass WHAT" or "tap fail WHAT".
tap() {
	local status=ok

	n=$((n + 1))
	if [ "$1" != pass ]; then
		status="not ok"
		failures=$((failures + 1))
	fi
	echo "$status $n - $2"
}

# The first word of each .TP entry's tag line, as a reader sees it ("\-"
# is "-", a trailing "=" and what follows it dropped): the entries a page
# documents.
entries() {
	awk '
		tag { sub(/^\.[A-Z]+[ \t]+/, ""); gsub(/"/, ""); gsub(/\\-/, "-");
		      split($0, w, /[ \t=]/); print w[1]; tag = 0; next }
		/^\.TP/ { tag = 1 }
	' "$1"
}

# Each word of $2 (a list, one a line) must be in the set $3; $1 names the
# check, $4 what is missing from.
all_in() {
	local what=$1 want=$2 have=$3 where=$4 missing=

	if [ -z "$want" ]; then
		tap fail "$what: found nothing to look for (did the source change shape?)"
		return
	fi
	for w in $want; do
		printf '%s\n' "$have" | grep -qxF -- "$w" || missing="$missing $w"
	done
	if [ -z "$missing" ]; then
		tap pass "$what: all $(printf '%s\n' "$want" | wc -l) in $where"
	else
		tap fail "$what: missing from $where:$missing"
	fi
}

# --- every page renders without a warning, on a terminal and in print
for page in "$man"/*.[1-9]; do
	for dev in utf8 ps; do
		out=$(groff -man -ww -z -T"$dev" "$page" 2>&1)
		if [ -z "$out" ]; then
			tap pass "$(basename "$page") renders (-T$dev) without warnings"
		else
			tap fail "$(basename "$page") renders (-T$dev) with warnings:"
			printf '# %s\n' "$out"
		fi
	done
done

# --- every policy key, tenant and daemon, from the parser's tables
keys=$(sed -n 's/^[[:space:]]*\[\(POLICY_KEY\|DAEMON\)_[A-Z_]*\] = "\([A-Za-z]*\)",$/\2/p' \
	"$srcdir/policy/policy.c" "$srcdir/policy/parse.c" | sort -u)
all_in "policy keys" "$keys" "$(entries "$man/ioasd.policy.5")" ioasd.policy.5

# --- every ioasctl command, from its own --help
if [ -z "$ioasctl" ] || [ ! -x "$ioasctl" ]; then
	tap fail "IOASCTL_BIN not set or not executable: cannot list ioasctl's commands"
else
	cmds=$("$ioasctl" --help 2>&1 |
		sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\)\( .*\)\{0,1\}$/\1/p')
	all_in "ioasctl commands" "$cmds" "$(entries "$man/ioasctl.1")" ioasctl.1
fi

# --- every exported libioas function, from its header
funcs=$(grep -o 'IOAS_EXPORT[^(]*(' "$srcdir/client/ioas.h" |
	sed -n 's/.*[^a-z_0-9]\(ioas_[a-z_0-9]*\)($/\1/p' | sort -u)
have=$(grep -o 'ioas_[a-z_0-9]*' "$man/libioas.3" | sort -u)
all_in "libioas functions" "$funcs" "$have" libioas.3

echo "1..$n"
[ "$failures" -eq 0 ]
