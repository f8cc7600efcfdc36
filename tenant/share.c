/* SPDX-License-Identifier: MIT */
/*
 * Sharing: exports with their tokens, imports (COPY within a context, the
 * exporter's memory mapped across contexts), revocation and its notices.
 */
#include "tenant/tenant-internal.h"

/* ------------------------------------------------------------ sharing */

void tenant_set_revoke_hook(struct tenants *ts, tenant_revoke_fn fn, void *userdata)
{
	ts->revoke_hook = fn;
	ts->revoke_hook_data = userdata;
}

/*
 * Unmap an import's range from the importer's IOAS and drop every mapping
 * of ours inside it; then free imp, however its pieces lie. Its pieces are
 * inside its range and the last one frees it; a piece found elsewhere (a
 * restored table that did not hold together) is unmapped and dropped too,
 * and an import left without pieces is freed here: every caller's loop
 * over imports ends.
 */
void import_release(struct tenant_import *imp)
{
	struct tenant *t = imp->t;
	struct ioas_obj *o = imp->ioas;
	uint64_t last = 0, unmapped;
	struct mapping *m = NULL, *next;
	bool gone = false;

	if (imp->length && !add_overflow(imp->iova, imp->length - 1, &last)) {
		(void)backend_unmap(t->backend, o->id, imp->iova, imp->length, &unmapped);
		m = mapping_first_overlap(o, imp->iova, last);
	}
	for (; m && m->iova <= last; m = next) {
		next = RB_NEXT(mapping_tree, &o->mappings, m);
		/* imp is freed with its last piece: do not touch it after. */
		if (!gone && m->imp == imp && imp->npieces == 1)
			gone = true;
		mapping_release(t, o, m);
	}
	for (m = gone ? NULL : RB_MIN(mapping_tree, &o->mappings);
	     m && imp->npieces > 0; m = next) {
		next = RB_NEXT(mapping_tree, &o->mappings, m);
		if (m->imp != imp)
			continue;
		(void)backend_unmap(t->backend, o->id, m->iova, m->length, &unmapped);
		gone = imp->npieces == 1;
		mapping_release(t, o, m);
		if (gone)
			return;
	}
	if (!gone) {
		journal_import(imp, true);
		LIST_REMOVE(imp, share_link);
		LIST_REMOVE(imp, tenant_link);
		free(imp);
	}
}

/* Take an import away from its importer (import_release) and tell the
 * importer why. */
static void import_revoke(struct tenant_import *imp, const char *reason)
{
	struct tenant_revoke_event ev = {
		.importer = imp->t,
		.exporter = imp->share->owner->name,
		.import = imp->handle,
		.ioas = imp->ioas->handle,
		.iova = imp->iova,
		.length = imp->length,
		.reason = reason,
	};

	struct tenants *ts = imp->t->set;

	import_release(imp);
	if (ts->revoke_hook)
		ts->revoke_hook(ts->revoke_hook_data, &ev);
}

void share_free(struct tenant_share *s, const char *reason)
{
	while (!LIST_EMPTY(&s->imports))
		import_revoke(LIST_FIRST(&s->imports), reason);
	journal_share(s, true);
	LIST_REMOVE(s, link);
	LIST_REMOVE(s, all_link);
	s->owner->nshares--;
	explicit_bzero(s->token, sizeof(s->token));
	free(s);
}

static struct tenant_share *share_by_token(struct tenants *ts, const char *token)
{
	struct tenant_share *s;

	if (!token || strlen(token) != TENANT_SHARE_TOKEN_LEN)
		return NULL;
	LIST_FOREACH(s, &ts->all_shares, all_link) {
		unsigned char diff = 0;

		/* No early exit: the time taken says nothing of the token. */
		for (size_t i = 0; i < TENANT_SHARE_TOKEN_LEN; i++)
			diff |= (unsigned char)(s->token[i] ^ token[i]);
		if (diff == 0)
			return s;
	}
	return NULL;
}

int tenant_share_export(struct tenant *t, uint32_t ioas, uint64_t iova,
			uint64_t length, bool writeable, uint32_t *ret_share,
			char ret_token[TENANT_SHARE_TOKEN_LEN + 1],
			struct err *e)
{
	struct tenant_share *s;
	struct ioas_obj *o;
	struct mapping *m;
	uint64_t last, pos;
	uint8_t rnd[TENANT_SHARE_TOKEN_LEN / 2];
	char why[400];
	bool covered = false;
	ssize_t n;
	int r;

	r = check_not_orphaned(t, e);
	if (r < 0)
		return r;
	if (!t->pt || t->pt->n_export_to == 0)
		return err_set(e, EPERM,
			       "this tenant may not export: ExportTo= is empty%s",
			       cite(t, POLICY_KEY_EXPORT_TO, why, sizeof(why)));
	if (writeable && !t->pt->share_write)
		return err_set(e, EPERM,
			       "writeable shares are not allowed: ShareWrite=no%s",
			       cite(t, POLICY_KEY_SHARE_WRITE, why, sizeof(why)));
	o = ioas_get(t, ioas, e);
	if (!o)
		return -ENOENT;
	if (length == 0)
		return err_set(e, EINVAL, "share length is 0");
	if (add_overflow(iova, length - 1, &last))
		return err_set(e, EOVERFLOW,
			       "iova 0x%" PRIx64 " + length 0x%" PRIx64 " overflows",
			       iova, length);
	/* Covered by the exporter's own mappings, without a hole. */
	pos = iova;
	for (m = mapping_first_overlap(o, iova, last); m && m->iova <= last;
	     m = RB_NEXT(mapping_tree, &o->mappings, m)) {
		if (m->iova > pos)
			break;
		if (m->imp)
			return err_set(e, EPERM,
				       "[0x%" PRIx64 ", +0x%" PRIx64
				       ") is imported (import %" PRIu32
				       "): imported pages cannot be exported again",
				       m->iova, m->length, m->imp->handle);
		if (writeable && !(m->flags & BACKEND_MAP_WRITEABLE))
			return err_set(e, EPERM,
				       "mapping [0x%" PRIx64 ", +0x%" PRIx64
				       ") is read-only: a writeable share needs writeable mappings",
				       m->iova, m->length);
		pos = m->iova + (m->length - 1);
		if (pos >= last) {
			covered = true;
			break;
		}
		pos++;
	}
	if (!covered)
		return err_set(e, ENOENT,
			       "range [0x%" PRIx64 ", 0x%" PRIx64 "] of IOAS %" PRIu32
			       " is not fully mapped",
			       iova, last, ioas);
	if (t->nshares >= TENANT_MAX_SHARES)
		return err_set(e, ENOSPC, "share limit reached: %u per tenant",
			       TENANT_MAX_SHARES);
	if (t->next_share_handle == 0)
		return err_set(e, ENOSPC, "share handle space exhausted");
	n = getrandom(rnd, sizeof(rnd), 0);
	if (n != (ssize_t)sizeof(rnd))
		return err_errno(e, n < 0 ? -errno : -EIO, "getrandom for a share token");
	s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(e, ENOMEM, "out of memory");
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(s->token + 2 * i, 3, "%02x", rnd[i]);
	explicit_bzero(rnd, sizeof(rnd));
	s->owner = t;
	s->ioas = o;
	s->handle = t->next_share_handle++;
	s->iova = iova;
	s->length = length;
	s->writeable = writeable;
	LIST_INIT(&s->imports);
	LIST_INSERT_HEAD(&t->shares, s, link);
	LIST_INSERT_HEAD(&t->set->all_shares, s, all_link);
	t->nshares++;
	journal_share(s, false);
	journal_tenant(t, false);
	*ret_share = s->handle;
	memcpy(ret_token, s->token, TENANT_SHARE_TOKEN_LEN + 1);
	return 0;
}

/*
 * An import between two contexts (a device tenant on either side): COPY
 * cannot cross contexts, so each piece of the exporter's range is mapped
 * from the exporter's memory, at consecutive IOVAs from the first one
 * (which the kernel picks unless fixed). Same pages; the kernel pins them
 * again for this context. All or nothing.
 */
static int import_map_across(struct tenant *t, struct ioas_obj *dst,
			     struct ioas_obj *src, uint32_t flags,
			     uint64_t src_iova, uint64_t length, uint64_t *iova,
			     struct err *e)
{
	uint64_t last = src_iova + (length - 1), first_iova = *iova, done = 0;
	struct mapping *m;
	int r = 0;

	for (m = mapping_first_overlap(src, src_iova, last); m && m->iova <= last;
	     m = RB_NEXT(mapping_tree, &src->mappings, m)) {
		uint64_t at = first_iova + done, a, n;
		uint32_t f = flags;

		mapping_clip(m, src_iova, last, &a, &n);
		if (done) {
			f |= BACKEND_MAP_FIXED_IOVA;
			/* The kernel placed only the first piece inside
			 * the allowed ranges; the rest follow it. */
			if (!iova_in_policy(t, at, n)) {
				char why[400];

				r = err_set(e, EPERM,
					    "import at a fixed IOVA: the piece at 0x%" PRIx64
					    " after the first (placed at 0x%" PRIx64
					    ") is outside AllowedIOVA%s",
					    at, first_iova,
					    cite(t, POLICY_KEY_ALLOWED_IOVA, why, sizeof(why)));
				break;
			}
		}
		r = mem_map(t->backend, dst->id, f, m->mem,
			    m->mem_offset + (a - m->iova), n, &at);
		if (r < 0)
			break;
		if (!done)
			first_iova = at;
		done += n;
	}
	if (r < 0) {
		uint64_t unmapped;

		if (done)
			(void)backend_unmap(t->backend, dst->id, first_iova, done,
					    &unmapped);
		if (r == -EPERM && done)
			return r; /* the gate said why */
		if (done)
			return err_errno(e, r,
					 "mapping the exporter's memory into this tenant's "
					 "own context: the piece at 0x%" PRIx64
					 " after the IOVA chosen for the first (0x%" PRIx64
					 ") was refused; import at a fixed IOVA",
					 first_iova + done, first_iova);
		return err_errno(e, r, "%s of the exporter's memory into this tenant's own context refused",
				 t->backend->has_map_file ? "IOMMU_IOAS_MAP_FILE" : "IOMMU_IOAS_MAP");
	}
	*iova = first_iova;
	return 0;
}

int tenant_share_import(struct tenant *t, const struct tenant_import_req *req,
			struct tenant_import_result *ret, struct err *e)
{
	struct tenant_share *s = share_by_token(t->set, req->token);
	struct tenant_import *imp;
	struct ioas_obj *dst, *src;
	struct mapping *m;
	uint64_t src_iova, length, last, end, out = req->iova;
	uint32_t flags, pieces = 0;
	char why[400], why2[400];
	int r;

	if (!s)
		return err_set(e, EKEYREJECTED, "no share has this token");
	if (s->owner->orphaned)
		return err_set(e, EACCES,
			       "tenant %s, the exporter, is no longer in the policy (removed at reload)",
			       s->owner->name);
	/* Importing one's own share is a Copy the tenant could do anyway. */
	if (s->owner != t &&
	    (!t->pt || !policy_share_allowed(s->owner->pt, t->pt)))
		return err_set(e, EACCES,
			       "tenant %s may not import from tenant %s: both ExportTo%s "
			       "and ImportFrom%s must name the other",
			       t->name, s->owner->name,
			       cite(s->owner, POLICY_KEY_EXPORT_TO, why, sizeof(why)),
			       t->pt ? cite(t, POLICY_KEY_IMPORT_FROM, why2, sizeof(why2)) :
				       " (no policy for the importer)");
	r = check_not_orphaned(t, e);
	if (r < 0)
		return r;
	dst = ioas_get(t, req->ioas, e);
	if (!dst)
		return -ENOENT;
	if (req->writeable && !s->writeable)
		return err_set(e, EPERM,
			       "share %" PRIu32 " of tenant %s is read-only: import it without write access",
			       s->handle, s->owner->name);
	length = req->has_length ? req->length : (req->offset <= s->length ?
						  s->length - req->offset : 0);
	if (length == 0 || add_overflow(req->offset, length, &end) ||
	    end > s->length)
		return err_set(e, ERANGE,
			       "[0x%" PRIx64 ", +0x%" PRIx64 ") is outside the share of 0x%" PRIx64
			       " bytes",
			       req->offset, length, s->length);
	flags = BACKEND_MAP_READABLE |
		(req->writeable ? BACKEND_MAP_WRITEABLE : 0) |
		(req->fixed_iova ? BACKEND_MAP_FIXED_IOVA : 0);
	if (req->fixed_iova && req->iova == UINT64_MAX)
		return err_set(e, EOVERFLOW, "iova is UINT64_MAX");
	r = check_map_policy(t, flags, req->iova, length, e);
	if (r < 0)
		return r;
	src = s->ioas;
	src_iova = s->iova + req->offset;
	last = src_iova + (length - 1);
	for (m = mapping_first_overlap(src, src_iova, last); m && m->iova <= last;
	     m = RB_NEXT(mapping_tree, &src->mappings, m))
		pieces++;
	if (t->usage.mappings + pieces > t->limits.max_mappings)
		return err_set(e, ENOSPC,
			       "mapping limit: %" PRIu32 " in use + %" PRIu32
			       " new > %" PRIu32 "%s",
			       t->usage.mappings, pieces, t->limits.max_mappings,
			       cite(t, POLICY_KEY_MAX_MAPPINGS, why, sizeof(why)));
	if (t->next_import_handle == 0)
		return err_set(e, ENOSPC, "import handle space exhausted");
	imp = calloc(1, sizeof(*imp));
	if (!imp)
		return err_set(e, ENOMEM, "out of memory");
	if (s->owner->backend == t->backend) {
		/* Both IOASes live in the same iommufd context. */
		r = backend_copy(t->backend, dst->id, src->id, flags, src_iova,
				 length, &out);
		if (r < 0) {
			free(imp);
			return err_errno(e, r, "IOMMU_IOAS_COPY refused");
		}
	} else {
		r = import_map_across(t, dst, src, flags, src_iova, length,
				      &out, e);
		if (r < 0) {
			free(imp);
			return r;
		}
	}
	imp->share = s;
	imp->t = t;
	imp->ioas = dst;
	imp->handle = t->next_import_handle++;
	imp->iova = out;
	imp->offset = req->offset;
	imp->length = length;
	imp->flags = flags;
	LIST_INSERT_HEAD(&s->imports, imp, share_link);
	LIST_INSERT_HEAD(&t->imports, imp, tenant_link);
	for (m = mapping_first_overlap(src, src_iova, last); m && m->iova <= last;
	     m = RB_NEXT(mapping_tree, &src->mappings, m)) {
		uint64_t a, n;

		mapping_clip(m, src_iova, last, &a, &n);
		r = mapping_add(t, dst, out + (a - src_iova), n, m->mem,
				m->mem_offset + (a - m->iova), flags & ~BACKEND_MAP_FIXED_IOVA,
				imp, false, "import", e);
		if (r < 0)
			break;
	}
	if (r < 0) {
		/* Releasing the last piece frees imp; with none, free it here. */
		if (imp->npieces == 0) {
			LIST_REMOVE(imp, share_link);
			LIST_REMOVE(imp, tenant_link);
			free(imp);
		}
		range_unmap_release(t, dst, out, length);
		return r;
	}
	journal_import(imp, false);
	journal_tenant(t, false);
	ret->import = imp->handle;
	ret->iova = out;
	ret->length = length;
	ret->exporter = s->owner->name;
	return 0;
}

int tenant_share_revoke(struct tenant *t, uint32_t share, struct err *e)
{
	struct tenant_share *s;

	LIST_FOREACH(s, &t->shares, link)
		if (s->handle == share) {
			share_free(s, "revoked");
			return 0;
		}
	return err_set(e, ENOENT, "no share with handle %" PRIu32, share);
}

const struct tenant_share *tenant_share_next(const struct tenant *t,
					     const struct tenant_share *prev,
					     struct tenant_share_info *ret)
{
	const struct tenant_share *s = prev ? LIST_NEXT(prev, link) :
					      LIST_FIRST(&t->shares);

	if (!s)
		return NULL;
	ret->share = s->handle;
	ret->ioas = s->ioas->handle;
	ret->iova = s->iova;
	ret->length = s->length;
	ret->writeable = s->writeable;
	ret->token = s->token;
	return s;
}

void import_info(const struct tenant_import *imp, const char *who,
		 struct tenant_import_info *ret)
{
	ret->import = imp->handle;
	ret->tenant = who;
	ret->share = imp->share->handle;
	ret->ioas = imp->ioas->handle;
	ret->iova = imp->iova;
	ret->offset = imp->offset;
	ret->length = imp->length;
	ret->writeable = imp->flags & BACKEND_MAP_WRITEABLE;
}

const struct tenant_import *tenant_share_importer_next(const struct tenant_share *s,
						       const struct tenant_import *prev,
						       struct tenant_import_info *ret)
{
	const struct tenant_import *imp = prev ? LIST_NEXT(prev, share_link) :
						 LIST_FIRST(&s->imports);

	if (imp)
		import_info(imp, imp->t->name, ret);
	return imp;
}

const struct tenant_import *tenant_import_next(const struct tenant *t,
					       const struct tenant_import *prev,
					       struct tenant_import_info *ret)
{
	const struct tenant_import *imp = prev ? LIST_NEXT(prev, tenant_link) :
						 LIST_FIRST(&t->imports);

	if (imp)
		import_info(imp, imp->share->owner->name, ret);
	return imp;
}
