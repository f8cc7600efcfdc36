/* SPDX-License-Identifier: MIT */
/*
 * ioasctl exec: the hand-off to a VMM in one command. It obtains a
 * delegated iommufd context and unbound VFIO device files from the daemon,
 * makes them inheritable, writes their numbers into the program's
 * arguments where {iommufd} and {device:ADDRESS} stand, and execs the
 * program, which then owns them (the daemon keeps no copy).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/pci.h"
#include "ctl.h"

#define EXEC_MAX_DEVICES 16
#define PH_CONTEXT "{iommufd}"
#define PH_DEVICE "{device:"

struct exec_device {
	char address[PCI_ADDRESS_LEN]; /* canonical: "0000:00:04.0" */
	int fd;
};

struct exec_plan {
	bool context;
	int context_fd;
	struct exec_device dev[EXEC_MAX_DEVICES];
	size_t ndev;
};

/* ADDRESS as given -> canonical, or -EINVAL. */
static int canonical(const char *s, size_t len, char out[PCI_ADDRESS_LEN])
{
	struct pci_address a;
	char buf[64];

	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (pci_parse_address(buf, &a) < 0)
		return -EINVAL;
	pci_format_address(out, PCI_ADDRESS_LEN, a.domain, a.bus, a.slot, a.function);
	return 0;
}

static struct exec_device *find_device(struct exec_plan *p, const char *address)
{
	for (size_t i = 0; i < p->ndev; i++)
		if (!strcmp(p->dev[i].address, address))
			return &p->dev[i];
	return NULL;
}

/* Name a device once, however often it is asked for. */
static int want_device(struct ctl *ctl, struct exec_plan *p, const char *s, size_t len)
{
	char a[PCI_ADDRESS_LEN];

	if (canonical(s, len, a) < 0)
		return usage_error(ctl, "exec", "'%.*s' is not a PCI address "
				   "(DDDD:BB:SS.F or BB:SS.F)", (int)len, s);
	if (find_device(p, a))
		return 0;
	if (p->ndev == EXEC_MAX_DEVICES)
		return usage_error(ctl, "exec", "at most %d devices", EXEC_MAX_DEVICES);
	snprintf(p->dev[p->ndev].address, sizeof(p->dev[0].address), "%s", a);
	p->dev[p->ndev++].fd = -1;
	return 0;
}

/* The placeholders arg names: they ask for what they stand for. */
static int scan(struct ctl *ctl, struct exec_plan *p, const char *arg)
{
	for (const char *s = arg; (s = strchr(s, '{')); s++) {
		if (!strncmp(s, PH_CONTEXT, strlen(PH_CONTEXT))) {
			p->context = true;
		} else if (!strncmp(s, PH_DEVICE, strlen(PH_DEVICE))) {
			const char *id = s + strlen(PH_DEVICE), *end = strchr(id, '}');
			int r;

			if (!end)
				return usage_error(ctl, "exec", "unterminated %s in '%s'",
						   PH_DEVICE, arg);
			r = want_device(ctl, p, id, (size_t)(end - id));
			if (r)
				return r;
		}
	}
	return 0;
}

/* arg with every placeholder replaced by its fd number (malloc'ed). */
static char *substitute(struct exec_plan *p, const char *arg)
{
	size_t cap = strlen(arg) + 1, len = 0;
	char *out = malloc(cap);
	const char *s = arg;

	if (!out)
		return NULL;
	while (*s) {
		char num[16] = "";
		size_t skip = 0;

		if (!strncmp(s, PH_CONTEXT, strlen(PH_CONTEXT))) {
			snprintf(num, sizeof(num), "%d", p->context_fd);
			skip = strlen(PH_CONTEXT);
		} else if (!strncmp(s, PH_DEVICE, strlen(PH_DEVICE))) {
			const char *id = s + strlen(PH_DEVICE), *end = strchr(id, '}');
			char a[PCI_ADDRESS_LEN];
			struct exec_device *d;

			/* scan() accepted every one: it is known. */
			if (end && canonical(id, (size_t)(end - id), a) == 0 &&
			    (d = find_device(p, a))) {
				snprintf(num, sizeof(num), "%d", d->fd);
				skip = (size_t)(end - s) + 1;
			}
		}
		if (skip) {
			size_t n = strlen(num);
			char *grown;

			if (len + n + strlen(s) + 1 > cap) {
				cap = len + n + strlen(s) + 1;
				grown = realloc(out, cap);
				if (!grown) {
					free(out);
					return NULL;
				}
				out = grown;
			}
			memcpy(out + len, num, n);
			len += n;
			s += skip;
		} else {
			if (len + 2 > cap) {
				char *grown = realloc(out, cap * 2);

				if (!grown) {
					free(out);
					return NULL;
				}
				out = grown;
				cap *= 2;
			}
			out[len++] = *s++;
		}
	}
	out[len] = '\0';
	return out;
}

/* NULL-terminated, each malloc'ed, and the array too. */
static void free_args(char **args)
{
	for (char **a = args; a && *a; a++)
		free(*a);
	free(args);
}

static int inheritable(struct ctl *ctl, int fd)
{
	if (fcntl(fd, F_SETFD, 0) < 0)
		return local_error(ctl, "exec", -errno, "making fd %d inheritable", fd);
	return 0;
}

int cmd_exec(struct ctl *ctl, int argc, char **argv)
{
	struct exec_plan p = { .context_fd = -1 };
	char **args;
	int i, r, prog = -1;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			prog = i + 1;
			break;
		} else if (!strcmp(argv[i], "--context")) {
			p.context = true;
		} else if (!strcmp(argv[i], "--device") && i + 1 < argc) {
			r = want_device(ctl, &p, argv[i + 1], strlen(argv[i + 1]));
			if (r)
				return r;
			i++;
		} else if (!strncmp(argv[i], "--device=", 9)) {
			r = want_device(ctl, &p, argv[i] + 9, strlen(argv[i] + 9));
			if (r)
				return r;
		} else {
			return usage_error(ctl, "exec", "unexpected '%s' (the program comes "
					   "after '--')", argv[i]);
		}
	}
	if (prog < 0 || prog >= argc)
		return usage_error(ctl, "exec", "no program: ioasctl exec [--context] "
				   "[--device ADDRESS]... -- PROGRAM [ARGS...]");
	for (i = prog; i < argc; i++) {
		r = scan(ctl, &p, argv[i]);
		if (r)
			return r;
	}
	if (p.context || p.ndev) {
		r = ensure_client(ctl);
		if (r)
			return r;
	}
	if (p.context) {
		char mode[16];

		r = ioas_context_open(ctl->client, &p.context_fd, mode);
		if (r < 0)
			return op_error(ctl, "exec: iommufd context", r);
		r = inheritable(ctl, p.context_fd);
		if (r)
			return r;
	}
	for (size_t d = 0; d < p.ndev; d++) {
		char what[64];

		r = ioas_device_open(ctl->client, p.dev[d].address, &p.dev[d].fd, NULL);
		if (r < 0) {
			snprintf(what, sizeof(what), "exec: device %s", p.dev[d].address);
			return op_error(ctl, what, r);
		}
		r = inheritable(ctl, p.dev[d].fd);
		if (r)
			return r;
	}
	args = calloc((size_t)(argc - prog) + 1, sizeof(*args));
	if (!args)
		return local_error(ctl, "exec", -ENOMEM, "arguments");
	for (i = prog; i < argc; i++) {
		args[i - prog] = substitute(&p, argv[i]);
		if (!args[i - prog]) {
			free_args(args);
			return local_error(ctl, "exec", -ENOMEM, "arguments");
		}
	}
	/* The connection is not the program's (it is CLOEXEC anyway); the
	 * tenant's other objects, if any, go with it. */
	ctl->client = ioas_client_free(ctl->client);
	fflush(NULL);
	execvp(args[0], args);
	r = local_error(ctl, "exec", -errno, "%s", args[0]);
	free_args(args);
	return r;
}
