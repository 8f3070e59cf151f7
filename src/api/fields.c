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

/* A JSON array for field whose items are all of type (null or v NULL:
 * none). *n gets its length; more than max: nothing is read, the core
 * refuses the count; else put stores item i into arg. 0, or -1 (msg) for
 * another shape. */
static int
array_of(struct json_object *v, const char *field, enum json_type type, size_t max,
	 const char *msg, size_t *n, void (*put)(struct json_object *item, size_t i, void *arg),
	 void *arg, struct td_core_error *err)
{
	struct json_object *item;
	size_t i, len;

	*n = 0;
	if (v == NULL || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_array))
		return td_field_fail(err, field, msg);
	len = json_object_array_length(v);
	if (len > max) {
		*n = len;	/* too many: the core says so */
		return 0;
	}
	for (i = 0; i < len; i++) {
		item = json_object_array_get_idx(v, i);
		if (!json_object_is_type(item, type))
			return td_field_fail(err, field, msg);
		put(item, i, arg);
	}
	*n = len;
	return 0;
}

static void
put_cidr(struct json_object *item, size_t i, void *arg)
{
	struct td_change_cidrs *out = arg;

	out->items[i].s = json_object_get_string(item);
	out->items[i].len = (size_t)json_object_get_string_len(item);
}

int
td_field_cidrs(struct json_object *v, const char *field, struct td_change_cidrs *out,
	       struct td_core_error *err)
{
	return array_of(v, field, json_type_string, TD_CIDRS_MAX,
			"must be a list of IP ranges (strings)", &out->n, put_cidr, out, err);
}

static void
put_id(struct json_object *item, size_t i, void *arg)
{
	((struct td_change_ids *)arg)->ids[i] = json_object_get_int64(item);
}

int
td_field_ids(struct json_object *v, const char *field, struct td_change_ids *out,
	     struct td_core_error *err)
{
	return array_of(v, field, json_type_int, TD_IDS_MAX, "must be an array of ids", &out->n,
			put_id, out, err);
}
