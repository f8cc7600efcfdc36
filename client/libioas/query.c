/* SPDX-License-Identifier: MIT */
/* libioas: Stats and Whoami. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* ------------------------------------------------------------ stats */

IOAS_EXPORT int ioas_stats(struct ioas_client *c, struct ioas_stats *ret)
{
	Ioasd__StatsReply *s;
	int r;

	if (!ret)
		return libioas_fail(c, -EINVAL, "no place for the stats");

	r = REQUEST(c, stats, -1, &s);
	if (r == 0) {
		memset(ret, 0, sizeof(*ret));
		libioas_copy_str(ret->backend, sizeof(ret->backend), s->backend);
		ret->connections = s->connections;
		ret->ioas = s->ioas;
		ret->memory_regions = s->memory_regions;
		ret->mappings = s->mappings;
		ret->mapped_bytes = s->mapped_bytes;
		ret->pinned_bytes = s->pinned_bytes;
		ret->total_ioas = s->total_ioas;
		ret->total_pinned_bytes = s->total_pinned_bytes;
		ret->tenants = s->has_tenants ? s->tenants : 0;
		ret->pool_size = s->has_pool_size ? s->pool_size : 0;
		ret->pool_idle = s->has_pool_idle ? s->pool_idle : 0;
		/* A daemon without the field filled them in for everyone. */
		ret->daemon_wide = s->has_daemon_wide ? s->daemon_wide : true;
		ret->audit_suppressed = s->has_audit_suppressed ? s->audit_suppressed : 0;
		ret->audit_dropped = s->has_audit_dropped ? s->audit_dropped : 0;
		ret->audit_evicted = s->has_audit_evicted ? s->audit_evicted : 0;
	}
	return r;
}

IOAS_EXPORT int ioas_whoami(struct ioas_client *c, struct ioas_whoami *ret)
{
	Ioasd__WhoamiReply *w;
	int r;

	if (!ret)
		return libioas_fail(c, -EINVAL, "no place for the answer");
	r = REQUEST(c, whoami, -1, &w);
	if (r == 0) {
		memset(ret, 0, sizeof(*ret));
		snprintf(ret->tenant, sizeof(ret->tenant), "%s", w->tenant ? w->tenant : "");
		snprintf(ret->policy_source, sizeof(ret->policy_source), "%s",
			 w->policy_source ? w->policy_source : "");
		snprintf(ret->peer, sizeof(ret->peer), "%s", w->peer ? w->peer : "");
		ret->max_ioas = w->max_ioas;
		ret->max_pinned_bytes = w->max_pinned_bytes;
		ret->max_mappings = w->max_mappings;
		ret->max_memory_regions = w->max_memory_regions;
		ret->max_connections = w->max_connections;
		ret->max_region_size = w->max_region_size;
		ret->n_allowed_iova = (uint32_t)w->n_allowed_iova;
		for (size_t i = 0; i < w->n_allowed_iova && i < IOAS_WHOAMI_MAX_RANGES; i++) {
			ret->allowed_iova[i].start = w->allowed_iova[i]->start;
			ret->allowed_iova[i].last = w->allowed_iova[i]->last;
		}
		ret->huge_pages = w->huge_pages;
		ret->writeable = w->writeable;
		snprintf(ret->rlimit_mode, sizeof(ret->rlimit_mode), "%s",
			 w->rlimit_mode ? w->rlimit_mode : "");
		ret->ioas = w->ioas;
		ret->memory_regions = w->memory_regions;
		ret->mappings = w->mappings;
		ret->mapped_bytes = w->mapped_bytes;
		ret->pinned_bytes = w->pinned_bytes;
		ret->connections = w->connections;
		ret->orphaned = w->orphaned;
		ret->devices = w->devices;
		ret->own_context = w->own_context;
		ret->mappings_outside_policy = w->mappings_outside_policy;
		ret->daemon_wide_stats = w->has_daemon_wide_stats ?
					 w->daemon_wide_stats : true;
		ret->delegate = w->delegate;
		for (size_t i = 0, at = 0; i < w->n_allow_device; i++) {
			int n = snprintf(ret->allow_device + at,
					 sizeof(ret->allow_device) - at, "%s%s",
					 i ? " " : "", w->allow_device[i]);

			if (n < 0 || (size_t)n >= sizeof(ret->allow_device) - at)
				break;
			at += (size_t)n;
		}
	}
	return r;
}
