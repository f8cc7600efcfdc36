/* SPDX-License-Identifier: MIT */
/*
 * ioasctl — command-line client for ioasd, built on libioas.
 *
 * Handles live only as long as the connection, so one invocation runs one
 * command on one connection; "ioasctl batch" runs many on one connection.
 *
 * Exit status (see usage()):
 *   0  success
 *   1  the daemon refused a request (errno and its reason on stderr)
 *   2  usage error (bad command line or batch line)
 *   3  cannot connect, or the daemon refused the Hello
 *   4  connection lost or protocol error after connecting
 *   5  local failure (memfd, opening a file, reading the batch file)
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/numparse.h"
#include "ctl.h"

/* ------------------------------------------------------------ session */

int ensure_client(struct ctl *ctl)
{
	char err[256] = "";
	int r;

	if (ctl->client)
		return 0;
	if (ctl->reclaim)
		r = ioas_client_connect_reclaim(ctl->socket, ctl->name, ctl->reclaim,
						&ctl->client, err, sizeof(err));
	else
		r = ioas_client_connect(ctl->socket, ctl->name, &ctl->client, err,
					sizeof(err));
	if (r < 0) {
		fprintf(stderr, "ioasctl: %s: %s (%s)\n", ctl->socket,
			err[0] ? err : strerror(-r), errname(-r));
		if (ctl->json) {
			jopen(ctl);
			jstr(ctl, "cmd", "connect");
			jstr(ctl, "error", errname(-r));
			ju64(ctl, "errno", (uint64_t)-r);
			jstr(ctl, "message", err);
			jclose();
		}
		return EXIT_CONNECT;
	}
	if (ctl->timeout_ms)
		(void)ioas_client_set_timeout(ctl->client, ctl->timeout_ms);
	return 0;
}

/* ------------------------------------------------------------ commands */

/* A command is run by run, or, when it can also go in a batch, by its
 * kind (op: ctl_op_command() alone, batch.c in a batch). */
struct command {
	const char *name;
	int (*run)(struct ctl *ctl, int argc, char **argv);
	const char *args;
	const char *help;
	const struct ctl_op_kind *op;
};

static const struct command commands[] = {
	{ "hello", cmd_hello, "", "connect; show backend, capabilities, limits" },
	{ "ioas-alloc", NULL, "", "allocate an IOAS", &op_ioas_alloc },
	{ "ioas-destroy", NULL, "IOAS", "destroy an IOAS", &op_ioas_destroy },
	{ "iova-ranges", cmd_iova_ranges, "IOAS", "show allowed IOVA ranges and alignment" },
	{ "allow-iovas", cmd_allow_iovas, "IOAS [START-LAST...]",
	  "set the ranges automatic IOVAs come from (none: clear)" },
	{ "register", cmd_register,
	  "--size SIZE | --fd N | --file PATH [--offset OFF] [--length LEN]",
	  "register memory (--size: a new sealed memfd)" },
	{ "memfd", cmd_register, "SIZE", "create a sealed memfd and register it" },
	{ "unregister", NULL, "MEMORY", "unregister memory", &op_unregister },
	{ "map", NULL,
	  "IOAS MEMORY [--offset OFF] [--length LEN] [--iova IOVA] [--read] [--write] [--flags BITS]",
	  "map memory (--iova: fixed IOVA; default read+write)", &op_map },
	{ "unmap", NULL, "IOAS IOVA LENGTH | IOAS --all", "unmap whole mappings", &op_unmap },
	{ "unmap-all", NULL, "IOAS", "unmap everything in an IOAS", &op_unmap_all },
	{ "copy", NULL,
	  "SRC_IOAS SRC_IOVA LENGTH DST_IOAS [--iova IOVA] [--read] [--write] [--flags BITS]",
	  "map an existing mapping into another IOAS", &op_copy },
	{ "huge-pages", cmd_huge_pages, "IOAS [on|off]", "get or set IOMMU_OPTION_HUGE_PAGES" },
	{ "stats", cmd_stats, "", "the tenant's counters (and the daemon's, for admins)" },
	{ "whoami", cmd_whoami, "", "your tenant, its policy, limits and usage" },
	{ "export", NULL, "IOAS IOVA LENGTH [--write]",
	  "export a mapped range as a share; prints its handle and token", &op_export },
	{ "import", cmd_import,
	  "TOKEN IOAS [--write] [--iova IOVA] [--offset OFF] [--length LEN]",
	  "import a share into an IOAS (IOMMU_IOAS_COPY, pinned once)" },
	{ "revoke", NULL, "SHARE", "revoke a share: unmaps every import of it", &op_revoke },
	{ "shares", cmd_shares, "", "your shares, who imports them, and your imports" },
	{ "show", cmd_show, "IOAS [--width COLS] [--all] [--json]",
	  "draw an IOVA space: kernel, policy and own ranges, mappings, shares" },
	{ "attach-device", cmd_attach_device, "IOAS PATH",
	  "attach a VFIO device (/dev/vfio/devices/vfioN; sim:1234:11e8@0000:00:03.0 on sim)" },
	{ "detach-device", cmd_detach_device, "DEVICE", "detach a device" },
	{ "devices", cmd_devices, "", "your attached devices" },
	{ "exec", cmd_exec, "[--context] [--device ADDRESS]... -- PROGRAM [ARGS...]",
	  "run a VMM with a delegated iommufd context and device fds: {iommufd}\n"
	  "                  and {device:ADDRESS} in ARGS become their fd numbers" },
	{ "hw-info", cmd_hw_info, "DEVICE", "the IOMMU behind a device (IOMMU_GET_HW_INFO)" },
	{ "hwpt-alloc", cmd_hwpt_alloc,
	  "DEVICE IOAS [--nest-parent] [--dirty-tracking] [--pasid] [--fault FAULT] [--flags BITS]",
	  "allocate a paging hardware page table from an IOAS" },
	{ "hwpt-alloc-nested", cmd_hwpt_alloc_nested,
	  "DEVICE PARENT --data-type TYPE --data HEX [--viommu] [--fault FAULT]",
	  "allocate a nested HWPT from a nesting parent, or a vIOMMU (TYPE: vtd-s1, selftest, ...)" },
	{ "hwpt-destroy", cmd_hwpt_destroy, "HWPT", "destroy a hardware page table" },
	{ "hwpt-invalidate", cmd_hwpt_invalidate,
	  "HWPT --data-type TYPE --entry-len LEN --entries HEX [--viommu]",
	  "invalidate a nested HWPT's (or a vIOMMU's) caches; says how many entries the kernel did" },
	{ "device-replace", cmd_device_replace, "DEVICE --ioas IOAS | DEVICE --hwpt HWPT",
	  "move an attached device onto an IOAS or a hardware page table" },
	{ "hwpts", cmd_hwpts, "", "your hardware page tables" },
	{ "viommu-alloc", cmd_viommu_alloc, "DEVICE HWPT --type TYPE [--data HEX]",
	  "a vIOMMU on a nesting parent (TYPE: selftest, arm-smmuv3 or a number)" },
	{ "vdevice-alloc", cmd_vdevice_alloc, "VIOMMU DEVICE VIRT_ID",
	  "a device's virtual id in a vIOMMU" },
	{ "veventq-alloc", cmd_veventq_alloc, "VIOMMU --type TYPE [--depth N]",
	  "an event queue of a vIOMMU; its fd stays with this session" },
	{ "veventq-read", cmd_veventq_read, "VEVENTQ [--timeout MS]",
	  "read the events of a queue this session allocated" },
	{ "viommu-destroy", cmd_viommu_destroy, "VIOMMU", "destroy a vIOMMU" },
	{ "vdevice-destroy", cmd_vdevice_destroy, "VDEVICE", "destroy a vDEVICE" },
	{ "veventq-destroy", cmd_veventq_destroy, "VEVENTQ", "destroy a vEVENTQ" },
	{ "fault-alloc", cmd_fault_alloc, "", "allocate an I/O page fault queue (for HWPTs)" },
	{ "fault-destroy", cmd_fault_destroy, "FAULT", "destroy a fault queue" },
	{ "fault-read", cmd_fault_read, "FAULT [--timeout MS]",
	  "read one fault group from a queue allocated in this run" },
	{ "fault-respond", cmd_fault_respond, "FAULT COOKIE [--invalid]",
	  "answer a fault group (by its last fault's cookie)" },
	{ "fault-close", cmd_fault_close, "FAULT",
	  "close this run's fd of a fault queue (the kernel holds a queue while it is open)" },
	{ "hwpt-set-dirty", cmd_hwpt_set_dirty, "HWPT on|off",
	  "turn dirty tracking of an HWPT on or off" },
	{ "hwpt-get-dirty", cmd_hwpt_get_dirty,
	  "HWPT IOVA LENGTH [--memory MEM [--offset OFF]] [--page-size SIZE] [--no-clear]",
	  "read an HWPT's dirty bitmap into registered memory (default: a scratch one, printed)" },
	{ "pasid-attach", cmd_pasid_attach, "DEVICE PASID --hwpt HWPT | --ioas IOAS",
	  "attach an HWPT (or IOAS) at a PASID of a device" },
	{ "pasid-detach", cmd_pasid_detach, "DEVICE PASID", "detach a device's PASID" },
	{ "pasids", cmd_pasids, "", "your devices' attached PASIDs" },
	{ "reclaim", cmd_reclaim, "[--timeout MS]",
	  "in a batch: wait for the daemon to go, then reclaim the tenant from the\n"
	  "                  new one; $variables and vEVENTQ fds are kept" },
	{ "notifications", cmd_notifications, "", "show notifications received (revoked imports)" },
	{ "demo", cmd_demo, "[--size SIZE]", "walk through every operation on one connection" },
	{ "batch", cmd_batch, "[--atomic|--stop-on-error|--no-batch] [FILE|-]",
	  "run commands, one per line, on one connection, in Batch requests" },
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	if (!strcmp(name, "destroy"))
		return find_command("ioas-destroy");
	if (!strcmp(name, "alloc"))
		return find_command("ioas-alloc");
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: ioasctl [OPTIONS] COMMAND [ARGS...]\n"
		"\n"
		"Talk to ioasd, the IOMMU address space broker. Handles (IOAS, memory)\n"
		"live as long as the connection: one invocation is one connection, so\n"
		"use 'batch' to run several commands on the same handles.\n"
		"\n"
		"Options:\n"
		"  -s, --socket PATH   daemon socket (default $IOASD_SOCKET or %s)\n"
		"  -j, --json          one JSON object per line on stdout\n"
		"  -k, --keep-going    batch: go on after a failed command\n"
		"  -t, --timeout MS    give up on a reply after MS milliseconds\n"
		"  -r, --reclaim TOKEN after a daemon restart: reclaim the tenant's\n"
		"                      objects with the token 'hello' showed before\n"
		"  -n, --name NAME     the client name the daemon logs (default ioasctl)\n"
		"  -h, --help          this text\n"
		"\n"
		"Commands:\n",
		IOAS_DEFAULT_SOCKET);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-13s %s\n%-18s%s\n", commands[i].name,
			commands[i].args, "", commands[i].help);
	fprintf(f,
		"\n"
		"Numbers are decimal or 0x-hex; sizes take K, M, G, T suffixes (2M).\n"
		"In a batch, $ioas, $mem and $iova stand for the last IOAS allocated,\n"
		"memory registered and IOVA mapped, $share and $token for the last\n"
		"share exported, $device for the last device attached, $hwpt and\n"
		"$viommu for the last hardware page table and vIOMMU allocated; '#'\n"
		"starts a comment.\n"
		"\n"
		"Exit status:\n"
		"  0  success\n"
		"  1  the daemon refused a request (errno and reason on stderr)\n"
		"  2  usage error\n"
		"  3  cannot connect, or the daemon refused the connection\n"
		"  4  connection lost or protocol error\n"
		"  5  local failure (memfd, file, batch input)\n");
}

int run_command(struct ctl *ctl, int argc, char **argv)
{
	const struct command *cmd = find_command(argv[0]);

	if (!cmd)
		return usage_error(ctl, NULL, "unknown command '%s'", argv[0]);
	if (cmd->op)
		return ctl_op_command(ctl, cmd->op, argc, argv);
	return cmd->run(ctl, argc, argv);
}

const struct ctl_op_kind *batchable_command(const char *name)
{
	const struct command *cmd = find_command(name);

	return cmd ? cmd->op : NULL;
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "keep-going", no_argument, NULL, 'k' },
		{ "timeout", required_argument, NULL, 't' },
		{ "reclaim", required_argument, NULL, 'r' },
		{ "name", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct ctl ctl = { 0 };
	const char *env;
	uint64_t v;
	int c, r;

	env = getenv("IOASD_SOCKET");
	ctl.socket = env && *env ? env : IOAS_DEFAULT_SOCKET;
	ctl.name = "ioasctl";

	while ((c = getopt_long(argc, argv, "+s:jkt:r:n:h", long_opts, NULL)) != -1) {
		switch (c) {
		case 's':
			ctl.socket = optarg;
			break;
		case 'j':
			ctl.json = true;
			break;
		case 'k':
			ctl.keep_going = true;
			break;
		case 't':
			if (numparse_u64(optarg, &v) < 0 || v > UINT_MAX)
				return usage_error(&ctl, NULL,
						   "invalid timeout '%s'",
						   optarg);
			ctl.timeout_ms = (unsigned int)v;
			break;
		case 'r':
			ctl.reclaim = optarg;
			break;
		case 'n':
			ctl.name = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[optind], "help")) {
		usage(stdout);
		return EXIT_OK;
	}

	r = run_command(&ctl, argc - optind, argv + optind);
	ctl_veventqs_close(&ctl);
	ctl_faults_close(&ctl);
	ioas_client_free(ctl.client);
	return r;
}
