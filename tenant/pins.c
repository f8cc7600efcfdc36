/* SPDX-License-Identifier: MIT */
/*
 * Pin segments: for each memory region, the byte ranges mapped somewhere,
 * with how many mappings cover each. Bytes whose count goes 0 -> 1 are newly
 * pinned and charged once to the region's owner; 1 -> 0 are released.
 * Segments are disjoint and cover only counted bytes.
 */
#include "tenant/tenant-internal.h"

static struct pin_seg *pin_find_le(struct pin_tree *tree, uint64_t x)
{
	struct pin_seg key = { .start = x };
	struct pin_seg *s = RB_NFIND(pin_tree, tree, &key);

	if (s && s->start == x)
		return s;
	return s ? RB_PREV(pin_tree, tree, s) : RB_MAX(pin_tree, tree);
}

/* Make x a segment boundary if it falls strictly inside a segment. */
static int pin_split(struct pin_tree *tree, uint64_t x)
{
	struct pin_seg *s = pin_find_le(tree, x), *n;

	if (!s || s->start == x || s->end <= x)
		return 0;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->start = x;
	n->end = s->end;
	n->count = s->count;
	s->end = x;
	RB_INSERT(pin_tree, tree, n);
	return 0;
}

/* Bytes of [start, end) not yet covered by any segment. */
uint64_t pin_uncovered(struct pin_tree *tree, uint64_t start,
		       uint64_t end)
{
	uint64_t covered = 0;
	struct pin_seg *s = pin_find_le(tree, start);

	if (!s)
		s = RB_MIN(pin_tree, tree);
	for (; s && s->start < end; s = RB_NEXT(pin_tree, tree, s)) {
		uint64_t a = s->start > start ? s->start : start;
		uint64_t z = s->end < end ? s->end : end;

		if (z > a)
			covered += z - a;
	}
	return (end - start) - covered;
}

/* Count [start, end) once more; returns newly pinned bytes or -ENOMEM. */
int64_t pin_add(struct pin_tree *tree, uint64_t start, uint64_t end)
{
	uint64_t pos = start, added = 0;
	struct pin_seg *s;
	int r;

	r = pin_split(tree, start);
	if (r == 0)
		r = pin_split(tree, end);
	if (r < 0)
		return r;
	/* Pre-allocate nothing: gaps are filled as they are met. */
	s = pin_find_le(tree, start);
	if (!s || s->end <= start)
		s = s ? RB_NEXT(pin_tree, tree, s) : RB_MIN(pin_tree, tree);
	while (pos < end) {
		if (s && s->start <= pos) {
			s->count++;
			pos = s->end;
			s = RB_NEXT(pin_tree, tree, s);
			continue;
		}
		/* A gap [pos, min(end, s->start)). */
		uint64_t gap_end = (s && s->start < end) ? s->start : end;
		struct pin_seg *n = calloc(1, sizeof(*n));

		if (!n)
			return -ENOMEM; /* counts so far stay; caller frees region state on teardown */
		n->start = pos;
		n->end = gap_end;
		n->count = 1;
		RB_INSERT(pin_tree, tree, n);
		added += gap_end - pos;
		pos = gap_end;
	}
	return (int64_t)added;
}

/* Count [start, end) once less; returns bytes no longer pinned. */
uint64_t pin_del(struct pin_tree *tree, uint64_t start, uint64_t end)
{
	uint64_t removed = 0;
	struct pin_seg *s, *next;

	/* Splits cannot fail here in practice, but stay correct if they do:
	 * a failed split leaves a wider segment, which we then leave counted. */
	if (pin_split(tree, start) < 0 || pin_split(tree, end) < 0)
		return 0;
	s = pin_find_le(tree, start);
	if (!s || s->end <= start)
		s = s ? RB_NEXT(pin_tree, tree, s) : RB_MIN(pin_tree, tree);
	for (; s && s->start < end; s = next) {
		next = RB_NEXT(pin_tree, tree, s);
		if (--s->count == 0) {
			removed += s->end - s->start;
			RB_REMOVE(pin_tree, tree, s);
			free(s);
		}
	}
	return removed;
}
