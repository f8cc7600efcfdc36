/* SPDX-License-Identifier: MIT */
/* The fd holder process (see fdholder.c), started by fdstore_open. */
#pragma once

/* Start a holder listening on path, double-forked into its own session;
 * its pid goes to pid_path. 0 or -errno. */
int fdholder_spawn(const char *path, const char *pid_path);
