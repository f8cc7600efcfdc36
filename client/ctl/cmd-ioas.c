/* SPDX-License-Identifier: MIT */
/* ioasctl: the IOAS commands (ioas-alloc, ioas-destroy, iova-ranges,
 * allow-iovas, huge-pages). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static int parse_ioas_alloc(struct ctl *ctl, int argc, char **argv, struct ctl_op *op)
{
	size_t npos;

	return parse_args(ctl, argc, argv, NULL, 0, NULL, 0, 0, &npos);
}

static int add_ioas_alloc(struct ioas_batch *b, const struct ctl_op *op)
{
	return ioas_batch_alloc(b);
}

static int run_ioas_alloc(struct ctl *ctl, const struct ctl_op *op,
			  struct ioas_batch_result *ret)
{
	return ioas_alloc(ctl->client, &ret->handle);
}

static void done_ioas_alloc(struct ctl *ctl, const struct ctl_op *op,
			    const struct ioas_batch_result *res)
{
	ctl->have_ioas = true;
	ctl->last_ioas = res->handle;
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", op->cmd);
		ju64(ctl, "ioas", res->handle);
		jclose();
	} else {
		printf("ioas %u\n", res->handle);
	}
}

const struct ctl_op_kind op_ioas_alloc = {
	parse_ioas_alloc, add_ioas_alloc, run_ioas_alloc, done_ioas_alloc,
	.undone = true, .sets = CTL_VAR_IOAS,
};

static int parse_ioas_destroy(struct ctl *ctl, int argc, char **argv, struct ctl_op *op)
{
	return ctl_op_parse_handle(ctl, argc, argv, op, "ioas");
}

static int add_ioas_destroy(struct ioas_batch *b, const struct ctl_op *op)
{
	return ioas_batch_destroy(b, op->handle);
}

static int run_ioas_destroy(struct ctl *ctl, const struct ctl_op *op,
			    struct ioas_batch_result *ret)
{
	return ioas_destroy(ctl->client, op->handle);
}

static void done_ioas_destroy(struct ctl *ctl, const struct ctl_op *op,
			      const struct ioas_batch_result *res)
{
	ctl_op_print_handle(ctl, op, "ioas", "destroyed");
}

const struct ctl_op_kind op_ioas_destroy = {
	parse_ioas_destroy, add_ioas_destroy, run_ioas_destroy, done_ioas_destroy,
};

int cmd_iova_ranges(struct ctl *ctl, int argc, char **argv)
{
	struct ioas_iova_range *ranges = NULL;
	uint32_t ioas, num;
	uint64_t align;
	char *pos[1];
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, NULL, 0, pos, 1, 1, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &ioas) < 0)
		return bad_value(ctl, argv[0], "ioas", pos[0]);
	r = ensure_client(ctl);
	if (r)
		return r;
	r = ioas_iova_ranges_all(ctl->client, ioas, &ranges, &num, &align);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", argv[0]);
		ju64(ctl, "ioas", ioas);
		ju64(ctl, "alignment", align);
		jkey(ctl, "ranges");
		fputc('[', stdout);
		for (uint32_t i = 0; i < num; i++)
			printf("%s{\"start\":%" PRIu64 ",\"last\":%" PRIu64 "}",
			       i ? "," : "", ranges[i].start, ranges[i].last);
		fputc(']', stdout);
		jclose();
	} else {
		printf("alignment 0x%" PRIx64 "\n", align);
		for (uint32_t i = 0; i < num; i++)
			printf("0x%016" PRIx64 "-0x%016" PRIx64 "\n",
			       ranges[i].start, ranges[i].last);
	}
	free(ranges);
	return 0;
}

int cmd_allow_iovas(struct ctl *ctl, int argc, char **argv)
{
	struct ioas_iova_range ranges[MAX_RANGES];
	char *pos[MAX_RANGES + 1];
	uint32_t ioas;
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, NULL, 0, pos, 1, MAX_RANGES + 1,
		       &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &ioas) < 0)
		return bad_value(ctl, argv[0], "ioas", pos[0]);
	for (size_t i = 1; i < npos; i++) {
		char buf[128], *dash;

		snprintf(buf, sizeof(buf), "%s", pos[i]);
		dash = strchr(buf, '-');
		if (!dash)
			return bad_value(ctl, argv[0], "range (START-LAST)",
					 pos[i]);
		*dash = '\0';
		if (parse_size(ctl, buf, &ranges[i - 1].start) < 0 ||
		    parse_size(ctl, dash + 1, &ranges[i - 1].last) < 0)
			return bad_value(ctl, argv[0], "range (START-LAST)",
					 pos[i]);
	}
	r = ensure_client(ctl);
	if (r)
		return r;
	r = ioas_allow_iovas(ctl->client, ioas, ranges, (uint32_t)(npos - 1));
	if (r < 0)
		return op_error(ctl, argv[0], r);
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", argv[0]);
		ju64(ctl, "ioas", ioas);
		ju64(ctl, "count", npos - 1);
		jclose();
	} else {
		printf("ioas %u: %zu allowed range(s)\n", ioas, npos - 1);
	}
	return 0;
}

int cmd_huge_pages(struct ctl *ctl, int argc, char **argv)
{
	char *pos[2];
	uint32_t ioas;
	bool on = false, set = false;
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, NULL, 0, pos, 1, 2, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &ioas) < 0)
		return bad_value(ctl, argv[0], "ioas", pos[0]);
	if (npos == 2) {
		set = true;
		if (!strcmp(pos[1], "on") || !strcmp(pos[1], "1"))
			on = true;
		else if (!strcmp(pos[1], "off") || !strcmp(pos[1], "0"))
			on = false;
		else
			return bad_value(ctl, argv[0], "value (on|off)",
					 pos[1]);
	}
	r = ensure_client(ctl);
	if (r)
		return r;
	r = set ? ioas_huge_pages_set(ctl->client, ioas, on) :
		  ioas_huge_pages_get(ctl->client, ioas, &on);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", argv[0]);
		ju64(ctl, "ioas", ioas);
		jbool(ctl, "huge_pages", on);
		jclose();
	} else {
		printf("ioas %u huge-pages %s\n", ioas, on ? "on" : "off");
	}
	return 0;
}
