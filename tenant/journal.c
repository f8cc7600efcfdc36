/* SPDX-License-Identifier: MIT */
/* The change events restart support records (tenant.h, "journal"). */
#include "tenant/tenant-internal.h"

void tenant_set_journal(struct tenants *ts, tenant_journal_fn fn, void *userdata)
{
	ts->journal = fn;
	ts->journal_data = userdata;
}

uint32_t tenant_journal_id(const struct tenant *t)
{
	return t->journal_id;
}

void tenant_set_journal_id(struct tenant *t, uint32_t id)
{
	t->journal_id = id;
}

void ioas_info(const struct ioas_obj *o, struct tenant_ioas_info *ret)
{
	*ret = (struct tenant_ioas_info){
		.handle = o->handle, .id = o->id, .mock_stdev = o->mock_stdev,
		.mock_hwpt = o->mock_hwpt, .mock_idev = o->mock_idev,
		.mock_on = o->mock_on ? o->mock_on->handle : 0, .gen = o->gen,
		.own_allowed = o->own_allowed, .n_own_allowed = o->n_own_allowed,
	};
}

void mapping_info(const struct ioas_obj *o, const struct mapping *m,
		  struct tenant_mapping_info *ret)
{
	*ret = (struct tenant_mapping_info){
		.ioas = o->handle, .iova = m->iova, .length = m->length,
		.mem_owner = m->mem->owner->name, .memory = m->mem->handle,
		.mem_offset = m->mem_offset, .flags = m->flags,
		.import = m->imp ? m->imp->handle : 0, .ioas_gen = o->gen,
		.owner = m->mem->owner,
	};
}

void device_info(const struct tenant_device *d, struct tenant_device_info *ret)
{
	*ret = (struct tenant_device_info){
		.handle = d->handle, .ioas = d->ioas->handle,
		.store_id = d->store_id, .info = d->info,
		.hwpt = d->hwpt ? d->hwpt->handle : 0, .dev_id = d->dev_id,
	};
}

void hwpt_info(const struct tenant_hwpt *h, struct tenant_hwpt_info *ret)
{
	*ret = (struct tenant_hwpt_info){
		.handle = h->handle, .id = h->id, .ioas = h->ioas->handle,
		.parent = h->parent ? h->parent->handle : 0, .device = h->device,
		.flags = h->flags, .data_type = h->data_type, .data = h->data,
		.data_len = h->data_len, .fault = h->fault ? h->fault->handle : 0,
		.viommu = h->viommu ? h->viommu->handle : 0,
	};
}

static bool wanted(const struct tenant *t)
{
	return t->set->journal && !t->quiet;
}

static void emit(struct tenant *t, struct tenant_journal_event *ev)
{
	ev->t = t;
	t->set->journal(t->set->journal_data, ev);
}

void journal_tenant(struct tenant *t, bool gone)
{
	struct tenant_journal_event ev = { .kind = TENANT_JOURNAL_TENANT, .gone = gone };

	if (wanted(t))
		emit(t, &ev);
}

void journal_ioas(struct tenant *t, const struct ioas_obj *o, bool gone)
{
	struct tenant_journal_event ev = { .kind = TENANT_JOURNAL_IOAS, .gone = gone };

	if (!wanted(t))
		return;
	ioas_info(o, &ev.u.ioas);
	emit(t, &ev);
}

void journal_ioas_emptied(struct tenant *t, struct ioas_obj *o)
{
	struct tenant_journal_event ev = { .kind = TENANT_JOURNAL_IOAS_EMPTIED };

	/* The generation moves on whether or not anyone records it: a
	 * journal set later must not see two generations alike. */
	o->gen++;
	if (!wanted(t))
		return;
	ioas_info(o, &ev.u.ioas);
	emit(t, &ev);
}

void journal_memory(struct tenant *t, const struct mem_obj *m, bool gone)
{
	struct tenant_journal_event ev = { .kind = TENANT_JOURNAL_MEMORY, .gone = gone };

	if (!wanted(t))
		return;
	ev.u.memory = (struct tenant_memory_info){
		.handle = m->handle, .store_id = m->store_id, .region = m->region,
	};
	emit(t, &ev);
}

void journal_share(const struct tenant_share *s, bool gone)
{
	struct tenant_journal_event ev = { .kind = TENANT_JOURNAL_SHARE, .gone = gone };

	if (!wanted(s->owner))
		return;
	ev.u.share = (struct tenant_share_info){
		.share = s->handle, .ioas = s->ioas->handle, .iova = s->iova,
		.length = s->length, .writeable = s->writeable, .token = s->token,
	};
	emit(s->owner, &ev);
}

void journal_import(const struct tenant_import *imp, bool gone)
{
	struct tenant_journal_event ev = { .kind = TENANT_JOURNAL_IMPORT, .gone = gone };

	if (!wanted(imp->t))
		return;
	import_info(imp, imp->share->owner->name, &ev.u.import);
	emit(imp->t, &ev);
}

void journal_mapping(struct tenant *t, const struct ioas_obj *o,
		     const struct mapping *m, bool gone)
{
	struct tenant_journal_event ev = { .kind = TENANT_JOURNAL_MAPPING, .gone = gone };

	if (!wanted(t) || o->quiet)
		return;
	mapping_info(o, m, &ev.u.mapping);
	emit(t, &ev);
}

void journal_device(struct tenant *t, const struct tenant_device *d, bool gone)
{
	struct tenant_journal_event ev = { .kind = TENANT_JOURNAL_DEVICE, .gone = gone };

	if (!wanted(t))
		return;
	device_info(d, &ev.u.device);
	emit(t, &ev);
}

void journal_hwpt(struct tenant *t, const struct tenant_hwpt *h, bool gone)
{
	struct tenant_journal_event ev = { .kind = TENANT_JOURNAL_HWPT, .gone = gone };

	if (!wanted(t))
		return;
	hwpt_info(h, &ev.u.hwpt);
	emit(t, &ev);
}

void journal_fault(struct tenant *t, const struct tenant_fault *f, bool gone)
{
	struct tenant_journal_event ev = { .kind = TENANT_JOURNAL_FAULT, .gone = gone };

	if (!wanted(t))
		return;
	ev.u.fault = (struct tenant_fault_info){ .handle = f->handle, .id = f->id };
	emit(t, &ev);
}

void journal_pasid(struct tenant *t, const struct tenant_pasid *p, bool gone)
{
	struct tenant_journal_event ev = { .kind = TENANT_JOURNAL_PASID, .gone = gone };

	if (!wanted(t))
		return;
	ev.u.pasid = (struct tenant_pasid_info){
		.handle = p->handle, .device = p->device ? p->device->handle : 0,
		.pasid = p->pasid,
		.hwpt = p->hwpt ? p->hwpt->handle : 0,
		.ioas = p->ioas ? p->ioas->handle : 0,
	};
	emit(t, &ev);
}

void vobj_info(const struct tenant_viommu *v, struct tenant_vobj_info *ret)
{
	*ret = (struct tenant_vobj_info){
		.handle = v->handle, .id = v->id, .kind = v->kind, .type = v->type,
		.device = v->device, .parent = v->parent ? v->parent->handle : 0,
		.viommu = v->viommu ? v->viommu->handle : 0, .virt_id = v->virt_id,
	};
}

void journal_vobj(struct tenant *t, const struct tenant_viommu *v, bool gone)
{
	struct tenant_journal_event ev = { .kind = TENANT_JOURNAL_VOBJ, .gone = gone };

	if (!wanted(t))
		return;
	vobj_info(v, &ev.u.vobj);
	emit(t, &ev);
}
