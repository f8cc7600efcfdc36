/* SPDX-License-Identifier: MIT */
/*
 * The crash window of issue 15: the kernel allocated an HWPT or a vIOMMU
 * object, and the daemon was killed before it recorded it. The restored
 * tables do not name it, yet it holds what it was made from (an IOAS, a
 * parent HWPT, a vIOMMU): destroying that fails with EBUSY. The tenant's
 * own context is the daemon's alone (a VMM's delegated context is another),
 * so an object there that no table names is such a leftover.
 *
 * What keeps this safe: every id the tables know is left alone, and the
 * kernel's IOMMU_DESTROY takes only an object nothing holds (see
 * backend_sweep_objects()): a bound device, whether the tables know it or
 * not, is held by its VFIO driver until unbind and is EBUSY; so is a domain
 * a device is attached to, and a vEVENTQ whose fd a client kept.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "common/log.h"
#include "iommu/backend.h"
#include "persist/sweep.h"
#include "tenant/tenant.h"

#define SWEEP_MARGIN 64 /* ids are allocated lowest-free */

struct known {
	uint32_t *id;
	size_t n, cap;
};

static int add(struct known *k, uint32_t id)
{
	if (id == 0)
		return 0;
	if (k->n == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 64;
		uint32_t *v = reallocarray(k->id, cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		k->id = v;
		k->cap = cap;
	}
	k->id[k->n++] = id;
	return 0;
}

static int on_ioas(void *ud, const struct tenant_ioas_info *i)
{
	struct known *k = ud;
	int r = add(k, i->id);

	if (r == 0)
		r = add(k, i->mock_stdev);
	if (r == 0)
		r = add(k, i->mock_hwpt);
	return r == 0 ? add(k, i->mock_idev) : r;
}

static int on_memory(void *ud, const struct tenant_memory_info *i)
{
	(void)ud;
	(void)i;
	return 0;
}

static int on_mapping(void *ud, const struct tenant_mapping_info *i)
{
	(void)ud;
	(void)i;
	return 0;
}

static int on_device(void *ud, const struct tenant_device_info *i)
{
	return add(ud, i->dev_id);
}

static int on_hwpt(void *ud, const struct tenant_hwpt_info *i)
{
	return add(ud, i->id);
}

static int on_vobj(void *ud, const struct tenant_vobj_info *i)
{
	return add(ud, i->id);
}

/* A fault queue nothing else holds (its HWPTs gone, the client's fd
 * closed) has one reference: without this the sweep would take it. */
static int on_fault(void *ud, const struct tenant_fault_info *i)
{
	return add(ud, i->id);
}

uint32_t sweep_tenant_objects(struct tenant *t)
{
	static const struct tenant_dump_ops ops = {
		.ioas = on_ioas, .memory = on_memory, .mapping = on_mapping,
		.device = on_device, .hwpt = on_hwpt, .vobj = on_vobj,
		.fault = on_fault,
	};
	struct known k = { 0 };
	uint32_t swept;

	if (tenant_dump(t, &ops, &k) < 0) {
		free(k.id);
		log_err("restore: tenant %s: out of memory listing its objects; "
			"no sweep of its context's other objects", tenant_name(t));
		return 0;
	}
	swept = backend_sweep_objects(tenant_backend(t), k.id, k.n, SWEEP_MARGIN);
	free(k.id);
	if (swept)
		log_info("restore: tenant %s: %" PRIu32 " object(s) of its context no "
			 "table named (allocated as the daemon died) destroyed",
			 tenant_name(t), swept);
	return swept;
}
