/* SPDX-License-Identifier: MIT */
/* The handlers: a request's protobuf in, the tenant layer, its reply out. */
#include "rpc/rpc-internal.h"

struct tenant *T(struct rpc_ctx *x)
{
	return x->c->tenant;
}

/* ------------------------------------------------------------ handlers */

int h_hello(struct rpc_ctx *x)
{
	const Ioasd__Hello *m = x->req->hello;
	struct backend *b = x->c->env->backend;
	Ioasd__HelloReply *r = &x->body.hello;

	if (x->c->hello_done)
		return err_set(&x->err, EALREADY, "Hello was already received");
	if (m->version != IOASD_PROTOCOL_VERSION) {
		/* Answer once, then drop the peer. */
		x->c->tp->close_after_flush(x->c);
		return err_set(&x->err, EPROTONOSUPPORT,
			       "protocol version %" PRIu32
			       " not supported; this daemon speaks %u",
			       m->version, IOASD_PROTOCOL_VERSION);
	}
	ioasd__hello_reply__init(r);
	r->version = IOASD_PROTOCOL_VERSION;
	r->caps = IOASD__CAPABILITY__CAPABILITY_HUGE_PAGES |
		  (b->has_map_file ? IOASD__CAPABILITY__CAPABILITY_MAP_FILE : 0);
	r->backend = (char *)backend_name(b);
	r->backend_description = (char *)backend_description(b);
	r->max_datagram = IOASD_MAX_DATAGRAM;
	r->max_fds = IOASD_MAX_FDS;
	r->has_max_batch = true;
	r->max_batch = IOASD_MAX_BATCH;
	r->server = (char *)PACKAGE_NAME " " PACKAGE_VERSION;
	{
		const char *token;
		bool reclaimed;
		int ret = 0;

		token = NULL;
		reclaimed = false;
		if (x->c->env->hello)
			ret = x->c->env->hello(x->c->env->userdata, x->c,
					       m->reclaim_token, &token, &reclaimed,
					       &x->err);

		if (ret < 0) {
			x->c->tp->close_after_flush(x->c);
			return ret;
		}
		r->reclaim_token = (char *)token;
		r->has_reclaimed = token != NULL;
		r->reclaimed = reclaimed;
	}
	x->resp->result_case = IOASD__RESPONSE__RESULT_HELLO;
	x->resp->hello = r;
	x->c->hello_done = true;
	if (m->client_name) {
		/* Free text of the client's choosing: escaped, never raw. */
		char name[4 * 64 + 1];

		escape_text(name, sizeof(name), m->client_name, 0);
		log_debug("connection %" PRIu64 ": hello from \"%s\"",
			  x->c->serial, name);
	}
	return 0;
}

int h_ioas_alloc(struct rpc_ctx *x)
{
	Ioasd__IoasAllocReply *r = &x->body.ioas_alloc;
	uint32_t h;
	int ret;

	ret = tenant_ioas_alloc(T(x), &h, &x->err);
	if (ret < 0)
		return ret;
	ioasd__ioas_alloc_reply__init(r);
	r->ioas = h;
	x->resp->result_case = IOASD__RESPONSE__RESULT_IOAS_ALLOC;
	x->resp->ioas_alloc = r;
	return 0;
}

int h_ioas_destroy(struct rpc_ctx *x)
{
	return tenant_ioas_destroy(T(x), x->req->ioas_destroy->ioas, &x->err);
}

/* Room for n IovaRange messages in the reply (x->ranges, filled by the
 * caller), alive until the reply is packed. */
static int reply_ranges_alloc(struct rpc_ctx *x, size_t n)
{
	x->ranges = calloc(n ? n : 1, sizeof(*x->ranges));
	x->range_ptrs = calloc(n ? n : 1, sizeof(*x->range_ptrs));
	if (!x->ranges || !x->range_ptrs)
		return err_set(&x->err, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		ioasd__iova_range__init(&x->ranges[i]);
		x->range_ptrs[i] = &x->ranges[i];
	}
	return 0;
}

int h_iova_ranges(struct rpc_ctx *x)
{
	const Ioasd__IovaRanges *m = x->req->iova_ranges;
	Ioasd__IovaRangesReply *r = &x->body.iova_ranges;
	struct backend_iova_range *ranges;
	uint32_t room = m->capacity < RPC_MAX_RANGES ? m->capacity : RPC_MAX_RANGES;
	uint32_t num = room;
	uint64_t align = 0;
	int ret;

	ioasd__iova_ranges_reply__init(r);
	ranges = calloc(room ? room : 1, sizeof(*ranges));
	if (!ranges)
		return err_set(&x->err, ENOMEM, "out of memory");
	ret = tenant_iova_ranges(T(x), m->ioas, ranges, &num, &align, &x->err);
	if (ret == -EMSGSIZE && num <= m->capacity) {
		/* The caller has room but we capped it: say so plainly. */
		free(ranges);
		return err_set(&x->err, E2BIG,
			       "IOAS has %" PRIu32 " ranges, more than the %u one reply can carry",
			       num, RPC_MAX_RANGES);
	}
	if (ret == -EMSGSIZE) {
		/* Kernel protocol: the error carries the required count. */
		r->num_iovas = num;
		x->resp->result_case = IOASD__RESPONSE__RESULT_IOVA_RANGES;
		x->resp->iova_ranges = r;
		free(ranges);
		return ret;
	}
	if (ret < 0) {
		free(ranges);
		return ret;
	}
	ret = reply_ranges_alloc(x, num);
	if (ret < 0) {
		free(ranges);
		return ret;
	}
	for (uint32_t i = 0; i < num; i++) {
		x->ranges[i].start = ranges[i].start;
		x->ranges[i].last = ranges[i].last;
	}
	free(ranges);
	r->num_iovas = num;
	r->n_ranges = num;
	r->ranges = x->range_ptrs;
	r->iova_alignment = align;
	x->resp->result_case = IOASD__RESPONSE__RESULT_IOVA_RANGES;
	x->resp->iova_ranges = r;
	return 0;
}

int h_allow_iovas(struct rpc_ctx *x)
{
	const Ioasd__AllowIovas *m = x->req->allow_iovas;
	_cleanup_free_ struct backend_iova_range *ranges = NULL;

	if (m->n_ranges > RPC_MAX_RANGES)
		return err_set(&x->err, E2BIG, "at most %u allowed ranges",
			       RPC_MAX_RANGES);
	ranges = calloc(m->n_ranges ? m->n_ranges : 1, sizeof(*ranges));
	if (!ranges)
		return err_set(&x->err, ENOMEM, "out of memory");
	for (size_t i = 0; i < m->n_ranges; i++) {
		ranges[i].start = m->ranges[i]->start;
		ranges[i].last = m->ranges[i]->last;
	}
	return tenant_allow_iovas(T(x), m->ioas, ranges, (uint32_t)m->n_ranges,
				  &x->err);
}

int h_register_memory(struct rpc_ctx *x)
{
	const Ioasd__RegisterMemory *m = x->req->register_memory;
	Ioasd__RegisterMemoryReply *r = &x->body.register_memory;
	const struct memory_region *region;
	uint32_t h;
	int ret;

	/* On success the tenant takes fds[0] (it becomes -1 here). */
	ret = tenant_memory_register(T(x), &x->fds[0], m->offset, m->length, &h,
				     &region, &x->err);
	if (ret < 0)
		return ret;
	ioasd__register_memory_reply__init(r);
	r->memory = h;
	r->length = region->length;
	r->kind = (char *)region->kind;
	r->page_size = region->page_size;
	r->writable = region->writable;
	x->resp->result_case = IOASD__RESPONSE__RESULT_REGISTER_MEMORY;
	x->resp->register_memory = r;
	return 0;
}

int h_unregister_memory(struct rpc_ctx *x)
{
	return tenant_memory_unregister(T(x), x->req->unregister_memory->memory,
					&x->err);
}

int h_map(struct rpc_ctx *x)
{
	const Ioasd__Map *m = x->req->map;
	Ioasd__MapReply *r = &x->body.map;
	uint64_t iova = 0;
	int ret;

	if (m->flags & BACKEND_MAP_FIXED_IOVA) {
		if (!m->has_iova)
			return err_set(&x->err, EINVAL,
				       "FIXED_IOVA set but no iova given");
		iova = m->iova;
	}
	if (m->identity) {
		const struct tenant_identity id = {
			.dev = m->identity->dev, .ino = m->identity->ino,
			.file_offset = m->identity->file_offset,
		};

		ret = tenant_map_identity(T(x), m->ioas, m->memory, m->offset,
					  m->length, m->flags, iova, &id, &x->err);
	} else {
		ret = tenant_map(T(x), m->ioas, m->memory, m->offset, m->length,
				 m->flags, &iova, &x->err);
	}
	if (ret < 0)
		return ret;
	ioasd__map_reply__init(r);
	r->iova = iova;
	x->resp->result_case = IOASD__RESPONSE__RESULT_MAP;
	x->resp->map = r;
	return 0;
}

int h_unmap(struct rpc_ctx *x)
{
	const Ioasd__Unmap *m = x->req->unmap;
	Ioasd__UnmapReply *r = &x->body.unmap;
	uint64_t unmapped = 0;
	int ret;

	/* A whole IOAS (not inside a batch, whose operations are bounded):
	 * a slice now, the rest between other tenants' requests. */
	if (m->iova == 0 && m->length == UINT64_MAX && !x->batch) {
		bool done = false;

		ret = tenant_unmap_all_step(T(x), m->ioas, RPC_SLICE, &unmapped, &done,
					    &x->err);
		if (ret < 0)
			return ret;
		if (!done) {
			x->c->pending = (struct rpc_pending){
				.active = true, .id = x->req->id, .ioas = m->ioas,
				.unmapped = unmapped,
			};
			tenant_set_busy(T(x), true);
			return RPC_DEFERRED;
		}
	} else {
		ret = tenant_unmap(T(x), m->ioas, m->iova, m->length, &unmapped, &x->err);
		if (ret < 0)
			return ret;
	}
	ioasd__unmap_reply__init(r);
	r->unmapped = unmapped;
	x->resp->result_case = IOASD__RESPONSE__RESULT_UNMAP;
	x->resp->unmap = r;
	return 0;
}

int h_copy(struct rpc_ctx *x)
{
	const Ioasd__Copy *m = x->req->copy;
	Ioasd__CopyReply *r = &x->body.copy;
	uint64_t iova = 0;
	int ret;

	if (m->flags & BACKEND_MAP_FIXED_IOVA) {
		if (!m->has_dst_iova)
			return err_set(&x->err, EINVAL,
				       "FIXED_IOVA set but no dst_iova given");
		iova = m->dst_iova;
	}
	ret = tenant_copy(T(x), m->src_ioas, m->src_iova, m->length,
			  m->dst_ioas, m->flags, &iova, &x->err);
	if (ret < 0)
		return ret;
	ioasd__copy_reply__init(r);
	r->dst_iova = iova;
	x->resp->result_case = IOASD__RESPONSE__RESULT_COPY;
	x->resp->copy = r;
	return 0;
}

int h_option(struct rpc_ctx *x)
{
	const Ioasd__Option *m = x->req->option;
	Ioasd__OptionReply *r = &x->body.option;
	uint64_t val = 0;
	int ret;

	if (m->op == IOASD__OPTION_OP__OPTION_OP_SET) {
		if (!m->has_value)
			return err_set(&x->err, EINVAL, "option set without a value");
		val = m->value;
	}
	ret = tenant_option(T(x), (uint32_t)m->op, (uint32_t)m->option, m->ioas,
			    &val, &x->err);
	if (ret < 0)
		return ret;
	ioasd__option_reply__init(r);
	r->value = val;
	x->resp->result_case = IOASD__RESPONSE__RESULT_OPTION;
	x->resp->option = r;
	return 0;
}

/*
 * Daemon-wide figures (every tenant's IOASes and pinned bytes, connections,
 * tenants, the pool) tell a tenant about the others: they are for tenants
 * whose current policy section says Admin=yes and for root (uid 0 in
 * SO_PEERCRED at accept, never a claim of the client). An orphaned tenant
 * (its section removed at a reload) has no Admin= any more.
 */
static bool sees_daemon_wide(const struct rpc_session *c)
{
	const struct policy_tenant *pt = tenant_policy(c->tenant);

	if (c->cred.uid == 0)
		return true;
	return pt && pt->admin && !tenant_orphaned(c->tenant);
}

/* The daemon-wide part of a StatsReply (sees_daemon_wide() callers only). */
static void stats_daemon_wide(struct rpc_ctx *x, Ioasd__StatsReply *r)
{
	const struct rpc_env *s = x->c->env;
	struct tenant_totals tot;
	struct audit_stats as;

	tenant_get_totals(s->tenants, &tot);
	r->connections = s->connections ? s->connections(s->userdata) : 0;
	r->total_ioas = tot.ioas;
	r->total_pinned_bytes = tot.pinned_bytes;
	r->has_tenants = true;
	r->tenants = tot.tenants;
	if (s->pool) {
		struct pool_stats ps;

		pool_get_stats(s->pool, &ps);
		r->has_pool_size = r->has_pool_idle = true;
		r->pool_size = ps.size;
		r->pool_idle = ps.idle;
	}
	audit_get_stats(s->audit, &as);
	r->has_audit_suppressed = r->has_audit_dropped = r->has_audit_evicted = true;
	r->audit_suppressed = as.suppressed;
	r->audit_dropped = as.dropped;
	r->audit_evicted = as.evicted;
}

/* The caller's tenant's figures always; the daemon's only for admins. */
int h_stats(struct rpc_ctx *x)
{
	Ioasd__StatsReply *r = &x->body.stats;
	struct tenant_usage u;

	tenant_get_usage(T(x), &u);
	ioasd__stats_reply__init(r);
	r->backend = (char *)backend_name(x->c->env->backend);
	r->ioas = u.ioas;
	r->memory_regions = u.memory_regions;
	r->mappings = u.mappings;
	r->mapped_bytes = u.mapped_bytes;
	r->pinned_bytes = u.pinned_bytes;
	r->has_daemon_wide = true;
	r->daemon_wide = sees_daemon_wide(x->c);
	if (r->daemon_wide)
		stats_daemon_wide(x, r);
	x->resp->result_case = IOASD__RESPONSE__RESULT_STATS;
	x->resp->stats = r;
	return 0;
}

int h_whoami(struct rpc_ctx *x)
{
	Ioasd__WhoamiReply *r = &x->body.whoami;
	struct tenant *t = T(x);
	const struct policy_tenant *pt = tenant_policy(t);
	static char source[320];
	struct tenant_limits l;
	struct tenant_usage u;

	tenant_get_limits(t, &l);
	tenant_get_usage(t, &u);
	ioasd__whoami_reply__init(r);
	r->tenant = (char *)tenant_name(t);
	if (pt) {
		snprintf(source, sizeof(source), "%s:%u", pt->file, pt->line);
		r->policy_source = source;
	}
	r->peer = (char *)rpc_peer_desc(x->c);
	r->max_ioas = l.max_ioas;
	r->max_pinned_bytes = l.max_pinned_bytes;
	r->max_mappings = l.max_mappings;
	r->max_memory_regions = l.max_memory_regions;
	r->max_connections = pt ? pt->max_connections : 1;
	r->max_region_size = l.max_region_size;
	if (pt && pt->n_allowed_iova > 0) {
		size_t n = pt->n_allowed_iova;
		int ret = reply_ranges_alloc(x, n);

		if (ret < 0)
			return ret;
		for (size_t i = 0; i < n; i++) {
			x->ranges[i].start = pt->allowed_iova[i].start;
			x->ranges[i].last = pt->allowed_iova[i].last;
		}
		r->n_allowed_iova = n;
		r->allowed_iova = x->range_ptrs;
	}
	r->huge_pages = pt ? pt->huge_pages : true;
	r->writeable = pt ? pt->access == POLICY_ACCESS_READWRITE : true;
	r->rlimit_mode = (char *)(pt && pt->rlimit_mode == POLICY_RLIMIT_PROCESS ?
					  "process" : "user");
	r->ioas = u.ioas;
	r->memory_regions = u.memory_regions;
	r->mappings = u.mappings;
	r->mapped_bytes = u.mapped_bytes;
	r->pinned_bytes = u.pinned_bytes;
	r->connections = tenant_conns(t);
	r->orphaned = tenant_orphaned(t);
	r->has_devices = r->has_own_context = true;
	r->devices = u.devices;
	r->own_context = tenant_has_own_context(t);
	r->has_mappings_outside_policy = true;
	r->mappings_outside_policy = u.mappings_outside_policy;
	r->has_daemon_wide_stats = true;
	r->daemon_wide_stats = sees_daemon_wide(x->c);
	r->has_delegate = true;
	r->delegate = pt && pt->delegate && !tenant_orphaned(t);
	if (pt && pt->n_allow_device > 0) {
		x->allow_strs = calloc(pt->n_allow_device, sizeof(*x->allow_strs));
		if (!x->allow_strs)
			return err_set(&x->err, ENOMEM, "out of memory");
		for (size_t i = 0; i < pt->n_allow_device; i++) {
			char buf[32];

			policy_format_device(&pt->allow_device[i], buf, sizeof(buf));
			x->allow_strs[i] = strdup(buf);
			if (!x->allow_strs[i])
				return err_set(&x->err, ENOMEM, "out of memory");
			x->n_allow_strs++;
		}
		r->n_allow_device = x->n_allow_strs;
		r->allow_device = x->allow_strs;
	}
	x->resp->result_case = IOASD__RESPONSE__RESULT_WHOAMI;
	x->resp->whoami = r;
	return 0;
}

/* ------------------------------------------------------------ sharing */

int h_share_export(struct rpc_ctx *x)
{
	const Ioasd__ShareExport *m = x->req->share_export;
	Ioasd__ShareExportReply *r = &x->body.share_export;
	uint32_t h;
	int ret;

	ret = tenant_share_export(T(x), m->ioas, m->iova, m->length,
				  m->writeable, &h, x->token, &x->err);
	if (ret < 0)
		return ret;
	ioasd__share_export_reply__init(r);
	r->share = h;
	r->token = x->token;
	x->resp->result_case = IOASD__RESPONSE__RESULT_SHARE_EXPORT;
	x->resp->share_export = r;
	return 0;
}

int h_share_import(struct rpc_ctx *x)
{
	const Ioasd__ShareImport *m = x->req->share_import;
	Ioasd__ShareImportReply *r = &x->body.share_import;
	struct tenant_import_req q = {
		.token = m->token,
		.ioas = m->ioas,
		.writeable = m->writeable,
		.fixed_iova = m->has_iova,
		.iova = m->iova,
		.offset = m->has_offset ? m->offset : 0,
		.has_length = m->has_length,
		.length = m->length,
	};
	struct tenant_import_result res;
	int ret;

	ret = tenant_share_import(T(x), &q, &res, &x->err);
	if (ret < 0)
		return ret;
	ioasd__share_import_reply__init(r);
	r->import = res.import;
	r->iova = res.iova;
	r->length = res.length;
	r->exporter = (char *)res.exporter;
	x->resp->result_case = IOASD__RESPONSE__RESULT_SHARE_IMPORT;
	x->resp->share_import = r;
	return 0;
}

int h_share_revoke(struct rpc_ctx *x)
{
	return tenant_share_revoke(T(x), x->req->share_revoke->share, &x->err);
}

/* ------------------------------------------------------------ devices */

void device_info_fill(Ioasd__DeviceInfo *o, uint32_t device,
			     uint32_t ioas, const struct backend_device_info *d,
			     char pci[16], char name[32])
{
	ioasd__device_info__init(o);
	o->device = device;
	o->ioas = ioas;
	o->vendor = d->vendor;
	o->device_id = d->device;
	pci_format_address(pci, 16, d->domain, d->bus, d->slot, d->function);
	snprintf(name, 32, "%s", d->name);
	o->pci_address = pci;
	o->name = name;
}

int h_attach_device(struct rpc_ctx *x)
{
	Ioasd__DeviceInfo *r = &x->body.attach_device;
	uint32_t h;
	int ret;

	ret = tenant_device_attach(T(x), x->fds[0], x->req->attach_device->ioas,
				   &h, &x->dev_info, &x->has_dev, &x->err);
	/* The identity is audited whether or not the attach is allowed. */
	if (x->has_dev)
		backend_device_format(&x->dev_info, x->dev_desc,
				      sizeof(x->dev_desc));
	if (ret < 0)
		return ret;
	device_info_fill(r, h, x->req->attach_device->ioas, &x->dev_info,
			 x->dev_pci, x->dev_name);
	x->resp->result_case = IOASD__RESPONSE__RESULT_ATTACH_DEVICE;
	x->resp->attach_device = r;
	return 0;
}

int h_detach_device(struct rpc_ctx *x)
{
	return tenant_device_detach(T(x), x->req->detach_device->device, &x->err);
}

int h_device_list(struct rpc_ctx *x)
{
	Ioasd__DeviceListReply *r = &x->body.device_list;
	const struct tenant_device *d = NULL;
	struct tenant_device_list_info di;
	size_t n = 0, i = 0;

	while ((d = tenant_device_next(T(x), d, &di)))
		n++;
	x->devs = calloc(n + 1, sizeof(*x->devs));
	x->dev_ptrs = calloc(n + 1, sizeof(*x->dev_ptrs));
	x->dev_strs = calloc(n + 1, sizeof(*x->dev_strs));
	if (!x->devs || !x->dev_ptrs || !x->dev_strs)
		return err_set(&x->err, ENOMEM, "out of memory");
	for (d = NULL; (d = tenant_device_next(T(x), d, &di)); i++) {
		device_info_fill(&x->devs[i], di.device, di.ioas, &di.info,
				 x->dev_strs[i][0], x->dev_strs[i][1]);
		x->dev_ptrs[i] = &x->devs[i];
	}
	ioasd__device_list_reply__init(r);
	r->n_devices = n;
	r->devices = x->dev_ptrs;
	x->resp->result_case = IOASD__RESPONSE__RESULT_DEVICE_LIST;
	x->resp->device_list = r;
	return 0;
}

struct list_mem {
	Ioasd__ShareInfo *shares;
	Ioasd__ShareInfo **share_ptrs;
	Ioasd__ShareImporterInfo *importers;
	Ioasd__ShareImporterInfo **importer_ptrs;
	Ioasd__ImportInfo *imports;
	Ioasd__ImportInfo **import_ptrs;
};

/* Most entries one ShareList reply carries: shares, importers, imports. */
#define RPC_MAX_LIST 512u

int h_share_list(struct rpc_ctx *x)
{
	Ioasd__ShareListReply *r = &x->body.share_list;
	const struct tenant_share *s = NULL;
	const struct tenant_import *imp = NULL;
	struct tenant_share_info si;
	struct tenant_import_info ii;
	size_t nshares = 0, nentries = 0, nimports = 0, k = 0, n;
	struct list_mem *mem;

	while ((s = tenant_share_next(T(x), s, &si))) {
		nshares++;
		for (imp = NULL; (imp = tenant_share_importer_next(s, imp, &ii));)
			nentries++;
	}
	for (imp = NULL; (imp = tenant_import_next(T(x), imp, &ii));)
		nimports++;
	if (nshares + nentries + nimports > RPC_MAX_LIST)
		return err_set(&x->err, E2BIG,
			       "%zu shares, importers and imports: more than the %u one reply carries",
			       nshares + nentries + nimports, RPC_MAX_LIST);
	mem = calloc(1, sizeof(*mem));
	if (!mem)
		return err_set(&x->err, ENOMEM, "out of memory");
	x->list_mem = mem;
	mem->shares = calloc(nshares + 1, sizeof(*mem->shares));
	mem->share_ptrs = calloc(nshares + 1, sizeof(*mem->share_ptrs));
	mem->importers = calloc(nentries + 1, sizeof(*mem->importers));
	mem->importer_ptrs = calloc(nentries + 1, sizeof(*mem->importer_ptrs));
	mem->imports = calloc(nimports + 1, sizeof(*mem->imports));
	mem->import_ptrs = calloc(nimports + 1, sizeof(*mem->import_ptrs));
	if (!mem->shares || !mem->share_ptrs || !mem->importers ||
	    !mem->importer_ptrs || !mem->imports || !mem->import_ptrs)
		return err_set(&x->err, ENOMEM, "out of memory");
	ioasd__share_list_reply__init(r);
	n = 0;
	for (s = NULL; (s = tenant_share_next(T(x), s, &si)); n++) {
		Ioasd__ShareInfo *o = &mem->shares[n];

		ioasd__share_info__init(o);
		o->share = si.share;
		o->ioas = si.ioas;
		o->iova = si.iova;
		o->length = si.length;
		o->writeable = si.writeable;
		o->token = (char *)si.token;
		o->importers = &mem->importer_ptrs[k];
		for (imp = NULL; (imp = tenant_share_importer_next(s, imp, &ii)); k++) {
			Ioasd__ShareImporterInfo *p = &mem->importers[k];

			ioasd__share_importer_info__init(p);
			p->tenant = (char *)ii.tenant;
			p->import = ii.import;
			p->offset = ii.offset;
			p->length = ii.length;
			p->writeable = ii.writeable;
			mem->importer_ptrs[k] = p;
			o->n_importers++;
		}
		mem->share_ptrs[n] = o;
	}
	r->n_shares = nshares;
	r->shares = mem->share_ptrs;
	n = 0;
	for (imp = NULL; (imp = tenant_import_next(T(x), imp, &ii)); n++) {
		Ioasd__ImportInfo *p = &mem->imports[n];

		ioasd__import_info__init(p);
		p->import = ii.import;
		p->exporter = (char *)ii.tenant;
		p->share = ii.share;
		p->ioas = ii.ioas;
		p->iova = ii.iova;
		p->offset = ii.offset;
		p->length = ii.length;
		p->writeable = ii.writeable;
		mem->import_ptrs[n] = p;
	}
	r->n_imports = nimports;
	r->imports = mem->import_ptrs;
	x->resp->result_case = IOASD__RESPONSE__RESULT_SHARE_LIST;
	x->resp->share_list = r;
	return 0;
}

void free_list_mem(struct list_mem *mem)
{
	if (!mem)
		return;
	free(mem->shares);
	free(mem->share_ptrs);
	free(mem->importers);
	free(mem->importer_ptrs);
	free(mem->imports);
	free(mem->import_ptrs);
	free(mem);
}
