/* SPDX-License-Identifier: MIT */
/*
 * Restart without losing DMA. With --state-dir, the daemon keeps its
 * iommufd context and every registered memory fd in an fd store (fdstore.h)
 * and writes <state-dir>/state (proto/state.proto) atomically whenever its
 * tables changed, before the reply that reports the change is queued. A
 * daemon started again takes the fds and the file back, rebuilds every
 * tenant (same handles) without touching the kernel's mappings, and lets
 * each tenant's clients reclaim it by presenting the reclaim token they got
 * at Hello. What nobody reclaims within the grace period is released.
 * See "Restart without losing DMA" in README.md.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/util.h"
#include "tenant/tenant.h"

struct audit;
struct backend;
struct event_base;
struct policy;
struct pool;
struct rpc_session;
struct state;

/* What the state needs of the daemon once it is running (state_attach). */
struct state_env {
	struct tenants *tenants;           /* every live tenant */
	struct event_base *base;           /* for the grace timer (NULL: none) */
	struct backend *backend;
	struct pool *pool;                 /* may be NULL */
	struct audit *audit;               /* may be NULL */
	struct policy *const *policy;      /* the policy in force (swapped at reload); *policy NULL: --no-policy */
	struct tenant_limits limits;       /* --no-policy limits; max_region_size for all */
	uint64_t *next_serial;             /* connection serials: restored ones are not reused */
};

struct state_config {
	const char *dir;       /* created 0700 if missing; must be 0700 */
	unsigned grace_sec;    /* unclaimed restored tenants live this long */
	uid_t dir_owner;       /* chown the dir to this (--user), or (uid_t)-1 */
};

#define STATE_FILE "state"
#define STATE_IOMMUFD_NAME "ioasd-iommufd"

/* Before the backend opens: the directory, the fd store, what it holds,
 * and the state file (if any). */
int state_open(const struct state_config *cfg, struct state **ret,
	       struct err *e);
/* The stored iommufd context, or -1 when none was stored; the caller owns
 * it (the kernel backend adopts it). */
int state_take_iommufd(struct state *st);
/* Once the daemon serves: rebuild the tenants, keep the backend's context
 * in the store, start the grace period, write the file. From here on
 * state_commit() and state_hello() on st do their work. */
int state_attach(struct state *st, const struct state_env *env, struct err *e);
/* Write the state file if the tables changed since the last write. A no-op
 * on NULL or a state not attached. Failures are logged (loudly, once). */
void state_commit(struct state *st);
/*
 * Hello on protocol session c, with the token the client presented (or NULL).
 * Claims a restored tenant when the token is its one (swapping c onto it
 * with --no-policy), refuses a wrong or missing token (e says why).
 * *ret_token is the tenant's token to hand back (NULL when restart support
 * is off), *ret_reclaimed whether this Hello claimed restored objects.
 */
int state_hello(struct state *st, struct rpc_session *c, const char *token,
		const char **ret_token,
		bool *ret_reclaimed, struct err *e);
struct tenant;
/* Restored, not reclaimed, inside the grace period: the tenant stays even
 * without connections. */
bool state_holds(const struct state *st, const struct tenant *t);
/* A clean stop: everything was released; empty the store, remove the file. */
void state_stop_clean(struct state *st);
/*
 * A stop for a restart (SIGUSR2; the unit's KillSignal=): nothing is
 * released. The state file is written one last time and the stop audited;
 * the caller then exits at once, leaving every tenant to the fd store and
 * the next daemon. Under systemd, `systemctl stop` then drops the store
 * (the kernel releases everything as the last copies close) and the next
 * start finds the state without its fds; `systemctl restart` keeps it.
 */
void state_stop_keep(struct state *st);
struct state *state_free(struct state *st); /* NULL-safe */
