/*
 * Validation speaks Rails' words ("can't be blank", "is not included in the
 * list") because the Storyblok clients show them as "field: message"; the
 * other dialects carry the same message in their own error shapes.
 */
#include <stdio.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "tokend/core/token.h"

static const char *const access_names[TD_ACCESS__MAX] = {
	[TD_ACCESS_PUBLIC] = "public",
	[TD_ACCESS_PRIVATE] = "private",
	[TD_ACCESS_ASSET] = "asset",
	[TD_ACCESS_RELEASE] = "release",
	[TD_ACCESS_THEME] = "theme",
};

static const enum td_token_kind access_kinds[TD_ACCESS__MAX] = {
	[TD_ACCESS_PUBLIC] = TD_KIND_PUBLIC,
	[TD_ACCESS_PRIVATE] = TD_KIND_PRIVATE,
	[TD_ACCESS_ASSET] = TD_KIND_ASSET,
	[TD_ACCESS_RELEASE] = TD_KIND_RELEASE,
	[TD_ACCESS_THEME] = TD_KIND_THEME,
};

static const char *const status_names[TD_STATUS__MAX] = {
	[TD_STATUS_ACTIVE] = "active",
	[TD_STATUS_DISABLED] = "disabled",
	[TD_STATUS_DELETED] = "deleted",
};

const char *
td_access_name(enum td_access a)
{
	return a >= 0 && a < TD_ACCESS__MAX ? access_names[a] : "public";
}

int
td_access_parse(const char *s, enum td_access *out)
{
	int i;

	for (i = 0; i < TD_ACCESS__MAX; i++)
		if (strcmp(s, access_names[i]) == 0) {
			*out = (enum td_access)i;
			return 0;
		}
	return -1;
}

const char *
td_status_name(enum td_status s)
{
	return s >= 0 && s < TD_STATUS__MAX ? status_names[s] : "active";
}

enum td_token_kind
td_access_token_kind(enum td_access a)
{
	return a >= 0 && a < TD_ACCESS__MAX ? access_kinds[a] : TD_KIND_PUBLIC;
}

int64_t
td_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
td_format_time_ms(int64_t ms, char *out, size_t size)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

void
td_token_set_access(struct td_token *t, enum td_access a)
{
	t->access = a;
	t->rights = (t->rights & TD_RIGHT_CMA) | TD_RIGHT_CDA |
		    (a == TD_ACCESS_PRIVATE ? TD_RIGHT_CDA_PREVIEW : 0);
}

void
td_token_set_delivery(struct td_token *t, int cda, int cda_preview)
{
	t->rights = (t->rights & TD_RIGHT_CMA) | (cda ? TD_RIGHT_CDA : 0) |
		    (cda_preview ? TD_RIGHT_CDA_PREVIEW : 0);
	if (cda_preview)
		t->access = TD_ACCESS_PRIVATE;
	else if (t->access == TD_ACCESS_PRIVATE || t->access == TD_ACCESS__MAX)
		t->access = TD_ACCESS_PUBLIC;
}

const char *
td_hardcoded_name(enum td_hardcoded h)
{
	return h == TD_HARDCODED_READONLY ? "readonly" : NULL;
}

void
td_token_defaults(struct td_token *t)
{
	memset(t, 0, offsetof(struct td_token, name));
	t->name[0] = t->description[0] = t->icon[0] = '\0';
	t->story_ids.n = t->release_ids.n = 0;
	t->access = TD_ACCESS__MAX;	/* unset: create requires it */
	t->status = TD_STATUS_ACTIVE;
}

int
td_token_effective_min_cache(const struct td_token *t, int space_min_cache)
{
	return t->has_min_cache ? t->min_cache : space_min_cache;
}

static size_t
utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* A string or null, at most max_chars characters (json-c already checked
 * the UTF-8), without control characters. */
int
td_json_text(struct json_object *v, size_t max_chars, char *out, size_t outsize,
	     int *is_null, const char **msg)
{
	const char *s;
	size_t len, i;

	if (v == NULL || json_object_is_type(v, json_type_null)) {
		out[0] = '\0';
		if (is_null)
			*is_null = 1;
		return 0;
	}
	if (!json_object_is_type(v, json_type_string)) {
		*msg = "must be a string";
		return -1;
	}
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			*msg = "must not contain control characters";
			return -1;
		}
	if (utf8_chars(s) > max_chars || len >= outsize) {
		*msg = "is too long";
		return -1;
	}
	memcpy(out, s, len + 1);
	if (is_null)
		*is_null = 0;
	return 0;
}

int
td_json_int64(struct json_object *v, int64_t min, int64_t max, int64_t *out, const char **msg)
{
	int64_t n;

	if (!json_object_is_type(v, json_type_int)) {
		*msg = "is not a number";
		return -1;
	}
	/* json-c saturates out-of-range integers at INT64_MIN/MAX: a value at
	 * the limits is only trusted when the limit itself is allowed */
	n = json_object_get_int64(v);
	if (n < min || n > max) {
		*msg = "is out of range";
		return -1;
	}
	*out = n;
	return 0;
}

/* "YYYY-MM-DDTHH:MM:SS[.sss]Z", or null for never. */
int
td_json_time(struct json_object *v, int64_t *out, const char **msg)
{
	const char *s, *end;
	struct tm tm;
	time_t t;

	if (v == NULL || json_object_is_type(v, json_type_null)) {
		*out = 0;
		return 0;
	}
	if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) > 30) {
		*msg = "must be a time like 2030-01-31T12:00:00Z";
		return -1;
	}
	s = json_object_get_string(v);
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end != NULL && *end == '.') {
		end++;
		while (*end >= '0' && *end <= '9')
			end++;
	}
	if (end == NULL || strcmp(end, "Z") != 0 || tm.tm_year < 70 || tm.tm_year > 1100) {
		*msg = "must be a time like 2030-01-31T12:00:00Z";
		return -1;
	}
	t = timegm(&tm);
	if (t <= 0) {
		*msg = "must be a time like 2030-01-31T12:00:00Z";
		return -1;
	}
	*out = (int64_t)t;
	return 0;
}

static int
id_list(struct json_object *v, struct td_id_list *out, const char **msg)
{
	struct json_object *item;
	int64_t id;
	size_t i, n;

	if (v == NULL || json_object_is_type(v, json_type_null)) {
		out->n = 0;
		return 0;
	}
	if (!json_object_is_type(v, json_type_array)) {
		*msg = "must be an array of ids";
		return -1;
	}
	n = json_object_array_length(v);
	if (n > TD_IDS_MAX) {
		*msg = "is too long (maximum is 1000 ids)";
		return -1;
	}
	for (i = 0; i < n; i++) {
		item = json_object_array_get_idx(v, i);
		if (td_json_int64(item, 1, INT64_MAX - 1, &id, msg) != 0) {
			*msg = "must be an array of ids";
			return -1;
		}
		out->ids[i] = id;
	}
	out->n = (int)n;
	return 0;
}

#define FAIL(f, m) do { err->field = (f); err->message = (m); return -1; } while (0)

int
td_token_apply_json(struct td_token *t, struct json_object *obj, int creating,
		    struct td_field_error *err)
{
	struct json_object *v;
	const char *msg = NULL;
	int64_t n;
	int is_null;

	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		FAIL("api_key", "can't be blank");
	if (json_object_object_get_ex(obj, "access", &v) && !json_object_is_type(v, json_type_null)) {
		enum td_access a;

		if (!json_object_is_type(v, json_type_string) ||
		    td_access_parse(json_object_get_string(v), &a) != 0)
			FAIL("access", "is not included in the list");
		td_token_set_access(t, a);
	} else if (creating || json_object_object_get_ex(obj, "access", NULL)) {
		FAIL("access", "can't be blank");
	}
	if (json_object_object_get_ex(obj, "name", &v)) {
		if (td_json_text(v, TD_NAME_MAX, t->name, sizeof(t->name), &is_null, &msg) != 0)
			FAIL("name", msg);
		t->has_name = !is_null;
	}
	if (json_object_object_get_ex(obj, "description", &v) &&
	    td_json_text(v, TD_DESCRIPTION_MAX, t->description, sizeof(t->description), NULL, &msg) != 0)
		FAIL("description", msg);
	if (json_object_object_get_ex(obj, "icon", &v) &&
	    td_json_text(v, TD_ICON_MAX, t->icon, sizeof(t->icon), NULL, &msg) != 0)
		FAIL("icon", msg);
	if (json_object_object_get_ex(obj, "branch_id", &v)) {
		if (json_object_is_type(v, json_type_null))
			t->branch_id = 0;
		else if (td_json_int64(v, 1, INT64_MAX - 1, &n, &msg) != 0)
			FAIL("branch_id", msg);
		else
			t->branch_id = n;
	}
	if (json_object_object_get_ex(obj, "story_ids", &v) && id_list(v, &t->story_ids, &msg) != 0)
		FAIL("story_ids", msg);
	if (json_object_object_get_ex(obj, "release_ids", &v) &&
	    id_list(v, &t->release_ids, &msg) != 0)
		FAIL("release_ids", msg);
	if (json_object_object_get_ex(obj, "min_cache", &v)) {
		if (json_object_is_type(v, json_type_null)) {
			t->has_min_cache = 0;
		} else if (td_json_int64(v, 0, TD_MIN_CACHE_MAX, &n, &msg) != 0) {
			FAIL("min_cache", json_object_is_type(v, json_type_int)
					  ? "must be between 0 and 31536000" : msg);
		} else {
			t->min_cache = (int)n;
			t->has_min_cache = 1;
		}
	}
	if (json_object_object_get_ex(obj, "expires_at", &v) &&
	    td_json_time(v, &t->expires_at, &msg) != 0)
		FAIL("expires_at", msg);
	if (json_object_object_get_ex(obj, "status", &v)) {
		if (!json_object_is_type(v, json_type_string))
			FAIL("status", "is not included in the list");
		if (strcmp(json_object_get_string(v), "active") == 0)
			t->status = TD_STATUS_ACTIVE;
		else if (strcmp(json_object_get_string(v), "disabled") == 0)
			t->status = TD_STATUS_DISABLED;
		else
			FAIL("status", "is not included in the list");
	}
	return 0;
}

int
td_token_regenerate(struct td_token *t, const struct td_keyring *kr)
{
	const struct td_key *key = td_keyring_newest(kr);

	if (key == NULL || td_token_new_secret(t->secret) != 0)
		return -1;
	t->kid = key->kid;
	t->signed_kind = td_access_token_kind(t->access);
	return 0;
}
