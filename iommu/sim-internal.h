/* SPDX-License-Identifier: MIT */
/*
 * The sim's own: the objects of one modelled context and what its files
 * share (backend-sim.c: the ops; sim-context.c: objects, area lookup,
 * opening a sim and the public entry points;
 * sim-iova.c: automatic IOVA allocation and alignment; sim-device.c:
 * domains, reserved ranges and sim devices). The rules it models are listed
 * at the top of backend-sim.c.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * libbsd's tree.h marks the generated static functions __unused, which its
 * own cdefs.h leaves undefined on Linux; give it its meaning for this file.
 */
#ifndef __unused
#define __unused __attribute__((__unused__))
#endif
#include <bsd/sys/tree.h>

#include "iommu/backend.h"
#include "common/util.h"

#define SIM_ID_MAX UINT32_C(0x7fffffff) /* xa_limit_31b */
#define SIM_ACCOUNT_USER 0
#define SIM_ACCOUNT_MM 1

struct sim_area {
	RB_ENTRY(sim_area) node;
	uint64_t iova;
	uint64_t last; /* inclusive */
	uint64_t addr; /* VA (or file offset) backing iova */
	bool pages_writable;
};

static inline int sim_area_cmp(const struct sim_area *a, const struct sim_area *b)
{
	return a->iova < b->iova ? -1 : a->iova > b->iova;
}

RB_HEAD(sim_area_tree, sim_area);
RB_GENERATE_STATIC(sim_area_tree, sim_area, node, sim_area_cmp)

/* One attached domain: a device (owner = its binding) or a test knob's
 * (owner NULL, never detached). */
struct sim_domain {
	LIST_ENTRY(sim_domain) link;
	const void *owner;
	uint64_t alignment;
	struct backend_iova_range *reserved;
	size_t n_reserved;
};

struct sim_ioas {
	RB_ENTRY(sim_ioas) node;
	uint32_t id;
	LIST_HEAD(, sim_domain) domains;
	struct sim_area_tree areas;
	/* sorted by start, never overlapping (validated on ALLOW_IOVAS) */
	struct backend_iova_range *allowed;
	size_t n_allowed;
	/* sorted by start, may overlap (several devices) */
	struct backend_iova_range *reserved;
	size_t n_reserved;
	uint64_t iova_alignment;
	uint64_t domain_alignment; /* max over attached devices, 1 if none */
	unsigned int n_domains;
	bool disable_large_pages;
	const struct backend_model *m; /* the context's */
};

static inline int sim_ioas_cmp(const struct sim_ioas *a, const struct sim_ioas *b)
{
	return a->id < b->id ? -1 : a->id > b->id;
}

RB_HEAD(sim_ioas_tree, sim_ioas);
RB_GENERATE_STATIC(sim_ioas_tree, sim_ioas, node, sim_ioas_cmp)

/*
 * The IOMMU driver a sim device sits behind (sim-hwpt.c): the rig's
 * emulated VT-d (what edu gets) or the kernel's self-test mock driver
 * (CONFIG_IOMMUFD_TEST), which is the one that can nest.
 */
enum sim_driver {
	SIM_DRIVER_VTD = 0,
	SIM_DRIVER_MOCK,
};

/* A VFIO device file bound to a sim context (sim-device.c). */
struct sim_binding {
	LIST_ENTRY(sim_binding) link;
	dev_t dev;
	ino_t ino;
	struct sim *ctx;   /* NULL once that context is closed */
	uint32_t dev_id;   /* SIM_DEVICE_ID_BASE + n: outside the object ids */
	enum sim_driver driver;
	uint32_t ioas;     /* the IOAS its domain is in, 0 if not attached */
	uint32_t hwpt;     /* the HWPT it is attached to, 0: the IOAS's own */
};

/*
 * What a domain of each driver brings into the IOAS it joins (an attached
 * device's, or a paging HWPT's): the alignment of its smallest page and the
 * IOVAs outside its aperture, reserved (iopt_table_add_domain). The rig's
 * VT-d: 4 KiB, a 39-bit aperture; a device also brings the interrupt window
 * (iopt_table_enforce_dev_resv_regions). The mock: MOCK_IO_PAGE_SIZE
 * (PAGE_SIZE / 2) and [MOCK_APERTURE_START, MOCK_APERTURE_LAST].
 */
struct sim_domain_shape {
	uint64_t alignment;
	const struct backend_iova_range *reserved; /* sorted */
	uint32_t n_reserved;
};
const struct sim_domain_shape *sim_driver_domain(enum sim_driver d, bool device);

/* Sim device ids: never an object id (those stop at SIM_ID_MAX). */
#define SIM_DEVICE_ID_BASE (SIM_ID_MAX + 1)
#define SIM_MOCK_IOTLBS 4 /* MOCK_NESTED_DOMAIN_IOTLB_NUM */

/* A hardware page table (sim-hwpt.c): paging (from an IOAS) or nested
 * (from a nesting parent). */
struct sim_hwpt {
	RB_ENTRY(sim_hwpt) node;
	uint32_t id;
	uint32_t flags;           /* BACKEND_HWPT_* it was allocated with */
	enum sim_driver driver;
	uint32_t ioas;            /* paging: its IOAS; nested: the parent's */
	struct sim_hwpt *parent;  /* nested only */
	unsigned int users;       /* attached devices + nested children */
	uint32_t iotlb[SIM_MOCK_IOTLBS]; /* mock nested */
	struct sim_fault *fault;  /* FAULT_ID_VALID: the queue it holds */
	struct sim_dirty *dirty;  /* DIRTY_TRACKING: what was written */
};

static inline int sim_hwpt_cmp(const struct sim_hwpt *a, const struct sim_hwpt *b)
{
	return a->id < b->id ? -1 : a->id > b->id;
}

RB_HEAD(sim_hwpt_tree, sim_hwpt);
RB_GENERATE_STATIC(sim_hwpt_tree, sim_hwpt, node, sim_hwpt_cmp)

/* A fault queue (sim-faults.c). */
struct sim_fault {
	RB_ENTRY(sim_fault) node;
	uint32_t id;
	int fd;                /* the sim's end; the client has the other */
	unsigned int users;    /* HWPTs allocated with it */
	uint32_t *cookies;     /* groups delivered and not answered */
	size_t n_cookies, cap_cookies;
};

static inline int sim_fault_cmp(const struct sim_fault *a, const struct sim_fault *b)
{
	return a->id < b->id ? -1 : a->id > b->id;
}

RB_HEAD(sim_fault_tree, sim_fault);
RB_GENERATE_STATIC(sim_fault_tree, sim_fault, node, sim_fault_cmp)

/* A PASID of a device attached to an HWPT (sim-pasid.c). */
struct sim_pasid {
	LIST_ENTRY(sim_pasid) link;
	struct sim_binding *bd;
	uint32_t pasid;
	struct sim_hwpt *hwpt;
};

struct sim {
	struct backend b;
	struct backend_model model;
	struct sim_ioas_tree objects;
	size_t n_objects;
	struct sim_hwpt_tree hwpts; /* same id space as objects */
	unsigned int account_mode;
	bool fds_held;         /* backend_sim_set_fds_held() */
	bool k72;              /* backend_sim_set_kernel72() */
	/* Issue 16 (sim-faults.c, sim-pasid.c): fault queues (same id space
	 * as objects) and PASID attachments of devices bound here. */
	struct sim_fault_tree faults;
	LIST_HEAD(, sim_pasid) pasids;
};

/* One slice of pages to become one area: what iopt_pages_list holds. */
struct sim_piece {
	uint64_t addr;
	uint64_t length;
	bool pages_writable;
};

extern const struct backend_ops sim_ops;

static inline struct sim *to_sim(struct backend *b)
{
	return (struct sim *)b;
}

static inline uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static inline uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static inline uint64_t roundup_pow_of_two(uint64_t v)
{
	/* v in [1, 2^63] */
	if (v <= 1)
		return 1;
	return UINT64_C(1) << (64 - __builtin_clzll(v - 1));
}

struct sim_ioas *sim_get_ioas(struct sim *s, uint32_t id);
struct sim_area *sim_area_first(struct sim_ioas *io, uint64_t first,
				uint64_t last);
bool ranges_intersect(const struct backend_iova_range *r, size_t n,
		      uint64_t first, uint64_t last);
void sim_close(struct backend *b);
int sim_ioas_alloc(struct backend *b, uint32_t *ret_id);
int sim_destroy(struct backend *b, uint32_t id);
int sim_iova_ranges(struct backend *b, uint32_t ioas,
		    struct backend_iova_range *ranges, uint32_t *num,
		    uint64_t *ret_alignment);
int sim_allow_iovas(struct backend *b, uint32_t ioas,
		    const struct backend_iova_range *ranges,
		    uint32_t num);
int sim_map_user(struct backend *b, uint32_t ioas, uint32_t flags,
		 void *va, uint64_t length, uint64_t *iova);
int sim_map_file(struct backend *b, uint32_t ioas, uint32_t flags,
		 int fd, uint64_t start, uint64_t length,
		 uint64_t *iova);
int sim_copy(struct backend *b, uint32_t dst_ioas, uint32_t src_ioas,
	     uint32_t flags, uint64_t src_iova, uint64_t length,
	     uint64_t *dst_iova);
int sim_unmap(struct backend *b, uint32_t ioas, uint64_t iova,
	      uint64_t length, uint64_t *ret_unmapped);
int sim_option(struct backend *b, uint32_t op, uint32_t option_id,
	       uint32_t object_id, uint64_t *val);
int sim_domain_add(struct sim_ioas *io, const void *owner,
		   const struct backend_iova_range *reserved,
		   uint32_t num, uint64_t alignment);
void sim_domain_remove(struct sim_ioas *io, const void *owner);
int sim_map_pieces(struct sim_ioas *io, const struct sim_piece *pieces,
		   size_t n, uint64_t length, uint32_t flags,
		   uint64_t *iova);
int sim_check_alignment(struct sim_ioas *io, uint64_t align);
int sim_recalc_alignment(struct sim_ioas *io);
int sim_alloc_id(struct sim *s, uint32_t *ret_id);
void sim_ioas_free(struct sim_ioas *io);
void sim_bindings_get(void);
struct sim_binding *sim_binding_by_id(struct sim *s, uint32_t dev_id);
struct sim_hwpt *sim_get_hwpt(struct sim *s, uint32_t id);
int sim_hwpt_destroy(struct sim *s, struct sim_hwpt *h);
void sim_hwpts_free(struct sim *s);
int sim_hw_info(struct backend *b, uint32_t dev_id,
		struct backend_hw_info *ret);
int sim_hwpt_alloc(struct backend *b, const struct backend_hwpt_alloc *a,
		   uint32_t *ret_id);
int sim_hwpt_invalidate(struct backend *b, uint32_t id, uint32_t data_type,
			const void *entries, uint32_t entry_len,
			uint32_t *entry_num);
int sim_viommu_alloc(struct backend *b, const struct backend_viommu_alloc *a,
		     uint32_t *ret_id);
int sim_vdevice_alloc(struct backend *b, uint32_t viommu, uint32_t dev_id,
		      uint64_t virt_id, uint32_t *ret_id);
int sim_veventq_alloc(struct backend *b, uint32_t viommu, uint32_t type,
		      uint32_t depth, uint32_t *ret_id, int *ret_fd);
void sim_bindings_put(const struct sim *s);
/* Issue 16: sim-faults.c, sim-dirty.c, sim-pasid.c. */
int sim_device_binding(int fd, struct sim_binding **ret, struct stat *ret_st,
		       enum sim_driver *ret_driver);
struct sim_fault *sim_get_fault(struct sim *s, uint32_t id);
int sim_fault_destroy(struct sim *s, struct sim_fault *f);
void sim_faults_free(struct sim *s);
int sim_hwpt_hold_fault(struct sim *s, struct sim_hwpt *h, uint32_t fault_id);
void sim_hwpt_release_extras(struct sim_hwpt *h);
void sim_pasids_free(struct sim *s);
int sim_attach_check(const struct sim_binding *bd, const struct sim_hwpt *h);
int sim_get_dirty(struct backend *b, uint32_t hwpt, uint32_t flags,
		  uint64_t iova, uint64_t length, uint64_t page_size,
		  void *bitmap);
int sim_set_dirty(struct backend *b, uint32_t hwpt, bool enable);
int sim_pasid_attach(struct backend *b, int fd, uint32_t pasid,
		     uint32_t pt_id, uint32_t *ret_hwpt);
int sim_pasid_detach(struct backend *b, int fd, uint32_t pasid);
