/* SPDX-License-Identifier: MIT */
/* libioas: sharing (export, import, revoke, list). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ------------------------------------------------------------ sharing */

void libioas_msg_share_export(Ioasd__ShareExport *m, uint32_t ioas, uint64_t iova,
			      uint64_t length, bool writeable)
{
	*m = (Ioasd__ShareExport){ LIBIOAS_MESSAGE_BASE(share_export), .ioas = ioas,
				   .iova = iova, .length = length,
				   .writeable = writeable };
}

void libioas_msg_share_revoke(Ioasd__ShareRevoke *m, uint32_t share)
{
	*m = (Ioasd__ShareRevoke){ LIBIOAS_MESSAGE_BASE(share_revoke), .share = share };
}

IOAS_EXPORT int ioas_share_export(struct ioas_client *c, uint32_t ioas,
				  uint64_t iova, uint64_t length, bool writeable,
				  uint32_t *ret_share,
				  char ret_token[IOAS_SHARE_TOKEN_LEN + 1])
{
	Ioasd__ShareExportReply *e;
	Ioasd__ShareExport m;
	int r;

	if (!ret_share || !ret_token)
		return libioas_fail(c, -EINVAL, "no place for the share handle or token");
	libioas_msg_share_export(&m, ioas, iova, length, writeable);
	r = request_share_export(c, -1, &m, &e);
	if (r == 0 && strlen(e->token) != IOAS_SHARE_TOKEN_LEN)
		r = libioas_broken(c, -EPROTO, "share token of unexpected length");
	if (r == 0) {
		*ret_share = e->share;
		memcpy(ret_token, e->token, IOAS_SHARE_TOKEN_LEN + 1);
	}
	return r;
}

IOAS_EXPORT int ioas_share_import(struct ioas_client *c, const char *token,
				  uint32_t ioas, uint32_t flags,
				  uint64_t offset, uint64_t length,
				  uint64_t *iova, uint32_t *ret_import,
				  uint64_t *ret_length)
{
	bool fixed = flags & IOAS_MAP_FIXED_IOVA;
	Ioasd__ShareImportReply *i;
	int r;

	if (!token || !iova)
		return libioas_fail(c, -EINVAL, "no token or no place for the IOVA");
	if (flags & ~(uint32_t)(IOAS_MAP_WRITEABLE | IOAS_MAP_FIXED_IOVA |
				IOAS_MAP_READABLE))
		return libioas_fail(c, -EOPNOTSUPP, "unknown import flags 0x%x", flags);
	r = REQUEST(c, share_import, -1, &i, .token = (char *)token,
		    .ioas = ioas, .writeable = flags & IOAS_MAP_WRITEABLE,
		    .has_iova = fixed, .iova = fixed ? *iova : 0,
		    .has_offset = offset != 0, .offset = offset,
		    .has_length = length != 0, .length = length);
	if (r == 0) {
		*iova = i->iova;
		if (ret_import)
			*ret_import = i->import;
		if (ret_length)
			*ret_length = i->length;
	}
	return r;
}

IOAS_EXPORT int ioas_share_revoke(struct ioas_client *c, uint32_t share)
{
	Ioasd__ShareRevoke m;

	libioas_msg_share_revoke(&m, share);
	return request_share_revoke(c, -1, &m);
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
	Ioasd__ShareListReply *l;
	struct ioas_share_list *out;
	size_t nimp = 0, k = 0;
	int r;

	if (!ret)
		return libioas_fail(c, -EINVAL, "no place for the list");
	r = REQUEST(c, share_list, -1, &l);
	if (r < 0)
		return r;
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
	*ret = out;
	return 0;
}
