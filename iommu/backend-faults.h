/* SPDX-License-Identifier: MIT */
/*
 * Issue 16 in the backend: I/O page fault queues, dirty tracking and PASID
 * attach, as a second table of ops beside struct backend_ops (its .faults),
 * with the same contract: 0 or the negative errno the kernel ioctl gives
 * for the same input. kernel-faults.c issues the ioctls; sim-faults.c and
 * sim-dirty.c model them (their headers list the rules and where the sim
 * differs).
 */
#pragma once

#include <sys/types.h>

#include "iommu/backend.h"

/* IOMMU_HWPT_GET_DIRTY_BITMAP flag (kernel value). */
#define BACKEND_DIRTY_NO_CLEAR 1u

/* The records of a fault fd (struct iommu_hwpt_pgfault and
 * struct iommu_hwpt_page_response: kernel sizes). */
#define BACKEND_FAULT_RECORD 40u
#define BACKEND_FAULT_RESPONSE 8u

struct backend_fault_ops {
	/* IOMMU_FAULT_QUEUE_ALLOC: the queue's object id and its fd
	 * (O_CLOEXEC, the caller's to close). */
	int (*fault_alloc)(struct backend *b, uint32_t *ret_id, int *ret_fd);
	/* IOMMU_HWPT_SET_DIRTY_TRACKING of a paging HWPT. */
	int (*set_dirty)(struct backend *b, uint32_t hwpt, bool enable);
	/* IOMMU_HWPT_GET_DIRTY_BITMAP: bitmap has room for one bit per
	 * page_size page of [iova, iova + length), in u64 words. */
	int (*get_dirty)(struct backend *b, uint32_t hwpt, uint32_t flags,
			 uint64_t iova, uint64_t length, uint64_t page_size,
			 void *bitmap);
	/* VFIO_DEVICE_ATTACH_IOMMUFD_PT with VFIO_DEVICE_ATTACH_PASID (a
	 * second attach of the same PASID replaces); *ret_hwpt is the HWPT. */
	int (*pasid_attach)(struct backend *b, int fd, uint32_t pasid,
			    uint32_t pt_id, uint32_t *ret_hwpt);
	/* VFIO_DEVICE_DETACH_IOMMUFD_PT with VFIO_DEVICE_DETACH_PASID. */
	int (*pasid_detach)(struct backend *b, int fd, uint32_t pasid);
};

extern const struct backend_fault_ops kernel_fault_ops;
extern const struct backend_fault_ops sim_fault_ops;

/* The bytes of a dirty bitmap for length / page_size pages (u64 words). */
static inline uint64_t backend_dirty_bitmap_size(uint64_t length,
						 uint64_t page_size)
{
	uint64_t bits = length / page_size;

	return (bits + 63) / 64 * 8;
}

static inline int backend_fault_alloc(struct backend *b, uint32_t *ret_id,
				      int *ret_fd)
{
	return b->ops->faults->fault_alloc(b, ret_id, ret_fd);
}

static inline int backend_hwpt_set_dirty(struct backend *b, uint32_t hwpt,
					 bool enable)
{
	return b->ops->faults->set_dirty(b, hwpt, enable);
}

static inline int backend_hwpt_get_dirty(struct backend *b, uint32_t hwpt,
					 uint32_t flags, uint64_t iova,
					 uint64_t length, uint64_t page_size,
					 void *bitmap)
{
	return b->ops->faults->get_dirty(b, hwpt, flags, iova, length,
					 page_size, bitmap);
}

static inline int backend_pasid_attach(struct backend *b, int fd,
				       uint32_t pasid, uint32_t pt_id,
				       uint32_t *ret_hwpt)
{
	return b->ops->faults->pasid_attach(b, fd, pasid, pt_id, ret_hwpt);
}

static inline int backend_pasid_detach(struct backend *b, int fd,
				       uint32_t pasid)
{
	return b->ops->faults->pasid_detach(b, fd, pasid);
}

/*
 * The kernel backend's answer to "does this kernel have PASID attach":
 * VFIO_DEVICE_ATTACH_PASID came with IOMMU_HWPT_ALLOC_PASID and the vEVENTQ
 * ioctl (Linux 6.15); a kernel without them answers ENOTTY to
 * IOMMU_VEVENTQ_ALLOC, one with them EINVAL to its zero-size call. Sets
 * b->has_pasid; run once per context (kernel-faults.c).
 */
void backend_kernel_probe_pasid(struct backend *b);

/*
 * Sim knobs and test hooks (the kernel's self-test ops they stand for):
 *
 * backend_sim_set_kernel72  model Linux 7.2's rules where they differ from
 *   6.12 (FAULT_ID_VALID on paging HWPTs, IOMMU_HWPT_ALLOC_PASID, PASID
 *   attach); contexts opened from b inherit it. Off: 6.12.
 * backend_sim_trigger_iopf  IOMMU_TEST_OP_TRIGGER_IOPF: one fault group of
 *   one fault {PASID_VALID|LAST_PAGE, dev_id, pasid, grpid, perm, addr} on
 *   the queue of the HWPT the device's RID (or that PASID) is attached to;
 *   -EINVAL when that HWPT has no queue (iommu_report_device_fault finds no
 *   handler), -ENOENT for no such device.
 * backend_sim_fault_responses  what the kernel's write(2) on the fault fd
 *   returns, for the oldest write(2) the client made and the sim has not
 *   judged yet (see sim-faults.c): the bytes consumed (whole 8-byte
 *   responses up to the first whose cookie is no pending group's or whose
 *   code is neither SUCCESS nor INVALID), -EINVAL when that was the first,
 *   -ESPIPE for a count that is no multiple of 8, 0 for an empty write,
 *   -EAGAIN when there is no write left to judge.
 * backend_sim_set_dirty     IOMMU_TEST_OP_DIRTY: mark the mapped mock
 *   pages of [iova, iova + length) dirty in a paging HWPT with tracking on;
 *   *ret_count: how many pages it marked.
 * backend_sim_pasid_hwpt    IOMMU_TEST_OP_PASID_CHECK_HWPT: the HWPT
 *   attached at pasid of the device bound as dev_id (0: none).
 */
void backend_sim_set_kernel72(struct backend *b, bool on);

/*
 * The kernel's self-test ops (CONFIG_IOMMUFD_TEST; test builds only) on a
 * kernel backend's context: IOMMU_TEST_OP_TRIGGER_IOPF (one fault of the
 * mock device dev_id) and IOMMU_TEST_OP_DIRTY (the page_size pages of
 * [iova, iova + length) whose bit is set in pages marked dirty in the mock
 * HWPT hwpt; *ret_count: how many it marked).
 */
int backend_kernel_test_trigger_iopf(struct backend *b, uint32_t dev_id,
				     uint32_t pasid, uint32_t grpid,
				     uint32_t perm, uint64_t addr);
int backend_kernel_test_dirty(struct backend *b, uint32_t hwpt, uint64_t iova,
			      uint64_t length, uint64_t page_size,
			      const uint64_t *pages, uint64_t *ret_count);
/*
 * Linux 7.2's self-test PASID ops, on the same context: a mock device
 * that can take PASIDs attached to the IOAS ioas
 * (IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS with MOCK_FLAGS_DEVICE_PASID; 6.12:
 * -EINVAL), out as backend_kernel_test_mock_domain's; the mock device stdev
 * attached at pasid to pt, an IOAS or an HWPT (IOMMU_TEST_OP_PASID_ATTACH,
 * or _REPLACE when replace; *ret_hwpt: the HWPT it is on then), detached
 * (_PASID_DETACH); and IOMMU_TEST_OP_PASID_CHECK_HWPT: is stdev at pasid on
 * the HWPT hwpt (0: on nothing)? 0, -EINVAL when not, or the ioctl's errno.
 */
int backend_kernel_test_mock_domain_pasid(struct backend *b, uint32_t ioas,
					  uint32_t *ret_stdev, uint32_t *ret_hwpt,
					  uint32_t *ret_idev);
int backend_kernel_test_pasid_attach(struct backend *b, uint32_t stdev,
				     uint32_t pasid, uint32_t pt, bool replace,
				     uint32_t *ret_hwpt);
int backend_kernel_test_pasid_detach(struct backend *b, uint32_t stdev,
				     uint32_t pasid);
int backend_kernel_test_pasid_check(struct backend *b, uint32_t stdev,
				    uint32_t pasid, uint32_t hwpt);
int backend_sim_trigger_iopf(struct backend *b, uint32_t dev_id,
			     uint32_t pasid, uint32_t grpid, uint32_t perm,
			     uint64_t addr);
ssize_t backend_sim_fault_responses(struct backend *b, uint32_t fault_id);
int backend_sim_set_dirty(struct backend *b, uint32_t hwpt, uint64_t iova,
			  uint64_t length, uint64_t *ret_count);
int backend_sim_pasid_hwpt(struct backend *b, uint32_t dev_id, uint32_t pasid,
			   uint32_t *ret_hwpt);
