/* SPDX-License-Identifier: MIT */
/*
 * ioasctl reclaim (in a batch): ride out a daemon restart on one session.
 * It waits until the daemon closes this session's connection (ioasd killed
 * or stopped), then connects again presenting the tenant's reclaim token
 * until the new daemon answers, and goes on with the same $variables and
 * the same vEVENTQ fds -- the client's to keep across the restart, read
 * through veventq-read as before (README "Restart without losing DMA").
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* A daemon that is not there yet, or not serving yet: try again. */
static bool not_yet(int r)
{
	return r == -ENOENT || r == -ECONNREFUSED || r == -ECONNRESET || r == -EPIPE ||
	       r == -EAGAIN;
}

/* Connect with the token until the new daemon answers, or until end. */
static int reconnect(struct ctl *ctl, const char *token, long long end, char *err,
		     size_t errlen)
{
	int r;

	for (;;) {
		r = ioas_client_connect_reclaim(ctl->socket, ctl->name, token, &ctl->client,
						err, errlen);
		if (r == 0 || !not_yet(r) || now_ms() >= end)
			return r;
		poll(NULL, 0, 100);
	}
}

int cmd_reclaim(struct ctl *ctl, int argc, char **argv)
{
	struct opt opts[] = { { "timeout", true } };
	struct pollfd p = { .events = POLLRDHUP };
	uint32_t ms = 60000;
	char err[256] = "", *token, *pos[1];
	long long end;
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, opts, 1, pos, 0, 0, &npos);
	if (r)
		return r;
	if (opts[0].set && parse_u32(ctl, opts[0].val, &ms) < 0)
		return bad_value(ctl, argv[0], "timeout", opts[0].val);
	r = ensure_client(ctl);
	if (r)
		return r;
	if (!ioas_client_reclaim_token(ctl->client))
		return usage_error(ctl, argv[0], "the daemon has no restart support "
				   "(no --state-dir): there is nothing to reclaim");
	token = strdup(ioas_client_reclaim_token(ctl->client));
	if (!token)
		return local_error(ctl, argv[0], -ENOMEM, "copying the reclaim token");
	end = now_ms() + ms;
	/* The daemon goes: its end of the connection closes. */
	p.fd = ioas_client_fd(ctl->client);
	for (;;) {
		long long left = end - now_ms();

		if (left <= 0) {
			free(token);
			return local_error(ctl, argv[0], -ETIMEDOUT,
					   "the daemon did not go in %u ms", ms);
		}
		r = poll(&p, 1, (int)(left > 1000 ? 1000 : left));
		if (r < 0 && errno != EINTR) {
			r = -errno;
			free(token);
			return local_error(ctl, argv[0], r, "poll");
		}
		if (r > 0 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR)))
			break;
	}
	ctl->client = ioas_client_free(ctl->client);
	/* The new daemon: the same tenant, with its token. */
	r = reconnect(ctl, token, end, err, sizeof(err));
	free(token);
	if (r < 0)
		return local_error(ctl, argv[0], r, "reclaiming the tenant: %s",
				   err[0] ? err : strerror(-r));
	if (ctl->timeout_ms)
		(void)ioas_client_set_timeout(ctl->client, ctl->timeout_ms);
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", argv[0]);
		jbool(ctl, "reclaimed", ioas_client_reclaimed(ctl->client));
		ju64(ctl, "veventqs_kept", ctl->n_veventqs);
		jclose();
	} else {
		printf("reclaimed: %s; %zu vEVENTQ fd(s) kept\n",
		       ioas_client_reclaimed(ctl->client) ? "objects restored after a "
		       "daemon restart" : "nothing was restored", ctl->n_veventqs);
	}
	return 0;
}
