/* SPDX-License-Identifier: MIT */
/*
 * Restart support: the tables dumped for the state file, rebuilt from it,
 * and reconciled with what the kernel still holds.
 */
#include "tenant/tenant-internal.h"

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
	journal_tenant(t, false);
}

void tenant_set_fd_store(struct tenants *ts, tenant_fd_store_fn store,
			 tenant_fd_unstore_fn unstore, void *userdata)
{
	ts->fd_store_hook = store;
	ts->fd_unstore_hook = unstore;
	ts->fd_store_data = userdata;
}

void tenant_get_next_handles(const struct tenant *t, struct tenant_handles *ret)
{
	ret->ioas = t->next_ioas_handle;
	ret->memory = t->next_mem_handle;
	ret->share = t->next_share_handle;
	ret->import = t->next_import_handle;
	ret->device = t->next_device_handle;
	ret->hwpt = t->next_hwpt_handle;
	ret->fault = t->next_fault_handle;
	ret->pasid = t->next_pasid_handle;
	ret->vobj = t->next_vobj_handle;
}

void tenant_set_next_handles(struct tenant *t, const struct tenant_handles *h)
{
	t->next_ioas_handle = h->ioas;
	t->next_mem_handle = h->memory;
	t->next_share_handle = h->share;
	t->next_import_handle = h->import;
	if (h->device)
		t->next_device_handle = h->device;
	if (h->hwpt)
		t->next_hwpt_handle = h->hwpt;
	if (h->fault)
		t->next_fault_handle = h->fault;
	if (h->pasid)
		t->next_pasid_handle = h->pasid;
	if (h->vobj)
		t->next_vobj_handle = h->vobj;
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
	else
		d->dev_id = i->dev_id; /* the stored context still has it bound */
	d->fd = *fd;
	*fd = -1;
	d->handle = i->handle;
	d->info = i->info;
	d->stored = true;
	d->store_id = i->store_id;
	d->restore_hwpt = i->hwpt;
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
		struct tenant_ioas_info ii;

		ioas_info(o, &ii);
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
			struct tenant_mapping_info mi;

			mapping_info(o, m, &mi);
			r = ops->mapping(userdata, &mi);
			if (r < 0)
				return r;
		}
	}
	LIST_FOREACH(d, &t->devices, link) {
		struct tenant_device_info di;

		device_info(d, &di);
		if (!d->stored)
			continue; /* no store: nothing to restore it from */
		r = ops->device(userdata, &di);
		if (r < 0)
			return r;
	}
	/* Queues before the HWPTs that name them, PASIDs after; the vIOMMU
	 * objects last. */
	r = tenant_dump_faults(t, ops, userdata, false);
	if (r < 0)
		return r;
	r = tenant_dump_hwpts(t, ops, userdata);
	if (r < 0)
		return r;
	r = tenant_dump_faults(t, ops, userdata, true);
	return r < 0 ? r : tenant_dump_vobjs(t, ops, userdata);
}

int tenant_restore_ioas(struct tenant *t, const struct tenant_ioas_info *i,
			bool replay, struct err *e)
{
	struct ioas_obj key = { .handle = i->handle }, *o;
	uint32_t id = i->id;
	int r;

	if (i->handle == 0 || RB_FIND(ioas_tree, &t->ioases, &key))
		return err_set(e, EEXIST, "IOAS handle %" PRIu32 " twice", i->handle);
	for (uint32_t k = 0; k < i->n_own_allowed; k++)
		if (i->own_allowed[k].start >= i->own_allowed[k].last)
			return err_set(e, EINVAL, "IOAS %" PRIu32 ": allowed range %" PRIu32
				       " is empty or reversed", i->handle, k);
	o = calloc(1, sizeof(*o));
	if (!o)
		return err_set(e, ENOMEM, "out of memory");
	if (i->n_own_allowed) {
		o->own_allowed = calloc(i->n_own_allowed, sizeof(*o->own_allowed));
		if (!o->own_allowed) {
			free(o);
			return err_set(e, ENOMEM, "out of memory");
		}
		memcpy(o->own_allowed, i->own_allowed,
		       i->n_own_allowed * sizeof(*o->own_allowed));
		o->n_own_allowed = i->n_own_allowed;
	}
	if (replay) {
		/* A fresh context (sim): the IOAS is made again. */
		r = ioas_new_backend(t, &id, e);
		/* The kernel kept the narrowing; a fresh sim has it again. */
		if (r == 0 && o->n_own_allowed) {
			r = ioas_apply_allowed(t, id, o->own_allowed, o->n_own_allowed, false, e);
			if (r < 0)
				(void)ioas_put_backend(t, id, 0);
		}
		if (r < 0) {
			free(o->own_allowed);
			free(o);
			return r;
		}
	} else {
		o->mock_stdev = i->mock_stdev;
		o->mock_hwpt = i->mock_hwpt;
		o->mock_idev = i->mock_idev;
		o->restore_mock_on = i->mock_on;
	}
	o->id = id;
	o->gen = i->gen;
	o->handle = i->handle;
	RB_INIT(&o->mappings);
	RB_INSERT(ioas_tree, &t->ioases, o);
	t->usage.ioas++;
	t->set->totals.ioas++;
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
	LIST_INSERT_HEAD(&t->set->all_shares, s, all_link);
	t->nshares++;
	return 0;
}

int tenant_restore_import(struct tenant *t, const struct tenant_import_info *i,
			  struct err *e)
{
	struct tenant *x = tenant_find(t->set, i->tenant);
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
	struct tenant *owner = tenant_find(t->set, mi->mem_owner);
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
		/* Revoking the share must take every mapping of its
		 * exporter's memory away: no piece maps anyone else's. */
		if (imp->share->owner != owner)
			return err_set(e, EINVAL, "mapping at 0x%" PRIx64 ": a piece of import %"
				       PRIu32 " maps tenant %s's memory, not its exporter's",
				       mi->iova, mi->import, mi->mem_owner);
	}
	/* Another tenant's memory only as a piece of an import. */
	if (owner != t && !imp)
		return err_set(e, EINVAL, "mapping at 0x%" PRIx64 " maps tenant %s's memory "
			       "outside an import", mi->iova, mi->mem_owner);
	if (imp) {
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
			mi->flags, imp, true, "restored mapping", e);
	if (r < 0) {
		uint64_t unmapped;

		if (replay)
			(void)backend_unmap(t->backend, o->id, mi->iova, mi->length,
					    &unmapped);
		return r;
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

int tenant_restore_reconcile(struct tenant *t, bool check_backend,
			     uint32_t *ret_dropped, uint64_t *ret_unknown,
			     struct err *e)
{
	struct tenant_import *imp, *inext;
	struct tenant_share *sh, *snext;
	struct ioas_obj *o, *onext;
	uint32_t scratch = 0, dropped = 0;
	uint64_t unknown = 0;
	int r;

	if (check_backend) {
		r = backend_ioas_alloc(t->backend, &scratch);
		if (r < 0)
			return err_errno(e, r, "allocating a scratch IOAS to check mappings");
	}
	for (o = check_backend ? RB_MIN(ioas_tree, &t->ioases) : NULL; o; o = onext) {
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
	if (check_backend)
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
