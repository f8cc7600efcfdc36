/* SPDX-License-Identifier: MIT */
/* ioasd: command line, backend selection, event loop, signals. */
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "backend.h"
#include "log.h"
#include "server.h"
#include "util.h"

#define DEFAULT_SOCKET "/run/ioasd/ioasd.sock"
#define DEFAULT_DEVICE "/dev/iommu"

struct options {
	struct server_config cfg;
	enum backend_kind backend;
	const char *device;
	bool sim_no_map_file;
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
		"  --max-connections N        daemon-wide connection limit (default 256)\n"
		"  --max-connections-per-uid N  (default 64)\n"
		"  --max-ioas N               per connection (default 64)\n"
		"  --max-memory-regions N     per connection (default 256)\n"
		"  --max-mappings N           per connection (default 65536)\n"
		"  --max-region-size SIZE     largest memory region (default 64G)\n"
		"  --max-pinned-bytes SIZE    per connection (default 16G)\n"
		"  -v, --verbose              log each refusal (debug level)\n"
		"  -h, --help                 this text\n"
		"  -V, --version              print the version\n"
		"SIZE takes K, M, G, T suffixes (powers of 1024).\n");
}

/* Parse "123", "0x1000", "2M", "64G". */
static int parse_size(const char *s, uint64_t *ret)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		return -EINVAL;
	switch (*end) {
	case 'K': case 'k': shift = 10; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	case 'T': case 't': shift = 40; end++; break;
	case '\0': break;
	default: return -EINVAL;
	}
	if (*end)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*ret = (uint64_t)v << shift;
	return 0;
}

static int parse_u32(const char *s, uint32_t *ret)
{
	uint64_t v;

	if (parse_size(s, &v) < 0 || v > UINT32_MAX)
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

enum {
	OPT_SOCKET = 256, OPT_SOCKET_MODE, OPT_BACKEND, OPT_DEVICE,
	OPT_SIM_NO_MAP_FILE, OPT_MAX_CONN, OPT_MAX_CONN_UID, OPT_MAX_IOAS,
	OPT_MAX_MEM, OPT_MAX_MAPPINGS, OPT_MAX_REGION, OPT_MAX_PINNED,
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
	return 0;
}

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	struct event_base *base = arg;

	log_info("%s received, shutting down", strsignal((int)sig));
	event_base_loopexit(base, NULL);
}

static void on_hup(evutil_socket_t sig, short what, void *arg)
{
	log_info("SIGHUP received: nothing to reload (no policy configured)");
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
			.max_connections = 256,
			.max_connections_per_uid = 64,
			.max_outq_bytes = 1u << 20,
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
	};
	struct event *ev_term = NULL, *ev_int = NULL, *ev_hup = NULL;
	struct event_base *base = NULL;
	struct backend *b = NULL;
	struct server srv = { .listen_fd = -1 };
	bool started = false;
	int r, ret = EXIT_FAILURE;

	if (parse_args(argc, argv, &o) < 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);

	r = open_backend(&o, &b);
	if (r < 0)
		goto out;
	base = event_base_new();
	if (!base) {
		log_err("cannot create the event loop");
		goto out;
	}
	r = server_start(&srv, base, b, &o.cfg, -1);
	if (r < 0) {
		log_err("cannot listen on %s: %s", o.cfg.socket_path, strerror(-r));
		goto out;
	}
	started = true;
	ev_term = evsignal_new(base, SIGTERM, on_stop_signal, base);
	ev_int = evsignal_new(base, SIGINT, on_stop_signal, base);
	ev_hup = evsignal_new(base, SIGHUP, on_hup, base);
	if (!ev_term || !ev_int || !ev_hup) {
		log_err("cannot install signal handlers");
		goto out;
	}
	event_add(ev_term, NULL);
	event_add(ev_int, NULL);
	event_add(ev_hup, NULL);

	log_info("serving on %s (backend %s)", o.cfg.socket_path, backend_name(b));
#ifdef HAVE_SYSTEMD
	(void)sd_notifyf(0, "READY=1\nSTATUS=serving on %s (backend %s)",
			 o.cfg.socket_path, backend_name(b));
#endif
	if (event_base_dispatch(base) < 0) {
		log_err("event loop failed");
		goto out;
	}
#ifdef HAVE_SYSTEMD
	(void)sd_notify(0, "STOPPING=1");
#endif
	ret = EXIT_SUCCESS;
out:
	if (started)
		server_stop(&srv);
	if (ev_term)
		event_free(ev_term);
	if (ev_int)
		event_free(ev_int);
	if (ev_hup)
		event_free(ev_hup);
	if (base)
		event_base_free(base);
	backend_close(b);
	return ret;
}
