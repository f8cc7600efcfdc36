/* SPDX-License-Identifier: MIT */
/* The listening socket, accepting, and the set of live connections. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "proto/fastpb.h"
#include "rpc/rpc.h"
#include "tenant/tenant.h"

struct event_base;
struct backend;
struct conn;
struct policy;
struct audit;
struct pool;
struct lease;
struct state;

struct server_config {
	const char *socket_path;
	mode_t socket_mode;
	gid_t socket_gid;                  /* (gid_t)-1: leave the group alone */
	uint32_t max_connections;          /* daemon-wide */
	uint32_t max_connections_per_uid;
	size_t max_outq_bytes;             /* per connection, reading pauses above */
	unsigned slow_client_sec;          /* a peer paused this long is dropped */
	unsigned hello_timeout_sec;        /* a peer silent this long after connect is dropped */
	/* Without a policy (--no-policy) every connection is its own tenant
	 * with these limits; with one, max_region_size still applies. */
	struct tenant_limits limits;
	const char *policy_dir;            /* for reloads; NULL with --no-policy */
};

/* Mappings of released tenants unmapped per event-loop turn (a few ms). */
#define SERVER_REAP_SLICE 4096u

struct server {
	struct event_base *base;
	struct tenants *tenants;           /* not owned */
	struct state *state;               /* restart support, not owned; NULL: off */
	struct backend *backend;
	struct policy *policy;             /* owned; NULL: --no-policy */
	struct audit *audit;               /* not owned; may be NULL */
	struct pool *pool;                 /* not owned; may be NULL */
	struct ctxhelper *ctxhelper;       /* not owned; NULL: none (sim) */
	struct server_config cfg;
	TAILQ_HEAD(lease_list, lease) leases;
	int listen_fd;
	bool own_socket;                   /* we created (and will unlink) it */
	struct event *ev_accept;
	struct event *ev_retry;            /* re-arm accept after EMFILE */
	struct rpc_env env;                /* what requests are served with */
	struct wire_rx *rx;                /* lent to every connection */
	struct fastpb_memo codec;          /* env.codec */
	struct rpc_cache cache;            /* env.cache */
	TAILQ_HEAD(conn_list, conn) conns;
	TAILQ_HEAD(, conn) held;           /* replies waiting for the commit */
	struct event *ev_commit;           /* the wakeup's one commit */
	struct event *ev_reap;             /* released tenants, a slice at a time */
	struct event *ev_step;             /* requests that run in slices */
	bool commit_armed;
	uint32_t nconns;
	uint64_t next_serial;
};

/* Create (or adopt, when listen_fd >= 0) the listening socket and start
 * accepting. Takes the reference to policy (may be NULL). */
int server_start(struct server *s, struct event_base *base,
		 struct tenants *tenants, struct backend *b, const struct server_config *cfg,
		 int listen_fd, struct policy *policy, struct audit *audit,
		 struct pool *pool);
/* The context helper OpenContext asks (tenancy/ctxhelper.h); not owned. */
void server_set_ctxhelper(struct server *s, struct ctxhelper *h);
/* Close every connection (releasing what they own) and the socket. */
void server_stop(struct server *s);
/* Restart support (before state_attach): replies wait for its commits. */
void server_attach_state(struct server *s, struct state *st);

/* turns.c: what runs between requests. The conn_owner hooks (hold: the
 * wakeup's changes are not committed yet; deferred: a request runs in
 * slices), the reaping of released tenants (armed after a release), and
 * the events' lifetime (with the server's). */
bool server_turns_hold(void *userdata, struct conn *c);
void server_turns_deferred(void *userdata, struct conn *c);
void server_turns_reap(struct server *s);
int server_turns_start(struct server *s);
void server_turns_stop(struct server *s);

/* A new connection: resolve its tenant (policy), then serve it or refuse
 * it with one error datagram saying why. Audited either way. */
void server_admit(struct server *s, struct conn *c);

/* A connection of t is gone: release t with its last connection (or when
 * its lease runs out). */
void server_tenant_detach(struct server *s, struct tenant *t);

/* Re-read cfg.policy_dir and swap the policy in whole. A policy that does
 * not load keeps the old one. Returns 0 or -errno (e says why). */
int server_reload_policy(struct server *s, struct err *e);
uint32_t server_conns_of_uid(const struct server *s, uid_t uid);
