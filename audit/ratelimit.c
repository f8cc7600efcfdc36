/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "audit/ratelimit.h"

/* One subject's window. Slots are chained per hash bucket by index. */
struct slot {
	struct ratelimit_key key;
	uint64_t start;        /* the window's first event */
	uint32_t count;        /* events let through in it */
	uint64_t suppressed;   /* events held back in it */
	int32_t next;          /* next slot in the bucket, or free list; -1 ends */
	bool used;
};

struct ratelimit {
	struct ratelimit_config cfg;
	struct ratelimit_stats stats;
	struct slot *slots;    /* cfg.max_keys */
	int32_t *buckets;      /* nbuckets heads, -1 = empty */
	uint32_t nbuckets;     /* a power of two */
	int32_t free_head;
};

static bool key_eq(const struct ratelimit_key *a, const struct ratelimit_key *b)
{
	if (a->by_uid != b->by_uid)
		return false;
	return a->by_uid ? a->uid == b->uid : strcmp(a->name, b->name) == 0;
}

/* FNV-1a over what tells keys apart. */
static uint32_t key_hash(const struct ratelimit_key *k)
{
	uint32_t h = 2166136261u;

	if (k->by_uid) {
		for (unsigned i = 0; i < sizeof(k->uid); i++)
			h = (h ^ ((uint32_t)k->uid >> (8 * i) & 0xff)) * 16777619u;
		return h ^ 0x5bd1e995u;
	}
	for (const unsigned char *p = (const unsigned char *)k->name; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

int ratelimit_new(const struct ratelimit_config *cfg, struct ratelimit **ret)
{
	struct ratelimit *rl;

	if (!cfg->interval_usec || !cfg->burst || !cfg->max_keys ||
	    cfg->max_keys > INT32_MAX / 4)
		return -EINVAL;
	rl = calloc(1, sizeof(*rl));
	if (!rl)
		return -ENOMEM;
	rl->cfg = *cfg;
	for (rl->nbuckets = 1; rl->nbuckets < 2 * cfg->max_keys; rl->nbuckets *= 2)
		;
	rl->slots = calloc(cfg->max_keys, sizeof(*rl->slots));
	rl->buckets = malloc(rl->nbuckets * sizeof(*rl->buckets));
	if (!rl->slots || !rl->buckets) {
		ratelimit_free(rl);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < rl->nbuckets; i++)
		rl->buckets[i] = -1;
	for (uint32_t i = 0; i < cfg->max_keys; i++)
		rl->slots[i].next = i + 1 < cfg->max_keys ? (int32_t)(i + 1) : -1;
	rl->free_head = 0;
	*ret = rl;
	return 0;
}

struct ratelimit *ratelimit_free(struct ratelimit *rl)
{
	if (!rl)
		return NULL;
	free(rl->slots);
	free(rl->buckets);
	free(rl);
	return NULL;
}

static int32_t *bucket_of(struct ratelimit *rl, const struct ratelimit_key *k)
{
	return &rl->buckets[key_hash(k) & (rl->nbuckets - 1)];
}

static void report(struct ratelimit *rl, struct slot *s, uint64_t end)
{
	struct ratelimit_summary sum;

	if (!s->suppressed || !rl->cfg.report)
		return;
	sum.key = s->key;
	sum.suppressed = s->suppressed;
	sum.window_usec = end > s->start ? end - s->start : 0;
	rl->cfg.report(rl->cfg.userdata, &sum);
}

/* Unlink slot i from its bucket and put it on the free list. */
static void slot_forget(struct ratelimit *rl, int32_t i)
{
	struct slot *s = &rl->slots[i];
	int32_t *p = bucket_of(rl, &s->key);

	while (*p != i)
		p = &rl->slots[*p].next;
	*p = s->next;
	s->used = false;
	s->next = rl->free_head;
	rl->free_head = i;
	rl->stats.keys--;
}

static bool window_over(const struct ratelimit *rl, const struct slot *s,
			uint64_t now)
{
	return now - s->start >= rl->cfg.interval_usec;
}

void ratelimit_sweep(struct ratelimit *rl, uint64_t now_usec, bool all)
{
	if (!rl)
		return;
	for (uint32_t i = 0; i < rl->cfg.max_keys; i++) {
		struct slot *s = &rl->slots[i];

		if (!s->used || (!all && !window_over(rl, s, now_usec)))
			continue;
		report(rl, s, all && !window_over(rl, s, now_usec) ?
				      now_usec : s->start + rl->cfg.interval_usec);
		slot_forget(rl, (int32_t)i);
	}
}

/* A free slot: closed windows are let go first; when every window is
 * still open, the oldest is evicted. */
static int32_t slot_get(struct ratelimit *rl, uint64_t now)
{
	int32_t oldest = -1;

	if (rl->free_head < 0)
		ratelimit_sweep(rl, now, false);
	if (rl->free_head < 0) {
		for (uint32_t i = 0; i < rl->cfg.max_keys; i++)
			if (oldest < 0 || rl->slots[i].start < rl->slots[oldest].start)
				oldest = (int32_t)i;
		report(rl, &rl->slots[oldest], now);
		slot_forget(rl, oldest);
		rl->stats.evicted++;
	}
	return rl->free_head;
}

bool ratelimit_test(struct ratelimit *rl, const struct ratelimit_key *key,
		    uint64_t now_usec)
{
	int32_t *head = bucket_of(rl, key), i;
	struct slot *s = NULL;

	for (i = *head; i >= 0; i = rl->slots[i].next)
		if (key_eq(&rl->slots[i].key, key)) {
			s = &rl->slots[i];
			break;
		}
	if (s && window_over(rl, s, now_usec)) {
		report(rl, s, s->start + rl->cfg.interval_usec);
		s->start = now_usec;
		s->count = 0;
		s->suppressed = 0;
	}
	if (!s) {
		i = slot_get(rl, now_usec);
		s = &rl->slots[i];
		rl->free_head = s->next;
		*s = (struct slot){ .key = *key, .start = now_usec, .used = true };
		head = bucket_of(rl, key);
		s->next = *head;
		*head = i;
		rl->stats.keys++;
	}
	if (s->count < rl->cfg.burst) {
		s->count++;
		rl->stats.passed++;
		return true;
	}
	s->suppressed++;
	rl->stats.suppressed++;
	return false;
}

void ratelimit_get_stats(const struct ratelimit *rl, struct ratelimit_stats *ret)
{
	*ret = rl ? rl->stats : (struct ratelimit_stats){ 0 };
}
