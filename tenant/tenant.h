/* SPDX-License-Identifier: MIT */
/*
 * Tenant state: the IOASes, memory regions and mappings one client owns, the
 * handles it names them by, and its usage counters.
 *
 * Handles are small numbers local to the tenant, allocated increasing and
 * never reused while the tenant lives, so a stale handle cannot silently
 * reach a newer object. Kernel object ids never leave the daemon.
 *
 * The daemon keeps its own copy of every mapping (iova, length, which memory
 * region at which offset) mirroring the kernel's areas: it is what lets the
 * daemon refuse an unmap that would split a mapping before the kernel could
 * half-apply it, charge pinned bytes to the owner of the memory, and release
 * everything when the tenant goes away.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "iommu/backend.h"
#include "tenant/memory.h"
#include "common/util.h"

struct tenant;
struct pool;
struct policy_tenant;

struct tenant_limits {
	uint32_t max_ioas;
	uint32_t max_memory_regions;
	uint32_t max_mappings;
	uint64_t max_region_size;
	uint64_t max_pinned_bytes;
};

struct tenant_usage {
	uint32_t ioas;
	uint32_t memory_regions;
	uint32_t mappings;
	uint64_t mapped_bytes; /* sum of mapping lengths, copies counted again */
	uint64_t pinned_bytes; /* union of mapped ranges of this tenant's memory */
	uint32_t devices;      /* attached VFIO devices */
	uint32_t hwpts;        /* hardware page tables (MaxHwpts=) */
	uint32_t fault_queues; /* I/O page fault queues (MaxFaultQueues=) */
	uint32_t pasids;       /* PASID attachments */
	/* Mappings outside the AllowedIOVA now in force: made before a reload
	 * (or a restart) narrowed it. Kept, reported, never made anew. */
	uint32_t mappings_outside_policy;
};

/*
 * A tenant, registered under its name until freed. pool may be NULL (IOASes
 * are then allocated and destroyed directly). pt is the policy entry the
 * tenant was resolved with (referenced; NULL without a policy): its
 * AllowedIOVA, HugePages and Access are enforced, and its file:line is
 * cited in refusals. limits are the numbers in force.
 */
struct tenants;

/* The set of live tenants (the registry, the shares by token, the daemon's
 * totals and the hooks): one per daemon, passed in. tenants_free() frees
 * any tenant still in it. */
struct tenants *tenants_new(void);
struct tenants *tenants_free(struct tenants *ts);

struct tenant *tenant_new(struct tenants *ts, struct backend *b, struct pool *pool,
			  const char *name, const struct tenant_limits *limits,
			  const struct policy_tenant *pt);
/* Unmap every IOAS and return it to the pool (or destroy it), close every
 * memory fd, unregister, free. NULL-safe. */
struct tenant *tenant_free(struct tenant *t);
/*
 * The same, with the bulk of it later: at once, t leaves the registry (its
 * name may be taken again), importers lose what they imported from it, it
 * loses what it imported, its devices are detached; then tenants_reap()
 * unmaps and forgets its own mappings (its own memory only) a slice at a
 * time, and frees it. t must not be used after. Until reaped, its pinned
 * bytes still count in the daemon's totals (they are still pinned).
 */
void tenant_release(struct tenant *t);
/* Reap up to budget mappings (and emptied IOASes) of released tenants;
 * true while some are left. */
bool tenants_reap(struct tenants *ts, size_t budget);
bool tenants_reaping(const struct tenants *ts);

/* The live tenant registered under name, or NULL. */
struct tenant *tenant_find(struct tenants *ts, const char *name);
/* Iterate over live tenants: tenant_next(NULL) is the first. */
struct tenant *tenant_next(struct tenants *ts, struct tenant *t);

const char *tenant_name(const struct tenant *t);
const struct policy_tenant *tenant_policy(const struct tenant *t);
void tenant_get_limits(const struct tenant *t, struct tenant_limits *ret);
void tenant_get_usage(const struct tenant *t, struct tenant_usage *ret);

/*
 * Policy reload: new work is checked against the new entry and limits;
 * nothing existing is torn down, even when now over a limit. With pt NULL
 * the tenant is orphaned: its section is gone, so it may only release
 * (unmap, destroy, unregister) until its last connection closes.
 */
void tenant_set_policy(struct tenant *t, const struct policy_tenant *pt,
		       const struct tenant_limits *limits);

/* What a reload did to a live tenant that its auditors must hear of. */
struct tenant_reload_event {
	enum {
		/* An IOAS keeps its old setting: the backend refused the new
		 * one (errnum, what). New mappings are still checked against
		 * the new AllowedIOVA, and huge pages stay as they were. */
		TENANT_RELOAD_NOT_APPLIED,
		/* A mapping made before now lies outside the new AllowedIOVA:
		 * kept (DMA goes on), counted in mappings_outside_policy. */
		TENANT_RELOAD_MAPPING_OUTSIDE,
	} kind;
	uint32_t ioas;         /* handle */
	uint64_t iova, length; /* the mapping */
	int errnum;
	const char *what;
};
typedef void (*tenant_reload_fn)(void *userdata, const struct tenant *t,
				 const struct tenant_reload_event *ev);

/*
 * tenant_set_policy, and then the new entry applied to every IOAS the
 * tenant holds: a changed AllowedIOVA set on each (within the tenant's own
 * AllowIovas narrowing), HugePages=no turned off on each (where the kernel
 * allows it: not with a device attached and mappings present). Existing
 * mappings are never removed; those now outside AllowedIOVA are counted
 * and reported, and nothing new can be mapped outside it. report is called
 * for each event, synchronously.
 */
void tenant_reload_policy(struct tenant *t, const struct policy_tenant *pt,
			  const struct tenant_limits *limits,
			  tenant_reload_fn report, void *userdata);
bool tenant_orphaned(const struct tenant *t);

/* Connections attached to the tenant. */
uint32_t tenant_conns(const struct tenant *t);
void tenant_conn_attach(struct tenant *t);
/* Returns the number of connections left. */
uint32_t tenant_conn_detach(struct tenant *t);

/* Every operation returns 0 or -errno with e filled in (why). */
int tenant_ioas_alloc(struct tenant *t, uint32_t *ret_handle, struct err *e);
int tenant_ioas_destroy(struct tenant *t, uint32_t handle, struct err *e);
int tenant_iova_ranges(struct tenant *t, uint32_t handle,
		       struct backend_iova_range *ranges, uint32_t *num,
		       uint64_t *ret_alignment, struct err *e);
int tenant_allow_iovas(struct tenant *t, uint32_t handle,
		       const struct backend_iova_range *ranges, uint32_t num,
		       struct err *e);

/* Takes *fd on success (sets it to -1). */
int tenant_memory_register(struct tenant *t, int *fd, uint64_t offset,
			   uint64_t length, uint32_t *ret_handle,
			   const struct memory_region **ret_region,
			   struct err *e);
int tenant_memory_unregister(struct tenant *t, uint32_t handle, struct err *e);

/* *iova: in with BACKEND_MAP_FIXED_IOVA, out always. */
int tenant_map(struct tenant *t, uint32_t ioas, uint32_t memory,
	       uint64_t offset, uint64_t length, uint32_t flags,
	       uint64_t *iova, struct err *e);
/*
 * An identity map (tenant/identity.c): what the client says its own mapping
 * at address iova is (the file and the offset in it of that address, from
 * its /proc/self/maps). tenant_map_identity() checks that this is memory's
 * file at memory offset `offset` (EINVAL otherwise) and needs FIXED_IOVA
 * (EINVAL); then it is tenant_map() at iova.
 */
struct tenant_identity {
	uint64_t dev, ino, file_offset;
};
int tenant_map_identity(struct tenant *t, uint32_t ioas, uint32_t memory,
			uint64_t offset, uint64_t length, uint32_t flags,
			uint64_t iova, const struct tenant_identity *id,
			struct err *e);
int tenant_unmap(struct tenant *t, uint32_t ioas, uint64_t iova,
		 uint64_t length, uint64_t *ret_unmapped, struct err *e);
/*
 * Unmap all of IOAS ioas a slice at a time: each call unmaps (in the backend
 * and the tables) up to budget mappings, lowest first, adding the bytes to
 * *unmapped, and sets *ret_done once none is left (the result is then what
 * tenant_unmap() of the whole IOVA space gives). The first call revokes the
 * IOAS's shares. -ENOENT for an unknown IOAS. Meanwhile the caller keeps
 * the tenant's other requests waiting (tenant_set_busy), so that the unmap
 * is one operation for it.
 */
int tenant_unmap_all_step(struct tenant *t, uint32_t ioas, size_t budget,
			  uint64_t *unmapped, bool *ret_done, struct err *e);
/* An operation of t runs in slices: serve no other request of t meanwhile. */
void tenant_set_busy(struct tenant *t, bool busy);
bool tenant_busy(const struct tenant *t);
int tenant_copy(struct tenant *t, uint32_t src_ioas, uint64_t src_iova,
		uint64_t length, uint32_t dst_ioas, uint32_t flags,
		uint64_t *dst_iova, struct err *e);
int tenant_option(struct tenant *t, uint32_t op, uint32_t option_id,
		  uint32_t ioas, uint64_t *val, struct err *e);

/*
 * Consistency check for tests: every tracked mapping against the backend
 * (walks the tenant's tables; returns 0 or -EIO with e saying what differs).
 */
int tenant_check(const struct tenant *t, struct err *e);

/* Daemon-wide totals, summed over all live tenants. */
struct tenant_totals {
	uint32_t tenants;
	uint32_t ioas;
	uint64_t pinned_bytes;
	uint32_t mappings;
	uint32_t devices;
};
void tenant_get_totals(const struct tenants *ts, struct tenant_totals *ret);

/* ------------------------------------------------------------ sharing
 *
 * A share is a range of one of the exporter's IOASes, named by a tenant-local
 * handle and by a random token that the exporter hands to importers out of
 * band. An import is IOMMU_IOAS_COPY of (part of) that range into one of the
 * importer's IOASes: the pages stay pinned once and charged to the tenant
 * that registered the memory. Revoking a share (explicitly, or because its
 * source range is unmapped, its IOAS destroyed or its tenant released)
 * unmaps every import of it and reports each through the revoke hook.
 * See "Sharing" in README.md.
 */
#define TENANT_SHARE_TOKEN_LEN 32u /* hex digits: 128 random bits */
#define TENANT_RECLAIM_TOKEN_LEN 32u /* hex digits: 128 random bits */
#define TENANT_MAX_SHARES 256u     /* exports per tenant */

struct tenant_share;
struct tenant_import;

int tenant_share_export(struct tenant *t, uint32_t ioas, uint64_t iova,
			uint64_t length, bool writeable, uint32_t *ret_share,
			char ret_token[TENANT_SHARE_TOKEN_LEN + 1],
			struct err *e);

struct tenant_import_req {
	const char *token;
	uint32_t ioas;
	bool writeable;
	bool fixed_iova;
	uint64_t iova;       /* with fixed_iova */
	uint64_t offset;     /* into the share */
	bool has_length;
	uint64_t length;     /* without has_length: the rest of the share */
};
struct tenant_import_result {
	uint32_t import;
	uint64_t iova, length;
	const char *exporter; /* valid while the exporter lives */
};
int tenant_share_import(struct tenant *t, const struct tenant_import_req *req,
			struct tenant_import_result *ret, struct err *e);
int tenant_share_revoke(struct tenant *t, uint32_t share, struct err *e);

/* What ShareList shows. */
struct tenant_share_info {
	uint32_t share, ioas;
	uint64_t iova, length;
	bool writeable;
	const char *token;
};
struct tenant_import_info {
	uint32_t import;
	const char *tenant;  /* the importer (share side) or exporter (import side) */
	uint32_t share;      /* the exporter's handle */
	uint32_t ioas;       /* the importer's IOAS handle */
	uint64_t iova, offset, length;
	bool writeable;
};
/* Iterate: pass NULL for the first; returns NULL after the last. */
const struct tenant_share *tenant_share_next(const struct tenant *t,
					     const struct tenant_share *prev,
					     struct tenant_share_info *ret);
const struct tenant_import *tenant_share_importer_next(const struct tenant_share *s,
						       const struct tenant_import *prev,
						       struct tenant_import_info *ret);
const struct tenant_import *tenant_import_next(const struct tenant *t,
					       const struct tenant_import *prev,
					       struct tenant_import_info *ret);

/* One mapping of an IOAS as MappingList shows it: memory is the tenant's
 * own region (0 for a piece of an import), offset into it (or into the
 * share, for an import's piece); flags are BACKEND_MAP_* bits. */
struct tenant_mapping_entry {
	uint64_t iova, length, offset;
	uint32_t memory, import, flags;
	bool outside_policy; /* made before a reload narrowed AllowedIOVA */
};
struct policy_range;
struct tenant_mapping_page_info {
	uint32_t total;        /* the IOAS's mappings, every page */
	bool more;             /* mappings past this page: the next starts at */
	uint64_t next_iova;
	const struct policy_range *own_allowed; /* AllowIovas narrowing, or NULL */
	uint32_t n_own_allowed;
};
/* The mappings of IOAS ioas that start at or above from, in IOVA order: at
 * most *n (the room in out), *n set to how many. -ENOENT (e) for an IOAS
 * the tenant does not have. */
int tenant_mapping_page(struct tenant *t, uint32_t ioas, uint64_t from,
			struct tenant_mapping_entry *out, uint32_t *n,
			struct tenant_mapping_page_info *ret, struct err *e);

/* An import taken away from importer (not by its own doing). */
struct tenant_revoke_event {
	struct tenant *importer;
	const char *exporter;
	uint32_t import, ioas;
	uint64_t iova, length;
	const char *reason; /* "revoked", "source-unmapped", "source-destroyed", "exporter-gone" */
};
typedef void (*tenant_revoke_fn)(void *userdata,
				 const struct tenant_revoke_event *ev);
/* One daemon-wide hook (the RPC layer's notifier); fn may be NULL. */
void tenant_set_revoke_hook(struct tenants *ts, tenant_revoke_fn fn, void *userdata);

/* ------------------------------------------------------------ devices
 *
 * A tenant whose policy has AllowDevice= keeps its IOASes in an iommufd
 * context of its own (opened with its first IOAS, never pooled): the daemon
 * binds the client's VFIO cdev to that context and attaches it to one of
 * its IOASes, and the client keeps its copy of the file, with which the
 * kernel would let it attach to any IOAS of the context — only its own are
 * there. Shares cross contexts by mapping the exporter's memory (same
 * pages, pinned again by the kernel, charged once here). See "Devices" in
 * README.md.
 */
#define TENANT_MAX_DEVICES 32u /* attached devices per tenant */

struct tenant_device;
struct tenant_hwpt;

/* Does not take *fd: the daemon keeps a dup of it on success. *ret_info is
 * set (and *ret_identified true) as soon as the device is identified, also
 * when the attach is then refused: the audit names the device either way. */
int tenant_device_attach(struct tenant *t, int fd, uint32_t ioas,
			 uint32_t *ret_handle, struct backend_device_info *ret_info,
			 bool *ret_identified, struct err *e);
int tenant_device_detach(struct tenant *t, uint32_t handle, struct err *e);

/*
 * Delegation (delegate.c; OpenContext, OpenDevice): refused with EPERM
 * citing the policy unless the tenant has Delegate=yes (and, for a device,
 * AllowDevice= names it); EACCES when orphaned. The tables keep nothing of
 * what is handed out.
 *
 * The IOMMU_OPTION_RLIMIT_MODE value a context handed to t gets (0 user,
 * 1 process: its RlimitMode=).
 */
int tenant_context_delegate_mode(const struct tenant *t, uint64_t *ret_mode,
				 struct err *e);
/* A fresh, unbound VFIO cdev fd of the PCI device at address ("DDDD:BB:SS.F"
 * or "BB:SS.F"), CLOEXEC, now the caller's. *ret_info (and
 * *ret_identified) as soon as the device is identified, also when then
 * refused. EINVAL bad address, ENOENT no such device, ENODEV no VFIO cdev,
 * EOPNOTSUPP on the sim (it has no device files). */
int tenant_device_delegate(const struct tenant *t, const char *address, int *ret_fd,
			   struct backend_device_info *ret_info, bool *ret_identified,
			   struct err *e);

/*
 * Hardware page tables (tenant/hwpt.c; device tenants, in their own
 * context). The kernel's answers pass through: its errno, with a message
 * saying which call refused.
 */
#define TENANT_HWPT_DATA_MAX 4096u          /* driver data of one HWPT */
#define TENANT_INVALIDATE_ENTRY_MAX 4096u   /* bytes of one entry */
#define TENANT_INVALIDATE_MAX_BYTES 32768u  /* entries of one request */

/* IOMMU_GET_HW_INFO of an attached device. */
int tenant_hw_info(struct tenant *t, uint32_t device,
		   struct backend_hw_info *ret, struct err *e);

struct tenant_hwpt_req {
	uint32_t device;      /* the device (handle) whose IOMMU it is for */
	uint32_t ioas;        /* from an IOAS (paging) ... */
	uint32_t parent;      /* ... or a nesting parent HWPT (nested) ... */
	uint32_t viommu;      /* ... or a vIOMMU (nested): exactly one */
	uint32_t flags;       /* BACKEND_HWPT_NEST_PARENT, _DIRTY_TRACKING */
	uint32_t data_type;   /* IOMMU_HWPT_DATA_*: nested only */
	const void *data;
	uint32_t data_len;
	uint32_t fault;       /* a fault queue (handle): FAULT_ID_VALID; 0 none */
};
int tenant_hwpt_alloc(struct tenant *t, const struct tenant_hwpt_req *r,
		      uint32_t *ret_handle, struct err *e);
int tenant_hwpt_destroy(struct tenant *t, uint32_t handle, struct err *e);
/* entries: *entry_num of entry_len bytes each; *entry_num out: how many
 * the kernel handled (also when it failed part way). */
int tenant_hwpt_invalidate(struct tenant *t, uint32_t handle,
			   uint32_t data_type, const void *entries,
			   uint32_t entry_len, uint32_t *entry_num,
			   struct err *e);
/*
 * vIOMMU objects (tenant/viommu.c; Linux 6.13 and later, EOPNOTSUPP
 * before). The three kinds share one handle space; a vEVENTQ's fd is the
 * caller's (*ret_fd).
 */
enum tenant_vobj_kind { TENANT_VIOMMU, TENANT_VDEVICE, TENANT_VEVENTQ };
int tenant_viommu_alloc(struct tenant *t, uint32_t device, uint32_t hwpt,
			uint32_t type, const void *data, uint32_t data_len,
			uint32_t *ret_handle, struct err *e);
int tenant_vdevice_alloc(struct tenant *t, uint32_t viommu, uint32_t device,
			 uint64_t virt_id, uint32_t *ret_handle, struct err *e);
int tenant_veventq_alloc(struct tenant *t, uint32_t viommu, uint32_t type,
			 uint32_t depth, uint32_t *ret_handle, int *ret_fd,
			 struct err *e);
int tenant_vobj_destroy(struct tenant *t, enum tenant_vobj_kind kind,
			uint32_t handle, struct err *e);
/* IOMMU_HWPT_INVALIDATE of a vIOMMU's caches (as tenant_hwpt_invalidate). */
int tenant_viommu_invalidate(struct tenant *t, uint32_t handle,
			     uint32_t data_type, const void *entries,
			     uint32_t entry_len, uint32_t *entry_num,
			     struct err *e);

/* Move an attached device onto an IOAS or an HWPT (exactly one non-zero). */
int tenant_device_replace(struct tenant *t, uint32_t device, uint32_t ioas,
			  uint32_t hwpt, struct err *e);

struct tenant_hwpt_list_info {
	uint32_t hwpt, ioas, parent, device, flags, data_type;
	uint32_t children, devices;
	uint32_t fault;       /* its fault queue (handle), 0: none */
};
const struct tenant_hwpt *tenant_hwpt_next(const struct tenant *t,
					   const struct tenant_hwpt *prev,
					   struct tenant_hwpt_list_info *ret);

/*
 * Fault queues, dirty tracking and PASIDs (tenant/faults.c; issue 16; device
 * tenants). The kernel's errno passes through, with a message naming the
 * call; what the daemon refuses before the kernel sees it cites the limit
 * or the policy line.
 */
#define TENANT_MAX_PASIDS 64u                 /* PASID attachments per tenant */
#define TENANT_DIRTY_BITMAP_MAX (8u << 20)    /* bytes of one dirty bitmap */
#define TENANT_DIRTY_PAGE_MIN 512u            /* bitmap page size range */
#define TENANT_DIRTY_PAGE_MAX (UINT64_C(1) << 30)

struct tenant_fault;
struct tenant_pasid;

/* IOMMU_FAULT_QUEUE_ALLOC: *ret_fd (CLOEXEC) is the caller's to hand on. */
int tenant_fault_alloc(struct tenant *t, uint32_t *ret_handle, int *ret_fd,
		       struct err *e);
int tenant_fault_destroy(struct tenant *t, uint32_t handle, struct err *e);
int tenant_hwpt_set_dirty(struct tenant *t, uint32_t hwpt, bool enable,
			  struct err *e);
/* The dirty bitmap of [iova, iova + length) at page_size pages, written
 * into registered memory `memory` at byte `offset` (mapped by the daemon
 * for the call, never copied to the socket). */
struct tenant_dirty_req {
	uint32_t hwpt;
	uint64_t iova, length, page_size;
	uint32_t memory;
	uint64_t offset;
	bool no_clear;
};
int tenant_hwpt_get_dirty(struct tenant *t, const struct tenant_dirty_req *q,
			  uint64_t *ret_bytes, uint64_t *ret_dirty,
			  struct err *e);
/* Attach an HWPT (or an IOAS: exactly one) at pasid of a device; again at
 * the same PASID replaces. Detach: ENOENT when nothing is there. */
int tenant_pasid_attach(struct tenant *t, uint32_t device, uint32_t pasid,
			uint32_t ioas, uint32_t hwpt, struct err *e);
int tenant_pasid_detach(struct tenant *t, uint32_t device, uint32_t pasid,
			struct err *e);
struct tenant_pasid_list_info {
	uint32_t device, pasid, ioas, hwpt;
};
const struct tenant_pasid *tenant_pasid_next(const struct tenant *t,
					     const struct tenant_pasid *prev,
					     struct tenant_pasid_list_info *ret);

struct tenant_device_list_info {
	uint32_t device, ioas;
	struct backend_device_info info;
};
const struct tenant_device *tenant_device_next(const struct tenant *t,
					       const struct tenant_device *prev,
					       struct tenant_device_list_info *ret);
/* The context the tenant's IOASes live in. */
struct backend *tenant_backend(const struct tenant *t);
/* Whether the tenant's IOASes live in a context of its own. */
bool tenant_has_own_context(const struct tenant *t);

/*
 * Test builds only (--enable-test-hooks, ioasd --test-mock-domains): every
 * IOAS handed out gets the kernel's self-test mock domain attached, and
 * detached before it is released, so that the real-kernel suite can see
 * pages pinned (VmPin) through the broker without a VFIO device.
 */
void tenant_set_test_mock_domains(struct tenants *ts, bool on);

/* ------------------------------------------------------------ restart
 *
 * What the restart state (state.c) needs from the tables: each tenant's
 * reclaim token (random, made with the tenant), whether it was restored and
 * not reclaimed yet, a hook that keeps every registered memory fd in the fd
 * store, a walk over the tables for the state file, and functions that
 * rebuild them from it. Restoring bypasses policy checks and limits: it
 * rebuilds what exists. See "Restart without losing DMA" in README.md.
 */
const char *tenant_reclaim_token(const struct tenant *t);
/* -EINVAL unless 32 lower-case hex digits. */
int tenant_set_reclaim_token(struct tenant *t, const char *token);
/* Constant-time comparison. */
bool tenant_reclaim_token_equal(const struct tenant *t, const char *token);
bool tenant_unclaimed(const struct tenant *t);
void tenant_set_unclaimed(struct tenant *t, bool unclaimed);

/* The fds a restart needs, by kind: every registered memory fd ("mem"), a
 * device tenant's own context ("ctx", kernel backend only) and the daemon's
 * copy of each device ("dev"). store: the fd is to be kept (refusing fails
 * what needed it, e says why; ids start at 1); unstore: the fd with that id
 * is gone. One daemon-wide pair. */
typedef int (*tenant_fd_store_fn)(void *userdata, const char *kind, int fd,
				  uint64_t *ret_store_id, struct err *e);
typedef void (*tenant_fd_unstore_fn)(void *userdata, const char *kind,
				     uint64_t store_id);
void tenant_set_fd_store(struct tenants *ts, tenant_fd_store_fn store,
			 tenant_fd_unstore_fn unstore, void *userdata);

/* The next handle of each kind. */
struct tenant_handles {
	uint32_t ioas, memory, share, import, device, hwpt;
	uint32_t vobj;
	uint32_t fault, pasid;   /* issue 16 (0: keep the tenant's) */
};
void tenant_get_next_handles(const struct tenant *t, struct tenant_handles *ret);
void tenant_set_next_handles(struct tenant *t, const struct tenant_handles *h);

struct policy_range;
struct tenant_ioas_info {
	uint32_t handle, id, mock_stdev, mock_hwpt;
	uint32_t mock_idev, mock_on; /* test builds: its device object, the HWPT it is on */
	uint32_t gen;            /* its mappings' generation (tenant_journal) */
	/* The tenant's own AllowIovas narrowing (NULL, 0: none): applied
	 * within the policy's AllowedIOVA, and again at every reload. */
	const struct policy_range *own_allowed;
	uint32_t n_own_allowed;
};
struct tenant_device_info {
	uint32_t handle, ioas;
	uint64_t store_id;
	struct backend_device_info info;
	uint32_t hwpt;           /* the HWPT it is on, 0: the IOAS's own */
	uint32_t dev_id;         /* its device object (kernel: adopted as is) */
};
/* A hardware page table (tenant/hwpt.c). */
struct tenant_hwpt_info {
	uint32_t handle, id, ioas, parent, device, flags, data_type;
	const void *data;        /* nested: its driver data */
	uint32_t data_len;
	uint32_t fault;          /* its fault queue (handle), 0: none */
	uint32_t viommu;         /* nested from a vIOMMU: its handle, else 0 */
};
/* A fault queue and a PASID attachment (tenant/faults.c). */
struct tenant_fault_info {
	uint32_t handle, id;
};
struct tenant_pasid_info {
	uint32_t handle, device, pasid, hwpt, ioas;
};
/* A vIOMMU, vDEVICE or vEVENTQ (tenant/viommu.c). kind: enum tenant_vobj_kind. */
struct tenant_vobj_info {
	uint32_t handle, id, kind, type, device, parent, viommu;
	uint64_t virt_id;
};
struct tenant_memory_info {
	uint32_t handle;
	uint64_t store_id;
	const struct memory_region *region;
};
struct tenant_mapping_info {
	uint32_t ioas;
	uint64_t iova, length;
	const char *mem_owner;   /* the tenant that registered the memory */
	uint32_t memory;         /* its handle there */
	uint64_t mem_offset;
	uint32_t flags;
	uint32_t import;         /* a piece of this import, or 0 */
	uint32_t ioas_gen;       /* the generation of the IOAS's mappings */
	const struct tenant *owner; /* mem_owner's tenant (journal events) */
};
struct tenant_dump_ops {
	int (*ioas)(void *userdata, const struct tenant_ioas_info *i);
	int (*memory)(void *userdata, const struct tenant_memory_info *i);
	int (*mapping)(void *userdata, const struct tenant_mapping_info *i);
	int (*device)(void *userdata, const struct tenant_device_info *i);
	int (*hwpt)(void *userdata, const struct tenant_hwpt_info *i); /* may be NULL */
	int (*fault)(void *userdata, const struct tenant_fault_info *i); /* may be NULL */
	int (*pasid)(void *userdata, const struct tenant_pasid_info *i); /* may be NULL */
	int (*vobj)(void *userdata, const struct tenant_vobj_info *i); /* may be NULL */
};
/* A device tenant's own context: true, and *ret_store_id when it is in the
 * fd store (kernel backend). */
bool tenant_context_stored(const struct tenant *t, uint64_t *ret_store_id);
/* Walk IOASes, memory regions, every mapping, then devices; stops at the first
 * negative return. Shares and imports: tenant_share_next/tenant_import_next. */
int tenant_dump(const struct tenant *t, const struct tenant_dump_ops *ops,
		void *userdata);

/*
 * Rebuild, in this order: IOASes and memory of every tenant, then shares,
 * then imports, then mappings, then reconcile. replay: the backend is a
 * fresh context (sim) and the objects are made again in it; otherwise the
 * kernel still has them and is not touched. Each returns 0 or -errno (e).
 */
/* A device tenant, before its IOASes: ctx is its adopted context (kernel,
 * stored as store_id), or NULL when replaying (opened with its first IOAS). */
void tenant_restore_context(struct tenant *t, struct backend *ctx,
			    uint64_t store_id);
int tenant_restore_ioas(struct tenant *t, const struct tenant_ioas_info *i,
			bool replay, struct err *e);
/* After the mappings. Takes *fd (the stored copy) on success; replay binds
 * and attaches it again in the fresh context. */
int tenant_restore_device(struct tenant *t, const struct tenant_device_info *i,
			  int *fd, bool replay, struct err *e);
/* After the devices, parents before their children. replay: allocated
 * again (with its device, or another of the tenant's) and the devices that
 * were on it are attached to it again. */
int tenant_restore_hwpt(struct tenant *t, const struct tenant_hwpt_info *i,
			bool replay, struct err *e);
/* Issue 16, before the HWPTs (faults) and after them (PASIDs). replay (a
 * fresh context): a queue is allocated again and its new fd closed (the
 * client's fd was of the old one: it allocates a new queue), a PASID is
 * attached again. */
int tenant_restore_fault(struct tenant *t, const struct tenant_fault_info *i,
			 bool replay, struct err *e);
int tenant_restore_pasid(struct tenant *t, const struct tenant_pasid_info *i,
			 bool replay, struct err *e);
/* After the HWPTs not made from a vIOMMU, before those that are: vIOMMUs
 * (on their parent HWPT), then their vDEVICEs and vEVENTQs, each adopting
 * the kernel object the stored context still has. replay (a fresh context,
 * which has none of them): -EOPNOTSUPP, nothing restored. */
int tenant_restore_vobj(struct tenant *t, const struct tenant_vobj_info *i,
			bool replay, struct err *e);
/* Takes *fd on success. */
int tenant_restore_memory(struct tenant *t, uint32_t handle, int *fd,
			  uint64_t offset, uint64_t length, uint64_t store_id,
			  struct err *e);
int tenant_restore_share(struct tenant *t, const struct tenant_share_info *i,
			 struct err *e);
/* i->tenant names the exporter, i->share its share handle. */
int tenant_restore_import(struct tenant *t, const struct tenant_import_info *i,
			  struct err *e);
int tenant_restore_mapping(struct tenant *t, const struct tenant_mapping_info *m,
			   bool replay, struct err *e);
/*
 * Make the tables and the backend agree about what a kill between an ioctl
 * and the state write left behind: IOASes and mappings the backend no longer
 * has are dropped from the tables (they were destroyed or unmapped), ranges
 * the backend has that the tables do not are unmapped (they were mapped and
 * never acknowledged), imports without pieces are dropped. Without
 * check_backend (a fresh sim the restore replayed into: it has exactly what
 * the tables have) only the imports and shares are looked at.
 */
int tenant_restore_reconcile(struct tenant *t, bool check_backend,
			     uint32_t *ret_dropped, uint64_t *ret_unknown_bytes,
			     struct err *e);

/* ------------------------------------------------------------ journal
 *
 * Restart support records each change to the tables as it is made, so that
 * what it writes per request does not grow with what the daemon holds: one
 * event per object created, changed or gone, from inside the operation that
 * did it (also from a reconcile, a revoke or a reload: every change, whoever
 * caused it). Objects rebuilt by tenant_restore_* are not reported (they are
 * what the store already says). Bulk releases are one event, not one per
 * object: TENANT_JOURNAL_TENANT with gone (everything the tenant held goes
 * with it), TENANT_JOURNAL_IOAS with gone (its mappings go with it) and
 * TENANT_JOURNAL_IOAS_EMPTIED (an unmap of the whole IOVA space: every
 * mapping of it goes, and the IOAS's generation moves on, so that records of
 * mappings of an older generation are known to be gone).
 */
enum tenant_journal_kind {
	TENANT_JOURNAL_TENANT,  /* created, or its handles/token/claim/context changed */
	TENANT_JOURNAL_IOAS,
	TENANT_JOURNAL_IOAS_EMPTIED,
	TENANT_JOURNAL_MEMORY,
	TENANT_JOURNAL_SHARE,
	TENANT_JOURNAL_IMPORT,
	TENANT_JOURNAL_MAPPING,
	TENANT_JOURNAL_DEVICE,
	TENANT_JOURNAL_HWPT,
	TENANT_JOURNAL_FAULT,
	TENANT_JOURNAL_PASID,
	TENANT_JOURNAL_VOBJ,
};
struct tenant_journal_event {
	enum tenant_journal_kind kind;
	bool gone;
	struct tenant *t;
	union {
		struct tenant_ioas_info ioas;       /* IOAS, IOAS_EMPTIED (gen: the new one) */
		struct tenant_memory_info memory;
		struct tenant_share_info share;
		struct tenant_import_info import;   /* .tenant: the exporter */
		struct tenant_mapping_info mapping;
		struct tenant_device_info device;
		struct tenant_hwpt_info hwpt;
		struct tenant_fault_info fault;
		struct tenant_pasid_info pasid;
		struct tenant_vobj_info vobj;
	} u;
};
typedef void (*tenant_journal_fn)(void *userdata,
				  const struct tenant_journal_event *ev);
/* One daemon-wide journal (restart support); fn may be NULL. */
void tenant_set_journal(struct tenants *ts, tenant_journal_fn fn, void *userdata);
/* The journal's own number for the tenant (0: none yet). */
uint32_t tenant_journal_id(const struct tenant *t);
void tenant_set_journal_id(struct tenant *t, uint32_t id);
