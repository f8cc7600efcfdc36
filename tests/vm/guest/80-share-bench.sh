# SPDX-License-Identifier: MIT
# modes: mock
# The sharing benchmark on the real kernel: one region put into N IOASes by
# export + N imports (IOMMU_IOAS_COPY, pinned once) versus N separate MAPs,
# with the kernel's self-test mock domain on every IOAS so that MAP really
# pins (ioasd --test-mock-domains, a test build). Prints times, their ratio
# and the daemon's VmPin after each. Sizes are small: this is a 1 GiB guest
# under TCG, where absolute times mean little and the ratio is the figure.
. /tests/lib.sh

[ -x /bin/ioasd-share-bench ] || fail "ioasd-share-bench is not in the initramfs"
ulimit -l unlimited 2>/dev/null || ulimit -l 4194304 2>/dev/null || true
out=$IOASD_VM_OUT/share-bench.txt
rc=0
ioasd-share-bench --daemon /bin/ioasd --backend kernel --size 32 --count 16 \
	--daemon-arg --test-mock-domains >$out 2>&1 || rc=$?
[ $rc = 0 ] || { cat $out; fail "ioasd-share-bench exited $rc"; }
grep -q "backend kernel" $out || { cat $out; fail "the share bench did not run on the kernel backend"; }
cat $out
cp $out $IOASD_VM_OUT/share-bench.summary
ok "share benchmark ran on the kernel backend"
