/*
 * Spaces, tokens and PATs as Redis hashes, their indexes, the activity
 * log, rate limits and the minted-credential sets: keys, commands and
 * scripts. Field names and encodings are in codec.c's tables; in short:
 *
 *   {s:<space>}:space      n name, mc min_cache, ca/ua created/updated (ms), rl rate
 *                          limit, cb creator
 *   {s:<space>}:tokens     sorted set of the space's token ids
 *   {s:<space>}:t:<id>     n name (absent = null), d description, i icon, a access,
 *                          b branch_id, st story_ids, rl release_ids (comma-separated),
 *                          mc min_cache (absent = the space's), s "d" disabled, "D"
 *                          deleted, x expires_at (s), r rights, ro role, ht built-in,
 *                          k key id, sk token kind, sc secret (16 raw bytes; hex once),
 *                          ca/ua created/updated (ms), cb/ub by, md modules,
 *                          ea/eb enabled, da/db disabled, mb minted by, ac allowed_cidrs
 *                          ("10.0.0.0/8,::1/128"); a field at its default (r, sk: the
 *                          access's; ua, ub: ca, cb; no ac) is left out
 *   {s:<space>}:m:<id>     set of the credentials token <id> minted
 *   {s:<space>}:activities stream; {s:<space>}:rl:<caller> the rate limiter
 *   {s:<space>}:deleted    ids of soft-deleted tokens (kept for audit)
 *   {s:<space>}:role:<id>  a role of the space's own (ids above the built-ins): n name,
 *                          p flags, e environments, ih inherited role ids, pi ni pu nu
 *                          pb nb ps ns the permission lists (compact JSON), ca/ua, cb/ub,
 *                          rv revision
 *   {s:<space>}:roles      sorted set of its role ids; {s:<space>}:roles:seq their counter
 *   {s:<space>}:role_use   hash: role id -> how many of its tokens hold it (kept by
 *                          every token write script; see scripts.h)
 *   {spaces}:index, {spaces}:seq, {tokens}:seq
 *   {pats}:p:<id>          n, sp "all" or ids, sc scopes, f full, x, k, h secret hash
 *                          (hex), ca, cb, mb, ac
 *   {pats}:m:<id>          set of the credentials PAT <id> minted
 *   {pats}:index, {pats}:seq
 *   {pats}:activities      the account's trail (PATs, spaces made and removed)
 *
 * No token string and no PAT secret is ever written: only the regeneration
 * secret of delivery tokens (useless without the HMAC key) and the keyed
 * hash of PAT secrets. This file must never read a reply after a failure
 * freed it (the helper that fails frees it and sets it to NULL, and every
 * function leaves by one exit that frees what is left), nor build a key
 * from an id or a reference it did not check.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "tokend/server/log.h"
#include "tokend/server/parse.h"
#include "tokend/server/out.h"
#include "tokend/core/cred_ref.h"
#include "tokend/core/pat.h"
#include "tokend/core/role.h"
#include "tokend/core/space.h"
#include "tokend/core/token.h"
#include "codec.h"
#include "internal.h"

/* one sequence for the ids of every space's tokens */
#define TOKEN_SEQ "{tokens}:seq"

/* Keys and numbers are copied here; record values are only pointed at. */
#define ARGS_BYTES 1024

/* a token create: 6 keys, 2 limiters, 8 arguments, the limiters' 2 + 2 * 2,
 * "ru" and its value, then the record */
_Static_assert(6 + 2 + 8 + 6 + 2 + 2 * CODEC_FIELDS_MAX <= STORE_ARGS_MAX,
	       "a token create fits a script call");

/* Arguments for one script call. */
struct args {
	const char *v[STORE_ARGS_MAX];
	size_t len[STORE_ARGS_MAX];
	int n;
	size_t used;
	int overflow;
	char buf[ARGS_BYTES];
};

static void
args_init(struct args *a)
{
	a->n = 0;
	a->used = 0;
	a->overflow = 0;
}

/* Points at s, which must outlive the call. */
static void
arg_ref(struct args *a, const char *s, size_t len)
{
	if (a->n == STORE_ARGS_MAX) {
		a->overflow = 1;
		return;
	}
	a->v[a->n] = s;
	a->len[a->n++] = len;
}

static void
arg_str(struct args *a, const char *s)
{
	size_t len = strlen(s);

	if (a->used + len + 1 > sizeof(a->buf)) {
		a->overflow = 1;
		return;
	}
	memcpy(a->buf + a->used, s, len + 1);
	arg_ref(a, a->buf + a->used, len);
	a->used += len + 1;
}

static void
arg_i64(struct args *a, int64_t v)
{
	char tmp[32];

	snprintf(tmp, sizeof(tmp), "%" PRId64, v);
	arg_str(a, tmp);
}

/* An encoded record's field/value pairs (and, with del, the fields to delete). */
static void
arg_record(struct args *a, const struct codec_out *rec, int del)
{
	int i;

	for (i = 0; i < rec->nset; i++)
		arg_ref(a, rec->set[i].s, rec->set[i].len);
	for (i = 0; del && i < rec->ndel; i++)
		arg_ref(a, rec->del[i], strlen(rec->del[i]));
}

/* --- replies: the function that fails cleans up --- */

/* Takes *r: TD_STORE_OK for a reply to read. Otherwise *r is freed and set
 * to NULL, so no caller can read it, and the result says why: REFUSED when
 * Redis is up but refuses writes (out of memory under noeviction, MISCONF
 * when it cannot persist, a read-only replica), else DOWN. */
static int
reply_check(redisReply **r, const char *what)
{
	int rc;

	if (*r == NULL)
		return TD_STORE_DOWN;
	if ((*r)->type != REDIS_REPLY_ERROR)
		return TD_STORE_OK;
	rc = strncmp((*r)->str, "OOM", 3) == 0 || strncmp((*r)->str, "MISCONF", 7) == 0 ||
	     strncmp((*r)->str, "READONLY", 8) == 0 ? TD_STORE_REFUSED : TD_STORE_DOWN;
	td_log_error("%s: redis refused: %.200s", what, (*r)->str);
	freeReplyObject(*r);
	*r = NULL;
	return rc;
}

/* One plain command on key (the node that serves it) into *r, checked as
 * above. */
static int
command(struct td_store *store, redisReply **r, const char *what, const char *key,
	const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
command(struct td_store *store, redisReply **r, const char *what, const char *key,
	const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	*r = store_vcommand(store, key, fmt, ap);
	va_end(ap);
	return reply_check(r, what);
}

/* A plain command that writes: with redis_min_replica_acks, confirmed by
 * that many replicas before the caller may acknowledge it. */
static int
write_command(struct td_store *store, redisReply **r, const char *what, const char *key,
	      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
write_command(struct td_store *store, redisReply **r, const char *what, const char *key,
	      const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	*r = store_vcommand(store, key, fmt, ap);
	va_end(ap);
	if ((rc = reply_check(r, what)) == TD_STORE_OK && store_confirm_write(store) != 0) {
		freeReplyObject(*r);
		*r = NULL;
		rc = TD_STORE_DOWN;
	}
	return rc;
}

/* HGETALL key into *r, to decode: NOT_FOUND when there is no such hash
 * (then *r is NULL, as after any failure). */
static int
get_hash(struct td_store *store, const char *key, const char *what, redisReply **r)
{
	int rc = command(store, r, what, key, "HGETALL %s", key);

	if (rc == TD_STORE_OK && (*r)->type == REDIS_REPLY_ARRAY && (*r)->elements == 0) {
		freeReplyObject(*r);
		*r = NULL;
		rc = TD_STORE_NOT_FOUND;
	}
	return rc;
}

static int
run(struct td_store *store, enum store_script s, int nkeys, const struct args *a,
    redisReply **r, const char *what)
{
	*r = NULL;
	if (a->overflow) {
		td_log_error("%s: more arguments than a script call takes", what);
		return TD_STORE_DOWN;
	}
	*r = store_script(store, s, nkeys, a->n, a->v, a->len);
	return reply_check(r, what);
}

/* --- records through the codec --- */

/* The record's fields, or NULL (logged): a value out of its bounds is
 * never written, so every record written can be read. Freed by the caller. */
static struct codec_out *
encode(enum codec_record type, const void *rec, const char *what)
{
	struct codec_out *out = malloc(sizeof(*out));
	const char *bad = "";

	if (out == NULL) {
		td_log_error("%s: out of memory", what);
		return NULL;
	}
	if (codec_encode(type, rec, out, &bad) != 0) {
		td_log_error("%s: field %s out of its bounds, not written", what, bad);
		free(out);
		return NULL;
	}
	return out;
}

/* An HGETALL reply into rec. 0, or -1 logged (the label names the record). */
static int
decode(enum codec_record type, const redisReply *h, void *rec, const char *label)
{
	struct codec_str stack[2 * CODEC_FIELDS_MAX], *kv = stack;
	const char *bad = "";
	size_t i;
	int rc = -1;

	if (h == NULL || h->type != REDIS_REPLY_ARRAY)
		goto done;
	/* more fields than the table has: some a newer tokend wrote */
	if (h->elements > sizeof(stack) / sizeof(stack[0]) &&
	    (kv = malloc(h->elements * sizeof(*kv))) == NULL)
		goto done;
	for (i = 0; i < h->elements; i++) {
		if (h->element[i]->type != REDIS_REPLY_STRING)
			goto done;
		kv[i].s = h->element[i]->str;
		kv[i].len = h->element[i]->len;
	}
	rc = codec_decode(type, rec, h->elements > 0 ? kv : NULL, h->elements, &bad);
done:
	if (rc != 0)
		td_log_error("%s: malformed record%s%s", label, bad[0] ? ", field " : "", bad);
	if (kv != stack)
		free(kv);
	return rc;
}

/* A record of a space (token, role): decoded, its ids set from its key. */
static int
from_hash_in_space(enum codec_record type, const char *what, const redisReply *h,
		   int64_t space_id, int64_t id, void *rec, int64_t *rec_space, int64_t *rec_id)
{
	char label[64];
	int rc;

	snprintf(label, sizeof(label), "%s %" PRId64 "/%" PRId64, what, space_id, id);
	rc = decode(type, h, rec, label);
	*rec_space = space_id;
	*rec_id = id;
	return rc;
}

static int
token_from_hash(const redisReply *h, int64_t space_id, int64_t id, struct td_token *t)
{
	return from_hash_in_space(CODEC_TOKEN, "token", h, space_id, id, t, &t->space_id, &t->id);
}

static int
space_from_hash(const redisReply *h, int64_t id, struct td_space *sp)
{
	char label[48];
	int rc;

	snprintf(label, sizeof(label), "space %" PRId64, id);
	rc = decode(CODEC_SPACE, h, sp, label);
	sp->id = id;
	return rc;
}

static int
role_from_hash(const redisReply *h, int64_t space_id, int64_t id, struct td_role *r)
{
	return from_hash_in_space(CODEC_ROLE, "role", h, space_id, id, r, &r->space_id, &r->id);
}

static int
pat_from_hash(const redisReply *h, int64_t id, struct td_pat *p)
{
	char label[48];
	int rc;

	snprintf(label, sizeof(label), "pat %" PRId64, id);
	rc = decode(CODEC_PAT, h, p, label);
	p->id = id;
	return rc;
}

/* --- keys and ids --- */

/* Key names are appended, not snprintf'd: every verify that reads Redis
 * builds two (see td_out). A name cut short by size is logged and left
 * empty, which names no record. */
static void
space_key_part(char *out, size_t size, int64_t space_id, const char *suffix, int64_t id,
	       int with_id)
{
	struct td_out o;

	td_out_init(&o, out, size);
	td_out_putn(&o, "{s:", 3);
	td_out_i64(&o, space_id);
	td_out_putn(&o, "}:", 2);
	td_out_put(&o, suffix);
	if (with_id)
		td_out_i64(&o, id);
	if (o.overflow && size > 0) {
		td_log_error("key for space %" PRId64 " longer than %zu bytes", space_id, size);
		out[0] = '\0';
	}
}

static void
key_space(char *out, size_t size, int64_t space_id, const char *suffix)
{
	space_key_part(out, size, space_id, suffix, 0, 0);
}

static void
token_key(char *out, size_t size, int64_t space_id, int64_t id)
{
	space_key_part(out, size, space_id, "t:", id, 1);
}

/* A role's hash; role 0 (none) names a key no role has, in the same slot. */
static void
role_key(char *out, size_t size, int64_t space_id, int64_t id)
{
	space_key_part(out, size, space_id, "role:", id > 0 ? id : 0, 1);
}

/* The space's keys (or key prefixes) named by suffixes (NULL-terminated),
 * in order. */
static void
arg_space_keys(struct args *a, int64_t space_id, const char *const *suffixes)
{
	char key[64];

	for (; *suffixes != NULL; suffixes++) {
		key_space(key, sizeof(key), space_id, *suffixes);
		arg_str(a, key);
	}
}

#define SPACE_KEYS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static int
next_id(struct td_store *store, const char *seq_key, int64_t *id)
{
	redisReply *r = NULL;
	int rc;

	if ((rc = write_command(store, &r, "next_id", seq_key, "INCR %s", seq_key)) != TD_STORE_OK)
		goto done;
	if (r->type != REDIS_REPLY_INTEGER || r->integer <= 0 || r->integer > TD_ID_MAX) {
		td_log_error("%s: no id left below 2^53", seq_key);
		rc = TD_STORE_DOWN;
	} else {
		*id = r->integer;
	}
done:
	freeReplyObject(r);
	return rc;
}

int
td_store_token_next_id(struct td_store *store, int64_t *id)
{
	return next_id(store, TOKEN_SEQ, id);
}

int
td_store_pat_next_id(struct td_store *store, int64_t *id)
{
	return next_id(store, "{pats}:seq", id);
}

/* A create's id: the caller's (> 0, handed out by next_id), else a new one. */
static int
create_id(struct td_store *store, const char *seq_key, int64_t *id, const char *what)
{
	if (*id > 0)
		return TD_STORE_OK;
	if (*id < 0) {
		td_log_error("%s: %" PRId64 " is not an id", what, *id);
		return TD_STORE_DOWN;
	}
	return next_id(store, seq_key, id);
}

/* A compare-and-set script's answer: 1 written, -1 changed since read,
 * -2 a record it names is gone (a token's role), else gone. */
static int
cas_result(const redisReply *r)
{
	if (r->type != REDIS_REPLY_INTEGER)
		return TD_STORE_DOWN;
	switch (r->integer) {
	case 1: return TD_STORE_OK;
	case -1: return TD_STORE_CONFLICT;
	case -2: return TD_STORE_DANGLING;
	default: return TD_STORE_NOT_FOUND;
	}
}

/* What a write records in its space's activity trail, in the same script
 * (actor NULL: nothing). */
struct activity {
	const char *actor, *action;
	int64_t id;
};

/* Writes rec's pairs (and, with del, deletes its default fields) on an
 * existing hash only: a record deleted meanwhile is not resurrected. A
 * token (space_id > 0) keeps the space's role-use counts as it takes role
 * (scripts.h), and may record the activity. */
static int
put_existing(struct td_store *store, const char *key, int64_t space_id, int64_t role,
	     int64_t revision, const struct codec_out *rec, int del,
	     const struct activity *act, const char *what)
{
	char use[64], rkey[80], log[64];
	redisReply *r = NULL;
	struct args a;
	int rc;

	args_init(&a);
	arg_str(&a, key);
	if (space_id > 0) {
		key_space(use, sizeof(use), space_id, "role_use");
		role_key(rkey, sizeof(rkey), space_id, role);
		key_space(log, sizeof(log), space_id, "activities");
		arg_str(&a, use);
		arg_str(&a, rkey);
		arg_str(&a, log);
	}
	arg_i64(&a, revision);
	arg_i64(&a, role);
	arg_str(&a, act != NULL && act->actor != NULL ? act->actor : "");
	arg_str(&a, act != NULL && act->action != NULL ? act->action : "");
	arg_i64(&a, TD_ACTIVITIES_MAX);
	arg_i64(&a, act != NULL ? act->id : 0);
	arg_i64(&a, rec->nset);
	arg_record(&a, rec, del);
	if ((rc = run(store, SCRIPT_PUT_EXISTING, space_id > 0 ? 4 : 1, &a, &r, what)) == TD_STORE_OK)
		rc = cas_result(r);
	freeReplyObject(r);
	return rc;
}

/* --- spaces --- */

int
td_store_space_create(struct td_store *store, struct td_space *sp, int explicit_id)
{
	struct codec_out *rec = encode(CODEC_SPACE, sp, "space_create");
	redisReply *r = NULL;
	struct args a;
	char key[64];
	int attempt, rc = TD_STORE_DOWN;

	if (rec == NULL)
		goto done;
	for (attempt = 0; attempt < 8; attempt++) {
		/* an auto id can meet a caller-chosen one: take the next */
		if (!explicit_id && (rc = next_id(store, "{spaces}:seq", &sp->id)) != TD_STORE_OK)
			goto done;
		args_init(&a);
		key_space(key, sizeof(key), sp->id, "space");
		arg_str(&a, key);
		arg_record(&a, rec, 0);
		if ((rc = run(store, SCRIPT_CREATE_IF_ABSENT, 1, &a, &r, "space_create")) != TD_STORE_OK)
			goto done;
		rc = r->type == REDIS_REPLY_INTEGER && r->integer == 1 ? TD_STORE_OK : TD_STORE_EXISTS;
		freeReplyObject(r);
		r = NULL;
		if (rc == TD_STORE_OK || explicit_id)
			break;
	}
	if (rc != TD_STORE_OK)
		goto done;
	/* the directory is a separate slot ({spaces}): listed right after */
	args_init(&a);
	arg_str(&a, "{spaces}:index");
	arg_str(&a, "{spaces}:seq");
	arg_i64(&a, sp->id);
	arg_i64(&a, TD_ID_FOLLOW_GAP);
	rc = run(store, SCRIPT_SPACE_INDEX_ADD, 2, &a, &r, "space_index");
done:
	freeReplyObject(r);
	free(rec);
	return rc;
}

int
td_store_space_get(struct td_store *store, int64_t id, struct td_space *out)
{
	redisReply *r = NULL;
	char key[64];
	int rc;

	key_space(key, sizeof(key), id, "space");
	if ((rc = get_hash(store, key, "space_get", &r)) == TD_STORE_OK &&
	    space_from_hash(r, id, out) != 0)
		rc = TD_STORE_DOWN;
	freeReplyObject(r);
	return rc;
}

int
td_store_space_put(struct td_store *store, struct td_space *sp)
{
	struct codec_out *rec = encode(CODEC_SPACE, sp, "space_put");
	char key[64];
	int rc = TD_STORE_DOWN;

	if (rec == NULL)
		goto done;
	key_space(key, sizeof(key), sp->id, "space");
	/* deletes: a bound back to its default leaves the record */
	if ((rc = put_existing(store, key, 0, 0, sp->revision, rec, 1, NULL, "space_put")) == TD_STORE_OK)
		sp->revision++;
done:
	free(rec);
	return rc;
}

int
td_store_space_delete(struct td_store *store, int64_t id, struct td_space *deleted)
{
	redisReply *r = NULL;
	struct args a;
	int rc;

	/* seven keys, then the prefixes of tokens, minted sets and roles */
	args_init(&a);
	arg_space_keys(&a, id, SPACE_KEYS("space", "tokens", "activities", "deleted", "roles",
					  "role_use", "roles:seq", "t:", "m:", "role:"));
	if ((rc = run(store, SCRIPT_SPACE_DELETE, 7, &a, &r, "space_delete")) != TD_STORE_OK)
		goto done;
	if (r->type == REDIS_REPLY_NIL)
		rc = TD_STORE_NOT_FOUND;
	else if (space_from_hash(r, id, deleted) != 0)
		rc = TD_STORE_DOWN;
	freeReplyObject(r);
	r = NULL;
	if (rc != TD_STORE_OK)
		goto done;
	/* then out of the directory (another slot); if this fails (logged) the
	 * space is gone all the same, and lists skip an id without a hash */
	(void)write_command(store, &r, "space_unindex", "{spaces}:index",
		      "ZREM {spaces}:index %" PRId64, id);
done:
	freeReplyObject(r);
	return rc;
}

/* Calls fn(id, hash, arg) for each {id, hash} pair of a list reply. */
static int
each_record(const redisReply *r, int (*fn)(int64_t id, const redisReply *h, void *arg),
	    void *arg)
{
	const redisReply *item;
	long long id;
	size_t i;
	int rc;

	for (i = 0; i < r->elements; i++) {
		item = r->element[i];
		if (item->type != REDIS_REPLY_ARRAY || item->elements != 2 ||
		    item->element[0]->type != REDIS_REPLY_STRING ||
		    td_parse_int64(item->element[0]->str, item->element[0]->len, 1, INT64_MAX, &id))
			return TD_STORE_DOWN;
		if ((rc = fn(id, item->element[1], arg)) != 0)
			return rc;
	}
	return TD_STORE_OK;
}

int
td_store_space_list(struct td_store *store, td_space_cb cb, void *arg)
{
	struct td_space *sp = malloc(sizeof(*sp));
	redisReply *ids = NULL, *r = NULL;
	char key[64];
	long long id;
	size_t i;
	int rc = TD_STORE_DOWN;

	if (sp == NULL)
		goto done;
	/* the directory and each space live in different slots, so this reads
	 * them one by one rather than in one script (spaces are few) */
	if ((rc = command(store, &ids, "space_list", "{spaces}:index",
			   "ZRANGE {spaces}:index 0 -1")) != TD_STORE_OK)
		goto done;
	if (ids->type != REDIS_REPLY_ARRAY) {
		rc = TD_STORE_DOWN;
		goto done;
	}
	for (i = 0; i < ids->elements && rc == TD_STORE_OK; i++) {
		if (ids->element[i]->type != REDIS_REPLY_STRING ||
		    td_parse_int64(ids->element[i]->str, ids->element[i]->len, 1, INT64_MAX, &id)) {
			rc = TD_STORE_DOWN;
			break;
		}
		key_space(key, sizeof(key), id, "space");
		if ((rc = command(store, &r, "space_list", key, "HGETALL %s", key)) != TD_STORE_OK)
			break;
		if (r->type == REDIS_REPLY_ARRAY && r->elements > 0)	/* skip a half-deleted id */
			rc = space_from_hash(r, id, sp) == 0 ? cb(sp, arg) : TD_STORE_DOWN;
		freeReplyObject(r);
		r = NULL;
	}
done:
	freeReplyObject(r);
	freeReplyObject(ids);
	free(sp);
	return rc;
}

/* --- tokens --- */

/* The limiters' keys, after a script's other keys ({s:<space>}:rl:<caller>:
 * the space's slot), into keys[], which must outlive the call. */
static void
arg_limiter_keys(struct args *a, char keys[][128], int64_t space_id,
		 const struct td_rate_check *checks, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		snprintf(keys[i], sizeof(keys[0]), "{s:%" PRId64 "}:rl:%s", space_id,
			 checks[i].caller);
		arg_ref(a, keys[i], strlen(keys[i]));
	}
}

/* The limiters' arguments, as LUA_LIMITERS reads them. */
static void
arg_limiters(struct args *a, int period_ms, const struct td_rate_check *checks, int n)
{
	int i;

	arg_i64(a, n);
	arg_i64(a, period_ms);
	for (i = 0; i < n; i++) {
		arg_i64(a, checks[i].default_limit);
		arg_str(a, checks[i].override);
	}
}

static int rates_from_reply(const redisReply *rates, int n, struct td_rate *out);

/* A record's size as limits.record_bytes counts it: its values' bytes. */
static size_t
record_bytes(const struct codec_out *rec)
{
	size_t bytes = 0;
	int i;

	for (i = 0; i < rec->nset; i++)
		bytes += rec->set[i].len;
	return bytes;
}

/* What the create script's result says, as a store result. */
static int
create_result(long long result)
{
	switch (result) {
	case 1: return TD_STORE_OK;
	case 0: return TD_STORE_EXISTS;
	case -1: return TD_STORE_QUOTA;
	case -2: return TD_STORE_DANGLING;
	case -3: return TD_STORE_TOO_LARGE;
	case -4: return TD_STORE_NOT_FOUND;
	case -5: return TD_STORE_RATE_LIMITED;
	default: return TD_STORE_DOWN;
	}
}

int
td_store_token_create(struct td_store *store, struct td_token *t, const char *actor,
		      const char *action, const struct td_token_bounds *bounds,
		      struct td_store_start *start)
{
	struct codec_out *rec = encode(CODEC_TOKEN, t, "token_create");
	char key[80], space[64], idx[64], log[64], use[64], rkey[80];
	char limiter[TD_RATE_CHECKS_MAX][128];
	const redisReply *h;
	redisReply *r = NULL;
	struct args a;
	int rc = TD_STORE_DOWN, id_in_script;

	if (rec == NULL || start->n < 0 || start->n > TD_RATE_CHECKS_MAX)
		goto done;
	/* the id is taken inside the script where the sequence shares the node
	 * with the space (one round trip, and a refused create takes none); a
	 * cluster keeps it on its own slot, so it is taken first */
	id_in_script = t->id == 0 && !store->url.is_cluster;
	if (!id_in_script &&
	    (rc = create_id(store, TOKEN_SEQ, &t->id, "token_create")) != TD_STORE_OK)
		goto done;
	key_space(space, sizeof(space), t->space_id, "space");
	key_space(idx, sizeof(idx), t->space_id, "tokens");
	if (id_in_script)
		key_space(key, sizeof(key), t->space_id, "t:");
	else
		token_key(key, sizeof(key), t->space_id, t->id);
	key_space(log, sizeof(log), t->space_id, "activities");
	key_space(use, sizeof(use), t->space_id, "role_use");
	role_key(rkey, sizeof(rkey), t->space_id, t->role_id);
	args_init(&a);
	arg_str(&a, space);
	arg_str(&a, idx);
	arg_str(&a, key);
	arg_str(&a, log);
	arg_str(&a, use);
	arg_str(&a, rkey);
	arg_limiter_keys(&a, limiter, t->space_id, start->checks, start->n);
	if (id_in_script)
		arg_str(&a, TOKEN_SEQ);
	else
		arg_i64(&a, t->id);
	arg_str(&a, actor != NULL ? actor : "");
	arg_str(&a, action != NULL ? action : "");
	arg_i64(&a, TD_ACTIVITIES_MAX);
	arg_i64(&a, bounds->tokens_max);
	arg_i64(&a, t->role_id);
	/* the record's size is judged against the space's bound in the script */
	arg_i64(&a, bounds->record_bytes_max > 0 ? (int64_t)record_bytes(rec) : 0);
	arg_i64(&a, bounds->record_bytes_max);
	arg_limiters(&a, start->period_ms, start->checks, start->n);
	arg_record(&a, rec, 0);
	if (t->max_uses > 0) {	/* a use limit starts with all its uses ("ru" is Redis's) */
		arg_str(&a, "ru");
		arg_i64(&a, t->max_uses);
	}
	if ((rc = run(store, SCRIPT_TOKEN_CREATE, 6 + start->n, &a, &r, "token_create")) != TD_STORE_OK)
		goto done;
	rc = TD_STORE_DOWN;
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 3 ||
	    rates_from_reply(r->element[0], start->n, start->rates) != 0 ||
	    (h = r->element[1])->type != REDIS_REPLY_ARRAY ||
	    r->element[2]->type != REDIS_REPLY_INTEGER)
		goto done;
	rc = create_result(r->element[2]->integer);
	if (rc == TD_STORE_OK && (r->elements != 4 || r->element[3]->type != REDIS_REPLY_STRING ||
				  td_parse_id(r->element[3]->str, r->element[3]->len, TD_ID_MAX,
					      &t->id) != 0)) {
		td_log_error("token_create: the script's answer holds no id");
		rc = TD_STORE_DOWN;
	}
	if (r->element[2]->integer == -6)
		td_log_error("%s: outside 1..2^53 - 1, no id taken", TOKEN_SEQ);
	if (rc == TD_STORE_RATE_LIMITED || rc == TD_STORE_DOWN)
		goto done;
	if ((start->space_found = h->elements > 0) &&
	    space_from_hash(h, t->space_id, start->space) != 0)
		rc = TD_STORE_DOWN;
done:
	freeReplyObject(r);
	free(rec);
	return rc;
}

size_t
td_store_token_bytes(const struct td_token *t)
{
	struct codec_out *rec = encode(CODEC_TOKEN, t, "token_bytes");
	size_t bytes = rec != NULL ? record_bytes(rec) : SIZE_MAX;	/* not storable */

	free(rec);
	return bytes;
}

int
td_store_last_used(struct td_store *store, int64_t space_id, int64_t id, int64_t at_ms)
{
	redisReply *r = NULL;
	struct args a;
	char key[80];
	int rc;

	if (space_id > 0)
		token_key(key, sizeof(key), space_id, id);
	else
		snprintf(key, sizeof(key), "{pats}:p:%" PRId64, id);
	args_init(&a);
	arg_str(&a, key);
	arg_i64(&a, at_ms);
	rc = run(store, SCRIPT_LAST_USED, 1, &a, &r, "last_used");
	freeReplyObject(r);
	return rc;
}

int
td_store_token_take_use(struct td_store *store, int64_t space_id, int64_t id, int64_t *left)
{
	redisReply *r = NULL;
	struct args a;
	char key[80];
	int rc;

	token_key(key, sizeof(key), space_id, id);
	args_init(&a);
	arg_str(&a, key);
	if ((rc = run(store, SCRIPT_TAKE_USE, 1, &a, &r, "take_use")) != TD_STORE_OK)
		goto done;
	if (r->type != REDIS_REPLY_INTEGER)
		rc = TD_STORE_DOWN;
	else if (r->integer == -2)
		rc = TD_STORE_NOT_FOUND;
	else if (r->integer == -1)
		rc = TD_STORE_QUOTA;
	else
		*left = r->integer;
done:
	freeReplyObject(r);
	return rc;
}

int
td_store_token_get(struct td_store *store, int64_t space_id, int64_t id, struct td_token *out,
		   int *space_min_cache)
{
	return td_store_token_get_tracked(store, space_id, id, out, space_min_cache, NULL);
}

/* A token's HGETALL as a store result: OK, NOT_FOUND (absent, or
 * soft-deleted: kept for audit, seen by no one) or DOWN (unreadable). */
static int
token_of_hash(const redisReply *fields, int64_t space_id, int64_t id, struct td_token *out)
{
	if (fields->elements == 0)
		return TD_STORE_NOT_FOUND;
	if (token_from_hash(fields, space_id, id, out) != 0)
		return TD_STORE_DOWN;
	return out->status == TD_STATUS_DELETED ? TD_STORE_NOT_FOUND : TD_STORE_OK;
}

/* Reads n pipelined replies into r[], all of them or none (marked down). */
static int
pipeline_read(struct td_store *store, redisReply **r, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (redisGetReply(store->link->redis, (void **)&r[i]) != REDIS_OK) {
			store_lost(store);
			return TD_STORE_DOWN;
		}
	}
	store->link->barrier_pending = 0;
	return TD_STORE_OK;
}

/* Whether any of n replies is an error: on a cluster, a MOVED or ASK (a
 * slot moving), answered by reading again one command at a time, which
 * follows the cluster. */
static int
any_error(redisReply **r, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (r[i]->type == REDIS_REPLY_ERROR)
			return 1;
	return 0;
}

static void
free_replies(redisReply **r, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		freeReplyObject(r[i]);
		r[i] = NULL;
	}
}

#define CACHING_YES ((const char *[]){ "CLIENT", "CACHING", "yes" })

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
	int n = 0, track, rc = TD_STORE_DOWN;
	unsigned long gen;
	long long v = 0;

	if (tracked != NULL)
		*tracked = 0;
	token_key(key, sizeof(key), space_id, id);
	key_space(space, sizeof(space), space_id, "space");
	if (store_route(store, key, strlen(key)) != 0)
		goto done;
	track = tracked != NULL && store->link->tracking;
	gen = store->tracking_gen;
	if ((track && store_append(store, 3, CACHING_YES) != 0) ||
	    store_append(store, 2, (const char *[]){ "HGETALL", key }) != 0 ||
	    (track && store_append(store, 3, CACHING_YES) != 0) ||
	    store_append(store, 3, (const char *[]){ "HGET", space, "mc" }) != 0) {
		store_mark_down(store, "out of memory");
		goto done;
	}
	n = track ? 4 : 2;
	if (pipeline_read(store, r, n) != TD_STORE_OK)
		goto done;
	if (any_error(r, n)) {	/* read, but not tracked: use it, do not cache it */
		free_replies(r, n);
		track = 0;
		n = 2;
		if ((r[0] = store_command(store, key, "HGETALL %s", key)) == NULL ||
		    (r[1] = store_command(store, space, "HGET %s mc", space)) == NULL ||
		    any_error(r, 2))
			goto done;
	}
	fields = r[n == 4 ? 1 : 0];
	mc = r[n - 1];
	if (fields->type != REDIS_REPLY_ARRAY ||
	    (mc->type != REDIS_REPLY_NIL && (mc->type != REDIS_REPLY_STRING ||
	     td_parse_int64(mc->str, mc->len, 0, TD_MIN_CACHE_MAX, &v) != 0)))
		goto done;
	if ((rc = token_of_hash(fields, space_id, id, out)) == TD_STORE_DOWN)
		goto done;
	*space_min_cache = (int)v;
	if (tracked != NULL)
		*tracked = track && store->link->tracking && gen == store->tracking_gen;
done:
	free_replies(r, 4);
	return rc;
}

int
td_store_token_put(struct td_store *store, struct td_token *t, const char *actor,
		   const char *action)
{
	struct codec_out *rec = encode(CODEC_TOKEN, t, "token_put");
	struct activity act = { actor, action, t->id };
	char key[80];
	int rc = TD_STORE_DOWN;

	if (rec == NULL)
		goto done;
	token_key(key, sizeof(key), t->space_id, t->id);
	if ((rc = put_existing(store, key, t->space_id, t->role_id, t->revision, rec, 1, &act,
			       "token_put")) == TD_STORE_OK)
		t->revision++;
done:
	free(rec);
	return rc;
}

/* What a token change's script says, as a store result. */
static int
change_result(long long result)
{
	switch (result) {
	case 1: return TD_STORE_OK;
	case -1: return TD_STORE_CONFLICT;
	case -2: return TD_STORE_DANGLING;
	case -3: return TD_STORE_TOO_LARGE;
	case -5: return TD_STORE_RATE_LIMITED;
	default: return TD_STORE_NOT_FOUND;	/* 0 the token, -4 the space */
	}
}

/* A record's digest (LUA_DIGEST, from the same HGETALL: the same fields
 * left out): 0, or -1. */
static int
record_digest(const redisReply *h, char out[TD_STORE_DIGEST_HEX])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	char len[24];
	int rc = -1;
	size_t k;

	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1)
		goto done;
	for (k = 0; k < h->elements; k++) {
		const redisReply *f = h->element[k & ~(size_t)1];

		if (h->element[k]->type != REDIS_REPLY_STRING || f->type != REDIS_REPLY_STRING)
			goto done;
		if (f->len == 2 && (memcmp(f->str, "lu", 2) == 0 || memcmp(f->str, "ru", 2) == 0))
			continue;	/* Redis's own: never written back */
		snprintf(len, sizeof(len), "%zu:", h->element[k]->len);
		if (EVP_DigestUpdate(ctx, len, strlen(len)) != 1 ||
		    EVP_DigestUpdate(ctx, h->element[k]->str, h->element[k]->len) != 1)
			goto done;
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || 2 * mdlen + 1 != TD_STORE_DIGEST_HEX)
		goto done;
	for (i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[2 * mdlen] = '\0';
	rc = 0;
done:
	EVP_MD_CTX_free(ctx);
	return rc;
}

int
td_store_token_change(struct td_store *store, struct td_token *t, const char *actor,
		      const char *action, int record_bytes_max, struct td_store_start *start,
		      const char *base_digest, struct td_token_copy *written)
{
	struct codec_out *rec = encode(CODEC_TOKEN, t, "token_change");
	char space[64], key[80], use[64], rkey[80], log[64], base[TD_STORE_DIGEST_HEX + 1];
	char limiter[TD_RATE_CHECKS_MAX][128];
	const redisReply *h, *back;
	redisReply *r = NULL;
	struct args a;
	int rc = TD_STORE_DOWN;

	if (written != NULL)
		written->have = 0;
	if (rec == NULL || start->n < 0 || start->n > TD_RATE_CHECKS_MAX)
		goto done;
	key_space(space, sizeof(space), t->space_id, "space");
	token_key(key, sizeof(key), t->space_id, t->id);
	key_space(use, sizeof(use), t->space_id, "role_use");
	role_key(rkey, sizeof(rkey), t->space_id, t->role_id);
	key_space(log, sizeof(log), t->space_id, "activities");
	args_init(&a);
	arg_str(&a, space);
	arg_str(&a, key);
	arg_str(&a, use);
	arg_str(&a, rkey);
	arg_str(&a, log);
	arg_limiter_keys(&a, limiter, t->space_id, start->checks, start->n);
	arg_i64(&a, record_bytes_max > 0 ? (int64_t)record_bytes(rec) : 0);
	arg_i64(&a, record_bytes_max);
	arg_limiters(&a, start->period_ms, start->checks, start->n);
	if (base_digest != NULL) {
		snprintf(base, sizeof(base), "#%s", base_digest);
		arg_str(&a, base);
	} else {
		arg_i64(&a, t->revision);
	}
	arg_i64(&a, t->role_id);
	arg_str(&a, actor != NULL ? actor : "");
	arg_str(&a, action != NULL ? action : "");
	arg_i64(&a, TD_ACTIVITIES_MAX);
	arg_i64(&a, t->id);
	arg_i64(&a, rec->nset);
	arg_record(&a, rec, 1);
	if ((rc = run(store, SCRIPT_TOKEN_PUT_STARTED, 5 + start->n, &a, &r, "token_change")) !=
	    TD_STORE_OK)
		goto done;
	rc = TD_STORE_DOWN;
	/* {rates, space, result} when refused before the put, else with the
	 * record as written (or an empty one) */
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 3 || r->elements > 4 ||
	    rates_from_reply(r->element[0], start->n, start->rates) != 0 ||
	    (h = r->element[1])->type != REDIS_REPLY_ARRAY ||
	    r->element[2]->type != REDIS_REPLY_INTEGER ||
	    (r->elements == 4 && r->element[3]->type != REDIS_REPLY_ARRAY))
		goto done;
	rc = change_result(r->element[2]->integer);
	if (rc == TD_STORE_RATE_LIMITED)
		goto done;
	if ((start->space_found = h->elements > 0) &&
	    space_from_hash(h, t->space_id, start->space) != 0) {
		rc = TD_STORE_DOWN;
		goto done;
	}
	if (rc != TD_STORE_OK)
		goto done;
	t->revision++;
	/* the record as the write left it, with its digest: the copy */
	if (written != NULL && r->elements == 4 && (back = r->element[3])->elements > 0 &&
	    token_of_hash(back, t->space_id, t->id, &written->t) == TD_STORE_OK &&
	    record_digest(back, written->digest) == 0)
		written->have = 1;
done:
	freeReplyObject(r);
	free(rec);
	return rc;
}

int
td_store_token_soft_delete(struct td_store *store, struct td_token *t)
{
	struct codec_out *rec = encode(CODEC_TOKEN, t, "token_soft_delete");
	char key[80], idx[64], gone[64], use[64];
	redisReply *r = NULL;
	struct args a;
	int rc = TD_STORE_DOWN;

	if (rec == NULL)
		goto done;
	token_key(key, sizeof(key), t->space_id, t->id);
	key_space(idx, sizeof(idx), t->space_id, "tokens");
	key_space(gone, sizeof(gone), t->space_id, "deleted");
	key_space(use, sizeof(use), t->space_id, "role_use");
	args_init(&a);
	arg_str(&a, key);
	arg_str(&a, idx);
	arg_str(&a, gone);
	arg_str(&a, use);
	arg_i64(&a, t->revision);
	arg_i64(&a, t->id);
	arg_i64(&a, rec->nset);
	arg_record(&a, rec, 1);
	if ((rc = run(store, SCRIPT_TOKEN_SOFT_DELETE, 4, &a, &r, "token_soft_delete")) != TD_STORE_OK)
		goto done;
	rc = r->type != REDIS_REPLY_INTEGER ? TD_STORE_DOWN
	   : r->integer == 1 ? TD_STORE_OK
	   : r->integer == -1 ? TD_STORE_CONFLICT : TD_STORE_NOT_FOUND;
	if (rc == TD_STORE_OK)
		t->revision++;
done:
	freeReplyObject(r);
	free(rec);
	return rc;
}

int
td_store_token_delete(struct td_store *store, int64_t space_id, int64_t id,
		      struct td_token *deleted)
{
	char key[80], idx[64], use[64];
	redisReply *r = NULL;
	struct args a;
	int rc;

	token_key(key, sizeof(key), space_id, id);
	key_space(idx, sizeof(idx), space_id, "tokens");
	key_space(use, sizeof(use), space_id, "role_use");
	args_init(&a);
	arg_str(&a, key);
	arg_str(&a, idx);
	arg_str(&a, use);
	arg_i64(&a, id);
	if ((rc = run(store, SCRIPT_TOKEN_DELETE, 3, &a, &r, "token_delete")) != TD_STORE_OK)
		goto done;
	if (r->type == REDIS_REPLY_NIL)
		rc = TD_STORE_NOT_FOUND;
	else if (token_from_hash(r, space_id, id, deleted) != 0)
		rc = TD_STORE_DOWN;
done:
	freeReplyObject(r);
	return rc;
}

struct token_list_ctx {
	td_token_cb cb;
	void *arg;
	int64_t space_id;
	int space_min_cache;
	int64_t ids[STORE_LIST_BATCH];	/* the batch's ids, from the index */
	size_t first;			/* index in ids of the batch's first reply */
	struct td_token t;
};

static int
token_batch_one(size_t i, const redisReply *h, void *arg)
{
	struct token_list_ctx *c = arg;

	if (h->type != REDIS_REPLY_ARRAY)
		return TD_STORE_DOWN;
	if (h->elements == 0)
		return 0;	/* deleted since the index was read */
	if (token_from_hash(h, c->space_id, c->ids[c->first + i], &c->t) != 0)
		return TD_STORE_DOWN;
	if (c->t.status == TD_STATUS_DELETED)
		return 0;
	return c->cb(&c->t, c->space_min_cache, c->arg);
}

/* Reads the next n replies of a pipelined batch of HGETALL (the keys are
 * key_of(i)); each goes to fn while *rc is OK, in order, and all are read
 * whatever happens, so the connection stays in step. From the first error
 * reply on (a key whose slot is moving: MOVED, ASK) the rest of the batch
 * is held, the pipeline finished, and each such key read again on its own,
 * following the cluster: at most one batch of replies is ever held. */
static void
pipeline_drain(struct td_store *store, size_t n, int *rc,
	       int (*fn)(size_t i, const redisReply *r, void *arg),
	       void (*key_of)(size_t i, void *arg, char *key, size_t size), void *arg)
{
	struct store_link *link = store->link;
	redisReply *r, **held = NULL;
	char key[STORE_KEY_MAX];
	size_t i, first = n;
	int cb;

	link->busy = 1;
	for (i = 0; i < n; i++) {
		if (link->redis == NULL || redisGetReply(link->redis, (void **)&r) != REDIS_OK) {
			link->busy = 0;
			store->link = link;
			store_lost(store);
			*rc = TD_STORE_DOWN;
			n = i;	/* what was held is freed below */
			break;
		}
		if (held == NULL && *rc == TD_STORE_OK && r->type == REDIS_REPLY_ERROR &&
		    (held = calloc(n - i, sizeof(*held))) != NULL)
			first = i;
		if (held != NULL) {
			held[i - first] = r;
			continue;
		}
		if (*rc == TD_STORE_OK && (cb = fn(i, r, arg)) != 0)
			*rc = cb;
		freeReplyObject(r);
	}
	link->busy = 0;
	link->barrier_pending = 0;
	for (i = first; i < n; i++) {
		r = held[i - first];
		if (*rc == TD_STORE_OK && r->type == REDIS_REPLY_ERROR) {
			freeReplyObject(r);
			key_of(i, arg, key, sizeof(key));
			if ((r = store_command(store, key, "HGETALL %s", key)) == NULL)
				*rc = TD_STORE_DOWN;
		}
		if (r != NULL && *rc == TD_STORE_OK && (cb = fn(i, r, arg)) != 0)
			*rc = cb;
		freeReplyObject(r);
	}
	free(held);
	store->link = link;
}

static void
token_batch_key(size_t i, void *arg, char *key, size_t size)
{
	struct token_list_ctx *c = arg;

	token_key(key, size, c->space_id, c->ids[c->first + i]);
}

/* One page of the index (ids above after, in order: the score is the id)
 * from reply r into c->ids: how many, or -1. */
static int
index_page(const redisReply *r, struct token_list_ctx *c)
{
	long long id;
	size_t i;

	if (r->type != REDIS_REPLY_ARRAY || r->elements > STORE_LIST_BATCH)
		return -1;
	for (i = 0; i < r->elements; i++) {
		if (r->element[i]->type != REDIS_REPLY_STRING ||
		    td_parse_int64(r->element[i]->str, r->element[i]->len, 1, INT64_MAX, &id) != 0)
			return -1;
		c->ids[i] = id;
	}
	return (int)r->elements;
}

/* The index a page at a time (by id: a token added or deleted meanwhile
 * never makes another listed twice or skipped), each page's records by
 * pipelined HGETALL, each token handed to cb as its reply is read: memory
 * is one page whatever the space holds (a 100,000-token space is never one
 * reply of 100,000 ids), and Redis runs plain reads rather than one long
 * script that would block every other client for its duration. Like any
 * list that is not a snapshot, a token deleted meanwhile is skipped. Every
 * key has the space's hash tag: on a cluster the whole list is read from
 * one node. */
int
td_store_token_list(struct td_store *store, int64_t space_id, td_token_cb cb, void *arg)
{
	struct token_list_ctx *c = malloc(sizeof(*c));
	redisReply *r[3] = { NULL, NULL, NULL }, *page = NULL;
	char space[64], idx[64], key[80];
	long long mc = 0;
	int64_t after = 0;
	int i, n, rc = TD_STORE_DOWN;

	key_space(space, sizeof(space), space_id, "space");
	key_space(idx, sizeof(idx), space_id, "tokens");
	if (c == NULL || store_route(store, space, strlen(space)) != 0)
		goto done;
	if (redisAppendCommand(store->link->redis, "EXISTS %s", space) != REDIS_OK ||
	    redisAppendCommand(store->link->redis, "HGET %s mc", space) != REDIS_OK ||
	    redisAppendCommand(store->link->redis, "ZRANGEBYSCORE %s 1 +inf LIMIT 0 %d", idx,
			       STORE_LIST_BATCH) != REDIS_OK) {
		store_mark_down(store, "out of memory");
		goto done;
	}
	if (pipeline_read(store, r, 3) != TD_STORE_OK)
		goto done;
	if (any_error(r, 3)) {
		free_replies(r, 3);
		if ((r[0] = store_command(store, space, "EXISTS %s", space)) == NULL ||
		    (r[1] = store_command(store, space, "HGET %s mc", space)) == NULL ||
		    (r[2] = store_command(store, idx, "ZRANGEBYSCORE %s 1 +inf LIMIT 0 %d", idx,
					  STORE_LIST_BATCH)) == NULL)
			goto done;
	}
	if (r[0]->type != REDIS_REPLY_INTEGER ||
	    (r[1]->type != REDIS_REPLY_NIL && (r[1]->type != REDIS_REPLY_STRING ||
	     td_parse_int64(r[1]->str, r[1]->len, 0, TD_MIN_CACHE_MAX, &mc) != 0)))
		goto done;
	if (r[0]->integer == 0) {
		rc = TD_STORE_NOT_FOUND;
		goto done;
	}
	c->cb = cb;
	c->arg = arg;
	c->space_id = space_id;
	c->space_min_cache = (int)mc;
	c->first = 0;
	page = r[2];
	r[2] = NULL;
	for (rc = TD_STORE_OK; rc == TD_STORE_OK; ) {
		if ((n = index_page(page, c)) < 0) {
			rc = TD_STORE_DOWN;
			break;
		}
		freeReplyObject(page);
		page = NULL;
		if (n == 0)
			break;
		/* the batch goes to the node serving the space now */
		if (store_route(store, space, strlen(space)) != 0) {
			rc = TD_STORE_DOWN;
			break;
		}
		for (i = 0; i < n; i++) {
			token_key(key, sizeof(key), space_id, c->ids[i]);
			if (store_append(store, 2, (const char *[]){ "HGETALL", key }) != 0)
				break;
		}
		pipeline_drain(store, (size_t)i, &rc, token_batch_one, token_batch_key, c);
		if (i < n && rc == TD_STORE_OK) {
			store_mark_down(store, "out of memory");
			rc = TD_STORE_DOWN;
		}
		if (rc != TD_STORE_OK || n < STORE_LIST_BATCH)
			break;
		after = c->ids[n - 1];
		if ((page = store_command(store, idx, "ZRANGEBYSCORE %s (%" PRId64 " +inf LIMIT 0 %d",
					  idx, after, STORE_LIST_BATCH)) == NULL)
			rc = TD_STORE_DOWN;
	}
done:
	freeReplyObject(page);
	free_replies(r, 3);
	free(c);
	return rc;
}

/* --- roles --- */


/* The arguments roles' writes share after their own: the name (unique in
 * the space) and the ids of the roles it inherits from (which must exist). */
static void
arg_role_refs(struct args *a, const struct td_role *r)
{
	int i;

	arg_str(a, r->name);
	arg_i64(a, r->ninherits);
	for (i = 0; i < r->ninherits && i < TD_ROLE_INHERITS_MAX; i++)
		arg_i64(a, r->inherits[i]);
}

int
td_store_role_create(struct td_store *store, struct td_role *r, int roles_max)
{
	struct codec_out *rec = encode(CODEC_ROLE, r, "role_create");
	redisReply *rep = NULL;
	struct args a;
	int rc = TD_STORE_DOWN;

	if (rec == NULL)
		goto done;
	args_init(&a);
	arg_space_keys(&a, r->space_id, SPACE_KEYS("space", "roles", "roles:seq", "role:"));
	arg_i64(&a, roles_max);
	arg_role_refs(&a, r);
	arg_record(&a, rec, 0);
	if ((rc = run(store, SCRIPT_ROLE_CREATE, 3, &a, &rep, "role_create")) != TD_STORE_OK)
		goto done;
	if (rep->type == REDIS_REPLY_NIL)
		rc = TD_STORE_NOT_FOUND;
	else if (rep->type != REDIS_REPLY_INTEGER || rep->integer == 0 || rep->integer < -3 ||
		 rep->integer > TD_ID_MAX)
		rc = TD_STORE_DOWN;
	else if (rep->integer < 0)
		rc = rep->integer == -1 ? TD_STORE_QUOTA
		   : rep->integer == -2 ? TD_STORE_EXISTS : TD_STORE_DANGLING;
	else
		r->id = rep->integer;
done:
	freeReplyObject(rep);
	free(rec);
	return rc;
}

int
td_store_role_get(struct td_store *store, int64_t space_id, int64_t id, struct td_role *out)
{
	redisReply *r = NULL;
	char key[80];
	int rc;

	role_key(key, sizeof(key), space_id, id);
	if ((rc = get_hash(store, key, "role_get", &r)) == TD_STORE_OK &&
	    role_from_hash(r, space_id, id, out) != 0)
		rc = TD_STORE_DOWN;
	freeReplyObject(r);
	return rc;
}

int
td_store_role_put(struct td_store *store, struct td_role *r)
{
	struct codec_out *rec = encode(CODEC_ROLE, r, "role_put");
	redisReply *rep = NULL;
	struct args a;
	char key[80];
	int rc = TD_STORE_DOWN;

	if (rec == NULL)
		goto done;
	role_key(key, sizeof(key), r->space_id, r->id);
	args_init(&a);
	arg_str(&a, key);
	arg_space_keys(&a, r->space_id, SPACE_KEYS("roles"));
	arg_i64(&a, r->revision);
	arg_i64(&a, r->id);
	arg_space_keys(&a, r->space_id, SPACE_KEYS("role:"));
	arg_role_refs(&a, r);
	arg_i64(&a, rec->nset);
	arg_record(&a, rec, 1);
	if ((rc = run(store, SCRIPT_ROLE_PUT, 2, &a, &rep, "role_put")) != TD_STORE_OK)
		goto done;
	rc = rep->type == REDIS_REPLY_INTEGER && rep->integer == -2 ? TD_STORE_EXISTS
	   : rep->type == REDIS_REPLY_INTEGER && rep->integer == -3 ? TD_STORE_DANGLING
	   : cas_result(rep);
	if (rc == TD_STORE_OK)
		r->revision++;
done:
	freeReplyObject(rep);
	free(rec);
	return rc;
}

int
td_store_role_delete(struct td_store *store, int64_t space_id, int64_t id, int64_t revision,
		     struct td_role *deleted)
{
	redisReply *r = NULL;
	struct args a;
	char key[80];
	int rc;

	role_key(key, sizeof(key), space_id, id);
	args_init(&a);
	arg_str(&a, key);
	arg_space_keys(&a, space_id, SPACE_KEYS("roles", "role_use"));
	arg_i64(&a, id);
	arg_i64(&a, revision);
	arg_space_keys(&a, space_id, SPACE_KEYS("role:"));
	if ((rc = run(store, SCRIPT_ROLE_DELETE, 3, &a, &r, "role_delete")) != TD_STORE_OK)
		goto done;
	if (r->type == REDIS_REPLY_NIL)
		rc = TD_STORE_NOT_FOUND;
	else if (r->type == REDIS_REPLY_INTEGER)
		rc = r->integer == -1 ? TD_STORE_CONFLICT
		   : r->integer == -2 || r->integer == -3 ? TD_STORE_IN_USE : TD_STORE_DOWN;
	else if (role_from_hash(r, space_id, id, deleted) != 0)
		rc = TD_STORE_DOWN;
done:
	freeReplyObject(r);
	return rc;
}

struct role_list_ctx {
	td_role_cb cb;
	void *arg;
	int64_t space_id;
	struct td_role r;
};

static int
role_list_one(int64_t id, const redisReply *h, void *arg)
{
	struct role_list_ctx *c = arg;

	if (role_from_hash(h, c->space_id, id, &c->r) != 0)
		return TD_STORE_DOWN;
	return c->cb(&c->r, c->arg);
}

/* cb for each of the space's roles, in id order, as script reads them
 * (whole, or what enforcement needs): at most TD_SPACE_ROLES_MAX records,
 * one script, not batches. */
static int
each_role(struct td_store *store, enum store_script script, int64_t space_id, td_role_cb cb,
	  void *arg)
{
	struct role_list_ctx *c = malloc(sizeof(*c));
	redisReply *r = NULL;
	struct args a;
	int rc = TD_STORE_DOWN;

	if (c == NULL)
		goto done;
	c->cb = cb;
	c->arg = arg;
	c->space_id = space_id;
	args_init(&a);
	arg_space_keys(&a, space_id, SPACE_KEYS("roles", "role:"));
	if ((rc = run(store, script, 1, &a, &r, "role_list")) != TD_STORE_OK)
		goto done;
	rc = r->type == REDIS_REPLY_ARRAY ? each_record(r, role_list_one, c) : TD_STORE_DOWN;
done:
	freeReplyObject(r);
	free(c);
	return rc;
}

int
td_store_role_list(struct td_store *store, int64_t space_id, td_role_cb cb, void *arg)
{
	return each_role(store, SCRIPT_RECORD_LIST, space_id, cb, arg);
}

static int
role_table_add(const struct td_role *r, void *arg)
{
	struct td_role_table *out = arg;

	if (out->n >= TD_SPACE_ROLES_MAX) {
		td_log_error("space %" PRId64 " holds more than %d roles", out->space_id,
			     TD_SPACE_ROLES_MAX);
		return TD_STORE_DOWN;
	}
	/* ids come from the sorted index, ascending: the table stays sorted */
	if (out->n > 0 && r->id <= out->g[out->n - 1].id)
		return TD_STORE_DOWN;
	td_role_grant_of(r, &out->g[out->n++]);
	return TD_STORE_OK;
}

int
td_store_role_table(struct td_store *store, int64_t space_id, struct td_role_table *out)
{
	out->space_id = space_id;
	out->n = 0;
	return each_role(store, SCRIPT_ROLE_TABLE, space_id, role_table_add, out);
}

/* --- personal access tokens --- */

int
td_store_pat_create(struct td_store *store, struct td_pat *p, int pats_per_owner)
{
	struct codec_out *rec = encode(CODEC_PAT, p, "pat_create");
	redisReply *r = NULL;
	struct args a;
	char key[64], owner[TD_CRED_REF_MAX + 16];
	int rc = TD_STORE_DOWN;

	if (rec == NULL)
		goto done;
	if ((rc = create_id(store, "{pats}:seq", &p->id, "pat_create")) != TD_STORE_OK)
		goto done;
	snprintf(key, sizeof(key), "{pats}:p:%" PRId64, p->id);
	/* a PAT's maker is a PAT ("p:<id>"), or none (the bootstrap) */
	snprintf(owner, sizeof(owner), "{pats}:o:%s",
		 strncmp(p->minted_by, "p:", 2) == 0 ? p->minted_by + 2 : "-");
	args_init(&a);
	arg_str(&a, key);
	arg_str(&a, "{pats}:index");
	arg_str(&a, owner);
	arg_i64(&a, p->id);
	arg_i64(&a, strncmp(p->minted_by, "p:", 2) == 0 ? pats_per_owner : 0);
	arg_record(&a, rec, 0);
	if ((rc = run(store, SCRIPT_PAT_CREATE, 3, &a, &r, "pat_create")) != TD_STORE_OK)
		goto done;
	if (r->type != REDIS_REPLY_INTEGER)
		rc = TD_STORE_DOWN;
	else if (r->integer == -1)
		rc = TD_STORE_QUOTA;
	else if (r->integer != 1)
		rc = TD_STORE_EXISTS;
done:
	freeReplyObject(r);
	free(rec);
	return rc;
}

int
td_store_pat_get(struct td_store *store, int64_t id, struct td_pat *out)
{
	redisReply *r = NULL;
	char key[64];
	int rc;

	snprintf(key, sizeof(key), "{pats}:p:%" PRId64, id);
	if ((rc = get_hash(store, key, "pat_get", &r)) == TD_STORE_OK && pat_from_hash(r, id, out) != 0)
		rc = TD_STORE_DOWN;
	freeReplyObject(r);
	return rc;
}

int
td_store_pat_get_tracked(struct td_store *store, int64_t id, struct td_pat *out, int *tracked)
{
	redisReply *r[2] = { NULL, NULL };
	const redisReply *fields;
	unsigned long gen;
	char key[64];
	int track, rc = TD_STORE_DOWN;

	*tracked = 0;
	snprintf(key, sizeof(key), "{pats}:p:%" PRId64, id);
	if (store_route(store, key, strlen(key)) != 0)
		goto done;
	if (!(track = store->link->tracking))
		return td_store_pat_get(store, id, out);
	gen = store->tracking_gen;
	if (store_append(store, 3, CACHING_YES) != 0 ||
	    store_append(store, 2, (const char *[]){ "HGETALL", key }) != 0) {
		store_mark_down(store, "out of memory");
		goto done;
	}
	if (pipeline_read(store, r, 2) != TD_STORE_OK)
		goto done;
	if (any_error(r, 2)) {	/* a slot moving: read it plainly, cache nothing */
		free_replies(r, 2);
		return td_store_pat_get(store, id, out);
	}
	fields = r[1];
	if (fields->type != REDIS_REPLY_ARRAY)
		goto done;
	if (fields->elements == 0)
		rc = TD_STORE_NOT_FOUND;
	else if (pat_from_hash(fields, id, out) != 0)
		goto done;
	else
		rc = TD_STORE_OK;
	*tracked = store->link->tracking && gen == store->tracking_gen;
done:
	free_replies(r, 2);
	return rc;
}

int
td_store_pat_delete(struct td_store *store, int64_t id, struct td_pat *deleted)
{
	redisReply *r = NULL;
	struct args a;
	char key[64];
	int rc;

	snprintf(key, sizeof(key), "{pats}:p:%" PRId64, id);
	args_init(&a);
	arg_str(&a, key);
	arg_str(&a, "{pats}:index");
	arg_i64(&a, id);
	arg_str(&a, "{pats}:o:");
	if ((rc = run(store, SCRIPT_PAT_DELETE, 2, &a, &r, "pat_delete")) != TD_STORE_OK)
		goto done;
	if (r->type == REDIS_REPLY_NIL)
		rc = TD_STORE_NOT_FOUND;
	else if (pat_from_hash(r, id, deleted) != 0)
		rc = TD_STORE_DOWN;
done:
	freeReplyObject(r);
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
	redisReply *r = NULL;
	struct args a;
	int rc = TD_STORE_DOWN;

	if (c == NULL)
		goto done;
	c->cb = cb;
	c->arg = arg;
	args_init(&a);
	arg_str(&a, "{pats}:index");
	arg_str(&a, "{pats}:p:");
	if ((rc = run(store, SCRIPT_RECORD_LIST, 1, &a, &r, "pat_list")) != TD_STORE_OK)
		goto done;
	rc = r->type == REDIS_REPLY_ARRAY ? each_record(r, pat_list_one, c) : TD_STORE_DOWN;
done:
	freeReplyObject(r);
	free(c);
	return rc;
}

/* --- minted credentials --- */

/* TD_STORE_OK for a credential reference; TD_STORE_DOWN, logged (without
 * the bytes: they could be anything), for anything else. */
static int
ref_check(const char *ref, struct td_cred_ref *r, const char *what)
{
	if (ref == NULL || td_cred_ref_parse(ref, strnlen(ref, TD_CRED_REF_MAX), r) != 0) {
		td_log_error("%s: malformed credential reference", what);
		return TD_STORE_DOWN;
	}
	return TD_STORE_OK;
}

/* The key of the set of what ref minted, in ref's own slot, built from the
 * parsed ids only. */
static int
minted_key(const char *ref, char *out, size_t size, const char *what)
{
	struct td_cred_ref r;

	if (ref_check(ref, &r, what) != TD_STORE_OK)
		return TD_STORE_DOWN;
	if (r.kind == 'p')
		snprintf(out, size, "{pats}:m:%" PRId64, r.id);
	else
		snprintf(out, size, "{s:%" PRId64 "}:m:%" PRId64, r.space_id, r.id);
	return TD_STORE_OK;
}

int
td_store_minted_add(struct td_store *store, const char *parent_ref, const char *child_ref)
{
	struct td_cred_ref child;
	redisReply *r = NULL;
	char key[80];
	int rc;

	/* the child as strictly: a member is one canonical reference, or nothing */
	if ((rc = minted_key(parent_ref, key, sizeof(key), "minted_add")) != TD_STORE_OK ||
	    (rc = ref_check(child_ref, &child, "minted_add")) != TD_STORE_OK)
		goto done;
	rc = write_command(store, &r, "minted_add", key, "SADD %s %s", key, child_ref);
done:
	freeReplyObject(r);
	return rc;
}

int
td_store_minted_list(struct td_store *store, const char *parent_ref,
		     int (*cb)(const char *child_ref, void *arg), void *arg)
{
	const redisReply *e;
	redisReply *r = NULL;
	struct td_cred_ref ref;
	struct args a;
	char key[80];
	size_t i;
	int rc;

	if ((rc = minted_key(parent_ref, key, sizeof(key), "minted_list")) != TD_STORE_OK)
		goto done;
	args_init(&a);
	arg_str(&a, key);
	arg_i64(&a, TD_MINTED_MAX);
	if ((rc = run(store, SCRIPT_MINTED_LIST, 1, &a, &r, "minted_list")) != TD_STORE_OK)
		goto done;
	if (r->type == REDIS_REPLY_INTEGER ||
	    (r->type == REDIS_REPLY_ARRAY && r->elements > TD_MINTED_MAX)) {
		td_log_error("%s minted more than %d credentials: not cascading",
			     key, TD_MINTED_MAX);
		rc = TD_STORE_DOWN;
		goto done;
	}
	if (r->type != REDIS_REPLY_ARRAY) {
		rc = TD_STORE_DOWN;
		goto done;
	}
	for (i = 0; i < r->elements && rc == TD_STORE_OK; i++) {
		e = r->element[i];
		if (e->type != REDIS_REPLY_STRING || td_cred_ref_parse(e->str, e->len, &ref) != 0) {
			td_log_error("%s holds a malformed credential reference", key);
			rc = TD_STORE_DOWN;
			break;
		}
		rc = cb(e->str, arg);
	}
done:
	freeReplyObject(r);
	return rc;
}

int
td_store_minted_drop(struct td_store *store, const char *parent_ref)
{
	redisReply *r = NULL;
	char key[80];
	int rc;

	if ((rc = minted_key(parent_ref, key, sizeof(key), "minted_drop")) != TD_STORE_OK)
		goto done;
	rc = write_command(store, &r, "minted_drop", key, "DEL %s", key);
done:
	freeReplyObject(r);
	return rc;
}

/* --- rate limits --- */

/* One limiter's {allowed, limit, remaining, reset, retry-after}. */
static int
rate_from_reply(const redisReply *r, struct td_rate *out)
{
	size_t i;

	if (r->type != REDIS_REPLY_ARRAY || r->elements != 5)
		return -1;
	for (i = 0; i < 5; i++)
		if (r->element[i]->type != REDIS_REPLY_INTEGER)
			return -1;
	out->allowed = r->element[0]->integer == 1;
	out->limit = r->element[1]->integer;
	out->remaining = r->element[2]->integer;
	out->reset_ms = r->element[3]->integer;
	out->retry_after_ms = r->element[4]->integer;
	return 0;
}

/* The limiters' answers: out[i] for each taken; one not taken (an earlier
 * one refused) says allowed with limit 0. */
static int
rates_from_reply(const redisReply *rates, int n, struct td_rate *out)
{
	int i;

	if (rates->type != REDIS_REPLY_ARRAY || rates->elements > (size_t)n ||
	    (n > 0 && rates->elements < 1))
		return -1;
	for (i = 0; i < n; i++) {
		if ((size_t)i >= rates->elements) {
			memset(&out[i], 0, sizeof(out[i]));
			out[i].allowed = 1;
		} else if (rate_from_reply(rates->element[i], &out[i]) != 0) {
			return -1;
		}
	}
	return 0;
}

int
td_store_call_start(struct td_store *store, int64_t space_id, int period_ms,
		    const struct td_rate_check *checks, int n, struct td_rate *out,
		    struct td_space *space)
{
	char keys[TD_RATE_CHECKS_MAX][128], skey[64];
	const redisReply *h;
	redisReply *r = NULL;
	struct args a;
	int rc;

	if (n < 1 || n > TD_RATE_CHECKS_MAX)
		return TD_STORE_DOWN;
	key_space(skey, sizeof(skey), space_id, "space");
	args_init(&a);
	arg_str(&a, skey);
	arg_limiter_keys(&a, keys, space_id, checks, n);
	arg_str(&a, space != NULL ? "1" : "0");
	arg_limiters(&a, period_ms, checks, n);
	if ((rc = run(store, SCRIPT_RATE_CHECK, 1 + n, &a, &r, "call_start")) != TD_STORE_OK)
		goto done;
	rc = TD_STORE_DOWN;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    rates_from_reply(r->element[0], n, out) != 0 ||
	    (h = r->element[1])->type != REDIS_REPLY_ARRAY)
		goto done;
	if (space == NULL)
		rc = TD_STORE_OK;
	else if (h->elements == 0)
		rc = TD_STORE_NOT_FOUND;
	else
		rc = space_from_hash(h, space_id, space) == 0 ? TD_STORE_OK : TD_STORE_DOWN;
done:
	freeReplyObject(r);
	return rc;
}

int
td_store_token_get_started(struct td_store *store, int64_t space_id, int64_t id,
			   struct td_token *out, struct td_store_start *start)
{
	char keys[TD_RATE_CHECKS_MAX][128], skey[64], tkey[80];
	const redisReply *h, *fields;
	redisReply *r = NULL;
	struct args a;
	int i, rc;

	if (start->n < 1 || start->n > TD_RATE_CHECKS_MAX)
		return TD_STORE_DOWN;
	key_space(skey, sizeof(skey), space_id, "space");
	token_key(tkey, sizeof(tkey), space_id, id);
	args_init(&a);
	arg_str(&a, skey);
	arg_limiter_keys(&a, keys, space_id, start->checks, start->n);
	arg_str(&a, tkey);
	arg_str(&a, "1");
	arg_limiters(&a, start->period_ms, start->checks, start->n);
	if ((rc = run(store, SCRIPT_RATE_CHECK, 2 + start->n, &a, &r, "token_get_started")) !=
	    TD_STORE_OK)
		goto done;
	rc = TD_STORE_DOWN;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    rates_from_reply(r->element[0], start->n, start->rates) != 0 ||
	    (h = r->element[1])->type != REDIS_REPLY_ARRAY ||
	    (fields = r->element[2])->type != REDIS_REPLY_ARRAY)
		goto done;
	for (i = 0; i < start->n; i++) {
		if (!start->rates[i].allowed) {
			rc = TD_STORE_RATE_LIMITED;
			goto done;
		}
	}
	if (!(start->space_found = h->elements > 0)) {
		rc = TD_STORE_NOT_FOUND;
		goto done;
	}
	if (space_from_hash(h, space_id, start->space) == 0)
		rc = token_of_hash(fields, space_id, id, out);
done:
	freeReplyObject(r);
	return rc;
}

int
td_store_rate_check(struct td_store *store, int64_t space_id, const char *caller,
		    const char *override, int default_limit, int period_ms, struct td_rate *out)
{
	struct td_rate_check check = { caller, override, default_limit };

	return td_store_call_start(store, space_id, period_ms, &check, 1, out, NULL);
}

/* --- activity log --- */

static void
key_trail(char *out, size_t size, int64_t space_id)
{
	if (space_id == TD_TRAIL_ACCOUNT)
		snprintf(out, size, "{pats}:activities");
	else
		key_space(out, size, space_id, "activities");
}

int
td_store_activity_add(struct td_store *store, int64_t space_id, const char *actor,
		      const char *action, int64_t resource_id)
{
	redisReply *r = NULL;
	char key[64];
	int rc;

	key_trail(key, sizeof(key), space_id);
	rc = write_command(store, &r, "activity_add", key, "XADD %s MAXLEN ~ %d * a %s x %s r %" PRId64, key,
		     TD_ACTIVITIES_MAX, actor, action, resource_id);
	freeReplyObject(r);
	return rc;
}

static void
copy_text(const redisReply *v, char *out, size_t size)
{
	size_t n = v->len < size - 1 ? v->len : size - 1;

	memcpy(out, v->str, n);
	out[n] = '\0';
}

static int
is_field(const redisReply *k, const char *name)
{
	return k->type == REDIS_REPLY_STRING && k->len == strlen(name) &&
	       memcmp(k->str, name, k->len) == 0;
}

/* One stream entry, [id, [field, value, ...]], into a; -1 when malformed. */
static int
activity_entry(const redisReply *e, struct td_activity *a)
{
	const redisReply *f, *v;
	long long n;
	size_t j;

	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING ||
	    e->element[1]->type != REDIS_REPLY_ARRAY || e->element[1]->elements % 2 != 0)
		return -1;
	memset(a, 0, sizeof(*a));
	copy_text(e->element[0], a->id, sizeof(a->id));
	f = e->element[1];
	for (j = 0; j < f->elements; j += 2) {
		v = f->element[j + 1];
		if (v->type != REDIS_REPLY_STRING)
			return -1;
		if (is_field(f->element[j], "a"))
			copy_text(v, a->actor, sizeof(a->actor));
		else if (is_field(f->element[j], "x"))
			copy_text(v, a->action, sizeof(a->action));
		else if (is_field(f->element[j], "r") &&
			 td_parse_int64(v->str, v->len, 0, INT64_MAX, &n) == 0)
			a->resource_id = n;
	}
	return 0;
}

int
td_store_activity_list(struct td_store *store, int64_t space_id, int limit, td_activity_cb cb,
		       void *arg)
{
	struct td_activity a;
	redisReply *r = NULL;
	char key[64];
	size_t i;
	int rc;

	key_trail(key, sizeof(key), space_id);
	rc = command(store, &r, "activity_list", key, "XREVRANGE %s + - COUNT %d", key, limit);
	if (rc != TD_STORE_OK)
		goto done;
	if (r->type != REDIS_REPLY_ARRAY) {
		rc = TD_STORE_DOWN;
		goto done;
	}
	for (i = 0; i < r->elements && rc == TD_STORE_OK; i++)
		if (activity_entry(r->element[i], &a) == 0)	/* a malformed entry is skipped */
			rc = cb(&a, arg);
done:
	freeReplyObject(r);
	return rc;
}
