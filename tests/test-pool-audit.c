/* SPDX-License-Identifier: MIT */
/* The IOAS pool (take, give, reset, refill from the loop) and the audit
 * sink (JSON lines, failure reporting, refuse mode). */
#include <check.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "iommu/backend.h"
#include "tenant/pool.h"
#include "common/util.h"

/* audit_open() of path, as a daemon started by hand would. */
static int open_audit(const char *path, enum audit_failure_mode mode,
		      struct audit **ret, struct err *e)
{
	struct audit_config cfg = {
		.path = path, .owner = (uid_t)-1, .mode = mode,
	};

	return audit_open(&cfg, ret, e);
}

/* A fresh scratch directory (mode 0755) in dir. */
static void scratch_dir(char dir[64])
{
	strcpy(dir, "/tmp/ioasd-audit.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(chmod(dir, 0755), 0);
}

static void rm_rf(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static off_t file_size(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_size;
}

/* Writes past limit bytes fail with EFBIG (or come up short when they
 * cross it), as on a full filesystem; SIGXFSZ ignored as the daemon does. */
static void limit_file_size(rlim_t limit, struct rlimit *old)
{
	struct rlimit r;

	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, old), 0);
	r.rlim_cur = limit;
	r.rlim_max = old->rlim_max;
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &r), 0);
}

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
	ck_assert_int_eq(chmod(path, 0640), 0);
	ck_assert_int_eq(open_audit(path, AUDIT_FAILURE_CONTINUE, &a, NULL), 0);
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
 * to stop granting until it recovers. A file-size limit of 0 fails every
 * write, as a full filesystem does. */
START_TEST(audit_failure_modes)
{
	struct audit_record r = { .kind = AUDIT_DECISION, .op = "Map", .allowed = true };
	char dir[64], path[96];
	struct rlimit old;
	struct audit *a, *c;
	struct err e = { 0 };

	scratch_dir(dir);
	snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
	ck_assert_int_eq(open_audit(path, AUDIT_FAILURE_REFUSE, &a, NULL), 0);
	ck_assert_int_eq(open_audit(path, AUDIT_FAILURE_CONTINUE, &c, NULL), 0);
	ck_assert(audit_healthy(a));
	limit_file_size(0, &old);
	ck_assert_int_eq(audit_emit(a, &r), -EFBIG);
	ck_assert(!audit_healthy(a));
	ck_assert_int_eq(audit_emit(c, &r), -EFBIG);
	ck_assert(audit_healthy(c));
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	/* Recovered at the next record that is written. */
	ck_assert_int_eq(audit_emit(a, &r), 0);
	ck_assert(audit_healthy(a));
	audit_close(a);
	audit_close(c);
	ck_assert_int_eq(open_audit("/nonexistent/dir/audit.jsonl",
				    AUDIT_FAILURE_CONTINUE, &a, &e), -ENOENT);
	ck_assert_ptr_nonnull(strstr(e.msg, "/nonexistent/dir/audit.jsonl"));
	rm_rf(dir);
}
END_TEST

/* A record that does not fit whole (here the file-size limit falls in
 * its middle: the write comes up short, the rest fails) is taken back:
 * the file ends with the last whole line, and the record counts as
 * dropped. */
START_TEST(audit_never_half_a_record)
{
	struct audit_record r = { .kind = AUDIT_DECISION, .op = "Map", .allowed = false,
				  .errnum = ENOSPC, .reason = "MaxMappings=3 reached",
				  .tenant = "alpha", .uid = 1, .pid = 2, .conn = 3 };
	char dir[64], path[96], text[4096];
	struct audit_stats st;
	struct rlimit old;
	struct audit *a;
	off_t one;
	size_t n;
	FILE *f;

	scratch_dir(dir);
	snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
	ck_assert_int_eq(open_audit(path, AUDIT_FAILURE_CONTINUE, &a, NULL), 0);
	ck_assert_int_eq(audit_emit(a, &r), 0);
	one = file_size(path);
	audit_get_stats(a, &st);
	ck_assert_uint_eq(st.dropped, 0);

	limit_file_size((rlim_t)one + 40, &old);
	ck_assert_int_eq(audit_emit(a, &r), -EFBIG);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	ck_assert_int_eq(file_size(path), one);         /* not one + 40 */
	audit_get_stats(a, &st);
	ck_assert_uint_eq(st.dropped, 1);

	/* The next record is a line of its own. */
	ck_assert_int_eq(audit_emit(a, &r), 0);
	audit_close(a);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	ck_assert_uint_eq(n, 2 * (size_t)one);
	/* The same record twice, but for the time stamp ({"ts":"...Z"). */
	ck_assert_int_eq(memcmp(text + 32, text + one + 32, (size_t)one - 32), 0);
	ck_assert_int_eq(text[one - 1], '\n');
	ck_assert_int_eq(text[one], '{');
	ck_assert_int_eq(text[n - 1], '\n');
	rm_rf(dir);
}
END_TEST

/* Lines of path that contain every one of the needles (NULL-terminated). */
static unsigned count_lines(const char *path, const char *const *needles)
{
	char line[4096];
	unsigned n = 0;
	FILE *f = fopen(path, "r");

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		bool all = true;

		for (const char *const *p = needles; *p; p++)
			all = all && strstr(line, *p);
		n += all;
	}
	fclose(f);
	return n;
}

#define LINES(path, ...) count_lines(path, (const char *const[]){ __VA_ARGS__, NULL })

/* Refusals are limited per subject — a policy tenant by name, anyone else
 * by uid (a --no-policy tenant is one connection: its uid is what counts) —
 * and summed up when the window closes; allowed records never are. */
START_TEST(audit_rate_limits_refusals)
{
	struct audit_record refused = {
		.kind = AUDIT_DECISION, .op = "IoasDestroy", .errnum = ENOENT,
		.reason = "no IOAS 99", .tenant = "alpha", .uid = 1000, .pid = 7,
		.conn = 1, .policy_file = "/p/50.conf", .policy_line = 1,
	};
	struct audit_record allowed = refused;
	struct audit_record beta = refused;
	struct audit_record stranger = {
		.kind = AUDIT_CONNECT, .op = "connect", .errnum = EACCES,
		.reason = "no policy tenant matches uid 2", .uid = 2, .pid = 9, .conn = 2,
	};
	struct audit_record nopolicy = {
		.kind = AUDIT_DECISION, .op = "Map", .errnum = EINVAL, .uid = 7, .pid = 3,
	};
	struct audit_config cfg = {
		.owner = (uid_t)-1, .rate_interval_sec = 60, .rate_burst = 3,
	};
	char dir[64], path[96], names[5][32];
	struct audit_stats st;
	struct audit *a;

	allowed.allowed = true;
	allowed.errnum = 0;
	beta.tenant = "beta";
	scratch_dir(dir);
	snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
	cfg.path = path;
	ck_assert_int_eq(audit_open(&cfg, &a, NULL), 0);
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(audit_emit(a, &refused), i < 3 ? 0 : AUDIT_SUPPRESSED);
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(audit_emit(a, &allowed), 0);
	ck_assert_int_eq(audit_emit(a, &beta), 0);
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(audit_emit(a, &stranger), i < 3 ? 0 : AUDIT_SUPPRESSED);
	for (int i = 0; i < 5; i++) {
		snprintf(names[i], sizeof(names[i]), "conn%d-uid7", 10 + i);
		nopolicy.tenant = names[i];
		nopolicy.conn = 10 + (uint64_t)i;
		ck_assert_int_eq(audit_emit(a, &nopolicy), i < 3 ? 0 : AUDIT_SUPPRESSED);
	}
	audit_get_stats(a, &st);
	ck_assert_uint_eq(st.suppressed, 7 + 7 + 2);
	ck_assert_uint_eq(st.dropped, 0);
	ck_assert_uint_eq(LINES(path, "\"result\":\"refused\"", "\"tenant\":\"alpha\""), 3);
	ck_assert_uint_eq(LINES(path, "\"result\":\"allowed\""), 10);
	ck_assert_uint_eq(LINES(path, "\"kind\":\"ratelimit\""), 0);
	/* Closing sums up the windows still open, one record each. */
	audit_close(a);
	ck_assert_uint_eq(LINES(path, "\"kind\":\"ratelimit\""), 3);
	ck_assert_uint_eq(LINES(path, "\"op\":\"suppressed\",\"result\":\"suppressed\"",
				"\"tenant\":\"alpha\"", "\"suppressed\":7,",
				"7 refusals of tenant alpha suppressed in"), 1);
	ck_assert_uint_eq(LINES(path, "\"kind\":\"ratelimit\"", "\"uid\":2,",
				"\"suppressed\":7,", "refusals of uid 2"), 1);
	ck_assert_uint_eq(LINES(path, "\"kind\":\"ratelimit\"", "\"uid\":7,",
				"\"suppressed\":2,"), 1);
	rm_rf(dir);
}
END_TEST

/* A window that closes is summed up at the next tick, with its interval;
 * 0 turns the limit off. */
START_TEST(audit_rate_window_and_off)
{
	struct audit_record refused = {
		.kind = AUDIT_DECISION, .op = "Unmap", .errnum = ENOENT,
		.tenant = "alpha", .uid = 1000, .pid = 7, .conn = 1,
		.policy_file = "/p/50.conf", .policy_line = 1,
	};
	struct audit_config cfg = {
		.owner = (uid_t)-1, .rate_interval_sec = 1, .rate_burst = 1,
	};
	char dir[64], path[96];
	struct audit_stats st;
	struct audit *a;

	scratch_dir(dir);
	snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
	cfg.path = path;
	ck_assert_int_eq(audit_open(&cfg, &a, NULL), 0);
	ck_assert_int_eq(audit_emit(a, &refused), 0);
	ck_assert_int_eq(audit_emit(a, &refused), AUDIT_SUPPRESSED);
	ck_assert_int_eq(audit_emit(a, &refused), AUDIT_SUPPRESSED);
	audit_tick(a);
	ck_assert_uint_eq(LINES(path, "\"kind\":\"ratelimit\""), 0);
	usleep(1100 * 1000);
	audit_tick(a);
	ck_assert_uint_eq(LINES(path, "\"kind\":\"ratelimit\"", "\"suppressed\":2,\"interval_sec\":1"), 1);
	audit_close(a);
	ck_assert_uint_eq(LINES(path, "\"kind\":\"ratelimit\""), 1);

	cfg.rate_burst = 0;
	ck_assert_int_eq(audit_open(&cfg, &a, NULL), 0);
	for (int i = 0; i < 500; i++)
		ck_assert_int_eq(audit_emit(a, &refused), 0);
	audit_get_stats(a, &st);
	ck_assert_uint_eq(st.suppressed, 0);
	audit_close(a);
	ck_assert_uint_eq(LINES(path, "\"op\":\"Unmap\""), 501);
	rm_rf(dir);
}
END_TEST

/* The audit log is never reached through a symbolic link (planted in a
 * directory others can write, it would make a root daemon append to any
 * file), dangling or not; the target is left alone. */
START_TEST(audit_log_refuses_symlinks)
{
	char dir[64], target[96], link_path[96], dangling[96], absent[96];
	struct audit *a = NULL;
	struct err e = { 0 };
	int fd;

	scratch_dir(dir);
	snprintf(target, sizeof(target), "%s/precious", dir);
	snprintf(link_path, sizeof(link_path), "%s/audit.jsonl", dir);
	snprintf(dangling, sizeof(dangling), "%s/dangling.jsonl", dir);
	snprintf(absent, sizeof(absent), "%s/absent", dir);
	fd = open(target, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(symlink(target, link_path), 0);
	ck_assert_int_eq(symlink(absent, dangling), 0);

	ck_assert_int_eq(open_audit(link_path, AUDIT_FAILURE_CONTINUE, &a, &e), -ELOOP);
	ck_assert_ptr_null(a);
	ck_assert_msg(strstr(e.msg, link_path) && strstr(e.msg, "symbolic link"), "%s", e.msg);
	ck_assert_int_eq(file_size(target), 0);
	ck_assert_int_eq(open_audit(dangling, AUDIT_FAILURE_CONTINUE, &a, &e), -ELOOP);
	ck_assert_int_eq(access(absent, F_OK), -1);     /* not created through it */
	rm_rf(dir);
}
END_TEST

/* Only a regular file of the daemon's own, with one name, that nobody else
 * can write: each refusal says which file and why. */
START_TEST(audit_log_must_be_the_daemons)
{
	char dir[64], path[96], other[96], fifo[96];
	struct audit_config cfg = { .owner = (uid_t)-1 };
	struct audit *a = NULL;
	struct err e = { 0 };
	int fd;

	scratch_dir(dir);
	snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
	snprintf(other, sizeof(other), "%s/other-name", dir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	cfg.path = path;

	/* Created by the daemon: its own, 0640 (less with the umask). */
	ck_assert_int_eq(audit_open(&cfg, &a, &e), 0);
	a = audit_close(a);
	ck_assert_int_eq(chmod(path, 0660), 0);
	ck_assert_int_eq(audit_open(&cfg, &a, &e), -EPERM);
	ck_assert_msg(strstr(e.msg, path) && strstr(e.msg, "writable by its group or others"),
		      "%s", e.msg);
	ck_assert_int_eq(chmod(path, 0602), 0);
	ck_assert_int_eq(audit_open(&cfg, &a, &e), -EPERM);
	ck_assert_int_eq(chmod(path, 0600), 0);

	ck_assert_int_eq(link(path, other), 0);
	ck_assert_int_eq(audit_open(&cfg, &a, &e), -EPERM);
	ck_assert_msg(strstr(e.msg, "2 hard links"), "%s", e.msg);
	ck_assert_int_eq(unlink(other), 0);

	if (geteuid() == 0) {
		ck_assert_int_eq(chown(path, 65534, 65534), 0);
		ck_assert_int_eq(audit_open(&cfg, &a, &e), -EPERM);
		ck_assert_msg(strstr(e.msg, path) && strstr(e.msg, "belongs to uid 65534") &&
			      strstr(e.msg, "not to the daemon's user (uid 0)"), "%s", e.msg);
		/* ...unless 65534 is the user the daemon will run as. */
		cfg.owner = 65534;
		ck_assert_int_eq(audit_open(&cfg, &a, &e), 0);
		a = audit_close(a);
		cfg.owner = 1;
		ck_assert_int_eq(audit_open(&cfg, &a, &e), -EPERM);
		ck_assert_msg(strstr(e.msg, "uid 0, or 1 of --user"), "%s", e.msg);
		cfg.owner = (uid_t)-1;
	} else {
		printf("NOTICE: audit_log_must_be_the_daemons: not root, the foreign "
		       "owner case is not checked\n");
	}

	/* Not a regular file: refused, and a FIFO does not block. */
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	cfg.path = fifo;
	ck_assert_int_eq(audit_open(&cfg, &a, &e), -EINVAL);
	ck_assert_msg(strstr(e.msg, "a FIFO, not a regular file"), "%s", e.msg);
	fd = open(fifo, O_RDONLY | O_NONBLOCK);   /* with a reader, too */
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(audit_open(&cfg, &a, &e), -EINVAL);
	close(fd);
	cfg.path = "/dev/full";
	ck_assert_int_eq(audit_open(&cfg, &a, &e), -EINVAL);
	ck_assert_msg(strstr(e.msg, "/dev/full is a character device"), "%s", e.msg);
	cfg.path = dir;
	ck_assert_int_ne(audit_open(&cfg, &a, &e), 0);
	ck_assert_ptr_null(a);
	rm_rf(dir);
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
	tcase_add_test(tc, audit_never_half_a_record);
	tcase_add_test(tc, audit_rate_limits_refusals);
	tcase_add_test(tc, audit_rate_window_and_off);
	tcase_add_test(tc, audit_log_refuses_symlinks);
	tcase_add_test(tc, audit_log_must_be_the_daemons);
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
