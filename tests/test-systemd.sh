#!/bin/bash
# systemd integration of a real ioasd: socket activation with
# systemd-socket-activate --seqpacket, the sd_notify protocol (READY,
# STATUS, WATCHDOG, RELOADING + MONOTONIC_USEC, STOPPING) seen by a
# NOTIFY_SOCKET listener, the capability sets of the running daemon from
# /proc/<pid>/status, and the unit's exposure score from
# systemd-analyze security --offline (printed; must be <= 2.0).
# TAP output. Needs IOASD_BIN, IOASCTL_BIN, IOASD_SRCDIR (make check).
set -u

IOASD=${IOASD_BIN:?IOASD_BIN not set}
IOASCTL=${IOASCTL_BIN:?IOASCTL_BIN not set}
builddir=$(cd "$(dirname "$IOASD")/.." && pwd)

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }

for tool in systemd-socket-activate systemd-analyze python3; do
	if ! command -v "$tool" >/dev/null; then
		echo "Bail out! $tool is missing (install systemd and python3)"
		exit 1
	fi
done

dir=$(mktemp -d /tmp/ioasd-systemd.XXXXXX)
chmod 0755 "$dir"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

wait_for() { # wait_for SECONDS CMD...: poll until CMD succeeds
	local deadline=$((SECONDS + $1)); shift
	until "$@"; do
		[ $SECONDS -ge $deadline ] && return 1
		sleep 0.05
	done
}

# ------------------------------------------------------------ socket activation
sock=$dir/activated.sock
systemd-socket-activate --seqpacket -l "$sock" \
	"$IOASD" --backend sim --no-policy --no-journal 2>"$dir/activated.log" &
pids+=($!)
wait_for 5 test -S "$sock"
out=$("$IOASCTL" --socket "$sock" hello 2>&1)
check "socket activation: a client is served on the passed socket" \
	grep -q "backend.*sim" <<<"$out"
check "socket activation: the daemon says it took systemd's socket" \
	wait_for 5 grep -q "socket-activated" "$dir/activated.log"
out=$("$IOASCTL" --socket "$sock" demo 2>&1)
check "socket activation: the demo runs through it" test $? -eq 0

# A stream socket is not what ioasd serves: it must refuse, not misbehave.
systemd-socket-activate -l "$dir/stream.sock" \
	"$IOASD" --backend sim --no-policy --no-journal 2>"$dir/stream.log" &
spid=$!
pids+=($spid)
wait_for 5 test -S "$dir/stream.sock"
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(sys.argv[1])' \
	"$dir/stream.sock" 2>/dev/null
check "socket activation: a SOCK_STREAM socket is refused with a reason" \
	wait_for 5 grep -q "not a listening SOCK_SEQPACKET" "$dir/stream.log"

# ------------------------------------------------------------ sd_notify
mkdir -p "$dir/policy.d"
printf '[tenant all]\nMatchCgroup=/\n' >"$dir/policy.d/50-all.conf"
cat >"$dir/listen.py" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(0.2)
end = time.time() + float(sys.argv[3])
with open(sys.argv[2], "w", buffering=1) as out:
    while time.time() < end:
        try:
            msg = s.recv(4096).decode()
        except socket.timeout:
            continue
        for line in msg.split("\n"):
            out.write(line + "\n")
            if line == "STOPPING=1":
                sys.exit(0)
PY
python3 "$dir/listen.py" "$dir/notify.sock" "$dir/notify.log" 20 &
lpid=$!
pids+=($lpid)
wait_for 5 test -S "$dir/notify.sock"
NOTIFY_SOCKET=$dir/notify.sock WATCHDOG_USEC=400000 \
	"$IOASD" --socket "$dir/n.sock" --backend sim --policy-dir "$dir/policy.d" \
	--no-journal 2>"$dir/notify-daemon.log" &
npid=$!
pids+=($npid)
check "notify: READY=1 once serving" wait_for 5 grep -qx "READY=1" "$dir/notify.log"
check "notify: STATUS= with counts" wait_for 5 grep -q "^STATUS=.*tenants.*connections.*IOAS.*mappings" "$dir/notify.log"
check "notify: WATCHDOG=1 within the watchdog interval" wait_for 2 grep -qx "WATCHDOG=1" "$dir/notify.log"
kill -HUP "$npid"
check "notify: RELOADING=1 on SIGHUP" wait_for 5 grep -qx "RELOADING=1" "$dir/notify.log"
check "notify: MONOTONIC_USEC= with the reload" wait_for 5 grep -q "^MONOTONIC_USEC=[0-9][0-9]*$" "$dir/notify.log"
check "notify: READY=1 again after the reload" \
	wait_for 5 test "$(grep -cx READY=1 "$dir/notify.log")" -ge 2
kill -TERM "$npid"
check "notify: STOPPING=1 on SIGTERM" wait_for 5 grep -qx "STOPPING=1" "$dir/notify.log"
wait "$npid"
check "notify: clean exit" test $? -eq 0

# ------------------------------------------------------------ capabilities
capline() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
"$IOASD" --socket "$dir/c.sock" --backend sim --no-policy --no-journal 2>"$dir/caps.log" &
cpid=$!
pids+=($cpid)
wait_for 5 test -S "$dir/c.sock"
wait_for 5 grep -q "privileges dropped" "$dir/caps.log"
for set in CapInh CapPrm CapEff CapAmb; do
	v=$(capline "$cpid" "$set")
	check "capabilities: $set of the running daemon is empty ($v)" test "$v" = 0000000000000000
done
if [ "$(id -u)" -eq 0 ]; then
	v=$(capline "$cpid" CapBnd)
	check "capabilities: the bounding set is empty ($v)" test "$v" = 0000000000000000
fi
check "capabilities: no_new_privs is set" test "$(capline "$cpid" NoNewPrivs)" = 1
kill -TERM "$cpid"
wait "$cpid"
if [ "$(id -u)" -eq 0 ]; then
	"$IOASD" --socket "$dir/u.sock" --backend sim --no-policy --no-journal \
		--user nobody 2>"$dir/user.log" &
	upid=$!
	pids+=($upid)
	wait_for 5 grep -q "privileges dropped" "$dir/user.log"
	check "--user nobody: the daemon runs as uid 65534" \
		test "$(awk '$1 == "Uid:" { print $2 $3 $4 $5 }' /proc/$upid/status)" = 65534655346553465534
	out=$("$IOASCTL" --socket "$dir/u.sock" demo 2>&1)
	check "--user nobody: it still serves (the demo runs)" test $? -eq 0
	kill -TERM "$upid"
	wait "$upid"
	"$IOASD" --socket "$dir/x.sock" --backend sim --no-policy --no-journal \
		--user no-such-user-ioasd 2>"$dir/nouser.log"
	check "--user with an unknown user: refuses to run, exit 1" test $? -eq 1
	check "--user with an unknown user: says why" grep -q "does not exist" "$dir/nouser.log"
else
	echo "# not root: bounding set and --user not checked"
fi

# Sizes on the command line: decimal or 0x-hex with K/M/G/T, nothing else
# (no octal, sign or spaces); a bad one is refused with exit 2 and why.
for bad in "010x" "+4M" " 4M" "-1" "4Q" "0x" "M" "16777216T"; do
	"$IOASD" --socket "$dir/size.sock" --backend sim --no-policy --no-journal \
		--max-pinned-bytes "$bad" >/dev/null 2>"$dir/size.log"
	rc=$?
	check "--max-pinned-bytes '$bad' is refused (exit $rc)" test $rc -eq 2
	check "--max-pinned-bytes '$bad': says why" grep -q "is not a size" "$dir/size.log"
done
# SIGUSR2 (stop for a restart) without --state-dir has nothing to keep:
# a clean stop, exit 0, and it says so.
"$IOASD" --socket "$dir/usr2.sock" --backend sim --no-policy --no-journal 2>"$dir/usr2.log" &
upid=$!
wait_for 5 test -S "$dir/usr2.sock"
kill -USR2 "$upid"
wait "$upid"
check "SIGUSR2 without --state-dir: a clean stop (exit 0)" test $? -eq 0
check "SIGUSR2 without --state-dir: says nothing can be kept" \
	grep -q "SIGUSR2 without --state-dir: nothing can be kept" "$dir/usr2.log"
for good in "010M:10 MiB" "0x10M:16 MiB" "0x800000:8 MiB"; do
	"$IOASD" --socket "$dir/size.sock" --backend sim --no-policy --no-journal \
		--max-pinned-bytes "${good%%:*}" 2>"$dir/size.log" &
	spid=$!
	wait_for 5 test -S "$dir/size.sock"
	out=$("$IOASCTL" --socket "$dir/size.sock" whoami 2>&1)
	check "--max-pinned-bytes ${good%%:*} is ${good#*:}" \
		grep -q "^pinned .* of ${good#*:}\$" <<<"$out"
	kill -TERM "$spid"
	wait "$spid"
done

# ------------------------------------------------------------ unit hardening
score_out=$(systemd-analyze security --offline=true "$builddir/systemd/ioasd.service" 2>&1)
score=$(sed -n 's/.*Overall exposure level for ioasd.service: \([0-9.]*\).*/\1/p' <<<"$score_out")
echo "# systemd-analyze security --offline=true systemd/ioasd.service: exposure $score (lower is better; target <= 2.0)"
check "unit hardening: exposure score $score <= 2.0" \
	python3 -c "import sys; sys.exit(0 if float('${score:-99}') <= 2.0 else 1)"
check "units: ioasd.socket listens SOCK_SEQPACKET" \
	grep -q "^ListenSequentialPacket=/run/ioasd/ioasd.sock" "$IOASD_SRCDIR/systemd/ioasd.socket"
# verify wants both units side by side and ExecStart= to exist: point it at
# the binary under test.
mkdir -p "$dir/units"
cp "$IOASD_SRCDIR/systemd/ioasd.socket" "$dir/units/"
sed "s|^ExecStart=.*|ExecStart=$IOASD|" "$builddir/systemd/ioasd.service" >"$dir/units/ioasd.service"
if systemd-analyze verify --man=no "$dir/units/ioasd.socket" "$dir/units/ioasd.service" \
	>"$dir/verify.log" 2>&1; then
	ok "units: systemd-analyze verify accepts ioasd.socket and ioasd.service"
else
	sed 's/^/# /' "$dir/verify.log"
	not_ok "units: systemd-analyze verify accepts ioasd.socket and ioasd.service"
fi

echo "1..$n"
echo "# $((n - failed)) passed, $failed failed"
[ $failed -eq 0 ]
