/* SPDX-License-Identifier: MIT */
/*
 * ioasd-bench: what batches and pipelining buy (see bench-batch.h). The
 * targets are issue 14's: a batch of 64 at least 10 times the unbatched
 * pair rate, 64 in flight at least 2.5 times, and, on the kernel backend,
 * a batch at least half the rate of direct ioctls.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tools/bench-batch.h"
#include "ioas.h"

#define PAGE 4096u
#define RW (IOAS_MAP_READABLE | IOAS_MAP_WRITEABLE)
#define TARGET_BATCHED 10.0
#define TARGET_PIPELINED 2.5
#define GOAL_DIRECT 0.5

struct rate {
	uint64_t pairs;
	double seconds;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double per_s(const struct rate *r)
{
	return r->seconds > 0 ? (double)r->pairs / r->seconds : 0;
}

int bench_batch_maps(uint32_t ioas, uint32_t mem, uint64_t size,
		     struct ioas_batch **ret_maps, struct ioas_batch **ret_unmaps)
{
	int r;

	*ret_maps = *ret_unmaps = NULL;
	r = ioas_batch_new(IOAS_BATCH_STOP, ret_maps);
	if (r == 0)
		r = ioas_batch_new(IOAS_BATCH_STOP, ret_unmaps);
	for (unsigned i = 0; r >= 0 && i < BENCH_BATCH_OPS; i++)
		r = ioas_batch_map(*ret_maps, ioas, mem, (uint64_t)i * size, size, RW, 0);
	return r < 0 ? r : 0;
}

int bench_batch_round(struct ioas_client *c, uint32_t ioas, uint64_t size,
		      struct ioas_batch *maps, struct ioas_batch *unmaps)
{
	struct ioas_batch_result res;
	int r;

	r = ioas_batch_run(c, maps);
	(void)ioas_batch_clear(unmaps);
	for (unsigned i = 0; r >= 0 && i < BENCH_BATCH_OPS; i++) {
		r = ioas_batch_result(maps, i, &res);
		if (r == 0)
			r = ioas_batch_unmap(unmaps, ioas, res.iova, size);
	}
	if (r >= 0)
		r = ioas_batch_run(c, unmaps);
	return r < 0 ? r : 0;
}

/* One map+unmap pair at a time, each waiting for its reply. */
static int unbatched(struct ioas_client *c, uint32_t ioas, uint32_t mem,
		     double budget, struct rate *ret)
{
	double start = now_s();
	uint64_t iova, un;
	int r = 0;

	while (r == 0 && now_s() - start < budget) {
		iova = 0;
		r = ioas_map(c, ioas, mem, 0, PAGE, RW, &iova);
		if (r == 0)
			r = ioas_unmap(c, ioas, iova, PAGE, &un);
		ret->pairs += r == 0;
	}
	ret->seconds = now_s() - start;
	return r;
}

/* BENCH_BATCH_OPS maps (a page each, automatic IOVAs) in one batch, then
 * their unmaps in another. */
static int batched(struct ioas_client *c, uint32_t ioas, uint32_t mem,
		   double budget, struct rate *ret)
{
	struct ioas_batch *maps = NULL, *unmaps = NULL;
	double start = now_s();
	int r;

	r = bench_batch_maps(ioas, mem, PAGE, &maps, &unmaps);
	while (r >= 0 && now_s() - start < budget) {
		r = bench_batch_round(c, ioas, PAGE, maps, unmaps);
		if (r >= 0)
			ret->pairs += BENCH_BATCH_OPS;
	}
	ret->seconds = now_s() - start;
	ioas_batch_free(maps);
	ioas_batch_free(unmaps);
	return r < 0 ? r : 0;
}

/* BENCH_BATCH_OPS requests in flight: each map's completion sends its
 * unmap, each unmap's a new map, until the time is up. */
static int pipelined(struct ioas_client *c, uint32_t ioas, uint32_t mem,
		     double budget, struct rate *ret)
{
	struct ioas_completion done[BENCH_BATCH_OPS];
	double start = now_s();
	bool more = true;
	int r = 0, n;

	for (unsigned i = 0; r == 0 && i < BENCH_BATCH_OPS; i++)
		r = ioas_submit_map(c, ioas, mem, (uint64_t)i * PAGE, PAGE, RW, 0,
				    (void *)(uintptr_t)i, NULL);
	while (r == 0 && ioas_client_in_flight(c) > 0) {
		n = ioas_client_wait_completions(c, done, BENCH_BATCH_OPS, 10000);
		if (n <= 0) {
			r = n < 0 ? n : -ETIMEDOUT;
			break;
		}
		more = more && now_s() - start < budget;
		for (int k = 0; r == 0 && k < n; k++) {
			uintptr_t i = (uintptr_t)done[k].userdata;

			if (done[k].error) {
				fprintf(stderr, "ioasd-bench: pipelined: %s\n", done[k].message);
				r = done[k].error;
			} else if (done[k].op == IOAS_OP_MAP) {
				r = ioas_submit_unmap(c, ioas, done[k].iova, PAGE,
						      (void *)i, NULL);
			} else {
				ret->pairs++;
				if (more)
					r = ioas_submit_map(c, ioas, mem, (uint64_t)i * PAGE,
							    PAGE, RW, 0, (void *)i, NULL);
			}
		}
	}
	ret->seconds = now_s() - start;
	return r;
}

static const char *verdict(double ratio, double target)
{
	return ratio >= target ? "PASS" : "MISS";
}

int bench_batch_rows(const char *socket, double max_seconds,
		     double direct_pairs_per_s, const char *direct_backend, bool json)
{
	struct rate one = { 0 }, batch = { 0 }, pipe = { 0 };
	struct ioas_client *c = NULL;
	uint32_t ioas = 0, mem = 0;
	char err[256] = "";
	double rb, rp, rd;
	int fd = -1, r;

	r = ioas_client_connect(socket, "ioasd-bench-batch", &c, err, sizeof(err));
	if (r == 0)
		r = ioas_alloc(c, &ioas);
	if (r == 0)
		r = ioas_memfd_create("bench-batch", BENCH_BATCH_OPS * PAGE, &fd);
	if (r == 0)
		r = ioas_memory_register(c, fd, 0, BENCH_BATCH_OPS * PAGE, &mem, NULL);
	if (fd >= 0)
		close(fd);
	if (r == 0)
		r = unbatched(c, ioas, mem, max_seconds, &one);
	if (r == 0)
		r = batched(c, ioas, mem, max_seconds, &batch);
	if (r == 0)
		r = pipelined(c, ioas, mem, max_seconds, &pipe);
	if (r < 0)
		fprintf(stderr, "ioasd-bench: batched/pipelined rows: %s: %s\n", strerror(-r),
			c ? ioas_client_last_error(c) : err);
	ioas_client_free(c);
	if (r < 0)
		return r;

	rb = per_s(&one) ? per_s(&batch) / per_s(&one) : 0;
	rp = per_s(&one) ? per_s(&pipe) / per_s(&one) : 0;
	rd = direct_pairs_per_s > 0 ? per_s(&batch) / direct_pairs_per_s : 0;
	if (json) {
		printf("{\"batch\":{\"size\":%u,\"ops_per_batch\":%u,\"unbatched_pairs_per_s\":%.1f,"
		       "\"batched_pairs_per_s\":%.1f,\"batched_ratio\":%.3f,\"batched_target\":%.1f,"
		       "\"batched\":\"%s\",\"pipelined_pairs_per_s\":%.1f,\"pipelined_ratio\":%.3f,"
		       "\"pipelined_target\":%.1f,\"pipelined\":\"%s\"",
		       PAGE, BENCH_BATCH_OPS, per_s(&one), per_s(&batch), rb, TARGET_BATCHED,
		       verdict(rb, TARGET_BATCHED), per_s(&pipe), rp, TARGET_PIPELINED,
		       verdict(rp, TARGET_PIPELINED));
		if (direct_pairs_per_s > 0)
			printf(",\"direct_backend\":\"%s\",\"direct_pairs_per_s\":%.1f,"
			       "\"batched_vs_direct\":%.3f,\"batched_vs_direct_goal\":%.1f,"
			       "\"vs_direct\":\"%s\"",
			       direct_backend, direct_pairs_per_s, rd, GOAL_DIRECT,
			       verdict(rd, GOAL_DIRECT));
		printf("}}\n");
		return 0;
	}
	printf("batched and pipelined 4 KiB map+unmap pairs, one connection, same run\n");
	printf("%-13s %10s %12s %8s %8s %s\n", "path", "pairs", "pairs/s", "ratio",
	       "target", "");
	printf("%-13s %10" PRIu64 " %12.0f\n", "unbatched", one.pairs, per_s(&one));
	printf("batch %-7u %10" PRIu64 " %12.0f %8.2f %7.1fx %s\n", BENCH_BATCH_OPS,
	       batch.pairs, per_s(&batch), rb, TARGET_BATCHED, verdict(rb, TARGET_BATCHED));
	printf("pipeline %-4u %10" PRIu64 " %12.0f %8.2f %7.1fx %s\n", BENCH_BATCH_OPS,
	       pipe.pairs, per_s(&pipe), rp, TARGET_PIPELINED,
	       verdict(rp, TARGET_PIPELINED));
	if (direct_pairs_per_s > 0)
		printf("%-13s %10s %12.0f %8.2f %7.1fx %s (batch %u / direct %s; the goal is "
		       "the kernel backend's)\n", "batch/direct", "", direct_pairs_per_s, rd,
		       GOAL_DIRECT, verdict(rd, GOAL_DIRECT), BENCH_BATCH_OPS, direct_backend);
	printf("ratio = pairs/s / unbatched pairs/s (batch/direct: / direct backend calls)\n");
	return 0;
}
