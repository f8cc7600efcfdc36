#!/bin/bash
# SPDX-License-Identifier: MIT
#
# QEMU 10 for the nested-VMM test (guest/97-vmm.sh): print the path of a
# gzip'ed cpio archive that holds it, to be appended to the guest's
# initramfs (the kernel unpacks concatenated archives in order); progress
# goes to stderr.
#
#   tests/vm/qemu10.sh
#
# The archive holds /opt/qemu10/bin/qemu-system-x86_64 (qemu-system-x86
# from Debian's bookworm-backports, unpacked, not installed: the host's
# QEMU 7.2 stays as it is), the shared libraries it loads, as this host
# resolves them (ldd), at the same paths, with the dynamic loader, and
# /opt/qemu10/share/bios-256k.bin (seabios, the one firmware file a q35
# machine under -S reads). ~16 MB.
#
# Cached in $IOASD_VM_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/ioasd-vm)
# with the package version it was made from; a cache hit touches no network.
# Otherwise the packages come through a private apt configuration (the
# system's sources are not touched) from the archive URI the system's apt
# uses for bookworm, or $IOASD_VM_DEBIAN_MIRROR. A library QEMU 10 needs
# that the host lacks is installed from bookworm (as root). It never
# falls back to anything: without QEMU 10 it fails.
set -euo pipefail

die() { echo "qemu10.sh: ERROR: $*" >&2; exit 1; }
note() { echo "qemu10.sh: $*" >&2; }

suite=bookworm-backports
cache=${IOASD_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ioasd-vm}
out=$cache/qemu10.cpio.gz
stamp=$cache/qemu10.version
# The packages, each from the suite apt picks with -t $suite.
pkgs=(qemu-system-x86 seabios)

if [ -s "$out" ] && [ -s "$stamp" ]; then
	note "cached: $(cat "$stamp")"
	echo "$out"
	exit 0
fi
mkdir -p "$cache"

mirror=${IOASD_VM_DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
	mirror=$(apt-cache policy 2>/dev/null |
		awk '$3 ~ /^bookworm(-updates)?\/main$/ && $2 ~ /^https?:\/\// { print $2; exit }')
fi
[ -n "$mirror" ] || die "cannot find the Debian archive URI in apt's configuration; set IOASD_VM_DEBIAN_MIRROR"

work=$(mktemp -d "${TMPDIR:-/tmp}/ioasd-qemu10.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/archives/partial" "$work/x"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
for s in bookworm bookworm-updates $suite; do
	echo "deb [signed-by=$keyring] $mirror $s main"
done >"$work/sources.list"
apt_opts=(-o "Dir::Etc::sourcelist=$work/sources.list" -o Dir::Etc::sourceparts=/nonexistent
	-o "Dir::State::lists=$work/lists" -o "Dir::Cache::archives=$work/archives"
	-o Debug::NoLocking=1 -o APT::Sandbox::User=root)
apt-get -q "${apt_opts[@]}" update >&2 || die "apt-get update of $suite failed"
(cd "$work" && apt-get -q "${apt_opts[@]}" download "${pkgs[@]/%//$suite}" >&2) ||
	die "cannot download ${pkgs[*]} from $suite"
qdeb=$(ls "$work"/qemu-system-x86_*.deb)
version=$(dpkg-deb -f "$qdeb" Version)
case $version in
1:1[0-9].*) ;;
*) die "$suite serves qemu-system-x86 $version, not QEMU 10 or later" ;;
esac
for d in "$work"/*.deb; do
	dpkg-deb -x "$d" "$work/x"
done
bin=$work/x/usr/bin/qemu-system-x86_64
bios=$work/x/usr/share/seabios/bios-256k.bin
[ -x "$bin" ] && [ -f "$bios" ] || die "the packages lack qemu-system-x86_64 or bios-256k.bin"

# Its libraries: those of its Depends that the host lacks come from bookworm.
if ldd "$bin" | grep -q 'not found'; then
	need=$(dpkg-deb -f "$qdeb" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*//; s/ //g' |
		grep '^lib' | while read -r p; do
			dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
		done)
	[ "$(id -u)" = 0 ] || die "QEMU 10 needs libraries this host lacks: $need (run as root to install them)"
	note "installing $need"
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q $need >&2
fi
if ldd "$bin" | grep 'not found' >&2; then
	die "qemu-system-x86_64 $version still misses libraries (above)"
fi

root=$work/root
mkdir -p "$root/opt/qemu10/bin" "$root/opt/qemu10/share"
cp "$bin" "$root/opt/qemu10/bin/"
cp "$bios" "$root/opt/qemu10/share/"
# Each library at the path the loader finds it (ldd's), symlinks resolved.
ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u |
	while read -r lib; do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
echo "qemu-system-x86 $version ($suite), seabios $(dpkg-deb -f "$work"/seabios_*.deb Version)" >"$work/version"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -6 >"$work/qemu10.cpio.gz"
mv "$work/qemu10.cpio.gz" "$out"
mv "$work/version" "$stamp"
note "made $out ($(du -h "$out" | cut -f1)): $(cat "$stamp")"
echo "$out"
