/* SPDX-License-Identifier: MIT */
/* The fd holder process (see fdholder.c), started by fdstore_open. */
#pragma once

#include <stdbool.h>

#define FDSTORE_NAME_MAX 64
/* Most fds the holder keeps (the systemd store has FileDescriptorStoreMax=). */
#define FDSTORE_HOLDER_MAX 65536u

/* A name systemd's FDNAME= (and so the holder) accepts: 1..63 printable
 * characters, no blank and no ':'. */
bool fdstore_name_ok(const char *name);

/* Start a holder listening on path, double-forked into its own session;
 * its pid goes to pid_path. 0 or -errno. */
int fdholder_spawn(const char *path, const char *pid_path);
