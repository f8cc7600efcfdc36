/* SPDX-License-Identifier: MIT */
/* Program logging: to stderr, with syslog-style "<N>" prefixes when stderr is
 * connected to the journal (JOURNAL_STREAM), so journald keeps the levels. */
#pragma once

#include <syslog.h>

void log_set_level(int level); /* LOG_ERR .. LOG_DEBUG; default LOG_INFO */
int log_get_level(void);
__attribute__((format(printf, 2, 3))) void log_msg(int level, const char *fmt, ...);

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
