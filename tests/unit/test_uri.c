/*
 * The URI the rules judge (core/uri.h): one table of inputs, each with the
 * status td_uri_canonicalize must give and, when it accepts, the canonical
 * text and the decoded segments and parameters the rules read; then a few
 * URIs through td_verify_rules, to show every accepted spelling is judged
 * as its canonical form.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tokend/core/uri.h"
#include "tokend/core/verify.h"

/* Lists end with NULL; a parameter is "key=value", or "key" when bare. */
#define SEGS(...)   ((const char *const[]){ __VA_ARGS__, NULL })
#define NOSEGS      ((const char *const[]){ NULL })
#define PARAMS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NOPARAMS    ((const char *const[]){ NULL })

struct uri_case {
	const char *in;
	enum td_uri_status status;
	const char *text;		/* TD_URI_OK: the canonical text */
	const char *const *segs;	/* NULL: not checked */
	const char *const *params;	/* NULL: not checked */
};

#define OK(in_, text_, segs_, params_) { in_, TD_URI_OK, text_, segs_, params_ }
#define BAD(in_) { in_, TD_URI_BAD, NULL, NULL, NULL }

static const struct uri_case cases[] = {
	/* dot segments, in every spelling, removed before any rule */
	OK("/v2/cdn/stories/123", "/v2/cdn/stories/123", SEGS("v2", "cdn", "stories", "123"), NOPARAMS),
	OK("/v2/cdn/./stories/123", "/v2/cdn/stories/123", SEGS("v2", "cdn", "stories", "123"), NOPARAMS),
	OK("/v2/cdn/%2e/stories/123", "/v2/cdn/stories/123", SEGS("v2", "cdn", "stories", "123"), NULL),
	OK("/v2/cdn/%2E/stories/123", "/v2/cdn/stories/123", SEGS("v2", "cdn", "stories", "123"), NULL),
	OK("/v2/cdn/x/%2E%2E/stories/123", "/v2/cdn/stories/123", SEGS("v2", "cdn", "stories", "123"), NULL),
	OK("/v2/cdn/x/%2e%2e/stories/123", "/v2/cdn/stories/123", SEGS("v2", "cdn", "stories", "123"), NULL),
	OK("/v2/cdn/x/.%2E/stories/123", "/v2/cdn/stories/123", SEGS("v2", "cdn", "stories", "123"), NULL),
	OK("/v2/cdn/x/%2e./stories/123", "/v2/cdn/stories/123", SEGS("v2", "cdn", "stories", "123"), NULL),
	OK("/v2/cdn/stories/x/../123", "/v2/cdn/stories/123", SEGS("v2", "cdn", "stories", "123"), NULL),
	OK("/v2/cdn/stories/x/y/../../123", "/v2/cdn/stories/123", SEGS("v2", "cdn", "stories", "123"), NULL),
	OK("/v2//cdn///stories/123", "/v2/cdn/stories/123", SEGS("v2", "cdn", "stories", "123"), NULL),
	OK("//v2/cdn/stories/123", "/v2/cdn/stories/123", SEGS("v2", "cdn", "stories", "123"), NULL),
	OK("/a/../b", "/b", SEGS("b"), NULL),
	/* trailing dots and spaces: Windows servers drop them ("stories." is
	 * "stories" there), and "..." is ".." to some */
	BAD("/..."),
	BAD("/v2/cdn/stories./123"),
	BAD("/v2/cdn/stories%2e/123"),
	BAD("/v2/cdn/stories%20/123"),
	OK("/v2/cdn/sto.ries/123", "/v2/cdn/sto.ries/123", SEGS("v2", "cdn", "sto.ries", "123"), NULL),
	/* what NFKC turns into '.', '/' or '\' */
	BAD("/v2/cdn/%EF%BC%8E%EF%BC%8E/stories/123"),
	BAD("/v2/cdn%EF%BC%8Fstories/123"),
	BAD("/v2/cdn\xef\xbc\x8fstories/123"),
	BAD("/v2/cdn/stories%E2%88%95123"),
	/* names other servers decode again, split after decoding, or trim */
	BAD("/v2/cdn/stories?%2576ersion=draft"),
	BAD("/v2/cdn/stories?%09version=draft"),
	BAD("/v2/cdn/stories?a%26version=draft"),
	BAD("/v2/cdn/stories?x=1%26version%3Ddraft"),
	BAD("/v2/cdn/stories?x=1%26by_ids%3D9"),
	BAD("/v2/cdn/stories?resolve_relations=a&resolve_relations=b"),
	BAD("/v2/cdn/stories?Resolve_Links=url"),
	BAD("/v2/cdn/stories?resolve.relations=a"),
	BAD("/v2/cdn/stories?resolve_relations[]=a"),
	OK("/v2/cdn/stories?q=a%26b", "/v2/cdn/stories?q=a%26b", SEGS("v2", "cdn", "stories"),
	   PARAMS("q=a&b")),
	OK("/.a/a.b/..b", "/.a/a.b/..b", SEGS(".a", "a.b", "..b"), NULL),
	BAD("/.a/a./..b"),
	/* a trailing slash is kept; the root is "/" */
	OK("/v2/cdn/stories/", "/v2/cdn/stories/", SEGS("v2", "cdn", "stories"), NULL),
	OK("/v2/cdn/stories//", "/v2/cdn/stories/", SEGS("v2", "cdn", "stories"), NULL),
	OK("/a/b/.", "/a/b/", SEGS("a", "b"), NULL),
	OK("/a/b/..", "/a/", SEGS("a"), NULL),
	OK("/a/b/../", "/a/", SEGS("a"), NULL),
	OK("/", "/", NOSEGS, NOPARAMS),
	OK("//", "/", NOSEGS, NULL),
	OK("/.", "/", NOSEGS, NULL),
	OK("/./", "/", NOSEGS, NULL),
	OK("/a/..", "/", NOSEGS, NULL),
	OK("/a/../", "/", NOSEGS, NULL),
	/* escapes: unreserved decoded, others in upper case; UTF-8 escaped */
	OK("/%7e/%7Euser", "/~/~user", SEGS("~", "~user"), NULL),
	OK("/%41%62c%2D%5f", "/Abc-_", SEGS("Abc-_"), NULL),
	OK("/a%3ab", "/a%3Ab", SEGS("a:b"), NULL),
	OK("/a:b", "/a:b", SEGS("a:b"), NULL),
	OK("/a%20b", "/a%20b", SEGS("a b"), NULL),
	OK("/a%3fb", "/a%3Fb", SEGS("a?b"), NULL),
	OK("/a%23b", "/a%23b", SEGS("a#b"), NULL),
	OK("/a%26b&c", "/a%26b&c", SEGS("a&b&c"), NULL),
	OK("/a\"<>b", "/a%22%3C%3Eb", SEGS("a\"<>b"), NULL),
	OK("/caf%C3%A9", "/caf%C3%A9", SEGS("caf\xc3\xa9"), NULL),
	OK("/caf%c3%a9", "/caf%C3%A9", SEGS("caf\xc3\xa9"), NULL),
	OK("/caf\xc3\xa9", "/caf%C3%A9", SEGS("caf\xc3\xa9"), NULL),
	OK("/%F0%9F%98%80", "/%F0%9F%98%80", SEGS("\xf0\x9f\x98\x80"), NULL),
	OK("/%EF%BF%BF", "/%EF%BF%BF", SEGS("\xef\xbf\xbf"), NULL),
	OK("/%C2%A0", "/%C2%A0", SEGS("\xc2\xa0"), NULL),	/* NBSP: not a control */
	/* 16 segments are judged, 17 refused (fail closed) */
	OK("/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16", "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16",
	   SEGS("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16"),
	   NULL),
	OK("/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/", "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/",
	   NULL, NULL),
	OK("/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/.", "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/",
	   NULL, NULL),
	BAD("/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17"),
	BAD("/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17/.."),

	/* above the root */
	BAD("/.."),
	BAD("/../"),
	BAD("/../a"),
	BAD("/a/../../b"),
	BAD("/a/%2e%2e/%2E%2E/b"),
	BAD("/a/b/../../../c"),
	/* encoded '/', '\', '%'; raw '\' */
	BAD("/v2/cdn%2Fstories/123"),
	BAD("/v2/cdn%2fstories/123"),
	BAD("/v2/cdn%5Cstories/123"),
	BAD("/v2/cdn%5cstories/123"),
	BAD("/v2/cdn\\stories/123"),
	BAD("/v2/cdn/..\\stories"),
	BAD("/a%25b"),
	BAD("/v2/cdn/%252e/stories"),
	BAD("/v2/cdn/%252e%252e/stories"),
	/* path parameters, raw or encoded */
	BAD("/a;b"),
	BAD("/v2/cdn/stories;x=1/123"),
	BAD("/v2/cdn/stories/123;jsessionid=1"),
	BAD("/a%3Bb"),
	BAD("/a%3bb"),
	BAD("/..;/a"),
	/* spaces, NUL, controls */
	BAD("/a b"),
	BAD("/a%00b"),
	BAD("/a%01"),
	BAD("/a%09"),
	BAD("/a%0A"),
	BAD("/a%0d%0a"),
	BAD("/a%1F"),
	BAD("/a%7F"),
	BAD("/a%7f"),
	BAD("/a\x01"),
	BAD("/a\tb"),
	BAD("/a\nb"),
	BAD("/a\x7f"),
	/* C1 controls (U+0080..U+009F) are control characters too */
	BAD("/a%C2%80"),
	BAD("/a%C2%85b"),
	BAD("/a%c2%9f"),
	BAD("/a\xc2\x85"),
	BAD("/v2/cdn/stories%C2%85/43"),
	/* not strict UTF-8 */
	BAD("/%C0%AE"),
	BAD("/%c0%ae%c0%ae/x"),
	BAD("/x/%C0%AE%C0%AE/y"),
	BAD("/%C0%AF"),
	BAD("/%E0%80%AE"),
	BAD("/%F0%80%80%AE"),
	BAD("/%ED%A0%80"),
	BAD("/%ED%BF%BF"),
	BAD("/%F4%90%80%80"),
	BAD("/%F8%88%80%80%80"),
	BAD("/%FF"),
	BAD("/%C3"),
	BAD("/%C3x"),
	BAD("/%A9"),
	BAD("/\xff"),
	BAD("/caf\xc3"),
	BAD("/\xc0\xae"),
	/* malformed escapes, no absolute path, fragments */
	BAD("/a%"),
	BAD("/a%2"),
	BAD("/a%zz"),
	BAD("/a%g0"),
	BAD("/a%+1"),
	BAD(""),
	BAD("a/b"),
	BAD("*"),
	BAD("?version=draft"),
	BAD("http://example.com/a"),
	BAD("/a#b"),
	BAD("/a?b=1#c"),
	BAD("/a?b=1%23c#"),
	BAD("#"),

	/* the query: names and values decoded, order kept, '+' stays '+' */
	OK("/v2/cdn/stories?version=draft", "/v2/cdn/stories?version=draft", NULL,
	   PARAMS("version=draft")),
	OK("/v2/cdn/stories?%76ersion=draft", "/v2/cdn/stories?version=draft", NULL,
	   PARAMS("version=draft")),
	OK("/v2/cdn/stories?version=%64raft", "/v2/cdn/stories?version=draft", NULL,
	   PARAMS("version=draft")),
	OK("/v2/cdn/stories?foo=1&foo=2", "/v2/cdn/stories?foo=1&foo=2", NULL,
	   PARAMS("foo=1", "foo=2")),
	OK("/a?b=2&a=1&c=3", "/a?b=2&a=1&c=3", NULL, PARAMS("b=2", "a=1", "c=3")),
	OK("/a?q=a+b&r=%2B&s=%2b", "/a?q=a+b&r=%2B&s=%2B", NULL, PARAMS("q=a+b", "r=+", "s=+")),
	OK("/a?q=%7e%3a%41", "/a?q=~%3AA", NULL, PARAMS("q=~:A")),
	OK("/a?q=%26%3D", "/a?q=%26%3D", NULL, PARAMS("q=&=")),
	OK("/a?q=a=b", "/a?q=a=b", NULL, PARAMS("q=a=b")),
	OK("/a?q=/x/?y", "/a?q=/x/?y", NULL, PARAMS("q=/x/?y")),
	OK("/a?q=%3B", "/a?q=%3B", NULL, PARAMS("q=;")),
	OK("/a?q=%23", "/a?q=%23", NULL, PARAMS("q=#")),
	OK("/a?q=%C3%A9&r=\xc3\xa9", "/a?q=%C3%A9&r=%C3%A9", NULL,
	   PARAMS("q=\xc3\xa9", "r=\xc3\xa9")),
	OK("/a?q=a b", "/a?q=a%20b", NULL, PARAMS("q=a b")),
	OK("/v2/cdn/stories?by_ids=1,2", "/v2/cdn/stories?by_ids=1,2", NULL, PARAMS("by_ids=1,2")),
	OK("/v2/cdn/stories?starts_with=a/b&sort_by=x:asc", "/v2/cdn/stories?starts_with=a/b&sort_by=x:asc",
	   NULL, PARAMS("starts_with=a/b", "sort_by=x:asc")),
	/* empty pairs skipped; a bare key has an empty value; '?' alone is no query */
	OK("/a?&&x=1&&y=2&", "/a?x=1&y=2", NULL, PARAMS("x=1", "y=2")),
	OK("/a?", "/a", SEGS("a"), NOPARAMS),
	OK("/a?&", "/a", SEGS("a"), NOPARAMS),
	OK("/v2/cdn/stories?version", "/v2/cdn/stories?version", NULL, PARAMS("version")),
	OK("/v2/cdn/stories?version=", "/v2/cdn/stories?version=", NULL, PARAMS("version=")),
	OK("/a?=1", "/a?=1", NULL, PARAMS("=1")),
	OK("/a?x?y=1", "/a?x?y=1", NULL, PARAMS("x?y=1")),
	/* the token: read by the rules, never in the canonical text */
	OK("/v2/cdn/stories/1?token=abc", "/v2/cdn/stories/1", NULL, PARAMS("token=abc")),
	OK("/v2/cdn/stories/1?token=abc&version=draft&cv=9", "/v2/cdn/stories/1?version=draft&cv=9", NULL,
	   PARAMS("token=abc", "version=draft", "cv=9")),
	OK("/v2/cdn/stories/1?cv=9&token=abc&version=draft", "/v2/cdn/stories/1?cv=9&version=draft", NULL,
	   PARAMS("cv=9", "token=abc", "version=draft")),
	OK("/v2/cdn/stories/1?cv=9&%74oken=abc&x=1", "/v2/cdn/stories/1?cv=9&x=1", NULL,
	   PARAMS("cv=9", "token=abc", "x=1")),
	OK("/a?tok%65n=abc", "/a", NULL, PARAMS("token=abc")),
	OK("/a?token", "/a", NULL, PARAMS("token")),
	OK("/a?token=", "/a", NULL, PARAMS("token=")),
	OK("/a?x=token=abc", "/a?x=token=abc", NULL, PARAMS("x=token=abc")),
	BAD("/a?x=1%26token%3Dabc"),	/* read as token= by a server that decodes first */
	OK("/a?tokens=1&my_token=2", "/a?tokens=1&my_token=2", NULL, PARAMS("tokens=1", "my_token=2")),

	/* a parameter a rule reads, given twice */
	BAD("/v2/cdn/stories?version=published&version=draft"),
	BAD("/v2/cdn/stories?version=draft&%76ersion=published"),
	BAD("/v2/cdn/stories?version&version=draft"),
	BAD("/v2/cdn/stories?by_ids=1&by_ids=2"),
	BAD("/v2/cdn/stories?by_ids=1&by%5Fids=2"),
	BAD("/v2/cdn/stories?token=a&token=b"),
	BAD("/v2/cdn/stories?token=a&%74oken=b"),
	BAD("/v2/cdn/stories?token&token=b"),
	BAD("/v2/cdn/stories?id=1&id=2"),
	BAD("/v2/cdn/stories?from_release=1&from_release=2"),
	BAD("/v2/cdn/stories?branch_id=1&branch_id=2"),
	/* or spelled so that another server reads it as one */
	BAD("/v2/cdn/stories?VERSION=draft"),
	BAD("/v2/cdn/stories?Version=draft"),
	BAD("/v2/cdn/stories?%56ersion=draft"),
	BAD("/v2/cdn/stories?TOKEN=abc"),
	BAD("/v2/cdn/stories?ID=7"),
	BAD("/v2/cdn/stories?by.ids=1"),
	BAD("/v2/cdn/stories?by+ids=1"),
	BAD("/v2/cdn/stories?by%20ids=1"),
	BAD("/v2/cdn/stories?by%2Bids=1"),
	BAD("/v2/cdn/stories?By.Ids=1"),
	BAD("/v2/cdn/stories?from.release=1"),
	BAD("/v2/cdn/stories?branch%20id=1"),
	BAD("/v2/cdn/stories?version[]=draft"),
	BAD("/v2/cdn/stories?version%5B%5D=draft"),
	BAD("/v2/cdn/stories?version[x]=draft"),
	BAD("/v2/cdn/stories?by_ids[]=1&by_ids[]=2"),
	BAD("/v2/cdn/stories?token[]=abc"),
	/* PHP drops leading spaces ('+' is one) and reads an unclosed '[' as
	 * '_'; qs (Express) reads "[name]" as name, Rack 2 "name]" and "]name" */
	BAD("/v2/cdn/stories?+version=draft"),
	BAD("/v2/cdn/stories?%20version=draft"),
	BAD("/v2/cdn/stories?++by.ids=43"),
	BAD("/v2/cdn/stories?+token=abc"),
	BAD("/v2/cdn/stories?by[ids=43"),
	BAD("/v2/cdn/stories?by%5Bids=43"),
	BAD("/v2/cdn/stories?from[release=1"),
	BAD("/v2/cdn/stories?[version]=draft"),
	BAD("/v2/cdn/stories?%5Bversion%5D=draft"),
	BAD("/v2/cdn/stories?[by_ids]=43"),
	BAD("/v2/cdn/stories?[token]=abc"),
	BAD("/v2/cdn/stories?version]=draft"),
	BAD("/v2/cdn/stories?]version=draft"),
	BAD("/v2/cdn/stories?version[=draft"),
	/* names no server reads as one a rule reads */
	OK("/v2/cdn/stories?by[ids]=1", "/v2/cdn/stories?by%5Bids%5D=1", NULL, PARAMS("by[ids]=1")),
	OK("/v2/cdn/stories?x[version]=draft", "/v2/cdn/stories?x%5Bversion%5D=draft", NULL,
	   PARAMS("x[version]=draft")),
	OK("/v2/cdn/stories?version_=draft&_version=1&versions=2&my+version=3",
	   "/v2/cdn/stories?version_=draft&_version=1&versions=2&my+version=3", NULL, NULL),
	OK("/v2/cdn/stories?x=+version", "/v2/cdn/stories?x=+version", NULL, PARAMS("x=+version")),
	/* ';' in the query; malformed escapes, NUL */
	BAD("/v2/cdn/stories?a=1;version=draft"),
	BAD("/v2/cdn/stories?version=published;version=draft"),
	BAD("/a?;"),
	BAD("/a?x=%"),
	BAD("/a?x=%2"),
	BAD("/a?x=%zz"),
	BAD("/a?%=1"),
	BAD("/a?x=%00"),
	BAD("/a?x%00=1"),
};

/* "key=value" or "key" (bare) against a decoded parameter */
static void
check_param(const struct td_query_param *p, const char *want, const char *in)
{
	const char *eq = strchr(want, '=');
	size_t klen = eq != NULL ? (size_t)(eq - want) : strlen(want);

	if (strlen(p->key) != klen || strncmp(p->key, want, klen) != 0 ||
	    p->has_value != (eq != NULL) || strcmp(p->value, eq != NULL ? eq + 1 : "") != 0)
		fail_msg("%s: parameter \"%s\"%s\"%s\", want \"%s\"", in, p->key,
			 p->has_value ? "=" : " (bare) ", p->value, want);
}

static void
check_case(const struct uri_case *c, size_t len)
{
	static struct td_canon_uri out;
	enum td_uri_status st;
	int i;

	memset(&out, 0x5a, sizeof(out));	/* no value may survive from before */
	st = td_uri_canonicalize(c->in, len, &out);
	if (st != c->status)
		fail_msg("%s: status %s, want %s (%s)", c->in, st == TD_URI_OK ? "OK" : "BAD",
			 c->status == TD_URI_OK ? "OK" : "BAD", out.why != NULL ? out.why : "-");
	if (st != TD_URI_OK) {
		assert_non_null(out.why);
		return;
	}
	assert_null(out.why);
	if (strcmp(out.text, c->text) != 0)
		fail_msg("%s: text \"%s\", want \"%s\"", c->in, out.text, c->text);
	assert_int_equal(out.len, strlen(out.text));
	assert_null(strstr(out.text, "?token="));
	assert_null(strstr(out.text, "&token="));
	if (c->segs != NULL) {
		for (i = 0; c->segs[i] != NULL; i++) {
			if (i >= out.t.nsegments)
				fail_msg("%s: %d segments, want more", c->in, out.t.nsegments);
			if (strcmp(out.t.segments[i], c->segs[i]) != 0)
				fail_msg("%s: segment %d \"%s\", want \"%s\"", c->in, i,
					 out.t.segments[i], c->segs[i]);
		}
		if (out.t.nsegments != i)
			fail_msg("%s: %d segments, want %d", c->in, out.t.nsegments, i);
	}
	if (c->params != NULL) {
		for (i = 0; c->params[i] != NULL; i++) {
			if (i >= out.t.nparams)
				fail_msg("%s: %d parameters, want more", c->in, out.t.nparams);
			check_param(&out.t.params[i], c->params[i], c->in);
		}
		if (out.t.nparams != i)
			fail_msg("%s: %d parameters, want %d", c->in, out.t.nparams, i);
	}
}

static void
test_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i], strlen(cases[i].in));
}

/* The canonical text is itself canonical: the same text, the same segments,
 * the same parameters but the token. */
static void
test_idempotent(void **state)
{
	static struct td_canon_uri first, again;
	const struct uri_case *c;
	int i, j;
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		c = &cases[k];
		if (c->status != TD_URI_OK)
			continue;
		assert_int_equal(td_uri_canonicalize(c->in, strlen(c->in), &first), TD_URI_OK);
		if (td_uri_canonicalize(first.text, first.len, &again) != TD_URI_OK)
			fail_msg("%s: its text \"%s\" refused (%s)", c->in, first.text, again.why);
		if (strcmp(again.text, first.text) != 0)
			fail_msg("%s: text \"%s\", then \"%s\"", c->in, first.text, again.text);
		assert_int_equal(again.t.nsegments, first.t.nsegments);
		for (i = 0; i < first.t.nsegments; i++)
			assert_string_equal(again.t.segments[i], first.t.segments[i]);
		for (i = j = 0; i < first.t.nparams; i++) {
			if (strcmp(first.t.params[i].key, "token") == 0)
				continue;
			assert_true(j < again.t.nparams);
			assert_string_equal(again.t.params[j].key, first.t.params[i].key);
			assert_string_equal(again.t.params[j].value, first.t.params[i].value);
			assert_int_equal(again.t.params[j].has_value, first.t.params[i].has_value);
			j++;
		}
		assert_int_equal(again.t.nparams, j);
		assert_null(td_target_query(&again.t, "token"));
	}
}

/* raw is len bytes, not a C string: a NUL inside is refused, not an end */
static void
test_nul_inside(void **state)
{
	static struct td_canon_uri out;

	(void)state;
	assert_int_equal(td_uri_canonicalize("/a\0/b", 5, &out), TD_URI_BAD);
	assert_int_equal(td_uri_canonicalize("/a?x=1\0&y=2", 11, &out), TD_URI_BAD);
	assert_int_equal(td_uri_canonicalize("/a\0", 3, &out), TD_URI_BAD);
	assert_int_equal(td_uri_canonicalize(NULL, 0, &out), TD_URI_BAD);
	/* len is the end: what follows is not read */
	assert_int_equal(td_uri_canonicalize("/a/b#frag", 4, &out), TD_URI_OK);
	assert_string_equal(out.text, "/a/b");
	assert_int_equal(td_uri_canonicalize("/a?token=abc", 2, &out), TD_URI_OK);
	assert_string_equal(out.text, "/a");
}

/* The limits: TD_PATH_MAX bytes of path, TD_QUERY_MAX of query,
 * TD_CANON_URI_MAX of canonical text. */
static void
test_limits(void **state)
{
	static struct td_canon_uri out, again;
	static char buf[4 * (TD_PATH_MAX + TD_QUERY_MAX)];
	size_t n, i;

	(void)state;
	/* a path of exactly TD_PATH_MAX bytes, then one more */
	buf[0] = '/';
	memset(buf + 1, 'a', TD_PATH_MAX - 1);
	assert_int_equal(td_uri_canonicalize(buf, TD_PATH_MAX, &out), TD_URI_OK);
	assert_int_equal(out.len, TD_PATH_MAX);
	assert_int_equal(out.t.nsegments, 1);
	assert_int_equal(strlen(out.t.segments[0]), TD_PATH_MAX - 1);
	buf[TD_PATH_MAX] = 'a';
	assert_int_equal(td_uri_canonicalize(buf, TD_PATH_MAX + 1, &out), TD_URI_BAD);

	/* a query of exactly TD_QUERY_MAX bytes, then one more */
	memcpy(buf, "/a?q=", 5);
	memset(buf + 5, 'b', TD_QUERY_MAX - 2);
	n = 3 + TD_QUERY_MAX;
	assert_int_equal(td_uri_canonicalize(buf, n, &out), TD_URI_OK);
	assert_int_equal(out.len, n);
	buf[n] = 'b';
	assert_int_equal(td_uri_canonicalize(buf, n + 1, &out), TD_URI_BAD);

	/* TD_QUERY_MAX parameters at most */
	n = (size_t)sprintf(buf, "/a?");
	for (i = 0; i < TD_QUERY_PARAMS_MAX; i++)
		n += (size_t)sprintf(buf + n, "p%zu&", i);
	assert_int_equal(td_uri_canonicalize(buf, n, &out), TD_URI_OK);
	assert_int_equal(out.t.nparams, TD_QUERY_PARAMS_MAX);
	n += (size_t)sprintf(buf + n, "one_more");
	assert_int_equal(td_uri_canonicalize(buf, n, &out), TD_URI_BAD);

	/* within both input limits, but every byte escaped: three times longer
	 * than TD_CANON_URI_MAX allows */
	n = 0;
	buf[n++] = '/';
	while (n + 2 <= TD_PATH_MAX)
		buf[n++] = '\xc3', buf[n++] = '\xa9';
	buf[n++] = '?';
	buf[n++] = 'q';
	buf[n++] = '=';
	for (i = 0; i + 2 <= TD_QUERY_MAX - 2; i += 2)
		buf[n++] = '\xc3', buf[n++] = '\xa9';
	assert_int_equal(td_uri_canonicalize(buf, n, &out), TD_URI_BAD);
	assert_non_null(out.why);
	/* the limits hold for the canonical form too, else the canonical text
	 * would be refused as input: 341 raw "é" are 2047 bytes escaped, 342
	 * are 2053 */
	n = (size_t)sprintf(buf, "/");
	for (i = 0; i < 341; i++)
		n += (size_t)sprintf(buf + n, "\xc3\xa9");
	assert_int_equal(td_uri_canonicalize(buf, n, &out), TD_URI_OK);
	assert_int_equal(out.len, 1 + 6 * 341);
	assert_int_equal(td_uri_canonicalize(out.text, out.len, &again), TD_URI_OK);
	assert_string_equal(again.text, out.text);
	n += (size_t)sprintf(buf + n, "\xc3\xa9");
	assert_int_equal(td_uri_canonicalize(buf, n, &out), TD_URI_BAD);
	/* the same in the query: a raw '[' is "%5B" */
	n = (size_t)sprintf(buf, "/a?q=");
	for (i = 0; i < 1364; i++)
		buf[n++] = '[';
	assert_int_equal(td_uri_canonicalize(buf, n, &out), TD_URI_OK);
	assert_int_equal(out.len, 3 + 2 + 3 * 1364);
	assert_int_equal(td_uri_canonicalize(out.text, out.len, &again), TD_URI_OK);
	assert_string_equal(again.text, out.text);
	buf[n++] = '[';
	assert_int_equal(td_uri_canonicalize(buf, n, &out), TD_URI_BAD);
	/* the token, dropped, does not count */
	n = (size_t)sprintf(buf, "/a?token=abc&q=");
	for (i = 0; i < 1364; i++)
		buf[n++] = '[';
	assert_int_equal(td_uri_canonicalize(buf, n, &out), TD_URI_OK);
	assert_int_equal(out.len, 3 + 2 + 3 * 1364);
}

/* --- the rules see only the canonical form --- */

static struct td_token tok;
static struct td_canon_uri canon;

static void
fresh(enum td_access a)
{
	td_token_defaults(&tok);
	td_token_set_access(&tok, a);
}

static enum td_verify_reason
judge(const char *u, int *draft)
{
	struct td_token_facts f;
	int d = -1;
	enum td_verify_reason r;

	if (td_uri_canonicalize(u, strlen(u), &canon) != TD_URI_OK)
		fail_msg("%s: refused (%s)", u, canon.why);
	td_token_facts_of(&tok, 0, &f);
	r = td_verify_rules(&f, &canon.t, 1800000000, &d);
	if (draft != NULL)
		*draft = d;
	return r;
}

static void
test_rules_story_spellings(void **state)
{
	static const char *const other[] = {
		"/v2/cdn/stories/43",
		"/v2/cdn/./stories/43",
		"/v2/cdn/%2e/stories/43",
		"/v2/cdn/%2E/stories/./43",
		"/v2//cdn///stories//43",
		"/v2/cdn/stories/42/../43",
		"/v2/cdn/stories/42/%2e%2e/43",
		"/v2/cdn/stories/42/%2E%2E/43/",
		"/v2/cdn/x/../stories/43",
		"/v2/cdn/stories/%34%33",
		"/v2/CDN/Stories/43",
		"/v2/c%64n/%73tories/43",
		"/v2/cdn/stories/43?by_ids=42",
		"/v2/cdn/stories/42/..",		/* a listing naming no story */
		"/v2/cdn/stories/42/../?token=x",
		"/v2/cdn/stories?by_ids=4%32,43",
		"/v2/cdn/stories?%62y_ids=43",
		"/v2/cdn/stories?id=%34%33",
		/* stories embedded by the answer: the rules cannot see which */
		"/v2/cdn/stories/42?resolve_relations=page.related",
		"/v2/cdn/stories?by_ids=42&resolve_links=url",
		"/v2/cdn/stories/42?resolve_links=story",
		/* ids in one spelling: "042" may be a slug to the origin */
		"/v2/cdn/stories/042",
		"/v2/cdn/stories/%30%34%32",
		"/v2/cdn/stories?by_ids=042",
		"/v2/cdn/stories?id=0042",
	};
	static const char *const mine[] = {
		"/v2/cdn/stories/42",
		"/v2/cdn/./stories/42",
		"/v2//cdn/stories/x/../42/",
		"/v2/cdn/stories/%34%32",
		"/v2/cdn/stories?by_ids=4%32",
		"/v2/cdn/stories?%62y_ids=42",
		"/v2/cdn/stories?id=42&token=x",
	};
	size_t i;

	(void)state;
	fresh(TD_ACCESS_PUBLIC);
	tok.story_ids.ids[0] = 42;
	tok.story_ids.n = 1;
	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		if (judge(other[i], NULL) != TD_VERIFY_STORY_NOT_ALLOWED)
			fail_msg("%s: allowed for a token restricted to story 42", other[i]);
	for (i = 0; i < sizeof(mine) / sizeof(mine[0]); i++)
		if (judge(mine[i], NULL) != TD_VERIFY_OK)
			fail_msg("%s: refused for a token restricted to story 42", mine[i]);
}

static void
test_rules_assets_spellings(void **state)
{
	(void)state;
	fresh(TD_ACCESS_PUBLIC);
	assert_int_equal(judge("/v2/cdn/stories/../assets/me", NULL), TD_VERIFY_ASSET_TOKEN_REQUIRED);
	assert_int_equal(judge("/v2/cdn/%61ssets/me", NULL), TD_VERIFY_ASSET_TOKEN_REQUIRED);
	assert_int_equal(judge("/v2//cdn//assets/me", NULL), TD_VERIFY_ASSET_TOKEN_REQUIRED);
	fresh(TD_ACCESS_ASSET);
	assert_int_equal(judge("/v2/cdn/assets/../stories", NULL), TD_VERIFY_ASSETS_ONLY);
	assert_int_equal(judge("/v2/cdn/assets/%2e%2e/stories", NULL), TD_VERIFY_ASSETS_ONLY);
	assert_int_equal(judge("/v2/cdn/assets/me", NULL), TD_VERIFY_OK);
	/* the first "cdn" names the section: a later "cdn/assets" is a slug */
	assert_int_equal(judge("/v2/cdn/stories/cdn/assets", NULL), TD_VERIFY_ASSETS_ONLY);
	assert_int_equal(judge("/v2/cdn/stories/foo/cdn/assets", NULL), TD_VERIFY_ASSETS_ONLY);
	assert_int_equal(judge("/v2/cdn/links/cdn/assets", NULL), TD_VERIFY_ASSETS_ONLY);
	fresh(TD_ACCESS_PUBLIC);
	assert_int_equal(judge("/v2/cdn/assets/cdn/stories", NULL), TD_VERIFY_ASSET_TOKEN_REQUIRED);
}

static void
test_rules_versions(void **state)
{
	static const char *const drafts[] = {
		"/v2/cdn/stories?version=draft",
		"/v2/cdn/stories?version=%64raft",
		"/v2/cdn/stories?%76ersion=draft",
		"/v2/cdn/stories?version=Published",
		"/v2/cdn/stories?version=PUBLISHED",
		"/v2/cdn/stories?version=published+",
		"/v2/cdn/stories?version=+published",
		"/v2/cdn/stories?version=published%20",
		"/v2/cdn/stories?version=publishe",
		"/v2/cdn/stories?version=",
		"/v2/cdn/stories?version",
		"/v2/cdn/stories?version=anything",
		"/v2/cdn/stories?version=%C3%A9",
	};
	static const char *const published[] = {
		"/v2/cdn/stories",
		"/v2/cdn/stories?version=published",
		"/v2/cdn/stories?version=%70ublished",
		"/v2/cdn/stories?%76ersion=publish%65d&token=x",
		"/v2/cdn/stories?versions=draft",
		"/v2/cdn/stories?x=version%3Ddraft",
	};
	size_t i;
	int draft;

	(void)state;
	fresh(TD_ACCESS_PUBLIC);
	for (i = 0; i < sizeof(drafts) / sizeof(drafts[0]); i++) {
		if (judge(drafts[i], &draft) != TD_VERIFY_DRAFT_NOT_ALLOWED || !draft)
			fail_msg("%s: not a draft to a public token", drafts[i]);
	}
	for (i = 0; i < sizeof(published) / sizeof(published[0]); i++) {
		if (judge(published[i], &draft) != TD_VERIFY_OK || draft)
			fail_msg("%s: not published content to a public token", published[i]);
	}
	fresh(TD_ACCESS_PRIVATE);
	for (i = 0; i < sizeof(drafts) / sizeof(drafts[0]); i++) {
		if (judge(drafts[i], &draft) != TD_VERIFY_OK || !draft)
			fail_msg("%s: not a draft to a preview token", drafts[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_idempotent),
		cmocka_unit_test(test_nul_inside),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_rules_story_spellings),
		cmocka_unit_test(test_rules_assets_spellings),
		cmocka_unit_test(test_rules_versions),
	};

	return cmocka_run_group_tests_name("uri", tests, NULL, NULL);
}
