/* SPDX-License-Identifier: MIT */
/*
 * Tenants: creation, the registry (every live tenant by name), policy and
 * limits in force (a reload's effect on live IOASes), connections, handles,
 * lookups, release, and the refusal helpers every file of the layer uses
 * (cite(), the AllowedIOVA gate, the orphan check).
 */
#include "tenant/tenant-internal.h"

struct tenants *tenants_new(void)
{
	struct tenants *ts = calloc(1, sizeof(*ts));

	if (!ts)
		return NULL;
	LIST_INIT(&ts->registry);
	LIST_INIT(&ts->dying);
	LIST_INIT(&ts->all_shares);
	return ts;
}

struct tenants *tenants_free(struct tenants *ts)
{
	struct tenant *t;

	if (!ts)
		return NULL;
	while ((t = LIST_FIRST(&ts->registry)))
		tenant_free(t);
	while (tenants_reap(ts, SIZE_MAX))
		;
	free(ts);
	return NULL;
}


/* " (MaxIOAS at file:line)" for refusals of a policy tenant, "" otherwise. */
const char *cite(const struct tenant *t, enum policy_key k, char *buf,
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
bool iova_in_policy(const struct tenant *t, uint64_t iova,
		    uint64_t length)
{
	return !t->pt || policy_tenant_iova_allowed(t->pt, iova, length);
}

int iova_refused(const struct tenant *t, uint64_t iova, uint64_t length,
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
int check_not_orphaned(const struct tenant *t, struct err *e)
{
	if (t->orphaned)
		return err_set(e, EACCES,
			       "tenant %s is no longer in the policy (removed at reload): "
			       "only unmap, destroy and unregister are allowed",
			       t->name);
	return 0;
}

/* ------------------------------------------------------------ lookups */

struct ioas_obj *ioas_get(struct tenant *t, uint32_t handle,
			  struct err *e)
{
	struct ioas_obj key = { .handle = handle };
	struct ioas_obj *o = RB_FIND(ioas_tree, &t->ioases, &key);

	if (!o)
		err_set(e, ENOENT, "no IOAS with handle %" PRIu32, handle);
	return o;
}

struct mem_obj *mem_get(struct tenant *t, uint32_t handle,
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
struct mapping *mapping_first_overlap(struct ioas_obj *o,
				      uint64_t start, uint64_t last)
{
	struct mapping key = { .iova = start };
	struct mapping *m = RB_MAX(mapping_tree, &o->mappings);
	struct mapping *p;

	/* Past the last one (mappings made in IOVA order, a restore): the
	 * right spine only. */
	if (!m || m->iova + (m->length - 1) < start)
		return NULL;
	m = RB_NFIND(mapping_tree, &o->mappings, &key);
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
int check_no_imports(struct ioas_obj *o, uint64_t start, uint64_t last,
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
void revoke_shares_in(struct tenant *t, struct ioas_obj *o,
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
	for (size_t i = 0; i < n; i++) {
		buf[2 * i] = "0123456789abcdef"[rnd[i] >> 4];
		buf[2 * i + 1] = "0123456789abcdef"[rnd[i] & 0xf];
	}
	buf[2 * n] = '\0';
	explicit_bzero(rnd, sizeof(rnd));
	return 0;
}

struct tenant *tenant_new(struct tenants *ts, struct backend *b, struct pool *pool,
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
	t->set = ts;
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
	LIST_INIT(&t->hwpts);
	t->next_hwpt_handle = 1;
	LIST_INIT(&t->vobjs);
	t->next_vobj_handle = 1;
	LIST_INIT(&t->faults);
	t->next_fault_handle = 1;
	LIST_INIT(&t->pasids);
	t->next_pasid_handle = 1;
	/* A tenant that may attach devices gets a context of its own (opened
	 * with its first IOAS): a VFIO device fd can attach to any IOAS of the
	 * context it is bound to, and the client keeps its own copy of it. */
	t->device_ctx = pt && pt->n_allow_device > 0;
	LIST_INSERT_HEAD(&ts->registry, t, link);
	t->set->totals.tenants++;
	journal_tenant(t, false);
	return t;
}

struct tenant *tenant_find(struct tenants *ts, const char *name)
{
	struct tenant *t;

	LIST_FOREACH(t, &ts->registry, link)
		if (strcmp(t->name, name) == 0)
			return t;
	return NULL;
}

struct tenant *tenant_next(struct tenants *ts, struct tenant *t)
{
	return t ? LIST_NEXT(t, link) : LIST_FIRST(&ts->registry);
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
int own_context_open(struct tenant *t, struct err *e)
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
	if (t->set->fd_store_hook && fd >= 0) {
		r = t->set->fd_store_hook(t->set->fd_store_data, "ctx", fd, &t->ctx_store_id, e);
		if (r < 0) {
			backend_close(ctx);
			return r;
		}
		t->ctx_stored = true;
		journal_tenant(t, false);
	}
	t->own_ctx = ctx;
	t->backend = ctx;
	t->pool = NULL;
	return 0;
}

/* Take an IOAS from the pool (or the kernel) and give it back. */
int ioas_get_backend(struct tenant *t, uint32_t *ret_id)
{
	return t->pool ? pool_take(t->pool, ret_id)
		       : backend_ioas_alloc(t->backend, ret_id);
}


void tenant_set_test_mock_domains(struct tenants *ts, bool on)
{
	ts->test_mock_domains = on;
}

/* Give an IOAS back: detach a test mock device first (it would hold the
 * IOAS: EBUSY), then to the pool or destroyed. */
int ioas_put_backend(struct tenant *t, uint32_t id, uint32_t mock_stdev)
{
	if (mock_stdev)
		(void)backend_destroy(t->backend, mock_stdev);
	return t->pool ? pool_give(t->pool, id) : backend_destroy(t->backend, id);
}

void mapping_release(struct tenant *t, struct ioas_obj *o,
		     struct mapping *m)
{
	struct tenant_import *imp = m->imp;
	uint64_t freed;

	journal_mapping(t, o, m, true);
	RB_REMOVE(mapping_tree, &o->mappings, m);
	o->nmappings--;
	t->usage.mappings--;
	t->set->totals.mappings--;
	t->usage.mapped_bytes -= m->length;
	if (m->outside_policy)
		t->usage.mappings_outside_policy--;
	m->mem->nmappings--;
	freed = pin_del(&m->mem->pins, m->mem_offset,
			m->mem_offset + m->length);
	m->mem->pinned -= freed;
	/* Pinned bytes belong to the memory's owner, not the mapper. */
	m->mem->owner->usage.pinned_bytes -= freed;
	t->set->totals.pinned_bytes -= freed;
	free(m);
	/* The last piece of an import gone (unmapped by the importer, its
	 * IOAS destroyed or released, or revoked): the import is gone. */
	if (imp && --imp->npieces == 0) {
		journal_import(imp, true);
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
void range_unmap_release(struct tenant *t, struct ioas_obj *o,
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
void mapping_clip(const struct mapping *m, uint64_t first, uint64_t last,
		  uint64_t *ret_start, uint64_t *ret_length)
{
	uint64_t a = m->iova > first ? m->iova : first;
	uint64_t m_last = m->iova + (m->length - 1);
	uint64_t z = m_last < last ? m_last : last;

	*ret_start = a;
	*ret_length = z - a + 1;
}

void ioas_release_mappings(struct tenant *t, struct ioas_obj *o)
{
	struct mapping *m;

	while ((m = RB_MIN(mapping_tree, &o->mappings)))
		mapping_release(t, o, m);
}

void ioas_free(struct tenant *t, struct ioas_obj *o)
{
	journal_ioas(t, o, true);
	o->quiet = true; /* its mappings go with it */
	ioas_release_mappings(t, o);
	RB_REMOVE(ioas_tree, &t->ioases, o);
	t->usage.ioas--;
	t->set->totals.ioas--;
	free(o->own_allowed);
	free(o);
}

/* Record an attached device (device_free undoes it). */
void device_insert(struct tenant *t, struct tenant_device *d,
		   struct ioas_obj *o)
{
	d->ioas = o;
	o->ndevices++;
	LIST_INSERT_HEAD(&t->devices, d, link);
	t->usage.devices++;
	if (d->stored)
		journal_device(t, d, false);
	t->set->totals.devices++;
}

/* Drop a device detached already, or (detach) detach it first: 0 even if the
 * client detached it itself. */
void device_free(struct tenant *t, struct tenant_device *d, bool detach)
{
	int r;

	pasids_release(t, d, detach); /* its PASIDs first (tenant/faults.c) */
	r = detach ? backend_device_detach(t->backend, d->fd) : 0;

	if (r < 0)
		log_warn("tenant %s: detaching device %" PRIu32 ": %s", t->name,
			 d->handle, strerror(-r));
	d->ioas->ndevices--;
	if (d->hwpt)
		d->hwpt->devices--;
	if (d->stored)
		journal_device(t, d, true);
	if (d->stored && t->set->fd_unstore_hook)
		t->set->fd_unstore_hook(t->set->fd_store_data, "dev", d->store_id);
	LIST_REMOVE(d, link);
	t->usage.devices--;
	t->set->totals.devices--;
	safe_close(d->fd);
	free(d);
}

void mem_free(struct tenant *t, struct mem_obj *m)
{
	struct pin_seg *s;

	while ((s = RB_MIN(pin_tree, &m->pins))) {
		RB_REMOVE(pin_tree, &m->pins, s);
		free(s);
	}
	journal_memory(t, m, true);
	RB_REMOVE(mem_tree, &t->mems, m);
	if (m->store_id && t->set->fd_unstore_hook)
		t->set->fd_unstore_hook(t->set->fd_store_data, "mem", m->store_id);
	memory_region_free(m->region);
	t->usage.memory_regions--;
	free(m);
}

const char *tenant_name(const struct tenant *t)
{
	return t->name;
}

void tenant_get_usage(const struct tenant *t, struct tenant_usage *ret)
{
	*ret = t->usage;
}

void tenant_get_totals(const struct tenants *ts, struct tenant_totals *ret)
{
	*ret = ts->totals;
}
