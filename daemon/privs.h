/* SPDX-License-Identifier: MIT */
/*
 * Least privilege. ioasd needs privilege only to open what it serves: the
 * iommufd device (file permissions, or root), its listening socket, and —
 * when configured — to set IOMMU_OPTION_RLIMIT_MODE (CAP_SYS_RESOURCE),
 * all done before privs_drop(). After that it holds no capability at all
 * unless asked to keep CAP_IPC_LOCK (see privs_drop), and optionally runs
 * as an unprivileged user.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

struct privs_config {
	const char *user;      /* switch to this user (and its group); NULL: stay */
	bool keep_ipc_lock;    /* keep CAP_IPC_LOCK: pins are then not charged to
				* any RLIMIT_MEMLOCK (the kernel skips accounting) */
	bool keep_sys_resource; /* the context helper's one capability (kept
				 * only if held: see tenancy/ctxhelper.h) */
};

/*
 * Drop every capability from the effective, permitted, inheritable, bounding
 * and ambient sets except the ones cfg asks to keep, set no_new_privs,
 * optionally switch user, then verify from the kernel's view
 * (/proc/self/status) that the result is what was asked. 0, or -errno with
 * why in buf: the caller must refuse to run on failure.
 */
int privs_drop(const struct privs_config *cfg, char *why, size_t whylen);

/* The Cap* lines of /proc/self/status, for logs: "CapEff=0 CapPrm=0 ...". */
void privs_describe(char *buf, size_t size);
