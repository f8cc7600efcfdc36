/* SPDX-License-Identifier: MIT */
/*
 * The restart state checker (persist/state-check.c): a state as the daemon
 * writes it passes; each way of breaking it is refused with EBADMSG and a
 * message naming the record. The state: alpha exports two adjacent
 * mappings of its memory as share 1 and has a copy in a second IOAS; beta
 * imports the middle 2 MiB of the share (two pieces); delta is a device
 * tenant with a device.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommu/backend.h"
#include "persist/state-check.h"

#define MiB (UINT64_C(1) << 20)
#define R BACKEND_MAP_READABLE

/* ------------------------------------------------------------ building */

#define PUSH(arr, n, item)                                                   \
	do {                                                                 \
		(arr) = realloc((arr), ((n) + 1) * sizeof(*(arr)));          \
		ck_assert_ptr_nonnull(arr);                                  \
		(arr)[(n)++] = (item);                                       \
	} while (0)

static IoasdState__Tenant *tenant(IoasdState__State *m, const char *name,
				  uint32_t next)
{
	IoasdState__Tenant *t = calloc(1, sizeof(*t));

	ioasd_state__tenant__init(t);
	t->name = strdup(name);
	t->reclaim_token = strdup("00000000000000000000000000000000");
	t->by_policy = true;
	t->next_ioas = t->next_memory = t->next_share = t->next_import = next;
	PUSH(m->tenants, m->n_tenants, t);
	return t;
}

static void ioas(IoasdState__Tenant *t, uint32_t handle, uint32_t id)
{
	IoasdState__Ioas *x = calloc(1, sizeof(*x));

	ioasd_state__ioas__init(x);
	x->handle = handle;
	x->id = id;
	PUSH(t->ioases, t->n_ioases, x);
}

static void memory(IoasdState__Tenant *t, uint32_t handle, uint64_t store_id,
		   uint64_t length)
{
	IoasdState__Memory *x = calloc(1, sizeof(*x));

	ioasd_state__memory__init(x);
	x->handle = handle;
	x->store_id = store_id;
	x->length = length;
	PUSH(t->memories, t->n_memories, x);
}

static void mapping(IoasdState__Tenant *t, uint32_t ioas, uint64_t iova, uint64_t length,
		    const char *owner, uint32_t mem, uint64_t mem_offset, uint32_t import)
{
	IoasdState__Mapping *x = calloc(1, sizeof(*x));

	ioasd_state__mapping__init(x);
	x->ioas = ioas;
	x->iova = iova;
	x->length = length;
	x->mem_owner = strdup(owner);
	x->memory = mem;
	x->mem_offset = mem_offset;
	x->flags = R;
	x->has_import = import != 0;
	x->import = import;
	PUSH(t->mappings, t->n_mappings, x);
}

static void share(IoasdState__Tenant *t, uint32_t handle, uint32_t ioas, uint64_t iova,
		  uint64_t length, const char *token)
{
	IoasdState__Share *x = calloc(1, sizeof(*x));

	ioasd_state__share__init(x);
	x->handle = handle;
	x->ioas = ioas;
	x->iova = iova;
	x->length = length;
	x->token = strdup(token);
	PUSH(t->shares, t->n_shares, x);
}

static void import(IoasdState__Tenant *t, uint32_t handle, const char *exporter,
		   uint32_t sh, uint32_t ioas, uint64_t iova, uint64_t offset,
		   uint64_t length)
{
	IoasdState__Import *x = calloc(1, sizeof(*x));

	ioasd_state__import__init(x);
	x->handle = handle;
	x->exporter = strdup(exporter);
	x->share = sh;
	x->ioas = ioas;
	x->iova = iova;
	x->offset = offset;
	x->length = length;
	x->flags = R;
	PUSH(t->imports, t->n_imports, x);
}

static void device(IoasdState__Tenant *t, uint32_t handle, uint32_t ioas, uint64_t store_id)
{
	IoasdState__Device *x = calloc(1, sizeof(*x));

	ioasd_state__device__init(x);
	x->handle = handle;
	x->ioas = ioas;
	x->store_id = store_id;
	x->vendor = 0x1234;
	x->device = 0x11e8;
	x->name = strdup("edu");
	PUSH(t->devices, t->n_devices, x);
}

static void hwpt(IoasdState__Tenant *t, uint32_t handle, uint32_t id, uint32_t ioas,
		 uint32_t parent)
{
	IoasdState__Hwpt *x = calloc(1, sizeof(*x));

	ioasd_state__hwpt__init(x);
	x->handle = handle;
	x->id = id;
	x->ioas = ioas;
	x->has_parent = parent != 0;
	x->parent = parent;
	x->device = 1;
	x->flags = parent ? 0 : 1;
	PUSH(t->hwpts, t->n_hwpts, x);
	t->has_next_hwpt = true;
	t->next_hwpt = handle + 1;
}

/* kind 0 vIOMMU (on HWPT parent), 1 vDEVICE, 2 vEVENTQ (in vIOMMU viommu). */
static void vobj(IoasdState__Tenant *t, uint32_t handle, uint32_t id, uint32_t kind,
		 uint32_t parent, uint32_t viommu)
{
	IoasdState__Vobj *x = calloc(1, sizeof(*x));

	ioasd_state__vobj__init(x);
	x->handle = handle;
	x->id = id;
	x->kind = kind;
	x->has_parent = parent != 0;
	x->parent = parent;
	x->has_viommu = viommu != 0;
	x->viommu = viommu;
	x->has_device = kind != 2;
	x->device = 1;
	PUSH(t->vobjs, t->n_vobjs, x);
	t->has_next_vobj = true;
	t->next_vobj = handle + 1;
}

#define TOKEN1 "0123456789abcdef0123456789abcdef"
#define TOKEN2 "fedcba9876543210fedcba9876543210"

/* A state the daemon could have written. */
static IoasdState__State *good(void)
{
	IoasdState__State *m = calloc(1, sizeof(*m));
	IoasdState__Tenant *a, *b, *d;
	IoasdState__Pasid *pasid0;

	ioasd_state__state__init(m);
	m->version = STATE_VERSION;
	m->backend = strdup("sim");
	m->next_store_id = 10;
	a = tenant(m, "alpha", 3);
	ioas(a, 1, 11);
	ioas(a, 2, 12);
	memory(a, 1, 1, 4 * MiB);
	mapping(a, 1, 0x100000, 2 * MiB, "alpha", 1, 0, 0);
	mapping(a, 1, 0x300000, 2 * MiB, "alpha", 1, 2 * MiB, 0);
	mapping(a, 2, 0x100000, 2 * MiB, "alpha", 1, 0, 0); /* a copy */
	share(a, 1, 1, 0x100000, 4 * MiB, TOKEN1);
	b = tenant(m, "beta", 2);
	ioas(b, 1, 21);
	/* [+1M, +3M) of the share: 1 MiB of each source mapping. */
	import(b, 1, "alpha", 1, 1, 0x1000000, MiB, 2 * MiB);
	mapping(b, 1, 0x1000000, MiB, "alpha", 1, MiB, 1);
	mapping(b, 1, 0x1100000, MiB, "alpha", 1, 2 * MiB, 1);
	d = tenant(m, "delta", 2);
	d->has_own_context = d->own_context = true;
	d->has_next_device = true;
	d->next_device = 2;
	ioas(d, 1, 11); /* its own context: its own ids */
	memory(d, 1, 2, 2 * MiB);
	mapping(d, 1, 0x100000, 2 * MiB, "delta", 1, 0, 0);
	device(d, 1, 1, 3);
	hwpt(d, 1, 12, 1, 0);  /* a nesting parent on IOAS 1 */
	hwpt(d, 2, 13, 1, 1);  /* nested in it, the device on it */
	d->devices[0]->has_hwpt = true;
	d->devices[0]->hwpt = 2;
	vobj(d, 1, 20, 0, 1, 0); /* a vIOMMU on the nesting parent */
	vobj(d, 2, 21, 1, 0, 1); /* a vDEVICE in it */
	vobj(d, 3, 22, 2, 0, 1); /* a vEVENTQ in it */
	hwpt(d, 3, 14, 1, 0);    /* made from the vIOMMU, the mock device on it */
	d->hwpts[2]->flags = 0;
	d->hwpts[2]->has_viommu = true;
	d->hwpts[2]->viommu = 1;
	d->ioases[0]->has_mock_on = true;
	d->ioases[0]->mock_on = 3;
	/* Test builds: the mock device (device 0) at PASID 100 on HWPT 3. */
	d->ioases[0]->has_mock_stdev = true;
	d->ioases[0]->mock_stdev = 15;
	pasid0 = calloc(1, sizeof(*pasid0));
	ioasd_state__pasid__init(pasid0);
	pasid0->handle = 1;
	pasid0->device = 0;
	pasid0->pasid = 100;
	pasid0->has_hwpt = true;
	pasid0->hwpt = 3;
	PUSH(d->pasids, d->n_pasids, pasid0);
	d->has_next_pasid = true;
	d->next_pasid = 2;
	return m;
}

static IoasdState__Tenant *T(IoasdState__State *m, const char *name)
{
	for (size_t i = 0; i < m->n_tenants; i++)
		if (!strcmp(m->tenants[i]->name, name))
			return m->tenants[i];
	ck_abort_msg("no tenant %s", name);
	return NULL;
}

static void set_str(char **p, const char *v)
{
	free(*p);
	*p = strdup(v);
}

/* ------------------------------------------------------------ cases */

/* Break good() in way k; returns what the refusal must say (NULL: no such
 * way). */
static const char *break_state(IoasdState__State *m, int k)
{
	switch (k) {
	case 0:
		T(m, "beta")->imports[0]->iova += 16 * MiB;
		return "import 1: a piece at 0x1000000 of IOAS 1 lies outside its range";
	case 1:
		T(m, "beta")->n_mappings = 1;
		free(T(m, "beta")->mappings[1]->mem_owner);
		free(T(m, "beta")->mappings[1]);
		return "import 1: its pieces cover 0x100000 of its 0x200000 bytes";
	case 2:
		T(m, "beta")->imports[0]->length = 0;
		return "import 1: [+0x100000, +0x0) is empty";
	case 3:
		T(m, "beta")->imports[0]->offset = 3 * MiB;
		return "is not inside share 1";
	case 4:
		T(m, "beta")->imports[0]->flags |= BACKEND_MAP_WRITEABLE;
		return "import 1: flags 0x6 (share 1 is read-only)";
	case 5:
		set_str(&T(m, "beta")->imports[0]->exporter, "al\npha");
		return "import 1: no exporter (not a tenant name) with a share 1";
	case 6:
		T(m, "alpha")->shares[0]->handle = 2;
		return "import 1: no exporter alpha with a share 1";
	case 7:
		T(m, "alpha")->mappings[1]->iova = 0x200000;
		return "IOAS 1: mappings at 0x100000 and 0x200000 overlap";
	case 8:
		T(m, "alpha")->mappings[1]->mem_offset = 3 * MiB;
		return "is not inside memory 1 (0x400000 bytes)";
	case 9:
		T(m, "delta")->mappings[0]->ioas = 7;
		return "mapping at 0x100000: no IOAS 7";
	case 10:
		T(m, "beta")->mappings[0]->has_import = false;
		return "maps memory of alpha without an import";
	case 11:
		T(m, "beta")->mappings[1]->mem_offset = 3 * MiB;
		return "import 1: the piece at 0x1100000 is not what alpha maps at 0x300000";
	case 12:
		T(m, "beta")->mappings[0]->memory = 9;
		return "no memory 9 of tenant alpha";
	case 13:
		T(m, "alpha")->ioases[1]->handle = 1;
		return "tenant alpha: IOAS handle 1 twice";
	case 14:
		T(m, "beta")->ioases[0]->handle = 0;
		return "tenant beta: IOAS handle 0";
	case 15:
		T(m, "alpha")->next_ioas = 2;
		return "tenant alpha: next IOAS handle 2 is not past IOAS 2";
	case 16:
		T(m, "delta")->next_device = 1;
		return "tenant delta: next device handle 1 is not past device 1";
	case 17:
		set_str(&T(m, "delta")->name, "alpha");
		return "tenant alpha is listed twice";
	case 18:
		set_str(&T(m, "beta")->name, "be ta");
		return "tenant 2 of 3: its name is not";
	case 19:
		set_str(&T(m, "alpha")->shares[0]->token, "0123456789ABCDEF0123456789ABCDEF");
		return "share 1: its token is not 32 lower-case hex digits";
	case 20:
		share(T(m, "alpha"), 2, 2, 0x100000, MiB, TOKEN1);
		return "have the same token";
	case 21:
		T(m, "alpha")->shares[0]->length = 6 * MiB;
		return "share 1: 0x500000 of IOAS 1 is not mapped by the tenant's own memory";
	case 22:
		share(T(m, "beta"), 2, 1, 0x1000000, MiB, TOKEN2);
		T(m, "beta")->next_share = 3;
		return "share 2: 0x1000000 of IOAS 1 is not mapped by the tenant's own memory";
	case 23:
		T(m, "delta")->memories[0]->store_id = 1;
		return "fd-store id 1 is used by tenant ";
	case 24:
		T(m, "delta")->devices[0]->store_id = 10;
		return "tenant delta, device 1: fd-store id 10 is 0 or not below the next one";
	case 25:
		T(m, "delta")->has_context_store_id = true;
		return "tenant delta, own context: fd-store id 0";
	case 26:
		T(m, "beta")->ioases[0]->id = 11;
		return "IOAS id 11 is used by tenant ";
	case 27:
		ioas(T(m, "delta"), 2, 11);
		T(m, "delta")->next_ioas = 3;
		return "IOAS id (own context) 11";
	case 28:
		set_str(&m->backend, "kernel");
		return "tenant delta: IOASes in a context of its own that was not stored";
	case 29:
		device(T(m, "beta"), 1, 1, 4);
		return "tenant beta: devices without a context of its own";
	case 30:
		T(m, "alpha")->next_share = 300;
		for (int i = 0; i < 256; i++) {
			char tok[40];

			snprintf(tok, sizeof(tok), "%032x", i + 1);
			share(T(m, "alpha"), 2 + i, 1, 0x100000, MiB, tok);
		}
		return "tenant alpha: 257 shares";
	case 31:
		set_str(&m->backend, "qemu");
		return "unknown backend \"qemu\"";
	case 32:
		T(m, "delta")->mappings[0]->iova = UINT64_MAX - MiB + 1;
		return "mapping at 0xfffffffffff00000 of IOAS 1: empty or overflowing";
	case 33:
		T(m, "delta")->mappings[0]->flags = 8;
		return "unknown flags 0x8";
	case 34:
		T(m, "delta")->memories[0]->offset = UINT64_MAX;
		return "memory 1: empty or overflowing range";
	case 35:
		T(m, "delta")->hwpts[1]->parent = 3;
		return "tenant delta, HWPT 2: parent 3 is not an older paging HWPT";
	case 36:
		T(m, "delta")->devices[0]->hwpt = 9;
		return "tenant delta, device 1: no HWPT 9 on its IOAS 1";
	case 37:
		T(m, "delta")->hwpts[0]->ioas = 5;
		return "tenant delta, HWPT 1: no IOAS 5";
	case 38:
		hwpt(T(m, "beta"), 1, 30, 1, 0);
		return "tenant beta: HWPTs without a context of its own";
	case 39:
		T(m, "delta")->next_hwpt = 2;
		return "tenant delta: next HWPT handle 2 is not past HWPT 2";
	case 40:
		T(m, "delta")->vobjs[0]->parent = 7;
		return "tenant delta, vIOMMU 1: parent HWPT 7 is not a paging HWPT";
	case 41:
		T(m, "delta")->vobjs[0]->parent = 3; /* a cycle: the HWPT made from it */
		return "tenant delta, vIOMMU 1: parent HWPT 3 is not a paging HWPT";
	case 42:
		T(m, "delta")->vobjs[1]->viommu = 3;
		return "tenant delta, vDEVICE 2: vIOMMU 3 is not an older vIOMMU";
	case 43:
		T(m, "delta")->vobjs[2]->viommu = 9;
		return "tenant delta, vEVENTQ 3: vIOMMU 9 is not an older vIOMMU";
	case 44:
		T(m, "delta")->hwpts[2]->viommu = 2;
		return "tenant delta, HWPT 3: no vIOMMU 2 on its IOAS 1";
	case 45:
		vobj(T(m, "beta"), 1, 40, 0, 1, 0);
		return "tenant beta: vIOMMU objects without a context of its own";
	case 46:
		T(m, "delta")->vobjs[1]->id = 0;
		return "tenant delta, vDEVICE 2: object id 0";
	case 47:
		T(m, "delta")->next_vobj = 3;
		return "tenant delta: next vIOMMU object handle 3 is not past";
	case 48:
		T(m, "delta")->vobjs[2]->kind = 7;
		return "tenant delta, vIOMMU object 3: unknown kind 7";
	case 49:
		T(m, "delta")->ioases[0]->mock_on = 9;
		return "tenant delta, IOAS 1: its mock device is on HWPT 9";
	case 50:
		T(m, "delta")->hwpts[2]->has_parent = true;
		T(m, "delta")->hwpts[2]->parent = 1;
		return "tenant delta, HWPT 3: made from both a parent HWPT and vIOMMU 1";
	case 51: /* device 0 is only the mock device of an IOAS that has one */
		T(m, "delta")->ioases[0]->has_mock_stdev = false;
		return "tenant delta: PASID 100 names no device 0";
	}
	return NULL;
}
#define NCASES 52 /* break_state(m, NCASES) is NULL */

START_TEST(good_state_passes)
{
	IoasdState__State *m = good();
	struct err e = { 0 };

	ck_assert_msg(state_check(m, &e) == 0, "%s", e.msg);
	ck_assert_ptr_null(break_state(m, NCASES));
	ioasd_state__state__free_unpacked(m, NULL);
}
END_TEST

START_TEST(each_break_is_named)
{
	IoasdState__State *m = good();
	struct err e = { 0 };
	const char *want = break_state(m, _i);

	ck_assert_ptr_nonnull(want);
	ck_assert_int_eq(state_check(m, &e), -EBADMSG);
	ck_assert_msg(strstr(e.msg, want), "case %d: want \"%s\", got \"%s\"", _i, want,
		      e.msg);
	ck_assert_ptr_null(strstr(e.msg, TOKEN1)); /* tokens are never told */
	ioasd_state__state__free_unpacked(m, NULL);
}
END_TEST

/* What does not decode, or is another version, is refused too. */
START_TEST(decode_refusals)
{
	IoasdState__State *m = good(), *back = NULL;
	uint8_t junk[] = { 0xff, 0xff, 0xff, 0xff, 0x0f }, *buf;
	struct err e = { 0 };
	size_t len;

	ck_assert_int_eq(state_check_decode(junk, sizeof(junk), &back, &e), -EBADMSG);
	ck_assert_ptr_null(back);
	ck_assert_msg(strstr(e.msg, "does not decode"), "%s", e.msg);
	m->version = 2;
	len = ioasd_state__state__get_packed_size(m);
	buf = malloc(len);
	ioasd_state__state__pack(m, buf);
	ck_assert_int_eq(state_check_decode(buf, len, &back, &e), -EBADMSG);
	ck_assert_msg(strstr(e.msg, "state version 2"), "%s", e.msg);
	m->version = STATE_VERSION;
	ioasd_state__state__pack(m, buf);
	ck_assert_int_eq(state_check_decode(buf, len, &back, &e), 0);
	ck_assert_msg(state_check(back, &e) == 0, "%s", e.msg);
	ioasd_state__state__free_unpacked(back, NULL);
	ioasd_state__state__free_unpacked(m, NULL);
	free(buf);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("state-check");
	TCase *tc = tcase_create("check");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, good_state_passes);
	tcase_add_loop_test(tc, each_break_is_named, 0, NCASES);
	tcase_add_test(tc, decode_refusals);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
