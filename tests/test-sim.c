/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the sim backend. Each test is named after the kernel
 * behaviour it checks and cites the kernel function it mirrors
 * (drivers/iommu/iommufd/, see the rule table at the top of
 * iommu/backend-sim.c). Unless a test says otherwise the sim models
 * x86-64 with THP (PAGE_SIZE 4 KiB, HPAGE_SIZE 2 MiB), whatever the host
 * is; the "model" tests check the other models (no THP, larger pages) and
 * the choice that follows the host.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iommu/backend.h"

#define PAGE UINT64_C(0x1000)
#define HPAGE (UINT64_C(2) << 20)
#define R BACKEND_MAP_READABLE
#define W BACKEND_MAP_WRITEABLE
#define RW (R | W)
#define FIXED BACKEND_MAP_FIXED_IOVA
#define VA(x) ((void *)(uintptr_t)(x))
/* a user VA whose lowest set bit is 2^40: never limits the alignment */
#define BIG_VA UINT64_C(0x10000000000)

static const struct backend_model thp_4k = { true, PAGE, HPAGE };
static const struct backend_model nothp_4k = { false, PAGE, 0 };

static struct backend *sim_new_model(const struct backend_model *m)
{
	struct backend *b = NULL;

	ck_assert_int_eq(backend_sim_open_model(m, &b), 0);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(backend_name(b), "sim");
	return b;
}

static struct backend *sim_new(void)
{
	return sim_new_model(&thp_4k);
}

static void sim_free(struct backend *b)
{
	b->ops->close(b);
}

static uint32_t ioas_new(struct backend *b)
{
	uint32_t id = 0;

	ck_assert_int_eq(backend_ioas_alloc(b, &id), 0);
	return id;
}

static int map_at(struct backend *b, uint32_t ioas, uint64_t iova,
		  uint64_t va, uint64_t len)
{
	return backend_map_user(b, ioas, FIXED | RW, VA(va), len, &iova);
}

static int map_auto(struct backend *b, uint32_t ioas, uint64_t va,
		    uint64_t len, uint64_t *ret_iova)
{
	*ret_iova = 0;
	return backend_map_user(b, ioas, RW, VA(va), len, ret_iova);
}

static int unmap(struct backend *b, uint32_t ioas, uint64_t iova,
		 uint64_t len, uint64_t *ret)
{
	*ret = 0;
	return backend_unmap(b, ioas, iova, len, ret);
}

/* An area [iova, iova + len) exists exactly: unmapping it returns len. */
static void assert_area(struct backend *b, uint32_t ioas, uint64_t iova,
			uint64_t len)
{
	uint64_t n;

	ck_assert_int_eq(unmap(b, ioas, iova, len, &n), 0);
	ck_assert_uint_eq(n, len);
}

static void get_ranges(struct backend *b, uint32_t ioas,
		       struct backend_iova_range *r, uint32_t room,
		       uint32_t *ret_num, uint64_t *ret_align)
{
	*ret_num = room;
	ck_assert_int_eq(backend_iova_ranges(b, ioas, r, ret_num, ret_align),
			 0);
}

/* ================================================================ ids */

/* _iommufd_object_alloc: xa_alloc with XA_FLAGS_ALLOC1 starts at 1. */
START_TEST(ids_start_at_one_and_increase)
{
	struct backend *b = sim_new();

	ck_assert_uint_eq(ioas_new(b), 1);
	ck_assert_uint_eq(ioas_new(b), 2);
	ck_assert_uint_eq(ioas_new(b), 3);
	sim_free(b);
}
END_TEST

/* xa_alloc takes the lowest free index: destroyed ids are reused. */
START_TEST(ids_lowest_free_id_is_reused)
{
	struct backend *b = sim_new();

	for (int i = 0; i < 5; i++)
		ioas_new(b);
	ck_assert_int_eq(backend_destroy(b, 4), 0);
	ck_assert_int_eq(backend_destroy(b, 2), 0);
	ck_assert_uint_eq(ioas_new(b), 2);
	ck_assert_uint_eq(ioas_new(b), 4);
	ck_assert_uint_eq(ioas_new(b), 6);
	sim_free(b);
}
END_TEST

/* iommufd_object_remove: no object at the id (0 included) -> ENOENT. */
START_TEST(destroy_unknown_id_is_enoent)
{
	struct backend *b = sim_new();
	uint32_t id = ioas_new(b);

	ck_assert_int_eq(backend_destroy(b, 0), -ENOENT);
	ck_assert_int_eq(backend_destroy(b, id + 1), -ENOENT);
	ck_assert_int_eq(backend_destroy(b, UINT32_MAX), -ENOENT);
	ck_assert_int_eq(backend_destroy(b, id), 0);
	ck_assert_int_eq(backend_destroy(b, id), -ENOENT);
	sim_free(b);
}
END_TEST

/* iommufd_ioas_destroy -> iopt_unmap_all: mappings do not block destroy. */
START_TEST(destroy_ioas_with_mappings_succeeds)
{
	struct backend *b = sim_new();
	uint32_t id = ioas_new(b);

	ck_assert_int_eq(map_at(b, id, 0x10000, BIG_VA, PAGE), 0);
	ck_assert_int_eq(backend_destroy(b, id), 0);
	ck_assert_int_eq(map_at(b, id, 0x10000, BIG_VA, PAGE), -ENOENT);
	sim_free(b);
}
END_TEST

/* iommufd_object_remove: refcount_dec_if_one fails while a device's
 * hw_pagetable holds the IOAS -> EBUSY. */
START_TEST(destroy_ioas_with_device_attached_is_ebusy)
{
	struct backend *b = sim_new();
	uint32_t id = ioas_new(b);

	ck_assert_int_eq(backend_sim_attach_reserved(b, id, NULL, 0, PAGE), 0);
	ck_assert_int_eq(backend_destroy(b, id), -EBUSY);
	sim_free(b);
}
END_TEST

/* iommufd_get_ioas: every IOAS op on an unknown id -> ENOENT. */
START_TEST(ops_on_unknown_ioas_are_enoent)
{
	struct backend *b = sim_new();
	struct backend_iova_range r = { 0x1000, 0x1fff };
	uint64_t iova = 0, n, val = 1;
	uint32_t num = 1, id = ioas_new(b);

	ck_assert_int_eq(backend_iova_ranges(b, 9, &r, &num, NULL), -ENOENT);
	ck_assert_int_eq(backend_allow_iovas(b, 9, &r, 1), -ENOENT);
	ck_assert_int_eq(backend_map_user(b, 9, RW, VA(BIG_VA), PAGE, &iova),
			 -ENOENT);
	ck_assert_int_eq(backend_unmap(b, 9, 0x1000, PAGE, &n), -ENOENT);
	ck_assert_int_eq(backend_option(b, BACKEND_OPTION_OP_SET,
					BACKEND_OPTION_HUGE_PAGES, 9, &val),
			 -ENOENT);
	ck_assert_int_eq(map_at(b, id, 0x1000, BIG_VA, PAGE), 0);
	ck_assert_int_eq(backend_copy(b, 9, id, RW, 0x1000, PAGE, &iova),
			 -ENOENT);
	ck_assert_int_eq(backend_copy(b, id, 9, RW, 0x1000, PAGE, &iova),
			 -ENOENT);
	sim_free(b);
}
END_TEST

/* ================================================================ ranges */

/* iopt_init_table: a fresh IOAS has the whole space, alignment 1. */
START_TEST(iova_ranges_fresh_ioas_is_whole_space)
{
	struct backend *b = sim_new();
	struct backend_iova_range r[2];
	uint64_t align = 0;
	uint32_t num, id = ioas_new(b);

	get_ranges(b, id, r, 2, &num, &align);
	ck_assert_uint_eq(num, 1);
	ck_assert_uint_eq(r[0].start, 0);
	ck_assert_uint_eq(r[0].last, UINT64_MAX);
	ck_assert_uint_eq(align, 1);
	sim_free(b);
}
END_TEST

/* iommufd_ioas_iova_ranges reports the holes of reserved_itree, never the
 * allowed list. */
START_TEST(iova_ranges_reports_reserved_holes_not_allowed_list)
{
	struct backend *b = sim_new();
	const struct backend_iova_range resv[] = {
		{ 0xfee00000, 0xfeefffff },
		{ UINT64_C(1) << 48, UINT64_MAX },
		{ 0xfee80000, 0xfeffffff }, /* overlaps the first: union */
	};
	const struct backend_iova_range allow = { 0x100000, 0x1fffff };
	struct backend_iova_range r[4];
	uint64_t align;
	uint32_t num, id = ioas_new(b);

	ck_assert_int_eq(backend_allow_iovas(b, id, &allow, 1), 0);
	get_ranges(b, id, r, 4, &num, &align);
	ck_assert_uint_eq(num, 1); /* allowed list not reported */

	ck_assert_int_eq(backend_sim_attach_reserved(b, id, resv, 3, PAGE), 0);
	get_ranges(b, id, r, 4, &num, &align);
	ck_assert_uint_eq(num, 2);
	ck_assert_uint_eq(r[0].start, 0);
	ck_assert_uint_eq(r[0].last, 0xfedfffff);
	ck_assert_uint_eq(r[1].start, 0xff000000);
	ck_assert_uint_eq(r[1].last, (UINT64_C(1) << 48) - 1);
	ck_assert_uint_eq(align, PAGE);
	sim_free(b);
}
END_TEST

/* Reserved [0, MAX]: no hole at all, zero ranges; touching reserved ranges
 * leave no hole between them. */
START_TEST(iova_ranges_touching_and_full_reservations)
{
	struct backend *b = sim_new();
	const struct backend_iova_range touch[] = {
		{ 0, 0xfff }, { 0x1000, 0x1fff } };
	const struct backend_iova_range all = { 0, UINT64_MAX };
	struct backend_iova_range r[4];
	uint64_t align;
	uint32_t num, a = ioas_new(b), c = ioas_new(b);

	ck_assert_int_eq(backend_sim_attach_reserved(b, a, touch, 2, 1), 0);
	get_ranges(b, a, r, 4, &num, &align);
	ck_assert_uint_eq(num, 1);
	ck_assert_uint_eq(r[0].start, 0x2000);
	ck_assert_uint_eq(r[0].last, UINT64_MAX);
	ck_assert_uint_eq(align, 1);

	ck_assert_int_eq(backend_sim_attach_reserved(b, c, &all, 1, PAGE), 0);
	get_ranges(b, c, r, 4, &num, &align);
	ck_assert_uint_eq(num, 0);
	sim_free(b);
}
END_TEST

/* iommufd_ioas_iova_ranges: num_iovas smaller than needed -> EMSGSIZE and
 * num_iovas = the needed count (0 room included). */
START_TEST(iova_ranges_short_array_is_emsgsize_with_count)
{
	struct backend *b = sim_new();
	const struct backend_iova_range resv = { 0xfee00000, 0xfeefffff };
	struct backend_iova_range r[1];
	uint32_t num, id = ioas_new(b);

	ck_assert_int_eq(backend_sim_attach_reserved(b, id, &resv, 1, PAGE), 0);
	num = 1;
	ck_assert_int_eq(backend_iova_ranges(b, id, r, &num, NULL), -EMSGSIZE);
	ck_assert_uint_eq(num, 2);
	num = 0;
	ck_assert_int_eq(backend_iova_ranges(b, id, NULL, &num, NULL),
			 -EMSGSIZE);
	ck_assert_uint_eq(num, 2);
	sim_free(b);
}
END_TEST

/* ================================================================ allow */

/* iommufd_ioas_load_iovas: "start >= last" -> EINVAL, so even a range of a
 * single byte is refused. */
START_TEST(allow_iovas_start_not_below_last_is_einval)
{
	struct backend *b = sim_new();
	const struct backend_iova_range eq = { 0x1000, 0x1000 };
	const struct backend_iova_range inv = { 0x2000, 0x1000 };
	const struct backend_iova_range two = { 0x1000, 0x1001 };
	uint32_t id = ioas_new(b);

	ck_assert_int_eq(backend_allow_iovas(b, id, &eq, 1), -EINVAL);
	ck_assert_int_eq(backend_allow_iovas(b, id, &inv, 1), -EINVAL);
	ck_assert_int_eq(backend_allow_iovas(b, id, &two, 1), 0);
	sim_free(b);
}
END_TEST

/* iommufd_ioas_load_iovas: a range intersecting an earlier one -> EINVAL;
 * touching ranges are fine. */
START_TEST(allow_iovas_overlap_is_einval_touching_is_ok)
{
	struct backend *b = sim_new();
	const struct backend_iova_range ovl[] = {
		{ 0x1000, 0x2fff }, { 0x2fff, 0x3fff } };
	const struct backend_iova_range tch[] = {
		{ 0x2000, 0x2fff }, { 0x1000, 0x1fff } };
	uint32_t id = ioas_new(b);

	ck_assert_int_eq(backend_allow_iovas(b, id, ovl, 2), -EINVAL);
	ck_assert_int_eq(backend_allow_iovas(b, id, tch, 2), 0);
	sim_free(b);
}
END_TEST

/* iopt_set_allow_iova: an allowed range intersecting a reserved one ->
 * EADDRINUSE and the old list stays. */
START_TEST(allow_iovas_intersecting_reserved_is_eaddrinuse)
{
	struct backend *b = sim_new();
	const struct backend_iova_range resv = { 0xfee00000, 0xfeefffff };
	const struct backend_iova_range bad = { 0, UINT64_MAX };
	const struct backend_iova_range ok = { 0x100000, 0x1fffff };
	uint64_t iova;
	uint32_t id = ioas_new(b);

	ck_assert_int_eq(backend_sim_attach_reserved(b, id, &resv, 1, PAGE), 0);
	ck_assert_int_eq(backend_allow_iovas(b, id, &ok, 1), 0);
	ck_assert_int_eq(backend_allow_iovas(b, id, &bad, 1), -EADDRINUSE);
	/* the old list still rules automatic allocation */
	ck_assert_int_eq(map_auto(b, id, BIG_VA, PAGE, &iova), 0);
	ck_assert_uint_eq(iova, 0x100000);
	sim_free(b);
}
END_TEST

/* iopt_set_allow_iova does not look at existing areas: a new list that
 * excludes a mapping is accepted. */
START_TEST(allow_iovas_ignores_existing_mappings)
{
	struct backend *b = sim_new();
	const struct backend_iova_range ok = { 0x100000, 0x1fffff };
	uint32_t id = ioas_new(b);

	ck_assert_int_eq(map_at(b, id, 0x1000, BIG_VA, PAGE), 0);
	ck_assert_int_eq(backend_allow_iovas(b, id, &ok, 1), 0);
	assert_area(b, id, 0x1000, PAGE);
	sim_free(b);
}
END_TEST

/* num_iovas = 0 clears the list: allocation is back to the whole space. */
START_TEST(allow_iovas_empty_list_clears)
{
	struct backend *b = sim_new();
	const struct backend_iova_range ok = { 0x100000, 0x1fffff };
	uint64_t iova;
	uint32_t id = ioas_new(b);

	ck_assert_int_eq(backend_allow_iovas(b, id, &ok, 1), 0);
	ck_assert_int_eq(backend_allow_iovas(b, id, NULL, 0), 0);
	ck_assert_int_eq(map_auto(b, id, BIG_VA, PAGE, &iova), 0);
	ck_assert_uint_eq(iova, PAGE);
	sim_free(b);
}
END_TEST

/* ================================================================ map args */

/* iommufd_ioas_map: unknown flag -> EOPNOTSUPP, before anything else. */
START_TEST(map_unknown_flag_is_eopnotsupp)
{
	struct backend *b = sim_new();
	uint64_t iova = 0;

	ck_assert_int_eq(backend_map_user(b, 77, RW | 8, VA(BIG_VA), 0, &iova),
			 -EOPNOTSUPP);
	sim_free(b);
}
END_TEST

/* iommufd_ioas_map: iova or length == U64_MAX -> EOVERFLOW, checked before
 * the IOAS lookup and even without FIXED_IOVA. */
START_TEST(map_iova_or_length_u64max_is_eoverflow)
{
	struct backend *b = sim_new();
	uint64_t iova = UINT64_MAX;

	ck_assert_int_eq(backend_map_user(b, 77, RW, VA(BIG_VA), PAGE, &iova),
			 -EOVERFLOW);
	iova = 0;
	ck_assert_int_eq(backend_map_user(b, 77, RW, VA(0), UINT64_MAX, &iova),
			 -EOVERFLOW);
	sim_free(b);
}
END_TEST

/* iommufd_ioas_map: neither READABLE nor WRITEABLE -> EINVAL, before the
 * IOAS lookup. */
START_TEST(map_without_read_or_write_is_einval)
{
	struct backend *b = sim_new();
	uint64_t iova = 0x1000;
	uint32_t id = ioas_new(b);

	ck_assert_int_eq(backend_map_user(b, 77, FIXED, VA(BIG_VA), PAGE,
					  &iova),
			 -EINVAL);
	ck_assert_int_eq(backend_map_user(b, id, FIXED, VA(BIG_VA), PAGE,
					  &iova),
			 -EINVAL);
	ck_assert_int_eq(backend_map_user(b, id, FIXED | R, VA(BIG_VA), PAGE,
					  &iova),
			 0);
	sim_free(b);
}
END_TEST

/* iopt_alloc_pages: length 0 -> EINVAL (fixed or not). */
START_TEST(map_length_zero_is_einval)
{
	struct backend *b = sim_new();
	uint64_t iova = 0x1000;
	uint32_t id = ioas_new(b);

	ck_assert_int_eq(backend_map_user(b, id, FIXED | RW, VA(BIG_VA), 0,
					  &iova),
			 -EINVAL);
	ck_assert_int_eq(map_auto(b, id, BIG_VA, 0, &iova), -EINVAL);
	sim_free(b);
}
END_TEST

/* iopt_alloc_user_pages: va + length beyond 2^64 -> EOVERFLOW; ending
 * exactly at 2^64 - 4096 is fine. */
START_TEST(map_va_plus_length_overflow_is_eoverflow)
{
	struct backend *b = sim_new();
	uint32_t id = ioas_new(b);

	ck_assert_int_eq(map_at(b, id, 0x1000, UINT64_MAX - PAGE + 1, PAGE),
			 -EOVERFLOW);
	ck_assert_int_eq(map_at(b, id, 0x1000, UINT64_MAX - PAGE + 1,
				2 * PAGE),
			 -EOVERFLOW);
	ck_assert_int_eq(map_at(b, id, 0x1000, UINT64_MAX - 2 * PAGE + 1,
				PAGE),
			 0);
	sim_free(b);
}
END_TEST

/* ================================================================ fixed */

/* iopt_check_iova: an existing area in the range -> EEXIST. */
START_TEST(map_fixed_overlapping_area_is_eexist)
{
	struct backend *b = sim_new();
	uint32_t id = ioas_new(b);

	ck_assert_int_eq(map_at(b, id, 0x10000, BIG_VA, 0x4000), 0);
	ck_assert_int_eq(map_at(b, id, 0x10000, BIG_VA, PAGE), -EEXIST);
	ck_assert_int_eq(map_at(b, id, 0xf000, BIG_VA, 0x2000), -EEXIST);
	ck_assert_int_eq(map_at(b, id, 0x13fff, BIG_VA, 1), -EEXIST);
	ck_assert_int_eq(map_at(b, id, 0xf000, BIG_VA, PAGE), 0);  /* touching */
	ck_assert_int_eq(map_at(b, id, 0x14000, BIG_VA, PAGE), 0); /* touching */
	sim_free(b);
}
END_TEST

/* iopt_check_iova: a reserved range in the range -> EINVAL, checked before
 * the EEXIST test. */
START_TEST(map_fixed_into_reserved_is_einval)
{
	struct backend *b = sim_new();
	const struct backend_iova_range resv = { 0x20000, 0x20fff };
	uint32_t id = ioas_new(b);

	ck_assert_int_eq(map_at(b, id, 0x1f000, BIG_VA, PAGE), 0);
	ck_assert_int_eq(backend_sim_attach_reserved(b, id, &resv, 1, PAGE), 0);
	ck_assert_int_eq(map_at(b, id, 0x20000, BIG_VA, PAGE), -EINVAL);
	ck_assert_int_eq(map_at(b, id, 0x1f000, BIG_VA, 0x2000), -EINVAL);
	ck_assert_int_eq(map_at(b, id, 0x21000, BIG_VA, PAGE), 0);
	sim_free(b);
}
END_TEST

/* iopt_check_iova never looks at the allowed list: a fixed IOVA outside it
 * is mapped. */
START_TEST(map_fixed_ignores_allowed_list)
{
	struct backend *b = sim_new();
	const struct backend_iova_range ok = { 0x100000, 0x1fffff };
	uint32_t id = ioas_new(b);

	ck_assert_int_eq(backend_allow_iovas(b, id, &ok, 1), 0);
	ck_assert_int_eq(map_at(b, id, 0x1000, BIG_VA, PAGE), 0);
	ck_assert_int_eq(map_at(b, id, UINT64_MAX - PAGE + 1, BIG_VA, PAGE), 0);
	sim_free(b);
}
END_TEST

/* iopt_check_iova: the last page and page 0 are mappable with a fixed IOVA;
 * one byte further -> EOVERFLOW. */
START_TEST(map_fixed_first_and_last_page)
{
	struct backend *b = sim_new();
	uint64_t iova = UINT64_MAX - PAGE + 1;
	uint32_t id = ioas_new(b);

	ck_assert_int_eq(map_at(b, id, 0, BIG_VA, PAGE), 0);
	ck_assert_int_eq(backend_map_user(b, id, FIXED | RW, VA(BIG_VA),
					  2 * PAGE, &iova),
			 -EOVERFLOW);
	ck_assert_int_eq(backend_map_user(b, id, FIXED | RW, VA(BIG_VA), PAGE,
					  &iova),
			 0);
	ck_assert_uint_eq(iova, UINT64_MAX - PAGE + 1);
	assert_area(b, id, UINT64_MAX - PAGE + 1, PAGE);
	assert_area(b, id, 0, PAGE);
	sim_free(b);
}
END_TEST

/* Without a device iova_alignment is 1: byte-granular IOVA, length and VA
 * offsets are all accepted (iopt_init_table). */
START_TEST(map_fixed_byte_granular_without_device)
{
	struct backend *b = sim_new();
	uint32_t id = ioas_new(b);

	ck_assert_int_eq(map_at(b, id, 0x1001, 0x7f0000000123, 0x10), 0);
	assert_area(b, id, 0x1001, 0x10);
	sim_free(b);
}
END_TEST

/* After a 4 KiB device attach (iopt_table_add_domain): iova or length not
 * page aligned -> EINVAL (iopt_check_iova / iopt_alloc_area_pages), VA page
 * offset -> EINVAL (iopt_insert_area). */
START_TEST(map_fixed_misaligned_after_attach_is_einval)
{
	struct backend *b = sim_new();
	uint32_t id = ioas_new(b);

	ck_assert_int_eq(backend_sim_attach_reserved(b, id, NULL, 0, PAGE), 0);
	ck_assert_int_eq(map_at(b, id, 0x1800, BIG_VA, PAGE), -EINVAL);
	ck_assert_int_eq(map_at(b, id, 0x1000, BIG_VA, 0x1800), -EINVAL);
	ck_assert_int_eq(map_at(b, id, 0x1000, BIG_VA + 0x800, PAGE), -EINVAL);
	ck_assert_int_eq(map_at(b, id, 0x1000, BIG_VA + PAGE, PAGE), 0);
	sim_free(b);
}
END_TEST

/* iopt_insert_area: WRITE on pages mapped read-only -> EPERM (a plain MAP
 * creates its own pages, so this shows through COPY, see copy tests). A
 * read-only map itself is fine. */
START_TEST(map_read_only_is_accepted)
{
	struct backend *b = sim_new();
	uint64_t iova = 0x1000;
	uint32_t id = ioas_new(b);

	ck_assert_int_eq(backend_map_user(b, id, FIXED | R, VA(BIG_VA), PAGE,
					  &iova),
			 0);
	sim_free(b);
}
END_TEST

/* ================================================================ auto */

/* iopt_alloc_iova: never IOVA 0; the first fit of a page is PAGE_SIZE, then
 * areas are packed in ascending first-fit order. */
START_TEST(map_auto_first_fit_starts_at_page_size)
{
	struct backend *b = sim_new();
	uint64_t iova;
	uint32_t id = ioas_new(b);

	ck_assert_int_eq(map_auto(b, id, BIG_VA, PAGE, &iova), 0);
	ck_assert_uint_eq(iova, 0x1000);
	ck_assert_int_eq(map_auto(b, id, BIG_VA, 2 * PAGE, &iova), 0);
	ck_assert_uint_eq(iova, 0x2000);
	/* 0x3000 rounds up to 0x4000: the window start is aligned first */
	ck_assert_int_eq(map_auto(b, id, BIG_VA, 0x3000, &iova), 0);
	ck_assert_uint_eq(iova, 0x4000);
	sim_free(b);
}
END_TEST

/* iopt_alloc_iova: alignment is roundup_pow_of_two(length) limited by the
 * lowest set bit of the VA. */
START_TEST(map_auto_alignment_from_length_and_va)
{
	struct backend *b = sim_new();
	uint64_t iova;
	uint32_t a = ioas_new(b), c = ioas_new(b);

	ck_assert_int_eq(map_auto(b, a, 0x7f0000100000, 0x100000, &iova), 0);
	ck_assert_uint_eq(iova, 0x100000);
	ck_assert_int_eq(map_auto(b, c, 0x7f0000003000, 0x100000, &iova), 0);
	ck_assert_uint_eq(iova, 0x1000);
	sim_free(b);
}
END_TEST

/* iopt_alloc_iova: the alignment is capped at HPAGE_SIZE (stable fix
 * 8f6887349b2f), for a VA and for VA 0 alike. */
START_TEST(map_auto_alignment_capped_at_huge_page)
{
	struct backend *b = sim_new();
	uint64_t iova;
	uint32_t a = ioas_new(b), c = ioas_new(b);

	ck_assert_int_eq(map_auto(b, a, BIG_VA, UINT64_C(1) << 30, &iova), 0);
	ck_assert_uint_eq(iova, HPAGE);
	ck_assert_int_eq(map_auto(b, c, 0, UINT64_C(1) << 30, &iova), 0);
	ck_assert_uint_eq(iova, HPAGE);
	sim_free(b);
}
END_TEST

/* iopt_alloc_iova: the VA's offset in its page is kept in the IOVA
 * (ALIGN(start) | page_offset). */
START_TEST(map_auto_keeps_va_page_offset)
{
	struct backend *b = sim_new();
	uint64_t iova;
	uint32_t a = ioas_new(b), c = ioas_new(b);

	ck_assert_int_eq(map_auto(b, a, 0x10010, 0x100, &iova), 0);
	ck_assert_uint_eq(iova, 0x1010);
	/* OR, not ADD: offset 0x30 with alignment 0x10 */
	ck_assert_int_eq(map_auto(b, c, 0x10030, 0x10, &iova), 0);
	ck_assert_uint_eq(iova, 0x1030);
	ck_assert_int_eq(map_auto(b, c, 0x10030, 0x10, &iova), 0);
	ck_assert_uint_eq(iova, 0x1070);
	sim_free(b);
}
END_TEST

/* iopt_alloc_iova walks the holes between areas and reserved ranges: a
 * hole that fits exactly is taken. */
START_TEST(map_auto_fills_exact_hole_and_skips_reserved)
{
	struct backend *b = sim_new();
	const struct backend_iova_range resv = { 0x5000, 0x5fff };
	uint64_t iova;
	uint32_t id = ioas_new(b);

	ck_assert_int_eq(map_at(b, id, 0x1000, BIG_VA, PAGE), 0);
	ck_assert_int_eq(map_at(b, id, 0x3000, BIG_VA, 2 * PAGE), 0);
	ck_assert_int_eq(backend_sim_attach_reserved(b, id, &resv, 1, PAGE), 0);
	ck_assert_int_eq(map_auto(b, id, BIG_VA, PAGE, &iova), 0);
	ck_assert_uint_eq(iova, 0x2000); /* exact fit */
	ck_assert_int_eq(map_auto(b, id, BIG_VA, PAGE, &iova), 0);
	ck_assert_uint_eq(iova, 0x6000); /* 0x5000 reserved */
	sim_free(b);
}
END_TEST

/* interval_tree_double_span_iter merges reserved ranges and areas: a
 * reserved range that lies before the next area splits the hole; nested
 * reserved ranges are one used span. */
START_TEST(map_auto_reserved_before_next_area_splits_hole)
{
	struct backend *b = sim_new();
	const struct backend_iova_range resv[] = {
		{ 0x3000, 0x4fff }, { 0x10000, 0x1ffff }, { 0x11000, 0x11fff } };
	uint64_t iova;
	uint32_t id = ioas_new(b);

	ck_assert_int_eq(map_at(b, id, 0x1000, BIG_VA, PAGE), 0);
	ck_assert_int_eq(map_at(b, id, 0x8000, BIG_VA, PAGE), 0);
	ck_assert_int_eq(map_at(b, id, 0x20000, BIG_VA, PAGE), 0);
	ck_assert_int_eq(backend_sim_attach_reserved(b, id, resv, 3, PAGE), 0);
	/* alignment 0x2000: [0x2000, 0x2fff] is too small, 0x6000 fits */
	ck_assert_int_eq(map_auto(b, id, BIG_VA, 0x2000, &iova), 0);
	ck_assert_uint_eq(iova, 0x6000);
	/* 0x9000.. 0xffff holds 0x4000 at 0xc000 (alignment 0x4000) */
	ck_assert_int_eq(map_auto(b, id, BIG_VA, 0x4000, &iova), 0);
	ck_assert_uint_eq(iova, 0xc000);
	/* the next 0x4000 must skip the nested reservations and 0x20000 */
	ck_assert_int_eq(map_auto(b, id, BIG_VA, 0x4000, &iova), 0);
	ck_assert_uint_eq(iova, 0x24000);
	sim_free(b);
}
END_TEST

/* iopt_alloc_iova: with an allowed list only its ranges are searched;
 * touching allowed ranges form one span (interval_tree_span_iter). */
START_TEST(map_auto_inside_allowed_touching_ranges_merge)
{
	struct backend *b = sim_new();
	const struct backend_iova_range al[] = {
		{ 0x2000, 0x2fff }, { 0x1000, 0x1fff } };
	uint64_t iova;
	uint32_t id = ioas_new(b);

	ck_assert_int_eq(backend_allow_iovas(b, id, al, 2), 0);
	ck_assert_int_eq(map_auto(b, id, 0x7f0000001000, 0x2000, &iova), 0);
	ck_assert_uint_eq(iova, 0x1000);
	sim_free(b);
}
END_TEST

/* iopt_alloc_iova: nothing fits -> ENOSPC; an exact fit succeeds once. */
START_TEST(map_auto_nothing_fits_is_enospc)
{
	struct backend *b = sim_new();
	const struct backend_iova_range al = { 0x1000, 0x1fff };
	uint64_t iova;
	uint32_t id = ioas_new(b);

	ck_assert_int_eq(backend_allow_iovas(b, id, &al, 1), 0);
	ck_assert_int_eq(map_auto(b, id, BIG_VA, 2 * PAGE, &iova), -ENOSPC);
	ck_assert_int_eq(map_auto(b, id, BIG_VA, PAGE, &iova), 0);
	ck_assert_uint_eq(iova, 0x1000);
	ck_assert_int_eq(map_auto(b, id, BIG_VA, PAGE, &iova), -ENOSPC);
	ck_assert_int_eq(map_auto(b, id, BIG_VA, 1, &iova), -ENOSPC);
	sim_free(b);
}
END_TEST

/* iopt_alloc_iova searches [PAGE_SIZE, ULONG_MAX - PAGE_SIZE] only: page 0
 * and the top page are never handed out; the page below the top is. */
START_TEST(map_auto_never_page_zero_or_top_page)
{
	struct backend *b = sim_new();
	const struct backend_iova_range low = { 0, 0xfff };
	const struct backend_iova_range top = { UINT64_MAX - PAGE + 1,
						UINT64_MAX };
	const struct backend_iova_range top2 = { UINT64_MAX - 2 * PAGE + 1,
						 UINT64_MAX };
	uint64_t iova;
	uint32_t id = ioas_new(b);

	ck_assert_int_eq(backend_allow_iovas(b, id, &low, 1), 0);
	ck_assert_int_eq(map_auto(b, id, BIG_VA, 0x10, &iova), -ENOSPC);
	ck_assert_int_eq(backend_allow_iovas(b, id, &top, 1), 0);
	ck_assert_int_eq(map_auto(b, id, BIG_VA, 0x10, &iova), -ENOSPC);
	ck_assert_int_eq(backend_allow_iovas(b, id, &top2, 1), 0);
	ck_assert_int_eq(map_auto(b, id, BIG_VA, PAGE, &iova), 0);
	ck_assert_uint_eq(iova, UINT64_MAX - 2 * PAGE + 1);
	sim_free(b);
}
END_TEST

/* __alloc_iova_check_range (b42497e3c0e7): a candidate equal to the hole's
 * last byte is refused, so a 1-byte hole is never used. Kernels without
 * that stable fix hand out 0x1001 here. */
START_TEST(map_auto_one_byte_hole_is_not_used)
{
	struct backend *b = sim_new();
	const struct backend_iova_range al = { 0x1000, 0x1001 };
	uint64_t iova;
	uint32_t id = ioas_new(b);

	ck_assert_int_eq(backend_allow_iovas(b, id, &al, 1), 0);
	ck_assert_int_eq(map_auto(b, id, 0x5000, 1, &iova), 0);
	ck_assert_uint_eq(iova, 0x1000);
	ck_assert_int_eq(map_auto(b, id, 0x5000, 1, &iova), -ENOSPC);
	sim_free(b);
}
END_TEST

/* iopt_alloc_iova: length >= ULONG_MAX / 2 -> EOVERFLOW. */
START_TEST(map_auto_huge_length_is_eoverflow)
{
	struct backend *b = sim_new();
	uint64_t iova;
	uint32_t id = ioas_new(b);

	ck_assert_int_eq(map_auto(b, id, 0, UINT64_C(1) << 63, &iova),
			 -EOVERFLOW);
	ck_assert_int_eq(map_auto(b, id, 0, UINT64_MAX / 2, &iova),
			 -EOVERFLOW);
	sim_free(b);
}
END_TEST

/* iopt_alloc_iova: the VA-derived alignment below iova_alignment -> EINVAL
 * (not ENOSPC). */
START_TEST(map_auto_alignment_below_iova_alignment_is_einval)
{
	struct backend *b = sim_new();
	uint64_t iova;
	uint32_t id = ioas_new(b);

	ck_assert_int_eq(backend_sim_attach_reserved(b, id, NULL, 0, PAGE), 0);
	ck_assert_int_eq(map_auto(b, id, 0x7f0000000800, PAGE, &iova), -EINVAL);
	ck_assert_int_eq(map_auto(b, id, 0x7f0000001000, PAGE, &iova), 0);
	ck_assert_uint_eq(iova, 0x1000);
	sim_free(b);
}
END_TEST

/* ================================================================ map_file */

/* backend.h: no MAP_FILE capability -> EOPNOTSUPP (kernel: ENOTTY from the
 * missing ioctl, never issued by the daemon). */
START_TEST(map_file_without_capability_is_eopnotsupp)
{
	struct backend *b = sim_new();
	uint64_t iova = 0;
	uint32_t id = ioas_new(b);
	int fd = memfd_create("t", MFD_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert(b->has_map_file);
	backend_sim_set_map_file(b, false);
	ck_assert(!b->has_map_file);
	ck_assert_int_eq(backend_map_file(b, id, RW, fd, 0, PAGE, &iova),
			 -EOPNOTSUPP);
	close(fd);
	sim_free(b);
}
END_TEST

/* iommufd_ioas_map_file: fget fails -> EBADF, but only after the IOAS
 * lookup. */
START_TEST(map_file_bad_fd_is_ebadf_after_ioas_lookup)
{
	struct backend *b = sim_new();
	uint64_t iova = 0;
	uint32_t id = ioas_new(b);
	int fd = memfd_create("t", MFD_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	close(fd); /* now a closed descriptor number */
	ck_assert_int_eq(backend_map_file(b, 77, RW, -1, 0, PAGE, &iova),
			 -ENOENT);
	ck_assert_int_eq(backend_map_file(b, id, RW, -1, 0, PAGE, &iova),
			 -EBADF);
	ck_assert_int_eq(backend_map_file(b, id, RW, fd, 0, PAGE, &iova),
			 -EBADF);
	sim_free(b);
}
END_TEST

/* A caller that holds its fds (the daemon) is taken at its word: no fget
 * model, so no system call per map; a negative fd is still EBADF, and a
 * context opened from it inherits the setting. */
START_TEST(map_file_fds_held_skips_the_fget_model)
{
	struct backend *b = sim_new(), *ctx = NULL;
	uint64_t iova = 0;
	uint32_t id = ioas_new(b);
	int fd = memfd_create("t", MFD_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	backend_sim_set_fds_held(b, true);
	ck_assert_int_eq(backend_map_file(b, id, RW, fd, 0, PAGE, &iova), 0);
	ck_assert_int_eq(backend_map_file(b, id, RW, -1, 0, PAGE, &iova), -EBADF);
	ck_assert_int_eq(backend_context_open(b, &ctx), 0);
	backend_sim_set_fds_held(b, false);
	close(fd); /* now a closed descriptor number: only the model sees it */
	iova = 0;
	ck_assert_int_eq(backend_map_file(b, id, RW, fd, 0, PAGE, &iova), -EBADF);
	id = ioas_new(ctx);
	ck_assert_int_eq(backend_map_file(ctx, id, RW, fd, 0, PAGE, &iova), 0);
	sim_free(ctx);
	sim_free(b);
}
END_TEST

/* iopt_alloc_file_pages: start + length - 1 overflows -> EOVERFLOW; the file
 * offset plays the VA's role for the automatic alignment. */
START_TEST(map_file_offset_acts_as_va)
{
	struct backend *b = sim_new();
	uint64_t iova = 0;
	uint32_t id = ioas_new(b);
	int fd = memfd_create("t", MFD_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(backend_map_file(b, id, RW, fd, UINT64_MAX - PAGE + 2,
					  PAGE, &iova),
			 -EOVERFLOW);
	ck_assert_int_eq(backend_map_file(b, id, RW, fd, 0, 0, &iova), -EINVAL);
	/* offset 0: alignment roundup(0x3000) = 0x4000 */
	ck_assert_int_eq(backend_map_file(b, id, RW, fd, 0, 0x3000, &iova), 0);
	ck_assert_uint_eq(iova, 0x4000);
	/* offset 0x1000 limits the alignment to a page */
	iova = 0;
	ck_assert_int_eq(backend_map_file(b, id, RW, fd, 0x1000, 0x3000, &iova),
			 0);
	ck_assert_uint_eq(iova, 0x1000);
	iova = 0x1000;
	ck_assert_int_eq(backend_map_file(b, id, FIXED | R, fd, 0, PAGE, &iova),
			 -EEXIST);
	close(fd);
	sim_free(b);
}
END_TEST

/* ================================================================ copy */

/* iommufd_ioas_copy + iopt_get_pages: a covered range is copied; the
 * automatic IOVA follows the source VA at src_iova. */
START_TEST(copy_covered_range_and_sub_range)
{
	struct backend *b = sim_new();
	uint64_t iova = 0;
	uint32_t s = ioas_new(b), d = ioas_new(b);

	ck_assert_int_eq(map_at(b, s, 0x10000, 0x7f0000200000, 0x4000), 0);
	ck_assert_int_eq(backend_copy(b, d, s, RW, 0x10000, 0x4000, &iova), 0);
	ck_assert_uint_eq(iova, 0x4000); /* align = min(0x4000, 2 MiB) */
	iova = 0;
	/* the VA at 0x11000 is ...201000: page alignment */
	ck_assert_int_eq(backend_copy(b, d, s, RW, 0x11000, 0x2000, &iova), 0);
	ck_assert_uint_eq(iova, 0x1000);
	assert_area(b, d, 0x1000, 0x2000);
	assert_area(b, d, 0x4000, 0x4000);
	assert_area(b, s, 0x10000, 0x4000);
	sim_free(b);
}
END_TEST

/* iopt_get_pages -> iopt_map_pages: one destination area per source piece,
 * so an unmap in the destination must respect the source boundaries. */
START_TEST(copy_keeps_source_area_boundaries)
{
	struct backend *b = sim_new();
	uint64_t iova = 0x100000, n;
	uint32_t s = ioas_new(b), d = ioas_new(b);

	ck_assert_int_eq(map_at(b, s, 0x10000, BIG_VA, PAGE), 0);
	ck_assert_int_eq(map_at(b, s, 0x11000, BIG_VA + 0x100000, 0x2000), 0);
	/* start in the middle of the first, end in the middle of the second */
	ck_assert_int_eq(backend_copy(b, d, s, FIXED | RW, 0x10800, 0x1800,
				      &iova),
			 0);
	/* one source area was copied as 0x800 + 0x1000: neither unmap below
	 * covers whole pieces, and neither removes anything */
	ck_assert_int_eq(unmap(b, d, 0x100400, 0x1000, &n), -ENOENT);
	ck_assert_int_eq(unmap(b, d, 0x100800, 0x800, &n), -ENOENT);
	assert_area(b, d, 0x100000, 0x800);
	assert_area(b, d, 0x100800, 0x1000);
	sim_free(b);
}
END_TEST

/* iopt_area_contig_next: a hole anywhere in the source range -> ENOENT. */
START_TEST(copy_range_with_hole_is_enoent)
{
	struct backend *b = sim_new();
	uint64_t iova = 0;
	uint32_t s = ioas_new(b), d = ioas_new(b);

	ck_assert_int_eq(map_at(b, s, 0x10000, BIG_VA, PAGE), 0);
	ck_assert_int_eq(map_at(b, s, 0x12000, BIG_VA, PAGE), 0);
	ck_assert_int_eq(backend_copy(b, d, s, RW, 0x10000, 0x3000, &iova),
			 -ENOENT);
	ck_assert_int_eq(backend_copy(b, d, s, RW, 0xf000, 0x2000, &iova),
			 -ENOENT);
	ck_assert_int_eq(backend_copy(b, d, s, RW, 0x12000, 0x1001, &iova),
			 -ENOENT);
	ck_assert_int_eq(backend_copy(b, d, s, RW, 0x20000, 0x1000, &iova),
			 -ENOENT);
	sim_free(b);
}
END_TEST

/* iommufd_ioas_copy argument order: flags (EOPNOTSUPP), U64_MAX values
 * including dst_iova without FIXED (EOVERFLOW), no R/W (EINVAL), source
 * lookup, iopt_get_pages (length 0 EINVAL), then the destination lookup. */
START_TEST(copy_argument_checks_in_kernel_order)
{
	struct backend *b = sim_new();
	uint64_t iova = 0;
	uint32_t s = ioas_new(b);

	ck_assert_int_eq(map_at(b, s, 0x10000, BIG_VA, PAGE), 0);
	ck_assert_int_eq(backend_copy(b, 9, 9, RW | 8, 0, 0, &iova),
			 -EOPNOTSUPP);
	iova = UINT64_MAX;
	ck_assert_int_eq(backend_copy(b, 9, s, RW, 0x10000, PAGE, &iova),
			 -EOVERFLOW);
	iova = 0;
	ck_assert_int_eq(backend_copy(b, 9, s, FIXED, 0x10000, PAGE, &iova),
			 -EINVAL);
	ck_assert_int_eq(backend_copy(b, 9, s, RW, 0x10000, 0, &iova), -EINVAL);
	ck_assert_int_eq(backend_copy(b, 9, s, RW, 0x10000, PAGE, &iova),
			 -ENOENT);
	ck_assert_int_eq(backend_copy(b, s, s, RW, UINT64_MAX - 1, 3, &iova),
			 -EOVERFLOW);
	sim_free(b);
}
END_TEST

/* iopt_insert_area: WRITEABLE copy of pages mapped without WRITE -> EPERM;
 * a READABLE copy is fine. */
START_TEST(copy_writeable_from_read_only_pages_is_eperm)
{
	struct backend *b = sim_new();
	uint64_t iova = 0x10000;
	uint32_t s = ioas_new(b), d = ioas_new(b);

	ck_assert_int_eq(backend_map_user(b, s, FIXED | R, VA(BIG_VA), PAGE,
					  &iova),
			 0);
	iova = 0;
	ck_assert_int_eq(backend_copy(b, d, s, RW, 0x10000, PAGE, &iova),
			 -EPERM);
	ck_assert_int_eq(backend_copy(b, d, s, R, 0x10000, PAGE, &iova), 0);
	sim_free(b);
}
END_TEST

/* iommufd_ioas_copy has no src != dst check: copying within one IOAS works;
 * a fixed destination over the source -> EEXIST. */
START_TEST(copy_into_same_ioas_is_allowed)
{
	struct backend *b = sim_new();
	uint64_t iova = 0x10000;
	uint32_t s = ioas_new(b);

	ck_assert_int_eq(map_at(b, s, 0x10000, BIG_VA, PAGE), 0);
	ck_assert_int_eq(backend_copy(b, s, s, FIXED | RW, 0x10000, PAGE,
				      &iova),
			 -EEXIST);
	iova = 0;
	ck_assert_int_eq(backend_copy(b, s, s, RW, 0x10000, PAGE, &iova), 0);
	ck_assert_uint_eq(iova, 0x1000);
	assert_area(b, s, 0x1000, PAGE);
	assert_area(b, s, 0x10000, PAGE);
	sim_free(b);
}
END_TEST

/* ================================================================ unmap */

/* iopt_unmap_iova: length 0 -> EINVAL; iommufd_ioas_unmap: iova or length
 * == U64_MAX (other than unmap-all) -> EOVERFLOW; iova + length - 1 wraps ->
 * EOVERFLOW. The IOAS lookup comes first. */
START_TEST(unmap_argument_errors)
{
	struct backend *b = sim_new();
	uint64_t n;
	uint32_t id = ioas_new(b);

	ck_assert_int_eq(unmap(b, 77, 0x1000, 0, &n), -ENOENT);
	ck_assert_int_eq(unmap(b, id, 0x1000, 0, &n), -EINVAL);
	ck_assert_int_eq(unmap(b, id, UINT64_MAX, 1, &n), -EOVERFLOW);
	ck_assert_int_eq(unmap(b, id, 1, UINT64_MAX, &n), -EOVERFLOW);
	ck_assert_int_eq(unmap(b, id, 0x2000, UINT64_MAX - 0x1000, &n),
			 -EOVERFLOW);
	sim_free(b);
}
END_TEST

/* iopt_unmap_iova_range: nothing in the range -> ENOENT. */
START_TEST(unmap_range_without_area_is_enoent)
{
	struct backend *b = sim_new();
	uint64_t n;
	uint32_t id = ioas_new(b);

	ck_assert_int_eq(unmap(b, id, 0x1000, PAGE, &n), -ENOENT);
	ck_assert_int_eq(map_at(b, id, 0x10000, BIG_VA, PAGE), 0);
	ck_assert_int_eq(unmap(b, id, 0x11000, PAGE, &n), -ENOENT);
	ck_assert_int_eq(unmap(b, id, 0xf000, PAGE, &n), -ENOENT);
	sim_free(b);
}
END_TEST

/* iopt_unmap_iova_range: the first area intersecting the range starts before
 * it -> ENOENT and nothing is unmapped. */
START_TEST(unmap_splitting_first_area_is_enoent_nothing_unmapped)
{
	struct backend *b = sim_new();
	uint64_t n;
	uint32_t id = ioas_new(b);

	ck_assert_int_eq(map_at(b, id, 0x1000, BIG_VA, 0x2000), 0);
	ck_assert_int_eq(map_at(b, id, 0x3000, BIG_VA, PAGE), 0);
	ck_assert_int_eq(unmap(b, id, 0x2000, 0x2000, &n), -ENOENT);
	assert_area(b, id, 0x1000, 0x2000);
	assert_area(b, id, 0x3000, PAGE);
	sim_free(b);
}
END_TEST

/* iopt_unmap_iova_range visits areas in ascending order with no rollback:
 * the areas fully inside the range before the one sticking out ARE unmapped,
 * and the call still fails with ENOENT. */
START_TEST(unmap_partial_failure_keeps_earlier_unmaps)
{
	struct backend *b = sim_new();
	uint64_t n;
	uint32_t id = ioas_new(b);

	ck_assert_int_eq(map_at(b, id, 0x1000, BIG_VA, PAGE), 0);
	ck_assert_int_eq(map_at(b, id, 0x2000, BIG_VA, PAGE), 0);
	ck_assert_int_eq(map_at(b, id, 0x3000, BIG_VA, 0x2000), 0);
	ck_assert_int_eq(unmap(b, id, 0x1000, 0x3000, &n), -ENOENT);
	ck_assert_int_eq(unmap(b, id, 0x1000, 0x2000, &n), -ENOENT); /* gone */
	assert_area(b, id, 0x3000, 0x2000);
	sim_free(b);
}
END_TEST

/* iopt_unmap_iova_range: a superset of whole areas succeeds and reports the
 * bytes of the areas, not of the range. */
START_TEST(unmap_superset_returns_area_bytes)
{
	struct backend *b = sim_new();
	uint64_t n;
	uint32_t id = ioas_new(b);

	ck_assert_int_eq(map_at(b, id, 0x1000, BIG_VA, PAGE), 0);
	ck_assert_int_eq(map_at(b, id, 0x5000, BIG_VA, 0x3000), 0);
	ck_assert_int_eq(map_at(b, id, 0x20000, BIG_VA, PAGE), 0);
	ck_assert_int_eq(unmap(b, id, 0, 0x10000, &n), 0);
	ck_assert_uint_eq(n, 0x4000);
	assert_area(b, id, 0x20000, PAGE);
	sim_free(b);
}
END_TEST

/* iommufd_ioas_unmap / iopt_unmap_all: iova 0 + length U64_MAX unmaps all
 * (top page included) and succeeds on an empty IOAS with 0 bytes. */
START_TEST(unmap_all_succeeds_even_when_empty)
{
	struct backend *b = sim_new();
	uint64_t n;
	uint32_t id = ioas_new(b);

	ck_assert_int_eq(unmap(b, id, 0, UINT64_MAX, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(map_at(b, id, 0, BIG_VA, PAGE), 0);
	ck_assert_int_eq(map_at(b, id, UINT64_MAX - PAGE + 1, BIG_VA, PAGE), 0);
	ck_assert_int_eq(unmap(b, id, 0, UINT64_MAX, &n), 0);
	ck_assert_uint_eq(n, 2 * PAGE);
	ck_assert_int_eq(unmap(b, id, 0, UINT64_MAX, &n), 0);
	ck_assert_uint_eq(n, 0);
	sim_free(b);
}
END_TEST

/* iopt_unmap_iova: the range may end at the last byte (iova + length - 1 ==
 * U64_MAX is no overflow). */
START_TEST(unmap_last_page)
{
	struct backend *b = sim_new();
	uint64_t n;
	uint32_t id = ioas_new(b);

	ck_assert_int_eq(map_at(b, id, UINT64_MAX - PAGE + 1, BIG_VA, PAGE), 0);
	ck_assert_int_eq(unmap(b, id, UINT64_MAX - 2 * PAGE + 1, 2 * PAGE, &n),
			 0);
	ck_assert_uint_eq(n, PAGE);
	sim_free(b);
}
END_TEST

/* ================================================================ options */

/* iommufd_option: unknown option id -> EOPNOTSUPP. */
START_TEST(option_unknown_id_is_eopnotsupp)
{
	struct backend *b = sim_new();
	uint64_t v = 0;

	ck_assert_int_eq(backend_option(b, BACKEND_OPTION_OP_GET, 2, 0, &v),
			 -EOPNOTSUPP);
	ck_assert_int_eq(backend_option(b, BACKEND_OPTION_OP_GET, 2, 5, &v),
			 -EOPNOTSUPP);
	sim_free(b);
}
END_TEST

/* iommufd_option_rlimit_mode: object_id != 0 -> EOPNOTSUPP; GET is 0 on a
 * fresh /dev/iommu context; SET on an empty context takes 0/1, else EINVAL;
 * unknown op -> EOPNOTSUPP. */
START_TEST(option_rlimit_mode_get_set)
{
	struct backend *b = sim_new();
	uint64_t v = 7;

	ck_assert_int_eq(backend_option(b, BACKEND_OPTION_OP_GET,
					BACKEND_OPTION_RLIMIT_MODE, 1, &v),
			 -EOPNOTSUPP);
	ck_assert_int_eq(backend_option(b, BACKEND_OPTION_OP_GET,
					BACKEND_OPTION_RLIMIT_MODE, 0, &v),
			 0);
	ck_assert_uint_eq(v, 0);
	v = 2;
	ck_assert_int_eq(backend_option(b, BACKEND_OPTION_OP_SET,
					BACKEND_OPTION_RLIMIT_MODE, 0, &v),
			 -EINVAL);
	v = 1;
	ck_assert_int_eq(backend_option(b, BACKEND_OPTION_OP_SET,
					BACKEND_OPTION_RLIMIT_MODE, 0, &v),
			 0);
	v = 0;
	ck_assert_int_eq(backend_option(b, BACKEND_OPTION_OP_GET,
					BACKEND_OPTION_RLIMIT_MODE, 0, &v),
			 0);
	ck_assert_uint_eq(v, 1);
	ck_assert_int_eq(backend_option(b, 2, BACKEND_OPTION_RLIMIT_MODE, 0,
					&v),
			 -EOPNOTSUPP);
	sim_free(b);
}
END_TEST

/* iommufd_option_rlimit_mode: SET while the context holds any object ->
 * EBUSY (before the value is looked at); fine again once it is empty. */
START_TEST(option_rlimit_mode_set_with_objects_is_ebusy)
{
	struct backend *b = sim_new();
	uint64_t v = 5;
	uint32_t id = ioas_new(b);

	ck_assert_int_eq(backend_option(b, BACKEND_OPTION_OP_SET,
					BACKEND_OPTION_RLIMIT_MODE, 0, &v),
			 -EBUSY);
	v = 1;
	ck_assert_int_eq(backend_option(b, BACKEND_OPTION_OP_SET,
					BACKEND_OPTION_RLIMIT_MODE, 0, &v),
			 -EBUSY);
	ck_assert_int_eq(backend_destroy(b, id), 0);
	ck_assert_int_eq(backend_option(b, BACKEND_OPTION_OP_SET,
					BACKEND_OPTION_RLIMIT_MODE, 0, &v),
			 0);
	sim_free(b);
}
END_TEST

/* iommufd_ioas_option: the IOAS is looked up first (ENOENT even for a bad
 * op); GET defaults to 1; value not 0/1 -> EINVAL; unknown op EOPNOTSUPP;
 * SET 0 raises out_iova_alignment to PAGE_SIZE and SET 1 lowers it
 * (iopt_calculate_iova_alignment). */
START_TEST(option_huge_pages_get_set_and_alignment)
{
	struct backend *b = sim_new();
	struct backend_iova_range r[1];
	uint64_t v = 9, align;
	uint32_t num, id = ioas_new(b);

	ck_assert_int_eq(backend_option(b, 7, BACKEND_OPTION_HUGE_PAGES, 99,
					&v),
			 -ENOENT);
	ck_assert_int_eq(backend_option(b, 7, BACKEND_OPTION_HUGE_PAGES, id,
					&v),
			 -EOPNOTSUPP);
	ck_assert_int_eq(backend_option(b, BACKEND_OPTION_OP_GET,
					BACKEND_OPTION_HUGE_PAGES, id, &v),
			 0);
	ck_assert_uint_eq(v, 1);
	v = 2;
	ck_assert_int_eq(backend_option(b, BACKEND_OPTION_OP_SET,
					BACKEND_OPTION_HUGE_PAGES, id, &v),
			 -EINVAL);
	v = 0;
	ck_assert_int_eq(backend_option(b, BACKEND_OPTION_OP_SET,
					BACKEND_OPTION_HUGE_PAGES, id, &v),
			 0);
	get_ranges(b, id, r, 1, &num, &align);
	ck_assert_uint_eq(align, PAGE);
	ck_assert_int_eq(backend_option(b, BACKEND_OPTION_OP_GET,
					BACKEND_OPTION_HUGE_PAGES, id, &v),
			 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(map_at(b, id, 0x1800, BIG_VA, PAGE), -EINVAL);
	v = 1;
	ck_assert_int_eq(backend_option(b, BACKEND_OPTION_OP_SET,
					BACKEND_OPTION_HUGE_PAGES, id, &v),
			 0);
	get_ranges(b, id, r, 1, &num, &align);
	ck_assert_uint_eq(align, 1);
	sim_free(b);
}
END_TEST

/* iopt_disable_large_pages: with a device and areas -> EINVAL; without a
 * device, an area not page aligned -> EADDRINUSE (iopt_check_iova_alignment)
 * and the option stays on. */
START_TEST(option_huge_pages_disable_refusals)
{
	struct backend *b = sim_new();
	uint64_t v = 0;
	uint32_t a = ioas_new(b), c = ioas_new(b);

	ck_assert_int_eq(map_at(b, a, 0x1000, BIG_VA, PAGE), 0);
	ck_assert_int_eq(backend_sim_attach_reserved(b, a, NULL, 0, PAGE), 0);
	ck_assert_int_eq(backend_option(b, BACKEND_OPTION_OP_SET,
					BACKEND_OPTION_HUGE_PAGES, a, &v),
			 -EINVAL);

	ck_assert_int_eq(map_at(b, c, 0x1000, BIG_VA + 0x10, PAGE), 0);
	ck_assert_int_eq(backend_option(b, BACKEND_OPTION_OP_SET,
					BACKEND_OPTION_HUGE_PAGES, c, &v),
			 -EADDRINUSE);
	ck_assert_int_eq(backend_option(b, BACKEND_OPTION_OP_GET,
					BACKEND_OPTION_HUGE_PAGES, c, &v),
			 0);
	ck_assert_uint_eq(v, 1);
	sim_free(b);
}
END_TEST

/* ================================================================ attach */

/* iopt_reserve_iova: a reserved range over an area or an allowed range ->
 * EADDRINUSE; nothing changes. */
START_TEST(attach_reserved_conflict_is_eaddrinuse)
{
	struct backend *b = sim_new();
	const struct backend_iova_range resv[] = {
		{ 0xfee00000, 0xfeefffff }, { 0x1000, 0x1fff } };
	const struct backend_iova_range al = { 0x100000, 0x1fffff };
	const struct backend_iova_range resv2 = { 0x1ff000, 0x200fff };
	struct backend_iova_range r[2];
	uint64_t align;
	uint32_t num, id = ioas_new(b);

	ck_assert_int_eq(map_at(b, id, 0x1000, BIG_VA, PAGE), 0);
	ck_assert_int_eq(backend_sim_attach_reserved(b, id, resv, 2, PAGE),
			 -EADDRINUSE);
	get_ranges(b, id, r, 2, &num, &align);
	ck_assert_uint_eq(num, 1);
	ck_assert_uint_eq(align, 1);
	ck_assert_int_eq(backend_destroy(b, id), 0); /* not attached */

	id = ioas_new(b);
	ck_assert_int_eq(backend_allow_iovas(b, id, &al, 1), 0);
	ck_assert_int_eq(backend_sim_attach_reserved(b, id, &resv2, 1, PAGE),
			 -EADDRINUSE);
	sim_free(b);
}
END_TEST

/* iopt_table_add_domain: alignment above PAGE_SIZE -> EINVAL; an existing
 * area not aligned to the new alignment -> EADDRINUSE. */
START_TEST(attach_alignment_refusals)
{
	struct backend *b = sim_new();
	uint32_t id = ioas_new(b);

	ck_assert_int_eq(backend_sim_attach_reserved(b, id, NULL, 0, 2 * PAGE),
			 -EINVAL);
	ck_assert_int_eq(map_at(b, id, 0x1000, BIG_VA, 0x800), 0);
	ck_assert_int_eq(backend_sim_attach_reserved(b, id, NULL, 0, PAGE),
			 -EADDRINUSE);
	assert_area(b, id, 0x1000, 0x800);
	ck_assert_int_eq(backend_sim_attach_reserved(b, id, NULL, 0, PAGE), 0);
	sim_free(b);
}
END_TEST

/* ================================================================ scale */

/* Thousands of areas: packed first-fit allocation, gap refill, unmap all. */
/* Rule: after a restart, IOASes no table names are destroyed (the sweep),
 * named ones are kept, and one a device holds survives (EBUSY). */
START_TEST(sweep_destroys_unnamed_ioases)
{
	struct backend *b = sim_new();
	const struct backend_iova_range resv[] = { { 0xfee00000, 0xfeefffff } };
	uint32_t id, num = 0, known[] = { 2, 4 };
	uint64_t align;

	for (uint32_t i = 1; i <= 6; i++) {
		ck_assert_int_eq(backend_ioas_alloc(b, &id), 0);
		ck_assert_uint_eq(id, i);
	}
	/* 6 is held by a device domain: destroying it is EBUSY. */
	ck_assert_int_eq(backend_sim_attach_reserved(b, 6, resv, 1, 4096), 0);
	ck_assert_uint_eq(backend_sweep_ioases(b, known, 2, 8), 3); /* 1, 3, 5 */
	for (uint32_t i = 1; i <= 6; i++) {
		int r;
		bool kept;

		num = 0; /* no room: EMSGSIZE tells an IOAS that exists */
		r = backend_iova_ranges(b, i, NULL, &num, &align);
		kept = i == 2 || i == 4 || i == 6;
		ck_assert_msg(kept ? (r == 0 || r == -EMSGSIZE) : r == -ENOENT,
			      "IOAS %u: %d", i, r);
	}
	sim_free(b);
}
END_TEST

START_TEST(scale_thousands_of_areas)
{
	struct backend *b = sim_new();
	const uint64_t n = 5000;
	uint64_t iova, got;
	uint32_t id = ioas_new(b);

	for (uint64_t i = 0; i < n; i++) {
		ck_assert_int_eq(map_auto(b, id, 0x7f0000001000, PAGE, &iova),
				 0);
		ck_assert_uint_eq(iova, (i + 1) * PAGE);
	}
	for (uint64_t i = 0; i < n; i += 2)
		assert_area(b, id, (i + 1) * PAGE, PAGE);
	for (uint64_t i = 0; i < n; i += 2) {
		ck_assert_int_eq(map_auto(b, id, 0x7f0000001000, PAGE, &iova),
				 0);
		ck_assert_uint_eq(iova, (i + 1) * PAGE);
	}
	ck_assert_int_eq(unmap(b, id, 0, UINT64_MAX, &got), 0);
	ck_assert_uint_eq(got, n * PAGE);
	sim_free(b);
}
END_TEST

/* ================================================================ model */

/*
 * The kernel a sim stands for. iopt_alloc_iova caps the automatic alignment
 * at HPAGE_SIZE with CONFIG_TRANSPARENT_HUGEPAGE and at PAGE_SIZE without;
 * PAGE_SIZE also bounds the automatic window, HUGE_PAGES=0 and device
 * alignments, and iopt_alloc_pages' length check.
 */

/* backend_model_init(-1, 0) follows the host: THP when its sysfs has the
 * transparent_hugepage directory (HPAGE_SIZE from hpage_pmd_size), the page
 * size from sysconf; backend_sim_open is a sim of that model. */
START_TEST(model_default_follows_the_host)
{
	struct backend_model m;
	struct backend *b = NULL;
	struct stat st;
	bool thp = stat("/sys/kernel/mm/transparent_hugepage", &st) == 0;
	uint64_t hpage = 0;
	FILE *f;

	ck_assert_int_eq(backend_model_init(&m, -1, 0), 0);
	ck_assert(m.thp == thp);
	ck_assert_uint_eq(m.page_size, (uint64_t)sysconf(_SC_PAGESIZE));
	f = fopen("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "re");
	if (f) {
		ck_assert_int_eq(fscanf(f, "%" SCNu64, &hpage), 1);
		fclose(f);
	}
	if (thp && !hpage)
		hpage = m.page_size * (m.page_size / 8);
	ck_assert_uint_eq(m.hpage_size, thp ? hpage : 0);

	ck_assert_int_eq(backend_sim_open(&b), 0);
	ck_assert(backend_sim_model(b)->thp == m.thp);
	ck_assert_uint_eq(backend_sim_model(b)->page_size, m.page_size);
	ck_assert_uint_eq(backend_sim_model(b)->hpage_size, m.hpage_size);
	sim_free(b);
}
END_TEST

/* Explicit choices; HPAGE_SIZE is the PMD size of the page size (a page of
 * 8-byte entries) unless the host has that page size and says otherwise. */
START_TEST(model_explicit_choices_and_refusals)
{
	const struct backend_model bad_hpage = { true, PAGE, PAGE };
	const struct backend_model bad_page = { false, 0x3000, 0 };
	struct backend_model m;
	struct backend *b = NULL;

	ck_assert_int_eq(backend_model_init(&m, 0, 4096), 0);
	ck_assert(!m.thp);
	ck_assert_uint_eq(m.page_size, 4096);
	ck_assert_uint_eq(m.hpage_size, 0);
	ck_assert_int_eq(backend_model_init(&m, 1, 4096), 0);
	ck_assert(m.thp);
	ck_assert_uint_eq(m.hpage_size, 2 << 20);
	ck_assert_int_eq(backend_model_init(&m, 1, 16384), 0);
	ck_assert_uint_eq(m.hpage_size, 32 << 20);
	ck_assert_int_eq(backend_model_init(&m, 1, 65536), 0);
	ck_assert_uint_eq(m.hpage_size, 512 << 20);
	ck_assert_int_eq(backend_model_init(&m, 0, 8192), 0);
	ck_assert_int_eq(backend_model_init(&m, 0, 2048), -EINVAL);
	ck_assert_int_eq(backend_model_init(&m, 0, 0x3000), -EINVAL);
	ck_assert_int_eq(backend_model_init(&m, 1, 0x20000), -EINVAL);
	ck_assert_int_eq(backend_sim_open_model(&bad_hpage, &b), -EINVAL);
	ck_assert_int_eq(backend_sim_open_model(&bad_page, &b), -EINVAL);
	ck_assert_ptr_null(backend_sim_model(NULL));
}
END_TEST

/* The description clients get in HelloReply names the model; a context
 * opened from a sim (a device tenant's) models the same kernel. */
START_TEST(model_description_and_context_open)
{
	struct backend *b = sim_new_model(&thp_4k), *n = sim_new_model(&nothp_4k);
	struct backend *ctx = NULL;
	uint64_t iova;
	uint32_t id;

	ck_assert_str_eq(backend_description(b),
			 "sim thp=yes hpage_size=2097152 page_size=4096");
	ck_assert_str_eq(backend_description(n), "sim thp=no page_size=4096");
	ck_assert_int_eq(backend_context_open(n, &ctx), 0);
	ck_assert_str_eq(backend_description(ctx), backend_description(n));
	id = ioas_new(ctx);
	ck_assert_int_eq(map_auto(ctx, id, BIG_VA, 1 << 20, &iova), 0);
	ck_assert_uint_eq(iova, PAGE);
	sim_free(ctx);
	sim_free(n);
	sim_free(b);
}
END_TEST

/* iopt_alloc_iova without THP: max_alignment stays PAGE_SIZE, so a large
 * mapping or a VA/offset 0 gets the first free page, where a THP kernel
 * goes to the next 2 MiB boundary. */
START_TEST(model_without_thp_caps_alignment_at_page_size)
{
	struct backend *t = sim_new_model(&thp_4k), *n = sim_new_model(&nothp_4k);
	uint64_t iova;
	uint32_t a = ioas_new(t), c = ioas_new(n);

	ck_assert_int_eq(map_auto(t, a, BIG_VA, UINT64_C(1) << 30, &iova), 0);
	ck_assert_uint_eq(iova, HPAGE);
	ck_assert_int_eq(map_auto(n, c, BIG_VA, UINT64_C(1) << 30, &iova), 0);
	ck_assert_uint_eq(iova, PAGE);
	ck_assert_int_eq(map_auto(t, a, 0, 0x198000, &iova), 0);
	ck_assert_uint_eq(iova, HPAGE + (UINT64_C(1) << 30));
	ck_assert_int_eq(map_auto(n, c, 0, 0x198000, &iova), 0);
	ck_assert_uint_eq(iova, PAGE + (UINT64_C(1) << 30));
	/* 64 KiB from length and VA: kept with THP, 4 KiB without */
	a = ioas_new(t);
	c = ioas_new(n);
	ck_assert_int_eq(map_auto(t, a, 0x7f0000010000, 0x10000, &iova), 0);
	ck_assert_uint_eq(iova, 0x10000);
	ck_assert_int_eq(map_auto(n, c, 0x7f0000010000, 0x10000, &iova), 0);
	ck_assert_uint_eq(iova, PAGE);
	sim_free(n);
	sim_free(t);
}
END_TEST

/* The first case: 0x198000 bytes mapped at a fixed IOVA from a VA
 * whose lowest set bit is 0x8000, copied within the IOAS to an automatic
 * IOVA: alignment min(2 MiB, 0x8000) with THP, 4 KiB without. */
START_TEST(model_copy_auto_alignment_from_source_va)
{
	const struct backend_model *models[2] = { &thp_4k, &nothp_4k };
	const uint64_t want[2] = { 0x8000, 0x1000 };

	for (int i = 0; i < 2; i++) {
		struct backend *b = sim_new_model(models[i]);
		uint64_t iova = 0;
		uint32_t id = ioas_new(b);

		ck_assert_int_eq(map_at(b, id, 0x40000000, 0x7f0000008000, 0x198000), 0);
		ck_assert_int_eq(backend_copy(b, id, id, RW, 0x40000000, 0x198000,
					      &iova), 0);
		ck_assert_uint_eq(iova, want[i]);
		assert_area(b, id, want[i], 0x198000);
		sim_free(b);
	}
}
END_TEST

/* The second case: allowed ranges near the top whose holes are only
 * 4 KiB aligned. A 1 MiB copy from a 2 MiB-aligned source needs 1 MiB
 * alignment with THP (ENOSPC), 4 KiB without (fits exactly); at the very
 * top ALIGN() would wrap with 2 MiB and the range is passed over. */
START_TEST(model_top_of_space_holes_only_page_aligned)
{
	const struct backend_model *models[2] = { &thp_4k, &nothp_4k };
	/* 1 MiB starting 4 KiB past a 2 MiB boundary, and the top 1 MiB +
	 * 4 KiB, of which the window leaves 1 MiB */
	const struct backend_iova_range allow[2] = {
		{ UINT64_C(0xffffffff00001000), UINT64_C(0xffffffff00100fff) },
		{ UINT64_MAX - 0x100fff, UINT64_MAX },
	};

	for (int i = 0; i < 2; i++) {
		struct backend *b = sim_new_model(models[i]);
		uint64_t iova = 0;
		uint32_t src = ioas_new(b), dst = ioas_new(b);
		int want = models[i]->thp ? -ENOSPC : 0;

		ck_assert_int_eq(map_at(b, src, HPAGE, BIG_VA, 2 * HPAGE), 0);
		ck_assert_int_eq(backend_allow_iovas(b, dst, allow, 2), 0);
		ck_assert_int_eq(backend_copy(b, dst, src, RW, HPAGE, 1 << 20,
					      &iova), want);
		if (!want)
			ck_assert_uint_eq(iova, allow[0].start);
		iova = 0;
		ck_assert_int_eq(backend_copy(b, dst, src, RW, HPAGE, 1 << 20,
					      &iova), want);
		if (!want)
			ck_assert_uint_eq(iova, UINT64_MAX - 0x100fff);
		/* a page fits where 1 MiB did not, and nowhere once both
		 * holes are full */
		ck_assert_int_eq(backend_copy(b, dst, src, RW, HPAGE, PAGE,
					      &iova), models[i]->thp ? 0 : -ENOSPC);
		if (models[i]->thp)
			ck_assert_uint_eq(iova, allow[0].start);
		sim_free(b);
	}
}
END_TEST

/* PAGE_SIZE 16 KiB / 64 KiB: the window starts at PAGE_SIZE and ends one
 * page below the top, the in-page offset is kept modulo PAGE_SIZE, the
 * THP cap is the PMD size, HUGE_PAGES=0 imposes PAGE_SIZE, a device may
 * impose up to PAGE_SIZE, and iopt_alloc_pages refuses lengths within a
 * page of SIZE_MAX. */
START_TEST(model_larger_pages)
{
	const struct backend_model p16 = { false, 0x4000, 0 };
	const struct backend_model p16t = { true, 0x4000, 32 << 20 };
	const struct backend_model p64 = { false, 0x10000, 0 };
	const struct backend_iova_range top = { UINT64_MAX - 0x7fff, UINT64_MAX };
	struct backend *b = sim_new_model(&p16), *t = sim_new_model(&p16t);
	struct backend *w = sim_new_model(&p64), *f = sim_new_model(&thp_4k);
	struct backend_iova_range r[1];
	uint64_t iova, v = 0, align;
	uint32_t num, id = ioas_new(b), it = ioas_new(t), iw = ioas_new(w);
	uint32_t idt = ioas_new(b), iwt = ioas_new(w), ift = ioas_new(f);

	ck_assert_int_eq(map_auto(b, id, BIG_VA, PAGE, &iova), 0);
	ck_assert_uint_eq(iova, 0x4000);
	ck_assert_int_eq(map_auto(b, id, 0x7f0000003010, 0x10, &iova), 0);
	/* the hole after it starts at 0x5000: ALIGN(0x5000, 0x10) | 0x3010 */
	ck_assert_uint_eq(iova, 0x7010);
	ck_assert_int_eq(map_auto(b, id, BIG_VA, UINT64_C(1) << 30, &iova), 0);
	ck_assert_uint_eq(iova, 0x8000);
	ck_assert_int_eq(map_auto(t, it, BIG_VA, UINT64_C(1) << 30, &iova), 0);
	ck_assert_uint_eq(iova, 32 << 20);
	ck_assert_int_eq(map_auto(w, iw, BIG_VA, PAGE, &iova), 0);
	ck_assert_uint_eq(iova, 0x10000);

	/* the window's top: the last 16 KiB page is never picked */
	ck_assert_int_eq(backend_allow_iovas(b, idt, &top, 1), 0);
	ck_assert_int_eq(map_auto(b, idt, BIG_VA, 0x4000, &iova), 0);
	ck_assert_uint_eq(iova, UINT64_MAX - 0x7fff);
	ck_assert_int_eq(map_auto(b, idt, BIG_VA, PAGE, &iova), -ENOSPC);

	/* HUGE_PAGES=0: iova_alignment = PAGE_SIZE */
	ck_assert_int_eq(backend_option(w, BACKEND_OPTION_OP_SET,
					BACKEND_OPTION_HUGE_PAGES, iwt, &v), 0);
	get_ranges(w, iwt, r, 1, &num, &align);
	ck_assert_uint_eq(align, 0x10000);

	/* a 64 KiB IOMMU page is fine under 64 KiB pages, not under 4 KiB */
	ck_assert_int_eq(backend_sim_attach_reserved(w, iw, NULL, 0, 0x10000), -EADDRINUSE);
	ck_assert_int_eq(backend_sim_attach_reserved(w, iwt, NULL, 0, 0x10000), 0);
	ck_assert_int_eq(backend_sim_attach_reserved(f, ift, NULL, 0, 0x10000), -EINVAL);

	/* length > SIZE_MAX - PAGE_SIZE: EINVAL under 16 KiB pages; under
	 * 4 KiB it passes and the automatic allocation says EOVERFLOW */
	iova = 0;
	ck_assert_int_eq(backend_map_user(b, id, RW, NULL, UINT64_MAX - 0x2000,
					  &iova), -EINVAL);
	ck_assert_int_eq(backend_map_user(f, ift, RW, NULL, UINT64_MAX - 0x2000,
					  &iova), -EOVERFLOW);
	sim_free(f);
	sim_free(w);
	sim_free(t);
	sim_free(b);
}
END_TEST

/* ================================================================ random */

/*
 * A brute-force model of areas in an 8 MiB window (page granular), driven
 * with random MAP (fixed/auto), COPY and UNMAP; every result, output IOVA
 * and byte count must agree with the sim. The window is the allowed list of
 * each IOAS, so automatic allocation is the smallest aligned free start in
 * it (what first fit over the holes amounts to for page-aligned VAs).
 */
#define M_FIRST UINT64_C(0x100000)
#define M_PAGES 2048
#define M_LAST (M_FIRST + M_PAGES * PAGE - 1)
#define M_NIOAS 2

struct m_area {
	uint64_t iova, last, addr;
	bool w;
};

struct m_ioas {
	struct m_area a[M_PAGES];
	size_t n;
	bool used[M_PAGES];
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint64_t rnd_below(uint64_t n)
{
	return rnd() % n;
}

static void m_mark(struct m_ioas *m, uint64_t iova, uint64_t last, bool v)
{
	for (uint64_t p = (iova - M_FIRST) / PAGE; p <= (last - M_FIRST) / PAGE;
	     p++)
		m->used[p] = v;
}

static bool m_free(const struct m_ioas *m, uint64_t iova, uint64_t len)
{
	for (uint64_t p = (iova - M_FIRST) / PAGE;
	     p <= (iova + len - 1 - M_FIRST) / PAGE; p++)
		if (m->used[p])
			return false;
	return true;
}

static void m_insert(struct m_ioas *m, struct m_area a)
{
	size_t i = m->n;

	while (i > 0 && m->a[i - 1].iova > a.iova) {
		m->a[i] = m->a[i - 1];
		i--;
	}
	m->a[i] = a;
	m->n++;
	m_mark(m, a.iova, a.last, true);
}

static void m_remove(struct m_ioas *m, size_t i)
{
	m_mark(m, m->a[i].iova, m->a[i].last, false);
	memmove(&m->a[i], &m->a[i + 1], (m->n - i - 1) * sizeof(m->a[0]));
	m->n--;
}

/* The largest automatic alignment: HPAGE_SIZE with THP, else PAGE_SIZE. */
static uint64_t m_max_align;

static int m_alloc(const struct m_ioas *m, uint64_t addr, uint64_t len,
		   uint64_t *ret)
{
	uint64_t align = 1, low = addr & (~addr + 1), x;

	while (align < len)
		align <<= 1;
	if (addr && low < align)
		align = low;
	if (align > m_max_align)
		align = m_max_align;
	x = (M_FIRST + align - 1) & ~(align - 1);
	while (x + len - 1 <= M_LAST) {
		uint64_t p, bad = 0;

		for (p = x; p < x + len; p += PAGE)
			if (m->used[(p - M_FIRST) / PAGE]) {
				bad = p;
				break;
			}
		if (!bad) {
			*ret = x;
			return 0;
		}
		x = (bad + PAGE + align - 1) & ~(align - 1);
	}
	return -ENOSPC;
}

static int m_map(struct m_ioas *m, const struct m_area *pieces, size_t n,
		 uint64_t len, uint32_t flags, uint64_t *iova)
{
	uint64_t at;

	if (flags & FIXED) {
		at = *iova;
		if (!m_free(m, at, len))
			return -EEXIST;
	} else if (m_alloc(m, pieces[0].addr, len, &at) < 0) {
		return -ENOSPC;
	}
	for (size_t i = 0; i < n; i++)
		if ((flags & W) && !pieces[i].w)
			return -EPERM;
	*iova = at;
	for (size_t i = 0; i < n; i++) {
		uint64_t l = pieces[i].last - pieces[i].iova + 1;

		m_insert(m, (struct m_area){ at, at + l - 1, pieces[i].addr,
					     pieces[i].w });
		at += l;
	}
	return 0;
}

static int m_copy(struct m_ioas *src, struct m_ioas *dst, uint64_t s,
		  uint64_t len, uint32_t flags, uint64_t *iova)
{
	static struct m_area pieces[M_PAGES];
	uint64_t last = s + len - 1, cur = s;
	size_t n = 0;

	for (size_t i = 0; i < src->n && cur <= last; i++) {
		const struct m_area *a = &src->a[i];

		if (a->last < cur)
			continue;
		if (a->iova > cur)
			return -ENOENT;
		pieces[n] = (struct m_area){
			cur, a->last < last ? a->last : last,
			a->addr + (cur - a->iova), a->w
		};
		cur = pieces[n].last + 1;
		n++;
		if (pieces[n - 1].last == last)
			break;
	}
	if (!n || pieces[n - 1].last != last)
		return -ENOENT;
	return m_map(dst, pieces, n, len, flags, iova);
}

static int m_unmap(struct m_ioas *m, uint64_t first, uint64_t last,
		   uint64_t *ret)
{
	uint64_t got = 0;

	for (size_t i = 0; i < m->n;) {
		struct m_area *a = &m->a[i];

		if (a->last < first) {
			i++;
			continue;
		}
		if (a->iova > last)
			break;
		if (a->iova < first || a->last > last)
			return -ENOENT;
		got += a->last - a->iova + 1;
		m_remove(m, i);
	}
	if (!got)
		return -ENOENT;
	*ret = got;
	return 0;
}

static uint64_t rnd_va(void)
{
	/* page aligned, lowest set bit between 2^12 and 2^22 */
	return ((rnd_below(1 << 20) << 1) | 1) << (12 + rnd_below(11));
}

static void random_run(uint64_t seed, int ops, const struct backend_model *bm)
{
	static struct m_ioas model[M_NIOAS];
	const struct backend_iova_range win = { M_FIRST, M_LAST };
	struct backend *b = sim_new_model(bm);
	uint32_t ids[M_NIOAS];

	rng_state = seed;
	m_max_align = bm->thp ? bm->hpage_size : bm->page_size;
	memset(model, 0, sizeof(model));
	for (int i = 0; i < M_NIOAS; i++) {
		ids[i] = ioas_new(b);
		ck_assert_int_eq(backend_allow_iovas(b, ids[i], &win, 1), 0);
	}

	for (int op = 0; op < ops; op++) {
		int k = rnd_below(M_NIOAS), r, mr;
		struct m_ioas *m = &model[k];
		uint64_t iova, miova, len, got = 0, mgot = 0;
		uint32_t flags = rnd_below(2) ? RW : R;
		unsigned int what = rnd_below(100);

		if (what < 30) { /* fixed map */
			len = (1 + rnd_below(16)) * PAGE;
			iova = M_FIRST + rnd_below(M_PAGES - len / PAGE + 1) * PAGE;
			miova = iova;
			uint64_t va = rnd_va();
			struct m_area p = { 0, len - 1, va, flags & W };

			r = backend_map_user(b, ids[k], flags | FIXED, VA(va),
					     len, &iova);
			mr = m_map(m, &p, 1, len, flags | FIXED, &miova);
			ck_assert_int_eq(r, mr);
		} else if (what < 55) { /* automatic map */
			len = (1 + rnd_below(32)) * PAGE;
			uint64_t va = rnd_va();
			struct m_area p = { 0, len - 1, va, flags & W };

			iova = miova = 0;
			r = backend_map_user(b, ids[k], flags, VA(va), len,
					     &iova);
			mr = m_map(m, &p, 1, len, flags, &miova);
			ck_assert_int_eq(r, mr);
			if (!r)
				ck_assert_uint_eq(iova, miova);
		} else if (what < 75) { /* copy */
			int d = rnd_below(M_NIOAS);
			uint64_t s;

			len = (1 + rnd_below(24)) * PAGE;
			s = M_FIRST + rnd_below(M_PAGES - len / PAGE + 1) * PAGE;
			if (rnd_below(2)) {
				flags |= FIXED;
				iova = M_FIRST +
				       rnd_below(M_PAGES - len / PAGE + 1) * PAGE;
			} else {
				iova = 0;
			}
			miova = iova;
			r = backend_copy(b, ids[d], ids[k], flags, s, len,
					 &iova);
			mr = m_copy(m, &model[d], s, len, flags, &miova);
			ck_assert_int_eq(r, mr);
			if (!r)
				ck_assert_uint_eq(iova, miova);
		} else if (what < 99) { /* unmap */
			uint64_t s = M_FIRST - PAGE + rnd_below(M_PAGES) * PAGE;

			len = (1 + rnd_below(64)) * PAGE;
			r = backend_unmap(b, ids[k], s, len, &got);
			mr = m_unmap(m, s, s + len - 1, &mgot);
			ck_assert_int_eq(r, mr);
			if (!r)
				ck_assert_uint_eq(got, mgot);
		} else { /* unmap all */
			r = backend_unmap(b, ids[k], 0, UINT64_MAX, &got);
			ck_assert_int_eq(r, 0);
			if (m->n)
				ck_assert_int_eq(m_unmap(m, 0, UINT64_MAX - 1,
							 &mgot),
						 0);
			ck_assert_uint_eq(got, mgot);
		}
	}

	/* the final area sets must be identical */
	for (int k = 0; k < M_NIOAS; k++) {
		uint64_t got;

		for (size_t i = 0; i < model[k].n; i++)
			assert_area(b, ids[k], model[k].a[i].iova,
				    model[k].a[i].last - model[k].a[i].iova + 1);
		ck_assert_int_eq(unmap(b, ids[k], 0, UINT64_MAX, &got), 0);
		ck_assert_uint_eq(got, 0);
	}
	sim_free(b);
}

/* Both models: with THP the automatic alignment reaches 2 MiB, so the
 * first fit often skips holes a kernel without THP fills. */
START_TEST(random_ops_match_brute_force_model)
{
	for (uint64_t seed = 1; seed <= 6; seed++) {
		random_run(seed * UINT64_C(0x9e3779b97f4a7c15), 4000, &thp_4k);
		random_run(seed * UINT64_C(0x9e3779b97f4a7c15), 4000, &nothp_4k);
	}
}
END_TEST

static Suite *sim_suite(void)
{
	Suite *s = suite_create("backend-sim");
	TCase *tc;

	tc = tcase_create("objects");
	tcase_add_test(tc, ids_start_at_one_and_increase);
	tcase_add_test(tc, ids_lowest_free_id_is_reused);
	tcase_add_test(tc, destroy_unknown_id_is_enoent);
	tcase_add_test(tc, destroy_ioas_with_mappings_succeeds);
	tcase_add_test(tc, destroy_ioas_with_device_attached_is_ebusy);
	tcase_add_test(tc, ops_on_unknown_ioas_are_enoent);
	suite_add_tcase(s, tc);

	tc = tcase_create("ranges");
	tcase_add_test(tc, iova_ranges_fresh_ioas_is_whole_space);
	tcase_add_test(tc, iova_ranges_reports_reserved_holes_not_allowed_list);
	tcase_add_test(tc, iova_ranges_touching_and_full_reservations);
	tcase_add_test(tc, iova_ranges_short_array_is_emsgsize_with_count);
	tcase_add_test(tc, allow_iovas_start_not_below_last_is_einval);
	tcase_add_test(tc, allow_iovas_overlap_is_einval_touching_is_ok);
	tcase_add_test(tc, allow_iovas_intersecting_reserved_is_eaddrinuse);
	tcase_add_test(tc, allow_iovas_ignores_existing_mappings);
	tcase_add_test(tc, allow_iovas_empty_list_clears);
	suite_add_tcase(s, tc);

	tc = tcase_create("map");
	tcase_add_test(tc, map_unknown_flag_is_eopnotsupp);
	tcase_add_test(tc, map_iova_or_length_u64max_is_eoverflow);
	tcase_add_test(tc, map_without_read_or_write_is_einval);
	tcase_add_test(tc, map_length_zero_is_einval);
	tcase_add_test(tc, map_va_plus_length_overflow_is_eoverflow);
	tcase_add_test(tc, map_fixed_overlapping_area_is_eexist);
	tcase_add_test(tc, map_fixed_into_reserved_is_einval);
	tcase_add_test(tc, map_fixed_ignores_allowed_list);
	tcase_add_test(tc, map_fixed_first_and_last_page);
	tcase_add_test(tc, map_fixed_byte_granular_without_device);
	tcase_add_test(tc, map_fixed_misaligned_after_attach_is_einval);
	tcase_add_test(tc, map_read_only_is_accepted);
	tcase_add_test(tc, map_auto_first_fit_starts_at_page_size);
	tcase_add_test(tc, map_auto_alignment_from_length_and_va);
	tcase_add_test(tc, map_auto_alignment_capped_at_huge_page);
	tcase_add_test(tc, map_auto_keeps_va_page_offset);
	tcase_add_test(tc, map_auto_fills_exact_hole_and_skips_reserved);
	tcase_add_test(tc, map_auto_reserved_before_next_area_splits_hole);
	tcase_add_test(tc, map_auto_inside_allowed_touching_ranges_merge);
	tcase_add_test(tc, map_auto_nothing_fits_is_enospc);
	tcase_add_test(tc, map_auto_never_page_zero_or_top_page);
	tcase_add_test(tc, map_auto_one_byte_hole_is_not_used);
	tcase_add_test(tc, map_auto_huge_length_is_eoverflow);
	tcase_add_test(tc, map_auto_alignment_below_iova_alignment_is_einval);
	tcase_add_test(tc, map_file_without_capability_is_eopnotsupp);
	tcase_add_test(tc, map_file_bad_fd_is_ebadf_after_ioas_lookup);
	tcase_add_test(tc, map_file_fds_held_skips_the_fget_model);
	tcase_add_test(tc, map_file_offset_acts_as_va);
	suite_add_tcase(s, tc);

	tc = tcase_create("copy");
	tcase_add_test(tc, copy_covered_range_and_sub_range);
	tcase_add_test(tc, copy_keeps_source_area_boundaries);
	tcase_add_test(tc, copy_range_with_hole_is_enoent);
	tcase_add_test(tc, copy_argument_checks_in_kernel_order);
	tcase_add_test(tc, copy_writeable_from_read_only_pages_is_eperm);
	tcase_add_test(tc, copy_into_same_ioas_is_allowed);
	suite_add_tcase(s, tc);

	tc = tcase_create("unmap");
	tcase_add_test(tc, unmap_argument_errors);
	tcase_add_test(tc, unmap_range_without_area_is_enoent);
	tcase_add_test(tc, unmap_splitting_first_area_is_enoent_nothing_unmapped);
	tcase_add_test(tc, unmap_partial_failure_keeps_earlier_unmaps);
	tcase_add_test(tc, unmap_superset_returns_area_bytes);
	tcase_add_test(tc, unmap_all_succeeds_even_when_empty);
	tcase_add_test(tc, unmap_last_page);
	suite_add_tcase(s, tc);

	tc = tcase_create("options");
	tcase_add_test(tc, option_unknown_id_is_eopnotsupp);
	tcase_add_test(tc, option_rlimit_mode_get_set);
	tcase_add_test(tc, option_rlimit_mode_set_with_objects_is_ebusy);
	tcase_add_test(tc, option_huge_pages_get_set_and_alignment);
	tcase_add_test(tc, option_huge_pages_disable_refusals);
	tcase_add_test(tc, attach_reserved_conflict_is_eaddrinuse);
	tcase_add_test(tc, attach_alignment_refusals);
	suite_add_tcase(s, tc);

	tc = tcase_create("model");
	tcase_add_test(tc, model_default_follows_the_host);
	tcase_add_test(tc, model_explicit_choices_and_refusals);
	tcase_add_test(tc, model_description_and_context_open);
	tcase_add_test(tc, model_without_thp_caps_alignment_at_page_size);
	tcase_add_test(tc, model_copy_auto_alignment_from_source_va);
	tcase_add_test(tc, model_top_of_space_holes_only_page_aligned);
	tcase_add_test(tc, model_larger_pages);
	suite_add_tcase(s, tc);

	tc = tcase_create("stress");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, sweep_destroys_unnamed_ioases);
	tcase_add_test(tc, scale_thousands_of_areas);
	tcase_add_test(tc, random_ops_match_brute_force_model);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sim_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
