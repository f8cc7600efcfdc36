/* SPDX-License-Identifier: MIT */
/* ioasctl: JSON and text output, error messages and their exit status. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/errname.h"
#include "ctl.h"

static void jstring(const char *s)
{
	fputc('"', stdout);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", stdout);
			break;
		case '\\':
			fputs("\\\\", stdout);
			break;
		case '\n':
			fputs("\\n", stdout);
			break;
		case '\t':
			fputs("\\t", stdout);
			break;
		default:
			if (*p < 0x20)
				printf("\\u%04x", *p);
			else
				fputc(*p, stdout);
		}
	}
	fputc('"', stdout);
}

void jopen(struct ctl *ctl)
{
	fputc('{', stdout);
	ctl->jfirst = true;
}

void jkey(struct ctl *ctl, const char *k)
{
	if (!ctl->jfirst)
		fputc(',', stdout);
	ctl->jfirst = false;
	jstring(k);
	fputc(':', stdout);
}

void jstr(struct ctl *ctl, const char *k, const char *v)
{
	jkey(ctl, k);
	jstring(v ? v : "");
}

void ju64(struct ctl *ctl, const char *k, uint64_t v)
{
	jkey(ctl, k);
	printf("%" PRIu64, v);
}

void jbool(struct ctl *ctl, const char *k, bool v)
{
	jkey(ctl, k);
	fputs(v ? "true" : "false", stdout);
}

void jclose(void)
{
	fputs("}\n", stdout);
	fflush(stdout);
}

const char *fmt_size(uint64_t v, char *buf, size_t len)
{
	if (v == 0)
		snprintf(buf, len, "0");
	else if (v % (1ull << 30) == 0)
		snprintf(buf, len, "%" PRIu64 " GiB", v >> 30);
	else if (v && v % (1ull << 20) == 0)
		snprintf(buf, len, "%" PRIu64 " MiB", v >> 20);
	else if (v && v % (1ull << 10) == 0)
		snprintf(buf, len, "%" PRIu64 " KiB", v >> 10);
	else
		snprintf(buf, len, "%" PRIu64 " bytes", v);
	return buf;
}

const char *fmt_flags(uint32_t flags, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s",
		 flags & IOAS_MAP_FIXED_IOVA ? "fixed," : "",
		 flags & IOAS_MAP_READABLE ? "read," : "",
		 flags & IOAS_MAP_WRITEABLE ? "write," : "",
		 flags & ~(IOAS_MAP_FIXED_IOVA | IOAS_MAP_READABLE |
			   IOAS_MAP_WRITEABLE) ?
			 "unknown," :
			 "");
	if (buf[0])
		buf[strlen(buf) - 1] = '\0';
	else
		snprintf(buf, len, "none");
	return buf;
}

const char *errname(int errnum)
{
	const char *n = errno_name(errnum);

	return n ? n : "E?";
}

__attribute__((format(printf, 3, 4))) int usage_error(struct ctl *ctl,
						      const char *cmd,
						      const char *fmt,
						      ...)
{
	va_list ap;

	fputs("ioasctl: ", stderr);
	if (ctl->line)
		fprintf(stderr, "line %u: ", ctl->line);
	if (cmd)
		fprintf(stderr, "%s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see ioasctl --help)\n", stderr);
	return EXIT_USAGE;
}

__attribute__((format(printf, 4, 5))) int local_error(struct ctl *ctl,
						      const char *cmd,
						      int neg_errno,
						      const char *fmt,
						      ...)
{
	va_list ap;

	fputs("ioasctl: ", stderr);
	if (ctl->line)
		fprintf(stderr, "line %u: ", ctl->line);
	if (cmd)
		fprintf(stderr, "%s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (neg_errno)
		fprintf(stderr, ": %s", strerror(-neg_errno));
	fputc('\n', stderr);
	return EXIT_LOCAL;
}

/* A failed libioas call: errno, its name and the daemon's reason. */
int op_error(struct ctl *ctl, const char *cmd, int r)
{
	return op_error_reason(ctl, cmd, r,
			       ctl->client ? ioas_client_last_error(ctl->client) : "");
}

int op_error_reason(struct ctl *ctl, const char *cmd, int r, const char *reason)
{
	bool lost = ctl->client && ioas_client_broken(ctl->client);

	fputs("ioasctl: ", stderr);
	if (ctl->line)
		fprintf(stderr, "line %u: ", ctl->line);
	fprintf(stderr, "%s: %s (%s)", cmd, strerror(-r), errname(-r));
	if (reason && reason[0])
		fprintf(stderr, ": %s", reason);
	fputc('\n', stderr);

	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", cmd);
		jstr(ctl, "error", errname(-r));
		ju64(ctl, "errno", (uint64_t)-r);
		jstr(ctl, "message", reason);
		if (ctl->line)
			ju64(ctl, "line", ctl->line);
		jclose();
	}
	return lost ? EXIT_PROTOCOL : EXIT_REFUSED;
}
