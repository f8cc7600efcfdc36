/* SPDX-License-Identifier: MIT */
/*
 * The sim's hardware page tables, hardware info and invalidation, rule by
 * rule against iommu/sim-hwpt.c's table (which cites the kernel functions):
 * the errno of every refusal, the object lifetimes (EBUSY while a device or
 * a nested child holds an HWPT, an HWPT holds its IOAS), the entries a
 * failing invalidation handled, and both drivers (the rig's VT-d, which
 * refuses nesting and dirty tracking, and the self-test mock, which nests).
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "iommu/backend.h"
#include "iommu/iommufd-uapi.h"

#define NEST BACKEND_HWPT_NEST_PARENT
#define DIRTY BACKEND_HWPT_DIRTY_TRACKING
#define FAULT BACKEND_HWPT_FAULT_ID_VALID

static struct backend *b;
static int dev_fd = -1;
static uint32_t dev_id, ioas;

/* A sim device file behind the given driver ("" VT-d, "+mock" the mock). */
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

static void setup_with(const char *suffix)
{
	ck_assert_int_eq(backend_sim_open(&b), 0);
	dev_fd = sim_device(suffix);
	ck_assert_int_eq(backend_device_bind(b, dev_fd, &dev_id), 0);
	ck_assert_uint_ne(dev_id, 0);
	ck_assert_int_eq(backend_ioas_alloc(b, &ioas), 0);
}

static void setup_mock(void)
{
	setup_with("+mock");
}

static void setup_vtd(void)
{
	setup_with("");
}

static void teardown(void)
{
	b->ops->close(b);
	b = NULL;
	close(dev_fd);
	dev_fd = -1;
}

static int alloc(uint32_t flags, uint32_t pt, uint32_t type, const void *data,
		 uint32_t len, uint32_t *ret)
{
	struct backend_hwpt_alloc a = {
		.flags = flags, .dev_id = dev_id, .pt_id = pt,
		.data_type = type, .data = data, .data_len = len,
	};

	return backend_hwpt_alloc(b, &a, ret);
}

static uint32_t parent_new(void)
{
	uint32_t id = 0;

	ck_assert_int_eq(alloc(NEST, ioas, 0, NULL, 0, &id), 0);
	return id;
}

static uint32_t nested_new(uint32_t parent, uint32_t iotlb)
{
	uint32_t id = 0;

	ck_assert_int_eq(alloc(0, parent, IOFD_HWPT_DATA_SELFTEST, &iotlb,
			       sizeof(iotlb), &id), 0);
	return id;
}

struct inv {
	uint32_t flags;
	uint32_t iotlb_id;
};

/* ------------------------------------------------------------ hw info */

START_TEST(hw_info_of_each_driver)
{
	struct backend_hw_info info;
	uint32_t reg;
	uint64_t cap;

	ck_assert_int_eq(backend_hw_info(b, dev_id, &info), 0);
	ck_assert_uint_eq(info.type, IOFD_HW_INFO_TYPE_SELFTEST);
	ck_assert_uint_eq(info.data_len, 8);
	ck_assert_uint_eq(info.capabilities, IOFD_HW_CAP_DIRTY_TRACKING);
	memcpy(&reg, info.data + 4, 4);
	ck_assert_uint_eq(reg, 0xdeadbeef);

	/* A VT-d device in the same context: the rig's measured registers. */
	int fd = sim_device("");
	uint32_t vtd;

	ck_assert_int_eq(backend_device_bind(b, fd, &vtd), 0);
	ck_assert_uint_ne(vtd, dev_id);
	ck_assert_int_eq(backend_hw_info(b, vtd, &info), 0);
	ck_assert_uint_eq(info.type, IOFD_HW_INFO_TYPE_INTEL_VTD);
	ck_assert_uint_eq(info.data_len, 24);
	ck_assert_uint_eq(info.capabilities, 0);
	memcpy(&cap, info.data + 8, 8);
	ck_assert_uint_eq(cap, UINT64_C(0xd2008c22260206));
	close(fd);
}
END_TEST

START_TEST(hw_info_unknown_device_is_enoent)
{
	struct backend_hw_info info;

	ck_assert_int_eq(backend_hw_info(b, dev_id + 1, &info), -ENOENT);
	ck_assert_int_eq(backend_hw_info(b, ioas, &info), -ENOENT);
}
END_TEST

/* ------------------------------------------------------------ alloc */

START_TEST(alloc_data_type_and_length_must_agree)
{
	uint32_t id, x = 1;

	ck_assert_int_eq(alloc(0, ioas, 0, &x, 4, &id), -EINVAL);
	ck_assert_int_eq(alloc(0, ioas, IOFD_HWPT_DATA_SELFTEST, NULL, 0, &id),
			 -EINVAL);
}
END_TEST

/* An unknown device is ENOENT, but a pt_id that names nothing EINVAL
 * (iommufd_hwpt_alloc turns the lookup's error into EINVAL; measured). */
START_TEST(alloc_unknown_device_is_enoent_unknown_pt_einval)
{
	uint32_t id;

	dev_id++;
	ck_assert_int_eq(alloc(0, ioas, 0, NULL, 0, &id), -ENOENT);
	dev_id--;
	ck_assert_int_eq(alloc(0, ioas + 100, 0, NULL, 0, &id), -EINVAL);
}
END_TEST

/* HWPTs take object ids from the IOASes' space, lowest free first. */
START_TEST(alloc_takes_the_next_object_id)
{
	uint32_t p = parent_new(), other;

	ck_assert_uint_eq(p, ioas + 1);
	ck_assert_int_eq(backend_ioas_alloc(b, &other), 0);
	ck_assert_uint_eq(other, p + 1);
	ck_assert_int_eq(backend_destroy(b, p), 0);
	ck_assert_int_eq(backend_ioas_alloc(b, &other), 0);
	ck_assert_uint_eq(other, p);
}
END_TEST

START_TEST(paging_flags_beyond_6_12s_are_eopnotsupp)
{
	uint32_t id;

	ck_assert_int_eq(alloc(FAULT, ioas, 0, NULL, 0, &id), -EOPNOTSUPP);
	ck_assert_int_eq(alloc(BACKEND_HWPT_PASID, ioas, 0, NULL, 0, &id),
			 -EOPNOTSUPP);
	ck_assert_int_eq(alloc(1u << 9, ioas, 0, NULL, 0, &id), -EOPNOTSUPP);
	/* The mock takes data only for a nested HWPT. */
	uint32_t x = 1;
	ck_assert_int_eq(alloc(0, ioas, IOFD_HWPT_DATA_SELFTEST, &x, 4, &id),
			 -EOPNOTSUPP);
	ck_assert_int_eq(alloc(DIRTY, ioas, 0, NULL, 0, &id), 0);
}
END_TEST

START_TEST(vtd_refuses_nest_parent_and_dirty)
{
	uint32_t id;

	ck_assert_int_eq(alloc(NEST, ioas, 0, NULL, 0, &id), -EOPNOTSUPP);
	ck_assert_int_eq(alloc(DIRTY, ioas, 0, NULL, 0, &id), -EOPNOTSUPP);
	ck_assert_int_eq(alloc(0, ioas, 0, NULL, 0, &id), 0);
	/* Not a nesting parent: a nested HWPT from it is EINVAL. */
	uint64_t s1[3] = { 0 };
	uint32_t n;
	ck_assert_int_eq(alloc(0, id, IOFD_HWPT_DATA_VTD_S1, s1, sizeof(s1), &n),
			 -EINVAL);
	ck_assert_int_eq(backend_destroy(b, id), 0);
}
END_TEST

START_TEST(nested_rules)
{
	uint32_t parent = parent_new(), plain, id, x = 7;
	uint8_t big[12] = { 0 };

	ck_assert_int_eq(alloc(0, ioas, 0, NULL, 0, &plain), 0);
	/* no data, or a flag: EOPNOTSUPP before the parent is looked at */
	ck_assert_int_eq(alloc(DIRTY, parent, IOFD_HWPT_DATA_SELFTEST, &x, 4, &id),
			 -EOPNOTSUPP);
	/* parent not NEST_PARENT */
	ck_assert_int_eq(alloc(0, plain, IOFD_HWPT_DATA_SELFTEST, &x, 4, &id),
			 -EINVAL);
	/* the driver's data rules */
	ck_assert_int_eq(alloc(0, parent, IOFD_HWPT_DATA_VTD_S1, &x, 4, &id),
			 -EOPNOTSUPP);
	ck_assert_int_eq(alloc(0, parent, IOFD_HWPT_DATA_SELFTEST, &x, 2, &id),
			 -EINVAL);
	memcpy(big, &x, 4);
	big[11] = 1;
	ck_assert_int_eq(alloc(0, parent, IOFD_HWPT_DATA_SELFTEST, big, 12, &id),
			 -E2BIG);
	big[11] = 0;
	ck_assert_int_eq(alloc(0, parent, IOFD_HWPT_DATA_SELFTEST, big, 12, &id), 0);
	/* a nested HWPT is no pt for another one */
	uint32_t n2;
	ck_assert_int_eq(alloc(0, id, IOFD_HWPT_DATA_SELFTEST, &x, 4, &n2), -EINVAL);
	/* FAULT_ID_VALID names a fault object; the sim has none */
	struct backend_hwpt_alloc a = {
		.flags = FAULT, .dev_id = dev_id, .pt_id = parent,
		.data_type = IOFD_HWPT_DATA_SELFTEST, .data = &x, .data_len = 4,
		.fault_id = 99,
	};
	ck_assert_int_eq(backend_hwpt_alloc(b, &a, &n2), -ENOENT);
	for (uint32_t i = 0; i < 4; i++)
		ck_assert_int_eq(backend_sim_check_iotlb(b, id, i, 7), 0);
}
END_TEST

/* ------------------------------------------------------------ lifetimes */

START_TEST(lifetimes_parent_child_device_ioas)
{
	uint32_t parent = parent_new(), nested = nested_new(parent, 5), got;

	/* An IOAS with an HWPT of its own, a parent with a child: EBUSY. */
	ck_assert_int_eq(backend_destroy(b, ioas), -EBUSY);
	ck_assert_int_eq(backend_destroy(b, parent), -EBUSY);
	/* A device on the nested HWPT holds it. */
	ck_assert_int_eq(backend_device_attach(b, dev_fd, nested, &got), 0);
	ck_assert_uint_eq(got, nested);
	ck_assert_int_eq(backend_destroy(b, nested), -EBUSY);
	/* Replace onto the parent: the child is free, the parent is held. */
	ck_assert_int_eq(backend_device_attach(b, dev_fd, parent, &got), 0);
	ck_assert_int_eq(backend_destroy(b, nested), 0);
	ck_assert_int_eq(backend_destroy(b, parent), -EBUSY);
	/* Back onto the IOAS itself, then everything goes, in order. */
	ck_assert_int_eq(backend_device_attach(b, dev_fd, ioas, &got), 0);
	ck_assert_int_eq(backend_destroy(b, parent), 0);
	ck_assert_int_eq(backend_device_detach(b, dev_fd), 0);
	ck_assert_int_eq(backend_destroy(b, ioas), 0);
	ck_assert_int_eq(backend_destroy(b, parent), -ENOENT);
}
END_TEST

/* Rule (backend_sweep_objects): after a restart, objects of a tenant's own
 * context no table names go, what holds another first (pass after pass);
 * the named ones stay, and so does one a device is on (EBUSY). */
START_TEST(sweep_objects_takes_unnamed_children_first)
{
	uint32_t p2 = parent_new(), n2 = nested_new(p2, 6), p = parent_new();
	uint32_t n = nested_new(p, 7), got;
	const uint32_t known[] = { ioas, dev_id, p2 };

	ck_assert_int_eq(backend_device_attach(b, dev_fd, n2, &got), 0);
	/* n before p (p is EBUSY in the first pass); n2 stays: a device is on it */
	ck_assert_uint_eq(backend_sweep_objects(b, known, 3, 8), 2);
	ck_assert_int_eq(backend_destroy(b, n), -ENOENT);
	ck_assert_int_eq(backend_destroy(b, p), -ENOENT);
	ck_assert_int_eq(backend_destroy(b, n2), -EBUSY);
	ck_assert_int_eq(backend_destroy(b, p2), -EBUSY);
	/* Nothing left to take: a second sweep destroys nothing. */
	ck_assert_uint_eq(backend_sweep_objects(b, known, 3, 8), 0);
	ck_assert_int_eq(backend_device_attach(b, dev_fd, ioas, &got), 0);
	ck_assert_int_eq(backend_destroy(b, n2), 0);
	ck_assert_int_eq(backend_destroy(b, p2), 0);
}
END_TEST

START_TEST(detach_releases_the_hwpt)
{
	uint32_t parent = parent_new(), got;

	ck_assert_int_eq(backend_device_attach(b, dev_fd, parent, &got), 0);
	ck_assert_int_eq(backend_destroy(b, parent), -EBUSY);
	ck_assert_int_eq(backend_device_detach(b, dev_fd), 0);
	ck_assert_int_eq(backend_destroy(b, parent), 0);
}
END_TEST

/* A device of one driver on another driver's HWPT: EINVAL. */
START_TEST(attach_across_drivers_is_einval)
{
	uint32_t parent = parent_new(), vtd, got;
	int fd = sim_device("");

	ck_assert_int_eq(backend_device_bind(b, fd, &vtd), 0);
	ck_assert_int_eq(backend_device_attach(b, fd, parent, &got), -EINVAL);
	ck_assert_int_eq(backend_device_attach(b, fd, ioas, &got), 0);
	ck_assert_int_eq(backend_device_detach(b, fd), 0);
	close(fd);
}
END_TEST

/* The paging HWPT's domain joins its IOAS: its alignment counts. */
START_TEST(paging_hwpt_domain_joins_the_ioas)
{
	struct backend_iova_range r[4];
	uint64_t iova = 0x1000400, align = 0;
	uint32_t num = 4, id;
	static char page[8192] __attribute__((aligned(4096)));

	ck_assert_int_eq(backend_map_user(b, ioas, BACKEND_MAP_FIXED_IOVA |
					  BACKEND_MAP_READABLE, page + 0x400,
					  0x400, &iova), 0);
	/* an area not aligned to the mock's 2 KiB pages */
	ck_assert_int_eq(alloc(NEST, ioas, 0, NULL, 0, &id), -EADDRINUSE);
	ck_assert_int_eq(backend_destroy(b, ioas), 0);
	ck_assert_int_eq(backend_ioas_alloc(b, &ioas), 0);
	id = parent_new();
	ck_assert_int_eq(backend_iova_ranges(b, ioas, r, &num, &align), 0);
	ck_assert_uint_eq(align, 2048);
	ck_assert_int_eq(backend_destroy(b, id), 0);
	num = 4;
	ck_assert_int_eq(backend_iova_ranges(b, ioas, r, &num, &align), 0);
	ck_assert_uint_eq(align, 1);
}
END_TEST

/* What each driver's domain brings: outside its aperture is reserved. */
START_TEST(domains_reserve_outside_their_aperture)
{
	struct backend_iova_range r[4];
	uint64_t align = 0;
	uint32_t num = 4, got, vtd_hwpt, vtd_ioas, vtd;
	int fd = sim_device("");

	/* The mock device: [16 MiB, 2 GiB), 2 KiB pages. */
	ck_assert_int_eq(backend_device_attach(b, dev_fd, ioas, &got), 0);
	ck_assert_int_eq(backend_iova_ranges(b, ioas, r, &num, &align), 0);
	ck_assert_uint_eq(num, 1);
	ck_assert_uint_eq(r[0].start, 1u << 24);
	ck_assert_uint_eq(r[0].last, (1u << 31) - 1);
	ck_assert_uint_eq(align, 2048);
	/* A VT-d paging HWPT without a device on it: only its 39-bit aperture
	 * (the interrupt window comes with a device). */
	ck_assert_int_eq(backend_device_bind(b, fd, &vtd), 0);
	ck_assert_int_eq(backend_ioas_alloc(b, &vtd_ioas), 0);
	struct backend_hwpt_alloc a = { .dev_id = vtd, .pt_id = vtd_ioas };
	ck_assert_int_eq(backend_hwpt_alloc(b, &a, &vtd_hwpt), 0);
	num = 4;
	ck_assert_int_eq(backend_iova_ranges(b, vtd_ioas, r, &num, &align), 0);
	ck_assert_uint_eq(num, 1);
	ck_assert_uint_eq(r[0].start, 0);
	ck_assert_uint_eq(r[0].last, UINT64_C(0x7fffffffff));
	ck_assert_uint_eq(align, 4096);
	ck_assert_int_eq(backend_device_attach(b, fd, vtd_hwpt, &got), 0);
	num = 4;
	ck_assert_int_eq(backend_iova_ranges(b, vtd_ioas, r, &num, &align), 0);
	ck_assert_uint_eq(num, 2);
	ck_assert_uint_eq(r[0].last, UINT64_C(0xfedfffff));
	ck_assert_int_eq(backend_device_detach(b, fd), 0);
	ck_assert_int_eq(backend_destroy(b, vtd_hwpt), 0);
	num = 4;
	ck_assert_int_eq(backend_iova_ranges(b, vtd_ioas, r, &num, &align), 0);
	ck_assert_uint_eq(r[0].last, UINT64_MAX);
	close(fd);
}
END_TEST

/* ------------------------------------------------------------ invalidate */

START_TEST(invalidate_clears_the_named_iotlbs)
{
	uint32_t parent = parent_new(), nested = nested_new(parent, 0xbadbeef);
	struct inv one[2] = { { 0, 2 }, { 0, 3 } }, all = { 1, 0 };
	uint32_t n = 2;

	ck_assert_int_eq(backend_hwpt_invalidate(b, nested,
		IOFD_HWPT_INVALIDATE_DATA_SELFTEST, one, sizeof(one[0]), &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(backend_sim_check_iotlb(b, nested, 0, 0xbadbeef), 0);
	ck_assert_int_eq(backend_sim_check_iotlb(b, nested, 2, 0), 0);
	ck_assert_int_eq(backend_sim_check_iotlb(b, nested, 2, 0xbadbeef), -EINVAL);
	n = 1;
	ck_assert_int_eq(backend_hwpt_invalidate(b, nested,
		IOFD_HWPT_INVALIDATE_DATA_SELFTEST, &all, sizeof(all), &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(backend_sim_check_iotlb(b, nested, 0, 0), 0);
	/* no entries: only the checks */
	n = 0;
	ck_assert_int_eq(backend_hwpt_invalidate(b, nested,
		IOFD_HWPT_INVALIDATE_DATA_SELFTEST, NULL, 0, &n), 0);
}
END_TEST

START_TEST(invalidate_reports_what_it_did_before_failing)
{
	uint32_t parent = parent_new(), nested = nested_new(parent, 9);
	struct inv e[3] = { { 0, 0 }, { 0, 4 }, { 0, 1 } };
	uint32_t n = 3;

	ck_assert_int_eq(backend_hwpt_invalidate(b, nested,
		IOFD_HWPT_INVALIDATE_DATA_SELFTEST, e, sizeof(e[0]), &n), -EINVAL);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(backend_sim_check_iotlb(b, nested, 0, 0), 0);
	ck_assert_int_eq(backend_sim_check_iotlb(b, nested, 1, 9), 0);
	e[1].flags = 2;
	e[1].iotlb_id = 0;
	n = 3;
	ck_assert_int_eq(backend_hwpt_invalidate(b, nested,
		IOFD_HWPT_INVALIDATE_DATA_SELFTEST, e, sizeof(e[0]), &n), -EOPNOTSUPP);
	ck_assert_uint_eq(n, 1);
}
END_TEST

START_TEST(invalidate_argument_errors)
{
	uint32_t parent = parent_new(), nested = nested_new(parent, 9), n;
	uint8_t e[12] = { 0 };

	n = 1;
	ck_assert_int_eq(backend_hwpt_invalidate(b, nested,
		IOFD_HWPT_INVALIDATE_DATA_SELFTEST, e, 0, &n), -EINVAL);
	ck_assert_uint_eq(n, 0);
	n = 1; /* a paging HWPT (6.12: ENOENT), an IOAS, nothing */
	ck_assert_int_eq(backend_hwpt_invalidate(b, parent,
		IOFD_HWPT_INVALIDATE_DATA_SELFTEST, e, 8, &n), -ENOENT);
	n = 1;
	ck_assert_int_eq(backend_hwpt_invalidate(b, ioas,
		IOFD_HWPT_INVALIDATE_DATA_SELFTEST, e, 8, &n), -ENOENT);
	n = 1; /* the driver's type */
	ck_assert_int_eq(backend_hwpt_invalidate(b, nested,
		IOFD_HWPT_INVALIDATE_DATA_VTD_S1, e, 8, &n), -EINVAL);
	ck_assert_uint_eq(n, 0);
	n = 1; /* short and long entries */
	ck_assert_int_eq(backend_hwpt_invalidate(b, nested,
		IOFD_HWPT_INVALIDATE_DATA_SELFTEST, e, 4, &n), -EINVAL);
	n = 1;
	ck_assert_int_eq(backend_hwpt_invalidate(b, nested,
		IOFD_HWPT_INVALIDATE_DATA_SELFTEST, e, 12, &n), 0);
	ck_assert_uint_eq(n, 1);
	e[10] = 1;
	n = 1;
	ck_assert_int_eq(backend_hwpt_invalidate(b, nested,
		IOFD_HWPT_INVALIDATE_DATA_SELFTEST, e, 12, &n), -E2BIG);
	ck_assert_uint_eq(n, 0);
}
END_TEST

/* The modelled kernel (6.12) has no vIOMMU ioctls: ENOTTY, as measured. */
START_TEST(viommu_is_enotty_on_the_modelled_kernel)
{
	struct backend_viommu_alloc a = { .type = 0xdeadbeef, .dev_id = dev_id,
					  .hwpt_id = parent_new() };
	uint32_t id;
	int fd = -1;

	ck_assert_int_eq(backend_viommu_alloc(b, &a, &id), -ENOTTY);
	ck_assert_int_eq(backend_vdevice_alloc(b, 1, dev_id, 7, &id), -ENOTTY);
	ck_assert_int_eq(backend_veventq_alloc(b, 1, 0xbeefbeef, 8, &id, &fd), -ENOTTY);
	ck_assert_int_eq(fd, -1);
}
END_TEST

static Suite *hwpt_suite(void)
{
	Suite *s = suite_create("sim-hwpt");
	TCase *tc;

	tc = tcase_create("mock");
	tcase_add_checked_fixture(tc, setup_mock, teardown);
	tcase_add_test(tc, hw_info_of_each_driver);
	tcase_add_test(tc, hw_info_unknown_device_is_enoent);
	tcase_add_test(tc, alloc_data_type_and_length_must_agree);
	tcase_add_test(tc, alloc_unknown_device_is_enoent_unknown_pt_einval);
	tcase_add_test(tc, alloc_takes_the_next_object_id);
	tcase_add_test(tc, paging_flags_beyond_6_12s_are_eopnotsupp);
	tcase_add_test(tc, nested_rules);
	tcase_add_test(tc, lifetimes_parent_child_device_ioas);
	tcase_add_test(tc, detach_releases_the_hwpt);
	tcase_add_test(tc, sweep_objects_takes_unnamed_children_first);
	tcase_add_test(tc, attach_across_drivers_is_einval);
	tcase_add_test(tc, paging_hwpt_domain_joins_the_ioas);
	tcase_add_test(tc, domains_reserve_outside_their_aperture);
	tcase_add_test(tc, invalidate_clears_the_named_iotlbs);
	tcase_add_test(tc, invalidate_reports_what_it_did_before_failing);
	tcase_add_test(tc, invalidate_argument_errors);
	tcase_add_test(tc, viommu_is_enotty_on_the_modelled_kernel);
	suite_add_tcase(s, tc);

	tc = tcase_create("vtd");
	tcase_add_checked_fixture(tc, setup_vtd, teardown);
	tcase_add_test(tc, vtd_refuses_nest_parent_and_dirty);
	suite_add_tcase(s, tc);
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
