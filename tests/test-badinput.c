/* SPDX-License-Identifier: MIT */
/*
 * Hostile input at the socket of a real ioasd (sim backend, or the one
 * IOASD_TEST_BACKEND names: see tests/harness.h): every bad
 * datagram is refused with its errno, every fd that came with it is closed
 * (the daemon's /proc/<pid>/fd count returns to its baseline), and the daemon
 * keeps serving a well-behaved client connected throughout.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/ioasd.pb-c.h"

#include "harness.h"
#include "ioas.h"
#include "proto/wire.h"

static struct harness_daemon d;
static struct ioas_client *bystander;
static int baseline;

static void setup(void)
{
	static const char *const args[] = { "--backend", "sim", NULL };
	char err[256];

	ck_assert_int_eq(harness_daemon_start(&d, args), 0);
	ck_assert_msg(ioas_client_connect(d.socket, "bystander", &bystander, err,
					  sizeof(err)) == 0, "%s", err);
	baseline = harness_fd_count_settled(d.pid, 2000);
	ck_assert_int_gt(baseline, 0);
}

static void teardown(void)
{
	bystander = ioas_client_free(bystander);
	ck_assert_int_eq(harness_daemon_stop(&d), 0);
}

/* The bystander connection still gets answers. */
static void assert_daemon_serves(void)
{
	struct ioas_stats st;

	ck_assert_int_eq(ioas_stats(bystander, &st), 0);
}

static void assert_fds_back_to_baseline(void)
{
	int n = harness_wait_fd_count(d.pid, baseline, 3000);

	ck_assert_msg(n == baseline, "daemon holds %d fds, baseline %d", n, baseline);
}

static size_t pack_request(Ioasd__Request *req, uint8_t *buf)
{
	return ioasd__request__pack(req, buf);
}

static int send_hello(int s, uint32_t version)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__Hello hello = IOASD__HELLO__INIT;
	uint8_t buf[256];

	hello.version = version;
	req.id = 1;
	req.op_case = IOASD__REQUEST__OP_HELLO;
	req.hello = &hello;
	return wire_send(s, buf, pack_request(&req, buf), NULL, 0);
}

/* Read one reply (bounded wait); returns it or NULL on EOF/timeout. */
static Ioasd__Response *read_reply(int s)
{
	static uint8_t buf[IOASD_MAX_DATAGRAM];
	struct pollfd p = { .fd = s, .events = POLLIN };
	int fds[IOASD_MAX_FDS];
	size_t nfds;
	ssize_t n;

	if (poll(&p, 1, 5000) != 1)
		return NULL;
	n = wire_recv(s, buf, sizeof(buf), fds, IOASD_MAX_FDS, &nfds, 0);
	if (n <= 0)
		return NULL;
	ck_assert_uint_eq(nfds, 0);
	return ioasd__response__unpack(NULL, (size_t)n, buf);
}

static void expect_error(int s, uint64_t id, int errnum)
{
	Ioasd__Response *r = read_reply(s);

	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->id, id);
	ck_assert_msg(r->error == errnum, "error %d (%s), expected %d", r->error,
		      r->message ? r->message : "", errnum);
	ck_assert_ptr_nonnull(r->message);
	ck_assert_int_gt(strlen(r->message), 0);
	ioasd__response__free_unpacked(r, NULL);
}

static void expect_closed(int s)
{
	struct pollfd p = { .fd = s, .events = POLLIN };
	char c;

	ck_assert_int_eq(poll(&p, 1, 5000), 1);
	ck_assert_int_eq(recv(s, &c, 1, 0), 0);
}

static int connected(void)
{
	int s = harness_raw_connect(&d);

	ck_assert_int_ge(s, 0);
	return s;
}

static int hello_done(void)
{
	Ioasd__Response *r;
	int s = connected();

	ck_assert_int_eq(send_hello(s, 1), 0);
	r = read_reply(s);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->error, 0);
	ioasd__response__free_unpacked(r, NULL);
	return s;
}

static int memfd(bool sealed)
{
	int fd = memfd_create("bad", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 1 << 20), 0);
	if (sealed)
		ck_assert_int_eq(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
	return fd;
}

static int send_register(int s, uint64_t id, const int *fds, size_t nfds)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__RegisterMemory m = IOASD__REGISTER_MEMORY__INIT;
	uint8_t buf[256];

	m.offset = 0;
	m.length = 1 << 20;
	req.id = id;
	req.op_case = IOASD__REQUEST__OP_REGISTER_MEMORY;
	req.register_memory = &m;
	return wire_send(s, buf, pack_request(&req, buf), fds, nfds);
}

START_TEST(oversized_datagram_drops_peer_and_its_fds)
{
	int s = hello_done(), fds[2] = { memfd(true), memfd(true) };
	size_t len = IOASD_MAX_DATAGRAM + 100;
	char *big = calloc(1, len);
	struct msghdr msg = { 0 };
	struct iovec iov = { .iov_base = big, .iov_len = len };
	union {
		char b[CMSG_SPACE(sizeof(fds))];
		struct cmsghdr align;
	} ctl = { .b = { 0 } }; /* no uninitialised padding on the wire */
	struct cmsghdr *cm;

	/* wire_send refuses to build it; do it by hand. */
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.b;
	msg.msg_controllen = sizeof(ctl.b);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	ck_assert_int_eq(sendmsg(s, &msg, MSG_NOSIGNAL), (ssize_t)len);
	close(fds[0]);
	close(fds[1]);
	free(big);
	expect_error(s, 0, EMSGSIZE);
	expect_closed(s);
	close(s);
	assert_fds_back_to_baseline();
	assert_daemon_serves();
}
END_TEST

START_TEST(too_many_fds_drops_peer_and_closes_all)
{
	int s = hello_done(), fds[IOASD_MAX_FDS + 1];
	struct msghdr msg = { 0 };
	char byte = 0;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		char b[CMSG_SPACE(sizeof(fds))];
		struct cmsghdr align;
	} ctl = { .b = { 0 } }; /* no uninitialised padding on the wire */
	struct cmsghdr *cm;

	for (size_t i = 0; i < IOASD_MAX_FDS + 1; i++)
		fds[i] = memfd(true);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.b;
	msg.msg_controllen = sizeof(ctl.b);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	ck_assert_int_eq(sendmsg(s, &msg, MSG_NOSIGNAL), 1);
	for (size_t i = 0; i < IOASD_MAX_FDS + 1; i++)
		close(fds[i]);
	expect_error(s, 0, EBADMSG);
	expect_closed(s);
	close(s);
	assert_fds_back_to_baseline();
	assert_daemon_serves();
}
END_TEST

START_TEST(truncated_protobuf_before_hello_drops_peer)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__Hello hello = IOASD__HELLO__INIT;
	uint8_t buf[256];
	size_t len;
	int s = connected();

	hello.version = 1;
	hello.client_name = (char *)"a client with a long enough name";
	req.id = 7;
	req.op_case = IOASD__REQUEST__OP_HELLO;
	req.hello = &hello;
	len = pack_request(&req, buf);
	ck_assert_int_eq(wire_send(s, buf, len / 2, NULL, 0), 0);
	expect_error(s, 0, EBADMSG);
	expect_closed(s);
	close(s);
	assert_daemon_serves();
}
END_TEST

START_TEST(garbage_after_hello_is_refused_and_peer_stays)
{
	static const uint8_t garbage[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 0x12, 0x34 };
	int s = hello_done(), fd = memfd(true);

	ck_assert_int_eq(wire_send(s, garbage, sizeof(garbage), &fd, 1), 0);
	close(fd);
	expect_error(s, 0, EBADMSG);
	/* Still usable. */
	ck_assert_int_eq(send_register(s, 9, NULL, 0), 0);
	expect_error(s, 9, EBADMSG); /* RegisterMemory without its fd */
	close(s);
	assert_fds_back_to_baseline();
}
END_TEST

START_TEST(unknown_operation_is_eopnotsupp)
{
	/* Field 1 (id) = 5, then field 99 as a length-delimited empty message:
	 * what a newer client's operation looks like to this daemon. */
	static const uint8_t unknown_op[] = { 0x08, 0x05, 0x9a, 0x06, 0x00 };
	int s = hello_done();

	ck_assert_int_eq(wire_send(s, unknown_op, sizeof(unknown_op), NULL, 0), 0);
	expect_error(s, 5, EOPNOTSUPP);
	close(s);
	assert_daemon_serves();
}
END_TEST

START_TEST(request_before_hello_is_eproto)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__Stats st = IOASD__STATS__INIT;
	uint8_t buf[64];
	int s = connected();

	req.id = 3;
	req.op_case = IOASD__REQUEST__OP_STATS;
	req.stats = &st;
	ck_assert_int_eq(wire_send(s, buf, pack_request(&req, buf), NULL, 0), 0);
	expect_error(s, 3, EPROTO);
	expect_closed(s);
	close(s);
}
END_TEST

START_TEST(wrong_version_is_refused_once)
{
	int s = connected();

	ck_assert_int_eq(send_hello(s, 99), 0);
	expect_error(s, 1, EPROTONOSUPPORT);
	expect_closed(s);
	close(s);
}
END_TEST

START_TEST(second_hello_is_ealready)
{
	int s = hello_done();

	ck_assert_int_eq(send_hello(s, 1), 0);
	expect_error(s, 1, EALREADY);
	close(s);
}
END_TEST

START_TEST(fd_on_operation_without_fds_is_closed)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__Stats st = IOASD__STATS__INIT;
	uint8_t buf[64];
	int s = hello_done(), fd = memfd(true);

	req.id = 4;
	req.op_case = IOASD__REQUEST__OP_STATS;
	req.stats = &st;
	ck_assert_int_eq(wire_send(s, buf, pack_request(&req, buf), &fd, 1), 0);
	close(fd);
	expect_error(s, 4, EBADMSG);
	ck_assert_int_eq(harness_wait_fd_count(d.pid, baseline + 1, 3000), baseline + 1);
	close(s);
	assert_fds_back_to_baseline();
}
END_TEST

/* Hardware page table requests with hostile sizes: each refused with its
 * errno and a message before any tenant state is looked at (the daemon
 * runs without a policy here, where HWPTs are refused anyway), the peer
 * kept. */
START_TEST(hwpt_sizes_are_refused)
{
	static uint8_t big[33 * 1024];
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__HwptAlloc alloc = IOASD__HWPT_ALLOC__INIT;
	Ioasd__HwptInvalidate inv = IOASD__HWPT_INVALIDATE__INIT;
	static uint8_t buf[IOASD_MAX_DATAGRAM];
	int s = hello_done();

	/* Driver data over 4096 bytes: E2BIG. */
	alloc.device = 1;
	alloc.has_parent = true;
	alloc.parent = 1;
	alloc.has_data_type = true;
	alloc.data_type = 1;
	alloc.has_data = true;
	alloc.data.len = 4097;
	alloc.data.data = big;
	req.id = 20;
	req.op_case = IOASD__REQUEST__OP_HWPT_ALLOC;
	req.hwpt_alloc = &alloc;
	ck_assert_int_eq(wire_send(s, buf, pack_request(&req, buf), NULL, 0), 0);
	expect_error(s, 20, E2BIG);
	/* Entries that are not whole, or of 0 bytes: EINVAL. */
	inv.hwpt = 1;
	inv.data_type = 0;
	inv.entry_len = 5;
	inv.has_entries = true;
	inv.entries.len = 16;
	inv.entries.data = big;
	req.id = 21;
	req.op_case = IOASD__REQUEST__OP_HWPT_INVALIDATE;
	req.hwpt_invalidate = &inv;
	ck_assert_int_eq(wire_send(s, buf, pack_request(&req, buf), NULL, 0), 0);
	expect_error(s, 21, EINVAL);
	inv.entry_len = 0;
	req.id = 22;
	ck_assert_int_eq(wire_send(s, buf, pack_request(&req, buf), NULL, 0), 0);
	expect_error(s, 22, EINVAL);
	/* An entry over 4096 bytes: EINVAL; over 32 KiB in all: E2BIG. */
	inv.entry_len = 8192;
	inv.entries.len = 8192;
	req.id = 23;
	ck_assert_int_eq(wire_send(s, buf, pack_request(&req, buf), NULL, 0), 0);
	expect_error(s, 23, EINVAL);
	inv.entry_len = 8;
	inv.entries.len = sizeof(big);
	req.id = 24;
	ck_assert_int_eq(wire_send(s, buf, pack_request(&req, buf), NULL, 0), 0);
	expect_error(s, 24, E2BIG);
	close(s);
	assert_daemon_serves();
	assert_fds_back_to_baseline();
}
END_TEST

/* Dirty bitmap requests with hostile sizes (issue 16): refused before any
 * tenant state is looked at, each with its errno; FaultAlloc with an fd
 * riding on it: EBADMSG, the fd closed. The peer is kept. */
START_TEST(dirty_bitmap_sizes_are_refused)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__HwptGetDirty gd = IOASD__HWPT_GET_DIRTY__INIT;
	Ioasd__FaultAlloc fa = IOASD__FAULT_ALLOC__INIT;
	static uint8_t buf[IOASD_MAX_DATAGRAM];
	int s = hello_done(), fd;

	gd.hwpt = 1;
	gd.memory = 1;
	gd.iova = 0;
	gd.length = 1u << 20;
	gd.page_size = 3000; /* no power of two */
	req.op_case = IOASD__REQUEST__OP_HWPT_GET_DIRTY;
	req.hwpt_get_dirty = &gd;
	req.id = 30;
	ck_assert_int_eq(wire_send(s, buf, pack_request(&req, buf), NULL, 0), 0);
	expect_error(s, 30, EINVAL);
	gd.page_size = 1u << 31; /* over 1 GiB */
	req.id = 31;
	ck_assert_int_eq(wire_send(s, buf, pack_request(&req, buf), NULL, 0), 0);
	expect_error(s, 31, EINVAL);
	gd.page_size = 512; /* 2^40 / 512 bits: 256 MiB of bitmap */
	gd.length = UINT64_C(1) << 40;
	req.id = 32;
	ck_assert_int_eq(wire_send(s, buf, pack_request(&req, buf), NULL, 0), 0);
	expect_error(s, 32, E2BIG);
	gd.length = 4096;
	gd.iova = UINT64_MAX - 4095 + 512; /* wraps */
	gd.iova &= ~UINT64_C(511);
	req.id = 33;
	ck_assert_int_eq(wire_send(s, buf, pack_request(&req, buf), NULL, 0), 0);
	expect_error(s, 33, EOVERFLOW);
	gd.iova = 0;
	gd.has_offset = true;
	gd.offset = 4; /* not a whole word */
	req.id = 34;
	ck_assert_int_eq(wire_send(s, buf, pack_request(&req, buf), NULL, 0), 0);
	expect_error(s, 34, EINVAL);
	fd = memfd_create("stray", MFD_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	req.op_case = IOASD__REQUEST__OP_FAULT_ALLOC;
	req.fault_alloc = &fa;
	req.id = 35;
	ck_assert_int_eq(wire_send(s, buf, pack_request(&req, buf), &fd, 1), 0);
	close(fd);
	expect_error(s, 35, EBADMSG);
	close(s);
	assert_daemon_serves();
	assert_fds_back_to_baseline();
}
END_TEST

/* Wrong fd types: each refused, the fd closed, the peer kept. */
START_TEST(wrong_fd_types_are_refused)
{
	int s = hello_done(), p[2], sp[2], fd;
	uint64_t id = 10;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);

	ck_assert_int_eq(send_register(s, id, &p[0], 1), 0);
	expect_error(s, id++, EINVAL);
	ck_assert_int_eq(send_register(s, id, &sp[0], 1), 0);
	expect_error(s, id++, EINVAL);
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	ck_assert_int_eq(send_register(s, id, &fd, 1), 0);
	expect_error(s, id++, EINVAL);
	close(fd);
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_eq(send_register(s, id, &fd, 1), 0);
	expect_error(s, id++, EINVAL);
	close(fd);
	fd = memfd(false); /* unsealed */
	ck_assert_int_eq(send_register(s, id, &fd, 1), 0);
	expect_error(s, id++, EPERM);
	close(fd);
	/* Two fds on RegisterMemory. */
	{
		int two[2] = { memfd(true), memfd(true) };

		ck_assert_int_eq(send_register(s, id, two, 2), 0);
		expect_error(s, id++, EBADMSG);
		close(two[0]);
		close(two[1]);
	}
	close(p[0]);
	close(p[1]);
	close(sp[0]);
	close(sp[1]);
	/* Only the connection itself is left in the daemon. */
	ck_assert_int_eq(harness_wait_fd_count(d.pid, baseline + 1, 3000), baseline + 1);
	close(s);
	assert_fds_back_to_baseline();
	assert_daemon_serves();
}
END_TEST

/* A client that sends requests but never reads replies is throttled (the
 * daemon stops reading it) instead of growing the daemon's memory. */
START_TEST(non_reading_client_is_throttled)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__Stats st = IOASD__STATS__INIT;
	uint8_t buf[64];
	size_t len;
	int s = hello_done(), sent = 0;

	ck_assert_int_eq(fcntl(s, F_SETFL, O_NONBLOCK), 0);
	req.op_case = IOASD__REQUEST__OP_STATS;
	req.stats = &st;
	for (int i = 0; i < 200000; i++) {
		req.id = (uint64_t)i + 100;
		len = pack_request(&req, buf);
		if (wire_send(s, buf, len, NULL, 0) < 0)
			break;
		sent++;
	}
	/* The socket filled up: the daemon stopped reading us. */
	ck_assert_int_lt(sent, 200000);
	assert_daemon_serves();
	close(s);
	assert_fds_back_to_baseline();
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("badinput");
	TCase *tc = tcase_create("socket");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, oversized_datagram_drops_peer_and_its_fds);
	tcase_add_test(tc, too_many_fds_drops_peer_and_closes_all);
	tcase_add_test(tc, truncated_protobuf_before_hello_drops_peer);
	tcase_add_test(tc, garbage_after_hello_is_refused_and_peer_stays);
	tcase_add_test(tc, unknown_operation_is_eopnotsupp);
	tcase_add_test(tc, request_before_hello_is_eproto);
	tcase_add_test(tc, wrong_version_is_refused_once);
	tcase_add_test(tc, second_hello_is_ealready);
	tcase_add_test(tc, fd_on_operation_without_fds_is_closed);
	tcase_add_test(tc, wrong_fd_types_are_refused);
	tcase_add_test(tc, hwpt_sizes_are_refused);
	tcase_add_test(tc, dirty_bitmap_sizes_are_refused);
	tcase_add_test(tc, non_reading_client_is_throttled);
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
