/* SPDX-License-Identifier: MIT */
/* One tenant's tables as a state.proto Tenant message. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "persist/state-dump.h"
#include "tenant/tenant.h"

void state_tenant_msg_free(IoasdState__Tenant *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_ioases; i++)
		free(m->ioases[i]);
	for (size_t i = 0; i < m->n_memories; i++)
		free(m->memories[i]);
	for (size_t i = 0; i < m->n_shares; i++)
		free(m->shares[i]);
	for (size_t i = 0; i < m->n_imports; i++)
		free(m->imports[i]);
	for (size_t i = 0; i < m->n_mappings; i++)
		free(m->mappings[i]);
	for (size_t i = 0; i < m->n_devices; i++) {
		free(m->devices[i]->name);
		free(m->devices[i]);
	}
	free(m->devices);
	free(m->ioases);
	free(m->memories);
	free(m->shares);
	free(m->imports);
	free(m->mappings);
	free(m);
}

static int dump_ioas(void *ud, const struct tenant_ioas_info *i)
{
	IoasdState__Tenant *m = ud;
	IoasdState__Ioas *x = malloc(sizeof(*x));

	if (!x)
		return -ENOMEM;
	ioasd_state__ioas__init(x);
	x->handle = i->handle;
	x->id = i->id;
	x->has_mock_stdev = i->mock_stdev != 0;
	x->mock_stdev = i->mock_stdev;
	x->has_mock_hwpt = i->mock_hwpt != 0;
	x->mock_hwpt = i->mock_hwpt;
	if (APPEND(m->ioases, m->n_ioases, x) < 0) {
		free(x);
		return -ENOMEM;
	}
	return 0;
}

static int dump_memory(void *ud, const struct tenant_memory_info *i)
{
	IoasdState__Tenant *m = ud;
	IoasdState__Memory *x = malloc(sizeof(*x));

	if (!x)
		return -ENOMEM;
	ioasd_state__memory__init(x);
	x->handle = i->handle;
	x->store_id = i->store_id;
	x->offset = i->region->offset;
	x->length = i->region->length;
	if (APPEND(m->memories, m->n_memories, x) < 0) {
		free(x);
		return -ENOMEM;
	}
	return 0;
}

static int dump_mapping(void *ud, const struct tenant_mapping_info *i)
{
	IoasdState__Tenant *m = ud;
	IoasdState__Mapping *x = malloc(sizeof(*x));

	if (!x)
		return -ENOMEM;
	ioasd_state__mapping__init(x);
	x->ioas = i->ioas;
	x->iova = i->iova;
	x->length = i->length;
	x->mem_owner = (char *)i->mem_owner;
	x->memory = i->memory;
	x->mem_offset = i->mem_offset;
	x->flags = i->flags;
	x->has_import = i->import != 0;
	x->import = i->import;
	if (APPEND(m->mappings, m->n_mappings, x) < 0) {
		free(x);
		return -ENOMEM;
	}
	return 0;
}

static int dump_device(void *ud, const struct tenant_device_info *i)
{
	IoasdState__Tenant *m = ud;
	IoasdState__Device *x = malloc(sizeof(*x));

	if (!x)
		return -ENOMEM;
	ioasd_state__device__init(x);
	x->handle = i->handle;
	x->ioas = i->ioas;
	x->store_id = i->store_id;
	x->vendor = i->info.vendor;
	x->device = i->info.device;
	x->domain = i->info.domain;
	x->bus = i->info.bus;
	x->slot = i->info.slot;
	x->function = i->info.function;
	x->name = strdup(i->info.name);
	if (!x->name || APPEND(m->devices, m->n_devices, x) < 0) {
		free(x->name);
		free(x);
		return -ENOMEM;
	}
	return 0;
}

static const struct tenant_dump_ops dump_ops = {
	.ioas = dump_ioas, .memory = dump_memory, .mapping = dump_mapping,
	.device = dump_device,
};

int state_dump_tenant(struct tenant *t, bool by_policy, IoasdState__Tenant **ret)
{
	IoasdState__Tenant *m = calloc(1, sizeof(*m));
	const struct tenant_share *sh = NULL;
	const struct tenant_import *imp = NULL;
	struct tenant_share_info si;
	struct tenant_import_info ii;
	struct tenant_handles h;
	int r;

	if (!m)
		return -ENOMEM;
	ioasd_state__tenant__init(m);
	m->name = (char *)tenant_name(t);
	m->reclaim_token = (char *)tenant_reclaim_token(t);
	m->by_policy = by_policy;
	tenant_get_next_handles(t, &h);
	m->next_ioas = h.ioas;
	m->next_memory = h.memory;
	m->next_share = h.share;
	m->next_import = h.import;
	m->has_next_device = true;
	m->next_device = h.device;
	m->has_own_context = true;
	m->own_context = tenant_context_stored(t, &m->context_store_id);
	m->has_context_store_id = m->own_context && m->context_store_id != 0;
	r = tenant_dump(t, &dump_ops, m);
	while (r == 0 && (sh = tenant_share_next(t, sh, &si))) {
		IoasdState__Share *x = malloc(sizeof(*x));

		if (!x) {
			r = -ENOMEM;
			break;
		}
		ioasd_state__share__init(x);
		x->handle = si.share;
		x->ioas = si.ioas;
		x->iova = si.iova;
		x->length = si.length;
		x->writeable = si.writeable;
		x->token = (char *)si.token;
		if ((r = APPEND(m->shares, m->n_shares, x)) < 0)
			free(x);
	}
	while (r == 0 && (imp = tenant_import_next(t, imp, &ii))) {
		IoasdState__Import *x = malloc(sizeof(*x));

		if (!x) {
			r = -ENOMEM;
			break;
		}
		ioasd_state__import__init(x);
		x->handle = ii.import;
		x->exporter = (char *)ii.tenant;
		x->share = ii.share;
		x->ioas = ii.ioas;
		x->iova = ii.iova;
		x->offset = ii.offset;
		x->length = ii.length;
		x->flags = ii.writeable ? 6u : 4u; /* READABLE (| WRITEABLE) */
		if ((r = APPEND(m->imports, m->n_imports, x)) < 0)
			free(x);
	}
	if (r < 0) {
		state_tenant_msg_free(m);
		return r;
	}
	*ret = m;
	return 0;
}
