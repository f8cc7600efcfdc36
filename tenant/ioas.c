/* SPDX-License-Identifier: MIT */
/*
 * IOASes (from the pool, or in a device tenant's own context, with the
 * tenant's policy applied: AllowedIOVA, HugePages) and registered memory.
 */
#include "iommu/backend-faults.h"
#include "tenant/tenant-internal.h"

/* ------------------------------------------------------------ IOAS */

/* Apply the tenant's policy to a fresh IOAS: AllowedIOVA, HugePages. */
/*
 * Set the allowed IOVA list of backend IOAS id from the policy in force and
 * the tenant's own narrowing of it (own[n_own], none for a new IOAS). With
 * neither, the list is cleared only when clear is set (a reload lifted the
 * restriction); a new IOAS is left as it is.
 */
int ioas_apply_allowed(struct tenant *t, uint32_t id,
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
int ioas_new_backend(struct tenant *t, uint32_t *ret_id, struct err *e)
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
	if (t->set->test_mock_domains) {
		/* One that takes PASIDs where the kernel has PASID attach
		 * (7.2; faults-test.c). */
		r = t->backend->has_pasid ?
			backend_kernel_test_mock_domain_pasid(t->backend, id, &o->mock_stdev,
							      &o->mock_hwpt, &o->mock_idev) :
			backend_kernel_test_mock_domain(t->backend, id, &o->mock_stdev,
							&o->mock_hwpt, &o->mock_idev);
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
	t->set->totals.ioas++;
	journal_ioas(t, o, false);
	journal_tenant(t, false);
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
	if (o->nhwpts)
		return err_set(e, EBUSY,
			       "IOAS %" PRIu32 " holds %" PRIu32
			       " HWPT(s) allocated from it: destroy them first",
			       handle, o->nhwpts);
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
	/* The kernel's argument checks (iommufd_ioas_load_iovas) before the
	 * policy's: each range needs start < last and may not overlap an
	 * earlier one (touching is fine), else EINVAL. */
	for (uint32_t i = 0; i < num; i++) {
		if (ranges[i].start >= ranges[i].last)
			return err_set(e, EINVAL,
				       "allowed range %" PRIu32
				       " [0x%" PRIx64 ", 0x%" PRIx64
				       "]: start must be below last",
				       i, ranges[i].start, ranges[i].last);
		for (uint32_t j = 0; j < i; j++)
			if (ranges[j].start <= ranges[i].last &&
			    ranges[i].start <= ranges[j].last)
				return err_set(e, EINVAL,
					       "allowed range %" PRIu32 " [0x%" PRIx64
					       ", 0x%" PRIx64 "] overlaps range %" PRIu32,
					       i, ranges[i].start, ranges[i].last, j);
	}
	if (t->pt && t->pt->n_allowed_iova > 0) {
		char why[400];

		/* Narrowing is the tenant's business; widening past policy,
		 * or clearing the list (= everything), is not. */
		if (num == 0)
			return err_set(e, EPERM,
				       "the allowed IOVA list cannot be cleared: policy restricts it%s",
				       cite(t, POLICY_KEY_ALLOWED_IOVA, why, sizeof(why)));
		for (uint32_t i = 0; i < num; i++)
			if (!policy_tenant_iova_allowed(t->pt, ranges[i].start,
							ranges[i].last - ranges[i].start + 1))
				return err_set(e, EPERM,
					       "allowed range [0x%" PRIx64 ", 0x%" PRIx64
					       "] is outside the policy's AllowedIOVA%s",
					       ranges[i].start, ranges[i].last,
					       cite(t, POLICY_KEY_ALLOWED_IOVA, why, sizeof(why)));
	}
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
	journal_ioas(t, o, false);
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
	if (t->set->fd_store_hook) {
		r = t->set->fd_store_hook(t->set->fd_store_data, "mem", region->fd, &m->store_id, e);
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
	journal_memory(t, m, false);
	journal_tenant(t, false);
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
