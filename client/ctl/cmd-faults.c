/* SPDX-License-Identifier: MIT */
/*
 * ioasctl: fault queues, dirty bitmaps, PASIDs (fault-alloc, fault-destroy,
 * hwpt-set-dirty, hwpt-get-dirty, pasid-attach, pasid-detach, pasids).
 * A fault queue's fd comes to ioasctl and is closed when it exits: the
 * queue is for programs that read it (libioas), the commands are for
 * scripts and for looking.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"

int cmd_fault_alloc(struct ctl *ctl, int argc, char **argv)
{
	uint32_t fault;
	size_t npos;
	int r, fd;

	r = parse_args(ctl, argc, argv, NULL, 0, NULL, 0, 0, &npos);
	if (r)
		return r;
	r = ensure_client(ctl);
	if (r)
		return r;
	r = ioas_fault_alloc(ctl->client, &fault, &fd);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	close(fd); /* nobody here reads it */
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", argv[0]);
		ju64(ctl, "fault", fault);
		jclose();
	} else {
		printf("allocated fault queue %u (its fd is closed: ioasctl reads no "
		       "faults)\n", fault);
	}
	return 0;
}

int cmd_fault_destroy(struct ctl *ctl, int argc, char **argv)
{
	return cmd_one_handle(ctl, argc, argv, "fault", "destroyed",
			      ioas_fault_destroy);
}

int cmd_hwpt_set_dirty(struct ctl *ctl, int argc, char **argv)
{
	uint32_t hwpt;
	char *pos[2];
	size_t npos;
	bool on;
	int r;

	r = parse_args(ctl, argc, argv, NULL, 0, pos, 2, 2, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &hwpt) < 0)
		return bad_value(ctl, argv[0], "hwpt", pos[0]);
	if (strcmp(pos[1], "on") && strcmp(pos[1], "off"))
		return bad_value(ctl, argv[0], "on or off", pos[1]);
	on = !strcmp(pos[1], "on");
	r = ensure_client(ctl);
	if (r)
		return r;
	r = ioas_hwpt_set_dirty(ctl->client, hwpt, on);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", argv[0]);
		ju64(ctl, "hwpt", hwpt);
		jbool(ctl, "tracking", on);
		jclose();
	} else {
		printf("hwpt %u: dirty tracking %s\n", hwpt, on ? "on" : "off");
	}
	return 0;
}

int cmd_hwpt_get_dirty(struct ctl *ctl, int argc, char **argv)
{
	struct opt opts[] = { { "page-size", true }, { "memory", true },
			      { "offset", true }, { "no-clear", false } };
	uint64_t iova, length, page = 4096, offset = 0, dirty = 0;
	uint32_t hwpt, mem;
	char *pos[3];
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, opts, 4, pos, 3, 3, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &hwpt) < 0)
		return bad_value(ctl, argv[0], "hwpt", pos[0]);
	if (parse_size(ctl, pos[1], &iova) < 0)
		return bad_value(ctl, argv[0], "iova", pos[1]);
	if (parse_size(ctl, pos[2], &length) < 0)
		return bad_value(ctl, argv[0], "length", pos[2]);
	if (!opts[1].set)
		return usage_error(ctl, argv[0], "--memory MEM is needed (the bitmap "
				   "goes into registered memory)");
	if (parse_u32(ctl, opts[1].val, &mem) < 0)
		return bad_value(ctl, argv[0], "memory", opts[1].val);
	if (opts[0].set && parse_size(ctl, opts[0].val, &page) < 0)
		return bad_value(ctl, argv[0], "page size", opts[0].val);
	if (opts[2].set && parse_size(ctl, opts[2].val, &offset) < 0)
		return bad_value(ctl, argv[0], "offset", opts[2].val);
	r = ensure_client(ctl);
	if (r)
		return r;
	r = ioas_hwpt_get_dirty(ctl->client, hwpt, iova, length, page, mem, offset,
				opts[3].set ? IOAS_DIRTY_NO_CLEAR : 0, &dirty);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", argv[0]);
		ju64(ctl, "hwpt", hwpt);
		ju64(ctl, "iova", iova);
		ju64(ctl, "length", length);
		ju64(ctl, "page_size", page);
		ju64(ctl, "memory", mem);
		ju64(ctl, "offset", offset);
		ju64(ctl, "dirty", dirty);
		jclose();
	} else {
		printf("hwpt %u: %llu dirty page(s) of %llu bytes in [0x%llx, +0x%llx); "
		       "bitmap in memory %u at %llu%s\n", hwpt,
		       (unsigned long long)dirty, (unsigned long long)page,
		       (unsigned long long)iova, (unsigned long long)length, mem,
		       (unsigned long long)offset, opts[3].set ? " (not cleared)" : "");
	}
	return 0;
}

static int pasid_args(struct ctl *ctl, char **argv, char **pos, uint32_t *dev,
		      uint32_t *pasid)
{
	if (parse_u32(ctl, pos[0], dev) < 0)
		return bad_value(ctl, argv[0], "device", pos[0]);
	if (parse_u32(ctl, pos[1], pasid) < 0)
		return bad_value(ctl, argv[0], "pasid", pos[1]);
	return 0;
}

int cmd_pasid_attach(struct ctl *ctl, int argc, char **argv)
{
	struct opt opts[] = { { "ioas", true }, { "hwpt", true } };
	uint32_t dev, pasid, ioas = 0, hwpt = 0;
	char *pos[2];
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, opts, 2, pos, 2, 2, &npos);
	if (r || (r = pasid_args(ctl, argv, pos, &dev, &pasid)))
		return r;
	if (opts[0].set == opts[1].set)
		return usage_error(ctl, argv[0], "give --hwpt HWPT or --ioas IOAS");
	if (opts[0].set && (parse_u32(ctl, opts[0].val, &ioas) < 0 || !ioas))
		return bad_value(ctl, argv[0], "ioas", opts[0].val);
	if (opts[1].set && (parse_u32(ctl, opts[1].val, &hwpt) < 0 || !hwpt))
		return bad_value(ctl, argv[0], "hwpt", opts[1].val);
	r = ensure_client(ctl);
	if (r)
		return r;
	r = ioas_pasid_attach(ctl->client, dev, pasid, ioas, hwpt);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", argv[0]);
		ju64(ctl, "device", dev);
		ju64(ctl, "pasid", pasid);
		ju64(ctl, hwpt ? "hwpt" : "ioas", hwpt ? hwpt : ioas);
		jclose();
	} else {
		printf("device %u pasid %u now on %s %u\n", dev, pasid,
		       hwpt ? "hwpt" : "ioas", hwpt ? hwpt : ioas);
	}
	return 0;
}

int cmd_pasid_detach(struct ctl *ctl, int argc, char **argv)
{
	uint32_t dev, pasid;
	char *pos[2];
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, NULL, 0, pos, 2, 2, &npos);
	if (r || (r = pasid_args(ctl, argv, pos, &dev, &pasid)))
		return r;
	r = ensure_client(ctl);
	if (r)
		return r;
	r = ioas_pasid_detach(ctl->client, dev, pasid);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", argv[0]);
		ju64(ctl, "device", dev);
		ju64(ctl, "pasid", pasid);
		jclose();
	} else {
		printf("device %u pasid %u detached\n", dev, pasid);
	}
	return 0;
}

int cmd_pasids(struct ctl *ctl, int argc, char **argv)
{
	struct ioas_pasid_info *list = NULL;
	uint32_t n = 0;
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, NULL, 0, NULL, 0, 0, &npos);
	if (r)
		return r;
	r = ensure_client(ctl);
	if (r)
		return r;
	r = ioas_pasid_list(ctl->client, &list, &n);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	if (!ctl->json && n == 0)
		printf("no pasids\n");
	for (uint32_t i = 0; i < n; i++) {
		const struct ioas_pasid_info *p = &list[i];

		if (ctl->json) {
			jopen(ctl);
			jstr(ctl, "cmd", "pasid");
			ju64(ctl, "device", p->device);
			ju64(ctl, "pasid", p->pasid);
			ju64(ctl, p->hwpt ? "hwpt" : "ioas", p->hwpt ? p->hwpt : p->ioas);
			jclose();
		} else {
			printf("device %u pasid %u: %s %u\n", p->device, p->pasid,
			       p->hwpt ? "hwpt" : "ioas", p->hwpt ? p->hwpt : p->ioas);
		}
	}
	free(list);
	return 0;
}
