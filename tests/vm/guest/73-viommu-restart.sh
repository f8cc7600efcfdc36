# SPDX-License-Identifier: MIT
# modes: mock
# vIOMMU objects kept across a daemon restart (issue 15), on the kernel's
# self-test mock device ("device 0" of ioasd --test-mock-domains). One
# client (uid $TEST_UID, one ioasctl batch session) makes a nesting parent,
# a vIOMMU on it, a vDEVICE (virt_id 0x99), a nested HWPT in the vIOMMU
# with the mock device on it and a vEVENTQ, reads the event the test hook
# triggers, then waits ("reclaim") while ioasd --state-dir is SIGKILLed and
# started again. After the reclaim, through the new daemon:
#   - the same handles: the nested HWPT with the mock device on it (hwpts),
#     the vIOMMU held (EBUSY), then everything destroyed in order
#   - the vEVENTQ fd the client kept still reads: the restored queue gets
#     the event the test hook triggers again (IOMMU_TEST_OP_TRIGGER_VEVENT)
#   - an invalidation through the restored vIOMMU reaches the mock device's
#     caches (IOMMU_TEST_OP_DEV_CHECK_CACHE, the kernel's own check)
#   - a second IOAS's mock device, on a PASID HWPT with PASID 100 attached
#     there before the kill, is listed at it again; a replace and the
#     detach through the new daemon are confirmed by the kernel
#     (IOMMU_TEST_OP_PASID_CHECK_HWPT): the restored record is the kernel's
# Linux 7.2 (6.12 has no vIOMMU: nothing to keep, the test says so).
. /tests/lib.sh

[ -x /bin/ioasd ] || fail "ioasd is not in the initramfs"
[ -x /bin/ioasctl ] || fail "ioasctl is not in the initramfs"
kver=$(uname -r)
[ "${kver%%.*}" -ge 7 ] || { ok "$kver has no vIOMMU: nothing to keep across a restart"; exit 0; }
ulimit -l 262144 2>/dev/null || true

dir=/tmp/vrestart
rm -rf $dir
mkdir -p $dir/policy.d
chmod 0755 $dir
cat >$dir/policy.d/50-vmm.conf <<CONF
[tenant vmm]
MatchUser=$TEST_UID
AllowDevice=1234:11e8
AllowNesting=yes
AllowedHwptData=selftest
AllowViommu=yes
AllowedPASID=1-255
CONF
sock=$dir/ioasd.sock
state=$dir/state
args="--backend kernel --socket $sock --socket-mode 0666 --policy-dir $dir/policy.d --test-mock-domains --pool-size 0 --state-dir $state --restart-grace 60 -v"
log1=$IOASD_VM_OUT/vrestart-ioasd-1.log
log2=$IOASD_VM_OUT/vrestart-ioasd-2.log
out=$dir/client.out
err=$dir/client.err

# start_daemon LOG: ioasd $args in the background ($dpid), until it serves.
start_daemon() {
	ioasd $args >$1 2>&1 &
	dpid=$!
	i=0
	until grep -q 'serving on' $1 2>/dev/null; do
		kill -0 $dpid 2>/dev/null || fail "ioasd exited early: $(tail -n 10 $1)"
		i=$((i + 1))
		[ $i -lt 300 ] || fail "ioasd not serving after 30 s: $(tail -n 10 $1)"
		sleep 0.1
	done
}

cat >$dir/batch.txt <<'B'
ioas-alloc
hwpt-alloc 0 $ioas --nest-parent
viommu-alloc 0 $hwpt --type selftest
vdevice-alloc $viommu 0 0x99
hwpt-alloc-nested 0 $viommu --viommu --data-type selftest --data efbead0b
device-replace 0 --hwpt $hwpt
veventq-alloc $viommu --type selftest --depth 4
veventq-read 3
ioas-alloc
hwpt-alloc 0 $ioas --pasid
device-replace 0 --hwpt $hwpt
pasid-attach 0 100 --hwpt $hwpt
reclaim --timeout 90000
hwpts
veventq-read 3
hwpt-invalidate 1 --viommu --data-type selftest --entry-len 12 --entries 010000009900000000000000
viommu-destroy 1
device-replace 0 --ioas 1
hwpt-destroy 2
veventq-destroy 3
vdevice-destroy 2
viommu-destroy 1
hwpt-destroy 1
pasids
pasid-attach 0 100 --hwpt 3
pasid-detach 0 100
device-replace 0 --ioas 2
hwpt-destroy 3
hwpts
B

start_daemon $log1
as_user ioasctl -s $sock -k batch $dir/batch.txt >$out 2>$err &
cpid=$!
i=0
until grep -q '^veventq 3: ' $out 2>/dev/null; do
	kill -0 $cpid 2>/dev/null || { cat $out $err; fail "the client ended before the restart"; }
	i=$((i + 1))
	[ $i -lt 300 ] || { cat $out $err; fail "the client did not read its first event in 30 s"; }
	sleep 0.1
done
cat $out
grep -q "^veventq 3: 12 bytes, flags 0x0, sequence 0, data 99000000$" $out ||
	fail "the first event (virt_id 0x99) was not read from the vEVENTQ fd"
ok "before the kill: vIOMMU 1, vDEVICE 2 (0x99), HWPT 2 in the vIOMMU with the mock device on it, vEVENTQ 3 read"
i=0
until grep -q '^device 0 pasid 100 now on hwpt 3$' $out 2>/dev/null; do
	kill -0 $cpid 2>/dev/null || { cat $out $err; fail "the client ended before the restart"; }
	i=$((i + 1))
	[ $i -lt 300 ] || { cat $out $err; fail "the mock device's PASID 100 was not attached in 30 s"; }
	sleep 0.1
done
grep -q "PASID_CHECK_HWPT after an attach: the mock device of IOAS 2 at PASID 100 is on kernel HWPT [1-9]" $log1 ||
	fail "the kernel did not confirm the PASID attach: $(grep -i pasid $log1 | tail -n 2)"
ok "before the kill: IOAS 2's mock device on PASID HWPT 3, PASID 100 attached there (confirmed by the kernel)"
kill -KILL $dpid
rc=0
wait $dpid || rc=$?
[ $rc = 137 ] || fail "ioasd: exit $rc after SIGKILL, expected 137"
ok "ioasd SIGKILLed"

start_daemon $log2
ok "ioasd started again with the same arguments"
rc=0
wait $cpid || rc=$?
cat $out $err
sed 's/^/  ioasd 2: /' $log2 | grep -i 'restor\|vIOMMU\|test hook\|sweep\|object' | head -n 30
[ $rc = 1 ] || fail "the batch exited $rc, expected 1 (one EBUSY)"
grep -q 'not restored' $log2 && fail "the restore left something out: $(grep 'not restored' $log2 | head -n 3)"
grep -q 'restore of tenant' $log2 && fail "the restore refused a record: $(grep 'restore of tenant' $log2 | head -n 3)"
grep -q "^reclaimed: objects restored after a daemon restart; 1 vEVENTQ fd(s) kept$" $out ||
	fail "the client did not reclaim its tenant"
grep -q "^hwpt 2: .*1 device(s) on it" $out || fail "HWPT 2 (in the vIOMMU) is not back with the mock device on it"
ok "after the restart: HWPT 2 in the vIOMMU, the mock device still on it"
grep -q "TRIGGER_VEVENT for vDEVICE 2 (virt_id 0x99): triggered" $log2 ||
	fail "the restored vEVENTQ got no event from the test hook: $(grep -i vevent $log2 | tail -n 2)"
[ "$(grep -c '^veventq 3: 12 bytes, flags 0x0, sequence [0-9]*, data 99000000$' $out)" = 2 ] ||
	fail "the client did not read the second event from the fd it kept across the restart"
ok "the vEVENTQ fd the client kept reads the event of the restored queue"
grep -q "^invalidated viommu 1: 1 of 1 entries$" $out || fail "the invalidation through the restored vIOMMU was not done"
grep -q "DEV_CHECK_CACHE after an invalidation of vIOMMU 1: .* (mask 0xf)" $log2 ||
	fail "no kernel check of the mock device's caches: $(grep -i 'cache' $log2 | tail -n 3)"
grep -q "does not hold" $log2 && fail "the kernel did not confirm: $(grep 'does not hold' $log2 | tail -n 2)"
ok "an invalidation through the restored vIOMMU reached the mock device (IOMMU_TEST_OP_DEV_CHECK_CACHE)"
grep -q "line 17: viommu-destroy: .*EBUSY" $err || fail "the restored vIOMMU in use was not EBUSY"
for l in "device 0 now on ioas 1" "destroyed hwpt 2" "destroyed veventq 3" "destroyed vdevice 2" "destroyed viommu 1" "destroyed hwpt 1" "no hwpts"; do
	grep -q "^$l$" $out || fail "after the restart: no \"$l\""
done
ok "restored vIOMMU objects: EBUSY while held, then destroyed in order through the new daemon"
grep -q "^device 0 pasid 100: hwpt 3$" $out || fail "after the restart: the mock device's PASID 100 is not listed on hwpt 3"
grep -q "PASID_CHECK_HWPT after a replace: the mock device of IOAS 2 at PASID 100 is on kernel HWPT [1-9]" $log2 ||
	fail "the kernel did not confirm a replace of the restored PASID: $(grep -i pasid $log2 | tail -n 2)"
grep -q "PASID_CHECK_HWPT after a detach: the mock device of IOAS 2 at PASID 100 is on nothing$" $log2 ||
	fail "the kernel did not confirm the detach of the restored PASID: $(grep -i pasid $log2 | tail -n 2)"
for l in "device 0 pasid 100 detached" "device 0 now on ioas 2" "destroyed hwpt 3"; do
	grep -q "^$l$" $out || fail "after the restart: no \"$l\""
done
ok "the restored PASID record is the kernel's: replaced and detached through the new daemon, each confirmed (IOMMU_TEST_OP_PASID_CHECK_HWPT)"

kill $dpid
wait $dpid
ok "ioasd exited"
