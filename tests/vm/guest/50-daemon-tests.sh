# SPDX-License-Identifier: MIT
# modes: main
# The daemon-level tests of 'make check' (tests/test-integration, test-shares, test-devices, test-exhaustion,
# tests/test-tenants, tests/test-badinput, tests/test-restart: static builds; and
# tests/test-ioasctl.sh under busybox sh) against ioasd on the REAL kernel
# backend, as root, with IOASD_TEST_BACKEND=kernel: the same cases, results
# and errno that the host checks on the sim. Clients run as nobody (65534),
# daemon (1) and bin (2) (/etc/passwd of the initramfs).
#
# The initramfs has no python3: test-ioasctl.sh's JSON-lines assertions are
# not made here (it says so in its output); its exit statuses, text output
# and errno checks are.
. /tests/lib.sh

[ -x /bin/ioasd ] || fail "ioasd is not in the initramfs (its static build failed: see the host log)"
[ -c /dev/iommu ] || fail "/dev/iommu is missing"

export IOASD_TEST_BACKEND=kernel
export IOASD_BIN=/bin/ioasd
export CK_DEFAULT_TIMEOUT=60
export TMPDIR=/tmp
# IOMMU_IOAS_MAP_FILE arrived in Linux 6.13: the daemon must find it there
# and must not claim it before (the integration test checks Hello's caps).
kver=$(uname -r)
major=${kver%%.*}
minor=${kver#*.}
minor=${minor%%[!0-9]*}
if [ "$major" -gt 6 ] || { [ "$major" = 6 ] && [ "$minor" -ge 13 ]; }; then
	export IOASD_TEST_MAP_FILE=1
else
	export IOASD_TEST_MAP_FILE=0
fi
ok "kernel $kver: IOASD_TEST_MAP_FILE=$IOASD_TEST_MAP_FILE"

summary=$IOASD_VM_OUT/daemon-tests.summary
: >$summary
failed=0
for t in test-integration test-tenants test-shares test-devices test-hwpt test-exhaustion test-badinput test-restart test-ioasctl.sh; do
	cmd=/bin/$t
	case $t in
	*.sh)
		cmd="sh /tests/$t"
		export IOASCTL_BIN=/bin/ioasctl
		[ -x /bin/ioasctl ] || { echo "$t: FAIL: ioasctl is not in the initramfs" >>$summary; failed=$((failed + 1)); continue; }
		;;
	esac
	if [ "$cmd" = /bin/$t ] && [ ! -x /bin/$t ]; then
		echo "$t: FAIL: not in the initramfs (its static build failed: see the host log)" >>$summary
		failed=$((failed + 1))
		continue
	fi
	echo "==== $t"
	start=$(cut -d' ' -f1 /proc/uptime)
	rc=0
	$cmd >/tmp/$t.out 2>&1 || rc=$?
	end=$(cut -d' ' -f1 /proc/uptime)
	cat /tmp/$t.out
	# Check's summary line ("100%: Checks: N, Failures: F, Errors: E"), or
	# the TAP plan and failures of the shell test.
	checks=$(grep -a '^[0-9]*%: Checks:' /tmp/$t.out | tail -n1)
	case $t in *.sh) checks="TAP $(grep -a '^1\.\.' /tmp/$t.out | tail -n1), $(grep -ac '^not ok' /tmp/$t.out) not ok" ;; esac
	if [ $rc = 0 ]; then
		echo "$t: PASS ${checks:-(no Check summary)} ($start..$end s)" >>$summary
	else
		echo "$t: FAIL exit $rc ${checks:-(no Check summary)} ($start..$end s)" >>$summary
		grep -a ':[EF]:\|^not ok' /tmp/$t.out | sed "s|^|$t: |" >>$summary
		failed=$((failed + 1))
	fi
done
cat $summary
[ $failed = 0 ] || fail "$failed of the daemon-level test programs failed on the kernel backend"
ok "daemon-level tests pass on the kernel backend"
