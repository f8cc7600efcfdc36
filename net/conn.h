/* SPDX-License-Identifier: MIT */
/*
 * One client connection: its kernel-supplied credentials, its receive path
 * (one datagram per request, fds via SCM_RIGHTS) and its bounded output
 * queue. A connection is freed only from its own event callbacks or by its
 * owner, never from inside request handling. It knows nothing of the
 * daemon around it but what it is given: a config by value, the protocol's
 * environment, and its owner's callback.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "proto/wire.h"
#include "rpc/rpc.h"

struct event;
struct event_base;
struct conn;
struct tenant;

struct outmsg {
	TAILQ_ENTRY(outmsg) link;
	int fd;            /* rides on it (SCM_RIGHTS), owned; -1: none */
	size_t len;
	uint8_t data[];
};

/* What a connection is told at creation, by value. */
struct conn_config {
	size_t max_outq_bytes;      /* reading pauses above; hard limit 4x */
	unsigned slow_client_sec;   /* a peer paused this long is dropped */
	unsigned hello_timeout_sec; /* a peer silent this long after connect is dropped */
	/* Where datagrams are received, CONN_RX_BATCH at a time:
	 * lent by the owner and shared by its connections (handling is one
	 * connection at a time, and nothing of a datagram outlives it);
	 * NULL: the connection allocates its own. */
	struct wire_rx *rx;
};

/* The most datagrams one readable wakeup receives (one recvmmsg) and
 * handles before yielding to other peers: a struct wire_rx lent in
 * conn_config has room for at least this many. */
#define CONN_RX_BATCH 16

/* Whoever lists connections: told when one goes (from conn_free), so that
 * it unlists it and lets go of its tenant. hold (may be NULL) is asked
 * before queued replies leave: true means they report changes not yet
 * durable, and the owner calls conn_release() once they are (group
 * commit: one commit for every connection served in a wakeup). */
struct conn_owner {
	void (*gone)(void *userdata, struct conn *c);
	bool (*hold)(void *userdata, struct conn *c);
	/* A request of c runs in slices (rpc_pending): step it with
	 * rpc_session_step() and conn_resume() every connection of its
	 * tenant when it ends. May be NULL (then nothing defers). */
	void (*deferred)(void *userdata, struct conn *c);
	void *userdata;
};

/* Datagrams read in the batch that held a deferred request, kept in
 * order until it ends. */
struct conn_backlog {
	TAILQ_ENTRY(conn_backlog) link;
	ssize_t len;               /* as wire_msg */
	int fds[IOASD_MAX_FDS];
	size_t nfds;
	uint8_t data[];
};

struct conn {
	TAILQ_ENTRY(conn) link;     /* the owner's list */
	struct rpc_session rs;      /* what the protocol knows of it */
	struct conn_config cfg;
	struct conn_owner owner;    /* set by conn_start */
	int fd;
	struct wire_rx *rx;        /* cfg.rx, or own_rx */
	struct wire_rx *own_rx;
	unsigned rx_want;          /* datagrams the next recvmmsg asks for */
	/* Read when first asked for (conn_get_peer, conn_peer_desc): */
	bool have_groups, have_unit_cgroup;
	gid_t *groups;             /* SO_PEERGROUPS */
	size_t n_groups;
	char *unit;                /* systemd unit of cred.pid, or NULL */
	char *cgroup;              /* cgroup of cred.pid, or NULL */
	char desc[256];            /* "" until described */
	struct event *ev_read;
	struct event *ev_write;
	bool closing;              /* refuse further input; free once flushed */
	bool read_paused;          /* output queue above its high watermark */
	bool overflowed;           /* over the hard limit: closing, sends nothing more */
	bool reading;              /* inside its read callback, handling a request */
	bool held;                 /* its output waits for conn_release() */
	bool read_armed, write_armed, slow_armed; /* added to libevent */
	TAILQ_ENTRY(conn) hold_link; /* the owner's list of held ones */
	struct event *ev_slow;     /* drops a peer that stays paused too long */
	struct event *ev_hello;    /* drops a peer that has not said Hello in time */
	TAILQ_HEAD(, outmsg) outq;
	TAILQ_HEAD(, conn_backlog) backlog;
	size_t outq_bytes;
};

/* Takes fd (closes it on failure). cred is the peer's SO_PEERCRED when the
 * caller has read it already (NULL: read here); the rest of its identity is
 * read when first asked for. The connection has no tenant and serves
 * nothing yet. serial names it in logs and the audit trail; env is what its
 * requests are served with. */
int conn_new(struct event_base *base, const struct conn_config *cfg,
	     const struct rpc_env *env, uint64_t serial, int fd,
	     const struct ucred *cred, struct conn **ret);
/* Serve it for tenant t; owner hears when it goes. */
void conn_start(struct conn *c, struct tenant *t, const struct conn_owner *owner);
/* What it held back may leave now (may free c). */
void conn_release(struct conn *c);
/* Its tenant's operation in slices ended: serve what it read meanwhile,
 * then read again (may free c). */
void conn_resume(struct conn *c);
struct policy_peer;
/* The peer as policy matching sees it (pointers into c), with at least
 * parts (POLICY_PEER_*: policy_peer_needs()) read from the kernel; what
 * was not read is absent (no groups, no unit, no cgroup). */
void conn_get_peer(struct conn *c, unsigned parts, struct policy_peer *ret);
/* The peer described for refusals, logs and the audit trail (everything
 * read), built once. */
const char *conn_peer_desc(struct conn *c);

/* Release everything the connection owns. NULL-safe, returns NULL. */
struct conn *conn_free(struct conn *c);

/* Queue one datagram for the client. -ENOBUFS if the queue would go over its
 * hard limit (4 x max_outq_bytes): the queue is then dropped, the drop
 * audited, and the connection freed from its own event callback. */
int conn_send(struct conn *c, const void *buf, size_t len);
/* The same with fd riding on the datagram; takes fd whatever it returns
 * (closed once sent, or with the queue). */
int conn_send_fd(struct conn *c, const void *buf, size_t len, int fd);
/* Stop reading; free the connection once its queued replies are sent. */
void conn_close_after_flush(struct conn *c);
/* The connection a protocol session is embedded in. */
struct conn *conn_of(struct rpc_session *s);
