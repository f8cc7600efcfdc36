/* SPDX-License-Identifier: MIT */
/* Unit tests for audit/ratelimit.c: burst per window and subject, one
 * summary per window that suppressed something, the bounded table. Time is
 * driven by the test. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/ratelimit.h"

#define SEC UINT64_C(1000000)

struct reports {
	struct ratelimit_summary s[8];
	unsigned n;
};

static void collect(void *userdata, const struct ratelimit_summary *s)
{
	struct reports *r = userdata;

	ck_assert_uint_lt(r->n, 8);
	r->s[r->n++] = *s;
}

static struct ratelimit *make(uint32_t burst, uint32_t max_keys, struct reports *r)
{
	struct ratelimit_config cfg = {
		.interval_usec = 10 * SEC, .burst = burst, .max_keys = max_keys,
		.report = collect, .userdata = r,
	};
	struct ratelimit *rl;

	memset(r, 0, sizeof(*r));
	ck_assert_int_eq(ratelimit_new(&cfg, &rl), 0);
	return rl;
}

static struct ratelimit_key tenant(const char *name)
{
	struct ratelimit_key k = { 0 };

	snprintf(k.name, sizeof(k.name), "%s", name);
	return k;
}

static struct ratelimit_key uid(uid_t u)
{
	return (struct ratelimit_key){ .by_uid = true, .uid = u };
}

/* burst pass, the rest are held back; the next event after the window
 * reports them first, then starts a fresh burst. */
START_TEST(burst_then_summary)
{
	struct ratelimit_key a = tenant("alpha");
	struct ratelimit_stats st;
	struct reports r;
	struct ratelimit *rl = make(3, 16, &r);

	for (int i = 0; i < 3; i++)
		ck_assert(ratelimit_test(rl, &a, 100 + i));
	for (int i = 0; i < 5; i++)
		ck_assert(!ratelimit_test(rl, &a, 5 * SEC));
	ck_assert_uint_eq(r.n, 0);
	ck_assert(!ratelimit_test(rl, &a, 100 + 10 * SEC - 1));  /* still inside */
	ck_assert(ratelimit_test(rl, &a, 100 + 10 * SEC));       /* next window */
	ck_assert_uint_eq(r.n, 1);
	ck_assert_str_eq(r.s[0].key.name, "alpha");
	ck_assert(!r.s[0].key.by_uid);
	ck_assert_uint_eq(r.s[0].suppressed, 6);
	ck_assert_uint_eq(r.s[0].window_usec, 10 * SEC);
	ck_assert(ratelimit_test(rl, &a, 11 * SEC));
	ck_assert(ratelimit_test(rl, &a, 11 * SEC));
	ck_assert(!ratelimit_test(rl, &a, 11 * SEC));
	ratelimit_get_stats(rl, &st);
	ck_assert_uint_eq(st.passed, 6);
	ck_assert_uint_eq(st.suppressed, 7);
	ck_assert_uint_eq(st.keys, 1);
	ck_assert_uint_eq(st.evicted, 0);
	ratelimit_free(rl);
}
END_TEST

/* A window that suppressed nothing closes quietly. */
START_TEST(no_summary_without_suppression)
{
	struct ratelimit_key a = tenant("alpha");
	struct reports r;
	struct ratelimit *rl = make(3, 16, &r);

	for (int i = 0; i < 3; i++)
		ck_assert(ratelimit_test(rl, &a, 0));
	ck_assert(ratelimit_test(rl, &a, 10 * SEC));
	ratelimit_sweep(rl, 100 * SEC, true);
	ck_assert_uint_eq(r.n, 0);
	ratelimit_free(rl);
}
END_TEST

/* Subjects are independent: tenants by name, uids by number, and a tenant
 * named "5" is not uid 5. */
START_TEST(subjects_apart)
{
	struct ratelimit_key a = tenant("alpha"), b = tenant("beta"), five = tenant("5");
	struct ratelimit_key u5 = uid(5), u6 = uid(6);
	struct reports r;
	struct ratelimit *rl = make(1, 16, &r);

	ck_assert(ratelimit_test(rl, &a, 0));
	ck_assert(!ratelimit_test(rl, &a, 0));
	ck_assert(ratelimit_test(rl, &b, 0));
	ck_assert(ratelimit_test(rl, &u5, 0));
	ck_assert(!ratelimit_test(rl, &u5, 0));
	ck_assert(ratelimit_test(rl, &u6, 0));
	ck_assert(ratelimit_test(rl, &five, 0));
	ratelimit_free(rl);
}
END_TEST

/* The sweep reports and forgets closed windows only; with all, every
 * window, over the time it has run. */
START_TEST(sweep_closed_then_all)
{
	struct ratelimit_key a = tenant("alpha"), u = uid(1000);
	struct ratelimit_stats st;
	struct reports r;
	struct ratelimit *rl = make(1, 16, &r);

	ck_assert(ratelimit_test(rl, &a, 0));
	ck_assert(!ratelimit_test(rl, &a, 1));
	ck_assert(ratelimit_test(rl, &u, 4 * SEC));
	ck_assert(!ratelimit_test(rl, &u, 4 * SEC));
	ck_assert(!ratelimit_test(rl, &u, 5 * SEC));
	ratelimit_sweep(rl, 10 * SEC, false);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_str_eq(r.s[0].key.name, "alpha");
	ck_assert_uint_eq(r.s[0].suppressed, 1);
	ratelimit_get_stats(rl, &st);
	ck_assert_uint_eq(st.keys, 1);
	ratelimit_sweep(rl, 12 * SEC, true);
	ck_assert_uint_eq(r.n, 2);
	ck_assert(r.s[1].key.by_uid);
	ck_assert_uint_eq(r.s[1].key.uid, 1000);
	ck_assert_uint_eq(r.s[1].suppressed, 2);
	ck_assert_uint_eq(r.s[1].window_usec, 8 * SEC);
	ratelimit_get_stats(rl, &st);
	ck_assert_uint_eq(st.keys, 0);
	ratelimit_free(rl);
}
END_TEST

/* The table is bounded: closed windows make room first; when every window
 * is open the oldest subject is evicted, its count reported, and counted. */
START_TEST(bounded_table)
{
	struct ratelimit_key a = tenant("a"), b = tenant("b"), c = tenant("c");
	struct ratelimit_stats st;
	struct reports r;
	struct ratelimit *rl = make(1, 2, &r);

	ck_assert(ratelimit_test(rl, &a, 0));
	ck_assert(!ratelimit_test(rl, &a, 0));
	ck_assert(ratelimit_test(rl, &b, 1));
	ck_assert(ratelimit_test(rl, &c, 2));           /* evicts a */
	ratelimit_get_stats(rl, &st);
	ck_assert_uint_eq(st.evicted, 1);
	ck_assert_uint_eq(st.keys, 2);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_str_eq(r.s[0].key.name, "a");
	ck_assert_uint_eq(r.s[0].suppressed, 1);
	ck_assert(ratelimit_test(rl, &a, 3));           /* fresh: evicts b */
	ratelimit_get_stats(rl, &st);
	ck_assert_uint_eq(st.evicted, 2);
	ck_assert_uint_eq(r.n, 1);                      /* b held nothing back */
	/* Later, c's and a's windows are over: no eviction to make room. */
	ck_assert(ratelimit_test(rl, &b, 20 * SEC));
	ratelimit_get_stats(rl, &st);
	ck_assert_uint_eq(st.evicted, 2);
	ck_assert_uint_eq(st.keys, 1);
	for (uint32_t i = 0; i < 1000; i++) {
		struct ratelimit_key k = uid(i);

		ratelimit_test(rl, &k, 30 * SEC);
	}
	ratelimit_get_stats(rl, &st);
	ck_assert_uint_eq(st.keys, 2);
	ratelimit_free(rl);
}
END_TEST

START_TEST(config_checked)
{
	struct ratelimit_config cfg = { .interval_usec = SEC, .burst = 1, .max_keys = 1 };
	struct ratelimit *rl = NULL;

	cfg.burst = 0;
	ck_assert_int_eq(ratelimit_new(&cfg, &rl), -EINVAL);
	cfg.burst = 1;
	cfg.interval_usec = 0;
	ck_assert_int_eq(ratelimit_new(&cfg, &rl), -EINVAL);
	cfg.interval_usec = SEC;
	cfg.max_keys = 0;
	ck_assert_int_eq(ratelimit_new(&cfg, &rl), -EINVAL);
	ck_assert_ptr_null(rl);
	ck_assert_ptr_null(ratelimit_free(NULL));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ratelimit");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, burst_then_summary);
	tcase_add_test(tc, no_summary_without_suppression);
	tcase_add_test(tc, subjects_apart);
	tcase_add_test(tc, sweep_closed_then_all);
	tcase_add_test(tc, bounded_table);
	tcase_add_test(tc, config_checked);
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
