/* SPDX-License-Identifier: MIT */
/*
 * The iommufd uAPI of issue 16 (fault queues, dirty tracking, PASID attach),
 * beside iommufd-uapi.h and under its rules (sizes and offsets pinned, our
 * own IOFD_ / iofd_ names), restated from the kernel's documented ABI of
 * Linux 6.12 and 7.2 (include/uapi/linux/iommufd.h, vfio.h).
 */
#pragma once

#include "iommu/iommufd-uapi.h"

#define IOFD_NR_HWPT_SET_DIRTY_TRACKING 0x0b /* Linux 6.7 and later */
#define IOFD_NR_HWPT_GET_DIRTY_BITMAP 0x0c
#define IOFD_NR_FAULT_QUEUE_ALLOC 0x0e /* Linux 6.11 and later */
#define IOFD_NR_VEVENTQ_ALLOC 0x13 /* Linux 6.15 and later */

#define IOFD_HWPT_SET_DIRTY_TRACKING IOFD_CMD(IOFD_NR_HWPT_SET_DIRTY_TRACKING)
#define IOFD_HWPT_GET_DIRTY_BITMAP IOFD_CMD(IOFD_NR_HWPT_GET_DIRTY_BITMAP)
#define IOFD_FAULT_QUEUE_ALLOC IOFD_CMD(IOFD_NR_FAULT_QUEUE_ALLOC)
#define IOFD_VEVENTQ_ALLOC IOFD_CMD(IOFD_NR_VEVENTQ_ALLOC)

/* A fault queue: an object (out_fault_id, for IOMMU_HWPT_ALLOC's fault_id)
 * and an fd (out_fault_fd) that reads fault groups and takes responses. */
struct iofd_fault_alloc {
	uint32_t size;
	uint32_t flags; /* must be 0 */
	uint32_t out_fault_id;
	uint32_t out_fault_fd;
};
IOFD_ASSERT_SIZE(iofd_fault_alloc, 16);
IOFD_ASSERT_OFF(iofd_fault_alloc, out_fault_id, 8);
IOFD_ASSERT_OFF(iofd_fault_alloc, out_fault_fd, 12);

/* What a read of the fault fd returns: whole groups of these, the last of
 * a group with IOFD_PGFAULT_LAST_PAGE. A read whose count is not a multiple
 * of the record (or at a non-zero position) fails ESPIPE; one that cannot
 * take the first whole group fails EINVAL. */
#define IOFD_PGFAULT_PASID_VALID (1u << 0)
#define IOFD_PGFAULT_LAST_PAGE (1u << 1)
#define IOFD_PGFAULT_PERM_READ (1u << 0)
#define IOFD_PGFAULT_PERM_WRITE (1u << 1)
#define IOFD_PGFAULT_PERM_EXEC (1u << 2)
#define IOFD_PGFAULT_PERM_PRIV (1u << 3)
struct iofd_hwpt_pgfault {
	uint32_t flags;
	uint32_t dev_id;
	uint32_t pasid;
	uint32_t grpid;
	uint32_t perm;
	uint32_t reserved;
	iofd_u64 addr;
	uint32_t length;
	uint32_t cookie;
};
IOFD_ASSERT_SIZE(iofd_hwpt_pgfault, 40);
IOFD_ASSERT_OFF(iofd_hwpt_pgfault, grpid, 12);
IOFD_ASSERT_OFF(iofd_hwpt_pgfault, addr, 24);
IOFD_ASSERT_OFF(iofd_hwpt_pgfault, cookie, 36);

/* What a write to the fault fd takes: one per group (the cookie of its
 * last fault); an unknown cookie fails EINVAL. */
#define IOFD_PAGE_RESP_SUCCESS 0
#define IOFD_PAGE_RESP_INVALID 1
struct iofd_hwpt_page_response {
	uint32_t cookie;
	uint32_t code;
};
IOFD_ASSERT_SIZE(iofd_hwpt_page_response, 8);

#define IOFD_HWPT_DIRTY_TRACKING_ENABLE 1u
struct iofd_hwpt_set_dirty_tracking {
	uint32_t size;
	uint32_t flags;
	uint32_t hwpt_id;
	uint32_t reserved;
};
IOFD_ASSERT_SIZE(iofd_hwpt_set_dirty_tracking, 16);
IOFD_ASSERT_OFF(iofd_hwpt_set_dirty_tracking, hwpt_id, 8);

/* Bit i of the u64 array at data: the page_size page at iova + i * page_size
 * was written since the last clear. */
#define IOFD_HWPT_GET_DIRTY_BITMAP_NO_CLEAR 1u
struct iofd_hwpt_get_dirty_bitmap {
	uint32_t size;
	uint32_t hwpt_id;
	uint32_t flags;
	uint32_t reserved;
	iofd_u64 iova;
	iofd_u64 length;
	iofd_u64 page_size;
	iofd_u64 data;
};
IOFD_ASSERT_SIZE(iofd_hwpt_get_dirty_bitmap, 48);
IOFD_ASSERT_OFF(iofd_hwpt_get_dirty_bitmap, iova, 16);
IOFD_ASSERT_OFF(iofd_hwpt_get_dirty_bitmap, page_size, 32);
IOFD_ASSERT_OFF(iofd_hwpt_get_dirty_bitmap, data, 40);

/* VFIO_DEVICE_ATTACH_IOMMUFD_PT / DETACH with a PASID (7.2; 6.12 refuses
 * any flag with EINVAL). The attach struct is iofd_vfio_attach_pt. */
#define IOFD_VFIO_DEVICE_ATTACH_PASID (1u << 0)
#define IOFD_VFIO_DEVICE_DETACH_PASID (1u << 0)
struct iofd_vfio_detach_pt_pasid {
	uint32_t argsz;
	uint32_t flags;
	uint32_t pasid;
};
IOFD_ASSERT_SIZE(iofd_vfio_detach_pt_pasid, 12);

/* The self-test ops the real-kernel proofs drive (iommufd_test.h of 6.12
 * and 7.2; same numbers in both). */
#define IOFD_TEST_OP_MOCK_DOMAIN_FLAGS 12
#define IOFD_TEST_OP_DIRTY 13
#define IOFD_TEST_OP_TRIGGER_IOPF 15
#define IOFD_TEST_OP_PASID_ATTACH 18 /* 7.2 */
#define IOFD_TEST_OP_PASID_REPLACE 19 /* 7.2 */
#define IOFD_TEST_OP_PASID_DETACH 20 /* 7.2 */
#define IOFD_TEST_OP_PASID_CHECK_HWPT 21 /* 7.2 */
#define IOFD_MOCK_FLAGS_DEVICE_NO_DIRTY (1u << 0)
#define IOFD_MOCK_FLAGS_DEVICE_PASID (1u << 2) /* 7.2 */
