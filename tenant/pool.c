/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stdlib.h>

#include "iommu/backend.h"
#include "tenant/pool.h"

struct pool {
	struct backend *backend;
	struct event *ev_refill;
	uint32_t size;
	uint32_t idle;
	uint32_t *ids; /* idle IOAS ids, a stack of `size` slots */
	uint64_t taken, reused, destroyed;
	bool refill_failed; /* stop retrying in a loop after a failure */
};

static void pool_schedule(struct pool *p)
{
	if (p->ev_refill && p->idle < p->size && !p->refill_failed) {
		struct timeval now = { 0, 0 };

		evtimer_add(p->ev_refill, &now);
	}
}

static void pool_on_refill(evutil_socket_t fd, short what, void *arg)
{
	struct pool *p = arg;
	uint32_t id;

	if (p->idle >= p->size)
		return;
	if (backend_ioas_alloc(p->backend, &id) < 0) {
		/* Try again on the next give/take, not in a hot loop. */
		p->refill_failed = true;
		return;
	}
	p->ids[p->idle++] = id;
	pool_schedule(p);
}

int pool_new(struct backend *b, struct event_base *base, uint32_t size,
	     struct pool **ret)
{
	struct pool *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->backend = b;
	p->size = size;
	p->ids = calloc(size ? size : 1, sizeof(*p->ids));
	if (!p->ids) {
		free(p);
		return -ENOMEM;
	}
	if (base) {
		p->ev_refill = evtimer_new(base, pool_on_refill, p);
		if (!p->ev_refill) {
			pool_free(p);
			return -ENOMEM;
		}
		pool_schedule(p);
	}
	*ret = p;
	return 0;
}

struct pool *pool_free(struct pool *p)
{
	if (!p)
		return NULL;
	if (p->ev_refill)
		event_free(p->ev_refill);
	while (p->idle > 0)
		(void)backend_destroy(p->backend, p->ids[--p->idle]);
	free(p->ids);
	free(p);
	return NULL;
}

int pool_take(struct pool *p, uint32_t *ret_id)
{
	int r;

	p->refill_failed = false;
	if (p->idle > 0) {
		*ret_id = p->ids[--p->idle];
		p->taken++;
		p->reused++;
		pool_schedule(p);
		return 0;
	}
	r = backend_ioas_alloc(p->backend, ret_id);
	if (r < 0)
		return r;
	p->taken++;
	pool_schedule(p);
	return 0;
}

/* Back to what IOMMU_IOAS_ALLOC gives: nothing mapped, no allowed list,
 * huge pages on (the kernel's default). */
static int pool_reset(struct pool *p, uint32_t id)
{
	uint64_t unmapped, on = 1;
	int r;

	r = backend_unmap(p->backend, id, 0, UINT64_MAX, &unmapped);
	if (r < 0)
		return r;
	r = backend_allow_iovas(p->backend, id, NULL, 0);
	if (r < 0)
		return r;
	return backend_option(p->backend, BACKEND_OPTION_OP_SET,
			      BACKEND_OPTION_HUGE_PAGES, id, &on);
}

int pool_give(struct pool *p, uint32_t id)
{
	p->refill_failed = false;
	if (p->idle < p->size && pool_reset(p, id) == 0) {
		p->ids[p->idle++] = id;
		return 0;
	}
	p->destroyed++;
	return backend_destroy(p->backend, id);
}

void pool_get_stats(const struct pool *p, struct pool_stats *ret)
{
	ret->size = p->size;
	ret->idle = p->idle;
	ret->taken = p->taken;
	ret->reused = p->reused;
	ret->destroyed = p->destroyed;
}

int pool_refill_now(struct pool *p)
{
	while (p->idle < p->size) {
		uint32_t id;
		int r = backend_ioas_alloc(p->backend, &id);

		if (r < 0)
			return r;
		p->ids[p->idle++] = id;
	}
	return 0;
}

uint32_t pool_idle_ids(const struct pool *p, const uint32_t **ret)
{
	*ret = p->ids;
	return p->idle;
}
