/* SPDX-License-Identifier: MIT */
/*
 * The context helper: the one process of ioasd that keeps a capability.
 *
 * A delegated iommufd context (OpenContext) must have its pinned-page
 * accounting set (IOMMU_OPTION_RLIMIT_MODE) before the VMM gets it, and the
 * kernel lets only a caller with CAP_SYS_RESOURCE set it. The daemon drops
 * every capability once started; before that, it forks this helper, which
 * keeps CAP_SYS_RESOURCE and nothing else (no other capability, no fd but
 * its end of a socketpair, no_new_privs, the daemon's user) and answers one
 * question, over and over: "a fresh context with mode M" (0 user, 1
 * process). It opens the daemon's iommufd device, sets the mode, reads it
 * back and sends the fd; it takes no path, no number but M, and keeps no
 * copy. It dies with the daemon (PR_SET_PDEATHSIG) or when its socket
 * closes.
 *
 * A helper that is gone (killed, crashed) is not restarted (the daemon no
 * longer has the privilege to start one): OpenContext is then refused with
 * ESRCH until the daemon restarts. Everything else goes on.
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>

struct ctxhelper;
struct err;

/* Fork the helper. drop(arg, why, len) runs in the child, after every fd
 * but its socket is closed, and must leave it CAP_SYS_RESOURCE only (0, or
 * -errno with why filled: the child then exits and mint reports it gone). */
int ctxhelper_spawn(const char *dev_path,
		    int (*drop)(void *arg, char *why, size_t len), void *arg,
		    struct ctxhelper **ret);
/* A fresh context fd with mode set, CLOEXEC, now the caller's. 0, or
 * -errno with e filled: the helper's answer (EPERM: it lacks
 * CAP_SYS_RESOURCE; the open's errno), or ESRCH when it is gone. Waits
 * at most CTXHELPER_TIMEOUT_MS for the answer. */
#define CTXHELPER_TIMEOUT_MS 5000
int ctxhelper_mint(struct ctxhelper *h, uint64_t mode, int *ret_fd, struct err *e);
pid_t ctxhelper_pid(const struct ctxhelper *h); /* 0 once gone */
/* Reap a helper that exited (between requests: no zombie is left) and say
 * so once: its wait status the first time it is found gone (by this call
 * or by a request), else -1. NULL-safe. */
int ctxhelper_poll(struct ctxhelper *h);
/* Close the socket (the helper exits) and reap it. NULL-safe. */
struct ctxhelper *ctxhelper_free(struct ctxhelper *h);
