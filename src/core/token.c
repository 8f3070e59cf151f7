/*
 * Validation speaks Rails' words ("can't be blank", "is not included in the
 * list") because the Storyblok clients show them as "field: message"; the
 * other dialects carry the same message in their own error shapes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "tokend/core/core.h"
#include "tokend/core/module.h"
#include "tokend/core/role.h"
#include "tokend/core/token.h"

static const char *const access_names[TD_ACCESS__MAX] = {
	[TD_ACCESS_PUBLIC] = "public",
	[TD_ACCESS_PRIVATE] = "private",
	[TD_ACCESS_ASSET] = "asset",
	[TD_ACCESS_RELEASE] = "release",
	[TD_ACCESS_THEME] = "theme",
};

static const enum td_token_kind access_kinds[TD_ACCESS__MAX] = {
	[TD_ACCESS_PUBLIC] = TD_KIND_PUBLIC,
	[TD_ACCESS_PRIVATE] = TD_KIND_PRIVATE,
	[TD_ACCESS_ASSET] = TD_KIND_ASSET,
	[TD_ACCESS_RELEASE] = TD_KIND_RELEASE,
	[TD_ACCESS_THEME] = TD_KIND_THEME,
};

static const char *const status_names[TD_STATUS__MAX] = {
	[TD_STATUS_ACTIVE] = "active",
	[TD_STATUS_DISABLED] = "disabled",
	[TD_STATUS_DELETED] = "deleted",
};

const char *
td_access_name(enum td_access a)
{
	return a >= 0 && a < TD_ACCESS__MAX ? access_names[a] : "public";
}

int
td_access_parse(const char *s, enum td_access *out)
{
	int i;

	for (i = 0; i < TD_ACCESS__MAX; i++)
		if (strcmp(s, access_names[i]) == 0) {
			*out = (enum td_access)i;
			return 0;
		}
	return -1;
}

const char *
td_status_name(enum td_status s)
{
	return s >= 0 && s < TD_STATUS__MAX ? status_names[s] : "active";
}

enum td_token_kind
td_access_token_kind(enum td_access a)
{
	return a >= 0 && a < TD_ACCESS__MAX ? access_kinds[a] : TD_KIND_PUBLIC;
}

int64_t
td_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
td_format_time_ms(int64_t ms, char *out, size_t size)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

void
td_token_set_access(struct td_token *t, enum td_access a)
{
	t->access = a;
	t->rights = (t->rights & TD_RIGHT_CMA) | TD_RIGHT_CDA |
		    (a == TD_ACCESS_PRIVATE ? TD_RIGHT_CDA_PREVIEW : 0);
}

void
td_token_set_delivery(struct td_token *t, int cda, int cda_preview)
{
	t->rights = (t->rights & TD_RIGHT_CMA) | (cda ? TD_RIGHT_CDA : 0) |
		    (cda_preview ? TD_RIGHT_CDA_PREVIEW : 0);
	if (cda_preview)
		t->access = TD_ACCESS_PRIVATE;
	else if (t->access == TD_ACCESS_PRIVATE || t->access == TD_ACCESS__MAX)
		t->access = TD_ACCESS_PUBLIC;
}

const char *
td_hardcoded_name(enum td_hardcoded h)
{
	return h == TD_HARDCODED_READONLY ? "readonly" : NULL;
}

void
td_token_defaults(struct td_token *t)
{
	memset(t, 0, offsetof(struct td_token, name));
	t->name[0] = t->description[0] = t->icon[0] = '\0';
	t->story_ids.n = t->release_ids.n = 0;
	t->allowed_cidrs.n = 0;
	t->access = TD_ACCESS__MAX;	/* unset: create requires it */
	t->status = TD_STATUS_ACTIVE;
}

int
td_token_effective_min_cache(const struct td_token *t, int space_min_cache)
{
	return t->has_min_cache ? t->min_cache : space_min_cache;
}

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing past
 * U+10FFFF. json-c lets all three through, and a body labelled
 * charset=utf-8 must not carry them back out. *chars gets the count. */
int
td_utf8_valid(const unsigned char *s, size_t len, size_t *chars)
{
	size_t i = 0, n = 0, k, need;
	uint32_t cp, min;

	while (i < len) {
		unsigned char b = s[i];

		if (b < 0x80) {
			i++, n++;
			continue;
		}
		if (b >= 0xc2 && b <= 0xdf)
			need = 1, cp = b & 0x1f, min = 0x80;
		else if (b >= 0xe0 && b <= 0xef)
			need = 2, cp = b & 0x0f, min = 0x800;
		else if (b >= 0xf0 && b <= 0xf4)
			need = 3, cp = b & 0x07, min = 0x10000;
		else
			return -1;
		for (k = 1; k <= need; k++) {
			if (i + k >= len || (s[i + k] & 0xc0) != 0x80)
				return -1;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return -1;
		i += need + 1, n++;
	}
	*chars = n;
	return 0;
}

int
td_text_check(const struct td_text *v, size_t max_chars, const char **msg)
{
	size_t i, chars;

	if (v->s == NULL)
		return 0;
	/* C0, DEL, and C1 (U+0080..U+009F, 0xC2 0x80..0x9F in UTF-8) */
	for (i = 0; i < v->len; i++)
		if ((unsigned char)v->s[i] < 0x20 || v->s[i] == 0x7f ||
		    ((unsigned char)v->s[i] == 0xc2 && i + 1 < v->len &&
		     (unsigned char)v->s[i + 1] >= 0x80 && (unsigned char)v->s[i + 1] <= 0x9f)) {
			*msg = "must not contain control characters";
			return -1;
		}
	if (td_utf8_valid((const unsigned char *)v->s, v->len, &chars) != 0) {
		*msg = "is not valid UTF-8";
		return -1;
	}
	if (chars > max_chars || v->len >= TD_TEXT_BYTES(max_chars)) {
		*msg = "is too long";
		return -1;
	}
	return 0;
}

void
td_text_copy(const struct td_text *v, char *out, size_t size)
{
	size_t n = v->s == NULL ? 0 : v->len < size - 1 ? v->len : size - 1;

	if (n > 0)
		memcpy(out, v->s, n);
	out[n] = '\0';
}

static int
digits(const char *s, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Exactly "YYYY-MM-DDTHH:MM:SS[.d{1,9}]Z", a day the month has, 1970..3000:
 * no padding, no spaces, no 30 February quietly becoming 2 March. */
int
td_time_parse(const struct td_text *v, int64_t *out, const char **msg)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	const char *s = v->s;
	int y, mo, d, h, mi, se;
	size_t i = 19;
	struct tm tm;
	time_t t;

	*msg = "must be a time like 2030-01-31T12:00:00Z";
	if (s == NULL) {
		*out = 0;
		return 0;
	}
	if (v->len < 20 || v->len > 30 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':' || digits(s, 4, &y) || digits(s + 5, 2, &mo) ||
	    digits(s + 8, 2, &d) || digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) ||
	    digits(s + 17, 2, &se))
		return -1;
	if (s[i] == '.') {
		for (i++; i < v->len && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == 20 || i > 29)
			return -1;
	}
	if (i != v->len - 1 || s[i] != 'Z')
		return -1;
	if (y < 1970 || y > 3000 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) ||
	    h > 23 || mi > 59 || se > 60)	/* 60: a leap second */
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d;
	tm.tm_hour = h, tm.tm_min = mi, tm.tm_sec = se;
	t = timegm(&tm);
	if (t <= 0)
		return -1;
	*out = (int64_t)t;
	return 0;
}

#define FAIL(code_, f, m) do { err->code = (code_); err->field = (f); err->message = (m); \
			       return -1; } while (0)

static int
ids_apply(const struct td_change_ids *in, struct td_id_list *out)
{
	size_t i;

	if (in->n > TD_IDS_MAX)
		return -1;
	for (i = 0; i < in->n; i++)
		if (in->ids[i] < 1 || in->ids[i] > TD_ID_MAX)
			return -1;
	memcpy(out->ids, in->ids, in->n * sizeof(int64_t));
	out->n = (int)in->n;
	return 0;
}

int
td_cidrs_apply(const struct td_change_cidrs *in, struct td_cidr_list *out, const char **msg)
{
	size_t i;

	if (in->n > TD_CIDRS_MAX) {
		*msg = "is too long (maximum is 64 ranges)";
		return -1;
	}
	for (i = 0; i < in->n; i++)
		if (td_cidr_parse(in->items[i].s, in->items[i].len, &out->r[i], msg) != 0)
			return -1;	/* a null item too: td_cidr_parse refuses it */
	out->n = (int)in->n;
	return 0;
}

void
td_token_change_init(struct td_token_change *ch, enum td_token_shape shape)
{
	memset(ch, 0, offsetof(struct td_token_change, story_ids));
	ch->story_ids.n = ch->release_ids.n = 0;
	ch->allowed_cidrs.n = 0;
	ch->shape = shape;
}

/* What a create in each shape must name. */
static int
require(const struct td_token_change *ch, struct td_core_error *err)
{
	static const struct {
		unsigned bit;
		const char *field;
	} needs[] = {
		{ TD_TF_NAME, "name" }, { TD_TF_CDA, "can_access_cda" },
		{ TD_TF_CDA_PREVIEW, "can_access_cda_preview" }, { TD_TF_CMA, "can_access_cma" },
	};
	size_t i;

	switch (ch->shape) {
	case TD_SHAPE_API_KEY:
		if (!(ch->set & TD_TF_ACCESS))
			FAIL(TD_ERR_MISSING, "access", "can't be blank");
		break;
	case TD_SHAPE_ACCESS_TOKEN:
		for (i = 0; i < sizeof(needs) / sizeof(needs[0]); i++)
			if (!(ch->set & needs[i].bit))
				FAIL(TD_ERR_MISSING, needs[i].field, "is required");
		if (!(ch->set & TD_TF_ROLE))
			FAIL(TD_ERR_INVALID, "role", "a role is required");
		break;
	case TD_SHAPE_API_TOKEN:
		if (!(ch->set & TD_TF_NAME))
			FAIL(TD_ERR_MISSING, "name", "can't be blank");
		break;
	}
	return 0;
}

int
td_token_apply_change(struct td_token *t, const struct td_token_change *ch, int creating,
		      struct td_core_error *err)
{
	const char *msg = NULL;
	enum td_access a;
	size_t i;

	if (creating && require(ch, err) != 0)
		return -1;
	if (ch->set & TD_TF_ACCESS) {
		if (ch->access.s == NULL)
			FAIL(TD_ERR_INVALID, "access", "can't be blank");
		if (ch->access.len > 16 || memchr(ch->access.s, '\0', ch->access.len) != NULL ||
		    td_access_parse(ch->access.s, &a) != 0)
			FAIL(TD_ERR_INVALID, "access", "is not included in the list");
		td_token_set_access(t, a);
	}
	if (ch->set & TD_TF_NAME) {
		if (td_text_check(&ch->name, TD_NAME_MAX, &msg) != 0)
			FAIL(TD_ERR_INVALID, "name", msg);
		/* a Storyblok api_key may be nameless; the other shapes list
		 * tokens by name */
		if (ch->shape != TD_SHAPE_API_KEY && (ch->name.s == NULL || ch->name.len == 0))
			FAIL(TD_ERR_INVALID, "name", "can't be blank");
		td_text_copy(&ch->name, t->name, sizeof(t->name));
		t->has_name = ch->name.s != NULL;
	}
	if (ch->set & TD_TF_DESCRIPTION) {
		if (td_text_check(&ch->description, TD_DESCRIPTION_MAX, &msg) != 0)
			FAIL(TD_ERR_INVALID, "description", msg);
		td_text_copy(&ch->description, t->description, sizeof(t->description));
	}
	if (ch->set & TD_TF_ICON) {
		if (td_text_check(&ch->icon, TD_ICON_MAX, &msg) != 0)
			FAIL(TD_ERR_INVALID, "icon", msg);
		td_text_copy(&ch->icon, t->icon, sizeof(t->icon));
	}
	if (ch->set & TD_TF_BRANCH) {
		if (ch->branch_id < 0 || ch->branch_id > TD_ID_MAX)
			FAIL(TD_ERR_INVALID, "branch_id", "is out of range");
		t->branch_id = ch->branch_id;
	}
	if ((ch->set & TD_TF_STORY_IDS) && ids_apply(&ch->story_ids, &t->story_ids) != 0)
		FAIL(TD_ERR_INVALID, "story_ids", ch->story_ids.n > TD_IDS_MAX
			 ? "is too long (maximum is 1000 ids)" : "must be an array of ids");
	if ((ch->set & TD_TF_RELEASE_IDS) && ids_apply(&ch->release_ids, &t->release_ids) != 0)
		FAIL(TD_ERR_INVALID, "release_ids", ch->release_ids.n > TD_IDS_MAX
			 ? "is too long (maximum is 1000 ids)" : "must be an array of ids");
	if ((ch->set & TD_TF_ALLOWED_CIDRS) && td_cidrs_apply(&ch->allowed_cidrs, &t->allowed_cidrs,
							       &msg) != 0)
		FAIL(TD_ERR_INVALID, "allowed_cidrs", msg);
	if (ch->set & TD_TF_MIN_CACHE) {
		if (ch->min_cache_null) {
			t->has_min_cache = 0;
		} else if (ch->min_cache < 0 || ch->min_cache > TD_MIN_CACHE_MAX) {
			FAIL(TD_ERR_INVALID, "min_cache", "must be between 0 and 31536000");
		} else {
			t->min_cache = (int)ch->min_cache;
			t->has_min_cache = 1;
		}
	}
	if (ch->set & TD_TF_MAX_USES) {
		if (ch->max_uses < 0 || ch->max_uses > TD_MAX_USES_LIMIT)
			FAIL(TD_ERR_INVALID, "max_uses", "must be between 1 and 1000000000, or null");
		if (t->max_uses != ch->max_uses)
			t->remaining_uses = ch->max_uses;	/* a change starts its uses again */
		t->max_uses = ch->max_uses;
	}
	if ((ch->set & TD_TF_EXPIRES) && td_time_parse(&ch->expires_at, &t->expires_at, &msg) != 0)
		FAIL(TD_ERR_INVALID, "expires_at", msg);
	if (ch->set & TD_TF_STATUS) {
		if (ch->status.s != NULL && ch->status.len == 6 && memcmp(ch->status.s, "active", 6) == 0)
			t->status = TD_STATUS_ACTIVE;
		else if (ch->status.s != NULL && ch->status.len == 8 &&
			 memcmp(ch->status.s, "disabled", 8) == 0)
			t->status = TD_STATUS_DISABLED;
		else
			FAIL(TD_ERR_INVALID, "status", "is not included in the list");
	}
	if (ch->set & (TD_TF_CDA | TD_TF_CDA_PREVIEW))
		td_token_set_delivery(t, ch->set & TD_TF_CDA ? ch->cda : !!(t->rights & TD_RIGHT_CDA),
				      ch->set & TD_TF_CDA_PREVIEW ? ch->cda_preview
				      : !!(t->rights & TD_RIGHT_CDA_PREVIEW));
	if (ch->set & TD_TF_CMA)
		t->rights = (t->rights & ~(unsigned)TD_RIGHT_CMA) | (ch->cma ? TD_RIGHT_CMA : 0);
	if (ch->set & TD_TF_ROLE) {
		/* an id; whether the space has that role is the service's to
		 * say (a role above the built-ins lives in its space) */
		if (ch->role_id < 1 || ch->role_id > TD_ID_MAX)
			FAIL(TD_ERR_INVALID, "role", "no such role");
		t->role_id = ch->role_id;
	}
	if (ch->set & TD_TF_MODULES) {
		if (ch->nmodules > TD_TOKEN_MODULES_MAX)
			FAIL(TD_ERR_INVALID, "modules", "must be a list of at most 32 modules");
		for (i = 0; i < ch->nmodules; i++) {
			if (td_module_find(ch->module_ids[i]) == NULL)
				FAIL(TD_ERR_INVALID, "modules", "unknown module");
			t->modules[i] = ch->module_ids[i];
		}
		t->nmodules = (int)ch->nmodules;
	}
	return 0;
}

void
td_token_keep_previous(struct td_token *t, int64_t until_ms)
{
	if (until_ms <= 0) {
		t->prev_expires_at_ms = 0;
		t->prev_kid = 0;
		t->prev_kind = 0;
		OPENSSL_cleanse(t->prev_secret, sizeof(t->prev_secret));
		return;
	}
	t->prev_expires_at_ms = until_ms;
	t->prev_kid = t->kid;
	t->prev_kind = t->signed_kind;
	memcpy(t->prev_secret, t->secret, sizeof(t->prev_secret));
}

int
td_token_value_is(uint32_t kid, enum td_token_kind kind, const unsigned char *secret,
		  const struct td_token_ref *ref)
{
	return kid == ref->kid && kind == ref->kind &&
	       CRYPTO_memcmp(secret, ref->secret, TD_SECRET_BYTES) == 0;
}

int
td_token_regenerate(struct td_token *t, const struct td_keyring *kr)
{
	const struct td_key *key = td_keyring_newest(kr);

	if (key == NULL || td_token_new_secret(t->secret) != 0)
		return -1;
	t->kid = key->kid;
	/* a SoftwareOne token keeps its "idt:" form while its id fits TKN-NNNN-NNNN */
	t->signed_kind = t->signed_kind == TD_KIND_IDT && t->id <= TD_IDT_ID_MAX ? TD_KIND_IDT
			 : td_access_token_kind(t->access);
	return 0;
}
