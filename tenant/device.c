/* SPDX-License-Identifier: MIT */
/*
 * VFIO devices: identity checked against AllowDevice=, bound to the
 * tenant's own context, attached to one of its IOASes, detached, released.
 */
#include "tenant/tenant-internal.h"

/* ------------------------------------------------------------ devices */

struct backend *tenant_backend(const struct tenant *t)
{
	return t->backend;
}

bool tenant_has_own_context(const struct tenant *t)
{
	return t->device_ctx;
}

int tenant_device_attach(struct tenant *t, int fd, uint32_t ioas,
			 uint32_t *ret_handle, struct backend_device_info *ret_info,
			 bool *ret_identified, struct err *e)
{
	struct backend_device_info info;
	struct tenant_device *d;
	char dev[64], bdf[16], why[400];
	struct ioas_obj *o;
	int r, id;

	/* Identified first, so that every refusal can name the device; its
	 * errors come in their place below. */
	id = backend_device_identify(t->backend, fd, &info);
	if (id == 0) {
		*ret_info = info;
		*ret_identified = true;
	}
	r = check_not_orphaned(t, e);
	if (r < 0)
		return r;
	if (!t->pt)
		return err_set(e, EPERM,
			       "devices need a policy section with AllowDevice= "
			       "(the daemon runs with --no-policy)");
	o = ioas_get(t, ioas, e);
	if (!o)
		return -ENOENT;
	r = id;
	if (r == -ENOTTY)
		return err_set(e, ENOTTY,
			       "the fd is not a VFIO device cdev (/dev/vfio/devices/vfioN)");
	if (r == -ENODEV)
		return err_set(e, ENODEV,
			       "the VFIO device is not a PCI device (AllowDevice= names PCI devices)");
	if (r < 0)
		return err_errno(e, r, "identifying the device");
	backend_device_format(&info, dev, sizeof(dev));
	pci_format_address(bdf, sizeof(bdf), info.domain, info.bus, info.slot,
			   info.function);
	if (!policy_tenant_device_allowed(t->pt, info.vendor, info.device, bdf))
		return err_set(e, EPERM, "device %s is not in AllowDevice=%s", dev,
			       cite(t, POLICY_KEY_ALLOW_DEVICE, why, sizeof(why)));
	if (!t->device_ctx || !t->own_ctx)
		return err_set(e, EXDEV,
			       "tenant %s was given AllowDevice= (by a reload) after it had "
			       "IOASes in the shared context, where devices are never bound; "
			       "it gets a context of its own once all its connections close",
			       t->name);
	if (t->usage.devices >= TENANT_MAX_DEVICES)
		return err_set(e, ENOSPC, "device limit reached: %u per tenant",
			       TENANT_MAX_DEVICES);
	if (t->next_device_handle == 0)
		return err_set(e, ENOSPC, "device handle space exhausted");
	d = calloc(1, sizeof(*d));
	if (!d)
		return err_set(e, ENOMEM, "out of memory");
	d->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (d->fd < 0) {
		r = -errno;
		free(d);
		return err_errno(e, r, "keeping a copy of the device fd");
	}
	r = backend_device_bind(t->backend, d->fd, &d->dev_id);
	if (r < 0) {
		safe_close(d->fd);
		free(d);
		if (r == -EINVAL)
			return err_errno(e, r,
					 "VFIO_DEVICE_BIND_IOMMUFD of %s refused: this open file of "
					 "the device is bound already (a file binds once, for its "
					 "whole life; open the device again)", dev);
		return err_errno(e, r, "VFIO_DEVICE_BIND_IOMMUFD of %s refused", dev);
	}
	r = backend_device_attach(t->backend, d->fd, o->id, &d->hwpt_id);
	if (r < 0) {
		/* The file stays bound to this tenant's context until the
		 * client closes its copy: nothing of another tenant's is in
		 * reach, but the same file cannot be bound again. */
		safe_close(d->fd);
		free(d);
		return err_errno(e, r,
				 "VFIO_DEVICE_ATTACH_IOMMUFD_PT of %s to IOAS %" PRIu32
				 " refused (the file stays bound to this tenant's context; "
				 "to retry, open the device again)", dev, ioas);
	}
	if (t->set->fd_store_hook) {
		r = t->set->fd_store_hook(t->set->fd_store_data, "dev", d->fd, &d->store_id, e);
		if (r < 0) {
			(void)backend_device_detach(t->backend, d->fd);
			safe_close(d->fd);
			free(d);
			return r;
		}
		d->stored = true;
	}
	d->handle = t->next_device_handle++;
	d->info = info;
	device_insert(t, d, o);
	journal_tenant(t, false);
	*ret_handle = d->handle;
	return 0;
}

int tenant_device_detach(struct tenant *t, uint32_t handle, struct err *e)
{
	struct tenant_device *d;
	int r;

	LIST_FOREACH(d, &t->devices, link)
		if (d->handle == handle)
			break;
	if (!d)
		return err_set(e, ENOENT, "no device with handle %" PRIu32, handle);
	r = backend_device_detach(t->backend, d->fd);
	if (r < 0)
		return err_errno(e, r, "VFIO_DEVICE_DETACH_IOMMUFD_PT refused");
	device_free(t, d, false);
	return 0;
}

const struct tenant_device *tenant_device_next(const struct tenant *t,
					       const struct tenant_device *prev,
					       struct tenant_device_list_info *ret)
{
	const struct tenant_device *d = prev ? LIST_NEXT(prev, link) :
					       LIST_FIRST(&t->devices);

	if (d) {
		ret->device = d->handle;
		ret->ioas = d->ioas->handle;
		ret->info = d->info;
	}
	return d;
}
