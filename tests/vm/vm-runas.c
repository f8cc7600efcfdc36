/* SPDX-License-Identifier: MIT */
/*
 * vm-runas UID GID PROGRAM [ARGS...]: run PROGRAM with real, effective and
 * saved uid and gid set and no supplementary groups (the guest's busybox
 * has no setpriv --reuid). Exits 127 when the switch or the exec fails.
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int parse_id(const char *s, unsigned *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > 0xfffffffeul)
		return -1;
	*ret = (unsigned)v;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned uid, gid;

	if (argc < 4 || parse_id(argv[1], &uid) < 0 || parse_id(argv[2], &gid) < 0) {
		fprintf(stderr, "usage: vm-runas UID GID PROGRAM [ARGS...]\n");
		return 127;
	}
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0) {
		fprintf(stderr, "vm-runas: %s\n", strerror(errno));
		return 127;
	}
	execvp(argv[3], argv + 3);
	fprintf(stderr, "vm-runas: %s: %s\n", argv[3], strerror(errno));
	return 127;
}
