/* SPDX-License-Identifier: MIT */
/* libioas: VFIO devices, and the sim devices of the sim backend. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

/* ------------------------------------------------------------ devices */

void libioas_device_info_copy(struct ioas_device_info *o,
			     const Ioasd__DeviceInfo *d)
{
	memset(o, 0, sizeof(*o));
	o->device = d->device;
	o->ioas = d->ioas;
	o->vendor = (uint16_t)d->vendor;
	o->device_id = (uint16_t)d->device_id;
	snprintf(o->pci_address, sizeof(o->pci_address), "%s",
		 d->pci_address ? d->pci_address : "");
	snprintf(o->name, sizeof(o->name), "%s", d->name ? d->name : "");
}

IOAS_EXPORT int ioas_device_attach(struct ioas_client *c, uint32_t ioas,
				   int fd, struct ioas_device_info *ret)
{
	Ioasd__DeviceInfo *d;
	int r;

	if (fd < 0)
		return libioas_fail(c, -EBADF, "no device fd");
	r = REQUEST(c, attach_device, fd, &d, .ioas = ioas);
	if (r == 0 && ret)
		libioas_device_info_copy(ret, d);
	return r;
}

IOAS_EXPORT int ioas_device_detach(struct ioas_client *c, uint32_t device)
{
	return REQUEST_NO_REPLY(c, detach_device, -1, .device = device);
}

IOAS_EXPORT int ioas_device_list(struct ioas_client *c,
				 struct ioas_device_info **ret, uint32_t *n)
{
	Ioasd__DeviceListReply *l;
	struct ioas_device_info *out;
	int r;

	if (!ret || !n)
		return libioas_fail(c, -EINVAL, "no place for the list");
	r = REQUEST(c, device_list, -1, &l);
	if (r < 0)
		return r;
	out = calloc(l->n_devices + 1, sizeof(*out));
	if (!out)
		return libioas_fail(c, -ENOMEM, "out of memory");
	for (size_t i = 0; i < l->n_devices; i++)
		libioas_device_info_copy(&out[i], l->devices[i]);
	*n = (uint32_t)l->n_devices;
	*ret = out;
	return 0;
}

IOAS_EXPORT int ioas_sim_device_create(const char *vendor_device,
				       const char *pci_address, int *ret_fd)
{
	unsigned v, d, dom, bus, slot, fn;
	const char *mock;
	char name[80];
	char tail;
	int fd, n;

	if (!vendor_device || !pci_address || !ret_fd ||
	    sscanf(vendor_device, "%4x:%4x%c", &v, &d, &tail) != 2)
		return -EINVAL;
	/* "+mock": behind the sim's model of the self-test IOMMU driver. */
	mock = strchr(pci_address, '+');
	n = sscanf(pci_address, "%4x:%2x:%2x.%1x%c", &dom, &bus, &slot, &fn, &tail);
	if ((n != 4 && !(n == 5 && mock && !strcmp(mock, "+mock") &&
			 mock == strchr(pci_address, '.') + 2)) ||
	    slot > 0x1f || fn > 7)
		return -EINVAL;
	if (n == 4)
		mock = NULL;
	snprintf(name, sizeof(name), "ioasd-sim-device:%04x:%04x@%04x:%02x:%02x.%x%s",
		 v, d, dom, bus, slot, fn, mock ? "+mock" : "");
	fd = memfd_create(name, MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}
