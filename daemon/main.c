/* SPDX-License-Identifier: MIT */
/* ioasd: command line, backend selection, event loop, signals. */
#include <ctype.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <getopt.h>
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
#include <time.h>
#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "common/numparse.h"
#include "audit/audit.h"
#include "iommu/backend.h"
#include "common/log.h"
#include "policy/policy.h"
#include "tenant/pool.h"
#include "daemon/privs.h"
#include "tenancy/server.h"
#include "persist/state.h"
#include "iommu/backend-kernel.h"
#include "persist/fdstore.h"
#include "tenant/tenant.h"
#include "common/util.h"

#define DEFAULT_SOCKET "/run/ioasd/ioasd.sock"
#define DEFAULT_DEVICE "/dev/iommu"
#define DEFAULT_POLICY_DIR "/etc/ioasd/policy.d"
#define DEFAULT_POOL_SIZE 8

struct options {
	struct server_config cfg;
	enum backend_kind backend;
	const char *device;
	bool sim_no_map_file;
	const char *policy_dir;
	bool no_policy;
	bool check_policy;
	const char *audit_log;       /* NULL: from [daemon] AuditLog= or none */
	int audit_failure;           /* -1: from policy, else enum audit_failure_mode */
	int64_t audit_rate_interval; /* -1: from policy or the default */
	int64_t audit_rate_burst;    /* -1: from policy or the default */
	bool no_journal;
	int64_t pool_size;           /* -1: from policy or DEFAULT_POOL_SIZE */
	int rlimit_mode;             /* -1: leave the kernel's default */
	struct privs_config privs;
	bool keep_privileges;        /* --no-drop-privileges (debugging only) */
	const char *state_dir;       /* restart support; NULL: off */
	uint32_t restart_grace;      /* seconds */
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: ioasd [OPTIONS]\n"
		"Broker IOMMU address spaces (Linux iommufd) to unprivileged clients.\n\n"
		"  --socket PATH              listening socket (default " DEFAULT_SOCKET ")\n"
		"  --socket-mode MODE         socket file mode, octal (default 0666)\n"
		"  --backend auto|kernel|sim  iommufd implementation (default auto: kernel\n"
		"                             when the device opens, else sim with a notice)\n"
		"  --device PATH              iommufd device (default " DEFAULT_DEVICE ")\n"
		"  --sim-no-map-file          sim: behave like a kernel without\n"
		"                             IOMMU_IOAS_MAP_FILE (mmap + IOMMU_IOAS_MAP path)\n"
		"Limits (daemon-wide, or per connection with --no-policy):\n"
		"  --max-connections N        daemon-wide connection limit (default 256)\n"
		"  --max-connections-per-uid N  (default 64)\n"
		"  --max-ioas N               per connection (default 64)\n"
		"  --max-memory-regions N     per connection (default 256)\n"
		"  --max-mappings N           per connection (default 65536)\n"
		"  --max-region-size SIZE     largest memory region (default 64G)\n"
		"  --max-pinned-bytes SIZE    per connection (default 16G)\n"
		"  --slow-client-timeout SEC  drop a client that leaves 1 MiB of replies\n"
		"                             unread for SEC seconds (default 10)\n"
		"  --hello-timeout SEC        drop a client that has not sent Hello SEC\n"
		"                             seconds after connecting (default 5)\n"
		"  --policy-dir DIR           tenant policy files (default " DEFAULT_POLICY_DIR ")\n"
		"  --no-policy                development mode: every connection is its own\n"
		"                             tenant with the --max-* limits below\n"
		"  --check-policy             validate the policy, print the effective policy\n"
		"                             of every tenant, and exit (1 on errors)\n"
		"  --audit-log PATH           append one JSON line per decision to PATH\n"
		"  --audit-failure refuse|continue  refuse operations while the audit trail\n"
		"                             cannot be written (default continue)\n"
		"  --audit-rate-interval SEC  --audit-rate-burst N  at most N refusals per\n"
		"                             tenant (per uid for peers without one) are\n"
		"                             audited in SEC seconds, the rest summed up in\n"
		"                             one record (default 200 per 10 s; 0: no limit)\n"
		"  --no-journal               do not send audit records to the journal\n"
		"  --pool-size N              pre-allocated IOASes (default 8)\n"
		"  --state-dir DIR            restart support: keep the contexts, memory and\n"
		"                             device fds (systemd's fd store, else an fd holder)\n"
		"                             and the tables in DIR (0700, best on tmpfs), so a\n"
		"                             killed daemon, or one stopped with SIGUSR2, comes\n"
		"                             back with every mapping and device (default: off)\n"
		"  --restart-grace SEC        release restored tenants nobody reclaimed after\n"
		"                             SEC seconds (default 60)\n"
		"  --rlimit-mode user|process IOMMU_OPTION_RLIMIT_MODE of the daemon's context\n"
		"  --socket-group GROUP       group of the socket file (with --socket-mode 0660)\n"
		"  --user USER                run as USER after opening the device and socket\n"
		"  --keep-ipc-lock            keep CAP_IPC_LOCK (pins then escape RLIMIT_MEMLOCK)\n"
		"  --no-drop-privileges       keep every capability (debugging only)\n"
		"  -v, --verbose              log each refusal (debug level)\n"
		"  -h, --help                 this text\n"
		"  -V, --version              print the version\n"
		"SIZE takes K, M, G, T suffixes (powers of 1024).\n");
}

/* The one grammar of numbers and sizes (common/numparse.h). */
static int parse_size(const char *s, uint64_t *ret)
{
	return numparse_size(s, ret);
}

static int parse_u32(const char *s, uint32_t *ret)
{
	return numparse_u32(s, ret);
}

enum {
	OPT_SOCKET = 256, OPT_SOCKET_MODE, OPT_BACKEND, OPT_DEVICE,
	OPT_SIM_NO_MAP_FILE, OPT_MAX_CONN, OPT_MAX_CONN_UID, OPT_MAX_IOAS,
	OPT_MAX_MEM, OPT_MAX_MAPPINGS, OPT_MAX_REGION, OPT_MAX_PINNED,
	OPT_POLICY_DIR, OPT_NO_POLICY, OPT_CHECK_POLICY, OPT_AUDIT_LOG,
	OPT_AUDIT_FAILURE, OPT_NO_JOURNAL, OPT_POOL_SIZE, OPT_RLIMIT_MODE,
	OPT_SOCKET_GROUP, OPT_USER, OPT_KEEP_IPC_LOCK, OPT_NO_DROP,
	OPT_SLOW_CLIENT, OPT_HELLO_TIMEOUT, OPT_TEST_MOCK_DOMAINS, OPT_STATE_DIR, OPT_RESTART_GRACE,
	OPT_AUDIT_RATE_INTERVAL, OPT_AUDIT_RATE_BURST,
};

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "socket-mode", required_argument, NULL, OPT_SOCKET_MODE },
		{ "backend", required_argument, NULL, OPT_BACKEND },
		{ "device", required_argument, NULL, OPT_DEVICE },
		{ "sim-no-map-file", no_argument, NULL, OPT_SIM_NO_MAP_FILE },
		{ "max-connections", required_argument, NULL, OPT_MAX_CONN },
		{ "max-connections-per-uid", required_argument, NULL, OPT_MAX_CONN_UID },
		{ "max-ioas", required_argument, NULL, OPT_MAX_IOAS },
		{ "max-memory-regions", required_argument, NULL, OPT_MAX_MEM },
		{ "max-mappings", required_argument, NULL, OPT_MAX_MAPPINGS },
		{ "max-region-size", required_argument, NULL, OPT_MAX_REGION },
		{ "max-pinned-bytes", required_argument, NULL, OPT_MAX_PINNED },
		{ "policy-dir", required_argument, NULL, OPT_POLICY_DIR },
		{ "no-policy", no_argument, NULL, OPT_NO_POLICY },
		{ "check-policy", no_argument, NULL, OPT_CHECK_POLICY },
		{ "audit-log", required_argument, NULL, OPT_AUDIT_LOG },
		{ "audit-failure", required_argument, NULL, OPT_AUDIT_FAILURE },
		{ "no-journal", no_argument, NULL, OPT_NO_JOURNAL },
		{ "audit-rate-interval", required_argument, NULL, OPT_AUDIT_RATE_INTERVAL },
		{ "audit-rate-burst", required_argument, NULL, OPT_AUDIT_RATE_BURST },
		{ "pool-size", required_argument, NULL, OPT_POOL_SIZE },
		{ "rlimit-mode", required_argument, NULL, OPT_RLIMIT_MODE },
		{ "socket-group", required_argument, NULL, OPT_SOCKET_GROUP },
		{ "slow-client-timeout", required_argument, NULL, OPT_SLOW_CLIENT },
		{ "hello-timeout", required_argument, NULL, OPT_HELLO_TIMEOUT },
		{ "test-mock-domains", no_argument, NULL, OPT_TEST_MOCK_DOMAINS },
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		{ "restart-grace", required_argument, NULL, OPT_RESTART_GRACE },
		{ "user", required_argument, NULL, OPT_USER },
		{ "keep-ipc-lock", no_argument, NULL, OPT_KEEP_IPC_LOCK },
		{ "no-drop-privileges", no_argument, NULL, OPT_NO_DROP },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "vhV", longopts, NULL)) != -1) {
		uint32_t u;
		uint64_t v;
		char *end;

		switch (c) {
		case OPT_SOCKET:
			o->cfg.socket_path = optarg;
			break;
		case OPT_SOCKET_MODE:
			errno = 0;
			v = strtoul(optarg, &end, 8);
			if (errno || *end || end == optarg || v > 07777) {
				fprintf(stderr, "ioasd: --socket-mode: '%s' is not an octal mode\n", optarg);
				return -EINVAL;
			}
			o->cfg.socket_mode = (mode_t)v;
			break;
		case OPT_BACKEND:
			if (!strcmp(optarg, "auto"))
				o->backend = BACKEND_AUTO;
			else if (!strcmp(optarg, "kernel"))
				o->backend = BACKEND_KERNEL;
			else if (!strcmp(optarg, "sim"))
				o->backend = BACKEND_SIM;
			else {
				fprintf(stderr, "ioasd: --backend: '%s' is not auto, kernel or sim\n", optarg);
				return -EINVAL;
			}
			break;
		case OPT_DEVICE:
			o->device = optarg;
			break;
		case OPT_SIM_NO_MAP_FILE:
			o->sim_no_map_file = true;
			break;
		case OPT_MAX_CONN:
		case OPT_MAX_CONN_UID:
		case OPT_MAX_IOAS:
		case OPT_MAX_MEM:
		case OPT_MAX_MAPPINGS:
			if (parse_u32(optarg, &u) < 0 || u == 0) {
				fprintf(stderr, "ioasd: '%s' is not a positive 32-bit number\n", optarg);
				return -EINVAL;
			}
			if (c == OPT_MAX_CONN)
				o->cfg.max_connections = u;
			else if (c == OPT_MAX_CONN_UID)
				o->cfg.max_connections_per_uid = u;
			else if (c == OPT_MAX_IOAS)
				o->cfg.limits.max_ioas = u;
			else if (c == OPT_MAX_MEM)
				o->cfg.limits.max_memory_regions = u;
			else
				o->cfg.limits.max_mappings = u;
			break;
		case OPT_MAX_REGION:
		case OPT_MAX_PINNED:
			if (parse_size(optarg, &v) < 0) {
				fprintf(stderr, "ioasd: '%s' is not a size\n", optarg);
				return -EINVAL;
			}
			if (c == OPT_MAX_REGION)
				o->cfg.limits.max_region_size = v;
			else
				o->cfg.limits.max_pinned_bytes = v;
			break;
		case OPT_POLICY_DIR:
			o->policy_dir = optarg;
			break;
		case OPT_NO_POLICY:
			o->no_policy = true;
			break;
		case OPT_CHECK_POLICY:
			o->check_policy = true;
			break;
		case OPT_AUDIT_LOG:
			o->audit_log = optarg;
			break;
		case OPT_AUDIT_FAILURE:
			if (!strcmp(optarg, "refuse"))
				o->audit_failure = AUDIT_FAILURE_REFUSE;
			else if (!strcmp(optarg, "continue"))
				o->audit_failure = AUDIT_FAILURE_CONTINUE;
			else {
				fprintf(stderr, "ioasd: --audit-failure: '%s' is not refuse or continue\n", optarg);
				return -EINVAL;
			}
			break;
		case OPT_NO_JOURNAL:
			o->no_journal = true;
			break;
		case OPT_AUDIT_RATE_INTERVAL:
			if (parse_u32(optarg, &u) < 0 || u > POLICY_MAX_AUDIT_RATE_INTERVAL) {
				fprintf(stderr, "ioasd: --audit-rate-interval: '%s' is not 0..%u seconds\n",
					optarg, POLICY_MAX_AUDIT_RATE_INTERVAL);
				return -EINVAL;
			}
			o->audit_rate_interval = u;
			break;
		case OPT_AUDIT_RATE_BURST:
			if (parse_u32(optarg, &u) < 0 || u > POLICY_MAX_AUDIT_RATE_BURST) {
				fprintf(stderr, "ioasd: --audit-rate-burst: '%s' is not 0..%u\n",
					optarg, POLICY_MAX_AUDIT_RATE_BURST);
				return -EINVAL;
			}
			o->audit_rate_burst = u;
			break;
		case OPT_POOL_SIZE:
			if (parse_u32(optarg, &u) < 0 || u > POLICY_MAX_POOL_SIZE) {
				fprintf(stderr, "ioasd: --pool-size: '%s' is not 0..%u\n", optarg, POLICY_MAX_POOL_SIZE);
				return -EINVAL;
			}
			o->pool_size = u;
			break;
		case OPT_RLIMIT_MODE:
			if (!strcmp(optarg, "user"))
				o->rlimit_mode = POLICY_RLIMIT_USER;
			else if (!strcmp(optarg, "process"))
				o->rlimit_mode = POLICY_RLIMIT_PROCESS;
			else {
				fprintf(stderr, "ioasd: --rlimit-mode: '%s' is not user or process\n", optarg);
				return -EINVAL;
			}
			break;
		case OPT_SOCKET_GROUP: {
			struct group *g = getgrnam(optarg);

			if (!g) {
				fprintf(stderr, "ioasd: --socket-group: no group '%s'\n", optarg);
				return -EINVAL;
			}
			o->cfg.socket_gid = g->gr_gid;
			break;
		}
		case OPT_USER:
			o->privs.user = optarg;
			break;
		case OPT_TEST_MOCK_DOMAINS:
#ifdef IOASD_TEST_HOOKS
			tenant_set_test_mock_domains(true);
			break;
#else
			fprintf(stderr, "ioasd: --test-mock-domains: this build has no test hooks "
				"(configure --enable-test-hooks)\n");
			return -EINVAL;
#endif
		case OPT_SLOW_CLIENT:
			if (parse_u32(optarg, &u) < 0 || u == 0 || u > 3600) {
				fprintf(stderr, "ioasd: --slow-client-timeout: '%s' is not 1..3600 seconds\n", optarg);
				return -EINVAL;
			}
			o->cfg.slow_client_sec = u;
			break;
		case OPT_HELLO_TIMEOUT:
			if (parse_u32(optarg, &u) < 0 || u == 0 || u > 3600) {
				fprintf(stderr, "ioasd: --hello-timeout: '%s' is not 1..3600 seconds\n", optarg);
				return -EINVAL;
			}
			o->cfg.hello_timeout_sec = u;
			break;
		case OPT_STATE_DIR:
			if (optarg[0] != '/') {
				fprintf(stderr, "ioasd: --state-dir: '%s' is not an absolute path\n", optarg);
				return -EINVAL;
			}
			o->state_dir = optarg;
			break;
		case OPT_RESTART_GRACE:
			if (parse_u32(optarg, &u) < 0 || u == 0 || u > 86400) {
				fprintf(stderr, "ioasd: --restart-grace: '%s' is not 1..86400 seconds\n", optarg);
				return -EINVAL;
			}
			o->restart_grace = u;
			break;
		case OPT_KEEP_IPC_LOCK:
			o->privs.keep_ipc_lock = true;
			break;
		case OPT_NO_DROP:
			o->keep_privileges = true;
			break;
		case 'v':
			log_set_level(LOG_DEBUG);
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_SUCCESS);
		case 'V':
			printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			exit(EXIT_SUCCESS);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ioasd: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (o->no_policy && (o->policy_dir || o->check_policy)) {
		fprintf(stderr, "ioasd: --no-policy cannot be combined with --policy-dir or --check-policy\n");
		return -EINVAL;
	}
	return 0;
}

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

	tenant_get_totals(&t);
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
	state_commit(); /* the pool refills between requests */
	audit_tick(srv->audit); /* rate-limit windows that closed: sum them up */
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

static int open_backend(const struct options *o, struct backend **ret)
{
	int r;

	if (o->backend != BACKEND_SIM) {
		r = backend_kernel_open(o->device, ret);
		if (r >= 0) {
			log_info("kernel backend on %s (IOMMU_IOAS_MAP_FILE %s)",
				 o->device,
				 (*ret)->has_map_file ? "available" : "absent: using mmap + IOMMU_IOAS_MAP");
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
	r = backend_sim_open(ret);
	if (r < 0) {
		log_err("cannot start the sim backend: %s", strerror(-r));
		return r;
	}
	if (o->sim_no_map_file)
		backend_sim_set_map_file(*ret, false);
	log_info("sim backend (IOMMU_IOAS_MAP_FILE %s)",
		 (*ret)->has_map_file ? "modelled" : "not modelled: mmap + IOMMU_IOAS_MAP path");
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = {
		.cfg = {
			.socket_path = DEFAULT_SOCKET,
			.socket_mode = 0666,
			.socket_gid = (gid_t)-1,
			.max_connections = 256,
			.max_connections_per_uid = 64,
			.max_outq_bytes = 1u << 20,
			.slow_client_sec = 10,
			.hello_timeout_sec = 5,
			.limits = {
				.max_ioas = 64,
				.max_memory_regions = 256,
				.max_mappings = 65536,
				.max_region_size = 64ull << 30,
				.max_pinned_bytes = 16ull << 30,
			},
		},
		.backend = BACKEND_AUTO,
		.device = DEFAULT_DEVICE,
		.audit_failure = -1,
		.audit_rate_interval = -1,
		.audit_rate_burst = -1,
		.pool_size = -1,
		.rlimit_mode = -1,
		.restart_grace = 60,
	};
	struct event *ev_term = NULL, *ev_int = NULL, *ev_hup = NULL, *ev_tick = NULL;
	struct event *ev_usr2 = NULL;
	int listen_fd;
	struct event_base *base = NULL;
	struct backend *b = NULL;
	struct policy *policy = NULL;
	struct audit *audit = NULL;
	struct pool *pool = NULL;
	struct server srv = { .listen_fd = -1 };
	const struct policy_daemon *pd = NULL;
	const char *audit_log;
	enum audit_failure_mode audit_mode;
	uint32_t pool_size;
	bool started = false, clean = false, adopted = false;
	struct state *st = NULL;
	struct err e = { 0 };
	int r, ret = EXIT_FAILURE;

	if (parse_args(argc, argv, &o) < 0)
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
					 "(IOMMU_IOAS_MAP_FILE %s)",
					 b->has_map_file ? "available" : "absent");
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
	r = server_start(&srv, base, b, &o.cfg, listen_fd, TAKE_PTR(policy), audit, pool);
	if (r < 0) {
		srv.policy = policy_unref(srv.policy);
		log_err("cannot listen on %s: %s", o.cfg.socket_path, strerror(-r));
		goto out;
	}
	started = true;
	if (listen_fd >= 0)
		log_info("socket-activated: serving the socket systemd passed");
	if (st) {
		r = state_attach(st, &(struct state_env){
					 .base = srv.base, .backend = srv.backend,
					 .pool = srv.pool, .audit = srv.audit,
					 .policy = &srv.policy, .limits = srv.cfg.limits,
					 .next_serial = &srv.next_serial,
				 }, &e);
		if (r < 0) {
			log_err("restart support: %s", e.msg);
			goto out;
		}
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
		 backend_name(b), pool_size);
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
	if (base)
		event_base_free(base);
	policy_unref(policy);
	backend_close(b);
	audit_close(audit);
	return ret;
}
