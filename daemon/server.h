/* SPDX-License-Identifier: MIT */
/* The listening socket, accepting, and the set of live connections. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "tenant.h"

struct event_base;
struct backend;
struct conn;

struct server_config {
	const char *socket_path;
	mode_t socket_mode;
	uint32_t max_connections;          /* daemon-wide */
	uint32_t max_connections_per_uid;
	size_t max_outq_bytes;             /* per connection, reading pauses above */
	struct tenant_limits limits;       /* per connection, until policy exists */
};

struct server {
	struct event_base *base;
	struct backend *backend;
	struct server_config cfg;
	int listen_fd;
	bool own_socket;                   /* we created (and will unlink) it */
	struct event *ev_accept;
	struct event *ev_retry;            /* re-arm accept after EMFILE */
	TAILQ_HEAD(conn_list, conn) conns;
	uint32_t nconns;
	uint64_t next_serial;
};

/* Create (or adopt, when listen_fd >= 0) the listening socket and start
 * accepting. */
int server_start(struct server *s, struct event_base *base,
		 struct backend *b, const struct server_config *cfg,
		 int listen_fd);
/* Close every connection (releasing what they own) and the socket. */
void server_stop(struct server *s);

/* Called by conn when it goes away. */
void server_conn_gone(struct server *s, struct conn *c);
uint32_t server_conns_of_uid(const struct server *s, uid_t uid);
