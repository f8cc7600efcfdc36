# SPDX-License-Identifier: MIT
# modes: main
# The backend conformance scenarios on the real kernel, as root. The host
# compares the transcript with the golden file of this kernel's kind:
# tests/conformance.golden without transparent huge pages,
# tests/conformance-thp.golden with them (conformance.model says which this
# kernel is; the host checks it against the kernel's fragment).
. /tests/lib.sh

if [ -d /sys/kernel/mm/transparent_hugepage ]; then
	echo thp >$IOASD_VM_OUT/conformance.model
else
	echo nothp >$IOASD_VM_OUT/conformance.model
fi
[ -x /bin/vm-conformance ] || fail "vm-conformance is not in the initramfs"
vm-conformance >$IOASD_VM_OUT/conformance.txt || fail "vm-conformance exited $?"
ok "transcript: $(wc -l <$IOASD_VM_OUT/conformance.txt) lines, kernel $(cat $IOASD_VM_OUT/conformance.model)"
