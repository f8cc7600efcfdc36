/* SPDX-License-Identifier: MIT */
/*
 * The sim backend: an in-process model of ONE iommufd context (one open() of
 * /dev/iommu), with the kernel's semantics and errno, rule by rule. Nothing is
 * pinned, no user VA is ever dereferenced, no fd content is ever touched.
 *
 * Modelled kernel: drivers/iommu/iommufd as of v6.12 plus the fixes that were
 * sent to stable (so also what 6.13 .. 6.18 do); where newer kernels differ
 * the difference is stated below.
 *
 * Which kernel: a struct backend_model, chosen when the sim is opened
 * (ioasd --sim-thp, --sim-page-size; by default this host's kernel). It
 * says whether the kernel was built with CONFIG_TRANSPARENT_HUGEPAGE, and
 * its PAGE_SIZE and HPAGE_SIZE (x86-64: 4 KiB and 2 MiB). The model only
 * changes the rules that name PAGE_SIZE or HPAGE_SIZE below; the VM suite
 * checks the sim against kernels built with THP and without.
 *
 * Rule                                  mirrors (kernel function)
 * ------------------------------------  -----------------------------------
 * Object ids: one id space per context; _iommufd_object_alloc: xa_alloc with
 *   the lowest free id >= 1 is taken     XA_FLAGS_ALLOC1 and xa_limit_31b,
 *   (freed ids are reused, lowest       so ids are 1..INT_MAX, lowest free
 *   first); full -> EBUSY.              first.
 * DESTROY: unknown id -> ENOENT; an     iommufd_destroy ->
 *   IOAS pinned by an attached device   iommufd_object_remove
 *   -> EBUSY; otherwise every area is   (refcount_dec_if_one), iommufd_ioas_
 *   dropped and the id freed.           destroy -> iopt_unmap_all.
 * Ops naming an id that is not an IOAS  iommufd_get_ioas -> iommufd_get_object.
 *   -> ENOENT (sim only has IOASes).
 * IOVA_RANGES: reports the holes        iommufd_ioas_iova_ranges
 *   between RESERVED ranges over        (interval_tree_for_each_span over
 *   [0, UINT64_MAX] (not the allowed    reserved_itree); out_iova_alignment =
 *   list); too small an array ->        iopt->iova_alignment.
 *   -EMSGSIZE with *num = needed.
 * ALLOW_IOVAS: each range start >= last iommufd_ioas_load_iovas,
 *   -> EINVAL (a one-byte range is      iopt_set_allow_iova.
 *   refused); a range overlapping an
 *   earlier one -> EINVAL (adjacent is
 *   fine); a range intersecting a
 *   reserved range -> EADDRINUSE;
 *   num = 0 clears. Existing mappings
 *   are NOT checked against the list.
 * MAP / MAP_FILE / COPY argument        iommufd_ioas_map, _map_file, _copy:
 *   checks, in kernel order: unknown     flags, ">= ULONG_MAX", then
 *   flag -> EOPNOTSUPP; iova or length   "neither READ nor WRITE" come before
 *   (copy: also src/dst iova) ==         the IOAS lookup.
 *   UINT64_MAX -> EOVERFLOW (the input
 *   iova is checked even without
 *   FIXED_IOVA); neither READABLE nor
 *   WRITEABLE -> EINVAL; unknown IOAS
 *   -> ENOENT.
 * map_user: va + length overflows ->    iopt_alloc_user_pages,
 *   EOVERFLOW; length 0 or > SIZE_MAX -  iopt_alloc_pages.
 *   PAGE_SIZE -> EINVAL.
 * map_file: bad fd -> EBADF (after the  iommufd_ioas_map_file (fget),
 *   IOAS lookup); start + length - 1    iopt_alloc_file_pages.
 *   overflows -> EOVERFLOW; then as
 *   map_user with start in the role of
 *   the VA.
 * Area creation (shared by all three):  iopt_alloc_area_pages,
 *   length not a multiple of            iopt_check_iova (fixed),
 *   iova_alignment -> EINVAL. Fixed:     iopt_alloc_iova (auto),
 *   iova misaligned -> EINVAL, iova +    iopt_insert_area.
 *   length - 1 overflows -> EOVERFLOW,
 *   intersects a reserved range ->
 *   EINVAL, intersects an area ->
 *   EEXIST; the allowed list is NOT
 *   consulted for a fixed IOVA. Auto:
 *   see below. Then per piece: WRITE
 *   requested on pages mapped without
 *   WRITE -> EPERM; VA page offset not
 *   a multiple of iova_alignment ->
 *   EINVAL. All or nothing.
 * Automatic IOVA: length >= 2^63 - 1   iopt_alloc_iova,
 *   -> EOVERFLOW; alignment =            __alloc_iova_check_range.
 *   roundup_pow_of_two(length), or the
 *   smaller of that and the lowest set
 *   bit of the VA (file offset, source
 *   VA for COPY) when it is non-zero,
 *   capped at HPAGE_SIZE with THP and
 *   at PAGE_SIZE without; below
 *   iova_alignment -> EINVAL. Search,
 *   first fit, ascending: the allowed
 *   ranges (adjacent ones merged), or
 *   [PAGE_SIZE, UINT64_MAX - PAGE_SIZE]
 *   when there are none, clipped to
 *   that window; in each, the first
 *   aligned start is taken, then the
 *   holes between reserved ranges and
 *   areas are tried in order, each at
 *   its first start of the form
 *   ALIGN_UP(start, alignment) | (VA %
 *   PAGE_SIZE); a hole fits when that
 *   start is < the hole's last byte and
 *   the length fits. Nothing -> ENOSPC.
 * COPY: the source range must be        iopt_get_pages (length 0 -> EINVAL,
 *   covered by contiguous areas, else   overflow -> EOVERFLOW, hole ->
 *   ENOENT; the destination gets one    ENOENT) then iopt_map_pages on the
 *   area per source piece, so later     destination. Source looked up
 *   unmaps see the source boundaries;   before destination. Same IOAS as
 *   src == dst is allowed.              source and destination is allowed.
 * UNMAP: unknown IOAS -> ENOENT first;  iommufd_ioas_unmap, iopt_unmap_iova,
 *   iova 0 + length UINT64_MAX = unmap  iopt_unmap_iova_range,
 *   all (success when empty); else      iopt_unmap_all.
 *   iova or length == UINT64_MAX ->
 *   EOVERFLOW, length 0 -> EINVAL,
 *   iova + length - 1 overflows ->
 *   EOVERFLOW. Areas are visited in
 *   ascending order: an area sticking
 *   out of the range -> ENOENT, and the
 *   areas before it that WERE inside
 *   stay unmapped (no rollback).
 *   Nothing unmapped -> ENOENT.
 * OPTION: unknown option -> EOPNOTSUPP. iommufd_option,
 *   RLIMIT_MODE: object_id != 0 ->      iommufd_option_rlimit_mode,
 *   EOPNOTSUPP; SET with any object in  iommufd_ioas_option,
 *   the context -> EBUSY, value not 0/1 iopt_disable_large_pages,
 *   -> EINVAL; other op -> EOPNOTSUPP.  iopt_enable_large_pages,
 *   HUGE_PAGES: unknown IOAS -> ENOENT  iopt_calculate_iova_alignment,
 *   (checked before the op); SET 0 with iopt_check_iova_alignment.
 *   a device attached and areas ->
 *   EINVAL; SET 0 raises iova_alignment
 *   to PAGE_SIZE, an area not aligned
 *   to it -> EADDRINUSE; SET 1 lowers it
 *   back; value not 0/1 -> EINVAL; other
 *   op -> EOPNOTSUPP.
 * backend_sim_attach_reserved: a device iopt_table_add_domain (alignment,
 *   attach. alignment > PAGE_SIZE ->    EINVAL above PAGE_SIZE, existing
 *   EINVAL; an area not aligned to the  areas -> EADDRINUSE) and
 *   new alignment -> EADDRINUSE; a      iopt_table_enforce_dev_resv_regions
 *   reserved range intersecting an area / iopt_reserve_iova (intersects an
 *   or an allowed range -> EADDRINUSE.  area or an allowed range ->
 *   All or nothing. While attached, the EADDRINUSE).
 *   IOAS cannot be destroyed (EBUSY).
 *
 * Deliberate differences (the sim cannot or need not do these):
 * - RLIMIT_MODE SET: the kernel first needs CAP_SYS_RESOURCE (EPERM); the
 *   sim behaves as a daemon that kept it.
 * - A device bind and attach in the kernel also create objects (device,
 *   hw_pagetable) that take ids; the sim's create none (ids never leave the
 *   daemon, and the conformance transcript names objects by letter). A
 *   bound sim device gets an id above the object id space (SIM_DEVICE_ID_
 *   BASE), which only GET_HW_INFO and HWPT_ALLOC take (sim-hwpt.c; the
 *   HWPTs themselves are objects and take ids like IOASes).
 * - Nothing is pinned: with a device attached the kernel pins on MAP and can
 *   fail with EFAULT/ENOMEM (bad VA, rlimit); the sim cannot. Without a device
 *   the kernel does not pin either, so this only matters after an attach.
 * - map_file: the sim checks only that fd is open (EBADF), not what it is.
 * - No in-kernel accesses (mdev), so no EBUSY/EDEADLOCK from them in UNMAP.
 * - Argument checks that live in the ioctl layer (size, __reserved) have no
 *   inputs here.
 *
 * Version notes (kernels that differ from what the sim does):
 * - Before the stable fix "iommufd: Protect against overflow of ALIGN()
 *   during iova allocation" (8f6887349b2f, 6.11; in 6.10.y/6.6.y stable) the
 *   automatic alignment was not capped at all (neither at HPAGE_SIZE nor, on
 *   kernels without THP, at PAGE_SIZE).
 * - Before "iommufd: Prevent ALIGN() overflow" (b42497e3c0e7, 2025; stable) a
 *   hole was accepted when its aligned start EQUALS the hole's last byte
 *   (only matters for length 1) and ALIGN could wrap near UINT64_MAX.
 * - 6.12 has no IOMMU_IOAS_MAP_FILE (ENOTTY); and its iopt_alloc_pages checks
 *   "length > SIZE_MAX - PAGE_SIZE" (EINVAL) before "va + length overflows"
 *   (EOVERFLOW); newer ones check the overflow first. Only lengths within one
 *   page of UINT64_MAX can tell.
 * - Since late 2025 iopt_unmap_iova_range returns 0 when nothing is mapped;
 *   iommufd_ioas_unmap turns "0 bytes" into ENOENT itself, so the ioctl
 *   result is unchanged. Newer kernels also have area "locks" (EBUSY).
 */
#include <errno.h>
#include <fcntl.h>
#include "iommu/args.h"
#include "iommu/sim-internal.h"

/* ------------------------------------------------------------ ops */


void sim_close(struct backend *b)
{
	struct sim *s;
	struct sim_ioas *io, *next;

	if (!b)
		return;
	s = to_sim(b);
	sim_pasids_free(s);
	sim_hwpts_free(s);
	sim_faults_free(s);
	RB_FOREACH_SAFE(io, sim_ioas_tree, &s->objects, next) {
		RB_REMOVE(sim_ioas_tree, &s->objects, io);
		sim_ioas_free(io);
	}
	sim_bindings_put(s);
	free(s);
}

int sim_ioas_alloc(struct backend *b, uint32_t *ret_id)
{
	struct sim *s = to_sim(b);
	struct sim_ioas *io;
	uint32_t id;
	int r;

	r = sim_alloc_id(s, &id);
	if (r < 0)
		return r;
	io = calloc(1, sizeof(*io));
	if (!io)
		return -ENOMEM;
	io->id = id;
	RB_INIT(&io->areas);
	LIST_INIT(&io->domains);
	io->iova_alignment = 1; /* iopt_init_table */
	io->domain_alignment = 1;
	io->m = &s->model;
	RB_INSERT(sim_ioas_tree, &s->objects, io);
	s->n_objects++;
	*ret_id = id;
	return 0;
}

int sim_destroy(struct backend *b, uint32_t id)
{
	struct sim *s = to_sim(b);
	struct sim_ioas *io = sim_get_ioas(s, id);
	struct sim_fault *f;
	struct sim_hwpt *h;

	if (!io) {
		h = sim_get_hwpt(s, id);
		if (h)
			return sim_hwpt_destroy(s, h);
		f = sim_get_fault(s, id);
		return f ? sim_fault_destroy(s, f) : -ENOENT;
	}
	if (io->n_domains)
		return -EBUSY;
	RB_REMOVE(sim_ioas_tree, &s->objects, io);
	s->n_objects--;
	sim_ioas_free(io);
	return 0;
}

int sim_iova_ranges(struct backend *b, uint32_t ioas,
		    struct backend_iova_range *ranges, uint32_t *num,
		    uint64_t *ret_alignment)
{
	struct sim_ioas *io = sim_get_ioas(to_sim(b), ioas);
	uint32_t room = *num, count = 0, pass;

	if (!io)
		return -ENOENT;

	/* Pass 0 counts; pass 1 fills (only when everything fits). */
	for (pass = 0; pass < 2; pass++) {
		uint64_t cur = 0;
		bool end = false;

		count = 0;
		for (size_t i = 0; i < io->n_reserved && !end; i++) {
			const struct backend_iova_range *rv = &io->reserved[i];

			if (rv->last < cur)
				continue;
			if (rv->start > cur) {
				if (pass)
					ranges[count] = (struct backend_iova_range){
						.start = cur, .last = rv->start - 1
					};
				count++;
			}
			if (rv->last == UINT64_MAX)
				end = true;
			else
				cur = max_u64(cur, rv->last + 1);
		}
		if (!end) {
			if (pass)
				ranges[count] = (struct backend_iova_range){
					.start = cur, .last = UINT64_MAX
				};
			count++;
		}
		if (count > room) {
			*num = count;
			return -EMSGSIZE;
		}
	}
	*num = count;
	if (ret_alignment)
		*ret_alignment = io->iova_alignment;
	return 0;
}

static int range_start_cmp(const void *x, const void *y)
{
	const struct backend_iova_range *a = x, *b = y;

	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return a->last < b->last ? -1 : a->last > b->last;
}

int sim_allow_iovas(struct backend *b, uint32_t ioas,
		    const struct backend_iova_range *ranges,
		    uint32_t num)
{
	struct sim_ioas *io = sim_get_ioas(to_sim(b), ioas);
	_cleanup_free_ struct backend_iova_range *sorted = NULL;

	if (!io)
		return -ENOENT;

	/* iommufd_ioas_load_iovas: both refusals are EINVAL, order is moot */
	for (uint32_t i = 0; i < num; i++)
		if (ranges[i].start >= ranges[i].last)
			return -EINVAL;
	if (num) {
		sorted = calloc(num, sizeof(*sorted));
		if (!sorted)
			return -ENOMEM;
		memcpy(sorted, ranges, num * sizeof(*sorted));
		qsort(sorted, num, sizeof(*sorted), range_start_cmp);
		for (uint32_t i = 1; i < num; i++)
			if (sorted[i].start <= sorted[i - 1].last)
				return -EINVAL;
	}

	/* iopt_set_allow_iova */
	for (uint32_t i = 0; i < num; i++)
		if (ranges_intersect(io->reserved, io->n_reserved,
				     sorted[i].start, sorted[i].last))
			return -EADDRINUSE;

	free(io->allowed);
	io->allowed = TAKE_PTR(sorted);
	io->n_allowed = num;
	return 0;
}

int sim_map_user(struct backend *b, uint32_t ioas, uint32_t flags,
		 void *va, uint64_t length, uint64_t *iova)
{
	struct sim_ioas *io;
	struct sim_piece piece;
	uint64_t uptr = (uint64_t)(uintptr_t)va, end;
	int r;

	r = iommu_args_map(flags, *iova, length, NULL);
	if (r < 0)
		return r;
	io = sim_get_ioas(to_sim(b), ioas);
	if (!io)
		return -ENOENT;

	/* iopt_alloc_user_pages / iopt_alloc_pages */
	if (add_overflow(uptr, length, &end))
		return -EOVERFLOW;
	if (length > SIZE_MAX - to_sim(b)->model.page_size || length == 0)
		return -EINVAL;

	piece = (struct sim_piece){
		.addr = uptr,
		.length = length,
		.pages_writable = flags & BACKEND_MAP_WRITEABLE,
	};
	return sim_map_pieces(io, &piece, 1, length, flags, iova);
}

int sim_map_file(struct backend *b, uint32_t ioas, uint32_t flags,
		 int fd, uint64_t start, uint64_t length,
		 uint64_t *iova)
{
	struct sim_ioas *io;
	struct sim_piece piece;
	uint64_t end;
	int r;

	if (!b->has_map_file)
		return -EOPNOTSUPP;
	r = iommu_args_map(flags, *iova, length, NULL);
	if (r < 0)
		return r;
	io = sim_get_ioas(to_sim(b), ioas);
	if (!io)
		return -ENOENT;
	/* fget; a caller that holds its fds open is taken at its word
	 * (backend_sim_set_fds_held). */
	if (fd < 0 || (!to_sim(b)->fds_held && fcntl(fd, F_GETFD) < 0))
		return -EBADF;

	/* iopt_alloc_file_pages / iopt_alloc_pages */
	if (length && add_overflow(start, length - 1, &end))
		return -EOVERFLOW;
	if (length > SIZE_MAX - to_sim(b)->model.page_size || length == 0)
		return -EINVAL;

	piece = (struct sim_piece){
		.addr = start,
		.length = length,
		.pages_writable = flags & BACKEND_MAP_WRITEABLE,
	};
	return sim_map_pieces(io, &piece, 1, length, flags, iova);
}

/* iopt_get_pages: the contiguous pieces covering [iova, iova + length). */
static int sim_get_pieces(struct sim_ioas *io, uint64_t iova, uint64_t length,
			  struct sim_piece **ret_pieces, size_t *ret_n)
{
	_cleanup_free_ struct sim_piece *pieces = NULL;
	struct sim_area *a, *first;
	uint64_t last, cur;
	size_t n = 0, i = 0;

	if (!length)
		return -EINVAL;
	if (add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;

	/* iopt_area_contig_init / _next: each area must start at cur */
	first = sim_area_first(io, iova, iova);
	cur = iova;
	for (a = first; a; a = RB_NEXT(sim_area_tree, &io->areas, a)) {
		if (a->iova > cur && a != first)
			return -ENOENT;
		n++;
		if (a->last >= last)
			break;
		cur = a->last + 1;
	}
	if (!a)
		return -ENOENT;

	pieces = calloc(n, sizeof(*pieces));
	if (!pieces)
		return -ENOMEM;
	cur = iova;
	for (a = first; i < n; a = RB_NEXT(sim_area_tree, &io->areas, a), i++) {
		uint64_t piece_last = min_u64(last, a->last);

		pieces[i] = (struct sim_piece){
			.addr = a->addr + (cur - a->iova),
			.length = piece_last - cur + 1,
			.pages_writable = a->pages_writable,
		};
		cur = piece_last + 1;
	}
	*ret_pieces = TAKE_PTR(pieces);
	*ret_n = n;
	return 0;
}

int sim_copy(struct backend *b, uint32_t dst_ioas, uint32_t src_ioas,
	     uint32_t flags, uint64_t src_iova, uint64_t length,
	     uint64_t *dst_iova)
{
	struct sim *s = to_sim(b);
	_cleanup_free_ struct sim_piece *pieces = NULL;
	struct sim_ioas *src, *dst;
	size_t n = 0;
	int r;

	r = iommu_args_copy(flags, src_iova, *dst_iova, length, NULL);
	if (r < 0)
		return r;

	src = sim_get_ioas(s, src_ioas);
	if (!src)
		return -ENOENT;
	r = sim_get_pieces(src, src_iova, length, &pieces, &n);
	if (r < 0)
		return r;

	dst = sim_get_ioas(s, dst_ioas);
	if (!dst)
		return -ENOENT;
	return sim_map_pieces(dst, pieces, n, length, flags, dst_iova);
}

/* iopt_unmap_iova_range */
static int sim_unmap_range(struct sim_ioas *io, uint64_t first, uint64_t last,
			   uint64_t *ret_unmapped)
{
	uint64_t unmapped = 0;
	struct sim_area *a;
	int r = 0;

	while ((a = sim_area_first(io, first, last))) {
		if (a->iova < first || a->last > last) {
			r = -ENOENT;
			break;
		}
		unmapped += a->last - a->iova + 1;
		RB_REMOVE(sim_area_tree, &io->areas, a);
		free(a);
	}
	*ret_unmapped = unmapped;
	return r;
}

int sim_unmap(struct backend *b, uint32_t ioas, uint64_t iova,
	      uint64_t length, uint64_t *ret_unmapped)
{
	struct sim_ioas *io = sim_get_ioas(to_sim(b), ioas);
	uint64_t unmapped, last;
	int r;

	if (!io)
		return -ENOENT;

	if (iova == 0 && length == UINT64_MAX) {
		/* iopt_unmap_all: empty is success */
		r = sim_unmap_range(io, 0, UINT64_MAX, &unmapped);
		if (r < 0)
			return r;
	} else {
		r = iommu_args_unmap(iova, length, &last, NULL);
		if (r < 0)
			return r;
		r = sim_unmap_range(io, iova, last, &unmapped);
		if (r < 0)
			return r;
		if (!unmapped)
			return -ENOENT;
	}
	if (ret_unmapped)
		*ret_unmapped = unmapped;
	return 0;
}

static int sim_option_rlimit_mode(struct sim *s, uint32_t op,
				  uint32_t object_id, uint64_t *val)
{
	if (object_id)
		return -EOPNOTSUPP;
	if (op == BACKEND_OPTION_OP_GET) {
		*val = s->account_mode == SIM_ACCOUNT_MM;
		return 0;
	}
	if (op == BACKEND_OPTION_OP_SET) {
		/* the kernel checks CAP_SYS_RESOURCE (EPERM) first */
		if (s->n_objects)
			return -EBUSY;
		if (*val == 0)
			s->account_mode = SIM_ACCOUNT_USER;
		else if (*val == 1)
			s->account_mode = SIM_ACCOUNT_MM;
		else
			return -EINVAL;
		return 0;
	}
	return -EOPNOTSUPP;
}

static int sim_option_huge_pages(struct sim *s, uint32_t op,
				 uint32_t object_id, uint64_t *val)
{
	struct sim_ioas *io = sim_get_ioas(s, object_id);
	int r;

	if (!io)
		return -ENOENT;
	if (op == BACKEND_OPTION_OP_GET) {
		*val = !io->disable_large_pages;
		return 0;
	}
	if (op != BACKEND_OPTION_OP_SET)
		return -EOPNOTSUPP;

	if (*val == 0) {
		/* iopt_disable_large_pages */
		if (io->disable_large_pages)
			return 0;
		if (io->n_domains && !RB_EMPTY(&io->areas))
			return -EINVAL;
		io->disable_large_pages = true;
		r = sim_recalc_alignment(io);
		if (r < 0)
			io->disable_large_pages = false;
		return r;
	}
	if (*val == 1) {
		/* iopt_enable_large_pages: lowering never fails */
		io->disable_large_pages = false;
		return sim_recalc_alignment(io);
	}
	return -EINVAL;
}

int sim_option(struct backend *b, uint32_t op, uint32_t option_id,
	       uint32_t object_id, uint64_t *val)
{
	struct sim *s = to_sim(b);

	switch (option_id) {
	case BACKEND_OPTION_RLIMIT_MODE:
		return sim_option_rlimit_mode(s, op, object_id, val);
	case BACKEND_OPTION_HUGE_PAGES:
		return sim_option_huge_pages(s, op, object_id, val);
	default:
		return -EOPNOTSUPP;
	}
}

/* Rebuild the IOAS's merged reserved list and domain alignment from its
 * domains (after a detach: iopt_table_remove_domain, iopt_remove_reserved_iova). */
static int sim_domains_rebuild(struct sim_ioas *io)
{
	struct backend_iova_range *merged = NULL;
	struct sim_domain *d;
	size_t total = 0, at = 0;

	LIST_FOREACH(d, &io->domains, link)
		total += d->n_reserved;
	if (total) {
		merged = calloc(total, sizeof(*merged));
		if (!merged)
			return -ENOMEM;
		LIST_FOREACH(d, &io->domains, link) {
			if (d->n_reserved)
				memcpy(merged + at, d->reserved,
				       d->n_reserved * sizeof(*merged));
			at += d->n_reserved;
		}
		qsort(merged, total, sizeof(*merged), range_start_cmp);
	}
	free(io->reserved);
	io->reserved = merged;
	io->n_reserved = total;
	io->n_domains = 0;
	io->domain_alignment = 1;
	LIST_FOREACH(d, &io->domains, link) {
		io->n_domains++;
		io->domain_alignment = max_u64(io->domain_alignment, d->alignment);
	}
	return 0;
}

/* iopt_table_add_domain + iopt_table_enforce_dev_resv_regions, all or nothing. */
int sim_domain_add(struct sim_ioas *io, const void *owner,
		   const struct backend_iova_range *reserved,
		   uint32_t num, uint64_t alignment)
{
	struct sim_domain *d;
	uint64_t new_align;
	int r;

	if (alignment == 0)
		alignment = 1;
	if (alignment & (alignment - 1))
		return -EINVAL; /* 1 << __ffs(pgsize_bitmap) is a power of 2 */

	new_align = max_u64(alignment, io->iova_alignment);
	if (new_align > io->m->page_size)
		return -EINVAL;
	if (new_align != io->iova_alignment) {
		r = sim_check_alignment(io, new_align);
		if (r < 0)
			return r;
	}
	for (uint32_t i = 0; i < num; i++) {
		if (reserved[i].start > reserved[i].last)
			return -EINVAL;
		if (sim_area_first(io, reserved[i].start, reserved[i].last) ||
		    ranges_intersect(io->allowed, io->n_allowed,
				     reserved[i].start, reserved[i].last))
			return -EADDRINUSE;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	if (num) {
		d->reserved = calloc(num, sizeof(*d->reserved));
		if (!d->reserved) {
			free(d);
			return -ENOMEM;
		}
		memcpy(d->reserved, reserved, num * sizeof(*reserved));
	}
	d->n_reserved = num;
	d->owner = owner;
	d->alignment = alignment;
	LIST_INSERT_HEAD(&io->domains, d, link);
	r = sim_domains_rebuild(io);
	if (r < 0) {
		LIST_REMOVE(d, link);
		free(d->reserved);
		free(d);
		return r;
	}
	io->iova_alignment = new_align;
	return 0;
}

/* Lowering the alignment never fails (iopt_calculate_iova_alignment). */
void sim_domain_remove(struct sim_ioas *io, const void *owner)
{
	struct sim_domain *d;

	LIST_FOREACH(d, &io->domains, link)
		if (d->owner == owner)
			break;
	if (!d)
		return;
	LIST_REMOVE(d, link);
	free(d->reserved);
	free(d);
	if (sim_domains_rebuild(io) < 0) {
		/* Out of memory merging what is left: keep the old merged list
		 * (a superset), which only refuses more than the kernel would. */
		return;
	}
	(void)sim_recalc_alignment(io);
}
