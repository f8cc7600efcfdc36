/* SPDX-License-Identifier: MIT */
/*
 * The normalized effective policy, for auditors (ioasd --check-policy):
 * every tenant in match order with every key in a fixed order, defaults
 * filled in and marked, canonical sizes and hex ranges. It is itself a
 * valid policy file that parses back to an equal policy.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "policy-internal.h"

void policy_format_size(uint64_t v, char *buf, size_t size)
{
	static const char units[] = "TGMK";

	for (int i = 0; i < 4 && v; i++) {
		unsigned shift = 10 * (unsigned)(4 - i);

		if ((v & ((UINT64_C(1) << shift) - 1)) == 0) {
			snprintf(buf, size, "%" PRIu64 "%c", v >> shift, units[i]);
			return;
		}
	}
	snprintf(buf, size, "%" PRIu64, v);
}

static const char *yesno(bool b)
{
	return b ? "yes" : "no";
}

/* " ; default" after a key the files left out. */
static const char *dflt(const struct policy_tenant *t, enum policy_key k)
{
	return t->key_line[k] ? "" : " ; default";
}

static void print_names(FILE *f, const char *key, const char *const *v, size_t n)
{
	fprintf(f, "%s=", key);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? " " : "", v[i]);
	fprintf(f, "%s\n", n ? "" : " ; none");
}

static void print_tenant(const struct policy_tenant *t, FILE *f)
{
	char size[32];

	fprintf(f, "\n[tenant %s]\n", t->name);
	fprintf(f, "# match order %zu, from %s:%u\n", t->index + 1, t->file, t->line);

	if (t->key_line[POLICY_KEY_MATCH_USER])
		fprintf(f, "MatchUser=%s ; uid %u\n", t->match_user,
			(unsigned)t->match_uid);
	if (t->key_line[POLICY_KEY_MATCH_GROUP])
		fprintf(f, "MatchGroup=%s ; gid %u\n", t->match_group,
			(unsigned)t->match_gid);
	if (t->key_line[POLICY_KEY_MATCH_UNIT])
		fprintf(f, "MatchUnit=%s\n", t->match_unit);
	if (t->key_line[POLICY_KEY_MATCH_CGROUP])
		fprintf(f, "MatchCgroup=%s\n", t->match_cgroup);

	fprintf(f, "MaxIOAS=%" PRIu32 "%s\n", t->max_ioas,
		dflt(t, POLICY_KEY_MAX_IOAS));
	policy_format_size(t->max_pinned_bytes, size, sizeof(size));
	fprintf(f, "MaxPinnedBytes=%s%s\n", size, dflt(t, POLICY_KEY_MAX_PINNED_BYTES));
	fprintf(f, "MaxMappings=%" PRIu32 "%s\n", t->max_mappings,
		dflt(t, POLICY_KEY_MAX_MAPPINGS));
	fprintf(f, "MaxMemoryRegions=%" PRIu32 "%s\n", t->max_memory_regions,
		dflt(t, POLICY_KEY_MAX_MEMORY_REGIONS));
	fprintf(f, "MaxConnections=%" PRIu32 "%s\n", t->max_connections,
		dflt(t, POLICY_KEY_MAX_CONNECTIONS));

	if (t->n_allowed_iova == 0)
		fprintf(f, "AllowedIOVA= ; none: whatever the kernel allows\n");
	for (size_t i = 0; i < t->n_allowed_iova; i++)
		fprintf(f, "AllowedIOVA=0x%" PRIx64 "-0x%" PRIx64 "\n",
			t->allowed_iova[i].start, t->allowed_iova[i].last);

	fprintf(f, "HugePages=%s%s\n", yesno(t->huge_pages),
		dflt(t, POLICY_KEY_HUGE_PAGES));
	fprintf(f, "Access=%s%s\n", policy_access_name(t->access),
		dflt(t, POLICY_KEY_ACCESS));
	fprintf(f, "RlimitMode=%s%s\n", policy_rlimit_mode_name(t->rlimit_mode),
		dflt(t, POLICY_KEY_RLIMIT_MODE));

	print_names(f, "ExportTo", t->export_to, t->n_export_to);
	print_names(f, "ImportFrom", t->import_from, t->n_import_from);
	fprintf(f, "ShareWrite=%s%s\n", yesno(t->share_write),
		dflt(t, POLICY_KEY_SHARE_WRITE));

	if (t->n_allow_device == 0)
		fprintf(f, "AllowDevice= ; none\n");
	for (size_t i = 0; i < t->n_allow_device; i++) {
		char dev[32];

		policy_format_device(&t->allow_device[i], dev, sizeof(dev));
		fprintf(f, "AllowDevice=%s\n", dev);
	}
	fprintf(f, "Delegate=%s%s\n", yesno(t->delegate), dflt(t, POLICY_KEY_DELEGATE));
	fprintf(f, "Lease=%" PRIu32 "%s\n", t->lease_sec, dflt(t, POLICY_KEY_LEASE));
	fprintf(f, "Admin=%s%s\n", yesno(t->admin), dflt(t, POLICY_KEY_ADMIN));
	policy_print_hwpt(t, f);
	policy_print_faults(t, f);
}

static void print_daemon(const struct policy_daemon *d, FILE *f)
{
	if (!d->file)
		return;
	fprintf(f, "\n[daemon]\n");
	fprintf(f, "# from %s:%u; keys not shown take the command line or built-in value\n",
		d->file, d->line);
	if (d->pool_size_set)
		fprintf(f, "PoolSize=%" PRIu32 "\n", d->pool_size);
	if (d->rlimit_mode_set)
		fprintf(f, "RlimitMode=%s\n", policy_rlimit_mode_name(d->rlimit_mode));
	if (d->audit_log_set)
		fprintf(f, "AuditLog=%s\n", d->audit_log);
	if (d->audit_failure_set)
		fprintf(f, "AuditFailure=%s\n",
			policy_audit_failure_name(d->audit_failure));
	if (d->audit_rate_interval_set)
		fprintf(f, "AuditRateInterval=%" PRIu32 "\n", d->audit_rate_interval);
	if (d->audit_rate_burst_set)
		fprintf(f, "AuditRateBurst=%" PRIu32 "\n", d->audit_rate_burst);
}

void policy_print(const struct policy *p, FILE *f)
{
	size_t n = policy_n_tenants(p);

	fprintf(f, "# ioasd effective policy: %zu tenant%s, tried in this order, first match wins.\n",
		n, n == 1 ? "" : "s");
	fprintf(f, "# A peer that matches no tenant is refused.\n");
	if (!p)
		return;
	print_daemon(&p->daemon, f);
	for (size_t i = 0; i < n; i++)
		print_tenant(&p->tenants[i], f);
}
