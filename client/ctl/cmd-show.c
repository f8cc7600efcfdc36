/* SPDX-License-Identifier: MIT */
/*
 * ioasctl show IOAS: a picture of one IOVA space. What the kernel lets be
 * mapped (IovaRanges; the rest is reserved), what the policy allows
 * (Whoami's AllowedIOVA=), the tenant's own AllowIovas list, its mappings
 * (MappingList, page by page), its exports and imports (ShareList), drawn
 * as a ruler of lanes (one column: an equal slice of the span that holds
 * anything), then listed as the segments where any of that changes, each
 * saying what a fixed map there would meet. Runs of like mappings are
 * summed up in one line when there are many (--all lists every one).
 * --json (the global -j too) gives the same data, one object per line.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ctl.h"

/* More mapping rows than this and runs of like mappings are summed up. */
#define SHOW_ROWS_MAX 64
#define LABEL_W 10

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
};

static void show_free(struct show *s)
{
	free(s->kernel);
	free(s->own);
	free(s->maps);
	ioas_share_list_free(s->shares);
}

/* A size in the largest unit it reaches, exactly ("2 MiB") or roughly
 * ("~120.5 MiB"), up to EiB. */
static const char *fmt_human(uint64_t v, char *buf, size_t len)
{
	static const char *units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	int u = -1;

	if (v < 1024)
		return fmt_size(v, buf, len);
	while (u < 5 && v >> (10 * (u + 2)))
		u++;
	{
		/* whole < 1024: the unit is the largest that fits */
		uint64_t unit = 1ull << (10 * (u + 1));
		unsigned int whole = (unsigned int)(v / unit) & 1023u;
		unsigned int tenths = (unsigned int)((v % unit) / (unit / 10)) % 10u;

		if (v % unit == 0)
			snprintf(buf, len, "%u %s", whole, units[u]);
		else
			snprintf(buf, len, "~%u.%u %s", whole, tenths, units[u]);
	}
	return buf;
}

static const char *fmt_span(uint64_t start, uint64_t last, char *buf, size_t len)
{
	if (start == 0 && last == UINT64_MAX)
		snprintf(buf, len, "16 EiB");
	else
		fmt_human(last - start + 1, buf, len);
	return buf;
}

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
		memcpy(s->maps + s->n_maps, p->mappings, p->n_mappings * sizeof(*p->mappings));
		s->n_maps += p->n_mappings;
		first = false;
		from = p->next_iova;
		r = p->more;
		p = ioas_mapping_page_free(p);
	} while (r);
	return 0;
}

/* ------------------------------------------------------------ what is where */

static bool in_ranges(const struct ioas_iova_range *r, uint32_t n, uint64_t a)
{
	for (uint32_t i = 0; i < n; i++)
		if (r[i].start <= a && a <= r[i].last)
			return true;
	return false;
}

static bool kernel_ok(const struct show *s, uint64_t a)
{
	return in_ranges(s->kernel, s->n_kernel, a);
}

static bool policy_ok(const struct show *s, uint64_t a)
{
	return !s->who.n_allowed_iova ||
	       in_ranges(s->who.allowed_iova, s->who.n_allowed_iova, a);
}

static bool own_ok(const struct show *s, uint64_t a)
{
	return !s->n_own || in_ranges(s->own, s->n_own, a);
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
	for (uint32_t i = 0; i < s->shares->n_shares; i++) {
		const struct ioas_share_info *x = &s->shares->shares[i];

		if (x->ioas == s->ioas && x->iova <= a && a <= x->iova + (x->length - 1))
			return i;
	}
	return -1;
}

static long import_at(const struct show *s, uint64_t a)
{
	for (uint32_t i = 0; i < s->shares->n_imports; i++) {
		const struct ioas_import_info *x = &s->shares->imports[i];

		if (x->ioas == s->ioas && x->iova <= a && a <= x->iova + (x->length - 1))
			return i;
	}
	return -1;
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

/* One row of the list: a stretch where nothing changes. */
struct row {
	uint64_t start, last;
	bool kernel, policy, own;
	long map, exp, imp;
	size_t nmaps; /* a summed-up run: how many mappings (0: one row) */
};

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

static struct row *make_rows(const struct show *s, bool all, size_t *ret_n)
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

/* ------------------------------------------------------------ the ruler */

struct lane {
	const char *name;
	uint64_t *covered; /* bytes per column */
};

static void cover(uint64_t *cols, size_t ncols, uint64_t lo, uint64_t hi, uint64_t step,
		  uint64_t start, uint64_t last)
{
	if (last < lo || start > hi)
		return;
	if (start < lo)
		start = lo;
	if (last > hi)
		last = hi;
	for (size_t c = (start - lo) / step; c < ncols && c <= (last - lo) / step; c++) {
		uint64_t c0 = lo + c * step, c1 = c0 + (step - 1);
		uint64_t a = start > c0 ? start : c0, z = last < c1 ? last : c1;

		cols[c] += z - a + 1;
	}
}

static uint64_t col_bytes(size_t c, size_t ncols, uint64_t lo, uint64_t hi, uint64_t step)
{
	uint64_t c0 = lo + c * step;

	return c + 1 < ncols ? step : hi - c0 + 1;
}

static unsigned int term_width(void)
{
	const char *e = getenv("COLUMNS");
	struct winsize ws;
	unsigned long v;

	if (e && *e) {
		v = strtoul(e, NULL, 10);
		if (v >= 20 && v <= 1000)
			return (unsigned int)v;
	}
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return ws.ws_col;
	return 80;
}

static void draw(const struct show *s, unsigned int width)
{
	size_t ncols = width > LABEL_W + 2 + 16 ? width - LABEL_W - 2 : 16;
	uint64_t lo = UINT64_MAX, hi = 0, step;
	uint64_t *cols[6];
	char buf[32], lbuf[32], hbuf[32];
	bool any = false;

	/* The span: whatever is mapped or allowed; else the kernel's. */
#define SPAN(a, z) do { if ((a) < lo) lo = (a); if ((z) > hi) hi = (z); any = true; } while (0)
	for (size_t i = 0; i < s->n_maps; i++)
		SPAN(s->maps[i].iova, s->maps[i].iova + (s->maps[i].length - 1));
	for (uint32_t i = 0; i < s->who.n_allowed_iova; i++)
		SPAN(s->who.allowed_iova[i].start, s->who.allowed_iova[i].last);
	for (uint32_t i = 0; i < s->n_own; i++)
		SPAN(s->own[i].start, s->own[i].last);
	/* ... and the holes inside the kernel's ranges (an MSI window), so
	 * that what is mapped is seen beside what cannot be. */
	if (any && s->n_kernel && s->kernel[0].start > 0)
		SPAN(0, s->kernel[0].start - 1);
	for (uint32_t i = 1; any && i < s->n_kernel; i++)
		if (s->kernel[i].start > s->kernel[i - 1].last + 1)
			SPAN(s->kernel[i - 1].last + 1, s->kernel[i].start - 1);
	if (!any)
		for (uint32_t i = 0; i < s->n_kernel; i++)
			SPAN(s->kernel[i].start, s->kernel[i].last);
#undef SPAN
	if (lo > hi) {
		lo = 0;
		hi = UINT64_MAX;
	}
	step = (hi - lo) / ncols + 1;
	if ((hi - lo) / step + 1 < ncols)
		ncols = (size_t)((hi - lo) / step + 1);
	for (int l = 0; l < 6; l++)
		cols[l] = calloc(ncols, sizeof(uint64_t));
	if (!cols[0] || !cols[1] || !cols[2] || !cols[3] || !cols[4] || !cols[5])
		goto out;
	for (uint32_t i = 0; i < s->n_kernel; i++)
		cover(cols[0], ncols, lo, hi, step, s->kernel[i].start, s->kernel[i].last);
	if (!s->who.n_allowed_iova)
		cover(cols[1], ncols, lo, hi, step, lo, hi);
	for (uint32_t i = 0; i < s->who.n_allowed_iova; i++)
		cover(cols[1], ncols, lo, hi, step, s->who.allowed_iova[i].start,
		      s->who.allowed_iova[i].last);
	if (!s->n_own)
		cover(cols[2], ncols, lo, hi, step, lo, hi);
	for (uint32_t i = 0; i < s->n_own; i++)
		cover(cols[2], ncols, lo, hi, step, s->own[i].start, s->own[i].last);
	for (size_t i = 0; i < s->n_maps; i++)
		cover(cols[3], ncols, lo, hi, step, s->maps[i].iova,
		      s->maps[i].iova + (s->maps[i].length - 1));
	for (uint32_t i = 0; i < s->shares->n_shares; i++)
		if (s->shares->shares[i].ioas == s->ioas)
			cover(cols[4], ncols, lo, hi, step, s->shares->shares[i].iova,
			      s->shares->shares[i].iova + (s->shares->shares[i].length - 1));
	for (uint32_t i = 0; i < s->shares->n_imports; i++)
		if (s->shares->imports[i].ioas == s->ioas)
			cover(cols[5], ncols, lo, hi, step, s->shares->imports[i].iova,
			      s->shares->imports[i].iova + (s->shares->imports[i].length - 1));

	printf("IOAS %u: %u mappings; drawn 0x%" PRIx64 "-0x%" PRIx64 " (%s), %s a column\n",
	       s->ioas, s->total, lo, hi, fmt_span(lo, hi, buf, sizeof(buf)),
	       fmt_human(step, lbuf, sizeof(lbuf)));
	snprintf(lbuf, sizeof(lbuf), "0x%" PRIx64, lo);
	snprintf(hbuf, sizeof(hbuf), "0x%" PRIx64, hi);
	printf("%*s%-*s%*s\n", LABEL_W + 1, "", (int)(ncols + 1 - strlen(hbuf)), lbuf,
	       (int)strlen(hbuf), hbuf);
	{
		static const char *names[6] = { "kernel", "policy", "own", "mappings",
						"exports", "imports" };
		/* full, part, none */
		static const char marks[6][3] = { { '=', 'x', 'x' }, { '=', '~', '.' },
						  { '=', '~', '.' }, { '#', '+', '.' },
						  { 'e', 'e', '.' }, { 'i', 'i', '.' } };

		for (int l = 0; l < 6; l++) {
			printf("%-*s|", LABEL_W, names[l]);
			for (size_t c = 0; c < ncols; c++) {
				uint64_t full = col_bytes(c, ncols, lo, hi, step);

				putchar(cols[l][c] == full ? marks[l][0] :
					cols[l][c] ? marks[l][1] : marks[l][2]);
			}
			puts("|");
		}
	}
	puts("  kernel '=' mappable, 'x' holds a reserved range; policy '=' AllowedIOVA=,\n"
	     "  own '=' AllowIovas (automatic IOVAs); mappings '#'; '~' '+' partly; '.' none");
out:
	for (int l = 0; l < 6; l++)
		free(cols[l]);
}

/* ------------------------------------------------------------ the list */

static void print_row(const struct show *s, const struct row *r)
{
	char what[256], buf[32], fbuf[48];
	const char *why = NULL;
	int n;

	if (r->map >= 0) {
		const struct ioas_mapping_info *m = &s->maps[r->map];

		if (r->nmaps)
			n = snprintf(what, sizeof(what), "%zu mappings of ", r->nmaps);
		else
			n = snprintf(what, sizeof(what), "mapping 0x%" PRIx64 " of ", m->iova);
		if (m->import)
			snprintf(what + n, sizeof(what) - (size_t)n, "import %u, %s%s",
				 m->import, fmt_flags(m->flags, fbuf, sizeof(fbuf)),
				 m->outside_policy ? ", outside AllowedIOVA= (kept)" : "");
		else if (r->nmaps)
			snprintf(what + n, sizeof(what) - (size_t)n, "memory %u, %s%s",
				 m->memory, fmt_flags(m->flags, fbuf, sizeof(fbuf)),
				 m->outside_policy ? ", outside AllowedIOVA= (kept)" : "");
		else
			snprintf(what + n, sizeof(what) - (size_t)n, "memory %u +0x%" PRIx64 ", %s%s",
				 m->memory, m->offset, fmt_flags(m->flags, fbuf, sizeof(fbuf)),
				 m->outside_policy ? ", outside AllowedIOVA= (kept)" : "");
	} else {
		snprintf(what, sizeof(what), "%s", r->kernel ? "free" : "reserved");
		if (!r->kernel)
			why = "fixed maps refused: not in the kernel's IOVA ranges";
		else if (!r->policy)
			why = "fixed maps refused: outside the policy's AllowedIOVA=";
		else if (!r->own)
			why = "fixed maps only: outside this IOAS's AllowIovas list";
	}
	printf("0x%016" PRIx64 "-0x%016" PRIx64 " %11s  %s", r->start, r->last,
	       fmt_span(r->start, r->last, buf, sizeof(buf)), what);
	if (r->exp >= 0)
		printf(", exported as share %u", s->shares->shares[r->exp].share);
	if (r->imp >= 0)
		printf(", import %u from %s", s->shares->imports[r->imp].import,
		       s->shares->imports[r->imp].exporter);
	if (why)
		printf(" (%s)", why);
	putchar('\n');
}

/* ------------------------------------------------------------ JSON */

static void json_range(struct ctl *ctl, const char *kind, uint64_t start, uint64_t last)
{
	jopen(ctl);
	jstr(ctl, "cmd", "show");
	jstr(ctl, "kind", kind);
	ju64(ctl, "start", start);
	ju64(ctl, "last", last);
	jclose();
}

static void json_all(struct ctl *ctl, const struct show *s)
{
	char fbuf[48];
	uint64_t next = 0;
	bool done = false;

	jopen(ctl);
	jstr(ctl, "cmd", "show");
	jstr(ctl, "kind", "ioas");
	ju64(ctl, "ioas", s->ioas);
	ju64(ctl, "alignment", s->align);
	ju64(ctl, "mappings", s->total);
	jbool(ctl, "policy_restricts", s->who.n_allowed_iova != 0);
	jstr(ctl, "policy_source", s->who.policy_source);
	jbool(ctl, "own_restricts", s->n_own != 0);
	jclose();
	for (uint32_t i = 0; i < s->n_kernel && !done; i++) {
		if (s->kernel[i].start > next)
			json_range(ctl, "reserved", next, s->kernel[i].start - 1);
		json_range(ctl, "kernel", s->kernel[i].start, s->kernel[i].last);
		done = s->kernel[i].last == UINT64_MAX;
		next = s->kernel[i].last + 1;
	}
	if (!done)
		json_range(ctl, "reserved", next, UINT64_MAX);
	for (uint32_t i = 0; i < s->who.n_allowed_iova; i++)
		json_range(ctl, "policy-allowed", s->who.allowed_iova[i].start,
			   s->who.allowed_iova[i].last);
	for (uint32_t i = 0; i < s->n_own; i++)
		json_range(ctl, "own-allowed", s->own[i].start, s->own[i].last);
	for (size_t i = 0; i < s->n_maps; i++) {
		const struct ioas_mapping_info *m = &s->maps[i];

		jopen(ctl);
		jstr(ctl, "cmd", "show");
		jstr(ctl, "kind", "mapping");
		ju64(ctl, "iova", m->iova);
		ju64(ctl, "length", m->length);
		if (m->import)
			ju64(ctl, "import", m->import);
		else
			ju64(ctl, "memory", m->memory);
		ju64(ctl, "offset", m->offset);
		jstr(ctl, "flags", fmt_flags(m->flags, fbuf, sizeof(fbuf)));
		jbool(ctl, "outside_policy", m->outside_policy);
		jclose();
	}
	for (uint32_t i = 0; i < s->shares->n_shares; i++) {
		const struct ioas_share_info *x = &s->shares->shares[i];

		if (x->ioas != s->ioas)
			continue;
		jopen(ctl);
		jstr(ctl, "cmd", "show");
		jstr(ctl, "kind", "export");
		ju64(ctl, "share", x->share);
		ju64(ctl, "iova", x->iova);
		ju64(ctl, "length", x->length);
		jbool(ctl, "writeable", x->writeable);
		ju64(ctl, "importers", x->n_importers);
		jclose();
	}
	for (uint32_t i = 0; i < s->shares->n_imports; i++) {
		const struct ioas_import_info *x = &s->shares->imports[i];

		if (x->ioas != s->ioas)
			continue;
		jopen(ctl);
		jstr(ctl, "cmd", "show");
		jstr(ctl, "kind", "import");
		ju64(ctl, "import", x->import);
		jstr(ctl, "exporter", x->exporter);
		ju64(ctl, "share", x->share);
		ju64(ctl, "iova", x->iova);
		ju64(ctl, "length", x->length);
		jbool(ctl, "writeable", x->writeable);
		jclose();
	}
}

/* ------------------------------------------------------------ the command */

int cmd_show(struct ctl *ctl, int argc, char **argv)
{
	struct opt opts[] = {
		{ "width", true, NULL, false },
		{ "all", false, NULL, false },
		{ "json", false, NULL, false },
	};
	struct show s = { 0 };
	unsigned int width;
	struct row *rows;
	size_t nrows;
	char *pos[1];
	size_t npos;
	uint32_t w;
	int r;

	r = parse_args(ctl, argc, argv, opts, 3, pos, 1, 1, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &s.ioas) < 0)
		return bad_value(ctl, argv[0], "IOAS", pos[0]);
	width = term_width();
	if (opts[0].set) {
		if (parse_u32(ctl, opts[0].val, &w) < 0 || w < 20 || w > 1000)
			return bad_value(ctl, argv[0], "width (20 to 1000 columns)", opts[0].val);
		width = w;
	}
	if (opts[2].set)
		ctl->json = true;
	r = ensure_client(ctl);
	if (r)
		return r;
	r = ioas_iova_ranges_all(ctl->client, s.ioas, &s.kernel, &s.n_kernel, &s.align);
	if (r == 0)
		r = ioas_whoami(ctl->client, &s.who);
	if (r == 0)
		r = ioas_share_list(ctl->client, &s.shares);
	if (r == 0)
		r = fetch_mappings(ctl, &s);
	if (r < 0) {
		show_free(&s);
		return r == -ENOMEM ? local_error(ctl, argv[0], r, "out of memory") :
				      op_error(ctl, argv[0], r);
	}
	if (ctl->json) {
		json_all(ctl, &s);
		show_free(&s);
		return 0;
	}
	rows = make_rows(&s, opts[1].set, &nrows);
	if (!rows) {
		show_free(&s);
		return local_error(ctl, argv[0], -ENOMEM, "out of memory");
	}
	draw(&s, width);
	if (s.who.n_allowed_iova)
		printf("policy: AllowedIOVA= of %s\n", s.who.policy_source);
	for (size_t i = 0; i < nrows; i++)
		print_row(&s, &rows[i]);
	free(rows);
	show_free(&s);
	return 0;
}
