#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The real-kernel suite: boot small Linux kernels (6.12, without
# IOMMU_IOAS_MAP_FILE, and 7.2, with it, both without transparent huge
# pages; and 7.2-thp, the same 7.2 with them, as distribution kernels are
# built) in QEMU under TCG with an emulated Intel VT-d and QEMU's edu PCI
# device, run the guest tests of tests/vm/guest/ in them, and compare the
# conformance transcript of each kernel with the golden file of its kind:
# tests/conformance.golden without THP, tests/conformance-thp.golden with.
#
#   make check-vm                        (from a configured build directory)
#   IOASD_SRCDIR=/path/to/src bash tests/vm/run.sh
#
# Environment:
#   IOASD_VM_KERNEL_612, IOASD_VM_KERNEL_72, IOASD_VM_KERNEL_72_THP
#                       use these bzImages (kernel.sh)
#   IOASD_VM_CACHE      kernel cache (default ${XDG_CACHE_HOME:-~/.cache}/ioasd-vm)
#   IOASD_VM_SHARED     prebuilt kernels (default $IOASD_SRCDIR/../shared/vm)
#   IOASD_VM_WORKDIR    scratch + logs (default ./vm-work)
#   IOASD_VM_KERNELS    which kernels to run (default "6.12 7.2 7.2-thp")
#   IOASD_VM_TIMEOUT    seconds per guest boot (default 300)
#
# Run as root on a fresh Debian 12 machine, it installs what it lacks. It
# never skips: a missing QEMU, kernel or static build is a failure.
set -euo pipefail

die() { echo "check-vm: ERROR: $*" >&2; exit 1; }
note() { echo "check-vm: $*" >&2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
srcdir=${IOASD_SRCDIR:-$(cd "$here/../.." && pwd)}
srcdir=$(cd "$srcdir" && pwd)
work=${IOASD_VM_WORKDIR:-$PWD/vm-work}
kernels=${IOASD_VM_KERNELS:-"6.12 7.2 7.2-thp"}
boot_timeout=${IOASD_VM_TIMEOUT:-300}
t0=$(date +%s)
for g in conformance.golden conformance-thp.golden; do
	[ -f "$srcdir/tests/$g" ] || die "missing $srcdir/tests/$g"
done

# Whether a kernel is built with transparent huge pages, as its fragment
# says (the guest confirms it): it decides the golden transcript.
kernel_thp() { # version
	grep -qx 'CONFIG_TRANSPARENT_HUGEPAGE=y' "$here/fragment-$1.config"
}
# The boots of a kernel: "main" (VT-d, edu) for all; "mock" (the self-test
# mock domain) only for the kernels without THP: what it tests does not
# depend on THP, and the THP kernel is there for what does (the conformance
# transcript, the daemon-level tests), which run in "main".
kernel_modes() { # version
	if kernel_thp "$1"; then echo main; else echo main mock; fi
}
mkdir -p "$work"
work=$(cd "$work" && pwd)

# ------------------------------------------------------------- host tools
# Debian packages the rig itself needs: QEMU, busybox-static, cpio, and
# what a static build of the project needs.
pkgs=(qemu-system-x86 busybox-static cpio gzip gcc make autoconf automake
	libtool pkg-config protobuf-c-compiler libprotobuf-c-dev libevent-dev
	libcap-dev libinih-dev libbsd-dev libmd-dev check diffutils)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] || die "missing packages: ${missing[*]} (run as root to install them)"
	note "installing ${missing[*]}"
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi
qemu=$(command -v qemu-system-x86_64) || die "qemu-system-x86_64 not found"
busybox=/bin/busybox
[ -x "$busybox" ] || die "$busybox not found (busybox-static)"
if ldd "$busybox" >/dev/null 2>&1; then
	die "$busybox is dynamically linked; install busybox-static"
fi
"$qemu" -device help 2>/dev/null | grep -q '"intel-iommu"' || die "QEMU lacks intel-iommu"
"$qemu" -device help 2>/dev/null | grep -q '"edu"' || die "QEMU lacks the edu device"

# ------------------------------------------------------------- kernels
declare -A kimg
for v in $kernels; do
	kimg[$v]=$(IOASD_SRCDIR=$srcdir bash "$here/kernel.sh" "$v") ||
		die "cannot prepare the $v kernel"
done
t_kernels=$(date +%s)

# ------------------------------------------------------------- static build
# An out-of-tree static build of the project for the guest. The guest
# programs are built from the project's own objects; the daemon and client
# are included whenever their sources are in the tree (then they must build).
build=$work/build-static
mkdir -p "$build"
if [ ! -f "$srcdir/configure" ]; then
	(cd "$srcdir" && autoreconf -fi) >"$work/autoreconf.log" 2>&1 ||
		{ cat "$work/autoreconf.log" >&2; die "autoreconf failed"; }
fi
# pkg-config --static: a static link needs the libraries' own dependencies
# (libbsd needs libmd).
conf=(--without-systemd --disable-shared --enable-static --enable-test-hooks "PKG_CONFIG=pkg-config --static")
if [ ! -f "$build/Makefile" ] || [ "$(cat "$build/.ioasd-vm-conf" 2>/dev/null)" != "${conf[*]}" ]; then
	rm -rf "$build"
	mkdir -p "$build"
	(cd "$build" && "$srcdir/configure" -q "${conf[@]}") >"$work/configure.log" 2>&1 ||
		{ tail -n 30 "$work/configure.log" >&2; die "configure of the static build failed"; }
	echo "${conf[*]}" >"$build/.ioasd-vm-conf"
fi
# The guest programs must build. The daemon and the client are put in the
# initramfs when they build; when their sources exist but do not build
# statically, that is reported and counted as a failure (their guest tests
# then fail too), but the rest of the suite still runs.
targets=(tests/vm/vm-conformance tests/vm/vm-selftest tests/vm/vm-runas)
# Generated sources first (a named target does not pull BUILT_SOURCES):
# every protocol file, the wire protocol's and the restart state's.
make -C "$build" proto/ioasd.pb-c.h proto/ioasd.pb-c.c proto/state.pb-c.h proto/state.pb-c.c \
	>"$work/make-proto.log" 2>&1 ||
	note "NOTE: generating proto/*.pb-c.[ch] failed (log: $work/make-proto.log)"
make -C "$build" -j"$(nproc)" LDFLAGS=-all-static "${targets[@]}" >"$work/make.log" 2>&1 ||
	{ tail -n 40 "$work/make.log" >&2; die "static build of ${targets[*]} failed (log: $work/make.log)"; }
# So are the daemon-level tests (run in the guest with
# IOASD_TEST_BACKEND=kernel) and the bench tool.
build_fail=0
for t in daemon/ioasd client/ioasctl tests/test-integration tests/test-tenants tests/test-shares tests/test-devices tests/test-exhaustion tools/ioasd-share-bench \
	tests/test-badinput tests/test-restart tests/test-hwpt tools/ioasd-bench tools/ioasd-state-bench tests/vm/vm-edu; do
	case $t in
	daemon/ioasd) [ -f "$srcdir/daemon/main.c" ] || { note "NOTE: no daemon/main.c yet; no ioasd in the guest"; continue; } ;;
	client/ioasctl) [ -f "$srcdir/client/ctl/main.c" ] || { note "NOTE: no client/ctl/main.c yet; no ioasctl in the guest"; continue; } ;;
	*) [ -f "$srcdir/$t.c" ] || { note "NOTE: no $t.c; not in the guest"; continue; } ;;
	esac
	if make -C "$build" -j"$(nproc)" LDFLAGS=-all-static "$t" >"$work/make-${t##*/}.log" 2>&1; then
		targets+=("$t")
	else
		note "FAIL static build of $t (log: $work/make-${t##*/}.log):"
		tail -n 15 "$work/make-${t##*/}.log" >&2
		build_fail=$((build_fail + 1))
	fi
done
for t in "${targets[@]}"; do
	if ldd "$build/$t" >/dev/null 2>&1; then
		die "$t is not statically linked"
	fi
done
t_build=$(date +%s)

# ------------------------------------------------------------- initramfs
root=$work/initramfs
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,run,tests}
cp "$busybox" "$root/bin/busybox"
for t in "${targets[@]}"; do
	cp "$build/$t" "$root/bin/"
done
cp "$here/guest/init" "$root/init"
cp "$here"/guest/[0-9]*.sh "$here/guest/lib.sh" "$root/tests/"
# ioasctl's test script, run by busybox sh in 50-daemon-tests.sh.
cp "$srcdir/tests/test-ioasctl.sh" "$root/tests/"
chmod 755 "$root/init" "$root"/tests/*.sh
# The daemon-level tests run clients as nobody (65534) and as daemon (1)
# and bin (2); the daemon and the policy print names (getpwuid from a
# static binary: glibc's built-in "files" NSS, no module needed).
cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/:/bin/sh
daemon:x:1:1:daemon:/:/bin/false
bin:x:2:2:bin:/:/bin/false
ioasuser:x:1000:1000:unprivileged tests:/tmp:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
daemon:x:1:
bin:x:2:
ioasuser:x:1000:
nogroup:x:65534:
EOF
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -1 >"$work/initramfs.cpio.gz"

# ------------------------------------------------------------- boot
# mode "main": VT-d + edu (the device tests, the conformance transcript);
# mode "mock": no VT-d, for the iommufd self-test mock domain (on 6.12 the
# mock device is claimed by the Intel driver when VT-d is present).
boot() { # version mode
	local v=$1 mode=$2 dir=$work/$1-$2 rc=0
	local iommu=(-device intel-iommu,intremap=on) append="intel_iommu=on iommu=nopt"
	if [ "$mode" = mock ]; then
		iommu=()
		append="intel_iommu=off"
	fi
	rm -rf "$dir"
	mkdir -p "$dir"
	date +%s >"$dir/start"
	timeout --kill-after=10 "$boot_timeout" "$qemu" \
		-machine q35,kernel-irqchip=split -accel tcg -cpu max -m 1G -smp 1 \
		"${iommu[@]}" -device edu \
		-vga none -nic none -nographic -no-reboot -monitor none \
		-serial stdio -serial "file:$dir/results.txt" \
		-kernel "${kimg[$v]}" -initrd "$work/initramfs.cpio.gz" \
		-append "console=ttyS0 $append panic=-1 quiet loglevel=4 ioasd_vm.mode=$mode" \
		</dev/null >"$dir/console.log" 2>&1 || rc=$?
	echo "$rc" >"$dir/qemu.rc"
	echo $(( $(date +%s) - $(cat "$dir/start") )) >"$dir/seconds"
}

# The "main" boots first: they take longest.
boots=()
for mode in main mock; do
	for v in $kernels; do
		grep -qw "$mode" <<<"$(kernel_modes "$v")" && boots+=("$v $mode")
	done
done
# Two guests at a time (one per core): the next starts when one ends.
running=0
for b in "${boots[@]}"; do
	if [ $running -ge 2 ]; then
		wait -n || true
		running=$((running - 1))
	fi
	boot $b &
	running=$((running + 1))
done
wait
t_boot=$(date +%s)

# ------------------------------------------------------------- results
# results.txt (the guest's second serial port) holds the files the guest
# tests left, each between "@@ioasd-vm-file NAME" and "@@ioasd-vm-end",
# then the guest's result line.
extract() { # results.txt name
	tr -d '\r' <"$1" | awk -v want="$2" '
		$0 == "@@ioasd-vm-file " want { on = 1; next }
		$0 == "@@ioasd-vm-end" { on = 0; next }
		on { print }'
}

pass=0
fail=$build_fail
for b in "${boots[@]}"; do
	set -- $b
	v=$1 mode=$2 dir=$work/$1-$2
	res=$dir/results.txt
	line=$(grep -a '^IOASD-VM-RESULT ' "$res" 2>/dev/null | tr -d '\r' | tail -n1 || true)
	if [ -z "$line" ]; then
		note "FAIL $v/$mode: no result line (qemu exit $(cat "$dir/qemu.rc")); console:"
		tail -n 40 "$dir/console.log" >&2
		fail=$((fail + 1))
		continue
	fi
	# Per-test lines from the guest.
	grep -a '^guest: ' "$res" | tr -d '\r' | sed "s|^guest: |check-vm: $v/$mode: |" >&2 || true
	# Summaries the guest tests left for the host output (bench figures,
	# per-program results of the daemon-level tests).
	for f in $(grep -a '^@@ioasd-vm-file .*\.summary$' "$res" | tr -d '\r' | cut -d' ' -f2); do
		extract "$res" "$f" | sed "s|^|check-vm: $v/$mode: ${f%.summary}: |" >&2
	done
	gfail=$(sed -n 's/.* failed=\([0-9]*\).*/\1/p' <<<"$line")
	gpass=$(sed -n 's/.* passed=\([0-9]*\).*/\1/p' <<<"$line")
	note "$v/$mode: $line ($(cat "$dir/seconds") s)"
	if [ "${gfail:-1}" != 0 ] || [ "${gpass:-0}" = 0 ]; then
		fail=$((fail + 1))
		for f in $(grep -a '^@@ioasd-vm-file .*\.log$' "$res" | tr -d '\r' | cut -d' ' -f2); do
			if grep -aq "^guest: ${f%.log}: FAIL" "$res"; then
				note "---- $v/$mode $f"
				extract "$res" "$f" | tail -n 40 >&2
			fi
		done
	else
		pass=$((pass + 1))
	fi

	# The conformance transcript against the golden file of the kernel's
	# kind: with THP or without, as its fragment says and the guest saw.
	[ "$mode" = main ] || continue
	if kernel_thp "$v"; then want=thp gname=conformance-thp.golden
	else want=nothp gname=conformance.golden; fi
	golden=$srcdir/tests/$gname
	got=$(extract "$res" conformance.model)
	if [ "$got" != "$want" ]; then
		note "FAIL $v: fragment-$v.config makes a '$want' kernel, the guest says '${got:-nothing}'"
		fail=$((fail + 1))
		continue
	fi
	extract "$res" conformance.txt >"$dir/conformance.txt"
	if [ ! -s "$dir/conformance.txt" ]; then
		note "FAIL $v: no conformance transcript"
		fail=$((fail + 1))
		continue
	fi
	if grep -q '^== map-file' "$dir/conformance.txt"; then
		cp "$golden" "$dir/golden.txt"
	else
		sed '/^== map-file/,$d' "$golden" >"$dir/golden.txt"
	fi
	if diff -u "$dir/golden.txt" "$dir/conformance.txt" >"$dir/conformance.diff"; then
		note "PASS $v: conformance transcript equals tests/$gname"
		pass=$((pass + 1))
	else
		note "FAIL $v: conformance transcript differs from tests/$gname:"
		cat "$dir/conformance.diff" >&2
		fail=$((fail + 1))
	fi
done

t_end=$(date +%s)
note "times: kernels $((t_kernels - t0)) s, static build $((t_build - t_kernels)) s, boots $((t_boot - t_build)) s, total $((t_end - t0)) s"
note "logs and transcripts: $work"
echo "check-vm: $pass passed, $fail failed"
[ "$fail" = 0 ]
