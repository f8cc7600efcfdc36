/* SPDX-License-Identifier: MIT */
/*
 * Hardware page tables through a real daemon (issue 15): HwInfo,
 * HwptAlloc (paging, nesting parent, nested), HwptInvalidate, HwptDestroy,
 * DeviceReplace, HwptList; the policy keys (AllowNesting=,
 * AllowDirtyTracking=, AllowedHwptData=, MaxHwpts=) with their citations,
 * the object lifetimes (EBUSY), release with the tenant.
 *
 * The device: on the sim backend a sim device behind the self-test mock
 * driver ("+mock", which nests) or behind the rig's VT-d (as edu); with
 * IOASD_TEST_BACKEND=kernel the guest's edu, where only the VT-d cases run
 * (the kernel refuses NEST_PARENT and DIRTY_TRACKING with EOPNOTSUPP).
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "ioas.h"
#include "iommu/backend.h"

#define MiB (UINT64_C(1) << 20)
#define DEV_UID 65534

static struct harness_daemon d;
static char dir[PATH_MAX];
static bool nesting; /* the policy of the fixture */

#define REQUIRE(cond) HARNESS_REQUIRE(cond)

static uid_t dev_uid(void)
{
	return geteuid() == 0 ? DEV_UID : getuid();
}

static void start(bool allow)
{
	char tmpl[] = "/tmp/ioasd-hwpt.XXXXXX", pdir[PATH_MAX + 16];
	char path[PATH_MAX + 32];
	const char *args[] = { "--policy-dir", pdir, "-v", NULL };
	FILE *f;

	nesting = allow;
	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	ck_assert_int_eq(chmod(tmpl, 0755), 0);
	snprintf(dir, sizeof(dir), "%s", tmpl);
	snprintf(pdir, sizeof(pdir), "%s/policy.d", dir);
	ck_assert_int_eq(mkdir(pdir, 0755), 0);
	snprintf(path, sizeof(path), "%s/50-hwpt.conf", pdir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[tenant vmm]\nMatchUser=%u\nAllowDevice=1234:11e8\n%s",
		(unsigned)dev_uid(),
		allow ? "AllowNesting=yes\nAllowDirtyTracking=yes\n"
			"AllowedHwptData=selftest\nMaxHwpts=3\nAllowViommu=yes\n" : "");
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(harness_daemon_start(&d, args), 0);
}

static void setup_nesting(void)
{
	start(true);
}

static void setup_plain(void)
{
	start(false);
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];

	ck_assert_int_eq(harness_daemon_stop(&d), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", dir);
}

/* A sim device behind the kernel's self-test mock driver. */
static int mock_device_open(void)
{
	int fd = memfd_create("ioasd-sim-device:1234:11e8@0000:00:03.0+mock",
			      MFD_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	return fd;
}

struct inv {
	uint32_t flags;    /* IOMMU_TEST_INVALIDATE_FLAG_ALL = 1 */
	uint32_t iotlb_id;
};

/* A client with one IOAS (2 MiB mapped) and devfd attached to it. */
static int client_with_device(int devfd, struct ioas_client **c,
			      uint32_t *ioas, uint32_t *dev)
{
	struct ioas_device_info info;
	uint64_t iova = 0;
	uint32_t mem;
	int fd = -1;

	/* The device first: the mapping then lands inside its aperture (the
	 * mock's is [16 MiB, 2 GiB)). */
	REQUIRE(harness_connect(&d, "test-hwpt", c) == 0);
	REQUIRE(ioas_alloc(*c, ioas) == 0);
	REQUIRE(ioas_device_attach(*c, *ioas, devfd, &info) == 0);
	*dev = info.device;
	REQUIRE(ioas_memfd_create("hwpt", 2 * MiB, &fd) == 0);
	REQUIRE(ioas_memory_register(*c, fd, 0, 2 * MiB, &mem, NULL) == 0);
	close(fd);
	REQUIRE(ioas_map(*c, *ioas, mem, 0, 2 * MiB,
			 IOAS_MAP_READABLE | IOAS_MAP_WRITEABLE, &iova) == 0);
	return 0;
}

/* --- the mock driver: nesting and invalidation (sim) ------------------- */

static int nested_rules(void *arg)
{
	int devfd = *(int *)arg;
	struct ioas_hwpt_info *list = NULL;
	struct ioas_hw_info hw;
	struct ioas_client *c;
	uint32_t ioas, dev, parent, nested, plain, extra, n, iotlb = 0xbadbeef, reg;
	struct inv e[2] = { { 1, 0 }, { 0, 7 } };

	REQUIRE(client_with_device(devfd, &c, &ioas, &dev) == 0);
	/* HwInfo: the mock's type, its test register, its caps. */
	REQUIRE(ioas_hw_info(c, dev, &hw) == 0);
	REQUIRE(hw.type == 0xfeedbeef && hw.data_len == 8 && hw.capabilities == 1);
	memcpy(&reg, hw.data + 4, 4);
	REQUIRE(reg == 0xdeadbeef);
	REQUIRE(ioas_hw_info(c, dev + 1, &hw) == -ENOENT);
	/* A nesting parent, a nested HWPT with the selftest data. */
	REQUIRE(ioas_hwpt_alloc(c, dev, ioas, IOAS_HWPT_NEST_PARENT, &parent) == 0);
	REQUIRE(ioas_hwpt_alloc_nested(c, dev, parent, IOAS_HWPT_DATA_SELFTEST,
				       &iotlb, sizeof(iotlb), &nested) == 0);
	REQUIRE(nested != parent);
	/* The kernel's data rules come back as they are (short: EINVAL). */
	REQUIRE(ioas_hwpt_alloc_nested(c, dev, parent, IOAS_HWPT_DATA_SELFTEST,
				       &iotlb, 2, &extra) == -EINVAL);
	REQUIRE(strstr(ioas_client_last_error(c), "IOMMU_HWPT_ALLOC") != NULL);
	/* Invalidate: the first entry is handled, the second (iotlb_id 7)
	 * refused by the driver; the reply says one was done. */
	n = 2;
	REQUIRE(ioas_hwpt_invalidate(c, nested, IOAS_HWPT_INVALIDATE_DATA_SELFTEST,
				     e, sizeof(e[0]), &n) == -EINVAL);
	REQUIRE(n == 1);
	n = 1;
	REQUIRE(ioas_hwpt_invalidate(c, nested, IOAS_HWPT_INVALIDATE_DATA_SELFTEST,
				     e, sizeof(e[0]), &n) == 0);
	REQUIRE(n == 1);
	/* A paging HWPT is no invalidation target (6.12: ENOENT). */
	n = 1;
	REQUIRE(ioas_hwpt_invalidate(c, parent, IOAS_HWPT_INVALIDATE_DATA_SELFTEST,
				     e, sizeof(e[0]), &n) == -ENOENT);
	/* Entries that are not whole: EINVAL before the kernel. */
	n = 1;
	REQUIRE(ioas_hwpt_invalidate(c, nested, IOAS_HWPT_INVALIDATE_DATA_SELFTEST,
				     e, 0, &n) == -EINVAL);
	/* Lifetimes: the parent is held by its child, the IOAS by both. */
	REQUIRE(ioas_hwpt_destroy(c, parent) == -EBUSY);
	REQUIRE(strstr(ioas_client_last_error(c), "nested") != NULL);
	REQUIRE(ioas_destroy(c, ioas) == -EBUSY);
	/* The device onto the nested HWPT: that holds it too. */
	REQUIRE(ioas_device_replace(c, dev, 0, nested) == 0);
	REQUIRE(ioas_hwpt_destroy(c, nested) == -EBUSY);
	REQUIRE(strstr(ioas_client_last_error(c), "device") != NULL);
	REQUIRE(ioas_device_replace(c, dev, ioas, nested) == -EINVAL);
	REQUIRE(ioas_device_replace(c, dev, 0, 99) == -ENOENT);
	REQUIRE(ioas_hwpt_list(c, &list, &n) == 0);
	REQUIRE(n == 2 && list[0].hwpt == nested && list[0].parent == parent);
	REQUIRE(list[0].devices == 1 && list[1].children == 1);
	REQUIRE(list[1].flags == IOAS_HWPT_NEST_PARENT && list[1].ioas == ioas);
	free(list);
	/* MaxHwpts=3: a third, then ENOSPC citing the key. */
	REQUIRE(ioas_hwpt_alloc(c, dev, ioas, 0, &plain) == 0);
	REQUIRE(ioas_hwpt_alloc(c, dev, ioas, 0, &extra) == -ENOSPC);
	REQUIRE(strstr(ioas_client_last_error(c), "MaxHwpts") != NULL);
	/* Policy: AllowedHwptData=selftest has no vtd-s1. */
	REQUIRE(ioas_hwpt_alloc_nested(c, dev, parent, IOAS_HWPT_DATA_VTD_S1,
				       &iotlb, sizeof(iotlb), &extra) == -EPERM);
	REQUIRE(strstr(ioas_client_last_error(c), "AllowedHwptData") != NULL);
	/* FAULT_ID_VALID goes with a fault queue (issue 16, test-faults.c). */
	REQUIRE(ioas_hwpt_alloc(c, dev, ioas, 1u << 2, &extra) == -EINVAL);
	REQUIRE(strstr(ioas_client_last_error(c), "fault queue") != NULL);
	REQUIRE(ioas_hwpt_alloc(c, dev, ioas, 1u << 4, &extra) == -EOPNOTSUPP);
	/* Back, and down in order. */
	REQUIRE(ioas_device_replace(c, dev, ioas, 0) == 0);
	REQUIRE(ioas_hwpt_destroy(c, nested) == 0);
	REQUIRE(ioas_hwpt_destroy(c, nested) == -ENOENT);
	/* The sim models 6.12: no vIOMMU (ENOTTY there), said as EOPNOTSUPP. */
	REQUIRE(ioas_viommu_alloc(c, dev, parent, IOAS_VIOMMU_TYPE_SELFTEST, NULL, 0,
				  &extra) == -EOPNOTSUPP);
	REQUIRE(strstr(ioas_client_last_error(c), "no IOMMU_VIOMMU_ALLOC") != NULL);
	REQUIRE(ioas_vdevice_alloc(c, 1, dev, 7, &extra) == -ENOENT);
	REQUIRE(ioas_viommu_destroy(c, 1) == -ENOENT);
	REQUIRE(ioas_hwpt_alloc_viommu(c, dev, 1, IOAS_HWPT_DATA_SELFTEST, &iotlb,
				       sizeof(iotlb), &extra) == -ENOENT);
	REQUIRE(ioas_hwpt_destroy(c, parent) == 0);
	REQUIRE(ioas_hwpt_destroy(c, plain) == 0);
	/* Leave a parent and a child behind: the release takes them. */
	REQUIRE(ioas_hwpt_alloc(c, dev, ioas, IOAS_HWPT_NEST_PARENT, &parent) == 0);
	REQUIRE(ioas_hwpt_alloc_nested(c, dev, parent, IOAS_HWPT_DATA_SELFTEST,
				       &iotlb, sizeof(iotlb), &nested) == 0);
	REQUIRE(ioas_device_replace(c, dev, 0, nested) == 0);
	ioas_client_free(c);
	return 0;
}

START_TEST(nesting_through_the_daemon_sim)
{
	int base, devfd;

	if (!harness_backend_is_sim()) {
		fprintf(stderr, "test-hwpt: kernel backend: no mock device here\n");
		return;
	}
	base = harness_fd_count_settled(d.pid, 2000);
	devfd = mock_device_open();
	ck_assert_int_eq(harness_run_client_as(dev_uid(), dev_uid(), nested_rules,
					       &devfd), 0);
	close(devfd);
	ck_assert_int_eq(harness_wait_fd_count(d.pid, base, 2000), base);
}
END_TEST

/* --- the rig's VT-d (edu): hardware info, refusals of the driver -------- */

struct vtd_arg {
	int devfd;
	struct backend_hw_info direct; /* what a root program gets itself */
};

/* IOMMU_GET_HW_INFO as a root program gets it on its own: a context of its
 * own (the kernel's /dev/iommu, or a sim), a fresh open of the device bound
 * to it, then everything closed again (the file unbinds with its last
 * copy, so the daemon can bind the device next). */
static void direct_hw_info(struct backend_hw_info *ret)
{
	struct backend *b = NULL;
	int fd = harness_device_open();
	uint32_t dev;

	ck_assert_int_ge(fd, 0);
	if (harness_backend_is_sim())
		ck_assert_int_eq(backend_sim_open(&b), 0);
	else
		ck_assert_int_eq(backend_kernel_open(NULL, &b), 0);
	ck_assert_int_eq(backend_device_bind(b, fd, &dev), 0);
	ck_assert_int_eq(backend_hw_info(b, dev, ret), 0);
	close(fd);
	backend_close(b);
}

static int vtd_rules(void *arg)
{
	struct vtd_arg *va = arg;
	int devfd = va->devfd;
	struct ioas_hw_info hw;
	struct ioas_client *c;
	uint32_t ioas, dev, h, flags;

	REQUIRE(client_with_device(devfd, &c, &ioas, &dev) == 0);
	REQUIRE(ioas_hw_info(c, dev, &hw) == 0);
	REQUIRE(hw.type == 1 && hw.data_len == 24);
	memcpy(&flags, hw.data, 4);
	REQUIRE(flags & 1); /* IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17 */
	/* Through the daemon exactly what the root program got itself. */
	REQUIRE(hw.type == va->direct.type && hw.data_len == va->direct.data_len);
	REQUIRE(hw.capabilities == va->direct.capabilities);
	REQUIRE(hw.max_pasid_log2 == va->direct.max_pasid_log2);
	REQUIRE(memcmp(hw.data, va->direct.data, hw.data_len) == 0);
	/* QEMU's VT-d has no ECAP.NEST nor SLADS: the driver refuses. */
	REQUIRE(ioas_hwpt_alloc(c, dev, ioas, IOAS_HWPT_NEST_PARENT, &h) == -EOPNOTSUPP);
	REQUIRE(strstr(ioas_client_last_error(c), "does not support") != NULL);
	REQUIRE(ioas_hwpt_alloc(c, dev, ioas, IOAS_HWPT_DIRTY_TRACKING, &h) == -EOPNOTSUPP);
	/* A plain paging HWPT works; the device goes onto it and back. */
	REQUIRE(ioas_hwpt_alloc(c, dev, ioas, 0, &h) == 0);
	REQUIRE(ioas_device_replace(c, dev, 0, h) == 0);
	REQUIRE(ioas_hwpt_destroy(c, h) == -EBUSY);
	REQUIRE(ioas_device_replace(c, dev, ioas, 0) == 0);
	REQUIRE(ioas_hwpt_destroy(c, h) == 0);
	ioas_client_free(c);
	return 0;
}

START_TEST(vtd_hw_info_and_refusals)
{
	int base = harness_fd_count_settled(d.pid, 2000);
	struct vtd_arg va;

	direct_hw_info(&va.direct);
	va.devfd = harness_device_open();
	ck_assert_int_ge(va.devfd, 0);
	ck_assert_int_eq(harness_run_client_as(dev_uid(), dev_uid(), vtd_rules,
					       &va), 0);
	close(va.devfd);
	ck_assert_int_eq(harness_wait_fd_count(d.pid, base, 2000), base);
}
END_TEST

/* --- a device tenant without the keys ----------------------------------- */

static int policy_refusals(void *arg)
{
	int devfd = *(int *)arg;
	struct ioas_client *c;
	uint32_t ioas, dev, h, x = 1, n = 1;

	REQUIRE(client_with_device(devfd, &c, &ioas, &dev) == 0);
	REQUIRE(ioas_hwpt_alloc(c, dev, ioas, IOAS_HWPT_NEST_PARENT, &h) == -EPERM);
	REQUIRE(strstr(ioas_client_last_error(c), "AllowNesting") != NULL);
	REQUIRE(ioas_hwpt_alloc(c, dev, ioas, IOAS_HWPT_DIRTY_TRACKING, &h) == -EPERM);
	REQUIRE(strstr(ioas_client_last_error(c), "AllowDirtyTracking") != NULL);
	/* A paging HWPT needs no key. */
	REQUIRE(ioas_hwpt_alloc(c, dev, ioas, 0, &h) == 0);
	REQUIRE(ioas_hwpt_alloc_nested(c, dev, h, IOAS_HWPT_DATA_SELFTEST, &x,
				       sizeof(x), &n) == -EPERM);
	n = 1;
	REQUIRE(ioas_hwpt_invalidate(c, h, IOAS_HWPT_INVALIDATE_DATA_SELFTEST, &x,
				     sizeof(x), &n) == -EPERM);
	REQUIRE(n == 0);
	REQUIRE(strstr(ioas_client_last_error(c), "AllowedHwptData") != NULL);
	/* vIOMMU objects need AllowViommu=. */
	REQUIRE(ioas_viommu_alloc(c, dev, h, 1, NULL, 0, &n) == -EPERM);
	REQUIRE(strstr(ioas_client_last_error(c), "AllowViommu") != NULL);
	/* Neither or both of IOAS and parent: EINVAL. */
	REQUIRE(ioas_hwpt_alloc(c, dev, 0, 0, &h) == -EINVAL);
	REQUIRE(ioas_hwpt_alloc(c, dev + 5, ioas, 0, &h) == -ENOENT);
	ioas_client_free(c);
	return 0;
}

START_TEST(refused_by_policy)
{
	int devfd = harness_device_open();

	ck_assert_int_ge(devfd, 0);
	ck_assert_int_eq(harness_run_client_as(dev_uid(), dev_uid(), policy_refusals,
					       &devfd), 0);
	close(devfd);
}
END_TEST

static Suite *hwpt_suite(void)
{
	Suite *s = suite_create("hwpt");
	TCase *tc = tcase_create("nesting");
	TCase *pl = tcase_create("plain");

	tcase_add_checked_fixture(tc, setup_nesting, teardown);
	tcase_add_test(tc, nesting_through_the_daemon_sim);
	tcase_add_test(tc, vtd_hw_info_and_refusals);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(pl, setup_plain, teardown);
	tcase_add_test(pl, refused_by_policy);
	suite_add_tcase(s, pl);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(hwpt_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
