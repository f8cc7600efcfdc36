/* SPDX-License-Identifier: MIT */
/*
 * Text a client controls — its Hello name, the unit and cgroup names of its
 * process — on its way into a log line, the journal or the audit trail.
 * Everything that is not printable ASCII is written as a C-style escape, so
 * a client can neither end a log line and forge the next one ("\n<2>..."
 * would be a journal line of priority 2) nor send terminal escapes.
 *
 * Bytes >= 0x80 are escaped too, valid UTF-8 or not: it keeps the helper
 * small and shuts out C1 controls and bidirectional overrides as well.
 */
#pragma once

#include <stddef.h>

enum {
	/* Leave '\\' and bytes >= 0x80 as they are, escape only control
	 * characters: for text that is escaped already or comes from the
	 * administrator (a whole log line, a policy path). */
	ESCAPE_CONTROLS_ONLY = 1u << 0,
};

/*
 * Copy src into buf (size bytes; NUL-terminated whenever size > 0),
 * escaping '\\' as "\\\\", newline, carriage return and tab as "\\n", "\\r",
 * "\\t", and every other byte below 0x20, 0x7f and every byte from 0x80 as
 * "\\xNN". An escape is never cut in half: when buf is too small the copy
 * stops before it. Returns the length the whole escaped text needs, without
 * the NUL (like snprintf), so ret >= size means it was cut.
 */
size_t escape_text(char *buf, size_t size, const char *src, unsigned flags);
