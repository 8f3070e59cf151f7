/*
 * The DatoCMS view of roles (JSON:API, type "role"):
 *   GET|POST /roles, GET|PUT|DELETE /roles/{id}, POST /roles/{id}/duplicate
 * in the project the access-token routes resolve (the caller's own space,
 * else X-Space-Id). A role document is parsed here into a typed change: its
 * shape, every attribute's type, and each permission entry's shape (the
 * lists are kept as compact JSON, since tokend judges no content
 * permission); the core judges values, limits and who may. Unknown
 * attributes are refused (INVALID_ATTRIBUTES), as nothing here could keep
 * them. Every input is hostile: lists are counted before their entries are
 * read, and every string an entry holds is a short ASCII id.
 */
#include <stdio.h>
#include <string.h>

#include "tokend/api/dato.h"
#include "tokend/api/fields.h"
#include "tokend/server/log.h"
#include "tokend/server/parse.h"

#define RESOURCE "role"
#define INHERITS "inherits_permissions_from"

/* --- permission entries --- */

/* A key a permission entry may hold: an enum (values), or an id, locale or
 * stage (values NULL); required ones may not be missing nor null. */
struct entry_key {
	const char *name;
	int required;
	const char *const *values;
};

static const char *const item_actions[] = {
	"all", "read", "create", "update", "publish", "duplicate", "delete", "edit_creator",
	"take_over", "move_to_stage", NULL
};
static const char *const upload_actions[] = {
	"all", "read", "create", "update", "delete", "edit_creator", "replace_asset", "move", NULL
};
static const char *const creators[] = { "anyone", "self", "role", NULL };
static const char *const scopes[] = { "all", "localized", "not_localized", NULL };

static const struct entry_key item_keys[] = {
	{ "action", 1, item_actions }, { "environment", 1, NULL }, { "item_type", 0, NULL },
	{ "workflow", 0, NULL }, { "on_stage", 0, NULL }, { "to_stage", 0, NULL },
	{ "on_creator", 0, creators }, { "localization_scope", 0, scopes }, { "locale", 0, NULL },
	{ NULL, 0, NULL }
};
static const struct entry_key upload_keys[] = {
	{ "action", 1, upload_actions }, { "environment", 1, NULL },
	{ "upload_collection", 0, NULL }, { "move_to_upload_collection", 0, NULL },
	{ "on_creator", 0, creators }, { "localization_scope", 0, scopes }, { "locale", 0, NULL },
	{ NULL, 0, NULL }
};
static const struct entry_key build_trigger_keys[] = { { "build_trigger", 0, NULL }, { NULL, 0, NULL } };
static const struct entry_key search_index_keys[] = { { "search_index", 0, NULL }, { NULL, 0, NULL } };

/* The keys of each list's entries, by enum td_role_list (pairs share). */
static const struct entry_key *const list_keys[TD_RL__MAX] = {
	item_keys, item_keys, upload_keys, upload_keys,
	build_trigger_keys, build_trigger_keys, search_index_keys, search_index_keys,
};

/* An id, locale or stage: 1..TD_ROLE_REF_MAX of [A-Za-z0-9_.-]. */
static int
is_ref(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > TD_ROLE_REF_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return 0;
	return 1;
}

static int
in_list(const char *const *values, const char *s)
{
	for (; *values != NULL; values++)
		if (strcmp(*values, s) == 0)
			return 1;
	return 0;
}

/* One entry of list i; NULL, or why it is refused. */
static const char *
entry_error(struct json_object *entry, int i)
{
	const struct entry_key *k, *keys = list_keys[i];
	struct json_object *v;
	const char *s;

	if (!json_object_is_type(entry, json_type_object))
		return "has an entry that is not an object";
	json_object_object_foreach(entry, key, val) {
		for (k = keys; k->name != NULL && strcmp(k->name, key) != 0; k++)
			;
		if (k->name == NULL)
			return "has an entry with a key this list does not know";
		if (json_object_is_type(val, json_type_null))
			continue;	/* a required one is caught below */
		if (!json_object_is_type(val, json_type_string))
			return "has an entry whose value is not a string or null";
		s = json_object_get_string(val);
		if (k->values != NULL ? !in_list(k->values, s)
				      : !is_ref(s, (size_t)json_object_get_string_len(val)))
			return k->values != NULL ? "has an entry with a value not in its list"
						 : "has an entry with an id that is not 1..64 of "
						   "A-Z a-z 0-9 _ . -";
	}
	for (k = keys; k->name != NULL; k++)
		if (k->required && (!json_object_object_get_ex(entry, k->name, &v) ||
				    json_object_is_type(v, json_type_null)))
			return "has an entry without its action or environment";
	return NULL;
}

/* Permission list i into ch: counted first (too many: the core refuses),
 * then each entry, then kept as compact JSON. */
static int
parse_list(struct json_object *v, int i, struct td_role_change *ch, struct td_core_error *err)
{
	const char *name = td_role_list_names[i], *why;
	size_t n, j, len = 0;

	if (!json_object_is_type(v, json_type_array))
		return td_field_fail(err, name, "must be an array");
	n = json_object_array_length(v);
	ch->lists_set |= 1u << i;
	ch->list_entries[i] = n;
	ch->lists[i].s = NULL;
	ch->lists[i].len = 0;
	if (n > TD_ROLE_PERMISSIONS_MAX)
		return 0;
	for (j = 0; j < n; j++)
		if ((why = entry_error(json_object_array_get_idx(v, j), i)) != NULL)
			return td_field_fail(err, name, why);
	/* held by v, which lives as long as the request's body */
	ch->lists[i].s = json_object_to_json_string_length(
		v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	ch->lists[i].len = len;
	if (ch->lists[i].s == NULL)
		return td_field_fail(err, name, "could not be read");
	return 0;
}

/* relationships.inherits_permissions_from.data: [{type: "role", id}...] */
static int
parse_inherits(struct json_object *rel, struct td_role_change *ch, struct td_core_error *err)
{
	struct json_object *data, *item, *v;
	size_t i, n;
	int64_t id;

	if (!json_object_is_type(rel, json_type_object) ||
	    !json_object_object_get_ex(rel, "data", &data))
		return td_field_fail(err, INHERITS, "must be {\"data\": [...]}");
	ch->set |= TD_RF_INHERITS;
	ch->ninherits = 0;
	if (json_object_is_type(data, json_type_null))
		return 0;
	if (!json_object_is_type(data, json_type_array))
		return td_field_fail(err, INHERITS, "must be a list of roles");
	n = json_object_array_length(data);
	ch->ninherits = n;
	if (n > TD_ROLE_INHERITS_MAX)
		return 0;	/* too many: the core says so */
	for (i = 0; i < n; i++) {
		item = json_object_array_get_idx(data, i);
		if (!json_object_is_type(item, json_type_object) ||
		    !json_object_object_get_ex(item, "type", &v) ||
		    !json_object_is_type(v, json_type_string) ||
		    strcmp(json_object_get_string(v), "role") != 0 ||
		    !json_object_object_get_ex(item, "id", &v) || !json_object_is_type(v, json_type_string))
			return td_field_fail(err, INHERITS, "must be a list of {\"type\": \"role\", \"id\"}");
		/* an id of another spelling names no role: the core says so */
		ch->inherits[i] = td_parse_id(json_object_get_string(v),
					      (size_t)json_object_get_string_len(v), TD_ID_MAX,
					      &id) == 0 ? id : -1;
	}
	return 0;
}

/* One attribute into ch; 1 when the name is no role attribute. */
static int
parse_attribute(const char *key, struct json_object *v, struct td_role_change *ch,
		struct td_core_error *err, int *rc)
{
	size_t i;
	int b;

	*rc = 0;
	if (strcmp(key, "name") == 0) {
		ch->set |= TD_RF_NAME;
		*rc = td_field_text(v, "name", &ch->name, err);
		return 0;
	}
	if (strcmp(key, "environments_access") == 0) {
		ch->set |= TD_RF_ENV;
		*rc = td_field_text(v, "environments_access", &ch->env_access, err);
		return 0;
	}
	for (i = 0; i < td_role_flags_count; i++) {
		if (strcmp(key, td_role_flags[i].name) != 0)
			continue;
		if ((*rc = td_field_bool(v, td_role_flags[i].name, &b, err)) == 0) {
			ch->perms_set |= td_role_flags[i].bit;
			ch->perms = b ? ch->perms | td_role_flags[i].bit : ch->perms & ~td_role_flags[i].bit;
		}
		return 0;
	}
	for (i = 0; i < TD_RL__MAX; i++) {
		if (strcmp(key, td_role_list_names[i]) == 0) {
			*rc = parse_list(v, (int)i, ch, err);
			return 0;
		}
	}
	return 1;
}

#define SHAPE(c, f, m) (*code = (c), td_field_fail(err, (f), (m)))

/* A JSON:API role document into a change: the document's shape is checked
 * here (DatoCMS's own codes in *code); values are the core's to judge. */
int
td_dato_role_parse(struct json_object *body, int64_t path_id, struct td_role_change *ch,
		   struct td_core_error *err, const char **code)
{
	struct json_object *data, *attrs, *rels = NULL;
	int rc;

	memset(ch, 0, sizeof(*ch));
	if (td_dato_document(body, "role", "type must be role", path_id, &data, &attrs, err,
			     code) != 0)
		return -1;
	if (attrs != NULL) {
		json_object_object_foreach(attrs, key, val) {
			if (parse_attribute(key, val, ch, err, &rc) != 0)
				return SHAPE("INVALID_ATTRIBUTES", key[0] != '\0' ? key : "attributes",
					     "is not an attribute of a role");
			if (rc != 0)
				return -1;
		}
	}
	if (json_object_object_get_ex(data, "relationships", &rels) &&
	    !json_object_is_type(rels, json_type_null)) {
		if (!json_object_is_type(rels, json_type_object))
			return SHAPE("INVALID_RELATIONSHIP", "relationships", "must be an object");
		json_object_object_foreach(rels, key, val) {
			if (strcmp(key, INHERITS) != 0)
				return SHAPE("INVALID_RELATIONSHIP", key[0] != '\0' ? key : "relationships",
					     "is not a relationship of a role");
			if (parse_inherits(val, ch, err) != 0)
				return -1;
		}
	}
	return 0;
}

/* --- rendering --- */

/* A stored list as JSON (an empty one, or one that does not parse, which
 * the core never wrote: logged, shown empty). */
static struct json_object *
list_json(const struct td_role *r, int i)
{
	struct json_object *o;

	if (r->lists[i][0] == '\0')
		return json_object_new_array();
	o = json_tokener_parse(r->lists[i]);
	if (o == NULL || !json_object_is_type(o, json_type_array)) {
		td_log_error("role %lld: list %s unreadable", (long long)r->id, td_role_list_names[i]);
		json_object_put(o);
		return json_object_new_array();
	}
	return o;
}

/* The flags, environments and lists: as declared (attributes), or after
 * inheritance (meta.final_permissions, whose lists are the role's own:
 * tokend merges no content permission). */
static void
add_permissions(struct json_object *o, unsigned perms, int env, struct json_object **lists)
{
	size_t i;

	for (i = 0; i < td_role_flags_count; i++)
		json_object_object_add(o, td_role_flags[i].name,
				       json_object_new_boolean((perms & td_role_flags[i].bit) != 0));
	json_object_object_add(o, "environments_access",
			       json_object_new_string(td_env_access_name(env)));
	for (i = 0; i < TD_RL__MAX; i++)
		json_object_object_add(o, td_role_list_names[i], json_object_get(lists[i]));
}

static struct json_object *
role_json(const struct td_role_view *v)
{
	const struct td_role *r = v->r;
	struct json_object *o = json_object_new_object(), *attrs = json_object_new_object();
	struct json_object *rel = json_object_new_object(), *inh = json_object_new_object();
	struct json_object *links = json_object_new_array(), *meta = json_object_new_object();
	struct json_object *final = json_object_new_object(), *lists[TD_RL__MAX], *link;
	int i;

	for (i = 0; i < TD_RL__MAX; i++)
		lists[i] = list_json(r, i);
	json_object_object_add(attrs, "name", json_object_new_string(r->name));
	add_permissions(attrs, r->perms, r->env_access, lists);
	add_permissions(final, v->final_perms, v->final_env, lists);
	for (i = 0; i < TD_RL__MAX; i++)
		json_object_put(lists[i]);	/* each added twice, with a reference each */
	for (i = 0; i < r->ninherits && i < TD_ROLE_INHERITS_MAX; i++) {
		link = json_object_new_object();
		json_object_object_add(link, "type", json_object_new_string("role"));
		json_object_object_add(link, "id", td_dato_id(r->inherits[i]));
		json_object_array_add(links, link);
	}
	json_object_object_add(inh, "data", links);
	json_object_object_add(rel, INHERITS, inh);
	json_object_object_add(meta, "final_permissions", final);
	json_object_object_add(o, "type", json_object_new_string("role"));
	json_object_object_add(o, "id", td_dato_id(r->id));
	json_object_object_add(o, "attributes", attrs);
	json_object_object_add(o, "relationships", rel);
	json_object_object_add(o, "meta", meta);
	return o;
}

/* --- handlers --- */

/* Parses the request's role document, answering a shape error itself. */
static int
parse(struct td_request *req, struct td_call *c, int64_t id)
{
	const char *code = NULL;

	if (td_dato_role_parse(req->json, id, &c->ctx->role_change, &c->err, &code) == 0)
		return 0;
	return td_dato_refuse_document(req, c, code);
}

static int
answer(struct td_request *req, struct td_call *c, int rc, int status,
       const struct td_role_view *v)
{
	if (rc != TD_OK)
		return td_api_fail(req, c);
	return td_dato_respond(req, status, role_json(v));
}

static int
add_role(const struct td_role_view *v, void *arg)
{
	return json_object_array_add(arg, role_json(v));
}

int
td_api_dato_roles(struct td_ctx *ctx, struct td_request *req)
{
	struct json_object *list;
	struct td_call c;

	if (td_dato_begin(ctx, req, &c, RESOURCE, TD_OP_ROLE_LIST) != 0)
		return 0;
	list = json_object_new_array();
	if (td_core_role_list(&c, add_role, list) != TD_OK) {
		json_object_put(list);
		return td_api_fail(req, &c);
	}
	return td_dato_respond(req, 200, list);
}

/* A call about the role in the path, without a document. */
static int
about_one(struct td_ctx *ctx, struct td_request *req, enum td_op op,
	  int (*fn)(struct td_call *c, int64_t id, struct td_role_view *out), int status)
{
	struct td_role_view v;
	struct td_call c;

	if (td_dato_begin(ctx, req, &c, RESOURCE, op) != 0)
		return 0;
	return answer(req, &c, fn(&c, td_dato_path_id(req), &v), status, &v);
}

int
td_api_dato_role(struct td_ctx *ctx, struct td_request *req)
{
	return about_one(ctx, req, TD_OP_ROLE_GET, td_core_role_get, 200);
}

int
td_api_dato_role_create(struct td_ctx *ctx, struct td_request *req)
{
	struct td_role_view v;
	struct td_call c;

	if (td_dato_begin(ctx, req, &c, RESOURCE, TD_OP_ROLE_CREATE) != 0 || parse(req, &c, 0) != 0)
		return 0;
	return answer(req, &c, td_core_role_create(&c, &ctx->role_change, &v), 201, &v);
}

int
td_api_dato_role_update(struct td_ctx *ctx, struct td_request *req)
{
	struct td_role_view v;
	struct td_call c;
	int64_t id = td_dato_path_id(req);

	if (td_dato_begin(ctx, req, &c, RESOURCE, TD_OP_ROLE_UPDATE) != 0)
		return 0;
	/* an unknown role is a 404 before its document is judged */
	if (id <= 0)
		return td_api_fail(req, (c.err = (struct td_core_error){ TD_ERR_NOT_FOUND, NULL,
			"no such role" }, &c));
	if (parse(req, &c, id) != 0)
		return 0;
	return answer(req, &c, td_core_role_update(&c, id, &ctx->role_change, &v), 200, &v);
}

int
td_api_dato_role_destroy(struct td_ctx *ctx, struct td_request *req)
{
	return about_one(ctx, req, TD_OP_ROLE_DELETE, td_core_role_delete, 200);
}

/* a new role: 201, as a create */
int
td_api_dato_role_duplicate(struct td_ctx *ctx, struct td_request *req)
{
	return about_one(ctx, req, TD_OP_ROLE_DUPLICATE, td_core_role_duplicate, 201);
}
