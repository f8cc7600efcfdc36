/* SPDX-License-Identifier: MIT */
/*
 * proto/fastpb against protobuf-c itself: what the lean codec encodes is
 * byte for byte what protobuf_c_message_pack() writes, and what it decodes
 * protobuf-c decodes to the same message; what it declines, protobuf-c
 * still gets. Valid requests and replies of every simple kind with extreme
 * and random values, then many thousands of mutated datagrams: for each,
 * fastpb either declines or agrees with protobuf-c (which must then accept
 * it too).
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/fastpb.h"
#include "proto/ioasd.pb-c.h"
#include "proto/wire.h"
#include "tests/check-run.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A value that exercises every varint length and the edges. */
static uint64_t rnd_u64(void)
{
	static const uint64_t edges[] = { 0, 1, 127, 128, 16383, 16384,
					  UINT32_MAX, (uint64_t)UINT32_MAX + 1,
					  INT64_MAX, UINT64_MAX };

	if (rnd() % 3 == 0)
		return edges[rnd() % (sizeof(edges) / sizeof(edges[0]))];
	return rnd() >> (rnd() % 64);
}

static size_t pb_pack(const ProtobufCMessage *m, uint8_t *out)
{
	ck_assert_uint_le(protobuf_c_message_get_packed_size(m), IOASD_MAX_DATAGRAM);
	return protobuf_c_message_pack(m, out);
}

/* fastpb's decoding of buf as a desc, if it takes it, is protobuf-c's:
 * packed again by protobuf-c the two are the same bytes. Returns whether
 * fastpb took it. */
static bool check_unpack_as(const ProtobufCMessageDescriptor *desc,
			    const uint8_t *buf, size_t len)
{
	static uint64_t scratch[8192], msg[64];
	static uint8_t a[IOASD_MAX_DATAGRAM], b[IOASD_MAX_DATAGRAM];
	static struct fastpb_memo memo;
	ProtobufCMessage *slow;
	size_t na, nb;

	ck_assert_uint_le(desc->sizeof_message, sizeof(msg));
	slow = protobuf_c_message_unpack(desc, NULL, len, buf);
	/* Every other call without the memo, and now and then with too
	 * little scratch: both ways decide the same or decline. */
	struct fastpb_memo *m = rnd() & 1 ? &memo : NULL;
	int r = fastpb_unpack(m, desc, buf, len, msg, scratch,
			      rnd() % 8 ? sizeof(scratch) : rnd() % 2048);

	/* Too little scratch says so, and more then does. */
	if (r == FASTPB_NOSPACE)
		r = fastpb_unpack(m, desc, buf, len, msg, scratch, sizeof(scratch));
	ck_assert_int_ne(r, FASTPB_NOSPACE);
	if (r < 0) {
		if (slow)
			protobuf_c_message_free_unpacked(slow, NULL);
		return false;
	}
	ck_assert_msg(slow != NULL, "fastpb took a %s protobuf-c refuses (%zu bytes)",
		      desc->name, len);
	na = pb_pack((ProtobufCMessage *)msg, a);
	nb = pb_pack(slow, b);
	ck_assert_uint_eq(na, nb);
	ck_assert(!memcmp(a, b, na));
	protobuf_c_message_free_unpacked(slow, NULL);
	return true;
}

static bool check_unpack(const uint8_t *buf, size_t len)
{
	return check_unpack_as(&ioasd__request__descriptor, buf, len);
}

/* A string of random length and bytes (NUL, control, invalid UTF-8). */
static char *rnd_str(char *buf, size_t size)
{
	size_t n = rnd() % 3 ? rnd() % 16 : rnd() % (size - 1);

	for (size_t i = 0; i < n; i++)
		buf[i] = (char)(rnd() % 4 ? 'a' + rnd() % 26 : rnd());
	buf[n] = '\0';
	return buf;
}

/* fastpb packs m as protobuf-c does, or declines; fits or declines. */
static bool check_pack(const ProtobufCMessage *m)
{
	static uint8_t a[IOASD_MAX_DATAGRAM], b[IOASD_MAX_DATAGRAM];
	static struct fastpb_memo memo;
	size_t nb = pb_pack(m, b);
	ssize_t na = fastpb_pack(rnd() & 1 ? &memo : NULL, m, a, sizeof(a));

	if (na < 0)
		return false;
	ck_assert_int_eq(na, (ssize_t)nb);
	ck_assert(!memcmp(a, b, nb));
	/* Too little room: declined, never cut. */
	if (nb > 0)
		ck_assert_int_lt(fastpb_pack(&memo, m, a, nb - 1), 0);
	return true;
}

#define MAX_TEST_OPS 300

/* A random BatchReply of up to MAX_TEST_OPS results (static storage). */
static Ioasd__BatchReply *random_batch_reply(void)
{
	static Ioasd__BatchReply reply;
	static Ioasd__BatchResult res[MAX_TEST_OPS], *resp[MAX_TEST_OPS];
	static Ioasd__MapReply map[MAX_TEST_OPS];
	static Ioasd__UnmapReply unmap[MAX_TEST_OPS];
	static Ioasd__ShareExportReply share[MAX_TEST_OPS];
	static char msg[MAX_TEST_OPS][24];
	unsigned n = rnd() % 4 ? rnd() % 70 : rnd() % MAX_TEST_OPS;

	ioasd__batch_reply__init(&reply);
	for (unsigned i = 0; i < n; i++) {
		ioasd__batch_result__init(&res[i]);
		resp[i] = &res[i];
		res[i].error = rnd() % 4 ? 0 : (int32_t)(rnd() % 200);
		if (res[i].error && rnd() & 1)
			res[i].message = rnd_str(msg[i], sizeof(msg[i]));
		res[i].has_rolled_back = rnd() % 8 == 0;
		res[i].rolled_back = rnd() & 1;
		switch (rnd() % 4) {
		case 0:
			ioasd__map_reply__init(&map[i]);
			map[i].iova = rnd_u64();
			res[i].result_case = IOASD__BATCH_RESULT__RESULT_MAP;
			res[i].map = &map[i];
			break;
		case 1:
			ioasd__unmap_reply__init(&unmap[i]);
			unmap[i].unmapped = rnd_u64();
			res[i].result_case = IOASD__BATCH_RESULT__RESULT_UNMAP;
			res[i].unmap = &unmap[i];
			break;
		case 2:
			ioasd__share_export_reply__init(&share[i]);
			share[i].share = (uint32_t)rnd_u64();
			res[i].result_case = IOASD__BATCH_RESULT__RESULT_SHARE_EXPORT;
			res[i].share_export = &share[i];
			break;
		default:
			break;
		}
	}
	reply.n_results = n;
	reply.results = resp;
	return &reply;
}

/* A random Batch of up to MAX_TEST_OPS operations of the kinds a batch
 * carries (static storage). */
static Ioasd__Batch *random_batch(void)
{
	static Ioasd__Batch batch;
	static Ioasd__BatchOp op[MAX_TEST_OPS], *opp[MAX_TEST_OPS];
	static Ioasd__Map map[MAX_TEST_OPS];
	static Ioasd__Unmap unmap[MAX_TEST_OPS];
	static Ioasd__Copy copy[MAX_TEST_OPS];
	static Ioasd__IoasAlloc alloc[MAX_TEST_OPS];
	unsigned n = rnd() % 4 ? rnd() % 70 : rnd() % MAX_TEST_OPS;

	ioasd__batch__init(&batch);
	batch.mode = (Ioasd__BatchMode)(rnd() % 2);
	for (unsigned i = 0; i < n; i++) {
		ioasd__batch_op__init(&op[i]);
		opp[i] = &op[i];
		switch (rnd() % 5) {
		case 0:
			ioasd__map__init(&map[i]);
			map[i].ioas = (uint32_t)rnd_u64();
			map[i].memory = (uint32_t)rnd_u64();
			map[i].offset = rnd_u64();
			map[i].length = rnd_u64();
			map[i].has_iova = rnd() & 1;
			map[i].iova = rnd_u64();
			op[i].op_case = IOASD__BATCH_OP__OP_MAP;
			op[i].map = &map[i];
			break;
		case 1:
			ioasd__unmap__init(&unmap[i]);
			unmap[i].ioas = (uint32_t)rnd_u64();
			unmap[i].iova = rnd_u64();
			unmap[i].length = rnd_u64();
			op[i].op_case = IOASD__BATCH_OP__OP_UNMAP;
			op[i].unmap = &unmap[i];
			break;
		case 2:
			ioasd__copy__init(&copy[i]);
			copy[i].src_ioas = (uint32_t)rnd_u64();
			copy[i].length = rnd_u64();
			op[i].op_case = IOASD__BATCH_OP__OP_COPY;
			op[i].copy = &copy[i];
			break;
		case 3:
			ioasd__ioas_alloc__init(&alloc[i]);
			op[i].op_case = IOASD__BATCH_OP__OP_IOAS_ALLOC;
			op[i].ioas_alloc = &alloc[i];
			break;
		default:
			break; /* an operation of no kind: the daemon refuses it */
		}
	}
	batch.n_ops = n;
	batch.ops = opp;
	return &batch;
}

/* A random request of one of the kinds the hot path sends, and some it
 * does not; packed by protobuf-c into buf. */
static size_t random_request(uint8_t *buf)
{
	Ioasd__Request r = IOASD__REQUEST__INIT;
	Ioasd__Map map = IOASD__MAP__INIT;
	Ioasd__Unmap unmap = IOASD__UNMAP__INIT;
	Ioasd__Stats stats = IOASD__STATS__INIT;
	Ioasd__Copy copy = IOASD__COPY__INIT;
	Ioasd__Option option = IOASD__OPTION__INIT;
	Ioasd__Hello hello = IOASD__HELLO__INIT;
	Ioasd__IoasDestroy destroy = IOASD__IOAS_DESTROY__INIT;
	static char name[200], token[40];

	r.id = rnd_u64();
	switch (rnd() % 9) {
	case 0:
		map.ioas = (uint32_t)rnd_u64();
		map.memory = (uint32_t)rnd_u64();
		map.offset = rnd_u64();
		map.length = rnd_u64();
		map.flags = (uint32_t)rnd_u64();
		map.has_iova = rnd() & 1;
		map.iova = rnd_u64();
		r.op_case = IOASD__REQUEST__OP_MAP;
		r.map = &map;
		break;
	case 1:
		unmap.ioas = (uint32_t)rnd_u64();
		unmap.iova = rnd_u64();
		unmap.length = rnd_u64();
		r.op_case = IOASD__REQUEST__OP_UNMAP;
		r.unmap = &unmap;
		break;
	case 2:
		r.op_case = IOASD__REQUEST__OP_STATS;
		r.stats = &stats;
		break;
	case 3:
		copy.src_ioas = (uint32_t)rnd_u64();
		copy.src_iova = rnd_u64();
		copy.length = rnd_u64();
		copy.dst_ioas = (uint32_t)rnd_u64();
		copy.flags = (uint32_t)rnd_u64();
		copy.has_dst_iova = rnd() & 1;
		copy.dst_iova = rnd_u64();
		r.op_case = IOASD__REQUEST__OP_COPY;
		r.copy = &copy;
		break;
	case 4:
		option.op = (Ioasd__OptionOp)(rnd() % 2);
		option.option = (Ioasd__OptionId)(rnd() % 2);
		option.ioas = (uint32_t)rnd_u64();
		r.op_case = IOASD__REQUEST__OP_OPTION;
		r.option = &option;
		break;
	case 5:
		hello.version = 1;
		hello.client_name = rnd() & 1 ? rnd_str(name, sizeof(name)) : NULL;
		hello.reclaim_token = rnd() & 1 ? rnd_str(token, sizeof(token)) : NULL;
		r.op_case = IOASD__REQUEST__OP_HELLO;
		r.hello = &hello;
		break;
	case 6:
		destroy.ioas = (uint32_t)rnd_u64();
		r.op_case = IOASD__REQUEST__OP_IOAS_DESTROY;
		r.ioas_destroy = &destroy;
		break;
	case 7:
		r.op_case = IOASD__REQUEST__OP_BATCH;
		r.batch = random_batch();
		break;
	default:
		break; /* no operation at all */
	}
	return pb_pack(&r.base, buf);
}

START_TEST(requests_decode_as_protobuf_c)
{
	static uint8_t buf[IOASD_MAX_DATAGRAM];
	unsigned taken = 0;

	for (int i = 0; i < 20000; i++) {
		size_t n = random_request(buf);

		taken += check_unpack(buf, n);
	}
	/* Map, Unmap, Stats, Copy, Option, IoasDestroy, Batch and none: 8
	 * in 9. */
	ck_assert_uint_gt(taken, 20000 * 7 / 9);
}
END_TEST

START_TEST(mutated_requests_decline_or_agree)
{
	static uint8_t buf[IOASD_MAX_DATAGRAM];

	for (int i = 0; i < 200000; i++) {
		size_t n = random_request(buf);

		switch (rnd() % 4) {
		case 0: /* flip a byte */
			if (n)
				buf[rnd() % n] ^= (uint8_t)(1u << (rnd() % 8));
			break;
		case 1: /* cut */
			n = n ? rnd() % n : 0;
			break;
		case 2: /* a random byte anywhere */
			if (n)
				buf[rnd() % n] = (uint8_t)rnd();
			break;
		default: /* append junk */
			for (int k = (int)(rnd() % 6); k > 0; k--)
				buf[n++] = (uint8_t)rnd();
			break;
		}
		(void)check_unpack(buf, n);
	}
	/* Hand-made edge cases: a field twice, an unknown field, a varint
	 * one byte too long, a non-minimal length. */
	{
		static const uint8_t twice[] = { 0x08, 0x01, 0x08, 0x02, 0xaa, 0x01, 0x00 };
		static const uint8_t unknown[] = { 0x08, 0x01, 0x98, 0x06, 0x05, 0xaa, 0x01, 0x00 };
		static const uint8_t long_u32[] = { 0x08, 0x01, 0x92, 0x01, 0x0b,
			0x08, 0xff, 0xff, 0xff, 0xff, 0x1f, 0x10, 0x01, 0x18, 0x00 };
		static const uint8_t padded[] = { 0x08, 0x80, 0x00, 0xaa, 0x01, 0x00 };
		static const uint8_t ten[] = { 0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
			0xff, 0xff, 0xff, 0xff, 0x7f, 0xaa, 0x01, 0x00 };
		/* A length of 0 in 7 bytes (found by fuzz-fastpb): protobuf-c
		 * reads a length in 5 at most. */
		static const uint8_t long_len[] = { 0x08, 0x07, 0xea, 0x01, 0x80, 0x80,
			0x80, 0x80, 0x80, 0x80, 0x00 };
		static const uint8_t five_len[] = { 0x08, 0x07, 0xaa, 0x01, 0x80, 0x80,
			0x80, 0x80, 0x00 };

		ck_assert(!check_unpack(twice, sizeof(twice)));
		ck_assert(!check_unpack(unknown, sizeof(unknown)));
		ck_assert(!check_unpack(long_u32, sizeof(long_u32)));
		ck_assert(check_unpack(padded, sizeof(padded)));
		ck_assert(!check_unpack(ten, sizeof(ten)));
		ck_assert(!check_unpack(long_len, sizeof(long_len)));
		(void)check_unpack(five_len, sizeof(five_len));
	}
}
END_TEST

START_TEST(replies_encode_as_protobuf_c)
{
	static char longmsg[300], backend[100];

	memset(longmsg, 'm', sizeof(longmsg) - 1);
	for (int i = 0; i < 20000; i++) {
		Ioasd__Response r = IOASD__RESPONSE__INIT;
		Ioasd__MapReply map = IOASD__MAP_REPLY__INIT;
		Ioasd__UnmapReply unmap = IOASD__UNMAP_REPLY__INIT;
		Ioasd__StatsReply stats = IOASD__STATS_REPLY__INIT;
		Ioasd__IoasAllocReply alloc = IOASD__IOAS_ALLOC_REPLY__INIT;
		Ioasd__IovaRangesReply ranges = IOASD__IOVA_RANGES_REPLY__INIT;
		Ioasd__IovaRange range = IOASD__IOVA_RANGE__INIT, *rp = &range;
		bool simple = true;

		r.id = rnd_u64();
		r.error = (int32_t)(rnd() % 3 == 0 ? (int64_t)rnd_u64() : 0);
		if (rnd() % 3 == 0)
			r.message = rnd() & 1 ? (char *)"outside AllowedIOVA" : longmsg;
		switch (rnd() % 7) {
		case 0:
			map.iova = rnd_u64();
			r.result_case = IOASD__RESPONSE__RESULT_MAP;
			r.map = &map;
			break;
		case 1:
			unmap.unmapped = rnd_u64();
			r.result_case = IOASD__RESPONSE__RESULT_UNMAP;
			r.unmap = &unmap;
			break;
		case 2:
			stats.backend = rnd() & 1 ? rnd_str(backend, sizeof(backend)) : NULL;
			stats.connections = (uint32_t)rnd_u64();
			stats.mapped_bytes = rnd_u64();
			stats.has_pool_size = rnd() & 1;
			stats.pool_size = (uint32_t)rnd_u64();
			stats.has_daemon_wide = rnd() & 1;
			stats.daemon_wide = rnd() & 1;
			stats.has_audit_suppressed = rnd() & 1;
			stats.audit_suppressed = rnd_u64();
			r.result_case = IOASD__RESPONSE__RESULT_STATS;
			r.stats = &stats;
			break;
		case 3:
			alloc.ioas = (uint32_t)rnd_u64();
			r.result_case = IOASD__RESPONSE__RESULT_IOAS_ALLOC;
			r.ioas_alloc = &alloc;
			break;
		case 4:
			/* A repeated message: taken (none, one). */
			ranges.n_ranges = rnd() % 2;
			ranges.ranges = &rp;
			range.start = rnd_u64();
			range.last = rnd_u64();
			r.result_case = IOASD__RESPONSE__RESULT_IOVA_RANGES;
			r.iova_ranges = &ranges;
			break;
		case 5:
			/* A batch's results: repeated messages holding a
			 * oneof of messages, three deep. */
			r.result_case = IOASD__RESPONSE__RESULT_BATCH;
			r.batch = random_batch_reply();
			break;
		default:
			break;
		}
		ck_assert_int_eq(check_pack(&r.base), simple);
		/* And back (libioas decodes replies with fastpb), mutated
		 * now and then. */
		{
			static uint8_t buf[IOASD_MAX_DATAGRAM];
			size_t n = pb_pack(&r.base, buf);

			if (rnd() % 2 && n)
				buf[rnd() % n] = (uint8_t)rnd();
			(void)check_unpack_as(&ioasd__response__descriptor, buf, n);
		}
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fastpb");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, requests_decode_as_protobuf_c);
	tcase_add_test(tc, mutated_requests_decline_or_agree);
	tcase_add_test(tc, replies_encode_as_protobuf_c);
	suite_add_tcase(s, tc);
	return check_run(s);
}
