/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>

#include "common/pci.h"
#include "iommu/backend.h"

int backend_open(enum backend_kind kind, const char *dev_path,
		 struct backend **ret, bool *ret_fell_back)
{
	int r;

	if (ret_fell_back)
		*ret_fell_back = false;
	switch (kind) {
	case BACKEND_KERNEL:
		return backend_kernel_open(dev_path, ret);
	case BACKEND_SIM:
		return backend_sim_open(ret);
	case BACKEND_AUTO:
		r = backend_kernel_open(dev_path, ret);
		if (r >= 0)
			return r;
		r = backend_sim_open(ret);
		if (r >= 0 && ret_fell_back)
			*ret_fell_back = true;
		return r;
	}
	return -EINVAL;
}

struct backend *backend_close(struct backend *b)
{
	if (b)
		b->ops->close(b);
	return NULL;
}

void backend_device_format(const struct backend_device_info *d, char *buf,
			   size_t size)
{
	char addr[PCI_ADDRESS_LEN], id[PCI_ID_LEN];

	pci_format_address(addr, sizeof(addr), d->domain, d->bus, d->slot, d->function);
	pci_format_id(id, sizeof(id), d->vendor, d->device);
	snprintf(buf, size, "%s (%s)", addr, id);
}

uint32_t backend_sweep_ioases(struct backend *b, const uint32_t *known,
			      size_t n, uint32_t margin)
{
	uint32_t top = 0, swept = 0;

	for (size_t i = 0; i < n; i++)
		if (known[i] > top)
			top = known[i];
	for (uint32_t id = 1; id <= top + margin && id != 0; id++) {
		uint32_t num = 0;
		uint64_t align, unmapped;
		bool listed = false;
		int r;

		for (size_t i = 0; i < n && !listed; i++)
			listed = known[i] == id;
		if (listed)
			continue;
		/* IOVA_RANGES answers only for an IOAS (ENOENT for any other
		 * object or none); with no room: EMSGSIZE. Emptied first: one
		 * that a device holds (EBUSY) maps nothing any more. */
		r = backend_iova_ranges(b, id, NULL, &num, &align);
		if (r != 0 && r != -EMSGSIZE)
			continue;
		(void)backend_unmap(b, id, 0, UINT64_MAX, &unmapped);
		if (backend_destroy(b, id) == 0)
			swept++;
	}
	return swept;
}

#define SWEEP_PASSES 8 /* deeper than any chain of holders the daemon makes */

uint32_t backend_sweep_objects(struct backend *b, const uint32_t *known,
			       size_t n, uint32_t margin)
{
	uint32_t top = 0, swept = 0, pass_swept = 1;

	/* An id past the bound (a sim's device ids) is kept, not probed up to. */
	for (size_t i = 0; i < n; i++)
		if (known[i] > top && known[i] <= BACKEND_SWEEP_MAX_ID)
			top = known[i];
	for (int pass = 0; pass < SWEEP_PASSES && pass_swept; pass++) {
		pass_swept = 0;
		for (uint32_t id = 1; id <= top + margin && id != 0; id++) {
			bool listed = false;

			for (size_t i = 0; i < n && !listed; i++)
				listed = known[i] == id;
			if (!listed && backend_destroy(b, id) == 0)
				pass_swept++;
		}
		swept += pass_swept;
	}
	return swept;
}
