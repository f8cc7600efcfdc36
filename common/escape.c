/* SPDX-License-Identifier: MIT */
#include <stdbool.h>

#include "common/escape.h"

/* The escape of byte c into out (at most 4 bytes), or 0 when it needs none. */
static size_t escape_one(unsigned char c, unsigned flags, char out[4])
{
	static const char hex[] = "0123456789abcdef";
	bool only_controls = flags & ESCAPE_CONTROLS_ONLY;

	switch (c) {
	case '\n':
		out[1] = 'n';
		break;
	case '\r':
		out[1] = 'r';
		break;
	case '\t':
		out[1] = 't';
		break;
	case '\\':
		if (only_controls)
			return 0;
		out[1] = '\\';
		break;
	default:
		if (c >= 0x20 && c < 0x7f)
			return 0;
		if (c >= 0x80 && only_controls)
			return 0;
		out[0] = '\\';
		out[1] = 'x';
		out[2] = hex[c >> 4];
		out[3] = hex[c & 0xf];
		return 4;
	}
	out[0] = '\\';
	return 2;
}

size_t escape_text(char *buf, size_t size, const char *src, unsigned flags)
{
	size_t len = 0;
	bool full = size == 0;

	for (const unsigned char *p = (const unsigned char *)src; *p; p++) {
		char esc[4];
		size_t n = escape_one(*p, flags, esc);

		if (n == 0) {
			esc[0] = (char)*p;
			n = 1;
		}
		/* Whole escapes only: once one does not fit, nothing more is
		 * copied, but the needed length is still counted. */
		if (!full && len + n < size) {
			for (size_t i = 0; i < n; i++)
				buf[len + i] = esc[i];
		} else if (!full) {
			buf[len] = '\0';
			full = true;
		}
		len += n;
	}
	if (!full)
		buf[len] = '\0';
	return len;
}
