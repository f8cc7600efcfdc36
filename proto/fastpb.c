/* SPDX-License-Identifier: MIT */
/*
 * The lean codec of fastpb.h. Each rule below is protobuf-c 1.4's own
 * (protobuf-c.c: parse_*, *_pack, optional_field_pack, oneof_field_pack);
 * where matching it exactly would take more than a few lines, the input is
 * declined and protobuf-c handles it.
 */
#include <stdbool.h>
#include <string.h>

#include "proto/fastpb.h"

#define DECLINE (-1)

enum {
	WIRE_VARINT = 0,
	WIRE_LENGTH = 2,
};

/* A number protobuf-c reads and writes as one varint; false for every
 * other type (and for strings: decoding one would mean allocating). */
static bool is_varint(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_BOOL:
	case PROTOBUF_C_TYPE_ENUM:
		return true;
	default:
		return false;
	}
}

/* The field numbered id: protobuf-c's field_ranges are runs of consecutive
 * numbers in ascending order (one for Map's 1..6; two for Request's 1 and
 * 10..29), the last entry a sentinel whose orig_index is n_fields. */
static inline const ProtobufCFieldDescriptor *field_by_id(const ProtobufCMessageDescriptor *d,
							  uint32_t id, unsigned *ret_index)
{
	const ProtobufCIntRange *r = d->field_ranges;
	unsigned lo = 0, hi = d->n_field_ranges;

	/* Most messages number their fields from 1 without a gap. */
	if (hi == 1) {
		uint32_t k = id - (uint32_t)r[0].start_value;

		if (id < (uint32_t)r[0].start_value || k >= (uint32_t)r[1].orig_index)
			return NULL;
		*ret_index = k;
		return &d->fields[k];
	}

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

/* ------------------------------------------------------------ decoding */

struct in {
	const uint8_t *p, *end;
};

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

/* One varint field's value into its member, as protobuf-c's parse_*. */
static int store_varint(const ProtobufCFieldDescriptor *f, void *member,
			uint64_t v, unsigned len)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_UINT32:
		/* parse_uint32 reads 5 bytes at most: longer, or more than 32
		 * bits, is declined rather than cut the same way. */
		if (len > 5 || v > UINT32_MAX)
			return DECLINE;
		*(uint32_t *)member = (uint32_t)v;
		return 0;
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_ENUM:
		/* parse_int32: the low 32 bits (a negative one is sign-
		 * extended to 10 bytes on the wire). */
		*(int32_t *)member = (int32_t)(uint32_t)v;
		return 0;
	case PROTOBUF_C_TYPE_UINT64:
		*(uint64_t *)member = v;
		return 0;
	case PROTOBUF_C_TYPE_BOOL:
		*(protobuf_c_boolean *)member = v != 0;
		return 0;
	default:
		return DECLINE;
	}
}

/* What the codec needs to know of d: from the memo when it has d, else
 * worked out (into the memo, or into tmp without one). */
static const struct fastpb_type *type_of(struct fastpb_memo *memo,
					 const ProtobufCMessageDescriptor *d,
					 struct fastpb_type *tmp)
{
	struct fastpb_type *t = tmp;

	if (memo) {
		/* Fibonacci hashing of the address; the entry and its
		 * neighbour (a full pair: the second is replaced). */
		size_t h = (size_t)(((uint64_t)(uintptr_t)d * 0x9e3779b97f4a7c15ull) >> 58);

		if (memo->e[h].desc == d)
			return &memo->e[h];
		if (memo->e[h ^ 1].desc == d)
			return &memo->e[h ^ 1];
		t = &memo->e[memo->e[h].desc ? h ^ 1 : h];
	}
	memset(t, 0, sizeof(*t));
	t->desc = d;
	if (d->n_fields > 64) {
		t->n_oneofs = FASTPB_MAX_ONEOFS + 1;
		return t;
	}
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		unsigned k;

		t->required |= (uint64_t)(f->label == PROTOBUF_C_LABEL_REQUIRED) << i;
		if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
			continue;
		t->oneof |= 1ull << i;
		for (k = 0; k < t->n_oneofs && k < FASTPB_MAX_ONEOFS; k++)
			if (t->oneof_case[k] == f->quantifier_offset)
				break;
		if (k == t->n_oneofs) {
			if (k < FASTPB_MAX_ONEOFS)
				t->oneof_case[k] = f->quantifier_offset;
			t->n_oneofs++;
		}
	}
	return t;
}

/* Where a decoded message's parts go: its oneof's message, its strings. */
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
	if (wt != WIRE_LENGTH || v > (uint64_t)(in->end - in->p))
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

static int unpack(struct fastpb_memo *memo, const ProtobufCMessageDescriptor *d,
		  struct in *in, void *msg, struct arena *a, unsigned depth)
{
	struct fastpb_type tmp;
	const struct fastpb_type *t = type_of(memo, d, &tmp);
	/* Kept here: decoding a message inside may reuse t's memo entry. */
	uint64_t required = t->required, seen = 0;
	int r;

	if (t->n_oneofs > FASTPB_MAX_ONEOFS)
		return DECLINE;
	d->message_init(msg);
	while (in->p < in->end) {
		const ProtobufCFieldDescriptor *f;
		unsigned idx, len;
		uint64_t tag, v;
		uint8_t *member, *quant;

		if (get_varint(in, &tag, &len) < 0 || len > 5 || tag > UINT32_MAX)
			return DECLINE;
		f = field_by_id(d, (uint32_t)(tag >> 3), &idx);
		/* Unknown fields are kept by protobuf-c; a field twice is
		 * merged or replaced: both are left to it. */
		if (!f || f->label == PROTOBUF_C_LABEL_NONE)
			return DECLINE;
		member = (uint8_t *)msg + f->offset;
		quant = (uint8_t *)msg + f->quantifier_offset;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			/* Only messages, one by one (as protobuf-c writes
			 * them): an array of pointers counted on the first. */
			size_t *n = (size_t *)quant;
			void ***arr = (void ***)member;

			if (f->type != PROTOBUF_C_TYPE_MESSAGE || (tag & 7) != WIRE_LENGTH)
				return DECLINE;
			if (!(seen & (1ull << idx))) {
				size_t count;

				if (count_repeats(*in, tag, &count) < 0)
					return DECLINE;
				if (count > SIZE_MAX / sizeof(void *))
					return DECLINE;
				*arr = arena_alloc(a, count * sizeof(void *));
				if (!*arr)
					return FASTPB_NOSPACE;
				*n = 0;
				seen |= 1ull << idx;
			}
			if (get_varint(in, &v, &len) < 0 || v > (uint64_t)(in->end - in->p))
				return DECLINE;
			r = unpack_sub(memo, f, in, v, a, depth, &(*arr)[*n]);
			if (r < 0)
				return r;
			(*n)++;
			in->p += v;
			continue;
		}
		if (seen & (1ull << idx))
			return DECLINE;
		seen |= 1ull << idx;
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			if (*(uint32_t *)quant != 0)
				return DECLINE; /* a second member of the oneof */
			*(uint32_t *)quant = f->id;
		} else if (f->label == PROTOBUF_C_LABEL_OPTIONAL) {
			/* An optional string is there when its pointer is;
			 * an optional message is left to protobuf-c. */
			if (f->type == PROTOBUF_C_TYPE_MESSAGE)
				return DECLINE;
			if (f->type != PROTOBUF_C_TYPE_STRING)
				*(protobuf_c_boolean *)quant = 1;
		}
		if (is_varint(f->type)) {
			if ((tag & 7) != WIRE_VARINT || get_varint(in, &v, &len) < 0 ||
			    store_varint(f, member, v, len) < 0)
				return DECLINE;
			continue;
		}
		if ((tag & 7) != WIRE_LENGTH || get_varint(in, &v, &len) < 0 ||
		    v > (uint64_t)(in->end - in->p))
			return DECLINE;
		if (f->type == PROTOBUF_C_TYPE_STRING) {
			/* Copied and NUL-terminated, as protobuf-c does. */
			char *str = arena_alloc(a, v + 1);

			if (!str)
				return FASTPB_NOSPACE;
			memcpy(str, in->p, v);
			str[v] = '\0';
			*(char **)member = str;
		} else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
			/* A oneof member or a required message. */
			r = unpack_sub(memo, f, in, v, a, depth, (void **)member);
			if (r < 0)
				return r;
		} else {
			return DECLINE;
		}
		in->p += v;
	}
	/* A missing required field fails protobuf-c's unpack. */
	if (required & ~seen)
		return DECLINE;
	return 0;
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

static int put_varint_long(struct out *o, uint64_t v);

/* Most varints here (tags, handles, lengths, zeroes) are one byte. */
static inline int put_varint(struct out *o, uint64_t v)
{
	if (v < 0x80 && o->p < o->end) {
		*o->p++ = (uint8_t)v;
		return 0;
	}
	return put_varint_long(o, v);
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

static int put_bytes(struct out *o, const void *src, size_t n)
{
	if ((size_t)(o->end - o->p) < n)
		return DECLINE;
	if (n) /* an empty string may come as NULL */
		memcpy(o->p, src, n);
	o->p += n;
	return 0;
}

static int pack(struct fastpb_memo *memo, const ProtobufCMessage *m, struct out *o);

/* A field protobuf-c's required_field_pack would write. */
static int pack_field(struct fastpb_memo *memo, const ProtobufCFieldDescriptor *f,
		      const uint8_t *member, struct out *o)
{
	uint64_t v;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_ENUM:
		/* int32_pack: a negative value as its 64-bit two's complement. */
		v = (uint64_t)(int64_t)*(const int32_t *)member;
		break;
	case PROTOBUF_C_TYPE_UINT32:
		v = *(const uint32_t *)member;
		break;
	case PROTOBUF_C_TYPE_UINT64:
		v = *(const uint64_t *)member;
		break;
	case PROTOBUF_C_TYPE_BOOL:
		v = *(const protobuf_c_boolean *)member ? 1 : 0;
		break;
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)member;
		size_t n = s ? strlen(s) : 0; /* string_pack: NULL is "" */

		if (put_varint(o, (uint64_t)f->id << 3 | WIRE_LENGTH) < 0 ||
		    put_varint(o, n) < 0 || put_bytes(o, s, n) < 0)
			return DECLINE;
		return 0;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *sub = *(ProtobufCMessage *const *)member;
		uint8_t *len_at;
		size_t n;
		unsigned k;

		if (put_varint(o, (uint64_t)f->id << 3 | WIRE_LENGTH) < 0 ||
		    o->p == o->end)
			return DECLINE;
		len_at = o->p++;
		if (sub && pack(memo, sub, o) < 0)
			return DECLINE;
		/* The length before the bytes: one byte was kept for it;
		 * move the bytes along when it takes more. */
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
	default:
		return DECLINE;
	}
	if (put_varint(o, (uint64_t)f->id << 3 | WIRE_VARINT) < 0 || put_varint(o, v) < 0)
		return DECLINE;
	return 0;
}

static int pack(struct fastpb_memo *memo, const ProtobufCMessage *m, struct out *o)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	struct fastpb_type tmp;
	const struct fastpb_type *t = type_of(memo, d, &tmp);
	uint64_t todo;

	if (m->n_unknown_fields || t->n_oneofs > FASTPB_MAX_ONEOFS)
		return DECLINE;
	/* The fields outside oneofs, and of each oneof the member it holds
	 * (oneof_field_pack writes no other): in field order, as protobuf-c.
	 * t is not used past this (packing a message inside may reuse its
	 * memo entry). */
	todo = ~t->oneof & (d->n_fields == 64 ? ~0ull : (1ull << d->n_fields) - 1);
	for (unsigned k = 0; k < t->n_oneofs; k++) {
		uint32_t which = *(const uint32_t *)((const uint8_t *)m + t->oneof_case[k]);
		unsigned idx;

		if (which && field_by_id(d, which, &idx) &&
		    d->fields[idx].quantifier_offset == t->oneof_case[k])
			todo |= 1ull << idx;
	}
	for (; todo; todo &= todo - 1) {
		const ProtobufCFieldDescriptor *f = &d->fields[__builtin_ctzll(todo)];
		const uint8_t *quant = (const uint8_t *)m + f->quantifier_offset;
		const uint8_t *member = (const uint8_t *)m + f->offset;
		bool ptr_type = f->type == PROTOBUF_C_TYPE_MESSAGE ||
				f->type == PROTOBUF_C_TYPE_STRING;

		if (f->label == PROTOBUF_C_LABEL_NONE)
			return DECLINE;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			/* repeated_field_pack of messages: one field each. */
			size_t n = *(const size_t *)quant;
			void *const *arr = *(void *const *const *)member;

			if (f->type != PROTOBUF_C_TYPE_MESSAGE)
				return DECLINE;
			for (size_t i = 0; i < n; i++)
				if (pack_field(memo, f, (const uint8_t *)&arr[i], o) < 0)
					return DECLINE;
			continue;
		}
		if (f->label == PROTOBUF_C_LABEL_OPTIONAL) {
			/* oneof_field_pack, optional_field_pack */
			if (ptr_type) {
				const void *ptr = *(const void *const *)member;

				if (!ptr || ptr == f->default_value)
					continue;
			} else if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
				   !*(const protobuf_c_boolean *)quant) {
				continue;
			}
		}
		if (pack_field(memo, f, member, o) < 0)
			return DECLINE;
	}
	return 0;
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
	unsigned idx;

	return field_by_id(desc, id, &idx);
}
