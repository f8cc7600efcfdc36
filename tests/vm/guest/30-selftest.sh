# SPDX-License-Identifier: MIT
# modes: mock
# The kernel's own iommufd test hooks confirm that mappings made through the
# kernel backend reach a (mock) IO page table (tests/vm/vm-selftest.c).
. /tests/lib.sh

[ -x /bin/vm-selftest ] || fail "vm-selftest is not in the initramfs"
vm-selftest
