/* SPDX-License-Identifier: MIT */
/*
 * Rate limiting by subject, journald-style: at most `burst` events per
 * subject in each window of `interval`; the rest are suppressed and
 * counted, and when a window closes with suppressed events the owner is
 * told how many (one summary instead of the flood). The audit trail uses
 * it for refusals, a subject being a tenant (by name) or a uid.
 *
 * The table of subjects is bounded (max_keys). Windows that have closed
 * are reported and forgotten by ratelimit_sweep() and whenever room is
 * needed; when every subject's window is still open, the one that began
 * first is evicted (its count reported first) and the eviction counted:
 * that subject starts a fresh window, with a fresh burst, next time.
 *
 * Time is the caller's (monotonic microseconds), so tests can drive it.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define RATELIMIT_NAME_MAX 64

struct ratelimit_key {
	bool by_uid;
	uid_t uid;                              /* when by_uid */
	char name[RATELIMIT_NAME_MAX + 1];      /* otherwise: a tenant name */
};

/* A window that closed (or was flushed, or evicted) with events suppressed. */
struct ratelimit_summary {
	struct ratelimit_key key;
	uint64_t suppressed;
	uint64_t window_usec;  /* from the window's first event to its end */
};

typedef void (*ratelimit_report_fn)(void *userdata, const struct ratelimit_summary *s);

struct ratelimit_config {
	uint64_t interval_usec; /* > 0 */
	uint32_t burst;         /* > 0 */
	uint32_t max_keys;      /* > 0 */
	ratelimit_report_fn report;
	void *userdata;
};

struct ratelimit_stats {
	uint64_t passed;
	uint64_t suppressed;
	uint64_t evicted;       /* subjects dropped from a full table mid-window */
	uint32_t keys;          /* subjects in the table now */
};

struct ratelimit;

int ratelimit_new(const struct ratelimit_config *cfg, struct ratelimit **ret);
/* Reports nothing (sweep with all = true first). NULL-safe, returns NULL. */
struct ratelimit *ratelimit_free(struct ratelimit *rl);

/* One event of key at now: true to let it through, false to suppress it.
 * Summaries due (the key's own closed window, an evicted subject's) are
 * reported before it returns. */
bool ratelimit_test(struct ratelimit *rl, const struct ratelimit_key *key,
		    uint64_t now_usec);

/* Report and forget every window that has closed by now; with all, every
 * window (at shutdown). */
void ratelimit_sweep(struct ratelimit *rl, uint64_t now_usec, bool all);

void ratelimit_get_stats(const struct ratelimit *rl, struct ratelimit_stats *ret);
