/* SPDX-License-Identifier: MIT */
/*
 * The protocol, and nothing else: decode one request datagram, check it,
 * dispatch it to its handler and hand back the reply. Owns the fds that
 * arrived with the datagram: handlers take the ones they keep, rpc closes
 * the rest.
 *
 * rpc knows no socket, connection list or state file: it serves a
 * struct rpc_session (one client, embedded in the connection of the layer
 * above, which sends what rpc gives it) within a struct rpc_env (what the
 * daemon around it lends: backend, pool, audit, and the callbacks for what
 * only that daemon can do -- admission at Hello, the connection count).
 * Making a change durable before its reply is the transport's business:
 * the tables report each change to restart support as it is made, and
 * the connection holds its replies until the commit.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/util.h"

#define IOASD_PROTOCOL_VERSION 1u

struct audit;
struct audit_record;
struct fastpb_memo;
struct backend;
struct pool;
struct rpc_session;
struct tenant;
struct tenant_revoke_event;
struct tenants;

/*
 * A large block a request needs for a moment (a batch's decoding, its
 * slots), kept from one request to the next. Allocating and freeing it
 * each time made glibc consolidate its fast bins at every batch (a free
 * over 64 KiB does), which slowed every small allocation after it (a
 * mapping's, a pin's). busy: lent to a request; another request meanwhile
 * gets a block of its own.
 */
struct rpc_block {
	void *p;
	size_t size;
	bool busy;
};
struct rpc_cache {
	struct rpc_block decode; /* a request fastpb decodes on the heap */
	struct rpc_block batch;  /* a batch's slots and results */
};
/* Free what the cache keeps (nothing may be lent). */
void rpc_cache_release(struct rpc_cache *cache);
/* size bytes, uninitialised: b's block when it is free (grown if need
 * be), else malloc's; NULL when out of memory. b may be NULL. */
void *rpc_block_get(struct rpc_block *b, size_t size);
/* Give back what rpc_block_get() returned (NULL: nothing). */
void rpc_block_put(struct rpc_block *b, void *p);

struct rpc_env {
	struct tenants *tenants;    /* every live tenant (daemon-wide Stats) */
	struct backend *backend;
	struct pool *pool;          /* may be NULL */
	struct audit *audit;        /* may be NULL */
	/* Daemon-wide connections, for the Stats of those who may see it. */
	uint32_t (*connections)(void *userdata);
	/* Hello: bind s to the tenant it reclaims with token (NULL: none),
	 * or keep the one it was admitted as; *ret_token is the token to
	 * show the client (NULL without restart support). 0 or -errno with
	 * e filled in; on failure the peer is dropped. */
	int (*hello)(void *userdata, struct rpc_session *s, const char *token,
		     const char **ret_token, bool *ret_reclaimed, struct err *e);
	/* OpenContext: a fresh iommufd context fd with its
	 * IOMMU_OPTION_RLIMIT_MODE set to mode, now the caller's (the daemon's
	 * context helper makes it). 0 or -errno with e filled in; NULL: no
	 * context can be made (ESRCH). */
	int (*open_context)(void *userdata, uint64_t mode, int *ret_fd, struct err *e);
	/* What the message codec worked out about each message type, for
	 * every session; may be NULL (worked out each time). */
	struct fastpb_memo *codec;
	/* Blocks kept from one request to the next; may be NULL. */
	struct rpc_cache *cache;
	void *userdata;
};

/* How rpc hands a datagram to the client, and asks for the end of it. */
struct rpc_transport {
	/* Queue one datagram. 0 or -errno (the connection then goes). */
	int (*send)(struct rpc_session *s, const void *buf, size_t len);
	/* The same with fd riding on it (SCM_RIGHTS); takes fd whatever it
	 * returns. NULL: the transport carries no fds (OpenContext and
	 * OpenDevice are then refused). */
	int (*send_fd)(struct rpc_session *s, const void *buf, size_t len, int fd);
	/* Read nothing more; close once what is queued is sent. */
	void (*close_after_flush)(struct rpc_session *s);
	/* The peer described (refusals, logs, whoami), built when first
	 * asked for; NULL: rpc_peer_desc() says only what cred says. */
	const char *(*describe)(struct rpc_session *s);
};

/*
 * An operation that runs in slices (an unmap of a whole IOAS holding more
 * than RPC_SLICE mappings): its reply is sent when rpc_session_step()
 * finishes it. Meanwhile the session serves nothing else, nor does any
 * session of the same tenant (tenant_busy), so the operation is one for
 * the client, as the kernel's ioctl is.
 */
#define RPC_SLICE 4096u
struct rpc_pending {
	bool active;
	uint64_t id;          /* the request's */
	uint32_t ioas;
	uint64_t unmapped;    /* so far */
};

struct rpc_session {
	const struct rpc_env *env;
	const struct rpc_transport *tp;
	struct tenant *tenant;      /* whose handles its requests name */
	bool hello_done;
	uint64_t serial;            /* the connection's, for logs and audit */
	struct ucred cred;          /* SO_PEERCRED at accept: never a claim */
	struct rpc_pending pending; /* an operation under way, or none */
	char cred_desc[64];         /* rpc_peer_desc() without a describe */
};

/* Who is at the other end of s, for refusals, logs and whoami. */
const char *rpc_peer_desc(struct rpc_session *s);

void rpc_handle_datagram(struct rpc_session *s, const uint8_t *buf, size_t len,
			 int *fds, size_t nfds);
/* Whether s must not be given another request now: an operation of its own
 * runs in slices, or one of its tenant's other sessions does. */
bool rpc_session_busy(const struct rpc_session *s);
/* Run the next slice of s's operation under way; when it ends, its reply
 * is sent (and audited). Returns whether it is still under way. */
bool rpc_session_step(struct rpc_session *s);
/* The session goes with its operation under way: finish it at once (the
 * kernel's unmap would have been whole), no reply. */
void rpc_session_abandon(struct rpc_session *s);

/* One audit record for a decision on session s that no request carries
 * (the transport's refusals, timeouts, drops). audit_emit()'s result:
 * AUDIT_SUPPRESSED when the rate limit held it back (log nothing either). */
int rpc_audit(struct rpc_session *s, const char *op, int errnum, const char *reason);

/* Who an audit record about session s is about: the peer as the kernel
 * reported it, tenant t (may be NULL) and its policy section. */
void rpc_audit_subject(const struct rpc_session *s, const struct tenant *t,
		       struct audit_record *r);

/* Queue an error reply (id may be 0 when the request could not be read). */
void rpc_send_error(struct rpc_session *s, uint64_t id, int errnum, const char *msg);

/* Tell s that an import of its tenant was revoked (Response id 0, result
 * ShareRevoked). 0 or -errno from the transport. */
int rpc_notify_share_revoked(struct rpc_session *s, const struct tenant_revoke_event *ev);

/* Send one error Response (id 0) directly on a socket that has no connection
 * state (a refused connection). Best effort: the socket is closed next. */
void rpc_send_refusal(int fd, int errnum, const char *msg);
