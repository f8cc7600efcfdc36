/* SPDX-License-Identifier: MIT */
/* The policy loader: lines through inih, files, directories, the checks
 * that need every section, and the finished policy. */
#include "policy/parse-internal.h"

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
