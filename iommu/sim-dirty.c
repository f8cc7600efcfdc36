/* SPDX-License-Identifier: MIT */
/*
 * The sim: dirty tracking of paging HWPTs (IOMMU_HWPT_SET_DIRTY_TRACKING,
 * IOMMU_HWPT_GET_DIRTY_BITMAP) and the test hook that dirties pages.
 * Only the mock's domains track (the rig's VT-d has no SLADS: an HWPT
 * with DIRTY_TRACKING is EOPNOTSUPP there, sim-hwpt.c).
 *
 * Rule                                  mirrors (kernel function)
 * ------------------------------------  -----------------------------------
 * SET_DIRTY: hwpt not a paging HWPT     iommufd_hwpt_set_dirty_tracking,
 *   -> ENOENT; allocated without        iommufd_get_hwpt_paging,
 *   DIRTY_TRACKING -> EOPNOTSUPP;       iopt_set_dirty_tracking (no
 *   enabling clears what was recorded.  dirty_ops; clear on enable).
 * GET_DIRTY: a flag other than          iommufd_hwpt_get_dirty_bitmap,
 *   NO_CLEAR -> EOPNOTSUPP; not paging  iopt_read_and_clear_dirty_data,
 *   -> ENOENT; no DIRTY_TRACKING ->     iommufd_check_iova_range,
 *   EOPNOTSUPP; iova + length - 1       iommu_read_and_clear_dirty.
 *   overflows -> EOVERFLOW; iova or
 *   end not aligned to the IOAS's
 *   alignment, page_size 0, or iova or
 *   end not aligned to page_size ->
 *   EINVAL; a hole in the mapped
 *   range -> EINVAL. Bit i: a dirty
 *   mock page in the i-th page_size
 *   page; cleared unless NO_CLEAR.
 *   Tracking off: nothing recorded,     (measured on the 6.12 and 7.2
 *   an empty bitmap, 0.                 mocks: 0, no bits)
 * Test DIRTY(hwpt, iova, length):       iommufd_test_dirty: tracking off
 *   tracking off -> EINVAL; marks the   -> EINVAL; counts what it marked.
 *   mapped mock pages of the range.
 */
#include <errno.h>

#include "iommu/backend-faults.h"
#include "iommu/sim-internal.h"

/* What a tracking domain recorded: the IOVAs of dirty mock pages. */
struct sim_dirty {
	bool on;
	size_t n, cap;
	uint64_t page[];
};

static struct sim_hwpt *paging_hwpt(struct sim *s, uint32_t id)
{
	struct sim_hwpt *h = sim_get_hwpt(s, id);

	return h && !h->parent ? h : NULL;
}

static uint64_t mock_page(void)
{
	return sim_driver_domain(SIM_DRIVER_MOCK, false)->alignment;
}

static int dirty_get(struct sim_hwpt *h)
{
	if (!h->dirty) {
		h->dirty = calloc(1, sizeof(*h->dirty) + 16 * sizeof(uint64_t));
		if (!h->dirty)
			return -ENOMEM;
		h->dirty->cap = 16;
	}
	return 0;
}

int sim_set_dirty(struct backend *b, uint32_t hwpt, bool enable)
{
	struct sim_hwpt *h = paging_hwpt(to_sim(b), hwpt);
	int r;

	if (!h)
		return -ENOENT;
	if (!(h->flags & BACKEND_HWPT_DIRTY_TRACKING))
		return -EOPNOTSUPP;
	r = dirty_get(h);
	if (r < 0)
		return r;
	if (enable)
		h->dirty->n = 0;
	h->dirty->on = enable;
	return 0;
}

/* Is [first, last] covered by areas without a hole? */
static bool range_mapped(struct sim_ioas *io, uint64_t first, uint64_t last)
{
	struct sim_area *a = sim_area_first(io, first, last);
	uint64_t cur = first;

	while (a && a->iova <= cur) {
		if (a->last >= last)
			return true;
		cur = a->last + 1;
		a = RB_NEXT(sim_area_tree, &io->areas, a);
	}
	return false;
}

static bool area_mapped(struct sim_ioas *io, uint64_t iova)
{
	struct sim_area *a = sim_area_first(io, iova, iova);

	return a != NULL;
}

int sim_get_dirty(struct backend *b, uint32_t hwpt, uint32_t flags,
		  uint64_t iova, uint64_t length, uint64_t page_size,
		  void *bitmap)
{
	struct sim *s = to_sim(b);
	struct sim_hwpt *h;
	struct sim_ioas *io;
	uint64_t last, align;
	uint8_t *bits = bitmap;
	size_t keep = 0;

	if (flags & ~BACKEND_DIRTY_NO_CLEAR)
		return -EOPNOTSUPP;
	h = paging_hwpt(s, hwpt);
	if (!h)
		return -ENOENT;
	if (!(h->flags & BACKEND_HWPT_DIRTY_TRACKING))
		return -EOPNOTSUPP;
	io = sim_get_ioas(s, h->ioas);
	if (!io)
		return -ENOENT;
	if (__builtin_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;
	align = max_u64(io->iova_alignment, 1);
	if ((iova & (align - 1)) || ((last + 1) & (align - 1)))
		return -EINVAL;
	if (!page_size || (page_size & (page_size - 1)))
		return -EINVAL;
	if ((iova & (page_size - 1)) || ((last + 1) & (page_size - 1)))
		return -EINVAL;
	if (!bitmap)
		return -EFAULT;
	if (!range_mapped(io, iova, last))
		return -EINVAL;
	memset(bits, 0, backend_dirty_bitmap_size(length, page_size));
	if (!h->dirty)
		return 0; /* never tracked: nothing recorded */
	for (size_t i = 0; i < h->dirty->n; i++) {
		uint64_t p = h->dirty->page[i], bit;

		if (p < iova || p > last) {
			h->dirty->page[keep++] = p;
			continue;
		}
		bit = (p - iova) / page_size;
		bits[bit / 8] |= (uint8_t)(1u << (bit % 8));
		if (flags & BACKEND_DIRTY_NO_CLEAR)
			h->dirty->page[keep++] = p;
	}
	h->dirty->n = keep;
	return 0;
}

int backend_sim_set_dirty(struct backend *b, uint32_t hwpt, uint64_t iova,
			  uint64_t length, uint64_t *ret_count)
{
	struct sim_hwpt *h;
	struct sim_ioas *io;
	uint64_t pg = mock_page(), count = 0;

	if (!b || b->ops != &sim_ops)
		return -EINVAL;
	h = paging_hwpt(to_sim(b), hwpt);
	if (!h)
		return -ENOENT;
	if (!h->dirty || !h->dirty->on || !length || (iova & (pg - 1)))
		return -EINVAL;
	io = sim_get_ioas(to_sim(b), h->ioas);
	for (uint64_t p = iova; io && p - iova < length; p += pg) {
		bool seen = false;

		if (!area_mapped(io, p))
			continue;
		for (size_t i = 0; i < h->dirty->n && !seen; i++)
			seen = h->dirty->page[i] == p;
		if (seen)
			continue;
		if (h->dirty->n == h->dirty->cap) {
			size_t cap = h->dirty->cap * 2;
			struct sim_dirty *d = realloc(h->dirty, sizeof(*d) +
						      cap * sizeof(uint64_t));

			if (!d)
				return -ENOMEM;
			d->cap = cap;
			h->dirty = d;
		}
		h->dirty->page[h->dirty->n++] = p;
		count++;
	}
	if (ret_count)
		*ret_count = count;
	return 0;
}
