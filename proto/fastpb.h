/* SPDX-License-Identifier: MIT */
/*
 * A lean codec for the small messages of the hot path, beside protobuf-c
 * and driven by protobuf-c's own descriptors: no field number, type or
 * layout is written here a second time.
 *
 * protobuf-c is generic: every unpack allocates each message, walks every
 * field of the descriptor (21 of Request, 20 of Response) to initialise,
 * check and later free it, and every reply is walked twice (its size, then
 * its bytes). For a Map or an Unmap that was half of what the daemon spent
 * on a request. These functions handle the common, simple case in one pass
 * with no allocation, and decline everything else, which then goes to
 * protobuf-c as before:
 *
 *   - fields of numbers (uint32, uint64, int32, bool, enum) and strings,
 *     required, optional or in a oneof; a message field as a oneof
 *     member, a required field or a repeated one (a Batch's operations, a
 *     BatchReply's results), its message itself of that kind, at most
 *     FASTPB_MAX_DEPTH messages deep;
 *   - no other repeated field, no unknown field, no field twice, only the
 *     shortest encodings protobuf-c itself writes for numbers.
 *
 * What they accept they decode or encode exactly as protobuf-c does
 * (tests/test-fastpb.c checks it against protobuf-c, mutated inputs
 * included). Library code: no logging.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <protobuf-c/protobuf-c.h>

/*
 * What the codec works out about a message type once instead of on every
 * message: for each field, where its member and quantifier are, what it is
 * and its tag already encoded; which fields are required; which field each
 * number names. Kept by the caller for as long as it decodes and encodes
 * (zeroed to start; the daemon has one, each libioas client one), with
 * the tables on the heap until fastpb_memo_release(); NULL works them out
 * each time. Entries are found by descriptor address, four places to look
 * for each; a type that finds none taken is worked out each time.
 */
#define FASTPB_MEMO_ENTRIES 128
#define FASTPB_MAX_ONEOFS 4
/* Messages inside messages: Request, Batch, BatchOp, Map. */
#define FASTPB_MAX_DEPTH 4
/* fastpb_unpack's answer when the input is of the simple kind but its
 * decoding does not fit in the scratch given (a larger one may do). */
#define FASTPB_NOSPACE (-2)
struct fastpb_type;
struct fastpb_memo {
	struct {
		const ProtobufCMessageDescriptor *desc;
		struct fastpb_type *type;
	} e[FASTPB_MEMO_ENTRIES];
};

/*
 * The scratch sizes worth trying, one after the other, for a message of
 * len bytes on the wire that did not fit the caller's own scratch
 * (FASTPB_NOSPACE): attempt 0, 1, ... until it returns 0, when protobuf-c
 * should decode it instead. A message whose len * FASTPB_SCRATCH_PER_BYTE
 * exceeds a scratch is not worth trying in it (a batch's Map is about 20
 * bytes on the wire and 130 decoded).
 */
#define FASTPB_SCRATCH_PER_BYTE 8
size_t fastpb_scratch_size(size_t len, unsigned attempt);

/* Free the tables memo holds; it is empty (zeroed) again. */
void fastpb_memo_release(struct fastpb_memo *memo);

/*
 * Decode buf into msg (storage of desc->sizeof_message bytes) without
 * allocating: its oneof's message and its strings (copied, NUL-terminated)
 * go into scratch (scratch_size bytes), which must outlive msg. Returns 0;
 * FASTPB_NOSPACE when the decoding needs more scratch than that (try a
 * larger one, or protobuf-c); or -1 when the input is not of the simple
 * kind, or not valid: msg is then garbage and the caller unpacks with
 * protobuf-c, which decides. Nothing decoded here needs freeing.
 */
int fastpb_unpack(struct fastpb_memo *memo, const ProtobufCMessageDescriptor *desc,
		  const uint8_t *buf, size_t len, void *msg, void *scratch,
		  size_t scratch_size);

/*
 * Encode m into out (cap bytes), byte for byte as protobuf_c_message_pack()
 * would. Returns the length, or -1 when m is not of the simple kind or does
 * not fit in cap (the caller then packs with protobuf-c, after asking its
 * size).
 */
ssize_t fastpb_pack(struct fastpb_memo *memo, const ProtobufCMessage *m,
		    uint8_t *out, size_t cap);

/* The field of desc numbered id, or NULL: protobuf-c's
 * protobuf_c_message_descriptor_get_field(), for the hot path. */
const ProtobufCFieldDescriptor *fastpb_field(const ProtobufCMessageDescriptor *desc,
					     uint32_t id);
