/* SPDX-License-Identifier: MIT */
/*
 * Write the seed corpora of the fuzz targets:
 *   gen-corpus OUTDIR   ->  OUTDIR/request/    one packed Request each
 *                           OUTDIR/dispatch/   programs for fuzz-dispatch
 *                           OUTDIR/restore/    state files for fuzz-restore
 * (the policy seeds are plain files, kept by hand in corpus/policy).
 * The dispatch encoding is the one documented in fuzz-dispatch.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "proto/ioasd.pb-c.h"
#include "proto/state.pb-c.h"

static const char *outdir;

static void write_file(const char *sub, const char *name, const void *buf,
		       size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, sub);
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, sub, name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* ------------------------------------------------------------ requests */

static void request(const char *name, Ioasd__Request *req)
{
	static uint8_t buf[65536];

	if (ioasd__request__get_packed_size(req) > sizeof(buf)) {
		fprintf(stderr, "seed %s does not fit a datagram\n", name);
		exit(1);
	}
	write_file("request", name, buf, ioasd__request__pack(req, buf));
}

/*
 * Batch requests: both modes, each kind of operation the daemon batches,
 * what an all-or-nothing batch refuses, and the malformed shapes (empty,
 * over the limit, a nested batch, an unknown operation, a read inside).
 */
#define SEED_OPS 257
static void batches(void)
{
	static Ioasd__BatchOp ops[SEED_OPS], *ptrs[SEED_OPS];
	static ProtobufCMessageUnknownField unknown;
	static const uint8_t empty_len[] = { 0x00 };
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__Batch b = IOASD__BATCH__INIT;
	Ioasd__IoasAlloc alloc = IOASD__IOAS_ALLOC__INIT;
	Ioasd__IoasDestroy destroy = IOASD__IOAS_DESTROY__INIT;
	Ioasd__RegisterMemory reg = IOASD__REGISTER_MEMORY__INIT;
	Ioasd__UnregisterMemory unreg = IOASD__UNREGISTER_MEMORY__INIT;
	Ioasd__Map map = IOASD__MAP__INIT, fixed = IOASD__MAP__INIT;
	Ioasd__Unmap unmap = IOASD__UNMAP__INIT;
	Ioasd__Copy copy = IOASD__COPY__INIT;
	Ioasd__ShareExport export = IOASD__SHARE_EXPORT__INIT;
	Ioasd__ShareRevoke revoke = IOASD__SHARE_REVOKE__INIT;
	Ioasd__Stats stats = IOASD__STATS__INIT;

	for (int i = 0; i < SEED_OPS; i++) {
		ioasd__batch_op__init(&ops[i]);
		ptrs[i] = &ops[i];
	}
	req.id = 9;
	req.op_case = IOASD__REQUEST__OP_BATCH;
	req.batch = &b;
	b.ops = ptrs;
	map.ioas = fixed.ioas = 1;
	map.memory = fixed.memory = 1;
	map.length = fixed.length = 4096;
	map.flags = 6;
	fixed.flags = 7;
	fixed.has_iova = 1;
	fixed.iova = 0x100000;
	destroy.ioas = 1;
	reg.length = 8192;
	unreg.memory = 1;
	unmap.ioas = 1;
	unmap.iova = 0x100000;
	unmap.length = 4096;
	copy.src_ioas = 1;
	copy.dst_ioas = 2;
	copy.src_iova = 0x100000;
	copy.length = 4096;
	copy.flags = 6;
	export.ioas = 1;
	export.iova = 0x100000;
	export.length = 4096;
	revoke.share = 1;

	/* alloc, alloc, map (fixed, auto), copy, export, unmap, revoke,
	 * destroy, unregister: stop at the first failure. BatchOp's field
	 * of each operation is the Request's (same name and number). */
#define SET_OP(i, CASE, member, msg)                          \
	do {                                                  \
		ops[i].op_case = IOASD__BATCH_OP__OP_##CASE;  \
		ops[i].member = (msg);                        \
	} while (0)
	SET_OP(0, IOAS_ALLOC, ioas_alloc, &alloc);
	SET_OP(1, IOAS_ALLOC, ioas_alloc, &alloc);
	SET_OP(2, MAP, map, &fixed);
	SET_OP(3, MAP, map, &map);
	SET_OP(4, COPY, copy, &copy);
	SET_OP(5, SHARE_EXPORT, share_export, &export);
	SET_OP(6, UNMAP, unmap, &unmap);
	SET_OP(7, SHARE_REVOKE, share_revoke, &revoke);
	SET_OP(8, IOAS_DESTROY, ioas_destroy, &destroy);
	SET_OP(9, UNREGISTER_MEMORY, unregister_memory, &unreg);
	b.n_ops = 10;
	b.mode = IOASD__BATCH_MODE__BATCH_MODE_STOP;
	request("batch-stop", &req);
	/* All or nothing: refused whole (unmap, revoke, destroy cannot be
	 * undone), and the undoable first five alone (rolled back). */
	b.mode = IOASD__BATCH_MODE__BATCH_MODE_ATOMIC;
	request("batch-atomic-refused", &req);
	b.n_ops = 6;
	request("batch-atomic", &req);
	/* A register: one fd, which this target never sends (EBADMSG). */
	SET_OP(1, REGISTER_MEMORY, register_memory, &reg);
	request("batch-register-no-fd", &req);
	/* Malformed: empty, a read inside, an operation naming none, an
	 * unknown one, a nested batch (Request.batch's number). */
	b.n_ops = 0;
	request("batch-empty", &req);
	b.mode = IOASD__BATCH_MODE__BATCH_MODE_STOP;
	SET_OP(1, STATS, stats, &stats);
	b.n_ops = 2;
	request("batch-read", &req);
	ops[1].op_case = IOASD__BATCH_OP__OP__NOT_SET;
	request("batch-no-op", &req);
	unknown = (ProtobufCMessageUnknownField){
		.tag = 45, .wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED,
		.len = sizeof(empty_len), .data = (uint8_t *)empty_len,
	};
	ops[1].base.n_unknown_fields = 1;
	ops[1].base.unknown_fields = &unknown;
	request("batch-unknown-op", &req);
	unknown.tag = IOASD__REQUEST__OP_BATCH;
	request("batch-nested", &req);
	ops[1].base.n_unknown_fields = 0;
	ops[1].base.unknown_fields = NULL;
	/* The limit, and one over it. */
	for (int i = 0; i < SEED_OPS; i++)
		SET_OP(i, MAP, map, &map);
	b.n_ops = SEED_OPS - 1;
	request("batch-max", &req);
	for (int i = 0; i < SEED_OPS; i++)
		SET_OP(i, IOAS_ALLOC, ioas_alloc, &alloc);
	b.n_ops = SEED_OPS;
	request("batch-too-many", &req);
#undef SET_OP
}

/* Hardware page tables (issue 15): each request, the nested alloc with
 * driver data, an invalidation with two entries and one not whole. */
static void hwpt_requests(void)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__HwInfo info = IOASD__HW_INFO__INIT;
	Ioasd__HwptAlloc alloc = IOASD__HWPT_ALLOC__INIT;
	Ioasd__HwptDestroy destroy = IOASD__HWPT_DESTROY__INIT;
	Ioasd__HwptInvalidate inv = IOASD__HWPT_INVALIDATE__INIT;
	Ioasd__DeviceReplace repl = IOASD__DEVICE_REPLACE__INIT;
	Ioasd__HwptList list = IOASD__HWPT_LIST__INIT;
	static uint8_t iotlb[4] = { 0xef, 0xbe, 0xad, 0x0b };
	static uint8_t entries[16] = { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0 };

	req.id = 9;
	info.device = 1;
	req.op_case = IOASD__REQUEST__OP_HW_INFO;
	req.hw_info = &info;
	request("hw-info", &req);

	alloc.device = 1;
	alloc.has_ioas = true;
	alloc.ioas = 1;
	alloc.has_flags = true;
	alloc.flags = 1;
	req.op_case = IOASD__REQUEST__OP_HWPT_ALLOC;
	req.hwpt_alloc = &alloc;
	request("hwpt-alloc-parent", &req);
	alloc.has_ioas = false;
	alloc.has_flags = false;
	alloc.has_parent = true;
	alloc.parent = 1;
	alloc.has_data_type = true;
	alloc.data_type = 0xdead;
	alloc.has_data = true;
	alloc.data.len = sizeof(iotlb);
	alloc.data.data = iotlb;
	request("hwpt-alloc-nested", &req);

	inv.hwpt = 2;
	inv.data_type = 0xdeadbeef;
	inv.entry_len = 8;
	inv.has_entries = true;
	inv.entries.len = sizeof(entries);
	inv.entries.data = entries;
	req.op_case = IOASD__REQUEST__OP_HWPT_INVALIDATE;
	req.hwpt_invalidate = &inv;
	request("hwpt-invalidate", &req);
	inv.entry_len = 5;
	request("hwpt-invalidate-not-whole", &req);

	repl.device = 1;
	repl.has_hwpt = true;
	repl.hwpt = 2;
	req.op_case = IOASD__REQUEST__OP_DEVICE_REPLACE;
	req.device_replace = &repl;
	request("device-replace", &req);

	req.op_case = IOASD__REQUEST__OP_HWPT_LIST;
	req.hwpt_list = &list;
	request("hwpt-list", &req);

	destroy.hwpt = 2;
	req.op_case = IOASD__REQUEST__OP_HWPT_DESTROY;
	req.hwpt_destroy = &destroy;
	request("hwpt-destroy", &req);

	{
		Ioasd__ViommuAlloc va = IOASD__VIOMMU_ALLOC__INIT;
		Ioasd__VdeviceAlloc vd = IOASD__VDEVICE_ALLOC__INIT;
		Ioasd__VeventqAlloc vq = IOASD__VEVENTQ_ALLOC__INIT;
		Ioasd__ViommuDestroy vx = IOASD__VIOMMU_DESTROY__INIT;

		va.device = 1;
		va.hwpt = 1;
		va.type = 0xdeadbeef;
		req.op_case = IOASD__REQUEST__OP_VIOMMU_ALLOC;
		req.viommu_alloc = &va;
		request("viommu-alloc", &req);
		vd.viommu = 1;
		vd.device = 1;
		vd.virt_id = 0x99;
		req.op_case = IOASD__REQUEST__OP_VDEVICE_ALLOC;
		req.vdevice_alloc = &vd;
		request("vdevice-alloc", &req);
		vq.viommu = 1;
		vq.type = 0xbeefbeef;
		vq.depth = 4;
		req.op_case = IOASD__REQUEST__OP_VEVENTQ_ALLOC;
		req.veventq_alloc = &vq;
		request("veventq-alloc", &req);
		vx.has_viommu = vx.has_vdevice = true;
		vx.viommu = vx.vdevice = 1;
		req.op_case = IOASD__REQUEST__OP_VIOMMU_DESTROY;
		req.viommu_destroy = &vx;
		request("viommu-destroy-two", &req);
	}
}

/* Fault queues, dirty bitmaps, PASIDs (issue 16): each request; an HWPT
 * with a fault queue; a bitmap read with the largest page size and one
 * that asks for more than the bitmap limit. */
static void faults_requests(void)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__FaultAlloc fa = IOASD__FAULT_ALLOC__INIT;
	Ioasd__FaultDestroy fd = IOASD__FAULT_DESTROY__INIT;
	Ioasd__HwptAlloc alloc = IOASD__HWPT_ALLOC__INIT;
	Ioasd__HwptSetDirty sd = IOASD__HWPT_SET_DIRTY__INIT;
	Ioasd__HwptGetDirty gd = IOASD__HWPT_GET_DIRTY__INIT;
	Ioasd__PasidAttach pa = IOASD__PASID_ATTACH__INIT;
	Ioasd__PasidDetach pd = IOASD__PASID_DETACH__INIT;
	Ioasd__PasidList pl = IOASD__PASID_LIST__INIT;

	req.id = 10;
	req.op_case = IOASD__REQUEST__OP_FAULT_ALLOC;
	req.fault_alloc = &fa;
	request("fault-alloc", &req);

	alloc.device = 1;
	alloc.has_ioas = true;
	alloc.ioas = 1;
	alloc.has_flags = true;
	alloc.flags = 4;
	alloc.has_fault = true;
	alloc.fault = 1;
	req.op_case = IOASD__REQUEST__OP_HWPT_ALLOC;
	req.hwpt_alloc = &alloc;
	request("hwpt-alloc-fault", &req);

	sd.hwpt = 1;
	sd.enable = true;
	req.op_case = IOASD__REQUEST__OP_HWPT_SET_DIRTY;
	req.hwpt_set_dirty = &sd;
	request("hwpt-set-dirty", &req);

	gd.hwpt = 1;
	gd.iova = 1u << 24;
	gd.length = UINT64_C(1) << 30;
	gd.page_size = UINT64_C(1) << 30;
	gd.memory = 1;
	gd.has_offset = true;
	gd.offset = 8;
	gd.has_no_clear = true;
	gd.no_clear = true;
	req.op_case = IOASD__REQUEST__OP_HWPT_GET_DIRTY;
	req.hwpt_get_dirty = &gd;
	request("hwpt-get-dirty", &req);
	gd.iova = 0;
	gd.length = UINT64_C(1) << 40;
	gd.page_size = 512;
	request("hwpt-get-dirty-too-big", &req);

	pa.device = 1;
	pa.pasid = 100;
	pa.has_hwpt = true;
	pa.hwpt = 1;
	req.op_case = IOASD__REQUEST__OP_PASID_ATTACH;
	req.pasid_attach = &pa;
	request("pasid-attach", &req);

	pd.device = 1;
	pd.pasid = 100;
	req.op_case = IOASD__REQUEST__OP_PASID_DETACH;
	req.pasid_detach = &pd;
	request("pasid-detach", &req);

	req.op_case = IOASD__REQUEST__OP_PASID_LIST;
	req.pasid_list = &pl;
	request("pasid-list", &req);

	fd.fault = 1;
	req.op_case = IOASD__REQUEST__OP_FAULT_DESTROY;
	req.fault_destroy = &fd;
	request("fault-destroy", &req);
}

static void requests(void)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__Hello hello = IOASD__HELLO__INIT;
	Ioasd__IoasAlloc alloc = IOASD__IOAS_ALLOC__INIT;
	Ioasd__IoasDestroy destroy = IOASD__IOAS_DESTROY__INIT;
	Ioasd__IovaRanges ranges = IOASD__IOVA_RANGES__INIT;
	Ioasd__AllowIovas allow = IOASD__ALLOW_IOVAS__INIT;
	Ioasd__IovaRange r1 = IOASD__IOVA_RANGE__INIT, r2 = IOASD__IOVA_RANGE__INIT;
	Ioasd__IovaRange *rps[] = { &r1, &r2 };
	Ioasd__RegisterMemory reg = IOASD__REGISTER_MEMORY__INIT;
	Ioasd__UnregisterMemory unreg = IOASD__UNREGISTER_MEMORY__INIT;
	Ioasd__Map map = IOASD__MAP__INIT;
	Ioasd__MapIdentity ident = IOASD__MAP_IDENTITY__INIT;
	Ioasd__Unmap unmap = IOASD__UNMAP__INIT;
	Ioasd__Copy copy = IOASD__COPY__INIT;
	Ioasd__Option opt = IOASD__OPTION__INIT;
	Ioasd__Stats stats = IOASD__STATS__INIT;
	Ioasd__MappingList list = IOASD__MAPPING_LIST__INIT;
	static const uint8_t garbage[] = { 0x08, 0x01, 0x52, 0xff, 0xff, 0xff, 0xff, 0x0f };
	static const uint8_t unknown_op[] = { 0x08, 0x07, 0xfa, 0x01, 0x00 }; /* field 31 */
	static const uint8_t whoami[] = { 0x08, 0x07, 0xb2, 0x01, 0x00 };     /* field 22 */

	req.id = 7;
	hello.version = 1;
	hello.client_name = (char *)"seed";
	req.op_case = IOASD__REQUEST__OP_HELLO;
	req.hello = &hello;
	request("hello", &req);
	hello.version = 2;
	request("hello-v2", &req);

	req.op_case = IOASD__REQUEST__OP_IOAS_ALLOC;
	req.ioas_alloc = &alloc;
	request("ioas-alloc", &req);

	destroy.ioas = 1;
	req.op_case = IOASD__REQUEST__OP_IOAS_DESTROY;
	req.ioas_destroy = &destroy;
	request("ioas-destroy", &req);

	ranges.ioas = 1;
	ranges.capacity = 4;
	req.op_case = IOASD__REQUEST__OP_IOVA_RANGES;
	req.iova_ranges = &ranges;
	request("iova-ranges", &req);
	ranges.capacity = UINT32_MAX;
	request("iova-ranges-huge", &req);

	r1.start = 0x10000;
	r1.last = 0x1ffff;
	r2.start = 1ull << 32;
	r2.last = UINT64_MAX;
	allow.ioas = 1;
	allow.n_ranges = 2;
	allow.ranges = rps;
	req.op_case = IOASD__REQUEST__OP_ALLOW_IOVAS;
	req.allow_iovas = &allow;
	request("allow-iovas", &req);

	reg.offset = 0;
	reg.length = 8192;
	req.op_case = IOASD__REQUEST__OP_REGISTER_MEMORY;
	req.register_memory = &reg;
	request("register", &req);

	unreg.memory = 1;
	req.op_case = IOASD__REQUEST__OP_UNREGISTER_MEMORY;
	req.unregister_memory = &unreg;
	request("unregister", &req);

	map.ioas = 1;
	map.memory = 1;
	map.offset = 0;
	map.length = 4096;
	map.flags = 6;
	req.op_case = IOASD__REQUEST__OP_MAP;
	req.map = &map;
	request("map-auto", &req);
	map.flags = 7;
	map.has_iova = 1;
	map.iova = 0x100000;
	request("map-fixed", &req);
	map.flags = 1;
	map.has_iova = 0;
	request("map-fixed-no-iova", &req);
	map.flags = 7;
	map.has_iova = 1;
	map.iova = 0x7f0000000000;
	map.identity = &ident;
	ident.dev = 1;
	ident.ino = 42;
	ident.file_offset = 0;
	request("map-identity", &req);
	map.identity = NULL;
	map.has_iova = 0;

	unmap.ioas = 1;
	unmap.iova = 0x100000;
	unmap.length = 4096;
	req.op_case = IOASD__REQUEST__OP_UNMAP;
	req.unmap = &unmap;
	request("unmap", &req);
	unmap.iova = 0;
	unmap.length = UINT64_MAX;
	request("unmap-all", &req);

	copy.src_ioas = 1;
	copy.dst_ioas = 2;
	copy.src_iova = 0x100000;
	copy.length = 4096;
	copy.flags = 7;
	copy.has_dst_iova = 1;
	copy.dst_iova = 0x200000;
	req.op_case = IOASD__REQUEST__OP_COPY;
	req.copy = &copy;
	request("copy", &req);

	opt.op = IOASD__OPTION_OP__OPTION_OP_SET;
	opt.option = IOASD__OPTION_ID__OPTION_ID_HUGE_PAGES;
	opt.ioas = 1;
	opt.has_value = 1;
	opt.value = 0;
	req.op_case = IOASD__REQUEST__OP_OPTION;
	req.option = &opt;
	request("option-set", &req);
	opt.op = IOASD__OPTION_OP__OPTION_OP_GET;
	opt.has_value = 0;
	request("option-get", &req);

	req.op_case = IOASD__REQUEST__OP_STATS;
	req.stats = &stats;
	request("stats", &req);

	write_file("request", "whoami", whoami, sizeof(whoami));
	hwpt_requests();
	faults_requests();

	/* Delegation: a context, a device by address, and the bad shapes. */
	{
		Ioasd__OpenContext oc = IOASD__OPEN_CONTEXT__INIT;
		Ioasd__OpenDevice od = IOASD__OPEN_DEVICE__INIT;

		req.op_case = IOASD__REQUEST__OP_OPEN_CONTEXT;
		req.open_context = &oc;
		request("open-context", &req);
		req.op_case = IOASD__REQUEST__OP_OPEN_DEVICE;
		req.open_device = &od;
		od.pci_address = (char *)"0000:00:04.0";
		request("open-device", &req);
		od.pci_address = (char *)"00:1f.7";
		request("open-device-short", &req);
		od.pci_address = (char *)"0000:00:20.0";
		request("open-device-bad-slot", &req);
		od.pci_address = (char *)"";
		request("open-device-empty", &req);
	}
	list.ioas = 1;
	req.op_case = IOASD__REQUEST__OP_MAPPING_LIST;
	req.mapping_list = &list;
	request("mapping-list", &req);
	list.has_from_iova = 1;
	list.from_iova = 0x100000;
	list.has_max = 1;
	list.max = 2;
	request("mapping-list-page", &req);

	write_file("request", "empty", "", 0);
	write_file("request", "garbage", garbage, sizeof(garbage));
	write_file("request", "unknown-op", unknown_op, sizeof(unknown_op));
	batches();
}

/* ------------------------------------------------------------ dispatch */

struct prog {
	uint8_t b[512];
	size_t n;
};

static void emit(struct prog *p, int count, ...)
{
	va_list ap;

	va_start(ap, count);
	for (int i = 0; i < count; i++)
		p->b[p->n++] = (uint8_t)va_arg(ap, int);
	va_end(ap);
}

/* ctl fd kinds and op numbers of fuzz-dispatch.c. */
enum { FD_NONE, FD_SEALED, FD_UNSEALED, FD_PIPE, FD_RDONLY, FD_WSEALED, FD_TWO, FD_FIVE };
enum { RAW = 0x08, RECONNECT = 0x10, NO_HELLO = 0x20, PIPELINE = 0x40 };
enum { OP_HELLO, OP_ALLOC, OP_DESTROY, OP_RANGES, OP_ALLOW, OP_REGISTER,
       OP_UNREGISTER, OP_MAP, OP_UNMAP, OP_COPY, OP_OPTION, OP_STATS };

/* Operands: handles as is, pages p (p*4 KiB), iova i (i*64 KiB). */
static void alloc(struct prog *p, int ctl) { emit(p, 2, ctl, OP_ALLOC); }
static void reg(struct prog *p, int ctl, int npages, int off, int len)
{
	emit(p, 5, ctl | FD_SEALED, npages - 1, OP_REGISTER, off, len);
}
static void map_auto(struct prog *p, int ctl, int ioas, int mem, int off, int len)
{
	emit(p, 8, ctl, OP_MAP, ioas, mem, off, len, 6, 0);
}
static void map_fixed(struct prog *p, int ctl, int ioas, int mem, int off,
		      int len, int iova)
{
	emit(p, 8, ctl, OP_MAP, ioas, mem, off, len, 7, iova);
}
static void unmap(struct prog *p, int ctl, int ioas, int iova, int len)
{
	emit(p, 5, ctl, OP_UNMAP, ioas, iova, len);
}
static void copy_fixed(struct prog *p, int ctl, int src, int dst, int iova,
		       int len, int dst_iova)
{
	emit(p, 8, ctl, OP_COPY, src, dst, iova, len, 7, dst_iova);
}
static void stats(struct prog *p, int ctl) { emit(p, 2, ctl, OP_STATS); }

static void prog_write(const char *name, const struct prog *p)
{
	write_file("dispatch", name, p->b, p->n);
}

static void dispatch(void)
{
	struct prog p;

	/* The demo: register, map (auto and fixed), copy, unmap, tear down. */
	for (int mf = 0; mf < 2; mf++) {
		memset(&p, 0, sizeof(p));
		emit(&p, 1, mf);
		alloc(&p, 0);
		alloc(&p, 0);
		reg(&p, 0, 8, 0, 8);
		map_auto(&p, 0, 1, 1, 0, 4);
		map_fixed(&p, 0, 1, 1, 4, 4, 0x20);
		copy_fixed(&p, 0, 1, 2, 0x20, 4, 0x40);
		unmap(&p, 0, 2, 0x40, 4);
		stats(&p, 0);
		emit(&p, 3, 0, OP_DESTROY, 1);
		emit(&p, 3, 0, OP_UNREGISTER, 1);
		emit(&p, 3, 0, OP_DESTROY, 2);
		emit(&p, 3, 0, OP_UNREGISTER, 1);
		prog_write(mf ? "demo-map-file" : "demo-mmap", &p);
	}

	/* Hang up with everything mapped, then again on a new connection. */
	memset(&p, 0, sizeof(p));
	emit(&p, 1, 1);
	alloc(&p, 0);
	reg(&p, 0, 16, 0, 16);
	map_fixed(&p, 0, 1, 1, 0, 16, 0x10);
	alloc(&p, RECONNECT);
	reg(&p, 0, 4, 0, 4);
	map_auto(&p, 0, 1, 1, 0, 4);
	prog_write("hangup-mapped", &p);

	/* Pipelined requests. */
	memset(&p, 0, sizeof(p));
	emit(&p, 1, 0);
	alloc(&p, PIPELINE);
	reg(&p, PIPELINE, 4, 0, 4);
	map_auto(&p, PIPELINE, 1, 1, 0, 2);
	map_auto(&p, PIPELINE, 1, 1, 2, 2);
	unmap(&p, PIPELINE, 1, 0, 0xf8); /* iova 0, length UINT64_MAX */
	stats(&p, 0);
	prog_write("pipeline", &p);

	/* Unmap that would split a mapping; overlapping fixed maps. */
	memset(&p, 0, sizeof(p));
	emit(&p, 1, 1);
	alloc(&p, 0);
	reg(&p, 0, 8, 0, 8);
	map_fixed(&p, 0, 1, 1, 0, 8, 0x10);
	unmap(&p, 0, 1, 0x10, 4);
	map_fixed(&p, 0, 1, 1, 0, 4, 0x10);
	emit(&p, 3, 0, OP_UNREGISTER, 1);
	prog_write("split-overlap", &p);

	/* IOVA ranges and allowed ranges. */
	memset(&p, 0, sizeof(p));
	emit(&p, 1, 1);
	alloc(&p, 0);
	emit(&p, 4, 0, OP_RANGES, 0, 1);
	emit(&p, 4, 0, OP_RANGES, 4, 1);
	emit(&p, 10, 0, OP_ALLOW, 1, 2, 0x01, 16, 0x10, 31);
	reg(&p, 0, 4, 0, 4);
	map_auto(&p, 0, 1, 1, 0, 4);
	prog_write("ranges", &p);

	/* Options. */
	memset(&p, 0, sizeof(p));
	emit(&p, 1, 0);
	alloc(&p, 0);
	emit(&p, 5, 0, OP_OPTION, 0x4e, 1, 0); /* set huge pages 0 */
	emit(&p, 5, 0, OP_OPTION, 0x10, 1, 0); /* get huge pages */
	emit(&p, 5, 0, OP_OPTION, 0x54, 1, 1); /* set rlimit mode */
	prog_write("options", &p);

	/* Wrong fds: unsealed, pipe, read-only, write-sealed, two, five. */
	memset(&p, 0, sizeof(p));
	emit(&p, 1, 1);
	alloc(&p, 0);
	emit(&p, 5, FD_UNSEALED, 3, OP_REGISTER, 0, 4);
	emit(&p, 4, FD_PIPE, OP_REGISTER, 0, 1);
	emit(&p, 5, FD_RDONLY, 3, OP_REGISTER, 0, 4);
	map_auto(&p, 0, 1, 1, 0, 4);
	emit(&p, 5, FD_WSEALED, 3, OP_REGISTER, 0, 4);
	emit(&p, 5, FD_TWO, 3, OP_REGISTER, 0, 4);
	emit(&p, 3, FD_SEALED, 0, OP_STATS);
	emit(&p, 3, FD_FIVE, OP_STATS);
	stats(&p, 0);
	prog_write("wrong-fds", &p);

	/* Transport abuse: raw garbage, oversized, zero-length with an fd. */
	memset(&p, 0, sizeof(p));
	emit(&p, 1, 0);
	emit(&p, 6, RAW, 4, 0x08, 0x01, 0x52, 0x00);
	emit(&p, 2, RAW, 0xff);
	emit(&p, 3, RAW | FD_SEALED, 0, 0xfe);
	stats(&p, 0);
	prog_write("transport", &p);

	/* Before Hello; a Hello twice; a wrong version. */
	memset(&p, 0, sizeof(p));
	emit(&p, 1, 2);
	stats(&p, 0);
	emit(&p, 3, RECONNECT | NO_HELLO, OP_HELLO, 1);
	emit(&p, 3, 0, OP_HELLO, 1);
	emit(&p, 3, RECONNECT | NO_HELLO, OP_HELLO, 0);
	prog_write("hello", &p);

	/* Limits: more regions and IOASes than allowed. */
	memset(&p, 0, sizeof(p));
	emit(&p, 1, 1);
	for (int i = 0; i < 10; i++)
		alloc(&p, PIPELINE);
	for (int i = 0; i < 10; i++)
		reg(&p, 0, 16, 0, 16);
	for (int i = 1; i < 8; i++)
		map_auto(&p, 0, 1, i, 0, 16);
	prog_write("limits", &p);
}

/* ------------------------------------------------------------ restore */

#define MiB (UINT64_C(1) << 20)
#define READABLE 4u

static void state_write(const char *name, const IoasdState__State *m)
{
	size_t len = ioasd_state__state__get_packed_size(m);
	uint8_t *buf = malloc(len ? len : 1);

	if (!buf) {
		perror("malloc");
		exit(1);
	}
	ioasd_state__state__pack(m, buf);
	write_file("restore", name, buf, len);
	free(buf);
}

/*
 * delta (a device tenant) with what issue 15 keeps across a restart: a
 * nesting parent, a vIOMMU on it, a vDEVICE and a vEVENTQ in it, an HWPT
 * made from the vIOMMU with the device on it; then the same with a cycle
 * (the vIOMMU on the HWPT made from it), which the check refuses whole.
 */
static void viommu_restores(IoasdState__State *m, IoasdState__Tenant *d)
{
	IoasdState__Hwpt h1 = IOASD_STATE__HWPT__INIT, h2 = IOASD_STATE__HWPT__INIT;
	IoasdState__Hwpt *hwpts[] = { &h1, &h2 };
	IoasdState__Vobj vi = IOASD_STATE__VOBJ__INIT, vd = IOASD_STATE__VOBJ__INIT;
	IoasdState__Vobj vq = IOASD_STATE__VOBJ__INIT;
	IoasdState__Vobj *vobjs[] = { &vi, &vd, &vq };

	h1.handle = 1;
	h1.id = 12;
	h1.ioas = 1;
	h1.device = 1;
	h1.flags = 1; /* nest parent */
	h2.handle = 2;
	h2.id = 14;
	h2.ioas = 1;
	h2.device = 1;
	h2.data_type = 0xdead;
	h2.has_viommu = true;
	h2.viommu = 1;
	vi.handle = 1;
	vi.id = 13;
	vi.kind = 0;
	vi.has_type = true;
	vi.type = 0xdeadbeef;
	vi.has_device = true;
	vi.device = 1;
	vi.has_parent = true;
	vi.parent = 1;
	vd.handle = 2;
	vd.id = 15;
	vd.kind = 1;
	vd.has_device = true;
	vd.device = 1;
	vd.has_viommu = true;
	vd.viommu = 1;
	vd.has_virt_id = true;
	vd.virt_id = 0x99;
	vq.handle = 3;
	vq.id = 16;
	vq.kind = 2;
	vq.has_type = true;
	vq.type = 0xbeefbeef;
	vq.has_viommu = true;
	vq.viommu = 1;
	d->has_next_hwpt = true;
	d->next_hwpt = 3;
	d->n_hwpts = 2;
	d->hwpts = hwpts;
	d->has_next_vobj = true;
	d->next_vobj = 4;
	d->n_vobjs = 3;
	d->vobjs = vobjs;
	d->devices[0]->has_hwpt = true;
	d->devices[0]->hwpt = 2;
	state_write("viommu-objects", m);
	vi.parent = 2;
	state_write("viommu-cycle", m);
	vi.parent = 1;
	d->devices[0]->has_hwpt = false;
	d->devices[0]->hwpt = 0;
	d->n_hwpts = 0;
	d->hwpts = NULL;
	d->n_vobjs = 0;
	d->vobjs = NULL;
}

/*
 * alpha maps 4 MiB of its memory as two mappings in IOAS 1 (and a copy in
 * IOAS 2) and exports them as share 1; beta imports the middle 2 MiB of it
 * (two pieces); delta is a device tenant with a device. Store ids 4 and 9
 * are the ones fuzz-restore leaves out of the store.
 */
static void restores(void)
{
	IoasdState__State m = IOASD_STATE__STATE__INIT;
	IoasdState__Tenant a = IOASD_STATE__TENANT__INIT, b = IOASD_STATE__TENANT__INIT;
	IoasdState__Tenant d = IOASD_STATE__TENANT__INIT;
	IoasdState__Tenant *tenants[] = { &a, &b, &d };
	IoasdState__Ioas aio[2] = { IOASD_STATE__IOAS__INIT, IOASD_STATE__IOAS__INIT };
	IoasdState__Ioas bio = IOASD_STATE__IOAS__INIT, dio = IOASD_STATE__IOAS__INIT;
	IoasdState__Ioas *aios[] = { &aio[0], &aio[1] }, *bios[] = { &bio }, *dios[] = { &dio };
	IoasdState__Memory amem = IOASD_STATE__MEMORY__INIT, dmem = IOASD_STATE__MEMORY__INIT;
	IoasdState__Memory *amems[] = { &amem }, *dmems[] = { &dmem };
	IoasdState__Mapping am[3], bm[2], dm = IOASD_STATE__MAPPING__INIT;
	IoasdState__Mapping *ams[] = { &am[0], &am[1], &am[2] }, *bms[] = { &bm[0], &bm[1] };
	IoasdState__Mapping *dms[] = { &dm };
	IoasdState__Share sh = IOASD_STATE__SHARE__INIT, *shs[] = { &sh };
	IoasdState__Import im = IOASD_STATE__IMPORT__INIT, *ims[] = { &im };
	IoasdState__Device dev = IOASD_STATE__DEVICE__INIT, *devs[] = { &dev };
	static const struct {
		uint32_t ioas;
		uint64_t iova, length, mem_offset;
	} amap[] = {
		{ 1, 0x100000, 2 * MiB, 0 }, { 1, 0x300000, 2 * MiB, 2 * MiB },
		{ 2, 0x100000, 2 * MiB, 0 },
	};
	char token[] = "0123456789abcdef0123456789abcdef";
	char reclaim[] = "00112233445566778899aabbccddeeff";
	char sim[] = "sim", alpha[] = "alpha", beta[] = "beta", delta[] = "delta";
	char devname[] = "vfio-sim";

	m.version = 1;
	m.backend = sim;
	m.next_store_id = 10;
	m.next_conn_serial = 2;
	state_write("empty", &m);

	a.name = alpha;
	a.reclaim_token = reclaim;
	a.by_policy = true;
	a.next_ioas = a.next_memory = a.next_share = a.next_import = 3;
	for (int i = 0; i < 2; i++) {
		aio[i].handle = (uint32_t)i + 1;
		aio[i].id = (uint32_t)i + 11;
	}
	a.n_ioases = 2;
	a.ioases = aios;
	amem.handle = 1;
	amem.store_id = 1;
	amem.length = 4 * MiB;
	a.n_memories = 1;
	a.memories = amems;
	for (int i = 0; i < 3; i++) {
		ioasd_state__mapping__init(&am[i]);
		am[i].ioas = amap[i].ioas;
		am[i].iova = amap[i].iova;
		am[i].length = amap[i].length;
		am[i].mem_owner = alpha;
		am[i].memory = 1;
		am[i].mem_offset = amap[i].mem_offset;
		am[i].flags = READABLE;
	}
	a.n_mappings = 3;
	a.mappings = ams;
	sh.handle = 1;
	sh.ioas = 1;
	sh.iova = 0x100000;
	sh.length = 4 * MiB;
	sh.token = token;
	a.n_shares = 1;
	a.shares = shs;

	b.name = beta;
	b.reclaim_token = reclaim;
	b.by_policy = true;
	b.next_ioas = b.next_memory = b.next_share = b.next_import = 2;
	bio.handle = 1;
	bio.id = 21;
	b.n_ioases = 1;
	b.ioases = bios;
	im.handle = 1;
	im.exporter = alpha;
	im.share = 1;
	im.ioas = 1;
	im.iova = 0x1000000;
	im.offset = MiB;
	im.length = 2 * MiB;
	im.flags = READABLE;
	b.n_imports = 1;
	b.imports = ims;
	for (int i = 0; i < 2; i++) {
		ioasd_state__mapping__init(&bm[i]);
		bm[i].ioas = 1;
		bm[i].iova = 0x1000000 + (uint64_t)i * MiB;
		bm[i].length = MiB;
		bm[i].mem_owner = alpha;
		bm[i].memory = 1;
		bm[i].mem_offset = MiB + (uint64_t)i * MiB;
		bm[i].flags = READABLE;
		bm[i].has_import = true;
		bm[i].import = 1;
	}
	b.n_mappings = 2;
	b.mappings = bms;

	d.name = delta;
	d.reclaim_token = reclaim;
	d.by_policy = true;
	d.next_ioas = d.next_memory = d.next_share = d.next_import = 2;
	d.has_own_context = d.own_context = true;
	d.has_next_device = true;
	d.next_device = 2;
	dio.handle = 1;
	dio.id = 1;
	d.n_ioases = 1;
	d.ioases = dios;
	dmem.handle = 1;
	dmem.store_id = 2;
	dmem.length = 2 * MiB;
	d.n_memories = 1;
	d.memories = dmems;
	dm.ioas = 1;
	dm.iova = 0x100000;
	dm.length = 2 * MiB;
	dm.mem_owner = delta;
	dm.memory = 1;
	dm.flags = READABLE | 2u;
	d.n_mappings = 1;
	d.mappings = dms;
	dev.handle = 1;
	dev.ioas = 1;
	dev.store_id = 3;
	dev.vendor = 0x1234;
	dev.device = 0x11e8;
	dev.slot = 3;
	dev.name = devname;
	d.n_devices = 1;
	d.devices = devs;

	m.n_tenants = 3;
	m.tenants = tenants;
	state_write("share-import-device", &m);
	m.next_conn_serial = 3; /* the MAP_FILE model */
	state_write("share-import-device-map-file", &m);
	m.next_conn_serial = 2;
	/* alpha's memory fd is not in the store: its mappings, the share
	 * and beta's import go; delta stays. */
	amem.store_id = 4;
	state_write("missing-memory-fd", &m);
	amem.store_id = 1;
	/* The state that hung the daemon: beta's import misses its pieces. */
	im.iova += 16 * MiB;
	state_write("import-misses-pieces", &m);
	im.iova -= 16 * MiB;
	/* A piece that is not what the exporter maps there. */
	bm[1].mem_offset = 3 * MiB;
	state_write("piece-not-source", &m);
	bm[1].mem_offset = 2 * MiB;
	viommu_restores(&m, &d);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	if (mkdir(outdir, 0755) < 0 && errno != EEXIST) {
		perror(outdir);
		return 1;
	}
	requests();
	dispatch();
	restores();
	return 0;
}
