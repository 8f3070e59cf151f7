/*
 * GET /v1/whoami: the calling credential as the core identified it (kind,
 * id, spaces, scopes, full permission, expiry, role) and which operations
 * it may start, so a client such as the console offers only those. The
 * core decides each answer (td_core_may); this file only names and renders
 * them. It never shows a value: the caller already holds its own.
 */
#include "tokend/api/fields.h"
#include "tokend/api/handlers.h"

/* The operations a client may offer, by the names it shows them under. */
static const struct {
	const char *name;
	enum td_op op;
} may_table[] = {
	{ "spaces.list", TD_OP_SPACE_LIST },
	{ "spaces.create", TD_OP_SPACE_CREATE },
	{ "spaces.update", TD_OP_SPACE_UPDATE },
	{ "spaces.delete", TD_OP_SPACE_DELETE },
	{ "spaces.activities", TD_OP_ACTIVITIES },
	{ "activities", TD_OP_ACCOUNT_ACTIVITIES },
	{ "tokens.list", TD_OP_TOKEN_LIST },
	{ "tokens.create", TD_OP_TOKEN_CREATE },
	{ "tokens.update", TD_OP_TOKEN_UPDATE },
	{ "tokens.regenerate", TD_OP_TOKEN_REGENERATE },
	{ "tokens.status", TD_OP_TOKEN_STATUS },
	{ "tokens.delete", TD_OP_TOKEN_DELETE },
	{ "pats.list", TD_OP_PAT_LIST },
	{ "pats.create", TD_OP_PAT_CREATE },
	{ "pats.delete", TD_OP_PAT_DELETE },
	{ "roles.list", TD_OP_ROLE_LIST },
	{ "roles.create", TD_OP_ROLE_CREATE },
};

int
td_api_whoami(struct td_ctx *ctx, struct td_request *req)
{
	struct json_object *o, *may;
	const struct td_principal *who;
	struct td_call c;
	size_t i;

	if (td_api_begin(ctx, req, &c, "whoami", TD_OP_WHOAMI, TD_SPACE_NONE, 0) != 0)
		return 0;
	who = &c.who;
	o = json_object_new_object();
	json_object_object_add(o, "kind", json_object_new_string(who->kind == TD_CRED_PAT
								 ? "personal_access_token"
								 : "token"));
	json_object_object_add(o, "id", json_object_new_int64(who->kind == TD_CRED_PAT
							      ? who->pat_id : who->token_id));
	json_object_object_add(o, "spaces",
			       td_json_spaces(who->all_spaces, who->spaces, who->nspaces));
	json_object_object_add(o, "scopes", td_json_scopes(who->scopes));
	json_object_object_add(o, "full_permission", json_object_new_boolean(who->full));
	json_object_object_add(o, "expires_at", td_json_time_s(who->expires_at));
	json_object_object_add(o, "role", who->kind == TD_CRED_TOKEN && who->role_id > 0
				  ? json_object_new_int64(who->role_id) : NULL);
	may = json_object_new_object();
	for (i = 0; i < sizeof(may_table) / sizeof(may_table[0]); i++)
		json_object_object_add(may, may_table[i].name,
				       json_object_new_boolean(td_core_may(&c, may_table[i].op)));
	json_object_object_add(o, "may", may);
	return td_respond_json(req, 200, o);
}
