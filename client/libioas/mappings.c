/* SPDX-License-Identifier: MIT */
/* libioas: MappingList, one page of an IOAS's mappings. */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"

IOAS_EXPORT struct ioas_mapping_page *ioas_mapping_page_free(struct ioas_mapping_page *p)
{
	if (!p)
		return NULL;
	free(p->mappings);
	free(p->own_allowed);
	free(p);
	return NULL;
}

IOAS_EXPORT int ioas_mapping_list(struct ioas_client *c, uint32_t ioas,
				  const uint64_t *from_iova, uint32_t max,
				  struct ioas_mapping_page **ret)
{
	Ioasd__MappingListReply *l;
	struct ioas_mapping_page *out;
	int r;

	if (!ret)
		return libioas_fail(c, -EINVAL, "no place for the page");
	*ret = NULL;
	r = REQUEST(c, mapping_list, -1, &l, .ioas = ioas,
		    .has_from_iova = from_iova != NULL,
		    .from_iova = from_iova ? *from_iova : 0,
		    .has_max = max != 0, .max = max);
	if (r < 0)
		return r;
	out = calloc(1, sizeof(*out));
	if (out) {
		out->mappings = calloc(l->n_mappings + 1, sizeof(*out->mappings));
		out->own_allowed = calloc(l->n_own_allowed + 1, sizeof(*out->own_allowed));
	}
	if (!out || !out->mappings || !out->own_allowed) {
		ioas_mapping_page_free(out);
		return libioas_fail(c, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < l->n_mappings; i++) {
		const Ioasd__MappingInfo *m = l->mappings[i];
		struct ioas_mapping_info *o = &out->mappings[i];

		o->iova = m->iova;
		o->length = m->length;
		o->offset = m->offset;
		o->flags = m->flags;
		o->memory = m->has_memory ? m->memory : 0;
		o->import = m->has_import ? m->import : 0;
		o->outside_policy = m->has_outside_policy && m->outside_policy;
	}
	for (size_t i = 0; i < l->n_own_allowed; i++) {
		out->own_allowed[i].start = l->own_allowed[i]->start;
		out->own_allowed[i].last = l->own_allowed[i]->last;
	}
	out->n_mappings = (uint32_t)l->n_mappings;
	out->n_own_allowed = (uint32_t)l->n_own_allowed;
	out->total = l->total;
	out->more = l->has_next_iova;
	out->next_iova = l->has_next_iova ? l->next_iova : 0;
	*ret = out;
	return 0;
}
