/* SPDX-License-Identifier: MIT */
/* The context helper (see ctxhelper.h). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "iommu/backend-kernel.h"
#include "proto/wire.h"
#include "tenancy/ctxhelper.h"

struct ctxhelper {
	int sock;      /* -1 once the helper is gone */
	pid_t pid;     /* 0 once reaped */
	int status;    /* its wait status, once reaped */
	bool reported; /* ctxhelper_poll() returned it */
};

/* The helper's answer: 0 and one fd, or an errno and the failed step. */
struct answer {
	int32_t errnum;
	char step[60];
};

static void child_fail(int sock, int errnum, const char *step)
{
	struct answer a = { .errnum = errnum };

	snprintf(a.step, sizeof(a.step), "%s", step);
	(void)wire_send(sock, &a, sizeof(a), NULL, 0);
}

static _Noreturn void child_main(int sock, const char *dev_path,
				 int (*drop)(void *, char *, size_t), void *arg)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2 };
	char why[300];
	sigset_t none;

	/* The daemon's signal handlers write to libevent's pipe, which is
	 * not ours: plain defaults here. */
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		signal(sigs[i], SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	(void)prctl(PR_SET_NAME, "ioasd-ctxhelper", 0, 0, 0);
	if (dup2(sock, 3) < 0)
		_exit(127);
	sock = 3;
	(void)close_range(4, ~0U, 0);
	if (drop(arg, why, sizeof(why)) < 0) {
		fprintf(stderr, "ioasd context helper: %s\n", why);
		_exit(126);
	}
	for (;;) {
		uint64_t mode;
		const char *step = NULL;
		size_t nfds = 0;
		int fds[1], fd = -1, r;
		ssize_t n;

		n = wire_recv(sock, &mode, sizeof(mode), fds, 1, &nfds, 0);
		if (n == -EINTR)
			continue;
		if (n <= 0)
			_exit(0); /* the daemon closed its end, or is gone */
		for (size_t i = 0; i < nfds; i++)
			close(fds[i]);
		if (n != sizeof(mode) || nfds || mode > 1) {
			child_fail(sock, EINVAL, "a request that is not a mode (0 or 1)");
			continue;
		}
		r = backend_kernel_context_fd(dev_path, mode, &fd, &step);
		if (r < 0) {
			child_fail(sock, -r, step);
			continue;
		}
		{
			struct answer a = { 0 };

			(void)wire_send(sock, &a, sizeof(a), &fd, 1);
			close(fd);
		}
	}
}

int ctxhelper_spawn(const char *dev_path,
		    int (*drop)(void *arg, char *why, size_t len), void *arg,
		    struct ctxhelper **ret)
{
	struct ctxhelper *h;
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	h = calloc(1, sizeof(*h));
	if (!h) {
		close(sv[0]);
		close(sv[1]);
		return -ENOMEM;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		int r = -errno;

		close(sv[0]);
		close(sv[1]);
		free(h);
		return r;
	}
	if (pid == 0) {
		close(sv[0]);
		child_main(sv[1], dev_path, drop, arg);
	}
	close(sv[1]);
	h->sock = sv[0];
	h->pid = pid;
	*ret = h;
	return 0;
}

/* Reap it if it has exited: 0, or -1 while it runs. */
static int reap(struct ctxhelper *h)
{
	if (h->pid <= 0 || waitpid(h->pid, &h->status, WNOHANG) != h->pid)
		return -1;
	h->pid = 0;
	return 0;
}

static void helper_gone(struct ctxhelper *h)
{
	h->sock = safe_close(h->sock);
	(void)reap(h);
}

int ctxhelper_mint(struct ctxhelper *h, uint64_t mode, int *ret_fd, struct err *e)
{
	struct pollfd p;
	struct answer a;
	size_t nfds = 0;
	int fds[1];
	ssize_t n;
	int r;

	if (!h || h->sock < 0)
		return err_set(e, ESRCH,
			       "the context helper (the process that sets a context's "
			       "RlimitMode=, see ioasd(8)) is gone; delegated contexts "
			       "are unavailable until the daemon restarts");
	/* A stale answer (one that came after a timeout) is dropped first. */
	while (wire_recv(h->sock, &a, sizeof(a), fds, 1, &nfds, MSG_DONTWAIT) > 0)
		for (size_t i = 0; i < nfds; i++)
			close(fds[i]);
	r = wire_send(h->sock, &mode, sizeof(mode), NULL, 0);
	if (r < 0) {
		helper_gone(h);
		return ctxhelper_mint(h, mode, ret_fd, e);
	}
	p = (struct pollfd){ .fd = h->sock, .events = POLLIN };
	do
		r = poll(&p, 1, CTXHELPER_TIMEOUT_MS);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return err_set(e, ETIMEDOUT, "the context helper did not answer in %d ms",
			       CTXHELPER_TIMEOUT_MS);
	n = wire_recv(h->sock, &a, sizeof(a), fds, 1, &nfds, MSG_DONTWAIT);
	if (n <= 0 && n != -EAGAIN) {
		helper_gone(h);
		return ctxhelper_mint(h, mode, ret_fd, e);
	}
	if (n != sizeof(a) || (a.errnum == 0) != (nfds == 1) || a.errnum < 0) {
		for (size_t i = 0; i < nfds; i++)
			close(fds[i]);
		return err_set(e, EPROTO, "the context helper sent a malformed answer");
	}
	if (a.errnum) {
		a.step[sizeof(a.step) - 1] = '\0';
		return err_set(e, a.errnum, "the context helper could not make a context: %s: %s%s",
			       a.step, strerror(a.errnum),
			       a.errnum == EPERM ? " (it needs CAP_SYS_RESOURCE: the daemon "
			       "was started without it)" : "");
	}
	*ret_fd = fds[0];
	return 0;
}

int ctxhelper_poll(struct ctxhelper *h)
{
	if (!h || h->reported)
		return -1;
	if (h->pid > 0 && reap(h) < 0)
		return -1;
	h->sock = safe_close(h->sock);
	h->reported = true;
	return h->status;
}

pid_t ctxhelper_pid(const struct ctxhelper *h)
{
	return h && h->sock >= 0 ? h->pid : 0;
}

struct ctxhelper *ctxhelper_free(struct ctxhelper *h)
{
	if (!h)
		return NULL;
	h->sock = safe_close(h->sock);
	if (h->pid > 0)
		(void)waitpid(h->pid, NULL, 0);
	free(h);
	return NULL;
}
