#!/bin/sh
# Short soak (tools/ioasd-soak) in the test suite: concurrent clients doing
# random work, hanging up and being SIGKILLed mid-request, on both sim
# mapping paths; afterwards the daemon's fds, mappings, pinned bytes and RSS
# must be back at their baseline. `make soak` runs a long one.
set -eu
: "${IOASD_BIN:?IOASD_BIN is not set (run through make check)}"
soak=$(dirname "$IOASD_BIN")/../tools/ioasd-soak
[ -x "$soak" ] || { echo "test-soak: $soak not built" >&2; exit 99; }
"$soak" --clients 8 --ops 20000 --seconds 90 --kill-ms 10
# The mmap + IOMMU_IOAS_MAP path is a sim option (harness.h).
case "${IOASD_TEST_BACKEND:-sim}" in
sim) "$soak" --clients 8 --ops 20000 --seconds 90 --kill-ms 10 --no-map-file ;;
*) echo "test-soak: --no-map-file run skipped on backend $IOASD_TEST_BACKEND" ;;
esac
