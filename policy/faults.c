/* SPDX-License-Identifier: MIT */
/*
 * The [tenant] keys of issue 16 (fault queues, PASIDs): parsing, defaults,
 * printing and the decisions.
 *
 *   AllowedPASID=RANGE...  PASIDs its devices may attach an HWPT at: N or
 *                          FIRST-LAST (inclusive), 0 < N < 2^20 (the PCI
 *                          PASID width); repeatable and/or space separated,
 *                          at most POLICY_MAX_PASID_RANGES, not
 *                          overlapping; default none
 *   MaxFaultQueues=N       I/O page fault queues held at once; default 0
 *                          (none)
 *
 * Dirty tracking needs no key of its own: reading a bitmap needs an HWPT
 * allocated with DIRTY_TRACKING, which AllowDirtyTracking= decides.
 */
#include <inttypes.h>
#include <stdlib.h>
#include "policy/parse-internal.h"

bool faults_key_is(enum policy_key k)
{
	return k == POLICY_KEY_ALLOWED_PASID || k == POLICY_KEY_MAX_FAULT_QUEUES;
}

void faults_key_default(struct policy_tenant *t, enum policy_key k)
{
	if (k == POLICY_KEY_ALLOWED_PASID)
		t->n_pasids = 0;
	else if (k == POLICY_KEY_MAX_FAULT_QUEUES)
		t->max_fault_queues = 0;
}

static bool pasid_token(struct policy_loader *l, struct policy_tenant *t,
			const char *tok)
{
	char first[32], *dash;
	uint32_t a, b;

	if (strlen(tok) >= sizeof(first))
		goto bad;
	snprintf(first, sizeof(first), "%s", tok);
	dash = strchr(first, '-');
	if (dash)
		*dash = '\0';
	if (numparse_u32(first, &a) < 0 ||
	    (dash ? numparse_u32(dash + 1, &b) : (b = a, 0)) < 0)
		goto bad;
	if (a == 0 || b > POLICY_PASID_LAST || a > b) {
		error_at(l, l->lineno, "AllowedPASID: %s: PASIDs are 1 to %u, "
			 "FIRST <= LAST", tok, POLICY_PASID_LAST);
		return false;
	}
	for (size_t i = 0; i < t->n_pasids; i++)
		if (a <= t->pasids[i].last && t->pasids[i].start <= b) {
			error_at(l, l->lineno, "AllowedPASID: %s overlaps %" PRIu64
				 "-%" PRIu64 " (line %u)", tok, t->pasids[i].start,
				 t->pasids[i].last, t->pasids[i].line);
			return false;
		}
	if (t->n_pasids == POLICY_MAX_PASID_RANGES) {
		error_at(l, l->lineno, "AllowedPASID: more than %u ranges",
			 POLICY_MAX_PASID_RANGES);
		return false;
	}
	/* Kept sorted, so that equal policies compare and print alike. */
	size_t i = t->n_pasids++;

	for (; i > 0 && t->pasids[i - 1].start > a; i--)
		t->pasids[i] = t->pasids[i - 1];
	t->pasids[i] = (struct policy_range){ a, b, l->lineno };
	return true;
bad:
	error_at(l, l->lineno, "AllowedPASID: '%s' is not N or FIRST-LAST", tok);
	return false;
}

bool faults_key_value(struct policy_loader *l, struct policy_tenant *t,
		      enum policy_key k, const char *key, const char *value)
{
	char *copy, *save = NULL;
	bool ok = true;
	uint64_t v;

	if (k == POLICY_KEY_MAX_FAULT_QUEUES) {
		if (numparse_u64(value, &v) < 0 || v > POLICY_MAX_COUNT) {
			error_at(l, l->lineno, "%s=%s: not a number from 0 to %" PRIu32,
				 key, value, (uint32_t)POLICY_MAX_COUNT);
			return false;
		}
		t->max_fault_queues = (uint32_t)v;
		return true;
	}
	copy = strdup(value);
	if (!copy) {
		l->oom = true;
		return false;
	}
	for (char *tok = strtok_r(copy, " \t", &save); tok;
	     tok = strtok_r(NULL, " \t", &save))
		ok = pasid_token(l, t, tok) && ok;
	free(copy);
	return ok;
}

void policy_print_faults(const struct policy_tenant *t, FILE *f)
{
	fputs("AllowedPASID=", f);
	for (size_t i = 0; i < t->n_pasids; i++) {
		if (t->pasids[i].start == t->pasids[i].last)
			fprintf(f, "%s%" PRIu64, i ? " " : "", t->pasids[i].start);
		else
			fprintf(f, "%s%" PRIu64 "-%" PRIu64, i ? " " : "",
				t->pasids[i].start, t->pasids[i].last);
	}
	fputs(t->n_pasids ? "\n" : " ; none\n", f);
	fprintf(f, "MaxFaultQueues=%" PRIu32 "%s\n", t->max_fault_queues,
		t->key_line[POLICY_KEY_MAX_FAULT_QUEUES] ? "" : " ; default");
}

const struct policy_range *policy_pasid_range(const struct policy_tenant *t,
					      uint32_t pasid)
{
	for (size_t i = 0; i < t->n_pasids; i++)
		if (t->pasids[i].start <= pasid && pasid <= t->pasids[i].last)
			return &t->pasids[i];
	return NULL;
}

bool policy_faults_equal(const struct policy_tenant *a,
			 const struct policy_tenant *b)
{
	if (a->max_fault_queues != b->max_fault_queues ||
	    a->n_pasids != b->n_pasids)
		return false;
	for (size_t i = 0; i < a->n_pasids; i++)
		if (a->pasids[i].start != b->pasids[i].start ||
		    a->pasids[i].last != b->pasids[i].last)
			return false;
	return true;
}
