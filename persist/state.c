/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "iommu/backend-kernel.h"
#include "persist/fdstore.h"
#include "common/log.h"
#include "policy/policy.h"
#include "tenant/pool.h"
#include "persist/restore.h"
#include "rpc/rpc.h"
#include "persist/state-check.h"
#include "persist/state-dump.h"
#include "persist/state.h"
#include "state.pb-c.h"
#include "tenant/tenant.h"

struct state {
	char *dir;
	int dir_fd;
	unsigned grace_sec;
	struct fdstore *store;
	struct fdstore_entry *fds;     /* taken back from the store */
	size_t nfds;
	IoasdState__State *loaded;     /* the file found at start, checked, or NULL */
	IoasdState__State *refused;    /* ... or the one that did not hold together */
	char refused_why[320];         /* why it is not restored ("": nothing refused) */
	int iommufd;                   /* stored context, until taken */
	bool have_taken_ino;
	dev_t taken_dev;
	ino_t taken_ino;               /* of the stored context that was taken */
	struct state_env env;
	bool attached;
	uint64_t next_store_id;
	uint8_t *last;                 /* the bytes last written */
	size_t last_len;
	bool write_failing;
	struct event *ev_grace;
	time_t grace_end;
	bool grace_over;
};


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

int state_open(const struct state_config *cfg, struct state **ret, struct err *e)
{
	struct state *st = calloc(1, sizeof(*st));
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	if (!st)
		return err_set(e, ENOMEM, "out of memory");
	st->dir_fd = -1;
	st->iommufd = -1;
	st->grace_sec = cfg->grace_sec;
	st->next_store_id = 1;
	st->dir = strdup(cfg->dir);
	if (!st->dir) {
		state_free(st);
		return err_set(e, ENOMEM, "out of memory");
	}
	r = check_dir(cfg, &st->dir_fd, e);
	if (r < 0)
		goto fail;
	r = fdstore_open(cfg->dir, &st->store, e);
	if (r < 0)
		goto fail;
	r = fdstore_take(st->store, &st->fds, &st->nfds, e);
	if (r < 0)
		goto fail;
	for (size_t i = 0; i < st->nfds; i++)
		if (!strcmp(st->fds[i].name, STATE_IOMMUFD_NAME) && st->iommufd < 0)
			st->iommufd = TAKE_FD(st->fds[i].fd);
	r = read_file(st->dir_fd, STATE_FILE, &buf, &len);
	if (r == 0) {
		IoasdState__State *m = NULL;
		struct err ce = { 0 };

		r = state_check_decode(buf, len, &m, &ce);
		free(buf);
		if (r == 0 && state_check(m, &ce) < 0)
			st->refused = TAKE_PTR(m);
		st->loaded = m;
		if (!st->loaded)
			snprintf(st->refused_why, sizeof(st->refused_why), "%s/%s: %s",
				 cfg->dir, STATE_FILE, ce.msg);
	} else if (r != -ENOENT) {
		snprintf(st->refused_why, sizeof(st->refused_why), "%s/%s cannot be read: %s",
			 cfg->dir, STATE_FILE, strerror(-r));
	}
	/* Only a context that a state which holds together describes is
	 * adopted; any other goes, and the kernel frees what it held. */
	if (!st->loaded)
		st->iommufd = safe_close(st->iommufd);
	log_info("restart support: state in %s, fds kept by %s%s", cfg->dir,
		 fdstore_describe(st->store),
		 st->loaded ? "; restoring the previous run's tenants" :
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

/* ------------------------------------------------------------ the file */
static int write_file(struct state *st, const uint8_t *buf, size_t len)
{
	static const char tmp[] = STATE_FILE ".tmp";
	_cleanup_close_ int fd = -1;
	size_t off = 0;

	fd = openat(st->dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, buf + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0)
		return -errno;
	if (renameat(st->dir_fd, tmp, st->dir_fd, STATE_FILE) < 0)
		return -errno;
	(void)fsync(st->dir_fd);
	return 0;
}

static int state_pack(struct state *st, uint8_t **ret, size_t *ret_len)
{
	IoasdState__State m = IOASD_STATE__STATE__INIT;
	const uint32_t *ids = NULL;
	struct tenant *t;
	uint8_t *buf = NULL;
	size_t len;
	int r = 0;

	m.version = STATE_VERSION;
	m.backend = (char *)backend_name(st->env.backend);
	m.next_store_id = st->next_store_id;
	m.next_conn_serial = *st->env.next_serial;
	if (st->env.pool) {
		m.n_pool_ids = pool_idle_ids(st->env.pool, &ids);
		m.pool_ids = (uint32_t *)ids;
	}
	for (t = tenant_next(st->env.tenants, NULL); t && r == 0; t = tenant_next(st->env.tenants, t)) {
		IoasdState__Tenant *x = NULL;

		r = state_dump_tenant(t, *st->env.policy != NULL, &x);
		if (r == 0 && (r = APPEND(m.tenants, m.n_tenants, x)) < 0)
			state_tenant_msg_free(x);
	}
	if (r == 0) {
		len = ioasd_state__state__get_packed_size(&m);
		buf = malloc(len ? len : 1);
		if (buf) {
			ioasd_state__state__pack(&m, buf);
			*ret = buf;
			*ret_len = len;
		} else {
			r = -ENOMEM;
		}
	}
	for (size_t i = 0; i < m.n_tenants; i++)
		state_tenant_msg_free(m.tenants[i]);
	free(m.tenants);
	return r;
}

void state_commit(struct state *st)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	if (!st)
		return;
	r = state_pack(st, &buf, &len);
	if (r == 0 && st->last && len == st->last_len && !memcmp(buf, st->last, len)) {
		free(buf);
		return;
	}
	if (r == 0)
		r = write_file(st, buf, len);
	if (r < 0) {
		free(buf);
		if (!st->write_failing)
			log_err("cannot write the state file %s/%s: %s: a restart now would "
				"lose what changed since the last write", st->dir, STATE_FILE,
				strerror(-r));
		st->write_failing = true;
		return;
	}
	if (st->write_failing)
		log_info("the state file %s/%s is written again", st->dir, STATE_FILE);
	st->write_failing = false;
	free(st->last);
	st->last = buf;
	st->last_len = len;
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
		tenant_free(t);
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

int state_attach(struct state *st, const struct state_env *env, struct err *e)
{
	struct backend *b = env->backend;
	bool kernel = backend_kernel_fd(b) >= 0;
	bool adopted = false;
	size_t restored = 0;
	struct restore rs = {
		.tenants = env->tenants, .backend = env->backend, .pool = env->pool, .policy = *env->policy,
		.limits = env->limits, .audit = env->audit, .fds = st->fds,
		.nfds = st->nfds, .store = st->store, .grace_sec = st->grace_sec,
	};

	st->env = *env;
	st->attached = true;
	tenant_set_fd_store(env->tenants, on_fd_store, on_fd_unstore, st);
	if (kernel && st->have_taken_ino) {
		struct stat sb;

		adopted = fstat(backend_kernel_fd(b), &sb) == 0 &&
			  sb.st_dev == st->taken_dev && sb.st_ino == st->taken_ino;
	}
	if (st->loaded) {
		const char *was = st->loaded->backend;

		if (strcmp(was, backend_name(b)) != 0)
			log_err("the state was written by the %s backend and this is %s: "
				"not restored, its fds are released", was, backend_name(b));
		else if (st->nfds == 0 && fdstore_is_systemd(st->store))
			restore_store_released(&rs, st->loaded);
		else if (kernel && !adopted)
			log_err("the state lists kernel objects but the iommufd context that "
				"held them was not in the store (the store was lost): they are "
				"gone; not restored");
		else {
			struct err re = { 0 };
			int r;

			if (st->loaded->next_store_id > st->next_store_id)
				st->next_store_id = st->loaded->next_store_id;
			if (st->loaded->next_conn_serial > *env->next_serial)
				*env->next_serial = st->loaded->next_conn_serial;
			r = restore_tenants(&rs, st->loaded, !kernel, &re);
			restored = r > 0 ? (size_t)r : 0;
			if (adopted)
				restore_sweep(&rs);
		}
	} else if (st->refused_why[0]) {
		restore_refuse(&rs, st->refused, st->refused_why);
	}
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
	if (st->loaded) {
		ioasd_state__state__free_unpacked(st->loaded, NULL);
		st->loaded = NULL;
	}
	if (st->refused) {
		ioasd_state__state__free_unpacked(st->refused, NULL);
		st->refused = NULL;
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
		return err_set(e, EIO, "cannot write the state file in %s", st->dir);
	return 0;
}

/* ------------------------------------------------------------ reclaim */

bool state_holds(const struct state *st, const struct tenant *t)
{
	return st && st->attached && !st->grace_over && tenant_unclaimed(t);
}

/* --no-policy tenants are named conn<serial>-uid<uid> by the server. */
static bool name_has_uid(const char *name, uid_t uid)
{
	char suffix[32];
	size_t n = strlen(name), k;

	snprintf(suffix, sizeof(suffix), "-uid%u", (unsigned)uid);
	k = strlen(suffix);
	return n > k && !strcmp(name + n - k, suffix);
}

static void claim(struct state *st, struct rpc_session *c, struct tenant *t)
{
	char why[400];

	tenant_set_unclaimed(t, false);
	snprintf(why, sizeof(why), "reclaimed by connection %" PRIu64 " (%s)",
		 c->serial, rpc_peer_desc(c));
	{
		struct audit_record r = {
			.kind = AUDIT_RESTART,
			.op = "reclaim",
			.allowed = true,
			.reason = why,
		};

		rpc_audit_subject(c, t, &r);
		(void)audit_emit(st->env.audit, &r);
	}
	log_info("tenant %s %s", tenant_name(t), why);
}

int state_hello(struct state *st, struct rpc_session *c, const char *token,
		const char **ret_token, bool *ret_reclaimed, struct err *e)
{
	struct tenant *t = c->tenant, *u;
	long left;

	*ret_token = NULL;
	*ret_reclaimed = false;
	if (token && !*token)
		token = NULL;
	if (!st || !st->attached) {
		if (token)
			return err_set(e, EOPNOTSUPP,
				       "this daemon runs without restart support (no --state-dir): "
				       "there is nothing to reclaim");
		return 0;
	}
	left = st->grace_end - time(NULL);
	if (left < 0)
		left = 0;
	if (!*st->env.policy) {
		/* Each connection is its own tenant: the token names the
		 * restored one, which must belong to the same uid. */
		if (token) {
			for (u = tenant_next(st->env.tenants, NULL); u; u = tenant_next(st->env.tenants, u))
				if (tenant_unclaimed(u) && tenant_reclaim_token_equal(u, token))
					break;
			if (!u)
				return err_set(e, EKEYREJECTED,
					       "no tenant restored after a restart has this reclaim "
					       "token (wrong, already reclaimed, or released after "
					       "the grace period)");
			if (!name_has_uid(tenant_name(u), c->cred.uid))
				return err_set(e, EKEYREJECTED,
					       "this reclaim token belongs to a tenant of another uid");
			tenant_conn_detach(t);
			tenant_free(t);
			c->tenant = t = u;
			tenant_conn_attach(t);
			claim(st, c, t);
			*ret_reclaimed = true;
		}
		*ret_token = tenant_reclaim_token(t);
		return 0;
	}
	if (tenant_unclaimed(t)) {
		if (!token)
			return err_set(e, EBUSY,
				       "tenant %s was restored after a daemon restart and awaits "
				       "its reclaim token (%ld s of the grace period left); "
				       "connect presenting it, or wait until it is released",
				       tenant_name(t), left);
		if (!tenant_reclaim_token_equal(t, token))
			return err_set(e, EKEYREJECTED,
				       "this is not the reclaim token of tenant %s", tenant_name(t));
		claim(st, c, t);
		*ret_reclaimed = true;
	} else if (token && !tenant_reclaim_token_equal(t, token)) {
		return err_set(e, EKEYREJECTED,
			       "this is not the reclaim token of tenant %s (it has no "
			       "restored objects waiting)", tenant_name(t));
	}
	*ret_token = tenant_reclaim_token(t);
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
	while ((t = tenant_next(st->env.tenants, NULL)))
		tenant_free(t);
	fdstore_remove(st->store, STATE_IOMMUFD_NAME);
	fdstore_clear(st->store);
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
		 st->write_failing ? " (but the state file could not be written: "
				     "the next daemon restores the last one written)" : "");
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
	}
	if (st->ev_grace)
		event_free(st->ev_grace);
	fdstore_entries_free(st->fds, st->nfds);
	if (st->loaded)
		ioasd_state__state__free_unpacked(st->loaded, NULL);
	if (st->refused)
		ioasd_state__state__free_unpacked(st->refused, NULL);
	safe_close(st->iommufd);
	safe_close(st->dir_fd);
	fdstore_free(st->store);
	free(st->last);
	free(st->dir);
	free(st);
	return NULL;
}
