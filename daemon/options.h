/* SPDX-License-Identifier: MIT */
/* ioasd's command line (options.c). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "audit/audit.h"
#include "daemon/privs.h"
#include "iommu/backend.h"
#include "tenancy/server.h"

#define DEFAULT_SOCKET "/run/ioasd/ioasd.sock"
#define DEFAULT_DEVICE "/dev/iommu"
#define DEFAULT_POLICY_DIR "/etc/ioasd/policy.d"
#define DEFAULT_POOL_SIZE 8

struct options {
	struct server_config cfg;
	enum backend_kind backend;
	const char *device;
	bool sim_no_map_file;
	int sim_thp;                 /* 1, 0, -1: the host's */
	uint64_t sim_page_size;      /* 0: the host's */
	bool sim_kernel72;           /* --sim-kernel 7.2 (issue 16's rules) */
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
	int state_sync;              /* enum state_sync */
	bool test_mock_domains;      /* --test-mock-domains (test builds) */
};

/* The defaults. */
void options_init(struct options *o);
/* Parse argv into o (over its defaults). 0, or -EINVAL after saying why on
 * stderr; exits 0 for --help and --version. */
int options_parse(int argc, char **argv, struct options *o);
