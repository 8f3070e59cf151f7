/*
 * Spaces, tokens and PATs to Redis hash fields and back, from one table per
 * record type (the field names, kinds and default rules are all here, as
 * config_keys is for the configuration). Field names are one or two
 * lowercase letters: at a million tokens every byte of a field name is a
 * megabyte, and a name is looked up by its letters, not compared with
 * every entry (a 10,000-token list looks up every field of every record).
 *
 * It must never change an encoding (records written years ago are read by
 * it, and an older tokend reads what it writes: see the layout at the top
 * of records.c), decide anything about a record beyond its bytes, or write
 * a value it would refuse to read.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "tokend/core/cidr.h"
#include "tokend/core/cred_ref.h"
#include "tokend/core/pat.h"
#include "tokend/core/role.h"
#include "tokend/core/space.h"
#include "tokend/core/token.h"
#include "tokend/server/parse.h"
#include "codec.h"

enum kind {
	K_TEXT,		/* char[size]; longer input is cut to fit, as it always was */
	K_REF,		/* char[size] holding a credential reference, checked both ways */
	K_NUM,		/* a 4- or 8-byte integer (int, unsigned, enum) in [min, max] */
	K_IDS,		/* int64_t[max] at off, its int count at `count`: "1,2,3" */
	K_ACCESS,	/* enum td_access by its name */
	K_STATUS,	/* enum td_status: "D" deleted, anything else disabled */
	K_BOOL,		/* int: "1" or "0"; anything but "1" reads as 0 */
	K_RAW,		/* bytes[size] written raw; read raw, or hex as written once */
	K_HEX,		/* bytes[size] as lowercase hex */
	K_CIDRS,	/* struct td_cidr_list: "10.0.0.0/8,::1/128", each range in
			   its one spelling (core/cidr.h), read back as strictly */
};

/* How a field is left out when it holds its default, and read back when
 * absent. A field left out of an encode is on its delete list. */
#define OMIT_EMPTY	0x01u	/* 0, "", no ids */
#define OMIT_UNSET	0x02u	/* the int at `flag` is 0; reading the field sets it */
#define OMIT_SAME	0x04u	/* equal to the field at `same`; absent (or empty
				   text) reads as that field's value */
#define OMIT_IMPLIED	0x08u	/* what implied() derives from the record */
#define REQUIRED	0x10u	/* a hash without it is malformed */
#define ALL_WORD	0x20u	/* K_IDS: "all" sets the int at `flag` */
#define STORE_OWNED	0x40u	/* read, never written back: Redis alone changes it
				   (a use counter a script counts down) */

struct field {
	const char *name;		/* one or two lowercase letters */
	enum kind kind;
	size_t off, size;		/* of the value in the record */
	long long min, max;		/* K_NUM bounds; K_IDS most entries */
	unsigned rules;			/* OMIT_*, REQUIRED, ALL_WORD */
	size_t count;			/* K_IDS: offset of the int count */
	size_t flag;			/* OMIT_UNSET, ALL_WORD: offset of the int flag */
	size_t same;			/* OMIT_SAME: offset of the other field,
					   of the same kind and size */
	int64_t (*implied)(const void *rec);	/* OMIT_IMPLIED */
};

#define AT(type, f) .off = offsetof(struct type, f), .size = sizeof(((struct type *)0)->f)
#define BOUNDS(lo, hi) .min = (lo), .max = (hi)
#define OFFSET(type, f) offsetof(struct type, f)

/* enums, int and unsigned are read and written as 4 bytes */
_Static_assert(sizeof(enum td_access) == 4 && sizeof(enum td_status) == 4 &&
	       sizeof(enum td_hardcoded) == 4 && sizeof(enum td_token_kind) == 4 &&
	       sizeof(int) == 4 && sizeof(unsigned) == 4, "4-byte enums and ints");

/* A token's delivery rights when nothing else was said: what its access gives. */
static int64_t
implied_rights(const void *rec)
{
	const struct td_token *t = rec;

	return TD_RIGHT_CDA | (t->access == TD_ACCESS_PRIVATE ? TD_RIGHT_CDA_PREVIEW : 0);
}

/* The kind its string was signed as, when it is the access's own. */
static int64_t
implied_kind(const void *rec)
{
	const struct td_token *t = rec;

	return td_access_token_kind(t->access);
}

/* Fields at their default are left out: a million tokens, ~50 MB. */
static const struct field token_fields[] = {
	{ "n",  K_TEXT,   AT(td_token, name), .rules = OMIT_UNSET,
	  .flag = OFFSET(td_token, has_name) },
	{ "d",  K_TEXT,   AT(td_token, description), .rules = OMIT_EMPTY },
	{ "i",  K_TEXT,   AT(td_token, icon), .rules = OMIT_EMPTY },
	{ "a",  K_ACCESS, AT(td_token, access), .rules = REQUIRED },
	{ "b",  K_NUM,    AT(td_token, branch_id), BOUNDS(1, INT64_MAX), .rules = OMIT_EMPTY },
	{ "st", K_IDS,    AT(td_token, story_ids.ids), BOUNDS(0, TD_IDS_MAX),
	  .rules = OMIT_EMPTY, .count = OFFSET(td_token, story_ids.n) },
	{ "rl", K_IDS,    AT(td_token, release_ids.ids), BOUNDS(0, TD_IDS_MAX),
	  .rules = OMIT_EMPTY, .count = OFFSET(td_token, release_ids.n) },
	{ "mc", K_NUM,    AT(td_token, min_cache), BOUNDS(0, TD_MIN_CACHE_MAX),
	  .rules = OMIT_UNSET, .flag = OFFSET(td_token, has_min_cache) },
	{ "s",  K_STATUS, AT(td_token, status), .rules = OMIT_EMPTY },
	{ "x",  K_NUM,    AT(td_token, expires_at), BOUNDS(0, INT64_MAX), .rules = OMIT_EMPTY },
	{ "r",  K_NUM,    AT(td_token, rights),
	  BOUNDS(0, TD_RIGHT_CDA | TD_RIGHT_CDA_PREVIEW | TD_RIGHT_CMA),
	  .rules = OMIT_IMPLIED, .implied = implied_rights },
	{ "ro", K_NUM,    AT(td_token, role_id), BOUNDS(1, INT64_MAX), .rules = OMIT_EMPTY },
	{ "ht", K_NUM,    AT(td_token, hardcoded), BOUNDS(0, TD_HARDCODED__MAX - 1),
	  .rules = OMIT_EMPTY },
	{ "k",  K_NUM,    AT(td_token, kid), BOUNDS(0, UINT32_MAX) },
	{ "sk", K_NUM,    AT(td_token, signed_kind), BOUNDS(0, TD_KIND__MAX - 1),
	  .rules = OMIT_IMPLIED, .implied = implied_kind },
	{ "sc", K_RAW,    AT(td_token, secret), .rules = REQUIRED },
	{ "ca", K_NUM,    AT(td_token, created_at_ms), BOUNDS(0, INT64_MAX) },
	{ "ua", K_NUM,    AT(td_token, updated_at_ms), BOUNDS(0, INT64_MAX),
	  .rules = OMIT_SAME, .same = OFFSET(td_token, created_at_ms) },
	{ "cb", K_TEXT,   AT(td_token, created_by), .rules = OMIT_EMPTY },
	{ "ub", K_TEXT,   AT(td_token, updated_by), .rules = OMIT_EMPTY | OMIT_SAME,
	  .same = OFFSET(td_token, created_by) },
	{ "md", K_IDS,    AT(td_token, modules), BOUNDS(0, TD_TOKEN_MODULES_MAX),
	  .rules = OMIT_EMPTY, .count = OFFSET(td_token, nmodules) },
	{ "ea", K_NUM,    AT(td_token, enabled_at_ms), BOUNDS(0, INT64_MAX), .rules = OMIT_EMPTY },
	{ "eb", K_TEXT,   AT(td_token, enabled_by), .rules = OMIT_EMPTY },
	{ "da", K_NUM,    AT(td_token, disabled_at_ms), BOUNDS(0, INT64_MAX), .rules = OMIT_EMPTY },
	{ "db", K_TEXT,   AT(td_token, disabled_by), .rules = OMIT_EMPTY },
	{ "mb", K_REF,    AT(td_token, minted_by), .rules = OMIT_EMPTY },
	{ "rv", K_NUM,    AT(td_token, revision), BOUNDS(0, INT64_MAX), .rules = OMIT_EMPTY },
	/* the value a regenerate with a grace window replaced, until it ends */
	{ "pe", K_NUM,    AT(td_token, prev_expires_at_ms), BOUNDS(0, INT64_MAX), .rules = OMIT_EMPTY },
	{ "pk", K_NUM,    AT(td_token, prev_kid), BOUNDS(0, UINT32_MAX), .rules = OMIT_EMPTY },
	{ "pn", K_NUM,    AT(td_token, prev_kind), BOUNDS(0, TD_KIND__MAX - 1), .rules = OMIT_EMPTY },
	{ "ps", K_RAW,    AT(td_token, prev_secret), .rules = OMIT_EMPTY },
	/* a use limit: "ru" counts down in Redis (verify's take-use script),
	 * reset to "mu" whenever a write changes "mu" (scripts.h) */
	{ "mu", K_NUM,    AT(td_token, max_uses), BOUNDS(0, TD_MAX_USES_LIMIT), .rules = OMIT_EMPTY },
	{ "ru", K_NUM,    AT(td_token, remaining_uses), BOUNDS(0, TD_MAX_USES_LIMIT),
	  .rules = OMIT_EMPTY | STORE_OWNED },
	{ "lu", K_NUM,    AT(td_token, last_used_ms), BOUNDS(0, INT64_MAX),
	  .rules = OMIT_EMPTY | STORE_OWNED },
	/* where it may be used from; absent (every record before it): anywhere */
	{ "ac", K_CIDRS,  AT(td_token, allowed_cidrs), .rules = OMIT_EMPTY },
};

/* Every field is written (as it always was), but for the creator. */
static const struct field space_fields[] = {
	{ "n",  K_TEXT, AT(td_space, name) },
	{ "mc", K_NUM,  AT(td_space, min_cache), BOUNDS(0, TD_MIN_CACHE_MAX) },
	{ "ca", K_NUM,  AT(td_space, created_at_ms), BOUNDS(0, INT64_MAX) },
	{ "ua", K_NUM,  AT(td_space, updated_at_ms), BOUNDS(0, INT64_MAX) },
	{ "rl", K_NUM,  AT(td_space, rate_limit), BOUNDS(0, TD_RATE_LIMIT_MAX) },
	{ "cb", K_TEXT, AT(td_space, created_by), .rules = OMIT_EMPTY },
	{ "rv", K_NUM,  AT(td_space, revision), BOUNDS(0, INT64_MAX), .rules = OMIT_EMPTY },
	{ "lw", K_NUM,  AT(td_space, write_rate), BOUNDS(0, TD_RATE_LIMIT_MAX), .rules = OMIT_EMPTY },
	{ "lt", K_NUM,  AT(td_space, tokens_max), BOUNDS(0, TD_SPACE_TOKENS_LIMIT), .rules = OMIT_EMPTY },
	{ "lb", K_NUM,  AT(td_space, record_bytes_max), BOUNDS(0, TD_RECORD_BYTES_LIMIT),
	  .rules = OMIT_EMPTY },
};

static const struct field pat_fields[] = {
	{ "n",  K_TEXT, AT(td_pat, name) },
	{ "sp", K_IDS,  AT(td_pat, spaces), BOUNDS(0, TD_PAT_SPACES_MAX), .rules = ALL_WORD,
	  .count = OFFSET(td_pat, nspaces), .flag = OFFSET(td_pat, all_spaces) },
	{ "sc", K_NUM,  AT(td_pat, scopes), BOUNDS(0, TD_SCOPE_ALL) },
	{ "f",  K_BOOL, AT(td_pat, full) },
	{ "x",  K_NUM,  AT(td_pat, expires_at), BOUNDS(0, INT64_MAX), .rules = OMIT_EMPTY },
	{ "k",  K_NUM,  AT(td_pat, kid), BOUNDS(0, UINT32_MAX) },
	{ "h",  K_HEX,  AT(td_pat, hash) },
	{ "ca", K_NUM,  AT(td_pat, created_at_ms), BOUNDS(0, INT64_MAX) },
	{ "cb", K_TEXT, AT(td_pat, created_by), .rules = OMIT_EMPTY },
	{ "mb", K_REF,  AT(td_pat, minted_by), .rules = OMIT_EMPTY },
	{ "lu", K_NUM,  AT(td_pat, last_used_ms), BOUNDS(0, INT64_MAX), .rules = OMIT_EMPTY | STORE_OWNED },
	{ "ac", K_CIDRS, AT(td_pat, allowed_cidrs), .rules = OMIT_EMPTY },
};

/* A space's own role. The lists are compact JSON, each under its own
 * field, left out when empty. */
static const struct field role_fields[] = {
	{ "n",  K_TEXT, AT(td_role, name) },
	{ "p",  K_NUM,  AT(td_role, perms), BOUNDS(0, TD_RP_ALL), .rules = OMIT_EMPTY },
	{ "e",  K_NUM,  AT(td_role, env_access), BOUNDS(TD_ENV_NONE, TD_ENV_ALL) },
	{ "ih", K_IDS,  AT(td_role, inherits), BOUNDS(0, TD_ROLE_INHERITS_MAX),
	  .rules = OMIT_EMPTY, .count = OFFSET(td_role, ninherits) },
	{ "pi", K_TEXT, AT(td_role, lists[TD_RL_POSITIVE_ITEM_TYPE]), .rules = OMIT_EMPTY },
	{ "ni", K_TEXT, AT(td_role, lists[TD_RL_NEGATIVE_ITEM_TYPE]), .rules = OMIT_EMPTY },
	{ "pu", K_TEXT, AT(td_role, lists[TD_RL_POSITIVE_UPLOAD]), .rules = OMIT_EMPTY },
	{ "nu", K_TEXT, AT(td_role, lists[TD_RL_NEGATIVE_UPLOAD]), .rules = OMIT_EMPTY },
	{ "pb", K_TEXT, AT(td_role, lists[TD_RL_POSITIVE_BUILD_TRIGGER]), .rules = OMIT_EMPTY },
	{ "nb", K_TEXT, AT(td_role, lists[TD_RL_NEGATIVE_BUILD_TRIGGER]), .rules = OMIT_EMPTY },
	{ "ps", K_TEXT, AT(td_role, lists[TD_RL_POSITIVE_SEARCH_INDEX]), .rules = OMIT_EMPTY },
	{ "ns", K_TEXT, AT(td_role, lists[TD_RL_NEGATIVE_SEARCH_INDEX]), .rules = OMIT_EMPTY },
	{ "ca", K_NUM,  AT(td_role, created_at_ms), BOUNDS(0, INT64_MAX) },
	{ "ua", K_NUM,  AT(td_role, updated_at_ms), BOUNDS(0, INT64_MAX),
	  .rules = OMIT_SAME, .same = OFFSET(td_role, created_at_ms) },
	{ "cb", K_TEXT, AT(td_role, created_by), .rules = OMIT_EMPTY },
	{ "ub", K_TEXT, AT(td_role, updated_by), .rules = OMIT_EMPTY | OMIT_SAME,
	  .same = OFFSET(td_role, created_by) },
	{ "rv", K_NUM,  AT(td_role, revision), BOUNDS(0, INT64_MAX), .rules = OMIT_EMPTY },
};

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))
_Static_assert(NFIELDS(token_fields) <= CODEC_FIELDS_MAX, "token fields fit the mask");
_Static_assert(NFIELDS(space_fields) <= CODEC_FIELDS_MAX, "space fields fit the mask");
_Static_assert(NFIELDS(pat_fields) <= CODEC_FIELDS_MAX, "PAT fields fit the mask");
_Static_assert(NFIELDS(role_fields) <= CODEC_FIELDS_MAX, "role fields fit the mask");

static void
token_init(void *rec)
{
	td_token_defaults(rec);	/* empties the big buffers without clearing them */
}

static void
role_init(void *rec)
{
	td_role_defaults(rec);	/* the lists are large: emptied, not cleared */
}

static const struct record_type {
	const struct field *fields;
	size_t nfields;
	size_t size;			/* zeroed before a decode, unless init */
	void (*init)(void *rec);
} types[CODEC__MAX] = {
	[CODEC_SPACE] = { space_fields, NFIELDS(space_fields), sizeof(struct td_space), NULL },
	[CODEC_TOKEN] = { token_fields, NFIELDS(token_fields), 0, token_init },
	[CODEC_PAT] = { pat_fields, NFIELDS(pat_fields), sizeof(struct td_pat), NULL },
	[CODEC_ROLE] = { role_fields, NFIELDS(role_fields), 0, role_init },
};

/* --- a field by its letters --- */

#define SLOTS (26 * 27)	/* first letter, then none or a second letter */

static int
slot_of(const char *s, size_t len)
{
	if (len < 1 || len > 2 || s[0] < 'a' || s[0] > 'z')
		return -1;
	if (len == 1)
		return (s[0] - 'a') * 27;
	if (s[1] < 'a' || s[1] > 'z')
		return -1;
	return (s[0] - 'a') * 27 + (s[1] - 'a') + 1;
}

/* slot -> index + 1 in the type's table, 0 for no such field. Built on
 * first use from the tables above (a worker is one thread), so a field
 * added to a table needs nothing here. */
static unsigned char slots[CODEC__MAX][SLOTS];
static int slots_ready[CODEC__MAX];

static const struct field *
field_find(enum codec_record type, const char *s, size_t len)
{
	const struct record_type *rt = &types[type];
	int slot;
	size_t i;

	if (!slots_ready[type]) {
		for (i = 0; i < rt->nfields; i++)
			if ((slot = slot_of(rt->fields[i].name, strlen(rt->fields[i].name))) >= 0)
				slots[type][slot] = (unsigned char)(i + 1);
		slots_ready[type] = 1;
	}
	if ((slot = slot_of(s, len)) < 0 || slots[type][slot] == 0)
		return NULL;
	return &rt->fields[slots[type][slot] - 1];
}

/* --- values in the record --- */

static int64_t
num_at(const void *rec, size_t off, size_t size, int is_signed)
{
	const char *p = (const char *)rec + off;
	int64_t v64;
	int32_t v32;
	uint32_t u32;

	if (size == sizeof(int64_t)) {
		memcpy(&v64, p, sizeof(v64));
		return v64;
	}
	if (is_signed) {
		memcpy(&v32, p, sizeof(v32));
		return v32;
	}
	memcpy(&u32, p, sizeof(u32));
	return u32;
}

static int64_t
num_get(const struct field *f, const void *rec)
{
	return num_at(rec, f->off, f->kind == K_NUM ? f->size : sizeof(int), f->min < 0);
}

static void
num_put(void *rec, size_t off, size_t size, int64_t v)
{
	char *p = (char *)rec + off;
	int32_t v32 = (int32_t)v;

	if (size == sizeof(int64_t))
		memcpy(p, &v, sizeof(v));
	else
		memcpy(p, &v32, sizeof(v32));
}

static int
int_at(const void *rec, size_t off)
{
	return (int)num_at(rec, off, sizeof(int), 1);
}

static const char *
text_at(const struct field *f, const void *rec)
{
	return (const char *)rec + f->off;
}

static const struct td_cidr_list *
cidrs_at(const struct field *f, const void *rec)
{
	return (const struct td_cidr_list *)(const void *)((const char *)rec + f->off);
}

static int
is_empty(const struct field *f, const void *rec)
{
	switch (f->kind) {
	case K_TEXT:
	case K_REF:
		return text_at(f, rec)[0] == '\0';
	case K_IDS:
		return int_at(rec, f->count) == 0 &&
		       !((f->rules & ALL_WORD) && int_at(rec, f->flag));
	case K_NUM:
	case K_STATUS:
	case K_BOOL:
	case K_ACCESS:
		return num_get(f, rec) == 0;
	case K_CIDRS:
		return cidrs_at(f, rec)->n == 0;
	case K_RAW:
	case K_HEX: {
		const unsigned char *b = (const unsigned char *)text_at(f, rec);
		size_t i;

		for (i = 0; i < f->size; i++)
			if (b[i] != 0)
				return 0;
		return 1;	/* all zero: no value (a previous secret not kept) */
	}
	}
	return 0;
}

static int
is_same(const struct field *f, const void *rec)
{
	if (f->kind == K_TEXT)
		return strncmp(text_at(f, rec), (const char *)rec + f->same, f->size) == 0;
	return num_get(f, rec) == num_at(rec, f->same, f->size, f->min < 0);
}

/* A field holding its default: left out of the hash. */
static int
omitted(const struct field *f, const void *rec)
{
	return ((f->rules & OMIT_EMPTY) && is_empty(f, rec)) ||
	       ((f->rules & OMIT_UNSET) && !int_at(rec, f->flag)) ||
	       ((f->rules & OMIT_SAME) && is_same(f, rec)) ||
	       ((f->rules & OMIT_IMPLIED) && num_get(f, rec) == f->implied(rec));
}

/* --- encode --- */

/* Room for len more bytes of out->buf, or NULL. */
static char *
room(struct codec_out *out, size_t len)
{
	char *p = out->buf + out->used;

	if (len > sizeof(out->buf) - out->used)
		return NULL;
	out->used += len;
	return p;
}

static int
put_num(struct codec_out *out, struct codec_str *v, int64_t n)
{
	char tmp[CODEC_NUM_CHARS + 1];
	int len = snprintf(tmp, sizeof(tmp), "%" PRId64, n);
	char *p;

	if (len < 0 || (p = room(out, (size_t)len)) == NULL)
		return -1;
	memcpy(p, tmp, (size_t)len);
	v->s = p;
	v->len = (size_t)len;
	return 0;
}

static int
put_ids(const struct field *f, const void *rec, struct codec_out *out, struct codec_str *v)
{
	const int64_t *ids = (const int64_t *)(const void *)((const char *)rec + f->off);
	int i, n = int_at(rec, f->count);
	size_t start = out->used;
	struct codec_str one;
	char *comma;

	if ((f->rules & ALL_WORD) && int_at(rec, f->flag)) {
		v->s = "all";
		v->len = 3;
		return 0;
	}
	if (n < 0 || n > f->max)
		return -1;
	for (i = 0; i < n; i++) {
		if (ids[i] < 1)
			return -1;
		if (i > 0) {
			if ((comma = room(out, 1)) == NULL)
				return -1;
			*comma = ',';
		}
		if (put_num(out, &one, ids[i]) != 0)
			return -1;
	}
	v->s = out->buf + start;
	v->len = out->used - start;
	return 0;
}

static int
put_hex(const struct field *f, const void *rec, struct codec_out *out, struct codec_str *v)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *b = (const unsigned char *)rec + f->off;
	char *p = room(out, 2 * f->size);
	size_t i;

	if (p == NULL)
		return -1;
	for (i = 0; i < f->size; i++) {
		p[2 * i] = digits[b[i] >> 4];
		p[2 * i + 1] = digits[b[i] & 0xf];
	}
	v->s = p;
	v->len = 2 * f->size;
	return 0;
}

/* A list of ranges, each as its one spelling. */
static int
put_cidrs(const struct field *f, const void *rec, struct codec_out *out, struct codec_str *v)
{
	const struct td_cidr_list *l = cidrs_at(f, rec);
	size_t left = sizeof(out->buf) - out->used;
	int len;

	if (l->n < 0 || l->n > TD_CIDRS_MAX ||
	    (len = td_cidr_list_format(l, out->buf + out->used, left)) < 0)
		return -1;
	v->s = room(out, (size_t)len);	/* the text is there already */
	v->len = (size_t)len;
	return 0;
}

/* The value of a field that is written, checked against what decode takes. */
static int
encode_value(const struct field *f, const void *rec, struct codec_out *out, struct codec_str *v)
{
	struct td_cred_ref ref;
	int64_t n;

	switch (f->kind) {
	case K_TEXT:
		v->s = text_at(f, rec);
		v->len = strnlen(v->s, f->size);
		return v->len < f->size ? 0 : -1;
	case K_REF:
		v->s = text_at(f, rec);
		v->len = strnlen(v->s, f->size);
		return td_cred_ref_parse(v->s, v->len, &ref);
	case K_NUM:
		n = num_get(f, rec);
		return n < f->min || n > f->max ? -1 : put_num(out, v, n);
	case K_IDS:
		return put_ids(f, rec, out, v);
	case K_ACCESS:
		n = num_get(f, rec);
		if (n < 0 || n >= TD_ACCESS__MAX)
			return -1;
		v->s = td_access_name((enum td_access)n);
		v->len = strlen(v->s);
		return 0;
	case K_STATUS:
		n = num_get(f, rec);
		if (n < 0 || n >= TD_STATUS__MAX)
			return -1;
		v->s = n == TD_STATUS_DELETED ? "D" : "d";
		v->len = 1;
		return 0;
	case K_BOOL:
		v->s = num_get(f, rec) ? "1" : "0";
		v->len = 1;
		return 0;
	case K_RAW:
		v->s = text_at(f, rec);	/* raw, not hex: half the bytes */
		v->len = f->size;
		return 0;
	case K_HEX:
		return put_hex(f, rec, out, v);
	case K_CIDRS:
		return put_cidrs(f, rec, out, v);
	}
	return -1;
}

int
codec_encode(enum codec_record type, const void *rec, struct codec_out *out, const char **bad)
{
	const struct record_type *rt;
	const struct field *f;
	size_t i;

	out->nset = 0;
	out->ndel = 0;
	out->used = 0;
	if (bad != NULL)
		*bad = "";
	if ((unsigned)type >= CODEC__MAX)
		return -1;
	rt = &types[type];
	for (i = 0; i < rt->nfields; i++) {
		f = &rt->fields[i];
		if (f->rules & STORE_OWNED)
			continue;	/* neither set nor deleted by a write */
		if (omitted(f, rec)) {
			out->del[out->ndel++] = f->name;
			continue;
		}
		out->set[out->nset].s = f->name;
		out->set[out->nset].len = strlen(f->name);
		if (encode_value(f, rec, out, &out->set[out->nset + 1]) != 0) {
			if (bad != NULL)
				*bad = f->name;
			return -1;
		}
		out->nset += 2;
	}
	return 0;
}

/* --- decode --- */

static int
get_num(const struct codec_str *v, long long min, long long max, int64_t *out)
{
	long long n;

	if (td_parse_int64(v->s, v->len, min, max, &n) != 0)
		return -1;
	*out = n;
	return 0;
}

/* "1,2,3" into the record, at most f->max ids, each 1..INT64_MAX; "" is none. */
static int
get_ids(const struct field *f, void *rec, const struct codec_str *v)
{
	int64_t *ids = (int64_t *)(void *)((char *)rec + f->off);
	const char *p = v->s, *end = v->s + v->len, *comma;
	struct codec_str one;
	int n = 0;

	if ((f->rules & ALL_WORD) && v->len == 3 && memcmp(v->s, "all", 3) == 0) {
		num_put(rec, f->flag, sizeof(int), 1);
		num_put(rec, f->count, sizeof(int), 0);
		return 0;
	}
	while (p < end) {
		if ((comma = memchr(p, ',', (size_t)(end - p))) == NULL)
			comma = end;
		one.s = p;
		one.len = (size_t)(comma - p);
		if (n == f->max || get_num(&one, 1, INT64_MAX, &ids[n]) != 0)
			return -1;
		n++;
		if (comma + 1 == end)
			return -1;	/* a trailing comma: never written */
		p = comma + 1;
	}
	num_put(rec, f->count, sizeof(int), n);
	return 0;
}

static int
get_hex(unsigned char *out, size_t n, const struct codec_str *v)
{
	size_t i;
	int hi, lo;

	if (v->len != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		hi = td_hex_digit(v->s[2 * i]);
		lo = td_hex_digit(v->s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static int
get_access(const struct codec_str *v, int64_t *out)
{
	const char *name;
	int i;

	for (i = 0; i < TD_ACCESS__MAX; i++) {
		name = td_access_name((enum td_access)i);
		if (strlen(name) == v->len && memcmp(name, v->s, v->len) == 0) {
			*out = i;
			return 0;
		}
	}
	return -1;
}

static int
decode_value(const struct field *f, void *rec, const struct codec_str *v)
{
	char *text = (char *)rec + f->off;
	struct td_cred_ref ref;
	const char *why;
	int64_t n = 0;
	size_t len;

	switch (f->kind) {
	case K_TEXT:
		len = v->len < f->size - 1 ? v->len : f->size - 1;
		memcpy(text, v->s, len);
		text[len] = '\0';
		return 0;
	case K_REF:
		/* cut, a reference would name another credential: refuse instead */
		if (v->len >= f->size || (v->len > 0 && td_cred_ref_parse(v->s, v->len, &ref) != 0))
			return -1;
		memcpy(text, v->s, v->len);
		text[v->len] = '\0';
		return 0;
	case K_NUM:
		if (get_num(v, f->min, f->max, &n) != 0)
			return -1;
		break;
	case K_IDS:
		return get_ids(f, rec, v);
	case K_ACCESS:
		if (get_access(v, &n) != 0)
			return -1;
		break;
	case K_STATUS:
		n = v->len == 1 && v->s[0] == 'D' ? TD_STATUS_DELETED : TD_STATUS_DISABLED;
		break;
	case K_BOOL:
		n = v->len == 1 && v->s[0] == '1';
		break;
	case K_RAW:
		if (v->len != f->size)	/* else hex, as records were written once */
			return get_hex((unsigned char *)text, f->size, v);
		memcpy(text, v->s, f->size);
		return 0;
	case K_HEX:
		return get_hex((unsigned char *)text, f->size, v);
	case K_CIDRS:
		return td_cidr_list_parse(v->s, v->len, (struct td_cidr_list *)(void *)text, &why);
	}
	num_put(rec, f->off, f->kind == K_NUM ? f->size : sizeof(int), n);
	return 0;
}

/* After every field is read: what encode left out, back to its value. */
static int
restore_defaults(const struct record_type *rt, void *rec, uint64_t seen, const char **bad)
{
	const struct field *f;
	size_t i;

	for (i = 0; i < rt->nfields; i++) {
		f = &rt->fields[i];
		if (!(seen & (UINT64_C(1) << i)) && (f->rules & REQUIRED)) {
			*bad = f->name;
			return -1;
		}
		if ((f->rules & OMIT_SAME) &&
		    (!(seen & (UINT64_C(1) << i)) || (f->kind == K_TEXT && is_empty(f, rec))))
			memcpy((char *)rec + f->off, (const char *)rec + f->same, f->size);
		else if ((f->rules & OMIT_IMPLIED) && !(seen & (UINT64_C(1) << i)))
			num_put(rec, f->off, f->size, f->implied(rec));
	}
	return 0;
}

int
codec_decode(enum codec_record type, void *rec, const struct codec_str *kv, size_t n,
	     const char **bad)
{
	const struct record_type *rt;
	const struct field *f;
	const char *why = "";
	uint64_t seen = 0;
	size_t i;
	int rc = -1;

	if ((unsigned)type >= CODEC__MAX)
		goto done;
	rt = &types[type];
	if (rt->init != NULL)
		rt->init(rec);
	else
		memset(rec, 0, rt->size);
	if (n % 2 != 0)
		goto done;
	for (i = 0; i < n; i += 2) {
		if ((f = field_find(type, kv[i].s, kv[i].len)) == NULL)
			continue;	/* a field a newer tokend wrote */
		if (decode_value(f, rec, &kv[i + 1]) != 0) {
			why = f->name;
			goto done;
		}
		if (f->rules & OMIT_UNSET)
			num_put(rec, f->flag, sizeof(int), 1);
		seen |= UINT64_C(1) << (f - rt->fields);
	}
	rc = restore_defaults(rt, rec, seen, &why);
done:
	if (rc != 0 && bad != NULL)
		*bad = why;
	return rc;
}
