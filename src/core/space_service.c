/*
 * Spaces and their activity trail, for the admin view: list, get, create
 * (with the built-in token every space is born with), update, delete.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tokend/core/internal.h"
#include "tokend/core/role.h"
#include "tokend/core/rules.h"
#include "tokend/server/log.h"
#include "tokend/store/store.h"

#define NOT_FOUND "This record could not be found"

struct list_ctx {
	const struct td_principal *who;
	td_core_space_cb cb;
	void *arg;
};

static int
list_one(const struct td_space *sp, void *arg)
{
	struct list_ctx *l = arg;

	return td_rule_reaches(l->who, sp->id) ? l->cb(sp, l->arg) : 0;
}

int
td_core_space_list(struct td_call *c, td_core_space_cb cb, void *arg)
{
	struct list_ctx l = { &c->who, cb, arg };

	if (td_core_expect(c, TD_OP_SPACE_LIST) != TD_OK)
		return c->err.code;
	return td_fail_store(c, td_store_space_list(c->ctx->store, list_one, &l), NOT_FOUND);
}

/* The call's space, which td_core_begin loaded: checked, not assumed. */
static int
loaded_space(struct td_call *c)
{
	if (c->space_id <= 0 || c->ctx->scratch_space.id != c->space_id)
		return td_fail(c, TD_ERR_INTERNAL, NULL, "the call's space is not loaded");
	return TD_OK;
}

int
td_core_space_get(struct td_call *c, const struct td_space **out)
{
	if (td_core_expect(c, TD_OP_SPACE_GET) != TD_OK || loaded_space(c) != TD_OK)
		return c->err.code;
	*out = &c->ctx->scratch_space;
	return TD_OK;
}

/* Every space is born with one built-in token, as DatoCMS projects are:
 * "Read-only API token", delivery (published and drafts) plus management
 * through the read-only role. It can be regenerated and deleted, not
 * edited, and it is the space's, not minted by whoever made the space. */
static int
add_builtin_token(struct td_call *c, int64_t space_id)
{
	struct td_token *t = &c->ctx->scratch_token;
	const struct td_token_bounds bounds = { c->ctx->cfg->space_tokens_max, 0 };
	struct td_space read;
	struct td_store_start st = { .space = &read };	/* no limiter: the space's own call took it */

	td_token_defaults(t);
	t->space_id = space_id;
	snprintf(t->name, sizeof(t->name), "Read-only API token");
	t->has_name = 1;
	td_token_set_access(t, TD_ACCESS_PRIVATE);
	t->rights |= TD_RIGHT_CMA;
	t->role_id = TD_ROLE_READONLY;
	t->hardcoded = TD_HARDCODED_READONLY;
	if (td_token_regenerate(t, c->ctx->keyring) != 0)
		return TD_STORE_DOWN;
	t->created_at_ms = t->updated_at_ms = td_now_ms();
	memcpy(t->created_by, c->who.actor, sizeof(t->created_by));
	memcpy(t->updated_by, c->who.actor, sizeof(t->updated_by));
	return td_store_token_create(c->ctx->store, t, NULL, NULL, &bounds, &st);
}

int
td_core_space_create(struct td_call *c, const struct td_space_change *ch,
		     const struct td_space **out)
{
	struct td_space *sp = &c->ctx->scratch_space;

	if (td_core_expect(c, TD_OP_SPACE_CREATE) != TD_OK)
		return c->err.code;
	if (td_rule_needs_all_spaces(c->op) && !c->who.all_spaces)
		return td_fail(c, TD_ERR_FORBIDDEN, NULL,
			       "only a credential for all spaces may create spaces");
	memset(sp, 0, sizeof(*sp));
	if (td_space_apply_change(sp, ch, 1, &c->err) != 0)
		return c->err.code;
	sp->created_at_ms = sp->updated_at_ms = td_now_ms();
	memcpy(sp->created_by, c->who.actor, sizeof(sp->created_by));
	if (td_fail_store(c, td_store_space_create(c->ctx->store, sp, ch->has_id), NOT_FOUND) != TD_OK)
		return c->err.code;
	if (add_builtin_token(c, sp->id) != TD_STORE_OK)
		td_log_error("space %" PRId64 ": built-in token not created", sp->id);
	td_audit(c, sp->id, "space", "create", sp->id);
	td_audit(c, TD_TRAIL_ACCOUNT, "space", "create", sp->id);
	*out = sp;
	return TD_OK;
}

int
td_core_space_update(struct td_call *c, const struct td_space_change *ch,
		     const struct td_space **out)
{
	struct td_space *sp = &c->ctx->scratch_space;
	int attempt, rc;

	if (td_core_expect(c, TD_OP_SPACE_UPDATE) != TD_OK || loaded_space(c) != TD_OK)
		return c->err.code;
	/* a space's bounds hold its own callers: only the operator moves them */
	if ((ch->has_rate_limit || ch->has_write_rate || ch->has_tokens_max ||
	     ch->has_record_bytes) && !c->who.all_spaces)
		return td_fail(c, TD_ERR_FORBIDDEN, "limits",
			       "only a credential for all spaces may change a space's limits");
	for (attempt = 0;; attempt++) {
		if (td_space_apply_change(sp, ch, 0, &c->err) != 0)
			return c->err.code;
		sp->updated_at_ms = td_now_ms();
		rc = td_fail_store(c, td_store_space_put(c->ctx->store, sp), NOT_FOUND);
		if (rc != TD_ERR_CONFLICT || !td_cas_again(attempt + 1))
			break;
		/* changed in between: apply the change to what is there now */
		if (td_fail_store(c, td_store_space_get(c->ctx->store, c->space_id, sp),
				  NOT_FOUND) != TD_OK)
			return c->err.code;
	}
	if (rc != TD_OK)
		return rc;
	td_audit(c, sp->id, "space", "update", sp->id);
	*out = sp;
	return TD_OK;
}

int
td_core_space_delete(struct td_call *c, const struct td_space **out)
{
	if (td_core_expect(c, TD_OP_SPACE_DELETE) != TD_OK)
		return c->err.code;
	td_token_copy_forget(c->ctx, c->space_id, 0);
	if (td_fail_store(c, td_store_space_delete(c->ctx->store, c->space_id,
						   &c->ctx->scratch_space), NOT_FOUND) != TD_OK)
		return c->err.code;
	td_audit(c, TD_TRAIL_ACCOUNT, "space", "delete", c->space_id);
	*out = &c->ctx->scratch_space;
	return TD_OK;
}

int
td_core_activities(struct td_call *c, int64_t limit, td_core_activity_cb cb, void *arg)
{
	if (c->op == TD_OP_ACCOUNT_ACTIVITIES) {
		if (td_rule_needs_all_spaces(c->op) && !c->who.all_spaces)
			return td_fail(c, TD_ERR_FORBIDDEN, NULL,
				       "only a credential for all spaces may read the account's trail");
	} else if (td_core_expect(c, TD_OP_ACTIVITIES) != TD_OK || c->space_id <= 0) {
		return td_fail(c, TD_ERR_INTERNAL, NULL, "a space's trail needs its space");
	}
	if (limit < 1 || limit > TD_ACTIVITY_LIST_MAX)
		return td_fail(c, TD_ERR_INVALID, "limit", "must be 1..1000");
	return td_fail_store(c, td_store_activity_list(c->ctx->store, c->space_id, (int)limit,
						       cb, arg), NOT_FOUND);
}
