/* SPDX-License-Identifier: MIT */
/*
 * Request decoding and dispatch.
 *
 * Order of checks for every datagram:
 *   1. decode (protobuf-c; missing required fields fail here) -> EBADMSG
 *   2. Hello first; anything else before it -> EPROTO and the peer is dropped
 *   3. known operation, else EOPNOTSUPP (the peer stays)
 *   4. fds: exactly the number the operation takes, else EBADMSG
 *   5. the handler (tenant.c), whose refusals carry errno + reason
 * Steps 3 to 5 are rpc_run_op(), which a Batch (batch.c) also runs for
 * each of its operations. Every fd that arrived and was not taken by a
 * handler is closed here.
 */
#include "rpc/rpc-internal.h"

/* Replies are packed on the stack (the transport copies what it keeps):
 * no buffer is shared between a handler's reply and a notification it
 * causes, and none outlives the call. */
/* One datagram to the client, with fd (taken) when it is not -1. */
static int queue(struct rpc_session *c, const void *buf, size_t len, int fd)
{
	if (fd < 0)
		return c->tp->send(c, buf, len);
	if (!c->tp->send_fd) {
		safe_close(fd);
		return -EOPNOTSUPP;
	}
	return c->tp->send_fd(c, buf, len, fd);
}

int rpc_check_fd_reply(struct rpc_ctx *x, const char *what)
{
	if (!x->c->tp->send_fd)
		return err_set(&x->err, EOPNOTSUPP, "this connection cannot carry %s", what);
	return 0;
}

int pack_and_queue(struct rpc_session *c, Ioasd__Response *resp)
{
	return pack_and_queue_fd(c, resp, -1);
}

int pack_and_queue_fd(struct rpc_session *c, Ioasd__Response *resp, int fd)
{
	uint8_t out_buf[IOASD_MAX_DATAGRAM];
	ssize_t fast = fastpb_pack(c->env->codec, &resp->base, out_buf, sizeof(out_buf));
	size_t len;

	/* The simple replies (most) in one pass; the rest, and one that
	 * would not fit, through protobuf-c after it has sized them. */
	if (fast >= 0)
		return queue(c, out_buf, (size_t)fast, fd);
	len = ioasd__response__get_packed_size(resp);

	if (len > sizeof(out_buf)) {
		Ioasd__Response small = IOASD__RESPONSE__INIT;

		small.id = resp->id;
		small.error = E2BIG;
		small.message = (char *)"reply would exceed the datagram limit";
		len = ioasd__response__pack(&small, out_buf);
		safe_close(fd);
		return c->tp->send(c, out_buf, len);
	}
	len = ioasd__response__pack(resp, out_buf);
	return queue(c, out_buf, len, fd);
}

void rpc_send_error(struct rpc_session *c, uint64_t id, int errnum, const char *msg)
{
	Ioasd__Response resp = IOASD__RESPONSE__INIT;

	resp.id = id;
	resp.error = errnum;
	resp.message = (char *)msg;
	(void)pack_and_queue(c, &resp);
}

void rpc_send_refusal(int fd, int errnum, const char *msg)
{
	Ioasd__Response resp = IOASD__RESPONSE__INIT;
	uint8_t out_buf[IOASD_MAX_DATAGRAM];
	size_t len;

	resp.error = errnum;
	resp.message = (char *)msg;
	if (ioasd__response__get_packed_size(&resp) > sizeof(out_buf))
		resp.message = (char *)"refused";
	len = ioasd__response__pack(&resp, out_buf);
	(void)wire_send(fd, out_buf, len, NULL, 0);
}

/* An import was taken away from s's tenant: tell s (the layer above audits
 * the notice once and calls this for each connection of the importer). */
int rpc_notify_share_revoked(struct rpc_session *s, const struct tenant_revoke_event *ev)
{
	Ioasd__Response resp = IOASD__RESPONSE__INIT;
	Ioasd__ShareRevoked n = IOASD__SHARE_REVOKED__INIT;

	n.import = ev->import;
	n.ioas = ev->ioas;
	n.iova = ev->iova;
	n.length = ev->length;
	n.reason = (char *)ev->reason;
	n.exporter = (char *)ev->exporter;
	resp.id = 0;
	resp.result_case = IOASD__RESPONSE__RESULT_SHARE_REVOKED;
	resp.share_revoked = &n;
	return pack_and_queue(s, &resp);
}

const char *rpc_peer_desc(struct rpc_session *s)
{
	if (s->tp->describe)
		return s->tp->describe(s);
	snprintf(s->cred_desc, sizeof(s->cred_desc), "uid %u gid %u pid %d",
		 (unsigned)s->cred.uid, (unsigned)s->cred.gid, (int)s->cred.pid);
	return s->cred_desc;
}

void rpc_audit_subject(const struct rpc_session *s, const struct tenant *t,
		       struct audit_record *r)
{
	const struct policy_tenant *pt = t ? tenant_policy(t) : NULL;

	r->tenant = t ? tenant_name(t) : NULL;
	r->uid = s->cred.uid;
	r->gid = s->cred.gid;
	r->pid = s->cred.pid;
	r->conn = s->serial;
	r->policy_file = pt ? pt->file : NULL;
	r->policy_line = pt ? pt->line : 0;
}

static int rpc_audit_op(struct rpc_session *c, const char *op, rpc_audit_fill fill,
			 const Ioasd__Request *req, const Ioasd__Response *resp,
			 int errnum, const char *reason, const char *device,
			 const struct rpc_batch_pos *batch);

int rpc_audit(struct rpc_session *c, const char *op, int errnum, const char *reason)
{
	return rpc_audit_op(c, op, NULL, NULL, NULL, errnum, reason, NULL, NULL);
}

static int rpc_audit_op(struct rpc_session *c, const char *op, rpc_audit_fill fill,
			const Ioasd__Request *req, const Ioasd__Response *resp,
			int errnum, const char *reason, const char *device,
			const struct rpc_batch_pos *batch)
{
	struct audit_record a = {
		.kind = AUDIT_DECISION,
		.op = op,
		.allowed = errnum == 0,
		.errnum = errnum,
		.reason = errnum ? reason : NULL,
		.device = device,
	};

	/* Allowed and no sink: nothing would count it or write it. */
	if (!errnum && !audit_has_sink(c->env->audit))
		return 0;
	rpc_audit_subject(c, c->tenant, &a);
	if (fill && req && resp)
		fill(&a, req, resp);
	if (batch) {
		a.has_batch = true;
		a.batch = batch->id;
		a.batch_index = batch->index;
		a.rollback = batch->rollback;
	}
	return audit_emit(c->env->audit, &a);
}

/* ------------------------------------------------------------ dispatch */

/* Why an operation is not batched, or not undone in an all-or-nothing
 * batch: the refusals say it. */
#define WHY_HELLO "Hello opens the connection and comes alone"
#define WHY_READ "it changes nothing: send it alone (pipelined, if many)"
#define WHY_DESTROY "an IOAS destroyed cannot be brought back (its mappings and its handle are gone)"
#define WHY_ALLOW "the allowed list can be narrowed, never widened back"
#define WHY_UNREGISTER "a region unregistered cannot be brought back (its fd is closed, its handle gone)"
#define WHY_UNMAP "an unmap cannot be undone exactly (the pages would be pinned anew, and shares of the range are revoked with their importers told)"
#define WHY_OPTION "an option set cannot always be set back (huge pages cannot be turned off again once a mapping needs them)"
#define WHY_REVOKE "a revoke unmaps every import of the share and tells its importers"
#define WHY_ATTACH "a detach does not undo an attach (the device stays bound to the tenant's iommufd context: the binding belongs to the client's open file)"
#define WHY_HWPT "HWPT and vIOMMU requests are not in Batch's operations (send them alone, pipelined)"
#define WHY_DETACH "a detached device cannot be attached back without its fd"
#define WHY_HANDOVER "it hands the client an fd, which a batch's reply cannot carry"
#define WHY_FAULT_FD "its reply hands the client the fault queue's fd, which a batch's reply cannot carry"

const struct rpc_op *rpc_lookup(Ioasd__Request__OpCase op)
{
#define OP(CASE, NAME, HANDLER, NFDS, READS, GRANTS, AUDIT, FILL, BATCH) \
	[IOASD__REQUEST__OP_##CASE] = { NAME, HANDLER, NFDS, READS, GRANTS, AUDIT, FILL, BATCH }
	static const struct rpc_op ops[] = {
		/*  case               name                handler          fds reads  grants               audit           fill                    in a batch */
		OP(HELLO,             "Hello",            h_hello,            0, false, GRANTS_NOTHING,      AUDIT_REFUSALS, NULL,                   NOT_BATCHED(WHY_HELLO)),
		OP(IOAS_ALLOC,        "IoasAlloc",        h_ioas_alloc,       0, false, GRANTS,              AUDIT_EVERY,    fill_ioas_alloc,        UNDONE_BY(undo_ioas_alloc)),
		OP(IOAS_DESTROY,      "IoasDestroy",      h_ioas_destroy,     0, false, GRANTS_NOTHING,      AUDIT_EVERY,    fill_ioas_destroy,      NOT_UNDONE(WHY_DESTROY)),
		OP(IOVA_RANGES,       "IovaRanges",       h_iova_ranges,      0, true,  GRANTS_NOTHING,      AUDIT_EVERY,    fill_iova_ranges,       NOT_BATCHED(WHY_READ)),
		OP(ALLOW_IOVAS,       "AllowIovas",       h_allow_iovas,      0, false, GRANTS,              AUDIT_EVERY,    fill_allow_iovas,       NOT_UNDONE(WHY_ALLOW)),
		OP(REGISTER_MEMORY,   "RegisterMemory",   h_register_memory,  1, false, GRANTS,              AUDIT_EVERY,    fill_register_memory,   UNDONE_BY(undo_register_memory)),
		OP(UNREGISTER_MEMORY, "UnregisterMemory", h_unregister_memory, 0, false, GRANTS_NOTHING,     AUDIT_EVERY,    fill_unregister_memory, NOT_UNDONE(WHY_UNREGISTER)),
		OP(MAP,               "Map",              h_map,              0, false, GRANTS,              AUDIT_EVERY,    fill_map,               UNDONE_BY(undo_map)),
		OP(UNMAP,             "Unmap",            h_unmap,            0, false, GRANTS_NOTHING,      AUDIT_EVERY,    fill_unmap,             NOT_UNDONE(WHY_UNMAP)),
		OP(COPY,              "Copy",             h_copy,             0, false, GRANTS,              AUDIT_EVERY,    fill_copy,              UNDONE_BY(undo_copy)),
		OP(OPTION,            "Option",           h_option,           0, false, GRANTS_WHEN_SETTING, AUDIT_EVERY,    fill_option,            NOT_UNDONE(WHY_OPTION)),
		OP(STATS,             "Stats",            h_stats,            0, true,  GRANTS_NOTHING,      AUDIT_NONE,     NULL,                   NOT_BATCHED(WHY_READ)),
		OP(WHOAMI,            "Whoami",           h_whoami,           0, true,  GRANTS_NOTHING,      AUDIT_NONE,     NULL,                   NOT_BATCHED(WHY_READ)),
		OP(SHARE_EXPORT,      "ShareExport",      h_share_export,     0, false, GRANTS,              AUDIT_EVERY,    NULL,                   UNDONE_BY(undo_share_export)),
		OP(SHARE_IMPORT,      "ShareImport",      h_share_import,     0, false, GRANTS,              AUDIT_EVERY,    NULL,                   UNDONE_BY(undo_share_import)),
		OP(SHARE_REVOKE,      "ShareRevoke",      h_share_revoke,     0, false, GRANTS_NOTHING,      AUDIT_EVERY,    NULL,                   NOT_UNDONE(WHY_REVOKE)),
		OP(SHARE_LIST,        "ShareList",        h_share_list,       0, true,  GRANTS_NOTHING,      AUDIT_NONE,     NULL,                   NOT_BATCHED(WHY_READ)),
		OP(ATTACH_DEVICE,     "AttachDevice",     h_attach_device,    1, false, GRANTS,              AUDIT_EVERY,    fill_attach_device,     NOT_UNDONE(WHY_ATTACH)),
		OP(DETACH_DEVICE,     "DetachDevice",     h_detach_device,    0, false, GRANTS_NOTHING,      AUDIT_EVERY,    fill_detach_device,     NOT_UNDONE(WHY_DETACH)),
		OP(DEVICE_LIST,       "DeviceList",       h_device_list,      0, true,  GRANTS_NOTHING,      AUDIT_NONE,     NULL,                   NOT_BATCHED(WHY_READ)),
		OP(OPEN_CONTEXT,      "OpenContext",      h_open_context,     0, false, GRANTS,              AUDIT_EVERY,    fill_open_context,      NOT_BATCHED(WHY_HANDOVER)),
		OP(OPEN_DEVICE,       "OpenDevice",       h_open_device,      0, false, GRANTS,              AUDIT_EVERY,    fill_open_device,       NOT_BATCHED(WHY_HANDOVER)),
		OP(MAPPING_LIST,      "MappingList",      h_mapping_list,     0, true,  GRANTS_NOTHING,      AUDIT_NONE,     NULL,                   NOT_BATCHED(WHY_READ)),
		/* hardware page tables (hwpt.c) */
		OP(HW_INFO,           "HwInfo",           h_hw_info,          0, true,  GRANTS_NOTHING,      AUDIT_EVERY,    fill_hw_info,           NOT_BATCHED(WHY_READ)),
		OP(HWPT_ALLOC,        "HwptAlloc",        h_hwpt_alloc,       0, false, GRANTS,              AUDIT_EVERY,    fill_hwpt_alloc,        NOT_BATCHED(WHY_HWPT)),
		OP(HWPT_DESTROY,      "HwptDestroy",      h_hwpt_destroy,     0, false, GRANTS_NOTHING,      AUDIT_EVERY,    fill_hwpt_destroy,      NOT_BATCHED(WHY_HWPT)),
		OP(HWPT_INVALIDATE,   "HwptInvalidate",   h_hwpt_invalidate,  0, false, GRANTS_NOTHING,      AUDIT_EVERY,    fill_hwpt_invalidate,   NOT_BATCHED(WHY_HWPT)),
		OP(DEVICE_REPLACE,    "DeviceReplace",    h_device_replace,   0, false, GRANTS,              AUDIT_EVERY,    fill_device_replace,    NOT_BATCHED(WHY_HWPT)),
		OP(HWPT_LIST,         "HwptList",         h_hwpt_list,        0, true,  GRANTS_NOTHING,      AUDIT_NONE,     NULL,                   NOT_BATCHED(WHY_READ)),
		/* vIOMMU objects (viommu.c) */
		OP(VIOMMU_ALLOC,      "ViommuAlloc",      h_viommu_alloc,     0, false, GRANTS,              AUDIT_EVERY,    fill_viommu_alloc,      NOT_BATCHED(WHY_HWPT)),
		OP(VDEVICE_ALLOC,     "VdeviceAlloc",     h_vdevice_alloc,    0, false, GRANTS,              AUDIT_EVERY,    fill_vdevice_alloc,     NOT_BATCHED(WHY_HWPT)),
		OP(VEVENTQ_ALLOC,     "VeventqAlloc",     h_veventq_alloc,    0, false, GRANTS,              AUDIT_EVERY,    fill_veventq_alloc,     NOT_BATCHED(WHY_HWPT)),
		OP(VIOMMU_DESTROY,    "ViommuDestroy",    h_viommu_destroy,   0, false, GRANTS_NOTHING,      AUDIT_EVERY,    fill_viommu_destroy,    NOT_BATCHED(WHY_HWPT)),
		/* fault queues, dirty tracking, PASIDs (faults.c) */
		OP(FAULT_ALLOC,       "FaultAlloc",       h_fault_alloc,      0, false, GRANTS,              AUDIT_EVERY,    fill_fault_alloc,       NOT_BATCHED(WHY_FAULT_FD)),
		OP(FAULT_DESTROY,     "FaultDestroy",     h_fault_destroy,    0, false, GRANTS_NOTHING,      AUDIT_EVERY,    fill_fault_destroy,     NOT_BATCHED(WHY_HWPT)),
		OP(HWPT_SET_DIRTY,    "HwptSetDirty",     h_hwpt_set_dirty,   0, false, GRANTS,              AUDIT_EVERY,    fill_hwpt_set_dirty,    NOT_BATCHED(WHY_HWPT)),
		OP(HWPT_GET_DIRTY,    "HwptGetDirty",     h_hwpt_get_dirty,   0, false, GRANTS_NOTHING,      AUDIT_EVERY,    fill_hwpt_get_dirty,    NOT_BATCHED(WHY_HWPT)),
		OP(PASID_ATTACH,      "PasidAttach",      h_pasid_attach,     0, false, GRANTS,              AUDIT_EVERY,    fill_pasid_attach,      NOT_BATCHED(WHY_HWPT)),
		OP(PASID_DETACH,      "PasidDetach",      h_pasid_detach,     0, false, GRANTS_NOTHING,      AUDIT_EVERY,    fill_pasid_detach,      NOT_BATCHED(WHY_HWPT)),
		OP(PASID_LIST,        "PasidList",        h_pasid_list,       0, true,  GRANTS_NOTHING,      AUDIT_NONE,     NULL,                   NOT_BATCHED(WHY_READ)),
		/* Its operations are audited one by one (a refusal of the
		 * whole batch by batch.c); it takes their fds. */
		OP(BATCH,             "Batch",            h_batch,  RPC_NFDS_BATCH, false, GRANTS_NOTHING,  AUDIT_NONE,     NULL,                   NOT_BATCHED("batches do not nest")),
	};
#undef OP

	if ((size_t)op >= ARRAY_SIZE(ops) || !ops[op].handler)
		return NULL;
	return &ops[op];
}

static bool op_grants(const struct rpc_op *op, const Ioasd__Request *req)
{
	return op->grants == GRANTS ||
	       (op->grants == GRANTS_WHEN_SETTING &&
		req->option->op == IOASD__OPTION_OP__OPTION_OP_SET);
}

static void close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fds[i] = safe_close(fds[i]);
}

/* What every operation gets, alone or inside a batch: the fds of its row,
 * the audit trail's health for what grants, its handler, the refusal in
 * the reply, its audit record and the debug log of a refusal. */
int rpc_run_op(struct rpc_ctx *x, const struct rpc_op *op)
{
	const Ioasd__Request *req = x->req;
	Ioasd__Response *resp = x->resp;
	struct rpc_session *c = x->c;
	int r, audited = 0;

	if (!op) {
		r = err_set(&x->err, EOPNOTSUPP,
			    "unknown operation (field %d); this daemon speaks protocol %u",
			    (int)req->op_case, IOASD_PROTOCOL_VERSION);
	} else if (op->nfds != RPC_NFDS_BATCH && x->nfds != op->nfds) {
		r = err_set(&x->err, EBADMSG, "%s takes %u fd(s), %zu attached",
			    op->name, op->nfds, x->nfds);
	} else if (op_grants(op, req) &&
		   !audit_healthy(c->env->audit)) {
		r = err_set(&x->err, EIO,
			    "the audit trail cannot be written and AuditFailure=refuse: "
			    "%s refused until it recovers",
			    op->name);
	} else {
		r = op->handler(x);
	}
	if (r == RPC_DEFERRED)
		return r; /* replied to and audited when it ends */

	if (r < 0) {
		resp->error = x->err.errnum ? x->err.errnum : -r;
		resp->message = x->err.errnum ? x->err.msg : (char *)"failed";
		/* Only EMSGSIZE (IovaRanges) and a Batch whose operations
		 * ran keep a result body. */
		if (r != -EMSGSIZE && !x->keep_body)
			resp->result_case = IOASD__RESPONSE__RESULT__NOT_SET;
	}
	if (!op || op->audit == AUDIT_EVERY ||
	    (op->audit == AUDIT_REFUSALS && resp->error))
		audited = rpc_audit_op(c, op ? op->name : "unknown", op ? op->fill : NULL,
				       req, resp, resp->error, resp->message,
				       x->has_dev ? x->dev_desc : NULL, x->batch);
	/* The debug log of refusals keeps to the audit's rate limit. */
	if (r < 0 && audited != AUDIT_SUPPRESSED)
		log_debug("connection %" PRIu64 ": %s refused: %s (%s)",
			  c->serial, op ? op->name : "?", resp->message,
			  strerror(resp->error));
	return r;
}

/* Free what a handler kept in x for its reply (after it is packed). */
void rpc_ctx_release(struct rpc_ctx *x)
{
	free(x->ranges);
	free(x->range_ptrs);
	free_list_mem(x->list_mem);
	free(x->devs);
	free(x->dev_ptrs);
	free(x->dev_strs);
	free(x->hw_info);
	free(x->hwpts);
	free(x->hwpt_ptrs);
	free(x->pasids);
	free(x->pasid_ptrs);
	for (size_t i = 0; i < x->n_allow_strs; i++)
		free(x->allow_strs[i]);
	free(x->allow_strs);
	explicit_bzero(x->token, sizeof(x->token));
	if (x->has_out_fd)
		x->out_fd = safe_close(x->out_fd);
	x->has_out_fd = false;
	x->batch_mem = rpc_batch_free(x->batch_mem);
	x->mapping_mem = rpc_mapping_mem_free(x->mapping_mem);
}

/* The largest block the cache keeps between requests: a larger one (a
 * batch of the largest operations) is freed after its request. */
#define RPC_BLOCK_KEEP_MAX (1u << 20)

void *rpc_block_get(struct rpc_block *b, size_t size)
{
	if (!b || b->busy)
		return malloc(size);
	if (b->size < size) {
		free(b->p);
		b->p = malloc(size);
		b->size = b->p ? size : 0;
		if (!b->p)
			return NULL;
	}
	b->busy = true;
	return b->p;
}

void rpc_block_put(struct rpc_block *b, void *p)
{
	if (!p)
		return;
	if (!b || p != b->p) {
		free(p);
		return;
	}
	b->busy = false;
	if (b->size > RPC_BLOCK_KEEP_MAX) {
		free(b->p);
		b->p = NULL;
		b->size = 0;
	}
}

void rpc_cache_release(struct rpc_cache *cache)
{
	free(cache->decode.p);
	free(cache->batch.p);
	*cache = (struct rpc_cache){ 0 };
}

/* Storage for a request fastpb decodes: the request, and its operation's
 * message and strings on the stack; a batch's operations in one block on
 * the heap (heap, from block, given back with the request). */
struct rpc_request_storage {
	Ioasd__Request req;
	uint64_t scratch[128];
	void *heap;
	struct rpc_block *block;
};

/* A request decoded in place (fastpb: no allocation, nothing to free) when
 * it is of the simple kind, else by protobuf-c (*ret_allocated). NULL when
 * it is not a valid Request. */
static Ioasd__Request *decode(struct rpc_session *c, const uint8_t *buf, size_t len,
			      struct rpc_request_storage *st, bool *ret_allocated)
{
	size_t size;
	int r;

	*ret_allocated = false;
	r = fastpb_unpack(c->env->codec, &ioasd__request__descriptor, buf, len, &st->req,
			  st->scratch, sizeof(st->scratch));
	st->block = c->env->cache ? &c->env->cache->decode : NULL;
	for (unsigned k = 0; r == FASTPB_NOSPACE && (size = fastpb_scratch_size(len, k)); k++) {
		rpc_block_put(st->block, st->heap);
		st->heap = rpc_block_get(st->block, size);
		if (!st->heap)
			break;
		r = fastpb_unpack(c->env->codec, &ioasd__request__descriptor, buf, len,
				  &st->req, st->heap, size);
	}
	if (r == 0)
		return &st->req;
	rpc_block_put(st->block, st->heap);
	st->heap = NULL;
	*ret_allocated = true;
	return ioasd__request__unpack(NULL, len, buf);
}

void rpc_handle_datagram(struct rpc_session *c, const uint8_t *buf, size_t len,
			 int *fds, size_t nfds)
{
	Ioasd__Response resp = IOASD__RESPONSE__INIT;
	struct rpc_ctx x;
	struct rpc_request_storage storage;
	const struct rpc_op *op;
	Ioasd__Request *req;
	bool allocated;

	rpc_ctx_init(&x);
	x.c = c;
	x.resp = &resp;
	x.fds = fds;
	x.nfds = nfds;
	storage.heap = NULL;
	storage.block = NULL;
	req = decode(c, buf, len, &storage, &allocated);
	if (!req) {
		close_fds(fds, nfds);
		rpc_audit(c, "decode", EBADMSG,
			  "request could not be decoded");
		rpc_send_error(c, 0, EBADMSG,
			       "request could not be decoded (not a valid ioasd Request)");
		if (!c->hello_done)
			c->tp->close_after_flush(c);
		return;
	}
	x.req = req;
	resp.id = req->id;

	op = rpc_lookup(req->op_case);
	if (!c->hello_done && req->op_case != IOASD__REQUEST__OP_HELLO) {
		close_fds(fds, nfds);
		rpc_audit(c, op ? op->name : "unknown", EPROTO,
			  "request before Hello");
		rpc_send_error(c, req->id, EPROTO,
			       "the first request on a connection must be Hello");
		c->tp->close_after_flush(c);
		goto out;
	}
	if (rpc_run_op(&x, op) == RPC_DEFERRED) {
		close_fds(fds, nfds);
		goto out;
	}
	close_fds(fds, nfds);
	if (x.has_out_fd && !resp.error) {
		x.has_out_fd = false;
		(void)pack_and_queue_fd(c, &resp, TAKE_FD(x.out_fd));
	} else {
		(void)pack_and_queue(c, &resp);
	}
out:
	rpc_ctx_release(&x);
	if (allocated)
		ioasd__request__free_unpacked(req, NULL);
	rpc_block_put(storage.block, storage.heap);
}

bool rpc_session_busy(const struct rpc_session *s)
{
	return s->pending.active || (s->tenant && tenant_busy(s->tenant));
}

/* The reply (and audit record) of the operation under way, now ended with
 * r (0, or -errno with e). */
static void pending_end(struct rpc_session *c, int r, const struct err *e)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__Unmap unmap = IOASD__UNMAP__INIT;
	Ioasd__Response resp = IOASD__RESPONSE__INIT;
	Ioasd__UnmapReply body = IOASD__UNMAP_REPLY__INIT;
	const struct rpc_op *op = rpc_lookup(IOASD__REQUEST__OP_UNMAP);

	unmap.ioas = c->pending.ioas;
	unmap.iova = 0;
	unmap.length = UINT64_MAX;
	req.id = c->pending.id;
	req.op_case = IOASD__REQUEST__OP_UNMAP;
	req.unmap = &unmap;
	resp.id = req.id;
	if (r < 0) {
		resp.error = e->errnum ? e->errnum : -r;
		resp.message = e->errnum ? (char *)e->msg : (char *)"failed";
	} else {
		body.unmapped = c->pending.unmapped;
		resp.result_case = IOASD__RESPONSE__RESULT_UNMAP;
		resp.unmap = &body;
	}
	if (op->audit == AUDIT_EVERY || (op->audit == AUDIT_REFUSALS && resp.error))
		(void)rpc_audit_op(c, op->name, op->fill, &req, &resp, resp.error,
				   resp.message, NULL, NULL);
	c->pending.active = false;
	if (c->tenant)
		tenant_set_busy(c->tenant, false);
	(void)pack_and_queue(c, &resp);
}

bool rpc_session_step(struct rpc_session *c)
{
	struct err e = { 0 };
	bool done = false;
	int r;

	if (!c->pending.active)
		return false;
	r = tenant_unmap_all_step(c->tenant, c->pending.ioas, RPC_SLICE,
				  &c->pending.unmapped, &done, &e);
	if (r < 0 || done)
		pending_end(c, r, &e);
	return c->pending.active;
}

void rpc_session_abandon(struct rpc_session *c)
{
	struct err e = { 0 };
	bool done = false;

	while (c->pending.active && !done &&
	       tenant_unmap_all_step(c->tenant, c->pending.ioas, SIZE_MAX,
				     &c->pending.unmapped, &done, &e) == 0)
		;
	c->pending.active = false;
	if (c->tenant)
		tenant_set_busy(c->tenant, false);
}
