/* SPDX-License-Identifier: MIT */
/*
 * libioas: batches. A struct ioas_batch collects operations (each message
 * made by the same libioas_msg_* as its synchronous form), is sent as one
 * Batch request, synchronously (ioas_batch_run) or not (ioas_batch_submit),
 * and keeps the reply, from which each operation's result is read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* One operation: its BatchOp and the message it points at (set when the
 * batch is packed: the array moves as it grows). */
struct libioas_batch_op {
	Ioasd__BatchOp op;
	union {
		Ioasd__IoasAlloc ioas_alloc;
		Ioasd__IoasDestroy ioas_destroy;
		Ioasd__RegisterMemory register_memory;
		Ioasd__UnregisterMemory unregister_memory;
		Ioasd__Map map;
		Ioasd__Unmap unmap;
		Ioasd__Copy copy;
		Ioasd__ShareExport share_export;
		Ioasd__ShareRevoke share_revoke;
	} m;
};

struct ioas_batch {
	uint32_t mode;
	size_t n, cap;
	struct libioas_batch_op *ops;
	Ioasd__BatchOp **ptrs;
	int fds[IOASD_MAX_FDS];     /* the caller's, sent with the batch */
	size_t nfds;
	Ioasd__Response *reply;     /* the last run's, whole */
	struct libioas_big *block;  /* holding reply, or NULL: protobuf-c's */
	bool in_flight;             /* submitted, not completed */
};

IOAS_EXPORT int ioas_batch_new(uint32_t mode, struct ioas_batch **ret)
{
	struct ioas_batch *b;

	if (!ret || (mode != IOAS_BATCH_STOP && mode != IOAS_BATCH_ATOMIC))
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->mode = mode;
	*ret = b;
	return 0;
}

static void drop_reply(struct ioas_batch *b)
{
	if (b->block)
		free(b->block);
	else if (b->reply)
		ioasd__response__free_unpacked(b->reply, NULL);
	b->reply = NULL;
	b->block = NULL;
}

IOAS_EXPORT int ioas_batch_clear(struct ioas_batch *b)
{
	if (b->in_flight)
		return -EBUSY;
	drop_reply(b);
	b->n = 0;
	b->nfds = 0;
	return 0;
}

IOAS_EXPORT struct ioas_batch *ioas_batch_free(struct ioas_batch *b)
{
	if (!b)
		return NULL;
	drop_reply(b);
	free(b->ops);
	free(b->ptrs);
	free(b);
	return NULL;
}

IOAS_EXPORT unsigned int ioas_batch_size(const struct ioas_batch *b)
{
	return (unsigned int)b->n;
}

/* Room for one more operation of kind op: its slot, or NULL and *r. */
static struct libioas_batch_op *add(struct ioas_batch *b, Ioasd__BatchOp__OpCase op,
				    int *r)
{
	struct libioas_batch_op *e;

	*r = (int)b->n;
	if (b->in_flight)
		*r = -EBUSY;
	else if (b->n >= IOASD_MAX_BATCH)
		*r = -E2BIG;
	if (*r < 0)
		return NULL;
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 16;
		struct libioas_batch_op *ops = realloc(b->ops, cap * sizeof(*ops));
		Ioasd__BatchOp **ptrs;

		if (ops)
			b->ops = ops;
		ptrs = ops ? realloc(b->ptrs, cap * sizeof(*ptrs)) : NULL;
		if (!ptrs) {
			*r = -ENOMEM;
			return NULL;
		}
		b->ptrs = ptrs;
		b->cap = cap;
	}
	/* The results of a run before belong to the batch as it was. */
	drop_reply(b);
	e = &b->ops[b->n++];
	ioasd__batch_op__init(&e->op);
	e->op.op_case = op;
	return e;
}

IOAS_EXPORT int ioas_batch_alloc(struct ioas_batch *b)
{
	struct libioas_batch_op *e = NULL;
	int r;

	e = add(b, IOASD__BATCH_OP__OP_IOAS_ALLOC, &r);
	if (e)
		e->m.ioas_alloc = (Ioasd__IoasAlloc){ LIBIOAS_MESSAGE_BASE(ioas_alloc) };
	return r;
}

IOAS_EXPORT int ioas_batch_destroy(struct ioas_batch *b, uint32_t ioas)
{
	struct libioas_batch_op *e;
	int r;

	e = add(b, IOASD__BATCH_OP__OP_IOAS_DESTROY, &r);
	if (e)
		libioas_msg_ioas_destroy(&e->m.ioas_destroy, ioas);
	return r;
}

IOAS_EXPORT int ioas_batch_memory_register(struct ioas_batch *b, int fd,
					   uint64_t offset, uint64_t length)
{
	struct libioas_batch_op *e;
	int r;

	if (fd < 0)
		return -EBADF;
	if (b->nfds == IOASD_MAX_FDS)
		return b->in_flight ? -EBUSY : -E2BIG;
	e = add(b, IOASD__BATCH_OP__OP_REGISTER_MEMORY, &r);
	if (e) {
		libioas_msg_register(&e->m.register_memory, offset, length);
		b->fds[b->nfds++] = fd;
	}
	return r;
}

IOAS_EXPORT int ioas_batch_memory_unregister(struct ioas_batch *b, uint32_t memory)
{
	struct libioas_batch_op *e;
	int r;

	e = add(b, IOASD__BATCH_OP__OP_UNREGISTER_MEMORY, &r);
	if (e)
		libioas_msg_unregister(&e->m.unregister_memory, memory);
	return r;
}

IOAS_EXPORT int ioas_batch_map(struct ioas_batch *b, uint32_t ioas, uint32_t memory,
			       uint64_t offset, uint64_t length, uint32_t flags,
			       uint64_t iova)
{
	struct libioas_batch_op *e;
	int r;

	e = add(b, IOASD__BATCH_OP__OP_MAP, &r);
	if (e)
		libioas_msg_map(&e->m.map, ioas, memory, offset, length, flags, iova);
	return r;
}

IOAS_EXPORT int ioas_batch_unmap(struct ioas_batch *b, uint32_t ioas, uint64_t iova,
				 uint64_t length)
{
	struct libioas_batch_op *e;
	int r;

	e = add(b, IOASD__BATCH_OP__OP_UNMAP, &r);
	if (e)
		libioas_msg_unmap(&e->m.unmap, ioas, iova, length);
	return r;
}

IOAS_EXPORT int ioas_batch_copy(struct ioas_batch *b, uint32_t dst_ioas,
				uint32_t src_ioas, uint32_t flags, uint64_t src_iova,
				uint64_t length, uint64_t dst_iova)
{
	struct libioas_batch_op *e;
	int r;

	e = add(b, IOASD__BATCH_OP__OP_COPY, &r);
	if (e)
		libioas_msg_copy(&e->m.copy, dst_ioas, src_ioas, flags, src_iova, length,
				 dst_iova);
	return r;
}

IOAS_EXPORT int ioas_batch_share_export(struct ioas_batch *b, uint32_t ioas,
					uint64_t iova, uint64_t length, bool writeable)
{
	struct libioas_batch_op *e;
	int r;

	e = add(b, IOASD__BATCH_OP__OP_SHARE_EXPORT, &r);
	if (e)
		libioas_msg_share_export(&e->m.share_export, ioas, iova, length, writeable);
	return r;
}

IOAS_EXPORT int ioas_batch_share_revoke(struct ioas_batch *b, uint32_t share)
{
	struct libioas_batch_op *e;
	int r;

	e = add(b, IOASD__BATCH_OP__OP_SHARE_REVOKE, &r);
	if (e)
		libioas_msg_share_revoke(&e->m.share_revoke, share);
	return r;
}

/* The Request of batch b (m is its Batch), its operations pointing at
 * their messages where they are now. */
static int batch_request(struct ioas_client *c, struct ioas_batch *b,
			 Ioasd__Request *req, Ioasd__Batch *m)
{
	if (b->in_flight)
		return libioas_fail(c, -EBUSY, "the batch is in flight");
	if (b->n == 0)
		return libioas_fail(c, -EINVAL, "the batch is empty");
	for (size_t i = 0; i < b->n; i++) {
		struct libioas_batch_op *e = &b->ops[i];
		const ProtobufCFieldDescriptor *f =
			protobuf_c_message_descriptor_get_field(&ioasd__batch_op__descriptor,
								(unsigned)e->op.op_case);

		*(void **)((char *)&e->op + f->offset) = &e->m;
		b->ptrs[i] = &e->op;
	}
	*m = (Ioasd__Batch){ LIBIOAS_MESSAGE_BASE(batch),
			     .mode = (Ioasd__BatchMode)b->mode,
			     .n_ops = b->n, .ops = b->ptrs };
	ioasd__request__init(req);
	req->op_case = IOASD__REQUEST__OP_BATCH;
	req->batch = m;
	drop_reply(b);
	return 0;
}

/* A reply with results for b: one each, with errnos. */
static bool results_fit(const struct ioas_batch *b, const Ioasd__Response *resp)
{
	if (resp->result_case != IOASD__RESPONSE__RESULT_BATCH)
		return true;
	if (resp->batch->n_results != b->n)
		return false;
	for (size_t i = 0; i < b->n; i++)
		if (resp->batch->results[i]->error < 0 ||
		    resp->batch->results[i]->error > IOAS_ERRNO_MAX)
			return false;
	return true;
}

int libioas_batch_reply(struct ioas_client *c, struct ioas_batch *b,
			Ioasd__Response *resp)
{
	b->in_flight = false;
	if (!resp)
		return 0;
	if (!results_fit(b, resp)) {
		libioas_response_free(c, resp);
		return libioas_broken(c, -EPROTO, "batch reply without one result per operation");
	}
	if (resp->result_case == IOASD__RESPONSE__RESULT_BATCH) {
		/* Kept past the next receive: decoded in c->big (taken
		 * over) or by protobuf-c, never in rx (see decode). */
		b->block = libioas_take_big(c, resp);
		b->reply = resp;
	} else {
		libioas_response_free(c, resp);
	}
	return 0;
}

IOAS_EXPORT int ioas_batch_run(struct ioas_client *c, struct ioas_batch *b)
{
	Ioasd__Request req;
	Ioasd__Batch m;
	int r;

	r = batch_request(c, b, &req, &m);
	if (r < 0)
		return r;
	r = libioas_transact(c, &req, b->fds, b->nfds, IOASD__RESPONSE__RESULT_BATCH);
	if (c->reply && c->reply->result_case == IOASD__RESPONSE__RESULT_BATCH) {
		Ioasd__Response *resp = c->reply;

		c->reply = NULL;
		if (libioas_batch_reply(c, b, resp) < 0)
			return -EPROTO;
	}
	return r;
}

IOAS_EXPORT int ioas_batch_submit(struct ioas_client *c, struct ioas_batch *b,
				  void *userdata, uint64_t *ret_id)
{
	Ioasd__Request req;
	Ioasd__Batch m;
	int r;

	r = batch_request(c, b, &req, &m);
	if (r == 0)
		r = libioas_submit(c, &req, b->fds, b->nfds, IOAS_OP_BATCH, userdata, b,
				   ret_id);
	if (r == 0)
		b->in_flight = true;
	return r;
}

IOAS_EXPORT int ioas_batch_result(const struct ioas_batch *b, unsigned int index,
				  struct ioas_batch_result *ret)
{
	const ProtobufCFieldDescriptor *f;
	const Ioasd__BatchResult *r;
	struct libioas_values v;

	if (!ret || index >= b->n)
		return -EINVAL;
	if (b->in_flight || !b->reply)
		return -ENODATA;
	r = b->reply->batch->results[index];
	memset(ret, 0, sizeof(*ret));
	ret->op = (uint32_t)b->ops[index].op.op_case;
	ret->error = -r->error;
	ret->rolled_back = r->has_rolled_back && r->rolled_back;
	ret->message = r->message ? r->message : "";
	f = protobuf_c_message_descriptor_get_field(&ioasd__batch_result__descriptor,
						    (unsigned)r->result_case);
	if (r->result_case == IOASD__BATCH_RESULT__RESULT__NOT_SET || !f)
		return 0;
	libioas_reply_values(*(const ProtobufCMessage *const *)((const char *)r + f->offset),
			     &v);
	ret->handle = v.handle;
	ret->iova = v.iova;
	ret->unmapped = v.unmapped;
	libioas_copy_str(ret->token, sizeof(ret->token), v.token);
	return 0;
}
