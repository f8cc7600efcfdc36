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
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ioas.h"
#include "tools/bench.h"

#define MAP_SIZE 4096u
#define TARGET_INSTRUCTIONS 10000 /* per pair (issue 14) */

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

/* One session of `pairs` pairs after the warm-up; the daemon's backend
 * in backend. 0 or -errno. */
static int session(struct bench *b, size_t pairs, char backend[32])
{
	const uint32_t rw = IOAS_MAP_READABLE | IOAS_MAP_WRITEABLE;
	struct ioas_client *c = NULL;
	uint32_t ioas = 0, mem = 0;
	char err[256] = "";
	int fd = -1, r;

	r = ioas_client_connect(b->socket, "ioasd-bench", &c, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "ioasd-bench: connect: %s\n", err);
		return r;
	}
	snprintf(backend, 32, "%s", ioas_client_backend(c));
	/* Under callgrind the daemon is some 50 times slower. */
	(void)ioas_client_set_timeout(c, 60000);
	r = ioas_alloc(c, &ioas);
	if (r == 0)
		r = ioas_memfd_create("bench", MAP_SIZE, &fd);
	if (r == 0)
		r = ioas_memory_register(c, fd, 0, MAP_SIZE, &mem, NULL);
	if (fd >= 0)
		close(fd);
	for (size_t i = 0; r == 0 && i < BENCH_WARMUP + pairs; i++) {
		uint64_t iova = 0, un;

		r = ioas_map(c, ioas, mem, 0, MAP_SIZE, rw, &iova);
		if (r == 0)
			r = ioas_unmap(c, ioas, iova, MAP_SIZE, &un);
	}
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
static int count(struct bench *b, const char *out, size_t pairs, uint64_t *ret,
		 char backend[32])
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
	r = session(b, pairs, backend);
	r2 = bench_stop_daemon(b);
	if (r == 0 && r2 < 0)
		r = r2;
	if (r == 0)
		r = read_total(out, ret);
	return r;
}

int bench_callgrind(struct bench *b, size_t pairs, const char *keep)
{
	char dir[] = "/tmp/ioasd-bench-callgrind.XXXXXX";
	char base_out[sizeof(dir) + 16], pairs_out[PATH_MAX];
	uint64_t base = 0, with = 0;
	char backend[32] = "";
	double per_pair;
	int r;

	if (system("valgrind --version >/dev/null 2>&1") != 0) {
		fprintf(stderr, "ioasd-bench: valgrind is not installed: no instruction count\n");
		return -ENOENT;
	}
	if (!mkdtemp(dir))
		return -errno;
	snprintf(base_out, sizeof(base_out), "%s/none.out", dir);
	if (keep)
		snprintf(pairs_out, sizeof(pairs_out), "%s", keep);
	else
		snprintf(pairs_out, sizeof(pairs_out), "%s/pairs.out", dir);
	r = count(b, base_out, 0, &base, backend);
	if (r == 0)
		r = count(b, pairs_out, pairs, &with, backend);
	(void)unlink(base_out);
	if (!keep)
		(void)unlink(pairs_out);
	(void)rmdir(dir);
	if (r < 0) {
		fprintf(stderr, "ioasd-bench: callgrind: %s\n", strerror(-r));
		return r;
	}
	per_pair = with > base ? (double)(with - base) / (double)pairs : 0;
	if (b->json) {
		printf("{\"callgrind\":{\"pairs\":%zu,\"instructions_without\":%" PRIu64
		       ",\"instructions_with\":%" PRIu64 ",\"per_pair\":%.0f,"
		       "\"target\":%d,\"verdict\":\"%s\"}}\n",
		       pairs, base, with, per_pair, TARGET_INSTRUCTIONS,
		       per_pair <= TARGET_INSTRUCTIONS ? "PASS" : "MISS");
		return 0;
	}
	printf("ioasd-bench: the daemon's user-space instructions (callgrind), %s backend\n",
	       backend);
	printf("  session without pairs   %14" PRIu64 "\n", base);
	printf("  session with %6zu pairs %14" PRIu64 "\n", pairs, with);
	printf("  per 4 KiB map+unmap pair %13.0f   target <= %d: %s\n", per_pair,
	       TARGET_INSTRUCTIONS, per_pair <= TARGET_INSTRUCTIONS ? "PASS" : "MISS");
	if (keep)
		printf("  profile of the session with pairs: %s (callgrind_annotate %s)\n",
		       keep, keep);
	return 0;
}
