# SPDX-License-Identifier: MIT
# modes: mock
# Hardware page tables through the broker, confirmed by the kernel (issue
# 15). ioasd --test-mock-domains (a test build) attaches the self-test mock
# device to every IOAS it hands out; a device tenant uses it as "device 0".
# The tenant (uid $TEST_UID) allocates a nesting parent and a nested HWPT
# with IOMMU_HWPT_DATA_SELFTEST data through ioasd, moves the mock device
# onto it, invalidates one IOTLB, then a bad entry, then all; after the
# allocation and after each invalidation the daemon's test hook asks the
# kernel (IOMMU_TEST_OP_MD_CHECK_IOTLB) what the mock's IOTLBs hold, and
# a value the kernel does not confirm would fail the request with EIO.
# A second client leaves its HWPTs (the mock device on the nested one)
# behind: the release must take them without a warning.
. /tests/lib.sh

[ -x /bin/ioasd ] || fail "ioasd is not in the initramfs"
[ -x /bin/ioasctl ] || fail "ioasctl is not in the initramfs"
ulimit -l 262144 2>/dev/null || true

dir=/tmp/hwpt
mkdir -p $dir/policy.d
chmod 0755 $dir
cat >$dir/policy.d/50-vmm.conf <<CONF
[tenant vmm]
MatchUser=$TEST_UID
AllowDevice=1234:11e8
AllowNesting=yes
AllowedHwptData=selftest
CONF
sock=$dir/ioasd.sock
log=$IOASD_VM_OUT/hwpt-ioasd.log
ioasd --backend kernel --socket $sock --socket-mode 0666 --policy-dir $dir/policy.d \
	--test-mock-domains --pool-size 0 -v >$log 2>&1 &
pid=$!
i=0
while [ ! -S $sock ]; do
	kill -0 $pid 2>/dev/null || fail "ioasd exited early: $(tail -n 5 $log)"
	i=$((i + 1))
	[ $i -lt 100 ] || fail "no socket after 10 s"
	sleep 0.1
done

cat >$dir/one.txt <<'B'
ioas-alloc
memfd 64K
map $ioas $mem
hwpt-alloc 0 $ioas --nest-parent
hwpt-alloc-nested 0 $hwpt --data-type selftest --data efbead0b
device-replace 0 --hwpt $hwpt
hwpt-destroy 1
hwpt-invalidate $hwpt --data-type selftest --entry-len 8 --entries 0000000002000000
hwpt-invalidate $hwpt --data-type selftest --entry-len 8 --entries 0000000007000000
hwpt-invalidate $hwpt --data-type selftest --entry-len 8 --entries 0100000000000000
hwpts
device-replace 0 --ioas $ioas
hwpt-destroy $hwpt
hwpt-destroy 1
hwpts
B
rc=0
as_user ioasctl -s $sock -k batch $dir/one.txt >$dir/one.out 2>$dir/one.err || rc=$?
cat $dir/one.out $dir/one.err
[ $rc = 1 ] || fail "the batch exited $rc, expected 1 (two refusals)"
grep -q "^allocated hwpt 1$" $dir/one.out || fail "no nesting parent"
grep -q "^allocated hwpt 2$" $dir/one.out || fail "no nested HWPT"
grep -q "^device 0 now on hwpt 2$" $dir/one.out || fail "the mock device did not go onto the nested HWPT"
ok "a nesting parent and a nested HWPT (selftest data) through ioasd, the mock device on it"
grep -q "line 7: hwpt-destroy: .*EBUSY" $dir/one.err || fail "destroying the parent in use was not EBUSY"
ok "the parent in use by the nested HWPT: EBUSY"
[ "$(grep -c '^invalidated hwpt 2: 1 of 1 entries$' $dir/one.out)" = 2 ] ||
	fail "the two good invalidations were not both done"
grep -q "line 9: hwpt-invalidate: .*EINVAL" $dir/one.err || fail "iotlb_id 7 was not EINVAL"
grep -q "handled 0 of 1 entries" $dir/one.err || fail "the refused invalidation did not say 0 of 1"
ok "invalidations: one IOTLB, a bad entry (EINVAL, 0 of 1 handled), all"
grep -q "test hook: .*EIO\|does not hold" $log && fail "the kernel did not confirm an IOTLB: $(grep 'does not hold' $log | tail -n 2)"
grep -q "MD_CHECK_IOTLB after the nested HWPT's allocation: HWPT 2 holds 0xbadbeef in its IOTLBs but the cleared ones (mask 0x0)" $log ||
	fail "no kernel check after the allocation: $(grep -i iotlb $log | tail -n 3)"
grep -q "MD_CHECK_IOTLB after an invalidation: HWPT 2 holds 0xbadbeef .* (mask 0x4)" $log ||
	fail "no kernel check after invalidating IOTLB 2"
grep -q "MD_CHECK_IOTLB after an invalidation: HWPT 2 .* (mask 0xf)" $log ||
	fail "no kernel check after invalidating all"
ok "IOMMU_TEST_OP_MD_CHECK_IOTLB: 0xbadbeef in all four IOTLBs, then IOTLB 2 cleared, then all"
grep -q "^no hwpts$" $dir/one.out || fail "HWPTs left after destroying them"
ok "back onto the IOAS, both destroyed in order"

# A client that leaves: its HWPTs go with it, the mock device moved off first.
cat >$dir/two.txt <<'B'
ioas-alloc
hwpt-alloc 0 $ioas --nest-parent
hwpt-alloc-nested 0 $hwpt --data-type selftest --data 01000000
device-replace 0 --hwpt $hwpt
B
as_user ioasctl -s $sock batch $dir/two.txt >$dir/two.out 2>&1 || { cat $dir/two.out; fail "second client failed"; }
sleep 1
grep -q "not destroyed\|IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE.*refused" $log &&
	fail "the release left something: $(grep 'not destroyed\|refused' $log | tail -n 3)"
[ "$(grep -c "the mock device of IOAS 1 is on IOAS 1" $log)" -ge 2 ] || fail "the release did not move the mock device back"
ok "released with the tenant: mock device back on its IOAS, HWPTs destroyed"
kill $pid
wait $pid
ok "ioasd exited"
