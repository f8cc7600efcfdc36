#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Restart support through systemd's file-descriptor store, without systemd:
# tests/fake-systemd plays the service manager (socket activation, the
# notify socket with FDSTORE=1 / FDSTOREREMOVE=1 / FileDescriptorStoreMax=,
# NotifyAccess=main, a SIGKILL and a start again with the stored fds, like
# Restart= does) around a real ioasd on the sim backend with --state-dir:
# what the store holds (ioasd-mem-N; ioasd-iommufd only on the kernel
# backend), that no fd holder runs, that the restarted daemon serves the
# passed socket and restores, reclaim with the right token only, the mapping
# back at its IOVA with its length, FDSTOREREMOVE when memory goes, a
# notifier that is not the main pid ignored, the daemon keeping within
# FileDescriptorStoreMax= across a restart, and a clean SIGTERM that empties
# the store and exits 0.
#
# TAP output; the exit status is what counts. Needs IOASD_BIN and
# IOASCTL_BIN (make check); tests/fake-systemd is found next to them.
# VALGRIND="valgrind --error-exitcode=99 --leak-check=full --track-fds=yes"
# runs fake-systemd and the daemon under it (and waits longer).
# shellcheck disable=SC2016 # batch lines and eval bodies are expanded later, on purpose
set -u

IOASD=${IOASD_BIN:-}
IOASCTL=${IOASCTL_BIN:-}
backend=${IOASD_TEST_BACKEND:-sim}
if [ -z "$IOASD" ] || [ -z "$IOASCTL" ] || [ ! -x "$IOASD" ] || [ ! -x "$IOASCTL" ]; then
	echo "1..0 # SKIP IOASD_BIN / IOASCTL_BIN not set or not executable"
	exit 77
fi
builddir=$(cd "$(dirname "$IOASD")/.." && pwd)
FAKE=${FAKE_SYSTEMD_BIN:-$builddir/tests/fake-systemd}
if [ ! -x "$FAKE" ]; then
	echo "Bail out! $FAKE is missing (make tests/fake-systemd)"
	exit 1
fi
VALGRIND=${VALGRIND:-}
slow=10
[ -n "$VALGRIND" ] && slow=60

dir=$(mktemp -d "${TMPDIR:-/tmp}/ioasd-fdstore.XXXXXX")
chmod 0755 "$dir"
fpid=
n=0
failed=0

cleanup() {
	if [ -n "$fpid" ] && kill -0 "$fpid" 2>/dev/null; then
		kill -TERM "$fpid" 2>/dev/null
		wait "$fpid" 2>/dev/null
	fi
	rm -rf "$dir"
}
trap cleanup EXIT

ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }
show() { for f in "$@"; do [ -f "$f" ] && echo "# --- $f" && sed 's/^/#   /' "$f"; done; }

wait_for() { # wait_for SECONDS CMD...: poll until CMD succeeds
	local deadline=$((SECONDS + $1)); shift
	until "$@"; do
		[ $SECONDS -ge $deadline ] && return 1
		sleep 0.05
	done
}
# count_ge FILE LINE N: FILE has at least N lines equal to LINE
count_ge() { [ "$(grep -cx -- "$2" "$1")" -ge "$3" ]; }
has() { grep -qx -- "$2" "$1"; }
hasnt() { ! grep -qx -- "$2" "$1"; }

# start NAME MAX [KILLSIGNAL [STATEDIR]]: ioasd under fake-systemd with
# FileDescriptorStoreMax=MAX (and KillSignal=, default SIGTERM); its events
# in $dir/NAME.events, its store in $dir/NAME.store; a new state directory
# unless STATEDIR names an existing one.
start() {
	local name=$1 max=$2 killsig=${3:-SIGTERM}
	if [ -n "${4:-}" ]; then
		state=$4
	else
		state=$dir/$name.state
		mkdir -m 0700 "$state"
	fi
	mkdir -p "$dir/policy.d"
	printf '[tenant t]\nMatchUser=%s\nLease=60\n' "$(id -u)" >"$dir/policy.d/50-t.conf"
	sock=$dir/$name.sock
	events=$dir/$name.events
	store=$dir/$name.store
	dlog=$dir/$name.log
	# shellcheck disable=SC2086 # VALGRIND is a command line
	$VALGRIND "$FAKE" --listen "$sock" --notify "$dir/$name.notify" \
		--fdstore-max "$max" --store-file "$store" --kill-signal "$killsig" -- \
		$VALGRIND "$IOASD" --backend "$backend" --policy-dir "$dir/policy.d" \
		--state-dir "$state" --restart-grace 60 --no-journal --socket "$sock" \
		>"$events" 2>"$dlog" &
	fpid=$!
	wait_for "$slow" has "$events" ready
}

# ctl NAME WANT ARGS...: ioasctl on the current socket, status WANT,
# output in $dir/NAME.out / .err.
ctl() {
	local name=$1 want=$2 got
	shift 2
	"$IOASCTL" --socket "$sock" "$@" >"$dir/$name.out" 2>"$dir/$name.err"
	got=$?
	[ "$got" -eq "$want" ] && return 0
	echo "# ioasctl $*: exit status $got, expected $want"
	show "$dir/$name.err"
	return 1
}

# restart: what Restart= does: SIGKILL, then start again with the store.
restart() {
	local k
	k=$(grep -c '^restarted ' "$events")
	kill -USR1 "$fpid"
	wait_for "$slow" count_ge "$events" ready $((k + 2))
}

# stop: SIGTERM to fake-systemd, which forwards it; its exit status.
stop() {
	kill -TERM "$fpid"
	wait "$fpid"
	stopped=$?
	fpid=
}

echo "# fake-systemd around ioasd --backend $backend${VALGRIND:+ (under $VALGRIND)}"

# ------------------------------------------------------------ first run
if ! start main 16; then
	not_ok "ioasd starts under fake-systemd and says READY=1"
	show "$events" "$dlog"
	echo "1..$n"
	exit 1
fi
ok "ioasd starts under fake-systemd and says READY=1"
check "it uses systemd's store (\$NOTIFY_SOCKET + \$FDSTORE), not a holder" \
	grep -q "fds kept by systemd's file-descriptor store (FileDescriptorStoreMax=16)" "$dlog"
check "it serves the socket passed in LISTEN_FDS" grep -q "socket-activated" "$dlog"
check "no fd holder is started (no fdholder.pid, no fdholder.sock)" \
	test ! -e "$state/fdholder.pid" -a ! -e "$state/fdholder.sock"

printf '%s\n' 'ioas-alloc' 'memfd 2M' 'map $ioas $mem --iova 0x100000' \
	'memfd 1M' 'map $ioas $mem --iova 0x400000' 'hello' >"$dir/setup.batch"
if ctl setup 0 batch "$dir/setup.batch"; then
	ok "a tenant registers two memfds and maps them at fixed IOVAs"
else
	not_ok "a tenant registers two memfds and maps them at fixed IOVAs"
fi
token=$(awk '$1 == "reclaim-token" { print $2 }' "$dir/setup.out")
check "hello gives a reclaim token (32 hex digits): $token" \
	grep -Eqx '[0-9a-f]{32}' <<<"$token"
check "FDSTORE=1 with FDNAME=ioasd-mem-1 and ioasd-mem-2" \
	wait_for "$slow" has "$events" "fdstore ioasd-mem-2"
check "the store holds exactly ioasd-mem-1 and ioasd-mem-2" \
	test "$(sort "$store" | tr '\n' ' ')" = "ioasd-mem-1 ioasd-mem-2 "
if [ "$backend" = sim ]; then
	check "the sim stores no iommufd context" hasnt "$store" ioasd-iommufd
else
	check "the kernel backend stores its iommufd context" has "$store" ioasd-iommufd
fi
check "the state database is written" test -s "$state/state.lmdb"
check "no fd was stored beyond the store or refused" \
	eval '! grep -q "^fdstore-refused\|^dropped-fds\|^fdstore-duplicate" "$events"'

# A notifier that is not the main pid: systemd (NotifyAccess=main) drops it.
if command -v python3 >/dev/null 2>&1; then
	python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.connect(sys.argv[1])
fd = os.open("/dev/null", os.O_RDONLY)
socket.send_fds(s, [b"FDSTORE=1\nFDNAME=ioasd-mem-99"], [fd])
' "$dir/main.notify"
	check "FDSTORE=1 from another pid is rejected (SCM_CREDENTIALS)" \
		wait_for "$slow" grep -q '^rejected ' "$events"
	check "... and stores nothing" hasnt "$store" ioasd-mem-99
else
	ok "# SKIP python3 missing: no foreign notifier"
fi

# ------------------------------------------------------------ SIGKILL + restart
first=$(awk '$1 == "started" { print $2 }' "$events")
restart
check "SIGKILL, started again with the stored fds, READY=1 again" \
	count_ge "$events" ready 2
new=$(awk '$1 == "restarted" { print $2 }' "$events")
check "a new main pid ($first -> $new)" test -n "$new" -a "$new" != "$first"
check "the new daemon got the socket and the store in LISTEN_FDNAMES" \
	grep -qx "LISTEN_FDNAMES=ioasd.socket:ioasd-mem-1:ioasd-mem-2" \
	<(tr '\0' '\n' <"/proc/$new/environ" 2>/dev/null)
check "it found its socket among the passed fds" \
	test "$(grep -c "socket-activated" "$dlog")" -ge 2
check "it restored the tenant from the state and the stored fds" \
	grep -q "tenant t: 1 IOAS, 2 mappings, 2 memory regions" "$dlog"
check "still no fd holder" test ! -e "$state/fdholder.pid"
check "the store still holds both memfds (taking them back keeps them)" \
	test "$(sort "$store" | tr '\n' ' ')" = "ioasd-mem-1 ioasd-mem-2 "

ctl notoken 3 hello
check "without the token the restored tenant is refused (EBUSY)" \
	grep -q "EBUSY" "$dir/notoken.err"
ctl wrong 3 --reclaim 0123456789abcdef0123456789abcdef hello
check "a wrong token is refused (EKEYREJECTED)" grep -q "EKEYREJECTED" "$dir/wrong.err"
if ctl reclaim 0 --reclaim "$token" hello; then
	ok "the right token reclaims the tenant"
else
	not_ok "the right token reclaims the tenant"
fi
check "... and hello says so" grep -q "^reclaimed *yes" "$dir/reclaim.out"
ctl whoami 0 whoami
check "whoami: the two mappings (3 MiB) are back" \
	grep -Eq "^mappings +2 of .*\(3 MiB mapped\)" "$dir/whoami.out"
ctl unmap-short 1 unmap 1 0x100000 1M
check "the mapping at 0x100000 is not 1 MiB long (unmap refused)" \
	grep -q "ENOENT" "$dir/unmap-short.err"
ctl unmap 0 unmap 1 0x100000 2M
check "it is 2 MiB long at 0x100000: unmapped" grep -q "unmapped 2 MiB" "$dir/unmap.out"
ctl unregister 0 unregister 1
check "unregistering memory 1 sends FDSTOREREMOVE=1 FDNAME=ioasd-mem-1" \
	wait_for "$slow" has "$events" "fdstoreremove ioasd-mem-1"
check "... and the store no longer holds it" hasnt "$store" ioasd-mem-1
ctl memfd 0 memfd 1M
check "memory registered after the restart is stored under a new name (ioasd-mem-3)" \
	wait_for "$slow" has "$events" "fdstore ioasd-mem-3"
check "the store holds exactly ioasd-mem-2 and ioasd-mem-3" \
	test "$(sort "$store" | tr '\n' ' ')" = "ioasd-mem-2 ioasd-mem-3 "

# ------------------------------------------------------------ clean stop
stop
check "SIGTERM: STOPPING=1" has "$events" stopping
check "SIGTERM: FDSTOREREMOVE=1 for ioasd-mem-2 and ioasd-mem-3" \
	eval 'has "$events" "fdstoreremove ioasd-mem-2" && has "$events" "fdstoreremove ioasd-mem-3"'
check "SIGTERM: the store is empty when the daemon exits" test ! -s "$store"
check "SIGTERM: the daemon exits 0" has "$events" "exited 0"
check "fake-systemd exits with the daemon's status (0)" test "$stopped" -eq 0
check "SIGTERM: the state database is removed" test ! -e "$state/state.lmdb"
check "fake-systemd leaked no fd" has "$events" "open-fds 0"
if [ -n "$VALGRIND" ] && grep -q "ERROR SUMMARY: [1-9]\|definitely lost: [1-9]\|FILE DESCRIPTORS: [0-9]* open" "$dlog"; then
	grep "ERROR SUMMARY\|definitely lost\|FILE DESCRIPTORS" "$dlog" | sed 's/^/# /'
fi
[ $failed -eq 0 ] || show "$events" "$dlog"

# ------------------------------------------------------------ FileDescriptorStoreMax=
# systemd refuses an FDSTORE=1 beyond the maximum and the sender cannot
# tell: the daemon must count and refuse the registration itself, also
# after a restart (when what it took back is already in the store).
f0=$failed
start max 2 || { not_ok "ioasd starts with FileDescriptorStoreMax=2"; show "$events" "$dlog"; }
ctl max-a 0 memfd 1M
ctl max-hello 0 hello
token=$(awk '$1 == "reclaim-token" { print $2 }' "$dir/max-hello.out")
ctl max-b 0 memfd 1M
ctl max-c 1 memfd 1M
check "FileDescriptorStoreMax=2: a third memory is refused by the daemon" \
	grep -q "ENOSPC" "$dir/max-c.err"
ctl max-unreg 0 unregister 2
wait_for "$slow" has "$events" "fdstoreremove ioasd-mem-2"
restart
ctl max-reclaim 0 --reclaim "$token" memfd 1M
ctl max-d 1 memfd 1M
check "after a restart (1 fd taken back + 1 new), the third is refused too" \
	grep -q "ENOSPC" "$dir/max-d.err"
check "systemd never had to refuse an fd the daemon believed stored" \
	eval '! grep -q "^fdstore-refused" "$events"'
stop
check "FileDescriptorStoreMax=2: clean exit, empty store" \
	eval 'test "$stopped" -eq 0 && test ! -s "$store"'
[ $failed -eq $f0 ] || show "$events" "$dlog"

# ------------------------------------------------------------ KillSignal=SIGUSR2
# The unit stops ioasd with SIGUSR2: it exits keeping every tenant. On
# `systemctl restart` systemd keeps the store (a job is queued) and the next
# daemon restores; on `systemctl stop` systemd releases the store (the
# kernel frees everything) and the next start says so and starts clean.
f0=$failed
start planned 16 SIGUSR2 || { not_ok "ioasd starts with KillSignal=SIGUSR2"; show "$events" "$dlog"; }
printf 'memfd 2M\nioas-alloc\nmap $ioas $mem --iova 0x100000\nhello\n' >"$dir/planned.batch"
ctl planned-setup 0 batch "$dir/planned.batch"
token=$(awk '$1 == "reclaim-token" { print $2 }' "$dir/planned-setup.out")
k=$(grep -c '^ready$' "$events")
kill -HUP "$fpid" # systemctl restart
wait_for "$slow" count_ge "$events" ready $((k + 1))
check "restart with SIGUSR2: the daemon exits 0, keeping everything" \
	eval 'has "$events" "exited 0" && grep -q "stopping for a restart: 1 tenants, 1 IOAS, 1 mappings" "$dlog"'
check "restart with SIGUSR2: nothing was removed from the store" \
	eval '! grep -q "^fdstoreremove" "$events" && has "$store" ioasd-mem-1'
check "restart with SIGUSR2: the next daemon restores the tenant" \
	grep -q "tenant t: 1 IOAS, 1 mappings, 1 memory regions" "$dlog"
ctl planned-reclaim 0 --reclaim "$token" unmap 1 0x100000 2M
check "restart with SIGUSR2: reclaimed, the mapping is there (unmapped 2 MiB)" \
	grep -q "unmapped 2 MiB" "$dir/planned-reclaim.out"
stop # systemctl stop: SIGUSR2, then systemd releases the store
check "stop with SIGUSR2: the daemon exits 0 and keeps the state database" \
	eval 'test "$stopped" -eq 0 && test -s "$state/state.lmdb"'
check "stop with SIGUSR2: systemd released the store, the daemon removed nothing" \
	eval 'has "$events" "released 1" && ! grep -q "^fdstoreremove" "$events"'
start planned2 16 SIGUSR2 "$state" ||
	{ not_ok "ioasd starts again on the same state directory"; show "$events" "$dlog"; }
check "start after a stop: the state without its fds is known for what it is" \
	grep -q "released with systemd's fd store (a stop, not a restart): starting clean" "$dlog"
ctl planned2 0 whoami
check "start after a stop: the tenant starts empty" \
	grep -Eq "^mappings +0 of" "$dir/planned2.out"
stop
check "start after a stop: clean exit" test "$stopped" -eq 0
[ $failed -eq $f0 ] || show "$events" "$dlog"

echo "1..$n"
echo "# $((n - failed)) passed, $failed failed"
[ $failed -eq 0 ]
