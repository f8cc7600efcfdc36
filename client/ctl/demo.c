/* SPDX-License-Identifier: MIT */
/* ioasctl: demo, every operation once on one connection. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ctl.h"

/* ------------------------------------------------------------ demo */

struct demo {
	struct ctl *ctl;
	unsigned int step;
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

int cmd_demo(struct ctl *ctl, int argc, char **argv)
{
	struct opt opts[] = { { "size", true } };
	struct demo d = { .ctl = ctl };
	struct ioas_iova_range *ranges = NULL;
	struct ioas_memory_info info;
	struct ioas_stats st;
	struct ioas_client *c;
	uint64_t size = 2u << 20, half, align, auto_iova, fixed_iova = 0,
		 copy_iova, unmapped;
	const uint32_t rw = IOAS_MAP_READABLE | IOAS_MAP_WRITEABLE;
	uint32_t ioas1, ioas2, mem, num;
	char fbuf[64];
	size_t npos;
	int fd = -1, r;

	r = parse_args(ctl, argc, argv, opts, 1, NULL, 0, 0, &npos);
	if (r)
		return r;
	if (opts[0].set &&
	    (parse_size(ctl, opts[0].val, &size) < 0 || size < 8192 ||
	     size % 8192))
		return bad_value(ctl, argv[0],
				 "size (a multiple of 8 KiB, at least 8 KiB)",
				 opts[0].val);
	half = size / 2;

	r = ensure_client(ctl);
	if (r)
		return r;
	c = ctl->client;

	step_begin(&d, "hello");
	fstr(&d, "backend", ioas_client_backend(c));
	fstr(&d, "server", ioas_client_server(c));
	fu64(&d, "protocol", ioas_client_version(c), false);
	fu64(&d, "caps", ioas_client_caps(c), true);
	fu64(&d, "max_fds", ioas_client_max_fds(c), false);
	step_end(&d);

	step_begin(&d, "ioas-alloc");
	r = ioas_alloc(c, &ioas1);
	if (r < 0)
		return step_fail(&d, "ioas-alloc", r);
	fu64(&d, "ioas", ioas1, false);
	step_end(&d);

	step_begin(&d, "ioas-alloc");
	r = ioas_alloc(c, &ioas2);
	if (r < 0)
		return step_fail(&d, "ioas-alloc", r);
	fu64(&d, "ioas", ioas2, false);
	step_end(&d);

	step_begin(&d, "memfd");
	r = ioas_memfd_create("ioasctl-demo", size, &fd);
	if (r < 0) {
		step_end(&d);
		return local_error(ctl, "demo", r, "memfd");
	}
	fsize(&d, "size", size);
	fstr(&d, "seals", "shrink,grow");
	step_end(&d);

	step_begin(&d, "register");
	r = ioas_memory_register(c, fd, 0, size, &mem, &info);
	close(fd);
	if (r < 0)
		return step_fail(&d, "register", r);
	fu64(&d, "memory", mem, false);
	fsize(&d, "length", info.length);
	fstr(&d, "kind", info.kind);
	fsize(&d, "page_size", info.page_size);
	if (ctl->json)
		jbool(ctl, "writable", info.writable);
	else
		fstr(&d, "writable", info.writable ? "yes" : "no");
	step_end(&d);

	step_begin(&d, "map");
	fu64(&d, "ioas", ioas1, false);
	fu64(&d, "memory", mem, false);
	fsize(&d, "offset", 0);
	fsize(&d, "length", half);
	fstr(&d, "flags", fmt_flags(rw, fbuf, sizeof(fbuf)));
	r = ioas_map(c, ioas1, mem, 0, half, rw, &auto_iova);
	if (r < 0)
		return step_fail(&d, "map", r);
	farrow(&d);
	fu64(&d, "iova", auto_iova, true);
	fstr(&d, "chosen_by", "daemon");
	step_end(&d);

	r = ioas_iova_ranges_all(c, ioas1, &ranges, &num, &align);
	if (r < 0)
		return op_error(ctl, "iova-ranges", r);
	if (!pick_fixed_iova(ranges, num, align, auto_iova, half, half,
			     &fixed_iova)) {
		free(ranges);
		return local_error(ctl, "demo", 0,
				   "no room for a fixed IOVA in ioas %u",
				   ioas1);
	}
	free(ranges);
	ranges = NULL;

	step_begin(&d, "map");
	fu64(&d, "ioas", ioas1, false);
	fu64(&d, "memory", mem, false);
	fsize(&d, "offset", half);
	fsize(&d, "length", half);
	fstr(&d, "flags", fmt_flags(rw | IOAS_MAP_FIXED_IOVA, fbuf,
				     sizeof(fbuf)));
	fu64(&d, "iova", fixed_iova, true);
	r = ioas_map(c, ioas1, mem, half, half, rw | IOAS_MAP_FIXED_IOVA,
		     &fixed_iova);
	if (r < 0)
		return step_fail(&d, "map", r);
	farrow(&d);
	fstr(&d, "result", "mapped");
	step_end(&d);

	step_begin(&d, "copy");
	fu64(&d, "src_ioas", ioas1, false);
	fu64(&d, "src_iova", auto_iova, true);
	fsize(&d, "length", half);
	fu64(&d, "dst_ioas", ioas2, false);
	r = ioas_copy(c, ioas2, ioas1, rw, auto_iova, half, &copy_iova);
	if (r < 0)
		return step_fail(&d, "copy", r);
	farrow(&d);
	fu64(&d, "dst_iova", copy_iova, true);
	step_end(&d);

	step_begin(&d, "iova-ranges");
	fu64(&d, "ioas", ioas1, false);
	r = ioas_iova_ranges_all(c, ioas1, &ranges, &num, &align);
	if (r < 0)
		return step_fail(&d, "iova-ranges", r);
	fu64(&d, "alignment", align, true);
	if (ctl->json) {
		jkey(ctl, "ranges");
		fputc('[', stdout);
		for (uint32_t i = 0; i < num; i++)
			printf("%s{\"start\":%" PRIu64 ",\"last\":%" PRIu64 "}",
			       i ? "," : "", ranges[i].start, ranges[i].last);
		fputc(']', stdout);
	} else {
		fputs(" ranges=", stdout);
		for (uint32_t i = 0; i < num; i++)
			printf("%s[0x%" PRIx64 "-0x%" PRIx64 "]", i ? "," : "",
			       ranges[i].start, ranges[i].last);
	}
	free(ranges);
	step_end(&d);

	step_begin(&d, "stats");
	r = ioas_stats(c, &st);
	if (r < 0)
		return step_fail(&d, "stats", r);
	fu64(&d, "ioas", st.ioas, false);
	fu64(&d, "memory_regions", st.memory_regions, false);
	fu64(&d, "mappings", st.mappings, false);
	fsize(&d, "mapped", st.mapped_bytes);
	fsize(&d, "pinned", st.pinned_bytes);
	if (st.daemon_wide)
		fu64(&d, "connections", st.connections, false);
	step_end(&d);

	step_begin(&d, "unmap");
	fu64(&d, "ioas", ioas1, false);
	fu64(&d, "iova", fixed_iova, true);
	fsize(&d, "length", half);
	r = ioas_unmap(c, ioas1, fixed_iova, half, &unmapped);
	if (r < 0)
		return step_fail(&d, "unmap", r);
	farrow(&d);
	fsize(&d, "unmapped", unmapped);
	step_end(&d);

	step_begin(&d, "unmap-all");
	fu64(&d, "ioas", ioas1, false);
	r = ioas_unmap_all(c, ioas1, &unmapped);
	if (r < 0)
		return step_fail(&d, "unmap-all", r);
	farrow(&d);
	fsize(&d, "unmapped", unmapped);
	step_end(&d);

	step_begin(&d, "unmap-all");
	fu64(&d, "ioas", ioas2, false);
	r = ioas_unmap_all(c, ioas2, &unmapped);
	if (r < 0)
		return step_fail(&d, "unmap-all", r);
	farrow(&d);
	fsize(&d, "unmapped", unmapped);
	step_end(&d);

	step_begin(&d, "ioas-destroy");
	fu64(&d, "ioas", ioas1, false);
	r = ioas_destroy(c, ioas1);
	if (r < 0)
		return step_fail(&d, "ioas-destroy", r);
	step_end(&d);

	step_begin(&d, "ioas-destroy");
	fu64(&d, "ioas", ioas2, false);
	r = ioas_destroy(c, ioas2);
	if (r < 0)
		return step_fail(&d, "ioas-destroy", r);
	step_end(&d);

	step_begin(&d, "unregister");
	fu64(&d, "memory", mem, false);
	r = ioas_memory_unregister(c, mem);
	if (r < 0)
		return step_fail(&d, "unregister", r);
	step_end(&d);
	return 0;
}
