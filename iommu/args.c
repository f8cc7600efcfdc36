/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stddef.h>

#include "common/util.h"
#include "iommu/args.h"
#include "iommu/backend.h"

static int fail(int r, const char *why, const char **ret_why)
{
	if (ret_why)
		*ret_why = why;
	return r;
}

int iommu_args_map(uint32_t flags, uint64_t iova, uint64_t length,
		   const char **ret_why)
{
	if (flags & ~BACKEND_MAP_ALL_FLAGS)
		return fail(-EOPNOTSUPP, "unknown map flags", ret_why);
	if (iova >= UINT64_MAX || length >= UINT64_MAX)
		return fail(-EOVERFLOW, "iova or length is UINT64_MAX", ret_why);
	if (!(flags & (BACKEND_MAP_READABLE | BACKEND_MAP_WRITEABLE)))
		return fail(-EINVAL, "a mapping must be readable, writeable or both",
			    ret_why);
	return 0;
}

int iommu_args_copy(uint32_t flags, uint64_t src_iova, uint64_t dst_iova,
		    uint64_t length, const char **ret_why)
{
	if (src_iova >= UINT64_MAX && !(flags & ~BACKEND_MAP_ALL_FLAGS))
		return fail(-EOVERFLOW, "iova or length is UINT64_MAX", ret_why);
	return iommu_args_map(flags, dst_iova, length, ret_why);
}

int iommu_args_unmap(uint64_t iova, uint64_t length, uint64_t *ret_last,
		     const char **ret_why)
{
	uint64_t last;

	if (iova >= UINT64_MAX || length >= UINT64_MAX)
		return fail(-EOVERFLOW, "iova or length is UINT64_MAX", ret_why);
	if (length == 0)
		return fail(-EINVAL, "unmap length is 0", ret_why);
	if (add_overflow(iova, length - 1, &last))
		return fail(-EOVERFLOW, "iova + length wraps past the top of the address space",
			    ret_why);
	*ret_last = last;
	return 0;
}
