# SPDX-License-Identifier: MIT
# modes: mock main
# I/O page faults, dirty tracking and PASIDs through the broker, confirmed
# by the kernel (issue 16), as the unprivileged tenant uid $TEST_UID.
#   mock  ioasd --test-mock-domains (a test build): the self-test mock
#         device is the tenant's "device 0". A fault queue and a nested HWPT
#         with it; when the mock device goes onto that HWPT the daemon's
#         test hook has the kernel raise one fault (IOMMU_TEST_OP_TRIGGER_
#         IOPF), which the client reads from the queue's fd and answers; a
#         cookie the kernel never gave is refused (EINVAL). A dirty-tracking
#         HWPT: an empty bitmap before tracking is on; turning it on has
#         the hook dirty pages 0 and 2 (IOMMU_TEST_OP_DIRTY); the client's
#         bitmap shows exactly those, then nothing after a read-and-clear.
#         7.2 (the mock device made PASID-capable): device 0 onto a PASID
#         HWPT, attached at PASID 100, replaced onto a second one, detached,
#         each confirmed by IOMMU_TEST_OP_PASID_CHECK_HWPT in the daemon;
#         PASID 300 refused by AllowedPASID=; 6.12: EOPNOTSUPP.
#   main  edu behind QEMU's VT-d: PASID attach and detach policy (7.2:
#         allowed, refused by AllowedPASID=, the kernel's EINVAL for an IOAS,
#         detach of what is not attached; 6.12: EOPNOTSUPP).
. /tests/lib.sh

[ -x /bin/ioasd ] || fail "ioasd is not in the initramfs"
[ -x /bin/ioasctl ] || fail "ioasctl is not in the initramfs"
ulimit -l 262144 2>/dev/null || true
kver=$(uname -r)
major=${kver%%.*}

dir=/tmp/faults
mkdir -p $dir/policy.d
chmod 0755 $dir
cat >$dir/policy.d/50-vmm.conf <<CONF
[tenant vmm]
MatchUser=$TEST_UID
AllowDevice=1234:11e8
AllowNesting=yes
AllowDirtyTracking=yes
AllowedHwptData=selftest
HugePages=no
MaxFaultQueues=1
AllowedPASID=1-255
CONF
sock=$dir/ioasd.sock
log=$IOASD_VM_OUT/faults-ioasd-$IOASD_VM_MODE.log
extra=
[ "$IOASD_VM_MODE" = mock ] && extra=--test-mock-domains
ioasd --backend kernel --socket $sock --socket-mode 0666 --policy-dir $dir/policy.d \
	$extra --pool-size 0 -v >$log 2>&1 &
pid=$!
i=0
while [ ! -S $sock ]; do
	kill -0 $pid 2>/dev/null || fail "ioasd exited early: $(tail -n 5 $log)"
	i=$((i + 1))
	[ $i -lt 100 ] || fail "no socket after 10 s"
	sleep 0.1
done

if [ "$IOASD_VM_MODE" = mock ]; then
	cat >$dir/fault.txt <<'B'
ioas-alloc
memfd 64K
map $ioas $mem
fault-alloc
hwpt-alloc 0 $ioas --nest-parent
hwpt-alloc-nested 0 $hwpt --data-type selftest --data efbead0b --fault 1
device-replace 0 --hwpt $hwpt
fault-read 1
fault-respond 1 1
fault-respond 1 99
fault-read 1 --timeout 200
fault-destroy 1
device-replace 0 --ioas $ioas
hwpt-destroy $hwpt
fault-destroy 1
fault-close 1
fault-destroy 1
hwpt-destroy 1
hwpts
B
	rc=0
	as_user ioasctl -s $sock -k batch $dir/fault.txt >$dir/fault.out 2>$dir/fault.err || rc=$?
	cat $dir/fault.out $dir/fault.err
	[ $rc = 1 ] || fail "the fault batch exited $rc, expected 1 (three refusals)"
	grep -q "^allocated fault queue 1$" $dir/fault.out || fail "no fault queue"
	grep -q "^allocated hwpt 2$" $dir/fault.out || fail "no nested HWPT with the queue"
	grep -q "TRIGGER_IOPF of the mock device .* on HWPT 2 (fault queue 1): triggered" $log ||
		fail "the test hook did not trigger a fault: $(grep -i iopf $log | tail -n 2)"
	grep -q "^fault queue 1: flags 0x3 dev_id [0-9]* pasid 1 grpid 2 perm 0x3 addr 0xdeadbeaf length [0-9]* cookie 1$" $dir/fault.out ||
		fail "the client did not read the triggered fault from its fd"
	ok "$kver: a fault the kernel raised (TRIGGER_IOPF) read by the tenant from the queue's fd ioasd handed over"
	grep -q "^fault queue 1: group of cookie 1 answered success$" $dir/fault.out ||
		fail "the response to cookie 1 was not taken"
	grep -q "line 10: fault-respond: .*EINVAL.*cookie 99" $dir/fault.err ||
		fail "a cookie the kernel never gave was not refused EINVAL"
	ok "answered (cookie 1); a bad cookie (99) refused by the kernel: EINVAL"
	grep -q "^fault queue 1: no fault$" $dir/fault.out || fail "a second fault showed up"
	grep -q "line 12: fault-destroy: .*EBUSY" $dir/fault.err || fail "the queue held by the HWPT was not EBUSY"
	grep -q "line 15: fault-destroy: .*EBUSY.*close the fd first" $dir/fault.err ||
		fail "the queue with its fd open was not EBUSY"
	grep -q "^destroyed fault 1$" $dir/fault.out || fail "the queue was not destroyed at the end"
	ok "the queue's lifetime: EBUSY while the HWPT holds it and while its fd is open (the kernel's), then destroyed"
	grep -q "fault queue .* not destroyed" $log && fail "a queue was left: $(grep 'not destroyed' $log | tail -n 1)"

	cat >$dir/dirty.txt <<'B'
ioas-alloc
memfd 64K
map $ioas $mem
hwpt-alloc 0 $ioas --dirty-tracking
hwpt-get-dirty $hwpt $iova 64K
hwpt-set-dirty $hwpt on
hwpt-get-dirty $hwpt $iova 64K --no-clear
hwpt-get-dirty $hwpt $iova 64K
hwpt-get-dirty $hwpt $iova 64K
hwpt-get-dirty $hwpt $iova 64K --page-size 3000
hwpt-set-dirty $hwpt off
hwpt-destroy $hwpt
B
	rc=0
	as_user ioasctl -s $sock -k batch $dir/dirty.txt >$dir/dirty.out 2>$dir/dirty.err || rc=$?
	cat $dir/dirty.out $dir/dirty.err
	[ $rc = 1 ] || fail "the dirty batch exited $rc, expected 1 (one refusal)"
	grep -q '^hwpt 1: 0 dirty page(s) .*bitmap 0000000000000000$' $dir/dirty.out ||
		fail "reading with tracking off was not an empty bitmap"
	grep -q "IOMMU_TEST_OP_DIRTY of HWPT 1 .*: mock pages 0 and 4 of 2048 bytes .*: done, 2 marked" $log ||
		fail "the test hook did not dirty two mock pages: $(grep -i dirty $log | tail -n 2)"
	[ "$(grep -c '^hwpt 1: 2 dirty page(s) of 4096 bytes in .*; bitmap 0000000000000005' $dir/dirty.out)" = 2 ] ||
		fail "the bitmap did not show exactly pages 0 and 2 (twice: no-clear, then read-and-clear)"
	ok "$kver: the tenant's bitmap shows exactly the pages IOMMU_TEST_OP_DIRTY dirtied (0 and 2)"
	[ "$(grep -c '^hwpt 1: 0 dirty page(s) of 4096 bytes in .*; bitmap 0000000000000000$' $dir/dirty.out)" = 2 ] ||
		fail "the bits were not cleared by the read-and-clear"
	ok "cleared after a read-and-clear, kept by a read with --no-clear"
	grep -q "line 10: hwpt-get-dirty: .*power of two" $dir/dirty.err || fail "page size 3000 reached the kernel"
	ok "a page size that is no power of two is refused before the kernel"

	cat >$dir/mpasid.txt <<'B'
ioas-alloc
hwpt-alloc 0 $ioas --pasid
hwpt-alloc 0 $ioas --pasid
pasid-attach 0 100 --hwpt 1
device-replace 0 --hwpt 1
pasid-attach 0 100 --hwpt 1
pasids
pasid-attach 0 100 --hwpt 2
pasids
pasid-attach 0 300 --hwpt 1
hwpt-destroy 2
pasid-detach 0 100
pasid-detach 0 100
device-replace 0 --ioas $ioas
hwpt-destroy 2
hwpt-destroy 1
B
	rc=0
	as_user ioasctl -s $sock -k batch $dir/mpasid.txt >$dir/mpasid.out 2>$dir/mpasid.err || rc=$?
	cat $dir/mpasid.out $dir/mpasid.err
	if [ "$major" -ge 7 ]; then
		[ $rc = 1 ] || fail "the mock PASID batch exited $rc, expected 1 (four refusals)"
		grep -q "line 4: pasid-attach: .*EINVAL" $dir/mpasid.err ||
			fail "a PASID with the mock device's RID on its IOAS was not the kernel's EINVAL"
		ok "$kver: the mock device at a PASID while its RID is on no PASID HWPT: the kernel's EINVAL"
		grep -q "^device 0 pasid 100 now on hwpt 1$" $dir/mpasid.out || fail "the mock's PASID 100 was not attached"
		grep -q "PASID_CHECK_HWPT after an attach: the mock device of IOAS 1 at PASID 100 is on kernel HWPT [1-9]" $log ||
			fail "the kernel did not confirm the attach: $(grep -i pasid $log | tail -n 2)"
		grep -q "^device 0 pasid 100: hwpt 1$" $dir/mpasid.out || fail "pasids did not list the mock's PASID 100 on hwpt 1"
		ok "$kver: the mock device's PASID 100 attached through ioasd, confirmed by IOMMU_TEST_OP_PASID_CHECK_HWPT"
		grep -q "^device 0 pasid 100 now on hwpt 2$" $dir/mpasid.out || fail "the mock's PASID 100 was not replaced"
		grep -q "PASID_CHECK_HWPT after a replace: the mock device of IOAS 1 at PASID 100 is on kernel HWPT [1-9]" $log ||
			fail "the kernel did not confirm the replace: $(grep -i pasid $log | tail -n 2)"
		grep -q "^device 0 pasid 100: hwpt 2$" $dir/mpasid.out || fail "pasids did not list the mock's PASID 100 on hwpt 2"
		ok "replaced onto a second PASID HWPT (IOMMU_TEST_OP_PASID_REPLACE), confirmed by the kernel"
		grep -q "line 10: pasid-attach: .*EPERM.*AllowedPASID=1-255.*50-vmm.conf:" $dir/mpasid.err ||
			fail "the mock's PASID 300 was not refused citing AllowedPASID="
		ok "PASID 300 of the mock device refused by AllowedPASID=1-255, citing the policy line"
		grep -q "line 11: hwpt-destroy: .*EBUSY" $dir/mpasid.err || fail "the HWPT at a PASID was not EBUSY"
		grep -q "^device 0 pasid 100 detached$" $dir/mpasid.out || fail "the mock's PASID 100 was not detached"
		grep -q "PASID_CHECK_HWPT after a detach: the mock device of IOAS 1 at PASID 100 is on nothing$" $log ||
			fail "the kernel did not confirm the detach: $(grep -i pasid $log | tail -n 2)"
		grep -q "line 13: pasid-detach: .*ENOENT.*nothing attached" $dir/mpasid.err ||
			fail "a second detach was not ENOENT"
		ok "detached (IOMMU_TEST_OP_PASID_DETACH), confirmed by the kernel; the HWPT held until then (EBUSY)"
		grep -q "^destroyed hwpt 1$" $dir/mpasid.out || fail "the PASID HWPTs were not destroyed at the end"
	else
		grep -q "line 2: hwpt-alloc: .*EOPNOTSUPP" $dir/mpasid.err || fail "6.12: a PASID HWPT was not EOPNOTSUPP"
		grep -q "line 6: pasid-attach: .*EOPNOTSUPP.*no PASID attach" $dir/mpasid.err ||
			fail "6.12: the mock's pasid-attach was not EOPNOTSUPP"
		ok "$kver has no PASID mock (MOCK_FLAGS_DEVICE_PASID) nor PASID attach: EOPNOTSUPP, as its HWPT_ALLOC_PASID says"
	fi
	grep -q "PASID .* not detached" $log && fail "a PASID was left: $(grep 'not detached' $log | tail -n 1)"
else
	dev=/dev/vfio/devices/vfio0
	[ -c $dev ] || fail "$dev is missing"
	chown $TEST_UID $dev
	chmod 0600 $dev
	cat >$dir/pasid.txt <<B
ioas-alloc
attach-device \$ioas $dev
hwpt-alloc \$device \$ioas --pasid
device-replace \$device --hwpt \$hwpt
pasid-attach \$device 100 --hwpt \$hwpt
pasid-attach \$device 300 --hwpt \$hwpt
pasid-attach \$device 101 --ioas \$ioas
pasids
pasid-detach \$device 100
pasid-detach \$device 100
device-replace \$device --ioas \$ioas
hwpt-destroy \$hwpt
B
	rc=0
	as_user ioasctl -s $sock -k batch $dir/pasid.txt >$dir/pasid.out 2>$dir/pasid.err || rc=$?
	cat $dir/pasid.out $dir/pasid.err
	chown 0 $dev
	if [ "$major" -ge 7 ]; then
		[ $rc = 1 ] || fail "the PASID batch exited $rc, expected 1 (three refusals)"
		grep -q "^device 1 pasid 100 now on hwpt 1$" $dir/pasid.out || fail "PASID 100 was not attached"
		grep -q "^device 1 pasid 100: hwpt 1$" $dir/pasid.out || fail "pasids did not list PASID 100"
		grep -q "^device 1 pasid 100 detached$" $dir/pasid.out || fail "PASID 100 was not detached"
		ok "$kver: edu's PASID 100 attached to a PASID HWPT and detached through ioasd (VFIO_DEVICE_ATTACH_PASID)"
		grep -q "line 6: pasid-attach: .*EPERM.*AllowedPASID=1-255.*50-vmm.conf:" $dir/pasid.err ||
			fail "PASID 300 was not refused citing AllowedPASID="
		ok "PASID 300 refused by AllowedPASID=1-255, citing the policy line"
		grep -q "line 7: pasid-attach: .*EINVAL" $dir/pasid.err || fail "an IOAS at a PASID was not the kernel's EINVAL"
		ok "an IOAS at a PASID: the kernel's EINVAL"
		grep -q "line 10: pasid-detach: .*ENOENT.*nothing attached" $dir/pasid.err ||
			fail "detaching what is not attached was not ENOENT"
		ok "detach of a PASID with nothing attached: ENOENT"
	else
		grep -q "line 3: hwpt-alloc: .*EOPNOTSUPP" $dir/pasid.err || fail "6.12: a PASID HWPT was not EOPNOTSUPP"
		grep -q "line 7: pasid-attach: .*EOPNOTSUPP.*no PASID attach" $dir/pasid.err ||
			fail "6.12: pasid-attach was not EOPNOTSUPP"
		ok "$kver has no PASID attach: EOPNOTSUPP (the HWPT flag as the kernel says, the attach said so by ioasd)"
	fi
fi

kill $pid
wait $pid
ok "ioasd exited"
