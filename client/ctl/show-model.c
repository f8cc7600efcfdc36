/* SPDX-License-Identifier: MIT */
/*
 * ioasctl show, the model: the IOAS's kernel ranges (IovaRanges), the
 * policy's AllowedIOVA= (Whoami), its shares and imports (ShareList) and
 * its mappings (MappingList, page by page, with its own AllowIovas list);
 * an index per kind of range answering "which holds this address" in
 * O(log n); and the list of stretches where anything changes, runs of like
 * mappings summed up when there are many.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "show.h"

/* The mappings, page by page. */
static int fetch_mappings(struct ctl *ctl, struct show *s)
{
	struct ioas_mapping_page *p = NULL;
	uint64_t from = 0;
	bool first = true;
	int r;

	do {
		r = ioas_mapping_list(ctl->client, s->ioas, first ? NULL : &from, 0, &p);
		if (r < 0)
			return r;
		if (first) {
			s->total = p->total;
			s->n_own = p->n_own_allowed;
			s->own = p->own_allowed;
			p->own_allowed = NULL;
		}
		if (s->n_maps + p->n_mappings > s->cap_maps) {
			size_t cap = (s->cap_maps ? s->cap_maps * 2 : 64) + p->n_mappings;
			struct ioas_mapping_info *m = realloc(s->maps, cap * sizeof(*m));

			if (!m) {
				ioas_mapping_page_free(p);
				return -ENOMEM;
			}
			s->maps = m;
			s->cap_maps = cap;
		}
		if (p->n_mappings) /* an empty page: maps may still be NULL */
			memcpy(s->maps + s->n_maps, p->mappings,
			       p->n_mappings * sizeof(*p->mappings));
		s->n_maps += p->n_mappings;
		first = false;
		from = p->next_iova;
		r = p->more;
		p = ioas_mapping_page_free(p);
	} while (r);
	return 0;
}

/* ------------------------------------------------------------ what is where */

struct cover_item {
	struct ioas_iova_range r;
	long owner;
};

static int cmp_item(const void *a, const void *b)
{
	uint64_t x = ((const struct cover_item *)a)->r.start;
	uint64_t y = ((const struct cover_item *)b)->r.start;

	return x < y ? -1 : x > y;
}

static void cover_index_free(struct cover_index *ix)
{
	free(ix->r);
	free(ix->max_last);
	free(ix->owner);
	memset(ix, 0, sizeof(*ix));
}

/* items (n of them) are sorted in place and copied into ix. */
static int cover_index_build(struct cover_index *ix, struct cover_item *items, uint32_t n)
{
	memset(ix, 0, sizeof(*ix));
	ix->r = calloc(n + 1, sizeof(*ix->r));
	ix->max_last = calloc(n + 1, sizeof(*ix->max_last));
	ix->owner = calloc(n + 1, sizeof(*ix->owner));
	if (!ix->r || !ix->max_last || !ix->owner) {
		cover_index_free(ix);
		return -ENOMEM;
	}
	qsort(items, n, sizeof(*items), cmp_item);
	for (uint32_t i = 0; i < n; i++) {
		ix->r[i] = items[i].r;
		if (i && ix->max_last[i - 1] >= items[i].r.last) {
			ix->max_last[i] = ix->max_last[i - 1];
			ix->owner[i] = ix->owner[i - 1];
		} else {
			ix->max_last[i] = items[i].r.last;
			ix->owner[i] = items[i].owner;
		}
	}
	ix->n = n;
	return 0;
}

/* The owner of a range holding a, or -1. */
static long cover_at(const struct cover_index *ix, uint64_t a)
{
	uint32_t lo = 0, hi = ix->n;

	while (lo < hi) { /* the first range starting above a */
		uint32_t mid = lo + (hi - lo) / 2;

		if (ix->r[mid].start <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo && ix->max_last[lo - 1] >= a ? ix->owner[lo - 1] : -1;
}

static int build_indexes(struct show *s)
{
	const struct ioas_share_list *l = s->shares;
	uint32_t most = s->n_kernel + s->who.n_allowed_iova + s->n_own + l->n_shares + l->n_imports;
	struct cover_item *items = calloc(most + 1, sizeof(*items));
	uint32_t n;
	int r = 0;

	if (!items)
		return -ENOMEM;
#define ITEM(a, z, i) items[n++] = (struct cover_item){ { (a), (z) }, (long)(i) }
	n = 0;
	for (uint32_t i = 0; i < s->n_kernel; i++)
		ITEM(s->kernel[i].start, s->kernel[i].last, i);
	r = r ?: cover_index_build(&s->ix[IX_KERNEL], items, n);
	n = 0;
	for (uint32_t i = 0; i < s->who.n_allowed_iova; i++)
		ITEM(s->who.allowed_iova[i].start, s->who.allowed_iova[i].last, i);
	r = r ?: cover_index_build(&s->ix[IX_POLICY], items, n);
	n = 0;
	for (uint32_t i = 0; i < s->n_own; i++)
		ITEM(s->own[i].start, s->own[i].last, i);
	r = r ?: cover_index_build(&s->ix[IX_OWN], items, n);
	n = 0;
	for (uint32_t i = 0; i < l->n_shares; i++)
		if (l->shares[i].ioas == s->ioas)
			ITEM(l->shares[i].iova, l->shares[i].iova + (l->shares[i].length - 1), i);
	r = r ?: cover_index_build(&s->ix[IX_EXPORT], items, n);
	n = 0;
	for (uint32_t i = 0; i < l->n_imports; i++)
		if (l->imports[i].ioas == s->ioas)
			ITEM(l->imports[i].iova, l->imports[i].iova + (l->imports[i].length - 1), i);
	r = r ?: cover_index_build(&s->ix[IX_IMPORT], items, n);
#undef ITEM
	free(items);
	return r;
}

static bool kernel_ok(const struct show *s, uint64_t a)
{
	return cover_at(&s->ix[IX_KERNEL], a) >= 0;
}

static bool policy_ok(const struct show *s, uint64_t a)
{
	return !s->who.n_allowed_iova || cover_at(&s->ix[IX_POLICY], a) >= 0;
}

static bool own_ok(const struct show *s, uint64_t a)
{
	return !s->n_own || cover_at(&s->ix[IX_OWN], a) >= 0;
}

/* The mapping holding a, or -1 (binary search: they do not overlap). */
static long map_at(const struct show *s, uint64_t a)
{
	size_t lo = 0, hi = s->n_maps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct ioas_mapping_info *m = &s->maps[mid];

		if (a < m->iova)
			hi = mid;
		else if (a > m->iova + (m->length - 1))
			lo = mid + 1;
		else
			return (long)mid;
	}
	return -1;
}

static long export_at(const struct show *s, uint64_t a)
{
	return cover_at(&s->ix[IX_EXPORT], a);
}

static long import_at(const struct show *s, uint64_t a)
{
	return cover_at(&s->ix[IX_IMPORT], a);
}

/* Every address where something starts or ends, sorted, unique. */
static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void add_bound(uint64_t *b, size_t *n, uint64_t start, uint64_t last)
{
	b[(*n)++] = start;
	if (last != UINT64_MAX)
		b[(*n)++] = last + 1;
}

static uint64_t *boundaries(const struct show *s, size_t *ret_n)
{
	size_t cap = 1 + 2 * ((size_t)s->n_kernel + s->who.n_allowed_iova + s->n_own +
			      s->n_maps + s->shares->n_shares + s->shares->n_imports);
	uint64_t *b = malloc(cap * sizeof(*b));
	size_t n = 0, u = 0;

	if (!b)
		return NULL;
	b[n++] = 0;
	for (uint32_t i = 0; i < s->n_kernel; i++)
		add_bound(b, &n, s->kernel[i].start, s->kernel[i].last);
	for (uint32_t i = 0; i < s->who.n_allowed_iova; i++)
		add_bound(b, &n, s->who.allowed_iova[i].start, s->who.allowed_iova[i].last);
	for (uint32_t i = 0; i < s->n_own; i++)
		add_bound(b, &n, s->own[i].start, s->own[i].last);
	for (size_t i = 0; i < s->n_maps; i++)
		add_bound(b, &n, s->maps[i].iova, s->maps[i].iova + (s->maps[i].length - 1));
	for (uint32_t i = 0; i < s->shares->n_shares; i++)
		if (s->shares->shares[i].ioas == s->ioas)
			add_bound(b, &n, s->shares->shares[i].iova,
				  s->shares->shares[i].iova + (s->shares->shares[i].length - 1));
	for (uint32_t i = 0; i < s->shares->n_imports; i++)
		if (s->shares->imports[i].ioas == s->ioas)
			add_bound(b, &n, s->shares->imports[i].iova,
				  s->shares->imports[i].iova + (s->shares->imports[i].length - 1));
	qsort(b, n, sizeof(*b), cmp_u64);
	for (size_t i = 0; i < n; i++)
		if (!u || b[i] != b[u - 1])
			b[u++] = b[i];
	*ret_n = u;
	return b;
}

static bool same_state(const struct row *a, const struct row *b)
{
	return a->kernel == b->kernel && a->policy == b->policy && a->own == b->own &&
	       a->exp == b->exp && a->imp == b->imp;
}

static bool same_kind(const struct show *s, const struct row *a, const struct row *b)
{
	const struct ioas_mapping_info *x = &s->maps[a->map], *y = &s->maps[b->map];

	return x->memory == y->memory && x->import == y->import && x->flags == y->flags;
}

struct row *show_rows(const struct show *s, bool all, size_t *ret_n)
{
	size_t nb, n = 0, nmap_rows = 0, k = 0;
	uint64_t *b = boundaries(s, &nb);
	struct row *rows;

	if (!b)
		return NULL;
	rows = calloc(nb, sizeof(*rows));
	if (!rows) {
		free(b);
		return NULL;
	}
	for (size_t i = 0; i < nb; i++) {
		struct row r = {
			.start = b[i],
			.last = i + 1 < nb ? b[i + 1] - 1 : UINT64_MAX,
			.kernel = kernel_ok(s, b[i]),
			.policy = policy_ok(s, b[i]),
			.own = own_ok(s, b[i]),
			.map = map_at(s, b[i]),
			.exp = export_at(s, b[i]),
			.imp = import_at(s, b[i]),
		};

		if (n && rows[n - 1].map == r.map && same_state(&rows[n - 1], &r)) {
			rows[n - 1].last = r.last;
			continue;
		}
		nmap_rows += r.map >= 0;
		rows[n++] = r;
	}
	free(b);
	if (all || nmap_rows <= SHOW_ROWS_MAX) {
		*ret_n = n;
		return rows;
	}
	/* Sum up runs of mappings of the same memory and flags, with only
	 * free space of the same state between them. */
	for (size_t i = 0; i < n;) {
		size_t j = i, maps = 0, end = i;

		if (rows[i].map < 0) {
			rows[k++] = rows[i++];
			continue;
		}
		for (; j < n && same_state(&rows[j], &rows[i]); j++) {
			if (rows[j].map >= 0) {
				if (!same_kind(s, &rows[j], &rows[i]))
					break;
				maps++;
				end = j;
			}
		}
		rows[k] = rows[i];
		rows[k].last = rows[end].last;
		rows[k].nmaps = maps > 1 ? maps : 0;
		k++;
		i = end + 1;
	}
	*ret_n = k;
	return rows;
}


int show_fetch(struct ctl *ctl, struct show *s)
{
	int r;

	r = ioas_iova_ranges_all(ctl->client, s->ioas, &s->kernel, &s->n_kernel, &s->align);
	if (r == 0)
		r = ioas_whoami(ctl->client, &s->who);
	if (r == 0)
		r = ioas_share_list(ctl->client, &s->shares);
	if (r == 0)
		r = fetch_mappings(ctl, s);
	if (r == 0) {
		s->ix = calloc(IX_N, sizeof(*s->ix));
		r = s->ix ? build_indexes(s) : -ENOMEM;
	}
	return r;
}

void show_free(struct show *s)
{
	for (int i = 0; s->ix && i < IX_N; i++)
		cover_index_free(&s->ix[i]);
	free(s->ix);
	free(s->kernel);
	free(s->own);
	free(s->maps);
	ioas_share_list_free(s->shares);
}

