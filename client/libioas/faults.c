/* SPDX-License-Identifier: MIT */
/* libioas: fault queues, dirty tracking, PASIDs (issue 16). */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

_Static_assert(sizeof(struct ioas_fault) == 40, "struct iommu_hwpt_pgfault");
_Static_assert(sizeof(struct ioas_fault_response) == 8,
	       "struct iommu_hwpt_page_response");

IOAS_EXPORT int ioas_fault_alloc(struct ioas_client *c, uint32_t *ret_fault,
				 int *ret_fd)
{
	Ioasd__FaultAllocReply *r;
	int ret, fd;

	if (!ret_fault || !ret_fd)
		return libioas_fail(c, -EINVAL, "no place for the queue or its fd");
	ret = REQUEST(c, fault_alloc, -1, &r);
	if (ret < 0)
		return ret;
	fd = libioas_take_reply_fd(c);
	if (fd < 0)
		return libioas_broken(c, -EPROTO, "ioasd's reply carried no fd");
	*ret_fault = r->fault;
	*ret_fd = fd;
	return 0;
}

IOAS_EXPORT int ioas_fault_destroy(struct ioas_client *c, uint32_t fault)
{
	return REQUEST_NO_REPLY(c, fault_destroy, -1, .fault = fault);
}

IOAS_EXPORT int ioas_hwpt_set_dirty(struct ioas_client *c, uint32_t hwpt,
				    bool enable)
{
	return REQUEST_NO_REPLY(c, hwpt_set_dirty, -1, .hwpt = hwpt,
				.enable = enable);
}

IOAS_EXPORT int ioas_hwpt_get_dirty(struct ioas_client *c, uint32_t hwpt,
				    uint64_t iova, uint64_t length,
				    uint64_t page_size, uint32_t memory,
				    uint64_t offset, unsigned flags,
				    uint64_t *ret_dirty)
{
	Ioasd__HwptGetDirtyReply *r;
	int ret;

	if (flags & ~IOAS_DIRTY_NO_CLEAR)
		return libioas_fail(c, -EINVAL, "unknown flags 0x%x", flags);
	ret = REQUEST(c, hwpt_get_dirty, -1, &r, .hwpt = hwpt, .iova = iova,
		      .length = length, .page_size = page_size, .memory = memory,
		      .has_offset = offset != 0, .offset = offset,
		      .has_no_clear = (flags & IOAS_DIRTY_NO_CLEAR) != 0,
		      .no_clear = (flags & IOAS_DIRTY_NO_CLEAR) != 0);
	if (ret == 0 && ret_dirty)
		*ret_dirty = r->dirty;
	return ret;
}

IOAS_EXPORT int ioas_pasid_attach(struct ioas_client *c, uint32_t device,
				  uint32_t pasid, uint32_t ioas, uint32_t hwpt)
{
	return REQUEST_NO_REPLY(c, pasid_attach, -1, .device = device,
				.pasid = pasid, .has_ioas = ioas != 0, .ioas = ioas,
				.has_hwpt = hwpt != 0, .hwpt = hwpt);
}

IOAS_EXPORT int ioas_pasid_detach(struct ioas_client *c, uint32_t device,
				  uint32_t pasid)
{
	return REQUEST_NO_REPLY(c, pasid_detach, -1, .device = device,
				.pasid = pasid);
}

IOAS_EXPORT int ioas_pasid_list(struct ioas_client *c,
				struct ioas_pasid_info **ret, uint32_t *n)
{
	Ioasd__PasidListReply *l;
	struct ioas_pasid_info *out;
	int r;

	if (!ret || !n)
		return libioas_fail(c, -EINVAL, "no place for the list");
	r = REQUEST(c, pasid_list, -1, &l);
	if (r < 0)
		return r;
	out = calloc(l->n_pasids + 1, sizeof(*out));
	if (!out)
		return libioas_fail(c, -ENOMEM, "out of memory");
	for (size_t i = 0; i < l->n_pasids; i++) {
		const Ioasd__PasidInfo *p = l->pasids[i];

		out[i] = (struct ioas_pasid_info){
			.device = p->device, .pasid = p->pasid,
			.ioas = p->has_ioas ? p->ioas : 0,
			.hwpt = p->has_hwpt ? p->hwpt : 0,
		};
	}
	*n = (uint32_t)l->n_pasids;
	*ret = out;
	return 0;
}
