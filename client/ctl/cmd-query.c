/* SPDX-License-Identifier: MIT */
/* ioasctl: hello, stats, whoami. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"

static void print_caps(uint64_t caps)
{
	bool any = false;

	if (caps & IOAS_CAP_MAP_FILE) {
		fputs("map-file", stdout);
		any = true;
	}
	if (caps & IOAS_CAP_HUGE_PAGES) {
		fputs(any ? ",huge-pages" : "huge-pages", stdout);
		any = true;
	}
	if (!any)
		fputs("none", stdout);
}

/* The kernel part of a backend description ("thp=yes ..."), after the
 * backend's name; "(not said)" from a daemon that sends none. */
static const char *model_of(const char *description)
{
	const char *sp = strchr(description, ' ');

	return sp ? sp + 1 : "(not said)";
}

int cmd_hello(struct ctl *ctl, int argc, char **argv)
{
	struct ioas_client *c;
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, NULL, 0, NULL, 0, 0, &npos);
	if (r)
		return r;
	r = ensure_client(ctl);
	if (r)
		return r;
	c = ctl->client;
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", "hello");
		jstr(ctl, "socket", ctl->socket);
		jstr(ctl, "backend", ioas_client_backend(c));
		jstr(ctl, "backend_description", ioas_client_backend_description(c));
		jstr(ctl, "server", ioas_client_server(c));
		ju64(ctl, "version", ioas_client_version(c));
		ju64(ctl, "caps", ioas_client_caps(c));
		jbool(ctl, "map_file", ioas_client_caps(c) & IOAS_CAP_MAP_FILE);
		jbool(ctl, "huge_pages", ioas_client_caps(c) & IOAS_CAP_HUGE_PAGES);
		ju64(ctl, "max_datagram", ioas_client_max_datagram(c));
		ju64(ctl, "max_fds", ioas_client_max_fds(c));
		ju64(ctl, "max_batch", ioas_client_max_batch(c));
		if (ioas_client_reclaim_token(c))
			jstr(ctl, "reclaim_token", ioas_client_reclaim_token(c));
		jbool(ctl, "reclaimed", ioas_client_reclaimed(c));
		jclose();
		return 0;
	}
	printf("socket        %s\n", ctl->socket);
	printf("server        %s\n", ioas_client_server(c)[0] ? ioas_client_server(c) : "(not said)");
	printf("backend       %s\n", ioas_client_backend(c));
	printf("model         %s\n", model_of(ioas_client_backend_description(c)));
	printf("protocol      %u\n", ioas_client_version(c));
	printf("caps          ");
	print_caps(ioas_client_caps(c));
	printf("\nmax-datagram  %u\n", ioas_client_max_datagram(c));
	printf("max-fds       %u\n", ioas_client_max_fds(c));
	printf("max-batch     %u\n", ioas_client_max_batch(c));
	printf("reclaim-token %s\n", ioas_client_reclaim_token(c) ?
		ioas_client_reclaim_token(c) : "(no restart support)");
	if (ioas_client_reclaimed(c))
		printf("reclaimed     yes: objects restored after a daemon restart\n");
	return 0;
}

/* The daemon-wide figures only when the daemon gave them (Admin=yes or
 * uid 0); otherwise one line saying so, or "daemon_wide": false. */
static void print_stats(struct ctl *ctl, const char *cmd,
			const struct ioas_stats *s)
{
	char a[32], b[32], t[32];

	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", cmd);
		jstr(ctl, "backend", s->backend);
		ju64(ctl, "ioas", s->ioas);
		ju64(ctl, "memory_regions", s->memory_regions);
		ju64(ctl, "mappings", s->mappings);
		ju64(ctl, "mapped_bytes", s->mapped_bytes);
		ju64(ctl, "pinned_bytes", s->pinned_bytes);
		jbool(ctl, "daemon_wide", s->daemon_wide);
		if (s->daemon_wide) {
			ju64(ctl, "connections", s->connections);
			ju64(ctl, "total_ioas", s->total_ioas);
			ju64(ctl, "total_pinned_bytes", s->total_pinned_bytes);
			ju64(ctl, "tenants", s->tenants);
			ju64(ctl, "pool_size", s->pool_size);
			ju64(ctl, "pool_idle", s->pool_idle);
			ju64(ctl, "audit_suppressed", s->audit_suppressed);
			ju64(ctl, "audit_dropped", s->audit_dropped);
			ju64(ctl, "audit_evicted", s->audit_evicted);
		}
		jclose();
		return;
	}
	printf("backend             %s\n", s->backend);
	printf("ioas                %u\n", s->ioas);
	printf("memory-regions      %u\n", s->memory_regions);
	printf("mappings            %u\n", s->mappings);
	printf("mapped              %s\n", fmt_size(s->mapped_bytes, a, sizeof(a)));
	printf("pinned              %s\n", fmt_size(s->pinned_bytes, b, sizeof(b)));
	if (!s->daemon_wide) {
		printf("daemon-wide         not visible to this tenant "
		       "(for Admin=yes in its policy section, or uid 0)\n");
		return;
	}
	printf("connections         %u (daemon-wide)\n", s->connections);
	printf("total-ioas          %u (daemon-wide)\n", s->total_ioas);
	printf("total-pinned        %s (daemon-wide)\n",
	       fmt_size(s->total_pinned_bytes, t, sizeof(t)));
	printf("tenants             %u (daemon-wide)\n", s->tenants);
	printf("ioas-pool           %u of %u ready\n", s->pool_idle, s->pool_size);
	printf("audit-suppressed    %" PRIu64 " (refusals held back by the rate limit)\n",
	       s->audit_suppressed);
	printf("audit-dropped       %" PRIu64 " (records a failing sink did not take)\n",
	       s->audit_dropped);
	printf("audit-evicted       %" PRIu64 " (rate-limit subjects evicted)\n",
	       s->audit_evicted);
}

int cmd_whoami(struct ctl *ctl, int argc, char **argv)
{
	struct ioas_whoami w;
	char a[32], b[32], c[32], d[32];
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, NULL, 0, NULL, 0, 0, &npos);
	if (r)
		return r;
	r = ensure_client(ctl);
	if (r)
		return r;
	r = ioas_whoami(ctl->client, &w);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", argv[0]);
		jstr(ctl, "tenant", w.tenant);
		jstr(ctl, "policy", w.policy_source);
		jstr(ctl, "peer", w.peer);
		ju64(ctl, "max_ioas", w.max_ioas);
		ju64(ctl, "max_pinned_bytes", w.max_pinned_bytes);
		ju64(ctl, "max_mappings", w.max_mappings);
		ju64(ctl, "max_memory_regions", w.max_memory_regions);
		ju64(ctl, "max_connections", w.max_connections);
		ju64(ctl, "max_region_size", w.max_region_size);
		ju64(ctl, "allowed_iova_ranges", w.n_allowed_iova);
		jbool(ctl, "huge_pages", w.huge_pages);
		jbool(ctl, "writeable", w.writeable);
		jstr(ctl, "rlimit_mode", w.rlimit_mode);
		ju64(ctl, "ioas", w.ioas);
		ju64(ctl, "memory_regions", w.memory_regions);
		ju64(ctl, "mappings", w.mappings);
		ju64(ctl, "mapped_bytes", w.mapped_bytes);
		ju64(ctl, "pinned_bytes", w.pinned_bytes);
		ju64(ctl, "connections", w.connections);
		jbool(ctl, "orphaned", w.orphaned);
		ju64(ctl, "devices", w.devices);
		jstr(ctl, "allow_device", w.allow_device);
		jbool(ctl, "own_context", w.own_context);
		ju64(ctl, "mappings_outside_policy", w.mappings_outside_policy);
		jbool(ctl, "daemon_wide_stats", w.daemon_wide_stats);
		jbool(ctl, "delegate", w.delegate);
		jclose();
		return 0;
	}
	printf("tenant              %s%s\n", w.tenant,
	       w.orphaned ? " (removed from the policy: may only release)" : "");
	printf("policy              %s\n",
	       w.policy_source[0] ? w.policy_source : "(none: --no-policy)");
	printf("peer                %s\n", w.peer);
	printf("ioas                %u of %u\n", w.ioas, w.max_ioas);
	printf("pinned              %s of %s\n", fmt_size(w.pinned_bytes, a, sizeof(a)),
	       fmt_size(w.max_pinned_bytes, b, sizeof(b)));
	printf("mappings            %u of %u (%s mapped)\n", w.mappings, w.max_mappings,
	       fmt_size(w.mapped_bytes, c, sizeof(c)));
	if (w.mappings_outside_policy)
		printf("outside-policy      %u mappings made before a reload narrowed "
		       "AllowedIOVA (kept)\n", w.mappings_outside_policy);
	printf("memory-regions      %u of %u (each at most %s)\n", w.memory_regions,
	       w.max_memory_regions, fmt_size(w.max_region_size, d, sizeof(d)));
	printf("connections         %u of %u\n", w.connections, w.max_connections);
	if (w.n_allowed_iova == 0)
		printf("allowed-iova        any (not restricted by policy)\n");
	for (uint32_t i = 0; i < w.n_allowed_iova && i < IOAS_WHOAMI_MAX_RANGES; i++)
		printf("allowed-iova        0x%" PRIx64 "-0x%" PRIx64 "\n",
		       w.allowed_iova[i].start, w.allowed_iova[i].last);
	printf("huge-pages          %s\n", w.huge_pages ? "allowed" : "off by policy");
	printf("access              %s\n", w.writeable ? "read-write" : "read-only");
	printf("rlimit-mode         %s\n", w.rlimit_mode);
	printf("delegate            %s\n", w.delegate ?
	       "yes: contexts and device files for a VMM (ioasctl exec)" : "no");
	printf("devices             %u attached; allowed: %s\n", w.devices,
	       w.allow_device[0] ? w.allow_device : "none");
	printf("context             %s\n", w.own_context ?
	       "its own (device tenant)" : "shared (pooled; COPY sharing)");
	printf("stats               %s\n", w.daemon_wide_stats ?
	       "its own and daemon-wide figures (Admin=yes, or uid 0)" :
	       "its own figures only (daemon-wide: Admin=yes or uid 0)");
	return 0;
}

int cmd_stats(struct ctl *ctl, int argc, char **argv)
{
	struct ioas_stats s;
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, NULL, 0, NULL, 0, 0, &npos);
	if (r)
		return r;
	r = ensure_client(ctl);
	if (r)
		return r;
	r = ioas_stats(ctl->client, &s);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	print_stats(ctl, argv[0], &s);
	return 0;
}
