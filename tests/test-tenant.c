/* SPDX-License-Identifier: MIT */
/* Tenant tables on the sim backend: handles, mapping mirror, pinned-bytes
 * accounting (once per page range of the owner's memory), limits, teardown. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string.h>

#include "iommu/backend.h"
#include "policy/policy.h"
#include "tenant/tenant.h"

#define MiB (1ull << 20)

static struct backend *b;
static struct tenants *ts;

static const struct tenant_limits big = {
	.max_ioas = 16,
	.max_memory_regions = 16,
	.max_mappings = 1024,
	.max_region_size = 1ull << 30,
	.max_pinned_bytes = 1ull << 30,
};

static void setup(void)
{
	ck_assert_int_eq(backend_sim_open(&b), 0);
	ts = tenants_new();
	ck_assert_ptr_nonnull(ts);
}

static void teardown(void)
{
	ts = tenants_free(ts);
	b = backend_close(b);
}

static int sealed_memfd(uint64_t size)
{
	int fd = memfd_create("test-tenant", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
	ck_assert_int_eq(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
	return fd;
}

static uint32_t reg(struct tenant *t, uint64_t size)
{
	struct err e = { 0 };
	uint32_t h;
	int fd = sealed_memfd(size);

	ck_assert_msg(tenant_memory_register(t, &fd, 0, size, &h, NULL, &e) == 0,
		      "%s", e.msg);
	ck_assert_int_eq(fd, -1); /* taken */
	return h;
}

static uint32_t ioas(struct tenant *t)
{
	struct err e = { 0 };
	uint32_t h;

	ck_assert_msg(tenant_ioas_alloc(t, &h, &e) == 0, "%s", e.msg);
	return h;
}

static uint64_t map_fixed(struct tenant *t, uint32_t io, uint32_t mem,
			  uint64_t off, uint64_t len, uint64_t iova)
{
	struct err e = { 0 };
	uint64_t v = iova;

	ck_assert_msg(tenant_map(t, io, mem, off, len,
				 BACKEND_MAP_FIXED_IOVA | BACKEND_MAP_READABLE |
					 BACKEND_MAP_WRITEABLE,
				 &v, &e) == 0,
		      "%s", e.msg);
	return v;
}

static void assert_consistent(struct tenant *t)
{
	struct err e = { 0 };

	ck_assert_msg(tenant_check(t, &e) == 0, "%s", e.msg);
}

/* Handles are per tenant, start at 1 and are never reused. */
START_TEST(handles_are_local_and_not_reused)
{
	struct tenant *a = tenant_new(ts, b, NULL, "a", &big, NULL), *c = tenant_new(ts, b, NULL, "c", &big, NULL);
	struct err e = { 0 };
	uint32_t h1 = ioas(a), h2;

	ck_assert_uint_eq(h1, 1);
	ck_assert_uint_eq(ioas(c), 1);
	ck_assert_int_eq(tenant_ioas_destroy(a, h1, &e), 0);
	h2 = ioas(a);
	ck_assert_uint_eq(h2, 2);
	ck_assert_int_eq(tenant_ioas_destroy(a, h1, &e), -ENOENT);
	ck_assert_int_eq(e.errnum, ENOENT);
	tenant_free(a);
	tenant_free(c);
}
END_TEST

/* The same memory mapped into two IOASes and copied into a third is charged
 * once; it stays charged until the last mapping of each byte is gone. */
START_TEST(pinned_once_per_range)
{
	struct tenant *t = tenant_new(ts, b, NULL, "t", &big, NULL);
	struct tenant_usage u;
	struct err e = { 0 };
	uint32_t mem = reg(t, 4 * MiB), i1 = ioas(t), i2 = ioas(t), i3 = ioas(t);
	uint64_t dst = 0, n;

	map_fixed(t, i1, mem, 0, 2 * MiB, 0x100000);
	map_fixed(t, i2, mem, 1 * MiB, 2 * MiB, 0x100000);
	tenant_get_usage(t, &u);
	ck_assert_uint_eq(u.pinned_bytes, 3 * MiB);
	ck_assert_uint_eq(u.mapped_bytes, 4 * MiB);
	ck_assert_int_eq(tenant_copy(t, i1, 0x100000, 2 * MiB, i3,
				     BACKEND_MAP_READABLE, &dst, &e), 0);
	tenant_get_usage(t, &u);
	ck_assert_uint_eq(u.pinned_bytes, 3 * MiB);
	ck_assert_uint_eq(u.mappings, 3);
	ck_assert_int_eq(tenant_unmap(t, i1, 0, UINT64_MAX, &n, &e), 0);
	ck_assert_uint_eq(n, 2 * MiB);
	tenant_get_usage(t, &u);
	ck_assert_uint_eq(u.pinned_bytes, 3 * MiB); /* i3 still holds [0,2M) */
	ck_assert_int_eq(tenant_unmap(t, i3, 0, UINT64_MAX, &n, &e), 0);
	tenant_get_usage(t, &u);
	ck_assert_uint_eq(u.pinned_bytes, 2 * MiB);
	assert_consistent(t);
	tenant_free(t);
}
END_TEST

/* Kernel: UNMAP must cover whole areas (iopt_unmap_iova_range -> ENOENT).
 * The daemon refuses before the kernel could remove earlier areas. */
START_TEST(unmap_split_refused_without_effect)
{
	struct tenant *t = tenant_new(ts, b, NULL, "t", &big, NULL);
	struct tenant_usage u;
	struct err e = { 0 };
	uint32_t mem = reg(t, 4 * MiB), io = ioas(t);
	uint64_t n = 0;

	map_fixed(t, io, mem, 0, 1 * MiB, 0x100000);
	map_fixed(t, io, mem, 1 * MiB, 1 * MiB, 0x200000);
	/* Covers the first whole and half of the second. */
	ck_assert_int_eq(tenant_unmap(t, io, 0x100000, 0x180000, &n, &e), -ENOENT);
	tenant_get_usage(t, &u);
	ck_assert_uint_eq(u.mappings, 2);
	ck_assert_int_eq(tenant_unmap(t, io, 0x0, 0x100000, &n, &e), -ENOENT);
	ck_assert_int_eq(tenant_unmap(t, io, 0x100000, 0x200000, &n, &e), 0);
	ck_assert_uint_eq(n, 2 * MiB);
	assert_consistent(t);
	tenant_free(t);
}
END_TEST

/* Kernel: a copy makes one destination area per source area it spans. */
START_TEST(copy_keeps_source_area_boundaries)
{
	struct tenant *t = tenant_new(ts, b, NULL, "t", &big, NULL);
	struct tenant_usage u;
	struct err e = { 0 };
	uint32_t mem = reg(t, 4 * MiB), s = ioas(t), d = ioas(t);
	uint64_t dst = 0x400000, n;

	map_fixed(t, s, mem, 0, 1 * MiB, 0x100000);
	map_fixed(t, s, mem, 1 * MiB, 1 * MiB, 0x200000);
	ck_assert_int_eq(tenant_copy(t, s, 0x180000, 0x100000, d,
				     BACKEND_MAP_FIXED_IOVA | BACKEND_MAP_READABLE,
				     &dst, &e), 0);
	tenant_get_usage(t, &u);
	ck_assert_uint_eq(u.mappings, 4);
	/* The two pieces can be unmapped one at a time. */
	ck_assert_int_eq(tenant_unmap(t, d, 0x400000, 0x80000, &n, &e), 0);
	ck_assert_uint_eq(n, 0x80000);
	ck_assert_int_eq(tenant_unmap(t, d, 0x480000, 0x80000, &n, &e), 0);
	/* A hole in the source: ENOENT, nothing recorded. */
	dst = 0;
	ck_assert_int_eq(tenant_copy(t, s, 0x0, 0x200000, d, BACKEND_MAP_READABLE,
				     &dst, &e), -ENOENT);
	assert_consistent(t);
	tenant_free(t);
}
END_TEST

START_TEST(unregister_busy_while_mapped)
{
	struct tenant *t = tenant_new(ts, b, NULL, "t", &big, NULL);
	struct err e = { 0 };
	uint32_t mem = reg(t, 1 * MiB), io = ioas(t);
	uint64_t n;

	map_fixed(t, io, mem, 0, 1 * MiB, 0x100000);
	ck_assert_int_eq(tenant_memory_unregister(t, mem, &e), -EBUSY);
	ck_assert_int_eq(tenant_unmap(t, io, 0x100000, 1 * MiB, &n, &e), 0);
	ck_assert_int_eq(tenant_memory_unregister(t, mem, &e), 0);
	ck_assert_int_eq(tenant_memory_unregister(t, mem, &e), -ENOENT);
	tenant_free(t);
}
END_TEST

/* Each limit refuses exactly at its boundary with its own errno. */
START_TEST(limits_at_boundary)
{
	struct tenant_limits l = {
		.max_ioas = 2,
		.max_memory_regions = 1,
		.max_mappings = 2,
		.max_region_size = 4 * MiB,
		.max_pinned_bytes = 2 * MiB,
	};
	struct tenant *t = tenant_new(ts, b, NULL, "t", &l, NULL);
	struct err e = { 0 };
	uint32_t h, io, mem;
	uint64_t v;
	int fd;

	io = ioas(t);
	ioas(t);
	ck_assert_int_eq(tenant_ioas_alloc(t, &h, &e), -ENOSPC);
	mem = reg(t, 4 * MiB);
	fd = sealed_memfd(MiB);
	ck_assert_int_eq(tenant_memory_register(t, &fd, 0, MiB, &h, NULL, &e), -ENOSPC);
	ck_assert_int_ge(fd, 0);
	close(fd);
	map_fixed(t, io, mem, 0, MiB, 0x100000);
	map_fixed(t, io, mem, MiB, MiB, 0x200000); /* exactly 2 MiB pinned */
	v = 0x300000;
	ck_assert_int_eq(tenant_map(t, io, mem, 0, MiB,
				    BACKEND_MAP_FIXED_IOVA | BACKEND_MAP_READABLE,
				    &v, &e), -ENOSPC); /* mapping count first */
	ck_assert_int_eq(tenant_unmap(t, io, 0x200000, MiB, &v, &e), 0);
	v = 0x300000;
	ck_assert_int_eq(tenant_map(t, io, mem, 2 * MiB, 2 * MiB,
				    BACKEND_MAP_FIXED_IOVA | BACKEND_MAP_READABLE,
				    &v, &e), -EDQUOT);
	/* Re-mapping already pinned bytes costs nothing. */
	map_fixed(t, io, mem, 0, MiB, 0x300000);
	assert_consistent(t);
	tenant_free(t);
}
END_TEST

START_TEST(map_argument_checks)
{
	struct tenant *t = tenant_new(ts, b, NULL, "t", &big, NULL);
	struct err e = { 0 };
	uint32_t mem = reg(t, MiB), io = ioas(t);
	uint64_t v = 0;

	ck_assert_int_eq(tenant_map(t, io, mem, 0, 0, BACKEND_MAP_READABLE, &v, &e), -EINVAL);
	ck_assert_int_eq(tenant_map(t, io, mem, UINT64_MAX - 10, 4096, BACKEND_MAP_READABLE, &v, &e), -EOVERFLOW);
	ck_assert_int_eq(tenant_map(t, io, mem, 0, 2 * MiB, BACKEND_MAP_READABLE, &v, &e), -EINVAL);
	ck_assert_int_eq(tenant_map(t, io, mem, 0, MiB, 1u << 7, &v, &e), -EOPNOTSUPP);
	ck_assert_int_eq(tenant_map(t, 99, mem, 0, MiB, BACKEND_MAP_READABLE, &v, &e), -ENOENT);
	ck_assert_int_eq(tenant_map(t, io, 99, 0, MiB, BACKEND_MAP_READABLE, &v, &e), -ENOENT);
	/* Kernel order: flags before the object, access bits before the object. */
	ck_assert_int_eq(tenant_map(t, 99, mem, 0, MiB, 1u << 3 | BACKEND_MAP_READABLE, &v, &e), -EOPNOTSUPP);
	ck_assert_int_eq(tenant_map(t, 99, mem, 0, MiB, 0, &v, &e), -EINVAL);
	ck_assert_int_eq(tenant_map(t, 99, mem, 0, UINT64_MAX, BACKEND_MAP_READABLE, &v, &e), -EOVERFLOW);
	ck_assert_int_eq(tenant_copy(t, 99, 0, MiB, 98, 1u << 3, &v, &e), -EOPNOTSUPP);
	ck_assert_int_eq(tenant_copy(t, 99, 0, MiB, 98, BACKEND_MAP_READABLE, &v, &e), -ENOENT);
	ck_assert_int_eq(tenant_map(t, io, mem, 0, MiB, BACKEND_MAP_READABLE, &v, &e), 0);
	tenant_free(t);
}
END_TEST

/* Freeing a tenant releases every IOAS, mapping and pinned byte. */
START_TEST(free_releases_everything)
{
	struct tenant_totals before, after;
	struct tenant *t;
	uint32_t mem, io;

	tenant_get_totals(ts, &before);
	t = tenant_new(ts, b, NULL, "t", &big, NULL);
	mem = reg(t, 2 * MiB);
	io = ioas(t);
	map_fixed(t, io, mem, 0, 2 * MiB, 0x100000);
	ioas(t);
	tenant_free(t);
	tenant_get_totals(ts, &after);
	ck_assert_uint_eq(after.tenants, before.tenants);
	ck_assert_uint_eq(after.ioas, before.ioas);
	ck_assert_uint_eq(after.pinned_bytes, before.pinned_bytes);
	ck_assert_uint_eq(after.mappings, before.mappings);
}
END_TEST

/* The journal's view: events by kind. */
static unsigned journal_seen[TENANT_JOURNAL_DEVICE + 1][2];

static void count_journal(void *ud, const struct tenant_journal_event *ev)
{
	(void)ud;
	journal_seen[ev->kind][ev->gone]++;
}

/* Rule: a release leaves the registry at once and its mappings a slice at
 * a time; the totals come back to where they were. */
START_TEST(release_reaps_in_slices)
{
	struct tenant_totals before, mid, after;
	struct tenant *t, *again;
	uint32_t mem, io;
	size_t slices = 0;

	tenant_get_totals(ts, &before);
	t = tenant_new(ts, b, NULL, "t", &big, NULL);
	mem = reg(t, 2 * MiB);
	io = ioas(t);
	for (unsigned i = 0; i < 100; i++)
		map_fixed(t, io, mem, (i % 512) * 4096ull, 4096, 0x100000 + i * 4096ull);
	memset(journal_seen, 0, sizeof(journal_seen));
	tenant_set_journal(ts, count_journal, NULL);
	tenant_release(t);
	/* One event for the tenant, none per mapping. */
	ck_assert_uint_eq(journal_seen[TENANT_JOURNAL_TENANT][1], 1);
	ck_assert_uint_eq(journal_seen[TENANT_JOURNAL_MAPPING][1], 0);
	ck_assert_ptr_null(tenant_find(ts, "t"));
	again = tenant_new(ts, b, NULL, "t", &big, NULL); /* the name is free */
	ck_assert_ptr_nonnull(again);
	tenant_get_totals(ts, &mid);
	ck_assert_uint_eq(mid.mappings, before.mappings + 100);
	while (tenants_reap(ts, 7))
		slices++;
	ck_assert_uint_ge(slices, 100 / 7);
	tenant_free(again);
	tenant_set_journal(ts, NULL, NULL);
	tenant_get_totals(ts, &after);
	ck_assert_uint_eq(after.tenants, before.tenants);
	ck_assert_uint_eq(after.ioas, before.ioas);
	ck_assert_uint_eq(after.pinned_bytes, before.pinned_bytes);
	ck_assert_uint_eq(after.mappings, before.mappings);
}
END_TEST

/* Rule: unmapping a whole IOAS a slice at a time ends as one unmap of all
 * of it: every byte counted, one journal event, the IOAS usable again. */
START_TEST(unmap_all_in_slices)
{
	struct tenant *t = tenant_new(ts, b, NULL, "t", &big, NULL);
	struct tenant_usage u;
	struct err e = { 0 };
	uint64_t unmapped = 0;
	uint32_t mem = reg(t, 2 * MiB), io = ioas(t);
	bool done = false;
	unsigned steps = 0;

	for (unsigned i = 0; i < 50; i++)
		map_fixed(t, io, mem, 0, 4096, 0x100000 + i * 8192ull);
	memset(journal_seen, 0, sizeof(journal_seen));
	tenant_set_journal(ts, count_journal, NULL);
	ck_assert_int_eq(tenant_unmap_all_step(t, 99, 8, &unmapped, &done, &e), -ENOENT);
	while (!done) {
		ck_assert_msg(tenant_unmap_all_step(t, io, 8, &unmapped, &done, &e) == 0, "%s",
			      e.msg);
		assert_consistent(t);
		steps++;
	}
	ck_assert_uint_eq(steps, 7);
	ck_assert_uint_eq(unmapped, 50 * 4096ull);
	ck_assert_uint_eq(journal_seen[TENANT_JOURNAL_MAPPING][1], 0);
	ck_assert_uint_eq(journal_seen[TENANT_JOURNAL_IOAS_EMPTIED][0], 1);
	tenant_get_usage(t, &u);
	ck_assert_uint_eq(u.mappings, 0);
	ck_assert_uint_eq(u.pinned_bytes, 0);
	map_fixed(t, io, mem, 0, 4096, 0x100000);
	tenant_set_journal(ts, NULL, NULL);
	tenant_free(t);
}
END_TEST

/* Rule: a tenant's own AllowIovas narrowing is reported to the journal
 * (restart support keeps it) and a restore applies it again, so automatic
 * IOVAs after a restart come from the same window. */
START_TEST(own_allowed_survives_restore)
{
	const struct backend_iova_range window[] = { { 16 * MiB, 20 * MiB - 1 } };
	const struct policy_range own[] = { { .start = 16 * MiB, .last = 20 * MiB - 1 } };
	struct tenant *t = tenant_new(ts, b, NULL, "t", &big, NULL), *r;
	struct tenant_ioas_info ii = { .handle = 1, .own_allowed = own, .n_own_allowed = 1 };
	struct tenant_handles h = { .ioas = 2, .memory = 1, .share = 1, .import = 1, .device = 1 };
	struct err e = { 0 };
	uint32_t io = ioas(t), mem;
	uint64_t iova = 0;

	memset(journal_seen, 0, sizeof(journal_seen));
	tenant_set_journal(ts, count_journal, NULL);
	ck_assert_msg(tenant_allow_iovas(t, io, window, 1, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(journal_seen[TENANT_JOURNAL_IOAS][0], 1);
	tenant_set_journal(ts, NULL, NULL);
	tenant_free(t);

	r = tenant_new(ts, b, NULL, "restored", &big, NULL);
	tenant_set_next_handles(r, &h);
	ck_assert_msg(tenant_restore_ioas(r, &ii, true, &e) == 0, "%s", e.msg);
	mem = reg(r, 2 * MiB);
	ck_assert_msg(tenant_map(r, 1, mem, 0, 4096, BACKEND_MAP_READABLE, &iova, &e) == 0,
		      "%s", e.msg);
	ck_assert_uint_ge(iova, 16 * MiB);
	ck_assert_uint_lt(iova, 20 * MiB);
	/* A reversed range is refused, not restored. */
	{
		const struct policy_range bad[] = { { .start = 8 * MiB, .last = 4 * MiB } };
		struct tenant_ioas_info bi = { .handle = 7, .own_allowed = bad, .n_own_allowed = 1 };

		ck_assert_int_eq(tenant_restore_ioas(r, &bi, true, &e), -EINVAL);
	}
	tenant_free(r);
}
END_TEST

/* Random map/copy/unmap sequences keep the tables consistent. */
START_TEST(random_sequences_stay_consistent)
{
	struct tenant *t = tenant_new(ts, b, NULL, "t", &big, NULL);
	uint32_t mem = reg(t, 16 * MiB), io[3] = { ioas(t), ioas(t), ioas(t) };
	unsigned seed = 12345;

	for (int i = 0; i < 3000; i++) {
		struct err e = { 0 };
		uint32_t k = (uint32_t)rand_r(&seed) % 3;
		uint64_t page = 0x10000, v;
		uint64_t off = ((uint64_t)rand_r(&seed) % 256) * page;
		uint64_t len = (1 + (uint64_t)rand_r(&seed) % 8) * page;
		uint64_t iova = ((uint64_t)rand_r(&seed) % 512) * page;

		if (off + len > 16 * MiB)
			len = 16 * MiB - off;
		switch (rand_r(&seed) % 4) {
		case 0:
			v = iova;
			(void)tenant_map(t, io[k], mem, off, len,
					 BACKEND_MAP_FIXED_IOVA | BACKEND_MAP_READABLE, &v, &e);
			break;
		case 1:
			(void)tenant_unmap(t, io[k], iova, len, &v, &e);
			break;
		case 2:
			v = 0;
			(void)tenant_copy(t, io[k], iova, len, io[(k + 1) % 3],
					  BACKEND_MAP_READABLE, &v, &e);
			break;
		case 3:
			if (rand_r(&seed) % 50 == 0)
				(void)tenant_unmap(t, io[k], 0, UINT64_MAX, &v, &e);
			break;
		}
		assert_consistent(t);
	}
	tenant_free(t);
}
END_TEST

/* ------------------------------------------------------------ sharing */

static struct {
	int n;
	struct tenant_revoke_event last;
	char reason[32];
} events;

static void on_revoke(void *userdata, const struct tenant_revoke_event *ev)
{
	(void)userdata;
	events.n++;
	events.last = *ev;
	snprintf(events.reason, sizeof(events.reason), "%s", ev->reason);
	events.last.reason = events.reason;
	events.last.exporter = NULL; /* may be freed with its tenant */
}

static struct policy *share_policy(void)
{
	struct policy *p = NULL;
	struct err e = { 0 };

	ck_assert_msg(policy_parse_string("test",
					  "[tenant a]\nMatchUser=1000\nExportTo=b\nShareWrite=yes\n\n"
					  "[tenant b]\nMatchUser=1001\nImportFrom=a\n\n"
					  "[tenant c]\nMatchUser=1002\nImportFrom=a\n",
					  &p, &e) == 0, "%s", e.msg);
	memset(&events, 0, sizeof(events));
	tenant_set_revoke_hook(ts, on_revoke, NULL);
	return p;
}

static struct tenant *policy_tenant(struct policy *p, const char *name)
{
	struct tenant *t = tenant_new(ts, b, NULL, name, &big,
				      policy_find_tenant(p, name));

	ck_assert_ptr_nonnull(t);
	return t;
}

/* Rule: an identity map names the memory's file and offset; otherwise it
 * is a fixed map: refused by AllowedIOVA= citing the line, as a fixed map
 * at that IOVA is, and kept like one. */
START_TEST(identity_checks_file_and_policy)
{
	struct policy *p = NULL;
	struct err e = { 0 };
	struct tenant *t;
	struct tenant_identity id;
	struct stat st;
	uint32_t io, mem, h;
	uint64_t v = 0x7f0000000000;
	int fd = sealed_memfd(MiB), copy = dup(fd);

	ck_assert_msg(policy_parse_string("test",
					  "[tenant a]\nMatchUser=1000\nAllowedIOVA=0x100000-0x1fffff\n",
					  &p, &e) == 0, "%s", e.msg);
	t = policy_tenant(p, "a");
	io = ioas(t);
	ck_assert_int_eq(tenant_memory_register(t, &copy, 0, MiB, &mem, NULL, &e), 0);
	h = reg(t, MiB);
	ck_assert_int_eq(fstat(fd, &st), 0);
	id = (struct tenant_identity){ .dev = st.st_dev, .ino = st.st_ino };

	/* Inside AllowedIOVA: fine; without FIXED_IOVA, another memory,
	 * another offset: EINVAL. */
	ck_assert_int_eq(tenant_map_identity(t, io, mem, 0, 4096, BACKEND_MAP_READABLE,
					     0x100000, &id, &e), -EINVAL);
	ck_assert_int_eq(tenant_map_identity(t, io, h, 0, 4096,
					     BACKEND_MAP_READABLE | BACKEND_MAP_FIXED_IOVA,
					     0x100000, &id, &e), -EINVAL);
	ck_assert_int_eq(tenant_map_identity(t, io, mem, 4096, 4096,
					     BACKEND_MAP_READABLE | BACKEND_MAP_FIXED_IOVA,
					     0x100000, &id, &e), -EINVAL);
	ck_assert_msg(tenant_map_identity(t, io, mem, 0, 4096,
					  BACKEND_MAP_READABLE | BACKEND_MAP_FIXED_IOVA,
					  0x100000, &id, &e) == 0, "%s", e.msg);
	/* A user-space address outside it: what tenant_map() says. */
	ck_assert_int_eq(tenant_map(t, io, mem, 0, 4096,
				    BACKEND_MAP_READABLE | BACKEND_MAP_FIXED_IOVA, &v, &e),
			 -EPERM);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(tenant_map_identity(t, io, mem, 0, 4096,
					     BACKEND_MAP_READABLE | BACKEND_MAP_FIXED_IOVA,
					     0x7f0000000000, &id, &e), -EPERM);
	ck_assert_msg(strstr(e.msg, "test:3") != NULL, "%s", e.msg);
	assert_consistent(t);
	tenant_free(t);
	policy_unref(p);
	close(fd);
}
END_TEST

/* Rule: pinned bytes are charged once, to the memory's owner; the importer
 * is charged its mappings; revoking unmaps the import and reports it. */
START_TEST(share_pins_once_and_revokes)
{
	struct policy *p = share_policy();
	struct tenant *a = policy_tenant(p, "a"), *bt = policy_tenant(p, "b");
	uint32_t ia = ioas(a), ib = ioas(bt), mem = reg(a, 4 * MiB), share;
	char token[TENANT_SHARE_TOKEN_LEN + 1];
	struct tenant_import_req q = { .token = token, .ioas = ib };
	struct tenant_import_result res;
	struct tenant_usage ua, ub;
	struct tenant_totals tot;
	struct err e = { 0 };

	/* Two source mappings: the import has two pieces. */
	map_fixed(a, ia, mem, 0, 2 * MiB, 0x100000);
	map_fixed(a, ia, mem, 2 * MiB, 2 * MiB, 0x300000);
	ck_assert_msg(tenant_share_export(a, ia, 0x100000, 4 * MiB, false, &share,
					  token, &e) == 0, "%s", e.msg);
	ck_assert_msg(tenant_share_import(bt, &q, &res, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(res.length, 4 * MiB);
	tenant_get_usage(a, &ua);
	tenant_get_usage(bt, &ub);
	tenant_get_totals(ts, &tot);
	ck_assert_uint_eq(ua.pinned_bytes, 4 * MiB);
	ck_assert_uint_eq(ub.pinned_bytes, 0);
	ck_assert_uint_eq(ub.mappings, 2);
	ck_assert_uint_eq(tot.pinned_bytes, 4 * MiB);
	assert_consistent(a);
	assert_consistent(bt);
	/* The importer cannot split its import, nor copy it on. */
	{
		uint64_t v = 0;

		ck_assert_int_eq(tenant_unmap(bt, ib, res.iova, 2 * MiB, &v, &e), -ENOENT);
		ck_assert_int_eq(tenant_copy(bt, ib, res.iova, MiB, ib, BACKEND_MAP_READABLE,
					     &v, &e), -EPERM);
	}
	ck_assert_int_eq(tenant_share_revoke(a, share, &e), 0);
	ck_assert_int_eq(events.n, 1);
	ck_assert_str_eq(events.reason, "revoked");
	ck_assert_uint_eq(events.last.import, res.import);
	ck_assert_uint_eq(events.last.iova, res.iova);
	tenant_get_usage(bt, &ub);
	ck_assert_uint_eq(ub.mappings, 0);
	tenant_get_usage(a, &ua);
	ck_assert_uint_eq(ua.pinned_bytes, 4 * MiB);
	assert_consistent(a);
	assert_consistent(bt);
	tenant_free(bt);
	tenant_free(a);
	tenant_set_revoke_hook(ts, NULL, NULL);
	policy_unref(p);
}
END_TEST

/* Rule: each refusal has its errno. */
START_TEST(share_refusals)
{
	struct policy *p = share_policy();
	struct tenant *a = policy_tenant(p, "a"), *bt = policy_tenant(p, "b"),
		      *c = policy_tenant(p, "c");
	uint32_t ia = ioas(a), ib = ioas(bt), ic = ioas(c), mem = reg(a, 2 * MiB);
	uint32_t share, bmem = reg(bt, 2 * MiB), bi2 = ioas(bt);
	char token[TENANT_SHARE_TOKEN_LEN + 1], t2[TENANT_SHARE_TOKEN_LEN + 1];
	struct tenant_import_req q = { .token = token, .ioas = ib };
	struct tenant_import_result res;
	struct err e = { 0 };
	uint64_t v = 0x100000;

	map_fixed(a, ia, mem, 0, 2 * MiB, 0x100000);
	ck_assert_int_eq(tenant_share_export(a, ia, 0x100000, 4 * MiB, false, &share, token, &e), -ENOENT);
	ck_assert_int_eq(tenant_share_export(a, ia, 0x100000, 2 * MiB, false, &share, token, &e), 0);
	/* b's ExportTo is empty. */
	map_fixed(bt, bi2, bmem, 0, 2 * MiB, 0x100000);
	ck_assert_int_eq(tenant_share_export(bt, bi2, 0x100000, 2 * MiB, false, &share, t2, &e), -EPERM);
	ck_assert_ptr_nonnull(strstr(e.msg, "ExportTo"));
	q.token = "ffffffffffffffffffffffffffffffff";
	ck_assert_int_eq(tenant_share_import(bt, &q, &res, &e), -EKEYREJECTED);
	q.token = token;
	q.ioas = ic;
	ck_assert_int_eq(tenant_share_import(c, &q, &res, &e), -EACCES);
	ck_assert_ptr_nonnull(strstr(e.msg, "tenant c"));
	ck_assert_ptr_nonnull(strstr(e.msg, "tenant a"));
	q.ioas = ib;
	q.writeable = true;
	ck_assert_int_eq(tenant_share_import(bt, &q, &res, &e), -EPERM);
	q.writeable = false;
	q.offset = MiB;
	q.has_length = true;
	q.length = 2 * MiB;
	ck_assert_int_eq(tenant_share_import(bt, &q, &res, &e), -ERANGE);
	q.length = MiB;
	q.fixed_iova = true;
	q.iova = 0x800000;
	ck_assert_msg(tenant_share_import(bt, &q, &res, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(res.iova, 0x800000);
	assert_consistent(bt);
	/* The importer unmapping everything drops its import, quietly. */
	ck_assert_int_eq(tenant_unmap(bt, ib, 0, UINT64_MAX, &v, &e), 0);
	ck_assert_int_eq(events.n, 0);
	assert_consistent(bt);
	tenant_free(c);
	tenant_free(bt);
	tenant_free(a);
	tenant_set_revoke_hook(ts, NULL, NULL);
	policy_unref(p);
}
END_TEST

/* Rule: the exporter unmapping its source, destroying its IOAS or going
 * away revokes the imports, each with its reason. */
START_TEST(share_lifetime_follows_source)
{
	struct policy *p = share_policy();
	struct tenant *a = policy_tenant(p, "a"), *bt = policy_tenant(p, "b");
	uint32_t ia = ioas(a), ia2 = ioas(a), ib = ioas(bt), mem = reg(a, 2 * MiB), share;
	char token[TENANT_SHARE_TOKEN_LEN + 1];
	struct tenant_import_req q = { .token = token, .ioas = ib };
	struct tenant_import_result res;
	struct tenant_totals tot;
	struct err e = { 0 };
	uint64_t v;

	map_fixed(a, ia, mem, 0, 2 * MiB, 0x100000);
	ck_assert_int_eq(tenant_share_export(a, ia, 0x100000, 2 * MiB, true, &share, token, &e), 0);
	ck_assert_int_eq(tenant_share_import(bt, &q, &res, &e), 0);
	ck_assert_int_eq(tenant_unmap(a, ia, 0x100000, 2 * MiB, &v, &e), 0);
	ck_assert_int_eq(events.n, 1);
	ck_assert_str_eq(events.reason, "source-unmapped");
	ck_assert_int_eq(tenant_share_import(bt, &q, &res, &e), -EKEYREJECTED);

	map_fixed(a, ia2, mem, 0, 2 * MiB, 0x100000);
	ck_assert_int_eq(tenant_share_export(a, ia2, 0x100000, 2 * MiB, true, &share, token, &e), 0);
	ck_assert_int_eq(tenant_share_import(bt, &q, &res, &e), 0);
	ck_assert_int_eq(tenant_ioas_destroy(a, ia2, &e), 0);
	ck_assert_int_eq(events.n, 2);
	ck_assert_str_eq(events.reason, "source-destroyed");

	map_fixed(a, ia, mem, 0, 2 * MiB, 0x100000);
	ck_assert_int_eq(tenant_share_export(a, ia, 0x100000, 2 * MiB, true, &share, token, &e), 0);
	ck_assert_int_eq(tenant_share_import(bt, &q, &res, &e), 0);
	tenant_free(a);
	ck_assert_int_eq(events.n, 3);
	ck_assert_str_eq(events.reason, "exporter-gone");
	assert_consistent(bt);
	tenant_get_totals(ts, &tot);
	ck_assert_uint_eq(tot.pinned_bytes, 0);
	ck_assert_uint_eq(tot.mappings, 0);
	tenant_free(bt);
	tenant_set_revoke_hook(ts, NULL, NULL);
	policy_unref(p);
}
END_TEST

/* ------------------------------------------------------------ restore */

/* An exporter a with IOAS 1, memory 1 mapped at 0x100000 and share 1 of it,
 * and an importer b with IOAS 1 and import 1 of that share at 0x200000 (no
 * piece yet), rebuilt with the restore functions (the sim replays). */
static void restore_pair(struct tenant **ret_a, struct tenant **ret_b)
{
	static const char token[] = "0123456789abcdef0123456789abcdef";
	struct tenant *a = tenant_new(ts, b, NULL, "a", &big, NULL);
	struct tenant *bt = tenant_new(ts, b, NULL, "b", &big, NULL);
	struct tenant_ioas_info io = { .handle = 1 };
	struct tenant_mapping_info mi = {
		.ioas = 1, .iova = 0x100000, .length = 2 * MiB, .mem_owner = "a",
		.memory = 1, .flags = BACKEND_MAP_READABLE,
	};
	struct tenant_share_info si = {
		.share = 1, .ioas = 1, .iova = 0x100000, .length = 2 * MiB, .token = token,
	};
	struct tenant_import_info ii = {
		.import = 1, .tenant = "a", .share = 1, .ioas = 1, .iova = 0x200000,
		.length = 2 * MiB,
	};
	struct err e = { 0 };
	int fd = sealed_memfd(2 * MiB);

	ck_assert(a && bt);
	ck_assert_msg(tenant_restore_ioas(a, &io, true, &e) == 0, "%s", e.msg);
	ck_assert_msg(tenant_restore_ioas(bt, &io, true, &e) == 0, "%s", e.msg);
	ck_assert_msg(tenant_restore_memory(a, 1, &fd, 0, 2 * MiB, 0, &e) == 0, "%s", e.msg);
	ck_assert_msg(tenant_restore_mapping(a, &mi, true, &e) == 0, "%s", e.msg);
	ck_assert_msg(tenant_restore_share(a, &si, &e) == 0, "%s", e.msg);
	ck_assert_msg(tenant_restore_import(bt, &ii, &e) == 0, "%s", e.msg);
	*ret_a = a;
	*ret_b = bt;
}

/* Rule: a restored import is one unit inside its range. A piece outside it
 * is refused (revoking the import unmaps exactly its range, so the piece
 * would outlive it); an import without pieces is freed with its share.
 * Before the rule, the release of a's share looped forever (this tcase's
 * timeout). */
START_TEST(restored_import_is_one_unit)
{
	struct tenant_mapping_info piece = {
		.ioas = 1, .length = 2 * MiB, .mem_owner = "a", .memory = 1,
		.flags = BACKEND_MAP_READABLE, .import = 1,
	};
	struct tenant_import_info info;
	struct tenant *a, *bt;
	struct tenant_usage u;
	struct tenant_totals tot;
	struct err e = { 0 };

	/* Import 1 has no piece: the exporter's release still ends, and
	 * takes the import with it. */
	restore_pair(&a, &bt);
	tenant_free(a);
	ck_assert_ptr_null(tenant_import_next(bt, NULL, &info));
	tenant_get_usage(bt, &u);
	ck_assert_uint_eq(u.mappings, 0);
	assert_consistent(bt);
	tenant_free(bt);

	/* Pieces outside its range are refused; the one in place makes it
	 * whole, and it is revoked as a whole. */
	restore_pair(&a, &bt);
	piece.iova = 0x200000 + 16 * MiB; /* outside import 1's range */
	ck_assert_int_eq(tenant_restore_mapping(bt, &piece, true, &e), -EINVAL);
	ck_assert_msg(strstr(e.msg, "not inside import 1"), "%s", e.msg);
	piece.iova = 0x200000 + MiB;      /* sticks out of it */
	ck_assert_int_eq(tenant_restore_mapping(bt, &piece, true, &e), -EINVAL);
	piece.iova = 0x200000;
	ck_assert_msg(tenant_restore_mapping(bt, &piece, true, &e) == 0, "%s", e.msg);
	assert_consistent(a);
	assert_consistent(bt);
	tenant_free(a);
	ck_assert_ptr_null(tenant_import_next(bt, NULL, &info));
	tenant_free(bt);
	tenant_get_totals(ts, &tot);
	ck_assert_uint_eq(tot.tenants, 0);
	ck_assert_uint_eq(tot.mappings, 0);
	ck_assert_uint_eq(tot.pinned_bytes, 0);
}
END_TEST

/* Rule: after a restore, what lost a part goes whole: an import whose
 * piece did not come back (its source mapping did not either) is dropped
 * whole, and the share whose source is no longer wholly mapped is revoked,
 * as an unmap would have. The tables then pass the walker. */
START_TEST(reconcile_drops_what_lost_a_part)
{
	static const char token[] = "0123456789abcdef0123456789abcdef";
	struct tenant *a = tenant_new(ts, b, NULL, "a", &big, NULL);
	struct tenant *bt = tenant_new(ts, b, NULL, "b", &big, NULL);
	struct tenant_ioas_info io = { .handle = 1 };
	struct tenant_mapping_info src = {
		.ioas = 1, .iova = 0x100000, .length = MiB, .mem_owner = "a",
		.memory = 1, .flags = BACKEND_MAP_READABLE,
	};
	struct tenant_mapping_info piece = {
		.ioas = 1, .iova = 0x200000, .length = MiB, .mem_owner = "a",
		.memory = 1, .flags = BACKEND_MAP_READABLE, .import = 1,
	};
	struct tenant_share_info si = {
		.share = 1, .ioas = 1, .iova = 0x100000, .length = 2 * MiB, .token = token,
	};
	struct tenant_import_info ii = {
		.import = 1, .tenant = "a", .share = 1, .ioas = 1, .iova = 0x200000,
		.length = 2 * MiB,
	};
	struct tenant_share_info sinfo;
	struct tenant_import_info info;
	struct tenant_totals tot;
	struct tenant_usage u;
	struct err e = { 0 };
	uint64_t unknown;
	uint32_t dropped;
	int fd = sealed_memfd(2 * MiB);

	memset(&events, 0, sizeof(events));
	tenant_set_revoke_hook(ts, on_revoke, NULL);
	ck_assert_msg(tenant_restore_ioas(a, &io, true, &e) == 0, "%s", e.msg);
	ck_assert_msg(tenant_restore_ioas(bt, &io, true, &e) == 0, "%s", e.msg);
	ck_assert_msg(tenant_restore_memory(a, 1, &fd, 0, 2 * MiB, 0, &e) == 0, "%s", e.msg);
	/* Of two source mappings and two pieces, the second of each is lost. */
	ck_assert_msg(tenant_restore_mapping(a, &src, true, &e) == 0, "%s", e.msg);
	ck_assert_msg(tenant_restore_share(a, &si, &e) == 0, "%s", e.msg);
	ck_assert_msg(tenant_restore_import(bt, &ii, &e) == 0, "%s", e.msg);
	ck_assert_msg(tenant_restore_mapping(bt, &piece, true, &e) == 0, "%s", e.msg);

	ck_assert_msg(tenant_restore_reconcile(a, true, &dropped, &unknown, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(dropped, 1); /* the share, and with it the import */
	ck_assert_int_eq(events.n, 1);
	ck_assert_str_eq(events.reason, "source-unmapped");
	ck_assert_msg(tenant_restore_reconcile(bt, true, &dropped, &unknown, &e) == 0, "%s", e.msg);
	ck_assert_ptr_null(tenant_share_next(a, NULL, &sinfo));
	ck_assert_ptr_null(tenant_import_next(bt, NULL, &info));
	tenant_get_usage(bt, &u);
	ck_assert_uint_eq(u.mappings, 0);
	tenant_get_usage(a, &u);
	ck_assert_uint_eq(u.mappings, 1);
	ck_assert_uint_eq(u.pinned_bytes, MiB);
	assert_consistent(a);
	assert_consistent(bt);

	/* The importer first: its import goes whole, quietly (no one to
	 * tell); then the share. */
	tenant_free(bt);
	bt = tenant_new(ts, b, NULL, "b", &big, NULL);
	ck_assert_msg(tenant_restore_ioas(bt, &io, true, &e) == 0, "%s", e.msg);
	ck_assert_msg(tenant_restore_share(a, &si, &e) == 0, "%s", e.msg);
	ck_assert_msg(tenant_restore_import(bt, &ii, &e) == 0, "%s", e.msg);
	ck_assert_msg(tenant_restore_mapping(bt, &piece, true, &e) == 0, "%s", e.msg);
	memset(&events, 0, sizeof(events));
	ck_assert_msg(tenant_restore_reconcile(bt, true, &dropped, &unknown, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(dropped, 1);
	ck_assert_ptr_null(tenant_import_next(bt, NULL, &info));
	assert_consistent(bt);
	ck_assert_msg(tenant_restore_reconcile(a, true, &dropped, &unknown, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(dropped, 1);
	ck_assert_int_eq(events.n, 0);
	assert_consistent(a);
	tenant_free(bt);
	tenant_free(a);
	tenant_set_revoke_hook(ts, NULL, NULL);
	tenant_get_totals(ts, &tot);
	ck_assert_uint_eq(tot.tenants, 0);
	ck_assert_uint_eq(tot.pinned_bytes, 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("tenant");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, handles_are_local_and_not_reused);
	tcase_add_test(tc, pinned_once_per_range);
	tcase_add_test(tc, unmap_split_refused_without_effect);
	tcase_add_test(tc, copy_keeps_source_area_boundaries);
	tcase_add_test(tc, unregister_busy_while_mapped);
	tcase_add_test(tc, limits_at_boundary);
	tcase_add_test(tc, map_argument_checks);
	tcase_add_test(tc, free_releases_everything);
	tcase_add_test(tc, release_reaps_in_slices);
	tcase_add_test(tc, unmap_all_in_slices);
	tcase_add_test(tc, own_allowed_survives_restore);
	tcase_add_test(tc, random_sequences_stay_consistent);
	tcase_add_test(tc, share_pins_once_and_revokes);
	tcase_add_test(tc, share_refusals);
	tcase_add_test(tc, identity_checks_file_and_policy);
	tcase_add_test(tc, share_lifetime_follows_source);
	suite_add_tcase(s, tc);
	/* Restored tables: a loop that would not end fails here, not at the
	 * default timeout. */
	tc = tcase_create("restore");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, restored_import_is_one_unit);
	tcase_add_test(tc, reconcile_drops_what_lost_a_part);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
