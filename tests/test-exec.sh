#!/bin/bash
# SPDX-License-Identifier: MIT
#
# ioasctl exec and delegation against a real ioasd on the sim backend:
# what the sim can show of issue 17. The sim has no file a VMM could use,
# so OpenContext and OpenDevice are refused there (EOPNOTSUPP) after the
# same policy checks as on the kernel (EPERM citing the line); exec runs
# its program (its exit status is the program's), reports one that cannot
# run, and refuses a bad command line. The kernel half, with QEMU 10, is
# tests/vm/guest/97-vmm.sh.
#
# Needs IOASD_BIN and IOASCTL_BIN (set by 'make check'); exit 77 (skip)
# without them. Output is TAP-like; the exit status is what counts.
set -u

IOASD=${IOASD_BIN:-}
IOASCTL=${IOASCTL_BIN:-}
if [ -z "$IOASD" ] || [ -z "$IOASCTL" ] || [ ! -x "$IOASD" ] || [ ! -x "$IOASCTL" ]; then
	echo "# IOASD_BIN / IOASCTL_BIN not set or not executable: skipping"
	exit 77
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/ioasctl-exec.XXXXXX")
sock=$dir/ioasd.sock
pid=
failures=0
n=0
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

check() { # DESCRIPTION COMMAND...
	local what=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $what"
	else
		failures=$((failures + 1))
		echo "not ok $n - $what"
		for f in "$dir"/*.err "$dir"/*.out; do
			[ -s "$f" ] && sed "s|^|# ${f##*/}: |" "$f"
		done
	fi
}
# run NAME ARGS...: ioasctl's status in $dir/NAME.rc, output in NAME.out/.err.
run() {
	local name=$1
	shift
	"$IOASCTL" --socket "$sock" "$@" >"$dir/$name.out" 2>"$dir/$name.err"
	echo $? >"$dir/$name.rc"
}
status() { [ "$(cat "$dir/$1.rc")" = "$2" ]; }
says() { grep -q -- "$2" "$dir/$1.$3"; }

start() { # ARGS...
	rm -f "$sock"
	"$IOASD" --socket "$sock" --backend sim --no-journal --audit-log "$dir/audit.log" "$@" \
		2>"$dir/daemon.log" &
	pid=$!
	for _ in $(seq 100); do
		[ -S "$sock" ] && return 0
		sleep 0.05
	done
	echo "# the daemon did not start:"; sed 's/^/# /' "$dir/daemon.log"
	exit 1
}
stop() {
	kill -TERM "$pid"
	wait "$pid"
	pid=
}

mkdir -p "$dir/policy.d"
cat >"$dir/policy.d/vmm.conf" <<CONF
[tenant vmm]
MatchUser=$(id -u)
Delegate=yes
RlimitMode=process
AllowDevice=1234:11e8
CONF
start --policy-dir "$dir/policy.d"

run who whoami
check "whoami says delegate" grep -q "^delegate  *yes" "$dir/who.out"

# ---- exec itself
run status exec -- sh -c 'exit 7'
check "exec: the program's exit status is exec's" status status 7
run braces exec -- echo '{"execute":"query-pci"}' '{device' '{iommufd'
check "exec: other braces are left alone" \
	[ "$(cat "$dir/braces.out")" = '{"execute":"query-pci"} {device {iommufd' ]
run noprog exec -- "$dir/no-such-program"
check "exec: a program that cannot run is exit status 5" status noprog 5
check "exec: ... and says why" says noprog "No such file or directory" err
run nodash exec --context
check "exec: no program: usage error" status nodash 2
run badopt exec --frobnicate -- true
check "exec: an unknown option: usage error" status badopt 2
run badaddr exec --device zz -- true
check "exec: --device takes a PCI address" status badaddr 2
run badph exec -- echo '{device:0000:00:04.0'
check "exec: an unterminated {device: is a usage error" status badph 2
run badph2 exec -- echo '{device:1234:11e8}'
check "exec: {device:} takes an address, not ids" status badph2 2

# ---- the sim has nothing to hand out: refused after the policy checks
run ctx exec -- echo 'fd={iommufd}'
check "sim: a context is refused (exit status 1)" status ctx 1
check "sim: ... EOPNOTSUPP, saying why" says ctx "EOPNOTSUPP.*sim backend has no iommufd context" err
check "sim: ... and the program did not run" [ ! -s "$dir/ctx.out" ]
run dev exec --device 00:04.0 -- true
check "sim: a device file is refused" status dev 1
check "sim: ... EOPNOTSUPP, saying why" says dev "EOPNOTSUPP.*no VFIO device files" err

# ---- Delegate=no: EPERM citing the line, for both
sed -i 's/^Delegate=yes/Delegate=no/' "$dir/policy.d/vmm.conf"
kill -HUP "$pid"
sleep 0.3
run who2 whoami
check "whoami says delegate no after the reload" grep -q "^delegate  *no" "$dir/who2.out"
run noctx exec --context -- true
check "Delegate=no: a context is EPERM" status noctx 1
check "Delegate=no: ... citing the line" says noctx "EPERM.*Delegate=no (Delegate of tenant vmm at .*vmm.conf:3)" err
run nodev exec --device 0000:00:04.0 -- true
check "Delegate=no: a device file is EPERM citing the line" says nodev "EPERM.*Delegate=no.*vmm.conf:3" err
stop
check "audit: the refusals are recorded" \
	[ "$(grep -c '"op":"Open\(Context\|Device\)","result":"refused"' "$dir/audit.log")" = 4 ]
check "audit: ... with who" grep -q '"op":"OpenContext","result":"refused".*"tenant":"vmm","uid":'"$(id -u)" "$dir/audit.log"

# ---- --no-policy: nobody delegates
start --no-policy
run nopol exec --context -- true
check "--no-policy: a context is EPERM" says nopol "EPERM.*needs a policy section with Delegate=yes" err
stop

echo "1..$n"
[ "$failures" -eq 0 ]
