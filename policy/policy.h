/* SPDX-License-Identifier: MIT */
/*
 * Tenant policy: which peers are which tenant, and what each tenant may do.
 *
 * Policy files (INI, parsed with inih) are read into a fresh struct policy
 * that is immutable once loaded and reference counted: a reload builds a
 * new object and swaps it in whole. A peer is matched once, at connect; its
 * tenant holds a reference to the tenant entry it was resolved with, and a
 * reload rebinds each live tenant to the entry of the same name in the new
 * policy (or orphans it when there is none) -- peers are not matched again.
 * A file that fails to parse produces no object at all.
 *
 * Every error names "FILE:LINE"; the first one goes into struct err and a
 * loader also keeps all of them (ioasd --check-policy prints every one).
 *
 * Library code: nothing here logs. See policy/README.md for the file format.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "common/util.h"

/* Defaults for keys a [tenant] section leaves out (documented in README). */
#define POLICY_DEFAULT_MAX_IOAS            16u
#define POLICY_DEFAULT_MAX_PINNED_BYTES    (UINT64_C(1) << 30)
#define POLICY_DEFAULT_MAX_MAPPINGS        4096u
#define POLICY_DEFAULT_MAX_MEMORY_REGIONS  64u
#define POLICY_DEFAULT_MAX_CONNECTIONS     16u
#define POLICY_DEFAULT_LEASE_SEC           0u
#define POLICY_DEFAULT_MAX_HWPTS           16u
#define POLICY_MAX_PASID_RANGES            16u
#define POLICY_PASID_LAST                  0xfffffu /* 20-bit PCI PASIDs */

/* Upper bounds of the numeric keys (anything above is "out of range"). */
#define POLICY_MAX_COUNT      UINT32_MAX      /* MaxIOAS, MaxMappings, ... */
#define POLICY_MAX_LEASE_SEC  (366u * 86400u) /* a year */
#define POLICY_MAX_POOL_SIZE  4096u
#define POLICY_MAX_AUDIT_RATE_INTERVAL 3600u     /* seconds */
#define POLICY_MAX_AUDIT_RATE_BURST    1000000u

/* Names are [a-zA-Z0-9_.@-]+, at most this long. */
#define POLICY_NAME_MAX 64

enum policy_access {
	POLICY_ACCESS_READ = 0,      /* maps are read-only for the device */
	POLICY_ACCESS_READWRITE = 1,
};

/* Same values as IOMMU_OPTION_RLIMIT_MODE. */
enum policy_rlimit_mode {
	POLICY_RLIMIT_USER = 0,
	POLICY_RLIMIT_PROCESS = 1,
};

enum policy_audit_failure {
	POLICY_AUDIT_FAILURE_CONTINUE = 0,
	POLICY_AUDIT_FAILURE_REFUSE = 1,
};

/* Every key of a [tenant] section; indexes policy_tenant.key_line[]. */
enum policy_key {
	POLICY_KEY_MATCH_USER,
	POLICY_KEY_MATCH_GROUP,
	POLICY_KEY_MATCH_UNIT,
	POLICY_KEY_MATCH_CGROUP,
	POLICY_KEY_MAX_IOAS,
	POLICY_KEY_MAX_PINNED_BYTES,
	POLICY_KEY_MAX_MAPPINGS,
	POLICY_KEY_MAX_MEMORY_REGIONS,
	POLICY_KEY_MAX_CONNECTIONS,
	POLICY_KEY_ALLOWED_IOVA,
	POLICY_KEY_HUGE_PAGES,
	POLICY_KEY_ACCESS,
	POLICY_KEY_RLIMIT_MODE,
	POLICY_KEY_EXPORT_TO,
	POLICY_KEY_IMPORT_FROM,
	POLICY_KEY_SHARE_WRITE,
	POLICY_KEY_ALLOW_DEVICE,
	POLICY_KEY_DELEGATE,
	POLICY_KEY_LEASE,
	POLICY_KEY_ADMIN,
	/* hardware page tables (policy/hwpt.c) */
	POLICY_KEY_ALLOW_NESTING,
	POLICY_KEY_ALLOW_DIRTY_TRACKING,
	POLICY_KEY_ALLOWED_HWPT_DATA,
	POLICY_KEY_MAX_HWPTS,
	POLICY_KEY_ALLOW_VIOMMU,
	/* fault queues and PASIDs (policy/faults.c) */
	POLICY_KEY_ALLOWED_PASID,
	POLICY_KEY_MAX_FAULT_QUEUES,
	_POLICY_KEY_MAX,
};

/* An inclusive IOVA range, as IOMMU_IOAS_ALLOW_IOVAS takes it. */
struct policy_range {
	uint64_t start;
	uint64_t last;
	unsigned line;          /* where it was written */
};

enum policy_device_kind {
	POLICY_DEVICE_ID,       /* PCI vendor:device, e.g. 1234:11e8 */
	POLICY_DEVICE_BDF,      /* PCI address, e.g. 0000:00:03.0 */
};

struct policy_device {
	enum policy_device_kind kind;
	uint16_t vendor, device;              /* POLICY_DEVICE_ID */
	uint16_t domain;                      /* POLICY_DEVICE_BDF */
	uint8_t bus, slot, function;
	unsigned line;
};

struct policy;

/*
 * One [tenant NAME] section. Fields are public for reading; the whole entry
 * belongs to its struct policy and lives as long as a reference to it.
 */
struct policy_tenant {
	const struct policy *policy;  /* owner */
	const char *name;
	const char *file;       /* as passed to the loader */
	unsigned line;          /* of the section header */
	size_t index;           /* position in match order */

	/* Match*: a key is in effect when key_line[its key] != 0. */
	const char *match_user;     /* as written (name or number) */
	uid_t match_uid;
	const char *match_group;
	gid_t match_gid;
	const char *match_unit;     /* exact name or fnmatch(3) glob */
	const char *match_cgroup;   /* path prefix, on '/' boundaries */

	/* Limits, defaults filled in. */
	uint32_t max_ioas;
	uint64_t max_pinned_bytes;
	uint32_t max_mappings;
	uint32_t max_memory_regions;
	uint32_t max_connections;

	/* Sorted by start, non-overlapping. n_allowed_iova == 0: whatever the
	 * kernel allows (no restriction by policy). */
	const struct policy_range *allowed_iova;
	size_t n_allowed_iova;

	bool huge_pages;
	enum policy_access access;
	enum policy_rlimit_mode rlimit_mode;

	/* Sharing: tenant names (sorted, unique), "*" = any tenant. */
	const char *const *export_to;
	size_t n_export_to;
	const char *const *import_from;
	size_t n_import_from;
	bool share_write;

	/* VFIO devices it may attach (sorted, unique). */
	const struct policy_device *allow_device;
	size_t n_allow_device;

	bool delegate;          /* may receive its own iommufd context fd */
	uint32_t lease_sec;     /* objects outlive the last connection by this */
	bool admin;             /* Stats shows it daemon-wide figures */

	/* Hardware page tables (policy/hwpt.c). */
	bool allow_nesting;         /* NEST_PARENT HWPTs and nested ones */
	bool allow_dirty_tracking;  /* DIRTY_TRACKING HWPTs */
	uint32_t hwpt_data;         /* bit i: hwpt_data_kinds[i] allowed */
	uint32_t max_hwpts;         /* HWPTs and vIOMMU objects */
	bool allow_viommu;          /* vIOMMUs, vDEVICEs, vEVENTQs */

	/* Fault queues and PASIDs (policy/faults.c). */
	struct policy_range pasids[POLICY_MAX_PASID_RANGES]; /* no overlap */
	size_t n_pasids;
	uint32_t max_fault_queues;

	/* Line of each key in the section (first line for repeated keys),
	 * 0 when absent (default in effect). */
	unsigned key_line[_POLICY_KEY_MAX];
};

/* The optional [daemon] section; *_set tell which keys the files set, so
 * that command-line options can override the rest. */
struct policy_daemon {
	const char *file;       /* NULL when no [daemon] section */
	unsigned line;
	bool pool_size_set;
	uint32_t pool_size;
	bool rlimit_mode_set;
	enum policy_rlimit_mode rlimit_mode;
	bool audit_log_set;
	const char *audit_log;  /* absolute path of the JSON-lines file */
	bool audit_failure_set;
	enum policy_audit_failure audit_failure;
	bool audit_rate_interval_set;
	uint32_t audit_rate_interval;  /* seconds; 0: no audit rate limit */
	bool audit_rate_burst_set;
	uint32_t audit_rate_burst;     /* refused records per interval; 0: no limit */
};

/* What the daemon knows about a connecting peer (from the kernel, never
 * from the client). unit and cgroup may be NULL. */
struct policy_peer {
	uid_t uid;
	gid_t gid;
	const gid_t *groups;    /* supplementary groups */
	size_t n_groups;
	pid_t pid;
	const char *unit;
	const char *cgroup;
};

/* ------------------------------------------------------------- loading */

/* Every *.conf in dir, in lexical (strcmp) order; other names are ignored.
 * A missing dir is an error; an empty one is a policy matching nobody. */
int policy_load_dir(const char *dir, struct policy **ret, struct err *e);
int policy_load_file(const char *path, struct policy **ret, struct err *e);
/* name is what messages call the text ("NAME:LINE: ..."). */
int policy_parse_string(const char *name, const char *text,
			struct policy **ret, struct err *e);

/*
 * A loader adds files (or strings) in match order and then builds the
 * policy; it also keeps every error, each formatted "FILE:LINE: message".
 * policy_loader_add_*() return 0 or -errno only for failures to read
 * (ENOMEM, open errors); syntax errors are collected and reported by
 * policy_loader_finish().
 */
struct policy_loader;
struct policy_loader *policy_loader_new(void);
struct policy_loader *policy_loader_free(struct policy_loader *l);
int policy_loader_add_dir(struct policy_loader *l, const char *dir, struct err *e);
int policy_loader_add_file(struct policy_loader *l, const char *path, struct err *e);
int policy_loader_add_string(struct policy_loader *l, const char *name,
			     const char *text, struct err *e);
/* -EINVAL with the first error in e when any was found. */
int policy_loader_finish(struct policy_loader *l, struct policy **ret, struct err *e);
size_t policy_loader_n_errors(const struct policy_loader *l);
const char *policy_loader_error(const struct policy_loader *l, size_t i);

/* ------------------------------------------------------------- the object */

struct policy *policy_ref(struct policy *p);      /* NULL-safe */
struct policy *policy_unref(struct policy *p);    /* NULL-safe, returns NULL */

/* Keep a tenant entry alive (by referencing its policy). NULL-safe. */
const struct policy_tenant *policy_tenant_ref(const struct policy_tenant *t);
const struct policy_tenant *policy_tenant_unref(const struct policy_tenant *t);

size_t policy_n_tenants(const struct policy *p);
const struct policy_tenant *policy_tenant_at(const struct policy *p, size_t i);
const struct policy_tenant *policy_find_tenant(const struct policy *p,
					       const char *name);
const struct policy_daemon *policy_daemon(const struct policy *p);

/* First tenant (in match order) all of whose Match* keys match; NULL when
 * none does (the peer must be refused). */
const struct policy_tenant *policy_match(const struct policy *p,
					 const struct policy_peer *peer);

/* Equal in meaning: every tenant, key and daemon setting, ignoring where
 * they were written (file, line). */
bool policy_equal(const struct policy *a, const struct policy *b);

/* ------------------------------------------------------------- decisions */

/*
 * The allowed IOVA list to set on one of the tenant's IOASes
 * (IOMMU_IOAS_ALLOW_IOVAS) when the tenant narrowed it itself to own[n_own]
 * (disjoint, any order; n_own == 0: it did not): the intersection of own
 * with AllowedIOVA, sorted, without one-byte pieces (the kernel wants
 * start < last). Without AllowedIOVA that is own itself. When the two do
 * not meet at all, AllowedIOVA alone: the policy wins over the tenant's
 * own narrowing, and an empty list would mean "everything" to the kernel.
 * *ret_n == 0 means no restriction. *ret is malloc'ed (NULL when empty).
 * 0 or -ENOMEM.
 */
int policy_tenant_effective_iovas(const struct policy_tenant *t,
				  const struct policy_range *own, size_t n_own,
				  struct policy_range **ret, size_t *ret_n);

/* Is [iova, iova + length) inside the tenant's AllowedIOVA (adjacent ranges
 * count as one)? Always true without AllowedIOVA; false for length 0 or a
 * range that wraps. */
bool policy_tenant_iova_allowed(const struct policy_tenant *t, uint64_t iova,
				uint64_t length);
/* May exporter share with importer? Both sides must agree: the exporter's
 * ExportTo names the importer (or "*") and the importer's ImportFrom names
 * the exporter (or "*"). */
bool policy_share_allowed(const struct policy_tenant *exporter,
			  const struct policy_tenant *importer);
/* May the tenant attach this PCI device? bdf "DDDD:BB:SS.F" may be NULL. */
bool policy_tenant_device_allowed(const struct policy_tenant *t, uint16_t vendor,
				  uint16_t device, const char *bdf);

/*
 * Hardware page tables (policy/hwpt.c). The key that refuses an HWPT with
 * these IOMMU_HWPT_ALLOC flags (nested: allocated from a parent HWPT), or
 * _POLICY_KEY_MAX when none does. Only NEST_PARENT and DIRTY_TRACKING have
 * keys; the tenant layer refuses other flags before asking.
 */
enum policy_key policy_hwpt_refusing_key(const struct policy_tenant *t,
					 uint32_t flags, bool nested);
/* Is driver data of kind index i (common/hwptdata.h) allowed? */
bool policy_hwpt_data_allowed(const struct policy_tenant *t, int i);

/* Fault queues and PASIDs (policy/faults.c): the AllowedPASID= range
 * that holds pasid (its line says where), or NULL. */
const struct policy_range *policy_pasid_range(const struct policy_tenant *t,
					      uint32_t pasid);

const char *policy_key_name(enum policy_key k);
/* "FILE:LINE" of the key that decides k for t, or of the section header
 * with " (default)" when the default is in effect. Returns like snprintf. */
int policy_tenant_source(const struct policy_tenant *t, enum policy_key k,
			 char *buf, size_t size);

/* ------------------------------------------------------------- peers */

/* "uid 1000 (alice) gid 1000 (alice) groups 27,100 unit session-2.scope
 * cgroup /user.slice/...", names escaped (common/escape.h: a cgroup may be
 * named "x\n<2>..." by its owner). 0, or -ENOBUFS when truncated (still
 * NUL-terminated). */
int policy_peer_describe(const struct policy_peer *peer, char *buf, size_t size);

/* What of a peer matching against p reads beyond its uid and gid, so that
 * nothing else is read from the kernel: */
enum {
	POLICY_PEER_GROUPS = 1u << 0,      /* supplementary groups (MatchGroup) */
	POLICY_PEER_UNIT_CGROUP = 1u << 1, /* unit and cgroup (MatchUnit, MatchCgroup) */
};
unsigned policy_peer_needs(const struct policy *p);

/* The systemd unit (NULL when the process is in none) and cgroup v2 path
 * of a process: sd_pid_get_unit()/sd_pid_get_cgroup() with libsystemd,
 * else /proc/PID/cgroup. Both outputs are malloc'ed. */
int policy_peer_from_pid(pid_t pid, char **ret_unit, char **ret_cgroup);

/* Helpers of the above, exposed for tests: the cgroup path in the text of
 * /proc/PID/cgroup (the "0::" line, else the name=systemd one); the unit a
 * cgroup path belongs to (the first component that is not a .slice, if it
 * is a unit that holds processes), -ENXIO when none. */
int policy_cgroup_from_proc_text(const char *text, char **ret_cgroup);
int policy_unit_from_cgroup(const char *cgroup, char **ret_unit);

/* ------------------------------------------------------------- output */

/* The normalized effective policy: every tenant with every key (defaults
 * filled in) in a fixed order, which parses back to an equal policy. */
void policy_print(const struct policy *p, FILE *f);

/* Sizes: the largest of K/M/G/T that divides exactly, else bytes. */
void policy_format_size(uint64_t v, char *buf, size_t size);
/* An AllowDevice= entry: "1234:11e8" or "0000:00:03.0"; buf of 16 bytes or more. */
void policy_format_device(const struct policy_device *d, char *buf, size_t size);

/* ioasd --check-policy: every error to err, exit status 1; or the
 * normalized policy to out, 0. */
int policy_check_main(const char *dir, FILE *out, FILE *err);
