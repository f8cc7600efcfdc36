/* SPDX-License-Identifier: MIT */
/*
 * ioasctl: arguments. Numbers, sizes and handles; $ioas, $mem, ... (what
 * this session made); --options of a command; the memory registered here,
 * whose length is map's default.
 */
#include <errno.h>
#include <string.h>

#include "common/numparse.h"
#include "ctl.h"

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
		else if (!strcmp(s, "$hwpt") && ctl->have_hwpt)
			*ret = ctl->last_hwpt;
		else if (!strcmp(s, "$viommu") && ctl->have_viommu)
			*ret = ctl->last_viommu;
		else
			return -ENOENT;
		return 0;
	}
	return numparse_u64(s, ret);
}

/* A size in the grammar of common/numparse.h ("4096", "0x1000", "2M",
 * "64k", "2MiB"), or a $variable. */
int parse_size(struct ctl *ctl, const char *s, uint64_t *ret)
{
	if (s && s[0] == '$')
		return parse_u64(ctl, s, ret);
	return numparse_size(s, ret);
}

int parse_u32(struct ctl *ctl, const char *s, uint32_t *ret)
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

/*
 * Split argv[1..] into --options (from opts) and positionals. Accepts
 * "--name value" and "--name=value".
 */
int parse_args(struct ctl *ctl, int argc, char **argv, struct opt *opts,
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

int bad_value(struct ctl *ctl, const char *cmd, const char *what,
	      const char *s)
{
	return usage_error(ctl, cmd, "invalid %s '%s'", what, s ? s : "");
}

void remember_memory(struct ctl *ctl, uint32_t id, uint64_t length)
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

bool known_memory_length(struct ctl *ctl, uint32_t id, uint64_t *ret)
{
	for (size_t i = 0; i < ctl->n_mems; i++)
		if (ctl->mems[i].id == id) {
			*ret = ctl->mems[i].length;
			return true;
		}
	return false;
}

void forget_memory(struct ctl *ctl, uint32_t id)
{
	for (size_t i = 0; i < ctl->n_mems; i++)
		if (ctl->mems[i].id == id) {
			ctl->mems[i] = ctl->mems[--ctl->n_mems];
			return;
		}
}
