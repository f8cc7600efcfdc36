/* SPDX-License-Identifier: MIT */
/* The one number and size grammar (common/numparse.h), as a table of inputs
 * and what each must give: the golden file of that grammar. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/numparse.h"

struct row {
	const char *in;
	int r;          /* 0 or -errno */
	uint64_t v;
};

static const struct row sizes[] = {
	{ "0", 0, 0 },
	{ "4096", 0, 4096 },
	{ "010", 0, 10 },                       /* no octal */
	{ "0x1000", 0, 0x1000 },
	{ "0X1f", 0, 0x1f },
	{ "2K", 0, 2048 },
	{ "2k", 0, 2048 },
	{ "2KiB", 0, 2048 },
	{ "2kib", 0, 2048 },
	{ "2KB", 0, 2048 },
	{ "3M", 0, 3 << 20 },
	{ "64G", 0, UINT64_C(64) << 30 },
	{ "1T", 0, UINT64_C(1) << 40 },
	{ "0x10M", 0, UINT64_C(16) << 20 },
	{ "0x2B", 0, 0x2b },                    /* hex digits are greedy */
	{ "0x2GB", 0, UINT64_C(2) << 30 },
	{ "18446744073709551615", 0, UINT64_MAX },
	{ "0xffffffffffffffff", 0, UINT64_MAX },
	{ "16777215T", 0, UINT64_C(16777215) << 40 },
	{ "18446744073709551616", -ERANGE, 0 },
	{ "0x10000000000000000", -ERANGE, 0 },
	{ "16777216T", -ERANGE, 0 },
	{ "", -EINVAL, 0 },
	{ "K", -EINVAL, 0 },
	{ "0x", -EINVAL, 0 },
	{ "-1", -EINVAL, 0 },
	{ "+1", -EINVAL, 0 },
	{ " 1", -EINVAL, 0 },
	{ "1 ", -EINVAL, 0 },
	{ "1P", -EINVAL, 0 },
	{ "1Ki", -EINVAL, 0 },
	{ "1KiBs", -EINVAL, 0 },
	{ "1.5M", -EINVAL, 0 },
	{ "0x1g2", -EINVAL, 0 },
};

START_TEST(size_grammar)
{
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t v = 12345;
		int r = numparse_size(sizes[i].in, &v);

		ck_assert_msg(r == sizes[i].r, "\"%s\": %d, want %d", sizes[i].in, r, sizes[i].r);
		ck_assert_msg(v == (r == 0 ? sizes[i].v : 12345), "\"%s\": 0x%llx",
			      sizes[i].in, (unsigned long long)v);
	}
}
END_TEST

/* Numbers are sizes without a unit. */
START_TEST(number_grammar)
{
	uint64_t v = 7;
	uint32_t u = 7;

	ck_assert_int_eq(numparse_u64("0x1000", &v), 0);
	ck_assert_uint_eq(v, 0x1000);
	ck_assert_int_eq(numparse_u64("010", &v), 0);
	ck_assert_uint_eq(v, 10);
	ck_assert_int_eq(numparse_u64("2M", &v), -EINVAL);
	ck_assert_int_eq(numparse_u64("18446744073709551616", &v), -ERANGE);
	ck_assert_int_eq(numparse_u64("99999999999999999999x", &v), -EINVAL);
	ck_assert_uint_eq(v, 10);
	ck_assert_int_eq(numparse_u32("4294967295", &u), 0);
	ck_assert_uint_eq(u, UINT32_MAX);
	ck_assert_int_eq(numparse_u32("4294967296", &u), -ERANGE);
	ck_assert_int_eq(numparse_u32("-1", &u), -EINVAL);
	ck_assert_int_eq(numparse_u64(NULL, &v), -EINVAL);
	ck_assert_uint_eq(u, UINT32_MAX);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("numparse");
	TCase *tc = tcase_create("grammar");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, size_grammar);
	tcase_add_test(tc, number_grammar);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
