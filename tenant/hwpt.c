/* SPDX-License-Identifier: MIT */
/*
 * Hardware page tables of a device tenant (issue 15): IOMMU_GET_HW_INFO of
 * its devices, paging HWPTs from its IOASes, nesting parents and nested
 * HWPTs with driver data, their invalidation, and moving a device onto an
 * IOAS or an HWPT. Everything is in the tenant's own context; the kernel
 * judges what the hardware can do and its errno comes back unchanged.
 *
 * The tables keep what the kernel's object lifetimes are, so that a
 * refusal can say why before the kernel answers EBUSY: an HWPT is held by
 * the devices on it and by nested HWPTs made from it; an IOAS by the HWPTs
 * made from it (nhwpts). Handles are the tenant's, like IOAS handles.
 *
 * What issue 16 adds on top (fault queues, dirty tracking reads, PASID)
 * comes in through tenant_hwpt_req and the flags kept in each HWPT; the
 * flags not brokered yet are refused here with EOPNOTSUPP.
 */
#include "common/hwptdata.h"
#include "tenant/tenant-internal.h"

#define BROKERED_FLAGS (BACKEND_HWPT_NEST_PARENT | BACKEND_HWPT_DIRTY_TRACKING | \
			BACKEND_HWPT_FAULT_ID_VALID | BACKEND_HWPT_PASID)

static void hwpt_free(struct tenant *t, struct tenant_hwpt *h);

static void hwpt_free(struct tenant *t, struct tenant_hwpt *h);

struct tenant_device *device_get(struct tenant *t, uint32_t handle,
				 struct err *e)
{
	struct tenant_device *d;

	LIST_FOREACH(d, &t->devices, link)
		if (d->handle == handle)
			return d;
	err_set(e, ENOENT, "no device with handle %" PRIu32, handle);
	return NULL;
}

struct tenant_hwpt *hwpt_get(struct tenant *t, uint32_t handle, struct err *e)
{
	struct tenant_hwpt *h;

	LIST_FOREACH(h, &t->hwpts, link)
		if (h->handle == handle)
			return h;
	err_set(e, ENOENT, "no HWPT with handle %" PRIu32, handle);
	return NULL;
}

/* HWPTs are for devices: a tenant with AllowDevice= in its own context. */
int check_device_tenant(struct tenant *t, struct err *e)
{
	int r = check_not_orphaned(t, e);

	if (r < 0)
		return r;
	if (!t->pt)
		return err_set(e, EPERM,
			       "hardware page tables need a policy section with "
			       "AllowDevice= (the daemon runs with --no-policy)");
	if (!t->device_ctx || !t->own_ctx)
		return err_set(e, EXDEV,
			       "tenant %s has no context of its own (AllowDevice= "
			       "came with a reload): no device, so no HWPT", t->name);
	return 0;
}

int tenant_hw_info(struct tenant *t, uint32_t device,
		   struct backend_hw_info *ret, struct err *e)
{
	struct tenant_device *d;
	int r = check_device_tenant(t, e);

	if (r < 0)
		return r;
	d = device_get(t, device, e);
	if (!d)
		return -ENOENT;
	r = backend_hw_info(t->backend, d->dev_id, ret);
	if (r < 0)
		return err_errno(e, r, "IOMMU_GET_HW_INFO of device %" PRIu32
				 " refused", device);
	return 0;
}

/* The policy's say on flags and data (the kernel's comes after). */
static int check_alloc_policy(struct tenant *t, const struct tenant_hwpt_req *q,
			      bool nested, struct err *e)
{
	char why[400], names[128];
	enum policy_key k;
	int i;

	if (q->flags & ~BROKERED_FLAGS)
		return err_set(e, EOPNOTSUPP,
			       "HWPT flags 0x%" PRIx32 ": only NEST_PARENT (0x1), "
			       "DIRTY_TRACKING (0x2), FAULT_ID_VALID (0x4, with a "
			       "fault queue) and PASID (0x8) are brokered", q->flags);
	k = policy_hwpt_refusing_key(t->pt, q->flags, nested);
	if (k != _POLICY_KEY_MAX)
		return err_set(e, EPERM, "%s refused by %s=%s",
			       k == POLICY_KEY_ALLOW_DIRTY_TRACKING ?
			       "a dirty-tracking HWPT" : nested ? "a nested HWPT" :
			       "a nesting parent HWPT", policy_key_name(k),
			       cite(t, k, why, sizeof(why)));
	if (q->data_type == 0 && q->data_len == 0)
		return 0;
	i = hwpt_data_by_alloc_type(q->data_type);
	if (!policy_hwpt_data_allowed(t->pt, i)) {
		hwpt_data_format_set(t->pt->hwpt_data, names, sizeof(names));
		return err_set(e, EPERM,
			       "HWPT driver data type %s (0x%" PRIx32 ") is not in "
			       "AllowedHwptData=%s%s", i < 0 ? "(unknown)" :
			       hwpt_data_kinds[i].name, q->data_type, names,
			       cite(t, POLICY_KEY_ALLOWED_HWPT_DATA, why, sizeof(why)));
	}
	return 0;
}

int tenant_hwpt_alloc(struct tenant *t, const struct tenant_hwpt_req *q,
		      uint32_t *ret_handle, struct err *e)
{
	struct backend_hwpt_alloc a = { 0 };
	struct tenant_hwpt *h, *parent = NULL;
	struct tenant_viommu *vi = NULL;
	struct tenant_fault *f = NULL;
	struct tenant_device *d;
	struct ioas_obj *o = NULL;
	char why[400];
	int r;

	if (q->data_len > TENANT_HWPT_DATA_MAX)
		return err_set(e, E2BIG, "HWPT driver data of %" PRIu32
			       " bytes: at most %u", q->data_len, TENANT_HWPT_DATA_MAX);
	r = check_device_tenant(t, e);
	if (r < 0)
		return r;
	if (!!q->ioas + !!q->parent + !!q->viommu != 1)
		return err_set(e, EINVAL,
			       "an HWPT is allocated from an IOAS, a nesting parent HWPT "
			       "or a vIOMMU: name exactly one");
	d = hwpt_test_mock(t, q->device) ? NULL : device_get(t, q->device, e);
	if (!d && !hwpt_test_mock(t, q->device))
		return -ENOENT;
	if (q->ioas) {
		o = ioas_get(t, q->ioas, e);
		if (!o)
			return -ENOENT;
	} else if (q->parent) {
		parent = hwpt_get(t, q->parent, e);
		if (!parent)
			return -ENOENT;
		o = parent->ioas;
	} else {
		vi = viommu_get(t, q->viommu, TENANT_VIOMMU, e);
		if (!vi)
			return -ENOENT;
		o = vi->parent->ioas;
	}
	if (d)
		a.dev_id = d->dev_id;
	else if ((r = hwpt_test_mock_dev_id(t, o, &a.dev_id, e)) < 0)
		return r;
	r = check_alloc_policy(t, q, parent || vi, e);
	if (r < 0)
		return r;
	/* FAULT_ID_VALID goes with a fault queue (tenant/faults.c). */
	if (!(q->flags & BACKEND_HWPT_FAULT_ID_VALID) != !q->fault)
		return err_set(e, EINVAL, "FAULT_ID_VALID (0x4) and a fault queue "
			       "go together: name both or neither");
	if (q->fault && !(f = fault_get(t, q->fault, e)))
		return -ENOENT;
	if (t->usage.hwpts >= t->pt->max_hwpts)
		return err_set(e, ENOSPC, "HWPT limit reached: %" PRIu32 " of MaxHwpts=%"
			       PRIu32 "%s", t->usage.hwpts, t->pt->max_hwpts,
			       cite(t, POLICY_KEY_MAX_HWPTS, why, sizeof(why)));
	if (t->next_hwpt_handle == 0)
		return err_set(e, ENOSPC, "HWPT handle space exhausted");
	h = calloc(1, sizeof(*h));
	if (!h)
		return err_set(e, ENOMEM, "out of memory");
	if (q->data_len) {
		/* Kept for a restart on the sim, which allocates it again. */
		h->data = malloc(q->data_len);
		if (!h->data) {
			free(h);
			return err_set(e, ENOMEM, "out of memory");
		}
		memcpy(h->data, q->data, q->data_len);
		h->data_len = q->data_len;
	}
	a.flags = q->flags;
	a.pt_id = parent ? parent->id : vi ? vi->id : o->id;
	a.data_type = q->data_type;
	a.data = q->data;
	a.data_len = q->data_len;
	a.fault_id = f ? f->id : 0;
	r = backend_hwpt_alloc(t->backend, &a, &h->id);
	if (r < 0) {
		free(h->data);
		free(h);
		return err_errno(e, r, "IOMMU_HWPT_ALLOC of a %s HWPT (flags 0x%" PRIx32
				 ", data type 0x%" PRIx32 ") for device %" PRIu32
				 " refused%s", parent ? "nested" : "paging", q->flags,
				 q->data_type, q->device,
				 r == -EOPNOTSUPP ? ": the IOMMU driver does not support it" : "");
	}
	h->handle = t->next_hwpt_handle++;
	h->flags = q->flags;
	h->data_type = q->data_type;
	h->ioas = o;
	h->parent = parent;
	h->viommu = vi;
	h->device = q->device;
	h->fault = f;
	if (f)
		f->hwpts++;
	if (parent)
		parent->children++;
	if (vi)
		vi->users++;
	o->nhwpts++;
	LIST_INSERT_HEAD(&t->hwpts, h, link);
	t->usage.hwpts++;
	r = hwpt_test_check_nested(t, h, e);
	if (r < 0) {
		(void)backend_destroy(t->backend, h->id);
		hwpt_free(t, h);
		return r;
	}
	journal_hwpt(t, h, false);
	journal_tenant(t, false); /* its next HWPT handle */
	*ret_handle = h->handle;
	return 0;
}

static void hwpt_free(struct tenant *t, struct tenant_hwpt *h)
{
	journal_hwpt(t, h, true);
	free(h->data);
	if (h->parent)
		h->parent->children--;
	if (h->viommu)
		h->viommu->users--;
	if (h->fault)
		h->fault->hwpts--;
	h->ioas->nhwpts--;
	LIST_REMOVE(h, link);
	t->usage.hwpts--;
	free(h);
}

int tenant_hwpt_destroy(struct tenant *t, uint32_t handle, struct err *e)
{
	struct tenant_hwpt *h = hwpt_get(t, handle, e);
	int r;

	if (!h)
		return -ENOENT;
	if (h->devices || h->children || h->pasids)
		return err_set(e, EBUSY,
			       "HWPT %" PRIu32 " is in use: %" PRIu32 " device(s) on it, %"
			       PRIu32 " nested HWPT(s) made from it, %" PRIu32
			       " PASID(s) attached to it", handle,
			       h->devices, h->children, h->pasids);
	r = backend_destroy(t->backend, h->id);
	if (r < 0)
		return err_errno(e, r, "IOMMU_DESTROY of HWPT %" PRIu32 " refused",
				 handle);
	hwpt_free(t, h);
	return 0;
}

/* With the tenant (its devices detached already): youngest first, so that
 * every nested HWPT goes before its parent. */
void hwpts_release(struct tenant *t)
{
	struct tenant_hwpt *h, *next;
	int r;

	hwpt_test_mock_release(t);
	/* Those made from a vIOMMU, then the vIOMMUs, then the rest. */
	for (h = LIST_FIRST(&t->hwpts); h; h = next) {
		next = LIST_NEXT(h, link);
		if (!h->viommu)
			continue;
		r = backend_destroy(t->backend, h->id);
		if (r < 0)
			log_warn("tenant %s: HWPT %" PRIu32 " (id %" PRIu32 ") not "
				 "destroyed: %s (it goes with the context)", t->name,
				 h->handle, h->id, strerror(-r));
		hwpt_free(t, h);
	}
	vobjs_release(t, true);
	while ((h = LIST_FIRST(&t->hwpts))) {
		r = backend_destroy(t->backend, h->id);
		if (r < 0)
			log_warn("tenant %s: HWPT %" PRIu32 " (id %" PRIu32 ") not "
				 "destroyed: %s (it goes with the context)", t->name,
				 h->handle, h->id, strerror(-r));
		hwpt_free(t, h);
	}
}

/* IOMMU_HWPT_INVALIDATE of object id (an HWPT's or a vIOMMU's), what
 * names it in messages: the bounds, the policy's data types, the kernel. */
static int invalidate(struct tenant *t, uint32_t id, const char *what,
		      uint32_t handle, uint32_t data_type, const void *entries,
		      uint32_t entry_len, uint32_t *entry_num, struct err *e)
{
	uint32_t want = *entry_num;
	char why[400], names[128];
	int r, i;

	*entry_num = 0;
	i = hwpt_data_by_invalidate_type(data_type);
	/* The type of a nested HWPT's entries goes with its data type. */
	if (i < 0 || !policy_hwpt_data_allowed(t->pt, i)) {
		hwpt_data_format_set(t->pt->hwpt_data, names, sizeof(names));
		return err_set(e, EPERM,
			       "invalidation data type 0x%" PRIx32 " (%s) is not in "
			       "AllowedHwptData=%s%s", data_type,
			       i < 0 ? "unknown" : hwpt_data_kinds[i].name, names,
			       cite(t, POLICY_KEY_ALLOWED_HWPT_DATA, why, sizeof(why)));
	}
	*entry_num = want;
	r = backend_hwpt_invalidate(t->backend, id, data_type, entries,
				    entry_len, entry_num);
	if (r < 0)
		return err_errno(e, r, "IOMMU_HWPT_INVALIDATE of %s %" PRIu32
				 " refused after %" PRIu32 " of %" PRIu32 " entries",
				 what, handle, *entry_num, want);
	return 0;
}

/* Bounds first, then who asks: no tenant state is read for bad input. */
static int check_entries(struct tenant *t, uint32_t want, uint32_t entry_len,
			 struct err *e)
{
	if (want && (entry_len == 0 || entry_len > TENANT_INVALIDATE_ENTRY_MAX))
		return err_set(e, EINVAL, "invalidation entry length %" PRIu32
			       ": 1 to %u bytes", entry_len, TENANT_INVALIDATE_ENTRY_MAX);
	if ((uint64_t)want * entry_len > TENANT_INVALIDATE_MAX_BYTES)
		return err_set(e, E2BIG, "%" PRIu32 " invalidation entries of %" PRIu32
			       " bytes: at most %u bytes in one request", want,
			       entry_len, TENANT_INVALIDATE_MAX_BYTES);
	return check_device_tenant(t, e);
}

int tenant_hwpt_invalidate(struct tenant *t, uint32_t handle,
			   uint32_t data_type, const void *entries,
			   uint32_t entry_len, uint32_t *entry_num,
			   struct err *e)
{
	struct tenant_hwpt *h;
	int r = check_entries(t, *entry_num, entry_len, e);

	if (r < 0) {
		*entry_num = 0;
		return r;
	}
	h = hwpt_get(t, handle, e);
	if (!h) {
		*entry_num = 0;
		return -ENOENT;
	}
	r = invalidate(t, h->id, "HWPT", handle, data_type, entries, entry_len,
		       entry_num, e);
	if (hwpt_test_check_invalidate(t, h, data_type, entries, entry_len,
				       *entry_num, e) < 0)
		return -EIO;
	return r;
}

int tenant_viommu_invalidate(struct tenant *t, uint32_t handle,
			     uint32_t data_type, const void *entries,
			     uint32_t entry_len, uint32_t *entry_num,
			     struct err *e)
{
	struct tenant_viommu *v;
	int r = check_entries(t, *entry_num, entry_len, e);

	if (r < 0) {
		*entry_num = 0;
		return r;
	}
	v = viommu_get(t, handle, TENANT_VIOMMU, e);
	if (!v) {
		*entry_num = 0;
		return -ENOENT;
	}
	r = invalidate(t, v->id, "vIOMMU", handle, data_type, entries,
		       entry_len, entry_num, e);
	if (hwpt_test_check_viommu_invalidate(t, v, data_type, entries, entry_len,
					      *entry_num, e) < 0)
		return -EIO;
	return r;
}

int tenant_device_replace(struct tenant *t, uint32_t device, uint32_t ioas,
			  uint32_t hwpt, struct err *e)
{
	struct tenant_device *d;
	struct tenant_hwpt *h = NULL;
	struct ioas_obj *o;
	uint32_t got;
	int r = check_not_orphaned(t, e);

	if (r < 0)
		return r;
	if (!ioas == !hwpt)
		return err_set(e, EINVAL, "a device goes onto an IOAS or an HWPT: "
			       "name exactly one");
	d = hwpt_test_mock(t, device) ? NULL : device_get(t, device, e);
	if (!d && !hwpt_test_mock(t, device))
		return -ENOENT;
	if (hwpt) {
		h = hwpt_get(t, hwpt, e);
		if (!h)
			return -ENOENT;
		o = h->ioas;
	} else {
		o = ioas_get(t, ioas, e);
		if (!o)
			return -ENOENT;
	}
	if (!d) {
		r = hwpt_test_mock_replace(t, o, h, e);
		if (r == 0)
			faults_test_replaced(t, o, h); /* faults-test.c */
		return r;
	}
	r = backend_device_attach(t->backend, d->fd, h ? h->id : o->id, &got);
	if (r < 0)
		return err_errno(e, r, "VFIO_DEVICE_ATTACH_IOMMUFD_PT of device %"
				 PRIu32 " onto %s %" PRIu32 " refused (it stays where it was)",
				 device, h ? "HWPT" : "IOAS", h ? hwpt : ioas);
	d->ioas->ndevices--;
	if (d->hwpt)
		d->hwpt->devices--;
	d->ioas = o;
	d->hwpt = h;
	d->hwpt_id = got;
	o->ndevices++;
	if (h)
		h->devices++;
	if (d->stored)
		journal_device(t, d, false);
	return 0;
}

const struct tenant_hwpt *tenant_hwpt_next(const struct tenant *t,
					   const struct tenant_hwpt *prev,
					   struct tenant_hwpt_list_info *ret)
{
	const struct tenant_hwpt *h = prev ? LIST_NEXT(prev, link) :
					     LIST_FIRST(&t->hwpts);

	if (h) {
		*ret = (struct tenant_hwpt_list_info){
			.hwpt = h->handle, .ioas = h->ioas->handle,
			.parent = h->parent ? h->parent->handle : 0,
			.device = h->device, .flags = h->flags,
			.data_type = h->data_type, .children = h->children,
			.devices = h->devices,
			.fault = h->fault ? h->fault->handle : 0,
		};
	}
	return h;
}

/* ------------------------------------------------------------ restart */

/* Oldest first: a parent before its children, as restoring needs them. */
int tenant_dump_hwpts(const struct tenant *t, const struct tenant_dump_ops *ops,
		      void *userdata)
{
	const struct tenant_hwpt **v, *h;
	struct tenant_hwpt_info hi;
	size_t n = 0;
	int r = 0;

	if (!ops->hwpt || LIST_EMPTY(&t->hwpts))
		return 0;
	LIST_FOREACH(h, &t->hwpts, link)
		n++;
	v = calloc(n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	n = 0;
	LIST_FOREACH(h, &t->hwpts, link)
		v[n++] = h;
	while (n > 0 && r >= 0) {
		hwpt_info(v[--n], &hi);
		r = ops->hwpt(userdata, &hi);
	}
	free(v);
	return r < 0 ? r : 0;
}

int tenant_restore_hwpt(struct tenant *t, const struct tenant_hwpt_info *i,
			bool replay, struct err *e)
{
	struct ioas_obj key = { .handle = i->ioas }, *o;
	struct tenant_hwpt *h, *parent = NULL;
	struct tenant_device *d, *dev = NULL;
	struct tenant_fault *f = NULL;
	struct tenant_viommu *vi = NULL;
	uint32_t got;
	int r;

	if (i->handle == 0)
		return err_set(e, EINVAL, "HWPT handle 0");
	if (i->viommu) {
		if (replay)
			return err_set(e, EOPNOTSUPP, "made from vIOMMU %" PRIu32 ", which a "
				       "fresh context does not have", i->viommu);
		vi = viommu_get(t, i->viommu, TENANT_VIOMMU, e);
		if (!vi)
			return err_set(e, ENOENT, "its vIOMMU %" PRIu32 " was not restored",
				       i->viommu);
	}
	LIST_FOREACH(h, &t->hwpts, link) {
		if (h->handle == i->handle)
			return err_set(e, EEXIST, "HWPT handle %" PRIu32 " twice", i->handle);
		if (i->parent && h->handle == i->parent)
			parent = h;
	}
	if (i->parent && !parent)
		return err_set(e, ENOENT, "its parent HWPT %" PRIu32 " was not restored",
			       i->parent);
	if (i->fault && !(f = fault_get(t, i->fault, e)))
		return -ENOENT;
	o = parent ? parent->ioas : vi ? vi->parent->ioas :
		RB_FIND(ioas_tree, &t->ioases, &key);
	if (!o)
		return err_set(e, ENOENT, "its IOAS %" PRIu32 " was not restored", i->ioas);
	h = calloc(1, sizeof(*h));
	if (!h)
		return err_set(e, ENOMEM, "out of memory");
	if (i->data_len) {
		h->data = malloc(i->data_len);
		if (!h->data) {
			free(h);
			return err_set(e, ENOMEM, "out of memory");
		}
		memcpy(h->data, i->data, i->data_len);
		h->data_len = i->data_len;
	}
	h->id = i->id;
	if (replay) {
		/* A fresh context: allocated again for its device, or for
		 * another of the tenant's (the same IOMMU) if that one left. */
		struct backend_hwpt_alloc a = {
			.flags = i->flags, .pt_id = parent ? parent->id : o->id,
			.data_type = i->data_type, .data = h->data,
			.data_len = h->data_len, .fault_id = f ? f->id : 0,
		};

		LIST_FOREACH(d, &t->devices, link)
			if (!dev || d->handle == i->device)
				dev = d;
		r = dev ? 0 : -ENODEV;
		if (dev) {
			a.dev_id = dev->dev_id;
			r = backend_hwpt_alloc(t->backend, &a, &h->id);
		}
		if (r < 0) {
			free(h->data);
			free(h);
			return err_errno(e, r, "allocating it again");
		}
	}
	h->handle = i->handle;
	h->flags = i->flags;
	h->data_type = i->data_type;
	h->ioas = o;
	h->parent = parent;
	h->viommu = vi;
	h->device = i->device;
	h->fault = f;
	if (f)
		f->hwpts++;
	if (parent)
		parent->children++;
	if (vi)
		vi->users++;
	o->nhwpts++;
	LIST_INSERT_HEAD(&t->hwpts, h, link);
	t->usage.hwpts++;
	if (t->next_hwpt_handle <= i->handle)
		t->next_hwpt_handle = i->handle + 1;
	if (o->restore_mock_on == h->handle && !replay) {
		/* Test builds: the mock device is still on it in the kernel. */
		o->restore_mock_on = 0;
		o->mock_on = h;
		h->devices++;
	}
	/* The devices that were on it. */
	LIST_FOREACH(d, &t->devices, link) {
		if (d->restore_hwpt != h->handle)
			continue;
		d->restore_hwpt = 0;
		if (replay) {
			r = backend_device_attach(t->backend, d->fd, h->id, &got);
			if (r < 0) {
				log_warn("tenant %s: device %" PRIu32 " stays on IOAS %"
					 PRIu32 ", not back onto HWPT %" PRIu32 ": %s",
					 t->name, d->handle, d->ioas->handle, h->handle,
					 strerror(-r));
				continue;
			}
			d->hwpt_id = got;
		}
		d->ioas->ndevices--;
		d->ioas = o;
		o->ndevices++;
		d->hwpt = h;
		h->devices++;
	}
	return 0;
}
