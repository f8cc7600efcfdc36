/* SPDX-License-Identifier: MIT */
/* Reading the restart state's database back (see load.h). */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "persist/load.h"
#include "persist/state-check.h"

#define BAD(e, ...) err_set((e), EBADMSG, __VA_ARGS__)

/* Growable arrays of message pointers, freed with the message tree. */
#define APPEND(arr, n, item)                                                \
	({                                                                  \
		__typeof__(arr) _nv = realloc(arr, ((n) + 1) * sizeof(*(arr))); \
		int _r = -ENOMEM;                                           \
		if (_nv) {                                                  \
			(arr) = _nv;                                        \
			(arr)[(n)++] = (item);                              \
			_r = 0;                                             \
		}                                                           \
		_r;                                                         \
	})

static int meta_get(struct load *ld, const char *name, void *ret, size_t size,
		    struct err *e)
{
	const void *v;
	size_t len;
	int r = db_get(ld->rec->db, DB_META, name, strlen(name), &v, &len);

	if (r == -ENOENT)
		return BAD(e, "meta record \"%s\" is missing", name);
	if (r < 0)
		return err_errno(e, r, "reading meta record \"%s\"", name);
	if (len != size)
		return BAD(e, "meta record \"%s\" has %zu bytes, not %zu", name, len, size);
	memcpy(ret, v, size);
	return 0;
}

/* ------------------------------------------------------------ tenants */

struct walk {
	struct load *ld;
	struct err *e;
};

static int tenant_rec(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct walk *w = ud;
	struct load *ld = w->ld;
	IoasdState__State *m = ld->m;
	IoasdState__Tenant *x;
	uint32_t tid;
	uint32_t *tids;

	if (klen != RECORD_TENANT_KEY)
		return BAD(w->e, "a tenant record has a key of %zu bytes", klen);
	tid = record_u32(key);
	x = ioasd_state__tenant__unpack(NULL, vlen, val);
	if (!x)
		return BAD(w->e, "tenant record %" PRIu32 " does not decode", tid);
	if (x->n_ioases || x->n_memories || x->n_shares || x->n_imports ||
	    x->n_mappings || x->n_devices) {
		ioasd_state__tenant__free_unpacked(x, NULL);
		return BAD(w->e, "tenant record %" PRIu32 " holds objects of its own", tid);
	}
	if (tid == 0 || tid >= ld->rec->next_tenant) {
		ioasd_state__tenant__free_unpacked(x, NULL);
		return BAD(w->e, "tenant record %" PRIu32 ": the id is 0 or not below the "
			   "next one (%" PRIu32 ")", tid, ld->rec->next_tenant);
	}
	tids = realloc(ld->tids, (m->n_tenants + 1) * sizeof(*tids));
	if (tids)
		ld->tids = tids;
	if (!tids || APPEND(m->tenants, m->n_tenants, x) < 0) {
		ioasd_state__tenant__free_unpacked(x, NULL);
		return err_set(w->e, ENOMEM, "out of memory reading the state");
	}
	ld->tids[m->n_tenants - 1] = tid;
	return 0;
}

/* Index of tenant id tid in the skeleton, or -1. */
static long tenant_index(const struct load *ld, uint32_t tid)
{
	size_t lo = 0, hi = ld->m->n_tenants;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ld->tids[mid] == tid)
			return (long)mid;
		if (ld->tids[mid] < tid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static void skip(struct load *ld, enum db_table table, const uint8_t *prefix, size_t plen,
		 uint32_t gen_below)
{
	struct record_garbage g = { .table = table, .plen = plen, .gen_below = gen_below };
	struct records *r = ld->rec;

	ld->skipped++;
	memcpy(g.prefix, prefix, plen);
	/* One entry per prefix: records come in key order. */
	if (r->ngarbage) {
		struct record_garbage *last = &r->garbage[r->ngarbage - 1];

		if (last->table == table && last->plen == plen &&
		    !memcmp(last->prefix, prefix, plen) && last->gen_below == gen_below)
			return;
	}
	(void)records_add_garbage(r, &g);
}

/* ------------------------------------------------------------ objects */

#define UNPACK_INTO(type, fn, arr, n)                                              \
	({                                                                         \
		type *_y = fn(NULL, vlen, val);                                    \
		int _u = -EBADMSG;                                                 \
		if (_y) {                                                          \
			_u = APPEND(arr, n, _y);                                   \
			if (_u < 0)                                                \
				protobuf_c_message_free_unpacked(&_y->base, NULL); \
			else if (_y->handle != handle)                             \
				_u = -EPROTO;                                      \
		}                                                                  \
		_u;                                                                \
	})

static int object_rec(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct walk *w = ud;
	struct load *ld = w->ld;
	const uint8_t *k = key;
	IoasdState__Tenant *x;
	uint32_t tid, handle;
	const char *what;
	long i;
	int r;

	if (klen != RECORD_OBJECT_KEY)
		return BAD(w->e, "an object record has a key of %zu bytes", klen);
	tid = record_u32(k);
	handle = record_u32(k + 5);
	i = tenant_index(ld, tid);
	if (i < 0) {
		skip(ld, DB_OBJECTS, k, 4, 0); /* its tenant is gone */
		return 0;
	}
	x = ld->m->tenants[i];
	switch (k[4]) {
	case RECORD_IOAS:
		what = "IOAS";
		r = UNPACK_INTO(IoasdState__Ioas, ioasd_state__ioas__unpack, x->ioases, x->n_ioases);
		break;
	case RECORD_MEMORY:
		what = "memory";
		r = UNPACK_INTO(IoasdState__Memory, ioasd_state__memory__unpack, x->memories,
				x->n_memories);
		break;
	case RECORD_SHARE:
		what = "share";
		r = UNPACK_INTO(IoasdState__Share, ioasd_state__share__unpack, x->shares,
				x->n_shares);
		break;
	case RECORD_IMPORT:
		what = "import";
		r = UNPACK_INTO(IoasdState__Import, ioasd_state__import__unpack, x->imports,
				x->n_imports);
		break;
	case RECORD_DEVICE:
		what = "device";
		r = UNPACK_INTO(IoasdState__Device, ioasd_state__device__unpack, x->devices,
				x->n_devices);
		break;
	case RECORD_HWPT:
		what = "HWPT";
		r = UNPACK_INTO(IoasdState__Hwpt, ioasd_state__hwpt__unpack, x->hwpts,
				x->n_hwpts);
		break;
	case RECORD_FAULT:
		what = "fault queue";
		r = UNPACK_INTO(IoasdState__Fault, ioasd_state__fault__unpack, x->faults,
				x->n_faults);
		break;
	case RECORD_PASID:
		what = "PASID";
		r = UNPACK_INTO(IoasdState__Pasid, ioasd_state__pasid__unpack, x->pasids,
				x->n_pasids);
		break;
	case RECORD_VOBJ:
		what = "vIOMMU object";
		r = UNPACK_INTO(IoasdState__Vobj, ioasd_state__vobj__unpack, x->vobjs,
				x->n_vobjs);
		break;
	default:
		return BAD(w->e, "tenant %s: an object record of unknown kind 0x%02x",
			   x->name, k[4]);
	}
	if (r == -ENOMEM)
		return err_set(w->e, ENOMEM, "out of memory reading the state");
	if (r == -EPROTO)
		return BAD(w->e, "tenant %s, %s %" PRIu32 ": the record names another handle",
			   x->name, what, handle);
	if (r < 0)
		return BAD(w->e, "tenant %s, %s %" PRIu32 ": the record does not decode",
			   x->name, what, handle);
	return 0;
}

int load_skeleton(struct load *ld, struct err *e)
{
	struct walk w = { .ld = ld, .e = e };
	uint32_t layout, next_tenant;
	const void *v;
	size_t len;
	int r;

	r = db_get(ld->rec->db, DB_META, RECORDS_META_LAYOUT, strlen(RECORDS_META_LAYOUT), &v, &len);
	if (r == -ENOENT)
		return -ENOENT; /* nothing written yet */
	r = meta_get(ld, RECORDS_META_LAYOUT, &layout, sizeof(layout), e);
	if (r < 0)
		return r;
	if (layout != RECORDS_LAYOUT)
		return BAD(e, "record layout %" PRIu32 ", this daemon reads %u", layout,
			   RECORDS_LAYOUT);
	if ((r = meta_get(ld, RECORDS_NEXT_STORE_ID, &ld->next_store_id, 8, e)) < 0 ||
	    (r = meta_get(ld, RECORDS_NEXT_CONN_SERIAL, &ld->next_conn_serial, 8, e)) < 0 ||
	    (r = meta_get(ld, RECORDS_NEXT_TENANT, &next_tenant, 4, e)) < 0)
		return r;
	ld->rec->next_tenant = next_tenant;
	ld->m = calloc(1, sizeof(*ld->m));
	if (!ld->m)
		return err_set(e, ENOMEM, "out of memory reading the state");
	ioasd_state__state__init(ld->m);
	ld->m->version = STATE_VERSION;
	ld->m->next_store_id = ld->next_store_id;
	ld->m->next_conn_serial = ld->next_conn_serial;
	r = db_get(ld->rec->db, DB_META, RECORDS_META_BACKEND, strlen(RECORDS_META_BACKEND), &v,
		   &len);
	if (r < 0)
		return BAD(e, "meta record \"backend\" is missing");
	ld->m->backend = strndup(v, len > 16 ? 16 : len);
	if (!ld->m->backend)
		return err_set(e, ENOMEM, "out of memory reading the state");
	r = db_walk(ld->rec->db, DB_TENANTS, NULL, 0, tenant_rec, &w);
	if (r == 0)
		r = db_walk(ld->rec->db, DB_OBJECTS, NULL, 0, object_rec, &w);
	if (r == 0)
		r = state_check_skeleton(ld->m, e);
	else if (!e->errnum)
		r = err_errno(e, r, "reading the state database");
	return r;
}

/* ------------------------------------------------------------ mappings */

/* Records of one kind come in handle order: a binary search finds one. */
#define FIND(arr, n, h)                                                     \
	({                                                                  \
		size_t _lo = 0, _hi = (n);                                  \
		__typeof__(*(arr)) _f = NULL;                               \
		while (_lo < _hi) {                                         \
			size_t _mid = _lo + (_hi - _lo) / 2;                \
			if ((arr)[_mid]->handle == (h)) {                   \
				_f = (arr)[_mid];                           \
				break;                                      \
			}                                                   \
			if ((arr)[_mid]->handle < (h))                      \
				_lo = _mid + 1;                             \
			else                                                \
				_hi = _mid;                                 \
		}                                                           \
		_f;                                                         \
	})

struct mwalk {
	struct load *ld;
	restore_mapping_fn fn;
	void *fnud;
	struct err *e;
};

static int queue_drop(struct load *ld, const void *key)
{
	if (ld->ndrop == ld->cap_drop) {
		size_t cap = ld->cap_drop ? 2 * ld->cap_drop : 64;
		void *v = realloc(ld->drop, cap * RECORD_MAPPING_KEY);

		if (!v)
			return -ENOMEM;
		ld->drop = v;
		ld->cap_drop = cap;
	}
	memcpy(ld->drop[ld->ndrop++], key, RECORD_MAPPING_KEY);
	return 0;
}

static int mapping_rec(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct mwalk *w = ud;
	struct load *ld = w->ld;
	const uint8_t *k = key;
	struct record_mapping v;
	const IoasdState__Ioas *io;
	const IoasdState__Memory *mem;
	IoasdState__Tenant *x, *ox;
	uint32_t gen, ioas_gen;
	uint64_t end;
	long i, oi;
	int r;

	if (klen != RECORD_MAPPING_KEY)
		return BAD(w->e, "a mapping record has a key of %zu bytes", klen);
	i = tenant_index(ld, record_u32(k));
	if (i < 0) {
		skip(ld, DB_MAPPINGS, k, 4, 0);
		return 0;
	}
	x = ld->m->tenants[i];
	io = FIND(x->ioases, x->n_ioases, record_u32(k + 4));
	gen = record_u32(k + 8);
	ioas_gen = io && io->has_gen ? io->gen : 0;
	if (!io || gen < ioas_gen) {
		/* Its IOAS was destroyed, or emptied since. */
		skip(ld, DB_MAPPINGS, k, 8, io ? ioas_gen : 0);
		return 0;
	}
	struct tenant_mapping_info mi = {
		.ioas = io->handle, .iova = record_u64(k + 12), .ioas_gen = gen,
	};
	if (gen > ioas_gen)
		return BAD(w->e, "tenant %s, mapping at 0x%" PRIx64 " of IOAS %" PRIu32
			   ": generation %" PRIu32 " is ahead of the IOAS's (%" PRIu32 ")",
			   x->name, mi.iova, io->handle, gen, ioas_gen);
	if (vlen != sizeof(v))
		return BAD(w->e, "tenant %s, mapping at 0x%" PRIx64 " of IOAS %" PRIu32
			   ": %zu bytes, not %zu", x->name, mi.iova, io->handle, vlen, sizeof(v));
	memcpy(&v, val, sizeof(v));
	mi.length = le64toh(v.length);
	mi.mem_offset = le64toh(v.mem_offset);
	mi.memory = le32toh(v.memory);
	mi.flags = le32toh(v.flags);
	mi.import = le32toh(v.import);
	oi = tenant_index(ld, le32toh(v.owner));
	if (oi < 0)
		return BAD(w->e, "tenant %s, mapping at 0x%" PRIx64 ": the owner of its "
			   "memory (tenant id %" PRIu32 ") is not in the state", x->name,
			   mi.iova, le32toh(v.owner));
	ox = ld->m->tenants[oi];
	mi.mem_owner = ox->name;
	mem = FIND(ox->memories, ox->n_memories, mi.memory);
	if (!mem)
		return BAD(w->e, "tenant %s, mapping at 0x%" PRIx64 ": no memory %" PRIu32
			   " of tenant %s", x->name, mi.iova, mi.memory, ox->name);
	if (mi.length == 0 || add_overflow(mi.mem_offset, mi.length, &end) ||
	    end > mem->length || add_overflow(mi.iova, mi.length - 1, &end))
		return BAD(w->e, "tenant %s, mapping at 0x%" PRIx64 " of IOAS %" PRIu32
			   ": outside its memory or the IOVA space", x->name, mi.iova,
			   io->handle);
	if (oi != i && !mi.import)
		return BAD(w->e, "tenant %s, mapping at 0x%" PRIx64 ": maps tenant %s's "
			   "memory outside an import", x->name, mi.iova, ox->name);
	if (mi.import) {
		const IoasdState__Import *imp = FIND(x->imports, x->n_imports, mi.import);

		if (!imp)
			return BAD(w->e, "tenant %s, mapping at 0x%" PRIx64 ": no import %" PRIu32,
				   x->name, mi.iova, mi.import);
		/* A piece maps its exporter's memory, and nobody else's:
		 * revoking the share is what takes it away. */
		if (strcmp(imp->exporter, ox->name) != 0)
			return BAD(w->e, "tenant %s, mapping at 0x%" PRIx64 ": a piece of import "
				   "%" PRIu32 " (from tenant %s) maps tenant %s's memory",
				   x->name, mi.iova, mi.import, imp->exporter, ox->name);
	}
	r = w->fn(w->fnud, (size_t)i, &mi, w->e);
	if (r == 1 && queue_drop(ld, key) < 0)
		return err_set(w->e, ENOMEM, "out of memory reading the state");
	return r < 0 ? r : 0;
}

static int walk_db(void *userdata, restore_mapping_fn fn, void *fnud, struct err *e)
{
	struct mwalk w = { .ld = userdata, .fn = fn, .fnud = fnud, .e = e };
	int r = db_walk(w.ld->rec->db, DB_MAPPINGS, NULL, 0, mapping_rec, &w);

	if (r < 0 && !e->errnum)
		return err_errno(e, r, "reading the mappings");
	return r;
}

void load_mappings(struct load *ld, struct restore_mappings *ret)
{
	ret->walk = walk_db;
	ret->userdata = ld;
}

int load_finish(struct load *ld)
{
	for (size_t i = 0; i < ld->ndrop; i++) {
		int r = db_del(ld->rec->db, DB_MAPPINGS, ld->drop[i], RECORD_MAPPING_KEY);

		if (r < 0)
			return r;
	}
	ld->ndrop = 0;
	return 0;
}

void load_made(void *userdata, size_t index, struct tenant *t)
{
	struct load *ld = userdata;

	tenant_set_journal_id(t, ld->tids[index]);
}

void load_free(struct load *ld)
{
	if (ld->m)
		ioasd_state__state__free_unpacked(ld->m, NULL);
	ld->m = NULL;
	free(ld->tids);
	ld->tids = NULL;
	free(ld->drop);
	ld->drop = NULL;
	ld->ndrop = ld->cap_drop = 0;
}

/* ------------------------------------------------------------ export */

static int export_one(void *fnud, size_t i, const struct tenant_mapping_info *mi,
		      struct err *e)
{
	IoasdState__State *m = fnud;
	IoasdState__Tenant *x = m->tenants[i];
	IoasdState__Mapping *y = malloc(sizeof(*y));

	if (!y)
		return err_set(e, ENOMEM, "out of memory");
	ioasd_state__mapping__init(y);
	y->ioas = mi->ioas;
	y->iova = mi->iova;
	y->length = mi->length;
	y->mem_owner = strdup(mi->mem_owner);
	y->memory = mi->memory;
	y->mem_offset = mi->mem_offset;
	y->flags = mi->flags;
	y->has_import = mi->import != 0;
	y->import = mi->import;
	if (!y->mem_owner || APPEND(x->mappings, x->n_mappings, y) < 0) {
		free(y->mem_owner);
		free(y);
		return err_set(e, ENOMEM, "out of memory");
	}
	return 0;
}

int load_export(struct load *ld, IoasdState__State **ret, struct err *e)
{
	struct restore_mappings src;
	int r = load_skeleton(ld, e);

	if (r < 0)
		return r;
	load_mappings(ld, &src);
	r = src.walk(src.userdata, export_one, ld->m, e);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(ld->m);
	return 0;
}
