/* SPDX-License-Identifier: MIT */
/* Decode one request datagram, check it, dispatch it to its handler and
 * queue the reply. Owns the fds that arrived with the datagram: handlers
 * take the ones they keep, rpc closes the rest. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct conn;

#define IOASD_PROTOCOL_VERSION 1u

struct server;
/* Let the tenant layer reach connections (share revocation notices). */
void rpc_install_hooks(struct server *s);

void rpc_handle_datagram(struct conn *c, const uint8_t *buf, size_t len,
			 int *fds, size_t nfds);

struct Ioasd__Request;
struct Ioasd__Response;
/* One audit record for a decision on connection c (req/resp may be NULL
 * for refusals at the transport level). audit_emit()'s result:
 * AUDIT_SUPPRESSED when the rate limit held it back (log nothing either). */
int rpc_audit(struct conn *c, const char *op, const struct Ioasd__Request *req,
	      const struct Ioasd__Response *resp, int errnum, const char *reason);

/* Queue an error reply (id may be 0 when the request could not be read). */
void rpc_send_error(struct conn *c, uint64_t id, int errnum, const char *msg);

/* Send one error Response (id 0) directly on a socket that has no connection
 * state (a refused connection). Best effort: the socket is closed next. */
void rpc_send_refusal(int fd, int errnum, const char *msg);
