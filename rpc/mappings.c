/* SPDX-License-Identifier: MIT */
/*
 * MappingList: one page of the caller's mappings of one of its IOASes, in
 * IOVA order (tenant_mapping_page), and on the first page the IOAS's own
 * AllowIovas narrowing. A page is bounded by what one datagram can carry,
 * however many mappings the IOAS holds: a million mappings are a thousand
 * pages, never one giant reply.
 */
#include "rpc/rpc-internal.h"

/* Most mappings one page carries. */
#define RPC_MAX_MAPPING_PAGE 1024u
/* The most a MappingInfo (every field at its widest varint, with its tag
 * and length) and an IovaRange take in the reply. */
#define MAPPING_INFO_MAX 56u
#define IOVA_RANGE_MAX 24u
/* Room kept for the rest of the Response (id, error, total, next_iova). */
#define REPLY_OVERHEAD 256u

struct rpc_mapping_mem {
	struct tenant_mapping_entry *entries;
	Ioasd__MappingInfo *infos;
	Ioasd__MappingInfo **info_ptrs;
	Ioasd__IovaRange *ranges;
	Ioasd__IovaRange **range_ptrs;
};

struct rpc_mapping_mem *rpc_mapping_mem_free(struct rpc_mapping_mem *mem)
{
	if (!mem)
		return NULL;
	free(mem->entries);
	free(mem->infos);
	free(mem->info_ptrs);
	free(mem->ranges);
	free(mem->range_ptrs);
	free(mem);
	return NULL;
}

/* How many mappings one page may carry beside n_own allowed ranges. */
static uint32_t page_room(uint32_t want, uint32_t n_own)
{
	uint64_t bytes = IOASD_MAX_DATAGRAM - REPLY_OVERHEAD - (uint64_t)n_own * IOVA_RANGE_MAX;
	uint64_t fit = bytes / MAPPING_INFO_MAX;
	uint32_t room = RPC_MAX_MAPPING_PAGE;

	if (fit < room)
		room = (uint32_t)fit;
	if (want && want < room)
		room = want;
	return room;
}

int h_mapping_list(struct rpc_ctx *x)
{
	const Ioasd__MappingList *m = x->req->mapping_list;
	Ioasd__MappingListReply *r = &x->body.mapping_list;
	struct tenant_mapping_page_info info;
	struct rpc_mapping_mem *mem;
	bool first = !m->has_from_iova;
	uint32_t n, n_own;
	int ret;

	mem = calloc(1, sizeof(*mem));
	if (!mem)
		return err_set(&x->err, ENOMEM, "out of memory");
	x->mapping_mem = mem;
	/* The narrowing's size first (an empty page): the room depends on it. */
	n = 0;
	ret = tenant_mapping_page(T(x), m->ioas, 0, NULL, &n, &info, &x->err);
	if (ret < 0)
		return ret;
	n_own = first ? info.n_own_allowed : 0;
	n = page_room(m->has_max ? m->max : 0, n_own);
	mem->entries = calloc(n ? n : 1, sizeof(*mem->entries));
	mem->infos = calloc(n ? n : 1, sizeof(*mem->infos));
	mem->info_ptrs = calloc(n ? n : 1, sizeof(*mem->info_ptrs));
	mem->ranges = calloc(n_own ? n_own : 1, sizeof(*mem->ranges));
	mem->range_ptrs = calloc(n_own ? n_own : 1, sizeof(*mem->range_ptrs));
	if (!mem->entries || !mem->infos || !mem->info_ptrs || !mem->ranges || !mem->range_ptrs)
		return err_set(&x->err, ENOMEM, "out of memory");
	ret = tenant_mapping_page(T(x), m->ioas, first ? 0 : m->from_iova, mem->entries,
				  &n, &info, &x->err);
	if (ret < 0)
		return ret;

	ioasd__mapping_list_reply__init(r);
	for (uint32_t i = 0; i < n; i++) {
		const struct tenant_mapping_entry *e = &mem->entries[i];
		Ioasd__MappingInfo *o = &mem->infos[i];

		ioasd__mapping_info__init(o);
		o->iova = e->iova;
		o->length = e->length;
		o->flags = e->flags;
		o->offset = e->offset;
		o->has_memory = e->memory != 0;
		o->memory = e->memory;
		o->has_import = e->import != 0;
		o->import = e->import;
		o->has_outside_policy = e->outside_policy;
		o->outside_policy = e->outside_policy;
		mem->info_ptrs[i] = o;
	}
	r->n_mappings = n;
	r->mappings = mem->info_ptrs;
	r->total = info.total;
	r->has_next_iova = info.more;
	r->next_iova = info.next_iova;
	for (uint32_t i = 0; i < n_own; i++) {
		ioasd__iova_range__init(&mem->ranges[i]);
		mem->ranges[i].start = info.own_allowed[i].start;
		mem->ranges[i].last = info.own_allowed[i].last;
		mem->range_ptrs[i] = &mem->ranges[i];
	}
	r->n_own_allowed = n_own;
	r->own_allowed = mem->range_ptrs;
	x->resp->result_case = IOASD__RESPONSE__RESULT_MAPPING_LIST;
	x->resp->mapping_list = r;
	return 0;
}
