/* SPDX-License-Identifier: MIT */
/*
 * What the broker hands over to a VMM rather than uses itself (issue 17):
 * a fresh iommufd context with its pinned-page accounting set, and the
 * unbound VFIO cdev of a PCI device. The daemon keeps no copy of either.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/util.h"
#include "iommu/backend-kernel.h"
#include "iommu/iommufd-uapi.h"

#define VFIO_CDEV_DIR "/dev/vfio/devices"
#define PCI_SYSFS_DIR "/sys/bus/pci/devices"

static int option_rlimit_mode(int fd, uint16_t op, uint64_t *val)
{
	struct iofd_option cmd = {
		.size = sizeof(cmd),
		.option_id = IOFD_OPTION_RLIMIT_MODE,
		.op = op,
		.val64 = op == IOFD_OPTION_OP_SET ? *val : 0,
	};

	if (ioctl(fd, IOFD_OPTION, &cmd) < 0)
		return -errno;
	*val = cmd.val64;
	return 0;
}

int backend_kernel_context_fd(const char *dev_path, uint64_t mode, int *ret_fd,
			      const char **ret_step)
{
	_cleanup_close_ int fd = -1;
	uint64_t v = mode;
	int r;

	*ret_step = "open";
	fd = open(dev_path, O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	/* A fresh context has the kernel's default (user): setting only
	 * what differs spares the capability where it is not needed. */
	*ret_step = "IOMMU_OPTION_RLIMIT_MODE get";
	r = option_rlimit_mode(fd, IOFD_OPTION_OP_GET, &v);
	if (r < 0)
		return r;
	if (v != mode) {
		/* Needs CAP_SYS_RESOURCE (EPERM without), and an empty context. */
		*ret_step = "IOMMU_OPTION_RLIMIT_MODE set";
		v = mode;
		r = option_rlimit_mode(fd, IOFD_OPTION_OP_SET, &v);
		if (r < 0)
			return r;
		/* What the receiver gets is what the kernel says it is. */
		*ret_step = "IOMMU_OPTION_RLIMIT_MODE get";
		r = option_rlimit_mode(fd, IOFD_OPTION_OP_GET, &v);
		if (r < 0)
			return r;
		if (v != mode)
			return -EIO;
	}
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int backend_kernel_context_mode(int fd, uint64_t *ret_mode)
{
	return option_rlimit_mode(fd, IOFD_OPTION_OP_GET, ret_mode);
}

/*
 * /sys/bus/pci/devices/<address>/vfio-dev/vfioN names the device's cdev,
 * /dev/vfio/devices/vfioN. A fresh open is unbound: a binding belongs to
 * the open file. -ENOENT: no such PCI device; -ENODEV: not bound to a
 * VFIO driver (no cdev).
 */
int backend_kernel_device_open(const struct pci_address *a, int *ret_fd)
{
	char addr[PCI_ADDRESS_LEN], path[PATH_MAX], name[NAME_MAX + 1] = "";
	struct dirent *de;
	DIR *d;
	int fd;

	pci_format_address(addr, sizeof(addr), a->domain, a->bus, a->slot,
			   a->function);
	snprintf(path, sizeof(path), PCI_SYSFS_DIR "/%s", addr);
	if (access(path, F_OK) < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	snprintf(path, sizeof(path), PCI_SYSFS_DIR "/%s/vfio-dev", addr);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ENODEV : -errno;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "vfio", 4) == 0 &&
		    strlen(de->d_name) < sizeof(name)) {
			strcpy(name, de->d_name);
			break;
		}
	}
	closedir(d);
	if (!name[0])
		return -ENODEV;
	snprintf(path, sizeof(path), VFIO_CDEV_DIR "/%s", name);
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}
