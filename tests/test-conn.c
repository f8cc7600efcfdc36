/* SPDX-License-Identifier: MIT */
/*
 * The connection layer alone, on a socketpair and an event base of its own:
 * the output queue's hard limit.
 */
#include <check.h>
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "server.h"

/* A peer that reads nothing: the queue grows past the high watermark (reading
 * pauses) and then, fed by sends that are not replies (notifications), to
 * its hard limit, where it is dropped and the connection closed by its own
 * write callback. */
START_TEST(hard_limit_drops_the_queue)
{
	struct event_base *base = event_base_new();
	struct server s = {
		.base = base,
		.cfg = { .max_outq_bytes = 4096, .slow_client_sec = 10 },
	};
	static uint8_t buf[1000];
	struct conn *c = NULL;
	int sp[2], r = 0, n;

	ck_assert_ptr_nonnull(base);
	TAILQ_INIT(&s.conns);
	TAILQ_INIT(&s.leases);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
	ck_assert_int_eq(conn_new(&s, sp[0], &c), 0);
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

static Suite *suite(void)
{
	Suite *s = suite_create("conn");
	TCase *tc = tcase_create("queue");

	tcase_add_test(tc, hard_limit_drops_the_queue);
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
