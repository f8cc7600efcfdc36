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

int cmd_unregister(struct ctl *ctl, int argc, char **argv)
{
	uint32_t h;
	int r = cmd_one_handle(ctl, argc, argv, "memory", "unregistered",
			       ioas_memory_unregister);

	if (r == 0 && argc > 1 && parse_u32(ctl, argv[1], &h) == 0)
		forget_memory(ctl, h);
	return r;
}

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

int cmd_map(struct ctl *ctl, int argc, char **argv)
{
	struct opt opts[] = {
		{ "offset", true }, { "length", true }, { "iova", true },
		{ "flags", true },  { "read", false },  { "write", false },
	};
	uint64_t offset = 0, length = 0, iova = 0, mlen;
	uint32_t ioas, mem, flags;
	char *pos[2], fbuf[64], sbuf[32];
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, opts, 6, pos, 2, 2, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &ioas) < 0)
		return bad_value(ctl, argv[0], "ioas", pos[0]);
	if (parse_u32(ctl, pos[1], &mem) < 0)
		return bad_value(ctl, argv[0], "memory", pos[1]);
	if (opts[0].set && parse_size(ctl, opts[0].val, &offset) < 0)
		return bad_value(ctl, argv[0], "offset", opts[0].val);
	if (opts[1].set) {
		if (parse_size(ctl, opts[1].val, &length) < 0)
			return bad_value(ctl, argv[0], "length", opts[1].val);
	} else if (known_memory_length(ctl, mem, &mlen) && mlen > offset) {
		length = mlen - offset;
	} else {
		return usage_error(ctl, argv[0],
				   "--length is needed for memory %u", mem);
	}
	r = map_flags(ctl, argv[0], &opts[3], &opts[4], &opts[5], &flags);
	if (r)
		return r;
	if (opts[2].set) {
		if (parse_size(ctl, opts[2].val, &iova) < 0)
			return bad_value(ctl, argv[0], "iova", opts[2].val);
		flags |= IOAS_MAP_FIXED_IOVA;
	}

	r = ensure_client(ctl);
	if (r)
		return r;
	r = ioas_map(ctl->client, ioas, mem, offset, length, flags, &iova);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	ctl->have_iova = true;
	ctl->last_iova = iova;
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", argv[0]);
		ju64(ctl, "ioas", ioas);
		ju64(ctl, "memory", mem);
		ju64(ctl, "offset", offset);
		ju64(ctl, "length", length);
		ju64(ctl, "flags", flags);
		ju64(ctl, "iova", iova);
		jclose();
	} else {
		printf("iova 0x%" PRIx64 " length %s flags %s\n", iova,
		       fmt_size(length, sbuf, sizeof(sbuf)),
		       fmt_flags(flags, fbuf, sizeof(fbuf)));
	}
	return 0;
}

static int print_unmapped(struct ctl *ctl, const char *cmd, uint32_t ioas,
			  uint64_t unmapped)
{
	char buf[32];

	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", cmd);
		ju64(ctl, "ioas", ioas);
		ju64(ctl, "unmapped", unmapped);
		jclose();
	} else {
		printf("unmapped %s\n", fmt_size(unmapped, buf, sizeof(buf)));
	}
	return 0;
}

int cmd_unmap(struct ctl *ctl, int argc, char **argv)
{
	struct opt opts[] = { { "all", false } };
	uint64_t iova = 0, length = 0, unmapped = 0;
	char *pos[3];
	uint32_t ioas;
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, opts, 1, pos, 1, 3, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &ioas) < 0)
		return bad_value(ctl, argv[0], "ioas", pos[0]);
	if (opts[0].set) {
		if (npos != 1)
			return usage_error(ctl, argv[0],
					   "--all takes no IOVA or length");
		length = IOAS_UNMAP_ALL_LENGTH;
	} else {
		if (npos != 3)
			return usage_error(ctl, argv[0],
					   "give IOAS IOVA LENGTH, or IOAS --all");
		if (parse_size(ctl, pos[1], &iova) < 0)
			return bad_value(ctl, argv[0], "iova", pos[1]);
		if (parse_size(ctl, pos[2], &length) < 0)
			return bad_value(ctl, argv[0], "length", pos[2]);
	}
	r = ensure_client(ctl);
	if (r)
		return r;
	r = ioas_unmap(ctl->client, ioas, iova, length, &unmapped);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	return print_unmapped(ctl, argv[0], ioas, unmapped);
}

int cmd_unmap_all(struct ctl *ctl, int argc, char **argv)
{
	uint64_t unmapped = 0;
	char *pos[1];
	uint32_t ioas;
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
	r = ioas_unmap_all(ctl->client, ioas, &unmapped);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	return print_unmapped(ctl, argv[0], ioas, unmapped);
}

int cmd_copy(struct ctl *ctl, int argc, char **argv)
{
	struct opt opts[] = {
		{ "iova", true }, { "flags", true },
		{ "read", false }, { "write", false },
	};
	uint64_t src_iova, length, dst_iova = 0;
	uint32_t src, dst, flags;
	char *pos[4], sbuf[32];
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, opts, 4, pos, 4, 4, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &src) < 0)
		return bad_value(ctl, argv[0], "source ioas", pos[0]);
	if (parse_size(ctl, pos[1], &src_iova) < 0)
		return bad_value(ctl, argv[0], "source iova", pos[1]);
	if (parse_size(ctl, pos[2], &length) < 0)
		return bad_value(ctl, argv[0], "length", pos[2]);
	if (parse_u32(ctl, pos[3], &dst) < 0)
		return bad_value(ctl, argv[0], "destination ioas", pos[3]);
	r = map_flags(ctl, argv[0], &opts[1], &opts[2], &opts[3], &flags);
	if (r)
		return r;
	if (opts[0].set) {
		if (parse_size(ctl, opts[0].val, &dst_iova) < 0)
			return bad_value(ctl, argv[0], "iova", opts[0].val);
		flags |= IOAS_MAP_FIXED_IOVA;
	}
	r = ensure_client(ctl);
	if (r)
		return r;
	r = ioas_copy(ctl->client, dst, src, flags, src_iova, length,
		      &dst_iova);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	ctl->have_iova = true;
	ctl->last_iova = dst_iova;
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", argv[0]);
		ju64(ctl, "src_ioas", src);
		ju64(ctl, "src_iova", src_iova);
		ju64(ctl, "length", length);
		ju64(ctl, "dst_ioas", dst);
		ju64(ctl, "flags", flags);
		ju64(ctl, "dst_iova", dst_iova);
		jclose();
	} else {
		printf("ioas %u iova 0x%" PRIx64 " (%s from ioas %u iova 0x%" PRIx64 ")\n",
		       dst, dst_iova, fmt_size(length, sbuf, sizeof(sbuf)), src,
		       src_iova);
	}
	return 0;
}
