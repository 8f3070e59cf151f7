/* The record codec (src/store/codec.c): the Redis hash layout of spaces,
 * tokens, PATs and roles, byte for byte, without Redis. One rule, one test: every
 * field survives a round trip, defaults are left out by name, records as
 * older tokends wrote them still read, malformed values are refused, and
 * credential references have one spelling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tokend/core/cred_ref.h"
#include "tokend/core/pat.h"
#include "tokend/core/role.h"
#include "tokend/core/space.h"
#include "tokend/core/token.h"
#include "../../src/store/codec.h"

static struct codec_out out;
static struct td_token t, t2;
static struct td_pat p, p2;
static struct td_space sp, sp2;
static struct td_role ro, ro2;

static const unsigned char secret[TD_SECRET_BYTES] = {
	0x00, 0x2c, 0xff, 0x10, 0x7f, 0x80, 0x01, 0x02,
	0x0a, 0x0d, 0x20, 0x3a, 0xde, 0xad, 0xbe, 0xef,
};
#define SECRET_HEX "002cff107f8001020a0d203adeadbeef"

/* A C string as a codec string. */
static struct codec_str
S(const char *s)
{
	struct codec_str v = { s, strlen(s) };

	return v;
}

/* The field names of out->set, space-separated, in order. */
static const char *
set_names(void)
{
	static char names[256];
	int i;

	names[0] = '\0';
	for (i = 0; i < out.nset; i += 2) {
		strncat(names, out.set[i].s, out.set[i].len);
		if (i + 2 < out.nset)
			strcat(names, " ");
	}
	return names;
}

static const char *
del_names(void)
{
	static char names[256];
	int i;

	names[0] = '\0';
	for (i = 0; i < out.ndel; i++) {
		strcat(names, out.del[i]);
		if (i + 1 < out.ndel)
			strcat(names, " ");
	}
	return names;
}

/* The value encode gave field name, or NULL. */
static const struct codec_str *
value_of(const char *name)
{
	int i;

	for (i = 0; i < out.nset; i += 2)
		if (out.set[i].len == strlen(name) && memcmp(out.set[i].s, name, out.set[i].len) == 0)
			return &out.set[i + 1];
	return NULL;
}

static void
assert_value(const char *name, const char *want)
{
	const struct codec_str *v = value_of(name);

	assert_non_null(v);
	assert_int_equal(v->len, strlen(want));
	assert_memory_equal(v->s, want, v->len);
}

static void
bind_to(struct td_cidr_list *l, const char *ranges)
{
	const char *why;

	assert_int_equal(td_cidr_list_parse(ranges, strlen(ranges), l, &why), 0);
}

static void
token_every_field(struct td_token *x)
{
	memset(x, 0, sizeof(*x));
	td_token_defaults(x);
	x->space_id = 12;
	x->id = 34;
	x->has_name = 1;
	strcpy(x->name, "Deploy \xc3\xa9, with a comma");
	strcpy(x->description, "what it is for");
	strcpy(x->icon, "rocket");
	x->access = TD_ACCESS_PRIVATE;
	x->branch_id = 7;
	x->story_ids.ids[0] = 1, x->story_ids.ids[1] = 2, x->story_ids.ids[2] = 3;
	x->story_ids.n = 3;
	x->release_ids.ids[0] = INT64_MAX, x->release_ids.ids[1] = 5;
	x->release_ids.n = 2;
	x->has_min_cache = 1;
	x->min_cache = 0;		/* its own 0, not the space's */
	x->status = TD_STATUS_DISABLED;
	x->expires_at = 1900000000;
	x->rights = TD_RIGHT_CDA | TD_RIGHT_CMA;	/* not private's default */
	x->role_id = 3;
	x->hardcoded = TD_HARDCODED_READONLY;
	x->modules[0] = 11, x->modules[1] = 12;
	x->nmodules = 2;
	x->kid = UINT32_MAX;
	x->signed_kind = TD_KIND_IDT;	/* not private's kind */
	memcpy(x->secret, secret, sizeof(secret));
	x->created_at_ms = 1000;
	x->updated_at_ms = 2000;
	strcpy(x->created_by, "pat:1");
	strcpy(x->updated_by, "token:9");
	x->enabled_at_ms = 3000;
	strcpy(x->enabled_by, "pat:2");
	x->disabled_at_ms = 4000;
	strcpy(x->disabled_by, "pat:3");
	strcpy(x->minted_by, "t:12:5");
	x->revision = 41;
	x->prev_expires_at_ms = 1900000000123;
	x->prev_kid = 7;
	x->prev_kind = TD_KIND_PRIVATE;	/* 0 (public) is left out, and read back as 0 */
	memset(x->prev_secret, 0xab, sizeof(x->prev_secret));
	x->max_uses = 10;
	x->remaining_uses = 4;	/* Redis's: read, never written back */
	bind_to(&x->allowed_cidrs, "10.0.0.0/8,2001:db8::/32,127.0.0.2");
}

static void
test_token_every_field_round_trips(void **state)
{
	const char *bad = NULL;

	(void)state;
	token_every_field(&t);
	assert_int_equal(codec_encode(CODEC_TOKEN, &t, &out, &bad), 0);
	/* every field written, under its name of old, in table order */
	assert_string_equal(set_names(), "n d i a b st rl mc s x r ro ht k sk sc ca ua cb ub "
					 "md ea eb da db mb rv pe pk pn ps mu ac");
	assert_int_equal(out.ndel, 0);
	assert_value("ac", "10.0.0.0/8,2001:db8::/32,127.0.0.2/32");
	assert_value("a", "private");
	assert_value("st", "1,2,3");
	assert_value("rl", "9223372036854775807,5");
	assert_value("mc", "0");
	assert_value("s", "d");
	assert_value("r", "5");
	assert_value("k", "4294967295");
	assert_value("sk", "6");
	assert_value("md", "11,12");
	assert_value("mb", "t:12:5");
	assert_int_equal(value_of("sc")->len, TD_SECRET_BYTES);	/* raw, not hex */
	assert_memory_equal(value_of("sc")->s, secret, TD_SECRET_BYTES);

	memset(&t2, 0, sizeof(t2));
	assert_int_equal(codec_decode(CODEC_TOKEN, &t2, out.set, (size_t)out.nset, &bad), 0);
	t2.space_id = t.space_id;	/* ids are the key's, not the hash's */
	t2.id = t.id;
	/* the use counter is never written by a put: Redis keeps its own */
	assert_int_equal(t2.remaining_uses, 0);
	t2.remaining_uses = t.remaining_uses;
	assert_memory_equal(&t2, &t, sizeof(t));
	/* and it is read back when Redis has it */
	out.set[out.nset].s = "ru";
	out.set[out.nset].len = 2;
	out.set[out.nset + 1].s = "4";
	out.set[out.nset + 1].len = 1;
	assert_int_equal(codec_decode(CODEC_TOKEN, &t2, out.set, (size_t)out.nset + 2, &bad), 0);
	assert_int_equal(t2.remaining_uses, 4);
}

static void
test_token_deleted_status_round_trips(void **state)
{
	(void)state;
	token_every_field(&t);
	t.status = TD_STATUS_DELETED;
	assert_int_equal(codec_encode(CODEC_TOKEN, &t, &out, NULL), 0);
	assert_value("s", "D");
	assert_int_equal(codec_decode(CODEC_TOKEN, &t2, out.set, (size_t)out.nset, NULL), 0);
	assert_int_equal(t2.status, TD_STATUS_DELETED);
}

static void
token_default(struct td_token *x)
{
	td_token_defaults(x);
	x->access = TD_ACCESS_PUBLIC;
	x->rights = TD_RIGHT_CDA;
	x->signed_kind = td_access_token_kind(TD_ACCESS_PUBLIC);
	x->kid = 1;
	memcpy(x->secret, secret, sizeof(secret));
	x->created_at_ms = x->updated_at_ms = 1000;
	strcpy(x->created_by, "");
	strcpy(x->updated_by, "");
}

static void
test_token_defaults_are_left_out(void **state)
{
	(void)state;
	token_default(&t);
	assert_int_equal(codec_encode(CODEC_TOKEN, &t, &out, NULL), 0);
	assert_string_equal(set_names(), "a k sc ca");
	assert_string_equal(del_names(), "n d i b st rl mc s x r ro ht sk ua cb ub md ea eb "
					 "da db mb rv pe pk pn ps mu ac");
	assert_value("a", "public");
	assert_value("k", "1");
	assert_value("ca", "1000");

	/* ub equal to cb is left out too, and reads back as cb */
	strcpy(t.created_by, "pat:4");
	strcpy(t.updated_by, "pat:4");
	assert_int_equal(codec_encode(CODEC_TOKEN, &t, &out, NULL), 0);
	assert_string_equal(set_names(), "a k sc ca cb");
	assert_int_equal(codec_decode(CODEC_TOKEN, &t2, out.set, (size_t)out.nset, NULL), 0);
	assert_string_equal(t2.updated_by, "pat:4");
	assert_int_equal(t2.updated_at_ms, 1000);
	assert_int_equal(t2.rights, TD_RIGHT_CDA);
	assert_int_equal(t2.signed_kind, td_access_token_kind(TD_ACCESS_PUBLIC));
	assert_false(t2.has_name);
	assert_false(t2.has_min_cache);
	assert_int_equal(t2.status, TD_STATUS_ACTIVE);
}

/* A record as an older tokend wrote it: hex secret, no r, sk, ua, ub. */
static void
test_legacy_record_reads(void **state)
{
	struct codec_str kv[] = {
		S("n"), S("old"), S("a"), S("private"), S("k"), S("3"), S("sc"), S(SECRET_HEX),
		S("ca"), S("5"), S("cb"), S("pat:1"), S("s"), S("d"), S("st"), S("5,6"),
	};

	(void)state;
	assert_int_equal(codec_decode(CODEC_TOKEN, &t, kv, 16, NULL), 0);
	assert_memory_equal(t.secret, secret, TD_SECRET_BYTES);
	assert_true(t.has_name);
	assert_string_equal(t.name, "old");
	assert_int_equal(t.access, TD_ACCESS_PRIVATE);
	assert_int_equal(t.rights, TD_RIGHT_CDA | TD_RIGHT_CDA_PREVIEW);
	assert_int_equal(t.signed_kind, td_access_token_kind(TD_ACCESS_PRIVATE));
	assert_int_equal(t.updated_at_ms, 5);
	assert_string_equal(t.updated_by, "pat:1");
	assert_int_equal(t.status, TD_STATUS_DISABLED);
	assert_int_equal(t.story_ids.n, 2);
	assert_int_equal(t.story_ids.ids[1], 6);
	assert_int_equal(t.kid, 3);
	assert_string_equal(t.minted_by, "");
	assert_int_equal(t.allowed_cidrs.n, 0);	/* before address binding: anywhere */

	kv[7] = S("002CFF107F8001020A0D203ADEADBEEF");	/* hex of either case */
	kv[12] = S("ub"), kv[13] = S("");		/* an empty updater is the creator */
	assert_int_equal(codec_decode(CODEC_TOKEN, &t, kv, 16, NULL), 0);
	assert_memory_equal(t.secret, secret, TD_SECRET_BYTES);
	assert_string_equal(t.updated_by, "pat:1");
	assert_int_equal(t.status, TD_STATUS_ACTIVE);
}

static const char many_modules[] =
	"1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33";

static const char many_ranges[] =
	"1.0.0.0/8,2.0.0.0/8,3.0.0.0/8,4.0.0.0/8,5.0.0.0/8,6.0.0.0/8,7.0.0.0/8,8.0.0.0/8,"
	"9.0.0.0/8,10.0.0.0/8,11.0.0.0/8,12.0.0.0/8,13.0.0.0/8,14.0.0.0/8,15.0.0.0/8,"
	"16.0.0.0/8,17.0.0.0/8,18.0.0.0/8,19.0.0.0/8,20.0.0.0/8,21.0.0.0/8,22.0.0.0/8,"
	"23.0.0.0/8,24.0.0.0/8,25.0.0.0/8,26.0.0.0/8,27.0.0.0/8,28.0.0.0/8,29.0.0.0/8,"
	"30.0.0.0/8,31.0.0.0/8,32.0.0.0/8,33.0.0.0/8,34.0.0.0/8,35.0.0.0/8,36.0.0.0/8,"
	"37.0.0.0/8,38.0.0.0/8,39.0.0.0/8,40.0.0.0/8,41.0.0.0/8,42.0.0.0/8,43.0.0.0/8,"
	"44.0.0.0/8,45.0.0.0/8,46.0.0.0/8,47.0.0.0/8,48.0.0.0/8,49.0.0.0/8,50.0.0.0/8,"
	"51.0.0.0/8,52.0.0.0/8,53.0.0.0/8,54.0.0.0/8,55.0.0.0/8,56.0.0.0/8,57.0.0.0/8,"
	"58.0.0.0/8,59.0.0.0/8,60.0.0.0/8,61.0.0.0/8,62.0.0.0/8,63.0.0.0/8,64.0.0.0/8,"
	"65.0.0.0/8";

static const struct {
	const char *field, *value;
} malformed[] = {
	{ "mc", "31536001" },		/* above TD_MIN_CACHE_MAX */
	{ "mc", "-1" },
	{ "mc", "" },
	{ "mc", "1e3" },
	{ "st", "1,,2" },
	{ "st", "1,x" },
	{ "st", "0" },
	{ "st", "1,2," },
	{ "st", ",1" },
	{ "rl", "9223372036854775808" },
	{ "md", many_modules },		/* more than TD_TOKEN_MODULES_MAX */
	{ "sc", "0123456789abcde" },	/* 15 bytes */
	{ "sc", "0123456789abcdef0" },	/* 17 */
	{ "sc", "zz2cff107f8001020a0d203adeadbeef" },
	{ "sc", SECRET_HEX "00" },
	{ "a", "secret" },		/* no such access */
	{ "a", "Public" },
	{ "b", "0" },
	{ "ro", "-3" },
	{ "k", "4294967296" },
	{ "r", "8" },
	{ "sk", "7" },
	{ "ht", "2" },
	{ "x", "-1" },
	{ "ca", "12 " },
	{ "mb", "p:01" },
	{ "mb", "q:1" },
	{ "mb", "t:1" },
	{ "mb", "t:0:1" },
	/* ranges are read as strictly as a request's */
	{ "ac", "10.0.0.1/8" },
	{ "ac", "010.0.0.0/8" },
	{ "ac", "10.0.0.0/8," },
	{ "ac", "10.0.0.0/33" },
	{ "ac", "fe80::1%lo" },
	{ "ac", "x" },
	{ "ac", many_ranges },		/* more than TD_CIDRS_MAX */
};

static void
test_malformed_values_are_refused(void **state)
{
	struct codec_str kv[6];
	const char *bad;
	size_t i;

	(void)state;
	kv[0] = S("a"), kv[1] = S("public");
	kv[2] = S("sc"), kv[3] = S(SECRET_HEX);
	for (i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		size_t n = 4;

		if (strcmp(malformed[i].field, "a") == 0) {
			kv[1] = S(malformed[i].value);
		} else if (strcmp(malformed[i].field, "sc") == 0) {
			kv[3] = S(malformed[i].value);
		} else {
			kv[4] = S(malformed[i].field);
			kv[5] = S(malformed[i].value);
			n = 6;
		}
		bad = NULL;
		if (codec_decode(CODEC_TOKEN, &t, kv, n, &bad) != -1)
			fail_msg("%s=%s was accepted", malformed[i].field, malformed[i].value);
		assert_non_null(bad);
		assert_string_equal(bad, malformed[i].field);
		kv[1] = S("public");
		kv[3] = S(SECRET_HEX);
	}
	/* what a token cannot be without */
	assert_int_equal(codec_decode(CODEC_TOKEN, &t, kv + 2, 2, &bad), -1);
	assert_string_equal(bad, "a");
	assert_int_equal(codec_decode(CODEC_TOKEN, &t, kv, 2, &bad), -1);
	assert_string_equal(bad, "sc");
	assert_int_equal(codec_decode(CODEC_TOKEN, &t, kv, 3, &bad), -1);	/* odd */
	assert_int_equal(codec_decode(CODEC_TOKEN, &t, kv, 4, &bad), 0);
}

static void
test_unknown_fields_are_ignored(void **state)
{
	struct codec_str kv[] = {
		S("zz"), S("from a newer tokend"), S("a"), S("asset"), S("N"), S("upper"),
		S("abc"), S("three letters"), S(""), S("empty"), S("sc"), S(SECRET_HEX),
		S("q"), S("1,,x"),
	};

	(void)state;
	assert_int_equal(codec_decode(CODEC_TOKEN, &t, kv, 14, NULL), 0);
	assert_int_equal(t.access, TD_ACCESS_ASSET);
	assert_false(t.has_name);
}

static void
test_encode_refuses_what_decode_would(void **state)
{
	const char *bad;

	(void)state;
	token_default(&t);
	t.has_min_cache = 1;
	t.min_cache = TD_MIN_CACHE_MAX + 1;
	assert_int_equal(codec_encode(CODEC_TOKEN, &t, &out, &bad), -1);
	assert_string_equal(bad, "mc");

	token_default(&t);
	t.access = TD_ACCESS__MAX;	/* unset: never written as "public" */
	assert_int_equal(codec_encode(CODEC_TOKEN, &t, &out, &bad), -1);
	assert_string_equal(bad, "a");

	token_default(&t);
	strcpy(t.minted_by, "p:1; DEL x");
	assert_int_equal(codec_encode(CODEC_TOKEN, &t, &out, &bad), -1);
	assert_string_equal(bad, "mb");

	token_default(&t);
	t.story_ids.ids[0] = 0;
	t.story_ids.n = 1;
	assert_int_equal(codec_encode(CODEC_TOKEN, &t, &out, &bad), -1);
	assert_string_equal(bad, "st");

	token_default(&t);
	t.allowed_cidrs.n = TD_CIDRS_MAX + 1;
	assert_int_equal(codec_encode(CODEC_TOKEN, &t, &out, &bad), -1);
	assert_string_equal(bad, "ac");
}

/* The most ranges, each at its longest spelling, fit the encode buffer and
 * count towards the record's bytes. */
static void
test_every_range_fits(void **state)
{
	char text[TD_CIDRS_MAX * (TD_CIDR_TEXT_MAX + 1)];
	size_t n = 0, before;
	int i;

	(void)state;
	token_every_field(&t);
	assert_int_equal(codec_encode(CODEC_TOKEN, &t, &out, NULL), 0);
	before = out.used;
	for (i = 0; i < TD_CIDRS_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s1234:5678:9abc:def0:1234:"
				      "ffff:255.255.255.%d/128", i ? "," : "", 190 + i);
	bind_to(&t.allowed_cidrs, text);
	assert_int_equal(codec_encode(CODEC_TOKEN, &t, &out, NULL), 0);
	assert_true(out.used > before);
	assert_int_equal(codec_decode(CODEC_TOKEN, &t2, out.set, (size_t)out.nset, NULL), 0);
	assert_int_equal(t2.allowed_cidrs.n, TD_CIDRS_MAX);
	assert_memory_equal(&t2.allowed_cidrs, &t.allowed_cidrs, sizeof(t.allowed_cidrs));
}

static void
test_space_round_trips(void **state)
{
	(void)state;
	memset(&sp, 0, sizeof(sp));
	sp.id = 99;
	strcpy(sp.name, "Space");
	sp.min_cache = 60;
	sp.rate_limit = 100;
	sp.created_at_ms = 1;
	sp.updated_at_ms = 2;
	strcpy(sp.created_by, "pat:1");
	sp.revision = 3;
	sp.write_rate = 50;
	sp.tokens_max = 500;
	sp.record_bytes_max = 4096;
	assert_int_equal(codec_encode(CODEC_SPACE, &sp, &out, NULL), 0);
	assert_string_equal(set_names(), "n mc ca ua rl cb rv lw lt lb");
	memset(&sp2, 0, sizeof(sp2));
	assert_int_equal(codec_decode(CODEC_SPACE, &sp2, out.set, (size_t)out.nset, NULL), 0);
	sp2.id = sp.id;
	assert_memory_equal(&sp2, &sp, sizeof(sp));

	/* all but the creator written, zeros included */
	memset(&sp, 0, sizeof(sp));
	assert_int_equal(codec_encode(CODEC_SPACE, &sp, &out, NULL), 0);
	assert_string_equal(set_names(), "n mc ca ua rl");
	assert_string_equal(del_names(), "cb rv lw lt lb");
	assert_value("rl", "0");
}

static void
pat_full(struct td_pat *x)
{
	size_t i;

	memset(x, 0, sizeof(*x));
	x->id = 8;
	strcpy(x->name, "ci");
	x->spaces[0] = 12, x->spaces[1] = 13;
	x->nspaces = 2;
	x->scopes = TD_SCOPE_ALL;
	x->full = 1;
	x->expires_at = 1900000000;
	x->kid = 2;
	for (i = 0; i < TD_PAT_HASH_BYTES; i++)
		x->hash[i] = (unsigned char)(i * 7);
	x->created_at_ms = 5;
	strcpy(x->created_by, "pat:1");
	strcpy(x->minted_by, "p:1");
	bind_to(&x->allowed_cidrs, "::1,192.168.0.0/16");
}

static void
test_pat_round_trips(void **state)
{
	(void)state;
	pat_full(&p);
	assert_int_equal(codec_encode(CODEC_PAT, &p, &out, NULL), 0);
	assert_string_equal(set_names(), "n sp sc f x k h ca cb mb ac");
	assert_value("sp", "12,13");
	assert_value("ac", "::1/128,192.168.0.0/16");
	assert_value("f", "1");
	assert_value("mb", "p:1");
	assert_int_equal(value_of("h")->len, 2 * TD_PAT_HASH_BYTES);	/* hex */
	memset(&p2, 0, sizeof(p2));
	assert_int_equal(codec_decode(CODEC_PAT, &p2, out.set, (size_t)out.nset, NULL), 0);
	p2.id = p.id;
	assert_memory_equal(&p2, &p, sizeof(p));

	/* every space: the word "all" */
	p.all_spaces = 1;
	p.nspaces = 0;
	memset(p.spaces, 0, sizeof(p.spaces));
	assert_int_equal(codec_encode(CODEC_PAT, &p, &out, NULL), 0);
	assert_value("sp", "all");
	assert_int_equal(codec_decode(CODEC_PAT, &p2, out.set, (size_t)out.nset, NULL), 0);
	p2.id = p.id;
	assert_memory_equal(&p2, &p, sizeof(p));
}

static void
test_pat_defaults_are_left_out(void **state)
{
	(void)state;
	pat_full(&p);
	p.full = 0;
	p.nspaces = 0;
	p.expires_at = 0;
	p.created_by[0] = '\0';
	p.minted_by[0] = '\0';
	p.allowed_cidrs.n = 0;
	assert_int_equal(codec_encode(CODEC_PAT, &p, &out, NULL), 0);
	assert_string_equal(set_names(), "n sp sc f k h ca");
	assert_string_equal(del_names(), "x cb mb ac");
	assert_value("sp", "");
	assert_value("f", "0");
	assert_int_equal(codec_decode(CODEC_PAT, &p2, out.set, (size_t)out.nset, NULL), 0);
	assert_string_equal(p2.minted_by, "");
	assert_false(p2.all_spaces);
	assert_int_equal(p2.nspaces, 0);
}

static void
test_role_round_trips(void **state)
{
	(void)state;
	memset(&ro, 0, sizeof(ro));
	memset(&ro2, 0, sizeof(ro2));
	ro.id = 3;
	ro.space_id = 5;
	strcpy(ro.name, "Editor");
	ro.perms = TD_RP_MANAGE_ACCESS_TOKENS | TD_RP_EDIT_SITE;
	ro.env_access = TD_ENV_PRIMARY_ONLY;
	ro.inherits[0] = 2, ro.inherits[1] = 4;
	ro.ninherits = 2;
	ro.created_at_ms = 10;
	ro.updated_at_ms = 11;
	strcpy(ro.created_by, "pat:1");
	strcpy(ro.updated_by, "token:9");
	ro.revision = 4;
	strcpy(ro.lists[TD_RL_POSITIVE_ITEM_TYPE], "[{\"action\":\"all\",\"environment\":\"main\"}]");
	strcpy(ro.lists[TD_RL_NEGATIVE_SEARCH_INDEX], "[{\"search_index\":null}]");
	assert_int_equal(codec_encode(CODEC_ROLE, &ro, &out, NULL), 0);
	assert_string_equal(set_names(), "n p e ih pi ns ca ua cb ub rv");
	assert_string_equal(del_names(), "ni pu nu pb nb ps");
	assert_value("ih", "2,4");
	assert_value("e", "1");
	assert_int_equal(codec_decode(CODEC_ROLE, &ro2, out.set, (size_t)out.nset, NULL), 0);
	ro2.id = ro.id;
	ro2.space_id = ro.space_id;
	assert_memory_equal(&ro2, &ro, sizeof(ro));

	/* a role with nothing: no flags, no environment, no lists */
	memset(&ro, 0, sizeof(ro));
	strcpy(ro.name, "Nobody");
	assert_int_equal(codec_encode(CODEC_ROLE, &ro, &out, NULL), 0);
	assert_string_equal(set_names(), "n e ca");
	assert_value("e", "0");
	/* flags or environments out of their range are never written */
	ro.perms = TD_RP_ALL + 1;
	assert_int_equal(codec_encode(CODEC_ROLE, &ro, &out, NULL), -1);
	ro.perms = 0;
	ro.env_access = TD_ENV_ALL + 1;
	assert_int_equal(codec_encode(CODEC_ROLE, &ro, &out, NULL), -1);
}

static void
test_credential_refs_have_one_spelling(void **state)
{
	static const char *const good[] = { "p:1", "t:1:2", "t:9223372036854775807:1",
					     "p:9223372036854775807" };
	static const char *const bad[] = { "", "p:", "p:0", "p:01", "p:-1", "p:+1", "x:1", "t:1",
					   "t:1:", "t::1", "t:1:2:3", "p:1 ", " p:1",
					   "p:9223372036854775808", "P:1", "p1", "t:1:0" };
	struct td_cred_ref r;
	char buf[TD_CRED_REF_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(td_cred_ref_parse(good[i], strlen(good[i]), &r), 0);
	assert_int_equal(td_cred_ref_parse("t:12:34", 7, &r), 0);
	assert_int_equal(r.kind, 't');
	assert_int_equal(r.space_id, 12);
	assert_int_equal(r.id, 34);
	assert_int_equal(td_cred_ref_parse("p:7", 3, &r), 0);
	assert_int_equal(r.kind, 'p');
	assert_int_equal(r.space_id, 0);
	assert_int_equal(r.id, 7);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (td_cred_ref_parse(bad[i], strlen(bad[i]), &r) != -1)
			fail_msg("\"%s\" was accepted", bad[i]);
	assert_int_equal(td_cred_ref_parse("p:1\0", 4, &r), -1);	/* an embedded NUL */
	/* what the core writes is what the store reads back */
	td_cred_ref_token(INT64_MAX, 3, buf);
	assert_string_equal(buf, "t:9223372036854775807:3");
	assert_int_equal(td_cred_ref_parse(buf, strlen(buf), &r), 0);
	assert_true(r.kind == 't' && r.space_id == INT64_MAX && r.id == 3);
	td_cred_ref_pat(42, buf);
	assert_string_equal(buf, "p:42");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_every_field_round_trips),
		cmocka_unit_test(test_token_deleted_status_round_trips),
		cmocka_unit_test(test_token_defaults_are_left_out),
		cmocka_unit_test(test_legacy_record_reads),
		cmocka_unit_test(test_malformed_values_are_refused),
		cmocka_unit_test(test_unknown_fields_are_ignored),
		cmocka_unit_test(test_encode_refuses_what_decode_would),
		cmocka_unit_test(test_every_range_fits),
		cmocka_unit_test(test_space_round_trips),
		cmocka_unit_test(test_pat_round_trips),
		cmocka_unit_test(test_pat_defaults_are_left_out),
		cmocka_unit_test(test_credential_refs_have_one_spelling),
		cmocka_unit_test(test_role_round_trips),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
