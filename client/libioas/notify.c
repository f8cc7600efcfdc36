/* SPDX-License-Identifier: MIT */
/* libioas: the queue of notifications (Response id 0 without an error). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "internal.h"

/* Keep a notification (Response id 0 without an error). Unknown kinds are
 * ignored: a newer daemon may define more. */
void libioas_queue_notification(struct ioas_client *c, const Ioasd__Response *resp)
{
	struct ioas_notification *n;

	if (resp->result_case != IOASD__RESPONSE__RESULT_SHARE_REVOKED)
		return;
	if (!c->notes)
		c->notes = calloc(IOAS_NOTIFY_QUEUE, sizeof(*c->notes));
	if (!c->notes || c->note_count == IOAS_NOTIFY_QUEUE) {
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

IOAS_EXPORT int ioas_next_notification(struct ioas_client *c,
				       struct ioas_notification *ret)
{
	libioas_drain(c);
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
