#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Obtain a guest kernel for the real-kernel suite and print the path of its
# bzImage on stdout (progress goes to stderr).
#
#   tests/vm/kernel.sh VERSION        VERSION is 6.12, 7.2 or 7.2-thp
#
# 7.2-thp is the same 7.2 source built with transparent huge pages
# (fragment-7.2-thp.config), as distribution kernels are; the others have
# none. In order of preference:
#   1. $IOASD_VM_KERNEL_612 / $IOASD_VM_KERNEL_72 / $IOASD_VM_KERNEL_72_THP
#      (a bzImage path) if set;
#   2. the prebuilt image in the shared directory ($IOASD_VM_SHARED, default
#      ../shared/vm next to the source tree) when its recorded .config holds
#      every line of our fragment (tests/vm/fragment-VERSION.config);
#   3. the cache ($IOASD_VM_CACHE, default ${XDG_CACHE_HOME:-~/.cache}/ioasd-vm)
#      when its recorded .config holds every line of the fragment;
#   4. a fresh build from Debian's linux-source-VERSION package: tinyconfig +
#      the fragment, all built in (about 7 minutes on 2 cores), into the cache.
#
# The Debian suite that serves each linux-source is found through a private
# apt configuration (the system's sources are not touched); the archive URI
# is the one the system's own apt uses for bookworm, or $IOASD_VM_DEBIAN_MIRROR.
set -euo pipefail

die() { echo "kernel.sh: ERROR: $*" >&2; exit 1; }
note() { echo "kernel.sh: $*" >&2; }

ver=${1:-}
case "$ver" in
6.12) env_name=IOASD_VM_KERNEL_612; suites="trixie bookworm-backports" ;;
7.2) env_name=IOASD_VM_KERNEL_72; suites="sid" ;;
7.2-thp) env_name=IOASD_VM_KERNEL_72_THP; suites="sid" ;;
*) die "usage: kernel.sh 6.12|7.2|7.2-thp" ;;
esac
# The Debian source package is linux-source-$base; $flavour ("" or "-thp")
# names a build of it with another fragment.
base=${ver%%-*}
flavour=${ver#"$base"}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
srcdir=${IOASD_SRCDIR:-$(cd "$here/../.." && pwd)}
fragment=$srcdir/tests/vm/fragment-$ver.config
shared=${IOASD_VM_SHARED:-$srcdir/../shared/vm}
cache=${IOASD_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ioasd-vm}
[ -f "$fragment" ] || die "missing $fragment"

# Every option line of the fragment must appear in the .config: "=" lines
# verbatim, "is not set" lines either verbatim or by the option's absence.
fragment_ok() { # config
	local config=$1 line opt ok=0
	[ -f "$config" ] || return 1
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*)
			grep -qxF -- "$line" "$config" || { note "  $config lacks: $line"; ok=1; } ;;
		"# CONFIG_"*" is not set")
			opt=${line#"# "}; opt=${opt%" is not set"}
			if grep -q "^$opt=" "$config"; then
				note "  $config sets $opt, fragment says not set"; ok=1
			fi ;;
		esac
	done <"$fragment"
	return $ok
}

# 1. explicit
if [ -n "${!env_name:-}" ]; then
	img=${!env_name}
	[ -f "$img" ] || die "$env_name=$img does not exist"
	note "$ver: using \$$env_name=$img"
	echo "$img"
	exit 0
fi

# 2. shared prebuilt image
img=$shared/bzImage-$ver
if [ -f "$img" ]; then
	# config-7.2.13 goes with bzImage-7.2, config-7.2.13-thp with
	# bzImage-7.2-thp.
	config=
	for c in "$shared"/config-"$base".*; do
		[ -f "$c" ] || continue
		rest=${c##*/config-"$base".}
		case $rest in
		*-*) [ "-${rest#*-}" = "$flavour" ] || continue ;;
		*) [ -z "$flavour" ] || continue ;;
		esac
		config=$c
		break
	done
	if [ -n "$config" ] && fragment_ok "$config"; then
		if [ -f "$shared/SHA256SUMS" ] &&
		   ! (cd "$shared" && grep " bzImage-$ver\$" SHA256SUMS | sha256sum -c --quiet -); then
			note "$ver: $img fails its SHA256SUMS; not using it"
		else
			note "$ver: using $img (config $(basename "$config") matches the fragment)"
			echo "$img"
			exit 0
		fi
	else
		note "$ver: $img does not match tests/vm/fragment-$ver.config"
	fi
fi

# 3. cache
kdir=$cache/linux-$ver
if [ -f "$kdir/bzImage" ] && fragment_ok "$kdir/config"; then
	note "$ver: using cached $kdir/bzImage ($(cat "$kdir/version" 2>/dev/null))"
	echo "$kdir/bzImage"
	exit 0
fi

# 4. build
note "$ver: building the kernel from Debian's linux-source-$base (several minutes)"
need=()
for p in gcc make bc bison flex libelf-dev libssl-dev cpio xz-utils; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] || die "kernel build needs: ${need[*]} (run as root to install them)"
	note "installing ${need[*]}"
	apt-get update -q >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >&2
fi

mirror=${IOASD_VM_DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
	mirror=$(apt-cache policy 2>/dev/null |
		awk '$3 ~ /^bookworm(-updates)?\/main$/ && $2 ~ /^https?:\/\// { print $2; exit }')
fi
if [ -z "$mirror" ]; then
	[ "$(id -u)" = 0 ] && apt-get update -q >&2 || true
	mirror=$(apt-cache policy 2>/dev/null |
		awk '$3 ~ /^bookworm(-updates)?\/main$/ && $2 ~ /^https?:\/\// { print $2; exit }')
fi
[ -n "$mirror" ] || die "cannot find the Debian archive URI in apt's configuration; set IOASD_VM_DEBIAN_MIRROR"

work=$(mktemp -d "${TMPDIR:-/tmp}/ioasd-kernel-$ver.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/archives/partial"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
for s in $suites; do
	echo "deb [signed-by=$keyring] $mirror $s main"
done >"$work/sources.list"
apt_opts=(-o "Dir::Etc::sourcelist=$work/sources.list" -o Dir::Etc::sourceparts=/nonexistent
	-o "Dir::State::lists=$work/lists" -o "Dir::Cache::archives=$work/archives"
	-o Debug::NoLocking=1 -o APT::Sandbox::User=root)
apt-get -q "${apt_opts[@]}" update >&2 || die "apt-get update of $suites failed"
(cd "$work" && apt-get -q "${apt_opts[@]}" download "linux-source-$base" >&2) ||
	die "cannot download linux-source-$base from $suites"
deb=$(ls "$work"/linux-source-"$base"_*.deb)
debver=$(dpkg-deb -f "$deb" Version)
note "$ver: linux-source-$base $debver"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work" "./usr/src/linux-source-$base.tar.xz"
rm -f "$deb"
tar -xJf "$work/usr/src/linux-source-$base.tar.xz" -C "$work"
rm -f "$work/usr/src/linux-source-$base.tar.xz"
src=$work/linux-source-$base
out=$work/build
mkdir -p "$out"

start=$(date +%s)
make -s -C "$src" O="$out" tinyconfig >&2
"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$fragment" >&2
make -s -C "$src" O="$out" olddefconfig >&2
fragment_ok "$out/.config" || die "$ver: an option of the fragment did not survive olddefconfig (see above)"
make -s -C "$src" O="$out" -j"$(nproc)" bzImage >&2
kver=$(make -s -C "$src" O="$out" kernelrelease 2>/dev/null)
note "$ver: built $kver in $(( $(date +%s) - start )) s"

mkdir -p "$kdir"
cp "$out/arch/x86/boot/bzImage" "$kdir/bzImage.new"
cp "$out/.config" "$kdir/config"
cp "$fragment" "$kdir/fragment.config"
echo "Linux $kver from Debian linux-source-$base $debver${flavour:+ ($ver fragment)}" >"$kdir/version"
mv "$kdir/bzImage.new" "$kdir/bzImage"
echo "$kdir/bzImage"
