/* SPDX-License-Identifier: MIT */
/*
 * Inside libioas: the client object and the helpers every file of the
 * library shares. Not installed. The library exports only ioas_*
 * (Makefile.am, -export-symbols-regex), so everything here is named
 * libioas_*: hidden from the shared library, and no clash with a program
 * that links the static archive.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ioas.h"
#include "ioasd.pb-c.h"
#include "proto/wire.h"
#include "requests.h"

/* errno values above this are not errno values: the reply is malformed. */
#define IOAS_ERRNO_MAX 4095

struct ioas_client {
	int fd;
	uint64_t next_id;
	bool broken;
	unsigned int timeout_ms;

	/* From the HelloReply. */
	uint32_t version;
	uint64_t caps;
	uint32_t max_datagram;
	uint32_t max_fds;
	char *backend;
	char *backend_description;
	char *server;
	char *reclaim_token;  /* NULL: the daemon has no restart support */
	bool reclaimed;

	char last_error[256];

	/* The answer to the last request, kept until the next one (or
	 * ioas_client_free) so that an operation reads its reply in place. */
	Ioasd__Response *reply;

	/* Received notifications, oldest first (a ring of
	 * IOAS_NOTIFY_QUEUE, allocated with the first one). */
	struct ioas_notification *notes;
	unsigned int note_head, note_count;
	uint64_t notes_dropped;

	/* One datagram on its way out or in (IOASD_MAX_DATAGRAM bytes,
	 * allocated with the first request, never zeroed): the client
	 * itself stays small (libioas_buf()). */
	uint8_t *buf;
};

/* c->buf, allocated if need be; NULL (last_error set) when out of memory. */
uint8_t *libioas_buf(struct ioas_client *c);

void libioas_copy_str(char *dst, size_t size, const char *src);

/* Set last_error and return neg_errno. */
__attribute__((format(printf, 3, 4))) int libioas_fail(struct ioas_client *c,
						       int neg_errno,
						       const char *fmt, ...);

/* A transport or protocol failure: the connection cannot be trusted any more. */
__attribute__((format(printf, 3, 4))) int libioas_broken(struct ioas_client *c,
							 int neg_errno,
							 const char *fmt, ...);

void libioas_close_fds(int *fds, size_t n);

/*
 * Send req (with send_fd attached when >= 0) and wait for its Response,
 * which becomes c->reply (the previous one is freed first).
 * Returns:
 *   0        success; c->reply->result_case == expect (unless expect is
 *            RESULT__NOT_SET, meaning "no result expected")
 *   -errno   refused by the daemon; c->reply is still set (EMSGSIZE
 *            replies carry data), last_error is the daemon's message
 *   -errno   local/transport/protocol failure; c->reply is NULL
 */
int libioas_transact(struct ioas_client *c, Ioasd__Request *req, int send_fd,
		     Ioasd__Response__ResultCase expect);

/*
 * request_<member>(c, fd, msg[, &reply]) for each row of requests.h: msg
 * as Request.<member>, through libioas_transact. *reply is the Response's
 * <member> when it has one (always after a success of a REPLY row, and on
 * a refusal that carries data), else NULL; it lives in c->reply.
 */
#define LIBIOAS_REQUEST_FN(member, MEMBER, Type, Reply, expect)                    \
	typedef Ioasd__##Type libioas_message_##member;                           \
	static inline int request_##member(struct ioas_client *c, int fd,         \
					   Ioasd__##Type *msg, Ioasd__##Reply **ret) \
	{                                                                         \
		Ioasd__Request req = IOASD__REQUEST__INIT;                        \
		int r;                                                            \
										  \
		req.op_case = IOASD__REQUEST__OP_##MEMBER;                        \
		req.member = msg;                                                 \
		r = libioas_transact(c, &req, fd, expect);                        \
		*ret = c->reply && c->reply->result_case ==                       \
					   IOASD__RESPONSE__RESULT_##MEMBER ?     \
			       c->reply->member : NULL;                           \
		return r;                                                         \
	}
#define LIBIOAS_REPLY(member, MEMBER, Type, Reply) \
	LIBIOAS_REQUEST_FN(member, MEMBER, Type, Reply, IOASD__RESPONSE__RESULT_##MEMBER)
#define LIBIOAS_MAY_REPLY(member, MEMBER, Type, Reply) \
	LIBIOAS_REQUEST_FN(member, MEMBER, Type, Reply, IOASD__RESPONSE__RESULT__NOT_SET)
#define LIBIOAS_NO_REPLY(member, MEMBER, Type)                                     \
	typedef Ioasd__##Type libioas_message_##member;                           \
	static inline int request_##member(struct ioas_client *c, int fd,         \
					   Ioasd__##Type *msg)                    \
	{                                                                         \
		Ioasd__Request req = IOASD__REQUEST__INIT;                        \
										  \
		req.op_case = IOASD__REQUEST__OP_##MEMBER;                        \
		req.member = msg;                                                 \
		return libioas_transact(c, &req, fd,                              \
					IOASD__RESPONSE__RESULT__NOT_SET);        \
	}
LIBIOAS_REQUESTS(LIBIOAS_REPLY, LIBIOAS_MAY_REPLY, LIBIOAS_NO_REPLY)

/*
 * One request of the table, its message made of the fields given:
 *   r = REQUEST(c, map, -1, &reply, .ioas = ioas, .length = length);
 *   r = REQUEST_NO_REPLY(c, ioas_destroy, -1, .ioas = ioas);
 * fd is sent with it when >= 0.
 */
#define REQUEST(c, member, fd, ret, ...)                                           \
	request_##member((c), (fd),                                               \
			 &(libioas_message_##member){ LIBIOAS_MESSAGE_BASE(member), \
						      __VA_ARGS__ },              \
			 (ret))
#define REQUEST_NO_REPLY(c, member, fd, ...)                                       \
	request_##member((c), (fd),                                               \
			 &(libioas_message_##member){ LIBIOAS_MESSAGE_BASE(member), \
						      __VA_ARGS__ })

/* Keep a notification (Response id 0 without an error). Unknown kinds are
 * ignored: a newer daemon may define more. */
void libioas_queue_notification(struct ioas_client *c, const Ioasd__Response *resp);
