/* SPDX-License-Identifier: MIT */
/*
 * ioasd-state-bench: does restart support cost the same whatever the daemon
 * holds? One run, one table (the sim natively; the
 * kernel in the real-kernel suite, smaller):
 *
 *  - the latency of a mutating request (a 4 KiB map or unmap, measured as
 *    map+unmap pairs of one probe mapping) while one tenant holds 1k, 10k,
 *    100k and 1M mappings, with restart support (--state-dir on tmpfs, as
 *    the shipped unit has it) and without; the first must be flat (the
 *    largest size at most 2x the smallest) and the ratio of the two is what
 *    restart support costs (goal: >= 0.8x the rate);
 *  - a second tenant's latency while the first holds the most;
 *  - restore after SIGKILL at 100k and 1M mappings: the time until the
 *    tenant is reclaimed, and the new daemon's peak RSS against the RSS of
 *    the one killed (goals: <= 1 s at 1M, <= 1.2x);
 *  - a probe tenant's p99 and worst latency while a tenant holding the most
 *    unmaps all of it in one request, and while it is released (it
 *    disconnects; goal p99 <= 10 ms for both).
 *
 *   ioasd-state-bench --daemon PATH [--max N] [--state-parent DIR]
 *                     [--backend sim|kernel] [--leave-killed]
 *
 * --leave-killed: only fill one tenant to --max, SIGKILL the daemon and
 * leave its state directory (and fd holder) for a restore to be profiled;
 * prints the directory. --max (default 1000000) is the largest size; the sizes are the powers of
 * ten from 1000 up to it. It prints figures and PASS/MISS against the
 * goals; it is not a test (machines are noisy: compare within one run).
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/harness.h"
#include "ioas.h"

#define PAGE 4096ull
#define REGION (2ull << 20)        /* one memfd, mapped again and again */
#define FILL_BASE (1ull << 32)     /* the held mappings: [4 GiB, ...) */
#define PROBE_IOVA (1ull << 44)    /* the probe mapping, far above them */
#define PAIRS 2000                 /* probe pairs per measurement */
#define MAX_SIZES 8

static uint64_t now_ns(void)
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

static void die(const char *what, int r, struct ioas_client *c)
{
	fprintf(stderr, "ioasd-state-bench: %s: %s%s%s\n", what, strerror(r < 0 ? -r : r),
		c ? ": " : "", c ? ioas_client_last_error(c) : "");
	exit(1);
}

/* A tenant: one connection (--no-policy: its own tenant), one IOAS, one
 * 2 MiB region. */
struct tenant {
	struct ioas_client *c;
	uint32_t ioas, mem;
	int memfd;
	uint64_t held;     /* mappings at FILL_BASE + i * PAGE */
	char token[64];
};

static void tenant_open(struct tenant *t, const struct harness_daemon *d, const char *name)
{
	int r;

	memset(t, 0, sizeof(*t));
	r = harness_connect(d, name, &t->c);
	if (r < 0)
		die("connect", r, NULL);
	if (ioas_client_reclaim_token(t->c))
		snprintf(t->token, sizeof(t->token), "%s", ioas_client_reclaim_token(t->c));
	if ((r = ioas_alloc(t->c, &t->ioas)) < 0)
		die("IOAS alloc", r, t->c);
	if ((r = ioas_memfd_create(name, REGION, &t->memfd)) < 0)
		die("memfd", r, NULL);
	if ((r = ioas_memory_register(t->c, t->memfd, 0, REGION, &t->mem, NULL)) < 0)
		die("register", r, t->c);
}

static void tenant_close(struct tenant *t)
{
	t->c = ioas_client_free(t->c);
	if (t->memfd >= 0)
		close(t->memfd);
	t->memfd = -1;
}

/* Batches of 256 maps: the fill is not what is measured. */
static void fill_to(struct tenant *t, uint64_t n)
{
	struct ioas_batch *b = NULL;
	int r = ioas_batch_new(IOAS_BATCH_STOP, &b);

	if (r < 0)
		die("batch", r, NULL);
	while (t->held < n) {
		uint64_t k = 0;

		ioas_batch_clear(b);
		for (; k < 256 && t->held + k < n; k++) {
			uint64_t i = t->held + k;

			r = ioas_batch_map(b, t->ioas, t->mem, (i * PAGE) % REGION, PAGE,
					   IOAS_MAP_FIXED_IOVA | IOAS_MAP_READABLE |
						   IOAS_MAP_WRITEABLE,
					   FILL_BASE + i * PAGE);
			if (r < 0)
				die("batch", r, NULL);
		}
		r = ioas_batch_run(t->c, b);
		if (r < 0)
			die("filling", r, t->c);
		t->held += k;
	}
	ioas_batch_free(b);
}

struct lat {
	double mean_us, p50_us, p99_us, max_us;
};

/* Latencies as they are taken, grown as needed. */
struct samples {
	uint64_t *v, sum;
	size_t n, cap;
};

static void samples_add(struct samples *s, uint64_t ns)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 4096;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v)
			die("samples", -ENOMEM, NULL);
	}
	s->v[s->n++] = ns;
	s->sum += ns;
}

/* Their figures; the samples are freed. */
static struct lat samples_done(struct samples *s)
{
	struct lat l = { 0 };

	if (s->n) {
		qsort(s->v, s->n, sizeof(*s->v), cmp_u64);
		l.mean_us = (double)s->sum / (double)s->n / 1e3;
		l.p50_us = (double)s->v[s->n / 2] / 1e3;
		l.p99_us = (double)s->v[s->n * 99 / 100] / 1e3;
		l.max_us = (double)s->v[s->n - 1] / 1e3;
	}
	free(s->v);
	*s = (struct samples){ 0 };
	return l;
}

/* One map+unmap pair of t's probe mapping: ns per request (half a pair). */
static uint64_t probe_pair(struct tenant *t, const char *what)
{
	uint64_t iova = PROBE_IOVA, t0 = now_ns();
	int r = ioas_map(t->c, t->ioas, t->mem, 0, PAGE,
			 IOAS_MAP_FIXED_IOVA | IOAS_MAP_READABLE, &iova);

	if (r == 0)
		r = ioas_unmap(t->c, t->ioas, PROBE_IOVA, PAGE, NULL);
	if (r < 0)
		die(what, r, t->c);
	return (now_ns() - t0) / 2;
}

/* pairs probe pairs, after a tenth as many unmeasured (caches, the
 * allocator). */
static struct lat probe(struct tenant *t, size_t pairs)
{
	struct samples s = { 0 };

	for (size_t i = 0; i < pairs / 10; i++)
		(void)probe_pair(t, "probe");
	for (size_t i = 0; i < pairs; i++)
		samples_add(&s, probe_pair(t, "probe"));
	return samples_done(&s);
}

static long proc_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t n = strlen(field);
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':')
			kb = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return kb;
}

struct opts {
	const char *daemon;
	const char *state_parent;
	const char *backend;
	uint64_t max;
	bool leave_killed;
};

static void daemon_start(struct harness_daemon *d, const char *state_dir)
{
	const char *args[16] = {
		"--backend", harness_backend(), "--no-policy", "--max-mappings", "4000000",
		"--max-pinned-bytes", "1T", "--max-connections-per-uid", "64",
		"--no-journal",
	};
	size_t n = 10;
	int r;

	if (state_dir) {
		args[n++] = "--state-dir";
		args[n++] = state_dir;
	}
	args[n] = NULL;
	r = harness_daemon_start(d, args);
	if (r < 0)
		die("starting ioasd", r, NULL);
}

struct row {
	uint64_t size;
	struct lat with, without;
};

/* The probe tenant's latencies while tenant big unmaps all it holds (one
 * request, sent asynchronously); big then holds nothing. */
static struct lat during_unmap_all(const struct harness_daemon *d, struct tenant *big)
{
	struct ioas_completion done;
	struct samples s = { 0 };
	struct tenant p;
	struct lat l;
	uint64_t id;
	int r;

	tenant_open(&p, d, "probe");
	(void)probe(&p, 50);
	r = ioas_submit_unmap(big->c, big->ioas, 0, UINT64_MAX, NULL, &id);
	if (r < 0)
		die("unmap all", r, big->c);
	for (;;) {
		samples_add(&s, probe_pair(&p, "probe during unmap all"));
		r = ioas_client_poll_completions(big->c, &done, 1);
		if (r < 0)
			die("unmap all", r, big->c);
		if (r == 1) {
			if (done.error || done.unmapped != big->held * PAGE)
				die("unmap all", done.error ? done.error : -EIO, big->c);
			break;
		}
	}
	big->held = 0;
	l = samples_done(&s);
	tenant_close(&p);
	return l;
}

/* The probe tenant's latencies while tenant big is released: until the
 * daemon holds only the probe's tenant and IOAS (a released tenant leaves
 * the count of tenants at once, its IOAS once its mappings are reaped). */
static struct lat during_release(const struct harness_daemon *d, struct tenant *big)
{
	struct samples s = { 0 };
	struct tenant p;
	struct lat l;
	int pfd[2];
	pid_t pid;

	tenant_open(&p, d, "probe");
	if (pipe(pfd) < 0)
		die("pipe", -errno, NULL);
	pid = fork();
	if (pid == 0) {
		char x;

		/* The child closes big's connection when told: the release. */
		close(pfd[1]);
		if (read(pfd[0], &x, 1) == 1)
			tenant_close(big);
		_exit(0);
	}
	close(pfd[0]);
	tenant_close(big); /* the child holds the connection now */
	(void)probe(&p, 50);
	if (write(pfd[1], "x", 1) != 1)
		die("pipe", -errno, NULL);
	close(pfd[1]);
	for (uint64_t t0 = now_ns(); now_ns() - t0 < 20000000000ull;) {
		struct ioas_stats st;

		samples_add(&s, probe_pair(&p, "probe during release"));
		if (s.n % 64 == 0 && ioas_stats(p.c, &st) == 0 && st.daemon_wide &&
		    st.tenants == 1 && st.total_ioas == 1)
			break;
	}
	waitpid(pid, NULL, 0);
	l = samples_done(&s);
	tenant_close(&p);
	return l;
}

struct restore_fig {
	uint64_t size;
	double seconds;
	long rss_before_kb, hwm_after_kb;
};

/* SIGKILL the daemon holding t's mappings, start it again on the same
 * state, and reclaim t: how long, and how much memory. */
static struct restore_fig restart(struct harness_daemon *d, const char *state_dir,
				  struct tenant *t)
{
	struct restore_fig f = { .size = t->held };
	struct ioas_stats st;
	char err[256];
	int status, r;
	uint64_t t0;

	f.rss_before_kb = proc_kb(d->pid, "VmRSS");
	kill(d->pid, SIGKILL);
	waitpid(d->pid, &status, 0);
	d->pid = 0;
	harness_daemon_stop(d);
	t->c = ioas_client_free(t->c);
	t0 = now_ns();
	daemon_start(d, state_dir);
	r = ioas_client_connect_reclaim(d->socket, "big", t->token, &t->c, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "ioasd-state-bench: reclaim: %s\n", err);
		exit(1);
	}
	r = ioas_stats(t->c, &st);
	f.seconds = (double)(now_ns() - t0) / 1e9;
	if (r < 0 || st.mappings != t->held) {
		fprintf(stderr, "ioasd-state-bench: restored %" PRIu32 " mappings, not %" PRIu64
			"\n", r < 0 ? 0 : st.mappings, t->held);
		exit(1);
	}
	f.hwm_after_kb = proc_kb(d->pid, "VmHWM");
	return f;
}

static const char *verdict(bool ok)
{
	return ok ? "PASS" : "MISS";
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "daemon", required_argument, NULL, 'd' },
		{ "max", required_argument, NULL, 'm' },
		{ "state-parent", required_argument, NULL, 's' },
		{ "backend", required_argument, NULL, 'b' },
		{ "leave-killed", no_argument, NULL, 'k' },
		{ 0 },
	};
	struct opts o = { .max = 1000000, .state_parent = "/dev/shm", .backend = "sim" };
	struct harness_daemon d = { 0 }, d0 = { 0 };
	struct row rows[MAX_SIZES];
	struct restore_fig rf[2];
	size_t nrows = 0, nrf = 0;
	struct tenant big, small, other;
	struct lat second, release, unmap_all;
	char state_dir[PATH_MAX];
	int ch;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'd': o.daemon = optarg; break;
		case 'm': o.max = strtoull(optarg, NULL, 0); break;
		case 's': o.state_parent = optarg; break;
		case 'b': o.backend = optarg; break;
		case 'k': o.leave_killed = true; break;
		default: return 2;
		}
	}
	if (!o.daemon || o.max < 1000) {
		fprintf(stderr, "usage: ioasd-state-bench --daemon PATH [--max N>=1000] "
			"[--state-parent DIR] [--backend sim|kernel]\n");
		return 2;
	}
	setenv("IOASD_BIN", o.daemon, 1);
	setenv("IOASD_TEST_BACKEND", o.backend, 1);
	snprintf(state_dir, sizeof(state_dir), "%s/ioasd-state-bench.XXXXXX", o.state_parent);
	if (!mkdtemp(state_dir))
		die("mkdtemp", -errno, NULL);
	chmod(state_dir, 0700);

	if (o.leave_killed) {
		daemon_start(&d, state_dir);
		tenant_open(&big, &d, "big");
		fill_to(&big, o.max);
		kill(d.pid, SIGKILL);
		waitpid(d.pid, NULL, 0);
		d.pid = 0;
		harness_daemon_stop(&d);
		printf("%s %s\n", state_dir, big.token);
		return 0;
	}
	/* With and without restart support, side by side, size by size. */
	daemon_start(&d, state_dir);
	daemon_start(&d0, NULL);
	tenant_open(&big, &d, "big");
	tenant_open(&small, &d0, "big");
	for (uint64_t size = 1000; size <= o.max && nrows < MAX_SIZES; size *= 10) {
		fill_to(&big, size);
		fill_to(&small, size);
		rows[nrows].size = size;
		rows[nrows].with = probe(&big, PAIRS);
		rows[nrows].without = probe(&small, PAIRS);
		nrows++;
		fprintf(stderr, "  %" PRIu64 " mappings held: %.1f us with, %.1f us without\n",
			size, rows[nrows - 1].with.mean_us, rows[nrows - 1].without.mean_us);
		if (size == 100000 || size * 10 > o.max)
			rf[nrf++] = restart(&d, state_dir, &big);
	}
	tenant_close(&small);
	harness_daemon_stop(&d0);
	tenant_open(&other, &d, "other");
	second = probe(&other, PAIRS);
	tenant_close(&other);
	unmap_all = during_unmap_all(&d, &big);
	fill_to(&big, rows[nrows - 1].size);
	release = during_release(&d, &big);
	harness_daemon_stop(&d);
	rmdir(state_dir);

	printf("ioasd-state-bench (backend %s, state on %s): per mutating request "
	       "(4 KiB map or unmap)\n", o.backend, o.state_parent);
	printf("%12s %14s %14s %10s %12s\n", "held", "restart us", "no-restart us",
	       "rate ratio", "restart p99");
	for (size_t i = 0; i < nrows; i++)
		printf("%12" PRIu64 " %14.1f %14.1f %9.2fx %12.1f\n", rows[i].size,
		       rows[i].with.mean_us, rows[i].without.mean_us,
		       rows[i].without.mean_us / rows[i].with.mean_us, rows[i].with.p99_us);
	{
		double flat = rows[nrows - 1].with.mean_us / rows[0].with.mean_us;
		double worst = 1e9;

		for (size_t i = 0; i < nrows; i++) {
			double r = rows[i].without.mean_us / rows[i].with.mean_us;

			if (r < worst)
				worst = r;
		}
		printf("flat: %" PRIu64 " vs %" PRIu64 " held: %.2fx (goal <= 2x) %s\n",
		       rows[nrows - 1].size, rows[0].size, flat, verdict(flat <= 2.0));
		printf("cost of restart support: worst rate ratio %.2fx (goal >= 0.8x) %s\n",
		       worst, verdict(worst >= 0.8));
	}
	printf("second tenant while %" PRIu64 " are held: %.1f us mean, %.1f us p99\n",
	       rows[nrows - 1].size, second.mean_us, second.p99_us);
	for (size_t i = 0; i < nrf; i++) {
		double ratio = (double)rf[i].hwm_after_kb / (double)rf[i].rss_before_kb;

		printf("restore of %" PRIu64 ": %.3f s (goal <= 1 s) %s; peak RSS %ld KiB vs "
		       "%ld KiB before the kill: %.2fx (goal <= 1.2x) %s\n", rf[i].size,
		       rf[i].seconds, verdict(rf[i].seconds <= 1.0), rf[i].hwm_after_kb,
		       rf[i].rss_before_kb, ratio, verdict(ratio <= 1.2));
	}
	printf("probe tenant during an unmap of all %" PRIu64 ": p99 %.2f ms (goal <= 10 ms) "
	       "%s, max %.2f ms\n", rows[nrows - 1].size, unmap_all.p99_us / 1e3,
	       verdict(unmap_all.p99_us <= 10000.0), unmap_all.max_us / 1e3);
	printf("probe tenant during the release of %" PRIu64 ": p99 %.2f ms (goal <= 10 ms) "
	       "%s, max %.2f ms\n", rows[nrows - 1].size, release.p99_us / 1e3,
	       verdict(release.p99_us <= 10000.0), release.max_us / 1e3);
	return 0;
}
