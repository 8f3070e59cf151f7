/*
 * Tokens, for every view: list, get, create, update, regenerate, status,
 * delete. Each function is the whole decision: scope, reach, built-in
 * tokens, self-revocation, credentials bounded by their maker, validation,
 * stamps, the store write and the activity entry. Views only parse and
 * render.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "tokend/core/cred_ref.h"
#include "tokend/core/internal.h"
#include "tokend/core/record_cache.h"
#include "tokend/core/rules.h"
#include "tokend/server/log.h"
#include "tokend/store/store.h"

#define NOT_FOUND "This record could not be found"

/* The token string of t into out (TD_TOKEN_STR_MAX); -1 if its key is gone. */
static int
token_string(const struct td_ctx *ctx, const struct td_token *t, char *out, size_t size)
{
	struct td_token_ref ref;
	int rc;

	ref.kind = t->signed_kind;
	ref.kid = t->kid;
	ref.space_id = t->space_id;
	ref.id = t->id;
	memcpy(ref.secret, t->secret, TD_SECRET_BYTES);
	rc = td_token_format(ctx->keyring, &ref, out, size);
	OPENSSL_cleanse(ref.secret, sizeof(ref.secret));
	return rc;
}

/* The management scopes t grants, its role resolved in its space. */
static int
scopes_of(struct td_call *c, const struct td_token *t, unsigned *scopes)
{
	unsigned role_scopes;

	if (td_roles_scopes(c->ctx, t->space_id, t->role_id, &role_scopes) != TD_OK)
		return td_fail(c, TD_ERR_UNAVAILABLE, NULL, "storage unavailable");
	*scopes = td_rule_token_scopes(t, role_scopes);
	return TD_OK;
}

/* The role t names must be one of its space's (a change named it). */
static int
role_known(struct td_call *c, const struct td_token *t)
{
	const struct td_role_table *tab = NULL;

	if (t->role_id <= TD_ROLE_BUILTIN_MAX)
		return TD_OK;
	if (td_roles_load(c->ctx, t->space_id, &tab) != TD_OK)
		return td_fail(c, TD_ERR_UNAVAILABLE, NULL, "storage unavailable");
	return td_rule_role_find(tab, t->role_id) != NULL ? TD_OK
	       : td_fail(c, TD_ERR_INVALID, "role", "no such role");
}

/* A token write's store result: a role deleted since it was judged is
 * the same "no such role" as one never there. */
static int
fail_write(struct td_call *c, int store_rc)
{
	if (store_rc == TD_STORE_DANGLING)
		return td_fail(c, TD_ERR_INVALID, "role", "no such role");
	return td_fail_store(c, store_rc, NOT_FOUND);
}

static int
view_of(struct td_call *c, const struct td_token *t, int space_mc, struct td_token_view *out)
{
	unsigned role_scopes;

	if (td_roles_scopes(c->ctx, t->space_id, t->role_id, &role_scopes) != TD_OK)
		return td_fail(c, TD_ERR_UNAVAILABLE, NULL, "storage unavailable");
	out->t = t;
	out->space = &c->ctx->scratch_space;
	out->space_min_cache = space_mc;
	out->value = td_rule_may_see_value(&c->who, t, role_scopes) &&
		     token_string(c->ctx, t, c->value, sizeof(c->value)) == 0 ? c->value : NULL;
	return TD_OK;
}

struct list_ctx {
	struct td_call *c;
	td_token_view_cb cb;
	void *arg;
};

static int
list_one(const struct td_token *t, int space_mc, void *arg)
{
	struct list_ctx *l = arg;
	struct td_token_view v;

	if (view_of(l->c, t, space_mc, &v) != TD_OK)
		return TD_STORE_DOWN;
	return l->cb(&v, l->arg);
}

int
td_core_token_list(struct td_call *c, td_token_view_cb cb, void *arg)
{
	const struct td_role_table *tab;
	struct list_ctx l = { c, cb, arg };

	if (td_core_expect(c, TD_OP_TOKEN_LIST) != TD_OK)
		return c->err.code;
	/* the space's roles before the list: each token's view needs them,
	 * and no store command may run while the list's replies are read */
	if (td_roles_load(c->ctx, c->space_id, &tab) != TD_OK)
		return td_fail(c, TD_ERR_UNAVAILABLE, NULL, "storage unavailable");
	return td_fail_store(c, td_store_token_list(c->ctx->store, c->space_id, list_one, &l),
			     NOT_FOUND);
}

/* A change (update, status, regenerate) of a token this worker wrote last:
 * judged on its copy (record_cache.h) in the scratch token, and written
 * only if Redis still holds that very record (its digest, compared by the
 * write's script), so a stale copy costs a conflict, never a lost change.
 * A refusal judged on the copy is judged again on Redis's record
 * (td_core_token_update and the others). 0 when there is no copy. */
static int
on_copy(struct td_call *c, int64_t id)
{
	const void *rec;
	const struct td_token_copy *copy;

	_Static_assert(sizeof(c->copy_digest) == TD_STORE_DIGEST_HEX, "a digest fits the call");
	if (c->ctx->token_cache == NULL || c->copy_refused ||
	    (c->op != TD_OP_TOKEN_UPDATE && c->op != TD_OP_TOKEN_STATUS &&
	     c->op != TD_OP_TOKEN_REGENERATE) ||
	    !td_record_cache_get(c->ctx->token_cache, c->space_id, id, &rec) || rec == NULL ||
	    !(copy = rec)->have)	/* none, or a rest after a stale one */
		return 0;
	memcpy(&c->ctx->scratch_token, &copy->t, sizeof(c->ctx->scratch_token));
	memcpy(c->copy_digest, copy->digest, sizeof(c->copy_digest));
	c->on_copy = 1;
	return 1;
}

/* A change's result: one refused on the worker's copy before its write
 * compared it, or whose write found the copy stale, is made again on
 * Redis's record (the copy dropped). */
static int
judged_on_copy(struct td_call *c, int64_t id, int rc)
{
	if (rc == TD_OK || !c->on_copy)
		return 0;
	if (rc != TD_ERR_CONFLICT)	/* a conflict's write left its rest (keep_copy) */
		td_record_cache_drop(c->ctx->token_cache, c->space_id, id);
	c->on_copy = 0;
	c->copy_refused = 1;
	c->err.code = TD_OK;
	c->err.field = c->err.message = NULL;
	return 1;
}

/* The token in the call's space into scratch_token; the call's first read
 * carries its start (one round trip). */
static int
load(struct td_call *c, int64_t id, int *space_mc)
{
	struct td_rate_check checks[TD_RATE_CHECKS_MAX];
	struct td_store_start st;
	int rc;

	if (id <= 0)
		return td_fail(c, TD_ERR_NOT_FOUND, NULL, NOT_FOUND);
	if (c->start_pending && on_copy(c, id))
		return TD_OK;	/* the start rides on the change's write (save) */
	if (c->start_pending) {
		td_call_start_along(c, checks, &st);
		rc = td_store_token_get_started(c->ctx->store, c->space_id, id,
						&c->ctx->scratch_token, &st);
		if (rc < 0) {	/* Redis refusing the limiters' writes: the start alone */
			if (td_call_start_now(c) != TD_OK)
				return c->err.code;
			return load(c, id, space_mc);
		}
		if (td_call_started_along(c, rc, &st) != TD_OK)
			return c->err.code;
		*space_mc = st.space->min_cache;
		return td_fail_store(c, rc, NOT_FOUND);
	}
	return td_fail_store(c, td_store_token_get(c->ctx->store, c->space_id, id,
						   &c->ctx->scratch_token, space_mc), NOT_FOUND);
}

int
td_core_token_get(struct td_call *c, int64_t id, struct td_token_view *out)
{
	int space_mc = 0;

	if (td_core_expect(c, TD_OP_TOKEN_GET) != TD_OK || load(c, id, &space_mc) != TD_OK)
		return c->err.code;
	/* a management token may always read its own record */
	if (!td_rule_holds(&c->who, TD_SCOPE_TOKENS_READ) &&
	    !td_rule_is_self_token(&c->who, &c->ctx->scratch_token))
		return td_fail(c, TD_ERR_FORBIDDEN, NULL, "this credential may not read tokens here");
	return view_of(c, &c->ctx->scratch_token, space_mc, out);
}

/* Loads a token for a change by the caller: it must hold nothing the caller
 * lacks (else changing or regenerating it would hand the caller more). */
static int
load_for_change(struct td_call *c, enum td_op op, int64_t id, int *space_mc)
{
	unsigned role_scopes;

	if (td_core_expect(c, op) != TD_OK || load(c, id, space_mc) != TD_OK)
		return c->err.code;
	if (td_roles_scopes(c->ctx, c->space_id, c->ctx->scratch_token.role_id, &role_scopes) != TD_OK)
		return td_fail(c, TD_ERR_UNAVAILABLE, NULL, "storage unavailable");
	if (!td_rule_token_within(&c->who, &c->ctx->scratch_token, role_scopes))
		return td_fail(c, TD_ERR_EXCEEDS, NULL,
			       "this token holds more than the credential acting on it");
	return TD_OK;
}

/* A token that is (or becomes) a management credential is bounded by the
 * credential that makes it so: no more scopes, no later expiry, no address
 * the maker may not call from; it records its maker, whose revocation
 * revokes it. scopes: what t grants now. */
static int
bound_by_maker(struct td_call *c, struct td_token *t, unsigned scopes, int was_management,
	       unsigned old_scopes, int expiry_given)
{
	int mints;

	if (!td_rule_is_management(t))
		return TD_OK;
	if ((scopes & ~c->who.scopes) != 0)
		return td_fail(c, TD_ERR_EXCEEDS, "role",
			       "a credential cannot grant more than it holds");
	/* checked on every change, not only a mint: a bound caller may not
	 * widen or drop the binding of a management token it reaches */
	if (!td_rule_cidrs_within(&c->who, &t->allowed_cidrs))
		return td_fail(c, TD_ERR_EXCEEDS, "allowed_cidrs", "must each lie within the "
			       "allowed_cidrs of the credential acting");
	mints = !was_management || scopes != old_scopes;
	if (mints && !td_rule_may_mint(&c->who))
		return td_fail(c, TD_ERR_EXCEEDS, NULL,
			       "a credential this far down its chain of makers cannot mint another");
	if ((mints || expiry_given) && td_rule_bound_expiry(&c->who, expiry_given, &t->expires_at) != 0)
		return td_fail(c, TD_ERR_EXCEEDS, "expires_at",
			       "cannot be later than the expiry of the credential acting");
	if (mints && t->hardcoded == TD_HARDCODED_NONE) {
		snprintf(t->minted_by, sizeof(t->minted_by), "%s", c->who.ref);
		c->mints = 1;
	}
	return TD_OK;
}

/* Registers t with its maker before t can be used, so no crash leaves a
 * minted credential its maker's revocation would miss. */
static int
register_minted(struct td_call *c, const struct td_token *t)
{
	char ref[TD_CRED_REF_MAX];

	if (t->minted_by[0] == '\0')
		return TD_OK;
	td_cred_ref_token(t->space_id, t->id, ref);
	return td_fail_store(c, td_store_minted_add(c->ctx->store, t->minted_by, ref), NOT_FOUND);
}

static void
stamp_status(struct td_call *c, struct td_token *t, enum td_status from, int64_t now)
{
	if (t->status == from)
		return;
	if (t->status == TD_STATUS_ACTIVE) {
		t->enabled_at_ms = now;
		memcpy(t->enabled_by, c->who.actor, sizeof(t->enabled_by));
	} else if (t->status == TD_STATUS_DISABLED) {
		t->disabled_at_ms = now;
		memcpy(t->disabled_by, c->who.actor, sizeof(t->disabled_by));
	}
}

int
td_core_token_create(struct td_call *c, const struct td_token_change *ch,
		     struct td_token_view *out)
{
	struct td_token *t = &c->ctx->scratch_token;
	const struct td_token_bounds bounds = {
		c->ctx->cfg->space_tokens_max, c->ctx->cfg->record_bytes_max
	};
	struct td_rate_check checks[TD_RATE_CHECKS_MAX];
	struct td_store_start st;
	char action[48];
	unsigned scopes;
	int rc;

	if (td_core_expect(c, TD_OP_TOKEN_CREATE) != TD_OK)
		return c->err.code;
	td_token_defaults(t);
	t->space_id = c->space_id;
	if (ch->shape == TD_SHAPE_API_TOKEN) {
		/* a Marketplace API credential: management through its modules,
		 * no content access */
		t->access = TD_ACCESS_PUBLIC;
		t->rights = TD_RIGHT_CMA;
	}
	if (td_token_apply_change(t, ch, 1, &c->err) != 0 || role_known(c, t) != TD_OK ||
	    scopes_of(c, t, &scopes) != TD_OK ||
	    bound_by_maker(c, t, scopes, 0, 0, (ch->set & TD_TF_EXPIRES) != 0) != TD_OK)
		return c->err.code;
	/* a minted token is registered with its maker before its write: a
	 * write the start would refuse must not come first (the maker's set
	 * would grow by refused calls), so it is taken here, alone */
	if (t->minted_by[0] != '\0' && c->start_pending && td_call_start_now(c) != TD_OK)
		return c->err.code;
	/* the id first where the token's kind (SoftwareOne's "idt:" form holds
	 * 8 digits) or its maker's index needs it before the one write; else
	 * the store takes it with the write (in its one script where it can) */
	if ((t->minted_by[0] != '\0' || ch->shape == TD_SHAPE_API_TOKEN) &&
	    (rc = td_fail_store(c, td_store_token_next_id(c->ctx->store, &t->id), NOT_FOUND)) != TD_OK)
		return rc;
	if (ch->shape == TD_SHAPE_API_TOKEN && t->id <= TD_IDT_ID_MAX)
		t->signed_kind = TD_KIND_IDT;
	if (td_token_regenerate(t, c->ctx->keyring) != 0)
		return td_fail(c, TD_ERR_INTERNAL, NULL, "no signing key or no randomness");
	t->created_at_ms = t->updated_at_ms = td_now_ms();
	memcpy(t->created_by, c->who.actor, sizeof(t->created_by));
	memcpy(t->updated_by, c->who.actor, sizeof(t->updated_by));
	if (register_minted(c, t) != TD_OK)
		return c->err.code;
	/* the call's start (its limiters, the space), the checks, the record,
	 * its index and the activity entry: one script, one round trip */
	snprintf(action, sizeof(action), "%s.create", c->resource);
	td_call_start_along(c, checks, &st);
	rc = td_store_token_create(c->ctx->store, t, c->who.actor, action, &bounds, &st);
	if (td_call_started_along(c, rc, &st) != TD_OK)
		return c->err.code;
	if (rc == TD_STORE_QUOTA)
		return td_fail(c, TD_ERR_QUOTA, "base",
			       "this space holds the most tokens it may (limits.tokens)");
	if (fail_write(c, rc) != TD_OK)
		return c->err.code;
	return view_of(c, t, st.space->min_cache, out);
}

void
td_token_copy_forget(struct td_ctx *ctx, int64_t space_id, int64_t id)
{
	if (ctx->token_cache != NULL && id > 0)
		td_record_cache_drop(ctx->token_cache, space_id, id);
	else if (ctx->token_cache != NULL)
		td_record_cache_drop_space(ctx->token_cache, space_id);
}

/* Whether t fits the space's bound on a record's bytes (the space read by
 * the call's start); else the call fails, as the change's script says it. */
static int
fits(struct td_call *c, const struct td_token *t)
{
	const struct td_space *sp = &c->ctx->scratch_space;
	size_t max = (size_t)(sp->id == t->space_id && sp->record_bytes_max > 0
			      ? sp->record_bytes_max : c->ctx->cfg->record_bytes_max);

	if (td_store_token_bytes(t) <= max)
		return TD_OK;
	return td_fail_store(c, TD_STORE_TOO_LARGE, NULL);
}

/* After a stale copy, the next changes of that token here that read it
 * first: another writer is at it, and a copy would go stale again (each
 * stale copy costs the change a third round trip). */
#define COPY_REST 8

/* What the worker keeps of token t after its write (store result rc):
 * its copy as written; after a stale copy (stale), a rest of COPY_REST
 * changes without one (a copy marked have = 0, counting down in its
 * revision); after any other failure, nothing. */
static void
keep_copy(struct td_call *c, const struct td_token *t, int stale, int rc)
{
	struct td_record_cache *cache = c->ctx->token_cache;
	struct td_token_copy *w = c->ctx->token_written;
	const struct td_token_copy *held = NULL;
	const void *rec;
	int64_t rest = 0;

	if (td_record_cache_get(cache, t->space_id, t->id, &rec) && rec != NULL &&
	    !(held = rec)->have)
		rest = held->t.revision;
	if (stale) {
		rest = COPY_REST;
	} else if (rc == TD_STORE_OK && w->have && rest == 0) {
		td_record_cache_put(cache, t->space_id, t->id, w);
		rest = -1;
	} else if (rc == TD_STORE_OK && rest > 0) {
		rest--;
	} else {
		td_record_cache_drop(cache, t->space_id, t->id);
		rest = -1;
	}
	OPENSSL_cleanse(w, sizeof(*w));		/* its regeneration secrets */
	if (rest < 0)
		return;
	w->have = 0;
	w->t.revision = rest;
	td_record_cache_put(cache, t->space_id, t->id, w);
}

/* Writes back a changed token, stamped, and records verb. The call's start
 * (when still owed), the space's bound on the record (check_size: a change
 * of its fields; a status change, a regenerate of a token already too
 * large still works), the compare-and-set and the activity entry: one
 * script, one round trip. */
static int
save(struct td_call *c, struct td_token *t, const char *verb, int check_size,
     struct td_token_view *out)
{
	struct td_record_cache *cache = c->ctx->token_cache;
	struct td_rate_check checks[TD_RATE_CHECKS_MAX];
	struct td_token_copy *written = cache != NULL ? c->ctx->token_written : NULL;
	struct td_store_start st;
	char action[48];
	int rc, copy = c->on_copy;
	int64_t last_used_ms, remaining_uses;

	c->on_copy = 0;		/* judged from here on by the start and the write */
	t->updated_at_ms = td_now_ms();
	memcpy(t->updated_by, c->who.actor, sizeof(t->updated_by));
	/* a change that makes the token its caller's registers it with its
	 * maker before the write: a write that the start, the space's bound
	 * (judged here: the start read the space) and a stale copy (not used
	 * then) must be able to refuse first; a token already registered is
	 * not again (its maker may be gone: no set made again for it) */
	if (c->mints && ((c->start_pending && td_call_start_now(c) != TD_OK) ||
			 (check_size && fits(c, t) != TD_OK) || register_minted(c, t) != TD_OK))
		return c->err.code;
	snprintf(action, sizeof(action), "%s.%s", c->resource, verb);
	td_call_start_along(c, checks, &st);
	rc = td_store_token_change(c->ctx->store, t, c->who.actor, action,
				   check_size ? c->ctx->cfg->record_bytes_max : 0, &st,
				   copy ? c->copy_digest : NULL, written);
	last_used_ms = written != NULL && written->have ? written->t.last_used_ms : t->last_used_ms;
	remaining_uses = written != NULL && written->have ? written->t.remaining_uses
			 : t->remaining_uses;
	if (cache != NULL)
		keep_copy(c, t, copy && rc == TD_STORE_CONFLICT, rc);
	/* the copy was stale: made again at once on Redis's record (no
	 * pause, no attempt counted: no other writer was met) */
	c->on_copy = copy && rc == TD_STORE_CONFLICT;
	if (td_call_started_along(c, rc, &st) != TD_OK || fail_write(c, rc) != TD_OK)
		return c->err.code;
	/* Redis's own fields as the write found them (a copy's may be older) */
	t->last_used_ms = last_used_ms;
	t->remaining_uses = remaining_uses;
	return view_of(c, t, st.space->min_cache, out);
}

static int
update_once(struct td_call *c, int64_t id, const struct td_token_change *ch,
	    struct td_token_view *out)
{
	struct td_token *t = &c->ctx->scratch_token;
	enum td_status was;
	unsigned old_scopes, scopes;
	int64_t old_expiry;
	int space_mc = 0, was_management;

	c->mints = 0;
	if (load_for_change(c, TD_OP_TOKEN_UPDATE, id, &space_mc) != TD_OK)
		return c->err.code;
	if (t->hardcoded != TD_HARDCODED_NONE)
		return td_fail(c, TD_ERR_BUILTIN, c->resource,
			       "is a built-in token and cannot be edited");
	was = t->status;
	was_management = td_rule_is_management(t);
	if (scopes_of(c, t, &old_scopes) != TD_OK)
		return c->err.code;
	old_expiry = t->expires_at;
	if (td_token_apply_change(t, ch, 0, &c->err) != 0 ||
	    ((ch->set & TD_TF_ROLE) && role_known(c, t) != TD_OK) || scopes_of(c, t, &scopes) != TD_OK)
		return c->err.code;
	if (td_rule_upholds_caller_token(&c->who, t)) {
		/* what decides whether the caller can go on calling */
		if (t->status != was)
			return td_fail(c, TD_ERR_SELF, "status", "a credential cannot disable itself "
				       "or the credential that made it");
		if (t->expires_at != old_expiry)
			return td_fail(c, TD_ERR_SELF, "expires_at", "a credential cannot change its own "
				       "expiry or that of the credential that made it");
		if (td_rule_is_management(t) != was_management)
			return td_fail(c, TD_ERR_SELF, "can_access_cma", "a credential cannot drop its "
				       "own management right or that of the credential that made it");
		/* a new role or modules would re-mint it under the caller: its
		 * own maker, or a cycle of makers, and no one could call again */
		if (scopes != old_scopes)
			return td_fail(c, TD_ERR_SELF, "role", "a credential cannot change its own "
				       "role or modules or those of the credential that made it");
		/* the next call would come from here and be refused */
		if (!td_cidr_allows(t->allowed_cidrs.r, t->allowed_cidrs.n,
				    c->has_client ? &c->client : NULL))
			return td_fail(c, TD_ERR_SELF, "allowed_cidrs", "a credential cannot bind "
				       "itself or the credential that made it away from the address "
				       "it calls from");
	}
	if (bound_by_maker(c, t, scopes, was_management, old_scopes,
			   (ch->set & TD_TF_EXPIRES) != 0) != TD_OK)
		return c->err.code;
	stamp_status(c, t, was, td_now_ms());
	return save(c, t, t->status == was ? "update"
			  : t->status == TD_STATUS_ACTIVE ? "enable" : "disable",
		    (ch->set & ~(unsigned)TD_TF_STATUS) != 0, out);
}

int
td_core_token_update(struct td_call *c, int64_t id, const struct td_token_change *ch,
		     struct td_token_view *out)
{
	int rc, attempt = 0;

	do
		rc = update_once(c, id, ch, out);
	while (judged_on_copy(c, id, rc) || (rc == TD_ERR_CONFLICT && td_cas_again(++attempt)));
	return rc;
}

static int
regenerate_once(struct td_call *c, int64_t id, int64_t grace_seconds, struct td_token_view *out)
{
	struct td_token *t = &c->ctx->scratch_token;
	int space_mc = 0;

	if (grace_seconds < 0 || grace_seconds > TD_GRACE_MAX)
		return td_fail(c, TD_ERR_INVALID, "grace_seconds", "must be between 0 and 604800");
	if (load_for_change(c, TD_OP_TOKEN_REGENERATE, id, &space_mc) != TD_OK)
		return c->err.code;
	/* its own value a credential may roll; a maker's it may not take over */
	if (td_rule_upholds_caller_token(&c->who, t) && !td_rule_is_self_token(&c->who, t))
		return td_fail(c, TD_ERR_SELF, c->resource, "a credential cannot regenerate the "
			       "credential that made it");
	/* the replaced value works on for the window (an open window ends:
	 * only the value replaced now is kept) */
	td_token_keep_previous(t, grace_seconds > 0 ? td_now_ms() + grace_seconds * 1000 : 0);
	if (td_token_regenerate(t, c->ctx->keyring) != 0)
		return td_fail(c, TD_ERR_INTERNAL, NULL, "no signing key or no randomness");
	return save(c, t, grace_seconds > 0 ? "regenerate_with_grace" : "regenerate", 0, out);
}

int
td_core_token_regenerate(struct td_call *c, int64_t id, int64_t grace_seconds,
			 struct td_token_view *out)
{
	int rc, attempt = 0;

	do
		rc = regenerate_once(c, id, grace_seconds, out);
	while (judged_on_copy(c, id, rc) || (rc == TD_ERR_CONFLICT && td_cas_again(++attempt)));
	return rc;
}

static int
set_status_once(struct td_call *c, int64_t id, enum td_status to,
	    struct td_token_view *out)
{
	struct td_token *t = &c->ctx->scratch_token;
	enum td_status was;
	int space_mc = 0;

	if (load_for_change(c, TD_OP_TOKEN_STATUS, id, &space_mc) != TD_OK)
		return c->err.code;
	if (t->hardcoded != TD_HARDCODED_NONE)
		return td_fail(c, TD_ERR_BUILTIN, c->resource,
			       "is a built-in token and cannot be edited");
	was = t->status;
	if (to == TD_STATUS_ACTIVE && was != TD_STATUS_DISABLED)
		return td_fail(c, TD_ERR_TRANSITION, "status", "Only a Disabled token can be enabled.");
	if (to == TD_STATUS_DISABLED && was != TD_STATUS_ACTIVE)
		return td_fail(c, TD_ERR_TRANSITION, "status", "Only an Active token can be disabled.");
	if (to != TD_STATUS_ACTIVE && to != TD_STATUS_DISABLED)
		return td_fail(c, TD_ERR_TRANSITION, "status", "is not included in the list");
	if (to == TD_STATUS_DISABLED && td_rule_upholds_caller_token(&c->who, t))
		return td_fail(c, TD_ERR_SELF, "status", "a credential cannot disable itself "
			       "or the credential that made it");
	t->status = to;
	stamp_status(c, t, was, td_now_ms());
	return save(c, t, to == TD_STATUS_ACTIVE ? "enable" : "disable", 0, out);
}

int
td_core_token_set_status(struct td_call *c, int64_t id, enum td_status to,
			 struct td_token_view *out)
{
	int rc, attempt = 0;

	do
		rc = set_status_once(c, id, to, out);
	while (judged_on_copy(c, id, rc) || (rc == TD_ERR_CONFLICT && td_cas_again(++attempt)));
	return rc;
}

static int
delete_once(struct td_call *c, int64_t id, int soft, struct td_token_view *out)
{
	struct td_token *t = &c->ctx->scratch_token;
	char ref[TD_CRED_REF_MAX];
	int space_mc = 0, rc;

	if (load_for_change(c, TD_OP_TOKEN_DELETE, id, &space_mc) != TD_OK)
		return c->err.code;
	if (td_rule_upholds_caller_token(&c->who, t))
		return td_fail(c, TD_ERR_SELF, c->resource, "a credential cannot delete itself "
			       "or the credential that made it");
	if (soft) {
		/* kept for audit as Deleted: no view shows it, nothing accepts
		 * it, and it no longer counts against the space's tokens */
		t->status = TD_STATUS_DELETED;
		t->updated_at_ms = td_now_ms();
		memcpy(t->updated_by, c->who.actor, sizeof(t->updated_by));
		rc = td_store_token_soft_delete(c->ctx->store, t);
	} else {
		rc = td_store_token_delete(c->ctx->store, c->space_id, id, t);
	}
	td_token_copy_forget(c->ctx, c->space_id, id);
	if (td_fail_store(c, rc, NOT_FOUND) != TD_OK)
		return c->err.code;
	td_audit(c, c->space_id, c->resource, "delete", id);
	td_cred_ref_token(c->space_id, id, ref);
	if (td_cascade_revoke(c->ctx, ref, c->who.actor) != TD_OK)
		td_log_error("token %" PRId64 ": revoking what it minted did not finish", id);
	return view_of(c, t, space_mc, out);
}

int
td_core_token_delete(struct td_call *c, int64_t id, int soft, struct td_token_view *out)
{
	int rc, attempt = 0;

	do
		rc = delete_once(c, id, soft, out);
	while (rc == TD_ERR_CONFLICT && td_cas_again(++attempt));
	return rc;
}
