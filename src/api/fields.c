/* Typed JSON readers for the dialects' parsers (see fields.h). */
#include <string.h>

#include "tokend/api/fields.h"

int
td_field_fail(struct td_core_error *err, const char *field, const char *message)
{
	err->code = TD_ERR_INVALID;
	err->field = field;
	err->message = message;
	return -1;
}

int
td_field_text(struct json_object *v, const char *field, struct td_text *out,
	      struct td_core_error *err)
{
	if (v == NULL || json_object_is_type(v, json_type_null)) {
		out->s = NULL;
		out->len = 0;
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return td_field_fail(err, field, "must be a string");
	out->s = json_object_get_string(v);
	out->len = (size_t)json_object_get_string_len(v);
	return 0;
}

int
td_field_int64(struct json_object *v, const char *field, int64_t *out, struct td_core_error *err)
{
	/* json-c saturates out-of-range integers at INT64_MIN/MAX; every core
	 * range stops short of both, so a saturated value is refused there */
	if (v == NULL || !json_object_is_type(v, json_type_int))
		return td_field_fail(err, field, "is not a number");
	*out = json_object_get_int64(v);
	return 0;
}

int
td_field_bool(struct json_object *v, const char *field, int *out, struct td_core_error *err)
{
	if (v == NULL || !json_object_is_type(v, json_type_boolean))
		return td_field_fail(err, field, "must be true or false");
	*out = json_object_get_boolean(v);
	return 0;
}

int
td_field_ids(struct json_object *v, const char *field, struct td_change_ids *out,
	     struct td_core_error *err)
{
	struct json_object *item;
	size_t i, n;

	out->n = 0;
	if (v == NULL || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_array))
		return td_field_fail(err, field, "must be an array of ids");
	n = json_object_array_length(v);
	if (n > TD_IDS_MAX) {
		out->n = n;	/* too many: the core says so */
		return 0;
	}
	for (i = 0; i < n; i++) {
		item = json_object_array_get_idx(v, i);
		if (!json_object_is_type(item, json_type_int))
			return td_field_fail(err, field, "must be an array of ids");
		out->ids[i] = json_object_get_int64(item);
	}
	out->n = n;
	return 0;
}
