/* SPDX-License-Identifier: MIT */
#include "common/pci.h"
#include "common/rbtree.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/queue.h>
#include <sys/mman.h>
#include <sys/random.h>

#include "iommu/backend-kernel.h"
#include "common/log.h"
#include "policy/policy.h"
#include "tenant/pool.h"
#include "tenant/tenant.h"

/* ------------------------------------------------------------ pin segments
 * For each memory region, the byte ranges that are mapped somewhere, with a
 * count of how many mappings cover each. Bytes whose count goes 0 -> 1 are
 * newly pinned and charged once to the region's owner; 1 -> 0 are released.
 * Segments are disjoint and cover only counted bytes.
 */
struct pin_seg {
	RB_ENTRY(pin_seg) node;
	uint64_t start, end; /* [start, end) in region offsets */
	uint32_t count;
};
RB_HEAD(pin_tree, pin_seg);
static int pin_cmp(const struct pin_seg *a, const struct pin_seg *b)
{
	return a->start < b->start ? -1 : a->start > b->start;
}
RB_GENERATE_STATIC(pin_tree, pin_seg, node, pin_cmp)

struct mem_obj {
	RB_ENTRY(mem_obj) node;
	struct tenant *owner; /* charged for the pinned bytes, whoever maps */
	uint32_t handle;
	struct memory_region *region;
	uint64_t store_id; /* kept in the restart fd store under this id, or 0 */
	uint32_t nmappings;
	uint64_t pinned; /* bytes of this region with count > 0 */
	struct pin_tree pins;
};
RB_HEAD(mem_tree, mem_obj);
static int mem_cmp(const struct mem_obj *a, const struct mem_obj *b)
{
	return a->handle < b->handle ? -1 : a->handle > b->handle;
}
RB_GENERATE_STATIC(mem_tree, mem_obj, node, mem_cmp)

struct mapping {
	RB_ENTRY(mapping) node;
	uint64_t iova, length;
	struct mem_obj *mem;
	uint64_t mem_offset;
	uint32_t flags;
	struct tenant_import *imp; /* a piece of this import, or NULL */
	bool outside_policy; /* made before a reload or restart narrowed AllowedIOVA */
};
RB_HEAD(mapping_tree, mapping);
static int mapping_cmp(const struct mapping *a, const struct mapping *b)
{
	return a->iova < b->iova ? -1 : a->iova > b->iova;
}
RB_GENERATE_STATIC(mapping_tree, mapping, node, mapping_cmp)

struct ioas_obj {
	RB_ENTRY(ioas_obj) node;
	uint32_t handle;
	uint32_t id; /* backend object id */
	uint32_t mock_stdev; /* test builds: mock device attached, or 0 */
	uint32_t mock_hwpt;  /* ... and its domain, for MD_CHECK_MAP */
	struct mapping_tree mappings;
	uint32_t nmappings;
	uint32_t ndevices;   /* brokered devices attached to it */
	/* The tenant's own AllowIovas narrowing (NULL, 0: none), kept so
	 * that a reload can apply the new policy without widening it. */
	struct policy_range *own_allowed;
	uint32_t n_own_allowed;
};
RB_HEAD(ioas_tree, ioas_obj);
static int ioas_cmp(const struct ioas_obj *a, const struct ioas_obj *b)
{
	return a->handle < b->handle ? -1 : a->handle > b->handle;
}
RB_GENERATE_STATIC(ioas_tree, ioas_obj, node, ioas_cmp)

struct tenant_share {
	LIST_ENTRY(tenant_share) link;      /* owner's list */
	LIST_ENTRY(tenant_share) all_link;  /* every share, for token lookup */
	struct tenant *owner;
	struct ioas_obj *ioas;
	uint32_t handle;
	uint64_t iova, length;
	bool writeable;
	char token[TENANT_SHARE_TOKEN_LEN + 1];
	LIST_HEAD(, tenant_import) imports;
};

struct tenant_import {
	LIST_ENTRY(tenant_import) share_link;
	LIST_ENTRY(tenant_import) tenant_link;
	struct tenant_share *share;
	struct tenant *t;           /* the importer */
	struct ioas_obj *ioas;      /* the importer's */
	uint32_t handle;
	uint64_t iova, offset, length;
	uint32_t flags;
	uint32_t npieces;           /* its mappings still present */
};

/* A VFIO device the daemon bound to the tenant's context and attached. */
struct tenant_device {
	LIST_ENTRY(tenant_device) link;
	uint32_t handle;
	int fd;                     /* the daemon's copy, owned */
	struct ioas_obj *ioas;      /* attached to */
	uint32_t dev_id, hwpt_id;   /* backend object ids */
	struct backend_device_info info;
	bool stored;                /* in the restart fd store as store_id */
	uint64_t store_id;
};

struct tenant {
	LIST_ENTRY(tenant) link;    /* the registry */
	struct backend *backend;    /* the shared context, or own_ctx */
	struct backend *own_ctx;    /* device tenants: their own context, owned */
	bool device_ctx;            /* its IOASes live in a context of its own */
	bool ctx_stored;            /* own_ctx is in the restart fd store */
	uint64_t ctx_store_id;
	struct pool *pool;
	const struct policy_tenant *pt;
	bool orphaned;
	uint32_t nconns;
	char *name;
	struct tenant_limits limits;
	struct tenant_usage usage;
	struct ioas_tree ioases;
	struct mem_tree mems;
	uint32_t next_ioas_handle;
	uint32_t next_mem_handle;
	LIST_HEAD(, tenant_share) shares;
	LIST_HEAD(, tenant_import) imports;
	uint32_t nshares;
	uint32_t next_share_handle;
	uint32_t next_import_handle;
	LIST_HEAD(, tenant_device) devices; /* usage.devices of them */
	uint32_t next_device_handle;
	char reclaim_token[TENANT_RECLAIM_TOKEN_LEN + 1];
	bool unclaimed; /* restored after a restart, not yet reclaimed */
};

static struct tenant_totals totals;
static LIST_HEAD(, tenant) registry = LIST_HEAD_INITIALIZER(registry);
static LIST_HEAD(, tenant_share) all_shares = LIST_HEAD_INITIALIZER(all_shares);
static tenant_revoke_fn revoke_hook;
static void *revoke_hook_data;
static tenant_fd_store_fn fd_store_hook;
static tenant_fd_unstore_fn fd_unstore_hook;
static void *fd_store_data;

static void share_free(struct tenant_share *s, const char *reason);

/* " (MaxIOAS at file:line)" for refusals of a policy tenant, "" otherwise. */
static const char *cite(const struct tenant *t, enum policy_key k, char *buf,
		       size_t size)
{
	char where[300];

	if (!t->pt) {
		snprintf(buf, size, " (daemon option)");
		return buf;
	}
	policy_tenant_source(t->pt, k, where, sizeof(where));
	snprintf(buf, size, " (%s of tenant %s at %s)", policy_key_name(k),
		 t->name, where);
	return buf;
}

/*
 * The one check that keeps a tenant's mappings inside its AllowedIOVA=.
 * Every IOVA range the daemon puts into a tenant's IOAS passes here:
 * fixed-IOVA requests before the backend sees them (check_map_policy),
 * each later piece of a cross-context import before it is mapped, and
 * every piece of every mapping, whoever chose its IOVA, as it enters the
 * tables (mapping_add) — which is what catches an IOVA the kernel picked
 * outside the policy (an IOAS whose allowed list a reload could not
 * narrow).
 */
static bool iova_in_policy(const struct tenant *t, uint64_t iova,
			   uint64_t length)
{
	return !t->pt || policy_tenant_iova_allowed(t->pt, iova, length);
}

static int iova_refused(const struct tenant *t, uint64_t iova, uint64_t length,
			struct err *e)
{
	char why[400];

	return err_set(e, EPERM,
		       "IOVA range [0x%" PRIx64 ", +0x%" PRIx64
		       ") is outside AllowedIOVA%s",
		       iova, length,
		       cite(t, POLICY_KEY_ALLOWED_IOVA, why, sizeof(why)));
}

/* New work is refused for a tenant whose policy section was removed. */
static int check_not_orphaned(const struct tenant *t, struct err *e)
{
	if (t->orphaned)
		return err_set(e, EACCES,
			       "tenant %s is no longer in the policy (removed at reload): "
			       "only unmap, destroy and unregister are allowed",
			       t->name);
	return 0;
}

static struct pin_seg *pin_find_le(struct pin_tree *tree, uint64_t x)
{
	struct pin_seg key = { .start = x };
	struct pin_seg *s = RB_NFIND(pin_tree, tree, &key);

	if (s && s->start == x)
		return s;
	return s ? RB_PREV(pin_tree, tree, s) : RB_MAX(pin_tree, tree);
}

/* Make x a segment boundary if it falls strictly inside a segment. */
static int pin_split(struct pin_tree *tree, uint64_t x)
{
	struct pin_seg *s = pin_find_le(tree, x), *n;

	if (!s || s->start == x || s->end <= x)
		return 0;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->start = x;
	n->end = s->end;
	n->count = s->count;
	s->end = x;
	RB_INSERT(pin_tree, tree, n);
	return 0;
}

/* Bytes of [start, end) not yet covered by any segment. */
static uint64_t pin_uncovered(struct pin_tree *tree, uint64_t start,
			      uint64_t end)
{
	uint64_t covered = 0;
	struct pin_seg *s = pin_find_le(tree, start);

	if (!s)
		s = RB_MIN(pin_tree, tree);
	for (; s && s->start < end; s = RB_NEXT(pin_tree, tree, s)) {
		uint64_t a = s->start > start ? s->start : start;
		uint64_t z = s->end < end ? s->end : end;

		if (z > a)
			covered += z - a;
	}
	return (end - start) - covered;
}

/* Count [start, end) once more; returns newly pinned bytes or -ENOMEM. */
static int64_t pin_add(struct pin_tree *tree, uint64_t start, uint64_t end)
{
	uint64_t pos = start, added = 0;
	struct pin_seg *s;
	int r;

	r = pin_split(tree, start);
	if (r == 0)
		r = pin_split(tree, end);
	if (r < 0)
		return r;
	/* Pre-allocate nothing: gaps are filled as they are met. */
	s = pin_find_le(tree, start);
	if (!s || s->end <= start)
		s = s ? RB_NEXT(pin_tree, tree, s) : RB_MIN(pin_tree, tree);
	while (pos < end) {
		if (s && s->start <= pos) {
			s->count++;
			pos = s->end;
			s = RB_NEXT(pin_tree, tree, s);
			continue;
		}
		/* A gap [pos, min(end, s->start)). */
		uint64_t gap_end = (s && s->start < end) ? s->start : end;
		struct pin_seg *n = calloc(1, sizeof(*n));

		if (!n)
			return -ENOMEM; /* counts so far stay; caller frees region state on teardown */
		n->start = pos;
		n->end = gap_end;
		n->count = 1;
		RB_INSERT(pin_tree, tree, n);
		added += gap_end - pos;
		pos = gap_end;
	}
	return (int64_t)added;
}

/* Count [start, end) once less; returns bytes no longer pinned. */
static uint64_t pin_del(struct pin_tree *tree, uint64_t start, uint64_t end)
{
	uint64_t removed = 0;
	struct pin_seg *s, *next;

	/* Splits cannot fail here in practice, but stay correct if they do:
	 * a failed split leaves a wider segment, which we then leave counted. */
	if (pin_split(tree, start) < 0 || pin_split(tree, end) < 0)
		return 0;
	s = pin_find_le(tree, start);
	if (!s || s->end <= start)
		s = s ? RB_NEXT(pin_tree, tree, s) : RB_MIN(pin_tree, tree);
	for (; s && s->start < end; s = next) {
		next = RB_NEXT(pin_tree, tree, s);
		if (--s->count == 0) {
			removed += s->end - s->start;
			RB_REMOVE(pin_tree, tree, s);
			free(s);
		}
	}
	return removed;
}

/* ------------------------------------------------------------ lookups */

static struct ioas_obj *ioas_get(struct tenant *t, uint32_t handle,
				 struct err *e)
{
	struct ioas_obj key = { .handle = handle };
	struct ioas_obj *o = RB_FIND(ioas_tree, &t->ioases, &key);

	if (!o)
		err_set(e, ENOENT, "no IOAS with handle %" PRIu32, handle);
	return o;
}

static struct mem_obj *mem_get(struct tenant *t, uint32_t handle,
			       struct err *e)
{
	struct mem_obj key = { .handle = handle };
	struct mem_obj *m = RB_FIND(mem_tree, &t->mems, &key);

	if (!m)
		err_set(e, ENOENT, "no memory region with handle %" PRIu32,
			handle);
	return m;
}

/* The first mapping that overlaps [start, last], or NULL. */
static struct mapping *mapping_first_overlap(struct ioas_obj *o,
					     uint64_t start, uint64_t last)
{
	struct mapping key = { .iova = start };
	struct mapping *m = RB_NFIND(mapping_tree, &o->mappings, &key);
	struct mapping *p;

	p = m ? RB_PREV(mapping_tree, &o->mappings, m)
	      : RB_MAX(mapping_tree, &o->mappings);
	if (p && p->iova + (p->length - 1) >= start)
		return p;
	if (m && m->iova <= last)
		return m;
	return NULL;
}

/*
 * Imported pages may not travel further (Copy, or a share of a share):
 * revoking a share must reach every mapping made from it.
 */
static int check_no_imports(struct ioas_obj *o, uint64_t start, uint64_t last,
			    const char *what, struct err *e)
{
	struct mapping *m;

	for (m = mapping_first_overlap(o, start, last); m && m->iova <= last;
	     m = RB_NEXT(mapping_tree, &o->mappings, m))
		if (m->imp)
			return err_set(e, EPERM,
				       "[0x%" PRIx64 ", +0x%" PRIx64 ") of IOAS %" PRIu32
				       " is imported (import %" PRIu32
				       "): imported pages cannot be %s",
				       m->iova, m->length, o->handle,
				       m->imp->handle, what);
	return 0;
}

/* Revoke every share of t on IOAS o that overlaps [start, last]. */
static void revoke_shares_in(struct tenant *t, struct ioas_obj *o,
			     uint64_t start, uint64_t last, const char *reason)
{
	struct tenant_share *s, *next;

	for (s = LIST_FIRST(&t->shares); s; s = next) {
		next = LIST_NEXT(s, link);
		if (s->ioas == o && s->iova <= last &&
		    s->iova + (s->length - 1) >= start)
			share_free(s, reason);
	}
}

/* ------------------------------------------------------------ lifetime */

/* size - 1 hex digits of fresh randomness, NUL-terminated. */
static int random_hex(char *buf, size_t size)
{
	uint8_t rnd[64];
	size_t n = (size - 1) / 2;

	if (n > sizeof(rnd) || getrandom(rnd, n, 0) != (ssize_t)n)
		return -EIO;
	for (size_t i = 0; i < n; i++)
		snprintf(buf + 2 * i, 3, "%02x", rnd[i]);
	explicit_bzero(rnd, sizeof(rnd));
	return 0;
}

struct tenant *tenant_new(struct backend *b, struct pool *pool,
			  const char *name, const struct tenant_limits *limits,
			  const struct policy_tenant *pt)
{
	struct tenant *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->name = strdup(name ? name : "");
	if (!t->name) {
		free(t);
		return NULL;
	}
	if (random_hex(t->reclaim_token, sizeof(t->reclaim_token)) < 0) {
		free(t->name);
		free(t);
		return NULL;
	}
	t->backend = b;
	t->pool = pool;
	t->pt = policy_tenant_ref(pt);
	t->limits = *limits;
	RB_INIT(&t->ioases);
	RB_INIT(&t->mems);
	t->next_ioas_handle = 1;
	t->next_mem_handle = 1;
	t->next_share_handle = 1;
	t->next_import_handle = 1;
	t->next_device_handle = 1;
	LIST_INIT(&t->shares);
	LIST_INIT(&t->imports);
	LIST_INIT(&t->devices);
	/* A tenant that may attach devices gets a context of its own (opened
	 * with its first IOAS): a VFIO device fd can attach to any IOAS of the
	 * context it is bound to, and the client keeps its own copy of it. */
	t->device_ctx = pt && pt->n_allow_device > 0;
	LIST_INSERT_HEAD(&registry, t, link);
	totals.tenants++;
	return t;
}

struct tenant *tenant_find(const char *name)
{
	struct tenant *t;

	LIST_FOREACH(t, &registry, link)
		if (strcmp(t->name, name) == 0)
			return t;
	return NULL;
}

struct tenant *tenant_next(struct tenant *t)
{
	return t ? LIST_NEXT(t, link) : LIST_FIRST(&registry);
}

const struct policy_tenant *tenant_policy(const struct tenant *t)
{
	return t->pt;
}

void tenant_get_limits(const struct tenant *t, struct tenant_limits *ret)
{
	*ret = t->limits;
}

void tenant_set_policy(struct tenant *t, const struct policy_tenant *pt,
		       const struct tenant_limits *limits)
{
	if (!pt) {
		t->orphaned = true;
		return;
	}
	policy_tenant_unref(t->pt);
	t->pt = policy_tenant_ref(pt);
	t->limits = *limits;
	t->orphaned = false;
	/* Given AllowDevice= by a reload: possible only while it has nothing in
	 * the shared context (an IOAS cannot move between contexts). */
	if (pt->n_allow_device > 0 && !t->device_ctx && t->usage.ioas == 0)
		t->device_ctx = true;
}

static int ioas_apply_allowed(struct tenant *t, uint32_t id,
			      const struct policy_range *own, uint32_t n_own,
			      bool clear, struct err *e);

static bool same_ranges(const struct policy_tenant *a,
			const struct policy_tenant *b)
{
	if (a->n_allowed_iova != b->n_allowed_iova)
		return false;
	for (size_t i = 0; i < a->n_allowed_iova; i++)
		if (a->allowed_iova[i].start != b->allowed_iova[i].start ||
		    a->allowed_iova[i].last != b->allowed_iova[i].last)
			return false;
	return true;
}

/* Mark the mappings of o outside the policy in force; report the ones
 * that were not before. */
static void ioas_classify_mappings(struct tenant *t, struct ioas_obj *o,
				   tenant_reload_fn report, void *ud)
{
	struct mapping *m;

	RB_FOREACH(m, mapping_tree, &o->mappings) {
		bool outside = !iova_in_policy(t, m->iova, m->length);

		if (outside == m->outside_policy)
			continue;
		m->outside_policy = outside;
		if (outside) {
			t->usage.mappings_outside_policy++;
			report(ud, t, &(struct tenant_reload_event){
				.kind = TENANT_RELOAD_MAPPING_OUTSIDE,
				.ioas = o->handle, .iova = m->iova,
				.length = m->length });
		} else {
			t->usage.mappings_outside_policy--;
		}
	}
}

void tenant_reload_policy(struct tenant *t, const struct policy_tenant *pt,
			  const struct tenant_limits *limits,
			  tenant_reload_fn report, void *ud)
{
	const struct policy_tenant *old = t->pt ? policy_tenant_ref(t->pt) : NULL;
	bool allowed_changed, huge_off;
	struct ioas_obj *o;

	tenant_set_policy(t, pt, limits);
	if (!pt || !old) {
		policy_tenant_unref(old);
		return;
	}
	allowed_changed = !same_ranges(old, pt);
	huge_off = old->huge_pages && !pt->huge_pages;
	policy_tenant_unref(old);
	RB_FOREACH(o, ioas_tree, &t->ioases) {
		struct err e = { 0 };

		if (allowed_changed &&
		    ioas_apply_allowed(t, o->id, o->own_allowed, o->n_own_allowed,
				       true, &e) < 0)
			report(ud, t, &(struct tenant_reload_event){
				.kind = TENANT_RELOAD_NOT_APPLIED, .ioas = o->handle,
				.errnum = e.errnum, .what = e.msg });
		if (huge_off) {
			uint64_t off = 0;
			int r = backend_option(t->backend, BACKEND_OPTION_OP_SET,
					       BACKEND_OPTION_HUGE_PAGES, o->id, &off);

			if (r < 0)
				report(ud, t, &(struct tenant_reload_event){
					.kind = TENANT_RELOAD_NOT_APPLIED,
					.ioas = o->handle, .errnum = -r,
					.what = "IOMMU_OPTION_HUGE_PAGES off for HugePages=no" });
		}
		if (allowed_changed)
			ioas_classify_mappings(t, o, report, ud);
	}
}

bool tenant_orphaned(const struct tenant *t)
{
	return t->orphaned;
}

uint32_t tenant_conns(const struct tenant *t)
{
	return t->nconns;
}

void tenant_conn_attach(struct tenant *t)
{
	t->nconns++;
}

uint32_t tenant_conn_detach(struct tenant *t)
{
	return --t->nconns;
}

/* A device tenant's first IOAS opens its own context (never pooled), kept
 * in the restart fd store when there is one. */
static int own_context_open(struct tenant *t, struct err *e)
{
	struct backend *ctx;
	int r, fd;

	if (!t->device_ctx || t->own_ctx)
		return 0;
	r = backend_context_open(t->backend, &ctx);
	if (r < 0)
		return err_errno(e, r, "opening the tenant's own iommufd context "
				 "(a device tenant's IOASes live in one)");
	fd = backend_kernel_fd(ctx);
	if (fd_store_hook && fd >= 0) {
		r = fd_store_hook(fd_store_data, "ctx", fd, &t->ctx_store_id, e);
		if (r < 0) {
			backend_close(ctx);
			return r;
		}
		t->ctx_stored = true;
	}
	t->own_ctx = ctx;
	t->backend = ctx;
	t->pool = NULL;
	return 0;
}

/* Take an IOAS from the pool (or the kernel) and give it back. */
static int ioas_get_backend(struct tenant *t, uint32_t *ret_id)
{
	return t->pool ? pool_take(t->pool, ret_id)
		       : backend_ioas_alloc(t->backend, ret_id);
}

static bool test_mock_domains;

void tenant_set_test_mock_domains(bool on)
{
	test_mock_domains = on;
}

/* Give an IOAS back: detach a test mock device first (it would hold the
 * IOAS: EBUSY), then to the pool or destroyed. */
static int ioas_put_backend(struct tenant *t, uint32_t id, uint32_t mock_stdev)
{
	if (mock_stdev)
		(void)backend_destroy(t->backend, mock_stdev);
	return t->pool ? pool_give(t->pool, id) : backend_destroy(t->backend, id);
}

static void mapping_release(struct tenant *t, struct ioas_obj *o,
			    struct mapping *m)
{
	struct tenant_import *imp = m->imp;
	uint64_t freed;

	RB_REMOVE(mapping_tree, &o->mappings, m);
	o->nmappings--;
	t->usage.mappings--;
	totals.mappings--;
	t->usage.mapped_bytes -= m->length;
	if (m->outside_policy)
		t->usage.mappings_outside_policy--;
	m->mem->nmappings--;
	freed = pin_del(&m->mem->pins, m->mem_offset,
			m->mem_offset + m->length);
	m->mem->pinned -= freed;
	/* Pinned bytes belong to the memory's owner, not the mapper. */
	m->mem->owner->usage.pinned_bytes -= freed;
	totals.pinned_bytes -= freed;
	free(m);
	/* The last piece of an import gone (unmapped by the importer, its
	 * IOAS destroyed or released, or revoked): the import is gone. */
	if (imp && --imp->npieces == 0) {
		LIST_REMOVE(imp, share_link);
		LIST_REMOVE(imp, tenant_link);
		free(imp);
	}
}

/*
 * Unmap [iova, +length) of o in the backend and drop every mapping of ours
 * inside it (undoing a copy or an import, or revoking one: the last piece
 * of an import frees the import).
 */
static void range_unmap_release(struct tenant *t, struct ioas_obj *o,
				uint64_t iova, uint64_t length)
{
	uint64_t last = iova + (length - 1), unmapped;
	struct mapping *m, *next;

	(void)backend_unmap(t->backend, o->id, iova, length, &unmapped);
	for (m = mapping_first_overlap(o, iova, last); m && m->iova <= last;
	     m = next) {
		next = RB_NEXT(mapping_tree, &o->mappings, m);
		mapping_release(t, o, m);
	}
}

/* The part of mapping m inside [first, last]: where it starts (an IOVA of
 * m's IOAS) and how long it is. */
static void mapping_clip(const struct mapping *m, uint64_t first, uint64_t last,
			 uint64_t *ret_start, uint64_t *ret_length)
{
	uint64_t a = m->iova > first ? m->iova : first;
	uint64_t m_last = m->iova + (m->length - 1);
	uint64_t z = m_last < last ? m_last : last;

	*ret_start = a;
	*ret_length = z - a + 1;
}

static void ioas_release_mappings(struct tenant *t, struct ioas_obj *o)
{
	struct mapping *m;

	while ((m = RB_MIN(mapping_tree, &o->mappings)))
		mapping_release(t, o, m);
}

static void ioas_free(struct tenant *t, struct ioas_obj *o)
{
	ioas_release_mappings(t, o);
	RB_REMOVE(ioas_tree, &t->ioases, o);
	t->usage.ioas--;
	totals.ioas--;
	free(o->own_allowed);
	free(o);
}

/* Record an attached device (device_free undoes it). */
static void device_insert(struct tenant *t, struct tenant_device *d,
			  struct ioas_obj *o)
{
	d->ioas = o;
	o->ndevices++;
	LIST_INSERT_HEAD(&t->devices, d, link);
	t->usage.devices++;
	totals.devices++;
}

/* Drop a device detached already, or (detach) detach it first: 0 even if the
 * client detached it itself. */
static void device_free(struct tenant *t, struct tenant_device *d, bool detach)
{
	int r = detach ? backend_device_detach(t->backend, d->fd) : 0;

	if (r < 0)
		log_warn("tenant %s: detaching device %" PRIu32 ": %s", t->name,
			 d->handle, strerror(-r));
	d->ioas->ndevices--;
	if (d->stored && fd_unstore_hook)
		fd_unstore_hook(fd_store_data, "dev", d->store_id);
	LIST_REMOVE(d, link);
	t->usage.devices--;
	totals.devices--;
	safe_close(d->fd);
	free(d);
}

static void mem_free(struct tenant *t, struct mem_obj *m)
{
	struct pin_seg *s;

	while ((s = RB_MIN(pin_tree, &m->pins))) {
		RB_REMOVE(pin_tree, &m->pins, s);
		free(s);
	}
	RB_REMOVE(mem_tree, &t->mems, m);
	if (m->store_id && fd_unstore_hook)
		fd_unstore_hook(fd_store_data, "mem", m->store_id);
	memory_region_free(m->region);
	t->usage.memory_regions--;
	free(m);
}

struct tenant *tenant_free(struct tenant *t)
{
	struct ioas_obj *o;
	struct mem_obj *m;

	if (!t)
		return NULL;
	/* Importers lose what they imported from t first (while t's memory
	 * still exists); t's own imports go with its IOASes below. */
	while (!LIST_EMPTY(&t->shares))
		share_free(LIST_FIRST(&t->shares), "exporter-gone");
	/* Unmap everything first, so that the pages are unpinned and no device
	 * reaches them even if an IOAS cannot be reset or destroyed (a client
	 * that re-attached its own device file during this). */
	RB_FOREACH(o, ioas_tree, &t->ioases) {
		uint64_t unmapped;

		(void)backend_unmap(t->backend, o->id, 0, UINT64_MAX,
				    &unmapped);
		ioas_release_mappings(t, o);
	}
	while (!LIST_EMPTY(&t->devices))
		device_free(t, LIST_FIRST(&t->devices), true);
	/* Then each IOAS goes back to the pool (reset) or is destroyed. */
	while ((o = RB_MIN(ioas_tree, &t->ioases))) {
		int r = ioas_put_backend(t, o->id, o->mock_stdev);

		if (r < 0)
			log_warn("tenant %s: IOAS %" PRIu32 " (id %" PRIu32
				 ") not destroyed: %s (emptied; it goes with "
				 "the context)", t->name, o->handle, o->id,
				 strerror(-r));
		ioas_free(t, o);
	}
	while ((m = RB_MIN(mem_tree, &t->mems)))
		mem_free(t, m);
	backend_close(t->own_ctx);
	/* The stored copy would keep the context, and every page its IOASes
	 * still pinned, alive. */
	if (t->ctx_stored && fd_unstore_hook)
		fd_unstore_hook(fd_store_data, "ctx", t->ctx_store_id);
	LIST_REMOVE(t, link);
	totals.tenants--;
	policy_tenant_unref(t->pt);
	explicit_bzero(t->reclaim_token, sizeof(t->reclaim_token));
	free(t->name);
	free(t);
	return NULL;
}

const char *tenant_name(const struct tenant *t)
{
	return t->name;
}

void tenant_get_usage(const struct tenant *t, struct tenant_usage *ret)
{
	*ret = t->usage;
}

void tenant_get_totals(struct tenant_totals *ret)
{
	*ret = totals;
}

/* ------------------------------------------------------------ IOAS */

/* Apply the tenant's policy to a fresh IOAS: AllowedIOVA, HugePages. */
/*
 * Set the allowed IOVA list of backend IOAS id from the policy in force and
 * the tenant's own narrowing of it (own[n_own], none for a new IOAS). With
 * neither, the list is cleared only when clear is set (a reload lifted the
 * restriction); a new IOAS is left as it is.
 */
static int ioas_apply_allowed(struct tenant *t, uint32_t id,
			      const struct policy_range *own, uint32_t n_own,
			      bool clear, struct err *e)
{
	struct backend_iova_range *ranges = NULL;
	struct policy_range *eff;
	size_t n;
	char why[400];
	int r;

	r = policy_tenant_effective_iovas(t->pt, own, n_own, &eff, &n);
	if (r < 0)
		return err_set(e, ENOMEM, "out of memory");
	if (n == 0 && !clear)
		return 0;
	if (n) {
		ranges = calloc(n, sizeof(*ranges));
		if (!ranges) {
			free(eff);
			return err_set(e, ENOMEM, "out of memory");
		}
	}
	for (size_t i = 0; i < n; i++) {
		ranges[i].start = eff[i].start;
		ranges[i].last = eff[i].last;
	}
	free(eff);
	r = backend_allow_iovas(t->backend, id, ranges, (uint32_t)n);
	free(ranges);
	if (r < 0)
		return err_errno(e, r, "IOMMU_IOAS_ALLOW_IOVAS applying AllowedIOVA%s",
				 cite(t, POLICY_KEY_ALLOWED_IOVA, why, sizeof(why)));
	return 0;
}

static int ioas_apply_policy(struct tenant *t, uint32_t id, struct err *e)
{
	char why[400];
	int r;

	if (!t->pt)
		return 0;
	r = ioas_apply_allowed(t, id, NULL, 0, false, e);
	if (r < 0)
		return r;
	if (!t->pt->huge_pages) {
		uint64_t off = 0;

		r = backend_option(t->backend, BACKEND_OPTION_OP_SET,
				   BACKEND_OPTION_HUGE_PAGES, id, &off);
		if (r < 0)
			return err_errno(e, r, "applying HugePages=no%s",
					 cite(t, POLICY_KEY_HUGE_PAGES, why, sizeof(why)));
	}
	return 0;
}

/* A backend IOAS for the tenant, its policy applied (and its own context
 * opened first, for a device tenant). */
static int ioas_new_backend(struct tenant *t, uint32_t *ret_id, struct err *e)
{
	uint32_t id;
	int r;

	r = own_context_open(t, e);
	if (r < 0)
		return r;
	r = ioas_get_backend(t, &id);
	if (r < 0)
		return err_errno(e, r, "IOMMU_IOAS_ALLOC failed");
	r = ioas_apply_policy(t, id, e);
	if (r < 0) {
		(void)ioas_put_backend(t, id, 0);
		return r;
	}
	*ret_id = id;
	return 0;
}

int tenant_ioas_alloc(struct tenant *t, uint32_t *ret_handle, struct err *e)
{
	struct ioas_obj *o;
	char why[400];
	uint32_t id;
	int r;

	r = check_not_orphaned(t, e);
	if (r < 0)
		return r;
	if (t->usage.ioas >= t->limits.max_ioas)
		return err_set(e, ENOSPC,
			       "IOAS limit reached: %" PRIu32 " of %" PRIu32
			       " in use%s",
			       t->usage.ioas, t->limits.max_ioas,
			       cite(t, POLICY_KEY_MAX_IOAS, why, sizeof(why)));
	if (t->next_ioas_handle == 0)
		return err_set(e, ENOSPC, "IOAS handle space exhausted");
	o = calloc(1, sizeof(*o));
	if (!o)
		return err_set(e, ENOMEM, "out of memory");
	r = ioas_new_backend(t, &id, e);
	if (r < 0) {
		free(o);
		return r;
	}
	if (test_mock_domains) {
		r = backend_kernel_test_mock_domain(t->backend, id, &o->mock_stdev,
						    &o->mock_hwpt);
		if (r < 0) {
			(void)ioas_put_backend(t, id, 0);
			free(o);
			return err_errno(e, r, "test hook: attaching the mock domain "
					 "(needs CONFIG_IOMMUFD_TEST)");
		}
	}
	o->id = id;
	o->handle = t->next_ioas_handle++;
	RB_INIT(&o->mappings);
	RB_INSERT(ioas_tree, &t->ioases, o);
	t->usage.ioas++;
	totals.ioas++;
	*ret_handle = o->handle;
	return 0;
}

int tenant_ioas_destroy(struct tenant *t, uint32_t handle, struct err *e)
{
	struct ioas_obj *o = ioas_get(t, handle, e);
	int r;

	if (!o)
		return -ENOENT;
	if (o->ndevices) {
		struct tenant_device *d;
		char dev[64] = "";

		LIST_FOREACH(d, &t->devices, link)
			if (d->ioas == o) {
				backend_device_format(&d->info, dev, sizeof(dev));
				break;
			}
		return err_set(e, EBUSY,
			       "IOAS %" PRIu32 " has %" PRIu32
			       " device(s) attached (device %" PRIu32 ": %s): detach first",
			       handle, o->ndevices, d ? d->handle : 0, dev);
	}
	revoke_shares_in(t, o, 0, UINT64_MAX, "source-destroyed");
	if (o->mock_stdev) {
		(void)backend_destroy(t->backend, o->mock_stdev);
		o->mock_stdev = 0;
	}
	if (t->pool) {
		uint64_t unmapped;
		/* What IOMMU_DESTROY would do to the mappings, then back to
		 * the pool (reset) instead of destroyed. Pooled IOASes are in
		 * the shared context, where no device is ever bound. */
		uint32_t id = o->id;

		r = backend_unmap(t->backend, id, 0, UINT64_MAX, &unmapped);
		if (r < 0)
			return err_errno(e, r, "unmapping IOAS %" PRIu32, handle);
		ioas_free(t, o);
		(void)pool_give(t->pool, id);
		return 0;
	}
	r = backend_destroy(t->backend, o->id);
	if (r < 0)
		return err_errno(e, r, "IOMMU_DESTROY of IOAS %" PRIu32,
				 handle);
	/* The kernel unmapped everything with the object. */
	ioas_free(t, o);
	return 0;
}

int tenant_iova_ranges(struct tenant *t, uint32_t handle,
		       struct backend_iova_range *ranges, uint32_t *num,
		       uint64_t *ret_alignment, struct err *e)
{
	struct ioas_obj *o = ioas_get(t, handle, e);
	uint32_t room = *num;
	int r;

	if (!o)
		return -ENOENT;
	r = backend_iova_ranges(t->backend, o->id, ranges, num, ret_alignment);
	if (r == -EMSGSIZE)
		return err_set(e, EMSGSIZE,
			       "IOAS %" PRIu32 " has %" PRIu32
			       " IOVA ranges, room for %" PRIu32 " given",
			       handle, *num, room);
	if (r < 0)
		return err_errno(e, r, "IOMMU_IOAS_IOVA_RANGES");
	return 0;
}

int tenant_allow_iovas(struct tenant *t, uint32_t handle,
		       const struct backend_iova_range *ranges, uint32_t num,
		       struct err *e)
{
	struct ioas_obj *o = ioas_get(t, handle, e);
	struct policy_range *own;
	int r;

	if (!o)
		return -ENOENT;
	if (t->pt && t->pt->n_allowed_iova > 0) {
		char why[400];

		/* Narrowing is the tenant's business; widening past policy,
		 * or clearing the list (= everything), is not. */
		if (num == 0)
			return err_set(e, EPERM,
				       "the allowed IOVA list cannot be cleared: policy restricts it%s",
				       cite(t, POLICY_KEY_ALLOWED_IOVA, why, sizeof(why)));
		for (uint32_t i = 0; i < num; i++)
			if (ranges[i].start < ranges[i].last &&
			    !policy_tenant_iova_allowed(t->pt, ranges[i].start,
							ranges[i].last - ranges[i].start + 1))
				return err_set(e, EPERM,
					       "allowed range [0x%" PRIx64 ", 0x%" PRIx64
					       "] is outside the policy's AllowedIOVA%s",
					       ranges[i].start, ranges[i].last,
					       cite(t, POLICY_KEY_ALLOWED_IOVA, why, sizeof(why)));
	}
	for (uint32_t i = 0; i < num; i++)
		if (ranges[i].start >= ranges[i].last)
			return err_set(e, EINVAL,
				       "allowed range %" PRIu32
				       " [0x%" PRIx64 ", 0x%" PRIx64
				       "]: start must be below last",
				       i, ranges[i].start, ranges[i].last);
	own = num ? calloc(num, sizeof(*own)) : NULL;
	if (num && !own)
		return err_set(e, ENOMEM, "out of memory");
	r = backend_allow_iovas(t->backend, o->id, ranges, num);
	if (r < 0) {
		free(own);
		return err_errno(e, r, "IOMMU_IOAS_ALLOW_IOVAS refused");
	}
	/* Kept for reloads: they apply the new policy within it. */
	for (uint32_t i = 0; i < num; i++)
		own[i] = (struct policy_range){ .start = ranges[i].start,
						.last = ranges[i].last };
	free(o->own_allowed);
	o->own_allowed = own;
	o->n_own_allowed = num;
	return 0;
}

/* ------------------------------------------------------------ memory */

int tenant_memory_register(struct tenant *t, int *fd, uint64_t offset,
			   uint64_t length, uint32_t *ret_handle,
			   const struct memory_region **ret_region,
			   struct err *e)
{
	struct memory_region *region;
	struct mem_obj *m;
	char why[400];
	int r;

	r = check_not_orphaned(t, e);
	if (r < 0)
		return r;
	if (t->usage.memory_regions >= t->limits.max_memory_regions)
		return err_set(e, ENOSPC,
			       "memory region limit reached: %" PRIu32
			       " of %" PRIu32 " in use%s",
			       t->usage.memory_regions,
			       t->limits.max_memory_regions,
			       cite(t, POLICY_KEY_MAX_MEMORY_REGIONS, why, sizeof(why)));
	if (t->next_mem_handle == 0)
		return err_set(e, ENOSPC, "memory handle space exhausted");
	m = calloc(1, sizeof(*m));
	if (!m)
		return err_set(e, ENOMEM, "out of memory");
	r = memory_region_new(fd, offset, length, t->limits.max_region_size,
			      !t->backend->has_map_file, &region, e);
	if (r < 0) {
		free(m);
		return r;
	}
	if (fd_store_hook) {
		r = fd_store_hook(fd_store_data, "mem", region->fd, &m->store_id, e);
		if (r < 0) {
			/* The region took the fd: it is closed with it. */
			memory_region_free(region);
			free(m);
			return r;
		}
	}
	m->region = region;
	m->owner = t;
	m->handle = t->next_mem_handle++;
	RB_INIT(&m->pins);
	RB_INSERT(mem_tree, &t->mems, m);
	t->usage.memory_regions++;
	*ret_handle = m->handle;
	if (ret_region)
		*ret_region = region;
	return 0;
}

int tenant_memory_unregister(struct tenant *t, uint32_t handle, struct err *e)
{
	struct mem_obj *m = mem_get(t, handle, e);

	if (!m)
		return -ENOENT;
	if (m->nmappings > 0)
		return err_set(e, EBUSY,
			       "memory region %" PRIu32 " is still mapped by %" PRIu32
			       " mapping(s); unmap them first",
			       handle, m->nmappings);
	mem_free(t, m);
	return 0;
}

/* ------------------------------------------------------------ mappings */

/*
 * Test builds with mock domains: ask the kernel whether the IOAS's mock
 * domain translates [iova, +length) to exactly the pages of the memory the
 * daemon mapped there (IOMMU_TEST_OP_MD_CHECK_MAP, against the daemon's own
 * mmap of that memory). -EIO, logged, when it does not.
 */
static int test_check_mapping(struct tenant *t, struct ioas_obj *o,
			      uint64_t iova, uint64_t length,
			      const struct mem_obj *mem, uint64_t mem_offset)
{
	const struct memory_region *rg = mem->region;
	uint64_t page = 4096, file_off = rg->offset + mem_offset;
	uint64_t skew = file_off % page;
	void *va = NULL;
	int r;

	if (!test_mock_domains || !o->mock_hwpt)
		return 0;
	if (rg->va) {
		r = backend_kernel_test_check_map(t->backend, o->mock_hwpt, iova,
						  length, (char *)rg->va + mem_offset);
	} else {
		va = mmap(NULL, length + skew, PROT_READ, MAP_SHARED, rg->fd,
			  (off_t)(file_off - skew));
		if (va == MAP_FAILED)
			return -errno;
		r = backend_kernel_test_check_map(t->backend, o->mock_hwpt, iova,
						  length, (char *)va + skew);
		munmap(va, length + skew);
	}
	if (r < 0) {
		log_err("test hook: IOMMU_TEST_OP_MD_CHECK_MAP of [0x%" PRIx64
			", +0x%" PRIx64 ") in IOAS %" PRIu32 " of tenant %s: %s",
			iova, length, o->handle, t->name, strerror(-r));
		return -EIO;
	}
	log_debug("test hook: MD_CHECK_MAP [0x%" PRIx64 ", +0x%" PRIx64
		  ") in IOAS %" PRIu32 ": the mock domain maps the registered pages",
		  iova, length, o->handle);
	return 0;
}

static int tracking_error(struct err *e, int r, const char *what)
{
	if (r == -EPERM)
		return r; /* mapping_add said why */
	if (r == -EIO)
		return err_set(e, EIO,
			       "test hook: the kernel's mock domain does not translate the new %s "
			       "to its memory (IOMMU_TEST_OP_MD_CHECK_MAP; see the daemon's log); undone",
			       what);
	return err_set(e, ENOMEM, "out of memory tracking the %s", what);
}

/*
 * Record a mapping the backend made. -EPERM (e says why) for a new one
 * outside AllowedIOVA; a restored one there is kept and counted as outside
 * the policy instead (it was made before the policy narrowed). -ENOMEM, or
 * -EIO from the test hook's check. Nothing recorded on failure: the caller
 * undoes the backend's mapping.
 */
static int mapping_add(struct tenant *t, struct ioas_obj *o, uint64_t iova,
		       uint64_t length, struct mem_obj *mem,
		       uint64_t mem_offset, uint32_t flags,
		       struct tenant_import *imp, bool restored, struct err *e)
{
	bool outside = !iova_in_policy(t, iova, length);
	struct mapping *m;
	int64_t added;
	int r;

	if (outside && !restored)
		return iova_refused(t, iova, length, e);
	r = test_check_mapping(t, o, iova, length, mem, mem_offset);
	if (r < 0)
		return r;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	added = pin_add(&mem->pins, mem_offset, mem_offset + length);
	if (added < 0) {
		free(m);
		return (int)added;
	}
	m->iova = iova;
	m->length = length;
	m->mem = mem;
	m->mem_offset = mem_offset;
	m->flags = flags;
	m->imp = imp;
	m->outside_policy = outside;
	if (outside)
		t->usage.mappings_outside_policy++;
	if (imp)
		imp->npieces++;
	RB_INSERT(mapping_tree, &o->mappings, m);
	o->nmappings++;
	mem->nmappings++;
	mem->pinned += (uint64_t)added;
	t->usage.mappings++;
	t->usage.mapped_bytes += length;
	mem->owner->usage.pinned_bytes += (uint64_t)added;
	totals.mappings++;
	totals.pinned_bytes += (uint64_t)added;
	return 0;
}

/* Map [offset, +length) of a memory region: by fd where the kernel can
 * (MAP_FILE), else from the daemon's mmap of it. */
static int mem_map(struct backend *b, uint32_t ioas_id, uint32_t flags,
		   const struct mem_obj *mem, uint64_t offset, uint64_t length,
		   uint64_t *iova)
{
	if (b->has_map_file)
		return backend_map_file(b, ioas_id, flags, mem->region->fd,
					mem->region->offset + offset, length,
					iova);
	return backend_map_user(b, ioas_id, flags,
				(char *)mem->region->va + offset, length, iova);
}

static int check_flags(uint32_t flags, struct err *e)
{
	if (flags & ~BACKEND_MAP_ALL_FLAGS)
		return err_set(e, EOPNOTSUPP,
			       "unknown map flags 0x%" PRIx32,
			       flags & ~BACKEND_MAP_ALL_FLAGS);
	return 0;
}

/* Access= and AllowedIOVA= for a new mapping at [iova, iova + length). */
static int check_map_policy(struct tenant *t, uint32_t flags, uint64_t iova,
			    uint64_t length, struct err *e)
{
	char why[400];
	int r;

	r = check_not_orphaned(t, e);
	if (r < 0)
		return r;
	if (!t->pt)
		return 0;
	if ((flags & BACKEND_MAP_WRITEABLE) && t->pt->access == POLICY_ACCESS_READ)
		return err_set(e, EPERM,
			       "writeable mappings are not allowed: Access=read%s",
			       cite(t, POLICY_KEY_ACCESS, why, sizeof(why)));
	/* The kernel applies ALLOW_IOVAS to the IOVAs it picks, not to fixed
	 * ones: the daemon is what keeps a tenant inside its ranges. */
	if ((flags & BACKEND_MAP_FIXED_IOVA) && !iova_in_policy(t, iova, length))
		return iova_refused(t, iova, length, e);
	return 0;
}

int tenant_map(struct tenant *t, uint32_t ioas, uint32_t memory,
	       uint64_t offset, uint64_t length, uint32_t flags,
	       uint64_t *iova, struct err *e)
{
	struct ioas_obj *o;
	struct mem_obj *mem;
	uint64_t end, newly, out = *iova;
	char why[400];
	int r;

	/* The kernel's order (iommufd_ioas_map): flags, overflow, access
	 * bits, then the object. Ours is the same so that the errno is. */
	r = check_flags(flags, e);
	if (r < 0)
		return r;
	if (length == UINT64_MAX ||
	    ((flags & BACKEND_MAP_FIXED_IOVA) && *iova == UINT64_MAX))
		return err_set(e, EOVERFLOW, "iova or length is UINT64_MAX");
	if (!(flags & (BACKEND_MAP_READABLE | BACKEND_MAP_WRITEABLE)))
		return err_set(e, EINVAL,
			       "a mapping must be readable, writeable or both");
	o = ioas_get(t, ioas, e);
	if (!o)
		return -ENOENT;
	mem = mem_get(t, memory, e);
	if (!mem)
		return -ENOENT;
	if (length == 0)
		return err_set(e, EINVAL, "map length is 0");
	r = check_map_policy(t, flags, *iova, length, e);
	if (r < 0)
		return r;
	if (add_overflow(offset, length, &end))
		return err_set(e, EOVERFLOW,
			       "offset 0x%" PRIx64 " + length 0x%" PRIx64
			       " overflows",
			       offset, length);
	if (end > mem->region->length)
		return err_set(e, EINVAL,
			       "range [0x%" PRIx64 ", 0x%" PRIx64
			       ") exceeds memory region %" PRIu32
			       " of 0x%" PRIx64 " bytes",
			       offset, end, memory, mem->region->length);
	if ((flags & BACKEND_MAP_WRITEABLE) && !mem->region->writable)
		return err_set(e, EPERM,
			       "memory region %" PRIu32
			       " is read-only (opened O_RDONLY or sealed against writes); "
			       "map it without write access",
			       memory);
	if (t->usage.mappings >= t->limits.max_mappings)
		return err_set(e, ENOSPC,
			       "mapping limit reached: %" PRIu32 " of %" PRIu32
			       " in use%s",
			       t->usage.mappings, t->limits.max_mappings,
			       cite(t, POLICY_KEY_MAX_MAPPINGS, why, sizeof(why)));
	newly = pin_uncovered(&mem->pins, offset, end);
	if (t->usage.pinned_bytes + newly > t->limits.max_pinned_bytes)
		return err_set(e, EDQUOT,
			       "pinned-bytes limit: 0x%" PRIx64
			       " pinned + 0x%" PRIx64 " new > 0x%" PRIx64 "%s",
			       t->usage.pinned_bytes, newly,
			       t->limits.max_pinned_bytes,
			       cite(t, POLICY_KEY_MAX_PINNED_BYTES, why, sizeof(why)));

	r = mem_map(t->backend, o->id, flags, mem, offset, length, &out);
	if (r < 0)
		return err_errno(e, r, "%s refused",
				 t->backend->has_map_file ?
					 "IOMMU_IOAS_MAP_FILE" :
					 "IOMMU_IOAS_MAP");
	r = mapping_add(t, o, out, length, mem, offset, flags, NULL, false, e);
	if (r < 0) {
		uint64_t unmapped;

		/* Do not leave a mapping we cannot account for. */
		(void)backend_unmap(t->backend, o->id, out, length, &unmapped);
		return tracking_error(e, r, "mapping");
	}
	*iova = out;
	return 0;
}

int tenant_unmap(struct tenant *t, uint32_t ioas, uint64_t iova,
		 uint64_t length, uint64_t *ret_unmapped, struct err *e)
{
	struct ioas_obj *o = ioas_get(t, ioas, e);
	struct mapping *m, *next;
	uint64_t last = 0, unmapped = 0, expect = 0;
	bool all = iova == 0 && length == UINT64_MAX;
	int r;

	if (!o)
		return -ENOENT;
	if (!all && length != 0 && !add_overflow(iova, length - 1, &last)) {
		/*
		 * The kernel unmaps whole areas in ascending order and fails
		 * with ENOENT at the first one that sticks out of the range,
		 * keeping the ones it already removed. Refuse up front with
		 * the same errno so that a refused unmap changes nothing.
		 */
		m = mapping_first_overlap(o, iova, last);
		if (!m)
			return err_set(e, ENOENT,
				       "nothing is mapped in [0x%" PRIx64
				       ", 0x%" PRIx64 "]",
				       iova, last);
		for (; m && m->iova <= last;
		     m = RB_NEXT(mapping_tree, &o->mappings, m)) {
			if (m->iova < iova || m->iova + (m->length - 1) > last)
				return err_set(e, ENOENT,
					       "unmap of [0x%" PRIx64
					       ", 0x%" PRIx64
					       "] would split the mapping [0x%" PRIx64
					       ", 0x%" PRIx64 "]",
					       iova, last, m->iova,
					       m->iova + (m->length - 1));
			/* An import is one unit for its importer: all of
			 * it or none of it (its pieces are the kernel's). */
			if (m->imp && (m->imp->iova < iova ||
				       m->imp->iova + (m->imp->length - 1) > last))
				return err_set(e, ENOENT,
					       "unmap of [0x%" PRIx64 ", 0x%" PRIx64
					       "] would split import %" PRIu32
					       " at [0x%" PRIx64 ", +0x%" PRIx64 ")",
					       iova, last, m->imp->handle,
					       m->imp->iova, m->imp->length);
		}
	}
	if (!all && length != 0 && last >= iova)
		for (m = mapping_first_overlap(o, iova, last);
		     m && m->iova <= last;
		     m = RB_NEXT(mapping_tree, &o->mappings, m))
			expect += m->length;
	r = backend_unmap(t->backend, o->id, iova, length, &unmapped);
	if (r < 0)
		return err_errno(e, r, "IOMMU_IOAS_UNMAP refused");
	if (all) {
		for (m = RB_MIN(mapping_tree, &o->mappings); m; m = next) {
			next = RB_NEXT(mapping_tree, &o->mappings, m);
			expect += m->length;
			mapping_release(t, o, m);
		}
	} else {
		for (m = mapping_first_overlap(o, iova, last);
		     m && m->iova <= last; m = next) {
			next = RB_NEXT(mapping_tree, &o->mappings, m);
			mapping_release(t, o, m);
		}
	}
	if (unmapped != expect)
		fprintf(stderr,
			"ioasd: BUG: tenant %s IOAS %" PRIu32
			": backend unmapped 0x%" PRIx64 " bytes, tables had 0x%" PRIx64 "\n",
			t->name, ioas, unmapped, expect);
	/* Only an unmap that happened revokes: shares whose source lost
	 * pages go now, so no importer keeps a mapping of memory its
	 * exporter no longer maps (the pages stay pinned by the importer's
	 * own mapping until then: nothing is freed under a device). A
	 * refused unmap (length 0, a wrap, a split, the kernel's refusal)
	 * changed nothing and revokes nothing. */
	revoke_shares_in(t, o, all ? 0 : iova, all ? UINT64_MAX : last,
			 "source-unmapped");
	*ret_unmapped = unmapped;
	return 0;
}

int tenant_copy(struct tenant *t, uint32_t src_ioas, uint64_t src_iova,
		uint64_t length, uint32_t dst_ioas, uint32_t flags,
		uint64_t *dst_iova, struct err *e)
{
	struct ioas_obj *src, *dst;
	struct mapping *m;
	char why[400];
	uint64_t last, pos, out = *dst_iova;
	uint32_t pieces = 0;
	int r;

	/* The kernel's order (iommufd_ioas_copy): flags, overflow, source
	 * IOAS, the source range (length, wrap, holes), destination IOAS. */
	r = check_flags(flags, e);
	if (r < 0)
		return r;
	if (length == UINT64_MAX || src_iova == UINT64_MAX ||
	    ((flags & BACKEND_MAP_FIXED_IOVA) && *dst_iova == UINT64_MAX))
		return err_set(e, EOVERFLOW, "iova or length is UINT64_MAX");
	src = ioas_get(t, src_ioas, e);
	if (!src)
		return -ENOENT;
	if (length == 0)
		return err_set(e, EINVAL, "copy length is 0");
	if (add_overflow(src_iova, length - 1, &last))
		return err_set(e, EOVERFLOW,
			       "source iova 0x%" PRIx64 " + length 0x%" PRIx64
			       " overflows",
			       src_iova, length);
	/* The source range must be covered by mappings without a hole. */
	pos = src_iova;
	for (m = mapping_first_overlap(src, src_iova, last);
	     m && m->iova <= last; m = RB_NEXT(mapping_tree, &src->mappings, m)) {
		if (m->iova > pos)
			break;
		pieces++;
		pos = m->iova + (m->length - 1);
		if (pos >= last)
			break;
		pos++;
	}
	if (pieces == 0 || pos < last)
		return err_set(e, ENOENT,
			       "source range [0x%" PRIx64 ", 0x%" PRIx64
			       "] of IOAS %" PRIu32 " is not fully mapped",
			       src_iova, last, src_ioas);
	r = check_no_imports(src, src_iova, last, "copied", e);
	if (r < 0)
		return r;
	dst = ioas_get(t, dst_ioas, e);
	if (!dst)
		return -ENOENT;
	r = check_map_policy(t, flags, *dst_iova, length, e);
	if (r < 0)
		return r;
	if (t->usage.mappings + pieces > t->limits.max_mappings)
		return err_set(e, ENOSPC,
			       "mapping limit: %" PRIu32 " in use + %" PRIu32
			       " new > %" PRIu32 "%s",
			       t->usage.mappings, pieces, t->limits.max_mappings,
			       cite(t, POLICY_KEY_MAX_MAPPINGS, why, sizeof(why)));

	r = backend_copy(t->backend, dst->id, src->id, flags, src_iova, length,
			 &out);
	if (r < 0)
		return err_errno(e, r, "IOMMU_IOAS_COPY refused");

	/* The kernel creates one area in dst per source area piece. */
	for (m = mapping_first_overlap(src, src_iova, last);
	     m && m->iova <= last; m = RB_NEXT(mapping_tree, &src->mappings, m)) {
		uint64_t a, n;

		mapping_clip(m, src_iova, last, &a, &n);
		r = mapping_add(t, dst, out + (a - src_iova), n, m->mem,
				m->mem_offset + (a - m->iova), flags, NULL, false, e);
		if (r < 0) {
			/* Undo the whole copy; drop what we recorded of it. */
			range_unmap_release(t, dst, out, length);
			return tracking_error(e, r, "copy");
		}
	}
	*dst_iova = out;
	return 0;
}

int tenant_option(struct tenant *t, uint32_t op, uint32_t option_id,
		  uint32_t ioas, uint64_t *val, struct err *e)
{
	struct ioas_obj *o;
	int r;

	if (op != BACKEND_OPTION_OP_SET && op != BACKEND_OPTION_OP_GET)
		return err_set(e, EOPNOTSUPP, "unknown option op %" PRIu32, op);
	if (option_id == BACKEND_OPTION_RLIMIT_MODE)
		return err_set(e, EPERM,
			       "IOMMU_OPTION_RLIMIT_MODE is the daemon's own setting, not a tenant's");
	if (option_id != BACKEND_OPTION_HUGE_PAGES)
		return err_set(e, EOPNOTSUPP, "unknown option %" PRIu32,
			       option_id);
	o = ioas_get(t, ioas, e);
	if (!o)
		return -ENOENT;
	if (op == BACKEND_OPTION_OP_SET && *val == 1 && t->pt &&
	    !t->pt->huge_pages) {
		char why[400];

		return err_set(e, EPERM, "huge pages are off for this tenant: HugePages=no%s",
			       cite(t, POLICY_KEY_HUGE_PAGES, why, sizeof(why)));
	}
	if (op == BACKEND_OPTION_OP_SET) {
		int r2 = check_not_orphaned(t, e);

		if (r2 < 0)
			return r2;
	}
	r = backend_option(t->backend, op, option_id, o->id, val);
	if (r < 0)
		return err_errno(e, r, "IOMMU_OPTION_HUGE_PAGES %s refused",
				 op == BACKEND_OPTION_OP_SET ? "set" : "get");
	return 0;
}

/* The tenant's own mappings (not imports) cover the share without a gap,
 * as at its export; an unmap of any of it revokes it. */
static bool share_covered(const struct tenant_share *s)
{
	uint64_t at = s->iova, last = s->iova + (s->length - 1);
	struct mapping *m;

	for (m = mapping_first_overlap(s->ioas, at, last); m;
	     m = RB_NEXT(mapping_tree, &s->ioas->mappings, m)) {
		if (m->iova > at || m->imp)
			return false;
		if (last - m->iova < m->length)
			return true;
		at = m->iova + m->length;
	}
	return false;
}

int tenant_check(const struct tenant *t, struct err *e)
{
	struct ioas_obj *o;
	uint64_t pinned = 0;
	uint32_t mappings = 0, outside = 0;
	struct mem_obj *mem;

	RB_FOREACH(o, ioas_tree, (struct ioas_tree *)&t->ioases) {
		struct mapping *m, *prev = NULL;
		uint32_t n = 0;

		RB_FOREACH(m, mapping_tree, &o->mappings) {
			if (m->mem_offset > m->mem->region->length ||
			    m->length > m->mem->region->length - m->mem_offset)
				return err_set(e, EIO, "IOAS %" PRIu32 ": the mapping at 0x%"
					       PRIx64 " is not inside its memory", o->handle,
					       m->iova);
			/* Another tenant's memory only through an import of it. */
			if (m->mem->owner != t &&
			    (!m->imp || m->imp->share->owner != m->mem->owner))
				return err_set(e, EIO, "IOAS %" PRIu32 ": the mapping at 0x%"
					       PRIx64 " maps memory of %s without an import of it",
					       o->handle, m->iova, m->mem->owner->name);
			if (prev && m->iova - prev->iova < prev->length)
				return err_set(e, EIO,
					       "IOAS %" PRIu32 ": mappings overlap at 0x%" PRIx64,
					       o->handle, m->iova);
			if (m->outside_policy != !iova_in_policy(t, m->iova, m->length))
				return err_set(e, EIO, "IOAS %" PRIu32 ": mapping at 0x%" PRIx64
					       " misclassified against AllowedIOVA",
					       o->handle, m->iova);
			outside += m->outside_policy;
			n++;
			prev = m;
		}
		if (n != o->nmappings)
			return err_set(e, EIO, "IOAS %" PRIu32 ": count %" PRIu32
				       " != %" PRIu32, o->handle, n, o->nmappings);
		mappings += n;
	}
	RB_FOREACH(mem, mem_tree, (struct mem_tree *)&t->mems) {
		struct pin_seg *s;
		uint64_t sum = 0;

		RB_FOREACH(s, pin_tree, &mem->pins)
			sum += s->end - s->start;
		if (sum != mem->pinned)
			return err_set(e, EIO, "memory %" PRIu32 ": pinned %" PRIu64
				       " != segments %" PRIu64, mem->handle,
				       mem->pinned, sum);
		pinned += sum;
	}
	if (mappings != t->usage.mappings || pinned != t->usage.pinned_bytes ||
	    outside != t->usage.mappings_outside_policy)
		return err_set(e, EIO, "usage counters disagree with tables");
	/* Every import has exactly its pieces, inside its range, and is
	 * listed by its share; every share's source is still mapped. */
	{
		const struct tenant_import *imp;
		const struct tenant_share *sh;

		LIST_FOREACH(imp, &t->imports, tenant_link) {
			struct mapping *m;
			uint64_t last = imp->iova + (imp->length - 1), sum = 0;
			uint32_t n = 0;

			RB_FOREACH(m, mapping_tree, &imp->ioas->mappings) {
				if (m->imp != imp)
					continue;
				if (m->iova < imp->iova || m->iova + (m->length - 1) > last)
					return err_set(e, EIO, "import %" PRIu32
						       ": a piece lies outside its range",
						       imp->handle);
				n++;
				sum += m->length;
			}
			if (n != imp->npieces || sum != imp->length)
				return err_set(e, EIO, "import %" PRIu32 ": %" PRIu32
					       " pieces of 0x%" PRIx64 " bytes, expected %" PRIu32
					       " of 0x%" PRIx64, imp->handle, n, sum,
					       imp->npieces, imp->length);
		}
		LIST_FOREACH(sh, &t->shares, link) {
			const struct tenant_import *i2;
			bool found_share = false;
			const struct tenant_share *x;

			LIST_FOREACH(x, &all_shares, all_link)
				if (x == sh)
					found_share = true;
			if (!found_share || sh->owner != t)
				return err_set(e, EIO, "share %" PRIu32 " is not registered",
					       sh->handle);
			LIST_FOREACH(i2, &sh->imports, share_link)
				if (i2->share != sh)
					return err_set(e, EIO, "share %" PRIu32
						       ": import list corrupt", sh->handle);
			if (!share_covered(sh))
				return err_set(e, EIO, "share %" PRIu32 ": source no longer "
					       "wholly mapped by the tenant's own memory",
					       sh->handle);
		}
	}
	return 0;
}

/* ------------------------------------------------------------ sharing */

void tenant_set_revoke_hook(tenant_revoke_fn fn, void *userdata)
{
	revoke_hook = fn;
	revoke_hook_data = userdata;
}

/*
 * Unmap an import's range from the importer's IOAS and drop every mapping
 * of ours inside it; then free imp, however its pieces lie. Its pieces are
 * inside its range and the last one frees it; a piece found elsewhere (a
 * restored table that did not hold together) is unmapped and dropped too,
 * and an import left without pieces is freed here: every caller's loop
 * over imports ends.
 */
static void import_release(struct tenant_import *imp)
{
	struct tenant *t = imp->t;
	struct ioas_obj *o = imp->ioas;
	uint64_t last = 0, unmapped;
	struct mapping *m = NULL, *next;
	bool gone = false;

	if (imp->length && !add_overflow(imp->iova, imp->length - 1, &last)) {
		(void)backend_unmap(t->backend, o->id, imp->iova, imp->length, &unmapped);
		m = mapping_first_overlap(o, imp->iova, last);
	}
	for (; m && m->iova <= last; m = next) {
		next = RB_NEXT(mapping_tree, &o->mappings, m);
		/* imp is freed with its last piece: do not touch it after. */
		if (!gone && m->imp == imp && imp->npieces == 1)
			gone = true;
		mapping_release(t, o, m);
	}
	for (m = gone ? NULL : RB_MIN(mapping_tree, &o->mappings);
	     m && imp->npieces > 0; m = next) {
		next = RB_NEXT(mapping_tree, &o->mappings, m);
		if (m->imp != imp)
			continue;
		(void)backend_unmap(t->backend, o->id, m->iova, m->length, &unmapped);
		gone = imp->npieces == 1;
		mapping_release(t, o, m);
		if (gone)
			return;
	}
	if (!gone) {
		LIST_REMOVE(imp, share_link);
		LIST_REMOVE(imp, tenant_link);
		free(imp);
	}
}

/* Take an import away from its importer (import_release) and tell the
 * importer why. */
static void import_revoke(struct tenant_import *imp, const char *reason)
{
	struct tenant_revoke_event ev = {
		.importer = imp->t,
		.exporter = imp->share->owner->name,
		.import = imp->handle,
		.ioas = imp->ioas->handle,
		.iova = imp->iova,
		.length = imp->length,
		.reason = reason,
	};

	import_release(imp);
	if (revoke_hook)
		revoke_hook(revoke_hook_data, &ev);
}

static void share_free(struct tenant_share *s, const char *reason)
{
	while (!LIST_EMPTY(&s->imports))
		import_revoke(LIST_FIRST(&s->imports), reason);
	LIST_REMOVE(s, link);
	LIST_REMOVE(s, all_link);
	s->owner->nshares--;
	explicit_bzero(s->token, sizeof(s->token));
	free(s);
}

static struct tenant_share *share_by_token(const char *token)
{
	struct tenant_share *s;

	if (!token || strlen(token) != TENANT_SHARE_TOKEN_LEN)
		return NULL;
	LIST_FOREACH(s, &all_shares, all_link) {
		unsigned char diff = 0;

		/* No early exit: the time taken says nothing of the token. */
		for (size_t i = 0; i < TENANT_SHARE_TOKEN_LEN; i++)
			diff |= (unsigned char)(s->token[i] ^ token[i]);
		if (diff == 0)
			return s;
	}
	return NULL;
}

int tenant_share_export(struct tenant *t, uint32_t ioas, uint64_t iova,
			uint64_t length, bool writeable, uint32_t *ret_share,
			char ret_token[TENANT_SHARE_TOKEN_LEN + 1],
			struct err *e)
{
	struct tenant_share *s;
	struct ioas_obj *o;
	struct mapping *m;
	uint64_t last, pos;
	uint8_t rnd[TENANT_SHARE_TOKEN_LEN / 2];
	char why[400];
	bool covered = false;
	ssize_t n;
	int r;

	r = check_not_orphaned(t, e);
	if (r < 0)
		return r;
	if (!t->pt || t->pt->n_export_to == 0)
		return err_set(e, EPERM,
			       "this tenant may not export: ExportTo= is empty%s",
			       cite(t, POLICY_KEY_EXPORT_TO, why, sizeof(why)));
	if (writeable && !t->pt->share_write)
		return err_set(e, EPERM,
			       "writeable shares are not allowed: ShareWrite=no%s",
			       cite(t, POLICY_KEY_SHARE_WRITE, why, sizeof(why)));
	o = ioas_get(t, ioas, e);
	if (!o)
		return -ENOENT;
	if (length == 0)
		return err_set(e, EINVAL, "share length is 0");
	if (add_overflow(iova, length - 1, &last))
		return err_set(e, EOVERFLOW,
			       "iova 0x%" PRIx64 " + length 0x%" PRIx64 " overflows",
			       iova, length);
	/* Covered by the exporter's own mappings, without a hole. */
	pos = iova;
	for (m = mapping_first_overlap(o, iova, last); m && m->iova <= last;
	     m = RB_NEXT(mapping_tree, &o->mappings, m)) {
		if (m->iova > pos)
			break;
		if (m->imp)
			return err_set(e, EPERM,
				       "[0x%" PRIx64 ", +0x%" PRIx64
				       ") is imported (import %" PRIu32
				       "): imported pages cannot be exported again",
				       m->iova, m->length, m->imp->handle);
		if (writeable && !(m->flags & BACKEND_MAP_WRITEABLE))
			return err_set(e, EPERM,
				       "mapping [0x%" PRIx64 ", +0x%" PRIx64
				       ") is read-only: a writeable share needs writeable mappings",
				       m->iova, m->length);
		pos = m->iova + (m->length - 1);
		if (pos >= last) {
			covered = true;
			break;
		}
		pos++;
	}
	if (!covered)
		return err_set(e, ENOENT,
			       "range [0x%" PRIx64 ", 0x%" PRIx64 "] of IOAS %" PRIu32
			       " is not fully mapped",
			       iova, last, ioas);
	if (t->nshares >= TENANT_MAX_SHARES)
		return err_set(e, ENOSPC, "share limit reached: %u per tenant",
			       TENANT_MAX_SHARES);
	if (t->next_share_handle == 0)
		return err_set(e, ENOSPC, "share handle space exhausted");
	n = getrandom(rnd, sizeof(rnd), 0);
	if (n != (ssize_t)sizeof(rnd))
		return err_errno(e, n < 0 ? -errno : -EIO, "getrandom for a share token");
	s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(e, ENOMEM, "out of memory");
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(s->token + 2 * i, 3, "%02x", rnd[i]);
	explicit_bzero(rnd, sizeof(rnd));
	s->owner = t;
	s->ioas = o;
	s->handle = t->next_share_handle++;
	s->iova = iova;
	s->length = length;
	s->writeable = writeable;
	LIST_INIT(&s->imports);
	LIST_INSERT_HEAD(&t->shares, s, link);
	LIST_INSERT_HEAD(&all_shares, s, all_link);
	t->nshares++;
	*ret_share = s->handle;
	memcpy(ret_token, s->token, TENANT_SHARE_TOKEN_LEN + 1);
	return 0;
}

/*
 * An import between two contexts (a device tenant on either side): COPY
 * cannot cross contexts, so each piece of the exporter's range is mapped
 * from the exporter's memory, at consecutive IOVAs from the first one
 * (which the kernel picks unless fixed). Same pages; the kernel pins them
 * again for this context. All or nothing.
 */
static int import_map_across(struct tenant *t, struct ioas_obj *dst,
			     struct ioas_obj *src, uint32_t flags,
			     uint64_t src_iova, uint64_t length, uint64_t *iova,
			     struct err *e)
{
	uint64_t last = src_iova + (length - 1), first_iova = *iova, done = 0;
	struct mapping *m;
	int r = 0;

	for (m = mapping_first_overlap(src, src_iova, last); m && m->iova <= last;
	     m = RB_NEXT(mapping_tree, &src->mappings, m)) {
		uint64_t at = first_iova + done, a, n;
		uint32_t f = flags;

		mapping_clip(m, src_iova, last, &a, &n);
		if (done) {
			f |= BACKEND_MAP_FIXED_IOVA;
			/* The kernel placed only the first piece inside
			 * the allowed ranges; the rest follow it. */
			if (!iova_in_policy(t, at, n)) {
				char why[400];

				r = err_set(e, EPERM,
					    "import at a fixed IOVA: the piece at 0x%" PRIx64
					    " after the first (placed at 0x%" PRIx64
					    ") is outside AllowedIOVA%s",
					    at, first_iova,
					    cite(t, POLICY_KEY_ALLOWED_IOVA, why, sizeof(why)));
				break;
			}
		}
		r = mem_map(t->backend, dst->id, f, m->mem,
			    m->mem_offset + (a - m->iova), n, &at);
		if (r < 0)
			break;
		if (!done)
			first_iova = at;
		done += n;
	}
	if (r < 0) {
		uint64_t unmapped;

		if (done)
			(void)backend_unmap(t->backend, dst->id, first_iova, done,
					    &unmapped);
		if (r == -EPERM && done)
			return r; /* the gate said why */
		if (done)
			return err_errno(e, r,
					 "mapping the exporter's memory into this tenant's "
					 "own context: the piece at 0x%" PRIx64
					 " after the IOVA chosen for the first (0x%" PRIx64
					 ") was refused; import at a fixed IOVA",
					 first_iova + done, first_iova);
		return err_errno(e, r, "%s of the exporter's memory into this tenant's own context refused",
				 t->backend->has_map_file ? "IOMMU_IOAS_MAP_FILE" : "IOMMU_IOAS_MAP");
	}
	*iova = first_iova;
	return 0;
}

int tenant_share_import(struct tenant *t, const struct tenant_import_req *req,
			struct tenant_import_result *ret, struct err *e)
{
	struct tenant_share *s = share_by_token(req->token);
	struct tenant_import *imp;
	struct ioas_obj *dst, *src;
	struct mapping *m;
	uint64_t src_iova, length, last, end, out = req->iova;
	uint32_t flags, pieces = 0;
	char why[400], why2[400];
	int r;

	if (!s)
		return err_set(e, EKEYREJECTED, "no share has this token");
	if (s->owner->orphaned)
		return err_set(e, EACCES,
			       "tenant %s, the exporter, is no longer in the policy (removed at reload)",
			       s->owner->name);
	/* Importing one's own share is a Copy the tenant could do anyway. */
	if (s->owner != t &&
	    (!t->pt || !policy_share_allowed(s->owner->pt, t->pt)))
		return err_set(e, EACCES,
			       "tenant %s may not import from tenant %s: both ExportTo%s "
			       "and ImportFrom%s must name the other",
			       t->name, s->owner->name,
			       cite(s->owner, POLICY_KEY_EXPORT_TO, why, sizeof(why)),
			       t->pt ? cite(t, POLICY_KEY_IMPORT_FROM, why2, sizeof(why2)) :
				       " (no policy for the importer)");
	r = check_not_orphaned(t, e);
	if (r < 0)
		return r;
	dst = ioas_get(t, req->ioas, e);
	if (!dst)
		return -ENOENT;
	if (req->writeable && !s->writeable)
		return err_set(e, EPERM,
			       "share %" PRIu32 " of tenant %s is read-only: import it without write access",
			       s->handle, s->owner->name);
	length = req->has_length ? req->length : (req->offset <= s->length ?
						  s->length - req->offset : 0);
	if (length == 0 || add_overflow(req->offset, length, &end) ||
	    end > s->length)
		return err_set(e, ERANGE,
			       "[0x%" PRIx64 ", +0x%" PRIx64 ") is outside the share of 0x%" PRIx64
			       " bytes",
			       req->offset, length, s->length);
	flags = BACKEND_MAP_READABLE |
		(req->writeable ? BACKEND_MAP_WRITEABLE : 0) |
		(req->fixed_iova ? BACKEND_MAP_FIXED_IOVA : 0);
	if (req->fixed_iova && req->iova == UINT64_MAX)
		return err_set(e, EOVERFLOW, "iova is UINT64_MAX");
	r = check_map_policy(t, flags, req->iova, length, e);
	if (r < 0)
		return r;
	src = s->ioas;
	src_iova = s->iova + req->offset;
	last = src_iova + (length - 1);
	for (m = mapping_first_overlap(src, src_iova, last); m && m->iova <= last;
	     m = RB_NEXT(mapping_tree, &src->mappings, m))
		pieces++;
	if (t->usage.mappings + pieces > t->limits.max_mappings)
		return err_set(e, ENOSPC,
			       "mapping limit: %" PRIu32 " in use + %" PRIu32
			       " new > %" PRIu32 "%s",
			       t->usage.mappings, pieces, t->limits.max_mappings,
			       cite(t, POLICY_KEY_MAX_MAPPINGS, why, sizeof(why)));
	if (t->next_import_handle == 0)
		return err_set(e, ENOSPC, "import handle space exhausted");
	imp = calloc(1, sizeof(*imp));
	if (!imp)
		return err_set(e, ENOMEM, "out of memory");
	if (s->owner->backend == t->backend) {
		/* Both IOASes live in the same iommufd context. */
		r = backend_copy(t->backend, dst->id, src->id, flags, src_iova,
				 length, &out);
		if (r < 0) {
			free(imp);
			return err_errno(e, r, "IOMMU_IOAS_COPY refused");
		}
	} else {
		r = import_map_across(t, dst, src, flags, src_iova, length,
				      &out, e);
		if (r < 0) {
			free(imp);
			return r;
		}
	}
	imp->share = s;
	imp->t = t;
	imp->ioas = dst;
	imp->handle = t->next_import_handle++;
	imp->iova = out;
	imp->offset = req->offset;
	imp->length = length;
	imp->flags = flags;
	LIST_INSERT_HEAD(&s->imports, imp, share_link);
	LIST_INSERT_HEAD(&t->imports, imp, tenant_link);
	for (m = mapping_first_overlap(src, src_iova, last); m && m->iova <= last;
	     m = RB_NEXT(mapping_tree, &src->mappings, m)) {
		uint64_t a, n;

		mapping_clip(m, src_iova, last, &a, &n);
		r = mapping_add(t, dst, out + (a - src_iova), n, m->mem,
				m->mem_offset + (a - m->iova), flags & ~BACKEND_MAP_FIXED_IOVA,
				imp, false, e);
		if (r < 0)
			break;
	}
	if (r < 0) {
		/* Releasing the last piece frees imp; with none, free it here. */
		if (imp->npieces == 0) {
			LIST_REMOVE(imp, share_link);
			LIST_REMOVE(imp, tenant_link);
			free(imp);
		}
		range_unmap_release(t, dst, out, length);
		return tracking_error(e, r, "import");
	}
	ret->import = imp->handle;
	ret->iova = out;
	ret->length = length;
	ret->exporter = s->owner->name;
	return 0;
}

int tenant_share_revoke(struct tenant *t, uint32_t share, struct err *e)
{
	struct tenant_share *s;

	LIST_FOREACH(s, &t->shares, link)
		if (s->handle == share) {
			share_free(s, "revoked");
			return 0;
		}
	return err_set(e, ENOENT, "no share with handle %" PRIu32, share);
}

const struct tenant_share *tenant_share_next(const struct tenant *t,
					     const struct tenant_share *prev,
					     struct tenant_share_info *ret)
{
	const struct tenant_share *s = prev ? LIST_NEXT(prev, link) :
					      LIST_FIRST(&t->shares);

	if (!s)
		return NULL;
	ret->share = s->handle;
	ret->ioas = s->ioas->handle;
	ret->iova = s->iova;
	ret->length = s->length;
	ret->writeable = s->writeable;
	ret->token = s->token;
	return s;
}

static void import_info(const struct tenant_import *imp, const char *who,
			struct tenant_import_info *ret)
{
	ret->import = imp->handle;
	ret->tenant = who;
	ret->share = imp->share->handle;
	ret->ioas = imp->ioas->handle;
	ret->iova = imp->iova;
	ret->offset = imp->offset;
	ret->length = imp->length;
	ret->writeable = imp->flags & BACKEND_MAP_WRITEABLE;
}

const struct tenant_import *tenant_share_importer_next(const struct tenant_share *s,
						       const struct tenant_import *prev,
						       struct tenant_import_info *ret)
{
	const struct tenant_import *imp = prev ? LIST_NEXT(prev, share_link) :
						 LIST_FIRST(&s->imports);

	if (imp)
		import_info(imp, imp->t->name, ret);
	return imp;
}

const struct tenant_import *tenant_import_next(const struct tenant *t,
					       const struct tenant_import *prev,
					       struct tenant_import_info *ret)
{
	const struct tenant_import *imp = prev ? LIST_NEXT(prev, tenant_link) :
						 LIST_FIRST(&t->imports);

	if (imp)
		import_info(imp, imp->share->owner->name, ret);
	return imp;
}

/* ------------------------------------------------------------ devices */

struct backend *tenant_backend(const struct tenant *t)
{
	return t->backend;
}

bool tenant_has_own_context(const struct tenant *t)
{
	return t->device_ctx;
}

int tenant_device_attach(struct tenant *t, int fd, uint32_t ioas,
			 uint32_t *ret_handle, struct backend_device_info *ret_info,
			 bool *ret_identified, struct err *e)
{
	struct backend_device_info info;
	struct tenant_device *d;
	char dev[64], bdf[16], why[400];
	struct ioas_obj *o;
	int r, id;

	/* Identified first, so that every refusal can name the device; its
	 * errors come in their place below. */
	id = backend_device_identify(t->backend, fd, &info);
	if (id == 0) {
		*ret_info = info;
		*ret_identified = true;
	}
	r = check_not_orphaned(t, e);
	if (r < 0)
		return r;
	if (!t->pt)
		return err_set(e, EPERM,
			       "devices need a policy section with AllowDevice= "
			       "(the daemon runs with --no-policy)");
	o = ioas_get(t, ioas, e);
	if (!o)
		return -ENOENT;
	r = id;
	if (r == -ENOTTY)
		return err_set(e, ENOTTY,
			       "the fd is not a VFIO device cdev (/dev/vfio/devices/vfioN)");
	if (r == -ENODEV)
		return err_set(e, ENODEV,
			       "the VFIO device is not a PCI device (AllowDevice= names PCI devices)");
	if (r < 0)
		return err_errno(e, r, "identifying the device");
	backend_device_format(&info, dev, sizeof(dev));
	pci_format_address(bdf, sizeof(bdf), info.domain, info.bus, info.slot,
			   info.function);
	if (!policy_tenant_device_allowed(t->pt, info.vendor, info.device, bdf))
		return err_set(e, EPERM, "device %s is not in AllowDevice=%s", dev,
			       cite(t, POLICY_KEY_ALLOW_DEVICE, why, sizeof(why)));
	if (!t->device_ctx || !t->own_ctx)
		return err_set(e, EXDEV,
			       "tenant %s was given AllowDevice= (by a reload) after it had "
			       "IOASes in the shared context, where devices are never bound; "
			       "it gets a context of its own once all its connections close",
			       t->name);
	if (t->usage.devices >= TENANT_MAX_DEVICES)
		return err_set(e, ENOSPC, "device limit reached: %u per tenant",
			       TENANT_MAX_DEVICES);
	if (t->next_device_handle == 0)
		return err_set(e, ENOSPC, "device handle space exhausted");
	d = calloc(1, sizeof(*d));
	if (!d)
		return err_set(e, ENOMEM, "out of memory");
	d->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (d->fd < 0) {
		r = -errno;
		free(d);
		return err_errno(e, r, "keeping a copy of the device fd");
	}
	r = backend_device_bind(t->backend, d->fd, &d->dev_id);
	if (r < 0) {
		safe_close(d->fd);
		free(d);
		if (r == -EINVAL)
			return err_errno(e, r,
					 "VFIO_DEVICE_BIND_IOMMUFD of %s refused: this open file of "
					 "the device is bound already (a file binds once, for its "
					 "whole life; open the device again)", dev);
		return err_errno(e, r, "VFIO_DEVICE_BIND_IOMMUFD of %s refused", dev);
	}
	r = backend_device_attach(t->backend, d->fd, o->id, &d->hwpt_id);
	if (r < 0) {
		/* The file stays bound to this tenant's context until the
		 * client closes its copy: nothing of another tenant's is in
		 * reach, but the same file cannot be bound again. */
		safe_close(d->fd);
		free(d);
		return err_errno(e, r,
				 "VFIO_DEVICE_ATTACH_IOMMUFD_PT of %s to IOAS %" PRIu32
				 " refused (the file stays bound to this tenant's context; "
				 "to retry, open the device again)", dev, ioas);
	}
	if (fd_store_hook) {
		r = fd_store_hook(fd_store_data, "dev", d->fd, &d->store_id, e);
		if (r < 0) {
			(void)backend_device_detach(t->backend, d->fd);
			safe_close(d->fd);
			free(d);
			return r;
		}
		d->stored = true;
	}
	d->handle = t->next_device_handle++;
	d->info = info;
	device_insert(t, d, o);
	*ret_handle = d->handle;
	return 0;
}

int tenant_device_detach(struct tenant *t, uint32_t handle, struct err *e)
{
	struct tenant_device *d;
	int r;

	LIST_FOREACH(d, &t->devices, link)
		if (d->handle == handle)
			break;
	if (!d)
		return err_set(e, ENOENT, "no device with handle %" PRIu32, handle);
	r = backend_device_detach(t->backend, d->fd);
	if (r < 0)
		return err_errno(e, r, "VFIO_DEVICE_DETACH_IOMMUFD_PT refused");
	device_free(t, d, false);
	return 0;
}

const struct tenant_device *tenant_device_next(const struct tenant *t,
					       const struct tenant_device *prev,
					       struct tenant_device_list_info *ret)
{
	const struct tenant_device *d = prev ? LIST_NEXT(prev, link) :
					       LIST_FIRST(&t->devices);

	if (d) {
		ret->device = d->handle;
		ret->ioas = d->ioas->handle;
		ret->info = d->info;
	}
	return d;
}

/* ------------------------------------------------------------ restart
 * Dump the tables for the state file and rebuild them from it (state.c).
 * Restoring never goes through the policy checks and limits: it rebuilds
 * what already exists in the kernel.
 */

const char *tenant_reclaim_token(const struct tenant *t)
{
	return t->reclaim_token;
}

int tenant_set_reclaim_token(struct tenant *t, const char *token)
{
	if (!token || strlen(token) != TENANT_RECLAIM_TOKEN_LEN ||
	    strspn(token, "0123456789abcdef") != TENANT_RECLAIM_TOKEN_LEN)
		return -EINVAL;
	memcpy(t->reclaim_token, token, sizeof(t->reclaim_token));
	return 0;
}

bool tenant_reclaim_token_equal(const struct tenant *t, const char *token)
{
	unsigned char diff = 0;

	if (!token || strlen(token) != TENANT_RECLAIM_TOKEN_LEN)
		return false;
	/* No early exit: the time taken says nothing of the token. */
	for (size_t i = 0; i < TENANT_RECLAIM_TOKEN_LEN; i++)
		diff |= (unsigned char)(t->reclaim_token[i] ^ token[i]);
	return diff == 0;
}

bool tenant_unclaimed(const struct tenant *t)
{
	return t->unclaimed;
}

void tenant_set_unclaimed(struct tenant *t, bool unclaimed)
{
	t->unclaimed = unclaimed;
}

void tenant_set_fd_store(tenant_fd_store_fn store, tenant_fd_unstore_fn unstore,
			 void *userdata)
{
	fd_store_hook = store;
	fd_unstore_hook = unstore;
	fd_store_data = userdata;
}

void tenant_get_next_handles(const struct tenant *t, struct tenant_handles *ret)
{
	ret->ioas = t->next_ioas_handle;
	ret->memory = t->next_mem_handle;
	ret->share = t->next_share_handle;
	ret->import = t->next_import_handle;
	ret->device = t->next_device_handle;
}

void tenant_set_next_handles(struct tenant *t, const struct tenant_handles *h)
{
	t->next_ioas_handle = h->ioas;
	t->next_mem_handle = h->memory;
	t->next_share_handle = h->share;
	t->next_import_handle = h->import;
	if (h->device)
		t->next_device_handle = h->device;
}

bool tenant_context_stored(const struct tenant *t, uint64_t *ret_store_id)
{
	if (t->ctx_stored)
		*ret_store_id = t->ctx_store_id;
	return t->device_ctx;
}

void tenant_restore_context(struct tenant *t, struct backend *ctx,
			    uint64_t store_id)
{
	t->device_ctx = true;
	if (!ctx)
		return;
	t->own_ctx = ctx;
	t->backend = ctx;
	t->pool = NULL;
	t->ctx_stored = true;
	t->ctx_store_id = store_id;
}

int tenant_restore_device(struct tenant *t, const struct tenant_device_info *i,
			  int *fd, bool replay, struct err *e)
{
	struct ioas_obj key = { .handle = i->ioas }, *o;
	struct tenant_device *d;
	int r;

	o = RB_FIND(ioas_tree, &t->ioases, &key);
	if (!o)
		return err_set(e, ENOENT, "its IOAS %" PRIu32 " was not restored", i->ioas);
	LIST_FOREACH(d, &t->devices, link)
		if (d->handle == i->handle)
			return err_set(e, EEXIST, "device handle %" PRIu32 " twice", i->handle);
	d = calloc(1, sizeof(*d));
	if (!d)
		return err_set(e, ENOMEM, "out of memory");
	if (replay) {
		/* A fresh context (sim): bound and attached again. */
		r = backend_device_bind(t->backend, *fd, &d->dev_id);
		if (r == 0)
			r = backend_device_attach(t->backend, *fd, o->id, &d->hwpt_id);
		if (r < 0) {
			free(d);
			return err_errno(e, r, "binding and attaching it again");
		}
	}
	d->fd = *fd;
	*fd = -1;
	d->handle = i->handle;
	d->info = i->info;
	d->stored = true;
	d->store_id = i->store_id;
	device_insert(t, d, o);
	if (t->next_device_handle <= i->handle)
		t->next_device_handle = i->handle + 1;
	return 0;
}

int tenant_dump(const struct tenant *t, const struct tenant_dump_ops *ops,
		void *userdata)
{
	const struct tenant_device *d;
	struct ioas_obj *o;
	struct mem_obj *mem;
	int r;

	RB_FOREACH(o, ioas_tree, (struct ioas_tree *)&t->ioases) {
		struct tenant_ioas_info ii = {
			.handle = o->handle, .id = o->id, .mock_stdev = o->mock_stdev,
			.mock_hwpt = o->mock_hwpt,
		};

		r = ops->ioas(userdata, &ii);
		if (r < 0)
			return r;
	}
	RB_FOREACH(mem, mem_tree, (struct mem_tree *)&t->mems) {
		struct tenant_memory_info mi = {
			.handle = mem->handle, .store_id = mem->store_id,
			.region = mem->region,
		};

		r = ops->memory(userdata, &mi);
		if (r < 0)
			return r;
	}
	RB_FOREACH(o, ioas_tree, (struct ioas_tree *)&t->ioases) {
		struct mapping *m;

		RB_FOREACH(m, mapping_tree, &o->mappings) {
			struct tenant_mapping_info mi = {
				.ioas = o->handle, .iova = m->iova,
				.length = m->length, .mem_owner = m->mem->owner->name,
				.memory = m->mem->handle, .mem_offset = m->mem_offset,
				.flags = m->flags, .import = m->imp ? m->imp->handle : 0,
			};

			r = ops->mapping(userdata, &mi);
			if (r < 0)
				return r;
		}
	}
	LIST_FOREACH(d, &t->devices, link) {
		struct tenant_device_info di = {
			.handle = d->handle, .ioas = d->ioas->handle,
			.store_id = d->store_id, .info = d->info,
		};

		if (!d->stored)
			continue; /* no store: nothing to restore it from */
		r = ops->device(userdata, &di);
		if (r < 0)
			return r;
	}
	return 0;
}

int tenant_restore_ioas(struct tenant *t, const struct tenant_ioas_info *i,
			bool replay, struct err *e)
{
	struct ioas_obj key = { .handle = i->handle }, *o;
	uint32_t id = i->id;
	int r;

	if (i->handle == 0 || RB_FIND(ioas_tree, &t->ioases, &key))
		return err_set(e, EEXIST, "IOAS handle %" PRIu32 " twice", i->handle);
	o = calloc(1, sizeof(*o));
	if (!o)
		return err_set(e, ENOMEM, "out of memory");
	if (replay) {
		/* A fresh context (sim): the IOAS is made again. */
		r = ioas_new_backend(t, &id, e);
		if (r < 0) {
			free(o);
			return r;
		}
	} else {
		o->mock_stdev = i->mock_stdev;
		o->mock_hwpt = i->mock_hwpt;
	}
	o->id = id;
	o->handle = i->handle;
	RB_INIT(&o->mappings);
	RB_INSERT(ioas_tree, &t->ioases, o);
	t->usage.ioas++;
	totals.ioas++;
	return 0;
}

int tenant_restore_memory(struct tenant *t, uint32_t handle, int *fd,
			  uint64_t offset, uint64_t length, uint64_t store_id,
			  struct err *e)
{
	struct mem_obj key = { .handle = handle }, *m;
	struct memory_region *region;
	int r;

	if (handle == 0 || RB_FIND(mem_tree, &t->mems, &key))
		return err_set(e, EEXIST, "memory handle %" PRIu32 " twice", handle);
	m = calloc(1, sizeof(*m));
	if (!m)
		return err_set(e, ENOMEM, "out of memory");
	/* Validated again: the stored fd is whatever the store gave back. */
	r = memory_region_new(fd, offset, length, UINT64_MAX,
			      !t->backend->has_map_file, &region, e);
	if (r < 0) {
		free(m);
		return r;
	}
	m->region = region;
	m->owner = t;
	m->handle = handle;
	m->store_id = store_id;
	RB_INIT(&m->pins);
	RB_INSERT(mem_tree, &t->mems, m);
	t->usage.memory_regions++;
	return 0;
}

int tenant_restore_share(struct tenant *t, const struct tenant_share_info *i,
			 struct err *e)
{
	struct ioas_obj *o = ioas_get(t, i->ioas, e);
	struct tenant_share *s;
	uint64_t last;

	if (!o)
		return -ENOENT;
	if (!i->token || strlen(i->token) != TENANT_SHARE_TOKEN_LEN || i->length == 0 ||
	    add_overflow(i->iova, i->length - 1, &last))
		return err_set(e, EINVAL, "share %" PRIu32 ": bad token or range",
			       i->share);
	s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(e, ENOMEM, "out of memory");
	memcpy(s->token, i->token, sizeof(s->token));
	s->owner = t;
	s->ioas = o;
	s->handle = i->share;
	s->iova = i->iova;
	s->length = i->length;
	s->writeable = i->writeable;
	LIST_INIT(&s->imports);
	LIST_INSERT_HEAD(&t->shares, s, link);
	LIST_INSERT_HEAD(&all_shares, s, all_link);
	t->nshares++;
	return 0;
}

int tenant_restore_import(struct tenant *t, const struct tenant_import_info *i,
			  struct err *e)
{
	struct tenant *x = tenant_find(i->tenant);
	struct tenant_import *imp;
	struct tenant_share *s;
	struct ioas_obj *o;
	uint64_t last;

	if (!x)
		return err_set(e, ENOENT, "import %" PRIu32 ": no exporter %s",
			       i->import, i->tenant);
	LIST_FOREACH(s, &x->shares, link)
		if (s->handle == i->share)
			break;
	if (!s)
		return err_set(e, ENOENT, "import %" PRIu32 ": exporter %s has no share %" PRIu32,
			       i->import, i->tenant, i->share);
	o = ioas_get(t, i->ioas, e);
	if (!o)
		return -ENOENT;
	if (i->length == 0 || add_overflow(i->iova, i->length - 1, &last))
		return err_set(e, EINVAL, "import %" PRIu32 ": empty or overflowing range",
			       i->import);
	imp = calloc(1, sizeof(*imp));
	if (!imp)
		return err_set(e, ENOMEM, "out of memory");
	imp->share = s;
	imp->t = t;
	imp->ioas = o;
	imp->handle = i->import;
	imp->iova = i->iova;
	imp->offset = i->offset;
	imp->length = i->length;
	imp->flags = BACKEND_MAP_READABLE | (i->writeable ? BACKEND_MAP_WRITEABLE : 0);
	/* npieces counts up as its mappings are restored; one left without
	 * any is dropped by tenant_restore_reconcile(). */
	LIST_INSERT_HEAD(&s->imports, imp, share_link);
	LIST_INSERT_HEAD(&t->imports, imp, tenant_link);
	return 0;
}

int tenant_restore_mapping(struct tenant *t, const struct tenant_mapping_info *mi,
			   bool replay, struct err *e)
{
	struct ioas_obj *o = ioas_get(t, mi->ioas, e);
	struct tenant *owner = tenant_find(mi->mem_owner);
	struct tenant_import *imp = NULL;
	struct mem_obj *mem;
	uint64_t end, iova = mi->iova;
	int r;

	if (!o)
		return -ENOENT;
	if (!owner || !(mem = mem_get(owner, mi->memory, e)))
		return err_set(e, ENOENT, "mapping at 0x%" PRIx64 ": no memory %" PRIu32
			       " of tenant %s", mi->iova, mi->memory, mi->mem_owner);
	if (mi->length == 0 || add_overflow(mi->mem_offset, mi->length, &end) ||
	    end > mem->region->length || add_overflow(mi->iova, mi->length - 1, &end))
		return err_set(e, EINVAL, "mapping at 0x%" PRIx64 " is outside its memory "
			       "or the IOVA space", mi->iova);
	if (mapping_first_overlap(o, mi->iova, mi->iova + (mi->length - 1)))
		return err_set(e, EEXIST, "mapping at 0x%" PRIx64 " overlaps another",
			       mi->iova);
	if (mi->import) {
		LIST_FOREACH(imp, &t->imports, tenant_link)
			if (imp->handle == mi->import)
				break;
		if (!imp)
			return err_set(e, ENOENT, "mapping at 0x%" PRIx64 ": no import %" PRIu32,
				       mi->iova, mi->import);
		/* A piece lies inside its import's range, in its IOAS:
		 * revoking the import unmaps exactly that range. */
		if (imp->ioas != o || mi->iova < imp->iova ||
		    mi->iova - imp->iova > imp->length ||
		    mi->length > imp->length - (mi->iova - imp->iova))
			return err_set(e, EINVAL, "mapping at 0x%" PRIx64 " is not inside "
				       "import %" PRIu32 " (IOAS %" PRIu32 ", [0x%" PRIx64
				       ", +0x%" PRIx64 "))", mi->iova, imp->handle,
				       imp->ioas->handle, imp->iova, imp->length);
	}
	if (replay) {
		uint32_t flags = (mi->flags & ~BACKEND_MAP_FIXED_IOVA) |
				 BACKEND_MAP_FIXED_IOVA;

		if (t->backend->has_map_file)
			r = backend_map_file(t->backend, o->id, flags, mem->region->fd,
					     mem->region->offset + mi->mem_offset,
					     mi->length, &iova);
		else
			r = backend_map_user(t->backend, o->id, flags,
					     (char *)mem->region->va + mi->mem_offset,
					     mi->length, &iova);
		if (r < 0)
			return err_errno(e, r, "mapping again at 0x%" PRIx64, mi->iova);
	}
	r = mapping_add(t, o, mi->iova, mi->length, mem, mi->mem_offset,
			mi->flags, imp, true, e);
	if (r < 0) {
		uint64_t unmapped;

		if (replay)
			(void)backend_unmap(t->backend, o->id, mi->iova, mi->length,
					    &unmapped);
		return err_set(e, ENOMEM, "out of memory");
	}
	return 0;
}

/* Its pieces cover its range exactly (they lie inside it). */
static bool import_whole(const struct tenant_import *imp)
{
	uint64_t last = imp->iova + (imp->length - 1), sum = 0;
	uint32_t n = 0;
	struct mapping *m;

	for (m = mapping_first_overlap(imp->ioas, imp->iova, last); m && m->iova <= last;
	     m = RB_NEXT(mapping_tree, &imp->ioas->mappings, m))
		if (m->imp == imp) {
			n++;
			sum += m->length;
		}
	return n == imp->npieces && sum == imp->length;
}

/* Unmap [start, last] of IOAS id in the backend; bytes removed. */
static uint64_t unmap_gap(struct backend *b, uint32_t id, uint64_t start,
			  uint64_t last)
{
	uint64_t unmapped = 0;
	int r;

	if (start > last)
		return 0;
	if (start == 0 && last == UINT64_MAX)
		r = backend_unmap(b, id, 0, UINT64_MAX, &unmapped);
	else
		r = backend_unmap(b, id, start, last - start + 1, &unmapped);
	return r < 0 ? 0 : unmapped;
}

int tenant_restore_reconcile(struct tenant *t, uint32_t *ret_dropped,
			     uint64_t *ret_unknown, struct err *e)
{
	struct tenant_import *imp, *inext;
	struct tenant_share *sh, *snext;
	struct ioas_obj *o, *onext;
	uint32_t scratch = 0, dropped = 0;
	uint64_t unknown = 0;
	int r;

	r = backend_ioas_alloc(t->backend, &scratch);
	if (r < 0)
		return err_errno(e, r, "allocating a scratch IOAS to check mappings");
	for (o = RB_MIN(ioas_tree, &t->ioases); o; o = onext) {
		struct mapping *m, *mnext;
		uint64_t align, pos = 0;
		uint32_t num = 0;

		onext = RB_NEXT(ioas_tree, &t->ioases, o);
		r = backend_iova_ranges(t->backend, o->id, NULL, &num, &align);
		if (r == -ENOENT) {
			/* Destroyed just before the daemon died. */
			revoke_shares_in(t, o, 0, UINT64_MAX, "source-destroyed");
			dropped += o->nmappings + 1;
			ioas_free(t, o);
			continue;
		}
		/* A mapping the tables list but the kernel no longer has was
		 * unmapped just before the daemon died: drop it. COPY into the
		 * scratch IOAS succeeds exactly when the range is mapped. */
		for (m = RB_MIN(mapping_tree, &o->mappings); m; m = mnext) {
			uint64_t dst = 0, unmapped;

			mnext = RB_NEXT(mapping_tree, &o->mappings, m);
			r = backend_copy(t->backend, scratch, o->id,
					 BACKEND_MAP_READABLE, m->iova, m->length, &dst);
			if (r == 0) {
				(void)backend_unmap(t->backend, scratch, 0, UINT64_MAX,
						    &unmapped);
				continue;
			}
			revoke_shares_in(t, o, m->iova, m->iova + (m->length - 1),
					 "source-unmapped");
			mnext = RB_NEXT(mapping_tree, &o->mappings, m);
			mapping_release(t, o, m);
			dropped++;
		}
		/* What the kernel has between them was mapped just before the
		 * daemon died, and never acknowledged: unmap it. */
		RB_FOREACH(m, mapping_tree, &o->mappings) {
			if (m->iova > pos)
				unknown += unmap_gap(t->backend, o->id, pos, m->iova - 1);
			pos = m->iova + m->length;
		}
		if (pos != 0 || RB_EMPTY(&o->mappings))
			unknown += unmap_gap(t->backend, o->id, pos, UINT64_MAX);
	}
	(void)backend_destroy(t->backend, scratch);
	/* An import is one unit: one that lost a piece (the kernel no longer
	 * had it, or the exporter's memory or context did not come back) goes
	 * whole. A release may take another import with it: start over. */
	for (imp = LIST_FIRST(&t->imports); imp; imp = inext) {
		inext = LIST_NEXT(imp, tenant_link);
		if (!import_whole(imp)) {
			import_release(imp);
			dropped++;
			inext = LIST_FIRST(&t->imports);
		}
	}
	/* A share whose source is no longer wholly mapped (a mapping of it
	 * did not come back) is revoked, as an unmap of it would have. */
	for (sh = LIST_FIRST(&t->shares); sh; sh = snext) {
		snext = LIST_NEXT(sh, link);
		if (!share_covered(sh)) {
			share_free(sh, "source-unmapped");
			dropped++;
			snext = LIST_FIRST(&t->shares);
		}
	}
	*ret_dropped = dropped;
	*ret_unknown = unknown;
	return 0;
}
