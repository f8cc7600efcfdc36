/* SPDX-License-Identifier: MIT */
/*
 * The requests of issue 16: FaultAlloc (its reply carries the queue's fd),
 * FaultDestroy, HwptSetDirty, HwptGetDirty, PasidAttach, PasidDetach,
 * PasidList. Protobuf in, the tenant layer (tenant/faults.c), protobuf out;
 * their audit fillers.
 */
#include "rpc/rpc-internal.h"

int h_fault_alloc(struct rpc_ctx *x)
{
	Ioasd__FaultAllocReply *r = &x->body.fault_alloc;
	uint32_t h;
	int fd, ret;

	/* Refused before the queue is made when the reply cannot carry it. */
	ret = rpc_check_fd_reply(x, "the fault queue's fd");
	if (ret < 0)
		return ret;
	ret = tenant_fault_alloc(T(x), &h, &fd, &x->err);
	if (ret < 0)
		return ret;
	/* The fd rides on the reply and is closed here once sent: the
	 * client's from then on, the daemon keeps no copy. */
	x->out_fd = fd;
	x->has_out_fd = true;
	ioasd__fault_alloc_reply__init(r);
	r->fault = h;
	x->resp->result_case = IOASD__RESPONSE__RESULT_FAULT_ALLOC;
	x->resp->fault_alloc = r;
	return 0;
}

int h_fault_destroy(struct rpc_ctx *x)
{
	return tenant_fault_destroy(T(x), x->req->fault_destroy->fault, &x->err);
}

int h_hwpt_set_dirty(struct rpc_ctx *x)
{
	const Ioasd__HwptSetDirty *m = x->req->hwpt_set_dirty;

	return tenant_hwpt_set_dirty(T(x), m->hwpt, m->enable, &x->err);
}

int h_hwpt_get_dirty(struct rpc_ctx *x)
{
	const Ioasd__HwptGetDirty *m = x->req->hwpt_get_dirty;
	Ioasd__HwptGetDirtyReply *r = &x->body.hwpt_get_dirty;
	struct tenant_dirty_req q = {
		.hwpt = m->hwpt, .iova = m->iova, .length = m->length,
		.page_size = m->page_size, .memory = m->memory,
		.offset = m->has_offset ? m->offset : 0,
		.no_clear = m->has_no_clear && m->no_clear,
	};
	uint64_t bytes, dirty;
	int ret;

	ret = tenant_hwpt_get_dirty(T(x), &q, &bytes, &dirty, &x->err);
	if (ret < 0)
		return ret;
	ioasd__hwpt_get_dirty_reply__init(r);
	r->bytes = bytes;
	r->dirty = dirty;
	x->resp->result_case = IOASD__RESPONSE__RESULT_HWPT_GET_DIRTY;
	x->resp->hwpt_get_dirty = r;
	return 0;
}

int h_pasid_attach(struct rpc_ctx *x)
{
	const Ioasd__PasidAttach *m = x->req->pasid_attach;

	return tenant_pasid_attach(T(x), m->device, m->pasid,
				   m->has_ioas ? m->ioas : 0,
				   m->has_hwpt ? m->hwpt : 0, &x->err);
}

int h_pasid_detach(struct rpc_ctx *x)
{
	const Ioasd__PasidDetach *m = x->req->pasid_detach;

	return tenant_pasid_detach(T(x), m->device, m->pasid, &x->err);
}

int h_pasid_list(struct rpc_ctx *x)
{
	Ioasd__PasidListReply *r = &x->body.pasid_list;
	const struct tenant_pasid *p = NULL;
	struct tenant_pasid_list_info pi;
	size_t n = 0, i = 0;

	while ((p = tenant_pasid_next(T(x), p, &pi)))
		n++;
	x->pasids = calloc(n + 1, sizeof(*x->pasids));
	x->pasid_ptrs = calloc(n + 1, sizeof(*x->pasid_ptrs));
	if (!x->pasids || !x->pasid_ptrs)
		return err_set(&x->err, ENOMEM, "out of memory");
	for (p = NULL; (p = tenant_pasid_next(T(x), p, &pi)); i++) {
		Ioasd__PasidInfo *o = &x->pasids[i];

		ioasd__pasid_info__init(o);
		o->device = pi.device;
		o->pasid = pi.pasid;
		o->has_hwpt = pi.hwpt != 0;
		o->hwpt = pi.hwpt;
		o->has_ioas = pi.ioas != 0;
		o->ioas = pi.ioas;
		x->pasid_ptrs[i] = o;
	}
	ioasd__pasid_list_reply__init(r);
	r->n_pasids = n;
	r->pasids = x->pasid_ptrs;
	x->resp->result_case = IOASD__RESPONSE__RESULT_PASID_LIST;
	x->resp->pasid_list = r;
	return 0;
}

/* ------------------------------------------------------------ audit
 * handle: the fault queue, HWPT or device; handle2: the PASID's HWPT (or
 * IOAS) or the bitmap's memory; iova, length: the dirty range; iova2: the
 * PASID. */

void fill_fault_alloc(struct audit_record *a, const Ioasd__Request *req,
		      const Ioasd__Response *resp)
{
	(void)req;
	if (resp->result_case == IOASD__RESPONSE__RESULT_FAULT_ALLOC) {
		a->has_handle = true;
		a->handle = resp->fault_alloc->fault;
	}
}

void fill_fault_destroy(struct audit_record *a, const Ioasd__Request *req,
			const Ioasd__Response *resp)
{
	(void)resp;
	a->has_handle = true;
	a->handle = req->fault_destroy->fault;
}

void fill_hwpt_set_dirty(struct audit_record *a, const Ioasd__Request *req,
			 const Ioasd__Response *resp)
{
	(void)resp;
	a->has_handle = true;
	a->handle = req->hwpt_set_dirty->hwpt;
	a->has_length = true;
	a->length = req->hwpt_set_dirty->enable;
}

void fill_hwpt_get_dirty(struct audit_record *a, const Ioasd__Request *req,
			 const Ioasd__Response *resp)
{
	const Ioasd__HwptGetDirty *m = req->hwpt_get_dirty;

	(void)resp;
	a->has_handle = true;
	a->handle = m->hwpt;
	a->has_handle2 = true;
	a->handle2 = m->memory;
	a->has_iova = true;
	a->iova = m->iova;
	a->has_length = true;
	a->length = m->length;
}

void fill_pasid_attach(struct audit_record *a, const Ioasd__Request *req,
		       const Ioasd__Response *resp)
{
	const Ioasd__PasidAttach *m = req->pasid_attach;

	(void)resp;
	a->has_handle = true;
	a->handle = m->device;
	a->has_handle2 = true;
	a->handle2 = m->has_hwpt ? m->hwpt : m->ioas;
	a->has_iova2 = true;
	a->iova2 = m->pasid;
}

void fill_pasid_detach(struct audit_record *a, const Ioasd__Request *req,
		       const Ioasd__Response *resp)
{
	(void)resp;
	a->has_handle = true;
	a->handle = req->pasid_detach->device;
	a->has_iova2 = true;
	a->iova2 = req->pasid_detach->pasid;
}
