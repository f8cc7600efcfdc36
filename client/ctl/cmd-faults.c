/* SPDX-License-Identifier: MIT */
/*
 * ioasctl: fault queues, dirty bitmaps, PASIDs (fault-alloc, fault-destroy,
 * hwpt-set-dirty, hwpt-get-dirty, pasid-attach, pasid-detach, pasids).
 * A fault queue's fd comes to ioasctl and is closed when it exits: the
 * queue is for programs that read it (libioas), the commands are for
 * scripts and for looking.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ctl.h"

void ctl_faults_close(struct ctl *ctl)
{
	for (size_t i = 0; i < ctl->n_faults; i++)
		close(ctl->fault_fds[i]);
	ctl->n_faults = 0;
}

static int fault_fd(struct ctl *ctl, uint32_t fault)
{
	for (size_t i = 0; i < ctl->n_faults; i++)
		if (ctl->fault_ids[i] == fault)
			return ctl->fault_fds[i];
	return -1;
}

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
	/* Kept for fault-read and fault-respond in this run (a batch). */
	if (ctl->n_faults < sizeof(ctl->fault_fds) / sizeof(ctl->fault_fds[0])) {
		ctl->fault_ids[ctl->n_faults] = fault;
		ctl->fault_fds[ctl->n_faults++] = fd;
	} else {
		close(fd);
	}
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", argv[0]);
		ju64(ctl, "fault", fault);
		jclose();
	} else {
		printf("allocated fault queue %u\n", fault);
	}
	return 0;
}

int cmd_fault_read(struct ctl *ctl, int argc, char **argv)
{
	struct opt opts[] = { { "timeout", true } };
	struct ioas_fault rec[16];
	uint32_t fault, ms = 1000;
	struct pollfd p;
	char *pos[1];
	size_t npos;
	ssize_t n;
	int r, fd;

	r = parse_args(ctl, argc, argv, opts, 1, pos, 1, 1, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &fault) < 0)
		return bad_value(ctl, argv[0], "fault", pos[0]);
	if (opts[0].set && parse_u32(ctl, opts[0].val, &ms) < 0)
		return bad_value(ctl, argv[0], "timeout", opts[0].val);
	fd = fault_fd(ctl, fault);
	if (fd < 0)
		return usage_error(ctl, argv[0], "fault queue %u was not allocated in "
				   "this run: its fd is not here", fault);
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	r = poll(&p, 1, (int)ms);
	if (r < 0)
		return local_error(ctl, argv[0], -errno, "poll");
	if (r == 0) {
		if (ctl->json) {
			jopen(ctl);
			jstr(ctl, "cmd", argv[0]);
			ju64(ctl, "fault", fault);
			ju64(ctl, "records", 0);
			jclose();
		} else {
			printf("fault queue %u: no fault\n", fault);
		}
		return 0;
	}
	/* Whole groups of 40-byte records (the kernel's framing). */
	n = read(fd, rec, sizeof(rec));
	if (n < 0)
		return local_error(ctl, argv[0], -errno, "read of the queue's fd");
	for (size_t i = 0; i < (size_t)n / sizeof(rec[0]); i++) {
		const struct ioas_fault *f = &rec[i];

		if (ctl->json) {
			jopen(ctl);
			jstr(ctl, "cmd", "fault");
			ju64(ctl, "fault", fault);
			ju64(ctl, "flags", f->flags);
			ju64(ctl, "dev_id", f->dev_id);
			ju64(ctl, "pasid", f->pasid);
			ju64(ctl, "grpid", f->grpid);
			ju64(ctl, "perm", f->perm);
			ju64(ctl, "addr", f->addr);
			ju64(ctl, "length", f->length);
			ju64(ctl, "cookie", f->cookie);
			jclose();
		} else {
			printf("fault queue %u: flags 0x%x dev_id %u pasid %u grpid %u perm 0x%x "
			       "addr 0x%llx length %u cookie %u\n", fault, f->flags, f->dev_id,
			       f->pasid, f->grpid, f->perm, (unsigned long long)f->addr,
			       f->length, f->cookie);
		}
	}
	return 0;
}

int cmd_fault_respond(struct ctl *ctl, int argc, char **argv)
{
	struct opt opts[] = { { "invalid", false } };
	struct ioas_fault_response resp;
	uint32_t fault, cookie;
	char *pos[2];
	size_t npos;
	int r, fd;

	r = parse_args(ctl, argc, argv, opts, 1, pos, 2, 2, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &fault) < 0)
		return bad_value(ctl, argv[0], "fault", pos[0]);
	if (parse_u32(ctl, pos[1], &cookie) < 0)
		return bad_value(ctl, argv[0], "cookie", pos[1]);
	fd = fault_fd(ctl, fault);
	if (fd < 0)
		return usage_error(ctl, argv[0], "fault queue %u was not allocated in "
				   "this run: its fd is not here", fault);
	resp = (struct ioas_fault_response){
		.cookie = cookie,
		.code = opts[0].set ? IOAS_FAULT_RESP_INVALID : IOAS_FAULT_RESP_SUCCESS,
	};
	if (write(fd, &resp, sizeof(resp)) != (ssize_t)sizeof(resp)) {
		char why[96];

		snprintf(why, sizeof(why), "the kernel refused the response to "
			 "cookie %u (written to the queue's fd)", cookie);
		return op_error_reason(ctl, argv[0], -errno, why);
	}
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", argv[0]);
		ju64(ctl, "fault", fault);
		ju64(ctl, "cookie", cookie);
		jclose();
	} else {
		printf("fault queue %u: group of cookie %u answered %s\n", fault, cookie,
		       opts[0].set ? "invalid" : "success");
	}
	return 0;
}

int cmd_fault_close(struct ctl *ctl, int argc, char **argv)
{
	uint32_t fault;
	char *pos[1];
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, NULL, 0, pos, 1, 1, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &fault) < 0)
		return bad_value(ctl, argv[0], "fault", pos[0]);
	for (size_t i = 0; i < ctl->n_faults; i++) {
		if (ctl->fault_ids[i] != fault)
			continue;
		close(ctl->fault_fds[i]);
		ctl->fault_ids[i] = ctl->fault_ids[ctl->n_faults - 1];
		ctl->fault_fds[i] = ctl->fault_fds[--ctl->n_faults];
		printf("fault queue %u: fd closed\n", fault);
		return 0;
	}
	return usage_error(ctl, argv[0], "fault queue %u was not allocated in this "
			   "run: its fd is not here", fault);
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
	uint64_t iova, length, page = 4096, offset = 0, dirty = 0, words = 0;
	uint32_t hwpt, mem = 0;
	uint64_t *bits = MAP_FAILED;
	size_t npos, msize = 0;
	char *pos[3], hex[2 * 8 * 8 + 4] = "", why[512];
	int r, mfd = -1;

	r = parse_args(ctl, argc, argv, opts, 4, pos, 3, 3, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &hwpt) < 0)
		return bad_value(ctl, argv[0], "hwpt", pos[0]);
	if (parse_size(ctl, pos[1], &iova) < 0)
		return bad_value(ctl, argv[0], "iova", pos[1]);
	if (parse_size(ctl, pos[2], &length) < 0)
		return bad_value(ctl, argv[0], "length", pos[2]);
	if (opts[1].set && parse_u32(ctl, opts[1].val, &mem) < 0)
		return bad_value(ctl, argv[0], "memory", opts[1].val);
	if (opts[0].set && parse_size(ctl, opts[0].val, &page) < 0)
		return bad_value(ctl, argv[0], "page size", opts[0].val);
	if (opts[2].set && parse_size(ctl, opts[2].val, &offset) < 0)
		return bad_value(ctl, argv[0], "offset", opts[2].val);
	if (!opts[1].set && opts[2].set)
		return usage_error(ctl, argv[0], "--offset goes with --memory");
	r = ensure_client(ctl);
	if (r)
		return r;
	if (!opts[1].set) {
		/* A scratch region of our own: registered for the call, read
		 * back here (the first 8 words are printed), unregistered. */
		words = page ? (length / page + 63) / 64 : 0;
		msize = (size_t)((words * 8 + 4095) & ~UINT64_C(4095));
		if (!words || words > (8u << 20) / 8)
			return bad_value(ctl, argv[0], "length / page size", pos[2]);
		r = ioas_memfd_create("ioasctl-dirty", msize, &mfd);
		if (r == 0)
			r = ioas_memory_register(ctl->client, mfd, 0, msize, &mem, NULL);
		if (r < 0) {
			if (mfd >= 0)
				close(mfd);
			return op_error(ctl, argv[0], r);
		}
	}
	r = ioas_hwpt_get_dirty(ctl->client, hwpt, iova, length, page, mem, offset,
				opts[3].set ? IOAS_DIRTY_NO_CLEAR : 0, &dirty);
	/* The refusal's reason, before the scratch region's unregister
	 * replaces the client's last error. */
	snprintf(why, sizeof(why), "%s", r < 0 ? ioas_client_last_error(ctl->client) : "");
	if (mfd >= 0) {
		bits = mmap(NULL, msize, PROT_READ, MAP_SHARED, mfd, 0);
		for (size_t i = 0; r == 0 && bits != MAP_FAILED && i < words && i < 8; i++)
			snprintf(hex + strlen(hex), sizeof(hex) - strlen(hex), "%s%016llx",
				 i ? " " : "", (unsigned long long)bits[i]);
		if (bits != MAP_FAILED)
			munmap(bits, msize);
		(void)ioas_memory_unregister(ctl->client, mem);
		close(mfd);
	}
	if (r < 0)
		return op_error_reason(ctl, argv[0], r, why);
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
		if (mfd >= 0)
			jstr(ctl, "bitmap", hex);
		jclose();
	} else if (mfd >= 0) {
		printf("hwpt %u: %llu dirty page(s) of %llu bytes in [0x%llx, +0x%llx); "
		       "bitmap %s%s\n", hwpt, (unsigned long long)dirty,
		       (unsigned long long)page, (unsigned long long)iova,
		       (unsigned long long)length, hex, opts[3].set ? " (not cleared)" : "");
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
