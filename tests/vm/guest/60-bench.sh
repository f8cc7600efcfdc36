# SPDX-License-Identifier: MIT
# modes: main
# ioasd-bench on the real kernel: map+unmap through ioasd's socket versus
# direct backend calls, 4 KiB and 2 MiB; then 4 KiB pairs batched (64 per
# Batch) and pipelined (64 in flight), and the batched rate against direct
# ioctls (the "batch/direct" row: goal 0.5). Figures, not a test: it fails
# only when the bench cannot run. Small iteration counts keep it to a few seconds
# under TCG; the figures are TCG's, useful for the ratio, not as absolutes.
. /tests/lib.sh

[ -x /bin/ioasd ] || fail "ioasd is not in the initramfs (its static build failed: see the host log)"
[ -x /bin/ioasd-bench ] || fail "ioasd-bench is not in the initramfs (its static build failed: see the host log)"
out=$IOASD_VM_OUT/bench.summary
rc=0
ioasd-bench --backend kernel --daemon /bin/ioasd --iterations 300 --max-seconds 0.5 \
	>$out 2>/tmp/bench.err || rc=$?
cat $out
cat /tmp/bench.err
[ $rc = 0 ] || { cat /tmp/bench.err >>$out; fail "ioasd-bench exited $rc"; }
grep -q '^ioasd-bench: .*socket backend kernel' $out || fail "the bench did not run on the kernel backend"
grep -q ' ratio ' $out || fail "no ratio in the bench output"
grep -q '^batch 64 ' $out || fail "no batched row in the bench output"
grep -q '^pipeline 64 ' $out || fail "no pipelined row in the bench output"
grep -q '^batch/direct ' $out || fail "no batched-versus-direct row in the bench output"
ok "bench done"
