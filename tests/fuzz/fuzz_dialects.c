/*
 * libFuzzer target for the dialects' request parsers and the core's
 * validators behind them.
 *
 * Threat: a request body is the attacker's to write, and every management
 * view hands it to its own parser before anything else looks at it:
 *   0  Storyblok      {"api_key": {...}}                 td_storyblok_parse
 *   1  DatoCMS        a JSON:API document, attributes and
 *                     relationships.role.data             td_dato_parse
 *   2  SoftwareOne    {name, description, icon, modules:[{id:"MOD-…"}],
 *                     account:{id:"ACC-…"}}               td_swo_parse
 *   3  admin spaces   {"space": {...}}                    td_space_parse
 *   4  admin PATs     {"personal_access_token": {...}}    td_pat_parse
 *   5  leak reports   {"credentials": ["td_…", …]}        td_leak_parse
 *   6  DatoCMS roles  a JSON:API role document: flags,
 *                     environments, permission lists,
 *                     inherits_permissions_from           td_dato_role_parse
 * The parsers check types (and the role lists' entry shapes) only; the
 * core's apply functions (td_token_apply_change, td_space_apply_change,
 * td_pat_apply_change, td_role_apply_change) judge values. A hostile body must not crash either (ASan/UBSan), and
 * must not get a value past them that the store, the verifier or another
 * dialect's renderer would then trust.
 *
 * Input: the first byte picks the dialect ((byte - '0') % 7, so seeds
 * start with '0'..'6'), the rest is the body. The body goes through
 * td_json_parse with the server's depth cap (32), then the dialect's
 * parser, then the core's apply function: once as a create on a fresh
 * record, once as an update of a record already stored.
 *
 * What it bounds, whatever the input (abort() on a violation):
 *  - on success, every text a record holds (token name, description,
 *    icon; space and PAT name) is strict UTF-8 (RFC 3629, checked here
 *    independently of the core), has no control character, is within its
 *    limit in characters (TD_NAME_MAX, TD_DESCRIPTION_MAX, TD_ICON_MAX)
 *    and NUL-terminated inside its buffer, and is exactly the bytes the
 *    body sent; a required name is not blank; an expiry the body gave is
 *    the very calendar time it named (formatted back, it reads the same);
 *  - id lists hold at most TD_IDS_MAX ids, each >= 1; a token has at most
 *    TD_TOKEN_MODULES_MAX modules, each one the catalogue knows; its role
 *    is none or a known one; min_cache, branch, expiry, status, access and
 *    rights are in range, and access private <=> the CDA preview right;
 *  - allowed_cidrs (a token's, a PAT's) hold at most TD_CIDRS_MAX ranges,
 *    each printed back as a range that reads back the same (no host bits,
 *    a prefix in range), exactly as many as the body listed;
 *  - a role: its flags known, its environments one of four, at most
 *    TD_ROLE_INHERITS_MAX inherited roles each >= 1 and none twice, each
 *    permission list kept is at most TD_ROLE_PERMISSIONS_BYTES of JSON that
 *    parses back to an array of at most TD_ROLE_PERMISSIONS_MAX objects;
 *  - a space: id >= 1, min_cache and rate_limit in range; a PAT: at most
 *    TD_PAT_SPACES_MAX spaces each >= 1, scopes non-empty and known, full
 *    permission means all spaces and every scope;
 *  - a leak report: n is the list's length, and each string kept (the
 *    first TD_LEAK_CREDENTIALS_MAX) is the very bytes the body sent, its
 *    length included (a string may hold NUL);
 *  - on failure, err.code is TD_ERR_INVALID or TD_ERR_MISSING and
 *    err.field and err.message are set (every dialect renders them).
 * Input size is bounded by libFuzzer's -max_len (make fuzz: 4096).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tokend/api/fields.h"
#include "tokend/core/core.h"
#include "tokend/core/module.h"
#include "tokend/core/pat.h"
#include "tokend/core/role.h"
#include "tokend/core/space.h"
#include "tokend/core/token.h"
#include "tokend/limits.h"
#include "tokend/server/body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

#define YEAR_3001 32535216000LL	/* 3001-01-01T00:00:00Z: past the latest time accepted */

enum dialect { STORYBLOK, DATO, SWO, SPACE, PAT, LEAK, ROLE, NDIALECTS };

static struct td_token tok;
static struct td_token_change change;
static struct td_space space;
static struct td_pat pat;
static struct td_leak_report leak;
static struct td_role role;
static struct td_role_change role_change;

/* RFC 3629's table of well-formed sequences, written out by range (the
 * core decodes code points instead): 0 when s[0..len) is strict UTF-8,
 * and *chars gets the count. */
static int
utf8_strict(const unsigned char *s, size_t len, size_t *chars)
{
	size_t i = 0, n = 0, k, need;
	unsigned char lo, hi;

	while (i < len) {
		unsigned char b = s[i];

		lo = 0x80, hi = 0xbf;
		if (b <= 0x7f)
			need = 0;
		else if (b >= 0xc2 && b <= 0xdf)
			need = 1;
		else if (b == 0xe0)
			need = 2, lo = 0xa0;
		else if ((b >= 0xe1 && b <= 0xec) || b == 0xee || b == 0xef)
			need = 2;
		else if (b == 0xed)
			need = 2, hi = 0x9f;
		else if (b == 0xf0)
			need = 3, lo = 0x90;
		else if (b >= 0xf1 && b <= 0xf3)
			need = 3;
		else if (b == 0xf4)
			need = 3, hi = 0x8f;
		else
			return -1;
		if (len - i <= need)
			return -1;	/* truncated */
		for (k = 1; k <= need; k++) {
			unsigned char c = s[i + k];

			if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xbf))
				return -1;
		}
		i += need + 1;
		n++;
	}
	*chars = n;
	return 0;
}

/* A stored text: terminated inside its buffer, strict UTF-8, no control
 * characters, at most max characters. */
static void
check_stored_text(const char *s, size_t size, size_t max)
{
	size_t len = strnlen(s, size), i, chars = 0;

	CHECK(len < size);
	for (i = 0; i < len; i++)
		CHECK((unsigned char)s[i] >= 0x20 && s[i] != 0x7f);
	CHECK(utf8_strict((const unsigned char *)s, len, &chars) == 0);
	CHECK(chars <= max);
}

/* A text the change carried, now stored: the same bytes, or "" for null. */
static void
check_copied(const struct td_text *in, const char *stored)
{
	if (in->s == NULL) {
		CHECK(stored[0] == '\0');
		return;
	}
	CHECK(strlen(stored) == in->len && memcmp(stored, in->s, in->len) == 0);
}

/* An expiry the body gave, now stored: unix seconds that are exactly the
 * calendar time the text named (no 30 February becoming 2 March). */
static void
check_time(const struct td_text *in, int64_t stored)
{
	char again[32];
	time_t secs = (time_t)stored;
	struct tm tm;

	if (in->s == NULL) {
		CHECK(stored == 0);
		return;
	}
	CHECK(stored > 0 && stored < YEAR_3001);
	CHECK(in->len >= 20 && in->s[in->len - 1] == 'Z');
	CHECK(gmtime_r(&secs, &tm) != NULL);
	if (in->s[17] == '6' && in->s[18] == '0') {	/* a leap second: the next minute's 00 */
		CHECK(tm.tm_sec == 0);
		return;
	}
	snprintf(again, sizeof(again), "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	CHECK(memcmp(again, in->s, 19) == 0);
}

static void
check_error(const struct td_core_error *err)
{
	CHECK(err->code == TD_ERR_INVALID || err->code == TD_ERR_MISSING);
	CHECK(err->field != NULL && err->field[0] != '\0');
	CHECK(err->message != NULL && err->message[0] != '\0');
}

static void
check_ids(const struct td_id_list *l)
{
	int i;

	CHECK(l->n >= 0 && l->n <= TD_IDS_MAX);
	for (i = 0; i < l->n; i++)
		CHECK(l->ids[i] >= 1 && l->ids[i] < INT64_MAX);
}

/* Ranges that passed the core: each in its one spelling, as many as given. */
static void
check_cidrs(const struct td_cidr_list *l, int given, const struct td_change_cidrs *in)
{
	char text[TD_CIDR_TEXT_MAX + 1];
	struct td_cidr again;
	const char *why;
	int i;

	CHECK(l->n >= 0 && l->n <= TD_CIDRS_MAX);
	if (given)
		CHECK((size_t)l->n == in->n);
	for (i = 0; i < l->n; i++) {
		td_cidr_format(&l->r[i], text, sizeof(text));
		CHECK(td_cidr_parse(text, strlen(text), &again, &why) == 0);
		CHECK(memcmp(&again, &l->r[i], sizeof(again)) == 0);
	}
}

/* Everything a token may hold after a successful apply. */
static void
check_token(const struct td_token *t, const struct td_token_change *ch, int creating)
{
	int i;

	check_stored_text(t->name, sizeof(t->name), TD_NAME_MAX);
	check_stored_text(t->description, sizeof(t->description), TD_DESCRIPTION_MAX);
	check_stored_text(t->icon, sizeof(t->icon), TD_ICON_MAX);
	if (ch->set & TD_TF_NAME) {
		check_copied(&ch->name, t->name);
		CHECK(t->has_name == (ch->name.s != NULL));
		if (ch->shape != TD_SHAPE_API_KEY)
			CHECK(t->has_name && t->name[0] != '\0');
	}
	if (!t->has_name)
		CHECK(t->name[0] == '\0');
	if (ch->set & TD_TF_DESCRIPTION)
		check_copied(&ch->description, t->description);
	if (ch->set & TD_TF_ICON)
		check_copied(&ch->icon, t->icon);
	check_ids(&t->story_ids);
	check_ids(&t->release_ids);
	CHECK(t->nmodules >= 0 && t->nmodules <= TD_TOKEN_MODULES_MAX);
	for (i = 0; i < t->nmodules; i++)
		CHECK(td_module_find(t->modules[i]) != NULL);
	CHECK(t->role_id >= 0 && t->role_id <= TD_ID_MAX);
	CHECK(t->branch_id >= 0 && t->branch_id < INT64_MAX);
	if (t->has_min_cache)
		CHECK(t->min_cache >= 0 && t->min_cache <= TD_MIN_CACHE_MAX);
	CHECK(t->expires_at >= 0 && t->expires_at < YEAR_3001);
	if (ch->set & TD_TF_EXPIRES)
		check_time(&ch->expires_at, t->expires_at);
	CHECK(t->status == TD_STATUS_ACTIVE || t->status == TD_STATUS_DISABLED);
	CHECK((t->rights & ~(unsigned)(TD_RIGHT_CDA | TD_RIGHT_CDA_PREVIEW | TD_RIGHT_CMA)) == 0);
	if (creating || (ch->set & TD_TF_ACCESS))
		CHECK(t->access >= 0 && t->access < TD_ACCESS__MAX);
	if (t->access != TD_ACCESS__MAX)
		CHECK((t->access == TD_ACCESS_PRIVATE) == ((t->rights & TD_RIGHT_CDA_PREVIEW) != 0));
	if (creating && ch->shape == TD_SHAPE_ACCESS_TOKEN)
		CHECK(t->role_id >= 1);
	check_cidrs(&t->allowed_cidrs, (ch->set & TD_TF_ALLOWED_CIDRS) != 0, &ch->allowed_cidrs);
}

/* A fresh token as the core makes one for a create in shape. */
static void
fresh_token(enum td_token_shape shape)
{
	td_token_defaults(&tok);
	tok.id = 3;
	tok.space_id = 5;
	if (shape == TD_SHAPE_API_TOKEN) {
		tok.access = TD_ACCESS_PUBLIC;
		tok.rights = TD_RIGHT_CMA;
	}
}

/* A token as the store would hand it back for an update. */
static void
stored_token(enum td_token_shape shape)
{
	fresh_token(shape);
	strcpy(tok.name, "stored");
	tok.has_name = 1;
	strcpy(tok.description, "a stored token");
	td_token_set_access(&tok, shape == TD_SHAPE_API_KEY ? TD_ACCESS_PRIVATE : TD_ACCESS_PUBLIC);
	if (shape != TD_SHAPE_API_KEY) {
		tok.rights |= TD_RIGHT_CMA;
		tok.role_id = shape == TD_SHAPE_ACCESS_TOKEN ? TD_ROLE_ADMIN : 0;
	}
	tok.story_ids.ids[0] = 1;
	tok.story_ids.n = 1;
	tok.expires_at = 2000000000;
}

static int
parse_token(enum dialect d, struct json_object *doc, int creating)
{
	struct td_core_error err = { TD_OK, NULL, NULL };
	const char *code = NULL;
	int64_t account = -1;
	int rc;

	switch (d) {
	case STORYBLOK:
		rc = td_storyblok_parse(doc, creating, &change, &err);
		CHECK(change.shape == TD_SHAPE_API_KEY);
		break;
	case DATO:
		rc = td_dato_parse(doc, creating, creating ? 0 : 3, &change, &err, &code);
		CHECK(change.shape == TD_SHAPE_ACCESS_TOKEN);
		if (rc == 0)
			CHECK(code == NULL);
		break;
	default:
		rc = td_swo_parse(doc, creating, &change, &account, &err);
		CHECK(change.shape == TD_SHAPE_API_TOKEN);
		if (rc == 0)
			CHECK(account >= 0 && (creating || account == 0));
		break;
	}
	if (rc != 0) {
		check_error(&err);
		return -1;
	}
	if (creating)
		fresh_token(change.shape);
	else
		stored_token(change.shape);
	memset(&err, 0, sizeof(err));
	if (td_token_apply_change(&tok, &change, creating, &err) != 0) {
		check_error(&err);
		return -1;
	}
	check_token(&tok, &change, creating);
	return 0;
}

static void
parse_space(struct json_object *doc, int creating)
{
	struct td_core_error err = { TD_OK, NULL, NULL };
	struct td_space_change ch;

	memset(&space, 0, sizeof(space));
	if (!creating) {
		space.id = 5;
		strcpy(space.name, "stored");
		space.min_cache = 60;
	}
	if (td_space_parse(doc, creating, &ch, &err) != 0) {
		check_error(&err);
		return;
	}
	if (td_space_apply_change(&space, &ch, creating, &err) != 0) {
		check_error(&err);
		return;
	}
	check_stored_text(space.name, sizeof(space.name), TD_NAME_MAX);
	if (ch.has_name)
		check_copied(&ch.name, space.name);
	CHECK(creating || space.id == 5);
	CHECK(!creating || !ch.has_id || space.id >= 1);
	CHECK(space.id >= 0 && space.id < INT64_MAX);
	if (creating || ch.has_name)
		CHECK(space.name[0] != '\0');
	CHECK(space.min_cache >= 0 && space.min_cache <= TD_MIN_CACHE_MAX);
	CHECK(space.rate_limit >= 0 && space.rate_limit <= TD_RATE_LIMIT_MAX);
}

static void
parse_pat(struct json_object *doc)
{
	struct td_core_error err = { TD_OK, NULL, NULL };
	struct td_pat_change ch;
	int i;

	memset(&pat, 0, sizeof(pat));
	if (td_pat_parse(doc, &ch, &err) != 0) {
		check_error(&err);
		return;
	}
	if (td_pat_apply_change(&pat, &ch, &err) != 0) {
		check_error(&err);
		return;
	}
	check_stored_text(pat.name, sizeof(pat.name), TD_NAME_MAX);
	check_copied(&ch.name, pat.name);
	CHECK(pat.name[0] != '\0');
	CHECK(pat.nspaces >= 0 && pat.nspaces <= TD_PAT_SPACES_MAX);
	for (i = 0; i < pat.nspaces; i++)
		CHECK(pat.spaces[i] >= 1 && pat.spaces[i] < INT64_MAX);
	CHECK(pat.all_spaces || pat.nspaces > 0);
	CHECK(pat.scopes != 0 && (pat.scopes & ~(unsigned)TD_SCOPE_ALL) == 0);
	if (pat.full)
		CHECK(pat.all_spaces && pat.nspaces == 0 && pat.scopes == TD_SCOPE_ALL);
	CHECK(pat.expires_at >= 0 && pat.expires_at < YEAR_3001);
	if (ch.has_expires)
		check_time(&ch.expires_at, pat.expires_at);
	check_cidrs(&pat.allowed_cidrs, ch.has_cidrs, &ch.allowed_cidrs);
}

static void
parse_leak(struct json_object *doc)
{
	struct td_core_error err = { TD_OK, NULL, NULL };
	struct json_object *list, *item;
	size_t i;

	if (td_leak_parse(doc, &leak, &err) != 0) {
		check_error(&err);
		return;
	}
	CHECK(json_object_object_get_ex(doc, "credentials", &list));
	CHECK(leak.n == json_object_array_length(list));
	for (i = 0; i < leak.n && i < TD_LEAK_CREDENTIALS_MAX; i++) {
		item = json_object_array_get_idx(list, i);
		CHECK(leak.creds[i].s != NULL);
		CHECK(leak.creds[i].len == (size_t)json_object_get_string_len(item));
		CHECK(memcmp(leak.creds[i].s, json_object_get_string(item), leak.creds[i].len) == 0);
	}
}

static void
parse_role(struct json_object *doc, int creating)
{
	struct td_core_error err = { TD_OK, NULL, NULL };
	struct json_object *list;
	const char *code = NULL;
	int i, j;

	td_role_defaults(&role);
	if (!creating) {
		role.id = 3;
		strcpy(role.name, "stored");
		strcpy(role.lists[TD_RL_POSITIVE_UPLOAD], "[{\"action\":\"all\",\"environment\":\"main\"}]");
	}
	if (td_dato_role_parse(doc, creating ? 0 : 3, &role_change, &err, &code) != 0) {
		check_error(&err);
		return;
	}
	CHECK(code == NULL);
	if (td_role_apply_change(&role, &role_change, creating, &err) != 0) {
		check_error(&err);
		return;
	}
	check_stored_text(role.name, sizeof(role.name), TD_NAME_MAX);
	CHECK(role.name[0] != '\0');
	if (role_change.set & TD_RF_NAME)
		check_copied(&role_change.name, role.name);
	CHECK((role.perms & ~(unsigned)TD_RP_ALL) == 0);
	CHECK(role.env_access >= TD_ENV_NONE && role.env_access <= TD_ENV_ALL);
	CHECK(role.ninherits >= 0 && role.ninherits <= TD_ROLE_INHERITS_MAX);
	for (i = 0; i < role.ninherits; i++) {
		CHECK(role.inherits[i] >= 1 && role.inherits[i] <= TD_ID_MAX &&
		      (creating || role.inherits[i] != 3));
		for (j = 0; j < i; j++)
			CHECK(role.inherits[j] != role.inherits[i]);
	}
	for (i = 0; i < TD_RL__MAX; i++) {
		CHECK(strnlen(role.lists[i], sizeof(role.lists[i])) <= TD_ROLE_PERMISSIONS_BYTES);
		if (role.lists[i][0] == '\0')
			continue;
		list = json_tokener_parse(role.lists[i]);
		CHECK(list != NULL && json_object_is_type(list, json_type_array));
		CHECK(json_object_array_length(list) >= 1 &&
		      json_object_array_length(list) <= TD_ROLE_PERMISSIONS_MAX);
		for (j = 0; j < (int)json_object_array_length(list); j++)
			CHECK(json_object_is_type(json_object_array_get_idx(list, j), json_type_object));
		json_object_put(list);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *doc;
	enum dialect d;
	char why[128];

	if (size < 1)
		return 0;
	d = (enum dialect)((uint8_t)(data[0] - '0') % NDIALECTS);
	doc = td_json_parse((const char *)data + 1, size - 1, TD_JSON_DEPTH_DEFAULT, why,
			    sizeof(why));
	if (doc == NULL)
		return 0;
	switch (d) {
	case STORYBLOK:
	case DATO:
	case SWO:
		(void)parse_token(d, doc, 1);
		(void)parse_token(d, doc, 0);
		break;
	case SPACE:
		parse_space(doc, 1);
		parse_space(doc, 0);
		break;
	case ROLE:
		parse_role(doc, 1);
		parse_role(doc, 0);
		break;
	case LEAK:
		parse_leak(doc);
		break;
	default:
		parse_pat(doc);
		break;
	}
	json_object_put(doc);
	return 0;
}
