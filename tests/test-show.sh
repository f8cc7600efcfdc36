#!/bin/sh
# SPDX-License-Identifier: MIT
#
# ioasctl show IOAS against a real ioasd: the ruler's lanes at
# the width asked (--width, $COLUMNS), the list of segments naming the
# mappings (memory, offset, flags), the export and the import, and why a
# fixed map would be refused where it would (outside the policy's
# AllowedIOVA=, reserved by the kernel with a device attached, or only
# outside the IOAS's own AllowIovas list); --json
# with the same data, one object per line; 1500 mappings fetched in pages
# (MappingList carries at most 1024) and summed up in one line unless
# --all; bad arguments and an IOAS the tenant does not have.
#
# Needs IOASD_BIN and IOASCTL_BIN (make check); TAP output, the exit status
# is what counts. IOASD_TEST_BACKEND (default sim) is the daemon's backend:
# the real-kernel suite runs this under busybox sh with the kernel backend
# and the edu device (tests/vm/guest/50-daemon-tests.sh), so it keeps to
# POSIX sh plus "local".
# shellcheck disable=SC2016,SC3043 # eval bodies and batch lines are expanded later; busybox has local
set -u

IOASD=${IOASD_BIN:-}
IOASCTL=${IOASCTL_BIN:-}
backend=${IOASD_TEST_BACKEND:-sim}
if [ "$backend" = sim ]; then
	device=sim:1234:11e8@0000:00:03.0
else
	device=/dev/vfio/devices/vfio0 # the guest's edu (tests/harness.h)
fi
if [ -z "$IOASD" ] || [ -z "$IOASCTL" ] || [ ! -x "$IOASD" ] || [ ! -x "$IOASCTL" ]; then
	echo "1..0 # SKIP IOASD_BIN / IOASCTL_BIN not set or not executable"
	exit 77
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/ioasd-show.XXXXXX")
chmod 0755 "$dir"
sock=$dir/ioasd.sock
pid=
n=0
failed=0
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		wait "$pid"
	fi
	rm -rf "$dir"
}
trap cleanup EXIT
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }
show() { for f in "$@"; do [ -f "$f" ] && echo "# --- $f" && sed 's/^/#   /' "$f"; done; }
# run NAME WANT ARGS...: ioasctl, exit status WANT, output in $dir/NAME.out/.err
run() {
	local name=$1 want=$2 got
	shift 2
	"$IOASCTL" --socket "$sock" "$@" >"$dir/$name.out" 2>"$dir/$name.err"
	got=$?
	[ "$got" -eq "$want" ] && return 0
	echo "# ioasctl $*: exit status $got, expected $want"
	show "$dir/$name.out" "$dir/$name.err"
	return 1
}
has() { grep -q -- "$2" "$1"; }
count() { grep -c -- "$2" "$1"; }

mkdir "$dir/policy.d"
cat >"$dir/policy.d/50-t.conf" <<EOF
[tenant t]
MatchUser=$(id -u)
Lease=60
AllowedIOVA=0x100000-0x7fffffff
AllowedIOVA=0x100000000-0x1ffffffff
ExportTo=t
ImportFrom=t
EOF
"$IOASD" --backend "$backend" --policy-dir "$dir/policy.d" --socket "$sock" --no-journal \
	2>"$dir/daemon.log" &
pid=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done

printf '%s\n' 'ioas-alloc' 'memfd 2M' 'map $ioas $mem --iova 0x100000' \
	'memfd 1M' 'map $ioas $mem --iova 0x400000 --read' \
	'export $ioas 0x100000 1M' 'allow-iovas $ioas 0x10000000-0x1fffffff' \
	'ioas-alloc' 'import $token $ioas --iova 0x200000' >"$dir/setup.batch"
check "a tenant maps, exports, narrows its IOAS and imports into a second one" \
	run setup 0 batch "$dir/setup.batch"

# ------------------------------------------------------------ the ruler
COLUMNS=72
export COLUMNS
run ruler 0 show 1
unset COLUMNS
check "the ruler has its six lanes" \
	eval 'for l in kernel policy own mappings exports imports; do grep -q "^$l *|" "$dir/ruler.out" || exit 1; done'
check "each lane is \$COLUMNS (72) wide" \
	eval '[ "$(grep "^mappings *|" "$dir/ruler.out" | awk "{ print length(\$0) }")" -eq 72 ]'
run width 0 show 1 --width 100
check "--width 100 draws 100 columns" \
	eval '[ "$(grep "^kernel *|" "$dir/width.out" | awk "{ print length(\$0) }")" -eq 100 ]'
check "the drawn span runs from the first mapping to the last allowed byte" \
	has "$dir/ruler.out" "^IOAS 1: 2 mappings; drawn 0x100000-0x1ffffffff"
check "the exports lane marks the export at the left edge" \
	grep -q "^exports *|e\.\.\." "$dir/ruler.out"
check "the policy lane shows the gap between the two AllowedIOVA= ranges" \
	grep -q "^policy *|=*~\.*~=*|" "$dir/ruler.out"

# ------------------------------------------------------------ the list
check "the mapping at 0x100000: memory 1, offset 0, fixed,read,write, exported" \
	has "$dir/ruler.out" "^0x0000000000100000-0x00000000001fffff  *1 MiB  mapping 0x100000 of memory 1 +0x0, fixed,read,write, exported as share 1$"
check "the read-only mapping at 0x400000 of memory 2" \
	has "$dir/ruler.out" "^0x0000000000400000-0x00000000004fffff  *1 MiB  mapping 0x400000 of memory 2 +0x0, fixed,read$"
check "below AllowedIOVA=: a fixed map is refused, and show says why" \
	has "$dir/ruler.out" "^0x0000000000000000-0x00000000000fffff .*free (fixed maps refused: outside the policy's AllowedIOVA=)$"
check "between the policy's ranges too" \
	has "$dir/ruler.out" "^0x0000000080000000-0x00000000ffffffff .*(fixed maps refused: outside the policy's AllowedIOVA=)$"
check "the IOAS's own AllowIovas range is plain free space" \
	has "$dir/ruler.out" "^0x0000000010000000-0x000000001fffffff  *256 MiB  free$"
check "outside it, within policy: fixed maps only" \
	has "$dir/ruler.out" "^0x0000000000500000-0x000000000fffffff .*free (fixed maps only: outside this IOAS's AllowIovas list)$"
check "the policy file is named" has "$dir/ruler.out" "^policy: AllowedIOVA= of $dir/policy.d/50-t.conf:1$"
run refused 1 map 1 1 --iova 0x80000000 --length 4K
check "... and a fixed map there is indeed refused" has "$dir/refused.err" "EPERM\|EACCES"
run import 0 show 2
check "IOAS 2: the import's piece, and the import named with its exporter" \
	has "$dir/import.out" "^0x0000000000200000-0x00000000002fffff  *1 MiB  mapping 0x200000 of import 1, read, import 1 from t$"
check "IOAS 2: the imports lane marks it" grep -q "^imports *|i" "$dir/import.out"

# ------------------------------------------------------------ JSON
run json 0 --json show 1
if command -v python3 >/dev/null 2>&1; then
	check "--json: every line is a JSON object" \
		python3 -c 'import json, sys; [json.loads(l) for l in open(sys.argv[1])]' "$dir/json.out"
fi
check "--json: the IOAS, with its 2 mappings and its policy source" \
	has "$dir/json.out" "^{\"cmd\":\"show\",\"kind\":\"ioas\",\"ioas\":1,\"alignment\":[0-9]*,\"mappings\":2,\"policy_restricts\":true,\"policy_source\":\"$dir/policy.d/50-t.conf:1\",\"own_restricts\":true}$"
check "--json: the kernel's range" has "$dir/json.out" '"kind":"kernel","start":0,'
check "--json: both AllowedIOVA= ranges" \
	eval '[ "$(count "$dir/json.out" "\"kind\":\"policy-allowed\"")" -eq 2 ] &&
		has "$dir/json.out" "\"kind\":\"policy-allowed\",\"start\":4294967296,\"last\":8589934591}"'
check "--json: the own AllowIovas range" \
	has "$dir/json.out" '"kind":"own-allowed","start":268435456,"last":536870911}'
check "--json: the mappings with memory, offset and flags" \
	eval 'has "$dir/json.out" "\"kind\":\"mapping\",\"iova\":1048576,\"length\":2097152,\"memory\":1,\"offset\":0,\"flags\":\"fixed,read,write\"" &&
		has "$dir/json.out" "\"kind\":\"mapping\",\"iova\":4194304,\"length\":1048576,\"memory\":2,\"offset\":0,\"flags\":\"fixed,read\""'
check "--json: the export" has "$dir/json.out" '"kind":"export","share":1,"iova":1048576,"length":1048576'
run json2 0 show 2 --json
check "show --json (the command's option) on IOAS 2: the import" \
	has "$dir/json2.out" '"kind":"import","import":1,"exporter":"t","share":1,"iova":2097152,"length":1048576'

# ------------------------------------------------------------ many mappings
{
	echo 'ioas-alloc'
	echo 'memfd 8M'
	for i in $(seq 0 1499); do
		printf 'map $ioas $mem --offset %d --length 4K --iova %d\n' $((i * 4096)) $((0x100000 + i * 4096))
	done
	echo 'map $ioas $mem --length 4K --iova 0x7000000 --read'
} >"$dir/many.batch"
check "1501 mappings in a third IOAS" run many 0 batch "$dir/many.batch"
run summary 0 show 3
check "1500 like mappings in a row are summed up in one line" \
	has "$dir/summary.out" "^0x0000000000100000-0x00000000006dbfff  *~5.8 MiB  1500 mappings of memory 3, fixed,read,write$"
check "... the odd one out keeps its own line" \
	has "$dir/summary.out" "^0x0000000007000000-0x0000000007000fff  *4 KiB  mapping 0x7000000 of memory 3 +0x0, fixed,read$"
check "... and the list is short" eval '[ "$(wc -l <"$dir/summary.out")" -lt 30 ]'
run all 0 show 3 --all
check "--all lists all 1501 (fetched in two MappingList pages)" \
	eval '[ "$(count "$dir/all.out" " mapping 0x")" -eq 1501 ]'
check "--all: the last of the run, at offset 1499 pages" \
	has "$dir/all.out" "^0x00000000006db000-0x00000000006dbfff  *4 KiB  mapping 0x6db000 of memory 3 +0x5db000, fixed,read,write$"
run many-json 0 --json show 3
check "--json lists all 1501" eval '[ "$(count "$dir/many-json.out" "\"kind\":\"mapping\"")" -eq 1501 ]'

# ------------------------------------------------------------ reserved ranges
# A device attached (the VT-d of the test rig, or the sim's stand-in for it:
# an MSI window at 0xfee00000 and nothing above 39 bits) gives the IOAS holes; a tenant
# with AllowDevice= of its own, on a second daemon.
mkdir "$dir/policy2.d"
printf '[tenant dev]\nMatchUser=%s\nAllowDevice=1234:11e8\n' "$(id -u)" >"$dir/policy2.d/50-dev.conf"
sock2=$dir/ioasd2.sock
"$IOASD" --backend "$backend" --policy-dir "$dir/policy2.d" --socket "$sock2" --no-journal \
	2>"$dir/daemon2.log" &
pid2=$!
for _ in $(seq 100); do [ -S "$sock2" ] && break; sleep 0.05; done
printf '%s\n' 'ioas-alloc' "attach-device \$ioas $device" 'memfd 1M' \
	'map $ioas $mem --iova 0xfe000000' 'show $ioas --width 80' >"$dir/dev.batch"
"$IOASCTL" --socket "$sock2" batch "$dir/dev.batch" >"$dir/dev.out" 2>"$dir/dev.err"
check "with a device: the MSI window is a reserved line, and why" \
	has "$dir/dev.out" "^0x00000000fee00000-0x00000000feefffff  *1 MiB  reserved (fixed maps refused: not in the kernel's IOVA ranges)$"
check "... so is everything above the 39-bit aperture" \
	has "$dir/dev.out" "^0x0000008000000000-0xffffffffffffffff .* reserved (fixed maps refused: not in the kernel's IOVA ranges)$"
check "... the ruler spans the mapping and the hole beside it" \
	eval 'has "$dir/dev.out" "^IOAS 1: 1 mappings; drawn 0xfe000000-0xfeefffff" &&
		grep -q "^kernel *|=*x*|$" "$dir/dev.out" && grep -q "^kernel *|=*x\{1,\}|$" "$dir/dev.out"'
printf '%s\n' 'ioas-alloc' "attach-device \$ioas $device" 'show $ioas --json' \
	>"$dir/dev-json.batch"
"$IOASCTL" --socket "$sock2" batch "$dir/dev-json.batch" >"$dir/dev-json.out" 2>"$dir/dev-json.err"
check "--json: the reserved ranges" \
	eval 'has "$dir/dev-json.out" "\"kind\":\"reserved\",\"start\":4276092928,\"last\":4277141503}" &&
		has "$dir/dev-json.out" "\"kind\":\"reserved\",\"start\":549755813888,\"last\":18446744073709551615}"'
kill -TERM "$pid2"
wait "$pid2"

# ------------------------------------------------------------ errors
run noioas 1 show 99
check "an IOAS the tenant does not have: ENOENT, exit 1" has "$dir/noioas.err" ENOENT
check "show without an IOAS: usage error" run noarg 2 show
check "show with a bad IOAS: usage error" run badarg 2 show abc
check "--width below 20: usage error" run badwidth 2 show 1 --width 5
check "an unknown option: usage error" run badopt 2 show 1 --colour

[ $failed -eq 0 ] || show "$dir/daemon.log"
echo "1..$n"
echo "# $((n - failed)) passed, $failed failed"
[ $failed -eq 0 ]
