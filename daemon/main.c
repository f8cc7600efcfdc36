/* SPDX-License-Identifier: MIT */
/* ioasd: command line, backend selection, event loop, signals. */
#include <ctype.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "audit/audit.h"
#include "iommu/backend.h"
#include "iommu/backend-faults.h"
#include "common/log.h"
#include "policy/policy.h"
#include "tenant/pool.h"
#include "daemon/privs.h"
#include "tenancy/ctxhelper.h"
#include "tenancy/server.h"
#include "persist/state.h"
#include "iommu/backend-kernel.h"
#include "persist/fdstore.h"
#include "tenant/tenant.h"
#include "common/util.h"

#include "daemon/options.h"


/* SIGUSR2: stop for a restart, keeping every tenant (with --state-dir). */
static bool stop_keeping;

static void on_restart_signal(evutil_socket_t sig, short what, void *arg)
{
	struct event_base *base = arg;

	(void)what;
	log_info("%s received: stopping for a restart", strsignal((int)sig));
	stop_keeping = true;
	event_base_loopexit(base, NULL);
}

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	struct event_base *base = arg;

	log_info("%s received, shutting down", strsignal((int)sig));
	event_base_loopexit(base, NULL);
}

/* STATUS= for systemd: what the daemon holds right now. */
static void notify_status(const struct server *srv)
{
#ifdef HAVE_SYSTEMD
	struct tenant_totals t;

	tenant_get_totals(srv->tenants, &t);
	(void)sd_notifyf(0,
			 "STATUS=%" PRIu32 " tenants, %" PRIu32 " connections, %" PRIu32
			 " IOAS, %" PRIu32 " mappings, %" PRIu64 " bytes pinned (backend %s)",
			 t.tenants, srv->nconns, t.ioas, t.mappings, t.pinned_bytes,
			 backend_name(srv->backend));
#else
	(void)srv;
#endif
}

/* Every half watchdog interval (or 5 s): WATCHDOG=1 when asked, STATUS=. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

#ifdef HAVE_SYSTEMD
	uint64_t usec;

	if (sd_watchdog_enabled(0, &usec) > 0)
		(void)sd_notify(0, "WATCHDOG=1");
#endif
	state_commit(srv->state); /* the pool refills between requests */
	audit_tick(srv->audit); /* rate-limit windows that closed: sum them up */
	{
		int status = ctxhelper_poll(srv->ctxhelper);

		if (status >= 0)
			log_warn("the context helper exited (%s %d): OpenContext is refused "
				 "(ESRCH) until the daemon restarts",
				 WIFSIGNALED(status) ? "signal" : "status",
				 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	}
	notify_status(srv);
}

/* A listening socket passed by systemd (ListenSequentialPacket=), or -1.
 * -errno when what was passed is not one SOCK_SEQPACKET unix socket. */
static int listen_fd_from_systemd(void)
{
#ifdef HAVE_SYSTEMD
	char **names = NULL;
	int n = sd_listen_fds_with_names(1, &names);
	int fd = -1, sockets = 0;

	if (n == 0)
		return -1;
	if (n < 0) {
		log_err("cannot take the sockets systemd passed: %s", strerror(-n));
		return n;
	}
	/* The fd store's entries come in the same list (restart support
	 * takes them, state.c); the socket is whatever is not one of ours. */
	for (int i = 0; i < n; i++) {
		if (names && names[i] &&
		    !strncmp(names[i], FDSTORE_PREFIX, strlen(FDSTORE_PREFIX)))
			continue;
		fd = SD_LISTEN_FDS_START + i;
		sockets++;
	}
	for (int i = 0; names && names[i]; i++)
		free(names[i]);
	free(names);
	if (sockets == 0)
		return -1;
	if (sockets > 1) {
		log_err("systemd passed %d sockets; ioasd takes exactly one", sockets);
		return -EINVAL;
	}
	if (sd_is_socket_unix(fd, SOCK_SEQPACKET, 1, NULL, 0) <= 0) {
		log_err("the socket systemd passed is not a listening SOCK_SEQPACKET unix socket "
			"(use ListenSequentialPacket=)");
		return -EINVAL;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	return fd;
#else
	return -1;
#endif
}

static void on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;
	struct err e = { 0 };

	if (!srv->cfg.policy_dir) {
		log_info("SIGHUP: running with --no-policy, nothing to reload");
		return;
	}
#ifdef HAVE_SYSTEMD
	{
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		(void)sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64,
				 (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u);
	}
#endif
	if (server_reload_policy(srv, &e) < 0)
		log_err("policy reload failed, keeping the old policy: %s", e.msg);
	else
		log_info("policy reloaded from %s (%zu tenant sections)",
			 srv->cfg.policy_dir, policy_n_tenants(srv->policy));
#ifdef HAVE_SYSTEMD
	(void)sd_notify(0, "READY=1");
#endif
	notify_status(srv);
}

/* The context helper's privileges: the daemon's user, CAP_SYS_RESOURCE
 * and nothing else (run in the helper, see tenancy/ctxhelper.h). */
struct helper_privs {
	const char *user;
};

static int helper_drop(void *arg, char *why, size_t len)
{
	const struct helper_privs *hp = arg;
	struct privs_config pc = { .user = hp->user, .keep_sys_resource = true };

	return privs_drop(&pc, why, len);
}

static int open_backend(const struct options *o, struct backend **ret)
{
	struct backend_model m;
	int r;

	if (o->backend != BACKEND_SIM) {
		r = backend_kernel_open(o->device, ret);
		if (r >= 0) {
			log_info("kernel backend on %s (IOMMU_IOAS_MAP_FILE %s): %s",
				 o->device,
				 (*ret)->has_map_file ? "available" : "absent: using mmap + IOMMU_IOAS_MAP",
				 backend_description(*ret));
			return 0;
		}
		if (o->backend == BACKEND_KERNEL) {
			log_err("cannot open %s: %s", o->device, strerror(-r));
			return r;
		}
		log_warn("*******************************************************************");
		log_warn("NOTICE: %s cannot be used (%s).", o->device, strerror(-r));
		log_warn("NOTICE: running on the SIMULATED backend ('sim'): no IOMMU, no DMA,");
		log_warn("NOTICE: no pinned pages. For client development and tests only.");
		log_warn("*******************************************************************");
	}
	r = backend_model_init(&m, o->sim_thp, o->sim_page_size);
	if (r >= 0)
		r = backend_sim_open_model(&m, ret);
	if (r < 0) {
		log_err("cannot start the sim backend: %s", strerror(-r));
		return r;
	}
	if (o->sim_no_map_file)
		backend_sim_set_map_file(*ret, false);
	backend_sim_set_kernel72(*ret, o->sim_kernel72);
	/* The tenant layer maps only a registered memory's fd, which it
	 * checked at RegisterMemory (tenant/memory.c: a bad fd is EBADF
	 * there) and holds until UnregisterMemory: no fget check per Map. */
	backend_sim_set_fds_held(*ret, true);
	log_info("sim backend (IOMMU_IOAS_MAP_FILE %s): %s",
		 (*ret)->has_map_file ? "modelled" : "not modelled: mmap + IOMMU_IOAS_MAP path",
		 backend_description(*ret));
	log_info("sim backend models a kernel %s transparent huge pages: automatic IOVAs "
		 "aligned up to %" PRIu64 " bytes, PAGE_SIZE %" PRIu64 " (THP %s, page size %s)",
		 m.thp ? "with" : "without", m.thp ? m.hpage_size : m.page_size,
		 m.page_size,
		 o->sim_thp < 0 ? "as this host's kernel" : "from --sim-thp",
		 o->sim_page_size ? "from --sim-page-size" : "as this host's");
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	struct event *ev_term = NULL, *ev_int = NULL, *ev_hup = NULL, *ev_tick = NULL;
	struct event *ev_usr2 = NULL;
	int listen_fd;
	struct event_base *base = NULL;
	struct backend *b = NULL;
	struct policy *policy = NULL;
	struct audit *audit = NULL;
	struct pool *pool = NULL;
	struct ctxhelper *ctxhelper = NULL;
	struct tenants *tenants = NULL;
	struct server srv = { .listen_fd = -1 };
	const struct policy_daemon *pd = NULL;
	const char *audit_log;
	enum audit_failure_mode audit_mode;
	uint32_t pool_size;
	bool started = false, clean = false, adopted = false;
	struct state *st = NULL;
	struct err e = { 0 };
	int r, ret = EXIT_FAILURE;

	options_init(&o);
	if (options_parse(argc, argv, &o) < 0)
		return 2;
	if (!o.policy_dir)
		o.policy_dir = DEFAULT_POLICY_DIR;
	if (o.check_policy)
		return policy_check_main(o.policy_dir, stdout, stderr);
	signal(SIGPIPE, SIG_IGN);
	/* A file-size limit (LimitFSIZE=, ulimit -f) reached by the audit log
	 * fails that write (EFBIG, handled as a sink failure); it must not
	 * kill the daemon and every tenant's DMA with it. */
	signal(SIGXFSZ, SIG_IGN);

	if (!o.no_policy) {
		r = policy_load_dir(o.policy_dir, &policy, &e);
		if (r < 0) {
			log_err("cannot load the policy: %s", e.msg);
			if (r == -ENOENT && !strcmp(o.policy_dir, DEFAULT_POLICY_DIR))
				log_err("create %s (see ioasd(8)), pass --policy-dir DIR, "
					"or --no-policy for development", DEFAULT_POLICY_DIR);
			goto out;
		}
		pd = policy_daemon(policy);
		o.cfg.policy_dir = o.policy_dir;
		log_info("policy from %s: %zu tenant section(s)", o.policy_dir,
			 policy_n_tenants(policy));
	} else {
		log_warn("NOTICE: --no-policy: every connection is its own tenant; "
			 "no one is refused for who they are");
	}

	/* Command line first, then the [daemon] section, then defaults. */
	audit_log = o.audit_log ? o.audit_log :
		    (pd && pd->audit_log_set ? pd->audit_log : NULL);
	audit_mode = o.audit_failure >= 0 ? (enum audit_failure_mode)o.audit_failure :
		     (pd && pd->audit_failure_set &&
		      pd->audit_failure == POLICY_AUDIT_FAILURE_REFUSE) ?
			     AUDIT_FAILURE_REFUSE : AUDIT_FAILURE_CONTINUE;
	pool_size = o.pool_size >= 0 ? (uint32_t)o.pool_size :
		    (pd && pd->pool_size_set ? pd->pool_size : DEFAULT_POOL_SIZE);
	if (o.rlimit_mode < 0 && pd && pd->rlimit_mode_set)
		o.rlimit_mode = (int)pd->rlimit_mode;

	{
		struct audit_config ac = {
			.path = audit_log,
			.owner = (uid_t)-1,
			.journal = !o.no_journal,
			.mode = audit_mode,
			.rate_interval_sec = AUDIT_RATE_INTERVAL_DEFAULT,
			.rate_burst = AUDIT_RATE_BURST_DEFAULT,
		};

		if (o.audit_rate_interval >= 0)
			ac.rate_interval_sec = (uint32_t)o.audit_rate_interval;
		else if (pd && pd->audit_rate_interval_set)
			ac.rate_interval_sec = pd->audit_rate_interval;
		if (o.audit_rate_burst >= 0)
			ac.rate_burst = (uint32_t)o.audit_rate_burst;
		else if (pd && pd->audit_rate_burst_set)
			ac.rate_burst = pd->audit_rate_burst;

		/* The file may be the daemon's user's as well as root's. */
		if (o.privs.user) {
			struct passwd *pw = getpwnam(o.privs.user);

			if (pw)
				ac.owner = pw->pw_uid;
		}
		r = audit_open(&ac, &audit, &e);
		if (r < 0) {
			log_err("cannot open the audit log: %s", e.msg);
			goto out;
		}
	}

	if (o.state_dir) {
		struct state_config sc = {
			.dir = o.state_dir,
			.grace_sec = o.restart_grace,
			.sync = o.state_sync,
			.dir_owner = (uid_t)-1,
		};
		int ifd;

		if (o.privs.user) {
			struct passwd *pw = getpwnam(o.privs.user);

			if (pw)
				sc.dir_owner = pw->pw_uid;
		}
		r = state_open(&sc, &st, &e);
		if (r < 0) {
			log_err("restart support: %s", e.msg);
			goto out;
		}
		ifd = state_take_iommufd(st);
		if (ifd >= 0 && o.backend != BACKEND_SIM) {
			r = backend_kernel_adopt(o.device, &ifd, &b);
			if (r < 0)
				log_err("the iommufd context kept across the restart cannot be used: %s",
					strerror(-r));
			else
				log_info("kernel backend on the iommufd context kept across the restart "
					 "(IOMMU_IOAS_MAP_FILE %s): %s",
					 b->has_map_file ? "available" : "absent",
					 backend_description(b));
			adopted = r == 0;
		}
		safe_close(ifd);
	}
	if (!b) {
		r = open_backend(&o, &b);
		if (r < 0)
			goto out;
	}
	if (o.rlimit_mode >= 0 && adopted) {
		log_info("IOMMU_OPTION_RLIMIT_MODE: kept from the context's first run");
	} else if (o.rlimit_mode >= 0) {
		/* Must happen before any object exists in the context. */
		uint64_t v = (uint64_t)o.rlimit_mode;

		r = backend_option(b, BACKEND_OPTION_OP_SET,
				   BACKEND_OPTION_RLIMIT_MODE, 0, &v);
		if (r < 0) {
			log_err("cannot set IOMMU_OPTION_RLIMIT_MODE=%s: %s%s",
				o.rlimit_mode ? "process" : "user", strerror(-r),
				r == -EPERM ? " (needs CAP_SYS_RESOURCE)" : "");
			goto out;
		}
		log_info("pinned-page accounting of the daemon's context: %s-based",
			 o.rlimit_mode ? "process" : "user");
	}
	base = event_base_new();
	if (!base) {
		log_err("cannot create the event loop");
		goto out;
	}
	r = pool_new(b, base, pool_size, &pool);
	if (r < 0) {
		log_err("cannot create the IOAS pool: %s", strerror(-r));
		goto out;
	}
	/* Signals first: once the socket accepts, a SIGTERM must already
	 * mean a clean shutdown. */
	ev_term = evsignal_new(base, SIGTERM, on_stop_signal, base);
	ev_int = evsignal_new(base, SIGINT, on_stop_signal, base);
	ev_hup = evsignal_new(base, SIGHUP, on_hup, &srv);
	ev_usr2 = evsignal_new(base, SIGUSR2, on_restart_signal, base);
	if (!ev_term || !ev_int || !ev_hup || !ev_usr2) {
		log_err("cannot install signal handlers");
		goto out;
	}
	event_add(ev_term, NULL);
	event_add(ev_int, NULL);
	event_add(ev_hup, NULL);
	event_add(ev_usr2, NULL);
	listen_fd = listen_fd_from_systemd();
	if (listen_fd < -1)
		goto out;
	tenants = tenants_new();
	if (!tenants) {
		log_err("out of memory");
		goto out;
	}
	tenant_set_test_mock_domains(tenants, o.test_mock_domains);
	r = server_start(&srv, base, tenants, b, &o.cfg, listen_fd, TAKE_PTR(policy), audit, pool);
	if (r < 0) {
		srv.policy = policy_unref(srv.policy);
		log_err("cannot listen on %s: %s", o.cfg.socket_path, strerror(-r));
		goto out;
	}
	started = true;
	if (listen_fd >= 0)
		log_info("socket-activated: serving the socket systemd passed");
	if (st) {
		server_attach_state(&srv, st);
		r = state_attach(st, &(struct state_env){
					 .tenants = tenants, .base = srv.base,
					 .backend = srv.backend,
					 .pool = srv.pool, .audit = srv.audit,
					 .policy = &srv.policy, .limits = srv.cfg.limits,
					 .next_serial = &srv.next_serial,
				 }, &e);
		if (r < 0) {
			log_err("restart support: %s", e.msg);
			goto out;
		}
	}

	/* Delegated contexts (OpenContext) need CAP_SYS_RESOURCE to get
	 * their RlimitMode=: a helper keeps it, the daemon does not
	 * (tenancy/ctxhelper.h). The sim hands out no contexts. */
	if (backend_kernel_dev_path(b)) {
		struct helper_privs hp = { .user = o.privs.user };

		r = ctxhelper_spawn(backend_kernel_dev_path(b), helper_drop, &hp, &ctxhelper);
		if (r < 0) {
			log_err("cannot start the context helper: %s", strerror(-r));
			goto out;
		}
		server_set_ctxhelper(&srv, ctxhelper);
		log_info("context helper started (pid %d): it alone keeps CAP_SYS_RESOURCE, "
			 "to set the RlimitMode= of delegated contexts",
			 (int)ctxhelper_pid(ctxhelper));
	}

	/* Everything privileged is done: the device, the socket, the rlimit
	 * mode, the audit log. Hold nothing more from here on. */
	if (!o.keep_privileges) {
		char why[300], have[200];

		r = privs_drop(&o.privs, why, sizeof(why));
		if (r < 0) {
			log_err("refusing to run with privileges it cannot drop: %s", why);
			goto out;
		}
		privs_describe(have, sizeof(have));
		log_info("privileges dropped%s%s: %s", o.privs.user ? ", running as " : "",
			 o.privs.user ? o.privs.user : "", have);
	} else {
		log_warn("NOTICE: --no-drop-privileges: keeping every capability");
	}
	{
		struct audit_record ar = {
			.kind = AUDIT_POLICY,
			.op = "start",
			.allowed = true,
			.reason = o.no_policy ? "--no-policy" : o.policy_dir,
		};

		(void)audit_emit(audit, &ar);
	}
	{
		struct timeval tv = { .tv_sec = 5 };
#ifdef HAVE_SYSTEMD
		uint64_t usec;

		if (sd_watchdog_enabled(0, &usec) > 0) {
			tv.tv_sec = (time_t)(usec / 2 / 1000000u);
			tv.tv_usec = (suseconds_t)(usec / 2 % 1000000u);
		}
#endif
		ev_tick = event_new(base, -1, EV_PERSIST, on_tick, &srv);
		if (!ev_tick || event_add(ev_tick, &tv) < 0) {
			log_err("cannot start the status timer");
			goto out;
		}
	}

	log_info("serving on %s (backend %s, pool of %" PRIu32 " IOAS)",
		 srv.own_socket ? o.cfg.socket_path : "the socket systemd passed",
		 backend_description(b), pool_size);
#ifdef HAVE_SYSTEMD
	(void)sd_notify(0, "READY=1");
#endif
	notify_status(&srv);
	if (event_base_dispatch(base) < 0) {
		log_err("event loop failed");
		goto out;
	}
	clean = true;
#ifdef HAVE_SYSTEMD
	(void)sd_notify(0, "STOPPING=1");
#endif
	ret = EXIT_SUCCESS;
	if (stop_keeping && st) {
		/* Nothing is released: not the tenants, not the store, not the
		 * kernel's objects. The process exit closes only our copies. */
		state_stop_keep(st);
		fflush(NULL);
		_exit(EXIT_SUCCESS);
	}
	if (stop_keeping)
		log_warn("SIGUSR2 without --state-dir: nothing can be kept; stopping cleanly");
out:
	if (started)
		server_stop(&srv);
	if (clean)
		state_stop_clean(st);
	state_free(st);
	tenants_free(tenants);
	if (ev_term)
		event_free(ev_term);
	if (ev_int)
		event_free(ev_int);
	if (ev_hup)
		event_free(ev_hup);
	if (ev_usr2)
		event_free(ev_usr2);
	if (ev_tick)
		event_free(ev_tick);
	pool_free(pool);
	ctxhelper_free(ctxhelper);
	if (base)
		event_base_free(base);
	policy_unref(policy);
	backend_close(b);
	audit_close(audit);
	return ret;
}
