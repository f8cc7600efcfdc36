/* SPDX-License-Identifier: MIT */
/*
 * Integration tests: libioas against a real ioasd. On the sim backend (the
 * default) every case runs twice: with the default sim (IOMMU_IOAS_MAP_FILE
 * path) and with --sim-no-map-file (mmap + IOMMU_IOAS_MAP path). With
 * IOASD_TEST_BACKEND=kernel (the real-kernel suite, tests/vm) every case
 * runs once, on whichever path the running kernel offers (mmap on 6.12,
 * MAP_FILE from 6.13 on): --sim-no-map-file is a sim knob. There,
 * IOASD_TEST_MAP_FILE=0|1, when set, is whether the kernel must have
 * IOMMU_IOAS_MAP_FILE.
 *
 * Each test starts its own daemon, runs the client side in a child that
 * drops to uid 65534 (when run as root), and afterwards checks that the
 * daemon is back to its baseline: same number of open fds, no IOAS and no
 * pinned bytes left daemon-wide, and a clean exit on SIGTERM.
 *
 * Client bodies do not use ck_assert (they run in a grandchild): they return
 * 0, or the line of the first failed expectation after printing it.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "ioas.h"

#define KiB (1ull << 10)
#define MiB (1ull << 20)
#define RW (IOAS_MAP_READABLE | IOAS_MAP_WRITEABLE)
#define CLIENT_TIMEOUT_MS 30000

struct ctx {
	const char *socket;
	int map_file; /* the daemon must use IOMMU_IOAS_MAP_FILE: 1/0, -1 unknown */
	int thp;      /* the daemon was told --sim-thp yes (1) or no (0); -1 not */
};

/* The sim's variants; on another backend only the first runs (with the
 * backend replaced by the harness). */
static const char *const variant_args[2][4] = {
	{ "--backend", "sim", NULL },
	{ "--backend", "sim", "--sim-no-map-file", NULL },
};

static int n_variants(void)
{
	return harness_backend_is_sim() ? 2 : 1;
}

static const char *variant_name(int variant)
{
	static const char *const sim_name[2] = { "sim/map-file", "sim/mmap" };

	return harness_backend_is_sim() ? sim_name[variant] : harness_backend();
}

/* Whether the daemon of this variant must report IOAS_CAP_MAP_FILE. */
static int variant_map_file(int variant)
{
	const char *e = getenv("IOASD_TEST_MAP_FILE");

	if (harness_backend_is_sim())
		return variant == 0;
	if (e && (!strcmp(e, "0") || !strcmp(e, "1")))
		return e[0] == '1';
	return -1;
}

static const char *errname(int r)
{
	const char *n;

	if (r >= 0)
		return "ok";
	n = strerrorname_np(-r);
	return n ? n : "E?";
}

#define FAIL_AT(fmt, ...)                                                   \
	do {                                                                \
		fprintf(stderr, "%s:%d: " fmt "\n", __FILE__, __LINE__,     \
			##__VA_ARGS__);                                     \
		ret = __LINE__;                                             \
		goto out;                                                   \
	} while (0)

#define EXPECT(cond)                                                        \
	do {                                                                \
		if (!(cond))                                                \
			FAIL_AT("expected %s", #cond);                      \
	} while (0)

#define EXPECT_U64(a, b)                                                    \
	do {                                                                \
		unsigned long long _a = (a), _b = (b);                      \
		if (_a != _b)                                               \
			FAIL_AT("%s = 0x%llx, want 0x%llx", #a, _a, _b);    \
	} while (0)

/*
 * expr returns 0 or -errno; want is 0 or -E. A refusal must carry the
 * daemon's reason.
 */
#define EXPECT_RC(c, expr, want)                                            \
	do {                                                                \
		int _r = (expr), _w = (want);                               \
		if (_r != _w)                                               \
			FAIL_AT("%s = %d (%s), want %d (%s); daemon said: %s", \
				#expr, _r, errname(_r), _w, errname(_w),    \
				(c) ? ioas_client_last_error(c) : "");      \
		if (_r < 0 && !ioas_client_last_error(c)[0])                \
			FAIL_AT("%s: refused without a reason", #expr);     \
		if (_r == 0 && ioas_client_last_error(c)[0])                \
			FAIL_AT("%s: success left last_error '%s'", #expr,  \
				ioas_client_last_error(c));                 \
	} while (0)

static int open_client(const struct ctx *x, struct ioas_client **ret)
{
	char err[256] = "";
	int r;

	r = ioas_client_connect(x->socket, "test-integration", ret, err,
				sizeof(err));
	if (r < 0) {
		fprintf(stderr, "connect %s: %s (%s)\n", x->socket, err,
			errname(r));
		return r;
	}
	return ioas_client_set_timeout(*ret, CLIENT_TIMEOUT_MS);
}

/* Whether this machine's kernel has transparent huge pages, as the sim's
 * default and the kernel backend's description tell it: the THP sysfs
 * directory. */
static bool host_thp(void)
{
	struct stat st;

	return stat("/sys/kernel/mm/transparent_hugepage", &st) == 0 &&
	       S_ISDIR(st.st_mode);
}

/* A sealed memfd of size bytes with extra seals on top (0 for none). */
static int sealed_memfd(uint64_t size, int extra_seals)
{
	int fd = -1;

	if (ioas_memfd_create("test", size, &fd) < 0)
		return -1;
	if (extra_seals && fcntl(fd, F_ADD_SEALS, extra_seals) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int register_new(struct ioas_client *c, uint64_t size, uint32_t *mem)
{
	int fd = sealed_memfd(size, 0), r;

	if (fd < 0)
		return -errno;
	r = ioas_memory_register(c, fd, 0, size, mem, NULL);
	close(fd);
	return r;
}

/*
 * Rule: everything a connection owns is released when it closes: the
 * daemon's fd count is back to its baseline and nothing is left
 * daemon-wide (seen from a fresh connection). Under --no-policy only root
 * is shown the daemon-wide figures.
 */
static void check_released(const struct harness_daemon *d, int base,
			   const char *what)
{
	struct ioas_client *c = NULL;
	struct ioas_stats st;
	char err[256];
	int r;

	r = harness_wait_fd_count(d->pid, base, 5000);
	ck_assert_msg(r == base,
		      "[%s] daemon has %d fds after the clients left, baseline %d",
		      what, r, base);
	r = ioas_client_connect(d->socket, "test-integration-check", &c, err,
				sizeof(err));
	ck_assert_msg(r == 0, "reconnect: %s", err);
	ck_assert_int_eq(ioas_stats(c, &st), 0);
	ck_assert(st.daemon_wide == (geteuid() == 0));
	if (st.daemon_wide) {
		ck_assert_uint_eq(st.connections, 1);
		ck_assert_uint_eq(st.total_ioas, 0);
		ck_assert_uint_eq(st.total_pinned_bytes, 0);
	} else {
		printf("NOTICE: [%s] not root: no IOAS and pinned bytes left "
		       "daemon-wide not checked (the fds are)\n", what);
	}
	ioas_client_free(c);
}

/*
 * Start a daemon for the variant (plus extra args), run body as an
 * unprivileged client, then check that everything was released.
 */
static void run_case(int variant, const char *const *extra,
		     int (*body)(void *))
{
	const char *args[16];
	struct harness_daemon d;
	struct ctx x;
	size_t n = 0;
	int base, r;

	for (size_t i = 0; variant_args[variant][i]; i++)
		args[n++] = variant_args[variant][i];
	for (size_t i = 0; extra && extra[i]; i++)
		args[n++] = extra[i];
	args[n] = NULL;

	r = harness_daemon_start(&d, args);
	ck_assert_msg(r == 0, "daemon start: %s", strerror(-r));
	base = harness_fd_count_settled(d.pid, 5000);
	ck_assert_int_gt(base, 0);

	x.socket = d.socket;
	x.map_file = variant_map_file(variant);
	x.thp = -1;
	for (size_t i = 0; extra && extra[i] && extra[i + 1]; i++)
		if (!strcmp(extra[i], "--sim-thp"))
			x.thp = !strcmp(extra[i + 1], "yes");
	r = harness_run_client(body, &x);
	ck_assert_msg(r == 0, "[%s] client body failed at line %d",
		      variant_name(variant), r);

	check_released(&d, base, variant_name(variant));

	/* Rule: the daemon exits 0 on SIGTERM. */
	ck_assert_int_eq(harness_daemon_stop(&d), 0);
}

/* ------------------------------------------------------------ bodies */

/* Rule: Hello exposes backend, protocol version, caps and limits. */
static int body_hello(void *arg)
{
	const struct ctx *x = arg;
	struct ioas_client *c = NULL;
	const char *desc;
	int ret = 0;

	EXPECT(open_client(x, &c) == 0);
	EXPECT(!strcmp(ioas_client_backend(c), harness_backend()));
	/* "<backend> thp=yes hpage_size=N page_size=N" or "<backend> thp=no
	 * page_size=N": as this machine's kernel, which the sim follows by
	 * default and the kernel backend is. */
	desc = ioas_client_backend_description(c);
	EXPECT(!strncmp(desc, harness_backend(), strlen(harness_backend())));
	desc += strlen(harness_backend());
	EXPECT(host_thp() ? !strncmp(desc, " thp=yes hpage_size=", 20) :
			    !strncmp(desc, " thp=no page_size=", 18));
	EXPECT(ioas_client_version(c) == IOAS_PROTOCOL_VERSION);
	if (x->map_file >= 0)
		EXPECT(!!(ioas_client_caps(c) & IOAS_CAP_MAP_FILE) ==
		       x->map_file);
	EXPECT(ioas_client_max_datagram(c) >= 4096);
	EXPECT(ioas_client_max_fds(c) >= 1);
	EXPECT(ioas_client_last_error(c)[0] == '\0');
	EXPECT(!ioas_client_broken(c));
	EXPECT(ioas_client_fd(c) >= 0);
	EXPECT(fcntl(ioas_client_fd(c), F_GETFD) & FD_CLOEXEC);
out:
	ioas_client_free(c);
	return ret;
}

/* Rule: the documented cycle succeeds, with consistent stats at each step. */
static int body_full_cycle(void *arg)
{
	const struct ctx *x = arg;
	struct ioas_client *c = NULL;
	struct ioas_iova_range *ranges = NULL;
	struct ioas_memory_info info;
	struct ioas_stats st;
	uint64_t iova_auto = 0, iova_fixed = 64 * MiB, iova_copy = 0, un,
		 align;
	uint32_t a = 0, b = 0, mem = 0, num = 0;
	int fd = -1, ret = 0;

	EXPECT(open_client(x, &c) == 0);
	EXPECT_RC(c, ioas_stats(c, &st), 0);
	EXPECT(!strcmp(st.backend, harness_backend()));
	EXPECT_U64(st.ioas, 0);
	/* --no-policy, not root: the daemon-wide figures are not shown. */
	EXPECT(!st.daemon_wide);
	EXPECT_U64(st.connections, 0);

	EXPECT_RC(c, ioas_alloc(c, &a), 0);
	EXPECT_RC(c, ioas_alloc(c, &b), 0);
	/* Handles are small numbers starting at 1. */
	EXPECT_U64(a, 1);
	EXPECT_U64(b, 2);

	fd = sealed_memfd(2 * MiB, 0);
	EXPECT(fd >= 0);
	EXPECT_RC(c, ioas_memory_register(c, fd, 0, 2 * MiB, &mem, &info), 0);
	EXPECT_U64(mem, 1);
	EXPECT_U64(info.memory, mem);
	EXPECT_U64(info.length, 2 * MiB);
	EXPECT_U64(info.page_size, 4096);
	EXPECT(info.writable);
	EXPECT(!strncmp(info.kind, "memfd", 5));
	/* The library sends a copy: the caller's fd is still its own. */
	EXPECT(fcntl(fd, F_GETFD) >= 0);
	close(fd);
	fd = -1;

	EXPECT_RC(c, ioas_map(c, a, mem, 0, MiB, RW, &iova_auto), 0);
	EXPECT(iova_auto % 4096 == 0);
	EXPECT(iova_auto + MiB <= iova_fixed || iova_auto >= iova_fixed + MiB);
	EXPECT_RC(c, ioas_map(c, a, mem, MiB, MiB, RW | IOAS_MAP_FIXED_IOVA,
			      &iova_fixed), 0);
	EXPECT_U64(iova_fixed, 64 * MiB);

	EXPECT_RC(c, ioas_copy(c, b, a, RW, iova_auto, MiB, &iova_copy), 0);

	EXPECT_RC(c, ioas_iova_ranges_all(c, a, &ranges, &num, &align), 0);
	EXPECT(num >= 1);
	EXPECT(ranges[0].start <= ranges[0].last);

	EXPECT_RC(c, ioas_stats(c, &st), 0);
	EXPECT_U64(st.ioas, 2);
	EXPECT_U64(st.memory_regions, 1);
	EXPECT_U64(st.mappings, 3);
	EXPECT_U64(st.mapped_bytes, 3 * MiB);
	/* A copy shares pages: pinned once. */
	EXPECT_U64(st.pinned_bytes, 2 * MiB);
	EXPECT_U64(st.total_ioas, 0);
	EXPECT_U64(st.total_pinned_bytes, 0);

	EXPECT_RC(c, ioas_unmap(c, a, iova_fixed, MiB, &un), 0);
	EXPECT_U64(un, MiB);
	EXPECT_RC(c, ioas_unmap_all(c, a, &un), 0);
	EXPECT_U64(un, MiB);
	EXPECT_RC(c, ioas_unmap_all(c, b, &un), 0);
	EXPECT_U64(un, MiB);

	EXPECT_RC(c, ioas_stats(c, &st), 0);
	EXPECT_U64(st.mappings, 0);
	EXPECT_U64(st.mapped_bytes, 0);
	EXPECT_U64(st.pinned_bytes, 0);

	EXPECT_RC(c, ioas_destroy(c, a), 0);
	EXPECT_RC(c, ioas_destroy(c, b), 0);
	EXPECT_RC(c, ioas_memory_unregister(c, mem), 0);
	EXPECT_RC(c, ioas_stats(c, &st), 0);
	EXPECT_U64(st.ioas, 0);
	EXPECT_U64(st.memory_regions, 0);
out:
	free(ranges);
	if (fd >= 0)
		close(fd);
	ioas_client_free(c);
	return ret;
}

/* Rule: destroying an unknown or already destroyed IOAS is ENOENT. */
static int body_alloc_destroy(void *arg)
{
	const struct ctx *x = arg;
	struct ioas_client *c = NULL;
	uint32_t a = 0, b = 0, n = 0;
	int ret = 0;

	EXPECT(open_client(x, &c) == 0);
	EXPECT_RC(c, ioas_alloc(c, &a), 0);
	EXPECT_RC(c, ioas_alloc(c, &b), 0);
	EXPECT(a != b);
	EXPECT_RC(c, ioas_destroy(c, a), 0);
	EXPECT_RC(c, ioas_destroy(c, a), -ENOENT);
	EXPECT_RC(c, ioas_destroy(c, 0), -ENOENT);
	EXPECT_RC(c, ioas_destroy(c, 4242), -ENOENT);
	EXPECT_RC(c, ioas_iova_ranges(c, a, NULL, &n, NULL), -ENOENT);
	/* A refusal does not break the connection. */
	EXPECT(!ioas_client_broken(c));
	EXPECT_RC(c, ioas_destroy(c, b), 0);
	/* Destroying an IOAS that still has mappings unmaps them. */
	EXPECT_RC(c, ioas_alloc(c, &a), 0);
	EXPECT_RC(c, register_new(c, 64 * KiB, &n), 0);
	{
		uint64_t iova = 0;
		struct ioas_stats st;

		EXPECT_RC(c, ioas_map(c, a, n, 0, 64 * KiB, RW, &iova), 0);
		EXPECT_RC(c, ioas_destroy(c, a), 0);
		EXPECT_RC(c, ioas_stats(c, &st), 0);
		EXPECT_U64(st.mappings, 0);
		EXPECT_U64(st.pinned_bytes, 0);
	}
out:
	ioas_client_free(c);
	return ret;
}

/* Rule: IOVA_RANGES with too little room is EMSGSIZE plus the needed count. */
static int body_iova_ranges(void *arg)
{
	const struct ctx *x = arg;
	struct ioas_client *c = NULL;
	struct ioas_iova_range r1[1], *all = NULL;
	uint32_t a = 0, num, num_all = 0;
	uint64_t align = 0;
	int ret = 0;

	EXPECT(open_client(x, &c) == 0);
	EXPECT_RC(c, ioas_alloc(c, &a), 0);

	num = 0;
	EXPECT_RC(c, ioas_iova_ranges(c, a, NULL, &num, &align), -EMSGSIZE);
	EXPECT(num >= 1);
	EXPECT(strstr(ioas_client_last_error(c), "range") != NULL);

	num = 1;
	EXPECT_RC(c, ioas_iova_ranges(c, a, r1, &num, &align), 0);
	EXPECT_U64(num, 1);
	EXPECT(r1[0].start < r1[0].last);
	EXPECT(align >= 1 && (align & (align - 1)) == 0);

	EXPECT_RC(c, ioas_iova_ranges_all(c, a, &all, &num_all, NULL), 0);
	EXPECT_U64(num_all, 1);
	EXPECT_U64(all[0].start, r1[0].start);
	EXPECT_U64(all[0].last, r1[0].last);
	EXPECT_RC(c, ioas_iova_ranges(c, 77, r1, &num, NULL), -ENOENT);
out:
	free(all);
	ioas_client_free(c);
	return ret;
}

/*
 * Rule: ALLOW_IOVAS confines automatic IOVAs (ENOSPC once full), refuses
 * start >= last and overlapping ranges with EINVAL, and an empty list
 * clears it.
 */
static int body_allow_iovas(void *arg)
{
	const struct ctx *x = arg;
	struct ioas_client *c = NULL;
	const struct ioas_iova_range window[] = { { 16 * MiB, 20 * MiB - 1 } };
	const struct ioas_iova_range backwards[] = { { 8 * MiB, 4 * MiB } };
	const struct ioas_iova_range empty[] = { { 8 * MiB, 8 * MiB } };
	const struct ioas_iova_range overlap[] = {
		{ 1 * MiB, 4 * MiB - 1 }, { 2 * MiB, 6 * MiB - 1 },
	};
	uint32_t a = 0, mem = 0;
	uint64_t iova = 0;
	int ret = 0;

	EXPECT(open_client(x, &c) == 0);
	EXPECT_RC(c, ioas_alloc(c, &a), 0);
	EXPECT_RC(c, register_new(c, 8 * MiB, &mem), 0);

	EXPECT_RC(c, ioas_allow_iovas(c, a, backwards, 1), -EINVAL);
	EXPECT_RC(c, ioas_allow_iovas(c, a, empty, 1), -EINVAL);
	EXPECT_RC(c, ioas_allow_iovas(c, a, overlap, 2), -EINVAL);
	EXPECT_RC(c, ioas_allow_iovas(c, 99, window, 1), -ENOENT);

	EXPECT_RC(c, ioas_allow_iovas(c, a, window, 1), 0);
	for (int i = 0; i < 4; i++) {
		EXPECT_RC(c, ioas_map(c, a, mem, (uint64_t)i * MiB, MiB, RW,
				      &iova), 0);
		EXPECT(iova >= window[0].start &&
		       iova + MiB - 1 <= window[0].last);
	}
	/* The window is full. */
	EXPECT_RC(c, ioas_map(c, a, mem, 4 * MiB, MiB, RW, &iova), -ENOSPC);
	/* Clearing the list lets automatic allocation use everything. */
	EXPECT_RC(c, ioas_allow_iovas(c, a, NULL, 0), 0);
	EXPECT_RC(c, ioas_map(c, a, mem, 4 * MiB, MiB, RW, &iova), 0);
	EXPECT(iova < window[0].start || iova > window[0].last);
out:
	ioas_client_free(c);
	return ret;
}

/*
 * Rule: registering memory validates seals, type, alignment and size;
 * unregistering an unknown handle is ENOENT and a mapped one EBUSY.
 */
static int body_register(void *arg)
{
	const struct ctx *x = arg;
	struct ioas_client *c = NULL;
	struct ioas_memory_info info;
	uint32_t a = 0, mem = 0, ro = 0, m2 = 0;
	uint64_t iova = 0;
	int fd = -1, pfd[2] = { -1, -1 }, ret = 0;

	EXPECT(open_client(x, &c) == 0);
	EXPECT_RC(c, ioas_alloc(c, &a), 0);

	/* Not sealed against shrinking: EPERM. */
	fd = memfd_create("unsealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	EXPECT(fd >= 0);
	EXPECT(ftruncate(fd, 64 * KiB) == 0);
	EXPECT_RC(c, ioas_memory_register(c, fd, 0, 64 * KiB, &mem, NULL),
		  -EPERM);
	close(fd);

	fd = sealed_memfd(64 * KiB, 0);
	EXPECT(fd >= 0);
	/* Misaligned length, misaligned offset, past the end, zero length. */
	EXPECT_RC(c, ioas_memory_register(c, fd, 0, 4097, &mem, NULL), -EINVAL);
	EXPECT_RC(c, ioas_memory_register(c, fd, 100, 4096, &mem, NULL), -EINVAL);
	EXPECT_RC(c, ioas_memory_register(c, fd, 0, 128 * KiB, &mem, NULL),
		  -EINVAL);
	EXPECT_RC(c, ioas_memory_register(c, fd, 0, 0, &mem, NULL), -EINVAL);
	/* A range of the file. */
	EXPECT_RC(c, ioas_memory_register(c, fd, 16 * KiB, 32 * KiB, &m2, &info),
		  0);
	EXPECT_U64(info.length, 32 * KiB);
	close(fd);
	fd = -1;

	/* Not a file at all. */
	EXPECT(pipe2(pfd, O_CLOEXEC) == 0);
	EXPECT_RC(c, ioas_memory_register(c, pfd[0], 0, 4096, &mem, NULL),
		  -EINVAL);

	/* Write-sealed memory registers read-only and refuses write maps. */
	fd = sealed_memfd(64 * KiB, F_SEAL_WRITE);
	EXPECT(fd >= 0);
	EXPECT_RC(c, ioas_memory_register(c, fd, 0, 64 * KiB, &ro, &info), 0);
	EXPECT(!info.writable);
	EXPECT_RC(c, ioas_map(c, a, ro, 0, 64 * KiB, RW, &iova), -EPERM);
	EXPECT_RC(c, ioas_map(c, a, ro, 0, 64 * KiB, IOAS_MAP_READABLE, &iova),
		  0);
	close(fd);
	fd = -1;

	EXPECT_RC(c, ioas_memory_unregister(c, 999), -ENOENT);
	EXPECT_RC(c, ioas_memory_unregister(c, ro), -EBUSY);
	EXPECT_RC(c, ioas_unmap(c, a, iova, 64 * KiB, NULL), 0);
	EXPECT_RC(c, ioas_memory_unregister(c, ro), 0);
	EXPECT_RC(c, ioas_memory_unregister(c, ro), -ENOENT);
	EXPECT_RC(c, ioas_memory_unregister(c, m2), 0);
out:
	if (fd >= 0)
		close(fd);
	if (pfd[0] >= 0) {
		close(pfd[0]);
		close(pfd[1]);
	}
	ioas_client_free(c);
	return ret;
}

/* Rule: --max-region-size refuses larger regions with EFBIG. */
static int body_region_limit(void *arg)
{
	const struct ctx *x = arg;
	struct ioas_client *c = NULL;
	uint32_t mem = 0;
	int ret = 0;

	EXPECT(open_client(x, &c) == 0);
	EXPECT_RC(c, register_new(c, 2 * MiB, &mem), -EFBIG);
	EXPECT_RC(c, register_new(c, 1 * MiB, &mem), 0);
out:
	ioas_client_free(c);
	return ret;
}

/*
 * Rule: map refuses unknown flags (EOPNOTSUPP), no access bits or bad
 * ranges (EINVAL), unknown handles (ENOENT) and a fixed IOVA that overlaps
 * a mapping (EEXIST); automatic IOVAs avoid existing mappings.
 */
static int body_map(void *arg)
{
	const struct ctx *x = arg;
	struct ioas_client *c = NULL;
	uint32_t a = 0, mem = 0;
	uint64_t iova, fixed = 32 * MiB;
	int ret = 0;

	EXPECT(open_client(x, &c) == 0);
	EXPECT_RC(c, ioas_alloc(c, &a), 0);
	EXPECT_RC(c, register_new(c, 1 * MiB, &mem), 0);

	iova = 0;
	EXPECT_RC(c, ioas_map(c, a, mem, 0, 64 * KiB, RW | (1u << 3), &iova),
		  -EOPNOTSUPP);
	EXPECT_RC(c, ioas_map(c, a, mem, 0, 64 * KiB, 0, &iova), -EINVAL);
	EXPECT_RC(c, ioas_map(c, a, mem, 0, 0, RW, &iova), -EINVAL);
	EXPECT_RC(c, ioas_map(c, a, mem, 512 * KiB, 1 * MiB, RW, &iova),
		  -EINVAL);
	EXPECT_RC(c, ioas_map(c, a + 100, mem, 0, 64 * KiB, RW, &iova),
		  -ENOENT);
	EXPECT_RC(c, ioas_map(c, a, mem + 100, 0, 64 * KiB, RW, &iova),
		  -ENOENT);

	iova = fixed;
	EXPECT_RC(c, ioas_map(c, a, mem, 0, 256 * KiB, RW | IOAS_MAP_FIXED_IOVA,
			      &iova), 0);
	EXPECT_U64(iova, fixed);
	/* Same IOVA, and a partial overlap at either end. */
	iova = fixed;
	EXPECT_RC(c, ioas_map(c, a, mem, 0, 64 * KiB, RW | IOAS_MAP_FIXED_IOVA,
			      &iova), -EEXIST);
	iova = fixed + 192 * KiB;
	EXPECT_RC(c, ioas_map(c, a, mem, 0, 128 * KiB, RW | IOAS_MAP_FIXED_IOVA,
			      &iova), -EEXIST);
	iova = fixed - 64 * KiB;
	EXPECT_RC(c, ioas_map(c, a, mem, 0, 128 * KiB, RW | IOAS_MAP_FIXED_IOVA,
			      &iova), -EEXIST);
	/* Adjacent is fine. */
	iova = fixed + 256 * KiB;
	EXPECT_RC(c, ioas_map(c, a, mem, 256 * KiB, 64 * KiB,
			      IOAS_MAP_READABLE | IOAS_MAP_FIXED_IOVA, &iova), 0);

	/* Automatic IOVAs never land on existing mappings. */
	for (int i = 0; i < 8; i++) {
		EXPECT_RC(c, ioas_map(c, a, mem, 0, 64 * KiB, RW, &iova), 0);
		EXPECT(iova + 64 * KiB <= fixed || iova >= fixed + 320 * KiB);
	}
out:
	ioas_client_free(c);
	return ret;
}

/*
 * Rule: an identity map puts memory at the IOVA equal to the client's own
 * address of it (its MAP_SHARED mmap of the memfd); the description of
 * that address must be this memory at this offset (EINVAL otherwise, on
 * the client side for what it can see, on the daemon side for the rest);
 * it is a fixed map in every other way: EEXIST on an overlap, unmapped
 * at that address (test-tenant: refused by AllowedIOVA= as a fixed map).
 */
static int body_identity(void *arg)
{
	const struct ctx *x = arg;
	struct ioas_client *c = NULL;
	uint32_t a = 0, mem = 0, other = 0;
	uint64_t iova, addr, unmapped = 0;
	void *p = MAP_FAILED, *priv = MAP_FAILED;
	int fd = -1, ret = 0;

	EXPECT(open_client(x, &c) == 0);
	EXPECT_RC(c, ioas_alloc(c, &a), 0);
	fd = sealed_memfd(1 * MiB, 0);
	EXPECT(fd >= 0);
	EXPECT_RC(c, ioas_memory_register(c, fd, 0, 1 * MiB, &mem, NULL), 0);
	EXPECT_RC(c, register_new(c, 1 * MiB, &other), 0);
	p = mmap(NULL, 1 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	EXPECT(p != MAP_FAILED);
	addr = (uint64_t)(uintptr_t)p;

	/* The daemon's checks: another memory, another offset. */
	EXPECT_RC(c, ioas_map_identity(c, a, other, 0, 64 * KiB, RW, p), -EINVAL);
	EXPECT_RC(c, ioas_map_identity(c, a, mem, 64 * KiB, 64 * KiB, RW, p), -EINVAL);
	EXPECT_RC(c, ioas_map_identity(c, a + 100, mem, 0, 64 * KiB, RW, p), -ENOENT);
	EXPECT_RC(c, ioas_map_identity(c, a, mem + 100, 0, 64 * KiB, RW, p), -ENOENT);
	/* The library's: past the end of the mapping, unaligned, private. */
	EXPECT_RC(c, ioas_map_identity(c, a, mem, 0, 2 * MiB, RW, p), -EINVAL);
	EXPECT_RC(c, ioas_map_identity(c, a, mem, 0, 64 * KiB, RW, (char *)p + 1), -EINVAL);
	priv = mmap(NULL, 64 * KiB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	EXPECT(priv != MAP_FAILED);
	EXPECT_RC(c, ioas_map_identity(c, a, mem, 0, 64 * KiB, RW, priv), -EINVAL);

	/* At the address, and at an address inside it with the same offset. */
	EXPECT_RC(c, ioas_map_identity(c, a, mem, 0, 256 * KiB, RW, p), 0);
	EXPECT_RC(c, ioas_map_identity(c, a, mem, 512 * KiB, 64 * KiB,
				       IOAS_MAP_READABLE, (char *)p + 512 * KiB), 0);
	EXPECT_RC(c, ioas_map_identity(c, a, mem, 0, 64 * KiB, RW, p), -EEXIST);
	iova = addr;
	EXPECT_RC(c, ioas_map(c, a, other, 0, 64 * KiB, RW | IOAS_MAP_FIXED_IOVA, &iova),
		  -EEXIST);
	EXPECT_RC(c, ioas_unmap(c, a, addr, 256 * KiB, &unmapped), 0);
	EXPECT_U64(unmapped, 256 * KiB);
	EXPECT_RC(c, ioas_unmap(c, a, addr + 512 * KiB, 64 * KiB, &unmapped), 0);

out:
	if (p != MAP_FAILED)
		munmap(p, 1 * MiB);
	if (priv != MAP_FAILED)
		munmap(priv, 64 * KiB);
	if (fd >= 0)
		close(fd);
	ioas_client_free(c);
	return ret;
}

/*
 * Rule: unmap must cover whole mappings: splitting one, or a range with
 * nothing mapped, is ENOENT and changes nothing; unmap-all of an empty IOAS
 * succeeds with 0 bytes.
 */
static int body_unmap(void *arg)
{
	const struct ctx *x = arg;
	struct ioas_client *c = NULL;
	struct ioas_stats st;
	uint32_t a = 0, mem = 0;
	uint64_t x0 = 16 * MiB, iova, un = 1;
	int ret = 0;

	EXPECT(open_client(x, &c) == 0);
	EXPECT_RC(c, ioas_alloc(c, &a), 0);
	EXPECT_RC(c, register_new(c, 1 * MiB, &mem), 0);

	EXPECT_RC(c, ioas_unmap_all(c, a, &un), 0);
	EXPECT_U64(un, 0);

	iova = x0;
	EXPECT_RC(c, ioas_map(c, a, mem, 0, 64 * KiB, RW | IOAS_MAP_FIXED_IOVA,
			      &iova), 0);
	iova = x0 + 64 * KiB;
	EXPECT_RC(c, ioas_map(c, a, mem, 64 * KiB, 64 * KiB,
			      RW | IOAS_MAP_FIXED_IOVA, &iova), 0);

	EXPECT_RC(c, ioas_unmap(c, a, x0, 32 * KiB, &un), -ENOENT);
	EXPECT_RC(c, ioas_unmap(c, a, x0 + 60 * KiB, 8 * KiB, &un), -ENOENT);
	EXPECT_RC(c, ioas_unmap(c, a, x0, 96 * KiB, &un), -ENOENT);
	EXPECT_RC(c, ioas_unmap(c, a, 512 * MiB, 64 * KiB, &un), -ENOENT);
	EXPECT_RC(c, ioas_unmap(c, a, x0, 0, &un), -EINVAL);
	EXPECT_RC(c, ioas_unmap(c, a + 1, x0, 64 * KiB, &un), -ENOENT);
	EXPECT_RC(c, ioas_stats(c, &st), 0);
	EXPECT_U64(st.mappings, 2);
	EXPECT_U64(st.mapped_bytes, 128 * KiB);

	/* A superset of whole mappings; the hole around them is fine. */
	EXPECT_RC(c, ioas_unmap(c, a, x0 - 1 * MiB, 4 * MiB, &un), 0);
	EXPECT_U64(un, 128 * KiB);
	EXPECT_RC(c, ioas_stats(c, &st), 0);
	EXPECT_U64(st.mappings, 0);
	EXPECT_U64(st.pinned_bytes, 0);
	EXPECT_RC(c, ioas_unmap(c, a, x0, 64 * KiB, &un), -ENOENT);
out:
	ioas_client_free(c);
	return ret;
}

/*
 * Rule: copy maps an existing range into another IOAS without pinning
 * again; a source range with a hole is ENOENT; a fixed destination that
 * overlaps is EEXIST; unknown flags EOPNOTSUPP.
 */
static int body_copy(void *arg)
{
	const struct ctx *x = arg;
	struct ioas_client *c = NULL;
	struct ioas_stats st;
	uint32_t a = 0, b = 0, mem = 0;
	uint64_t x0 = 16 * MiB, iova, dst = 0, dst2, un;
	int ret = 0;

	EXPECT(open_client(x, &c) == 0);
	EXPECT_RC(c, ioas_alloc(c, &a), 0);
	EXPECT_RC(c, ioas_alloc(c, &b), 0);
	EXPECT_RC(c, register_new(c, 1 * MiB, &mem), 0);

	iova = x0;
	EXPECT_RC(c, ioas_map(c, a, mem, 0, 64 * KiB, RW | IOAS_MAP_FIXED_IOVA,
			      &iova), 0);
	iova = x0 + 64 * KiB;
	EXPECT_RC(c, ioas_map(c, a, mem, 64 * KiB, 64 * KiB,
			      RW | IOAS_MAP_FIXED_IOVA, &iova), 0);

	/* Hole after the second mapping; nothing at all; bad flags; unknown. */
	EXPECT_RC(c, ioas_copy(c, b, a, RW, x0, 192 * KiB, &dst), -ENOENT);
	EXPECT_RC(c, ioas_copy(c, b, a, RW, 256 * MiB, 64 * KiB, &dst), -ENOENT);
	EXPECT_RC(c, ioas_copy(c, b, a, RW | (1u << 4), x0, 64 * KiB, &dst),
		  -EOPNOTSUPP);
	EXPECT_RC(c, ioas_copy(c, b + 10, a, RW, x0, 64 * KiB, &dst), -ENOENT);
	EXPECT_RC(c, ioas_copy(c, b, a + 10, RW, x0, 64 * KiB, &dst), -ENOENT);

	/* Across both adjacent mappings: fine. */
	EXPECT_RC(c, ioas_copy(c, b, a, RW, x0, 128 * KiB, &dst), 0);
	EXPECT_RC(c, ioas_stats(c, &st), 0);
	EXPECT_U64(st.mapped_bytes, 256 * KiB);
	EXPECT_U64(st.pinned_bytes, 128 * KiB);

	/* Fixed destination on top of the copy: EEXIST. */
	dst2 = dst;
	EXPECT_RC(c, ioas_copy(c, b, a, RW | IOAS_MAP_FIXED_IOVA, x0, 64 * KiB,
			       &dst2), -EEXIST);
	/* Fixed destination elsewhere: exactly there. */
	dst2 = 512 * MiB;
	EXPECT_RC(c, ioas_copy(c, b, a, IOAS_MAP_READABLE | IOAS_MAP_FIXED_IOVA,
			       x0 + 64 * KiB, 64 * KiB, &dst2), 0);
	EXPECT_U64(dst2, 512 * MiB);

	/* The copy outlives the source mapping. */
	EXPECT_RC(c, ioas_unmap_all(c, a, &un), 0);
	EXPECT_U64(un, 128 * KiB);
	EXPECT_RC(c, ioas_stats(c, &st), 0);
	EXPECT_U64(st.pinned_bytes, 128 * KiB);
	EXPECT_RC(c, ioas_unmap(c, b, dst2, 64 * KiB, &un), 0);
	EXPECT_RC(c, ioas_unmap_all(c, b, &un), 0);
	EXPECT_U64(un, 128 * KiB);
	EXPECT_RC(c, ioas_stats(c, &st), 0);
	EXPECT_U64(st.pinned_bytes, 0);
out:
	ioas_client_free(c);
	return ret;
}

/* Rule: IOMMU_OPTION_HUGE_PAGES is per IOAS, default 1, values 0/1 only. */
/*
 * Rule: at the top of the address space the kernel's own checks answer, in
 * its order: UINT64_MAX as an iova or a length (EOVERFLOW; iova 0 with
 * length UINT64_MAX is "unmap all"), length 0 (EINVAL), a range that wraps
 * (EOVERFLOW), the access bits of a copy (EINVAL), and only then the areas
 * (ENOENT) — the daemon's own up-front checks come after them. The last
 * page can be mapped at a fixed IOVA and copied to and from; an automatic
 * IOVA never lands in it.
 */
static int body_top_of_space(void *arg)
{
	const struct ctx *x = arg;
	struct ioas_client *c = NULL;
	struct ioas_stats st;
	const uint64_t page = (uint64_t)getpagesize(), top = UINT64_MAX - page + 1;
	struct ioas_iova_range last2 = { top - page, UINT64_MAX };
	uint32_t a = 0, b = 0, mem = 0;
	uint64_t iova, un;
	int ret = 0;

	EXPECT(open_client(x, &c) == 0);
	EXPECT_RC(c, ioas_alloc(c, &a), 0);
	EXPECT_RC(c, ioas_alloc(c, &b), 0);
	EXPECT_RC(c, register_new(c, 64 * KiB, &mem), 0);

	/* Nothing mapped: the argument checks still come first. */
	EXPECT_RC(c, ioas_unmap(c, a, UINT64_MAX, 1, &un), -EOVERFLOW);
	EXPECT_RC(c, ioas_unmap(c, a, UINT64_MAX, 0, &un), -EOVERFLOW);
	EXPECT_RC(c, ioas_unmap(c, a, 1, UINT64_MAX, &un), -EOVERFLOW);
	EXPECT_RC(c, ioas_unmap(c, a, top, 0, &un), -EINVAL);
	EXPECT_RC(c, ioas_unmap(c, a, top, 2 * page, &un), -EOVERFLOW);
	EXPECT_RC(c, ioas_unmap(c, a, top, page, &un), -ENOENT);

	/* The last page at a fixed IOVA: fine; one byte further wraps. */
	iova = top;
	EXPECT_RC(c, ioas_map(c, a, mem, 0, page, RW | IOAS_MAP_FIXED_IOVA,
			      &iova), 0);
	EXPECT_U64(iova, top);
	iova = top + 1;
	EXPECT_RC(c, ioas_map(c, a, mem, 0, page, RW | IOAS_MAP_FIXED_IOVA,
			      &iova), -EOVERFLOW);
	iova = UINT64_MAX;
	EXPECT_RC(c, ioas_map(c, a, mem, 0, page, RW | IOAS_MAP_FIXED_IOVA,
			      &iova), -EOVERFLOW);

	/* Mapped at UINT64_MAX now: still EOVERFLOW, not "would split". */
	EXPECT_RC(c, ioas_unmap(c, a, UINT64_MAX, 1, &un), -EOVERFLOW);
	EXPECT_RC(c, ioas_unmap(c, a, 1, UINT64_MAX, &un), -EOVERFLOW);
	EXPECT_RC(c, ioas_unmap(c, a, UINT64_MAX - 1, 2, &un), -ENOENT);
	EXPECT_RC(c, ioas_stats(c, &st), 0);
	EXPECT_U64(st.mappings, 1);

	/* Copies from and to the last page. */
	iova = top;
	EXPECT_RC(c, ioas_copy(c, b, a, RW | IOAS_MAP_FIXED_IOVA, top, page,
			       &iova), 0);
	EXPECT_U64(iova, top);
	iova = top + 1;
	EXPECT_RC(c, ioas_copy(c, b, a, RW | IOAS_MAP_FIXED_IOVA, top, page,
			       &iova), -EOVERFLOW);
	iova = 0;
	EXPECT_RC(c, ioas_copy(c, b, a, RW, top, 2 * page, &iova), -EOVERFLOW);
	/* No access bits: EINVAL before the source is looked at. */
	EXPECT_RC(c, ioas_copy(c, b, a + 10, 0, top, page, &iova), -EINVAL);
	EXPECT_RC(c, ioas_copy(c, b, a, 0, top - page, page, &iova), -EINVAL);
	EXPECT_RC(c, ioas_copy(c, b, a, 0, top, page, &iova), -EINVAL);
	/* Automatic: offset 0 of the memory, one page: the first free page. */
	EXPECT_RC(c, ioas_copy(c, b, a, RW, top, page, &iova), 0);
	EXPECT_U64(iova, page);

	/* An automatic IOVA never takes the last page, even when allowed. */
	EXPECT_RC(c, ioas_unmap(c, a, top, page, &un), 0);
	EXPECT_U64(un, page);
	EXPECT_RC(c, ioas_allow_iovas(c, a, &last2, 1), 0);
	EXPECT_RC(c, ioas_map(c, a, mem, page, page, RW, &iova), 0);
	EXPECT_U64(iova, top - page);
	EXPECT_RC(c, ioas_map(c, a, mem, page, page, RW, &iova), -ENOSPC);

	EXPECT_RC(c, ioas_unmap_all(c, a, &un), 0);
	EXPECT_U64(un, page);
	EXPECT_RC(c, ioas_unmap_all(c, b, &un), 0);
	EXPECT_U64(un, 2 * page);
	EXPECT_RC(c, ioas_stats(c, &st), 0);
	EXPECT_U64(st.mappings, 0);
out:
	ioas_client_free(c);
	return ret;
}

/* "thp=yes hpage_size=N page_size=N" / "thp=no page_size=N" of the
 * backend description: the largest alignment of an automatic IOVA. */
static uint64_t auto_align_cap(const char *desc, bool *ret_thp)
{
	const char *h = strstr(desc, " hpage_size="), *p = strstr(desc, " page_size=");
	unsigned long long v = 0;

	*ret_thp = strstr(desc, " thp=yes ") != NULL;
	if (*ret_thp && h && sscanf(h, " hpage_size=%llu", &v) == 1)
		return v;
	if (!*ret_thp && p && sscanf(p, " page_size=%llu", &v) == 1)
		return v;
	return 0;
}

/*
 * Rule: an IOVA the daemon picks is the one its kernel picks (or the
 * kernel the sim models, as HelloReply's backend description says):
 * aligned to the smaller of the length rounded up to a power of two and
 * the lowest set bit of the memory's file offset (the source's, for a
 * copy), capped at HPAGE_SIZE on a kernel with THP and at PAGE_SIZE
 * without. The two cases: a copy of 0x198000 bytes mapped from
 * offset 0x8000 lands at 0x8000 with THP and at 0x1000 without; a 1 MiB
 * copy into an allowed range near the top that starts 4 KiB past a 2 MiB
 * boundary is ENOSPC with THP and fits without.
 */
static int body_auto_iova(void *arg)
{
	const struct ctx *x = arg;
	struct ioas_client *c = NULL;
	const struct ioas_iova_range top = { UINT64_C(0xffffffff00001000),
					     UINT64_C(0xffffffff00100fff) };
	uint32_t a = 0, b = 0, mem = 0;
	uint64_t iova, cap, un;
	bool thp;
	int ret = 0;

	EXPECT(open_client(x, &c) == 0);
	cap = auto_align_cap(ioas_client_backend_description(c), &thp);
	if (x->thp >= 0)
		EXPECT(thp == x->thp);
	EXPECT_U64(cap, thp ? 2 * MiB : 4 * KiB);
	EXPECT_RC(c, ioas_alloc(c, &a), 0);
	EXPECT_RC(c, ioas_alloc(c, &b), 0);
	EXPECT_RC(c, register_new(c, 4 * MiB, &mem), 0);

	iova = 256 * MiB;
	EXPECT_RC(c, ioas_map(c, a, mem, 0x8000, 0x198000,
			      RW | IOAS_MAP_FIXED_IOVA, &iova), 0);
	EXPECT_RC(c, ioas_copy(c, a, a, RW, 256 * MiB, 0x198000, &iova), 0);
	EXPECT_U64(iova, thp ? 0x8000 : 0x1000);
	/* offset 0, 0x198000 bytes: 2 MiB aligned with THP, else the next
	 * free page after the copy */
	EXPECT_RC(c, ioas_map(c, a, mem, 0, 0x198000, RW, &iova), 0);
	EXPECT_U64(iova, thp ? 0x200000 : 0x199000);
	/* below both caps: the same everywhere */
	EXPECT_RC(c, ioas_map(c, b, mem, 0x1000, 0x1000, IOAS_MAP_READABLE, &iova), 0);
	EXPECT_U64(iova, 0x1000);

	iova = 512 * MiB;
	EXPECT_RC(c, ioas_map(c, a, mem, 2 * MiB, 2 * MiB,
			      RW | IOAS_MAP_FIXED_IOVA, &iova), 0);
	EXPECT_RC(c, ioas_allow_iovas(c, b, &top, 1), 0);
	iova = 0;
	EXPECT_RC(c, ioas_copy(c, b, a, RW, 512 * MiB, MiB, &iova),
		  thp ? -ENOSPC : 0);
	if (!thp)
		EXPECT_U64(iova, top.start);
	/* a page fits where 1 MiB did not; the range is full otherwise */
	iova = 0;
	EXPECT_RC(c, ioas_copy(c, b, a, RW, 512 * MiB, 4 * KiB, &iova),
		  thp ? 0 : -ENOSPC);
	if (thp)
		EXPECT_U64(iova, top.start);

	EXPECT_RC(c, ioas_unmap_all(c, a, &un), 0);
	EXPECT_U64(un, 2 * 0x198000 + 0x198000 + 2 * MiB);
	EXPECT_RC(c, ioas_unmap_all(c, b, &un), 0);
	EXPECT_U64(un, 4 * KiB + (thp ? 4 * KiB : MiB));
out:
	ioas_client_free(c);
	return ret;
}

static int body_huge_pages(void *arg)
{
	const struct ctx *x = arg;
	struct ioas_client *c = NULL;
	uint32_t a = 0, b = 0;
	bool on = false;
	uint64_t v;
	int ret = 0;

	EXPECT(open_client(x, &c) == 0);
	EXPECT(ioas_client_caps(c) & IOAS_CAP_HUGE_PAGES);
	EXPECT_RC(c, ioas_alloc(c, &a), 0);
	EXPECT_RC(c, ioas_alloc(c, &b), 0);
	EXPECT_RC(c, ioas_huge_pages_get(c, a, &on), 0);
	EXPECT(on);
	EXPECT_RC(c, ioas_huge_pages_set(c, a, false), 0);
	EXPECT_RC(c, ioas_huge_pages_get(c, a, &on), 0);
	EXPECT(!on);
	/* Per IOAS. */
	EXPECT_RC(c, ioas_huge_pages_get(c, b, &on), 0);
	EXPECT(on);
	EXPECT_RC(c, ioas_huge_pages_set(c, a, true), 0);
	EXPECT_RC(c, ioas_huge_pages_get(c, a, &on), 0);
	EXPECT(on);

	v = 2;
	EXPECT_RC(c, ioas_option(c, IOAS_OPTION_OP_SET, IOAS_OPTION_HUGE_PAGES,
				 a, &v), -EINVAL);
	v = 0;
	EXPECT_RC(c, ioas_option(c, 7, IOAS_OPTION_HUGE_PAGES, a, &v),
		  -EOPNOTSUPP);
	/* The kernel looks the IOAS up before the op (iommufd_ioas_option). */
	EXPECT_RC(c, ioas_option(c, 7, IOAS_OPTION_HUGE_PAGES, 55, &v), -ENOENT);
	EXPECT_RC(c, ioas_option(c, IOAS_OPTION_OP_GET, 99, a, &v),
		  -EOPNOTSUPP);
	EXPECT_RC(c, ioas_huge_pages_get(c, 55, &on), -ENOENT);
out:
	ioas_client_free(c);
	return ret;
}

/*
 * Rule: handles are connection-local: connection B using A's handle numbers
 * reaches nothing of A's, and gets its own numbering from 1.
 */
static int body_connection_local(void *arg)
{
	const struct ctx *x = arg;
	struct ioas_client *ca = NULL, *cb = NULL;
	struct ioas_stats st;
	uint32_t a = 0, ma = 0, b = 0, mb = 0, n = 0;
	uint64_t fixed = 16 * MiB, iova, un;
	int ret = 0;

	EXPECT(open_client(x, &ca) == 0);
	EXPECT(open_client(x, &cb) == 0);

	EXPECT_RC(ca, ioas_alloc(ca, &a), 0);
	EXPECT_RC(ca, register_new(ca, 256 * KiB, &ma), 0);
	iova = fixed;
	EXPECT_RC(ca, ioas_map(ca, a, ma, 0, 256 * KiB,
			       RW | IOAS_MAP_FIXED_IOVA, &iova), 0);

	/* B names A's handles: nothing there. */
	EXPECT_RC(cb, ioas_iova_ranges(cb, a, NULL, &n, NULL), -ENOENT);
	EXPECT_RC(cb, ioas_unmap_all(cb, a, &un), -ENOENT);
	EXPECT_RC(cb, ioas_unmap(cb, a, fixed, 256 * KiB, &un), -ENOENT);
	EXPECT_RC(cb, ioas_memory_unregister(cb, ma), -ENOENT);
	EXPECT_RC(cb, ioas_destroy(cb, a), -ENOENT);

	/* B's own objects get the same numbers and are separate. */
	EXPECT_RC(cb, ioas_alloc(cb, &b), 0);
	EXPECT_U64(b, a);
	EXPECT_RC(cb, ioas_unmap_all(cb, b, &un), 0);
	EXPECT_U64(un, 0);
	EXPECT_RC(cb, ioas_map(cb, b, ma, 0, 4096, RW, &iova), -ENOENT);
	EXPECT_RC(cb, register_new(cb, 64 * KiB, &mb), 0);
	EXPECT_U64(mb, ma);
	iova = fixed;
	EXPECT_RC(cb, ioas_map(cb, b, mb, 0, 64 * KiB,
			       RW | IOAS_MAP_FIXED_IOVA, &iova), 0);
	/* Copy cannot reach across connections either. */
	EXPECT_RC(cb, ioas_copy(cb, b, a + 1, RW, fixed, 256 * KiB, &iova),
		  -ENOENT);

	EXPECT_RC(cb, ioas_stats(cb, &st), 0);
	EXPECT_U64(st.ioas, 1);
	EXPECT_U64(st.mappings, 1);
	EXPECT_U64(st.mapped_bytes, 64 * KiB);
	/* Nor does B see A's figures daemon-wide. */
	EXPECT(!st.daemon_wide);
	EXPECT_U64(st.connections, 0);
	EXPECT_U64(st.total_ioas, 0);

	/* A is untouched. */
	EXPECT_RC(ca, ioas_stats(ca, &st), 0);
	EXPECT_U64(st.mappings, 1);
	EXPECT_U64(st.mapped_bytes, 256 * KiB);
	EXPECT_RC(ca, ioas_unmap(ca, a, fixed, 256 * KiB, &un), 0);
	EXPECT_U64(un, 256 * KiB);

	/* A leaving leaves B's objects alone (that A's are released is
	 * checked daemon-wide, by root, once both are gone). */
	ca = ioas_client_free(ca);
	EXPECT_RC(cb, ioas_stats(cb, &st), 0);
	EXPECT_U64(st.ioas, 1);
	EXPECT_U64(st.mappings, 1);
	EXPECT_RC(cb, ioas_unmap(cb, b, fixed, 64 * KiB, &un), 0);
	EXPECT_U64(un, 64 * KiB);
out:
	ioas_client_free(ca);
	ioas_client_free(cb);
	return ret;
}

/* One full map/copy/unmap cycle, repeated; for the concurrency test. */
static int cycles(const struct ctx *x, int n)
{
	struct ioas_client *c = NULL;
	uint32_t a = 0, b = 0, mem = 0;
	uint64_t iova, dst, un;
	int ret = 0;

	EXPECT(open_client(x, &c) == 0);
	EXPECT_RC(c, ioas_alloc(c, &a), 0);
	EXPECT_RC(c, ioas_alloc(c, &b), 0);
	EXPECT_RC(c, register_new(c, 256 * KiB, &mem), 0);
	for (int i = 0; i < n; i++) {
		EXPECT_RC(c, ioas_map(c, a, mem, 0, 256 * KiB, RW, &iova), 0);
		EXPECT_RC(c, ioas_copy(c, b, a, RW, iova, 256 * KiB, &dst), 0);
		EXPECT_RC(c, ioas_unmap(c, a, iova, 256 * KiB, &un), 0);
		EXPECT_U64(un, 256 * KiB);
		EXPECT_RC(c, ioas_unmap_all(c, b, &un), 0);
		EXPECT_U64(un, 256 * KiB);
	}
out:
	ioas_client_free(c);
	return ret;
}

/* Rule: two clients at once are served independently. */
static int body_two_clients(void *arg)
{
	const struct ctx *x = arg;
	int ret = 0, status = 0, mine;
	pid_t pid;

	fflush(stderr);
	pid = fork();
	EXPECT(pid >= 0);
	if (pid == 0)
		_exit(cycles(x, 50) == 0 ? 0 : 1);
	mine = cycles(x, 50);
	EXPECT(waitpid(pid, &status, 0) == pid);
	EXPECT(mine == 0);
	EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
out:
	return ret;
}

/* A client that dies mid-session without closing anything politely. */
static int body_crash(void *arg)
{
	const struct ctx *x = arg;
	struct ioas_client *c = NULL;
	uint32_t a = 0, mem = 0;
	uint64_t iova = 0;
	int ret = 0;

	EXPECT(open_client(x, &c) == 0);
	EXPECT_RC(c, ioas_alloc(c, &a), 0);
	for (int i = 0; i < 4; i++) {
		EXPECT_RC(c, register_new(c, 128 * KiB, &mem), 0);
		EXPECT_RC(c, ioas_map(c, a, mem, 0, 128 * KiB, RW, &iova), 0);
	}
	/* Die with the connection and everything on it still open. */
	raise(SIGKILL);
out:
	ioas_client_free(c);
	return ret;
}

/* ------------------------------------------------------------ tests */

START_TEST(test_hello)
{
	run_case(_i, NULL, body_hello);
}
END_TEST

START_TEST(test_full_cycle)
{
	run_case(_i, NULL, body_full_cycle);
}
END_TEST

START_TEST(test_alloc_destroy)
{
	run_case(_i, NULL, body_alloc_destroy);
}
END_TEST

START_TEST(test_iova_ranges)
{
	run_case(_i, NULL, body_iova_ranges);
}
END_TEST

START_TEST(test_allow_iovas)
{
	run_case(_i, NULL, body_allow_iovas);
}
END_TEST

START_TEST(test_register)
{
	run_case(_i, NULL, body_register);
}
END_TEST

START_TEST(test_region_limit)
{
	static const char *const extra[] = { "--max-region-size", "1M", NULL };

	run_case(_i, extra, body_region_limit);
}
END_TEST

START_TEST(test_map)
{
	run_case(_i, NULL, body_map);
}
END_TEST

START_TEST(test_identity)
{
	run_case(_i, NULL, body_identity);
}
END_TEST

START_TEST(test_unmap)
{
	run_case(_i, NULL, body_unmap);
}
END_TEST

START_TEST(test_copy)
{
	run_case(_i, NULL, body_copy);
}
END_TEST

START_TEST(test_top_of_space)
{
	run_case(_i, NULL, body_top_of_space);
}
END_TEST

/* On the sim, each path in both models (--sim-thp yes and no, whatever
 * this machine is); on a kernel, the kernel as it is. */
START_TEST(test_auto_iova)
{
	static const char *const thp_args[2][3] = {
		{ "--sim-thp", "no", NULL },
		{ "--sim-thp", "yes", NULL },
	};

	if (harness_backend_is_sim())
		run_case(_i & 1, thp_args[_i >> 1], body_auto_iova);
	else
		run_case(0, NULL, body_auto_iova);
}
END_TEST

START_TEST(test_huge_pages)
{
	run_case(_i, NULL, body_huge_pages);
}
END_TEST

START_TEST(test_connection_local)
{
	run_case(_i, NULL, body_connection_local);
}
END_TEST

START_TEST(test_two_clients)
{
	run_case(_i, NULL, body_two_clients);
}
END_TEST

/*
 * Rule: everything a connection owns is released on disconnect, including
 * when the client is killed: the daemon's fd count returns to baseline
 * (checked by run_case), after having grown by the connection plus one fd
 * per registered region while the client held them (checked here, as root,
 * since /proc/<daemon>/fd is not readable by the client).
 */
START_TEST(test_release_on_disconnect)
{
	struct harness_daemon d;
	struct ioas_client *c = NULL;
	char err[256];
	uint32_t a = 0, mem = 0;
	uint64_t iova = 0;
	int base, r;

	ck_assert_int_eq(harness_daemon_start(&d, variant_args[_i]), 0);
	base = harness_fd_count_settled(d.pid, 5000);
	ck_assert_int_gt(base, 0);

	r = ioas_client_connect(d.socket, "release", &c, err, sizeof(err));
	ck_assert_msg(r == 0, "connect: %s", err);
	ck_assert_int_eq(ioas_alloc(c, &a), 0);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(register_new(c, 64 * KiB, &mem), 0);
		ck_assert_int_eq(ioas_map(c, a, mem, 0, 64 * KiB, RW, &iova), 0);
	}
	ck_assert_int_eq(harness_fd_count_settled(d.pid, 5000), base + 1 + 3);
	c = ioas_client_free(c);
	check_released(&d, base, variant_name(_i));
	ck_assert_int_eq(harness_daemon_stop(&d), 0);
}
END_TEST

/* Rule: a client killed mid-session leaves nothing behind in the daemon. */
START_TEST(test_crash_releases)
{
	struct harness_daemon d;
	struct ctx x;
	int base, status = 0;
	pid_t pid;

	ck_assert_int_eq(harness_daemon_start(&d, variant_args[_i]), 0);
	base = harness_fd_count_settled(d.pid, 5000);
	x.socket = d.socket;
	x.map_file = variant_map_file(_i);
	x.thp = -1;
	fflush(stderr);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(body_crash(&x) ? 1 : 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		      "client did not get as far as killing itself (status 0x%x)",
		      status);
	check_released(&d, base, variant_name(_i));
	ck_assert_int_eq(harness_daemon_stop(&d), 0);
}
END_TEST

/* Rule: a connect to a missing socket fails cleanly with a reason. */
START_TEST(test_connect_missing)
{
	struct ioas_client *c = NULL;
	char err[256] = "";
	int r;

	r = ioas_client_connect("/nonexistent/ioasd.sock", NULL, &c, err,
				sizeof(err));
	ck_assert_int_eq(r, -ENOENT);
	ck_assert_ptr_null(c);
	ck_assert(err[0] != '\0');
}
END_TEST

/* Rule: the sealed-memfd helper seals against shrink and grow. */
START_TEST(test_memfd_helper)
{
	int fd = -1, seals;

	ck_assert_int_eq(ioas_memfd_create("x", 8192, &fd), 0);
	ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	seals = fcntl(fd, F_GET_SEALS);
	ck_assert(seals & F_SEAL_SHRINK);
	ck_assert(seals & F_SEAL_GROW);
	ck_assert_int_eq(lseek(fd, 0, SEEK_END), 8192);
	ck_assert_int_ne(ftruncate(fd, 4096), 0);
	close(fd);
	ck_assert_int_eq(ioas_memfd_create("x", 0, &fd), -EINVAL);
}
END_TEST

static Suite *integration_suite(void)
{
	Suite *s = suite_create("integration");
	TCase *tc = tcase_create(harness_backend());
	TCase *local = tcase_create("local");
	int nv = n_variants();

	/* sim: _i = 0 default (MAP_FILE), 1 --sim-no-map-file (mmap);
	 * another backend: _i = 0 only, the path that backend offers. */
	tcase_add_loop_test(tc, test_hello, 0, nv);
	tcase_add_loop_test(tc, test_full_cycle, 0, nv);
	tcase_add_loop_test(tc, test_alloc_destroy, 0, nv);
	tcase_add_loop_test(tc, test_iova_ranges, 0, nv);
	tcase_add_loop_test(tc, test_allow_iovas, 0, nv);
	tcase_add_loop_test(tc, test_register, 0, nv);
	tcase_add_loop_test(tc, test_region_limit, 0, nv);
	tcase_add_loop_test(tc, test_map, 0, nv);
	tcase_add_loop_test(tc, test_identity, 0, nv);
	tcase_add_loop_test(tc, test_unmap, 0, nv);
	tcase_add_loop_test(tc, test_copy, 0, nv);
	tcase_add_loop_test(tc, test_top_of_space, 0, nv);
	tcase_add_loop_test(tc, test_auto_iova, 0, harness_backend_is_sim() ? 4 : 1);
	tcase_add_loop_test(tc, test_huge_pages, 0, nv);
	tcase_add_loop_test(tc, test_connection_local, 0, nv);
	tcase_add_loop_test(tc, test_two_clients, 0, nv);
	tcase_add_loop_test(tc, test_release_on_disconnect, 0, nv);
	tcase_add_loop_test(tc, test_crash_releases, 0, nv);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);

	tcase_add_test(local, test_connect_missing);
	tcase_add_test(local, test_memfd_helper);
	suite_add_tcase(s, local);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(integration_suite());
	int failed;

	if (!getenv("IOASD_BIN")) {
		fprintf(stderr, "IOASD_BIN is not set; run through 'make check'\n");
		srunner_free(sr);
		return 77;
	}
	if (!harness_backend_is_sim()) {
		int mf = variant_map_file(0);

		printf("backend %s: one variant per case (--sim-no-map-file is a sim knob); "
		       "IOMMU_IOAS_MAP_FILE %s\n", harness_backend(),
		       mf < 0 ? "not checked (IOASD_TEST_MAP_FILE is not 0 or 1)" :
		       mf ? "required" : "must be absent");
	}
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
