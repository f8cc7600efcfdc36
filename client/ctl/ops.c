/* SPDX-License-Identifier: MIT */
/*
 * ioasctl: the commands that can go in a batch (struct ctl_op_kind, one
 * per command in cmd-*.c), sent alone; the helpers of those that take one
 * handle; which $variables a command line names.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

int ctl_op_command(struct ctl *ctl, const struct ctl_op_kind *k, int argc, char **argv)
{
	struct ioas_batch_result res;
	struct ctl_op op = { .kind = k, .line = ctl->line };
	int r;

	snprintf(op.cmd, sizeof(op.cmd), "%s", argv[0]);
	r = k->parse(ctl, argc, argv, &op);
	if (r)
		return r;
	r = ensure_client(ctl);
	if (r)
		return r;
	memset(&res, 0, sizeof(res));
	r = k->run(ctl, &op, &res);
	if (r < 0)
		return op_error(ctl, op.cmd, r);
	k->done(ctl, &op, &res);
	return 0;
}

int ctl_op_parse_handle(struct ctl *ctl, int argc, char **argv, struct ctl_op *op,
			const char *what)
{
	char *pos[1];
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, NULL, 0, pos, 1, 1, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &op->handle) < 0)
		return bad_value(ctl, argv[0], what, pos[0]);
	return 0;
}

void ctl_op_print_handle(struct ctl *ctl, const struct ctl_op *op, const char *what,
			 const char *done)
{
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", op->cmd);
		ju64(ctl, what, op->handle);
		jclose();
	} else {
		printf("%s %s %u\n", done, what, op->handle);
	}
}

/* Commands taking one handle and answering nothing but success, that
 * cannot go in a batch (detach-device). */
int cmd_one_handle(struct ctl *ctl, int argc, char **argv,
		   const char *what, const char *done,
		   int (*fn)(struct ioas_client *, uint32_t))
{
	struct ctl_op op = { .line = ctl->line };
	int r;

	snprintf(op.cmd, sizeof(op.cmd), "%s", argv[0]);
	r = ctl_op_parse_handle(ctl, argc, argv, &op, what);
	if (r)
		return r;
	r = ensure_client(ctl);
	if (r)
		return r;
	r = fn(ctl->client, op.handle);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	ctl_op_print_handle(ctl, &op, what, done);
	return 0;
}

unsigned int ctl_vars_used(int argc, char **argv)
{
	static const struct {
		const char *name;
		unsigned int var;
	} vars[] = {
		{ "$ioas", CTL_VAR_IOAS }, { "$mem", CTL_VAR_MEM },
		{ "$iova", CTL_VAR_IOVA }, { "$share", CTL_VAR_SHARE },
		{ "$token", CTL_VAR_TOKEN }, { "$device", CTL_VAR_DEVICE },
	};
	unsigned int used = 0;

	for (int i = 1; i < argc; i++) {
		/* A value may follow --name= */
		const char *eq = strchr(argv[i], '=');
		const char *a = argv[i][0] == '-' && eq ? eq + 1 : argv[i];

		for (size_t k = 0; k < sizeof(vars) / sizeof(vars[0]); k++)
			if (!strcmp(a, vars[k].name))
				used |= vars[k].var;
	}
	return used;
}
