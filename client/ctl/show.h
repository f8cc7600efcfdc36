/* SPDX-License-Identifier: MIT */
/*
 * ioasctl show: what it learns of one IOAS (show-model.c: the daemon's
 * reads, indexes answering "what holds this address", the list's rows) for
 * the drawing and printing in cmd-show.c.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl.h"

/* More mapping rows than this and runs of like mappings are summed up. */
#define SHOW_ROWS_MAX 64

/*
 * Which of a set of ranges holds an address, in O(log n) whether they
 * overlap or not (shares may): the ranges sorted by start, with the
 * running maximum of their last byte and whose it is. Of the ranges that
 * start at or below a, the one reaching furthest holds a if any does.
 */
struct cover_index {
	struct ioas_iova_range *r; /* sorted by start */
	uint64_t *max_last;
	long *owner;               /* index in the caller's list */
	uint32_t n;
};

enum { IX_KERNEL, IX_POLICY, IX_OWN, IX_EXPORT, IX_IMPORT, IX_N };

struct show {
	uint32_t ioas;
	uint64_t align;
	struct ioas_iova_range *kernel;       /* usable, sorted */
	uint32_t n_kernel;
	struct ioas_whoami who;               /* policy's AllowedIOVA= */
	struct ioas_iova_range *own;          /* AllowIovas list */
	uint32_t n_own;
	struct ioas_mapping_info *maps;       /* in IOVA order */
	size_t n_maps, cap_maps;
	uint32_t total;
	struct ioas_share_list *shares;
	struct cover_index *ix;               /* IX_N of them (show_fetch) */
};

/* One row of the list: a stretch where nothing changes. */
struct row {
	uint64_t start, last;
	bool kernel, policy, own;
	long map, exp, imp;
	size_t nmaps; /* a summed-up run: how many mappings (0: one row) */
};

/* Fill s (s->ioas set, the rest zero) from the daemon: 0 or -errno. */
int show_fetch(struct ctl *ctl, struct show *s);
void show_free(struct show *s);
/* The list's rows in IOVA order (all: no run summed up); free() it. NULL
 * when out of memory. */
struct row *show_rows(const struct show *s, bool all, size_t *ret_n);
