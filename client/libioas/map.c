/* SPDX-License-Identifier: MIT */
/* libioas: mappings. */
#include <errno.h>

#include "internal.h"

/* ------------------------------------------------------------ mappings */

IOAS_EXPORT int ioas_map(struct ioas_client *c, uint32_t ioas, uint32_t memory,
			 uint64_t offset, uint64_t length, uint32_t flags,
			 uint64_t *iova)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__Map op = IOASD__MAP__INIT;
	Ioasd__Response *resp;
	int r;

	if (!iova)
		return libioas_fail(c, -EINVAL, "no place for the IOVA");

	op.ioas = ioas;
	op.memory = memory;
	op.offset = offset;
	op.length = length;
	op.flags = flags;
	if (flags & IOAS_MAP_FIXED_IOVA) {
		op.has_iova = true;
		op.iova = *iova;
	}
	req.op_case = IOASD__REQUEST__OP_MAP;
	req.map = &op;
	r = libioas_transact(c, &req, -1, IOASD__RESPONSE__RESULT_MAP, &resp);
	if (r == 0)
		*iova = resp->map->iova;
	if (resp)
		ioasd__response__free_unpacked(resp, NULL);
	return r;
}

IOAS_EXPORT int ioas_unmap(struct ioas_client *c, uint32_t ioas, uint64_t iova,
			   uint64_t length, uint64_t *ret_unmapped)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__Unmap op = IOASD__UNMAP__INIT;
	Ioasd__Response *resp;
	int r;

	op.ioas = ioas;
	op.iova = iova;
	op.length = length;
	req.op_case = IOASD__REQUEST__OP_UNMAP;
	req.unmap = &op;
	r = libioas_transact(c, &req, -1, IOASD__RESPONSE__RESULT_UNMAP, &resp);
	if (r == 0 && ret_unmapped)
		*ret_unmapped = resp->unmap->unmapped;
	if (resp)
		ioasd__response__free_unpacked(resp, NULL);
	return r;
}

IOAS_EXPORT int ioas_unmap_all(struct ioas_client *c, uint32_t ioas,
			       uint64_t *ret_unmapped)
{
	return ioas_unmap(c, ioas, 0, IOAS_UNMAP_ALL_LENGTH, ret_unmapped);
}

IOAS_EXPORT int ioas_copy(struct ioas_client *c, uint32_t dst_ioas,
			  uint32_t src_ioas, uint32_t flags, uint64_t src_iova,
			  uint64_t length, uint64_t *dst_iova)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__Copy op = IOASD__COPY__INIT;
	Ioasd__Response *resp;
	int r;

	if (!dst_iova)
		return libioas_fail(c, -EINVAL, "no place for the destination IOVA");

	op.src_ioas = src_ioas;
	op.src_iova = src_iova;
	op.length = length;
	op.dst_ioas = dst_ioas;
	op.flags = flags;
	if (flags & IOAS_MAP_FIXED_IOVA) {
		op.has_dst_iova = true;
		op.dst_iova = *dst_iova;
	}
	req.op_case = IOASD__REQUEST__OP_COPY;
	req.copy = &op;
	r = libioas_transact(c, &req, -1, IOASD__RESPONSE__RESULT_COPY, &resp);
	if (r == 0)
		*dst_iova = resp->copy->dst_iova;
	if (resp)
		ioasd__response__free_unpacked(resp, NULL);
	return r;
}
