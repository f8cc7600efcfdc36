/* SPDX-License-Identifier: MIT */
/*
 * Releasing a tenant: at once what others depend on (its shares, its
 * imports, its devices, its name), then its own mappings a slice at a time
 * (tenants_reap), so that releasing a million mappings does not stall the
 * daemon for everyone else. tenant_free() does it all at once.
 */
#include "tenant/tenant-internal.h"

/* What must go with the release itself: the tenant leaves the registry
 * (its name may be used again), importers lose what they imported from
 * it, it loses what it imported (others' memory), its devices are
 * detached. What is left maps only its own memory. */
static void release_now(struct tenant *t)
{
	struct tenants *ts = t->set;

	/* One event for all of it; the importers' losses are their own. */
	journal_tenant(t, true);
	t->quiet = true;
	while (!LIST_EMPTY(&t->shares))
		share_free(LIST_FIRST(&t->shares), "exporter-gone");
	while (!LIST_EMPTY(&t->imports))
		import_release(LIST_FIRST(&t->imports));
	vobjs_release(t, false); /* vDEVICEs before their devices go */
	while (!LIST_EMPTY(&t->devices))
		device_free(t, LIST_FIRST(&t->devices), true);
	hwpts_release(t);
	faults_release(t);
	LIST_REMOVE(t, link);
	LIST_INSERT_HEAD(&ts->dying, t, link);
	ts->totals.tenants--;
	t->dying = true;
}

/* The end of a tenant whose IOASes are gone. */
static void finish(struct tenant *t)
{
	struct mem_obj *m;

	while ((m = RB_MIN(mem_tree, &t->mems)))
		mem_free(t, m);
	backend_close(t->own_ctx);
	/* The stored copy would keep the context, and every page its IOASes
	 * still pinned, alive. */
	if (t->ctx_stored && t->set->fd_unstore_hook)
		t->set->fd_unstore_hook(t->set->fd_store_data, "ctx", t->ctx_store_id);
	LIST_REMOVE(t, link);
	policy_tenant_unref(t->pt);
	explicit_bzero(t->reclaim_token, sizeof(t->reclaim_token));
	free(t->name);
	free(t);
}

/* An empty IOAS goes back to the pool (reset) or is destroyed. */
static void ioas_done(struct tenant *t, struct ioas_obj *o)
{
	int r = ioas_put_backend(t, o->id, o->mock_stdev);

	if (r < 0)
		log_warn("tenant %s: IOAS %" PRIu32 " (id %" PRIu32 ") not destroyed: %s "
			 "(emptied; it goes with the context)", t->name, o->handle, o->id,
			 strerror(-r));
	ioas_free(t, o);
}

/*
 * Up to budget of o's mappings, lowest first: one unmap of the range from
 * the first to the last of them (whole mappings: the backend removes
 * exactly those), then the tables. Returns how many went.
 */
static size_t reap_slice(struct tenant *t, struct ioas_obj *o, size_t budget,
			 uint64_t *ret_bytes)
{
	struct mapping *first = RB_MIN(mapping_tree, &o->mappings), *m = first, *next;
	uint64_t last = 0, unmapped, bytes = 0;
	size_t n = 0;

	for (; m && n < budget; m = RB_NEXT(mapping_tree, &o->mappings, m), n++)
		last = m->iova + (m->length - 1);
	if (!m) {
		(void)backend_unmap(t->backend, o->id, 0, UINT64_MAX, &unmapped);
	} else if (backend_unmap(t->backend, o->id, first->iova, last - first->iova + 1,
				 &unmapped) < 0) {
		/* The backend disagrees with the tables: all of it, now. */
		(void)backend_unmap(t->backend, o->id, 0, UINT64_MAX, &unmapped);
		budget = SIZE_MAX;
	}
	for (m = first, n = 0; m && n < budget; m = next, n++) {
		next = RB_NEXT(mapping_tree, &o->mappings, m);
		bytes += m->length;
		mapping_release(t, o, m);
	}
	if (ret_bytes)
		*ret_bytes = bytes;
	return n;
}

bool tenants_reap(struct tenants *ts, size_t budget)
{
	struct tenant *t;

	while (budget > 0 && (t = LIST_FIRST(&ts->dying))) {
		struct ioas_obj *o = RB_MIN(ioas_tree, &t->ioases);

		if (!o) {
			finish(t);
			continue;
		}
		if (!RB_EMPTY(&o->mappings)) {
			size_t n = reap_slice(t, o, budget, NULL);

			budget = n >= budget ? 0 : budget - n;
		} else {
			ioas_done(t, o);
			budget--;
		}
	}
	return !LIST_EMPTY(&ts->dying);
}

bool tenants_reaping(const struct tenants *ts)
{
	return !LIST_EMPTY(&ts->dying);
}

void tenant_release(struct tenant *t)
{
	if (t && !t->dying)
		release_now(t);
}

struct tenant *tenant_free(struct tenant *t)
{
	struct ioas_obj *o;

	if (!t)
		return NULL;
	if (!t->dying)
		release_now(t);
	/* Everything unmapped in one call per IOAS first, so that the pages
	 * are unpinned and no device reaches them even if an IOAS cannot be
	 * reset or destroyed. */
	RB_FOREACH(o, ioas_tree, &t->ioases) {
		uint64_t unmapped;

		(void)backend_unmap(t->backend, o->id, 0, UINT64_MAX, &unmapped);
		ioas_release_mappings(t, o);
	}
	while ((o = RB_MIN(ioas_tree, &t->ioases)))
		ioas_done(t, o);
	finish(t);
	return NULL;
}

int tenant_unmap_all_step(struct tenant *t, uint32_t ioas, size_t budget,
			  uint64_t *unmapped, bool *ret_done, struct err *e)
{
	struct ioas_obj *o = ioas_get(t, ioas, e);
	uint64_t bytes = 0;

	*ret_done = false;
	if (!o)
		return -ENOENT;
	if (!o->unmapping_all) {
		/* Importers of its shares lose them first: their source is
		 * going whatever happens next. */
		o->unmapping_all = true;
		revoke_shares_in(t, o, 0, UINT64_MAX, "source-unmapped");
	}
	/* One journal event for all of them, at the end. */
	o->quiet = true;
	(void)reap_slice(t, o, budget ? budget : 1, &bytes);
	o->quiet = false;
	*unmapped += bytes;
	if (RB_EMPTY(&o->mappings)) {
		o->unmapping_all = false;
		journal_ioas_emptied(t, o);
		*ret_done = true;
	}
	return 0;
}

void tenant_set_busy(struct tenant *t, bool busy)
{
	t->busy = busy;
}

bool tenant_busy(const struct tenant *t)
{
	return t->busy;
}
