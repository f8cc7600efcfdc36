/* SPDX-License-Identifier: MIT */
/* Validation of a restart state before it is restored (see the header). */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommu/backend.h"
#include "persist/state-check.h"
#include "tenant/tenant.h"

/* One tenant of the state, its records sorted for lookups. */
struct vtenant {
	const IoasdState__Tenant *x;
	IoasdState__Ioas **ioases;    /* by handle */
	IoasdState__Memory **mems;    /* by handle */
	IoasdState__Share **shares;   /* by handle */
	IoasdState__Import **imports; /* by handle */
	uint64_t *covered;            /* per import (same order): bytes its pieces cover */
	IoasdState__Mapping **maps;   /* by IOAS, then IOVA */
	IoasdState__Device **devices; /* by handle */
	IoasdState__Hwpt **hwpts;     /* by handle */
	IoasdState__Vobj **vobjs;     /* by handle */
};

struct check {
	const IoasdState__State *m;
	struct vtenant *vt; /* by name */
	size_t n;
	struct err *e;
};

#define BAD(e, ...) err_set((e), EBADMSG, __VA_ARGS__)

#define HANDLE_CMP(name, type)                                               \
	static int name(const void *a, const void *b)                        \
	{                                                                    \
		const type *x = *(const type *const *)a;                     \
		const type *y = *(const type *const *)b;                     \
		return x->handle < y->handle ? -1 : x->handle > y->handle;   \
	}
HANDLE_CMP(ioas_cmp, IoasdState__Ioas)
HANDLE_CMP(mem_cmp, IoasdState__Memory)
HANDLE_CMP(share_cmp, IoasdState__Share)
HANDLE_CMP(import_cmp, IoasdState__Import)
HANDLE_CMP(device_cmp, IoasdState__Device)
HANDLE_CMP(hwpt_cmp, IoasdState__Hwpt)
HANDLE_CMP(vobj_cmp, IoasdState__Vobj)

/* The record with that handle in a sorted array, or NULL. */
#define FIND(arr, n, type, cmp, h)                                           \
	({                                                                   \
		type _k = { .handle = (h) };                                 \
		const type *_kp = &_k;                                       \
		type **_r = (n) ? bsearch(&_kp, (arr), (n), sizeof(*(arr)), cmp) : NULL; \
		_r ? *_r : NULL;                                             \
	})

static int map_cmp(const void *a, const void *b)
{
	const IoasdState__Mapping *x = *(const IoasdState__Mapping *const *)a;
	const IoasdState__Mapping *y = *(const IoasdState__Mapping *const *)b;

	if (x->ioas != y->ioas)
		return x->ioas < y->ioas ? -1 : 1;
	return x->iova < y->iova ? -1 : x->iova > y->iova;
}

static int vt_cmp(const void *a, const void *b)
{
	return strcmp(((const struct vtenant *)a)->x->name,
		      ((const struct vtenant *)b)->x->name);
}

/* A sorted copy of an array of n pointers (NULL only when out of memory). */
static void *sorted(void *const *v, size_t n, int (*cmp)(const void *, const void *))
{
	void **c = malloc((n ? n : 1) * sizeof(*c));

	if (c && n) {
		memcpy(c, v, n * sizeof(*c));
		qsort(c, n, sizeof(*c), cmp);
	}
	return c;
}

bool state_check_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > STATE_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("_.@-", *s)))
			return false;
	return true;
}

static bool valid_token(const char *s)
{
	size_t n = strlen(s);

	if (n != TENANT_SHARE_TOKEN_LEN)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

/* A name from the state as it may be printed. */
static const char *shown(const char *name)
{
	return state_check_name(name) ? name : "(not a tenant name)";
}

/* [start, +length) is not empty and does not run past 2^64. */
static bool range_ok(uint64_t start, uint64_t length)
{
	uint64_t last;

	return length != 0 && !add_overflow(start, length - 1, &last);
}

static struct vtenant *find_tenant(const struct check *c, const char *name)
{
	IoasdState__Tenant key = { .name = (char *)name };
	struct vtenant k = { .x = &key };

	return c->n ? bsearch(&k, c->vt, c->n, sizeof(*c->vt), vt_cmp) : NULL;
}

/* The mapping of IOAS ioas that contains addr, or NULL. */
static const IoasdState__Mapping *map_at(const struct vtenant *v, uint32_t ioas,
					 uint64_t addr)
{
	size_t lo = 0, hi = v->x->n_mappings;
	const IoasdState__Mapping *m;

	/* The last mapping at or before (ioas, addr). */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		m = v->maps[mid];
		if (m->ioas < ioas || (m->ioas == ioas && m->iova <= addr))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	m = v->maps[lo - 1];
	return m->ioas == ioas && addr - m->iova < m->length ? m : NULL;
}

static void vtenant_free(struct vtenant *v)
{
	free(v->ioases);
	free(v->mems);
	free(v->shares);
	free(v->imports);
	free(v->covered);
	free(v->maps);
	free(v->devices);
	free(v->hwpts);
	free(v->vobjs);
}

/* Sort v's records; unique non-zero handles, counters past them. */
static int index_tenant(struct vtenant *v, struct err *e)
{
	const IoasdState__Tenant *x = v->x;
	const char *tn = x->name;

	v->ioases = sorted((void *const *)x->ioases, x->n_ioases, ioas_cmp);
	v->mems = sorted((void *const *)x->memories, x->n_memories, mem_cmp);
	v->shares = sorted((void *const *)x->shares, x->n_shares, share_cmp);
	v->imports = sorted((void *const *)x->imports, x->n_imports, import_cmp);
	v->covered = calloc(x->n_imports ? x->n_imports : 1, sizeof(*v->covered));
	v->maps = sorted((void *const *)x->mappings, x->n_mappings, map_cmp);
	v->devices = sorted((void *const *)x->devices, x->n_devices, device_cmp);
	v->hwpts = sorted((void *const *)x->hwpts, x->n_hwpts, hwpt_cmp);
	v->vobjs = sorted((void *const *)x->vobjs, x->n_vobjs, vobj_cmp);
	if (!v->ioases || !v->mems || !v->shares || !v->imports || !v->covered ||
	    !v->maps || !v->devices || !v->hwpts || !v->vobjs)
		return err_set(e, ENOMEM, "out of memory checking the state");

#define UNIQUE(arr, n, what, next, has_next)                                        \
	for (size_t i = 0; i < (n); i++) {                                          \
		uint32_t h = (arr)[i]->handle;                                      \
		if (h == 0)                                                         \
			return BAD(e, "tenant %s: %s handle 0", tn, what);          \
		if (i > 0 && (arr)[i - 1]->handle == h)                             \
			return BAD(e, "tenant %s: %s handle %" PRIu32 " twice", tn, \
				   what, h);                                        \
		if ((has_next) && (next) != 0 && (next) <= h)                      \
			return BAD(e, "tenant %s: next %s handle %" PRIu32          \
				   " is not past %s %" PRIu32, tn, what, (next),    \
				   what, h);                                        \
	}
	UNIQUE(v->ioases, x->n_ioases, "IOAS", x->next_ioas, true)
	UNIQUE(v->mems, x->n_memories, "memory", x->next_memory, true)
	UNIQUE(v->shares, x->n_shares, "share", x->next_share, true)
	UNIQUE(v->imports, x->n_imports, "import", x->next_import, true)
	UNIQUE(v->devices, x->n_devices, "device", x->next_device, x->has_next_device)
	UNIQUE(v->hwpts, x->n_hwpts, "HWPT", x->next_hwpt, x->has_next_hwpt)
	UNIQUE(v->vobjs, x->n_vobjs, "vIOMMU object", x->next_vobj, x->has_next_vobj)
#undef UNIQUE
	return 0;
}

/* vIOMMU objects: a vIOMMU on a paging HWPT of the tenant's (not one made
 * from a vIOMMU, so no cycle), a vDEVICE or vEVENTQ in an older vIOMMU, an
 * HWPT made from a vIOMMU on that vIOMMU's IOAS. */
static int check_vobjs(const struct vtenant *v, struct err *e)
{
	const IoasdState__Tenant *x = v->x;
	const char *tn = x->name;
	static const char *const kinds[] = { "vIOMMU", "vDEVICE", "vEVENTQ" };

	if (x->n_vobjs && !(x->has_own_context && x->own_context))
		return BAD(e, "tenant %s: vIOMMU objects without a context of its own", tn);
	for (size_t i = 0; i < x->n_vobjs; i++) {
		const IoasdState__Vobj *y = x->vobjs[i];
		const IoasdState__Hwpt *p;
		const IoasdState__Vobj *vi;

		if (y->kind > 2)
			return BAD(e, "tenant %s, vIOMMU object %" PRIu32 ": unknown kind %"
				   PRIu32, tn, y->handle, y->kind);
		if (y->id == 0)
			return BAD(e, "tenant %s, %s %" PRIu32 ": object id 0", tn,
				   kinds[y->kind], y->handle);
		if (y->kind == 0) {
			p = y->has_parent ? FIND(v->hwpts, x->n_hwpts, IoasdState__Hwpt,
						 hwpt_cmp, y->parent) : NULL;
			if (!p || p->has_parent || (p->has_viommu && p->viommu) ||
			    (y->has_viommu && y->viommu))
				return BAD(e, "tenant %s, vIOMMU %" PRIu32 ": parent HWPT %"
					   PRIu32 " is not a paging HWPT of the tenant's", tn,
					   y->handle, y->has_parent ? y->parent : 0);
			continue;
		}
		vi = y->has_viommu ? FIND(v->vobjs, x->n_vobjs, IoasdState__Vobj, vobj_cmp,
					  y->viommu) : NULL;
		if (!vi || vi->kind != 0 || vi->handle >= y->handle || y->has_parent)
			return BAD(e, "tenant %s, %s %" PRIu32 ": vIOMMU %" PRIu32 " is not an "
				   "older vIOMMU of the tenant's", tn, kinds[y->kind], y->handle,
				   y->has_viommu ? y->viommu : 0);
	}
	for (size_t i = 0; i < x->n_hwpts; i++) {
		const IoasdState__Hwpt *y = x->hwpts[i];
		const IoasdState__Vobj *vi;
		const IoasdState__Hwpt *p;

		if (!y->has_viommu || !y->viommu)
			continue;
		vi = FIND(v->vobjs, x->n_vobjs, IoasdState__Vobj, vobj_cmp, y->viommu);
		p = vi && vi->kind == 0 ? FIND(v->hwpts, x->n_hwpts, IoasdState__Hwpt,
					       hwpt_cmp, vi->parent) : NULL;
		if (!p || p->ioas != y->ioas)
			return BAD(e, "tenant %s, HWPT %" PRIu32 ": no vIOMMU %" PRIu32
				   " on its IOAS %" PRIu32, tn, y->handle, y->viommu, y->ioas);
	}
	return 0;
}

/* Each record of v on its own, and its references. */
static int check_records(const struct check *c, const struct vtenant *v)
{
	const IoasdState__Tenant *x = v->x;
	const char *tn = x->name;
	struct err *e = c->e;

	for (size_t i = 0; i < x->n_ioases; i++) {
		if (x->ioases[i]->id == 0)
			return BAD(e, "tenant %s, IOAS %" PRIu32 ": object id 0", tn,
				   x->ioases[i]->handle);
		for (size_t k = 0; k < x->ioases[i]->n_own_allowed; k++)
			if (x->ioases[i]->own_allowed[k]->start >= x->ioases[i]->own_allowed[k]->last)
				return BAD(e, "tenant %s, IOAS %" PRIu32 ": allowed range %zu is "
					   "empty or reversed", tn, x->ioases[i]->handle, k);
	}
	for (size_t i = 0; i < x->n_memories; i++) {
		const IoasdState__Memory *y = x->memories[i];

		if (!range_ok(y->offset, y->length))
			return BAD(e, "tenant %s, memory %" PRIu32 ": empty or overflowing "
				   "range [0x%" PRIx64 ", +0x%" PRIx64 ")", tn, y->handle,
				   y->offset, y->length);
	}
	for (size_t i = 0; i < x->n_shares; i++) {
		const IoasdState__Share *y = x->shares[i];

		if (!FIND(v->ioases, x->n_ioases, IoasdState__Ioas, ioas_cmp, y->ioas))
			return BAD(e, "tenant %s, share %" PRIu32 ": no IOAS %" PRIu32, tn,
				   y->handle, y->ioas);
		if (!range_ok(y->iova, y->length))
			return BAD(e, "tenant %s, share %" PRIu32 ": empty or overflowing range",
				   tn, y->handle);
		if (!valid_token(y->token))
			return BAD(e, "tenant %s, share %" PRIu32 ": its token is not %u "
				   "lower-case hex digits", tn, y->handle, TENANT_SHARE_TOKEN_LEN);
	}
	for (size_t i = 0; i < x->n_imports; i++) {
		const IoasdState__Import *y = x->imports[i];
		const struct vtenant *xv = find_tenant(c, y->exporter);
		const IoasdState__Share *s = NULL;
		uint64_t end;

		if (xv)
			s = FIND(xv->shares, xv->x->n_shares, IoasdState__Share, share_cmp,
				 y->share);
		if (!s)
			return BAD(e, "tenant %s, import %" PRIu32 ": no exporter %s with a "
				   "share %" PRIu32, tn, y->handle, shown(y->exporter), y->share);
		if (!FIND(v->ioases, x->n_ioases, IoasdState__Ioas, ioas_cmp, y->ioas))
			return BAD(e, "tenant %s, import %" PRIu32 ": no IOAS %" PRIu32, tn,
				   y->handle, y->ioas);
		if (!range_ok(y->iova, y->length) || add_overflow(y->offset, y->length, &end) ||
		    end > s->length)
			return BAD(e, "tenant %s, import %" PRIu32 ": [+0x%" PRIx64 ", +0x%" PRIx64
				   ") is empty, overflows or is not inside share %" PRIu32
				   " (0x%" PRIx64 " bytes)", tn, y->handle, y->offset, y->length,
				   s->handle, s->length);
		if ((y->flags != BACKEND_MAP_READABLE &&
		     y->flags != (BACKEND_MAP_READABLE | BACKEND_MAP_WRITEABLE)) ||
		    ((y->flags & BACKEND_MAP_WRITEABLE) && !s->writeable))
			return BAD(e, "tenant %s, import %" PRIu32 ": flags 0x%" PRIx32
				   " (share %" PRIu32 " is %s)", tn, y->handle, y->flags,
				   s->handle, s->writeable ? "writeable" : "read-only");
	}
	if (x->n_devices && !(x->has_own_context && x->own_context))
		return BAD(e, "tenant %s: devices without a context of its own", tn);
	for (size_t i = 0; i < x->n_devices; i++)
		if (!FIND(v->ioases, x->n_ioases, IoasdState__Ioas, ioas_cmp,
			  x->devices[i]->ioas))
			return BAD(e, "tenant %s, device %" PRIu32 ": no IOAS %" PRIu32, tn,
				   x->devices[i]->handle, x->devices[i]->ioas);
	if (x->n_hwpts && !(x->has_own_context && x->own_context))
		return BAD(e, "tenant %s: HWPTs without a context of its own", tn);
	for (size_t i = 0; i < x->n_hwpts; i++) {
		const IoasdState__Hwpt *y = x->hwpts[i];
		const IoasdState__Hwpt *p = y->has_parent ?
			FIND(v->hwpts, x->n_hwpts, IoasdState__Hwpt, hwpt_cmp, y->parent) : NULL;

		if (y->id == 0)
			return BAD(e, "tenant %s, HWPT %" PRIu32 ": object id 0", tn, y->handle);
		if (!FIND(v->ioases, x->n_ioases, IoasdState__Ioas, ioas_cmp, y->ioas))
			return BAD(e, "tenant %s, HWPT %" PRIu32 ": no IOAS %" PRIu32, tn,
				   y->handle, y->ioas);
		if (y->has_parent && (!p || p->handle >= y->handle || p->has_parent ||
				      p->ioas != y->ioas || (p->has_viommu && p->viommu)))
			return BAD(e, "tenant %s, HWPT %" PRIu32 ": parent %" PRIu32 " is not "
				   "an older paging HWPT on the same IOAS", tn, y->handle,
				   y->parent);
		if (y->has_viommu && y->viommu && y->has_parent)
			return BAD(e, "tenant %s, HWPT %" PRIu32 ": made from both a parent "
				   "HWPT and vIOMMU %" PRIu32, tn, y->handle, y->viommu);
	}
	if (check_vobjs(v, e) < 0)
		return -EBADMSG;
	for (size_t i = 0; i < x->n_ioases; i++) {
		const IoasdState__Ioas *y = x->ioases[i];
		const IoasdState__Hwpt *h = y->has_mock_on && y->mock_on ?
			FIND(v->hwpts, x->n_hwpts, IoasdState__Hwpt, hwpt_cmp, y->mock_on) : NULL;

		if (y->has_mock_on && y->mock_on && (!h || h->ioas != y->handle))
			return BAD(e, "tenant %s, IOAS %" PRIu32 ": its mock device is on HWPT %"
				   PRIu32 ", which is not one of its HWPTs", tn, y->handle,
				   y->mock_on);
	}
	for (size_t i = 0; i < x->n_devices; i++) {
		const IoasdState__Device *y = x->devices[i];
		const IoasdState__Hwpt *h = y->has_hwpt && y->hwpt ?
			FIND(v->hwpts, x->n_hwpts, IoasdState__Hwpt, hwpt_cmp, y->hwpt) : NULL;

		if (y->has_hwpt && y->hwpt && (!h || h->ioas != y->ioas))
			return BAD(e, "tenant %s, device %" PRIu32 ": no HWPT %" PRIu32
				   " on its IOAS %" PRIu32, tn, y->handle, y->hwpt, y->ioas);
	}
	/* Issue 16: queues and PASIDs only in a context of its own, an
	 * HWPT's queue and a PASID's device and HWPT restored with it. */
	if ((x->n_faults || x->n_pasids) && !(x->has_own_context && x->own_context))
		return BAD(e, "tenant %s: fault queues or PASIDs without a context of "
			   "its own", tn);
	for (size_t i = 0; i < x->n_hwpts; i++) {
		const IoasdState__Hwpt *y = x->hwpts[i];
		bool found = !y->has_fault || !y->fault;

		for (size_t j = 0; !found && j < x->n_faults; j++)
			found = x->faults[j]->handle == y->fault;
		if (!found)
			return BAD(e, "tenant %s, HWPT %" PRIu32 ": no fault queue %" PRIu32,
				   tn, y->handle, y->fault);
	}
	for (size_t i = 0; i < x->n_faults; i++)
		if (x->faults[i]->handle == 0 || x->faults[i]->id == 0 ||
		    (x->has_next_fault && x->faults[i]->handle >= x->next_fault))
			return BAD(e, "tenant %s: fault queue %" PRIu32 ": handle or id 0, "
				   "or past the next handle", tn, x->faults[i]->handle);
	for (size_t i = 0; i < x->n_pasids; i++) {
		const IoasdState__Pasid *y = x->pasids[i];
		const IoasdState__Hwpt *h = y->has_hwpt && y->hwpt ?
			FIND(v->hwpts, x->n_hwpts, IoasdState__Hwpt, hwpt_cmp, y->hwpt) : NULL;
		const IoasdState__Ioas *o = FIND(v->ioases, x->n_ioases, IoasdState__Ioas,
						 ioas_cmp, h ? h->ioas : y->ioas);
		/* Device 0: the mock device of that IOAS (test builds). */
		bool mock = y->device == 0 && o && o->has_mock_stdev && o->mock_stdev;

		if ((!mock && !FIND(v->devices, x->n_devices, IoasdState__Device,
				    device_cmp, y->device)) ||
		    (y->has_hwpt && y->hwpt &&
		     !FIND(v->hwpts, x->n_hwpts, IoasdState__Hwpt, hwpt_cmp, y->hwpt)) ||
		    (!(y->has_hwpt && y->hwpt) && !(y->has_ioas && y->ioas)))
			return BAD(e, "tenant %s: PASID %" PRIu32 " names no device %" PRIu32
				   " or no HWPT %" PRIu32, tn, y->pasid, y->device, y->hwpt);
	}
	if (x->has_context_store_id && !(x->has_own_context && x->own_context))
		return BAD(e, "tenant %s: a stored context but no context of its own", tn);
	/* Kernel: a device tenant's IOASes are objects of its stored context. */
	if (x->has_own_context && x->own_context && x->n_ioases &&
	    !x->has_context_store_id && !strcmp(c->m->backend, "kernel"))
		return BAD(e, "tenant %s: IOASes in a context of its own that was not stored",
			   tn);
	return 0;
}

/* A piece of import y: inside it, and the exporter's memory exactly as the
 * exporter's own mapping under the matching source address maps it. */
static int check_piece(const struct check *c, const struct vtenant *v,
		       const IoasdState__Mapping *m, struct err *e)
{
	const char *tn = v->x->name;
	IoasdState__Import **p;
	const IoasdState__Import *y;
	const IoasdState__Share *s;
	const IoasdState__Mapping *src;
	const struct vtenant *xv;
	uint64_t at, delta;

	{
		IoasdState__Import k = { .handle = m->import };
		const IoasdState__Import *kp = &k;

		p = v->x->n_imports ? bsearch(&kp, v->imports, v->x->n_imports,
					      sizeof(*v->imports), import_cmp) : NULL;
	}
	if (!p)
		return BAD(e, "tenant %s, mapping at 0x%" PRIx64 " of IOAS %" PRIu32
			   ": no import %" PRIu32, tn, m->iova, m->ioas, m->import);
	y = *p;
	delta = m->iova - y->iova;
	if (m->ioas != y->ioas || m->iova < y->iova || delta > y->length ||
	    m->length > y->length - delta)
		return BAD(e, "tenant %s, import %" PRIu32 ": a piece at 0x%" PRIx64
			   " of IOAS %" PRIu32 " lies outside its range [0x%" PRIx64
			   ", +0x%" PRIx64 ") of IOAS %" PRIu32, tn, y->handle, m->iova,
			   m->ioas, y->iova, y->length, y->ioas);
	v->covered[p - v->imports] += m->length;
	xv = find_tenant(c, y->exporter);
	s = FIND(xv->shares, xv->x->n_shares, IoasdState__Share, share_cmp, y->share);
	if (strcmp(m->mem_owner, y->exporter) != 0)
		return BAD(e, "tenant %s, import %" PRIu32 ": a piece maps memory of %s, "
			   "not of its exporter %s", tn, y->handle, m->mem_owner, y->exporter);
	/* Inside the share (checked with the import): no overflow. */
	at = s->iova + y->offset + delta;
	src = map_at(xv, s->ioas, at);
	if (!src || src->has_import || src->length - (at - src->iova) < m->length ||
	    src->memory != m->memory || src->mem_offset + (at - src->iova) != m->mem_offset)
		return BAD(e, "tenant %s, import %" PRIu32 ": the piece at 0x%" PRIx64
			   " is not what %s maps at 0x%" PRIx64 " of its IOAS %" PRIu32,
			   tn, y->handle, m->iova, y->exporter, at, s->ioas);
	return 0;
}

/* v's mappings: references, ranges, overlaps; import pieces. */
static int check_mappings(const struct check *c, const struct vtenant *v)
{
	const IoasdState__Tenant *x = v->x;
	const char *tn = x->name;
	const IoasdState__Mapping *prev = NULL;
	struct err *e = c->e;

	for (size_t i = 0; i < x->n_mappings; prev = v->maps[i], i++) {
		const IoasdState__Mapping *m = v->maps[i];
		const struct vtenant *ov = find_tenant(c, m->mem_owner);
		const IoasdState__Memory *mem = NULL;
		uint64_t end;

		if (!FIND(v->ioases, x->n_ioases, IoasdState__Ioas, ioas_cmp, m->ioas))
			return BAD(e, "tenant %s, mapping at 0x%" PRIx64 ": no IOAS %" PRIu32,
				   tn, m->iova, m->ioas);
		if (!range_ok(m->iova, m->length))
			return BAD(e, "tenant %s, mapping at 0x%" PRIx64 " of IOAS %" PRIu32
				   ": empty or overflowing (0x%" PRIx64 " bytes)", tn, m->iova,
				   m->ioas, m->length);
		if (m->flags & ~BACKEND_MAP_ALL_FLAGS)
			return BAD(e, "tenant %s, mapping at 0x%" PRIx64 " of IOAS %" PRIu32
				   ": unknown flags 0x%" PRIx32, tn, m->iova, m->ioas, m->flags);
		if (prev && prev->ioas == m->ioas && m->iova - prev->iova < prev->length)
			return BAD(e, "tenant %s, IOAS %" PRIu32 ": mappings at 0x%" PRIx64
				   " and 0x%" PRIx64 " overlap", tn, m->ioas, prev->iova, m->iova);
		if (ov)
			mem = FIND(ov->mems, ov->x->n_memories, IoasdState__Memory, mem_cmp,
				   m->memory);
		if (!mem)
			return BAD(e, "tenant %s, mapping at 0x%" PRIx64 " of IOAS %" PRIu32
				   ": no memory %" PRIu32 " of tenant %s", tn, m->iova,
				   m->ioas, m->memory, shown(m->mem_owner));
		if (add_overflow(m->mem_offset, m->length, &end) || end > mem->length)
			return BAD(e, "tenant %s, mapping at 0x%" PRIx64 " of IOAS %" PRIu32
				   ": [+0x%" PRIx64 ", +0x%" PRIx64 ") is not inside memory %"
				   PRIu32 " (0x%" PRIx64 " bytes)", tn, m->iova, m->ioas,
				   m->mem_offset, m->length, m->memory, mem->length);
		if (m->has_import && m->import != 0) {
			int r = check_piece(c, v, m, e);

			if (r < 0)
				return r;
		} else if (ov != v) {
			return BAD(e, "tenant %s, mapping at 0x%" PRIx64 " of IOAS %" PRIu32
				   ": maps memory of %s without an import", tn, m->iova,
				   m->ioas, ov->x->name);
		}
	}
	for (size_t i = 0; i < x->n_imports; i++)
		if (v->covered[i] != v->imports[i]->length)
			return BAD(e, "tenant %s, import %" PRIu32 ": its pieces cover 0x%" PRIx64
				   " of its 0x%" PRIx64 " bytes at 0x%" PRIx64 " of IOAS %" PRIu32,
				   tn, v->imports[i]->handle, v->covered[i],
				   v->imports[i]->length, v->imports[i]->iova,
				   v->imports[i]->ioas);
	return 0;
}

/* Each share: its tenant's own mappings cover it without a gap. */
static int check_shares(const struct check *c, const struct vtenant *v)
{
	for (size_t i = 0; i < v->x->n_shares; i++) {
		const IoasdState__Share *s = v->x->shares[i];
		uint64_t at = s->iova, last = s->iova + (s->length - 1);

		for (;;) {
			const IoasdState__Mapping *m = map_at(v, s->ioas, at);

			if (!m || m->has_import)
				return BAD(c->e, "tenant %s, share %" PRIu32 ": 0x%" PRIx64
					   " of IOAS %" PRIu32 " is not mapped by the tenant's "
					   "own memory", v->x->name, s->handle, at, s->ioas);
			if (last - m->iova < m->length)
				break;
			at = m->iova + m->length; /* <= last: no overflow */
		}
	}
	return 0;
}

struct id_owner {
	uint64_t id;
	const char *tenant, *what;
	uint32_t handle;
};

static int id_cmp(const void *a, const void *b)
{
	const struct id_owner *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* "tenant alpha, memory 3" (an own context has no handle). */
static const char *owner(const struct id_owner *o, char *buf, size_t size)
{
	if (o->handle)
		snprintf(buf, size, "tenant %s, %s %" PRIu32, o->tenant, o->what, o->handle);
	else
		snprintf(buf, size, "tenant %s, %s", o->tenant, o->what);
	return buf;
}

/* Sort and report the first id used twice. */
static int unique_ids(struct id_owner *v, size_t n, const char *space, struct err *e)
{
	char a[128], b[128];

	qsort(v, n, sizeof(*v), id_cmp);
	for (size_t i = 1; i < n; i++)
		if (v[i].id == v[i - 1].id)
			return BAD(e, "%s %" PRIu64 " is used by %s and by %s", space, v[i].id,
				   owner(&v[i - 1], a, sizeof(a)), owner(&v[i], b, sizeof(b)));
	return 0;
}

struct token_owner {
	const char *token, *tenant;
	uint32_t handle;
};

static int token_cmp(const void *a, const void *b)
{
	return strcmp(((const struct token_owner *)a)->token,
		      ((const struct token_owner *)b)->token);
}

/* No two shares have the same token (which is never printed). */
static int unique_tokens(const struct check *c)
{
	const IoasdState__State *m = c->m;
	_cleanup_free_ struct token_owner *v = NULL;
	size_t n = 0;

	for (size_t i = 0; i < m->n_tenants; i++)
		n += m->tenants[i]->n_shares;
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return err_set(c->e, ENOMEM, "out of memory checking the state");
	n = 0;
	for (size_t i = 0; i < m->n_tenants; i++)
		for (size_t j = 0; j < m->tenants[i]->n_shares; j++)
			v[n++] = (struct token_owner){ m->tenants[i]->shares[j]->token,
						       m->tenants[i]->name,
						       m->tenants[i]->shares[j]->handle };
	qsort(v, n, sizeof(*v), token_cmp);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(v[i].token, v[i - 1].token))
			return BAD(c->e, "tenant %s, share %" PRIu32 " and tenant %s, share %"
				   PRIu32 " have the same token", v[i - 1].tenant,
				   v[i - 1].handle, v[i].tenant, v[i].handle);
	return 0;
}

/* Store ids across the state; IOAS ids per context; share tokens. */
static int check_global(const struct check *c)
{
	const IoasdState__State *m = c->m;
	_cleanup_free_ struct id_owner *ids = NULL;
	size_t n = 0, cap = 0;
	int r;

	for (size_t i = 0; i < m->n_tenants; i++)
		cap += m->tenants[i]->n_memories + m->tenants[i]->n_devices + 1 +
		       m->tenants[i]->n_ioases;
	ids = calloc(cap ? cap : 1, sizeof(*ids));
	if (!ids)
		return err_set(c->e, ENOMEM, "out of memory checking the state");
	for (size_t i = 0; i < m->n_tenants; i++) {
		const IoasdState__Tenant *x = m->tenants[i];

		for (size_t j = 0; j < x->n_memories; j++)
			ids[n++] = (struct id_owner){ x->memories[j]->store_id, x->name,
						      "memory", x->memories[j]->handle };
		for (size_t j = 0; j < x->n_devices; j++)
			ids[n++] = (struct id_owner){ x->devices[j]->store_id, x->name,
						      "device", x->devices[j]->handle };
		if (x->has_context_store_id)
			ids[n++] = (struct id_owner){ x->context_store_id, x->name,
						      "own context", 0 };
	}
	for (size_t i = 0; i < n; i++)
		if (ids[i].id == 0 || ids[i].id >= m->next_store_id) {
			char a[128];

			return BAD(c->e, "%s: fd-store id %" PRIu64 " is 0 or not below "
				   "the next one (%" PRIu64 ")", owner(&ids[i], a, sizeof(a)),
				   ids[i].id, m->next_store_id);
		}
	r = unique_ids(ids, n, "fd-store id", c->e);
	if (r < 0)
		return r;
	/* IOAS ids: the shared context, then each own context. */
	n = 0;
	for (size_t i = 0; i < m->n_tenants; i++) {
		const IoasdState__Tenant *x = m->tenants[i];

		if (x->has_own_context && x->own_context)
			continue;
		for (size_t j = 0; j < x->n_ioases; j++)
			ids[n++] = (struct id_owner){ x->ioases[j]->id, x->name, "IOAS",
						      x->ioases[j]->handle };
	}
	r = unique_ids(ids, n, "IOAS id", c->e);
	for (size_t i = 0; r == 0 && i < m->n_tenants; i++) {
		const IoasdState__Tenant *x = m->tenants[i];

		if (!(x->has_own_context && x->own_context))
			continue;
		n = 0;
		for (size_t j = 0; j < x->n_ioases; j++)
			ids[n++] = (struct id_owner){ x->ioases[j]->id, x->name, "IOAS",
						      x->ioases[j]->handle };
		r = unique_ids(ids, n, "IOAS id (own context)", c->e);
	}
	return r < 0 ? r : unique_tokens(c);
}

int state_check_decode(const uint8_t *buf, size_t len, IoasdState__State **ret,
		       struct err *e)
{
	IoasdState__State *m;

	if (len > STATE_MAX_BYTES)
		return BAD(e, "%zu bytes: larger than the %u a state may have", len,
			   STATE_MAX_BYTES);
	m = ioasd_state__state__unpack(NULL, len, buf);
	if (!m)
		return BAD(e, "not a state file (it does not decode)");
	if (m->version != STATE_VERSION) {
		uint32_t v = m->version;

		ioasd_state__state__free_unpacked(m, NULL);
		return BAD(e, "state version %" PRIu32 ", this daemon reads %u", v,
			   STATE_VERSION);
	}
	*ret = m;
	return 0;
}

static int check(const IoasdState__State *m, bool skeleton, struct err *e)
{
	struct check c = { .m = m, .e = e, .n = m->n_tenants };
	int r = 0;

	if (strcmp(m->backend, "kernel") != 0 && strcmp(m->backend, "sim") != 0)
		return BAD(e, "unknown backend \"%s\"",
			   state_check_name(m->backend) ? m->backend : "(not a name)");
	for (size_t i = 0; i < m->n_tenants; i++) {
		const IoasdState__Tenant *x = m->tenants[i];

		if (!state_check_name(x->name))
			return BAD(e, "tenant %zu of %zu: its name is not 1-%u of "
				   "A-Z a-z 0-9 _ . @ -", i + 1, m->n_tenants, STATE_NAME_MAX);
		if (x->n_shares > TENANT_MAX_SHARES || x->n_devices > TENANT_MAX_DEVICES)
			return BAD(e, "tenant %s: %zu shares and %zu devices (at most %u "
				   "and %u)", x->name, x->n_shares, x->n_devices,
				   TENANT_MAX_SHARES, TENANT_MAX_DEVICES);
	}
	c.vt = calloc(c.n ? c.n : 1, sizeof(*c.vt));
	if (!c.vt)
		return err_set(e, ENOMEM, "out of memory checking the state");
	for (size_t i = 0; i < c.n; i++)
		c.vt[i].x = m->tenants[i];
	qsort(c.vt, c.n, sizeof(*c.vt), vt_cmp);
	for (size_t i = 1; r == 0 && i < c.n; i++)
		if (!strcmp(c.vt[i].x->name, c.vt[i - 1].x->name))
			r = BAD(e, "tenant %s is listed twice", c.vt[i].x->name);
	for (size_t i = 0; r == 0 && i < c.n; i++)
		r = index_tenant(&c.vt[i], e);
	for (size_t i = 0; r == 0 && i < c.n; i++)
		r = check_records(&c, &c.vt[i]);
	for (size_t i = 0; r == 0 && !skeleton && i < c.n; i++)
		r = check_mappings(&c, &c.vt[i]);
	for (size_t i = 0; r == 0 && !skeleton && i < c.n; i++)
		r = check_shares(&c, &c.vt[i]);
	if (r == 0)
		r = check_global(&c);
	for (size_t i = 0; i < c.n; i++)
		vtenant_free(&c.vt[i]);
	free(c.vt);
	return r;
}

int state_check(const IoasdState__State *m, struct err *e)
{
	return check(m, false, e);
}

int state_check_skeleton(const IoasdState__State *m, struct err *e)
{
	if (m->n_tenants && m->tenants[0]->n_mappings)
		return BAD(e, "a skeleton has no mappings");
	return check(m, true, e);
}
