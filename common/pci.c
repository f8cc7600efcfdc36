/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "pci.h"

void pci_format_address(char *buf, size_t size, uint32_t domain, uint32_t bus,
			uint32_t slot, uint32_t function)
{
	snprintf(buf, size, "%04x:%02x:%02x.%x", domain, bus, slot, function);
}

void pci_format_id(char *buf, size_t size, uint32_t vendor, uint32_t device)
{
	snprintf(buf, size, "%04x:%04x", vendor, device);
}
