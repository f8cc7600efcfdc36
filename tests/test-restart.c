/* SPDX-License-Identifier: MIT */
/*
 * Restart without losing DMA (ioasd --state-dir, the fd holder, the sim
 * replaying the state into a fresh context): tenants set up IOASes, memory,
 * mappings, a copy, a share and an import; one of them keeps mapping and
 * unmapping while the daemon is SIGKILLed; the daemon is started again on
 * the same state directory, and each tenant reclaims its objects with the
 * token it got at Hello, under the same handles.
 *
 * On the sim (the default) the sim is rebuilt from the state file ("replayed
 * into a fresh sim"); with IOASD_TEST_BACKEND=kernel (the real-kernel suite,
 * tests/vm/guest/50-daemon-tests.sh) the new daemon must adopt the kernel's
 * contexts as they are ("kernel state kept" in the audit's restore records),
 * and the device tenant's device is the guest's edu,
 * /dev/vfio/devices/vfio0, opened by the test (root) and inherited by the
 * unprivileged client, as in tests/test-devices.c. Only the real-kernel
 * suite proves that DMA goes on across the kill
 * (tests/vm/guest/95-restart.sh, vm-edu restart).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "ioas.h"
#include "state.pb-c.h"
#include "persist/db.h"
#include "persist/records.h"
#include "persist/state.h"

#define MiB (UINT64_C(1) << 20)
#define ALPHA_UID 65534 /* exporter; keeps mapping while the daemon dies */
#define BETA_UID 1      /* importer */
#define GAMMA_UID 2     /* never reclaims: released after the grace period */
#define DELTA_UID 3     /* a device tenant: its own context and a device */
#define FIXED_IOVA UINT64_C(0x100000)
#define LOAD_IOVA UINT64_C(0x10000000)
#define GRACE "3"

#define REQUIRE(cond) HARNESS_REQUIRE(cond)

static struct harness_daemon d;
static char dir[PATH_MAX], state_dir[PATH_MAX + 16], pdir[PATH_MAX + 16];
static char audit_path[PATH_MAX + 16];

/* What a tenant's first life hands back to the test. */
struct first_life {
	int result;
	char token[64];
	uint32_t ioas1, ioas2, ioas3, mem, share, import;
	uint64_t iova2, copy_iova, import_iova;
	char share_token[IOAS_SHARE_TOKEN_LEN + 1];
};

static const char *const *daemon_args(void)
{
	static const char *args[16];
	int i = 0;

	args[i++] = "--backend";
	args[i++] = "sim";
	args[i++] = "--policy-dir";
	args[i++] = pdir;
	args[i++] = "--state-dir";
	args[i++] = state_dir;
	args[i++] = "--restart-grace";
	args[i++] = GRACE;
	args[i++] = "--audit-log";
	args[i++] = audit_path;
	args[i++] = "--no-journal";
	args[i++] = NULL;
	return args;
}

static void setup(void)
{
	char tmpl[] = "/tmp/ioasd-restart.XXXXXX", path[PATH_MAX + 32], text[1024];
	FILE *f;

	ck_assert_int_eq(geteuid(), 0); /* tenants are told apart by uid */
	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	ck_assert_int_eq(chmod(tmpl, 0755), 0);
	snprintf(dir, sizeof(dir), "%s", tmpl);
	snprintf(pdir, sizeof(pdir), "%s/policy.d", dir);
	snprintf(state_dir, sizeof(state_dir), "%s/state", dir);
	snprintf(audit_path, sizeof(audit_path), "%s/audit.jsonl", dir);
	ck_assert_int_eq(mkdir(pdir, 0755), 0);
	snprintf(text, sizeof(text),
		 "[tenant alpha]\nMatchUser=%u\nExportTo=beta\nLease=60\n\n"
		 "[tenant beta]\nMatchUser=%u\nImportFrom=alpha\nLease=60\n\n"
		 "[tenant gamma]\nMatchUser=%u\n\n"
		 "[tenant delta]\nMatchUser=%u\nAllowDevice=1234:11e8\nLease=60\n",
		 ALPHA_UID, BETA_UID, GAMMA_UID, DELTA_UID);
	snprintf(path, sizeof(path), "%s/50-restart.conf", pdir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(harness_daemon_start(&d, daemon_args()), 0);
}

static pid_t holder_pid(void)
{
	char path[PATH_MAX + 32];
	FILE *f;
	int pid = 0;

	snprintf(path, sizeof(path), "%s/fdholder.pid", state_dir);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%d", &pid) != 1)
		pid = 0;
	fclose(f);
	return (pid_t)pid;
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];
	pid_t h = holder_pid();

	ck_assert_int_eq(harness_daemon_stop(&d), 0);
	/* A clean stop empties the store: the holder is gone. */
	for (int i = 0; h > 0 && i < 100 && kill(h, 0) == 0; i++)
		usleep(20000);
	if (h > 0 && kill(h, 0) == 0) {
		kill(h, SIGKILL);
		ck_abort_msg("the fd holder (pid %d) outlived a clean stop", (int)h);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", dir);
}

/* Stop the daemon with sig (SIGKILL: a crash; SIGUSR2: a planned restart,
 * which must exit 0) and start it again on the same state directory. */
static void stop_daemon_with(int sig)
{
	int status;

	ck_assert_int_eq(kill(d.pid, sig), 0);
	ck_assert_int_eq(waitpid(d.pid, &status, 0), d.pid);
	if (sig != SIGKILL)
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			      "the daemon did not exit 0 on signal %d", sig);
	d.pid = 0;
	ck_assert_int_eq(harness_daemon_stop(&d), 0); /* its socket directory */
}

static void restart_daemon_with(int sig)
{
	stop_daemon_with(sig);
	ck_assert_int_eq(harness_daemon_start(&d, daemon_args()), 0);
}

/* Run fn as uid in a child that reports a first_life through a pipe as
 * soon as it has one, and may then go on (under load) until the daemon
 * dies. */
struct child {
	pid_t pid;
	int rfd;
};

static int spawn_as(uid_t uid, int (*fn)(int wfd), struct child *ret)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		close(p[0]);
		if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 ||
		    setresuid(uid, uid, uid) < 0)
			_exit(126);
		_exit(fn(p[1]) == 0 ? 0 : 1);
	}
	close(p[1]);
	ret->pid = pid;
	ret->rfd = p[0];
	return 0;
}

static int read_life(struct child *c, struct first_life *l)
{
	ssize_t n = read(c->rfd, l, sizeof(*l));

	close(c->rfd);
	return n == (ssize_t)sizeof(*l) ? l->result : -EIO;
}

static int wait_child(struct child *c)
{
	int status;

	if (waitpid(c->pid, &status, 0) != c->pid)
		return -ECHILD;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}

static int send_life(int wfd, struct first_life *l)
{
	return write(wfd, l, sizeof(*l)) == (ssize_t)sizeof(*l) ? 0 : -EIO;
}

static int sock_connect(struct ioas_client **c, const char *token, char *err,
			size_t errlen)
{
	return token ? ioas_client_connect_reclaim(d.socket, "test-restart", token,
						   c, err, errlen) :
		       ioas_client_connect(d.socket, "test-restart", c, err, errlen);
}

/* Keep the connection until the daemon goes away. */
static int until_daemon_dies(struct ioas_client *c)
{
	struct ioas_stats st;

	for (int i = 0; i < 3000; i++) {
		if (ioas_stats(c, &st) < 0)
			return 0;
		usleep(2000);
	}
	fprintf(stderr, "the daemon did not go away\n");
	return -1;
}

static int alpha_first(int wfd)
{
	struct first_life l = { 0 };
	struct ioas_client *c = NULL;
	char err[256];
	int fd = -1, r;
	uint64_t iova = FIXED_IOVA, u;

	r = sock_connect(&c, NULL, err, sizeof(err));
	if (r == 0 && ioas_client_reclaim_token(c))
		snprintf(l.token, sizeof(l.token), "%s", ioas_client_reclaim_token(c));
	if (r == 0)
		r = ioas_memfd_create("restart", 4 * MiB, &fd);
	if (r == 0)
		r = ioas_alloc(c, &l.ioas1);
	if (r == 0)
		r = ioas_alloc(c, &l.ioas2);
	if (r == 0)
		r = ioas_alloc(c, &l.ioas3);
	if (r == 0)
		r = ioas_memory_register(c, fd, 0, 4 * MiB, &l.mem, NULL);
	if (r == 0)
		r = ioas_map(c, l.ioas1, l.mem, 0, 2 * MiB,
			     IOAS_MAP_READABLE | IOAS_MAP_WRITEABLE | IOAS_MAP_FIXED_IOVA,
			     &iova);
	if (r == 0)
		r = ioas_map(c, l.ioas1, l.mem, 2 * MiB, 2 * MiB,
			     IOAS_MAP_READABLE | IOAS_MAP_WRITEABLE, &l.iova2);
	if (r == 0)
		r = ioas_copy(c, l.ioas2, l.ioas1, IOAS_MAP_READABLE, FIXED_IOVA,
			      2 * MiB, &l.copy_iova);
	if (r == 0)
		r = ioas_share_export(c, l.ioas1, FIXED_IOVA, 2 * MiB, false,
				      &l.share, l.share_token);
	if (fd >= 0)
		close(fd);
	l.result = r;
	if (r < 0)
		fprintf(stderr, "alpha: %s\n", c ? ioas_client_last_error(c) : err);
	if (send_life(wfd, &l) < 0 || r < 0) {
		ioas_client_free(c);
		return -1;
	}
	/* Load: map and unmap until the daemon is killed under us. */
	for (int i = 0; i < 100000; i++) {
		iova = LOAD_IOVA;
		r = ioas_map(c, l.ioas3, l.mem, 0, 64 * 1024,
			     IOAS_MAP_READABLE | IOAS_MAP_FIXED_IOVA, &iova);
		if (r == 0)
			r = ioas_unmap(c, l.ioas3, LOAD_IOVA, 64 * 1024, &u);
		if (r == -EPIPE || r == -ECONNRESET || r == -ENOTCONN || r == -EIO) {
			ioas_client_free(c);
			return 0;
		}
		if (r < 0) {
			fprintf(stderr, "alpha load: %d %s\n", r, ioas_client_last_error(c));
			ioas_client_free(c);
			return -1;
		}
	}
	ioas_client_free(c);
	fprintf(stderr, "alpha: the daemon did not go away\n");
	return -1;
}

static char alpha_share_token[IOAS_SHARE_TOKEN_LEN + 1];

static int beta_first(int wfd)
{
	struct first_life l = { 0 };
	struct ioas_client *c = NULL;
	char err[256];
	uint64_t len = 0;
	int r;

	r = sock_connect(&c, NULL, err, sizeof(err));
	if (r == 0 && ioas_client_reclaim_token(c))
		snprintf(l.token, sizeof(l.token), "%s", ioas_client_reclaim_token(c));
	if (r == 0)
		r = ioas_alloc(c, &l.ioas1);
	if (r == 0)
		r = ioas_share_import(c, alpha_share_token, l.ioas1, IOAS_MAP_READABLE,
				      0, 2 * MiB, &l.import_iova, &l.import, &len);
	l.result = r;
	if (r < 0)
		fprintf(stderr, "beta: %s\n", c ? ioas_client_last_error(c) : err);
	if (send_life(wfd, &l) < 0 || r < 0) {
		ioas_client_free(c);
		return -1;
	}
	r = until_daemon_dies(c);
	ioas_client_free(c);
	return r;
}

static int gamma_first(int wfd)
{
	struct first_life l = { 0 };
	struct ioas_client *c = NULL;
	char err[256];
	uint64_t iova = 0;
	int fd = -1, r;

	r = sock_connect(&c, NULL, err, sizeof(err));
	if (r == 0 && ioas_client_reclaim_token(c))
		snprintf(l.token, sizeof(l.token), "%s", ioas_client_reclaim_token(c));
	if (r == 0)
		r = ioas_memfd_create("gamma", MiB, &fd);
	if (r == 0)
		r = ioas_alloc(c, &l.ioas1);
	if (r == 0)
		r = ioas_memory_register(c, fd, 0, MiB, &l.mem, NULL);
	if (r == 0)
		r = ioas_map(c, l.ioas1, l.mem, 0, MiB, IOAS_MAP_READABLE, &iova);
	if (fd >= 0)
		close(fd);
	l.result = r;
	if (send_life(wfd, &l) < 0 || r < 0) {
		ioas_client_free(c);
		return -1;
	}
	r = until_daemon_dies(c);
	ioas_client_free(c);
	return r;
}

/* ------------------------------------------------------------ second life */

static struct first_life A, B, G;

/* A restored tenant refuses a Hello without its token, or with another's. */
static int gamma_refused(void *arg)
{
	struct ioas_client *c = NULL;
	char err[256] = "";
	int r;

	(void)arg;
	r = sock_connect(&c, NULL, err, sizeof(err));
	REQUIRE(r == -EBUSY);
	REQUIRE(strstr(err, "reclaim token"));
	r = sock_connect(&c, A.token, err, sizeof(err));
	REQUIRE(r == -EKEYREJECTED);
	REQUIRE(strstr(err, "not the reclaim token of tenant gamma"));
	return 0;
}

static int alpha_wrong_token(void *arg)
{
	struct ioas_client *c = NULL;
	char err[256] = "", bad[64];
	int r;

	(void)arg;
	snprintf(bad, sizeof(bad), "%s", A.token);
	bad[0] = bad[0] == '0' ? '1' : '0';
	r = sock_connect(&c, bad, err, sizeof(err));
	REQUIRE(r == -EKEYREJECTED);
	REQUIRE(strstr(err, "not the reclaim token of tenant alpha"));
	return 0;
}

static int alpha_reclaims(void *arg)
{
	struct ioas_client *c = NULL;
	struct ioas_share_list *l = NULL;
	struct ioas_stats st;
	char err[256] = "";
	uint64_t u = 0, iova = FIXED_IOVA;
	int r;

	(void)arg;
	r = sock_connect(&c, A.token, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "alpha reclaim: %s\n", err);
	REQUIRE(r == 0);
	REQUIRE(ioas_client_reclaimed(c));
	REQUIRE(!strcmp(ioas_client_reclaim_token(c), A.token));
	/* The load IOAS holds the in-flight map or not, consistently. */
	REQUIRE(ioas_unmap_all(c, A.ioas3, &u) == 0);
	REQUIRE(u == 0 || u == 64 * 1024);
	REQUIRE(ioas_stats(c, &st) == 0);
	REQUIRE(st.ioas == 3);
	REQUIRE(st.memory_regions == 1);
	REQUIRE(st.mappings == 3);
	REQUIRE(st.pinned_bytes == 4 * MiB);
	/* The mapping is there: mapping over it again is refused. */
	REQUIRE(ioas_map(c, A.ioas1, A.mem, 0, 4096,
			 IOAS_MAP_READABLE | IOAS_MAP_FIXED_IOVA, &iova) == -EEXIST);
	/* The share and its importer came back. */
	REQUIRE(ioas_share_list(c, &l) == 0);
	REQUIRE(l->n_shares == 1 && l->shares[0].share == A.share);
	REQUIRE(!strcmp(l->shares[0].token, A.share_token));
	REQUIRE(l->n_importers == 1 && !strcmp(l->importers[0].tenant, "beta"));
	l = ioas_share_list_free(l);
	/* Whole mappings, same handles, same lengths. */
	REQUIRE(ioas_unmap(c, A.ioas1, A.iova2, 2 * MiB, &u) == 0 && u == 2 * MiB);
	REQUIRE(ioas_unmap(c, A.ioas2, A.copy_iova, 2 * MiB, &u) == 0 && u == 2 * MiB);
	/* New handles continue after the restored ones. */
	{
		uint32_t h;

		REQUIRE(ioas_alloc(c, &h) == 0 && h == A.ioas3 + 1);
	}
	ioas_client_free(c);
	return 0;
}

static int beta_reclaims(void *arg)
{
	struct ioas_client *c = NULL;
	struct ioas_share_list *l = NULL;
	char err[256] = "";
	uint64_t u = 0;
	int r;

	(void)arg;
	r = sock_connect(&c, B.token, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "beta reclaim: %s\n", err);
	REQUIRE(r == 0 && ioas_client_reclaimed(c));
	REQUIRE(ioas_share_list(c, &l) == 0);
	if (l->n_imports != 1 || l->imports[0].import != B.import)
		fprintf(stderr, "beta: %u imports, first %u, want %u\n", l->n_imports,
			l->n_imports ? l->imports[0].import : 0, B.import);
	REQUIRE(l->n_imports == 1 && l->imports[0].import == B.import);
	REQUIRE(l->imports[0].iova == B.import_iova && l->imports[0].length == 2 * MiB);
	REQUIRE(!strcmp(l->imports[0].exporter, "alpha"));
	l = ioas_share_list_free(l);
	REQUIRE(ioas_unmap(c, B.ioas1, B.import_iova, 2 * MiB, &u) == 0 && u == 2 * MiB);
	ioas_client_free(c);
	return 0;
}

/* After the grace period gamma is a fresh tenant again. */
static int gamma_after_grace(void *arg)
{
	struct ioas_client *c = NULL;
	struct ioas_stats st;
	char err[256] = "";

	(void)arg;
	REQUIRE(sock_connect(&c, NULL, err, sizeof(err)) == 0);
	REQUIRE(!ioas_client_reclaimed(c));
	REQUIRE(ioas_stats(c, &st) == 0);
	REQUIRE(st.ioas == 0 && st.mappings == 0 && st.memory_regions == 0);
	REQUIRE(strcmp(ioas_client_reclaim_token(c), G.token) != 0);
	ioas_client_free(c);
	return 0;
}

/* An audit line holds all of what (a NULL-terminated list). */
static bool audit_has_all(const char *const *what)
{
	char line[4096];
	bool found = false;
	FILE *f = fopen(audit_path, "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		found = true;
		for (size_t i = 0; what[i]; i++)
			found = found && strstr(line, what[i]) != NULL;
	}
	fclose(f);
	return found;
}

static bool audit_has(const char *what)
{
	return audit_has_all((const char *const[]){ what, NULL });
}

/* How a restore must say it rebuilt a tenant: the sim dies with the daemon
 * and is replayed; the kernel's contexts are adopted untouched. */
static const char *restore_how(void)
{
	return harness_backend_is_sim() ? "replayed into a fresh sim" : "kernel state kept";
}

/* The restore record of tenant says how it came back (restore_how()). */
static bool restored_as_expected(const char *tenant)
{
	char t[96];

	snprintf(t, sizeof(t), "\"tenant\":\"%s\"", tenant);
	return audit_has_all((const char *const[]){ "\"op\":\"restore\"", t, restore_how(), NULL });
}

/* The database of a stopped daemon as the state file a daemon before the
 * database would have written: edit() (may be NULL) applied, the database
 * removed. */
static void to_state_file(void (*edit)(IoasdState__State *m))
{
	char path[PATH_MAX + 32];
	IoasdState__State *m = NULL;
	struct err e = { 0 };
	uint8_t *buf;
	size_t len;
	FILE *f;

	ck_assert_msg(state_export(state_dir, &m, &e) == 0, "%s", e.msg);
	if (edit)
		edit(m);
	len = ioasd_state__state__get_packed_size(m);
	buf = malloc(len + 1);
	ck_assert_ptr_nonnull(buf);
	ioasd_state__state__pack(m, buf);
	ioasd_state__state__free_unpacked(m, NULL);
	snprintf(path, sizeof(path), "%s/%s", state_dir, STATE_FILE);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(path, 0600), 0);
	free(buf);
	snprintf(path, sizeof(path), "%s/%s", state_dir, DB_FILE);
	ck_assert_int_eq(unlink(path), 0);
}

/* Rule: a daemon SIGKILLed under load comes back with every tenant's
 * handles, mappings, shares and imports; each is reclaimed with its own
 * token only; what is not reclaimed goes after the grace period. With
 * converted: the state is what a daemon before the database left (a state
 * file), and the upgrade keeps everyone's DMA the same way. */
static void sigkill_under_load_reclaim(bool converted)
{
	struct child ca, cb, cg;
	struct stat sb;
	char path[PATH_MAX + 32];

	ck_assert_int_eq(spawn_as(ALPHA_UID, alpha_first, &ca), 0);
	ck_assert_int_eq(read_life(&ca, &A), 0);
	ck_assert_int_eq((int)strlen(A.token), 32);
	memcpy(alpha_share_token, A.share_token, sizeof(alpha_share_token));
	ck_assert_int_eq(spawn_as(BETA_UID, beta_first, &cb), 0);
	ck_assert_int_eq(read_life(&cb, &B), 0);
	ck_assert_int_eq(spawn_as(GAMMA_UID, gamma_first, &cg), 0);
	ck_assert_int_eq(read_life(&cg, &G), 0);
	ck_assert_str_ne(A.token, B.token);

	/* The database is private. */
	snprintf(path, sizeof(path), "%s/%s", state_dir, DB_FILE);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	ck_assert_int_eq(stat(state_dir, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0700);

	usleep(200 * 1000); /* alpha is mapping and unmapping */
	stop_daemon_with(SIGKILL);
	ck_assert_int_eq(wait_child(&ca), 0);
	ck_assert_int_eq(wait_child(&cb), 0);
	ck_assert_int_eq(wait_child(&cg), 0);
	if (converted)
		to_state_file(NULL);
	ck_assert_int_eq(harness_daemon_start(&d, daemon_args()), 0);
	if (converted) {
		/* Converted once: the file is gone, the database holds it. */
		snprintf(path, sizeof(path), "%s/%s", state_dir, STATE_FILE);
		ck_assert_int_eq(harness_run_client_as(GAMMA_UID, GAMMA_UID, gamma_refused, NULL), 0);
		ck_assert_int_eq(access(path, F_OK), -1);
	}

	ck_assert_int_eq(harness_run_client_as(GAMMA_UID, GAMMA_UID, gamma_refused, NULL), 0);
	ck_assert_int_eq(harness_run_client_as(ALPHA_UID, ALPHA_UID, alpha_wrong_token, NULL), 0);
	ck_assert_int_eq(harness_run_client_as(ALPHA_UID, ALPHA_UID, alpha_reclaims, NULL), 0);
	ck_assert_int_eq(harness_run_client_as(BETA_UID, BETA_UID, beta_reclaims, NULL), 0);
	sleep(atoi(GRACE) + 1);
	ck_assert_int_eq(harness_run_client_as(GAMMA_UID, GAMMA_UID, gamma_after_grace, NULL), 0);
	ck_assert(audit_has("\"op\":\"restore\""));
	ck_assert_msg(restored_as_expected("alpha") && restored_as_expected("beta") &&
			      restored_as_expected("gamma"),
		      "a restore record does not say \"%s\" (%s backend)", restore_how(),
		      harness_backend());
	ck_assert(audit_has("\"op\":\"reclaim\""));
	ck_assert(audit_has("\"op\":\"grace-expired\""));
}

START_TEST(test_sigkill_under_load_reclaim)
{
	sigkill_under_load_reclaim(false);
}
END_TEST

START_TEST(test_state_file_converted)
{
	sigkill_under_load_reclaim(true);
}
END_TEST

/* Rule: the fd holder serves its own uid only. */
/* --- a device tenant: its own context and its device come back ------ */

struct device_life {
	int result;
	char token[64];
	uint32_t ioas, mem, device, hwpt;
	char pci_address[16];
};

/* The device file, opened by the test (root) before the child is spawned
 * and inherited by it: a sim device, or the guest's edu. */
static int delta_devfd = -1;

/* A fresh device file for one client (tests/harness.c). */
static int device_open(void)
{
	int fd = harness_device_open();

	ck_assert_int_ge(fd, 0);
	return fd;
}

static int delta_first(int wfd)
{
	struct device_life l = { 0 };
	struct ioas_device_info info;
	struct ioas_client *c = NULL;
	uint64_t iova = FIXED_IOVA;
	int fd = -1, r;
	char err[256];

	r = sock_connect(&c, NULL, err, sizeof(err));
	if (r == 0)
		snprintf(l.token, sizeof(l.token), "%s", ioas_client_reclaim_token(c));
	if (r == 0)
		r = ioas_memfd_create("restart-dev", 2 * MiB, &fd);
	if (r == 0)
		r = ioas_alloc(c, &l.ioas);
	if (r == 0)
		r = ioas_memory_register(c, fd, 0, 2 * MiB, &l.mem, NULL);
	if (r == 0)
		r = ioas_map(c, l.ioas, l.mem, 0, 2 * MiB,
			     IOAS_MAP_FIXED_IOVA | IOAS_MAP_READABLE | IOAS_MAP_WRITEABLE,
			     &iova);
	if (r == 0)
		r = ioas_device_attach(c, l.ioas, delta_devfd, &info);
	if (r == 0) {
		l.device = info.device;
		snprintf(l.pci_address, sizeof(l.pci_address), "%s", info.pci_address);
	}
	/* A paging HWPT of its own, with the device on it (issue 15). */
	if (r == 0)
		r = ioas_hwpt_alloc(c, l.device, l.ioas, 0, &l.hwpt);
	if (r == 0)
		r = ioas_device_replace(c, l.device, 0, l.hwpt);
	if (r < 0)
		fprintf(stderr, "delta: %s (%s)\n", strerror(-r),
			c ? ioas_client_last_error(c) : err);
	l.result = r;
	if (fd >= 0)
		close(fd);
	close(delta_devfd); /* the daemon keeps its copy, in the store too */
	ioas_client_free(c);
	return write(wfd, &l, sizeof(l)) == (ssize_t)sizeof(l) ? r : -EIO;
}

static struct device_life delta_life;

static int delta_second(int wfd)
{
	struct ioas_iova_range ranges[4];
	struct ioas_device_info *list = NULL;
	struct ioas_hwpt_info *hl = NULL;
	struct ioas_whoami w;
	struct ioas_client *c = NULL;
	uint32_t n = 0, nr = 4, again;
	uint64_t align = 0, len = 0;
	char err[256];

	(void)wfd;
	REQUIRE(sock_connect(&c, delta_life.token, err, sizeof(err)) == 0);
	REQUIRE(ioas_whoami(c, &w) == 0);
	REQUIRE(w.own_context && w.devices == 1 && w.mappings == 1);
	REQUIRE(ioas_device_list(c, &list, &n) == 0);
	REQUIRE(n == 1 && list[0].device == delta_life.device && list[0].ioas == delta_life.ioas);
	REQUIRE(list[0].vendor == 0x1234 && list[0].device_id == 0x11e8);
	REQUIRE(strcmp(list[0].pci_address, delta_life.pci_address) == 0);
	REQUIRE(!harness_backend_is_sim() ||
		strcmp(list[0].pci_address, HARNESS_SIM_PCI_ADDRESS) == 0);
	free(list);
	/* Still attached: the domain's ranges, and the IOAS is held. */
	REQUIRE(ioas_iova_ranges(c, delta_life.ioas, ranges, &nr, &align) == 0);
	REQUIRE(nr == 2 && ranges[0].last == 0xfedfffff && align == 4096);
	REQUIRE(ioas_destroy(c, delta_life.ioas) == -EBUSY);
	/* Its HWPT came back, the device on it: held, until moved off. */
	REQUIRE(ioas_hwpt_list(c, &hl, &n) == 0);
	REQUIRE(n == 1 && hl[0].hwpt == delta_life.hwpt && hl[0].devices == 1);
	REQUIRE(hl[0].ioas == delta_life.ioas && hl[0].device == delta_life.device);
	free(hl);
	REQUIRE(ioas_hwpt_destroy(c, delta_life.hwpt) == -EBUSY);
	REQUIRE(ioas_device_replace(c, delta_life.device, delta_life.ioas, 0) == 0);
	REQUIRE(ioas_hwpt_destroy(c, delta_life.hwpt) == 0);
	REQUIRE(ioas_unmap(c, delta_life.ioas, FIXED_IOVA, 2 * MiB, &len) == 0);
	REQUIRE(len == 2 * MiB);
	REQUIRE(ioas_device_detach(c, delta_life.device) == 0);
	REQUIRE(ioas_destroy(c, delta_life.ioas) == 0);
	/* Handles go on from where they were. */
	REQUIRE(ioas_alloc(c, &again) == 0);
	REQUIRE(again == delta_life.ioas + 1);
	ioas_client_free(c);
	return 0;
}

static void device_tenant_restarts(int sig)
{
	struct child ch;

	/* A VFIO file binds once and a device binds one file at a time: the
	 * parent's copy goes as soon as the child has attached (the daemon
	 * and its store hold the file then). */
	delta_devfd = device_open();
	ck_assert_int_eq(spawn_as(DELTA_UID, delta_first, &ch), 0);
	ck_assert_int_eq(read(ch.rfd, &delta_life, sizeof(delta_life)), (ssize_t)sizeof(delta_life));
	close(ch.rfd);
	close(delta_devfd);
	delta_devfd = -1;
	ck_assert_int_eq(wait_child(&ch), 0);
	ck_assert_int_eq(delta_life.result, 0);
	restart_daemon_with(sig);
	ck_assert_int_eq(spawn_as(DELTA_UID, delta_second, &ch), 0);
	close(ch.rfd);
	ck_assert_int_eq(wait_child(&ch), 0);
	/* Only now: the socket accepts (queued) connections before the
	 * restore has run; a served request comes after it. */
	ck_assert_msg(restored_as_expected("delta"),
		      "the restore record of delta does not say \"%s\" (%s backend)",
		      restore_how(), harness_backend());
}

START_TEST(test_device_tenant_restarts)
{
	device_tenant_restarts(SIGKILL);
}
END_TEST

/* A planned restart (SIGUSR2, the unit's KillSignal=): the same, with the
 * daemon exiting 0 and nothing in flight. */
START_TEST(test_device_tenant_planned_restart)
{
	device_tenant_restarts(SIGUSR2);
}
END_TEST

START_TEST(test_holder_refuses_other_uid)
{
	pid_t pid;
	int status;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char path[PATH_MAX + 32];
		struct ioas_client *c = NULL;
		char err[256];
		int r;

		if (setresgid(ALPHA_UID, ALPHA_UID, ALPHA_UID) < 0 ||
		    setresuid(ALPHA_UID, ALPHA_UID, ALPHA_UID) < 0)
			_exit(126);
		/* The directory is 0700: another uid cannot even reach it. */
		snprintf(path, sizeof(path), "%s/fdholder.sock", state_dir);
		r = ioas_client_connect(path, "x", &c, err, sizeof(err));
		_exit(r == -EACCES ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

/* --- a state file that does not validate ---------------------------- */

/* Beta's import now claims a range that misses its pieces. */
static void shift_beta_import(IoasdState__State *m)
{
	bool found = false;

	for (size_t i = 0; i < m->n_tenants; i++)
		if (!strcmp(m->tenants[i]->name, "beta") && m->tenants[i]->n_imports == 1) {
			m->tenants[i]->imports[0]->iova += 16 * MiB;
			found = true;
		}
	ck_assert_msg(found, "beta's import is not in the state file");
}

/* A client with nothing restored is served, within a bounded time (a
 * daemon that hangs fails here rather than at Check's timeout). */
static int served_fresh(void *arg)
{
	struct ioas_client *c = NULL;
	struct ioas_stats st;
	char err[256] = "";
	const char *token = arg;

	alarm(10);
	if (token) {
		REQUIRE(sock_connect(&c, token, err, sizeof(err)) == -EKEYREJECTED);
		REQUIRE(strstr(err, "no restored objects waiting"));
	}
	REQUIRE(sock_connect(&c, NULL, err, sizeof(err)) == 0);
	REQUIRE(!ioas_client_reclaimed(c));
	REQUIRE(ioas_stats(c, &st) == 0);
	REQUIRE(st.ioas == 0 && st.mappings == 0 && st.memory_regions == 0);
	ioas_client_free(c);
	return 0;
}

/* Rule: a state whose tables do not hold together is refused whole, with
 * an audited reason naming the record; the daemon serves without it and
 * the store lets go of every fd it named (memory, and the device tenant's
 * device and context, emptied first on the kernel). Before the rule, the
 * release of alpha's share at the end of the grace looped forever over
 * beta's import (whose range did not cover its pieces). */
START_TEST(test_corrupt_state_refused)
{
	struct child ca, cb, cd;
	pid_t h = holder_pid();
	int holder_base;

	ck_assert_int_gt(h, 0);
	/* The daemon listens before it has put its own context in the store
	 * (the kernel backend does so as it attaches the state); a request
	 * served means the attach is done, so the baseline holds it. */
	ck_assert_int_eq(harness_run_client_as(GAMMA_UID, GAMMA_UID, served_fresh, NULL), 0);
	holder_base = harness_fd_count(h);
	ck_assert_int_gt(holder_base, 0);
	ck_assert_int_eq(spawn_as(ALPHA_UID, alpha_first, &ca), 0);
	ck_assert_int_eq(read_life(&ca, &A), 0);
	memcpy(alpha_share_token, A.share_token, sizeof(alpha_share_token));
	ck_assert_int_eq(spawn_as(BETA_UID, beta_first, &cb), 0);
	ck_assert_int_eq(read_life(&cb, &B), 0);
	delta_devfd = device_open();
	ck_assert_int_eq(spawn_as(DELTA_UID, delta_first, &cd), 0);
	ck_assert_int_eq(read(cd.rfd, &delta_life, sizeof(delta_life)), (ssize_t)sizeof(delta_life));
	close(cd.rfd);
	close(delta_devfd);
	delta_devfd = -1;
	ck_assert_int_eq(wait_child(&cd), 0);
	ck_assert_int_eq(delta_life.result, 0);
	stop_daemon_with(SIGKILL);
	ck_assert_int_eq(wait_child(&ca), 0);
	ck_assert_int_eq(wait_child(&cb), 0);

	to_state_file(shift_beta_import);
	ck_assert_int_eq(harness_daemon_start(&d, daemon_args()), 0);
	sleep(atoi(GRACE) + 1);
	ck_assert_int_eq(harness_run_client_as(GAMMA_UID, GAMMA_UID, served_fresh, NULL), 0);
	ck_assert_int_eq(harness_run_client_as(BETA_UID, BETA_UID, served_fresh, B.token), 0);
	ck_assert_int_eq(harness_run_client_as(ALPHA_UID, ALPHA_UID, served_fresh, A.token), 0);
	ck_assert_int_eq(harness_run_client_as(DELTA_UID, DELTA_UID, served_fresh,
					       delta_life.token), 0);
	ck_assert_msg(audit_has_all((const char *const[]){
			      "\"op\":\"restore\"", "\"result\":\"refused\"",
			      "\"tenant\":\"beta\"", "import 1", NULL }),
		      "no audited restore refusal naming beta's import 1");
	ck_assert(audit_has_all((const char *const[]){
		"\"op\":\"restore\"", "\"result\":\"refused\"", "\"tenant\":\"delta\"",
		NULL }));
	ck_assert(!audit_has("\"op\":\"grace-expired\""));
	/* Alpha's and delta's memory, delta's device (and context) left the
	 * holder: the kernel frees their pins. */
	ck_assert_int_eq(harness_wait_fd_count(h, holder_base, 20000), holder_base);
}
END_TEST

/* Rule: a second daemon on the same state directory does not start (the
 * database is locked): it would restore tenants the first one serves. */
START_TEST(test_second_daemon_refused)
{
	struct harness_daemon d2 = { 0 };

	ck_assert_int_eq(harness_daemon_start(&d2, daemon_args()), -ECHILD);
}
END_TEST

static int first_key(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
	ck_assert_uint_eq(klen, RECORD_MAPPING_KEY);
	memcpy(ud, key, klen);
	return 1;
}

/* Rule: a database record that does not decode refuses the whole state,
 * with the record and what is wrong in the audit; the daemon serves. */
START_TEST(test_corrupt_record_refused)
{
	struct db_config dc = { .map_size = 1ull << 30 };
	uint8_t key[RECORD_MAPPING_KEY] = { 0 };
	struct child ca, cb;
	struct db *db = NULL;
	struct err e = { 0 };
	int dir_fd;

	ck_assert_int_eq(spawn_as(ALPHA_UID, alpha_first, &ca), 0);
	ck_assert_int_eq(read_life(&ca, &A), 0);
	memcpy(alpha_share_token, A.share_token, sizeof(alpha_share_token));
	ck_assert_int_eq(spawn_as(BETA_UID, beta_first, &cb), 0);
	ck_assert_int_eq(read_life(&cb, &B), 0);
	stop_daemon_with(SIGKILL);
	ck_assert_int_eq(wait_child(&ca), 0);
	ck_assert_int_eq(wait_child(&cb), 0);

	dir_fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dir_fd, 0);
	ck_assert_msg(db_open(dir_fd, state_dir, &dc, &db, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(db_walk(db, DB_MAPPINGS, NULL, 0, first_key, key), 0);
	ck_assert_int_eq(db_put(db, DB_MAPPINGS, key, sizeof(key), "bad", 3), 0);
	ck_assert_msg(db_commit(db, &e) == 0, "%s", e.msg);
	db_free(db);
	close(dir_fd);

	ck_assert_int_eq(harness_daemon_start(&d, daemon_args()), 0);
	ck_assert_int_eq(harness_run_client_as(ALPHA_UID, ALPHA_UID, served_fresh, A.token), 0);
	ck_assert_int_eq(harness_run_client_as(BETA_UID, BETA_UID, served_fresh, B.token), 0);
	ck_assert_msg(audit_has_all((const char *const[]){
			      "\"op\":\"restore\"", "\"result\":\"refused\"",
			      "3 bytes, not 32", NULL }),
		      "no audited restore refusal naming the bad record");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("restart");
	TCase *tc = tcase_create("restart");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_sigkill_under_load_reclaim);
	tcase_add_test(tc, test_state_file_converted);
	tcase_add_test(tc, test_holder_refuses_other_uid);
	tcase_add_test(tc, test_device_tenant_restarts);
	tcase_add_test(tc, test_device_tenant_planned_restart);
	tcase_add_test(tc, test_corrupt_state_refused);
	tcase_add_test(tc, test_corrupt_record_refused);
	tcase_add_test(tc, test_second_daemon_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	if (geteuid() != 0) {
		fprintf(stderr, "test-restart: tenants are told apart by uid: needs root; skipped\n");
		return 77;
	}
	sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
