#!/bin/bash
# Set up, build and run the whole test suite: unit and integration tests
# (make check), the distribution check (make distcheck) and the real-kernel
# suite in QEMU guests (make check-vm). Any failure fails the run.
set -euo pipefail
. "$(dirname "$0")/setup.sh"
ioasd_install_deps
ioasd_build

cd "$IOASD_BUILD"
status=0
step() {
	echo "=== $*"
	if ! "$@"; then
		echo "=== FAILED: $*" >&2
		status=1
	fi
}
step make -j"$(nproc)" check || true
if [ $status -ne 0 ]; then
	for f in tests/*.log; do echo "--- $f"; tail -50 "$f"; done
fi
step make -j"$(nproc)" distcheck DISTCHECK_CONFIGURE_FLAGS=--enable-werror
step make check-vm
exit $status
