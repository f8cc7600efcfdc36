/* SPDX-License-Identifier: MIT */
/*
 * ioasd-bench: what does brokering cost? First the hot path (bench-hotpath.c):
 * one unbatched RPC and one 4 KiB map+unmap pair against the floor of a
 * SOCK_SEQPACKET round trip, and the RPC rate with 1 to 16 connections.
 * Then latency percentiles and rate of
 * map+unmap pairs for 4 KiB and 2 MiB regions, through the socket (libioas
 * against an ioasd this tool starts on a private socket) and by direct
 * backend calls in this process (same backend kind), in the same run, and
 * the ratio socket/direct. Then the socket path again against a daemon with
 * --state-dir (restart support: the state file is rewritten and fsync'ed
 * before each reply that changed the tables), and the ratio of the two, in
 * the same run. Between the two, the batched and pipelined rows
 * (tools/bench-batch.c). It prints figures; it is not a test.
 *
 *   ioasd-bench --daemon PATH [--backend auto|kernel|sim] [--device PATH]
 *               [--iterations N] [--max-seconds S] [--json]
 *   ioasd-bench --daemon PATH --callgrind [--pairs N] [--callgrind-out FILE]
 *
 * --callgrind counts instead the daemon's user-space instructions per 4 KiB
 * map+unmap pair under valgrind (bench-callgrind.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tools/bench-batch.h"
#include "ioas.h"
#include "tools/bench.h"

#define DEFAULT_ITERATIONS 2000
#define DEFAULT_MAX_SECONDS 1.0 /* per series */
#define DEFAULT_CALLGRIND_PAIRS 1000

struct series {
	const char *path;   /* "socket" or "direct" */
	uint64_t size;
	struct bench_lat lat; /* of the pairs */
	int error;          /* 0 or -errno: the series could not run */
};

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void bench_summarize(struct bench_lat *s, uint64_t *lat, size_t n,
		     uint64_t total_ns)
{
	s->n = n;
	s->seconds = (double)total_ns / 1e9;
	if (n == 0)
		return;
	qsort(lat, n, sizeof(*lat), cmp_u64);
	s->p50 = lat[(n - 1) * 50 / 100];
	s->p90 = lat[(n - 1) * 90 / 100];
	s->p99 = lat[(n - 1) * 99 / 100];
	s->max = lat[n - 1];
}

/* ------------------------------------------------------------ daemon */

/* The daemon under test, started the way the test suite starts it
 * (tests/harness.c): private socket, no policy, no journal. */
int bench_start_daemon(struct bench *b, const char *state_dir,
		       const char *const *wrapper)
{
	const char *args[8] = { "--backend", b->backend_arg };
	int n = 2, r;

	if (state_dir) {
		args[n++] = "--state-dir";
		args[n++] = state_dir;
	}
	if (b->device) {
		args[n++] = "--device";
		args[n++] = b->device;
	}
	args[n] = NULL;

	/* The harness starts the backend named by IOASD_TEST_BACKEND (it
	 * is the test suite's switch): name ours. */
	if (setenv("IOASD_BIN", b->daemon, 1) < 0 ||
	    setenv("IOASD_TEST_BACKEND", b->backend_arg, 1) < 0)
		return -errno;
	r = harness_daemon_start_wrapped(&b->d, wrapper, args);
	if (r < 0)
		return r;
	b->pid = b->d.pid;
	snprintf(b->socket, sizeof(b->socket), "%s", b->d.socket);
	return 0;
}

int bench_stop_daemon(struct bench *b)
{
	b->pid = 0;
	return harness_daemon_stop(&b->d);
}

static int start_daemon(struct bench *b, const char *state_dir)
{
	return bench_start_daemon(b, state_dir, NULL);
}

static int stop_daemon(struct bench *b)
{
	return bench_stop_daemon(b);
}

/* ------------------------------------------------------------ series */

int bench_region(struct ioas_client *c, uint64_t size, uint32_t *ret_ioas,
		 uint32_t *ret_mem)
{
	int fd = -1, r;

	r = ioas_alloc(c, ret_ioas);
	if (r == 0)
		r = ioas_memfd_create("bench", size, &fd);
	if (r == 0)
		r = ioas_memory_register(c, fd, 0, size, ret_mem, NULL);
	if (fd >= 0)
		close(fd);
	return r;
}

static void run_socket(struct bench *b, struct ioas_client *c, uint64_t size,
		       struct series *s)
{
	const uint32_t rw = IOAS_MAP_READABLE | IOAS_MAP_WRITEABLE;
	uint64_t *lat = calloc(b->iterations, sizeof(*lat));
	uint64_t t0, start, budget = (uint64_t)(b->max_seconds * 1e9), un;
	uint32_t ioas = 0, mem = 0;
	size_t n = 0;
	int r;

	memset(s, 0, sizeof(*s));
	s->path = "socket";
	s->size = size;
	if (!lat) {
		s->error = -ENOMEM;
		return;
	}
	r = bench_region(c, size, &ioas, &mem);
	for (int i = 0; r == 0 && i < BENCH_WARMUP; i++) {
		uint64_t iova = 0;

		r = ioas_map(c, ioas, mem, 0, size, rw, &iova);
		if (r == 0)
			r = ioas_unmap(c, ioas, iova, size, &un);
	}
	start = bench_now_ns();
	while (r == 0 && n < b->iterations && bench_now_ns() - start < budget) {
		uint64_t iova = 0;

		t0 = bench_now_ns();
		r = ioas_map(c, ioas, mem, 0, size, rw, &iova);
		if (r == 0)
			r = ioas_unmap(c, ioas, iova, size, &un);
		lat[n++] = bench_now_ns() - t0;
	}
	if (r < 0) {
		fprintf(stderr, "ioasd-bench: socket %" PRIu64 " bytes: %s: %s\n",
			size, strerror(-r), ioas_client_last_error(c));
		s->error = r;
	} else {
		bench_summarize(&s->lat, lat, n, bench_now_ns() - start);
	}
	if (mem)
		(void)ioas_memory_unregister(c, mem);
	if (ioas)
		(void)ioas_destroy(c, ioas);
	free(lat);
}

/* The daemon's choice, done here: MAP_FILE when the backend has it, else
 * mmap the memfd and map by address. */
static int direct_map(struct backend *be, uint32_t ioas, int fd, void *va,
		      uint64_t size, uint64_t *iova)
{
	const uint32_t rw = BACKEND_MAP_READABLE | BACKEND_MAP_WRITEABLE;

	if (be->has_map_file)
		return backend_map_file(be, ioas, rw, fd, 0, size, iova);
	return backend_map_user(be, ioas, rw, va, size, iova);
}

static void run_direct(struct bench *b, struct backend *be, uint64_t size,
		       struct series *s)
{
	uint64_t *lat = calloc(b->iterations, sizeof(*lat));
	uint64_t t0, start, budget = (uint64_t)(b->max_seconds * 1e9), un;
	void *va = MAP_FAILED;
	uint32_t ioas = 0;
	bool have_ioas = false;
	size_t n = 0;
	int fd = -1, r;

	memset(s, 0, sizeof(*s));
	s->path = "direct";
	s->size = size;
	if (!lat) {
		s->error = -ENOMEM;
		return;
	}
	r = backend_ioas_alloc(be, &ioas);
	have_ioas = r == 0;
	if (r == 0)
		r = ioas_memfd_create("bench-direct", size, &fd);
	if (r == 0 && !be->has_map_file) {
		va = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (va == MAP_FAILED)
			r = -errno;
	}
	for (int i = 0; r == 0 && i < BENCH_WARMUP; i++) {
		uint64_t iova = 0;

		r = direct_map(be, ioas, fd, va, size, &iova);
		if (r == 0)
			r = backend_unmap(be, ioas, iova, size, &un);
	}
	start = bench_now_ns();
	while (r == 0 && n < b->iterations && bench_now_ns() - start < budget) {
		uint64_t iova = 0;

		t0 = bench_now_ns();
		r = direct_map(be, ioas, fd, va, size, &iova);
		if (r == 0)
			r = backend_unmap(be, ioas, iova, size, &un);
		lat[n++] = bench_now_ns() - t0;
	}
	if (r < 0) {
		fprintf(stderr, "ioasd-bench: direct %" PRIu64 " bytes: %s\n",
			size, strerror(-r));
		s->error = r;
	} else {
		bench_summarize(&s->lat, lat, n, bench_now_ns() - start);
	}
	if (have_ioas)
		(void)backend_destroy(be, ioas);
	if (va != MAP_FAILED)
		munmap(va, size);
	if (fd >= 0)
		close(fd);
	free(lat);
}

/* ------------------------------------------------------------ output */

static double ops(const struct series *s)
{
	return s->lat.seconds > 0 ? (double)s->lat.n / s->lat.seconds : 0;
}

static double ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0;
}

/* "4 KiB", "2 MiB" */
static void size_label(uint64_t size, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRIu64 " %s",
		 size >= (1u << 20) ? size >> 20 : size >> 10,
		 size >= (1u << 20) ? "MiB" : "KiB");
}

static void print_text(const struct bench *b, const char *sock_backend,
		       const char *direct_backend, const struct series *s,
		       size_t ns)
{
	printf("ioasd-bench: map+unmap pairs; socket backend %s, direct backend %s\n",
	       sock_backend, direct_backend);
	printf("%-8s %-7s %8s %12s %10s %10s %10s %10s\n", "size", "path",
	       "pairs", "pairs/s", "p50 us", "p90 us", "p99 us", "max us");
	for (size_t i = 0; i < ns; i++) {
		const struct series *x = &s[i];
		char size[32];

		size_label(x->size, size, sizeof(size));
		if (x->error) {
			printf("%-8s %-7s failed: %s\n", size, x->path,
			       strerror(-x->error));
			continue;
		}
		printf("%-8s %-7s %8zu %12.0f %10.2f %10.2f %10.2f %10.2f\n",
		       size, x->path, x->lat.n, ops(x), x->lat.p50 / 1e3, x->lat.p90 / 1e3,
		       x->lat.p99 / 1e3, x->lat.max / 1e3);
		if (i % 2 == 1 && !s[i - 1].error) {
			const struct series *so = &s[i - 1];

			printf("%-8s %-7s %8s %12.2f %10.2f %10.2f %10.2f %10.2f\n",
			       size, "ratio", "", ops(x) ? ops(so) / ops(x) : 0,
			       ratio(so->lat.p50, x->lat.p50), ratio(so->lat.p90, x->lat.p90),
			       ratio(so->lat.p99, x->lat.p99), ratio(so->lat.max, x->lat.max));
		}
	}
	printf("ratio = socket / direct (pairs/s: below 1 means the socket is slower;"
	       " latency: above 1)\n");
	(void)b;
}

static void print_json(const char *sock_backend, const char *direct_backend,
		       const struct series *s, size_t ns)
{
	printf("{\"socket_backend\":\"%s\",\"direct_backend\":\"%s\",\"results\":[",
	       sock_backend, direct_backend);
	for (size_t i = 0; i < ns; i++) {
		const struct series *x = &s[i];

		printf("%s{\"size\":%" PRIu64 ",\"path\":\"%s\"", i ? "," : "",
		       x->size, x->path);
		if (x->error)
			printf(",\"error\":\"%s\"}", strerror(-x->error));
		else
			printf(",\"pairs\":%zu,\"pairs_per_s\":%.1f,\"p50_ns\":%" PRIu64
			       ",\"p90_ns\":%" PRIu64 ",\"p99_ns\":%" PRIu64
			       ",\"max_ns\":%" PRIu64 "}",
			       x->lat.n, ops(x), x->lat.p50, x->lat.p90, x->lat.p99, x->lat.max);
	}
	printf("],\"ratios\":[");
	for (size_t i = 1, k = 0; i < ns; i += 2) {
		const struct series *so = &s[i - 1], *d = &s[i];

		if (so->error || d->error)
			continue;
		printf("%s{\"size\":%" PRIu64 ",\"pairs_per_s\":%.3f,\"p50\":%.3f,"
		       "\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f}",
		       k++ ? "," : "", so->size, ops(d) ? ops(so) / ops(d) : 0,
		       ratio(so->lat.p50, d->lat.p50), ratio(so->lat.p90, d->lat.p90),
		       ratio(so->lat.p99, d->lat.p99), ratio(so->lat.max, d->lat.max));
	}
	printf("]}\n");
}

/*
 * The socket series again against a daemon with --state-dir (a private 0700
 * directory): what restart support costs a map+unmap pair, against the
 * socket series of the first daemon (plain[0] and plain[2]).
 */
static int run_with_state(struct bench *b, const struct series *plain,
			  const uint64_t *sizes)
{
	/* tmpfs, like the /run/ioasd of a real host (fsync is cheap there). */
	char dir[] = "/dev/shm/ioasd-bench-state.XXXXXX", cmd[64], err[256] = "";
	char size[32];
	struct series st[2];
	struct ioas_client *c = NULL;
	struct statfs sfs;
	bool on_tmpfs;
	int r, status = 0;

	if (!mkdtemp(dir)) {
		/* No /dev/shm (some containers, the test guest): /tmp. */
		snprintf(dir, sizeof(dir), "/tmp/ioasd-bench-state.XXXXXX");
		if (!mkdtemp(dir)) {
			fprintf(stderr, "ioasd-bench: mkdtemp %s: %s\n", dir, strerror(errno));
			return -errno;
		}
	}
	on_tmpfs = statfs(dir, &sfs) == 0 && sfs.f_type == TMPFS_MAGIC;
	r = start_daemon(b, dir);
	if (r == 0)
		r = ioas_client_connect(b->socket, "ioasd-bench", &c, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "ioasd-bench: the daemon with --state-dir: %s\n",
			err[0] ? err : strerror(-r));
		status = r;
	}
	for (size_t i = 0; c && i < 2; i++) {
		run_socket(b, c, sizes[i], &st[i]);
		if (st[i].error)
			status = st[i].error;
	}
	ioas_client_free(c);
	if (stop_daemon(b) < 0)
		status = -EIO;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "ioasd-bench: cleanup of %s failed\n", dir);
	if (status < 0)
		return status;
	for (size_t i = 0; i < 2; i++) {
		const struct series *p = &plain[2 * i], *x = &st[i];

		if (b->json) {
			printf("{\"state_dir\":{\"tmpfs\":%s,\"size\":%" PRIu64 ",\"pairs_per_s\":%.1f,"
			       "\"p50_ns\":%" PRIu64 ",\"p99_ns\":%" PRIu64
			       ",\"ratio_pairs_per_s\":%.3f,\"ratio_p50\":%.3f}}\n",
			       on_tmpfs ? "true" : "false", x->size, ops(x), x->lat.p50, x->lat.p99,
			       ops(p) ? ops(x) / ops(p) : 0, ratio(x->lat.p50, p->lat.p50));
			continue;
		}
		if (i == 0)
			printf("with --state-dir on %s (restart support): socket pairs, same run\n",
			       on_tmpfs ? "tmpfs" : "a disk (each fsync counts)");
		size_label(x->size, size, sizeof(size));
		printf("%-8s %-7s %8zu %12.0f %10.2f %10.2f %10.2f %10.2f\n",
		       size, "state", x->lat.n, ops(x), x->lat.p50 / 1e3, x->lat.p90 / 1e3,
		       x->lat.p99 / 1e3, x->lat.max / 1e3);
		printf("%-8s %-7s %8s %12.2f %10.2f %10.2f %10.2f %10.2f\n",
		       size, "ratio", "", ops(p) ? ops(x) / ops(p) : 0,
		       ratio(x->lat.p50, p->lat.p50), ratio(x->lat.p90, p->lat.p90),
		       ratio(x->lat.p99, p->lat.p99), ratio(x->lat.max, p->lat.max));
	}
	if (!b->json)
		printf("ratio = with --state-dir / without (pairs/s: below 1 means slower)\n");
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: ioasd-bench --daemon PATH [OPTIONS]\n"
		"Map+unmap latency and rate through ioasd's socket versus direct backend calls.\n\n"
		"  --daemon PATH              the ioasd binary to start on a private socket\n"
		"  --backend auto|kernel|sim  backend for both paths (default auto)\n"
		"  --device PATH              iommufd device (default /dev/iommu)\n"
		"  --iterations N             pairs per series (default %d)\n"
		"  --max-seconds S            time budget per series (default %.1f)\n"
		"  --cpu N|none               the hot path's latency rows: this process, the\n"
		"                             floor's echo and the daemon on CPU N (default:\n"
		"                             the first this process may use), or not pinned;\n"
		"                             then again with the echo and the daemon on\n"
		"                             the next CPU this process may use, if any\n"
		"  --json                     JSON lines: the hot path, the comparison, then\n"
		"                             one line per size for the daemon with --state-dir\n"
		"  --callgrind                only count the daemon's instructions per 4 KiB\n"
		"                             map+unmap pair under valgrind's callgrind\n"
		"  --pairs N                  pairs counted with --callgrind (default %d)\n"
		"  --callgrind-out FILE       keep the profile of those pairs in FILE\n"
		"  -h, --help                 this text\n",
		DEFAULT_ITERATIONS, DEFAULT_MAX_SECONDS, DEFAULT_CALLGRIND_PAIRS);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "daemon", required_argument, NULL, 'd' },
		{ "backend", required_argument, NULL, 'b' },
		{ "device", required_argument, NULL, 'D' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "max-seconds", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "cpu", required_argument, NULL, 'C' },
		{ "callgrind", no_argument, NULL, 'c' },
		{ "pairs", required_argument, NULL, 'p' },
		{ "callgrind-out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	static const uint64_t sizes[] = { 4096, 2u << 20 };
	struct bench b = {
		.backend_arg = "auto",
		.kind = BACKEND_AUTO,
		.iterations = DEFAULT_ITERATIONS,
		.max_seconds = DEFAULT_MAX_SECONDS,
		.cpu = -1,
	};
	struct series s[4];
	struct ioas_client *c = NULL;
	struct backend *be = NULL;
	char err[256] = "", direct_name[32], sock_name[32];
	bool fell_back = false, callgrind = false;
	size_t pairs = DEFAULT_CALLGRIND_PAIRS;
	const char *callgrind_out = NULL;
	int opt, r, status = 0;
	char *end;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			b.daemon = optarg;
			break;
		case 'b':
			b.backend_arg = optarg;
			if (!strcmp(optarg, "auto"))
				b.kind = BACKEND_AUTO;
			else if (!strcmp(optarg, "kernel"))
				b.kind = BACKEND_KERNEL;
			else if (!strcmp(optarg, "sim"))
				b.kind = BACKEND_SIM;
			else {
				usage(stderr);
				return 2;
			}
			break;
		case 'D':
			b.device = optarg;
			break;
		case 'n':
			errno = 0;
			b.iterations = strtoul(optarg, &end, 10);
			if (errno || *end || b.iterations == 0 ||
			    b.iterations > 10000000) {
				fprintf(stderr, "ioasd-bench: bad --iterations\n");
				return 2;
			}
			break;
		case 's':
			b.max_seconds = strtod(optarg, &end);
			if (*end || !(b.max_seconds > 0) || b.max_seconds > 600) {
				fprintf(stderr, "ioasd-bench: bad --max-seconds\n");
				return 2;
			}
			break;
		case 'j':
			b.json = true;
			break;
		case 'C':
			if (!strcmp(optarg, "none")) {
				b.cpu = BENCH_CPU_NONE;
				break;
			}
			errno = 0;
			b.cpu = (int)strtol(optarg, &end, 10);
			if (errno || *end || b.cpu < 0 || b.cpu >= 1024) {
				fprintf(stderr, "ioasd-bench: bad --cpu\n");
				return 2;
			}
			break;
		case 'c':
			callgrind = true;
			break;
		case 'p':
			errno = 0;
			pairs = strtoul(optarg, &end, 10);
			if (errno || *end || pairs == 0 || pairs > 1000000) {
				fprintf(stderr, "ioasd-bench: bad --pairs\n");
				return 2;
			}
			break;
		case 'o':
			callgrind_out = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!b.daemon || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (callgrind)
		return bench_callgrind(&b, pairs, callgrind_out) < 0;
	if (bench_hotpath(&b) < 0)
		status = 1;

	r = backend_open(b.kind, b.device ? b.device : "/dev/iommu", &be,
			 &fell_back);
	if (r < 0) {
		fprintf(stderr, "ioasd-bench: cannot open the %s backend: %s\n",
			b.backend_arg, strerror(-r));
		return 1;
	}
	snprintf(direct_name, sizeof(direct_name), "%s%s", backend_name(be),
		 be->has_map_file ? "" : " (no MAP_FILE)");

	r = start_daemon(&b, NULL);
	if (r < 0) {
		fprintf(stderr, "ioasd-bench: cannot start %s: %s\n", b.daemon,
			strerror(-r));
		stop_daemon(&b);
		backend_close(be);
		return 1;
	}
	r = ioas_client_connect(b.socket, "ioasd-bench", &c, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "ioasd-bench: connect: %s\n", err);
		stop_daemon(&b);
		backend_close(be);
		return 1;
	}
	snprintf(sock_name, sizeof(sock_name), "%s%s", ioas_client_backend(c),
		 ioas_client_caps(c) & IOAS_CAP_MAP_FILE ? "" : " (no MAP_FILE)");
	if (strcmp(sock_name, direct_name))
		fprintf(stderr,
			"ioasd-bench: warning: the daemon uses %s, this process %s; "
			"the ratio compares different backends\n",
			sock_name, direct_name);

	for (size_t i = 0; i < 2; i++) {
		run_socket(&b, c, sizes[i], &s[2 * i]);
		run_direct(&b, be, sizes[i], &s[2 * i + 1]);
		if (s[2 * i].error || s[2 * i + 1].error)
			status = 1;
	}

	if (b.json)
		print_json(sock_name, direct_name, s, 4);
	else
		print_text(&b, sock_name, direct_name, s, 4);
	/* Batched and pipelined 4 KiB pairs against the same daemon. */
	if (bench_batch_rows(b.socket, b.max_seconds, s[1].error ? 0 : ops(&s[1]),
			     direct_name, b.json) < 0)
		status = 1;

	ioas_client_free(c);
	if (stop_daemon(&b) < 0) {
		fprintf(stderr, "ioasd-bench: the daemon did not exit cleanly\n");
		status = 1;
	}
	backend_close(be);
	if (run_with_state(&b, s, sizes) < 0)
		status = 1;
	return status;
}
