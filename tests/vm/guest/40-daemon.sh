# SPDX-License-Identifier: MIT
# modes: main
# Smoke test of the product on the real kernel: ioasd (root, kernel backend)
# serves an unprivileged client; ioasctl walks through every operation.
. /tests/lib.sh

[ -x /bin/ioasd ] || fail "ioasd is not in the initramfs (its static build failed: see the host log)"
[ -x /bin/ioasctl ] || fail "ioasctl is not in the initramfs (its static build failed: see the host log)"
sock=/run/ioasd.sock
# --no-policy: any local user is a tenant with default limits (policy has
# its own tests); this is a smoke test of the kernel path end to end.
ioasd --backend kernel --no-policy --socket $sock --socket-mode 0666 >$IOASD_VM_OUT/ioasd.log 2>&1 &
pid=$!
i=0
while [ ! -S $sock ]; do
	kill -0 $pid 2>/dev/null || fail "ioasd exited early: $(tail -n 5 $IOASD_VM_OUT/ioasd.log)"
	i=$((i + 1))
	[ $i -lt 100 ] || fail "no socket $sock after 10 s"
	sleep 0.1
done
ok "ioasd listening on $sock"

rc=0
as_user ioasctl -s $sock hello >/tmp/hello.txt 2>&1 || rc=$?
cat /tmp/hello.txt
[ $rc = 0 ] || fail "ioasctl hello as uid $TEST_UID exited $rc"
grep -q '^backend *kernel' /tmp/hello.txt || fail "the daemon does not report the kernel backend"
ok "uid $TEST_UID: hello, backend kernel"

as_user ioasctl -s $sock demo || fail "ioasctl demo as uid $TEST_UID exited $?"
ok "uid $TEST_UID: demo"

kill $pid
wait $pid
ok "ioasd stopped (exit $?)"
