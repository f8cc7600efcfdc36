/* SPDX-License-Identifier: MIT */
/* ioasctl: the sharing commands (export, import, revoke, shares,
 * notifications). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"

/* ------------------------------------------------------------ sharing */

static int parse_export(struct ctl *ctl, int argc, char **argv, struct ctl_op *op)
{
	struct opt opts[] = { { "write", false } };
	char *pos[3];
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, opts, 1, pos, 3, 3, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &op->ioas) < 0)
		return bad_value(ctl, argv[0], "ioas", pos[0]);
	if (parse_size(ctl, pos[1], &op->iova) < 0)
		return bad_value(ctl, argv[0], "iova", pos[1]);
	if (parse_size(ctl, pos[2], &op->length) < 0)
		return bad_value(ctl, argv[0], "length", pos[2]);
	op->writeable = opts[0].set;
	return 0;
}

static int add_export(struct ioas_batch *b, const struct ctl_op *op)
{
	return ioas_batch_share_export(b, op->ioas, op->iova, op->length, op->writeable);
}

static int run_export(struct ctl *ctl, const struct ctl_op *op,
		      struct ioas_batch_result *ret)
{
	return ioas_share_export(ctl->client, op->ioas, op->iova, op->length,
				 op->writeable, &ret->handle, ret->token);
}

static void done_export(struct ctl *ctl, const struct ctl_op *op,
			const struct ioas_batch_result *res)
{
	char sbuf[32];

	memcpy(ctl->last_token, res->token, sizeof(ctl->last_token));
	ctl->last_share = res->handle;
	ctl->have_share = true;
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", op->cmd);
		ju64(ctl, "share", res->handle);
		jstr(ctl, "token", res->token);
		ju64(ctl, "ioas", op->ioas);
		ju64(ctl, "iova", op->iova);
		ju64(ctl, "length", op->length);
		jbool(ctl, "writeable", op->writeable);
		jclose();
	} else {
		printf("share %u token %s (%s of ioas %u at 0x%" PRIx64 ", %s)\n",
		       res->handle, res->token, fmt_size(op->length, sbuf, sizeof(sbuf)),
		       op->ioas, op->iova, op->writeable ? "writeable" : "read-only");
	}
}

const struct ctl_op_kind op_export = {
	parse_export, add_export, run_export, done_export,
	.undone = true, .sets = CTL_VAR_SHARE | CTL_VAR_TOKEN,
};

int cmd_import(struct ctl *ctl, int argc, char **argv)
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

static int parse_revoke(struct ctl *ctl, int argc, char **argv, struct ctl_op *op)
{
	return ctl_op_parse_handle(ctl, argc, argv, op, "share");
}

static int add_revoke(struct ioas_batch *b, const struct ctl_op *op)
{
	return ioas_batch_share_revoke(b, op->handle);
}

static int run_revoke(struct ctl *ctl, const struct ctl_op *op,
		      struct ioas_batch_result *ret)
{
	return ioas_share_revoke(ctl->client, op->handle);
}

static void done_revoke(struct ctl *ctl, const struct ctl_op *op,
			const struct ioas_batch_result *res)
{
	ctl_op_print_handle(ctl, op, "share", "revoked");
}

const struct ctl_op_kind op_revoke = { parse_revoke, add_revoke, run_revoke, done_revoke };

int cmd_shares(struct ctl *ctl, int argc, char **argv)
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

int cmd_notifications(struct ctl *ctl, int argc, char **argv)
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
