/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: one request datagram, as the daemon's receive path hands it
 * to rpc_handle_datagram() (decode, Hello-first rule, operation lookup, fd
 * count, handler).
 *
 * Each input is tried twice on fresh connections: before Hello (it must be
 * refused unless it is a Hello, and the peer dropped) and after a good Hello.
 * Invariants: exactly one reply per datagram, which decodes as a Response
 * with the request's id (0 when it could not be decoded) and a reason for
 * any refusal; the tenant's tables stay consistent; once the connection is
 * gone nothing is left (no tenant, IOAS, pinned byte or fd).
 */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "net/conn.h"
#include "fuzz-common.h"
#include "rpc/rpc.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Pop the one reply queued on c; abort unless there is exactly one. */
static Ioasd__Response *take_only_reply(struct conn *c)
{
	struct outmsg *m = TAILQ_FIRST(&c->outq);
	Ioasd__Response *resp;

	if (!m)
		fuzz_fail("no reply queued");
	if (TAILQ_NEXT(m, link))
		fuzz_fail("more than one reply for one datagram");
	resp = fuzz_decode_reply(m->data, m->len);
	TAILQ_REMOVE(&c->outq, m, link);
	c->outq_bytes -= m->len;
	free(m);
	return resp;
}

static void check_reply_id(const Ioasd__Response *resp, const uint8_t *data,
			   size_t size)
{
	Ioasd__Request *req = ioasd__request__unpack(NULL, size, data);

	if (req && resp->id != req->id)
		fuzz_fail("reply id %llu for request id %llu",
			  (unsigned long long)resp->id,
			  (unsigned long long)req->id);
	if (!req && (resp->id != 0 || resp->error == 0))
		fuzz_fail("undecodable request answered with id %llu error %d",
			  (unsigned long long)resp->id, resp->error);
	ioasd__request__free_unpacked(req, NULL);
}

static void hello(struct conn *c)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__Hello h = IOASD__HELLO__INIT;
	Ioasd__Response *resp;
	uint8_t buf[64];
	size_t len;

	h.version = IOASD_PROTOCOL_VERSION;
	req.id = 1;
	req.op_case = IOASD__REQUEST__OP_HELLO;
	req.hello = &h;
	len = ioasd__request__pack(&req, buf);
	rpc_handle_datagram(&c->rs, buf, len, NULL, 0);
	resp = take_only_reply(c);
	if (resp->error)
		fuzz_fail("good Hello refused: %s", resp->message);
	ioasd__response__free_unpacked(resp, NULL);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_env_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (int round = 0; round < 2; round++) {
		Ioasd__Response *resp;
		struct conn *c;
		int client;

		c = fuzz_conn_new(&client);
		if (round == 1)
			hello(c);
		rpc_handle_datagram(&c->rs, data, size, NULL, 0);
		resp = take_only_reply(c);
		check_reply_id(resp, data, size);
		if (round == 0 && !resp->error && !c->rs.hello_done)
			fuzz_fail("a request before Hello succeeded");
		if (round == 0 && !c->rs.hello_done && !c->closing)
			fuzz_fail("a peer that did not say Hello was kept");
		ioasd__response__free_unpacked(resp, NULL);
		fuzz_check_conn(c);
		conn_free(c);
		close(client);
		fuzz_check_idle();
	}
	return 0;
}
