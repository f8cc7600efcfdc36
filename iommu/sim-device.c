/* SPDX-License-Identifier: MIT */
/* The sim: domains, the reserved ranges they bring, and sim devices (the
 * stand-ins for VFIO device files). */
#include "iommu/backend-faults.h"
#include "iommu/sim-internal.h"

/* Device files bound to a sim context (struct sim_binding), shared by
 * every sim of the process: the kernel's binding is global too (a device
 * binds to one iommufd, whichever context asks). */
static LIST_HEAD(, sim_binding) sim_bindings = LIST_HEAD_INITIALIZER(sim_bindings);
static unsigned int sim_contexts; /* open sims: the table goes with the last */
static uint32_t sim_next_dev_id = SIM_DEVICE_ID_BASE;

/* A context is opened: the table lives as long as one does. */
void sim_bindings_get(void)
{
	sim_contexts++;
}

/* A context is gone: its bindings stay (the files are still bound, to a
 * dead context); with the last context the whole table goes. */
void sim_bindings_put(const struct sim *s)
{
	struct sim_binding *bd, *next;

	sim_contexts--;
	for (bd = LIST_FIRST(&sim_bindings); bd; bd = next) {
		next = LIST_NEXT(bd, link);
		if (sim_contexts == 0) {
			LIST_REMOVE(bd, link);
			free(bd);
		} else if (bd->ctx == s) {
			bd->ctx = NULL;
			bd->ioas = 0;
			bd->hwpt = 0;
		}
	}
	if (sim_contexts == 0)
		sim_next_dev_id = SIM_DEVICE_ID_BASE;
}

/* The device bound to s with that id (iommufd_get_device), or NULL. */
struct sim_binding *sim_binding_by_id(struct sim *s, uint32_t dev_id)
{
	struct sim_binding *bd;

	LIST_FOREACH(bd, &sim_bindings, link)
		if (bd->ctx == s && bd->dev_id == dev_id)
			return bd;
	return NULL;
}

/* ------------------------------------------------------------ devices
 *
 * The sim has no VFIO. A sim device is a memfd named
 * "ioasd-sim-device:VVVV:DDDD@DDDD:BB:SS.F" (ioas_sim_device_create); any
 * other fd is "not a VFIO device" (ENOTTY, what a VFIO ioctl on it says).
 * The name may end in "+mock": that device sits behind the kernel's
 * self-test mock IOMMU driver instead of the rig's VT-d (sim-hwpt.c).
 * Like a VFIO cdev file it is bound at most once in its life (a second bind
 * -> EINVAL, even after a detach: only closing the file unbinds, and the
 * client keeps its copy), so bindings live in a process-wide table keyed by
 * the file's inode and outlive the context they name.
 *   bind: bound already -> EINVAL.                vfio_df_ioctl_bind_iommufd
 *   attach: not bound -> EINVAL; pt_id not an     vfio_iommufd_physical_attach_ioas,
 *     IOAS of the bound context -> ENOENT; then    iommufd_device_attach/replace,
 *     the VT-d domain of the test rig: alignment   intel-iommu aperture and
 *     4 KiB, reserved [0xfee00000, 0xfeefffff]    IOAPIC/MSI region
 *     (interrupts) and everything above the
 *     39-bit aperture (like backend_sim_attach_reserved's rules). Attached
 *     elsewhere already: replaced, the old IOAS released only on success.
 *   detach: not bound -> EINVAL; not attached -> 0.
 */
#define SIM_DEVICE_PREFIX "ioasd-sim-device:"
#define SIM_DEVICE_MOCK_SUFFIX "+mock"
#define SIM_VTD_ALIGN UINT64_C(4096) /* VT-d's smallest page */
#define SIM_VTD_APERTURE_LAST UINT64_C(0x7fffffffff)
#define SIM_MOCK_ALIGN UINT64_C(2048) /* MOCK_IO_PAGE_SIZE: PAGE_SIZE / 2 */
#define SIM_MOCK_APERTURE_START (UINT64_C(1) << 24)
#define SIM_MOCK_APERTURE_LAST ((UINT64_C(1) << 31) - 1)

static const struct backend_iova_range vtd_device_reserved[] = {
	{ UINT64_C(0xfee00000), UINT64_C(0xfeefffff) },
	{ SIM_VTD_APERTURE_LAST + 1, UINT64_MAX },
};
static const struct backend_iova_range vtd_domain_reserved[] = {
	{ SIM_VTD_APERTURE_LAST + 1, UINT64_MAX },
};
static const struct backend_iova_range mock_reserved[] = {
	{ 0, SIM_MOCK_APERTURE_START - 1 },
	{ SIM_MOCK_APERTURE_LAST + 1, UINT64_MAX },
};

const struct sim_domain_shape *sim_driver_domain(enum sim_driver d, bool device)
{
	static const struct sim_domain_shape vtd_device = {
		SIM_VTD_ALIGN, vtd_device_reserved, ARRAY_SIZE(vtd_device_reserved)
	};
	static const struct sim_domain_shape vtd_domain = {
		SIM_VTD_ALIGN, vtd_domain_reserved, ARRAY_SIZE(vtd_domain_reserved)
	};
	static const struct sim_domain_shape mock = {
		SIM_MOCK_ALIGN, mock_reserved, ARRAY_SIZE(mock_reserved)
	};

	if (d == SIM_DRIVER_MOCK)
		return &mock;
	return device ? &vtd_device : &vtd_domain;
}

/* The text after SIM_DEVICE_PREFIX in fd's memfd name, or -ENOTTY. */
static int sim_device_name(int fd, char *buf, size_t size, struct stat *st)
{
	char link[64], target[256];
	const char *want = "/memfd:" SIM_DEVICE_PREFIX;
	ssize_t n;

	if (fd < 0 || fstat(fd, st) < 0)
		return -EBADF;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return -ENOTTY;
	target[n] = '\0';
	if (strncmp(target, want, strlen(want)) != 0)
		return -ENOTTY;
	/* A memfd's link reads "/memfd:NAME (deleted)". */
	if (n > 10 && strcmp(target + n - 10, " (deleted)") == 0)
		target[n - 10] = '\0';
	if (strlen(target + strlen(want)) >= size)
		return -ENODEV;
	memcpy(buf, target + strlen(want), strlen(target + strlen(want)) + 1);
	return 0;
}

/* Which driver a sim device's name asks for. */
static enum sim_driver sim_device_driver(const char *name)
{
	size_t n = strlen(name), k = strlen(SIM_DEVICE_MOCK_SUFFIX);

	return n > k && strcmp(name + n - k, SIM_DEVICE_MOCK_SUFFIX) == 0 ?
		SIM_DRIVER_MOCK : SIM_DRIVER_VTD;
}

/* fd's binding (NULL: not bound); *st, if given, is the file's stat. */
int sim_device_binding(int fd, struct sim_binding **ret, struct stat *ret_st,
		       enum sim_driver *ret_driver)
{
	struct sim_binding *bd;
	struct stat st;
	char name[200];
	int r;

	r = sim_device_name(fd, name, sizeof(name), &st);
	if (r < 0)
		return r;
	if (ret_driver)
		*ret_driver = sim_device_driver(name);
	LIST_FOREACH(bd, &sim_bindings, link)
		if (bd->dev == st.st_dev && bd->ino == st.st_ino)
			break;
	*ret = bd;
	if (ret_st)
		*ret_st = st;
	return 0;
}

static int sim_device_identify(struct backend *b, int fd,
			       struct backend_device_info *ret)
{
	unsigned vendor, device, dom, bus, slot, fn;
	struct backend_device_info d = { 0 };
	struct stat st;
	char name[200], tail;
	int r, n;

	(void)b;
	r = sim_device_name(fd, name, sizeof(name), &st);
	if (r < 0)
		return r;
	n = sscanf(name, "%4x:%4x@%4x:%2x:%2x.%1x%c", &vendor, &device, &dom,
		   &bus, &slot, &fn, &tail);
	if ((n != 6 && !(n == 7 && sim_device_driver(name) == SIM_DRIVER_MOCK)) ||
	    slot > 0x1f || fn > 7)
		return -ENODEV;
	d.vendor = (uint16_t)vendor;
	d.device = (uint16_t)device;
	d.domain = (uint16_t)dom;
	d.bus = (uint8_t)bus;
	d.slot = (uint8_t)slot;
	d.function = (uint8_t)fn;
	snprintf(d.name, sizeof(d.name), "vfio-sim");
	*ret = d;
	return 0;
}

static int sim_device_bind(struct backend *b, int fd, uint32_t *ret_dev_id)
{
	struct sim_binding *bd;
	struct stat st;
	int r;

	enum sim_driver driver;

	r = sim_device_binding(fd, &bd, &st, &driver);
	if (r < 0)
		return r;
	if (bd)
		return -EINVAL; /* one device cannot be bound twice */
	if (sim_next_dev_id == 0)
		return -EBUSY;  /* 2^31 binds in one process */
	bd = calloc(1, sizeof(*bd));
	if (!bd)
		return -ENOMEM;
	bd->dev = st.st_dev;
	bd->ino = st.st_ino;
	bd->ctx = to_sim(b);
	bd->driver = driver;
	/* Not an object id of the context (see "Deliberate differences"):
	 * only GET_HW_INFO and HWPT_ALLOC take it. */
	bd->dev_id = sim_next_dev_id++;
	LIST_INSERT_HEAD(&sim_bindings, bd, link);
	*ret_dev_id = bd->dev_id;
	return 0;
}

/* Attach (or replace) onto an IOAS or an HWPT: the device's domain (its
 * reserved ranges) goes into the IOAS behind pt_id. */
static int sim_device_attach(struct backend *b, int fd, uint32_t pt_id,
			     uint32_t *ret_hwpt)
{
	struct sim_ioas *io, *old = NULL;
	struct sim_hwpt *h = NULL, *old_h = NULL;
	struct sim_binding *bd;
	uint32_t ioas = pt_id;
	int r;

	(void)b; /* the device acts in the context it is bound to */
	r = sim_device_binding(fd, &bd, NULL, NULL);
	if (r < 0)
		return r;
	if (!bd)
		return -EINVAL; /* device ioctls before BIND_IOMMUFD */
	io = bd->ctx ? sim_get_ioas(bd->ctx, pt_id) : NULL;
	if (!io && bd->ctx && (h = sim_get_hwpt(bd->ctx, pt_id))) {
		/* __iommu_attach_group: a domain of another driver. */
		if (h->driver != bd->driver)
			return -EINVAL;
		r = sim_attach_check(bd, h);
		if (r < 0)
			return r;
		ioas = h->ioas;
		io = sim_get_ioas(bd->ctx, ioas);
	}
	if (!io)
		return -ENOENT;
	if (bd->ioas == ioas && bd->hwpt == (h ? h->id : 0)) {
		*ret_hwpt = pt_id;
		return 0;
	}
	if (bd->ioas)
		old = sim_get_ioas(bd->ctx, bd->ioas);
	if (bd->hwpt)
		old_h = sim_get_hwpt(bd->ctx, bd->hwpt);
	if (old != io) {
		const struct sim_domain_shape *sh = sim_driver_domain(bd->driver, true);

		r = sim_domain_add(io, bd, sh->reserved, sh->n_reserved, sh->alignment);
		if (r < 0)
			return r;
		if (old)
			sim_domain_remove(old, bd);
	}
	if (old_h)
		old_h->users--;
	if (h)
		h->users++;
	bd->ioas = ioas;
	bd->hwpt = h ? h->id : 0;
	*ret_hwpt = pt_id;
	return 0;
}

static int sim_device_detach(struct backend *b, int fd)
{
	struct sim_binding *bd;
	struct sim_hwpt *h;
	struct sim_ioas *io;
	int r;

	(void)b;
	r = sim_device_binding(fd, &bd, NULL, NULL);
	if (r < 0)
		return r;
	if (!bd)
		return -EINVAL;
	if (bd->ioas && bd->ctx) {
		io = sim_get_ioas(bd->ctx, bd->ioas);
		if (io)
			sim_domain_remove(io, bd);
	}
	if (bd->hwpt && bd->ctx && (h = sim_get_hwpt(bd->ctx, bd->hwpt)))
		h->users--;
	bd->ioas = 0;
	bd->hwpt = 0;
	return 0;
}

static int sim_context_open(struct backend *b, struct backend **ret)
{
	int r = backend_sim_open_model(&to_sim(b)->model, ret);

	if (r >= 0) {
		(*ret)->has_map_file = b->has_map_file;
		(*ret)->has_pasid = b->has_pasid;
		to_sim(*ret)->fds_held = to_sim(b)->fds_held;
		to_sim(*ret)->k72 = to_sim(b)->k72;
	}
	return r;
}

/* The sim's devices are memfds its clients make (ioas_sim_device_create):
 * there is no device file for the daemon to open and hand over. */
static int sim_device_open(struct backend *b, const struct pci_address *a,
			   int *ret_fd)
{
	(void)b;
	(void)a;
	(void)ret_fd;
	return -EOPNOTSUPP;
}

const struct backend_ops sim_ops = {
	.name = "sim",
	.close = sim_close,
	.ioas_alloc = sim_ioas_alloc,
	.destroy = sim_destroy,
	.iova_ranges = sim_iova_ranges,
	.allow_iovas = sim_allow_iovas,
	.map_user = sim_map_user,
	.map_file = sim_map_file,
	.copy = sim_copy,
	.unmap = sim_unmap,
	.option = sim_option,
	.context_open = sim_context_open,
	.device_identify = sim_device_identify,
	.device_bind = sim_device_bind,
	.device_attach = sim_device_attach,
	.device_detach = sim_device_detach,
	.device_open = sim_device_open,
	.hw_info = sim_hw_info,
	.hwpt_alloc = sim_hwpt_alloc,
	.hwpt_invalidate = sim_hwpt_invalidate,
	.viommu_alloc = sim_viommu_alloc,
	.vdevice_alloc = sim_vdevice_alloc,
	.veventq_alloc = sim_veventq_alloc,
	.faults = &sim_fault_ops,
};
