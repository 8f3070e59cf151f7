/* The verify rules on their own: no I/O, one token, one URI. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tokend/core/verify.h"
#include "tokend/core/verify_cache.h"

static struct td_token t;
static struct td_target uri;

static enum td_verify_reason
rule(const char *u, int *draft)
{
	struct td_token_facts f;
	enum td_verify_reason r;
	int d = 0;

	assert_int_equal(td_target_parse(&uri, u), TD_TARGET_OK);
	td_token_facts_of(&t, 0, &f);
	r = td_verify_rules(&f, &uri, 1800000000, &d);
	if (draft)
		*draft = d;
	return r;
}

static void
fresh(enum td_access a)
{
	td_token_defaults(&t);
	td_token_set_access(&t, a);
}

static void
test_versions(void **state)
{
	int draft;

	(void)state;
	fresh(TD_ACCESS_PUBLIC);
	assert_int_equal(rule("/v2/cdn/stories?version=published", &draft), TD_VERIFY_OK);
	assert_false(draft);
	assert_int_equal(rule("/v2/cdn/stories", &draft), TD_VERIFY_OK);
	assert_int_equal(rule("/v2/cdn/stories?version=draft", &draft), TD_VERIFY_DRAFT_NOT_ALLOWED);
	assert_true(draft);
	fresh(TD_ACCESS_PRIVATE);
	assert_int_equal(rule("/v2/cdn/stories?version=draft", &draft), TD_VERIFY_OK);
	assert_true(draft);
	fresh(TD_ACCESS_THEME);
	assert_int_equal(rule("/v2/cdn/stories?version=draft", NULL), TD_VERIFY_DRAFT_NOT_ALLOWED);
	/* DatoCMS-style rights: preview only, management only */
	td_token_set_delivery(&t, 0, 1);
	assert_int_equal(t.access, TD_ACCESS_PRIVATE);
	assert_int_equal(rule("/v2/cdn/stories?version=draft", NULL), TD_VERIFY_OK);
	assert_int_equal(rule("/v2/cdn/stories", NULL), TD_VERIFY_NO_DELIVERY);
	td_token_set_delivery(&t, 0, 0);
	assert_int_equal(t.access, TD_ACCESS_PUBLIC);
	assert_int_equal(rule("/v2/cdn/stories", NULL), TD_VERIFY_NO_DELIVERY);
}

static void
test_status_and_expiry(void **state)
{
	(void)state;
	fresh(TD_ACCESS_PRIVATE);
	t.status = TD_STATUS_DISABLED;
	assert_int_equal(rule("/v2/cdn/stories", NULL), TD_VERIFY_DISABLED);
	fresh(TD_ACCESS_PRIVATE);
	t.expires_at = 1800000000;	/* "now" in rule(): expired at that second */
	assert_int_equal(rule("/v2/cdn/stories", NULL), TD_VERIFY_EXPIRED);
	t.expires_at = 1800000001;
	assert_int_equal(rule("/v2/cdn/stories", NULL), TD_VERIFY_OK);
}

static void
test_stories(void **state)
{
	(void)state;
	fresh(TD_ACCESS_PUBLIC);
	t.story_ids.ids[0] = 42;
	t.story_ids.ids[1] = 7;
	t.story_ids.n = 2;
	assert_int_equal(rule("/v2/cdn/stories/42", NULL), TD_VERIFY_OK);
	assert_int_equal(rule("/v2/cdn/stories/42/", NULL), TD_VERIFY_OK);
	assert_int_equal(rule("/v2/cdn/stories/43", NULL), TD_VERIFY_STORY_NOT_ALLOWED);
	assert_int_equal(rule("/v2/cdn/stories/folder/slug", NULL), TD_VERIFY_STORY_NOT_ALLOWED);
	assert_int_equal(rule("/v2/cdn/stories?by_ids=7,42", NULL), TD_VERIFY_OK);
	assert_int_equal(rule("/v2/cdn/stories?by_ids=7,,42", NULL), TD_VERIFY_STORY_NOT_ALLOWED);
	assert_int_equal(rule("/v2/cdn/stories?by_ids=", NULL), TD_VERIFY_STORY_NOT_ALLOWED);
	assert_int_equal(rule("/v2/cdn/stories?id=7", NULL), TD_VERIFY_OK);
	assert_int_equal(rule("/v2/cdn/stories?id=-7", NULL), TD_VERIFY_STORY_NOT_ALLOWED);
	assert_int_equal(rule("/v2/cdn/stories", NULL), TD_VERIFY_STORY_NOT_ALLOWED);
	assert_int_equal(rule("/v2/cdn/datasources", NULL), TD_VERIFY_OK);
	assert_int_equal(rule("/v2/cdn/stories/42?by_ids=43", NULL), TD_VERIFY_STORY_NOT_ALLOWED);
}

static void
test_releases_branches_assets(void **state)
{
	(void)state;
	fresh(TD_ACCESS_RELEASE);
	t.release_ids.ids[0] = 3;
	t.release_ids.n = 1;
	assert_int_equal(rule("/v2/cdn/stories?from_release=3", NULL), TD_VERIFY_OK);
	assert_int_equal(rule("/v2/cdn/stories?from_release=4", NULL), TD_VERIFY_RELEASE_NOT_ALLOWED);
	fresh(TD_ACCESS_PUBLIC);
	assert_int_equal(rule("/v2/cdn/stories?from_release=3", NULL), TD_VERIFY_RELEASE_NOT_ALLOWED);
	fresh(TD_ACCESS_PRIVATE);
	assert_int_equal(rule("/v2/cdn/stories?from_release=3", NULL), TD_VERIFY_OK);
	t.branch_id = 5;
	assert_int_equal(rule("/v2/cdn/stories?branch_id=5", NULL), TD_VERIFY_OK);
	assert_int_equal(rule("/v2/cdn/stories?branch_id=05x", NULL), TD_VERIFY_BRANCH_NOT_ALLOWED);
	assert_int_equal(rule("/v2/cdn/stories?branch_id=6", NULL), TD_VERIFY_BRANCH_NOT_ALLOWED);
	fresh(TD_ACCESS_ASSET);
	assert_int_equal(rule("/v2/cdn/assets/me?filename=x", NULL), TD_VERIFY_OK);
	assert_int_equal(rule("/v2/cdn/stories", NULL), TD_VERIFY_ASSETS_ONLY);
	fresh(TD_ACCESS_PUBLIC);
	assert_int_equal(rule("/v2/cdn/assets/me", NULL), TD_VERIFY_ASSET_TOKEN_REQUIRED);
}

static void
test_reason_names_are_stable(void **state)
{
	(void)state;
	assert_string_equal(td_verify_reason_name(TD_VERIFY_OK), "ok");
	assert_string_equal(td_verify_reason_name(TD_VERIFY_DRAFT_NOT_ALLOWED), "draft_not_allowed");
	assert_string_equal(td_verify_reason_name(TD_VERIFY_REGENERATED), "regenerated");
	assert_string_equal(td_verify_reason_name(TD_VERIFY_STORE_UNAVAILABLE), "store_unavailable");
	assert_string_equal(td_verify_reason_name(TD_VERIFY_ADDRESS_NOT_ALLOWED),
			    "address_not_allowed");
	assert_string_equal(td_verify_reason_name(TD_VERIFY__MAX), "unknown");
}

/* A cached token keeps its own copy of the ranges (and ids): a hit is
 * judged on them after the token it came from is gone. */
static void
test_cache_holds_the_ranges(void **state)
{
	struct td_verify_cache *c = td_verify_cache_new(16);
	const struct td_token_facts *hit = NULL;
	struct td_token_facts f;
	struct td_addr in, out;
	const char *why;

	(void)state;
	assert_non_null(c);
	fresh(TD_ACCESS_PUBLIC);
	t.id = 7;
	t.space_id = 3;
	t.story_ids.ids[0] = 42;
	t.story_ids.n = 1;
	assert_int_equal(td_cidr_list_parse("127.0.0.2,2001:db8::/32", 23, &t.allowed_cidrs, &why), 0);
	assert_int_equal(td_addr_parse("127.0.0.2", 9, &in), 4);
	assert_int_equal(td_addr_parse("127.0.0.3", 9, &out), 4);
	td_token_facts_of(&t, 0, &f);
	assert_int_equal(td_verify_cache_put(c, 3, 7, &f), 0);
	memset(&t, 0xee, sizeof(t));		/* the record read is gone */
	assert_true(td_verify_cache_get(c, 3, 7, &hit));
	assert_non_null(hit);
	assert_int_equal(hit->ncidrs, 2);
	assert_true(td_cidr_allows(hit->cidrs, hit->ncidrs, &in));
	assert_false(td_cidr_allows(hit->cidrs, hit->ncidrs, &out));
	assert_false(td_cidr_allows(hit->cidrs, hit->ncidrs, NULL));
	assert_int_equal(hit->nstory_ids, 1);
	assert_int_equal(hit->story_ids[0], 42);
	/* unbound, no ids: nothing owned, anywhere */
	fresh(TD_ACCESS_PUBLIC);
	td_token_facts_of(&t, 0, &f);
	assert_int_equal(td_verify_cache_put(c, 3, 7, &f), 0);
	assert_true(td_verify_cache_get(c, 3, 7, &hit));
	assert_int_equal(hit->ncidrs, 0);
	assert_true(td_cidr_allows(hit->cidrs, hit->ncidrs, NULL));
	td_verify_cache_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_status_and_expiry),
		cmocka_unit_test(test_stories),
		cmocka_unit_test(test_releases_branches_assets),
		cmocka_unit_test(test_reason_names_are_stable),
		cmocka_unit_test(test_cache_holds_the_ranges),
	};

	return cmocka_run_group_tests_name("verify", tests, NULL, NULL);
}
