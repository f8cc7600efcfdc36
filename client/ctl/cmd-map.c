/* SPDX-License-Identifier: MIT */
/* ioasctl: the memory and mapping commands (register, memfd, unregister,
 * map, unmap, unmap-all, copy). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"

static int parse_unregister(struct ctl *ctl, int argc, char **argv, struct ctl_op *op)
{
	return ctl_op_parse_handle(ctl, argc, argv, op, "memory");
}

static int add_unregister(struct ioas_batch *b, const struct ctl_op *op)
{
	return ioas_batch_memory_unregister(b, op->handle);
}

static int run_unregister(struct ctl *ctl, const struct ctl_op *op,
			  struct ioas_batch_result *ret)
{
	return ioas_memory_unregister(ctl->client, op->handle);
}

static void done_unregister(struct ctl *ctl, const struct ctl_op *op,
			    const struct ioas_batch_result *res)
{
	forget_memory(ctl, op->handle);
	ctl_op_print_handle(ctl, op, "memory", "unregistered");
}

const struct ctl_op_kind op_unregister = {
	parse_unregister, add_unregister, run_unregister, done_unregister,
};

int cmd_register(struct ctl *ctl, int argc, char **argv)
{
	struct opt opts[] = {
		{ "size", true }, { "fd", true }, { "file", true },
		{ "offset", true }, { "length", true },
	};
	struct ioas_memory_info info;
	uint64_t size = 0, offset = 0, length = 0;
	bool is_memfd_cmd = !strcmp(argv[0], "memfd");
	char *pos[1], buf[32];
	int fd = -1, sources;
	bool own_fd = false;
	uint32_t mem;
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, opts, 5, pos, is_memfd_cmd ? 1 : 0,
		       is_memfd_cmd ? 1 : 0, &npos);
	if (r)
		return r;
	if (is_memfd_cmd) {
		opts[0].set = true;
		opts[0].val = pos[0];
	}
	sources = opts[0].set + opts[1].set + opts[2].set;
	if (sources != 1)
		return usage_error(ctl, argv[0],
				   "give exactly one of --size, --fd, --file");
	if (opts[3].set && parse_size(ctl, opts[3].val, &offset) < 0)
		return bad_value(ctl, argv[0], "offset", opts[3].val);
	if (opts[4].set && parse_size(ctl, opts[4].val, &length) < 0)
		return bad_value(ctl, argv[0], "length", opts[4].val);

	if (opts[0].set) {
		if (parse_size(ctl, opts[0].val, &size) < 0 || size == 0)
			return bad_value(ctl, argv[0], "size", opts[0].val);
		r = ioas_memfd_create("ioasctl", size, &fd);
		if (r < 0)
			return local_error(ctl, argv[0], r,
					   "cannot create a sealed memfd of %s",
					   fmt_size(size, buf, sizeof(buf)));
		own_fd = true;
	} else if (opts[1].set) {
		uint32_t v;

		if (parse_u32(ctl, opts[1].val, &v) < 0 || v > INT_MAX)
			return bad_value(ctl, argv[0], "fd", opts[1].val);
		fd = (int)v;
		if (fcntl(fd, F_GETFD) < 0)
			return local_error(ctl, argv[0], -errno, "fd %d", fd);
	} else {
		fd = open(opts[2].val, O_RDWR | O_CLOEXEC);
		if (fd < 0 && (errno == EACCES || errno == EROFS))
			fd = open(opts[2].val, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return local_error(ctl, argv[0], -errno, "%s",
					   opts[2].val);
		own_fd = true;
	}
	if (!opts[4].set) {
		off_t end = lseek(fd, 0, SEEK_END);

		if (end < 0 || (uint64_t)end < offset) {
			r = local_error(ctl, argv[0], end < 0 ? -errno : 0,
					"cannot size the region; give --length");
			if (own_fd)
				close(fd);
			return r;
		}
		length = (uint64_t)end - offset;
	}

	r = ensure_client(ctl);
	if (r == 0)
		r = ioas_memory_register(ctl->client, fd, offset, length, &mem,
					 &info);
	/* The daemon holds its own copy now; ours is not needed. */
	if (own_fd)
		close(fd);
	if (r > 0)
		return r;
	if (r < 0)
		return op_error(ctl, argv[0], r);

	remember_memory(ctl, mem, info.length);
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", argv[0]);
		ju64(ctl, "memory", mem);
		ju64(ctl, "length", info.length);
		jstr(ctl, "kind", info.kind);
		ju64(ctl, "page_size", info.page_size);
		jbool(ctl, "writable", info.writable);
		jclose();
	} else {
		char pbuf[32];

		printf("memory %u length %s kind %s page-size %s %s\n", mem,
		       fmt_size(info.length, buf, sizeof(buf)), info.kind,
		       fmt_size(info.page_size, pbuf, sizeof(pbuf)),
		       info.writable ? "writable" : "read-only");
	}
	return 0;
}

/* --flags N, or --read/--write (default both). */
static int map_flags(struct ctl *ctl, const char *cmd, struct opt *flags_opt,
		     struct opt *read_opt, struct opt *write_opt,
		     uint32_t *ret)
{
	uint32_t f = 0;

	if (flags_opt->set) {
		if (read_opt->set || write_opt->set)
			return usage_error(ctl, cmd,
					   "--flags excludes --read/--write");
		if (parse_u32(ctl, flags_opt->val, &f) < 0)
			return bad_value(ctl, cmd, "flags", flags_opt->val);
		*ret = f;
		return 0;
	}
	if (read_opt->set)
		f |= IOAS_MAP_READABLE;
	if (write_opt->set)
		f |= IOAS_MAP_WRITEABLE;
	if (!f)
		f = IOAS_MAP_READABLE | IOAS_MAP_WRITEABLE;
	*ret = f;
	return 0;
}

static int parse_map(struct ctl *ctl, int argc, char **argv, struct ctl_op *op)
{
	struct opt opts[] = {
		{ "offset", true }, { "length", true }, { "iova", true },
		{ "flags", true },  { "read", false },  { "write", false },
	};
	uint64_t mlen;
	char *pos[2];
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, opts, 6, pos, 2, 2, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &op->ioas) < 0)
		return bad_value(ctl, argv[0], "ioas", pos[0]);
	if (parse_u32(ctl, pos[1], &op->handle) < 0)
		return bad_value(ctl, argv[0], "memory", pos[1]);
	if (opts[0].set && parse_size(ctl, opts[0].val, &op->offset) < 0)
		return bad_value(ctl, argv[0], "offset", opts[0].val);
	if (opts[1].set) {
		if (parse_size(ctl, opts[1].val, &op->length) < 0)
			return bad_value(ctl, argv[0], "length", opts[1].val);
	} else if (known_memory_length(ctl, op->handle, &mlen) && mlen > op->offset) {
		op->length = mlen - op->offset;
	} else {
		return usage_error(ctl, argv[0],
				   "--length is needed for memory %u", op->handle);
	}
	r = map_flags(ctl, argv[0], &opts[3], &opts[4], &opts[5], &op->flags);
	if (r)
		return r;
	if (opts[2].set) {
		if (parse_size(ctl, opts[2].val, &op->iova) < 0)
			return bad_value(ctl, argv[0], "iova", opts[2].val);
		op->flags |= IOAS_MAP_FIXED_IOVA;
	}
	return 0;
}

static int add_map(struct ioas_batch *b, const struct ctl_op *op)
{
	return ioas_batch_map(b, op->ioas, op->handle, op->offset, op->length,
			      op->flags, op->iova);
}

static int run_map(struct ctl *ctl, const struct ctl_op *op,
		   struct ioas_batch_result *ret)
{
	ret->iova = op->iova;
	return ioas_map(ctl->client, op->ioas, op->handle, op->offset, op->length,
			op->flags, &ret->iova);
}

static void done_map(struct ctl *ctl, const struct ctl_op *op,
		     const struct ioas_batch_result *res)
{
	char fbuf[64], sbuf[32];

	ctl->have_iova = true;
	ctl->last_iova = res->iova;
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", op->cmd);
		ju64(ctl, "ioas", op->ioas);
		ju64(ctl, "memory", op->handle);
		ju64(ctl, "offset", op->offset);
		ju64(ctl, "length", op->length);
		ju64(ctl, "flags", op->flags);
		ju64(ctl, "iova", res->iova);
		jclose();
	} else {
		printf("iova 0x%" PRIx64 " length %s flags %s\n", res->iova,
		       fmt_size(op->length, sbuf, sizeof(sbuf)),
		       fmt_flags(op->flags, fbuf, sizeof(fbuf)));
	}
}

const struct ctl_op_kind op_map = {
	parse_map, add_map, run_map, done_map, .undone = true, .sets = CTL_VAR_IOVA,
};

static int parse_unmap(struct ctl *ctl, int argc, char **argv, struct ctl_op *op)
{
	struct opt opts[] = { { "all", false } };
	char *pos[3];
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, opts, 1, pos, 1, 3, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &op->ioas) < 0)
		return bad_value(ctl, argv[0], "ioas", pos[0]);
	if (opts[0].set) {
		if (npos != 1)
			return usage_error(ctl, argv[0],
					   "--all takes no IOVA or length");
		op->length = IOAS_UNMAP_ALL_LENGTH;
		return 0;
	}
	if (npos != 3)
		return usage_error(ctl, argv[0],
				   "give IOAS IOVA LENGTH, or IOAS --all");
	if (parse_size(ctl, pos[1], &op->iova) < 0)
		return bad_value(ctl, argv[0], "iova", pos[1]);
	if (parse_size(ctl, pos[2], &op->length) < 0)
		return bad_value(ctl, argv[0], "length", pos[2]);
	return 0;
}

static int parse_unmap_all(struct ctl *ctl, int argc, char **argv, struct ctl_op *op)
{
	char *pos[1];
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, NULL, 0, pos, 1, 1, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &op->ioas) < 0)
		return bad_value(ctl, argv[0], "ioas", pos[0]);
	op->length = IOAS_UNMAP_ALL_LENGTH;
	return 0;
}

static int add_unmap(struct ioas_batch *b, const struct ctl_op *op)
{
	return ioas_batch_unmap(b, op->ioas, op->iova, op->length);
}

static int run_unmap(struct ctl *ctl, const struct ctl_op *op,
		     struct ioas_batch_result *ret)
{
	return ioas_unmap(ctl->client, op->ioas, op->iova, op->length, &ret->unmapped);
}

static void done_unmap(struct ctl *ctl, const struct ctl_op *op,
		       const struct ioas_batch_result *res)
{
	char buf[32];

	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", op->cmd);
		ju64(ctl, "ioas", op->ioas);
		ju64(ctl, "unmapped", res->unmapped);
		jclose();
	} else {
		printf("unmapped %s\n", fmt_size(res->unmapped, buf, sizeof(buf)));
	}
}

const struct ctl_op_kind op_unmap = { parse_unmap, add_unmap, run_unmap, done_unmap };
const struct ctl_op_kind op_unmap_all = {
	parse_unmap_all, add_unmap, run_unmap, done_unmap,
};

static int parse_copy(struct ctl *ctl, int argc, char **argv, struct ctl_op *op)
{
	struct opt opts[] = {
		{ "iova", true }, { "flags", true },
		{ "read", false }, { "write", false },
	};
	char *pos[4];
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, opts, 4, pos, 4, 4, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &op->ioas2) < 0)
		return bad_value(ctl, argv[0], "source ioas", pos[0]);
	if (parse_size(ctl, pos[1], &op->iova2) < 0)
		return bad_value(ctl, argv[0], "source iova", pos[1]);
	if (parse_size(ctl, pos[2], &op->length) < 0)
		return bad_value(ctl, argv[0], "length", pos[2]);
	if (parse_u32(ctl, pos[3], &op->ioas) < 0)
		return bad_value(ctl, argv[0], "destination ioas", pos[3]);
	r = map_flags(ctl, argv[0], &opts[1], &opts[2], &opts[3], &op->flags);
	if (r)
		return r;
	if (opts[0].set) {
		if (parse_size(ctl, opts[0].val, &op->iova) < 0)
			return bad_value(ctl, argv[0], "iova", opts[0].val);
		op->flags |= IOAS_MAP_FIXED_IOVA;
	}
	return 0;
}

static int add_copy(struct ioas_batch *b, const struct ctl_op *op)
{
	return ioas_batch_copy(b, op->ioas, op->ioas2, op->flags, op->iova2, op->length,
			       op->iova);
}

static int run_copy(struct ctl *ctl, const struct ctl_op *op,
		    struct ioas_batch_result *ret)
{
	ret->iova = op->iova;
	return ioas_copy(ctl->client, op->ioas, op->ioas2, op->flags, op->iova2,
			 op->length, &ret->iova);
}

static void done_copy(struct ctl *ctl, const struct ctl_op *op,
		      const struct ioas_batch_result *res)
{
	char sbuf[32];

	ctl->have_iova = true;
	ctl->last_iova = res->iova;
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", op->cmd);
		ju64(ctl, "src_ioas", op->ioas2);
		ju64(ctl, "src_iova", op->iova2);
		ju64(ctl, "length", op->length);
		ju64(ctl, "dst_ioas", op->ioas);
		ju64(ctl, "flags", op->flags);
		ju64(ctl, "dst_iova", res->iova);
		jclose();
	} else {
		printf("ioas %u iova 0x%" PRIx64 " (%s from ioas %u iova 0x%" PRIx64 ")\n",
		       op->ioas, res->iova, fmt_size(op->length, sbuf, sizeof(sbuf)),
		       op->ioas2, op->iova2);
	}
}

const struct ctl_op_kind op_copy = {
	parse_copy, add_copy, run_copy, done_copy, .undone = true, .sets = CTL_VAR_IOVA,
};
