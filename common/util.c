/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "common/util.h"

int err_set(struct err *e, int errnum, const char *fmt, ...)
{
	if (e) {
		va_list ap;

		e->errnum = errnum;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return -errnum;
}

int err_errno(struct err *e, int neg_errno, const char *fmt, ...)
{
	if (e) {
		char ctx[192];
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(ctx, sizeof(ctx), fmt, ap);
		va_end(ap);
		e->errnum = -neg_errno;
		snprintf(e->msg, sizeof(e->msg), "%s: %s", ctx,
			 strerror(-neg_errno));
	}
	return neg_errno;
}
