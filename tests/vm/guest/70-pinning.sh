# SPDX-License-Identifier: MIT
# modes: mock
# Pinned pages through the broker, seen by the kernel: the daemon's VmPin
# (/proc/<ioasd>/status) after each step. The IOASes ioasd hands out get the
# kernel's self-test mock domain attached (ioasd --test-mock-domains, a test
# build only), so a map really pins its pages, as it would with a device.
#   map 4 MiB                     -> VmPin +4 MiB
#   copy it into a second IOAS    -> unchanged: pinned once
#   map the same memory again     -> +4 MiB: IOMMU_IOAS_MAP pins again
#   another tenant imports a share of it (COPY) -> unchanged
#   the exporter unmaps everything (revoking the import) -> back to the start
# and the mock domain's narrowing of the IOVA ranges is what the client sees,
# and every mapping is confirmed by the kernel (IOMMU_TEST_OP_MD_CHECK_MAP,
# the daemon's test hook).
. /tests/lib.sh

[ -x /bin/ioasd ] || fail "ioasd is not in the initramfs"
[ -x /bin/ioasctl ] || fail "ioasctl is not in the initramfs"
ulimit -l 262144 2>/dev/null || true # the daemon is charged (no CAP_IPC_LOCK)

dir=/tmp/pinning
mkdir -p $dir/policy.d
chmod 0755 $dir
cat >$dir/policy.d/50-pin.conf <<CONF
[tenant exporter]
MatchUser=$TEST_UID
ExportTo=importer
[tenant importer]
MatchUser=1
ImportFrom=exporter
CONF
sock=$dir/ioasd.sock
ioasd --backend kernel --socket $sock --socket-mode 0666 --policy-dir $dir/policy.d \
	--test-mock-domains --pool-size 0 -v >$IOASD_VM_OUT/pinning-ioasd.log 2>&1 &
pid=$!
i=0
while [ ! -S $sock ]; do
	kill -0 $pid 2>/dev/null || fail "ioasd exited early: $(tail -n 5 $IOASD_VM_OUT/pinning-ioasd.log)"
	i=$((i + 1))
	[ $i -lt 100 ] || fail "no socket after 10 s"
	sleep 0.1
done
vmpin() { awk '$1 == "VmPin:" { print $2 }' /proc/$pid/status; }

# One exporter session fed line by line through a FIFO, so that VmPin can
# be read between its commands.
mkfifo $dir/in
as_user ioasctl -s $sock -k batch $dir/in >$dir/out 2>&1 &
bpid=$!
exec 3>$dir/in
lines() { wc -l <$dir/out 2>/dev/null || echo 0; }
step() {
	echo "$1" >&3
	n=$(lines)
	i=0
	# wait for the command's output line(s) to appear
	while [ $i -lt 50 ]; do
		sleep 0.1
		[ "$(lines)" -gt "$n" ] && break
		i=$((i + 1))
	done
}
expect_pin() { # expect_pin KB WHAT
	got=$(vmpin)
	if [ "$got" = "$1" ]; then
		ok "VmPin $got kB: $2"
	else
		cat $dir/out
		fail "VmPin is $got kB, expected $1 kB: $2"
	fi
}

base=$(vmpin)
[ -n "$base" ] || fail "no VmPin line for ioasd"
step "ioas-alloc"
step "ioas-alloc"
grep -q "attaching the mock domain" $IOASD_VM_OUT/pinning-ioasd.log && fail "mock domain refused: $(tail -n 3 $IOASD_VM_OUT/pinning-ioasd.log)"
step "memfd 4M"
step 'map 1 $mem --length 4M'
expect_pin $((base + 4096)) "map of 4 MiB pins 4 MiB"
step 'copy 1 $iova 4M 2'
expect_pin $((base + 4096)) "copy into a second IOAS pins nothing more"
step 'map 2 $mem --length 4M'
expect_pin $((base + 8192)) "a second MAP of the same memory pins it again (the kernel's rule)"
step "iova-ranges 1"
grep -q "0x0*1000000-0x0*7fffffff" $dir/out ||
	{ cat $dir/out; fail "the client does not see the mock domain's narrowed IOVA range"; }
ok "the client sees the narrowed IOVA range of the attached (mock) domain"
step "unmap-all 2"
expect_pin $((base + 4096)) "unmapping the second IOAS unpins what only it held"
step "export 1 0x1000000 4M"
token=$(sed -n 's/.*token[=: ]*\([0-9a-f]\{32\}\).*/\1/p' $dir/out | tail -n 1)
[ -n "$token" ] || { cat $dir/out; fail "no share token in the exporter's output"; }

# The importer (uid 1) imports into its own IOAS: COPY, pinned once.
printf 'ioas-alloc\nimport %s 1\nshares\n' "$token" >$dir/imp.in
vm-runas 1 1 ioasctl -s $sock batch $dir/imp.in >$dir/imp.out 2>&1 ||
	{ cat $dir/imp.out; fail "import failed"; }
expect_pin $((base + 4096)) "another tenant's import of the share pins nothing more"

# Every mapping the daemon made (map, copy, map, import) was checked by the
# kernel itself: IOMMU_TEST_OP_MD_CHECK_MAP says the mock domain translates
# it to exactly the registered memory's pages (the daemon's test hook
# refuses with EIO and logs an error otherwise).
log=$IOASD_VM_OUT/pinning-ioasd.log
grep -q "IOMMU_TEST_OP_MD_CHECK_MAP of" $log && fail "a mapping failed the kernel's check: $(grep MD_CHECK_MAP $log | tail -n 3)"
n=$(grep -c "MD_CHECK_MAP \[" $log)
[ "$n" -ge 4 ] || fail "only $n mappings were checked with MD_CHECK_MAP (expected 4)"
ok "the kernel's MD_CHECK_MAP confirms all $n mappings the daemon made (map, copy, map, import)"

step "unmap-all 1"
expect_pin $base "the exporter's unmap (revoking the import) unpins everything"
exec 3>&-
wait $bpid
kill $pid
wait $pid
ok "ioasd exited"
