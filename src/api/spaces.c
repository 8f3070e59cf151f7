/*
 * The admin API for spaces: POST/GET /v1/spaces, GET/PUT/DELETE
 * /v1/spaces/{id}, bodies {"space": {...}}. A space's min_cache is the CDN
 * default of its tokens; deleting a space deletes its tokens.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokend/server/log.h"
#include "tokend/server/parse.h"
#include "tokend/core/role.h"

#include "tokend/api/handlers.h"
#include "tokend/store/store.h"

static struct json_object *
space_json(const struct td_space *sp)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int64(sp->id));
	json_object_object_add(o, "name", json_object_new_string(sp->name));
	json_object_object_add(o, "min_cache", json_object_new_int(sp->min_cache));
	json_object_object_add(o, "rate_limit",
			       sp->rate_limit ? json_object_new_int(sp->rate_limit) : NULL);
	json_object_object_add(o, "created_at", td_json_time_ms(sp->created_at_ms));
	json_object_object_add(o, "updated_at", td_json_time_ms(sp->updated_at_ms));
	return o;
}

static int
respond_space(struct td_request *req, int status, const struct td_space *sp)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "space", space_json(sp));
	return td_respond_json(req, status, o);
}

struct list_ctx {
	const struct td_principal *who;
	struct json_object *array;
};

static int
add_space(const struct td_space *sp, void *arg)
{
	struct list_ctx *c = arg;

	if (td_principal_has_space(c->who, sp->id))
		json_object_array_add(c->array, space_json(sp));
	return 0;
}

int
td_api_spaces_list(struct td_ctx *ctx, struct td_request *req)
{
	struct td_principal who;
	struct list_ctx c = { &who, NULL };
	struct json_object *o;
	int rc;

	if (td_auth_require(ctx, req, &who, TD_SCOPE_SPACES_READ, 0) != 0)
		return 0;
	c.array = json_object_new_array();
	rc = td_store_space_list(ctx->store, add_space, &c);
	if (rc != TD_STORE_OK) {
		json_object_put(c.array);
		return td_respond_store(req, rc);
	}
	o = json_object_new_object();
	json_object_object_add(o, "spaces", c.array);
	return td_respond_json(req, 200, o);
}

/* Every space is born with one built-in token, as DatoCMS projects are:
 * "Read-only API token", delivery (published and drafts) plus management
 * through the read-only role. It can be regenerated and deleted, not edited. */
static int
add_builtin_token(struct td_ctx *ctx, int64_t space_id, const char *actor)
{
	struct td_token *t = &ctx->scratch_token;
	int mc;

	td_token_defaults(t);
	t->space_id = space_id;
	snprintf(t->name, sizeof(t->name), "Read-only API token");
	t->has_name = 1;
	td_token_set_access(t, TD_ACCESS_PRIVATE);
	t->rights |= TD_RIGHT_CMA;
	t->role_id = TD_ROLE_READONLY;
	t->hardcoded = TD_HARDCODED_READONLY;
	if (td_token_regenerate(t, ctx->keyring) != 0)
		return TD_STORE_DOWN;
	t->created_at_ms = t->updated_at_ms = td_now_ms();
	snprintf(t->created_by, sizeof(t->created_by), "%s", actor);
	snprintf(t->updated_by, sizeof(t->updated_by), "%s", actor);
	return td_store_token_create(ctx->store, t, NULL, NULL, &mc);
}

int
td_api_spaces_create(struct td_ctx *ctx, struct td_request *req)
{
	struct td_space *sp = &ctx->scratch_space;
	struct td_field_error err;
	struct td_principal who;
	int explicit_id = 0, rc;

	if (td_auth_require(ctx, req, &who, TD_SCOPE_SPACES_WRITE, 0) != 0)
		return 0;
	if (!who.all_spaces)	/* it could not reach the space it made */
		return td_respond_error(req, 403, "forbidden", NULL,
					"only a token for all spaces may create spaces"), 0;
	memset(sp, 0, sizeof(*sp));
	if (td_space_apply_json(sp, td_body_member(req, "space"), 1, &explicit_id, &err) != 0)
		return td_respond_invalid(req, &err);
	sp->created_at_ms = sp->updated_at_ms = td_now_ms();
	memcpy(sp->created_by, who.actor, sizeof(sp->created_by));
	rc = td_store_space_create(ctx->store, sp, explicit_id);
	if (rc == TD_STORE_EXISTS) {
		err.field = "id";
		err.message = "has already been taken";
		return td_respond_invalid(req, &err);
	}
	if (rc != TD_STORE_OK)
		return td_respond_store(req, rc);
	if (add_builtin_token(ctx, sp->id, who.actor) != TD_STORE_OK)
		td_log_error("space %" PRId64 ": built-in token not created", sp->id);
	td_activity(ctx, sp->id, who.actor, "space.create", sp->id);
	return respond_space(req, 201, sp);
}

int
td_api_space_get(struct td_ctx *ctx, struct td_request *req)
{
	int64_t id = req->match.ids[0];
	struct td_principal who;
	int rc;

	if (td_auth_require(ctx, req, &who, TD_SCOPE_SPACES_READ, id) != 0)
		return 0;
	rc = td_store_space_get(ctx->store, id, &ctx->scratch_space);
	if (rc != TD_STORE_OK)
		return td_respond_store(req, rc);
	return respond_space(req, 200, &ctx->scratch_space);
}

int
td_api_space_update(struct td_ctx *ctx, struct td_request *req)
{
	struct td_space *sp = &ctx->scratch_space;
	int64_t id = req->match.ids[0];
	struct td_field_error err;
	struct td_principal who;
	int explicit_id = 0, rc;

	if (td_auth_require(ctx, req, &who, TD_SCOPE_SPACES_WRITE, id) != 0)
		return 0;
	rc = td_store_space_get(ctx->store, id, sp);
	if (rc != TD_STORE_OK)
		return td_respond_store(req, rc);
	if (td_space_apply_json(sp, td_body_member(req, "space"), 0, &explicit_id, &err) != 0)
		return td_respond_invalid(req, &err);
	sp->updated_at_ms = td_now_ms();
	rc = td_store_space_put(ctx->store, sp);
	if (rc != TD_STORE_OK)
		return td_respond_store(req, rc);
	td_activity(ctx, sp->id, who.actor, "space.update", sp->id);
	return respond_space(req, 200, sp);
}

int
td_api_space_delete(struct td_ctx *ctx, struct td_request *req)
{
	int64_t id = req->match.ids[0];
	struct td_principal who;
	int rc;

	if (td_auth_require(ctx, req, &who, TD_SCOPE_SPACES_WRITE, id) != 0)
		return 0;
	rc = td_store_space_delete(ctx->store, id, &ctx->scratch_space);
	if (rc != TD_STORE_OK)
		return td_respond_store(req, rc);
	return respond_space(req, 200, &ctx->scratch_space);
}

struct activity_ctx {
	struct json_object *array;
};

static int
add_activity(const struct td_activity *a, void *arg)
{
	struct activity_ctx *c = arg;
	struct json_object *o = json_object_new_object();
	long long ms = atoll(a->id);

	json_object_object_add(o, "id", json_object_new_string(a->id));
	json_object_object_add(o, "at", td_json_time_ms(ms));
	json_object_object_add(o, "actor", json_object_new_string(a->actor));
	json_object_object_add(o, "action", json_object_new_string(a->action));
	json_object_object_add(o, "resource_id", json_object_new_int64(a->resource_id));
	json_object_array_add(c->array, o);
	return 0;
}

/* GET /v1/spaces/{space_id}/activities?limit=N — newest first (N <= 1000). */
int
td_api_space_activities(struct td_ctx *ctx, struct td_request *req)
{
	int64_t id = req->match.ids[0];
	const char *limit_s = td_target_query(&req->target, "limit");
	struct activity_ctx c;
	struct td_principal who;
	struct json_object *o;
	long long limit = 100;
	int rc;

	if (td_auth_require(ctx, req, &who, TD_SCOPE_SPACES_READ, id) != 0)
		return 0;
	if (limit_s != NULL && td_parse_int64(limit_s, strlen(limit_s), 1, 1000, &limit) != 0)
		return td_respond_error(req, 422, "invalid_field", "limit", "must be 1..1000"), 0;
	rc = td_store_space_get(ctx->store, id, &ctx->scratch_space);
	if (rc != TD_STORE_OK)
		return td_respond_store(req, rc);
	c.array = json_object_new_array();
	rc = td_store_activity_list(ctx->store, id, (int)limit, add_activity, &c);
	if (rc != TD_STORE_OK) {
		json_object_put(c.array);
		return td_respond_store(req, rc);
	}
	o = json_object_new_object();
	json_object_object_add(o, "activities", c.array);
	return td_respond_json(req, 200, o);
}
