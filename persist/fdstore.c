/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "persist/fdholder.h"
#include "persist/fdstore.h"
#include "proto/wire.h"

/* The holder (fdholder.c) speaks the protocol described there. */

struct fdstore {
	bool systemd;
	int sock;            /* connection to the holder, or -1 */
	unsigned max;        /* systemd: $FDSTORE */
	/* systemd: the names in its store. It refuses an fd beyond max without
	 * telling the sender (the notification itself succeeds), so the count
	 * must be exact: only names really stored are counted or removed. */
	char (*names)[FDSTORE_NAME_MAX + 2];
	size_t count;
	char desc[PATH_MAX + 64];
};

bool fdstore_is_systemd(const struct fdstore *s)
{
	return s->systemd;
}

const char *fdstore_describe(const struct fdstore *s)
{
	return s->desc;
}

void fdstore_entries_free(struct fdstore_entry *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		safe_close(v[i].fd);
	free(v);
}

#ifdef HAVE_SYSTEMD
/* The systemd side's bookkeeping of the names in its store. */
static ssize_t name_index(const struct fdstore *s, const char *name)
{
	for (size_t i = 0; i < s->count; i++)
		if (!strcmp(s->names[i], name))
			return (ssize_t)i;
	return -1;
}

static int name_add(struct fdstore *s, const char *name)
{
	char (*nv)[FDSTORE_NAME_MAX + 2];

	if (name_index(s, name) >= 0)
		return 0;
	nv = realloc(s->names, (s->count + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	s->names = nv;
	snprintf(s->names[s->count++], sizeof(*nv), "%s", name);
	return 0;
}

static void name_del(struct fdstore *s, size_t i)
{
	if (i + 1 < s->count)
		memcpy(s->names[i], s->names[s->count - 1], sizeof(*s->names));
	s->count--;
}
#endif


static const struct timeval holder_timeout = { .tv_sec = 2 };

static int holder_connect(const char *path, int *ret)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	/* Calls are made from the event loop: a holder that stopped
	 * answering (stopped, swapped out) costs at most this, then the call
	 * fails (-EAGAIN) and the caller refuses what needed the store. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &holder_timeout, sizeof(holder_timeout)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &holder_timeout, sizeof(holder_timeout)) < 0)
		return -errno;
	*ret = TAKE_FD(fd);
	return 0;
}

/* Send one command (with fd when >= 0) and read its "<int>" answer. */
static int holder_call(struct fdstore *s, const char *cmd, int fd)
{
	char buf[32];
	size_t nfds = 0;
	ssize_t n;
	int r;

	if (s->sock < 0)
		return -ENOTCONN;
	r = wire_send(s->sock, cmd, strlen(cmd), fd >= 0 ? &fd : NULL, fd >= 0);
	if (r < 0)
		return r;
	n = wire_recv(s->sock, buf, sizeof(buf) - 1, NULL, 0, &nfds, 0);
	if (n < 0)
		return (int)n;
	if (n == 0)
		return -ECONNRESET;
	buf[n] = '\0';
	return atoi(buf);
}

/* ------------------------------------------------------------ API */

int fdstore_open(const char *state_dir, struct fdstore **ret, struct err *e)
{
	char path[PATH_MAX], pid_path[PATH_MAX];
	const char *env = getenv("FDSTORE");
	struct fdstore *s;
	int r, sock = -1;

#ifdef HAVE_SYSTEMD
	if (getenv("NOTIFY_SOCKET") && env && atoi(env) > 0) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return err_set(e, ENOMEM, "out of memory");
		s->sock = -1;
		s->systemd = true;
		s->max = (unsigned)atoi(env);
		snprintf(s->desc, sizeof(s->desc),
			 "systemd's file-descriptor store (FileDescriptorStoreMax=%u)",
			 s->max);
		*ret = s;
		return 0;
	}
#else
	(void)env;
#endif
	snprintf(path, sizeof(path), "%s/%s", state_dir, FDSTORE_HOLDER_SOCKET);
	snprintf(pid_path, sizeof(pid_path), "%s/%s", state_dir, FDSTORE_HOLDER_PID);
	/* Before allocating anything: the holder is forked from here. */
	r = holder_connect(path, &sock);
	if (r == -ENOENT || r == -ECONNREFUSED) {
		r = fdholder_spawn(path, pid_path);
		if (r < 0)
			return err_errno(e, r, "cannot start the fd holder on %s", path);
		r = holder_connect(path, &sock);
	}
	if (r < 0)
		return err_errno(e, r, "cannot reach the fd holder on %s", path);
	s = calloc(1, sizeof(*s));
	if (!s) {
		safe_close(sock);
		return err_set(e, ENOMEM, "out of memory");
	}
	s->sock = sock;
	snprintf(s->desc, sizeof(s->desc), "the fd holder on %s", path);
	*ret = s;
	return 0;
}

int fdstore_take(struct fdstore *s, struct fdstore_entry **ret, size_t *ret_n,
		 struct err *e)
{
	struct fdstore_entry *v = NULL;
	size_t n = 0;
	int r;

	if (s->systemd) {
#ifdef HAVE_SYSTEMD
		char **names = NULL;
		int k = sd_listen_fds_with_names(0, &names);

		if (k < 0)
			return err_errno(e, k, "sd_listen_fds_with_names");
		for (int i = 0; i < k; i++) {
			int fd = SD_LISTEN_FDS_START + i;
			const char *nm = names && names[i] ? names[i] : "";

			if (strncmp(nm, FDSTORE_PREFIX, strlen(FDSTORE_PREFIX)) != 0)
				continue; /* the listening socket, not ours */
			struct fdstore_entry *nv = realloc(v, (n + 1) * sizeof(*v));

			if (!nv) {
				fdstore_entries_free(v, n);
				for (int j = 0; names && names[j]; j++)
					free(names[j]);
				free(names);
				return err_set(e, ENOMEM, "out of memory");
			}
			v = nv;
			snprintf(v[n].name, sizeof(v[n].name), "%s", nm);
			(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
			v[n++].fd = fd;
			/* Still in systemd's store: taking is copying. */
			if (name_add(s, nm) < 0) {
				fdstore_entries_free(v, n);
				for (int j = 0; names && names[j]; j++)
					free(names[j]);
				free(names);
				return err_set(e, ENOMEM, "out of memory");
			}
		}
		for (int j = 0; names && names[j]; j++)
			free(names[j]);
		free(names);
#endif
		*ret = v;
		*ret_n = n;
		return 0;
	}
	r = wire_send(s->sock, "G", 1, NULL, 0);
	if (r < 0)
		return err_errno(e, r, "asking the fd holder for its fds");
	for (;;) {
		char buf[FDSTORE_NAME_MAX + 2];
		size_t nfds = 0;
		int fd = -1;
		ssize_t len = wire_recv(s->sock, buf, sizeof(buf) - 1, &fd, 1, &nfds, 0);
		struct fdstore_entry *nv;

		if (len <= 0) {
			fdstore_entries_free(v, n);
			return err_errno(e, len < 0 ? (int)len : -ECONNRESET,
					 "reading the fd holder's fds");
		}
		buf[len] = '\0';
		if (buf[0] == 'E' && nfds == 0)
			break;
		if (buf[0] != 'F' || nfds != 1) {
			safe_close(fd);
			fdstore_entries_free(v, n);
			return err_set(e, EBADMSG, "the fd holder sent a malformed answer");
		}
		nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv) {
			safe_close(fd);
			fdstore_entries_free(v, n);
			return err_set(e, ENOMEM, "out of memory");
		}
		v = nv;
		snprintf(v[n].name, sizeof(v[n].name), "%s", buf + 1);
		v[n++].fd = fd;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int fdstore_put(struct fdstore *s, const char *name, int fd, struct err *e)
{
	char cmd[FDSTORE_NAME_MAX + 32];
	int r;

	if (!fdstore_name_ok(name))
		return err_set(e, EINVAL, "bad fd store name \"%s\"", name);
	if (s->systemd) {
#ifdef HAVE_SYSTEMD
		/* systemd keeps every fd sent under a name: replacing is
		 * removing first. */
		if (name_index(s, name) >= 0)
			fdstore_remove(s, name);
		if (s->count >= s->max)
			return err_set(e, ENOSPC,
				       "systemd's fd store is full (FileDescriptorStoreMax=%u): "
				       "the fd could not be kept for a restart",
				       s->max);
		if (name_add(s, name) < 0)
			return err_set(e, ENOMEM, "out of memory");
		snprintf(cmd, sizeof(cmd), "FDSTORE=1\nFDNAME=%s", name);
		r = sd_pid_notify_with_fds(0, 0, cmd, &fd, 1);
		if (r <= 0) {
			name_del(s, (size_t)name_index(s, name));
			return err_errno(e, r < 0 ? r : -ENOTCONN,
					 "FDSTORE=1 to systemd failed: the fd could not be kept for a restart");
		}
		return 0;
#endif
	}
	snprintf(cmd, sizeof(cmd), "P%s", name);
	r = holder_call(s, cmd, fd);
	if (r < 0)
		return err_errno(e, r, "the fd holder did not keep the fd");
	return 0;
}

void fdstore_remove(struct fdstore *s, const char *name)
{
	char cmd[FDSTORE_NAME_MAX + 32];

	if (s->systemd) {
#ifdef HAVE_SYSTEMD
		ssize_t i = name_index(s, name);

		if (i < 0)
			return; /* never stored: nothing to remove */
		snprintf(cmd, sizeof(cmd), "FDSTOREREMOVE=1\nFDNAME=%s", name);
		(void)sd_notify(0, cmd);
		name_del(s, (size_t)i);
#endif
		return;
	}
	snprintf(cmd, sizeof(cmd), "R%s", name);
	(void)holder_call(s, cmd, -1);
}

void fdstore_clear(struct fdstore *s)
{
	if (s->systemd) {
		/* Names are all that FDSTOREREMOVE takes: the caller removes
		 * each one it stored (fdstore_remove). */
		return;
	}
	(void)holder_call(s, "Q", -1);
}

struct fdstore *fdstore_free(struct fdstore *s)
{
	if (!s)
		return NULL;
	safe_close(s->sock);
	free(s->names);
	free(s);
	return NULL;
}
