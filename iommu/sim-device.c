/* SPDX-License-Identifier: MIT */
/* The sim: domains, the reserved ranges they bring, and sim devices (the
 * stand-ins for VFIO device files). */
#include "iommu/sim-internal.h"

/* Device files bound to a sim context, shared by every sim of the process:
 * the kernel's binding is global too (a device binds to one iommufd,
 * whichever context asks). */
struct sim_binding {
	LIST_ENTRY(sim_binding) link;
	dev_t dev;
	ino_t ino;
	struct sim *ctx;   /* NULL once that context is closed */
	uint32_t ioas;     /* attached to, 0 if not */
};
static LIST_HEAD(, sim_binding) sim_bindings = LIST_HEAD_INITIALIZER(sim_bindings);
static unsigned int sim_contexts; /* open sims: the table goes with the last */

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
		}
	}
}

/* ------------------------------------------------------------ devices
 *
 * The sim has no VFIO. A sim device is a memfd named
 * "ioasd-sim-device:VVVV:DDDD@DDDD:BB:SS.F" (ioas_sim_device_create); any
 * other fd is "not a VFIO device" (ENOTTY, what a VFIO ioctl on it says).
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
#define SIM_DEVICE_ALIGN UINT64_C(4096) /* VT-d's smallest page */
#define SIM_DEVICE_APERTURE_LAST UINT64_C(0x7fffffffff)

static const struct backend_iova_range sim_device_reserved[] = {
	{ UINT64_C(0xfee00000), UINT64_C(0xfeefffff) },
	{ SIM_DEVICE_APERTURE_LAST + 1, UINT64_MAX },
};

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

/* fd's binding (NULL: not bound); *st, if given, is the file's stat. */
static int sim_device_binding(int fd, struct sim_binding **ret,
			      struct stat *ret_st)
{
	struct sim_binding *bd;
	struct stat st;
	char name[200];
	int r;

	r = sim_device_name(fd, name, sizeof(name), &st);
	if (r < 0)
		return r;
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
	int r;

	(void)b;
	r = sim_device_name(fd, name, sizeof(name), &st);
	if (r < 0)
		return r;
	if (sscanf(name, "%4x:%4x@%4x:%2x:%2x.%1x%c", &vendor, &device, &dom,
		   &bus, &slot, &fn, &tail) != 6 || slot > 0x1f || fn > 7)
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

	r = sim_device_binding(fd, &bd, &st);
	if (r < 0)
		return r;
	if (bd)
		return -EINVAL; /* one device cannot be bound twice */
	bd = calloc(1, sizeof(*bd));
	if (!bd)
		return -ENOMEM;
	bd->dev = st.st_dev;
	bd->ino = st.st_ino;
	bd->ctx = to_sim(b);
	LIST_INSERT_HEAD(&sim_bindings, bd, link);
	/* The sim gives devices no object ids (see "Deliberate differences"). */
	*ret_dev_id = 0;
	return 0;
}

static int sim_device_attach(struct backend *b, int fd, uint32_t pt_id,
			     uint32_t *ret_hwpt)
{
	struct sim_ioas *io, *old = NULL;
	struct sim_binding *bd;
	int r;

	(void)b; /* the device acts in the context it is bound to */
	r = sim_device_binding(fd, &bd, NULL);
	if (r < 0)
		return r;
	if (!bd)
		return -EINVAL; /* device ioctls before BIND_IOMMUFD */
	io = bd->ctx ? sim_get_ioas(bd->ctx, pt_id) : NULL;
	if (!io)
		return -ENOENT;
	if (bd->ioas == pt_id) {
		*ret_hwpt = pt_id;
		return 0;
	}
	if (bd->ioas)
		old = sim_get_ioas(bd->ctx, bd->ioas);
	r = sim_domain_add(io, bd, sim_device_reserved,
			   ARRAY_SIZE(sim_device_reserved), SIM_DEVICE_ALIGN);
	if (r < 0)
		return r;
	if (old)
		sim_domain_remove(old, bd);
	bd->ioas = pt_id;
	*ret_hwpt = pt_id;
	return 0;
}

static int sim_device_detach(struct backend *b, int fd)
{
	struct sim_binding *bd;
	struct sim_ioas *io;
	int r;

	(void)b;
	r = sim_device_binding(fd, &bd, NULL);
	if (r < 0)
		return r;
	if (!bd)
		return -EINVAL;
	if (bd->ioas && bd->ctx) {
		io = sim_get_ioas(bd->ctx, bd->ioas);
		if (io)
			sim_domain_remove(io, bd);
	}
	bd->ioas = 0;
	return 0;
}

static int sim_context_open(struct backend *b, struct backend **ret)
{
	int r = backend_sim_open_model(&to_sim(b)->model, ret);

	if (r >= 0) {
		(*ret)->has_map_file = b->has_map_file;
		to_sim(*ret)->fds_held = to_sim(b)->fds_held;
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
};
