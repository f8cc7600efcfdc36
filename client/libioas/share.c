/* SPDX-License-Identifier: MIT */
/* libioas: sharing (export, import, revoke, list). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ------------------------------------------------------------ sharing */

IOAS_EXPORT int ioas_share_export(struct ioas_client *c, uint32_t ioas,
				  uint64_t iova, uint64_t length, bool writeable,
				  uint32_t *ret_share,
				  char ret_token[IOAS_SHARE_TOKEN_LEN + 1])
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__ShareExport op = IOASD__SHARE_EXPORT__INIT;
	Ioasd__Response *resp;
	int r;

	if (!ret_share || !ret_token)
		return libioas_fail(c, -EINVAL, "no place for the share handle or token");
	op.ioas = ioas;
	op.iova = iova;
	op.length = length;
	op.writeable = writeable;
	req.op_case = IOASD__REQUEST__OP_SHARE_EXPORT;
	req.share_export = &op;
	r = libioas_transact(c, &req, -1, IOASD__RESPONSE__RESULT_SHARE_EXPORT, &resp);
	if (r == 0 && strlen(resp->share_export->token) != IOAS_SHARE_TOKEN_LEN)
		r = libioas_broken(c, -EPROTO, "share token of unexpected length");
	if (r == 0) {
		*ret_share = resp->share_export->share;
		memcpy(ret_token, resp->share_export->token, IOAS_SHARE_TOKEN_LEN + 1);
	}
	if (resp)
		ioasd__response__free_unpacked(resp, NULL);
	return r;
}

IOAS_EXPORT int ioas_share_import(struct ioas_client *c, const char *token,
				  uint32_t ioas, uint32_t flags,
				  uint64_t offset, uint64_t length,
				  uint64_t *iova, uint32_t *ret_import,
				  uint64_t *ret_length)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__ShareImport op = IOASD__SHARE_IMPORT__INIT;
	Ioasd__Response *resp;
	int r;

	if (!token || !iova)
		return libioas_fail(c, -EINVAL, "no token or no place for the IOVA");
	if (flags & ~(uint32_t)(IOAS_MAP_WRITEABLE | IOAS_MAP_FIXED_IOVA |
				IOAS_MAP_READABLE))
		return libioas_fail(c, -EOPNOTSUPP, "unknown import flags 0x%x", flags);
	op.token = (char *)token;
	op.ioas = ioas;
	op.writeable = flags & IOAS_MAP_WRITEABLE;
	if (flags & IOAS_MAP_FIXED_IOVA) {
		op.has_iova = true;
		op.iova = *iova;
	}
	op.has_offset = offset != 0;
	op.offset = offset;
	op.has_length = length != 0;
	op.length = length;
	req.op_case = IOASD__REQUEST__OP_SHARE_IMPORT;
	req.share_import = &op;
	r = libioas_transact(c, &req, -1, IOASD__RESPONSE__RESULT_SHARE_IMPORT, &resp);
	if (r == 0) {
		*iova = resp->share_import->iova;
		if (ret_import)
			*ret_import = resp->share_import->import;
		if (ret_length)
			*ret_length = resp->share_import->length;
	}
	if (resp)
		ioasd__response__free_unpacked(resp, NULL);
	return r;
}

IOAS_EXPORT int ioas_share_revoke(struct ioas_client *c, uint32_t share)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__ShareRevoke op = IOASD__SHARE_REVOKE__INIT;

	op.share = share;
	req.op_case = IOASD__REQUEST__OP_SHARE_REVOKE;
	req.share_revoke = &op;
	return libioas_transact_simple(c, &req);
}

IOAS_EXPORT struct ioas_share_list *ioas_share_list_free(struct ioas_share_list *l)
{
	if (!l)
		return NULL;
	free(l->shares);
	free(l->importers);
	free(l->imports);
	free(l);
	return NULL;
}

IOAS_EXPORT int ioas_share_list(struct ioas_client *c,
				struct ioas_share_list **ret)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__ShareList op = IOASD__SHARE_LIST__INIT;
	Ioasd__ShareListReply *l;
	Ioasd__Response *resp;
	struct ioas_share_list *out;
	size_t nimp = 0, k = 0;
	int r;

	if (!ret)
		return libioas_fail(c, -EINVAL, "no place for the list");
	req.op_case = IOASD__REQUEST__OP_SHARE_LIST;
	req.share_list = &op;
	r = libioas_transact(c, &req, -1, IOASD__RESPONSE__RESULT_SHARE_LIST, &resp);
	if (r < 0) {
		if (resp)
			ioasd__response__free_unpacked(resp, NULL);
		return r;
	}
	l = resp->share_list;
	for (size_t i = 0; i < l->n_shares; i++)
		nimp += l->shares[i]->n_importers;
	out = calloc(1, sizeof(*out));
	if (out) {
		out->shares = calloc(l->n_shares + 1, sizeof(*out->shares));
		out->importers = calloc(nimp + 1, sizeof(*out->importers));
		out->imports = calloc(l->n_imports + 1, sizeof(*out->imports));
	}
	if (!out || !out->shares || !out->importers || !out->imports) {
		ioas_share_list_free(out);
		ioasd__response__free_unpacked(resp, NULL);
		return libioas_fail(c, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < l->n_shares; i++) {
		const Ioasd__ShareInfo *s = l->shares[i];
		struct ioas_share_info *o = &out->shares[i];

		o->share = s->share;
		o->ioas = s->ioas;
		o->iova = s->iova;
		o->length = s->length;
		o->writeable = s->writeable;
		libioas_copy_str(o->token, sizeof(o->token), s->token);
		o->n_importers = (uint32_t)s->n_importers;
		for (size_t j = 0; j < s->n_importers; j++, k++) {
			struct ioas_importer_info *p = &out->importers[k];

			p->share = s->share;
			libioas_copy_str(p->tenant, sizeof(p->tenant), s->importers[j]->tenant);
			p->import = s->importers[j]->import;
			p->offset = s->importers[j]->offset;
			p->length = s->importers[j]->length;
			p->writeable = s->importers[j]->writeable;
		}
	}
	for (size_t i = 0; i < l->n_imports; i++) {
		const Ioasd__ImportInfo *s = l->imports[i];
		struct ioas_import_info *p = &out->imports[i];

		p->import = s->import;
		libioas_copy_str(p->exporter, sizeof(p->exporter), s->exporter);
		p->share = s->share;
		p->ioas = s->ioas;
		p->iova = s->iova;
		p->offset = s->offset;
		p->length = s->length;
		p->writeable = s->writeable;
	}
	out->n_shares = (uint32_t)l->n_shares;
	out->n_importers = (uint32_t)nimp;
	out->n_imports = (uint32_t)l->n_imports;
	ioasd__response__free_unpacked(resp, NULL);
	*ret = out;
	return 0;
}
