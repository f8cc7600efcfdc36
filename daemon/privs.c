/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "daemon/privs.h"

/* Read one "CapXxx:\t<hex>" line of /proc/self/status. */
static int read_capset(const char *name, uint64_t *ret)
{
	char line[256];
	size_t len = strlen(name);
	FILE *f = fopen("/proc/self/status", "re");
	int r = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, name, len) == 0 && line[len] == ':') {
			*ret = strtoull(line + len + 1, NULL, 16);
			r = 0;
			break;
		}
	}
	fclose(f);
	return r;
}

void privs_describe(char *buf, size_t size)
{
	static const char *const sets[] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" };
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]) && off < size; i++) {
		uint64_t v = 0;
		int n;

		if (read_capset(sets[i], &v) < 0)
			continue;
		n = snprintf(buf + off, size - off, "%s%s=%" PRIx64, off ? " " : "",
			     sets[i], v);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

int privs_drop(const struct privs_config *cfg, char *why, size_t whylen)
{
	uint64_t want = cfg->keep_ipc_lock ? (UINT64_C(1) << CAP_IPC_LOCK) : 0;
	struct passwd *pw = NULL;
	cap_value_t keep[2];
	int nkeep = 0;
	uint64_t v;
	cap_t caps;
	int last;

	uint64_t prm0 = 0;
	bool privileged;

	/* Started without any capability (a user running it by hand, the
	 * tests): nothing to drop; no_new_privs keeps it that way, and the
	 * bounding set cannot be changed, nor does it matter then. */
	(void)read_capset("CapPrm", &prm0);
	privileged = prm0 != 0;
	/* CAP_SYS_RESOURCE is kept only if it is there (the context helper
	 * then says EPERM per request, with the reason). */
	if (cfg->keep_sys_resource && (prm0 & (UINT64_C(1) << CAP_SYS_RESOURCE)))
		want |= UINT64_C(1) << CAP_SYS_RESOURCE;
	for (int c = 0; c < 64 && nkeep < (int)(sizeof(keep) / sizeof(keep[0])); c++)
		if (want & (UINT64_C(1) << c))
			keep[nkeep++] = c;
	if (!privileged && cfg->keep_ipc_lock) {
		snprintf(why, whylen, "CAP_IPC_LOCK cannot be kept: the daemon has no capabilities");
		return -EPERM;
	}
	if (cfg->user) {
		pw = getpwnam(cfg->user);
		if (!pw) {
			snprintf(why, whylen, "user %s does not exist", cfg->user);
			return -ESRCH;
		}
	}
	/* Bounding set: needs CAP_SETPCAP while we still have it. Without it
	 * (started unprivileged) the set can only already be what it is. */
	last = privileged ? (int)cap_max_bits() - 1 : -1;
	for (int c = 0; c <= last; c++) {
		if (want & (UINT64_C(1) << c))
			continue;
		if (CAP_IS_SUPPORTED(c) && cap_get_bound(c) > 0 &&
		    cap_drop_bound(c) < 0 && errno != EINVAL) {
			if (errno == EPERM)
				break; /* checked below from /proc */
			snprintf(why, whylen, "cannot drop capability %d from the bounding set: %s",
				 c, strerror(errno));
			return -errno;
		}
	}
	if (cap_reset_ambient() < 0 && errno != EINVAL) {
		snprintf(why, whylen, "cannot clear the ambient set: %s", strerror(errno));
		return -errno;
	}
	if (pw) {
		/* Keep permitted caps across the uid change, then drop them. */
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 ||
		    setgroups(0, NULL) < 0 ||
		    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
		    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0) {
			snprintf(why, whylen, "cannot switch to user %s: %s", cfg->user,
				 strerror(errno));
			return -errno;
		}
		(void)prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	}
	if (!privileged && !pw)
		goto no_new_privs; /* nothing to drop: no capset (it may be filtered) */
	caps = cap_init(); /* all clear */
	if (!caps) {
		snprintf(why, whylen, "cap_init: %s", strerror(errno));
		return -ENOMEM;
	}
	if (nkeep &&
	    (cap_set_flag(caps, CAP_PERMITTED, nkeep, keep, CAP_SET) < 0 ||
	     cap_set_flag(caps, CAP_EFFECTIVE, nkeep, keep, CAP_SET) < 0)) {
		cap_free(caps);
		snprintf(why, whylen, "cap_set_flag: %s", strerror(errno));
		return -EINVAL;
	}
	if (cap_set_proc(caps) < 0) {
		int r = -errno;

		cap_free(caps);
		snprintf(why, whylen, "cannot set the capability sets: %s", strerror(-r));
		return r;
	}
	cap_free(caps);
no_new_privs:
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(why, whylen, "cannot set no_new_privs: %s", strerror(errno));
		return -errno;
	}
	/* Verify from the kernel's side. */
	if (read_capset("CapEff", &v) < 0 || v != want ||
	    read_capset("CapPrm", &v) < 0 || v != want ||
	    read_capset("CapInh", &v) < 0 || v != 0 ||
	    read_capset("CapAmb", &v) < 0 || v != 0 ||
	    (privileged && (read_capset("CapBnd", &v) < 0 || (v & ~want) != 0))) {
		char have[256];

		privs_describe(have, sizeof(have));
		snprintf(why, whylen, "capabilities still held after dropping: %s (wanted %#" PRIx64 ")",
			 have, want);
		return -EPERM;
	}
	return 0;
}
