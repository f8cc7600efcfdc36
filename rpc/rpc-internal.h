/* SPDX-License-Identifier: MIT */
/*
 * The protocol layer's own: the context one request is handled in, the
 * handlers (handlers.c) and the audit fillers (audit-fill.c) that the
 * operation table in rpc.c names. Nothing outside rpc/ includes this.
 */
#pragma once

#include <errno.h>
#include <inttypes.h>
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

struct rpc_ctx {
	struct rpc_session *c;
	const Ioasd__Request *req;
	Ioasd__Response *resp;
	int *fds;
	size_t nfds;
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
	} body;
	/* Device storage: names, and the list reply's entries. */
	char dev_pci[16], dev_name[32], dev_desc[64];
	struct backend_device_info dev_info;
	bool has_dev;
	Ioasd__DeviceInfo *devs;
	Ioasd__DeviceInfo **dev_ptrs;
	char (*dev_strs)[2][32];
	char **allow_strs;
	size_t n_allow_strs;
	char token[TENANT_SHARE_TOKEN_LEN + 1];
	/* ShareList storage, freed with the context. */
	struct list_mem *list_mem;
	Ioasd__IovaRange *ranges;
	Ioasd__IovaRange **range_ptrs;
};

struct list_mem;
typedef int (*rpc_handler)(struct rpc_ctx *x);


typedef void (*rpc_audit_fill)(struct audit_record *a, const Ioasd__Request *req,
			       const Ioasd__Response *resp);

int pack_and_queue(struct rpc_session *c, Ioasd__Response *resp);
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
/* The fillers of audit-fill.c, one per operation that has numbers to tell. */
#define RPC_AUDIT_FILL(name) \
	void name(struct audit_record *a, const Ioasd__Request *req, const Ioasd__Response *resp)
RPC_AUDIT_FILL(fill_allow_iovas);
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
