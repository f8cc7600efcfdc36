#!/bin/bash
# SPDX-License-Identifier: MIT
#
# completion/ioasctl loads in bash, registers itself for ioasctl, and
# completes from the ioasctl it is given: a command, a global option and a
# command's option, all read from --help (IOASCTL_BIN, set by 'make check').
set -u

srcdir=${IOASD_SRCDIR:-$(dirname "$0")/..}
ioasctl=${IOASCTL_BIN:-}
failures=0
n=0

check() {
	n=$((n + 1))
	if [ "$2" = "$3" ]; then
		echo "ok $n - $1"
	else
		failures=$((failures + 1))
		echo "not ok $n - $1: got '$2', want '$3'"
	fi
}

# shellcheck source=/dev/null
source "$srcdir/completion/ioasctl" || exit 1
check "complete -p ioasctl" "$(complete -p ioasctl)" "complete -F _ioasctl ioasctl"

# COMPREPLY for the words given, the last one being completed.
complete_words() {
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_ioasctl
	echo "${COMPREPLY[*]}"
}

if [ -z "$ioasctl" ] || [ ! -x "$ioasctl" ]; then
	echo "# IOASCTL_BIN not set or not executable: completion itself not tried"
else
	check "a command" "$(complete_words "$ioasctl" whoa)" whoami
	check "a global option" "$(complete_words "$ioasctl" --sock)" --socket
	check "after a global option's argument" \
		"$(complete_words "$ioasctl" -s /tmp/sock unmap-)" unmap-all
	check "a command's option" "$(complete_words "$ioasctl" batch --ato)" --atomic
	check "show's option" "$(complete_words "$ioasctl" show 1 --wi)" --width
fi

echo "1..$n"
[ "$failures" -eq 0 ]
