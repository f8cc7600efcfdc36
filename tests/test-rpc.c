/* SPDX-License-Identifier: MIT */
/*
 * The protocol layer alone: rpc/ over a session whose transport is a list
 * in memory, the sim backend and a tenant made here. No socket, no server,
 * no state file: what the dispatcher decides is seen in the replies it
 * hands its transport and in what it asks of its environment.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>

#include "proto/ioasd.pb-c.h"

#include "iommu/backend.h"
#include "rpc/rpc.h"
#include "tests/rpc-fake.h"
#include "tenant/tenant.h"

static int env_hello(void *ud, struct rpc_session *s, const char *token,
		     const char **ret_token, bool *ret_reclaimed, struct err *e)
{
	((struct fake *)s)->hellos++;
	*ret_token = NULL;
	*ret_reclaimed = false;
	return 0;
}

static struct backend *b;
static struct tenants *ts;
static struct tenant *t;
static struct fake f;
static struct rpc_env env;

static void setup(void)
{
	static const struct tenant_limits limits = {
		.max_ioas = 2, .max_memory_regions = 2, .max_mappings = 8,
		.max_region_size = 1 << 20, .max_pinned_bytes = 1 << 20,
	};

	ck_assert_int_eq(backend_sim_open(&b), 0);
	ts = tenants_new();
	ck_assert_ptr_nonnull(ts);
	t = tenant_new(ts, b, NULL, "rpc-test", &limits, NULL);
	ck_assert_ptr_nonnull(t);
	tenant_conn_attach(t);
	memset(&f, 0, sizeof(f));
	tenant_set_journal(ts, fake_journal, &f);
	env = (struct rpc_env){ .tenants = ts, .backend = b, .hello = env_hello,
				.userdata = &f };
	f.s = (struct rpc_session){ .env = &env, .tp = &fake_transport, .tenant = t,
				    .serial = 1, .cred = { .pid = 1, .uid = 65534, .gid = 65534 } };
}

static void teardown(void)
{
	fake_free_replies(&f);
	tenant_conn_detach(t);
	tenant_free(t);
	ts = tenants_free(ts);
	backend_close(b);
}

/* Pack req (id, op set by the caller) and hand it to rpc with fds. */
static Ioasd__Response *call(Ioasd__Request *req, int *fds, size_t nfds)
{
	uint8_t buf[4096];
	size_t len = ioasd__request__get_packed_size(req);
	size_t before = f.n;

	ck_assert_uint_le(len, sizeof(buf));
	ioasd__request__pack(req, buf);
	rpc_handle_datagram(&f.s, buf, len, fds, nfds);
	ck_assert_uint_eq(f.n, before + 1); /* one reply per request */
	return f.replies[f.n - 1];
}

static void hello(void)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__Hello h = IOASD__HELLO__INIT;

	h.version = IOASD_PROTOCOL_VERSION;
	req.id = 1;
	req.op_case = IOASD__REQUEST__OP_HELLO;
	req.hello = &h;
	ck_assert_int_eq(call(&req, NULL, 0)->error, 0);
	ck_assert(f.s.hello_done);
}

/* Rule: nothing before Hello; the peer is dropped (EPROTO). */
START_TEST(hello_first)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__Stats st = IOASD__STATS__INIT;

	req.id = 7;
	req.op_case = IOASD__REQUEST__OP_STATS;
	req.stats = &st;
	ck_assert_int_eq(call(&req, NULL, 0)->error, EPROTO);
	ck_assert(f.closed);
	ck_assert_uint_eq(f.hellos, 0);
}
END_TEST

/* Rule: a request that changes the tables reports each change to the
 * journal (restart support writes it, and the reply waits for the commit);
 * a read or a refusal reports nothing, so nothing is written for it. */
START_TEST(commit_after_writes_only)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__IoasAlloc alloc = IOASD__IOAS_ALLOC__INIT;
	Ioasd__Stats st = IOASD__STATS__INIT;
	Ioasd__Response *r;
	unsigned c0;

	hello();
	ck_assert_uint_eq(f.hellos, 1);
	c0 = f.commits;
	req.id = 2;
	req.op_case = IOASD__REQUEST__OP_IOAS_ALLOC;
	req.ioas_alloc = &alloc;
	r = call(&req, NULL, 0);
	ck_assert_int_eq(r->error, 0);
	ck_assert_int_eq(r->id, 2);
	ck_assert_int_eq(r->result_case, IOASD__RESPONSE__RESULT_IOAS_ALLOC);
	ck_assert_uint_gt(f.commits, c0);
	c0 = f.commits;
	req.id = 3;
	req.op_case = IOASD__REQUEST__OP_STATS;
	req.stats = &st;
	r = call(&req, NULL, 0);
	ck_assert_int_eq(r->error, 0);
	ck_assert_uint_eq(r->stats->ioas, 1);
	ck_assert(!r->stats->daemon_wide); /* uid 65534, no Admin=: its own figures */
	ck_assert_uint_eq(f.commits, c0);
	/* The same request from uid 0 sees the daemon's figures. */
	f.s.cred.uid = 0;
	req.id = 4;
	r = call(&req, NULL, 0);
	ck_assert(r->stats->daemon_wide && r->stats->total_ioas == 1);
	ck_assert_uint_eq(f.commits, c0);
	/* A refusal changes nothing: nothing to write. */
	{
		Ioasd__IoasDestroy d = IOASD__IOAS_DESTROY__INIT;

		d.ioas = 99;
		req.id = 5;
		req.op_case = IOASD__REQUEST__OP_IOAS_DESTROY;
		req.ioas_destroy = &d;
		r = call(&req, NULL, 0);
		ck_assert_int_eq(r->error, ENOENT);
		ck_assert_uint_eq(f.commits, c0);
	}
}
END_TEST

/* Rule: an operation takes exactly its fds; the rest are closed by rpc. */
START_TEST(fds_counted_and_closed)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__IoasAlloc alloc = IOASD__IOAS_ALLOC__INIT;
	int p[2], fds[1];

	hello();
	ck_assert_int_eq(pipe(p), 0);
	fds[0] = p[0];
	req.id = 4;
	req.op_case = IOASD__REQUEST__OP_IOAS_ALLOC;
	req.ioas_alloc = &alloc;
	ck_assert_int_eq(call(&req, fds, 1)->error, EBADMSG);
	ck_assert_int_eq(fds[0], -1);
	/* Our end sees the read end gone. */
	ck_assert_int_eq(write(p[1], "x", 1), -1);
	ck_assert_int_eq(errno, EPIPE);
	close(p[1]);
	ck_assert(!f.closed); /* the peer may go on */
}
END_TEST

/* Rule: an unknown operation is EOPNOTSUPP and the peer stays. */
START_TEST(unknown_operation)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;

	hello();
	req.id = 5;
	/* protobuf-c packs no unknown oneof: an empty request reads as one. */
	req.op_case = IOASD__REQUEST__OP__NOT_SET;
	ck_assert_int_eq(call(&req, NULL, 0)->error, EOPNOTSUPP);
	ck_assert(!f.closed);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rpc");
	TCase *tc = tcase_create("dispatch");
	SRunner *sr;
	int failed;

	signal(SIGPIPE, SIG_IGN);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, hello_first);
	tcase_add_test(tc, commit_after_writes_only);
	tcase_add_test(tc, fds_counted_and_closed);
	tcase_add_test(tc, unknown_operation);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
