/*
 * A space's own roles as the enforcement reads them: one table per call,
 * read when a role above the built-ins is first met (one read-only script
 * over at most TD_SPACE_ROLES_MAX small records). A role's change therefore
 * holds from the next call on, on every worker, with no cache to go stale;
 * and a call that meets only built-in roles costs no Redis I/O for them.
 */
#include "tokend/core/internal.h"
#include "tokend/core/rules.h"
#include "tokend/store/store.h"

void
td_roles_forget(struct td_ctx *ctx)
{
	ctx->roles.space_id = 0;
	ctx->roles.n = 0;
}

int
td_roles_load(struct td_ctx *ctx, int64_t space_id, const struct td_role_table **out)
{
	int rc;

	if (ctx->roles.space_id != space_id || space_id <= 0) {
		td_roles_forget(ctx);
		rc = td_store_role_table(ctx->store, space_id, &ctx->roles);
		if (rc != TD_STORE_OK) {
			td_roles_forget(ctx);
			return TD_ERR_UNAVAILABLE;
		}
		ctx->roles.space_id = space_id;
	}
	*out = &ctx->roles;
	return TD_OK;
}

int
td_roles_scopes(struct td_ctx *ctx, int64_t space_id, int64_t role_id, unsigned *scopes)
{
	const struct td_role_table *tab = NULL;
	unsigned perms;
	int env, rc;

	*scopes = 0;
	if (role_id <= 0)
		return TD_OK;
	/* a built-in role inherits nothing: no table needed */
	if (role_id > TD_ROLE_BUILTIN_MAX && (rc = td_roles_load(ctx, space_id, &tab)) != TD_OK)
		return rc;
	if (td_rule_role_perms(tab, role_id, &perms, &env) == 0)
		*scopes = td_role_grants(perms);
	return TD_OK;
}
