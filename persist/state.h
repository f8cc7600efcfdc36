/* SPDX-License-Identifier: MIT */
/*
 * Restart without losing DMA. With --state-dir, the daemon keeps its
 * iommufd context and every registered memory fd in an fd store (fdstore.h)
 * and each object of its tables as a record of a database in the state
 * directory (db.h, records.h): every change is written as it is made, into
 * one transaction committed once per event-loop wakeup (state_commit), and
 * no reply reporting a change leaves before that commit (the connections
 * wait for state_set_durable_hook's call). A request writes only its own
 * records, so what restart support costs per request does not grow with
 * what the daemon holds. A daemon started again takes the fds and the
 * records back (load.h), rebuilds every tenant (same handles) without
 * touching the kernel's mappings, and lets each tenant's clients reclaim it
 * by presenting the reclaim token they got at Hello. What nobody reclaims
 * within the grace period is released. A state file of a daemon before the
 * database (<state-dir>/state) is converted once. See "Restart without
 * losing DMA" in README.md.
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
	enum state_sync {
		STATE_SYNC_AUTO,   /* no on tmpfs and ramfs, yes elsewhere */
		STATE_SYNC_YES,    /* fsync each commit */
		STATE_SYNC_NO,     /* survive the daemon's death, not the machine's */
	} sync;
	uint64_t map_size;     /* the database's largest size (0: the default) */
};

#define STATE_FILE "state"  /* what daemons before the database wrote */
#define STATE_DEFAULT_MAP_SIZE (4ull << 30) /* grows on demand */
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
/* Commit what changed since the last commit (a no-op on NULL, on a state
 * not attached, or when nothing changed), then call the durable hook.
 * Failures are logged (loudly, once) and the database is written whole
 * at the next commit. */
void state_commit(struct state *st);
/* Whether changes wait for state_commit(). */
bool state_pending(const struct state *st);
/* Called after each state_commit(): what the replies waited for is done. */
typedef void (*state_durable_fn)(void *userdata);
void state_set_durable_hook(struct state *st, state_durable_fn fn, void *userdata);
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
/* A clean stop: everything was released; empty the store, remove the database. */
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

/* The database in dir (no daemon may be using it: -EBUSY) as one State
 * message, as a state file held it (free it with
 * ioasd_state__state__free_unpacked()); -ENOENT when it holds nothing. */
struct IoasdState__State;
int state_export(const char *dir, struct IoasdState__State **ret, struct err *e);
