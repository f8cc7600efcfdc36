/* SPDX-License-Identifier: MIT */
/*
 * Validation of a client's memory fd. The daemon may run as root and the fd
 * comes from an unprivileged peer, so every property is read from the kernel
 * (fcntl, fstat, fstatfs) and nothing the client says about the fd is
 * trusted.
 *
 * Why checking the seals once is enough: seals can only ever be added to a
 * file, never removed, so F_SEAL_SHRINK seen here stays for the life of the
 * inode. With it the file can never become shorter than it is now (ftruncate
 * to a smaller size fails with EPERM), so a range that lies inside the file
 * at registration stays inside it: a mapping of it can never SIGBUS the
 * daemon because the client truncated the file. The size read here may only
 * grow later, which is harmless.
 *
 * Why only memfds pass: F_SEAL_SHRINK can only be set on a shmem or
 * hugetlbfs inode whose F_SEAL_SEAL is clear, and the only way to get such an
 * inode is memfd_create(MFD_ALLOW_SEALING). Files created by path (or
 * O_TMPFILE) on tmpfs or hugetlbfs start life with F_SEAL_SEAL and can never
 * gain F_SEAL_SHRINK. Files on any other filesystem cannot be sealed at all
 * (F_GET_SEALS fails with EINVAL).
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "tenant/memory.h"

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif
#ifndef HUGETLBFS_MAGIC
#define HUGETLBFS_MAGIC 0x958458f6
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

/* Human name of a non-regular file type, for refusal messages. */
static const char *file_type_name(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFIFO:
		return "a pipe";
	case S_IFSOCK:
		return "a socket";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	case S_IFDIR:
		return "a directory";
	case S_IFLNK:
		return "a symbolic link";
	case S_IFREG:
		return "a regular file";
	default:
		return "a file of unknown type";
	}
}

/* Names of a few filesystems a client might plausibly send a file from. */
static const char *fs_name(long f_type)
{
	static const struct {
		long magic;
		const char *name;
	} names[] = {
		{ 0xef53, "ext2/3/4" },
		{ 0x58465342, "xfs" },
		{ 0x9123683e, "btrfs" },
		{ 0x794c7630, "overlayfs" },
		{ 0x6969, "nfs" },
		{ 0x65735546, "fuse" },
		{ 0x9fa0, "proc" },
		{ 0x62656572, "sysfs" },
		{ 0x5345434d, "secretmem" },
		{ 0x01021997, "v9fs" },
		{ 0x2fc12fc1, "zfs" },
		{ 0x4d44, "vfat" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].magic == f_type)
			return names[i].name;
	return "unknown";
}

/*
 * Whether the kernel names this open file like a memfd ("/memfd:NAME
 * (deleted)"). Used only to word a refusal (and pick its errno) when the file
 * is already refused; never to accept a file.
 */
static bool looks_like_memfd(int fd)
{
	char path[64], link[80];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return false;
	link[n] = '\0';
	return strncmp(link, "/memfd:", 7) == 0;
}

static int check_fd(int fd, const char **ret_kind,
		    uint64_t *ret_page_size, uint64_t *ret_size,
		    bool *ret_writable, struct err *e)
{
	struct statfs sfs;
	struct stat st;
	int flags, seals, acc;
	bool huge;

	flags = fcntl(fd, F_GETFL);
	if (flags < 0)
		return err_errno(e, -errno, "fd %d", fd);
	if (fstat(fd, &st) < 0)
		return err_errno(e, -errno, "fstat");
	if (flags & O_PATH)
		return err_set(e, EINVAL,
			       "fd is an O_PATH descriptor of %s, not a memfd",
			       file_type_name(st.st_mode));
	if (!S_ISREG(st.st_mode))
		return err_set(e, EINVAL, "fd is %s, not a memfd",
			       file_type_name(st.st_mode));
	if (fstatfs(fd, &sfs) < 0)
		return err_errno(e, -errno, "fstatfs");
	if ((unsigned long)sfs.f_type == TMPFS_MAGIC)
		huge = false;
	else if ((unsigned long)sfs.f_type == HUGETLBFS_MAGIC)
		huge = true;
	else
		return err_set(e, EINVAL,
			       "fd is a regular file on a %s filesystem (magic 0x%lx), not a memfd",
			       fs_name((long)sfs.f_type),
			       (unsigned long)sfs.f_type);

	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0) {
		if (errno == EINVAL)
			return err_set(e, EINVAL,
				       "fd is a %s file that does not support sealing, not a memfd",
				       huge ? "hugetlbfs" : "tmpfs");
		return err_errno(e, -errno, "F_GET_SEALS");
	}
	if (!(seals & F_SEAL_SHRINK)) {
		bool memfd = looks_like_memfd(fd);

		if ((seals & F_SEAL_SEAL) && !memfd)
			return err_set(e, EINVAL,
				       "fd is a %s file created by path, not a memfd: such files are sealed with F_SEAL_SEAL at creation and can never be sealed with F_SEAL_SHRINK (seals: 0x%x)",
				       huge ? "hugetlbfs" : "tmpfs", seals);
		if (seals & F_SEAL_SEAL)
			return err_set(e, EPERM,
				       "memfd is not sealed with F_SEAL_SHRINK and never can be: it was created without MFD_ALLOW_SEALING (seals: 0x%x)",
				       seals);
		return err_set(e, EPERM,
			       "memfd is not sealed with F_SEAL_SHRINK (seals: 0x%x)",
			       seals);
	}

	acc = flags & O_ACCMODE;
	if (acc == O_WRONLY)
		return err_set(e, EINVAL,
			       "memfd is opened write-only (O_WRONLY); it must be readable");

	*ret_kind = huge ? "memfd-hugetlb" : "memfd";
	if (huge)
		*ret_page_size = (uint64_t)sfs.f_bsize;
	else {
		long ps = sysconf(_SC_PAGESIZE);

		*ret_page_size = ps > 0 ? (uint64_t)ps : 4096;
	}
	*ret_size = (uint64_t)st.st_size;
	*ret_writable = acc == O_RDWR &&
			!(seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE));
	return 0;
}

static int check_range(uint64_t offset, uint64_t length, uint64_t max_length,
		       uint64_t page_size, uint64_t size, struct err *e)
{
	uint64_t end;

	if (length == 0)
		return err_set(e, EINVAL, "length is zero");
	if (!is_aligned(offset, page_size))
		return err_set(e, EINVAL,
			       "offset 0x%" PRIx64 " is not a multiple of the page size 0x%" PRIx64,
			       offset, page_size);
	if (!is_aligned(length, page_size))
		return err_set(e, EINVAL,
			       "length 0x%" PRIx64 " is not a multiple of the page size 0x%" PRIx64,
			       length, page_size);
	if (length > max_length)
		return err_set(e, EFBIG,
			       "length 0x%" PRIx64 " exceeds the per-region limit 0x%" PRIx64,
			       length, max_length);
	if (add_overflow(offset, length, &end))
		return err_set(e, EOVERFLOW,
			       "offset 0x%" PRIx64 " + length 0x%" PRIx64 " overflows",
			       offset, length);
	if (end > size)
		return err_set(e, EINVAL,
			       "range [0x%" PRIx64 ", 0x%" PRIx64 ") ends past the file size 0x%" PRIx64,
			       offset, end, size);
	return 0;
}

/*
 * mmap(MAP_SHARED) of [offset, offset + length) at an address aligned to
 * 2 MiB (or the page size when larger). The kernel derives the alignment of
 * an automatic IOVA from the low bits of the address it maps: placing the
 * region where the file offset would be makes the IOVAs of the mmap path
 * the same from run to run, and the same as the IOMMU_IOAS_MAP_FILE path's
 * (which uses the file offset). Reserve, place, trim.
 */
static void *map_aligned(int fd, uint64_t offset, uint64_t length, int prot,
			 uint64_t page_size)
{
	uint64_t align = page_size > (UINT64_C(2) << 20) ? page_size : (UINT64_C(2) << 20);
	uint64_t span, base, start;
	void *res, *va;

	if (add_overflow(length, align, &span))
		return mmap(NULL, length, prot, MAP_SHARED, fd, (off_t)offset);
	res = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		   -1, 0);
	if (res == MAP_FAILED)
		return mmap(NULL, length, prot, MAP_SHARED, fd, (off_t)offset);
	base = (uint64_t)(uintptr_t)res;
	start = (base + align - 1) & ~(align - 1);
	/* Keep the 2 MiB phase of the file offset, as MAP_FILE would. */
	start += offset & (align - 1) & ~(page_size - 1);
	if (start + length > base + span)
		start -= align;
	va = mmap((void *)(uintptr_t)start, length, prot, MAP_SHARED | MAP_FIXED,
		  fd, (off_t)offset);
	if (va == MAP_FAILED) {
		int saved = errno;

		munmap(res, span);
		errno = saved;
		return MAP_FAILED;
	}
	if (start > base)
		munmap(res, start - base);
	if (base + span > start + length)
		munmap((void *)(uintptr_t)(start + length), base + span - (start + length));
	return va;
}

int memory_region_new(int *fd, uint64_t offset, uint64_t length,
		      uint64_t max_length, bool want_mmap,
		      struct memory_region **ret, struct err *e)
{
	struct memory_region *m;
	uint64_t page_size = 0, size = 0;
	const char *kind = NULL;
	bool writable = false;
	void *va = NULL;
	int r;

	r = check_fd(*fd, &kind, &page_size, &size, &writable, e);
	if (r < 0)
		return r;
	r = check_range(offset, length, max_length, page_size, size, e);
	if (r < 0)
		return r;

	if (want_mmap) {
		/*
		 * The range lies inside a file that can never shrink, so this
		 * mapping cannot SIGBUS on truncation. A hugetlbfs mapping
		 * without MAP_NORESERVE reserves its huge pages now (ENOMEM
		 * here rather than SIGBUS later). The daemon never touches
		 * the bytes; the mapping only exists so that IOMMU_IOAS_MAP
		 * can pin the pages by address.
		 */
		int prot = PROT_READ | (writable ? PROT_WRITE : 0);

		va = map_aligned(*fd, offset, length, prot, page_size);
		if (va == MAP_FAILED)
			return err_errno(e, -errno,
					 "mmap of [0x%" PRIx64 ", 0x%" PRIx64 ")",
					 offset, offset + length);
	}

	m = calloc(1, sizeof(*m));
	if (!m) {
		if (va)
			munmap(va, length);
		return err_set(e, ENOMEM, "out of memory");
	}
	/* The region's fd must not leak into anything the daemon execs. */
	if (fcntl(*fd, F_SETFD, FD_CLOEXEC) < 0) {
		r = -errno;
		if (va)
			munmap(va, length);
		free(m);
		return err_errno(e, r, "F_SETFD");
	}
	m->fd = TAKE_FD(*fd);
	m->offset = offset;
	m->length = length;
	m->page_size = page_size;
	m->kind = kind;
	m->writable = writable;
	m->va = va;
	*ret = m;
	return 0;
}

struct memory_region *memory_region_free(struct memory_region *m)
{
	if (!m)
		return NULL;
	if (m->va)
		munmap(m->va, m->length);
	safe_close(m->fd);
	free(m);
	return NULL;
}

int memory_region_is_file(const struct memory_region *m, uint64_t offset,
			  uint64_t dev, uint64_t ino, uint64_t file_offset,
			  struct err *e)
{
	struct stat st;
	uint64_t at;

	if (fstat(m->fd, &st) < 0)
		return err_errno(e, -errno, "fstat");
	if ((uint64_t)st.st_dev != dev || (uint64_t)st.st_ino != ino)
		return err_set(e, EINVAL,
			       "the client's mapping is of file %u:%u inode %" PRIu64
			       ", not of this memory (%u:%u inode %" PRIu64 ")",
			       major((dev_t)dev), minor((dev_t)dev), ino,
			       major(st.st_dev), minor(st.st_dev),
			       (uint64_t)st.st_ino);
	if (add_overflow(m->offset, offset, &at) || at != file_offset)
		return err_set(e, EINVAL,
			       "the client's address is at offset 0x%" PRIx64
			       " of the file, but the memory's offset 0x%" PRIx64
			       " is the file's 0x%" PRIx64,
			       file_offset, offset, m->offset + offset);
	return 0;
}
