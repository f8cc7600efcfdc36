/* SPDX-License-Identifier: MIT */
/*
 * For the tests of the protocol layer alone (test-rpc.c, test-batch.c): an
 * rpc session whose transport is a list of the replies in memory, each
 * decoded, and a journal that counts the changes the tables report. No
 * socket.
 */
#pragma once

#include <check.h>
#include <stdbool.h>

#include "proto/ioasd.pb-c.h"
#include "proto/wire.h"
#include "rpc/rpc.h"
#include "tenant/tenant.h"

#define MAX_REPLIES 8

struct fake {
	struct rpc_session s;        /* first: the transport's argument */
	Ioasd__Response *replies[MAX_REPLIES];
	size_t n;
	bool closed;
	unsigned commits, hellos;
};

static inline int fake_send(struct rpc_session *s, const void *buf, size_t len)
{
	struct fake *f = (struct fake *)s;

	ck_assert_uint_lt(f->n, MAX_REPLIES);
	ck_assert_uint_le(len, IOASD_MAX_DATAGRAM);
	f->replies[f->n] = ioasd__response__unpack(NULL, len, buf);
	ck_assert_ptr_nonnull(f->replies[f->n]);
	f->n++;
	return 0;
}

static inline void fake_close(struct rpc_session *s)
{
	((struct fake *)s)->closed = true;
}

static const struct rpc_transport fake_transport = {
	.send = fake_send, .close_after_flush = fake_close,
};

/* The tables' journal (what restart support would write): userdata is
 * the struct fake; commits counts the changes reported. */
static inline void fake_journal(void *ud, const struct tenant_journal_event *ev)
{
	(void)ev;
	((struct fake *)ud)->commits++;
}

static inline void fake_free_replies(struct fake *f)
{
	for (size_t i = 0; i < f->n; i++)
		ioasd__response__free_unpacked(f->replies[i], NULL);
	f->n = 0;
}
