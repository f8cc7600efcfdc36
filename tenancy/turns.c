/* SPDX-License-Identifier: MIT */
/*
 * What the server runs between requests, each from an event of its own:
 * the wakeup's one commit (group commit), the reaping of released tenants,
 * and the slices of requests that run in slices. See tenancy/server.h.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdbool.h>

#include "net/conn.h"
#include "persist/state.h"
#include "rpc/rpc.h"
#include "tenancy/server.h"
#include "tenant/tenant.h"

/*
 * Group commit. A connection whose replies report changes not yet durable
 * waits (conn_owner.hold); the first to wait in a wakeup arms one commit
 * event, which runs after the callbacks already active in that wakeup: one
 * commit for everyone served in it, then every waiting connection sends.
 */
bool server_turns_hold(void *userdata, struct conn *c)
{
	struct server *s = userdata;

	if (!state_pending(s->state))
		return false;
	TAILQ_INSERT_TAIL(&s->held, c, hold_link);
	if (!s->commit_armed) {
		s->commit_armed = true;
		event_active(s->ev_commit, 0, 0);
	}
	return true;
}

static void server_on_commit(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;

	s->commit_armed = false;
	state_commit(s->state); /* calls server_durable */
}

/* Released tenants' mappings, unmapped and forgotten a slice at a time;
 * a zero timeout (not event_active()) lets requests in between slices. */
void server_turns_reap(struct server *s)
{
	static const struct timeval now = { 0, 0 };

	if (s->ev_reap && tenants_reaping(s->tenants) && !evtimer_pending(s->ev_reap, NULL))
		evtimer_add(s->ev_reap, &now);
}

static void server_on_reap(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;

	(void)tenants_reap(s->tenants, SERVER_REAP_SLICE);
	server_turns_reap(s);
}

/* Requests that run in slices (a whole IOAS unmapped): one slice of each
 * per event-loop turn, between other requests; when one ends, every
 * connection of its tenant is served again. */
static void server_step_arm(struct server *s)
{
	static const struct timeval now = { 0, 0 };

	if (s->ev_step && !evtimer_pending(s->ev_step, NULL))
		evtimer_add(s->ev_step, &now);
}

void server_turns_deferred(void *userdata, struct conn *c)
{
	(void)c;
	server_step_arm(userdata);
}

static void server_on_step(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;
	struct conn *c, *d, *next;
	bool more = false;

	TAILQ_FOREACH(c, &s->conns, link) {
		struct tenant *t = c->rs.tenant;

		if (!c->rs.pending.active)
			continue;
		if (rpc_session_step(&c->rs)) {
			more = true;
			continue;
		}
		/* Its tenant's connections read again, this one first (its
		 * reply, then what it read behind the request). */
		conn_resume(c);
		for (d = TAILQ_FIRST(&s->conns); d; d = next) {
			next = TAILQ_NEXT(d, link);
			if (d->rs.tenant == t && !rpc_session_busy(&d->rs))
				conn_resume(d);
		}
		more = true; /* the list may have changed: look again next turn */
		break;
	}
	if (more)
		server_step_arm(s);
}

/* Whatever committed (a wakeup's requests, a sweep, a timer): what waited
 * for it may leave. */
static void server_durable(void *userdata)
{
	struct server *s = userdata;
	struct conn *c;

	while ((c = TAILQ_FIRST(&s->held))) {
		TAILQ_REMOVE(&s->held, c, hold_link);
		conn_release(c);
	}
	server_turns_reap(s); /* a grace period's end released some */
}

void server_attach_state(struct server *s, struct state *st)
{
	s->state = st;
	state_set_durable_hook(st, server_durable, s);
}

int server_turns_start(struct server *s)
{
	s->ev_commit = event_new(s->base, -1, 0, server_on_commit, s);
	s->ev_reap = evtimer_new(s->base, server_on_reap, s);
	s->ev_step = evtimer_new(s->base, server_on_step, s);
	return s->ev_commit && s->ev_reap && s->ev_step ? 0 : -ENOMEM;
}

void server_turns_stop(struct server *s)
{
	if (s->ev_commit)
		event_free(s->ev_commit);
	if (s->ev_reap)
		event_free(s->ev_reap);
	if (s->ev_step)
		event_free(s->ev_step);
	s->ev_commit = s->ev_reap = s->ev_step = NULL;
}
