/* SPDX-License-Identifier: MIT */
/*
 * Batch: many operations in one request.
 *
 * A batch is one loop over rows of the operation table (rpc.c): each
 * operation is made into the Request it stands for and run by rpc_run_op(),
 * exactly as if it had come alone -- the same handler, policy and quota
 * checks, audit record (with the batch's id and the operation's index) --
 * on the fds of the batch that are its own (in order). The rules:
 *
 *   1. The whole batch is checked before anything runs: a mode it knows, at
 *      least one and at most IOASD_MAX_BATCH operations (E2BIG), each one
 *      known (EOPNOTSUPP), batched (EINVAL: Hello, reads, a nested batch)
 *      and, in an all-or-nothing batch, one that can be undone exactly
 *      (EINVAL, saying why not), and the fds the operations take (EBADMSG).
 *      Such a refusal runs nothing and is audited once, as "Batch".
 *   2. Operations run in order; the first failure stops the batch: the
 *      operations after it are not run (ECANCELED).
 *   3. All or nothing (BATCH_MODE_ATOMIC): what ran before the failure is
 *      undone in reverse order, each by the request its row names (an
 *      unmap, a destroy, an unregister, a revoke), run and audited like any
 *      other (rollback: true), and reported ECANCELED and rolled_back. An
 *      undoing that fails leaves that operation done (error 0, its result,
 *      and a message saying why it stayed), and the batch's message says so.
 *   4. The reply carries one result per operation; its error is the first
 *      failure's (0 when none failed), its message names the operation.
 *   5. The environment's commit runs once, after the batch (rpc.c).
 */
#include "rpc/rpc-internal.h"

/* One operation of the batch: its own request, reply and context. */
struct batch_slot {
	Ioasd__Request req;
	Ioasd__Response resp;
	struct rpc_ctx x;
	struct rpc_batch_pos pos;
	const struct rpc_op *op;
	enum { SLOT_NOT_RUN, SLOT_DONE, SLOT_FAILED, SLOT_UNDONE, SLOT_KEPT } state;
	char *kept_why;            /* SLOT_KEPT: why the undoing failed */
};

/* One allocation: the slots, then the results and pointers to them. */
struct rpc_batch {
	struct rpc_block *block;   /* where it came from (rpc_block_put) */
	size_t n;
	Ioasd__BatchResult *results;
	Ioasd__BatchResult **result_ptrs;
	struct batch_slot slots[];
};

static struct rpc_batch *batch_new(struct rpc_session *c, size_t n)
{
	struct rpc_block *block = c->env->cache ? &c->env->cache->batch : NULL;
	size_t slots = sizeof(struct rpc_batch) + n * sizeof(struct batch_slot);
	struct rpc_batch *b;

	slots = (slots + _Alignof(Ioasd__BatchResult) - 1) &
		~(_Alignof(Ioasd__BatchResult) - 1);
	/* Not zeroed: each slot is made ready below, each result is filled
	 * in whole by reply(). */
	b = rpc_block_get(block, slots + n * (sizeof(Ioasd__BatchResult) +
					     sizeof(Ioasd__BatchResult *)));
	if (!b)
		return NULL;
	b->block = block;
	for (size_t i = 0; i < n; i++) {
		rpc_ctx_init(&b->slots[i].x);
		b->slots[i].state = SLOT_NOT_RUN;
		b->slots[i].kept_why = NULL;
	}
	b->n = n;
	b->results = (Ioasd__BatchResult *)((char *)b + slots);
	b->result_ptrs = (Ioasd__BatchResult **)(b->results + n);
	return b;
}

struct rpc_batch *rpc_batch_free(struct rpc_batch *b)
{
	if (!b)
		return NULL;
	for (size_t i = 0; i < b->n; i++) {
		rpc_ctx_release(&b->slots[i].x);
		free(b->slots[i].kept_why);
	}
	rpc_block_put(b->block, b);
	return NULL;
}

/* ------------------------------------------------------------ undoing */

static void inverse_init(struct rpc_inverse *ret, Ioasd__Request__OpCase op)
{
	ioasd__request__init(&ret->req);
	ret->req.op_case = op;
}

RPC_UNDO(undo_ioas_alloc)
{
	inverse_init(ret, IOASD__REQUEST__OP_IOAS_DESTROY);
	ioasd__ioas_destroy__init(&ret->m.ioas_destroy);
	ret->m.ioas_destroy.ioas = reply->ioas_alloc->ioas;
	ret->req.ioas_destroy = &ret->m.ioas_destroy;
}

RPC_UNDO(undo_register_memory)
{
	inverse_init(ret, IOASD__REQUEST__OP_UNREGISTER_MEMORY);
	ioasd__unregister_memory__init(&ret->m.unregister_memory);
	ret->m.unregister_memory.memory = reply->register_memory->memory;
	ret->req.unregister_memory = &ret->m.unregister_memory;
}

static void unmap_of(struct rpc_inverse *ret, uint32_t ioas, uint64_t iova,
		     uint64_t length)
{
	inverse_init(ret, IOASD__REQUEST__OP_UNMAP);
	ioasd__unmap__init(&ret->m.unmap);
	ret->m.unmap.ioas = ioas;
	ret->m.unmap.iova = iova;
	ret->m.unmap.length = length;
	ret->req.unmap = &ret->m.unmap;
}

/* A map made one mapping at the IOVA its reply gave: exactly that goes. */
RPC_UNDO(undo_map)
{
	unmap_of(ret, done->map->ioas, reply->map->iova, done->map->length);
}

/* A copy went to a range of the destination nothing else held (the kernel
 * refuses an overlap): unmapping that range takes exactly its pieces. */
RPC_UNDO(undo_copy)
{
	unmap_of(ret, done->copy->dst_ioas, reply->copy->dst_iova,
		 done->copy->length);
}

/* No one can have imported the share in the meantime (a batch runs
 * whole): the revoke tells nobody. */
RPC_UNDO(undo_share_export)
{
	inverse_init(ret, IOASD__REQUEST__OP_SHARE_REVOKE);
	ioasd__share_revoke__init(&ret->m.share_revoke);
	ret->m.share_revoke.share = reply->share_export->share;
	ret->req.share_revoke = &ret->m.share_revoke;
}

/* Unmapping the whole of an import is how its importer lets it go. */
RPC_UNDO(undo_share_import)
{
	unmap_of(ret, done->share_import->ioas, reply->share_import->iova,
		 reply->share_import->length);
}

/* Undo slot s: run its inverse as an operation of the batch (rollback). */
static int undo_slot(struct batch_slot *s)
{
	Ioasd__Response resp = IOASD__RESPONSE__INIT;
	struct rpc_batch_pos pos = s->pos;
	struct rpc_inverse inv;
	struct rpc_ctx x;
	const struct rpc_op *op;
	int r;

	rpc_ctx_init(&x);
	x.c = s->x.c;
	x.resp = &resp;
	x.batch = &pos;

	s->op->batch.undo(&s->req, &s->resp, &inv);
	op = rpc_lookup(inv.req.op_case);
	pos.rollback = true;
	x.req = &inv.req;
	r = rpc_run_op(&x, op);
	if (r < 0) {
		s->state = SLOT_KEPT;
		if (asprintf(&s->kept_why, "done, and could not be undone: %s (%s)",
			     resp.message ? resp.message : "failed",
			     op ? op->name : "?") < 0)
			s->kept_why = NULL;
	} else {
		s->state = SLOT_UNDONE;
	}
	rpc_ctx_release(&x);
	return r;
}

/* ------------------------------------------------------------ checking */

/*
 * Where a field of number id sits in two message types that share their
 * numbering (BatchOp and Request, Response and BatchResult): 0 and 0 when
 * either has no such field or the two disagree on its message. Worked out
 * once per number (the descriptors do not change), below 128 (every
 * operation's number).
 */
struct same_field {
	uint16_t a_offset, b_offset;
	bool known;
};

static bool same_field(const ProtobufCMessageDescriptor *a,
		       const ProtobufCMessageDescriptor *b, struct same_field cache[128],
		       unsigned id, size_t *ret_a, size_t *ret_b)
{
	struct same_field tmp = { 0 }, *c = id < 128 ? &cache[id] : &tmp;

	if (!c->known) {
		const ProtobufCFieldDescriptor *af = fastpb_field(a, id);
		const ProtobufCFieldDescriptor *bf = fastpb_field(b, id);

		c->known = true;
		if (af && bf && af->descriptor == bf->descriptor && af->offset <= UINT16_MAX &&
		    bf->offset <= UINT16_MAX) {
			c->a_offset = (uint16_t)af->offset;
			c->b_offset = (uint16_t)bf->offset;
		}
	}
	*ret_a = c->a_offset;
	*ret_b = c->b_offset;
	return c->a_offset != 0;
}

/*
 * The Request that operation bop stands for: the field of the same number
 * (BatchOp's are the Request's), pointing at the same message. -EINVAL or
 * -EOPNOTSUPP with e when there is none.
 */
static int op_request(const Ioasd__BatchOp *bop, size_t i, Ioasd__Request *req,
		      struct err *e)
{
	static struct same_field cache[128];
	const ProtobufCMessage *base = &bop->base;
	size_t boff, roff;

	for (unsigned k = 0; k < base->n_unknown_fields; k++)
		if (base->unknown_fields[k].tag == IOASD__REQUEST__OP_BATCH)
			return err_set(e, EINVAL, "batch op %zu is a batch: batches do not nest", i);
	if (bop->op_case == IOASD__BATCH_OP__OP__NOT_SET) {
		if (base->n_unknown_fields)
			return err_set(e, EOPNOTSUPP,
				       "batch op %zu: unknown operation (field %u); this "
				       "daemon speaks protocol %u",
				       i, base->unknown_fields[0].tag, IOASD_PROTOCOL_VERSION);
		return err_set(e, EINVAL, "batch op %zu names no operation", i);
	}
	if (!same_field(&ioasd__batch_op__descriptor, &ioasd__request__descriptor, cache,
			(unsigned)bop->op_case, &boff, &roff))
		return err_set(e, EOPNOTSUPP, "batch op %zu: unknown operation (field %d)",
			       i, (int)bop->op_case);
	ioasd__request__init(req);
	req->op_case = (Ioasd__Request__OpCase)bop->op_case;
	memcpy((char *)req + roff, (const char *)bop + boff, sizeof(void *));
	return 0;
}

/* Rule 1: every operation known, batched, undone when it must be, and the
 * fds counted; fills each slot's request and row. */
static int check_batch(struct rpc_ctx *bx, struct rpc_batch *b, bool atomic)
{
	const Ioasd__Batch *m = bx->req->batch;
	size_t fds = 0;
	int r;

	for (size_t i = 0; i < b->n; i++) {
		struct batch_slot *s = &b->slots[i];

		r = op_request(m->ops[i], i, &s->req, &bx->err);
		if (r < 0)
			return r;
		s->op = rpc_lookup(s->req.op_case);
		if (!s->op)
			return err_set(&bx->err, EOPNOTSUPP,
				       "batch op %zu: unknown operation (field %d); this "
				       "daemon speaks protocol %u",
				       i, (int)s->req.op_case, IOASD_PROTOCOL_VERSION);
		if (!s->op->batch.batched)
			return err_set(&bx->err, EINVAL, "batch op %zu: %s is not batched: %s",
				       i, s->op->name, s->op->batch.why_not);
		if (atomic && !s->op->batch.undo)
			return err_set(&bx->err, EINVAL,
				       "batch op %zu: %s cannot be in an all-or-nothing batch: "
				       "%s; send it in a batch that stops at its first failure",
				       i, s->op->name, s->op->batch.why_not);
		fds += s->op->nfds;
	}
	if (fds != bx->nfds)
		return err_set(&bx->err, EBADMSG,
			       "the batch's operations take %zu fd(s) (one for each "
			       "RegisterMemory and AttachDevice, in order), %zu attached",
			       fds, bx->nfds);
	return 0;
}

/* A refusal of the batch as a whole: one record, "Batch". */
static int refuse(struct rpc_ctx *bx, int r)
{
	struct audit_record a = {
		.kind = AUDIT_DECISION,
		.op = "Batch",
		.errnum = bx->err.errnum ? bx->err.errnum : -r,
		.reason = bx->err.errnum ? bx->err.msg : "failed",
	};

	rpc_audit_subject(bx->c, bx->c->tenant, &a);
	(void)audit_emit(bx->c->env->audit, &a);
	return r;
}

/* ------------------------------------------------------------ the reply */

/* Result i of the reply, from slot s. The body is the operation's own
 * reply's (the same field number in BatchResult), when there is one. */
static void fill_result(Ioasd__BatchResult *o, struct batch_slot *s)
{
	static struct same_field cache[128];
	size_t roff, ooff;

	ioasd__batch_result__init(o);
	switch (s->state) {
	case SLOT_NOT_RUN:
		o->error = ECANCELED;
		o->message = (char *)"not run: an earlier operation failed";
		return;
	case SLOT_UNDONE:
		o->error = ECANCELED;
		o->message = (char *)"undone: a later operation failed";
		o->has_rolled_back = o->rolled_back = true;
		return;
	case SLOT_FAILED:
		o->error = s->resp.error;
		o->message = s->resp.message;
		return;
	case SLOT_KEPT:
		o->message = s->kept_why ? s->kept_why :
					   (char *)"done, and could not be undone";
		o->has_rolled_back = true;
		break;
	case SLOT_DONE:
		break;
	}
	if (s->resp.result_case == IOASD__RESPONSE__RESULT__NOT_SET)
		return;
	if (!same_field(&ioasd__response__descriptor, &ioasd__batch_result__descriptor, cache,
			(unsigned)s->resp.result_case, &roff, &ooff))
		return;
	o->result_case = (Ioasd__BatchResult__ResultCase)s->resp.result_case;
	memcpy((char *)o + ooff, (const char *)&s->resp + roff, sizeof(void *));
}

/* Rule 4: one result per operation, in a reply that fits a datagram: the
 * messages of what was not run or was undone go first if it would not. */
static int reply(struct rpc_ctx *bx, struct rpc_batch *b, size_t failed,
		 size_t kept, size_t undone)
{
	Ioasd__BatchReply *r = &bx->body.batch;

	for (size_t i = 0; i < b->n; i++) {
		fill_result(&b->results[i], &b->slots[i]);
		b->result_ptrs[i] = &b->results[i];
	}
	ioasd__batch_reply__init(r);
	r->n_results = b->n;
	r->results = b->result_ptrs;
	bx->resp->result_case = IOASD__RESPONSE__RESULT_BATCH;
	bx->resp->batch = r;
	/* Sized only when there are such messages (a batch that failed
	 * early, or was undone): results alone that do not fit a datagram
	 * are refused (E2BIG) when the reply is packed. */
	if ((failed + 1 < b->n || undone > 0) &&
	    ioasd__response__get_packed_size(bx->resp) > IOASD_MAX_DATAGRAM)
		for (size_t i = 0; i < b->n; i++)
			if (b->slots[i].state == SLOT_NOT_RUN ||
			    b->slots[i].state == SLOT_UNDONE)
				b->results[i].message = NULL;
	if (failed == b->n)
		return 0;
	bx->keep_body = true;
	if (kept)
		return err_set(&bx->err, b->slots[failed].resp.error,
			       "batch op %zu (%s) failed: %s; %zu earlier operation(s) "
			       "undone, %zu could NOT be undone and stay done (see their results)",
			       failed, b->slots[failed].op->name,
			       b->slots[failed].resp.message, undone, kept);
	if (undone)
		return err_set(&bx->err, b->slots[failed].resp.error,
			       "batch op %zu (%s) failed: %s; the %zu operation(s) before it "
			       "were undone",
			       failed, b->slots[failed].op->name,
			       b->slots[failed].resp.message, undone);
	return err_set(&bx->err, b->slots[failed].resp.error,
		       "batch op %zu (%s) failed: %s%s", failed,
		       b->slots[failed].op->name, b->slots[failed].resp.message,
		       failed + 1 < b->n ? "; the operations after it were not run" : "");
}

/* ------------------------------------------------------------ the batch */

int h_batch(struct rpc_ctx *bx)
{
	const Ioasd__Batch *m = bx->req->batch;
	bool atomic = m->mode == IOASD__BATCH_MODE__BATCH_MODE_ATOMIC;
	size_t failed, kept = 0, undone = 0, fd = 0;
	struct rpc_batch *b;
	int r;

	if (m->mode != IOASD__BATCH_MODE__BATCH_MODE_STOP && !atomic)
		return refuse(bx, err_set(&bx->err, EINVAL, "unknown batch mode %d",
					  (int)m->mode));
	if (m->n_ops == 0)
		return refuse(bx, err_set(&bx->err, EINVAL,
					  "an empty batch: give at least one operation"));
	if (m->n_ops > IOASD_MAX_BATCH)
		return refuse(bx, err_set(&bx->err, E2BIG,
					  "%zu operations in one batch: at most %u "
					  "(HelloReply.max_batch); split it",
					  m->n_ops, IOASD_MAX_BATCH));
	b = batch_new(bx->c, m->n_ops);
	if (!b)
		return refuse(bx, err_set(&bx->err, ENOMEM, "out of memory"));
	bx->batch_mem = b;
	r = check_batch(bx, b, atomic);
	if (r < 0)
		return refuse(bx, r);

	/* Rule 2: in order, each on its own fds, until one fails. */
	for (failed = 0; failed < b->n; failed++) {
		struct batch_slot *s = &b->slots[failed];

		s->resp = (Ioasd__Response)IOASD__RESPONSE__INIT;
		s->pos = (struct rpc_batch_pos){ .id = bx->req->id,
						 .index = (uint32_t)failed };
		s->x.c = bx->c;
		s->x.req = &s->req;
		s->x.resp = &s->resp;
		s->x.fds = s->op->nfds ? bx->fds + fd : NULL;
		s->x.nfds = s->op->nfds;
		s->x.batch = &s->pos;
		fd += s->op->nfds;
		if (rpc_run_op(&s->x, s->op) < 0) {
			s->state = SLOT_FAILED;
			break;
		}
		s->state = SLOT_DONE;
	}
	/* Rule 3: all or nothing. */
	if (atomic && failed < b->n)
		for (size_t i = failed; i-- > 0;) {
			if (undo_slot(&b->slots[i]) < 0)
				kept++;
			else
				undone++;
		}
	return reply(bx, b, failed, kept, undone);
}
