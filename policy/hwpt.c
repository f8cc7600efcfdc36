/* SPDX-License-Identifier: MIT */
/*
 * The [tenant] keys of hardware page tables (issue 15): parsing, defaults,
 * printing and the decisions.
 *
 *   AllowNesting=yes|no        a nesting parent (IOMMU_HWPT_ALLOC_NEST_
 *                              PARENT) and nested HWPTs; default no
 *   AllowDirtyTracking=yes|no  IOMMU_HWPT_ALLOC_DIRTY_TRACKING; default no
 *   AllowedHwptData=NAME...    driver data a nested HWPT may be allocated
 *                              and invalidated with (common/hwptdata.h:
 *                              vtd-s1 arm-smmuv3 amd-guest selftest);
 *                              default none
 *   MaxHwpts=N                 HWPTs and vIOMMU objects a tenant holds at
 *                              once; default 16
 *   AllowViommu=yes|no         vIOMMUs, vDEVICEs and vEVENTQs (Linux 6.13
 *                              and later); default no
 *
 * A paging HWPT without flags needs none of them (only MaxHwpts=): it is
 * what an attach to an IOAS makes anyway.
 */
#include <inttypes.h>
#include <stdlib.h>
#include "common/hwptdata.h"
#include "policy/parse-internal.h"

bool hwpt_key_is(enum policy_key k)
{
	return k == POLICY_KEY_ALLOW_NESTING ||
	       k == POLICY_KEY_ALLOW_DIRTY_TRACKING ||
	       k == POLICY_KEY_ALLOWED_HWPT_DATA || k == POLICY_KEY_MAX_HWPTS ||
	       k == POLICY_KEY_ALLOW_VIOMMU;
}

void hwpt_key_default(struct policy_tenant *t, enum policy_key k)
{
	switch (k) {
	case POLICY_KEY_ALLOW_NESTING:
		t->allow_nesting = false;
		break;
	case POLICY_KEY_ALLOW_DIRTY_TRACKING:
		t->allow_dirty_tracking = false;
		break;
	case POLICY_KEY_ALLOWED_HWPT_DATA:
		t->hwpt_data = 0;
		break;
	case POLICY_KEY_MAX_HWPTS:
		t->max_hwpts = POLICY_DEFAULT_MAX_HWPTS;
		break;
	case POLICY_KEY_ALLOW_VIOMMU:
		t->allow_viommu = false;
		break;
	default:
		break;
	}
}

static bool data_names(struct policy_loader *l, struct policy_tenant *t,
		       const char *value)
{
	char *copy = strdup(value), *save = NULL;
	uint32_t set = 0;
	bool ok = true;

	if (!copy) {
		l->oom = true;
		return false;
	}
	for (char *tok = strtok_r(copy, " \t", &save); tok;
	     tok = strtok_r(NULL, " \t", &save)) {
		int i = hwpt_data_by_name(tok);

		if (i < 0) {
			char names[128] = "";

			hwpt_data_format_set(UINT32_MAX, names, sizeof(names));
			error_at(l, l->lineno,
				 "AllowedHwptData: unknown data type '%s' (known: %s)",
				 tok, names);
			ok = false;
			continue;
		}
		set |= UINT32_C(1) << i;
	}
	free(copy);
	if (ok)
		t->hwpt_data = set;
	return ok;
}

bool hwpt_key_value(struct policy_loader *l, struct policy_tenant *t,
		    enum policy_key k, const char *key, const char *value)
{
	uint64_t v;
	int r;

	switch (k) {
	case POLICY_KEY_ALLOW_NESTING:
	case POLICY_KEY_ALLOW_DIRTY_TRACKING:
	case POLICY_KEY_ALLOW_VIOMMU:
		r = parse_bool(value);
		if (r < 0) {
			error_at(l, l->lineno, "%s=%s: expected yes or no", key, value);
			return false;
		}
		if (k == POLICY_KEY_ALLOW_NESTING)
			t->allow_nesting = r;
		else if (k == POLICY_KEY_ALLOW_DIRTY_TRACKING)
			t->allow_dirty_tracking = r;
		else
			t->allow_viommu = r;
		return true;
	case POLICY_KEY_ALLOWED_HWPT_DATA:
		return data_names(l, t, value);
	case POLICY_KEY_MAX_HWPTS:
		if (numparse_u64(value, &v) < 0) {
			error_at(l, l->lineno, "%s=%s: not a number (decimal or 0x hex)",
				 key, value);
			return false;
		}
		if (v > POLICY_MAX_COUNT) {
			error_at(l, l->lineno, "%s=%s: out of range (0..%" PRIu32 ")",
				 key, value, (uint32_t)POLICY_MAX_COUNT);
			return false;
		}
		t->max_hwpts = (uint32_t)v;
		return true;
	default:
		return false;
	}
}

void policy_print_hwpt(const struct policy_tenant *t, FILE *f)
{
	char names[128];

	fprintf(f, "AllowNesting=%s%s\n", t->allow_nesting ? "yes" : "no",
		t->key_line[POLICY_KEY_ALLOW_NESTING] ? "" : " ; default");
	fprintf(f, "AllowDirtyTracking=%s%s\n",
		t->allow_dirty_tracking ? "yes" : "no",
		t->key_line[POLICY_KEY_ALLOW_DIRTY_TRACKING] ? "" : " ; default");
	hwpt_data_format_set(t->hwpt_data, names, sizeof(names));
	if (t->hwpt_data)
		fprintf(f, "AllowedHwptData=%s\n", names);
	else
		fprintf(f, "AllowedHwptData= ; none\n");
	fprintf(f, "MaxHwpts=%" PRIu32 "%s\n", t->max_hwpts,
		t->key_line[POLICY_KEY_MAX_HWPTS] ? "" : " ; default");
	fprintf(f, "AllowViommu=%s%s\n", t->allow_viommu ? "yes" : "no",
		t->key_line[POLICY_KEY_ALLOW_VIOMMU] ? "" : " ; default");
}

enum policy_key policy_hwpt_refusing_key(const struct policy_tenant *t,
					 uint32_t flags, bool nested)
{
	const uint32_t nest_parent = 1u << 0, dirty = 1u << 1;

	if ((nested || (flags & nest_parent)) && !t->allow_nesting)
		return POLICY_KEY_ALLOW_NESTING;
	if ((flags & dirty) && !t->allow_dirty_tracking)
		return POLICY_KEY_ALLOW_DIRTY_TRACKING;
	return _POLICY_KEY_MAX;
}

bool policy_hwpt_data_allowed(const struct policy_tenant *t, int i)
{
	return i >= 0 && i < 32 && (t->hwpt_data & (UINT32_C(1) << i));
}
