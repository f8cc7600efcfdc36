/* SPDX-License-Identifier: MIT */
/*
 * Batch requests (rpc/batch.c) at the protocol layer, as test-rpc.c: rpc/
 * over a session whose transport is a list in memory, the sim backend and
 * a tenant made here. The rules are those at the top of rpc/batch.c:
 * refused whole before anything runs, in order, stop at the first failure,
 * all or nothing with the tables and the backend as they were, the same
 * policy and quota checks as alone, one audit record per operation.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "proto/ioasd.pb-c.h"

#include "audit/audit.h"
#include "iommu/backend.h"
#include "policy/policy.h"
#include "proto/wire.h"
#include "rpc/rpc.h"
#include "tenant/tenant.h"
#include "tests/rpc-fake.h"

#define MAX_OPS (IOASD_MAX_BATCH + 1)
#define KiB 1024ull

static struct backend *b;
static struct tenants *ts;
static struct tenant *t;
static struct policy *pol;
static struct audit *aud;
static char audit_path[64];
static struct fake f;
static struct rpc_env env;

/* The tenant: --no-policy style, or section q of a policy (its limits). */
static const char policy_text[] =
	"[tenant q]\n"
	"MatchUser=65534\n"
	"MaxIOAS=2\n"
	"AllowedIOVA=0x100000-0x1fffff\n"
	"ExportTo=r\n"
	"\n"
	"[tenant r]\n"
	"MatchUser=1000\n"
	"ImportFrom=q\n";

static void start(bool with_policy)
{
	static const struct tenant_limits limits = {
		.max_ioas = 4, .max_memory_regions = 4, .max_mappings = 300,
		.max_region_size = 4 << 20, .max_pinned_bytes = 4 << 20,
	};
	struct tenant_limits l = limits;
	const struct policy_tenant *pt = NULL;
	struct err e = { 0 };

	ck_assert_int_eq(backend_sim_open(&b), 0);
	ts = tenants_new();
	ck_assert_ptr_nonnull(ts);
	if (with_policy) {
		ck_assert_msg(policy_parse_string("test.conf", policy_text, &pol, &e) == 0,
			      "%s", e.msg);
		pt = policy_find_tenant(pol, "q");
		ck_assert_ptr_nonnull(pt);
		l.max_ioas = pt->max_ioas;
	}
	t = tenant_new(ts, b, NULL, with_policy ? "q" : "batch-test", &l, pt);
	ck_assert_ptr_nonnull(t);
	tenant_conn_attach(t);
	memset(&f, 0, sizeof(f));
	tenant_set_journal(ts, fake_journal, &f);
	env = (struct rpc_env){ .tenants = ts, .backend = b,
				.userdata = &f, .audit = aud };
	f.s = (struct rpc_session){ .env = &env, .tp = &fake_transport, .tenant = t,
				    .serial = 1, .hello_done = true,
				    .cred = { .pid = 1, .uid = 65534, .gid = 65534 } };
}

static void setup(void)
{
	start(false);
}

static void setup_policy(void)
{
	start(true);
}

static void teardown(void)
{
	fake_free_replies(&f);
	tenant_conn_detach(t);
	tenant_free(t);
	ts = tenants_free(ts);
	backend_close(b);
	pol = policy_unref(pol);
	aud = audit_close(aud);
	if (audit_path[0])
		unlink(audit_path);
	audit_path[0] = '\0';
}

/* ------------------------------------------------------------ building */

static struct {
	Ioasd__Batch batch;
	Ioasd__BatchOp ops[MAX_OPS];
	Ioasd__BatchOp *ptrs[MAX_OPS];
	union {
		Ioasd__IoasAlloc alloc;
		Ioasd__IoasDestroy destroy;
		Ioasd__RegisterMemory reg;
		Ioasd__Map map;
		Ioasd__Unmap unmap;
		Ioasd__Copy copy;
		Ioasd__ShareExport export;
		Ioasd__Stats stats;
		Ioasd__Hello hello;
		Ioasd__MappingList mapping_list;
	} m[MAX_OPS];
	ProtobufCMessageUnknownField unknown[MAX_OPS];
	uint8_t unknown_data[4];
} bb;

static void bb_init(Ioasd__BatchMode mode)
{
	memset(&bb, 0, sizeof(bb));
	ioasd__batch__init(&bb.batch);
	bb.batch.mode = mode;
	bb.batch.ops = bb.ptrs;
}

static Ioasd__BatchOp *bb_op(Ioasd__BatchOp__OpCase op)
{
	size_t i = bb.batch.n_ops++;

	ck_assert_uint_lt(i, MAX_OPS);
	ioasd__batch_op__init(&bb.ops[i]);
	bb.ops[i].op_case = op;
	bb.ptrs[i] = &bb.ops[i];
	return &bb.ops[i];
}

static void bb_alloc(void)
{
	size_t i = bb.batch.n_ops;

	ioasd__ioas_alloc__init(&bb.m[i].alloc);
	bb_op(IOASD__BATCH_OP__OP_IOAS_ALLOC)->ioas_alloc = &bb.m[i].alloc;
}

static void bb_destroy(uint32_t ioas)
{
	size_t i = bb.batch.n_ops;

	ioasd__ioas_destroy__init(&bb.m[i].destroy);
	bb.m[i].destroy.ioas = ioas;
	bb_op(IOASD__BATCH_OP__OP_IOAS_DESTROY)->ioas_destroy = &bb.m[i].destroy;
}

static void bb_register(uint64_t length)
{
	size_t i = bb.batch.n_ops;

	ioasd__register_memory__init(&bb.m[i].reg);
	bb.m[i].reg.length = length;
	bb_op(IOASD__BATCH_OP__OP_REGISTER_MEMORY)->register_memory = &bb.m[i].reg;
}

/* iova 0: automatic. */
static void bb_map(uint32_t ioas, uint32_t mem, uint64_t off, uint64_t len,
		   uint64_t iova)
{
	size_t i = bb.batch.n_ops;
	Ioasd__Map *m = &bb.m[i].map;

	ioasd__map__init(m);
	m->ioas = ioas;
	m->memory = mem;
	m->offset = off;
	m->length = len;
	m->flags = BACKEND_MAP_READABLE | BACKEND_MAP_WRITEABLE;
	if (iova) {
		m->flags |= BACKEND_MAP_FIXED_IOVA;
		m->has_iova = true;
		m->iova = iova;
	}
	bb_op(IOASD__BATCH_OP__OP_MAP)->map = m;
}

static void bb_unmap(uint32_t ioas, uint64_t iova, uint64_t len)
{
	size_t i = bb.batch.n_ops;

	ioasd__unmap__init(&bb.m[i].unmap);
	bb.m[i].unmap.ioas = ioas;
	bb.m[i].unmap.iova = iova;
	bb.m[i].unmap.length = len;
	bb_op(IOASD__BATCH_OP__OP_UNMAP)->unmap = &bb.m[i].unmap;
}

static void bb_copy(uint32_t dst, uint32_t src, uint64_t src_iova, uint64_t len)
{
	size_t i = bb.batch.n_ops;
	Ioasd__Copy *c = &bb.m[i].copy;

	ioasd__copy__init(c);
	c->src_ioas = src;
	c->dst_ioas = dst;
	c->src_iova = src_iova;
	c->length = len;
	c->flags = BACKEND_MAP_READABLE | BACKEND_MAP_WRITEABLE;
	bb_op(IOASD__BATCH_OP__OP_COPY)->copy = c;
}

static void bb_export(uint32_t ioas, uint64_t iova, uint64_t len)
{
	size_t i = bb.batch.n_ops;

	ioasd__share_export__init(&bb.m[i].export);
	bb.m[i].export.ioas = ioas;
	bb.m[i].export.iova = iova;
	bb.m[i].export.length = len;
	bb_op(IOASD__BATCH_OP__OP_SHARE_EXPORT)->share_export = &bb.m[i].export;
}

/* An operation with only an unknown field: tag (length-prefixed, empty). */
static void bb_unknown(uint32_t tag)
{
	size_t i = bb.batch.n_ops;
	Ioasd__BatchOp *op = bb_op(IOASD__BATCH_OP__OP__NOT_SET);

	/* The data after the tag: a length-prefixed field's length (0). */
	bb.unknown[i] = (ProtobufCMessageUnknownField){
		.tag = tag, .wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED,
		.len = 1, .data = bb.unknown_data,
	};
	op->base.n_unknown_fields = 1;
	op->base.unknown_fields = &bb.unknown[i];
}

static uint64_t next_id = 100;

/* Send the batch built with fds; its one reply. */
static Ioasd__Response *run(int *fds, size_t nfds)
{
	static uint8_t buf[IOASD_MAX_DATAGRAM];
	Ioasd__Request req = IOASD__REQUEST__INIT;
	size_t len, before = f.n;

	req.id = next_id++;
	req.op_case = IOASD__REQUEST__OP_BATCH;
	req.batch = &bb.batch;
	len = ioasd__request__get_packed_size(&req);
	ck_assert_uint_le(len, sizeof(buf));
	ioasd__request__pack(&req, buf);
	rpc_handle_datagram(&f.s, buf, len, fds, nfds);
	ck_assert_uint_eq(f.n, before + 1);
	ck_assert_msg(f.replies[f.n - 1]->id == req.id, "%s", f.replies[f.n - 1]->message);
	return f.replies[f.n - 1];
}

/* A refusal of the whole batch: errno, a reason containing what, no
 * results, nothing changed. */
static void assert_refused(const Ioasd__Response *r, int errnum, const char *what)
{
	ck_assert_int_eq(r->error, errnum);
	ck_assert_ptr_nonnull(r->message);
	ck_assert_msg(strstr(r->message, what), "\"%s\" lacks \"%s\"", r->message, what);
	ck_assert_int_eq(r->result_case, IOASD__RESPONSE__RESULT__NOT_SET);
}

static const Ioasd__BatchResult *result(const Ioasd__Response *r, size_t i)
{
	ck_assert_int_eq(r->result_case, IOASD__RESPONSE__RESULT_BATCH);
	ck_assert_uint_lt(i, r->batch->n_results);
	return r->batch->results[i];
}

static int sealed_memfd(uint64_t size)
{
	int fd = memfd_create("batch-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
	ck_assert_int_eq(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), 0);
	return fd;
}

static int fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void assert_consistent(void)
{
	struct err e = { 0 };

	ck_assert_msg(tenant_check(t, &e) == 0, "%s", e.msg);
}

/* What a tenant holds, all of it (whoami's counts, the daemon's totals). */
struct holdings {
	struct tenant_usage u;
	struct tenant_totals tot;
	bool shares;
};

static void holdings(struct holdings *h)
{
	struct tenant_share_info si;

	memset(h, 0, sizeof(*h));
	tenant_get_usage(t, &h->u);
	tenant_get_totals(ts, &h->tot);
	h->shares = tenant_share_next(t, NULL, &si) != NULL;
}

static void assert_same_holdings(const struct holdings *a)
{
	struct holdings now;

	holdings(&now);
	ck_assert_uint_eq(now.u.ioas, a->u.ioas);
	ck_assert_uint_eq(now.u.memory_regions, a->u.memory_regions);
	ck_assert_uint_eq(now.u.mappings, a->u.mappings);
	ck_assert_uint_eq(now.u.mapped_bytes, a->u.mapped_bytes);
	ck_assert_uint_eq(now.u.pinned_bytes, a->u.pinned_bytes);
	ck_assert_uint_eq(now.tot.ioas, a->tot.ioas);
	ck_assert_uint_eq(now.tot.mappings, a->tot.mappings);
	ck_assert_uint_eq(now.tot.pinned_bytes, a->tot.pinned_bytes);
	ck_assert_int_eq(now.shares, a->shares);
	assert_consistent();
}

/* One IOAS and one 64 KiB region, made alone (not in a batch). */
static void ioas_and_memory(uint32_t *ioas, uint32_t *mem)
{
	const struct memory_region *region;
	struct err e = { 0 };
	int fd = sealed_memfd(64 * KiB);

	ck_assert_msg(tenant_ioas_alloc(t, ioas, &e) == 0, "%s", e.msg);
	ck_assert_msg(tenant_memory_register(t, &fd, 0, 64 * KiB, mem, &region, &e) == 0,
		      "%s", e.msg);
	ck_assert_int_eq(fd, -1);
}

/* ------------------------------------------------------------ rules */

/* Rule: operations run in order, each with its result (its own reply's
 * body), each change reported to the journal (the transport commits once
 * for all of them). */
START_TEST(ordered_results)
{
	const Ioasd__Response *r;
	uint32_t ioas, mem;
	unsigned c0 = f.commits;

	ioas_and_memory(&ioas, &mem);
	bb_init(IOASD__BATCH_MODE__BATCH_MODE_STOP);
	bb_alloc();
	bb_map(ioas, mem, 0, 4 * KiB, 0x100000);
	bb_map(ioas, mem, 4 * KiB, 4 * KiB, 0);
	bb_unmap(ioas, 0x100000, 4 * KiB);
	bb_map(ioas, mem, 8 * KiB, 4 * KiB, 0x100000);  /* the hole the unmap left */
	bb_copy(ioas + 1, ioas, 0x100000, 4 * KiB);     /* into the IOAS op 0 made */
	r = run(NULL, 0);
	ck_assert_int_eq(r->error, 0);
	ck_assert_uint_eq(r->batch->n_results, 6);
	for (size_t i = 0; i < 6; i++)
		ck_assert_int_eq(result(r, i)->error, 0);
	ck_assert_int_eq(result(r, 0)->result_case, IOASD__BATCH_RESULT__RESULT_IOAS_ALLOC);
	ck_assert_uint_eq(result(r, 0)->ioas_alloc->ioas, ioas + 1);
	ck_assert_uint_eq(result(r, 1)->map->iova, 0x100000);
	ck_assert_uint_ne(result(r, 2)->map->iova, 0x100000);
	ck_assert_uint_eq(result(r, 3)->unmap->unmapped, 4 * KiB);
	ck_assert_uint_eq(result(r, 4)->map->iova, 0x100000);
	ck_assert_int_eq(result(r, 5)->result_case, IOASD__BATCH_RESULT__RESULT_COPY);
	ck_assert_uint_gt(f.commits, c0);
	assert_consistent();
}
END_TEST

/* Rule: the first failure stops the batch; what ran stays, what follows is
 * not run (ECANCELED, not rolled back); the reply's error is the failure's
 * and its message names the operation. */
START_TEST(stop_at_first_failure)
{
	const Ioasd__Response *r;
	struct tenant_usage u;
	uint32_t ioas, mem;

	ioas_and_memory(&ioas, &mem);
	bb_init(IOASD__BATCH_MODE__BATCH_MODE_STOP);
	bb_map(ioas, mem, 0, 4 * KiB, 0x100000);
	bb_map(ioas, mem, 0, 4 * KiB, 0x100000);   /* EEXIST */
	bb_map(ioas, mem, 4 * KiB, 4 * KiB, 0x200000);
	bb_alloc();
	r = run(NULL, 0);
	ck_assert_int_eq(r->error, EEXIST);
	ck_assert_ptr_nonnull(strstr(r->message, "batch op 1 (Map)"));
	ck_assert_uint_eq(r->batch->n_results, 4);
	ck_assert_int_eq(result(r, 0)->error, 0);
	ck_assert_uint_eq(result(r, 0)->map->iova, 0x100000);
	ck_assert_int_eq(result(r, 1)->error, EEXIST);
	ck_assert_ptr_nonnull(result(r, 1)->message);
	for (size_t i = 2; i < 4; i++) {
		ck_assert_int_eq(result(r, i)->error, ECANCELED);
		ck_assert(!result(r, i)->rolled_back);
		ck_assert_int_eq(result(r, i)->result_case, IOASD__BATCH_RESULT__RESULT__NOT_SET);
	}
	tenant_get_usage(t, &u);
	ck_assert_uint_eq(u.mappings, 1);
	ck_assert_uint_eq(u.ioas, 1);
	assert_consistent();
}
END_TEST

/* Rule: all or nothing. A failure undoes every operation before it, in
 * reverse order: the tables, the backend (tenant_check), the fds and the
 * automatic IOVAs the backend would choose are as before the batch. */
START_TEST(atomic_rolls_back)
{
	struct holdings before;
	const Ioasd__Response *r;
	uint32_t ioas, mem, first;
	uint64_t iova = 0, unmapped;
	struct err e = { 0 };
	int fds[1], nfds0;

	ioas_and_memory(&ioas, &mem);
	/* Where the backend puts an automatic map now. */
	ck_assert_msg(tenant_map(t, ioas, mem, 0, 4 * KiB, BACKEND_MAP_READABLE, &iova,
				 &e) == 0, "%s", e.msg);
	ck_assert_msg(tenant_unmap(t, ioas, iova, 4 * KiB, &unmapped, &e) == 0, "%s", e.msg);
	holdings(&before);
	nfds0 = fd_count();
	fds[0] = sealed_memfd(64 * KiB);
	bb_init(IOASD__BATCH_MODE__BATCH_MODE_ATOMIC);
	bb_alloc();                                          /* 0 */
	bb_register(64 * KiB);                               /* 1: fds[0] */
	bb_map(ioas, mem, 0, 4 * KiB, 0);                    /* 2: automatic */
	bb_map(ioas, mem + 1, 0, 8 * KiB, 0x180000);         /* 3: the new region */
	bb_copy(ioas + 1, ioas, 0x180000, 8 * KiB);          /* 4: into op 0's IOAS */
	bb_export(ioas, 0x180000, 8 * KiB);                  /* 5 */
	bb_map(ioas, mem, 0, 4 * KiB, 0x180000);             /* 6: EEXIST */
	bb_alloc();                                          /* 7: not run */
	r = run(fds, 1);
	ck_assert_msg(r->error == EEXIST, "%s", r->message);
	ck_assert_msg(strstr(r->message, "batch op 6 (Map)") &&
		      strstr(r->message, "6 operation(s) before it were undone"),
		      "%s", r->message);
	for (size_t i = 0; i < 6; i++) {
		ck_assert_int_eq(result(r, i)->error, ECANCELED);
		ck_assert(result(r, i)->rolled_back);
		ck_assert_int_eq(result(r, i)->result_case,
				 IOASD__BATCH_RESULT__RESULT__NOT_SET);
	}
	ck_assert_int_eq(result(r, 6)->error, EEXIST);
	ck_assert_int_eq(result(r, 7)->error, ECANCELED);
	ck_assert(!result(r, 7)->rolled_back);
	assert_same_holdings(&before);
	/* The region's fd went with its undoing. */
	ck_assert_int_eq(fd_count(), nfds0);
	/* The backend puts an automatic map where it did before the batch:
	 * nothing of the batch is left in the way. */
	bb_init(IOASD__BATCH_MODE__BATCH_MODE_STOP);
	bb_map(ioas, mem, 0, 4 * KiB, 0);
	r = run(NULL, 0);
	ck_assert_int_eq(r->error, 0);
	ck_assert_uint_eq(result(r, 0)->map->iova, iova);
	/* Handles are never given out twice, undone or not. */
	ck_assert_msg(tenant_ioas_alloc(t, &first, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(first, ioas + 2);
}
END_TEST

/* Rule: an all-or-nothing batch refuses, before running anything, an
 * operation that cannot be undone exactly, and says why. */
START_TEST(atomic_refuses_what_cannot_be_undone)
{
	struct holdings before;
	const Ioasd__Response *r;
	uint32_t ioas, mem;

	ioas_and_memory(&ioas, &mem);
	holdings(&before);
	bb_init(IOASD__BATCH_MODE__BATCH_MODE_ATOMIC);
	bb_map(ioas, mem, 0, 4 * KiB, 0x100000);
	bb_unmap(ioas, 0x100000, 4 * KiB);
	r = run(NULL, 0);
	assert_refused(r, EINVAL, "batch op 1: Unmap cannot be in an all-or-nothing batch");
	ck_assert_ptr_nonnull(strstr(r->message, "pinned anew"));
	bb_init(IOASD__BATCH_MODE__BATCH_MODE_ATOMIC);
	bb_alloc();
	bb_destroy(ioas);
	assert_refused(run(NULL, 0), EINVAL, "IoasDestroy cannot be in an all-or-nothing");
	assert_same_holdings(&before);
	/* The same operations are fine in a batch that stops. */
	bb_init(IOASD__BATCH_MODE__BATCH_MODE_STOP);
	bb_map(ioas, mem, 0, 4 * KiB, 0x100000);
	bb_unmap(ioas, 0x100000, 4 * KiB);
	ck_assert_int_eq(run(NULL, 0)->error, 0);
}
END_TEST

/* Rule: at most IOASD_MAX_BATCH operations (E2BIG, saying the limit);
 * exactly that many is fine. */
START_TEST(too_many_operations)
{
	const Ioasd__Response *r;
	struct tenant_usage u;
	uint32_t ioas, mem;
	char limit[32];

	ioas_and_memory(&ioas, &mem);
	bb_init(IOASD__BATCH_MODE__BATCH_MODE_STOP);
	for (unsigned i = 0; i < IOASD_MAX_BATCH + 1; i++)
		bb_map(ioas, mem, 0, 4 * KiB, 0);
	r = run(NULL, 0);
	snprintf(limit, sizeof(limit), "at most %u", IOASD_MAX_BATCH);
	assert_refused(r, E2BIG, limit);
	tenant_get_usage(t, &u);
	ck_assert_uint_eq(u.mappings, 0);
	bb.batch.n_ops = IOASD_MAX_BATCH;
	r = run(NULL, 0);
	ck_assert_int_eq(r->error, 0);
	ck_assert_uint_eq(r->batch->n_results, IOASD_MAX_BATCH);
	tenant_get_usage(t, &u);
	ck_assert_uint_eq(u.mappings, IOASD_MAX_BATCH);
	assert_consistent();
}
END_TEST

/* Rule: malformed batches are refused whole, with a reason: empty, an
 * unknown mode, an operation that names none, an unknown one, one that is
 * not batched (Hello, a read), a nested batch. */
START_TEST(malformed)
{
	struct holdings before;

	holdings(&before);
	bb_init(IOASD__BATCH_MODE__BATCH_MODE_STOP);
	assert_refused(run(NULL, 0), EINVAL, "empty batch");

	bb_init((Ioasd__BatchMode)7);
	bb_alloc();
	assert_refused(run(NULL, 0), EINVAL, "unknown batch mode 7");

	bb_init(IOASD__BATCH_MODE__BATCH_MODE_STOP);
	bb_alloc();
	bb_op(IOASD__BATCH_OP__OP__NOT_SET);
	assert_refused(run(NULL, 0), EINVAL, "batch op 1 names no operation");

	bb_init(IOASD__BATCH_MODE__BATCH_MODE_STOP);
	bb_alloc();
	bb_unknown(45);
	assert_refused(run(NULL, 0), EOPNOTSUPP, "batch op 1: unknown operation (field 45)");

	bb_init(IOASD__BATCH_MODE__BATCH_MODE_STOP);
	bb_unknown(IOASD__REQUEST__OP_BATCH);
	assert_refused(run(NULL, 0), EINVAL, "batches do not nest");

	bb_init(IOASD__BATCH_MODE__BATCH_MODE_STOP);
	bb_alloc();
	ioasd__stats__init(&bb.m[1].stats);
	bb_op(IOASD__BATCH_OP__OP_STATS)->stats = &bb.m[1].stats;
	assert_refused(run(NULL, 0), EINVAL, "batch op 1: Stats is not batched: it changes nothing");

	bb_init(IOASD__BATCH_MODE__BATCH_MODE_STOP);
	bb_alloc();
	ioasd__mapping_list__init(&bb.m[1].mapping_list);
	bb.m[1].mapping_list.ioas = 1;
	bb_op(IOASD__BATCH_OP__OP_MAPPING_LIST)->mapping_list = &bb.m[1].mapping_list;
	assert_refused(run(NULL, 0), EINVAL, "batch op 1: MappingList is not batched: it changes nothing");

	bb_init(IOASD__BATCH_MODE__BATCH_MODE_STOP);
	ioasd__hello__init(&bb.m[0].hello);
	bb.m[0].hello.version = IOASD_PROTOCOL_VERSION;
	bb_op(IOASD__BATCH_OP__OP_HELLO)->hello = &bb.m[0].hello;
	assert_refused(run(NULL, 0), EINVAL, "Hello is not batched");
	assert_same_holdings(&before);
}
END_TEST

/* Rule: the batch carries one fd for each operation that takes one, in
 * order; any other count refuses it whole (EBADMSG) and every fd that came
 * with it is closed. */
START_TEST(fds_counted_and_closed)
{
	struct holdings before;
	const Ioasd__Response *r;
	int n0 = fd_count(), fds[2];

	holdings(&before);
	bb_init(IOASD__BATCH_MODE__BATCH_MODE_STOP);
	bb_register(64 * KiB);
	bb_register(64 * KiB);
	fds[0] = sealed_memfd(64 * KiB);
	assert_refused(run(fds, 1), EBADMSG, "take 2 fd(s)");
	ck_assert_int_eq(fds[0], -1);

	bb_init(IOASD__BATCH_MODE__BATCH_MODE_STOP);
	bb_alloc();
	fds[0] = sealed_memfd(64 * KiB);
	assert_refused(run(fds, 1), EBADMSG, "take 0 fd(s)");
	ck_assert_int_eq(fd_count(), n0);
	assert_same_holdings(&before);

	/* In order: the second register gets the second fd; the first
	 * one's failure (not sealed) stops the batch, and both fds are
	 * closed all the same. */
	bb_init(IOASD__BATCH_MODE__BATCH_MODE_STOP);
	bb_register(64 * KiB);
	bb_register(64 * KiB);
	fds[0] = memfd_create("unsealed", MFD_CLOEXEC);
	ck_assert_int_ge(fds[0], 0);
	ck_assert_int_eq(ftruncate(fds[0], 64 * KiB), 0);
	fds[1] = sealed_memfd(64 * KiB);
	r = run(fds, 2);
	ck_assert_int_eq(r->error, EPERM);
	ck_assert_int_eq(result(r, 1)->error, ECANCELED);
	ck_assert_int_eq(fd_count(), n0);
	bb_init(IOASD__BATCH_MODE__BATCH_MODE_STOP);
	bb_register(64 * KiB);
	bb_register(32 * KiB);
	fds[0] = sealed_memfd(64 * KiB);
	fds[1] = sealed_memfd(32 * KiB);
	r = run(fds, 2);
	ck_assert_int_eq(r->error, 0);
	ck_assert_uint_eq(result(r, 0)->register_memory->length, 64 * KiB);
	ck_assert_uint_eq(result(r, 1)->register_memory->length, 32 * KiB);
	ck_assert_int_eq(fd_count(), n0 + 2);  /* the tenant's two */
}
END_TEST

/* Rule: inside a batch, each operation meets the checks it meets alone:
 * the quota (MaxIOAS) and AllowedIOVA refuse it citing the policy line. */
START_TEST(policy_inside_batch)
{
	const Ioasd__Response *r;
	uint32_t ioas, mem;

	ioas_and_memory(&ioas, &mem);
	bb_init(IOASD__BATCH_MODE__BATCH_MODE_STOP);
	bb_alloc();
	bb_alloc();                                   /* MaxIOAS=2: ENOSPC */
	r = run(NULL, 0);
	ck_assert_int_eq(r->error, ENOSPC);
	ck_assert_msg(strstr(result(r, 1)->message, "test.conf:3"), "%s",
		      result(r, 1)->message);
	ck_assert_ptr_nonnull(strstr(r->message, "batch op 1 (IoasAlloc)"));

	bb_init(IOASD__BATCH_MODE__BATCH_MODE_ATOMIC);
	bb_map(ioas, mem, 0, 4 * KiB, 0x100000);
	bb_map(ioas, mem, 0, 4 * KiB, 0x300000);      /* outside AllowedIOVA */
	r = run(NULL, 0);
	ck_assert_int_eq(r->error, EPERM);
	ck_assert_msg(strstr(result(r, 1)->message, "test.conf:4"), "%s",
		      result(r, 1)->message);
	ck_assert(result(r, 0)->rolled_back);
	assert_consistent();
}
END_TEST

static char *read_all(const char *path)
{
	FILE *fp = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;

	ck_assert_ptr_nonnull(fp);
	ck_assert_int_ge(getdelim(&buf, &len, '\0', fp), 0);
	fclose(fp);
	return buf;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* Rule: one audit record per operation, with the batch (the request's id)
 * and the operation's index; the undoing of each is recorded too, as the
 * operation that undid it, with rollback. A batch refused whole is one
 * "Batch" record. */
START_TEST(audit_per_operation)
{
	struct audit_config cfg = { .owner = (uid_t)-1 };
	const Ioasd__Response *r;
	uint32_t ioas, mem;
	char want[128];
	_cleanup_free_ char *text = NULL;
	int fd;

	strcpy(audit_path, "/tmp/ioasd-batch-audit.XXXXXX");
	fd = mkstemp(audit_path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	cfg.path = audit_path;
	ck_assert_int_eq(audit_open(&cfg, &aud, NULL), 0);
	env.audit = aud;
	ioas_and_memory(&ioas, &mem);

	bb_init(IOASD__BATCH_MODE__BATCH_MODE_ATOMIC);
	bb_alloc();
	bb_map(ioas, mem, 0, 4 * KiB, 0x100000);
	bb_map(ioas, mem, 0, 4 * KiB, 0x100000);   /* EEXIST */
	r = run(NULL, 0);
	ck_assert_int_eq(r->error, EEXIST);
	bb_init(IOASD__BATCH_MODE__BATCH_MODE_STOP);
	r = run(NULL, 0);                           /* empty: refused whole */
	ck_assert_int_eq(r->error, EINVAL);

	text = read_all(audit_path);
	snprintf(want, sizeof(want), "\"batch\":%llu,", (unsigned long long)r->id - 1);
	ck_assert_uint_eq(count(text, want), 5);
	ck_assert_uint_eq(count(text, "\"op\":\"IoasAlloc\",\"result\":\"allowed\""), 1);
	ck_assert_uint_eq(count(text, "\"op\":\"Map\",\"result\":\"allowed\""), 1);
	ck_assert_uint_eq(count(text, "\"op\":\"Map\",\"result\":\"refused\""), 1);
	ck_assert_uint_eq(count(text, "\"batch_index\":1,\"rollback\":true"), 1);
	ck_assert_uint_eq(count(text, "\"batch_index\":0,\"rollback\":true"), 1);
	ck_assert_uint_eq(count(text, "\"op\":\"Unmap\",\"result\":\"allowed\""), 1);
	ck_assert_uint_eq(count(text, "\"op\":\"IoasDestroy\",\"result\":\"allowed\""), 1);
	ck_assert_uint_eq(count(text, "\"op\":\"Batch\",\"result\":\"refused\""), 1);
	ck_assert_uint_eq(count(text, "\n"), 6);
}
END_TEST

/* Rule: BatchOp mirrors Request: each of its operations has the number
 * and message of the Request's field of the same name (the daemon makes
 * one into the other), and the Request's batch is not among them. */
START_TEST(batch_op_mirrors_request)
{
	const ProtobufCMessageDescriptor *bd = &ioasd__batch_op__descriptor;
	const ProtobufCMessageDescriptor *rd = &ioasd__request__descriptor;
	unsigned mirrored = 0;

	for (unsigned i = 0; i < bd->n_fields; i++) {
		const ProtobufCFieldDescriptor *bf = &bd->fields[i];
		const ProtobufCFieldDescriptor *rf =
			protobuf_c_message_descriptor_get_field_by_name(rd, bf->name);

		ck_assert_msg(rf, "BatchOp.%s is no Request field", bf->name);
		ck_assert_uint_eq(rf->id, bf->id);
		ck_assert_ptr_eq(rf->descriptor, bf->descriptor);
		mirrored++;
	}
	ck_assert_uint_eq(mirrored + 1, rd->n_fields - 1); /* not id, not batch */
	ck_assert_ptr_null(protobuf_c_message_descriptor_get_field_by_name(bd, "batch"));
	/* And each result the Response's of the same number. */
	bd = &ioasd__batch_result__descriptor;
	rd = &ioasd__response__descriptor;
	for (unsigned i = 0; i < bd->n_fields; i++) {
		const ProtobufCFieldDescriptor *bf = &bd->fields[i];
		const ProtobufCFieldDescriptor *rf;

		if (!(bf->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
			continue;
		rf = protobuf_c_message_descriptor_get_field(rd, bf->id);
		ck_assert_msg(rf && rf->descriptor == bf->descriptor,
			      "BatchResult.%s is not the Response's field %u", bf->name, bf->id);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("batch");
	TCase *tc = tcase_create("batch"), *tp = tcase_create("policy");
	SRunner *sr;
	int failed;

	signal(SIGPIPE, SIG_IGN);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, ordered_results);
	tcase_add_test(tc, stop_at_first_failure);
	tcase_add_test(tc, atomic_refuses_what_cannot_be_undone);
	tcase_add_test(tc, too_many_operations);
	tcase_add_test(tc, malformed);
	tcase_add_test(tc, fds_counted_and_closed);
	tcase_add_test(tc, audit_per_operation);
	tcase_add_test(tc, batch_op_mirrors_request);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tp, setup_policy, teardown);
	tcase_add_test(tp, policy_inside_batch);
	tcase_add_test(tp, atomic_rolls_back);
	suite_add_tcase(s, tp);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
