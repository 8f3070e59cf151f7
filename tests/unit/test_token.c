/* The token, space and PAT models: defaults, validation, scopes, and the
 * Authorization header forms. Every body goes the way a request's does:
 * the dialect's parser (types only) turns the JSON into a typed change,
 * then the core's apply function judges the values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tokend/api/fields.h"
#include "tokend/core/auth.h"
#include "tokend/core/core.h"
#include "tokend/core/pat.h"
#include "tokend/core/rules.h"
#include "tokend/core/space.h"
#include "tokend/core/token.h"

static struct td_token t;
static struct td_pat p;
static struct td_token_change change;	/* 16 KB of ids: not on the stack */

/* A Storyblok body through td_storyblok_parse, then td_token_apply_change. */
static int
apply_body(const char *body, int creating, struct td_core_error *err)
{
	struct json_object *o = json_tokener_parse(body);
	int rc;

	if (o == NULL)
		fail_msg("test JSON does not parse: %s", body);
	memset(err, 0, sizeof(*err));
	rc = td_storyblok_parse(o, creating, &change, err);
	if (rc == 0)
		rc = td_token_apply_change(&t, &change, creating, err);
	json_object_put(o);
	return rc;
}

/* The api_key object alone: wrapped in {"api_key": ...}. */
static int
apply(const char *api_key, int creating, struct td_core_error *err)
{
	static char body[16384];
	int n = snprintf(body, sizeof(body), "{\"api_key\":%s}", api_key);

	if (n < 0 || (size_t)n >= sizeof(body))
		fail_msg("test body too long");
	return apply_body(body, creating, err);
}

static void
test_create_defaults(void **state)
{
	struct td_core_error err;

	(void)state;
	td_token_defaults(&t);
	assert_int_equal(apply("{\"access\":\"private\"}", 1, &err), 0);
	assert_int_equal(t.access, TD_ACCESS_PRIVATE);
	assert_int_equal(t.rights, TD_RIGHT_CDA | TD_RIGHT_CDA_PREVIEW);
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
	struct td_core_error err;

	(void)state;
	td_token_defaults(&t);
	assert_int_equal(apply("{\"name\":\"x\"}", 1, &err), -1);
	assert_int_equal(err.code, TD_ERR_MISSING);
	assert_string_equal(err.field, "access");
	assert_string_equal(err.message, "can't be blank");
	td_token_defaults(&t);
	t.access = TD_ACCESS_PUBLIC;
	assert_int_equal(apply("{\"name\":\"x\"}", 0, &err), 0);
	assert_int_equal(t.access, TD_ACCESS_PUBLIC);
	assert_true(t.has_name);
	assert_string_equal(t.name, "x");
	/* access present but null: refused on update too */
	assert_int_equal(apply("{\"access\":null}", 0, &err), -1);
	assert_int_equal(err.code, TD_ERR_INVALID);
	assert_string_equal(err.field, "access");
	assert_string_equal(err.message, "can't be blank");
}

static void
test_field_errors(void **state)
{
	static const struct {
		const char *body, *field, *message;
	} cases[] = {
		{ "{\"api_key\":{\"access\":\"root\"}}", "access", "is not included in the list" },
		{ "{\"api_key\":{\"access\":\"public\",\"name\":7}}", "name", "must be a string" },
		{ "{\"api_key\":{\"access\":\"public\",\"branch_id\":\"1\"}}", "branch_id",
		  "is not a number" },
		{ "{\"api_key\":{\"access\":\"public\",\"branch_id\":-1}}", "branch_id",
		  "is out of range" },
		{ "{\"api_key\":{\"access\":\"public\",\"min_cache\":1.5}}", "min_cache",
		  "is not a number" },
		{ "{\"api_key\":{\"access\":\"public\",\"min_cache\":-1}}", "min_cache",
		  "must be between 0 and 31536000" },
		{ "{\"api_key\":{\"access\":\"public\",\"release_ids\":{}}}", "release_ids",
		  "must be an array of ids" },
		{ "{\"api_key\":{\"access\":\"public\",\"story_ids\":[1,\"2\"]}}", "story_ids",
		  "must be an array of ids" },
		{ "{\"api_key\":{\"access\":\"public\",\"story_ids\":[9223372036854775807]}}",
		  "story_ids", "must be an array of ids" },
		{ "{\"api_key\":{\"access\":\"public\",\"story_ids\":[0]}}", "story_ids",
		  "must be an array of ids" },
		{ "{\"api_key\":{\"access\":\"public\",\"expires_at\":\"2030-01-01\"}}", "expires_at",
		  "must be a time like 2030-01-31T12:00:00Z" },
		{ "{\"api_key\":{\"access\":\"public\",\"expires_at\":\"2030-13-01T00:00:00Z\"}}",
		  "expires_at", "must be a time like 2030-01-31T12:00:00Z" },
		{ "{\"api_key\":{\"access\":\"public\",\"status\":\"deleted\"}}", "status",
		  "is not included in the list" },
		{ "{\"api_key\":{\"access\":\"public\",\"name\":\"a\\tb\"}}", "name",
		  "must not contain control characters" },
		/* C1: U+0085 (NEL) raw, and U+009F as a JSON escape */
		{ "{\"api_key\":{\"access\":\"public\",\"name\":\"a\xc2\x85" "b\"}}", "name",
		  "must not contain control characters" },
		{ "{\"api_key\":{\"access\":\"public\",\"description\":\"\\u009f\"}}",
		  "description", "must not contain control characters" },
		{ "{\"api_key\":[]}", "api_key", "can't be blank" },
		{ "[]", "api_key", "can't be blank" },
	};
	struct td_core_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		td_token_defaults(&t);
		if (apply_body(cases[i].body, 1, &err) == 0)
			fail_msg("accepted %s", cases[i].body);
		assert_int_equal(err.code, TD_ERR_INVALID);
		assert_non_null(err.field);
		assert_string_equal(err.field, cases[i].field);
		assert_string_equal(err.message, cases[i].message);
	}
}

static void
test_name_limit_counts_characters(void **state)
{
	char json[4096], name[1024];
	struct td_core_error err;
	int i;

	(void)state;
	/* TD_NAME_MAX three-byte characters: fine; one more: too long */
	assert_int_equal(TD_NAME_MAX, 200);
	for (i = 0; i < TD_NAME_MAX; i++)
		memcpy(name + 3 * i, "\xe2\x82\xac", 3);
	name[3 * TD_NAME_MAX] = '\0';
	snprintf(json, sizeof(json), "{\"access\":\"public\",\"name\":\"%s\"}", name);
	td_token_defaults(&t);
	assert_int_equal(apply(json, 1, &err), 0);
	assert_int_equal(strlen(t.name), 3 * TD_NAME_MAX);
	snprintf(json, sizeof(json), "{\"access\":\"public\",\"name\":\"%s\xe2\x82\xac\"}", name);
	assert_int_equal(apply(json, 1, &err), -1);
	assert_string_equal(err.field, "name");
	assert_string_equal(err.message, "is too long");
	/* four-byte characters fill the buffer exactly */
	for (i = 0; i < TD_NAME_MAX; i++)
		memcpy(name + 4 * i, "\xf0\x9f\x98\x80", 4);
	name[4 * TD_NAME_MAX] = '\0';
	snprintf(json, sizeof(json), "{\"access\":\"public\",\"name\":\"%s\"}", name);
	td_token_defaults(&t);
	assert_int_equal(apply(json, 1, &err), 0);
	assert_int_equal(strlen(t.name), 4 * TD_NAME_MAX);
	assert_memory_equal(t.name, name, 4 * TD_NAME_MAX);
}

static void
test_description_limit(void **state)
{
	static char json[8192], desc[TD_DESCRIPTION_MAX + 2];
	struct td_core_error err;

	(void)state;
	assert_int_equal(TD_DESCRIPTION_MAX, 2000);
	memset(desc, 'd', TD_DESCRIPTION_MAX);
	desc[TD_DESCRIPTION_MAX] = '\0';
	snprintf(json, sizeof(json), "{\"access\":\"public\",\"description\":\"%s\"}", desc);
	td_token_defaults(&t);
	assert_int_equal(apply(json, 1, &err), 0);
	assert_int_equal(strlen(t.description), TD_DESCRIPTION_MAX);
	desc[TD_DESCRIPTION_MAX] = 'd';
	desc[TD_DESCRIPTION_MAX + 1] = '\0';
	snprintf(json, sizeof(json), "{\"access\":\"public\",\"description\":\"%s\"}", desc);
	assert_int_equal(apply(json, 1, &err), -1);
	assert_string_equal(err.field, "description");
	assert_string_equal(err.message, "is too long");
}

static void
test_name_strict_utf8(void **state)
{
	static const char *const bad[] = {
		"a\xc0\xaf" "b",		/* overlong '/' */
		"\xe0\x80\xaf",			/* overlong, three bytes */
		"a\xed\xa0\x80" "b",		/* U+D800, a surrogate */
		"\xed\xbf\xbf",			/* U+DFFF */
		"\xf4\x90\x80\x80",		/* U+110000, past the last code point */
		"\xf5\x80\x80\x80",		/* no such lead byte */
		"\xe2\x82",			/* truncated */
		"\x80",				/* a lone continuation byte */
	};
	char json[256];
	struct td_core_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(json, sizeof(json), "{\"access\":\"public\",\"name\":\"%s\"}", bad[i]);
		td_token_defaults(&t);
		if (apply(json, 1, &err) == 0)
			fail_msg("accepted name #%zu", i);
		assert_int_equal(err.code, TD_ERR_INVALID);
		assert_string_equal(err.field, "name");
		assert_string_equal(err.message, "is not valid UTF-8");
	}
	/* the largest code point, and the ones either side of the surrogates */
	td_token_defaults(&t);
	assert_int_equal(apply("{\"access\":\"public\",\"name\":\"\xf4\x8f\xbf\xbf\xed\x9f\xbf"
			       "\xee\x80\x80\"}", 1, &err), 0);
	/* the same rule for every text the token holds */
	td_token_defaults(&t);
	assert_int_equal(apply("{\"access\":\"public\",\"description\":\"\xed\xa0\x80\"}", 1, &err),
			 -1);
	assert_string_equal(err.field, "description");
	assert_string_equal(err.message, "is not valid UTF-8");
	assert_int_equal(apply("{\"access\":\"public\",\"icon\":\"\xc0\xaf\"}", 1, &err), -1);
	assert_string_equal(err.field, "icon");
	assert_string_equal(err.message, "is not valid UTF-8");
}

static void
test_expires_at_parses_utc(void **state)
{
	struct td_core_error err;

	(void)state;
	td_token_defaults(&t);
	assert_int_equal(apply("{\"access\":\"public\",\"expires_at\":\"2030-01-31T12:00:00.250Z\"}", 1,
			       &err), 0);
	assert_int_equal(t.expires_at, 1896091200);	/* date -d 2030-01-31T12:00:00Z +%s */
	assert_int_equal(apply("{\"expires_at\":null}", 0, &err), 0);
	assert_int_equal(t.expires_at, 0);
}

static void
test_expires_at_strict(void **state)
{
	static const char *const bad[] = {
		"2030-02-30T00:00:00Z",		/* no such day: not 2 March */
		"2030-1-01T00:00:00Z",		/* unpadded month */
		" 2030-01-01T00:00:00Z",	/* leading space */
		"2030-01-01T00:00:00Z ",	/* trailing space */
		"2030-01-01T00:00:00.Z",	/* a point with no digits */
		"2030-02-29T00:00:00Z",		/* 2030 is no leap year */
		"2100-02-29T00:00:00Z",		/* nor is 2100 */
		"2030-04-31T00:00:00Z",
		"2030-01-01T24:00:00Z",
		"2030-01-01T00:00:00",		/* no zone */
		"2030-01-01T00:00:00+01:00",
	};
	char json[256];
	struct td_core_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(json, sizeof(json), "{\"access\":\"public\",\"expires_at\":\"%s\"}", bad[i]);
		td_token_defaults(&t);
		if (apply(json, 1, &err) == 0)
			fail_msg("accepted expires_at \"%s\"", bad[i]);
		assert_int_equal(err.code, TD_ERR_INVALID);
		assert_string_equal(err.field, "expires_at");
		assert_string_equal(err.message, "must be a time like 2030-01-31T12:00:00Z");
	}
	td_token_defaults(&t);
	assert_int_equal(apply("{\"access\":\"public\",\"expires_at\":\"2028-02-29T00:00:00Z\"}", 1,
			       &err), 0);
	assert_int_equal(t.expires_at, 1835395200);	/* date -d 2028-02-29T00:00:00Z +%s */
	assert_int_equal(apply("{\"expires_at\":\"2000-02-29T00:00:00Z\"}", 0, &err), 0);
	assert_int_equal(t.expires_at, 951782400);
	assert_int_equal(apply("{\"expires_at\":\"2030-01-31T12:00:00.123456789Z\"}", 0, &err), 0);
	assert_int_equal(t.expires_at, 1896091200);
}

/* A PAT body through td_pat_parse, then td_pat_apply_change. */
static int
pat_apply(const char *inner, struct td_core_error *err)
{
	char body[1024];
	struct td_pat_change ch;
	struct json_object *o;
	int rc;

	snprintf(body, sizeof(body), "{\"personal_access_token\":%s}", inner);
	o = json_tokener_parse(body);
	if (o == NULL)
		fail_msg("test JSON does not parse: %s", body);
	memset(&p, 0, sizeof(p));
	memset(err, 0, sizeof(*err));
	rc = td_pat_parse(o, &ch, err);
	if (rc == 0)
		rc = td_pat_apply_change(&p, &ch, err);
	json_object_put(o);
	return rc;
}

static void
test_pat_scopes(void **state)
{
	struct td_core_error err;

	(void)state;
	assert_int_equal(pat_apply("{\"name\":\"a\",\"spaces\":[1,2],\"scopes\":{\"access_tokens\":\"write\","
				   "\"spaces\":\"read\"}}", &err), 0);
	assert_int_equal(p.scopes, TD_SCOPE_TOKENS_READ | TD_SCOPE_TOKENS_WRITE | TD_SCOPE_SPACES_READ);
	assert_false(p.all_spaces);
	assert_false(p.full);
	assert_int_equal(p.nspaces, 2);
	assert_int_equal(p.spaces[0], 1);
	assert_int_equal(p.spaces[1], 2);
	assert_string_equal(p.name, "a");
	assert_int_equal(pat_apply("{\"name\":\"a\",\"full_permission\":true}", &err), 0);
	assert_true(p.full && p.all_spaces);
	assert_int_equal(p.scopes, TD_SCOPE_ALL);
	assert_int_equal(pat_apply("{\"name\":\"a\",\"spaces\":\"all\",\"scopes\":{}}", &err), -1);
	assert_int_equal(err.code, TD_ERR_INVALID);
	assert_string_equal(err.field, "scopes");
	assert_int_equal(pat_apply("{\"name\":\"a\",\"spaces\":\"all\",\"scopes\":{\"x\":\"read\"}}", &err), -1);
	assert_string_equal(err.field, "scopes");
	assert_int_equal(pat_apply("{\"name\":\"a\",\"spaces\":\"all\",\"scopes\":{\"spaces\":\"admin\"}}",
				   &err), -1);
	assert_string_equal(err.field, "scopes");
	assert_int_equal(pat_apply("{\"spaces\":\"all\",\"scopes\":{\"spaces\":\"read\"}}", &err), -1);
	assert_int_equal(err.code, TD_ERR_MISSING);
	assert_string_equal(err.field, "name");
	assert_int_equal(pat_apply("{\"name\":\"a\",\"scopes\":{\"spaces\":\"read\"}}", &err), -1);
	assert_int_equal(err.code, TD_ERR_MISSING);
	assert_string_equal(err.field, "spaces");
	assert_int_equal(pat_apply("{\"name\":\"a\",\"spaces\":[]}", &err), -1);
	assert_string_equal(err.field, "spaces");
	assert_int_equal(pat_apply("{\"name\":\"a\",\"spaces\":[0],\"scopes\":{\"spaces\":\"read\"}}",
				   &err), -1);
	assert_string_equal(err.field, "spaces");
	assert_int_equal(pat_apply("{\"name\":\"a\",\"spaces\":\"all\"}", &err), -1);
	assert_int_equal(err.code, TD_ERR_MISSING);
	assert_string_equal(err.field, "scopes");
	assert_int_equal(pat_apply("{\"name\":\"a\",\"full_permission\":true,"
				   "\"expires_at\":\"2030-02-30T00:00:00Z\"}", &err), -1);
	assert_string_equal(err.field, "expires_at");
	assert_int_equal(pat_apply("{\"name\":\"a\xed\xa0\x80\",\"full_permission\":true}", &err), -1);
	assert_string_equal(err.field, "name");
	assert_string_equal(err.message, "is not valid UTF-8");
}

static void
test_pat_scope_bits(void **state)
{
	unsigned bits;
	int i;

	(void)state;
	assert_int_equal(td_pat_scope_bits("access_tokens", "write", &bits), 0);
	assert_int_equal(bits, TD_SCOPE_TOKENS_READ | TD_SCOPE_TOKENS_WRITE);	/* write implies read */
	assert_int_equal(td_pat_scope_bits("access_tokens", "read", &bits), 0);
	assert_int_equal(bits, TD_SCOPE_TOKENS_READ);
	assert_int_equal(td_pat_scope_bits("spaces", "read", &bits), 0);
	assert_int_equal(bits, TD_SCOPE_SPACES_READ);
	assert_int_equal(td_pat_scope_bits("spaces", "write", &bits), 0);
	assert_int_equal(bits, TD_SCOPE_SPACES_READ | TD_SCOPE_SPACES_WRITE);
	assert_int_equal(td_pat_scope_bits("personal_access_tokens", "write", &bits), 0);
	assert_int_equal(bits, TD_SCOPE_PATS_READ | TD_SCOPE_PATS_WRITE);
	assert_int_equal(td_pat_scope_bits("personal_access_tokens", "read", &bits), 0);
	assert_int_equal(bits, TD_SCOPE_PATS_READ);
	assert_int_equal(td_pat_scope_bits("tokens", "read", &bits), -1);
	assert_int_equal(td_pat_scope_bits("spaces", "admin", &bits), -1);
	assert_int_equal(td_pat_scope_bits("spaces", "", &bits), -1);
	/* the catalogue covers every scope, each bit once */
	bits = 0;
	for (i = 0; i < td_pat_resources_count; i++) {
		assert_int_equal(bits & (td_pat_resources[i].read | td_pat_resources[i].write), 0);
		bits |= td_pat_resources[i].read | td_pat_resources[i].write;
	}
	assert_int_equal(bits, TD_SCOPE_ALL);
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
	assert_true(td_rule_reaches(&who, 9));
	assert_true(td_rule_reaches(&who, 5));
	assert_false(td_rule_reaches(&who, 6));
	who.all_spaces = 1;
	assert_true(td_rule_reaches(&who, 6));
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

/* A space body through td_space_parse, then td_space_apply_change. */
static int
space_apply(struct td_space *sp, const char *body, int creating, struct td_space_change *ch,
	    struct td_core_error *err)
{
	struct json_object *o = json_tokener_parse(body);
	int rc;

	if (o == NULL)
		fail_msg("test JSON does not parse: %s", body);
	memset(err, 0, sizeof(*err));
	rc = td_space_parse(o, creating, ch, err);
	if (rc == 0)
		rc = td_space_apply_change(sp, ch, creating, err);
	json_object_put(o);
	return rc;
}

static void
test_space_validation(void **state)
{
	struct td_core_error err;
	struct td_space_change ch;
	struct td_space sp;

	(void)state;
	memset(&sp, 0, sizeof(sp));
	assert_int_equal(space_apply(&sp, "{\"space\":{\"id\":606,\"name\":\"Demo\",\"min_cache\":60}}",
				     1, &ch, &err), 0);
	assert_true(ch.has_id);
	assert_int_equal(sp.id, 606);
	assert_string_equal(sp.name, "Demo");
	assert_int_equal(sp.min_cache, 60);
	memset(&sp, 0, sizeof(sp));
	assert_int_equal(space_apply(&sp, "{\"space\":{\"min_cache\":5}}", 1, &ch, &err), -1);
	assert_int_equal(err.code, TD_ERR_MISSING);
	assert_string_equal(err.field, "name");
	/* on update the name may be left out, and the id is not changeable */
	sp.id = 606;
	assert_int_equal(space_apply(&sp, "{\"space\":{\"id\":7,\"min_cache\":5}}", 0, &ch, &err), 0);
	assert_false(ch.has_id);
	assert_int_equal(sp.id, 606);
	assert_int_equal(sp.min_cache, 5);
	/* the same rules as a token's name */
	assert_int_equal(space_apply(&sp, "{\"space\":{\"name\":\"\"}}", 0, &ch, &err), -1);
	assert_int_equal(err.code, TD_ERR_INVALID);
	assert_string_equal(err.field, "name");
	assert_int_equal(space_apply(&sp, "{\"space\":{\"name\":\"\xf4\x90\x80\x80\"}}", 0, &ch, &err),
			 -1);
	assert_string_equal(err.field, "name");
	assert_string_equal(err.message, "is not valid UTF-8");
	assert_int_equal(space_apply(&sp, "{\"space\":{\"min_cache\":31536001}}", 0, &ch, &err), -1);
	assert_string_equal(err.field, "min_cache");
	assert_int_equal(space_apply(&sp, "{\"space\":{\"rate_limit\":1000001}}", 0, &ch, &err), -1);
	assert_string_equal(err.field, "rate_limit");
	assert_int_equal(space_apply(&sp, "{\"space\":{\"id\":0,\"name\":\"x\"}}", 1, &ch, &err), -1);
	assert_string_equal(err.field, "id");
	assert_int_equal(space_apply(&sp, "{\"name\":\"x\"}", 1, &ch, &err), -1);
	assert_string_equal(err.field, "space");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_defaults),
		cmocka_unit_test(test_access_required_on_create_only),
		cmocka_unit_test(test_field_errors),
		cmocka_unit_test(test_name_limit_counts_characters),
		cmocka_unit_test(test_description_limit),
		cmocka_unit_test(test_name_strict_utf8),
		cmocka_unit_test(test_expires_at_parses_utc),
		cmocka_unit_test(test_expires_at_strict),
		cmocka_unit_test(test_pat_scopes),
		cmocka_unit_test(test_pat_scope_bits),
		cmocka_unit_test(test_principal_spaces),
		cmocka_unit_test(test_authorization_forms),
		cmocka_unit_test(test_space_validation),
	};

	return cmocka_run_group_tests_name("token", tests, NULL, NULL);
}
