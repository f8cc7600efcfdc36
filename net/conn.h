/* SPDX-License-Identifier: MIT */
/*
 * One client connection: its kernel-supplied credentials, its receive path
 * (one datagram per request, fds via SCM_RIGHTS) and its bounded output
 * queue. A connection is freed only from its own event callbacks or by
 * server_stop, never from inside request handling.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

struct server;
struct tenant;
struct event;

struct outmsg {
	TAILQ_ENTRY(outmsg) link;
	size_t len;
	uint8_t data[];
};

struct conn {
	TAILQ_ENTRY(conn) link;
	struct server *server;
	uint64_t serial;           /* for logs */
	int fd;
	struct ucred cred;         /* SO_PEERCRED at accept: never the client's claim */
	gid_t *groups;             /* SO_PEERGROUPS */
	size_t n_groups;
	char *unit;                /* systemd unit of cred.pid at accept, or NULL */
	char *cgroup;              /* cgroup of cred.pid at accept, or NULL */
	char peer_desc[256];       /* for refusals, logs and whoami */
	struct event *ev_read;
	struct event *ev_write;
	bool hello_done;
	bool closing;              /* refuse further input; free once flushed */
	bool read_paused;          /* output queue above its high watermark */
	bool overflowed;           /* over the hard limit: closing, sends nothing more */
	struct event *ev_slow;     /* drops a peer that stays paused too long */
	struct event *ev_hello;    /* drops a peer that has not said Hello in time */
	bool listed;               /* in server->conns and counted */
	struct tenant *tenant;
	TAILQ_HEAD(, outmsg) outq;
	size_t outq_bytes;
	uint64_t requests;
};

/* Takes fd (closes it on failure). Reads the peer's identity from the
 * kernel; the connection has no tenant and is not listed yet. */
int conn_new(struct server *s, int fd, struct conn **ret);
/* Attach to a tenant and start serving. */
void conn_start(struct conn *c, struct tenant *t);
struct policy_peer;
/* The peer as policy matching sees it (pointers into c). */
void conn_get_peer(const struct conn *c, struct policy_peer *ret);

struct audit_record;
/* Who an audit record about connection c is about: the peer as the kernel
 * reported it, tenant t (may be NULL) and its policy section. */
void conn_audit_subject(const struct conn *c, const struct tenant *t,
			struct audit_record *r);

/* Release everything the connection owns. NULL-safe, returns NULL. */
struct conn *conn_free(struct conn *c);

/* Queue one datagram for the client. -ENOBUFS if the queue would go over its
 * hard limit (4 x max_outq_bytes): the queue is then dropped, the drop
 * audited, and the connection freed from its own event callback. */
int conn_send(struct conn *c, const void *buf, size_t len);
/* Stop reading; free the connection once its queued replies are sent. */
void conn_close_after_flush(struct conn *c);
