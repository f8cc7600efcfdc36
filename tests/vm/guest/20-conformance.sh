# SPDX-License-Identifier: MIT
# modes: main
# The backend conformance scenarios on the real kernel, as root. The host
# compares the transcript with tests/conformance.golden.
. /tests/lib.sh

[ -x /bin/vm-conformance ] || fail "vm-conformance is not in the initramfs"
vm-conformance >$IOASD_VM_OUT/conformance.txt || fail "vm-conformance exited $?"
ok "transcript: $(wc -l <$IOASD_VM_OUT/conformance.txt) lines"
