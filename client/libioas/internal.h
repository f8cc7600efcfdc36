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
#include "proto/fastpb.h"
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
	uint32_t max_batch;   /* 0: a daemon without Batch */
	char *backend;
	char *backend_description;
	char *server;
	char *reclaim_token;  /* NULL: the daemon has no restart support */
	bool reclaimed;

	char last_error[256];

	/* The answer to the last request, kept until the next one (or
	 * ioas_client_free) so that an operation reads its reply in place:
	 * decoded into rx (fastpb) or allocated by protobuf-c. */
	Ioasd__Response *reply;
	int reply_fd;               /* the one fd c->reply carried, or -1 */
	struct libioas_rx *rx;      /* allocated with the buffers below */
	/* Where fastpb decodes a reply too large for rx, and every batch's
	 * (which its batch then takes over): allocated when one comes. */
	struct libioas_big *big;
	struct fastpb_memo *codec;  /* what fastpb worked out (likewise) */

	/* Received notifications, oldest first (a ring of
	 * IOAS_NOTIFY_QUEUE, allocated with the first one). */
	struct ioas_notification *notes;
	unsigned int note_head, note_count;
	uint64_t notes_dropped;

	/* The asynchronous API (async.c): requests in flight and
	 * completions not handed out yet, oldest first, each a ring of
	 * IOAS_MAX_IN_FLIGHT allocated with the first submit; the two
	 * together never hold more than that. */
	struct libioas_pending *pending;
	unsigned int pending_head, pending_count;
	struct ioas_completion *done;
	unsigned int done_head, done_count;

	/* The datagram going out and the one coming in (IOASD_MAX_DATAGRAM
	 * bytes each, allocated with the first request, never zeroed): the
	 * client itself stays small. Two, because a send that finds the
	 * socket full reads what arrives meanwhile. */
	uint8_t *out, *in;
};

/* Where fastpb decodes a reply in place. */
struct libioas_rx {
	Ioasd__Response resp;
	uint64_t scratch[512];  /* its result and strings */
};

/* A reply decoded in a block of its own: size bytes of scratch. */
struct libioas_big {
	Ioasd__Response resp;
	size_t size;
	uint64_t scratch[];
};

/* Hand the reply c->big holds over to the caller, who frees the block
 * with free(): the client makes a new one for the next. NULL when resp is
 * not c->big's. */
struct libioas_big *libioas_take_big(struct ioas_client *c, const Ioasd__Response *resp);

/* A request of the asynchronous API, sent and not answered yet. */
struct libioas_pending {
	uint64_t id;
	void *userdata;
	uint32_t op;               /* IOAS_OP_* */
	struct ioas_batch *batch;  /* IOAS_OP_BATCH: where its results go */
};

/* c->out, c->in, c->rx and c->codec, allocated if need be; false
 * (last_error set) when out of memory. */
bool libioas_buffers(struct ioas_client *c);

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

/* Give req the next id and pack it into c->out: 0 and *ret_len, or
 * -ENOTCONN (broken), -EMSGSIZE (over the daemon's limit), -ENOMEM. */
int libioas_pack(struct ioas_client *c, Ioasd__Request *req, size_t *ret_len);

/* Send the len bytes packed in c->out with fds attached. While the socket
 * is full, read what arrives (the daemon stops reading while its replies
 * to us pile up). 0, or -errno and the client broken. */
int libioas_send(struct ioas_client *c, size_t len, const int *fds, size_t nfds);

/*
 * Receive one datagram (flags: 0 or MSG_DONTWAIT). A notification is
 * queued and the reply to an asynchronous request completes it (*ret is
 * then NULL); any other reply comes back in *ret, the caller's to free.
 * -EAGAIN when nothing is there (MSG_DONTWAIT); any other -errno leaves
 * the client broken (-ETIMEDOUT past its timeout).
 */
int libioas_recv(struct ioas_client *c, int flags, Ioasd__Response **ret);

/* Read all that has arrived, without blocking: notifications queued,
 * requests in flight completed; a reply to no request breaks the client. */
void libioas_drain(struct ioas_client *c);

/* async.c: resp answers a request in flight: complete it (takes resp) and
 * return 1; 0 when it answers none; -errno when it is malformed (broken). */
int libioas_complete(struct ioas_client *c, Ioasd__Response *resp);
/* async.c: every request in flight fails with neg_errno (the connection
 * broke). */
void libioas_fail_pending(struct ioas_client *c, int neg_errno);
/* async.c: send req (its message set, fds attached) and remember it as
 * op with userdata (and batch). 0 and *ret_id (may be NULL) or -errno. */
int libioas_submit(struct ioas_client *c, Ioasd__Request *req, const int *fds,
		   size_t nfds, uint32_t op, void *userdata, struct ioas_batch *batch,
		   uint64_t *ret_id);
/* batch.c: the reply to a batch sent asynchronously (takes resp). */
int libioas_batch_reply(struct ioas_client *c, struct ioas_batch *b,
			Ioasd__Response *resp);

/* What a reply body gives back, whatever the operation: the handle it
 * made, the IOVA, the bytes unmapped, a share's token (async.c). */
struct libioas_values {
	uint32_t handle;
	uint64_t iova, unmapped;
	const char *token;
};
void libioas_reply_values(const ProtobufCMessage *body, struct libioas_values *ret);

/*
 * The messages of the operations that have an asynchronous or a batched
 * form besides the synchronous one, each made in one place from the
 * arguments of the public functions (iova is used with
 * IOAS_MAP_FIXED_IOVA only).
 */
void libioas_msg_ioas_destroy(Ioasd__IoasDestroy *m, uint32_t ioas);
void libioas_msg_register(Ioasd__RegisterMemory *m, uint64_t offset, uint64_t length);
void libioas_msg_unregister(Ioasd__UnregisterMemory *m, uint32_t memory);
void libioas_msg_map(Ioasd__Map *m, uint32_t ioas, uint32_t memory, uint64_t offset,
		     uint64_t length, uint32_t flags, uint64_t iova);
void libioas_msg_unmap(Ioasd__Unmap *m, uint32_t ioas, uint64_t iova, uint64_t length);
void libioas_msg_copy(Ioasd__Copy *m, uint32_t dst_ioas, uint32_t src_ioas,
		      uint32_t flags, uint64_t src_iova, uint64_t length,
		      uint64_t dst_iova);
void libioas_msg_share_export(Ioasd__ShareExport *m, uint32_t ioas, uint64_t iova,
			      uint64_t length, bool writeable);
void libioas_msg_share_revoke(Ioasd__ShareRevoke *m, uint32_t share);

/*
 * Send req (with fds attached) and wait for its Response,
 * which becomes c->reply (the previous one is freed first).
 * Returns:
 *   0        success; c->reply->result_case == expect (unless expect is
 *            RESULT__NOT_SET, meaning "no result expected")
 *   -errno   refused by the daemon; c->reply is still set (EMSGSIZE
 *            replies carry data), last_error is the daemon's message
 *   -errno   local/transport/protocol failure; c->reply is NULL
 */
int libioas_transact(struct ioas_client *c, Ioasd__Request *req, const int *fds,
		     size_t nfds, Ioasd__Response__ResultCase expect);
/* The fd the last reply carried (VeventqAlloc's), now the caller's; -1. */
int libioas_take_reply_fd(struct ioas_client *c);

/* Let go of a Response the transport decoded (NULL-safe): freed when
 * protobuf-c allocated it, nothing when it was decoded in place. */
void libioas_response_free(struct ioas_client *c, Ioasd__Response *resp);

/*
 * request_<member>(c, fd, msg[, &reply]) for each row of requests.h: msg
 * as Request.<member>, through libioas_transact. *reply is the Response's
 * <member> when it has one (always after a success of a REPLY row, and on
 * a refusal that carries data), else NULL; it lives in c->reply.
 *
 * submit_<member>(c, fd, msg, userdata, &id): the same sent now and
 * completed later (libioas_submit; the completion's op is the Request's
 * field number, which the IOAS_OP_* constants are).
 */
#define LIBIOAS_SUBMIT_FN(member, MEMBER, Type)                                    \
	static inline int submit_##member(struct ioas_client *c, int fd,          \
					  Ioasd__##Type *msg, void *userdata,     \
					  uint64_t *ret_id)                       \
	{                                                                         \
		Ioasd__Request req = IOASD__REQUEST__INIT;                        \
										  \
		req.op_case = IOASD__REQUEST__OP_##MEMBER;                        \
		req.member = msg;                                                 \
		return libioas_submit(c, &req, fd >= 0 ? &fd : NULL, fd >= 0,     \
				      IOASD__REQUEST__OP_##MEMBER, userdata, NULL, \
				      ret_id);                                    \
	}
#define LIBIOAS_REQUEST_FN(member, MEMBER, Type, Reply, expect)                    \
	typedef Ioasd__##Type libioas_message_##member;                           \
	LIBIOAS_SUBMIT_FN(member, MEMBER, Type)                                   \
	static inline int request_##member(struct ioas_client *c, int fd,         \
					   Ioasd__##Type *msg, Ioasd__##Reply **ret) \
	{                                                                         \
		Ioasd__Request req = IOASD__REQUEST__INIT;                        \
		int r;                                                            \
										  \
		req.op_case = IOASD__REQUEST__OP_##MEMBER;                        \
		req.member = msg;                                                 \
		r = libioas_transact(c, &req, fd >= 0 ? &fd : NULL, fd >= 0,      \
				     expect);                                     \
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
	LIBIOAS_SUBMIT_FN(member, MEMBER, Type)                                   \
	static inline int request_##member(struct ioas_client *c, int fd,         \
					   Ioasd__##Type *msg)                    \
	{                                                                         \
		Ioasd__Request req = IOASD__REQUEST__INIT;                        \
										  \
		req.op_case = IOASD__REQUEST__OP_##MEMBER;                        \
		req.member = msg;                                                 \
		return libioas_transact(c, &req, fd >= 0 ? &fd : NULL, fd >= 0,   \
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

void libioas_device_info_copy(struct ioas_device_info *o, const Ioasd__DeviceInfo *d);

/* Keep a notification (Response id 0 without an error). Unknown kinds are
 * ignored: a newer daemon may define more. */
void libioas_queue_notification(struct ioas_client *c, const Ioasd__Response *resp);
