/*
 * The DatoCMS Content Management API view of tokens (JSON:API):
 *   GET|POST /access_tokens, GET|PUT|DELETE /access_tokens/{id},
 *   POST /access_tokens/{id}/regenerate_token, GET /roles, GET /roles/{id}
 * A DatoCMS project is a tokend space: the calling token's own space when it
 * is bound to one, else the X-Space-Id header. Ids are strings; every
 * answer is {"data": ...}; delete answers 200 with the deleted token.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tokend/api/handlers.h"
#include "tokend/server/parse.h"
#include "tokend/core/role.h"
#include "tokend/store/store.h"

static int
dato_error(struct td_request *req, int status, const char *code, const char *field,
	   const char *message)
{
	td_respond_error(req, status, code, field, message);
	return 0;
}

/* A store result as an api_error: unreachable → 503, missing → 404. */
static int
dato_store_error(struct td_request *req, int rc, const char *what)
{
	return rc == TD_STORE_REFUSED
	       ? dato_error(req, 503, "SERVICE_UNAVAILABLE", NULL, "storage refuses writes")
	       : rc < 0 ? dato_error(req, 503, "SERVICE_UNAVAILABLE", NULL, "storage unavailable")
	       : dato_error(req, 404, "NOT_FOUND", NULL, what);
}

static int
parse_id(const char *s, int64_t *out)
{
	long long v;

	if (s == NULL || td_parse_int64(s, strlen(s), 1, INT64_MAX, &v) != 0)
		return -1;
	*out = v;
	return 0;
}

/* The checks every call makes, in DatoCMS's order: API version, who is
 * calling, which project, may it read tokens there, does the project exist. */
static int
prelude(struct td_ctx *ctx, struct td_request *req, struct td_principal *who, int64_t *space)
{
	const char *version = td_request_header(req, "X-Api-Version");
	const char *hdr;
	int64_t other;
	int rc;
	const char *accept = td_request_header(req, "Accept");

	if (version == NULL || strcmp(version, "3") != 0)
		return dato_error(req, 422, "INVALID_API_VERSION", NULL,
				  "X-Api-Version: 3 is required"), -1;
	/* tokens are project-wide; tokend has one environment, "main" */
	if ((hdr = td_request_header(req, "X-Environment")) != NULL && strcmp(hdr, "main") != 0)
		return dato_error(req, 404, "INVALID_ENVIRONMENT", NULL,
				  "the only environment is main"), -1;
	/* an absent Accept is taken as JSON; one that rules JSON out is not */
	if (accept != NULL && strstr(accept, "json") == NULL && strstr(accept, "*/*") == NULL &&
	    strstr(accept, "application/*") == NULL)
		return dato_error(req, 406, "INVALID_ACCEPT_HEADER", NULL,
				  "Accept must allow application/json"), -1;
	rc = td_auth_identify(ctx, req, who);
	if (rc == 503)
		return dato_error(req, 503, "SERVICE_UNAVAILABLE", NULL, "storage unavailable"), -1;
	if (rc != 0)
		return dato_error(req, 401, td_request_header(req, "Authorization") ? "INVALID_AUTHORIZATION_HEADER"
									 : "INVALID_SITE",
				  NULL, "Unauthorized"), -1;
	hdr = td_request_header(req, "X-Space-Id");
	if (!who->all_spaces && who->nspaces == 1) {
		*space = who->spaces[0];
		/* bound to one project: naming another is refused, not ignored */
		if (hdr != NULL && (parse_id(hdr, &other) != 0 || other != *space))
			return dato_error(req, 403, "INSUFFICIENT_PERMISSIONS", NULL,
					  "this token belongs to another project"), -1;
	} else {
		if (parse_id(hdr, space) != 0)
			return dato_error(req, 422, "INVALID_FIELD", "X-Space-Id",
					  "this token reaches several spaces: name one in X-Space-Id"), -1;
	}
	if (!td_principal_has_space(who, *space) || !(who->scopes & TD_SCOPE_TOKENS_READ))
		return dato_error(req, 403, "INSUFFICIENT_PERMISSIONS", NULL,
				  "this token may not manage API tokens here"), -1;
	if (td_rate_limit(ctx, req, who, *space) != 0)
		return -1;
	rc = td_store_space_get(ctx->store, *space, &ctx->scratch_space);
	if (rc != TD_STORE_OK)
		return dato_store_error(req, rc, "no such project"), -1;
	return 0;
}

static int
require_manager(struct td_request *req, const struct td_principal *who)
{
	if (!td_principal_sees_secrets(who))
		return dato_error(req, 403, "INSUFFICIENT_PERMISSIONS", NULL,
				  "the role of this token cannot manage API tokens"), -1;
	return 0;
}

static struct json_object *
id_string(int64_t id)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, id);
	return json_object_new_string(buf);
}

static struct json_object *
access_token_json(const struct td_ctx *ctx, const struct td_token *t, int show_secret)
{
	struct json_object *o = json_object_new_object(), *a = json_object_new_object();
	struct json_object *rel = json_object_new_object(), *role = json_object_new_object();
	struct json_object *link = NULL;
	const char *hard = td_hardcoded_name(t->hardcoded);

	json_object_object_add(a, "name", json_object_new_string(t->has_name ? t->name : ""));
	json_object_object_add(a, "token", show_secret ? td_token_string_json(ctx, t) : NULL);
	json_object_object_add(a, "can_access_cda", json_object_new_boolean(t->rights & TD_RIGHT_CDA));
	json_object_object_add(a, "can_access_cda_preview",
			       json_object_new_boolean(t->rights & TD_RIGHT_CDA_PREVIEW));
	json_object_object_add(a, "can_access_cma", json_object_new_boolean(t->rights & TD_RIGHT_CMA));
	json_object_object_add(a, "hardcoded_type", hard ? json_object_new_string(hard) : NULL);
	json_object_object_add(a, "last_cma_access", json_object_new_string("never"));
	json_object_object_add(a, "last_cda_access", json_object_new_string("never"));
	if (t->role_id != 0) {
		link = json_object_new_object();
		json_object_object_add(link, "type", json_object_new_string("role"));
		json_object_object_add(link, "id", id_string(t->role_id));
	}
	json_object_object_add(role, "data", link);
	json_object_object_add(rel, "role", role);
	json_object_object_add(o, "type", json_object_new_string("access_token"));
	json_object_object_add(o, "id", id_string(t->id));
	json_object_object_add(o, "attributes", a);
	json_object_object_add(o, "relationships", rel);
	return o;
}

static int
respond_data(struct td_request *req, int status, struct json_object *data)
{
	struct json_object *doc = json_object_new_object();

	json_object_object_add(doc, "data", data);
	return td_respond_json(req, status, doc);
}

/* Applies a JSON:API access_token document to t; every attribute required
 * on create, any subset on update. Answers 422 itself and returns -1. */
static int
apply_document(struct td_request *req, struct td_token *t, int creating, int64_t path_id)
{
	static const char *const flags[3] = { "can_access_cda", "can_access_cda_preview",
					      "can_access_cma" };
	struct json_object *data, *v, *attrs = NULL, *rel, *role, *link;
	int have[3], value[3], i, is_null = 0;
	const char *msg = NULL;
	int64_t id;

	if (req->json == NULL || !json_object_object_get_ex(req->json, "data", &data) ||
	    !json_object_is_type(data, json_type_object))
		return dato_error(req, 422, "INVALID_FORMAT", "data", "a {\"data\": {...}} document is required"), -1;
	if (!json_object_object_get_ex(data, "type", &v) || !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), "access_token") != 0)
		return dato_error(req, 422, "INVALID_TYPE", "type", "type must be access_token"), -1;
	if (!creating && json_object_object_get_ex(data, "id", &v) &&
	    (!json_object_is_type(v, json_type_string) ||
	     parse_id(json_object_get_string(v), &id) != 0 || id != path_id))
		return dato_error(req, 422, "INVALID_FIELD", "id", "id does not match the URL"), -1;
	if (json_object_object_get_ex(data, "attributes", &attrs) &&
	    !json_object_is_type(attrs, json_type_object))
		return dato_error(req, 422, "INVALID_ATTRIBUTES", "attributes", "must be an object"), -1;
	if (attrs != NULL && json_object_object_get_ex(attrs, "name", &v)) {
		if (td_json_text(v, TD_NAME_MAX, t->name, sizeof(t->name), &is_null, &msg) != 0)
			return dato_error(req, 422, "INVALID_FIELD", "name", msg), -1;
		if (is_null || t->name[0] == '\0')
			return dato_error(req, 422, "INVALID_FIELD", "name", "can't be blank"), -1;
		t->has_name = 1;
	} else if (creating) {
		return dato_error(req, 422, "INVALID_ATTRIBUTES", "name", "name is required"), -1;
	}
	for (i = 0; i < 3; i++) {
		have[i] = attrs != NULL && json_object_object_get_ex(attrs, flags[i], &v);
		if (have[i] && !json_object_is_type(v, json_type_boolean))
			return dato_error(req, 422, "INVALID_FIELD", flags[i], "must be true or false"), -1;
		if (!have[i] && creating)
			return dato_error(req, 422, "INVALID_ATTRIBUTES", flags[i], "is required"), -1;
		value[i] = have[i] ? json_object_get_boolean(v)
				   : (int)(t->rights & (i == 0 ? TD_RIGHT_CDA : i == 1 ? TD_RIGHT_CDA_PREVIEW
									    : TD_RIGHT_CMA));
	}
	td_token_set_delivery(t, value[0], value[1]);
	t->rights = (t->rights & ~(unsigned)TD_RIGHT_CMA) | (value[2] ? TD_RIGHT_CMA : 0);
	link = NULL;
	if (json_object_object_get_ex(data, "relationships", &rel) &&
	    json_object_is_type(rel, json_type_object) &&
	    json_object_object_get_ex(rel, "role", &role) && json_object_is_type(role, json_type_object))
		json_object_object_get_ex(role, "data", &link);
	if (link != NULL && !json_object_is_type(link, json_type_null)) {
		if (!json_object_is_type(link, json_type_object) ||
		    !json_object_object_get_ex(link, "id", &v) || !json_object_is_type(v, json_type_string) ||
		    parse_id(json_object_get_string(v), &id) != 0 || td_role_find(id) == NULL)
			return dato_error(req, 422, "INVALID_FIELD", "role", "no such role"), -1;
		t->role_id = id;
	} else if (creating) {
		return dato_error(req, 422, "INVALID_FIELD", "role", "a role is required"), -1;
	}
	return 0;
}

struct list_ctx {
	const struct td_ctx *ctx;
	struct json_object *array;
	int show_secret;
};

static int
add_token(const struct td_token *t, int space_min_cache, void *arg)
{
	struct list_ctx *c = arg;

	(void)space_min_cache;
	json_object_array_add(c->array, access_token_json(c->ctx, t, c->show_secret));
	return 0;
}

int
td_api_dato_list(struct td_ctx *ctx, struct td_request *req)
{
	struct td_principal who;
	struct list_ctx c;
	int64_t space;
	int rc;

	if (prelude(ctx, req, &who, &space) != 0)
		return 0;
	c.ctx = ctx;
	c.array = json_object_new_array();
	c.show_secret = td_principal_sees_secrets(&who);
	rc = td_store_token_list(ctx->store, space, add_token, &c);
	if (rc != TD_STORE_OK) {
		json_object_put(c.array);
		return dato_store_error(req, rc, "no such project");
	}
	return respond_data(req, 200, c.array);
}

/* Loads the token named in the path into ctx->scratch_token. */
static int
load(struct td_ctx *ctx, struct td_request *req, int64_t space, int64_t *id)
{
	int rc, mc;

	if (parse_id(req->match.strs[0], id) != 0)
		return dato_error(req, 404, "NOT_FOUND", NULL, "no such API token"), -1;
	rc = td_store_token_get(ctx->store, space, *id, &ctx->scratch_token, &mc);
	if (rc != TD_STORE_OK)
		return dato_store_error(req, rc, "no such API token"), -1;
	return 0;
}

int
td_api_dato_find(struct td_ctx *ctx, struct td_request *req)
{
	struct td_principal who;
	int64_t space, id;

	if (prelude(ctx, req, &who, &space) != 0 || load(ctx, req, space, &id) != 0)
		return 0;
	return respond_data(req, 200, access_token_json(ctx, &ctx->scratch_token,
							td_principal_sees_secrets(&who)));
}

int
td_api_dato_create(struct td_ctx *ctx, struct td_request *req)
{
	struct td_token *t = &ctx->scratch_token;
	struct td_principal who;
	int64_t space;
	int rc, mc = 0;

	if (prelude(ctx, req, &who, &space) != 0 || require_manager(req, &who) != 0)
		return 0;
	td_token_defaults(t);
	if (apply_document(req, t, 1, 0) != 0)
		return 0;
	t->space_id = space;
	if (td_token_regenerate(t, ctx->keyring) != 0)
		return dato_error(req, 500, "INTERNAL", NULL, "no randomness");
	t->created_at_ms = t->updated_at_ms = td_now_ms();
	memcpy(t->created_by, who.actor, sizeof(t->created_by));
	memcpy(t->updated_by, who.actor, sizeof(t->updated_by));
	rc = td_store_token_create(ctx->store, t, who.actor, "access_token.create", &mc);
	if (rc != TD_STORE_OK)
		return dato_store_error(req, rc, "no such project");
	return respond_data(req, 201, access_token_json(ctx, t, 1));
}

/* update and regenerate: load, change, write back */
static int
rewrite(struct td_ctx *ctx, struct td_request *req, int regenerate)
{
	struct td_token *t = &ctx->scratch_token;
	struct td_principal who;
	int64_t space, id;
	int rc;

	if (prelude(ctx, req, &who, &space) != 0 || require_manager(req, &who) != 0 ||
	    load(ctx, req, space, &id) != 0)
		return 0;
	if (regenerate) {
		if (td_token_regenerate(t, ctx->keyring) != 0)
			return dato_error(req, 500, "INTERNAL", NULL, "no randomness");
	} else {
		if (t->hardcoded != TD_HARDCODED_NONE)
			return dato_error(req, 422, "NON_EDITABLE_ACCESS_TOKEN", NULL,
					  "a built-in token's attributes cannot change");
		if (apply_document(req, t, 0, id) != 0)
			return 0;
	}
	t->updated_at_ms = td_now_ms();
	memcpy(t->updated_by, who.actor, sizeof(t->updated_by));
	rc = td_store_token_put(ctx->store, t);
	if (rc != TD_STORE_OK)
		return dato_store_error(req, rc, "no such API token");
	td_activity(ctx, space, who.actor, regenerate ? "access_token.regenerate" : "access_token.update",
		    t->id);
	return respond_data(req, 200, access_token_json(ctx, t, 1));
}

int
td_api_dato_update(struct td_ctx *ctx, struct td_request *req)
{
	return rewrite(ctx, req, 0);
}

int
td_api_dato_regenerate(struct td_ctx *ctx, struct td_request *req)
{
	return rewrite(ctx, req, 1);
}

int
td_api_dato_destroy(struct td_ctx *ctx, struct td_request *req)
{
	struct td_principal who;
	int64_t space, id;
	int rc;

	if (prelude(ctx, req, &who, &space) != 0 || require_manager(req, &who) != 0)
		return 0;
	if (parse_id(req->match.strs[0], &id) != 0)
		return dato_error(req, 404, "NOT_FOUND", NULL, "no such API token");
	if (who.token_id == id)
		return dato_error(req, 422, "CANNOT_DESTROY_CURRENT_USER", NULL,
				  "a token cannot delete itself");
	rc = td_store_token_delete(ctx->store, space, id, &ctx->scratch_token);
	if (rc != TD_STORE_OK)
		return dato_store_error(req, rc, "no such API token");
	td_activity(ctx, space, who.actor, "access_token.delete", id);
	return respond_data(req, 200, access_token_json(ctx, &ctx->scratch_token, 1));
}

int
td_api_dato_roles(struct td_ctx *ctx, struct td_request *req)
{
	struct json_object *list;
	struct td_principal who;
	int64_t space;
	int i;

	if (prelude(ctx, req, &who, &space) != 0)
		return 0;
	list = json_object_new_array();
	for (i = 0; i < td_roles_count; i++)
		json_object_array_add(list, td_role_json(&td_roles[i]));
	return respond_data(req, 200, list);
}

int
td_api_dato_role(struct td_ctx *ctx, struct td_request *req)
{
	const struct td_role *role;
	struct td_principal who;
	int64_t space, id;

	if (prelude(ctx, req, &who, &space) != 0)
		return 0;
	if (parse_id(req->match.strs[0], &id) != 0 || (role = td_role_find(id)) == NULL)
		return dato_error(req, 404, "NOT_FOUND", NULL, "no such role");
	return respond_data(req, 200, td_role_json(role));
}
