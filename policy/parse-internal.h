/* SPDX-License-Identifier: MIT */
/*
 * The policy reader's own: the loader's state and what its files share
 * (parse.c: keys and sections; values.c: the lexers of values; loader.c:
 * lines, files, directories and the finished policy).
 */
#pragma once

#include <ctype.h>
#include <dirent.h>
#include <grp.h>
#include <ini.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "common/numparse.h"
#include "policy/policy-internal.h"

struct name_list {
	char **v;
	unsigned *line;
	size_t n;
};

/* What a tenant collects while its files are read; turned into the
 * sorted, checked public arrays by policy_loader_finish(). */
struct tenant_build {
	struct policy_range *ranges;
	size_t n_ranges;
	struct name_list export_to, import_from;
	struct policy_device *devices;
	size_t n_devices;
};

struct loader_error {
	size_t file;            /* index in p->files: errors sort by file */
	unsigned line;
	size_t seq;
	char *msg;              /* "FILE:LINE: message" */
};

enum section {
	SECTION_NONE,           /* before the first header */
	SECTION_TENANT,
	SECTION_DAEMON,
	SECTION_INVALID,        /* a bad header: its keys are skipped */
};

enum daemon_key {
	DAEMON_POOL_SIZE,
	DAEMON_RLIMIT_MODE,
	DAEMON_AUDIT_LOG,
	DAEMON_AUDIT_FAILURE,
	DAEMON_AUDIT_RATE_INTERVAL,
	DAEMON_AUDIT_RATE_BURST,
	_DAEMON_KEY_MAX,
};

struct policy_loader {
	struct policy *p;
	struct tenant_build *builds;        /* parallel to p->tenants */
	size_t cap_tenants;
	struct loader_error *errors;
	size_t n_errors;
	char **messages;                    /* sorted, for policy_loader_error() */
	bool oom;
	bool finished;
	unsigned daemon_line[_DAEMON_KEY_MAX];

	/* The input being read. */
	size_t file;                        /* index in p->files */
	const char *file_name;
	unsigned lineno;
	FILE *f;
	const char *text;
	char *line;
	size_t line_size;
	enum section section;
	size_t tenant;                      /* current tenant index */
};

__attribute__((format(printf, 3, 4)))
void error_at(struct policy_loader *l, unsigned line, const char *fmt, ...);
int error_compare(const void *a, const void *b);
void build_clear(struct tenant_build *b);
void tenant_key(struct policy_loader *l, const char *key, const char *value);
void daemon_key(struct policy_loader *l, const char *key, const char *value);
void begin_section(struct policy_loader *l, char *s);
bool is_blank(char c);
char *skip_blank(char *s);
void strip_trailing(char *s);
int parse_bool(const char *s);
bool valid_name(const char *s);
bool parse_device(const char *s, struct policy_device *ret);
/* policy/hwpt.c: the hardware page table keys. */
bool hwpt_key_is(enum policy_key k);
void hwpt_key_default(struct policy_tenant *t, enum policy_key k);
bool hwpt_key_value(struct policy_loader *l, struct policy_tenant *t,
		    enum policy_key k, const char *key, const char *value);
/* policy/faults.c: the fault queue and PASID keys. */
bool faults_key_is(enum policy_key k);
void faults_key_default(struct policy_tenant *t, enum policy_key k);
bool faults_key_value(struct policy_loader *l, struct policy_tenant *t,
		      enum policy_key k, const char *key, const char *value);
bool resolve_id(struct policy_loader *l, const char *key, const char *value,
		bool group, uint32_t *ret);
