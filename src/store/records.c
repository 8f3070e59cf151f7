/*
 * Spaces, tokens and PATs as Redis hashes. Field names are one or two
 * letters: at a million tokens every byte of a field name is a megabyte.
 *
 *   {s:<space>}:space      n name, mc min_cache, ca/ua created/updated (ms), cb creator
 *   {s:<space>}:tokens     sorted set of the space's token ids
 *   {s:<space>}:t:<id>     n name (absent = null), d description, i icon, a access,
 *                          b branch_id, st story_ids, rl release_ids (comma-separated),
 *                          mc min_cache (absent = the space's), s "d" when disabled,
 *                          x expires_at (s), k key id, sk token kind, sc secret (hex),
 *                          ca/ua created/updated (ms), cb/ub by
 *   {spaces}:index, {spaces}:seq, {tokens}:seq
 *   {pats}:p:<id>          n, sp "all" or ids, sc scopes, f full, x, k, h secret hash (hex), ca, cb
 *   {pats}:index, {pats}:seq
 *
 * No token string and no PAT secret is ever written: only the regeneration
 * secret of delivery tokens (useless without the HMAC key) and the keyed
 * hash of PAT secrets.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokend/server/log.h"
#include "tokend/server/parse.h"
#include "tokend/core/pat.h"
#include "tokend/core/space.h"
#include "tokend/core/token.h"
#include "internal.h"

#define ARGS_BYTES (48 * 1024)

/* Arguments for one script call, copied into one buffer. */
struct args {
	const char *v[STORE_ARGS_MAX];
	size_t len[STORE_ARGS_MAX];
	int n;
	size_t used;
	int overflow;
	char buf[ARGS_BYTES];
};

static void
arg_bytes(struct args *a, const char *s, size_t len)
{
	if (a->n == STORE_ARGS_MAX || a->used + len + 1 > sizeof(a->buf)) {
		a->overflow = 1;
		return;
	}
	memcpy(a->buf + a->used, s, len);
	a->buf[a->used + len] = '\0';
	a->v[a->n] = a->buf + a->used;
	a->len[a->n++] = len;
	a->used += len + 1;
}

static void
arg_str(struct args *a, const char *s)
{
	arg_bytes(a, s, strlen(s));
}

static void
arg_fmt(struct args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
arg_fmt(struct args *a, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		a->overflow = 1;
		return;
	}
	arg_bytes(a, tmp, (size_t)n);
}

static void
arg_i64(struct args *a, int64_t v)
{
	arg_fmt(a, "%" PRId64, v);
}

static void
arg_hex(struct args *a, const unsigned char *p, size_t n)
{
	char hex[2 * 64 + 1];
	size_t i;

	for (i = 0; i < n && i < 64; i++)
		snprintf(hex + 2 * i, 3, "%02x", p[i]);
	arg_bytes(a, hex, 2 * i);
}

static void
arg_ids(struct args *a, const int64_t *ids, int n)
{
	size_t start = a->used, len = 0;
	int i, w;

	if (a->n == STORE_ARGS_MAX) {
		a->overflow = 1;
		return;
	}
	for (i = 0; i < n; i++) {
		w = snprintf(a->buf + start + len, sizeof(a->buf) - start - len, "%s%" PRId64,
			     i ? "," : "", ids[i]);
		if (w < 0 || (size_t)w >= sizeof(a->buf) - start - len) {
			a->overflow = 1;
			return;
		}
		len += (size_t)w;
	}
	if (start + len + 1 > sizeof(a->buf)) {
		a->overflow = 1;
		return;
	}
	a->buf[start + len] = '\0';
	a->v[a->n] = a->buf + start;
	a->len[a->n++] = len;
	a->used += len + 1;
}

/* A pair "field value" for HSET, or the field name for HDEL when absent. */
struct pairs {
	struct args *set;
	const char *del[24];
	int ndel;
};

static void
pair_str(struct pairs *p, const char *field, const char *value, int present)
{
	if (present) {
		arg_str(p->set, field);
		arg_str(p->set, value);
	} else if (p->ndel < (int)(sizeof(p->del) / sizeof(p->del[0]))) {
		p->del[p->ndel++] = field;
	}
}

static void
pair_i64(struct pairs *p, const char *field, int64_t value, int present)
{
	if (present) {
		arg_str(p->set, field);
		arg_i64(p->set, value);
	} else if (p->ndel < (int)(sizeof(p->del) / sizeof(p->del[0]))) {
		p->del[p->ndel++] = field;
	}
}

static void
pair_ids(struct pairs *p, const char *field, const struct td_id_list *l)
{
	if (l->n > 0) {
		arg_str(p->set, field);
		arg_ids(p->set, l->ids, l->n);
	} else if (p->ndel < (int)(sizeof(p->del) / sizeof(p->del[0]))) {
		p->del[p->ndel++] = field;
	}
}

/* A token's delivery rights when nothing else was said: what its access gives. */
static unsigned
default_rights(enum td_access a)
{
	return TD_RIGHT_CDA | (a == TD_ACCESS_PRIVATE ? TD_RIGHT_CDA_PREVIEW : 0);
}

static void
token_pairs(const struct td_token *t, struct pairs *p)
{
	pair_str(p, "n", t->name, t->has_name);
	pair_str(p, "d", t->description, t->description[0] != '\0');
	pair_str(p, "i", t->icon, t->icon[0] != '\0');
	pair_str(p, "a", td_access_name(t->access), 1);
	pair_i64(p, "b", t->branch_id, t->branch_id != 0);
	pair_ids(p, "st", &t->story_ids);
	pair_ids(p, "rl", &t->release_ids);
	pair_i64(p, "mc", t->min_cache, t->has_min_cache);
	pair_str(p, "s", t->status == TD_STATUS_DELETED ? "D" : "d", t->status != TD_STATUS_ACTIVE);
	pair_i64(p, "x", t->expires_at, t->expires_at != 0);
	/* fields at their default are left out (a million tokens: ~50 MB) */
	pair_i64(p, "r", t->rights, t->rights != default_rights(t->access));
	pair_i64(p, "ro", t->role_id, t->role_id != 0);
	pair_i64(p, "ht", t->hardcoded, t->hardcoded != TD_HARDCODED_NONE);
	pair_i64(p, "k", t->kid, 1);
	pair_i64(p, "sk", t->signed_kind, t->signed_kind != td_access_token_kind(t->access));
	arg_str(p->set, "sc");
	arg_bytes(p->set, (const char *)t->secret, TD_SECRET_BYTES);	/* raw, not hex */
	pair_i64(p, "ca", t->created_at_ms, 1);
	pair_i64(p, "ua", t->updated_at_ms, t->updated_at_ms != t->created_at_ms);
	pair_str(p, "cb", t->created_by, t->created_by[0] != '\0');
	pair_str(p, "ub", t->updated_by, t->updated_by[0] != '\0' &&
		 strcmp(t->updated_by, t->created_by) != 0);
	if (t->nmodules > 0) {
		arg_str(p->set, "md");
		arg_ids(p->set, t->modules, t->nmodules);
	} else if (p->ndel < (int)(sizeof(p->del) / sizeof(p->del[0]))) {
		p->del[p->ndel++] = "md";
	}
	pair_i64(p, "ea", t->enabled_at_ms, t->enabled_at_ms != 0);
	pair_str(p, "eb", t->enabled_by, t->enabled_by[0] != '\0');
	pair_i64(p, "da", t->disabled_at_ms, t->disabled_at_ms != 0);
	pair_str(p, "db", t->disabled_by, t->disabled_by[0] != '\0');
}

/* --- reply parsing --- */

static int
field_i64(const redisReply *v, int64_t min, int64_t max, int64_t *out)
{
	long long n;

	if (v->type != REDIS_REPLY_STRING ||
	    td_parse_int64(v->str, v->len, min, max, &n) != 0)
		return -1;
	*out = n;
	return 0;
}

static void
field_text(const redisReply *v, char *out, size_t size)
{
	size_t n = v->len < size - 1 ? v->len : size - 1;

	memcpy(out, v->str, n);
	out[n] = '\0';
}

static int
field_ids(const redisReply *v, struct td_id_list *l)
{
	const char *p = v->str, *end = v->str + v->len, *comma;
	long long id;

	l->n = 0;
	while (p < end) {
		comma = memchr(p, ',', (size_t)(end - p));
		if (comma == NULL)
			comma = end;
		if (l->n == TD_IDS_MAX || td_parse_int64(p, (size_t)(comma - p), 1, INT64_MAX, &id) != 0)
			return -1;
		l->ids[l->n++] = id;
		p = comma + 1;
	}
	return 0;
}

static int
field_hex(const redisReply *v, unsigned char *out, size_t n)
{
	size_t i;
	int hi, lo;

	if (v->len != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		hi = td_hex_digit(v->str[2 * i]);
		lo = td_hex_digit(v->str[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static int
is_field(const redisReply *k, const char *name)
{
	return k->len == strlen(name) && memcmp(k->str, name, k->len) == 0;
}

static int
hash_ok(const redisReply *r)
{
	size_t i;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0)
		return 0;
	for (i = 0; i < r->elements; i++)
		if (r->element[i]->type != REDIS_REPLY_STRING)
			return 0;
	return 1;
}

static int
token_from_hash(const redisReply *h, int64_t space_id, int64_t id, struct td_token *t)
{
	struct td_id_list *ids;
	int64_t n = 0;
	size_t i;
	int bad = 0, has_rights = 0, has_kind = 0, has_updated = 0, has_secret = 0;

	td_token_defaults(t);
	t->space_id = space_id;
	t->id = id;
	if (!hash_ok(h))
		return -1;
	for (i = 0; i < h->elements; i += 2) {
		const redisReply *k = h->element[i], *v = h->element[i + 1];

		if (is_field(k, "n")) {
			field_text(v, t->name, sizeof(t->name));
			t->has_name = 1;
		} else if (is_field(k, "d")) {
			field_text(v, t->description, sizeof(t->description));
		} else if (is_field(k, "i")) {
			field_text(v, t->icon, sizeof(t->icon));
		} else if (is_field(k, "a")) {
			bad |= td_access_parse(v->str, &t->access);
		} else if (is_field(k, "b")) {
			bad |= field_i64(v, 1, INT64_MAX, &t->branch_id);
		} else if (is_field(k, "st")) {
			bad |= field_ids(v, &t->story_ids);
		} else if (is_field(k, "rl")) {
			bad |= field_ids(v, &t->release_ids);
		} else if (is_field(k, "mc")) {
			bad |= field_i64(v, 0, TD_MIN_CACHE_MAX, &n);
			t->min_cache = (int)n;
			t->has_min_cache = 1;
		} else if (is_field(k, "s")) {
			t->status = v->len == 1 && v->str[0] == 'D' ? TD_STATUS_DELETED
								     : TD_STATUS_DISABLED;
		} else if (is_field(k, "md")) {
			ids = malloc(sizeof(*ids));
			if (ids == NULL || field_ids(v, ids) != 0 || ids->n > TD_TOKEN_MODULES_MAX) {
				bad = 1;
			} else {
				memcpy(t->modules, ids->ids, sizeof(int64_t) * (size_t)ids->n);
				t->nmodules = ids->n;
			}
			free(ids);
		} else if (is_field(k, "ea")) {
			bad |= field_i64(v, 0, INT64_MAX, &t->enabled_at_ms);
		} else if (is_field(k, "eb")) {
			field_text(v, t->enabled_by, sizeof(t->enabled_by));
		} else if (is_field(k, "da")) {
			bad |= field_i64(v, 0, INT64_MAX, &t->disabled_at_ms);
		} else if (is_field(k, "db")) {
			field_text(v, t->disabled_by, sizeof(t->disabled_by));
		} else if (is_field(k, "x")) {
			bad |= field_i64(v, 0, INT64_MAX, &t->expires_at);
		} else if (is_field(k, "r")) {
			bad |= field_i64(v, 0, TD_RIGHT_CDA | TD_RIGHT_CDA_PREVIEW | TD_RIGHT_CMA, &n);
			t->rights = (unsigned)n;
			has_rights = 1;
		} else if (is_field(k, "ro")) {
			bad |= field_i64(v, 1, INT64_MAX, &t->role_id);
		} else if (is_field(k, "ht")) {
			bad |= field_i64(v, 0, TD_HARDCODED__MAX - 1, &n);
			t->hardcoded = (enum td_hardcoded)n;
		} else if (is_field(k, "k")) {
			bad |= field_i64(v, 0, UINT32_MAX, &n);
			t->kid = (uint32_t)n;
		} else if (is_field(k, "sk")) {
			bad |= field_i64(v, 0, TD_KIND__MAX - 1, &n);
			t->signed_kind = (enum td_token_kind)n;
			has_kind = 1;
		} else if (is_field(k, "sc")) {
			if (v->type == REDIS_REPLY_STRING && v->len == TD_SECRET_BYTES)
				memcpy(t->secret, v->str, TD_SECRET_BYTES);
			else	/* records written before raw secrets */
				bad |= field_hex(v, t->secret, TD_SECRET_BYTES);
			has_secret = 1;
		} else if (is_field(k, "ca")) {
			bad |= field_i64(v, 0, INT64_MAX, &t->created_at_ms);
		} else if (is_field(k, "ua")) {
			bad |= field_i64(v, 0, INT64_MAX, &t->updated_at_ms);
			has_updated = 1;
		} else if (is_field(k, "cb")) {
			field_text(v, t->created_by, sizeof(t->created_by));
		} else if (is_field(k, "ub")) {
			field_text(v, t->updated_by, sizeof(t->updated_by));
		}
	}
	/* the defaults token_pairs leaves out */
	if (!has_rights && t->access != TD_ACCESS__MAX)
		t->rights = default_rights(t->access);
	if (!has_kind && t->access != TD_ACCESS__MAX)
		t->signed_kind = td_access_token_kind(t->access);
	if (!has_updated)
		t->updated_at_ms = t->created_at_ms;
	if (t->updated_by[0] == '\0')
		memcpy(t->updated_by, t->created_by, sizeof(t->updated_by));
	if (bad || !has_secret || t->access == TD_ACCESS__MAX) {
		td_log_error("token %" PRId64 "/%" PRId64 ": malformed record", space_id, id);
		return -1;
	}
	return 0;
}

static int
space_from_hash(const redisReply *h, int64_t id, struct td_space *sp)
{
	int64_t n = 0;
	size_t i;
	int bad = 0;

	memset(sp, 0, sizeof(*sp));
	sp->id = id;
	if (!hash_ok(h))
		return -1;
	for (i = 0; i < h->elements; i += 2) {
		const redisReply *k = h->element[i], *v = h->element[i + 1];

		if (is_field(k, "n")) {
			field_text(v, sp->name, sizeof(sp->name));
		} else if (is_field(k, "mc")) {
			bad |= field_i64(v, 0, TD_MIN_CACHE_MAX, &n);
			sp->min_cache = (int)n;
		} else if (is_field(k, "rl")) {
			bad |= field_i64(v, 0, TD_RATE_LIMIT_MAX, &n);
			sp->rate_limit = (int)n;
		} else if (is_field(k, "ca")) {
			bad |= field_i64(v, 0, INT64_MAX, &sp->created_at_ms);
		} else if (is_field(k, "ua")) {
			bad |= field_i64(v, 0, INT64_MAX, &sp->updated_at_ms);
		} else if (is_field(k, "cb")) {
			field_text(v, sp->created_by, sizeof(sp->created_by));
		}
	}
	return bad ? -1 : 0;
}

static int
pat_from_hash(const redisReply *h, int64_t id, struct td_pat *p)
{
	struct td_id_list *ids;
	int64_t n = 0;
	size_t i;
	int bad = 0;

	memset(p, 0, sizeof(*p));
	p->id = id;
	if (!hash_ok(h))
		return -1;
	for (i = 0; i < h->elements; i += 2) {
		const redisReply *k = h->element[i], *v = h->element[i + 1];

		if (is_field(k, "n")) {
			field_text(v, p->name, sizeof(p->name));
		} else if (is_field(k, "sp")) {
			if (v->len == 3 && memcmp(v->str, "all", 3) == 0) {
				p->all_spaces = 1;
				continue;
			}
			ids = malloc(sizeof(*ids));
			if (ids == NULL || field_ids(v, ids) != 0 || ids->n > TD_PAT_SPACES_MAX) {
				bad = 1;
			} else {
				memcpy(p->spaces, ids->ids, sizeof(int64_t) * (size_t)ids->n);
				p->nspaces = ids->n;
			}
			free(ids);
		} else if (is_field(k, "sc")) {
			bad |= field_i64(v, 0, TD_SCOPE_ALL, &n);
			p->scopes = (unsigned)n;
		} else if (is_field(k, "f")) {
			p->full = v->len == 1 && v->str[0] == '1';
		} else if (is_field(k, "x")) {
			bad |= field_i64(v, 0, INT64_MAX, &p->expires_at);
		} else if (is_field(k, "k")) {
			bad |= field_i64(v, 0, UINT32_MAX, &n);
			p->kid = (uint32_t)n;
		} else if (is_field(k, "h")) {
			bad |= field_hex(v, p->hash, TD_PAT_HASH_BYTES);
		} else if (is_field(k, "ca")) {
			bad |= field_i64(v, 0, INT64_MAX, &p->created_at_ms);
		} else if (is_field(k, "cb")) {
			field_text(v, p->created_by, sizeof(p->created_by));
		}
	}
	return bad ? -1 : 0;
}

/* --- helpers --- */

static void
key_space(char *out, size_t size, int64_t space_id, const char *suffix)
{
	snprintf(out, size, "{s:%" PRId64 "}:%s", space_id, suffix);
}

/* 0 for a usable reply; otherwise frees it and says why: TD_STORE_REFUSED
 * when Redis is up but refuses writes (out of memory under noeviction,
 * MISCONF when it cannot persist, a read-only replica), else TD_STORE_DOWN. */
static int
reply_failed(redisReply *r, const char *what)
{
	int refused;

	if (r == NULL)
		return TD_STORE_DOWN;
	if (r->type == REDIS_REPLY_ERROR) {
		refused = strncmp(r->str, "OOM", 3) == 0 || strncmp(r->str, "MISCONF", 7) == 0 ||
			  strncmp(r->str, "READONLY", 8) == 0;
		td_log_error("%s: redis refused: %.200s", what, r->str);
		freeReplyObject(r);
		return refused ? TD_STORE_REFUSED : TD_STORE_DOWN;
	}
	return 0;
}

static int
run(struct td_store *store, enum store_script s, int nkeys, struct args *a, redisReply **out,
    const char *what)
{
	if (a->overflow) {
		td_log_error("%s: record larger than the argument buffer", what);
		return TD_STORE_DOWN;
	}
	*out = store_script(store, s, nkeys, a->n, a->v, a->len);
	return reply_failed(*out, what);
}

static int
next_id(struct td_store *store, const char *seq_key, int64_t *id)
{
	redisReply *r = store_command(store, "INCR %s", seq_key);
	int rc;

	if ((rc = reply_failed(r, "next_id")) != 0)
		return rc;
	if (r->type != REDIS_REPLY_INTEGER || r->integer <= 0) {
		freeReplyObject(r);
		return TD_STORE_DOWN;
	}
	*id = r->integer;
	freeReplyObject(r);
	return TD_STORE_OK;
}

/* --- spaces --- */

static void
space_pairs(const struct td_space *sp, struct args *a)
{
	arg_str(a, "n");
	arg_str(a, sp->name);
	arg_str(a, "mc");
	arg_i64(a, sp->min_cache);
	arg_str(a, "ca");
	arg_i64(a, sp->created_at_ms);
	arg_str(a, "ua");
	arg_i64(a, sp->updated_at_ms);
	arg_str(a, "rl");
	arg_i64(a, sp->rate_limit);
	if (sp->created_by[0] != '\0') {
		arg_str(a, "cb");
		arg_str(a, sp->created_by);
	}
}

int
td_store_space_create(struct td_store *store, struct td_space *sp, int explicit_id)
{
	struct args *a = malloc(sizeof(*a));
	redisReply *r = NULL;
	char key[64];
	int attempt, rc = TD_STORE_DOWN;

	if (a == NULL)
		return TD_STORE_DOWN;
	for (attempt = 0; attempt < 8; attempt++) {
		/* an auto id can meet a caller-chosen one: take the next */
		if (!explicit_id && (rc = next_id(store, "{spaces}:seq", &sp->id)) != TD_STORE_OK)
			goto done;
		a->n = 0, a->used = 0, a->overflow = 0;
		key_space(key, sizeof(key), sp->id, "space");
		arg_str(a, key);
		space_pairs(sp, a);
		if ((rc = run(store, SCRIPT_CREATE_IF_ABSENT, 1, a, &r, "space_create")) != TD_STORE_OK)
			goto done;
		rc = r->type == REDIS_REPLY_INTEGER && r->integer == 1 ? TD_STORE_OK : TD_STORE_EXISTS;
		freeReplyObject(r);
		if (rc == TD_STORE_OK || explicit_id)
			break;
	}
	if (rc != TD_STORE_OK)
		goto done;
	/* the directory is a separate slot ({spaces}): listed right after */
	a->n = 0, a->used = 0, a->overflow = 0;
	arg_str(a, "{spaces}:index");
	arg_str(a, "{spaces}:seq");
	arg_i64(a, sp->id);
	if ((rc = run(store, SCRIPT_SPACE_INDEX_ADD, 2, a, &r, "space_index")) != TD_STORE_OK)
		goto done;
	freeReplyObject(r);
done:
	free(a);
	return rc;
}

int
td_store_space_get(struct td_store *store, int64_t id, struct td_space *out)
{
	char key[64];
	redisReply *r;
	int rc;

	key_space(key, sizeof(key), id, "space");
	r = store_command(store, "HGETALL %s", key);
	if (reply_failed(r, "space_get"))
		return TD_STORE_DOWN;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 0)
		rc = TD_STORE_NOT_FOUND;
	else
		rc = space_from_hash(r, id, out) == 0 ? TD_STORE_OK : TD_STORE_DOWN;
	freeReplyObject(r);
	return rc;
}

static struct args *
args_new(void)
{
	struct args *a = malloc(sizeof(*a));

	if (a != NULL) {
		a->n = 0;
		a->used = 0;
		a->overflow = 0;
	}
	return a;
}

/* Writes pairs (and deletes del) on an existing hash only. */
static int
put_existing(struct td_store *store, const char *key, const struct args *pairs,
	     const char *const *del, int ndel, const char *what)
{
	struct args *a = args_new();
	redisReply *r;
	int i, rc;

	if (a == NULL)
		return TD_STORE_DOWN;
	arg_str(a, key);
	arg_fmt(a, "%d", pairs->n);
	for (i = 0; i < pairs->n; i++)
		arg_bytes(a, pairs->v[i], pairs->len[i]);
	for (i = 0; i < ndel; i++)
		arg_str(a, del[i]);
	a->overflow |= pairs->overflow;
	rc = run(store, SCRIPT_PUT_EXISTING, 1, a, &r, what);
	if (rc == TD_STORE_OK) {
		rc = r->type == REDIS_REPLY_INTEGER && r->integer == 1 ? TD_STORE_OK
								       : TD_STORE_NOT_FOUND;
		freeReplyObject(r);
	}
	free(a);
	return rc;
}

int
td_store_space_put(struct td_store *store, const struct td_space *sp)
{
	struct args *pairs = args_new();
	char key[64];
	int rc;

	if (pairs == NULL)
		return TD_STORE_DOWN;
	key_space(key, sizeof(key), sp->id, "space");
	space_pairs(sp, pairs);
	rc = put_existing(store, key, pairs, NULL, 0, "space_put");
	free(pairs);
	return rc;
}

int
td_store_space_delete(struct td_store *store, int64_t id, struct td_space *deleted)
{
	struct args *a = args_new();
	redisReply *r = NULL;
	char key[64], idx[64], prefix[64], log[64];
	int rc;

	if (a == NULL)
		return TD_STORE_DOWN;
	key_space(key, sizeof(key), id, "space");
	key_space(idx, sizeof(idx), id, "tokens");
	key_space(prefix, sizeof(prefix), id, "t:");
	arg_str(a, key);
	arg_str(a, idx);
	key_space(log, sizeof(log), id, "activities");
	arg_str(a, log);
	arg_str(a, prefix);
	rc = run(store, SCRIPT_SPACE_DELETE, 3, a, &r, "space_delete");
	if (rc != TD_STORE_OK)
		goto done;
	if (r->type == REDIS_REPLY_NIL)
		rc = TD_STORE_NOT_FOUND;
	else if (space_from_hash(r, id, deleted) != 0)
		rc = TD_STORE_DOWN;
	freeReplyObject(r);
	if (rc != TD_STORE_OK)
		goto done;
	/* then out of the directory (another slot); a crash in between leaves
	 * an id that lists skip, since its space hash is gone */
	r = store_command(store, "ZREM {spaces}:index %" PRId64, id);
	if (reply_failed(r, "space_unindex"))
		goto done;
	freeReplyObject(r);
done:
	free(a);
	return rc;
}

/* Calls fn(id, hash, arg) for each {id, hash} pair of a list reply. */
static int
each_record(const redisReply *r, size_t first,
	    int (*fn)(int64_t id, const redisReply *h, void *arg), void *arg)
{
	const redisReply *item;
	long long id;
	size_t i;
	int rc;

	for (i = first; i < r->elements; i++) {
		item = r->element[i];
		if (item->type != REDIS_REPLY_ARRAY || item->elements != 2 ||
		    item->element[0]->type != REDIS_REPLY_STRING ||
		    td_parse_int64(item->element[0]->str, item->element[0]->len, 1, INT64_MAX, &id))
			return TD_STORE_DOWN;
		rc = fn(id, item->element[1], arg);
		if (rc != 0)
			return rc;
	}
	return TD_STORE_OK;
}

struct space_list_ctx {
	struct td_space sp;
};

int
td_store_space_list(struct td_store *store, td_space_cb cb, void *arg)
{
	struct space_list_ctx *c = malloc(sizeof(*c));
	redisReply *ids = NULL, *r;
	char key[64];
	long long id;
	size_t i;
	int rc = TD_STORE_DOWN;

	if (c == NULL)
		return TD_STORE_DOWN;
	/* the directory and each space live in different slots, so this reads
	 * them one by one rather than in one script (spaces are few) */
	ids = store_command(store, "ZRANGE {spaces}:index 0 -1");
	if (reply_failed(ids, "space_list") || ids->type != REDIS_REPLY_ARRAY)
		goto done;
	rc = TD_STORE_OK;
	for (i = 0; i < ids->elements && rc == TD_STORE_OK; i++) {
		if (ids->element[i]->type != REDIS_REPLY_STRING ||
		    td_parse_int64(ids->element[i]->str, ids->element[i]->len, 1, INT64_MAX, &id)) {
			rc = TD_STORE_DOWN;
			break;
		}
		key_space(key, sizeof(key), id, "space");
		r = store_command(store, "HGETALL %s", key);
		if (reply_failed(r, "space_list")) {
			rc = TD_STORE_DOWN;
			break;
		}
		if (r->type == REDIS_REPLY_ARRAY && r->elements > 0)	/* skip a half-deleted id */
			rc = space_from_hash(r, id, &c->sp) == 0 ? cb(&c->sp, arg) : TD_STORE_DOWN;
		freeReplyObject(r);
	}
done:
	if (ids != NULL && ids->type != REDIS_REPLY_ERROR)
		freeReplyObject(ids);
	free(c);
	return rc;
}

/* --- tokens --- */

static int
token_key(char *out, size_t size, int64_t space_id, int64_t id)
{
	return snprintf(out, size, "{s:%" PRId64 "}:t:%" PRId64, space_id, id);
}

int
td_store_token_create(struct td_store *store, struct td_token *t, const char *actor,
		      const char *action, int *space_min_cache)
{
	struct args *a = args_new();
	struct pairs p;
	redisReply *r = NULL;
	char key[80], space[64], idx[64], log[64];
	long long mc;
	int rc = TD_STORE_DOWN;

	if (a == NULL)
		return TD_STORE_DOWN;
	if ((rc = next_id(store, "{tokens}:seq", &t->id)) != TD_STORE_OK)
		goto done;
	key_space(space, sizeof(space), t->space_id, "space");
	key_space(idx, sizeof(idx), t->space_id, "tokens");
	token_key(key, sizeof(key), t->space_id, t->id);
	key_space(log, sizeof(log), t->space_id, "activities");
	arg_str(a, space);
	arg_str(a, idx);
	arg_str(a, key);
	arg_str(a, log);
	arg_i64(a, t->id);
	arg_str(a, actor != NULL ? actor : "");
	arg_str(a, action != NULL ? action : "");
	arg_i64(a, TD_ACTIVITIES_MAX);
	memset(&p, 0, sizeof(p));
	p.set = a;
	token_pairs(t, &p);
	rc = run(store, SCRIPT_TOKEN_CREATE, 4, a, &r, "token_create");
	if (rc != TD_STORE_OK)
		goto done;
	if (r->type == REDIS_REPLY_NIL)
		rc = TD_STORE_NOT_FOUND;
	else if (r->type != REDIS_REPLY_STRING ||
		 td_parse_int64(r->str, r->len, 0, TD_MIN_CACHE_MAX, &mc) != 0)
		rc = TD_STORE_DOWN;
	else
		*space_min_cache = (int)mc;
	freeReplyObject(r);
done:
	free(a);
	return rc;
}

int
td_store_token_get(struct td_store *store, int64_t space_id, int64_t id, struct td_token *out,
		   int *space_min_cache)
{
	return td_store_token_get_tracked(store, space_id, id, out, space_min_cache, NULL);
}

/* Two plain reads in one round trip rather than a script: the verify path's
 * only Redis call, and plain reads are what client tracking follows. The
 * two are not atomic, and need not be: a token and its space's min_cache
 * change independently. */
int
td_store_token_get_tracked(struct td_store *store, int64_t space_id, int64_t id,
			   struct td_token *out, int *space_min_cache, int *tracked)
{
	redisReply *r[4] = { NULL, NULL, NULL, NULL };
	const redisReply *fields, *mc;
	char key[80], space[64];
	int i, n, track, rc = TD_STORE_DOWN;
	unsigned long gen;
	long long v = 0;

	if (tracked != NULL)
		*tracked = 0;
	if (td_store_connect(store) != 0)
		return TD_STORE_DOWN;
	track = tracked != NULL && store->tracking;
	gen = store->tracking_gen;
	token_key(key, sizeof(key), space_id, id);
	key_space(space, sizeof(space), space_id, "space");
	n = track ? 4 : 2;
	if ((track && redisAppendCommand(store->redis, "CLIENT CACHING yes") != REDIS_OK) ||
	    redisAppendCommand(store->redis, "HGETALL %s", key) != REDIS_OK ||
	    (track && redisAppendCommand(store->redis, "CLIENT CACHING yes") != REDIS_OK) ||
	    redisAppendCommand(store->redis, "HGET %s mc", space) != REDIS_OK) {
		store_mark_down(store, "out of memory");
		return TD_STORE_DOWN;
	}
	for (i = 0; i < n; i++) {
		if (redisGetReply(store->redis, (void **)&r[i]) != REDIS_OK) {
			store_mark_down(store, store->redis->errstr[0] ? store->redis->errstr
								       : "I/O error");
			goto done;
		}
	}
	store->barrier_pending = 0;
	if (track && (r[0]->type != REDIS_REPLY_STATUS || r[2]->type != REDIS_REPLY_STATUS))
		track = 0;	/* read, but not tracked: use it, do not cache it */
	fields = r[n == 4 ? 1 : 0];
	mc = r[n - 1];
	if (fields->type != REDIS_REPLY_ARRAY ||
	    (mc->type != REDIS_REPLY_NIL && (mc->type != REDIS_REPLY_STRING ||
	     td_parse_int64(mc->str, mc->len, 0, TD_MIN_CACHE_MAX, &v) != 0)))
		goto done;
	if (fields->elements == 0)
		rc = TD_STORE_NOT_FOUND;
	else if (token_from_hash(fields, space_id, id, out) != 0)
		goto done;
	else if (out->status == TD_STATUS_DELETED)
		rc = TD_STORE_NOT_FOUND;	/* soft-deleted: kept for audit, seen by no one */
	else
		rc = TD_STORE_OK;
	*space_min_cache = (int)v;
	if (tracked != NULL)
		*tracked = track && store->tracking && gen == store->tracking_gen;
done:
	for (i = 0; i < n; i++)
		freeReplyObject(r[i]);
	return rc;
}

int
td_store_token_put(struct td_store *store, const struct td_token *t)
{
	struct args *pairs = args_new();
	struct pairs p;
	char key[80];
	int rc;

	if (pairs == NULL)
		return TD_STORE_DOWN;
	memset(&p, 0, sizeof(p));
	p.set = pairs;
	token_pairs(t, &p);
	token_key(key, sizeof(key), t->space_id, t->id);
	rc = put_existing(store, key, pairs, p.del, p.ndel, "token_put");
	free(pairs);
	return rc;
}

int
td_store_token_delete(struct td_store *store, int64_t space_id, int64_t id,
		      struct td_token *deleted)
{
	struct args *a = args_new();
	redisReply *r = NULL;
	char key[80], idx[64];
	int rc;

	if (a == NULL)
		return TD_STORE_DOWN;
	token_key(key, sizeof(key), space_id, id);
	key_space(idx, sizeof(idx), space_id, "tokens");
	arg_str(a, key);
	arg_str(a, idx);
	arg_i64(a, id);
	rc = run(store, SCRIPT_RECORD_DELETE, 2, a, &r, "token_delete");
	if (rc == TD_STORE_OK) {
		if (r->type == REDIS_REPLY_NIL)
			rc = TD_STORE_NOT_FOUND;
		else if (token_from_hash(r, space_id, id, deleted) != 0)
			rc = TD_STORE_DOWN;
		freeReplyObject(r);
	}
	free(a);
	return rc;
}

struct token_list_ctx {
	td_token_cb cb;
	void *arg;
	int64_t space_id;
	int space_min_cache;
	struct td_token t;
};

static int
token_list_one(int64_t id, const redisReply *h, void *arg)
{
	struct token_list_ctx *c = arg;

	if (token_from_hash(h, c->space_id, id, &c->t) != 0)
		return TD_STORE_DOWN;
	if (c->t.status == TD_STATUS_DELETED)
		return 0;
	return c->cb(&c->t, c->space_min_cache, c->arg);
}

/* Reads the next n replies of a pipeline; each goes to fn while *rc is OK,
 * and all are read whatever happens, so the connection stays in step. */
static void
pipeline_drain(struct td_store *store, size_t n, int *rc,
	       int (*fn)(size_t i, const redisReply *r, void *arg), void *arg)
{
	redisReply *r;
	size_t i;
	int cb;

	for (i = 0; i < n; i++) {
		if (redisGetReply(store->redis, (void **)&r) != REDIS_OK) {
			store_mark_down(store, store->redis->errstr[0] ? store->redis->errstr
								       : "I/O error");
			*rc = TD_STORE_DOWN;
			return;
		}
		if (*rc == TD_STORE_OK && (cb = fn(i, r, arg)) != 0)
			*rc = cb;
		freeReplyObject(r);
	}
	store->barrier_pending = 0;
}

struct token_batch {
	struct token_list_ctx *c;
	const int64_t *ids;		/* the index, parsed */
	size_t first;			/* index in ids of the batch's first reply */
};

static int
token_batch_one(size_t i, const redisReply *h, void *arg)
{
	struct token_batch *b = arg;

	if (h->type != REDIS_REPLY_ARRAY)
		return TD_STORE_DOWN;
	if (h->elements == 0)
		return 0;	/* deleted since the index was read */
	return token_list_one(b->ids[b->first + i], h, b->c);
}

/* The index, then the records by pipelined HGETALL in batches, each token
 * handed to cb as its reply is read: a 10,000-token list never exists as
 * one reply tree, and Redis runs plain reads rather than one long script
 * that would block every other client for its duration. Like any list that
 * is not a snapshot, a token deleted meanwhile is skipped. */
int
td_store_token_list(struct td_store *store, int64_t space_id, td_token_cb cb, void *arg)
{
	struct token_list_ctx *c = malloc(sizeof(*c));
	redisReply *r[3] = { NULL, NULL, NULL };
	struct token_batch b;
	char space[64], idx[64], key[80];
	long long mc = 0, id;
	int64_t *ids = NULL;
	size_t i, n, end;
	int k, rc = TD_STORE_DOWN;

	if (c == NULL || td_store_connect(store) != 0)
		goto done;
	key_space(space, sizeof(space), space_id, "space");
	key_space(idx, sizeof(idx), space_id, "tokens");
	if (redisAppendCommand(store->redis, "EXISTS %s", space) != REDIS_OK ||
	    redisAppendCommand(store->redis, "HGET %s mc", space) != REDIS_OK ||
	    redisAppendCommand(store->redis, "ZRANGE %s 0 -1", idx) != REDIS_OK) {
		store_mark_down(store, "out of memory");
		goto done;
	}
	for (k = 0; k < 3; k++) {
		if (redisGetReply(store->redis, (void **)&r[k]) != REDIS_OK) {
			store_mark_down(store, store->redis->errstr[0] ? store->redis->errstr
								       : "I/O error");
			goto done;
		}
	}
	if (r[0]->type != REDIS_REPLY_INTEGER || r[2]->type != REDIS_REPLY_ARRAY ||
	    (r[1]->type != REDIS_REPLY_NIL && (r[1]->type != REDIS_REPLY_STRING ||
	     td_parse_int64(r[1]->str, r[1]->len, 0, TD_MIN_CACHE_MAX, &mc) != 0)))
		goto done;
	if (r[0]->integer == 0) {
		rc = TD_STORE_NOT_FOUND;
		goto done;
	}
	if ((ids = malloc((r[2]->elements + 1) * sizeof(*ids))) == NULL)
		goto done;
	for (i = 0; i < r[2]->elements; i++) {
		if (r[2]->element[i]->type != REDIS_REPLY_STRING ||
		    td_parse_int64(r[2]->element[i]->str, r[2]->element[i]->len, 1, INT64_MAX,
				   &id) != 0)
			goto done;
		ids[i] = id;
	}
	c->cb = cb;
	c->arg = arg;
	c->space_id = space_id;
	c->space_min_cache = (int)mc;
	b.c = c;
	b.ids = ids;
	rc = TD_STORE_OK;
	for (b.first = 0; b.first < r[2]->elements && rc == TD_STORE_OK; b.first = end) {
		end = b.first + STORE_LIST_BATCH < r[2]->elements ? b.first + STORE_LIST_BATCH
								   : r[2]->elements;
		for (n = 0, i = b.first; i < end; i++, n++) {
			token_key(key, sizeof(key), space_id, ids[i]);
			if (redisAppendCommand(store->redis, "HGETALL %s", key) != REDIS_OK)
				break;
		}
		pipeline_drain(store, n, &rc, token_batch_one, &b);
		if (n < end - b.first && rc == TD_STORE_OK) {
			store_mark_down(store, "out of memory");
			rc = TD_STORE_DOWN;
		}
	}
done:
	for (k = 0; k < 3; k++)
		if (r[k] != NULL)
			freeReplyObject(r[k]);
	free(ids);
	free(c);
	return rc;
}

/* --- personal access tokens --- */

static void
pat_pairs(const struct td_pat *p, struct args *a)
{
	arg_str(a, "n");
	arg_str(a, p->name);
	arg_str(a, "sp");
	if (p->all_spaces)
		arg_str(a, "all");
	else
		arg_ids(a, p->spaces, p->nspaces);
	arg_str(a, "sc");
	arg_i64(a, p->scopes);
	arg_str(a, "f");
	arg_str(a, p->full ? "1" : "0");
	if (p->expires_at != 0) {
		arg_str(a, "x");
		arg_i64(a, p->expires_at);
	}
	arg_str(a, "k");
	arg_i64(a, p->kid);
	arg_str(a, "h");
	arg_hex(a, p->hash, TD_PAT_HASH_BYTES);
	arg_str(a, "ca");
	arg_i64(a, p->created_at_ms);
	if (p->created_by[0] != '\0') {
		arg_str(a, "cb");
		arg_str(a, p->created_by);
	}
}

int
td_store_pat_create(struct td_store *store, struct td_pat *p)
{
	struct args *a = args_new();
	redisReply *r = NULL;
	int rc;

	if (a == NULL)
		return TD_STORE_DOWN;
	arg_str(a, "{pats}:seq");
	arg_str(a, "{pats}:index");
	arg_str(a, "{pats}:p:");
	pat_pairs(p, a);
	rc = run(store, SCRIPT_PAT_CREATE, 2, a, &r, "pat_create");
	if (rc == TD_STORE_OK) {
		if (r->type == REDIS_REPLY_INTEGER && r->integer > 0)
			p->id = r->integer;
		else
			rc = TD_STORE_DOWN;
		freeReplyObject(r);
	}
	free(a);
	return rc;
}

int
td_store_pat_get(struct td_store *store, int64_t id, struct td_pat *out)
{
	redisReply *r = store_command(store, "HGETALL {pats}:p:%" PRId64, id);
	int rc;

	if (reply_failed(r, "pat_get"))
		return TD_STORE_DOWN;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 0)
		rc = TD_STORE_NOT_FOUND;
	else
		rc = pat_from_hash(r, id, out) == 0 ? TD_STORE_OK : TD_STORE_DOWN;
	freeReplyObject(r);
	return rc;
}

int
td_store_pat_delete(struct td_store *store, int64_t id, struct td_pat *deleted)
{
	struct args *a = args_new();
	redisReply *r = NULL;
	char key[64];
	int rc;

	if (a == NULL)
		return TD_STORE_DOWN;
	snprintf(key, sizeof(key), "{pats}:p:%" PRId64, id);
	arg_str(a, key);
	arg_str(a, "{pats}:index");
	arg_i64(a, id);
	rc = run(store, SCRIPT_RECORD_DELETE, 2, a, &r, "pat_delete");
	if (rc == TD_STORE_OK) {
		if (r->type == REDIS_REPLY_NIL)
			rc = TD_STORE_NOT_FOUND;
		else if (pat_from_hash(r, id, deleted) != 0)
			rc = TD_STORE_DOWN;
		freeReplyObject(r);
	}
	free(a);
	return rc;
}

struct pat_list_ctx {
	td_pat_cb cb;
	void *arg;
	struct td_pat p;
};

static int
pat_list_one(int64_t id, const redisReply *h, void *arg)
{
	struct pat_list_ctx *c = arg;

	if (pat_from_hash(h, id, &c->p) != 0)
		return TD_STORE_DOWN;
	return c->cb(&c->p, c->arg);
}

int
td_store_pat_list(struct td_store *store, td_pat_cb cb, void *arg)
{
	struct pat_list_ctx *c = malloc(sizeof(*c));
	struct args *a = args_new();
	redisReply *r = NULL;
	int rc = TD_STORE_DOWN;

	if (a == NULL || c == NULL)
		goto done;
	c->cb = cb;
	c->arg = arg;
	arg_str(a, "{pats}:index");
	arg_str(a, "{pats}:p:");
	rc = run(store, SCRIPT_RECORD_LIST, 1, a, &r, "pat_list");
	if (rc != TD_STORE_OK)
		goto done;
	rc = r->type == REDIS_REPLY_ARRAY ? each_record(r, 0, pat_list_one, c) : TD_STORE_DOWN;
	freeReplyObject(r);
done:
	free(a);
	free(c);
	return rc;
}

/* --- rate limits --- */

int
td_store_rate_check(struct td_store *store, int64_t space_id, const char *caller,
		    int default_limit, int period_ms, struct td_rate *out)
{
	struct args *a = args_new();
	redisReply *r = NULL;
	char key[128], space[64];
	size_t i;
	int rc;

	if (a == NULL)
		return TD_STORE_DOWN;
	snprintf(key, sizeof(key), "{s:%" PRId64 "}:rl:%s", space_id, caller);
	key_space(space, sizeof(space), space_id, "space");
	arg_str(a, key);
	arg_str(a, space);
	arg_fmt(a, "%d", default_limit);
	arg_fmt(a, "%d", period_ms);
	rc = run(store, SCRIPT_RATE_CHECK, 2, a, &r, "rate_check");
	if (rc == TD_STORE_OK) {
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 5) {
			rc = TD_STORE_DOWN;
		} else {
			for (i = 0; i < 5; i++)
				if (r->element[i]->type != REDIS_REPLY_INTEGER)
					rc = TD_STORE_DOWN;
		}
		if (rc == TD_STORE_OK) {
			out->allowed = r->element[0]->integer == 1;
			out->limit = r->element[1]->integer;
			out->remaining = r->element[2]->integer;
			out->reset_ms = r->element[3]->integer;
			out->retry_after_ms = r->element[4]->integer;
		}
		freeReplyObject(r);
	}
	free(a);
	return rc;
}

/* --- activity log --- */

int
td_store_activity_add(struct td_store *store, int64_t space_id, const char *actor,
		      const char *action, int64_t resource_id)
{
	char key[64];
	redisReply *r;
	int rc;

	key_space(key, sizeof(key), space_id, "activities");
	r = store_command(store, "XADD %s MAXLEN ~ %d * a %s x %s r %" PRId64, key,
			  TD_ACTIVITIES_MAX, actor, action, resource_id);
	if ((rc = reply_failed(r, "activity_add")) != 0)
		return rc;
	freeReplyObject(r);
	return TD_STORE_OK;
}

int
td_store_activity_list(struct td_store *store, int64_t space_id, int limit, td_activity_cb cb,
		       void *arg)
{
	struct td_activity a;
	const redisReply *e, *f;
	char key[64];
	redisReply *r;
	size_t i, j;
	int rc = TD_STORE_OK;

	key_space(key, sizeof(key), space_id, "activities");
	r = store_command(store, "XREVRANGE %s + - COUNT %d", key, limit);
	if (reply_failed(r, "activity_list") || r->type != REDIS_REPLY_ARRAY)
		return TD_STORE_DOWN;
	for (i = 0; i < r->elements && rc == TD_STORE_OK; i++) {
		e = r->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
		    e->element[0]->type != REDIS_REPLY_STRING || !hash_ok(e->element[1]))
			continue;
		memset(&a, 0, sizeof(a));
		field_text(e->element[0], a.id, sizeof(a.id));
		f = e->element[1];
		for (j = 0; j < f->elements; j += 2) {
			if (is_field(f->element[j], "a"))
				field_text(f->element[j + 1], a.actor, sizeof(a.actor));
			else if (is_field(f->element[j], "x"))
				field_text(f->element[j + 1], a.action, sizeof(a.action));
			else if (is_field(f->element[j], "r"))
				(void)field_i64(f->element[j + 1], 0, INT64_MAX, &a.resource_id);
		}
		rc = cb(&a, arg);
	}
	freeReplyObject(r);
	return rc;
}
