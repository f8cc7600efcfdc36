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
#include "policy/parse-internal.h"

/* ------------------------------------------------------------- errors */

__attribute__((format(printf, 3, 4)))
void error_at(struct policy_loader *l, unsigned line, const char *fmt, ...)
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

int error_compare(const void *a, const void *b)
{
	const struct loader_error *x = a, *y = b;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
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

void build_clear(struct tenant_build *b)
{
	free(b->ranges);
	names_clear(&b->export_to);
	names_clear(&b->import_from);
	free(b->devices);
	*b = (struct tenant_build){ 0 };
}

static void tenant_defaults(struct policy_tenant *t, enum policy_key k)
{
	if (hwpt_key_is(k)) {
		hwpt_key_default(t, k);
		return;
	}
	if (faults_key_is(k)) {
		faults_key_default(t, k);
		return;
	}
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
	       k == POLICY_KEY_IMPORT_FROM || k == POLICY_KEY_ALLOW_DEVICE ||
	       k == POLICY_KEY_ALLOWED_PASID;
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
		if (hwpt_key_is(k))
			return hwpt_key_value(l, t, k, key, value);
		if (faults_key_is(k))
			return faults_key_value(l, t, k, key, value);
		return for_each_token(l, b, k, value);
	}
}

void tenant_key(struct policy_loader *l, const char *key, const char *value)
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

void daemon_key(struct policy_loader *l, const char *key, const char *value)
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
void begin_section(struct policy_loader *l, char *s)
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
