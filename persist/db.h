/* SPDX-License-Identifier: MIT */
/*
 * The restart state's database: an LMDB environment in one file of the
 * state directory (<state-dir>/state.lmdb, 0600), with a table per kind of
 * record. Single process, single thread: LMDB's lock file is not used
 * (MDB_NOLOCK); an flock on the file keeps a second daemon out.
 *
 * Writes go into one write transaction, begun by the first change and
 * committed by db_commit(): the daemon commits once per event-loop wakeup
 * for every request handled in it (group commit), before any of their
 * replies leaves. A transaction that failed (disk full, I/O error) is
 * aborted whole at the commit; the caller then rewrites everything.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

enum db_table {
	DB_META,     /* name -> value: version, backend, counters */
	DB_TENANTS,  /* tenant id -> header */
	DB_OBJECTS,  /* tenant id, kind, handle -> object */
	DB_MAPPINGS, /* tenant id, IOAS, generation, IOVA -> mapping */
	DB_NTABLES,
};

#define DB_FILE "state.lmdb"

struct db;

struct db_config {
	/* fsync at each commit. Without it the database is written through
	 * its shared mapping (MDB_WRITEMAP | MDB_NOSYNC): a commit is then a
	 * few stores to memory the page cache already holds, which outlives
	 * the process but not the machine. */
	bool sync;
	uint64_t map_size;  /* the most the file may grow to (grows on demand) */
};

/* Open (or create) <dir>/state.lmdb. -EBUSY when another process holds it;
 * an unusable file is -EBADMSG with e saying what LMDB said. */
int db_open(int dir_fd, const char *dir, const struct db_config *cfg,
	    struct db **ret, struct err *e);
struct db *db_free(struct db *db); /* aborts what is not committed */
/* Remove the file of a closed database (a clean stop). */
void db_unlink(int dir_fd);

/* Changes, into the open write transaction (begun on demand). A failure
 * poisons the transaction: db_commit() then fails. */
int db_put(struct db *db, enum db_table t, const void *key, size_t klen,
	   const void *val, size_t vlen);
int db_del(struct db *db, enum db_table t, const void *key, size_t klen); /* absent: 0 */
/* Whether changes wait for db_commit(). */
bool db_pending(const struct db *db);
int db_commit(struct db *db, struct err *e);
/* Empty every table (in the open transaction). */
int db_clear(struct db *db);
/* Double the largest size (no transaction may be open): after a commit
 * failed with -ENOSPC. 0 or -errno. */
int db_grow(struct db *db);

/* Read one record (in the write transaction if one is open). 0, -ENOENT. */
int db_get(struct db *db, enum db_table t, const void *key, size_t klen,
	   const void **ret_val, size_t *ret_vlen);
/* Walk table t in key order from the first key >= from (NULL: the start),
 * in the write transaction (begun if needed): fn returns 0 to go on, 1 to
 * stop, <0 to stop with that error. The records must not be changed
 * during the walk (queue deletions, apply them after). */
typedef int (*db_walk_fn)(void *userdata, const void *key, size_t klen,
			  const void *val, size_t vlen);
int db_walk(struct db *db, enum db_table t, const void *from, size_t flen,
	    db_walk_fn fn, void *userdata);
/* Delete up to max records of t whose key starts with prefix and for which
 * keep (NULL: none kept) says no; *ret_more: some may be left. Returns the
 * number deleted or -errno. */
typedef bool (*db_keep_fn)(void *userdata, const void *key, size_t klen);
long db_del_prefix(struct db *db, enum db_table t, const void *prefix,
		   size_t plen, db_keep_fn keep, void *userdata, size_t max,
		   bool *ret_more);
