#!/bin/bash
# Set up, build and run the whole test suite: unit and integration tests
# (make check), the same under valgrind (make check-valgrind), again in an
# ASan+UBSan build, a short run of every fuzz target (make fuzz-smoke, clang),
# the distribution check (make distcheck), the Debian packages (built from a
# clean copy, lintian, an upgrade that keeps a tenant's mappings: as root)
# and the real-kernel suite in QEMU guests (make check-vm). Any failure fails
# the run; each step says how long it took.
set -euo pipefail
. "$(dirname "$0")/setup.sh"
ioasd_install_deps
ioasd_build

cd "$IOASD_BUILD"
status=0
step() {
	local t0=$SECONDS
	echo "=== $*"
	if ! "$@"; then
		echo "=== FAILED: $* ($((SECONDS - t0)) s)" >&2
		status=1
		return 1
	fi
	echo "=== done: $* ($((SECONDS - t0)) s)"
}
show_logs() {
	for f in tests/*.log; do echo "--- $f"; tail -50 "$f"; done
}
# A second build tree next to ./build, configured with extra flags.
build_in() {
	local dir=$1; shift
	mkdir -p "$dir" && cd "$dir" &&
	{ [ -f Makefile ] || "$IOASD_TOP/configure" -q --enable-werror "$@"; } &&
	make -j"$(nproc)"
}
# Every test and the daemons they start under ASan+UBSan. LeakSanitizer
# checks each daemon at exit: a leak is a non-zero exit status, which the
# harness reports as a failure.
asan_check() (
	build_in "${IOASD_ASAN_BUILD:-$IOASD_TOP/build-asan}" --enable-asan &&
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		make -j"$(nproc)" check || { show_logs; false; }
)
fuzz_smoke() (
	mkdir -p "${IOASD_FUZZ_BUILD:-$IOASD_TOP/build-fuzz}" &&
	cd "${IOASD_FUZZ_BUILD:-$IOASD_TOP/build-fuzz}" &&
	{ [ -f Makefile ] || "$IOASD_TOP/configure" -q --enable-werror --enable-fuzzing CC=clang; } &&
	make -j"$(nproc)" fuzz-smoke
)
# The Debian packages, built twice out of a clean copy of the tree
# (tools/deb.sh: lintian must be clean), then installed, upgraded from the
# first build to the second with a tenant's mappings held, and purged
# (tests/test-deb-upgrade.sh; root only, skipped where systemd is PID 1).
deb_package() (
	local out built
	out=$(mktemp -d "${TMPDIR:-/tmp}/ioasd-deb.XXXXXX")
	trap 'rm -rf "$out"' EXIT
	# tee -a: a plain tee opens /dev/stderr with O_TRUNC, which empties the
	# run's log when stderr is a file (everything before this step lost).
	mapfile -t built < <("$IOASD_TOP/tools/deb.sh" --upgrade "$out" | tee -a /dev/stderr | sed -n 's/^built //p')
	[ ${#built[@]} -eq 2 ] || { echo "deb: the package did not build twice" >&2; return 1; }
	local rc=0
	IOASD_BUILD=$IOASD_BUILD bash "$IOASD_TOP/tests/test-deb-upgrade.sh" "${built[@]}" || rc=$?
	[ $rc -eq 0 ] || [ $rc -eq 77 ]
)
step make -j"$(nproc)" check || show_logs
step deb_package || true
step make check-valgrind || show_logs
step asan_check || true
step fuzz_smoke || true
step make -j"$(nproc)" distcheck DISTCHECK_CONFIGURE_FLAGS=--enable-werror || true
step make check-vm || true
exit $status
