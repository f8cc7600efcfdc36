/* SPDX-License-Identifier: MIT */
/*
 * vIOMMU objects of a device tenant (issue 15; Linux 6.13 and later):
 * a vIOMMU on one of its nesting parent HWPTs (IOMMU_VIOMMU_ALLOC), a
 * device's virtual id in it (IOMMU_VDEVICE_ALLOC), its event queues
 * (IOMMU_VEVENTQ_ALLOC: the fd goes to the client, which reads the events
 * itself), nested HWPTs made from it (tenant/hwpt.c) and invalidations of
 * its caches. AllowViommu= decides; they count in MaxHwpts=.
 *
 * On a kernel without them (6.12: the ioctls are ENOTTY) the client gets
 * EOPNOTSUPP, saying so: ENOTTY would say that the daemon was sent a bad
 * ioctl, not that the kernel lacks the feature (README "Hardware page
 * tables"). They are kept across a daemon restart (records of kind 'v',
 * persist/): the stored context still has them, the restore adopts their
 * ids; a vEVENTQ's fd stays with the client, which reads it as before.
 */
#include "tenant/tenant-internal.h"

#define VOBJ_NAME(k) ((k) == TENANT_VIOMMU ? "vIOMMU" : (k) == TENANT_VDEVICE ? "vDEVICE" : "vEVENTQ")
#define SELFTEST_VEVENTQ_TYPE 0xbeefbeefu /* IOMMU_VEVENTQ_TYPE_SELFTEST */

struct tenant_viommu *viommu_get(struct tenant *t, uint32_t handle,
				 enum tenant_vobj_kind kind, struct err *e)
{
	struct tenant_viommu *v;

	LIST_FOREACH(v, &t->vobjs, link)
		if (v->handle == handle && v->kind == kind)
			return v;
	err_set(e, ENOENT, "no %s with handle %" PRIu32, VOBJ_NAME(kind), handle);
	return NULL;
}

/* The policy, the quota and the handle space, in that order. */
static int check_vobj(struct tenant *t, struct err *e)
{
	char why[400];
	int r = check_device_tenant(t, e);

	if (r < 0)
		return r;
	if (!t->pt->allow_viommu)
		return err_set(e, EPERM, "vIOMMU objects refused by AllowViommu=%s",
			       cite(t, POLICY_KEY_ALLOW_VIOMMU, why, sizeof(why)));
	if (t->usage.hwpts >= t->pt->max_hwpts)
		return err_set(e, ENOSPC, "HWPT and vIOMMU object limit reached: %" PRIu32
			       " of MaxHwpts=%" PRIu32 "%s", t->usage.hwpts,
			       t->pt->max_hwpts,
			       cite(t, POLICY_KEY_MAX_HWPTS, why, sizeof(why)));
	if (t->next_vobj_handle == 0)
		return err_set(e, ENOSPC, "vIOMMU object handle space exhausted");
	return 0;
}

/* The kernel's refusal, with ENOTTY (no such ioctl) said as EOPNOTSUPP. */
static int refused(struct err *e, int r, const char *ioctl_name, const char *since)
{
	if (r == -ENOTTY)
		return err_set(e, EOPNOTSUPP, "this kernel has no %s (Linux %s and later)",
			       ioctl_name, since);
	return err_errno(e, r, "%s refused", ioctl_name);
}

/* The device object a vIOMMU or vDEVICE is for: a tenant's device, or the
 * test builds' mock device of the IOAS o (device 0). */
static int dev_id_of(struct tenant *t, uint32_t device, struct ioas_obj *o,
		     uint32_t *ret, struct err *e)
{
	struct tenant_device *d;

	if (hwpt_test_mock(t, device))
		return hwpt_test_mock_dev_id(t, o, ret, e);
	d = device_get(t, device, e);
	if (!d)
		return -ENOENT;
	*ret = d->dev_id;
	return 0;
}

static struct tenant_viommu *vobj_new(struct tenant *t, enum tenant_vobj_kind kind,
				      uint32_t id)
{
	struct tenant_viommu *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->kind = kind;
	v->id = id;
	v->handle = t->next_vobj_handle++;
	LIST_INSERT_HEAD(&t->vobjs, v, link);
	t->usage.hwpts++;
	return v;
}

int tenant_viommu_alloc(struct tenant *t, uint32_t device, uint32_t hwpt,
			uint32_t type, const void *data, uint32_t data_len,
			uint32_t *ret_handle, struct err *e)
{
	struct backend_viommu_alloc a = { .type = type, .data = data,
					  .data_len = data_len };
	struct tenant_hwpt *parent = NULL, *h;
	struct tenant_viommu *v;
	uint32_t id;
	int r;

	if (data_len > TENANT_HWPT_DATA_MAX)
		return err_set(e, E2BIG, "vIOMMU data of %" PRIu32 " bytes: at most %u",
			       data_len, TENANT_HWPT_DATA_MAX);
	r = check_vobj(t, e);
	if (r < 0)
		return r;
	LIST_FOREACH(h, &t->hwpts, link)
		if (h->handle == hwpt)
			parent = h;
	if (!parent)
		return err_set(e, ENOENT, "no HWPT with handle %" PRIu32, hwpt);
	r = dev_id_of(t, device, parent->ioas, &a.dev_id, e);
	if (r < 0)
		return r;
	a.hwpt_id = parent->id;
	r = backend_viommu_alloc(t->backend, &a, &id);
	if (r < 0)
		return refused(e, r, "IOMMU_VIOMMU_ALLOC", "6.13");
	v = vobj_new(t, TENANT_VIOMMU, id);
	if (!v) {
		(void)backend_destroy(t->backend, id);
		return err_set(e, ENOMEM, "out of memory");
	}
	v->type = type;
	v->device = device;
	v->parent = parent;
	parent->children++; /* the vIOMMU holds its nesting parent */
	journal_vobj(t, v, false);
	journal_tenant(t, false); /* its next handle */
	*ret_handle = v->handle;
	return 0;
}

int tenant_vdevice_alloc(struct tenant *t, uint32_t viommu, uint32_t device,
			 uint64_t virt_id, uint32_t *ret_handle, struct err *e)
{
	struct tenant_viommu *vi, *v;
	uint32_t dev_id, id;
	int r = check_vobj(t, e);

	if (r < 0)
		return r;
	vi = viommu_get(t, viommu, TENANT_VIOMMU, e);
	if (!vi)
		return -ENOENT;
	r = dev_id_of(t, device, vi->parent->ioas, &dev_id, e);
	if (r < 0)
		return r;
	r = backend_vdevice_alloc(t->backend, vi->id, dev_id, virt_id, &id);
	if (r < 0)
		return refused(e, r, "IOMMU_VDEVICE_ALLOC", "6.13");
	v = vobj_new(t, TENANT_VDEVICE, id);
	if (!v) {
		(void)backend_destroy(t->backend, id);
		return err_set(e, ENOMEM, "out of memory");
	}
	v->device = device;
	v->viommu = vi;
	v->virt_id = virt_id;
	vi->users++;
	journal_vobj(t, v, false);
	journal_tenant(t, false);
	*ret_handle = v->handle;
	return 0;
}

/* Test builds with mock domains: a selftest vEVENTQ gets one event from
 * each mock device with a vDEVICE in its vIOMMU (IOMMU_TEST_OP_TRIGGER_
 * VEVENT), for the client to read from its fd. */
static void test_trigger(struct tenant *t, const struct tenant_viommu *q)
{
	struct tenant_viommu *v;
	uint32_t idev;
	struct err e = { 0 };
	int r;

	if (!t->set->test_mock_domains || q->type != SELFTEST_VEVENTQ_TYPE)
		return;
	LIST_FOREACH(v, &t->vobjs, link) {
		if (v->kind != TENANT_VDEVICE || v->viommu != q->viommu ||
		    !hwpt_test_mock(t, v->device))
			continue;
		if (hwpt_test_mock_dev_id(t, q->viommu->parent->ioas, &idev, &e) < 0)
			continue;
		r = backend_kernel_test_trigger_vevent(t->backend, idev);
		log_info("test hook: tenant %s: IOMMU_TEST_OP_TRIGGER_VEVENT for vDEVICE %"
			 PRIu32 " (virt_id 0x%" PRIx64 "): %s", t->name, v->handle,
			 v->virt_id, r < 0 ? strerror(-r) : "triggered");
	}
}

int tenant_veventq_alloc(struct tenant *t, uint32_t viommu, uint32_t type,
			 uint32_t depth, uint32_t *ret_handle, int *ret_fd,
			 struct err *e)
{
	struct tenant_viommu *vi, *v;
	uint32_t id;
	int fd = -1;
	int r = check_vobj(t, e);

	if (r < 0)
		return r;
	vi = viommu_get(t, viommu, TENANT_VIOMMU, e);
	if (!vi)
		return -ENOENT;
	r = backend_veventq_alloc(t->backend, vi->id, type, depth, &id, &fd);
	if (r < 0)
		return refused(e, r, "IOMMU_VEVENTQ_ALLOC", "6.15");
	v = vobj_new(t, TENANT_VEVENTQ, id);
	if (!v) {
		safe_close(fd);
		(void)backend_destroy(t->backend, id);
		return err_set(e, ENOMEM, "out of memory");
	}
	v->type = type;
	v->viommu = vi;
	vi->users++;
	journal_vobj(t, v, false);
	journal_tenant(t, false);
	test_trigger(t, v);
	*ret_handle = v->handle;
	*ret_fd = fd;
	return 0;
}

static void vobj_free(struct tenant *t, struct tenant_viommu *v)
{
	journal_vobj(t, v, true);
	if (v->viommu)
		v->viommu->users--;
	if (v->parent)
		v->parent->children--;
	LIST_REMOVE(v, link);
	t->usage.hwpts--;
	free(v);
}

int tenant_vobj_destroy(struct tenant *t, enum tenant_vobj_kind kind,
			uint32_t handle, struct err *e)
{
	struct tenant_viommu *v = viommu_get(t, handle, kind, e);
	int r;

	if (!v)
		return -ENOENT;
	if (v->users)
		return err_set(e, EBUSY, "vIOMMU %" PRIu32 " is in use by %" PRIu32
			       " vDEVICE(s), vEVENTQ(s) and nested HWPT(s)", handle,
			       v->users);
	r = backend_destroy(t->backend, v->id);
	if (r < 0)
		return err_errno(e, r, "IOMMU_DESTROY of %s %" PRIu32 " refused%s",
				 VOBJ_NAME(kind), handle,
				 kind == TENANT_VEVENTQ && r == -EBUSY ?
				 " (the kernel keeps a queue while its fd is open: "
				 "close it first)" : "");
	vobj_free(t, v);
	return 0;
}

void vobjs_release(struct tenant *t, bool viommus)
{
	struct tenant_viommu *v, *next;
	int r;

	for (v = LIST_FIRST(&t->vobjs); v; v = next) {
		next = LIST_NEXT(v, link);
		if ((v->kind == TENANT_VIOMMU) != viommus)
			continue;
		r = backend_destroy(t->backend, v->id);
		if (r < 0)
			log_warn("tenant %s: %s %" PRIu32 " (id %" PRIu32 ") not destroyed: %s "
				 "(it goes with the context)", t->name, VOBJ_NAME(v->kind),
				 v->handle, v->id, strerror(-r));
		vobj_free(t, v);
	}
}

/* ------------------------------------------------------------ restart */

/* Oldest first: a vIOMMU before what is in it. */
int tenant_dump_vobjs(const struct tenant *t, const struct tenant_dump_ops *ops,
		      void *userdata)
{
	const struct tenant_viommu **a, *v;
	struct tenant_vobj_info vi;
	size_t n = 0;
	int r = 0;

	if (!ops->vobj || LIST_EMPTY(&t->vobjs))
		return 0;
	LIST_FOREACH(v, &t->vobjs, link)
		n++;
	a = calloc(n, sizeof(*a));
	if (!a)
		return -ENOMEM;
	n = 0;
	LIST_FOREACH(v, &t->vobjs, link)
		a[n++] = v;
	while (n > 0 && r >= 0) {
		vobj_info(a[--n], &vi);
		r = ops->vobj(userdata, &vi);
	}
	free(a);
	return r < 0 ? r : 0;
}

int tenant_restore_vobj(struct tenant *t, const struct tenant_vobj_info *i,
			bool replay, struct err *e)
{
	struct tenant_hwpt *h, *parent = NULL;
	struct tenant_viommu *v, *vi = NULL;

	if (i->kind > TENANT_VEVENTQ)
		return err_set(e, EINVAL, "unknown kind %" PRIu32, i->kind);
	if (i->handle == 0 || i->id == 0)
		return err_set(e, EINVAL, "handle or object id 0");
	if (replay)
		return err_set(e, EOPNOTSUPP, "a fresh context does not have it (the "
			       "kernel object was lost with the stored context)");
	LIST_FOREACH(v, &t->vobjs, link) {
		if (v->handle == i->handle)
			return err_set(e, EEXIST, "handle %" PRIu32 " twice", i->handle);
		if (v->handle == i->viommu && v->kind == TENANT_VIOMMU)
			vi = v;
	}
	if (i->kind == TENANT_VIOMMU) {
		LIST_FOREACH(h, &t->hwpts, link)
			if (h->handle == i->parent)
				parent = h;
		if (!parent)
			return err_set(e, ENOENT, "its parent HWPT %" PRIu32 " was not restored",
				       i->parent);
	} else if (!vi) {
		return err_set(e, ENOENT, "its vIOMMU %" PRIu32 " was not restored",
			       i->viommu);
	}
	v = calloc(1, sizeof(*v));
	if (!v)
		return err_set(e, ENOMEM, "out of memory");
	v->kind = i->kind;
	v->id = i->id;
	v->handle = i->handle;
	v->type = i->type;
	v->device = i->device;
	v->virt_id = i->virt_id;
	v->parent = parent;
	v->viommu = vi;
	if (parent)
		parent->children++;
	if (vi)
		vi->users++;
	LIST_INSERT_HEAD(&t->vobjs, v, link);
	t->usage.hwpts++;
	if (t->next_vobj_handle <= i->handle)
		t->next_vobj_handle = i->handle + 1;
	if (v->kind == TENANT_VEVENTQ)
		test_trigger(t, v); /* test builds: an event for the client's kept fd */
	return 0;
}
