/* SPDX-License-Identifier: MIT */
/*
 * The requests of hardware page tables (issue 15): HwInfo, HwptAlloc,
 * HwptDestroy, HwptInvalidate, DeviceReplace, HwptList. Protobuf in, the
 * tenant layer (tenant/hwpt.c), protobuf out; their audit fillers.
 */
#include "rpc/rpc-internal.h"

int h_hw_info(struct rpc_ctx *x)
{
	Ioasd__HwInfoReply *r = &x->body.hw_info;
	struct backend_hw_info *i;
	int ret;

	i = x->hw_info = calloc(1, sizeof(*x->hw_info));
	if (!i)
		return err_set(&x->err, ENOMEM, "out of memory");
	ret = tenant_hw_info(T(x), x->req->hw_info->device, i, &x->err);
	if (ret < 0)
		return ret;
	ioasd__hw_info_reply__init(r);
	r->type = i->type;
	r->capabilities = i->capabilities;
	r->max_pasid_log2 = i->max_pasid_log2;
	r->data_len = i->data_len;
	r->data.data = i->data;
	r->data.len = i->data_len < sizeof(i->data) ? i->data_len : sizeof(i->data);
	x->resp->result_case = IOASD__RESPONSE__RESULT_HW_INFO;
	x->resp->hw_info = r;
	return 0;
}

int h_hwpt_alloc(struct rpc_ctx *x)
{
	const Ioasd__HwptAlloc *m = x->req->hwpt_alloc;
	Ioasd__HwptAllocReply *r = &x->body.hwpt_alloc;
	struct tenant_hwpt_req q = {
		.device = m->device,
		.ioas = m->has_ioas ? m->ioas : 0,
		.parent = m->has_parent ? m->parent : 0,
		.viommu = m->has_viommu ? m->viommu : 0,
		.flags = m->has_flags ? m->flags : 0,
		.data_type = m->has_data_type ? m->data_type : 0,
		.fault = m->has_fault ? m->fault : 0,
	};
	uint32_t h;
	int ret;

	if (m->has_data) {
		if (m->data.len > UINT32_MAX)
			return err_set(&x->err, E2BIG, "HWPT driver data too large");
		q.data = m->data.data;
		q.data_len = (uint32_t)m->data.len;
	}
	ret = tenant_hwpt_alloc(T(x), &q, &h, &x->err);
	if (ret < 0)
		return ret;
	ioasd__hwpt_alloc_reply__init(r);
	r->hwpt = h;
	x->resp->result_case = IOASD__RESPONSE__RESULT_HWPT_ALLOC;
	x->resp->hwpt_alloc = r;
	return 0;
}

int h_hwpt_destroy(struct rpc_ctx *x)
{
	return tenant_hwpt_destroy(T(x), x->req->hwpt_destroy->hwpt, &x->err);
}

int h_hwpt_invalidate(struct rpc_ctx *x)
{
	const Ioasd__HwptInvalidate *m = x->req->hwpt_invalidate;
	Ioasd__HwptInvalidateReply *r = &x->body.hwpt_invalidate;
	size_t bytes = m->has_entries ? m->entries.len : 0;
	uint32_t n;
	int ret;

	if (bytes && (m->entry_len == 0 || bytes % m->entry_len))
		return err_set(&x->err, EINVAL,
			       "%zu bytes of entries are not a whole number of "
			       "entries of %" PRIu32 " bytes", bytes, m->entry_len);
	/* The count is bounded with the bytes (tenant_hwpt_invalidate). */
	n = bytes ? (uint32_t)(bytes / m->entry_len) : 0;
	if (m->has_viommu && m->viommu)
		ret = tenant_viommu_invalidate(T(x), m->viommu, m->data_type,
					       bytes ? m->entries.data : NULL,
					       m->entry_len, &n, &x->err);
	else
		ret = tenant_hwpt_invalidate(T(x), m->hwpt, m->data_type,
					     bytes ? m->entries.data : NULL,
					     m->entry_len, &n, &x->err);
	/* How many the kernel handled goes back either way. */
	ioasd__hwpt_invalidate_reply__init(r);
	r->entries_done = n;
	x->resp->result_case = IOASD__RESPONSE__RESULT_HWPT_INVALIDATE;
	x->resp->hwpt_invalidate = r;
	if (ret < 0)
		x->keep_body = true;
	return ret;
}

int h_device_replace(struct rpc_ctx *x)
{
	const Ioasd__DeviceReplace *m = x->req->device_replace;

	return tenant_device_replace(T(x), m->device, m->has_ioas ? m->ioas : 0,
				     m->has_hwpt ? m->hwpt : 0, &x->err);
}

int h_hwpt_list(struct rpc_ctx *x)
{
	Ioasd__HwptListReply *r = &x->body.hwpt_list;
	const struct tenant_hwpt *h = NULL;
	struct tenant_hwpt_list_info hi;
	size_t n = 0, i = 0;

	while ((h = tenant_hwpt_next(T(x), h, &hi)))
		n++;
	x->hwpts = calloc(n + 1, sizeof(*x->hwpts));
	x->hwpt_ptrs = calloc(n + 1, sizeof(*x->hwpt_ptrs));
	if (!x->hwpts || !x->hwpt_ptrs)
		return err_set(&x->err, ENOMEM, "out of memory");
	for (h = NULL; (h = tenant_hwpt_next(T(x), h, &hi)); i++) {
		Ioasd__HwptInfo *o = &x->hwpts[i];

		ioasd__hwpt_info__init(o);
		o->hwpt = hi.hwpt;
		o->ioas = hi.ioas;
		o->has_parent = hi.parent != 0;
		o->parent = hi.parent;
		o->device = hi.device;
		o->flags = hi.flags;
		o->data_type = hi.data_type;
		o->devices = hi.devices;
		o->children = hi.children;
		o->has_fault = hi.fault != 0;
		o->fault = hi.fault;
		x->hwpt_ptrs[i] = o;
	}
	ioasd__hwpt_list_reply__init(r);
	r->n_hwpts = n;
	r->hwpts = x->hwpt_ptrs;
	x->resp->result_case = IOASD__RESPONSE__RESULT_HWPT_LIST;
	x->resp->hwpt_list = r;
	return 0;
}

/* ------------------------------------------------------------ audit
 * handle: the HWPT (or the device for HwInfo); handle2: what it came from
 * or went onto; length: bytes of driver data or of invalidation entries. */

void fill_hw_info(struct audit_record *a, const Ioasd__Request *req,
		  const Ioasd__Response *resp)
{
	(void)resp;
	a->has_handle = true;
	a->handle = req->hw_info->device;
}

void fill_hwpt_alloc(struct audit_record *a, const Ioasd__Request *req,
		     const Ioasd__Response *resp)
{
	const Ioasd__HwptAlloc *m = req->hwpt_alloc;

	if (resp->result_case == IOASD__RESPONSE__RESULT_HWPT_ALLOC) {
		a->has_handle = true;
		a->handle = resp->hwpt_alloc->hwpt;
	}
	a->has_handle2 = true;
	a->handle2 = m->has_parent ? m->parent : m->ioas;
	a->has_length = true;
	a->length = m->has_data ? m->data.len : 0;
}

void fill_hwpt_destroy(struct audit_record *a, const Ioasd__Request *req,
		       const Ioasd__Response *resp)
{
	(void)resp;
	a->has_handle = true;
	a->handle = req->hwpt_destroy->hwpt;
}

void fill_hwpt_invalidate(struct audit_record *a, const Ioasd__Request *req,
			  const Ioasd__Response *resp)
{
	(void)resp;
	a->has_handle = true;
	a->handle = req->hwpt_invalidate->hwpt;
	a->has_length = true;
	a->length = req->hwpt_invalidate->has_entries ?
		req->hwpt_invalidate->entries.len : 0;
}

void fill_device_replace(struct audit_record *a, const Ioasd__Request *req,
			 const Ioasd__Response *resp)
{
	const Ioasd__DeviceReplace *m = req->device_replace;

	(void)resp;
	a->has_handle = true;
	a->handle = m->device;
	a->has_handle2 = true;
	a->handle2 = m->has_hwpt ? m->hwpt : m->ioas;
}
