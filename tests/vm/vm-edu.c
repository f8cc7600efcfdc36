/* SPDX-License-Identifier: MIT */
/*
 * vm-edu: real DMA through the emulated VT-d of the test guest, with QEMU's
 * "edu" PCI device (1234:11e8) on vfio-pci as the DMA engine.
 *
 *   vm-edu direct [DEVICE]           root, no daemon: our own iommufd context
 *   vm-edu broker SOCKET [DEVICE]    one tenant with AllowDevice=, via libioas
 *   vm-edu share SOCKET [DEVICE [UID_A UID_B]]
 *                                    root: forks tenant A (exporter, uid
 *                                    UID_A, default 2) and becomes tenant B
 *                                    (importer with a device, default 1000)
 *   vm-edu restart SOCKET [DEVICE]   one device tenant across a SIGKILL and
 *                                    restart of ioasd --state-dir, in phases
 *                                    driven by guest/95-restart.sh on stdin
 *
 * DEVICE defaults to /dev/vfio/devices/vfio0. One "ok: ..." line per check;
 * the first failed check prints "FAIL: ..." and exits 1.
 *
 * The first part of the file is a small edu driver on a bound VFIO cdev fd
 * (facts: ../shared/vm/README.md): BAR0 mmapped, PCI_COMMAND_MASTER set
 * through the config region, DMA polled with a time limit, so that a device
 * that never finishes is a failure and not a hang. QEMU's edu masks device
 * addresses to 28 bits and aborts on a transfer that ends exactly at the end
 * of its 4 KiB buffer: every IOVA here is below 256 MiB and every transfer
 * is EDU_LEN (< 4096) bytes.
 *
 * Every check compares the WHOLE client memory with a shadow copy of what it
 * must hold, so a DMA that lands anywhere it must not is caught, not only at
 * the address it was aimed at.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "ioas.h"
#include "iommu/iommufd-uapi.h"

#define PAGE 4096u
#define DEFAULT_DEVICE "/dev/vfio/devices/vfio0"

/* ------------------------------------------------------------ reporting */

static const char *who = "vm-edu";

static void ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void ok(const char *fmt, ...)
{
	va_list ap;

	printf("ok: %s: ", who);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	printf("FAIL: %s: ", who);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	exit(1);
}

/* A libioas call that must succeed. */
#define MUST(c, call)                                                        \
	do {                                                                 \
		int r_ = (call);                                             \
		if (r_ < 0)                                                  \
			fail("%s: %s (%s)", #call, strerror(-r_),            \
			     ioas_client_last_error(c));                     \
	} while (0)

/* ------------------------------------------------------------ edu driver */

#define EDU_ID 0x00
#define EDU_ID_VALUE 0x010000edu
#define EDU_LIVENESS 0x04
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_CNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_CMD_RUN 0x1u
#define EDU_CMD_TO_RAM 0x2u /* direction: edu buffer -> RAM */
#define EDU_BUF 0x40000u    /* device address of edu's own buffer */
#define EDU_LEN 4032u       /* < 4096: see the header comment */
#define EDU_TIMEOUT_MS 10000 /* one DMA takes ~100 ms of guest time */

struct edu {
	int fd; /* the caller's bound VFIO cdev fd; not owned */
	volatile uint8_t *bar0;
	size_t bar0_size;
};

enum edu_dir { EDU_FROM_RAM, EDU_TO_RAM };

static uint32_t edu_rd32(const struct edu *e, unsigned off)
{
	return *(volatile uint32_t *)(e->bar0 + off);
}

static void edu_wr32(const struct edu *e, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(e->bar0 + off) = v;
}

static void edu_wr64(const struct edu *e, unsigned off, uint64_t v)
{
	*(volatile uint64_t *)(e->bar0 + off) = v;
}

static int region_info(int fd, uint32_t index, struct vfio_region_info *ret)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri), .index = index };

	if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &ri) < 0)
		return -errno;
	*ret = ri;
	return 0;
}

/* Map BAR0, turn on memory decoding and bus mastering, check the id. */
static int edu_open(int fd, struct edu *ret, char *why, size_t whylen)
{
	struct vfio_region_info bar, cfg;
	uint16_t cmd;
	uint32_t id;
	void *p;
	int r;

	r = region_info(fd, VFIO_PCI_BAR0_REGION_INDEX, &bar);
	if (r < 0) {
		snprintf(why, whylen, "BAR0 region info: %s", strerror(-r));
		return r;
	}
	if (!(bar.flags & VFIO_REGION_INFO_FLAG_MMAP) || bar.size < 0x100) {
		snprintf(why, whylen, "BAR0 not mmappable (flags %#x size %#llx)",
			 bar.flags, (unsigned long long)bar.size);
		return -ENODEV;
	}
	r = region_info(fd, VFIO_PCI_CONFIG_REGION_INDEX, &cfg);
	if (r < 0) {
		snprintf(why, whylen, "config region info: %s", strerror(-r));
		return r;
	}
	if (pread(fd, &cmd, sizeof(cmd), (off_t)(cfg.offset + PCI_COMMAND)) != sizeof(cmd)) {
		r = -errno ?: -EIO;
		snprintf(why, whylen, "read PCI_COMMAND: %s", strerror(-r));
		return r;
	}
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (pwrite(fd, &cmd, sizeof(cmd), (off_t)(cfg.offset + PCI_COMMAND)) != sizeof(cmd)) {
		r = -errno ?: -EIO;
		snprintf(why, whylen, "write PCI_COMMAND: %s", strerror(-r));
		return r;
	}
	p = mmap(NULL, bar.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)bar.offset);
	if (p == MAP_FAILED) {
		r = -errno;
		snprintf(why, whylen, "mmap BAR0: %s", strerror(-r));
		return r;
	}
	*ret = (struct edu){ .fd = fd, .bar0 = p, .bar0_size = bar.size };
	id = edu_rd32(ret, EDU_ID);
	if (id != EDU_ID_VALUE) {
		snprintf(why, whylen, "id register reads %#x, not %#x", id, EDU_ID_VALUE);
		munmap(p, bar.size);
		return -ENODEV;
	}
	edu_wr32(ret, EDU_LIVENESS, 0x12345678u);
	if (edu_rd32(ret, EDU_LIVENESS) != ~0x12345678u) {
		snprintf(why, whylen, "liveness register does not invert");
		munmap(p, bar.size);
		return -EIO;
	}
	return 0;
}

static void edu_close(struct edu *e)
{
	if (e->bar0)
		munmap((void *)e->bar0, e->bar0_size);
	e->bar0 = NULL;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * One DMA of len bytes between RAM (iova, as the device sees it) and edu's
 * buffer; returns when the device says it is done, or -ETIMEDOUT. The device
 * reports nothing about IOMMU faults: a faulted transfer also "completes".
 */
static int edu_dma(const struct edu *e, uint64_t iova, uint32_t len, enum edu_dir dir)
{
	int64_t deadline;

	if (len == 0 || len >= PAGE || iova >= (UINT64_C(1) << 28))
		return -EINVAL;
	if (edu_rd32(e, EDU_DMA_CMD) & EDU_CMD_RUN)
		return -EBUSY;
	edu_wr64(e, EDU_DMA_SRC, dir == EDU_TO_RAM ? EDU_BUF : iova);
	edu_wr64(e, EDU_DMA_DST, dir == EDU_TO_RAM ? iova : EDU_BUF);
	edu_wr64(e, EDU_DMA_CNT, len);
	edu_wr32(e, EDU_DMA_CMD, EDU_CMD_RUN | (dir == EDU_TO_RAM ? EDU_CMD_TO_RAM : 0));
	deadline = now_ms() + EDU_TIMEOUT_MS;
	while (edu_rd32(e, EDU_DMA_CMD) & EDU_CMD_RUN) {
		if (now_ms() > deadline)
			return -ETIMEDOUT;
		usleep(2000);
	}
	return 0;
}

static void dma(const struct edu *e, uint64_t iova, enum edu_dir dir)
{
	int r = edu_dma(e, iova, EDU_LEN, dir);

	if (r < 0)
		fail("edu DMA %s iova %#" PRIx64 ": %s",
		     dir == EDU_TO_RAM ? "to" : "from", iova, strerror(-r));
}

/* ------------------------------------------------------------ memory + shadow */

/* Client memory, and what it must hold. */
struct mem {
	uint8_t *p;
	uint8_t *shadow;
	size_t len;
};

static void fill(uint8_t *p, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (uint8_t)(x >> 16) | 1; /* never 0: zeros are "nothing" */
	}
}

static void mem_fill(struct mem *m, size_t off, size_t len, uint32_t seed)
{
	fill(m->p + off, len, seed);
	memcpy(m->shadow + off, m->p + off, len);
}

static void mem_zero(struct mem *m, size_t off, size_t len)
{
	memset(m->p + off, 0, len);
	memset(m->shadow + off, 0, len);
}

/* The device is expected to have written pattern `seed` at off. */
static void mem_expect_dma(struct mem *m, size_t off, uint32_t seed)
{
	fill(m->shadow + off, EDU_LEN, seed);
}

/* Whole memory equals the shadow; else fail naming the first difference. */
static void mem_check(const struct mem *m, const char *what)
{
	for (size_t i = 0; i < m->len; i++) {
		if (m->p[i] != m->shadow[i])
			fail("%s: byte %#zx (page %zu + %#zx) is %#04x, expected %#04x",
			     what, i, i / PAGE, i % PAGE, m->p[i], m->shadow[i]);
	}
	ok("%s", what);
}

static bool matches(const uint8_t *p, uint32_t seed)
{
	uint8_t want[EDU_LEN];

	fill(want, sizeof(want), seed);
	return memcmp(p, want, sizeof(want)) == 0;
}

static const char *describe(const uint8_t *p, uint32_t sentinel)
{
	size_t zeros = 0;

	if (matches(p, sentinel))
		return "edu's buffer kept the sentinel (the read faulted)";
	for (size_t i = 0; i < EDU_LEN; i++)
		zeros += p[i] == 0;
	if (zeros == EDU_LEN)
		return "zeros (the faulted read returned zeros)";
	return "other bytes";
}

/* ------------------------------------------------------------ direct mode */

static int iofd_map(int iommufd, uint32_t ioas, void *va, uint64_t len,
		    uint64_t iova, uint32_t flags)
{
	struct iofd_ioas_map m = {
		.size = sizeof(m),
		.flags = flags | IOFD_MAP_FIXED_IOVA,
		.ioas_id = ioas,
		.user_va = (uintptr_t)va,
		.length = len,
		.iova = iova,
	};

	return ioctl(iommufd, IOFD_IOAS_MAP, &m) < 0 ? -errno : 0;
}

static int iofd_unmap(int iommufd, uint32_t ioas, uint64_t iova, uint64_t len)
{
	struct iofd_ioas_unmap u = {
		.size = sizeof(u), .ioas_id = ioas, .iova = iova, .length = len,
	};

	return ioctl(iommufd, IOFD_IOAS_UNMAP, &u) < 0 ? -errno : 0;
}

static int vfio_bind(int devfd, int iommufd, uint32_t *ret_devid)
{
	struct iofd_vfio_bind_iommufd b = { .argsz = sizeof(b), .iommufd = iommufd };

	if (ioctl(devfd, IOFD_VFIO_DEVICE_BIND_IOMMUFD, &b) < 0)
		return -errno;
	if (ret_devid)
		*ret_devid = b.out_devid;
	return 0;
}

static int vfio_attach(int devfd, uint32_t pt_id, uint32_t *ret_pt)
{
	/* argsz 12: the layout without pasid, which every kernel accepts */
	struct iofd_vfio_attach_pt a = { .argsz = 12, .pt_id = pt_id };

	if (ioctl(devfd, IOFD_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a) < 0)
		return -errno;
	if (ret_pt)
		*ret_pt = a.pt_id;
	return 0;
}

static int vfio_detach(int devfd)
{
	struct iofd_vfio_detach_pt d = { .argsz = sizeof(d) };

	return ioctl(devfd, IOFD_VFIO_DEVICE_DETACH_IOMMUFD_PT, &d) < 0 ? -errno : 0;
}

/* IOVAs of the tests (all < 256 MiB, 4 KiB aligned). */
#define IOVA_SRC 0x100000u  /* page 0, device may read */
#define IOVA_DST 0x200000u  /* page 1, device may read and write */
#define IOVA_RO 0x300000u   /* page 2, device may only read */
#define IOVA_DST2 0x400000u /* page 3, device may read and write */
#define IOVA_NONE 0x800000u /* never mapped */

/*
 * IOVA_DST was just unmapped: a copy of seed aimed at it writes nothing,
 * and the same copy aimed at IOVA_DST2 (memory page 3) still lands.
 */
static void unmapped_dst_misses(const struct edu *e, struct mem *m, uint32_t seed,
				const char *missed, const char *landed)
{
	mem_fill(m, 0, PAGE, seed);
	dma(e, IOVA_SRC, EDU_FROM_RAM);
	dma(e, IOVA_DST, EDU_TO_RAM);
	mem_check(m, missed);
	dma(e, IOVA_DST2, EDU_TO_RAM);
	mem_expect_dma(m, 3 * PAGE, seed);
	mem_check(m, landed);
}

static int mode_direct(const char *devpath)
{
	struct iofd_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct iofd_destroy destroy = { .size = sizeof(destroy) };
	struct mem m = { .len = 4 * PAGE };
	uint32_t devid = 0, hwpt = 0;
	struct edu e;
	char why[160];
	int iommufd, devfd, r;

	who = "direct";
	iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (iommufd < 0)
		fail("open /dev/iommu: %s", strerror(errno));
	if (ioctl(iommufd, IOFD_IOAS_ALLOC, &alloc) < 0)
		fail("IOMMU_IOAS_ALLOC: %s", strerror(errno));
	devfd = open(devpath, O_RDWR | O_CLOEXEC);
	if (devfd < 0)
		fail("open %s: %s", devpath, strerror(errno));
	r = vfio_bind(devfd, iommufd, &devid);
	if (r < 0)
		fail("VFIO_DEVICE_BIND_IOMMUFD: %s", strerror(-r));
	r = vfio_attach(devfd, alloc.out_ioas_id, &hwpt);
	if (r < 0)
		fail("VFIO_DEVICE_ATTACH_IOMMUFD_PT to IOAS %u: %s",
		     alloc.out_ioas_id, strerror(-r));
	ok("bound %s (device id %u), attached to IOAS %u (hwpt %u)", devpath,
	   devid, alloc.out_ioas_id, hwpt);

	/* A second bind of the same open file. */
	r = vfio_bind(devfd, iommufd, NULL);
	if (r != -EINVAL)
		fail("a second VFIO_DEVICE_BIND_IOMMUFD on the same file: %s, expected EINVAL",
		     r ? strerror(-r) : "success");
	ok("a second bind of the same file: EINVAL");
	/* A second open file of the same device cannot bind while one is. */
	{
		int fd2 = open(devpath, O_RDWR | O_CLOEXEC);

		if (fd2 < 0)
			fail("second open of %s: %s", devpath, strerror(errno));
		r = vfio_bind(fd2, iommufd, NULL);
		close(fd2);
		if (r == 0)
			fail("a second open file of the device bound too");
		ok("binding a second open file of a bound device: %s", strerror(-r));
	}

	m.p = mmap(NULL, m.len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	m.shadow = calloc(1, m.len);
	if (m.p == MAP_FAILED || !m.shadow)
		fail("memory: %s", strerror(errno));
	if ((r = iofd_map(iommufd, alloc.out_ioas_id, m.p, PAGE, IOVA_SRC, IOFD_MAP_READABLE)) < 0 ||
	    (r = iofd_map(iommufd, alloc.out_ioas_id, m.p + PAGE, PAGE, IOVA_DST,
			  IOFD_MAP_READABLE | IOFD_MAP_WRITEABLE)) < 0 ||
	    (r = iofd_map(iommufd, alloc.out_ioas_id, m.p + 2 * PAGE, PAGE, IOVA_RO,
			  IOFD_MAP_READABLE)) < 0 ||
	    (r = iofd_map(iommufd, alloc.out_ioas_id, m.p + 3 * PAGE, PAGE, IOVA_DST2,
			  IOFD_MAP_READABLE | IOFD_MAP_WRITEABLE)) < 0)
		fail("IOMMU_IOAS_MAP: %s", strerror(-r));

	r = edu_open(devfd, &e, why, sizeof(why));
	if (r < 0)
		fail("edu: %s", why);
	ok("edu: BAR0 %zu bytes, id %#x, bus master on", e.bar0_size, edu_rd32(&e, EDU_ID));

	mem_fill(&m, 0, PAGE, 1);
	mem_zero(&m, PAGE, 3 * PAGE);
	dma(&e, IOVA_SRC, EDU_FROM_RAM);
	dma(&e, IOVA_DST, EDU_TO_RAM);
	mem_expect_dma(&m, PAGE, 1);
	mem_check(&m, "RAM -> edu -> RAM copy lands exactly at the destination IOVA");

	dma(&e, IOVA_RO, EDU_TO_RAM);
	mem_check(&m, "DMA write to a read-only mapping writes nothing");
	dma(&e, IOVA_NONE, EDU_TO_RAM);
	mem_check(&m, "DMA write to a never-mapped IOVA writes nothing");

	if (ioctl(iommufd, IOFD_DESTROY, &(struct iofd_destroy){ .size = 8, .id = alloc.out_ioas_id }) == 0)
		fail("IOMMU_DESTROY of the IOAS with the device attached succeeded");
	if (errno != EBUSY)
		fail("IOMMU_DESTROY of the IOAS with the device attached: %s, expected EBUSY",
		     strerror(errno));
	ok("IOMMU_DESTROY of an IOAS with a device attached: EBUSY");

	r = iofd_unmap(iommufd, alloc.out_ioas_id, IOVA_DST, PAGE);
	if (r < 0)
		fail("IOMMU_IOAS_UNMAP: %s", strerror(-r));
	unmapped_dst_misses(&e, &m, 2,
			    "after IOMMU_IOAS_UNMAP, DMA to the old IOVA writes nothing",
			    "... while DMA to a still-mapped IOVA lands");

	r = vfio_detach(devfd);
	if (r < 0)
		fail("VFIO_DEVICE_DETACH_IOMMUFD_PT: %s", strerror(-r));
	mem_zero(&m, 3 * PAGE, PAGE);
	dma(&e, IOVA_DST2, EDU_TO_RAM);
	mem_check(&m, "after VFIO_DEVICE_DETACH_IOMMUFD_PT, DMA to a mapped IOVA writes nothing");

	r = vfio_attach(devfd, alloc.out_ioas_id, NULL);
	if (r < 0)
		fail("re-attach after detach: %s", strerror(-r));
	dma(&e, IOVA_DST2, EDU_TO_RAM);
	mem_expect_dma(&m, 3 * PAGE, 2);
	mem_check(&m, "re-attaching the same file (no second bind) makes DMA land again");

	r = vfio_detach(devfd);
	if (r < 0)
		fail("VFIO_DEVICE_DETACH_IOMMUFD_PT: %s", strerror(-r));
	destroy.id = alloc.out_ioas_id;
	if (ioctl(iommufd, IOFD_DESTROY, &destroy) < 0)
		fail("IOMMU_DESTROY after detach: %s", strerror(errno));
	ok("IOMMU_DESTROY after detach succeeds");

	edu_close(&e);
	close(devfd);
	close(iommufd);
	munmap(m.p, m.len);
	free(m.shadow);
	return 0;
}

/* ------------------------------------------------------------ broker mode */

static struct ioas_client *connect_or_die(const char *sock, const char *name)
{
	struct ioas_client *c = NULL;
	char err[256] = "";
	int r;

	r = ioas_client_connect(sock, name, &c, err, sizeof(err));
	if (r < 0)
		fail("connect to %s: %s (%s)", sock, strerror(-r), err);
	ioas_client_set_timeout(c, 20000);
	return c;
}

/* A memfd of npages, registered, mapped into our address space. */
static void mem_memfd(struct ioas_client *c, struct mem *m, size_t npages,
		      int *ret_fd, uint32_t *ret_memory)
{
	int r;

	m->len = npages * PAGE;
	r = ioas_memfd_create("vm-edu", m->len, ret_fd);
	if (r < 0)
		fail("ioas_memfd_create: %s", strerror(-r));
	m->p = mmap(NULL, m->len, PROT_READ | PROT_WRITE, MAP_SHARED, *ret_fd, 0);
	m->shadow = calloc(1, m->len);
	if (m->p == MAP_FAILED || !m->shadow)
		fail("mmap memfd: %s", strerror(errno));
	MUST(c, ioas_memory_register(c, *ret_fd, 0, m->len, ret_memory, NULL));
}

static void map_fixed(struct ioas_client *c, uint32_t ioas, uint32_t memory,
		      uint64_t off, uint64_t iova, uint32_t flags)
{
	uint64_t at = iova;
	int r;

	r = ioas_map(c, ioas, memory, off, PAGE, flags | IOAS_MAP_FIXED_IOVA, &at);
	if (r < 0)
		fail("map page at %#" PRIx64 " to IOVA %#" PRIx64 ": %s (%s)", off,
		     iova, strerror(-r), ioas_client_last_error(c));
	if (at != iova)
		fail("fixed map landed at %#" PRIx64 ", not %#" PRIx64, at, iova);
}

static void open_edu_or_die(int devfd, struct edu *e)
{
	char why[160];

	if (edu_open(devfd, e, why, sizeof(why)) < 0)
		fail("edu on the attached device: %s", why);
}

static uint32_t attach_or_die(struct ioas_client *c, uint32_t ioas, int devfd)
{
	struct ioas_device_info info = { 0 };
	int r;

	r = ioas_device_attach(c, ioas, devfd, &info);
	if (r < 0)
		fail("ioas_device_attach: %s (%s)", strerror(-r), ioas_client_last_error(c));
	if (info.ioas != ioas || info.vendor != 0x1234 || info.device_id != 0x11e8)
		fail("ioas_device_attach says ioas %u %04x:%04x, expected ioas %u 1234:11e8",
		     info.ioas, info.vendor, info.device_id, ioas);
	ok("device attached: handle %u, %04x:%04x at %s (%s), IOAS %u", info.device,
	   info.vendor, info.device_id, info.pci_address, info.name, info.ioas);
	return info.device;
}

static uint32_t count_devices(struct ioas_client *c)
{
	struct ioas_device_info *list = NULL;
	uint32_t n = 0;

	MUST(c, ioas_device_list(c, &list, &n));
	free(list);
	return n;
}

/*
 * Try VFIO_DEVICE_ATTACH_IOMMUFD_PT of a bound file on object ids 1..64 of
 * whatever context it is bound to. Returns how many attached.
 */
static unsigned raw_attach_probe(int devfd, unsigned *ret_last_id)
{
	unsigned n = 0;

	for (uint32_t id = 1; id <= 64; id++) {
		if (vfio_attach(devfd, id, NULL) == 0) {
			n++;
			*ret_last_id = id;
		}
	}
	return n;
}

/* (f) a child attaches through its own connection and exits. */
static void broker_child(const char *sock, int devfd, int memfd, struct mem *m)
{
	struct ioas_client *c;
	uint32_t ioas, memory;
	struct edu e;

	who = "broker child";
	c = connect_or_die(sock, "vm-edu-child");
	MUST(c, ioas_alloc(c, &ioas));
	MUST(c, ioas_memory_register(c, memfd, 0, m->len, &memory, NULL));
	map_fixed(c, ioas, memory, 0, IOVA_SRC, IOAS_MAP_READABLE);
	map_fixed(c, ioas, memory, PAGE, IOVA_DST, IOAS_MAP_READABLE | IOAS_MAP_WRITEABLE);
	attach_or_die(c, ioas, devfd);
	open_edu_or_die(devfd, &e);
	dma(&e, IOVA_SRC, EDU_FROM_RAM);
	dma(&e, IOVA_DST, EDU_TO_RAM);
	mem_expect_dma(m, PAGE, 3);
	mem_check(m, "a second connection's device copies RAM -> edu -> RAM");
	/* Exit without detaching, unmapping or disconnecting politely. */
	_exit(0);
}

static int mode_broker(const char *sock, const char *devpath)
{
	struct ioas_device_info info;
	struct ioas_client *c;
	struct ioas_stats st;
	struct ioas_whoami w;
	struct mem m = { 0 };
	uint32_t ioas, memory, device, n, last_id = 0;
	int memfd, devfd, status, r;
	struct edu e;
	pid_t pid;

	who = "broker";
	c = connect_or_die(sock, "vm-edu");
	MUST(c, ioas_whoami(c, &w));
	ok("tenant %s (%s), uid %u", w.tenant, w.policy_source, (unsigned)getuid());
	MUST(c, ioas_alloc(c, &ioas));
	mem_memfd(c, &m, 4, &memfd, &memory);
	map_fixed(c, ioas, memory, 0, IOVA_SRC, IOAS_MAP_READABLE);
	map_fixed(c, ioas, memory, PAGE, IOVA_DST, IOAS_MAP_READABLE | IOAS_MAP_WRITEABLE);
	map_fixed(c, ioas, memory, 2 * PAGE, IOVA_RO, IOAS_MAP_READABLE);
	map_fixed(c, ioas, memory, 3 * PAGE, IOVA_DST2, IOAS_MAP_READABLE | IOAS_MAP_WRITEABLE);

	devfd = open(devpath, O_RDWR | O_CLOEXEC);
	if (devfd < 0)
		fail("open %s as uid %u: %s", devpath, (unsigned)getuid(), strerror(errno));
	device = attach_or_die(c, ioas, devfd);
	n = count_devices(c);
	if (n != 1)
		fail("ioas_device_list: %u devices, expected 1", n);
	ok("ioas_device_list: 1 device");
	open_edu_or_die(devfd, &e);

	/* (a) */
	mem_fill(&m, 0, PAGE, 1);
	mem_zero(&m, PAGE, 3 * PAGE);
	dma(&e, IOVA_SRC, EDU_FROM_RAM);
	dma(&e, IOVA_DST, EDU_TO_RAM);
	mem_expect_dma(&m, PAGE, 1);
	mem_check(&m, "(a) RAM -> edu -> RAM through the tenant's IOAS lands exactly at the destination");

	/* (b) */
	dma(&e, IOVA_NONE, EDU_TO_RAM);
	mem_check(&m, "(b) DMA write to a never-mapped IOVA writes nothing");
	dma(&e, IOVA_RO, EDU_TO_RAM);
	mem_check(&m, "(b) DMA write to a read-only mapping writes nothing");
	MUST(c, ioas_stats(c, &st));
	ok("(b) the daemon still answers (%u mappings, %" PRIu64 " bytes pinned)",
	   st.mappings, st.pinned_bytes);

	/* (c) */
	r = ioas_destroy(c, ioas);
	if (r != -EBUSY)
		fail("(c) ioas_destroy with a device attached: %s, expected EBUSY",
		     r ? strerror(-r) : "success");
	ok("(c) ioas_destroy with a device attached: EBUSY (%s)", ioas_client_last_error(c));

	/* (d) */
	MUST(c, ioas_unmap(c, ioas, IOVA_DST, PAGE, NULL));
	unmapped_dst_misses(&e, &m, 2,
			    "(d) after ioas_unmap, DMA to the old IOVA writes nothing",
			    "(d) ... while DMA to a still-mapped IOVA lands");

	/* (e) */
	MUST(c, ioas_device_detach(c, device));
	n = count_devices(c);
	if (n != 0)
		fail("(e) ioas_device_list after detach: %u devices", n);
	mem_zero(&m, 3 * PAGE, PAGE);
	dma(&e, IOVA_DST2, EDU_TO_RAM);
	mem_check(&m, "(e) after ioas_device_detach, DMA to a mapped IOVA writes nothing");
	r = ioas_device_attach(c, ioas, devfd, &info);
	if (r == 0) {
		dma(&e, IOVA_DST2, EDU_TO_RAM);
		mem_expect_dma(&m, 3 * PAGE, 2);
		mem_check(&m, "(e) ioas_device_attach of the same fd again works and DMA lands again");
		n = count_devices(c);
		if (n != 1)
			fail("(e) after re-attach: %u devices listed", n);
		MUST(c, ioas_device_detach(c, info.device));
		mem_zero(&m, 3 * PAGE, PAGE);
		dma(&e, IOVA_DST2, EDU_TO_RAM);
		mem_check(&m, "(e) ... and after the second detach DMA writes nothing again");
	} else {
		/* The file stays bound to the tenant's context after the
		 * detach (a VFIO file binds once, for its whole life), so the
		 * daemon's second VFIO_DEVICE_BIND_IOMMUFD fails EINVAL. */
		if (r != -EINVAL)
			fail("(e) ioas_device_attach of the same fd after detach: %s (%s), expected success or EINVAL",
			     strerror(-r), ioas_client_last_error(c));
		ok("(e) ioas_device_attach of the same fd after detach: EINVAL (%s)",
		   ioas_client_last_error(c));
		mem_zero(&m, 3 * PAGE, PAGE);
		dma(&e, IOVA_DST2, EDU_TO_RAM);
		mem_check(&m, "(e) the refused re-attach left the device unable to reach memory");
	}
	MUST(c, ioas_stats(c, &st));
	MUST(c, ioas_destroy(c, ioas));
	ok("(e) ioas_destroy after ioas_device_detach succeeds");
	edu_close(&e);
	close(devfd);
	ioas_client_free(c);

	/* (f) the device file is released by its last holder here (the
	 * daemon's copy went with the detach), so a new open can bind again. */
	devfd = open(devpath, O_RDWR | O_CLOEXEC);
	if (devfd < 0)
		fail("(f) open %s: %s", devpath, strerror(errno));
	mem_fill(&m, 0, PAGE, 3);
	mem_zero(&m, PAGE, 3 * PAGE);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (pid == 0)
		broker_child(sock, devfd, memfd, &m);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("(f) the child failed (status %#x)", status);
	ok("(f) after detach and close the device opened and bound again (the daemon kept no copy of the old file)");
	/* The child's bytes are in the memory; make them the expectation. */
	mem_expect_dma(&m, PAGE, 3);
	mem_check(&m, "(f) the child's DMA is in the parent's view of the memfd");

	/* Wait until the daemon has released the child's connection. */
	c = connect_or_die(sock, "vm-edu-probe");
	for (int i = 0;; i++) {
		MUST(c, ioas_whoami(c, &w));
		n = count_devices(c);
		if (w.ioas == 0 && n == 0 && w.mappings == 0)
			break;
		if (i == 100)
			fail("(f) 10 s after the child exited the tenant still has %u IOAS, %u mappings, %u devices",
			     w.ioas, w.mappings, n);
		usleep(100000);
	}
	ok("(f) after the child's disconnect the tenant holds no IOAS, mapping or device");
	ioas_client_free(c);

	open_edu_or_die(devfd, &e);
	mem_zero(&m, PAGE, PAGE);
	dma(&e, IOVA_DST, EDU_TO_RAM);
	mem_check(&m, "(f) after the client disconnected, DMA through its old IOVA writes nothing");
	n = raw_attach_probe(devfd, &last_id);
	if (n) {
		dma(&e, IOVA_DST, EDU_TO_RAM);
		mem_check(&m, "(f) probe");
		fail("(f) the left-over device file attached to %u object(s) of its context (last id %u)",
		     n, last_id);
	}
	ok("(f) the left-over device file attaches to none of ids 1..64 of its context");
	edu_close(&e);
	close(devfd);
	close(memfd);
	munmap(m.p, m.len);
	free(m.shadow);
	return 0;
}

/* ------------------------------------------------------------ share mode */

enum msg_kind {
	MSG_TOKEN = 1, /* A -> B: token + seed */
	MSG_WROTE,     /* B -> A: my device tried to write into your share */
	MSG_REVOKE,    /* B -> A: revoke now */
	MSG_PROBED,    /* B -> A: my device file probed every object id */
	MSG_BYE,       /* B -> A */
	MSG_OK,        /* A -> B: done, your check may go on */
};

struct msg {
	uint32_t kind;
	uint32_t seed;
	char token[IOAS_SHARE_TOKEN_LEN + 1];
};

static void msg_send(int fd, uint32_t kind, uint32_t seed, const char *token)
{
	struct msg m = { .kind = kind, .seed = seed };

	if (token)
		snprintf(m.token, sizeof(m.token), "%s", token);
	if (write(fd, &m, sizeof(m)) != sizeof(m))
		fail("pipe write: %s", strerror(errno));
}

static struct msg msg_recv(int fd, uint32_t want)
{
	struct msg m;
	ssize_t n;

	do
		n = read(fd, &m, sizeof(m));
	while (n < 0 && errno == EINTR);
	if (n != sizeof(m))
		fail("the other tenant went away (read %zd) while waiting for message %u",
		     n, want);
	if (m.kind != want)
		fail("message %u from the other tenant, expected %u", m.kind, want);
	return m;
}

static void become(uid_t uid, gid_t gid)
{
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0)
		fail("switch to uid %u: %s", (unsigned)uid, strerror(errno));
}

#define SHARE_SEED 77u
#define IOVA_A_DATA 0x500000u  /* A: the shared page (device-readable) */
#define IOVA_A_SPARE 0x600000u /* A: a writable page nobody must reach */
#define IOVA_IMPORT 0x300000u  /* B: where the share is imported */

/* Tenant A: no device, exports one read-only page to B. */
static int tenant_a(const char *sock, int devfd, int rd, int wr)
{
	struct ioas_device_info info;
	struct ioas_client *c;
	struct mem m = { 0 };
	char token[IOAS_SHARE_TOKEN_LEN + 1];
	uint32_t ioas, memory, share;
	int memfd, r;

	who = "share A";
	c = connect_or_die(sock, "vm-edu-A");
	MUST(c, ioas_alloc(c, &ioas));
	/* A tenant without AllowDevice= may not attach a device. */
	r = ioas_device_attach(c, ioas, devfd, &info);
	if (r != -EPERM)
		fail("ioas_device_attach by a tenant without AllowDevice=: %s, expected EPERM",
		     r ? strerror(-r) : "success");
	ok("a tenant without AllowDevice= may not attach a device: EPERM (%s)",
	   ioas_client_last_error(c));
	close(devfd);

	mem_memfd(c, &m, 2, &memfd, &memory);
	mem_fill(&m, 0, PAGE, SHARE_SEED);
	mem_zero(&m, PAGE, PAGE);
	map_fixed(c, ioas, memory, 0, IOVA_A_DATA, IOAS_MAP_READABLE);
	map_fixed(c, ioas, memory, PAGE, IOVA_A_SPARE, IOAS_MAP_READABLE | IOAS_MAP_WRITEABLE);
	MUST(c, ioas_share_export(c, ioas, IOVA_A_DATA, PAGE, false, &share, token));
	ok("exported IOVA %#x (read-only), token %.8s...", IOVA_A_DATA, token);
	msg_send(wr, MSG_TOKEN, SHARE_SEED, token);

	msg_recv(rd, MSG_WROTE);
	mem_check(&m, "the importer's device wrote nothing into the read-only share or anywhere else");
	msg_send(wr, MSG_OK, 0, NULL);

	msg_recv(rd, MSG_REVOKE);
	MUST(c, ioas_share_revoke(c, share));
	ok("share revoked");
	msg_send(wr, MSG_OK, 0, NULL);

	msg_recv(rd, MSG_PROBED);
	mem_check(&m, "the importer's device, attached by hand to every object of its context, reached none of A's memory");
	msg_send(wr, MSG_OK, 0, NULL);

	msg_recv(rd, MSG_BYE);
	ioas_client_free(c);
	close(memfd);
	munmap(m.p, m.len);
	free(m.shadow);
	return 0;
}

/* Tenant B: AllowDevice=, imports A's share, its device reads it. */
static int tenant_b(const char *sock, const char *devpath, int rd, int wr)
{
	struct ioas_notification nt;
	struct ioas_share_list *sl = NULL;
	struct ioas_client *c;
	struct mem m = { 0 };
	struct msg tok;
	uint64_t iova, len;
	uint32_t ioas, memory, import, device, n, last_id = 0;
	int memfd, devfd, r;
	struct edu e;

	who = "share B";
	c = connect_or_die(sock, "vm-edu-B");
	MUST(c, ioas_alloc(c, &ioas));
	/* page 0: B's own source, page 1: the destination */
	mem_memfd(c, &m, 2, &memfd, &memory);
	map_fixed(c, ioas, memory, 0, IOVA_SRC, IOAS_MAP_READABLE);
	map_fixed(c, ioas, memory, PAGE, IOVA_DST, IOAS_MAP_READABLE | IOAS_MAP_WRITEABLE);
	devfd = open(devpath, O_RDWR | O_CLOEXEC);
	if (devfd < 0)
		fail("open %s as uid %u: %s", devpath, (unsigned)getuid(), strerror(errno));
	device = attach_or_die(c, ioas, devfd);
	open_edu_or_die(devfd, &e);

	tok = msg_recv(rd, MSG_TOKEN);

	/* Before the import, A's IOVA means nothing in B's IOAS. */
	mem_fill(&m, 0, PAGE, 5);
	mem_zero(&m, PAGE, PAGE);
	dma(&e, IOVA_SRC, EDU_FROM_RAM);     /* edu buffer := sentinel 5 */
	dma(&e, IOVA_A_DATA, EDU_FROM_RAM);  /* faults: not in B's IOAS */
	dma(&e, IOVA_DST, EDU_TO_RAM);
	if (matches(m.p + PAGE, tok.seed))
		fail("B's device read A's data at A's IOVA before any import");
	ok("before the import, B's device cannot read A's IOVA %#x: %s", IOVA_A_DATA,
	   describe(m.p + PAGE, 5));

	iova = IOVA_IMPORT;
	r = ioas_share_import(c, tok.token, ioas, IOAS_MAP_WRITEABLE | IOAS_MAP_FIXED_IOVA,
			      0, 0, &iova, &import, &len);
	if (r != -EPERM)
		fail("writeable import of a read-only share: %s, expected EPERM",
		     r ? strerror(-r) : "success");
	ok("writeable import of a read-only share: EPERM");
	iova = IOVA_IMPORT;
	MUST(c, ioas_share_import(c, tok.token, ioas, IOAS_MAP_FIXED_IOVA, 0, 0, &iova,
				  &import, &len));
	if (iova != IOVA_IMPORT || len != PAGE)
		fail("import at %#" PRIx64 " length %" PRIu64 ", expected %#x length %u",
		     iova, len, IOVA_IMPORT, PAGE);
	ok("imported A's share at IOVA %#" PRIx64 " into the device tenant's IOAS", iova);

	/* The device reads the shared bytes. */
	mem_zero(&m, PAGE, PAGE);
	dma(&e, IOVA_IMPORT, EDU_FROM_RAM);
	dma(&e, IOVA_DST, EDU_TO_RAM);
	if (!matches(m.p + PAGE, tok.seed))
		fail("the device did not read the shared data from the import (got: %s)",
		     describe(m.p + PAGE, 5));
	mem_expect_dma(&m, PAGE, tok.seed);
	mem_check(&m, "B's device reads A's shared bytes by DMA (import -> edu -> B's memory)");

	/* A write into the read-only import must go nowhere. */
	dma(&e, IOVA_IMPORT, EDU_TO_RAM);
	msg_send(wr, MSG_WROTE, 0, NULL);
	msg_recv(rd, MSG_OK);

	msg_send(wr, MSG_REVOKE, 0, NULL);
	msg_recv(rd, MSG_OK);
	for (int i = 0;; i++) {
		r = ioas_next_notification(c, &nt);
		if (r == 0)
			break;
		if (r != -EAGAIN)
			fail("ioas_next_notification: %s", strerror(-r));
		if (i == 100)
			fail("no revocation notification 10 s after the revoke");
		usleep(100000);
	}
	if (nt.kind != IOAS_NOTIFY_SHARE_REVOKED || nt.import != import || nt.ioas != ioas ||
	    nt.iova != IOVA_IMPORT || nt.length != PAGE)
		fail("notification kind %u import %u ioas %u iova %#" PRIx64 " length %" PRIu64
		     ", expected kind %u import %u ioas %u iova %#x length %u",
		     nt.kind, nt.import, nt.ioas, nt.iova, nt.length,
		     IOAS_NOTIFY_SHARE_REVOKED, import, ioas, IOVA_IMPORT, PAGE);
	ok("revocation notification: import %u, reason \"%s\", exporter %s", nt.import,
	   nt.reason, nt.exporter);
	MUST(c, ioas_share_list(c, &sl));
	n = sl->n_imports;
	ioas_share_list_free(sl);
	if (n != 0)
		fail("%u imports still listed after the revoke", n);

	/* The device no longer reads the data. */
	mem_fill(&m, 0, PAGE, 6);
	mem_zero(&m, PAGE, PAGE);
	dma(&e, IOVA_SRC, EDU_FROM_RAM);     /* edu buffer := sentinel 6 */
	dma(&e, IOVA_IMPORT, EDU_FROM_RAM);  /* the revoked import */
	dma(&e, IOVA_DST, EDU_TO_RAM);
	if (matches(m.p + PAGE, tok.seed))
		fail("after the revoke B's device still reads the shared data");
	ok("after the revoke B's device no longer reads the shared data: %s",
	   describe(m.p + PAGE, 6));

	/*
	 * B's device file is bound to B's own iommufd context: attached by
	 * hand (VFIO ioctl, no daemon) to each object id it can name, it must
	 * never reach A's IOAS. A checks its memory (a writable page at
	 * IOVA_A_SPARE, its data at IOVA_A_DATA).
	 */
	n = 0;
	for (uint32_t id = 1; id <= 64; id++) {
		if (vfio_attach(devfd, id, NULL) < 0)
			continue;
		n++;
		last_id = id;
		dma(&e, IOVA_SRC, EDU_FROM_RAM);
		dma(&e, IOVA_A_SPARE, EDU_TO_RAM);
		dma(&e, IOVA_A_DATA, EDU_TO_RAM);
	}
	ok("B's device file attached by hand to %u object(s) of ids 1..64 (last %u)", n, last_id);
	msg_send(wr, MSG_PROBED, 0, NULL);
	msg_recv(rd, MSG_OK);

	msg_send(wr, MSG_BYE, 0, NULL);
	MUST(c, ioas_device_detach(c, device));
	edu_close(&e);
	close(devfd);
	ioas_client_free(c);
	close(memfd);
	munmap(m.p, m.len);
	free(m.shadow);
	return 0;
}

static int parse_uid(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end || v <= 0 || v > 0x7fffffff)
		fail("bad uid %s", s);
	return (int)v;
}

static int mode_share(const char *sock, const char *devpath, uid_t uid_a, uid_t uid_b)
{
	int ab[2], ba[2], devfd_a, status;
	pid_t pid;

	who = "share";
	if (geteuid() != 0)
		fail("share mode starts as root (it runs the two tenants as uids %u and %u)",
		     (unsigned)uid_a, (unsigned)uid_b);
	/* Opened as root, handed to A, which has no AllowDevice=. */
	devfd_a = open(devpath, O_RDWR | O_CLOEXEC);
	if (devfd_a < 0)
		fail("open %s: %s", devpath, strerror(errno));
	if (pipe2(ab, O_CLOEXEC) < 0 || pipe2(ba, O_CLOEXEC) < 0)
		fail("pipe: %s", strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (pid == 0) {
		close(ab[0]);
		close(ba[1]);
		become(uid_a, uid_a);
		_exit(tenant_a(sock, devfd_a, ba[0], ab[1]));
	}
	close(devfd_a);
	close(ab[1]);
	close(ba[0]);
	become(uid_b, uid_b);
	tenant_b(sock, devpath, ab[0], ba[1]);
	close(ba[1]);
	close(ab[0]);
	who = "share";
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("tenant A failed (status %#x)", status);
	ok("both tenants done");
	return 0;
}

/* ------------------------------------------------------------ restart mode */

/*
 * Phases driven by guest/95-restart.sh: after each phase we print
 * "READY <phase>" and read one line from stdin before going on (EOF: the
 * script went away, a failure). The script SIGKILLs the daemon after
 * phase 1 and starts it again (same arguments, same --state-dir) after
 * phase 2.
 */
static void phase_done(const char *phase)
{
	char line[64];

	printf("READY %s\n", phase);
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		fail("after phase %s: stdin closed (the test script went away)", phase);
}

/* The device copies a fresh pattern from IOVA_SRC to IOVA_DST: it lands. */
static void copy_lands(const struct edu *e, struct mem *m, uint32_t seed, const char *what)
{
	mem_fill(m, 0, PAGE, seed);
	mem_zero(m, PAGE, PAGE);
	dma(e, IOVA_SRC, EDU_FROM_RAM);
	dma(e, IOVA_DST, EDU_TO_RAM);
	mem_expect_dma(m, PAGE, seed);
	mem_check(m, what);
}

static struct ioas_client *connect_token(const char *sock, const char *token,
					 int *ret_r, char *err, size_t errlen)
{
	struct ioas_client *c = NULL;

	err[0] = '\0';
	*ret_r = token ? ioas_client_connect_reclaim(sock, "vm-edu-restart", token, &c,
						     err, errlen) :
			 ioas_client_connect(sock, "vm-edu-restart", &c, err, errlen);
	if (c)
		ioas_client_set_timeout(c, 20000);
	return c;
}

/* A few thousand more mappings, so that the restore reads the database at
 * some size: page 2 of the memfd, read-only, at EXTRA_IOVA(i), in a second
 * IOAS with no device (each map of a domain's IOAS would pin, and charge
 * the memlock limit, again). */
#define RESTART_EXTRA 3000u
#define EXTRA_IOVA(i) (0x10000000ull + (uint64_t)(i) * PAGE)

static int mode_restart(const char *sock, const char *devpath)
{
	struct ioas_device_info *list = NULL;
	struct ioas_client *c;
	struct ioas_stats st;
	struct ioas_whoami w;
	struct mem m = { 0 };
	char token[64], bad[64], err[256];
	uint32_t ioas, ioas2, memory, device, n;
	uint64_t len = 0;
	int memfd, devfd, r;
	struct edu e;

	/* ---- phase 1: a device tenant's DMA through the first daemon */
	who = "restart 1";
	c = connect_or_die(sock, "vm-edu-restart");
	if (!ioas_client_reclaim_token(c) || strlen(ioas_client_reclaim_token(c)) != 32)
		fail("no 32-digit reclaim token at Hello (is --state-dir set?): %s",
		     ioas_client_reclaim_token(c) ?: "(none)");
	snprintf(token, sizeof(token), "%s", ioas_client_reclaim_token(c));
	if (ioas_client_reclaimed(c))
		fail("a first connection says it reclaimed restored objects");
	MUST(c, ioas_whoami(c, &w));
	ok("tenant %s, uid %u, reclaim token %.4s... (32 digits)", w.tenant,
	   (unsigned)getuid(), token);
	MUST(c, ioas_alloc(c, &ioas));
	mem_memfd(c, &m, 4, &memfd, &memory);
	map_fixed(c, ioas, memory, 0, IOVA_SRC, IOAS_MAP_READABLE);
	map_fixed(c, ioas, memory, PAGE, IOVA_DST, IOAS_MAP_READABLE | IOAS_MAP_WRITEABLE);
	MUST(c, ioas_alloc(c, &ioas2));
	for (uint32_t i = 0; i < RESTART_EXTRA; i++)
		map_fixed(c, ioas2, memory, 2 * PAGE, EXTRA_IOVA(i), IOAS_MAP_READABLE);
	ok("%u more read-only mappings of page 2 at %#llx.. in IOAS %u for the restore to read",
	   RESTART_EXTRA, (unsigned long long)EXTRA_IOVA(0), ioas2);
	devfd = open(devpath, O_RDWR | O_CLOEXEC);
	if (devfd < 0)
		fail("open %s as uid %u: %s", devpath, (unsigned)getuid(), strerror(errno));
	device = attach_or_die(c, ioas, devfd);
	open_edu_or_die(devfd, &e);
	copy_lands(&e, &m, 11, "RAM -> edu -> RAM through the first daemon lands exactly at the destination");
	ok("handles: IOAS %u, memory %u, device %u", ioas, memory, device);
	phase_done("1");

	/* ---- phase 2: the daemon was SIGKILLed; nobody serves the socket */
	who = "restart 2";
	r = ioas_stats(c, &st);
	if (r >= 0)
		fail("ioas_stats succeeded after the daemon was killed");
	ok("the old connection is dead: ioas_stats: %s", strerror(-r));
	c = ioas_client_free(c);
	copy_lands(&e, &m, 12, "with no daemon at all, DMA through the same IOVAs still lands exactly (context, mappings, attachment kept)");
	copy_lands(&e, &m, 13, "... and again, with another pattern");
	phase_done("2");

	/* ---- phase 3: the daemon runs again on the same --state-dir */
	who = "restart 3";
	c = connect_token(sock, NULL, &r, err, sizeof(err));
	if (r != -EBUSY)
		fail("connect without the reclaim token before the reclaim: %s (%s), expected EBUSY",
		     r ? strerror(-r) : "success", err);
	ok("connect without the token before the reclaim: EBUSY (%s)", err);
	snprintf(bad, sizeof(bad), "%s", token);
	bad[0] = bad[0] == '0' ? '1' : '0';
	c = connect_token(sock, bad, &r, err, sizeof(err));
	if (r != -EKEYREJECTED)
		fail("connect with a wrong reclaim token: %s (%s), expected EKEYREJECTED",
		     r ? strerror(-r) : "success", err);
	ok("connect with a wrong token: EKEYREJECTED (%s)", err);
	c = connect_token(sock, token, &r, err, sizeof(err));
	if (r < 0)
		fail("ioas_client_connect_reclaim with our token: %s (%s)", strerror(-r), err);
	if (!ioas_client_reclaimed(c))
		fail("the reclaiming connection says it reclaimed nothing");
	if (!ioas_client_reclaim_token(c) || strcmp(ioas_client_reclaim_token(c), token))
		fail("the reclaim token changed across the restart");
	ok("reclaimed with our token; the token is unchanged");

	MUST(c, ioas_device_list(c, &list, &n));
	if (n != 1 || list[0].device != device || list[0].ioas != ioas ||
	    list[0].vendor != 0x1234 || list[0].device_id != 0x11e8)
		fail("ioas_device_list: %u device(s), first handle %u on IOAS %u %04x:%04x; expected device %u on IOAS %u 1234:11e8",
		     n, n ? list[0].device : 0, n ? list[0].ioas : 0,
		     n ? list[0].vendor : 0, n ? list[0].device_id : 0, device, ioas);
	ok("ioas_device_list: device %u (%s, %s) on IOAS %u, the same handles",
	   list[0].device, list[0].pci_address, list[0].name, list[0].ioas);
	free(list);
	MUST(c, ioas_whoami(c, &w));
	if (w.ioas != 2 || w.memory_regions != 1 || w.mappings != 2 + RESTART_EXTRA ||
	    w.devices != 1 || !w.own_context ||
	    w.mapped_bytes != (uint64_t)(2 + RESTART_EXTRA) * PAGE)
		fail("whoami after the reclaim: %u IOAS, %u memory regions, %u mappings (%" PRIu64
		     " bytes), %u devices, own context %d; expected 2, 1, %u (%llu), 1, 1",
		     w.ioas, w.memory_regions, w.mappings, w.mapped_bytes, w.devices,
		     w.own_context, 2 + RESTART_EXTRA,
		     (unsigned long long)(2 + RESTART_EXTRA) * PAGE);
	ok("whoami: 2 IOAS, 1 memory region, %u mappings, 1 device, its own context",
	   2 + RESTART_EXTRA);
	/* The handles name the same objects: mapping over IOVA_DST again is
	 * refused (it is there), and the memory handle still maps. */
	{
		uint64_t at = IOVA_DST;

		r = ioas_map(c, ioas, memory, PAGE, PAGE,
			     IOAS_MAP_READABLE | IOAS_MAP_FIXED_IOVA, &at);
		if (r != -EEXIST)
			fail("mapping over the restored IOVA %#x: %s, expected EEXIST",
			     IOVA_DST, r ? strerror(-r) : "success");
		ok("mapping over the restored IOVA %#x: EEXIST", IOVA_DST);
	}
	copy_lands(&e, &m, 14, "after the reclaim, DMA through the same IOVAs lands exactly");
	/* The extra mappings came back from the database: all of them, in
	 * the kernel too (an unmap of everything there counts them). */
	MUST(c, ioas_unmap_all(c, ioas2, &len));
	if (len != (uint64_t)RESTART_EXTRA * PAGE)
		fail("unmapping all of IOAS %u after the restore: %" PRIu64 " bytes, expected %llu",
		     ioas2, len, (unsigned long long)RESTART_EXTRA * PAGE);
	ok("the %u restored mappings of IOAS %u unmap as one (%" PRIu64 " bytes)",
	   RESTART_EXTRA, ioas2, len);

	/* The new daemon controls the adopted context: a new mapping ... */
	map_fixed(c, ioas, memory, 3 * PAGE, IOVA_DST2, IOAS_MAP_READABLE | IOAS_MAP_WRITEABLE);
	mem_zero(&m, 3 * PAGE, PAGE);
	dma(&e, IOVA_DST2, EDU_TO_RAM);
	mem_expect_dma(&m, 3 * PAGE, 14);
	mem_check(&m, "a mapping made by the new daemon is reached by the device");
	/* ... and an unmap. */
	MUST(c, ioas_unmap(c, ioas, IOVA_DST, PAGE, &len));
	if (len != PAGE)
		fail("ioas_unmap of the restored destination unmapped %" PRIu64 " bytes", len);
	unmapped_dst_misses(&e, &m, 15,
			    "after ioas_unmap through the new daemon, DMA to the restored "
			    "destination writes nothing",
			    "... while DMA to the still-mapped IOVA lands");

	r = ioas_destroy(c, ioas);
	if (r != -EBUSY)
		fail("ioas_destroy of the restored IOAS with its device attached: %s, expected EBUSY",
		     r ? strerror(-r) : "success");
	ok("ioas_destroy of the restored IOAS with the device attached: EBUSY");
	MUST(c, ioas_device_detach(c, device));
	mem_zero(&m, 3 * PAGE, PAGE);
	dma(&e, IOVA_DST2, EDU_TO_RAM);
	mem_check(&m, "after ioas_device_detach of the restored device, DMA writes nothing");
	MUST(c, ioas_destroy(c, ioas));
	ok("ioas_destroy of the restored IOAS after the detach succeeds");

	/* A later connection of the claimed tenant needs no token. */
	{
		struct ioas_client *c2 = connect_token(sock, NULL, &r, err, sizeof(err));

		if (r < 0)
			fail("a second connection without a token after the reclaim: %s (%s)",
			     strerror(-r), err);
		if (ioas_client_reclaimed(c2))
			fail("a second connection says it reclaimed objects again");
		ioas_client_free(c2);
		ok("after the reclaim, a connection without the token is accepted");
	}
	edu_close(&e);
	close(devfd);
	ioas_client_free(c);
	close(memfd);
	munmap(m.p, m.len);
	free(m.shadow);
	return 0;
}

/* ------------------------------------------------------------ identity mode */

/* Low enough for edu (it masks DMA addresses to 28 bits), above what a
 * static program's text, data and heap use. */
#define IDENTITY_ADDR 0x6000000ul

/*
 * Identity maps with a device: memory mapped at the IOVA equal to this
 * process's address of it, so the device uses the CPU's pointers. Under
 * QEMU's default VT-d (39 address bits) an ordinary user address (0x7f...)
 * is outside the IOAS's ranges once the device is attached: refused, as the
 * same fixed map is. One mmapped low (edu reaches only 28 bits) works:
 * RAM -> edu -> RAM by the CPU's own pointers.
 */
static int mode_identity(const char *sock, const char *devpath)
{
	struct ioas_client *c;
	uint32_t ioas, memory, device;
	uint64_t iova;
	uint8_t *low, *high;
	int memfd, devfd, r, r2;
	struct mem m = { .len = 2 * PAGE };
	struct edu e;

	who = "identity";
	c = connect_or_die(sock, "vm-edu-identity");
	MUST(c, ioas_alloc(c, &ioas));
	r = ioas_memfd_create("vm-edu-identity", m.len, &memfd);
	if (r < 0)
		fail("ioas_memfd_create: %s", strerror(-r));
	MUST(c, ioas_memory_register(c, memfd, 0, m.len, &memory, NULL));
	low = mmap((void *)IDENTITY_ADDR, m.len, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_FIXED_NOREPLACE, memfd, 0);
	high = mmap(NULL, m.len, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (low != (void *)IDENTITY_ADDR || high == MAP_FAILED)
		fail("mmap the memfd at %#lx and anywhere: %s", IDENTITY_ADDR,
		     strerror(errno));
	m.p = low;
	m.shadow = calloc(1, m.len);
	if (!m.shadow)
		fail("calloc");

	devfd = open(devpath, O_RDWR | O_CLOEXEC);
	if (devfd < 0)
		fail("open %s: %s", devpath, strerror(errno));
	device = attach_or_die(c, ioas, devfd);
	open_edu_or_die(devfd, &e);

	/* The ordinary address, beyond 39 bits: refused as the fixed map. */
	r = ioas_map_identity(c, ioas, memory, 0, PAGE, IOAS_MAP_READABLE, high);
	iova = (uint64_t)(uintptr_t)high;
	r2 = ioas_map(c, ioas, memory, 0, PAGE,
		      IOAS_MAP_READABLE | IOAS_MAP_FIXED_IOVA, &iova);
	if (r >= 0 || r != r2)
		fail("identity map at %p: %s, fixed map there: %s (expected the same refusal)",
		     (void *)high, r ? strerror(-r) : "success", r2 ? strerror(-r2) : "success");
	ok("identity map at %p (beyond 39 address bits): %s, as the fixed map there",
	   (void *)high, strerror(-r));

	/* The low address: the device reads and writes through the CPU's
	 * pointers. */
	MUST(c, ioas_map_identity(c, ioas, memory, 0, PAGE, IOAS_MAP_READABLE, low));
	MUST(c, ioas_map_identity(c, ioas, memory, PAGE, PAGE,
				  IOAS_MAP_READABLE | IOAS_MAP_WRITEABLE, low + PAGE));
	ok("identity maps at %p and %p", (void *)low, (void *)(low + PAGE));
	mem_fill(&m, 0, PAGE, 7);
	mem_zero(&m, PAGE, PAGE);
	dma(&e, (uint64_t)(uintptr_t)low, EDU_FROM_RAM);
	dma(&e, (uint64_t)(uintptr_t)(low + PAGE), EDU_TO_RAM);
	mem_expect_dma(&m, PAGE, 7);
	mem_check(&m, "RAM -> edu -> RAM with the CPU's pointers as device addresses");

	MUST(c, ioas_device_detach(c, device));
	MUST(c, ioas_unmap_all(c, ioas, NULL));
	edu_close(&e);
	close(devfd);
	ioas_client_free(c);
	munmap(low, m.len);
	munmap(high, m.len);
	close(memfd);
	free(m.shadow);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(mode, "direct") && argc <= 3)
		return mode_direct(argc > 2 ? argv[2] : DEFAULT_DEVICE);
	if (!strcmp(mode, "broker") && argc >= 3 && argc <= 4)
		return mode_broker(argv[2], argc > 3 ? argv[3] : DEFAULT_DEVICE);
	if (!strcmp(mode, "share") && (argc == 3 || argc == 4 || argc == 6))
		return mode_share(argv[2], argc > 3 ? argv[3] : DEFAULT_DEVICE,
				  argc == 6 ? (uid_t)parse_uid(argv[4]) : 2,
				  argc == 6 ? (uid_t)parse_uid(argv[5]) : 1000);
	if (!strcmp(mode, "restart") && argc >= 3 && argc <= 4)
		return mode_restart(argv[2], argc > 3 ? argv[3] : DEFAULT_DEVICE);
	if (!strcmp(mode, "identity") && argc >= 3 && argc <= 4)
		return mode_identity(argv[2], argc > 3 ? argv[3] : DEFAULT_DEVICE);
	fprintf(stderr,
		"usage: vm-edu direct [DEVICE]\n"
		"       vm-edu broker SOCKET [DEVICE]\n"
		"       vm-edu share SOCKET [DEVICE [UID_A UID_B]]\n"
		"       vm-edu restart SOCKET [DEVICE]\n"
		"       vm-edu identity SOCKET [DEVICE]\n");
	return 2;
}
