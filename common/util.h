/* SPDX-License-Identifier: MIT */
/* Small helpers shared by every daemon module: cleanup attributes, fd
 * ownership moves, and the error-with-reason type every refusal carries. */
#pragma once

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
static inline void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_free_ _cleanup_(freep)

/* Move ownership of an fd out of a variable: the variable becomes -1. */
static inline int take_fd(int *fd)
{
	int r = *fd;
	*fd = -1;
	return r;
}
#define TAKE_FD(fd) take_fd(&(fd))

static inline void *take_ptr(void **p)
{
	void *r = *p;
	*p = NULL;
	return r;
}
#define TAKE_PTR(p) ((__typeof__(p))take_ptr((void **)&(p)))

/* Close an fd and return -1, for "fd = safe_close(fd);". */
static inline int safe_close(int fd)
{
	if (fd >= 0) {
		int saved = errno;
		close(fd);
		errno = saved;
	}
	return -1;
}

/* Overflow-checked arithmetic. */
#define add_overflow(a, b, res) __builtin_add_overflow(a, b, res)
#define mul_overflow(a, b, res) __builtin_mul_overflow(a, b, res)

static inline bool is_aligned(uint64_t v, uint64_t align)
{
	return align == 0 || (v & (align - 1)) == 0;
}

/*
 * A refusal: a positive errno value and a human sentence saying why (which
 * limit, which rule). Functions that can refuse take a struct err * (may be
 * NULL) and return -errnum, so "return err_set(e, EINVAL, ...)" is one step.
 */
struct err {
	int errnum;
	char msg[256];
};

__attribute__((format(printf, 3, 4))) int err_set(struct err *e, int errnum,
						  const char *fmt, ...);
/* Fill e from a bare negative errno returned by a lower layer, with context. */
__attribute__((format(printf, 3, 4))) int err_errno(struct err *e, int neg_errno,
						    const char *fmt, ...);
