/*
 * libFuzzer target for request bodies: strict JSON parsing with the depth
 * cap (td_json_parse), then every dialect's request parser on the same
 * document, each followed by the core validator it hands its change to
 * (Storyblok, DatoCMS and SoftwareOne tokens, admin spaces, personal access
 * tokens), on create and on update; and every string json-c read, and every
 * text a validator stored, goes through the JSON writer (json_write.c) and
 * back unchanged. tests/fuzz/fuzz_dialects.c checks the stored values
 * against their limits, one dialect per input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tokend/api/fields.h"
#include "tokend/core/core.h"
#include "tokend/core/pat.h"
#include "tokend/core/space.h"
#include "tokend/core/token.h"
#include "tokend/server/body.h"
#include "tokend/server/json_write.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct td_token t;
static struct td_token_change change;

/* What the JSON writer makes of a string json-c read, json-c reads back the same. */
static void
check_written(const char *s)
{
	struct printbuf *pb = printbuf_new();
	struct json_object *back;

	if (pb == NULL)
		abort();
	td_jw_str(pb, s);
	back = json_tokener_parse(pb->buf);
	if (back == NULL || !json_object_is_type(back, json_type_string) ||
	    strcmp(json_object_get_string(back), s) != 0)
		abort();
	json_object_put(back);
	printbuf_free(pb);
}

/* Every string in the document, keys included (the depth cap bounds the
 * recursion). */
static void
check_strings(struct json_object *o)
{
	size_t i;

	if (json_object_is_type(o, json_type_string)) {
		check_written(json_object_get_string(o));
	} else if (json_object_is_type(o, json_type_array)) {
		for (i = 0; i < json_object_array_length(o); i++)
			check_strings(json_object_array_get_idx(o, i));
	} else if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, v) {
			check_written(k);
			check_strings(v);
		}
	}
}

/* The texts a token holds after a validator ran on it. */
static void
check_token_texts(void)
{
	check_written(t.name);
	check_written(t.description);
	check_written(t.icon);
}

/* One token dialect's parser, then the core, on create then on update. */
static void
token_dialect(struct json_object *doc, int which)
{
	struct td_core_error err;
	const char *code;
	int64_t account;
	int creating, rc;

	for (creating = 1; creating >= 0; creating--) {
		memset(&err, 0, sizeof(err));
		switch (which) {
		case 0:
			rc = td_storyblok_parse(doc, creating, &change, &err);
			break;
		case 1:
			rc = td_dato_parse(doc, creating, creating ? 0 : 1, &change, &err, &code);
			break;
		default:
			rc = td_swo_parse(doc, creating, &change, &account, &err);
			break;
		}
		if (rc != 0)
			continue;
		if (creating) {
			td_token_defaults(&t);
			if (change.shape == TD_SHAPE_API_TOKEN) {
				t.access = TD_ACCESS_PUBLIC;	/* as the core makes one */
				t.rights = TD_RIGHT_CMA;
			}
		}
		(void)td_token_apply_change(&t, &change, creating, &err);
		check_token_texts();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct td_space sp;
	static struct td_pat p;
	struct td_space_change sch;
	struct td_pat_change pch;
	struct td_core_error err;
	struct json_object *doc;
	char why[128];
	int which;

	doc = td_json_parse((const char *)data, size, 32, why, sizeof(why));
	if (doc == NULL)
		return 0;
	for (which = 0; which < 3; which++)
		token_dialect(doc, which);
	memset(&sp, 0, sizeof(sp));
	if (td_space_parse(doc, 1, &sch, &err) == 0)
		(void)td_space_apply_change(&sp, &sch, 1, &err);
	if (td_space_parse(doc, 0, &sch, &err) == 0)
		(void)td_space_apply_change(&sp, &sch, 0, &err);
	check_written(sp.name);
	memset(&p, 0, sizeof(p));
	if (td_pat_parse(doc, &pch, &err) == 0)
		(void)td_pat_apply_change(&p, &pch, &err);
	check_written(p.name);
	check_strings(doc);
	json_object_put(doc);
	return 0;
}
