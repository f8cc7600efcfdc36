/* SPDX-License-Identifier: MIT */
/*
 * The connection layer alone, on a socketpair and an event base of its own:
 * the output queue's hard limit, and who the peer is when its pid was reused.
 */
#include <check.h>
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "net/conn.h"
#include "policy/policy.h"
#include "proto/wire.h"

/* A peer that reads nothing: the queue grows past the high watermark (reading
 * pauses) and then, fed by sends that are not replies (notifications), to
 * its hard limit, where it is dropped and the connection closed by its own
 * write callback. */
START_TEST(hard_limit_drops_the_queue)
{
	struct event_base *base = event_base_new();
	const struct conn_config cfg = { .max_outq_bytes = 4096, .slow_client_sec = 10 };
	const struct rpc_env env = { 0 };
	static uint8_t buf[1000];
	struct conn *c = NULL;
	int sp[2], r = 0, n;

	ck_assert_ptr_nonnull(base);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
	ck_assert_int_eq(conn_new(base, &cfg, &env, 1, sp[0], NULL, &c), 0);
	for (n = 0; n < 100; n++) {
		r = conn_send(c, buf, sizeof(buf));
		if (r < 0)
			break;
		if (n == 4)
			ck_assert(c->read_paused); /* over the 4 KiB watermark */
	}
	ck_assert_int_eq(r, -ENOBUFS);
	ck_assert_int_eq(n, 4 * 4096 / (int)sizeof(buf)); /* 16 fit, the 17th does not */
	ck_assert(c->closing);
	ck_assert_uint_eq(c->outq_bytes, 0);
	ck_assert_int_eq(conn_send(c, buf, 1), -ENOBUFS);
	/* Nothing of the dropped queue was sent; the write callback frees the
	 * connection, which closes its end. */
	ck_assert_int_eq(event_base_loop(base, EVLOOP_ONCE), 0);
	ck_assert_int_eq(recv(sp[1], buf, sizeof(buf), MSG_DONTWAIT), 0);
	close(sp[1]);
	event_base_free(base);
}
END_TEST

/* A datagram with an fd (a vEVENTQ's, on its reply): the peer gets the
 * same file once it is sent, the connection's copy is closed then; on a
 * queue that was dropped the fd is closed at once. */
START_TEST(an_fd_rides_on_a_datagram)
{
	struct event_base *base = event_base_new();
	const struct conn_config cfg = { .max_outq_bytes = 4096, .slow_client_sec = 10 };
	const struct rpc_env env = { 0 };
	static uint8_t buf[1000];
	struct stat want, got;
	struct conn *c = NULL;
	int sp[2], fds[4], mfd, r;
	size_t nfds = 0;

	ck_assert_ptr_nonnull(base);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
	ck_assert_int_eq(conn_new(base, &cfg, &env, 1, sp[0], NULL, &c), 0);
	mfd = memfd_create("an-fd-rides", MFD_CLOEXEC);
	ck_assert_int_ge(mfd, 0);
	ck_assert_int_eq(fstat(mfd, &want), 0);
	ck_assert_int_eq(conn_send_fd(c, "x", 1, mfd), 0);
	event_active(c->ev_write, EV_WRITE, 0);
	ck_assert_int_eq(event_base_loop(base, EVLOOP_ONCE), 0);
	ck_assert_int_eq(fcntl(mfd, F_GETFD), -1); /* the sender's copy went */
	ck_assert_int_eq(wire_recv(sp[1], buf, sizeof(buf), fds, 4, &nfds, MSG_DONTWAIT), 1);
	ck_assert_uint_eq(nfds, 1);
	ck_assert_int_eq(fstat(fds[0], &got), 0);
	ck_assert(got.st_ino == want.st_ino && got.st_dev == want.st_dev);
	close(fds[0]);
	/* Over the hard limit: dropped, and the fd of a later send closed. */
	for (r = 0; r == 0;)
		r = conn_send(c, buf, sizeof(buf));
	mfd = memfd_create("an-fd-dropped", MFD_CLOEXEC);
	ck_assert_int_ge(mfd, 0);
	ck_assert_int_eq(conn_send_fd(c, "x", 1, mfd), -ENOBUFS);
	ck_assert_int_eq(fcntl(mfd, F_GETFD), -1);
	ck_assert_int_eq(event_base_loop(base, EVLOOP_ONCE), 0);
	close(sp[1]);
	event_base_free(base);
}
END_TEST

/* Give the next fork() pid want (as root, where ns_last_pid is writable). */
static pid_t fork_as(pid_t want)
{
	for (int tries = 0; tries < 50; tries++) {
		FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "we");
		pid_t pid;

		if (!f || fprintf(f, "%d", (int)want - 1) < 0 || fclose(f) != 0)
			return -1;
		pid = fork();
		if (pid <= 0)
			return pid;
		if (pid == want)
			return pid;
		kill(pid, SIGKILL); /* something else forked in between */
		waitpid(pid, NULL, 0);
	}
	return -1;
}

/* The peer connected, exited, and its pid went to another process before
 * the daemon accepted: the unit and cgroup of that other process must not
 * become the peer's (SO_PEERPIDFD, where the kernel has it). */
START_TEST(reused_pid_is_not_the_peer)
{
	struct event_base *base;
	const struct conn_config cfg = { .max_outq_bytes = 4096 };
	const struct rpc_env env = { 0 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct conn *c = NULL;
	struct policy_peer who;
	pid_t peer, impostor;
	int l, fd, status, one = 0;

	if (geteuid() != 0 || access("/proc/sys/kernel/ns_last_pid", W_OK) < 0) {
		printf("NOTICE: not root or no ns_last_pid: pid reuse not checked\n");
		return;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/ioasd-test-conn.%d", (int)getpid());
	unlink(sa.sun_path);
	l = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(l, 0);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(l, 4), 0);
	peer = fork();
	ck_assert_int_ge(peer, 0);
	if (peer == 0) {
		int s2 = socket(AF_UNIX, SOCK_SEQPACKET, 0);

		_exit(connect(s2, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(peer, &status, 0), peer);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	impostor = fork_as(peer);
	if (impostor == 0) {
		pause();
		_exit(0);
	}
	if (impostor < 0) {
		printf("NOTICE: could not reuse pid %d: pid reuse not checked\n", (int)peer);
		close(l);
		unlink(sa.sun_path);
		return;
	}
	/* Made only on the path that frees it: the early returns above
	 * (no pid reuse on a busy host) must leave nothing behind. */
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	fd = accept4(l, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(conn_new(base, &cfg, &env, 1, fd, NULL, &c), 0);
	ck_assert_int_eq(c->rs.cred.pid, peer);
	/* Read when asked for, not at accept; the same answer either way. */
	ck_assert(!c->have_groups && !c->have_unit_cgroup);
	conn_get_peer(c, POLICY_PEER_UNIT_CGROUP, &who);
	ck_assert(c->have_unit_cgroup && !c->have_groups);
	one = who.cgroup == NULL && who.unit == NULL;
	conn_free(c);
	kill(impostor, SIGKILL);
	waitpid(impostor, NULL, 0);
	close(l);
	unlink(sa.sun_path);
	event_base_free(base);
	ck_assert_msg(one, "the process that took pid %d was taken for the peer", (int)peer);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("conn");
	TCase *tc = tcase_create("queue");

	tcase_add_test(tc, hard_limit_drops_the_queue);
	tcase_add_test(tc, an_fd_rides_on_a_datagram);
	tcase_add_test(tc, reused_pid_is_not_the_peer);
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
