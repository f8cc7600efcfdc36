/* SPDX-License-Identifier: MIT */
/* ioasctl: batch, many commands on one connection. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

int cmd_batch(struct ctl *ctl, int argc, char **argv)
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
