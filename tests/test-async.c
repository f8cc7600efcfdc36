/* SPDX-License-Identifier: MIT */
/*
 * libioas's asynchronous requests and batches against a real daemon (sim
 * by default): many requests in flight on one connection, completions in
 * the order sent with their userdata, synchronous calls and notifications
 * interleaved with them, the in-flight bound, a connection that goes
 * mid-flight; batches run and submitted, both modes, their results and
 * refusals; the client's own size.
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "ioas.h"

#define KiB (UINT64_C(1) << 10)
#define RW (IOAS_MAP_READABLE | IOAS_MAP_WRITEABLE)
#define REQUIRE(cond) HARNESS_REQUIRE(cond)

static struct harness_daemon d;
static char dir[PATH_MAX];
static uid_t client_uid;

/* One tenant that may export (to itself: own shares may be imported). */
static void setup(void)
{
	char tmpl[] = "/tmp/ioasd-async.XXXXXX", pdir[PATH_MAX + 16];
	char path[PATH_MAX + 32];
	const char *args[] = { "--backend", "sim", "--policy-dir", pdir, NULL };
	FILE *f;

	client_uid = geteuid() == 0 ? HARNESS_CLIENT_UID : getuid();
	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	ck_assert_int_eq(chmod(tmpl, 0755), 0);
	snprintf(dir, sizeof(dir), "%s", tmpl);
	snprintf(pdir, sizeof(pdir), "%s/policy.d", dir);
	ck_assert_int_eq(mkdir(pdir, 0755), 0);
	snprintf(path, sizeof(path), "%s/50-async.conf", pdir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[tenant async]\nMatchUser=%u\nExportTo=async\nMaxMappings=8192\n"
		"MaxIOAS=8\n", (unsigned)client_uid);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(harness_daemon_start(&d, args), 0);
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];

	ck_assert_int_eq(harness_daemon_stop(&d), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", dir);
}

/* fn(NULL) in a child as the tenant's uid (tests/harness.h). */
static int as_client(int (*fn)(void *arg))
{
	return harness_run_client_as(client_uid, client_uid == getuid() ?
				     getgid() : HARNESS_CLIENT_GID, fn, NULL);
}

/* An IOAS and a registered region of size bytes. */
static int ioas_and_memory(struct ioas_client *c, uint64_t size, uint32_t *ioas,
			   uint32_t *mem)
{
	int fd = -1, r;

	r = ioas_memfd_create("async", size, &fd);
	if (r == 0)
		r = ioas_alloc(c, ioas);
	if (r == 0)
		r = ioas_memory_register(c, fd, 0, size, mem, NULL);
	if (fd >= 0)
		close(fd);
	return r;
}

/* Collect n completions (bounded wait) into out, in the order handed out. */
static int collect(struct ioas_client *c, struct ioas_completion *out, unsigned n)
{
	unsigned got = 0;

	while (got < n) {
		int r = ioas_client_wait_completions(c, out + got, n - got, 5000);

		if (r <= 0)
			return r < 0 ? r : -ETIMEDOUT;
		got += (unsigned)r;
	}
	return 0;
}

/* ------------------------------------------------------------ async */

#define MANY 200

/* Rule: many requests in flight on one connection complete, in the order
 * sent, each with its userdata and result; a refusal is the completion's,
 * not the submit's. */
static int many_in_flight(void *arg)
{
	static struct ioas_completion done[MANY + 1];
	static uint64_t ids[MANY + 1];
	struct ioas_client *c;
	struct ioas_stats st;
	uint32_t ioas, mem;

	(void)arg;
	REQUIRE(harness_connect(&d, "test-async", &c) == 0);
	REQUIRE(malloc_usable_size(c) < 1024); /* a client is small */
	REQUIRE(ioas_and_memory(c, MANY * 4 * KiB, &ioas, &mem) == 0);
	for (unsigned i = 0; i < MANY; i++)
		REQUIRE(ioas_submit_map(c, ioas, mem, i * 4 * KiB, 4 * KiB, RW, 0,
					(void *)(uintptr_t)(i + 1), &ids[i]) == 0);
	REQUIRE(ioas_submit_map(c, ioas, mem + 7, 0, 4 * KiB, RW, 0, NULL, &ids[MANY]) == 0);
	REQUIRE(ioas_client_in_flight(c) <= MANY + 1);
	REQUIRE(collect(c, done, MANY + 1) == 0);
	REQUIRE(ioas_client_in_flight(c) == 0);
	for (unsigned i = 0; i < MANY; i++) {
		REQUIRE(done[i].id == ids[i]);
		REQUIRE(done[i].userdata == (void *)(uintptr_t)(i + 1));
		REQUIRE(done[i].op == IOAS_OP_MAP);
		REQUIRE(done[i].error == 0);
		REQUIRE(i == 0 || done[i].iova != done[i - 1].iova);
	}
	REQUIRE(done[MANY].error == -ENOENT);
	REQUIRE(strstr(done[MANY].message, "memory") != NULL);
	/* And back: unmaps in flight. */
	for (unsigned i = 0; i < MANY; i++)
		REQUIRE(ioas_submit_unmap(c, ioas, done[i].iova, 4 * KiB, NULL, NULL) == 0);
	REQUIRE(collect(c, done, MANY) == 0);
	for (unsigned i = 0; i < MANY; i++)
		REQUIRE(done[i].op == IOAS_OP_UNMAP && done[i].unmapped == 4 * KiB);
	REQUIRE(ioas_stats(c, &st) == 0 && st.mappings == 0);
	/* Nothing in flight: waiting returns at once. */
	REQUIRE(ioas_client_wait_completions(c, done, 1, -1) == 0);
	ioas_client_free(c);
	return 0;
}

START_TEST(async_many_in_flight)
{
	ck_assert_int_eq(as_client(many_in_flight), 0);
}
END_TEST

/* Rule: at most IOAS_MAX_IN_FLIGHT requests in flight or completed and
 * not collected: the next submit is -EAGAIN, sends nothing, and works
 * again once completions are collected. */
static int in_flight_bound(void *arg)
{
	static struct ioas_completion done[IOAS_MAX_IN_FLIGHT];
	struct ioas_client *c;
	uint32_t ioas;

	(void)arg;
	REQUIRE(harness_connect(&d, "test-async", &c) == 0);
	REQUIRE(ioas_alloc(c, &ioas) == 0);
	for (unsigned i = 0; i < IOAS_MAX_IN_FLIGHT; i++)
		REQUIRE(ioas_submit_unmap(c, ioas, 0, UINT64_MAX, NULL, NULL) == 0);
	REQUIRE(ioas_submit_unmap(c, ioas, 0, UINT64_MAX, NULL, NULL) == -EAGAIN);
	REQUIRE(!ioas_client_broken(c));
	REQUIRE(collect(c, done, IOAS_MAX_IN_FLIGHT) == 0);
	REQUIRE(ioas_submit_unmap(c, ioas, 0, UINT64_MAX, NULL, NULL) == 0);
	REQUIRE(collect(c, done, 1) == 0 && done[0].error == 0);
	ioas_client_free(c);
	return 0;
}

START_TEST(async_in_flight_bound)
{
	ck_assert_int_eq(as_client(in_flight_bound), 0);
}
END_TEST

/* Rule: synchronous calls and notifications interleave with requests in
 * flight: a synchronous call keeps the completions it reads, a
 * notification is queued whoever reads it. */
static int interleaved(void *arg)
{
	static struct ioas_completion done[64];
	char token[IOAS_SHARE_TOKEN_LEN + 1];
	struct ioas_notification n;
	struct ioas_client *c;
	struct ioas_stats st;
	uint32_t ioas, ioas2, mem, share, imp;
	uint64_t iova = 0, iova2 = 0, len;

	(void)arg;
	REQUIRE(harness_connect(&d, "test-async", &c) == 0);
	REQUIRE(ioas_and_memory(c, 64 * 4 * KiB, &ioas, &mem) == 0);
	REQUIRE(ioas_alloc(c, &ioas2) == 0);
	REQUIRE(ioas_map(c, ioas, mem, 0, 4 * KiB, RW, &iova) == 0);
	REQUIRE(ioas_share_export(c, ioas, iova, 4 * KiB, false, &share, token) == 0);
	REQUIRE(ioas_share_import(c, token, ioas2, 0, 0, 0, &iova2, &imp, &len) == 0);
	for (unsigned i = 1; i < 21; i++)
		REQUIRE(ioas_submit_map(c, ioas, mem, i * 4 * KiB, 4 * KiB, RW, 0,
					(void *)(uintptr_t)i, NULL) == 0);
	/* A synchronous call in the middle reads the replies before its own. */
	REQUIRE(ioas_stats(c, &st) == 0 && st.mappings >= 2);
	/* Unmapping the source revokes the import: a notification among the
	 * replies, then more requests in flight. */
	REQUIRE(ioas_submit_unmap(c, ioas, iova, 4 * KiB, (void *)(uintptr_t)100, NULL) == 0);
	for (unsigned i = 21; i < 41; i++)
		REQUIRE(ioas_submit_map(c, ioas, mem, i * 4 * KiB, 4 * KiB, RW, 0,
					(void *)(uintptr_t)i, NULL) == 0);
	REQUIRE(collect(c, done, 41) == 0);
	for (unsigned i = 0; i < 41; i++) {
		uintptr_t want = i < 20 ? i + 1 : i == 20 ? 100 : i;

		REQUIRE(done[i].userdata == (void *)want);
		REQUIRE(done[i].error == 0);
	}
	REQUIRE(ioas_next_notification(c, &n) == 0);
	REQUIRE(n.kind == IOAS_NOTIFY_SHARE_REVOKED && n.import == imp);
	REQUIRE(strcmp(n.reason, "source-unmapped") == 0);
	REQUIRE(ioas_next_notification(c, &n) == -EAGAIN);
	ioas_client_free(c);
	return 0;
}

START_TEST(async_interleaved)
{
	ck_assert_int_eq(as_client(interleaved), 0);
}
END_TEST

/* ------------------------------------------------------------ batches */

/* Rule: a batch runs in one request; each operation has its result; the
 * same batch can be submitted asynchronously among other requests. */
static int batch_run(void *arg)
{
	struct ioas_batch_result res;
	struct ioas_completion done[4];
	struct ioas_batch *b = NULL, *b2 = NULL;
	struct ioas_client *c;
	struct ioas_stats st;
	uint32_t ioas, mem;
	int fd = -1;

	(void)arg;
	REQUIRE(harness_connect(&d, "test-async", &c) == 0);
	REQUIRE(ioas_client_max_batch(c) == 256);
	REQUIRE(ioas_and_memory(c, 64 * KiB, &ioas, &mem) == 0);
	REQUIRE(ioas_memfd_create("batch", 64 * KiB, &fd) == 0);
	REQUIRE(ioas_batch_new(IOAS_BATCH_STOP, &b) == 0);
	REQUIRE(ioas_batch_result(b, 0, &res) == -EINVAL);
	REQUIRE(ioas_batch_alloc(b) == 0);
	REQUIRE(ioas_batch_memory_register(b, fd, 0, 64 * KiB) == 1);
	REQUIRE(ioas_batch_map(b, ioas, mem, 0, 4 * KiB, RW | IOAS_MAP_FIXED_IOVA,
			       0x100000) == 2);
	REQUIRE(ioas_batch_map(b, ioas, mem, 4 * KiB, 4 * KiB, RW, 0) == 3);
	REQUIRE(ioas_batch_unmap(b, ioas, 0x100000, 4 * KiB) == 4);
	REQUIRE(ioas_batch_share_export(b, ioas, 0x100000, 4 * KiB, false) == 5); /* ENOENT */
	REQUIRE(ioas_batch_destroy(b, ioas) == 6);
	REQUIRE(ioas_batch_size(b) == 7);
	REQUIRE(ioas_batch_result(b, 0, &res) == -ENODATA);
	REQUIRE(ioas_batch_run(c, b) == -ENOENT);
	close(fd); /* the daemon has its copy */
	REQUIRE(strstr(ioas_client_last_error(c), "batch op 5 (ShareExport)") != NULL);
	REQUIRE(ioas_batch_result(b, 0, &res) == 0 && res.error == 0 &&
		res.op == IOAS_OP_ALLOC && res.handle == ioas + 1);
	REQUIRE(ioas_batch_result(b, 1, &res) == 0 && res.error == 0 && res.handle == mem + 1);
	REQUIRE(ioas_batch_result(b, 2, &res) == 0 && res.iova == 0x100000);
	REQUIRE(ioas_batch_result(b, 3, &res) == 0 && res.error == 0 && res.iova != 0);
	REQUIRE(ioas_batch_result(b, 4, &res) == 0 && res.unmapped == 4 * KiB);
	REQUIRE(ioas_batch_result(b, 5, &res) == 0 && res.error == -ENOENT &&
		res.message[0]);
	REQUIRE(ioas_batch_result(b, 6, &res) == 0 && res.error == -ECANCELED &&
		!res.rolled_back);
	REQUIRE(ioas_batch_result(b, 7, &res) == -EINVAL);

	/* Asynchronously, between two other requests. */
	REQUIRE(ioas_batch_new(IOAS_BATCH_STOP, &b2) == 0);
	for (unsigned i = 0; i < 8; i++)
		REQUIRE(ioas_batch_map(b2, ioas, mem, (8 + i) * 4 * KiB, 4 * KiB,
				       RW | IOAS_MAP_FIXED_IOVA, 0x200000 + i * 4 * KiB) == (int)i);
	REQUIRE(ioas_submit_alloc(c, NULL, NULL) == 0);
	REQUIRE(ioas_batch_submit(c, b2, b2, NULL) == 0);
	REQUIRE(ioas_batch_map(b2, ioas, mem, 0, 4 * KiB, RW, 0) == -EBUSY);
	REQUIRE(ioas_batch_clear(b2) == -EBUSY);
	REQUIRE(ioas_batch_result(b2, 0, &res) == -ENODATA);
	REQUIRE(ioas_submit_destroy(c, ioas + 1, NULL, NULL) == 0);
	REQUIRE(collect(c, done, 3) == 0);
	REQUIRE(done[0].op == IOAS_OP_ALLOC && done[0].error == 0);
	REQUIRE(done[1].op == IOAS_OP_BATCH && done[1].batch == b2 &&
		done[1].userdata == b2 && done[1].error == 0);
	REQUIRE(done[2].op == IOAS_OP_DESTROY && done[2].error == 0);
	for (unsigned i = 0; i < 8; i++)
		REQUIRE(ioas_batch_result(b2, i, &res) == 0 && res.error == 0 &&
			res.iova == 0x200000 + i * 4 * KiB);
	REQUIRE(ioas_stats(c, &st) == 0 && st.mappings == 9);
	/* Reused: the same maps again overlap (EEXIST at the first). */
	REQUIRE(ioas_batch_run(c, b2) == -EEXIST);
	REQUIRE(ioas_batch_clear(b2) == 0 && ioas_batch_size(b2) == 0);
	REQUIRE(ioas_batch_run(c, b2) == -EINVAL);
	ioas_batch_free(b);
	ioas_batch_free(b2);
	ioas_client_free(c);
	return 0;
}

START_TEST(batch_run_and_submit)
{
	int base = harness_fd_count_settled(d.pid, 2000);

	ck_assert_int_eq(as_client(batch_run), 0);
	/* Every fd the batches sent was released with the tenant. */
	ck_assert_int_eq(harness_wait_fd_count(d.pid, base, 2000), base);
}
END_TEST

/* Rule: all or nothing through libioas: a failure undoes what ran (the
 * tenant's counts as before); a batch with an operation that cannot be
 * undone is refused whole (no results), saying why; adding past the limit
 * is -E2BIG. */
static int batch_atomic(void *arg)
{
	struct ioas_batch_result res;
	struct ioas_stats before, after;
	struct ioas_batch *b = NULL;
	struct ioas_client *c;
	uint32_t ioas, mem;

	(void)arg;
	REQUIRE(harness_connect(&d, "test-async", &c) == 0);
	REQUIRE(ioas_and_memory(c, 64 * KiB, &ioas, &mem) == 0);
	REQUIRE(ioas_stats(c, &before) == 0);
	REQUIRE(ioas_batch_new(IOAS_BATCH_ATOMIC, &b) == 0);
	REQUIRE(ioas_batch_alloc(b) == 0);
	REQUIRE(ioas_batch_map(b, ioas, mem, 0, 4 * KiB, RW, 0) == 1);
	REQUIRE(ioas_batch_share_export(b, ioas, 0x0, 4 * KiB, false) >= 0);
	REQUIRE(ioas_batch_map(b, ioas, mem + 5, 0, 4 * KiB, RW, 0) == 3); /* ENOENT */
	REQUIRE(ioas_batch_run(c, b) == -ENOENT);
	for (unsigned i = 0; i < 2; i++)
		REQUIRE(ioas_batch_result(b, i, &res) == 0 && res.error == -ECANCELED &&
			res.rolled_back);
	REQUIRE(ioas_stats(c, &after) == 0);
	REQUIRE(after.ioas == before.ioas && after.mappings == before.mappings &&
		after.pinned_bytes == before.pinned_bytes);
	REQUIRE(ioas_batch_clear(b) == 0);
	REQUIRE(ioas_batch_alloc(b) == 0);
	REQUIRE(ioas_batch_unmap(b, ioas, 0, UINT64_MAX) == 1);
	REQUIRE(ioas_batch_run(c, b) == -EINVAL);
	REQUIRE(strstr(ioas_client_last_error(c), "Unmap cannot be in an all-or-nothing") != NULL);
	REQUIRE(ioas_batch_result(b, 0, &res) == -ENODATA);
	REQUIRE(ioas_stats(c, &after) == 0 && after.ioas == before.ioas);
	REQUIRE(ioas_batch_clear(b) == 0);
	for (unsigned i = 0; i < 256; i++)
		REQUIRE(ioas_batch_unmap(b, ioas, 0, UINT64_MAX) == (int)i);
	REQUIRE(ioas_batch_unmap(b, ioas, 0, UINT64_MAX) == -E2BIG);
	ioas_batch_free(b);
	ioas_client_free(c);
	return 0;
}

START_TEST(batch_all_or_nothing)
{
	ck_assert_int_eq(as_client(batch_atomic), 0);
}
END_TEST

/* Rule: when the connection goes, every request in flight completes with
 * an error (none is lost), and then polling says -ENOTCONN. */
/* More than one slice's worth (RPC_SLICE is 4096). */
#define BIG_IOAS 5000u

/* Rule: an unmap of a whole IOAS holding more than a slice runs in slices
 * but is one operation for the client: what it sent after it runs after
 * it (a map into the IOVA it freed succeeds), with every byte counted. */
static int unmap_all_in_slices(void *arg)
{
	struct ioas_completion done[2];
	struct ioas_client *c = NULL;
	struct ioas_whoami w;
	uint32_t ioas, mem;
	uint64_t id;

	(void)arg;
	REQUIRE(harness_connect(&d, "async", &c) == 0);
	REQUIRE(ioas_and_memory(c, 64 * KiB, &ioas, &mem) == 0);
	for (uint32_t i = 0; i < BIG_IOAS; i++) {
		uint64_t iova = 0x100000 + i * 4 * KiB;

		REQUIRE(ioas_map(c, ioas, mem, (i % 16) * 4 * KiB, 4 * KiB,
				 RW | IOAS_MAP_FIXED_IOVA, &iova) == 0);
	}
	REQUIRE(ioas_submit_unmap(c, ioas, 0, UINT64_MAX, NULL, &id) == 0);
	REQUIRE(ioas_submit_map(c, ioas, mem, 0, 4 * KiB, RW | IOAS_MAP_FIXED_IOVA,
				0x100000, NULL, &id) == 0);
	REQUIRE(collect(c, done, 2) == 0);
	REQUIRE(done[0].op == IOAS_OP_UNMAP && done[0].error == 0);
	REQUIRE(done[0].unmapped == BIG_IOAS * 4 * KiB);
	REQUIRE(done[1].op == IOAS_OP_MAP && done[1].error == 0 && done[1].iova == 0x100000);
	REQUIRE(ioas_whoami(c, &w) == 0);
	REQUIRE(w.mappings == 1);
	ioas_client_free(c);
	return 0;
}

START_TEST(async_unmap_all_in_slices)
{
	ck_assert_int_eq(as_client(unmap_all_in_slices), 0);
}
END_TEST

static int broken_mid_flight(void *arg)
{
	static struct ioas_completion done[8];
	struct ioas_client *c;
	uint32_t ioas;
	int n = 0, got = 0;

	(void)arg;
	REQUIRE(harness_connect(&d, "test-async", &c) == 0);
	REQUIRE(ioas_alloc(c, &ioas) == 0);
	for (unsigned i = 0; i < 4; i++)
		REQUIRE(ioas_submit_unmap(c, ioas, 0, UINT64_MAX, NULL, NULL) == 0);
	/* The connection goes under the library's feet. */
	REQUIRE(shutdown(ioas_client_fd(c), SHUT_RDWR) == 0);
	for (int tries = 0; tries < 100 && n >= 0; tries++) {
		n = ioas_client_poll_completions(c, done, 8);
		got += n > 0 ? n : 0;
	}
	REQUIRE(n == -ENOTCONN);
	REQUIRE(got == 4);
	REQUIRE(ioas_client_in_flight(c) == 0);
	REQUIRE(ioas_client_broken(c));
	REQUIRE(ioas_submit_unmap(c, ioas, 0, UINT64_MAX, NULL, NULL) == -ENOTCONN);
	ioas_client_free(c);
	return 0;
}

START_TEST(async_connection_lost)
{
	ck_assert_int_eq(as_client(broken_mid_flight), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("async");
	TCase *tc = tcase_create("async");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, async_many_in_flight);
	tcase_add_test(tc, async_in_flight_bound);
	tcase_add_test(tc, async_interleaved);
	tcase_add_test(tc, batch_run_and_submit);
	tcase_add_test(tc, batch_all_or_nothing);
	tcase_add_test(tc, async_connection_lost);
	tcase_add_test(tc, async_unmap_all_in_slices);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
