/* SPDX-License-Identifier: MIT */
/*
 * The fd holder: a process of its own (one file per process) that keeps
 * copies of the daemon's fds across a daemon restart when systemd's fd store
 * is not there. fdstore.c is its client.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "persist/fdholder.h"
#include "proto/wire.h"
#include "common/util.h"

/*
 * The holder's protocol: SOCK_SEQPACKET datagrams of text, each answered.
 *   "P<name>" + 1 fd  keep a copy            -> "0" or "-<errno>"
 *   "R<name>"         forget it               -> "0" or "-<errno>"
 *   "G"               every fd: "F<name>" + fd each, then "E"
 *   "Q"               forget everything and exit -> "0"
 * Only peers with the holder's own uid are served (SO_PEERCRED); the socket
 * lives in the 0700 state directory.
 */


bool fdstore_name_ok(const char *name)
{
	size_t n = strlen(name);

	/* systemd refuses ':' and control characters in FDNAME=. */
	if (n == 0 || n >= FDSTORE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (name[i] <= ' ' || name[i] == ':' || name[i] > '~')
			return false;
	return true;
}

struct held {
	char name[FDSTORE_NAME_MAX + 2];
	int fd;
};

static void holder_reply(int c, int r)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%d", r);
	(void)wire_send(c, buf, strlen(buf), NULL, 0);
}

/* Serve one connection until it closes. Returns true on "Q". */
static bool holder_serve(int c, struct held **v, size_t *n)
{
	char buf[FDSTORE_NAME_MAX + 2];

	for (;;) {
		size_t nfds = 0;
		int fd = -1;
		ssize_t len = wire_recv(c, buf, sizeof(buf) - 1, &fd, 1, &nfds, 0);

		if (len <= 0)
			return false;
		buf[len] = '\0';
		if (buf[0] == 'P' && nfds == 1 && fdstore_name_ok(buf + 1)) {
			size_t i;

			for (i = 0; i < *n; i++)
				if (!strcmp((*v)[i].name, buf + 1))
					break;
			if (i == *n) {
				struct held *nv;

				if (*n >= FDSTORE_HOLDER_MAX ||
				    !(nv = realloc(*v, (*n + 1) * sizeof(**v)))) {
					safe_close(fd);
					holder_reply(c, -ENOSPC);
					continue;
				}
				*v = nv;
				(*n)++;
			} else {
				safe_close((*v)[i].fd);
			}
			snprintf((*v)[i].name, sizeof((*v)[i].name), "%s", buf + 1);
			(*v)[i].fd = fd;
			holder_reply(c, 0);
		} else if (buf[0] == 'R' && nfds == 0) {
			int r = -ENOENT;

			for (size_t i = 0; i < *n; i++)
				if (!strcmp((*v)[i].name, buf + 1)) {
					safe_close((*v)[i].fd);
					(*v)[i] = (*v)[--(*n)];
					r = 0;
					break;
				}
			holder_reply(c, r);
		} else if (buf[0] == 'G' && nfds == 0) {
			for (size_t i = 0; i < *n; i++) {
				char m[sizeof((*v)[i].name) + 1];

				snprintf(m, sizeof(m), "F%s", (*v)[i].name);
				if (wire_send(c, m, strlen(m), &(*v)[i].fd, 1) < 0)
					return false;
			}
			(void)wire_send(c, "E", 1, NULL, 0);
		} else if (buf[0] == 'Q' && nfds == 0) {
			holder_reply(c, 0);
			return true;
		} else {
			safe_close(fd);
			holder_reply(c, -EBADMSG);
		}
	}
}

static __attribute__((noreturn)) void holder_main(int lfd)
{
	struct held *v = NULL;
	size_t n = 0;
	bool quit = false;
	cap_t none = cap_init();

	/* Nothing but keeping fds: no capabilities, no new privileges. */
	if (none) {
		(void)cap_set_proc(none);
		cap_free(none);
	}
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	while (!quit) {
		struct ucred cred;
		socklen_t len = sizeof(cred);
		int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			break;
		}
		if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
		    cred.uid != getuid()) {
			holder_reply(c, -EPERM);
			close(c);
			continue;
		}
		quit = holder_serve(c, &v, &n);
		close(c);
	}
	for (size_t i = 0; i < n; i++)
		close(v[i].fd);
	free(v);
	_exit(0);
}

/* Start a holder listening on path; its pid goes to pid_path. */
int fdholder_spawn(const char *path, const char *pid_path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int lfd = -1;
	pid_t pid;
	int devnull;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return -errno;
	(void)unlink(path); /* a stale socket nobody answers on */
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0600) < 0 || listen(lfd, 4) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* Double fork: the holder is nobody's child to reap and sits in
		 * its own session, so a terminal's ^C does not reach it. */
		if (setsid() < 0 || fork() != 0)
			_exit(0);
		signal(SIGPIPE, SIG_IGN);
		signal(SIGINT, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		signal(SIGTERM, SIG_DFL);
		devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 1);
			dup2(devnull, 2);
		}
		if (lfd != 3 && dup2(lfd, 3) < 0)
			_exit(1);
		close_range(4, ~0u, 0);
		{
			FILE *f = fopen(pid_path, "we");

			if (f) {
				fprintf(f, "%d\n", (int)getpid());
				fclose(f);
			}
		}
		holder_main(3);
	}
	(void)waitpid(pid, NULL, 0);
	return 0;
}

