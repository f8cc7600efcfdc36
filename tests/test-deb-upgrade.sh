#!/bin/bash
# SPDX-License-Identifier: MIT
#
# An upgrade of the Debian package keeps a tenant's mappings. Run by
# tools/test.sh (as root, on a fresh Debian 12 container) with the two
# builds tools/deb.sh --upgrade made:
#
#   tests/test-deb-upgrade.sh FIRST.changes SECOND.changes
#
# It installs the first build with dpkg into this machine, starts the
# installed daemon the way its units would (tests/fake-systemd in systemd's
# part: the socket of ioasd.socket, the ExecStart=, User=, Group=,
# KillSignal= and FileDescriptorStoreMax= of ioasd.service, read from the
# installed files; plus --backend sim --no-journal, as there is no
# /dev/iommu here), has a tenant map memory through the installed ioasctl,
# installs the second build over it with dpkg, and then does what the new
# postinst asks of systemd (deb-systemd-invoke restart ioasd.service): a
# restart job, KillSignal= and the fd store kept. The tenant reclaims its
# objects from the new daemon and finds every mapping. Then it purges the
# packages and checks that nothing they installed or made is left.
#
# Without systemd as PID 1 (the CI container) the maintainer scripts do not
# touch a running daemon: the test checks that too, and checks that the
# postinst asks for the restart of the service (not of the socket, not a
# stop) where systemd runs. That systemd then performs the restart as the
# unit says is not exercised here: on a machine whose PID 1 is systemd the
# test is skipped, as dpkg would hand the units to the real systemd.
#
# TAP output. It refuses to run (exit 77) rather than touch a machine where
# any of the packages is installed or ioasd's runtime directory exists; it
# removes what it added (the packages, the policy file, the ioasd user and
# group if it created them) whatever happens.
# shellcheck disable=SC2016,SC2034 # eval bodies are expanded later, on purpose
set -u

if [ $# -ne 2 ]; then
	echo "usage: tests/test-deb-upgrade.sh FIRST.changes SECOND.changes" >&2
	exit 2
fi
top=$(cd "$(dirname "$0")/.." && pwd)
FAKE=${FAKE_SYSTEMD_BIN:-${IOASD_BUILD:-$top/build}/tests/fake-systemd}
skip() { echo "1..0 # SKIP $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (dpkg -i)"
[ -x "$FAKE" ] || skip "$FAKE is missing (make tests/fake-systemd)"
[ -d /run/systemd/system ] &&
	skip "systemd runs here: dpkg would hand the units to it (this test plays systemd's part)"
for p in ioasd libioas0 libioas-dev; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'installed' &&
		skip "package $p is installed: not touching it"
done
[ -e /run/ioasd ] && skip "/run/ioasd exists: an ioasd runs here"
[ -e /etc/ioasd ] && skip "/etc/ioasd exists: not touching it"

# The binary packages a .changes names (not the debug symbols).
debs() {
	local dir
	dir=$(dirname "$1")
	awk '/^Files:/ { f = 1; next } /^[^ ]/ { f = 0 } f && $NF ~ /\.deb$/ && $NF !~ /-dbgsym_/ { print $NF }' "$1" |
		sed "s|^|$dir/|"
}
mapfile -t first < <(debs "$1")
mapfile -t second < <(debs "$2")
v1=$(awk '$1 == "Version:" { print $2 }' "$1")
v2=$(awk '$1 == "Version:" { print $2 }' "$2")
[ ${#first[@]} -eq 3 ] && [ ${#second[@]} -eq 3 ] ||
	{ echo "Bail out! expected 3 packages in each of $1 and $2"; exit 1; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/ioasd-deb-upgrade.XXXXXX")
chmod 0755 "$dir"
policy=/etc/ioasd/policy.d/50-deb-upgrade-test.conf
had_user=no had_group=no
getent passwd ioasd >/dev/null && had_user=yes
getent group ioasd-clients >/dev/null && had_group=yes
fpid=
n=0
failed=0

purge() {
	rm -f "$policy"
	DEBIAN_FRONTEND=noninteractive dpkg --purge ioasd libioas-dev libioas0 >"$dir/purge.log" 2>&1
}
cleanup() {
	if [ -n "$fpid" ] && kill -0 "$fpid" 2>/dev/null; then
		kill -TERM "$fpid" 2>/dev/null
		wait "$fpid" 2>/dev/null
	fi
	if dpkg-query -W -f='${Status}' ioasd libioas0 libioas-dev 2>/dev/null | grep -q 'ok installed\|config-files'; then
		purge
	fi
	[ $had_user = no ] && getent passwd ioasd >/dev/null && userdel ioasd
	getent group ioasd >/dev/null && ! getent passwd ioasd >/dev/null && groupdel ioasd
	[ $had_group = no ] && getent group ioasd-clients >/dev/null && groupdel ioasd-clients
	# Neither existed before (checked above): whatever is left is ours.
	rm -rf /run/ioasd /etc/ioasd "$dir"
}
trap cleanup EXIT

ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }
show() { for f in "$@"; do [ -f "$f" ] && echo "# --- $f" && sed 's/^/#   /' "$f"; done; }
bail() { echo "Bail out! $*"; show "$dir"/*.log "$dir/events"; exit 1; }
wait_for() { # wait_for SECONDS CMD...
	local deadline=$((SECONDS + $1)); shift
	until "$@"; do
		[ $SECONDS -ge $deadline ] && return 1
		sleep 0.05
	done
}
has() { grep -qx -- "$2" "$1"; }
count_ge() { [ "$(grep -cx -- "$2" "$1")" -ge "$3" ]; }
# unit_key FILE KEY: the last value of KEY= in a unit file
unit_key() { sed -n "s/^$2=//p" "$1" | tail -1; }
ctl() { # ctl NAME WANT ARGS...: the installed ioasctl, exit status WANT
	local name=$1 want=$2 got
	shift 2
	ioasctl --socket "$sock" "$@" >"$dir/$name.out" 2>"$dir/$name.err"
	got=$?
	[ "$got" -eq "$want" ] && return 0
	echo "# ioasctl $*: exit status $got, expected $want"
	show "$dir/$name.err"
	return 1
}
exe_of() { readlink "/proc/$1/exe" 2>/dev/null; }
main_pid() { awk '$1 == "started" || $1 == "restarted" { p = $2 } END { print p }' "$dir/events"; }

echo "# upgrade $v1 -> $v2 without systemd as PID 1 ($(cat /proc/1/comm))"

# ------------------------------------------------------------ install
DEBIAN_FRONTEND=noninteractive dpkg -i "${first[@]}" >"$dir/install.log" 2>&1 ||
	bail "dpkg -i of $v1 failed"
check "dpkg -i installs $v1" test "$(dpkg-query -W -f='${Version}' ioasd)" = "$v1"
dpkg -L ioasd libioas0 libioas-dev | sort -u >"$dir/files"
check "the socket is enabled (sockets.target.wants)" \
	test -L /etc/systemd/system/sockets.target.wants/ioasd.socket
check "the service is not enabled (the socket starts it)" \
	test ! -e /etc/systemd/system/multi-user.target.wants/ioasd.service
check "sysusers made the ioasd user and the ioasd-clients group" \
	eval 'getent passwd ioasd >/dev/null && getent group ioasd-clients >/dev/null'
check "tmpfiles made /run/ioasd/state, 0700 ioasd" \
	test "$(stat -c '%a %U' /run/ioasd/state 2>/dev/null)" = "700 ioasd"
check "the example policy is under /usr/share/doc/ioasd/examples" \
	test -f /usr/share/doc/ioasd/examples/policy.d/50-dpdk.conf
check "the example policy passes ioasd --check-policy" \
	eval 'ioasd --check-policy --policy-dir /usr/share/doc/ioasd/examples/policy.d >"$dir/check-policy.log" 2>&1' 
cat >"$dir/client.c" <<'EOF'
#include <ioas.h>
#include <stdio.h>
int main(void) { puts(ioas_client_free(NULL) ? "not NULL" : "ok"); return 0; }
EOF
check "libioas-dev: a program builds with pkg-config libioas and runs" \
	eval 'cc -o "$dir/client" "$dir/client.c" $(pkg-config --cflags --libs libioas) 2>"$dir/cc.log" &&
		test "$("$dir/client")" = ok'

# ------------------------------------------------------------ start as the units would
service=/lib/systemd/system/ioasd.service
socket_unit=/lib/systemd/system/ioasd.socket
sock=$(unit_key "$socket_unit" ListenSequentialPacket)
execstart=$(unit_key "$service" ExecStart)
killsig=$(unit_key "$service" KillSignal)
storemax=$(unit_key "$service" FileDescriptorStoreMax)
user=$(unit_key "$service" User)
group=$(unit_key "$service" Group)
echo "# ExecStart=$execstart User=$user KillSignal=$killsig FileDescriptorStoreMax=$storemax"
[ -n "$sock" ] && [ -n "$execstart" ] && [ -n "$killsig" ] && [ -n "$storemax" ] ||
	bail "the installed units lack ListenSequentialPacket=, ExecStart=, KillSignal= or FileDescriptorStoreMax="
printf '[tenant upgrade]\nMatchUser=0\nLease=600\n' >"$policy"
# shellcheck disable=SC2086 # ExecStart= is a command line
"$FAKE" --listen "$sock" --notify "$dir/notify" --fdstore-max "$storemax" \
	--store-file "$dir/store" --kill-signal "$killsig" -- \
	setpriv --reuid="$user" --regid="$group" --clear-groups \
	$execstart --backend sim --no-journal --restart-grace 600 \
	>"$dir/events" 2>"$dir/daemon.log" &
fpid=$!
wait_for 10 has "$dir/events" ready || bail "the installed ioasd did not get ready"
pid1=$(main_pid)
check "the installed ioasd runs as $user, from /usr/sbin/ioasd" \
	eval 'test "$(stat -c %U "/proc/$pid1")" = "$user" && test "$(exe_of "$pid1")" = /usr/sbin/ioasd'
check "it keeps its fds in the fd store, its state in /run/ioasd/state" \
	grep -q "fds kept by systemd's file-descriptor store" "$dir/daemon.log"

# shellcheck disable=SC2016 # $ioas and $mem are the batch's own
printf '%s\n' 'ioas-alloc' 'memfd 2M' 'map $ioas $mem --iova 0x100000' \
	'memfd 1M' 'map $ioas $mem --iova 0x400000' 'map $ioas $mem' \
	'ioas-alloc' 'memfd 64K' 'map $ioas $mem --iova 0x10000' 'hello' >"$dir/setup.batch"
check "a tenant maps 3 memfds into 2 IOASes (2 at fixed IOVAs, 1 automatic, 1 more)" \
	ctl setup 0 batch "$dir/setup.batch"
token=$(awk '$1 == "reclaim-token" { print $2 }' "$dir/setup.out")
ctl before 0 whoami
check "whoami before: 2 IOAS, 4 mappings, 3 memory regions" \
	eval 'grep -Eq "^ioas +2 of" "$dir/before.out" && grep -Eq "^mappings +4 of" "$dir/before.out" &&
		grep -Eq "^memory-regions +3 of" "$dir/before.out"'
usage() { grep -E '^(ioas|pinned|mappings|memory-regions) ' "$1"; }
usage "$dir/before.out" >"$dir/before.usage"
# Every mapping of both IOASes: IOVA, length, memory, offset, flags.
ctl before-show1 0 --json show 1
ctl before-show2 0 --json show 2
check "show lists the 4 mappings before the upgrade" \
	test "$(cat "$dir/before-show1.out" "$dir/before-show2.out" | grep -c '"kind":"mapping"')" -eq 4

# ------------------------------------------------------------ upgrade
DEBIAN_FRONTEND=noninteractive dpkg -i "${second[@]}" >"$dir/upgrade.log" 2>&1 ||
	bail "dpkg -i of $v2 over $v1 failed"
check "dpkg -i upgrades to $v2" test "$(dpkg-query -W -f='${Version}' ioasd)" = "$v2"
check "without systemd the maintainer scripts left the daemon running (pid $pid1)" \
	eval 'kill -0 "$pid1" && test "$(main_pid)" = "$pid1"'
check "... on the old binary, which dpkg replaced" \
	eval 'exe_of "$pid1" | grep -q "^/usr/sbin/ioasd (deleted)$"'
ctl during 0 whoami
check "... and it serves the tenant through the upgrade" grep -Eq "^mappings +4 of" "$dir/during.out"
postinst=/var/lib/dpkg/info/ioasd.postinst
prerm=/var/lib/dpkg/info/ioasd.prerm
check "where systemd runs, the new postinst restarts the service after an upgrade" \
	eval 'grep -q "_dh_action=restart" "$postinst" &&
		grep -q "deb-systemd-invoke \$_dh_action '\''ioasd.service'\'' " "$postinst"'
check "... and only starts the socket (it is never restarted)" \
	eval '! grep "deb-systemd-invoke" "$postinst" | grep -v "start '\''ioasd.socket'\''" | grep -q ioasd.socket'
check "... and the old prerm stops nothing but on remove" \
	eval '! grep "deb-systemd-invoke stop" "$prerm" | grep -qv "^[[:space:]]*deb-systemd-invoke stop" &&
		test "$(grep -c "\"\$1\" = remove" "$prerm")" -eq "$(grep -c "deb-systemd-invoke stop" "$prerm")"'
check "the installed unit stops the daemon with SIGUSR2 and keeps its store on restart" \
	eval 'test "$killsig" = SIGUSR2 && test "$(unit_key "$service" FileDescriptorStorePreserve)" = restart'

# What `deb-systemd-invoke restart ioasd.service` has systemd do: a
# restart job: KillSignal=, wait, start again with the fd store.
k=$(grep -c '^ready$' "$dir/events")
kill -HUP "$fpid"
wait_for 20 count_ge "$dir/events" ready $((k + 1)) || bail "the daemon did not come back"
pid2=$(main_pid)
check "the restart took the planned path: SIGUSR2, everything kept, exit 0" \
	eval 'grep -q "stopping for a restart: 1 tenants, 2 IOAS, 4 mappings" "$dir/daemon.log" &&
		has "$dir/events" "exited 0" && ! grep -q "^fdstoreremove" "$dir/events"'
check "a new daemon ($pid1 -> $pid2) runs the new /usr/sbin/ioasd" \
	eval 'test "$pid2" != "$pid1" && test "$(exe_of "$pid2")" = /usr/sbin/ioasd'
check "it restored the tenant: 2 IOAS, 4 mappings, 3 memory regions" \
	grep -q "tenant upgrade: 2 IOAS, 4 mappings, 3 memory regions" "$dir/daemon.log"
ctl notoken 3 whoami
check "without its token the restored tenant is not given away (EBUSY)" grep -q EBUSY "$dir/notoken.err"
check "the tenant reclaims it with its token" ctl reclaim 0 --reclaim "$token" whoami
usage "$dir/reclaim.out" >"$dir/after.usage"
check "its usage is what it was before the upgrade" diff "$dir/before.usage" "$dir/after.usage"
ctl after-show1 0 --json show 1
ctl after-show2 0 --json show 2
check "every mapping of IOAS 1 is as it was (ioasctl show --json)" \
	diff "$dir/before-show1.out" "$dir/after-show1.out"
check "every mapping of IOAS 2 is as it was" diff "$dir/before-show2.out" "$dir/after-show2.out"
check "the mapping of 2 MiB at 0x100000 of IOAS 1 is there" ctl unmap1 0 unmap 1 0x100000 2M
check "the mapping of 1 MiB at 0x400000 of IOAS 1 is there" ctl unmap2 0 unmap 1 0x400000 1M
check "the mapping of 64 KiB at 0x10000 of IOAS 2 is there" ctl unmap3 0 unmap 2 0x10000 64K
ctl after 0 whoami
check "one mapping is left: the automatic one" grep -Eq "^mappings +1 of" "$dir/after.out"

# ------------------------------------------------------------ stop, purge
kill -TERM "$fpid" # systemctl stop: KillSignal=, then the store released
wait "$fpid"
check "stop: the daemon exits 0" test $? -eq 0
fpid=
# ... and the socket unit's stop (prerm, on remove): RemoveOnStop=yes.
[ "$(unit_key "$socket_unit" RemoveOnStop)" = yes ] && rm -f "$sock"
purge
check "dpkg --purge removes the three packages" \
	eval '! dpkg-query -W -f="\${Status}\n" ioasd libioas0 libioas-dev 2>/dev/null | grep -q "installed\|config-files"'
left=$(while read -r f; do [ -e "$f" ] || [ -L "$f" ] || continue
	# Directories others share (/usr/share/man/man8, /lib -> usr/lib) stay.
	[ -d "$f" ] && [[ $f != *ioas* ]] && continue
	echo "$f"; done <"$dir/files")
check "nothing the packages installed is left${left:+: $left}" test -z "$left"
check "nothing they made is left (/etc/ioasd, /run/ioasd, the unit links)" \
	eval 'test ! -e /etc/ioasd -a ! -e /run/ioasd -a ! -e /etc/systemd/system/sockets.target.wants/ioasd.socket &&
		! ls /var/lib/systemd/deb-systemd-helper-enabled 2>/dev/null | grep -q ioasd'
[ $failed -eq 0 ] || show "$dir/events" "$dir/daemon.log" "$dir"/*.err

echo "1..$n"
echo "# $((n - failed)) passed, $failed failed"
[ $failed -eq 0 ]
