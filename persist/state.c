/* SPDX-License-Identifier: MIT */
/* Restart support: the fd store and the database (see state.h). */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "audit/audit.h"
#include "common/log.h"
#include "iommu/backend-kernel.h"
#include "persist/restore.h"
#include "persist/state-check.h"
#include "persist/state-internal.h"
#include "tenant/pool.h"
#include "tenant/tenant.h"

/* Records the sweeper deletes per slice: a few milliseconds at most. */
#define SWEEP_SLICE 4096u

/* ------------------------------------------------------------ open */

static int check_dir(const struct state_config *cfg, int *ret_fd, struct err *e)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (mkdir(cfg->dir, 0700) < 0 && errno != EEXIST)
		return err_errno(e, -errno, "cannot create the state directory %s", cfg->dir);
	fd = open(cfg->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return err_errno(e, -errno, "cannot open the state directory %s", cfg->dir);
	if (cfg->dir_owner != (uid_t)-1 && fchown(fd, cfg->dir_owner, (gid_t)-1) < 0)
		return err_errno(e, -errno, "cannot chown the state directory %s", cfg->dir);
	if (fstat(fd, &st) < 0)
		return err_errno(e, -errno, "fstat %s", cfg->dir);
	if (st.st_uid != geteuid() &&
	    !(cfg->dir_owner != (uid_t)-1 && st.st_uid == cfg->dir_owner))
		return err_set(e, EPERM, "the state directory %s belongs to uid %u, not to the daemon",
			       cfg->dir, (unsigned)st.st_uid);
	if (st.st_mode & 077)
		return err_set(e, EPERM,
			       "the state directory %s has mode %04o: it holds tokens and "
			       "the fd holder's socket, so it must be 0700",
			       cfg->dir, (unsigned)(st.st_mode & 07777));
	*ret_fd = TAKE_FD(fd);
	return 0;
}

static int read_file(int dir_fd, const char *name, uint8_t **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	uint8_t *buf;
	size_t off = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > STATE_MAX_BYTES)
		return -EFBIG;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + off, (size_t)st.st_size - off);

		if (n <= 0) {
			free(buf);
			return n < 0 ? -errno : -EIO;
		}
		off += (size_t)n;
	}
	*ret = buf;
	*ret_len = off;
	return 0;
}

/* A state file of a daemon before the database: read once, converted at
 * attach, then removed. */
static void read_legacy(struct state *st, const char *dir)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int r = read_file(st->dir_fd, STATE_FILE, &buf, &len);

	if (r == 0) {
		IoasdState__State *m = NULL;
		struct err ce = { 0 };

		r = state_check_decode(buf, len, &m, &ce);
		free(buf);
		if (r == 0 && state_check(m, &ce) < 0)
			st->refused = TAKE_PTR(m);
		st->legacy = m;
		if (!st->legacy)
			snprintf(st->refused_why, sizeof(st->refused_why), "%s/%s: %s",
				 dir, STATE_FILE, ce.msg);
	} else if (r != -ENOENT) {
		snprintf(st->refused_why, sizeof(st->refused_why), "%s/%s cannot be read: %s",
			 dir, STATE_FILE, strerror(-r));
	}
}

/* A database LMDB will not open is moved aside (for whoever looks into
 * it) and a new one made: the daemon serves either way. */
/* --state-sync=auto: an fsync on a file system in memory adds nothing. */
static bool want_sync(const struct state_config *cfg, int dir_fd)
{
	struct statfs sf;

	if (cfg->sync != STATE_SYNC_AUTO)
		return cfg->sync == STATE_SYNC_YES;
	if (fstatfs(dir_fd, &sf) < 0)
		return true;
	return sf.f_type != TMPFS_MAGIC && sf.f_type != RAMFS_MAGIC;
}

static int open_db(struct state *st, const struct state_config *cfg, struct err *e)
{
	struct db_config dc = { .sync = want_sync(cfg, st->dir_fd), .map_size = cfg->map_size };
	struct err de = { 0 };
	char aside[64];
	int r;

	if (!dc.map_size)
		dc.map_size = STATE_DEFAULT_MAP_SIZE;
	r = db_open(st->dir_fd, cfg->dir, &dc, &st->db, &de);
	if (r == 0 || r != -EBADMSG)
		return r < 0 ? err_set(e, -r, "%s", de.msg) : 0;
	snprintf(aside, sizeof(aside), DB_FILE ".refused-%lld", (long long)time(NULL));
	snprintf(st->refused_why, sizeof(st->refused_why), "%s (kept as %s/%s)", de.msg,
		 cfg->dir, aside);
	if (renameat(st->dir_fd, DB_FILE, st->dir_fd, aside) < 0)
		return err_errno(e, -errno, "%s; and it cannot be moved aside", de.msg);
	r = db_open(st->dir_fd, cfg->dir, &dc, &st->db, &de);
	return r < 0 ? err_set(e, -r, "%s", de.msg) : 0;
}

int state_open(const struct state_config *cfg, struct state **ret, struct err *e)
{
	struct state *st = calloc(1, sizeof(*st));
	struct err le = { 0 };
	int r;

	if (!st)
		return err_set(e, ENOMEM, "out of memory");
	st->dir_fd = -1;
	st->iommufd = -1;
	st->grace_sec = cfg->grace_sec;
	st->next_store_id = 1;
	st->rec.next_tenant = 1;
	st->dir = strdup(cfg->dir);
	if (!st->dir) {
		state_free(st);
		return err_set(e, ENOMEM, "out of memory");
	}
	r = check_dir(cfg, &st->dir_fd, e);
	if (r < 0)
		goto fail;
	r = open_db(st, cfg, e);
	if (r < 0)
		goto fail;
	st->rec.db = st->db;
	st->load.rec = &st->rec;
	r = fdstore_open(cfg->dir, &st->store, e);
	if (r < 0)
		goto fail;
	r = fdstore_take(st->store, &st->fds, &st->nfds, e);
	if (r < 0)
		goto fail;
	for (size_t i = 0; i < st->nfds; i++)
		if (!strcmp(st->fds[i].name, STATE_IOMMUFD_NAME) && st->iommufd < 0)
			st->iommufd = TAKE_FD(st->fds[i].fd);
	if (!st->refused_why[0]) {
		r = load_skeleton(&st->load, &le);
		if (r == -ENOENT) {
			read_legacy(st, cfg->dir);
		} else if (r < 0) {
			snprintf(st->refused_why, sizeof(st->refused_why), "%s/%s: %s",
				 cfg->dir, DB_FILE, le.msg);
			st->refused = TAKE_PTR(st->load.m);
		} else {
			/* A conversion that committed but did not remove the file. */
			(void)unlinkat(st->dir_fd, STATE_FILE, 0);
		}
	}
	/* Only a context that a state which holds together describes is
	 * adopted; any other goes, and the kernel frees what it held. */
	if (!st->load.m && !st->legacy)
		st->iommufd = safe_close(st->iommufd);
	log_info("restart support: state in %s/%s (%s), fds kept by %s%s", cfg->dir, DB_FILE,
		 want_sync(cfg, st->dir_fd) ? "synced at each commit" :
					      "written through the page cache, not synced",
		 fdstore_describe(st->store),
		 st->load.m ? "; restoring the previous run's tenants" :
		 st->legacy ? "; converting the previous run's state file and restoring its tenants" :
		 st->refused_why[0] ? "; the previous run's state is refused (see below)" : "");
	*ret = st;
	return 0;
fail:
	state_free(st);
	return r;
}

int state_take_iommufd(struct state *st)
{
	struct stat sb;

	if (st->iommufd >= 0 && fstat(st->iommufd, &sb) == 0) {
		st->have_taken_ino = true;
		st->taken_dev = sb.st_dev;
		st->taken_ino = sb.st_ino;
	}
	return TAKE_FD(st->iommufd);
}

/* ------------------------------------------------------------ commit */

/* A zero timeout, not event_active(): the slice runs after the next poll
 * for I/O, so that requests get in between slices. */
static void sweep_arm(struct state *st)
{
	static const struct timeval now = { 0, 0 };

	if (st->rec.ngarbage && st->ev_sweep && !st->sweep_armed) {
		st->sweep_armed = true;
		evtimer_add(st->ev_sweep, &now);
	}
}

static void write_all(struct state *st)
{
	int r = records_write_all(&st->rec, st->env.tenants, backend_name(st->env.backend),
				  st->next_store_id, *st->env.next_serial);
	struct err e = { 0 };

	if (r == 0)
		r = db_commit(st->db, &e);
	else
		(void)db_commit(st->db, &e); /* aborts it */
	if (r < 0) {
		if (!st->write_failing)
			log_err("cannot write the state database %s/%s: %s: a restart now "
				"would lose what changed since the last write", st->dir, DB_FILE,
				e.errnum ? e.msg : strerror(-r));
		st->write_failing = true;
		return;
	}
	st->saved_serial = *st->env.next_serial;
	st->resync = false;
	if (st->write_failing)
		log_info("the state database %s/%s is written again", st->dir, DB_FILE);
	st->write_failing = false;
}

bool state_pending(const struct state *st)
{
	return st && st->attached && (db_pending(st->db) || st->rec.error || st->resync);
}

void state_commit(struct state *st)
{
	struct err e = { 0 };
	int r;

	if (!st || !st->attached)
		return;
	if (!st->resync && (db_pending(st->db) || st->rec.error)) {
		if (*st->env.next_serial != st->saved_serial)
			(void)records_put_counter(&st->rec, RECORDS_NEXT_CONN_SERIAL,
						  *st->env.next_serial);
		r = st->rec.error;
		st->rec.error = 0;
		if (r == 0) {
			r = db_commit(st->db, &e);
			if (r == 0)
				st->saved_serial = *st->env.next_serial;
		} else {
			(void)db_commit(st->db, &e); /* aborts it */
		}
		if (r < 0) {
			log_err("a change to the state database %s/%s could not be written (%s): "
				"writing it whole", st->dir, DB_FILE,
				e.errnum ? e.msg : strerror(-r));
			st->resync = true;
		}
		/* Full: room for it, then everything again. */
		if (r == -ENOSPC || e.errnum == ENOSPC) {
			if (db_grow(st->db) == 0)
				log_info("the state database may now grow past its former size");
		}
	}
	if (st->resync)
		write_all(st);
	sweep_arm(st);
	if (st->durable)
		st->durable(st->durable_data);
}

void state_set_durable_hook(struct state *st, state_durable_fn fn, void *userdata)
{
	if (!st)
		return;
	st->durable = fn;
	st->durable_data = userdata;
}

/* Records nothing refers to, deleted a slice at a time between requests. */
static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct state *st = arg;
	bool more = false;
	long n;

	st->sweep_armed = false;
	n = records_sweep(&st->rec, SWEEP_SLICE, &more);
	if (n < 0) {
		log_warn("sweeping the state database: %s (left for the next start)",
			 strerror((int)-n));
		st->rec.ngarbage = 0;
	}
	state_commit(st);
}

/* ------------------------------------------------------------ fd store hooks */

static int on_fd_store(void *ud, const char *kind, int fd, uint64_t *ret_id,
		       struct err *e)
{
	struct state *st = ud;
	char name[FDSTORE_NAME_MAX];
	int r;

	restore_fd_name(kind, st->next_store_id, name, sizeof(name));
	r = fdstore_put(st->store, name, fd, e);
	if (r < 0)
		return r;
	*ret_id = st->next_store_id++;
	r = records_put_counter(&st->rec, RECORDS_NEXT_STORE_ID, st->next_store_id);
	if (r < 0 && !st->rec.error)
		st->rec.error = r;
	return 0;
}

static void on_fd_unstore(void *ud, const char *kind, uint64_t id)
{
	struct state *st = ud;
	char name[FDSTORE_NAME_MAX];

	restore_fd_name(kind, id, name, sizeof(name));
	fdstore_remove(st->store, name);
}

/* ------------------------------------------------------------ restore */

static void release_unclaimed(struct state *st, const char *op, const char *why)
{
	struct tenant *t, *next;

	for (t = tenant_next(st->env.tenants, NULL); t; t = next) {
		next = tenant_next(st->env.tenants, t);
		if (!tenant_unclaimed(t) || tenant_conns(t) > 0)
			continue;
		restore_audit(st->env.audit, op, tenant_name(t), true, 0, why);
		log_info("tenant %s: %s", tenant_name(t), why);
		tenant_release(t); /* the reaper does the rest (state_commit's hook) */
	}
}

static void on_grace(evutil_socket_t fd, short what, void *arg)
{
	struct state *st = arg;
	struct tenant *t;

	st->grace_over = true;
	release_unclaimed(st, "grace-expired",
			  "not reclaimed within the restart grace period: released");
	/* One with a connection that has not said Hello yet goes when that
	 * connection closes (state_holds() no longer keeps it). */
	for (t = tenant_next(st->env.tenants, NULL); t; t = tenant_next(st->env.tenants, t))
		if (tenant_unclaimed(t))
			log_info("tenant %s: grace period over; released with its last connection",
				 tenant_name(t));
	state_commit(st);
}

/* Rebuild what the database (or a state file) holds. Returns the number of
 * tenants restored. */
static size_t restore(struct state *st, struct restore *rs, bool kernel, bool adopted)
{
	const IoasdState__State *m = st->load.m ? st->load.m : st->legacy;
	const char *was = m->backend;
	struct err re = { 0 };
	int r;

	if (strcmp(was, backend_name(st->env.backend)) != 0) {
		log_err("the state was written by the %s backend and this is %s: "
			"not restored, its fds are released", was, backend_name(st->env.backend));
		return 0;
	}
	if (st->nfds == 0 && fdstore_is_systemd(st->store)) {
		restore_store_released(rs, m);
		return 0;
	}
	if (kernel && !adopted) {
		log_err("the state lists kernel objects but the iommufd context that "
			"held them was not in the store (the store was lost): they are "
			"gone; not restored");
		return 0;
	}
	if (m->next_store_id > st->next_store_id)
		st->next_store_id = m->next_store_id;
	if (m->next_conn_serial > *st->env.next_serial)
		*st->env.next_serial = m->next_conn_serial;
	if (st->load.m) {
		struct restore_mappings src;

		load_mappings(&st->load, &src);
		rs->made = load_made;
		rs->made_data = &st->load;
		st->rec.restoring = true;
		r = restore_tenants_from(rs, m, &src, !kernel, &re);
		st->rec.restoring = false;
		if (r >= 0 && load_finish(&st->load) < 0)
			st->resync = true;
	} else {
		r = restore_tenants(rs, m, !kernel, &re);
	}
	if (adopted)
		restore_sweep(rs);
	return r > 0 ? (size_t)r : 0;
}

int state_attach(struct state *st, const struct state_env *env, struct err *e)
{
	struct backend *b = env->backend;
	bool kernel = backend_kernel_fd(b) >= 0;
	bool adopted = false, from_db = st->load.m != NULL;
	size_t restored = 0;
	struct restore rs = {
		.tenants = env->tenants, .backend = env->backend, .pool = env->pool, .policy = *env->policy,
		.limits = env->limits, .audit = env->audit, .fds = st->fds,
		.nfds = st->nfds, .store = st->store, .grace_sec = st->grace_sec,
	};

	st->env = *env;
	st->attached = true;
	st->rec.by_policy = *env->policy != NULL;
	tenant_set_fd_store(env->tenants, on_fd_store, on_fd_unstore, st);
	/* Changes made while restoring from the database (what a reconcile
	 * drops) are changes to it; a state file is written whole after. */
	if (from_db)
		tenant_set_journal(env->tenants, records_journal, &st->rec);
	if (kernel && st->have_taken_ino) {
		struct stat sb;

		adopted = fstat(backend_kernel_fd(b), &sb) == 0 &&
			  sb.st_dev == st->taken_dev && sb.st_ino == st->taken_ino;
	}
	if (st->load.m || st->legacy)
		restored = restore(st, &rs, kernel, adopted);
	else if (st->refused_why[0])
		restore_refuse(&rs, st->refused, st->refused_why);
	/* What nobody claimed of the store is released. */
	for (size_t i = 0; i < st->nfds; i++) {
		if (st->fds[i].fd < 0)
			continue;
		st->fds[i].fd = safe_close(st->fds[i].fd);
		if (strcmp(st->fds[i].name, STATE_IOMMUFD_NAME) != 0)
			fdstore_remove(st->store, st->fds[i].name);
	}
	if (!adopted) {
		/* A stored context that was not adopted goes (the store knows
		 * whether it has one: a name never stored is not removed). */
		fdstore_remove(st->store, STATE_IOMMUFD_NAME);
		if (kernel) {
			int r = fdstore_put(st->store, STATE_IOMMUFD_NAME, backend_kernel_fd(b), e);

			if (r < 0)
				return r;
		}
	}
	/* The database says exactly what lives now: restored from it, it
	 * does already (but for the tenants' headers: claimed or not, and
	 * the counters); anything else is written whole. */
	if (from_db && restored) {
		for (struct tenant *t = tenant_next(env->tenants, NULL); t;
		     t = tenant_next(env->tenants, t))
			records_journal(&st->rec, &(struct tenant_journal_event){
						  .kind = TENANT_JOURNAL_TENANT, .t = t });
		if (records_put_meta(&st->rec, backend_name(b), st->next_store_id,
				     *env->next_serial) < 0)
			st->resync = true;
	} else {
		st->resync = true;
	}
	tenant_set_journal(env->tenants, records_journal, &st->rec);
	load_free(&st->load);
	if (st->legacy) {
		ioasd_state__state__free_unpacked(st->legacy, NULL);
		st->legacy = NULL;
	}
	if (st->refused) {
		ioasd_state__state__free_unpacked(st->refused, NULL);
		st->refused = NULL;
	}
	if (env->base) {
		st->ev_sweep = evtimer_new(env->base, on_sweep, st);
		if (!st->ev_sweep)
			return err_set(e, ENOMEM, "cannot start the sweeper");
	}
	if (restored && env->base) {
		struct timeval tv = { .tv_sec = st->grace_sec };

		st->ev_grace = evtimer_new(env->base, on_grace, st);
		if (!st->ev_grace || evtimer_add(st->ev_grace, &tv) < 0)
			return err_set(e, ENOMEM, "cannot start the grace timer");
		st->grace_end = time(NULL) + st->grace_sec;
	}
	state_commit(st);
	if (st->write_failing)
		return err_set(e, EIO, "cannot write the state database in %s", st->dir);
	/* Converted: the file is not read again. */
	(void)unlinkat(st->dir_fd, STATE_FILE, 0);
	/* Without an event loop (tests), what nothing refers to goes now. */
	while (!env->base && st->rec.ngarbage) {
		bool more;

		if (records_sweep(&st->rec, SIZE_MAX, &more) < 0)
			break;
		state_commit(st);
	}
	return 0;
}

/* ------------------------------------------------------------ stop */

void state_stop_clean(struct state *st)
{
	struct tenant *t;

	if (!st)
		return;
	/* Restored tenants nobody claimed have no connection to go with. */
	if (st->attached)
		release_unclaimed(st, "stop", "daemon stopping: released");
	tenant_set_journal(st->env.tenants, NULL, NULL);
	while ((t = tenant_next(st->env.tenants, NULL)))
		tenant_free(t);
	fdstore_remove(st->store, STATE_IOMMUFD_NAME);
	fdstore_clear(st->store);
	st->db = db_free(st->db);
	st->rec.db = NULL;
	db_unlink(st->dir_fd);
	(void)unlinkat(st->dir_fd, STATE_FILE, 0);
	if (!fdstore_is_systemd(st->store)) {
		(void)unlinkat(st->dir_fd, FDSTORE_HOLDER_SOCKET, 0);
		(void)unlinkat(st->dir_fd, FDSTORE_HOLDER_PID, 0);
	}
	st->attached = false;
}

void state_stop_keep(struct state *st)
{
	struct tenant_totals tot;
	char why[256];

	if (!st)
		return;
	state_commit(st);
	tenant_get_totals(st->env.tenants, &tot);
	snprintf(why, sizeof(why),
		 "stopping for a restart: %" PRIu32 " tenants, %" PRIu32 " IOAS, %" PRIu32
		 " mappings, %" PRIu32 " devices kept in %s%s",
		 tot.tenants, tot.ioas, tot.mappings, tot.devices,
		 fdstore_describe(st->store),
		 st->write_failing ? " (but the state database could not be written: "
				     "the next daemon restores the last state written)" : "");
	restore_audit(st->env.audit, "stop-for-restart", NULL, true, 0, why);
	log_info("%s", why);
}

struct state *state_free(struct state *st)
{
	if (!st)
		return NULL;
	if (st->attached) {
		st->attached = false;
		tenant_set_fd_store(st->env.tenants, NULL, NULL, NULL);
		tenant_set_journal(st->env.tenants, NULL, NULL);
	}
	if (st->ev_grace)
		event_free(st->ev_grace);
	if (st->ev_sweep)
		event_free(st->ev_sweep);
	fdstore_entries_free(st->fds, st->nfds);
	load_free(&st->load);
	if (st->legacy)
		ioasd_state__state__free_unpacked(st->legacy, NULL);
	if (st->refused)
		ioasd_state__state__free_unpacked(st->refused, NULL);
	db_free(st->db);
	free(st->rec.garbage);
	safe_close(st->iommufd);
	safe_close(st->dir_fd);
	fdstore_free(st->store);
	free(st->dir);
	free(st);
	return NULL;
}

int state_export(const char *dir, IoasdState__State **ret, struct err *e)
{
	struct db_config dc = { .sync = false, .map_size = STATE_DEFAULT_MAP_SIZE };
	struct records rec = { .next_tenant = 1 };
	struct load ld = { .rec = &rec };
	_cleanup_close_ int dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r;

	if (dir_fd < 0)
		return err_errno(e, -errno, "cannot open %s", dir);
	r = db_open(dir_fd, dir, &dc, &rec.db, e);
	if (r < 0)
		return r;
	r = load_export(&ld, ret, e);
	load_free(&ld);
	free(rec.garbage);
	db_free(rec.db);
	return r;
}
