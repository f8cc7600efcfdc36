/* SPDX-License-Identifier: MIT */
/*
 * The policy object once loaded: references, lookups, matching a peer to a
 * tenant, the decisions that only need the policy, and equality.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "common/pci.h"
#include "policy-internal.h"

static const char *const key_names[_POLICY_KEY_MAX] = {
	[POLICY_KEY_MATCH_USER] = "MatchUser",
	[POLICY_KEY_MATCH_GROUP] = "MatchGroup",
	[POLICY_KEY_MATCH_UNIT] = "MatchUnit",
	[POLICY_KEY_MATCH_CGROUP] = "MatchCgroup",
	[POLICY_KEY_MAX_IOAS] = "MaxIOAS",
	[POLICY_KEY_MAX_PINNED_BYTES] = "MaxPinnedBytes",
	[POLICY_KEY_MAX_MAPPINGS] = "MaxMappings",
	[POLICY_KEY_MAX_MEMORY_REGIONS] = "MaxMemoryRegions",
	[POLICY_KEY_MAX_CONNECTIONS] = "MaxConnections",
	[POLICY_KEY_ALLOWED_IOVA] = "AllowedIOVA",
	[POLICY_KEY_HUGE_PAGES] = "HugePages",
	[POLICY_KEY_ACCESS] = "Access",
	[POLICY_KEY_RLIMIT_MODE] = "RlimitMode",
	[POLICY_KEY_EXPORT_TO] = "ExportTo",
	[POLICY_KEY_IMPORT_FROM] = "ImportFrom",
	[POLICY_KEY_SHARE_WRITE] = "ShareWrite",
	[POLICY_KEY_ALLOW_DEVICE] = "AllowDevice",
	[POLICY_KEY_DELEGATE] = "Delegate",
	[POLICY_KEY_LEASE] = "Lease",
	[POLICY_KEY_ADMIN] = "Admin",
	[POLICY_KEY_ALLOW_NESTING] = "AllowNesting",
	[POLICY_KEY_ALLOW_DIRTY_TRACKING] = "AllowDirtyTracking",
	[POLICY_KEY_ALLOWED_HWPT_DATA] = "AllowedHwptData",
	[POLICY_KEY_MAX_HWPTS] = "MaxHwpts",
	[POLICY_KEY_ALLOW_VIOMMU] = "AllowViommu",
	[POLICY_KEY_ALLOWED_PASID] = "AllowedPASID",
	[POLICY_KEY_MAX_FAULT_QUEUES] = "MaxFaultQueues",
};

const char *policy_key_name(enum policy_key k)
{
	return (unsigned)k < _POLICY_KEY_MAX ? key_names[k] : NULL;
}

const char *policy_access_name(enum policy_access a)
{
	return a == POLICY_ACCESS_READ ? "read" : "readwrite";
}

const char *policy_rlimit_mode_name(enum policy_rlimit_mode m)
{
	return m == POLICY_RLIMIT_PROCESS ? "process" : "user";
}

const char *policy_audit_failure_name(enum policy_audit_failure m)
{
	return m == POLICY_AUDIT_FAILURE_REFUSE ? "refuse" : "continue";
}

void policy_format_device(const struct policy_device *d, char *buf, size_t size)
{
	if (d->kind == POLICY_DEVICE_ID)
		pci_format_id(buf, size, d->vendor, d->device);
	else
		pci_format_address(buf, size, d->domain, d->bus, d->slot, d->function);
}

int policy_device_compare(const struct policy_device *a, const struct policy_device *b)
{
	uint64_t ka, kb;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->kind == POLICY_DEVICE_ID) {
		ka = (uint64_t)a->vendor << 16 | a->device;
		kb = (uint64_t)b->vendor << 16 | b->device;
	} else {
		ka = (uint64_t)a->domain << 24 | (uint64_t)a->bus << 16 |
		     (uint64_t)a->slot << 8 | a->function;
		kb = (uint64_t)b->domain << 24 | (uint64_t)b->bus << 16 |
		     (uint64_t)b->slot << 8 | b->function;
	}
	return ka < kb ? -1 : ka > kb ? 1 : 0;
}

struct policy *policy_new_empty(void)
{
	struct policy *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->refcount = 1;
	p->daemon.rlimit_mode = POLICY_RLIMIT_USER;
	p->daemon.audit_failure = POLICY_AUDIT_FAILURE_CONTINUE;
	return p;
}

static void free_names(const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free((char *)names[i]);
	free((void *)names);
}

static void tenant_destroy(struct policy_tenant *t)
{
	free((char *)t->name);
	free((char *)t->match_user);
	free((char *)t->match_group);
	free((char *)t->match_unit);
	free((char *)t->match_cgroup);
	free((void *)t->allowed_iova);
	free_names(t->export_to, t->n_export_to);
	free_names(t->import_from, t->n_import_from);
	free((void *)t->allow_device);
}

static void policy_free(struct policy *p)
{
	for (size_t i = 0; i < p->n_tenants; i++)
		tenant_destroy(&p->tenants[i]);
	free(p->tenants);
	free((char *)p->daemon.audit_log);
	for (size_t i = 0; i < p->n_files; i++)
		free(p->files[i]);
	free(p->files);
	free(p);
}

struct policy *policy_ref(struct policy *p)
{
	if (p)
		__atomic_add_fetch(&p->refcount, 1, __ATOMIC_RELAXED);
	return p;
}

struct policy *policy_unref(struct policy *p)
{
	if (p && __atomic_sub_fetch(&p->refcount, 1, __ATOMIC_ACQ_REL) == 0)
		policy_free(p);
	return NULL;
}

/* The tenant entry is immutable; only its owner's refcount changes, so the
 * const is dropped on the owner alone. */
const struct policy_tenant *policy_tenant_ref(const struct policy_tenant *t)
{
	if (t)
		policy_ref((struct policy *)t->policy);
	return t;
}

const struct policy_tenant *policy_tenant_unref(const struct policy_tenant *t)
{
	if (t)
		policy_unref((struct policy *)t->policy);
	return NULL;
}

size_t policy_n_tenants(const struct policy *p)
{
	return p ? p->n_tenants : 0;
}

const struct policy_tenant *policy_tenant_at(const struct policy *p, size_t i)
{
	return p && i < p->n_tenants ? &p->tenants[i] : NULL;
}

const struct policy_tenant *policy_find_tenant(const struct policy *p,
					       const char *name)
{
	for (size_t i = 0; p && name && i < p->n_tenants; i++)
		if (strcmp(p->tenants[i].name, name) == 0)
			return &p->tenants[i];
	return NULL;
}

const struct policy_daemon *policy_daemon(const struct policy *p)
{
	return p ? &p->daemon : NULL;
}

/* ------------------------------------------------------------- matching */

static bool has(const struct policy_tenant *t, enum policy_key k)
{
	return t->key_line[k] != 0;
}

static bool peer_in_group(const struct policy_peer *peer, gid_t gid)
{
	if (peer->gid == gid)
		return true;
	for (size_t i = 0; i < peer->n_groups; i++)
		if (peer->groups[i] == gid)
			return true;
	return false;
}

/* prefix is normalized: no trailing '/' unless it is "/" itself. */
static bool cgroup_under(const char *cgroup, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strcmp(prefix, "/") == 0)
		return cgroup[0] == '/';
	return strncmp(cgroup, prefix, n) == 0 &&
	       (cgroup[n] == '\0' || cgroup[n] == '/');
}

static bool tenant_matches(const struct policy_tenant *t,
			   const struct policy_peer *peer)
{
	bool any = false;

	if (has(t, POLICY_KEY_MATCH_USER)) {
		if (peer->uid != t->match_uid)
			return false;
		any = true;
	}
	if (has(t, POLICY_KEY_MATCH_GROUP)) {
		if (!peer_in_group(peer, t->match_gid))
			return false;
		any = true;
	}
	if (has(t, POLICY_KEY_MATCH_UNIT)) {
		if (!peer->unit ||
		    fnmatch(t->match_unit, peer->unit, FNM_NOESCAPE) != 0)
			return false;
		any = true;
	}
	if (has(t, POLICY_KEY_MATCH_CGROUP)) {
		if (!peer->cgroup || !cgroup_under(peer->cgroup, t->match_cgroup))
			return false;
		any = true;
	}
	/* The loader refuses sections without Match*; never match-all. */
	return any;
}

unsigned policy_peer_needs(const struct policy *p)
{
	unsigned needs = 0;

	for (size_t i = 0; p && i < p->n_tenants; i++) {
		if (has(&p->tenants[i], POLICY_KEY_MATCH_GROUP))
			needs |= POLICY_PEER_GROUPS;
		if (has(&p->tenants[i], POLICY_KEY_MATCH_UNIT) ||
		    has(&p->tenants[i], POLICY_KEY_MATCH_CGROUP))
			needs |= POLICY_PEER_UNIT_CGROUP;
	}
	return needs;
}

const struct policy_tenant *policy_match(const struct policy *p,
					 const struct policy_peer *peer)
{
	if (!p || !peer)
		return NULL;
	for (size_t i = 0; i < p->n_tenants; i++)
		if (tenant_matches(&p->tenants[i], peer))
			return &p->tenants[i];
	return NULL;
}

/* ------------------------------------------------------------- decisions */

bool policy_tenant_iova_allowed(const struct policy_tenant *t, uint64_t iova,
				uint64_t length)
{
	uint64_t last, pos;

	if (length == 0 || add_overflow(iova, length - 1, &last))
		return false;
	if (t->n_allowed_iova == 0)
		return true;
	/* Ranges are sorted and disjoint: walk from the one holding iova
	 * across adjacent ones until last is covered. */
	pos = iova;
	for (size_t i = 0; i < t->n_allowed_iova; i++) {
		const struct policy_range *r = &t->allowed_iova[i];

		if (r->last < pos)
			continue;
		if (r->start > pos)
			return false;
		if (r->last >= last)
			return true;
		pos = r->last + 1;
	}
	return false;
}

static bool names_contain(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], "*") == 0 || strcmp(names[i], name) == 0)
			return true;
	return false;
}

bool policy_share_allowed(const struct policy_tenant *exporter,
			  const struct policy_tenant *importer)
{
	if (!exporter || !importer)
		return false;
	return names_contain(exporter->export_to, exporter->n_export_to,
			     importer->name) &&
	       names_contain(importer->import_from, importer->n_import_from,
			     exporter->name);
}

bool policy_tenant_device_allowed(const struct policy_tenant *t, uint16_t vendor,
				  uint16_t device, const char *bdf)
{
	unsigned dom, bus, slot, fn;
	bool have_bdf = false;

	if (bdf && sscanf(bdf, "%x:%x:%x.%x", &dom, &bus, &slot, &fn) == 4)
		have_bdf = true;
	for (size_t i = 0; i < t->n_allow_device; i++) {
		const struct policy_device *d = &t->allow_device[i];

		if (d->kind == POLICY_DEVICE_ID) {
			if (d->vendor == vendor && d->device == device)
				return true;
		} else if (have_bdf && d->domain == dom && d->bus == bus &&
			   d->slot == slot && d->function == fn) {
			return true;
		}
	}
	return false;
}

int policy_tenant_source(const struct policy_tenant *t, enum policy_key k,
			 char *buf, size_t size)
{
	if ((unsigned)k < _POLICY_KEY_MAX && t->key_line[k])
		return snprintf(buf, size, "%s:%u", t->file, t->key_line[k]);
	return snprintf(buf, size, "%s:%u (default)", t->file, t->line);
}

/* ------------------------------------------------------------- equality */

static bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool names_eq(const char *const *a, size_t na, const char *const *b,
		     size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

static bool tenant_equal(const struct policy_tenant *a,
			 const struct policy_tenant *b)
{
	if (strcmp(a->name, b->name) != 0)
		return false;
	for (int k = POLICY_KEY_MATCH_USER; k <= POLICY_KEY_MATCH_CGROUP; k++)
		if (has(a, k) != has(b, k))
			return false;
	if (has(a, POLICY_KEY_MATCH_USER) && a->match_uid != b->match_uid)
		return false;
	if (has(a, POLICY_KEY_MATCH_GROUP) && a->match_gid != b->match_gid)
		return false;
	if (has(a, POLICY_KEY_MATCH_UNIT) && !str_eq(a->match_unit, b->match_unit))
		return false;
	if (has(a, POLICY_KEY_MATCH_CGROUP) &&
	    !str_eq(a->match_cgroup, b->match_cgroup))
		return false;

	if (a->max_ioas != b->max_ioas ||
	    a->max_pinned_bytes != b->max_pinned_bytes ||
	    a->max_mappings != b->max_mappings ||
	    a->max_memory_regions != b->max_memory_regions ||
	    a->max_connections != b->max_connections ||
	    a->huge_pages != b->huge_pages || a->access != b->access ||
	    a->rlimit_mode != b->rlimit_mode ||
	    a->share_write != b->share_write || a->delegate != b->delegate ||
	    a->lease_sec != b->lease_sec || a->admin != b->admin ||
	    a->allow_nesting != b->allow_nesting ||
	    a->allow_dirty_tracking != b->allow_dirty_tracking ||
	    a->hwpt_data != b->hwpt_data || a->max_hwpts != b->max_hwpts ||
	    a->allow_viommu != b->allow_viommu ||
	    !policy_faults_equal(a, b))
		return false;

	if (a->n_allowed_iova != b->n_allowed_iova)
		return false;
	for (size_t i = 0; i < a->n_allowed_iova; i++)
		if (a->allowed_iova[i].start != b->allowed_iova[i].start ||
		    a->allowed_iova[i].last != b->allowed_iova[i].last)
			return false;

	if (!names_eq(a->export_to, a->n_export_to, b->export_to, b->n_export_to) ||
	    !names_eq(a->import_from, a->n_import_from, b->import_from,
		      b->n_import_from))
		return false;

	if (a->n_allow_device != b->n_allow_device)
		return false;
	for (size_t i = 0; i < a->n_allow_device; i++)
		if (policy_device_compare(&a->allow_device[i], &b->allow_device[i]))
			return false;
	return true;
}

static bool daemon_equal(const struct policy_daemon *a, const struct policy_daemon *b)
{
	if (a->pool_size_set != b->pool_size_set ||
	    (a->pool_size_set && a->pool_size != b->pool_size))
		return false;
	if (a->rlimit_mode_set != b->rlimit_mode_set ||
	    (a->rlimit_mode_set && a->rlimit_mode != b->rlimit_mode))
		return false;
	if (a->audit_log_set != b->audit_log_set ||
	    (a->audit_log_set && !str_eq(a->audit_log, b->audit_log)))
		return false;
	if (a->audit_failure_set != b->audit_failure_set ||
	    (a->audit_failure_set && a->audit_failure != b->audit_failure))
		return false;
	if (a->audit_rate_interval_set != b->audit_rate_interval_set ||
	    (a->audit_rate_interval_set && a->audit_rate_interval != b->audit_rate_interval))
		return false;
	if (a->audit_rate_burst_set != b->audit_rate_burst_set ||
	    (a->audit_rate_burst_set && a->audit_rate_burst != b->audit_rate_burst))
		return false;
	return true;
}

bool policy_equal(const struct policy *a, const struct policy *b)
{
	if (!a || !b)
		return a == b;
	if (a->n_tenants != b->n_tenants)
		return false;
	for (size_t i = 0; i < a->n_tenants; i++)
		if (!tenant_equal(&a->tenants[i], &b->tenants[i]))
			return false;
	return daemon_equal(&a->daemon, &b->daemon);
}

static int range_cmp(const void *a, const void *b)
{
	const struct policy_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int ranges_dup(const struct policy_range *r, size_t n,
		      struct policy_range **ret, size_t *ret_n)
{
	struct policy_range *out = NULL;

	if (n) {
		out = calloc(n, sizeof(*out));
		if (!out)
			return -ENOMEM;
		memcpy(out, r, n * sizeof(*out));
		qsort(out, n, sizeof(*out), range_cmp);
	}
	*ret = out;
	*ret_n = n;
	return 0;
}

int policy_tenant_effective_iovas(const struct policy_tenant *t,
				  const struct policy_range *own, size_t n_own,
				  struct policy_range **ret, size_t *ret_n)
{
	struct policy_range *out, *sorted;
	size_t n = 0, n_sorted;
	int r;

	/* No policy (--no-policy): the own list alone. */
	if (!t)
		return ranges_dup(own, n_own, ret, ret_n);
	if (t->n_allowed_iova == 0 || n_own == 0)
		return t->n_allowed_iova ?
			       ranges_dup(t->allowed_iova, t->n_allowed_iova, ret, ret_n) :
			       ranges_dup(own, n_own, ret, ret_n);
	r = ranges_dup(own, n_own, &sorted, &n_sorted);
	if (r < 0)
		return r;
	/* Each piece of the intersection ends where one of the two lists'
	 * ranges ends: there are fewer than n_own + n_allowed of them. */
	out = calloc(n_own + t->n_allowed_iova, sizeof(*out));
	if (!out) {
		free(sorted);
		return -ENOMEM;
	}
	for (size_t i = 0, j = 0; i < n_sorted && j < t->n_allowed_iova;) {
		const struct policy_range *a = &sorted[i], *b = &t->allowed_iova[j];
		uint64_t start = a->start > b->start ? a->start : b->start;
		uint64_t last = a->last < b->last ? a->last : b->last;

		if (start < last)
			out[n++] = (struct policy_range){ .start = start, .last = last,
							  .line = b->line };
		if (a->last < b->last)
			i++;
		else
			j++;
	}
	free(sorted);
	if (n == 0) {
		free(out);
		return ranges_dup(t->allowed_iova, t->n_allowed_iova, ret, ret_n);
	}
	*ret = out;
	*ret_n = n;
	return 0;
}
