/* SPDX-License-Identifier: MIT */
/*
 * What policy matching needs to know about a peer beyond its credentials:
 * its systemd unit and cgroup (from its pid), and a description of it for
 * refusal messages.
 */
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#ifdef HAVE_SYSTEMD
#include <systemd/sd-login.h>
#endif

#include "common/escape.h"
#include "policy-internal.h"

static const char *user_name(uid_t uid, char *buf, size_t size)
{
	struct passwd pw, *res = NULL;

	if (getpwuid_r(uid, &pw, buf, size, &res) != 0 || !res)
		return NULL;
	return res->pw_name;
}

static const char *group_name(gid_t gid, char *buf, size_t size)
{
	struct group gr, *res = NULL;

	if (getgrgid_r(gid, &gr, buf, size, &res) != 0 || !res)
		return NULL;
	return res->gr_name;
}

/* Append to buf at *pos like snprintf; remembers truncation in *pos. */
__attribute__((format(printf, 4, 5)))
static void append(char *buf, size_t size, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*pos >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *pos, size - *pos, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	*pos += (size_t)n;
}

/* Append s escaped (escape.h): unit and cgroup names are the peer's
 * choice (a delegated cgroup subtree can be named anything), and the
 * description goes into logs, the audit trail and refusals. */
static void append_escaped(char *buf, size_t size, size_t *pos, const char *s)
{
	if (*pos >= size)
		return;
	*pos += escape_text(buf + *pos, size - *pos, s, 0);
}

int policy_peer_describe(const struct policy_peer *peer, char *buf, size_t size)
{
	char scratch[1024];
	const char *name;
	size_t pos = 0;

	if (size == 0)
		return -ENOBUFS;
	buf[0] = '\0';
	append(buf, size, &pos, "uid %u", (unsigned)peer->uid);
	name = user_name(peer->uid, scratch, sizeof(scratch));
	if (name) {
		append(buf, size, &pos, " (");
		append_escaped(buf, size, &pos, name);
		append(buf, size, &pos, ")");
	}
	append(buf, size, &pos, " gid %u", (unsigned)peer->gid);
	name = group_name(peer->gid, scratch, sizeof(scratch));
	if (name) {
		append(buf, size, &pos, " (");
		append_escaped(buf, size, &pos, name);
		append(buf, size, &pos, ")");
	}
	for (size_t i = 0; i < peer->n_groups; i++)
		append(buf, size, &pos, "%s%u", i ? "," : " groups ",
		       (unsigned)peer->groups[i]);
	if (peer->pid > 0)
		append(buf, size, &pos, " pid %d", (int)peer->pid);
	append(buf, size, &pos, " unit ");
	append_escaped(buf, size, &pos, peer->unit ? peer->unit : "(none)");
	if (peer->cgroup) {
		append(buf, size, &pos, " cgroup ");
		append_escaped(buf, size, &pos, peer->cgroup);
	}
	return pos < size ? 0 : -ENOBUFS;
}

int policy_cgroup_from_proc_text(const char *text, char **ret_cgroup)
{
	const char *v1 = NULL, *found = NULL;
	size_t len;
	char *s;

	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		const char *c1 = strchr(l, ':'), *c2, *eol = strchr(l, '\n');

		if (!c1 || (eol && c1 > eol))
			continue;
		c2 = strchr(c1 + 1, ':');
		if (!c2 || (eol && c2 > eol))
			continue;
		if (strncmp(l, "0::", 3) == 0) {
			found = c2 + 1;
			break;
		}
		/* cgroup v1 (or hybrid without "0::"): systemd's own tree. */
		if (!v1 && (size_t)(c2 - c1 - 1) == strlen("name=systemd") &&
		    strncmp(c1 + 1, "name=systemd", c2 - c1 - 1) == 0)
			v1 = c2 + 1;
	}
	if (!found)
		found = v1;
	if (!found || *found != '/')
		return -ENODATA;
	len = strcspn(found, "\n");
	s = strndup(found, len);
	if (!s)
		return -ENOMEM;
	*ret_cgroup = s;
	return 0;
}

static bool has_suffix(const char *s, size_t n, const char *suffix)
{
	size_t m = strlen(suffix);

	return n > m && memcmp(s + n - m, suffix, m) == 0;
}

int policy_unit_from_cgroup(const char *cgroup, char **ret_unit)
{
	static const char *const unit_suffixes[] = {
		".service", ".scope", ".socket", ".mount", ".swap",
	};
	const char *c = cgroup;

	/* Like systemd: skip the slices; the next component is the unit. */
	for (;;) {
		size_t n;

		while (*c == '/')
			c++;
		if (!*c)
			return -ENXIO;
		n = strcspn(c, "/");
		if (has_suffix(c, n, ".slice")) {
			c += n;
			continue;
		}
		for (size_t i = 0; i < ARRAY_SIZE(unit_suffixes); i++) {
			if (has_suffix(c, n, unit_suffixes[i])) {
				char *u = strndup(c, n);

				if (!u)
					return -ENOMEM;
				*ret_unit = u;
				return 0;
			}
		}
		return -ENXIO;
	}
}

#ifndef HAVE_SYSTEMD
static int read_proc_cgroup(pid_t pid, char **ret_text)
{
	char path[64];
	char *text = NULL;
	size_t size = 0;
	FILE *f;

	if (pid > 0)
		snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/cgroup");
	f = fopen(path, "re");
	if (!f)
		return -errno;
	/* The file holds no NUL: one getdelim() reads it whole. */
	if (getdelim(&text, &size, '\0', f) < 0) {
		int r = feof(f) ? -ENODATA : -errno;

		free(text);
		fclose(f);
		return r;
	}
	fclose(f);
	*ret_text = text;
	return 0;
}
#endif

int policy_peer_from_pid(pid_t pid, char **ret_unit, char **ret_cgroup)
{
	_cleanup_free_ char *cgroup = NULL;
	char *unit = NULL;
	int r;

#ifdef HAVE_SYSTEMD
	r = sd_pid_get_cgroup(pid, &cgroup);
	if (r < 0)
		return r;
	r = sd_pid_get_unit(pid, &unit);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		unit = NULL;    /* in no unit (e.g. no systemd): not an error */
#else
	_cleanup_free_ char *text = NULL;

	r = read_proc_cgroup(pid, &text);
	if (r < 0)
		return r;
	r = policy_cgroup_from_proc_text(text, &cgroup);
	if (r < 0)
		return r;
	r = policy_unit_from_cgroup(cgroup, &unit);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		unit = NULL;
#endif
	*ret_unit = unit;
	*ret_cgroup = TAKE_PTR(cgroup);
	return 0;
}
