/* SPDX-License-Identifier: MIT */
/* ioasd --check-policy: validate the policy files for an auditor. */
#include <stdio.h>

#include "policy.h"

int policy_check_main(const char *dir, FILE *out, FILE *err)
{
	struct policy_loader *l = policy_loader_new();
	struct policy *p = NULL;
	struct err e = { 0 };
	int r;

	if (!l) {
		fprintf(err, "out of memory\n");
		return 1;
	}
	r = policy_loader_add_dir(l, dir, &e);
	if (r == 0)
		r = policy_loader_finish(l, &p, &e);
	if (r < 0) {
		size_t n = policy_loader_n_errors(l);

		/* Every error in the files; then a failure to read (or to
		 * allocate), which is only in e. */
		for (size_t i = 0; i < n; i++)
			fprintf(err, "%s\n", policy_loader_error(l, i));
		if (r != -EINVAL || n == 0)
			fprintf(err, "%s\n", e.msg);
		fprintf(err, "%s: policy is not valid\n", dir);
		policy_loader_free(l);
		return 1;
	}
	policy_loader_free(l);
	policy_print(p, out);
	policy_unref(p);
	fflush(out);
	return ferror(out) ? 1 : 0;
}
