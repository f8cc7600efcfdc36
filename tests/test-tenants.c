/* SPDX-License-Identifier: MIT */
/*
 * Tenants and policy through a real daemon (sim backend, or the one
 * IOASD_TEST_BACKEND names: see tests/harness.h): resolution from
 * kernel credentials, every limit at its boundary, AllowedIOVA enforced on
 * fixed maps (which the kernel would accept), HugePages and Access, two
 * tenants side by side, who sees daemon-wide Stats (Admin=, root), reload
 * good and bad, the audit trail, and --check-policy.
 *
 * Tenants are told apart by uid, so the cases with two tenants need root
 * (CI runs as root); without it they say so and check what they can.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "ioas.h"

#define MiB (UINT64_C(1) << 20)
#define ALPHA_UID 65534 /* nobody */
#define BETA_UID 1      /* daemon */
#define STRANGER_UID 2  /* bin: matches no section */
#define OPERATOR_UID 3  /* sys: tenant "operator", Admin= */

static struct harness_daemon d;
static char policy_dir[PATH_MAX], audit_path[PATH_MAX];
static bool root;

/* In a client child: fail with the line number. */
#define REQUIRE(cond) HARNESS_REQUIRE(cond)

static uid_t alpha_uid(void)
{
	return root ? ALPHA_UID : getuid();
}

static void write_policy(const char *name, const char *text)
{
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", policy_dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static void write_base_policy(unsigned max_ioas)
{
	char text[2048];

	snprintf(text, sizeof(text),
		 "[tenant alpha]\n"
		 "MatchUser=%u\n"
		 "MaxIOAS=%u\n"
		 "MaxPinnedBytes=2M\n"
		 "MaxMappings=3\n"
		 "MaxMemoryRegions=2\n"
		 "MaxConnections=2\n"
		 "AllowedIOVA=0x100000-0x1fffffff\n"
		 "HugePages=no\n"
		 "\n"
		 "[tenant beta]\n"
		 "MatchUser=%u\n"
		 "Access=read\n"
		 "MaxIOAS=1\n",
		 (unsigned)alpha_uid(), max_ioas, BETA_UID);
	write_policy("50-test.conf", text);
}

/* An administrator, and root's own tenant, which leaves Admin= out: uid 0
 * sees the daemon-wide figures anyway. */
static void write_operator_policy(bool admin)
{
	char text[256];

	snprintf(text, sizeof(text),
		 "[tenant operator]\nMatchUser=%u\nAdmin=%s\n\n"
		 "[tenant root]\nMatchUser=0\n",
		 OPERATOR_UID, admin ? "yes" : "no");
	write_policy("60-operator.conf", text);
}

static void setup(void)
{
	char tmpl[] = "/tmp/ioasd-tenants.XXXXXX";
	const char *args[] = { "--backend", "sim", "--policy-dir", policy_dir,
			       "--audit-log", audit_path, "--pool-size", "2",
			       "-v", NULL };

	root = geteuid() == 0;
	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	ck_assert_int_eq(chmod(tmpl, 0755), 0);
	snprintf(policy_dir, sizeof(policy_dir), "%s/policy.d", tmpl);
	snprintf(audit_path, sizeof(audit_path), "%s/audit.jsonl", tmpl);
	ck_assert_int_eq(mkdir(policy_dir, 0755), 0);
	write_base_policy(2);
	write_operator_policy(true);
	ck_assert_int_eq(harness_daemon_start(&d, args), 0);
}

static void teardown(void)
{
	char cmd[PATH_MAX * 2];

	ck_assert_int_eq(harness_daemon_stop(&d), 0);
	char *slash;

	/* The mkdtemp directory holds policy.d and the audit log. */
	slash = strrchr(policy_dir, '/');
	*slash = '\0';
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", policy_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", policy_dir);
}

static int connect_client(struct ioas_client **c)
{
	return harness_connect(&d, "test-tenants", c);
}

static int sealed(uint64_t size)
{
	int fd = -1;

	if (ioas_memfd_create("tenants", size, &fd) < 0)
		return -1;
	return fd;
}

static bool last_error_has(struct ioas_client *c, const char *needle)
{
	const char *m = ioas_client_last_error(c);

	if (!strstr(m, needle)) {
		fprintf(stderr, "last error \"%s\" lacks \"%s\"\n", m, needle);
		return false;
	}
	return true;
}

/* --------------------------------------------------------- alpha's limits */

static int alpha_limits(void *arg)
{
	struct ioas_client *c;
	uint32_t io1, io2, io3, m1, m2, m3;
	uint64_t iova;
	int fd1 = sealed(2 * MiB), fd2 = sealed(2 * MiB), fd3 = sealed(MiB);

	REQUIRE(connect_client(&c) == 0);
	/* MaxIOAS=2 */
	REQUIRE(ioas_alloc(c, &io1) == 0);
	REQUIRE(ioas_alloc(c, &io2) == 0);
	REQUIRE(ioas_alloc(c, &io3) == -ENOSPC);
	REQUIRE(last_error_has(c, "MaxIOAS"));
	REQUIRE(last_error_has(c, "50-test.conf:3"));
	/* MaxMemoryRegions=2 */
	REQUIRE(ioas_memory_register(c, fd1, 0, 2 * MiB, &m1, NULL) == 0);
	REQUIRE(ioas_memory_register(c, fd2, 0, 2 * MiB, &m2, NULL) == 0);
	REQUIRE(ioas_memory_register(c, fd3, 0, MiB, &m3, NULL) == -ENOSPC);
	REQUIRE(last_error_has(c, "MaxMemoryRegions"));
	/* MaxPinnedBytes=2M: exactly 2 MiB is fine, one more page is not. */
	iova = 0x100000;
	REQUIRE(ioas_map(c, io1, m1, 0, 2 * MiB,
			 IOAS_MAP_FIXED_IOVA | IOAS_MAP_READABLE | IOAS_MAP_WRITEABLE,
			 &iova) == 0);
	iova = 0;
	REQUIRE(ioas_map(c, io1, m2, 0, 4096, IOAS_MAP_READABLE, &iova) == -EDQUOT);
	REQUIRE(last_error_has(c, "MaxPinnedBytes"));
	/* Mapping the same bytes again pins nothing new. */
	iova = 0;
	REQUIRE(ioas_map(c, io2, m1, 0, 2 * MiB, IOAS_MAP_READABLE, &iova) == 0);
	/* An automatic IOVA stays inside AllowedIOVA (ALLOW_IOVAS applied). */
	REQUIRE(iova >= 0x100000 && iova + 2 * MiB - 1 <= 0x1fffffff);
	/* MaxMappings=3 */
	iova = 0;
	REQUIRE(ioas_map(c, io2, m1, 0, MiB, IOAS_MAP_READABLE, &iova) == 0);
	iova = 0;
	REQUIRE(ioas_map(c, io2, m1, 0, MiB, IOAS_MAP_READABLE, &iova) == -ENOSPC);
	REQUIRE(last_error_has(c, "MaxMappings"));
	close(fd1);
	close(fd2);
	close(fd3);
	ioas_client_free(c);
	return 0;
}

START_TEST(limits_at_their_boundary)
{
	ck_assert_int_eq(harness_run_client_as(alpha_uid(), alpha_uid(), alpha_limits, NULL), 0);
}
END_TEST

/* ---------------------------------------------------- allowed IOVA, hugepages */

static int alpha_iova_policy(void *arg)
{
	struct ioas_client *c;
	struct ioas_iova_range inside = { 0x200000, 0x2fffff };
	struct ioas_iova_range wider = { 0x0, 0x2fffff };
	struct ioas_iova_range bad_then_wider[2] = { { 0x300000, 0x300000 },
						     { 0x0, 0xfffff } };
	struct ioas_iova_range overlap_and_wider[2] = { { 0x200000, 0x2fffff },
							{ 0x280000, 0x40000000 } };
	uint32_t io, m;
	uint64_t iova;
	bool v = true;
	int fd = sealed(MiB);

	REQUIRE(connect_client(&c) == 0);
	REQUIRE(ioas_alloc(c, &io) == 0);
	REQUIRE(ioas_memory_register(c, fd, 0, MiB, &m, NULL) == 0);
	/* The kernel would map a fixed IOVA outside ALLOW_IOVAS; we do not. */
	iova = 0x20000000;
	REQUIRE(ioas_map(c, io, m, 0, MiB, IOAS_MAP_FIXED_IOVA | IOAS_MAP_READABLE,
			 &iova) == -EPERM);
	REQUIRE(last_error_has(c, "AllowedIOVA"));
	REQUIRE(last_error_has(c, "50-test.conf:8"));
	/* Straddling the end of the range is outside too. */
	iova = 0x1ff00000 + MiB / 2;
	REQUIRE(ioas_map(c, io, m, 0, MiB, IOAS_MAP_FIXED_IOVA | IOAS_MAP_READABLE,
			 &iova) == -EPERM);
	iova = 0x1ff00000;
	REQUIRE(ioas_map(c, io, m, 0, MiB, IOAS_MAP_FIXED_IOVA | IOAS_MAP_READABLE,
			 &iova) == 0);
	/* A fixed range that wraps past the top is the kernel's to refuse,
	 * with its errno (EOVERFLOW), not "outside AllowedIOVA". */
	iova = UINT64_C(0xfffffffffff80000);
	REQUIRE(ioas_map(c, io, m, 0, MiB, IOAS_MAP_FIXED_IOVA | IOAS_MAP_READABLE,
			 &iova) == -EOVERFLOW);
	/* Narrowing is allowed, widening and clearing are not. */
	REQUIRE(ioas_allow_iovas(c, io, &inside, 1) == 0);
	REQUIRE(ioas_allow_iovas(c, io, &wider, 1) == -EPERM);
	REQUIRE(ioas_allow_iovas(c, io, NULL, 0) == -EPERM);
	/* The kernel's own refusals of the list (start not below last, an
	 * overlap) come before the policy's, as in IOMMU_IOAS_ALLOW_IOVAS. */
	REQUIRE(ioas_allow_iovas(c, io, bad_then_wider, 2) == -EINVAL);
	REQUIRE(ioas_allow_iovas(c, io, overlap_and_wider, 2) == -EINVAL);
	/* A copy to a fixed IOVA outside is refused the same way. */
	iova = 0x40000000;
	REQUIRE(ioas_copy(c, io, io, IOAS_MAP_FIXED_IOVA | IOAS_MAP_READABLE,
			  0x1ff00000, MiB, &iova) == -EPERM);
	iova = UINT64_C(0xfffffffffff80000);
	REQUIRE(ioas_copy(c, io, io, IOAS_MAP_FIXED_IOVA | IOAS_MAP_READABLE,
			  0x1ff00000, MiB, &iova) == -EOVERFLOW);
	/* HugePages=no: applied, and cannot be turned back on. */
	REQUIRE(ioas_huge_pages_get(c, io, &v) == 0);
	REQUIRE(!v);
	REQUIRE(ioas_huge_pages_set(c, io, true) == -EPERM);
	REQUIRE(last_error_has(c, "HugePages"));
	REQUIRE(ioas_huge_pages_set(c, io, false) == 0);
	close(fd);
	ioas_client_free(c);
	return 0;
}

START_TEST(allowed_iova_and_huge_pages)
{
	ck_assert_int_eq(harness_run_client_as(alpha_uid(), alpha_uid(), alpha_iova_policy, NULL), 0);
}
END_TEST

/* --------------------------------------------------------- connections */

static int alpha_connections(void *arg)
{
	struct ioas_client *a, *b, *c;
	struct ioas_whoami w;
	uint32_t io;
	char err[256] = "";

	REQUIRE(connect_client(&a) == 0);
	REQUIRE(connect_client(&b) == 0);
	/* One tenant: both connections name the same objects. */
	REQUIRE(ioas_alloc(a, &io) == 0);
	REQUIRE(ioas_destroy(b, io) == 0);
	REQUIRE(ioas_whoami(b, &w) == 0);
	REQUIRE(strcmp(w.tenant, "alpha") == 0);
	REQUIRE(w.connections == 2);
	REQUIRE(w.max_connections == 2);
	REQUIRE(w.n_allowed_iova == 1 && w.allowed_iova[0].start == 0x100000);
	REQUIRE(!w.huge_pages && w.writeable);
	REQUIRE(strstr(w.policy_source, "50-test.conf:1") != NULL);
	/* MaxConnections=2 */
	REQUIRE(ioas_client_connect(d.socket, "third", &c, err, sizeof(err)) == -EUSERS);
	REQUIRE(strstr(err, "MaxConnections") != NULL);
	ioas_client_free(a);
	ioas_client_free(b);
	return 0;
}

START_TEST(connections_share_one_tenant)
{
	ck_assert_int_eq(harness_run_client_as(alpha_uid(), alpha_uid(), alpha_connections, NULL), 0);
}
END_TEST

/* --------------------------------------------------------- two tenants */

static int stranger(void *arg)
{
	struct ioas_client *c;
	char err[256] = "";

	REQUIRE(ioas_client_connect(d.socket, "stranger", &c, err, sizeof(err)) == -EACCES);
	REQUIRE(strstr(err, "no policy tenant matches uid 2") != NULL);
	return 0;
}

struct pair {
	int to_beta[2], to_alpha[2];
};

/* alpha holds IOAS handles 1 and 2 while beta looks for them. */
static int alpha_holds(void *arg)
{
	struct pair *p = arg;
	struct ioas_client *c;
	uint32_t a1, a2;
	char byte = 0;

	REQUIRE(connect_client(&c) == 0);
	REQUIRE(ioas_alloc(c, &a1) == 0);
	REQUIRE(ioas_alloc(c, &a2) == 0);
	REQUIRE(a2 == 2);
	REQUIRE(write(p->to_beta[1], &byte, 1) == 1);
	REQUIRE(read(p->to_alpha[0], &byte, 1) == 1);
	/* Beta's work did not touch ours. */
	REQUIRE(ioas_destroy(c, a2) == 0);
	ioas_client_free(c);
	return 0;
}

static int beta_looks(void *arg)
{
	struct pair *p = arg;
	struct ioas_client *c;
	uint32_t b1, m;
	uint64_t iova = 0;
	char byte;
	int fd = sealed(MiB);

	REQUIRE(read(p->to_beta[0], &byte, 1) == 1);
	REQUIRE(connect_client(&c) == 0);
	REQUIRE(ioas_alloc(c, &b1) == 0);
	REQUIRE(b1 == 1); /* its own numbering */
	REQUIRE(ioas_destroy(c, 2) == -ENOENT); /* alpha's 2 is not beta's */
	REQUIRE(ioas_memory_register(c, fd, 0, MiB, &m, NULL) == 0);
	/* Access=read */
	REQUIRE(ioas_map(c, b1, m, 0, MiB, IOAS_MAP_READABLE | IOAS_MAP_WRITEABLE,
			 &iova) == -EPERM);
	REQUIRE(last_error_has(c, "Access=read"));
	REQUIRE(ioas_map(c, b1, m, 0, MiB, IOAS_MAP_READABLE, &iova) == 0);
	/* MaxIOAS=1 is beta's own limit. */
	REQUIRE(ioas_alloc(c, &b1) == -ENOSPC);
	REQUIRE(write(p->to_alpha[1], &byte, 1) == 1);
	close(fd);
	ioas_client_free(c);
	return 0;
}

static int run_alpha(void *arg)
{
	return alpha_holds(arg);
}

START_TEST(two_tenants_side_by_side)
{
	struct pair p;
	pid_t pid;
	int status;

	if (!root) {
		printf("NOTICE: two_tenants_side_by_side needs root to be two uids; "
		       "checked only the unmatched-peer refusal as ourselves\n");
		return;
	}
	ck_assert_int_eq(harness_run_client_as(STRANGER_UID, STRANGER_UID, stranger, NULL), 0);
	ck_assert_int_eq(pipe(p.to_beta), 0);
	ck_assert_int_eq(pipe(p.to_alpha), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(harness_run_client_as(ALPHA_UID, ALPHA_UID, run_alpha, &p) == 0 ? 0 : 1);
	ck_assert_int_eq(harness_run_client_as(BETA_UID, BETA_UID, beta_looks, &p), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

/* --------------------------------------------------------- stats */

struct holding {
	int ready[2], go[2];
};

/* alpha pins 1 MiB in one IOAS and keeps it while the others look. */
static int alpha_pins(void *arg)
{
	struct holding *h = arg;
	struct ioas_client *c;
	struct ioas_stats st;
	uint32_t io, m;
	uint64_t iova = 0;
	char byte = 0;
	int fd = sealed(MiB);

	REQUIRE(connect_client(&c) == 0);
	REQUIRE(ioas_alloc(c, &io) == 0);
	REQUIRE(ioas_memory_register(c, fd, 0, MiB, &m, NULL) == 0);
	REQUIRE(ioas_map(c, io, m, 0, MiB, IOAS_MAP_READABLE, &iova) == 0);
	/* Its own figures, and (Admin= not set) nothing daemon-wide. */
	REQUIRE(ioas_stats(c, &st) == 0);
	REQUIRE(st.ioas == 1 && st.mappings == 1 && st.pinned_bytes == MiB);
	REQUIRE(!st.daemon_wide);
	REQUIRE(st.total_pinned_bytes == 0 && st.total_ioas == 0);
	REQUIRE(write(h->ready[1], &byte, 1) == 1);
	REQUIRE(read(h->go[0], &byte, 1) == 1);
	close(fd);
	ioas_client_free(c);
	return 0;
}

/* While alpha holds its MiB, a client that pins nothing itself sees the
 * daemon-wide figures (alpha's MiB and IOAS among them) exactly when
 * *arg, and otherwise none of them. */
static int stats_daemon_wide(void *arg)
{
	bool want = *(const bool *)arg;
	struct ioas_client *c;
	struct ioas_stats st;
	struct ioas_whoami w;

	REQUIRE(connect_client(&c) == 0);
	REQUIRE(ioas_stats(c, &st) == 0);
	REQUIRE(ioas_whoami(c, &w) == 0);
	ioas_client_free(c);
	REQUIRE(st.ioas == 0 && st.pinned_bytes == 0);
	if (!want) {
		/* Not alpha's pinned bytes, nor how many of anything. */
		REQUIRE(st.total_pinned_bytes == 0 && st.total_ioas == 0);
		REQUIRE(st.connections == 0 && st.tenants == 0);
		REQUIRE(st.pool_size == 0 && st.pool_idle == 0);
	} else {
		REQUIRE(st.total_pinned_bytes == MiB && st.total_ioas == 1);
		REQUIRE(st.connections >= 2 && st.tenants >= 2);
		REQUIRE(st.pool_size == 2);
	}
	REQUIRE(st.daemon_wide == want);
	REQUIRE(w.daemon_wide_stats == want);
	return 0;
}

/* uid 0: in the test process itself (the harness only drops to others). */
static bool see(uid_t uid, bool want)
{
	if (uid == 0)
		return stats_daemon_wide(&want) == 0;
	return harness_run_client_as(uid, uid, stats_daemon_wide, &want) == 0;
}

static int whoami_daemon_wide(void *arg)
{
	struct ioas_client *c;
	struct ioas_whoami w;

	REQUIRE(connect_client(&c) == 0);
	REQUIRE(ioas_whoami(c, &w) == 0);
	ioas_client_free(c);
	return w.daemon_wide_stats;
}

START_TEST(stats_daemon_wide_for_admins_only)
{
	struct holding h;
	pid_t pid;
	int status, got = -1;
	char byte = 0;

	ck_assert_int_eq(pipe(h.ready), 0);
	ck_assert_int_eq(pipe(h.go), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(harness_run_client_as(alpha_uid(), alpha_uid(), alpha_pins, &h) == 0 ? 0 : 1);
	/* Only alpha writes "ready": if it fails, the read sees the end. */
	close(h.ready[1]);
	close(h.go[0]);
	ck_assert_int_eq(read(h.ready[0], &byte, 1), 1);
	if (root) {
		/* beta does not see alpha's pinned bytes. */
		ck_assert(see(BETA_UID, false));
		/* The Admin=yes tenant does, and root does. */
		ck_assert(see(OPERATOR_UID, true));
		ck_assert(see(0, true));
		/* A reload that takes Admin= away applies to new requests. */
		write_operator_policy(false);
		ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
		for (int i = 0; i < 100 && got != 0; i++) {
			got = harness_run_client_as(OPERATOR_UID, OPERATOR_UID,
						    whoami_daemon_wide, NULL);
			if (got != 0)
				usleep(20000);
		}
		ck_assert_int_eq(got, 0);
		ck_assert(see(OPERATOR_UID, false));
		ck_assert(see(0, true));
	} else {
		printf("NOTICE: stats_daemon_wide_for_admins_only needs root for "
		       "other uids; checked only alpha's own view\n");
	}
	ck_assert_int_eq(write(h.go[1], &byte, 1), 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(h.ready[0]);
	close(h.go[1]);
}
END_TEST

/* --------------------------------------------------------- reload */

static int whoami_max_ioas(void *arg)
{
	struct ioas_client *c;
	struct ioas_whoami w;

	REQUIRE(connect_client(&c) == 0);
	REQUIRE(ioas_whoami(c, &w) == 0);
	ioas_client_free(c);
	return (int)w.max_ioas;
}

/* Wait until a fresh client sees max_ioas == want (the reload is async). */
static int wait_max_ioas(int want)
{
	int got = -1;

	for (int i = 0; i < 100; i++) {
		got = harness_run_client_as(alpha_uid(), alpha_uid(), whoami_max_ioas, NULL);
		if (got == want)
			break;
		usleep(20000);
	}
	return got;
}

struct orphan {
	int ready[2], go[2];
};

static int alpha_orphaned(void *arg)
{
	struct orphan *o = arg;
	struct ioas_client *c;
	struct ioas_whoami w;
	uint32_t io, io2;
	char byte = 0;

	REQUIRE(connect_client(&c) == 0);
	REQUIRE(ioas_alloc(c, &io) == 0);
	REQUIRE(write(o->ready[1], &byte, 1) == 1);
	REQUIRE(read(o->go[0], &byte, 1) == 1);
	/* Section removed: no new work, release still fine. */
	for (int i = 0; i < 100; i++) {
		REQUIRE(ioas_whoami(c, &w) == 0);
		if (w.orphaned)
			break;
		usleep(20000);
	}
	REQUIRE(w.orphaned);
	REQUIRE(ioas_alloc(c, &io2) == -EACCES);
	REQUIRE(last_error_has(c, "no longer in the policy"));
	REQUIRE(ioas_destroy(c, io) == 0);
	ioas_client_free(c);
	return 0;
}

START_TEST(reload_good_bad_and_removed)
{
	struct orphan o;
	pid_t pid;
	int status;

	ck_assert_int_eq(wait_max_ioas(2), 2);
	/* A good change applies to new work. */
	write_base_policy(3);
	ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
	ck_assert_int_eq(wait_max_ioas(3), 3);
	/* A bad file keeps the old policy whole. */
	write_policy("60-bad.conf", "[tenant broken]\nMatchUser=0\nMaxIOAS=lots\n");
	write_base_policy(4);
	ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
	usleep(300000);
	ck_assert_int_eq(wait_max_ioas(3), 3);
	/* Remove alpha's section while it is connected. */
	ck_assert_int_eq(pipe(o.ready), 0);
	ck_assert_int_eq(pipe(o.go), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(harness_run_client_as(alpha_uid(), alpha_uid(), alpha_orphaned, &o) == 0 ? 0 : 1);
	{
		char byte;

		ck_assert_int_eq(read(o.ready[0], &byte, 1), 1);
	}
	{
		char path[PATH_MAX + 64];

		snprintf(path, sizeof(path), "%s/60-bad.conf", policy_dir);
		ck_assert_int_eq(unlink(path), 0);
	}
	write_policy("50-test.conf", "[tenant beta]\nMatchUser=1\n");
	ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
	ck_assert_int_eq(write(o.go[1], "x", 1), 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST


/* Lines of the audit log with a (and b, when given); 0 without a log. */
static unsigned audit_count(const char *a, const char *b)
{
	char line[4096];
	unsigned n = 0;
	FILE *f = fopen(audit_path, "r");

	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, a) && (!b || strstr(line, b));
	if (f)
		fclose(f);
	return n;
}

static bool audit_has(const char *a, const char *b)
{
	return audit_count(a, b) > 0;
}

/* alpha's section with another AllowedIOVA= and HugePages=. */
static void write_alpha_policy(const char *allowed, bool huge)
{
	char text[1024];

	snprintf(text, sizeof(text),
		 "[tenant alpha]\nMatchUser=%u\nMaxIOAS=2\nMaxPinnedBytes=2M\n"
		 "MaxMappings=3\nMaxMemoryRegions=2\nMaxConnections=2\n"
		 "AllowedIOVA=%s\nHugePages=%s\n",
		 (unsigned)alpha_uid(), allowed, huge ? "yes" : "no");
	write_policy("50-test.conf", text);
}

static int huge_pages_allowed(void *arg)
{
	struct ioas_client *c;
	struct ioas_whoami w;

	(void)arg;
	REQUIRE(connect_client(&c) == 0);
	REQUIRE(ioas_whoami(c, &w) == 0);
	ioas_client_free(c);
	return w.huge_pages;
}

#define NARROW_START UINT64_C(0x10000000)
#define NARROW_LAST UINT64_C(0x1fffffff)

/* alpha holds an IOAS and a mapping at 0x100000 while a reload narrows
 * AllowedIOVA past it and turns huge pages off. */
static int alpha_narrowed(void *arg)
{
	struct orphan *o = arg;
	struct ioas_client *c;
	struct ioas_whoami w;
	uint32_t io, m;
	uint64_t iova = 0x100000, len;
	bool huge = false;
	char byte = 0;
	int fd = sealed(MiB);

	REQUIRE(connect_client(&c) == 0);
	REQUIRE(ioas_alloc(c, &io) == 0);
	REQUIRE(ioas_memory_register(c, fd, 0, MiB, &m, NULL) == 0);
	REQUIRE(ioas_map(c, io, m, 0, MiB, IOAS_MAP_FIXED_IOVA | IOAS_MAP_READABLE,
			 &iova) == 0);
	REQUIRE(ioas_huge_pages_get(c, io, &huge) == 0 && huge);
	REQUIRE(write(o->ready[1], &byte, 1) == 1);
	REQUIRE(read(o->go[0], &byte, 1) == 1);
	for (int i = 0; i < 100; i++) {
		REQUIRE(ioas_whoami(c, &w) == 0);
		if (w.mappings_outside_policy)
			break;
		usleep(20000);
	}
	/* Kept and counted, not removed. */
	REQUIRE(w.mappings_outside_policy == 1 && w.mappings == 1);
	/* The IOAS alpha already held follows the new policy: the kernel picks
	 * IOVAs inside the new window, and huge pages are off. */
	iova = 0;
	REQUIRE(ioas_map(c, io, m, 0, MiB, IOAS_MAP_READABLE, &iova) == 0);
	REQUIRE(iova >= NARROW_START && iova + MiB - 1 <= NARROW_LAST);
	REQUIRE(ioas_copy(c, io, io, IOAS_MAP_READABLE, 0x100000, MiB, &iova) == 0);
	REQUIRE(iova >= NARROW_START && iova + MiB - 1 <= NARROW_LAST);
	REQUIRE(ioas_huge_pages_get(c, io, &huge) == 0 && !huge);
	/* Nothing new lands outside; the old mapping can still go. */
	iova = 0x200000;
	REQUIRE(ioas_copy(c, io, io, IOAS_MAP_FIXED_IOVA | IOAS_MAP_READABLE, 0x100000,
			  MiB, &iova) == -EPERM);
	REQUIRE(ioas_unmap(c, io, 0x100000, MiB, &len) == 0 && len == MiB);
	REQUIRE(ioas_whoami(c, &w) == 0 && w.mappings_outside_policy == 0);
	close(fd);
	ioas_client_free(c);
	return 0;
}

START_TEST(reload_narrowing_reaches_live_ioases)
{
	struct orphan o;
	pid_t pid;
	int status;
	char byte;

	write_alpha_policy("0x100000-0x1fffffff", true);
	ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
	for (int i = 0; i < 100; i++) {
		if (harness_run_client_as(alpha_uid(), alpha_uid(), huge_pages_allowed, NULL) == 1)
			break;
		usleep(20000);
	}
	ck_assert_int_eq(pipe(o.ready), 0);
	ck_assert_int_eq(pipe(o.go), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(harness_run_client_as(alpha_uid(), alpha_uid(), alpha_narrowed, &o) == 0 ? 0 : 1);
	ck_assert_int_eq(read(o.ready[0], &byte, 1), 1);
	write_alpha_policy("0x10000000-0x1fffffff", false);
	ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
	ck_assert_int_eq(write(o.go[1], "x", 1), 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert(audit_has("\"op\":\"reload-outside\"", "\"iova\":\"0x100000\""));
}
END_TEST

/* --------------------------------------------------------- audit */

static int alpha_audited(void *arg)
{
	struct ioas_client *c;
	uint32_t io, x;

	REQUIRE(connect_client(&c) == 0);
	REQUIRE(ioas_alloc(c, &io) == 0);
	REQUIRE(ioas_alloc(c, &x) == 0);
	REQUIRE(ioas_alloc(c, &x) == -ENOSPC);
	ioas_client_free(c);
	return 0;
}


START_TEST(audit_records_allowed_and_refused)
{
	ck_assert_int_eq(harness_run_client_as(alpha_uid(), alpha_uid(), alpha_audited, NULL), 0);
	/* The release record is written when the last connection is gone. */
	for (int i = 0; i < 100 && !audit_has("\"kind\":\"release\"", "\"tenant\":\"alpha\""); i++)
		usleep(20000);
	ck_assert(audit_has("\"op\":\"IoasAlloc\",\"result\":\"allowed\"", "\"tenant\":\"alpha\""));
	ck_assert(audit_has("\"op\":\"IoasAlloc\",\"result\":\"refused\",\"errno\":28,\"error\":\"ENOSPC\"",
			    "50-test.conf:1\""));
	ck_assert(audit_has("\"kind\":\"connect\"", "\"result\":\"allowed\""));
	ck_assert(audit_has("\"kind\":\"release\"", "\"tenant\":\"alpha\""));
	ck_assert(audit_has("\"kind\":\"policy\"", "\"op\":\"start\""));
	if (root) {
		ck_assert_int_eq(harness_run_client_as(STRANGER_UID, STRANGER_UID, stranger, NULL), 0);
		for (int i = 0; i < 100 && !audit_has("\"kind\":\"connect\"", "\"errno\":13"); i++)
			usleep(20000);
		ck_assert(audit_has("\"kind\":\"connect\",\"message_id\"", "\"errno\":13,\"error\":\"EACCES\""));
	}
}
END_TEST

/* --------------------------------------------------------- a full audit log */

/*
 * Restart the fixture's daemon on a fresh audit log with more arguments,
 * its file writes limited to fsize bytes: the audit log fills up as on a
 * full filesystem. SIGXFSZ keeps its default action (death): the daemon
 * has to ignore it itself.
 */
static void restart_daemon(rlim_t fsize, const char *const *more)
{
	const char *args[32] = { "--backend", "sim", "--policy-dir", policy_dir,
				 "--audit-log", audit_path, "--pool-size", "2", "-v" };
	struct rlimit old, lim;
	size_t n = 9;

	while (more && *more && n + 1 < sizeof(args) / sizeof(args[0]))
		args[n++] = *more++;
	args[n] = NULL;
	ck_assert_int_eq(harness_daemon_stop(&d), 0);
	ck_assert_int_eq(unlink(audit_path), 0);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = fsize < old.rlim_max ? fsize : old.rlim_max;
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	ck_assert_int_eq(harness_daemon_start(&d, args), 0);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
}

/* Every line of the audit log is a whole record, and it ends with one. */
static bool audit_lines_whole(size_t *ret_lines, off_t *ret_size)
{
	char line[4096];
	size_t n = 0;
	bool whole = true;
	FILE *f = fopen(audit_path, "r");

	if (!f)
		return false;
	while (whole && fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);

		whole = len > 2 && line[0] == '{' && line[len - 2] == '}' && line[len - 1] == '\n';
		if (!whole)
			fprintf(stderr, "audit line %zu is not whole: %s\n", n + 1, line);
		n++;
	}
	*ret_size = ftello(f);
	fclose(f);
	*ret_lines = n;
	return whole;
}

/* alpha: n refused requests (an IOAS it does not have), each answered. */
static int alpha_refused(void *arg)
{
	unsigned n = *(unsigned *)arg;
	struct ioas_client *c;

	REQUIRE(connect_client(&c) == 0);
	for (unsigned i = 0; i < n; i++)
		REQUIRE(ioas_destroy(c, 99) == -ENOENT);
	ioas_client_free(c);
	return 0;
}

/* One of the daemon's audit counters (Stats), as the client's result. */
enum audit_counter { SUPPRESSED, DROPPED };

static int audit_counter(void *arg)
{
	enum audit_counter which = *(enum audit_counter *)arg;
	struct ioas_client *c;
	struct ioas_stats st;

	REQUIRE(connect_client(&c) == 0);
	REQUIRE(ioas_stats(c, &st) == 0);
	ioas_client_free(c);
	REQUIRE(st.daemon_wide); /* the audit counters are daemon-wide figures */
	REQUIRE(st.audit_evicted == 0);
	return (int)(which == SUPPRESSED ? st.audit_suppressed : st.audit_dropped);
}

/* Read by root, who sees daemon-wide figures (tenant "root"); without root
 * the tests that need a second uid are skipped anyway. */
static int counter(enum audit_counter which)
{
	return audit_counter(&which); /* in this process: uid 0 */
}

/* The audit log reaching a file-size limit (LimitFSIZE=, ulimit -f) is a
 * sink failure, not a reason to die (SIGXFSZ), and it never ends in half
 * a record. */
START_TEST(audit_log_full_is_not_fatal)
{
	unsigned n = 100;
	size_t lines;
	off_t size;

	restart_daemon(4096, NULL);
	ck_assert_int_eq(harness_run_client_as(alpha_uid(), alpha_uid(), alpha_refused, &n), 0);
	ck_assert_int_eq(kill(d.pid, 0), 0);
	ck_assert(audit_lines_whole(&lines, &size));
	ck_assert_int_le(size, 4096);
	ck_assert_uint_gt(lines, 3);
	/* What did not fit is counted, and the count is in Stats. */
	if (root) {
		ck_assert_int_gt(counter(DROPPED), 50);
		ck_assert_int_eq(counter(SUPPRESSED), 0);
	}
	/* Still serving. */
	n = 1;
	ck_assert_int_eq(harness_run_client_as(alpha_uid(), alpha_uid(), alpha_refused, &n), 0);
}
END_TEST

/* n connections of a peer no section matches, each refused. */
static int stranger_loops(void *arg)
{
	unsigned n = *(unsigned *)arg;

	for (unsigned i = 0; i < n; i++) {
		struct ioas_client *c;

		REQUIRE(ioas_client_connect(d.socket, "stranger", &c, NULL, 0) == -EACCES);
	}
	return 0;
}

/* A tenant's grants, after someone else's flood. */
static int grants_work(void *arg)
{
	struct ioas_client *c;
	uint32_t io, m;
	uint64_t iova = 0;
	int fd = sealed(MiB);

	REQUIRE(fd >= 0);
	REQUIRE(connect_client(&c) == 0);
	REQUIRE(ioas_alloc(c, &io) == 0);
	REQUIRE(ioas_memory_register(c, fd, 0, MiB, &m, NULL) == 0);
	REQUIRE(ioas_map(c, io, m, 0, MiB, IOAS_MAP_READABLE, &iova) == 0);
	close(fd);
	ioas_client_free(c);
	return 0;
}

/*
 * A tenant that floods the daemon with refused requests, and a local user
 * that matches no section connecting in a loop, get at most the burst of
 * records each (default 200 per 10 s) and one summary: under
 * AuditFailure=refuse with an audit log that has room for 256 KiB (the
 * flood unlimited is about 1 MiB), another tenant's grants still work.
 */
START_TEST(audit_flood_is_rate_limited)
{
	const char *refuse[] = { "--audit-failure", "refuse", NULL };
	unsigned n = 3000, loops = 300;
	size_t lines;
	off_t size;

	restart_daemon(256 * 1024, refuse);
	ck_assert_int_eq(harness_run_client_as(alpha_uid(), alpha_uid(), alpha_refused, &n), 0);
	if (root) {
		ck_assert_int_eq(harness_run_client_as(STRANGER_UID, STRANGER_UID,
						       stranger_loops, &loops), 0);
		ck_assert_int_eq(harness_run_client_as(BETA_UID, BETA_UID, grants_work, NULL), 0);
	} else {
		printf("NOTICE: audit_flood_is_rate_limited needs root for a second tenant "
		       "and a stranger; checked the flooding tenant's own grants\n");
		ck_assert_int_eq(harness_run_client_as(alpha_uid(), alpha_uid(), grants_work, NULL), 0);
	}
	ck_assert_int_eq(kill(d.pid, 0), 0);
	ck_assert_uint_eq(audit_count("\"op\":\"IoasDestroy\",\"result\":\"refused\"",
				      "\"tenant\":\"alpha\""), 200);
	ck_assert_uint_eq(audit_count("\"op\":\"Map\",\"result\":\"allowed\"", NULL), 1);
	if (root)
		ck_assert_uint_eq(audit_count("\"errno\":13,\"error\":\"EACCES\"", "\"uid\":2,"), 200);
	if (root) {
		ck_assert_int_eq(counter(SUPPRESSED), 2800 + 100);
		ck_assert_int_eq(counter(DROPPED), 0);
	}
	/* The windows still open are summed up when the daemon stops. */
	ck_assert_int_eq(harness_daemon_stop(&d), 0);
	ck_assert(audit_lines_whole(&lines, &size));
	ck_assert_int_lt(size, 256 * 1024);
	ck_assert_uint_eq(audit_count("\"kind\":\"ratelimit\"",
				      "2800 refusals of tenant alpha suppressed"), 1);
	if (root)
		ck_assert_uint_eq(audit_count("\"kind\":\"ratelimit\"",
					      "100 refusals of uid 2 suppressed"), 1);
}
END_TEST

/* The limit comes from [daemon] AuditRateBurst=, and the command line
 * overrides it (0: no limit). */
START_TEST(audit_rate_from_daemon_section)
{
	const char *no_limit[] = { "--audit-rate-burst", "0", NULL };
	unsigned n = 20;

	write_policy("10-daemon.conf", "[daemon]\nAuditRateBurst=5\n");
	restart_daemon(RLIM_INFINITY, NULL);
	ck_assert_int_eq(harness_run_client_as(alpha_uid(), alpha_uid(), alpha_refused, &n), 0);
	ck_assert_uint_eq(audit_count("\"op\":\"IoasDestroy\",\"result\":\"refused\"", NULL), 5);
	restart_daemon(RLIM_INFINITY, no_limit);
	ck_assert_int_eq(harness_run_client_as(alpha_uid(), alpha_uid(), alpha_refused, &n), 0);
	ck_assert_uint_eq(audit_count("\"op\":\"IoasDestroy\",\"result\":\"refused\"", NULL), 20);
}
END_TEST

/* --------------------------------------------------------- check-policy */

static int run_check(const char *dir, char *out, size_t size)
{
	char cmd[PATH_MAX * 2];
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof(cmd), "'%s' --check-policy --policy-dir '%s' 2>&1",
		 getenv("IOASD_BIN"), dir);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	n = fread(out, 1, size - 1, p);
	out[n] = '\0';
	return pclose(p);
}

START_TEST(check_policy_exit_status)
{
	char out[16384];
	int st;

	st = run_check(policy_dir, out, sizeof(out));
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "[tenant alpha]"));
	ck_assert_ptr_nonnull(strstr(out, "MaxIOAS=2"));
	write_policy("70-typo.conf", "[tenant gamma]\nMatchUser=0\nMaxIOSA=3\n");
	st = run_check(policy_dir, out, sizeof(out));
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	ck_assert_msg(strstr(out, "70-typo.conf:3") != NULL, "%s", out);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("tenants");
	TCase *tc = tcase_create("policy");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, limits_at_their_boundary);
	tcase_add_test(tc, allowed_iova_and_huge_pages);
	tcase_add_test(tc, connections_share_one_tenant);
	tcase_add_test(tc, two_tenants_side_by_side);
	tcase_add_test(tc, stats_daemon_wide_for_admins_only);
	tcase_add_test(tc, reload_good_bad_and_removed);
	tcase_add_test(tc, reload_narrowing_reaches_live_ioases);
	tcase_add_test(tc, audit_records_allowed_and_refused);
	tcase_add_test(tc, audit_log_full_is_not_fatal);
	tcase_add_test(tc, audit_flood_is_rate_limited);
	tcase_add_test(tc, audit_rate_from_daemon_section);
	tcase_add_test(tc, check_policy_exit_status);
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
