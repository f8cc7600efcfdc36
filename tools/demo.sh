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

# The client runs as nobody when we are root (as it is meant to be used:
# unprivileged), else as ourselves. The demo's policy names that user.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	client_uid=65534
else
	client_uid=$(id -u)
fi
mkdir -p "$dir/policy.d"
cat >"$dir/policy.d/50-demo.conf" <<CONF
# Written by tools/demo.sh: the demo client is tenant "demo".
[tenant demo]
MatchUser=$client_uid
MaxIOAS=4
MaxPinnedBytes=64M
MaxMappings=64
MaxMemoryRegions=4
MaxConnections=2
CONF

"$IOASD_BUILD/daemon/ioasd" --socket "$sock" --backend auto \
	--policy-dir "$dir/policy.d" --audit-log "$dir/audit.jsonl" --no-journal &
pid=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
[ -S "$sock" ] || { echo "demo: ioasd did not start" >&2; exit 1; }

run_client() {
	if [ "$client_uid" != "$(id -u)" ]; then
		setpriv --reuid="$client_uid" --regid="$client_uid" --clear-groups -- \
			"$IOASD_BUILD/client/ioasctl" --socket "$sock" "$@"
	else
		"$IOASD_BUILD/client/ioasctl" --socket "$sock" "$@"
	fi
}
run_client whoami
run_client demo "$@"
echo
echo "--- audit trail ($dir/audit.jsonl, last 5 records)"
tail -n 5 "$dir/audit.jsonl"
