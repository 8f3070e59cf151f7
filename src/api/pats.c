/*
 * Personal access tokens: POST/GET /v1/personal_access_tokens,
 * GET/DELETE /v1/personal_access_tokens/{id}, bodies
 * {"personal_access_token": {...}}. The token value is in the create
 * response and nowhere else, ever. Who may see, grant or revoke what is the
 * core's to decide (core/pat_service.c); this file parses and renders.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "tokend/api/fields.h"
#include "tokend/api/handlers.h"

#define RESOURCE "personal_access_token"

static struct json_object *
pat_json(const struct td_pat *p)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int64(p->id));
	json_object_object_add(o, "name", json_object_new_string(p->name));
	json_object_object_add(o, "spaces", td_json_spaces(p->all_spaces, p->spaces, p->nspaces));
	json_object_object_add(o, "scopes", td_json_scopes(p->scopes));
	json_object_object_add(o, "full_permission", json_object_new_boolean(p->full));
	json_object_object_add(o, "expires_at", td_json_time_s(p->expires_at));
	json_object_object_add(o, "created_at", td_json_time_ms(p->created_at_ms));
	json_object_object_add(o, "last_used_at", td_json_time_ms(p->last_used_ms));
	json_object_object_add(o, "created_by",
			       p->created_by[0] ? json_object_new_string(p->created_by) : NULL);
	json_object_object_add(o, "allowed_cidrs", td_json_cidrs(&p->allowed_cidrs));
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

/* {"personal_access_token": {name, spaces, scopes, expires_at,
 * full_permission}} into a change; types only. */
int
td_pat_parse(struct json_object *body, struct td_pat_change *ch, struct td_core_error *err)
{
	struct json_object *obj = NULL, *v, *item;
	unsigned bits;
	size_t i, n;

	memset(ch, 0, sizeof(*ch));
	if (body == NULL || !json_object_object_get_ex(body, "personal_access_token", &obj) ||
	    !json_object_is_type(obj, json_type_object))
		return td_field_fail(err, "personal_access_token", "can't be blank");
	json_object_object_get_ex(obj, "name", &v);
	if (td_field_text(json_object_object_get_ex(obj, "name", &v) ? v : NULL, "name", &ch->name,
			  err) != 0)
		return -1;
	if (json_object_object_get_ex(obj, "full_permission", &v) &&
	    !json_object_is_type(v, json_type_null) &&
	    td_field_bool(v, "full_permission", &ch->full, err) != 0)
		return -1;
	if (json_object_object_get_ex(obj, "spaces", &v) && !json_object_is_type(v, json_type_null)) {
		ch->has_spaces = 1;
		if (json_object_is_type(v, json_type_string) &&
		    strcmp(json_object_get_string(v), "all") == 0) {
			ch->all_spaces = 1;
		} else if (!json_object_is_type(v, json_type_array)) {
			return td_field_fail(err, "spaces",
					     "must be \"all\" or a non-empty array of space ids");
		} else {
			n = json_object_array_length(v);
			ch->nspaces = n;
			for (i = 0; i < n && i < TD_PAT_SPACES_MAX; i++) {
				item = json_object_array_get_idx(v, i);
				if (td_field_int64(item, "spaces", &ch->spaces[i], err) != 0)
					return td_field_fail(err, "spaces",
						"must be \"all\" or a non-empty array of space ids");
			}
		}
	}
	if (json_object_object_get_ex(obj, "scopes", &v) && !json_object_is_type(v, json_type_null)) {
		ch->has_scopes = 1;
		if (!json_object_is_type(v, json_type_object))
			return td_field_fail(err, "scopes", "must be an object of resource: read|write");
		json_object_object_foreach(v, key, level) {
			if (!json_object_is_type(level, json_type_string))
				return td_field_fail(err, "scopes", "levels must be read or write");
			if (td_pat_scope_bits(key, json_object_get_string(level), &bits) != 0)
				return td_field_fail(err, "scopes",
						     "names an unknown resource or level");
			ch->scopes |= bits;
		}
	}
	if (json_object_object_get_ex(obj, "expires_at", &v)) {
		if (td_field_text(v, "expires_at", &ch->expires_at, err) != 0)
			return -1;
		ch->has_expires = 1;
	}
	if (json_object_object_get_ex(obj, "allowed_cidrs", &v)) {
		if (td_field_cidrs(v, "allowed_cidrs", &ch->allowed_cidrs, err) != 0)
			return -1;
		ch->has_cidrs = 1;
	}
	return 0;
}

static int
add_pat(const struct td_pat *p, void *arg)
{
	return json_object_array_add(arg, pat_json(p));
}

int
td_api_pats_list(struct td_ctx *ctx, struct td_request *req)
{
	struct json_object *list, *o;
	struct td_call c;

	if (td_api_begin(ctx, req, &c, RESOURCE, TD_OP_PAT_LIST, TD_SPACE_NONE, 0) != 0)
		return 0;
	list = json_object_new_array();
	if (td_core_pat_list(&c, add_pat, list) != TD_OK) {
		json_object_put(list);
		return td_api_fail(req, &c);
	}
	o = json_object_new_object();
	json_object_object_add(o, "personal_access_tokens", list);
	return td_respond_json(req, 200, o);
}

int
td_api_pats_create(struct td_ctx *ctx, struct td_request *req)
{
	struct td_pat_change ch;
	const struct td_pat *p;
	const char *value;
	struct td_call c;
	int rc;

	if (td_api_begin(ctx, req, &c, RESOURCE, TD_OP_PAT_CREATE, TD_SPACE_NONE, 0) != 0)
		return 0;
	if (td_pat_parse(req->json, &ch, &c.err) != 0 ||
	    td_core_pat_create(&c, &ch, &p, &value) != TD_OK)
		return td_api_fail(req, &c);
	rc = respond_pat(req, 201, p, value);
	OPENSSL_cleanse(c.value, sizeof(c.value));
	return rc;
}

int
td_api_pat_get(struct td_ctx *ctx, struct td_request *req)
{
	const struct td_pat *p;
	struct td_call c;

	if (td_api_begin(ctx, req, &c, RESOURCE, TD_OP_PAT_GET, TD_SPACE_NONE, 0) != 0)
		return 0;
	if (td_core_pat_get(&c, req->match.ids[0], &p) != TD_OK)
		return td_api_fail(req, &c);
	return respond_pat(req, 200, p, NULL);
}

int
td_api_pat_delete(struct td_ctx *ctx, struct td_request *req)
{
	const struct td_pat *p;
	struct td_call c;

	if (td_api_begin(ctx, req, &c, RESOURCE, TD_OP_PAT_DELETE, TD_SPACE_NONE, 0) != 0)
		return 0;
	if (td_core_pat_delete(&c, req->match.ids[0], &p) != TD_OK)
		return td_api_fail(req, &c);
	return respond_pat(req, 200, p, NULL);
}
