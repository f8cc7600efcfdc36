/* SPDX-License-Identifier: MIT */
/*
 * Test builds with mock domains (ioasd --test-mock-domains, a kernel with
 * CONFIG_IOMMUFD_TEST; see hwpt-test.c for "device 0"): what stands in for
 * a device's I/O page faults and DMA writes, so that the real-kernel suite
 * can prove issue 16 through the broker as a tenant sees it.
 *
 *  - When the mock device goes onto an HWPT with a fault queue
 *    (DeviceReplace of device 0), the daemon asks the kernel for one fault
 *    of it (IOMMU_TEST_OP_TRIGGER_IOPF: PASID 1, group 2, read|write, at
 *    0xdeadbeaf); the tenant reads it from the queue's fd and answers.
 *  - When dirty tracking of an HWPT made for device 0 is turned on, the
 *    daemon marks two pages of its IOAS's first mapping dirty
 *    (IOMMU_TEST_OP_DIRTY of mock pages 0 and 4, the mock's pages being
 *    PAGE_SIZE / 2: 6.12's op looks pages up at that size only); a bitmap
 *    read at PAGE_SIZE must show exactly pages 0 and 2.
 *  - Device 0 at a PASID (7.2, whose mock device the daemon makes with
 *    MOCK_FLAGS_DEVICE_PASID when the kernel has PASID attach: ioas.c):
 *    PasidAttach and PasidDetach of device 0 go to the mock device of the
 *    IOAS of their HWPT (or the IOAS named) through IOMMU_TEST_OP_PASID_
 *    ATTACH, _REPLACE (a second attach of the PASID) and _DETACH, through
 *    the same policy, quota, audit and records as a VFIO device's. After
 *    each, IOMMU_TEST_OP_PASID_CHECK_HWPT must find the PASID on the HWPT
 *    the request put it on (on none after a detach); if the kernel does not
 *    confirm it, the PASID is detached and the request fails with EIO.
 * Each is logged ("test hook: ..."). Production builds never get here.
 */
#include "iommu/backend-faults.h"
#include "tenant/tenant-internal.h"


void faults_test_replaced(struct tenant *t, struct ioas_obj *o,
			  const struct tenant_hwpt *h)
{
	int r;

	if (!t->set->test_mock_domains || !h || !h->fault || !o->mock_idev)
		return;
	r = backend_kernel_test_trigger_iopf(t->backend, o->mock_idev, 1, 2, 3,
					     0xdeadbeaf);
	log_info("test hook: tenant %s: IOMMU_TEST_OP_TRIGGER_IOPF of the mock device "
		 "of IOAS %" PRIu32 " on HWPT %" PRIu32 " (fault queue %" PRIu32 "): %s",
		 t->name, o->handle, h->handle, h->fault->handle,
		 r < 0 ? strerror(-r) : "triggered");
}

void faults_test_dirty_on(struct tenant *t, const struct tenant_hwpt *h)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE) / 2; /* MOCK_IO_PAGE_SIZE */
	uint64_t pages = 0x11, count = 0; /* mock pages 0 and 4 */
	struct mapping *m;
	int r;

	if (!t->set->test_mock_domains || h->device != 0 || h->parent)
		return;
	m = RB_MIN(mapping_tree, &h->ioas->mappings);
	if (!m || m->length < 8 * page) {
		log_info("test hook: tenant %s: HWPT %" PRIu32 ": no mapping of 8 mock "
			 "pages to dirty", t->name, h->handle);
		return;
	}
	r = backend_kernel_test_dirty(t->backend, h->id, m->iova, 8 * page, page,
				      &pages, &count);
	log_info("test hook: tenant %s: IOMMU_TEST_OP_DIRTY of HWPT %" PRIu32 " at 0x%"
		 PRIx64 ": mock pages 0 and 4 of %" PRIu64 " bytes (pages 0 and 2 of "
		 "%" PRIu64 "): %s, %" PRIu64 " marked", t->name, h->handle, m->iova,
		 page, 2 * page, r < 0 ? strerror(-r) : "done", count);
}

/* want: the HWPT the mock device must be on at pasid (0: none); one the
 * kernel does not confirm is detached (*ret_detached). */
static int pasid_check(struct tenant *t, struct ioas_obj *m, uint32_t pasid,
		       uint32_t want, const char *after, bool *ret_detached,
		       struct err *e)
{
	int r = backend_kernel_test_pasid_check(t->backend, m->mock_stdev, pasid, want);

	if (r < 0) {
		log_err("test hook: tenant %s: IOMMU_TEST_OP_PASID_CHECK_HWPT after %s: the "
			"mock device of IOAS %" PRIu32 " at PASID %" PRIu32 " is not on "
			"kernel HWPT %" PRIu32 ": %s", t->name, after, m->handle, pasid,
			want, strerror(-r));
		if (want)
			*ret_detached = backend_kernel_test_pasid_detach(
				t->backend, m->mock_stdev, pasid) == 0;
		return err_set(e, EIO, "test hook: the kernel does not confirm %s of the "
			       "mock device of IOAS %" PRIu32 " at PASID %" PRIu32
			       " (IOMMU_TEST_OP_PASID_CHECK_HWPT; see the daemon's log)",
			       after, m->handle, pasid);
	}
	if (want)
		log_info("test hook: tenant %s: IOMMU_TEST_OP_PASID_CHECK_HWPT after %s: the "
			 "mock device of IOAS %" PRIu32 " at PASID %" PRIu32 " is on kernel "
			 "HWPT %" PRIu32, t->name, after, m->handle, pasid, want);
	else
		log_info("test hook: tenant %s: IOMMU_TEST_OP_PASID_CHECK_HWPT after %s: the "
			 "mock device of IOAS %" PRIu32 " at PASID %" PRIu32 " is on nothing",
			 t->name, after, m->handle, pasid);
	return 0;
}

int faults_test_pasid_attach(struct tenant *t, struct ioas_obj *m, uint32_t pasid,
			     const struct tenant_hwpt *h, bool replace,
			     uint32_t *ret_hwpt, bool *ret_detached, struct err *e)
{
	int r;

	*ret_detached = false;
	if (!m->mock_stdev)
		return err_set(e, ENOENT, "test hook: IOAS %" PRIu32 " has no mock device",
			       m->handle);
	r = backend_kernel_test_pasid_attach(t->backend, m->mock_stdev, pasid,
					     h ? h->id : m->id, replace, ret_hwpt);
	if (r < 0)
		return err_errno(e, r, "test hook: IOMMU_TEST_OP_PASID_%s of the mock device "
				 "of IOAS %" PRIu32 " at PASID %" PRIu32 " onto %s %" PRIu32
				 " refused%s", replace ? "REPLACE" : "ATTACH", m->handle,
				 pasid, h ? "HWPT" : "IOAS", h ? h->handle : m->handle,
				 r == -EINVAL ? " (the kernel wants an HWPT allocated with "
				 "PASID (0x8), the mock device on one too)" : "");
	/* An HWPT: that one; an IOAS: the one the kernel made for it. */
	return pasid_check(t, m, pasid, h ? h->id : *ret_hwpt,
			   replace ? "a replace" : "an attach", ret_detached, e);
}

int faults_test_pasid_detach(struct tenant *t, struct ioas_obj *m, uint32_t pasid,
			     struct err *e)
{
	int r = backend_kernel_test_pasid_detach(t->backend, m->mock_stdev, pasid);
	bool unused = false; /* a detach is never undone */

	if (r < 0)
		return err_errno(e, r, "test hook: IOMMU_TEST_OP_PASID_DETACH of the mock "
				 "device of IOAS %" PRIu32 " at PASID %" PRIu32 " refused",
				 m->handle, pasid);
	return pasid_check(t, m, pasid, 0, "a detach", &unused, e);
}
