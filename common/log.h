/* SPDX-License-Identifier: MIT */
/* Program logging: to stderr, with syslog-style "<N>" prefixes when stderr is
 * connected to the journal (JOURNAL_STREAM), so journald keeps the levels. */
#pragma once

#include <syslog.h>

void log_set_level(int level); /* LOG_ERR .. LOG_DEBUG; default LOG_INFO */
int log_get_level(void);
__attribute__((format(printf, 2, 3))) void log_msg(int level, const char *fmt, ...);

/* A message above the level is not formatted, and its arguments are not
 * even evaluated (a peer's description is built only when asked for). */
#define log_at(level, ...)                                   \
	do {                                                 \
		if ((level) <= log_get_level())              \
			log_msg((level), __VA_ARGS__);       \
	} while (0)

#define log_err(...) log_at(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_at(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_at(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) log_at(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_at(LOG_DEBUG, __VA_ARGS__)
