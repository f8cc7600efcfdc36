/* SPDX-License-Identifier: MIT */
/* The restart state's database (see db.h). */
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "persist/db.h"

struct db {
	MDB_env *env;
	MDB_dbi dbi[DB_NTABLES];
	MDB_txn *txn;      /* the open write transaction, or NULL */
	bool dirty;        /* it holds changes */
	int failed;        /* the first error in it (-errno), or 0 */
	int lock_fd;       /* holds the flock */
};

static const char *const table_name[DB_NTABLES] = {
	[DB_META] = "meta", [DB_TENANTS] = "tenants", [DB_OBJECTS] = "objects",
	[DB_MAPPINGS] = "mappings",
};

/* LMDB's own codes as errnos. */
static int db_errno(int rc)
{
	switch (rc) {
	case 0:
		return 0;
	case MDB_NOTFOUND:
		return -ENOENT;
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
	case MDB_DBS_FULL:
		return -ENOSPC;
	case MDB_INVALID:
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_VERSION_MISMATCH:
	case MDB_BAD_VALSIZE:
	case MDB_INCOMPATIBLE:
		return -EBADMSG;
	default:
		return rc > 0 ? -rc : -EIO;
	}
}

static int begin(struct db *db)
{
	int rc;

	if (db->txn)
		return db->failed;
	rc = mdb_txn_begin(db->env, NULL, 0, &db->txn);
	if (rc) {
		db->txn = NULL;
		return db_errno(rc);
	}
	db->dirty = false;
	db->failed = 0;
	return 0;
}

int db_open(int dir_fd, const char *dir, const struct db_config *cfg,
	    struct db **ret, struct err *e)
{
	struct db *db = calloc(1, sizeof(*db));
	char path[4096];
	int rc, fd = -1, flags = MDB_NOSUBDIR | MDB_NOLOCK | MDB_NOTLS | MDB_NORDAHEAD;

	if (!db)
		return err_set(e, ENOMEM, "out of memory");
	if (!cfg->sync)
		flags |= MDB_NOSYNC | MDB_WRITEMAP;
	snprintf(path, sizeof(path), "%s/%s", dir, DB_FILE);
	/* Created 0600 here, so that LMDB never makes it wider. */
	fd = openat(dir_fd, DB_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		rc = -errno;
		free(db);
		return err_errno(e, rc, "cannot open %s", path);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		rc = -errno;
		close(fd);
		free(db);
		if (rc == -EWOULDBLOCK)
			return err_set(e, EBUSY, "%s is in use by another process "
				       "(another ioasd on the same --state-dir?)", path);
		return err_errno(e, rc, "cannot lock %s", path);
	}
	rc = mdb_env_create(&db->env);
	if (rc == 0)
		rc = mdb_env_set_maxdbs(db->env, DB_NTABLES);
	if (rc == 0)
		rc = mdb_env_set_mapsize(db->env, (size_t)cfg->map_size);
	if (rc == 0)
		rc = mdb_env_open(db->env, path, (unsigned)flags, 0600);
	/* The lock stays with our descriptor (LMDB opens its own). */
	db->lock_fd = fd;
	if (rc) {
		int r = db_errno(rc);

		if (db->env)
			mdb_env_close(db->env);
		close(fd);
		free(db);
		return err_set(e, -r, "%s is not a state database this daemon can use: %s",
			       path, mdb_strerror(rc));
	}
	rc = mdb_txn_begin(db->env, NULL, 0, &db->txn);
	for (int i = 0; rc == 0 && i < DB_NTABLES; i++)
		rc = mdb_dbi_open(db->txn, table_name[i], MDB_CREATE, &db->dbi[i]);
	if (rc == 0)
		rc = mdb_txn_commit(db->txn);
	else
		mdb_txn_abort(db->txn);
	db->txn = NULL;
	if (rc) {
		mdb_env_close(db->env);
		close(fd);
		free(db);
		return err_set(e, -db_errno(rc), "%s: cannot open its tables: %s", path,
			       mdb_strerror(rc));
	}
	*ret = db;
	return 0;
}

struct db *db_free(struct db *db)
{
	if (!db)
		return NULL;
	if (db->txn)
		mdb_txn_abort(db->txn);
	mdb_env_close(db->env);
	close(db->lock_fd);
	free(db);
	return NULL;
}

void db_unlink(int dir_fd)
{
	(void)unlinkat(dir_fd, DB_FILE, 0);
}

static int fail(struct db *db, int rc)
{
	int r = db_errno(rc);

	if (!db->failed)
		db->failed = r;
	return r;
}

int db_put(struct db *db, enum db_table t, const void *key, size_t klen,
	   const void *val, size_t vlen)
{
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	int r = begin(db), rc;

	if (r < 0)
		return r;
	rc = mdb_put(db->txn, db->dbi[t], &k, &v, 0);
	if (rc)
		return fail(db, rc);
	db->dirty = true;
	return 0;
}

int db_del(struct db *db, enum db_table t, const void *key, size_t klen)
{
	MDB_val k = { klen, (void *)key };
	int r = begin(db), rc;

	if (r < 0)
		return r;
	rc = mdb_del(db->txn, db->dbi[t], &k, NULL);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return fail(db, rc);
	db->dirty = true;
	return 0;
}

bool db_pending(const struct db *db)
{
	return db->txn && (db->dirty || db->failed);
}

int db_commit(struct db *db, struct err *e)
{
	int rc, r;

	if (!db->txn)
		return 0;
	if (db->failed || !db->dirty) {
		r = db->failed;
		mdb_txn_abort(db->txn);
		db->txn = NULL;
		db->failed = 0;
		if (r < 0)
			return err_errno(e, r, "a change could not be written");
		return 0;
	}
	rc = mdb_txn_commit(db->txn);
	db->txn = NULL;
	db->dirty = false;
	if (rc)
		return err_set(e, -db_errno(rc), "commit: %s", mdb_strerror(rc));
	return 0;
}

int db_clear(struct db *db)
{
	int r = begin(db), rc;

	if (r < 0)
		return r;
	for (int i = 0; i < DB_NTABLES; i++) {
		rc = mdb_drop(db->txn, db->dbi[i], 0);
		if (rc)
			return fail(db, rc);
	}
	db->dirty = true;
	return 0;
}

int db_get(struct db *db, enum db_table t, const void *key, size_t klen,
	   const void **ret_val, size_t *ret_vlen)
{
	MDB_val k = { klen, (void *)key }, v;
	int r = begin(db), rc;

	if (r < 0)
		return r;
	rc = mdb_get(db->txn, db->dbi[t], &k, &v);
	if (rc)
		return db_errno(rc);
	*ret_val = v.mv_data;
	*ret_vlen = v.mv_size;
	return 0;
}

int db_walk(struct db *db, enum db_table t, const void *from, size_t flen,
	    db_walk_fn fn, void *userdata)
{
	MDB_cursor *c;
	MDB_val k = { flen, (void *)from }, v;
	int r = begin(db), rc;

	if (r < 0)
		return r;
	rc = mdb_cursor_open(db->txn, db->dbi[t], &c);
	if (rc)
		return db_errno(rc);
	rc = from ? mdb_cursor_get(c, &k, &v, MDB_SET_RANGE) :
		    mdb_cursor_get(c, &k, &v, MDB_FIRST);
	r = 0;
	while (rc == 0) {
		r = fn(userdata, k.mv_data, k.mv_size, v.mv_data, v.mv_size);
		if (r != 0)
			break;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (r < 0)
		return r;
	if (rc && rc != MDB_NOTFOUND)
		return db_errno(rc);
	return 0;
}

long db_del_prefix(struct db *db, enum db_table t, const void *prefix,
		   size_t plen, db_keep_fn keep, void *userdata, size_t max,
		   bool *ret_more)
{
	MDB_cursor *c;
	MDB_val k = { plen, (void *)prefix }, v;
	long n = 0;
	int r = begin(db), rc;

	*ret_more = false;
	if (r < 0)
		return r;
	rc = mdb_cursor_open(db->txn, db->dbi[t], &c);
	if (rc)
		return fail(db, rc);
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && k.mv_size >= plen && !memcmp(k.mv_data, prefix, plen)) {
		if ((size_t)n == max) {
			*ret_more = true;
			break;
		}
		if (keep && keep(userdata, k.mv_data, k.mv_size)) {
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
			continue;
		}
		rc = mdb_cursor_del(c, 0);
		if (rc)
			break;
		db->dirty = true;
		n++;
		/* After a delete, NEXT gives what took its place. */
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (rc && rc != MDB_NOTFOUND)
		return fail(db, rc);
	return n;
}

int db_grow(struct db *db)
{
	MDB_envinfo info;
	int rc;

	if (db->txn)
		return -EBUSY;
	rc = mdb_env_info(db->env, &info);
	if (rc == 0)
		rc = mdb_env_set_mapsize(db->env, info.me_mapsize * 2);
	return db_errno(rc);
}
