/*
 * Personal access tokens: POST/GET /v1/personal_access_tokens,
 * GET/DELETE /v1/personal_access_tokens/{id}, bodies
 * {"personal_access_token": {...}}. The token value is in the create
 * response and nowhere else, ever. A caller can grant no more than it holds,
 * and sees only PATs within its own reach.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "tokend/api/handlers.h"
#include "tokend/store/store.h"

static struct json_object *
pat_json(const struct td_pat *p)
{
	struct json_object *o = json_object_new_object(), *spaces;
	int i;

	json_object_object_add(o, "id", json_object_new_int64(p->id));
	json_object_object_add(o, "name", json_object_new_string(p->name));
	if (p->all_spaces) {
		spaces = json_object_new_string("all");
	} else {
		spaces = json_object_new_array();
		for (i = 0; i < p->nspaces; i++)
			json_object_array_add(spaces, json_object_new_int64(p->spaces[i]));
	}
	json_object_object_add(o, "spaces", spaces);
	json_object_object_add(o, "scopes", td_pat_scopes_json(p->scopes));
	json_object_object_add(o, "full_permission", json_object_new_boolean(p->full));
	json_object_object_add(o, "expires_at", td_json_time_s(p->expires_at));
	json_object_object_add(o, "created_at", td_json_time_ms(p->created_at_ms));
	json_object_object_add(o, "created_by",
			       p->created_by[0] ? json_object_new_string(p->created_by) : NULL);
	return o;
}

static int
respond_pat(struct td_request *req, int status, const struct td_pat *p, const char *token)
{
	struct json_object *o = json_object_new_object(), *inner = pat_json(p);

	if (token != NULL)
		json_object_object_add(inner, "token", json_object_new_string(token));
	json_object_object_add(o, "personal_access_token", inner);
	return td_respond_json(req, status, o);
}

/* Whether the caller reaches everything p does. */
static int
within_reach(const struct td_principal *who, const struct td_pat *p)
{
	int i;

	if (who->full)
		return 1;
	if (p->full || (p->scopes & ~who->scopes) != 0 || (p->all_spaces && !who->all_spaces))
		return 0;
	for (i = 0; i < p->nspaces; i++)
		if (!td_principal_has_space(who, p->spaces[i]))
			return 0;
	return 1;
}

struct list_ctx {
	const struct td_principal *who;
	struct json_object *array;
};

static int
add_pat(const struct td_pat *p, void *arg)
{
	struct list_ctx *c = arg;

	if (within_reach(c->who, p))
		json_object_array_add(c->array, pat_json(p));
	return 0;
}

int
td_api_pats_list(struct td_ctx *ctx, struct td_request *req)
{
	struct td_principal who;
	struct list_ctx c = { &who, NULL };
	struct json_object *o;
	int rc;

	if (td_auth_require(ctx, req, &who, TD_SCOPE_PATS_READ, 0) != 0)
		return 0;
	c.array = json_object_new_array();
	rc = td_store_pat_list(ctx->store, add_pat, &c);
	if (rc != TD_STORE_OK) {
		json_object_put(c.array);
		return td_respond_store(req, rc);
	}
	o = json_object_new_object();
	json_object_object_add(o, "personal_access_tokens", c.array);
	return td_respond_json(req, 200, o);
}

int
td_pat_issue(struct td_store *store, const struct td_keyring *kr, struct td_pat *p,
	     char *token, size_t size)
{
	const struct td_key *key = td_keyring_newest(kr);
	struct td_token_ref ref;
	int rc;

	if (key == NULL || td_token_new_secret(ref.secret) != 0 ||
	    td_pat_secret_hash(key, ref.secret, p->hash) != 0)
		return TD_STORE_DOWN;
	p->kid = key->kid;
	p->created_at_ms = td_now_ms();
	rc = td_store_pat_create(store, p);
	if (rc == TD_STORE_OK) {
		ref.kind = TD_KIND_PAT;
		ref.kid = key->kid;
		ref.space_id = 0;
		ref.id = p->id;
		if (td_token_format(kr, &ref, token, size) != 0)
			rc = TD_STORE_DOWN;
	}
	OPENSSL_cleanse(ref.secret, sizeof(ref.secret));
	return rc;
}

int
td_api_pats_create(struct td_ctx *ctx, struct td_request *req)
{
	struct td_pat *p = &ctx->scratch_pat;
	char token[TD_TOKEN_STR_MAX];
	struct td_field_error err;
	struct td_principal who;
	int rc;

	if (td_auth_require(ctx, req, &who, TD_SCOPE_PATS_WRITE, 0) != 0)
		return 0;
	memset(p, 0, sizeof(*p));
	if (td_pat_apply_json(p, td_body_member(req, "personal_access_token"), &err) != 0)
		return td_respond_invalid(req, &err);
	if (!within_reach(&who, p))
		return td_respond_error(req, 403, "forbidden", NULL,
					"a token cannot grant more than it holds"), 0;
	memcpy(p->created_by, who.actor, sizeof(p->created_by));
	rc = td_pat_issue(ctx->store, ctx->keyring, p, token, sizeof(token));
	if (rc != TD_STORE_OK)
		return td_respond_store(req, rc);
	rc = respond_pat(req, 201, p, token);
	OPENSSL_cleanse(token, sizeof(token));
	return rc;
}

int
td_api_pat_get(struct td_ctx *ctx, struct td_request *req)
{
	struct td_principal who;
	int rc;

	if (td_auth_require(ctx, req, &who, TD_SCOPE_PATS_READ, 0) != 0)
		return 0;
	rc = td_store_pat_get(ctx->store, req->match.ids[0], &ctx->scratch_pat);
	if (rc == TD_STORE_OK && !within_reach(&who, &ctx->scratch_pat))
		rc = TD_STORE_NOT_FOUND;
	if (rc != TD_STORE_OK)
		return td_respond_store(req, rc);
	return respond_pat(req, 200, &ctx->scratch_pat, NULL);
}

int
td_api_pat_delete(struct td_ctx *ctx, struct td_request *req)
{
	struct td_principal who;
	int rc;

	if (td_auth_require(ctx, req, &who, TD_SCOPE_PATS_WRITE, 0) != 0)
		return 0;
	rc = td_store_pat_get(ctx->store, req->match.ids[0], &ctx->scratch_pat);
	if (rc == TD_STORE_OK && !within_reach(&who, &ctx->scratch_pat))
		rc = TD_STORE_NOT_FOUND;
	if (rc == TD_STORE_OK)
		rc = td_store_pat_delete(ctx->store, req->match.ids[0], &ctx->scratch_pat);
	if (rc != TD_STORE_OK)
		return td_respond_store(req, rc);
	return respond_pat(req, 200, &ctx->scratch_pat, NULL);
}
