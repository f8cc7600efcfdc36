#!/bin/bash
# Set up, build, start ioasd on a private socket and run the demo client
# (register memory -> map -> copy -> unmap). Uses the kernel backend when
# /dev/iommu opens, otherwise the sim backend (ioasd says so loudly).
set -euo pipefail
. "$(dirname "$0")/setup.sh"
ioasd_install_deps
ioasd_build

dir=$(mktemp -d /tmp/ioasd-demo.XXXXXX)
chmod 0755 "$dir"
sock=$dir/ioasd.sock
cleanup() {
	[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT

"$IOASD_BUILD/daemon/ioasd" --socket "$sock" --backend auto &
pid=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
[ -S "$sock" ] || { echo "demo: ioasd did not start" >&2; exit 1; }

run_client=("$IOASD_BUILD/client/ioasctl" --socket "$sock" demo "$@")
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	# Show it working for an unprivileged client, as it is meant to be used.
	setpriv --reuid=65534 --regid=65534 --clear-groups -- "${run_client[@]}"
else
	"${run_client[@]}"
fi
