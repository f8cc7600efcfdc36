/* SPDX-License-Identifier: MIT */
/*
 * Sharing through a real daemon (sim by default): export, import by token
 * (IOMMU_IOAS_COPY in the daemon's one context), pin-once accounting, every
 * refusal with its errno, revocation and the ShareRevoked notification, the
 * exporter going away, an importer going away, and no fd left behind.
 *
 * Tenants are told apart by uid, so this needs root (CI runs as root);
 * without it the test says so and checks only the single-tenant refusals.
 */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "ioas.h"

#define MiB (UINT64_C(1) << 20)
#define ALPHA_UID 65534 /* exporter */
#define BETA_UID 1      /* importer */
#define GAMMA_UID 2     /* imports from alpha, but alpha does not export to it */

static struct harness_daemon d;
static char dir[PATH_MAX];
static bool root;

#define REQUIRE(cond) HARNESS_REQUIRE(cond)

static void setup(void)
{
	char tmpl[] = "/tmp/ioasd-shares.XXXXXX", pdir[PATH_MAX + 16];
	char path[PATH_MAX + 32], text[1024];
	const char *args[] = { "--backend", "sim", "--policy-dir", pdir, "-v",
			       NULL };
	FILE *f;

	root = geteuid() == 0;
	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	ck_assert_int_eq(chmod(tmpl, 0755), 0);
	snprintf(dir, sizeof(dir), "%s", tmpl);
	snprintf(pdir, sizeof(pdir), "%s/policy.d", dir);
	ck_assert_int_eq(mkdir(pdir, 0755), 0);
	/* alpha and beta are Admin=yes: they check daemon-wide pinned bytes. */
	snprintf(text, sizeof(text),
		 "[tenant alpha]\nMatchUser=%u\nExportTo=beta\nShareWrite=yes\n"
		 "MaxMappings=8\nAdmin=yes\n\n"
		 "[tenant beta]\nMatchUser=%u\nImportFrom=alpha\nMaxMappings=2\n"
		 "AllowedIOVA=0x100000-0x1fffffff\nAdmin=yes\n\n"
		 "[tenant gamma]\nMatchUser=%u\nImportFrom=alpha\n",
		 root ? ALPHA_UID : (unsigned)getuid(), BETA_UID, GAMMA_UID);
	snprintf(path, sizeof(path), "%s/50-shares.conf", pdir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
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

static int connect_client(struct ioas_client **c)
{
	return harness_connect(&d, "test-shares", c);
}

/* One IOAS with [0, 2 MiB) of a fresh memfd mapped writeable at *iova. */
static int mapped_ioas(struct ioas_client *c, uint32_t *ioas, uint64_t *iova)
{
	return harness_mapped_ioas(c, "shares", 2 * MiB, ioas, iova);
}

/* Wait (bounded) for a notification. */
static int wait_note(struct ioas_client *c, struct ioas_notification *n)
{
	for (int i = 0; i < 200; i++) {
		if (ioas_next_notification(c, n) == 0)
			return 0;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

/* --- the single-tenant rules (no second uid needed) ------------------- */

static int alpha_alone(void *arg)
{
	struct ioas_client *c;
	char token[IOAS_SHARE_TOKEN_LEN + 1], token2[IOAS_SHARE_TOKEN_LEN + 1];
	struct ioas_share_list *l = NULL;
	struct ioas_stats st;
	uint32_t ioas, share, share2, imp, ioas2;
	uint64_t iova = 0, iova2 = 0, len, cp = 0;

	(void)arg;
	REQUIRE(connect_client(&c) == 0);
	REQUIRE(mapped_ioas(c, &ioas, &iova) == 0);
	/* Rule: the range must be covered by the exporter's mappings. */
	REQUIRE(ioas_share_export(c, ioas, iova + 2 * MiB, MiB, false, &share, token) == -ENOENT);
	REQUIRE(ioas_share_export(c, ioas, iova, 2 * MiB, true, &share, token) == 0);
	REQUIRE(strlen(token) == IOAS_SHARE_TOKEN_LEN);
	REQUIRE(ioas_share_export(c, ioas, iova, MiB, false, &share2, token2) == 0);
	REQUIRE(strcmp(token, token2) != 0);
	/* Rule: an unknown token is EKEYREJECTED. */
	REQUIRE(ioas_alloc(c, &ioas2) == 0);
	REQUIRE(ioas_share_import(c, "00000000000000000000000000000000", ioas2, 0,
				  0, 0, &iova2, &imp, &len) == -EKEYREJECTED);
	/* Rule: own shares may be imported (a Copy it could do anyway). */
	REQUIRE(ioas_share_import(c, token2, ioas2, 0, 0, 0, &iova2, &imp, &len) == 0);
	REQUIRE(len == MiB);
	/* Rule: imported pages cannot be exported again or copied on. */
	REQUIRE(ioas_share_export(c, ioas2, iova2, MiB, false, &share, token2) == -EPERM);
	REQUIRE(ioas_copy(c, ioas, ioas2, IOAS_MAP_READABLE, iova2, MiB, &cp) == -EPERM);
	/* ... after the kernel's own checks: an unknown destination IOAS is
	 * ENOENT (iommufd_ioas_copy looks it up before mapping anything). */
	REQUIRE(ioas_copy(c, ioas2 + 10, ioas2, IOAS_MAP_READABLE, iova2, MiB, &cp) == -ENOENT);
	REQUIRE(ioas_stats(c, &st) == 0);
	REQUIRE(st.pinned_bytes == 2 * MiB); /* pinned once */
	REQUIRE(st.mappings == 2);
	REQUIRE(ioas_share_list(c, &l) == 0);
	REQUIRE(l->n_shares == 2 && l->n_imports == 1 && l->n_importers == 1);
	l = ioas_share_list_free(l);
	/* Rule: the exporter unmapping its source revokes every import. */
	REQUIRE(ioas_unmap(c, ioas, iova, 2 * MiB, &len) == 0);
	REQUIRE(ioas_stats(c, &st) == 0);
	REQUIRE(st.pinned_bytes == 0 && st.mappings == 0);
	REQUIRE(ioas_share_list(c, &l) == 0);
	REQUIRE(l->n_shares == 0 && l->n_imports == 0);
	l = ioas_share_list_free(l);
	ioas_client_free(c);
	return 0;
}

START_TEST(export_rules_single_tenant)
{
	int base = harness_fd_count_settled(d.pid, 2000);

	ck_assert_int_eq(harness_run_client_as(root ? ALPHA_UID : getuid(),
					       root ? ALPHA_UID : getgid(),
					       alpha_alone, NULL), 0);
	ck_assert_int_eq(harness_wait_fd_count(d.pid, base, 2000), base);
}
END_TEST

/* A refused Unmap changes nothing: it revokes no share either. */
static int alpha_refused_unmap(void *arg)
{
	char token[IOAS_SHARE_TOKEN_LEN + 1];
	struct ioas_client *c;
	struct ioas_stats st;
	uint32_t ioas, ioas2, mem, share, imp;
	uint64_t iova = 0, iova2 = 0, len;
	int fd = -1;

	(void)arg;
	REQUIRE(connect_client(&c) == 0);
	REQUIRE(ioas_memfd_create("unmap", 2 * MiB, &fd) == 0);
	REQUIRE(ioas_alloc(c, &ioas) == 0 && ioas_alloc(c, &ioas2) == 0);
	REQUIRE(ioas_memory_register(c, fd, 0, 2 * MiB, &mem, NULL) == 0);
	close(fd);
	REQUIRE(ioas_map(c, ioas, mem, 0, 2 * MiB,
			 IOAS_MAP_READABLE | IOAS_MAP_FIXED_IOVA, &iova) == 0);
	REQUIRE(ioas_share_export(c, ioas, 0, 2 * MiB, false, &share, token) == 0);
	REQUIRE(ioas_share_import(c, token, ioas2, 0, 0, 0, &iova2, &imp, &len) == 0);
	/* Length 0, a wrap, a split: each refused, the import still there. */
	REQUIRE(ioas_unmap(c, ioas, 0x1000, 0, &len) == -EINVAL);
	REQUIRE(ioas_unmap(c, ioas, 0x1000, UINT64_MAX - 0x10, &len) == -EOVERFLOW);
	REQUIRE(ioas_unmap(c, ioas, 0, MiB, &len) == -ENOENT);
	REQUIRE(ioas_stats(c, &st) == 0);
	REQUIRE(st.mappings == 2);
	REQUIRE(ioas_unmap(c, ioas2, iova2, 2 * MiB, &len) == 0 && len == 2 * MiB);
	ioas_client_free(c);
	return 0;
}

START_TEST(refused_unmap_revokes_nothing)
{
	ck_assert_int_eq(harness_run_client_as(root ? ALPHA_UID : getuid(),
					       root ? ALPHA_UID : getgid(),
					       alpha_refused_unmap, NULL), 0);
}
END_TEST

/* --- two tenants ------------------------------------------------------- */

struct shared {
	int to_parent[2], to_alpha[2];
	char rw[IOAS_SHARE_TOKEN_LEN + 1], ro[IOAS_SHARE_TOKEN_LEN + 1];
};

static int alpha_exports(void *arg)
{
	struct shared *p = arg;
	struct ioas_client *c;
	struct ioas_share_list *l = NULL;
	struct ioas_stats st;
	uint32_t ioas, rw, ro;
	uint64_t iova = 0;
	char byte = 0;

	REQUIRE(connect_client(&c) == 0);
	REQUIRE(mapped_ioas(c, &ioas, &iova) == 0);
	REQUIRE(ioas_share_export(c, ioas, iova, 2 * MiB, true, &rw, p->rw) == 0);
	REQUIRE(ioas_share_export(c, ioas, iova, 2 * MiB, false, &ro, p->ro) == 0);
	REQUIRE(write(p->to_parent[1], p->rw, sizeof(p->rw)) == sizeof(p->rw));
	REQUIRE(write(p->to_parent[1], p->ro, sizeof(p->ro)) == sizeof(p->ro));
	/* Step 1: an importer came and went: the export is intact. */
	REQUIRE(read(p->to_alpha[0], &byte, 1) == 1);
	REQUIRE(ioas_share_list(c, &l) == 0);
	REQUIRE(l->n_shares == 2 && l->n_importers == 0);
	l = ioas_share_list_free(l);
	REQUIRE(write(p->to_parent[1], &byte, 1) == 1);
	/* Step 2: beta imported both; pinned bytes are still ours, once. */
	REQUIRE(read(p->to_alpha[0], &byte, 1) == 1);
	REQUIRE(ioas_stats(c, &st) == 0);
	REQUIRE(st.pinned_bytes == 2 * MiB);
	REQUIRE(st.daemon_wide && st.total_pinned_bytes == 2 * MiB);
	REQUIRE(ioas_share_list(c, &l) == 0);
	REQUIRE(l->n_importers == 2);
	REQUIRE(strcmp(l->importers[0].tenant, "beta") == 0);
	l = ioas_share_list_free(l);
	REQUIRE(ioas_share_revoke(c, rw) == 0);
	REQUIRE(ioas_share_revoke(c, rw) == -ENOENT);
	REQUIRE(write(p->to_parent[1], &byte, 1) == 1);
	/* Step 3: go away; beta's other import goes with us. */
	REQUIRE(read(p->to_alpha[0], &byte, 1) == 1);
	ioas_client_free(c);
	return 0;
}

static int gamma_refused(void *arg)
{
	struct shared *p = arg;
	struct ioas_client *c;
	uint32_t ioas, imp;
	uint64_t iova = 0;

	REQUIRE(connect_client(&c) == 0);
	REQUIRE(ioas_alloc(c, &ioas) == 0);
	/* Rule: both ExportTo and ImportFrom must agree, else EACCES. */
	REQUIRE(ioas_share_import(c, p->ro, ioas, 0, 0, 0, &iova, &imp, NULL) == -EACCES);
	REQUIRE(strstr(ioas_client_last_error(c), "ExportTo") != NULL);
	REQUIRE(strstr(ioas_client_last_error(c), "ImportFrom") != NULL);
	ioas_client_free(c);
	return 0;
}

static int beta_comes_and_goes(void *arg)
{
	struct shared *p = arg;
	struct ioas_client *c;
	uint32_t ioas, imp;
	uint64_t iova = 0;

	REQUIRE(connect_client(&c) == 0);
	REQUIRE(ioas_alloc(c, &ioas) == 0);
	REQUIRE(ioas_share_import(c, p->ro, ioas, 0, 0, 0, &iova, &imp, NULL) == 0);
	ioas_client_free(c); /* the tenant is released with its connection */
	return 0;
}

static int beta_imports(void *arg)
{
	struct shared *p = arg;
	struct ioas_client *c;
	struct ioas_notification n;
	struct ioas_stats st;
	uint32_t ioas, imp_rw, imp_ro, imp;
	uint64_t iova = 0, len;
	char byte = 0;

	REQUIRE(connect_client(&c) == 0);
	REQUIRE(ioas_alloc(c, &ioas) == 0);
	/* Rule: a writeable import of a read-only share is EPERM. */
	REQUIRE(ioas_share_import(c, p->ro, ioas, IOAS_MAP_WRITEABLE, 0, 0, &iova, &imp, NULL) == -EPERM);
	/* Rule: a range outside the share is ERANGE. */
	REQUIRE(ioas_share_import(c, p->ro, ioas, 0, MiB, 2 * MiB, &iova, &imp, NULL) == -ERANGE);
	/* Rule: a fixed IOVA stays inside AllowedIOVA, as for Map. */
	iova = 0x40000000;
	REQUIRE(ioas_share_import(c, p->ro, ioas, IOAS_MAP_FIXED_IOVA, 0, 0, &iova, &imp, NULL) == -EPERM);
	iova = 0x200000;
	REQUIRE(ioas_share_import(c, p->rw, ioas, IOAS_MAP_WRITEABLE | IOAS_MAP_FIXED_IOVA,
				  0, 0, &iova, &imp_rw, &len) == 0);
	REQUIRE(iova == 0x200000 && len == 2 * MiB);
	REQUIRE(ioas_share_import(c, p->ro, ioas, 0, MiB, 0, &iova, &imp_ro, &len) == 0);
	REQUIRE(len == MiB);
	/* Rule: the importer's MaxMappings counts imports (2 in use of 2). */
	REQUIRE(ioas_share_import(c, p->ro, ioas, 0, 0, 0, &iova, &imp, NULL) == -ENOSPC);
	/* Rule: importers are charged mappings, never pinned bytes. */
	REQUIRE(ioas_stats(c, &st) == 0);
	REQUIRE(st.pinned_bytes == 0 && st.mappings == 2);
	REQUIRE(write(p->to_alpha[1], &byte, 1) == 1);
	REQUIRE(read(p->to_parent[0], &byte, 1) == 1);
	/* Rule: revoking unmaps the import and tells the importer. */
	REQUIRE(wait_note(c, &n) == 0);
	REQUIRE(n.kind == IOAS_NOTIFY_SHARE_REVOKED && n.import == imp_rw);
	REQUIRE(n.ioas == ioas && n.iova == 0x200000 && n.length == 2 * MiB);
	REQUIRE(strcmp(n.reason, "revoked") == 0 && strcmp(n.exporter, "alpha") == 0);
	REQUIRE(ioas_unmap(c, ioas, 0x200000, 2 * MiB, &len) == -ENOENT);
	REQUIRE(ioas_stats(c, &st) == 0);
	REQUIRE(st.mappings == 1);
	/* Rule: the exporter going away revokes the rest. */
	REQUIRE(write(p->to_alpha[1], &byte, 1) == 1);
	REQUIRE(wait_note(c, &n) == 0);
	REQUIRE(n.import == imp_ro && strcmp(n.reason, "exporter-gone") == 0);
	REQUIRE(ioas_stats(c, &st) == 0);
	REQUIRE(st.mappings == 0 && st.daemon_wide && st.total_pinned_bytes == 0);
	REQUIRE(ioas_next_notification(c, &n) == -EAGAIN);
	ioas_client_free(c);
	return 0;
}

START_TEST(two_tenants_share_and_revoke)
{
	struct shared p;
	int base, status;
	pid_t pid;
	char byte = 0;

	if (!root) {
		fprintf(stderr, "test-shares: not root: the two-tenant case is skipped\n");
		return;
	}
	base = harness_fd_count_settled(d.pid, 2000);
	ck_assert_int_eq(pipe(p.to_parent), 0);
	ck_assert_int_eq(pipe(p.to_alpha), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(harness_run_client_as(ALPHA_UID, ALPHA_UID, alpha_exports, &p) == 0 ? 0 : 1);
	ck_assert_int_eq(read(p.to_parent[0], p.rw, sizeof(p.rw)), (int)sizeof(p.rw));
	ck_assert_int_eq(read(p.to_parent[0], p.ro, sizeof(p.ro)), (int)sizeof(p.ro));
	ck_assert_int_eq(harness_run_client_as(GAMMA_UID, GAMMA_UID, gamma_refused, &p), 0);
	ck_assert_int_eq(harness_run_client_as(BETA_UID, BETA_UID, beta_comes_and_goes, &p), 0);
	/* Beta's release is processed before alpha's next request (the
	 * daemon has one event loop), but let it see the hang-up first. */
	usleep(100000);
	ck_assert_int_eq(write(p.to_alpha[1], &byte, 1), 1);
	ck_assert_int_eq(read(p.to_parent[0], &byte, 1), 1);
	ck_assert_int_eq(harness_run_client_as(BETA_UID, BETA_UID, beta_imports, &p), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(harness_wait_fd_count(d.pid, base, 2000), base);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("shares");
	TCase *tc = tcase_create("shares");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, export_rules_single_tenant);
	tcase_add_test(tc, refused_unmap_revokes_nothing);
	tcase_add_test(tc, two_tenants_share_and_revoke);
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
