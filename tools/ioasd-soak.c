/* SPDX-License-Identifier: MIT */
/*
 * ioasd-soak: hostile load against a real ioasd (sim backend), then proof
 * that it gave everything back.
 *
 * Starts a daemon on a private socket (tests/harness.c), forks --clients
 * worker processes that each connect through libioas (as uid 65534 when run
 * as root) and do random alloc/destroy/register/unregister/map/unmap/copy/
 * stats, hang up cleanly, vanish with a request unanswered, or just drop
 * everything; meanwhile the parent SIGKILLs a random worker every
 * --kill-ms and starts a new one. The run stops after --ops operations or
 * --seconds, whichever comes first.
 *
 * Checked while it runs: no transport failure a live daemon would not cause,
 * and every mapping a worker knows of can be unmapped exactly (a lost or
 * extra mapping shows up as a refused or short unmap).
 *
 * Checked at the end, against a baseline taken before any client and again
 * after a warm-up tenth of the run: the daemon is alive; its fd count and
 * its number of memory mappings (/proc/PID/maps) are back to the baseline;
 * a fresh connection sees no IOAS and no pinned byte daemon-wide and is the
 * only connection; VmRSS is within --rss-tolerance of the warm baseline
 * (see tests/fuzz/README.md, "Soak", for why there is a tolerance at all).
 *
 * Exit status 0 when every check passed, 1 otherwise, 2 on usage errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proto/ioasd.pb-c.h"

#include "tests/harness.h"
#include "ioas.h"
#include "proto/wire.h"

/* Built with ASan (then so is the daemon of the same build tree): its
 * quarantine keeps freed memory resident, so RSS says nothing about leaks;
 * LeakSanitizer checks the daemon at exit instead. */
#if defined(__SANITIZE_ADDRESS__)
#define SOAK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SOAK_ASAN 1
#endif
#endif
#ifndef SOAK_ASAN
#define SOAK_ASAN 0
#endif

#define PAGE 4096u
#define MAX_CLIENTS 64
#define MAX_IOAS 8
#define MAX_MEM 8
#define MAX_MAPS 128

struct options {
	unsigned clients;
	uint64_t ops;
	unsigned seconds;
	unsigned kill_ms;
	unsigned seed;
	uint64_t rss_tolerance_kib;
	bool no_map_file;
};

/* Shared with the workers (MAP_SHARED). */
enum { ST_OK, ST_REFUSED, ST_TRANSPORT, ST_LOST, _ST_MAX };
struct shared {
	_Atomic uint64_t ops;
	_Atomic uint64_t limit;       /* stop starting operations here */
	_Atomic uint64_t status[_ST_MAX];
	_Atomic uint64_t abandoned;   /* requests left unanswered on purpose */
	_Atomic uint64_t hangups;
	_Atomic uint64_t connects;
	_Atomic uint64_t refused_connects;
	char first_problem[256];
	atomic_flag problem_set;
};

static struct shared *sh;
static const char *sock_path;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void problem(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void problem(const char *fmt, ...)
{
	va_list ap;

	if (atomic_flag_test_and_set(&sh->problem_set))
		return;
	va_start(ap, fmt);
	vsnprintf(sh->first_problem, sizeof(sh->first_problem), fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------ a worker */

struct mapping {
	unsigned ioas;   /* index into w->ioas */
	uint64_t iova;
	uint64_t length;
};

struct worker {
	struct ioas_client *c;
	unsigned seed;
	uint32_t ioas[MAX_IOAS];
	unsigned n_ioas;
	struct {
		uint32_t handle;
		int fd;
		uint64_t length;
	} mem[MAX_MEM];
	unsigned n_mem;
	struct mapping maps[MAX_MAPS];
	unsigned n_maps;
};

static unsigned rnd(struct worker *w, unsigned n)
{
	return n ? (unsigned)rand_r(&w->seed) % n : 0;
}

static bool transport_error(int r)
{
	return r == -ENOTCONN || r == -EPIPE || r == -ECONNRESET ||
	       r == -EPROTO || r == -ETIMEDOUT || r == -EBADMSG;
}

static void forget_all(struct worker *w)
{
	for (unsigned i = 0; i < w->n_mem; i++)
		close(w->mem[i].fd);
	w->n_ioas = w->n_mem = w->n_maps = 0;
	w->c = ioas_client_free(w->c);
}

/* Count one operation's outcome; false when the client is gone. */
static bool account(struct worker *w, const char *what, int r)
{
	if (r == 0) {
		atomic_fetch_add(&sh->status[ST_OK], 1);
		return true;
	}
	if (transport_error(r)) {
		atomic_fetch_add(&sh->status[ST_TRANSPORT], 1);
		problem("pid %d: %s: transport failure %s (%s)", (int)getpid(),
			what, strerror(-r), ioas_client_last_error(w->c));
		forget_all(w);
		return false;
	}
	atomic_fetch_add(&sh->status[ST_REFUSED], 1);
	return true;
}

static void drop_map(struct worker *w, unsigned i)
{
	w->maps[i] = w->maps[--w->n_maps];
}

static void op_alloc(struct worker *w)
{
	uint32_t h;
	int r;

	if (w->n_ioas == MAX_IOAS)
		return;
	r = ioas_alloc(w->c, &h);
	if (account(w, "alloc", r) && r == 0)
		w->ioas[w->n_ioas++] = h;
}

static void op_destroy(struct worker *w)
{
	unsigned i;
	int r;

	if (!w->n_ioas)
		return;
	i = rnd(w, w->n_ioas);
	r = ioas_destroy(w->c, w->ioas[i]);
	if (!account(w, "destroy", r) || r < 0)
		return;
	for (unsigned m = 0; m < w->n_maps;) {
		if (w->maps[m].ioas == i)
			drop_map(w, m);
		else
			m++;
	}
	/* The last IOAS moves into slot i. */
	w->n_ioas--;
	for (unsigned m = 0; m < w->n_maps; m++)
		if (w->maps[m].ioas == w->n_ioas)
			w->maps[m].ioas = i;
	w->ioas[i] = w->ioas[w->n_ioas];
}

static void op_register(struct worker *w)
{
	uint64_t len = (uint64_t)(1 + rnd(w, 64)) * PAGE;
	uint32_t h;
	int fd, r;

	if (w->n_mem == MAX_MEM)
		return;
	if (ioas_memfd_create("soak", len, &fd) < 0) {
		problem("memfd: %s", strerror(errno));
		return;
	}
	r = ioas_memory_register(w->c, fd, 0, len, &h, NULL);
	if (!account(w, "register", r) || r < 0) {
		close(fd);
		return;
	}
	w->mem[w->n_mem].handle = h;
	w->mem[w->n_mem].fd = fd;
	w->mem[w->n_mem].length = len;
	w->n_mem++;
}

static void op_unregister(struct worker *w)
{
	unsigned i;
	int r;

	if (!w->n_mem)
		return;
	i = rnd(w, w->n_mem);
	r = ioas_memory_unregister(w->c, w->mem[i].handle);
	if (!account(w, "unregister", r) || r < 0)
		return; /* -EBUSY while mapped */
	close(w->mem[i].fd);
	w->mem[i] = w->mem[--w->n_mem];
}

static void op_map(struct worker *w)
{
	unsigned i, m;
	uint64_t iova = 0, pages, off, len;
	uint32_t flags = IOAS_MAP_READABLE | IOAS_MAP_WRITEABLE;
	int r;

	if (!w->n_ioas || !w->n_mem || w->n_maps == MAX_MAPS)
		return;
	i = rnd(w, w->n_ioas);
	m = rnd(w, w->n_mem);
	pages = w->mem[m].length / PAGE;
	off = rnd(w, (unsigned)pages) * (uint64_t)PAGE;
	len = (1 + rnd(w, (unsigned)(pages - off / PAGE))) * (uint64_t)PAGE;
	if (rnd(w, 4) == 0) {
		flags |= IOAS_MAP_FIXED_IOVA;
		iova = (uint64_t)(1 + rnd(w, 4096)) << 20;
	}
	r = ioas_map(w->c, w->ioas[i], w->mem[m].handle, off, len, flags, &iova);
	if (!account(w, "map", r) || r < 0)
		return; /* -EEXIST for an occupied fixed IOVA */
	w->maps[w->n_maps++] = (struct mapping){ i, iova, len };
}

static void op_unmap(struct worker *w)
{
	uint64_t unmapped = 0;
	unsigned i;
	int r;

	if (!w->n_maps)
		return;
	i = rnd(w, w->n_maps);
	r = ioas_unmap(w->c, w->ioas[w->maps[i].ioas], w->maps[i].iova,
		       w->maps[i].length, &unmapped);
	if (!account(w, "unmap", r))
		return;
	if (r < 0 || unmapped != w->maps[i].length) {
		/* The daemon must know every mapping it confirmed. */
		atomic_fetch_add(&sh->status[ST_LOST], 1);
		problem("pid %d: unmap of a confirmed mapping [0x%" PRIx64 ", +0x%" PRIx64
			"): %s, %" PRIu64 " bytes (%s)", (int)getpid(),
			w->maps[i].iova, w->maps[i].length,
			r < 0 ? strerror(-r) : "ok", unmapped,
			ioas_client_last_error(w->c));
	}
	drop_map(w, i);
}

static void op_unmap_all(struct worker *w)
{
	unsigned i;
	int r;

	if (!w->n_ioas)
		return;
	i = rnd(w, w->n_ioas);
	r = ioas_unmap_all(w->c, w->ioas[i], NULL);
	if (!account(w, "unmap-all", r) || r < 0)
		return;
	for (unsigned m = 0; m < w->n_maps;) {
		if (w->maps[m].ioas == i)
			drop_map(w, m);
		else
			m++;
	}
}

static void op_copy(struct worker *w)
{
	uint64_t iova = 0;
	unsigned s, d;
	int r;

	if (!w->n_maps || w->n_maps == MAX_MAPS)
		return;
	s = rnd(w, w->n_maps);
	d = rnd(w, w->n_ioas);
	r = ioas_copy(w->c, w->ioas[d], w->ioas[w->maps[s].ioas],
		      IOAS_MAP_READABLE, w->maps[s].iova, w->maps[s].length,
		      &iova);
	if (!account(w, "copy", r) || r < 0)
		return;
	w->maps[w->n_maps++] = (struct mapping){ d, iova, w->maps[s].length };
}

static void op_stats(struct worker *w)
{
	struct ioas_stats st;

	(void)account(w, "stats", ioas_stats(w->c, &st));
}

/* Send a datagram by hand and leave without reading the reply: a valid
 * request, a register with its memfd in flight, or garbage with an fd. */
static void send_unanswered(struct worker *w)
{
	static const uint8_t garbage[] = { 0x08, 0x01, 0x7a, 0xff, 0x01 };
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__IoasAlloc alloc = IOASD__IOAS_ALLOC__INIT;
	Ioasd__RegisterMemory reg = IOASD__REGISTER_MEMORY__INIT;
	uint8_t buf[64];
	size_t len;
	int fd = -1, r;

	req.id = 1u << 30;
	switch (rnd(w, 3)) {
	case 0:
		req.op_case = IOASD__REQUEST__OP_IOAS_ALLOC;
		req.ioas_alloc = &alloc;
		len = ioasd__request__pack(&req, buf);
		break;
	case 1:
		reg.length = PAGE;
		req.op_case = IOASD__REQUEST__OP_REGISTER_MEMORY;
		req.register_memory = &reg;
		len = ioasd__request__pack(&req, buf);
		(void)ioas_memfd_create("soak-inflight", PAGE, &fd);
		break;
	default:
		memcpy(buf, garbage, sizeof(garbage));
		len = sizeof(garbage);
		(void)ioas_memfd_create("soak-garbage", PAGE, &fd);
		break;
	}
	r = wire_send(ioas_client_fd(w->c), buf, len, &fd, fd >= 0 ? 1 : 0);
	if (fd >= 0)
		close(fd);
	if (r == 0)
		atomic_fetch_add(&sh->abandoned, 1);
}

static int drop_privileges(void)
{
	if (geteuid() != 0)
		return 0;
	if (setgroups(0, NULL) < 0 ||
	    setresgid(HARNESS_CLIENT_GID, HARNESS_CLIENT_GID, HARNESS_CLIENT_GID) < 0 ||
	    setresuid(HARNESS_CLIENT_UID, HARNESS_CLIENT_UID, HARNESS_CLIENT_UID) < 0)
		return -errno;
	return 0;
}

static void worker_main(unsigned seed)
{
	struct worker w = { .seed = seed };
	char err[256];

	if (drop_privileges() < 0) {
		problem("cannot drop to uid %d: %s", HARNESS_CLIENT_UID, strerror(errno));
		_exit(1);
	}
	while (atomic_fetch_add(&sh->ops, 1) < atomic_load(&sh->limit)) {
		unsigned dice;

		if (!w.c) {
			int r = ioas_client_connect(sock_path, "soak", &w.c, err,
						    sizeof(err));

			if (r < 0) {
				/* Connection limits are refusals, not faults. */
				if (r == -EUSERS || r == -EAGAIN) {
					atomic_fetch_add(&sh->refused_connects, 1);
					sleep_ms(5);
					continue;
				}
				problem("pid %d: connect: %s (%s)", (int)getpid(),
					strerror(-r), err);
				atomic_fetch_add(&sh->status[ST_TRANSPORT], 1);
				_exit(1);
			}
			atomic_fetch_add(&sh->connects, 1);
			/* A daemon that stops answering is a failure too. */
			ioas_client_set_timeout(w.c, 10000);
		}
		dice = rnd(&w, 100);
		if (dice < 10)
			op_alloc(&w);
		else if (dice < 14)
			op_destroy(&w);
		else if (dice < 28)
			op_register(&w);
		else if (dice < 33)
			op_unregister(&w);
		else if (dice < 55)
			op_map(&w);
		else if (dice < 68)
			op_unmap(&w);
		else if (dice < 71)
			op_unmap_all(&w);
		else if (dice < 83)
			op_copy(&w);
		else if (dice < 95)
			op_stats(&w);
		else if (dice < 97) {
			/* Clean hang-up with everything still mapped. */
			forget_all(&w);
			atomic_fetch_add(&sh->hangups, 1);
		} else if (dice < 99) {
			/* Hang up with a request in flight. */
			send_unanswered(&w);
			forget_all(&w);
			atomic_fetch_add(&sh->hangups, 1);
		} else {
			/* Vanish mid-request: the process just ends. */
			send_unanswered(&w);
			_exit(0);
		}
	}
	forget_all(&w);
	_exit(0);
}

/* ------------------------------------------------------------ the parent */

struct figures {
	int fds;
	long maps;          /* lines of /proc/PID/maps */
	long rss_kib;
	bool daemon_wide;   /* the next three are shown to root only */
	uint32_t connections;
	uint32_t total_ioas;
	uint64_t total_pinned;
};

static long proc_maps_count(pid_t pid)
{
	char path[64], line[512];
	long n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (strchr(line, '\n'))
			n++;
	fclose(f);
	return n;
}

static long proc_rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* Daemon figures once the fd count has settled; the probe connection is
 * closed before the fds are counted. */
static int measure(const struct harness_daemon *d, struct figures *f)
{
	struct ioas_client *c = NULL;
	struct ioas_stats st;
	char err[256];
	int r;

	r = ioas_client_connect(d->socket, "soak-probe", &c, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "ioasd-soak: probe connect: %s (%s)\n", strerror(-r), err);
		return r;
	}
	r = ioas_stats(c, &st);
	ioas_client_free(c);
	if (r < 0) {
		fprintf(stderr, "ioasd-soak: stats: %s\n", strerror(-r));
		return r;
	}
	f->daemon_wide = st.daemon_wide;
	f->connections = st.connections;
	f->total_ioas = st.total_ioas;
	f->total_pinned = st.total_pinned_bytes;
	f->fds = harness_fd_count_settled(d->pid, 5000);
	f->maps = proc_maps_count(d->pid);
	f->rss_kib = proc_rss_kib(d->pid);
	return f->fds < 0 ? f->fds : 0;
}

static void print_figures(const char *when, const struct figures *f)
{
	printf("ioasd-soak: %-8s fds %d, memory mappings %ld, VmRSS %ld KiB, "
	       "connections %" PRIu32 " (the probe), IOASes %" PRIu32
	       ", pinned bytes %" PRIu64 "\n", when, f->fds, f->maps, f->rss_kib,
	       f->connections, f->total_ioas, f->total_pinned);
}

static pid_t spawn(unsigned seed)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0)
		worker_main(seed);
	return pid;
}

/* Run workers until sh->ops reaches limit or the deadline passes. */
static int run_phase(const struct options *o, uint64_t limit,
		     long long deadline, unsigned *seed, uint64_t *kills)
{
	pid_t pids[MAX_CLIENTS];
	unsigned live = 0;
	long long next_kill = now_ms() + o->kill_ms;
	int bad_exits = 0;

	atomic_store(&sh->limit, limit);
	for (unsigned i = 0; i < o->clients; i++) {
		pids[i] = spawn((*seed)++);
		if (pids[i] < 0)
			return -errno;
		live++;
	}
	while (live) {
		int status;
		pid_t p = waitpid(-1, &status, WNOHANG);

		if (p > 0) {
			for (unsigned i = 0; i < o->clients; i++) {
				if (pids[i] != p)
					continue;
				if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
					if (!(WIFSIGNALED(status) &&
					      WTERMSIG(status) == SIGKILL))
						bad_exits++;
				}
				/* Replace it while there is work left. */
				if (atomic_load(&sh->ops) < limit &&
				    now_ms() < deadline) {
					pids[i] = spawn((*seed)++);
				} else {
					pids[i] = 0;
					live--;
				}
			}
			continue;
		}
		if (now_ms() >= deadline)
			atomic_store(&sh->limit, 0);
		if (o->kill_ms && now_ms() >= next_kill) {
			unsigned i = (unsigned)rand_r(seed) % o->clients;

			if (pids[i] > 0 && kill(pids[i], SIGKILL) == 0)
				(*kills)++;
			next_kill = now_ms() + o->kill_ms;
		}
		sleep_ms(1);
	}
	return bad_exits;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: ioasd-soak [OPTIONS]\n"
		"Hostile concurrent load against a private ioasd (sim backend), then\n"
		"check that its fds, mappings, pinned bytes and RSS return to baseline.\n\n"
		"  --daemon PATH        ioasd binary (default $IOASD_BIN)\n"
		"  --clients N          concurrent client processes (default 8, max %d)\n"
		"  --ops N              operations in all (default 20000)\n"
		"  --seconds S          stop after S seconds at most (default 120)\n"
		"  --kill-ms MS         SIGKILL a random client this often (default 20, 0: never)\n"
		"  --seed N             random seed (default: from the clock; printed)\n"
		"  --rss-tolerance KIB  allowed VmRSS growth after warm-up (default 2048)\n"
		"  --no-map-file        sim without IOMMU_IOAS_MAP_FILE (daemon mmaps regions)\n",
		MAX_CLIENTS);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "daemon", required_argument, NULL, 'd' },
		{ "clients", required_argument, NULL, 'c' },
		{ "ops", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{ "kill-ms", required_argument, NULL, 'k' },
		{ "seed", required_argument, NULL, 'r' },
		{ "rss-tolerance", required_argument, NULL, 't' },
		{ "no-map-file", no_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct options o = {
		.clients = 8, .ops = 20000, .seconds = 120, .kill_ms = 20,
		.seed = (unsigned)time(NULL) ^ (unsigned)getpid(),
		.rss_tolerance_kib = 2048,
	};
	const char *args[8] = { "--backend", "sim", NULL };
	struct figures base, warm, end;
	struct harness_daemon d;
	long long t0, deadline;
	uint64_t kills = 0, warm_ops;
	unsigned seed;
	int c, bad, failed = 0;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': setenv("IOASD_BIN", optarg, 1); break;
		case 'c': o.clients = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'n': o.ops = strtoull(optarg, NULL, 0); break;
		case 's': o.seconds = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'k': o.kill_ms = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'r': o.seed = (unsigned)strtoul(optarg, NULL, 0); break;
		case 't': o.rss_tolerance_kib = strtoull(optarg, NULL, 0); break;
		case 'm': o.no_map_file = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || !o.clients || o.clients > MAX_CLIENTS || !o.ops ||
	    !o.seconds) {
		usage(stderr);
		return 2;
	}
	if (o.no_map_file)
		args[2] = "--sim-no-map-file";
	signal(SIGPIPE, SIG_IGN);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	atomic_flag_clear(&sh->problem_set);

	if (harness_daemon_start(&d, args) < 0)
		return 1;
	sock_path = d.socket;
	printf("ioasd-soak: daemon pid %d, %u clients, %" PRIu64 " ops, %u s at most, "
	       "kill every %u ms, seed %u, %s\n", (int)d.pid, o.clients, o.ops,
	       o.seconds, o.kill_ms, o.seed,
	       o.no_map_file ? "mmap + IOMMU_IOAS_MAP path" : "MAP_FILE path");
	if (measure(&d, &base) < 0) {
		harness_daemon_stop(&d);
		return 1;
	}
	print_figures("baseline", &base);

	seed = o.seed;
	t0 = now_ms();
	deadline = t0 + (long long)o.seconds * 1000;
	/* Warm-up: a tenth of the work, so that the allocator and libevent
	 * have grown to their working size before RSS is compared. */
	warm_ops = o.ops / 10 ? o.ops / 10 : 1;
	bad = run_phase(&o, warm_ops, deadline, &seed, &kills);
	if (measure(&d, &warm) < 0)
		failed = 1;
	print_figures("warm", &warm);
	bad += run_phase(&o, o.ops, deadline, &seed, &kills);
	if (measure(&d, &end) < 0)
		failed = 1;
	print_figures("end", &end);

	{
		uint64_t ops = atomic_load(&sh->ops);
		long long ms = now_ms() - t0;

		/* Workers each bump the counter once more when they stop. */
		if (ops > o.ops)
			ops = o.ops;
		printf("ioasd-soak: %" PRIu64 " ops in %.1f s (%.0f ops/s): %" PRIu64
		       " ok, %" PRIu64 " refused, %" PRIu64 " transport failures, %" PRIu64
		       " lost mappings; %" PRIu64 " connects (%" PRIu64 " refused), %" PRIu64
		       " hang-ups, %" PRIu64 " requests abandoned, %" PRIu64 " clients killed\n",
		       ops, ms / 1000.0, ms ? ops * 1000.0 / ms : 0.0,
		       atomic_load(&sh->status[ST_OK]), atomic_load(&sh->status[ST_REFUSED]),
		       atomic_load(&sh->status[ST_TRANSPORT]), atomic_load(&sh->status[ST_LOST]),
		       atomic_load(&sh->connects), atomic_load(&sh->refused_connects),
		       atomic_load(&sh->hangups), atomic_load(&sh->abandoned), kills);
	}

#define CHECK(cond, ...) do { if (!(cond)) { printf("ioasd-soak: FAIL: " __VA_ARGS__); putchar('\n'); failed = 1; } } while (0)
	/* Transport failures, lost mappings, client set-up failures. */
	CHECK(!sh->first_problem[0], "%s", sh->first_problem);
	CHECK(bad == 0, "%d client(s) exited abnormally", bad);
	CHECK(atomic_load(&sh->status[ST_OK]) > 0, "no operation succeeded");
	CHECK(end.fds == base.fds, "daemon fds %d, baseline %d", end.fds, base.fds);
	if (end.daemon_wide) {
		CHECK(end.connections == 1, "%" PRIu32 " connections besides the probe",
		      end.connections - 1);
		CHECK(end.total_ioas == base.total_ioas, "%" PRIu32 " IOASes, baseline %" PRIu32,
		      end.total_ioas, base.total_ioas);
		CHECK(end.total_pinned == base.total_pinned,
		      "%" PRIu64 " pinned bytes, baseline %" PRIu64, end.total_pinned,
		      base.total_pinned);
	} else {
		printf("ioasd-soak: connections, IOASes and pinned bytes not checked: "
		       "the daemon (--no-policy) shows daemon-wide figures to root only\n");
	}
	CHECK(end.maps == warm.maps, "daemon memory mappings %ld, %ld after warm-up",
	      end.maps, warm.maps);
	if (SOAK_ASAN)
		printf("ioasd-soak: VmRSS not checked: ASan build (its quarantine "
		       "holds freed memory; LeakSanitizer checks the daemon at exit)\n");
	else
		CHECK(end.rss_kib <= warm.rss_kib + (long)o.rss_tolerance_kib,
		      "VmRSS grew by %ld KiB after warm-up (tolerance %" PRIu64 ")",
		      end.rss_kib - warm.rss_kib, o.rss_tolerance_kib);
	fflush(stdout);
	if (harness_daemon_stop(&d) < 0) {
		printf("ioasd-soak: FAIL: the daemon did not exit cleanly\n");
		failed = 1;
	}
	printf("ioasd-soak: %s (VmRSS %+ld KiB after warm-up, %+ld KiB from the start)\n",
	       failed ? "FAILED" : "ok", end.rss_kib - warm.rss_kib,
	       end.rss_kib - base.rss_kib);
	return failed;
}
