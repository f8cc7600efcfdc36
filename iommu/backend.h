/* SPDX-License-Identifier: MIT */
/*
 * The one interface between the broker and an iommufd implementation.
 *
 *   kernel  real ioctls on /dev/iommu (backend-kernel.c)
 *   sim     an in-process model with the kernel's semantics and errno
 *           (backend-sim.c)
 *
 * Every function returns 0 or a negative errno, exactly the errno the kernel
 * ioctl it stands for would return for the same input. Output parameters are
 * named ret_* and are left untouched on failure unless stated otherwise
 * (iova_ranges reports the needed count with -EMSGSIZE, like the kernel).
 *
 * Object ids are the backend's (the kernel's) ids. They never leave the daemon.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Kernel-compatible flag bits of IOMMU_IOAS_MAP / IOMMU_IOAS_COPY. */
#define BACKEND_MAP_FIXED_IOVA (1u << 0)
#define BACKEND_MAP_WRITEABLE (1u << 1)
#define BACKEND_MAP_READABLE (1u << 2)
#define BACKEND_MAP_ALL_FLAGS \
	(BACKEND_MAP_FIXED_IOVA | BACKEND_MAP_WRITEABLE | BACKEND_MAP_READABLE)

/* IOMMU_OPTION ops and option ids (kernel values). */
#define BACKEND_OPTION_OP_SET 0
#define BACKEND_OPTION_OP_GET 1
#define BACKEND_OPTION_RLIMIT_MODE 0
#define BACKEND_OPTION_HUGE_PAGES 1

struct backend_iova_range {
	uint64_t start;
	uint64_t last; /* inclusive */
};

enum backend_kind {
	BACKEND_AUTO = 0, /* kernel if /dev/iommu opens, else sim */
	BACKEND_KERNEL,
	BACKEND_SIM,
};

struct backend;
struct pci_address;
struct backend_fault_ops;

/* IOMMU_HWPT_ALLOC flag bits (kernel values). FAULT_ID_VALID and PASID are
 * passed through for the ops of issue 16 (fault queues, PASID attach). */
#define BACKEND_HWPT_NEST_PARENT (1u << 0)
#define BACKEND_HWPT_DIRTY_TRACKING (1u << 1)
#define BACKEND_HWPT_FAULT_ID_VALID (1u << 2)
#define BACKEND_HWPT_PASID (1u << 3)

/* What IOMMU_HWPT_ALLOC takes: a paging HWPT when pt_id is an IOAS
 * (data_type 0, no data), a nested one when it is a nesting parent HWPT
 * (data_type and data_len bytes of driver data, e.g. IOMMU_HWPT_DATA_VTD_S1). */
struct backend_hwpt_alloc {
	uint32_t flags;
	uint32_t dev_id;   /* a device bound to this context */
	uint32_t pt_id;
	uint32_t data_type;
	const void *data;
	uint32_t data_len;
	uint32_t fault_id; /* read with BACKEND_HWPT_FAULT_ID_VALID */
};

/* IOMMU_VIOMMU_ALLOC (Linux 6.13 and later; older kernels: -ENOTTY). */
struct backend_viommu_alloc {
	uint32_t flags;
	uint32_t type;       /* enum iommu_viommu_type */
	uint32_t dev_id;
	uint32_t hwpt_id;    /* a nesting parent */
	const void *data;    /* the type's data, 6.15 and later */
	uint32_t data_len;
};

/* IOMMU_GET_HW_INFO's answer. data holds min(data_len, sizeof data) bytes
 * of the driver's structure (struct iommu_hw_info_vtd, ...); data_len is
 * the driver's own length, as the kernel reports it. */
#define BACKEND_HW_INFO_DATA_MAX 256
struct backend_hw_info {
	uint32_t type;           /* enum iommu_hw_info_type */
	uint32_t data_len;
	uint64_t capabilities;   /* IOMMU_HW_CAP_* */
	uint8_t max_pasid_log2;
	uint8_t data[BACKEND_HW_INFO_DATA_MAX];
};

/*
 * What a VFIO device cdev fd is, for policy (AllowDevice=) and audit. The
 * kernel backend reads it from sysfs through the fd's st_rdev (the client
 * cannot make it up); the sim backend from the name of a sim device memfd
 * (ioas_sim_device_create).
 */
struct backend_device_info {
	uint16_t vendor, device;                 /* PCI ids */
	uint16_t domain;                         /* PCI address */
	uint8_t bus, slot, function;
	char name[32];                           /* "vfio0" */
};

struct backend_ops {
	const char *name;
	void (*close)(struct backend *b);
	int (*ioas_alloc)(struct backend *b, uint32_t *ret_id);
	int (*destroy)(struct backend *b, uint32_t id);
	int (*iova_ranges)(struct backend *b, uint32_t ioas,
			   struct backend_iova_range *ranges, uint32_t *num,
			   uint64_t *ret_alignment);
	int (*allow_iovas)(struct backend *b, uint32_t ioas,
			   const struct backend_iova_range *ranges,
			   uint32_t num);
	int (*map_user)(struct backend *b, uint32_t ioas, uint32_t flags,
			void *va, uint64_t length, uint64_t *iova);
	int (*map_file)(struct backend *b, uint32_t ioas, uint32_t flags,
			int fd, uint64_t start, uint64_t length,
			uint64_t *iova);
	int (*copy)(struct backend *b, uint32_t dst_ioas, uint32_t src_ioas,
		    uint32_t flags, uint64_t src_iova, uint64_t length,
		    uint64_t *dst_iova);
	int (*unmap)(struct backend *b, uint32_t ioas, uint64_t iova,
		     uint64_t length, uint64_t *ret_unmapped);
	int (*option)(struct backend *b, uint32_t op, uint32_t option_id,
		      uint32_t object_id, uint64_t *val);
	/* Another, empty, context of the same kind (open /dev/iommu again). */
	int (*context_open)(struct backend *b, struct backend **ret);
	/* -ENOTTY: fd is not a VFIO device cdev; -ENODEV: not a PCI one. */
	int (*device_identify)(struct backend *b, int fd,
			       struct backend_device_info *ret);
	/* VFIO_DEVICE_BIND_IOMMUFD of fd to this context. */
	int (*device_bind)(struct backend *b, int fd, uint32_t *ret_dev_id);
	/* VFIO_DEVICE_ATTACH_IOMMUFD_PT; *ret_hwpt is the HWPT it got. */
	int (*device_attach)(struct backend *b, int fd, uint32_t pt_id,
			     uint32_t *ret_hwpt);
	/* VFIO_DEVICE_DETACH_IOMMUFD_PT (0 even when not attached). */
	int (*device_detach)(struct backend *b, int fd);
	/* Open the VFIO cdev of a PCI device afresh (unbound), to hand it
	 * over (delegate.c): -ENOENT no such device, -ENODEV no cdev; the sim
	 * has none to open (-EOPNOTSUPP). */
	int (*device_open)(struct backend *b, const struct pci_address *a,
			   int *ret_fd);
	/* IOMMU_GET_HW_INFO of a bound device (dev_id from device_bind). */
	int (*hw_info)(struct backend *b, uint32_t dev_id,
		       struct backend_hw_info *ret);
	/* IOMMU_HWPT_ALLOC; IOMMU_DESTROY (destroy) frees it. */
	int (*hwpt_alloc)(struct backend *b, const struct backend_hwpt_alloc *a,
			  uint32_t *ret_id);
	/* IOMMU_HWPT_INVALIDATE: *entry_num in, and out how many entries the
	 * kernel handled (set on failure too, as the kernel does). */
	int (*hwpt_invalidate)(struct backend *b, uint32_t id,
			       uint32_t data_type, const void *entries,
			       uint32_t entry_len, uint32_t *entry_num);
	/* vIOMMU objects (Linux 6.13 and later; older kernels: -ENOTTY). */
	int (*viommu_alloc)(struct backend *b, const struct backend_viommu_alloc *a,
			    uint32_t *ret_id);
	int (*vdevice_alloc)(struct backend *b, uint32_t viommu, uint32_t dev_id,
			     uint64_t virt_id, uint32_t *ret_id);
	/* *ret_fd: the queue's fd (CLOEXEC), the caller's. */
	int (*veventq_alloc)(struct backend *b, uint32_t viommu, uint32_t type,
			     uint32_t depth, uint32_t *ret_id, int *ret_fd);
	/* Issue 16 (backend-faults.h says what each does). */
	const struct backend_fault_ops *faults;
};

/*
 * What of a kernel's build and machine decides the IOVAs iommufd picks:
 * iopt_alloc_iova() caps the alignment of an automatically chosen IOVA at
 * HPAGE_SIZE when the kernel is built with CONFIG_TRANSPARENT_HUGEPAGE and
 * at PAGE_SIZE otherwise; PAGE_SIZE also bounds the automatic window
 * [PAGE_SIZE, UINT64_MAX - PAGE_SIZE], is the alignment HUGE_PAGES=0
 * imposes and the largest a device may impose. The sim models one such
 * kernel; the kernel backend reports the running one's.
 */
struct backend_model {
	bool thp;            /* CONFIG_TRANSPARENT_HUGEPAGE */
	uint64_t page_size;  /* PAGE_SIZE: 4096 (x86-64), 16384, 65536 */
	uint64_t hpage_size; /* HPAGE_SIZE (the PMD size); 0 without thp */
};

/* "thp=yes hpage_size=2097152 page_size=4096", "thp=no page_size=4096" */
#define BACKEND_MODEL_STRLEN 80

/*
 * The model of the kernel this process runs on: THP when
 * /sys/kernel/mm/transparent_hugepage exists (the kernel creates it when
 * built with THP), HPAGE_SIZE from its hpage_pmd_size, PAGE_SIZE from
 * sysconf. thp (1 yes, 0 no, -1 the host's) and page_size (0: the host's)
 * override; HPAGE_SIZE is then the host's only when the page size is, else
 * the PMD size of that page size (PAGE_SIZE * PAGE_SIZE / 8: x86-64 and
 * arm64). -EINVAL for a page size that is not a power of two from 4 KiB
 * to 64 KiB.
 */
int backend_model_init(struct backend_model *ret, int thp, uint64_t page_size);
void backend_model_format(const struct backend_model *m, char *buf,
			  size_t size);

struct backend {
	const struct backend_ops *ops;
	bool has_map_file; /* IOMMU_IOAS_MAP_FILE works (probed once) */
	bool has_pasid;    /* VFIO_DEVICE_ATTACH_PASID exists (backend-faults.h) */
	/* "sim thp=yes hpage_size=2097152 page_size=4096": the backend and
	 * the kernel it is (kernel) or stands for (sim); HelloReply carries
	 * it to clients. */
	char description[16 + BACKEND_MODEL_STRLEN];
};

/*
 * Open a backend. BACKEND_AUTO tries the kernel and falls back to sim; then
 * *ret_fell_back (if not NULL) is set so that the caller can say so loudly.
 * -ENOENT/-EACCES/... from open("/dev/iommu") are returned for BACKEND_KERNEL.
 */
int backend_open(enum backend_kind kind, const char *dev_path,
		 struct backend **ret, bool *ret_fell_back);
struct backend *backend_close(struct backend *b); /* NULL-safe, returns NULL */

int backend_kernel_open(const char *dev_path, struct backend **ret);
/* A sim of the kernel model m describes; backend_sim_open: of this host's. */
int backend_sim_open_model(const struct backend_model *m, struct backend **ret);
int backend_sim_open(struct backend **ret);
/* The model a sim stands for; NULL when b is not a sim. */
const struct backend_model *backend_sim_model(const struct backend *b);

/*
 * Sim knobs for tests: which MAP_FILE capability to claim, and reserved
 * ranges / alignment as a device attach would impose them (the kernel narrows
 * IOVA_RANGES when a device attaches; the sim models that with this call).
 */
void backend_sim_set_map_file(struct backend *b, bool has_map_file);
/*
 * The caller passes map_file only fds it holds open (the daemon: a
 * registered memory's own fd, checked when it was registered and held until
 * it is unregistered): the sim then leaves out its model of fget's EBADF, a
 * fcntl(F_GETFD) per map that the kernel does not make (its fget is a
 * lookup inside the ioctl), so that a map costs the sim's caller what it
 * costs the kernel's. Off by default; contexts opened from b inherit it.
 */
void backend_sim_set_fds_held(struct backend *b, bool held);
int backend_sim_attach_reserved(struct backend *b, uint32_t ioas,
				const struct backend_iova_range *reserved,
				uint32_t num, uint64_t alignment);

/*
 * The sim's IOMMU_TEST_OP_MD_CHECK_IOTLB: does IOTLB iotlb_id of the nested
 * HWPT hwpt (a "+mock" sim device's) hold expect? 0, -EINVAL when not,
 * -ENOENT when hwpt is no nested HWPT.
 */
int backend_sim_check_iotlb(struct backend *b, uint32_t hwpt,
			    uint32_t iotlb_id, uint32_t expect);

/*
 * In: ranges has room for *num entries. Out: *num is the number of ranges
 * the IOAS has; when that is more than the room, -EMSGSIZE and only *num is
 * set (kernel semantics).
 */
static inline int backend_iova_ranges(struct backend *b, uint32_t ioas,
				      struct backend_iova_range *ranges,
				      uint32_t *num, uint64_t *ret_alignment)
{
	return b->ops->iova_ranges(b, ioas, ranges, num, ret_alignment);
}

static inline int backend_ioas_alloc(struct backend *b, uint32_t *ret_id)
{
	return b->ops->ioas_alloc(b, ret_id);
}

static inline int backend_destroy(struct backend *b, uint32_t id)
{
	return b->ops->destroy(b, id);
}

static inline int backend_allow_iovas(struct backend *b, uint32_t ioas,
				      const struct backend_iova_range *ranges,
				      uint32_t num)
{
	return b->ops->allow_iovas(b, ioas, ranges, num);
}

/* *iova is the fixed IOVA in (with BACKEND_MAP_FIXED_IOVA) and the IOVA out. */
static inline int backend_map_user(struct backend *b, uint32_t ioas,
				   uint32_t flags, void *va, uint64_t length,
				   uint64_t *iova)
{
	return b->ops->map_user(b, ioas, flags, va, length, iova);
}

/* -EOPNOTSUPP when !b->has_map_file. */
static inline int backend_map_file(struct backend *b, uint32_t ioas,
				   uint32_t flags, int fd, uint64_t start,
				   uint64_t length, uint64_t *iova)
{
	return b->ops->map_file(b, ioas, flags, fd, start, length, iova);
}

static inline int backend_copy(struct backend *b, uint32_t dst_ioas,
			       uint32_t src_ioas, uint32_t flags,
			       uint64_t src_iova, uint64_t length,
			       uint64_t *dst_iova)
{
	return b->ops->copy(b, dst_ioas, src_ioas, flags, src_iova, length,
			    dst_iova);
}

static inline int backend_unmap(struct backend *b, uint32_t ioas,
				uint64_t iova, uint64_t length,
				uint64_t *ret_unmapped)
{
	return b->ops->unmap(b, ioas, iova, length, ret_unmapped);
}

/* *val in for SET, out for GET. object_id is 0 for global options. */
static inline int backend_option(struct backend *b, uint32_t op,
				 uint32_t option_id, uint32_t object_id,
				 uint64_t *val)
{
	return b->ops->option(b, op, option_id, object_id, val);
}

static inline int backend_context_open(struct backend *b, struct backend **ret)
{
	return b->ops->context_open(b, ret);
}

static inline int backend_device_identify(struct backend *b, int fd,
					  struct backend_device_info *ret)
{
	return b->ops->device_identify(b, fd, ret);
}

static inline int backend_device_bind(struct backend *b, int fd,
				      uint32_t *ret_dev_id)
{
	return b->ops->device_bind(b, fd, ret_dev_id);
}

static inline int backend_device_attach(struct backend *b, int fd,
					uint32_t pt_id, uint32_t *ret_hwpt)
{
	return b->ops->device_attach(b, fd, pt_id, ret_hwpt);
}

static inline int backend_device_detach(struct backend *b, int fd)
{
	return b->ops->device_detach(b, fd);
}

static inline int backend_device_open(struct backend *b,
				      const struct pci_address *a, int *ret_fd)
{
	return b->ops->device_open(b, a, ret_fd);
}

static inline int backend_hw_info(struct backend *b, uint32_t dev_id,
				  struct backend_hw_info *ret)
{
	return b->ops->hw_info(b, dev_id, ret);
}

static inline int backend_hwpt_alloc(struct backend *b,
				     const struct backend_hwpt_alloc *a,
				     uint32_t *ret_id)
{
	return b->ops->hwpt_alloc(b, a, ret_id);
}

static inline int backend_hwpt_invalidate(struct backend *b, uint32_t id,
					  uint32_t data_type,
					  const void *entries,
					  uint32_t entry_len,
					  uint32_t *entry_num)
{
	return b->ops->hwpt_invalidate(b, id, data_type, entries, entry_len,
				       entry_num);
}

static inline int backend_viommu_alloc(struct backend *b,
				       const struct backend_viommu_alloc *a,
				       uint32_t *ret_id)
{
	return b->ops->viommu_alloc(b, a, ret_id);
}

static inline int backend_vdevice_alloc(struct backend *b, uint32_t viommu,
					uint32_t dev_id, uint64_t virt_id,
					uint32_t *ret_id)
{
	return b->ops->vdevice_alloc(b, viommu, dev_id, virt_id, ret_id);
}

static inline int backend_veventq_alloc(struct backend *b, uint32_t viommu,
					uint32_t type, uint32_t depth,
					uint32_t *ret_id, int *ret_fd)
{
	return b->ops->veventq_alloc(b, viommu, type, depth, ret_id, ret_fd);
}

/*
 * After adopting a context kept across a restart: empty (unmap everything)
 * and destroy every IOAS with an id in [1, max(known) + margin] that is not
 * in known[] (an IOAS allocated in the instant of a kill, a pool refill the
 * state file never named, or everything of a state that was refused). Ids
 * are allocated lowest-free, so such an IOAS sits within the margin. One
 * that a device holds stays, empty. Returns how many were destroyed.
 */
uint32_t backend_sweep_ioases(struct backend *b, const uint32_t *known,
			      size_t n, uint32_t margin);

/*
 * After backend_sweep_ioases() in a device tenant's own context: destroy
 * every other object with an id in [1, max(known) + margin] that is not in
 * known[] -- an HWPT, vIOMMU, vDEVICE or vEVENTQ the kernel allocated in
 * the instant of a kill, before the daemon recorded it. Pass after pass, so
 * that what holds another goes first (a nested HWPT before its parent, a
 * vDEVICE, vEVENTQ or HWPT in a vIOMMU before the vIOMMU), until a pass
 * destroys nothing. IOMMU_DESTROY takes only an object nothing else holds
 * (iommufd_object_remove(): EBUSY unless its users count is one), so it
 * never takes a bound device (its driver holds it until unbind), a domain
 * a device is attached to, a vEVENTQ whose fd is open, or an IOAS an HWPT
 * is on. Known ids above BACKEND_SWEEP_MAX_ID are kept but do not raise the
 * bound (the kernel allocates ids lowest-free; the sim numbers its devices
 * high). Returns how many were destroyed.
 */
#define BACKEND_SWEEP_MAX_ID 65536u
uint32_t backend_sweep_objects(struct backend *b, const uint32_t *known,
			       size_t n, uint32_t margin);

/* "0000:00:03.0 (1234:11e8)" */
void backend_device_format(const struct backend_device_info *d, char *buf,
			   size_t size);

static inline const char *backend_name(const struct backend *b)
{
	return b->ops->name;
}

static inline const char *backend_description(const struct backend *b)
{
	return b->description;
}
