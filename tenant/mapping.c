/* SPDX-License-Identifier: MIT */
/*
 * Map, unmap and copy: the kernel's argument order, the policy and quota
 * checks, the backend call, the mirror of every mapping (the only writer of
 * the usage counters) and its rollback; the consistency walker
 * (tenant_check) the tests and fuzzers use.
 */
#include "iommu/args.h"
#include "tenant/tenant-internal.h"

/* ------------------------------------------------------------ mappings */

/*
 * Test builds with mock domains: ask the kernel whether the IOAS's mock
 * domain translates [iova, +length) to exactly the pages of the memory the
 * daemon mapped there (IOMMU_TEST_OP_MD_CHECK_MAP, against the daemon's own
 * mmap of that memory). -EIO, logged, when it does not.
 */
static int test_check_mapping(struct tenant *t, struct ioas_obj *o,
			      uint64_t iova, uint64_t length,
			      const struct mem_obj *mem, uint64_t mem_offset)
{
	const struct memory_region *rg = mem->region;
	uint64_t page = 4096, file_off = rg->offset + mem_offset;
	uint64_t skew = file_off % page;
	void *va = NULL;
	int r;

	if (!t->set->test_mock_domains || !o->mock_hwpt)
		return 0;
	if (rg->va) {
		r = backend_kernel_test_check_map(t->backend, o->mock_hwpt, iova,
						  length, (char *)rg->va + mem_offset);
	} else {
		va = mmap(NULL, length + skew, PROT_READ, MAP_SHARED, rg->fd,
			  (off_t)(file_off - skew));
		if (va == MAP_FAILED)
			return -errno;
		r = backend_kernel_test_check_map(t->backend, o->mock_hwpt, iova,
						  length, (char *)va + skew);
		munmap(va, length + skew);
	}
	if (r < 0) {
		log_err("test hook: IOMMU_TEST_OP_MD_CHECK_MAP of [0x%" PRIx64
			", +0x%" PRIx64 ") in IOAS %" PRIu32 " of tenant %s: %s",
			iova, length, o->handle, t->name, strerror(-r));
		return -EIO;
	}
	log_debug("test hook: MD_CHECK_MAP [0x%" PRIx64 ", +0x%" PRIx64
		  ") in IOAS %" PRIu32 ": the mock domain maps the registered pages",
		  iova, length, o->handle);
	return 0;
}

static int tracking_error(struct err *e, int r, const char *what)
{
	if (r == -EIO)
		return err_set(e, EIO,
			       "test hook: the kernel's mock domain does not translate the new %s "
			       "to its memory (IOMMU_TEST_OP_MD_CHECK_MAP; see the daemon's log); undone",
			       what);
	return err_set(e, ENOMEM, "out of memory tracking the %s", what);
}

/*
 * Record a mapping the backend made (what: "mapping", "copy", ... for the
 * reason). -EPERM for a new one outside AllowedIOVA; a restored one there is
 * kept and counted as outside the policy instead (it was made before the
 * policy narrowed). -ENOMEM, or -EIO from the test hook's check. e says why;
 * nothing is recorded on failure: the caller undoes the backend's mapping.
 */
int mapping_add(struct tenant *t, struct ioas_obj *o, uint64_t iova,
		uint64_t length, struct mem_obj *mem,
		uint64_t mem_offset, uint32_t flags,
		struct tenant_import *imp, bool restored, const char *what,
		struct err *e)
{
	bool outside = !iova_in_policy(t, iova, length);
	struct mapping *m;
	int64_t added;
	int r;

	if (outside && !restored)
		return iova_refused(t, iova, length, e);
	r = test_check_mapping(t, o, iova, length, mem, mem_offset);
	if (r < 0)
		return tracking_error(e, r, what);
	m = calloc(1, sizeof(*m));
	if (!m)
		return tracking_error(e, -ENOMEM, what);
	added = pin_add(&mem->pins, mem_offset, mem_offset + length);
	if (added < 0) {
		free(m);
		return tracking_error(e, (int)added, what);
	}
	m->iova = iova;
	m->length = length;
	m->mem = mem;
	m->mem_offset = mem_offset;
	m->flags = flags;
	m->imp = imp;
	m->outside_policy = outside;
	if (outside)
		t->usage.mappings_outside_policy++;
	if (imp)
		imp->npieces++;
	RB_INSERT(mapping_tree, &o->mappings, m);
	o->nmappings++;
	mem->nmappings++;
	mem->pinned += (uint64_t)added;
	t->usage.mappings++;
	t->usage.mapped_bytes += length;
	mem->owner->usage.pinned_bytes += (uint64_t)added;
	t->set->totals.mappings++;
	t->set->totals.pinned_bytes += (uint64_t)added;
	if (!restored)
		journal_mapping(t, o, m, false);
	return 0;
}

/* Map [offset, +length) of a memory region: by fd where the kernel can
 * (MAP_FILE), else from the daemon's mmap of it. */
int mem_map(struct backend *b, uint32_t ioas_id, uint32_t flags,
	    const struct mem_obj *mem, uint64_t offset, uint64_t length,
	    uint64_t *iova)
{
	if (b->has_map_file)
		return backend_map_file(b, ioas_id, flags, mem->region->fd,
					mem->region->offset + offset, length,
					iova);
	return backend_map_user(b, ioas_id, flags,
				(char *)mem->region->va + offset, length, iova);
}

/* The kernel's argument checks (iommu/args.c) as a refusal with reason. */
static int args_refused(struct err *e, int r, const char *why, uint32_t flags)
{
	return err_set(e, -r, "%s (flags 0x%" PRIx32 ")", why, flags);
}

/* Access= and AllowedIOVA= for a new mapping at [iova, iova + length). */
int check_map_policy(struct tenant *t, uint32_t flags, uint64_t iova,
		     uint64_t length, struct err *e)
{
	char why[400];
	uint64_t last;
	int r;

	r = check_not_orphaned(t, e);
	if (r < 0)
		return r;
	if (!t->pt)
		return 0;
	if ((flags & BACKEND_MAP_WRITEABLE) && t->pt->access == POLICY_ACCESS_READ)
		return err_set(e, EPERM,
			       "writeable mappings are not allowed: Access=read%s",
			       cite(t, POLICY_KEY_ACCESS, why, sizeof(why)));
	/* The kernel applies ALLOW_IOVAS to the IOVAs it picks, not to fixed
	 * ones: the daemon is what keeps a tenant inside its ranges. A fixed
	 * range that wraps past UINT64_MAX is no range: the kernel refuses it
	 * (EOVERFLOW, or EINVAL for an alignment it checks first) and maps
	 * nothing, so it goes on to the kernel for that errno. */
	if ((flags & BACKEND_MAP_FIXED_IOVA) && !add_overflow(iova, length - 1, &last) &&
	    !iova_in_policy(t, iova, length))
		return iova_refused(t, iova, length, e);
	return 0;
}

int tenant_map(struct tenant *t, uint32_t ioas, uint32_t memory,
	       uint64_t offset, uint64_t length, uint32_t flags,
	       uint64_t *iova, struct err *e)
{
	struct ioas_obj *o;
	struct mem_obj *mem;
	uint64_t end, newly, out = *iova;
	const char *why_args;
	char why[400];
	int r;

	/* The kernel's order (iommufd_ioas_map): its argument checks, then
	 * the object. Ours is the same so that the errno is. */
	r = iommu_args_map(flags, *iova, length, &why_args);
	if (r < 0)
		return args_refused(e, r, why_args, flags);
	o = ioas_get(t, ioas, e);
	if (!o)
		return -ENOENT;
	mem = mem_get(t, memory, e);
	if (!mem)
		return -ENOENT;
	if (length == 0)
		return err_set(e, EINVAL, "map length is 0");
	r = check_map_policy(t, flags, *iova, length, e);
	if (r < 0)
		return r;
	if (add_overflow(offset, length, &end))
		return err_set(e, EOVERFLOW,
			       "offset 0x%" PRIx64 " + length 0x%" PRIx64
			       " overflows",
			       offset, length);
	if (end > mem->region->length)
		return err_set(e, EINVAL,
			       "range [0x%" PRIx64 ", 0x%" PRIx64
			       ") exceeds memory region %" PRIu32
			       " of 0x%" PRIx64 " bytes",
			       offset, end, memory, mem->region->length);
	if ((flags & BACKEND_MAP_WRITEABLE) && !mem->region->writable)
		return err_set(e, EPERM,
			       "memory region %" PRIu32
			       " is read-only (opened O_RDONLY or sealed against writes); "
			       "map it without write access",
			       memory);
	if (t->usage.mappings >= t->limits.max_mappings)
		return err_set(e, ENOSPC,
			       "mapping limit reached: %" PRIu32 " of %" PRIu32
			       " in use%s",
			       t->usage.mappings, t->limits.max_mappings,
			       cite(t, POLICY_KEY_MAX_MAPPINGS, why, sizeof(why)));
	newly = pin_uncovered(&mem->pins, offset, end);
	if (t->usage.pinned_bytes + newly > t->limits.max_pinned_bytes)
		return err_set(e, EDQUOT,
			       "pinned-bytes limit: 0x%" PRIx64
			       " pinned + 0x%" PRIx64 " new > 0x%" PRIx64 "%s",
			       t->usage.pinned_bytes, newly,
			       t->limits.max_pinned_bytes,
			       cite(t, POLICY_KEY_MAX_PINNED_BYTES, why, sizeof(why)));

	r = mem_map(t->backend, o->id, flags, mem, offset, length, &out);
	if (r < 0)
		return err_errno(e, r, "%s refused",
				 t->backend->has_map_file ?
					 "IOMMU_IOAS_MAP_FILE" :
					 "IOMMU_IOAS_MAP");
	r = mapping_add(t, o, out, length, mem, offset, flags, NULL, false, "mapping", e);
	if (r < 0) {
		uint64_t unmapped;

		/* Do not leave a mapping we cannot account for. */
		(void)backend_unmap(t->backend, o->id, out, length, &unmapped);
		return r;
	}
	*iova = out;
	return 0;
}

int tenant_unmap(struct tenant *t, uint32_t ioas, uint64_t iova,
		 uint64_t length, uint64_t *ret_unmapped, struct err *e)
{
	struct ioas_obj *o = ioas_get(t, ioas, e);
	struct mapping *m, *next;
	uint64_t last = 0, unmapped = 0, expect = 0;
	bool all = iova == 0 && length == UINT64_MAX;
	bool ranged;
	int r;

	if (!o)
		return -ENOENT;
	/*
	 * The kernel's order (iommufd_ioas_unmap, iopt_unmap_iova): the IOAS,
	 * then, unless this is "unmap all", iova or length UINT64_MAX
	 * (EOVERFLOW), length 0 (EINVAL), a range that wraps (EOVERFLOW),
	 * and only then the areas. Such a request unmaps nothing: it goes to
	 * the backend for the kernel's errno, past the check on areas below.
	 */
	ranged = !all && iommu_args_unmap(iova, length, &last, NULL) == 0;
	if (ranged) {
		/*
		 * The kernel unmaps whole areas in ascending order and fails
		 * with ENOENT at the first one that sticks out of the range,
		 * keeping the ones it already removed. Refuse up front with
		 * the same errno so that a refused unmap changes nothing.
		 */
		m = mapping_first_overlap(o, iova, last);
		if (!m)
			return err_set(e, ENOENT,
				       "nothing is mapped in [0x%" PRIx64
				       ", 0x%" PRIx64 "]",
				       iova, last);
		for (; m && m->iova <= last;
		     m = RB_NEXT(mapping_tree, &o->mappings, m)) {
			if (m->iova < iova || m->iova + (m->length - 1) > last)
				return err_set(e, ENOENT,
					       "unmap of [0x%" PRIx64
					       ", 0x%" PRIx64
					       "] would split the mapping [0x%" PRIx64
					       ", 0x%" PRIx64 "]",
					       iova, last, m->iova,
					       m->iova + (m->length - 1));
			/* An import is one unit for its importer: all of
			 * it or none of it (its pieces are the kernel's). */
			if (m->imp && (m->imp->iova < iova ||
				       m->imp->iova + (m->imp->length - 1) > last))
				return err_set(e, ENOENT,
					       "unmap of [0x%" PRIx64 ", 0x%" PRIx64
					       "] would split import %" PRIu32
					       " at [0x%" PRIx64 ", +0x%" PRIx64 ")",
					       iova, last, m->imp->handle,
					       m->imp->iova, m->imp->length);
		}
	}
	if (ranged)
		for (m = mapping_first_overlap(o, iova, last);
		     m && m->iova <= last;
		     m = RB_NEXT(mapping_tree, &o->mappings, m))
			expect += m->length;
	r = backend_unmap(t->backend, o->id, iova, length, &unmapped);
	if (r < 0)
		return err_errno(e, r, "IOMMU_IOAS_UNMAP refused");
	if (all) {
		/* One journal event for all of them. */
		o->quiet = true;
		for (m = RB_MIN(mapping_tree, &o->mappings); m; m = next) {
			next = RB_NEXT(mapping_tree, &o->mappings, m);
			expect += m->length;
			mapping_release(t, o, m);
		}
		o->quiet = false;
		journal_ioas_emptied(t, o);
	} else {
		for (m = mapping_first_overlap(o, iova, last);
		     m && m->iova <= last; m = next) {
			next = RB_NEXT(mapping_tree, &o->mappings, m);
			mapping_release(t, o, m);
		}
	}
	if (unmapped != expect)
		fprintf(stderr,
			"ioasd: BUG: tenant %s IOAS %" PRIu32
			": backend unmapped 0x%" PRIx64 " bytes, tables had 0x%" PRIx64 "\n",
			t->name, ioas, unmapped, expect);
	/* Only an unmap that happened revokes: shares whose source lost
	 * pages go now, so no importer keeps a mapping of memory its
	 * exporter no longer maps (the pages stay pinned by the importer's
	 * own mapping until then: nothing is freed under a device). A
	 * refused unmap (length 0, a wrap, a split, the kernel's refusal)
	 * changed nothing and revokes nothing. */
	revoke_shares_in(t, o, all ? 0 : iova, all ? UINT64_MAX : last,
			 "source-unmapped");
	*ret_unmapped = unmapped;
	return 0;
}

int tenant_copy(struct tenant *t, uint32_t src_ioas, uint64_t src_iova,
		uint64_t length, uint32_t dst_ioas, uint32_t flags,
		uint64_t *dst_iova, struct err *e)
{
	struct ioas_obj *src, *dst;
	struct mapping *m;
	const char *why_args;
	char why[400];
	uint64_t last, pos, out = *dst_iova;
	uint32_t pieces = 0;
	int r;

	/* The kernel's order (iommufd_ioas_copy): flags, overflow, access
	 * bits, source IOAS, the source range (length, wrap, holes),
	 * destination IOAS; then the daemon's own rules (imports, policy,
	 * limits) before the kernel maps. */
	r = iommu_args_copy(flags, src_iova, *dst_iova, length, &why_args);
	if (r < 0)
		return args_refused(e, r, why_args, flags);
	src = ioas_get(t, src_ioas, e);
	if (!src)
		return -ENOENT;
	if (length == 0)
		return err_set(e, EINVAL, "copy length is 0");
	if (add_overflow(src_iova, length - 1, &last))
		return err_set(e, EOVERFLOW,
			       "source iova 0x%" PRIx64 " + length 0x%" PRIx64
			       " overflows",
			       src_iova, length);
	/* The source range must be covered by mappings without a hole. */
	pos = src_iova;
	for (m = mapping_first_overlap(src, src_iova, last);
	     m && m->iova <= last; m = RB_NEXT(mapping_tree, &src->mappings, m)) {
		if (m->iova > pos)
			break;
		pieces++;
		pos = m->iova + (m->length - 1);
		if (pos >= last)
			break;
		pos++;
	}
	if (pieces == 0 || pos < last)
		return err_set(e, ENOENT,
			       "source range [0x%" PRIx64 ", 0x%" PRIx64
			       "] of IOAS %" PRIu32 " is not fully mapped",
			       src_iova, last, src_ioas);
	dst = ioas_get(t, dst_ioas, e);
	if (!dst)
		return -ENOENT;
	r = check_no_imports(src, src_iova, last, "copied", e);
	if (r < 0)
		return r;
	r = check_map_policy(t, flags, *dst_iova, length, e);
	if (r < 0)
		return r;
	if (t->usage.mappings + pieces > t->limits.max_mappings)
		return err_set(e, ENOSPC,
			       "mapping limit: %" PRIu32 " in use + %" PRIu32
			       " new > %" PRIu32 "%s",
			       t->usage.mappings, pieces, t->limits.max_mappings,
			       cite(t, POLICY_KEY_MAX_MAPPINGS, why, sizeof(why)));

	r = backend_copy(t->backend, dst->id, src->id, flags, src_iova, length,
			 &out);
	if (r < 0)
		return err_errno(e, r, "IOMMU_IOAS_COPY refused");

	/* The kernel creates one area in dst per source area piece. */
	for (m = mapping_first_overlap(src, src_iova, last);
	     m && m->iova <= last; m = RB_NEXT(mapping_tree, &src->mappings, m)) {
		uint64_t a, n;

		mapping_clip(m, src_iova, last, &a, &n);
		r = mapping_add(t, dst, out + (a - src_iova), n, m->mem,
				m->mem_offset + (a - m->iova), flags, NULL, false, "copy", e);
		if (r < 0) {
			/* Undo the whole copy; drop what we recorded of it. */
			range_unmap_release(t, dst, out, length);
			return r;
		}
	}
	*dst_iova = out;
	return 0;
}

int tenant_option(struct tenant *t, uint32_t op, uint32_t option_id,
		  uint32_t ioas, uint64_t *val, struct err *e)
{
	struct ioas_obj *o;
	int r;

	/* The kernel's order (iommufd_option): the option id; for
	 * HUGE_PAGES the IOAS, then the op (iommufd_ioas_option). */
	if (option_id == BACKEND_OPTION_RLIMIT_MODE) {
		if (op != BACKEND_OPTION_OP_SET && op != BACKEND_OPTION_OP_GET)
			return err_set(e, EOPNOTSUPP, "unknown option op %" PRIu32, op);
		return err_set(e, EPERM,
			       "IOMMU_OPTION_RLIMIT_MODE is the daemon's own setting, not a tenant's");
	}
	if (option_id != BACKEND_OPTION_HUGE_PAGES)
		return err_set(e, EOPNOTSUPP, "unknown option %" PRIu32,
			       option_id);
	o = ioas_get(t, ioas, e);
	if (!o)
		return -ENOENT;
	if (op != BACKEND_OPTION_OP_SET && op != BACKEND_OPTION_OP_GET)
		return err_set(e, EOPNOTSUPP, "unknown option op %" PRIu32, op);
	if (op == BACKEND_OPTION_OP_SET && *val == 1 && t->pt &&
	    !t->pt->huge_pages) {
		char why[400];

		return err_set(e, EPERM, "huge pages are off for this tenant: HugePages=no%s",
			       cite(t, POLICY_KEY_HUGE_PAGES, why, sizeof(why)));
	}
	if (op == BACKEND_OPTION_OP_SET) {
		int r2 = check_not_orphaned(t, e);

		if (r2 < 0)
			return r2;
	}
	r = backend_option(t->backend, op, option_id, o->id, val);
	if (r < 0)
		return err_errno(e, r, "IOMMU_OPTION_HUGE_PAGES %s refused",
				 op == BACKEND_OPTION_OP_SET ? "set" : "get");
	return 0;
}

/* The tenant's own mappings (not imports) cover the share without a gap,
 * as at its export; an unmap of any of it revokes it. */
bool share_covered(const struct tenant_share *s)
{
	uint64_t at = s->iova, last = s->iova + (s->length - 1);
	struct mapping *m;

	for (m = mapping_first_overlap(s->ioas, at, last); m;
	     m = RB_NEXT(mapping_tree, &s->ioas->mappings, m)) {
		if (m->iova > at || m->imp)
			return false;
		if (last - m->iova < m->length)
			return true;
		at = m->iova + m->length;
	}
	return false;
}

int tenant_check(const struct tenant *t, struct err *e)
{
	struct ioas_obj *o;
	uint64_t pinned = 0;
	uint32_t mappings = 0, outside = 0;
	struct mem_obj *mem;

	RB_FOREACH(o, ioas_tree, (struct ioas_tree *)&t->ioases) {
		struct mapping *m, *prev = NULL;
		uint32_t n = 0;

		RB_FOREACH(m, mapping_tree, &o->mappings) {
			if (m->mem_offset > m->mem->region->length ||
			    m->length > m->mem->region->length - m->mem_offset)
				return err_set(e, EIO, "IOAS %" PRIu32 ": the mapping at 0x%"
					       PRIx64 " is not inside its memory", o->handle,
					       m->iova);
			/* Another tenant's memory only through an import of it. */
			if (m->mem->owner != t &&
			    (!m->imp || m->imp->share->owner != m->mem->owner))
				return err_set(e, EIO, "IOAS %" PRIu32 ": the mapping at 0x%"
					       PRIx64 " maps memory of %s without an import of it",
					       o->handle, m->iova, m->mem->owner->name);
			if (prev && m->iova - prev->iova < prev->length)
				return err_set(e, EIO,
					       "IOAS %" PRIu32 ": mappings overlap at 0x%" PRIx64,
					       o->handle, m->iova);
			if (m->outside_policy != !iova_in_policy(t, m->iova, m->length))
				return err_set(e, EIO, "IOAS %" PRIu32 ": mapping at 0x%" PRIx64
					       " misclassified against AllowedIOVA",
					       o->handle, m->iova);
			outside += m->outside_policy;
			n++;
			prev = m;
		}
		if (n != o->nmappings)
			return err_set(e, EIO, "IOAS %" PRIu32 ": count %" PRIu32
				       " != %" PRIu32, o->handle, n, o->nmappings);
		mappings += n;
	}
	RB_FOREACH(mem, mem_tree, (struct mem_tree *)&t->mems) {
		struct pin_seg *s;
		uint64_t sum = 0;

		RB_FOREACH(s, pin_tree, &mem->pins)
			sum += s->end - s->start;
		if (sum != mem->pinned)
			return err_set(e, EIO, "memory %" PRIu32 ": pinned %" PRIu64
				       " != segments %" PRIu64, mem->handle,
				       mem->pinned, sum);
		pinned += sum;
	}
	if (mappings != t->usage.mappings || pinned != t->usage.pinned_bytes ||
	    outside != t->usage.mappings_outside_policy)
		return err_set(e, EIO, "usage counters disagree with tables");
	/* Every import has exactly its pieces, inside its range, and is
	 * listed by its share; every share's source is still mapped. */
	{
		const struct tenant_import *imp;
		const struct tenant_share *sh;

		LIST_FOREACH(imp, &t->imports, tenant_link) {
			struct mapping *m;
			uint64_t last = imp->iova + (imp->length - 1), sum = 0;
			uint32_t n = 0;

			RB_FOREACH(m, mapping_tree, &imp->ioas->mappings) {
				if (m->imp != imp)
					continue;
				if (m->iova < imp->iova || m->iova + (m->length - 1) > last)
					return err_set(e, EIO, "import %" PRIu32
						       ": a piece lies outside its range",
						       imp->handle);
				n++;
				sum += m->length;
			}
			if (n != imp->npieces || sum != imp->length)
				return err_set(e, EIO, "import %" PRIu32 ": %" PRIu32
					       " pieces of 0x%" PRIx64 " bytes, expected %" PRIu32
					       " of 0x%" PRIx64, imp->handle, n, sum,
					       imp->npieces, imp->length);
		}
		LIST_FOREACH(sh, &t->shares, link) {
			const struct tenant_import *i2;
			bool found_share = false;
			const struct tenant_share *x;

			LIST_FOREACH(x, &t->set->all_shares, all_link)
				if (x == sh)
					found_share = true;
			if (!found_share || sh->owner != t)
				return err_set(e, EIO, "share %" PRIu32 " is not registered",
					       sh->handle);
			LIST_FOREACH(i2, &sh->imports, share_link)
				if (i2->share != sh)
					return err_set(e, EIO, "share %" PRIu32
						       ": import list corrupt", sh->handle);
			if (!share_covered(sh))
				return err_set(e, EIO, "share %" PRIu32 ": source no longer "
					       "wholly mapped by the tenant's own memory",
					       sh->handle);
		}
	}
	return 0;
}
