/* SPDX-License-Identifier: MIT */
/* What the files of policy/ share and users of policy.h must not see. */
#pragma once

#include "policy.h"

struct policy {
	unsigned long refcount;
	struct policy_tenant *tenants;
	size_t n_tenants;
	struct policy_daemon daemon;
	char **files;           /* the names tenants' file pointers point into */
	size_t n_files;
};

/* An empty policy (refcount 1), NULL on ENOMEM. */
struct policy *policy_new_empty(void);

/* Keywords shared by the parser and the printer. */
const char *policy_access_name(enum policy_access a);
const char *policy_rlimit_mode_name(enum policy_rlimit_mode m);
const char *policy_audit_failure_name(enum policy_audit_failure m);
int policy_device_compare(const struct policy_device *a, const struct policy_device *b);
/* The hardware page table keys of a [tenant] section (policy/hwpt.c). */
void policy_print_hwpt(const struct policy_tenant *t, FILE *f);
/* The fault queue and PASID keys (policy/faults.c). */
void policy_print_faults(const struct policy_tenant *t, FILE *f);
bool policy_faults_equal(const struct policy_tenant *a,
			 const struct policy_tenant *b);
