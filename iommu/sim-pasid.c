/* SPDX-License-Identifier: MIT */
/*
 * The sim: PASID attach and detach of a bound device (7.2's
 * VFIO_DEVICE_ATTACH_IOMMUFD_PT / DETACH_IOMMUFD_PT with the PASID flag),
 * the rules an attach of the RID must then keep, and the PASID check hook.
 *
 * Rule                                  mirrors (kernel function)
 * ------------------------------------  -----------------------------------
 * 6.12 (the sim's default): any flag    vfio_df_ioctl_attach_pt (6.12:
 *   on attach or detach -> EINVAL.      flags must be 0).
 * 7.2 (backend_sim_set_kernel72):
 *   device not bound -> EINVAL;         vfio_df_ioctl_attach_pt.
 *   pt_id an IOAS -> EINVAL (an auto    iommufd_hwpt_pasid_compat,
 *   domain is never PASID-compatible);  iommufd_device_do_attach.
 *   neither IOAS nor HWPT -> ENOENT;
 *   an HWPT without ALLOC_PASID, or
 *   the RID on an HWPT without it (or
 *   on its IOAS's auto domain) ->
 *   EINVAL; an HWPT of another driver
 *   -> EINVAL; the same PASID again
 *   replaces. The HWPT is held
 *   (DESTROY -> EBUSY).
 *   Detach of a PASID not attached:     iommufd_device_detach (a no-op).
 *   0.
 * RID attach onto an HWPT while PASIDs  iommufd_hwpt_pasid_compat.
 *   are attached: an HWPT without
 *   ALLOC_PASID -> EINVAL. An HWPT with
 *   a fault queue on a device without   iommufd_fault_iopf_enable.
 *   PRI (VT-d/edu) -> ENODEV.
 */
#include <errno.h>

#include "iommu/backend-faults.h"
#include "iommu/sim-internal.h"

static bool has_pasids(const struct sim_binding *bd)
{
	struct sim_pasid *p;

	if (!bd->ctx)
		return false;
	LIST_FOREACH(p, &bd->ctx->pasids, link)
		if (p->bd == bd)
			return true;
	return false;
}

int sim_attach_check(const struct sim_binding *bd, const struct sim_hwpt *h)
{
	if (h->fault && bd->driver != SIM_DRIVER_MOCK)
		return -ENODEV;
	if (has_pasids(bd) && !(h->flags & BACKEND_HWPT_PASID))
		return -EINVAL;
	return 0;
}

static struct sim_pasid *pasid_find(struct sim *s, const struct sim_binding *bd,
				    uint32_t pasid)
{
	struct sim_pasid *p;

	LIST_FOREACH(p, &s->pasids, link)
		if (p->bd == bd && p->pasid == pasid)
			return p;
	return NULL;
}

static void pasid_free(struct sim_pasid *p)
{
	LIST_REMOVE(p, link);
	p->hwpt->users--;
	free(p);
}

void sim_pasids_free(struct sim *s)
{
	while (!LIST_EMPTY(&s->pasids))
		pasid_free(LIST_FIRST(&s->pasids));
}

int sim_pasid_attach(struct backend *b, int fd, uint32_t pasid,
		     uint32_t pt_id, uint32_t *ret_hwpt)
{
	struct sim_binding *bd;
	struct sim_hwpt *h, *rid;
	struct sim_pasid *p;
	int r;

	if (!to_sim(b)->k72)
		return -EINVAL;
	r = sim_device_binding(fd, &bd, NULL, NULL);
	if (r < 0)
		return r;
	if (!bd || !bd->ctx)
		return -EINVAL;
	if (sim_get_ioas(bd->ctx, pt_id))
		return -EINVAL;
	h = sim_get_hwpt(bd->ctx, pt_id);
	if (!h)
		return -ENOENT;
	if (h->driver != bd->driver || !(h->flags & BACKEND_HWPT_PASID))
		return -EINVAL;
	rid = bd->hwpt ? sim_get_hwpt(bd->ctx, bd->hwpt) : NULL;
	if (bd->ioas && (!rid || !(rid->flags & BACKEND_HWPT_PASID)))
		return -EINVAL;
	if (h->fault && bd->driver != SIM_DRIVER_MOCK)
		return -ENODEV;
	p = pasid_find(bd->ctx, bd, pasid);
	if (p) {
		p->hwpt->users--;
	} else {
		p = calloc(1, sizeof(*p));
		if (!p)
			return -ENOMEM;
		p->bd = bd;
		p->pasid = pasid;
		LIST_INSERT_HEAD(&bd->ctx->pasids, p, link);
	}
	p->hwpt = h;
	h->users++;
	*ret_hwpt = pt_id;
	return 0;
}

int sim_pasid_detach(struct backend *b, int fd, uint32_t pasid)
{
	struct sim_binding *bd;
	struct sim_pasid *p;
	int r;

	if (!to_sim(b)->k72)
		return -EINVAL;
	r = sim_device_binding(fd, &bd, NULL, NULL);
	if (r < 0)
		return r;
	if (!bd || !bd->ctx)
		return -EINVAL;
	p = pasid_find(bd->ctx, bd, pasid);
	if (p)
		pasid_free(p);
	return 0;
}

int backend_sim_pasid_hwpt(struct backend *b, uint32_t dev_id, uint32_t pasid,
			   uint32_t *ret_hwpt)
{
	struct sim_binding *bd;
	struct sim_pasid *p;

	if (!b || b->ops != &sim_ops)
		return -EINVAL;
	bd = sim_binding_by_id(to_sim(b), dev_id);
	if (!bd)
		return -ENOENT;
	p = pasid_find(to_sim(b), bd, pasid);
	*ret_hwpt = p ? p->hwpt->id : 0;
	return 0;
}
