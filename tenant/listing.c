/* SPDX-License-Identifier: MIT */
/*
 * Reading one IOAS's tables a page at a time (MappingList): its mappings in
 * IOVA order from a given IOVA, and the tenant's own AllowIovas narrowing.
 * What one call does is bounded by the room the caller gives, however many
 * mappings the IOAS holds.
 */
#include "tenant/tenant-internal.h"

int tenant_mapping_page(struct tenant *t, uint32_t ioas, uint64_t from,
			struct tenant_mapping_entry *out, uint32_t *n,
			struct tenant_mapping_page_info *ret, struct err *e)
{
	struct ioas_obj *o = ioas_get(t, ioas, e);
	struct mapping key = { .iova = from }, *m;
	uint32_t room = *n, k = 0;

	*n = 0;
	if (!o)
		return -ENOENT;
	memset(ret, 0, sizeof(*ret));
	ret->total = o->nmappings;
	ret->own_allowed = o->own_allowed;
	ret->n_own_allowed = o->n_own_allowed;
	for (m = RB_NFIND(mapping_tree, &o->mappings, &key); m && k < room;
	     m = RB_NEXT(mapping_tree, &o->mappings, m), k++) {
		struct tenant_mapping_entry *x = &out[k];

		memset(x, 0, sizeof(*x));
		x->iova = m->iova;
		x->length = m->length;
		x->flags = m->flags;
		x->outside_policy = m->outside_policy;
		if (m->imp) {
			/* A piece of an import: the memory is the exporter's,
			 * the offset into the share. */
			x->import = m->imp->handle;
			x->offset = m->imp->offset + (m->iova - m->imp->iova);
		} else {
			x->memory = m->mem->handle;
			x->offset = m->mem_offset;
		}
	}
	*n = k;
	if (m) {
		ret->more = true;
		ret->next_iova = m->iova;
	}
	return 0;
}
