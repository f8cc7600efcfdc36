# SPDX-License-Identifier: MIT
# modes: main
# Device brokering with real DMA: QEMU's edu device (vfio-pci, VT-d) driven by
# tests/vm/vm-edu.
#   direct  root, no daemon: the edu driver and the kernel facts on their own
#   broker  uid $TEST_UID (AllowDevice=1234:11e8) through ioasd: copy, faults,
#           EBUSY destroy, unmap, detach, re-attach, release on disconnect
#   share   uid 2 exports a read-only page, uid $TEST_UID imports it, its
#           device reads it by DMA, and no longer after the revoke
#   identity  uid $TEST_UID's memory at the IOVAs equal to its own addresses:
#           a user address beyond the 39 bits of QEMU's default VT-d refused
#           as the fixed map is, a low one reached by the device's DMA
# The faulting DMAs that QEMU's VT-d reports must show up as DMAR faults in
# the kernel log (see expect_faults).
. /tests/lib.sh

[ -x /bin/vm-edu ] || fail "vm-edu is not in the initramfs (its static build failed: see the host log)"
[ -x /bin/ioasd ] || fail "ioasd is not in the initramfs (its static build failed: see the host log)"
dev=/dev/vfio/devices/vfio0
[ -c $dev ] || fail "$dev is missing"
EXPORTER_UID=2 # "bin" in the initramfs
summary=$IOASD_VM_OUT/devices.summary
: >$summary
# run_mode PHASE COMMAND...: its output to the log, its count of checks to
# the summary the host prints.
run_mode() {
	phase=$1
	shift
	rc=0
	"$@" >/tmp/$phase.out 2>&1 || rc=$?
	cat /tmp/$phase.out
	echo "$phase: $(grep -c '^ok:' /tmp/$phase.out) checks ok$([ $rc = 0 ] || echo ", FAILED (exit $rc): $(grep -m1 '^FAIL' /tmp/$phase.out)")" >>$summary
	return $rc
}

# DMAR fault lines so far. The Intel driver rate-limits them (10 per 5 s), so
# each phase starts at least 5 s after the previous one's faults.
# QEMU 7.2's VT-d reports a fault when its page walk fails; a write that
# (apparently) hits a cached read-only translation (right after a read of
# the same page) and any DMA of a detached device are dropped without a
# report, so only the faults named below are required (vm-edu itself checks
# that every refused DMA changed no byte of memory).
faults() { dmesg | grep -cE 'DMAR: \[DMA (Read|Write)'; }
expect_faults() { # expect_faults BEFORE PHASE TYPE:ADDR...
	before=$1 phase=$2
	shift 2
	dmesg | grep -E 'DMAR: \[DMA (Read|Write)' | tail -n +$((before + 1)) >/tmp/faults.txt
	sed "s/^/$phase dmesg: /" /tmp/faults.txt
	for want in "$@"; do
		grep -q "DMA ${want%%:*} .*fault addr ${want#*:} " /tmp/faults.txt ||
			fail "$phase: no DMAR fault logged for the DMA ${want%%:*} at ${want#*:}"
	done
	ok "$phase: $(wc -l </tmp/faults.txt) DMAR fault(s) logged, including $*"
}

# ---- direct: no daemon
f=$(faults)
run_mode direct vm-edu direct $dev || fail "vm-edu direct failed"
expect_faults $f direct Write:0x300000 Write:0x800000 Write:0x200000
sleep 5

# ---- the daemon, with a policy
dir=/tmp/devices
mkdir -p $dir/policy.d
chmod 0755 $dir
cat >$dir/policy.d/50-devices.conf <<CONF
[tenant edu]
MatchUser=$TEST_UID
AllowDevice=1234:11e8
ImportFrom=feeder

[tenant feeder]
MatchUser=$EXPORTER_UID
ExportTo=edu
CONF
sock=$dir/ioasd.sock
log=$IOASD_VM_OUT/devices-ioasd.log
ioasd --backend kernel --policy-dir $dir/policy.d --socket $sock --socket-mode 0666 >$log 2>&1 &
pid=$!
i=0
while [ ! -S $sock ]; do
	kill -0 $pid 2>/dev/null || fail "ioasd exited early: $(tail -n 5 $log)"
	i=$((i + 1))
	[ $i -lt 100 ] || fail "no socket $sock after 10 s"
	sleep 0.1
done
ok "ioasd listening on $sock"

# A real tenant opens its device node itself, unprivileged.
chown $TEST_UID $dev
chmod 0600 $dev

f=$(faults)
rc=0
run_mode broker as_user vm-edu broker $sock $dev || rc=$?
[ $rc = 0 ] || fail "vm-edu broker as uid $TEST_UID exited $rc; daemon log: $(tail -n 20 $log)"
expect_faults $f broker Write:0x800000 Write:0x300000 Write:0x200000
kill -0 $pid 2>/dev/null || fail "ioasd died during the broker tests"
sleep 5

f=$(faults)
rc=0
run_mode share vm-edu share $sock $dev $EXPORTER_UID $TEST_UID || rc=$?
[ $rc = 0 ] || fail "vm-edu share exited $rc; daemon log: $(tail -n 20 $log)"
expect_faults $f share Read:0x500000 Read:0x300000

rc=0
run_mode identity as_user vm-edu identity $sock $dev || rc=$?
[ $rc = 0 ] || fail "vm-edu identity as uid $TEST_UID exited $rc; daemon log: $(tail -n 20 $log)"

chown 0 $dev
kill -0 $pid 2>/dev/null || fail "ioasd died during the device tests"
ok "ioasd still running after the device tests"
kill -TERM $pid
rc=0
wait $pid || rc=$?
[ $rc = 0 ] || fail "ioasd exited $rc on SIGTERM: $(tail -n 10 $log)"
ok "ioasd exited cleanly on SIGTERM"
