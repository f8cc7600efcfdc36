/* SPDX-License-Identifier: MIT */
/*
 * libioas over a SOCK_SEQPACKET connection to ioasd. See ioas.h for the
 * contract.
 *
 * The transport: send a datagram (reading what arrives while the socket is
 * full), receive one (a notification is queued, the reply to an
 * asynchronous request completes it, async.c), a synchronous request and
 * its reply, and the errors that come of them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

void libioas_copy_str(char *dst, size_t size, const char *src)
{
	size_t n;

	if (!size)
		return;
	n = src ? strnlen(src, size - 1) : 0;
	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

__attribute__((format(printf, 3, 4))) int libioas_fail(struct ioas_client *c,
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
__attribute__((format(printf, 3, 4))) int libioas_broken(struct ioas_client *c,
							 int neg_errno,
							 const char *fmt, ...)
{
	va_list ap;

	c->broken = true;
	va_start(ap, fmt);
	vsnprintf(c->last_error, sizeof(c->last_error), fmt, ap);
	va_end(ap);
	/* What was in flight will never be answered: it completes now. */
	libioas_fail_pending(c, neg_errno);
	return neg_errno;
}

bool libioas_buffers(struct ioas_client *c)
{
	if (!c->in)
		c->in = malloc(IOASD_MAX_DATAGRAM);
	if (!c->out)
		c->out = malloc(IOASD_MAX_DATAGRAM);
	if (!c->rx)
		c->rx = malloc(sizeof(*c->rx));
	if (!c->codec)
		c->codec = calloc(1, sizeof(*c->codec));
	if (!c->in || !c->out || !c->rx || !c->codec)
		(void)libioas_fail(c, -ENOMEM, "out of memory");
	return c->in && c->out && c->rx && c->codec;
}

void libioas_close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

void libioas_response_free(struct ioas_client *c, Ioasd__Response *resp)
{
	if (resp && (!c->rx || resp != &c->rx->resp) && (!c->big || resp != &c->big->resp))
		ioasd__response__free_unpacked(resp, NULL);
}

struct libioas_big *libioas_take_big(struct ioas_client *c, const Ioasd__Response *resp)
{
	struct libioas_big *big = c->big;

	if (!big || resp != &big->resp)
		return NULL;
	c->big = NULL;
	return big;
}

/* The n bytes of c->in as a Response decoded into c->big. */
static Ioasd__Response *decode_big(struct ioas_client *c, size_t n)
{
	int r = FASTPB_NOSPACE;
	size_t size;

	for (unsigned k = 0; r == FASTPB_NOSPACE && (size = fastpb_scratch_size(n, k)); k++) {
		if (!c->big || c->big->size < size) {
			free(c->big);
			c->big = malloc(sizeof(*c->big) + size);
			if (!c->big)
				return NULL;
			c->big->size = size;
		}
		r = fastpb_unpack(c->codec, &ioasd__response__descriptor, c->in, n,
				  &c->big->resp, c->big->scratch, c->big->size);
	}
	return r == 0 ? &c->big->resp : NULL;
}

/* The n bytes of c->in as a Response: in place when fastpb takes it (the
 * small replies, most; a batch's, and any too large for rx, in c->big,
 * which a batch takes over), else allocated by protobuf-c; NULL when it is
 * not one. Replaces what the last call decoded in place: whoever keeps a
 * reply past the next receive takes c->big's or keeps protobuf-c's. */
static Ioasd__Response *decode(struct ioas_client *c, size_t n)
{
	Ioasd__Response *resp;
	int r = FASTPB_NOSPACE;

	/* A reply too long to fit rx's scratch goes straight to c->big
	 * (a batch of 64 results would fill rx two thirds of the way). */
	if (n * FASTPB_SCRATCH_PER_BYTE <= sizeof(c->rx->scratch))
		r = fastpb_unpack(c->codec, &ioasd__response__descriptor, c->in, n,
				  &c->rx->resp, c->rx->scratch, sizeof(c->rx->scratch));
	if (r == 0 && c->rx->resp.result_case != IOASD__RESPONSE__RESULT_BATCH)
		return &c->rx->resp;
	if (r == 0 || r == FASTPB_NOSPACE) {
		resp = decode_big(c, n);
		if (resp)
			return resp;
	}
	return ioasd__response__unpack(NULL, n, c->in);
}

/*
 * A refused connection gets one error datagram (id 0) before the daemon
 * closes it. After EPIPE/ECONNRESET, read it if it is there and mark the
 * client broken with the daemon's errno and reason; else return 0.
 */
static int pending_refusal(struct ioas_client *c)
{
	int fds[IOASD_MAX_FDS];
	Ioasd__Response *resp;
	size_t nfds = 0;
	ssize_t n;
	int r = 0;

	n = wire_recv(c->fd, c->in, IOASD_MAX_DATAGRAM, fds, IOASD_MAX_FDS,
		      &nfds, MSG_DONTWAIT);
	if (n <= 0)
		return 0;
	libioas_close_fds(fds, nfds);
	resp = decode(c, (size_t)n);
	if (!resp)
		return 0;
	if (resp->id == 0 && resp->error > 0 && resp->error <= IOAS_ERRNO_MAX)
		r = libioas_broken(c, -resp->error, "%s",
				   resp->message ? resp->message : strerror(resp->error));
	libioas_response_free(c, resp);
	return r;
}

int libioas_recv(struct ioas_client *c, int flags, Ioasd__Response **ret)
{
	Ioasd__Response *resp;
	int fds[IOASD_MAX_FDS];
	size_t nfds = 0;
	ssize_t n;
	int r;

	*ret = NULL;
	if (c->broken)
		return libioas_fail(c, -ENOTCONN, "connection to ioasd is broken; reconnect");
	if (!libioas_buffers(c))
		return -ENOMEM;
	do {
		n = wire_recv(c->fd, c->in, IOASD_MAX_DATAGRAM, fds, IOASD_MAX_FDS,
			      &nfds, flags);
	} while (n == -EINTR);
	if (n == -EAGAIN)
		return (flags & MSG_DONTWAIT) ? -EAGAIN :
			libioas_broken(c, -ETIMEDOUT, "timed out waiting for ioasd");
	if (n == -ECONNRESET) {
		/* The kernel reports the reset before the datagram the
		 * daemon queued before closing: read that. */
		r = pending_refusal(c);
		if (r < 0)
			return r;
	}
	if (n < 0)
		return libioas_broken(c, (int)n, "receiving from ioasd: %s",
				      strerror((int)-n));
	if (n == 0)
		return libioas_broken(c, -ECONNRESET, "ioasd closed the connection");
	/* A reply carries one fd at most (VeventqAlloc's queue). */
	if (nfds > 1) {
		libioas_close_fds(fds, nfds);
		return libioas_broken(c, -EPROTO, "ioasd sent %zu unexpected fd(s)", nfds);
	}
	resp = decode(c, (size_t)n);
	if (!resp) {
		libioas_close_fds(fds, nfds);
		return libioas_broken(c, -EPROTO, "malformed reply from ioasd (%zd bytes)", n);
	}
	if (nfds == 1 && (resp->id == 0 || resp->error)) {
		libioas_close_fds(fds, nfds);
		libioas_response_free(c, resp);
		return libioas_broken(c, -EPROTO, "ioasd sent an fd with a %s",
				      resp->id ? "refusal" : "notification");
	}
	if (nfds == 1) {
		/* Kept for the operation that reads this reply; a reply
		 * nobody takes it from lets go of it with the next one. */
		if (c->reply_fd >= 0)
			close(c->reply_fd);
		c->reply_fd = fds[0];
	}
	if (resp->id == 0 && resp->error > 0 && resp->error <= IOAS_ERRNO_MAX) {
		/* The daemon refused the datagram itself (or the
		 * connection) and closes: say why. */
		r = libioas_broken(c, -resp->error, "%s",
				   resp->message ? resp->message : strerror(resp->error));
		libioas_response_free(c, resp);
		return r;
	}
	if (resp->id == 0) {
		libioas_queue_notification(c, resp);
		libioas_response_free(c, resp);
		return 0;
	}
	r = libioas_complete(c, resp);
	if (r != 0)
		return r < 0 ? r : 0;
	*ret = resp;
	return 0;
}

int libioas_send(struct ioas_client *c, size_t len, const int *fds, size_t nfds)
{
	int timeout = c->timeout_ms ? (int)c->timeout_ms : -1;
	int r;

	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN | POLLOUT };

		r = wire_send_flags(c->fd, c->out, len, fds, nfds, MSG_DONTWAIT);
		if (r == 0)
			return 0;
		if (r == -EPIPE || r == -ECONNRESET) {
			int r2 = pending_refusal(c);

			return r2 < 0 ? r2 :
				libioas_broken(c, r, "ioasd closed the connection (its log says why)");
		}
		if (r != -EAGAIN)
			return libioas_broken(c, r, "sending to ioasd: %s", strerror(-r));
		/* The socket is full: the daemon stops reading while what it
		 * sends us piles up, so read that while waiting for room. */
		r = poll(&p, 1, timeout);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return libioas_broken(c, -errno, "poll: %s", strerror(errno));
		if (r == 0)
			return libioas_broken(c, -ETIMEDOUT, "timed out sending to ioasd");
		if (!(p.revents & POLLIN))
			continue;
		libioas_drain(c);
		if (c->broken)
			return -ENOTCONN;
	}
}

void libioas_drain(struct ioas_client *c)
{
	while (!c->broken) {
		Ioasd__Response *resp;

		if (libioas_recv(c, MSG_DONTWAIT, &resp) < 0)
			break;
		if (resp) {
			(void)libioas_broken(c, -EPROTO, "reply %llu to no request in flight",
					     (unsigned long long)resp->id);
			libioas_response_free(c, resp);
		}
	}
}

int libioas_transact(struct ioas_client *c, Ioasd__Request *req, const int *fds,
		     size_t nfds, Ioasd__Response__ResultCase expect)
{
	Ioasd__Response *resp = NULL;
	size_t len;
	int r;

	libioas_response_free(c, c->reply);
	c->reply = NULL;
	if (c->reply_fd >= 0)
		c->reply_fd = (close(c->reply_fd), -1);
	r = libioas_pack(c, req, &len);
	if (r < 0)
		return r;
	r = libioas_send(c, len, fds, nfds);
	if (r < 0)
		return r;
	while (!resp) {
		r = libioas_recv(c, 0, &resp);
		if (r < 0)
			return r;
	}

	if (resp->id != req->id) {
		r = libioas_broken(c, -EPROTO,
				   "reply id %llu does not match request id %llu",
				   (unsigned long long)resp->id,
				   (unsigned long long)req->id);
		libioas_response_free(c, resp);
		return r;
	}
	if (resp->error < 0 || resp->error > IOAS_ERRNO_MAX) {
		r = libioas_broken(c, -EPROTO, "reply carries invalid error %d",
				   resp->error);
		libioas_response_free(c, resp);
		return r;
	}
	if (resp->error != 0) {
		c->reply = resp;
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
		libioas_response_free(c, resp);
		return r;
	}
	c->last_error[0] = '\0';
	c->reply = resp;
	return 0;
}

int libioas_pack(struct ioas_client *c, Ioasd__Request *req, size_t *ret_len)
{
	uint32_t limit;
	ssize_t n;
	size_t len;

	if (c->broken)
		return libioas_fail(c, -ENOTCONN,
				    "connection to ioasd is broken; reconnect");
	if (!libioas_buffers(c))
		return -ENOMEM;
	req->id = c->next_id++;
	if (c->next_id == 0) /* id 0 is reserved for notifications */
		c->next_id = 1;
	limit = c->max_datagram ? c->max_datagram : IOASD_MAX_DATAGRAM;
	if (limit > IOASD_MAX_DATAGRAM)
		limit = IOASD_MAX_DATAGRAM;
	/* The small requests in one pass; the rest sized first. */
	n = fastpb_pack(c->codec, &req->base, c->out, limit);
	if (n >= 0) {
		*ret_len = (size_t)n;
		return 0;
	}
	len = ioasd__request__get_packed_size(req);
	if (len > limit)
		return libioas_fail(c, -EMSGSIZE,
				    "request of %zu bytes exceeds the daemon's limit of %u",
				    len, limit);
	ioasd__request__pack(req, c->out);
	*ret_len = len;
	return 0;
}

int libioas_take_reply_fd(struct ioas_client *c)
{
	int fd = c->reply_fd;

	c->reply_fd = -1;
	return fd;
}
