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

#include "show.h"

#define LABEL_W 10

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

/* ------------------------------------------------------------ the ruler */

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
	r = show_fetch(ctl, &s);
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
	rows = show_rows(&s, opts[1].set, &nrows);
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
