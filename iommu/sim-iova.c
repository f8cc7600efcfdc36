/* SPDX-License-Identifier: MIT */
/* The sim: automatic IOVA allocation (iopt_alloc_iova) and the IOAS's
 * IOVA alignment, as the modelled kernel computes them. */
#include "iommu/sim-internal.h"

/* ------------------------------------------------------------ iova alloc */

/* __alloc_iova_check_range: the first usable start in [*start, last]. */
static bool sim_check_range(uint64_t *start, uint64_t last, uint64_t length,
			    uint64_t align, uint64_t page_offset)
{
	uint64_t a;

	if (add_overflow(*start, align - 1, &a))
		return false;
	a &= ~(align - 1);
	a |= page_offset;
	if (a >= last || last - a < length - 1)
		return false;
	*start = a;
	return true;
}

/*
 * interval_tree_for_each_double_span(reserved, areas, first, last): try each
 * hole, in ascending order, with __alloc_iova_check_hole.
 */
static bool sim_find_hole(struct sim_ioas *io, uint64_t first, uint64_t last,
			  uint64_t length, uint64_t align,
			  uint64_t page_offset, uint64_t *ret_iova)
{
	struct sim_area *a = sim_area_first(io, first, last);
	uint64_t cur = first;
	size_t r = 0;

	for (;;) {
		uint64_t used_start, used_last, hole;
		bool take_area;

		while (a && a->last < cur)
			a = RB_NEXT(sim_area_tree, &io->areas, a);
		while (r < io->n_reserved && io->reserved[r].last < cur)
			r++;
		if (a && a->iova > last)
			a = NULL;
		if (r < io->n_reserved && io->reserved[r].start > last)
			r = io->n_reserved;

		if (!a && r == io->n_reserved) {
			hole = cur;
			if (sim_check_range(&hole, last, length, align,
					    page_offset)) {
				*ret_iova = hole;
				return true;
			}
			return false;
		}

		take_area = a && (r == io->n_reserved ||
				  a->iova <= io->reserved[r].start);
		used_start = take_area ? a->iova : io->reserved[r].start;
		used_last = take_area ? a->last : io->reserved[r].last;

		if (used_start > cur) {
			hole = cur;
			if (sim_check_range(&hole, used_start - 1, length,
					    align, page_offset)) {
				*ret_iova = hole;
				return true;
			}
		}
		if (used_last >= last)
			return false;
		cur = max_u64(cur, used_last + 1);
		if (take_area)
			a = RB_NEXT(sim_area_tree, &io->areas, a);
		else
			r++;
	}
}

/* iopt_alloc_iova */
static int sim_alloc_iova(struct sim_ioas *io, uint64_t addr, uint64_t length,
			  uint64_t *ret_iova)
{
	const uint64_t page_size = io->m->page_size;
	const uint64_t win_first = page_size;
	const uint64_t win_last = UINT64_MAX - page_size;
	/* CONFIG_TRANSPARENT_HUGEPAGE: HPAGE_SIZE, else PAGE_SIZE */
	const uint64_t max_align = io->m->thp ? io->m->hpage_size : page_size;
	uint64_t page_offset = addr % page_size;
	uint64_t align;
	size_t i;

	if (length == 0 || length >= UINT64_MAX / 2)
		return -EOVERFLOW;

	align = roundup_pow_of_two(length);
	if (addr)
		align = min_u64(align, UINT64_C(1) << __builtin_ctzll(addr));
	if (align >= max_align)
		align = max_align;
	if (align < io->iova_alignment)
		return -EINVAL;

	if (io->n_allowed == 0) {
		uint64_t start = win_first;

		if (sim_check_range(&start, win_last, length, align,
				    page_offset) &&
		    sim_find_hole(io, start, win_last, length, align,
				  page_offset, ret_iova))
			return 0;
		return -ENOSPC;
	}

	i = 0;
	while (i < io->n_allowed) {
		uint64_t start = io->allowed[i].start;
		uint64_t last = io->allowed[i].last;

		/* interval_tree_span_iter merges touching ranges */
		for (i++; i < io->n_allowed && last != UINT64_MAX &&
			  io->allowed[i].start == last + 1;
		     i++)
			last = io->allowed[i].last;

		if (last < win_first || start > win_last)
			continue;
		start = max_u64(start, win_first);
		last = min_u64(last, win_last);
		if (!sim_check_range(&start, last, length, align, page_offset))
			continue;
		if (sim_find_hole(io, start, last, length, align, page_offset,
				  ret_iova))
			return 0;
	}
	return -ENOSPC;
}

/* iopt_check_iova */
static int sim_check_iova(struct sim_ioas *io, uint64_t iova, uint64_t length)
{
	uint64_t last;

	if (iova & (io->iova_alignment - 1))
		return -EINVAL;
	if (add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;
	if (ranges_intersect(io->reserved, io->n_reserved, iova, last))
		return -EINVAL;
	if (sim_area_first(io, iova, last))
		return -EEXIST;
	return 0;
}

/*
 * iopt_map_pages: place the pieces back to back at a fixed or allocated IOVA.
 * All checks happen before anything is inserted, so failure changes nothing
 * (the kernel aborts the areas it inserted; same outcome).
 */
int sim_map_pieces(struct sim_ioas *io, const struct sim_piece *pieces,
		   size_t n, uint64_t length, uint32_t flags,
		   uint64_t *iova)
{
	struct sim_area **areas;
	uint64_t at;
	int r;

	if ((length & (io->iova_alignment - 1)) || !length)
		return -EINVAL;

	if (flags & BACKEND_MAP_FIXED_IOVA) {
		at = *iova;
		r = sim_check_iova(io, at, length);
	} else {
		r = sim_alloc_iova(io, pieces[0].addr, length, &at);
	}
	if (r < 0)
		return r;

	/* iopt_insert_area, per piece */
	for (size_t i = 0; i < n; i++) {
		if ((flags & BACKEND_MAP_WRITEABLE) && !pieces[i].pages_writable)
			return -EPERM;
		if ((pieces[i].addr % io->m->page_size) &
		    (io->iova_alignment - 1))
			return -EINVAL;
	}

	areas = calloc(n, sizeof(*areas));
	if (!areas)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		areas[i] = calloc(1, sizeof(*areas[i]));
		if (!areas[i]) {
			for (size_t j = 0; j < i; j++)
				free(areas[j]);
			free(areas);
			return -ENOMEM;
		}
	}

	*iova = at;
	for (size_t i = 0; i < n; i++) {
		areas[i]->iova = at;
		areas[i]->last = at + pieces[i].length - 1;
		areas[i]->addr = pieces[i].addr;
		areas[i]->pages_writable = pieces[i].pages_writable;
		RB_INSERT(sim_area_tree, &io->areas, areas[i]);
		at += pieces[i].length;
	}
	free(areas);
	return 0;
}

/* ------------------------------------------------------------ alignment */

/* iopt_check_iova_alignment */
int sim_check_alignment(struct sim_ioas *io, uint64_t align)
{
	uint64_t mask = align - 1;
	struct sim_area *a;

	RB_FOREACH(a, sim_area_tree, &io->areas) {
		if ((a->iova & mask) || ((a->last - a->iova + 1) & mask) ||
		    ((a->addr % io->m->page_size) & mask))
			return -EADDRINUSE;
	}
	return 0;
}

/* iopt_calculate_iova_alignment */
int sim_recalc_alignment(struct sim_ioas *io)
{
	uint64_t align = io->disable_large_pages ? io->m->page_size : 1;
	int r;

	align = max_u64(align, io->domain_alignment);
	if (align > io->iova_alignment) {
		r = sim_check_alignment(io, align);
		if (r < 0)
			return r;
	}
	io->iova_alignment = align;
	return 0;
}
