/* SPDX-License-Identifier: MIT */
/*
 * The daemon's user-space instructions per 4 KiB map+unmap pair, counted
 * by valgrind's callgrind: the daemon runs under it twice, the same client
 * session each time (connect, an IOAS, a registered memfd, a warm-up, then
 * N pairs or none, then everything released), and
 *
 *     per pair = (instructions with N pairs - instructions with none) / N
 *
 * so start-up, connection set-up and shutdown cancel out and what remains
 * is the whole daemon's share of one pair: event loop, receive, decode,
 * dispatch, tenant and backend, audit, reply. Deterministic enough to
 * compare commits; the target is printed with PASS or MISS, not asserted.
 * The same for an unbatched Stats and for a new connection (connect,
 * Hello, close), whose target is three Stats' worth.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ioas.h"
#include "tools/bench-batch.h"
#include "tools/bench.h"

#define MAP_SIZE 4096u
#define TARGET_INSTRUCTIONS 10000 /* per pair (issue 14) */
#define TARGET_CONNECTION 3.0     /* RPCs' worth per connection (issue 14) */

/* The "totals:" (or "summary:") count of a callgrind output file. */
static int read_total(const char *path, uint64_t *ret)
{
	char line[512];
	FILE *f = fopen(path, "re");
	int r = -ENODATA;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;

		if (sscanf(line, "totals: %llu", &v) == 1 ||
		    sscanf(line, "summary: %llu", &v) == 1) {
			*ret = v;
			r = 0;
		}
	}
	fclose(f);
	return r;
}

/* What a session repeats n times after its warm-up. */
enum what { PAIRS, STATS, CONNECTIONS, BATCHED };

/* A new client: connect, Hello, and gone. */
static int connection(struct bench *b)
{
	struct ioas_client *c = NULL;
	char err[256] = "";
	int r;

	r = ioas_client_connect(b->socket, "ioasd-bench-connect", &c, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "ioasd-bench: connect: %s\n", err);
	ioas_client_free(c);
	return r;
}

/* One session: n of what after the warm-up; the daemon's backend in
 * backend. 0 or -errno. */
static int session(struct bench *b, enum what what, size_t n, char backend[32])
{
	const uint32_t rw = IOAS_MAP_READABLE | IOAS_MAP_WRITEABLE;
	struct ioas_batch *maps = NULL, *unmaps = NULL;
	struct ioas_client *c = NULL;
	uint32_t ioas = 0, mem = 0;
	char err[256] = "";
	int r;

	r = ioas_client_connect(b->socket, "ioasd-bench", &c, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "ioasd-bench: connect: %s\n", err);
		return r;
	}
	snprintf(backend, 32, "%s", ioas_client_backend(c));
	/* Under callgrind the daemon is some 50 times slower. */
	(void)ioas_client_set_timeout(c, 60000);
	/* Room for a batch's maps, in every session alike (the baseline
	 * registers what the others do). */
	r = bench_region(c, BENCH_BATCH_OPS * MAP_SIZE, &ioas, &mem);
	for (size_t i = 0; r == 0 && i < BENCH_WARMUP + (what == PAIRS ? n : 0); i++) {
		uint64_t iova = 0, un;

		r = ioas_map(c, ioas, mem, 0, MAP_SIZE, rw, &iova);
		if (r == 0)
			r = ioas_unmap(c, ioas, iova, MAP_SIZE, &un);
	}
	for (size_t i = 0; r == 0 && what == STATS && i < n; i++) {
		struct ioas_stats st;

		r = ioas_stats(c, &st);
	}
	for (size_t i = 0; r == 0 && what == CONNECTIONS && i < n; i++)
		r = connection(b);
	if (r == 0 && what == BATCHED)
		r = bench_batch_maps(ioas, mem, MAP_SIZE, &maps, &unmaps);
	for (size_t i = 0; r == 0 && what == BATCHED && i < n; i += BENCH_BATCH_OPS)
		r = bench_batch_round(c, ioas, MAP_SIZE, maps, unmaps);
	ioas_batch_free(maps);
	ioas_batch_free(unmaps);
	if (r < 0)
		fprintf(stderr, "ioasd-bench: callgrind session: %s\n",
			ioas_client_last_error(c));
	if (mem)
		(void)ioas_memory_unregister(c, mem);
	if (ioas)
		(void)ioas_destroy(c, ioas);
	ioas_client_free(c);
	return r;
}

/* The daemon under callgrind for one session; its total in *ret. */
static int count(struct bench *b, const char *out, enum what what, size_t n,
		 uint64_t *ret, char backend[32])
{
	char opt[PATH_MAX + 32];
	const char *wrapper[] = {
		"valgrind", "--quiet", "--tool=callgrind", opt, NULL,
	};
	int r, r2;

	snprintf(opt, sizeof(opt), "--callgrind-out-file=%s", out);
	r = bench_start_daemon(b, NULL, wrapper);
	if (r < 0) {
		fprintf(stderr, "ioasd-bench: cannot start %s under callgrind: %s\n",
			b->daemon, strerror(-r));
		return r;
	}
	r = session(b, what, n, backend);
	r2 = bench_stop_daemon(b);
	if (r == 0 && r2 < 0)
		r = r2;
	if (r == 0)
		r = read_total(out, ret);
	return r;
}

/* A JSON or text line of one figure. */
static void report(const struct bench *b, const char *key, const char *what,
		   double per, const char *target)
{
	if (b->json)
		printf("%s\"%s\":%.0f", key[0] == 'p' && !strcmp(key, "per_pair") ? "" : ",",
		       key, per);
	else
		printf("  %-40s %9.0f   %s\n", what, per, target);
}

int bench_callgrind(struct bench *b, size_t pairs, const char *keep)
{
	char dir[] = "/tmp/ioasd-bench-callgrind.XXXXXX";
	char out[sizeof(dir) + 16], pairs_out[PATH_MAX], target[64];
	size_t n_other = pairs / 4 ? pairs / 4 : 1;
	/* Whole batches: at least one. */
	size_t n_batched = (n_other + BENCH_BATCH_OPS - 1) / BENCH_BATCH_OPS * BENCH_BATCH_OPS;
	uint64_t base = 0, with = 0, stats = 0, conns = 0, batched = 0;
	double per_pair, per_stats, per_conn, per_batched;
	char backend[32] = "";
	int r;

	if (system("valgrind --version >/dev/null 2>&1") != 0) {
		fprintf(stderr, "ioasd-bench: valgrind is not installed: no instruction count\n");
		return -ENOENT;
	}
	if (!mkdtemp(dir))
		return -errno;
	snprintf(out, sizeof(out), "%s/run.out", dir);
	if (keep)
		snprintf(pairs_out, sizeof(pairs_out), "%s", keep);
	else
		snprintf(pairs_out, sizeof(pairs_out), "%s/pairs.out", dir);
	/* Each against the same session with nothing repeated. */
	r = count(b, out, PAIRS, 0, &base, backend);
	if (r == 0)
		r = count(b, pairs_out, PAIRS, pairs, &with, backend);
	if (r == 0)
		r = count(b, out, STATS, n_other, &stats, backend);
	if (r == 0)
		r = count(b, out, CONNECTIONS, n_other, &conns, backend);
	if (r == 0)
		r = count(b, out, BATCHED, n_batched, &batched, backend);
	(void)unlink(out);
	if (!keep)
		(void)unlink(pairs_out);
	(void)rmdir(dir);
	if (r < 0) {
		fprintf(stderr, "ioasd-bench: callgrind: %s\n", strerror(-r));
		return r;
	}
	per_pair = with > base ? (double)(with - base) / (double)pairs : 0;
	per_stats = stats > base ? (double)(stats - base) / (double)n_other : 0;
	per_conn = conns > base ? (double)(conns - base) / (double)n_other : 0;
	per_batched = batched > base ? (double)(batched - base) / (double)n_batched : 0;
	if (b->json) {
		printf("{\"callgrind\":{");
		report(b, "per_pair", NULL, per_pair, NULL);
		report(b, "per_stats", NULL, per_stats, NULL);
		report(b, "per_connection", NULL, per_conn, NULL);
		report(b, "per_batched_pair", NULL, per_batched, NULL);
		printf(",\"pair_target\":%d,\"pair_verdict\":\"%s\","
		       "\"connection_in_stats\":%.2f,\"connection_verdict\":\"%s\"}}\n",
		       TARGET_INSTRUCTIONS,
		       per_pair <= TARGET_INSTRUCTIONS ? "PASS" : "MISS",
		       per_stats > 0 ? per_conn / per_stats : 0,
		       per_stats > 0 && per_conn <= TARGET_CONNECTION * per_stats ? "PASS" : "MISS");
		return 0;
	}
	printf("ioasd-bench: the daemon's user-space instructions (callgrind), %s backend\n",
	       backend);
	snprintf(target, sizeof(target), "target <= %d: %s", TARGET_INSTRUCTIONS,
		 per_pair <= TARGET_INSTRUCTIONS ? "PASS" : "MISS");
	report(b, "per_pair", "per 4 KiB map+unmap pair", per_pair, target);
	report(b, "per_stats", "per unbatched Stats", per_stats, "");
	snprintf(target, sizeof(target), "= %.2f Stats, target <= %.0f: %s",
		 per_stats > 0 ? per_conn / per_stats : 0, TARGET_CONNECTION,
		 per_stats > 0 && per_conn <= TARGET_CONNECTION * per_stats ? "PASS" : "MISS");
	report(b, "per_connection", "per connection (connect, Hello, close)", per_conn,
	       target);
	snprintf(target, sizeof(target), "(%d per batch; no target)", BENCH_BATCH_OPS);
	report(b, "per_batched_pair", "per 4 KiB map+unmap pair, batched", per_batched,
	       target);
	if (keep)
		printf("  profile of the session with pairs: %s (callgrind_annotate %s)\n",
		       keep, keep);
	return 0;
}
