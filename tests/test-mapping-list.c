/* SPDX-License-Identifier: MIT */
/*
 * MappingList through a real daemon (sim by default) and libioas: a page's
 * entries (IOVA order, memory, offset, flags), the IOAS's own AllowIovas
 * list on the first page only, paging with a small max and with the
 * default (1100 mappings: a full page of 1024, then the rest), from_iova
 * inside a mapping and past the last, and an IOAS the tenant does not have.
 */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"
#include "ioas.h"

#define KiB (UINT64_C(1) << 10)
#define RW (IOAS_MAP_READABLE | IOAS_MAP_WRITEABLE)
#define REQUIRE(cond) HARNESS_REQUIRE(cond)

static struct harness_daemon d;

static void setup(void)
{
	const char *args[] = { "--backend", "sim", "--no-policy", NULL };

	ck_assert_int_eq(harness_daemon_start(&d, args), 0);
}

static void teardown(void)
{
	ck_assert_int_eq(harness_daemon_stop(&d), 0);
}

/* Five 64 KiB mappings of one memfd at 0x100000, 0x120000, ...: the
 * fourth read-only. */
static int five(struct ioas_client *c, uint32_t *ioas, uint32_t *mem)
{
	int fd, r;

	r = ioas_memfd_create("mapping-list", 5 * 64 * KiB, &fd);
	if (r < 0)
		return r;
	r = ioas_memory_register(c, fd, 0, 5 * 64 * KiB, mem, NULL);
	close(fd);
	if (r < 0)
		return r;
	r = ioas_alloc(c, ioas);
	for (uint64_t i = 0; r == 0 && i < 5; i++) {
		uint64_t iova = 0x100000 + i * 0x20000;

		r = ioas_map(c, *ioas, *mem, i * 64 * KiB, 64 * KiB,
			     IOAS_MAP_FIXED_IOVA | (i == 3 ? IOAS_MAP_READABLE : RW), &iova);
	}
	return r;
}

static int body_pages(void *arg)
{
	const struct ioas_iova_range own = { 0x10000000, 0x1fffffff };
	struct ioas_mapping_page *p = NULL;
	struct ioas_client *c;
	uint64_t from, seen[8];
	uint32_t ioas, mem, n = 0;

	(void)arg;
	REQUIRE(harness_connect(&d, "test-mapping-list", &c) == 0);
	REQUIRE(five(c, &ioas, &mem) == 0);
	REQUIRE(ioas_allow_iovas(c, ioas, &own, 1) == 0);

	/* One page holds them all. */
	REQUIRE(ioas_mapping_list(c, ioas, NULL, 0, &p) == 0);
	REQUIRE(p->n_mappings == 5 && p->total == 5 && !p->more);
	for (uint32_t i = 0; i < 5; i++) {
		const struct ioas_mapping_info *m = &p->mappings[i];

		REQUIRE(m->iova == 0x100000 + i * 0x20000 && m->length == 64 * KiB);
		REQUIRE(m->memory == mem && m->import == 0 && m->offset == i * 64 * KiB);
		REQUIRE(m->flags == (IOAS_MAP_FIXED_IOVA | (i == 3 ? IOAS_MAP_READABLE : RW)));
		REQUIRE(!m->outside_policy);
	}
	REQUIRE(p->n_own_allowed == 1);
	REQUIRE(p->own_allowed[0].start == own.start && p->own_allowed[0].last == own.last);
	p = ioas_mapping_page_free(p);

	/* Two at a time: 2, 2, 1; the own list on the first page only. */
	REQUIRE(ioas_mapping_list(c, ioas, NULL, 2, &p) == 0);
	REQUIRE(p->n_mappings == 2 && p->more && p->next_iova == 0x140000);
	REQUIRE(p->n_own_allowed == 1);
	for (;;) {
		for (uint32_t i = 0; i < p->n_mappings; i++) {
			REQUIRE(n < 8);
			seen[n++] = p->mappings[i].iova;
		}
		if (!p->more)
			break;
		from = p->next_iova;
		p = ioas_mapping_page_free(p);
		REQUIRE(ioas_mapping_list(c, ioas, &from, 2, &p) == 0);
		REQUIRE(p->n_own_allowed == 0 && p->total == 5);
	}
	p = ioas_mapping_page_free(p);
	REQUIRE(n == 5);
	for (uint32_t i = 0; i < 5; i++)
		REQUIRE(seen[i] == 0x100000 + i * 0x20000);

	/* from_iova inside the first mapping: those starting at or above it. */
	from = 0x101000;
	REQUIRE(ioas_mapping_list(c, ioas, &from, 0, &p) == 0);
	REQUIRE(p->n_mappings == 4 && p->mappings[0].iova == 0x120000);
	p = ioas_mapping_page_free(p);
	/* Past the last: an empty last page. */
	from = 0x190000;
	REQUIRE(ioas_mapping_list(c, ioas, &from, 0, &p) == 0);
	REQUIRE(p->n_mappings == 0 && !p->more && p->total == 5);
	p = ioas_mapping_page_free(p);

	/* Not the tenant's. */
	REQUIRE(ioas_mapping_list(c, ioas + 100, NULL, 0, &p) == -ENOENT);
	REQUIRE(p == NULL);
	REQUIRE(ioas_mapping_list(c, ioas, NULL, 0, NULL) == -EINVAL);
	ioas_client_free(c);
	return 0;
}

/* 1100 mappings: the default page is bounded (1024), the rest follows. */
static int body_bounded(void *arg)
{
	struct ioas_mapping_page *p = NULL;
	struct ioas_client *c;
	uint32_t ioas, mem;
	uint64_t iova, from;
	int fd;

	(void)arg;
	REQUIRE(harness_connect(&d, "test-mapping-list", &c) == 0);
	REQUIRE(ioas_memfd_create("mapping-list", 4 * KiB, &fd) == 0);
	REQUIRE(ioas_memory_register(c, fd, 0, 4 * KiB, &mem, NULL) == 0);
	close(fd);
	REQUIRE(ioas_alloc(c, &ioas) == 0);
	for (uint64_t i = 0; i < 1100; i++) {
		iova = 0x100000 + i * 8 * KiB;
		REQUIRE(ioas_map(c, ioas, mem, 0, 4 * KiB, IOAS_MAP_FIXED_IOVA | RW, &iova) == 0);
	}
	REQUIRE(ioas_mapping_list(c, ioas, NULL, 0, &p) == 0);
	REQUIRE(p->n_mappings == 1024 && p->more && p->total == 1100);
	REQUIRE(p->next_iova == 0x100000 + 1024 * 8 * KiB);
	from = p->next_iova;
	p = ioas_mapping_page_free(p);
	REQUIRE(ioas_mapping_list(c, ioas, &from, 5000, &p) == 0);
	REQUIRE(p->n_mappings == 76 && !p->more);
	REQUIRE(p->mappings[75].iova == 0x100000 + 1099 * 8 * KiB);
	p = ioas_mapping_page_free(p);
	ioas_client_free(c);
	return 0;
}

START_TEST(pages)
{
	ck_assert_int_eq(harness_run_client(body_pages, NULL), 0);
}
END_TEST

START_TEST(bounded)
{
	ck_assert_int_eq(harness_run_client(body_bounded, NULL), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("mapping-list");
	TCase *tc = tcase_create("mapping-list");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, pages);
	tcase_add_test(tc, bounded);
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
