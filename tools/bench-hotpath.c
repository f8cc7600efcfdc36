/* SPDX-License-Identifier: MIT */
/*
 * The hot path's table: what an RPC through ioasd costs against the floor
 * any unbatched RPC has -- one SOCK_SEQPACKET round trip of a 100-byte
 * datagram between two processes, measured here in the same run -- and the
 * rate of unbatched Stats with 1, 2, 4 and 16 connections.
 *
 * A second floor row answers from behind epoll_wait, as any event loop
 * does: what is left between it and an RPC is the work of the client
 * library and of the daemon.
 *
 * Each row is a way of issuing requests (struct hot_row): it is timed
 * sample by sample, and a sample carries `rpcs` requests, so that "per
 * request" and "x floor" compare rows that send one request at a time with
 * rows that send many (batched, pipelined). The targets are printed with
 * PASS or MISS; they are not asserted (machines are noisy).
 *
 * Placement: a round trip between two processes on two CPUs costs a
 * cross-CPU wake-up, which on a virtual machine ranges from a few to some
 * fifty microseconds from one moment to the next; on one CPU it is two
 * context switches, steady. So the latency rows run first with this
 * process, the floor's echo process and the daemon all pinned to one CPU
 * (--cpu), the floor and the RPCs alike: the strict setting, where every
 * instruction of libioas and the daemon adds to the round trip. Then, when
 * this process may use a second CPU, again with the servers (the echo,
 * the daemon) pinned to it: the setting issue 14 measured its floor in
 * (15.2 us: a wake-up across CPUs) and the one a daemon serves its clients
 * in. Both tables carry the targets. The rate rows then give the daemon
 * and the client processes every CPU this process had: what several
 * clients get.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ioas.h"
#include "tools/bench.h"

#define FLOOR_BYTES 100
#define MAP_SIZE 4096u
/* Most x floor an unbatched RPC may cost (issue 14). */
#define TARGET_UNBATCHED 1.2
/* Most unbatched RPCs' worth a new connection may cost (issue 14). */
#define TARGET_CONNECTION 3.0
#define RATE_SECONDS 0.5 /* per connection count */

struct hot_ctx {
	struct bench *b;
	int cpu;               /* the latency rows' (client's) CPU, or -1 */
	int server_cpu;        /* the echo's and the daemon's, or -1: cpu */
	char backend[32];      /* the daemon's, as its HelloReply says */
	struct ioas_client *c; /* connected, Hello done */
	uint32_t ioas, mem;    /* an IOAS; MAP_SIZE bytes of a memfd registered */
};

/* One way of issuing requests. */
struct hot_row {
	const char *name;
	unsigned rpcs;    /* requests one sample carries */
	double target;    /* most x floor per request, or 0: no target */
	/* Most unbatched RPCs' worth (the row marked .rpc) a sample may
	 * cost, or 0: no target. */
	double target_rpcs;
	bool rpc;         /* the unbatched RPC other rows are counted in */
	/* Optional: what the samples use, in *state. 0 or -errno
	 * (-EOPNOTSUPP: the row is "not available" here). */
	int (*setup)(struct hot_ctx *x, void **state);
	int (*sample)(struct hot_ctx *x, void *state);
	void (*teardown)(struct hot_ctx *x, void *state);
};

struct hot_result {
	const struct hot_row *row;
	struct bench_lat lat;
	int error;
};

/* ------------------------------------------------------------ the floor */

struct floor_state {
	int fd;
	pid_t echo;
};

/* The other process: each datagram back as it came, until the end; with
 * epoll, waiting as an event loop waits (epoll_wait, then a non-blocking
 * recv): the floor of any server built on one, the daemon included. */
static void floor_echo(int fd, bool epoll)
{
	struct epoll_event ev = { .events = EPOLLIN };
	char buf[FLOOR_BYTES];
	int ep = -1;

	if (epoll) {
		ep = epoll_create1(EPOLL_CLOEXEC);
		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			_exit(1);
	}
	for (;;) {
		ssize_t n;

		if (epoll && epoll_wait(ep, &ev, 1, -1) < 0)
			_exit(1);
		n = recv(fd, buf, sizeof(buf), epoll ? MSG_DONTWAIT : 0);
		if (n <= 0)
			_exit(n == 0 ? 0 : 1);
		if (send(fd, buf, (size_t)n, MSG_NOSIGNAL) != n)
			_exit(1);
	}
}

/* Pin pid to cpu. 0 or -errno. */
static int pin_to(pid_t pid, int cpu)
{
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	return sched_setaffinity(pid, sizeof(one), &one) < 0 ? -errno : 0;
}

static int echo_setup(void **state, bool epoll, int server_cpu)
{
	struct floor_state *f = calloc(1, sizeof(*f));
	int sv[2];

	if (!f)
		return -ENOMEM;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		free(f);
		return -errno;
	}
	fflush(stdout);
	f->echo = fork();
	if (f->echo < 0) {
		int r = -errno;

		close(sv[0]);
		close(sv[1]);
		free(f);
		return r;
	}
	if (f->echo == 0) {
		close(sv[0]);
		if (server_cpu >= 0 && pin_to(0, server_cpu) < 0)
			_exit(1);
		floor_echo(sv[1], epoll);
	}
	close(sv[1]);
	f->fd = sv[0];
	*state = f;
	return 0;
}

static int floor_setup(struct hot_ctx *x, void **state)
{
	return echo_setup(state, false, x->server_cpu);
}

static int epoll_floor_setup(struct hot_ctx *x, void **state)
{
	return echo_setup(state, true, x->server_cpu);
}

static int floor_sample(struct hot_ctx *x, void *state)
{
	struct floor_state *f = state;
	char buf[FLOOR_BYTES] = { 1 };

	(void)x;
	if (send(f->fd, buf, sizeof(buf), MSG_NOSIGNAL) != (ssize_t)sizeof(buf))
		return -errno ? -errno : -EIO;
	if (recv(f->fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
		return -errno ? -errno : -EIO;
	return 0;
}

static void floor_teardown(struct hot_ctx *x, void *state)
{
	struct floor_state *f = state;

	(void)x;
	close(f->fd);
	(void)waitpid(f->echo, NULL, 0);
	free(f);
}

/* ------------------------------------------------------------ rows */

static int stats_sample(struct hot_ctx *x, void *state)
{
	struct ioas_stats st;

	(void)state;
	return ioas_stats(x->c, &st);
}

/* A new client: connect, Hello, and gone. */
static int connect_sample(struct hot_ctx *x, void *state)
{
	struct ioas_client *c = NULL;
	char err[256] = "";
	int r;

	(void)state;
	r = ioas_client_connect(x->b->socket, "ioasd-bench-connect", &c, err,
				sizeof(err));
	if (r < 0)
		fprintf(stderr, "ioasd-bench: connect: %s\n", err);
	ioas_client_free(c);
	return r;
}

static int map_unmap_sample(struct hot_ctx *x, void *state)
{
	const uint32_t rw = IOAS_MAP_READABLE | IOAS_MAP_WRITEABLE;
	uint64_t iova = 0, un;
	int r;

	(void)state;
	r = ioas_map(x->c, x->ioas, x->mem, 0, MAP_SIZE, rw, &iova);
	if (r == 0)
		r = ioas_unmap(x->c, x->ioas, iova, MAP_SIZE, &un);
	return r;
}

/*
 * The first row is the floor the others are compared with. Rows that send
 * many requests per round trip go after the unbatched ones:
 *
 *   - batched: one Batch request of 64 Map+Unmap operations, .rpcs = 128
 *     (each operation counts as the request it replaces);
 *   - pipelined: 64 requests in flight on one connection with the async
 *     libioas API, .rpcs = 64.
 *
 * A row whose setup returns -EOPNOTSUPP (the daemon or libioas does not
 * have it) is printed as "not available"; no other part of the table
 * changes.
 */
static const struct hot_row rows[] = {
	{ "SEQPACKET round trip (floor)", 1, .setup = floor_setup,
	  .sample = floor_sample, .teardown = floor_teardown },
	{ "  the same, echo behind epoll", 1, .setup = epoll_floor_setup,
	  .sample = floor_sample, .teardown = floor_teardown },
	{ "Stats, unbatched", 1, .target = TARGET_UNBATCHED, .rpc = true,
	  .sample = stats_sample },
	{ "Map+Unmap 4 KiB, unbatched", 2, .sample = map_unmap_sample },
	{ "Connection: connect, Hello, close", 1, .target_rpcs = TARGET_CONNECTION,
	  .sample = connect_sample },
};

static void run_row(struct hot_ctx *x, const struct hot_row *row,
		    struct hot_result *res)
{
	struct bench *b = x->b;
	uint64_t budget = (uint64_t)(b->max_seconds * 1e9), start, t0;
	uint64_t *lat = calloc(b->iterations, sizeof(*lat));
	void *state = NULL;
	size_t n = 0;
	int r = 0;

	memset(res, 0, sizeof(*res));
	res->row = row;
	if (!lat) {
		res->error = -ENOMEM;
		return;
	}
	if (row->setup)
		r = row->setup(x, &state);
	if (r < 0) {
		res->error = r;
		free(lat);
		return;
	}
	for (int i = 0; r == 0 && i < BENCH_WARMUP; i++)
		r = row->sample(x, state);
	start = bench_now_ns();
	while (r == 0 && n < b->iterations && bench_now_ns() - start < budget) {
		t0 = bench_now_ns();
		r = row->sample(x, state);
		lat[n++] = bench_now_ns() - t0;
	}
	if (r < 0) {
		fprintf(stderr, "ioasd-bench: %s: %s: %s\n", row->name,
			strerror(-r), ioas_client_last_error(x->c));
		res->error = r;
	} else {
		bench_summarize(&res->lat, lat, n, bench_now_ns() - start);
	}
	if (row->teardown)
		row->teardown(x, state);
	free(lat);
}

/* ------------------------------------------------------------ rate */

/*
 * RPC/s of n connections, each its own process sending unbatched Stats
 * for RATE_SECONDS, all started at once. 0 or -errno.
 */
static int run_rate(struct bench *b, unsigned n, double *ret_rate)
{
	int ready[2] = { -1, -1 }, go[2] = { -1, -1 }, done[2] = { -1, -1 };
	pid_t pids[16];
	uint64_t total = 0, t0, deadline;
	unsigned started = 0;
	int r = 0;

	if (n > 16)
		return -EINVAL;
	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0 ||
	    pipe2(done, O_CLOEXEC) < 0) {
		r = -errno;
		goto out;
	}
	fflush(stdout);
	fflush(stderr);
	for (; started < n; started++) {
		pid_t p = fork();

		if (p < 0) {
			r = -errno;
			break;
		}
		if (p == 0) {
			struct ioas_client *c = NULL;
			struct ioas_stats st;
			uint64_t count = 0, until = 0;
			char err[256] = "";
			int cr;

			cr = ioas_client_connect(b->socket, "ioasd-bench-rate", &c,
						 err, sizeof(err));
			if (cr < 0)
				fprintf(stderr, "ioasd-bench: rate: connect: %s\n", err);
			if (write(ready[1], "r", 1) != 1 ||
			    read(go[0], &until, sizeof(until)) != sizeof(until))
				_exit(1);
			while (cr == 0 && bench_now_ns() < until) {
				cr = ioas_stats(c, &st);
				count += cr == 0;
			}
			if (cr < 0)
				count = UINT64_MAX;
			ioas_client_free(c);
			_exit(write(done[1], &count, sizeof(count)) == sizeof(count) ? 0 : 1);
		}
		pids[started] = p;
	}
	for (unsigned i = 0; i < started; i++) {
		char c;

		if (read(ready[0], &c, 1) != 1 && r == 0)
			r = -EIO;
	}
	t0 = bench_now_ns();
	deadline = t0 + (uint64_t)(RATE_SECONDS * 1e9);
	for (unsigned i = 0; i < started; i++)
		if (write(go[1], &deadline, sizeof(deadline)) != sizeof(deadline) && r == 0)
			r = -EIO;
	for (unsigned i = 0; i < started; i++) {
		uint64_t count;

		if (read(done[0], &count, sizeof(count)) != sizeof(count) ||
		    count == UINT64_MAX) {
			if (r == 0)
				r = -EIO;
			continue;
		}
		total += count;
	}
	*ret_rate = (double)total / ((double)(bench_now_ns() - t0) / 1e9);
out:
	for (unsigned i = 0; i < started; i++)
		(void)waitpid(pids[i], NULL, 0);
	for (int i = 0; i < 2; i++) {
		if (ready[i] >= 0)
			close(ready[i]);
		if (go[i] >= 0)
			close(go[i]);
		if (done[i] >= 0)
			close(done[i]);
	}
	return r;
}

/* ------------------------------------------------------------ output */

static double per_rpc_us(const struct hot_result *r)
{
	return (double)r->lat.p50 / 1e3 / r->row->rpcs;
}

/* The target column: "<=1.20 PASS", "<=3 RPCs MISS", or "". */
static void verdict(const struct hot_result *r, double ratio, double rpcs,
		    char *buf, size_t size)
{
	buf[0] = '\0';
	if (r->row->target > 0 && ratio > 0)
		snprintf(buf, size, "<=%.2f %s", r->row->target,
			 ratio <= r->row->target ? "PASS" : "MISS");
	else if (r->row->target_rpcs > 0 && rpcs > 0)
		snprintf(buf, size, "<=%.0f RPCs %s (%.2f)", r->row->target_rpcs,
			 rpcs <= r->row->target_rpcs ? "PASS" : "MISS", rpcs);
}

static void print_rows(const struct hot_ctx *x, const struct hot_result *res,
		       size_t n)
{
	const struct bench *b = x->b;
	const struct hot_result *floor = &res[0];
	double floor_us = floor->error ? 0 : per_rpc_us(floor), rpc_us = 0;
	char where[64] = "not pinned";

	for (size_t i = 0; i < n; i++)
		if (res[i].row->rpc && !res[i].error)
			rpc_us = per_rpc_us(&res[i]);
	if (x->cpu >= 0 && x->server_cpu >= 0)
		snprintf(where, sizeof(where), "client on CPU %d, servers on CPU %d", x->cpu,
			 x->server_cpu);
	else if (x->cpu >= 0)
		snprintf(where, sizeof(where), "all on CPU %d", x->cpu);
	if (!b->json) {
		printf("ioasd-bench: the hot path (%s backend, %s); x floor = p50 per request / floor p50\n",
		       x->backend, where);
		printf("%-34s %5s %9s %9s %11s %8s   %s\n", "what", "reqs",
		       "p50 us", "p99 us", "per req us", "x floor", "target");
	}
	for (size_t i = 0; i < n; i++) {
		const struct hot_result *r = &res[i];
		double ratio = floor_us > 0 && !r->error ? per_rpc_us(r) / floor_us : 0;
		double rpcs = rpc_us > 0 && !r->error ? per_rpc_us(r) * r->row->rpcs / rpc_us : 0;
		char target[48];

		verdict(r, ratio, rpcs, target, sizeof(target));
		if (b->json) {
			printf("{\"hotpath\":{\"what\":\"%s\",\"cpus\":\"%s\",\"requests\":%u",
			       r->row->name, where, r->row->rpcs);
			if (r->error)
				printf(",\"error\":\"%s\"}}\n", strerror(-r->error));
			else
				printf(",\"p50_ns\":%" PRIu64 ",\"p99_ns\":%" PRIu64
				       ",\"x_floor\":%.3f,\"x_rpc\":%.3f%s%s%s}}\n",
				       r->lat.p50, r->lat.p99, ratio, rpcs,
				       target[0] ? ",\"target\":\"" : "", target,
				       target[0] ? "\"" : "");
			continue;
		}
		if (r->error == -EOPNOTSUPP) {
			printf("%-34s %5u not available\n", r->row->name, r->row->rpcs);
			continue;
		}
		if (r->error) {
			printf("%-34s %5u failed: %s\n", r->row->name, r->row->rpcs,
			       strerror(-r->error));
			continue;
		}
		printf("%-34s %5u %9.2f %9.2f %11.2f %8.2f   %s\n", r->row->name,
		       r->row->rpcs, r->lat.p50 / 1e3, r->lat.p99 / 1e3,
		       per_rpc_us(r), ratio, target);
	}
}

static void print_rate(const struct bench *b, unsigned conns, double rate,
		       double rate1, int error)
{
	if (b->json) {
		if (error)
			printf("{\"rate\":{\"connections\":%u,\"error\":\"%s\"}}\n",
			       conns, strerror(-error));
		else
			printf("{\"rate\":{\"connections\":%u,\"rpc_per_s\":%.0f}}\n",
			       conns, rate);
		return;
	}
	if (conns == 1)
		printf("%-40s %12s %9s\n", "Stats, unbatched; connections, all CPUs",
		       "RPC/s", "x 1 conn");
	if (error)
		printf("%-40u failed: %s\n", conns, strerror(-error));
	else
		printf("%-40u %12.0f %9.2f\n", conns, rate, rate1 > 0 ? rate / rate1 : 0);
}

/* ------------------------------------------------------------ the table */

static int hot_ctx_open(struct hot_ctx *x)
{
	char err[256] = "";
	int r;

	r = ioas_client_connect(x->b->socket, "ioasd-bench", &x->c, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "ioasd-bench: connect: %s\n", err);
		return r;
	}
	snprintf(x->backend, sizeof(x->backend), "%s", ioas_client_backend(x->c));
	r = bench_region(x->c, MAP_SIZE, &x->ioas, &x->mem);
	if (r < 0)
		fprintf(stderr, "ioasd-bench: setting up: %s\n",
			ioas_client_last_error(x->c));
	return r;
}

/* Pin this process (and what it starts from now on) to one CPU, or not.
 * The CPU in *ret_cpu, -1 when not pinned. */
static int pin(const struct bench *b, const cpu_set_t *all, int *ret_cpu)
{
	int cpu = b->cpu, r;

	*ret_cpu = -1;
	if (cpu == BENCH_CPU_NONE)
		return 0;
	for (int i = 0; cpu < 0 && i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, all))
			cpu = i;
	if (cpu < 0 || cpu >= CPU_SETSIZE)
		return -EINVAL;
	r = pin_to(0, cpu);
	if (r < 0)
		return r;
	*ret_cpu = cpu;
	return 0;
}

/* Every row, then their table; a row's failure in *status. */
static void run_table(struct hot_ctx *x, struct hot_result *res, int *status)
{
	const size_t n = sizeof(rows) / sizeof(rows[0]);

	for (size_t i = 0; i < n; i++) {
		run_row(x, &rows[i], &res[i]);
		if (res[i].error && res[i].error != -EOPNOTSUPP)
			*status = res[i].error;
	}
	print_rows(x, res, n);
}

/* Another CPU of all than cpu, in *ret; -ENOENT when there is none. */
static int split_cpu(const cpu_set_t *all, int cpu, int *ret)
{
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (i != cpu && CPU_ISSET(i, all)) {
			*ret = i;
			return 0;
		}
	return -ENOENT;
}

int bench_hotpath(struct bench *b)
{
	static const unsigned conns[] = { 1, 2, 4, 16 };
	struct hot_result res[sizeof(rows) / sizeof(rows[0])];
	struct hot_ctx x = { .b = b, .server_cpu = -1 };
	double rate1 = 0;
	cpu_set_t all;
	int r, status = 0;

	if (sched_getaffinity(0, sizeof(all), &all) < 0)
		return -errno;
	r = pin(b, &all, &x.cpu);
	if (r < 0) {
		fprintf(stderr, "ioasd-bench: cannot pin to CPU %d: %s\n", b->cpu,
			strerror(-r));
		return r;
	}
	r = bench_start_daemon(b, NULL, NULL);
	if (r < 0) {
		fprintf(stderr, "ioasd-bench: cannot start %s: %s\n", b->daemon,
			strerror(-r));
		return r;
	}
	r = hot_ctx_open(&x);
	if (r == 0)
		run_table(&x, res, &status);
	else
		status = r;
	/* Again with the servers (the echo, the daemon) on a CPU of their
	 * own, as a daemon serves its clients: each round trip then
	 * crosses CPUs, its wake-up an inter-processor interrupt. */
	if (r == 0 && x.cpu >= 0 && split_cpu(&all, x.cpu, &x.server_cpu) == 0) {
		r = pin_to(b->pid, x.server_cpu);
		if (r == 0)
			run_table(&x, res, &status);
		else
			status = r;
	}
	ioas_client_free(x.c);
	/* The rates: every CPU, for the daemon and the clients. */
	if (sched_setaffinity(0, sizeof(all), &all) < 0 ||
	    sched_setaffinity(b->pid, sizeof(all), &all) < 0)
		fprintf(stderr, "ioasd-bench: unpinning: %s\n", strerror(errno));
	for (size_t i = 0; r == 0 && i < sizeof(conns) / sizeof(conns[0]); i++) {
		double rate = 0;
		int rr = run_rate(b, conns[i], &rate);

		if (i == 0 && rr == 0)
			rate1 = rate;
		print_rate(b, conns[i], rate, rate1, rr);
		if (rr < 0)
			status = rr;
	}
	if (bench_stop_daemon(b) < 0) {
		fprintf(stderr, "ioasd-bench: the daemon did not exit cleanly\n");
		status = -EIO;
	}
	return status;
}
