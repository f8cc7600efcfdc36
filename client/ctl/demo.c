/* SPDX-License-Identifier: MIT */
/* ioasctl: demo, every operation once on one connection. */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ctl.h"

/* The demo's state: what its steps made and what they show. */
struct demo {
	struct ctl *ctl;
	struct ioas_client *c;
	unsigned int step;

	/* The Hello's answers. */
	const char *backend, *server;
	uint32_t version, max_fds;
	uint64_t caps;

	/* One region of size bytes, mapped as two halves into ioas1, the
	 * first at an IOVA the daemon picks, the second at a fixed one; the
	 * first copied into ioas2. */
	uint64_t size, half, off_lo, off_hi;
	uint32_t rw, rw_fixed;
	int fd;
	uint32_t ioas1, ioas2, mem;
	struct ioas_memory_info info;
	uint64_t auto_iova, fixed_iova, copy_iova, unmapped;
	struct ioas_iova_range *ranges;
	uint32_t nranges;
	uint64_t align;
	struct ioas_stats st;
};

/* Start one step's output: a numbered line, or a JSON object. */
static void step_begin(struct demo *d, const char *op)
{
	d->step++;
	if (d->ctl->json) {
		jopen(d->ctl);
		ju64(d->ctl, "step", d->step);
		jstr(d->ctl, "op", op);
	} else {
		printf("%2u  %-13s", d->step, op);
	}
}

static void step_end(struct demo *d)
{
	if (d->ctl->json)
		jclose();
	else
		putchar('\n');
	fflush(stdout);
}

/* One field of a step: key=value text, or a JSON member. */
static void fu64(struct demo *d, const char *k, uint64_t v, bool hex)
{
	if (d->ctl->json)
		ju64(d->ctl, k, v);
	else if (hex)
		printf(" %s=0x%" PRIx64, k, v);
	else
		printf(" %s=%" PRIu64, k, v);
}

static void fsize(struct demo *d, const char *k, uint64_t v)
{
	char buf[32];

	if (d->ctl->json)
		ju64(d->ctl, k, v);
	else
		printf(" %s=%s", k, fmt_size(v, buf, sizeof(buf)));
}

static void fstr(struct demo *d, const char *k, const char *v)
{
	if (d->ctl->json)
		jstr(d->ctl, k, v);
	else
		printf(" %s=%s", k, v);
}

static void farrow(struct demo *d)
{
	if (!d->ctl->json)
		fputs(" ->", stdout);
}

static int step_fail(struct demo *d, const char *op, int r)
{
	if (d->ctl->json)
		jclose();
	else
		putchar('\n');
	return op_error(d->ctl, op, r);
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/*
 * A fixed IOVA for length bytes inside the allowed ranges that stays clear
 * of [avoid, avoid + avoid_len): 256 MiB if possible (a round number reads
 * well), else the first aligned spot after the existing mapping or at the
 * start of any range.
 */
static bool pick_fixed_iova(const struct ioas_iova_range *r, uint32_t n,
			    uint64_t align, uint64_t avoid, uint64_t avoid_len,
			    uint64_t length, uint64_t *ret)
{
	uint64_t cand[2 + MAX_RANGES];
	size_t nc = 0;

	if (align < 4096)
		align = 4096;
	cand[nc++] = 0x10000000;
	cand[nc++] = align_up(avoid + avoid_len, align);
	for (uint32_t i = 0; i < n && nc < sizeof(cand) / sizeof(cand[0]); i++)
		cand[nc++] = align_up(r[i].start ? r[i].start : align, align);

	for (size_t k = 0; k < nc; k++) {
		uint64_t s = cand[k], last = s + length - 1;

		if (last < s)
			continue;
		if (s < avoid + avoid_len && avoid < s + length)
			continue;
		for (uint32_t i = 0; i < n; i++)
			if (s >= r[i].start && last <= r[i].last) {
				*ret = s;
				return true;
			}
	}
	return false;
}

/*
 * One field of a step, in the order it is shown: key=value in the text
 * line, a member of the JSON object. CALL marks where the step's call
 * happens (what comes before it is what was asked, shown even when the
 * call fails; what comes after, what came back); ARROW is " ->" in text.
 */
enum show {
	SHOW_END,       /* the end of the list */
	SHOW_CALL,
	SHOW_ARROW,
	SHOW_U32,       /* a uint32_t, decimal */
	SHOW_HEX,       /* a uint64_t, 0x-hex in text */
	SHOW_SIZE,      /* a uint64_t, "2 MiB" in text */
	SHOW_FLAGS,     /* a uint32_t of IOAS_MAP_* bits, "read,write" */
	SHOW_STR,       /* a const char * */
	SHOW_CHARS,     /* a char array */
	SHOW_YESNO,     /* a bool: yes/no in text, true/false in JSON */
	SHOW_RANGES,    /* d->ranges: [start-last],... in text, an array in JSON */
	SHOW_TEXT,      /* the field's own text */
};

struct field {
	const char *key;
	enum show show;
	size_t at;                           /* offsetof(struct demo, ...) */
	const char *text;                    /* SHOW_TEXT */
	bool (*when)(const struct demo *d);  /* NULL: always */
};

#define F(key, show, member) { key, show, offsetof(struct demo, member), NULL, NULL }
#define F_IF(key, show, member, when) { key, show, offsetof(struct demo, member), NULL, when }
#define TEXT(key, text) { key, SHOW_TEXT, 0, text, NULL }
#define CALL { NULL, SHOW_CALL, 0, NULL, NULL }
#define ARROW { NULL, SHOW_ARROW, 0, NULL, NULL }

struct step {
	const char *op;
	/* Before the step, showing nothing unless it fails: an exit status. */
	int (*prepare)(struct demo *d);
	/* The step's request: 0 or -errno. */
	int (*call)(struct demo *d);
	/* A failed call is a local failure (exit 5), not a refusal. */
	bool local;
	struct field fields[10];
};

#define AT(d, f, type) ((type *)((char *)(d) + (f)->at))

static void show_ranges(struct demo *d, const char *k)
{
	if (d->ctl->json) {
		jkey(d->ctl, k);
		fputc('[', stdout);
		for (uint32_t i = 0; i < d->nranges; i++)
			printf("%s{\"start\":%" PRIu64 ",\"last\":%" PRIu64 "}",
			       i ? "," : "", d->ranges[i].start, d->ranges[i].last);
		fputc(']', stdout);
	} else {
		printf(" %s=", k);
		for (uint32_t i = 0; i < d->nranges; i++)
			printf("%s[0x%" PRIx64 "-0x%" PRIx64 "]", i ? "," : "",
			       d->ranges[i].start, d->ranges[i].last);
	}
}

static void show(struct demo *d, const struct field *f)
{
	char buf[64];

	if (f->when && !f->when(d))
		return;
	switch (f->show) {
	case SHOW_END:
	case SHOW_CALL:
		break;
	case SHOW_ARROW:
		farrow(d);
		break;
	case SHOW_U32:
		fu64(d, f->key, *AT(d, f, uint32_t), false);
		break;
	case SHOW_HEX:
		fu64(d, f->key, *AT(d, f, uint64_t), true);
		break;
	case SHOW_SIZE:
		fsize(d, f->key, *AT(d, f, uint64_t));
		break;
	case SHOW_FLAGS:
		fstr(d, f->key, fmt_flags(*AT(d, f, uint32_t), buf, sizeof(buf)));
		break;
	case SHOW_STR:
		fstr(d, f->key, *AT(d, f, const char *));
		break;
	case SHOW_CHARS:
		fstr(d, f->key, AT(d, f, const char));
		break;
	case SHOW_YESNO:
		if (d->ctl->json)
			jbool(d->ctl, f->key, *AT(d, f, bool));
		else
			fstr(d, f->key, *AT(d, f, bool) ? "yes" : "no");
		break;
	case SHOW_RANGES:
		show_ranges(d, f->key);
		break;
	case SHOW_TEXT:
		fstr(d, f->key, f->text);
		break;
	}
}

/* ------------------------------------------------------------ the calls */

static int hello(struct demo *d)
{
	d->backend = ioas_client_backend(d->c);
	d->server = ioas_client_server(d->c);
	d->version = ioas_client_version(d->c);
	d->caps = ioas_client_caps(d->c);
	d->max_fds = ioas_client_max_fds(d->c);
	return 0;
}

static int alloc1(struct demo *d)
{
	return ioas_alloc(d->c, &d->ioas1);
}

static int alloc2(struct demo *d)
{
	return ioas_alloc(d->c, &d->ioas2);
}

static int memfd(struct demo *d)
{
	return ioas_memfd_create("ioasctl-demo", d->size, &d->fd);
}

static int register_memfd(struct demo *d)
{
	int r = ioas_memory_register(d->c, d->fd, 0, d->size, &d->mem, &d->info);

	close(d->fd);
	d->fd = -1;
	return r;
}

static int map_auto(struct demo *d)
{
	return ioas_map(d->c, d->ioas1, d->mem, d->off_lo, d->half, d->rw,
			&d->auto_iova);
}

/* Where the second half goes: clear of the first, inside the ranges. */
static int choose_fixed_iova(struct demo *d)
{
	int r;

	r = ioas_iova_ranges_all(d->c, d->ioas1, &d->ranges, &d->nranges,
				 &d->align);
	if (r < 0)
		return op_error(d->ctl, "iova-ranges", r);
	if (!pick_fixed_iova(d->ranges, d->nranges, d->align, d->auto_iova,
			     d->half, d->half, &d->fixed_iova)) {
		free(d->ranges);
		d->ranges = NULL;
		return local_error(d->ctl, "demo", 0,
				   "no room for a fixed IOVA in ioas %u",
				   d->ioas1);
	}
	free(d->ranges);
	d->ranges = NULL;
	return 0;
}

static int map_fixed(struct demo *d)
{
	return ioas_map(d->c, d->ioas1, d->mem, d->off_hi, d->half,
			d->rw_fixed, &d->fixed_iova);
}

static int copy(struct demo *d)
{
	return ioas_copy(d->c, d->ioas2, d->ioas1, d->rw, d->auto_iova,
			 d->half, &d->copy_iova);
}

static int iova_ranges(struct demo *d)
{
	return ioas_iova_ranges_all(d->c, d->ioas1, &d->ranges, &d->nranges,
				    &d->align);
}

static int stats(struct demo *d)
{
	return ioas_stats(d->c, &d->st);
}

static bool daemon_wide(const struct demo *d)
{
	return d->st.daemon_wide;
}

static int unmap_fixed(struct demo *d)
{
	return ioas_unmap(d->c, d->ioas1, d->fixed_iova, d->half, &d->unmapped);
}

static int unmap_all1(struct demo *d)
{
	return ioas_unmap_all(d->c, d->ioas1, &d->unmapped);
}

static int unmap_all2(struct demo *d)
{
	return ioas_unmap_all(d->c, d->ioas2, &d->unmapped);
}

static int destroy1(struct demo *d)
{
	return ioas_destroy(d->c, d->ioas1);
}

static int destroy2(struct demo *d)
{
	return ioas_destroy(d->c, d->ioas2);
}

static int unregister(struct demo *d)
{
	return ioas_memory_unregister(d->c, d->mem);
}

/* ------------------------------------------------------------ the steps */

static const struct step steps[] = {
	{ .op = "hello", .call = hello,
	  .fields = { CALL, F("backend", SHOW_STR, backend),
		      F("server", SHOW_STR, server),
		      F("protocol", SHOW_U32, version), F("caps", SHOW_HEX, caps),
		      F("max_fds", SHOW_U32, max_fds) } },
	{ .op = "ioas-alloc", .call = alloc1,
	  .fields = { CALL, F("ioas", SHOW_U32, ioas1) } },
	{ .op = "ioas-alloc", .call = alloc2,
	  .fields = { CALL, F("ioas", SHOW_U32, ioas2) } },
	{ .op = "memfd", .call = memfd, .local = true,
	  .fields = { CALL, F("size", SHOW_SIZE, size),
		      TEXT("seals", "shrink,grow") } },
	{ .op = "register", .call = register_memfd,
	  .fields = { CALL, F("memory", SHOW_U32, mem),
		      F("length", SHOW_SIZE, info.length),
		      F("kind", SHOW_CHARS, info.kind),
		      F("page_size", SHOW_SIZE, info.page_size),
		      F("writable", SHOW_YESNO, info.writable) } },
	{ .op = "map", .call = map_auto,
	  .fields = { F("ioas", SHOW_U32, ioas1), F("memory", SHOW_U32, mem),
		      F("offset", SHOW_SIZE, off_lo), F("length", SHOW_SIZE, half),
		      F("flags", SHOW_FLAGS, rw), CALL, ARROW,
		      F("iova", SHOW_HEX, auto_iova),
		      TEXT("chosen_by", "daemon") } },
	{ .op = "map", .prepare = choose_fixed_iova, .call = map_fixed,
	  .fields = { F("ioas", SHOW_U32, ioas1), F("memory", SHOW_U32, mem),
		      F("offset", SHOW_SIZE, off_hi), F("length", SHOW_SIZE, half),
		      F("flags", SHOW_FLAGS, rw_fixed),
		      F("iova", SHOW_HEX, fixed_iova), CALL, ARROW,
		      TEXT("result", "mapped") } },
	{ .op = "copy", .call = copy,
	  .fields = { F("src_ioas", SHOW_U32, ioas1),
		      F("src_iova", SHOW_HEX, auto_iova),
		      F("length", SHOW_SIZE, half),
		      F("dst_ioas", SHOW_U32, ioas2), CALL, ARROW,
		      F("dst_iova", SHOW_HEX, copy_iova) } },
	{ .op = "iova-ranges", .call = iova_ranges,
	  .fields = { F("ioas", SHOW_U32, ioas1), CALL,
		      F("alignment", SHOW_HEX, align),
		      F("ranges", SHOW_RANGES, ranges) } },
	{ .op = "stats", .call = stats,
	  .fields = { CALL, F("ioas", SHOW_U32, st.ioas),
		      F("memory_regions", SHOW_U32, st.memory_regions),
		      F("mappings", SHOW_U32, st.mappings),
		      F("mapped", SHOW_SIZE, st.mapped_bytes),
		      F("pinned", SHOW_SIZE, st.pinned_bytes),
		      F_IF("connections", SHOW_U32, st.connections,
			   daemon_wide) } },
	{ .op = "unmap", .call = unmap_fixed,
	  .fields = { F("ioas", SHOW_U32, ioas1), F("iova", SHOW_HEX, fixed_iova),
		      F("length", SHOW_SIZE, half), CALL, ARROW,
		      F("unmapped", SHOW_SIZE, unmapped) } },
	{ .op = "unmap-all", .call = unmap_all1,
	  .fields = { F("ioas", SHOW_U32, ioas1), CALL, ARROW,
		      F("unmapped", SHOW_SIZE, unmapped) } },
	{ .op = "unmap-all", .call = unmap_all2,
	  .fields = { F("ioas", SHOW_U32, ioas2), CALL, ARROW,
		      F("unmapped", SHOW_SIZE, unmapped) } },
	{ .op = "ioas-destroy", .call = destroy1,
	  .fields = { F("ioas", SHOW_U32, ioas1), CALL } },
	{ .op = "ioas-destroy", .call = destroy2,
	  .fields = { F("ioas", SHOW_U32, ioas2), CALL } },
	{ .op = "unregister", .call = unregister,
	  .fields = { F("memory", SHOW_U32, mem), CALL } },
};

/* One step: its line (or JSON object), its call where CALL stands. */
static int run_step(struct demo *d, const struct step *s)
{
	int r;

	if (s->prepare) {
		r = s->prepare(d);
		if (r)
			return r;
	}
	step_begin(d, s->op);
	for (const struct field *f = s->fields; f->show != SHOW_END; f++) {
		if (f->show != SHOW_CALL) {
			show(d, f);
			continue;
		}
		r = s->call(d);
		if (r < 0 && s->local) {
			step_end(d);
			return local_error(d->ctl, "demo", r, "%s", s->op);
		}
		if (r < 0)
			return step_fail(d, s->op, r);
	}
	step_end(d);
	return 0;
}

int cmd_demo(struct ctl *ctl, int argc, char **argv)
{
	struct opt opts[] = { { "size", true } };
	struct demo d = {
		.ctl = ctl,
		.size = 2u << 20,
		.rw = IOAS_MAP_READABLE | IOAS_MAP_WRITEABLE,
		.rw_fixed = IOAS_MAP_READABLE | IOAS_MAP_WRITEABLE | IOAS_MAP_FIXED_IOVA,
		.fd = -1,
	};
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, opts, 1, NULL, 0, 0, &npos);
	if (r)
		return r;
	if (opts[0].set &&
	    (parse_size(ctl, opts[0].val, &d.size) < 0 || d.size < 8192 ||
	     d.size % 8192))
		return bad_value(ctl, argv[0],
				 "size (a multiple of 8 KiB, at least 8 KiB)",
				 opts[0].val);
	d.half = d.size / 2;
	d.off_hi = d.half;

	r = ensure_client(ctl);
	if (r)
		return r;
	d.c = ctl->client;
	for (size_t i = 0; r == 0 && i < sizeof(steps) / sizeof(steps[0]); i++)
		r = run_step(&d, &steps[i]);
	free(d.ranges);
	return r;
}
