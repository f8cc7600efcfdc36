/* SPDX-License-Identifier: MIT */
/*
 * The sim's fault queues, dirty tracking and PASID attach (issue 16), rule
 * by rule against the tables of iommu/sim-faults.c, sim-dirty.c and
 * sim-pasid.c: each errno, the lifetimes (a queue held by its HWPTs, an
 * HWPT by a PASID), what the client reads from its fault fd and how its
 * answers are judged, and the bits of a dirty bitmap.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "iommu/backend-faults.h"
#include "iommu/iommufd-uapi-faults.h"

#define NEST BACKEND_HWPT_NEST_PARENT
#define DIRTY BACKEND_HWPT_DIRTY_TRACKING
#define FAULT BACKEND_HWPT_FAULT_ID_VALID
#define PASID BACKEND_HWPT_PASID
#define MOCK_PAGE 2048u
#define BASE (UINT64_C(1) << 24)

static struct backend *b;
static int dev_fd = -1;
static uint32_t dev_id, ioas;

static int sim_device(const char *suffix)
{
	char name[96];
	int fd;

	snprintf(name, sizeof(name), "ioasd-sim-device:1234:11e8@0000:00:03.0%s",
		 suffix);
	fd = memfd_create(name, MFD_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	return fd;
}

static void setup_with(const char *suffix, bool k72)
{
	ck_assert_int_eq(backend_sim_open(&b), 0);
	backend_sim_set_kernel72(b, k72);
	dev_fd = sim_device(suffix);
	ck_assert_int_eq(backend_device_bind(b, dev_fd, &dev_id), 0);
	ck_assert_int_eq(backend_ioas_alloc(b, &ioas), 0);
}

static void setup_mock(void) { setup_with("+mock", false); }
static void setup_mock72(void) { setup_with("+mock", true); }
static void setup_vtd72(void) { setup_with("", true); }

static void teardown(void)
{
	b->ops->close(b);
	b = NULL;
	close(dev_fd);
	dev_fd = -1;
}

static int alloc(uint32_t flags, uint32_t pt, uint32_t fault, uint32_t *ret)
{
	uint32_t iotlb = 7;
	struct backend_hwpt_alloc a = {
		.flags = flags, .dev_id = dev_id, .pt_id = pt, .fault_id = fault,
	};

	if (pt != ioas) { /* nested on a parent: the mock's data */
		a.data_type = IOFD_HWPT_DATA_SELFTEST;
		a.data = &iotlb;
		a.data_len = sizeof(iotlb);
	}
	return backend_hwpt_alloc(b, &a, ret);
}

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

START_TEST(fault_queue_lifetime)
{
	uint32_t fault, parent, nested, hw;
	int fd;

	ck_assert_int_eq(backend_fault_alloc(b, &fault, &fd), 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(alloc(NEST, ioas, 0, &parent), 0);
	/* 6.12: a paging HWPT cannot take a queue */
	ck_assert_int_eq(alloc(FAULT, ioas, fault, &hw), -EOPNOTSUPP);
	ck_assert_int_eq(alloc(FAULT, parent, fault + 100, &nested), -ENOENT);
	ck_assert_int_eq(alloc(FAULT, parent, fault, &nested), 0);
	ck_assert_int_eq(backend_destroy(b, fault), -EBUSY);
	ck_assert_int_eq(backend_destroy(b, nested), 0);
	/* its fd holds it too */
	ck_assert_int_eq(backend_destroy(b, fault), -EBUSY);
	close(fd);
	ck_assert_int_eq(backend_destroy(b, fault), 0);
	ck_assert_int_eq(backend_destroy(b, fault), -ENOENT);
	ck_assert_int_eq(backend_destroy(b, parent), 0);
}
END_TEST

START_TEST(fault_delivered_read_and_answered)
{
	struct iofd_hwpt_pgfault rec;
	struct iofd_hwpt_page_response resp = { 0 };
	uint32_t fault, parent, nested, hw;
	int fd;

	ck_assert_int_eq(backend_fault_alloc(b, &fault, &fd), 0);
	ck_assert_int_eq(alloc(NEST, ioas, 0, &parent), 0);
	ck_assert_int_eq(alloc(FAULT, parent, fault, &nested), 0);
	/* the RID on the parent: no handler, nothing queued */
	ck_assert_int_eq(backend_device_attach(b, dev_fd, parent, &hw), 0);
	ck_assert_int_eq(backend_sim_trigger_iopf(b, dev_id, 1, 2, 3, 0xdeadbeaf), 0);
	ck_assert(!readable(fd));
	ck_assert_int_eq(backend_device_attach(b, dev_fd, nested, &hw), 0);
	ck_assert_int_eq(backend_sim_trigger_iopf(b, dev_id + 1, 1, 2, 3, 0), -ENOENT);
	ck_assert_int_eq(backend_sim_trigger_iopf(b, dev_id, 1, 2, 3, 0xdeadbeaf), 0);
	ck_assert(readable(fd));
	ck_assert_int_eq(read(fd, &rec, sizeof(rec)), sizeof(rec));
	ck_assert_uint_eq(rec.flags, IOFD_PGFAULT_PASID_VALID | IOFD_PGFAULT_LAST_PAGE);
	ck_assert_uint_eq(rec.dev_id, dev_id);
	ck_assert_uint_eq(rec.pasid, 1);
	ck_assert_uint_eq(rec.grpid, 2);
	ck_assert_uint_eq(rec.perm, 3);
	ck_assert_uint_eq(rec.addr, 0xdeadbeaf);
	ck_assert_uint_eq(rec.cookie, 1);
	/* nothing written yet */
	ck_assert_int_eq(backend_sim_fault_responses(b, fault), -EAGAIN);
	/* a cookie the queue never gave */
	resp.cookie = 9;
	ck_assert_int_eq(write(fd, &resp, sizeof(resp)), sizeof(resp));
	ck_assert_int_eq(backend_sim_fault_responses(b, fault), -EINVAL);
	resp.cookie = rec.cookie;
	ck_assert_int_eq(write(fd, &resp, sizeof(resp)), sizeof(resp));
	ck_assert_int_eq(backend_sim_fault_responses(b, fault), sizeof(resp));
	/* answered: the same cookie again is unknown */
	ck_assert_int_eq(write(fd, &resp, sizeof(resp)), sizeof(resp));
	ck_assert_int_eq(backend_sim_fault_responses(b, fault), -EINVAL);
	/* half a response */
	ck_assert_int_eq(write(fd, &resp, 4), 4);
	ck_assert_int_eq(backend_sim_fault_responses(b, fault), -ESPIPE);
	ck_assert_int_eq(backend_sim_fault_responses(b, fault + 100), -ENOENT);
	close(fd);
}
END_TEST

/* Rule: a write is judged as the kernel's write(2) judges it: whole
 * responses consumed up to the first bad one (unknown cookie, or a code
 * neither SUCCESS nor INVALID), EINVAL only when that is the first, 0 for
 * an empty write; cookies are the lowest free from 1; the client's read
 * never waits (on the sim an empty queue is EAGAIN, where the kernel
 * reads 0 bytes: sim-faults.c). */
START_TEST(fault_writes_judged_as_the_kernel_does)
{
	struct iofd_hwpt_pgfault rec[2];
	struct iofd_hwpt_page_response resp[2] = { { 0 } };
	uint32_t fault, parent, nested, hw;
	int fd;

	ck_assert_int_eq(backend_fault_alloc(b, &fault, &fd), 0);
	ck_assert_int_eq(alloc(NEST, ioas, 0, &parent), 0);
	ck_assert_int_eq(alloc(FAULT, parent, fault, &nested), 0);
	ck_assert_int_eq(backend_device_attach(b, dev_fd, nested, &hw), 0);
	ck_assert_int_eq(read(fd, rec, sizeof(rec[0])), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(backend_sim_trigger_iopf(b, dev_id, 1, 1, 0, 0x1000), 0);
	ck_assert_int_eq(backend_sim_trigger_iopf(b, dev_id, 1, 2, 0, 0x2000), 0);
	ck_assert_int_eq(read(fd, &rec[0], sizeof(rec[0])), sizeof(rec[0]));
	ck_assert_int_eq(read(fd, &rec[1], sizeof(rec[1])), sizeof(rec[1]));
	ck_assert_uint_eq(rec[0].cookie, 1);
	ck_assert_uint_eq(rec[1].cookie, 2);
	/* the first answered, the second unknown: 8 bytes consumed */
	resp[0].cookie = rec[0].cookie;
	resp[1].cookie = 7;
	ck_assert_int_eq(write(fd, resp, sizeof(resp)), sizeof(resp));
	ck_assert_int_eq(backend_sim_fault_responses(b, fault), sizeof(resp[0]));
	/* a code that is neither SUCCESS nor INVALID */
	resp[0].cookie = rec[1].cookie;
	resp[0].code = 2;
	ck_assert_int_eq(write(fd, resp, sizeof(resp[0])), sizeof(resp[0]));
	ck_assert_int_eq(backend_sim_fault_responses(b, fault), -EINVAL);
	/* an empty write */
	ck_assert_int_eq(write(fd, resp, 0), 0);
	ck_assert_int_eq(backend_sim_fault_responses(b, fault), 0);
	ck_assert_int_eq(backend_sim_fault_responses(b, fault), -EAGAIN);
	/* cookie 1 is free again: the next group gets it */
	ck_assert_int_eq(backend_sim_trigger_iopf(b, dev_id, 1, 3, 0, 0x3000), 0);
	ck_assert_int_eq(read(fd, &rec[0], sizeof(rec[0])), sizeof(rec[0]));
	ck_assert_uint_eq(rec[0].cookie, 1);
	resp[0].code = IOFD_PAGE_RESP_INVALID;
	resp[0].cookie = 1;
	resp[1].cookie = 2;
	resp[1].code = IOFD_PAGE_RESP_SUCCESS;
	ck_assert_int_eq(write(fd, resp, sizeof(resp)), sizeof(resp));
	ck_assert_int_eq(backend_sim_fault_responses(b, fault), sizeof(resp));
	ck_assert_int_eq(backend_device_detach(b, dev_fd), 0);
	ck_assert_int_eq(backend_destroy(b, nested), 0);
	ck_assert_int_eq(backend_destroy(b, parent), 0);
	close(fd);
}
END_TEST

START_TEST(fault_on_paging_hwpt_in_72)
{
	uint32_t fault, hw, got;
	int fd;

	ck_assert_int_eq(backend_fault_alloc(b, &fault, &fd), 0);
	ck_assert_int_eq(alloc(NEST | FAULT, ioas, fault, &hw), -EOPNOTSUPP);
	ck_assert_int_eq(alloc(FAULT, ioas, fault, &hw), 0);
	ck_assert_int_eq(backend_device_attach(b, dev_fd, hw, &got), 0);
	/* the mock's faults carry a PASID: the RID's paging HWPT is not
	 * asked (find_fault_handler) */
	ck_assert_int_eq(backend_sim_trigger_iopf(b, dev_id, 1, 2, 3, 0), 0);
	ck_assert(!readable(fd));
	close(fd);
}
END_TEST

START_TEST(vtd_fault_hwpt_attach_is_enodev)
{
	uint32_t fault, hw, got;
	int fd;

	ck_assert_int_eq(backend_fault_alloc(b, &fault, &fd), 0);
	ck_assert_int_eq(alloc(FAULT, ioas, fault, &hw), 0);
	ck_assert_int_eq(backend_device_attach(b, dev_fd, hw, &got), -ENODEV);
	ck_assert_int_eq(backend_destroy(b, hw), 0);
	close(fd);
	ck_assert_int_eq(backend_destroy(b, fault), 0);
}
END_TEST

/* Four host pages mapped at BASE; a dirty-tracking HWPT on the IOAS. */
static uint32_t dirty_hwpt(void **mem)
{
	uint64_t iova = BASE;
	uint32_t hw;

	*mem = mmap(NULL, 16384, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(*mem, MAP_FAILED);
	ck_assert_int_eq(alloc(DIRTY, ioas, 0, &hw), 0);
	ck_assert_int_eq(backend_map_user(b, ioas, BACKEND_MAP_FIXED_IOVA |
					  BACKEND_MAP_READABLE | BACKEND_MAP_WRITEABLE,
					  *mem, 16384, &iova), 0);
	return hw;
}

START_TEST(dirty_bits_read_and_cleared)
{
	uint64_t bitmap[2] = { 0 }, n;
	uint32_t hw, plain;
	void *mem;

	hw = dirty_hwpt(&mem);
	ck_assert_int_eq(alloc(0, ioas, 0, &plain), 0);
	ck_assert_int_eq(backend_hwpt_set_dirty(b, plain, true), -EOPNOTSUPP);
	ck_assert_int_eq(backend_hwpt_set_dirty(b, 999, true), -ENOENT);
	/* tracking off: an empty bitmap (the kernels' answer); the test op
	 * refuses to dirty */
	bitmap[0] = ~UINT64_C(0);
	ck_assert_int_eq(backend_hwpt_get_dirty(b, hw, 0, BASE, 16384, MOCK_PAGE,
						bitmap), 0);
	ck_assert_uint_eq(bitmap[0], 0);
	ck_assert_int_eq(backend_sim_set_dirty(b, hw, BASE, MOCK_PAGE, &n), -EINVAL);
	ck_assert_int_eq(backend_hwpt_set_dirty(b, hw, true), 0);
	ck_assert_int_eq(backend_sim_set_dirty(b, hw, BASE, MOCK_PAGE, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(backend_sim_set_dirty(b, hw, BASE + 2 * MOCK_PAGE,
					       MOCK_PAGE, &n), 0);
	ck_assert_int_eq(backend_hwpt_get_dirty(b, hw, BACKEND_DIRTY_NO_CLEAR,
						BASE, 16384, MOCK_PAGE, bitmap), 0);
	ck_assert_uint_eq(bitmap[0], 0x5);
	ck_assert_int_eq(backend_hwpt_get_dirty(b, hw, 0, BASE, 16384, MOCK_PAGE,
						bitmap), 0);
	ck_assert_uint_eq(bitmap[0], 0x5);
	ck_assert_int_eq(backend_hwpt_get_dirty(b, hw, 0, BASE, 16384, MOCK_PAGE,
						bitmap), 0);
	ck_assert_uint_eq(bitmap[0], 0);
	/* a coarser page: any dirty mock page in it sets its bit */
	ck_assert_int_eq(backend_sim_set_dirty(b, hw, BASE + 3 * MOCK_PAGE,
					       MOCK_PAGE, &n), 0);
	ck_assert_int_eq(backend_hwpt_get_dirty(b, hw, 0, BASE, 16384, 4096,
						bitmap), 0);
	ck_assert_uint_eq(bitmap[0], 0x2);
	/* turning tracking on again forgets what was recorded */
	ck_assert_int_eq(backend_sim_set_dirty(b, hw, BASE, 16384, &n), 0);
	ck_assert_uint_eq(n, 8);
	ck_assert_int_eq(backend_hwpt_set_dirty(b, hw, false), 0);
	ck_assert_int_eq(backend_hwpt_set_dirty(b, hw, true), 0);
	ck_assert_int_eq(backend_hwpt_get_dirty(b, hw, 0, BASE, 16384, MOCK_PAGE,
						bitmap), 0);
	ck_assert_uint_eq(bitmap[0], 0);
	munmap(mem, 16384);
}
END_TEST

START_TEST(dirty_argument_errors)
{
	uint64_t bitmap[2];
	uint32_t hw;
	void *mem;

	hw = dirty_hwpt(&mem);
	ck_assert_int_eq(backend_hwpt_set_dirty(b, hw, true), 0);
	ck_assert_int_eq(backend_hwpt_get_dirty(b, hw, 2, BASE, 16384, MOCK_PAGE,
						bitmap), -EOPNOTSUPP);
	ck_assert_int_eq(backend_hwpt_get_dirty(b, 999, 0, BASE, 16384, MOCK_PAGE,
						bitmap), -ENOENT);
	ck_assert_int_eq(backend_hwpt_get_dirty(b, hw, 0, BASE + 1, 16384,
						MOCK_PAGE, bitmap), -EINVAL);
	ck_assert_int_eq(backend_hwpt_get_dirty(b, hw, 0, BASE, 16384, 0,
						bitmap), -EINVAL);
	ck_assert_int_eq(backend_hwpt_get_dirty(b, hw, 0, BASE, 16384, 16384 * 2,
						bitmap), -EINVAL);
	ck_assert_int_eq(backend_hwpt_get_dirty(b, hw, 0, UINT64_MAX - 4095,
						8192, MOCK_PAGE, bitmap), -EOVERFLOW);
	/* past what is mapped */
	ck_assert_int_eq(backend_hwpt_get_dirty(b, hw, 0, BASE, 32768, MOCK_PAGE,
						bitmap), -EINVAL);
	munmap(mem, 16384);
}
END_TEST

START_TEST(pasid_is_einval_on_612)
{
	uint32_t hw;

	ck_assert(!b->has_pasid);
	ck_assert_int_eq(alloc(PASID, ioas, 0, &hw), -EOPNOTSUPP);
	ck_assert_int_eq(backend_pasid_attach(b, dev_fd, 100, ioas, &hw), -EINVAL);
	ck_assert_int_eq(backend_pasid_detach(b, dev_fd, 100), -EINVAL);
}
END_TEST

START_TEST(pasid_attach_rules_72)
{
	uint32_t s2, plain, got, at;

	ck_assert(b->has_pasid);
	ck_assert_int_eq(alloc(PASID, ioas, 0, &s2), 0);
	ck_assert_int_eq(alloc(0, ioas, 0, &plain), 0);
	/* an IOAS (auto domain) is never PASID-compatible */
	ck_assert_int_eq(backend_pasid_attach(b, dev_fd, 100, ioas, &got), -EINVAL);
	ck_assert_int_eq(backend_pasid_attach(b, dev_fd, 100, 999, &got), -ENOENT);
	ck_assert_int_eq(backend_pasid_attach(b, dev_fd, 100, plain, &got), -EINVAL);
	/* the RID on a non-compatible HWPT */
	ck_assert_int_eq(backend_device_attach(b, dev_fd, plain, &got), 0);
	ck_assert_int_eq(backend_pasid_attach(b, dev_fd, 100, s2, &got), -EINVAL);
	ck_assert_int_eq(backend_device_attach(b, dev_fd, s2, &got), 0);
	ck_assert_int_eq(backend_pasid_attach(b, dev_fd, 100, s2, &got), 0);
	ck_assert_uint_eq(got, s2);
	ck_assert_int_eq(backend_sim_pasid_hwpt(b, dev_id, 100, &at), 0);
	ck_assert_uint_eq(at, s2);
	ck_assert_int_eq(backend_sim_pasid_hwpt(b, dev_id, 101, &at), 0);
	ck_assert_uint_eq(at, 0);
	/* the RID may not leave for a non-compatible HWPT now */
	ck_assert_int_eq(backend_device_attach(b, dev_fd, plain, &got), -EINVAL);
	ck_assert_int_eq(backend_destroy(b, s2), -EBUSY);
	ck_assert_int_eq(backend_pasid_detach(b, dev_fd, 100), 0);
	ck_assert_int_eq(backend_sim_pasid_hwpt(b, dev_id, 100, &at), 0);
	ck_assert_uint_eq(at, 0);
	/* detach of what is not attached: a no-op, as in the kernel */
	ck_assert_int_eq(backend_pasid_detach(b, dev_fd, 100), 0);
	ck_assert_int_eq(backend_device_attach(b, dev_fd, plain, &got), 0);
	ck_assert_int_eq(backend_destroy(b, s2), 0);
}
END_TEST

START_TEST(pasid_fault_delivered_at_the_pasid_72)
{
	struct iofd_hwpt_pgfault rec;
	uint32_t fault, s2, got;
	int fd;

	ck_assert_int_eq(backend_fault_alloc(b, &fault, &fd), 0);
	ck_assert_int_eq(alloc(PASID | FAULT, ioas, fault, &s2), 0);
	ck_assert_int_eq(backend_device_attach(b, dev_fd, s2, &got), 0);
	ck_assert_int_eq(backend_pasid_attach(b, dev_fd, 7, s2, &got), 0);
	ck_assert_int_eq(backend_sim_trigger_iopf(b, dev_id, 7, 1, 1, 0x1000), 0);
	ck_assert_int_eq(read(fd, &rec, sizeof(rec)), sizeof(rec));
	ck_assert_uint_eq(rec.pasid, 7);
	ck_assert_uint_eq(rec.cookie, 1);
	close(fd);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sim-faults");
	TCase *tc = tcase_create("mock-6.12");

	tcase_add_checked_fixture(tc, setup_mock, teardown);
	tcase_add_test(tc, fault_queue_lifetime);
	tcase_add_test(tc, fault_delivered_read_and_answered);
	tcase_add_test(tc, fault_writes_judged_as_the_kernel_does);
	tcase_add_test(tc, dirty_bits_read_and_cleared);
	tcase_add_test(tc, dirty_argument_errors);
	tcase_add_test(tc, pasid_is_einval_on_612);
	suite_add_tcase(s, tc);
	tc = tcase_create("mock-7.2");
	tcase_add_checked_fixture(tc, setup_mock72, teardown);
	tcase_add_test(tc, fault_on_paging_hwpt_in_72);
	tcase_add_test(tc, pasid_attach_rules_72);
	tcase_add_test(tc, pasid_fault_delivered_at_the_pasid_72);
	suite_add_tcase(s, tc);
	tc = tcase_create("vtd-7.2");
	tcase_add_checked_fixture(tc, setup_vtd72, teardown);
	tcase_add_test(tc, vtd_fault_hwpt_attach_is_enodev);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
