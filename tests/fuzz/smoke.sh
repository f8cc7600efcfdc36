#!/bin/sh
# make fuzz-smoke: run each fuzz target for SECONDS on a scratch copy of its
# seed corpus (libFuzzer adds new inputs to its first corpus directory; the
# committed seeds stay untouched) and print executions and execs/s.
# Usage: smoke.sh SECONDS CORPUS_DIR TARGET...
set -eu
secs=$1; corpus=$2; shift 2
work=$(mktemp -d "${TMPDIR:-/tmp}/ioasd-fuzz-smoke.XXXXXX")
trap 'rm -rf "$work"' EXIT
status=0
for t in "$@"; do
	name=$(basename "$t"); name=${name#fuzz-}
	mkdir -p "$work/$name"
	log="$work/$name.log"
	# A target's dictionary, when it has one: corpus/NAME.dict.
	dict=
	[ -f "$corpus/$name.dict" ] && dict="-dict=$corpus/$name.dict"
	if "$t" $dict -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$work/$name-" \
		"$work/$name" "$corpus/$name" >"$log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
		cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
		echo "fuzz-smoke: $name: ${execs:-?} execs in ${secs}s (${rate:-?}/s), $cov, corpus $(ls "$work/$name" | wc -l) new"
	else
		echo "fuzz-smoke: $name: FAILED" >&2
		tail -60 "$log" >&2
		for a in "$work/$name"-*; do
			[ -f "$a" ] || continue
			cp "$a" . && echo "fuzz-smoke: reproducer kept as ./$(basename "$a")" >&2
		done
		status=1
	fi
done
exit $status
