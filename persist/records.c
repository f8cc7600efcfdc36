/* SPDX-License-Identifier: MIT */
/* The records of the restart state's database (see records.h). */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "persist/records.h"
#include "policy/policy.h"

void record_tenant_key(uint32_t tid, uint8_t key[RECORD_TENANT_KEY])
{
	uint32_t be = htobe32(tid);

	memcpy(key, &be, 4);
}

void record_object_key(uint32_t tid, enum record_kind kind, uint32_t handle,
		       uint8_t key[RECORD_OBJECT_KEY])
{
	uint32_t a = htobe32(tid), b = htobe32(handle);

	memcpy(key, &a, 4);
	key[4] = (uint8_t)kind;
	memcpy(key + 5, &b, 4);
}

void record_mapping_key(uint32_t tid, uint32_t ioas, uint32_t gen, uint64_t iova,
			uint8_t key[RECORD_MAPPING_KEY])
{
	uint32_t a = htobe32(tid), b = htobe32(ioas), c = htobe32(gen);
	uint64_t d = htobe64(iova);

	memcpy(key, &a, 4);
	memcpy(key + 4, &b, 4);
	memcpy(key + 8, &c, 4);
	memcpy(key + 12, &d, 8);
}

uint32_t record_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return be32toh(v);
}

uint64_t record_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return be64toh(v);
}

/* ------------------------------------------------------------ values */

void records_tenant_msg(const struct tenant *t, bool by_policy, IoasdState__Tenant *x)
{
	struct tenant_handles h;

	ioasd_state__tenant__init(x);
	x->name = (char *)tenant_name(t);
	x->reclaim_token = (char *)tenant_reclaim_token(t);
	x->by_policy = by_policy;
	tenant_get_next_handles(t, &h);
	x->next_ioas = h.ioas;
	x->next_memory = h.memory;
	x->next_share = h.share;
	x->next_import = h.import;
	x->has_next_device = true;
	x->next_device = h.device;
	x->has_next_hwpt = true;
	x->next_hwpt = h.hwpt;
	x->has_next_fault = true;
	x->next_fault = h.fault;
	x->has_next_pasid = true;
	x->next_pasid = h.pasid;
	x->has_next_vobj = true;
	x->next_vobj = h.vobj;
	x->has_own_context = true;
	x->own_context = tenant_context_stored(t, &x->context_store_id);
	x->has_context_store_id = x->own_context && x->context_store_id != 0;
}

/* Pack msg into a record: small messages on the stack. */
static int put_msg(struct records *r, enum db_table table, const void *key, size_t klen,
		   const ProtobufCMessage *msg)
{
	uint8_t small[512], *buf = small;
	size_t len = protobuf_c_message_get_packed_size(msg);
	int ret;

	if (len > sizeof(small) && !(buf = malloc(len)))
		return -ENOMEM;
	protobuf_c_message_pack(msg, buf);
	ret = db_put(r->db, table, key, klen, buf, len);
	if (buf != small)
		free(buf);
	return ret;
}

static int put_tenant(struct records *r, const struct tenant *t, uint32_t tid)
{
	IoasdState__Tenant x;
	uint8_t key[RECORD_TENANT_KEY];

	records_tenant_msg(t, r->by_policy, &x);
	record_tenant_key(tid, key);
	return put_msg(r, DB_TENANTS, key, sizeof(key), &x.base);
}

static int put_ioas(struct records *r, uint32_t tid, const struct tenant_ioas_info *i)
{
	IoasdState__Ioas x = IOASD_STATE__IOAS__INIT;
	uint8_t key[RECORD_OBJECT_KEY];
	IoasdState__Range *rv = NULL, **rp = NULL;
	int ret;

	x.handle = i->handle;
	x.id = i->id;
	x.has_mock_stdev = i->mock_stdev != 0;
	x.mock_stdev = i->mock_stdev;
	x.has_mock_hwpt = i->mock_hwpt != 0;
	x.mock_hwpt = i->mock_hwpt;
	x.has_mock_idev = i->mock_idev != 0;
	x.mock_idev = i->mock_idev;
	x.has_mock_on = i->mock_on != 0;
	x.mock_on = i->mock_on;
	x.has_gen = true;
	x.gen = i->gen;
	if (i->n_own_allowed) {
		rv = calloc(i->n_own_allowed, sizeof(*rv));
		rp = calloc(i->n_own_allowed, sizeof(*rp));
		if (!rv || !rp) {
			free(rv);
			free(rp);
			return -ENOMEM;
		}
		for (uint32_t k = 0; k < i->n_own_allowed; k++) {
			ioasd_state__range__init(&rv[k]);
			rv[k].start = i->own_allowed[k].start;
			rv[k].last = i->own_allowed[k].last;
			rp[k] = &rv[k];
		}
		x.n_own_allowed = i->n_own_allowed;
		x.own_allowed = rp;
	}
	record_object_key(tid, RECORD_IOAS, i->handle, key);
	ret = put_msg(r, DB_OBJECTS, key, sizeof(key), &x.base);
	free(rv);
	free(rp);
	return ret;
}

static int put_memory(struct records *r, uint32_t tid, const struct tenant_memory_info *i)
{
	IoasdState__Memory x = IOASD_STATE__MEMORY__INIT;
	uint8_t key[RECORD_OBJECT_KEY];

	x.handle = i->handle;
	x.store_id = i->store_id;
	x.offset = i->region->offset;
	x.length = i->region->length;
	record_object_key(tid, RECORD_MEMORY, i->handle, key);
	return put_msg(r, DB_OBJECTS, key, sizeof(key), &x.base);
}

static int put_share(struct records *r, uint32_t tid, const struct tenant_share_info *i)
{
	IoasdState__Share x = IOASD_STATE__SHARE__INIT;
	uint8_t key[RECORD_OBJECT_KEY];

	x.handle = i->share;
	x.ioas = i->ioas;
	x.iova = i->iova;
	x.length = i->length;
	x.writeable = i->writeable;
	x.token = (char *)i->token;
	record_object_key(tid, RECORD_SHARE, i->share, key);
	return put_msg(r, DB_OBJECTS, key, sizeof(key), &x.base);
}

static int put_import(struct records *r, uint32_t tid, const struct tenant_import_info *i)
{
	IoasdState__Import x = IOASD_STATE__IMPORT__INIT;
	uint8_t key[RECORD_OBJECT_KEY];

	x.handle = i->import;
	x.exporter = (char *)i->tenant;
	x.share = i->share;
	x.ioas = i->ioas;
	x.iova = i->iova;
	x.offset = i->offset;
	x.length = i->length;
	x.flags = i->writeable ? BACKEND_MAP_READABLE | BACKEND_MAP_WRITEABLE
			       : BACKEND_MAP_READABLE;
	record_object_key(tid, RECORD_IMPORT, i->import, key);
	return put_msg(r, DB_OBJECTS, key, sizeof(key), &x.base);
}

static int put_device(struct records *r, uint32_t tid, const struct tenant_device_info *i)
{
	IoasdState__Device x = IOASD_STATE__DEVICE__INIT;
	uint8_t key[RECORD_OBJECT_KEY];

	x.handle = i->handle;
	x.ioas = i->ioas;
	x.store_id = i->store_id;
	x.vendor = i->info.vendor;
	x.device = i->info.device;
	x.domain = i->info.domain;
	x.bus = i->info.bus;
	x.slot = i->info.slot;
	x.function = i->info.function;
	x.name = (char *)i->info.name;
	x.has_hwpt = i->hwpt != 0;
	x.hwpt = i->hwpt;
	x.has_dev_id = i->dev_id != 0;
	x.dev_id = i->dev_id;
	record_object_key(tid, RECORD_DEVICE, i->handle, key);
	return put_msg(r, DB_OBJECTS, key, sizeof(key), &x.base);
}

static int put_hwpt(struct records *r, uint32_t tid, const struct tenant_hwpt_info *i)
{
	IoasdState__Hwpt x = IOASD_STATE__HWPT__INIT;
	uint8_t key[RECORD_OBJECT_KEY];

	x.handle = i->handle;
	x.id = i->id;
	x.ioas = i->ioas;
	x.has_parent = i->parent != 0;
	x.parent = i->parent;
	x.device = i->device;
	x.flags = i->flags;
	x.data_type = i->data_type;
	x.has_data = i->data_len != 0;
	x.data.len = i->data_len;
	x.data.data = (uint8_t *)i->data;
	x.has_fault = i->fault != 0;
	x.fault = i->fault;
	x.has_viommu = i->viommu != 0;
	x.viommu = i->viommu;
	record_object_key(tid, RECORD_HWPT, i->handle, key);
	return put_msg(r, DB_OBJECTS, key, sizeof(key), &x.base);
}

static int put_fault(struct records *r, uint32_t tid, const struct tenant_fault_info *i)
{
	IoasdState__Fault x = IOASD_STATE__FAULT__INIT;
	uint8_t key[RECORD_OBJECT_KEY];

	x.handle = i->handle;
	x.id = i->id;
	record_object_key(tid, RECORD_FAULT, i->handle, key);
	return put_msg(r, DB_OBJECTS, key, sizeof(key), &x.base);
}

static int put_pasid(struct records *r, uint32_t tid, const struct tenant_pasid_info *i)
{
	IoasdState__Pasid x = IOASD_STATE__PASID__INIT;
	uint8_t key[RECORD_OBJECT_KEY];

	x.handle = i->handle;
	x.device = i->device;
	x.pasid = i->pasid;
	x.has_hwpt = i->hwpt != 0;
	x.hwpt = i->hwpt;
	x.has_ioas = i->ioas != 0;
	x.ioas = i->ioas;
	record_object_key(tid, RECORD_PASID, i->handle, key);
	return put_msg(r, DB_OBJECTS, key, sizeof(key), &x.base);
}

static int put_vobj(struct records *r, uint32_t tid, const struct tenant_vobj_info *i)
{
	IoasdState__Vobj x = IOASD_STATE__VOBJ__INIT;
	uint8_t key[RECORD_OBJECT_KEY];

	x.handle = i->handle;
	x.id = i->id;
	x.kind = i->kind;
	x.has_type = true;
	x.type = i->type;
	x.has_device = i->kind != TENANT_VEVENTQ;
	x.device = i->device;
	x.has_parent = i->parent != 0;
	x.parent = i->parent;
	x.has_viommu = i->viommu != 0;
	x.viommu = i->viommu;
	x.has_virt_id = i->kind == TENANT_VDEVICE;
	x.virt_id = i->virt_id;
	record_object_key(tid, RECORD_VOBJ, i->handle, key);
	return put_msg(r, DB_OBJECTS, key, sizeof(key), &x.base);
}

static int put_mapping(struct records *r, uint32_t tid, const struct tenant_mapping_info *i)
{
	struct record_mapping v = {
		.length = htole64(i->length),
		.mem_offset = htole64(i->mem_offset),
		.owner = htole32(tenant_journal_id(i->owner)),
		.memory = htole32(i->memory),
		.flags = htole32(i->flags),
		.import = htole32(i->import),
	};
	uint8_t key[RECORD_MAPPING_KEY];

	record_mapping_key(tid, i->ioas, i->ioas_gen, i->iova, key);
	return db_put(r->db, DB_MAPPINGS, key, sizeof(key), &v, sizeof(v));
}

static int del_object(struct records *r, uint32_t tid, enum record_kind kind,
		      uint32_t handle)
{
	uint8_t key[RECORD_OBJECT_KEY];

	record_object_key(tid, kind, handle, key);
	return db_del(r->db, DB_OBJECTS, key, sizeof(key));
}

/* ------------------------------------------------------------ garbage */

int records_add_garbage(struct records *r, const struct record_garbage *g)
{
	if (r->ngarbage == r->cap_garbage) {
		size_t cap = r->cap_garbage ? 2 * r->cap_garbage : 16;
		struct record_garbage *v = realloc(r->garbage, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		r->garbage = v;
		r->cap_garbage = cap;
	}
	r->garbage[r->ngarbage++] = *g;
	return 0;
}

static void garbage_tenant(struct records *r, uint32_t tid)
{
	struct record_garbage g = { .table = DB_OBJECTS, .plen = 4 };

	record_tenant_key(tid, g.prefix);
	if (records_add_garbage(r, &g) == 0) {
		g.table = DB_MAPPINGS;
		(void)records_add_garbage(r, &g);
	}
}

static void garbage_ioas(struct records *r, uint32_t tid, uint32_t handle,
			 uint32_t gen_below)
{
	struct record_garbage g = { .table = DB_MAPPINGS, .plen = 8, .gen_below = gen_below };
	uint32_t be = htobe32(handle);

	record_tenant_key(tid, g.prefix);
	memcpy(g.prefix + 4, &be, 4);
	(void)records_add_garbage(r, &g);
}

/* Mappings of a generation at or past the IOAS's are live. */
static bool keep_live(void *userdata, const void *key, size_t klen)
{
	const struct record_garbage *g = userdata;

	return klen == RECORD_MAPPING_KEY && record_u32((const uint8_t *)key + 8) >= g->gen_below;
}

long records_sweep(struct records *r, size_t max, bool *ret_more)
{
	long total = 0;

	*ret_more = false;
	while (r->ngarbage > 0 && (size_t)total < max) {
		struct record_garbage *g = &r->garbage[r->ngarbage - 1];
		bool more = false;
		long n = db_del_prefix(r->db, g->table, g->prefix, g->plen,
				       g->gen_below ? keep_live : NULL, g,
				       max - (size_t)total, &more);

		if (n < 0)
			return n;
		total += n;
		if (more) {
			*ret_more = true;
			return total;
		}
		r->ngarbage--;
	}
	*ret_more = r->ngarbage > 0;
	return total;
}

/* ------------------------------------------------------------ journal */

static int meta_u32(struct records *r, const char *name, uint32_t v)
{
	return db_put(r->db, DB_META, name, strlen(name), &v, sizeof(v));
}

int records_put_counter(struct records *r, const char *name, uint64_t v)
{
	return db_put(r->db, DB_META, name, strlen(name), &v, sizeof(v));
}

static int journal(struct records *r, const struct tenant_journal_event *ev)
{
	uint32_t tid = tenant_journal_id(ev->t);
	uint8_t key[RECORD_MAPPING_KEY];
	int ret;

	if (ev->kind == TENANT_JOURNAL_TENANT && !ev->gone && tid == 0) {
		if (r->restoring)
			return 0; /* the restore names it */
		if (r->next_tenant == 0)
			return -ENOSPC;
		tid = r->next_tenant++;
		tenant_set_journal_id(ev->t, tid);
		ret = meta_u32(r, RECORDS_NEXT_TENANT, r->next_tenant);
		if (ret < 0)
			return ret;
	}
	if (tid == 0)
		return 0; /* not in the database (a restore dropping it) */
	switch (ev->kind) {
	case TENANT_JOURNAL_TENANT:
		if (!ev->gone)
			return put_tenant(r, ev->t, tid);
		record_tenant_key(tid, key);
		garbage_tenant(r, tid);
		return db_del(r->db, DB_TENANTS, key, RECORD_TENANT_KEY);
	case TENANT_JOURNAL_IOAS:
		if (!ev->gone)
			return put_ioas(r, tid, &ev->u.ioas);
		garbage_ioas(r, tid, ev->u.ioas.handle, 0);
		return del_object(r, tid, RECORD_IOAS, ev->u.ioas.handle);
	case TENANT_JOURNAL_IOAS_EMPTIED:
		garbage_ioas(r, tid, ev->u.ioas.handle, ev->u.ioas.gen);
		return put_ioas(r, tid, &ev->u.ioas);
	case TENANT_JOURNAL_MEMORY:
		return ev->gone ? del_object(r, tid, RECORD_MEMORY, ev->u.memory.handle)
				: put_memory(r, tid, &ev->u.memory);
	case TENANT_JOURNAL_SHARE:
		return ev->gone ? del_object(r, tid, RECORD_SHARE, ev->u.share.share)
				: put_share(r, tid, &ev->u.share);
	case TENANT_JOURNAL_IMPORT:
		return ev->gone ? del_object(r, tid, RECORD_IMPORT, ev->u.import.import)
				: put_import(r, tid, &ev->u.import);
	case TENANT_JOURNAL_DEVICE:
		return ev->gone ? del_object(r, tid, RECORD_DEVICE, ev->u.device.handle)
				: put_device(r, tid, &ev->u.device);
	case TENANT_JOURNAL_HWPT:
		return ev->gone ? del_object(r, tid, RECORD_HWPT, ev->u.hwpt.handle)
				: put_hwpt(r, tid, &ev->u.hwpt);
	case TENANT_JOURNAL_FAULT:
		return ev->gone ? del_object(r, tid, RECORD_FAULT, ev->u.fault.handle)
				: put_fault(r, tid, &ev->u.fault);
	case TENANT_JOURNAL_PASID:
		return ev->gone ? del_object(r, tid, RECORD_PASID, ev->u.pasid.handle)
				: put_pasid(r, tid, &ev->u.pasid);
	case TENANT_JOURNAL_VOBJ:
		return ev->gone ? del_object(r, tid, RECORD_VOBJ, ev->u.vobj.handle)
				: put_vobj(r, tid, &ev->u.vobj);
	case TENANT_JOURNAL_MAPPING:
		if (!ev->gone)
			return put_mapping(r, tid, &ev->u.mapping);
		record_mapping_key(tid, ev->u.mapping.ioas, ev->u.mapping.ioas_gen,
				   ev->u.mapping.iova, key);
		return db_del(r->db, DB_MAPPINGS, key, RECORD_MAPPING_KEY);
	}
	return 0;
}

void records_journal(void *userdata, const struct tenant_journal_event *ev)
{
	struct records *r = userdata;
	int ret = journal(r, ev);

	if (ret < 0 && !r->error)
		r->error = ret;
}

/* ------------------------------------------------------------ everything */

int records_put_meta(struct records *r, const char *backend, uint64_t next_store_id,
		     uint64_t next_conn_serial)
{
	int ret = meta_u32(r, RECORDS_META_LAYOUT, RECORDS_LAYOUT);

	if (ret == 0)
		ret = db_put(r->db, DB_META, RECORDS_META_BACKEND, strlen(RECORDS_META_BACKEND), backend,
			     strlen(backend));
	if (ret == 0)
		ret = records_put_counter(r, RECORDS_NEXT_STORE_ID, next_store_id);
	if (ret == 0)
		ret = records_put_counter(r, RECORDS_NEXT_CONN_SERIAL, next_conn_serial);
	if (ret == 0)
		ret = meta_u32(r, RECORDS_NEXT_TENANT, r->next_tenant);
	return ret;
}

struct dump {
	struct records *r;
	uint32_t tid;
};

static int dump_ioas(void *ud, const struct tenant_ioas_info *i)
{
	struct dump *d = ud;

	return put_ioas(d->r, d->tid, i);
}

static int dump_memory(void *ud, const struct tenant_memory_info *i)
{
	struct dump *d = ud;

	return put_memory(d->r, d->tid, i);
}

static int dump_mapping(void *ud, const struct tenant_mapping_info *i)
{
	struct dump *d = ud;

	return put_mapping(d->r, d->tid, i);
}

static int dump_device(void *ud, const struct tenant_device_info *i)
{
	struct dump *d = ud;

	return put_device(d->r, d->tid, i);
}

static int dump_hwpt(void *ud, const struct tenant_hwpt_info *i)
{
	struct dump *d = ud;

	return put_hwpt(d->r, d->tid, i);
}

static int dump_fault(void *ud, const struct tenant_fault_info *i)
{
	struct dump *d = ud;

	return put_fault(d->r, d->tid, i);
}

static int dump_pasid(void *ud, const struct tenant_pasid_info *i)
{
	struct dump *d = ud;

	return put_pasid(d->r, d->tid, i);
}

static int dump_vobj(void *ud, const struct tenant_vobj_info *i)
{
	struct dump *d = ud;

	return put_vobj(d->r, d->tid, i);
}

static const struct tenant_dump_ops dump_ops = {
	.ioas = dump_ioas, .memory = dump_memory, .mapping = dump_mapping,
	.device = dump_device, .hwpt = dump_hwpt, .fault = dump_fault,
	.pasid = dump_pasid, .vobj = dump_vobj,
};

int records_write_all(struct records *r, struct tenants *ts, const char *backend,
		      uint64_t next_store_id, uint64_t next_conn_serial)
{
	struct tenant *t;
	int ret = db_clear(r->db);

	r->ngarbage = 0;
	r->next_tenant = 1;
	/* Every tenant is numbered first: mappings name their memory's owner. */
	for (t = tenant_next(ts, NULL); t && ret == 0; t = tenant_next(ts, t)) {
		tenant_set_journal_id(t, r->next_tenant++);
		ret = put_tenant(r, t, tenant_journal_id(t));
	}
	for (t = tenant_next(ts, NULL); t && ret == 0; t = tenant_next(ts, t)) {
		struct dump d = { .r = r, .tid = tenant_journal_id(t) };
		const struct tenant_share *sh = NULL;
		const struct tenant_import *imp = NULL;
		struct tenant_share_info si;
		struct tenant_import_info ii;

		ret = tenant_dump(t, &dump_ops, &d);
		while (ret == 0 && (sh = tenant_share_next(t, sh, &si)))
			ret = put_share(r, d.tid, &si);
		while (ret == 0 && (imp = tenant_import_next(t, imp, &ii)))
			ret = put_import(r, d.tid, &ii);
	}
	if (ret == 0)
		ret = records_put_meta(r, backend, next_store_id, next_conn_serial);
	return ret;
}
