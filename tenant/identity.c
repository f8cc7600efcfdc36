/* SPDX-License-Identifier: MIT */
/*
 * Identity mappings: memory mapped at the IOVA equal to the client's own
 * address of it, so that device pointers are CPU pointers. Pinned and
 * static like every mapping (there is no uAPI that binds a process's page
 * tables to a device in either supported kernel). The daemon cannot see the
 * client's address space, so the client states what its mapping at that
 * address is and the daemon checks that it names this memory at this
 * offset; the rest is an ordinary fixed map with all its checks.
 */
#include "tenant/tenant-internal.h"

int tenant_map_identity(struct tenant *t, uint32_t ioas, uint32_t memory,
			uint64_t offset, uint64_t length, uint32_t flags,
			uint64_t iova, const struct tenant_identity *id,
			struct err *e)
{
	struct mem_obj *mem;
	uint64_t out = iova;
	int r;

	if (!(flags & BACKEND_MAP_FIXED_IOVA))
		return err_set(e, EINVAL,
			       "an identity map is at a fixed IOVA (the client's address): set FIXED_IOVA");
	if (!ioas_get(t, ioas, e))
		return -ENOENT;
	mem = mem_get(t, memory, e);
	if (!mem)
		return -ENOENT;
	r = memory_region_is_file(mem->region, offset, id->dev, id->ino,
				  id->file_offset, e);
	if (r < 0)
		return r;
	r = tenant_map(t, ioas, memory, offset, length, flags, &out, e);
	if (r < 0)
		return r;
	if (out != iova) { /* the kernel keeps a fixed IOVA; never reached */
		uint64_t gone;

		(void)tenant_unmap(t, ioas, out, length, &gone, NULL);
		return err_set(e, EIO, "the backend moved a fixed IOVA");
	}
	return 0;
}
