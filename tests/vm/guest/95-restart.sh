# SPDX-License-Identifier: MIT
# modes: main
# Restart without losing DMA, on the real kernel: a device tenant (uid
# $TEST_UID, AllowDevice=1234:11e8) drives QEMU's edu through its IOAS while
# ioasd --state-dir is SIGKILLed and started again (tests/vm/vm-edu restart).
#   1  the client maps, attaches edu, DMA lands
#   -  SIGKILL the daemon: the fd holder must live on, holding the daemon's
#      iommufd, the tenant's own context, its memfd and the device copy
#   2  no daemon at all: the client's DMA still lands through the same IOVAs
#   -  the daemon again, same arguments: it must adopt the stored contexts
#      (log + audit "kernel state kept"), same fd holder
#   3  EBUSY without the token, EKEYREJECTED with a wrong one, reclaim: same
#      handles, DMA lands; map / unmap / detach through the new daemon
#      change what the device reaches (the unmap's DMAR fault in dmesg)
#   -  SIGTERM: exit 0, the holder exits, the state database is removed
# The client holds 3002 mappings: the restore reads them from the database.
. /tests/lib.sh

[ -x /bin/vm-edu ] || fail "vm-edu is not in the initramfs (its static build failed: see the host log)"
[ -x /bin/ioasd ] || fail "ioasd is not in the initramfs (its static build failed: see the host log)"
dev=/dev/vfio/devices/vfio0
[ -c $dev ] || fail "$dev is missing"

dir=/tmp/restart
state=$dir/state
sock=$dir/ioasd.sock
audit=$dir/audit.jsonl
fifo=$dir/ctl
out=/tmp/restart-client.out
rm -rf $dir
mkdir -p $dir/policy.d
chmod 0755 $dir
cat >$dir/policy.d/50-restart.conf <<CONF
[tenant edu]
MatchUser=$TEST_UID
AllowDevice=1234:11e8
CONF
args="--backend kernel --policy-dir $dir/policy.d --socket $sock --socket-mode 0666 --state-dir $state --restart-grace 30 --audit-log $audit"

# The Intel driver rate-limits DMAR fault reports (10 per 5 s): start at
# least 5 s after the previous test's faults.
sleep 5
# alive PID: running, and not a zombie (the double-forked holder's parent
# is PID 1, which reaps it only when it next waits).
alive() { [ -r /proc/$1/status ] && ! grep -q '^State:[[:space:]]*Z' /proc/$1/status; }
faults() { dmesg | grep -cE 'DMAR: \[DMA (Read|Write)'; }

# start_daemon LOG: ioasd $args in the background ($dpid), until it serves.
start_daemon() {
	ioasd $args >$1 2>&1 &
	dpid=$!
	i=0
	until grep -q 'serving on' $1; do
		kill -0 $dpid 2>/dev/null || fail "ioasd exited early: $(tail -n 10 $1)"
		i=$((i + 1))
		[ $i -lt 300 ] || fail "ioasd not serving after 30 s: $(tail -n 10 $1)"
		sleep 0.1
	done
}

# show_client: the client's lines not shown yet, so the log reads in order.
shown=0
show_client() {
	tail -n +$((shown + 1)) $out
	shown=$(wc -l <$out)
}

# wait_ready PHASE: until the client printed "READY PHASE".
wait_ready() {
	i=0
	until grep -q "^READY $1\$" $out; do
		if grep -q '^FAIL' $out || ! kill -0 $cpid 2>/dev/null; then
			show_client
			fail "the client failed in phase $1"
		fi
		i=$((i + 1))
		[ $i -lt 600 ] || { show_client; fail "the client did not finish phase $1 in 60 s"; }
		sleep 0.1
	done
	show_client
}

# holder_fds PID: what the fd holder keeps (targets of /proc/PID/fd).
holder_fds() {
	for f in /proc/$1/fd/*; do readlink $f; done >/tmp/holder-fds.txt
	sed 's/^/  holder fd: /' /tmp/holder-fds.txt
	n_iommu=$(grep -c '^/dev/iommu$' /tmp/holder-fds.txt)
	n_vfio=$(grep -c "^$dev\$" /tmp/holder-fds.txt)
	n_memfd=$(grep -c '^/memfd:vm-edu' /tmp/holder-fds.txt)
	[ "$n_iommu" -ge 2 ] && [ "$n_vfio" -ge 1 ] && [ "$n_memfd" -ge 1 ] ||
		fail "$2: the fd holder keeps $n_iommu iommufd(s), $n_vfio copies of $dev, $n_memfd vm-edu memfd(s); expected the daemon's and the tenant's contexts, the device and the memory"
	ok "$2: the fd holder (pid $1) keeps $n_iommu iommufds, $n_vfio copy of $dev, $n_memfd memfd"
}

log1=$IOASD_VM_OUT/restart-ioasd-1.log
log2=$IOASD_VM_OUT/restart-ioasd-2.log
start_daemon $log1
ok "ioasd --state-dir $state serving on $sock"
[ "$(stat -c %a $state)" = 700 ] || fail "$state is mode $(stat -c %a $state), expected 700"
holder=$(cat $state/fdholder.pid) || fail "no $state/fdholder.pid"
alive "$holder" || fail "the fd holder (pid $holder) is not running"
ok "fd holder pid $holder, $state is 0700"

chown $TEST_UID $dev
chmod 0600 $dev
mkfifo $fifo
as_user vm-edu restart $sock $dev <$fifo >$out 2>&1 &
cpid=$!
exec 3>$fifo

# ---- phase 1
wait_ready 1
[ "$(stat -c %a $state/state.lmdb)" = 600 ] || fail "$state/state.lmdb is mode $(stat -c %a $state/state.lmdb), expected 600"
kill -KILL $dpid
rc=0
wait $dpid || rc=$?
[ $rc = 137 ] || fail "ioasd: exit $rc after SIGKILL, expected 137"
kill -0 $dpid 2>/dev/null && fail "ioasd (pid $dpid) still runs after SIGKILL"
ok "ioasd SIGKILLed (exit 137)"
alive "$holder" || fail "the fd holder (pid $holder) died with the daemon"
holder_fds $holder "after the SIGKILL"

# ---- phase 2: no daemon
echo go >&3
wait_ready 2
alive "$holder" || fail "the fd holder (pid $holder) died while the daemon was away"
ok "the fd holder is still running"

# ---- the second daemon, same arguments
start_daemon $log2
ok "ioasd started again with the same arguments"
sed 's/^/  ioasd 2: /' $log2
grep -q 'kept across the restart' $log2 ||
	fail "the second daemon does not say it adopted the kept iommufd context"
grep '"op":"restore"' $audit >/tmp/restore.txt || fail "no restore record in the audit log"
sed 's/^/  audit: /' /tmp/restore.txt
grep '"tenant":"edu"' /tmp/restore.txt | grep -q 'kernel state kept' ||
	fail "the restore record of tenant edu does not say \"kernel state kept\""
grep '"tenant":"edu"' /tmp/restore.txt | grep -q '2 IOAS, 3002 mappings, 1 memory regions' ||
	fail "the restore record of tenant edu does not count 2 IOAS, 3002 mappings, 1 memory region"
ok "restore of tenant edu: kernel state kept (adopted, not replayed)"
# The first daemon's pool held idle IOASes no table names any more: the
# second destroys them in the adopted context (the same sweep removes an
# IOAS allocated in the instant of a kill).
grep -q 'IOAS(es) in the shared context no table named' $log2 ||
	fail "the second daemon did not destroy the old pool's idle IOASes"
ok "the old pool's idle IOASes were destroyed in the adopted context"
[ "$(cat $state/fdholder.pid)" = "$holder" ] ||
	fail "the second daemon uses another fd holder (pid $(cat $state/fdholder.pid), was $holder)"
ok "the second daemon took its fds back from the same holder (pid $holder)"

# ---- phase 3: reclaim
f=$(faults)
echo go >&3
rc=0
wait $cpid || rc=$?
exec 3>&-
show_client
[ $rc = 0 ] || fail "vm-edu restart as uid $TEST_UID exited $rc; daemon log: $(tail -n 20 $log2)"
ok "the client's phases passed ($(grep -c '^ok:' $out) checks)"
dmesg | grep -E 'DMAR: \[DMA (Read|Write)' | tail -n +$((f + 1)) >/tmp/faults.txt
sed 's/^/  phase 3 dmesg: /' /tmp/faults.txt
grep -q 'DMA Write .*fault addr 0x200000 ' /tmp/faults.txt ||
	fail "no DMAR fault logged for the DMA write to 0x200000 after the new daemon unmapped it"
ok "the new daemon's unmap of the restored mapping reached the IO page table (DMAR fault at 0x200000)"
grep '"op":"reclaim"' $audit | grep -q '"tenant":"edu"' || fail "no reclaim record for tenant edu in the audit log"
ok "audit: reclaim of tenant edu"
chown 0 $dev

# ---- clean stop: the store is emptied, the holder exits
kill -0 $dpid 2>/dev/null || fail "the second ioasd died during the reclaim"
kill -TERM $dpid
rc=0
wait $dpid || rc=$?
[ $rc = 0 ] || fail "ioasd exited $rc on SIGTERM: $(tail -n 10 $log2)"
ok "ioasd exited cleanly on SIGTERM"
i=0
while alive "$holder"; do
	i=$((i + 1))
	[ $i -lt 50 ] || fail "the fd holder (pid $holder) still runs 5 s after a clean stop"
	sleep 0.1
done
ok "the fd holder exited after the clean stop"
[ ! -e $state/state.lmdb ] || fail "$state/state.lmdb still exists after a clean stop"
ok "the state database is removed"
echo "restart: $(grep -c '^ok:' $out) client checks ok (vm-edu restart: before, without and after the daemon)" >$IOASD_VM_OUT/restart.summary
