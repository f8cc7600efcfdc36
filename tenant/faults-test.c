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
