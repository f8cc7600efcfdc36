/* SPDX-License-Identifier: MIT */
/* libioas: hardware info, hardware page tables, device replace (issue 15). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

IOAS_EXPORT int ioas_hw_info(struct ioas_client *c, uint32_t device,
			     struct ioas_hw_info *ret)
{
	Ioasd__HwInfoReply *r;
	int ret_code;

	if (!ret)
		return libioas_fail(c, -EINVAL, "no place for the hardware info");
	ret_code = REQUEST(c, hw_info, -1, &r, .device = device);
	if (ret_code < 0)
		return ret_code;
	memset(ret, 0, sizeof(*ret));
	ret->type = r->type;
	ret->data_len = r->data_len;
	ret->capabilities = r->capabilities;
	ret->max_pasid_log2 = (uint8_t)r->max_pasid_log2;
	if (r->data.len)
		memcpy(ret->data, r->data.data,
		       r->data.len < sizeof(ret->data) ? r->data.len : sizeof(ret->data));
	return 0;
}

IOAS_EXPORT int ioas_hwpt_alloc_args(struct ioas_client *c,
				     const struct ioas_hwpt_args *a,
				     uint32_t *ret_hwpt)
{
	Ioasd__HwptAllocReply *r;
	int ret;

	if (!a)
		return libioas_fail(c, -EINVAL, "no arguments");
	if (a->len && !a->data)
		return libioas_fail(c, -EINVAL, "no driver data");
	ret = REQUEST(c, hwpt_alloc, -1, &r, .device = a->device,
		      .has_ioas = a->ioas != 0, .ioas = a->ioas,
		      .has_parent = a->parent != 0, .parent = a->parent,
		      .has_flags = a->flags != 0, .flags = a->flags,
		      .has_data_type = a->data_type != 0, .data_type = a->data_type,
		      .has_data = a->len != 0,
		      .data = { .len = a->len, .data = (uint8_t *)a->data },
		      .has_fault = a->fault != 0, .fault = a->fault,
		      .has_viommu = a->viommu != 0, .viommu = a->viommu);
	if (ret == 0 && ret_hwpt)
		*ret_hwpt = r->hwpt;
	return ret;
}

/* The three below are ioas_hwpt_alloc_args() with the fields each names
 * (the daemon reads an absent handle as 0, a present 0 as 0). */
IOAS_EXPORT int ioas_hwpt_alloc(struct ioas_client *c, uint32_t device,
				uint32_t ioas, uint32_t flags, uint32_t *ret_hwpt)
{
	return ioas_hwpt_alloc_args(c, &(struct ioas_hwpt_args){
		.device = device, .ioas = ioas, .flags = flags }, ret_hwpt);
}

IOAS_EXPORT int ioas_hwpt_alloc_nested(struct ioas_client *c, uint32_t device,
				       uint32_t parent, uint32_t data_type,
				       const void *data, size_t len,
				       uint32_t *ret_hwpt)
{
	return ioas_hwpt_alloc_args(c, &(struct ioas_hwpt_args){
		.device = device, .parent = parent, .data_type = data_type,
		.data = data, .len = len }, ret_hwpt);
}

IOAS_EXPORT int ioas_hwpt_alloc_viommu(struct ioas_client *c, uint32_t device,
				       uint32_t viommu, uint32_t data_type,
				       const void *data, size_t len,
				       uint32_t *ret_hwpt)
{
	return ioas_hwpt_alloc_args(c, &(struct ioas_hwpt_args){
		.device = device, .viommu = viommu, .data_type = data_type,
		.data = data, .len = len }, ret_hwpt);
}

IOAS_EXPORT int ioas_hwpt_destroy(struct ioas_client *c, uint32_t hwpt)
{
	return REQUEST_NO_REPLY(c, hwpt_destroy, -1, .hwpt = hwpt);
}

static int invalidate(struct ioas_client *c, uint32_t hwpt, uint32_t viommu,
		      uint32_t data_type, const void *entries,
		      uint32_t entry_len, uint32_t *entry_num)
{
	Ioasd__HwptInvalidateReply *r = NULL;
	size_t bytes;
	int ret;

	if (!entry_num)
		return libioas_fail(c, -EINVAL, "no entry count");
	if (*entry_num && !entry_len) {
		*entry_num = 0;
		return libioas_fail(c, -EINVAL, "entries of 0 bytes");
	}
	bytes = (size_t)*entry_num * entry_len;
	if (bytes && !entries)
		return libioas_fail(c, -EINVAL, "no entries");
	ret = REQUEST(c, hwpt_invalidate, -1, &r, .hwpt = hwpt,
		      .has_viommu = viommu != 0, .viommu = viommu,
		      .data_type = data_type, .entry_len = entry_len,
		      .has_entries = bytes != 0,
		      .entries = { .len = bytes, .data = (uint8_t *)entries });
	*entry_num = r ? r->entries_done : 0;
	return ret;
}

IOAS_EXPORT int ioas_hwpt_invalidate(struct ioas_client *c, uint32_t hwpt,
				     uint32_t data_type, const void *entries,
				     uint32_t entry_len, uint32_t *entry_num)
{
	return invalidate(c, hwpt, 0, data_type, entries, entry_len, entry_num);
}

IOAS_EXPORT int ioas_viommu_invalidate(struct ioas_client *c, uint32_t viommu,
				       uint32_t data_type, const void *entries,
				       uint32_t entry_len, uint32_t *entry_num)
{
	return invalidate(c, 0, viommu, data_type, entries, entry_len, entry_num);
}

IOAS_EXPORT int ioas_device_replace(struct ioas_client *c, uint32_t device,
				    uint32_t ioas, uint32_t hwpt)
{
	return REQUEST_NO_REPLY(c, device_replace, -1, .device = device,
				.has_ioas = ioas != 0, .ioas = ioas,
				.has_hwpt = hwpt != 0, .hwpt = hwpt);
}

IOAS_EXPORT int ioas_hwpt_list(struct ioas_client *c,
			       struct ioas_hwpt_info **ret, uint32_t *n)
{
	Ioasd__HwptListReply *l;
	struct ioas_hwpt_info *out;
	int r;

	if (!ret || !n)
		return libioas_fail(c, -EINVAL, "no place for the list");
	r = REQUEST(c, hwpt_list, -1, &l);
	if (r < 0)
		return r;
	out = calloc(l->n_hwpts + 1, sizeof(*out));
	if (!out)
		return libioas_fail(c, -ENOMEM, "out of memory");
	for (size_t i = 0; i < l->n_hwpts; i++) {
		const Ioasd__HwptInfo *h = l->hwpts[i];

		out[i] = (struct ioas_hwpt_info){
			.hwpt = h->hwpt, .ioas = h->ioas,
			.parent = h->has_parent ? h->parent : 0,
			.device = h->device, .flags = h->flags,
			.data_type = h->data_type, .devices = h->devices,
			.children = h->children,
			.fault = h->has_fault ? h->fault : 0,
		};
	}
	*n = (uint32_t)l->n_hwpts;
	*ret = out;
	return 0;
}

/* ------------------------------------------------------------ vIOMMU */

IOAS_EXPORT int ioas_viommu_alloc(struct ioas_client *c, uint32_t device,
				  uint32_t hwpt, uint32_t type, const void *data,
				  size_t len, uint32_t *ret_viommu)
{
	Ioasd__ViommuAllocReply *r;
	int ret;

	if (len && !data)
		return libioas_fail(c, -EINVAL, "no vIOMMU data");
	ret = REQUEST(c, viommu_alloc, -1, &r, .device = device, .hwpt = hwpt,
		      .type = type, .has_data = len != 0,
		      .data = { .len = len, .data = (uint8_t *)data });
	if (ret == 0 && ret_viommu)
		*ret_viommu = r->viommu;
	return ret;
}

IOAS_EXPORT int ioas_vdevice_alloc(struct ioas_client *c, uint32_t viommu,
				   uint32_t device, uint64_t virt_id,
				   uint32_t *ret_vdevice)
{
	Ioasd__VdeviceAllocReply *r;
	int ret;

	ret = REQUEST(c, vdevice_alloc, -1, &r, .viommu = viommu, .device = device,
		      .virt_id = virt_id);
	if (ret == 0 && ret_vdevice)
		*ret_vdevice = r->vdevice;
	return ret;
}

IOAS_EXPORT int ioas_veventq_alloc(struct ioas_client *c, uint32_t viommu,
				   uint32_t type, uint32_t depth,
				   uint32_t *ret_veventq, int *ret_fd)
{
	Ioasd__VeventqAllocReply *r;
	int ret, fd;

	if (!ret_fd)
		return libioas_fail(c, -EINVAL, "no place for the queue's fd");
	ret = REQUEST(c, veventq_alloc, -1, &r, .viommu = viommu, .type = type,
		      .depth = depth);
	if (ret < 0)
		return ret;
	fd = libioas_take_reply_fd(c);
	if (fd < 0)
		return libioas_broken(c, -EPROTO, "VeventqAlloc reply without its fd");
	if (ret_veventq)
		*ret_veventq = r->veventq;
	*ret_fd = fd;
	return 0;
}

IOAS_EXPORT int ioas_viommu_destroy(struct ioas_client *c, uint32_t viommu)
{
	return REQUEST_NO_REPLY(c, viommu_destroy, -1, .has_viommu = true,
				.viommu = viommu);
}

IOAS_EXPORT int ioas_vdevice_destroy(struct ioas_client *c, uint32_t vdevice)
{
	return REQUEST_NO_REPLY(c, viommu_destroy, -1, .has_vdevice = true,
				.vdevice = vdevice);
}

IOAS_EXPORT int ioas_veventq_destroy(struct ioas_client *c, uint32_t veventq)
{
	return REQUEST_NO_REPLY(c, viommu_destroy, -1, .has_veventq = true,
				.veventq = veventq);
}
