/* SPDX-License-Identifier: MIT */
/* Restart support: who may take back a restored tenant (see state.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "common/log.h"
#include "persist/state-internal.h"
#include "rpc/rpc.h"
#include "tenant/tenant.h"


bool state_holds(const struct state *st, const struct tenant *t)
{
	return st && st->attached && !st->grace_over && tenant_unclaimed(t);
}

/* --no-policy tenants are named conn<serial>-uid<uid> by the server. */
static bool name_has_uid(const char *name, uid_t uid)
{
	char suffix[32];
	size_t n = strlen(name), k;

	snprintf(suffix, sizeof(suffix), "-uid%u", (unsigned)uid);
	k = strlen(suffix);
	return n > k && !strcmp(name + n - k, suffix);
}

void state_claim_audit(struct state *st, struct rpc_session *c, struct tenant *t)
{
	char why[400];

	tenant_set_unclaimed(t, false);
	snprintf(why, sizeof(why), "reclaimed by connection %" PRIu64 " (%s)",
		 c->serial, rpc_peer_desc(c));
	{
		struct audit_record r = {
			.kind = AUDIT_RESTART,
			.op = "reclaim",
			.allowed = true,
			.reason = why,
		};

		rpc_audit_subject(c, t, &r);
		(void)audit_emit(st->env.audit, &r);
	}
	log_info("tenant %s %s", tenant_name(t), why);
}

int state_hello(struct state *st, struct rpc_session *c, const char *token,
		const char **ret_token, bool *ret_reclaimed, struct err *e)
{
	struct tenant *t = c->tenant, *u;
	long left;

	*ret_token = NULL;
	*ret_reclaimed = false;
	if (token && !*token)
		token = NULL;
	if (!st || !st->attached) {
		if (token)
			return err_set(e, EOPNOTSUPP,
				       "this daemon runs without restart support (no --state-dir): "
				       "there is nothing to reclaim");
		return 0;
	}
	left = st->grace_end - time(NULL);
	if (left < 0)
		left = 0;
	if (!*st->env.policy) {
		/* Each connection is its own tenant: the token names the
		 * restored one, which must belong to the same uid. */
		if (token) {
			for (u = tenant_next(st->env.tenants, NULL); u; u = tenant_next(st->env.tenants, u))
				if (tenant_unclaimed(u) && tenant_reclaim_token_equal(u, token))
					break;
			if (!u)
				return err_set(e, EKEYREJECTED,
					       "no tenant restored after a restart has this reclaim "
					       "token (wrong, already reclaimed, or released after "
					       "the grace period)");
			if (!name_has_uid(tenant_name(u), c->cred.uid))
				return err_set(e, EKEYREJECTED,
					       "this reclaim token belongs to a tenant of another uid");
			tenant_conn_detach(t);
			tenant_free(t);
			c->tenant = t = u;
			tenant_conn_attach(t);
			state_claim_audit(st, c, t);
			*ret_reclaimed = true;
		}
		*ret_token = tenant_reclaim_token(t);
		return 0;
	}
	if (tenant_unclaimed(t)) {
		if (!token)
			return err_set(e, EBUSY,
				       "tenant %s was restored after a daemon restart and awaits "
				       "its reclaim token (%ld s of the grace period left); "
				       "connect presenting it, or wait until it is released",
				       tenant_name(t), left);
		if (!tenant_reclaim_token_equal(t, token))
			return err_set(e, EKEYREJECTED,
				       "this is not the reclaim token of tenant %s", tenant_name(t));
		state_claim_audit(st, c, t);
		*ret_reclaimed = true;
	} else if (token && !tenant_reclaim_token_equal(t, token)) {
		return err_set(e, EKEYREJECTED,
			       "this is not the reclaim token of tenant %s (it has no "
			       "restored objects waiting)", tenant_name(t));
	}
	*ret_token = tenant_reclaim_token(t);
	return 0;
}

