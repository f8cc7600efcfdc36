/* SPDX-License-Identifier: MIT */
/*
 * Delegation's machinery without a kernel iommufd (issue 17):
 *   - the context helper (tenancy/ctxhelper.c) answers with the step and
 *     errno that failed, refuses what is not a mode, and once gone (killed,
 *     or its privileges could not be dropped) every request is ESRCH with
 *     the reason, the daemon's side unharmed;
 *   - a reply that carries an fd (net/conn.c): the fd rides on that
 *     datagram, in order with the others, and the connection's copy is
 *     closed once sent or dropped with the queue.
 * What a real kernel does with a delegated context and device is
 * tests/vm/guest/97-vmm.sh's.
 */
#include <check.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "net/conn.h"
#include "proto/wire.h"
#include "tenancy/ctxhelper.h"

#include "check-run.h"

static int drop_nothing(void *arg, char *why, size_t len)
{
	(void)arg;
	(void)why;
	(void)len;
	return 0;
}

static int drop_fails(void *arg, char *why, size_t len)
{
	(void)arg;
	snprintf(why, len, "refusing on purpose");
	return -EPERM;
}

/* /dev/null opens but is no iommufd: the helper says which step failed. */
START_TEST(helper_reports_the_failed_step)
{
	struct ctxhelper *h = NULL;
	struct err e = { 0 };
	int fd = -1;

	ck_assert_int_eq(ctxhelper_spawn("/dev/null", drop_nothing, NULL, &h), 0);
	ck_assert_int_gt(ctxhelper_pid(h), 0);
	ck_assert_int_eq(ctxhelper_mint(h, 1, &fd, &e), -ENOTTY);
	ck_assert_int_eq(fd, -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "IOMMU_OPTION_RLIMIT_MODE get"));
	/* Only 0 and 1 are modes; the helper says so and goes on. */
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(ctxhelper_mint(h, 2, &fd, &e), -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "not a mode"));
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(ctxhelper_mint(h, 0, &fd, &e), -ENOTTY);
	ctxhelper_free(h);

	ck_assert_int_eq(ctxhelper_spawn("/nonexistent/iommu", drop_nothing, NULL, &h), 0);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(ctxhelper_mint(h, 0, &fd, &e), -ENOENT);
	ck_assert_ptr_nonnull(strstr(e.msg, "open"));
	ctxhelper_free(h);
}
END_TEST

/* Gone: killed, or it could not drop its privileges (it exits then). */
START_TEST(helper_gone_is_esrch)
{
	struct ctxhelper *h = NULL;
	struct err e = { 0 };
	int fd = -1, status;
	pid_t pid;

	ck_assert_int_eq(ctxhelper_spawn("/dev/null", drop_nothing, NULL, &h), 0);
	pid = ctxhelper_pid(h);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(ctxhelper_mint(h, 1, &fd, &e), -ESRCH);
	ck_assert_ptr_nonnull(strstr(e.msg, "context helper"));
	ck_assert_ptr_nonnull(strstr(e.msg, "until the daemon restarts"));
	ck_assert_int_eq(ctxhelper_pid(h), 0);
	/* Reaped (by the request, or by the next poll as the daemon's tick
	 * does) and reported once, with the signal that ended it. */
	for (int i = 0; i < 200 && (status = ctxhelper_poll(h)) < 0; i++)
		usleep(10000);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	ck_assert_int_eq(ctxhelper_poll(h), -1);
	ck_assert_int_eq(waitpid(pid, &status, WNOHANG), -1); /* no zombie */
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(ctxhelper_mint(h, 0, &fd, &e), -ESRCH);
	ck_assert_int_eq(fd, -1);
	ctxhelper_free(h);

	ck_assert_int_eq(ctxhelper_spawn("/dev/null", drop_fails, NULL, &h), 0);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(ctxhelper_mint(h, 1, &fd, &e), -ESRCH);
	ctxhelper_free(h);

	/* Found gone between requests (the daemon's tick): reaped, reported once. */
	ck_assert_int_eq(ctxhelper_spawn("/dev/null", drop_nothing, NULL, &h), 0);
	ck_assert_int_eq(ctxhelper_poll(h), -1); /* alive */
	pid = ctxhelper_pid(h);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	for (int i = 0; i < 200 && (status = ctxhelper_poll(h)) < 0; i++)
		usleep(10000);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	ck_assert_int_eq(ctxhelper_poll(h), -1);
	ck_assert_int_eq(ctxhelper_pid(h), 0);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(ctxhelper_mint(h, 0, &fd, &e), -ESRCH);
	ctxhelper_free(h);
	/* No helper at all (the sim). */
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(ctxhelper_mint(NULL, 1, &fd, &e), -ESRCH);
}
END_TEST

/* The helper holds nothing of the daemon's: no fd but its socket. */
START_TEST(helper_holds_only_its_socket)
{
	struct ctxhelper *h = NULL;
	struct err e = { 0 };
	char path[64];
	int fd = -1, canary;
	struct stat st;

	canary = open("/dev/null", O_RDONLY); /* not CLOEXEC, on purpose */
	ck_assert_int_ge(canary, 0);
	ck_assert_int_eq(ctxhelper_spawn("/dev/null", drop_nothing, NULL, &h), 0);
	/* Once it answered, it has closed what it inherited. */
	ck_assert_int_eq(ctxhelper_mint(h, 0, &fd, &e), -ENOTTY);
	for (int i = 4; i < 64; i++) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)ctxhelper_pid(h), i);
		ck_assert_msg(lstat(path, &st) < 0, "the helper holds fd %d", i);
	}
	close(canary);
	ctxhelper_free(h);
}
END_TEST

/* A reply with an fd: it arrives on that datagram, in order. */
START_TEST(conn_reply_carries_its_fd)
{
	struct event_base *base = event_base_new();
	const struct conn_config cfg = { .max_outq_bytes = 4096, .slow_client_sec = 10 };
	const struct rpc_env env = { 0 };
	struct conn *c = NULL;
	int sp[2], p[2], fds[IOASD_MAX_FDS];
	char buf[16];
	size_t nfds = 0;
	struct stat a, b;

	ck_assert_ptr_nonnull(base);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_eq(fstat(p[0], &a), 0);
	ck_assert_int_eq(conn_new(base, &cfg, &env, 1, sp[0], NULL, &c), 0);
	ck_assert_int_eq(conn_send(c, "one", 3), 0);
	ck_assert_int_eq(conn_send_fd(c, "two", 3, p[0]), 0); /* taken */
	ck_assert_int_eq(conn_send(c, "three", 5), 0);
	conn_release(c); /* flush what is queued, as after a commit */
	ck_assert_int_eq(wire_recv(sp[1], buf, sizeof(buf), fds, IOASD_MAX_FDS, &nfds, MSG_DONTWAIT), 3);
	ck_assert_uint_eq(nfds, 0);
	ck_assert_int_eq(wire_recv(sp[1], buf, sizeof(buf), fds, IOASD_MAX_FDS, &nfds, MSG_DONTWAIT), 3);
	ck_assert_uint_eq(nfds, 1);
	ck_assert_int_eq(fstat(fds[0], &b), 0);
	ck_assert(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	close(fds[0]);
	ck_assert_int_eq(wire_recv(sp[1], buf, sizeof(buf), fds, IOASD_MAX_FDS, &nfds, MSG_DONTWAIT), 5);
	ck_assert_uint_eq(nfds, 0);
	/* The daemon's copy went with the datagram: the pipe has no reader. */
	ck_assert_int_eq(write(p[1], "x", 1), -1);
	ck_assert_int_eq(errno, EPIPE);
	close(p[1]);
	conn_free(c);
	close(sp[1]);
	event_base_free(base);
}
END_TEST

/* Dropped with the queue (a peer gone): the fd is closed, not leaked. */
START_TEST(conn_dropped_reply_closes_its_fd)
{
	struct event_base *base = event_base_new();
	const struct conn_config cfg = { .max_outq_bytes = 4096, .slow_client_sec = 10 };
	const struct rpc_env env = { 0 };
	struct conn *c = NULL;
	int sp[2], p[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_eq(conn_new(base, &cfg, &env, 1, sp[0], NULL, &c), 0);
	c->held = true; /* as while a commit is pending: nothing leaves */
	ck_assert_int_eq(conn_send_fd(c, "two", 3, p[0]), 0);
	conn_free(c);
	ck_assert_int_eq(write(p[1], "x", 1), -1);
	ck_assert_int_eq(errno, EPIPE);
	close(p[1]);
	close(sp[1]);
	event_base_free(base);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("delegate");
	TCase *tc = tcase_create("delegate");

	tcase_add_test(tc, helper_reports_the_failed_step);
	tcase_add_test(tc, helper_gone_is_esrch);
	tcase_add_test(tc, helper_holds_only_its_socket);
	tcase_add_test(tc, conn_reply_carries_its_fd);
	tcase_add_test(tc, conn_dropped_reply_closes_its_fd);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	/* A write to a pipe without reader must fail, not kill. */
	signal(SIGPIPE, SIG_IGN);
	return check_run(suite());
}
