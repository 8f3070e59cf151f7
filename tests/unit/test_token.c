/* The token, space and PAT models: defaults, validation, scopes, and the
 * Authorization header forms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tokend/core/auth.h"
#include "tokend/core/pat.h"
#include "tokend/core/space.h"
#include "tokend/core/token.h"

static struct td_token t;
static struct td_pat p;

static int
apply(const char *json, int creating, struct td_field_error *err)
{
	struct json_object *o = json_tokener_parse(json);
	int rc = td_token_apply_json(&t, o, creating, err);

	json_object_put(o);
	return rc;
}

static void
test_create_defaults(void **state)
{
	struct td_field_error err;

	(void)state;
	td_token_defaults(&t);
	assert_int_equal(apply("{\"access\":\"private\"}", 1, &err), 0);
	assert_int_equal(t.access, TD_ACCESS_PRIVATE);
	assert_false(t.has_name);
	assert_int_equal(t.branch_id, 0);
	assert_int_equal(t.story_ids.n, 0);
	assert_int_equal(t.release_ids.n, 0);
	assert_false(t.has_min_cache);
	assert_int_equal(t.status, TD_STATUS_ACTIVE);
	assert_int_equal(t.expires_at, 0);
	/* min_cache: the token's own, else the space's */
	assert_int_equal(td_token_effective_min_cache(&t, 60), 60);
	assert_int_equal(apply("{\"min_cache\":0}", 0, &err), 0);
	assert_int_equal(td_token_effective_min_cache(&t, 60), 0);
	assert_int_equal(apply("{\"min_cache\":null}", 0, &err), 0);
	assert_int_equal(td_token_effective_min_cache(&t, 60), 60);
}

static void
test_access_required_on_create_only(void **state)
{
	struct td_field_error err;

	(void)state;
	td_token_defaults(&t);
	assert_int_equal(apply("{\"name\":\"x\"}", 1, &err), -1);
	assert_string_equal(err.field, "access");
	assert_string_equal(err.message, "can't be blank");
	td_token_defaults(&t);
	t.access = TD_ACCESS_PUBLIC;
	assert_int_equal(apply("{\"name\":\"x\"}", 0, &err), 0);
	assert_int_equal(t.access, TD_ACCESS_PUBLIC);
	assert_string_equal(t.name, "x");
}

static void
test_field_errors(void **state)
{
	static const struct {
		const char *json, *field, *message;
	} cases[] = {
		{ "{\"access\":\"root\"}", "access", "is not included in the list" },
		{ "{\"access\":\"public\",\"name\":7}", "name", "must be a string" },
		{ "{\"access\":\"public\",\"branch_id\":\"1\"}", "branch_id", "is not a number" },
		{ "{\"access\":\"public\",\"branch_id\":-1}", "branch_id", "is out of range" },
		{ "{\"access\":\"public\",\"min_cache\":1.5}", "min_cache", "is not a number" },
		{ "{\"access\":\"public\",\"min_cache\":-1}", "min_cache", "must be between 0 and 31536000" },
		{ "{\"access\":\"public\",\"release_ids\":{}}", "release_ids", "must be an array of ids" },
		{ "{\"access\":\"public\",\"story_ids\":[1,\"2\"]}", "story_ids", "must be an array of ids" },
		{ "{\"access\":\"public\",\"story_ids\":[9223372036854775807]}", "story_ids",
		  "must be an array of ids" },
		{ "{\"access\":\"public\",\"expires_at\":\"2030-01-01\"}", "expires_at",
		  "must be a time like 2030-01-31T12:00:00Z" },
		{ "{\"access\":\"public\",\"expires_at\":\"2030-13-01T00:00:00Z\"}", "expires_at",
		  "must be a time like 2030-01-31T12:00:00Z" },
		{ "[]", "api_key", "can't be blank" },
	};
	struct td_field_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		td_token_defaults(&t);
		if (apply(cases[i].json, 1, &err) == 0)
			fail_msg("accepted %s", cases[i].json);
		assert_string_equal(err.field, cases[i].field);
		assert_string_equal(err.message, cases[i].message);
	}
}

static void
test_name_limit_counts_characters(void **state)
{
	char json[2048], name[1100];
	struct td_field_error err;
	int i;

	(void)state;
	/* 255 three-byte characters: fine; 256: too long */
	for (i = 0; i < 255; i++)
		memcpy(name + 3 * i, "\xe2\x82\xac", 3);
	name[3 * 255] = '\0';
	snprintf(json, sizeof(json), "{\"access\":\"public\",\"name\":\"%s\"}", name);
	td_token_defaults(&t);
	assert_int_equal(apply(json, 1, &err), 0);
	snprintf(json, sizeof(json), "{\"access\":\"public\",\"name\":\"%s\xe2\x82\xac\"}", name);
	assert_int_equal(apply(json, 1, &err), -1);
	assert_string_equal(err.message, "is too long");
}

static void
test_expires_at_parses_utc(void **state)
{
	struct td_field_error err;

	(void)state;
	td_token_defaults(&t);
	assert_int_equal(apply("{\"access\":\"public\",\"expires_at\":\"2030-01-31T12:00:00.250Z\"}", 1,
			       &err), 0);
	assert_int_equal(t.expires_at, 1896091200);	/* date -d 2030-01-31T12:00:00Z +%s */
	assert_int_equal(apply("{\"expires_at\":null}", 0, &err), 0);
	assert_int_equal(t.expires_at, 0);
}

static int
pat_apply(const char *json, struct td_field_error *err)
{
	struct json_object *o = json_tokener_parse(json);
	int rc;

	memset(&p, 0, sizeof(p));
	rc = td_pat_apply_json(&p, o, err);
	json_object_put(o);
	return rc;
}

static void
test_pat_scopes(void **state)
{
	struct td_field_error err;
	struct json_object *o;

	(void)state;
	assert_int_equal(pat_apply("{\"name\":\"a\",\"spaces\":[1,2],\"scopes\":{\"access_tokens\":\"write\","
				   "\"spaces\":\"read\"}}", &err), 0);
	assert_int_equal(p.scopes, TD_SCOPE_TOKENS_READ | TD_SCOPE_TOKENS_WRITE | TD_SCOPE_SPACES_READ);
	assert_false(p.all_spaces);
	assert_int_equal(p.nspaces, 2);
	o = td_pat_scopes_json(p.scopes);
	assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
			    "{\"spaces\":\"read\",\"access_tokens\":\"write\"}");
	json_object_put(o);
	assert_int_equal(pat_apply("{\"name\":\"a\",\"full_permission\":true}", &err), 0);
	assert_true(p.full && p.all_spaces);
	assert_int_equal(p.scopes, TD_SCOPE_ALL);
	assert_int_equal(pat_apply("{\"name\":\"a\",\"spaces\":\"all\",\"scopes\":{}}", &err), -1);
	assert_string_equal(err.field, "scopes");
	assert_int_equal(pat_apply("{\"name\":\"a\",\"spaces\":\"all\",\"scopes\":{\"x\":\"read\"}}", &err), -1);
	assert_int_equal(pat_apply("{\"spaces\":\"all\",\"scopes\":{\"spaces\":\"read\"}}", &err), -1);
	assert_string_equal(err.field, "name");
}

static void
test_principal_spaces(void **state)
{
	struct td_principal who;

	(void)state;
	memset(&who, 0, sizeof(who));
	who.spaces[0] = 5;
	who.spaces[1] = 9;
	who.nspaces = 2;
	assert_true(td_principal_has_space(&who, 9));
	assert_false(td_principal_has_space(&who, 6));
	who.all_spaces = 1;
	assert_true(td_principal_has_space(&who, 6));
}

static void
test_authorization_forms(void **state)
{
	char long_value[TD_AUTHORIZATION_MAX + 2];
	size_t len;
	const char *tok;

	(void)state;
	tok = td_auth_bearer("td_pat_abc", &len);
	assert_int_equal(len, 10);
	assert_memory_equal(tok, "td_pat_abc", 10);
	tok = td_auth_bearer("Bearer td_pat_abc", &len);
	assert_memory_equal(tok, "td_pat_abc", len);
	tok = td_auth_bearer("  bearer \t td_pat_abc  ", &len);
	assert_int_equal(len, 10);
	assert_memory_equal(tok, "td_pat_abc", len);
	assert_null(td_auth_bearer(NULL, &len));
	assert_null(td_auth_bearer("", &len));
	assert_null(td_auth_bearer("Bearer ", &len));
	memset(long_value, 'a', sizeof(long_value) - 1);
	long_value[sizeof(long_value) - 1] = '\0';
	assert_null(td_auth_bearer(long_value, &len));
}

static void
test_space_validation(void **state)
{
	struct json_object *o = json_tokener_parse("{\"id\":606,\"name\":\"Demo\",\"min_cache\":60}");
	struct td_field_error err;
	struct td_space sp;
	int explicit_id = 0;

	(void)state;
	memset(&sp, 0, sizeof(sp));
	assert_int_equal(td_space_apply_json(&sp, o, 1, &explicit_id, &err), 0);
	assert_true(explicit_id);
	assert_int_equal(sp.id, 606);
	assert_int_equal(sp.min_cache, 60);
	json_object_put(o);
	o = json_tokener_parse("{\"min_cache\":5}");
	explicit_id = 0;
	memset(&sp, 0, sizeof(sp));
	assert_int_equal(td_space_apply_json(&sp, o, 1, &explicit_id, &err), -1);
	assert_string_equal(err.field, "name");
	/* on update the name may be left out, and the id is not changeable */
	assert_int_equal(td_space_apply_json(&sp, o, 0, &explicit_id, &err), 0);
	assert_false(explicit_id);
	json_object_put(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_defaults),
		cmocka_unit_test(test_access_required_on_create_only),
		cmocka_unit_test(test_field_errors),
		cmocka_unit_test(test_name_limit_counts_characters),
		cmocka_unit_test(test_expires_at_parses_utc),
		cmocka_unit_test(test_pat_scopes),
		cmocka_unit_test(test_principal_spaces),
		cmocka_unit_test(test_authorization_forms),
		cmocka_unit_test(test_space_validation),
	};

	return cmocka_run_group_tests_name("token", tests, NULL, NULL);
}
