/* SPDX-License-Identifier: MIT */
/* The lexers of policy values: booleans, names, devices, users and groups
 * (numbers and sizes are common/numparse's). */
#include "common/pci.h"
#include "policy/parse-internal.h"

/* ------------------------------------------------------------- values */

bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

char *skip_blank(char *s)
{
	while (is_blank(*s))
		s++;
	return s;
}

void strip_trailing(char *s)
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


int parse_bool(const char *s)
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

bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > POLICY_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.@-", *s))
			return false;
	return true;
}

/* "1234:11e8", "0000:00:03.0" or "00:03.0" (common/pci.c's grammar). */
bool parse_device(const char *s, struct policy_device *ret)
{
	struct pci_address a;
	uint16_t v, d;

	if (!strchr(s, '.')) {
		if (pci_parse_id(s, &v, &d) < 0)
			return false;
		*ret = (struct policy_device){ .kind = POLICY_DEVICE_ID,
					       .vendor = v, .device = d };
		return true;
	}
	if (pci_parse_address(s, &a) < 0)
		return false;
	*ret = (struct policy_device){ .kind = POLICY_DEVICE_BDF,
				       .domain = a.domain, .bus = a.bus,
				       .slot = a.slot, .function = a.function };
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
bool resolve_id(struct policy_loader *l, const char *key, const char *value,
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
