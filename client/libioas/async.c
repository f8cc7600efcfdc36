/* SPDX-License-Identifier: MIT */
/*
 * libioas: the asynchronous API. A request is sent at once and remembered
 * (a ring of IOAS_MAX_IN_FLIGHT, oldest first). Its reply, read whenever
 * the client reads -- here, in a synchronous call, or while a send waits
 * for room -- becomes a completion, handed out oldest first by
 * ioas_client_poll_completions() and ioas_client_wait_completions(). The
 * daemon answers a connection's requests in the order they were sent, so
 * a reply that overtakes an older request is a protocol error.
 */
#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "internal.h"

/* IOAS_OP_* are the Request's field numbers: a completion's op is the
 * operation it answers, without a table to keep in step. */
static_assert(IOAS_OP_ALLOC == IOASD__REQUEST__OP_IOAS_ALLOC, "IOAS_OP_ALLOC");
static_assert(IOAS_OP_DESTROY == IOASD__REQUEST__OP_IOAS_DESTROY, "IOAS_OP_DESTROY");
static_assert(IOAS_OP_MEMORY_REGISTER == IOASD__REQUEST__OP_REGISTER_MEMORY,
	      "IOAS_OP_MEMORY_REGISTER");
static_assert(IOAS_OP_MEMORY_UNREGISTER == IOASD__REQUEST__OP_UNREGISTER_MEMORY,
	      "IOAS_OP_MEMORY_UNREGISTER");
static_assert(IOAS_OP_MAP == IOASD__REQUEST__OP_MAP, "IOAS_OP_MAP");
static_assert(IOAS_OP_UNMAP == IOASD__REQUEST__OP_UNMAP, "IOAS_OP_UNMAP");
static_assert(IOAS_OP_COPY == IOASD__REQUEST__OP_COPY, "IOAS_OP_COPY");
static_assert(IOAS_OP_SHARE_EXPORT == IOASD__REQUEST__OP_SHARE_EXPORT,
	      "IOAS_OP_SHARE_EXPORT");
static_assert(IOAS_OP_SHARE_REVOKE == IOASD__REQUEST__OP_SHARE_REVOKE,
	      "IOAS_OP_SHARE_REVOKE");
static_assert(IOAS_OP_BATCH == IOASD__REQUEST__OP_BATCH, "IOAS_OP_BATCH");

void libioas_reply_values(const ProtobufCMessage *body, struct libioas_values *ret)
{
	const ProtobufCMessageDescriptor *d = body ? body->descriptor : NULL;

	memset(ret, 0, sizeof(*ret));
	if (d == &ioasd__ioas_alloc_reply__descriptor) {
		ret->handle = ((const Ioasd__IoasAllocReply *)body)->ioas;
	} else if (d == &ioasd__register_memory_reply__descriptor) {
		ret->handle = ((const Ioasd__RegisterMemoryReply *)body)->memory;
	} else if (d == &ioasd__map_reply__descriptor) {
		ret->iova = ((const Ioasd__MapReply *)body)->iova;
	} else if (d == &ioasd__copy_reply__descriptor) {
		ret->iova = ((const Ioasd__CopyReply *)body)->dst_iova;
	} else if (d == &ioasd__unmap_reply__descriptor) {
		ret->unmapped = ((const Ioasd__UnmapReply *)body)->unmapped;
	} else if (d == &ioasd__share_export_reply__descriptor) {
		ret->handle = ((const Ioasd__ShareExportReply *)body)->share;
		ret->token = ((const Ioasd__ShareExportReply *)body)->token;
	} else if (d == &ioasd__share_import_reply__descriptor) {
		ret->handle = ((const Ioasd__ShareImportReply *)body)->import;
		ret->iova = ((const Ioasd__ShareImportReply *)body)->iova;
	} else if (d == &ioasd__device_info__descriptor) {
		ret->handle = ((const Ioasd__DeviceInfo *)body)->device;
	}
}

static bool rings(struct ioas_client *c)
{
	if (!c->pending)
		c->pending = calloc(IOAS_MAX_IN_FLIGHT, sizeof(*c->pending));
	if (!c->done)
		c->done = calloc(IOAS_MAX_IN_FLIGHT, sizeof(*c->done));
	return c->pending && c->done;
}

int libioas_submit(struct ioas_client *c, Ioasd__Request *req, const int *fds,
		   size_t nfds, uint32_t op, void *userdata, struct ioas_batch *batch,
		   uint64_t *ret_id)
{
	struct libioas_pending *p;
	size_t len;
	int r;

	if (!rings(c))
		return libioas_fail(c, -ENOMEM, "out of memory");
	if (c->pending_count + c->done_count >= IOAS_MAX_IN_FLIGHT)
		return libioas_fail(c, -EAGAIN,
				    "%u requests in flight or completed and not collected "
				    "(IOAS_MAX_IN_FLIGHT): collect completions first",
				    c->pending_count + c->done_count);
	r = libioas_pack(c, req, &len);
	if (r == 0)
		r = libioas_send(c, len, fds, nfds);
	if (r < 0)
		return r;
	/* Its reply cannot have come yet: remembered once it is sent, so
	 * that a failed send completes nothing. */
	p = &c->pending[(c->pending_head + c->pending_count) % IOAS_MAX_IN_FLIGHT];
	*p = (struct libioas_pending){ .id = req->id, .userdata = userdata,
				       .op = op, .batch = batch };
	c->pending_count++;
	if (ret_id)
		*ret_id = req->id;
	c->last_error[0] = '\0';
	return 0;
}

static struct ioas_completion *done_push(struct ioas_client *c,
					 const struct libioas_pending *p)
{
	struct ioas_completion *d =
		&c->done[(c->done_head + c->done_count) % IOAS_MAX_IN_FLIGHT];

	memset(d, 0, sizeof(*d));
	d->id = p->id;
	d->userdata = p->userdata;
	d->op = p->op;
	d->batch = p->batch;
	c->done_count++;
	return d;
}

static struct libioas_pending pending_pop(struct ioas_client *c)
{
	struct libioas_pending p = c->pending[c->pending_head];

	c->pending_head = (c->pending_head + 1) % IOAS_MAX_IN_FLIGHT;
	c->pending_count--;
	return p;
}

void libioas_fail_pending(struct ioas_client *c, int neg_errno)
{
	while (c->pending_count > 0) {
		struct libioas_pending p = pending_pop(c);
		struct ioas_completion *d = done_push(c, &p);

		d->error = neg_errno;
		libioas_copy_str(d->message, sizeof(d->message), c->last_error);
		if (p.batch)
			(void)libioas_batch_reply(c, p.batch, NULL);
	}
}

int libioas_complete(struct ioas_client *c, Ioasd__Response *resp)
{
	const ProtobufCFieldDescriptor *f;
	struct libioas_pending p;
	struct ioas_completion *d;
	unsigned int k;
	int r;

	for (k = 0; k < c->pending_count; k++)
		if (c->pending[(c->pending_head + k) % IOAS_MAX_IN_FLIGHT].id == resp->id)
			break;
	if (k == c->pending_count)
		return 0;
	if (k > 0 || resp->error < 0 || resp->error > IOAS_ERRNO_MAX) {
		r = libioas_broken(c, -EPROTO,
				   k ? "reply %llu overtook the reply to an older request" :
				       "reply %llu carries an invalid error",
				   (unsigned long long)resp->id);
		libioas_response_free(c, resp);
		return r;
	}
	p = pending_pop(c);
	d = done_push(c, &p);
	if (resp->error) {
		d->error = -resp->error;
		libioas_copy_str(d->message, sizeof(d->message),
				 resp->message && resp->message[0] ?
					 resp->message : strerror(resp->error));
	}
	if (p.op == IOAS_OP_BATCH) {
		/* The batch takes the reply: its results are read from it. */
		r = libioas_batch_reply(c, p.batch, resp);
		return r < 0 && c->broken ? r : 1;
	}
	/* A success of an operation whose reply has a body carries it. */
	f = protobuf_c_message_descriptor_get_field(&ioasd__response__descriptor, p.op);
	if (!resp->error && f && resp->result_case != (Ioasd__Response__ResultCase)p.op) {
		libioas_response_free(c, resp);
		return libioas_broken(c, -EPROTO, "reply to request %llu carries no result",
				      (unsigned long long)p.id);
	}
	if (!resp->error && f) {
		struct libioas_values v;

		libioas_reply_values(*(const ProtobufCMessage *const *)
					     ((const char *)resp + f->offset), &v);
		d->handle = v.handle;
		d->iova = v.iova;
		d->unmapped = v.unmapped;
	}
	libioas_response_free(c, resp);
	return 1;
}

IOAS_EXPORT int ioas_client_poll_completions(struct ioas_client *c,
					     struct ioas_completion *ret,
					     unsigned int max)
{
	unsigned int n = 0;

	if (max && !ret)
		return libioas_fail(c, -EINVAL, "no place for the completions");
	libioas_drain(c);
	for (; n < max && c->done_count > 0; n++) {
		ret[n] = c->done[c->done_head];
		c->done_head = (c->done_head + 1) % IOAS_MAX_IN_FLIGHT;
		c->done_count--;
	}
	if (n == 0 && c->broken)
		return -ENOTCONN;
	return (int)n;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

IOAS_EXPORT int ioas_client_wait_completions(struct ioas_client *c,
					     struct ioas_completion *ret,
					     unsigned int max, int timeout_ms)
{
	int64_t deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : -1;

	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int n = ioas_client_poll_completions(c, ret, max);
		int wait = -1;

		if (n != 0 || c->pending_count == 0 || max == 0)
			return n;
		if (deadline >= 0) {
			int64_t left = deadline - now_ms();

			if (left <= 0)
				return 0;
			wait = left > INT32_MAX ? INT32_MAX : (int)left;
		}
		if (poll(&p, 1, wait) < 0 && errno != EINTR)
			return libioas_broken(c, -errno, "poll: %s", strerror(errno));
	}
}

IOAS_EXPORT unsigned int ioas_client_in_flight(const struct ioas_client *c)
{
	return c->pending_count;
}
