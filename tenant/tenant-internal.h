/* SPDX-License-Identifier: MIT */
/*
 * The tenant layer's own view of its tables, shared by its files and by
 * nothing else (tenant.h is the interface): the objects, their trees, the
 * daemon-wide registry and totals, and the helpers the files call across.
 *
 *   tenant.c    tenants, handles, lookups, lifetime, the registry
 *   pins.c      pinned-range counter per memory region
 *   ioas.c      IOASes (pool or own context, policy applied) and memory
 *   mapping.c   map, unmap, copy: the backend call, the mirror, rollback,
 *               the AllowedIOVA gate and the consistency walker
 *   share.c     shares and imports, revocation
 *   device.c    VFIO devices
 *   hwpt.c      hardware page tables, hardware info, device replace
 *   viommu.c    vIOMMUs, vDEVICEs, vEVENTQs
 *   snapshot.c  dump, restore and reconcile for restart support
 *   journal.c   the change events restart support records
 *   release.c   releasing a tenant, at once or a slice at a time
 */
#pragma once

#include "common/pci.h"
#include "common/rbtree.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/queue.h>
#include <sys/mman.h>
#include <sys/random.h>
#include "iommu/backend-kernel.h"
#include "common/log.h"
#include "policy/policy.h"
#include "tenant/pool.h"
#include "tenant/tenant.h"

/* ------------------------------------------------------------ pin segments
 * For each memory region, the byte ranges that are mapped somewhere, with a
 * count of how many mappings cover each. Bytes whose count goes 0 -> 1 are
 * newly pinned and charged once to the region's owner; 1 -> 0 are released.
 * Segments are disjoint and cover only counted bytes.
 */
struct pin_seg {
	RB_ENTRY(pin_seg) node;
	uint64_t start, end; /* [start, end) in region offsets */
	uint32_t count;
};
RB_HEAD(pin_tree, pin_seg);
static inline int pin_cmp(const struct pin_seg *a, const struct pin_seg *b)
{
	return a->start < b->start ? -1 : a->start > b->start;
}
RB_GENERATE_STATIC(pin_tree, pin_seg, node, pin_cmp)

struct mem_obj {
	RB_ENTRY(mem_obj) node;
	struct tenant *owner; /* charged for the pinned bytes, whoever maps */
	uint32_t handle;
	struct memory_region *region;
	uint64_t store_id; /* kept in the restart fd store under this id, or 0 */
	uint32_t nmappings;
	uint64_t pinned; /* bytes of this region with count > 0 */
	struct pin_tree pins;
};
RB_HEAD(mem_tree, mem_obj);
static inline int mem_cmp(const struct mem_obj *a, const struct mem_obj *b)
{
	return a->handle < b->handle ? -1 : a->handle > b->handle;
}
RB_GENERATE_STATIC(mem_tree, mem_obj, node, mem_cmp)

struct mapping {
	RB_ENTRY(mapping) node;
	uint64_t iova, length;
	struct mem_obj *mem;
	uint64_t mem_offset;
	uint32_t flags;
	struct tenant_import *imp; /* a piece of this import, or NULL */
	bool outside_policy; /* made before a reload or restart narrowed AllowedIOVA */
};
RB_HEAD(mapping_tree, mapping);
static inline int mapping_cmp(const struct mapping *a, const struct mapping *b)
{
	return a->iova < b->iova ? -1 : a->iova > b->iova;
}
RB_GENERATE_STATIC(mapping_tree, mapping, node, mapping_cmp)

struct ioas_obj {
	RB_ENTRY(ioas_obj) node;
	uint32_t handle;
	uint32_t id; /* backend object id */
	uint32_t mock_stdev; /* test builds: mock device attached, or 0 */
	uint32_t mock_hwpt;  /* ... and its domain, for MD_CHECK_MAP */
	uint32_t mock_idev;  /* ... and its device object (HWPTs: "device 0") */
	struct tenant_hwpt *mock_on; /* the HWPT the mock device is on, or NULL */
	uint32_t restore_mock_on;    /* restart: the HWPT it goes back onto */
	uint8_t mock_cache_cleared;  /* hwpt-test.c: its device caches invalidated */
	struct mapping_tree mappings;
	uint32_t nmappings;
	uint32_t ndevices;   /* brokered devices attached to it */
	uint32_t nhwpts;     /* HWPTs allocated from it (or a parent on it) */
	uint32_t gen;        /* generation of its mappings (journal) */
	bool quiet;          /* going whole: no journal event per mapping */
	bool unmapping_all;  /* tenant_unmap_all_step() under way */
	/* The tenant's own AllowIovas narrowing (NULL, 0: none), kept so
	 * that a reload can apply the new policy without widening it. */
	struct policy_range *own_allowed;
	uint32_t n_own_allowed;
};
RB_HEAD(ioas_tree, ioas_obj);
static inline int ioas_cmp(const struct ioas_obj *a, const struct ioas_obj *b)
{
	return a->handle < b->handle ? -1 : a->handle > b->handle;
}
RB_GENERATE_STATIC(ioas_tree, ioas_obj, node, ioas_cmp)

struct tenant_share {
	LIST_ENTRY(tenant_share) link;      /* owner's list */
	LIST_ENTRY(tenant_share) all_link;  /* every share, for token lookup */
	struct tenant *owner;
	struct ioas_obj *ioas;
	uint32_t handle;
	uint64_t iova, length;
	bool writeable;
	char token[TENANT_SHARE_TOKEN_LEN + 1];
	LIST_HEAD(, tenant_import) imports;
};

struct tenant_import {
	LIST_ENTRY(tenant_import) share_link;
	LIST_ENTRY(tenant_import) tenant_link;
	struct tenant_share *share;
	struct tenant *t;           /* the importer */
	struct ioas_obj *ioas;      /* the importer's */
	uint32_t handle;
	uint64_t iova, offset, length;
	uint32_t flags;
	uint32_t npieces;           /* its mappings still present */
};

/*
 * A hardware page table (tenant/hwpt.c): paging, allocated from an IOAS,
 * or nested, from a nesting parent. It holds its IOAS (nhwpts) and a nested
 * one its parent; devices on it and nested children hold it (users).
 */
struct tenant_hwpt {
	LIST_ENTRY(tenant_hwpt) link; /* newest first */
	uint32_t handle;
	uint32_t id;                /* backend object id */
	uint32_t flags;             /* BACKEND_HWPT_* it was allocated with */
	uint32_t data_type;         /* IOMMU_HWPT_DATA_*, 0 for paging */
	struct ioas_obj *ioas;      /* paging: its IOAS; nested: the parent's */
	struct tenant_hwpt *parent; /* nested only */
	uint32_t device;            /* handle of the device it was made for */
	uint32_t children, devices; /* who holds it */
	void *data;                 /* nested: its driver data (restart replay) */
	uint32_t data_len;
	uint8_t test_cleared;       /* hwpt-test.c: mock IOTLBs invalidated */
	struct tenant_viommu *viommu; /* nested from a vIOMMU, else NULL */
	struct tenant_fault *fault; /* FAULT_ID_VALID: the queue it holds */
	uint32_t pasids;            /* PASIDs it is attached at (holds it) */
};

/*
 * Issue 16 (tenant/faults.c). A fault queue: the kernel object the daemon
 * owns (its fd went to the client), held by the HWPTs allocated with it.
 * A PASID of a device with an HWPT (or, if a kernel allows, an IOAS) there.
 */
struct tenant_fault {
	LIST_ENTRY(tenant_fault) link; /* newest first */
	uint32_t handle;
	uint32_t id;                /* backend object id */
	uint32_t hwpts;             /* HWPTs allocated with it */
};

struct tenant_pasid {
	LIST_ENTRY(tenant_pasid) link;
	uint32_t handle;            /* its restart record's */
	struct tenant_device *device; /* NULL: device 0 (test builds) ... */
	struct ioas_obj *mock;      /* ... the mock device of this IOAS */
	uint32_t pasid;
	struct tenant_hwpt *hwpt;   /* what is attached there ... */
	struct ioas_obj *ioas;      /* ... or an IOAS (hwpt NULL) */
	uint32_t pt_id;             /* the kernel's answer: the HWPT it got */
};

/*
 * vIOMMU objects (tenant/viommu.c; Linux 6.13 and later): a vIOMMU on a
 * nesting parent HWPT, which it holds; vDEVICEs (a device's virtual id in
 * it), vEVENTQs (its event queues, whose fd the client got) and nested
 * HWPTs made from it hold it. Handles are one space for the three kinds.
 */
struct tenant_viommu {
	LIST_ENTRY(tenant_viommu) link; /* newest first */
	enum tenant_vobj_kind kind;
	uint32_t handle;
	uint32_t id;                /* backend object id */
	uint32_t type;              /* vIOMMU / vEVENTQ type */
	uint32_t device;            /* vIOMMU, vDEVICE: the device's handle */
	struct tenant_hwpt *parent; /* vIOMMU: its nesting parent */
	struct tenant_viommu *viommu; /* vDEVICE, vEVENTQ: the vIOMMU */
	uint64_t virt_id;           /* vDEVICE */
	uint32_t users;             /* vIOMMU: vDEVICEs, vEVENTQs, HWPTs on it */
};

/* A VFIO device the daemon bound to the tenant's context and attached. */
struct tenant_device {
	LIST_ENTRY(tenant_device) link;
	uint32_t handle;
	int fd;                     /* the daemon's copy, owned */
	struct ioas_obj *ioas;      /* attached to (or to an HWPT on it) */
	struct tenant_hwpt *hwpt;   /* the HWPT it is on, NULL: the IOAS's own */
	uint32_t restore_hwpt;      /* restart: the HWPT it goes back onto */
	uint32_t dev_id, hwpt_id;   /* backend object ids */
	struct backend_device_info info;
	bool stored;                /* in the restart fd store as store_id */
	uint64_t store_id;
};

struct tenant {
	LIST_ENTRY(tenant) link;    /* the registry */
	struct tenants *set;        /* the set it is in */
	struct backend *backend;    /* the shared context, or own_ctx */
	struct backend *own_ctx;    /* device tenants: their own context, owned */
	bool device_ctx;            /* its IOASes live in a context of its own */
	bool ctx_stored;            /* own_ctx is in the restart fd store */
	uint64_t ctx_store_id;
	struct pool *pool;
	const struct policy_tenant *pt;
	bool orphaned;
	uint32_t nconns;
	char *name;
	struct tenant_limits limits;
	struct tenant_usage usage;
	struct ioas_tree ioases;
	struct mem_tree mems;
	uint32_t next_ioas_handle;
	uint32_t next_mem_handle;
	LIST_HEAD(, tenant_share) shares;
	LIST_HEAD(, tenant_import) imports;
	uint32_t nshares;
	uint32_t next_share_handle;
	uint32_t next_import_handle;
	LIST_HEAD(, tenant_device) devices; /* usage.devices of them */
	uint32_t next_device_handle;
	LIST_HEAD(, tenant_hwpt) hwpts;     /* usage.hwpts of them */
	uint32_t next_hwpt_handle;
	LIST_HEAD(, tenant_viommu) vobjs;   /* counted in usage.hwpts too */
	uint32_t next_vobj_handle;
	LIST_HEAD(, tenant_fault) faults;   /* usage.fault_queues of them */
	uint32_t next_fault_handle;
	LIST_HEAD(, tenant_pasid) pasids;   /* usage.pasids of them */
	uint32_t next_pasid_handle;
	char reclaim_token[TENANT_RECLAIM_TOKEN_LEN + 1];
	bool unclaimed; /* restored after a restart, not yet reclaimed */
	uint32_t journal_id;
	bool quiet;     /* going whole: no journal event per object */
	bool dying;     /* released: in the set's dying list, being reaped */
	bool busy;      /* an operation of it runs in slices (tenant_set_busy) */
};

/* The set of live tenants: everything the layer keeps beyond one tenant.
 * One per daemon (or per test), passed in, never a global. */
struct tenants {
	LIST_HEAD(, tenant) registry;           /* every live tenant, by name */
	LIST_HEAD(, tenant) dying;              /* released, mappings being reaped */
	LIST_HEAD(, tenant_share) all_shares;   /* every share, for token lookup */
	struct tenant_totals totals;
	tenant_revoke_fn revoke_hook;
	void *revoke_hook_data;
	tenant_fd_store_fn fd_store_hook;
	tenant_fd_unstore_fn fd_unstore_hook;
	void *fd_store_data;
	tenant_journal_fn journal;
	void *journal_data;
	bool test_mock_domains;
};

const char *cite(const struct tenant *t, enum policy_key k, char *buf,
		size_t size);
bool iova_in_policy(const struct tenant *t, uint64_t iova,
		    uint64_t length);
int iova_refused(const struct tenant *t, uint64_t iova, uint64_t length,
		 struct err *e);
int check_not_orphaned(const struct tenant *t, struct err *e);
struct ioas_obj *ioas_get(struct tenant *t, uint32_t handle,
			  struct err *e);
struct mem_obj *mem_get(struct tenant *t, uint32_t handle,
			struct err *e);
struct mapping *mapping_first_overlap(struct ioas_obj *o,
				      uint64_t start, uint64_t last);
int check_no_imports(struct ioas_obj *o, uint64_t start, uint64_t last,
		     const char *what, struct err *e);
void revoke_shares_in(struct tenant *t, struct ioas_obj *o,
		      uint64_t start, uint64_t last, const char *reason);
int own_context_open(struct tenant *t, struct err *e);
int ioas_get_backend(struct tenant *t, uint32_t *ret_id);
int ioas_put_backend(struct tenant *t, uint32_t id, uint32_t mock_stdev);
void mapping_release(struct tenant *t, struct ioas_obj *o,
		     struct mapping *m);
void range_unmap_release(struct tenant *t, struct ioas_obj *o,
			 uint64_t iova, uint64_t length);
void mapping_clip(const struct mapping *m, uint64_t first, uint64_t last,
		  uint64_t *ret_start, uint64_t *ret_length);
void ioas_free(struct tenant *t, struct ioas_obj *o);
void ioas_release_mappings(struct tenant *t, struct ioas_obj *o);
void device_insert(struct tenant *t, struct tenant_device *d,
		   struct ioas_obj *o);
void device_free(struct tenant *t, struct tenant_device *d, bool detach);
void mem_free(struct tenant *t, struct mem_obj *m);
void hwpts_release(struct tenant *t);
/* viommu.c: the vIOMMU a handle names (ENOENT in e otherwise). */
struct tenant_viommu *viommu_get(struct tenant *t, uint32_t handle,
				 enum tenant_vobj_kind kind, struct err *e);
/* viommu.c: at a release, before the devices go: vDEVICEs and vEVENTQs;
 * after the HWPTs made from a vIOMMU: the vIOMMUs. */
void vobjs_release(struct tenant *t, bool viommus);
int check_device_tenant(struct tenant *t, struct err *e);
struct tenant_hwpt *hwpt_get(struct tenant *t, uint32_t handle, struct err *e);
/* tenant/faults.c */
struct tenant_fault *fault_get(struct tenant *t, uint32_t handle, struct err *e);
void pasids_release(struct tenant *t, const struct tenant_device *d,
		    bool detach);
void faults_release(struct tenant *t);
int tenant_dump_faults(const struct tenant *t, const struct tenant_dump_ops *ops,
		       void *userdata, bool pasids);
/* faults-test.c: test builds' stand-ins for a device's faults and writes. */
void faults_test_replaced(struct tenant *t, struct ioas_obj *o,
			  const struct tenant_hwpt *h);
void faults_test_dirty_on(struct tenant *t, const struct tenant_hwpt *h);
int faults_test_pasid_attach(struct tenant *t, struct ioas_obj *m, uint32_t pasid,
			     const struct tenant_hwpt *h, bool replace,
			     uint32_t *ret_hwpt, bool *ret_detached, struct err *e);
int faults_test_pasid_detach(struct tenant *t, struct ioas_obj *m, uint32_t pasid,
			     struct err *e);
/* hwpt-test.c: the test builds' mock device as a tenant's "device 0". */
bool hwpt_test_mock(const struct tenant *t, uint32_t device);
int hwpt_test_mock_dev_id(struct tenant *t, struct ioas_obj *o, uint32_t *ret,
			  struct err *e);
int hwpt_test_mock_replace(struct tenant *t, struct ioas_obj *o,
			   struct tenant_hwpt *h, struct err *e);
void hwpt_test_mock_release(struct tenant *t);
int hwpt_test_check_nested(struct tenant *t, const struct tenant_hwpt *h,
			   struct err *e);
int hwpt_test_check_viommu_invalidate(struct tenant *t, const struct tenant_viommu *v,
				      uint32_t data_type, const void *entries,
				      uint32_t entry_len, uint32_t done, struct err *e);
int hwpt_test_check_invalidate(struct tenant *t, const struct tenant_hwpt *h,
			       uint32_t data_type, const void *entries,
			       uint32_t entry_len, uint32_t done, struct err *e);
int tenant_dump_hwpts(const struct tenant *t, const struct tenant_dump_ops *ops,
		      void *userdata);
struct tenant_device *device_get(struct tenant *t, uint32_t handle,
				 struct err *e);
uint64_t pin_uncovered(struct pin_tree *tree, uint64_t start,
		       uint64_t end);
int64_t pin_add(struct pin_tree *tree, uint64_t start, uint64_t end);
uint64_t pin_del(struct pin_tree *tree, uint64_t start, uint64_t end);
int ioas_apply_allowed(struct tenant *t, uint32_t id,
		       const struct policy_range *own, uint32_t n_own,
		       bool clear, struct err *e);
int ioas_new_backend(struct tenant *t, uint32_t *ret_id, struct err *e);
int mapping_add(struct tenant *t, struct ioas_obj *o, uint64_t iova,
		uint64_t length, struct mem_obj *mem,
		uint64_t mem_offset, uint32_t flags,
		struct tenant_import *imp, bool restored, const char *what,
		struct err *e);
int mem_map(struct backend *b, uint32_t ioas_id, uint32_t flags,
	    const struct mem_obj *mem, uint64_t offset, uint64_t length,
	    uint64_t *iova);
int check_map_policy(struct tenant *t, uint32_t flags, uint64_t iova,
		     uint64_t length, struct err *e);
bool share_covered(const struct tenant_share *s);
void import_release(struct tenant_import *imp);
void share_free(struct tenant_share *s, const char *reason);

/* journal.c: one event each (nothing without a journal or while quiet). */
void journal_tenant(struct tenant *t, bool gone);
void journal_ioas(struct tenant *t, const struct ioas_obj *o, bool gone);
void journal_ioas_emptied(struct tenant *t, struct ioas_obj *o);
void journal_memory(struct tenant *t, const struct mem_obj *m, bool gone);
void journal_share(const struct tenant_share *s, bool gone);
void journal_import(const struct tenant_import *imp, bool gone);
void journal_mapping(struct tenant *t, const struct ioas_obj *o,
		     const struct mapping *m, bool gone);
void journal_device(struct tenant *t, const struct tenant_device *d, bool gone);
void journal_hwpt(struct tenant *t, const struct tenant_hwpt *h, bool gone);
void journal_fault(struct tenant *t, const struct tenant_fault *f, bool gone);
void journal_pasid(struct tenant *t, const struct tenant_pasid *p, bool gone);
void journal_vobj(struct tenant *t, const struct tenant_viommu *v, bool gone);
void vobj_info(const struct tenant_viommu *v, struct tenant_vobj_info *ret);
int tenant_dump_vobjs(const struct tenant *t, const struct tenant_dump_ops *ops,
		      void *userdata);
void hwpt_info(const struct tenant_hwpt *h, struct tenant_hwpt_info *ret);
/* The info structs events and dumps carry. */
void ioas_info(const struct ioas_obj *o, struct tenant_ioas_info *ret);
void mapping_info(const struct ioas_obj *o, const struct mapping *m,
		  struct tenant_mapping_info *ret);
void device_info(const struct tenant_device *d, struct tenant_device_info *ret);
void import_info(const struct tenant_import *imp, const char *who,
		 struct tenant_import_info *ret);
