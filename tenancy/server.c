/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "audit/audit.h"
#include "net/conn.h"
#include "common/log.h"
#include "policy/policy.h"
#include "rpc/rpc.h"
#include "tenancy/ctxhelper.h"
#include "tenancy/server.h"
#include "persist/state.h"
#include "proto/wire.h"
#include "common/util.h"

/* A tenant kept alive after its last connection (Lease=). */
struct lease {
	TAILQ_ENTRY(lease) link;
	struct server *server;
	struct tenant *tenant;
	struct event *ev;
};

static void server_on_accept(evutil_socket_t fd, short what, void *arg);

static void server_on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;

	event_add(s->ev_accept, NULL);
}

/* Out of fds: stop accepting for a moment instead of spinning on EMFILE. */
static void server_pause_accept(struct server *s)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200 * 1000 };

	event_del(s->ev_accept);
	evtimer_add(s->ev_retry, &tv);
}

/* Refuse a connection at accept with one datagram saying why, then close
 * it: audited (the peer as SO_PEERCRED says) and logged, both within the
 * rate limit of its uid. */
static void server_refuse(struct server *s, int fd, const struct ucred *cred,
			  int errnum, const char *why)
{
	struct audit_record r = {
		.kind = AUDIT_CONNECT,
		.op = "connect",
		.errnum = errnum,
		.reason = why,
		.uid = cred->uid,
		.gid = cred->gid,
		.pid = cred->pid,
	};

	if (audit_emit(s->audit, &r) != AUDIT_SUPPRESSED)
		log_warn("refusing pid %d uid %u: %s", (int)cred->pid,
			 (unsigned)cred->uid, why);
	/* The datagram waits in the peer's receive queue until it reads. */
	rpc_send_refusal(fd, errnum, why);
	close(fd);
}

static void server_on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct server *s = arg;

	for (int i = 0; i < 32; i++) {
		struct ucred cred;
		socklen_t len = sizeof(cred);
		struct conn *c;
		char why[160];
		int fd, r;

		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				log_warn("accept: %s; pausing accept", strerror(errno));
				server_pause_accept(s);
			} else if (errno != EAGAIN) {
				log_warn("accept: %s", strerror(errno));
			}
			return;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
			log_warn("SO_PEERCRED: %s", strerror(errno));
			close(fd);
			continue;
		}
		if (s->nconns >= s->cfg.max_connections) {
			snprintf(why, sizeof(why),
				 "connection limit reached: %" PRIu32 " of %" PRIu32 " in use",
				 s->nconns, s->cfg.max_connections);
			server_refuse(s, fd, &cred, EUSERS, why);
			continue;
		}
		if (server_conns_of_uid(s, cred.uid) >= s->cfg.max_connections_per_uid) {
			snprintf(why, sizeof(why),
				 "per-uid connection limit reached for uid %u: %" PRIu32 " in use",
				 (unsigned)cred.uid, s->cfg.max_connections_per_uid);
			server_refuse(s, fd, &cred, EUSERS, why);
			continue;
		}
		r = conn_new(s->base, &(struct conn_config){
				     .max_outq_bytes = s->cfg.max_outq_bytes,
				     .slow_client_sec = s->cfg.slow_client_sec,
				     .hello_timeout_sec = s->cfg.hello_timeout_sec,
				     .rx = s->rx,
			     }, &s->env, ++s->next_serial, fd, &cred, &c);
		if (r < 0) {
			log_warn("new connection: %s", strerror(-r));
			continue;
		}
		server_admit(s, c);
	}
}

static int audit_connect(struct server *s, struct conn *c,
			 const struct tenant *t, int errnum, const char *why)
{
	struct audit_record r = {
		.kind = AUDIT_CONNECT,
		.op = "connect",
		.allowed = errnum == 0,
		.errnum = errnum,
		/* Accepted: who it is, when there is a sink to say it to. */
		.reason = why ? why : audit_has_sink(s->audit) ? conn_peer_desc(c) : NULL,
	};

	rpc_audit_subject(&c->rs, t, &r);
	return audit_emit(s->audit, &r);
}

static void limits_from_policy(const struct server *s,
			       const struct policy_tenant *pt,
			       struct tenant_limits *ret)
{
	ret->max_ioas = pt->max_ioas;
	ret->max_memory_regions = pt->max_memory_regions;
	ret->max_mappings = pt->max_mappings;
	ret->max_pinned_bytes = pt->max_pinned_bytes;
	ret->max_region_size = s->cfg.limits.max_region_size;
}

static struct lease *lease_of(struct server *s, struct tenant *t)
{
	struct lease *l;

	TAILQ_FOREACH(l, &s->leases, link)
		if (l->tenant == t)
			return l;
	return NULL;
}

static void lease_free(struct server *s, struct lease *l)
{
	TAILQ_REMOVE(&s->leases, l, link);
	event_free(l->ev);
	free(l);
}

/* "conn<serial>-uid<uid>", the tenant of a connection under --no-policy
 * (size >= 1): written by hand, snprintf was a tenth of a connection. */
static void no_policy_name(const struct conn *c, char *buf, size_t size)
{
	char tmp[64];
	size_t n = sizeof(tmp);
	uint64_t v = c->rs.cred.uid;

	tmp[--n] = '\0';
	do {
		tmp[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	memcpy(tmp + (n -= 4), "-uid", 4);
	v = c->rs.serial;
	do {
		tmp[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	memcpy(tmp + (n -= 4), "conn", 4);
	size = sizeof(tmp) - 1 - n < size ? sizeof(tmp) - n : size;
	memcpy(buf, tmp + n, size - 1);
	buf[size - 1] = '\0';
}

/* Which tenant is this peer? Creates the tenant on its first connection. */
static int server_resolve(struct server *s, struct conn *c,
			  struct tenant **ret, struct err *e)
{
	const struct policy_tenant *pt;
	struct policy_peer peer;
	struct tenant_limits limits;
	struct tenant *t;
	struct lease *l;
	char name[64], where[300];

	if (!s->policy) {
		/* --no-policy: each connection is its own tenant. */
		no_policy_name(c, name, sizeof(name));
		t = tenant_new(s->tenants, s->backend, s->pool, name, &s->cfg.limits, NULL);
		if (!t)
			return err_set(e, ENOMEM, "out of memory");
		*ret = t;
		return 0;
	}
	/* Only what the policy's Match* keys read. */
	conn_get_peer(c, policy_peer_needs(s->policy), &peer);
	pt = policy_match(s->policy, &peer);
	if (!pt)
		return err_set(e, EACCES, "no policy tenant matches %s",
			       conn_peer_desc(c));
	policy_tenant_source(pt, POLICY_KEY_MAX_CONNECTIONS, where, sizeof(where));
	t = tenant_find(s->tenants, pt->name);
	if ((t ? tenant_conns(t) : 0) >= pt->max_connections)
		return err_set(e, EUSERS,
			       "tenant %s: connection limit reached: %" PRIu32
			       " of %" PRIu32 " in use (MaxConnections at %s)",
			       pt->name, t ? tenant_conns(t) : 0,
			       pt->max_connections, where);
	if (!t) {
		limits_from_policy(s, pt, &limits);
		t = tenant_new(s->tenants, s->backend, s->pool, pt->name, &limits, pt);
		if (!t)
			return err_set(e, ENOMEM, "out of memory");
	}
	l = lease_of(s, t);
	if (l) {
		log_info("tenant %s is back within its lease", tenant_name(t));
		lease_free(s, l);
	}
	*ret = t;
	return 0;
}

void server_tenant_detach(struct server *s, struct tenant *t);
/* A listed connection is going (conn_free): unlist it; its tenant goes
 * with its last connection (or when its lease runs out). */
static void server_conn_gone(void *userdata, struct conn *c)
{
	struct server *s = userdata;

	TAILQ_REMOVE(&s->conns, c, link);
	s->nconns--;
	if (c->held)
		TAILQ_REMOVE(&s->held, c, hold_link);
	if (c->rs.tenant)
		server_tenant_detach(s, c->rs.tenant);
}

/*
 * An import was taken away from a tenant: audit it once and tell every
 * connection of that tenant (ShareRevoked). The tenant layer's revoke hook.
 */
static void server_share_revoked(void *userdata, const struct tenant_revoke_event *ev)
{
	struct server *s = userdata;
	const struct policy_tenant *pt = tenant_policy(ev->importer);
	char reason[200];
	struct audit_record a = {
		.kind = AUDIT_NOTIFY,
		.op = "ShareRevoked",
		.allowed = true,
		.reason = reason,
		.tenant = tenant_name(ev->importer),
		.policy_file = pt ? pt->file : NULL,
		.policy_line = pt ? pt->line : 0,
		.has_handle = true,
		.handle = ev->ioas,
		.has_handle2 = true,
		.handle2 = ev->import,
		.has_iova = true,
		.iova = ev->iova,
		.has_length = true,
		.length = ev->length,
	};
	struct conn *c;

	snprintf(reason, sizeof(reason), "import %" PRIu32 " from tenant %s unmapped: %s",
		 ev->import, ev->exporter, ev->reason);
	(void)audit_emit(s->audit, &a);
	TAILQ_FOREACH(c, &s->conns, link)
		if (c->rs.tenant == ev->importer && !c->closing)
			(void)rpc_notify_share_revoked(&c->rs, ev);
}

/* What the protocol layer is lent of the server. */
static uint32_t env_connections(void *userdata)
{
	const struct server *s = userdata;

	return s->nconns;
}

static int env_hello(void *userdata, struct rpc_session *rs, const char *token,
		     const char **ret_token, bool *ret_reclaimed, struct err *e)
{
	struct server *s = userdata;

	return state_hello(s->state, rs, token, ret_token, ret_reclaimed, e);
}


void server_admit(struct server *s, struct conn *c)
{
	struct tenant *t = NULL;
	struct err e = { 0 };

	if (server_resolve(s, c, &t, &e) < 0) {
		/* A peer that matches no tenant may connect in a loop: its
		 * records and log lines are rate-limited (by uid). */
		if (audit_connect(s, c, NULL, e.errnum, e.msg) != AUDIT_SUPPRESSED)
			log_warn("refusing connection %" PRIu64 " (%s): %s", c->rs.serial,
				 conn_peer_desc(c), e.msg);
		rpc_send_refusal(c->fd, e.errnum, e.msg);
		conn_free(c);
		return;
	}
	TAILQ_INSERT_TAIL(&s->conns, c, link);
	s->nconns++;
	tenant_conn_attach(t);
	conn_start(c, t, &(struct conn_owner){
				 .gone = server_conn_gone, .hold = server_turns_hold,
				 .deferred = server_turns_deferred, .userdata = s });
	(void)audit_connect(s, c, t, 0, NULL);
	log_debug("connection %" PRIu64 " from %s: tenant %s", c->rs.serial,
		  conn_peer_desc(c), tenant_name(t));
}

static void server_release_tenant(struct server *s, struct tenant *t,
				  const char *why)
{
	const struct policy_tenant *pt = tenant_policy(t);
	struct tenant_usage u;
	char reason[200];
	struct audit_record r = {
		.kind = AUDIT_RELEASE,
		.op = "release",
		.allowed = true,
		.tenant = tenant_name(t),
		.policy_file = pt ? pt->file : NULL,
		.policy_line = pt ? pt->line : 0,
	};

	/* What it held, for the audit trail and the debug log: only when
	 * one of them takes it. */
	if (audit_has_sink(s->audit) || log_get_level() >= LOG_DEBUG) {
		tenant_get_usage(t, &u);
		snprintf(reason, sizeof(reason),
			 "%s: %" PRIu32 " IOAS, %" PRIu32 " mappings, %" PRIu32
			 " memory regions, 0x%" PRIx64 " pinned bytes released",
			 why, u.ioas, u.mappings, u.memory_regions, u.pinned_bytes);
		r.reason = reason;
		(void)audit_emit(s->audit, &r);
		log_debug("tenant %s released (%s)", tenant_name(t), reason);
	}
	tenant_release(t);
	server_turns_reap(s);
	state_commit(s->state);
}

static void lease_expired(evutil_socket_t fd, short what, void *arg)
{
	struct lease *l = arg;
	struct server *s = l->server;
	struct tenant *t = l->tenant;

	lease_free(s, l);
	server_release_tenant(s, t, "lease expired");
}

void server_tenant_detach(struct server *s, struct tenant *t)
{
	const struct policy_tenant *pt = tenant_policy(t);
	struct lease *l;

	if (tenant_conn_detach(t) > 0)
		return;
	/* Restored after a restart and not reclaimed yet: the grace timer
	 * decides (state.c). */
	if (state_holds(s->state, t))
		return;
	if (pt && pt->lease_sec > 0 && !tenant_orphaned(t) && s->base) {
		struct timeval tv = { .tv_sec = pt->lease_sec };

		l = calloc(1, sizeof(*l));
		if (l) {
			l->server = s;
			l->tenant = t;
			l->ev = evtimer_new(s->base, lease_expired, l);
			if (l->ev && evtimer_add(l->ev, &tv) == 0) {
				TAILQ_INSERT_TAIL(&s->leases, l, link);
				log_info("tenant %s: last connection closed; objects kept for its %" PRIu32 " s lease",
					 tenant_name(t), pt->lease_sec);
				return;
			}
			if (l->ev)
				event_free(l->ev);
			free(l);
		}
	}
	server_release_tenant(s, t, "last connection closed");
}

/* Mappings outside a narrowed AllowedIOVA audited one by one per tenant and
 * reload; the rest are counted in one record (and in whoami). */
#define RELOAD_MAPPINGS_AUDITED 32

struct reload_report {
	struct server *s;
	uint32_t outside;      /* newly outside, this tenant */
};

static void reload_reported(void *userdata, const struct tenant *t,
			    const struct tenant_reload_event *ev)
{
	struct reload_report *rr = userdata;
	const struct policy_tenant *pt = tenant_policy(t);
	struct audit_record ar = {
		.kind = AUDIT_POLICY, .tenant = tenant_name(t),
		.policy_file = pt ? pt->file : NULL, .policy_line = pt ? pt->line : 0,
		.has_handle = true, .handle = ev->ioas,
	};
	char why[400];

	if (ev->kind == TENANT_RELOAD_NOT_APPLIED) {
		snprintf(why, sizeof(why), "the new policy could not be applied to IOAS %" PRIu32
			 " (%s); it keeps its old setting, new mappings are checked against the new policy",
			 ev->ioas, ev->what);
		log_warn("tenant %s: %s", tenant_name(t), why);
		ar.op = "reload-apply";
		ar.errnum = ev->errnum;
		ar.reason = why;
		(void)audit_emit(rr->s->audit, &ar);
		return;
	}
	if (rr->outside++ >= RELOAD_MAPPINGS_AUDITED)
		return;
	ar.op = "reload-outside";
	ar.allowed = true;
	ar.has_iova = ar.has_length = true;
	ar.iova = ev->iova;
	ar.length = ev->length;
	ar.reason = "mapping kept, now outside AllowedIOVA";
	(void)audit_emit(rr->s->audit, &ar);
}

int server_reload_policy(struct server *s, struct err *e)
{
	struct policy *np = NULL;
	struct audit_record ar = { .kind = AUDIT_POLICY, .op = "reload" };
	struct tenant *t;
	int r;

	if (!s->cfg.policy_dir)
		return err_set(e, EINVAL, "running with --no-policy: nothing to reload");
	r = policy_load_dir(s->cfg.policy_dir, &np, e);
	if (r < 0) {
		ar.allowed = false;
		ar.errnum = e->errnum;
		ar.reason = e->msg;
		(void)audit_emit(s->audit, &ar);
		return r;
	}
	/* Live tenants get the entry of the same name for new work; one whose
	 * section is gone may only release what it holds. */
	for (t = tenant_next(s->tenants, NULL); t; t = tenant_next(s->tenants, t)) {
		const struct policy_tenant *pt = policy_find_tenant(np, tenant_name(t));
		struct tenant_limits limits;

		if (!tenant_policy(t))
			continue; /* --no-policy tenants cannot appear here */
		if (pt) {
			struct reload_report rr = { .s = s };

			limits_from_policy(s, pt, &limits);
			tenant_reload_policy(t, pt, &limits, reload_reported, &rr);
			if (rr.outside > RELOAD_MAPPINGS_AUDITED) {
				char why[160];
				struct audit_record more = {
					.kind = AUDIT_POLICY, .op = "reload-outside",
					.allowed = true, .tenant = tenant_name(t),
					.policy_file = pt->file, .policy_line = pt->line,
					.reason = why,
				};

				snprintf(why, sizeof(why),
					 "%" PRIu32 " more mappings kept, now outside AllowedIOVA",
					 rr.outside - RELOAD_MAPPINGS_AUDITED);
				(void)audit_emit(s->audit, &more);
			}
			if (rr.outside)
				log_warn("tenant %s: %" PRIu32 " mappings are outside its new "
					 "AllowedIOVA; kept (ioasctl whoami counts them)",
					 tenant_name(t), rr.outside);
		} else {
			log_warn("tenant %s is not in the new policy: it may only release what it holds",
				 tenant_name(t));
			tenant_set_policy(t, NULL, NULL);
		}
	}
	policy_unref(s->policy);
	s->policy = np;
	ar.allowed = true;
	ar.reason = s->cfg.policy_dir;
	(void)audit_emit(s->audit, &ar);
	return 0;
}

static int server_listen(const struct server_config *cfg, int *ret_fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (strlen(cfg->socket_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, cfg->socket_path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Replace a stale socket left by a previous run, nothing else. */
	if (lstat(cfg->socket_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		if (unlink(cfg->socket_path) < 0)
			return -errno;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	if ((cfg->socket_gid != (gid_t)-1 &&
	     chown(cfg->socket_path, (uid_t)-1, cfg->socket_gid) < 0) ||
	    chmod(cfg->socket_path, cfg->socket_mode) < 0) {
		int r = -errno;

		unlink(cfg->socket_path);
		return r;
	}
	if (listen(fd, 128) < 0) {
		int r = -errno;

		unlink(cfg->socket_path);
		return r;
	}
	*ret_fd = TAKE_FD(fd);
	return 0;
}

static int env_open_context(void *userdata, uint64_t mode, int *ret_fd, struct err *e)
{
	struct server *s = userdata;

	if (!s->ctxhelper)
		return err_set(e, ESRCH,
			       "no context helper runs (it is started with the kernel "
			       "backend only)");
	return ctxhelper_mint(s->ctxhelper, mode, ret_fd, e);
}

void server_set_ctxhelper(struct server *s, struct ctxhelper *h)
{
	s->ctxhelper = h;
}

int server_start(struct server *s, struct event_base *base,
		 struct tenants *tenants, struct backend *b, const struct server_config *cfg,
		 int listen_fd, struct policy *policy, struct audit *audit,
		 struct pool *pool)
{
	int r;

	memset(s, 0, sizeof(*s));
	s->base = base;
	s->tenants = tenants;
	s->backend = b;
	s->policy = policy;
	s->audit = audit;
	s->pool = pool;
	s->cfg = *cfg;
	s->listen_fd = -1;
	TAILQ_INIT(&s->conns);
	TAILQ_INIT(&s->held);
	TAILQ_INIT(&s->leases);
	s->env = (struct rpc_env){
		.tenants = tenants, .backend = b, .pool = pool, .audit = audit,
		.connections = env_connections, .hello = env_hello,
		.open_context = env_open_context,
		.codec = &s->codec, .cache = &s->cache, .userdata = s,
	};
	tenant_set_revoke_hook(s->tenants, server_share_revoked, s);
	if (listen_fd >= 0) {
		s->listen_fd = listen_fd;
	} else {
		r = server_listen(cfg, &s->listen_fd);
		if (r < 0)
			return r;
		s->own_socket = true;
	}
	s->ev_accept = event_new(base, s->listen_fd, EV_READ | EV_PERSIST,
				 server_on_accept, s);
	s->ev_retry = evtimer_new(base, server_on_retry, s);
	/* One set of receive buffers for every connection, allocated once. */
	s->rx = wire_rx_new(CONN_RX_BATCH);
	if (!s->ev_accept || !s->ev_retry || server_turns_start(s) < 0 || !s->rx) {
		server_stop(s);
		return -ENOMEM;
	}
	event_add(s->ev_accept, NULL);
	return 0;
}

void server_stop(struct server *s)
{
	struct conn *c;
	struct lease *l;

	while ((c = TAILQ_FIRST(&s->conns)))
		conn_free(c);
	while ((l = TAILQ_FIRST(&s->leases))) {
		struct tenant *t = l->tenant;

		lease_free(s, l);
		server_release_tenant(s, t, "daemon stopping");
	}
	s->policy = policy_unref(s->policy);
	if (s->ev_accept)
		event_free(s->ev_accept);
	if (s->ev_retry)
		event_free(s->ev_retry);
	server_turns_stop(s);
	s->ev_accept = s->ev_retry = NULL;
	s->rx = wire_rx_free(s->rx);
	rpc_cache_release(&s->cache);
	fastpb_memo_release(&s->codec);
	while (tenants_reap(s->tenants, SIZE_MAX))
		;
	if (s->listen_fd >= 0) {
		if (s->own_socket)
			unlink(s->cfg.socket_path);
		close(s->listen_fd);
		s->listen_fd = -1;
	}
}


uint32_t server_conns_of_uid(const struct server *s, uid_t uid)
{
	const struct conn *c;
	uint32_t n = 0;

	TAILQ_FOREACH(c, &s->conns, link)
		if (c->rs.cred.uid == uid)
			n++;
	return n;
}
