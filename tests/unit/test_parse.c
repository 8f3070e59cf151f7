/* Bounded number parsing, percent-decoding, media types and JSON limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tokend/server/body.h"
#include "tokend/server/parse.h"
#include "tokend/store/store.h"

static int
p64(const char *s, long long min, long long max, long long *out)
{
	return td_parse_int64(s, strlen(s), min, max, out);
}

static void
test_int64_bounds(void **state)
{
	long long v;

	(void)state;
	assert_int_equal(p64("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(p64("9223372036854775807", 0, INT64_MAX, &v), 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(p64("9223372036854775808", 0, INT64_MAX, &v), -1);
	assert_int_equal(p64("-9223372036854775808", INT64_MIN, 0, &v), 0);
	assert_true(v == INT64_MIN);
	assert_int_equal(p64("-9223372036854775809", INT64_MIN, 0, &v), -1);
	assert_int_equal(p64("99999999999999999999", 0, INT64_MAX, &v), -1);
	assert_int_equal(p64("-1", 0, 10, &v), -1);	/* no sign when min >= 0 */
	assert_int_equal(p64("11", 0, 10, &v), -1);
	assert_int_equal(p64("-", -5, 5, &v), -1);
	assert_int_equal(p64("", 0, 5, &v), -1);
	assert_int_equal(p64("+1", 0, 5, &v), -1);
	assert_int_equal(p64(" 1", 0, 5, &v), -1);
	assert_int_equal(p64("1 ", 0, 5, &v), -1);
	assert_int_equal(p64("0x1", 0, 5, &v), -1);
	/* the length is honoured: "12" of "123" */
	assert_int_equal(td_parse_int64("123", 2, 0, 100, &v), 0);
	assert_int_equal(v, 12);
}

static void
test_octal_mode(void **state)
{
	long long v;

	(void)state;
	assert_int_equal(td_parse_octal_mode("0660", &v), 0);
	assert_int_equal(v, 0660);
	assert_int_equal(td_parse_octal_mode("777", &v), 0);
	assert_int_equal(td_parse_octal_mode("1777", &v), -1);
	assert_int_equal(td_parse_octal_mode("8", &v), -1);
	assert_int_equal(td_parse_octal_mode("", &v), -1);
}

static void
test_percent_decode(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(td_percent_decode("a%41+b", 6, out, sizeof(out)), 4);
	assert_string_equal(out, "aA+b");
	assert_int_equal(td_percent_decode("%e2%9c%93", 9, out, sizeof(out)), 3);
	assert_int_equal(td_percent_decode("%00", 3, out, sizeof(out)), -1);
	assert_int_equal(td_percent_decode("%0", 2, out, sizeof(out)), -1);
	assert_int_equal(td_percent_decode("%g0", 3, out, sizeof(out)), -1);
	assert_int_equal(td_percent_decode("a\0b", 3, out, sizeof(out)), -1);
	/* output buffer bound, NUL included */
	assert_int_equal(td_percent_decode("abcd", 4, out, 4), -1);
	assert_int_equal(td_percent_decode("abc", 3, out, 4), 3);
}

static void
test_media_types(void **state)
{
	(void)state;
	assert_true(td_media_type_is_json("application/json"));
	assert_true(td_media_type_is_json("application/json; charset=utf-8"));
	assert_true(td_media_type_is_json("Application/JSON"));
	assert_true(td_media_type_is_json("application/vnd.api+json"));
	assert_true(td_media_type_is_json("  application/json  ;x=y"));
	assert_false(td_media_type_is_json(NULL));
	assert_false(td_media_type_is_json(""));
	assert_false(td_media_type_is_json("text/plain"));
	assert_false(td_media_type_is_json("application/jsonx"));
	assert_false(td_media_type_is_json("application/x-www-form-urlencoded"));
	assert_false(td_media_type_is_json("text/json+xml"));
}

static void
test_json_limits(void **state)
{
	char err[128], deep[200];
	struct json_object *o;
	int i;

	(void)state;
	o = td_json_parse("{\"a\":[1,2]} \n", 13, 32, err, sizeof(err));
	assert_non_null(o);
	json_object_put(o);
	o = td_json_parse("42", 2, 32, err, sizeof(err));	/* a bare number ends at EOF */
	assert_non_null(o);
	assert_int_equal(json_object_get_int(o), 42);
	json_object_put(o);
	assert_null(td_json_parse("{\"a\":1} x", 9, 32, err, sizeof(err)));
	assert_null(td_json_parse("{\"a\":", 5, 32, err, sizeof(err)));
	assert_null(td_json_parse("{\"a\":\"\xff\"}", 9, 32, err, sizeof(err)));
	assert_null(td_json_parse("{\"a\":1}\0{", 9, 32, err, sizeof(err)));
	assert_null(td_json_parse("", 0, 32, err, sizeof(err)));
	/* depth: 10 nested arrays pass a cap of 10, fail a cap of 9 */
	for (i = 0; i < 10; i++) {
		deep[i] = '[';
		deep[10 + i] = ']';
	}
	o = td_json_parse(deep, 20, 10, err, sizeof(err));
	assert_non_null(o);
	json_object_put(o);
	assert_null(td_json_parse(deep, 20, 9, err, sizeof(err)));
}

static int
parses(const char *json)
{
	char err[128];
	struct json_object *o = td_json_parse(json, strlen(json), 32, err, sizeof(err));

	json_object_put(o);
	return o != NULL;
}

static void
test_duplicate_keys_and_single_quotes(void **state)
{
	(void)state;
	assert_false(parses("{\"a\":1,\"a\":2}"));
	assert_false(parses("{\"x\":{\"a\":1,\"a\":2}}"));
	assert_false(parses("[{\"a\":1},{\"b\":1,\"b\":2}]"));
	assert_false(parses("{\"a\":1,\"\\u0061\":2}"));	/* the same key, escaped */
	assert_false(parses("{\"a\":{\"b\":1},\"a\":{\"c\":1}}"));
	assert_false(parses("{'a':1}"));
	assert_true(parses("{\"a\":{\"a\":1},\"b\":{\"a\":2}}"));
	assert_true(parses("{\"a\":\"}{,\\\"[\",\"b\":[1,{\"a\":1}],\"c\":\"it's\"}"));
	assert_true(parses("[{},{},[{\"a\":1}]]"));
	assert_true(parses("\"'\""));
}

static void
test_redis_url(void **state)
{
	struct td_redis_url u;
	char err[128];

	(void)state;
	assert_int_equal(td_redis_url_parse("redis://127.0.0.1:6390/3", &u, err, sizeof(err)), 0);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 6390);
	assert_int_equal(u.db, 3);
	assert_false(u.is_unix);
	assert_int_equal(td_redis_url_parse("redis://:p%40ss@db.local", &u, err, sizeof(err)), 0);
	assert_string_equal(u.password, "p@ss");
	assert_string_equal(u.host, "db.local");
	assert_int_equal(u.port, 6379);
	assert_int_equal(td_redis_url_parse("unix:///run/redis.sock?db=2", &u, err, sizeof(err)), 0);
	assert_true(u.is_unix);
	assert_string_equal(u.path, "/run/redis.sock");
	assert_int_equal(u.db, 2);
	assert_int_not_equal(td_redis_url_parse("redis://", &u, err, sizeof(err)), 0);
	assert_int_not_equal(td_redis_url_parse("redis://h:0", &u, err, sizeof(err)), 0);
	assert_int_not_equal(td_redis_url_parse("redis://h/-1", &u, err, sizeof(err)), 0);
	assert_int_not_equal(td_redis_url_parse("unix:///x?db=99", &u, err, sizeof(err)), 0);
	assert_int_not_equal(td_redis_url_parse("redis://user@h", &u, err, sizeof(err)), 0);
	/* ACL users */
	assert_int_equal(td_redis_url_parse("redis://app%3A1:pw@h:7000/1", &u, err, sizeof(err)), 0);
	assert_string_equal(u.user, "app:1");
	assert_string_equal(u.password, "pw");
	assert_int_equal(u.port, 7000);
}

static void
test_redis_sentinel_url(void **state)
{
	struct td_redis_url u;
	char err[256];

	(void)state;
	assert_int_equal(td_redis_url_parse("redis-sentinel://:pw@10.0.0.1,10.0.0.2:26380,"
					    "s3.local:5000/mymaster/2", &u, err, sizeof(err)), 0);
	assert_true(u.is_sentinel);
	assert_int_equal(u.nsentinels, 3);
	assert_string_equal(u.sentinels[0].host, "10.0.0.1");
	assert_int_equal(u.sentinels[0].port, 26379);	/* the sentinels' default port */
	assert_int_equal(u.sentinels[1].port, 26380);
	assert_string_equal(u.sentinels[2].host, "s3.local");
	assert_string_equal(u.master_name, "mymaster");
	assert_int_equal(u.db, 2);
	assert_string_equal(u.password, "pw");
	assert_int_equal(td_redis_url_parse("redis-sentinel://h/m", &u, err, sizeof(err)), 0);
	assert_int_equal(u.db, 0);
	assert_string_equal(u.master_name, "m");
	/* each mistake refused, named */
	assert_int_not_equal(td_redis_url_parse("redis-sentinel://h", &u, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "MASTER_NAME"));
	assert_int_not_equal(td_redis_url_parse("redis-sentinel://h/", &u, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "master name"));
	assert_int_not_equal(td_redis_url_parse("redis-sentinel://h/a b", &u, err, sizeof(err)), 0);
	assert_int_not_equal(td_redis_url_parse("redis-sentinel://h:0/m", &u, err, sizeof(err)), 0);
	assert_int_not_equal(td_redis_url_parse("redis-sentinel://h,,h2/m", &u, err, sizeof(err)), 0);
	assert_int_not_equal(td_redis_url_parse("redis-sentinel://h/m/16", &u, err, sizeof(err)), 0);
	assert_int_not_equal(td_redis_url_parse("redis-sentinel://a,b,c,d,e,f,g,h,i/m", &u, err,
						sizeof(err)), 0);
	assert_non_null(strstr(err, "more than 8 sentinels"));
	assert_int_not_equal(td_redis_url_parse("rediss://h", &u, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "TLS"));
}

static void
test_redis_cluster_url(void **state)
{
	struct td_redis_url u;
	char err[256];

	(void)state;
	assert_int_equal(td_redis_url_parse("redis-cluster://app:p%40ss@10.0.0.1,10.0.0.2:7001",
					    &u, err, sizeof(err)), 0);
	assert_true(u.is_cluster);
	assert_false(u.is_sentinel);
	assert_int_equal(u.nseeds, 2);
	assert_string_equal(u.seeds[0].host, "10.0.0.1");
	assert_int_equal(u.seeds[0].port, 6379);
	assert_int_equal(u.seeds[1].port, 7001);
	assert_string_equal(u.user, "app");
	assert_string_equal(u.password, "p@ss");
	assert_int_equal(td_redis_url_parse("redis-cluster://h:7000/0", &u, err, sizeof(err)), 0);
	/* a cluster has database 0 only; every other mistake named too */
	assert_int_not_equal(td_redis_url_parse("redis-cluster://h/3", &u, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "database 0 only"));
	assert_int_not_equal(td_redis_url_parse("redis-cluster://", &u, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "missing host"));
	assert_int_not_equal(td_redis_url_parse("redis-cluster://h:0", &u, err, sizeof(err)), 0);
	assert_int_not_equal(td_redis_url_parse("redis-cluster://h:65536", &u, err, sizeof(err)), 0);
	assert_int_not_equal(td_redis_url_parse("redis-cluster://h,,i", &u, err, sizeof(err)), 0);
	assert_int_not_equal(td_redis_url_parse("redis-cluster://a,b,c,d,e,f,g,h,i", &u, err,
						sizeof(err)), 0);
	assert_non_null(strstr(err, "more than 8 cluster nodes"));
}

/* The slots Redis itself computes (CLUSTER KEYSLOT on redis-server 7.0). */
static void
test_cluster_key_slot(void **state)
{
	(void)state;
	assert_int_equal(td_redis_key_slot("123456789", 9), 12739);	/* the CRC16 check value */
	assert_int_equal(td_redis_key_slot("{s:205}:t:1", 11), 16304);
	assert_int_equal(td_redis_key_slot("{s:205}:space", 13), 16304);
	/* only the first {…} counts, and only when not empty */
	assert_int_equal(td_redis_key_slot("foo{{bar}}zap", 13), td_redis_key_slot("{bar", 4));
	assert_int_equal(td_redis_key_slot("foo{}{bar}", 10), 8363);
	assert_int_equal(td_redis_key_slot("x{bar}{zap}", 11), td_redis_key_slot("bar", 3));
	assert_int_equal(td_redis_key_slot("{bar", 4), 4015);
}

/* CLUSTER NODES as one node sees it: trusted while it reaches a majority
 * of the primaries that serve slots. */
static void
test_cluster_view(void **state)
{
	const char *healthy =
		"a1 10.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460\n"
		"b2 10.0.0.2:7000@17000 master - 0 1 2 connected 5461-10922\n"
		"c3 10.0.0.3:7000@17000 master - 0 1 3 connected 10923-16383\n"
		"d4 10.0.0.4:7000@17000 slave a1 0 1 1 connected\n";
	/* another primary failed: this one still reaches 2 of 3 */
	const char *other_failed =
		"a1 10.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460\n"
		"b2 10.0.0.2:7000@17000 master,fail - 0 1 2 disconnected 5461-10922\n"
		"c3 10.0.0.3:7000@17000 master - 0 1 3 connected 10923-16383\n";
	/* cut off: the others look down from here (a failover may be under way) */
	const char *cut_off =
		"a1 10.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460\n"
		"b2 10.0.0.2:7000@17000 master,fail? - 0 1 2 disconnected 5461-10922\n"
		"c3 10.0.0.3:7000@17000 master,fail - 0 1 3 disconnected 10923-16383";
	/* demoted: a replica now */
	const char *demoted =
		"a1 10.0.0.1:7000@17000 myself,slave d4 0 0 4 connected\n"
		"d4 10.0.0.4:7000@17000 master - 0 1 4 connected 0-5460\n"
		"b2 10.0.0.2:7000@17000 master - 0 1 2 connected 5461-10922\n"
		"c3 10.0.0.3:7000@17000 master - 0 1 3 connected 10923-16383\n";

	(void)state;
	assert_true(td_redis_cluster_view_trusted(healthy, 1));
	assert_true(td_redis_cluster_view_trusted(other_failed, 1));
	assert_false(td_redis_cluster_view_trusted(cut_off, 1));
	assert_false(td_redis_cluster_view_trusted(cut_off, 0));
	assert_false(td_redis_cluster_view_trusted(demoted, 1));
	assert_true(td_redis_cluster_view_trusted(demoted, 0));	/* its map is good */
	assert_false(td_redis_cluster_view_trusted("", 1));
	assert_false(td_redis_cluster_view_trusted("garbage\n\n x", 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_int64_bounds),
		cmocka_unit_test(test_octal_mode),
		cmocka_unit_test(test_percent_decode),
		cmocka_unit_test(test_media_types),
		cmocka_unit_test(test_json_limits),
		cmocka_unit_test(test_duplicate_keys_and_single_quotes),
		cmocka_unit_test(test_redis_url),
		cmocka_unit_test(test_redis_sentinel_url),
		cmocka_unit_test(test_redis_cluster_url),
		cmocka_unit_test(test_cluster_key_slot),
		cmocka_unit_test(test_cluster_view),
	};

	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
