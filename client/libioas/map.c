/* SPDX-License-Identifier: MIT */
/* libioas: mappings. */
#include <errno.h>

#include "internal.h"

/* ------------------------------------------------------------ mappings */

IOAS_EXPORT int ioas_map(struct ioas_client *c, uint32_t ioas, uint32_t memory,
			 uint64_t offset, uint64_t length, uint32_t flags,
			 uint64_t *iova)
{
	bool fixed = flags & IOAS_MAP_FIXED_IOVA;
	Ioasd__MapReply *m;
	int r;

	if (!iova)
		return libioas_fail(c, -EINVAL, "no place for the IOVA");

	r = REQUEST(c, map, -1, &m, .ioas = ioas, .memory = memory,
		    .offset = offset, .length = length, .flags = flags,
		    .has_iova = fixed, .iova = fixed ? *iova : 0);
	if (r == 0)
		*iova = m->iova;
	return r;
}

IOAS_EXPORT int ioas_unmap(struct ioas_client *c, uint32_t ioas, uint64_t iova,
			   uint64_t length, uint64_t *ret_unmapped)
{
	Ioasd__UnmapReply *u;
	int r;

	r = REQUEST(c, unmap, -1, &u, .ioas = ioas, .iova = iova,
		    .length = length);
	if (r == 0 && ret_unmapped)
		*ret_unmapped = u->unmapped;
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
	bool fixed = flags & IOAS_MAP_FIXED_IOVA;
	Ioasd__CopyReply *cp;
	int r;

	if (!dst_iova)
		return libioas_fail(c, -EINVAL, "no place for the destination IOVA");

	r = REQUEST(c, copy, -1, &cp, .src_ioas = src_ioas,
		    .src_iova = src_iova, .length = length,
		    .dst_ioas = dst_ioas, .flags = flags,
		    .has_dst_iova = fixed, .dst_iova = fixed ? *dst_iova : 0);
	if (r == 0)
		*dst_iova = cp->dst_iova;
	return r;
}
