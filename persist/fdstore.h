/* SPDX-License-Identifier: MIT */
/*
 * Where the daemon keeps the fds that must outlive it (its iommufd context
 * and every registered memory fd) so that a restarted daemon can take them
 * back: systemd's file-descriptor store (FDSTORE=1 with FDNAME=) when the
 * service manager offers one, else an fd-holding helper process reachable
 * over a UNIX socket in the state directory. See "Restart without losing
 * DMA" in README.md.
 *
 * Every stored fd has a name starting with FDSTORE_PREFIX. The store keeps
 * its own copy: taking the fds back after a restart leaves them stored.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "persist/fdholder.h"
#include "common/util.h"

#define FDSTORE_PREFIX "ioasd-"
#define FDSTORE_HOLDER_SOCKET "fdholder.sock"
#define FDSTORE_HOLDER_PID "fdholder.pid"

struct fdstore;

struct fdstore_entry {
	char name[FDSTORE_NAME_MAX + 2];
	int fd; /* owned by whoever holds the array */
};

/*
 * systemd's store when $NOTIFY_SOCKET is set and $FDSTORE (set by systemd
 * 254+ to FileDescriptorStoreMax=) is positive; otherwise the holder of
 * state_dir: connect to it, or start it (a child process in its own session,
 * without capabilities, that outlives the daemon) when none answers.
 */
int fdstore_open(const char *state_dir, struct fdstore **ret, struct err *e);
bool fdstore_is_systemd(const struct fdstore *s);
const char *fdstore_describe(const struct fdstore *s);

/* What the store holds now; the caller owns the array and the fds. */
int fdstore_take(struct fdstore *s, struct fdstore_entry **ret, size_t *ret_n,
		 struct err *e);
/* Keep a copy of fd under name (replacing one of the same name). */
int fdstore_put(struct fdstore *s, const char *name, int fd, struct err *e);
/* Forget name (closing the store's copy). Best effort. */
void fdstore_remove(struct fdstore *s, const char *name);
/* A clean stop: forget everything (and stop the holder). */
void fdstore_clear(struct fdstore *s);
struct fdstore *fdstore_free(struct fdstore *s); /* NULL-safe */

/* Close every fd of an array from fdstore_take() and free it. */
void fdstore_entries_free(struct fdstore_entry *v, size_t n);

