/* SPDX-License-Identifier: MIT */
/*
 * libioas: one synchronous request/response at a time over a SOCK_SEQPACKET
 * connection to ioasd. See ioas.h for the contract.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "ioas.h"
#include "ioasd.pb-c.h"
#include "proto/wire.h"

/* errno values above this are not errno values: the reply is malformed. */
#define IOAS_ERRNO_MAX 4095

struct ioas_client {
	int fd;
	uint64_t next_id;
	bool broken;
	unsigned int timeout_ms;

	/* From the HelloReply. */
	uint32_t version;
	uint64_t caps;
	uint32_t max_datagram;
	uint32_t max_fds;
	char *backend;
	char *server;
	char *reclaim_token;  /* NULL: the daemon has no restart support */
	bool reclaimed;

	char last_error[256];

	/* Received notifications, oldest first (a ring). */
	struct ioas_notification notes[IOAS_NOTIFY_QUEUE];
	unsigned int note_head, note_count;
	uint64_t notes_dropped;

	uint8_t buf[IOASD_MAX_DATAGRAM];
};

static void libioas_copy_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

/* Keep a notification (Response id 0 without an error). Unknown kinds are
 * ignored: a newer daemon may define more. */
static void libioas_queue_notification(struct ioas_client *c, const Ioasd__Response *resp)
{
	struct ioas_notification *n;

	if (resp->result_case != IOASD__RESPONSE__RESULT_SHARE_REVOKED)
		return;
	if (c->note_count == IOAS_NOTIFY_QUEUE) {
		c->notes_dropped++;
		return;
	}
	n = &c->notes[(c->note_head + c->note_count) % IOAS_NOTIFY_QUEUE];
	memset(n, 0, sizeof(*n));
	n->kind = IOAS_NOTIFY_SHARE_REVOKED;
	n->import = resp->share_revoked->import;
	n->ioas = resp->share_revoked->ioas;
	n->iova = resp->share_revoked->iova;
	n->length = resp->share_revoked->length;
	libioas_copy_str(n->reason, sizeof(n->reason), resp->share_revoked->reason);
	libioas_copy_str(n->exporter, sizeof(n->exporter), resp->share_revoked->exporter);
	c->note_count++;
}

__attribute__((format(printf, 3, 4))) static int libioas_fail(struct ioas_client *c,
							      int neg_errno,
							      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->last_error, sizeof(c->last_error), fmt, ap);
	va_end(ap);
	return neg_errno;
}

/* A transport or protocol failure: the connection cannot be trusted any more. */
__attribute__((format(printf, 3, 4))) static int libioas_broken(struct ioas_client *c,
								int neg_errno,
								const char *fmt, ...)
{
	va_list ap;

	c->broken = true;
	va_start(ap, fmt);
	vsnprintf(c->last_error, sizeof(c->last_error), fmt, ap);
	va_end(ap);
	return neg_errno;
}

static void libioas_close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/*
 * Send req (with send_fd attached when >= 0) and wait for its Response.
 * Returns:
 *   0        success; *ret is the Response, result_case == expect (unless
 *            expect is RESULT__NOT_SET, meaning "no result expected")
 *   -errno   refused by the daemon; *ret is still set (EMSGSIZE replies
 *            carry data), last_error is the daemon's message
 *   -errno   local/transport/protocol failure; *ret is NULL
 * The caller frees *ret with ioasd__response__free_unpacked().
 */
/*
 * A refused connection gets one error datagram (id 0) before the daemon
 * closes it. After EPIPE/ECONNRESET, read it if it is there and mark the
 * client broken with the daemon's errno and reason; else return 0.
 */
static int pending_refusal(struct ioas_client *c, int why)
{
	int fds[IOASD_MAX_FDS];
	Ioasd__Response *resp;
	size_t nfds = 0;
	ssize_t n;
	int r = 0;

	(void)why;
	n = wire_recv(c->fd, c->buf, sizeof(c->buf), fds, IOASD_MAX_FDS,
		      &nfds, MSG_DONTWAIT);
	if (n <= 0)
		return 0;
	libioas_close_fds(fds, nfds);
	resp = ioasd__response__unpack(NULL, (size_t)n, c->buf);
	if (!resp)
		return 0;
	if (resp->id == 0 && resp->error > 0 && resp->error <= IOAS_ERRNO_MAX)
		r = libioas_broken(c, -resp->error, "%s",
				   resp->message ? resp->message : strerror(resp->error));
	ioasd__response__free_unpacked(resp, NULL);
	return r;
}

static int libioas_transact(struct ioas_client *c, Ioasd__Request *req, int send_fd,
			    Ioasd__Response__ResultCase expect, Ioasd__Response **ret)
{
	Ioasd__Response *resp;
	size_t len, nfds = 0;
	int fds[IOASD_MAX_FDS];
	uint32_t limit;
	ssize_t n;
	int r, r2;

	*ret = NULL;
	if (c->broken)
		return libioas_fail(c, -ENOTCONN,
				    "connection to ioasd is broken; reconnect");

	req->id = c->next_id++;
	if (c->next_id == 0) /* id 0 is reserved for notifications */
		c->next_id = 1;

	len = ioasd__request__get_packed_size(req);
	limit = c->max_datagram ? c->max_datagram : IOASD_MAX_DATAGRAM;
	if (limit > sizeof(c->buf))
		limit = sizeof(c->buf);
	if (len > limit)
		return libioas_fail(c, -EMSGSIZE,
				    "request of %zu bytes exceeds the daemon's limit of %u",
				    len, limit);
	ioasd__request__pack(req, c->buf);

	r = wire_send(c->fd, c->buf, len, send_fd >= 0 ? &send_fd : NULL,
		      send_fd >= 0 ? 1 : 0);
	if (r == -EAGAIN)
		return libioas_broken(c, -ETIMEDOUT, "timed out sending to ioasd");
	if (r == -EPIPE || r == -ECONNRESET) {
		r2 = pending_refusal(c, r);
		return r2 < 0 ? r2 :
			libioas_broken(c, r, "ioasd closed the connection (its log says why)");
	}
	if (r < 0)
		return libioas_broken(c, r, "sending to ioasd: %s", strerror(-r));

	for (;;) {
		n = wire_recv(c->fd, c->buf, sizeof(c->buf), fds,
			      IOASD_MAX_FDS, &nfds, 0);
		if (n == -EINTR)
			continue;
		if (n == -EAGAIN)
			return libioas_broken(c, -ETIMEDOUT,
					      "timed out waiting for ioasd");
		if (n == -ECONNRESET) {
			/* The kernel reports the reset before the datagram
			 * the daemon queued before closing: read that. */
			r2 = pending_refusal(c, (int)n);
			if (r2 < 0)
				return r2;
		}
		if (n < 0)
			return libioas_broken(c, (int)n, "receiving from ioasd: %s",
					      strerror((int)-n));
		if (n == 0)
			return libioas_broken(c, -ECONNRESET,
					      "ioasd closed the connection");
		if (nfds > 0) {
			libioas_close_fds(fds, nfds);
			return libioas_broken(c, -EPROTO,
					      "ioasd sent %zu unexpected fd(s)", nfds);
		}

		resp = ioasd__response__unpack(NULL, (size_t)n, c->buf);
		if (!resp)
			return libioas_broken(c, -EPROTO,
					      "malformed reply from ioasd (%zd bytes)",
					      n);
		if (resp->id == 0 && resp->error > 0 &&
		    resp->error <= IOAS_ERRNO_MAX) {
			/* The daemon refused the datagram itself (or the
			 * connection) and closes: say why. */
			r = libioas_broken(c, -resp->error, "%s",
					   resp->message ? resp->message :
							   strerror(resp->error));
			ioasd__response__free_unpacked(resp, NULL);
			return r;
		}
		if (resp->id == 0) {
			libioas_queue_notification(c, resp);
			ioasd__response__free_unpacked(resp, NULL);
			continue;
		}
		break;
	}

	if (resp->id != req->id) {
		r = libioas_broken(c, -EPROTO,
				   "reply id %llu does not match request id %llu",
				   (unsigned long long)resp->id,
				   (unsigned long long)req->id);
		ioasd__response__free_unpacked(resp, NULL);
		return r;
	}
	if (resp->error < 0 || resp->error > IOAS_ERRNO_MAX) {
		r = libioas_broken(c, -EPROTO, "reply carries invalid error %d",
				   resp->error);
		ioasd__response__free_unpacked(resp, NULL);
		return r;
	}
	if (resp->error != 0) {
		*ret = resp;
		return libioas_fail(c, -resp->error, "%s",
				    resp->message && resp->message[0] ?
					    resp->message :
					    strerror(resp->error));
	}
	if (expect != IOASD__RESPONSE__RESULT__NOT_SET &&
	    resp->result_case != expect) {
		r = libioas_broken(c, -EPROTO,
				   "reply carries result %d, expected %d",
				   (int)resp->result_case, (int)expect);
		ioasd__response__free_unpacked(resp, NULL);
		return r;
	}
	c->last_error[0] = '\0';
	*ret = resp;
	return 0;
}

/* For requests whose reply carries nothing but success or an errno. */
static int libioas_transact_simple(struct ioas_client *c, Ioasd__Request *req)
{
	Ioasd__Response *resp;
	int r;

	r = libioas_transact(c, req, -1, IOASD__RESPONSE__RESULT__NOT_SET, &resp);
	if (resp)
		ioasd__response__free_unpacked(resp, NULL);
	return r;
}

/* ------------------------------------------------------------ connection */

static int say_hello(struct ioas_client *c, const char *client_name,
		     const char *reclaim_token)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__Hello hello = IOASD__HELLO__INIT;
	Ioasd__HelloReply *h;
	Ioasd__Response *resp;
	int r;

	hello.version = IOAS_PROTOCOL_VERSION;
	hello.client_name = (char *)client_name;
	hello.reclaim_token = (char *)reclaim_token;
	req.op_case = IOASD__REQUEST__OP_HELLO;
	req.hello = &hello;

	r = libioas_transact(c, &req, -1, IOASD__RESPONSE__RESULT_HELLO, &resp);
	if (r < 0) {
		if (resp)
			ioasd__response__free_unpacked(resp, NULL);
		return r;
	}

	h = resp->hello;
	if (h->version != IOAS_PROTOCOL_VERSION) {
		r = libioas_broken(c, -EPROTONOSUPPORT,
				   "ioasd speaks protocol version %u, this library %u",
				   h->version, IOAS_PROTOCOL_VERSION);
		goto out;
	}
	c->version = h->version;
	c->caps = h->caps;
	c->max_datagram = h->max_datagram;
	c->max_fds = h->max_fds;
	c->backend = strdup(h->backend ? h->backend : "");
	c->server = strdup(h->server ? h->server : "");
	c->reclaimed = h->has_reclaimed && h->reclaimed;
	if (h->reclaim_token)
		c->reclaim_token = strdup(h->reclaim_token);
	if (!c->backend || !c->server || (h->reclaim_token && !c->reclaim_token))
		r = libioas_fail(c, -ENOMEM, "out of memory");
out:
	ioasd__response__free_unpacked(resp, NULL);
	return r;
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
	if (c->fd >= 0)
		close(c->fd);
	free(c->backend);
	free(c->server);
	if (c->reclaim_token)
		explicit_bzero(c->reclaim_token, strlen(c->reclaim_token));
	free(c->reclaim_token);
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

IOAS_EXPORT bool ioas_client_broken(const struct ioas_client *c)
{
	return c->broken;
}

IOAS_EXPORT int ioas_client_fd(const struct ioas_client *c)
{
	return c->fd;
}

/* ------------------------------------------------------------ IOAS */

IOAS_EXPORT int ioas_alloc(struct ioas_client *c, uint32_t *ret_ioas)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__IoasAlloc op = IOASD__IOAS_ALLOC__INIT;
	Ioasd__Response *resp;
	int r;

	req.op_case = IOASD__REQUEST__OP_IOAS_ALLOC;
	req.ioas_alloc = &op;
	r = libioas_transact(c, &req, -1, IOASD__RESPONSE__RESULT_IOAS_ALLOC, &resp);
	if (r == 0 && ret_ioas)
		*ret_ioas = resp->ioas_alloc->ioas;
	if (resp)
		ioasd__response__free_unpacked(resp, NULL);
	return r;
}

IOAS_EXPORT int ioas_destroy(struct ioas_client *c, uint32_t ioas)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__IoasDestroy op = IOASD__IOAS_DESTROY__INIT;

	op.ioas = ioas;
	req.op_case = IOASD__REQUEST__OP_IOAS_DESTROY;
	req.ioas_destroy = &op;
	return libioas_transact_simple(c, &req);
}

IOAS_EXPORT int ioas_iova_ranges(struct ioas_client *c, uint32_t ioas,
				 struct ioas_iova_range *ranges, uint32_t *num,
				 uint64_t *ret_alignment)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__IovaRanges op = IOASD__IOVA_RANGES__INIT;
	Ioasd__IovaRangesReply *rr;
	Ioasd__Response *resp;
	int r;

	if (!num || (*num && !ranges))
		return libioas_fail(c, -EINVAL, "no room given for the ranges");

	op.ioas = ioas;
	op.capacity = *num;
	req.op_case = IOASD__REQUEST__OP_IOVA_RANGES;
	req.iova_ranges = &op;
	r = libioas_transact(c, &req, -1, IOASD__RESPONSE__RESULT_IOVA_RANGES, &resp);
	if (r == -EMSGSIZE && resp) {
		/* Kernel semantics: only the needed count comes back. */
		if (resp->result_case == IOASD__RESPONSE__RESULT_IOVA_RANGES)
			*num = resp->iova_ranges->num_iovas;
		goto out;
	}
	if (r < 0)
		goto out;

	rr = resp->iova_ranges;
	if (rr->n_ranges != rr->num_iovas || rr->n_ranges > *num) {
		r = libioas_broken(c, -EPROTO,
				   "ioasd sent %zu ranges for num_iovas %u and room for %u",
				   rr->n_ranges, rr->num_iovas, *num);
		goto out;
	}
	for (size_t i = 0; i < rr->n_ranges; i++) {
		ranges[i].start = rr->ranges[i]->start;
		ranges[i].last = rr->ranges[i]->last;
	}
	*num = rr->num_iovas;
	if (ret_alignment)
		*ret_alignment = rr->iova_alignment;
out:
	if (resp)
		ioasd__response__free_unpacked(resp, NULL);
	return r;
}

IOAS_EXPORT int ioas_iova_ranges_all(struct ioas_client *c, uint32_t ioas,
				     struct ioas_iova_range **ret_ranges,
				     uint32_t *ret_num,
				     uint64_t *ret_alignment)
{
	struct ioas_iova_range *ranges = NULL;
	uint32_t room = 8, num;
	uint64_t align;
	int r;

	/* The count can change between two calls (a device attaches):
	 * retry a few times, then give up rather than loop forever. */
	for (int attempt = 0; attempt < 8; attempt++) {
		struct ioas_iova_range *n;

		n = realloc(ranges, (room ? room : 1) * sizeof(*ranges));
		if (!n) {
			free(ranges);
			return libioas_fail(c, -ENOMEM, "out of memory");
		}
		ranges = n;
		num = room;
		r = ioas_iova_ranges(c, ioas, ranges, &num, &align);
		if (r == -EMSGSIZE && num > room) {
			room = num;
			continue;
		}
		if (r < 0) {
			free(ranges);
			return r;
		}
		if (num == 0) {
			free(ranges);
			ranges = NULL;
		}
		*ret_ranges = ranges;
		*ret_num = num;
		if (ret_alignment)
			*ret_alignment = align;
		return 0;
	}
	free(ranges);
	return libioas_fail(c, -EAGAIN, "IOVA ranges kept changing");
}

IOAS_EXPORT int ioas_allow_iovas(struct ioas_client *c, uint32_t ioas,
				 const struct ioas_iova_range *ranges,
				 uint32_t num)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__AllowIovas op = IOASD__ALLOW_IOVAS__INIT;
	Ioasd__IovaRange *items = NULL, **ptrs = NULL;
	int r;

	if (num && !ranges)
		return libioas_fail(c, -EINVAL, "no ranges given");
	/* A bound before allocating: more than fits a datagram is refused
	 * by the size check anyway (each range takes at least 6 bytes). */
	if (num > IOASD_MAX_DATAGRAM / 4)
		return libioas_fail(c, -EMSGSIZE, "%u ranges do not fit one request",
				    num);
	if (num) {
		items = calloc(num, sizeof(*items));
		ptrs = calloc(num, sizeof(*ptrs));
		if (!items || !ptrs) {
			free(items);
			free(ptrs);
			return libioas_fail(c, -ENOMEM, "out of memory");
		}
	}
	for (uint32_t i = 0; i < num; i++) {
		ioasd__iova_range__init(&items[i]);
		items[i].start = ranges[i].start;
		items[i].last = ranges[i].last;
		ptrs[i] = &items[i];
	}
	op.ioas = ioas;
	op.n_ranges = num;
	op.ranges = ptrs;
	req.op_case = IOASD__REQUEST__OP_ALLOW_IOVAS;
	req.allow_iovas = &op;
	r = libioas_transact_simple(c, &req);
	free(items);
	free(ptrs);
	return r;
}

/* ------------------------------------------------------------ memory */

IOAS_EXPORT int ioas_memory_register(struct ioas_client *c, int fd,
				     uint64_t offset, uint64_t length,
				     uint32_t *ret_memory,
				     struct ioas_memory_info *ret_info)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__RegisterMemory op = IOASD__REGISTER_MEMORY__INIT;
	Ioasd__RegisterMemoryReply *m;
	Ioasd__Response *resp;
	int r;

	if (fd < 0)
		return libioas_fail(c, -EBADF, "invalid fd %d", fd);

	op.offset = offset;
	op.length = length;
	req.op_case = IOASD__REQUEST__OP_REGISTER_MEMORY;
	req.register_memory = &op;
	r = libioas_transact(c, &req, fd, IOASD__RESPONSE__RESULT_REGISTER_MEMORY,
			     &resp);
	if (r < 0)
		goto out;

	m = resp->register_memory;
	if (ret_memory)
		*ret_memory = m->memory;
	if (ret_info) {
		ret_info->memory = m->memory;
		ret_info->length = m->length;
		snprintf(ret_info->kind, sizeof(ret_info->kind), "%s",
			 m->kind ? m->kind : "");
		ret_info->page_size = m->page_size;
		ret_info->writable = m->writable;
	}
out:
	if (resp)
		ioasd__response__free_unpacked(resp, NULL);
	return r;
}

IOAS_EXPORT int ioas_memory_unregister(struct ioas_client *c, uint32_t memory)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__UnregisterMemory op = IOASD__UNREGISTER_MEMORY__INIT;

	op.memory = memory;
	req.op_case = IOASD__REQUEST__OP_UNREGISTER_MEMORY;
	req.unregister_memory = &op;
	return libioas_transact_simple(c, &req);
}

IOAS_EXPORT int ioas_memfd_create(const char *name, uint64_t size,
				  int *ret_fd)
{
	int fd;

	if (!ret_fd || size == 0)
		return -EINVAL;
	if (size > (uint64_t)INT64_MAX)
		return -EFBIG;

	fd = memfd_create(name ? name : "ioas", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

/* ------------------------------------------------------------ mappings */

IOAS_EXPORT int ioas_map(struct ioas_client *c, uint32_t ioas, uint32_t memory,
			 uint64_t offset, uint64_t length, uint32_t flags,
			 uint64_t *iova)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__Map op = IOASD__MAP__INIT;
	Ioasd__Response *resp;
	int r;

	if (!iova)
		return libioas_fail(c, -EINVAL, "no place for the IOVA");

	op.ioas = ioas;
	op.memory = memory;
	op.offset = offset;
	op.length = length;
	op.flags = flags;
	if (flags & IOAS_MAP_FIXED_IOVA) {
		op.has_iova = true;
		op.iova = *iova;
	}
	req.op_case = IOASD__REQUEST__OP_MAP;
	req.map = &op;
	r = libioas_transact(c, &req, -1, IOASD__RESPONSE__RESULT_MAP, &resp);
	if (r == 0)
		*iova = resp->map->iova;
	if (resp)
		ioasd__response__free_unpacked(resp, NULL);
	return r;
}

IOAS_EXPORT int ioas_unmap(struct ioas_client *c, uint32_t ioas, uint64_t iova,
			   uint64_t length, uint64_t *ret_unmapped)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__Unmap op = IOASD__UNMAP__INIT;
	Ioasd__Response *resp;
	int r;

	op.ioas = ioas;
	op.iova = iova;
	op.length = length;
	req.op_case = IOASD__REQUEST__OP_UNMAP;
	req.unmap = &op;
	r = libioas_transact(c, &req, -1, IOASD__RESPONSE__RESULT_UNMAP, &resp);
	if (r == 0 && ret_unmapped)
		*ret_unmapped = resp->unmap->unmapped;
	if (resp)
		ioasd__response__free_unpacked(resp, NULL);
	return r;
}

IOAS_EXPORT int ioas_unmap_all(struct ioas_client *c, uint32_t ioas,
			       uint64_t *ret_unmapped)
{
	return ioas_unmap(c, ioas, 0, IOAS_UNMAP_ALL_LENGTH, ret_unmapped);
}

IOAS_EXPORT int ioas_copy(struct ioas_client *c, uint32_t dst_ioas,
			  uint32_t src_ioas, uint32_t flags, uint64_t src_iova,
			  uint64_t length, uint64_t *dst_iova)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__Copy op = IOASD__COPY__INIT;
	Ioasd__Response *resp;
	int r;

	if (!dst_iova)
		return libioas_fail(c, -EINVAL, "no place for the destination IOVA");

	op.src_ioas = src_ioas;
	op.src_iova = src_iova;
	op.length = length;
	op.dst_ioas = dst_ioas;
	op.flags = flags;
	if (flags & IOAS_MAP_FIXED_IOVA) {
		op.has_dst_iova = true;
		op.dst_iova = *dst_iova;
	}
	req.op_case = IOASD__REQUEST__OP_COPY;
	req.copy = &op;
	r = libioas_transact(c, &req, -1, IOASD__RESPONSE__RESULT_COPY, &resp);
	if (r == 0)
		*dst_iova = resp->copy->dst_iova;
	if (resp)
		ioasd__response__free_unpacked(resp, NULL);
	return r;
}

/* ------------------------------------------------------------ options */

IOAS_EXPORT int ioas_option(struct ioas_client *c, uint32_t op_code,
			    uint32_t option, uint32_t ioas, uint64_t *val)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__Option op = IOASD__OPTION__INIT;
	Ioasd__Response *resp;
	int r;

	if (!val)
		return libioas_fail(c, -EINVAL, "no place for the option value");

	op.op = (Ioasd__OptionOp)op_code;
	op.option = (Ioasd__OptionId)option;
	op.ioas = ioas;
	if (op_code == IOAS_OPTION_OP_SET) {
		op.has_value = true;
		op.value = *val;
	}
	req.op_case = IOASD__REQUEST__OP_OPTION;
	req.option = &op;
	r = libioas_transact(c, &req, -1, IOASD__RESPONSE__RESULT__NOT_SET, &resp);
	if (r == 0 && op_code == IOAS_OPTION_OP_GET) {
		if (resp->result_case != IOASD__RESPONSE__RESULT_OPTION)
			r = libioas_broken(c, -EPROTO,
					   "option reply carries no value");
		else
			*val = resp->option->value;
	}
	if (resp)
		ioasd__response__free_unpacked(resp, NULL);
	return r;
}

IOAS_EXPORT int ioas_huge_pages_get(struct ioas_client *c, uint32_t ioas,
				    bool *ret_enabled)
{
	uint64_t v = 0;
	int r;

	r = ioas_option(c, IOAS_OPTION_OP_GET, IOAS_OPTION_HUGE_PAGES, ioas,
			&v);
	if (r == 0 && ret_enabled)
		*ret_enabled = v != 0;
	return r;
}

IOAS_EXPORT int ioas_huge_pages_set(struct ioas_client *c, uint32_t ioas,
				    bool enabled)
{
	uint64_t v = enabled ? 1 : 0;

	return ioas_option(c, IOAS_OPTION_OP_SET, IOAS_OPTION_HUGE_PAGES, ioas,
			   &v);
}

/* ------------------------------------------------------------ stats */

IOAS_EXPORT int ioas_stats(struct ioas_client *c, struct ioas_stats *ret)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__Stats op = IOASD__STATS__INIT;
	Ioasd__StatsReply *s;
	Ioasd__Response *resp;
	int r;

	if (!ret)
		return libioas_fail(c, -EINVAL, "no place for the stats");

	req.op_case = IOASD__REQUEST__OP_STATS;
	req.stats = &op;
	r = libioas_transact(c, &req, -1, IOASD__RESPONSE__RESULT_STATS, &resp);
	if (r == 0) {
		s = resp->stats;
		memset(ret, 0, sizeof(*ret));
		snprintf(ret->backend, sizeof(ret->backend), "%s",
			 s->backend ? s->backend : "");
		ret->connections = s->connections;
		ret->ioas = s->ioas;
		ret->memory_regions = s->memory_regions;
		ret->mappings = s->mappings;
		ret->mapped_bytes = s->mapped_bytes;
		ret->pinned_bytes = s->pinned_bytes;
		ret->total_ioas = s->total_ioas;
		ret->total_pinned_bytes = s->total_pinned_bytes;
		ret->tenants = s->has_tenants ? s->tenants : 0;
		ret->pool_size = s->has_pool_size ? s->pool_size : 0;
		ret->pool_idle = s->has_pool_idle ? s->pool_idle : 0;
		/* A daemon without the field filled them in for everyone. */
		ret->daemon_wide = s->has_daemon_wide ? s->daemon_wide : true;
	}
	if (resp)
		ioasd__response__free_unpacked(resp, NULL);
	return r;
}

IOAS_EXPORT int ioas_whoami(struct ioas_client *c, struct ioas_whoami *ret)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__Whoami op = IOASD__WHOAMI__INIT;
	Ioasd__WhoamiReply *w;
	Ioasd__Response *resp;
	int r;

	if (!ret)
		return libioas_fail(c, -EINVAL, "no place for the answer");
	req.op_case = IOASD__REQUEST__OP_WHOAMI;
	req.whoami = &op;
	r = libioas_transact(c, &req, -1, IOASD__RESPONSE__RESULT_WHOAMI, &resp);
	if (r == 0) {
		w = resp->whoami;
		memset(ret, 0, sizeof(*ret));
		snprintf(ret->tenant, sizeof(ret->tenant), "%s", w->tenant ? w->tenant : "");
		snprintf(ret->policy_source, sizeof(ret->policy_source), "%s",
			 w->policy_source ? w->policy_source : "");
		snprintf(ret->peer, sizeof(ret->peer), "%s", w->peer ? w->peer : "");
		ret->max_ioas = w->max_ioas;
		ret->max_pinned_bytes = w->max_pinned_bytes;
		ret->max_mappings = w->max_mappings;
		ret->max_memory_regions = w->max_memory_regions;
		ret->max_connections = w->max_connections;
		ret->max_region_size = w->max_region_size;
		ret->n_allowed_iova = (uint32_t)w->n_allowed_iova;
		for (size_t i = 0; i < w->n_allowed_iova && i < IOAS_WHOAMI_MAX_RANGES; i++) {
			ret->allowed_iova[i].start = w->allowed_iova[i]->start;
			ret->allowed_iova[i].last = w->allowed_iova[i]->last;
		}
		ret->huge_pages = w->huge_pages;
		ret->writeable = w->writeable;
		snprintf(ret->rlimit_mode, sizeof(ret->rlimit_mode), "%s",
			 w->rlimit_mode ? w->rlimit_mode : "");
		ret->ioas = w->ioas;
		ret->memory_regions = w->memory_regions;
		ret->mappings = w->mappings;
		ret->mapped_bytes = w->mapped_bytes;
		ret->pinned_bytes = w->pinned_bytes;
		ret->connections = w->connections;
		ret->orphaned = w->orphaned;
		ret->devices = w->devices;
		ret->own_context = w->own_context;
		ret->mappings_outside_policy = w->mappings_outside_policy;
		ret->daemon_wide_stats = w->has_daemon_wide_stats ?
					 w->daemon_wide_stats : true;
		for (size_t i = 0, at = 0; i < w->n_allow_device; i++) {
			int n = snprintf(ret->allow_device + at,
					 sizeof(ret->allow_device) - at, "%s%s",
					 i ? " " : "", w->allow_device[i]);

			if (n < 0 || (size_t)n >= sizeof(ret->allow_device) - at)
				break;
			at += (size_t)n;
		}
	}
	if (resp)
		ioasd__response__free_unpacked(resp, NULL);
	return r;
}

/* ------------------------------------------------------------ sharing */

IOAS_EXPORT int ioas_share_export(struct ioas_client *c, uint32_t ioas,
				  uint64_t iova, uint64_t length, bool writeable,
				  uint32_t *ret_share,
				  char ret_token[IOAS_SHARE_TOKEN_LEN + 1])
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__ShareExport op = IOASD__SHARE_EXPORT__INIT;
	Ioasd__Response *resp;
	int r;

	if (!ret_share || !ret_token)
		return libioas_fail(c, -EINVAL, "no place for the share handle or token");
	op.ioas = ioas;
	op.iova = iova;
	op.length = length;
	op.writeable = writeable;
	req.op_case = IOASD__REQUEST__OP_SHARE_EXPORT;
	req.share_export = &op;
	r = libioas_transact(c, &req, -1, IOASD__RESPONSE__RESULT_SHARE_EXPORT, &resp);
	if (r == 0 && strlen(resp->share_export->token) != IOAS_SHARE_TOKEN_LEN)
		r = libioas_broken(c, -EPROTO, "share token of unexpected length");
	if (r == 0) {
		*ret_share = resp->share_export->share;
		memcpy(ret_token, resp->share_export->token, IOAS_SHARE_TOKEN_LEN + 1);
	}
	if (resp)
		ioasd__response__free_unpacked(resp, NULL);
	return r;
}

IOAS_EXPORT int ioas_share_import(struct ioas_client *c, const char *token,
				  uint32_t ioas, uint32_t flags,
				  uint64_t offset, uint64_t length,
				  uint64_t *iova, uint32_t *ret_import,
				  uint64_t *ret_length)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__ShareImport op = IOASD__SHARE_IMPORT__INIT;
	Ioasd__Response *resp;
	int r;

	if (!token || !iova)
		return libioas_fail(c, -EINVAL, "no token or no place for the IOVA");
	if (flags & ~(uint32_t)(IOAS_MAP_WRITEABLE | IOAS_MAP_FIXED_IOVA |
				IOAS_MAP_READABLE))
		return libioas_fail(c, -EOPNOTSUPP, "unknown import flags 0x%x", flags);
	op.token = (char *)token;
	op.ioas = ioas;
	op.writeable = flags & IOAS_MAP_WRITEABLE;
	if (flags & IOAS_MAP_FIXED_IOVA) {
		op.has_iova = true;
		op.iova = *iova;
	}
	op.has_offset = offset != 0;
	op.offset = offset;
	op.has_length = length != 0;
	op.length = length;
	req.op_case = IOASD__REQUEST__OP_SHARE_IMPORT;
	req.share_import = &op;
	r = libioas_transact(c, &req, -1, IOASD__RESPONSE__RESULT_SHARE_IMPORT, &resp);
	if (r == 0) {
		*iova = resp->share_import->iova;
		if (ret_import)
			*ret_import = resp->share_import->import;
		if (ret_length)
			*ret_length = resp->share_import->length;
	}
	if (resp)
		ioasd__response__free_unpacked(resp, NULL);
	return r;
}

IOAS_EXPORT int ioas_share_revoke(struct ioas_client *c, uint32_t share)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__ShareRevoke op = IOASD__SHARE_REVOKE__INIT;

	op.share = share;
	req.op_case = IOASD__REQUEST__OP_SHARE_REVOKE;
	req.share_revoke = &op;
	return libioas_transact_simple(c, &req);
}

IOAS_EXPORT struct ioas_share_list *ioas_share_list_free(struct ioas_share_list *l)
{
	if (!l)
		return NULL;
	free(l->shares);
	free(l->importers);
	free(l->imports);
	free(l);
	return NULL;
}

IOAS_EXPORT int ioas_share_list(struct ioas_client *c,
				struct ioas_share_list **ret)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__ShareList op = IOASD__SHARE_LIST__INIT;
	Ioasd__ShareListReply *l;
	Ioasd__Response *resp;
	struct ioas_share_list *out;
	size_t nimp = 0, k = 0;
	int r;

	if (!ret)
		return libioas_fail(c, -EINVAL, "no place for the list");
	req.op_case = IOASD__REQUEST__OP_SHARE_LIST;
	req.share_list = &op;
	r = libioas_transact(c, &req, -1, IOASD__RESPONSE__RESULT_SHARE_LIST, &resp);
	if (r < 0) {
		if (resp)
			ioasd__response__free_unpacked(resp, NULL);
		return r;
	}
	l = resp->share_list;
	for (size_t i = 0; i < l->n_shares; i++)
		nimp += l->shares[i]->n_importers;
	out = calloc(1, sizeof(*out));
	if (out) {
		out->shares = calloc(l->n_shares + 1, sizeof(*out->shares));
		out->importers = calloc(nimp + 1, sizeof(*out->importers));
		out->imports = calloc(l->n_imports + 1, sizeof(*out->imports));
	}
	if (!out || !out->shares || !out->importers || !out->imports) {
		ioas_share_list_free(out);
		ioasd__response__free_unpacked(resp, NULL);
		return libioas_fail(c, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < l->n_shares; i++) {
		const Ioasd__ShareInfo *s = l->shares[i];
		struct ioas_share_info *o = &out->shares[i];

		o->share = s->share;
		o->ioas = s->ioas;
		o->iova = s->iova;
		o->length = s->length;
		o->writeable = s->writeable;
		libioas_copy_str(o->token, sizeof(o->token), s->token);
		o->n_importers = (uint32_t)s->n_importers;
		for (size_t j = 0; j < s->n_importers; j++, k++) {
			struct ioas_importer_info *p = &out->importers[k];

			p->share = s->share;
			libioas_copy_str(p->tenant, sizeof(p->tenant), s->importers[j]->tenant);
			p->import = s->importers[j]->import;
			p->offset = s->importers[j]->offset;
			p->length = s->importers[j]->length;
			p->writeable = s->importers[j]->writeable;
		}
	}
	for (size_t i = 0; i < l->n_imports; i++) {
		const Ioasd__ImportInfo *s = l->imports[i];
		struct ioas_import_info *p = &out->imports[i];

		p->import = s->import;
		libioas_copy_str(p->exporter, sizeof(p->exporter), s->exporter);
		p->share = s->share;
		p->ioas = s->ioas;
		p->iova = s->iova;
		p->offset = s->offset;
		p->length = s->length;
		p->writeable = s->writeable;
	}
	out->n_shares = (uint32_t)l->n_shares;
	out->n_importers = (uint32_t)nimp;
	out->n_imports = (uint32_t)l->n_imports;
	ioasd__response__free_unpacked(resp, NULL);
	*ret = out;
	return 0;
}

IOAS_EXPORT int ioas_next_notification(struct ioas_client *c,
				       struct ioas_notification *ret)
{
	/* Drain what has arrived, without blocking. */
	while (!c->broken) {
		int fds[IOASD_MAX_FDS];
		Ioasd__Response *resp;
		size_t nfds = 0;
		ssize_t n;

		n = wire_recv(c->fd, c->buf, sizeof(c->buf), fds, IOASD_MAX_FDS,
			      &nfds, MSG_DONTWAIT);
		if (n == -EAGAIN || n == -EINTR)
			break;
		if (n <= 0) {
			(void)libioas_broken(c, n == 0 ? -ECONNRESET : (int)n,
					     "ioasd closed the connection");
			break;
		}
		libioas_close_fds(fds, nfds);
		resp = ioasd__response__unpack(NULL, (size_t)n, c->buf);
		if (!resp) {
			(void)libioas_broken(c, -EPROTO, "malformed datagram from ioasd");
			break;
		}
		if (resp->id != 0)
			(void)libioas_broken(c, -EPROTO, "reply %llu with no request outstanding",
					     (unsigned long long)resp->id);
		else if (resp->error > 0)
			(void)libioas_broken(c, -resp->error, "%s",
					     resp->message ? resp->message : strerror(resp->error));
		else
			libioas_queue_notification(c, resp);
		ioasd__response__free_unpacked(resp, NULL);
	}
	if (c->note_count == 0)
		return -EAGAIN;
	*ret = c->notes[c->note_head];
	c->note_head = (c->note_head + 1) % IOAS_NOTIFY_QUEUE;
	c->note_count--;
	return 0;
}

IOAS_EXPORT uint64_t ioas_notifications_dropped(const struct ioas_client *c)
{
	return c->notes_dropped;
}

/* ------------------------------------------------------------ devices */

static void device_info_copy(struct ioas_device_info *o,
			     const Ioasd__DeviceInfo *d)
{
	memset(o, 0, sizeof(*o));
	o->device = d->device;
	o->ioas = d->ioas;
	o->vendor = (uint16_t)d->vendor;
	o->device_id = (uint16_t)d->device_id;
	snprintf(o->pci_address, sizeof(o->pci_address), "%s",
		 d->pci_address ? d->pci_address : "");
	snprintf(o->name, sizeof(o->name), "%s", d->name ? d->name : "");
}

IOAS_EXPORT int ioas_device_attach(struct ioas_client *c, uint32_t ioas,
				   int fd, struct ioas_device_info *ret)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__AttachDevice op = IOASD__ATTACH_DEVICE__INIT;
	Ioasd__Response *resp;
	int r;

	if (fd < 0)
		return libioas_fail(c, -EBADF, "no device fd");
	op.ioas = ioas;
	req.op_case = IOASD__REQUEST__OP_ATTACH_DEVICE;
	req.attach_device = &op;
	r = libioas_transact(c, &req, fd, IOASD__RESPONSE__RESULT_ATTACH_DEVICE, &resp);
	if (r == 0 && ret)
		device_info_copy(ret, resp->attach_device);
	if (resp)
		ioasd__response__free_unpacked(resp, NULL);
	return r;
}

IOAS_EXPORT int ioas_device_detach(struct ioas_client *c, uint32_t device)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__DetachDevice op = IOASD__DETACH_DEVICE__INIT;

	op.device = device;
	req.op_case = IOASD__REQUEST__OP_DETACH_DEVICE;
	req.detach_device = &op;
	return libioas_transact_simple(c, &req);
}

IOAS_EXPORT int ioas_device_list(struct ioas_client *c,
				 struct ioas_device_info **ret, uint32_t *n)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__DeviceList op = IOASD__DEVICE_LIST__INIT;
	struct ioas_device_info *out;
	Ioasd__Response *resp;
	int r;

	if (!ret || !n)
		return libioas_fail(c, -EINVAL, "no place for the list");
	req.op_case = IOASD__REQUEST__OP_DEVICE_LIST;
	req.device_list = &op;
	r = libioas_transact(c, &req, -1, IOASD__RESPONSE__RESULT_DEVICE_LIST, &resp);
	if (r < 0) {
		if (resp)
			ioasd__response__free_unpacked(resp, NULL);
		return r;
	}
	out = calloc(resp->device_list->n_devices + 1, sizeof(*out));
	if (!out) {
		ioasd__response__free_unpacked(resp, NULL);
		return libioas_fail(c, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < resp->device_list->n_devices; i++)
		device_info_copy(&out[i], resp->device_list->devices[i]);
	*n = (uint32_t)resp->device_list->n_devices;
	*ret = out;
	ioasd__response__free_unpacked(resp, NULL);
	return 0;
}

IOAS_EXPORT int ioas_sim_device_create(const char *vendor_device,
				       const char *pci_address, int *ret_fd)
{
	unsigned v, d, dom, bus, slot, fn;
	char name[80];
	char tail;
	int fd;

	if (!vendor_device || !pci_address || !ret_fd ||
	    sscanf(vendor_device, "%4x:%4x%c", &v, &d, &tail) != 2 ||
	    sscanf(pci_address, "%4x:%2x:%2x.%1x%c", &dom, &bus, &slot, &fn,
		   &tail) != 4 || slot > 0x1f || fn > 7)
		return -EINVAL;
	snprintf(name, sizeof(name), "ioasd-sim-device:%04x:%04x@%04x:%02x:%02x.%x",
		 v, d, dom, bus, slot, fn);
	fd = memfd_create(name, MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}
