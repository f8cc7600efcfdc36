#!/bin/bash
# Build the Debian packages (debian/) out of a clean copy of the tree and
# check them with lintian; with --upgrade, build them a second time under a
# later version (a temporary changelog entry in the copy) for
# tests/test-deb-upgrade.sh.
#
#   tools/deb.sh [--upgrade] OUTDIR
#
# The copy is what git tracks or would track, as it is in the work tree
# (uncommitted edits and new files included; nothing .gitignore names: no
# configure, no ./build); without git, the tree but its build directories
# and configure's output. The packages land
# in OUTDIR; the last line of stdout names the .changes of each build
# ("built CHANGES"). lintian must report no error and no warning: a
# deliberate one is overridden, with its reason, in debian/*.lintian-overrides
# (README "Debian package" lists them). The package's own `make check` is
# skipped (DEB_BUILD_OPTIONS=nocheck): tools/test.sh has run it just before.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
upgrade=no
if [ "${1:-}" = --upgrade ]; then upgrade=yes; shift; fi
if [ $# -ne 1 ]; then
	echo "usage: tools/deb.sh [--upgrade] OUTDIR" >&2
	exit 2
fi
out=$(mkdir -p "$1" && cd "$1" && pwd)
src=$out/src
rm -rf "$src"
mkdir -p "$src"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	# Tracked files that exist (a file deleted in the work tree is left
	# out) and new ones not ignored.
	# shellcheck disable=SC2016 # the sh -c body expands its own arguments
	git -C "$top" ls-files -z --cached --others --exclude-standard |
		(cd "$top" && xargs -0 sh -c 'for f; do [ -e "$f" ] || [ -L "$f" ] && printf "%s\0" "$f"; done; true' sh) |
		tar -C "$top" --null -T - -cf - | tar -C "$src" -xf -
else
	# A tree without git (an unpacked copy): all of it but the build
	# directories and what autoreconf and configure leave at the top
	# (dh_autoreconf makes them again).
	echo "deb: $top is not a git work tree: copying it without build*/ and generated files"
	inside=
	case $out in "$top"/*) inside=./${out#"$top"/} ;; esac
	tar -C "$top" ${inside:+--exclude="$inside"} --exclude='./build*' --exclude=./autom4te.cache --exclude=./config.status \
		--exclude=./config.log --exclude=./Makefile --exclude=./libtool --exclude=./stamp-h1 \
		--exclude=./config.h --exclude='./debian/.debhelper' --exclude=./debian/tmp \
		-cf - . | tar -C "$src" -xf -
fi

cd "$src"
if ! dpkg-checkbuilddeps >/dev/null 2>&1; then
	echo "deb: installing the build dependencies of debian/control"
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get build-dep -y -qq --no-install-recommends "$src/" >/dev/null
fi

build() {
	local log
	log=$out/build-$(dpkg-parsechangelog -S Version).log
	if ! DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}" \
		dpkg-buildpackage -us -uc -b -j"$(nproc)" "$@" >"$log" 2>&1; then
		tail -40 "$log" >&2
		echo "deb: dpkg-buildpackage failed (whole log: $log)" >&2
		return 1
	fi
	echo "built $out/$(dpkg-parsechangelog -S Source)_$(dpkg-parsechangelog -S Version)_$(dpkg-architecture -qDEB_HOST_ARCH).changes"
}

build
changes=$out/$(dpkg-parsechangelog -S Source)_$(dpkg-parsechangelog -S Version)_$(dpkg-architecture -qDEB_HOST_ARCH).changes
echo "deb: lintian $(basename "$changes") (O: an override, with its reason in debian/*.lintian-overrides)"
# Exit status 2 is "errors found" (told from the output below), 1 is
# lintian itself failing.
status=0
lintian --show-overrides "$changes" >"$out/lintian.log" 2>&1 || status=$?
grep -v '^running with root privileges' "$out/lintian.log" || true
if [ $status -ne 0 ] && [ $status -ne 2 ]; then
	echo "deb: lintian failed (status $status)" >&2
	exit 1
fi
if grep -q '^[EW]: ' "$out/lintian.log"; then
	echo "deb: lintian reports $(grep -c '^E: ' "$out/lintian.log") errors, $(grep -c '^W: ' "$out/lintian.log") warnings" >&2
	exit 1
fi

if [ $upgrade = yes ]; then
	# The next build of the package: the same tree one version later. The
	# compiled tree is kept (-nc): only the packaging steps run again.
	v=$(dpkg-parsechangelog -S Version)
	{
		printf '%s (%s+upgradetest1) unstable; urgency=medium\n\n' \
			"$(dpkg-parsechangelog -S Source)" "$v"
		printf '  * A later build, for the upgrade test only.\n\n'
		printf ' -- %s  %s\n\n' "$(dpkg-parsechangelog -S Maintainer)" "$(date -R)"
		cat debian/changelog
	} >debian/changelog.new
	mv debian/changelog.new debian/changelog
	build -nc
fi
