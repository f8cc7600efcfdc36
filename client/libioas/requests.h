/* SPDX-License-Identifier: MIT */
/*
 * Every request libioas sends, once: one row per operation.
 *
 *   REPLY(member, MEMBER, Type, Reply)      a success carries a Reply
 *   MAY_REPLY(member, MEMBER, Type, Reply)  it may (Option: only GET has one)
 *   NO_REPLY(member, MEMBER, Type)          a success carries nothing
 *
 * member is the operation's field in the Request oneof and, for a reply,
 * in the Response oneof (ioasd.proto gives a request and its reply the
 * same field number); MEMBER is the same in capitals, as protobuf-c names
 * the oneof cases; Type is the request message, Reply the reply message.
 *
 * internal.h makes each row a request_<member>() that wraps the message in
 * a Request, sends it and checks the reply; REQUEST() fills the message
 * from designated fields. An operation is then its row here and one
 * function that maps its arguments to fields and the reply back.
 */
#pragma once

#include "ioasd.pb-c.h"

#define LIBIOAS_REQUESTS(REPLY, MAY_REPLY, NO_REPLY)                                  \
	REPLY(hello,                HELLO,             Hello,            HelloReply)         \
	REPLY(ioas_alloc,           IOAS_ALLOC,        IoasAlloc,        IoasAllocReply)     \
	NO_REPLY(ioas_destroy,      IOAS_DESTROY,      IoasDestroy)                          \
	REPLY(iova_ranges,          IOVA_RANGES,       IovaRanges,       IovaRangesReply)    \
	NO_REPLY(allow_iovas,       ALLOW_IOVAS,       AllowIovas)                           \
	REPLY(register_memory,      REGISTER_MEMORY,   RegisterMemory,   RegisterMemoryReply) \
	NO_REPLY(unregister_memory, UNREGISTER_MEMORY, UnregisterMemory)                     \
	REPLY(map,                  MAP,               Map,              MapReply)           \
	REPLY(unmap,                UNMAP,             Unmap,            UnmapReply)         \
	REPLY(copy,                 COPY,              Copy,             CopyReply)          \
	MAY_REPLY(option,           OPTION,            Option,           OptionReply)        \
	REPLY(stats,                STATS,             Stats,            StatsReply)         \
	REPLY(whoami,               WHOAMI,            Whoami,           WhoamiReply)        \
	REPLY(share_export,         SHARE_EXPORT,      ShareExport,      ShareExportReply)   \
	REPLY(share_import,         SHARE_IMPORT,      ShareImport,      ShareImportReply)   \
	NO_REPLY(share_revoke,      SHARE_REVOKE,      ShareRevoke)                          \
	REPLY(share_list,           SHARE_LIST,        ShareList,        ShareListReply)     \
	REPLY(attach_device,        ATTACH_DEVICE,     AttachDevice,     DeviceInfo)         \
	NO_REPLY(detach_device,     DETACH_DEVICE,     DetachDevice)                         \
	REPLY(device_list,          DEVICE_LIST,       DeviceList,       DeviceListReply)    \
	REPLY(batch,                BATCH,             Batch,            BatchReply)         \
	REPLY(open_context,         OPEN_CONTEXT,      OpenContext,      OpenContextReply)   \
	REPLY(open_device,          OPEN_DEVICE,       OpenDevice,       DeviceInfo)         \
	REPLY(mapping_list,         MAPPING_LIST,      MappingList,      MappingListReply) \
	REPLY(hw_info,              HW_INFO,           HwInfo,           HwInfoReply)        \
	REPLY(hwpt_alloc,           HWPT_ALLOC,        HwptAlloc,        HwptAllocReply)     \
	NO_REPLY(hwpt_destroy,      HWPT_DESTROY,      HwptDestroy)                          \
	REPLY(hwpt_invalidate,      HWPT_INVALIDATE,   HwptInvalidate,   HwptInvalidateReply) \
	NO_REPLY(device_replace,    DEVICE_REPLACE,    DeviceReplace)                        \
	REPLY(hwpt_list,            HWPT_LIST,         HwptList,         HwptListReply)      \
	REPLY(viommu_alloc,         VIOMMU_ALLOC,      ViommuAlloc,      ViommuAllocReply)   \
	REPLY(vdevice_alloc,        VDEVICE_ALLOC,     VdeviceAlloc,     VdeviceAllocReply)  \
	REPLY(veventq_alloc,        VEVENTQ_ALLOC,     VeventqAlloc,     VeventqAllocReply)  \
	NO_REPLY(viommu_destroy,    VIOMMU_DESTROY,    ViommuDestroy) \
	REPLY(fault_alloc,          FAULT_ALLOC,       FaultAlloc,       FaultAllocReply)    \
	NO_REPLY(fault_destroy,     FAULT_DESTROY,     FaultDestroy)                         \
	NO_REPLY(hwpt_set_dirty,    HWPT_SET_DIRTY,    HwptSetDirty)                         \
	REPLY(hwpt_get_dirty,       HWPT_GET_DIRTY,    HwptGetDirty,     HwptGetDirtyReply)  \
	NO_REPLY(pasid_attach,      PASID_ATTACH,      PasidAttach)                          \
	NO_REPLY(pasid_detach,      PASID_DETACH,      PasidDetach)                          \
	REPLY(pasid_list,           PASID_LIST,        PasidList,        PasidListReply)

/*
 * The start of a request message made with designated initializers:
 * { LIBIOAS_MESSAGE_BASE(map), .ioas = 1 }. Fields not named are zero, which
 * is what IOASD__<MEMBER>__INIT gives every request message (no field has a
 * default); tests/test-libioas-requests.c checks that for each row.
 */
#define LIBIOAS_MESSAGE_BASE(member) \
	.base = PROTOBUF_C_MESSAGE_INIT(&ioasd__##member##__descriptor)
