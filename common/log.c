/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/escape.h"
#include "common/log.h"

static int max_level = LOG_INFO;

void log_set_level(int level)
{
	max_level = level;
}

int log_get_level(void)
{
	return max_level;
}

static bool to_journal(void)
{
	static int cached = -1;

	if (cached < 0)
		cached = getenv("JOURNAL_STREAM") != NULL;
	return cached;
}

void log_msg(int level, const char *fmt, ...)
{
	static const char *const names[] = {
		"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug",
	};
	char buf[1024], line[4 * sizeof(buf)];
	va_list ap;

	if (level > max_level)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* One message is one line, whatever text reached it: a newline
	 * followed by "<2>" would be a journal line of its own. Client text
	 * is escaped where it enters (escape.h); this is the backstop. */
	escape_text(line, sizeof(line), buf, ESCAPE_CONTROLS_ONLY);
	if (to_journal())
		fprintf(stderr, "<%d>%s\n", level, line);
	else
		fprintf(stderr, "ioasd: %s: %s\n", names[level & 7], line);
}
