/* SPDX-License-Identifier: MIT */
/* libioas: mappings, synchronous and asynchronous. */
#include <errno.h>

#include "internal.h"

/* ------------------------------------------------------------ messages */

void libioas_msg_map(Ioasd__Map *m, uint32_t ioas, uint32_t memory, uint64_t offset,
		     uint64_t length, uint32_t flags, uint64_t iova)
{
	bool fixed = flags & IOAS_MAP_FIXED_IOVA;

	*m = (Ioasd__Map){ LIBIOAS_MESSAGE_BASE(map), .ioas = ioas, .memory = memory,
			   .offset = offset, .length = length, .flags = flags,
			   .has_iova = fixed, .iova = fixed ? iova : 0 };
}

void libioas_msg_unmap(Ioasd__Unmap *m, uint32_t ioas, uint64_t iova, uint64_t length)
{
	*m = (Ioasd__Unmap){ LIBIOAS_MESSAGE_BASE(unmap), .ioas = ioas, .iova = iova,
			     .length = length };
}

void libioas_msg_copy(Ioasd__Copy *m, uint32_t dst_ioas, uint32_t src_ioas,
		      uint32_t flags, uint64_t src_iova, uint64_t length,
		      uint64_t dst_iova)
{
	bool fixed = flags & IOAS_MAP_FIXED_IOVA;

	*m = (Ioasd__Copy){ LIBIOAS_MESSAGE_BASE(copy), .src_ioas = src_ioas,
			    .src_iova = src_iova, .length = length,
			    .dst_ioas = dst_ioas, .flags = flags,
			    .has_dst_iova = fixed, .dst_iova = fixed ? dst_iova : 0 };
}

/* ------------------------------------------------------------ mappings */

IOAS_EXPORT int ioas_map(struct ioas_client *c, uint32_t ioas, uint32_t memory,
			 uint64_t offset, uint64_t length, uint32_t flags,
			 uint64_t *iova)
{
	Ioasd__MapReply *r;
	Ioasd__Map m;
	int ret;

	if (!iova)
		return libioas_fail(c, -EINVAL, "no place for the IOVA");
	libioas_msg_map(&m, ioas, memory, offset, length, flags, *iova);
	ret = request_map(c, -1, &m, &r);
	if (ret == 0)
		*iova = r->iova;
	return ret;
}

IOAS_EXPORT int ioas_unmap(struct ioas_client *c, uint32_t ioas, uint64_t iova,
			   uint64_t length, uint64_t *ret_unmapped)
{
	Ioasd__UnmapReply *r;
	Ioasd__Unmap m;
	int ret;

	libioas_msg_unmap(&m, ioas, iova, length);
	ret = request_unmap(c, -1, &m, &r);
	if (ret == 0 && ret_unmapped)
		*ret_unmapped = r->unmapped;
	return ret;
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
	Ioasd__CopyReply *r;
	Ioasd__Copy m;
	int ret;

	if (!dst_iova)
		return libioas_fail(c, -EINVAL, "no place for the destination IOVA");
	libioas_msg_copy(&m, dst_ioas, src_ioas, flags, src_iova, length, *dst_iova);
	ret = request_copy(c, -1, &m, &r);
	if (ret == 0)
		*dst_iova = r->dst_iova;
	return ret;
}

/* ------------------------------------------------------------ asynchronous */

IOAS_EXPORT int ioas_submit_map(struct ioas_client *c, uint32_t ioas, uint32_t memory,
				uint64_t offset, uint64_t length, uint32_t flags,
				uint64_t iova, void *userdata, uint64_t *ret_id)
{
	Ioasd__Map m;

	libioas_msg_map(&m, ioas, memory, offset, length, flags, iova);
	return submit_map(c, -1, &m, userdata, ret_id);
}

IOAS_EXPORT int ioas_submit_unmap(struct ioas_client *c, uint32_t ioas, uint64_t iova,
				  uint64_t length, void *userdata, uint64_t *ret_id)
{
	Ioasd__Unmap m;

	libioas_msg_unmap(&m, ioas, iova, length);
	return submit_unmap(c, -1, &m, userdata, ret_id);
}

IOAS_EXPORT int ioas_submit_copy(struct ioas_client *c, uint32_t dst_ioas,
				 uint32_t src_ioas, uint32_t flags, uint64_t src_iova,
				 uint64_t length, uint64_t dst_iova, void *userdata,
				 uint64_t *ret_id)
{
	Ioasd__Copy m;

	libioas_msg_copy(&m, dst_ioas, src_ioas, flags, src_iova, length, dst_iova);
	return submit_copy(c, -1, &m, userdata, ret_id);
}
