/*
 * libFuzzer target for request bodies: strict JSON parsing with the depth
 * cap, then every core validator a dialect hands its body to (tokens,
 * spaces, personal access tokens), on create and on update; and every
 * string json-c read goes through the JSON writer (json_write.c) and back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tokend/server/json_write.h"
#include "tokend/server/body.h"
#include "tokend/core/pat.h"
#include "tokend/core/space.h"
#include "tokend/core/token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the JSON writer makes of a string json-c read, json-c reads back the same. */
static void
check_written(const char *s)
{
	struct printbuf *pb = printbuf_new();
	struct json_object *back;

	td_jw_str(pb, s);
	back = json_tokener_parse(pb->buf);
	if (back == NULL || !json_object_is_type(back, json_type_string) ||
	    strcmp(json_object_get_string(back), s) != 0)
		abort();
	json_object_put(back);
	printbuf_free(pb);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct td_token t;
	static struct td_space sp;
	static struct td_pat p;
	struct json_object *doc, *inner;
	struct td_field_error err;
	char why[128];
	int explicit_id = 0;

	doc = td_json_parse((const char *)data, size, 32, why, sizeof(why));
	if (doc == NULL)
		return 0;
	inner = doc;
	if (json_object_is_type(doc, json_type_object) && json_object_object_length(doc) == 1) {
		json_object_object_foreach(doc, key, value) {
			(void)key;
			inner = value;	/* {"api_key": {...}} and friends */
		}
	}
	td_token_defaults(&t);
	(void)td_token_apply_json(&t, inner, 1, &err);
	(void)td_token_apply_json(&t, inner, 0, &err);
	memset(&sp, 0, sizeof(sp));
	(void)td_space_apply_json(&sp, inner, 1, &explicit_id, &err);
	memset(&p, 0, sizeof(p));
	(void)td_pat_apply_json(&p, inner, &err);
	if (json_object_is_type(inner, json_type_object)) {
		json_object_object_foreach(inner, k, v) {
			(void)k;
			if (json_object_is_type(v, json_type_string))
				check_written(json_object_get_string(v));
		}
	}
	check_written(t.name);
	check_written(t.description);
	json_object_put(doc);
	return 0;
}
