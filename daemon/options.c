/* SPDX-License-Identifier: MIT */
/* ioasd's command line: the options, their defaults, --help, and parsing. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "common/numparse.h"
#include "daemon/options.h"
#include "persist/state.h"
#include "policy/policy.h"

void options_init(struct options *o)
{
	*o = (struct options){
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
		.sim_thp = -1,
		.audit_failure = -1,
		.audit_rate_interval = -1,
		.audit_rate_burst = -1,
		.pool_size = -1,
		.rlimit_mode = -1,
		.restart_grace = 60,
		.state_sync = STATE_SYNC_AUTO,
	};
}

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
		"  --sim-thp auto|yes|no      sim: model a kernel built with transparent huge\n"
		"                             pages (automatic IOVAs aligned up to HPAGE_SIZE)\n"
		"                             or without (up to PAGE_SIZE); default auto: as\n"
		"                             this host's kernel (/sys/kernel/mm/transparent_hugepage)\n"
		"  --sim-page-size auto|SIZE  sim: the modelled PAGE_SIZE, 4K to 64K (default\n"
		"                             auto: this host's)\n"
		"  --sim-kernel 6.12|7.2      sim: whose iommufd rules where they differ (fault\n"
		"                             queues on paging HWPTs, PASID attach; default 6.12)\n"
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
		"  --state-sync auto|yes|no   fsync the state database at each commit; no: a\n"
		"                             change survives the daemon's death but not the\n"
		"                             machine's (nor does the DMA it describes); auto\n"
		"                             (default): no on tmpfs and ramfs, yes elsewhere\n"
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
	OPT_SIM_NO_MAP_FILE, OPT_SIM_THP, OPT_SIM_PAGE_SIZE, OPT_SIM_KERNEL, OPT_MAX_CONN, OPT_MAX_CONN_UID, OPT_MAX_IOAS,
	OPT_MAX_MEM, OPT_MAX_MAPPINGS, OPT_MAX_REGION, OPT_MAX_PINNED,
	OPT_POLICY_DIR, OPT_NO_POLICY, OPT_CHECK_POLICY, OPT_AUDIT_LOG,
	OPT_AUDIT_FAILURE, OPT_NO_JOURNAL, OPT_POOL_SIZE, OPT_RLIMIT_MODE,
	OPT_SOCKET_GROUP, OPT_USER, OPT_KEEP_IPC_LOCK, OPT_NO_DROP,
	OPT_SLOW_CLIENT, OPT_HELLO_TIMEOUT, OPT_TEST_MOCK_DOMAINS, OPT_STATE_DIR, OPT_RESTART_GRACE, OPT_STATE_SYNC,
	OPT_AUDIT_RATE_INTERVAL, OPT_AUDIT_RATE_BURST,
};

int options_parse(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "socket-mode", required_argument, NULL, OPT_SOCKET_MODE },
		{ "backend", required_argument, NULL, OPT_BACKEND },
		{ "device", required_argument, NULL, OPT_DEVICE },
		{ "sim-no-map-file", no_argument, NULL, OPT_SIM_NO_MAP_FILE },
		{ "sim-thp", required_argument, NULL, OPT_SIM_THP },
		{ "sim-page-size", required_argument, NULL, OPT_SIM_PAGE_SIZE },
		{ "sim-kernel", required_argument, NULL, OPT_SIM_KERNEL },
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
		{ "state-sync", required_argument, NULL, OPT_STATE_SYNC },
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
		case OPT_SIM_THP:
			if (!strcmp(optarg, "auto"))
				o->sim_thp = -1;
			else if (!strcmp(optarg, "yes"))
				o->sim_thp = 1;
			else if (!strcmp(optarg, "no"))
				o->sim_thp = 0;
			else {
				fprintf(stderr, "ioasd: --sim-thp: '%s' is not auto, yes or no\n", optarg);
				return -EINVAL;
			}
			break;
		case OPT_SIM_KERNEL:
			if (strcmp(optarg, "6.12") && strcmp(optarg, "7.2")) {
				fprintf(stderr, "ioasd: --sim-kernel: '%s' is not 6.12 or 7.2\n",
					optarg);
				return -EINVAL;
			}
			o->sim_kernel72 = !strcmp(optarg, "7.2");
			break;
		case OPT_SIM_PAGE_SIZE: {
			struct backend_model m;

			if (!strcmp(optarg, "auto")) {
				o->sim_page_size = 0;
				break;
			}
			if (parse_size(optarg, &v) < 0 || v == 0 ||
			    backend_model_init(&m, 0, v) < 0) {
				fprintf(stderr, "ioasd: --sim-page-size: '%s' is not auto or a power "
					"of two from 4K to 64K\n", optarg);
				return -EINVAL;
			}
			o->sim_page_size = v;
			break;
		}
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
			o->test_mock_domains = true;
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
		case OPT_STATE_SYNC:
			if (!strcmp(optarg, "auto"))
				o->state_sync = STATE_SYNC_AUTO;
			else if (!strcmp(optarg, "yes"))
				o->state_sync = STATE_SYNC_YES;
			else if (!strcmp(optarg, "no"))
				o->state_sync = STATE_SYNC_NO;
			else {
				fprintf(stderr, "ioasd: --state-sync: '%s' is not auto, yes or no\n",
					optarg);
				return -EINVAL;
			}
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
