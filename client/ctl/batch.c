/* SPDX-License-Identifier: MIT */
/*
 * ioasctl: batch, many commands on one connection, in Batch requests.
 *
 * Consecutive commands that can go in a batch (those with a struct
 * ctl_op_kind: ioas-alloc, ioas-destroy, unregister, map, unmap,
 * unmap-all, copy, export, revoke) are grouped and sent as one Batch
 * request; any other command sends the group first and then runs alone,
 * as it always did. What is printed is what running the commands one by
 * one prints, in the same order. A group is also sent
 *   - before a command that names a $variable a command of the group sets
 *     ($ioas after ioas-alloc, $iova after map or copy, $share and $token
 *     after export): its value is known only once the group ran;
 *   - when it holds 256 commands (the daemon's own limit may be lower:
 *     it is then sent in pieces);
 *   - before waiting for input: a batch fed by a pipe is often a
 *     conversation, each answer awaited before the next line is written.
 *
 * Modes: --stop-on-error (the default) stops the whole batch at the first
 * failed command, as before; with -k the commands after it that did not
 * run are sent again. --atomic makes each group all or nothing: a failure
 * undoes the group's commands (each reported ECANCELED, "undone"); commands
 * the daemon cannot undo (unmap, unmap-all, ioas-destroy, unregister,
 * revoke) then run alone, between groups; with -k the batch goes on after
 * the failed group. --no-batch sends one request per command.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"

/* Commands ioasctl holds before sending them (the daemon's limit,
 * ioas_client_max_batch(), may be lower: the group then goes in pieces). */
#define GROUP_MAX 256u

struct group {
	struct ioas_batch *b;
	size_t n;
	unsigned int sets;         /* the $variables its commands set */
	bool atomic;
	struct ctl_op ops[GROUP_MAX];
};

/* Whether the batch stops after a command that ended with status r. */
static bool stops(const struct ctl *ctl, int r)
{
	return r != EXIT_OK &&
	       (!ctl->keep_going || (ctl->client && ioas_client_broken(ctl->client)) ||
		r == EXIT_CONNECT);
}

/* A batch refused whole names the operation ("batch op K"): say its line. */
static int refused_whole(struct ctl *ctl, const struct group *g, size_t n, int r)
{
	const char *msg = ctl->client ? ioas_client_last_error(ctl->client) : "";
	const char *at = strstr(msg, "batch op ");
	unsigned int k = 0;

	ctl->line = g->ops[0].line;
	if (at && sscanf(at, "batch op %u", &k) == 1 && k < n)
		ctl->line = g->ops[k].line;
	return op_error(ctl, at && k < n ? g->ops[k].cmd : "batch", r);
}

/* Send up to n commands of g as one Batch and print their outcomes.
 * Returns the first failure's exit status; *ret_next is the first command
 * that did not run (n when all did). */
static int send_group(struct ctl *ctl, struct group *g, size_t n, size_t *ret_next)
{
	struct ioas_batch_result res;
	int status = EXIT_OK, r;

	*ret_next = n;
	(void)ioas_batch_clear(g->b);
	for (size_t i = 0; i < n; i++)
		if (g->ops[i].kind->add(g->b, &g->ops[i]) < 0) {
			ctl->line = g->ops[i].line;
			return local_error(ctl, g->ops[i].cmd, -ENOMEM, "cannot add it to the batch");
		}
	r = ioas_batch_run(ctl->client, g->b);
	if (ioas_batch_result(g->b, 0, &res) == -ENODATA)
		return refused_whole(ctl, g, n, r);
	for (size_t i = 0; i < n; i++) {
		struct ctl_op *op = &g->ops[i];

		(void)ioas_batch_result(g->b, (unsigned int)i, &res);
		ctl->line = op->line;
		if (res.error == 0) {
			op->kind->done(ctl, op, &res);
			if (res.message[0]) /* done, and could not be undone */
				fprintf(stderr, "ioasctl: line %u: %s: %s\n", op->line,
					op->cmd, res.message);
			continue;
		}
		if (res.error == -ECANCELED && !res.rolled_back) {
			*ret_next = i;
			break;
		}
		r = op_error_reason(ctl, op->cmd, res.error, res.message);
		if (status == EXIT_OK)
			status = r;
	}
	return status;
}

/* Send the group (in pieces the daemon takes), print every outcome, and
 * empty it. */
static int flush(struct ctl *ctl, struct group *g)
{
	int status = EXIT_OK, r;

	while (g->n > 0) {
		uint32_t max;
		size_t next, n;

		r = ensure_client(ctl);
		if (r) {
			status = r;
			break;
		}
		max = ioas_client_max_batch(ctl->client);
		if (max == 0) {
			/* A daemon from before Batch: one request each. */
			struct ctl_op *op = &g->ops[0];
			struct ioas_batch_result res = { 0 };

			ctl->line = op->line;
			r = op->kind->run(ctl, op, &res);
			if (r < 0)
				r = op_error(ctl, op->cmd, r);
			else
				op->kind->done(ctl, op, &res);
			next = 1;
		} else {
			n = g->n < max ? g->n : max;
			r = send_group(ctl, g, n, &next);
		}
		fflush(stdout);
		if (r != EXIT_OK && status == EXIT_OK)
			status = r;
		if (stops(ctl, r) || (r != EXIT_OK && g->atomic))
			break;
		/* What ran goes; what did not (after a failure, with -k) is
		 * sent again. */
		memmove(g->ops, g->ops + next, (g->n - next) * sizeof(g->ops[0]));
		g->n -= next;
	}
	g->n = 0;
	g->sets = 0;
	ctl->line = 0;
	return status;
}

/* Parse one command into the group. */
static int add(struct ctl *ctl, struct group *g, const struct ctl_op_kind *k,
	       int argc, char **argv, unsigned int line)
{
	struct ctl_op *op = &g->ops[g->n];
	int r;

	memset(op, 0, sizeof(*op));
	op->kind = k;
	op->line = line;
	snprintf(op->cmd, sizeof(op->cmd), "%s", argv[0]);
	r = k->parse(ctl, argc, argv, op);
	if (r)
		return r;
	g->n++;
	g->sets |= k->sets;
	return EXIT_OK;
}

/* ------------------------------------------------------------ input */

/* Lines from an fd, knowing whether one is there without waiting. */
struct input {
	int fd;
	char *buf;
	size_t cap, start, end;
	bool eof;
};

/* A newline in what is buffered, or NULL. */
static char *buffered_newline(const struct input *in)
{
	return in->end > in->start ? memchr(in->buf + in->start, '\n', in->end - in->start) :
				     NULL;
}

static bool line_buffered(const struct input *in)
{
	return in->eof || buffered_newline(in);
}

/* Whether reading would not block (a file always; a pipe once written). */
static bool input_ready(const struct input *in)
{
	struct pollfd p = { .fd = in->fd, .events = POLLIN };

	return line_buffered(in) || poll(&p, 1, 0) != 0;
}

/* The next line, without its newline; NULL at the end (*err: -errno). */
static char *input_line(struct input *in, int *err)
{
	for (;;) {
		char *nl = buffered_newline(in), *line;
		ssize_t n;

		if (nl || (in->eof && in->start < in->end)) {
			line = in->buf + in->start;
			if (!nl)
				nl = in->buf + in->end; /* room kept for it */
			*nl = '\0';
			in->start = (size_t)(nl - in->buf) + (nl < in->buf + in->end);
			return line;
		}
		if (in->eof)
			return NULL;
		if (in->start) {
			memmove(in->buf, in->buf + in->start, in->end - in->start);
			in->end -= in->start;
			in->start = 0;
		}
		if (in->cap - in->end < 2) {
			size_t cap = in->cap ? 2 * in->cap : 4096;
			char *b = realloc(in->buf, cap);

			if (!b) {
				*err = -ENOMEM;
				return NULL;
			}
			in->buf = b;
			in->cap = cap;
		}
		do {
			n = read(in->fd, in->buf + in->end, in->cap - in->end - 1);
		} while (n < 0 && errno == EINTR);
		if (n < 0) {
			*err = -errno;
			return NULL;
		}
		in->end += (size_t)n;
		in->eof = n == 0;
	}
}

/* ------------------------------------------------------------ batch */

int cmd_batch(struct ctl *ctl, int argc, char **argv)
{
	struct opt opts[] = {
		{ "atomic", false }, { "stop-on-error", false }, { "no-batch", false },
	};
	struct input in = { .fd = STDIN_FILENO };
	struct group *g = NULL;
	char *pos[1], *line;
	int status = EXIT_OK, r, err = 0;
	unsigned int lineno = 0;
	size_t npos;

	if (ctl->line)
		return usage_error(ctl, argv[0], "batches do not nest");
	r = parse_args(ctl, argc, argv, opts, 3, pos, 0, 1, &npos);
	if (r)
		return r;
	if (opts[0].set + opts[1].set + opts[2].set > 1)
		return usage_error(ctl, argv[0],
				   "give one of --atomic, --stop-on-error, --no-batch");
	g = calloc(1, sizeof(*g));
	if (!g || ioas_batch_new(opts[0].set ? IOAS_BATCH_ATOMIC : IOAS_BATCH_STOP,
				 &g->b) < 0) {
		free(g);
		return local_error(ctl, argv[0], -ENOMEM, "batch");
	}
	g->atomic = opts[0].set;
	if (npos == 1 && strcmp(pos[0], "-")) {
		in.fd = open(pos[0], O_RDONLY | O_CLOEXEC);
		if (in.fd < 0) {
			r = local_error(ctl, argv[0], -errno, "%s", pos[0]);
			goto out;
		}
	}

	for (;;) {
		char *args[MAX_ARGS + 1], *save = NULL, *tok;
		const struct ctl_op_kind *k;
		int n = 0;

		/* Nothing to read right now: what waits is sent first. */
		if (g->n && !input_ready(&in)) {
			r = flush(ctl, g);
			if (r != EXIT_OK && status == EXIT_OK)
				status = r;
			if (stops(ctl, r) || (r != EXIT_OK && g->atomic && !ctl->keep_going))
				break;
		}
		line = input_line(&in, &err);
		if (!line)
			break;
		lineno++;
		for (tok = strtok_r(line, " \t\r", &save); tok;
		     tok = strtok_r(NULL, " \t\r", &save)) {
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
		k = n < 0 || opts[2].set ? NULL : batchable_command(args[0]);
		if (k && g->atomic && !k->undone)
			k = NULL; /* it cannot be undone: it runs alone */
		/* What waits goes first when this one runs alone, names a
		 * $variable the group sets, or would not fit. */
		if (!k || (ctl_vars_used(n, args) & g->sets) || g->n == GROUP_MAX) {
			r = flush(ctl, g);
			if (r != EXIT_OK && status == EXIT_OK)
				status = r;
			if (stops(ctl, r) || (r != EXIT_OK && g->atomic && !ctl->keep_going))
				break;
		}
		ctl->line = lineno;
		if (n < 0)
			r = usage_error(ctl, NULL, "too many arguments");
		else if (k)
			r = add(ctl, g, k, n, args, lineno);
		else
			r = run_command(ctl, n, args);
		ctl->line = 0;
		/* A batch fed by a pipe or a FIFO is often a conversation: each
		 * command's answer goes out before the next line is read. */
		fflush(stdout);
		fflush(stderr);
		if (r != EXIT_OK && status == EXIT_OK)
			status = r;
		if (stops(ctl, r))
			break;
	}
	/* What is left runs: the lines before the end, a read error or a
	 * usage error that stopped the batch (every other failure has sent
	 * the group already). */
	if (g->n) {
		r = flush(ctl, g);
		if (r != EXIT_OK && status == EXIT_OK)
			status = r;
	}
	if (err < 0 && status == EXIT_OK)
		status = local_error(ctl, argv[0], err, "reading %s",
				     npos ? pos[0] : "stdin");
	r = status;
out:
	if (in.fd != STDIN_FILENO && in.fd >= 0)
		close(in.fd);
	free(in.buf);
	ioas_batch_free(g->b);
	free(g);
	return r;
}
