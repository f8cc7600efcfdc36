/* SPDX-License-Identifier: MIT */
/*
 * The kernel backend: every operation is one ioctl on a /dev/iommu context,
 * and its result is the kernel's, errno unchanged. Nothing here second-guesses
 * the kernel; policy lives above the backend.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "iommu/backend-faults.h"
#include "iommu/backend-kernel.h"
#include "iommu/iommufd-uapi.h"
#include "common/util.h"

#define DEFAULT_DEV_PATH "/dev/iommu"

/* backend_iova_range is handed to the kernel as its iova range array. */
_Static_assert(sizeof(struct backend_iova_range) ==
		       sizeof(struct iofd_iova_range),
	       "backend_iova_range matches the kernel's iova range");
_Static_assert(offsetof(struct backend_iova_range, last) ==
		       offsetof(struct iofd_iova_range, last),
	       "backend_iova_range.last matches");
_Static_assert(BACKEND_MAP_FIXED_IOVA == IOFD_MAP_FIXED_IOVA &&
		       BACKEND_MAP_WRITEABLE == IOFD_MAP_WRITEABLE &&
		       BACKEND_MAP_READABLE == IOFD_MAP_READABLE,
	       "backend map flags are the kernel's");
_Static_assert(BACKEND_OPTION_OP_SET == IOFD_OPTION_OP_SET &&
		       BACKEND_OPTION_OP_GET == IOFD_OPTION_OP_GET &&
		       BACKEND_OPTION_RLIMIT_MODE == IOFD_OPTION_RLIMIT_MODE &&
		       BACKEND_OPTION_HUGE_PAGES == IOFD_OPTION_HUGE_PAGES,
	       "backend option numbers are the kernel's");

struct kernel_backend {
	struct backend base;
	int fd;
	char *dev_path; /* to open more contexts (device tenants) */
};

static const struct backend_ops kernel_ops;

static struct kernel_backend *to_kernel(struct backend *b)
{
	return (struct kernel_backend *)b;
}

/* ioctl returning 0 or -errno. */
static int xioctl(int fd, unsigned long request, void *arg)
{
	if (ioctl(fd, request, arg) < 0)
		return -errno;
	return 0;
}

static int kernel_ioas_alloc(struct backend *b, uint32_t *ret_id)
{
	struct iofd_ioas_alloc cmd = { .size = sizeof(cmd) };
	int r;

	r = xioctl(to_kernel(b)->fd, IOFD_IOAS_ALLOC, &cmd);
	if (r < 0)
		return r;
	*ret_id = cmd.out_ioas_id;
	return 0;
}

static int kernel_destroy(struct backend *b, uint32_t id)
{
	struct iofd_destroy cmd = { .size = sizeof(cmd), .id = id };

	return xioctl(to_kernel(b)->fd, IOFD_DESTROY, &cmd);
}

/*
 * The kernel fills as many ranges as fit, sets num_iovas to the total and
 * fails with EMSGSIZE when the total did not fit; the caller then retries
 * with a bigger array. We hand the caller's array straight to the kernel.
 */
static int kernel_iova_ranges(struct backend *b, uint32_t ioas,
			      struct backend_iova_range *ranges, uint32_t *num,
			      uint64_t *ret_alignment)
{
	struct iofd_ioas_iova_ranges cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas,
		.num_iovas = *num,
		.allowed_iovas = (uintptr_t)ranges,
	};
	int r;

	r = xioctl(to_kernel(b)->fd, IOFD_IOAS_IOVA_RANGES, &cmd);
	if (r == -EMSGSIZE) {
		*num = cmd.num_iovas;
		return r;
	}
	if (r < 0)
		return r;
	*num = cmd.num_iovas;
	if (ret_alignment)
		*ret_alignment = cmd.out_iova_alignment;
	return 0;
}

static int kernel_allow_iovas(struct backend *b, uint32_t ioas,
			      const struct backend_iova_range *ranges,
			      uint32_t num)
{
	struct iofd_ioas_allow_iovas cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas,
		.num_iovas = num,
		.allowed_iovas = (uintptr_t)ranges,
	};

	return xioctl(to_kernel(b)->fd, IOFD_IOAS_ALLOW_IOVAS, &cmd);
}

static int kernel_map_user(struct backend *b, uint32_t ioas, uint32_t flags,
			   void *va, uint64_t length, uint64_t *iova)
{
	struct iofd_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioas_id = ioas,
		.user_va = (uintptr_t)va,
		.length = length,
		.iova = *iova,
	};
	int r;

	r = xioctl(to_kernel(b)->fd, IOFD_IOAS_MAP, &cmd);
	if (r < 0)
		return r;
	*iova = cmd.iova;
	return 0;
}

static int do_map_file(int ctx_fd, uint32_t ioas, uint32_t flags, int fd,
		       uint64_t start, uint64_t length, uint64_t *iova)
{
	struct iofd_ioas_map_file cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioas_id = ioas,
		.fd = fd,
		.start = start,
		.length = length,
		.iova = *iova,
	};
	int r;

	r = xioctl(ctx_fd, IOFD_IOAS_MAP_FILE, &cmd);
	if (r < 0)
		return r;
	*iova = cmd.iova;
	return 0;
}

static int kernel_map_file(struct backend *b, uint32_t ioas, uint32_t flags,
			   int fd, uint64_t start, uint64_t length,
			   uint64_t *iova)
{
	if (!b->has_map_file)
		return -EOPNOTSUPP;
	return do_map_file(to_kernel(b)->fd, ioas, flags, fd, start, length,
			   iova);
}

static int kernel_copy(struct backend *b, uint32_t dst_ioas, uint32_t src_ioas,
		       uint32_t flags, uint64_t src_iova, uint64_t length,
		       uint64_t *dst_iova)
{
	struct iofd_ioas_copy cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dst_ioas_id = dst_ioas,
		.src_ioas_id = src_ioas,
		.length = length,
		.dst_iova = *dst_iova,
		.src_iova = src_iova,
	};
	int r;

	r = xioctl(to_kernel(b)->fd, IOFD_IOAS_COPY, &cmd);
	if (r < 0)
		return r;
	*dst_iova = cmd.dst_iova;
	return 0;
}

static int kernel_unmap(struct backend *b, uint32_t ioas, uint64_t iova,
			uint64_t length, uint64_t *ret_unmapped)
{
	struct iofd_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas,
		.iova = iova,
		.length = length,
	};
	int r;

	r = xioctl(to_kernel(b)->fd, IOFD_IOAS_UNMAP, &cmd);
	if (r < 0)
		return r;
	if (ret_unmapped)
		*ret_unmapped = cmd.length;
	return 0;
}

static int kernel_option(struct backend *b, uint32_t op, uint32_t option_id,
			 uint32_t object_id, uint64_t *val)
{
	struct iofd_option cmd = {
		.size = sizeof(cmd),
		.option_id = option_id,
		.op = (uint16_t)op,
		.object_id = object_id,
		.val64 = op == BACKEND_OPTION_OP_SET ? *val : 0,
	};
	int r;

	/* op is 16 bits in the ABI; a wider value must not alias a valid op. */
	if (op > UINT16_MAX)
		return -EOPNOTSUPP;
	r = xioctl(to_kernel(b)->fd, IOFD_OPTION, &cmd);
	if (r < 0)
		return r;
	if (op == BACKEND_OPTION_OP_GET)
		*val = cmd.val64;
	return 0;
}

static void kernel_close(struct backend *b)
{
	struct kernel_backend *k = to_kernel(b);

	if (!k)
		return;
	safe_close(k->fd);
	free(k->dev_path);
	free(k);
}

static int kernel_context_open(struct backend *b, struct backend **ret)
{
	return backend_kernel_open(to_kernel(b)->dev_path, ret);
}

/* Read a sysfs attribute holding one hex number ("0x1234\n"). */
static int read_hex_attr(const char *dir, const char *attr, uint16_t *ret)
{
	char path[PATH_MAX], buf[32], *end;
	_cleanup_close_ int fd = -1;
	unsigned long v;
	ssize_t n;

	if (snprintf(path, sizeof(path), "%s/%s", dir, attr) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	errno = 0;
	v = strtoul(buf, &end, 16);
	if (errno || end == buf || v > UINT16_MAX)
		return -EINVAL;
	*ret = (uint16_t)v;
	return 0;
}

/*
 * A VFIO cdev is /sys/dev/char/MAJ:MIN -> .../<pci address>/vfio-dev/vfioN.
 * The identity comes from the fd's st_rdev, which the client cannot choose;
 * a file that is not that device fails the bind anyway.
 */
static int kernel_device_identify(struct backend *b, int fd,
				  struct backend_device_info *ret)
{
	char link[PATH_MAX], target[PATH_MAX], dir[PATH_MAX];
	struct backend_device_info d = { 0 };
	const char *name, *pci, *vd;
	unsigned dom, bus, slot, fn;
	struct stat st;
	ssize_t n;
	int r;

	(void)b;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISCHR(st.st_mode))
		return -ENOTTY;
	snprintf(link, sizeof(link), "/sys/dev/char/%u:%u", major(st.st_rdev),
		 minor(st.st_rdev));
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return errno == ENOENT ? -ENOTTY : -errno;
	target[n] = '\0';
	/* .../<pci>/vfio-dev/vfioN */
	name = strrchr(target, '/');
	if (!name || name == target)
		return -ENOTTY;
	vd = name - strlen("/vfio-dev");
	if (vd < target || strncmp(vd, "/vfio-dev", strlen("/vfio-dev")) != 0)
		return -ENOTTY;
	name++;
	if (strlen(name) >= sizeof(d.name))
		return -ENOTTY;
	strcpy(d.name, name);
	pci = vd;
	while (pci > target && pci[-1] != '/')
		pci--;
	if (sscanf(pci, "%x:%x:%x.%x", &dom, &bus, &slot, &fn) != 4 ||
	    dom > 0xffff || bus > 0xff || slot > 0x1f || fn > 7)
		return -ENODEV; /* a VFIO device, not a PCI one */
	d.domain = (uint16_t)dom;
	d.bus = (uint8_t)bus;
	d.slot = (uint8_t)slot;
	d.function = (uint8_t)fn;
	/* The PCI device's sysfs directory, resolved from the link. */
	if (snprintf(dir, sizeof(dir), "/sys/dev/char/%u:%u/../..",
		     major(st.st_rdev), minor(st.st_rdev)) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	r = read_hex_attr(dir, "vendor", &d.vendor);
	if (r < 0)
		return r == -ENOENT ? -ENODEV : r;
	r = read_hex_attr(dir, "device", &d.device);
	if (r < 0)
		return r == -ENOENT ? -ENODEV : r;
	*ret = d;
	return 0;
}

static int kernel_device_bind(struct backend *b, int fd, uint32_t *ret_dev_id)
{
	struct iofd_vfio_bind_iommufd cmd = {
		.argsz = sizeof(cmd),
		.iommufd = to_kernel(b)->fd,
	};
	int r;

	r = xioctl(fd, IOFD_VFIO_DEVICE_BIND_IOMMUFD, &cmd);
	if (r < 0)
		return r;
	*ret_dev_id = cmd.out_devid;
	return 0;
}

static int kernel_device_attach(struct backend *b, int fd, uint32_t pt_id,
				uint32_t *ret_hwpt)
{
	/* argsz covers pt_id only: no PASID flag, as old kernels expect. */
	struct iofd_vfio_attach_pt cmd = {
		.argsz = offsetof(struct iofd_vfio_attach_pt, pasid),
		.pt_id = pt_id,
	};
	int r;

	(void)b;
	r = xioctl(fd, IOFD_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &cmd);
	if (r < 0)
		return r;
	*ret_hwpt = cmd.pt_id;
	return 0;
}

static int kernel_device_detach(struct backend *b, int fd)
{
	struct iofd_vfio_detach_pt cmd = { .argsz = sizeof(cmd) };

	(void)b;
	return xioctl(fd, IOFD_VFIO_DEVICE_DETACH_IOMMUFD_PT, &cmd);
}

static int kernel_device_open(struct backend *b, const struct pci_address *a,
			      int *ret_fd)
{
	(void)b;
	return backend_kernel_device_open(a, ret_fd);
}

static int kernel_hw_info(struct backend *b, uint32_t dev_id,
			  struct backend_hw_info *ret)
{
	struct backend_hw_info info = { 0 };
	struct iofd_hw_info cmd = {
		.size = sizeof(cmd),
		.dev_id = dev_id,
		.data_len = sizeof(info.data),
		.data_uptr = (uintptr_t)info.data,
	};
	int r;

	r = xioctl(to_kernel(b)->fd, IOFD_GET_HW_INFO, &cmd);
	if (r < 0)
		return r;
	info.type = cmd.out_data_type;
	info.data_len = cmd.data_len;
	info.capabilities = cmd.out_capabilities;
	info.max_pasid_log2 = cmd.out_max_pasid_log2;
	*ret = info;
	return 0;
}

static int kernel_hwpt_alloc(struct backend *b,
			     const struct backend_hwpt_alloc *a,
			     uint32_t *ret_id)
{
	struct iofd_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = a->flags,
		.dev_id = a->dev_id,
		.pt_id = a->pt_id,
		.data_type = a->data_type,
		.data_len = a->data_len,
		.data_uptr = (uintptr_t)a->data,
		.fault_id = a->fault_id,
	};
	int r;

	r = xioctl(to_kernel(b)->fd, IOFD_HWPT_ALLOC, &cmd);
	if (r < 0)
		return r;
	*ret_id = cmd.out_hwpt_id;
	return 0;
}

static int kernel_hwpt_invalidate(struct backend *b, uint32_t id,
				  uint32_t data_type, const void *entries,
				  uint32_t entry_len, uint32_t *entry_num)
{
	struct iofd_hwpt_invalidate cmd = {
		.size = sizeof(cmd),
		.hwpt_id = id,
		.data_uptr = (uintptr_t)entries,
		.data_type = data_type,
		.entry_len = entry_len,
		.entry_num = *entry_num,
	};
	int r;

	r = xioctl(to_kernel(b)->fd, IOFD_HWPT_INVALIDATE, &cmd);
	/* The kernel writes entry_num back on failure too (how many it did);
	 * an ioctl it does not know (ENOTTY) leaves it: none were. */
	*entry_num = r == -ENOTTY ? 0 : cmd.entry_num;
	return r;
}

static int kernel_viommu_alloc(struct backend *b,
			       const struct backend_viommu_alloc *a,
			       uint32_t *ret_id)
{
	struct iofd_viommu_alloc cmd = {
		.size = sizeof(cmd),
		.flags = a->flags,
		.type = a->type,
		.dev_id = a->dev_id,
		.hwpt_id = a->hwpt_id,
		.data_len = a->data_len,
		.data_uptr = (uintptr_t)a->data,
	};
	int r;

	/* Without data, the size 6.13 knows (it has no data fields). */
	if (!a->data_len)
		cmd.size = offsetof(struct iofd_viommu_alloc, data_len);
	r = xioctl(to_kernel(b)->fd, IOFD_VIOMMU_ALLOC, &cmd);
	if (r < 0)
		return r;
	*ret_id = cmd.out_viommu_id;
	return 0;
}

static int kernel_vdevice_alloc(struct backend *b, uint32_t viommu,
				uint32_t dev_id, uint64_t virt_id,
				uint32_t *ret_id)
{
	struct iofd_vdevice_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu,
		.dev_id = dev_id,
		.virt_id = virt_id,
	};
	int r;

	r = xioctl(to_kernel(b)->fd, IOFD_VDEVICE_ALLOC, &cmd);
	if (r < 0)
		return r;
	*ret_id = cmd.out_vdevice_id;
	return 0;
}

static int kernel_veventq_alloc(struct backend *b, uint32_t viommu,
				uint32_t type, uint32_t depth,
				uint32_t *ret_id, int *ret_fd)
{
	struct iofd_veventq_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu,
		.type = type,
		.veventq_depth = depth,
	};
	int r;

	r = xioctl(to_kernel(b)->fd, IOFD_VEVENTQ_ALLOC, &cmd);
	if (r < 0)
		return r;
	/* The kernel opens it O_CLOEXEC; said again, in case one does not. */
	(void)fcntl((int)cmd.out_veventq_fd, F_SETFD, FD_CLOEXEC);
	*ret_id = cmd.out_veventq_id;
	*ret_fd = (int)cmd.out_veventq_fd;
	return 0;
}

static const struct backend_ops kernel_ops = {
	.name = "kernel",
	.close = kernel_close,
	.ioas_alloc = kernel_ioas_alloc,
	.destroy = kernel_destroy,
	.iova_ranges = kernel_iova_ranges,
	.allow_iovas = kernel_allow_iovas,
	.map_user = kernel_map_user,
	.map_file = kernel_map_file,
	.copy = kernel_copy,
	.unmap = kernel_unmap,
	.option = kernel_option,
	.context_open = kernel_context_open,
	.device_identify = kernel_device_identify,
	.device_bind = kernel_device_bind,
	.device_attach = kernel_device_attach,
	.device_detach = kernel_device_detach,
	.device_open = kernel_device_open,
	.hw_info = kernel_hw_info,
	.hwpt_alloc = kernel_hwpt_alloc,
	.hwpt_invalidate = kernel_hwpt_invalidate,
	.viommu_alloc = kernel_viommu_alloc,
	.vdevice_alloc = kernel_vdevice_alloc,
	.veventq_alloc = kernel_veventq_alloc,
	.faults = &kernel_fault_ops,
};

/*
 * Does IOMMU_IOAS_MAP_FILE work here? Map one page of a fresh memfd into a
 * scratch IOAS. ENOTTY (the kernel does not know the ioctl number) means
 * "no"; success means "yes"; anything else is a real failure of this
 * context and is returned. The scratch IOAS is destroyed either way, so the
 * context is empty again afterwards (IOMMU_OPTION_RLIMIT_MODE can still be
 * set).
 */
static int probe_map_file(int ctx_fd, bool *ret_has)
{
	struct iofd_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct iofd_destroy destroy = { .size = sizeof(destroy) };
	_cleanup_close_ int mfd = -1;
	long page = sysconf(_SC_PAGESIZE);
	uint64_t iova = 0;
	int r;

	if (page <= 0)
		page = 4096;
	mfd = memfd_create("ioasd-map-file-probe", MFD_CLOEXEC);
	if (mfd < 0)
		return -errno;
	if (ftruncate(mfd, page) < 0)
		return -errno;

	r = xioctl(ctx_fd, IOFD_IOAS_ALLOC, &alloc);
	if (r < 0)
		return r;
	r = do_map_file(ctx_fd, alloc.out_ioas_id, IOFD_MAP_READABLE, mfd, 0,
			(uint64_t)page, &iova);
	destroy.id = alloc.out_ioas_id;
	(void)xioctl(ctx_fd, IOFD_DESTROY, &destroy); /* also unmaps */
	if (r == -ENOTTY) {
		*ret_has = false;
		return 0;
	}
	if (r < 0)
		return r;
	*ret_has = true;
	return 0;
}

int backend_kernel_open(const char *dev_path, struct backend **ret)
{
	_cleanup_close_ int fd = -1;

	fd = open(dev_path ? dev_path : DEFAULT_DEV_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return backend_kernel_adopt(dev_path, &fd, ret);
}

const char *backend_kernel_dev_path(struct backend *b)
{
	if (!b || b->ops != &kernel_ops)
		return NULL;
	return to_kernel(b)->dev_path;
}

int backend_kernel_fd(struct backend *b)
{
	if (!b || b->ops != &kernel_ops)
		return -EINVAL;
	return to_kernel(b)->fd;
}

int backend_kernel_test_mock_domain(struct backend *b, uint32_t ioas,
				    uint32_t *ret_stdev, uint32_t *ret_hwpt,
				    uint32_t *ret_idev)
{
	struct iofd_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOFD_TEST_OP_MOCK_DOMAIN,
		.id = ioas,
	};
	int fd = backend_kernel_fd(b);

	if (fd < 0)
		return fd;
	if (ioctl(fd, IOFD_TEST_CMD, &cmd) < 0)
		return -errno;
	*ret_stdev = cmd.mock_domain.out_stdev_id;
	if (ret_hwpt)
		*ret_hwpt = cmd.mock_domain.out_hwpt_id;
	if (ret_idev)
		*ret_idev = cmd.mock_domain.out_idev_id;
	return 0;
}

int backend_kernel_test_mock_replace(struct backend *b, uint32_t stdev,
				     uint32_t pt, uint32_t *ret_hwpt)
{
	struct iofd_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOFD_TEST_OP_MOCK_DOMAIN_REPLACE,
		.id = stdev,
		.mock_domain_replace = { .pt_id = pt },
	};
	int fd = backend_kernel_fd(b), r;

	if (fd < 0)
		return fd;
	r = xioctl(fd, IOFD_TEST_CMD, &cmd);
	if (r == 0 && ret_hwpt)
		*ret_hwpt = cmd.mock_domain_replace.pt_id;
	return r;
}

int backend_kernel_test_check_map(struct backend *b, uint32_t hwpt,
				  uint64_t iova, uint64_t length,
				  const void *uptr)
{
	struct iofd_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOFD_TEST_OP_MD_CHECK_MAP,
		.id = hwpt,
		.check_map = { .iova = iova, .length = length,
			       .uptr = (uintptr_t)uptr },
	};
	int fd = backend_kernel_fd(b);

	if (fd < 0)
		return fd;
	return xioctl(fd, IOFD_TEST_CMD, &cmd);
}

int backend_kernel_test_check_iotlb(struct backend *b, uint32_t hwpt,
				    uint32_t iotlb_id, uint32_t expect)
{
	struct iofd_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOFD_TEST_OP_MD_CHECK_IOTLB,
		.id = hwpt,
		.check_iotlb = { .id = iotlb_id, .iotlb = expect },
	};
	int fd = backend_kernel_fd(b);

	if (fd < 0)
		return fd;
	return xioctl(fd, IOFD_TEST_CMD, &cmd);
}

int backend_kernel_test_check_dev_cache(struct backend *b, uint32_t idev,
					uint32_t cache_id, uint32_t expect)
{
	struct iofd_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOFD_TEST_OP_DEV_CHECK_CACHE,
		.id = idev,
		.check_dev_cache = { .id = cache_id, .cache = expect },
	};
	int fd = backend_kernel_fd(b);

	if (fd < 0)
		return fd;
	return xioctl(fd, IOFD_TEST_CMD, &cmd);
}

int backend_kernel_test_trigger_vevent(struct backend *b, uint32_t idev)
{
	struct iofd_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOFD_TEST_OP_TRIGGER_VEVENT,
		.trigger_vevent = { .dev_id = idev },
	};
	int fd = backend_kernel_fd(b);

	if (fd < 0)
		return fd;
	return xioctl(fd, IOFD_TEST_CMD, &cmd);
}

int backend_kernel_adopt(const char *dev_path, int *fd, struct backend **ret)
{
	struct kernel_backend *k;
	struct backend_model model;
	char desc[BACKEND_MODEL_STRLEN];
	bool has_map_file = false;
	int r;

	/* Also proves that *fd is an iommufd context (ENOTTY otherwise). */
	r = probe_map_file(*fd, &has_map_file);
	if (r < 0)
		return r;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->base.ops = &kernel_ops;
	k->base.has_map_file = has_map_file;
	k->dev_path = strdup(dev_path ? dev_path : DEFAULT_DEV_PATH);
	if (!k->dev_path) {
		free(k);
		return -ENOMEM;
	}
	/* What this kernel is, as its sysfs shows it (see backend_model). */
	if (backend_model_init(&model, -1, 0) < 0)
		snprintf(k->base.description, sizeof(k->base.description), "kernel");
	else {
		backend_model_format(&model, desc, sizeof(desc));
		snprintf(k->base.description, sizeof(k->base.description),
			 "kernel %s", desc);
	}
	k->fd = TAKE_FD(*fd);
	backend_kernel_probe_pasid(&k->base);
	*ret = &k->base;
	return 0;
}

int backend_kernel_adopt_like(struct backend *like, int *fd, struct backend **ret)
{
	if (!like || like->ops != &kernel_ops)
		return -EINVAL;
	return backend_kernel_adopt(to_kernel(like)->dev_path, fd, ret);
}
