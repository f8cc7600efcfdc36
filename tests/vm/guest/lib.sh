# SPDX-License-Identifier: MIT
# Helpers for guest tests: ". /tests/lib.sh".

# The unprivileged test user (see /etc/passwd in the initramfs).
TEST_UID=1000
TEST_GID=1000

# Run a command as the unprivileged test user, no supplementary groups.
as_user() {
	setpriv --reuid=$TEST_UID --regid=$TEST_GID --clear-groups -- "$@"
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
