/* SPDX-License-Identifier: MIT */
/*
 * Kernel-backend extras that are not part of struct backend_ops: code that
 * must issue ioctls the broker does not wrap (VFIO cdev binding in the
 * real-kernel tests, the iommufd self-test commands) needs the context fd.
 */
#pragma once

#include "common/pci.h"
#include "iommu/backend.h"

/*
 * The /dev/iommu context fd of a kernel backend, still owned by the backend
 * (do not close it). -EINVAL when b is not a kernel backend.
 */
int backend_kernel_fd(struct backend *b);

/*
 * Test builds only (--enable-test-hooks): attach the kernel's self-test
 * mock domain (IOMMU_TEST_OP_MOCK_DOMAIN, CONFIG_IOMMUFD_TEST) to an IOAS,
 * so that mapped pages really get pinned and land in an IO page table.
 * *ret_stdev is the mock device's id: IOMMU_DESTROY of it detaches.
 */
int backend_kernel_test_mock_domain(struct backend *b, uint32_t ioas,
				    uint32_t *ret_stdev, uint32_t *ret_hwpt,
				    uint32_t *ret_idev);
/* IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE: the mock device stdev onto pt (an
 * IOAS or an HWPT); *ret_hwpt (may be NULL) is the HWPT it is on then. */
int backend_kernel_test_mock_replace(struct backend *b, uint32_t stdev,
				     uint32_t pt, uint32_t *ret_hwpt);

/*
 * IOMMU_TEST_OP_MD_CHECK_MAP: does the mock domain hwpt translate
 * [iova, +length) to the pages behind uptr (in this process)? 0, or
 * -EINVAL when it does not, or the ioctl's errno.
 */
int backend_kernel_test_check_map(struct backend *b, uint32_t hwpt,
				  uint64_t iova, uint64_t length,
				  const void *uptr);

/*
 * IOMMU_TEST_OP_MD_CHECK_IOTLB: does IOTLB iotlb_id (0..3) of the mock's
 * nested HWPT hwpt hold expect? 0, -EINVAL when not, or the ioctl's errno.
 */
int backend_kernel_test_check_iotlb(struct backend *b, uint32_t hwpt,
				    uint32_t iotlb_id, uint32_t expect);

/* IOMMU_TEST_OP_DEV_CHECK_CACHE: does cache cache_id (0..3) of the mock
 * device idev hold expect? 0, -EINVAL when not, or the ioctl's errno. */
int backend_kernel_test_check_dev_cache(struct backend *b, uint32_t idev,
					uint32_t cache_id, uint32_t expect);

/* IOMMU_TEST_OP_TRIGGER_VEVENT (7.2): the mock device idev reports an
 * event to the vEVENTQ of the vIOMMU its vDEVICE is in. */
int backend_kernel_test_trigger_vevent(struct backend *b, uint32_t idev);

/*
 * A kernel backend on an existing iommufd context (one kept across a daemon
 * restart, with its IOASes and mappings). Takes *fd on success (sets it to
 * -1); on failure *fd is untouched. dev_path is what more contexts are
 * opened from (device tenants).
 */
int backend_kernel_adopt(const char *dev_path, int *fd, struct backend **ret);
/* The same, with like's device path (-EINVAL unless like is a kernel backend). */
int backend_kernel_adopt_like(struct backend *like, int *fd, struct backend **ret);

/*
 * Delegation (delegate.c): what is handed to a VMM, never used here.
 *
 * A fresh context on dev_path with IOMMU_OPTION_RLIMIT_MODE mode (0 user,
 * 1 process), read back; set only when the kernel's default differs, since
 * setting needs CAP_SYS_RESOURCE (the daemon's context helper calls this,
 * not the daemon). *ret_step names the step that failed (open, set, get);
 * -EIO when the kernel reports another mode than the one set.
 */
int backend_kernel_context_fd(const char *dev_path, uint64_t mode, int *ret_fd,
			      const char **ret_step);
/* IOMMU_OPTION_RLIMIT_MODE of a context fd (any caller may read it). */
int backend_kernel_context_mode(int fd, uint64_t *ret_mode);
/*
 * The VFIO cdev of PCI device a, opened afresh (so unbound), CLOEXEC.
 * -ENOENT: no such PCI device; -ENODEV: it has no VFIO cdev (not bound to
 * vfio-pci); else open's errno.
 */
int backend_kernel_device_open(const struct pci_address *a, int *ret_fd);
/* The path contexts are opened from ("/dev/iommu"); NULL unless kernel. */
const char *backend_kernel_dev_path(struct backend *b);
