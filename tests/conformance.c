/* SPDX-License-Identifier: MIT */
/*
 * The conformance scenarios and the transcript printer (see conformance.h).
 *
 * Scenarios are data: a name, a sentence, and a list of steps. A step is one
 * backend call; its arguments are written out literally so that the same
 * list runs unchanged on the kernel and on the sim. Everything a scenario
 * allocates is destroyed after it (silently), so scenarios are independent.
 *
 * User memory: one 4 MiB memfd, mmap()ed MAP_SHARED at an address aligned
 * to 4 MiB, so that the low bits of every user address a step passes are
 * exactly the offset written in the step ("mem+0x1000" is aligned to 4 KiB
 * and no more; "mem+0x0" to 4 MiB at least, more than any cap). The kernel
 * derives the alignment of an automatically chosen IOVA from those bits
 * (for MAP_FILE from the file offset, for COPY from the source's) and from
 * the length, and caps it at HPAGE_SIZE on kernels with transparent huge
 * pages and at PAGE_SIZE on kernels without (iopt_alloc_iova). The first
 * scenarios keep every such alignment at or below 4 KiB, so their lines
 * are the same on both kinds of kernel; the "auto-*" scenarios (and
 * "map-file-auto") need more, so the transcript depends on the kind:
 * tests/conformance.golden is a kernel's without THP,
 * tests/conformance-thp.golden one's with THP.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/errname.h"
#include "conformance.h"
#include "iommu/backend-faults.h"
#include "common/util.h"

#define MEM_SIZE (4ull << 20)
#define MEM_ALIGN (4ull << 20)
#define U64_MAX UINT64_MAX

/* An id that names no object of any context (kernel ids are 31-bit, from 1). */
#define BOGUS_ID 0x7ffffff0u

enum op {
	OP_END = 0,
	OP_ALLOC,
	OP_DESTROY,
	OP_RANGES,
	OP_ALLOW,
	OP_MAP,
	OP_MAP_FILE,
	OP_COPY,
	OP_UNMAP,
	OP_OPTION,
	OP_DEV_BIND,
	OP_DEV_ATTACH,
	OP_DEV_DETACH,
	OP_HW_INFO,
	OP_HWPT_ALLOC,
	OP_FAULT_ALLOC,
	OP_FAULT_CLOSE,
	OP_FAULT_READ,
	OP_FAULT_WRITE,
	OP_SET_DIRTY,
	OP_GET_DIRTY,
	OP_PASID_ATTACH,
	OP_PASID_DETACH,
};

/* Object operands: 'A'..'Z' are the scenario's IOASes and HWPTs (the
 * hwpt scenario names its HWPTs from 'H' on); these are not. */
#define OBJ_ZERO '0'  /* id 0 */
#define OBJ_BOGUS '?' /* BOGUS_ID */

enum fd_kind {
	FD_MEM = 0, /* the scenario memfd */
	FD_BAD,     /* -1 */
};

struct step {
	enum op op;
	char obj;          /* IOAS (dst for copy), object to destroy/option */
	char src;          /* copy source IOAS */
	uint32_t flags;    /* map/copy flags; option op */
	uint32_t option;   /* option id */
	bool va_null;      /* map_user: pass NULL instead of mem + off */
	uint64_t off;      /* map_user: mem + off; map_file: start; copy: src iova */
	uint64_t len;
	uint64_t iova;     /* FIXED_IOVA in; unmap start */
	enum fd_kind fd;   /* map_file */
	uint64_t val;      /* option SET value */
	uint32_t room;     /* iova_ranges: entries the array has room for */
	uint32_t n;        /* allow_iovas: entries; hwpt_alloc: data bytes;
			    * fault_read/write: bytes; pasid_*: the PASID */
	char fault;        /* hwpt_alloc with FAULT_ID_VALID: the queue */
	struct backend_iova_range r[3];
};

struct scenario {
	const char *name;
	const char *what;
	const struct step *steps;
	bool device;       /* it drives the device (open_device) */
};

#define R BACKEND_MAP_READABLE
#define W BACKEND_MAP_WRITEABLE
#define RW (BACKEND_MAP_READABLE | BACKEND_MAP_WRITEABLE)
#define FIXED BACKEND_MAP_FIXED_IOVA
#define UNKNOWN_FLAG (1u << 3)

#define GET BACKEND_OPTION_OP_GET
#define SET BACKEND_OPTION_OP_SET
#define RLIMIT BACKEND_OPTION_RLIMIT_MODE
#define HUGE BACKEND_OPTION_HUGE_PAGES

#define END { .op = OP_END }
#define ALLOC(x) { .op = OP_ALLOC, .obj = (x) }
#define DESTROY(x) { .op = OP_DESTROY, .obj = (x) }
#define RANGES(x, nroom) { .op = OP_RANGES, .obj = (x), .room = (nroom) }
#define ALLOW0(x) { .op = OP_ALLOW, .obj = (x), .n = 0 }
#define ALLOW1(x, s, l) \
	{ .op = OP_ALLOW, .obj = (x), .n = 1, .r = { { (s), (l) } } }
#define ALLOW2(x, s1, l1, s2, l2)                       \
	{ .op = OP_ALLOW, .obj = (x), .n = 2,           \
	  .r = { { (s1), (l1) }, { (s2), (l2) } } }
#define ALLOW3(x, s1, l1, s2, l2, s3, l3)               \
	{ .op = OP_ALLOW, .obj = (x), .n = 3,           \
	  .r = { { (s1), (l1) }, { (s2), (l2) }, { (s3), (l3) } } }
/* Automatic IOVA / fixed IOVA map of mem + o. */
#define MAP(x, fl, o, l) \
	{ .op = OP_MAP, .obj = (x), .flags = (fl), .off = (o), .len = (l) }
#define MAPF(x, fl, o, l, i)                                            \
	{ .op = OP_MAP, .obj = (x), .flags = (fl) | FIXED, .off = (o), \
	  .len = (l), .iova = (i) }
#define MAP_NULL(x, fl, l, i)                                        \
	{ .op = OP_MAP, .obj = (x), .flags = (fl) | FIXED, .va_null = true, \
	  .len = (l), .iova = (i) }
#define MAPFILE(x, fl, f, s, l)                                             \
	{ .op = OP_MAP_FILE, .obj = (x), .flags = (fl), .fd = (f), .off = (s), \
	  .len = (l) }
#define MAPFILEF(x, fl, f, s, l, i)                                  \
	{ .op = OP_MAP_FILE, .obj = (x), .flags = (fl) | FIXED, .fd = (f), \
	  .off = (s), .len = (l), .iova = (i) }
#define COPY(d, s, fl, si, l)                                          \
	{ .op = OP_COPY, .obj = (d), .src = (s), .flags = (fl), .off = (si), \
	  .len = (l) }
#define COPYF(d, s, fl, si, l, di)                                      \
	{ .op = OP_COPY, .obj = (d), .src = (s), .flags = (fl) | FIXED,    \
	  .off = (si), .len = (l), .iova = (di) }
#define UNMAP(x, i, l) { .op = OP_UNMAP, .obj = (x), .iova = (i), .len = (l) }
#define UNMAP_ALL(x) UNMAP(x, 0, U64_MAX)
/* The scenario's device file (opened fresh for the scenario). */
#define DEV_BIND { .op = OP_DEV_BIND }
#define DEV_ATTACH(x) { .op = OP_DEV_ATTACH, .obj = (x) }
#define DEV_DETACH { .op = OP_DEV_DETACH }
/* IOMMU_GET_HW_INFO of the bound device (or of a bogus device id). */
#define HW_INFO { .op = OP_HW_INFO }
#define HW_INFO_BOGUS { .op = OP_HW_INFO, .obj = OBJ_BOGUS }
/* HWPT h from pt (IOAS or HWPT) for the bound device; data: n zero bytes
 * of data type t (option). */
#define HWPT(h, pt, fl) { .op = OP_HWPT_ALLOC, .obj = (h), .src = (pt), .flags = (fl) }
#define HWPT_DATA(h, pt, fl, t, nbytes)                                     \
	{ .op = OP_HWPT_ALLOC, .obj = (h), .src = (pt), .flags = (fl),       \
	  .option = (t), .n = (nbytes) }
/* Fault queue q: its fd is the scenario's until FAULT_CLOSE. */
#define FAULT_ALLOC(q) { .op = OP_FAULT_ALLOC, .obj = (q) }
#define FAULT_CLOSE(q) { .op = OP_FAULT_CLOSE, .obj = (q) }
/* read(2) of nbytes on q's fd (nonblocking); write(2) of nbytes of zero
 * responses but for the first's cookie c. */
#define FAULT_READ(q, nbytes) { .op = OP_FAULT_READ, .obj = (q), .n = (nbytes) }
#define FAULT_WRITE(q, c, nbytes) \
	{ .op = OP_FAULT_WRITE, .obj = (q), .val = (c), .n = (nbytes) }
/* HWPT h from pt with FAULT_ID_VALID and queue q. */
#define HWPT_FAULT(h, pt, q)                                          \
	{ .op = OP_HWPT_ALLOC, .obj = (h), .src = (pt),               \
	  .flags = BACKEND_HWPT_FAULT_ID_VALID, .fault = (q) }
#define SET_DIRTY(h, on) { .op = OP_SET_DIRTY, .obj = (h), .val = (on) }
/* GET_DIRTY_BITMAP of [i, i + l) at 4 KiB pages. */
#define GET_DIRTY(h, i, l) { .op = OP_GET_DIRTY, .obj = (h), .iova = (i), .len = (l) }
#define PASID_ATTACH(x, p) { .op = OP_PASID_ATTACH, .obj = (x), .n = (p) }
#define PASID_DETACH(p) { .op = OP_PASID_DETACH, .n = (p) }
#define OPTION(o, id, x, v) \
	{ .op = OP_OPTION, .flags = (o), .option = (id), .obj = (x), .val = (v) }

/* ------------------------------------------------------------ scenarios */

/*
 * Global RLIMIT_MODE first: it can only be set while the context holds no
 * object at all, and a freshly opened backend holds none.
 */
static const struct step s_rlimit[] = {
	OPTION(GET, RLIMIT, 0, 0),
	OPTION(SET, RLIMIT, 0, 1),
	OPTION(GET, RLIMIT, 0, 0),
	OPTION(SET, RLIMIT, 0, 2),
	OPTION(SET, RLIMIT, 0, 0),
	OPTION(GET, RLIMIT, 0, 0),
	OPTION(GET, RLIMIT, OBJ_BOGUS, 0),
	ALLOC('A'),
	OPTION(SET, RLIMIT, 0, 1),
	OPTION(GET, RLIMIT, 0, 0),
	OPTION(GET, RLIMIT, 'A', 0),
	DESTROY('A'),
	END,
};

static const struct step s_objects[] = {
	ALLOC('A'),
	ALLOC('B'),
	DESTROY('B'),
	DESTROY('B'),
	DESTROY(OBJ_ZERO),
	DESTROY(OBJ_BOGUS),
	RANGES('B', 4),
	RANGES(OBJ_BOGUS, 4),
	RANGES('A', 4),
	DESTROY('A'),
	END,
};

static const struct step s_ranges[] = {
	ALLOC('A'),
	RANGES('A', 0),
	RANGES('A', 1),
	MAPF('A', RW, 0x1000, 0x1000, 0x100000),
	RANGES('A', 2),
	END,
};

static const struct step s_allow[] = {
	ALLOC('A'),
	ALLOW1('A', 0x10000, 0x1ffff),
	RANGES('A', 4),
	MAP('A', RW, 0x1000, 0x1000),
	MAP('A', RW, 0x1000, 0x10000),
	MAP('A', RW, 0x1000, 0xf000),
	MAP('A', RW, 0x1000, 0x1000),
	MAPF('A', RW, 0x1000, 0x1000, 0x100000),
	ALLOW1('A', 0x5000, 0x5000),
	ALLOW1('A', 0x6000, 0x5000),
	ALLOW2('A', 0x10000, 0x1ffff, 0x18000, 0x2ffff),
	ALLOW2('A', 0x40000, 0x4ffff, 0x3f000, 0x40000),
	ALLOW1(OBJ_BOGUS, 0x10000, 0x1ffff),
	ALLOW0('A'),
	MAP('A', RW, 0x1000, 0x1000),
	ALLOW1('A', 0x40000, 0x4ffff),
	MAP('A', RW, 0x1000, 0x1000),
	ALLOW1('A', 0, 0xfff),
	MAP('A', RW, 0x1000, 0x1000),
	MAP('A', RW, 0x800, 0x800),
	ALLOW1('A', 0, 0x2fff),
	MAP('A', RW, 0x1000, 0x1000),
	UNMAP_ALL('A'),
	ALLOW2('A', 0x200000, 0x20ffff, 0x210000, 0x21ffff),
	MAP('A', RW, 0x1000, 0x20000),
	ALLOW2('A', 0x300000, 0x300fff, 0x302000, 0x302fff),
	MAP('A', RW, 0x1000, 0x2000),
	MAP('A', RW, 0x1000, 0x1000),
	MAP('A', RW, 0x1000, 0x1000),
	END,
};

static const struct step s_auto[] = {
	ALLOC('A'),
	MAP('A', RW, 0x1000, 0x1000),
	MAP('A', RW, 0x1000, 0x3000),
	MAP('A', RW, 0x0, 0x100),
	MAP('A', RW, 0x800, 0x800),
	MAP('A', RW, 0x100, 0x10),
	MAP('A', RW, 0x1000, 0x2000),
	MAP('A', R, 0x3000, 0x1000),
	MAP('A', W, 0x5000, 0x1000),
	MAP('A', RW, 0x1000, 0),
	MAP('A', RW, 0x1000, U64_MAX),
	MAP('A', RW, 0x1000, 1ull << 63),
	MAP('A', 0, 0x1000, 0x1000),
	MAP('A', RW | UNKNOWN_FLAG, 0x1000, 0x1000),
	MAP(OBJ_BOGUS, RW, 0x1000, 0x1000),
	MAP(OBJ_ZERO, RW, 0x1000, 0x1000),
	UNMAP('A', 0x1000, 0x1000),
	MAP('A', RW, 0x1000, 0x1000),
	END,
};

static const struct step s_fixed[] = {
	ALLOC('A'),
	MAPF('A', RW, 0x1000, 0x2000, 0x100000),
	MAPF('A', RW, 0x1000, 0x2000, 0x100000),
	MAPF('A', RW, 0x1000, 0x2000, 0x101000),
	MAPF('A', RW, 0x1000, 0x2000, 0xff000),
	MAPF('A', RW, 0x1000, 0x4000, 0xff000),
	MAPF('A', RW, 0x1000, 0x1000, 0xff000),
	MAPF('A', RW, 0x1000, 0x1000, 0x102000),
	MAPF('A', RW, 0x1000, 0x1000, 0x200001),
	MAPF('A', RW, 0x1000, 0x1001, 0x300000),
	MAPF('A', RW, 0x1000, 0x1000, 0),
	MAPF('A', RW, 0x1000, 0x1000, 0xfffffffffffff000ull),
	MAPF('A', RW, 0x1000, 0x2000, 0xffffffffffffe001ull),
	MAPF('A', RW, 0x1000, 0x1000, U64_MAX),
	MAPF('A', RW, 0x1000, 0, 0x400000),
	MAPF('A', 0, 0x1000, 0x1000, 0x400000),
	MAP_NULL('A', RW, 0x1000, 0x500000),
	UNMAP_ALL('A'),
	END,
};

static const struct step s_unmap[] = {
	ALLOC('A'),
	UNMAP_ALL('A'),
	MAPF('A', RW, 0x1000, 0x2000, 0x10000),
	MAPF('A', RW, 0x3000, 0x1000, 0x20000),
	MAPF('A', RW, 0x4000, 0x3000, 0x30000),
	UNMAP('A', 0x50000, 0x1000),
	UNMAP('A', 0x10000, 0x1000),
	UNMAP('A', 0x11000, 0x1000),
	UNMAP('A', 0xf000, 0x2000),
	UNMAP('A', 0x10000, 0x2000),
	UNMAP('A', 0x10000, 0x2000),
	MAPF('A', RW, 0x1000, 0x2000, 0x10000),
	UNMAP('A', 0xf000, 0x13000),
	MAPF('A', RW, 0x1000, 0x2000, 0x10000),
	MAPF('A', RW, 0x3000, 0x1000, 0x20000),
	UNMAP('A', 0x10000, 0x21000),
	UNMAP('A', 0x10000, 0x2000),
	UNMAP('A', 0x20000, 0x1000),
	UNMAP('A', 0x30000, 0x3000),
	UNMAP('A', 0x10000, 0),
	UNMAP('A', 0x1000, U64_MAX),
	UNMAP('A', U64_MAX, 1),
	UNMAP('A', 0xfffffffffffff000ull, 0x2000),
	UNMAP(OBJ_BOGUS, 0x10000, 0x1000),
	MAPF('A', RW, 0x1000, 0x2000, 0x10000),
	MAPF('A', RW, 0x1000, 0x800, 0x40000),
	UNMAP('A', 0, U64_MAX - 1),
	UNMAP_ALL('A'),
	UNMAP_ALL('A'),
	UNMAP_ALL(OBJ_BOGUS),
	END,
};

static const struct step s_copy[] = {
	ALLOC('A'),
	ALLOC('B'),
	MAPF('A', RW, 0x1000, 0x4000, 0x100000),
	COPY('B', 'A', RW, 0x100000, 0x4000),
	COPYF('B', 'A', RW, 0x101000, 0x1000, 0x200000),
	COPYF('B', 'A', R, 0x101800, 0x800, 0x210000),
	COPY('B', 'A', RW, 0x104000, 0x1000),
	COPY('B', 'A', RW, 0x103000, 0x2000),
	MAPF('A', RW, 0x5000, 0x1000, 0x104000),
	COPYF('B', 'A', RW, 0x103000, 0x2000, 0x300000),
	COPY('A', 'A', RW, 0x100000, 0x1000),
	COPYF('B', 'A', RW, 0x100000, 0x1000, 0x200000),
	COPYF('B', 'A', RW, 0x100000, 0x1000, 0x1fff000),
	COPY('B', 'A', 0, 0x100000, 0x1000),
	COPY('B', 'A', RW | UNKNOWN_FLAG, 0x100000, 0x1000),
	COPY('B', OBJ_BOGUS, RW, 0x100000, 0x1000),
	COPY(OBJ_BOGUS, 'A', RW, 0x100000, 0x1000),
	COPY('B', 'A', RW, 0x100000, 0),
	COPY('B', 'A', RW, U64_MAX, 0x1000),
	COPY('B', 'A', RW, 0xfffffffffffff000ull, 0x2000),
	MAPF('A', R, 0x6000, 0x1000, 0x400000),
	COPY('B', 'A', RW, 0x400000, 0x1000),
	COPY('B', 'A', R, 0x400000, 0x1000),
	UNMAP('B', 0x200000, 0x1000),
	UNMAP('B', 0x1000, 0x1000),
	UNMAP_ALL('A'),
	UNMAP_ALL('B'),
	UNMAP_ALL('B'),
	END,
};

static const struct step s_huge[] = {
	ALLOC('A'),
	OPTION(GET, HUGE, 'A', 0),
	OPTION(SET, HUGE, 'A', 0),
	OPTION(GET, HUGE, 'A', 0),
	RANGES('A', 1),
	MAPF('A', RW, 0x1000, 0x1000, 0x200001),
	MAPF('A', RW, 0x1000, 0x800, 0x200000),
	MAP('A', RW, 0x0, 0x100),
	MAP('A', RW, 0x1000, 0x1000),
	OPTION(SET, HUGE, 'A', 1),
	OPTION(GET, HUGE, 'A', 0),
	RANGES('A', 1),
	MAPF('A', RW, 0x1000, 0x1000, 0x200001),
	OPTION(SET, HUGE, 'A', 0),
	UNMAP('A', 0x200001, 0x1000),
	OPTION(SET, HUGE, 'A', 0),
	OPTION(SET, HUGE, 'A', 0),
	OPTION(SET, HUGE, 'A', 2),
	OPTION(GET, HUGE, OBJ_BOGUS, 0),
	OPTION(SET, HUGE, OBJ_ZERO, 1),
	OPTION(2, HUGE, 'A', 0),
	OPTION(GET, 7, 'A', 0),
	OPTION(GET, 7, 0, 0),
	UNMAP_ALL('A'),
	END,
};

static const struct step s_lifetime[] = {
	ALLOC('A'),
	ALLOC('B'),
	MAPF('A', RW, 0x1000, 0x2000, 0x100000),
	COPYF('B', 'A', RW, 0x100000, 0x2000, 0x100000),
	DESTROY('A'),
	UNMAP('A', 0x100000, 0x2000),
	UNMAP('B', 0x100000, 0x2000),
	ALLOC('C'),
	MAPF('C', RW, 0x1000, 0x2000, 0x100000),
	DESTROY('C'),
	DESTROY('B'),
	END,
};

/*
 * Automatic IOVAs whose alignment goes past 4 KiB: from here on a kernel
 * with transparent huge pages (alignment capped at HPAGE_SIZE) and one
 * without (capped at PAGE_SIZE) print different lines.
 */

/* Alignment from length and address, one map after the other. */
static const struct step s_auto_align[] = {
	ALLOC('A'),
	MAP('A', RW, 0x0, 0x1000),
	MAP('A', RW, 0x0, 0x2000),
	MAP('A', RW, 0x0, 0x3000),
	MAP('A', RW, 0x0, 0x10000),
	MAP('A', RW, 0x0, 0x198000),
	MAP('A', RW, 0x0, 0x200000),
	MAP('A', RW, 0x0, 0x201000),
	MAP('A', RW, 0x0, 0x400000),
	MAP('A', RW, 0x8000, 0x198000),
	MAP('A', RW, 0x10000, 0x10000),
	MAP('A', RW, 0x100000, 0x100000),
	MAP('A', RW, 0x180000, 0x80000),
	MAP('A', RW, 0x1000, 0x200000),
	MAP('A', RW, 0x200000, 0x200000),
	MAP('A', R, 0x234, 0x10),
	MAP('A', R, 0x7f0, 0x1810),
	MAP('A', RW, 0x40000, 0x3000),
	UNMAP_ALL('A'),
	/* HUGE_PAGES off: alignment PAGE_SIZE, so a smaller one is EINVAL */
	OPTION(SET, HUGE, 'A', 0),
	MAP('A', RW, 0x800, 0x800),
	MAP('A', RW, 0x0, 0x100000),
	MAP('A', RW, 0x3000, 0x5000),
	UNMAP_ALL('A'),
	END,
};

/* Copies to automatic IOVAs take the alignment of the source's address at
 * the copied offset (the first piece's, when the range spans areas). */
static const struct step s_auto_copy[] = {
	ALLOC('A'),
	ALLOC('B'),
	MAPF('A', RW, 0x8000, 0x198000, 0x10000000),
	COPY('A', 'A', RW, 0x10000000, 0x198000),
	COPY('B', 'A', RW, 0x10000000, 0x198000),
	COPY('B', 'A', RW, 0x10008000, 0x100000),
	COPY('B', 'A', RW, 0x10078000, 0x80000),
	COPY('B', 'A', R, 0x10001000, 0x1000),
	MAPF('A', RW, 0x200000, 0x200000, 0x20000000),
	MAPF('A', RW, 0x0, 0x200000, 0x20200000),
	COPY('B', 'A', RW, 0x20000000, 0x400000),
	COPY('B', 'A', RW, 0x20100000, 0x200000),
	COPY('B', 'A', R, 0x201ff000, 0x2000),
	COPY('B', 'A', RW, 0x20200000, 0x1000),
	COPY('B', 'A', RW, 0x20200000, 0x200000),
	COPY('A', 'A', RW, 0x20000000, 0x400000),
	UNMAP_ALL('A'),
	UNMAP_ALL('B'),
	END,
};

/* Many lengths and source offsets into one IOAS: each copy lands in the
 * first hole its alignment allows, so the two kinds of kernel pack the
 * space differently. */
static const struct step s_auto_lengths[] = {
	ALLOC('A'),
	ALLOC('B'),
	MAPF('A', RW, 0x0, 0x400000, 0x40000000),
	COPY('B', 'A', RW, 0x40000000, 0x1000),
	COPY('B', 'A', RW, 0x40000000, 0x5000),
	COPY('B', 'A', RW, 0x40001000, 0x20000),
	COPY('B', 'A', RW, 0x40003000, 0x1000),
	COPY('B', 'A', RW, 0x40008000, 0x20000),
	COPY('B', 'A', RW, 0x40010000, 0x100000),
	COPY('B', 'A', RW, 0x40080000, 0x80000),
	COPY('B', 'A', RW, 0x40100000, 0x198000),
	COPY('B', 'A', RW, 0x401ff000, 0x2000),
	COPY('B', 'A', RW, 0x40200000, 0x200000),
	COPY('B', 'A', RW, 0x40000000, 0x400000),
	COPY('B', 'A', RW, 0x40000000, 0x3ff000),
	COPY('B', 'A', RW, 0x40000000, 0x9000),
	UNMAP_ALL('A'),
	UNMAP_ALL('B'),
	END,
};

/* First fit in a space fragmented by fixed maps: holes that are only
 * 4 KiB aligned take a large mapping only on a kernel without THP. */
static const struct step s_auto_holes[] = {
	ALLOC('A'),
	MAPF('A', RW, 0x0, 0x1000, 0x101000),
	MAPF('A', RW, 0x0, 0x1000, 0x201000),
	MAPF('A', RW, 0x0, 0x1000, 0x300000),
	MAPF('A', RW, 0x0, 0x1000, 0x401000),
	MAP('A', RW, 0x0, 0xff000),
	MAP('A', RW, 0x0, 0xff000),
	MAP('A', RW, 0x0, 0xff000),
	MAP('A', RW, 0x0, 0x100000),
	MAP('A', RW, 0x1000, 0x1000),
	MAP('A', RW, 0x800, 0x800),
	MAP('A', RW, 0x0, 0x200000),
	UNMAP_ALL('A'),
	END,
};

/* Allowed ranges near the bottom and the top of the space, whose holes
 * are only 4 KiB aligned, and one where ALIGN() would wrap past the top. */
static const struct step s_auto_allow[] = {
	ALLOC('A'),
	ALLOC('B'),
	MAPF('B', RW, 0x0, 0x400000, 0x40000000),
	ALLOW1('A', 0x0, 0x1fffff),
	MAP('A', RW, 0x0, 0x1000),
	MAP('A', RW, 0x0, 0x100000),
	MAP('A', RW, 0x0, 0x80000),
	MAP('A', RW, 0x0, 0x200000),
	UNMAP_ALL('A'),
	ALLOW2('A', 0xffffffff00001000ull, 0xffffffff00100fffull,
	       0xffffffffffeff000ull, U64_MAX),
	COPY('A', 'B', RW, 0x40000000, 0x100000),
	COPY('A', 'B', RW, 0x40000000, 0x100000),
	COPY('A', 'B', RW, 0x40000000, 0x1000),
	COPY('A', 'B', RW, 0x40000000, 0x1000),
	UNMAP_ALL('A'),
	ALLOW1('A', 0xffffffffffe01000ull, U64_MAX),
	MAP('A', RW, 0x0, 0x200000),
	MAP('A', RW, 0x0, 0x100000),
	MAP('A', RW, 0x0, 0x1000),
	MAP('A', RW, 0x1000, 0x1000),
	UNMAP_ALL('A'),
	ALLOW3('A', 0x10000, 0x10fff, 0x201000, 0x2fffff, 0x300000, 0x4fffff),
	MAP('A', RW, 0x0, 0x200000),
	MAP('A', RW, 0x0, 0x100000),
	MAP('A', RW, 0x0, 0x1000),
	UNMAP_ALL('A'),
	UNMAP_ALL('B'),
	END,
};

/* At the top of the space: the last page can be mapped at a fixed IOVA,
 * never at an automatic one; UINT64_MAX and wrapping ranges are refused
 * before any area is looked at. */
static const struct step s_top[] = {
	ALLOC('A'),
	ALLOC('B'),
	UNMAP('A', U64_MAX, 1),
	UNMAP('A', U64_MAX, 0),
	UNMAP('A', 0xfffffffffffff000ull, 0x1000),
	MAPF('A', RW, 0x0, 0x1000, 0xfffffffffffff000ull),
	UNMAP('A', U64_MAX, 1),
	UNMAP('A', 1, U64_MAX),
	UNMAP('A', U64_MAX - 1, 2),
	COPYF('B', 'A', RW, 0xfffffffffffff000ull, 0x1000, 0xfffffffffffff000ull),
	COPYF('B', 'A', RW, 0xfffffffffffff000ull, 0x1000, 0xfffffffffffff001ull),
	COPY('B', 'A', RW, 0xfffffffffffff000ull, 0x1000),
	COPY('B', 'A', 0, 0xffffffffffffe000ull, 0x1000),
	COPY('B', 'A', RW, 0xfffffffffffff800ull, 0x800),
	ALLOW1('B', 0xfffffffffff00000ull, U64_MAX),
	COPY('B', 'A', RW, 0xfffffffffffff000ull, 0x1000),
	MAP('B', RW, 0x0, 0x100000),
	MAP('B', RW, 0x0, 0x80000),
	MAP('B', RW, 0x1000, 0x7f000),
	UNMAP('A', 0xfffffffffffff000ull, 0x1000),
	UNMAP_ALL('B'),
	END,
};

static const struct step s_map_file[] = {
	ALLOC('A'),
	ALLOC('B'),
	MAPFILE('A', RW, FD_MEM, 0x1000, 0x2000),
	MAPFILE('A', RW, FD_MEM, 0x3000, 0x1000),
	MAPFILE('A', R, FD_MEM, 0x800, 0x800),
	MAPFILEF('A', RW, FD_MEM, 0x1000, 0x2000, 0x100000),
	MAPFILEF('A', RW, FD_MEM, 0x1000, 0x2000, 0x101000),
	MAPFILE('A', RW, FD_BAD, 0x1000, 0x1000),
	MAPFILE('A', RW, FD_MEM, 0x1000, 0),
	MAPFILE('A', RW, FD_MEM, U64_MAX - 0xfff, 0x2000),
	MAPFILE('A', RW, FD_MEM, 0x1000, U64_MAX),
	MAPFILE('A', 0, FD_MEM, 0x1000, 0x1000),
	MAPFILE('A', RW | UNKNOWN_FLAG, FD_MEM, 0x1000, 0x1000),
	MAPFILE(OBJ_BOGUS, RW, FD_MEM, 0x1000, 0x1000),
	COPYF('B', 'A', RW, 0x100000, 0x2000, 0x100000),
	UNMAP('A', 0x100000, 0x1000),
	UNMAP('A', 0x100000, 0x2000),
	UNMAP_ALL('A'),
	UNMAP_ALL('B'),
	END,
};

/*
 * A VFIO device (the guest's edu under VT-d; a sim device on the host):
 * bind once, attach narrows the ranges and needs the mappings out of its
 * reserved window and 4 KiB aligned, destroy is EBUSY while attached,
 * attaching elsewhere replaces, detaching widens again.
 */
static const struct step s_device[] = {
	ALLOC('A'),
	ALLOC('B'),
	DEV_ATTACH('A'),
	DEV_DETACH,
	DEV_BIND,
	DEV_BIND,
	MAPF('A', RW, 0x1000, 0x1000, 0xfee00000),
	DEV_ATTACH('A'),
	UNMAP('A', 0xfee00000, 0x1000),
	MAPF('A', RW, 0x800, 0x800, 0x100800),
	DEV_ATTACH('A'),
	UNMAP_ALL('A'),
	DEV_ATTACH(OBJ_BOGUS),
	DEV_ATTACH('A'),
	RANGES('A', 4),
	MAPF('A', RW, 0x800, 0x800, 0x100800),
	MAPF('A', RW, 0x1000, 0x1000, 0xfee00000),
	MAPF('A', RW, 0x1000, 0x1000, 0x8000000000ull),
	MAPF('A', RW, 0x1000, 0x2000, 0x100000),
	DESTROY('A'),
	DEV_ATTACH('B'),
	RANGES('A', 4),
	DESTROY('A'),
	RANGES('B', 4),
	DEV_DETACH,
	DEV_DETACH,
	RANGES('B', 4),
	DESTROY('B'),
	END,
};

/*
 * Hardware page tables on the VT-d device (edu in the guest): the rig's
 * QEMU gives the guest's VT-d neither nesting (ECAP.NEST) nor dirty
 * tracking (SLADS), so those are EOPNOTSUPP; a plain paging HWPT works,
 * its domain reserves what is outside the 39-bit aperture even before a
 * device is on it, holds the IOAS, is held by the device on it, and a
 * nested HWPT cannot come from it (not a nesting parent: EINVAL). The
 * hardware info's capabilities are left out: 7.2 reports
 * IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED for edu, 6.12 nothing.
 */
static const struct step s_hwpt[] = {
	ALLOC('A'),
	HW_INFO_BOGUS,
	DEV_BIND,
	HW_INFO,
	HW_INFO_BOGUS,
	HWPT('H', 'A', BACKEND_HWPT_NEST_PARENT),
	HWPT('H', 'A', BACKEND_HWPT_DIRTY_TRACKING),
	HWPT('H', 'A', 1u << 9),
	HWPT_DATA('H', 'A', 0, 0, 8),
	HWPT_DATA('H', 'A', 0, 1, 0),
	HWPT_DATA('H', 'A', 0, 1, 24),
	HWPT('H', OBJ_BOGUS, 0),
	HWPT('H', 'A', 0),
	RANGES('A', 4),
	HWPT_DATA('N', 'H', 0, 1, 24),
	DEV_ATTACH('H'),
	RANGES('A', 4),
	DESTROY('H'),
	DESTROY('A'),
	DEV_ATTACH('A'),
	DESTROY('H'),
	RANGES('A', 4),
	DEV_DETACH,
	RANGES('A', 4),
	DESTROY('A'),
	END,
};

/*
 * What an all-or-nothing Batch relies on (rpc/batch.c): undoing maps and
 * copies with exact unmaps, in reverse order, after a failure, leaves the
 * IOAS as it was -- the next automatic IOVA is the one the first map got.
 * Every length is 4 KiB and every address 4 KiB aligned and no more, so
 * the lines are the same on kernels with THP and without.
 */
static const struct step s_batch_undo_map[] = {
	ALLOC('A'),
	MAP('A', RW, 0x1000, 0x1000),
	MAP('A', RW, 0x3000, 0x1000),
	MAPF('A', RW, 0x5000, 0x1000, 0x100000),
	MAPF('A', RW, 0x7000, 0x1000, 0x100000),
	UNMAP('A', 0x100000, 0x1000),
	UNMAP('A', 0x2000, 0x1000),
	UNMAP('A', 0x1000, 0x1000),
	RANGES('A', 1),
	MAP('A', RW, 0x1000, 0x1000),
	MAP('A', RW, 0x3000, 0x1000),
	UNMAP_ALL('A'),
	END,
};

static const struct step s_batch_undo_copy[] = {
	ALLOC('A'),
	ALLOC('B'),
	MAPF('A', RW, 0x1000, 0x3000, 0x100000),
	COPY('B', 'A', RW, 0x100000, 0x1000),
	COPY('B', 'A', RW, 0x102000, 0x1000),
	COPYF('B', 'A', RW, 0x100000, 0x1000, 0x1000),
	UNMAP('B', 0x2000, 0x1000),
	UNMAP('B', 0x1000, 0x1000),
	UNMAP_ALL('B'),
	COPY('B', 'A', RW, 0x100000, 0x1000),
	UNMAP_ALL('A'),
	UNMAP_ALL('B'),
	END,
};

/*
 * Issue 16 on the edu device, what both kernels answer alike: a fault
 * queue is an object whose fd holds it (DESTROY -> EBUSY until the fd is
 * closed); dirty tracking on a paging HWPT the VT-d of the rig cannot
 * track (no SLADS), and on what is no paging HWPT. Queues are named from
 * 'F' on and HWPTs from 'H' on, so the silent clean-up (backwards) drops
 * an HWPT before the queue it holds.
 */
static const struct step s_faults[] = {
	ALLOC('A'),
	FAULT_ALLOC('F'),
	FAULT_ALLOC('G'),
	DESTROY('F'),
	FAULT_CLOSE('F'),
	DESTROY('F'),
	DESTROY('F'),
	DEV_BIND,
	HWPT('H', 'A', 0),
	SET_DIRTY('H', 1),
	SET_DIRTY('H', 0),
	GET_DIRTY('H', 0x100000, 0x4000),
	SET_DIRTY('A', 1),
	SET_DIRTY('G', 1),
	SET_DIRTY(OBJ_BOGUS, 1),
	GET_DIRTY('A', 0x100000, 0x4000),
	GET_DIRTY(OBJ_BOGUS, 0x100000, 0x4000),
	DESTROY('H'),
	FAULT_CLOSE('G'),
	DESTROY('G'),
	DESTROY('A'),
	END,
};

/*
 * The fault fd's read(2) and write(2) framing on an empty queue: records
 * of 40 bytes, responses of 8. Only on the kernel (conformance_run's
 * fd_io): the sim's fault fd is a socket whose read and write the kernel's
 * rules cannot reach (iommu/sim-faults.c says what differs), so
 * tests/test-conformance leaves this section out of the comparison.
 */
static const struct step s_fault_fd[] = {
	FAULT_ALLOC('F'),
	FAULT_READ('F', 39),
	FAULT_READ('F', 41),
	FAULT_READ('F', 0),
	FAULT_READ('F', 40),
	FAULT_READ('F', 80),
	FAULT_WRITE('F', 1, 8),
	FAULT_WRITE('F', 0, 8),
	FAULT_WRITE('F', 1, 16),
	FAULT_WRITE('F', 1, 7),
	FAULT_WRITE('F', 1, 0),
	FAULT_CLOSE('F'),
	DESTROY('F'),
	END,
};

/*
 * Fault queues on HWPTs and PASIDs, on kernels with PASID attach (7.2;
 * run only when b->has_pasid, after the MAP_FILE sections). The edu device
 * under VT-d has no PRI: an HWPT with a queue cannot be attached to it.
 */
static const struct step s_pasid[] = {
	ALLOC('A'),
	FAULT_ALLOC('F'),
	DEV_BIND,
	HWPT_FAULT('H', 'A', OBJ_BOGUS),
	HWPT_FAULT('H', 'A', 'F'),
	DEV_ATTACH('H'),
	DESTROY('F'),
	FAULT_CLOSE('F'),
	DESTROY('F'),
	DESTROY('H'),
	DESTROY('F'),
	HWPT('P', 'A', BACKEND_HWPT_PASID),
	HWPT('Q', 'A', 0),
	PASID_DETACH(100),
	PASID_ATTACH('P', 100),
	PASID_ATTACH('P', 100),
	PASID_ATTACH('Q', 100),
	PASID_ATTACH('A', 101),
	PASID_ATTACH(OBJ_BOGUS, 101),
	DESTROY('P'),
	DEV_ATTACH('Q'),
	DEV_ATTACH('P'),
	DEV_DETACH,
	PASID_DETACH(100),
	PASID_DETACH(100),
	DESTROY('P'),
	DESTROY('Q'),
	DESTROY('A'),
	END,
};

static const struct scenario scenarios[] = {
	{ "rlimit", "global RLIMIT_MODE: set only on an empty context", s_rlimit },
	{ "objects", "alloc and destroy; unknown and destroyed ids", s_objects },
	{ "ranges", "IOVA_RANGES: EMSGSIZE with the needed count", s_ranges },
	{ "allow", "ALLOW_IOVAS and automatic allocation inside it", s_allow },
	{ "auto", "automatic IOVA: alignment, bad lengths and flags", s_auto },
	{ "fixed", "FIXED_IOVA: EEXIST, alignment, overflow", s_fixed },
	{ "unmap", "UNMAP: supersets only, partial progress, unmap all", s_unmap },
	{ "copy", "COPY: sub-ranges, holes, permissions", s_copy },
	{ "huge", "HUGE_PAGES option and the alignment it imposes", s_huge },
	{ "lifetime", "destroy with mappings; copies outlive the source", s_lifetime },
	{ "device", "a VFIO device: bind, attach, reserved ranges, replace, detach", s_device, true },
	{ "hwpt", "hardware page tables of the VT-d device: hw info, refusals, lifetimes", s_hwpt, true },
	{ "batch-undo-map", "maps undone in reverse by exact unmaps: the IOAS as before", s_batch_undo_map },
	{ "batch-undo-copy", "copies undone in reverse by exact unmaps: the IOAS as before", s_batch_undo_copy },
	{ "top", "the top of the address space: the last page, UINT64_MAX, wraps", s_top },
	{ "auto-align", "automatic IOVA alignment from length and address, and its cap", s_auto_align },
	{ "auto-copy", "automatic IOVA of a copy: the source's address sets the alignment", s_auto_copy },
	{ "auto-lengths", "automatic copies of many lengths and offsets into one IOAS", s_auto_lengths },
	{ "auto-holes", "automatic IOVAs in a space fragmented by fixed maps", s_auto_holes },
	{ "auto-allow", "automatic IOVAs in allowed ranges near the bottom and the top", s_auto_allow },
	{ "faults", "fault queues and dirty tracking through the backend ops", s_faults, true },
};

/* Only when conformance_run's fd_io (the kernel's fault fd); these come
 * right after the scenarios above (CONFORMANCE_FAULT_FD_MARK). */
static const struct scenario fault_fd_scenarios[] = {
	{ "fault-fd", "read and write framing of a fault queue's fd", s_fault_fd },
};

/* Only on backends with MAP_FILE; these come last (CONFORMANCE_MAP_FILE_MARK). */
static const struct step s_map_file_auto[] = {
	ALLOC('A'),
	ALLOC('B'),
	MAPFILE('A', RW, FD_MEM, 0x0, 0x198000),
	MAPFILE('A', RW, FD_MEM, 0x8000, 0x198000),
	MAPFILE('A', RW, FD_MEM, 0x200000, 0x200000),
	MAPFILE('A', RW, FD_MEM, 0x1000, 0x3000),
	MAPFILE('A', R, FD_MEM, 0x234, 0x10),
	MAPFILE('A', RW, FD_MEM, 0x0, 0x400000),
	MAPFILEF('A', RW, FD_MEM, 0x0, 0x200000, 0x40000000),
	COPY('B', 'A', RW, 0x40000000, 0x198000),
	COPY('B', 'A', RW, 0x40008000, 0x100000),
	COPY('B', 'A', RW, 0x40100000, 0x100000),
	UNMAP_ALL('A'),
	UNMAP_ALL('B'),
	END,
};

static const struct scenario map_file_scenarios[] = {
	{ "map-file", "MAP_FILE of a memfd (only when the backend has it)",
	  s_map_file },
	{ "map-file-auto", "automatic IOVAs of MAP_FILE: the file offset sets the alignment",
	  s_map_file_auto },
};

/* Only on backends with PASID attach (b->has_pasid); after the MAP_FILE
 * sections, so that 6.12's transcript, cut there, does not have them. */
static const struct scenario pasid_scenarios[] = {
	{ "pasid", "fault queues on HWPTs, PASID attach and detach (7.2)", s_pasid, true },
};

/* ------------------------------------------------------------ printing */

/* The errno's name as the transcripts spell it (common/errname: libc's
 * names), "0" for success. */
static const char *errno_text(int e)
{
	static char buf[16];
	const char *n = e ? errno_name(e) : "0";

	if (n)
		return n;
	snprintf(buf, sizeof(buf), "E#%d", e);
	return buf;
}

static void print_flags(FILE *out, uint32_t flags)
{
	uint32_t rest = flags & ~BACKEND_MAP_ALL_FLAGS;

	fputs(flags & FIXED ? "F" : "", out);
	fputs(flags & R ? "R" : "", out);
	fputs(flags & W ? "W" : "", out);
	if (!(flags & BACKEND_MAP_ALL_FLAGS))
		fputs("-", out);
	if (rest)
		fprintf(out, "+0x%" PRIx32, rest);
}

static void print_obj(FILE *out, char obj)
{
	if (obj == OBJ_ZERO)
		fputs("id0", out);
	else if (obj == OBJ_BOGUS)
		fputs("unknown", out);
	else if (obj == 0)
		fputs("none", out);
	else
		fputc(obj, out);
}

/* ------------------------------------------------------------ running */

struct run {
	struct backend *b;
	FILE *out;
	int (*open_device)(void);
	int devfd;
	uint8_t *mem;
	int memfd;
	uint32_t id[26];
	bool allocated[26];
	bool alive[26];
	uint32_t dev_id;   /* the bound device's */
	int fault_fd[26];  /* fault queues' fds, -1 when closed */
};

/* The letter of the scenario's object with this id, '?' for none. */
static char obj_name(const struct run *r, uint32_t id)
{
	for (int i = 0; i < 26; i++)
		if (r->alive[i] && r->id[i] == id)
			return (char)('A' + i);
	return '?';
}

static int *fault_fd(struct run *r, char obj)
{
	static int none = -1;

	return obj >= 'A' && obj <= 'Z' ? &r->fault_fd[obj - 'A'] : &none;
}

/* read(2)/write(2) on a fault fd: bytes moved or -errno. */
static ssize_t fault_io(struct run *r, const struct step *s)
{
	uint8_t buf[128] = { 0 };
	int fd = *fault_fd(r, s->obj);
	ssize_t n;

	if (s->n > sizeof(buf))
		return -EINVAL;
	if (s->op == OP_FAULT_READ) {
		n = read(fd, buf, s->n);
	} else {
		uint32_t cookie = (uint32_t)s->val;

		memcpy(buf, &cookie, sizeof(cookie));
		n = write(fd, buf, s->n);
	}
	return n < 0 ? -errno : n;
}

static uint32_t obj_id(const struct run *r, char obj)
{
	if (obj >= 'A' && obj <= 'Z' && r->allocated[obj - 'A'])
		return r->id[obj - 'A'];
	if (obj == OBJ_ZERO || obj == 0)
		return 0;
	return BOGUS_ID;
}

static const char *option_name(uint32_t option)
{
	switch (option) {
	case RLIMIT: return "rlimit_mode";
	case HUGE: return "huge_pages";
	}
	return NULL;
}

static void run_step(struct run *r, const char *scenario, unsigned n,
		     const struct step *s)
{
	FILE *out = r->out;
	uint64_t iova = s->iova, u64 = 0;
	struct backend_iova_range ranges[8];
	struct backend_hw_info hw = { 0 };
	uint32_t num, id = 0;
	uint64_t bitmap[4];
	ssize_t io = 0;
	int ret = 0;

	fprintf(out, "%s.%u ", scenario, n);
	switch (s->op) {
	case OP_ALLOC:
		fputs("alloc", out);
		ret = backend_ioas_alloc(r->b, &id);
		break;
	case OP_DESTROY:
		fputs("destroy ", out);
		print_obj(out, s->obj);
		ret = backend_destroy(r->b, obj_id(r, s->obj));
		break;
	case OP_RANGES:
		fputs("iova_ranges ", out);
		print_obj(out, s->obj);
		fprintf(out, " room=%" PRIu32, s->room);
		num = s->room;
		memset(ranges, 0, sizeof(ranges));
		ret = backend_iova_ranges(r->b, obj_id(r, s->obj),
					  s->room ? ranges : NULL, &num, &u64);
		break;
	case OP_ALLOW:
		fputs("allow_iovas ", out);
		print_obj(out, s->obj);
		fprintf(out, " n=%" PRIu32, s->n);
		for (uint32_t i = 0; i < s->n; i++)
			fprintf(out, " [0x%" PRIx64 "..0x%" PRIx64 "]",
				s->r[i].start, s->r[i].last);
		ret = backend_allow_iovas(r->b, obj_id(r, s->obj),
					  s->n ? s->r : NULL, s->n);
		break;
	case OP_MAP:
		fputs("map_user ", out);
		print_obj(out, s->obj);
		fputs(" flags=", out);
		print_flags(out, s->flags);
		if (s->va_null)
			fputs(" va=NULL", out);
		else
			fprintf(out, " va=mem+0x%" PRIx64, s->off);
		fprintf(out, " len=0x%" PRIx64, s->len);
		if (s->flags & FIXED)
			fprintf(out, " iova=0x%" PRIx64, s->iova);
		ret = backend_map_user(r->b, obj_id(r, s->obj), s->flags,
				       s->va_null ? NULL : r->mem + s->off,
				       s->len, &iova);
		break;
	case OP_MAP_FILE:
		fputs("map_file ", out);
		print_obj(out, s->obj);
		fputs(" flags=", out);
		print_flags(out, s->flags);
		fprintf(out, " fd=%s start=0x%" PRIx64 " len=0x%" PRIx64,
			s->fd == FD_MEM ? "mem" : "-1", s->off, s->len);
		if (s->flags & FIXED)
			fprintf(out, " iova=0x%" PRIx64, s->iova);
		ret = backend_map_file(r->b, obj_id(r, s->obj), s->flags,
				       s->fd == FD_MEM ? r->memfd : -1, s->off,
				       s->len, &iova);
		break;
	case OP_COPY:
		fputs("copy ", out);
		print_obj(out, s->obj);
		fputs(" <- ", out);
		print_obj(out, s->src);
		fputs(" flags=", out);
		print_flags(out, s->flags);
		fprintf(out, " src_iova=0x%" PRIx64 " len=0x%" PRIx64, s->off,
			s->len);
		if (s->flags & FIXED)
			fprintf(out, " dst_iova=0x%" PRIx64, s->iova);
		ret = backend_copy(r->b, obj_id(r, s->obj), obj_id(r, s->src),
				   s->flags, s->off, s->len, &iova);
		break;
	case OP_UNMAP:
		fputs("unmap ", out);
		print_obj(out, s->obj);
		fprintf(out, " iova=0x%" PRIx64 " len=0x%" PRIx64, s->iova,
			s->len);
		ret = backend_unmap(r->b, obj_id(r, s->obj), s->iova, s->len,
				    &u64);
		break;
	case OP_OPTION: {
		const char *name = option_name(s->option);

		fputs("option ", out);
		if (s->flags == GET)
			fputs("get", out);
		else if (s->flags == SET)
			fputs("set", out);
		else
			fprintf(out, "op%" PRIu32, s->flags);
		if (name)
			fprintf(out, " %s", name);
		else
			fprintf(out, " option%" PRIu32, s->option);
		fputs(" obj=", out);
		print_obj(out, s->obj);
		if (s->flags == SET)
			fprintf(out, " val=%" PRIu64, s->val);
		u64 = s->val;
		ret = backend_option(r->b, s->flags, s->option,
				     obj_id(r, s->obj), &u64);
		break;
	}
	case OP_DEV_BIND:
		fputs("device_bind", out);
		ret = backend_device_bind(r->b, r->devfd, &id);
		if (ret == 0)
			r->dev_id = id;
		break;
	case OP_HW_INFO:
		fputs("hw_info ", out);
		if (s->obj)
			print_obj(out, s->obj);
		else
			fputs("device", out);
		ret = backend_hw_info(r->b, s->obj == OBJ_BOGUS ? BOGUS_ID : r->dev_id,
				      &hw);
		break;
	case OP_HWPT_ALLOC: {
		static const uint8_t zeros[64];
		struct backend_hwpt_alloc a = {
			.flags = s->flags, .dev_id = r->dev_id,
			.pt_id = obj_id(r, s->src), .data_type = s->option,
			.data = s->n ? zeros : NULL, .data_len = s->n,
			.fault_id = obj_id(r, s->fault),
		};

		fputs("hwpt_alloc ", out);
		print_obj(out, s->obj);
		fputs(" <- ", out);
		print_obj(out, s->src);
		fprintf(out, " flags=0x%" PRIx32 " data_type=%" PRIu32 " data_len=%" PRIu32,
			s->flags, s->option, s->n);
		if (s->flags & BACKEND_HWPT_FAULT_ID_VALID) {
			fputs(" fault=", out);
			print_obj(out, s->fault);
		}
		ret = backend_hwpt_alloc(r->b, &a, &id);
		break;
	}
	case OP_FAULT_ALLOC: {
		int fd = -1;

		fputs("fault_alloc", out);
		ret = backend_fault_alloc(r->b, &id, &fd);
		if (ret == 0) {
			/* Never block the harness (the kernel's read does not
			 * wait anyway). */
			ret = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0
				? -errno : 0;
			*fault_fd(r, s->obj) = fd;
		}
		break;
	}
	case OP_FAULT_CLOSE:
		fputs("fault_close ", out);
		print_obj(out, s->obj);
		ret = close(*fault_fd(r, s->obj)) < 0 ? -errno : 0;
		*fault_fd(r, s->obj) = -1;
		break;
	case OP_FAULT_READ:
	case OP_FAULT_WRITE:
		fputs(s->op == OP_FAULT_READ ? "fault_read " : "fault_write ", out);
		print_obj(out, s->obj);
		if (s->op == OP_FAULT_WRITE)
			fprintf(out, " cookie=%" PRIu64, s->val);
		fprintf(out, " count=%" PRIu32, s->n);
		io = fault_io(r, s);
		ret = io < 0 ? (int)io : 0;
		break;
	case OP_SET_DIRTY:
		fputs("set_dirty ", out);
		print_obj(out, s->obj);
		fputs(s->val ? " on" : " off", out);
		ret = backend_hwpt_set_dirty(r->b, obj_id(r, s->obj), s->val != 0);
		break;
	case OP_GET_DIRTY:
		fputs("get_dirty ", out);
		print_obj(out, s->obj);
		fprintf(out, " iova=0x%" PRIx64 " len=0x%" PRIx64, s->iova, s->len);
		memset(bitmap, 0, sizeof(bitmap));
		ret = backend_hwpt_get_dirty(r->b, obj_id(r, s->obj), 0, s->iova,
					     s->len, 4096, bitmap);
		break;
	case OP_PASID_ATTACH:
		fputs("pasid_attach ", out);
		print_obj(out, s->obj);
		fprintf(out, " pasid=%" PRIu32, s->n);
		ret = backend_pasid_attach(r->b, r->devfd, s->n,
					   obj_id(r, s->obj), &id);
		break;
	case OP_PASID_DETACH:
		fprintf(out, "pasid_detach pasid=%" PRIu32, s->n);
		ret = backend_pasid_detach(r->b, r->devfd, s->n);
		break;
	case OP_DEV_ATTACH:
		fputs("device_attach ", out);
		print_obj(out, s->obj);
		ret = backend_device_attach(r->b, r->devfd, obj_id(r, s->obj), &id);
		break;
	case OP_DEV_DETACH:
		fputs("device_detach", out);
		ret = backend_device_detach(r->b, r->devfd);
		break;
	case OP_END:
		return;
	}

	fprintf(out, " -> %s", errno_text(-ret));
	if (ret == -EMSGSIZE && s->op == OP_RANGES)
		fprintf(out, " n=%" PRIu32, num);
	if (ret < 0) {
		fputc('\n', out);
		return;
	}

	switch (s->op) {
	case OP_ALLOC:
	case OP_HWPT_ALLOC:
	case OP_FAULT_ALLOC:
		r->id[s->obj - 'A'] = id;
		r->allocated[s->obj - 'A'] = true;
		r->alive[s->obj - 'A'] = true;
		fprintf(out, " %c", s->obj);
		break;
	case OP_HW_INFO:
		fprintf(out, " type=0x%" PRIx32 " data_len=%" PRIu32 " data=", hw.type,
			hw.data_len);
		for (uint32_t i = 0; i < hw.data_len && i < sizeof(hw.data); i++)
			fprintf(out, "%02x", hw.data[i]);
		break;
	case OP_DESTROY:
		if (s->obj >= 'A' && s->obj <= 'Z')
			r->alive[s->obj - 'A'] = false;
		break;
	case OP_RANGES:
		fprintf(out, " n=%" PRIu32, num);
		for (uint32_t i = 0; i < num && i < s->room && i < 8; i++)
			fprintf(out, " [0x%" PRIx64 "..0x%" PRIx64 "]",
				ranges[i].start, ranges[i].last);
		fprintf(out, " align=0x%" PRIx64, u64);
		break;
	case OP_MAP:
	case OP_MAP_FILE:
	case OP_COPY:
		fprintf(out, " iova=0x%" PRIx64, iova);
		break;
	case OP_UNMAP:
		fprintf(out, " unmapped=0x%" PRIx64, u64);
		break;
	case OP_FAULT_READ:
	case OP_FAULT_WRITE:
		fprintf(out, " bytes=%zd", io);
		break;
	case OP_GET_DIRTY:
		fprintf(out, " bitmap=0x%" PRIx64, bitmap[0]);
		break;
	case OP_PASID_ATTACH:
		fprintf(out, " hwpt=%c", obj_name(r, id));
		break;
	case OP_OPTION:
		if (s->flags == GET)
			fprintf(out, " val=%" PRIu64, u64);
		break;
	default:
		break;
	}
	fputc('\n', out);
}

static void run_scenario(struct run *r, const struct scenario *sc)
{
	unsigned n = 1;

	fprintf(r->out, "== %s: %s\n", sc->name, sc->what);
	memset(r->allocated, 0, sizeof(r->allocated));
	memset(r->alive, 0, sizeof(r->alive));
	r->dev_id = 0;
	for (unsigned i = 0; i < ARRAY_SIZE(r->fault_fd); i++)
		r->fault_fd[i] = -1;
	r->devfd = sc->device ? r->open_device() : -1;
	if (sc->device && r->devfd < 0)
		fprintf(r->out, "# cannot open the device: %s\n", strerror(-r->devfd));
	for (const struct step *s = sc->steps; s->op != OP_END; s++)
		run_step(r, sc->name, n++, s);
	/* Detach before the IOASes go (EBUSY otherwise); closing the file
	 * unbinds it. */
	if (r->devfd >= 0)
		(void)backend_device_detach(r->b, r->devfd);
	r->devfd = safe_close(r->devfd);
	for (unsigned i = 0; i < ARRAY_SIZE(r->fault_fd); i++)
		r->fault_fd[i] = safe_close(r->fault_fd[i]);

	/* Leave the backend as we found it: no objects. Backwards: an HWPT
	 * ('H' on) goes before the IOAS it holds. */
	for (unsigned i = ARRAY_SIZE(r->alive); i-- > 0;)
		if (r->alive[i])
			(void)backend_destroy(r->b, r->id[i]);
}

/* mmap the memfd at an address aligned to MEM_ALIGN (and no more known). */
static int map_memory(int memfd, uint8_t **ret)
{
	uint8_t *area, *aligned;
	size_t span = MEM_ALIGN * 2;

	area = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED)
		return -errno;
	aligned = (uint8_t *)(((uintptr_t)area + MEM_ALIGN - 1) &
			      ~(uintptr_t)(MEM_ALIGN - 1));
	if (mmap(aligned, MEM_SIZE, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, memfd, 0) == MAP_FAILED) {
		int r = -errno;

		munmap(area, span);
		return r;
	}
	/* Give back the reservation around the memory. */
	if (aligned > area)
		munmap(area, aligned - area);
	munmap(aligned + MEM_SIZE, area + span - (aligned + MEM_SIZE));
	*ret = aligned;
	return 0;
}

int conformance_run(struct backend *b, FILE *out, int (*open_device)(void),
		    bool fd_io)
{
	struct run r = { .b = b, .out = out, .memfd = -1,
			 .open_device = open_device, .devfd = -1 };
	int ret;

	r.memfd = memfd_create("ioasd-conformance", MFD_CLOEXEC);
	if (r.memfd < 0)
		return -errno;
	if (ftruncate(r.memfd, MEM_SIZE) < 0) {
		ret = -errno;
		goto out;
	}
	ret = map_memory(r.memfd, &r.mem);
	if (ret < 0)
		goto out;
	memset(r.mem, 0x5a, MEM_SIZE); /* real, populated pages */

	fputs("# ioasd backend conformance transcript v1\n", out);
	for (unsigned i = 0; i < ARRAY_SIZE(scenarios); i++)
		run_scenario(&r, &scenarios[i]);
	if (fd_io)
		for (unsigned i = 0; i < ARRAY_SIZE(fault_fd_scenarios); i++)
			run_scenario(&r, &fault_fd_scenarios[i]);
	if (b->has_map_file)
		for (unsigned i = 0; i < ARRAY_SIZE(map_file_scenarios); i++)
			run_scenario(&r, &map_file_scenarios[i]);
	if (b->has_pasid)
		for (unsigned i = 0; i < ARRAY_SIZE(pasid_scenarios); i++)
			run_scenario(&r, &pasid_scenarios[i]);
	fflush(out);
	munmap(r.mem, MEM_SIZE);
	ret = 0;
out:
	safe_close(r.memfd);
	return ret;
}
