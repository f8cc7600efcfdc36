/* SPDX-License-Identifier: MIT */
/* The IOAS pool (take, give, reset, refill from the loop) and the audit
 * sink (JSON lines, failure reporting, refuse mode). */
#include <check.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "backend.h"
#include "pool.h"

static struct backend *b;

static void setup(void)
{
	ck_assert_int_eq(backend_sim_open(&b), 0);
}

static void teardown(void)
{
	b = backend_close(b);
}

/* An IOAS handed out twice must come back pristine: nothing mapped, no
 * allowed list, huge pages on, as IOMMU_IOAS_ALLOC gives it. */
START_TEST(pool_resets_what_it_reuses)
{
	struct pool *p;
	struct pool_stats st;
	struct backend_iova_range r = { 0x100000, 0x1fffff }, out[4];
	uint32_t id, id2, num = 4;
	uint64_t iova = 0x100000, v = 0, align, n;
	static char page[4096] __attribute__((aligned(4096)));

	ck_assert_int_eq(pool_new(b, NULL, 2, &p), 0);
	ck_assert_int_eq(pool_refill_now(p), 0);
	pool_get_stats(p, &st);
	ck_assert_uint_eq(st.idle, 2);
	ck_assert_int_eq(pool_take(p, &id), 0);
	ck_assert_int_eq(backend_allow_iovas(b, id, &r, 1), 0);
	ck_assert_int_eq(backend_map_user(b, id, BACKEND_MAP_FIXED_IOVA | BACKEND_MAP_READABLE,
					  page, sizeof(page), &iova), 0);
	ck_assert_int_eq(backend_option(b, BACKEND_OPTION_OP_SET, BACKEND_OPTION_HUGE_PAGES,
					id, &v), 0);
	ck_assert_int_eq(pool_give(p, id), 0);
	pool_get_stats(p, &st);
	ck_assert_uint_eq(st.idle, 2);
	/* LIFO: the same IOAS comes back, reset. */
	ck_assert_int_eq(pool_take(p, &id2), 0);
	ck_assert_uint_eq(id2, id);
	ck_assert_int_eq(backend_unmap(b, id2, 0, UINT64_MAX, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(backend_option(b, BACKEND_OPTION_OP_GET, BACKEND_OPTION_HUGE_PAGES,
					id2, &v), 0);
	ck_assert_uint_eq(v, 1);
	/* No allowed list: an automatic IOVA may land outside the old one. */
	ck_assert_int_eq(backend_iova_ranges(b, id2, out, &num, &align), 0);
	iova = 0;
	ck_assert_int_eq(backend_map_user(b, id2, BACKEND_MAP_READABLE, page, 0x400000, &iova), 0);
	ck_assert(iova + 0x400000 - 1 > 0x1fffff);
	ck_assert_int_eq(pool_give(p, id2), 0);
	pool_free(p);
}
END_TEST

/* Past its size the pool destroys what it gets back; empty, it allocates. */
START_TEST(pool_bounds_and_overflow)
{
	struct pool *p;
	struct pool_stats st;
	uint32_t ids[3];

	ck_assert_int_eq(pool_new(b, NULL, 1, &p), 0);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(pool_take(p, &ids[i]), 0);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(pool_give(p, ids[i]), 0);
	pool_get_stats(p, &st);
	ck_assert_uint_eq(st.idle, 1);
	ck_assert_uint_eq(st.destroyed, 2);
	ck_assert_uint_eq(st.taken, 3);
	/* The two destroyed are really gone. */
	ck_assert_int_eq(backend_destroy(b, ids[1]), -ENOENT);
	pool_free(p);
}
END_TEST

/* The pool refills from the event loop, without blocking a take. */
START_TEST(pool_refills_from_the_loop)
{
	struct event_base *base = event_base_new();
	struct pool_stats st;
	struct pool *p;

	ck_assert_ptr_nonnull(base);
	ck_assert_int_eq(pool_new(b, base, 3, &p), 0);
	pool_get_stats(p, &st);
	ck_assert_uint_eq(st.idle, 0);
	for (int i = 0; i < 10; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	pool_get_stats(p, &st);
	ck_assert_uint_eq(st.idle, 3);
	pool_free(p);
	event_base_free(base);
}
END_TEST

START_TEST(audit_json_lines)
{
	char path[] = "/tmp/ioasd-audit.XXXXXX", line[2048];
	struct audit *a;
	FILE *f;
	int fd = mkstemp(path);
	struct audit_record r = {
		.kind = AUDIT_DECISION,
		.op = "Map",
		.allowed = false,
		.errnum = EPERM,
		.reason = "outside \"AllowedIOVA\"\n",
		.tenant = "alpha",
		.uid = 1000, .gid = 100, .pid = 42, .conn = 7,
		.policy_file = "/etc/ioasd/policy.d/50.conf", .policy_line = 3,
		.has_handle = true, .handle = 2,
		.has_iova = true, .iova = 0x1000,
		.has_length = true, .length = 0x2000,
	};

	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(audit_open(path, false, AUDIT_FAILURE_CONTINUE, &a), 0);
	ck_assert_int_eq(audit_emit(a, &r), 0);
	audit_close(a);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	fclose(f);
	unlink(path);
	ck_assert_ptr_nonnull(strstr(line, "\"op\":\"Map\",\"result\":\"refused\",\"errno\":1,\"error\":\"EPERM\""));
	ck_assert_ptr_nonnull(strstr(line, "\"reason\":\"outside \\\"AllowedIOVA\\\"\\u000a\""));
	ck_assert_ptr_nonnull(strstr(line, "\"policy\":\"/etc/ioasd/policy.d/50.conf:3\""));
	ck_assert_ptr_nonnull(strstr(line, "\"handle\":2,\"iova\":\"0x1000\",\"length\":\"0x2000\""));
	ck_assert_ptr_nonnull(strstr(line, "\"message_id\":\"1ac031628bf542de824206a43134593b\""));
	ck_assert_ptr_nonnull(strstr(line, "\"uid\":1000,\"gid\":100,\"pid\":42"));
	ck_assert_int_eq(line[strlen(line) - 1], '\n');
}
END_TEST

/* A record about no peer (a release, a policy load) names none. */
START_TEST(audit_without_peer)
{
	struct audit_record r = { .kind = AUDIT_RELEASE, .op = "release", .allowed = true,
				  .tenant = "alpha" };
	char line[1024];

	audit_format_json(&r, line, sizeof(line));
	ck_assert_ptr_null(strstr(line, "\"uid\""));
	ck_assert_ptr_nonnull(strstr(line, "\"tenant\":\"alpha\""));
}
END_TEST

/* A sink that fails is reported, and under refuse mode the daemon is told
 * to stop granting until it recovers. /dev/full fails every write. */
START_TEST(audit_failure_modes)
{
	struct audit_record r = { .kind = AUDIT_DECISION, .op = "Map", .allowed = true };
	struct audit *a;

	ck_assert_int_eq(audit_open("/dev/full", false, AUDIT_FAILURE_REFUSE, &a), 0);
	ck_assert(audit_healthy(a));
	ck_assert_int_eq(audit_emit(a, &r), -ENOSPC);
	ck_assert(!audit_healthy(a));
	audit_close(a);
	ck_assert_int_eq(audit_open("/dev/full", false, AUDIT_FAILURE_CONTINUE, &a), 0);
	ck_assert_int_eq(audit_emit(a, &r), -ENOSPC);
	ck_assert(audit_healthy(a));
	audit_close(a);
	ck_assert_int_eq(audit_open("/nonexistent/dir/audit.jsonl", false,
				    AUDIT_FAILURE_CONTINUE, &a), -ENOENT);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("pool-audit");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, pool_resets_what_it_reuses);
	tcase_add_test(tc, pool_bounds_and_overflow);
	tcase_add_test(tc, pool_refills_from_the_loop);
	tcase_add_test(tc, audit_json_lines);
	tcase_add_test(tc, audit_failure_modes);
	tcase_add_test(tc, audit_without_peer);
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
