# SPDX-License-Identifier: MIT
# modes: vmm
# The hand-off to a VMM nobody here wrote (issue 17): QEMU 10 (from Debian's
# bookworm-backports, in /opt/qemu10 of the 7.2 main boot, see
# tests/vm/qemu10.sh) started by `ioasctl exec` as uid $TEST_UID with a
# delegated iommufd context and the edu device's unbound VFIO cdev:
#   - QMP query-pci shows edu (1234:11e8) on the nested q35, and QEMU's
#     VmPin is about its guest RAM (RlimitMode=process: its own memlock);
#   - a memlock limit below its RAM: QEMU fails to map (ENOMEM) and exits,
#     the daemon is unaffected;
#   - a tenant whose AllowDevice= does not name edu is refused, citing
#     the policy line; its contexts (RlimitMode=user) are in user mode;
#   - QEMU killed leaves nothing in the daemon: no fd of the device or of
#     another context, and the device can be handed out and bound again;
#   - the context helper killed: contexts are refused (ESRCH), device
#     files and everything else go on.
. /tests/lib.sh

qemu=/opt/qemu10/bin/qemu-system-x86_64
[ -x $qemu ] || fail "$qemu is missing from this boot's initramfs (see tests/vm/qemu10.sh)"
[ -x /bin/ioasd ] && [ -x /bin/ioasctl ] || fail "ioasd or ioasctl is not in the initramfs"
bdf=$(cat $IOASD_VM_OUT/edu-bdf 2>/dev/null) || fail "edu was not found at boot"
[ -c /dev/vfio/devices/vfio0 ] || fail "edu has no VFIO cdev"
OTHER_UID=2 # "bin" in the initramfs
RAM_MB=32

dir=/tmp/vmm
mkdir -p $dir/policy.d
chmod 0755 $dir
cat >$dir/policy.d/50-vmm.conf <<CONF
[tenant vmm]
MatchUser=$TEST_UID
Delegate=yes
RlimitMode=process
AllowDevice=1234:11e8

[tenant other]
MatchUser=$OTHER_UID
Delegate=yes
AllowDevice=1234:0001
CONF
deny_line=$(grep -n '^AllowDevice=1234:0001' $dir/policy.d/50-vmm.conf | cut -d: -f1)
sock=$dir/ioasd.sock
log=$IOASD_VM_OUT/vmm-ioasd.log
audit=$dir/audit.jsonl
ioasd --backend kernel --policy-dir $dir/policy.d --socket $sock --socket-mode 0666 \
	--audit-log $audit --no-journal >$log 2>&1 &
dpid=$!
i=0
while [ ! -S $sock ]; do
	kill -0 $dpid 2>/dev/null || fail "ioasd exited early: $(tail -n 5 $log)"
	i=$((i + 1))
	[ $i -lt 100 ] || fail "no socket $sock after 10 s"
	sleep 0.1
done
hpid=$(sed -n 's/.*context helper started (pid \([0-9]*\)).*/\1/p' $log)
[ -n "$hpid" ] && kill -0 "$hpid" 2>/dev/null || fail "no context helper: $(cat $log)"
ok "ioasd listening; context helper pid $hpid"

# The helper keeps CAP_SYS_RESOURCE (bit 24) and nothing else; the daemon
# keeps nothing.
hcap=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/$hpid/status)
dcap=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/$dpid/status)
[ "$hcap" = 0000000001000000 ] || fail "the helper's CapEff is $hcap, not CAP_SYS_RESOURCE alone"
[ "$dcap" = 0000000000000000 ] || fail "the daemon's CapEff is $dcap, not empty"
[ "$(ls /proc/$hpid/fd | wc -l)" -le 4 ] || fail "the helper holds more than its socket: $(ls -l /proc/$hpid/fd)"
ok "capabilities: helper CapEff=$hcap, daemon CapEff=$dcap"

# What the daemon holds open of the devices: /dev/iommu (its own context)
# and nothing of vfio.
held() { # PID PATTERN
	n=0
	for f in /proc/$1/fd/*; do
		case "$(readlink $f 2>/dev/null)" in $2) n=$((n + 1)) ;; esac
	done
	echo $n
}
iommu0=$(held $dpid /dev/iommu)
[ "$(held $dpid '/dev/vfio/*')" = 0 ] || fail "the daemon holds a VFIO file before any hand-out"

QARGS="-L /opt/qemu10/share -machine q35 -accel tcg -m ${RAM_MB}M -nodefaults -display none -S -qmp stdio"
QFDS="-object iommufd,id=i0,fd={iommufd} -device vfio-pci,iommufd=i0,fd={device:$bdf},id=edu0"

# start_qemu NAME MEMLOCK_KIB: QEMU through ioasctl exec as $TEST_UID, its
# QMP on a fifo (fd 3 writes it), its output in $dir/NAME.{out,err}; $qpid.
start_qemu() {
	rm -f $dir/$1.in
	mkfifo $dir/$1.in
	# shellcheck disable=SC2086
	( ulimit -l $2 && exec vm-runas $TEST_UID $TEST_GID ioasctl -s $sock exec \
		-- $qemu $QARGS $QFDS ) <$dir/$1.in >$dir/$1.out 2>$dir/$1.err &
	qpid=$!
	exec 3>$dir/$1.in
}
# wait_for FILE PATTERN SECONDS: 0 once FILE has a line matching it.
wait_for() {
	i=0
	while ! grep -q "$2" $1 2>/dev/null; do
		i=$((i + 1))
		[ $i -le $(($3 * 10)) ] || return 1
		sleep 0.1
	done
}

# ---- QEMU with edu, unprivileged
start_qemu run 262144
t0=$(cut -d' ' -f1 /proc/uptime)
wait_for $dir/run.out '"QMP"' 60 || fail "no QMP greeting in 60 s: $(cat $dir/run.err) $(tail -n 5 $log)"
t1=$(cut -d' ' -f1 /proc/uptime)
ok "QMP greeting after $t0..$t1 s"
echo '{"execute":"qmp_capabilities"}' >&3
echo '{"execute":"query-pci"}' >&3
wait_for $dir/run.out '"qdev_id": "edu0"' 30 || fail "query-pci has no edu0: $(tail -c 2000 $dir/run.out)"
grep -q '"qdev_id": "edu0",[^{]*"class_info": {[^}]*}, "id": {"device": 4584, "subsystem-vendor": [0-9]*, "vendor": 4660' $dir/run.out ||
	fail "edu0 is not 1234:11e8 in query-pci: $(grep -o '"qdev_id": "edu0".\{0,200\}' $dir/run.out)"
ok "QMP query-pci: edu0 is 1234:11e8 on the nested q35"
uid=$(sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p' /proc/$qpid/status)
[ "$uid" = $TEST_UID ] || fail "QEMU runs as uid $uid"
pin=$(sed -n 's/^VmPin:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/$qpid/status)
[ -n "$pin" ] && [ "$pin" -ge $((RAM_MB * 1024)) ] && [ "$pin" -le $((RAM_MB * 1024 + 4096)) ] ||
	fail "QEMU's VmPin is ${pin:-?} kB, not about its $RAM_MB MiB of RAM"
ok "QEMU (uid $uid) VmPin $pin kB for $RAM_MB MiB of guest RAM"
[ "$(held $qpid /dev/iommu)" = 1 ] && [ "$(held $qpid '/dev/vfio/devices/*')" = 1 ] ||
	fail "QEMU does not hold one context and one device file: $(ls -l /proc/$qpid/fd)"
[ "$(held $dpid '/dev/vfio/*')" = 0 ] && [ "$(held $dpid /dev/iommu)" = "$iommu0" ] ||
	fail "the daemon kept a copy of what it handed out: $(ls -l /proc/$dpid/fd)"
ok "QEMU owns the context and the device file; the daemon kept no copy"
grep -q '"op":"OpenContext","result":"allowed".*"reason":"delegated iommufd context, RlimitMode=process","tenant":"vmm","uid":'$TEST_UID $audit ||
	fail "no audit record of the context hand-out: $(cat $audit)"
grep -q '"op":"OpenDevice","result":"allowed".*"tenant":"vmm","uid":'$TEST_UID'.*"device":"'$bdf' (1234:11e8)"' $audit ||
	fail "no audit record of the device hand-out: $(cat $audit)"
ok "audited: who, the mode, the device"
echo '{"execute":"quit"}' >&3
exec 3>&-
rc=0
wait $qpid || rc=$?
[ $rc = 0 ] || fail "QEMU exited $rc after quit: $(cat $dir/run.err)"
ok "QEMU quit cleanly"

# ---- memlock below its RAM: the kernel refuses QEMU's pins (ENOMEM)
start_qemu small 8192
exec 3>&-
rc=0
wait $qpid || rc=$?
[ $rc != 0 ] || fail "QEMU with an 8 MiB memlock limit exited 0"
grep -q 'Cannot allocate memory\|-12' $dir/small.err ||
	fail "QEMU failed without ENOMEM: $(cat $dir/small.err)"
ok "memlock 8 MiB < $RAM_MB MiB: QEMU exits $rc ($(grep -m1 -o '[^:]*Cannot allocate memory[^"]*' $dir/small.err))"
kill -0 $dpid 2>/dev/null || fail "ioasd died"
as_user ioasctl -s $sock whoami >$dir/whoami.out 2>&1 || fail "whoami after the ENOMEM: $(cat $dir/whoami.out)"
ok "the daemon is unaffected"

# ---- a device the policy does not allow
rc=0
vm-runas $OTHER_UID $OTHER_UID ioasctl -s $sock exec --device $bdf -- true >$dir/deny.out 2>$dir/deny.err || rc=$?
[ $rc = 1 ] || fail "exec of a device not allowed: exit $rc, not 1: $(cat $dir/deny.err)"
grep -q "EPERM.*device $bdf (1234:11e8) is not in AllowDevice=.*50-vmm.conf:$deny_line" $dir/deny.err ||
	fail "the refusal does not cite AllowDevice= at 50-vmm.conf:$deny_line: $(cat $dir/deny.err)"
ok "device not allowed: refused, $(cat $dir/deny.err)"
grep -q '"op":"OpenDevice","result":"refused".*"tenant":"other"' $audit || fail "the refusal is not audited"

# ---- RlimitMode=user (the default): that tenant's contexts are in user mode
rc=0
vm-runas $OTHER_UID $OTHER_UID ioasctl -s $sock exec --context -- true >$dir/user.out 2>$dir/user.err || rc=$?
[ $rc = 0 ] || fail "a context for tenant other: exit $rc: $(cat $dir/user.err)"
grep -q '"op":"OpenContext","result":"allowed".*"reason":"delegated iommufd context, RlimitMode=user","tenant":"other"' $audit ||
	fail "no audit record of a user-mode context: $(grep OpenContext $audit)"
ok "RlimitMode=user: tenant other's context is in user mode (read back, audited)"

# ---- QEMU killed: nothing left behind
start_qemu kill 262144
wait_for $dir/kill.out '"QMP"' 60 || fail "no QMP greeting (kill run): $(cat $dir/kill.err)"
kill -KILL $qpid
exec 3>&-
wait $qpid 2>/dev/null
kill -0 $dpid 2>/dev/null || fail "ioasd died with QEMU"
[ "$(held $dpid '/dev/vfio/*')" = 0 ] && [ "$(held $dpid /dev/iommu)" = "$iommu0" ] ||
	fail "QEMU killed left something in the daemon: $(ls -l /proc/$dpid/fd)"
start_qemu again 262144
wait_for $dir/again.out '"QMP"' 60 || fail "QEMU after a killed one: $(cat $dir/again.err)"
echo '{"execute":"qmp_capabilities"}' >&3
echo '{"execute":"quit"}' >&3
exec 3>&-
rc=0
wait $qpid || rc=$?
[ $rc = 0 ] || fail "QEMU after a killed one exited $rc: $(cat $dir/again.err)"
ok "QEMU killed: the daemon holds nothing of it; the device is handed out and bound again"

# ---- the context helper gone
kill -KILL $hpid
rc=0
as_user ioasctl -s $sock exec --context -- true >$dir/gone.out 2>$dir/gone.err || rc=$?
[ $rc = 1 ] && grep -q 'ESRCH.*context helper' $dir/gone.err ||
	fail "a context without the helper: exit $rc, $(cat $dir/gone.err)"
ok "helper gone: $(cat $dir/gone.err)"
rc=0
as_user ioasctl -s $sock exec --device $bdf -- true >$dir/dev.out 2>$dir/dev.err || rc=$?
[ $rc = 0 ] || fail "a device file without the helper: exit $rc, $(cat $dir/dev.err)"
kill -0 $dpid 2>/dev/null || fail "ioasd died with its helper"
ok "helper gone: device files still handed out, the daemon serves on"
wait_for $log "context helper exited (signal 9)" 7 || fail "the daemon did not log the helper's exit: $(tail -n 5 $log)"
ok "the daemon logged the helper's exit"

kill -TERM $dpid
rc=0
wait $dpid || rc=$?
[ $rc = 0 ] || fail "ioasd exited $rc on SIGTERM: $(tail -n 10 $log)"
ok "ioasd exited cleanly on SIGTERM"
