/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for proto/wire.c over real socketpair(AF_UNIX, SOCK_SEQPACKET):
 * datagram round trips with fds, and that every refused datagram leaves no
 * fd behind (counted in /proc/self/fd).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/wire.h"

#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76
#endif

/* Number of open fds of this process (not counting the directory fd). */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

static void seqpacket_pair(int s[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, s), 0);
}

static bool is_cloexec(int fd)
{
	int f = fcntl(fd, F_GETFD);

	ck_assert_int_ge(f, 0);
	return f & FD_CLOEXEC;
}

static bool same_file(int a, int b)
{
	struct stat sa, sb;

	ck_assert_int_eq(fstat(a, &sa), 0);
	ck_assert_int_eq(fstat(b, &sb), 0);
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Send with raw sendmsg, bypassing wire_send's limits: up to 16 fds. */
static void raw_send(int sock, const void *buf, size_t len, const int *fds,
		     size_t nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 16)];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	ck_assert_uint_le(nfds, 16);
	memset(&control, 0, sizeof(control));
	if (nfds) {
		struct cmsghdr *c;

		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	ck_assert_int_eq(sendmsg(sock, &msg, MSG_NOSIGNAL), (ssize_t)len);
}

/* n pipes; fills r[] and w[]. */
static void make_pipes(int *r, int *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int p[2];

		ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
		r[i] = p[0];
		w[i] = p[1];
	}
}

static void close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* Rule: a datagram without fds arrives whole, with no fds. */
START_TEST(roundtrip_no_fds)
{
	char buf[64];
	int s[2], fds[IOASD_MAX_FDS];
	size_t nfds = 99;

	seqpacket_pair(s);
	ck_assert_int_eq(wire_send(s[0], "hello", 5, NULL, 0), 0);
	ck_assert_int_eq(wire_recv(s[1], buf, sizeof(buf), fds, IOASD_MAX_FDS,
				   &nfds, 0), 5);
	ck_assert_uint_eq(nfds, 0);
	ck_assert_int_eq(memcmp(buf, "hello", 5), 0);
	close(s[0]);
	close(s[1]);
}
END_TEST

/*
 * Rule: n fds (1 and IOASD_MAX_FDS) arrive in order, are new fds for the
 * same files, really usable, and CLOEXEC.
 */
static void roundtrip_n(size_t n)
{
	int r[IOASD_MAX_FDS], w[IOASD_MAX_FDS], got[IOASD_MAX_FDS];
	char buf[64];
	size_t nfds = 0;
	int s[2];

	seqpacket_pair(s);
	make_pipes(r, w, n);
	/* Send write ends without CLOEXEC: the receiver must set its own. */
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(fcntl(w[i], F_SETFD, 0), 0);
	ck_assert_int_eq(wire_send(s[0], "fds", 3, w, n), 0);
	ck_assert_int_eq(wire_recv(s[1], buf, sizeof(buf), got, IOASD_MAX_FDS,
				   &nfds, 0), 3);
	ck_assert_uint_eq(nfds, n);
	for (size_t i = 0; i < n; i++) {
		char c = (char)('a' + i), d = 0;

		ck_assert_int_ne(got[i], w[i]);
		ck_assert(same_file(got[i], w[i]));
		ck_assert(is_cloexec(got[i]));
		/* The sender's copy closed, the received fd still works. */
		close(w[i]);
		ck_assert_int_eq(write(got[i], &c, 1), 1);
		ck_assert_int_eq(read(r[i], &d, 1), 1);
		ck_assert_int_eq(d, c);
	}
	close_fds(got, n);
	close_fds(r, n);
	close(s[0]);
	close(s[1]);
}

START_TEST(roundtrip_one_fd)
{
	roundtrip_n(1);
}
END_TEST

START_TEST(roundtrip_max_fds)
{
	roundtrip_n(IOASD_MAX_FDS);
}
END_TEST

/* Rule: a datagram of exactly IOASD_MAX_DATAGRAM bytes goes through. */
START_TEST(roundtrip_max_size)
{
	size_t len = IOASD_MAX_DATAGRAM;
	char *out = malloc(len), *in = malloc(len);
	int s[2], fds[1];
	size_t nfds;

	ck_assert_ptr_nonnull(out);
	ck_assert_ptr_nonnull(in);
	for (size_t i = 0; i < len; i++)
		out[i] = (char)(i * 7);
	seqpacket_pair(s);
	ck_assert_int_eq(wire_send(s[0], out, len, NULL, 0), 0);
	ck_assert_int_eq(wire_recv(s[1], in, len, fds, 1, &nfds, 0), (ssize_t)len);
	ck_assert_int_eq(memcmp(in, out, len), 0);
	free(out);
	free(in);
	close(s[0]);
	close(s[1]);
}
END_TEST

/*
 * Rule: more fds than max_fds is -EBADMSG, *ret_nfds is 0 and every fd that
 * arrived is closed. Checked for max_fds = 1 (CMSG_SPACE padding lets the
 * kernel install a second fd without MSG_CTRUNC), 2, 3 and IOASD_MAX_FDS
 * (the kernel drops the excess and sets MSG_CTRUNC), and for a max_fds above
 * IOASD_MAX_FDS (clamped).
 */
static void too_many(size_t max_fds, size_t sent)
{
	int r[16], w[16], got[16];
	char buf[16];
	size_t nfds = 99;
	int s[2], before;

	ck_assert_uint_le(sent, 16);
	seqpacket_pair(s);
	make_pipes(r, w, sent);
	raw_send(s[0], "m", 1, w, sent);
	close_fds(w, sent);
	close_fds(r, sent);
	before = count_fds();
	ck_assert_int_eq(wire_recv(s[1], buf, sizeof(buf), got, max_fds, &nfds, 0),
			 -EBADMSG);
	ck_assert_uint_eq(nfds, 0);
	ck_assert_int_eq(count_fds(), before);

	/* The socket still works for the next datagram. */
	ck_assert_int_eq(wire_send(s[0], "n", 1, NULL, 0), 0);
	ck_assert_int_eq(wire_recv(s[1], buf, sizeof(buf), got, max_fds, &nfds, 0), 1);
	close(s[0]);
	close(s[1]);
}

START_TEST(refuse_too_many_fds)
{
	too_many(1, 2);
	too_many(2, 3);
	too_many(3, 4);
	too_many(IOASD_MAX_FDS, IOASD_MAX_FDS + 1);
	too_many(IOASD_MAX_FDS, 16);
	too_many(16, IOASD_MAX_FDS + 1);
}
END_TEST

/* Rule: max_fds = 0 and an fd arrives: -EBADMSG, nothing leaks. */
START_TEST(refuse_fd_when_none_expected)
{
	too_many(0, 1);
	too_many(0, IOASD_MAX_FDS);
}
END_TEST

/* Rule: max_fds = 0 and no fd: a normal datagram. */
START_TEST(no_fds_expected_none_sent)
{
	char buf[8];
	size_t nfds = 99;
	int s[2];

	seqpacket_pair(s);
	ck_assert_int_eq(wire_send(s[0], "ok", 2, NULL, 0), 0);
	ck_assert_int_eq(wire_recv(s[1], buf, sizeof(buf), NULL, 0, &nfds, 0), 2);
	ck_assert_uint_eq(nfds, 0);
	close(s[0]);
	close(s[1]);
}
END_TEST

/*
 * Rule: a datagram larger than cap is -EMSGSIZE, its fds are closed, and it
 * is consumed (the next one reads normally).
 */
START_TEST(refuse_oversize)
{
	int r[2], w[2], got[IOASD_MAX_FDS];
	char big[100] = { 0 }, buf[10];
	size_t nfds = 99;
	int s[2], before;

	seqpacket_pair(s);
	make_pipes(r, w, 2);
	ck_assert_int_eq(wire_send(s[0], big, sizeof(big), w, 2), 0);
	close_fds(w, 2);
	close_fds(r, 2);
	before = count_fds();
	ck_assert_int_eq(wire_recv(s[1], buf, sizeof(buf), got, IOASD_MAX_FDS,
				   &nfds, 0), -EMSGSIZE);
	ck_assert_uint_eq(nfds, 0);
	ck_assert_int_eq(count_fds(), before);

	ck_assert_int_eq(wire_send(s[0], "next", 4, NULL, 0), 0);
	ck_assert_int_eq(wire_recv(s[1], buf, sizeof(buf), got, IOASD_MAX_FDS,
				   &nfds, 0), 4);
	close(s[0]);
	close(s[1]);
}
END_TEST

/*
 * Rule: when the receiver set SO_PASSCRED the kernel attaches an
 * SCM_CREDENTIALS message to every datagram; wire_recv refuses every such
 * datagram with -EBADMSG (an unexpected control message), closing any fds.
 * So the daemon must not set SO_PASSCRED on its sockets: it learns the peer
 * from SO_PEERCRED / SO_PEERPIDFD instead.
 */
START_TEST(passcred_is_refused)
{
	int r[1], w[1], got[IOASD_MAX_FDS];
	int s[2], one = 1, before;
	char buf[8];
	size_t nfds = 99;

	seqpacket_pair(s);
	ck_assert_int_eq(setsockopt(s[1], SOL_SOCKET, SO_PASSCRED, &one,
				    sizeof(one)), 0);
	ck_assert_int_eq(wire_send(s[0], "c", 1, NULL, 0), 0);
	ck_assert_int_eq(wire_recv(s[1], buf, sizeof(buf), got, IOASD_MAX_FDS,
				   &nfds, 0), -EBADMSG);
	ck_assert_uint_eq(nfds, 0);

	/* With an fd: the credentials fill the buffer, fds are dropped. */
	make_pipes(r, w, 1);
	ck_assert_int_eq(wire_send(s[0], "c", 1, w, 1), 0);
	close(w[0]);
	close(r[0]);
	before = count_fds();
	ck_assert_int_eq(wire_recv(s[1], buf, sizeof(buf), got, IOASD_MAX_FDS,
				   &nfds, 0), -EBADMSG);
	ck_assert_int_eq(count_fds(), before);

	/* max_fds = 0 (no control buffer): MSG_CTRUNC, same refusal. */
	ck_assert_int_eq(wire_send(s[0], "c", 1, NULL, 0), 0);
	ck_assert_int_eq(wire_recv(s[1], buf, sizeof(buf), NULL, 0, &nfds, 0),
			 -EBADMSG);
	close(s[0]);
	close(s[1]);
}
END_TEST

/*
 * Rule: credentials the sender attaches explicitly are not delivered to a
 * receiver without SO_PASSCRED: the datagram reads normally.
 */
START_TEST(sender_creds_without_passcred)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} control;
	struct ucred uc = { .pid = getpid(), .uid = getuid(), .gid = getgid() };
	struct iovec iov = { .iov_base = (void *)"u", .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *c;
	int s[2], got[IOASD_MAX_FDS];
	char buf[8];
	size_t nfds = 99;

	memset(&control, 0, sizeof(control));
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_CREDENTIALS;
	c->cmsg_len = CMSG_LEN(sizeof(uc));
	memcpy(CMSG_DATA(c), &uc, sizeof(uc));
	seqpacket_pair(s);
	ck_assert_int_eq(sendmsg(s[0], &msg, MSG_NOSIGNAL), 1);
	ck_assert_int_eq(wire_recv(s[1], buf, sizeof(buf), got, IOASD_MAX_FDS,
				   &nfds, 0), 1);
	ck_assert_uint_eq(nfds, 0);
	close(s[0]);
	close(s[1]);
}
END_TEST

/*
 * Rule: with SO_PASSPIDFD (Linux >= 6.5) the kernel installs a pidfd in the
 * receiver (SCM_PIDFD); wire_recv refuses the datagram and closes that fd.
 */
START_TEST(passpidfd_is_refused_without_leak)
{
	int s[2], one = 1, before, got[IOASD_MAX_FDS];
	char buf[8];
	size_t nfds = 99;

	seqpacket_pair(s);
	if (setsockopt(s[1], SOL_SOCKET, SO_PASSPIDFD, &one, sizeof(one)) < 0) {
		printf("NOTICE: SO_PASSPIDFD unsupported (%s); case not run\n",
		       strerror(errno));
		close(s[0]);
		close(s[1]);
		return;
	}
	ck_assert_int_eq(wire_send(s[0], "p", 1, NULL, 0), 0);
	before = count_fds();
	ck_assert_int_eq(wire_recv(s[1], buf, sizeof(buf), got, IOASD_MAX_FDS,
				   &nfds, 0), -EBADMSG);
	ck_assert_uint_eq(nfds, 0);
	ck_assert_int_eq(count_fds(), before);
	close(s[0]);
	close(s[1]);
}
END_TEST

/* Rule: the peer closing is end of stream: 0. */
START_TEST(eof_is_zero)
{
	int s[2], got[IOASD_MAX_FDS];
	char buf[8];
	size_t nfds = 99;

	seqpacket_pair(s);
	close(s[0]);
	ck_assert_int_eq(wire_recv(s[1], buf, sizeof(buf), got, IOASD_MAX_FDS,
				   &nfds, 0), 0);
	ck_assert_uint_eq(nfds, 0);
	close(s[1]);
}
END_TEST

/* Rule: a zero-length datagram reads as a close, and its fds are closed. */
START_TEST(empty_datagram_is_zero)
{
	int r[1], w[1], got[IOASD_MAX_FDS];
	int s[2], before;
	char buf[8];
	size_t nfds = 99;

	seqpacket_pair(s);
	make_pipes(r, w, 1);
	ck_assert_int_eq(wire_send(s[0], "", 0, w, 1), 0);
	close(w[0]);
	close(r[0]);
	before = count_fds();
	ck_assert_int_eq(wire_recv(s[1], buf, sizeof(buf), got, IOASD_MAX_FDS,
				   &nfds, 0), 0);
	ck_assert_uint_eq(nfds, 0);
	ck_assert_int_eq(count_fds(), before);
	close(s[0]);
	close(s[1]);
}
END_TEST

/*
 * Rule: wire_recv_batch() takes what is queued in one call and judges each
 * datagram as wire_recv() does: fds of the good ones handed over (CLOEXEC),
 * an oversized one -EMSGSIZE and one with too many fds -EBADMSG with every
 * fd closed, the peer's close 0; at most max at a time, the rest left for
 * the next call; and -EAGAIN once the queue is empty.
 */
START_TEST(batch_judges_each_datagram)
{
	static char big[IOASD_MAX_DATAGRAM + 1];
	int r[IOASD_MAX_FDS + 1], w[IOASD_MAX_FDS + 1];
	struct wire_rx *rx = wire_rx_new(4);
	struct wire_msg *m;
	int s[2], before;

	ck_assert_ptr_nonnull(rx);
	ck_assert_ptr_null(wire_rx_new(0));
	ck_assert_ptr_null(wire_rx_new(WIRE_RX_MAX + 1));
	seqpacket_pair(s);
	ck_assert_int_eq(wire_recv_batch(s[1], rx, 4, MSG_DONTWAIT, &m), -EAGAIN);
	make_pipes(r, w, IOASD_MAX_FDS + 1);
	before = count_fds();
	ck_assert_int_eq(wire_send(s[0], "one", 3, w, 1), 0);
	ck_assert_int_eq(send(s[0], big, sizeof(big), 0), (ssize_t)sizeof(big));
	{
		/* IOASD_MAX_FDS + 1 fds: wire_send refuses that many. */
		union {
			char buf[CMSG_SPACE(sizeof(int) * (IOASD_MAX_FDS + 1))];
			struct cmsghdr align;
		} control = { 0 };
		char many[] = "many";
		struct iovec iov = { .iov_base = many, .iov_len = 4 };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
				      .msg_control = control.buf,
				      .msg_controllen = sizeof(control.buf) };
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (IOASD_MAX_FDS + 1));
		memcpy(CMSG_DATA(c), w, sizeof(int) * (IOASD_MAX_FDS + 1));
		ck_assert_int_eq(sendmsg(s[0], &msg, 0), 4);
	}
	ck_assert_int_eq(wire_send(s[0], "two", 3, w + 1, 2), 0);
	ck_assert_int_eq(wire_send(s[0], "three", 5, NULL, 0), 0);

	ck_assert_int_eq(wire_recv_batch(s[1], rx, 4, MSG_DONTWAIT, &m), 4);
	ck_assert_int_eq(m[0].len, 3);
	ck_assert(!memcmp(m[0].buf, "one", 3));
	ck_assert_uint_eq(m[0].nfds, 1);
	ck_assert(same_file(m[0].fds[0], w[0]) && is_cloexec(m[0].fds[0]));
	ck_assert_int_eq(m[1].len, -EMSGSIZE);
	ck_assert_uint_eq(m[1].nfds, 0);
	ck_assert_int_eq(m[2].len, -EBADMSG);
	ck_assert_uint_eq(m[2].nfds, 0);
	ck_assert_int_eq(m[3].len, 3);
	ck_assert(!memcmp(m[3].buf, "two", 3));
	ck_assert_uint_eq(m[3].nfds, 2);
	ck_assert(same_file(m[3].fds[1], w[2]));
	/* What the refused ones carried is closed; the good ones' fds are ours. */
	ck_assert_int_eq(count_fds(), before + 3);
	close_fds(m[0].fds, m[0].nfds);
	close_fds(m[3].fds, m[3].nfds);
	ck_assert_int_eq(count_fds(), before);

	/* max bounds a call; the rest waits for the next. */
	ck_assert_int_eq(wire_send(s[0], "four", 4, NULL, 0), 0);
	ck_assert_int_eq(wire_recv_batch(s[1], rx, 1, MSG_DONTWAIT, &m), 1);
	ck_assert_int_eq(m[0].len, 5);
	ck_assert(!memcmp(m[0].buf, "three", 5));
	ck_assert_int_eq(wire_recv_batch(s[1], rx, 4, MSG_DONTWAIT, &m), 1);
	ck_assert_int_eq(m[0].len, 4);
	ck_assert_int_eq(wire_recv_batch(s[1], rx, 4, MSG_DONTWAIT, &m), -EAGAIN);

	/* The peer's close reads as 0. */
	close(s[0]);
	ck_assert_int_ge(wire_recv_batch(s[1], rx, 4, MSG_DONTWAIT, &m), 1);
	ck_assert_int_eq(m[0].len, 0);
	close(s[1]);
	close_fds(r, IOASD_MAX_FDS + 1);
	close_fds(w, IOASD_MAX_FDS + 1);
	wire_rx_free(rx);
}
END_TEST

/* Rule: nothing to read on a non-blocking receive is -EAGAIN. */
START_TEST(nonblocking_empty)
{
	int s[2], got[IOASD_MAX_FDS];
	char buf[8];
	size_t nfds = 99;

	seqpacket_pair(s);
	ck_assert_int_eq(wire_recv(s[1], buf, sizeof(buf), got, IOASD_MAX_FDS,
				   &nfds, MSG_DONTWAIT), -EAGAIN);
	ck_assert_uint_eq(nfds, 0);
	close(s[0]);
	close(s[1]);
}
END_TEST

/* Rule: wire_send refuses more than IOASD_MAX_FDS fds or more than
 * IOASD_MAX_DATAGRAM bytes with -EMSGSIZE, sending nothing. */
START_TEST(send_limits)
{
	int r[IOASD_MAX_FDS + 1], w[IOASD_MAX_FDS + 1], got[IOASD_MAX_FDS];
	char *big = calloc(1, IOASD_MAX_DATAGRAM + 1);
	char buf[8];
	size_t nfds;
	int s[2];

	ck_assert_ptr_nonnull(big);
	seqpacket_pair(s);
	make_pipes(r, w, IOASD_MAX_FDS + 1);
	ck_assert_int_eq(wire_send(s[0], "x", 1, w, IOASD_MAX_FDS + 1), -EMSGSIZE);
	ck_assert_int_eq(wire_send(s[0], big, IOASD_MAX_DATAGRAM + 1, NULL, 0),
			 -EMSGSIZE);
	/* Nothing was sent. */
	ck_assert_int_eq(wire_recv(s[1], buf, sizeof(buf), got, IOASD_MAX_FDS,
				   &nfds, MSG_DONTWAIT), -EAGAIN);
	close_fds(w, IOASD_MAX_FDS + 1);
	close_fds(r, IOASD_MAX_FDS + 1);
	free(big);
	close(s[0]);
	close(s[1]);
}
END_TEST

/* Rule: sending to a closed peer is -EPIPE, without SIGPIPE (SIGPIPE is
 * not ignored here: a send without MSG_NOSIGNAL would kill the test). */
START_TEST(send_to_closed_peer)
{
	int s[2];

	seqpacket_pair(s);
	close(s[1]);
	ck_assert_int_eq(wire_send(s[0], "x", 1, NULL, 0), -EPIPE);
	close(s[0]);
}
END_TEST

static Suite *wire_suite(void)
{
	Suite *s = suite_create("wire");
	TCase *tc;

	tc = tcase_create("roundtrip");
	tcase_add_test(tc, roundtrip_no_fds);
	tcase_add_test(tc, roundtrip_one_fd);
	tcase_add_test(tc, roundtrip_max_fds);
	tcase_add_test(tc, roundtrip_max_size);
	tcase_add_test(tc, no_fds_expected_none_sent);
	suite_add_tcase(s, tc);

	tc = tcase_create("refusals");
	tcase_add_test(tc, refuse_too_many_fds);
	tcase_add_test(tc, refuse_fd_when_none_expected);
	tcase_add_test(tc, refuse_oversize);
	tcase_add_test(tc, passcred_is_refused);
	tcase_add_test(tc, sender_creds_without_passcred);
	tcase_add_test(tc, passpidfd_is_refused_without_leak);
	suite_add_tcase(s, tc);

	tc = tcase_create("stream");
	tcase_add_test(tc, eof_is_zero);
	tcase_add_test(tc, empty_datagram_is_zero);
	tcase_add_test(tc, nonblocking_empty);
	tcase_add_test(tc, batch_judges_each_datagram);
	tcase_add_test(tc, send_limits);
	tcase_add_test(tc, send_to_closed_peer);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(wire_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
