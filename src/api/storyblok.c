/*
 * The Storyblok Management API view of tokens:
 *   GET|POST /v1/spaces/{space_id}/api_keys
 *   GET|PUT|DELETE /v1/spaces/{space_id}/api_keys/{id}
 * Bodies are wrapped ({"api_key": {...}}, {"api_keys": [...]}); create
 * answers 201, delete answers 200 with the deleted object, validation 422
 * as {"field": ["message"]}, unknown space or token 404
 * ["This record could not be found"] (see error.c).
 */
#include <string.h>

#include <json-c/printbuf.h>

#include "tokend/api/handlers.h"
#include "tokend/server/json_write.h"
#include "tokend/store/store.h"

/* One api_key object, written as text: the list of a 10,000-token space
 * renders it 10,000 times (json_write.h says why not json-c trees). */
static int
api_key_write(struct printbuf *pb, const struct td_ctx *ctx, const struct td_token *t,
	      int space_min_cache, int show_secret)
{
	char token[TD_TOKEN_STR_MAX];

	td_jw_raw(pb, "{\"id\":");
	td_jw_int(pb, t->id);
	td_jw_raw(pb, ",\"access\":");
	td_jw_str(pb, td_access_name(t->access));
	td_jw_raw(pb, ",\"branch_id\":");
	td_jw_int_or_null(pb, t->branch_id);
	td_jw_raw(pb, ",\"name\":");
	td_jw_str_or_null(pb, t->has_name ? t->name : NULL);
	td_jw_raw(pb, ",\"space_id\":");
	td_jw_int(pb, t->space_id);
	td_jw_raw(pb, ",\"token\":");
	/* null when not shown, or when its key has left the keyring */
	td_jw_str_or_null(pb, show_secret && td_token_string(ctx, t, token, sizeof(token)) == 0
			      ? token : NULL);
	td_jw_raw(pb, ",\"story_ids\":");
	td_jw_int_array(pb, t->story_ids.ids, t->story_ids.n);
	td_jw_raw(pb, ",\"min_cache\":");
	td_jw_int(pb, td_token_effective_min_cache(t, space_min_cache));
	td_jw_raw(pb, ",\"release_ids\":");
	td_jw_int_array(pb, t->release_ids.ids, t->release_ids.n);
	/* tokend's additions; clients ignore keys they do not know */
	td_jw_raw(pb, ",\"description\":");
	td_jw_str(pb, t->description);
	td_jw_raw(pb, ",\"icon\":");
	td_jw_str(pb, t->icon);
	td_jw_raw(pb, ",\"status\":");
	td_jw_str(pb, td_status_name(t->status));
	td_jw_raw(pb, ",\"expires_at\":");
	td_jw_time_ms(pb, t->expires_at > 0 ? t->expires_at * 1000 : 0);
	td_jw_raw(pb, ",\"created_at\":");
	td_jw_time_ms(pb, t->created_at_ms);
	td_jw_raw(pb, ",\"updated_at\":");
	td_jw_time_ms(pb, t->updated_at_ms);
	td_jw_raw(pb, "}");
	return 0;
}

static int
respond_api_key(struct td_ctx *ctx, struct td_request *req, int status,
		const struct td_token *t, int space_min_cache, const struct td_principal *who)
{
	struct printbuf *pb = printbuf_new();
	int rc = -1;

	if (pb == NULL)
		return -1;
	td_jw_raw(pb, "{\"api_key\":");
	if (api_key_write(pb, ctx, t, space_min_cache, td_principal_sees_secrets(who)) == 0) {
		td_jw_raw(pb, "}");
		rc = td_respond_json_text(req, status, pb->buf, (size_t)pb->bpos);
	}
	printbuf_free(pb);
	return rc;
}

struct list_ctx {
	struct td_ctx *ctx;
	struct printbuf *out;
	int n;
	int show_secret;
};

/* Each token is written as its reply is read: a list of 10,000 never
 * exists as one reply tree or one json-c tree. */
static int
add_api_key(const struct td_token *t, int space_min_cache, void *arg)
{
	struct list_ctx *c = arg;

	if (c->n++ > 0)
		printbuf_memappend(c->out, ",", 1);
	return api_key_write(c->out, c->ctx, t, space_min_cache, c->show_secret);
}

int
td_api_storyblok_list(struct td_ctx *ctx, struct td_request *req)
{
	int64_t space = req->match.ids[0];
	struct list_ctx c = { ctx, NULL, 0, 0 };
	struct td_principal who;
	int rc;

	if (td_auth_require(ctx, req, &who, TD_SCOPE_TOKENS_READ, space) != 0)
		return 0;
	c.show_secret = td_principal_sees_secrets(&who);
	c.out = printbuf_new();
	if (c.out == NULL)
		return -1;
	printbuf_memappend(c.out, "{\"api_keys\":[", 13);
	rc = td_store_token_list(ctx->store, space, add_api_key, &c);
	if (rc == TD_STORE_OK) {
		printbuf_memappend(c.out, "]}", 2);
		rc = td_respond_json_text(req, 200, c.out->buf, (size_t)c.out->bpos);
	} else {
		rc = td_respond_store(req, rc);
	}
	printbuf_free(c.out);
	return rc;
}

int
td_api_storyblok_create(struct td_ctx *ctx, struct td_request *req)
{
	struct td_token *t = &ctx->scratch_token;
	int64_t space = req->match.ids[0];
	struct td_field_error err;
	struct td_principal who;
	int rc, space_mc = 0;

	if (td_auth_require(ctx, req, &who, TD_SCOPE_TOKENS_WRITE, space) != 0)
		return 0;
	td_token_defaults(t);
	if (td_token_apply_json(t, td_body_member(req, "api_key"), 1, &err) != 0)
		return td_respond_invalid(req, &err);
	t->space_id = space;
	if (td_token_regenerate(t, ctx->keyring) != 0)
		return td_respond_error(req, 500, "internal", NULL, "no randomness"), 0;
	t->created_at_ms = t->updated_at_ms = td_now_ms();
	memcpy(t->created_by, who.actor, sizeof(t->created_by));
	memcpy(t->updated_by, who.actor, sizeof(t->updated_by));
	rc = td_store_token_create(ctx->store, t, who.actor, "api_key.create", &space_mc);
	if (rc != TD_STORE_OK)
		return td_respond_store(req, rc);
	return respond_api_key(ctx, req, 201, t, space_mc, &who);
}

int
td_api_storyblok_get(struct td_ctx *ctx, struct td_request *req)
{
	struct td_principal who;
	int rc, space_mc = 0;

	if (td_auth_require(ctx, req, &who, TD_SCOPE_TOKENS_READ, req->match.ids[0]) != 0)
		return 0;
	rc = td_store_token_get(ctx->store, req->match.ids[0], req->match.ids[1],
				&ctx->scratch_token, &space_mc);
	if (rc != TD_STORE_OK)
		return td_respond_store(req, rc);
	return respond_api_key(ctx, req, 200, &ctx->scratch_token, space_mc, &who);
}

/* Stamps the change and writes the token back, answering with it. */
static int
save_and_respond(struct td_ctx *ctx, struct td_request *req, struct td_token *t, int space_mc,
		 const struct td_principal *who, const char *action)
{
	int rc;

	t->updated_at_ms = td_now_ms();
	memcpy(t->updated_by, who->actor, sizeof(t->updated_by));
	rc = td_store_token_put(ctx->store, t);
	if (rc != TD_STORE_OK)
		return td_respond_store(req, rc);
	td_activity(ctx, t->space_id, who->actor, action, t->id);
	return respond_api_key(ctx, req, 200, t, space_mc, who);
}

/* For update and regenerate: the caller may write tokens here, and the
 * token in the path is loaded into ctx->scratch_token. -1 when answered. */
static int
load_for_write(struct td_ctx *ctx, struct td_request *req, struct td_principal *who,
	       int *space_mc)
{
	int rc;

	if (td_auth_require(ctx, req, who, TD_SCOPE_TOKENS_WRITE, req->match.ids[0]) != 0)
		return -1;
	rc = td_store_token_get(ctx->store, req->match.ids[0], req->match.ids[1],
				&ctx->scratch_token, space_mc);
	if (rc != TD_STORE_OK)
		return td_respond_store(req, rc), -1;
	return 0;
}

int
td_api_storyblok_update(struct td_ctx *ctx, struct td_request *req)
{
	struct td_token *t = &ctx->scratch_token;
	struct td_field_error err;
	struct td_principal who;
	int space_mc = 0;

	if (load_for_write(ctx, req, &who, &space_mc) != 0)
		return 0;
	if (t->hardcoded != TD_HARDCODED_NONE) {
		err.field = "api_key";
		err.message = "is a built-in token and cannot be edited";
		return td_respond_invalid(req, &err);
	}
	if (td_token_apply_json(t, td_body_member(req, "api_key"), 0, &err) != 0)
		return td_respond_invalid(req, &err);
	return save_and_respond(ctx, req, t, space_mc, &who, "api_key.update");
}

int
td_api_storyblok_delete(struct td_ctx *ctx, struct td_request *req)
{
	struct td_principal who;
	int rc;

	if (td_auth_require(ctx, req, &who, TD_SCOPE_TOKENS_WRITE, req->match.ids[0]) != 0)
		return 0;
	rc = td_store_token_delete(ctx->store, req->match.ids[0], req->match.ids[1],
				   &ctx->scratch_token);
	if (rc != TD_STORE_OK)
		return td_respond_store(req, rc);
	td_activity(ctx, req->match.ids[0], who.actor, "api_key.delete", req->match.ids[1]);
	/* the deleted object; its min_cache as stored (the space may be gone) */
	return respond_api_key(ctx, req, 200, &ctx->scratch_token, 0, &who);
}

/* POST /v1/spaces/{space_id}/api_keys/{id}/regenerate — tokend's addition:
 * a new value; the old one is refused on the next request. */
int
td_api_storyblok_regenerate(struct td_ctx *ctx, struct td_request *req)
{
	struct td_token *t = &ctx->scratch_token;
	struct td_principal who;
	int space_mc = 0;

	if (load_for_write(ctx, req, &who, &space_mc) != 0)
		return 0;
	if (td_token_regenerate(t, ctx->keyring) != 0)
		return td_respond_error(req, 500, "internal", NULL, "no randomness"), 0;
	return save_and_respond(ctx, req, t, space_mc, &who, "api_key.regenerate");
}
