/*
 * The admin API for spaces: POST/GET /v1/spaces, GET/PUT/DELETE
 * /v1/spaces/{id}, bodies {"space": {...}}. A space's min_cache is the CDN
 * default of its tokens; deleting a space deletes its tokens.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokend/api/fields.h"
#include "tokend/api/handlers.h"
#include "tokend/server/parse.h"

static struct json_object *
space_json(const struct td_space *sp)
{
	struct json_object *o = json_object_new_object(), *limits = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int64(sp->id));
	json_object_object_add(o, "name", json_object_new_string(sp->name));
	json_object_object_add(o, "min_cache", json_object_new_int(sp->min_cache));
	json_object_object_add(o, "rate_limit",
			       sp->rate_limit ? json_object_new_int(sp->rate_limit) : NULL);
	/* null: the server's default (tokend.conf) */
	json_object_object_add(limits, "write_rate",
			       sp->write_rate ? json_object_new_int(sp->write_rate) : NULL);
	json_object_object_add(limits, "tokens",
			       sp->tokens_max ? json_object_new_int(sp->tokens_max) : NULL);
	json_object_object_add(limits, "record_bytes", sp->record_bytes_max
			       ? json_object_new_int(sp->record_bytes_max) : NULL);
	json_object_object_add(o, "limits", limits);
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

static int
add_space(const struct td_space *sp, void *arg)
{
	return json_object_array_add(arg, space_json(sp));
}

int
td_api_spaces_list(struct td_ctx *ctx, struct td_request *req)
{
	struct json_object *list, *o;
	struct td_call c;

	if (td_api_begin(ctx, req, &c, "space", TD_OP_SPACE_LIST, TD_SPACE_NONE, 0) != 0)
		return 0;
	list = json_object_new_array();
	if (td_core_space_list(&c, add_space, list) != TD_OK) {
		json_object_put(list);
		return td_api_fail(req, &c);
	}
	o = json_object_new_object();
	json_object_object_add(o, "spaces", list);
	return td_respond_json(req, 200, o);
}

/* One bound of "limits": a positive number, or null for the default (0). */
static int
parse_limit(struct json_object *limits, const char *key, const char *field, int *has,
	    int64_t *out, struct td_core_error *err)
{
	struct json_object *v;

	if (!json_object_object_get_ex(limits, key, &v))
		return 0;
	*has = 1;
	*out = 0;
	if (json_object_is_type(v, json_type_null))
		return 0;
	if (td_field_int64(v, field, out, err) != 0)
		return -1;
	return *out <= 0 ? td_field_fail(err, field, "must be a positive number, or null") : 0;
}

static int
parse_limits(struct json_object *v, struct td_space_change *ch, struct td_core_error *err)
{
	if (!json_object_is_type(v, json_type_object))
		return td_field_fail(err, "limits", "must be an object");
	if (parse_limit(v, "write_rate", "limits.write_rate", &ch->has_write_rate,
			&ch->write_rate, err) != 0 ||
	    parse_limit(v, "tokens", "limits.tokens", &ch->has_tokens_max, &ch->tokens_max,
			err) != 0 ||
	    parse_limit(v, "record_bytes", "limits.record_bytes", &ch->has_record_bytes,
			&ch->record_bytes, err) != 0)
		return -1;
	return 0;
}

/* {"space": {id?, name, min_cache, rate_limit, limits?}} into a change; types only. */
int
td_space_parse(struct json_object *body, int creating, struct td_space_change *ch,
	       struct td_core_error *err)
{
	struct json_object *obj = NULL, *v;

	memset(ch, 0, sizeof(*ch));
	if (body == NULL || !json_object_object_get_ex(body, "space", &obj) ||
	    !json_object_is_type(obj, json_type_object))
		return td_field_fail(err, "space", "can't be blank");
	/* the id is chosen on create only; elsewhere it is ignored */
	if (creating && json_object_object_get_ex(obj, "id", &v) &&
	    !json_object_is_type(v, json_type_null)) {
		if (td_field_int64(v, "id", &ch->id, err) != 0)
			return -1;
		ch->has_id = 1;
	}
	if (json_object_object_get_ex(obj, "name", &v)) {
		if (td_field_text(v, "name", &ch->name, err) != 0)
			return -1;
		ch->has_name = 1;
	}
	if (json_object_object_get_ex(obj, "rate_limit", &v)) {
		if (!json_object_is_type(v, json_type_null)) {
			if (td_field_int64(v, "rate_limit", &ch->rate_limit, err) != 0)
				return -1;
			if (ch->rate_limit == 0)
				return td_field_fail(err, "rate_limit", "must be between 1 and 1000000");
		}
		ch->has_rate_limit = 1;
	}
	if (json_object_object_get_ex(obj, "min_cache", &v)) {
		if (td_field_int64(v, "min_cache", &ch->min_cache, err) != 0)
			return -1;
		ch->has_min_cache = 1;
	}
	if (json_object_object_get_ex(obj, "limits", &v) && !json_object_is_type(v, json_type_null))
		return parse_limits(v, ch, err);
	return 0;
}

int
td_api_spaces_create(struct td_ctx *ctx, struct td_request *req)
{
	const struct td_space *sp;
	struct td_space_change ch;
	struct td_call c;

	if (td_api_begin(ctx, req, &c, "space", TD_OP_SPACE_CREATE, TD_SPACE_NONE, 0) != 0)
		return 0;
	if (td_space_parse(req->json, 1, &ch, &c.err) != 0 ||
	    td_core_space_create(&c, &ch, &sp) != TD_OK)
		return td_api_fail(req, &c);
	return respond_space(req, 201, sp);
}

int
td_api_space_get(struct td_ctx *ctx, struct td_request *req)
{
	const struct td_space *sp;
	struct td_call c;

	if (td_api_begin(ctx, req, &c, "space", TD_OP_SPACE_GET, TD_SPACE_PATH,
			 req->match.ids[0]) != 0)
		return 0;
	if (td_core_space_get(&c, &sp) != TD_OK)
		return td_api_fail(req, &c);
	return respond_space(req, 200, sp);
}

int
td_api_space_update(struct td_ctx *ctx, struct td_request *req)
{
	const struct td_space *sp;
	struct td_space_change ch;
	struct td_call c;

	if (td_api_begin(ctx, req, &c, "space", TD_OP_SPACE_UPDATE, TD_SPACE_PATH,
			 req->match.ids[0]) != 0)
		return 0;
	if (td_space_parse(req->json, 0, &ch, &c.err) != 0 ||
	    td_core_space_update(&c, &ch, &sp) != TD_OK)
		return td_api_fail(req, &c);
	return respond_space(req, 200, sp);
}

int
td_api_space_delete(struct td_ctx *ctx, struct td_request *req)
{
	const struct td_space *sp;
	struct td_call c;

	if (td_api_begin(ctx, req, &c, "space", TD_OP_SPACE_DELETE, TD_SPACE_PATH,
			 req->match.ids[0]) != 0)
		return 0;
	if (td_core_space_delete(&c, &sp) != TD_OK)
		return td_api_fail(req, &c);
	return respond_space(req, 200, sp);
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

/* ?limit=N (N <= 1000), newest first: a space's trail or the account's. */
static int
respond_trail(struct td_ctx *ctx, struct td_request *req, enum td_op op,
	      enum td_space_from from, int64_t space_id)
{
	const char *limit_s = td_target_query(&req->target, "limit");
	struct activity_ctx a;
	struct json_object *o;
	struct td_call c;
	long long limit = 100;

	if (td_api_begin(ctx, req, &c, "space", op, from, space_id) != 0)
		return 0;
	if (limit_s != NULL && td_parse_int64(limit_s, strlen(limit_s), INT64_MIN, INT64_MAX,
					      &limit) != 0)
		limit = 0;	/* not a number: out of range for the core */
	a.array = json_object_new_array();
	if (td_core_activities(&c, limit, add_activity, &a) != TD_OK) {
		json_object_put(a.array);
		return td_api_fail(req, &c);
	}
	o = json_object_new_object();
	json_object_object_add(o, "activities", a.array);
	return td_respond_json(req, 200, o);
}

/* GET /v1/spaces/{space_id}/activities */
int
td_api_space_activities(struct td_ctx *ctx, struct td_request *req)
{
	return respond_trail(ctx, req, TD_OP_ACTIVITIES, TD_SPACE_PATH, req->match.ids[0]);
}

/* GET /v1/activities: personal access tokens and spaces made and removed */
int
td_api_account_activities(struct td_ctx *ctx, struct td_request *req)
{
	return respond_trail(ctx, req, TD_OP_ACCOUNT_ACTIVITIES, TD_SPACE_NONE, 0);
}
