/* The JSON writer's output, read back by json-c: every byte value in a
 * string survives, numbers, nulls, arrays and times are what they say. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "tokend/server/json_write.h"

static struct json_object *
parse(struct printbuf *pb)
{
	struct json_object *o = json_tokener_parse(pb->buf);

	assert_non_null(o);
	return o;
}

static void
test_strings_round_trip_every_byte(void **state)
{
	char s[256];
	struct printbuf *pb = printbuf_new();
	struct json_object *o;
	int i;

	(void)state;
	for (i = 1; i < 128; i++)	/* every ASCII byte, controls, quote and backslash */
		s[i - 1] = (char)i;
	strcpy(s + 127, "caf\xc3\xa9 \xe2\x82\xac </script> \"q\" \\");	/* UTF-8 passes through */
	td_jw_str(pb, s);
	o = parse(pb);
	assert_true(json_object_is_type(o, json_type_string));
	assert_string_equal(json_object_get_string(o), s);
	assert_null(memchr(pb->buf, '\n', (size_t)pb->bpos));	/* controls are escaped */
	json_object_put(o);
	printbuf_free(pb);
}

static void
test_values(void **state)
{
	static const int64_t ids[] = { 1, INT64_MAX, -5 };
	struct printbuf *pb = printbuf_new();
	struct json_object *o, *v;

	(void)state;
	td_jw_raw(pb, "{\"a\":");
	td_jw_int(pb, INT64_MIN);
	td_jw_raw(pb, ",\"b\":");
	td_jw_int_or_null(pb, 0);
	td_jw_raw(pb, ",\"c\":");
	td_jw_int_array(pb, ids, 3);
	td_jw_raw(pb, ",\"d\":");
	td_jw_int_array(pb, ids, 0);
	td_jw_raw(pb, ",\"e\":");
	td_jw_str_or_null(pb, NULL);
	td_jw_raw(pb, ",\"f\":");
	td_jw_time_ms(pb, 1700000000123LL);
	td_jw_raw(pb, ",\"g\":");
	td_jw_time_ms(pb, 0);
	td_jw_raw(pb, "}");
	o = parse(pb);
	assert_true(json_object_object_get_ex(o, "a", &v));
	assert_true(json_object_get_int64(v) == INT64_MIN);
	assert_true(json_object_object_get_ex(o, "b", &v) && v == NULL);
	assert_true(json_object_object_get_ex(o, "c", &v));
	assert_int_equal(json_object_array_length(v), 3);
	assert_true(json_object_get_int64(json_object_array_get_idx(v, 1)) == INT64_MAX);
	assert_true(json_object_object_get_ex(o, "d", &v));
	assert_int_equal(json_object_array_length(v), 0);
	assert_true(json_object_object_get_ex(o, "e", &v) && v == NULL);
	assert_true(json_object_object_get_ex(o, "f", &v));
	assert_string_equal(json_object_get_string(v), "2023-11-14T22:13:20.123Z");
	assert_true(json_object_object_get_ex(o, "g", &v) && v == NULL);
	json_object_put(o);
	printbuf_free(pb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings_round_trip_every_byte),
		cmocka_unit_test(test_values),
	};

	return cmocka_run_group_tests_name("json_write", tests, NULL, NULL);
}
