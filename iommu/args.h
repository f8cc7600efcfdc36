/* SPDX-License-Identifier: MIT */
/*
 * The kernel's checks of an iommufd request's arguments, made before it
 * looks at any object (iommufd_ioas_map, _map_file, _copy, _unmap), written
 * once: the sim answers with them, and the tenant layer asks them first so
 * that its own refusals (policy, quotas, split unmaps) never hide the errno
 * the kernel would give. Each returns 0 or -errno, and *ret_why (when not
 * NULL) says which check failed. Nothing here logs.
 */
#pragma once

#include <stdint.h>

/* MAP and MAP_FILE: unknown flags EOPNOTSUPP; iova or length UINT64_MAX
 * EOVERFLOW (whether or not the IOVA is fixed); neither readable nor
 * writeable EINVAL. */
int iommu_args_map(uint32_t flags, uint64_t iova, uint64_t length,
		   const char **ret_why);

/* COPY: the same, with the source IOVA as well. */
int iommu_args_copy(uint32_t flags, uint64_t src_iova, uint64_t dst_iova,
		    uint64_t length, const char **ret_why);

/* UNMAP of [iova, iova + length) other than "everything" (0, UINT64_MAX):
 * iova or length UINT64_MAX EOVERFLOW; length 0 EINVAL; a range that wraps
 * EOVERFLOW. *ret_last is its last byte on success. */
int iommu_args_unmap(uint64_t iova, uint64_t length, uint64_t *ret_last,
		     const char **ret_why);
