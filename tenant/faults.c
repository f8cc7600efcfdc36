/* SPDX-License-Identifier: MIT */
/*
 * Issue 16 in the model: I/O page fault queues, dirty tracking of HWPTs and
 * PASID attachments of a device tenant's devices, all in its own context.
 *
 * Fault queues. The daemon owns the queue object (its lifetime: EBUSY while
 * an HWPT allocated with it lives, released with the tenant); its fd goes
 * to the client, which reads fault groups and writes page responses itself:
 * the daemon keeps no copy and is never on the fault path. The kernel holds
 * the object while that fd is open too (the file has a reference on it:
 * IOMMU_DESTROY is EBUSY, measured on 6.12 and 7.2); a tenant released
 * while its client keeps the fd leaves the object to go with the fd.
 *
 * Dirty tracking. The bitmap goes into memory the client registered: the
 * daemon maps the bytes it needs for the one call and unmaps them; nothing
 * of the bitmap crosses the socket. Its size and page size are bounded
 * here, before the kernel sees them (TENANT_DIRTY_*).
 *
 * PASIDs. Only on kernels that have VFIO's PASID attach (backend
 * has_pasid; 6.12 does not: EOPNOTSUPP here, as its HWPT_ALLOC_PASID says);
 * a PASID must lie in AllowedPASID=. The kernel's own rules (an HWPT
 * allocated with IOMMU_HWPT_ALLOC_PASID, the RID on a PASID-compatible
 * one) are its to judge: its errno comes back. Test builds: device 0 is
 * the IOAS's self-test mock device (faults-test.c), reached by the mock's
 * PASID ops instead of VFIO; its PASID is on one mock device at a time.
 */
#include "iommu/backend-faults.h"
#include "tenant/tenant-internal.h"

struct tenant_fault *fault_get(struct tenant *t, uint32_t handle, struct err *e)
{
	struct tenant_fault *f;

	LIST_FOREACH(f, &t->faults, link)
		if (f->handle == handle)
			return f;
	err_set(e, ENOENT, "no fault queue with handle %" PRIu32, handle);
	return NULL;
}

int tenant_fault_alloc(struct tenant *t, uint32_t *ret_handle, int *ret_fd,
		       struct err *e)
{
	struct tenant_fault *f;
	char why[400];
	int r, fd;

	r = check_device_tenant(t, e);
	if (r < 0)
		return r;
	if (t->usage.fault_queues >= t->pt->max_fault_queues)
		return err_set(e, ENOSPC, "fault queue limit reached: %" PRIu32
			       " of MaxFaultQueues=%" PRIu32 "%s",
			       t->usage.fault_queues, t->pt->max_fault_queues,
			       cite(t, POLICY_KEY_MAX_FAULT_QUEUES, why, sizeof(why)));
	if (t->next_fault_handle == 0)
		return err_set(e, ENOSPC, "fault queue handle space exhausted");
	f = calloc(1, sizeof(*f));
	if (!f)
		return err_set(e, ENOMEM, "out of memory");
	r = backend_fault_alloc(t->backend, &f->id, &fd);
	if (r < 0) {
		free(f);
		return err_errno(e, r, "IOMMU_FAULT_QUEUE_ALLOC refused");
	}
	f->handle = t->next_fault_handle++;
	LIST_INSERT_HEAD(&t->faults, f, link);
	t->usage.fault_queues++;
	journal_fault(t, f, false);
	journal_tenant(t, false); /* its next fault queue handle */
	*ret_handle = f->handle;
	*ret_fd = fd;
	return 0;
}

static void fault_free(struct tenant *t, struct tenant_fault *f)
{
	journal_fault(t, f, true);
	LIST_REMOVE(f, link);
	t->usage.fault_queues--;
	free(f);
}

int tenant_fault_destroy(struct tenant *t, uint32_t handle, struct err *e)
{
	struct tenant_fault *f = fault_get(t, handle, e);
	int r;

	if (!f)
		return -ENOENT;
	if (f->hwpts)
		return err_set(e, EBUSY, "fault queue %" PRIu32 " is in use: %" PRIu32
			       " HWPT(s) were allocated with it", handle, f->hwpts);
	r = backend_destroy(t->backend, f->id);
	if (r == -EBUSY)
		return err_set(e, EBUSY, "IOMMU_DESTROY of fault queue %" PRIu32
			       " refused: the kernel holds a queue while its fd is "
			       "open (close the fd first)", handle);
	if (r < 0)
		return err_errno(e, r, "IOMMU_DESTROY of fault queue %" PRIu32
				 " refused", handle);
	fault_free(t, f);
	return 0;
}

/* With the tenant, after its HWPTs. */
void faults_release(struct tenant *t)
{
	struct tenant_fault *f;
	int r;

	while ((f = LIST_FIRST(&t->faults))) {
		r = backend_destroy(t->backend, f->id);
		if (r < 0)
			log_warn("tenant %s: fault queue %" PRIu32 " (id %" PRIu32 ") not "
				 "destroyed: %s (%s)", t->name, f->handle, f->id,
				 strerror(-r), r == -EBUSY ? "its fd is still open in "
				 "the client: the kernel frees it when that closes" :
				 "it goes with the context");
		fault_free(t, f);
	}
}

/* ------------------------------------------------------------ dirty */

int tenant_hwpt_set_dirty(struct tenant *t, uint32_t hwpt, bool enable,
			  struct err *e)
{
	struct tenant_hwpt *h;
	int r = check_device_tenant(t, e);

	if (r < 0)
		return r;
	h = hwpt_get(t, hwpt, e);
	if (!h)
		return -ENOENT;
	r = backend_hwpt_set_dirty(t->backend, h->id, enable);
	if (r < 0)
		return err_errno(e, r, "IOMMU_HWPT_SET_DIRTY_TRACKING (%s) of HWPT %"
				 PRIu32 " refused%s", enable ? "on" : "off", hwpt,
				 r == -EOPNOTSUPP && !(h->flags & BACKEND_HWPT_DIRTY_TRACKING) ?
				 ": it was not allocated with DIRTY_TRACKING (0x2)" : "");
	if (enable)
		faults_test_dirty_on(t, h); /* test builds: faults-test.c */
	return 0;
}

/* The bounds of a bitmap request, before anything is looked up. */
static int check_bitmap(const struct tenant_dirty_req *q, uint64_t *ret_bytes,
			struct err *e)
{
	uint64_t ps = q->page_size, bytes;

	if (ps < TENANT_DIRTY_PAGE_MIN || ps > TENANT_DIRTY_PAGE_MAX || (ps & (ps - 1)))
		return err_set(e, EINVAL, "dirty bitmap page size %" PRIu64 ": a power "
			       "of two from %u bytes to 1 GiB", ps, TENANT_DIRTY_PAGE_MIN);
	if (!q->length || (q->length & (ps - 1)) || (q->iova & (ps - 1)))
		return err_set(e, EINVAL, "dirty range [0x%" PRIx64 ", +0x%" PRIx64
			       "): not empty, and IOVA and length multiples of the "
			       "page size %" PRIu64, q->iova, q->length, ps);
	if (q->iova + q->length - 1 < q->iova)
		return err_set(e, EOVERFLOW, "dirty range [0x%" PRIx64 ", +0x%" PRIx64
			       ") wraps", q->iova, q->length);
	bytes = backend_dirty_bitmap_size(q->length, ps);
	if (bytes > TENANT_DIRTY_BITMAP_MAX)
		return err_set(e, E2BIG, "a dirty bitmap of %" PRIu64 " bytes (%" PRIu64
			       " pages): at most %u bytes in one request", bytes,
			       q->length / ps, TENANT_DIRTY_BITMAP_MAX);
	if (q->offset & 7)
		return err_set(e, EINVAL, "dirty bitmap offset %" PRIu64 ": a multiple "
			       "of 8 (the bitmap is of 64-bit words)", q->offset);
	*ret_bytes = bytes;
	return 0;
}

int tenant_hwpt_get_dirty(struct tenant *t, const struct tenant_dirty_req *q,
			  uint64_t *ret_bytes, uint64_t *ret_dirty, struct err *e)
{
	const struct memory_region *reg;
	struct tenant_hwpt *h;
	struct mem_obj *m;
	uint64_t bytes = 0, start, delta, maplen, dirty = 0;
	uint8_t *map;
	int r;

	r = check_bitmap(q, &bytes, e);
	if (r < 0)
		return r;
	r = check_device_tenant(t, e);
	if (r < 0)
		return r;
	h = hwpt_get(t, q->hwpt, e);
	if (!h)
		return -ENOENT;
	m = mem_get(t, q->memory, e);
	if (!m)
		return -ENOENT;
	reg = m->region;
	if (!reg->writable)
		return err_set(e, EACCES, "memory %" PRIu32 " is not writable (opened "
			       "read-only or sealed against writes): no place for a "
			       "dirty bitmap", q->memory);
	if (q->offset > reg->length || bytes > reg->length - q->offset)
		return err_set(e, EINVAL, "a dirty bitmap of %" PRIu64 " bytes at offset %"
			       PRIu64 " does not fit memory %" PRIu32 " (%" PRIu64
			       " bytes)", bytes, q->offset, q->memory, reg->length);
	/* Map just the pages that hold it (mmap offsets are page aligned). */
	start = reg->offset + q->offset;
	delta = start & (reg->page_size - 1);
	maplen = (delta + bytes + reg->page_size - 1) & ~(reg->page_size - 1);
	map = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_SHARED, reg->fd,
		   (off_t)(start - delta));
	if (map == MAP_FAILED)
		return err_set(e, errno, "mapping memory %" PRIu32 " for the dirty "
			       "bitmap: %s", q->memory, strerror(errno));
	r = backend_hwpt_get_dirty(t->backend, h->id,
				   q->no_clear ? BACKEND_DIRTY_NO_CLEAR : 0, q->iova,
				   q->length, q->page_size, map + delta);
	if (r == 0)
		for (uint64_t i = 0; i < bytes; i++)
			dirty += (uint64_t)__builtin_popcount(map[delta + i]);
	munmap(map, maplen);
	if (r < 0)
		return err_errno(e, r, "IOMMU_HWPT_GET_DIRTY_BITMAP of HWPT %" PRIu32
				 " [0x%" PRIx64 ", +0x%" PRIx64 ") refused", q->hwpt,
				 q->iova, q->length);
	*ret_bytes = bytes;
	*ret_dirty = dirty;
	return 0;
}

/* ------------------------------------------------------------ PASIDs */

/* d NULL: device 0, the test builds' mock device. */
static struct tenant_pasid *pasid_find(struct tenant *t,
				       const struct tenant_device *d,
				       uint32_t pasid)
{
	struct tenant_pasid *p;

	LIST_FOREACH(p, &t->pasids, link)
		if (p->device == d && p->pasid == pasid)
			return p;
	return NULL;
}

static void pasid_unhold(struct tenant_pasid *p)
{
	if (p->hwpt)
		p->hwpt->pasids--;
	else if (p->ioas)
		p->ioas->nhwpts--;
}

static void pasid_free(struct tenant *t, struct tenant_pasid *p);

static int check_pasid(struct tenant *t, uint32_t pasid, struct err *e)
{
	char why[400], list[200] = "";
	size_t n = 0;

	if (!t->backend->has_pasid)
		return err_set(e, EOPNOTSUPP, "this kernel has no PASID attach "
			       "(VFIO_DEVICE_ATTACH_PASID, Linux 6.15 and later)");
	if (pasid == 0)
		return err_set(e, EINVAL, "PASID 0 stands for the device's own "
			       "requests (its RID): use DeviceReplace");
	if (policy_pasid_range(t->pt, pasid))
		return 0;
	for (size_t i = 0; i < t->pt->n_pasids && n < sizeof(list); i++) {
		const struct policy_range *r = &t->pt->pasids[i];

		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%" PRIu64 "-%" PRIu64,
				      i ? " " : "", r->start, r->last);
	}
	return err_set(e, EPERM, "PASID %" PRIu32 " is not in AllowedPASID=%s%s",
		       pasid, t->pt->n_pasids ? list : " (none)",
		       cite(t, POLICY_KEY_ALLOWED_PASID, why, sizeof(why)));
}

int tenant_pasid_attach(struct tenant *t, uint32_t device, uint32_t pasid,
			uint32_t ioas, uint32_t hwpt, struct err *e)
{
	struct tenant_device *d;
	struct tenant_hwpt *h = NULL;
	struct ioas_obj *o = NULL, *mock;
	struct tenant_pasid *p;
	bool detached;
	uint32_t got;
	int r;

	r = check_device_tenant(t, e);
	if (r < 0)
		return r;
	if (!ioas == !hwpt)
		return err_set(e, EINVAL, "a PASID is attached to an IOAS or an HWPT: "
			       "name exactly one");
	r = check_pasid(t, pasid, e);
	if (r < 0)
		return r;
	d = hwpt_test_mock(t, device) ? NULL : device_get(t, device, e);
	if (!d && !hwpt_test_mock(t, device))
		return -ENOENT;
	if (hwpt ? !(h = hwpt_get(t, hwpt, e)) : !(o = ioas_get(t, ioas, e)))
		return -ENOENT;
	mock = d ? NULL : h ? h->ioas : o;
	p = pasid_find(t, d, pasid);
	if (p && p->mock != mock)
		return err_set(e, EBUSY, "test hook: device 0 at PASID %" PRIu32 " is the "
			       "mock device of IOAS %" PRIu32 "; detach it there first",
			       pasid, p->mock->handle);
	if (!p && t->usage.pasids >= TENANT_MAX_PASIDS)
		return err_set(e, ENOSPC, "PASID attachment limit reached: %u per "
			       "tenant", TENANT_MAX_PASIDS);
	if (!p && t->next_pasid_handle == 0)
		return err_set(e, ENOSPC, "PASID record handle space exhausted");
	if (mock) {
		r = faults_test_pasid_attach(t, mock, pasid, h, p != NULL, &got,
					     &detached, e);
		if (r < 0 && p && detached)
			pasid_free(t, p); /* the kernel did not confirm a replace */
		if (r < 0)
			return r;
	} else if ((r = backend_pasid_attach(t->backend, d->fd, pasid, h ? h->id : o->id,
					     &got)) < 0)
		return err_errno(e, r, "VFIO_DEVICE_ATTACH_IOMMUFD_PT of device %" PRIu32
				 " at PASID %" PRIu32 " onto %s %" PRIu32 " refused%s",
				 device, pasid, h ? "HWPT" : "IOAS", h ? hwpt : ioas,
				 r == -EINVAL ? " (the kernel wants an HWPT allocated "
				 "with PASID (0x8), the device's RID on one too)" : "");
	if (p) {
		pasid_unhold(p); /* replaced */
	} else {
		p = calloc(1, sizeof(*p));
		if (!p) {
			/* The kernel attached it: undo, since it cannot be kept. */
			if (mock)
				(void)backend_kernel_test_pasid_detach(t->backend,
								       mock->mock_stdev, pasid);
			else
				(void)backend_pasid_detach(t->backend, d->fd, pasid);
			return err_set(e, ENOMEM, "out of memory");
		}
		p->device = d;
		p->mock = mock;
		p->pasid = pasid;
		p->handle = t->next_pasid_handle++;
		LIST_INSERT_HEAD(&t->pasids, p, link);
		t->usage.pasids++;
		journal_tenant(t, false); /* its next PASID record handle */
	}
	p->hwpt = h;
	p->ioas = h ? NULL : o;
	p->pt_id = got;
	if (h)
		h->pasids++;
	else
		o->nhwpts++;
	journal_pasid(t, p, false);
	return 0;
}

static void pasid_free(struct tenant *t, struct tenant_pasid *p)
{
	journal_pasid(t, p, true);
	pasid_unhold(p);
	LIST_REMOVE(p, link);
	t->usage.pasids--;
	free(p);
}

int tenant_pasid_detach(struct tenant *t, uint32_t device, uint32_t pasid,
			struct err *e)
{
	struct tenant_device *d;
	struct tenant_pasid *p;
	int r = check_device_tenant(t, e);

	if (r < 0)
		return r;
	d = hwpt_test_mock(t, device) ? NULL : device_get(t, device, e);
	if (!d && !hwpt_test_mock(t, device))
		return -ENOENT;
	p = pasid_find(t, d, pasid);
	if (!p)
		return err_set(e, ENOENT, "device %" PRIu32 " has nothing attached at "
			       "PASID %" PRIu32, device, pasid);
	if (!d) {
		r = faults_test_pasid_detach(t, p->mock, pasid, e);
		if (r < 0)
			return r;
	} else if ((r = backend_pasid_detach(t->backend, d->fd, pasid)) < 0)
		return err_errno(e, r, "VFIO_DEVICE_DETACH_IOMMUFD_PT of device %" PRIu32
				 " at PASID %" PRIu32 " refused", device, pasid);
	pasid_free(t, p);
	return 0;
}

/* A device going (detached, or with the tenant): its PASIDs first. d NULL:
 * those of the mock devices (test builds; before the HWPTs go). */
void pasids_release(struct tenant *t, const struct tenant_device *d,
		    bool detach)
{
	struct tenant_pasid *p, *next;
	int r;

	for (p = LIST_FIRST(&t->pasids); p; p = next) {
		next = LIST_NEXT(p, link);
		if (p->device != d)
			continue;
		r = !detach ? 0 : d ? backend_pasid_detach(t->backend, d->fd, p->pasid) :
			backend_kernel_test_pasid_detach(t->backend, p->mock->mock_stdev,
							 p->pasid);
		if (r < 0)
			log_warn("tenant %s: device %" PRIu32 " PASID %" PRIu32
				 " not detached: %s", t->name, d ? d->handle : 0, p->pasid,
				 strerror(-r));
		pasid_free(t, p);
	}
}

const struct tenant_pasid *tenant_pasid_next(const struct tenant *t,
					     const struct tenant_pasid *prev,
					     struct tenant_pasid_list_info *ret)
{
	const struct tenant_pasid *p = prev ? LIST_NEXT(prev, link) :
					      LIST_FIRST(&t->pasids);

	if (p)
		*ret = (struct tenant_pasid_list_info){
			.device = p->device ? p->device->handle : 0, .pasid = p->pasid,
			.ioas = p->ioas ? p->ioas->handle : 0,
			.hwpt = p->hwpt ? p->hwpt->handle : 0,
		};
	return p;
}

/* ------------------------------------------------------------ restart */

/* Oldest first (the lists are newest first): queues, or PASIDs. */
int tenant_dump_faults(const struct tenant *t, const struct tenant_dump_ops *ops,
		       void *userdata, bool pasids)
{
	const struct tenant_fault *f;
	const struct tenant_pasid *p;
	int r = 0;

	if (!pasids && ops->fault && !LIST_EMPTY(&t->faults)) {
		const struct tenant_fault **v;
		size_t n = 0;

		LIST_FOREACH(f, &t->faults, link)
			n++;
		v = calloc(n, sizeof(*v));
		if (!v)
			return -ENOMEM;
		n = 0;
		LIST_FOREACH(f, &t->faults, link)
			v[n++] = f;
		while (n > 0 && r >= 0) {
			const struct tenant_fault *g = v[--n];
			struct tenant_fault_info i = { .handle = g->handle, .id = g->id };

			r = ops->fault(userdata, &i);
		}
		free(v);
	}
	if (pasids && ops->pasid) {
		LIST_FOREACH(p, &t->pasids, link) {
			struct tenant_pasid_info i = {
				.handle = p->handle,
				.device = p->device ? p->device->handle : 0,
				.pasid = p->pasid, .hwpt = p->hwpt ? p->hwpt->handle : 0,
				.ioas = p->ioas ? p->ioas->handle : 0,
			};

			r = ops->pasid(userdata, &i);
			if (r < 0)
				break;
		}
	}
	return r < 0 ? r : 0;
}

int tenant_restore_fault(struct tenant *t, const struct tenant_fault_info *i,
			 bool replay, struct err *e)
{
	struct tenant_fault *f;
	int r, fd;

	if (i->handle == 0)
		return err_set(e, EINVAL, "fault queue handle 0");
	LIST_FOREACH(f, &t->faults, link)
		if (f->handle == i->handle)
			return err_set(e, EEXIST, "fault queue %" PRIu32 " twice", i->handle);
	f = calloc(1, sizeof(*f));
	if (!f)
		return err_set(e, ENOMEM, "out of memory");
	f->id = i->id;
	if (replay) {
		r = backend_fault_alloc(t->backend, &f->id, &fd);
		if (r < 0) {
			free(f);
			return err_errno(e, r, "allocating it again");
		}
		close(fd);
		log_warn("tenant %s: fault queue %" PRIu32 " allocated again in a "
			 "fresh context: the client's fd was of the old one",
			 t->name, i->handle);
	}
	f->handle = i->handle;
	LIST_INSERT_HEAD(&t->faults, f, link);
	t->usage.fault_queues++;
	if (t->next_fault_handle <= i->handle)
		t->next_fault_handle = i->handle + 1;
	return 0;
}

int tenant_restore_pasid(struct tenant *t, const struct tenant_pasid_info *i,
			 bool replay, struct err *e)
{
	struct tenant_device *d;
	struct tenant_hwpt *h = NULL;
	struct ioas_obj *o = NULL, *mock;
	struct tenant_pasid *p;
	bool detached;
	uint32_t got = 0;
	int r;

	if (i->handle == 0)
		return err_set(e, EINVAL, "PASID record handle 0");
	d = hwpt_test_mock(t, i->device) ? NULL : device_get(t, i->device, e);
	if (!d && !hwpt_test_mock(t, i->device))
		return -ENOENT;
	if (!i->hwpt == !i->ioas)
		return err_set(e, EINVAL, "neither or both of an HWPT and an IOAS");
	if (i->hwpt ? !(h = hwpt_get(t, i->hwpt, e)) : !(o = ioas_get(t, i->ioas, e)))
		return -ENOENT;
	mock = d ? NULL : h ? h->ioas : o;
	if (pasid_find(t, d, i->pasid))
		return err_set(e, EEXIST, "PASID %" PRIu32 " of device %" PRIu32
			       " twice", i->pasid, i->device);
	if (replay) {
		if (mock)
			r = faults_test_pasid_attach(t, mock, i->pasid, h, false, &got,
						     &detached, e);
		else if ((r = backend_pasid_attach(t->backend, d->fd, i->pasid,
						   h ? h->id : o->id, &got)) < 0)
			err_errno(e, r, "attaching it again");
		if (r < 0)
			return r;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return err_set(e, ENOMEM, "out of memory");
	*p = (struct tenant_pasid){
		.handle = i->handle, .device = d, .mock = mock, .pasid = i->pasid, .hwpt = h,
		.ioas = h ? NULL : o, .pt_id = got,
	};
	if (h)
		h->pasids++;
	else
		o->nhwpts++;
	LIST_INSERT_HEAD(&t->pasids, p, link);
	t->usage.pasids++;
	if (t->next_pasid_handle <= i->handle)
		t->next_pasid_handle = i->handle + 1;
	return 0;
}
