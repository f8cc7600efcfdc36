/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
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

/* 1..max hex digits, stopping at the first non-hex character. */
static bool hex_field(const char **s, int max, unsigned *ret)
{
	unsigned v = 0;
	int n = 0;

	while (isxdigit((unsigned char)**s) && n < max) {
		char c = (char)tolower((unsigned char)**s);

		v = v << 4 | (unsigned)(isdigit((unsigned char)c) ? c - '0' : c - 'a' + 10);
		(*s)++;
		n++;
	}
	*ret = v;
	return n > 0;
}

int pci_parse_id(const char *s, uint16_t *ret_vendor, uint16_t *ret_device)
{
	unsigned a, b;
	const char *p = s;

	if (!hex_field(&p, 4, &a) || *p++ != ':' || !hex_field(&p, 4, &b) || *p)
		return -EINVAL;
	*ret_vendor = (uint16_t)a;
	*ret_device = (uint16_t)b;
	return 0;
}

int pci_parse_address(const char *s, struct pci_address *ret)
{
	unsigned a, b, c, dom = 0;
	const char *p = s;

	if (!hex_field(&p, 4, &a) || *p++ != ':' || !hex_field(&p, 2, &b))
		return -EINVAL;
	if (*p == ':') {                    /* domain:bus:slot.fn */
		p++;
		dom = a;
		a = b;
		if (!hex_field(&p, 2, &b))
			return -EINVAL;
	} else if (a > 0xff) {
		return -EINVAL;
	}
	if (*p++ != '.' || !hex_field(&p, 1, &c) || *p)
		return -EINVAL;
	if (b > 0x1f || c > 7)
		return -EINVAL;
	*ret = (struct pci_address){ .domain = (uint16_t)dom, .bus = (uint8_t)a,
				     .slot = (uint8_t)b, .function = (uint8_t)c };
	return 0;
}
