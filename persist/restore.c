/* SPDX-License-Identifier: MIT */
/* Rebuilding the tenants from a restart state (see restore.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "iommu/backend-kernel.h"
#include "common/log.h"
#include "policy/policy.h"
#include "tenant/pool.h"
#include "persist/sweep.h"
#include "persist/restore.h"
#include "persist/state-check.h"
#include "tenant/tenant.h"

/* "ioasd-mem-N", "ioasd-ctx-N", "ioasd-dev-N": one id space, a name per
 * kind (tenant_set_fd_store). */
void restore_fd_name(const char *kind, uint64_t id, char *buf, size_t size)
{
	snprintf(buf, size, FDSTORE_PREFIX "%s-%" PRIu64, kind, id);
}

void restore_audit(struct audit *a, const char *op, const char *tenant,
		   bool allowed, int errnum, const char *why)
{
	struct audit_record r = {
		.kind = AUDIT_RESTART,
		.op = op,
		.allowed = allowed,
		.errnum = errnum,
		.tenant = tenant,
		.reason = why,
	};

	(void)audit_emit(a, &r);
}

static int take_named_fd(struct restore *r, const char *name)
{
	for (size_t i = 0; i < r->nfds; i++)
		if (r->fds[i].fd >= 0 && !strcmp(r->fds[i].name, name))
			return TAKE_FD(r->fds[i].fd);
	return -1;
}

/* An fd that cannot be used leaves the store. */
static void forget(struct restore *r, const char *name)
{
	if (r->store)
		fdstore_remove(r->store, name);
}

static void limits_for(struct restore *r, const struct policy_tenant *pt,
		       struct tenant_limits *ret)
{
	*ret = r->limits;
	if (pt) {
		ret->max_ioas = pt->max_ioas;
		ret->max_memory_regions = pt->max_memory_regions;
		ret->max_mappings = pt->max_mappings;
		ret->max_pinned_bytes = pt->max_pinned_bytes;
	}
}

#define RLOG(tn, fmt, ...) log_err("restore of tenant %s: " fmt, (tn), ##__VA_ARGS__)

/*
 * A device tenant: adopt its own context from the store (kernel), or let the
 * replay open a fresh one with its first IOAS (sim). -ENOENT when the
 * kernel context is not in the store.
 */
static int restore_context(struct restore *r, struct tenant *t,
			   const IoasdState__Tenant *x, bool replay)
{
	char name[FDSTORE_NAME_MAX];
	struct backend *ctx = NULL;
	int fd, ret;

	if (replay) {
		tenant_restore_context(t, NULL, 0);
		return 0;
	}
	if (!x->has_context_store_id) {
		tenant_restore_context(t, NULL, 0); /* no IOAS had opened it yet */
		return 0;
	}
	restore_fd_name("ctx", x->context_store_id, name, sizeof(name));
	fd = take_named_fd(r, name);
	if (fd < 0) {
		RLOG(x->name, "its own iommufd context (%s) was not in the store: "
		     "its IOASes and mappings are gone; not restored", name);
		return -ENOENT;
	}
	ret = backend_kernel_adopt_like(r->backend, &fd, &ctx);
	if (ret < 0) {
		RLOG(x->name, "its own iommufd context cannot be used: %s", strerror(-ret));
		safe_close(fd);
		forget(r, name);
		return ret;
	}
	tenant_restore_context(t, ctx, x->context_store_id);
	return 0;
}

static void restore_device(struct restore *r, struct tenant *t,
			   const IoasdState__Device *y, bool replay)
{
	struct tenant_device_info di = {
		.handle = y->handle, .ioas = y->ioas, .store_id = y->store_id,
		.info = {
			.vendor = (uint16_t)y->vendor, .device = (uint16_t)y->device,
			.domain = (uint16_t)y->domain, .bus = (uint8_t)y->bus,
			.slot = (uint8_t)y->slot, .function = (uint8_t)y->function,
		},
		.hwpt = y->has_hwpt ? y->hwpt : 0,
		.dev_id = y->has_dev_id ? y->dev_id : 0,
	};
	char name[FDSTORE_NAME_MAX];
	struct err e = { 0 };
	int fd;

	snprintf(di.info.name, sizeof(di.info.name), "%s", y->name);
	restore_fd_name("dev", y->store_id, name, sizeof(name));
	fd = take_named_fd(r, name);
	if (fd < 0) {
		RLOG(tenant_name(t), "device %" PRIu32 ": its fd was not in the store", y->handle);
		return;
	}
	if (tenant_restore_device(t, &di, &fd, replay, &e) < 0) {
		RLOG(tenant_name(t), "device %" PRIu32 ": %s", y->handle, e.msg);
		safe_close(fd);
		forget(r, name);
	}
}

/* A device tenant's HWPTs, after its devices: by handle, so that every
 * parent comes before its children (a parent is always older). */
static int hwpt_handle_cmp(const void *a, const void *b)
{
	const IoasdState__Hwpt *x = *(const IoasdState__Hwpt *const *)a;
	const IoasdState__Hwpt *y = *(const IoasdState__Hwpt *const *)b;

	return x->handle < y->handle ? -1 : x->handle > y->handle;
}

static int vobj_handle_cmp(const void *a, const void *b)
{
	const IoasdState__Vobj *x = *(const IoasdState__Vobj *const *)a;
	const IoasdState__Vobj *y = *(const IoasdState__Vobj *const *)b;

	return x->handle < y->handle ? -1 : x->handle > y->handle;
}

/* vIOMMUs, vDEVICEs, vEVENTQs: by handle, a vIOMMU before what is in it. */
static void restore_vobjs(struct tenant *t, IoasdState__Tenant *x, bool replay)
{
	struct err e = { 0 };

	if (x->n_vobjs > 1)
		qsort(x->vobjs, x->n_vobjs, sizeof(*x->vobjs), vobj_handle_cmp);
	for (size_t j = 0; j < x->n_vobjs; j++) {
		const IoasdState__Vobj *y = x->vobjs[j];
		struct tenant_vobj_info vi = {
			.handle = y->handle, .id = y->id, .kind = y->kind,
			.type = y->has_type ? y->type : 0,
			.device = y->has_device ? y->device : 0,
			.parent = y->has_parent ? y->parent : 0,
			.viommu = y->has_viommu ? y->viommu : 0,
			.virt_id = y->has_virt_id ? y->virt_id : 0,
		};

		if (tenant_restore_vobj(t, &vi, replay, &e) < 0)
			RLOG(tenant_name(t), "vIOMMU object %" PRIu32 ": %s", y->handle, e.msg);
	}
}

/* The HWPTs not made from a vIOMMU (from_viommu false: the fault queues
 * before them) or those that are (then the PASIDs). Each record is
 * restored in one of the two passes only. */
static void restore_hwpts(struct tenant *t, IoasdState__Tenant *x, bool replay,
			  bool from_viommu)
{
	struct err e = { 0 };

	/* Fault queues first: an HWPT names its queue (issue 16). */
	for (size_t j = 0; !from_viommu && j < x->n_faults; j++) {
		struct tenant_fault_info fi = { .handle = x->faults[j]->handle,
						.id = x->faults[j]->id };

		if (tenant_restore_fault(t, &fi, replay, &e) < 0)
			RLOG(tenant_name(t), "fault queue %" PRIu32 ": %s", fi.handle, e.msg);
	}
	if (x->n_hwpts > 1)
		qsort(x->hwpts, x->n_hwpts, sizeof(*x->hwpts), hwpt_handle_cmp);
	for (size_t j = 0; j < x->n_hwpts; j++) {
		const IoasdState__Hwpt *y = x->hwpts[j];
		struct tenant_hwpt_info hi;

		if ((y->has_viommu && y->viommu) != from_viommu)
			continue;
		hi = (struct tenant_hwpt_info){
			.handle = y->handle, .id = y->id, .ioas = y->ioas,
			.parent = y->has_parent ? y->parent : 0, .device = y->device,
			.flags = y->flags, .data_type = y->data_type,
			.data = y->has_data ? y->data.data : NULL,
			.data_len = y->has_data ? (uint32_t)y->data.len : 0,
			.fault = y->has_fault ? y->fault : 0,
			.viommu = y->has_viommu ? y->viommu : 0,
		};

		if (tenant_restore_hwpt(t, &hi, replay, &e) < 0)
			RLOG(tenant_name(t), "HWPT %" PRIu32 ": %s", y->handle, e.msg);
	}
	/* PASIDs last: they name an HWPT, maybe one in a vIOMMU (issue 16). */
	for (size_t j = 0; from_viommu && j < x->n_pasids; j++) {
		const IoasdState__Pasid *y = x->pasids[j];
		struct tenant_pasid_info pi = {
			.handle = y->handle, .device = y->device, .pasid = y->pasid,
			.hwpt = y->has_hwpt ? y->hwpt : 0, .ioas = y->has_ioas ? y->ioas : 0,
		};

		if (tenant_restore_pasid(t, &pi, replay, &e) < 0)
			RLOG(tenant_name(t), "device %" PRIu32 " PASID %" PRIu32 ": %s",
			     y->device, y->pasid, e.msg);
	}
}

/* Say why a state is not restored: a record per tenant it names (or one
 * without a tenant when it names none that can be told). */
static void audit_refusal(struct restore *r, const IoasdState__State *m, int errnum,
			  const char *why)
{
	size_t told = 0;

	for (size_t i = 0; m && i < m->n_tenants; i++)
		if (state_check_name(m->tenants[i]->name)) {
			restore_audit(r->audit, "restore", m->tenants[i]->name, false,
				      errnum, why);
			told++;
		}
	if (!told)
		restore_audit(r->audit, "restore", NULL, false, errnum, why);
}

/*
 * A tenant rebuilt from the state did not pass tenant_check(): none of the
 * state is kept. Every rebuilt tenant is released as at a release (unmapped
 * first, IOASes destroyed or pooled, fds closed and removed from the store:
 * the kernel frees their pins).
 */
static int refuse_rebuilt(struct restore *r, const IoasdState__State *m,
			  struct tenant **ts, const char *what,
			  struct err *ret_e)
{
	char why[512];

	snprintf(why, sizeof(why), "the tables rebuilt from the state do not hold "
		 "together: %s; not restored, everything of the previous "
		 "run released", what);
	log_err("restore: %s", why);
	audit_refusal(r, m, EBADMSG, why);
	for (size_t i = 0; i < m->n_tenants; i++)
		ts[i] = tenant_free(ts[i]);
	return err_set(ret_e, EBADMSG, "%s", why);
}

/* Mappings not restored are logged one by one up to this many per
 * tenant, then counted (a lost memory fd drops all its mappings). */
#define RESTORE_LOG_DROPS 8u

struct mapping_ctx {
	struct restore *r;
	const IoasdState__State *m;
	struct tenant **ts;
	size_t *drops;       /* per tenant */
	bool replay;
};

static int restore_one_mapping(void *fnud, size_t i, const struct tenant_mapping_info *mi,
			       struct err *ret_e)
{
	struct mapping_ctx *x = fnud;
	struct err e = { 0 };
	int r;

	if (i >= x->m->n_tenants || !x->ts[i])
		return 1;
	r = tenant_restore_mapping(x->ts[i], mi, x->replay, &e);
	if (r == -EEXIST)
		return err_set(ret_e, EBADMSG, "tenant %s: %s", x->m->tenants[i]->name, e.msg);
	if (r < 0) {
		if (x->drops[i]++ < RESTORE_LOG_DROPS)
			RLOG(x->m->tenants[i]->name, "mapping at 0x%" PRIx64 ": %s", mi->iova,
			     e.msg);
		return 1;
	}
	return 0;
}

/* The mappings a state file holds. */
static int walk_inline(void *userdata, restore_mapping_fn fn, void *fnud, struct err *e)
{
	const IoasdState__State *m = userdata;

	for (size_t i = 0; i < m->n_tenants; i++)
		for (size_t j = 0; j < m->tenants[i]->n_mappings; j++) {
			IoasdState__Mapping *y = m->tenants[i]->mappings[j];
			struct tenant_mapping_info mi = {
				.ioas = y->ioas, .iova = y->iova, .length = y->length,
				.mem_owner = y->mem_owner, .memory = y->memory,
				.mem_offset = y->mem_offset, .flags = y->flags,
				.import = y->has_import ? y->import : 0,
			};
			int r = fn(fnud, i, &mi, e);

			if (r < 0)
				return r;
		}
	return 0;
}

int restore_tenants(struct restore *r, const IoasdState__State *m, bool replay,
		    struct err *ret_e)
{
	const struct restore_mappings src = { .walk = walk_inline, .userdata = (void *)m };

	return restore_tenants_from(r, m, &src, replay, ret_e);
}

int restore_tenants_from(struct restore *r, const IoasdState__State *m,
			 const struct restore_mappings *src, bool replay,
			 struct err *ret_e)
{
	_cleanup_free_ struct tenant **ts = calloc(m->n_tenants ? m->n_tenants : 1,
						   sizeof(*ts));
	_cleanup_free_ struct {
		uint32_t dropped;
		uint64_t unknown;
	} *rc = calloc(m->n_tenants ? m->n_tenants : 1, sizeof(*rc));
	struct err e = { 0 };
	size_t n = 0;

	if (!ts || !rc)
		return err_set(ret_e, ENOMEM, "out of memory restoring the tenants");
	for (size_t i = 0; i < m->n_tenants; i++) {
		IoasdState__Tenant *x = m->tenants[i];
		const struct policy_tenant *pt = NULL;
		struct tenant_limits limits;
		struct tenant_handles h = {
			.ioas = x->next_ioas, .memory = x->next_memory,
			.share = x->next_share, .import = x->next_import,
			.device = x->has_next_device ? x->next_device : 0,
			.hwpt = x->has_next_hwpt ? x->next_hwpt : 0,
			.fault = x->has_next_fault ? x->next_fault : 0,
			.pasid = x->has_next_pasid ? x->next_pasid : 0,
			.vobj = x->has_next_vobj ? x->next_vobj : 0,
		};

		if (tenant_find(r->tenants, x->name)) {
			RLOG(x->name, "listed twice; the second is dropped");
			continue;
		}
		if (x->by_policy && r->policy)
			pt = policy_find_tenant(r->policy, x->name);
		limits_for(r, pt, &limits);
		ts[i] = tenant_new(r->tenants, r->backend, r->pool, x->name, &limits, pt);
		if (!ts[i]) {
			RLOG(x->name, "out of memory");
			continue;
		}
		if (x->by_policy && !pt) {
			log_warn("restored tenant %s is not in the policy any more: it may only release",
				 x->name);
			tenant_set_policy(ts[i], NULL, NULL);
		}
		if (tenant_set_reclaim_token(ts[i], x->reclaim_token) < 0)
			RLOG(x->name, "bad reclaim token; it gets a new one (unclaimable)");
		if (r->made)
			r->made(r->made_data, i, ts[i]);
		tenant_set_next_handles(ts[i], &h);
		tenant_set_unclaimed(ts[i], true);
		if (x->has_own_context && x->own_context &&
		    restore_context(r, ts[i], x, replay) < 0) {
			/* Its objects lived in a context that is gone. */
			ts[i] = tenant_free(ts[i]);
			continue;
		}
		for (size_t j = 0; j < x->n_ioases; j++) {
			const IoasdState__Ioas *y = x->ioases[j];
			_cleanup_free_ struct policy_range *own =
				y->n_own_allowed ? calloc(y->n_own_allowed, sizeof(*own)) : NULL;
			struct tenant_ioas_info ii = {
				.handle = y->handle, .id = y->id,
				.mock_stdev = y->has_mock_stdev ? y->mock_stdev : 0,
				.mock_idev = y->has_mock_idev ? y->mock_idev : 0,
				.mock_on = y->has_mock_on ? y->mock_on : 0,
				.gen = y->has_gen ? y->gen : 0,
				.own_allowed = own, .n_own_allowed = own ? (uint32_t)y->n_own_allowed : 0,
			};

			for (size_t k = 0; own && k < y->n_own_allowed; k++)
				own[k] = (struct policy_range){ .start = y->own_allowed[k]->start,
								.last = y->own_allowed[k]->last };
			if (tenant_restore_ioas(ts[i], &ii, replay, &e) < 0)
				RLOG(x->name, "IOAS %" PRIu32 ": %s", ii.handle, e.msg);
		}
		for (size_t j = 0; j < x->n_memories; j++) {
			IoasdState__Memory *y = x->memories[j];
			char name[FDSTORE_NAME_MAX];
			int fd;

			restore_fd_name("mem", y->store_id, name, sizeof(name));
			fd = take_named_fd(r, name);

			if (fd < 0) {
				RLOG(x->name, "memory %" PRIu32 ": its fd was not in the store", y->handle);
				continue;
			}
			if (tenant_restore_memory(ts[i], y->handle, &fd, y->offset, y->length,
						  y->store_id, &e) < 0) {
				RLOG(x->name, "memory %" PRIu32 ": %s", y->handle, e.msg);
				safe_close(fd);
				forget(r, name);
			}
		}
	}
	for (size_t i = 0; i < m->n_tenants; i++)
		for (size_t j = 0; ts[i] && j < m->tenants[i]->n_shares; j++) {
			IoasdState__Share *y = m->tenants[i]->shares[j];
			struct tenant_share_info si = {
				.share = y->handle, .ioas = y->ioas, .iova = y->iova,
				.length = y->length, .writeable = y->writeable, .token = y->token,
			};

			if (tenant_restore_share(ts[i], &si, &e) < 0)
				RLOG(m->tenants[i]->name, "share %" PRIu32 ": %s", y->handle, e.msg);
		}
	for (size_t i = 0; i < m->n_tenants; i++)
		for (size_t j = 0; ts[i] && j < m->tenants[i]->n_imports; j++) {
			IoasdState__Import *y = m->tenants[i]->imports[j];
			struct tenant_import_info ii = {
				.import = y->handle, .tenant = y->exporter, .share = y->share,
				.ioas = y->ioas, .iova = y->iova, .offset = y->offset,
				.length = y->length,
				.writeable = y->flags & BACKEND_MAP_WRITEABLE,
			};

			if (tenant_restore_import(ts[i], &ii, &e) < 0)
				RLOG(m->tenants[i]->name, "import %" PRIu32 ": %s", y->handle, e.msg);
		}
	{
		_cleanup_free_ size_t *drops = calloc(m->n_tenants ? m->n_tenants : 1,
						      sizeof(*drops));
		struct mapping_ctx mx = { .r = r, .m = m, .ts = ts, .drops = drops,
					  .replay = replay };

		if (!drops)
			return refuse_rebuilt(r, m, ts, "out of memory", ret_e);
		if (src->walk(src->userdata, restore_one_mapping, &mx, &e) < 0)
			return refuse_rebuilt(r, m, ts, e.msg, ret_e);
		for (size_t i = 0; i < m->n_tenants; i++)
			if (drops[i] > RESTORE_LOG_DROPS)
				RLOG(m->tenants[i]->name, "%zu more mappings not restored",
				     drops[i] - RESTORE_LOG_DROPS);
	}
	for (size_t i = 0; i < m->n_tenants; i++)
		for (size_t j = 0; ts[i] && j < m->tenants[i]->n_devices; j++)
			restore_device(r, ts[i], m->tenants[i]->devices[j], replay);
	for (size_t i = 0; i < m->n_tenants; i++)
		if (ts[i]) {
			restore_hwpts(ts[i], m->tenants[i], replay, false);
			restore_vobjs(ts[i], m->tenants[i], replay);
			restore_hwpts(ts[i], m->tenants[i], replay, true);
		}
	for (size_t i = 0; i < m->n_tenants; i++) {
		if (!ts[i])
			continue;
		if (tenant_restore_reconcile(ts[i], !replay, &rc[i].dropped, &rc[i].unknown,
					     &e) < 0)
			RLOG(m->tenants[i]->name, "checking against the kernel: %s", e.msg);
		if (rc[i].dropped || rc[i].unknown)
			log_warn("tenant %s: %" PRIu32 " object(s) that did not come back whole "
				 "were dropped, 0x%" PRIx64 " bytes the kernel had but the state "
				 "did not were unmapped (a change in flight when the daemon died)",
				 m->tenants[i]->name, rc[i].dropped, rc[i].unknown);
	}
	/* The walker the tests use, on every rebuilt tenant. */
	for (size_t i = 0; i < m->n_tenants; i++)
		if (ts[i] && tenant_check(ts[i], &e) < 0) {
			char what[400];

			snprintf(what, sizeof(what), "tenant %s: %s", m->tenants[i]->name, e.msg);
			return refuse_rebuilt(r, m, ts, what, ret_e);
		}
	for (size_t i = 0; i < m->n_tenants; i++) {
		struct tenant_usage u;
		char why[300];

		if (!ts[i])
			continue;
		n++;
		tenant_get_usage(ts[i], &u);
		snprintf(why, sizeof(why),
			 "%" PRIu32 " IOAS, %" PRIu32 " mappings, %" PRIu32 " memory regions, "
			 "0x%" PRIx64 " pinned bytes restored (%s); %" PRIu32 " dropped, "
			 "0x%" PRIx64 " unknown bytes unmapped; awaiting reclaim for %u s",
			 u.ioas, u.mappings, u.memory_regions, u.pinned_bytes,
			 replay ? "replayed into a fresh sim" : "kernel state kept",
			 rc[i].dropped, rc[i].unknown, r->grace_sec);
		restore_audit(r->audit, "restore", m->tenants[i]->name, true, 0, why);
		log_info("tenant %s: %s", m->tenants[i]->name, why);
	}
	return (int)n;
}

struct ids {
	uint32_t *id;
	size_t n;
};

static int collect_id(void *ud, const struct tenant_ioas_info *i)
{
	struct ids *v = ud;

	v->id[v->n++] = i->id;
	return 0;
}

static int skip_memory(void *ud, const struct tenant_memory_info *i)
{
	(void)ud;
	(void)i;
	return 0;
}

static int skip_mapping(void *ud, const struct tenant_mapping_info *i)
{
	(void)ud;
	(void)i;
	return 0;
}

static int skip_device(void *ud, const struct tenant_device_info *i)
{
	(void)ud;
	(void)i;
	return 0;
}

/* Ids the sweep of context ctx must keep: the IOASes the live tables have
 * there (after the reconcile: ids the kernel confirmed, so the sweep's
 * probing is bounded by real ids, not by what the file said), and the new
 * pool's (shared context only). */
static int known_ioases(struct restore *r, struct backend *ctx, struct ids *ret)
{
	static const struct tenant_dump_ops ops = {
		.ioas = collect_id, .memory = skip_memory, .mapping = skip_mapping,
		.device = skip_device,
	};
	const uint32_t *pool_ids = NULL;
	uint32_t npool = ctx == r->backend && r->pool ?
				 pool_idle_ids(r->pool, &pool_ids) : 0;
	struct tenant_totals tot;
	struct ids v = { 0 };

	tenant_get_totals(r->tenants, &tot);
	v.id = calloc((size_t)tot.ioas + npool + 1, sizeof(*v.id));
	if (!v.id)
		return -ENOMEM;
	for (struct tenant *t = tenant_next(r->tenants, NULL); t; t = tenant_next(r->tenants, t))
		if (tenant_backend(t) == ctx)
			(void)tenant_dump(t, &ops, &v);
	for (uint32_t i = 0; i < npool; i++)
		v.id[v.n++] = pool_ids[i];
	*ret = v;
	return 0;
}

static void sweep(struct restore *r, struct backend *ctx, const char *where)
{
	struct ids known;
	uint32_t swept;

	if (known_ioases(r, ctx, &known) < 0) {
		log_err("restore: out of memory checking for stray IOASes");
		return;
	}
	swept = backend_sweep_ioases(ctx, known.id, known.n, 64);
	free(known.id);
	if (swept)
		log_info("restore: %" PRIu32 " IOAS(es) in %s no table named "
			 "(allocated as the daemon died, or idle in its pool) emptied "
			 "and destroyed", swept, where);
}

/*
 * An IOAS allocated in the instant of the kill (or a pool refill the state
 * never named; the old pool's idle ones too) is in the adopted contexts and
 * in no table: destroy it, in the shared context and in every device
 * tenant's own; in a device tenant's own context, then, any other object
 * no table names (an HWPT or vIOMMU object allocated in that instant:
 * persist/sweep.c).
 */
void restore_sweep(struct restore *r)
{
	sweep(r, r->backend, "the shared context");
	for (struct tenant *t = tenant_next(r->tenants, NULL); t; t = tenant_next(r->tenants, t))
		if (tenant_has_own_context(t) && tenant_backend(t) != r->backend) {
			sweep(r, tenant_backend(t), tenant_name(t));
			sweep_tenant_objects(t);
		}
}

/*
 * The device tenants' own contexts a refused state leaves in the store may
 * live on without the daemon (a client's copy of a device file bound to one
 * keeps it): empty each before its stored copy goes, so that no device
 * reaches what its IOASes mapped. Their ids are probed up to a bound: the
 * highest the state names (at most 4096), and 64 more.
 */
static void empty_stored_contexts(struct restore *r, const IoasdState__State *m)
{
	uint32_t top = 0;

	if (backend_kernel_fd(r->backend) < 0)
		return;
	for (size_t i = 0; m && i < m->n_tenants; i++)
		for (size_t j = 0; j < m->tenants[i]->n_ioases; j++)
			if (m->tenants[i]->ioases[j]->id > top)
				top = m->tenants[i]->ioases[j]->id;
	if (top > 4096)
		top = 4096;
	for (size_t i = 0; i < r->nfds; i++) {
		struct backend *ctx = NULL;
		uint32_t swept;

		if (r->fds[i].fd < 0 ||
		    strncmp(r->fds[i].name, FDSTORE_PREFIX "ctx-", strlen(FDSTORE_PREFIX "ctx-")))
			continue;
		if (backend_kernel_adopt_like(r->backend, &r->fds[i].fd, &ctx) < 0)
			continue; /* not a context: closed with the rest */
		swept = backend_sweep_ioases(ctx, NULL, 0, top + 64);
		backend_close(ctx);
		forget(r, r->fds[i].name);
		log_info("restore: %s: %" PRIu32 " IOAS(es) emptied and destroyed",
			 r->fds[i].name, swept);
	}
}

void restore_refuse(struct restore *r, const IoasdState__State *m, const char *what)
{
	char why[512];

	snprintf(why, sizeof(why), "the state file does not hold together: %s; not "
		 "restored, everything of the previous run released", what);
	log_err("restore: %s", why);
	audit_refusal(r, m, EBADMSG, why);
	empty_stored_contexts(r, m);
}

/*
 * The previous run stopped for a restart and systemd then released its fd
 * store (`systemctl stop`): the kernel let go of everything as the last
 * copies closed. Say so for each tenant the state named: the audit trail
 * gets the release the daemon could not record itself.
 */
void restore_store_released(struct restore *r, const IoasdState__State *m)
{
	log_info("the previous run's %zu tenant(s) were released with systemd's fd store "
		 "(a stop, not a restart): starting clean", m->n_tenants);
	for (size_t i = 0; i < m->n_tenants; i++)
		restore_audit(r->audit, "store-released", m->tenants[i]->name, true, 0,
			      "released while the daemon was stopped: the service manager "
			      "dropped its fd store, so the kernel freed its IOASes, mappings, "
			      "pins and devices");
}

