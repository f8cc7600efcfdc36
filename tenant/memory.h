/* SPDX-License-Identifier: MIT */
/*
 * A registered memory region: a client's sealed memfd (tmpfs- or
 * hugetlbfs-backed), validated once, owned by the daemon until unregistered.
 * The daemon never reads or writes it; when the backend lacks
 * IOMMU_IOAS_MAP_FILE the region is mmap(MAP_SHARED)ed so that its pages can
 * be handed to IOMMU_IOAS_MAP by address.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "common/util.h"

struct memory_region {
	int fd;              /* owned, CLOEXEC */
	uint64_t offset;     /* of the region in the file */
	uint64_t length;
	uint64_t page_size;  /* 4 KiB for tmpfs, the huge page size for hugetlbfs */
	const char *kind;    /* "memfd" or "memfd-hugetlb" (static string) */
	bool writable;       /* false: O_RDONLY, F_SEAL_WRITE or F_SEAL_FUTURE_WRITE */
	void *va;            /* mmap of [offset, offset+length) or NULL */
};

/*
 * Validate *fd as registrable memory and take it. On success *fd is -1 and
 * the region owns the fd; on failure *fd is untouched (the caller still
 * owns and closes it) and e says why:
 *   EINVAL    not a regular file; not a memfd; zero length; offset or
 *             length not a multiple of the page size; range ends past the
 *             file's size; opened O_WRONLY
 *   EPERM     not sealed with F_SEAL_SHRINK
 *   EOVERFLOW offset + length overflows
 *   EFBIG     length > max_length (the daemon's per-region limit)
 *   other     from fstat/fstatfs/fcntl/mmap
 * want_mmap: map the range MAP_SHARED (PROT_READ, plus PROT_WRITE when
 * writable) for backends without MAP_FILE.
 */
int memory_region_new(int *fd, uint64_t offset, uint64_t length,
		      uint64_t max_length, bool want_mmap,
		      struct memory_region **ret, struct err *e);

/* Unmap, close the fd, free. NULL-safe; returns NULL. */
struct memory_region *memory_region_free(struct memory_region *m);

/*
 * Whether byte offset of the region is byte file_offset of the file
 * (dev, ino) (st_dev/st_ino; st_dev as the kernel encodes it, which is what
 * /proc/PID/maps prints as major:minor). 0 when it is; -EINVAL with why
 * otherwise; -errno from fstat.
 */
int memory_region_is_file(const struct memory_region *m, uint64_t offset,
			  uint64_t dev, uint64_t ino, uint64_t file_offset,
			  struct err *e);
