/* SPDX-License-Identifier: MIT */
/*
 * The protocol layer's own: the context one request is handled in, the
 * handlers (handlers.c) and the audit fillers (audit-fill.c) that the
 * operation table in rpc.c names. Nothing outside rpc/ includes this.
 */
#pragma once

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/pci.h"
#include "proto/fastpb.h"
#include "proto/ioasd.pb-c.h"
#include "audit/audit.h"
#include "iommu/backend.h"
#include "common/escape.h"
#include "policy/policy.h"
#include "tenant/pool.h"
#include "common/log.h"
#include "rpc/rpc.h"
#include "tenant/tenant.h"
#include "common/util.h"
#include "proto/wire.h"

/* Most IOVA ranges one reply carries (16 bytes each on the wire). */
#define RPC_MAX_RANGES 2048u

/* Where an operation of a Batch request stands: the request's id, the
 * operation's place in it, and whether this is its undoing. */
struct rpc_batch_pos {
	uint64_t id;
	uint32_t index;
	bool rollback;
};
struct rpc_batch;

/* A handler's result: the operation goes on in slices (rpc_pending). */
#define RPC_DEFERRED 1

struct rpc_ctx {
	struct rpc_session *c;
	const Ioasd__Request *req;
	Ioasd__Response *resp;
	int *fds;
	size_t nfds;
	/* Set for an operation of a batch: its audit record says where. */
	const struct rpc_batch_pos *batch;
	/* A refusal that keeps its result body (a Batch whose operations
	 * ran: their results). */
	bool keep_body;
	/* An fd the reply carries (OpenContext, OpenDevice, VeventqAlloc,
	 * FaultAlloc), owned; valid when has_out_fd (a zeroed context has no
	 * fd 0). */
	int out_fd;
	bool has_out_fd;
	/* PasidList's entries (faults.c), freed with the context. */
	Ioasd__PasidInfo *pasids;
	Ioasd__PasidInfo **pasid_ptrs;
	/* HwInfo's data and HwptList's entries (hwpt.c), freed with the context. */
	struct backend_hw_info *hw_info; /* 280 bytes: only HwInfo's */
	Ioasd__HwptInfo *hwpts;
	Ioasd__HwptInfo **hwpt_ptrs;
	/* Whether dev_info and dev_desc below are filled in; the list
	 * reply's entries. */
	bool has_dev;
	Ioasd__DeviceInfo *devs;
	Ioasd__DeviceInfo **dev_ptrs;
	char (*dev_strs)[2][32];
	char **allow_strs;
	size_t n_allow_strs;
	/* ShareList storage, freed with the context. */
	struct list_mem *list_mem;
	Ioasd__IovaRange *ranges;
	Ioasd__IovaRange **range_ptrs;
	/* A Batch's operations and results (batch.c), freed with the context. */
	struct rpc_batch *batch_mem;
	/* A MappingList page (mappings.c), freed with the context. */
	struct rpc_mapping_mem *mapping_mem;
	/*
	 * Storage, not zeroed (rpc_ctx_init: three quarters of the context,
	 * zeroed for every request and every batch operation, was a cost
	 * worth measuring). Each part is written before it is read: the
	 * message when errnum is set, a body by the handler that returns
	 * it, the device names when has_dev is set or the reply is filled,
	 * the token by the export that returns it. err must come first.
	 */
	struct err err;
	/* Storage for the reply bodies, alive until the reply is packed. */
	union {
		Ioasd__HelloReply hello;
		Ioasd__IoasAllocReply ioas_alloc;
		Ioasd__IovaRangesReply iova_ranges;
		Ioasd__RegisterMemoryReply register_memory;
		Ioasd__MapReply map;
		Ioasd__UnmapReply unmap;
		Ioasd__CopyReply copy;
		Ioasd__OptionReply option;
		Ioasd__StatsReply stats;
		Ioasd__WhoamiReply whoami;
		Ioasd__ShareExportReply share_export;
		Ioasd__ShareImportReply share_import;
		Ioasd__ShareListReply share_list;
		Ioasd__DeviceInfo attach_device;
		Ioasd__DeviceListReply device_list;
		Ioasd__BatchReply batch;
		Ioasd__OpenContextReply open_context;
		Ioasd__DeviceInfo open_device;
		Ioasd__MappingListReply mapping_list;
		Ioasd__HwInfoReply hw_info;
		Ioasd__HwptAllocReply hwpt_alloc;
		Ioasd__HwptInvalidateReply hwpt_invalidate;
		Ioasd__HwptListReply hwpt_list;
		Ioasd__ViommuAllocReply viommu_alloc;
		Ioasd__VdeviceAllocReply vdevice_alloc;
		Ioasd__VeventqAllocReply veventq_alloc;
		Ioasd__FaultAllocReply fault_alloc;
		Ioasd__HwptGetDirtyReply hwpt_get_dirty;
		Ioasd__PasidListReply pasid_list;
	} body;
	char dev_pci[16], dev_name[32], dev_desc[64];
	struct backend_device_info dev_info;
	char token[TENANT_SHARE_TOKEN_LEN + 1];
};

/* x ready for one operation: all but its storage zeroed, no fd. */
static inline void rpc_ctx_init(struct rpc_ctx *x)
{
	memset(x, 0, offsetof(struct rpc_ctx, err));
	x->err.errnum = 0;
	x->err.msg[0] = '\0';
	x->out_fd = -1;
}

struct list_mem;
typedef int (*rpc_handler)(struct rpc_ctx *x);


typedef void (*rpc_audit_fill)(struct audit_record *a, const Ioasd__Request *req,
			       const Ioasd__Response *resp);

/*
 * Everything the dispatcher knows of an operation, in its one row (the
 * table is rpc_lookup() in rpc.c):
 *   name     in logs, refusals and the audit trail
 *   handler  protobuf in, tenant layer, protobuf out
 *   nfds     exactly this many fds ride on the request (else EBADMSG)
 *   reads    changes nothing: no state write after it
 *   grants   gives the tenant something (refused with EIO while the audit
 *            trail is broken under AuditFailure=refuse); Option grants only
 *            when it sets
 *   audit    which outcomes are recorded: every one, only refusals (Hello),
 *            or none (pure reads of the caller's own tables)
 *   fill     the numbers its audit record carries
 */
enum rpc_grants { GRANTS_NOTHING, GRANTS, GRANTS_WHEN_SETTING };
enum rpc_audit { AUDIT_EVERY, AUDIT_REFUSALS, AUDIT_NONE };

/* The request that undoes an operation done in an all-or-nothing batch
 * that failed later, made from the operation and its reply, and run like
 * any other (batch.c). */
struct rpc_inverse {
	Ioasd__Request req;
	union {
		Ioasd__IoasDestroy ioas_destroy;
		Ioasd__UnregisterMemory unregister_memory;
		Ioasd__Unmap unmap;
		Ioasd__ShareRevoke share_revoke;
	} m;
};
typedef void (*rpc_undo)(const Ioasd__Request *done, const Ioasd__Response *reply,
			 struct rpc_inverse *ret);

/*
 * An operation inside a Batch request (the table's last column):
 *   batched  it may be in one; else why_not says why
 *   undo     the request that undoes it (an all-or-nothing batch that
 *            failed); NULL: such a batch refuses it, why_not says why
 */
struct rpc_batching {
	bool batched;
	rpc_undo undo;
	const char *why_not;
};
#define NOT_BATCHED(why) { .batched = false, .why_not = (why) }
#define NOT_UNDONE(why) { .batched = true, .why_not = (why) }
#define UNDONE_BY(fn) { .batched = true, .undo = (fn) }

/* nfds of the Batch row: one for each of its operations that takes one. */
#define RPC_NFDS_BATCH UINT_MAX

struct rpc_op {
	const char *name;
	rpc_handler handler;
	unsigned nfds;
	bool reads;
	enum rpc_grants grants;
	enum rpc_audit audit;
	rpc_audit_fill fill;
	struct rpc_batching batch;
};

/* The row of an operation, or NULL when this daemon does not know it. */
const struct rpc_op *rpc_lookup(Ioasd__Request__OpCase op);
/* Run x->req as op (NULL: unknown) on the fds x holds: the checks of its
 * row, its handler, its refusal in x->resp and its audit record. Returns
 * the handler's 0 or -errno. */
int rpc_run_op(struct rpc_ctx *x, const struct rpc_op *op);
/* Free what a handler kept in x for its reply, once that is packed. */
void rpc_ctx_release(struct rpc_ctx *x);

int pack_and_queue(struct rpc_session *c, Ioasd__Response *resp);
/* The same with fd riding on the reply; takes fd. */
int pack_and_queue_fd(struct rpc_session *c, Ioasd__Response *resp, int fd);
/* Before a handler makes what its reply hands over: EOPNOTSUPP (in x->err,
 * "this connection cannot carry WHAT") when the transport carries no fds. */
int rpc_check_fd_reply(struct rpc_ctx *x, const char *what);
void device_info_fill(Ioasd__DeviceInfo *o, uint32_t device, uint32_t ioas,
		      const struct backend_device_info *d, char pci[16], char name[32]);
struct tenant *T(struct rpc_ctx *x);

void free_list_mem(struct list_mem *mem);
int h_allow_iovas(struct rpc_ctx *x);
int h_attach_device(struct rpc_ctx *x);
int h_copy(struct rpc_ctx *x);
int h_detach_device(struct rpc_ctx *x);
int h_device_list(struct rpc_ctx *x);
int h_hello(struct rpc_ctx *x);
int h_ioas_alloc(struct rpc_ctx *x);
int h_ioas_destroy(struct rpc_ctx *x);
int h_iova_ranges(struct rpc_ctx *x);
int h_map(struct rpc_ctx *x);
int h_option(struct rpc_ctx *x);
int h_register_memory(struct rpc_ctx *x);
int h_share_export(struct rpc_ctx *x);
int h_share_import(struct rpc_ctx *x);
int h_share_list(struct rpc_ctx *x);
int h_share_revoke(struct rpc_ctx *x);
int h_stats(struct rpc_ctx *x);
int h_unmap(struct rpc_ctx *x);
int h_unregister_memory(struct rpc_ctx *x);
int h_whoami(struct rpc_ctx *x);
/* mappings.c */
int h_mapping_list(struct rpc_ctx *x);
struct rpc_mapping_mem *rpc_mapping_mem_free(struct rpc_mapping_mem *mem);
/* hwpt.c: hardware page tables (issue 15). */
int h_hw_info(struct rpc_ctx *x);
int h_hwpt_alloc(struct rpc_ctx *x);
int h_hwpt_destroy(struct rpc_ctx *x);
int h_hwpt_invalidate(struct rpc_ctx *x);
int h_device_replace(struct rpc_ctx *x);
int h_hwpt_list(struct rpc_ctx *x);
int h_viommu_alloc(struct rpc_ctx *x);
int h_vdevice_alloc(struct rpc_ctx *x);
int h_veventq_alloc(struct rpc_ctx *x);
int h_viommu_destroy(struct rpc_ctx *x);
/* faults.c: fault queues, dirty tracking, PASIDs (issue 16). */
int h_fault_alloc(struct rpc_ctx *x);
int h_fault_destroy(struct rpc_ctx *x);
int h_hwpt_set_dirty(struct rpc_ctx *x);
int h_hwpt_get_dirty(struct rpc_ctx *x);
int h_pasid_attach(struct rpc_ctx *x);
int h_pasid_detach(struct rpc_ctx *x);
int h_pasid_list(struct rpc_ctx *x);
/* batch.c: the Batch request, the undoing of each kind of operation that
 * an all-or-nothing batch may hold (named in its row). */
int h_batch(struct rpc_ctx *x);
/* delegate.c */
int h_open_context(struct rpc_ctx *x);
int h_open_device(struct rpc_ctx *x);
struct rpc_batch *rpc_batch_free(struct rpc_batch *b);
#define RPC_UNDO(name) \
	void name(const Ioasd__Request *done, const Ioasd__Response *reply, \
		  struct rpc_inverse *ret)
RPC_UNDO(undo_ioas_alloc);
RPC_UNDO(undo_register_memory);
RPC_UNDO(undo_map);
RPC_UNDO(undo_copy);
RPC_UNDO(undo_share_export);
RPC_UNDO(undo_share_import);
/* The fillers of audit-fill.c, one per operation that has numbers to tell. */
#define RPC_AUDIT_FILL(name) \
	void name(struct audit_record *a, const Ioasd__Request *req, const Ioasd__Response *resp)
RPC_AUDIT_FILL(fill_allow_iovas);
RPC_AUDIT_FILL(fill_open_context);
RPC_AUDIT_FILL(fill_open_device);
RPC_AUDIT_FILL(fill_attach_device);
RPC_AUDIT_FILL(fill_copy);
RPC_AUDIT_FILL(fill_detach_device);
RPC_AUDIT_FILL(fill_ioas_alloc);
RPC_AUDIT_FILL(fill_ioas_destroy);
RPC_AUDIT_FILL(fill_iova_ranges);
RPC_AUDIT_FILL(fill_map);
RPC_AUDIT_FILL(fill_option);
RPC_AUDIT_FILL(fill_register_memory);
RPC_AUDIT_FILL(fill_unmap);
RPC_AUDIT_FILL(fill_unregister_memory);
/* hwpt.c */
RPC_AUDIT_FILL(fill_hw_info);
RPC_AUDIT_FILL(fill_hwpt_alloc);
RPC_AUDIT_FILL(fill_hwpt_destroy);
RPC_AUDIT_FILL(fill_hwpt_invalidate);
RPC_AUDIT_FILL(fill_device_replace);
RPC_AUDIT_FILL(fill_viommu_alloc);
RPC_AUDIT_FILL(fill_vdevice_alloc);
RPC_AUDIT_FILL(fill_veventq_alloc);
RPC_AUDIT_FILL(fill_viommu_destroy);
/* faults.c */
RPC_AUDIT_FILL(fill_fault_alloc);
RPC_AUDIT_FILL(fill_fault_destroy);
RPC_AUDIT_FILL(fill_hwpt_set_dirty);
RPC_AUDIT_FILL(fill_hwpt_get_dirty);
RPC_AUDIT_FILL(fill_pasid_attach);
RPC_AUDIT_FILL(fill_pasid_detach);
