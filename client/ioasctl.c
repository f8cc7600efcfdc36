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
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ioas.h"

enum {
	EXIT_OK = 0,
	EXIT_REFUSED = 1,
	EXIT_USAGE = 2,
	EXIT_CONNECT = 3,
	EXIT_PROTOCOL = 4,
	EXIT_LOCAL = 5,
};

#define MAX_ARGS 32
#define MAX_RANGES 64

struct known_memory {
	uint32_t id;
	uint64_t length;
};

struct ctl {
	const char *socket;
	bool json;
	bool keep_going;
	unsigned int timeout_ms;
	const char *reclaim;   /* --reclaim TOKEN */
	const char *name;      /* --name NAME: Hello.client_name */
	struct ioas_client *client;

	/* Batch context: line number for messages (0 = command line). */
	unsigned int line;

	/* What this session created, for defaults and $variables. */
	struct known_memory mems[64];
	size_t n_mems;
	bool have_ioas, have_mem, have_iova;
	uint32_t last_ioas, last_mem;
	uint64_t last_iova;
	char last_token[IOAS_SHARE_TOKEN_LEN + 1]; /* $token: the last export */
	uint32_t last_share;                       /* $share */
	bool have_share;
	uint32_t last_device;                      /* $device */
	bool have_device;

	bool jfirst;
};

/* ------------------------------------------------------------ output */

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

static void jopen(struct ctl *ctl)
{
	fputc('{', stdout);
	ctl->jfirst = true;
}

static void jkey(struct ctl *ctl, const char *k)
{
	if (!ctl->jfirst)
		fputc(',', stdout);
	ctl->jfirst = false;
	jstring(k);
	fputc(':', stdout);
}

static void jstr(struct ctl *ctl, const char *k, const char *v)
{
	jkey(ctl, k);
	jstring(v ? v : "");
}

static void ju64(struct ctl *ctl, const char *k, uint64_t v)
{
	jkey(ctl, k);
	printf("%" PRIu64, v);
}

static void jbool(struct ctl *ctl, const char *k, bool v)
{
	jkey(ctl, k);
	fputs(v ? "true" : "false", stdout);
}

static void jclose(void)
{
	fputs("}\n", stdout);
	fflush(stdout);
}

static const char *fmt_size(uint64_t v, char *buf, size_t len)
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

static const char *fmt_flags(uint32_t flags, char *buf, size_t len)
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

static const char *errname(int errnum)
{
	const char *n = strerrorname_np(errnum);

	return n ? n : "E?";
}

__attribute__((format(printf, 3, 4))) static int usage_error(struct ctl *ctl,
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

__attribute__((format(printf, 4, 5))) static int local_error(struct ctl *ctl,
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
static int op_error(struct ctl *ctl, const char *cmd, int r)
{
	const char *reason = ctl->client ? ioas_client_last_error(ctl->client) :
					   "";
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

/* ------------------------------------------------------------ parsing */

static int parse_u64_plain(const char *s, uint64_t *ret)
{
	unsigned long long v;
	char *end;
	int base = 10;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		if (!*s)
			return -EINVAL;
	}
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno)
		return -errno;
	if (*end)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* A number, or $ioas / $mem / $iova: the last one this session made. */
static int parse_u64(struct ctl *ctl, const char *s, uint64_t *ret)
{
	if (s && s[0] == '$') {
		if (!strcmp(s, "$ioas") && ctl->have_ioas)
			*ret = ctl->last_ioas;
		else if (!strcmp(s, "$mem") && ctl->have_mem)
			*ret = ctl->last_mem;
		else if (!strcmp(s, "$iova") && ctl->have_iova)
			*ret = ctl->last_iova;
		else if (!strcmp(s, "$share") && ctl->have_share)
			*ret = ctl->last_share;
		else if (!strcmp(s, "$device") && ctl->have_device)
			*ret = ctl->last_device;
		else
			return -ENOENT;
		return 0;
	}
	return parse_u64_plain(s, ret);
}

/* "4096", "0x1000", "2M", "1G", "64k", "2MiB". */
static int parse_size(struct ctl *ctl, const char *s, uint64_t *ret)
{
	char num[64];
	size_t n = 0;
	uint64_t v, mul = 1;
	const char *suffix;

	if (!s)
		return -EINVAL;
	if (s[0] == '$' || (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')))
		return parse_u64(ctl, s, ret);

	while (s[n] >= '0' && s[n] <= '9')
		n++;
	if (n == 0 || n >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, n);
	num[n] = '\0';
	suffix = s + n;
	if (*suffix) {
		switch (*suffix) {
		case 'k': case 'K': mul = 1ull << 10; break;
		case 'm': case 'M': mul = 1ull << 20; break;
		case 'g': case 'G': mul = 1ull << 30; break;
		case 't': case 'T': mul = 1ull << 40; break;
		default: return -EINVAL;
		}
		suffix++;
		if (*suffix && strcasecmp(suffix, "iB") && strcasecmp(suffix, "B"))
			return -EINVAL;
	}
	if (parse_u64_plain(num, &v) < 0)
		return -EINVAL;
	if (__builtin_mul_overflow(v, mul, &v))
		return -ERANGE;
	*ret = v;
	return 0;
}

static int parse_u32(struct ctl *ctl, const char *s, uint32_t *ret)
{
	uint64_t v;
	int r = parse_u64(ctl, s, &v);

	if (r < 0)
		return r;
	if (v > UINT32_MAX)
		return -ERANGE;
	*ret = (uint32_t)v;
	return 0;
}

struct opt {
	const char *name;
	bool has_arg;
	const char *val; /* filled in */
	bool set;
};

/*
 * Split argv[1..] into --options (from opts) and positionals. Accepts
 * "--name value" and "--name=value".
 */
static int parse_args(struct ctl *ctl, int argc, char **argv, struct opt *opts,
		      size_t nopts, char **pos, size_t min_pos, size_t max_pos,
		      size_t *ret_npos)
{
	size_t npos = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (a[0] == '-' && a[1] == '-' && a[2]) {
			const char *eq = strchr(a, '=');
			size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
			struct opt *o = NULL;

			for (size_t k = 0; k < nopts; k++)
				if (strlen(opts[k].name) == len &&
				    !strncmp(opts[k].name, a + 2, len))
					o = &opts[k];
			if (!o)
				return usage_error(ctl, argv[0],
						   "unknown option %s", a);
			if (o->has_arg) {
				if (eq)
					o->val = eq + 1;
				else if (i + 1 < argc)
					o->val = argv[++i];
				else
					return usage_error(ctl, argv[0],
							   "--%s needs a value",
							   o->name);
			} else if (eq) {
				return usage_error(ctl, argv[0],
						   "--%s takes no value",
						   o->name);
			}
			o->set = true;
			continue;
		}
		if (npos >= max_pos)
			return usage_error(ctl, argv[0],
					   "unexpected argument '%s'", a);
		pos[npos++] = argv[i];
	}
	if (npos < min_pos)
		return usage_error(ctl, argv[0], "missing argument(s)");
	*ret_npos = npos;
	return 0;
}

static int bad_value(struct ctl *ctl, const char *cmd, const char *what,
		     const char *s)
{
	return usage_error(ctl, cmd, "invalid %s '%s'", what, s ? s : "");
}

/* ------------------------------------------------------------ session */

static int ensure_client(struct ctl *ctl)
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

static void remember_memory(struct ctl *ctl, uint32_t id, uint64_t length)
{
	ctl->have_mem = true;
	ctl->last_mem = id;
	for (size_t i = 0; i < ctl->n_mems; i++)
		if (ctl->mems[i].id == id) {
			ctl->mems[i].length = length;
			return;
		}
	if (ctl->n_mems < sizeof(ctl->mems) / sizeof(ctl->mems[0]))
		ctl->mems[ctl->n_mems++] = (struct known_memory){ id, length };
}

static bool known_memory_length(struct ctl *ctl, uint32_t id, uint64_t *ret)
{
	for (size_t i = 0; i < ctl->n_mems; i++)
		if (ctl->mems[i].id == id) {
			*ret = ctl->mems[i].length;
			return true;
		}
	return false;
}

static void forget_memory(struct ctl *ctl, uint32_t id)
{
	for (size_t i = 0; i < ctl->n_mems; i++)
		if (ctl->mems[i].id == id) {
			ctl->mems[i] = ctl->mems[--ctl->n_mems];
			return;
		}
}

/* ------------------------------------------------------------ commands */

static void print_caps(uint64_t caps)
{
	bool any = false;

	if (caps & IOAS_CAP_MAP_FILE) {
		fputs("map-file", stdout);
		any = true;
	}
	if (caps & IOAS_CAP_HUGE_PAGES) {
		fputs(any ? ",huge-pages" : "huge-pages", stdout);
		any = true;
	}
	if (!any)
		fputs("none", stdout);
}

static int cmd_hello(struct ctl *ctl, int argc, char **argv)
{
	struct ioas_client *c;
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, NULL, 0, NULL, 0, 0, &npos);
	if (r)
		return r;
	r = ensure_client(ctl);
	if (r)
		return r;
	c = ctl->client;
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", "hello");
		jstr(ctl, "socket", ctl->socket);
		jstr(ctl, "backend", ioas_client_backend(c));
		jstr(ctl, "server", ioas_client_server(c));
		ju64(ctl, "version", ioas_client_version(c));
		ju64(ctl, "caps", ioas_client_caps(c));
		jbool(ctl, "map_file", ioas_client_caps(c) & IOAS_CAP_MAP_FILE);
		jbool(ctl, "huge_pages", ioas_client_caps(c) & IOAS_CAP_HUGE_PAGES);
		ju64(ctl, "max_datagram", ioas_client_max_datagram(c));
		ju64(ctl, "max_fds", ioas_client_max_fds(c));
		if (ioas_client_reclaim_token(c))
			jstr(ctl, "reclaim_token", ioas_client_reclaim_token(c));
		jbool(ctl, "reclaimed", ioas_client_reclaimed(c));
		jclose();
		return 0;
	}
	printf("socket        %s\n", ctl->socket);
	printf("server        %s\n", ioas_client_server(c)[0] ? ioas_client_server(c) : "(not said)");
	printf("backend       %s\n", ioas_client_backend(c));
	printf("protocol      %u\n", ioas_client_version(c));
	printf("caps          ");
	print_caps(ioas_client_caps(c));
	printf("\nmax-datagram  %u\n", ioas_client_max_datagram(c));
	printf("max-fds       %u\n", ioas_client_max_fds(c));
	printf("reclaim-token %s\n", ioas_client_reclaim_token(c) ?
		ioas_client_reclaim_token(c) : "(no restart support)");
	if (ioas_client_reclaimed(c))
		printf("reclaimed     yes: objects restored after a daemon restart\n");
	return 0;
}

static int cmd_ioas_alloc(struct ctl *ctl, int argc, char **argv)
{
	uint32_t ioas;
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, NULL, 0, NULL, 0, 0, &npos);
	if (r)
		return r;
	r = ensure_client(ctl);
	if (r)
		return r;
	r = ioas_alloc(ctl->client, &ioas);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	ctl->have_ioas = true;
	ctl->last_ioas = ioas;
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", argv[0]);
		ju64(ctl, "ioas", ioas);
		jclose();
	} else {
		printf("ioas %u\n", ioas);
	}
	return 0;
}

/* Commands taking one handle and answering nothing but success. */
/* COMMAND HANDLE: fn(handle), then "DONE WHAT HANDLE" (or JSON). */
static int cmd_one_handle(struct ctl *ctl, int argc, char **argv,
			  const char *what, const char *done,
			  int (*fn)(struct ioas_client *, uint32_t))
{
	char *pos[1];
	uint32_t h;
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, NULL, 0, pos, 1, 1, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &h) < 0)
		return bad_value(ctl, argv[0], what, pos[0]);
	r = ensure_client(ctl);
	if (r)
		return r;
	r = fn(ctl->client, h);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", argv[0]);
		ju64(ctl, what, h);
		jclose();
	} else {
		printf("%s %s %u\n", done, what, h);
	}
	return 0;
}

static int cmd_ioas_destroy(struct ctl *ctl, int argc, char **argv)
{
	return cmd_one_handle(ctl, argc, argv, "ioas", "destroyed", ioas_destroy);
}

static int cmd_unregister(struct ctl *ctl, int argc, char **argv)
{
	uint32_t h;
	int r = cmd_one_handle(ctl, argc, argv, "memory", "unregistered",
			       ioas_memory_unregister);

	if (r == 0 && argc > 1 && parse_u32(ctl, argv[1], &h) == 0)
		forget_memory(ctl, h);
	return r;
}

static int cmd_iova_ranges(struct ctl *ctl, int argc, char **argv)
{
	struct ioas_iova_range *ranges = NULL;
	uint32_t ioas, num;
	uint64_t align;
	char *pos[1];
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, NULL, 0, pos, 1, 1, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &ioas) < 0)
		return bad_value(ctl, argv[0], "ioas", pos[0]);
	r = ensure_client(ctl);
	if (r)
		return r;
	r = ioas_iova_ranges_all(ctl->client, ioas, &ranges, &num, &align);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", argv[0]);
		ju64(ctl, "ioas", ioas);
		ju64(ctl, "alignment", align);
		jkey(ctl, "ranges");
		fputc('[', stdout);
		for (uint32_t i = 0; i < num; i++)
			printf("%s{\"start\":%" PRIu64 ",\"last\":%" PRIu64 "}",
			       i ? "," : "", ranges[i].start, ranges[i].last);
		fputc(']', stdout);
		jclose();
	} else {
		printf("alignment 0x%" PRIx64 "\n", align);
		for (uint32_t i = 0; i < num; i++)
			printf("0x%016" PRIx64 "-0x%016" PRIx64 "\n",
			       ranges[i].start, ranges[i].last);
	}
	free(ranges);
	return 0;
}

static int cmd_allow_iovas(struct ctl *ctl, int argc, char **argv)
{
	struct ioas_iova_range ranges[MAX_RANGES];
	char *pos[MAX_RANGES + 1];
	uint32_t ioas;
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, NULL, 0, pos, 1, MAX_RANGES + 1,
		       &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &ioas) < 0)
		return bad_value(ctl, argv[0], "ioas", pos[0]);
	for (size_t i = 1; i < npos; i++) {
		char buf[128], *dash;

		snprintf(buf, sizeof(buf), "%s", pos[i]);
		dash = strchr(buf, '-');
		if (!dash)
			return bad_value(ctl, argv[0], "range (START-LAST)",
					 pos[i]);
		*dash = '\0';
		if (parse_size(ctl, buf, &ranges[i - 1].start) < 0 ||
		    parse_size(ctl, dash + 1, &ranges[i - 1].last) < 0)
			return bad_value(ctl, argv[0], "range (START-LAST)",
					 pos[i]);
	}
	r = ensure_client(ctl);
	if (r)
		return r;
	r = ioas_allow_iovas(ctl->client, ioas, ranges, (uint32_t)(npos - 1));
	if (r < 0)
		return op_error(ctl, argv[0], r);
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", argv[0]);
		ju64(ctl, "ioas", ioas);
		ju64(ctl, "count", npos - 1);
		jclose();
	} else {
		printf("ioas %u: %zu allowed range(s)\n", ioas, npos - 1);
	}
	return 0;
}

static int cmd_register(struct ctl *ctl, int argc, char **argv)
{
	struct opt opts[] = {
		{ "size", true }, { "fd", true }, { "file", true },
		{ "offset", true }, { "length", true },
	};
	struct ioas_memory_info info;
	uint64_t size = 0, offset = 0, length = 0;
	bool is_memfd_cmd = !strcmp(argv[0], "memfd");
	char *pos[1], buf[32];
	int fd = -1, sources;
	bool own_fd = false;
	uint32_t mem;
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, opts, 5, pos, is_memfd_cmd ? 1 : 0,
		       is_memfd_cmd ? 1 : 0, &npos);
	if (r)
		return r;
	if (is_memfd_cmd) {
		opts[0].set = true;
		opts[0].val = pos[0];
	}
	sources = opts[0].set + opts[1].set + opts[2].set;
	if (sources != 1)
		return usage_error(ctl, argv[0],
				   "give exactly one of --size, --fd, --file");
	if (opts[3].set && parse_size(ctl, opts[3].val, &offset) < 0)
		return bad_value(ctl, argv[0], "offset", opts[3].val);
	if (opts[4].set && parse_size(ctl, opts[4].val, &length) < 0)
		return bad_value(ctl, argv[0], "length", opts[4].val);

	if (opts[0].set) {
		if (parse_size(ctl, opts[0].val, &size) < 0 || size == 0)
			return bad_value(ctl, argv[0], "size", opts[0].val);
		r = ioas_memfd_create("ioasctl", size, &fd);
		if (r < 0)
			return local_error(ctl, argv[0], r,
					   "cannot create a sealed memfd of %s",
					   fmt_size(size, buf, sizeof(buf)));
		own_fd = true;
	} else if (opts[1].set) {
		uint32_t v;

		if (parse_u32(ctl, opts[1].val, &v) < 0 || v > INT_MAX)
			return bad_value(ctl, argv[0], "fd", opts[1].val);
		fd = (int)v;
		if (fcntl(fd, F_GETFD) < 0)
			return local_error(ctl, argv[0], -errno, "fd %d", fd);
	} else {
		fd = open(opts[2].val, O_RDWR | O_CLOEXEC);
		if (fd < 0 && (errno == EACCES || errno == EROFS))
			fd = open(opts[2].val, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return local_error(ctl, argv[0], -errno, "%s",
					   opts[2].val);
		own_fd = true;
	}
	if (!opts[4].set) {
		off_t end = lseek(fd, 0, SEEK_END);

		if (end < 0 || (uint64_t)end < offset) {
			r = local_error(ctl, argv[0], end < 0 ? -errno : 0,
					"cannot size the region; give --length");
			if (own_fd)
				close(fd);
			return r;
		}
		length = (uint64_t)end - offset;
	}

	r = ensure_client(ctl);
	if (r == 0)
		r = ioas_memory_register(ctl->client, fd, offset, length, &mem,
					 &info);
	/* The daemon holds its own copy now; ours is not needed. */
	if (own_fd)
		close(fd);
	if (r > 0)
		return r;
	if (r < 0)
		return op_error(ctl, argv[0], r);

	remember_memory(ctl, mem, info.length);
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", argv[0]);
		ju64(ctl, "memory", mem);
		ju64(ctl, "length", info.length);
		jstr(ctl, "kind", info.kind);
		ju64(ctl, "page_size", info.page_size);
		jbool(ctl, "writable", info.writable);
		jclose();
	} else {
		char pbuf[32];

		printf("memory %u length %s kind %s page-size %s %s\n", mem,
		       fmt_size(info.length, buf, sizeof(buf)), info.kind,
		       fmt_size(info.page_size, pbuf, sizeof(pbuf)),
		       info.writable ? "writable" : "read-only");
	}
	return 0;
}

/* --flags N, or --read/--write (default both). */
static int map_flags(struct ctl *ctl, const char *cmd, struct opt *flags_opt,
		     struct opt *read_opt, struct opt *write_opt,
		     uint32_t *ret)
{
	uint32_t f = 0;

	if (flags_opt->set) {
		if (read_opt->set || write_opt->set)
			return usage_error(ctl, cmd,
					   "--flags excludes --read/--write");
		if (parse_u32(ctl, flags_opt->val, &f) < 0)
			return bad_value(ctl, cmd, "flags", flags_opt->val);
		*ret = f;
		return 0;
	}
	if (read_opt->set)
		f |= IOAS_MAP_READABLE;
	if (write_opt->set)
		f |= IOAS_MAP_WRITEABLE;
	if (!f)
		f = IOAS_MAP_READABLE | IOAS_MAP_WRITEABLE;
	*ret = f;
	return 0;
}

static int cmd_map(struct ctl *ctl, int argc, char **argv)
{
	struct opt opts[] = {
		{ "offset", true }, { "length", true }, { "iova", true },
		{ "flags", true },  { "read", false },  { "write", false },
	};
	uint64_t offset = 0, length = 0, iova = 0, mlen;
	uint32_t ioas, mem, flags;
	char *pos[2], fbuf[64], sbuf[32];
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, opts, 6, pos, 2, 2, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &ioas) < 0)
		return bad_value(ctl, argv[0], "ioas", pos[0]);
	if (parse_u32(ctl, pos[1], &mem) < 0)
		return bad_value(ctl, argv[0], "memory", pos[1]);
	if (opts[0].set && parse_size(ctl, opts[0].val, &offset) < 0)
		return bad_value(ctl, argv[0], "offset", opts[0].val);
	if (opts[1].set) {
		if (parse_size(ctl, opts[1].val, &length) < 0)
			return bad_value(ctl, argv[0], "length", opts[1].val);
	} else if (known_memory_length(ctl, mem, &mlen) && mlen > offset) {
		length = mlen - offset;
	} else {
		return usage_error(ctl, argv[0],
				   "--length is needed for memory %u", mem);
	}
	r = map_flags(ctl, argv[0], &opts[3], &opts[4], &opts[5], &flags);
	if (r)
		return r;
	if (opts[2].set) {
		if (parse_size(ctl, opts[2].val, &iova) < 0)
			return bad_value(ctl, argv[0], "iova", opts[2].val);
		flags |= IOAS_MAP_FIXED_IOVA;
	}

	r = ensure_client(ctl);
	if (r)
		return r;
	r = ioas_map(ctl->client, ioas, mem, offset, length, flags, &iova);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	ctl->have_iova = true;
	ctl->last_iova = iova;
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", argv[0]);
		ju64(ctl, "ioas", ioas);
		ju64(ctl, "memory", mem);
		ju64(ctl, "offset", offset);
		ju64(ctl, "length", length);
		ju64(ctl, "flags", flags);
		ju64(ctl, "iova", iova);
		jclose();
	} else {
		printf("iova 0x%" PRIx64 " length %s flags %s\n", iova,
		       fmt_size(length, sbuf, sizeof(sbuf)),
		       fmt_flags(flags, fbuf, sizeof(fbuf)));
	}
	return 0;
}

static int print_unmapped(struct ctl *ctl, const char *cmd, uint32_t ioas,
			  uint64_t unmapped)
{
	char buf[32];

	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", cmd);
		ju64(ctl, "ioas", ioas);
		ju64(ctl, "unmapped", unmapped);
		jclose();
	} else {
		printf("unmapped %s\n", fmt_size(unmapped, buf, sizeof(buf)));
	}
	return 0;
}

static int cmd_unmap(struct ctl *ctl, int argc, char **argv)
{
	struct opt opts[] = { { "all", false } };
	uint64_t iova = 0, length = 0, unmapped = 0;
	char *pos[3];
	uint32_t ioas;
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, opts, 1, pos, 1, 3, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &ioas) < 0)
		return bad_value(ctl, argv[0], "ioas", pos[0]);
	if (opts[0].set) {
		if (npos != 1)
			return usage_error(ctl, argv[0],
					   "--all takes no IOVA or length");
		length = IOAS_UNMAP_ALL_LENGTH;
	} else {
		if (npos != 3)
			return usage_error(ctl, argv[0],
					   "give IOAS IOVA LENGTH, or IOAS --all");
		if (parse_size(ctl, pos[1], &iova) < 0)
			return bad_value(ctl, argv[0], "iova", pos[1]);
		if (parse_size(ctl, pos[2], &length) < 0)
			return bad_value(ctl, argv[0], "length", pos[2]);
	}
	r = ensure_client(ctl);
	if (r)
		return r;
	r = ioas_unmap(ctl->client, ioas, iova, length, &unmapped);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	return print_unmapped(ctl, argv[0], ioas, unmapped);
}

static int cmd_unmap_all(struct ctl *ctl, int argc, char **argv)
{
	uint64_t unmapped = 0;
	char *pos[1];
	uint32_t ioas;
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, NULL, 0, pos, 1, 1, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &ioas) < 0)
		return bad_value(ctl, argv[0], "ioas", pos[0]);
	r = ensure_client(ctl);
	if (r)
		return r;
	r = ioas_unmap_all(ctl->client, ioas, &unmapped);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	return print_unmapped(ctl, argv[0], ioas, unmapped);
}

static int cmd_copy(struct ctl *ctl, int argc, char **argv)
{
	struct opt opts[] = {
		{ "iova", true }, { "flags", true },
		{ "read", false }, { "write", false },
	};
	uint64_t src_iova, length, dst_iova = 0;
	uint32_t src, dst, flags;
	char *pos[4], sbuf[32];
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, opts, 4, pos, 4, 4, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &src) < 0)
		return bad_value(ctl, argv[0], "source ioas", pos[0]);
	if (parse_size(ctl, pos[1], &src_iova) < 0)
		return bad_value(ctl, argv[0], "source iova", pos[1]);
	if (parse_size(ctl, pos[2], &length) < 0)
		return bad_value(ctl, argv[0], "length", pos[2]);
	if (parse_u32(ctl, pos[3], &dst) < 0)
		return bad_value(ctl, argv[0], "destination ioas", pos[3]);
	r = map_flags(ctl, argv[0], &opts[1], &opts[2], &opts[3], &flags);
	if (r)
		return r;
	if (opts[0].set) {
		if (parse_size(ctl, opts[0].val, &dst_iova) < 0)
			return bad_value(ctl, argv[0], "iova", opts[0].val);
		flags |= IOAS_MAP_FIXED_IOVA;
	}
	r = ensure_client(ctl);
	if (r)
		return r;
	r = ioas_copy(ctl->client, dst, src, flags, src_iova, length,
		      &dst_iova);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	ctl->have_iova = true;
	ctl->last_iova = dst_iova;
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", argv[0]);
		ju64(ctl, "src_ioas", src);
		ju64(ctl, "src_iova", src_iova);
		ju64(ctl, "length", length);
		ju64(ctl, "dst_ioas", dst);
		ju64(ctl, "flags", flags);
		ju64(ctl, "dst_iova", dst_iova);
		jclose();
	} else {
		printf("ioas %u iova 0x%" PRIx64 " (%s from ioas %u iova 0x%" PRIx64 ")\n",
		       dst, dst_iova, fmt_size(length, sbuf, sizeof(sbuf)), src,
		       src_iova);
	}
	return 0;
}

static int cmd_huge_pages(struct ctl *ctl, int argc, char **argv)
{
	char *pos[2];
	uint32_t ioas;
	bool on = false, set = false;
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, NULL, 0, pos, 1, 2, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &ioas) < 0)
		return bad_value(ctl, argv[0], "ioas", pos[0]);
	if (npos == 2) {
		set = true;
		if (!strcmp(pos[1], "on") || !strcmp(pos[1], "1"))
			on = true;
		else if (!strcmp(pos[1], "off") || !strcmp(pos[1], "0"))
			on = false;
		else
			return bad_value(ctl, argv[0], "value (on|off)",
					 pos[1]);
	}
	r = ensure_client(ctl);
	if (r)
		return r;
	r = set ? ioas_huge_pages_set(ctl->client, ioas, on) :
		  ioas_huge_pages_get(ctl->client, ioas, &on);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", argv[0]);
		ju64(ctl, "ioas", ioas);
		jbool(ctl, "huge_pages", on);
		jclose();
	} else {
		printf("ioas %u huge-pages %s\n", ioas, on ? "on" : "off");
	}
	return 0;
}

/* The daemon-wide figures only when the daemon gave them (Admin=yes or
 * uid 0); otherwise one line saying so, or "daemon_wide": false. */
static void print_stats(struct ctl *ctl, const char *cmd,
			const struct ioas_stats *s)
{
	char a[32], b[32], t[32];

	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", cmd);
		jstr(ctl, "backend", s->backend);
		ju64(ctl, "ioas", s->ioas);
		ju64(ctl, "memory_regions", s->memory_regions);
		ju64(ctl, "mappings", s->mappings);
		ju64(ctl, "mapped_bytes", s->mapped_bytes);
		ju64(ctl, "pinned_bytes", s->pinned_bytes);
		jbool(ctl, "daemon_wide", s->daemon_wide);
		if (s->daemon_wide) {
			ju64(ctl, "connections", s->connections);
			ju64(ctl, "total_ioas", s->total_ioas);
			ju64(ctl, "total_pinned_bytes", s->total_pinned_bytes);
			ju64(ctl, "tenants", s->tenants);
			ju64(ctl, "pool_size", s->pool_size);
			ju64(ctl, "pool_idle", s->pool_idle);
			ju64(ctl, "audit_suppressed", s->audit_suppressed);
			ju64(ctl, "audit_dropped", s->audit_dropped);
			ju64(ctl, "audit_evicted", s->audit_evicted);
		}
		jclose();
		return;
	}
	printf("backend             %s\n", s->backend);
	printf("ioas                %u\n", s->ioas);
	printf("memory-regions      %u\n", s->memory_regions);
	printf("mappings            %u\n", s->mappings);
	printf("mapped              %s\n", fmt_size(s->mapped_bytes, a, sizeof(a)));
	printf("pinned              %s\n", fmt_size(s->pinned_bytes, b, sizeof(b)));
	if (!s->daemon_wide) {
		printf("daemon-wide         not visible to this tenant "
		       "(for Admin=yes in its policy section, or uid 0)\n");
		return;
	}
	printf("connections         %u (daemon-wide)\n", s->connections);
	printf("total-ioas          %u (daemon-wide)\n", s->total_ioas);
	printf("total-pinned        %s (daemon-wide)\n",
	       fmt_size(s->total_pinned_bytes, t, sizeof(t)));
	printf("tenants             %u (daemon-wide)\n", s->tenants);
	printf("ioas-pool           %u of %u ready\n", s->pool_idle, s->pool_size);
	printf("audit-suppressed    %" PRIu64 " (refusals held back by the rate limit)\n",
	       s->audit_suppressed);
	printf("audit-dropped       %" PRIu64 " (records a failing sink did not take)\n",
	       s->audit_dropped);
	printf("audit-evicted       %" PRIu64 " (rate-limit subjects evicted)\n",
	       s->audit_evicted);
}

static int cmd_whoami(struct ctl *ctl, int argc, char **argv)
{
	struct ioas_whoami w;
	char a[32], b[32], c[32], d[32];
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, NULL, 0, NULL, 0, 0, &npos);
	if (r)
		return r;
	r = ensure_client(ctl);
	if (r)
		return r;
	r = ioas_whoami(ctl->client, &w);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", argv[0]);
		jstr(ctl, "tenant", w.tenant);
		jstr(ctl, "policy", w.policy_source);
		jstr(ctl, "peer", w.peer);
		ju64(ctl, "max_ioas", w.max_ioas);
		ju64(ctl, "max_pinned_bytes", w.max_pinned_bytes);
		ju64(ctl, "max_mappings", w.max_mappings);
		ju64(ctl, "max_memory_regions", w.max_memory_regions);
		ju64(ctl, "max_connections", w.max_connections);
		ju64(ctl, "max_region_size", w.max_region_size);
		ju64(ctl, "allowed_iova_ranges", w.n_allowed_iova);
		jbool(ctl, "huge_pages", w.huge_pages);
		jbool(ctl, "writeable", w.writeable);
		jstr(ctl, "rlimit_mode", w.rlimit_mode);
		ju64(ctl, "ioas", w.ioas);
		ju64(ctl, "memory_regions", w.memory_regions);
		ju64(ctl, "mappings", w.mappings);
		ju64(ctl, "mapped_bytes", w.mapped_bytes);
		ju64(ctl, "pinned_bytes", w.pinned_bytes);
		ju64(ctl, "connections", w.connections);
		jbool(ctl, "orphaned", w.orphaned);
		ju64(ctl, "devices", w.devices);
		jstr(ctl, "allow_device", w.allow_device);
		jbool(ctl, "own_context", w.own_context);
		ju64(ctl, "mappings_outside_policy", w.mappings_outside_policy);
		jbool(ctl, "daemon_wide_stats", w.daemon_wide_stats);
		jclose();
		return 0;
	}
	printf("tenant              %s%s\n", w.tenant,
	       w.orphaned ? " (removed from the policy: may only release)" : "");
	printf("policy              %s\n",
	       w.policy_source[0] ? w.policy_source : "(none: --no-policy)");
	printf("peer                %s\n", w.peer);
	printf("ioas                %u of %u\n", w.ioas, w.max_ioas);
	printf("pinned              %s of %s\n", fmt_size(w.pinned_bytes, a, sizeof(a)),
	       fmt_size(w.max_pinned_bytes, b, sizeof(b)));
	printf("mappings            %u of %u (%s mapped)\n", w.mappings, w.max_mappings,
	       fmt_size(w.mapped_bytes, c, sizeof(c)));
	if (w.mappings_outside_policy)
		printf("outside-policy      %u mappings made before a reload narrowed "
		       "AllowedIOVA (kept)\n", w.mappings_outside_policy);
	printf("memory-regions      %u of %u (each at most %s)\n", w.memory_regions,
	       w.max_memory_regions, fmt_size(w.max_region_size, d, sizeof(d)));
	printf("connections         %u of %u\n", w.connections, w.max_connections);
	if (w.n_allowed_iova == 0)
		printf("allowed-iova        any (not restricted by policy)\n");
	for (uint32_t i = 0; i < w.n_allowed_iova && i < IOAS_WHOAMI_MAX_RANGES; i++)
		printf("allowed-iova        0x%" PRIx64 "-0x%" PRIx64 "\n",
		       w.allowed_iova[i].start, w.allowed_iova[i].last);
	printf("huge-pages          %s\n", w.huge_pages ? "allowed" : "off by policy");
	printf("access              %s\n", w.writeable ? "read-write" : "read-only");
	printf("rlimit-mode         %s\n", w.rlimit_mode);
	printf("devices             %u attached; allowed: %s\n", w.devices,
	       w.allow_device[0] ? w.allow_device : "none");
	printf("context             %s\n", w.own_context ?
	       "its own (device tenant)" : "shared (pooled; COPY sharing)");
	printf("stats               %s\n", w.daemon_wide_stats ?
	       "its own and daemon-wide figures (Admin=yes, or uid 0)" :
	       "its own figures only (daemon-wide: Admin=yes or uid 0)");
	return 0;
}

static int cmd_stats(struct ctl *ctl, int argc, char **argv)
{
	struct ioas_stats s;
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, NULL, 0, NULL, 0, 0, &npos);
	if (r)
		return r;
	r = ensure_client(ctl);
	if (r)
		return r;
	r = ioas_stats(ctl->client, &s);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	print_stats(ctl, argv[0], &s);
	return 0;
}

/* ------------------------------------------------------------ demo */

struct demo {
	struct ctl *ctl;
	unsigned int step;
};

/* Start one step's output: a numbered line, or a JSON object. */
static void step_begin(struct demo *d, const char *op)
{
	d->step++;
	if (d->ctl->json) {
		jopen(d->ctl);
		ju64(d->ctl, "step", d->step);
		jstr(d->ctl, "op", op);
	} else {
		printf("%2u  %-13s", d->step, op);
	}
}

static void step_end(struct demo *d)
{
	if (d->ctl->json)
		jclose();
	else
		putchar('\n');
	fflush(stdout);
}

/* One field of a step: key=value text, or a JSON member. */
static void fu64(struct demo *d, const char *k, uint64_t v, bool hex)
{
	if (d->ctl->json)
		ju64(d->ctl, k, v);
	else if (hex)
		printf(" %s=0x%" PRIx64, k, v);
	else
		printf(" %s=%" PRIu64, k, v);
}

static void fsize(struct demo *d, const char *k, uint64_t v)
{
	char buf[32];

	if (d->ctl->json)
		ju64(d->ctl, k, v);
	else
		printf(" %s=%s", k, fmt_size(v, buf, sizeof(buf)));
}

static void fstr(struct demo *d, const char *k, const char *v)
{
	if (d->ctl->json)
		jstr(d->ctl, k, v);
	else
		printf(" %s=%s", k, v);
}

static void farrow(struct demo *d)
{
	if (!d->ctl->json)
		fputs(" ->", stdout);
}

static int step_fail(struct demo *d, const char *op, int r)
{
	if (d->ctl->json)
		jclose();
	else
		putchar('\n');
	return op_error(d->ctl, op, r);
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/*
 * A fixed IOVA for length bytes inside the allowed ranges that stays clear
 * of [avoid, avoid + avoid_len): 256 MiB if possible (a round number reads
 * well), else the first aligned spot after the existing mapping or at the
 * start of any range.
 */
static bool pick_fixed_iova(const struct ioas_iova_range *r, uint32_t n,
			    uint64_t align, uint64_t avoid, uint64_t avoid_len,
			    uint64_t length, uint64_t *ret)
{
	uint64_t cand[2 + MAX_RANGES];
	size_t nc = 0;

	if (align < 4096)
		align = 4096;
	cand[nc++] = 0x10000000;
	cand[nc++] = align_up(avoid + avoid_len, align);
	for (uint32_t i = 0; i < n && nc < sizeof(cand) / sizeof(cand[0]); i++)
		cand[nc++] = align_up(r[i].start ? r[i].start : align, align);

	for (size_t k = 0; k < nc; k++) {
		uint64_t s = cand[k], last = s + length - 1;

		if (last < s)
			continue;
		if (s < avoid + avoid_len && avoid < s + length)
			continue;
		for (uint32_t i = 0; i < n; i++)
			if (s >= r[i].start && last <= r[i].last) {
				*ret = s;
				return true;
			}
	}
	return false;
}

static int cmd_demo(struct ctl *ctl, int argc, char **argv)
{
	struct opt opts[] = { { "size", true } };
	struct demo d = { .ctl = ctl };
	struct ioas_iova_range *ranges = NULL;
	struct ioas_memory_info info;
	struct ioas_stats st;
	struct ioas_client *c;
	uint64_t size = 2u << 20, half, align, auto_iova, fixed_iova = 0,
		 copy_iova, unmapped;
	const uint32_t rw = IOAS_MAP_READABLE | IOAS_MAP_WRITEABLE;
	uint32_t ioas1, ioas2, mem, num;
	char fbuf[64];
	size_t npos;
	int fd = -1, r;

	r = parse_args(ctl, argc, argv, opts, 1, NULL, 0, 0, &npos);
	if (r)
		return r;
	if (opts[0].set &&
	    (parse_size(ctl, opts[0].val, &size) < 0 || size < 8192 ||
	     size % 8192))
		return bad_value(ctl, argv[0],
				 "size (a multiple of 8 KiB, at least 8 KiB)",
				 opts[0].val);
	half = size / 2;

	r = ensure_client(ctl);
	if (r)
		return r;
	c = ctl->client;

	step_begin(&d, "hello");
	fstr(&d, "backend", ioas_client_backend(c));
	fstr(&d, "server", ioas_client_server(c));
	fu64(&d, "protocol", ioas_client_version(c), false);
	fu64(&d, "caps", ioas_client_caps(c), true);
	fu64(&d, "max_fds", ioas_client_max_fds(c), false);
	step_end(&d);

	step_begin(&d, "ioas-alloc");
	r = ioas_alloc(c, &ioas1);
	if (r < 0)
		return step_fail(&d, "ioas-alloc", r);
	fu64(&d, "ioas", ioas1, false);
	step_end(&d);

	step_begin(&d, "ioas-alloc");
	r = ioas_alloc(c, &ioas2);
	if (r < 0)
		return step_fail(&d, "ioas-alloc", r);
	fu64(&d, "ioas", ioas2, false);
	step_end(&d);

	step_begin(&d, "memfd");
	r = ioas_memfd_create("ioasctl-demo", size, &fd);
	if (r < 0) {
		step_end(&d);
		return local_error(ctl, "demo", r, "memfd");
	}
	fsize(&d, "size", size);
	fstr(&d, "seals", "shrink,grow");
	step_end(&d);

	step_begin(&d, "register");
	r = ioas_memory_register(c, fd, 0, size, &mem, &info);
	close(fd);
	if (r < 0)
		return step_fail(&d, "register", r);
	fu64(&d, "memory", mem, false);
	fsize(&d, "length", info.length);
	fstr(&d, "kind", info.kind);
	fsize(&d, "page_size", info.page_size);
	if (ctl->json)
		jbool(ctl, "writable", info.writable);
	else
		fstr(&d, "writable", info.writable ? "yes" : "no");
	step_end(&d);

	step_begin(&d, "map");
	fu64(&d, "ioas", ioas1, false);
	fu64(&d, "memory", mem, false);
	fsize(&d, "offset", 0);
	fsize(&d, "length", half);
	fstr(&d, "flags", fmt_flags(rw, fbuf, sizeof(fbuf)));
	r = ioas_map(c, ioas1, mem, 0, half, rw, &auto_iova);
	if (r < 0)
		return step_fail(&d, "map", r);
	farrow(&d);
	fu64(&d, "iova", auto_iova, true);
	fstr(&d, "chosen_by", "daemon");
	step_end(&d);

	r = ioas_iova_ranges_all(c, ioas1, &ranges, &num, &align);
	if (r < 0)
		return op_error(ctl, "iova-ranges", r);
	if (!pick_fixed_iova(ranges, num, align, auto_iova, half, half,
			     &fixed_iova)) {
		free(ranges);
		return local_error(ctl, "demo", 0,
				   "no room for a fixed IOVA in ioas %u",
				   ioas1);
	}
	free(ranges);
	ranges = NULL;

	step_begin(&d, "map");
	fu64(&d, "ioas", ioas1, false);
	fu64(&d, "memory", mem, false);
	fsize(&d, "offset", half);
	fsize(&d, "length", half);
	fstr(&d, "flags", fmt_flags(rw | IOAS_MAP_FIXED_IOVA, fbuf,
				     sizeof(fbuf)));
	fu64(&d, "iova", fixed_iova, true);
	r = ioas_map(c, ioas1, mem, half, half, rw | IOAS_MAP_FIXED_IOVA,
		     &fixed_iova);
	if (r < 0)
		return step_fail(&d, "map", r);
	farrow(&d);
	fstr(&d, "result", "mapped");
	step_end(&d);

	step_begin(&d, "copy");
	fu64(&d, "src_ioas", ioas1, false);
	fu64(&d, "src_iova", auto_iova, true);
	fsize(&d, "length", half);
	fu64(&d, "dst_ioas", ioas2, false);
	r = ioas_copy(c, ioas2, ioas1, rw, auto_iova, half, &copy_iova);
	if (r < 0)
		return step_fail(&d, "copy", r);
	farrow(&d);
	fu64(&d, "dst_iova", copy_iova, true);
	step_end(&d);

	step_begin(&d, "iova-ranges");
	fu64(&d, "ioas", ioas1, false);
	r = ioas_iova_ranges_all(c, ioas1, &ranges, &num, &align);
	if (r < 0)
		return step_fail(&d, "iova-ranges", r);
	fu64(&d, "alignment", align, true);
	if (ctl->json) {
		jkey(ctl, "ranges");
		fputc('[', stdout);
		for (uint32_t i = 0; i < num; i++)
			printf("%s{\"start\":%" PRIu64 ",\"last\":%" PRIu64 "}",
			       i ? "," : "", ranges[i].start, ranges[i].last);
		fputc(']', stdout);
	} else {
		fputs(" ranges=", stdout);
		for (uint32_t i = 0; i < num; i++)
			printf("%s[0x%" PRIx64 "-0x%" PRIx64 "]", i ? "," : "",
			       ranges[i].start, ranges[i].last);
	}
	free(ranges);
	step_end(&d);

	step_begin(&d, "stats");
	r = ioas_stats(c, &st);
	if (r < 0)
		return step_fail(&d, "stats", r);
	fu64(&d, "ioas", st.ioas, false);
	fu64(&d, "memory_regions", st.memory_regions, false);
	fu64(&d, "mappings", st.mappings, false);
	fsize(&d, "mapped", st.mapped_bytes);
	fsize(&d, "pinned", st.pinned_bytes);
	if (st.daemon_wide)
		fu64(&d, "connections", st.connections, false);
	step_end(&d);

	step_begin(&d, "unmap");
	fu64(&d, "ioas", ioas1, false);
	fu64(&d, "iova", fixed_iova, true);
	fsize(&d, "length", half);
	r = ioas_unmap(c, ioas1, fixed_iova, half, &unmapped);
	if (r < 0)
		return step_fail(&d, "unmap", r);
	farrow(&d);
	fsize(&d, "unmapped", unmapped);
	step_end(&d);

	step_begin(&d, "unmap-all");
	fu64(&d, "ioas", ioas1, false);
	r = ioas_unmap_all(c, ioas1, &unmapped);
	if (r < 0)
		return step_fail(&d, "unmap-all", r);
	farrow(&d);
	fsize(&d, "unmapped", unmapped);
	step_end(&d);

	step_begin(&d, "unmap-all");
	fu64(&d, "ioas", ioas2, false);
	r = ioas_unmap_all(c, ioas2, &unmapped);
	if (r < 0)
		return step_fail(&d, "unmap-all", r);
	farrow(&d);
	fsize(&d, "unmapped", unmapped);
	step_end(&d);

	step_begin(&d, "ioas-destroy");
	fu64(&d, "ioas", ioas1, false);
	r = ioas_destroy(c, ioas1);
	if (r < 0)
		return step_fail(&d, "ioas-destroy", r);
	step_end(&d);

	step_begin(&d, "ioas-destroy");
	fu64(&d, "ioas", ioas2, false);
	r = ioas_destroy(c, ioas2);
	if (r < 0)
		return step_fail(&d, "ioas-destroy", r);
	step_end(&d);

	step_begin(&d, "unregister");
	fu64(&d, "memory", mem, false);
	r = ioas_memory_unregister(c, mem);
	if (r < 0)
		return step_fail(&d, "unregister", r);
	step_end(&d);
	return 0;
}

/* ------------------------------------------------------------ dispatch */

/* ------------------------------------------------------------ devices */

/* PATH, or sim:VVVV:DDDD@DDDD:BB:SS.F for a daemon on the sim backend. */
static int open_device(struct ctl *ctl, const char *cmd, const char *path,
		       int *ret_fd)
{
	char vd[16];
	const char *at;
	int r;

	if (strncmp(path, "sim:", 4) == 0) {
		at = strchr(path + 4, '@');
		if (!at || (size_t)(at - (path + 4)) >= sizeof(vd))
			return bad_value(ctl, cmd, "device", path);
		memcpy(vd, path + 4, (size_t)(at - (path + 4)));
		vd[at - (path + 4)] = '\0';
		r = ioas_sim_device_create(vd, at + 1, ret_fd);
		if (r < 0)
			return bad_value(ctl, cmd, "device", path);
		return 0;
	}
	*ret_fd = open(path, O_RDWR | O_CLOEXEC);
	if (*ret_fd < 0)
		return local_error(ctl, cmd, -errno, "%s", path);
	return 0;
}

static void print_device(struct ctl *ctl, const char *cmd,
			 const struct ioas_device_info *i)
{
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", cmd);
		ju64(ctl, "device", i->device);
		ju64(ctl, "ioas", i->ioas);
		jstr(ctl, "pci_address", i->pci_address);
		ju64(ctl, "vendor", i->vendor);
		ju64(ctl, "device_id", i->device_id);
		jstr(ctl, "name", i->name);
		jclose();
	} else {
		printf("device %u: %s %04x:%04x (%s) attached to ioas %u\n",
		       i->device, i->pci_address, i->vendor, i->device_id,
		       i->name, i->ioas);
	}
}

static int cmd_attach_device(struct ctl *ctl, int argc, char **argv)
{
	struct ioas_device_info info;
	char *pos[2];
	uint32_t ioas;
	size_t npos;
	int fd = -1, r;

	r = parse_args(ctl, argc, argv, NULL, 0, pos, 2, 2, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &ioas) < 0)
		return bad_value(ctl, argv[0], "ioas", pos[0]);
	r = ensure_client(ctl);
	if (r)
		return r;
	r = open_device(ctl, argv[0], pos[1], &fd);
	if (r)
		return r;
	/* The daemon keeps its own copy; ours is not needed after this. */
	r = ioas_device_attach(ctl->client, ioas, fd, &info);
	close(fd);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	ctl->last_device = info.device;
	ctl->have_device = true;
	print_device(ctl, argv[0], &info);
	return 0;
}

static int cmd_detach_device(struct ctl *ctl, int argc, char **argv)
{
	return cmd_one_handle(ctl, argc, argv, "device", "detached",
			      ioas_device_detach);
}

static int cmd_devices(struct ctl *ctl, int argc, char **argv)
{
	struct ioas_device_info *list = NULL;
	uint32_t n = 0;
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, NULL, 0, NULL, 0, 0, &npos);
	if (r)
		return r;
	r = ensure_client(ctl);
	if (r)
		return r;
	r = ioas_device_list(ctl->client, &list, &n);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	if (!ctl->json && n == 0)
		printf("no devices attached\n");
	for (uint32_t i = 0; i < n; i++)
		print_device(ctl, "device", &list[i]);
	free(list);
	return 0;
}

/* ------------------------------------------------------------ sharing */

static int cmd_export(struct ctl *ctl, int argc, char **argv)
{
	struct opt opts[] = { { "write", false } };
	char token[IOAS_SHARE_TOKEN_LEN + 1], *pos[3], sbuf[32];
	uint64_t iova, length;
	uint32_t ioas, share;
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, opts, 1, pos, 3, 3, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &ioas) < 0)
		return bad_value(ctl, argv[0], "ioas", pos[0]);
	if (parse_size(ctl, pos[1], &iova) < 0)
		return bad_value(ctl, argv[0], "iova", pos[1]);
	if (parse_size(ctl, pos[2], &length) < 0)
		return bad_value(ctl, argv[0], "length", pos[2]);
	r = ensure_client(ctl);
	if (r)
		return r;
	r = ioas_share_export(ctl->client, ioas, iova, length, opts[0].set,
			      &share, token);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	memcpy(ctl->last_token, token, sizeof(token));
	ctl->last_share = share;
	ctl->have_share = true;
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", argv[0]);
		ju64(ctl, "share", share);
		jstr(ctl, "token", token);
		ju64(ctl, "ioas", ioas);
		ju64(ctl, "iova", iova);
		ju64(ctl, "length", length);
		jbool(ctl, "writeable", opts[0].set);
		jclose();
	} else {
		printf("share %u token %s (%s of ioas %u at 0x%" PRIx64 ", %s)\n",
		       share, token, fmt_size(length, sbuf, sizeof(sbuf)), ioas,
		       iova, opts[0].set ? "writeable" : "read-only");
	}
	return 0;
}

static int cmd_import(struct ctl *ctl, int argc, char **argv)
{
	struct opt opts[] = { { "write", false }, { "iova", true },
			      { "offset", true }, { "length", true } };
	uint64_t iova = 0, offset = 0, length = 0, got;
	uint32_t ioas, imp, flags = 0;
	char *pos[2], sbuf[32];
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, opts, 4, pos, 2, 2, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[1], &ioas) < 0)
		return bad_value(ctl, argv[0], "ioas", pos[1]);
	if (opts[0].set)
		flags |= IOAS_MAP_WRITEABLE;
	if (opts[1].set) {
		if (parse_size(ctl, opts[1].val, &iova) < 0)
			return bad_value(ctl, argv[0], "iova", opts[1].val);
		flags |= IOAS_MAP_FIXED_IOVA;
	}
	if (opts[2].set && parse_size(ctl, opts[2].val, &offset) < 0)
		return bad_value(ctl, argv[0], "offset", opts[2].val);
	if (opts[3].set && (parse_size(ctl, opts[3].val, &length) < 0 || length == 0))
		return bad_value(ctl, argv[0], "length", opts[3].val);
	r = ensure_client(ctl);
	if (r)
		return r;
	if (!strcmp(pos[0], "$token")) {
		if (!ctl->have_share)
			return bad_value(ctl, argv[0], "token", pos[0]);
		pos[0] = ctl->last_token;
	}
	r = ioas_share_import(ctl->client, pos[0], ioas, flags, offset, length,
			      &iova, &imp, &got);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	ctl->have_iova = true;
	ctl->last_iova = iova;
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", argv[0]);
		ju64(ctl, "import", imp);
		ju64(ctl, "ioas", ioas);
		ju64(ctl, "iova", iova);
		ju64(ctl, "offset", offset);
		ju64(ctl, "length", got);
		jbool(ctl, "writeable", opts[0].set);
		jclose();
	} else {
		printf("import %u: ioas %u iova 0x%" PRIx64 " (%s)\n", imp, ioas,
		       iova, fmt_size(got, sbuf, sizeof(sbuf)));
	}
	return 0;
}

static int cmd_revoke(struct ctl *ctl, int argc, char **argv)
{
	return cmd_one_handle(ctl, argc, argv, "share", "revoked",
			      ioas_share_revoke);
}

static int cmd_shares(struct ctl *ctl, int argc, char **argv)
{
	struct ioas_share_list *l = NULL;
	char *pos[1], sbuf[32];
	uint32_t k = 0;
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, NULL, 0, pos, 0, 0, &npos);
	if (r)
		return r;
	r = ensure_client(ctl);
	if (r)
		return r;
	r = ioas_share_list(ctl->client, &l);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", argv[0]);
		ju64(ctl, "shares", l->n_shares);
		ju64(ctl, "importers", l->n_importers);
		ju64(ctl, "imports", l->n_imports);
		jclose();
	}
	for (uint32_t i = 0; i < l->n_shares; i++) {
		const struct ioas_share_info *s = &l->shares[i];

		if (ctl->json) {
			jopen(ctl);
			jstr(ctl, "cmd", "share");
			ju64(ctl, "share", s->share);
			ju64(ctl, "ioas", s->ioas);
			ju64(ctl, "iova", s->iova);
			ju64(ctl, "length", s->length);
			jbool(ctl, "writeable", s->writeable);
			jstr(ctl, "token", s->token);
			ju64(ctl, "importers", s->n_importers);
			jclose();
		} else {
			printf("share %u: ioas %u iova 0x%" PRIx64 " %s %s token %s, %u importer(s)\n",
			       s->share, s->ioas, s->iova,
			       fmt_size(s->length, sbuf, sizeof(sbuf)),
			       s->writeable ? "rw" : "ro", s->token, s->n_importers);
		}
		for (uint32_t j = 0; j < s->n_importers; j++, k++) {
			const struct ioas_importer_info *p = &l->importers[k];

			if (ctl->json) {
				jopen(ctl);
				jstr(ctl, "cmd", "importer");
				ju64(ctl, "share", p->share);
				jstr(ctl, "tenant", p->tenant);
				ju64(ctl, "import", p->import);
				ju64(ctl, "offset", p->offset);
				ju64(ctl, "length", p->length);
				jbool(ctl, "writeable", p->writeable);
				jclose();
			} else {
				printf("  imported by %s (import %u): offset 0x%" PRIx64 " %s %s\n",
				       p->tenant, p->import, p->offset,
				       fmt_size(p->length, sbuf, sizeof(sbuf)),
				       p->writeable ? "rw" : "ro");
			}
		}
	}
	for (uint32_t i = 0; i < l->n_imports; i++) {
		const struct ioas_import_info *p = &l->imports[i];

		if (ctl->json) {
			jopen(ctl);
			jstr(ctl, "cmd", "import");
			ju64(ctl, "import", p->import);
			jstr(ctl, "exporter", p->exporter);
			ju64(ctl, "share", p->share);
			ju64(ctl, "ioas", p->ioas);
			ju64(ctl, "iova", p->iova);
			ju64(ctl, "offset", p->offset);
			ju64(ctl, "length", p->length);
			jbool(ctl, "writeable", p->writeable);
			jclose();
		} else {
			printf("import %u: from %s share %u offset 0x%" PRIx64
			       " -> ioas %u iova 0x%" PRIx64 " %s %s\n",
			       p->import, p->exporter, p->share, p->offset, p->ioas,
			       p->iova, fmt_size(p->length, sbuf, sizeof(sbuf)),
			       p->writeable ? "rw" : "ro");
		}
	}
	if (!ctl->json && l->n_shares == 0 && l->n_imports == 0)
		printf("no shares, no imports\n");
	ioas_share_list_free(l);
	return 0;
}

static int cmd_notifications(struct ctl *ctl, int argc, char **argv)
{
	struct ioas_notification n;
	char *pos[1], sbuf[32];
	size_t npos;
	int r, count = 0;

	r = parse_args(ctl, argc, argv, NULL, 0, pos, 0, 0, &npos);
	if (r)
		return r;
	r = ensure_client(ctl);
	if (r)
		return r;
	while (ioas_next_notification(ctl->client, &n) == 0) {
		count++;
		if (ctl->json) {
			jopen(ctl);
			jstr(ctl, "cmd", "share-revoked");
			ju64(ctl, "import", n.import);
			ju64(ctl, "ioas", n.ioas);
			ju64(ctl, "iova", n.iova);
			ju64(ctl, "length", n.length);
			jstr(ctl, "reason", n.reason);
			jstr(ctl, "exporter", n.exporter);
			jclose();
		} else {
			printf("share revoked: import %u (ioas %u iova 0x%" PRIx64
			       " %s) from %s: %s\n",
			       n.import, n.ioas, n.iova,
			       fmt_size(n.length, sbuf, sizeof(sbuf)), n.exporter,
			       n.reason);
		}
	}
	if (!ctl->json && count == 0)
		printf("no notifications\n");
	return 0;
}

static int cmd_batch(struct ctl *ctl, int argc, char **argv);

struct command {
	const char *name;
	int (*run)(struct ctl *ctl, int argc, char **argv);
	const char *args;
	const char *help;
};

static const struct command commands[] = {
	{ "hello", cmd_hello, "", "connect; show backend, capabilities, limits" },
	{ "ioas-alloc", cmd_ioas_alloc, "", "allocate an IOAS" },
	{ "ioas-destroy", cmd_ioas_destroy, "IOAS", "destroy an IOAS" },
	{ "iova-ranges", cmd_iova_ranges, "IOAS", "show allowed IOVA ranges and alignment" },
	{ "allow-iovas", cmd_allow_iovas, "IOAS [START-LAST...]",
	  "set the ranges automatic IOVAs come from (none: clear)" },
	{ "register", cmd_register,
	  "--size SIZE | --fd N | --file PATH [--offset OFF] [--length LEN]",
	  "register memory (--size: a new sealed memfd)" },
	{ "memfd", cmd_register, "SIZE", "create a sealed memfd and register it" },
	{ "unregister", cmd_unregister, "MEMORY", "unregister memory" },
	{ "map", cmd_map,
	  "IOAS MEMORY [--offset OFF] [--length LEN] [--iova IOVA] [--read] [--write] [--flags BITS]",
	  "map memory (--iova: fixed IOVA; default read+write)" },
	{ "unmap", cmd_unmap, "IOAS IOVA LENGTH | IOAS --all", "unmap whole mappings" },
	{ "unmap-all", cmd_unmap_all, "IOAS", "unmap everything in an IOAS" },
	{ "copy", cmd_copy,
	  "SRC_IOAS SRC_IOVA LENGTH DST_IOAS [--iova IOVA] [--read] [--write] [--flags BITS]",
	  "map an existing mapping into another IOAS" },
	{ "huge-pages", cmd_huge_pages, "IOAS [on|off]", "get or set IOMMU_OPTION_HUGE_PAGES" },
	{ "stats", cmd_stats, "", "the tenant's counters (and the daemon's, for admins)" },
	{ "whoami", cmd_whoami, "", "your tenant, its policy, limits and usage" },
	{ "export", cmd_export, "IOAS IOVA LENGTH [--write]",
	  "export a mapped range as a share; prints its handle and token" },
	{ "import", cmd_import,
	  "TOKEN IOAS [--write] [--iova IOVA] [--offset OFF] [--length LEN]",
	  "import a share into an IOAS (IOMMU_IOAS_COPY, pinned once)" },
	{ "revoke", cmd_revoke, "SHARE", "revoke a share: unmaps every import of it" },
	{ "shares", cmd_shares, "", "your shares, who imports them, and your imports" },
	{ "attach-device", cmd_attach_device, "IOAS PATH",
	  "attach a VFIO device (/dev/vfio/devices/vfioN; sim:1234:11e8@0000:00:03.0 on sim)" },
	{ "detach-device", cmd_detach_device, "DEVICE", "detach a device" },
	{ "devices", cmd_devices, "", "your attached devices" },
	{ "notifications", cmd_notifications, "", "show notifications received (revoked imports)" },
	{ "demo", cmd_demo, "[--size SIZE]", "walk through every operation on one connection" },
	{ "batch", cmd_batch, "[FILE|-]", "run commands, one per line, on one connection" },
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
		"share exported, $device for the last device attached; '#' starts a\n"
		"comment.\n"
		"\n"
		"Exit status:\n"
		"  0  success\n"
		"  1  the daemon refused a request (errno and reason on stderr)\n"
		"  2  usage error\n"
		"  3  cannot connect, or the daemon refused the connection\n"
		"  4  connection lost or protocol error\n"
		"  5  local failure (memfd, file, batch input)\n");
}

static int run_command(struct ctl *ctl, int argc, char **argv)
{
	const struct command *cmd = find_command(argv[0]);

	if (!cmd)
		return usage_error(ctl, NULL, "unknown command '%s'", argv[0]);
	return cmd->run(ctl, argc, argv);
}

static int cmd_batch(struct ctl *ctl, int argc, char **argv)
{
	char *pos[1], *line = NULL;
	size_t cap = 0, npos;
	int status = EXIT_OK, r;
	FILE *f = stdin;
	ssize_t len;

	if (ctl->line)
		return usage_error(ctl, argv[0], "batches do not nest");
	r = parse_args(ctl, argc, argv, NULL, 0, pos, 0, 1, &npos);
	if (r)
		return r;
	if (npos == 1 && strcmp(pos[0], "-")) {
		f = fopen(pos[0], "re");
		if (!f)
			return local_error(ctl, argv[0], -errno, "%s", pos[0]);
	}

	for (unsigned int lineno = 1; (len = getline(&line, &cap, f)) >= 0;
	     lineno++) {
		char *args[MAX_ARGS + 1], *save = NULL, *tok;
		int n = 0;

		for (tok = strtok_r(line, " \t\r\n", &save); tok;
		     tok = strtok_r(NULL, " \t\r\n", &save)) {
			if (tok[0] == '#')
				break;
			if (n == MAX_ARGS) {
				n = -1;
				break;
			}
			args[n++] = tok;
		}
		if (n == 0)
			continue;
		ctl->line = lineno;
		if (n < 0)
			r = usage_error(ctl, NULL, "too many arguments");
		else
			r = run_command(ctl, n, args);
		ctl->line = 0;
		/* A batch fed by a pipe or a FIFO is often a conversation: each
		 * command's answer goes out before the next line is read. */
		fflush(stdout);
		fflush(stderr);
		if (r != EXIT_OK && status == EXIT_OK)
			status = r;
		if (r != EXIT_OK &&
		    (!ctl->keep_going ||
		     (ctl->client && ioas_client_broken(ctl->client)) ||
		     r == EXIT_CONNECT))
			break;
	}
	if (ferror(f) && status == EXIT_OK)
		status = local_error(ctl, argv[0], -EIO, "reading %s",
				     npos ? pos[0] : "stdin");
	free(line);
	if (f != stdin)
		fclose(f);
	return status;
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
			if (parse_u64_plain(optarg, &v) < 0 || v > UINT_MAX)
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
	ioas_client_free(ctl.client);
	return r;
}
