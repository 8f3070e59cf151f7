/* Request target parsing: segments, percent-decoding, query, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tokend/server/target.h"

static struct td_target t;

static void
test_segments_and_trailing_slash(void **state)
{
	(void)state;
	assert_int_equal(td_target_parse(&t, "/v1/spaces/42/api_keys/"), TD_TARGET_OK);
	assert_int_equal(t.nsegments, 4);
	assert_string_equal(t.segments[0], "v1");
	assert_string_equal(t.segments[2], "42");
	assert_string_equal(t.segments[3], "api_keys");
	assert_int_equal(t.nparams, 0);
}

static void
test_root_and_empty_segments(void **state)
{
	(void)state;
	assert_int_equal(td_target_parse(&t, "/"), TD_TARGET_OK);
	assert_int_equal(t.nsegments, 0);
	assert_int_equal(td_target_parse(&t, "//v1///health"), TD_TARGET_OK);
	assert_int_equal(t.nsegments, 2);
	assert_string_equal(t.segments[1], "health");
}

static void
test_percent_decoding_in_segments(void **state)
{
	(void)state;
	assert_int_equal(td_target_parse(&t, "/a%2Fb/c%20d"), TD_TARGET_OK);
	assert_int_equal(t.nsegments, 2);
	assert_string_equal(t.segments[0], "a/b");	/* an encoded slash stays inside */
	assert_string_equal(t.segments[1], "c d");
}

static void
test_malformed_targets(void **state)
{
	(void)state;
	assert_int_equal(td_target_parse(&t, "v1/health"), TD_TARGET_BAD);
	assert_int_equal(td_target_parse(&t, ""), TD_TARGET_BAD);
	assert_int_equal(td_target_parse(&t, "/a%zzb"), TD_TARGET_BAD);
	assert_int_equal(td_target_parse(&t, "/a%4"), TD_TARGET_BAD);
	assert_int_equal(td_target_parse(&t, "/a%"), TD_TARGET_BAD);
	assert_int_equal(td_target_parse(&t, "/a%00b"), TD_TARGET_BAD);
	assert_int_equal(td_target_parse(&t, "/ok?x=%G1"), TD_TARGET_BAD);
	assert_int_equal(td_target_parse(&t, "/ok?x=1%00"), TD_TARGET_BAD);
}

static void
test_query_parsing(void **state)
{
	(void)state;
	assert_int_equal(td_target_parse(&t, "/x?token=abc&version=draft&flag&empty=&a+b=c%2Bd%20e"),
			 TD_TARGET_OK);
	assert_int_equal(t.nparams, 5);
	assert_string_equal(td_target_query(&t, "token"), "abc");
	assert_string_equal(td_target_query(&t, "version"), "draft");
	assert_string_equal(td_target_query(&t, "flag"), "");
	assert_string_equal(td_target_query(&t, "empty"), "");
	/* '+' is not a space: RQL and tokens need it literal */
	assert_string_equal(td_target_query(&t, "a+b"), "c+d e");
	assert_null(td_target_query(&t, "missing"));
}

static void
test_bare_question_mark_and_empty_pairs(void **state)
{
	(void)state;
	assert_int_equal(td_target_parse(&t, "/v1/health?"), TD_TARGET_OK);
	assert_int_equal(t.nsegments, 2);
	assert_int_equal(t.nparams, 0);
	assert_int_equal(td_target_parse(&t, "/v1/health?&&a=1&&"), TD_TARGET_OK);
	assert_int_equal(t.nparams, 1);
	assert_string_equal(td_target_query(&t, "a"), "1");
}

static void
test_first_value_wins(void **state)
{
	(void)state;
	assert_int_equal(td_target_parse(&t, "/x?a=1&a=2"), TD_TARGET_OK);
	assert_string_equal(td_target_query(&t, "a"), "1");
}

static void
test_limits(void **state)
{
	static char uri[TD_PATH_MAX + TD_QUERY_MAX + 64];
	size_t i, n;

	(void)state;
	/* a path of exactly TD_PATH_MAX bytes is fine, one more is 414 */
	uri[0] = '/';
	memset(uri + 1, 'a', TD_PATH_MAX - 1);
	uri[TD_PATH_MAX] = '\0';
	assert_int_equal(td_target_parse(&t, uri), TD_TARGET_OK);
	uri[TD_PATH_MAX] = 'a';
	uri[TD_PATH_MAX + 1] = '\0';
	assert_int_equal(td_target_parse(&t, uri), TD_TARGET_TOO_LONG);

	/* more segments than any route has: parsed, but marked unroutable */
	for (i = 0, n = 0; i < TD_PATH_SEGMENTS_MAX + 1; i++)
		n += (size_t)sprintf(uri + n, "/s");
	assert_int_equal(td_target_parse(&t, uri), TD_TARGET_OK);
	assert_int_equal(t.nsegments, -1);

	/* TD_QUERY_PARAMS_MAX pairs are fine, one more is 414 */
	n = (size_t)sprintf(uri, "/x?");
	for (i = 0; i < TD_QUERY_PARAMS_MAX; i++)
		n += (size_t)sprintf(uri + n, "k%zu=v&", i);
	assert_int_equal(td_target_parse(&t, uri), TD_TARGET_OK);
	assert_int_equal(t.nparams, TD_QUERY_PARAMS_MAX);
	sprintf(uri + n, "one=more");
	assert_int_equal(td_target_parse(&t, uri), TD_TARGET_TOO_LONG);

	/* a query longer than TD_QUERY_MAX is 414 */
	n = (size_t)sprintf(uri, "/x?q=");
	memset(uri + n, 'q', TD_QUERY_MAX);
	uri[n + TD_QUERY_MAX] = '\0';
	assert_int_equal(td_target_parse(&t, uri), TD_TARGET_TOO_LONG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_segments_and_trailing_slash),
		cmocka_unit_test(test_root_and_empty_segments),
		cmocka_unit_test(test_percent_decoding_in_segments),
		cmocka_unit_test(test_malformed_targets),
		cmocka_unit_test(test_query_parsing),
		cmocka_unit_test(test_bare_question_mark_and_empty_pairs),
		cmocka_unit_test(test_first_value_wins),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests_name("target", tests, NULL, NULL);
}
