/* SPDX-License-Identifier: MIT */
/*
 * ioasd-bench's rows for batches and pipelining (tools/bench-batch.c):
 * 4 KiB map+unmap pairs on one connection to the daemon at socket,
 * unbatched (one synchronous request at a time), batched (BENCH_BATCH_OPS
 * maps in one Batch, then as many unmaps) and pipelined (BENCH_BATCH_OPS
 * requests in flight, the asynchronous API), each for max_seconds, with
 * the ratio to the unbatched rate against its target (PASS/MISS), and the
 * batched rate against direct_pairs_per_s (the same pairs by direct
 * backend calls, 0: not measured). Text rows, or one JSON line. Returns 0,
 * or -errno when a series could not run (said on stderr).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define BENCH_BATCH_OPS 64

struct ioas_batch;
struct ioas_client;

/* Two batches: BENCH_BATCH_OPS maps of size bytes each, memory mem's
 * consecutive ranges (it must hold them), automatic IOVAs; and an empty
 * one for their unmaps. 0 or -errno (the caller frees both either way). */
int bench_batch_maps(uint32_t ioas, uint32_t mem, uint64_t size,
		     struct ioas_batch **ret_maps, struct ioas_batch **ret_unmaps);
/* Run maps, then the unmaps of what it mapped: BENCH_BATCH_OPS pairs.
 * 0 or -errno. */
int bench_batch_round(struct ioas_client *c, uint32_t ioas, uint64_t size,
		      struct ioas_batch *maps, struct ioas_batch *unmaps);

int bench_batch_rows(const char *socket, double max_seconds,
		     double direct_pairs_per_s, const char *direct_backend, bool json);
