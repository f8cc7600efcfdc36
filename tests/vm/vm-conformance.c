/* SPDX-License-Identifier: MIT */
/*
 * Guest side of the differential conformance test: run the scenarios of
 * tests/conformance.c on the real kernel (/dev/iommu, or the path given as
 * the only argument) and print the transcript on stdout. The rig compares it
 * with tests/conformance.golden on the host.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "iommu/backend.h"
#include "tests/conformance.h"

/* The guest's edu device, bound to vfio-pci by the rig. */
static int edu_device(void)
{
	int fd = open("/dev/vfio/devices/vfio0", O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int main(int argc, char **argv)
{
	const char *dev = argc > 1 ? argv[1] : "/dev/iommu";
	struct backend *b = NULL;
	int r;

	r = backend_kernel_open(dev, &b);
	if (r < 0) {
		fprintf(stderr, "vm-conformance: cannot open kernel backend %s: %s\n",
			dev, strerror(-r));
		return 1;
	}
	fprintf(stderr, "vm-conformance: %s, has_map_file=%d\n",
		backend_description(b), b->has_map_file);
	r = conformance_run(b, stdout, edu_device, true);
	b->ops->close(b);
	if (r < 0) {
		fprintf(stderr, "vm-conformance: harness setup failed: %s\n",
			strerror(-r));
		return 1;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
