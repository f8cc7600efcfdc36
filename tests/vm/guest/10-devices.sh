# SPDX-License-Identifier: MIT
# modes: main mock
# The guest kernel gives a real /dev/iommu; with VT-d the edu device is
# bound to vfio-pci and its VFIO cdev exists.
. /tests/lib.sh

[ -c /dev/iommu ] || fail "/dev/iommu is missing"
ok "/dev/iommu: $(ls -l /dev/iommu)"

# /dev/iommu is root-only: an unprivileged open must be refused.
[ "$(as_user id -u)" = $TEST_UID ] || fail "as_user does not run as uid $TEST_UID"
if as_user sh -c 'exec 3<>/dev/iommu' 2>/dev/null; then
	fail "uid $TEST_UID opened /dev/iommu"
fi
ok "uid $TEST_UID cannot open /dev/iommu"

[ "$IOASD_VM_MODE" = main ] || exit 0
bdf=$(cat $IOASD_VM_OUT/edu-bdf 2>/dev/null) || fail "no edu device found"
drv=$(readlink /sys/bus/pci/devices/$bdf/driver)
[ "${drv##*/}" = vfio-pci ] || fail "edu $bdf is bound to '${drv##*/}', not vfio-pci"
[ -c /dev/vfio/devices/vfio0 ] || fail "/dev/vfio/devices/vfio0 is missing"
ok "edu $bdf on vfio-pci, /dev/vfio/devices/vfio0 present"
