/*
 * Address ranges (core/cidr.h), one rule a test: the one spelling of a
 * range accepted and printed back, every other spelling refused, matching
 * across IPv4 and IPv4-mapped IPv6, containment for the minting rule, the
 * stored list form, and the client address behind trusted proxies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tokend/core/cidr.h"

static int
parse(const char *s, struct td_cidr *c)
{
	const char *why = NULL;
	int rc = td_cidr_parse(s, strlen(s), c, &why);

	if (rc != 0)
		assert_non_null(why);	/* every refusal says why */
	return rc;
}

/* s parses and prints back as want. */
static void
assert_spelled(const char *s, const char *want)
{
	char out[TD_CIDR_TEXT_MAX + 1];
	struct td_cidr c, again;

	assert_int_equal(parse(s, &c), 0);
	td_cidr_format(&c, out, sizeof(out));
	assert_string_equal(out, want);
	/* what is printed reads back as the same range */
	assert_int_equal(parse(out, &again), 0);
	assert_memory_equal(&c, &again, sizeof(c));
}

static struct td_addr
addr(const char *s)
{
	struct td_addr a;

	assert_true(td_addr_parse(s, strlen(s), &a) > 0);
	return a;
}

static int
allows(const char *range, const char *address)
{
	struct td_cidr c;
	struct td_addr a = addr(address);

	assert_int_equal(parse(range, &c), 0);
	return td_cidr_allows(&c, 1, &a);
}

static void
test_accepted_spellings_print_back(void **state)
{
	(void)state;
	assert_spelled("10.0.0.0/8", "10.0.0.0/8");
	assert_spelled("192.168.1.7", "192.168.1.7/32");
	assert_spelled("0.0.0.0/0", "0.0.0.0/0");
	assert_spelled("127.0.0.2/32", "127.0.0.2/32");
	assert_spelled("::", "::/128");
	assert_spelled("::/0", "::/0");
	assert_spelled("::1/128", "::1/128");
	assert_spelled("2001:DB8::/32", "2001:db8::/32");
	assert_spelled("2001:0db8:0000:0000:0000:0000:0000:0000/32", "2001:db8::/32");
	assert_spelled("::ffff:1.2.3.0/120", "::ffff:1.2.3.0/120");
	assert_spelled("fe80::/10", "fe80::/10");
	assert_spelled("0000:0000:0000:0000:0000:ffff:255.255.255.255/128",
		       "::ffff:255.255.255.255/128");
}

static void
test_refused_spellings(void **state)
{
	static const char *const bad[] = {
		"", "/", "/8", "1.2.3.4/", "10.0.0.1/33", "10.0.0.0/-1", "10.0.0.0/+8",
		"10.0.0.0/08", "10.0.0.0/8/8", "010.0.0.1/8", "10.00.0.0/16", "1.2.3.04",
		"1.2.3", "1.2.3.4.5", "256.0.0.0/8", "::1/129", "::/0128", "fe80::1%eth0/64",
		"fe80::1%eth0", "[::1]/128", " 10.0.0.0/8", "10.0.0.0/8 ", "10.0.0.0 /8",
		"10.0.0.0/ 8", "1.2.3.4:80", "::ffff:01.2.3.4", "0x0a.0.0.0/8", "10.0.0.0\n/8",
		"1:2:3:4:5:6:7:8:9", ":::", "2001:db8::g/32", "localhost", "1e1.0.0.0/8",
		/* host bits set past the prefix: refused, not quietly cleared */
		"10.0.0.1/8", "192.168.1.1/24", "2001:db8::1/32", "::1/0", "0.0.0.1/0",
		/* bounded length */
		"0000:0000:0000:0000:0000:0000:0000:0000:0000/128",
		"0000:0000:0000:0000:0000:ffff:255.255.255.255/1280",
	};
	struct td_cidr c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], &c) == 0)
			fail_msg("accepted \"%s\"", bad[i]);
	/* a NUL inside the given length is refused, not cut */
	assert_int_not_equal(td_cidr_parse("10.0.0.0\0/8", 11, &c, &(const char *){ NULL }), 0);
	assert_int_not_equal(td_cidr_parse(NULL, 0, &c, &(const char *){ NULL }), 0);
	{
		char huge[4096];

		memset(huge, '1', sizeof(huge));
		assert_int_not_equal(td_cidr_parse(huge, sizeof(huge), &c, &(const char *){ NULL }), 0);
		memcpy(huge, "10.0.0.0/8", 10);	/* a good range in front of a long tail */
		assert_int_not_equal(td_cidr_parse(huge, sizeof(huge), &c, &(const char *){ NULL }), 0);
	}
}

static void
test_prefix_bounds(void **state)
{
	struct td_cidr c;

	(void)state;
	assert_int_equal(parse("0.0.0.0/32", &c), 0);
	assert_int_equal(c.bits, 128);		/* IPv4 ranges sit at ::ffff:0:0/96 */
	assert_int_equal(parse("0.0.0.0/0", &c), 0);
	assert_int_equal(c.bits, 96);
	assert_int_not_equal(parse("0.0.0.0/33", &c), 0);
	assert_int_equal(parse("::/128", &c), 0);
	assert_int_equal(parse("::/0", &c), 0);
	assert_int_equal(c.bits, 0);
	assert_int_not_equal(parse("::/129", &c), 0);
	assert_int_not_equal(parse("::/99999999999999999999", &c), 0);
}

static void
test_matching(void **state)
{
	(void)state;
	assert_true(allows("127.0.0.2/32", "127.0.0.2"));
	assert_false(allows("127.0.0.2/32", "127.0.0.3"));
	assert_true(allows("10.0.0.0/8", "10.255.255.255"));
	assert_false(allows("10.0.0.0/8", "11.0.0.0"));
	assert_true(allows("192.168.0.0/23", "192.168.1.200"));
	assert_false(allows("192.168.0.0/23", "192.168.2.0"));
	assert_true(allows("0.0.0.0/0", "203.0.113.9"));
	/* an IPv4-mapped client is its IPv4 address, and the other way round */
	assert_true(allows("10.0.0.0/8", "::ffff:10.1.2.3"));
	assert_true(allows("::ffff:10.0.0.0/104", "10.1.2.3"));
	assert_false(allows("0.0.0.0/0", "::1"));
	assert_false(allows("10.0.0.0/8", "::a01:203"));	/* IPv4-compatible is IPv6 */
	assert_true(allows("2001:db8::/32", "2001:db8:ffff::1"));
	assert_false(allows("2001:db8::/32", "2001:db9::1"));
	assert_true(allows("2001:db8::/33", "2001:db8:7fff::1"));
	assert_false(allows("2001:db8::/33", "2001:db8:8000::1"));
	/* ::/0 holds every address, IPv4 ones (as mapped) too */
	assert_true(allows("::/0", "1.2.3.4"));
}

static void
test_allows_fails_closed(void **state)
{
	struct td_cidr c;
	struct td_addr a = addr("127.0.0.2");

	(void)state;
	assert_int_equal(parse("127.0.0.2/32", &c), 0);
	assert_true(td_cidr_allows(NULL, 0, NULL));	/* unbound: anywhere, even unknown */
	assert_true(td_cidr_allows(&c, 0, &a));
	assert_false(td_cidr_allows(&c, 1, NULL));	/* bound, address unknown: never */
	assert_true(td_cidr_allows(&c, 1, &a));
}

static void
test_addresses(void **state)
{
	struct td_addr a;

	(void)state;
	assert_int_equal(td_addr_parse("1.2.3.4", 7, &a), 4);
	assert_int_equal(td_addr_parse("::1", 3, &a), 6);
	assert_int_equal(td_addr_parse("::ffff:1.2.3.4", 14, &a), 6);
	assert_int_equal(td_addr_parse("01.2.3.4", 8, &a), -1);
	assert_int_equal(td_addr_parse("1.2.3.4/32", 10, &a), -1);	/* an address, not a range */
	assert_int_equal(td_addr_parse("fe80::1%lo", 10, &a), -1);
	assert_int_equal(td_addr_parse("", 0, &a), -1);
	assert_int_equal(td_addr_parse("1.2.3.4 ", 8, &a), -1);
}

static struct td_cidr_list
list(const char *s)
{
	struct td_cidr_list l;
	const char *why = NULL;

	assert_int_equal(td_cidr_list_parse(s, strlen(s), &l, &why), 0);
	return l;
}

static void
test_within(void **state)
{
	struct td_cidr_list maker = list("10.0.0.0/8, 2001:db8::/32"), none = list("");

	(void)state;
	assert_true(td_cidr_list_within(&maker, &none));	/* an unbound maker bounds nothing */
	assert_true(td_cidr_list_within(&none, &none));
	assert_false(td_cidr_list_within(&none, &maker));	/* unbound is wider than any range */
	assert_true(td_cidr_list_within(&(struct td_cidr_list){ 0 }, &none));
	{
		struct td_cidr_list in = list("10.1.0.0/16,10.2.3.4,2001:db8:1::/48");

		assert_true(td_cidr_list_within(&in, &maker));
	}
	{
		struct td_cidr_list in = list("10.1.0.0/16,11.0.0.0/8");

		assert_false(td_cidr_list_within(&in, &maker));	/* one outside is enough */
	}
	{
		struct td_cidr_list in = list("0.0.0.0/0");

		assert_false(td_cidr_list_within(&in, &maker));	/* wider than the maker's */
	}
	{
		struct td_cidr_list in = list("10.0.0.0/8");

		assert_true(td_cidr_list_within(&in, &maker));	/* equal is within */
	}
}

static void
test_list_forms(void **state)
{
	struct td_cidr_list l;
	const char *why = NULL;
	char out[TD_CIDRS_MAX * (TD_CIDR_TEXT_MAX + 1)], many[TD_CIDRS_MAX * 16 + 16];
	size_t i, n = 0;

	(void)state;
	l = list(" 10.0.0.0/8 ,\t::1 ");
	assert_int_equal(l.n, 2);
	assert_int_equal(td_cidr_list_format(&l, out, sizeof(out)), 18);
	assert_string_equal(out, "10.0.0.0/8,::1/128");
	assert_int_equal(td_cidr_list_format(&l, out, 18), -1);	/* no room for the NUL */
	l = list("");
	assert_int_equal(l.n, 0);
	assert_int_equal(td_cidr_list_format(&l, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_not_equal(td_cidr_list_parse("10.0.0.0/8,", 11, &l, &why), 0);
	assert_int_not_equal(td_cidr_list_parse(",10.0.0.0/8", 11, &l, &why), 0);
	assert_int_not_equal(td_cidr_list_parse("10.0.0.0/8,,::1", 15, &l, &why), 0);
	/* 64 ranges fit, 65 do not */
	for (i = 0; i < TD_CIDRS_MAX; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "%s10.0.%zu.0/24", i ? "," : "", i);
	assert_int_equal(td_cidr_list_parse(many, n, &l, &why), 0);
	assert_int_equal(l.n, TD_CIDRS_MAX);
	assert_true(td_cidr_list_format(&l, out, sizeof(out)) > 0);
	n += (size_t)snprintf(many + n, sizeof(many) - n, ",10.1.0.0/24");
	assert_int_not_equal(td_cidr_list_parse(many, n, &l, &why), 0);
}

/* The client td_client_address settles on, as text ("-" when unknown). */
static const char *
client(const char *trusted, const char *peer, const char *xff)
{
	static char out[TD_CIDR_TEXT_MAX + 1];
	struct td_cidr_list t = list(trusted);
	struct td_cidr c;
	struct td_addr a;

	if (td_client_address(&t, peer, xff, &a) != 0)
		return "-";
	memcpy(c.net, a.b, 16);
	c.bits = 128;
	c.v4 = 0;
	td_cidr_format(&c, out, sizeof(out));
	return out;
}

static void
test_client_address(void **state)
{
	(void)state;
	/* no trusted proxies: the peer, whatever X-Forwarded-For says */
	assert_string_equal(client("", "127.0.0.3", "127.0.0.2"), "::ffff:127.0.0.3/128");
	/* an untrusted peer's X-Forwarded-For is ignored (a spoof) */
	assert_string_equal(client("10.0.0.0/8", "127.0.0.3", "127.0.0.2"), "::ffff:127.0.0.3/128");
	/* a trusted peer: the rightmost address that is not a trusted proxy */
	assert_string_equal(client("10.0.0.0/8", "10.0.0.1", "127.0.0.2"), "::ffff:127.0.0.2/128");
	assert_string_equal(client("10.0.0.0/8", "10.0.0.1", "6.6.6.6, 127.0.0.2, 10.0.0.7"),
			    "::ffff:127.0.0.2/128");
	assert_string_equal(client("10.0.0.0/8", "10.0.0.1", "127.0.0.2,6.6.6.6"),
			    "::ffff:6.6.6.6/128");
	/* every hop trusted: the leftmost */
	assert_string_equal(client("10.0.0.0/8", "10.0.0.1", "10.0.0.9, 10.0.0.8"),
			    "::ffff:10.0.0.9/128");
	/* a trusted peer that forwards nothing is the client */
	assert_string_equal(client("10.0.0.0/8", "10.0.0.1", NULL), "::ffff:10.0.0.1/128");
	assert_string_equal(client("10.0.0.0/8", "10.0.0.1", ""), "::ffff:10.0.0.1/128");
	assert_string_equal(client("::/0", "::1", "2001:db8::5"), "2001:db8::5/128");
	/* malformed: unknown, not guessed (a bound credential is refused) */
	assert_string_equal(client("10.0.0.0/8", "10.0.0.1", "127.0.0.2,"), "-");
	assert_string_equal(client("10.0.0.0/8", "10.0.0.1", "nonsense, 10.0.0.2"), "-");
	assert_string_equal(client("10.0.0.0/8", "10.0.0.1", "1.2.3.4:5678"), "-");
	assert_string_equal(client("10.0.0.0/8", "10.0.0.1", "[::1]"), "-");
	assert_string_equal(client("10.0.0.0/8", "10.0.0.1", " , "), "-");
	/* but only what is read: left of the client, anything may stand */
	assert_string_equal(client("10.0.0.0/8", "10.0.0.1", "garbage, 127.0.0.2"),
			    "::ffff:127.0.0.2/128");
	/* no peer or an unreadable one: unknown */
	assert_string_equal(client("", NULL, NULL), "-");
	assert_string_equal(client("", "unix:", NULL), "-");
	assert_string_equal(client("", "", NULL), "-");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted_spellings_print_back),
		cmocka_unit_test(test_refused_spellings),
		cmocka_unit_test(test_prefix_bounds),
		cmocka_unit_test(test_matching),
		cmocka_unit_test(test_allows_fails_closed),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_within),
		cmocka_unit_test(test_list_forms),
		cmocka_unit_test(test_client_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
