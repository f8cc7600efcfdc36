/* SPDX-License-Identifier: MIT */
/*
 * The lean codec of fastpb.h. Each rule below is protobuf-c 1.4's own
 * (protobuf-c.c: parse_*, *_pack, optional_field_pack, oneof_field_pack);
 * where matching it exactly would take more than a few lines, the input is
 * declined and protobuf-c handles it.
 *
 * A message type's fields are looked at once, into a table (struct
 * fastpb_type: one slot per field, in the descriptor's order, and the slot
 * of each field number); decoding and encoding then read the table, not
 * the descriptor.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "proto/fastpb.h"

#define DECLINE (-1)

enum {
	WIRE_VARINT = 0,
	WIRE_LENGTH = 2,
};

/* What a field is, as far as the codec goes. */
enum kind {
	K_UINT32,  /* varints, each stored as protobuf-c's parse_* stores it */
	K_INT32,   /* and enum */
	K_UINT64,
	K_BOOL,
	K_STRING,
	K_MESSAGE,
	K_OTHER,   /* declined wherever it is met */
};

/* How a field says it is there. */
enum presence {
	P_REQUIRED, /* always */
	P_HAS,      /* optional number: its has_ flag */
	P_PTR,      /* optional string or message: its pointer */
	P_ONEOF,    /* member of a oneof: the oneof's case */
	P_REPEATED, /* repeated: its count (messages only; others declined) */
};

/* Field numbers with a direct slot; the rest are looked up. */
#define BY_ID 128

struct fastpb_slot {
	const ProtobufCFieldDescriptor *f;
	uint32_t offset, quant;      /* of its member and its quantifier */
	uint8_t kind, presence, wire;
	uint8_t tag_len;             /* its tag, encoded */
	uint8_t tag[5];
};

struct fastpb_type {
	const ProtobufCMessageDescriptor *desc;
	bool simple;                  /* false: every message of it declined */
	uint64_t required;            /* bit i: slot i is required */
	uint64_t oneof;               /* bit i: slot i is a member of a oneof */
	unsigned n_oneofs;
	uint32_t oneof_case[FASTPB_MAX_ONEOFS]; /* their quantifier offsets */
	uint8_t by_id[BY_ID];         /* field number -> slot + 1, 0: none */
	struct fastpb_slot slot[];    /* desc->n_fields */
};

/* ------------------------------------------------------------ the table */

/* protobuf-c's field_ranges are runs of consecutive numbers in ascending
 * order, the last entry a sentinel whose orig_index is n_fields. */
static const ProtobufCFieldDescriptor *field_by_id(const ProtobufCMessageDescriptor *d,
						   uint32_t id, unsigned *ret_index)
{
	const ProtobufCIntRange *r = d->field_ranges;
	unsigned lo = 0, hi = d->n_field_ranges;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		uint32_t start = (uint32_t)r[mid].start_value;
		unsigned count = r[mid + 1].orig_index - r[mid].orig_index;

		if (id < start) {
			hi = mid;
		} else if (id - start >= count) {
			lo = mid + 1;
		} else {
			*ret_index = r[mid].orig_index + (id - start);
			return &d->fields[*ret_index];
		}
	}
	return NULL;
}

static enum kind kind_of(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_UINT32:
		return K_UINT32;
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_ENUM:
		return K_INT32;
	case PROTOBUF_C_TYPE_UINT64:
		return K_UINT64;
	case PROTOBUF_C_TYPE_BOOL:
		return K_BOOL;
	case PROTOBUF_C_TYPE_STRING:
		return K_STRING;
	case PROTOBUF_C_TYPE_MESSAGE:
		return K_MESSAGE;
	default:
		return K_OTHER;
	}
}

/* d's table, into t (room for d->n_fields slots). */
static void type_build(struct fastpb_type *t, const ProtobufCMessageDescriptor *d)
{
	memset(t, 0, sizeof(*t));
	t->desc = d;
	t->simple = d->n_fields <= 64;
	for (unsigned i = 0; t->simple && i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		struct fastpb_slot *s = &t->slot[i];
		enum kind k = kind_of(f->type);
		uint64_t tag;
		unsigned k2;

		memset(s, 0, sizeof(*s));
		s->f = f;
		s->offset = f->offset;
		s->quant = f->quantifier_offset;
		s->kind = (uint8_t)k;
		s->wire = k == K_STRING || k == K_MESSAGE ? WIRE_LENGTH : WIRE_VARINT;
		tag = (uint64_t)f->id << 3 | s->wire;
		while (tag >= 0x80) {
			s->tag[s->tag_len++] = (uint8_t)(tag | 0x80);
			tag >>= 7;
		}
		s->tag[s->tag_len++] = (uint8_t)tag;
		if (f->id < BY_ID)
			t->by_id[f->id] = (uint8_t)(i + 1);
		switch (f->label) {
		case PROTOBUF_C_LABEL_REQUIRED:
			s->presence = P_REQUIRED;
			t->required |= 1ull << i;
			break;
		case PROTOBUF_C_LABEL_REPEATED:
			s->presence = P_REPEATED;
			break;
		case PROTOBUF_C_LABEL_OPTIONAL:
			if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
				s->presence = P_ONEOF;
			else if (k == K_STRING || k == K_MESSAGE)
				s->presence = P_PTR;
			else
				s->presence = P_HAS;
			break;
		default: /* proto3's LABEL_NONE */
			t->simple = false;
			break;
		}
		if (s->presence != P_ONEOF)
			continue;
		t->oneof |= 1ull << i;
		for (k2 = 0; k2 < t->n_oneofs; k2++)
			if (t->oneof_case[k2] == f->quantifier_offset)
				break;
		if (k2 == t->n_oneofs) {
			if (k2 == FASTPB_MAX_ONEOFS)
				t->simple = false;
			else
				t->oneof_case[t->n_oneofs++] = f->quantifier_offset;
		}
	}
}

static struct fastpb_type *type_new(const ProtobufCMessageDescriptor *d)
{
	struct fastpb_type *t = malloc(sizeof(*t) + d->n_fields * sizeof(t->slot[0]));

	if (t)
		type_build(t, d);
	return t;
}

/* d's table: the memo's (made the first time), else one made for the
 * caller, who frees *ret_owned. NULL when out of memory. */
static const struct fastpb_type *type_of(struct fastpb_memo *memo,
					 const ProtobufCMessageDescriptor *d,
					 struct fastpb_type **ret_owned)
{
	*ret_owned = NULL;
	if (memo) {
		/* Fibonacci hashing of the address, four places from there. */
		size_t h = (size_t)(((uint64_t)(uintptr_t)d * 0x9e3779b97f4a7c15ull) >> 57);

		if (memo->e[h].desc == d)
			return memo->e[h].type;
		for (size_t k = 0; k < 4; k++) {
			size_t i = (h + k) % FASTPB_MEMO_ENTRIES;

			if (memo->e[i].desc == d)
				return memo->e[i].type;
			if (!memo->e[i].desc) {
				struct fastpb_type *t = type_new(d);

				if (!t)
					return NULL;
				memo->e[i].desc = d;
				memo->e[i].type = t;
				return t;
			}
		}
	}
	*ret_owned = type_new(d);
	return *ret_owned;
}

void fastpb_memo_release(struct fastpb_memo *memo)
{
	for (size_t i = 0; i < FASTPB_MEMO_ENTRIES; i++)
		free(memo->e[i].type);
	memset(memo, 0, sizeof(*memo));
}

/* The slot of field number id, or NULL. */
static inline const struct fastpb_slot *slot_of(const struct fastpb_type *t, uint32_t id,
						unsigned *ret_index)
{
	if (id < BY_ID) {
		unsigned k = t->by_id[id];

		*ret_index = k - 1;
		return k ? &t->slot[k - 1] : NULL;
	}
	return field_by_id(t->desc, id, ret_index) ? &t->slot[*ret_index] : NULL;
}

/* ------------------------------------------------------------ decoding */

struct in {
	const uint8_t *p, *end;
};

/* protobuf-c reads a length in 5 bytes at most (scan_length_prefixed_data:
 * "unterminated length"); a longer one, even a padded small one, is
 * refused there, so declined here. */
#define MAX_LENGTH_BYTES 5

/* At most 10 bytes, the last contributing one bit at most (protobuf-c
 * would drop the rest silently: declined). */
static int get_varint_long(struct in *in, uint64_t *ret, unsigned *ret_len)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < 10 && in->p < in->end; i++) {
		uint8_t b = *in->p++;

		if (i == 9 && b > 1)
			return DECLINE;
		v |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*ret = v;
			*ret_len = i + 1;
			return 0;
		}
	}
	return DECLINE;
}

/* Most varints here (tags, handles, small lengths) are one byte. */
static inline int get_varint(struct in *in, uint64_t *ret, unsigned *ret_len)
{
	if (in->p < in->end && *in->p < 0x80) {
		*ret = *in->p++;
		*ret_len = 1;
		return 0;
	}
	return get_varint_long(in, ret, ret_len);
}

/* Where a decoded message's parts go: its messages, its strings. */
struct arena {
	uint8_t *p, *end;
};

static void *arena_alloc(struct arena *a, size_t n)
{
	uintptr_t at = ((uintptr_t)a->p + 7) & ~(uintptr_t)7;
	void *ret;

	if (at > (uintptr_t)a->end || n > (uintptr_t)a->end - at)
		return NULL;
	ret = (void *)at;
	a->p = (uint8_t *)at + n;
	return ret;
}

/* Past one value of wire type wt (the tag read): only the two types the
 * codec decodes; anything else declines. */
static int skip_value(struct in *in, unsigned wt)
{
	uint64_t v;
	unsigned len;

	if (get_varint(in, &v, &len) < 0)
		return DECLINE;
	if (wt == WIRE_VARINT)
		return 0;
	if (wt != WIRE_LENGTH || len > MAX_LENGTH_BYTES || v > (uint64_t)(in->end - in->p))
		return DECLINE;
	in->p += v;
	return 0;
}

/* How many times the field of this tag comes in the rest of the message
 * (from just past one occurrence's tag). */
static int count_repeats(struct in in, uint64_t tag, size_t *ret)
{
	size_t n = 1;
	uint64_t t;
	unsigned len;

	if (skip_value(&in, (unsigned)(tag & 7)) < 0)
		return DECLINE;
	while (in.p < in.end) {
		if (get_varint(&in, &t, &len) < 0 || skip_value(&in, (unsigned)(t & 7)) < 0)
			return DECLINE;
		n += t == tag;
	}
	*ret = n;
	return 0;
}

static int unpack(struct fastpb_memo *memo, const ProtobufCMessageDescriptor *d,
		  struct in *in, void *msg, struct arena *a, unsigned depth);

/* A message field's v bytes at in->p, into storage from the arena. */
static int unpack_sub(struct fastpb_memo *memo, const ProtobufCFieldDescriptor *f,
		      struct in *in, uint64_t v, struct arena *a, unsigned depth,
		      void **ret)
{
	const ProtobufCMessageDescriptor *sd = f->descriptor;
	struct in sin = { .p = in->p, .end = in->p + v };
	void *sub;
	int r;

	if (depth >= FASTPB_MAX_DEPTH)
		return DECLINE;
	sub = arena_alloc(a, sd->sizeof_message);
	if (!sub)
		return FASTPB_NOSPACE;
	r = unpack(memo, sd, &sin, sub, a, depth + 1);
	if (r < 0)
		return r;
	*ret = sub;
	return 0;
}

/* One occurrence of a repeated message field: the array of pointers is
 * counted and made on the first. */
static int unpack_repeated(struct fastpb_memo *memo, const struct fastpb_slot *s,
			   uint64_t tag, bool first, struct in *in, uint8_t *msg,
			   struct arena *a, unsigned depth)
{
	size_t *n = (size_t *)(msg + s->quant);
	void ***arr = (void ***)(msg + s->offset);
	uint64_t v;
	unsigned len;
	int r;

	if (s->kind != K_MESSAGE)
		return DECLINE;
	if (first) {
		size_t count;

		if (count_repeats(*in, tag, &count) < 0 || count > SIZE_MAX / sizeof(void *))
			return DECLINE;
		*arr = arena_alloc(a, count * sizeof(void *));
		if (!*arr)
			return FASTPB_NOSPACE;
		*n = 0;
	}
	if (get_varint(in, &v, &len) < 0 || len > MAX_LENGTH_BYTES ||
	    v > (uint64_t)(in->end - in->p))
		return DECLINE;
	r = unpack_sub(memo, s->f, in, v, a, depth, &(*arr)[*n]);
	if (r < 0)
		return r;
	(*n)++;
	in->p += v;
	return 0;
}

/* One field's value (its tag read and matched to s), as protobuf-c's
 * parse_* would store it. */
static int unpack_value(struct fastpb_memo *memo, const struct fastpb_slot *s,
			struct in *in, uint8_t *msg, struct arena *a, unsigned depth)
{
	uint8_t *member = msg + s->offset;
	uint64_t v;
	unsigned len;

	if (get_varint(in, &v, &len) < 0)
		return DECLINE;
	switch (s->kind) {
	case K_UINT32:
		/* parse_uint32 reads 5 bytes at most: longer, or more than 32
		 * bits, is declined rather than cut the same way. */
		if (len > 5 || v > UINT32_MAX)
			return DECLINE;
		*(uint32_t *)member = (uint32_t)v;
		return 0;
	case K_INT32:
		/* parse_int32: the low 32 bits (a negative one is sign-
		 * extended to 10 bytes on the wire). */
		*(int32_t *)member = (int32_t)(uint32_t)v;
		return 0;
	case K_UINT64:
		*(uint64_t *)member = v;
		return 0;
	case K_BOOL:
		*(protobuf_c_boolean *)member = v != 0;
		return 0;
	default:
		break;
	}
	/* A length, then its bytes. */
	if (len > MAX_LENGTH_BYTES || v > (uint64_t)(in->end - in->p))
		return DECLINE;
	if (s->kind == K_STRING) {
		/* Copied and NUL-terminated, as protobuf-c does. */
		char *str = arena_alloc(a, v + 1);

		if (!str)
			return FASTPB_NOSPACE;
		memcpy(str, in->p, v);
		str[v] = '\0';
		*(char **)member = str;
	} else {
		/* A oneof member or a required message (an optional one
		 * was declined before). */
		int r = unpack_sub(memo, s->f, in, v, a, depth, (void **)member);

		if (r < 0)
			return r;
	}
	in->p += v;
	return 0;
}

static int unpack_fields(struct fastpb_memo *memo, const struct fastpb_type *t,
			 struct in *in, uint8_t *msg, struct arena *a, unsigned depth)
{
	uint64_t seen = 0;
	int r;

	t->desc->message_init((ProtobufCMessage *)msg);
	while (in->p < in->end) {
		const struct fastpb_slot *s;
		unsigned idx, len;
		uint64_t tag, bit;

		if (get_varint(in, &tag, &len) < 0 || len > 5 || tag > UINT32_MAX)
			return DECLINE;
		/* Unknown fields are kept by protobuf-c; a field twice is
		 * merged or replaced: both are left to it. */
		s = slot_of(t, (uint32_t)(tag >> 3), &idx);
		if (!s || (tag & 7) != s->wire)
			return DECLINE;
		bit = 1ull << idx;
		if (s->presence == P_REPEATED) {
			r = unpack_repeated(memo, s, tag, !(seen & bit), in, msg, a, depth);
			if (r < 0)
				return r;
			seen |= bit;
			continue;
		}
		if (seen & bit || s->kind == K_OTHER)
			return DECLINE;
		seen |= bit;
		switch (s->presence) {
		case P_ONEOF:
			if (*(uint32_t *)(msg + s->quant) != 0)
				return DECLINE; /* a second member of the oneof */
			*(uint32_t *)(msg + s->quant) = s->f->id;
			break;
		case P_HAS:
			*(protobuf_c_boolean *)(msg + s->quant) = 1;
			break;
		case P_PTR:
			/* An optional string is there when its pointer is;
			 * an optional message is left to protobuf-c. */
			if (s->kind == K_MESSAGE)
				return DECLINE;
			break;
		default:
			break;
		}
		r = unpack_value(memo, s, in, msg, a, depth);
		if (r < 0)
			return r;
	}
	/* A missing required field fails protobuf-c's unpack. */
	if (t->required & ~seen)
		return DECLINE;
	return 0;
}

static int unpack(struct fastpb_memo *memo, const ProtobufCMessageDescriptor *d,
		  struct in *in, void *msg, struct arena *a, unsigned depth)
{
	struct fastpb_type *owned;
	const struct fastpb_type *t = type_of(memo, d, &owned);
	int r = DECLINE;

	if (t && t->simple)
		r = unpack_fields(memo, t, in, msg, a, depth);
	if (owned)
		free(owned);
	return r;
}

/* The first heap scratch tried, at least; each next one 4 times the last,
 * up to the last (a datagram of empty messages needs ~25 bytes a byte). */
#define SCRATCH_MIN (16u << 10)
#define SCRATCH_MAX (8u << 20)

size_t fastpb_scratch_size(size_t len, unsigned attempt)
{
	size_t size = len > SCRATCH_MAX / FASTPB_SCRATCH_PER_BYTE ?
			      SCRATCH_MAX : len * FASTPB_SCRATCH_PER_BYTE;

	if (size < SCRATCH_MIN)
		size = SCRATCH_MIN;
	for (; attempt; attempt--)
		size = size > SCRATCH_MAX / 4 ? SCRATCH_MAX + 1 : size * 4;
	return size <= SCRATCH_MAX ? size : 0;
}

int fastpb_unpack(struct fastpb_memo *memo, const ProtobufCMessageDescriptor *desc,
		  const uint8_t *buf, size_t len, void *msg, void *scratch,
		  size_t scratch_size)
{
	struct in in = { .p = buf, .end = buf + len };
	struct arena a = { .p = scratch, .end = (uint8_t *)scratch + scratch_size };

	return unpack(memo, desc, &in, msg, &a, 0);
}

/* ------------------------------------------------------------ encoding */

struct out {
	uint8_t *p, *end;
};

static unsigned varint_len(uint64_t v)
{
	unsigned n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static int put_varint_long(struct out *o, uint64_t v)
{
	if ((size_t)(o->end - o->p) < varint_len(v))
		return DECLINE;
	while (v >= 0x80) {
		*o->p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*o->p++ = (uint8_t)v;
	return 0;
}

/* Most varints here (tags, handles, lengths, zeroes) are one byte. */
static inline int put_varint(struct out *o, uint64_t v)
{
	if (v < 0x80 && o->p < o->end) {
		*o->p++ = (uint8_t)v;
		return 0;
	}
	return put_varint_long(o, v);
}

static inline int put_bytes(struct out *o, const void *src, size_t n)
{
	if ((size_t)(o->end - o->p) < n)
		return DECLINE;
	if (n) /* an empty string may come as NULL */
		memcpy(o->p, src, n);
	o->p += n;
	return 0;
}

static int pack(struct fastpb_memo *memo, const ProtobufCMessage *m, struct out *o);

/* A field's tag, most often one byte. */
static inline int put_tag(struct out *o, const struct fastpb_slot *s)
{
	if (s->tag_len == 1 && o->p < o->end) {
		*o->p++ = s->tag[0];
		return 0;
	}
	return put_bytes(o, s->tag, s->tag_len);
}

/* A message field: its tag, its length, its bytes. */
static int pack_message(struct fastpb_memo *memo, const struct fastpb_slot *s,
			const ProtobufCMessage *sub, struct out *o)
{
	uint8_t *len_at;
	size_t n;
	unsigned k;

	if (put_tag(o, s) < 0 || o->p == o->end)
		return DECLINE;
	len_at = o->p++;
	if (sub && pack(memo, sub, o) < 0)
		return DECLINE;
	/* The length before the bytes: one byte was kept for it; move the
	 * bytes along when it takes more. */
	n = (size_t)(o->p - len_at - 1);
	k = varint_len(n);
	if (k > 1) {
		if ((size_t)(o->end - o->p) < k - 1)
			return DECLINE;
		memmove(len_at + k, len_at + 1, n);
		o->p += k - 1;
	}
	{
		struct out lo = { .p = len_at, .end = len_at + k };

		(void)put_varint(&lo, n);
	}
	return 0;
}

/* A field protobuf-c's required_field_pack would write. */
static int pack_field(struct fastpb_memo *memo, const struct fastpb_slot *s,
		      const uint8_t *member, struct out *o)
{
	uint64_t v;

	switch (s->kind) {
	case K_INT32:
		/* int32_pack: a negative value as its 64-bit two's complement. */
		v = (uint64_t)(int64_t)*(const int32_t *)member;
		break;
	case K_UINT32:
		v = *(const uint32_t *)member;
		break;
	case K_UINT64:
		v = *(const uint64_t *)member;
		break;
	case K_BOOL:
		v = *(const protobuf_c_boolean *)member ? 1 : 0;
		break;
	case K_STRING: {
		const char *str = *(char *const *)member;
		size_t n = str ? strlen(str) : 0; /* string_pack: NULL is "" */

		if (put_tag(o, s) < 0 || put_varint(o, n) < 0 ||
		    put_bytes(o, str, n) < 0)
			return DECLINE;
		return 0;
	}
	case K_MESSAGE:
		return pack_message(memo, s, *(ProtobufCMessage *const *)member, o);
	default:
		return DECLINE;
	}
	if (put_tag(o, s) < 0 || put_varint(o, v) < 0)
		return DECLINE;
	return 0;
}

static int pack_fields(struct fastpb_memo *memo, const struct fastpb_type *t,
		       const ProtobufCMessage *m, struct out *o)
{
	const ProtobufCMessageDescriptor *d = t->desc;
	const uint8_t *base = (const uint8_t *)m;
	/* The fields outside oneofs, and of each oneof the member its case
	 * names: in field order, as protobuf-c writes them. */
	uint64_t todo = ~t->oneof & (d->n_fields == 64 ? ~0ull : (1ull << d->n_fields) - 1);

	for (unsigned k = 0; k < t->n_oneofs; k++) {
		uint32_t which = *(const uint32_t *)(base + t->oneof_case[k]);
		const struct fastpb_slot *s;
		unsigned idx;

		if (which && (s = slot_of(t, which, &idx)) && s->quant == t->oneof_case[k])
			todo |= 1ull << idx;
	}
	for (; todo; todo &= todo - 1) {
		const struct fastpb_slot *s = &t->slot[__builtin_ctzll(todo)];
		const uint8_t *member = base + s->offset;
		const uint8_t *quant = base + s->quant;

		switch (s->presence) {
		case P_REQUIRED:
			break;
		case P_HAS:
			if (!*(const protobuf_c_boolean *)quant)
				continue;
			break;
		case P_ONEOF:
			/* oneof_field_pack writes the member the case names
			 * (todo has no other); a string or message only when
			 * set, as an optional one. */
			if (s->kind != K_STRING && s->kind != K_MESSAGE)
				break;
			/* fall through */
		case P_PTR: {
			const void *ptr = *(const void *const *)member;

			if (!ptr || ptr == s->f->default_value)
				continue;
			break;
		}
		case P_REPEATED: {
			/* repeated_field_pack of messages: one field each. */
			size_t n = *(const size_t *)quant;
			void *const *arr = *(void *const *const *)member;

			if (s->kind != K_MESSAGE)
				return DECLINE;
			for (size_t k = 0; k < n; k++)
				if (pack_message(memo, s, arr[k], o) < 0)
					return DECLINE;
			continue;
		}
		default:
			return DECLINE;
		}
		if (pack_field(memo, s, member, o) < 0)
			return DECLINE;
	}
	return 0;
}

static int pack(struct fastpb_memo *memo, const ProtobufCMessage *m, struct out *o)
{
	struct fastpb_type *owned;
	const struct fastpb_type *t;
	int r = DECLINE;

	if (m->n_unknown_fields)
		return DECLINE;
	t = type_of(memo, m->descriptor, &owned);
	if (t && t->simple)
		r = pack_fields(memo, t, m, o);
	if (owned)
		free(owned);
	return r;
}

ssize_t fastpb_pack(struct fastpb_memo *memo, const ProtobufCMessage *m,
		    uint8_t *out, size_t cap)
{
	struct out o = { .p = out, .end = out + cap };

	if (pack(memo, m, &o) < 0)
		return DECLINE;
	return o.p - out;
}

const ProtobufCFieldDescriptor *fastpb_field(const ProtobufCMessageDescriptor *desc,
					     uint32_t id)
{
	const ProtobufCIntRange *r = desc->field_ranges;
	unsigned idx;

	/* Most messages number their fields from 1 without a gap. */
	if (desc->n_field_ranges == 1) {
		uint32_t k = id - (uint32_t)r[0].start_value;

		if (id < (uint32_t)r[0].start_value || k >= (uint32_t)r[1].orig_index)
			return NULL;
		return &desc->fields[k];
	}
	return field_by_id(desc, id, &idx);
}
