/* SPDX-License-Identifier: MIT */
/* fuzz_fail(), on its own so that a target of one layer (fuzz-policy) links
 * only that layer, not the whole daemon that fuzz-common.c starts. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz-common.h"

void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz invariant broken: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}
