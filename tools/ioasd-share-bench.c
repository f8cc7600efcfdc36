/* SPDX-License-Identifier: MIT */
/*
 * ioasd-share-bench: what does sharing by COPY buy? One region (1 GiB by
 * default) is put into N IOASes (64 by default) two ways, through an ioasd
 * this tool starts on a private socket with a policy of its own:
 *   copy: mapped once, exported, and imported into each IOAS
 *         (IOMMU_IOAS_COPY: the pages are pinned once);
 *   map:  mapped separately into each IOAS (IOMMU_IOAS_MAP every time).
 * It prints the wall time of each, their ratio, and the daemon's VmPin
 * (/proc/PID/status) after each. On the sim backend nothing is pinned by
 * the kernel, so VmPin is 0 there: the figure is printed as read. It prints
 * figures; it is not a test.
 *
 *   ioasd-share-bench --daemon PATH [--backend auto|kernel|sim]
 *                     [--size SIZE_MIB] [--count N] [--daemon-arg ARG]
 *
 * --daemon-arg passes one more argument to ioasd: the real-kernel suite
 * uses --test-mock-domains so that maps really pin pages.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ioas.h"
#include "tests/harness.h"

#define MiB (UINT64_C(1) << 20)
#define MAX_COUNT 1024

struct bench {
	const char *daemon;
	const char *backend;
	uint64_t size;
	unsigned count;
	const char *daemon_arg;  /* one extra daemon argument, e.g. --test-mock-domains */
	char dir[256];
	char pdir[300];
	struct harness_daemon d;
	char socket[PATH_MAX];
	pid_t pid;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* VmPin of pid in KiB, or -1 when it cannot be read. */
static long vm_pin_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static int write_policy(struct bench *b, const char *pdir)
{
	char path[400];
	FILE *f;

	snprintf(path, sizeof(path), "%s/bench.conf", pdir);
	f = fopen(path, "we");
	if (!f)
		return -errno;
	fprintf(f,
		"[tenant bench]\nMatchUser=%u\nExportTo=bench\nImportFrom=bench\n"
		"MaxIOAS=%u\nMaxMappings=%u\nMaxPinnedBytes=%" PRIu64 "M\n",
		(unsigned)getuid(), 2 * b->count + 2, 4 * b->count + 4,
		b->size / MiB + 1);
	return fclose(f) == 0 ? 0 : -errno;
}

/* The daemon under test, started the way the test suite starts it
 * (tests/harness.c), with a policy of our own in b->dir. */
static int start_daemon(struct bench *b)
{
	const char *tmp = getenv("TMPDIR");
	const char *args[] = { "--backend", b->backend, "--policy-dir", b->pdir,
			       "--max-region-size", "1T", b->daemon_arg, NULL };
	int r;

	snprintf(b->dir, sizeof(b->dir), "%s/ioasd-share-bench.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(b->dir))
		return -errno;
	snprintf(b->pdir, sizeof(b->pdir), "%s/policy.d", b->dir);
	if (chmod(b->dir, 0755) < 0 || mkdir(b->pdir, 0755) < 0)
		return -errno;
	r = write_policy(b, b->pdir);
	if (r < 0)
		return r;
	/* The harness starts the backend named by IOASD_TEST_BACKEND (it
	 * is the test suite's switch): name ours. */
	if (setenv("IOASD_BIN", b->daemon, 1) < 0 ||
	    setenv("IOASD_TEST_BACKEND", b->backend, 1) < 0)
		return -errno;
	r = harness_daemon_start(&b->d, args);
	if (r < 0)
		return r;
	b->pid = b->d.pid;
	snprintf(b->socket, sizeof(b->socket), "%s", b->d.socket);
	return 0;
}

static void stop_daemon(struct bench *b)
{
	char path[PATH_MAX + 32];

	(void)harness_daemon_stop(&b->d);
	b->pid = 0;
	snprintf(path, sizeof(path), "%s/bench.conf", b->pdir);
	unlink(path);
	rmdir(b->pdir);
	rmdir(b->dir);
}

#define CHECK(expr)                                                          \
	do {                                                                 \
		int r_ = (expr);                                             \
		if (r_ < 0) {                                                \
			fprintf(stderr, "ioasd-share-bench: %s: %s (%s)\n",  \
				#expr, strerror(-r_),                        \
				ioas_client_last_error(c));                  \
			return r_;                                           \
		}                                                            \
	} while (0)

static int run(struct bench *b, struct ioas_client *c)
{
	char token[IOAS_SHARE_TOKEN_LEN + 1];
	uint32_t src, mem, share, imp, ioas[MAX_COUNT];
	uint64_t iova = 0, len;
	double t0, t_copy, t_map;
	long pin_copy, pin_map;
	int fd = -1;

	CHECK(ioas_memfd_create("share-bench", b->size, &fd));
	/* Allocate the pages now: whichever path ran first would otherwise
	 * pay for allocating and zeroing them. */
	if (fallocate(fd, 0, 0, (off_t)b->size) < 0)
		fprintf(stderr, "ioasd-share-bench: fallocate: %m (first path pays page allocation)\n");
	{
		int r = ioas_memory_register(c, fd, 0, b->size, &mem, NULL);

		close(fd);
		CHECK(r);
	}
	/* copy: map once, export, import N times. */
	CHECK(ioas_alloc(c, &src));
	for (unsigned i = 0; i < b->count; i++)
		CHECK(ioas_alloc(c, &ioas[i]));
	t0 = now_s();
	CHECK(ioas_map(c, src, mem, 0, b->size, IOAS_MAP_READABLE | IOAS_MAP_WRITEABLE, &iova));
	CHECK(ioas_share_export(c, src, iova, b->size, false, &share, token));
	for (unsigned i = 0; i < b->count; i++) {
		uint64_t v = 0;

		CHECK(ioas_share_import(c, token, ioas[i], 0, 0, 0, &v, &imp, &len));
	}
	t_copy = now_s() - t0;
	pin_copy = vm_pin_kib(b->pid);
	CHECK(ioas_share_revoke(c, share));
	CHECK(ioas_unmap_all(c, src, &len));
	/* map: N separate maps of the same memory. */
	t0 = now_s();
	for (unsigned i = 0; i < b->count; i++) {
		uint64_t v = 0;

		CHECK(ioas_map(c, ioas[i], mem, 0, b->size, IOAS_MAP_READABLE, &v));
	}
	t_map = now_s() - t0;
	pin_map = vm_pin_kib(b->pid);
	for (unsigned i = 0; i < b->count; i++)
		CHECK(ioas_unmap_all(c, ioas[i], &len));

	printf("ioasd-share-bench: %" PRIu64 " MiB into %u IOASes, backend %s\n",
	       b->size / MiB, b->count, ioas_client_backend(c));
	printf("  copy (1 map + export + %u imports): %10.6f s  daemon VmPin %ld kB\n",
	       b->count, t_copy, pin_copy);
	printf("  map  (%u separate maps):           %10.6f s  daemon VmPin %ld kB\n",
	       b->count, t_map, pin_map);
	printf("  ratio copy/map: %.3f (time), %.3f (VmPin)\n",
	       t_map > 0 ? t_copy / t_map : 0.0,
	       pin_map > 0 ? (double)pin_copy / (double)pin_map : 0.0);
	if (!strcmp(ioas_client_backend(c), "sim"))
		printf("  (sim backend: the kernel pins nothing, so VmPin is 0 either way)\n");
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: ioasd-share-bench --daemon PATH [OPTIONS]\n"
		"Put one region into N IOASes by share/COPY and by N MAPs; compare.\n\n"
		"  --daemon PATH     the ioasd binary to start on a private socket\n"
		"  --backend NAME    auto, kernel or sim (default auto)\n"
		"  --size MIB        region size in MiB (default 1024)\n"
		"  --count N         IOASes (default 64, at most %d)\n"
		"  --daemon-arg ARG  one more argument for ioasd (e.g. --test-mock-domains)\n",
		MAX_COUNT);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "daemon", required_argument, NULL, 'd' },
		{ "backend", required_argument, NULL, 'b' },
		{ "size", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'n' },
		{ "daemon-arg", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct bench b = { .backend = "auto", .size = 1024 * MiB, .count = 64 };
	struct ioas_client *c = NULL;
	char err[256];
	int opt, r;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			b.daemon = optarg;
			break;
		case 'b':
			b.backend = optarg;
			break;
		case 's':
			b.size = strtoull(optarg, NULL, 0) * MiB;
			break;
		case 'n':
			b.count = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'a':
			b.daemon_arg = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!b.daemon || b.size == 0 || b.count == 0 || b.count > MAX_COUNT) {
		usage(stderr);
		return 2;
	}
	r = start_daemon(&b);
	if (r < 0) {
		fprintf(stderr, "ioasd-share-bench: starting %s: %s\n", b.daemon,
			strerror(-r));
		stop_daemon(&b);
		return 1;
	}
	r = ioas_client_connect(b.socket, "ioasd-share-bench", &c, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "ioasd-share-bench: connect: %s\n", err);
	else
		r = run(&b, c);
	ioas_client_free(c);
	stop_daemon(&b);
	return r < 0 ? 1 : 0;
}
