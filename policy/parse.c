/* SPDX-License-Identifier: MIT */
/*
 * Reading policy files into a fresh struct policy.
 *
 * inih splits "Key=Value" lines (comments, inline " ;" comments, blanks,
 * whitespace), fed through our own line reader: the reader counts lines (so
 * every key knows its file:line whether or not libinih was built with
 * INI_HANDLER_LINENO), takes the [section] headers itself (inih does not
 * report a section with no keys, nor the line of a header), strips leading
 * whitespace (so an indented key is a key, never an inih continuation line)
 * and reports lines that are too long or have no '=' instead of letting
 * inih truncate or skip them. Every error is kept, not only the first.
 */
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
#include "policy-internal.h"

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

/* ------------------------------------------------------------- errors */

__attribute__((format(printf, 3, 4)))
static void error_at(struct policy_loader *l, unsigned line, const char *fmt, ...)
{
	struct loader_error *n;
	char msg[512];
	va_list ap;
	char *s;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (asprintf(&s, "%s:%u: %s", l->file_name, line, msg) < 0) {
		l->oom = true;
		return;
	}
	n = reallocarray(l->errors, l->n_errors + 1, sizeof(*n));
	if (!n) {
		free(s);
		l->oom = true;
		return;
	}
	l->errors = n;
	n[l->n_errors] = (struct loader_error){
		.file = l->file, .line = line, .seq = l->n_errors, .msg = s,
	};
	l->n_errors++;
}

static int error_compare(const void *a, const void *b)
{
	const struct loader_error *x = a, *y = b;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* ------------------------------------------------------------- values */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static char *skip_blank(char *s)
{
	while (is_blank(*s))
		s++;
	return s;
}

static void strip_trailing(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && is_blank(s[n - 1]))
		s[--n] = '\0';
}

/* Decimal digits only: no sign, no blanks, no base prefix. */
static bool parse_dec(const char *s, uint64_t *ret)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (mul_overflow(v, 10, &v) || add_overflow(v, (uint64_t)(*s - '0'), &v))
			return false;
	}
	*ret = v;
	return true;
}


static int parse_bool(const char *s)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > POLICY_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.@-", *s))
			return false;
	return true;
}

/* 1..max hex digits, stopping at the first non-hex character. */
static bool hex_field(const char **s, int max, unsigned *ret)
{
	unsigned v = 0;
	int n = 0;

	while (isxdigit((unsigned char)**s) && n < max) {
		char c = (char)tolower((unsigned char)**s);

		v = v << 4 | (unsigned)(isdigit((unsigned char)c) ? c - '0' : c - 'a' + 10);
		(*s)++;
		n++;
	}
	*ret = v;
	return n > 0;
}

/* "1234:11e8", "0000:00:03.0" or "00:03.0". */
static bool parse_device(const char *s, struct policy_device *ret)
{
	unsigned a, b, c, dom = 0;
	const char *p = s;

	if (!strchr(s, '.')) {
		if (!hex_field(&p, 4, &a) || *p++ != ':' || !hex_field(&p, 4, &b) || *p)
			return false;
		*ret = (struct policy_device){ .kind = POLICY_DEVICE_ID,
					       .vendor = (uint16_t)a,
					       .device = (uint16_t)b };
		return true;
	}
	if (!hex_field(&p, 4, &a) || *p++ != ':' || !hex_field(&p, 2, &b))
		return false;
	if (*p == ':') {                    /* domain:bus:slot.fn */
		p++;
		dom = a;
		a = b;
		if (!hex_field(&p, 2, &b))
			return false;
	} else if (a > 0xff) {
		return false;
	}
	if (*p++ != '.' || !hex_field(&p, 1, &c) || *p)
		return false;
	if (b > 0x1f || c > 7)
		return false;
	*ret = (struct policy_device){ .kind = POLICY_DEVICE_BDF,
				       .domain = (uint16_t)dom, .bus = (uint8_t)a,
				       .slot = (uint8_t)b, .function = (uint8_t)c };
	return true;
}

static int lookup_user(const char *name, uid_t *ret)
{
	struct passwd pw, *res = NULL;
	size_t size = 1024;

	for (;;) {
		_cleanup_free_ char *buf = malloc(size);
		int r;

		if (!buf)
			return -ENOMEM;
		r = getpwnam_r(name, &pw, buf, size, &res);
		if (r == ERANGE && size < (1u << 20)) {
			size *= 2;
			continue;
		}
		if (r)
			return -r;
		if (!res)
			return -ESRCH;
		*ret = res->pw_uid;
		return 0;
	}
}

static int lookup_group(const char *name, gid_t *ret)
{
	struct group gr, *res = NULL;
	size_t size = 1024;

	for (;;) {
		_cleanup_free_ char *buf = malloc(size);
		int r;

		if (!buf)
			return -ENOMEM;
		r = getgrnam_r(name, &gr, buf, size, &res);
		if (r == ERANGE && size < (1u << 20)) {
			size *= 2;
			continue;
		}
		if (r)
			return -r;
		if (!res)
			return -ESRCH;
		*ret = res->gr_gid;
		return 0;
	}
}

/* Numeric ids below (id_t)-1, or a name resolved now (so a typo is an
 * error at load time, not a tenant that silently never matches). */
static bool resolve_id(struct policy_loader *l, const char *key, const char *value,
		       bool group, uint32_t *ret)
{
	uint64_t v;
	int r;

	if (parse_dec(value, &v)) {
		if (v >= UINT32_MAX) {
			error_at(l, l->lineno, "%s=%s: id out of range", key, value);
			return false;
		}
		*ret = (uint32_t)v;
		return true;
	}
	if (group) {
		gid_t gid = 0;

		r = lookup_group(value, &gid);
		*ret = gid;
	} else {
		uid_t uid = 0;

		r = lookup_user(value, &uid);
		*ret = uid;
	}
	if (r == -ENOMEM) {
		l->oom = true;
		return false;
	}
	if (r < 0) {
		error_at(l, l->lineno, "%s=%s: unknown %s", key, value,
			 group ? "group" : "user");
		return false;
	}
	return true;
}

/* ------------------------------------------------------------- tenant keys */

static void names_clear(struct name_list *nl)
{
	for (size_t i = 0; i < nl->n; i++)
		free(nl->v[i]);
	free(nl->v);
	free(nl->line);
	*nl = (struct name_list){ 0 };
}

static void build_clear(struct tenant_build *b)
{
	free(b->ranges);
	names_clear(&b->export_to);
	names_clear(&b->import_from);
	free(b->devices);
	*b = (struct tenant_build){ 0 };
}

static void tenant_defaults(struct policy_tenant *t, enum policy_key k)
{
	switch (k) {
	case POLICY_KEY_MAX_IOAS:
		t->max_ioas = POLICY_DEFAULT_MAX_IOAS;
		break;
	case POLICY_KEY_MAX_PINNED_BYTES:
		t->max_pinned_bytes = POLICY_DEFAULT_MAX_PINNED_BYTES;
		break;
	case POLICY_KEY_MAX_MAPPINGS:
		t->max_mappings = POLICY_DEFAULT_MAX_MAPPINGS;
		break;
	case POLICY_KEY_MAX_MEMORY_REGIONS:
		t->max_memory_regions = POLICY_DEFAULT_MAX_MEMORY_REGIONS;
		break;
	case POLICY_KEY_MAX_CONNECTIONS:
		t->max_connections = POLICY_DEFAULT_MAX_CONNECTIONS;
		break;
	case POLICY_KEY_HUGE_PAGES:
		t->huge_pages = true;
		break;
	case POLICY_KEY_ACCESS:
		t->access = POLICY_ACCESS_READWRITE;
		break;
	case POLICY_KEY_RLIMIT_MODE:
		t->rlimit_mode = POLICY_RLIMIT_USER;
		break;
	case POLICY_KEY_SHARE_WRITE:
		t->share_write = false;
		break;
	case POLICY_KEY_DELEGATE:
		t->delegate = false;
		break;
	case POLICY_KEY_ADMIN:
		t->admin = false;
		break;
	case POLICY_KEY_LEASE:
		t->lease_sec = POLICY_DEFAULT_LEASE_SEC;
		break;
	case POLICY_KEY_MATCH_USER:
		free((char *)t->match_user);
		t->match_user = NULL;
		t->match_uid = 0;
		break;
	case POLICY_KEY_MATCH_GROUP:
		free((char *)t->match_group);
		t->match_group = NULL;
		t->match_gid = 0;
		break;
	case POLICY_KEY_MATCH_UNIT:
		free((char *)t->match_unit);
		t->match_unit = NULL;
		break;
	case POLICY_KEY_MATCH_CGROUP:
		free((char *)t->match_cgroup);
		t->match_cgroup = NULL;
		break;
	default:
		break;
	}
}

static bool set_string(struct policy_loader *l, const char **field, const char *value)
{
	char *s = strdup(value);

	if (!s) {
		l->oom = true;
		return false;
	}
	free((char *)*field);
	*field = s;
	return true;
}

static bool parse_count(struct policy_loader *l, const char *key, const char *value,
			uint64_t max, uint64_t *ret)
{
	uint64_t v;

	if (numparse_u64(value, &v) < 0) {
		error_at(l, l->lineno, "%s=%s: not a number (decimal or 0x hex)", key, value);
		return false;
	}
	if (v > max) {
		error_at(l, l->lineno, "%s=%s: out of range (0..%" PRIu64 ")",
			 key, value, max);
		return false;
	}
	*ret = v;
	return true;
}

static bool add_name(struct policy_loader *l, struct name_list *nl, const char *key,
		     const char *tok)
{
	char **v;
	unsigned *line;

	if (strcmp(tok, "*") != 0 && !valid_name(tok)) {
		error_at(l, l->lineno, "%s: '%s' is not a tenant name or '*'", key, tok);
		return false;
	}
	v = reallocarray(nl->v, nl->n + 1, sizeof(*v));
	if (v)
		nl->v = v;
	line = reallocarray(nl->line, nl->n + 1, sizeof(*line));
	if (line)
		nl->line = line;
	if (!v || !line || !(nl->v[nl->n] = strdup(tok))) {
		l->oom = true;
		return false;
	}
	nl->line[nl->n++] = l->lineno;
	return true;
}

static bool add_range(struct policy_loader *l, struct tenant_build *b, char *tok)
{
	struct policy_range *n;
	char *dash = strchr(tok, '-');
	uint64_t start, last;

	if (dash)
		*dash = '\0';
	if (!dash || numparse_u64(tok, &start) < 0 || numparse_u64(dash + 1, &last) < 0) {
		if (dash)
			*dash = '-';
		error_at(l, l->lineno,
			 "AllowedIOVA: '%s' is not a range START-LAST (inclusive, 0x hex or decimal)",
			 tok);
		return false;
	}
	if (start >= last) {
		error_at(l, l->lineno,
			 "AllowedIOVA: range 0x%" PRIx64 "-0x%" PRIx64 " must have start < last",
			 start, last);
		return false;
	}
	n = reallocarray(b->ranges, b->n_ranges + 1, sizeof(*n));
	if (!n) {
		l->oom = true;
		return false;
	}
	b->ranges = n;
	n[b->n_ranges++] = (struct policy_range){ start, last, l->lineno };
	return true;
}

static bool add_device(struct policy_loader *l, struct tenant_build *b, const char *tok)
{
	struct policy_device d, *n;

	if (!parse_device(tok, &d)) {
		error_at(l, l->lineno,
			 "AllowDevice: '%s' is neither a PCI vendor:device id (1234:11e8) nor a PCI address (0000:00:03.0)",
			 tok);
		return false;
	}
	d.line = l->lineno;
	n = reallocarray(b->devices, b->n_devices + 1, sizeof(*n));
	if (!n) {
		l->oom = true;
		return false;
	}
	b->devices = n;
	n[b->n_devices++] = d;
	return true;
}

/* Apply one whitespace-separated token list value with fn per token. */
static bool for_each_token(struct policy_loader *l, struct tenant_build *b,
			   enum policy_key k, const char *value)
{
	_cleanup_free_ char *copy = strdup(value);
	char *save = NULL;
	bool ok = true;

	if (!copy) {
		l->oom = true;
		return false;
	}
	for (char *tok = strtok_r(copy, " \t", &save); tok;
	     tok = strtok_r(NULL, " \t", &save)) {
		switch (k) {
		case POLICY_KEY_ALLOWED_IOVA:
			ok = add_range(l, b, tok) && ok;
			break;
		case POLICY_KEY_EXPORT_TO:
			ok = add_name(l, &b->export_to, "ExportTo", tok) && ok;
			break;
		case POLICY_KEY_IMPORT_FROM:
			ok = add_name(l, &b->import_from, "ImportFrom", tok) && ok;
			break;
		case POLICY_KEY_ALLOW_DEVICE:
			ok = add_device(l, b, tok) && ok;
			break;
		default:
			return false;
		}
	}
	return ok;
}

static bool is_list_key(enum policy_key k)
{
	return k == POLICY_KEY_ALLOWED_IOVA || k == POLICY_KEY_EXPORT_TO ||
	       k == POLICY_KEY_IMPORT_FROM || k == POLICY_KEY_ALLOW_DEVICE;
}

static bool valid_unit_pattern(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr(":_.\\@-*?[]!", *s))
			return false;
	return true;
}

/* An absolute path without empty, "." or ".." components; trailing '/'
 * dropped. */
static bool normalize_cgroup(char *s)
{
	size_t n;

	if (s[0] != '/')
		return false;
	n = strlen(s);
	while (n > 1 && s[n - 1] == '/')
		s[--n] = '\0';
	if (n == 1)
		return true;
	for (char *c = s; *c; ) {
		char *next = strchr(c + 1, '/');
		size_t len = next ? (size_t)(next - c - 1) : strlen(c + 1);

		if (len == 0 || (len == 1 && c[1] == '.') ||
		    (len == 2 && c[1] == '.' && c[2] == '.'))
			return false;
		if (!next)
			break;
		c = next;
	}
	for (char *c = s; *c; c++)
		if (is_blank(*c))
			return false;
	return true;
}

static bool tenant_value(struct policy_loader *l, struct policy_tenant *t,
			 struct tenant_build *b, enum policy_key k, const char *key,
			 const char *value)
{
	uint64_t v;
	int r;

	switch (k) {
	case POLICY_KEY_MATCH_USER:
	case POLICY_KEY_MATCH_GROUP: {
		bool group = k == POLICY_KEY_MATCH_GROUP;
		uint32_t id = 0;

		if (!resolve_id(l, key, value, group, &id))
			return false;
		if (group)
			t->match_gid = id;
		else
			t->match_uid = id;
		return set_string(l, group ? &t->match_group : &t->match_user, value);
	}
	case POLICY_KEY_MATCH_UNIT:
		if (!valid_unit_pattern(value)) {
			error_at(l, l->lineno,
				 "MatchUnit=%s: not a unit name or glob", value);
			return false;
		}
		return set_string(l, &t->match_unit, value);
	case POLICY_KEY_MATCH_CGROUP: {
		_cleanup_free_ char *c = strdup(value);

		if (!c) {
			l->oom = true;
			return false;
		}
		if (!normalize_cgroup(c)) {
			error_at(l, l->lineno,
				 "MatchCgroup=%s: not an absolute cgroup path", value);
			return false;
		}
		return set_string(l, &t->match_cgroup, c);
	}
	case POLICY_KEY_MAX_PINNED_BYTES:
		if (numparse_size(value, &v) < 0) {
			error_at(l, l->lineno,
				 "%s=%s: not a size (a number, decimal or 0x hex, with an optional "
				 "K, M, G or T: powers of 1024)",
				 key, value);
			return false;
		}
		t->max_pinned_bytes = v;
		return true;
	case POLICY_KEY_MAX_IOAS:
	case POLICY_KEY_MAX_MAPPINGS:
	case POLICY_KEY_MAX_MEMORY_REGIONS:
	case POLICY_KEY_MAX_CONNECTIONS:
		if (!parse_count(l, key, value, POLICY_MAX_COUNT, &v))
			return false;
		if (k == POLICY_KEY_MAX_IOAS)
			t->max_ioas = (uint32_t)v;
		else if (k == POLICY_KEY_MAX_MAPPINGS)
			t->max_mappings = (uint32_t)v;
		else if (k == POLICY_KEY_MAX_MEMORY_REGIONS)
			t->max_memory_regions = (uint32_t)v;
		else
			t->max_connections = (uint32_t)v;
		return true;
	case POLICY_KEY_LEASE:
		if (!parse_count(l, key, value, POLICY_MAX_LEASE_SEC, &v))
			return false;
		t->lease_sec = (uint32_t)v;
		return true;
	case POLICY_KEY_HUGE_PAGES:
	case POLICY_KEY_SHARE_WRITE:
	case POLICY_KEY_DELEGATE:
	case POLICY_KEY_ADMIN:
		r = parse_bool(value);
		if (r < 0) {
			error_at(l, l->lineno, "%s=%s: expected yes or no", key, value);
			return false;
		}
		if (k == POLICY_KEY_HUGE_PAGES)
			t->huge_pages = r;
		else if (k == POLICY_KEY_SHARE_WRITE)
			t->share_write = r;
		else if (k == POLICY_KEY_DELEGATE)
			t->delegate = r;
		else
			t->admin = r;
		return true;
	case POLICY_KEY_ACCESS:
		if (strcmp(value, "read") == 0)
			t->access = POLICY_ACCESS_READ;
		else if (strcmp(value, "readwrite") == 0)
			t->access = POLICY_ACCESS_READWRITE;
		else {
			error_at(l, l->lineno, "Access=%s: expected read or readwrite", value);
			return false;
		}
		return true;
	case POLICY_KEY_RLIMIT_MODE:
		if (strcmp(value, "user") == 0)
			t->rlimit_mode = POLICY_RLIMIT_USER;
		else if (strcmp(value, "process") == 0)
			t->rlimit_mode = POLICY_RLIMIT_PROCESS;
		else {
			error_at(l, l->lineno, "RlimitMode=%s: expected user or process", value);
			return false;
		}
		return true;
	default:
		return for_each_token(l, b, k, value);
	}
}

static void tenant_key(struct policy_loader *l, const char *key, const char *value)
{
	struct policy_tenant *t = &l->p->tenants[l->tenant];
	struct tenant_build *b = &l->builds[l->tenant];
	enum policy_key k;

	for (k = 0; k < _POLICY_KEY_MAX; k++)
		if (strcmp(key, policy_key_name(k)) == 0)
			break;
	if (k == _POLICY_KEY_MAX) {
		error_at(l, l->lineno, "unknown key '%s' in [tenant %s]", key, t->name);
		return;
	}

	/* An empty assignment resets the key to its default (as in systemd
	 * unit files): "MatchGroup=" means no group match. */
	if (!*value) {
		t->key_line[k] = 0;
		tenant_defaults(t, k);
		if (k == POLICY_KEY_ALLOWED_IOVA) {
			free(b->ranges);
			b->ranges = NULL;
			b->n_ranges = 0;
		} else if (k == POLICY_KEY_EXPORT_TO) {
			names_clear(&b->export_to);
		} else if (k == POLICY_KEY_IMPORT_FROM) {
			names_clear(&b->import_from);
		} else if (k == POLICY_KEY_ALLOW_DEVICE) {
			free(b->devices);
			b->devices = NULL;
			b->n_devices = 0;
		}
		return;
	}

	if (!is_list_key(k) && t->key_line[k]) {
		error_at(l, l->lineno,
			 "%s= already set at line %u in [tenant %s] (an empty %s= resets it)",
			 key, t->key_line[k], t->name, key);
		return;
	}
	if (tenant_value(l, t, b, k, key, value) && !t->key_line[k])
		t->key_line[k] = l->lineno;
}

/* ------------------------------------------------------------- daemon keys */

static void daemon_key(struct policy_loader *l, const char *key, const char *value)
{
	static const char *const names[_DAEMON_KEY_MAX] = {
		[DAEMON_POOL_SIZE] = "PoolSize",
		[DAEMON_RLIMIT_MODE] = "RlimitMode",
		[DAEMON_AUDIT_LOG] = "AuditLog",
		[DAEMON_AUDIT_FAILURE] = "AuditFailure",
		[DAEMON_AUDIT_RATE_INTERVAL] = "AuditRateInterval",
		[DAEMON_AUDIT_RATE_BURST] = "AuditRateBurst",
	};
	struct policy_daemon *d = &l->p->daemon;
	unsigned k;
	uint64_t v;

	for (k = 0; k < _DAEMON_KEY_MAX; k++)
		if (strcmp(key, names[k]) == 0)
			break;
	if (k == _DAEMON_KEY_MAX) {
		error_at(l, l->lineno, "unknown key '%s' in [daemon]", key);
		return;
	}
	if (!*value) {
		l->daemon_line[k] = 0;
		switch (k) {
		case DAEMON_POOL_SIZE:
			d->pool_size_set = false;
			d->pool_size = 0;
			break;
		case DAEMON_RLIMIT_MODE:
			d->rlimit_mode_set = false;
			d->rlimit_mode = POLICY_RLIMIT_USER;
			break;
		case DAEMON_AUDIT_LOG:
			d->audit_log_set = false;
			free((char *)d->audit_log);
			d->audit_log = NULL;
			break;
		case DAEMON_AUDIT_FAILURE:
			d->audit_failure_set = false;
			d->audit_failure = POLICY_AUDIT_FAILURE_CONTINUE;
			break;
		case DAEMON_AUDIT_RATE_INTERVAL:
			d->audit_rate_interval_set = false;
			d->audit_rate_interval = 0;
			break;
		case DAEMON_AUDIT_RATE_BURST:
			d->audit_rate_burst_set = false;
			d->audit_rate_burst = 0;
			break;
		}
		return;
	}
	if (l->daemon_line[k]) {
		error_at(l, l->lineno,
			 "%s= already set at line %u in [daemon] (an empty %s= resets it)",
			 key, l->daemon_line[k], key);
		return;
	}
	switch (k) {
	case DAEMON_POOL_SIZE:
		if (!parse_count(l, key, value, POLICY_MAX_POOL_SIZE, &v))
			return;
		d->pool_size = (uint32_t)v;
		d->pool_size_set = true;
		break;
	case DAEMON_RLIMIT_MODE:
		if (strcmp(value, "user") == 0)
			d->rlimit_mode = POLICY_RLIMIT_USER;
		else if (strcmp(value, "process") == 0)
			d->rlimit_mode = POLICY_RLIMIT_PROCESS;
		else {
			error_at(l, l->lineno, "RlimitMode=%s: expected user or process", value);
			return;
		}
		d->rlimit_mode_set = true;
		break;
	case DAEMON_AUDIT_LOG:
		if (value[0] != '/') {
			error_at(l, l->lineno, "AuditLog=%s: not an absolute path", value);
			return;
		}
		if (!set_string(l, &d->audit_log, value))
			return;
		d->audit_log_set = true;
		break;
	case DAEMON_AUDIT_FAILURE:
		if (strcmp(value, "refuse") == 0)
			d->audit_failure = POLICY_AUDIT_FAILURE_REFUSE;
		else if (strcmp(value, "continue") == 0)
			d->audit_failure = POLICY_AUDIT_FAILURE_CONTINUE;
		else {
			error_at(l, l->lineno, "AuditFailure=%s: expected refuse or continue",
				 value);
			return;
		}
		d->audit_failure_set = true;
		break;
	case DAEMON_AUDIT_RATE_INTERVAL:
		if (!parse_count(l, key, value, POLICY_MAX_AUDIT_RATE_INTERVAL, &v))
			return;
		d->audit_rate_interval = (uint32_t)v;
		d->audit_rate_interval_set = true;
		break;
	case DAEMON_AUDIT_RATE_BURST:
		if (!parse_count(l, key, value, POLICY_MAX_AUDIT_RATE_BURST, &v))
			return;
		d->audit_rate_burst = (uint32_t)v;
		d->audit_rate_burst_set = true;
		break;
	}
	l->daemon_line[k] = l->lineno;
}

/* ------------------------------------------------------------- sections */

static void tenant_new(struct policy_loader *l, const char *name)
{
	struct policy *p = l->p;
	struct policy_tenant *t;
	char *s;

	for (size_t i = 0; i < p->n_tenants; i++) {
		if (strcmp(p->tenants[i].name, name) == 0) {
			error_at(l, l->lineno,
				 "duplicate [tenant %s] (first defined at %s:%u)",
				 name, p->tenants[i].file, p->tenants[i].line);
			return;
		}
	}
	if (p->n_tenants == l->cap_tenants) {
		size_t cap = l->cap_tenants ? 2 * l->cap_tenants : 8;
		struct policy_tenant *nt = reallocarray(p->tenants, cap, sizeof(*nt));
		struct tenant_build *nb;

		if (!nt) {
			l->oom = true;
			return;
		}
		p->tenants = nt;
		nb = reallocarray(l->builds, cap, sizeof(*nb));
		if (!nb) {
			l->oom = true;
			return;
		}
		l->builds = nb;
		l->cap_tenants = cap;
	}
	s = strdup(name);
	if (!s) {
		l->oom = true;
		return;
	}
	t = &p->tenants[p->n_tenants];
	*t = (struct policy_tenant){ .name = s, .file = l->file_name,
				     .line = l->lineno };
	for (enum policy_key k = 0; k < _POLICY_KEY_MAX; k++)
		tenant_defaults(t, k);
	l->builds[p->n_tenants] = (struct tenant_build){ 0 };
	l->tenant = p->n_tenants++;
	l->section = SECTION_TENANT;
}

/* s: a line starting with '['. */
static void begin_section(struct policy_loader *l, char *s)
{
	char *end = strchr(s, ']'), *rest, *name;

	l->section = SECTION_INVALID;
	if (!end) {
		error_at(l, l->lineno, "section header without ']'");
		return;
	}
	rest = skip_blank(end + 1);
	if (*rest && *rest != ';' && *rest != '#') {
		error_at(l, l->lineno, "unexpected text after section header: '%s'", rest);
		return;
	}
	*end = '\0';
	name = skip_blank(s + 1);
	strip_trailing(name);

	if (strcmp(name, "daemon") == 0) {
		struct policy_daemon *d = &l->p->daemon;

		if (d->file) {
			error_at(l, l->lineno, "duplicate [daemon] (first defined at %s:%u)",
				 d->file, d->line);
			return;
		}
		d->file = l->file_name;
		d->line = l->lineno;
		l->section = SECTION_DAEMON;
		return;
	}
	if (strncmp(name, "tenant", 6) == 0 && is_blank(name[6])) {
		char *tn = skip_blank(name + 6);

		if (!valid_name(tn)) {
			error_at(l, l->lineno,
				 "[tenant %s]: a tenant name is 1-%d characters of [a-zA-Z0-9_.@-]",
				 tn, POLICY_NAME_MAX);
			return;
		}
		tenant_new(l, tn);
		return;
	}
	error_at(l, l->lineno, "unknown section [%s] (expected [tenant NAME] or [daemon])",
		 name);
}

/* ------------------------------------------------------------- reading */

/* The next raw line without its newline, NULL at the end. */
static char *next_line(struct policy_loader *l)
{
	if (l->f) {
		ssize_t n = getline(&l->line, &l->line_size, l->f);

		if (n < 0)
			return NULL;
		if (n > 0 && l->line[n - 1] == '\n')
			l->line[n - 1] = '\0';
		return l->line;
	}
	if (!l->text || !*l->text)
		return NULL;
	const char *nl = strchr(l->text, '\n');
	size_t n = nl ? (size_t)(nl - l->text) : strlen(l->text);
	char *buf = realloc(l->line, n + 1);

	if (!buf) {
		l->oom = true;
		return NULL;
	}
	l->line = buf;
	l->line_size = n + 1;
	memcpy(buf, l->text, n);
	buf[n] = '\0';
	l->text += nl ? n + 1 : n;
	return buf;
}

static char *reader(char *buf, int num, void *stream)
{
	struct policy_loader *l = stream;
	char *s = next_line(l);

	if (!s)
		return NULL;
	l->lineno++;
	if (l->lineno == 1 && strncmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;
	s = skip_blank(s);
	strip_trailing(s);

	if (*s == '[') {
		begin_section(l, s);
		s = (char *)"";
	} else if (*s && *s != ';' && *s != '#') {
		size_t n = strlen(s);

		if (!strpbrk(s, "=:")) {
			error_at(l, l->lineno, "expected [section] or Key=Value: '%s'", s);
			s = (char *)"";
		} else if (n + 2 > (size_t)num) {
			error_at(l, l->lineno, "line too long (at most %d characters)",
				 num - 2);
			s = (char *)"";
		}
	}
	/* What inih gets: the stripped line, or an empty one in place of
	 * what the reader took (headers) or refused, so its line count
	 * stays ours. */
	snprintf(buf, (size_t)num, "%s\n", s);
	return buf;
}

static int handler(void *user, const char *section, const char *name,
		   const char *value)
{
	struct policy_loader *l = user;

	(void)section;  /* the reader tracks sections, with their lines */
	if (!name)      /* a libinih built to report new sections */
		return 1;
	if (!value)
		value = "";
	switch (l->section) {
	case SECTION_NONE:
		error_at(l, l->lineno, "%s= outside of a section", name);
		break;
	case SECTION_TENANT:
		tenant_key(l, name, value);
		break;
	case SECTION_DAEMON:
		daemon_key(l, name, value);
		break;
	case SECTION_INVALID:
		break;
	}
	return 1; /* keep going: every error is collected */
}

static int add_input(struct policy_loader *l, const char *name, FILE *f,
		     const char *text, struct err *e)
{
	struct policy *p = l->p;
	char **files;
	char *copy;
	int r;

	if (l->finished)
		return err_set(e, EINVAL, "policy loader already finished");
	copy = strdup(name);
	files = copy ? reallocarray(p->files, p->n_files + 1, sizeof(*files)) : NULL;
	if (!files) {
		free(copy);
		return err_set(e, ENOMEM, "out of memory");
	}
	p->files = files;
	files[p->n_files] = copy;
	l->file = p->n_files++;
	l->file_name = copy;
	l->lineno = 0;
	l->f = f;
	l->text = text;
	l->section = SECTION_NONE;

	r = ini_parse_stream(reader, l, handler, l);
	if (r > 0)      /* a line inih refused that the reader let through */
		error_at(l, (unsigned)r, "syntax error");
	if (l->f && ferror(l->f)) {
		int saved = errno ? errno : EIO;

		l->f = NULL;
		return err_set(e, saved, "%s: read error: %s", name, strerror(saved));
	}
	l->f = NULL;
	l->text = NULL;
	if (r == -2 || l->oom)
		return err_set(e, ENOMEM, "out of memory");
	return 0;
}

/* ------------------------------------------------------------- the loader */

struct policy_loader *policy_loader_new(void)
{
	struct policy_loader *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->p = policy_new_empty();
	if (!l->p) {
		free(l);
		return NULL;
	}
	return l;
}

struct policy_loader *policy_loader_free(struct policy_loader *l)
{
	if (!l)
		return NULL;
	if (l->p) {
		for (size_t i = 0; i < l->p->n_tenants; i++)
			build_clear(&l->builds[i]);
		policy_unref(l->p);
	}
	free(l->builds);
	for (size_t i = 0; i < l->n_errors; i++)
		free(l->errors[i].msg);
	free(l->errors);
	free(l->messages);
	free(l->line);
	free(l);
	return NULL;
}

int policy_loader_add_string(struct policy_loader *l, const char *name,
			     const char *text, struct err *e)
{
	return add_input(l, name, NULL, text ? text : "", e);
}

int policy_loader_add_file(struct policy_loader *l, const char *path, struct err *e)
{
	FILE *f = fopen(path, "re");
	int r;

	if (!f)
		return err_set(e, errno, "%s: %s", path, strerror(errno));
	r = add_input(l, path, f, NULL, e);
	fclose(f);
	return r;
}

static int strcmp_ptr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_conf_name(const char *n)
{
	size_t len = strlen(n);

	return n[0] != '.' && len > 5 && strcmp(n + len - 5, ".conf") == 0;
}

int policy_loader_add_dir(struct policy_loader *l, const char *dir, struct err *e)
{
	DIR *d = opendir(dir);
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	int r = 0;

	if (!d)
		return err_set(e, errno, "policy directory %s: %s", dir, strerror(errno));
	while ((errno = 0, de = readdir(d))) {
		char **nn;

		if (!is_conf_name(de->d_name))
			continue;
		nn = reallocarray(names, n + 1, sizeof(*nn));
		if (!nn || !(nn[n] = strdup(de->d_name))) {
			names = nn ? nn : names;
			r = err_set(e, ENOMEM, "out of memory");
			goto out;
		}
		names = nn;
		n++;
	}
	if (errno) {
		r = err_set(e, errno, "policy directory %s: %s", dir, strerror(errno));
		goto out;
	}
	if (n > 1)
		qsort(names, n, sizeof(*names), strcmp_ptr);
	for (size_t i = 0; i < n && r == 0; i++) {
		_cleanup_free_ char *path = NULL;
		struct stat st;

		if (asprintf(&path, "%s/%s", dir, names[i]) < 0) {
			path = NULL;
			r = err_set(e, ENOMEM, "out of memory");
			break;
		}
		/* Only regular files: a link to /dev/null masks a file. */
		if (stat(path, &st) < 0) {
			r = err_set(e, errno, "%s: %s", path, strerror(errno));
			break;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		r = policy_loader_add_file(l, path, e);
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return r;
}

static int range_compare(const void *a, const void *b)
{
	const struct policy_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int device_compare(const void *a, const void *b)
{
	return policy_device_compare(a, b);
}

/* Sort and dedupe names; check each names a tenant. Moves them into
 * *ret / *ret_n. */
static void finish_names(struct policy_loader *l, struct name_list *nl,
			 const char *key, const char *const **ret, size_t *ret_n)
{
	size_t out = 0;

	for (size_t i = 0; i < nl->n; i++) {
		if (strcmp(nl->v[i], "*") != 0 &&
		    !policy_find_tenant(l->p, nl->v[i]))
			error_at(l, nl->line[i], "%s: no tenant named '%s'", key, nl->v[i]);
	}
	if (nl->n > 1)
		qsort(nl->v, nl->n, sizeof(*nl->v), strcmp_ptr);
	for (size_t i = 0; i < nl->n; i++) {
		if (out > 0 && strcmp(nl->v[out - 1], nl->v[i]) == 0) {
			free(nl->v[i]);
			continue;
		}
		nl->v[out++] = nl->v[i];
	}
	*ret = (const char *const *)nl->v;
	*ret_n = out;
	nl->v = NULL;
	nl->n = 0;
}

static void finish_tenant(struct policy_loader *l, size_t i)
{
	struct policy_tenant *t = &l->p->tenants[i];
	struct tenant_build *b = &l->builds[i];
	size_t out;

	t->policy = l->p;
	t->index = i;
	l->file_name = t->file;
	for (l->file = 0; l->file < l->p->n_files; l->file++)
		if (l->p->files[l->file] == t->file)
			break;

	if (!t->key_line[POLICY_KEY_MATCH_USER] && !t->key_line[POLICY_KEY_MATCH_GROUP] &&
	    !t->key_line[POLICY_KEY_MATCH_UNIT] && !t->key_line[POLICY_KEY_MATCH_CGROUP])
		error_at(l, t->line,
			 "[tenant %s] has no MatchUser=, MatchGroup=, MatchUnit= or MatchCgroup=",
			 t->name);

	if (b->n_ranges > 1)
		qsort(b->ranges, b->n_ranges, sizeof(*b->ranges), range_compare);
	for (size_t j = 1; j < b->n_ranges; j++) {
		const struct policy_range *a = &b->ranges[j - 1], *c = &b->ranges[j];

		if (c->start <= a->last)
			error_at(l, a->line > c->line ? a->line : c->line,
				 "AllowedIOVA: 0x%" PRIx64 "-0x%" PRIx64
				 " overlaps 0x%" PRIx64 "-0x%" PRIx64 " (line %u)",
				 a->line > c->line ? a->start : c->start,
				 a->line > c->line ? a->last : c->last,
				 a->line > c->line ? c->start : a->start,
				 a->line > c->line ? c->last : a->last,
				 a->line > c->line ? c->line : a->line);
	}
	t->allowed_iova = b->ranges;
	t->n_allowed_iova = b->n_ranges;
	b->ranges = NULL;
	b->n_ranges = 0;

	finish_names(l, &b->export_to, "ExportTo", &t->export_to, &t->n_export_to);
	finish_names(l, &b->import_from, "ImportFrom", &t->import_from,
		     &t->n_import_from);

	if (b->n_devices > 1)
		qsort(b->devices, b->n_devices, sizeof(*b->devices), device_compare);
	out = 0;
	for (size_t j = 0; j < b->n_devices; j++)
		if (out == 0 || policy_device_compare(&b->devices[out - 1], &b->devices[j]))
			b->devices[out++] = b->devices[j];
	t->allow_device = b->devices;
	t->n_allow_device = out;
	b->devices = NULL;
	b->n_devices = 0;
	build_clear(b);
}

int policy_loader_finish(struct policy_loader *l, struct policy **ret, struct err *e)
{
	if (l->finished)
		return err_set(e, EINVAL, "policy loader already finished");
	l->finished = true;
	for (size_t i = 0; i < l->p->n_tenants; i++)
		finish_tenant(l, i);
	if (l->oom)
		return err_set(e, ENOMEM, "out of memory");

	if (l->n_errors > 1)
		qsort(l->errors, l->n_errors, sizeof(*l->errors), error_compare);
	l->messages = calloc(l->n_errors + 1, sizeof(*l->messages));
	if (!l->messages)
		return err_set(e, ENOMEM, "out of memory");
	for (size_t i = 0; i < l->n_errors; i++)
		l->messages[i] = l->errors[i].msg;
	if (l->n_errors > 0)
		return err_set(e, EINVAL, "%s", l->errors[0].msg);

	*ret = TAKE_PTR(l->p);
	return 0;
}

size_t policy_loader_n_errors(const struct policy_loader *l)
{
	return l->n_errors;
}

const char *policy_loader_error(const struct policy_loader *l, size_t i)
{
	if (i >= l->n_errors)
		return NULL;
	return l->messages ? l->messages[i] : l->errors[i].msg;
}

/* ------------------------------------------------------------- one-shot */

static int load_one(const char *dir, const char *path, const char *name,
		    const char *text, struct policy **ret, struct err *e)
{
	struct policy_loader *l = policy_loader_new();
	int r;

	if (!l)
		return err_set(e, ENOMEM, "out of memory");
	if (dir)
		r = policy_loader_add_dir(l, dir, e);
	else if (path)
		r = policy_loader_add_file(l, path, e);
	else
		r = policy_loader_add_string(l, name, text, e);
	if (r == 0)
		r = policy_loader_finish(l, ret, e);
	policy_loader_free(l);
	return r;
}

int policy_load_dir(const char *dir, struct policy **ret, struct err *e)
{
	return load_one(dir, NULL, NULL, NULL, ret, e);
}

int policy_load_file(const char *path, struct policy **ret, struct err *e)
{
	return load_one(NULL, path, NULL, NULL, ret, e);
}

int policy_parse_string(const char *name, const char *text, struct policy **ret,
			struct err *e)
{
	return load_one(NULL, NULL, name, text, ret, e);
}
