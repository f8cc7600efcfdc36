/* SPDX-License-Identifier: MIT */
/* How ioasd writes PCI devices, once: addresses "DDDD:BB:SS.F" and ids
 * "VVVV:DDDD" (lower-case hex), as lspci and sysfs do. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define PCI_ADDRESS_LEN sizeof("0000:00:00.0")
#define PCI_ID_LEN sizeof("0000:0000")

void pci_format_address(char *buf, size_t size, uint32_t domain, uint32_t bus,
			uint32_t slot, uint32_t function);
void pci_format_id(char *buf, size_t size, uint32_t vendor, uint32_t device);

struct pci_address {
	uint16_t domain;
	uint8_t bus, slot, function;
};

/* The one grammar of what ioasd reads: an id "VVVV:DDDD" (1..4 hex digits
 * each) and an address "DDDD:BB:SS.F" or "BB:SS.F" (domain 0). 0 or
 * -EINVAL. */
int pci_parse_id(const char *s, uint16_t *ret_vendor, uint16_t *ret_device);
int pci_parse_address(const char *s, struct pci_address *ret);
