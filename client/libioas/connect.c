/* SPDX-License-Identifier: MIT */
/* libioas: connecting, Hello and reclaim, and what the Hello told. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "internal.h"

static int say_hello(struct ioas_client *c, const char *client_name,
		     const char *reclaim_token)
{
	Ioasd__HelloReply *h;
	int r;

	r = REQUEST(c, hello, -1, &h, .version = IOAS_PROTOCOL_VERSION,
		    .client_name = (char *)client_name,
		    .reclaim_token = (char *)reclaim_token);
	if (r < 0)
		return r;

	if (h->version != IOAS_PROTOCOL_VERSION)
		return libioas_broken(c, -EPROTONOSUPPORT,
				      "ioasd speaks protocol version %u, this library %u",
				      h->version, IOAS_PROTOCOL_VERSION);
	c->version = h->version;
	c->caps = h->caps;
	c->max_datagram = h->max_datagram;
	c->max_fds = h->max_fds;
	c->max_batch = h->has_max_batch ? h->max_batch : 0;
	c->backend = strdup(h->backend ? h->backend : "");
	c->backend_description = strdup(h->backend_description ?
						h->backend_description : "");
	c->server = strdup(h->server ? h->server : "");
	c->reclaimed = h->has_reclaimed && h->reclaimed;
	if (h->reclaim_token)
		c->reclaim_token = strdup(h->reclaim_token);
	if (!c->backend || !c->backend_description || !c->server ||
	    (h->reclaim_token && !c->reclaim_token))
		return libioas_fail(c, -ENOMEM, "out of memory");
	return 0;
}

static int connect_hello(const char *socket_path, const char *client_name,
			 const char *reclaim_token, struct ioas_client **ret,
			 char *errbuf, size_t errlen);

IOAS_EXPORT int ioas_client_connect(const char *socket_path,
				    const char *client_name,
				    struct ioas_client **ret, char *errbuf,
				    size_t errlen)
{
	return connect_hello(socket_path, client_name, NULL, ret, errbuf, errlen);
}

IOAS_EXPORT int ioas_client_connect_reclaim(const char *socket_path,
					    const char *client_name,
					    const char *reclaim_token,
					    struct ioas_client **ret,
					    char *errbuf, size_t errlen)
{
	if (!reclaim_token || !*reclaim_token) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "no reclaim token given");
		return -EINVAL;
	}
	return connect_hello(socket_path, client_name, reclaim_token, ret,
			     errbuf, errlen);
}

IOAS_EXPORT const char *ioas_client_reclaim_token(const struct ioas_client *c)
{
	return c->reclaim_token;
}

IOAS_EXPORT bool ioas_client_reclaimed(const struct ioas_client *c)
{
	return c->reclaimed;
}

static int connect_hello(const char *socket_path, const char *client_name,
			 const char *reclaim_token, struct ioas_client **ret,
			 char *errbuf, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ioas_client *c;
	int r;

	if (!socket_path)
		socket_path = IOAS_DEFAULT_SOCKET;
	if (!ret)
		return -EINVAL;
	if (strlen(socket_path) >= sizeof(sa.sun_path)) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "socket path too long: %s",
				 socket_path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, socket_path, strlen(socket_path) + 1);

	c = calloc(1, sizeof(*c));
	if (!c) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "out of memory");
		return -ENOMEM;
	}
	c->next_id = 1;
	c->reply_fd = -1;
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		r = libioas_fail(c, -errno, "socket: %s", strerror(errno));
		goto err;
	}
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = libioas_fail(c, -errno, "connect: %s",
				 strerror(errno));
		goto err;
	}

	r = say_hello(c, client_name, reclaim_token);
	if (r < 0)
		goto err;

	c->last_error[0] = '\0';
	*ret = c;
	return 0;
err:
	if (errbuf && errlen)
		snprintf(errbuf, errlen, "%s", c->last_error);
	ioas_client_free(c);
	return r;
}

IOAS_EXPORT struct ioas_client *ioas_client_free(struct ioas_client *c)
{
	if (!c)
		return NULL;
	/* Requests in flight are dropped (their batches free to reuse). */
	libioas_fail_pending(c, -ENOTCONN);
	if (c->fd >= 0)
		close(c->fd);
	if (c->reply_fd >= 0)
		close(c->reply_fd);
	free(c->backend);
	free(c->backend_description);
	free(c->server);
	if (c->reclaim_token)
		explicit_bzero(c->reclaim_token, strlen(c->reclaim_token));
	free(c->reclaim_token);
	libioas_response_free(c, c->reply);
	free(c->notes);
	free(c->pending);
	free(c->done);
	free(c->in);
	free(c->out);
	free(c->rx);
	free(c->big);
	if (c->codec)
		fastpb_memo_release(c->codec);
	free(c->codec);
	free(c);
	return NULL;
}

IOAS_EXPORT int ioas_client_set_timeout(struct ioas_client *c,
					unsigned int timeout_ms)
{
	struct timeval tv = {
		.tv_sec = timeout_ms / 1000,
		.tv_usec = (timeout_ms % 1000) * 1000,
	};

	if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return libioas_fail(c, -errno, "setsockopt: %s", strerror(errno));
	c->timeout_ms = timeout_ms;
	return 0;
}

IOAS_EXPORT const char *ioas_client_last_error(const struct ioas_client *c)
{
	return c->last_error;
}

IOAS_EXPORT const char *ioas_client_backend(const struct ioas_client *c)
{
	return c->backend;
}

IOAS_EXPORT const char *ioas_client_backend_description(const struct ioas_client *c)
{
	return c->backend_description;
}

IOAS_EXPORT const char *ioas_client_server(const struct ioas_client *c)
{
	return c->server;
}

IOAS_EXPORT uint32_t ioas_client_version(const struct ioas_client *c)
{
	return c->version;
}

IOAS_EXPORT uint64_t ioas_client_caps(const struct ioas_client *c)
{
	return c->caps;
}

IOAS_EXPORT uint32_t ioas_client_max_datagram(const struct ioas_client *c)
{
	return c->max_datagram;
}

IOAS_EXPORT uint32_t ioas_client_max_fds(const struct ioas_client *c)
{
	return c->max_fds;
}

IOAS_EXPORT uint32_t ioas_client_max_batch(const struct ioas_client *c)
{
	return c->max_batch;
}

IOAS_EXPORT bool ioas_client_broken(const struct ioas_client *c)
{
	return c->broken;
}

IOAS_EXPORT int ioas_client_fd(const struct ioas_client *c)
{
	return c->fd;
}
