/* SPDX-License-Identifier: MIT */
/*
 * The kernel backend's ops of issue 16: one ioctl each, errno unchanged
 * (backend-faults.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "iommu/backend-faults.h"
#include "iommu/backend-kernel.h"
#include "iommu/iommufd-uapi-faults.h"

static int ctx_ioctl(struct backend *b, unsigned long request, void *arg)
{
	int fd = backend_kernel_fd(b);

	if (fd < 0)
		return fd;
	return ioctl(fd, request, arg) < 0 ? -errno : 0;
}

static int kernel_fault_alloc(struct backend *b, uint32_t *ret_id, int *ret_fd)
{
	struct iofd_fault_alloc cmd = { .size = sizeof(cmd) };
	int r = ctx_ioctl(b, IOFD_FAULT_QUEUE_ALLOC, &cmd);

	if (r < 0)
		return r;
	/* The kernel opens it O_RDWR | O_CLOEXEC (anon_inode_getfile +
	 * get_unused_fd_flags(O_CLOEXEC)); say so rather than trust it. */
	if (fcntl((int)cmd.out_fault_fd, F_SETFD, FD_CLOEXEC) < 0) {
		r = -errno;
		close((int)cmd.out_fault_fd);
		return r;
	}
	*ret_id = cmd.out_fault_id;
	*ret_fd = (int)cmd.out_fault_fd;
	return 0;
}

static int kernel_set_dirty(struct backend *b, uint32_t hwpt, bool enable)
{
	struct iofd_hwpt_set_dirty_tracking cmd = {
		.size = sizeof(cmd),
		.flags = enable ? IOFD_HWPT_DIRTY_TRACKING_ENABLE : 0,
		.hwpt_id = hwpt,
	};

	return ctx_ioctl(b, IOFD_HWPT_SET_DIRTY_TRACKING, &cmd);
}

static int kernel_get_dirty(struct backend *b, uint32_t hwpt, uint32_t flags,
			    uint64_t iova, uint64_t length, uint64_t page_size,
			    void *bitmap)
{
	struct iofd_hwpt_get_dirty_bitmap cmd = {
		.size = sizeof(cmd),
		.hwpt_id = hwpt,
		.flags = flags,
		.iova = iova,
		.length = length,
		.page_size = page_size,
		.data = (uintptr_t)bitmap,
	};

	return ctx_ioctl(b, IOFD_HWPT_GET_DIRTY_BITMAP, &cmd);
}

static int kernel_pasid_attach(struct backend *b, int fd, uint32_t pasid,
			       uint32_t pt_id, uint32_t *ret_hwpt)
{
	struct iofd_vfio_attach_pt cmd = {
		.argsz = sizeof(cmd),
		.flags = IOFD_VFIO_DEVICE_ATTACH_PASID,
		.pt_id = pt_id,
		.pasid = pasid,
	};

	(void)b;
	if (ioctl(fd, IOFD_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &cmd) < 0)
		return -errno;
	*ret_hwpt = cmd.pt_id;
	return 0;
}

static int kernel_pasid_detach(struct backend *b, int fd, uint32_t pasid)
{
	struct iofd_vfio_detach_pt_pasid cmd = {
		.argsz = sizeof(cmd),
		.flags = IOFD_VFIO_DEVICE_DETACH_PASID,
		.pasid = pasid,
	};

	(void)b;
	return ioctl(fd, IOFD_VFIO_DEVICE_DETACH_IOMMUFD_PT, &cmd) < 0 ? -errno : 0;
}

void backend_kernel_probe_pasid(struct backend *b)
{
	uint32_t size = 0; /* a zero-size struct: EINVAL where it exists */

	b->has_pasid = ctx_ioctl(b, IOFD_VEVENTQ_ALLOC, &size) != -ENOTTY;
}

const struct backend_fault_ops kernel_fault_ops = {
	.fault_alloc = kernel_fault_alloc,
	.set_dirty = kernel_set_dirty,
	.get_dirty = kernel_get_dirty,
	.pasid_attach = kernel_pasid_attach,
	.pasid_detach = kernel_pasid_detach,
};

/* ------------------------------------------------------------ self-test ops */

/* struct iommu_test_cmd with the members these ops use (iommufd_test.h of
 * 6.12 and 7.2: the same layout; 72 bytes). */
struct faults_test_cmd {
	uint32_t size;
	uint32_t op;
	uint32_t id;
	uint32_t reserved;
	union {
		struct {
			uint32_t dev_id, pasid, grpid, perm;
			uint64_t addr;
		} trigger_iopf;
		struct {
			uint32_t flags;
			uint32_t pad;
			iofd_u64 iova, length, page_size, uptr, out_nr_dirty;
		} dirty;
		struct {
			uint32_t out_stdev_id, out_hwpt_id, out_idev_id, dev_flags;
		} mock_domain_flags;
		struct {
			uint32_t pasid;
			uint32_t pt_id; /* attach, replace: in/out; check: hwpt_id */
		} pasid; /* pasid_attach, _replace, _detach, pasid_check (7.2) */
		uint8_t union_room[48];
	};
	uint32_t last;
};
IOFD_ASSERT_SIZE(faults_test_cmd, 72);
IOFD_ASSERT_OFF(faults_test_cmd, mock_domain_flags.dev_flags, 28);
IOFD_ASSERT_OFF(faults_test_cmd, pasid.pt_id, 20);
IOFD_ASSERT_OFF(faults_test_cmd, trigger_iopf.addr, 32);
IOFD_ASSERT_OFF(faults_test_cmd, dirty.iova, 24);
IOFD_ASSERT_OFF(faults_test_cmd, dirty.out_nr_dirty, 56);

int backend_kernel_test_trigger_iopf(struct backend *b, uint32_t dev_id,
				     uint32_t pasid, uint32_t grpid,
				     uint32_t perm, uint64_t addr)
{
	struct faults_test_cmd cmd = {
		.size = sizeof(cmd), .op = IOFD_TEST_OP_TRIGGER_IOPF,
		.trigger_iopf = { dev_id, pasid, grpid, perm, addr },
	};

	return ctx_ioctl(b, IOFD_TEST_CMD, &cmd);
}

int backend_kernel_test_dirty(struct backend *b, uint32_t hwpt, uint64_t iova,
			      uint64_t length, uint64_t page_size,
			      const uint64_t *pages, uint64_t *ret_count)
{
	struct faults_test_cmd cmd = {
		.size = sizeof(cmd), .op = IOFD_TEST_OP_DIRTY, .id = hwpt,
		.dirty = { .iova = iova, .length = length, .page_size = page_size,
			   .uptr = (uintptr_t)pages },
	};
	int r = ctx_ioctl(b, IOFD_TEST_CMD, &cmd);

	if (r == 0 && ret_count)
		*ret_count = cmd.dirty.out_nr_dirty;
	return r;
}

int backend_kernel_test_mock_domain_pasid(struct backend *b, uint32_t ioas,
					  uint32_t *ret_stdev, uint32_t *ret_hwpt,
					  uint32_t *ret_idev)
{
	struct faults_test_cmd cmd = {
		.size = sizeof(cmd), .op = IOFD_TEST_OP_MOCK_DOMAIN_FLAGS, .id = ioas,
		.mock_domain_flags = { .dev_flags = IOFD_MOCK_FLAGS_DEVICE_PASID },
	};
	int r = ctx_ioctl(b, IOFD_TEST_CMD, &cmd);

	if (r < 0)
		return r;
	*ret_stdev = cmd.mock_domain_flags.out_stdev_id;
	*ret_hwpt = cmd.mock_domain_flags.out_hwpt_id;
	*ret_idev = cmd.mock_domain_flags.out_idev_id;
	return 0;
}

int backend_kernel_test_pasid_attach(struct backend *b, uint32_t stdev,
				     uint32_t pasid, uint32_t pt, bool replace,
				     uint32_t *ret_hwpt)
{
	struct faults_test_cmd cmd = {
		.size = sizeof(cmd), .id = stdev,
		.op = replace ? IOFD_TEST_OP_PASID_REPLACE : IOFD_TEST_OP_PASID_ATTACH,
		.pasid = { .pasid = pasid, .pt_id = pt },
	};
	int r = ctx_ioctl(b, IOFD_TEST_CMD, &cmd);

	if (r == 0)
		*ret_hwpt = cmd.pasid.pt_id;
	return r;
}

int backend_kernel_test_pasid_detach(struct backend *b, uint32_t stdev,
				     uint32_t pasid)
{
	struct faults_test_cmd cmd = {
		.size = sizeof(cmd), .op = IOFD_TEST_OP_PASID_DETACH, .id = stdev,
		.pasid = { .pasid = pasid },
	};

	return ctx_ioctl(b, IOFD_TEST_CMD, &cmd);
}

int backend_kernel_test_pasid_check(struct backend *b, uint32_t stdev,
				    uint32_t pasid, uint32_t hwpt)
{
	struct faults_test_cmd cmd = {
		.size = sizeof(cmd), .op = IOFD_TEST_OP_PASID_CHECK_HWPT, .id = stdev,
		.pasid = { .pasid = pasid, .pt_id = hwpt },
	};

	return ctx_ioctl(b, IOFD_TEST_CMD, &cmd);
}
