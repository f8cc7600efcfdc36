/* SPDX-License-Identifier: MIT */
/*
 * libioas: one synchronous request/response at a time over a SOCK_SEQPACKET
 * connection to ioasd. See ioas.h for the contract.
 *
 * The transport: send a request, wait for its reply (queueing the
 * notifications that arrive meanwhile), and the errors that come of it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

void libioas_copy_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
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
	return neg_errno;
}

uint8_t *libioas_buf(struct ioas_client *c)
{
	if (!c->buf)
		c->buf = malloc(IOASD_MAX_DATAGRAM);
	if (!c->buf)
		(void)libioas_fail(c, -ENOMEM, "out of memory");
	return c->buf;
}

void libioas_close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

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
	n = wire_recv(c->fd, c->buf, IOASD_MAX_DATAGRAM, fds, IOASD_MAX_FDS,
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

int libioas_transact(struct ioas_client *c, Ioasd__Request *req, int send_fd,
		     Ioasd__Response__ResultCase expect)
{
	Ioasd__Response *resp;
	size_t len, nfds = 0;
	int fds[IOASD_MAX_FDS];
	uint32_t limit;
	ssize_t n;
	int r, r2;

	if (c->reply) {
		ioasd__response__free_unpacked(c->reply, NULL);
		c->reply = NULL;
	}
	if (c->broken)
		return libioas_fail(c, -ENOTCONN,
				    "connection to ioasd is broken; reconnect");

	if (!libioas_buf(c))
		return -ENOMEM;
	req->id = c->next_id++;
	if (c->next_id == 0) /* id 0 is reserved for notifications */
		c->next_id = 1;

	len = ioasd__request__get_packed_size(req);
	limit = c->max_datagram ? c->max_datagram : IOASD_MAX_DATAGRAM;
	if (limit > IOASD_MAX_DATAGRAM)
		limit = IOASD_MAX_DATAGRAM;
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
		n = wire_recv(c->fd, c->buf, IOASD_MAX_DATAGRAM, fds,
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
		ioasd__response__free_unpacked(resp, NULL);
		return r;
	}
	c->last_error[0] = '\0';
	c->reply = resp;
	return 0;
}
