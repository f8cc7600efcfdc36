/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the lean codec against protobuf-c. The input is decoded as
 * a Request and as a Response, by fastpb (with ample scratch, and with as
 * little as the first byte says) and by protobuf-c.
 *
 * Invariants: what fastpb takes protobuf-c takes too, and the two decodings
 * pack to the same bytes; too little scratch is FASTPB_NOSPACE, never a
 * different answer; what fastpb packs is byte for byte what protobuf-c
 * packs, and a buffer one byte short is declined, never cut.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "proto/fastpb.h"
#include "proto/ioasd.pb-c.h"
#include "proto/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fastpb_memo memo;
static uint64_t scratch[1 << 16], msg[64];
static uint8_t a[IOASD_MAX_DATAGRAM], b[IOASD_MAX_DATAGRAM];

static void check_as(const ProtobufCMessageDescriptor *desc, const uint8_t *buf,
		     size_t len, size_t small)
{
	ProtobufCMessage *slow = protobuf_c_message_unpack(desc, NULL, len, buf);
	int r = fastpb_unpack(&memo, desc, buf, len, msg, scratch, sizeof(scratch));
	int r_small = fastpb_unpack(NULL, desc, buf, len, msg, scratch, small);
	size_t na, nb;
	ssize_t nf;

	/* Less scratch gives the same answer, or says it needs more. */
	if (r_small != FASTPB_NOSPACE && r != FASTPB_NOSPACE && r_small != r)
		fuzz_fail("%s: %d with %zu bytes of scratch, %d with %zu", desc->name,
			  r_small, small, r, sizeof(scratch));
	/* msg again as the ample scratch decoded it (the second call wrote
	 * over it). A datagram of empty messages can need more than even
	 * that: then there is nothing to compare. */
	if (r == 0)
		r = fastpb_unpack(&memo, desc, buf, len, msg, scratch, sizeof(scratch));
	if (r == 0) {
		if (!slow)
			fuzz_fail("fastpb took a %s protobuf-c refuses", desc->name);
		na = protobuf_c_message_get_packed_size((ProtobufCMessage *)msg);
		nb = protobuf_c_message_get_packed_size(slow);
		if (na != nb || na > sizeof(a))
			fuzz_fail("%s: decoded differently (%zu and %zu bytes packed)",
				  desc->name, na, nb);
		protobuf_c_message_pack((ProtobufCMessage *)msg, a);
		protobuf_c_message_pack(slow, b);
		if (memcmp(a, b, na))
			fuzz_fail("%s: decoded differently", desc->name);
	}
	if (slow) {
		nb = protobuf_c_message_get_packed_size(slow);
		nf = nb <= sizeof(b) ? fastpb_pack(&memo, slow, a, sizeof(a)) : -1;
		if (nf >= 0) {
			protobuf_c_message_pack(slow, b);
			if ((size_t)nf != nb || memcmp(a, b, nb))
				fuzz_fail("%s: packed differently", desc->name);
			if (nb && fastpb_pack(&memo, slow, a, nb - 1) >= 0)
				fuzz_fail("%s: packed into a buffer too small", desc->name);
		}
		protobuf_c_message_free_unpacked(slow, NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t small;

	if (size < 1 || size - 1 > IOASD_MAX_DATAGRAM)
		return 0;
	small = (size_t)data[0] * 16;
	check_as(&ioasd__request__descriptor, data + 1, size - 1, small);
	check_as(&ioasd__response__descriptor, data + 1, size - 1, small);
	return 0;
}
