/* SPDX-License-Identifier: MIT */
/* ioasctl: the IOAS commands (ioas-alloc, ioas-destroy, iova-ranges,
 * allow-iovas, huge-pages). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

int cmd_ioas_alloc(struct ctl *ctl, int argc, char **argv)
{
	uint32_t ioas;
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, NULL, 0, NULL, 0, 0, &npos);
	if (r)
		return r;
	r = ensure_client(ctl);
	if (r)
		return r;
	r = ioas_alloc(ctl->client, &ioas);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	ctl->have_ioas = true;
	ctl->last_ioas = ioas;
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", argv[0]);
		ju64(ctl, "ioas", ioas);
		jclose();
	} else {
		printf("ioas %u\n", ioas);
	}
	return 0;
}

/* Commands taking one handle and answering nothing but success. */
/* COMMAND HANDLE: fn(handle), then "DONE WHAT HANDLE" (or JSON). */
int cmd_one_handle(struct ctl *ctl, int argc, char **argv,
		   const char *what, const char *done,
		   int (*fn)(struct ioas_client *, uint32_t))
{
	char *pos[1];
	uint32_t h;
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, NULL, 0, pos, 1, 1, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &h) < 0)
		return bad_value(ctl, argv[0], what, pos[0]);
	r = ensure_client(ctl);
	if (r)
		return r;
	r = fn(ctl->client, h);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", argv[0]);
		ju64(ctl, what, h);
		jclose();
	} else {
		printf("%s %s %u\n", done, what, h);
	}
	return 0;
}

int cmd_ioas_destroy(struct ctl *ctl, int argc, char **argv)
{
	return cmd_one_handle(ctl, argc, argv, "ioas", "destroyed", ioas_destroy);
}

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
