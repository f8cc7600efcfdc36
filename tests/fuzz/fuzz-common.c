/* SPDX-License-Identifier: MIT */
/* Shared set-up and invariants of the daemon fuzz targets (see the header). */
#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"
#include "conn.h"
#include "fuzz-common.h"
#include "log.h"
#include "server.h"
#include "tenant.h"
#include "util.h"

static struct event_base *base;
static struct backend *backend;
static struct server server;
static char dir[64];
static char sock_path[96];
static int baseline_fds = -1;

void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz invariant broken: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

int fuzz_fd_count(void)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	d = opendir("/proc/self/fd");
	if (!d)
		fuzz_fail("opendir /proc/self/fd: %s", strerror(errno));
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own fd */
}

static void cleanup(void)
{
	server_stop(&server);
	if (base)
		event_base_free(base);
	backend_close(backend);
	if (dir[0])
		rmdir(dir);
}

void fuzz_env_init(void)
{
	struct server_config cfg = {
		.socket_mode = 0600,
		.max_connections = 16,
		.max_connections_per_uid = 16,
		.max_outq_bytes = 1u << 20,
		/* Small limits, so that inputs reach them. */
		.limits = {
			.max_ioas = 8,
			.max_memory_regions = 8,
			.max_mappings = 64,
			.max_region_size = 1u << 20,
			.max_pinned_bytes = 256u << 10,
		},
	};
	const char *tmp = getenv("TMPDIR");
	int r;

	if (base)
		return;
	signal(SIGPIPE, SIG_IGN);
	log_set_level(getenv("FUZZ_VERBOSE") ? LOG_DEBUG : LOG_ERR);
	snprintf(dir, sizeof(dir), "%s/ioasd-fuzz.XXXXXX",
		 tmp && *tmp && strlen(tmp) < 32 ? tmp : "/tmp");
	if (!mkdtemp(dir))
		fuzz_fail("mkdtemp %s: %s", dir, strerror(errno));
	snprintf(sock_path, sizeof(sock_path), "%s/s", dir);
	cfg.socket_path = sock_path;

	r = backend_sim_open(&backend);
	if (r < 0)
		fuzz_fail("backend_sim_open: %s", strerror(-r));
	base = event_base_new();
	if (!base)
		fuzz_fail("event_base_new");
	r = server_start(&server, base, backend, &cfg, -1);
	if (r < 0)
		fuzz_fail("server_start: %s", strerror(-r));
	atexit(cleanup);
	baseline_fds = fuzz_fd_count();
}

struct server *fuzz_server(void)
{
	return &server;
}

void fuzz_set_map_file(int on)
{
	backend_sim_set_map_file(backend, on);
}

struct conn *fuzz_conn_new(int *ret_client)
{
	struct conn *c;
	int sv[2], r;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       0, sv) < 0)
		fuzz_fail("socketpair: %s", strerror(errno));
	r = conn_new(&server, sv[1], &c);
	if (r < 0)
		fuzz_fail("conn_new: %s", strerror(-r));
	*ret_client = sv[0];
	return c;
}

void fuzz_loop(void)
{
	/* Each round handles what is ready now; a few rounds let a close
	 * (read of EOF) and a flush follow one another. */
	for (int i = 0; i < 4; i++)
		if (event_base_loop(base, EVLOOP_NONBLOCK) < 0)
			fuzz_fail("event_base_loop failed");
}

struct conn *fuzz_only_conn(void)
{
	struct conn *c = TAILQ_FIRST(&server.conns);

	if (c && TAILQ_NEXT(c, link))
		fuzz_fail("more than one connection alive");
	return c;
}

Ioasd__Response *fuzz_decode_reply(const uint8_t *buf, size_t len)
{
	Ioasd__Response *resp = ioasd__response__unpack(NULL, len, buf);

	if (!resp)
		fuzz_fail("the daemon sent a reply that is not a Response (%zu bytes)",
			  len);
	if (resp->error < 0)
		fuzz_fail("negative error %d in a reply", resp->error);
	if (resp->error && (!resp->message || !*resp->message))
		fuzz_fail("refusal (errno %d) without a reason", resp->error);
	return resp;
}

void fuzz_check_conn(struct conn *c)
{
	struct err e = { 0 };

	if (tenant_check(c->tenant, &e) < 0)
		fuzz_fail("tenant_check: %s", e.msg);
}

void fuzz_check_idle(void)
{
	struct tenant_totals t;
	int n;

	if (server.nconns || !TAILQ_EMPTY(&server.conns))
		fuzz_fail("%u connection(s) still alive", server.nconns);
	tenant_get_totals(&t);
	if (t.tenants || t.ioas || t.pinned_bytes || t.mappings)
		fuzz_fail("left behind: %u tenants, %u IOASes, %u mappings, %llu pinned bytes",
			  t.tenants, t.ioas, t.mappings,
			  (unsigned long long)t.pinned_bytes);
	n = fuzz_fd_count();
	if (n != baseline_fds)
		fuzz_fail("fd leak: %d open, baseline %d", n, baseline_fds);
}
