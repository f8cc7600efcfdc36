/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for tenant/memory.c: which fds are accepted as registrable
 * memory, the errno and reason of every refusal, the fd ownership contract
 * and the optional mapping.
 */
#include <check.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "tenant/memory.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif

#define NO_LIMIT UINT64_MAX

static uint64_t page(void)
{
	return (uint64_t)sysconf(_SC_PAGESIZE);
}

static bool fd_is_open(int fd)
{
	return fd >= 0 && fcntl(fd, F_GETFD) >= 0;
}

static bool fd_is_closed(int fd)
{
	return fcntl(fd, F_GETFD) < 0 && errno == EBADF;
}

/* A memfd of size bytes; seals added when seals != 0. */
static int make_memfd(unsigned int flags, uint64_t size, int seals)
{
	int fd = memfd_create("test-memory", MFD_CLOEXEC | flags);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
	if (seals)
		ck_assert_int_eq(fcntl(fd, F_ADD_SEALS, seals), 0);
	return fd;
}

static int make_sealed(uint64_t size)
{
	return make_memfd(MFD_ALLOW_SEALING, size, F_SEAL_SHRINK);
}

/* Reopen an fd through /proc with other access flags (a new open file). */
static int reopen(int fd, int flags)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return open(path, flags | O_CLOEXEC);
}

/*
 * Rule: a refusal returns -errnum, fills e with errnum and a reason that
 * contains `why`, leaves the caller's fd variable untouched and open, and
 * does not write *ret.
 */
static void expect_refused(int fd, uint64_t off, uint64_t len, uint64_t max,
			   bool want_mmap, int errnum, const char *why)
{
	struct memory_region *sentinel = (struct memory_region *)&sentinel;
	struct memory_region *m = sentinel;
	struct err e = { 0 };
	int var = fd;
	int r;

	r = memory_region_new(&var, off, len, max, want_mmap, &m, &e);
	ck_assert_msg(r == -errnum, "expected %d (%s), got %d; reason: %s",
		      -errnum, strerror(errnum), r, e.msg);
	ck_assert_int_eq(e.errnum, errnum);
	ck_assert_msg(strstr(e.msg, why), "reason \"%s\" does not contain \"%s\"",
		      e.msg, why);
	ck_assert_int_eq(var, fd);
	ck_assert_ptr_eq(m, sentinel);
	if (fd >= 0)
		ck_assert(fd_is_open(fd));
}

/* Rule: an accepted fd is taken (variable -1) and owned CLOEXEC by the region. */
static struct memory_region *expect_accepted(int *fd, uint64_t off,
					     uint64_t len, bool want_mmap)
{
	struct memory_region *m = NULL;
	struct err e = { 0 };
	int orig = *fd;
	int r;

	r = memory_region_new(fd, off, len, NO_LIMIT, want_mmap, &m, &e);
	ck_assert_msg(r == 0, "refused (%d): %s", r, e.msg);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(*fd, -1);
	ck_assert_int_eq(m->fd, orig);
	ck_assert_int_eq(fcntl(m->fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	ck_assert_uint_eq(m->offset, off);
	ck_assert_uint_eq(m->length, len);
	if (want_mmap)
		ck_assert_ptr_nonnull(m->va);
	else
		ck_assert_ptr_null(m->va);
	return m;
}

/* ------------------------------------------------------------ not memfds */

/* Rule: a pipe is not a memfd (EINVAL, named as a pipe). */
START_TEST(refuse_pipe)
{
	int p[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	expect_refused(p[0], 0, page(), NO_LIMIT, false, EINVAL,
		       "fd is a pipe, not a memfd");
	expect_refused(p[1], 0, page(), NO_LIMIT, false, EINVAL,
		       "fd is a pipe, not a memfd");
	close(p[0]);
	close(p[1]);
}
END_TEST

/* Rule: a socket is not a memfd. */
START_TEST(refuse_socket)
{
	int s[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, s), 0);
	expect_refused(s[0], 0, page(), NO_LIMIT, false, EINVAL,
		       "fd is a socket, not a memfd");
	close(s[0]);
	close(s[1]);
}
END_TEST

/*
 * Rule: a character device is not a memfd, even though /dev lives on
 * devtmpfs whose statfs magic is TMPFS_MAGIC.
 */
START_TEST(refuse_dev_null)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	expect_refused(fd, 0, page(), NO_LIMIT, false, EINVAL,
		       "fd is a character device, not a memfd");
	close(fd);
}
END_TEST

/* Rule: a directory (opened for reading, or O_PATH) is not a memfd. */
START_TEST(refuse_directory)
{
	int fd = open("/dev/shm", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int pfd = open("/dev/shm", O_PATH | O_DIRECTORY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(pfd, 0);
	expect_refused(fd, 0, page(), NO_LIMIT, false, EINVAL,
		       "fd is a directory, not a memfd");
	expect_refused(pfd, 0, page(), NO_LIMIT, false, EINVAL,
		       "O_PATH descriptor of a directory");
	close(fd);
	close(pfd);
}
END_TEST

/* Rule: an O_PATH fd of a sealed memfd is refused (it grants no access). */
START_TEST(refuse_o_path_memfd)
{
	int fd = make_sealed(page());
	int pfd = reopen(fd, O_PATH);

	ck_assert_int_ge(pfd, 0);
	expect_refused(pfd, 0, page(), NO_LIMIT, false, EINVAL,
		       "O_PATH descriptor of a regular file");
	close(pfd);
	close(fd);
}
END_TEST

/* Rule: a regular file on a disk filesystem is not a memfd. */
START_TEST(refuse_disk_file)
{
	char name[] = "test-memory-XXXXXX";
	int fd = mkostemp(name, O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	unlink(name);
	ck_assert_int_eq(ftruncate(fd, (off_t)page()), 0);
	/* On a disk filesystem (the build directory is not tmpfs here; if it
	 * were, the plain-tmpfs case covers that refusal). */
	expect_refused(fd, 0, page(), NO_LIMIT, false, EINVAL, "not a memfd");
	{
		struct statfs sfs;

		ck_assert_int_eq(fstatfs(fd, &sfs), 0);
		if ((unsigned long)sfs.f_type != 0x01021994UL)
			expect_refused(fd, 0, page(), NO_LIMIT, false, EINVAL,
				       "fd is a regular file on a ");
	}
	close(fd);

	fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	expect_refused(fd, 0, page(), NO_LIMIT, false, EINVAL,
		       "fd is a regular file on a proc filesystem (magic 0x9fa0), not a memfd");
	close(fd);
}
END_TEST

/*
 * Rule: a file created by path on tmpfs (or O_TMPFILE) is not a memfd: it is
 * born with F_SEAL_SEAL and can never gain F_SEAL_SHRINK.
 */
START_TEST(refuse_plain_tmpfs)
{
	char name[] = "/dev/shm/test-memory-XXXXXX";
	int fd = mkostemp(name, O_CLOEXEC);
	int tfd;

	ck_assert_int_ge(fd, 0);
	unlink(name);
	ck_assert_int_eq(ftruncate(fd, (off_t)page()), 0);
	/* The kernel fact this refusal relies on. */
	ck_assert_int_eq(fcntl(fd, F_GET_SEALS), F_SEAL_SEAL);
	ck_assert_int_lt(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
	ck_assert_int_eq(errno, EPERM);
	expect_refused(fd, 0, page(), NO_LIMIT, false, EINVAL,
		       "tmpfs file created by path, not a memfd");
	expect_refused(fd, 0, page(), NO_LIMIT, false, EINVAL,
		       "can never be sealed with F_SEAL_SHRINK (seals: 0x1)");
	close(fd);

	tfd = open("/dev/shm", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (tfd < 0) {
		printf("NOTICE: O_TMPFILE on /dev/shm failed (%s); case not run\n",
		       strerror(errno));
		return;
	}
	ck_assert_int_eq(ftruncate(tfd, (off_t)page()), 0);
	expect_refused(tfd, 0, page(), NO_LIMIT, false, EINVAL,
		       "tmpfs file created by path, not a memfd");
	close(tfd);
}
END_TEST

/* Rule: memfd_secret files cannot be sealed: refused as not a memfd. */
START_TEST(refuse_secretmem)
{
#ifdef SYS_memfd_secret
	int fd = (int)syscall(SYS_memfd_secret, O_CLOEXEC);

	if (fd < 0) {
		printf("NOTICE: memfd_secret unavailable (%s); case not run\n",
		       strerror(errno));
		return;
	}
	ck_assert_int_eq(ftruncate(fd, (off_t)page()), 0);
	expect_refused(fd, 0, page(), NO_LIMIT, false, EINVAL, "not a memfd");
	close(fd);
#else
	printf("NOTICE: no SYS_memfd_secret in headers; case not run\n");
#endif
}
END_TEST

/* Rule: an invalid fd is refused with EBADF from the kernel. */
START_TEST(refuse_bad_fd)
{
	int p[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	close(p[0]);
	close(p[1]);
	{
		struct memory_region *m = NULL;
		struct err e = { 0 };
		int var = p[0];

		ck_assert_int_eq(memory_region_new(&var, 0, page(), NO_LIMIT,
						   false, &m, &e), -EBADF);
		ck_assert_int_eq(var, p[0]);
		ck_assert_int_eq(e.errnum, EBADF);
		var = -1;
		ck_assert_int_eq(memory_region_new(&var, 0, page(), NO_LIMIT,
						   false, &m, NULL), -EBADF);
		ck_assert_ptr_null(m);
	}
}
END_TEST

/* ---------------------------------------------------------------- seals */

/* Rule: a memfd without F_SEAL_SHRINK is refused with EPERM, seals shown. */
START_TEST(refuse_unsealed)
{
	int fd = make_memfd(MFD_ALLOW_SEALING, page(), 0);

	expect_refused(fd, 0, page(), NO_LIMIT, false, EPERM,
		       "memfd is not sealed with F_SEAL_SHRINK (seals: 0x0)");
	close(fd);
}
END_TEST

/* Rule: other seals do not replace F_SEAL_SHRINK. */
START_TEST(refuse_other_seals)
{
	char want[128];
	int seals = F_SEAL_GROW | F_SEAL_WRITE;
	int fd = make_memfd(MFD_ALLOW_SEALING, page(), seals);

	snprintf(want, sizeof(want),
		 "memfd is not sealed with F_SEAL_SHRINK (seals: 0x%x)", seals);
	expect_refused(fd, 0, page(), NO_LIMIT, false, EPERM, want);
	close(fd);

	/* F_SEAL_SEAL without SHRINK: frozen, can never be accepted. */
	fd = make_memfd(MFD_ALLOW_SEALING, page(), F_SEAL_GROW | F_SEAL_SEAL);
	expect_refused(fd, 0, page(), NO_LIMIT, false, EPERM,
		       "never can be");
	close(fd);
}
END_TEST

/* Rule: a memfd created without MFD_ALLOW_SEALING can never be accepted. */
START_TEST(refuse_no_allow_sealing)
{
	int fd = make_memfd(0, page(), 0);

	expect_refused(fd, 0, page(), NO_LIMIT, false, EPERM,
		       "created without MFD_ALLOW_SEALING (seals: 0x1)");
	close(fd);
}
END_TEST

/* ---------------------------------------------------------------- accepted */

/* Rule: a SHRINK-sealed memfd is accepted as kind "memfd", page size 4K. */
START_TEST(accept_memfd)
{
	int fd = make_sealed(4 * page());
	int orig = fd;
	struct memory_region *m = expect_accepted(&fd, page(), 2 * page(), false);

	ck_assert_str_eq(m->kind, "memfd");
	ck_assert_uint_eq(m->page_size, page());
	ck_assert(m->writable);
	/* The client can no longer shrink it: the seal outlives the check. */
	ck_assert_int_lt(ftruncate(m->fd, 0), 0);
	ck_assert_int_eq(errno, EPERM);
	ck_assert(fcntl(m->fd, F_GET_SEALS) & F_SEAL_SHRINK);
	ck_assert(memory_region_free(m) == NULL);
	/* Rule: memory_region_free closes the fd it owns. */
	ck_assert(fd_is_closed(orig));
}
END_TEST

/* Rule: the whole file, exactly up to its end, is a valid range. */
START_TEST(accept_whole_file_and_limit)
{
	int fd = make_sealed(8 * page());
	struct memory_region *m = NULL;
	struct err e = { 0 };

	/* length == max_length is allowed; only larger is EFBIG. */
	ck_assert_int_eq(memory_region_new(&fd, 0, 8 * page(), 8 * page(),
					   false, &m, &e), 0);
	ck_assert_int_eq(fd, -1);
	memory_region_free(m);
}
END_TEST

/* Rule: an fd without FD_CLOEXEC becomes CLOEXEC once the region owns it. */
START_TEST(accept_sets_cloexec)
{
	int fd = make_sealed(page());
	int fd2 = fcntl(fd, F_DUPFD, 0); /* F_DUPFD: no CLOEXEC */
	struct memory_region *m;

	ck_assert_int_ge(fd2, 0);
	ck_assert_int_eq(fcntl(fd2, F_GETFD) & FD_CLOEXEC, 0);
	m = expect_accepted(&fd2, 0, page(), false);
	memory_region_free(m);
	close(fd);
}
END_TEST

/* Rule: a memfd with extra seals (GROW, EXEC) plus SHRINK is accepted. */
START_TEST(accept_extra_seals)
{
	int fd = make_memfd(MFD_ALLOW_SEALING, page(),
			    F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	struct memory_region *m = expect_accepted(&fd, 0, page(), false);

	ck_assert(m->writable);
	memory_region_free(m);
}
END_TEST

/* Rule: F_SEAL_WRITE makes the region read-only (writable = false). */
START_TEST(write_sealed_is_readonly)
{
	int fd = make_memfd(MFD_ALLOW_SEALING, 2 * page(),
			    F_SEAL_SHRINK | F_SEAL_WRITE);
	struct memory_region *m = expect_accepted(&fd, 0, 2 * page(), true);

	ck_assert(!m->writable);
	ck_assert_str_eq(m->kind, "memfd");
	/* The mapping is read-only: it cannot be made writable. */
	ck_assert_int_lt(mprotect(m->va, m->length, PROT_READ | PROT_WRITE), 0);
	memory_region_free(m);
}
END_TEST

/* Rule: F_SEAL_FUTURE_WRITE makes the region read-only too. */
START_TEST(future_write_sealed_is_readonly)
{
	int fd = memfd_create("test-memory", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	struct memory_region *m;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)page()), 0);
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_FUTURE_WRITE) < 0) {
		printf("NOTICE: F_SEAL_FUTURE_WRITE unsupported (%s); case not run\n",
		       strerror(errno));
		close(fd);
		return;
	}
	m = expect_accepted(&fd, 0, page(), true);
	ck_assert(!m->writable);
	memory_region_free(m);
}
END_TEST

/* Rule: an O_RDONLY open of a sealed memfd gives a read-only region. */
START_TEST(rdonly_reopen_is_readonly)
{
	int fd = make_sealed(page());
	int ro = reopen(fd, O_RDONLY);
	struct memory_region *m;

	ck_assert_int_ge(ro, 0);
	m = expect_accepted(&ro, 0, page(), true);
	ck_assert(!m->writable);
	ck_assert_str_eq(m->kind, "memfd");
	memory_region_free(m);
	close(fd);
}
END_TEST

/* Rule: an O_WRONLY fd is refused with EINVAL. */
START_TEST(refuse_wronly)
{
	int fd = make_sealed(page());
	int wo = reopen(fd, O_WRONLY);

	ck_assert_int_ge(wo, 0);
	expect_refused(wo, 0, page(), NO_LIMIT, false, EINVAL, "O_WRONLY");
	close(wo);
	close(fd);
}
END_TEST

/* ---------------------------------------------------------------- ranges */

/* Rule: zero length is EINVAL. */
START_TEST(refuse_zero_length)
{
	int fd = make_sealed(page());

	expect_refused(fd, 0, 0, NO_LIMIT, false, EINVAL, "length is zero");
	close(fd);
}
END_TEST

/* Rule: offset and length must be multiples of the page size. */
START_TEST(refuse_misaligned)
{
	char want[128];
	int fd = make_sealed(4 * page());

	snprintf(want, sizeof(want),
		 "offset 0x%" PRIx64 " is not a multiple of the page size 0x%" PRIx64,
		 page() + 1, page());
	expect_refused(fd, page() + 1, page(), NO_LIMIT, false, EINVAL, want);
	snprintf(want, sizeof(want),
		 "length 0x%" PRIx64 " is not a multiple of the page size 0x%" PRIx64,
		 page() - 1, page());
	expect_refused(fd, 0, page() - 1, NO_LIMIT, false, EINVAL, want);
	close(fd);
}
END_TEST

/* Rule: the range must end at or before the file's size. */
START_TEST(refuse_past_end)
{
	int fd = make_sealed(0x100000);

	expect_refused(fd, 0, 0x200000, NO_LIMIT, false, EINVAL,
		       "range [0x0, 0x200000) ends past the file size 0x100000");
	/* One page starting exactly at the end. */
	expect_refused(fd, 0x100000, page(), NO_LIMIT, false, EINVAL,
		       "ends past the file size 0x100000");
	/* Offset far beyond the file (and beyond off_t) is not mmapped. */
	expect_refused(fd, 0x8000000000000000ull, page(), NO_LIMIT, true,
		       EINVAL, "ends past the file size");
	close(fd);
}
END_TEST

/* Rule: offset + length overflowing 64 bits is EOVERFLOW. */
START_TEST(refuse_overflow)
{
	int fd = make_sealed(page());
	uint64_t off = UINT64_MAX & ~(page() - 1);

	expect_refused(fd, off, page(), NO_LIMIT, false, EOVERFLOW,
		       "overflows");
	expect_refused(fd, off, 2 * page(), NO_LIMIT, true, EOVERFLOW,
		       "overflows");
	close(fd);
}
END_TEST

/* Rule: a length above the per-region limit is EFBIG, limit named. */
START_TEST(refuse_over_limit)
{
	char want[128];
	int fd = make_sealed(4 * page());

	snprintf(want, sizeof(want),
		 "length 0x%" PRIx64 " exceeds the per-region limit 0x%" PRIx64,
		 2 * page(), page());
	expect_refused(fd, 0, 2 * page(), page(), false, EFBIG, want);
	close(fd);
}
END_TEST

/* ---------------------------------------------------------------- mapping */

/* Find the /proc/self/maps line that starts at va; fill its end and offset. */
static bool find_mapping(void *va, uintptr_t *ret_end, char *ret_perms,
			 uint64_t *ret_off, char *ret_path, size_t path_len)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	bool found = false;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		uintptr_t start, end;
		uint64_t off;
		char perms[8];
		int pos = 0;

		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %7s %" SCNx64 " %*s %*u %n",
			   &start, &end, perms, &off, &pos) < 4)
			continue;
		if (start != (uintptr_t)va)
			continue;
		*ret_end = end;
		memcpy(ret_perms, perms, 5);
		*ret_off = off;
		snprintf(ret_path, path_len, "%s", line + pos);
		found = true;
		break;
	}
	fclose(f);
	return found;
}

/*
 * Rule: want_mmap maps exactly [offset, offset+length) of the file,
 * MAP_SHARED, PROT_READ|PROT_WRITE when writable; free unmaps it.
 */
START_TEST(mmap_exact_range)
{
	int fd = make_sealed(8 * page());
	int client = fcntl(fd, F_DUPFD_CLOEXEC, 0); /* the client's copy */
	struct memory_region *m;
	unsigned char vec[4];
	uintptr_t end;
	uint64_t off;
	char perms[8] = { 0 }, path[256];
	void *va;

	ck_assert_int_ge(client, 0);
	m = expect_accepted(&fd, 2 * page(), 4 * page(), true);
	va = m->va;
	ck_assert(find_mapping(va, &end, perms, &off, path, sizeof(path)));
	ck_assert_uint_eq(end - (uintptr_t)va, 4 * page());
	ck_assert_uint_eq(off, 2 * page());
	ck_assert_str_eq(perms, "rw-s");
	ck_assert_msg(strstr(path, "/memfd:test-memory"), "%s", path);
	/* Placed where the file offset would be modulo 2 MiB, so automatic
	 * IOVAs on this path do not depend on where mmap happened to land. */
	ck_assert_uint_eq((uintptr_t)va & ((2u << 20) - 1), 2 * page());
	/* Nothing of the PROT_NONE reservation is left right after it. */
	ck_assert(!find_mapping((char *)va + 4 * page(), &end, perms, &off, path,
				sizeof(path)) ||
		  strcmp(perms, "---p") != 0);
	ck_assert_int_eq(mincore(va, 4 * page(), vec), 0);

	/* It is the client's memory at that offset: a byte the client writes
	 * through its own fd is the byte at the same place in the mapping. */
	ck_assert_int_eq(pwrite(client, "x", 1, (off_t)(2 * page() + 5)), 1);
	ck_assert_int_eq(((volatile char *)va)[5], 'x');

	memory_region_free(m);
	ck_assert(!find_mapping(va, &end, perms, &off, path, sizeof(path)));
	ck_assert_int_lt(mincore(va, 4 * page(), vec), 0);
	ck_assert_int_eq(errno, ENOMEM);
	close(client);
}
END_TEST

/* Rule: a read-only region is mapped without PROT_WRITE. */
START_TEST(mmap_readonly_perms)
{
	int fd = make_sealed(page());
	int ro = reopen(fd, O_RDONLY);
	struct memory_region *m;
	uintptr_t end;
	uint64_t off;
	char perms[8] = { 0 }, path[256];

	ck_assert_int_ge(ro, 0);
	m = expect_accepted(&ro, 0, page(), true);
	ck_assert(find_mapping(m->va, &end, perms, &off, path, sizeof(path)));
	ck_assert_str_eq(perms, "r--s");
	memory_region_free(m);
	close(fd);
}
END_TEST

/* ---------------------------------------------------------------- hugetlb */

static uint64_t huge_page_size(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[128];
	uint64_t kb = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Hugepagesize: %" SCNu64 " kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

static long huge_pages_free(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[128];
	long n = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "HugePages_Free: %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

/*
 * Rule: a SHRINK-sealed hugetlb memfd is accepted as "memfd-hugetlb" with
 * the huge page size as page size (alignment is to the huge page).
 */
START_TEST(accept_hugetlb)
{
	uint64_t hps = huge_page_size();
	struct memory_region *m = NULL;
	struct err e = { 0 };
	char want[128];
	int fd, r;

	fd = memfd_create("test-memory-huge",
			  MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB);
	if (fd < 0 || hps == 0) {
		printf("NOTICE: cannot test hugetlb memfds on this machine: memfd_create(MFD_HUGETLB) failed (%s); hugetlb cases not run\n",
		       strerror(errno));
		return;
	}
	if (ftruncate(fd, (off_t)(2 * hps)) < 0) {
		printf("NOTICE: cannot test hugetlb memfds on this machine: ftruncate failed (%s); hugetlb cases not run\n",
		       strerror(errno));
		close(fd);
		return;
	}
	ck_assert_int_eq(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), 0);

	snprintf(want, sizeof(want),
		 "offset 0x%" PRIx64 " is not a multiple of the page size 0x%" PRIx64,
		 page(), hps);
	expect_refused(fd, page(), hps, NO_LIMIT, false, EINVAL, want);
	snprintf(want, sizeof(want),
		 "length 0x%" PRIx64 " is not a multiple of the page size 0x%" PRIx64,
		 page(), hps);
	expect_refused(fd, 0, page(), NO_LIMIT, false, EINVAL, want);

	/* Without a mapping no huge page is needed. */
	r = memory_region_new(&fd, hps, hps, NO_LIMIT, false, &m, &e);
	ck_assert_msg(r == 0, "%s", e.msg);
	ck_assert_str_eq(m->kind, "memfd-hugetlb");
	ck_assert_uint_eq(m->page_size, hps);
	ck_assert(m->writable);

	/* With a mapping: the kernel must reserve a huge page at mmap time. */
	fd = fcntl(m->fd, F_DUPFD_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	memory_region_free(m);
	m = NULL;
	r = memory_region_new(&fd, 0, hps, NO_LIMIT, true, &m, &e);
	if (huge_pages_free() < 1) {
		/* No huge page reserved: mmap refuses, fd stays the caller's. */
		ck_assert_int_eq(r, -ENOMEM);
		ck_assert_int_ge(fd, 0);
		ck_assert_msg(strstr(e.msg, "mmap"), "%s", e.msg);
		printf("NOTICE: no free huge pages (vm.nr_hugepages=0): hugetlb mmap only checked to fail with ENOMEM\n");
		close(fd);
	} else {
		ck_assert_msg(r == 0, "%s", e.msg);
		ck_assert_ptr_nonnull(m->va);
		memory_region_free(m);
	}
}
END_TEST

/* ---------------------------------------------------------------- free */

/* Rule: memory_region_free is NULL-safe and returns NULL. */
START_TEST(free_null)
{
	ck_assert_ptr_null(memory_region_free(NULL));
}
END_TEST

static Suite *memory_suite(void)
{
	Suite *s = suite_create("memory");
	TCase *tc;

	tc = tcase_create("not-memfd");
	tcase_add_test(tc, refuse_pipe);
	tcase_add_test(tc, refuse_socket);
	tcase_add_test(tc, refuse_dev_null);
	tcase_add_test(tc, refuse_directory);
	tcase_add_test(tc, refuse_o_path_memfd);
	tcase_add_test(tc, refuse_disk_file);
	tcase_add_test(tc, refuse_plain_tmpfs);
	tcase_add_test(tc, refuse_secretmem);
	tcase_add_test(tc, refuse_bad_fd);
	suite_add_tcase(s, tc);

	tc = tcase_create("seals");
	tcase_add_test(tc, refuse_unsealed);
	tcase_add_test(tc, refuse_other_seals);
	tcase_add_test(tc, refuse_no_allow_sealing);
	tcase_add_test(tc, accept_memfd);
	tcase_add_test(tc, accept_whole_file_and_limit);
	tcase_add_test(tc, accept_sets_cloexec);
	tcase_add_test(tc, accept_extra_seals);
	tcase_add_test(tc, write_sealed_is_readonly);
	tcase_add_test(tc, future_write_sealed_is_readonly);
	tcase_add_test(tc, rdonly_reopen_is_readonly);
	tcase_add_test(tc, refuse_wronly);
	suite_add_tcase(s, tc);

	tc = tcase_create("ranges");
	tcase_add_test(tc, refuse_zero_length);
	tcase_add_test(tc, refuse_misaligned);
	tcase_add_test(tc, refuse_past_end);
	tcase_add_test(tc, refuse_overflow);
	tcase_add_test(tc, refuse_over_limit);
	suite_add_tcase(s, tc);

	tc = tcase_create("mapping");
	tcase_add_test(tc, mmap_exact_range);
	tcase_add_test(tc, mmap_readonly_perms);
	suite_add_tcase(s, tc);

	tc = tcase_create("hugetlb");
	tcase_add_test(tc, accept_hugetlb);
	suite_add_tcase(s, tc);

	tc = tcase_create("free");
	tcase_add_test(tc, free_null);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(memory_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
