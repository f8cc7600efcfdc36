/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "audit/audit.h"
#include "net/conn.h"
#include "policy/policy.h"
#include "common/log.h"
#include "rpc/rpc.h"
#include "tenant/tenant.h"
#include "common/util.h"
#include "proto/wire.h"

static void conn_maybe_finish(struct conn *c);
static void conn_update_events(struct conn *c);
static void conn_on_slow(evutil_socket_t fd, short what, void *arg);
static int conn_flush(struct conn *c);

/* Whether what is queued must wait for the owner's commit. */
static bool conn_hold(struct conn *c)
{
	if (!c->held && c->owner.hold && !TAILQ_EMPTY(&c->outq))
		c->held = c->owner.hold(c->owner.userdata, c);
	return c->held;
}

void conn_release(struct conn *c)
{
	c->held = false;
	if (conn_flush(c) < 0) {
		conn_free(c);
		return;
	}
	conn_update_events(c);
	conn_maybe_finish(c);
}

/* Add or delete ev as on says, telling libevent only of a change: a
 * request on the hot path changes nothing (no libevent call). */
static void arm(struct event *ev, bool *armed, bool on, const struct timeval *tv)
{
	if (on == *armed)
		return;
	*armed = on;
	if (on)
		event_add(ev, tv);
	else
		event_del(ev);
}

static void conn_update_events(struct conn *c)
{
	bool want_read = !c->closing && !c->read_paused && !rpc_session_busy(&c->rs) &&
			 TAILQ_EMPTY(&c->backlog);
	struct timeval slow = { .tv_sec = c->cfg.slow_client_sec };

	/* A client that does not read its replies is throttled (we stop
	 * reading it) and, if it stays that way, dropped: its queued replies
	 * cannot hold the daemon's memory forever (the timer runs from the
	 * pause; when it fires the connection goes). */
	if (c->read_paused && !c->ev_slow)
		c->ev_slow = evtimer_new(event_get_base(c->ev_read), conn_on_slow, c);
	/* Made the first time a peer is paused (few are). Without it (out of
	 * memory) a paused peer is only throttled: its queue still has the
	 * hard limit. */
	if (c->ev_slow)
		arm(c->ev_slow, &c->slow_armed, c->read_paused, &slow);
	arm(c->ev_read, &c->read_armed, want_read, NULL);
	/* EV_WRITE only while output is queued and may leave. */
	arm(c->ev_write, &c->write_armed, !TAILQ_EMPTY(&c->outq) && !c->held, NULL);
}

/* A queued datagram and the fd it carries (sent or not: the peer has its
 * own copy once it was sent). */
static void outmsg_free(struct outmsg *m)
{
	if (m->fd >= 0)
		close(m->fd);
	free(m);
}

/* Send as much of the queue as the socket takes. 0, or -errno on a dead peer. */
static int conn_flush(struct conn *c)
{
	struct outmsg *m;

	if (c->held)
		return 0;
	while ((m = TAILQ_FIRST(&c->outq))) {
		int r = wire_send(c->fd, m->data, m->len, m->fd >= 0 ? &m->fd : NULL,
				  m->fd >= 0);

		if (r == -EAGAIN)
			break;
		if (r < 0)
			return r;
		TAILQ_REMOVE(&c->outq, m, link);
		c->outq_bytes -= m->len;
		outmsg_free(m);
	}
	/* Resume reading once below the low watermark (half the high one). */
	if (c->read_paused &&
	    c->outq_bytes <= c->cfg.max_outq_bytes / 2)
		c->read_paused = false;
	return 0;
}

/*
 * Past the high watermark reading stops, so replies stop growing the queue
 * soon after (one batch of requests at most). What can still grow it is
 * what other tenants' actions send (ShareRevoked notifications): the hard
 * limit bounds that too. Over it, the queue is dropped with the peer.
 */
#define CONN_HARD_LIMIT_FACTOR 4

static void conn_overflow(struct conn *c, size_t len)
{
	struct outmsg *m;
	char why[160];

	snprintf(why, sizeof(why),
		 "output queue over its hard limit (%zu bytes queued, %zu more, limit %zu)",
		 c->outq_bytes, len,
		 c->cfg.max_outq_bytes * CONN_HARD_LIMIT_FACTOR);
	log_warn("connection %" PRIu64 " (pid %d uid %u): %s; dropping it",
		 c->rs.serial, (int)c->rs.cred.pid, (unsigned)c->rs.cred.uid, why);
	rpc_audit(&c->rs, "output-overflow", ENOBUFS, why);
	while ((m = TAILQ_FIRST(&c->outq))) {
		TAILQ_REMOVE(&c->outq, m, link);
		outmsg_free(m);
	}
	c->outq_bytes = 0;
	conn_close_after_flush(c);
	/* Freed from its own callback, never from under the sender. */
	event_active(c->ev_write, EV_WRITE, 0);
}

int conn_send(struct conn *c, const void *buf, size_t len)
{
	return conn_send_fd(c, buf, len, -1);
}

int conn_send_fd(struct conn *c, const void *buf, size_t len, int fd)
{
	struct outmsg *m;

	if (c->overflowed) {
		safe_close(fd);
		return -ENOBUFS;
	}
	if (c->outq_bytes + len >
	    c->cfg.max_outq_bytes * CONN_HARD_LIMIT_FACTOR) {
		safe_close(fd);
		c->overflowed = true;
		conn_overflow(c, len);
		return -ENOBUFS;
	}
	m = malloc(sizeof(*m) + len);
	if (!m) {
		safe_close(fd);
		conn_close_after_flush(c);
		return -ENOMEM;
	}
	m->fd = fd;
	m->len = len;
	memcpy(m->data, buf, len);
	TAILQ_INSERT_TAIL(&c->outq, m, link);
	c->outq_bytes += len;
	/* Each request yields one reply, so pausing reads bounds the queue:
	 * a client that does not read its replies stops being read. */
	if (c->outq_bytes > c->cfg.max_outq_bytes)
		c->read_paused = true;
	return 0;
}

void conn_close_after_flush(struct conn *c)
{
	c->closing = true;
}

struct conn *conn_of(struct rpc_session *s)
{
	return (struct conn *)((char *)s - offsetof(struct conn, rs));
}

static int transport_send_fd(struct rpc_session *s, const void *buf, size_t len,
			     int fd)
{
	struct conn *c = conn_of(s);
	int r;

	r = conn_send_fd(c, buf, len, fd);
	/* A reply to this connection's own request is flushed when its read
	 * callback ends (no event to arm: no syscall on the hot path); one sent
	 * from elsewhere (a notification another tenant caused) is flushed by
	 * its write event, once what it reports is durable. */
	if (r == 0 && !c->reading && !conn_hold(c))
		arm(c->ev_write, &c->write_armed, true, NULL);
	return r;
}

static int transport_send(struct rpc_session *s, const void *buf, size_t len)
{
	return transport_send_fd(s, buf, len, -1);
}

static void transport_close(struct rpc_session *s)
{
	conn_close_after_flush(conn_of(s));
}

static const char *transport_describe(struct rpc_session *s)
{
	return conn_peer_desc(conn_of(s));
}

static const struct rpc_transport conn_transport = {
	.send = transport_send,
	.send_fd = transport_send_fd,
	.close_after_flush = transport_close,
	.describe = transport_describe,
};

static void conn_on_write(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	if (conn_flush(c) < 0) {
		conn_free(c);
		return;
	}
	conn_update_events(c);
	conn_maybe_finish(c);
}

static void conn_on_slow(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	char why[160];

	snprintf(why, sizeof(why),
		 "did not read its replies for %u s (%zu bytes queued)",
		 c->cfg.slow_client_sec, c->outq_bytes);
	if (rpc_audit(&c->rs, "slow-client", ETIMEDOUT, why) != AUDIT_SUPPRESSED)
		log_warn("connection %" PRIu64 " (pid %d uid %u) %s; dropping it",
			 c->rs.serial, (int)c->rs.cred.pid, (unsigned)c->rs.cred.uid, why);
	conn_free(c);
}

/* A connection holds a slot of the daemon-wide, per-uid and per-tenant
 * connection limits from accept on; one that never says Hello would hold it
 * for ever. */
static void conn_on_hello_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	char why[160];

	if (c->rs.hello_done)
		return;
	snprintf(why, sizeof(why), "sent no Hello within %u s of connecting",
		 c->cfg.hello_timeout_sec);
	log_warn("connection %" PRIu64 " (pid %d uid %u) %s; dropping it",
		 c->rs.serial, (int)c->rs.cred.pid, (unsigned)c->rs.cred.uid, why);
	rpc_audit(&c->rs, "hello-timeout", ETIMEDOUT, why);
	rpc_send_error(&c->rs, 0, ETIMEDOUT, why);
	(void)conn_flush(c);
	conn_free(c);
}

static void conn_protocol_error(struct conn *c, int errnum, const char *why)
{
	if (rpc_audit(&c->rs, "datagram", errnum, why) != AUDIT_SUPPRESSED)
		log_warn("connection %" PRIu64 " (pid %d uid %u): %s; dropping it",
			 c->rs.serial, (int)c->rs.cred.pid, (unsigned)c->rs.cred.uid, why);
	rpc_send_error(&c->rs, 0, errnum, why);
	conn_close_after_flush(c);
}

/* Close the fds of datagrams that will not be handled. */
static void drop_msgs(struct wire_msg *msgs, int n)
{
	for (int i = 0; i < n; i++) {
		for (size_t k = 0; k < msgs[i].nfds; k++)
			close(msgs[i].fds[k]);
		msgs[i].nfds = 0;
	}
}

/*
 * One wakeup: the datagrams queued now, up to CONN_RX_BATCH, in one recvmmsg
 * call, and no further call to find the queue empty: libevent is
 * level-triggered, so what is left wakes us again. The batch is handled
 * whole unless the connection starts closing (a protocol error: the rest
 * is dropped, as the socket would have dropped it): reading pauses between
 * batches, so the output queue passes its high watermark by one batch of
 * replies at most (CONN_RX_BATCH x IOASD_MAX_DATAGRAM, within the hard limit).
 */
/* One datagram (len as wire_msg; its *nfds fds are taken). false: c is
 * gone. */
static bool conn_handle(struct conn *c, const uint8_t *buf, ssize_t len, int *fds,
			size_t *nfds)
{
	char why[128];

	if (len == 0) {
		log_debug("connection %" PRIu64 " closed by peer", c->rs.serial);
		conn_free(c);
		return false;
	}
	if (len == -EMSGSIZE) {
		snprintf(why, sizeof(why), "datagram larger than %u bytes refused",
			 IOASD_MAX_DATAGRAM);
		conn_protocol_error(c, EMSGSIZE, why);
		return true;
	}
	if (len == -EBADMSG) {
		snprintf(why, sizeof(why),
			 "more than %u fds or a foreign control message on one datagram",
			 IOASD_MAX_FDS);
		conn_protocol_error(c, EBADMSG, why);
		return true;
	}
	c->reading = true;
	rpc_handle_datagram(&c->rs, buf, (size_t)len, fds, *nfds);
	c->reading = false;
	*nfds = 0; /* rpc took or closed them */
	if (c->rs.pending.active) {
		if (c->owner.deferred)
			c->owner.deferred(c->owner.userdata, c);
		else /* nobody steps it: all of it now */
			while (rpc_session_step(&c->rs))
				;
	}
	return true;
}

static int backlog_add(struct conn *c, struct wire_msg *m)
{
	size_t n = m->len > 0 ? (size_t)m->len : 0;
	struct conn_backlog *b = malloc(sizeof(*b) + n);

	if (!b)
		return -ENOMEM;
	b->len = m->len;
	b->nfds = m->nfds;
	memcpy(b->fds, m->fds, sizeof(b->fds));
	memcpy(b->data, m->buf, n);
	m->nfds = 0; /* the backlog has them */
	TAILQ_INSERT_TAIL(&c->backlog, b, link);
	return 0;
}

static void backlog_drop(struct conn *c)
{
	struct conn_backlog *b;

	while ((b = TAILQ_FIRST(&c->backlog))) {
		TAILQ_REMOVE(&c->backlog, b, link);
		for (size_t k = 0; k < b->nfds; k++)
			close(b->fds[k]);
		free(b);
	}
}

void conn_resume(struct conn *c)
{
	struct conn_backlog *b;

	while (!c->closing && !rpc_session_busy(&c->rs) && (b = TAILQ_FIRST(&c->backlog))) {
		bool alive;

		TAILQ_REMOVE(&c->backlog, b, link);
		alive = conn_handle(c, b->data, b->len, b->fds, &b->nfds);
		for (size_t k = 0; k < b->nfds; k++)
			close(b->fds[k]);
		free(b);
		if (!alive)
			return;
	}
	(void)conn_hold(c);
	if (conn_flush(c) < 0) {
		conn_free(c);
		return;
	}
	conn_update_events(c);
	conn_maybe_finish(c);
}

static void conn_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct wire_msg *msgs;
	int n;

	if (c->closing || c->read_paused || rpc_session_busy(&c->rs) ||
	    !TAILQ_EMPTY(&c->backlog))
		goto out;
	n = wire_recv_batch(c->fd, c->rx, c->rx_want, MSG_DONTWAIT, &msgs);
	if (n == -EAGAIN)
		goto out;
	if (n == -ECONNRESET) {
		log_debug("connection %" PRIu64 " closed by peer", c->rs.serial);
		conn_free(c);
		return;
	}
	if (n < 0) {
		log_warn("connection %" PRIu64 ": recvmmsg: %s",
			 c->rs.serial, strerror(-n));
		conn_free(c);
		return;
	}
	/*
	 * Ask for as many as the last call found, twice that when it was
	 * full: recvmmsg tries each slot it is given, and at the peer's
	 * close every slot reads the end of stream again (16 cost 4.8 us
	 * here, 1 cost 0.55). A client with one request in flight is read
	 * one at a time; one that pipelines reaches CONN_RX_BATCH soon.
	 */
	if ((unsigned)n == c->rx_want)
		c->rx_want = c->rx_want * 2 < CONN_RX_BATCH ? c->rx_want * 2 : CONN_RX_BATCH;
	else
		c->rx_want = (unsigned)n;
	for (int i = 0; i < n; i++) {
		struct wire_msg *m = &msgs[i];

		if (c->closing) {
			drop_msgs(m, n - i);
			break;
		}
		/* Behind a request that runs in slices: kept for later. */
		if (rpc_session_busy(&c->rs)) {
			if (backlog_add(c, m) < 0) {
				drop_msgs(m, n - i);
				conn_free(c);
				return;
			}
			continue;
		}
		if (m->len == 0) {
			/* What was read with the end of stream goes before the
			 * connection (its buffers may be the connection's). */
			log_debug("connection %" PRIu64 " closed by peer", c->rs.serial);
			drop_msgs(m, n - i);
			conn_free(c);
			return;
		}
		if (!conn_handle(c, m->buf, m->len, m->fds, &m->nfds))
			return;
	}
out:
	(void)conn_hold(c);
	if (conn_flush(c) < 0) {
		conn_free(c);
		return;
	}
	conn_update_events(c);
	conn_maybe_finish(c);
}

static void conn_maybe_finish(struct conn *c)
{
	if (c->closing && TAILQ_EMPTY(&c->outq))
		conn_free(c);
}

static int peer_groups(int fd, gid_t **ret, size_t *ret_n)
{
	socklen_t len = 16 * sizeof(gid_t);

	for (int tries = 0; tries < 8; tries++) {
		gid_t *g = malloc(len ? len : sizeof(gid_t));

		if (!g)
			return -ENOMEM;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) == 0) {
			*ret = g;
			*ret_n = len / sizeof(gid_t);
			return 0;
		}
		free(g);
		if (errno != ERANGE)
			return -errno;
		/* len now holds the size needed. */
	}
	return -ERANGE;
}

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

/*
 * Unit and cgroup of the peer, read by pid from the kernel at accept. The pid
 * SO_PEERCRED recorded at connect() may belong to another process by now
 * (the peer exited, the pid was reused), which would let a process pass for
 * a unit it is not in. Where the kernel offers SO_PEERPIDFD (Linux 6.5+),
 * the peer is pinned by a pidfd first and the answer is kept only if that
 * very process is still alive after the read: its pid cannot have been
 * reused in between. Older kernels: resolved by pid as before (the race
 * remains; README "Tenants and policy" says so).
 */
static void peer_unit_cgroup(struct conn *c)
{
	_cleanup_close_ int pidfd = -1;
	socklen_t len = sizeof(pidfd);

	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) < 0) {
		pidfd = -1;
		if (errno != ENOPROTOOPT && errno != EINVAL)
			return; /* e.g. ESRCH: the peer is gone, it matches no unit */
	}
	if (policy_peer_from_pid(c->rs.cred.pid, &c->unit, &c->cgroup) < 0)
		return;
	if (pidfd >= 0 && syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0) {
		/* Gone: what was read may be another process's. */
		free(c->unit);
		free(c->cgroup);
		c->unit = c->cgroup = NULL;
	}
}

int conn_new(struct event_base *base, const struct conn_config *cfg,
	     const struct rpc_env *env, uint64_t serial, int fd,
	     const struct ucred *cred, struct conn **ret)
{
	struct conn *c;
	socklen_t len;
	int r;

	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->fd = fd;
	c->cfg = *cfg;
	c->rx = cfg->rx;
	if (!c->rx) {
		c->rx = c->own_rx = wire_rx_new(CONN_RX_BATCH);
		if (!c->rx) {
			conn_free(c);
			return -ENOMEM;
		}
	}
	c->rx_want = 1;
	c->rs.env = env;
	c->rs.tp = &conn_transport;
	c->rs.serial = serial;
	TAILQ_INIT(&c->outq);
	TAILQ_INIT(&c->backlog);
	if (cred) {
		c->rs.cred = *cred;
	} else {
		len = sizeof(c->rs.cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->rs.cred, &len) < 0) {
			r = -errno;
			conn_free(c);
			return r;
		}
	}
	/* The rest of who the peer is is read when first asked for
	 * (conn_get_peer, conn_peer_desc). */
	c->ev_read = event_new(base, fd, EV_READ | EV_PERSIST, conn_on_read, c);
	c->ev_write = event_new(base, fd, EV_WRITE | EV_PERSIST, conn_on_write, c);
	c->ev_hello = evtimer_new(base, conn_on_hello_timeout, c);
	if (!c->ev_read || !c->ev_write || !c->ev_hello) {
		conn_free(c);
		return -ENOMEM;
	}
	*ret = c;
	return 0;
}

/*
 * Who the peer is beyond SO_PEERCRED, read from the kernel once each and
 * only when something asks: policy matching asks for what its Match* keys
 * use (policy_peer_needs), a description (refusals, whoami, the audit
 * trail's connect record, logs) for everything. A peer that is gone by
 * then has no unit or cgroup, as one gone before accept never had.
 */
static void conn_resolve(struct conn *c, unsigned parts)
{
	if ((parts & POLICY_PEER_GROUPS) && !c->have_groups) {
		c->have_groups = true;
		if (peer_groups(c->fd, &c->groups, &c->n_groups) < 0) {
			c->groups = NULL;
			c->n_groups = 0;
		}
	}
	if ((parts & POLICY_PEER_UNIT_CGROUP) && !c->have_unit_cgroup) {
		c->have_unit_cgroup = true;
		peer_unit_cgroup(c);
	}
}

void conn_get_peer(struct conn *c, unsigned parts, struct policy_peer *ret)
{
	conn_resolve(c, parts);
	ret->uid = c->rs.cred.uid;
	ret->gid = c->rs.cred.gid;
	ret->pid = c->rs.cred.pid;
	ret->groups = c->groups;
	ret->n_groups = c->n_groups;
	ret->unit = c->unit;
	ret->cgroup = c->cgroup;
}

const char *conn_peer_desc(struct conn *c)
{
	struct policy_peer peer;

	if (!c->desc[0]) {
		conn_get_peer(c, POLICY_PEER_GROUPS | POLICY_PEER_UNIT_CGROUP, &peer);
		(void)policy_peer_describe(&peer, c->desc, sizeof(c->desc));
	}
	return c->desc;
}

void conn_start(struct conn *c, struct tenant *t, const struct conn_owner *owner)
{
	c->rs.tenant = t;
	c->owner = *owner;
	arm(c->ev_read, &c->read_armed, true, NULL);
	if (c->cfg.hello_timeout_sec) {
		struct timeval tv = { .tv_sec = c->cfg.hello_timeout_sec };

		evtimer_add(c->ev_hello, &tv);
	}
}

struct conn *conn_free(struct conn *c)
{
	struct outmsg *m;

	if (!c)
		return NULL;
	if (c->ev_read)
		event_free(c->ev_read);
	if (c->ev_write)
		event_free(c->ev_write);
	if (c->ev_slow)
		event_free(c->ev_slow);
	if (c->ev_hello)
		event_free(c->ev_hello);
	while ((m = TAILQ_FIRST(&c->outq))) {
		TAILQ_REMOVE(&c->outq, m, link);
		outmsg_free(m);
	}
	if (c->fd >= 0)
		close(c->fd);
	backlog_drop(c);
	/* An operation under way ends whole, with nobody to tell. */
	if (c->rs.pending.active)
		rpc_session_abandon(&c->rs);
	/* The owner unlists it, and the tenant's objects go when its last
	 * connection does (or when its lease runs out). */
	if (c->owner.gone)
		c->owner.gone(c->owner.userdata, c);
	wire_rx_free(c->own_rx);
	free(c->groups);
	free(c->unit);
	free(c->cgroup);
	free(c);
	return NULL;
}
