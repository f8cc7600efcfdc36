/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"
#include "rpc.h"
#include "server.h"
#include "util.h"

static void server_on_accept(evutil_socket_t fd, short what, void *arg);

static void server_on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;

	event_add(s->ev_accept, NULL);
}

/* Out of fds: stop accepting for a moment instead of spinning on EMFILE. */
static void server_pause_accept(struct server *s)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200 * 1000 };

	event_del(s->ev_accept);
	evtimer_add(s->ev_retry, &tv);
}

/* Refuse a connection with one datagram saying why, then close it. */
static void server_refuse(int fd, int errnum, const char *why)
{
	/* The datagram waits in the peer's receive queue until it reads. */
	rpc_send_refusal(fd, errnum, why);
	close(fd);
}

static void server_on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct server *s = arg;

	for (int i = 0; i < 32; i++) {
		struct ucred cred;
		socklen_t len = sizeof(cred);
		struct conn *c;
		char why[160];
		int fd, r;

		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				log_warn("accept: %s; pausing accept", strerror(errno));
				server_pause_accept(s);
			} else if (errno != EAGAIN) {
				log_warn("accept: %s", strerror(errno));
			}
			return;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
			log_warn("SO_PEERCRED: %s", strerror(errno));
			close(fd);
			continue;
		}
		if (s->nconns >= s->cfg.max_connections) {
			snprintf(why, sizeof(why),
				 "connection limit reached: %" PRIu32 " of %" PRIu32 " in use",
				 s->nconns, s->cfg.max_connections);
			log_warn("refusing pid %d uid %u: %s", (int)cred.pid,
				 (unsigned)cred.uid, why);
			server_refuse(fd, EUSERS, why);
			continue;
		}
		if (server_conns_of_uid(s, cred.uid) >= s->cfg.max_connections_per_uid) {
			snprintf(why, sizeof(why),
				 "per-uid connection limit reached for uid %u: %" PRIu32 " in use",
				 (unsigned)cred.uid, s->cfg.max_connections_per_uid);
			log_warn("refusing pid %d: %s", (int)cred.pid, why);
			server_refuse(fd, EUSERS, why);
			continue;
		}
		r = conn_new(s, fd, &c);
		if (r < 0) {
			log_warn("new connection: %s", strerror(-r));
			continue;
		}
		log_debug("connection %" PRIu64 " from pid %d uid %u gid %u",
			  c->serial, (int)c->cred.pid, (unsigned)c->cred.uid,
			  (unsigned)c->cred.gid);
	}
}

static int server_listen(const struct server_config *cfg, int *ret_fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (strlen(cfg->socket_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, cfg->socket_path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Replace a stale socket left by a previous run, nothing else. */
	if (lstat(cfg->socket_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		if (unlink(cfg->socket_path) < 0)
			return -errno;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	if (chmod(cfg->socket_path, cfg->socket_mode) < 0) {
		int r = -errno;

		unlink(cfg->socket_path);
		return r;
	}
	if (listen(fd, 128) < 0) {
		int r = -errno;

		unlink(cfg->socket_path);
		return r;
	}
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int server_start(struct server *s, struct event_base *base,
		 struct backend *b, const struct server_config *cfg,
		 int listen_fd)
{
	int r;

	memset(s, 0, sizeof(*s));
	s->base = base;
	s->backend = b;
	s->cfg = *cfg;
	s->listen_fd = -1;
	TAILQ_INIT(&s->conns);
	if (listen_fd >= 0) {
		s->listen_fd = listen_fd;
	} else {
		r = server_listen(cfg, &s->listen_fd);
		if (r < 0)
			return r;
		s->own_socket = true;
	}
	s->ev_accept = event_new(base, s->listen_fd, EV_READ | EV_PERSIST,
				 server_on_accept, s);
	s->ev_retry = evtimer_new(base, server_on_retry, s);
	if (!s->ev_accept || !s->ev_retry) {
		server_stop(s);
		return -ENOMEM;
	}
	event_add(s->ev_accept, NULL);
	return 0;
}

void server_stop(struct server *s)
{
	struct conn *c;

	while ((c = TAILQ_FIRST(&s->conns)))
		conn_free(c);
	if (s->ev_accept)
		event_free(s->ev_accept);
	if (s->ev_retry)
		event_free(s->ev_retry);
	s->ev_accept = s->ev_retry = NULL;
	if (s->listen_fd >= 0) {
		if (s->own_socket)
			unlink(s->cfg.socket_path);
		close(s->listen_fd);
		s->listen_fd = -1;
	}
}

void server_conn_gone(struct server *s, struct conn *c)
{
	TAILQ_REMOVE(&s->conns, c, link);
	s->nconns--;
}

uint32_t server_conns_of_uid(const struct server *s, uid_t uid)
{
	const struct conn *c;
	uint32_t n = 0;

	TAILQ_FOREACH(c, &s->conns, link)
		if (c->cred.uid == uid)
			n++;
	return n;
}
