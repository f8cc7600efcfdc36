/* SPDX-License-Identifier: MIT */
/*
 * libioas: identity maps. The caller's own shared mapping of a memfd is
 * described from /proc/self/maps (the file and the offset in it of the
 * address) and mapped at the IOVA equal to that address; the daemon checks
 * the description names the registered memory.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "internal.h"

struct vma {
	uint64_t start, end, pgoff, dev, ino;
	bool shared;
};

static int parse_vma(const char *line, struct vma *v)
{
	unsigned int maj, min;
	char perms[5];
	uint64_t ino;

	if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %x:%x %" SCNu64,
		   &v->start, &v->end, perms, &v->pgoff, &maj, &min, &ino) != 7)
		return -EINVAL;
	v->dev = makedev(maj, min);
	v->ino = ino;
	v->shared = perms[3] == 's';
	return 0;
}

/*
 * What [addr, addr + length) of this process is: one file (dev, ino),
 * mapped shared, without a hole, at contiguous file offsets; the file
 * offset of addr.
 */
static int describe(struct ioas_client *c, uint64_t addr, uint64_t length,
		    Ioasd__MapIdentity *ret)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "re");
	uint64_t at = addr, end = addr + length, want_off = 0;
	bool found = false;
	int r = 0;

	if (!f)
		return libioas_fail(c, -errno, "cannot read /proc/self/maps: %s",
				    strerror(errno));
	while (at < end && fgets(line, sizeof(line), f)) {
		struct vma v;

		if (parse_vma(line, &v) < 0 || v.end <= at)
			continue;
		if (v.start > at) {
			r = libioas_fail(c, -EINVAL,
					 "address 0x%" PRIx64 " is not mapped in this process",
					 at);
			break;
		}
		if (!v.shared || v.ino == 0) {
			r = libioas_fail(c, -EINVAL,
					 "address 0x%" PRIx64 " is not a shared mapping of a file (mmap the memfd with MAP_SHARED)",
					 at);
			break;
		}
		if (!found) {
			found = true;
			ret->dev = v.dev;
			ret->ino = v.ino;
			ret->file_offset = v.pgoff + (addr - v.start);
			want_off = ret->file_offset;
		}
		if (v.dev != ret->dev || v.ino != ret->ino ||
		    v.pgoff + (at - v.start) != want_off + (at - addr)) {
			r = libioas_fail(c, -EINVAL,
					 "[0x%" PRIx64 ", 0x%" PRIx64 ") is not one contiguous mapping of one file",
					 addr, end);
			break;
		}
		at = v.end;
	}
	fclose(f);
	if (r == 0 && at < end)
		r = libioas_fail(c, -EINVAL,
				 "address 0x%" PRIx64 " is not mapped in this process", at);
	return r;
}

IOAS_EXPORT int ioas_map_identity(struct ioas_client *c, uint32_t ioas,
				  uint32_t memory, uint64_t offset,
				  uint64_t length, uint32_t flags,
				  const void *addr)
{
	Ioasd__MapIdentity id = IOASD__MAP_IDENTITY__INIT;
	uint64_t a = (uint64_t)(uintptr_t)addr, last;
	Ioasd__MapReply *r;
	Ioasd__Map m;
	long page = sysconf(_SC_PAGESIZE);
	int ret;

	if (length == 0)
		return libioas_fail(c, -EINVAL, "map length is 0");
	if (__builtin_add_overflow(a, length - 1, &last))
		return libioas_fail(c, -EOVERFLOW, "address + length wraps");
	if (page > 0 && (a % (uint64_t)page || length % (uint64_t)page))
		return libioas_fail(c, -EINVAL,
				    "address 0x%" PRIx64 " and length 0x%" PRIx64
				    " must be page aligned", a, length);
	ret = describe(c, a, length, &id);
	if (ret < 0)
		return ret;
	libioas_msg_map(&m, ioas, memory, offset, length,
			flags | IOAS_MAP_FIXED_IOVA, a);
	m.identity = &id;
	return request_map(c, -1, &m, &r);
}
