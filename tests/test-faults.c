/* SPDX-License-Identifier: MIT */
/*
 * Fault queues, dirty bitmaps and PASIDs through a real daemon (issue 16):
 * FaultAlloc (its fd on the reply), HwptAlloc with a queue, FaultDestroy
 * (EBUSY while an HWPT holds it), HwptSetDirty/HwptGetDirty into
 * registered memory with the bounds checked first, PasidAttach/Detach/List
 * under AllowedPASID=, the policy keys with their citations, and release
 * with the tenant (the daemon's fd count comes back).
 *
 * The sim only (its mock device; --sim-kernel 7.2 for PASIDs): delivery of
 * faults and dirty bits needs the kernel's self-test ops, proved in the
 * real-kernel suite (tests/vm/guest/74-faults.sh) and, on the sim's own
 * model, in test-sim-faults.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "ioas.h"

#define MiB (UINT64_C(1) << 20)
#define DEV_UID 65534

static struct harness_daemon d;
static char dir[PATH_MAX];
static char pdir[PATH_MAX + 16], sdir[PATH_MAX + 16];
static const char *kernel_arg;
static bool with_state;

#define REQUIRE(cond) HARNESS_REQUIRE(cond)

static uid_t dev_uid(void)
{
	return geteuid() == 0 ? DEV_UID : getuid();
}

static const char *const *daemon_args(void)
{
	static const char *args[12];
	int i = 0;

	args[i++] = "--policy-dir";
	args[i++] = pdir;
	args[i++] = "-v";
	args[i++] = "--sim-kernel";
	args[i++] = kernel_arg;
	if (with_state) {
		args[i++] = "--state-dir";
		args[i++] = sdir;
		args[i++] = "--restart-grace";
		args[i++] = "30";
	}
	args[i] = NULL;
	return args;
}

static void start(const char *kernel, bool allow)
{
	char tmpl[] = "/tmp/ioasd-faults.XXXXXX";
	char path[PATH_MAX + 32];
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	ck_assert_int_eq(chmod(tmpl, 0755), 0);
	snprintf(dir, sizeof(dir), "%s", tmpl);
	snprintf(pdir, sizeof(pdir), "%s/policy.d", dir);
	ck_assert_int_eq(mkdir(pdir, 0755), 0);
	snprintf(sdir, sizeof(sdir), "%s/state", dir);
	ck_assert_int_eq(mkdir(sdir, 0700), 0);
	kernel_arg = kernel;
	snprintf(path, sizeof(path), "%s/50-faults.conf", pdir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[tenant vmm]\nMatchUser=%u\nAllowDevice=1234:11e8\n"
		"AllowNesting=yes\nAllowDirtyTracking=yes\nAllowedHwptData=selftest\n%s",
		(unsigned)dev_uid(),
		allow ? "AllowedPASID=1-255\nMaxFaultQueues=1\n" : "");
	if (with_state)
		fprintf(f, "Lease=60\n");
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(harness_daemon_start(&d, daemon_args()), 0);
}

static void setup_612(void)
{
	start("6.12", true);
}

static void setup_72(void)
{
	start("7.2", true);
}

static void setup_plain(void)
{
	start("6.12", false);
}

static void setup_restart(void)
{
	with_state = true;
	start("7.2", true);
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];

	ck_assert_int_eq(harness_daemon_stop(&d), 0);
	with_state = false;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", dir);
}

static int mock_device_open(void)
{
	int fd = memfd_create("ioasd-sim-device:1234:11e8@0000:00:03.0+mock",
			      MFD_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	return fd;
}

/* A client with one IOAS, devfd attached, 2 MiB mapped at *iova, and a
 * registered 64 KiB region for bitmaps (*bits). */
static int client_with_device(int devfd, struct ioas_client **c, uint32_t *ioas,
			      uint32_t *dev, uint64_t *iova, uint32_t *bits)
{
	struct ioas_device_info info;
	uint32_t mem;
	int fd = -1;

	*iova = 0;
	REQUIRE(harness_connect(&d, "test-faults", c) == 0);
	REQUIRE(ioas_alloc(*c, ioas) == 0);
	REQUIRE(ioas_device_attach(*c, *ioas, devfd, &info) == 0);
	*dev = info.device;
	REQUIRE(ioas_memfd_create("faults", 2 * MiB, &fd) == 0);
	REQUIRE(ioas_memory_register(*c, fd, 0, 2 * MiB, &mem, NULL) == 0);
	close(fd);
	REQUIRE(ioas_map(*c, *ioas, mem, 0, 2 * MiB,
			 IOAS_MAP_READABLE | IOAS_MAP_WRITEABLE, iova) == 0);
	REQUIRE(ioas_memfd_create("bits", 65536, &fd) == 0);
	REQUIRE(ioas_memory_register(*c, fd, 0, 65536, bits, NULL) == 0);
	close(fd);
	return 0;
}

static bool has(struct ioas_client *c, const char *what)
{
	return strstr(ioas_client_last_error(c), what) != NULL;
}

/* --- 6.12: fault queues on nested HWPTs, dirty bitmaps, no PASIDs -------- */

static int rules_612(void *arg)
{
	int devfd = *(int *)arg, qfd, qfd2;
	struct ioas_hwpt_info *list = NULL;
	struct ioas_client *c;
	uint32_t ioas, dev, bits, q, q2, parent, nested, h, dirty_h, n;
	uint32_t iotlb = 1;
	uint64_t iova, set = 99;
	struct pollfd p;
	struct ioas_hwpt_args a = { 0 };

	REQUIRE(client_with_device(devfd, &c, &ioas, &dev, &iova, &bits) == 0);
	REQUIRE(ioas_fault_alloc(c, &q, &qfd) == 0);
	REQUIRE(qfd >= 0 && fcntl(qfd, F_GETFD) == FD_CLOEXEC);
	/* Nothing queued yet. */
	p = (struct pollfd){ .fd = qfd, .events = POLLIN };
	REQUIRE(poll(&p, 1, 0) == 0);
	REQUIRE(ioas_fault_alloc(c, &q2, &qfd2) == -ENOSPC);
	REQUIRE(has(c, "MaxFaultQueues=1") && has(c, "50-faults.conf:"));
	/* FAULT_ID_VALID and a queue go together. */
	a = (struct ioas_hwpt_args){ .device = dev, .ioas = ioas, .fault = q };
	REQUIRE(ioas_hwpt_alloc_args(c, &a, &h) == -EINVAL);
	/* 6.12: a paging HWPT cannot take a queue (the kernel's EOPNOTSUPP). */
	a.flags = IOAS_HWPT_FAULT_ID_VALID;
	REQUIRE(ioas_hwpt_alloc_args(c, &a, &h) == -EOPNOTSUPP);
	REQUIRE(has(c, "IOMMU_HWPT_ALLOC"));
	a.fault = q + 7;
	REQUIRE(ioas_hwpt_alloc_args(c, &a, &h) == -ENOENT);
	/* A nested HWPT with the queue. */
	REQUIRE(ioas_hwpt_alloc(c, dev, ioas, IOAS_HWPT_NEST_PARENT, &parent) == 0);
	a = (struct ioas_hwpt_args){ .device = dev, .parent = parent,
		.flags = IOAS_HWPT_FAULT_ID_VALID, .data_type = IOAS_HWPT_DATA_SELFTEST,
		.data = &iotlb, .len = sizeof(iotlb), .fault = q };
	REQUIRE(ioas_hwpt_alloc_args(c, &a, &nested) == 0);
	REQUIRE(ioas_hwpt_list(c, &list, &n) == 0);
	REQUIRE(n == 2 && list[0].hwpt == nested && list[0].fault == q &&
		list[1].fault == 0);
	free(list);
	REQUIRE(ioas_device_replace(c, dev, 0, nested) == 0);
	REQUIRE(ioas_fault_destroy(c, q) == -EBUSY);
	REQUIRE(has(c, "1 HWPT(s)"));
	REQUIRE(ioas_device_replace(c, dev, ioas, 0) == 0);
	REQUIRE(ioas_hwpt_destroy(c, nested) == 0);
	/* The kernel holds the queue while its fd is open. */
	REQUIRE(ioas_fault_destroy(c, q) == -EBUSY);
	REQUIRE(has(c, "close the fd first"));
	close(qfd);
	REQUIRE(ioas_fault_destroy(c, q) == 0);
	REQUIRE(ioas_fault_destroy(c, q) == -ENOENT);

	/* Dirty tracking: a tracking HWPT on the IOAS. */
	REQUIRE(ioas_hwpt_alloc(c, dev, ioas, 0, &h) == 0);
	REQUIRE(ioas_hwpt_set_dirty(c, h, true) == -EOPNOTSUPP);
	REQUIRE(has(c, "not allocated with DIRTY_TRACKING"));
	REQUIRE(ioas_hwpt_alloc(c, dev, ioas, IOAS_HWPT_DIRTY_TRACKING, &dirty_h) == 0);
	/* Tracking off: an empty bitmap (what the kernels answer). */
	REQUIRE(ioas_hwpt_get_dirty(c, dirty_h, iova, 2 * MiB, 4096, bits, 0, 0,
				    &set) == 0);
	REQUIRE(set == 0);
	REQUIRE(ioas_hwpt_set_dirty(c, dirty_h, true) == 0);
	REQUIRE(ioas_hwpt_get_dirty(c, dirty_h, iova, 2 * MiB, 4096, bits, 8, 0,
				    &set) == 0);
	REQUIRE(set == 0);
	/* Bounds before the kernel: page size, alignment, size, offset, room. */
	REQUIRE(ioas_hwpt_get_dirty(c, dirty_h, iova, 2 * MiB, 3000, bits, 0, 0,
				    NULL) == -EINVAL);
	REQUIRE(has(c, "power of two"));
	REQUIRE(ioas_hwpt_get_dirty(c, dirty_h, iova, 4095, 4096, bits, 0, 0,
				    NULL) == -EINVAL);
	REQUIRE(ioas_hwpt_get_dirty(c, dirty_h, 0, UINT64_C(1) << 40, 512, bits, 0,
				    0, NULL) == -E2BIG);
	REQUIRE(has(c, "at most"));
	REQUIRE(ioas_hwpt_get_dirty(c, dirty_h, iova, 2 * MiB, 4096, bits, 4, 0,
				    NULL) == -EINVAL);
	REQUIRE(ioas_hwpt_get_dirty(c, dirty_h, iova, 2 * MiB, 4096, bits, 65536,
				    0, NULL) == -EINVAL);
	REQUIRE(has(c, "does not fit"));
	REQUIRE(ioas_hwpt_get_dirty(c, dirty_h, iova, 2 * MiB, 4096, bits + 9, 0,
				    0, NULL) == -ENOENT);
	/* A range not wholly mapped: the kernel's EINVAL. */
	REQUIRE(ioas_hwpt_get_dirty(c, dirty_h, iova, 4 * MiB, 4096, bits, 0, 0,
				    NULL) == -EINVAL);
	REQUIRE(ioas_hwpt_get_dirty(c, dirty_h, iova, 2 * MiB, 4096, bits, 0, 2,
				    NULL) == -EINVAL); /* libioas: unknown flag */

	/* No PASID attach on 6.12. */
	REQUIRE(ioas_pasid_attach(c, dev, 5, 0, h) == -EOPNOTSUPP);
	REQUIRE(has(c, "no PASID attach"));

	/* Left behind for the release: a queue and an HWPT holding it. */
	REQUIRE(ioas_fault_alloc(c, &q, &qfd) == 0);
	a.fault = q;
	REQUIRE(ioas_hwpt_alloc_args(c, &a, &nested) == 0);
	close(qfd);
	ioas_client_free(c);
	return 0;
}

START_TEST(faults_and_dirty_612)
{
	int base, devfd;

	if (!harness_backend_is_sim())
		return;
	base = harness_fd_count_settled(d.pid, 2000);
	devfd = mock_device_open();
	ck_assert_int_eq(harness_run_client_as(dev_uid(), dev_uid(), rules_612,
					       &devfd), 0);
	close(devfd);
	/* The tenant's queue went with it (the sim's end of it too). */
	ck_assert_int_eq(harness_wait_fd_count(d.pid, base, 2000), base);
}
END_TEST

/* --- 7.2: PASIDs, paging HWPTs with a queue ----------------------------- */

static int rules_72(void *arg)
{
	int devfd = *(int *)arg, qfd;
	struct ioas_pasid_info *pl = NULL;
	struct ioas_client *c;
	uint32_t ioas, dev, bits, q, s2, plain, n, h;
	uint64_t iova;
	struct ioas_hwpt_args a = { 0 };

	REQUIRE(client_with_device(devfd, &c, &ioas, &dev, &iova, &bits) == 0);
	REQUIRE(ioas_fault_alloc(c, &q, &qfd) == 0);
	a = (struct ioas_hwpt_args){ .device = dev, .ioas = ioas,
		.flags = IOAS_HWPT_FAULT_ID_VALID, .fault = q };
	REQUIRE(ioas_hwpt_alloc_args(c, &a, &h) == 0);
	REQUIRE(ioas_hwpt_alloc(c, dev, ioas, IOAS_HWPT_PASID, &s2) == 0);
	REQUIRE(ioas_hwpt_alloc(c, dev, ioas, 0, &plain) == 0);
	/* The policy first: outside AllowedPASID=, and PASID 0. */
	REQUIRE(ioas_pasid_attach(c, dev, 300, 0, s2) == -EPERM);
	REQUIRE(has(c, "AllowedPASID=1-255") && has(c, "50-faults.conf:"));
	REQUIRE(ioas_pasid_attach(c, dev, 0, 0, s2) == -EINVAL);
	REQUIRE(ioas_pasid_attach(c, dev, 100, ioas, s2) == -EINVAL);
	/* Then the kernel's rules: an IOAS is never PASID-compatible, nor an
	 * HWPT without the flag; the RID must be on a compatible one. */
	REQUIRE(ioas_pasid_attach(c, dev, 100, ioas, 0) == -EINVAL);
	REQUIRE(has(c, "VFIO_DEVICE_ATTACH_IOMMUFD_PT"));
	REQUIRE(ioas_pasid_attach(c, dev, 100, 0, plain) == -EINVAL);
	REQUIRE(ioas_pasid_attach(c, dev, 100, 0, s2) == -EINVAL); /* RID on the IOAS */
	REQUIRE(ioas_device_replace(c, dev, 0, s2) == 0);
	REQUIRE(ioas_pasid_attach(c, dev, 100, 0, s2) == 0);
	REQUIRE(ioas_pasid_attach(c, dev, 100, 0, s2) == 0); /* replace: same */
	REQUIRE(ioas_pasid_list(c, &pl, &n) == 0);
	REQUIRE(n == 1 && pl[0].device == dev && pl[0].pasid == 100 &&
		pl[0].hwpt == s2 && pl[0].ioas == 0);
	free(pl);
	REQUIRE(ioas_hwpt_destroy(c, s2) == -EBUSY);
	REQUIRE(has(c, "PASID"));
	/* The RID may not leave for a non-compatible HWPT now. */
	REQUIRE(ioas_device_replace(c, dev, 0, plain) == -EINVAL);
	REQUIRE(ioas_pasid_detach(c, dev, 100) == 0);
	REQUIRE(ioas_pasid_detach(c, dev, 100) == -ENOENT);
	REQUIRE(has(c, "nothing attached"));
	REQUIRE(ioas_pasid_detach(c, dev + 1, 100) == -ENOENT);
	REQUIRE(ioas_pasid_list(c, &pl, &n) == 0);
	REQUIRE(n == 0);
	free(pl);
	/* One left attached for the release. */
	REQUIRE(ioas_pasid_attach(c, dev, 7, 0, s2) == 0);
	close(qfd);
	ioas_client_free(c);
	return 0;
}

START_TEST(pasids_72)
{
	int base, devfd;

	if (!harness_backend_is_sim())
		return;
	base = harness_fd_count_settled(d.pid, 2000);
	devfd = mock_device_open();
	ck_assert_int_eq(harness_run_client_as(dev_uid(), dev_uid(), rules_72,
					       &devfd), 0);
	close(devfd);
	ck_assert_int_eq(harness_wait_fd_count(d.pid, base, 2000), base);
}
END_TEST

/* --- restart: queues, HWPTs holding them and PASIDs come back ---------- */

struct life {
	char token[64];
	uint32_t dev, q, hf, s2;
};
static struct life *life; /* shared with the client children */

static int restart_first(void *arg)
{
	int devfd = *(int *)arg, qfd;
	struct ioas_client *c;
	uint32_t ioas, bits;
	uint64_t iova;
	struct ioas_hwpt_args a = { 0 };

	REQUIRE(client_with_device(devfd, &c, &ioas, &life->dev, &iova, &bits) == 0);
	snprintf(life->token, sizeof(life->token), "%s", ioas_client_reclaim_token(c));
	REQUIRE(ioas_fault_alloc(c, &life->q, &qfd) == 0);
	close(qfd);
	a = (struct ioas_hwpt_args){ .device = life->dev, .ioas = ioas,
		.flags = IOAS_HWPT_FAULT_ID_VALID, .fault = life->q };
	REQUIRE(ioas_hwpt_alloc_args(c, &a, &life->hf) == 0);
	REQUIRE(ioas_hwpt_alloc(c, life->dev, ioas, IOAS_HWPT_PASID, &life->s2) == 0);
	REQUIRE(ioas_device_replace(c, life->dev, 0, life->s2) == 0);
	REQUIRE(ioas_pasid_attach(c, life->dev, 100, 0, life->s2) == 0);
	ioas_client_free(c); /* the tenant stays: Lease=60 */
	return 0;
}

static int restart_second(void *arg)
{
	struct ioas_hwpt_info *hl = NULL;
	struct ioas_pasid_info *pl = NULL;
	struct ioas_client *c = NULL;
	uint32_t n, q2;
	char err[256];
	int qfd;

	(void)arg;
	REQUIRE(ioas_client_connect_reclaim(d.socket, "test-faults", life->token,
					    &c, err, sizeof(err)) == 0);
	REQUIRE(ioas_hwpt_list(c, &hl, &n) == 0);
	REQUIRE(n == 2);
	for (uint32_t i = 0; i < n; i++)
		REQUIRE(hl[i].fault == (hl[i].hwpt == life->hf ? life->q : 0));
	free(hl);
	REQUIRE(ioas_pasid_list(c, &pl, &n) == 0);
	REQUIRE(n == 1 && pl[0].device == life->dev && pl[0].pasid == 100 &&
		pl[0].hwpt == life->s2);
	free(pl);
	/* The lifetimes came back with them. */
	REQUIRE(ioas_fault_destroy(c, life->q) == -EBUSY);
	REQUIRE(ioas_hwpt_destroy(c, life->s2) == -EBUSY);
	/* The quota too: MaxFaultQueues=1 is taken. */
	REQUIRE(ioas_fault_alloc(c, &q2, &qfd) == -ENOSPC);
	REQUIRE(ioas_hwpt_destroy(c, life->hf) == 0);
	REQUIRE(ioas_fault_destroy(c, life->q) == 0);
	REQUIRE(ioas_pasid_detach(c, life->dev, 100) == 0);
	REQUIRE(ioas_fault_alloc(c, &q2, &qfd) == 0);
	REQUIRE(q2 == life->q + 1); /* handles go on */
	close(qfd);
	ioas_client_free(c);
	return 0;
}

START_TEST(restart_keeps_them)
{
	int devfd, status;

	if (!harness_backend_is_sim())
		return;
	life = mmap(NULL, sizeof(*life), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(life, MAP_FAILED);
	devfd = mock_device_open();
	ck_assert_int_eq(harness_run_client_as(dev_uid(), dev_uid(), restart_first,
					       &devfd), 0);
	close(devfd);
	/* Killed: only the records and the fd holder's copies remain. */
	ck_assert_int_eq(kill(d.pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(d.pid, &status, 0), d.pid);
	d.pid = 0;
	ck_assert_int_eq(harness_daemon_stop(&d), 0);
	ck_assert_int_eq(harness_daemon_start(&d, daemon_args()), 0);
	ck_assert_int_eq(harness_run_client_as(dev_uid(), dev_uid(), restart_second,
					       NULL), 0);
	munmap(life, sizeof(*life));
}
END_TEST

/* --- defaults refuse ---------------------------------------------------- */

static int rules_plain(void *arg)
{
	int devfd = *(int *)arg, qfd;
	struct ioas_client *c;
	uint32_t ioas, dev, bits, q;
	uint64_t iova;

	REQUIRE(client_with_device(devfd, &c, &ioas, &dev, &iova, &bits) == 0);
	REQUIRE(ioas_fault_alloc(c, &q, &qfd) == -ENOSPC);
	REQUIRE(has(c, "MaxFaultQueues=0") && has(c, "(default)"));
	ioas_client_free(c);
	return 0;
}

START_TEST(refused_by_default)
{
	int devfd;

	if (!harness_backend_is_sim())
		return;
	devfd = mock_device_open();
	ck_assert_int_eq(harness_run_client_as(dev_uid(), dev_uid(), rules_plain,
					       &devfd), 0);
	close(devfd);
}
END_TEST

static Suite *faults_suite(void)
{
	Suite *s = suite_create("faults");
	TCase *tc = tcase_create("6.12");

	tcase_add_checked_fixture(tc, setup_612, teardown);
	tcase_add_test(tc, faults_and_dirty_612);
	suite_add_tcase(s, tc);
	tc = tcase_create("7.2");
	tcase_add_checked_fixture(tc, setup_72, teardown);
	tcase_add_test(tc, pasids_72);
	suite_add_tcase(s, tc);
	tc = tcase_create("restart");
	tcase_add_checked_fixture(tc, setup_restart, teardown);
	tcase_add_test(tc, restart_keeps_them);
	suite_add_tcase(s, tc);
	tc = tcase_create("plain");
	tcase_add_checked_fixture(tc, setup_plain, teardown);
	tcase_add_test(tc, refused_by_default);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(faults_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
