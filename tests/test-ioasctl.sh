#!/bin/bash
# SPDX-License-Identifier: MIT
#
# ioasctl against a real ioasd (sim backend): hello, demo, --json demo (each
# line must be a JSON object), batch (one connection, $variables, stop at the
# first error, -k; Batch requests, --atomic, --no-batch, a FIFO), stats and whoami as root and not (daemon-wide figures),
# and the exit status and message of each error class.
#
# Needs IOASD_BIN and IOASCTL_BIN (set by 'make check'); exit 77 (skip)
# without them. Output is TAP-like; the exit status is what counts.
#
# IOASD_TEST_BACKEND (default sim) is the daemon's backend, as for the C
# tests (tests/harness.h). The script keeps to POSIX sh plus "local", so
# busybox sh runs it too: the real-kernel guest does, with
# IOASD_TEST_BACKEND=kernel (tests/vm/guest/50-daemon-tests.sh).
set -u

IOASD=${IOASD_BIN:-}
IOASCTL=${IOASCTL_BIN:-}
backend=${IOASD_TEST_BACKEND:-sim}
if [ -z "$IOASD" ] || [ -z "$IOASCTL" ] || [ ! -x "$IOASD" ] || [ ! -x "$IOASCTL" ]; then
	echo "# IOASD_BIN / IOASCTL_BIN not set or not executable: skipping"
	exit 77
fi
# libtool wrapper scripts run the real binary; that is fine for us.

have_python=false
if command -v python3 >/dev/null 2>&1; then
	have_python=true
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/ioasctl-test.XXXXXX")
chmod 0755 "$dir"
sock=$dir/ioasd.sock
daemon_pid=
failures=0
n=0

cleanup() {
	if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
		kill -KILL "$daemon_pid" 2>/dev/null
		wait "$daemon_pid" 2>/dev/null
	fi
	rm -rf "$dir"
}
trap cleanup EXIT

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}

not_ok() {
	n=$((n + 1))
	failures=$((failures + 1))
	echo "not ok $n - $1"
	shift
	for f in "$@"; do
		if [ -f "$f" ]; then
			echo "# --- $f"
			sed 's/^/# /' "$f"
		fi
	done
}

# run NAME EXPECTED_STATUS ARGS...: run ioasctl, keep stdout/stderr in
# $dir/NAME.out / .err, check the exit status.
run() {
	local name=$1 want=$2 got
	shift 2
	"$IOASCTL" --socket "$sock" "$@" >"$dir/$name.out" 2>"$dir/$name.err"
	got=$?
	if [ "$got" -eq "$want" ]; then
		return 0
	fi
	echo "# $name: exit status $got, expected $want"
	return 1
}

# check NAME DESCRIPTION COMMAND...: a TAP line from a shell condition.
check() {
	local name=$1 desc=$2
	shift 2
	if "$@"; then
		ok "$desc"
	else
		not_ok "$desc" "$dir/$name.out" "$dir/$name.err"
	fi
}

grep_q() { grep -q -- "$1" "$2"; }

# Every line of a file is a JSON object; extra python assertions in $2
# run with "lines" bound to the parsed list.
json_lines() {
	local file=$1 expr=${2:-True}
	if ! $have_python; then
		echo "# no python3: $file not checked as JSON lines"
		return 0
	fi
	python3 - "$file" "$expr" <<'EOF'
import json, sys
lines = []
with open(sys.argv[1]) as f:
    for i, line in enumerate(f, 1):
        try:
            obj = json.loads(line)
        except ValueError as e:
            sys.exit("line %d is not JSON: %s: %r" % (i, e, line))
        if not isinstance(obj, dict):
            sys.exit("line %d is not a JSON object" % i)
        lines.append(obj)
if not lines:
    sys.exit("no output")
if not eval(sys.argv[2], {"lines": lines}):
    sys.exit("assertion failed: " + sys.argv[2])
EOF
}

# ---------------------------------------------------------------- daemon
echo "# starting $IOASD on $sock"
"$IOASD" --socket "$sock" --backend "$backend" --socket-mode 0666 --no-policy --no-journal -v 2>"$dir/daemon.log" &
daemon_pid=$!
ready=false
for _ in $(seq 1 500); do
	if "$IOASCTL" --socket "$sock" hello >/dev/null 2>&1; then
		ready=true
		break
	fi
	kill -0 "$daemon_pid" 2>/dev/null || break
	sleep 0.02
done
if ! $ready; then
	echo "not ok 1 - daemon did not come up"
	sed 's/^/# /' "$dir/daemon.log"
	exit 1
fi

# ---------------------------------------------------------------- hello
check hello "hello exits 0" run hello 0 hello
check hello "hello reports the $backend backend" grep_q "^backend  *$backend$" "$dir/hello.out"
# The kernel the backend is or models: THP as this machine's kernel (the
# sim's default follows it; the kernel backend is it).
if [ -d /sys/kernel/mm/transparent_hugepage ]; then thp=yes; else thp=no; fi
check hello "hello reports the kernel model (thp=$thp)" \
	grep_q "^model  *thp=$thp .*page_size=[0-9][0-9]*$" "$dir/hello.out"

check hello-json "hello --json exits 0" run hello-json 0 --json hello
check hello-json "hello --json" json_lines "$dir/hello-json.out" \
	'lines[0]["backend"] == "'"$backend"'" and lines[0]["version"] == 1 and lines[0]["max_fds"] >= 1 and lines[0]["backend_description"].startswith("'"$backend thp=$thp "'")'

# IOASD_SOCKET overrides the default socket.
IOASD_SOCKET=$sock "$IOASCTL" hello >"$dir/env.out" 2>"$dir/env.err"
check env "IOASD_SOCKET selects the socket" test $? -eq 0

# A client name is the client's free text: with a newline and "<2>" in it,
# a raw log line would end there and the journal would read a forged line
# of priority 2. The daemon (-v) logs it escaped, on one line.
forged=$(printf 'x\n<2>forged\033[2J')
check forge "hello --name with a newline exits 0" run forge 0 --name "$forged" hello
check forge "no forged log line" sh -c "! grep -q '^<2>forged' '$dir/daemon.log'"
check forge "the client name is logged escaped" \
	grep -qF 'hello from "x\n<2>forged\x1b[2J"' "$dir/daemon.log"

# ---------------------------------------------------------------- demo
if run demo 0 demo; then
	check demo "demo runs every step" test "$(wc -l <"$dir/demo.out")" -eq 16
	for op in hello ioas-alloc memfd register map copy iova-ranges stats unmap unmap-all ioas-destroy unregister; do
		grep -q " $op " "$dir/demo.out" || { not_ok "demo shows $op" "$dir/demo.out"; continue; }
	done
	check demo "demo shows the daemon-chosen and the fixed IOVA" \
		grep_q "chosen_by=daemon" "$dir/demo.out"
else
	not_ok "demo exits 0" "$dir/demo.out" "$dir/demo.err"
fi

if run demo-json 0 --json demo; then
	check demo-json "demo --json is JSON lines, steps in order" json_lines "$dir/demo-json.out" \
		'[l["step"] for l in lines] == list(range(1, 17)) and [l["op"] for l in lines] == ["hello", "ioas-alloc", "ioas-alloc", "memfd", "register", "map", "map", "copy", "iova-ranges", "stats", "unmap", "unmap-all", "unmap-all", "ioas-destroy", "ioas-destroy", "unregister"] and lines[9]["mappings"] == 3 and lines[10]["unmapped"] == lines[6]["length"]'
else
	not_ok "demo --json exits 0" "$dir/demo-json.out" "$dir/demo-json.err"
fi

# ---------------------------------------------------------------- batch
cat >"$dir/batch.txt" <<'EOF'
# two IOASes, one region, map (fixed and automatic), copy, unmap
ioas-alloc
ioas-alloc
memfd 1M
map 1 $mem --iova 0x1000000 --length 64K
map 1 1 --offset 64K --length 64K --read
copy 1 0x1000000 64K 2
iova-ranges 1
huge-pages 1 off
huge-pages 1
stats
unmap 1 0x1000000 64K
unmap-all 2
unmap 1 --all
ioas-destroy 2
unregister 1
EOF
if run batch 0 --json batch "$dir/batch.txt"; then
	check batch "batch runs on one connection" json_lines "$dir/batch.out" \
		'len(lines) == 15 and lines[1]["ioas"] == 2 and lines[2]["memory"] == 1 and lines[3]["iova"] == 0x1000000 and lines[4]["flags"] == 4 and lines[5]["dst_ioas"] == 2 and lines[8]["huge_pages"] is False and lines[9]["mappings"] == 3 and lines[9]["pinned_bytes"] == 128 * 1024 and lines[10]["unmapped"] == 65536 and lines[11]["unmapped"] == 65536 and lines[12]["unmapped"] == 65536'
else
	not_ok "batch exits 0" "$dir/batch.out" "$dir/batch.err"
fi

# Batch from stdin, text output.
printf 'ioas-alloc\nioas-alloc\nstats\n' | "$IOASCTL" --socket "$sock" batch - >"$dir/stdin.out" 2>"$dir/stdin.err"
check stdin "batch - reads stdin" test $? -eq 0
check stdin "batch - keeps handles across lines" grep_q "^ioas 2$" "$dir/stdin.out"

# ---------------------------------------------------------------- batch requests
# Consecutive commands that can go in a batch are sent as Batch requests:
# the audit trail (one record per operation) gives them one batch id and
# their places in it; the output is what one by one prints.
: >"$dir/br.jsonl"
chmod 0600 "$dir/br.jsonl"
"$IOASD" --socket "$dir/br.sock" --backend "$backend" --socket-mode 0666 --no-policy \
	--no-journal --audit-log "$dir/br.jsonl" 2>"$dir/br.log" &
br_pid=$!
for _ in $(seq 1 250); do
	"$IOASCTL" --socket "$dir/br.sock" hello >/dev/null 2>&1 && break
	sleep 0.02
done
# run_br NAME EXPECTED_STATUS ARGS...: run, on the daemon with the audit log.
run_br() {
	local sock=$dir/br.sock
	run "$@"
}
printf '%s\n' 'ioas-alloc' 'ioas-alloc' 'memfd 64K' \
	'map 1 $mem --iova 0x100000 --length 4K' 'map 1 $mem --iova 0x200000 --length 4K' \
	'copy 1 0x100000 4K 2' 'map 2 $mem --iova $iova --length 4K' 'stats' >"$dir/br.txt"
check br "batch requests: exit status 1 (the last map overlaps the copy)" \
	run_br br 1 --json batch "$dir/br.txt"
check br "batch requests: the output of one by one" json_lines "$dir/br.out" \
	'len(lines) == 7 and lines[1]["ioas"] == 2 and lines[3]["iova"] == 0x100000 and lines[4]["iova"] == 0x200000 and lines[5]["dst_ioas"] == 2 and lines[6]["error"] == "EEXIST" and lines[6]["line"] == 7'
# The two allocs are one batch, the maps and the copy another; the map
# naming $iova (set by the copy) waited for it: a batch of its own.
check br "batch requests: grouped as the audit trail shows" json_lines "$dir/br.jsonl" \
	'[(l["op"], l.get("batch_index")) for l in lines if l["kind"] == "decision"] == [("IoasAlloc", 0), ("IoasAlloc", 1), ("RegisterMemory", None), ("Map", 0), ("Map", 1), ("Copy", 2), ("Map", 0)] and len(set(l["batch"] for l in lines if l["op"] in ("Map", "Copy"))) == 2'

# --atomic: each group all or nothing. The third map fails: the two before
# it are undone (ECANCELED, "undone"), and the batch stops; with -k it goes
# on (stats: nothing mapped).
printf '%s\n' 'ioas-alloc' 'memfd 64K' 'map 1 1 --iova 0x100000 --length 4K' \
	'map 1 1 --iova 0x200000 --length 4K' 'map 1 1 --iova 0x100000 --length 4K' \
	'stats' >"$dir/atomic.txt"
check atomic "batch --atomic: exit status 1" run_br atomic 1 batch --atomic "$dir/atomic.txt"
check atomic "batch --atomic: the failure named" grep_q "line 5: map: .*EEXIST" "$dir/atomic.err"
check atomic "batch --atomic: what ran before it undone" \
	sh -c "grep -q 'line 3: map: .*ECANCELED.*undone' '$dir/atomic.err' && grep -q 'line 4: map: .*ECANCELED.*undone' '$dir/atomic.err'"
check atomic "batch --atomic: stops there" sh -c "! grep -q '^mappings' '$dir/atomic.out'"
check atomic "batch --atomic: the undoing audited" \
	test "$(grep -c '"rollback":true' "$dir/br.jsonl")" -eq 2
check atomic-k "batch --atomic -k: exit status 1" run_br atomic-k 1 -k batch --atomic "$dir/atomic.txt"
check atomic-k "batch --atomic -k: goes on, nothing left mapped" \
	grep_q "^mappings  *0$" "$dir/atomic-k.out"
# A command the daemon cannot undo runs alone between groups.
printf '%s\n' 'ioas-alloc' 'memfd 64K' 'map 1 1 --iova 0x100000 --length 4K' \
	'unmap 1 0x100000 4K' 'map 1 1 --iova 0x100000 --length 4K' 'unmap-all 1' \
	'ioas-destroy 1' >"$dir/atomic2.txt"
check atomic2 "batch --atomic with unmap and destroy: exit status 0" \
	run_br atomic2 0 batch --atomic "$dir/atomic2.txt"
check atomic2 "batch --atomic with unmap and destroy: every line answered" \
	test "$(wc -l <"$dir/atomic2.out")" -eq 7
# --no-batch: one request per command (no batch in the audit records).
before=$(grep -c '"batch":' "$dir/br.jsonl")
check nobatch "batch --no-batch: exit status 0" \
	run_br nobatch 0 batch --no-batch "$dir/atomic2.txt"
check nobatch "batch --no-batch: no Batch request" \
	test "$(grep -c '"batch":' "$dir/br.jsonl")" -eq "$before"
check modes "batch with two modes: usage error" \
	run_br modes 2 batch --atomic --no-batch "$dir/atomic2.txt"
kill -TERM "$br_pid"
wait "$br_pid"

# A batch fed by a FIFO, line by line, each written once the one before it
# was answered: what waits is sent before ioasctl waits for more input.
mkfifo "$dir/conv.fifo"
"$IOASCTL" --socket "$sock" batch "$dir/conv.fifo" >"$dir/conv.out" 2>"$dir/conv.err" &
conv_pid=$!
exec 3>"$dir/conv.fifo"
echo ioas-alloc >&3
answered=false
for _ in $(seq 1 250); do
	if grep -q '^ioas 1$' "$dir/conv.out"; then
		answered=true
		break
	fi
	sleep 0.02
done
check conv "batch from a FIFO: a line is answered before the next comes" $answered
echo "ioas-destroy 1" >&3
exec 3>&-
wait "$conv_pid"
check conv "batch from a FIFO: exit status 0" test $? -eq 0
check conv "batch from a FIFO: the second line answered" grep_q "^destroyed ioas 1$" "$dir/conv.out"

# ---------------------------------------------------------------- errors
# A refused request: exit 1, errno name and the daemon's reason on stderr.
check enoent "refusal: exit status 1" run enoent 1 ioas-destroy 5
check enoent "refusal names the errno" grep_q "ENOENT" "$dir/enoent.err"
check enoent "refusal carries the daemon's reason" grep_q "handle 5" "$dir/enoent.err"

check enoent-json "refusal --json: exit status 1" run enoent-json 1 --json ioas-destroy 5
check enoent-json "refusal --json: an error object on stdout" json_lines "$dir/enoent-json.out" \
	'lines[0]["error"] == "ENOENT" and lines[0]["errno"] == 2 and lines[0]["message"] != ""'

# Stop at the first error: the fixed map overlaps (EEXIST); stats never runs.
cat >"$dir/bad.txt" <<'EOF'
ioas-alloc
memfd 64K
map 1 1 --iova 0x100000
map 1 1 --iova 0x100000
stats
EOF
check bad "batch stops at the first error (exit 1)" run bad 1 batch "$dir/bad.txt"
check bad "batch error names line and errno" grep_q "line 4: map: .*EEXIST" "$dir/bad.err"
check bad "batch did not run past the error" sh -c "! grep -q '^pinned' '$dir/bad.out'"

check bad-k "batch -k: exit status 1" run bad-k 1 -k batch "$dir/bad.txt"
check bad-k "batch -k goes on after an error (still exit 1)" grep_q "^pinned" "$dir/bad-k.out"

# Unknown flag bits: EOPNOTSUPP passes through.
printf 'ioas-alloc\nmemfd 64K\nmap 1 1 --flags 0xe\n' >"$dir/flags.txt"
check flags "unknown map flags: exit status 1" run flags 1 batch "$dir/flags.txt"
check flags "unknown map flags: EOPNOTSUPP" grep_q "EOPNOTSUPP" "$dir/flags.err"

# Devices: a --no-policy tenant may not attach one (EPERM, and why); a
# malformed sim: device is a usage error.
printf 'ioas-alloc\nattach-device $ioas sim:1234:11e8@0000:00:03.0\n' >"$dir/dev.txt"
check dev "attach-device under --no-policy: exit status 1" run dev 1 batch "$dir/dev.txt"
check dev "attach-device under --no-policy: EPERM, AllowDevice" grep_q "EPERM.*AllowDevice" "$dir/dev.err"
check dev2 "attach-device with a bad sim device: exit status 2" run dev2 2 attach-device 1 sim:xyz
check devs "devices: none attached" run devs 0 devices

# ---------------------------------------------------------------- hwpts
# Hardware page tables (sim: a "+mock" device, the one that nests), on a
# daemon whose policy gives this uid a device, nesting and the selftest
# data type: every command once, in one batch, as JSON lines.
if [ "$backend" = sim ]; then
	mkdir -p "$dir/hwpt.d"
	printf '[tenant vmm]\nMatchUser=%s\nAllowDevice=1234:11e8\nAllowNesting=yes\nAllowedHwptData=selftest\n' \
		"$(id -u)" >"$dir/hwpt.d/50-vmm.conf"
	"$IOASD" --socket "$dir/hwpt.sock" --backend sim --socket-mode 0666 \
		--policy-dir "$dir/hwpt.d" --no-journal 2>"$dir/hwpt.log" &
	hwpt_pid=$!
	for _ in $(seq 1 250); do
		"$IOASCTL" --socket "$dir/hwpt.sock" hello >/dev/null 2>&1 && break
		sleep 0.02
	done
	cat >"$dir/hwpt.txt" <<'EOF'
ioas-alloc
attach-device $ioas sim:1234:11e8@0000:00:03.0+mock
hw-info $device
hwpt-alloc $device $ioas --nest-parent
hwpt-alloc-nested $device $hwpt --data-type selftest --data efbead0b
hwpt-invalidate $hwpt --data-type selftest --entry-len 8 --entries 0100000000000000
device-replace $device --hwpt $hwpt
hwpts
device-replace $device --ioas $ioas
hwpt-destroy $hwpt
EOF
	run_hwpt() {
		local sock=$dir/hwpt.sock
		run "$@"
	}
	check hwpt "hwpt commands: exit status 0" run_hwpt hwpt 0 --json batch "$dir/hwpt.txt"
	check hwpt "hwpt commands: what each answered" json_lines "$dir/hwpt.out" \
		'[l["cmd"] for l in lines] == ["ioas-alloc", "attach-device", "hw-info", "hwpt-alloc", "hwpt-alloc-nested", "hwpt-invalidate", "device-replace", "hwpt", "hwpt", "device-replace", "hwpt-destroy"] and lines[2]["type"] == 0xfeedbeef and lines[2]["data"] == "00000000efbeadde" and lines[4]["hwpt"] == 2 and lines[5]["entries_done"] == 1 and lines[7]["parent"] == 1 and lines[7]["devices"] == 1 and lines[8]["children"] == 1'
	# The parent is held by its child: EBUSY, and how far an invalidation got.
	printf 'ioas-alloc\nattach-device $ioas sim:1234:11e8@0000:00:03.0+mock\nhwpt-alloc $device $ioas --nest-parent\nhwpt-alloc-nested $device $hwpt --data-type selftest --data 01000000\nhwpt-invalidate $hwpt --data-type selftest --entry-len 8 --entries 00000000000000000000000009000000\nhwpt-destroy 1\n' >"$dir/hwpt2.txt"
	check hwpt2 "hwpt refusals: exit status 1" run_hwpt hwpt2 1 -k batch "$dir/hwpt2.txt"
	check hwpt2 "hwpt-invalidate: EINVAL and 1 of 2 entries done" \
		sh -c "grep -q 'handled 1 of 2 entries' '$dir/hwpt2.err' && grep -q 'line 5: hwpt-invalidate: .*EINVAL' '$dir/hwpt2.err'"
	check hwpt2 "hwpt-destroy of a parent in use: EBUSY" grep_q "line 6: hwpt-destroy: .*EBUSY" "$dir/hwpt2.err"
	check hwpt3 "hwpt-alloc-nested without --data: exit status 2" \
		run_hwpt hwpt3 2 hwpt-alloc-nested 1 1 --data-type selftest
	check hwpt4 "hwpt-invalidate with entries not whole: exit status 2" \
		run_hwpt hwpt4 2 hwpt-invalidate 1 --data-type selftest --entry-len 8 --entries 0100
	# A tenant without a policy section for devices: EPERM, AllowDevice.
	check hwpt5 "hw-info under --no-policy: EPERM" run hwpt5 1 hw-info 1
	check hwpt5 "hw-info under --no-policy: why" grep_q "EPERM.*AllowDevice" "$dir/hwpt5.err"
	kill -TERM "$hwpt_pid"
	wait "$hwpt_pid"

	# reclaim: one batch rides out a SIGKILL and a restart (--state-dir),
	# its HWPTs and the device on the nested one restored, same handles.
	rargs="--socket $dir/hwpt.sock --backend sim --socket-mode 0666 --policy-dir $dir/hwpt.d --no-journal --state-dir $dir/rstate --restart-grace 30"
	start_rdaemon() {
		# shellcheck disable=SC2086
		"$IOASD" $rargs 2>"$dir/reclaim.log" &
		r_pid=$!
		for _ in $(seq 1 250); do
			grep -q 'serving on' "$dir/reclaim.log" 2>/dev/null && break
			sleep 0.02
		done
	}
	start_rdaemon
	cat >"$dir/reclaim.txt" <<'EOF'
ioas-alloc
attach-device $ioas sim:1234:11e8@0000:00:03.0+mock
hwpt-alloc $device $ioas --nest-parent
hwpt-alloc-nested $device $hwpt --data-type selftest --data efbead0b
device-replace $device --hwpt $hwpt
reclaim --timeout 20000
hwpts
device-replace $device --ioas $ioas
hwpt-destroy $hwpt
hwpt-destroy 1
EOF
	"$IOASCTL" --socket "$dir/hwpt.sock" batch "$dir/reclaim.txt" \
		>"$dir/reclaim.out" 2>"$dir/reclaim.err" &
	c_pid=$!
	for _ in $(seq 1 250); do
		grep -q '^device 1 now on hwpt 2$' "$dir/reclaim.out" 2>/dev/null && break
		sleep 0.02
	done
	kill -KILL "$r_pid"
	wait "$r_pid" 2>/dev/null
	start_rdaemon
	wait "$c_pid"
	check reclaim "reclaim: the batch went on through a restart (exit 0)" test $? -eq 0
	check reclaim "reclaim: the tenant's objects came back" \
		grep_q '^reclaimed: objects restored after a daemon restart; 0 vEVENTQ fd(s) kept$' "$dir/reclaim.out"
	check reclaim "reclaim: the nested HWPT, the device on it, after the restart" \
		grep_q '^hwpt 2: nested in hwpt 1 (ioas 1), .*, 1 device(s) on it$' "$dir/reclaim.out"
	check reclaim "reclaim: moved off, then both destroyed through the new daemon" \
		sh -c "grep -q '^destroyed hwpt 2$' '$dir/reclaim.out' && grep -q '^destroyed hwpt 1$' '$dir/reclaim.out'"
	kill -TERM "$r_pid"
	wait "$r_pid"
else
	echo "# kernel backend: no sim device for the hwpt commands here"
fi

# Usage errors: exit 2.
check usage1 "missing arguments: exit status 2" run usage1 2 map 1
check usage2 "unknown command: exit status 2" run usage2 2 frobnicate
check usage2 "unknown command: exit status 2" grep_q "unknown command" "$dir/usage2.err"
check usage3 "bad size: exit status 2" run usage3 2 map 1 1 --length 12Q

# Cannot connect: exit 3.
"$IOASCTL" --socket "$dir/nonexistent.sock" hello >"$dir/noconn.out" 2>"$dir/noconn.err"
check noconn "cannot connect: exit status 3" test $? -eq 3

# Local failure: exit 5.
check local "missing batch file: exit status 5" run local 5 batch "$dir/no-such-batch-file"

# ---------------------------------------------------------------- stats
# Daemon-wide figures are shown to root (and to Admin=yes tenants, which
# --no-policy has none of); everyone else sees its own and a line saying so.
check stats "stats: exit status 0" run stats 0 stats
check stats-json "stats --json: exit status 0" run stats-json 0 --json stats
check whoami "whoami: exit status 0" run whoami 0 whoami
check whoami-json "whoami --json: exit status 0" run whoami-json 0 --json whoami
if [ "$(id -u)" -eq 0 ]; then
	check stats "stats as root: daemon-wide figures" \
		grep_q "^total-pinned .*(daemon-wide)$" "$dir/stats.out"
	check stats "stats as root: connections and the pool" \
		sh -c "grep -q '^connections  *1 (daemon-wide)$' '$dir/stats.out' && grep -q '^ioas-pool ' '$dir/stats.out'"
	check stats-json "stats --json as root: daemon_wide true, totals there" \
		sh -c "grep -q '\"daemon_wide\":true,\"connections\":1,\"total_ioas\":' '$dir/stats-json.out'"
	check whoami "whoami as root: its own and daemon-wide stats" \
		grep_q "^stats  *its own and daemon-wide figures" "$dir/whoami.out"
	check whoami-json "whoami --json as root: daemon_wide_stats true" \
		grep_q '"daemon_wide_stats":true' "$dir/whoami-json.out"
else
	check stats "stats not as root (--no-policy): daemon-wide not visible" \
		grep_q "^daemon-wide  *not visible to this tenant" "$dir/stats.out"
fi

# ---------------------------------------------------------------- unprivileged
# util-linux setpriv, or the guest's vm-runas (busybox's setpriv cannot
# change uids).
runas=
if [ "$(id -u)" -eq 0 ]; then
	if command -v vm-runas >/dev/null 2>&1; then
		runas="vm-runas 65534 65534"
	elif setpriv --help 2>&1 | grep -q -- --reuid; then
		runas="setpriv --reuid 65534 --regid 65534 --clear-groups"
	fi
fi
if [ -n "$runas" ]; then
	$runas "$IOASCTL" --socket "$sock" demo >"$dir/nobody.out" 2>"$dir/nobody.err"
	check nobody "demo as uid 65534" test $? -eq 0
	# --no-policy, not root: its own figures, none of the daemon's.
	$runas "$IOASCTL" --socket "$sock" stats >"$dir/nobody-stats.out" 2>"$dir/nobody-stats.err"
	check nobody-stats "stats as uid 65534: exit status 0" test $? -eq 0
	check nobody-stats "stats as uid 65534: its own figures" \
		grep_q "^pinned  *0$" "$dir/nobody-stats.out"
	check nobody-stats "stats as uid 65534: daemon-wide not visible" \
		grep_q "^daemon-wide  *not visible to this tenant" "$dir/nobody-stats.out"
	check nobody-stats "stats as uid 65534: no daemon-wide figure" \
		sh -c "! grep -Eq '^(connections|total-ioas|total-pinned|tenants|ioas-pool) ' '$dir/nobody-stats.out'"
	$runas "$IOASCTL" --socket "$sock" --json stats >"$dir/nobody-json.out" 2>"$dir/nobody-json.err"
	check nobody-json "stats --json as uid 65534: exit status 0" test $? -eq 0
	check nobody-json "stats --json as uid 65534: daemon_wide false, no totals" \
		sh -c "grep -q '\"pinned_bytes\":0,\"daemon_wide\":false}' '$dir/nobody-json.out' && ! grep -Eq 'total_|connections|tenants|pool_' '$dir/nobody-json.out'"
	check nobody-json "stats --json as uid 65534 is JSON" json_lines "$dir/nobody-json.out" \
		'lines[0]["daemon_wide"] is False and "total_pinned_bytes" not in lines[0]'
	$runas "$IOASCTL" --socket "$sock" whoami >"$dir/nobody-who.out" 2>"$dir/nobody-who.err"
	check nobody-who "whoami as uid 65534: own stats only" \
		grep_q "^stats  *its own figures only" "$dir/nobody-who.out"
elif [ "$(id -u)" -eq 0 ]; then
	echo "# no way to change uids here (setpriv --reuid, vm-runas): demo as uid 65534 not run"
fi

# ---------------------------------------------------------------- audit counters
# stats shows the audit trail's counters: with a burst of 1, two of three
# refusals are held back.
"$IOASD" --socket "$dir/rl.sock" --backend "$backend" --socket-mode 0666 --no-policy \
	--no-journal --audit-rate-burst 1 --audit-rate-interval 600 2>"$dir/rl.log" &
rl_pid=$!
for _ in $(seq 1 250); do
	"$IOASCTL" --socket "$dir/rl.sock" hello >/dev/null 2>&1 && break
	sleep 0.02
done
printf 'ioas-destroy 7\nioas-destroy 7\nioas-destroy 7\nstats\n' >"$dir/rl.txt"
"$IOASCTL" --socket "$dir/rl.sock" -k batch "$dir/rl.txt" >"$dir/rl.out" 2>"$dir/rl.err"
check rl "stats: refusals held back by the rate limit" grep_q "^audit-suppressed  *2 " "$dir/rl.out"
check rl "stats: records dropped by a sink" grep_q "^audit-dropped  *0 " "$dir/rl.out"
check rl "stats: rate-limit evictions" grep_q "^audit-evicted  *0 " "$dir/rl.out"
"$IOASCTL" --socket "$dir/rl.sock" --json stats >"$dir/rl-json.out" 2>"$dir/rl-json.err"
check rl-json "stats --json: the audit counters" json_lines "$dir/rl-json.out" \
	'lines[0]["audit_suppressed"] == 2 and lines[0]["audit_dropped"] == 0 and lines[0]["audit_evicted"] == 0'
kill -TERM "$rl_pid"
wait "$rl_pid"
check rl "the rate limit's summary is logged at the stop" \
	grep_q "2 refusals of uid $(id -u) suppressed" "$dir/rl.log"

# ---------------------------------------------------------------- audit log
# A name planted where others can write (a symlink to a file of someone
# else's) must not make the daemon append to that file: it refuses to
# start and says which file and why.
# audit_refused NAME PATH REASON: the daemon exits 1 naming PATH and REASON.
audit_refused() {
	local name=$1 path=$2 reason=$3 status pid
	"$IOASD" --socket "$dir/$name.sock" --backend "$backend" --no-policy --no-journal \
		--audit-log "$path" >"$dir/$name.out" 2>"$dir/$name.err" &
	pid=$!
	# Bounded: a daemon that accepted the file would serve forever.
	for _ in $(seq 1 250); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.02
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		echo "# $name: the daemon started with --audit-log $path"
	fi
	wait "$pid"
	status=$?
	check "$name" "audit log $name: refused at start (exit 1)" test "$status" -eq 1
	check "$name" "audit log $name: the message names the file and the reason" \
		grep -qF "cannot open the audit log: $path $reason" "$dir/$name.err"
}
: >"$dir/precious"
ln -s "$dir/precious" "$dir/audit-link.jsonl"
audit_refused symlink "$dir/audit-link.jsonl" "is a symbolic link"
check symlink "audit log symlink: its target is untouched" test ! -s "$dir/precious"
ln -s "$dir/absent" "$dir/audit-dangling.jsonl"
audit_refused dangling "$dir/audit-dangling.jsonl" "is a symbolic link"
check dangling "audit log dangling symlink: nothing created" test ! -e "$dir/absent"
: >"$dir/audit-open.jsonl"
chmod 0666 "$dir/audit-open.jsonl"
audit_refused writable "$dir/audit-open.jsonl" "is writable by its group or others"
if [ "$(id -u)" -eq 0 ]; then
	: >"$dir/audit-nobody.jsonl"
	chmod 0600 "$dir/audit-nobody.jsonl"
	chown 65534 "$dir/audit-nobody.jsonl"
	audit_refused foreign "$dir/audit-nobody.jsonl" "belongs to uid 65534"
else
	echo "# not root: an audit log owned by another uid not checked"
fi

# ---------------------------------------------------------------- shutdown
kill -TERM "$daemon_pid"
wait "$daemon_pid"
status=$?
daemon_pid=
if [ "$status" -eq 0 ]; then
	ok "daemon exits 0 on SIGTERM"
else
	not_ok "daemon exits 0 on SIGTERM (got $status)" "$dir/daemon.log"
fi

echo "1..$n"
if [ "$failures" -ne 0 ]; then
	echo "# $failures failure(s); daemon log:"
	sed 's/^/# /' "$dir/daemon.log"
	exit 1
fi
exit 0
