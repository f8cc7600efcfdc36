/* SPDX-License-Identifier: MIT */
/* The main() of a Check test program: run its suite, print the summary. */
#pragma once

#include <check.h>
#include <stdlib.h>

/* Run s (CK_NORMAL output); main's exit status. */
static inline int check_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
