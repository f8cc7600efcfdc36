/* SPDX-License-Identifier: MIT */
/*
 * ioasd-bench's parts: the daemon it starts (ioasd-bench.c), the hot-path
 * table (bench-hotpath.c) and the instruction count under callgrind
 * (bench-callgrind.c).
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "iommu/backend.h"
#include "tests/harness.h"

#define BENCH_WARMUP 20
#define BENCH_CPU_NONE (-2)

struct bench {
	const char *daemon;
	const char *backend_arg;
	enum backend_kind kind;
	const char *device;
	size_t iterations;
	double max_seconds;
	bool json;
	/* The hot path's latency rows run with this process, its echo child
	 * and the daemon on this one CPU: -1 the first this process may use,
	 * BENCH_CPU_NONE not pinned. */
	int cpu;

	struct harness_daemon d;
	char socket[PATH_MAX];
	pid_t pid;
};

/* Latency figures of one series of samples. */
struct bench_lat {
	size_t n;           /* samples measured */
	double seconds;     /* wall time of the measured samples */
	uint64_t p50, p90, p99, max; /* ns */
};

uint64_t bench_now_ns(void);
/* Sorts lat[0..n). */
void bench_summarize(struct bench_lat *s, uint64_t *lat, size_t n,
		     uint64_t total_ns);

struct ioas_client;
/* A new IOAS and size bytes of a fresh memfd registered, what every series
 * maps. 0 or -errno (the daemon's reason in ioas_client_last_error()). */
int bench_region(struct ioas_client *c, uint64_t size, uint32_t *ret_ioas,
		 uint32_t *ret_mem);

/* The daemon under test on a private socket, no policy, no journal;
 * --state-dir state_dir when not NULL; under wrapper (NULL-terminated: a
 * valgrind command line) when not NULL. */
int bench_start_daemon(struct bench *b, const char *state_dir,
		       const char *const *wrapper);
int bench_stop_daemon(struct bench *b);

/* The hot-path table (a daemon of its own). 0, or -errno when a row
 * could not run. */
int bench_hotpath(struct bench *b);

/* The daemon's user-space instructions per 4 KiB map+unmap pair, counted
 * by callgrind over `pairs` pairs; the profile of that run is kept in keep
 * when not NULL. 0, or -errno when it could not be measured (-ENOENT: no
 * valgrind). */
int bench_callgrind(struct bench *b, size_t pairs, const char *keep);
