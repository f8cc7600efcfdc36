# SPDX-License-Identifier: MIT
# modes: main
# ioasd-state-bench on the real kernel, small: restart support's cost per
# request at 1k and 10k mappings held, the restore after SIGKILL (adopted,
# not replayed), and a probe tenant during a release. Figures, not a test:
# it fails only when the bench cannot run (TCG's figures are TCG's).
. /tests/lib.sh

[ -x /bin/ioasd ] || fail "ioasd is not in the initramfs (its static build failed: see the host log)"
[ -x /bin/ioasd-state-bench ] || fail "ioasd-state-bench is not in the initramfs (its static build failed: see the host log)"
out=$IOASD_VM_OUT/state-bench.summary
rc=0
ioasd-state-bench --backend kernel --daemon /bin/ioasd --max 10000 --state-parent /tmp \
	>$out 2>/tmp/state-bench.err || rc=$?
cat $out
[ $rc = 0 ] || { tail -n 20 /tmp/state-bench.err; fail "ioasd-state-bench exited $rc"; }
grep -q '^ioasd-state-bench (backend kernel' $out || fail "the state bench did not run on the kernel backend"
grep -q '^restore of 10000: ' $out || fail "no restore figure in the state bench output"
ok "state bench done"
