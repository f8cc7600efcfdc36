/* SPDX-License-Identifier: MIT */
/*
 * A pool of pre-allocated IOASes. pool_take() hands out a pristine IOAS
 * (from the pool, or freshly allocated when the pool is empty); pool_give()
 * takes one back: it is unmapped, its allowed list cleared and its options
 * reset, then kept if the pool has room, else destroyed. The pool refills
 * itself from the event loop, one IOAS per turn, so that it never blocks
 * request handling.
 */
#pragma once

#include <stdint.h>

struct backend;
struct event_base;
struct pool;

struct pool_stats {
	uint32_t size;      /* target */
	uint32_t idle;      /* ready in the pool */
	uint64_t taken;     /* handed out since start */
	uint64_t reused;    /* of those, from the pool */
	uint64_t destroyed; /* given back but not kept (pool full or reset failed) */
};

/* base may be NULL: then the pool only refills on pool_refill_now(). */
int pool_new(struct backend *b, struct event_base *base, uint32_t size,
	     struct pool **ret);
struct pool *pool_free(struct pool *p); /* destroys idle IOASes; NULL-safe */

int pool_take(struct pool *p, uint32_t *ret_id);
/* Never fails from the caller's point of view: what cannot be reset is
 * destroyed. Returns -errno of the destroy when even that failed (logged by
 * the caller), else 0. */
int pool_give(struct pool *p, uint32_t id);

/* The idle IOAS ids (for the restart state); *ret valid until the pool changes. */
uint32_t pool_idle_ids(const struct pool *p, const uint32_t **ret);
void pool_get_stats(const struct pool *p, struct pool_stats *ret);
/* Allocate up to the target now (tests, start-up). */
int pool_refill_now(struct pool *p);
