/* SPDX-License-Identifier: MIT */
/*
 * Guest self-check with the kernel's iommufd test hooks (CONFIG_IOMMUFD_TEST):
 * attach a mock IOMMU domain to an IOAS through the kernel backend's context
 * and ask the kernel (IOMMU_TEST_OP_MD_CHECK_MAP) whether the domain really
 * translates our mappings to our pages. This checks what no errno can show:
 * that MAP, COPY and UNMAP through the backend reach the IO page table.
 *
 * Prints one line per check and the mock domain's IOVA ranges (a fact the
 * sim models with backend_sim_attach_reserved); exits 1 if any check failed.
 * On 6.12 this needs a boot without VT-d (shared/vm/README.md, fact 1).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "iommu/backend-kernel.h"
#include "iommu/iommufd-uapi.h"
#include "common/util.h"

#define MEM_SIZE (64u << 10)

static int failures;

static void check(bool cond, const char *what, int r)
{
	printf("%s: %s", cond ? "ok" : "FAIL", what);
	if (r)
		printf(" (%s)", strerror(-r));
	putchar('\n');
	if (!cond)
		failures++;
}

static int test_cmd(int fd, struct iofd_test_cmd *cmd)
{
	cmd->size = sizeof(*cmd);
	if (ioctl(fd, IOFD_TEST_CMD, cmd) < 0)
		return -errno;
	return 0;
}

static int mock_domain(int fd, uint32_t ioas, uint32_t *ret_stdev,
		       uint32_t *ret_hwpt)
{
	struct iofd_test_cmd cmd = { .op = IOFD_TEST_OP_MOCK_DOMAIN, .id = ioas };
	int r = test_cmd(fd, &cmd);

	if (r < 0)
		return r;
	*ret_stdev = cmd.mock_domain.out_stdev_id;
	*ret_hwpt = cmd.mock_domain.out_hwpt_id;
	return 0;
}

static int md_check_map(int fd, uint32_t hwpt, uint64_t iova, uint64_t length,
			const void *uptr)
{
	struct iofd_test_cmd cmd = {
		.op = IOFD_TEST_OP_MD_CHECK_MAP,
		.id = hwpt,
		.check_map = { .iova = iova, .length = length,
			       .uptr = (uintptr_t)uptr },
	};

	return test_cmd(fd, &cmd);
}

static void print_ranges(struct backend *b, uint32_t ioas, const char *what)
{
	struct backend_iova_range ranges[8];
	uint32_t num = ARRAY_SIZE(ranges);
	uint64_t align = 0;
	int r;

	r = backend_iova_ranges(b, ioas, ranges, &num, &align);
	if (r < 0) {
		check(false, "iova_ranges", r);
		return;
	}
	printf("fact: %s: %" PRIu32 " range(s)", what, num);
	for (uint32_t i = 0; i < num; i++)
		printf(" [0x%" PRIx64 "..0x%" PRIx64 "]", ranges[i].start,
		       ranges[i].last);
	printf(" align=0x%" PRIx64 "\n", align);
}

int main(void)
{
	struct backend *b = NULL;
	uint32_t a, c, stdev_a, hwpt_a, stdev_c = 0, hwpt_c = 0;
	uint64_t iova, iova2, unmapped;
	_cleanup_close_ int memfd = -1;
	uint8_t *mem;
	char what[160];
	int fd, r;

	r = backend_kernel_open("/dev/iommu", &b);
	if (r < 0) {
		fprintf(stderr, "vm-selftest: open /dev/iommu: %s\n", strerror(-r));
		return 1;
	}
	fd = backend_kernel_fd(b);
	check(fd >= 0, "backend_kernel_fd gives the context fd", fd < 0 ? fd : 0);

	memfd = memfd_create("vm-selftest", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, MEM_SIZE) < 0) {
		perror("vm-selftest: memfd");
		return 1;
	}
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (mem == MAP_FAILED) {
		perror("vm-selftest: mmap");
		return 1;
	}
	memset(mem, 0xa5, MEM_SIZE);

	r = backend_ioas_alloc(b, &a);
	check(r == 0, "alloc IOAS A", r);
	r = backend_ioas_alloc(b, &c);
	check(r == 0, "alloc IOAS C", r);
	print_ranges(b, a, "fresh IOAS");

	r = mock_domain(fd, a, &stdev_a, &hwpt_a);
	check(r == 0, "mock domain attached to A", r);
	if (r < 0)
		goto out;
	print_ranges(b, a, "IOAS with a mock domain");

	/* Automatic IOVA: the mapping must land inside the mock aperture. */
	iova = 0;
	r = backend_map_user(b, a, BACKEND_MAP_READABLE | BACKEND_MAP_WRITEABLE,
			     mem, 0x4000, &iova);
	snprintf(what, sizeof(what), "map 16 KiB, automatic IOVA 0x%" PRIx64, iova);
	check(r == 0, what, r);
	r = md_check_map(fd, hwpt_a, iova, 0x4000, mem);
	check(r == 0, "mock domain translates the mapping to our pages", r);
	r = md_check_map(fd, hwpt_a, iova, 0x1000, mem + 0x1000);
	check(r == -EINVAL, "MD_CHECK_MAP refuses the wrong pages", r);

	/* Fixed IOVA of a second range. */
	iova2 = 0x2000000;
	r = backend_map_user(b, a, BACKEND_MAP_FIXED_IOVA | BACKEND_MAP_READABLE,
			     mem + 0x8000, 0x2000, &iova2);
	check(r == 0, "map 8 KiB read-only at IOVA 0x2000000", r);
	r = md_check_map(fd, hwpt_a, iova2, 0x2000, mem + 0x8000);
	check(r == 0, "fixed mapping translated", r);

	/* Reserved by the mock domain: below its aperture. */
	iova2 = 0x1000;
	r = backend_map_user(b, a, BACKEND_MAP_FIXED_IOVA | BACKEND_MAP_READABLE,
			     mem, 0x1000, &iova2);
	snprintf(what, sizeof(what), "fixed map below the aperture refused (r=%d)", r);
	check(r == -EINVAL, what, r);
	{
		struct backend_iova_range low = { 0x1000, 0x1fff };

		r = backend_allow_iovas(b, a, &low, 1);
		snprintf(what, sizeof(what),
			 "allow_iovas over a reserved range refused (r=%d)", r);
		check(r == -EADDRINUSE, what, r);
	}

	/* COPY into C, which has its own mock domain. */
	r = mock_domain(fd, c, &stdev_c, &hwpt_c);
	check(r == 0, "mock domain attached to C", r);
	if (r == 0) {
		iova2 = 0;
		r = backend_copy(b, c, a, BACKEND_MAP_READABLE |
				 BACKEND_MAP_WRITEABLE, iova + 0x1000, 0x2000,
				 &iova2);
		check(r == 0, "copy 8 KiB of A into C", r);
		r = md_check_map(fd, hwpt_c, iova2, 0x2000, mem + 0x1000);
		check(r == 0, "C's domain translates the copy to the same pages", r);
	}

	/* UNMAP must remove the translation. */
	r = backend_unmap(b, a, iova, 0x4000, &unmapped);
	check(r == 0 && unmapped == 0x4000, "unmap 16 KiB", r);
	r = md_check_map(fd, hwpt_a, iova, 0x1000, mem);
	check(r == -EINVAL, "mock domain no longer translates it", r);

	/* An IOAS in use by a domain cannot be destroyed; the device can. */
	r = backend_destroy(b, a);
	check(r == -EBUSY, "destroy of an IOAS with a device attached: EBUSY", r);
	r = backend_destroy(b, stdev_a);
	check(r == 0, "destroy the mock device", r);
	r = backend_destroy(b, a);
	check(r == 0, "destroy A after its device went away", r);
	if (stdev_c) {
		r = backend_destroy(b, stdev_c);
		check(r == 0, "destroy C's mock device", r);
	}
	r = backend_destroy(b, c);
	check(r == 0, "destroy C", r);
out:
	b->ops->close(b);
	munmap(mem, MEM_SIZE);
	printf("vm-selftest: %d failure(s)\n", failures);
	return failures ? 1 : 0;
}
