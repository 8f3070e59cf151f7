/* The RQL parser and matcher: every operator, precedence, quoting, the
 * shortcut, null()/empty(), dotted paths, any(), limits, malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tokend/api/rql.h"

static struct td_rql q;
static struct json_object *doc;

static int
setup(void **state)
{
	(void)state;
	doc = json_tokener_parse(
		"{\"id\":\"TKN-0000-0042\",\"name\":\"E2E Seeded Token\",\"status\":\"Active\","
		"\"icon\":\"\",\"description\":null,\"count\":7,\"flag\":true,"
		"\"account\":{\"id\":\"ACC-0000-0077\",\"name\":\"Acme\"},"
		"\"audit\":{\"created\":{\"at\":\"2026-11-22T10:00:00.000Z\"}},"
		"\"modules\":[{\"id\":\"MOD-1756\",\"name\":\"Access Management\"},{\"id\":\"MOD-1234\"}]}");
	return doc == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	json_object_put(doc);
	return 0;
}

/* 1 match, 0 no match, -1 parse error */
static int
m(const char *seg)
{
	td_rql_init(&q);
	if (td_rql_add(&q, seg, strlen(seg)) != 0)
		return -1;
	return td_rql_match(&q, doc);
}

static void
test_comparisons(void **state)
{
	(void)state;
	assert_int_equal(m("eq(id,'TKN-0000-0042')"), 1);
	assert_int_equal(m("eq(id,\"TKN-0000-0042\")"), 1);
	assert_int_equal(m("eq(id,TKN-0000-0042)"), 1);		/* quoted or not, the same */
	assert_int_equal(m("eq(id,'TKN-0000-0043')"), 0);
	assert_int_equal(m("ne(status,Disabled)"), 1);
	assert_int_equal(m("gt(count,6)"), 1);
	assert_int_equal(m("gt(count,7)"), 0);
	assert_int_equal(m("ge(count,7)"), 1);
	assert_int_equal(m("lt(count,10)"), 1);
	assert_int_equal(m("le(count,6.5)"), 0);
	assert_int_equal(m("gt(count,abc)"), 0);			/* incomparable: no match */
	assert_int_equal(m("gt(audit.created.at,'2026-01-01T00:00:00.000Z')"), 1);
	assert_int_equal(m("lt(audit.created.at,'2026-01-01T00:00:00.000Z')"), 0);
	assert_int_equal(m("eq(flag,true)"), 1);
	assert_int_equal(m("eq(account.name,Acme)"), 1);
	assert_int_equal(m("eq(account.missing,x)"), 0);
}

static void
test_null_empty_shortcut(void **state)
{
	(void)state;
	assert_int_equal(m("eq(description,null())"), 1);
	assert_int_equal(m("description=null()"), 1);
	assert_int_equal(m("eq(nothere,null())"), 1);
	assert_int_equal(m("ne(name,null())"), 1);
	assert_int_equal(m("eq(icon,empty())"), 1);
	assert_int_equal(m("eq(name,empty())"), 0);
	assert_int_equal(m("name=E2E Seeded Token"), 1);	/* spaces in a bare value */
	assert_int_equal(m("name='E2E Seeded Token'"), 1);
	assert_int_equal(m("status=Active"), 1);
	assert_int_equal(m("account.id=ACC-0000-0077"), 1);
}

static void
test_like(void **state)
{
	(void)state;
	assert_int_equal(m("like(name,'*Seeded*')"), 1);
	assert_int_equal(m("like(name,'E2E*')"), 1);
	assert_int_equal(m("like(name,'*Token')"), 1);
	assert_int_equal(m("like(name,'*seeded*')"), 0);
	assert_int_equal(m("ilike(name,'*seeded*')"), 1);
	assert_int_equal(m("like(name,'E2E Seeded Token')"), 1);
	assert_int_equal(m("like(name,'E2E')"), 0);
	assert_int_equal(m("like(name,'*\\*')"), 0);		/* a literal star: not in the name */
}

/* The reference: a glob by the definition ('*' any run, "\*" a star),
 * exponential but plain, for short inputs. */
static int
glob_ref(const char *s, const char *p)
{
	if (*p == '\0')
		return *s == '\0';
	if (*p == '*')
		return glob_ref(s, p + 1) || (*s != '\0' && glob_ref(s + 1, p));
	if (*p == '\\' && p[1] == '*')
		return *s == '*' && glob_ref(s + 1, p + 2);
	return *s == *p && glob_ref(s + 1, p + 1);
}

static int
like_on(const char *text, const char *pattern)
{
	struct json_object *o = json_object_new_object();
	char seg[256];
	int r;

	json_object_object_add(o, "name", json_object_new_string(text));
	snprintf(seg, sizeof(seg), "like(name,'%s')", pattern);
	td_rql_init(&q);
	assert_int_equal(td_rql_add(&q, seg, strlen(seg)), 0);
	r = td_rql_match(&q, o);
	json_object_put(o);
	return r;
}

/* like() agrees with the definition on every short text and pattern over
 * a small alphabet (stars, escaped stars, repeats: the backtracking cases) */
static void
test_like_agrees_with_the_definition(void **state)
{
	static const char *const atoms[] = { "a", "b", "*", "\\*" };
	static const char *const texts[] = { "", "a", "b", "ab", "ba", "aab", "aba", "abab",
					     "aaaa", "*", "a*b", "**", "abba", "baab", "aaab" };
	char pat[32];
	size_t t, n, k;
	unsigned code;

	(void)state;
	for (n = 0; n <= 4; n++) {
		unsigned total = 1;

		for (k = 0; k < n; k++)
			total *= 4;
		for (code = 0; code < total; code++) {
			unsigned c = code;

			pat[0] = '\0';
			for (k = 0; k < n; k++, c /= 4)
				strcat(pat, atoms[c % 4]);
			for (t = 0; t < sizeof(texts) / sizeof(texts[0]); t++)
				if (like_on(texts[t], pat) != glob_ref(texts[t], pat))
					fail_msg("like('%s','%s') != %d", texts[t], pat,
						 glob_ref(texts[t], pat));
		}
	}
}

/* A filter's work is bounded: the worst admissible like() over long text
 * runs out of budget and says so, instead of running on. */
static void
test_work_is_budgeted(void **state)
{
	static char text[2001], seg[4096];
	struct json_object *o = json_object_new_object();
	int i, docs;

	(void)state;
	memset(text, 'a', 2000);
	json_object_object_add(o, "description", json_object_new_string(text));
	strcpy(seg, "or(");
	for (i = 0; i < 16; i++) {
		strcat(seg, i ? ",ilike(description,'*" : "ilike(description,'*");
		memset(seg + strlen(seg), 'a', 200);
		seg[strlen(seg) + 200] = '\0';
		strcat(seg, " b')");
	}
	strcat(seg, ")");
	td_rql_init(&q);
	assert_int_equal(td_rql_add(&q, seg, strlen(seg)), 0);
	for (docs = 0; docs < 1000 && !td_rql_too_costly(&q); docs++)
		assert_int_equal(td_rql_match(&q, o), 0);
	assert_true(td_rql_too_costly(&q));
	/* each document costs ~16 x (2000 + 200): the budget stops it early */
	assert_true(docs < 1000 && docs > 10);
	/* and a fresh query starts with a full budget */
	td_rql_init(&q);
	assert_int_equal(td_rql_add(&q, "ilike(description,'*a')", 23), 0);
	assert_int_equal(td_rql_match(&q, o), 1);
	assert_false(td_rql_too_costly(&q));
	json_object_put(o);
}

static void
test_in_out_logic_any(void **state)
{
	(void)state;
	assert_int_equal(m("in(status,(Active,Disabled))"), 1);
	assert_int_equal(m("in(status,('Disabled','Deleted'))"), 0);
	assert_int_equal(m("out(status,(Disabled,Deleted))"), 1);
	assert_int_equal(m("in(status,Active,Disabled)"), 1);
	assert_int_equal(m("and(eq(id,'TKN-0000-0042'),eq(name,'E2E Seeded Token'))"), 1);
	assert_int_equal(m("and(eq(id,'TKN-0000-0042'),eq(name,'X'))"), 0);
	assert_int_equal(m("or(eq(id,'X'),eq(name,'E2E Seeded Token'))"), 1);
	assert_int_equal(m("not(eq(status,Active))"), 0);
	assert_int_equal(m("any(modules,id=MOD-1756)"), 1);
	assert_int_equal(m("any(modules,eq(id,'MOD-9999'))"), 0);
	assert_int_equal(m("all(modules,like(id,'MOD-*'))"), 1);
	assert_int_equal(m("all(modules,eq(name,'Access Management'))"), 0);
	assert_int_equal(m("render()"), 1);
}

static void
test_precedence_and_segments(void **state)
{
	(void)state;
	/* "," (and) binds tighter than "|" (or) */
	assert_int_equal(m("eq(id,X),eq(status,Active)|eq(name,'E2E Seeded Token')"), 1);
	assert_int_equal(m("eq(id,X)|eq(status,Active),eq(name,Y)"), 0);
	assert_int_equal(m("eq(status,Active);eq(id,X)"), 1);
	/* segments are and-ed */
	td_rql_init(&q);
	assert_int_equal(td_rql_add(&q, "status=Active", 13), 0);
	assert_int_equal(td_rql_add(&q, "eq(id,X)", 8), 0);
	assert_int_equal(td_rql_match(&q, doc), 0);
}

static void
test_malformed(void **state)
{
	static const char *const bad[] = {
		"", "eq(", "eq(id", "eq(id,'x", "eq(id,x", "eq(,x)", "foo(id,x)", "rql=eq(a,b)x",
		"eq(id,x))", "(eq(id,x))", "name", "not(eq(a,b),eq(c,d))", "eq(id,x)junk",
		"and()", "in(status,(a,b)", "any(modules)", "=x", "eq(id,foo(1))",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (m(bad[i]) != -1)
			fail_msg("accepted '%s'", bad[i]);
		assert_true(q.error[0] != '\0');
	}
	m("foo(id,x)");
	assert_string_equal(q.error, "Unknown expression group 'foo'");
	m("rql=eq(a,b)");
	assert_non_null(strstr(q.error, "eq"));
}

static void
test_limits(void **state)
{
	char deep[1024];
	size_t n = 0;
	int i;

	(void)state;
	for (i = 0; i < TD_RQL_DEPTH_MAX + 2; i++)
		n += (size_t)sprintf(deep + n, "not(");
	n += (size_t)sprintf(deep + n, "eq(a,b)");
	for (i = 0; i < TD_RQL_DEPTH_MAX + 2; i++)
		deep[n++] = ')';
	deep[n] = '\0';
	assert_int_equal(m(deep), -1);
	assert_non_null(strstr(q.error, "deeper"));
	/* TD_RQL_DEPTH_MAX levels are fine */
	n = 0;
	for (i = 0; i < TD_RQL_DEPTH_MAX - 1; i++)
		n += (size_t)sprintf(deep + n, "not(");
	n += (size_t)sprintf(deep + n, "eq(a,b)");
	for (i = 0; i < TD_RQL_DEPTH_MAX - 1; i++)
		deep[n++] = ')';
	deep[n] = '\0';
	assert_int_not_equal(m(deep), -1);
	/* too many values */
	n = (size_t)sprintf(deep, "in(a,(");
	for (i = 0; i < TD_RQL_VALUES_MAX + 1; i++)
		n += (size_t)sprintf(deep + n, "%s%d", i ? "," : "", i);
	sprintf(deep + n, "))");
	assert_int_equal(m(deep), -1);
}

static int
only_known(const char *path, const char *coll, void *arg)
{
	(void)arg;
	if (coll != NULL)
		return strcmp(path, "id") == 0;
	return strcmp(path, "id") == 0 || strcmp(path, "modules") == 0 || strcmp(path, "name") == 0;
}

static void
test_path_check(void **state)
{
	(void)state;
	m("and(eq(id,1),any(modules,id=MOD-1))");
	assert_null(td_rql_check_paths(&q, only_known, NULL));
	m("and(eq(id,1),eq(secret,x))");
	assert_string_equal(td_rql_check_paths(&q, only_known, NULL), "secret");
	m("any(modules,eq(name,x))");
	assert_string_equal(td_rql_check_paths(&q, only_known, NULL), "name");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_comparisons),
		cmocka_unit_test(test_null_empty_shortcut),
		cmocka_unit_test(test_like),
		cmocka_unit_test(test_like_agrees_with_the_definition),
		cmocka_unit_test(test_work_is_budgeted),
		cmocka_unit_test(test_in_out_logic_any),
		cmocka_unit_test(test_precedence_and_segments),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_path_check),
	};

	return cmocka_run_group_tests_name("rql", tests, setup, teardown);
}
