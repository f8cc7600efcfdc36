/* SPDX-License-Identifier: MIT */
/*
 * Rebuilding the tenants from a restart state at start (state.c reads the
 * file and takes the fds back from the store): every tenant's IOASes,
 * memory, shares, imports, mappings and devices under the same handles,
 * without touching the kernel's mappings (or replayed into a fresh sim),
 * reconciled with the backend, then the IOASes no table names swept. See
 * "Restart without losing DMA" in README.md.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "persist/fdstore.h"
#include "state.pb-c.h"
#include "tenant/tenant.h"
#include "common/util.h"

struct audit;
struct backend;
struct policy;
struct pool;

/* What a restore works with: the daemon's, passed in (no server, no
 * globals), so that the fuzzer can drive it alone. */
struct restore {
	struct tenants *tenants;     /* where the rebuilt tenants go */
	struct backend *backend;     /* the adopted context, or a fresh sim */
	struct pool *pool;           /* may be NULL */
	const struct policy *policy; /* NULL: --no-policy */
	struct tenant_limits limits; /* of a tenant without a policy section */
	struct audit *audit;         /* may be NULL */
	struct fdstore_entry *fds;   /* what the store gave back; a used fd's slot becomes -1 */
	size_t nfds;
	struct fdstore *store;       /* an fd that cannot be used is removed from it; may be NULL */
	unsigned grace_sec;          /* said in the audit */
	/* Called with each tenant as it is made, before anything of it is
	 * restored (index: its place in the state); may be NULL. */
	void (*made)(void *userdata, size_t index, struct tenant *t);
	void *made_data;
};

/*
 * Where the mappings come from: inline in the state (a state file), or
 * read one by one from the database. walk calls fn for each, in any order
 * (tenant: its index in the state), and returns 0, or -EBADMSG with e
 * saying which record is wrong and what. fn returns 0 (restored), 1 (not
 * restored: the source forgets it), or -EBADMSG (the record contradicts
 * the others: the walk stops and returns it).
 */
typedef int (*restore_mapping_fn)(void *fnud, size_t tenant,
				  const struct tenant_mapping_info *mi, struct err *e);
struct restore_mappings {
	int (*walk)(void *userdata, restore_mapping_fn fn, void *fnud, struct err *e);
	void *userdata;
};

/* The name a stored fd of kind ("mem", "ctx", "dev") and id has. */
void restore_fd_name(const char *kind, uint64_t id, char *buf, size_t size);

/* One AUDIT_RESTART record (a may be NULL). */
void restore_audit(struct audit *a, const char *op, const char *tenant,
		   bool allowed, int errnum, const char *why);

/*
 * Rebuild every tenant of m (checked with state_check()); replay: the
 * backend is a fresh sim, where everything is made again. Records whose
 * fds or kernel objects did not come back are dropped (logged), and with
 * them what cannot stand alone (an import that lost a piece, a share whose
 * source is no longer wholly mapped). Then every rebuilt tenant must pass
 * tenant_check(). Returns the number of tenants restored (one "restore"
 * record each), or -EBADMSG when a rebuilt tenant did not pass: then every
 * rebuilt tenant was released again (unmapped, its fds closed and removed
 * from the store), the refusal audited for each, and e says which and why.
 */
int restore_tenants(struct restore *r, const IoasdState__State *m, bool replay,
		    struct err *e);
/* The same with the mappings from src (m has none of its own); a walk
 * that fails refuses the state as a tenant that does not pass does. */
int restore_tenants_from(struct restore *r, const IoasdState__State *m,
			 const struct restore_mappings *src, bool replay,
			 struct err *e);

/* After restore_tenants() on adopted kernel contexts: empty and destroy the
 * IOASes no live table names, in the shared context and each device
 * tenant's own. */
void restore_sweep(struct restore *r);

/*
 * The state (m, or NULL when it did not decode) does not hold together
 * (what: state_check()'s reason) and is not restored: audit a "restore"
 * refusal for each tenant it names, and empty the device tenants' own
 * contexts it left in the store (kernel). The caller then closes and
 * removes every stored fd; the kernel frees what they held.
 */
void restore_refuse(struct restore *r, const IoasdState__State *m, const char *what);

/* The store was dropped while the daemon was stopped: audit the release
 * of each tenant m names. */
void restore_store_released(struct restore *r, const IoasdState__State *m);
