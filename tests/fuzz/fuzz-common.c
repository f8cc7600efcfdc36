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

#if defined(__has_include)
#if __has_include(<sanitizer/common_interface_defs.h>)
#include <sanitizer/common_interface_defs.h>
#define HAVE_SANITIZER_SYMBOLIZE 1
#endif
#endif

#include "iommu/backend.h"
#include "net/conn.h"
#include "fuzz-common.h"
#include "common/log.h"
#include "tenant/pool.h"
#include "tenancy/server.h"
#include "tenant/tenant.h"
#include "common/util.h"

static struct event_base *base;
static struct backend *backend;
static struct pool *pool;
static struct server server;
static struct tenants *tenants;
static char dir[64];
static char sock_path[96];
static int baseline_fds = -1;

#define FUZZ_POOL_SIZE 2u


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

/* What is open, for the report of an fd leak. */
static void print_fds(void)
{
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");

	while (d && (de = readdir(d))) {
		char path[300], target[256];
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		target[n < 0 ? 0 : n] = '\0';
		fprintf(stderr, "  fd %s -> %s\n", de->d_name, target);
	}
	if (d)
		closedir(d);
}

static void cleanup(void)
{
	server_stop(&server);
	tenants = tenants_free(tenants);
	pool_free(pool);
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
		.socket_gid = (gid_t)-1,
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
	/* A small pool, so that IOASes are both reused and freshly made. */
	r = pool_new(backend, base, FUZZ_POOL_SIZE, &pool);
	if (r < 0)
		fuzz_fail("pool_new: %s", strerror(-r));
	/* No policy (--no-policy): each connection is its own tenant. */
	tenants = tenants_new();
	if (!tenants)
		fuzz_fail("tenants_new");
	r = server_start(&server, base, tenants, backend, &cfg, -1, NULL, NULL, pool);
	if (r < 0)
		fuzz_fail("server_start: %s", strerror(-r));
	atexit(cleanup);
#ifdef HAVE_SANITIZER_SYMBOLIZE
	{
		/* The sanitizer runtime starts llvm-symbolizer on first use (a
		 * NEW_FUNC line) and keeps two pipes to it: start it now, so
		 * that they are part of the baseline. */
		char buf[256];

		__sanitizer_symbolize_pc(__builtin_return_address(0), "%p %F",
					 buf, sizeof(buf));
	}
#endif
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
	r = conn_new(server.base, &(struct conn_config){
			     .max_outq_bytes = server.cfg.max_outq_bytes,
			     .slow_client_sec = server.cfg.slow_client_sec,
		     }, &server.env, ++server.next_serial, sv[1], NULL, &c);
	if (r < 0)
		fuzz_fail("conn_new: %s", strerror(-r));
	/* As after accept(): resolve the tenant and start serving. */
	server_admit(&server, c);
	c = fuzz_only_conn();
	if (!c)
		fuzz_fail("the server refused a connection without a policy");
	*ret_client = sv[0];
	return c;
}

void fuzz_loop(void)
{
	/* Each round handles what is ready now; a few rounds let a close
	 * (read of EOF) and a flush follow one another, and a released
	 * tenant's reaping (a slice per round) end. */
	for (int i = 0; i < 4 || (tenants_reaping(tenants) && i < 100000); i++)
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

	if (tenant_check(c->rs.tenant, &e) < 0)
		fuzz_fail("tenant_check: %s", e.msg);
}

void fuzz_check_idle(void)
{
	struct tenant_totals t;
	struct pool_stats ps;
	int n;

	if (server.nconns || !TAILQ_EMPTY(&server.conns))
		fuzz_fail("%u connection(s) still alive", server.nconns);
	/* A released tenant's mappings go a slice per turn of the loop. */
	if (tenants_reaping(tenants))
		fuzz_loop();
	if (tenants_reaping(tenants))
		fuzz_fail("a released tenant is still being reaped after the loop ran");
	tenant_get_totals(tenants, &t);
	if (t.tenants || t.ioas || t.pinned_bytes || t.mappings)
		fuzz_fail("left behind: %u tenants, %u IOASes, %u mappings, %llu pinned bytes",
			  t.tenants, t.ioas, t.mappings,
			  (unsigned long long)t.pinned_bytes);
	if (!TAILQ_EMPTY(&server.leases))
		fuzz_fail("a lease outlives its tenant without a policy");
	pool_get_stats(pool, &ps);
	if (ps.idle > FUZZ_POOL_SIZE)
		fuzz_fail("pool holds %u IOASes, target %u", ps.idle,
			  FUZZ_POOL_SIZE);
	n = fuzz_fd_count();
	if (n != baseline_fds) {
		print_fds();
		fuzz_fail("fd leak: %d open, baseline %d", n, baseline_fds);
	}
}
