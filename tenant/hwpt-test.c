/* SPDX-License-Identifier: MIT */
/*
 * Test builds with mock domains (ioasd --test-mock-domains, a kernel with
 * CONFIG_IOMMUFD_TEST): every IOAS handed out has the kernel's self-test
 * mock device attached, and this file lets a tenant use it for hardware
 * page tables as "device 0" (a handle no real device ever has): HwptAlloc
 * for its IOMMU (the mock driver, which nests with IOMMU_HWPT_DATA_
 * SELFTEST), DeviceReplace onto an HWPT of that IOAS and back
 * (IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE). The kernel's own check then says
 * whether the tenant's requests reached the mock's IOTLBs: after a nested
 * HWPT is allocated with selftest data, and after each invalidation of
 * one, IOMMU_TEST_OP_MD_CHECK_IOTLB must find in each of its four IOTLBs
 * the value the data gave it, or 0 once an invalidation the kernel handled
 * cleared it; a request the kernel does not confirm fails with EIO.
 * Production builds never get here (test_mock_domains stays false).
 */
#include "tenant/tenant-internal.h"

#define SELFTEST_ALLOC_TYPE 0xdeadu          /* IOMMU_HWPT_DATA_SELFTEST */
#define SELFTEST_INVALIDATE_TYPE 0xdeadbeefu /* IOMMU_HWPT_INVALIDATE_DATA_SELFTEST */
#define SELFTEST_INVALIDATE_ALL 1u           /* IOMMU_TEST_INVALIDATE_FLAG_ALL */
#define SELFTEST_IOTLBS 4u                   /* MOCK_NESTED_DOMAIN_IOTLB_NUM */
#define SELFTEST_VIOMMU_INVALIDATE 0xdeadbeefu /* IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST */
#define SELFTEST_DEV_CACHES 4u               /* MOCK_DEV_CACHE_NUM */
#define SELFTEST_DEV_CACHE_DEFAULT 0xbaddadu /* IOMMU_TEST_DEV_CACHE_DEFAULT */

bool hwpt_test_mock(const struct tenant *t, uint32_t device)
{
	return device == 0 && t->set->test_mock_domains;
}

int hwpt_test_mock_dev_id(struct tenant *t, struct ioas_obj *o, uint32_t *ret,
			  struct err *e)
{
	(void)t;
	if (!o->mock_idev)
		return err_set(e, ENOENT, "test hook: IOAS %" PRIu32 " has no mock device "
			       "to allocate for", o->handle);
	*ret = o->mock_idev;
	return 0;
}

int hwpt_test_mock_replace(struct tenant *t, struct ioas_obj *o,
			   struct tenant_hwpt *h, struct err *e)
{
	uint32_t got = 0;
	int r;

	if (!o->mock_stdev)
		return err_set(e, ENOENT, "test hook: IOAS %" PRIu32 " has no mock device",
			       o->handle);
	r = backend_kernel_test_mock_replace(t->backend, o->mock_stdev,
					     h ? h->id : o->id, &got);
	if (r < 0)
		return err_errno(e, r, "test hook: IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE of the "
				 "mock device of IOAS %" PRIu32 " onto %s %" PRIu32 " refused",
				 o->handle, h ? "HWPT" : "IOAS", h ? h->handle : o->handle);
	if (o->mock_on)
		o->mock_on->devices--;
	o->mock_on = h;
	if (h)
		h->devices++;
	journal_ioas(t, o, false); /* where the mock is, for a restart */
	/* MD_CHECK_MAP of later mappings: the paging domain it is on (an
	 * IOAS's own one is new after a replace back), none under a nested
	 * one (its stage 1 is not what the IOAS maps). */
	o->mock_hwpt = h && h->parent ? 0 : got;
	log_info("test hook: tenant %s: the mock device of IOAS %" PRIu32 " is on %s %" PRIu32,
		 t->name, o->handle, h ? "HWPT" : "IOAS", h ? h->handle : o->handle);
	return 0;
}

/* Before the HWPTs go with the tenant: every mock device off its PASIDs
 * and back onto its IOAS, or the kernel would keep its HWPT (EBUSY). */
void hwpt_test_mock_release(struct tenant *t)
{
	struct ioas_obj *o;
	struct err e = { 0 };

	pasids_release(t, NULL, true); /* device 0's PASIDs first */
	RB_FOREACH(o, ioas_tree, &t->ioases)
		if (o->mock_on && hwpt_test_mock_replace(t, o, NULL, &e) < 0)
			log_warn("tenant %s: %s", t->name, e.msg);
}

/* What each IOTLB of h must hold now: the data's value, or 0 once cleared. */
static int check_iotlbs(struct tenant *t, const struct tenant_hwpt *h,
			const char *after, struct err *e)
{
	uint32_t value, want;
	int r;

	memcpy(&value, h->data, sizeof(value));
	for (uint32_t i = 0; i < SELFTEST_IOTLBS; i++) {
		want = h->test_cleared & (1u << i) ? 0 : value;
		r = backend_kernel_test_check_iotlb(t->backend, h->id, i, want);
		if (r < 0) {
			log_err("test hook: tenant %s: IOMMU_TEST_OP_MD_CHECK_IOTLB after %s: "
				"IOTLB %" PRIu32 " of HWPT %" PRIu32 " does not hold 0x%" PRIx32
				": %s", t->name, after, i, h->handle, want, strerror(-r));
			return err_set(e, EIO, "test hook: the kernel's mock IOTLB %" PRIu32
				       " of HWPT %" PRIu32 " does not hold 0x%" PRIx32 " after %s "
				       "(IOMMU_TEST_OP_MD_CHECK_IOTLB; see the daemon's log)",
				       i, h->handle, want, after);
		}
	}
	log_info("test hook: tenant %s: IOMMU_TEST_OP_MD_CHECK_IOTLB after %s: HWPT %" PRIu32
		 " holds 0x%" PRIx32 " in its IOTLBs but the cleared ones (mask 0x%x)",
		 t->name, after, h->handle, value, h->test_cleared);
	return 0;
}

int hwpt_test_check_nested(struct tenant *t, const struct tenant_hwpt *h,
			   struct err *e)
{
	if (!t->set->test_mock_domains || !h->parent ||
	    h->data_type != SELFTEST_ALLOC_TYPE || h->data_len < sizeof(uint32_t))
		return 0;
	return check_iotlbs(t, h, "the nested HWPT's allocation", e);
}

int hwpt_test_check_invalidate(struct tenant *t, const struct tenant_hwpt *h_const,
			       uint32_t data_type, const void *entries,
			       uint32_t entry_len, uint32_t done, struct err *e)
{
	struct tenant_hwpt *h = (struct tenant_hwpt *)h_const;
	const uint8_t *p = entries;
	uint32_t flags, id;

	if (!t->set->test_mock_domains || data_type != SELFTEST_INVALIDATE_TYPE ||
	    h->data_type != SELFTEST_ALLOC_TYPE || h->data_len < sizeof(uint32_t) ||
	    entry_len < 2 * sizeof(uint32_t))
		return 0;
	for (uint32_t k = 0; k < done; k++, p += entry_len) {
		memcpy(&flags, p, sizeof(flags));
		memcpy(&id, p + sizeof(flags), sizeof(id));
		if (flags & SELFTEST_INVALIDATE_ALL)
			h->test_cleared = (1u << SELFTEST_IOTLBS) - 1;
		else if (id < SELFTEST_IOTLBS)
			h->test_cleared |= 1u << id;
	}
	return check_iotlbs(t, h, "an invalidation", e);
}

/*
 * A vIOMMU's selftest invalidation (struct iommu_viommu_invalidate_selftest
 * {flags, vdev_id, cache_id}) clears caches of the mock device whose vDEVICE
 * in it has that virtual id; IOMMU_TEST_OP_DEV_CHECK_CACHE must then find 0
 * in each cleared cache and the default elsewhere. After a daemon restart
 * this proves that the restored vIOMMU and vDEVICE are the kernel's own.
 */
int hwpt_test_check_viommu_invalidate(struct tenant *t, const struct tenant_viommu *v,
				      uint32_t data_type, const void *entries,
				      uint32_t entry_len, uint32_t done, struct err *e)
{
	struct ioas_obj *o = v->parent->ioas;
	const struct tenant_viommu *d;
	const uint8_t *p = entries;
	uint32_t flags, vdev_id, cache_id, want;
	bool mock = false;
	int r;

	if (!t->set->test_mock_domains || data_type != SELFTEST_VIOMMU_INVALIDATE ||
	    entry_len < 3 * sizeof(uint32_t) || !o->mock_idev)
		return 0;
	for (uint32_t k = 0; k < done; k++, p += entry_len) {
		memcpy(&flags, p, sizeof(flags));
		memcpy(&vdev_id, p + 4, sizeof(vdev_id));
		memcpy(&cache_id, p + 8, sizeof(cache_id));
		LIST_FOREACH(d, &t->vobjs, link)
			if (d->kind == TENANT_VDEVICE && d->viommu == v &&
			    d->virt_id == vdev_id && hwpt_test_mock(t, d->device))
				break;
		if (!d)
			continue;
		mock = true;
		if (flags & SELFTEST_INVALIDATE_ALL)
			o->mock_cache_cleared = (1u << SELFTEST_DEV_CACHES) - 1;
		else if (cache_id < SELFTEST_DEV_CACHES)
			o->mock_cache_cleared |= 1u << cache_id;
	}
	if (!mock)
		return 0;
	for (uint32_t i = 0; i < SELFTEST_DEV_CACHES; i++) {
		want = o->mock_cache_cleared & (1u << i) ? 0 : SELFTEST_DEV_CACHE_DEFAULT;
		r = backend_kernel_test_check_dev_cache(t->backend, o->mock_idev, i, want);
		if (r < 0) {
			log_err("test hook: tenant %s: IOMMU_TEST_OP_DEV_CHECK_CACHE after a "
				"vIOMMU invalidation: cache %" PRIu32 " of the mock device "
				"does not hold 0x%" PRIx32 ": %s", t->name, i, want,
				strerror(-r));
			return err_set(e, EIO, "test hook: the kernel's mock device cache %"
				       PRIu32 " does not hold 0x%" PRIx32 " after an invalidation "
				       "of vIOMMU %" PRIu32 " (IOMMU_TEST_OP_DEV_CHECK_CACHE; see "
				       "the daemon's log)", i, want, v->handle);
		}
	}
	log_info("test hook: tenant %s: IOMMU_TEST_OP_DEV_CHECK_CACHE after an invalidation "
		 "of vIOMMU %" PRIu32 ": the mock device's caches hold 0x%x but the cleared "
		 "ones (mask 0x%x)", t->name, v->handle, SELFTEST_DEV_CACHE_DEFAULT,
		 o->mock_cache_cleared);
	return 0;
}
