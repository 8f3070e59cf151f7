#include <string.h>

#include "tokend/core/pat.h"

#define FAIL(f, m) do { err->field = (f); err->message = (m); return -1; } while (0)

static const struct {
	const char *resource;
	unsigned read, write;
} resources[] = {
	{ "spaces", TD_SCOPE_SPACES_READ, TD_SCOPE_SPACES_WRITE },
	{ "access_tokens", TD_SCOPE_TOKENS_READ, TD_SCOPE_TOKENS_WRITE },
	{ "personal_access_tokens", TD_SCOPE_PATS_READ, TD_SCOPE_PATS_WRITE },
};

#define RESOURCES_N (sizeof(resources) / sizeof(resources[0]))

struct json_object *
td_pat_scopes_json(unsigned scopes)
{
	struct json_object *o = json_object_new_object();
	size_t i;

	for (i = 0; i < RESOURCES_N; i++) {
		if (scopes & resources[i].write)
			json_object_object_add(o, resources[i].resource, json_object_new_string("write"));
		else if (scopes & resources[i].read)
			json_object_object_add(o, resources[i].resource, json_object_new_string("read"));
	}
	return o;
}

static int
parse_scopes(struct json_object *v, unsigned *out, const char **msg)
{
	size_t i;

	*out = 0;
	if (!json_object_is_type(v, json_type_object)) {
		*msg = "must be an object of resource: read|write";
		return -1;
	}
	json_object_object_foreach(v, key, level) {
		for (i = 0; i < RESOURCES_N && strcmp(key, resources[i].resource) != 0; i++)
			;
		if (i == RESOURCES_N) {
			*msg = "names an unknown resource";
			return -1;
		}
		if (!json_object_is_type(level, json_type_string)) {
			*msg = "levels must be read or write";
			return -1;
		}
		if (strcmp(json_object_get_string(level), "write") == 0)
			*out |= resources[i].read | resources[i].write;
		else if (strcmp(json_object_get_string(level), "read") == 0)
			*out |= resources[i].read;
		else {
			*msg = "levels must be read or write";
			return -1;
		}
	}
	return 0;
}

static int
parse_spaces(struct td_pat *p, struct json_object *v, const char **msg)
{
	struct json_object *item;
	int64_t id;
	size_t i, n;

	if (json_object_is_type(v, json_type_string) && strcmp(json_object_get_string(v), "all") == 0) {
		p->all_spaces = 1;
		p->nspaces = 0;
		return 0;
	}
	if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0) {
		*msg = "must be \"all\" or a non-empty array of space ids";
		return -1;
	}
	n = json_object_array_length(v);
	if (n > TD_PAT_SPACES_MAX) {
		*msg = "is too long (maximum is 256 spaces)";
		return -1;
	}
	for (i = 0; i < n; i++) {
		item = json_object_array_get_idx(v, i);
		if (td_json_int64(item, 1, INT64_MAX - 1, &id, msg) != 0) {
			*msg = "must be \"all\" or a non-empty array of space ids";
			return -1;
		}
		p->spaces[i] = id;
	}
	p->all_spaces = 0;
	p->nspaces = (int)n;
	return 0;
}

int
td_pat_apply_json(struct td_pat *p, struct json_object *obj, struct td_field_error *err)
{
	struct json_object *v;
	const char *msg = NULL;
	int is_null = 0;

	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		FAIL("personal_access_token", "can't be blank");
	json_object_object_get_ex(obj, "name", &v);
	if (td_json_text(v, TD_NAME_MAX, p->name, sizeof(p->name), &is_null, &msg) != 0)
		FAIL("name", msg);
	if (is_null || p->name[0] == '\0')
		FAIL("name", "can't be blank");
	if (json_object_object_get_ex(obj, "full_permission", &v) &&
	    !json_object_is_type(v, json_type_null)) {
		if (!json_object_is_type(v, json_type_boolean))
			FAIL("full_permission", "must be true or false");
		p->full = json_object_get_boolean(v);
	}
	if (p->full) {
		p->all_spaces = 1;
		p->scopes = TD_SCOPE_ALL;
	} else {
		if (!json_object_object_get_ex(obj, "spaces", &v) ||
		    json_object_is_type(v, json_type_null))
			FAIL("spaces", "can't be blank");
		if (parse_spaces(p, v, &msg) != 0)
			FAIL("spaces", msg);
		if (!json_object_object_get_ex(obj, "scopes", &v) ||
		    json_object_is_type(v, json_type_null))
			FAIL("scopes", "can't be blank");
		if (parse_scopes(v, &p->scopes, &msg) != 0)
			FAIL("scopes", msg);
		if (p->scopes == 0)
			FAIL("scopes", "must grant at least one scope");
	}
	if (json_object_object_get_ex(obj, "expires_at", &v) &&
	    td_json_time(v, &p->expires_at, &msg) != 0)
		FAIL("expires_at", msg);
	return 0;
}
