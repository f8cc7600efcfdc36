#!/bin/bash
# Install what ioasd needs to build and test on Debian 12, then configure and
# build it in ./build. Sourced by tools/demo.sh and tools/test.sh; safe to
# run again (it installs only what is missing).
set -euo pipefail

IOASD_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
IOASD_BUILD=${IOASD_BUILD:-$IOASD_TOP/build}

# Build and test dependencies (Debian package names); debhelper and lintian
# build and check the Debian packages (tools/deb.sh), whose own build
# dependencies are debian/control's.
IOASD_DEPS=(
	build-essential autoconf automake libtool pkg-config
	libevent-dev libprotobuf-c-dev protobuf-c-compiler libsystemd-dev
	libcap-dev check libinih-dev libbsd-dev liblmdb-dev
	valgrind python3 systemd clang libclang-rt-dev groff-base
	qemu-system-x86 busybox-static cpio xz-utils
	debhelper lintian
)

ioasd_install_deps() {
	local missing=()
	for p in "${IOASD_DEPS[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "setup: installing ${missing[*]}"
	local SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ioasd_build() {
	cd "$IOASD_TOP"
	if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
		autoreconf -fi
	fi
	mkdir -p "$IOASD_BUILD"
	cd "$IOASD_BUILD"
	if [ ! -f Makefile ]; then
		"$IOASD_TOP/configure" --enable-werror ${IOASD_CONFIGURE_FLAGS:-}
	fi
	make -j"$(nproc)"
}
