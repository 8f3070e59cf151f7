/*
 * The DatoCMS Content Management API view of tokens (JSON:API):
 *   GET|POST /access_tokens, GET|PUT|DELETE /access_tokens/{id},
 *   POST /access_tokens/{id}/regenerate_token (roles: dato_roles.c)
 * A DatoCMS project is a tokend space: the calling token's own space when it
 * is bound to one, else the X-Space-Id header (the core decides). Ids are
 * strings; every answer is {"data": ...}; delete answers 200 with the
 * deleted token. Each handler checks DatoCMS's headers, parses, calls one
 * core function and renders.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tokend/api/dato.h"
#include "tokend/api/fields.h"
#include "tokend/api/handlers.h"
#include "tokend/server/parse.h"

#define RESOURCE "access_token"

int
td_dato_error(struct td_request *req, int status, const char *code, const char *field,
	      const char *message)
{
	td_respond_error(req, status, code, field, message);
	return 0;
}

/* An id as a request writes it: one spelling (no sign, no leading zero),
 * at most TD_ID_MAX, so "01" names no record (as in every path). */
static int
parse_id(const char *s, int64_t *out)
{
	return s != NULL && td_parse_id(s, strlen(s), TD_ID_MAX, out) == 0 ? 0 : -1;
}

int
td_dato_begin(struct td_ctx *ctx, struct td_request *req, struct td_call *c,
	      const char *resource, enum td_op op)
{
	const char *version = td_request_header(req, "X-Api-Version");
	const char *accept = td_request_header(req, "Accept");
	const char *env = td_request_header(req, "X-Environment");

	if (version == NULL || strcmp(version, "3") != 0)
		return td_dato_error(req, 422, "INVALID_API_VERSION", NULL,
				     "X-Api-Version: 3 is required"), -1;
	/* tokens are project-wide; tokend has one environment, "main" */
	if (env != NULL && strcmp(env, "main") != 0)
		return td_dato_error(req, 404, "INVALID_ENVIRONMENT", NULL,
				     "the only environment is main"), -1;
	/* an absent Accept is taken as JSON; one that rules JSON out is not */
	if (accept != NULL && strstr(accept, "json") == NULL && strstr(accept, "*/*") == NULL &&
	    strstr(accept, "application/*") == NULL)
		return td_dato_error(req, 406, "INVALID_ACCEPT_HEADER", NULL,
				     "Accept must allow application/json"), -1;
	return td_api_begin(ctx, req, c, resource, op, TD_SPACE_CALLER, td_api_named_space(req));
}

static int
begin(struct td_ctx *ctx, struct td_request *req, struct td_call *c, enum td_op op)
{
	return td_dato_begin(ctx, req, c, RESOURCE, op);
}

struct json_object *
td_dato_id(int64_t id)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, id);
	return json_object_new_string(buf);
}

static struct json_object *
access_token_json(const struct td_token_view *v)
{
	const struct td_token *t = v->t;
	struct json_object *o = json_object_new_object(), *a = json_object_new_object();
	struct json_object *rel = json_object_new_object(), *role = json_object_new_object();
	struct json_object *link = NULL;
	const char *hard = td_hardcoded_name(t->hardcoded);

	json_object_object_add(a, "name", json_object_new_string(t->has_name ? t->name : ""));
	json_object_object_add(a, "token", v->value ? json_object_new_string(v->value) : NULL);
	json_object_object_add(a, "can_access_cda", json_object_new_boolean(t->rights & TD_RIGHT_CDA));
	json_object_object_add(a, "can_access_cda_preview",
			       json_object_new_boolean(t->rights & TD_RIGHT_CDA_PREVIEW));
	json_object_object_add(a, "can_access_cma", json_object_new_boolean(t->rights & TD_RIGHT_CMA));
	json_object_object_add(a, "hardcoded_type", hard ? json_object_new_string(hard) : NULL);
	json_object_object_add(a, "last_cma_access", json_object_new_string("never"));
	json_object_object_add(a, "last_cda_access", json_object_new_string("never"));
	json_object_object_add(a, "allowed_cidrs", td_json_cidrs(&t->allowed_cidrs));
	if (t->role_id != 0) {
		link = json_object_new_object();
		json_object_object_add(link, "type", json_object_new_string("role"));
		json_object_object_add(link, "id", td_dato_id(t->role_id));
	}
	json_object_object_add(role, "data", link);
	json_object_object_add(rel, "role", role);
	json_object_object_add(o, "type", json_object_new_string("access_token"));
	json_object_object_add(o, "id", td_dato_id(t->id));
	json_object_object_add(o, "attributes", a);
	json_object_object_add(o, "relationships", rel);
	return o;
}

int
td_dato_respond(struct td_request *req, int status, struct json_object *data)
{
	struct json_object *doc = json_object_new_object();

	json_object_object_add(doc, "data", data);
	return td_respond_json(req, status, doc);
}

#define SHAPE(c, f, m) (*code = (c), td_field_fail(err, (f), (m)))

int
td_dato_document(struct json_object *body, const char *type, const char *type_message,
		 int64_t path_id, struct json_object **data, struct json_object **attrs,
		 struct td_core_error *err, const char **code)
{
	struct json_object *v;
	int64_t id;

	*code = NULL;
	*attrs = NULL;
	if (body == NULL || !json_object_object_get_ex(body, "data", data) ||
	    !json_object_is_type(*data, json_type_object))
		return SHAPE("INVALID_FORMAT", "data", "a {\"data\": {...}} document is required");
	if (!json_object_object_get_ex(*data, "type", &v) || !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), type) != 0)
		return SHAPE("INVALID_TYPE", "type", type_message);
	/* the id has one spelling, as in a path */
	if (path_id > 0 && json_object_object_get_ex(*data, "id", &v) &&
	    (!json_object_is_type(v, json_type_string) ||
	     td_parse_id(json_object_get_string(v), (size_t)json_object_get_string_len(v), TD_ID_MAX,
			 &id) != 0 || id != path_id))
		return td_field_fail(err, "id", "id does not match the URL");
	if (json_object_object_get_ex(*data, "attributes", attrs) &&
	    !json_object_is_type(*attrs, json_type_object))
		return SHAPE("INVALID_ATTRIBUTES", "attributes", "must be an object");
	return 0;
}

/* A JSON:API access_token document into a change: the document's shape is
 * checked here (DatoCMS's own codes); values are the core's to judge. */
int
td_dato_parse(struct json_object *body, int creating, int64_t path_id,
	      struct td_token_change *ch, struct td_core_error *err, const char **code)
{
	static const struct {
		const char *name;
		unsigned bit;
		size_t offset;
	} flags[] = {
		{ "can_access_cda", TD_TF_CDA, offsetof(struct td_token_change, cda) },
		{ "can_access_cda_preview", TD_TF_CDA_PREVIEW,
		  offsetof(struct td_token_change, cda_preview) },
		{ "can_access_cma", TD_TF_CMA, offsetof(struct td_token_change, cma) },
	};
	struct json_object *data, *v, *attrs, *rel, *role, *link = NULL;
	int64_t id;
	size_t i;

	(void)creating;
	td_token_change_init(ch, TD_SHAPE_ACCESS_TOKEN);
	if (td_dato_document(body, "access_token", "type must be access_token", path_id, &data,
			     &attrs, err, code) != 0)
		return -1;
	if (attrs != NULL && json_object_object_get_ex(attrs, "name", &v)) {
		if (td_field_text(v, "name", &ch->name, err) != 0)
			return -1;
		ch->set |= TD_TF_NAME;
	}
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (attrs == NULL || !json_object_object_get_ex(attrs, flags[i].name, &v))
			continue;
		if (td_field_bool(v, flags[i].name, (int *)((char *)ch + flags[i].offset), err) != 0)
			return -1;
		ch->set |= flags[i].bit;
	}
	if (attrs != NULL && json_object_object_get_ex(attrs, "allowed_cidrs", &v)) {
		if (td_field_cidrs(v, "allowed_cidrs", &ch->allowed_cidrs, err) != 0)
			return -1;
		ch->set |= TD_TF_ALLOWED_CIDRS;
	}
	if (json_object_object_get_ex(data, "relationships", &rel) &&
	    json_object_is_type(rel, json_type_object) &&
	    json_object_object_get_ex(rel, "role", &role) && json_object_is_type(role, json_type_object))
		json_object_object_get_ex(role, "data", &link);
	if (link != NULL && !json_object_is_type(link, json_type_null)) {
		/* a role the document cannot name is no role: the core says so */
		ch->role_id = -1;
		if (json_object_is_type(link, json_type_object) &&
		    json_object_object_get_ex(link, "id", &v) && json_object_is_type(v, json_type_string) &&
		    parse_id(json_object_get_string(v), &id) == 0)
			ch->role_id = id;
		ch->set |= TD_TF_ROLE;
	}
	return 0;
}

/* Parses the request's document, answering a shape error itself. */
static int
parse(struct td_request *req, struct td_call *c, int creating, int64_t path_id)
{
	const char *code = NULL;

	if (td_dato_parse(req->json, creating, path_id, &c->ctx->change, &c->err, &code) == 0)
		return 0;
	return td_dato_refuse_document(req, c, code);
}

int
td_dato_refuse_document(struct td_request *req, struct td_call *c, const char *code)
{
	/* the call counts first, as every refused call does (429, 404 first) */
	if (code != NULL && td_core_settle_start(c) == TD_OK)
		td_dato_error(req, 422, code, c->err.field, c->err.message);
	else
		td_api_fail(req, c);
	return -1;
}

struct list_ctx {
	struct td_stream out;
	int n;
};

/* Each token rendered alone and written out (sent on every 64 KiB): a
 * list of any length is never one json-c tree nor one body in memory. */
static int
add_token(const struct td_token_view *v, void *arg)
{
	struct list_ctx *l = arg;
	struct json_object *one = access_token_json(v);
	const char *text;
	size_t len;
	int rc = -1;

	if (one == NULL)
		return -1;
	text = json_object_to_json_string_length(one, JSON_C_TO_STRING_PLAIN |
						 JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (text != NULL && (l->n++ == 0 || printbuf_memappend(l->out.buf, ",", 1) >= 0) &&
	    printbuf_memappend(l->out.buf, text, (int)len) >= 0)
		rc = td_stream_wrote(&l->out);
	json_object_put(one);
	return rc;
}

int
td_api_dato_list(struct td_ctx *ctx, struct td_request *req)
{
	struct list_ctx l = { { NULL, NULL, 0 }, 0 };
	struct td_call c;

	if (begin(ctx, req, &c, TD_OP_TOKEN_LIST) != 0)
		return 0;
	if (td_stream_init(&l.out, req) != 0)
		return -1;
	if (printbuf_memappend(l.out.buf, "{\"data\":[", 9) >= 0 &&
	    td_core_token_list(&c, add_token, &l) == TD_OK &&
	    printbuf_memappend(l.out.buf, "]}", 2) >= 0)
		return td_stream_finish(&l.out);
	return td_stream_abandon(&l.out) ? 0 : td_api_fail(req, &c);
}

int64_t
td_dato_path_id(const struct td_request *req)
{
	int64_t id;

	return parse_id(req->match.strs[0], &id) == 0 ? id : 0;
}

static int64_t
path_id(const struct td_request *req)
{
	return td_dato_path_id(req);
}

int
td_api_dato_find(struct td_ctx *ctx, struct td_request *req)
{
	struct td_token_view v;
	struct td_call c;

	if (begin(ctx, req, &c, TD_OP_TOKEN_GET) != 0)
		return 0;
	if (td_core_token_get(&c, path_id(req), &v) != TD_OK)
		return td_api_fail(req, &c);
	return td_dato_respond(req, 200, access_token_json(&v));
}

int
td_api_dato_create(struct td_ctx *ctx, struct td_request *req)
{
	struct td_token_view v;
	struct td_call c;

	if (begin(ctx, req, &c, TD_OP_TOKEN_CREATE) != 0 || parse(req, &c, 1, 0) != 0)
		return 0;
	if (td_core_token_create(&c, &ctx->change, &v) != TD_OK)
		return td_api_fail(req, &c);
	return td_dato_respond(req, 201, access_token_json(&v));
}

int
td_api_dato_update(struct td_ctx *ctx, struct td_request *req)
{
	struct td_token_view v;
	struct td_call c;
	int64_t id = path_id(req);

	if (begin(ctx, req, &c, TD_OP_TOKEN_UPDATE) != 0)
		return 0;
	/* an unknown token is a 404 before its document is judged */
	if (id <= 0)
		return td_api_fail(req, (c.err = (struct td_core_error){ TD_ERR_NOT_FOUND, NULL,
			"no such API token" }, &c));
	if (parse(req, &c, 0, id) != 0)
		return 0;
	if (td_core_token_update(&c, id, &ctx->change, &v) != TD_OK)
		return td_api_fail(req, &c);
	return td_dato_respond(req, 200, access_token_json(&v));
}

int
td_api_dato_regenerate(struct td_ctx *ctx, struct td_request *req)
{
	struct td_token_view v;
	struct td_call c;

	if (begin(ctx, req, &c, TD_OP_TOKEN_REGENERATE) != 0)
		return 0;
	if (td_core_token_regenerate(&c, path_id(req), 0, &v) != TD_OK)
		return td_api_fail(req, &c);
	return td_dato_respond(req, 200, access_token_json(&v));
}

int
td_api_dato_destroy(struct td_ctx *ctx, struct td_request *req)
{
	struct td_token_view v;
	struct td_call c;

	if (begin(ctx, req, &c, TD_OP_TOKEN_DELETE) != 0)
		return 0;
	if (td_core_token_delete(&c, path_id(req), 0, &v) != TD_OK)
		return td_api_fail(req, &c);
	return td_dato_respond(req, 200, access_token_json(&v));
}
