/* SPDX-License-Identifier: MIT */
/*
 * The requests of vIOMMU objects (issue 15): ViommuAlloc, VdeviceAlloc,
 * VeventqAlloc (whose reply carries the queue's fd), ViommuDestroy; their
 * audit fillers. The tenant layer is tenant/viommu.c.
 */
#include "rpc/rpc-internal.h"

int h_viommu_alloc(struct rpc_ctx *x)
{
	const Ioasd__ViommuAlloc *m = x->req->viommu_alloc;
	Ioasd__ViommuAllocReply *r = &x->body.viommu_alloc;
	uint32_t h;
	int ret;

	if (m->has_data && m->data.len > UINT32_MAX)
		return err_set(&x->err, E2BIG, "vIOMMU data too large");
	ret = tenant_viommu_alloc(T(x), m->device, m->hwpt, m->type,
				  m->has_data ? m->data.data : NULL,
				  m->has_data ? (uint32_t)m->data.len : 0, &h, &x->err);
	if (ret < 0)
		return ret;
	ioasd__viommu_alloc_reply__init(r);
	r->viommu = h;
	x->resp->result_case = IOASD__RESPONSE__RESULT_VIOMMU_ALLOC;
	x->resp->viommu_alloc = r;
	return 0;
}

int h_vdevice_alloc(struct rpc_ctx *x)
{
	const Ioasd__VdeviceAlloc *m = x->req->vdevice_alloc;
	Ioasd__VdeviceAllocReply *r = &x->body.vdevice_alloc;
	uint32_t h;
	int ret;

	ret = tenant_vdevice_alloc(T(x), m->viommu, m->device, m->virt_id, &h,
				   &x->err);
	if (ret < 0)
		return ret;
	ioasd__vdevice_alloc_reply__init(r);
	r->vdevice = h;
	x->resp->result_case = IOASD__RESPONSE__RESULT_VDEVICE_ALLOC;
	x->resp->vdevice_alloc = r;
	return 0;
}

int h_veventq_alloc(struct rpc_ctx *x)
{
	const Ioasd__VeventqAlloc *m = x->req->veventq_alloc;
	Ioasd__VeventqAllocReply *r = &x->body.veventq_alloc;
	uint32_t h;
	int fd = -1, ret;

	/* Refused before the queue is made when the reply cannot carry it. */
	ret = rpc_check_fd_reply(x, "the queue's fd");
	if (ret < 0)
		return ret;
	ret = tenant_veventq_alloc(T(x), m->viommu, m->type, m->depth, &h, &fd,
				   &x->err);
	if (ret < 0)
		return ret;
	/* The queue's fd rides on the reply; the daemon keeps no copy. */
	x->out_fd = fd;
	x->has_out_fd = true;
	ioasd__veventq_alloc_reply__init(r);
	r->veventq = h;
	x->resp->result_case = IOASD__RESPONSE__RESULT_VEVENTQ_ALLOC;
	x->resp->veventq_alloc = r;
	return 0;
}

int h_viommu_destroy(struct rpc_ctx *x)
{
	const Ioasd__ViommuDestroy *m = x->req->viommu_destroy;

	if (m->has_viommu + m->has_vdevice + m->has_veventq != 1)
		return err_set(&x->err, EINVAL, "ViommuDestroy names exactly one of "
			       "viommu, vdevice and veventq");
	if (m->has_viommu)
		return tenant_vobj_destroy(T(x), TENANT_VIOMMU, m->viommu, &x->err);
	if (m->has_vdevice)
		return tenant_vobj_destroy(T(x), TENANT_VDEVICE, m->vdevice, &x->err);
	return tenant_vobj_destroy(T(x), TENANT_VEVENTQ, m->veventq, &x->err);
}

/* ------------------------------------------------------------ audit
 * handle: the object made (or destroyed); handle2: what it is on (the
 * parent HWPT, the vIOMMU); iova: a vDEVICE's virtual id. */

void fill_viommu_alloc(struct audit_record *a, const Ioasd__Request *req,
		       const Ioasd__Response *resp)
{
	if (resp->result_case == IOASD__RESPONSE__RESULT_VIOMMU_ALLOC) {
		a->has_handle = true;
		a->handle = resp->viommu_alloc->viommu;
	}
	a->has_handle2 = true;
	a->handle2 = req->viommu_alloc->hwpt;
}

void fill_vdevice_alloc(struct audit_record *a, const Ioasd__Request *req,
			const Ioasd__Response *resp)
{
	if (resp->result_case == IOASD__RESPONSE__RESULT_VDEVICE_ALLOC) {
		a->has_handle = true;
		a->handle = resp->vdevice_alloc->vdevice;
	}
	a->has_handle2 = true;
	a->handle2 = req->vdevice_alloc->viommu;
	a->has_iova = true;
	a->iova = req->vdevice_alloc->virt_id;
}

void fill_veventq_alloc(struct audit_record *a, const Ioasd__Request *req,
			const Ioasd__Response *resp)
{
	if (resp->result_case == IOASD__RESPONSE__RESULT_VEVENTQ_ALLOC) {
		a->has_handle = true;
		a->handle = resp->veventq_alloc->veventq;
	}
	a->has_handle2 = true;
	a->handle2 = req->veventq_alloc->viommu;
}

void fill_viommu_destroy(struct audit_record *a, const Ioasd__Request *req,
			 const Ioasd__Response *resp)
{
	const Ioasd__ViommuDestroy *m = req->viommu_destroy;

	(void)resp;
	a->has_handle = true;
	a->handle = m->has_viommu ? m->viommu : m->has_vdevice ? m->vdevice : m->veventq;
}
