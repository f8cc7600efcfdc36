# SPDX-License-Identifier: MIT
# Helpers for guest tests: ". /tests/lib.sh".

# The unprivileged test user (see /etc/passwd in the initramfs).
TEST_UID=1000
TEST_GID=1000

# Run a command as the unprivileged test user, no supplementary groups
# (busybox's setpriv cannot change uids; vm-runas is ours).
as_user() {
	vm-runas $TEST_UID $TEST_GID "$@"
}

fail() {
	echo "FAIL: $*"
	exit 1
}

skip() {
	echo "SKIP: $*"
	exit 77
}

ok() {
	echo "ok: $*"
}
