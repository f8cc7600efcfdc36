/* SPDX-License-Identifier: MIT */
/* One tenant's tables as a state.proto Tenant message (state.c writes the
 * file; restore.c reads it back). */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "proto/state.pb-c.h"

struct tenant;

/* Growable arrays of message pointers, freed with the message tree. */
#define APPEND(arr, n, item)                                                \
	({                                                                  \
		__typeof__(arr) _nv = realloc(arr, ((n) + 1) * sizeof(*(arr))); \
		int _r = -ENOMEM;                                           \
		if (_nv) {                                                  \
			(arr) = _nv;                                        \
			(arr)[(n)++] = (item);                              \
			_r = 0;                                             \
		}                                                           \
		_r;                                                         \
	})

/* Every object of t, with the handles to hand out next. by_policy: the
 * tenant was resolved by policy (not --no-policy). The message points into
 * t's own strings: use it before t changes, free it with
 * state_tenant_msg_free(). 0 or -ENOMEM. */
int state_dump_tenant(struct tenant *t, bool by_policy, IoasdState__Tenant **ret);
void state_tenant_msg_free(IoasdState__Tenant *m);
