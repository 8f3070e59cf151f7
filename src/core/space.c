#include <string.h>

#include "tokend/core/space.h"

#define FAIL(f, m) do { err->field = (f); err->message = (m); return -1; } while (0)

int
td_space_apply_json(struct td_space *sp, struct json_object *obj, int creating,
		    int *explicit_id, struct td_field_error *err)
{
	struct json_object *v;
	const char *msg = NULL;
	int64_t n;
	int is_null = 0;

	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		FAIL("space", "can't be blank");
	if (creating && json_object_object_get_ex(obj, "id", &v) &&
	    !json_object_is_type(v, json_type_null)) {
		if (td_json_int64(v, 1, INT64_MAX - 1, &n, &msg) != 0)
			FAIL("id", msg);
		sp->id = n;
		*explicit_id = 1;
	}
	if (json_object_object_get_ex(obj, "name", &v) || creating) {
		if (td_json_text(v, TD_NAME_MAX, sp->name, sizeof(sp->name), &is_null, &msg) != 0)
			FAIL("name", msg);
		if (is_null || sp->name[0] == '\0')
			FAIL("name", "can't be blank");
	}
	if (json_object_object_get_ex(obj, "rate_limit", &v)) {
		if (json_object_is_type(v, json_type_null))
			sp->rate_limit = 0;
		else if (td_json_int64(v, 1, TD_RATE_LIMIT_MAX, &n, &msg) != 0)
			FAIL("rate_limit", json_object_is_type(v, json_type_int)
					   ? "must be between 1 and 1000000" : msg);
		else
			sp->rate_limit = (int)n;
	}
	if (json_object_object_get_ex(obj, "min_cache", &v)) {
		if (td_json_int64(v, 0, TD_MIN_CACHE_MAX, &n, &msg) != 0)
			FAIL("min_cache", json_object_is_type(v, json_type_int)
					  ? "must be between 0 and 31536000" : msg);
		sp->min_cache = (int)n;
	}
	return 0;
}
