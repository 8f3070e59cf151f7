/* Routing: literals, typed int64 parameters, string parameters, 405 + Allow,
 * HEAD as GET, dialects by path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tokend/limits.h"
#include "tokend/server/router.h"

static int h(struct td_ctx *c, struct td_request *r) { (void)c; (void)r; return 0; }

static const struct td_route routes[] = {
	{ "health", TD_METHOD_GET, "/v1/health", TD_DIALECT_ADMIN, h },
	{ "keys.list", TD_METHOD_GET | TD_METHOD_POST, "/v1/spaces/{space}/api_keys",
	  TD_DIALECT_STORYBLOK, h },
	{ "keys.one", TD_METHOD_GET | TD_METHOD_PUT | TD_METHOD_DELETE,
	  "/v1/spaces/{space}/api_keys/{id}", TD_DIALECT_STORYBLOK, h },
	{ "so.one", TD_METHOD_GET, "/public/v1/accounts/api-tokens/{*id}", TD_DIALECT_SOFTWAREONE, h },
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static enum td_match_status
match(unsigned method, int n, const char **segs, struct td_route_match *m)
{
	return td_router_match(routes, NROUTES, method, segs, n, m);
}

static void
test_literal_route(void **state)
{
	const char *segs[] = { "v1", "health" };
	struct td_route_match m;

	(void)state;
	assert_int_equal(match(TD_METHOD_GET, 2, segs, &m), TD_MATCH_OK);
	assert_string_equal(m.route->name, "health");
	assert_int_equal(m.nids, 0);
}

static void
test_int_params(void **state)
{
	/* the largest id a JavaScript number holds exactly */
	const char *segs[] = { "v1", "spaces", "9007199254740991", "api_keys", "17" };
	struct td_route_match m;

	(void)state;
	assert_int_equal(match(TD_METHOD_DELETE, 5, segs, &m), TD_MATCH_OK);
	assert_string_equal(m.route->name, "keys.one");
	assert_int_equal(m.nids, 2);
	assert_true(m.ids[0] == TD_ID_MAX);
	assert_int_equal(m.ids[1], 17);
	assert_int_equal(m.route->dialect, TD_DIALECT_STORYBLOK);
}

static void
test_bad_int_params_do_not_match(void **state)
{
	const char *bad[] = { "-1", "9223372036854775808", "9223372036854775807", "9007199254740992",
			      "0", "00", "017", "1e3", "0x10", "+5", " 5", "5 ", "", "abc" };
	const char *segs[] = { "v1", "spaces", NULL, "api_keys" };
	struct td_route_match m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		segs[2] = bad[i];
		assert_int_equal(match(TD_METHOD_GET, 4, segs, &m), TD_MATCH_NOT_FOUND);
	}
}

static void
test_string_params(void **state)
{
	const char *segs[] = { "public", "v1", "accounts", "api-tokens", "TKN-1234-5678" };
	struct td_route_match m;

	(void)state;
	assert_int_equal(match(TD_METHOD_GET, 5, segs, &m), TD_MATCH_OK);
	assert_int_equal(m.nstrs, 1);
	assert_string_equal(m.strs[0], "TKN-1234-5678");
}

static void
test_wrong_method_gives_allow(void **state)
{
	const char *segs[] = { "v1", "spaces", "1", "api_keys", "2" };
	char allow[64];
	struct td_route_match m;

	(void)state;
	assert_int_equal(match(TD_METHOD_POST, 5, segs, &m), TD_MATCH_BAD_METHOD);
	td_methods_format(m.allow, allow, sizeof(allow));
	assert_string_equal(allow, "GET, HEAD, PUT, DELETE");
}

static void
test_head_is_get(void **state)
{
	const char *segs[] = { "v1", "health" };
	struct td_route_match m;

	(void)state;
	assert_int_equal(match(TD_METHOD_HEAD, 2, segs, &m), TD_MATCH_OK);
	assert_string_equal(m.route->name, "health");
}

static void
test_unknown_paths(void **state)
{
	const char *longer[] = { "v1", "health", "x" };
	const char *shorter[] = { "v1" };
	struct td_route_match m;

	(void)state;
	assert_int_equal(match(TD_METHOD_GET, 3, longer, &m), TD_MATCH_NOT_FOUND);
	assert_int_equal(match(TD_METHOD_GET, 1, shorter, &m), TD_MATCH_NOT_FOUND);
	assert_int_equal(match(TD_METHOD_GET, 0, shorter, &m), TD_MATCH_NOT_FOUND);
	assert_int_equal(match(TD_METHOD_GET, -1, shorter, &m), TD_MATCH_NOT_FOUND);
}

static void
test_method_parse(void **state)
{
	(void)state;
	assert_int_equal(td_method_parse("GET"), TD_METHOD_GET);
	assert_int_equal(td_method_parse("DELETE"), TD_METHOD_DELETE);
	assert_int_equal(td_method_parse("get"), TD_METHOD_OTHER);
	assert_int_equal(td_method_parse("BREW"), TD_METHOD_OTHER);
}

static void
test_dialect_for_path(void **state)
{
	const char *dato[] = { "access_tokens", "5" };
	const char *so[] = { "public", "v1", "nothing" };
	const char *sb[] = { "v1", "spaces", "1", "api_keys", "x" };
	const char *admin[] = { "v1", "nothing" };

	(void)state;
	assert_int_equal(td_dialect_for_path(dato, 2), TD_DIALECT_DATOCMS);
	assert_int_equal(td_dialect_for_path(so, 3), TD_DIALECT_SOFTWAREONE);
	assert_int_equal(td_dialect_for_path(sb, 5), TD_DIALECT_STORYBLOK);
	assert_int_equal(td_dialect_for_path(admin, 2), TD_DIALECT_ADMIN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literal_route),
		cmocka_unit_test(test_int_params),
		cmocka_unit_test(test_bad_int_params_do_not_match),
		cmocka_unit_test(test_string_params),
		cmocka_unit_test(test_wrong_method_gives_allow),
		cmocka_unit_test(test_head_is_get),
		cmocka_unit_test(test_unknown_paths),
		cmocka_unit_test(test_method_parse),
		cmocka_unit_test(test_dialect_for_path),
	};

	return cmocka_run_group_tests_name("router", tests, NULL, NULL);
}
